/**
 * `migrate_vma_setup()`, `migrate_vma_pages()`, `migrate_vma_finalize()`:
 * moving a range of a process between system RAM and device-private memory
 * (the `CONFIG_DEVICE_PRIVATE` part of mm/migrate.c, Linux v5.13).
 *
 * ```
 *   driver                          core mm (this file)
 *   ------                          -------------------
 *   migrate_vma_setup(args) ------> collect: walk [start, end); holes and the
 *                                   zero page become "MIGRATE, no page";
 *                                   pages get a reference, are locked and
 *                                   replaced by migration entries
 *                                   prepare: isolate from the LRU, refuse
 *                                   pages with extra references
 *                                   unmap: try_to_unmap what is still mapped
 *   for each src with MIGRATE:
 *     allocate, lock, copy/clear
 *     dst = migrate_pfn(new)|LOCKED
 *   migrate_vma_pages(args) ------> commit: move page state (mapping, index)
 *                                   to the new page, or insert the new page
 *                                   in a hole; failures clear MIGRATE
 *   update the device page table
 *   migrate_vma_finalize(args) ---> migration entries become the new (or
 *                                   the old, for pages not migrated)
 *                                   mapping; references and locks dropped
 * ```
 *
 * Partial migration is normal: any page may stay where it was, and the
 * driver sees which by the MIGRATE bit left in `src`. Only private
 * anonymous memory goes to a device-private page (a page with a mapping —
 * shmem or file — is refused by `migrate_vma_pages()`, a hole in a
 * non-anonymous VMA is not collected at all).
 *
 * Reference counts follow v5.13's ZONE_DEVICE rule: a free device-private
 * page has count 1, the driver's allocation makes 2, and a mapped device
 * page stays at 2; when it drops back to 1, its pagemap's `page_free` runs.
 */
import { KernelBug, checkUnsigned, hasBits, isKernelError } from '@zonedev/kernel';
import type { MmStruct, MmSystem, Pte, Vma } from '@zonedev/mm';
import {
  MM_ANONPAGES,
  PAGE_SIZE,
  VM_WRITE,
  anonVmaPrepare,
  devicePrivateEntryToPfn,
  isAnonMapping,
  isDevicePrivateEntry,
  isWriteDevicePrivateEntry,
  isolateLruPage,
  makeDevicePrivateEntry,
  makeMigrationEntry,
  mmuNotifierInvalidateRangeEnd,
  mmuNotifierInvalidateRangeStart,
  mmuNotifierRangeInitMigrate,
  pageAddNewAnonRmap,
  pageRemoveRmap,
  pteMkdirty,
  pteMkwrite,
  pteWrite,
  putbackLruPage,
  removeMigrationPtes,
  swpEntryToPte,
  tryToUnmap,
  TTU_IGNORE_MLOCK,
  TTU_MIGRATION,
} from '@zonedev/mm';
import { PG_locked } from '@zonedev/mmzone';
import type { MigrateVma } from './migrate-pfn.js';
import {
  MIGRATE_PFN_LOCKED,
  MIGRATE_PFN_MIGRATE,
  MIGRATE_PFN_WRITE,
  MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
  MIGRATE_VMA_SELECT_SYSTEM,
  migratePfn,
  migratePfnClear,
  migratePfnHas,
  migratePfnToPage,
  migrateVmaSetupCheck,
} from './migrate-pfn.js';

/**
 * The state every step works on; what the kernel would dereference blindly
 * (a NULL vma or array after setup, arrays shorter than `npages`) is a
 * KernelBug here rather than a TypeError.
 */
function ctx(args: MigrateVma): { vma: Vma; mm: MmStruct; sys: MmSystem } {
  const vma = args.vma;
  if (!vma) throw new KernelBug('migrate_vma: no vma');
  const mm = vma.vmMm;
  if (!mm || !mm.system || !mm.pgd) throw new KernelBug('migrate_vma: the vma belongs to no address space with page tables');
  if (!Array.isArray(args.src) || !Array.isArray(args.dst) || args.src.length < args.npages || args.dst.length < args.npages) {
    throw new KernelBug('migrate_vma: src/dst do not hold npages entries');
  }
  return { vma, mm, sys: mm.system };
}

/** `trylock_page(page)` (include/linux/pagemap.h): sets PG_locked, false if it was set. @public */
export function trylockPage(sys: MmSystem, pfn: number): boolean {
  checkUnsigned('trylock_page', 'pfn', pfn);
  return !sys.core.memmap.testSetPageFlag(pfn, PG_locked);
}

