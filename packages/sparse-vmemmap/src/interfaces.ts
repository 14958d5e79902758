/**
 * What sparse-vmemmap needs from the layers around it, stated as narrow
 * structural interfaces.
 *
 * The kernel's mm/sparse-vmemmap.c calls straight into the page allocator
 * (`alloc_pages_node()`, `free_pages()`), into memblock during boot, and
 * writes `struct page`s it has just mapped. Here each of those is an
 * interface that names only what is used, so that mmzone's buddy allocator
 * and struct-page store, a machine's boot memory, or a test double all fit,
 * and the machine wires the real objects together.
 */

/**
 * The page allocator as `vmemmap_alloc_block()` and the vmemmap teardown use
 * it (mm/page_alloc.c).
 * @public
 */
export interface VmemmapPageAllocator {
  /**
   * `alloc_pages_node(nid, gfp, order)`: the first pfn of a free, naturally
   * aligned block of `2^order` pages, preferably on node `nid` (the zonelist
   * may fall back to other nodes), or `undefined` when there is none. The
   * vmemmap asks with `gfp` = `GFP_KERNEL | __GFP_RETRY_MAYFAIL |
   * __GFP_NOWARN` (0x6cc0 in v5.13's bit values).
   */
  allocPagesNode(nid: number, gfp: number, order: number): number | undefined;
  /** `__free_pages(pfn_to_page(pfn), order)`: gives a block back. */
  freePages(pfn: number, order: number): void;
  /**
   * `free_reserved_page()` for each of `nrPages` pages from `pfn`: releases
   * memory that boot code reserved in memblock (a boot-time memmap) to the
   * allocator, which never had it.
   */
  freeReservedPages(pfn: number, nrPages: number): void;
  /** `page_to_nid()`: the node a pfn belongs to (to account where memmap landed). */
  pfnToNid?(pfn: number): number;
}

/**
 * `GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_NOWARN`, the mask
 * `vmemmap_alloc_block()` allocates with, in v5.13's bit values
 * (`___GFP_IO` 0x40, `___GFP_FS` 0x80, `___GFP_DIRECT_RECLAIM` 0x400,
 * `___GFP_KSWAPD_RECLAIM` 0x800, `___GFP_NOWARN` 0x2000,
 * `___GFP_RETRY_MAYFAIL` 0x4000).
 */
export const VMEMMAP_ALLOC_GFP = 0x6cc0;

/**
 * The struct-page store, one region per section: told when a section's
 * struct pages come into existence (it gets a memmap: it becomes valid) and
 * when they are gone (its last subsection is removed). In between, pages of
 * subsections that are not present exist in the store but are not valid, and
 * the struct pages of a subsection re-added to a still-valid section keep
 * whatever the store holds for them — the kernel's would be uninitialised
 * memory, which nobody may read before `memmap_init_zone()` writes it.
 * mmzone's `MemmapStore` fits this interface as it is.
 * @public
 */
export interface SectionMemmapStore {
  /** Section `sectionNr` has a memmap now, every page in its initial state (`sparse_init`, `sparse_add_section`). */
  initSection(sectionNr: number): void;
  /** Section `sectionNr`'s memmap is gone (`section_deactivate` of its last subsection). */
  dropSection(sectionNr: number): void;
  /**
   * Optional: {@link SectionMemmapStore.initSection} for each of the `count`
   * sections from `firstSectionNr`, in one call (the bulk
   * `SparseMemory.sparseAddSections()` uses it when the store has it, so that
   * a store that keeps uniform sections as one record is never asked for
   * one record per section). Must change nothing when it throws.
   */
  initSections?(firstSectionNr: number, count: number): void;
  /** Optional: {@link SectionMemmapStore.dropSection} for each of the `count` sections from `firstSectionNr`, in one call. */
  dropSections?(firstSectionNr: number, count: number): void;
}

/**
 * A range of boot memory as `for_each_mem_pfn_range()` yields it.
 * @public
 */
export interface MemPfnRange {
  /** First pfn. */
  readonly startPfn: number;
  /** Exclusive. */
  readonly endPfn: number;
  /** The node. */
  readonly nid: number;
}

/**
 * The boot-time allocator (mm/memblock.c) as `sparse_init()` uses it: the
 * list of boot memory and raw allocations from it before the page
 * allocator exists.
 * @public
 */
export interface SparseMemblock {
  /** `for_each_mem_pfn_range(i, MAX_NUMNODES, ...)`: boot memory, ascending. */
  memPfnRanges(): Iterable<MemPfnRange>;
  /**
   * `memblock_alloc_try_nid_raw(size, align, minAddr, MEMBLOCK_ALLOC_ACCESSIBLE, nid)`
   * (`exactNid`: `memblock_alloc_exact_nid_raw`): reserves `size` bytes
   * aligned to `align` and returns their physical address, or `undefined`.
   */
  allocRaw(size: number, align: number, minAddr: number, nid: number, exactNid: boolean): number | undefined;
  /** `memblock_free_early(base, size)`: gives a reservation back. */
  free(base: number, size: number): void;
}
