/**
 * `@zonedev/mmzone` — mirrors include/linux/mmzone.h, mm/page_alloc.c,
 * include/linux/page-flags-layout.h, include/linux/page_ref.h and the page
 * parts of include/linux/mm.h, mm/page_isolation.c and mm/vmstat.c (Linux
 * v5.13).
 *
 * This package owns: zone types built from a kernel config, `ZONES_SHIFT` and
 * the `page->flags` layout, nodes (`pglist_data`), zones and their page
 * counts, the `struct page` store, the buddy allocator, pageblock isolation,
 * the physical memory contents, `/proc/zoneinfo` and `/proc/buddyinfo`.
 *
 * The exports are grouped by the kernel file each group mirrors.
 *
 * @packageDocumentation
 */

// --- include/linux/mmzone.h: the build-time configuration and zone types
export { checkMmConfig, createMmConfig, zonesShiftFor } from './config.js';
export type { MmArchConfig, MmConfig, ZoneKind, ZonesShiftBudget } from './config.js';

// --- include/linux/mmzone.h: nodes, zones, free areas, migrate types
export {
  MIGRATE_MOVABLE, MIGRATE_UNMOVABLE, PglistData, Zone, isDevZone, populatedZone, resizePgdatRange,
  resizeZoneRange, setPgdatNrZones, setPgdatSpan, setZoneSpan, zoneEndPfn, zoneId, zoneIdx, zoneIntersects,
  zoneIsEmpty, zonePageState, zoneSpansPfn,
} from './mmzone.js';
export { FreeArea, FreeLists } from './free-area.js';

// --- include/linux/page-flags-layout.h (and the *_PGSHIFT of include/linux/mm.h)
export { renderPageFlagsLayout } from './page-flags-layout.js';
export type { PageFlagsLayout, PageFlagsLayoutInput } from './page-flags-layout.js';

// --- include/linux/page-flags.h: page flags and page types
export {
  PG_active, PG_arch_1, PG_buddy, PG_dirty, PG_error, PG_guard, PG_head, PG_locked, PG_lru, PG_mappedtodisk,
  PG_mlocked, PG_offline, PG_owner_priv_1, PG_private, PG_private_2, PG_reclaim, PG_referenced, PG_reserved,
  PG_slab, PG_swapbacked, PG_table, PG_unevictable, PG_uptodate, PG_waiters, PG_workingset, PG_writeback,
  formatPageFlags, pageHasType, pageTypeIs,
} from './page-flags.js';
export type { PageflagBits, PageflagOptions } from './page-flags.js';

// --- include/linux/mm_types.h, mm.h, page_ref.h: struct page and the memmap
export {
  POISONED_STRUCT_PAGE, STRUCT_PAGE_SIZE, makeStructPage,
} from './struct-page.js';
export type { StructPage } from './struct-page.js';
export { MemmapStore } from './memmap.js';
export type { MemmapStats, MemmapStoreOptions, PageUpdate, SectionMemmapState } from './memmap.js';

// --- include/linux/gfp.h
export {
  GFP_ATOMIC, GFP_DMA, GFP_DMA32, GFP_HIGHUSER, GFP_HIGHUSER_MOVABLE, GFP_KERNEL, GFP_KERNEL_ACCOUNT, GFP_NOFS,
  GFP_NOIO, GFP_NOWAIT, GFP_TRANSHUGE, GFP_TRANSHUGE_LIGHT, GFP_USER, GFP_ZONEMASK, __GFP_ACCOUNT,
  __GFP_ATOMIC, __GFP_COMP, __GFP_DIRECT_RECLAIM, __GFP_DMA, __GFP_DMA32, __GFP_FS, __GFP_HARDWALL, __GFP_HIGH,
  __GFP_HIGHMEM, __GFP_IO, __GFP_KSWAPD_RECLAIM, __GFP_MEMALLOC, __GFP_MOVABLE, __GFP_NOFAIL, __GFP_NOMEMALLOC,
  __GFP_NORETRY, __GFP_NOWARN, __GFP_RECLAIM, __GFP_RECLAIMABLE, __GFP_RETRY_MAYFAIL, __GFP_THISNODE,
  __GFP_WRITE, __GFP_ZERO, gfpOr,
} from './gfp.js';

// --- mm/page_alloc.c: the buddy allocator, boot setup, watermarks
export {
  MmCore,
} from './page-alloc.js';
export type { FailPageAllocAttrs, MemblockRegion, MeminitContext, MmCoreOptions, PfnRange } from './page-alloc.js';

// --- mm/page_isolation.c
export { MEMORY_OFFLINE, REPORT_FAILURE } from './page-isolation.js';

// --- mm/vmstat.c
export {
  NODE_STAT_IN_THP,
  NR_FREE_PAGES,
  NR_ANON_MAPPED,
  NR_FILE_MAPPED,
  nodeStatNames,
  numaStatNames,
  zoneStatNames,
} from './vmstat-items.js';
export type { MmView } from './vmstat.js';

// --- include/linux/highmem.h (clear_page, copy_highpage): physical memory contents
export { PhysMem, SparseBacking } from './physmem.js';
export type { PhysBacking, RegisteredBacking } from './physmem.js';