/** `unlock_page(page)` (mm/filemap.c); a KernelBug if the page is not locked. @public */
export function unlockPage(sys: MmSystem, pfn: number): void {
  checkUnsigned('unlock_page', 'pfn', pfn);
  if (!sys.core.memmap.testClearPageFlag(pfn, PG_locked)) throw new KernelBug(`unlock_page: pfn 0x${pfn.toString(16)} is not locked`);
}

/** `lock_page(page)` (include/linux/pagemap.h): the model cannot sleep, so a page already locked is a KernelBug. @public */
export function lockPage(sys: MmSystem, pfn: number): void {
  checkUnsigned('lock_page', 'pfn', pfn);
  if (!trylockPage(sys, pfn)) throw new KernelBug(`lock_page: pfn 0x${pfn.toString(16)} is already locked (would sleep)`);
}

/** `PageLocked(page)`. @public */
export function pageLocked(sys: MmSystem, pfn: number): boolean {
  checkUnsigned('PageLocked', 'pfn', pfn);
  return sys.core.memmap.testPageFlag(pfn, PG_locked);
}

/** `isolate_lru_page(page)`: false when the page cannot be taken off the LRU (mm's -EBUSY). */
function isolate(sys: MmSystem, pfn: number): boolean {
  try {
    isolateLruPage(sys, pfn);
    return true;
  } catch (e) {
    if (isKernelError(e) && e.errno === 'EBUSY') return false;
    throw e;
  }
}

/** `page_mapping(page)`: the file or shmem mapping, null for anonymous pages. */
function pageMapping(sys: MmSystem, pfn: number): unknown {
  const mapping = sys.core.memmap.pageMapping(pfn);
  if (isAnonMapping(mapping)) return null;
  return mapping ?? null;
}

/**
 * `is_zone_device_page(page)` for a page these walks found mapped or
 * collected (so it has a struct page): the zone number in `page->flags`.
 */
function isZoneDevice(sys: MmSystem, pfn: number): boolean {
  const dev = sys.core.config.ZONE_DEVICE;
  return dev !== undefined && sys.core.memmap.pageZonenum(pfn) === dev;
}

/**
 * `migrate_vma_collect()` (mm/migrate.c): the walk of `[start, end)` under
 * an `MMU_NOTIFY_MIGRATE` invalidation carrying `pgmap_owner`.
 */
function collect(args: MigrateVma): void {
  const { vma, mm, sys } = ctx(args);
  const pgd = mm.pgd!;
  const src = args.src!;
  const dst = args.dst!;
  const range = mmuNotifierRangeInitMigrate(0, mm, args.start, args.end, args.pgmapOwner);
  mmuNotifierInvalidateRangeStart(range);
  try {
    const anon = vma.isAnonymous();
    for (let addr = args.start; addr < args.end; addr += PAGE_SIZE) {
      let mpfn = 0;
      const huge = pgd.getPmd(addr);
      const pte: Pte | undefined = huge === undefined ? pgd.get(addr) : undefined;
      if (huge !== undefined) {
        // A huge pmd: v5.13 splits it first; the model cannot split, which the kernel treats as "skip".
        mpfn = 0;
      } else if (pte === undefined) {
        if (anon) {
          mpfn = MIGRATE_PFN_MIGRATE;
          args.cpages++;
        }
      } else if (pte.kind === 'swap') {
        const entry = pte.entry;
        if (isDevicePrivateEntry(entry)) {
          const pfn = devicePrivateEntryToPfn(entry);
          if (hasBits(args.flags, MIGRATE_VMA_SELECT_DEVICE_PRIVATE) && sys.pagePgmap(pfn)?.owner === args.pgmapOwner) {
            mpfn = migratePfn(pfn) + MIGRATE_PFN_MIGRATE + (isWriteDevicePrivateEntry(entry) ? MIGRATE_PFN_WRITE : 0);
            mpfn = collectPage(args, sys, pgd, addr, pfn, mpfn);
          }
        }
      } else if (hasBits(args.flags, MIGRATE_VMA_SELECT_SYSTEM)) {
        if (sys.isZeroPfn(pte.pfn)) {
          mpfn = MIGRATE_PFN_MIGRATE;
          args.cpages++;
        } else {
          const page = sys.vmNormalPage(vma, pte);
          if (page !== undefined) {
            mpfn = migratePfn(pte.pfn) + MIGRATE_PFN_MIGRATE + (pteWrite(pte) ? MIGRATE_PFN_WRITE : 0);
            mpfn = collectPage(args, sys, pgd, addr, page, mpfn);
          }
        }
      }
      dst[args.npages] = 0;
      src[args.npages++] = mpfn;
    }
  } finally {
    mmuNotifierInvalidateRangeEnd(range);
  }
  args.end = args.start + args.npages * PAGE_SIZE;
}

