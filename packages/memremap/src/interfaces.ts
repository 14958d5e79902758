/**
 * What memremap needs from the layers below it, as narrow structural
 * interfaces.
 *
 * mm/memremap.c calls into memory hotplug (`arch_add_memory()`,
 * `add_pages()`, `move_pfn_range_to_zone()` and their inverses), reads and
 * writes struct pages through include/linux/mm.h and page_ref.h, finds
 * `NODE_DATA(nid)->node_zones[ZONE_DEVICE]`, and asks the architecture for
 * `memremap_compat_align()`. Each of those is named here, with exactly the
 * members memremap uses, in the kernel's argument order. The real objects
 * of a machine fit as they are — mmzone's `MmCore` (and its `MemmapStore`),
 * memory-hotplug's `MemoryHotplug` — and so do the test doubles of this
 * package's tests. The data types that cross the boundary (zones, nodes,
 * struct page values, `vmem_altmap`, `mhp_params`) are the lower packages'
 * own.
 */
import type { MmConfig, PageUpdate, PglistData, StructPage, Zone } from '@zonedev/mmzone';
import type { MhpParams } from '@zonedev/memory-hotplug';
import type { VmemAltmap } from '@zonedev/sparse-vmemmap';

/**
 * The struct page store (mmzone's `MemmapStore`) as memremap uses it: pages
 * are named by pfn, and bulk operations take ranges so that a section of
 * identical pages stays one template.
 * @public
 */
export interface ZoneDevicePageStore {
  /**
   * The struct page `__init_single_page(page, pfn, zone, nid)` produces
   * (zone and node links, refcount 1, mapcount -1), shared per zone and node
   * (and section, when the section number is in `page->flags`).
   */
  initSinglePageTemplate(zone: number, nid: number, pfn: number): StructPage;
  /** Sets every page of `[startPfn, startPfn + nrPages)` to `template` (whole sections in O(1)). */
  initRange(startPfn: number, nrPages: number, template: StructPage): void;
  /** Applies `update` to every page of a range (whole sections in O(1)). */
  updateRange(startPfn: number, nrPages: number, update: PageUpdate): void;
  /**
   * The first pfn of `[startPfn, endPfn)` whose page satisfies `pred` (given
   * its low flags word, mapcount and refcount), or -1; a template section is
   * tested once.
   */
  findFirst(startPfn: number, endPfn: number, pred: (flagsLo: number, mapcount: number, refcount: number) => boolean): number;
  /** `set_pageblock_migratetype()` for every pageblock a range touches. */
  setPageblockMigratetypeRange(startPfn: number, nrPages: number, migratetype: number): void;
  /** Whether `pfn` has a struct page (its section has a memmap). */
  hasMemmap(pfn: number): boolean;
  /** `page_zonenum()`. */
  pageZonenum(pfn: number): number;
  /** `page_to_nid()`. */
  pageToNid(pfn: number): number;
  /** `page->pgmap`. */
  pagePgmap(pfn: number): unknown;
  /** `page_ref_count()`. */
  pageRefCount(pfn: number): number;
  /** `page_ref_dec_return()`. */
  pageRefDecReturn(pfn: number): number;
  /** `put_page_testzero()`: drops a reference, true when it was the last; BUG (throws) at 0. */
  putPageTestzero(pfn: number): boolean;
  /** `get_page()`: takes a reference; BUG (throws) on a page whose count is 0. */
  getPage(pfn: number): void;
  /** `page->mapping = mapping`. */
  setPageMapping(pfn: number, mapping: unknown): void;
  /** `__ClearPageXxx()`: clears page flag bit `bit`. */
  clearPageFlag(pfn: number, bit: number): void;
}

/**
 * The mm core (mmzone's `MmCore`) as memremap uses it.
 * @public
 */
