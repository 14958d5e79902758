/**
 * Pageblock isolation (mm/page_isolation.c, and the isolation helpers of
 * mm/page_alloc.c), Linux v5.13.
 *
 * Before memory can be offlined, no page of it may be handed out again, and
 * every page in use must be able to leave. Isolation does the first part: each
 * pageblock of the range is marked MIGRATE_ISOLATE, and its free blocks move
 * to the isolate free lists, which the allocator never takes from and which
 * NR_FREE_PAGES does not count. A pageblock holding a page that can never
 * move (reserved, or allocated by the kernel outside ZONE_MOVABLE) cannot be
 * isolated: `start_isolate_page_range()` fails with -EBUSY and undoes the
 * pageblocks it had already isolated. Once the range's in-use pages have been
 * migrated away (memory-hotplug's job), `test_pages_isolated()` confirms that
 * every page is free, and `__offline_isolated_pages()` takes the free blocks
 * off the free lists for good. `undo_isolate_page_range()` gives isolated
 * pageblocks back to the allocator (onlining uses it too: fresh memory is
 * freed into isolated pageblocks and released all at once).
 *
 * One kernel behaviour worth knowing: the undo after a failed isolation gives
 * the pageblocks the *caller's* migratetype (memory offlining passes
 * MIGRATE_MOVABLE), not the one each had before, and moves their free blocks
 * to the tail of the free lists.
 *
 * These functions are the bodies of the {@link MmCore} methods of the same
 * names; they are kept here to read as page_isolation.c does.
 */
import { KernelBug, KernelError } from '@zonedev/kernel';
import type { MmConfig } from './config.js';
import type { MemmapStore } from './memmap.js';
import type { Zone } from './mmzone.js';
import { MIGRATE_HIGHATOMIC, MIGRATE_MOVABLE } from './mmzone.js';
import { PG_buddy, PG_lru, PG_offline, PG_reserved, pageTypeIs } from './page-flags.js';

/** The part of {@link MmCore} these functions use. */
interface MmCore {
  readonly config: MmConfig;
  readonly memmap: MemmapStore;
  pfnOnline(pfn: number): boolean;
  pageZone(pfn: number): Zone;
  setPageblockMigratetype(pfn: number, migratetype: number): void;
  findBuddyPfn(pfn: number, order: number): number;
  zoneWatermarkOk(zone: Zone, order: number, mark: number, highestZoneidx: number, allocFlags: number): boolean;
  dumpPage(pfn: number, reason?: string): void;
}

/**
 * The zone-locked primitives of mm/page_alloc.c the isolation code needs;
 * {@link MmCore} hands its own to these functions (not part of the API).
 */
export interface BuddyOps {
  /** `move_freepages_block()`: pages moved. */
  moveFreepagesBlock(zone: Zone, pfn: number, mt: number): number;
  /** `__mod_zone_freepage_state()`. */
  modZoneFreepageState(zone: Zone, nr: number, mt: number): void;
  /** `del_page_from_free_list()`. */
  delPageFromFreeList(zone: Zone, pfn: number): void;
  /** `__free_one_page()`. */
  freeOnePage(pfn: number, zone: Zone, order: number, mt: number, fpi: number): void;
}

/** `MEMORY_OFFLINE`: isolation for memory offlining (PageOffline/HWPoison pages tolerated). @public */
export const MEMORY_OFFLINE = 0x1;
/** `REPORT_FAILURE`: dump the unmovable page that made isolation fail. @public */
export const REPORT_FAILURE = 0x2;

function hasFlag(flags: number, f: number): boolean {
  return Math.floor(flags / f) % 2 === 1;
}

function bug(what: string): never {
  throw new KernelBug(what);
}

/** `__first_valid_page()`: the first online page of `[pfn, pfn + nr)`, or -1. */
export function firstValidPage(mm: MmCore, pfn: number, nr: number): number {
  for (let i = 0; i < nr; i++) if (mm.pfnOnline(pfn + i)) return pfn + i;
  return -1;
}

function isIsolated(mm: MmCore, pfn: number): boolean {
  return mm.memmap.getPageblockMigratetype(pfn) === mm.config.MIGRATE_ISOLATE;
}