/** The per-page part of `migrate_vma_collect_pmd()`: reference, lock, migration entry. */
function collectPage(args: MigrateVma, sys: MmSystem, pgd: NonNullable<MmStruct['pgd']>, addr: number, page: number, mpfnIn: number): number {
  // !page->mapping (never mapped anonymously) is skipped.
  if (sys.core.memmap.pageMapping(page) === undefined || sys.core.memmap.pageMapping(page) === null) return 0;
  let mpfn = mpfnIn;
  sys.getPage(page);
  args.cpages++;
  if (trylockPage(sys, page)) {
    mpfn += MIGRATE_PFN_LOCKED;
    pgd.clear(addr);
    pgd.set(addr, swpEntryToPte(makeMigrationEntry(page, migratePfnHas(mpfn, MIGRATE_PFN_WRITE))));
    pageRemoveRmap(sys.core.memmap, page);
    sys.putPage(page);
  }
  return mpfn;
}

/**
 * `migrate_vma_check_page(page)` (mm/migrate.c): a compound page is refused;
 * a ZONE_DEVICE page is migratable iff device-private; otherwise the page
 * must have no references beyond its mappings, the caller's one and (for a
 * file page) the page cache's.
 */
function checkPage(sys: MmSystem, page: number): boolean {
  if (isZoneDevice(sys, page)) return sys.isDevicePrivatePage(page);
  let extra = 1;
  if (pageMapping(sys, page) !== null) extra += 1;
  return sys.pageCount(page) - extra <= sys.pageMapcount(page);
}

/** `migrate_vma_prepare()` (mm/migrate.c). */
function prepare(args: MigrateVma): void {
  const { vma, sys } = ctx(args);
  const src = args.src!;
  let restore = 0;
  for (let i = 0; i < args.npages && args.cpages; i++) {
    const page = migratePfnToPage(src[i]!);
    if (page === undefined) continue;
    let remap = true;
    if (!migratePfnHas(src[i]!, MIGRATE_PFN_LOCKED)) {
      if (!trylockPage(sys, page)) {
        src[i] = 0;
        args.cpages--;
        sys.putPage(page);
        continue;
      }
      remap = false;
      src[i] = src[i]! + MIGRATE_PFN_LOCKED;
    }
    if (!isZoneDevice(sys, page)) {
      if (!isolate(sys, page)) {
        if (remap) {
          src[i] = migratePfnClear(src[i]!, MIGRATE_PFN_MIGRATE);
          args.cpages--;
          restore++;
        } else {
          src[i] = 0;
          unlockPage(sys, page);
          args.cpages--;
          sys.putPage(page);
        }
        continue;
      }
      // drop the reference taken by collect
      sys.putPage(page);
    }
    if (!checkPage(sys, page)) {
      if (remap) {
        src[i] = migratePfnClear(src[i]!, MIGRATE_PFN_MIGRATE);
        args.cpages--;
        restore++;
        if (!isZoneDevice(sys, page)) {
          sys.getPage(page);
          putbackLruPage(sys, page);
        }
      } else {
        src[i] = 0;
        unlockPage(sys, page);
        args.cpages--;
        if (!isZoneDevice(sys, page)) putbackLruPage(sys, page);
        else sys.putPage(page);
      }
    }
  }
  for (let i = 0, addr = args.start; i < args.npages && restore; i++, addr += PAGE_SIZE) {
    const page = migratePfnToPage(src[i]!);
    if (page === undefined || migratePfnHas(src[i]!, MIGRATE_PFN_MIGRATE)) continue;
    removeMigrationPtes(sys, page, page);
    void vma;
    void addr;
    src[i] = 0;
    unlockPage(sys, page);
    sys.putPage(page);
    restore--;
  }
}

