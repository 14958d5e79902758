// A real small machine for hmm's tests: kernel + mmzone + sparse-vmemmap +
// memory-hotplug + memremap, with the test_hmm module and processes from mm, booted the way a
// platform profile does (memblock -> sparse_init -> free_area_init ->
// memblock_free_all -> memory_dev_init), on x86_64-like test architectures
// of this package's own.
import { IORESOURCE_BUSY, IORESOURCE_SYSTEM_RAM, Kernel, Resource, SZ_16M, SZ_2M, orBits } from '@zonedev/kernel';
import type { HotplugArch } from '@zonedev/memory-hotplug';
import { MemoryHotplug } from '@zonedev/memory-hotplug';
import type { MmArchConfig } from '@zonedev/mmzone';
import { MmCore } from '@zonedev/mmzone';
import type { SparseArch } from '@zonedev/sparse-vmemmap';
import { BootMemblock, SparseMemory } from '@zonedev/sparse-vmemmap';
import type { MemremapConfig } from '@zonedev/memremap';
import { Memremap } from '@zonedev/memremap';
import type { PagingArch } from '@zonedev/mm';
import { MmStruct, MmSystem } from '@zonedev/mm';
import { TestHmm } from '../src/index.js';

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
  readonly sys: MmSystem;
  readonly testHmm: TestHmm;
}

/** x86_64 with 4-level paging. */
export const X86_64_4LEVEL: PagingArch = { name: 'x86_64 4-level', pageShift: 12, levelBits: [9, 9, 9, 9] };

/** powerpc64 with the radix MMU and 64K pages (pgd 13 | pud 9 | pmd 9 | pte 5 | offset 16). */
export const POWERPC_RADIX_64K: PagingArch = { name: 'powerpc radix 64K', pageShift: 16, levelBits: [5, 9, 9, 13] };

/** The mm side of powerpc64 with 64K pages (SECTION_SIZE_BITS 24, MAX_ORDER 9, no ZONE_DMA32). */
export const MM_PPC64_64K: MmArchConfig = {
  name: 'powerpc64',
  pageShift: 16,
  nodesShift: 8,
  maxOrder: 9,
  pageblockOrder: 8,
  sectionSizeBits: 24,
  maxPhysmemBits: 46,
  zoneDma: true,
  zoneDma32: false,
  zoneDevice: true,
};

/** The sparse side of powerpc64 radix: 2 MiB vmemmap pages. */
export const SPARSE_PPC64_64K: SparseArch = {
  pageShift: 16,
  sectionSizeBits: 24,
  maxPhysmemBits: 46,
  vmemmapStart: 0xc00c000000000000n,
  pmdSize: SZ_2M,
  vmemmapPageSize: SZ_2M,
  vmemmapPopulate: 'powerpc',
  maxDmaAddress: 2 ** 31,
};

/** powerpc64 pseries hotplug: 256 MiB LMBs, no memmap_on_memory in v5.13, max_pfn not moved. */
export const HOTPLUG_PPC64: HotplugArch = {
  name: 'powerpc64',
  memoryBlockSizeBytes: () => 256 * MiB,
  mhpMemmapOnMemory: false,
  addPagesUpdatesMaxPfn: false,
};

export interface MachineOptions {
  /** The architecture: x86_64 with 4K pages (default) or powerpc64 radix with 64K pages. */
  readonly arch?: 'x86_64' | 'powerpc64-64k';
  /** MAX_PHYSMEM_BITS (default 46; 52 for 5-level paging). */
  readonly physBits?: number;
  /** Boot RAM in bytes (default 1 GiB on node 0, with the low 1 MiB hole). */
  readonly memory?: readonly { start: number; size: number; nid: number }[];
  readonly mm?: Partial<MmArchConfig>;
  readonly config?: MemremapConfig;
}


/** Boots a machine with memremap on top. */
export function bootMachine(o: MachineOptions = {}): Machine {
  const bits = o.physBits ?? 46;
  const ppc = o.arch === 'powerpc64-64k';
  const arch = ppc ? { ...MM_PPC64_64K, ...o.mm } : mmArch(bits, o.mm);
  const pageShift = arch.pageShift;
  const memory =
    o.memory ??
    (ppc
      ? [{ start: 0, size: GiB, nid: 0 }]
      : [
          { start: 0x1000, size: 0x9e000, nid: 0 },
          { start: MiB, size: GiB - MiB, nid: 0 },
        ]);
  const kernel = new Kernel({ resources: { physAddrBits: bits, maxPhysmemBits: bits, paSectionShift: arch.sectionSizeBits, pageShift } });
  const nodes = [...new Set([0, ...memory.map((m) => m.nid)])];
  const mm = new MmCore({ kernel, config: arch, nodes });
  const memblock = new BootMemblock(pageShift);
  for (const m of memory) memblock.addMemory(m.start, m.size, m.nid);
  memblock.reserve(16 * MiB, 16 * MiB); // the kernel image
  const sparse = new SparseMemory({ kernel, arch: ppc ? SPARSE_PPC64_64K : sparseArch(bits), allocator: mm, memmap: mm.memmap });
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
  const hp = new MemoryHotplug({ kernel, mm, sparse, arch: ppc ? HOTPLUG_PPC64 : HOTPLUG_ARCH });
  hp.memoryHotplugInit();
  const memremap = new Memremap({ kernel, mm, hotplug: hp, ...(o.config !== undefined ? { config: o.config } : {}) });
  const sys = new MmSystem({ core: mm, arch: ppc ? POWERPC_RADIX_64K : X86_64_4LEVEL, devPagemaps: memremap });
  const testHmm = new TestHmm({ kernel, mm: sys, memremap });
  return { kernel, mm, sparse, hp, memremap, sys, testHmm };
}

/** Boots a machine and loads test_hmm (modprobe test_hmm). */
export function bootWithTestHmm(o: MachineOptions = {}): Machine {
  const m = bootMachine(o);
  m.testHmm.load();
  return m;
}

/** Everything a failed call must leave as it was, for the test_hmm side of a machine. */
export function snapshot(m: Machine): unknown {
  return {
    iomem: m.kernel.iomem.procIomem(),
    free: m.mm.nrFreePages(),
    pagemaps: m.memremap.pagemaps().length,
    devices: m.testHmm.devices.map((d) => [d.chunks.length, d.capacity, d.nrFreePages, d.calloc, d.cfree]),
    files: m.testHmm.files().length,
  };
}

/** A process address space with page tables on `m`. */
export function newMm(m: Machine, pid = 100): MmStruct {
  return new MmStruct(pid, { system: m.sys });
}
