// A small real machine for libnvdimm's tests: kernel + mmzone +
// sparse-vmemmap + memory-hotplug + memremap booted the way a platform
// profile does (memblock -> sparse_init -> free_area_init ->
// memblock_free_all -> memory_dev_init), on an x86_64-like test
// architecture of this package's own, with libnvdimm on top.
import { IORESOURCE_BUSY, IORESOURCE_SYSTEM_RAM, Kernel, Resource, SZ_16M, SZ_2M, orBits } from '@zonedev/kernel';
import type { HotplugArch } from '@zonedev/memory-hotplug';
import { MemoryHotplug } from '@zonedev/memory-hotplug';
import type { MmArchConfig, PhysBacking } from '@zonedev/mmzone';
import { MmCore } from '@zonedev/mmzone';
import type { SparseArch } from '@zonedev/sparse-vmemmap';
import { BootMemblock, SparseMemory } from '@zonedev/sparse-vmemmap';
import { Memremap } from '@zonedev/memremap';
import type { E820PmemRange } from '@zonedev/libnvdimm';
import { Libnvdimm } from '@zonedev/libnvdimm';

export const MiB = 2 ** 20;
export const GiB = 2 ** 30;
export const TiB = 2 ** 40;

export function mmArch(over: Partial<MmArchConfig> = {}): MmArchConfig {
  return {
    name: 'x86_64',
    pageShift: 12,
    nodesShift: 2,
    maxOrder: 11,
    pageblockOrder: 9,
    sectionSizeBits: 27,
    maxPhysmemBits: 46,
    zoneDma: true,
    zoneDma32: true,
    zoneDevice: true,
    ...over,
  };
}

export const SPARSE_ARCH: SparseArch = {
  pageShift: 12,
  sectionSizeBits: 27,
  maxPhysmemBits: 46,
  vmemmapStart: 0xffffea0000000000n,
  pmdSize: SZ_2M,
  vmemmapPageSize: SZ_2M,
  vmemmapPopulate: 'x86_64',
  maxDmaAddress: SZ_16M,
};

export const HOTPLUG_ARCH: HotplugArch = {
  name: 'x86_64',
  memoryBlockSizeBytes: () => 128 * MiB,
  mhpMemmapOnMemory: true,
  addPagesUpdatesMaxPfn: true,
};

export interface Machine {
  readonly kernel: Kernel;
  readonly mm: MmCore;
  readonly sparse: SparseMemory;
  readonly hp: MemoryHotplug;
  readonly memremap: Memremap;
  readonly nd: Libnvdimm;
}

export interface MachineOptions {
  /** `memmap=nn!ss` style legacy pmem ranges (default: 1 GiB at 4 GiB). */
  readonly pmem?: readonly E820PmemRange[];
  /** Persistent media for the pmem ranges, by start address (registered in PhysMem before boot). */
  readonly media?: ReadonlyMap<number, PhysBacking>;
  readonly mm?: Partial<MmArchConfig>;
  /** Skip register_e820_pmem() (the test calls it). */
  readonly noE820?: boolean;
  /** Bytes of RAM at 4 GiB (ZONE_NORMAL) besides the first GiB (default none): the memmap of a large hot-add comes from it. */
  readonly highRam?: number;
}

