// Test machines for @zonedev/memory-hotplug: the small x86_64-like and
// powerpc-like architectures this package's tests use, and a boot sequence
// that composes kernel + mmzone + sparse-vmemmap + memory-hotplug the way a
// platform profile does (memblock -> sparse_init -> free_area_init ->
// memblock_free_all -> memory_dev_init/node_dev_init).
import { IORESOURCE_BUSY, IORESOURCE_SYSTEM_RAM, Kernel, Resource, SZ_16M, SZ_2M, orBits } from '@zonedev/kernel';
import type { MmArchConfig } from '@zonedev/mmzone';
import { GFP_KERNEL, MmCore, __GFP_THISNODE, gfpOr } from '@zonedev/mmzone';
import { FOLL_WRITE, MAP_ANONYMOUS, MAP_PRIVATE, MmStruct, MmSystem, PROT_READ, PROT_WRITE, UserFaultSignal, pinUserPages, unpinUserPages, userWrite } from '@zonedev/mm';
import type { PagingArch, PresentPte } from '@zonedev/mm';
import { BootMemblock, SparseMemory } from '@zonedev/sparse-vmemmap';
import type { SparseArch } from '@zonedev/sparse-vmemmap';
import { MemoryHotplug } from '@zonedev/memory-hotplug';
import type { HotplugArch, MemoryHotplugOptions } from '@zonedev/memory-hotplug';

export const MiB = 2 ** 20;
export const GiB = 2 ** 30;

export const MM_X86_64: MmArchConfig = {
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
};

export const SPARSE_X86_64: SparseArch = {
  pageShift: 12,
  sectionSizeBits: 27,
  maxPhysmemBits: 46,
  vmemmapStart: 0xffffea0000000000n,
  pmdSize: SZ_2M,
  vmemmapPageSize: SZ_2M,
  vmemmapPopulate: 'x86_64',
  maxDmaAddress: SZ_16M,
};

/** x86_64: 128 MiB blocks, memmap_on_memory supported, add_pages() moves max_pfn. */
export const HOTPLUG_X86_64: HotplugArch = {
  name: 'x86_64',
  memoryBlockSizeBytes: () => 128 * MiB,
  mhpMemmapOnMemory: true,
  addPagesUpdatesMaxPfn: true,
};

export const MM_PPC64: MmArchConfig = {
  name: 'powerpc64',
  pageShift: 16,
  nodesShift: 2,
  maxOrder: 9,
  pageblockOrder: 8,
  sectionSizeBits: 24,
  maxPhysmemBits: 46,
  zoneDma: false,
  zoneDma32: false,
  zoneDevice: true,
};

export const SPARSE_PPC64: SparseArch = {
  pageShift: 16,
  sectionSizeBits: 24,
  maxPhysmemBits: 46,
  vmemmapStart: 0xc00c000000000000n,
  pmdSize: SZ_16M,
  vmemmapPageSize: SZ_16M,
  vmemmapPopulate: 'powerpc',
  maxDmaAddress: 0,
};

/** powerpc (powernv hash): 256 MiB blocks, no memmap_on_memory in v5.13, max_pfn not moved. */
export const HOTPLUG_PPC64: HotplugArch = {
  name: 'powerpc64',
  memoryBlockSizeBytes: () => 256 * MiB,
  mhpMemmapOnMemory: false,
  addPagesUpdatesMaxPfn: false,
};

export interface TestMachine {
  readonly kernel: Kernel;
  readonly mm: MmCore;
  readonly sparse: SparseMemory;
  readonly hp: MemoryHotplug;
}

