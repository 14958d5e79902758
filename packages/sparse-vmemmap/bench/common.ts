// Shared pieces of the scale benchmarks: the architectures and a bump page
// allocator standing in for RAM (the memmap placement is not what these
// measure: host memory is).
import { SZ_2M, SZ_16M } from '@zonedev/kernel';
import type { MmArchConfig } from '@zonedev/mmzone';
import type { SparseArch, VmemmapPageAllocator } from '@zonedev/sparse-vmemmap';

/** x86_64 with 5-level paging (52 bits), so that 64 TiB fits above the first TiB. */
export const X86_64_LA57: SparseArch = {
  pageShift: 12,
  sectionSizeBits: 27,
  maxPhysmemBits: 52,
  vmemmapStart: 0xffd4000000000000n,
  pmdSize: SZ_2M,
  vmemmapPageSize: SZ_2M,
  vmemmapPopulate: 'x86_64',
  maxDmaAddress: SZ_16M,
};

export const MM_X86_64_LA57: MmArchConfig = {
  name: 'x86_64',
  pageShift: 12,
  nodesShift: 10,
  maxOrder: 11,
  pageblockOrder: 9,
  sectionSizeBits: 27,
  maxPhysmemBits: 52,
  zoneDma: true,
  zoneDma32: true,
  zoneDevice: true,
};

/** Hands out naturally aligned blocks from `startPfn` upwards and forgets frees. */
export function bumpAllocator(startPfn: number): VmemmapPageAllocator & { used: () => number } {
  let next = startPfn;
  let used = 0;
  return {
    allocPagesNode(_nid: number, _gfp: number, order: number): number {
      const n = 2 ** order;
      next = Math.ceil(next / n) * n;
      const pfn = next;
      next += n;
      used += n;
      return pfn;
    },
    freePages(_pfn: number, order: number): void {
      used -= 2 ** order;
    },
    freeReservedPages(): void {},
    used: () => used,
  };
}

/** RSS after a full garbage collection. */
export function rss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}

export const MiB = 2 ** 20;