/** `migrate_vma_unmap()` (mm/migrate.c): pages still mapped elsewhere get migration entries too. */
function unmap(args: MigrateVma): void {
  const { vma, sys } = ctx(args);
  const src = args.src!;
  let restore = 0;
  for (let i = 0; i < args.npages; i++) {
    const page = migratePfnToPage(src[i]!);
    if (page === undefined || !migratePfnHas(src[i]!, MIGRATE_PFN_MIGRATE)) continue;
    if (sys.pageMapcount(page) > 0) tryToUnmap(sys, page, TTU_MIGRATION + TTU_IGNORE_MLOCK);
    if (sys.pageMapcount(page) === 0 && checkPage(sys, page)) continue;
    src[i] = migratePfnClear(src[i]!, MIGRATE_PFN_MIGRATE);
    args.cpages--;
    restore++;
  }
  for (let addr = args.start, i = 0; i < args.npages && restore; addr += PAGE_SIZE, i++) {
    const page = migratePfnToPage(src[i]!);
    if (page === undefined || migratePfnHas(src[i]!, MIGRATE_PFN_MIGRATE)) continue;
    removeMigrationPtes(sys, page, page);
    void vma;
    void addr;
    src[i] = 0;
    unlockPage(sys, page);
    restore--;
    if (isZoneDevice(sys, page)) sys.putPage(page);
    else putbackLruPage(sys, page);
  }
}

/**
 * `migrate_vma_setup(args)` (mm/migrate.c, v5.13): checks the arguments
 * ({@link migrateVmaSetupCheck}: -EINVAL and nothing else), zeroes `src`,
 * sets `cpages` and `npages` to 0, then collects the range (holes are
 * collected whatever `flags` say; present pages need
 * `MIGRATE_VMA_SELECT_SYSTEM`; device-private pages need
 * `MIGRATE_VMA_SELECT_DEVICE_PRIVATE` and `pgmap_owner` as their owner),
 * and if anything was collected prepares and unmaps it. Returns normally
 * even when nothing was collected.
 * @public
 */
export function migrateVmaSetup(args: MigrateVma): void {
  const nrPages = migrateVmaSetupCheck(args);
  const mm = args.vma!.vmMm;
  if (!mm || !mm.system || !mm.pgd) throw new KernelBug('migrate_vma_setup: the vma belongs to no address space with page tables');
  args.src!.fill(0, 0, nrPages);
  args.cpages = 0;
  args.npages = 0;
  collect(args);
  if (args.cpages) prepare(args);
  if (args.cpages) unmap(args);
}

/**
 * `migrate_vma_insert_page()` (mm/migrate.c): a new page for a hole or the
 * zero page of a private anonymous VMA. On success `src` becomes exactly
 * `MIGRATE_PFN_MIGRATE`; otherwise MIGRATE is cleared.
 */
function insertPage(args: MigrateVma, sys: MmSystem, addr: number, page: number, i: number): void {
  const vma = args.vma!;
  const mm = vma.vmMm!;
  const pgd = mm.pgd!;
  const src = args.src!;
  const abort = (): void => {
    src[i] = migratePfnClear(src[i]!, MIGRATE_PFN_MIGRATE);
  };
  if (!vma.isAnonymous()) return abort();
  if (pgd.getPmd(addr) !== undefined) return abort();
  anonVmaPrepare(vma);
  let entry: Pte;
  if (isZoneDevice(sys, page)) {
    if (!sys.isDevicePrivatePage(page)) return abort();
    entry = swpEntryToPte(makeDevicePrivateEntry(page, hasBits(vma.vmFlags, VM_WRITE)));
  } else {
    let p = sys.mkPte(page, vma);
    if (hasBits(vma.vmFlags, VM_WRITE)) p = pteMkwrite(pteMkdirty(p));
    entry = p;
  }
  const cur = pgd.get(addr);
  if (cur !== undefined && !(cur.kind === 'present' && sys.isZeroPfn(cur.pfn))) return abort();
  mm.addRss(MM_ANONPAGES, 1);
  pageAddNewAnonRmap(sys.core.memmap, page, vma, addr, PAGE_SIZE);
  sys.getPage(page);
  if (cur !== undefined) pgd.clear(addr);
  pgd.set(addr, entry);
  src[i] = MIGRATE_PFN_MIGRATE;
}

