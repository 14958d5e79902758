/**
 * `struct vmem_altmap`: memmap storage carved out of the memory being added.
 *
 * Persistent memory brought `struct page` to terabytes of device memory, and
 * with it the question of where 64 bytes for every 4 KiB page should live
 * (the 2015 'struct page' for pmem series). In RAM, 1 TiB of pmem costs 16 GiB of DRAM; so the 2015 series
 * let the device hold its own memmap: the driver reserves the first part of
 * the device (after `reserve` pages it keeps for itself, such as the
 * namespace's info block) and hands the range to the hotplug code as a
 * `vmem_altmap`. `vmemmap_populate()` then takes the frames that back the
 * memmap from that range instead of from the page allocator. In 2021 commit a08a2ae346
 * (memmap_on_memory) reused the same structure to put the memmap of
 * hot-added RAM at the start of the added block.
 *
 * The altmap is a bump allocator, private to vmemmap_populate:
 *
 * ```
 *  base_pfn                                                     end_pfn
 *  |<- reserve ->|<------------------- free ------------------->|   ...
 *  |  (driver)   |<- align ->|<-- alloc -->|  (not yet used)    |   data pages
 *                 ^ next pfn = base_pfn + reserve + alloc + align
 * ```
 *
 * Every allocation is aligned to its own size's lowest set bit (a 2 MiB
 * block of 512 pfns lands on a 512-pfn boundary); the pfns skipped to get
 * there are counted in `align`, not `alloc`, and are never handed back:
 * `vmem_altmap_free()` only lowers `alloc`. The first pfn past the memmap
 * storage is `base_pfn + vmem_altmap_offset()` = `base_pfn + reserve + free`:
 * the first page memremap_pages() hands to the driver.
 */
import { KernelError, align as alignUp, checkUnsigned } from '@zonedev/kernel';

/**
 * `struct vmem_altmap` (include/linux/memremap.h, v5.13), field for
 * field: pre-allocated storage for vmemmap_populate.
 * @public
 */
export interface VmemAltmap {
  /** `base_pfn`: base of the entire dev_pagemap mapping. */
  basePfn: number;
  /**
   * `end_pfn` (const): the last pfn of the mapping, inclusive (`PHYS_PFN(res->end)`
   * in nvdimm_setup_pfn()); powerpc uses it to keep the memmap of device pages
   * inside the device.
   */
  readonly endPfn: number;
  /** `reserve` (const): pages mapped, but reserved for driver use (relative to `basePfn`). */
  readonly reserve: number;
  /** `free`: free pages set aside in the mapping for memmap storage. */
  free: number;
  /** `align`: pages reserved to meet allocation alignments. */
  align: number;
  /** `alloc`: track pages consumed, private to vmemmap_populate(). */
  alloc: number;
}

/**
 * The fields a caller chooses when it sets up an altmap (the kernel's
 * designated initializer): `align` and `alloc` start at 0.
 * @public
 */
export interface VmemAltmapInit {
  /** `base_pfn`. */
  readonly basePfn: number;
  /** `end_pfn` (default 0). */
  readonly endPfn?: number;
  /** `reserve` (default 0). */
  readonly reserve?: number;
  /** `free` (default 0). */
  readonly free?: number;
}

/**
 * A new `struct vmem_altmap` as a driver fills one in (e.g. nd_pfn's
 * `struct vmem_altmap __altmap = { .base_pfn = ..., .reserve = ..., .free = ..., .end_pfn = ... }`),
 * with `align` and `alloc` at 0. Throws a RangeError for negative or
 * non-integer fields.
 * @public
 */
export function vmemAltmap(init: VmemAltmapInit): VmemAltmap {
  if (typeof init !== 'object' || init === null) throw new KernelError('EINVAL', `vmem_altmap: invalid init ${String(init)}`);
  const a: VmemAltmap = {
    basePfn: init.basePfn,
    endPfn: init.endPfn ?? 0,
    reserve: init.reserve ?? 0,
    free: init.free ?? 0,
    align: 0,
    alloc: 0,
  };
  for (const [k, v] of Object.entries(a)) {
    if (!Number.isSafeInteger(v) || (v as number) < 0) throw new RangeError(`vmem_altmap.${k} must be a non-negative integer, got ${v}`);
  }
  return a;
}

/**
 * How the function-graph trace shows an altmap argument: `NULL`, or
 * `vmem_altmap(base_pfn=0x...)`.
 */
export function traceAltmap(altmap: VmemAltmap | undefined): string | undefined {
  return altmap === undefined ? undefined : `vmem_altmap(base_pfn=0x${altmap.basePfn.toString(16)})`;
}