/** Boots a 1 GiB x86_64 machine with legacy pmem and libnvdimm. */
export function bootMachine(o: MachineOptions = {}): Machine {
  const arch = mmArch(o.mm);
  const memory = [
    { start: 0x1000, size: 0x9e000, nid: 0 },
    { start: MiB, size: GiB - MiB, nid: 0 },
    ...(o.highRam !== undefined ? [{ start: 4 * GiB, size: o.highRam, nid: 0 }] : []),
  ];
  const kernel = new Kernel({ resources: { physAddrBits: 46, maxPhysmemBits: 46, paSectionShift: 27, pageShift: 12 } });
  const mm = new MmCore({ kernel, config: arch, nodes: [0] });
  const memblock = new BootMemblock(12);
  for (const m of memory) memblock.addMemory(m.start, m.size, m.nid);
  memblock.reserve(16 * MiB, 16 * MiB);
  const sparse = new SparseMemory({ kernel, arch: SPARSE_ARCH, allocator: mm, memmap: mm.memmap });
  sparse.sparseInit(memblock);
  const ranges = [...memblock.memPfnRanges()];
  for (const r of ranges) sparse.subsectionMapInit(r.startPfn, r.endPfn - r.startPfn);
  mm.bootMemory(ranges, memblock.reservedPfnRanges());
  for (const m of memory) {
    kernel.iomem.requestResource(
      kernel.iomem.root,
      new Resource({ name: 'System RAM', start: m.start, end: m.start + m.size - 1, flags: orBits(IORESOURCE_SYSTEM_RAM, IORESOURCE_BUSY) }),
    );
  }
  const hp = new MemoryHotplug({ kernel, mm, sparse, arch: HOTPLUG_ARCH });
  hp.memoryHotplugInit();
  const memremap = new Memremap({ kernel, mm, hotplug: hp });
  const pmem = o.pmem ?? [{ start: 4 * GiB, size: GiB }];
  for (const [start, backing] of o.media ?? []) {
    const r = pmem.find((p) => p.start === start);
    mm.physmem.registerBacking(start, r?.size ?? backing.size, backing, 'nvdimm');
  }
  const nd = new Libnvdimm({ kernel, mm, memremap });
  nd.e820ReservePmem(pmem);
  if (o.noE820 !== true) nd.registerE820Pmem();
  return { kernel, mm, sparse, hp, memremap, nd };
}

export const ND = '/sys/bus/nd/devices';

/** `echo value > path`, returning the errno name or undefined. */
export function tryWrite(m: Machine, path: string, value: string): string | undefined {
  try {
    m.kernel.sysfs.write(path, value);
    return undefined;
  } catch (e) {
    return (e as { errno?: string }).errno ?? String(e);
  }
}

/** `cat path`, or the errno name. */
export function tryRead(m: Machine, path: string): string {
  try {
    return m.kernel.sysfs.read(path);
  } catch (e) {
    return (e as { errno?: string }).errno ?? String(e);
  }
}

/** Every readable attribute below /sys/bus/nd/devices, for before/after comparisons. */
export function ndSnapshot(m: Machine): Record<string, string> {
  const out: Record<string, string> = {};
  const fs = m.kernel.sysfs;
  for (const d of fs.list(ND)) {
    for (const f of fs.list(`${ND}/${d}`)) {
      const p = `${ND}/${d}/${f}`;
      if (fs.isFile(p)) out[p] = tryRead(m, p);
    }
  }
  out['/proc/iomem'] = m.kernel.iomem.procIomem();
  return out;
}

/** ndctl's fsdax reconfiguration of namespaceR.0 through the seed (reference Part I section 3 step 6). */
export function createFsdax(m: Machine, region: number, map: 'pmem' | 'ram', uuid: string, align?: number): string {
  const seed = m.kernel.sysfs.read(`${ND}/region${region}/pfn_seed`).trim();
  const ns = `namespace${region}.0`;
  if (m.kernel.sysfs.exists(`${ND}/${ns}/driver`)) m.kernel.sysfs.write(`${ND}/${ns}/driver/unbind`, ns);
  m.kernel.sysfs.write(`${ND}/${seed}/uuid`, `${uuid}\n`);
  m.kernel.sysfs.write(`${ND}/${seed}/mode`, `${map}\n`);
  if (align !== undefined) m.kernel.sysfs.write(`${ND}/${seed}/align`, `${align}\n`);
  m.kernel.sysfs.write(`${ND}/${seed}/namespace`, `${ns}\n`);
  m.kernel.sysfs.write('/sys/bus/nd/drivers/nd_pmem/bind', `${seed}\n`);
  return seed;
}