export interface MachineOptions {
  readonly platform?: 'x86_64' | 'powerpc';
  /** Boot memory in bytes. Default: x86 1 GiB on node 0 (below 4 GiB, with the low 1 MiB hole); powerpc 1 GiB. */
  readonly memory?: readonly { start: number; size: number; nid: number }[];
  /** Online nodes at boot (default: the nodes of the memory). */
  readonly nodes?: readonly number[];
  readonly hotplug?: Partial<Omit<MemoryHotplugOptions, 'kernel' | 'mm' | 'sparse'>>;
  readonly mmArch?: Partial<MmArchConfig>;
  readonly seed?: number;
  /** MAX_PHYSMEM_BITS (default 46; 52 is x86_64 with 5-level paging). */
  readonly physBits?: number;
  /** `memory_block_size_bytes()` (default: 128 MiB on x86_64, 256 MiB on powerpc). */
  readonly blockSize?: number;
}


/** Boots a machine and its memory hotplug. */
export function bootMachine(o: MachineOptions = {}): TestMachine {
  const ppc = o.platform === 'powerpc';
  const bits = o.physBits ?? 46;
  const mmArch = { ...(ppc ? MM_PPC64 : MM_X86_64), maxPhysmemBits: bits, ...o.mmArch };
  const sparseArch = { ...(ppc ? SPARSE_PPC64 : SPARSE_X86_64), maxPhysmemBits: bits, ...(!ppc && bits > 46 ? { vmemmapStart: 0xffd4000000000000n } : {}) };
  const memory = o.memory ?? (ppc ? [{ start: 0, size: GiB, nid: 0 }] : [{ start: 0x1000, size: 0x9e000, nid: 0 }, { start: MiB, size: GiB - MiB, nid: 0 }]);
  const kernel = new Kernel({
    seed: o.seed ?? 1,
    resources: { physAddrBits: bits, maxPhysmemBits: bits, paSectionShift: mmArch.sectionSizeBits, pageShift: mmArch.pageShift },
  });
  const nodes = o.nodes ?? [...new Set(memory.map((m) => m.nid))];
  const mm = new MmCore({ kernel, config: mmArch, nodes });
  const memblock = new BootMemblock(mmArch.pageShift);
  for (const m of memory) memblock.addMemory(m.start, m.size, m.nid);
  if (!ppc) memblock.reserve(16 * MiB, 16 * MiB); // the kernel image
  const sparse = new SparseMemory({ kernel, arch: sparseArch, allocator: mm, memmap: mm.memmap });
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
  const hpArch = ppc ? HOTPLUG_PPC64 : HOTPLUG_X86_64;
  const blockSize = o.blockSize;
  const arch = blockSize === undefined ? hpArch : { ...hpArch, memoryBlockSizeBytes: () => blockSize };
  const hp = new MemoryHotplug({ kernel, mm, sparse, arch, ...o.hotplug });
  hp.memoryHotplugInit();
  return { kernel, mm, sparse, hp };
}

/** `/sys/devices/system/memory/...` */
export const MEM = '/sys/devices/system/memory';

/** A page of a process's anonymous memory: where it is now follows its PTE. */
export interface UserPage {
  readonly mm: MmStruct;
  /** Its virtual address. */
  readonly va: number;
  /** The pfn its PTE maps now (migration changes it). */
  pfn(): number;
}

interface UserSpace {
  readonly sys: MmSystem;
  readonly procs: Map<number, { mm: MmStruct; base: number; next: number }>;
}
const USER = new WeakMap<TestMachine, UserSpace>();
/** The area each test process maps once and faults in page by page. */
const USER_AREA = 4 * GiB;

/**
 * A process's anonymous page on `nid` only (a process started as `numactl
 * --membind=nid`), faulted in by a store of `data` (default one byte): a
 * GFP_HIGHUSER_MOVABLE page on the LRU, in the rmap. The machine's mm is
 * made on first use and handed to memory hot-remove (`userMm`), whose
 * migration then moves the page and rewrites its PTE. Undefined when the
 * fault finds no memory.
 */