/**
 * `migrate_page(mapping, newpage, page, MIGRATE_SYNC_NO_COPY)` for an
 * anonymous page (mm/migrate.c): the reference count must be exactly the
 * expected one (1, plus 1 for a device-private page), else -EAGAIN; then
 * `index`, `mapping` and `PG_swapbacked` move to the new page (the driver
 * copied the data).
 */
function migratePage(sys: MmSystem, newpage: number, page: number): boolean {
  const expected = 1 + (sys.isDevicePrivatePage(page) ? 1 : 0);
  if (sys.pageCount(page) !== expected) return false;
  const store = sys.core.memmap;
  store.setPageIndex(newpage, store.pageIndex(page));
  store.setPageMapping(newpage, store.pageMapping(page));
  if (store.testPageFlag(page, 19 /* PG_swapbacked */)) store.setPageFlag(newpage, 19);
  return true;
}

/**
 * `migrate_vma_pages(args)` (mm/migrate.c, v5.13): the commit. For each
 * entry: no destination clears MIGRATE; a hole or zero page gets the new
 * page inserted (under one `MMU_NOTIFY_MIGRATE` invalidation from the first
 * such address); a page with a mapping going to a device-private page, or
 * any other ZONE_DEVICE destination, clears MIGRATE; otherwise the page
 * state moves (`migrate_page`), and a page with unexpected references
 * clears MIGRATE.
 * @public
 */
export function migrateVmaPages(args: MigrateVma): void {
  const { mm, sys } = ctx(args);
  const src = args.src!;
  const dst = args.dst!;
  let range: ReturnType<typeof mmuNotifierRangeInitMigrate> | undefined;
  try {
    for (let i = 0, addr = args.start; i < args.npages; addr += PAGE_SIZE, i++) {
      const newpage = migratePfnToPage(dst[i]!);
      const page = migratePfnToPage(src[i]!);
      if (newpage === undefined) {
        src[i] = migratePfnClear(src[i]!, MIGRATE_PFN_MIGRATE);
        continue;
      }
      if (page === undefined) {
        if (!migratePfnHas(src[i]!, MIGRATE_PFN_MIGRATE)) continue;
        if (range === undefined) {
          range = mmuNotifierRangeInitMigrate(0, mm, addr, args.end, args.pgmapOwner);
          mmuNotifierInvalidateRangeStart(range);
        }
        insertPage(args, sys, addr, newpage, i);
        continue;
      }
      const mapping = pageMapping(sys, page);
      if (sys.isZoneDevicePage(newpage)) {
        if (!sys.isDevicePrivatePage(newpage) || mapping !== null) {
          src[i] = migratePfnClear(src[i]!, MIGRATE_PFN_MIGRATE);
          continue;
        }
      }
      if (!migratePage(sys, newpage, page)) src[i] = migratePfnClear(src[i]!, MIGRATE_PFN_MIGRATE);
    }
  } finally {
    if (range !== undefined) mmuNotifierInvalidateRangeEnd(range);
  }
}

/**
 * `migrate_vma_finalize(args)` (mm/migrate.c, v5.13): for each collected
 * page, the migration entries become mappings of the new page (or of the
 * old one, when it was not migrated), and the locks and the references the
 * migration and the driver held are dropped: the old page goes back to the
 * buddy allocator (or, a device page, to its driver through `page_free`).
 * @public
 */
export function migrateVmaFinalize(args: MigrateVma): void {
  const { sys } = ctx(args);
  const src = args.src!;
  const dst = args.dst!;
  for (let i = 0; i < args.npages; i++) {
    let newpage = migratePfnToPage(dst[i]!);
    const page = migratePfnToPage(src[i]!);
    if (page === undefined) {
      if (newpage !== undefined) {
        unlockPage(sys, newpage);
        sys.putPage(newpage);
      }
      continue;
    }
    if (!migratePfnHas(src[i]!, MIGRATE_PFN_MIGRATE) || newpage === undefined) {
      if (newpage !== undefined) {
        unlockPage(sys, newpage);
        sys.putPage(newpage);
      }
      newpage = page;
    }
    removeMigrationPtes(sys, page, newpage);
    unlockPage(sys, page);
    if (isZoneDevice(sys, page)) sys.putPage(page);
    else putbackLruPage(sys, page);
    if (newpage !== page) {
      unlockPage(sys, newpage);
      if (sys.isZoneDevicePage(newpage)) sys.putPage(newpage);
      else putbackLruPage(sys, newpage);
    }
  }
}