export interface MemremapMm {
  /** The build configuration: `ZONE_DEVICE` is `undefined` without `CONFIG_ZONE_DEVICE`. */
  readonly config: MmConfig;
  /** The struct page store. */
  readonly memmap: ZoneDevicePageStore;
  /** `numa_mem_id()`: the node of the running CPU (used when `nid < 0`). */
  readonly numaNodeId: number;
  /** `NODE_DATA(nid)`, or `undefined` for a node without a pglist_data. */
  nodeData(nid: number): PglistData | undefined;
  /** `page_zone(page)`. */
  pageZone(pfn: number): Zone;
  /** `put_page()` of a page that is not ZONE_DEVICE (the buddy allocator's path). */
  putPage(pfn: number): void;
  /**
   * Registers, once, the handler `put_page()` calls for a ZONE_DEVICE page,
   * so that a `put_page()` issued through the mm core takes memremap's path
   * (`put_devmap_managed_page()`, `__put_page()`). -EBUSY if a handler is
   * already registered: one memremap per mm core.
   */
  registerDevmapPut(handler: (pfn: number) => boolean): void;
}

/**
 * Memory hotplug (memory-hotplug's `MemoryHotplug`) as memremap uses it.
 * The method names are the kernel's functions in camelCase, with the
 * kernel's argument order.
 * @public
 */
export interface MemremapHotplug {
  /** `arch_add_memory(nid, start, size, params)`: linear mapping plus `__add_pages()`. */
  archAddMemory(nid: number, start: number, size: number, params: MhpParams): void;
  /** `add_pages(nid, start_pfn, nr_pages, params)`: sections and memmap only (device-private memory). */
  addPages(nid: number, startPfn: number, nrPages: number, params: MhpParams): void;
  /** `arch_remove_memory(nid, start, size, altmap)`. */
  archRemoveMemory(nid: number, start: number, size: number, altmap: VmemAltmap | undefined): void;
  /** `__remove_pages(start_pfn, nr_pages, altmap)`. */
  removePages(startPfn: number, nrPages: number, altmap: VmemAltmap | undefined): void;
  /** `move_pfn_range_to_zone(zone, start_pfn, nr_pages, altmap, migratetype)`. */
  movePfnRangeToZone(zone: Zone, startPfn: number, nrPages: number, altmap: VmemAltmap | undefined, migratetype: number): void;
  /** `remove_pfn_range_from_zone(zone, start_pfn, nr_pages)`. */
  removePfnRangeFromZone(zone: Zone, startPfn: number, nrPages: number): void;
  /** `mhp_range_allowed(start, size, need_mapping)`. */
  mhpRangeAllowed(start: number, size: number, needMapping: boolean): boolean;
  /** `max_pfn` (x86's `add_pages()` raises it). */
  readonly maxPfn: number;
  /** `max_low_pfn`. */
  readonly maxLowPfn: number;
  /** Lowers `max_pfn`/`max_low_pfn` back to values read before a failed hot-add (EINVAL above the current ones). */
  restoreEndOfMemoryVars(maxPfn: number, maxLowPfn: number): void;
}

/**
 * What memremap needs from an architecture.
 * @public
 */
export interface MemremapArch {
  /**
   * `memremap_compat_align()` of an architecture with
   * `CONFIG_ARCH_HAS_MEMREMAP_COMPAT_ALIGN` (powerpc book3s64: the larger of
   * SUBSECTION_SIZE and the linear map's page size, 16 MiB with hash).
   * Absent: the generic `SUBSECTION_SIZE` (2 MiB).
   */
  memremapCompatAlign?(): number;
  /**
   * `PAGE_OFFSET`, the base of the direct map, for the `__va()` that
   * `memremap_pages()` returns (default x86_64's 4-level
   * `0xffff888000000000`).
   */
  readonly pageOffset?: bigint;
}

/**
 * The Kconfig options that shape memremap (v5.13). `CONFIG_ZONE_DEVICE`
 * itself is the mm configuration's (`MmConfig.ZONE_DEVICE`).
 * `CONFIG_DEV_PAGEMAP_OPS` is derived as Kconfig selects it: by
 * `DEVICE_PRIVATE`, and by `FS_DAX` unless `FS_DAX_LIMITED`.
 * @public
 */
export interface MemremapConfig {
  /** `CONFIG_DEVICE_PRIVATE` (default true). */
  readonly devicePrivate?: boolean;
  /** `CONFIG_FS_DAX` (default true). */
  readonly fsDax?: boolean;
  /** `CONFIG_FS_DAX_LIMITED` (s390's DAX without struct pages; default false). */
  readonly fsDaxLimited?: boolean;
  /** `CONFIG_PCI_P2PDMA` (default true). */
  readonly pciP2pdma?: boolean;
}