/** `has_unmovable_pages()` (mm/page_alloc.c). */
export function hasUnmovablePages(mm: MmCore, _ops: BuddyOps, zone: Zone, pfn: number, migratetype: number, flags: number): number | undefined {
  const m = mm.memmap;
  const c = mm.config;
  const nb = c.pageblockNrPages;
  const end = pfn - (pfn % nb) + nb;
  if (c.MIGRATE_CMA !== undefined && m.getPageblockMigratetype(pfn) === c.MIGRATE_CMA) {
    return migratetype === c.MIGRATE_CMA ? undefined : pfn;
  }
  const reservedBit = 2 ** PG_reserved;
  const isReserved = (lo: number): boolean => Math.floor(lo / reservedBit) % 2 === 1;
  if (zone.zoneIdx === c.ZONE_MOVABLE) {
    // Only reserved pages matter in ZONE_MOVABLE.
    const r = m.findFirst(pfn, end, (lo) => isReserved(lo));
    return r < 0 ? undefined : (r);
  }
  const hw = c.pageflags.PG_hwpoison;
  let p: number = pfn;
  while (p < end) {
    // Skip the pages that cannot stop isolation without reading each one:
    // unreferenced pages that are not free block heads (free block tails).
    p = m.findFirst(p, end, (lo, mc, ref) => isReserved(lo) || ref !== 0 || pageTypeIs(mc, PG_buddy));
    if (p < 0) return undefined;
    if (m.pageReserved(p)) return p;
    if (m.pageRefCount(p) === 0) {
      p += m.pageBuddy(p) ? 2 ** m.buddyOrder(p) : 1;
      continue;
    }
    if (hasFlag(flags, MEMORY_OFFLINE) && hw !== undefined && m.testPageFlag(p, hw)) {
      p++;
      continue;
    }
    if (hasFlag(flags, MEMORY_OFFLINE) && m.pageOffline(p)) {
      p++;
      continue;
    }
    if (m.testPageFlag(p, PG_lru)) {
      p++;
      continue;
    }
    return p;
  }
  return undefined;
}

/** `set_migratetype_isolate()`: true on success, false for -EBUSY. */
function setMigratetypeIsolate(mm: MmCore, ops: BuddyOps, pfn: number, migratetype: number, flags: number): boolean {
  const zone = mm.pageZone(pfn);
  if (isIsolated(mm, pfn)) return false;
  const unmovable = hasUnmovablePages(mm, ops, zone, pfn, migratetype, flags);
  if (unmovable === undefined) {
    const mt = mm.memmap.getPageblockMigratetype(pfn);
    mm.setPageblockMigratetype(pfn, mm.config.MIGRATE_ISOLATE);
    zone.nrIsolatePageblock++;
    const n = ops.moveFreepagesBlock(zone, pfn, mm.config.MIGRATE_ISOLATE);
    ops.modZoneFreepageState(zone, -n, mt);
    return true;
  }
  if (hasFlag(flags, REPORT_FAILURE)) mm.dumpPage(unmovable, 'unmovable page');
  return false;
}

/** `unset_migratetype_isolate()`. */
function unsetMigratetypeIsolate(mm: MmCore, ops: BuddyOps, pfn: number, migratetype: number): void {
  const zone = mm.pageZone(pfn);
  if (!isIsolated(mm, pfn)) return;
  const m = mm.memmap;
  const c = mm.config;
  let isolated = false;
  let order = 0;
  if (m.pageBuddy(pfn)) {
    order = m.buddyOrder(pfn);
    if (order >= c.pageblockOrder && order < c.MAX_ORDER - 1) {
      const buddy = mm.findBuddyPfn(pfn, order);
      if (m.hasMemmap(buddy) && !isIsolated(mm, buddy)) {
        isolateFreePage(mm, ops, pfn, order);
        isolated = true;
      }
    }
  }
  if (!isolated) {
    const n = ops.moveFreepagesBlock(zone, pfn, migratetype);
    ops.modZoneFreepageState(zone, n, migratetype);
  }
  mm.setPageblockMigratetype(pfn, migratetype);
  if (isolated) putbackIsolatedPage(mm, ops, pfn, order, migratetype);
  zone.nrIsolatePageblock--;
}

/** `__isolate_free_page()` (mm/page_alloc.c). */
export function isolateFreePage(mm: MmCore, ops: BuddyOps, pfn: number, order: number): number {
  const m = mm.memmap;
  const c = mm.config;
  if (!m.pageBuddy(pfn)) bug(`__isolate_free_page: pfn 0x${pfn.toString(16)} is not PageBuddy`);
  const zone = mm.pageZone(pfn);
  const mt = m.getPageblockMigratetype(pfn);
  if (mt !== c.MIGRATE_ISOLATE) {
    const mark = zone.watermark[0]! + 2 ** order;
    if (!mm.zoneWatermarkOk(zone, 0, mark, 0, 0x80 /* ALLOC_CMA */)) return 0;
    ops.modZoneFreepageState(zone, -(2 ** order), mt);
  }
  ops.delPageFromFreeList(zone, pfn);
  if (order >= c.pageblockOrder - 1) {
    const endpage = pfn + 2 ** order - 1;
    for (let p: number = pfn; p < endpage; p += c.pageblockNrPages) {
      const t = m.getPageblockMigratetype(p);
      if (t !== c.MIGRATE_ISOLATE && t !== c.MIGRATE_CMA && t !== MIGRATE_HIGHATOMIC) mm.setPageblockMigratetype(p, MIGRATE_MOVABLE);
    }
  }
  return 2 ** order;
}

/** `__putback_isolated_page()` (mm/page_alloc.c): back to the tail of its free list. */
export function putbackIsolatedPage(mm: MmCore, ops: BuddyOps, pfn: number, order: number, migratetype: number): void {
  ops.freeOnePage(pfn, mm.pageZone(pfn), order, migratetype, 0x1 + 0x2 /* FPI_SKIP_REPORT_NOTIFY | FPI_TO_TAIL */);
}