export function userPage(m: TestMachine, nid: number, data: Uint8Array = new Uint8Array([0x5a])): UserPage | undefined {
  let u = USER.get(m);
  if (u === undefined) {
    const ps = m.mm.config.pageSize;
    const arch: PagingArch = ps === 65536
      ? { name: 'powerpc radix 64K', pageShift: 16, levelBits: [5, 9, 9, 13] }
      : { name: 'x86_64 4-level', pageShift: 12, levelBits: [9, 9, 9, 9] };
    u = { sys: new MmSystem({ core: m.mm, arch }), procs: new Map() };
    m.hp.userMm = u.sys;
    USER.set(m, u);
  }
  let p = u.procs.get(nid);
  if (p === undefined) {
    const mm = new MmStruct(100 + u.procs.size, { system: u.sys, membind: nid });
    const base = mm.mmap({ length: USER_AREA, prot: PROT_READ + PROT_WRITE, flags: MAP_PRIVATE + MAP_ANONYMOUS });
    p = { mm, base, next: 0 };
    u.procs.set(nid, p);
  }
  const ps = m.mm.config.pageSize;
  const va = p.base + p.next * ps;
  const mm = p.mm;
  try {
    userWrite(mm, va, data);
  } catch (e) {
    if (e instanceof UserFaultSignal) return undefined; // VM_FAULT_OOM: no page on the node
    throw e;
  }
  p.next++;
  return { mm, va, pfn: () => (mm.pgd!.get(va) as PresentPte).pfn };
}

/** `pin_user_pages(FOLL_WRITE)` of the page: a DMA pin, which migration cannot move. */
export function pinPage(page: UserPage): void {
  pinUserPages(page.mm, page.va, 1, FOLL_WRITE);
}

/** `unpin_user_page()` of a pin {@link pinPage} took. */
export function unpinPage(page: UserPage): void {
  unpinUserPages(page.mm.system!, [page.pfn()]);
}

/** Allocates a kernel (unmovable) page on `nid` only. */
export function allocKernelPage(m: TestMachine, nid: number): number | undefined {
  return m.mm.allocPagesNode(nid, gfpOr(GFP_KERNEL, __GFP_THISNODE), 0);
}

/**
 * Everything a failed call must leave as it was: resources, sections and
 * their flags, memmap sections, vmemmap blocks, blocks and their states,
 * sysfs, zone and node spans and counts, free pages, node states, max_pfn.
 */
export function snapshot(m: TestMachine): unknown {
  const { kernel, mm, sparse, hp } = m;
  const sections = [...sparse.memSections()].map((s) => [s.sectionNr, s.sectionMemMap, s.nid]);
  const zones = mm.onlinePgdats().flatMap((p) => [
    [p.nodeId, p.nodeStartPfn, p.nodeSpannedPages, p.nodePresentPages],
    ...p.nodeZones.map((z) => [z.name, z.zoneStartPfn, z.spannedPages, z.presentPages, z.managedPages, z.nrIsolatePageblock]),
  ]);
  const blocks = hp.memory.allBlocks().map((b) => [b.name, b.state, b.offline, b.nid, b.nrVmemmapPages]);
  const sysfs: string[] = [];
  const walk = (dir: string): void => {
    for (const n of kernel.sysfs.list(dir)) {
      const p = `${dir}/${n}`;
      sysfs.push(p);
      if (kernel.sysfs.isDir(p) && !kernel.sysfs.isLink(p)) walk(p);
    }
  };
  walk('/sys/devices/system');
  return {
    iomem: kernel.iomem.procIomem(),
    sections,
    memmap: mm.memmap.sectionNumbers(),
    vmemmap: sparse.vmemmapBlocks().map((b) => [b.offset, b.size, b.pfn, b.source]),
    zones,
    blocks,
    sysfs,
    free: mm.nrFreePages(),
    totalram: mm.totalramPages,
    nodes: ['N_ONLINE', 'N_MEMORY', 'N_NORMAL_MEMORY'].map((s) => hp.nodes.nodesInState(s as 'N_ONLINE')),
    maxPfn: hp.maxPfn,
    linear: hp.linearMappings(),
  };
}