/** Refuses (KernelError EINVAL) an altmap argument that is not an object with unsigned integer fields. */
function checkAltmapArg(fn: string, altmap: unknown): asserts altmap is VmemAltmap {
  const a = altmap as Record<string, unknown> | null;
  const ok = typeof a === 'object' && a !== null && ['basePfn', 'endPfn', 'reserve', 'free', 'align', 'alloc'].every((k) => Number.isSafeInteger(a[k]) && (a[k] as number) >= 0);
  if (!ok) throw new KernelError('EINVAL', `${fn}: invalid altmap ${String(altmap)}`);
}

/**
 * `vmem_altmap_offset()` (mm/memremap.c): the pages at the start of the
 * range that are not data pages, `reserve + free`.
 * @public
 */
export function vmemAltmapOffset(altmap: VmemAltmap): number {
  checkAltmapArg('vmem_altmap_offset', altmap);
  return altmap.reserve + altmap.free;
}

/**
 * `vmem_altmap_next_pfn()` (mm/sparse-vmemmap.c): the first pfn the next
 * allocation may use, `base_pfn + reserve + alloc + align`. Static in the
 * kernel; not exported from this package.
 * @internal
 */
export function vmemAltmapNextPfn(altmap: VmemAltmap): number {
  checkAltmapArg('vmem_altmap_next_pfn', altmap);
  return altmap.basePfn + altmap.reserve + altmap.alloc + altmap.align;
}

/**
 * `vmem_altmap_nr_free()` (mm/sparse-vmemmap.c): the pfns of `free` not yet
 * consumed by allocations or their alignment (0 when over-consumed). Static
 * in the kernel; not exported from this package.
 * @internal
 */
export function vmemAltmapNrFree(altmap: VmemAltmap): number {
  checkAltmapArg('vmem_altmap_nr_free', altmap);
  const allocated = altmap.alloc + altmap.align;
  return altmap.free > allocated ? altmap.free - allocated : 0;
}

/**
 * The result of {@link altmapAllocBlockBuf} when it succeeds.
 * @internal
 */
export interface AltmapAllocation {
  /** The first pfn of the block. */
  readonly pfn: number;
  /** The pfns of the block (`size >> PAGE_SHIFT`), added to `alloc`. */
  readonly nrPfns: number;
  /** The pfns skipped to align the block, added to `align`. */
  readonly nrAlign: number;
}

/**
 * `altmap_alloc_block_buf()` (mm/sparse-vmemmap.c, v5.13): takes `size`
 * bytes (a multiple of PAGE_SIZE) from the altmap. The block is aligned to
 * the lowest set bit of its size in pages (512 pfns for a 2 MiB block of 4K
 * pages): the pfns skipped are added to `align`, the block's to `alloc`.
 * Returns `undefined`, changing nothing, when the size is not page-aligned or
 * the block and its alignment do not fit in what is left of `free` — there is
 * no fallback to RAM here.
 *
 * `pageShift` is the architecture's PAGE_SHIFT (the kernel's is a constant).
 * Static in the kernel; not exported from this package.
 * @internal
 */
export function altmapAllocBlockBuf(size: number, altmap: VmemAltmap, pageShift: number): AltmapAllocation | undefined {
  checkUnsigned('altmap_alloc_block_buf', 'size', size);
  checkAltmapArg('altmap_alloc_block_buf', altmap);
  checkUnsigned('altmap_alloc_block_buf', 'page_shift', pageShift, 52);
  const pageSize = 2 ** pageShift;
  if (!(size > 0) || size % pageSize !== 0) return undefined;
  const pfn = vmemAltmapNextPfn(altmap);
  const nrPfns = size / pageSize;
  // 1UL << find_first_bit(&nr_pfns, BITS_PER_LONG): the lowest set bit.
  let lowBit = 1;
  while (nrPfns % (lowBit * 2) === 0) lowBit *= 2;
  const nrAlign = alignUp(pfn, lowBit) - pfn;
  if (nrPfns + nrAlign > vmemAltmapNrFree(altmap)) return undefined;
  altmap.alloc += nrPfns;
  altmap.align += nrAlign;
  return { pfn: pfn + nrAlign, nrPfns, nrAlign };
}

/**
 * `vmem_altmap_free()` (mm/memremap.c): gives `nrPfns` back, which only
 * lowers `alloc` — `align` is never returned, which is why re-adding a range
 * after removing it places its blocks where they were. Throws -EINVAL, and
 * changes nothing, when more is freed than is allocated (the kernel's
 * unsigned counter would wrap).
 * @public
 */
export function vmemAltmapFree(altmap: VmemAltmap, nrPfns: number): void {
  checkAltmapArg('vmem_altmap_free', altmap);
  if (!Number.isSafeInteger(nrPfns) || nrPfns < 0 || nrPfns > altmap.alloc) {
    throw new KernelError('EINVAL', `vmem_altmap_free: freeing ${nrPfns} pfns of ${altmap.alloc} allocated`);
  }
  altmap.alloc -= nrPfns;
}