function checkAligned(mm: MmCore, startPfn: number, endPfn: number): void {
  const nb = mm.config.pageblockNrPages;
  if (startPfn % nb !== 0) bug('BUG_ON(!IS_ALIGNED(start_pfn, pageblock_nr_pages))');
  if (endPfn % nb !== 0) bug('BUG_ON(!IS_ALIGNED(end_pfn, pageblock_nr_pages))');
}

/** `start_isolate_page_range()`. */
export function startIsolatePageRange(mm: MmCore, ops: BuddyOps, startPfn: number, endPfn: number, migratetype: number, flags: number): void {
  checkAligned(mm, startPfn, endPfn);
  const nb = mm.config.pageblockNrPages;
  for (let pfn: number = startPfn; pfn < endPfn; pfn += nb) {
    const page = firstValidPage(mm, pfn, nb);
    if (page >= 0 && !setMigratetypeIsolate(mm, ops, page, migratetype, flags)) {
      // undo: for the pageblocks isolated so far
      for (let u: number = startPfn; u < pfn; u += nb) {
        if (!mm.pfnOnline(u)) continue;
        unsetMigratetypeIsolate(mm, ops, u, migratetype);
      }
      throw new KernelError('EBUSY', `start_isolate_page_range: pageblock at pfn 0x${pfn.toString(16)} cannot be isolated`);
    }
  }
}

/** `undo_isolate_page_range()`. */
export function undoIsolatePageRange(mm: MmCore, ops: BuddyOps, startPfn: number, endPfn: number, migratetype: number): void {
  checkAligned(mm, startPfn, endPfn);
  const nb = mm.config.pageblockNrPages;
  for (let pfn: number = startPfn; pfn < endPfn; pfn += nb) {
    const page = firstValidPage(mm, pfn, nb);
    if (page < 0 || !isIsolated(mm, page)) continue;
    unsetMigratetypeIsolate(mm, ops, page, migratetype);
  }
}

/** `__test_page_isolated_in_pageblock()`: the first pfn that is not free (or tolerated). */
function testPageIsolatedInPageblock(mm: MmCore, startPfn: number, endPfn: number, flags: number): number {
  const m = mm.memmap;
  const hw = mm.config.pageflags.PG_hwpoison;
  let pfn = startPfn;
  while (pfn < endPfn) {
    if (!m.hasMemmap(pfn)) {
      pfn++;
      continue;
    }
    if (m.pageBuddy(pfn)) pfn += 2 ** m.buddyOrder(pfn);
    else if (hasFlag(flags, MEMORY_OFFLINE) && hw !== undefined && m.testPageFlag(pfn, hw)) pfn++;
    else if (hasFlag(flags, MEMORY_OFFLINE) && m.pageOffline(pfn) && m.pageCount(pfn) === 0) pfn++;
    else break;
  }
  return pfn;
}

/** `test_pages_isolated()`: throws -EBUSY unless the whole range is isolated and free. */
export function testPagesIsolated(mm: MmCore, _ops: BuddyOps, startPfn: number, endPfn: number, flags: number): void {
  const nb = mm.config.pageblockNrPages;
  let pfn: number = startPfn;
  for (; pfn < endPfn; pfn += nb) {
    const page = firstValidPage(mm, pfn, nb);
    if (page >= 0 && !isIsolated(mm, page)) break;
  }
  const first = firstValidPage(mm, startPfn, endPfn - startPfn);
  if (pfn < endPfn || first < 0) {
    throw new KernelError('EBUSY', `test_pages_isolated: pageblock at pfn 0x${pfn.toString(16)} is not isolated`);
  }
  const bad = testPageIsolatedInPageblock(mm, startPfn, endPfn, flags);
  if (bad < endPfn) throw new KernelError('EBUSY', `test_pages_isolated: pfn 0x${bad.toString(16)} is not free`);
}

/** `__offline_isolated_pages()`: returns the pages taken off the free lists. */
export function offlineIsolatedPages(mm: MmCore, ops: BuddyOps, startPfn: number, endPfn: number): number {
  const m = mm.memmap;
  const hw = mm.config.pageflags.PG_hwpoison;
  const zone = mm.pageZone(startPfn);
  let pfn: number = startPfn;
  let taken = 0;
  while (pfn < endPfn) {
    const buddy = m.pageBuddy(pfn);
    if (!buddy && hw !== undefined && m.testPageFlag(pfn, hw)) {
      pfn++;
      continue;
    }
    if (pageTypeIs(m.pageMapcountRaw(pfn), PG_offline)) {
      if (m.pageCount(pfn) !== 0) bug('BUG_ON(page_count(page)) on a PageOffline page');
      pfn++;
      continue;
    }
    if (m.pageCount(pfn) !== 0) bug(`__offline_isolated_pages: pfn 0x${pfn.toString(16)} has references`);
    if (!buddy) bug(`__offline_isolated_pages: pfn 0x${pfn.toString(16)} is not PageBuddy`);
    const order = m.buddyOrder(pfn);
    ops.delPageFromFreeList(zone, pfn);
    pfn += 2 ** order;
    taken += 2 ** order;
  }
  return taken;
}
