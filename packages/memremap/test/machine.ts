// A real small machine for the integration tests and benchmarks: kernel +
// mmzone + sparse-vmemmap + memory-hotplug + memremap, booted the way a
// platform profile does (memblock -> sparse_init -> free_area_init ->
// memblock_free_all -> memory_dev_init), on x86_64-like test architectures
// of this package's own.
import { IORESOURCE_BUSY, IORESOURCE_SYSTEM_RAM, Kernel, Resource, SZ_16M, SZ_2M, orBits } from '@zonedev/kernel';
import type { HotplugArch } from '@zonedev/memory-hotplug';
import { MemoryHotplug } from '@zonedev/memory-hotplug';
import type { MmArchConfig } from '@zonedev/mmzone';
import { MmCore } from '@zonedev/mmzone';
import type { HostMemoryGuard, SparseArch } from '@zonedev/sparse-vmemmap';
import { BootMemblock, SparseMemory } from '@zonedev/sparse-vmemmap';
import type { MemremapConfig } from '../src/index.js';
import { Memremap } from '../src/index.js';

export const MiB = 2 ** 20;
export const GiB = 2 ** 30;
export const TiB = 2 ** 40;

/** The mm side of x86_64 (4-level paging: 46 physical bits, unless widened). */
export function mmArch(maxPhysmemBits = 46, over: Partial<MmArchConfig> = {}): MmArchConfig {
  return {
    name: 'x86_64',
    pageShift: 12,
    nodesShift: 2,
    maxOrder: 11,
    pageblockOrder: 9,
    sectionSizeBits: 27,
    maxPhysmemBits,
    zoneDma: true,
    zoneDma32: true,
    zoneDevice: true,
    ...over,
  };
}

/** The sparse side of x86_64 (5-level paging moves VMEMMAP_START). */
export function sparseArch(maxPhysmemBits = 46): SparseArch {
  return {
    pageShift: 12,
    sectionSizeBits: 27,
    maxPhysmemBits,
    vmemmapStart: maxPhysmemBits > 46 ? 0xffd4000000000000n : 0xffffea0000000000n,
    pmdSize: SZ_2M,
    vmemmapPageSize: SZ_2M,
    vmemmapPopulate: 'x86_64',
    maxDmaAddress: SZ_16M,
  };
}

/** x86_64 hotplug: 128 MiB blocks, add_pages() moves max_pfn. */
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
}

export interface MachineOptions {
  /** MAX_PHYSMEM_BITS (default 46; 52 for 5-level paging). */
  readonly physBits?: number;
  /** Boot RAM in bytes (default 1 GiB on node 0, with the low 1 MiB hole). */
  readonly memory?: readonly { start: number; size: number; nid: number }[];
  readonly mm?: Partial<MmArchConfig>;
  readonly config?: MemremapConfig;
  /** The guard on host memory of the sparse model (default: on the V8 heap). */
  readonly hostMemory?: HostMemoryGuard;
}


/** Boots a machine with memremap on top. */
export function bootMachine(o: MachineOptions = {}): Machine {
  const layers = bootLayers(o);
  const memremap = new Memremap({ ...layers, hotplug: layers.hp, ...(o.config !== undefined ? { config: o.config } : {}) });
  return { ...layers, memremap };
}

/** Boots the layers memremap sits on (kernel, mmzone, sparse-vmemmap, memory hotplug), without a memremap. */
export function bootLayers(o: MachineOptions = {}): Omit<Machine, 'memremap'> {
  const bits = o.physBits ?? 46;
  const arch = mmArch(bits, o.mm);
  const memory = o.memory ?? [
    { start: 0x1000, size: 0x9e000, nid: 0 },
    { start: MiB, size: GiB - MiB, nid: 0 },
  ];
  const kernel = new Kernel({ resources: { physAddrBits: bits, maxPhysmemBits: bits, paSectionShift: 27, pageShift: 12 } });
  const nodes = [...new Set([0, ...memory.map((m) => m.nid)])];
  const mm = new MmCore({ kernel, config: arch, nodes });
  const memblock = new BootMemblock(12);
  for (const m of memory) memblock.addMemory(m.start, m.size, m.nid);
  memblock.reserve(16 * MiB, 16 * MiB); // the kernel image
  const sparse = new SparseMemory({
    kernel,
    arch: sparseArch(bits),
    allocator: mm,
    memmap: mm.memmap,
    ...(o.hostMemory !== undefined ? { hostMemory: o.hostMemory } : {}),
  });
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
  return { kernel, mm, sparse, hp };
}

/**
 * Everything a failed call must leave as it was: resources, sections,
 * memmap sections, vmemmap blocks, zone and node spans and counts, free
 * pages, max_pfn, linear mappings, memremap's index, pagemaps and key.
 */
export function snapshot(m: Machine): unknown {
  const { kernel, mm, sparse, hp, memremap } = m;
  return {
    iomem: kernel.iomem.procIomem(),
    sections: [...sparse.memSections()].map((s) => [s.sectionNr, s.sectionMemMap, s.nid, s.usage?.subsectionMap.toString()]),
    memmap: mm.memmap.sectionNumbers(),
    vmemmap: sparse.vmemmapBlocks().map((b) => [b.offset, b.size, b.pfn, b.source]),
    zones: mm.onlinePgdats().flatMap((p) => [
      [p.nodeId, p.nodeStartPfn, p.nodeSpannedPages, p.nodePresentPages, p.nrZones],
      ...p.nodeZones.map((z) => [z.name, z.zoneStartPfn, z.spannedPages, z.presentPages, z.managedPages]),
    ]),
    free: mm.nrFreePages(),
    maxPfn: [hp.maxPfn, hp.maxLowPfn],
    linear: hp.linearMappings(),
    index: memremap.pgmapArrayEntries().map((e) => [e.firstPfn, e.lastPfn]),
    pagemaps: memremap.pagemaps().length,
    key: memremap.devmapManagedKey,
  };
}
