// A small machine for mm's tests: kernel + mmzone + sparse-vmemmap booted
// the way a platform profile does (memblock -> sparse_init ->
// free_area_init -> memblock_free_all), with an x86_64-like test
// architecture of this package's own, and mm's MmSystem on top.
import { Kernel, SZ_16M, SZ_2M } from '@zonedev/kernel';
import type { MmArchConfig } from '@zonedev/mmzone';
import { MmCore } from '@zonedev/mmzone';
import { BootMemblock, SparseMemory } from '@zonedev/sparse-vmemmap';
import type { PagingArch, ThpMode } from '../src/index.js';
import { MmStruct, MmSystem } from '../src/index.js';

export const MiB = 2 ** 20;
export const GiB = 2 ** 30;

/** x86_64 with 4-level paging. */
export const X86_64_4LEVEL: PagingArch = { name: 'x86_64 4-level', pageShift: 12, levelBits: [9, 9, 9, 9] };
/** x86_64 with 5-level paging (LA57). */
export const X86_64_5LEVEL: PagingArch = { name: 'x86_64 5-level', pageShift: 12, levelBits: [9, 9, 9, 9, 9] };
/** powerpc64 radix MMU with 64K pages. */
export const POWERPC_RADIX_64K: PagingArch = { name: 'powerpc radix 64K', pageShift: 16, levelBits: [5, 9, 9, 13] };

export function mmArch(): MmArchConfig {
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
  };
}

export interface Machine {
  readonly kernel: Kernel;
  readonly core: MmCore;
  readonly sys: MmSystem;
}

/** Boots `memory` bytes of RAM at 1 MiB (default 256 MiB) and an MmSystem. */
export function bootMachine(o: { memory?: number; arch?: PagingArch; thp?: ThpMode } = {}): Machine {
  const size = o.memory ?? 256 * MiB;
  const kernel = new Kernel({ resources: { physAddrBits: 46, maxPhysmemBits: 46, paSectionShift: 27, pageShift: 12 } });
  const core = new MmCore({ kernel, config: mmArch(), nodes: [0] });
  const memblock = new BootMemblock(12);
  memblock.addMemory(MiB, size, 0);
  memblock.reserve(16 * MiB, 16 * MiB);
  const sparse = new SparseMemory({
    kernel,
    arch: {
      pageShift: 12,
      sectionSizeBits: 27,
      maxPhysmemBits: 46,
      vmemmapStart: 0xffffea0000000000n,
      pmdSize: SZ_2M,
      vmemmapPageSize: SZ_2M,
      vmemmapPopulate: 'x86_64',
      maxDmaAddress: SZ_16M,
    },
    allocator: core,
    memmap: core.memmap,
  });
  sparse.sparseInit(memblock);
  const ranges = [...memblock.memPfnRanges()];
  for (const r of ranges) sparse.subsectionMapInit(r.startPfn, r.endPfn - r.startPfn);
  core.bootMemory(ranges, memblock.reservedPfnRanges());
  const sys = new MmSystem({ core, arch: o.arch ?? X86_64_4LEVEL, ...(o.thp ? { thp: o.thp } : {}) });
  return { kernel, core, sys };
}

/**
 * Boots `memory` bytes of RAM at 0 (default 1 GiB) on a powerpc64-like
 * machine with 64 KiB pages (16 MiB sections, radix vmemmap in 2 MiB pages)
 * and an MmSystem on the radix 64K page-table geometry.
 */
export function bootMachine64K(o: { memory?: number; thp?: ThpMode } = {}): Machine {
  const size = o.memory ?? GiB;
  const kernel = new Kernel({ resources: { physAddrBits: 51, maxPhysmemBits: 51, paSectionShift: 24, pageShift: 16 } });
  const core = new MmCore({
    kernel,
    config: {
      name: 'powerpc64', pageShift: 16, nodesShift: 2, maxOrder: 9, pageblockOrder: 5, sectionSizeBits: 24,
      maxPhysmemBits: 51, zoneDma: false, zoneDma32: false, zoneDevice: true,
    },
    nodes: [0],
  });
  const memblock = new BootMemblock(16);
  memblock.addMemory(0, size, 0);
  memblock.reserve(0, 32 * MiB);
  const sparse = new SparseMemory({
    kernel,
    arch: {
      pageShift: 16,
      sectionSizeBits: 24,
      maxPhysmemBits: 51,
      vmemmapStart: 0xc00c000000000000n,
      pmdSize: SZ_2M,
      vmemmapPageSize: SZ_2M,
      vmemmapPopulate: 'powerpc',
      maxDmaAddress: 0,
    },
    allocator: core,
    memmap: core.memmap,
  });
  sparse.sparseInit(memblock);
  const ranges = [...memblock.memPfnRanges()];
  for (const r of ranges) sparse.subsectionMapInit(r.startPfn, r.endPfn - r.startPfn);
  core.bootMemory(ranges, memblock.reservedPfnRanges());
  const sys = new MmSystem({ core, arch: POWERPC_RADIX_64K, ...(o.thp ? { thp: o.thp } : {}) });
  return { kernel, core, sys };
}

/** A process address space on `m`. */
export function newMm(m: Machine, pid = 100): MmStruct {
  return new MmStruct(pid, { system: m.sys });
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
