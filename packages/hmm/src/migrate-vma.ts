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
import { KernelBug, KernelError, checkUnsigned, hasBits, isKernelError } from '@zonedev/kernel';
import type { MmStruct, PageTable, Pte, Vma } from '@zonedev/mm';
import {
  MmSystem,
  MM_ANONPAGES,
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
  MIGRATE_PFN_SHIFT,
  MIGRATE_PFN_VALID,
  migrateVmaMm,
  migrateVmaSetupCheck,
  mpfnClear,
  mpfnHas,
} from './migrate-pfn.js';

/** What each step works on, resolved once per call. */
interface Ctx {
  readonly args: MigrateVma;
  readonly vma: Vma;
  readonly mm: MmStruct;
  readonly sys: MmSystem;
  readonly pgd: PageTable;
  /** `PAGE_SIZE` of the address space. */
  readonly ps: number;
  readonly src: number[];
  readonly dst: number[];
}

function context(fn: string, args: MigrateVma): Ctx {
  const { vma, mm, sys, ps } = migrateVmaMm(fn, args);
  return { args, vma, mm, sys, pgd: mm.pgd!, ps, src: args.src!, dst: args.dst! };
}

/** `1 << MIGRATE_PFN_SHIFT`: an entry's pfn is `mpfn / PFN_UNIT`. */
const PFN_UNIT = 2 ** MIGRATE_PFN_SHIFT;

/** Whether `x` can be a `src`/`dst` entry: an unsigned integer below 2^53. */
function isMpfn(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

/** The page an entry with `MIGRATE_PFN_VALID` names must have a struct page (-EINVAL) and be locked (a KernelBug, as `unlock_page()`'s `VM_BUG_ON_PAGE`). */
function checkEntryPage(fn: string, store: MmSystem['core']['memmap'], side: string, i: number, page: number): void {
  if (!store.hasMemmap(page)) throw new KernelError('EINVAL', `${fn}: ${side}[${i}] names pfn 0x${page.toString(16)}, which has no struct page`);
  if (!store.testPageFlag(page, PG_locked)) throw new KernelBug(`${fn}: ${side}[${i}] page pfn 0x${page.toString(16)} is not locked`);
}

/** The number fields of `struct migrate_vma` that {@link checkArgs} checks. */
const ARG_NUMBERS = ['start', 'end', 'npages', 'cpages', 'flags'] as const;

/**
 * The checks `migrate_vma_pages()` and `migrate_vma_finalize()` make before
 * anything changes. v5.13 trusts the driver; what it would dereference
 * blindly is refused here. -EINVAL: `args` not an object, no VMA or one no
 * longer mapped, numbers that are not unsigned integers, `src`/`dst` not
 * arrays or shorter than `npages`, `[start, end)` not the `npages` pages
 * inside the VMA that setup left, an entry naming a pfn without a struct
 * page, the same destination page twice. A KernelBug (v5.13's
 * `VM_BUG_ON_PAGE(!PageLocked(page))` in `unlock_page()`) for a source or
 * destination page that is not locked — which is also what a second
 * `migrate_vma_finalize()` of the same arguments finds.
 */
function checkArgs(fn: string, args: MigrateVma): Ctx {
  if (typeof args !== 'object' || args === null) throw new KernelError('EINVAL', `${fn}: no args`);
  for (const k of ARG_NUMBERS) checkUnsigned(fn, k, args[k]);
  const c = context(fn, args);
  const { vma, sys, ps, src, dst } = c;
  if (!Array.isArray(src) || !Array.isArray(dst)) throw new KernelError('EINVAL', `${fn}: no src or dst array`);
  const n = args.npages;
  if (src.length < n || dst.length < n) throw new KernelError('EINVAL', `${fn}: src/dst hold fewer than ${n} entries`);
  if (n > 0 && (args.start % ps !== 0 || args.end !== args.start + n * ps || args.start < vma.vmStart || args.end > vma.vmEnd)) {
    throw new KernelError('EINVAL', `${fn}: [0x${args.start.toString(16)}, 0x${args.end.toString(16)}) is not the ${n} pages setup collected in the vma`);
  }
  for (let i = 0; i < n; i++) {
    if (!isMpfn(src[i])) checkUnsigned(fn, `src[${i}]`, src[i]);
    if (!isMpfn(dst[i])) checkUnsigned(fn, `dst[${i}]`, dst[i]);
  }
  const store = sys.core.memmap;
  // the destination pages seen so far: the first one alone, a set from the second on
  let firstDst = -1;
  let seen: Set<number> | undefined;
  for (let i = 0; i < n; i++) {
    const s = src[i]!;
    if (s % 2 === 1) checkEntryPage(fn, store, 'src', i, Math.floor(s / PFN_UNIT));
    const d = dst[i]!;
    if (d % 2 === 1) {
      const page = Math.floor(d / PFN_UNIT);
      checkEntryPage(fn, store, 'dst', i, page);
      if (firstDst < 0) firstDst = page;
      else {
        seen ??= new Set<number>([firstDst]);
        if (seen.has(page)) throw new KernelError('EINVAL', `${fn}: dst[${i}] names pfn 0x${page.toString(16)} twice`);
        seen.add(page);
      }
    }
  }
  return c;
}

/** A page the lock helpers may touch: an unsigned pfn with a struct page (-EINVAL otherwise). */
function checkPage(fn: string, sys: MmSystem, pfn: number): void {
  if (!(sys instanceof MmSystem)) throw new KernelError('EINVAL', `${fn}: not an mm system: ${String(sys)}`);
  checkUnsigned(fn, 'pfn', pfn);
  if (!sys.pfnValid(pfn)) throw new KernelError('EINVAL', `${fn}: pfn 0x${pfn.toString(16)} has no struct page`);
}

/**
 * `trylock_page(page)` (include/linux/pagemap.h): sets PG_locked, false if
 * it was set. -EINVAL for a pfn without a struct page.
 * @public
 */
export function trylockPage(sys: MmSystem, pfn: number): boolean {
  checkPage('trylock_page', sys, pfn);
  return !sys.core.memmap.testSetPageFlag(pfn, PG_locked);
}

/**
 * `unlock_page(page)` (mm/filemap.c); a KernelBug if the page is not
 * locked (v5.13's `VM_BUG_ON_PAGE`), -EINVAL for a pfn without a struct page.
 * @public
 */
export function unlockPage(sys: MmSystem, pfn: number): void {
  checkPage('unlock_page', sys, pfn);
  if (!sys.core.memmap.testClearPageFlag(pfn, PG_locked)) throw new KernelBug(`unlock_page: pfn 0x${pfn.toString(16)} is not locked`);
}

/**
 * `lock_page(page)` (include/linux/pagemap.h): the model cannot sleep, so a
 * page already locked is a KernelBug; -EINVAL for a pfn without a struct page.
 * @public
 */
export function lockPage(sys: MmSystem, pfn: number): void {
  checkPage('lock_page', sys, pfn);
  if (sys.core.memmap.testSetPageFlag(pfn, PG_locked)) throw new KernelBug(`lock_page: pfn 0x${pfn.toString(16)} is already locked (would sleep)`);
}

/** `PageLocked(page)`; -EINVAL for a pfn without a struct page. @public */
export function pageLocked(sys: MmSystem, pfn: number): boolean {
  checkPage('PageLocked', sys, pfn);
  return sys.core.memmap.testPageFlag(pfn, PG_locked);
}

/** `unlock_page(page)` inside the migration, for a page whose entry was checked: a KernelBug if it is not locked. */
function unlock(sys: MmSystem, page: number): void {
  if (!sys.core.memmap.testClearPageFlag(page, PG_locked)) throw new KernelBug(`unlock_page: pfn 0x${page.toString(16)} is not locked`);
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
function collect(c: Ctx): void {
  const { args, vma, mm, sys, pgd, ps, src, dst } = c;
  const range = mmuNotifierRangeInitMigrate(0, mm, args.start, args.end, args.pgmapOwner);
  mmuNotifierInvalidateRangeStart(range);
  try {
    const anon = vma.isAnonymous();
    const pmdSize = pgd.geometry.pmdSize;
    const system = hasBits(args.flags, MIGRATE_VMA_SELECT_SYSTEM);
    const devicePrivate = hasBits(args.flags, MIGRATE_VMA_SELECT_DEVICE_PRIVATE);
    // migrate_vma_collect_pmd() per PMD: a huge PMD, or the PTE table read entry by entry (pte_offset_map_lock)
    for (let addr = args.start; addr < args.end; ) {
      const pmdEnd = Math.min(args.end, addr - (addr % pmdSize) + pmdSize);
      const huge = pgd.getPmd(addr);
      const table = huge === undefined ? pgd.pteTable(addr) : undefined;
      const first = (addr % pmdSize) / ps;
      for (let k = first; addr < pmdEnd; addr += ps, k++) {
        let mpfn = 0;
        const pte: Pte | undefined = table?.[k];
        if (huge !== undefined) {
          // A huge pmd. The model's only ones are drivers' devmap leaves (anonymous memory is
          // faulted in 4K pages: there is no transparent huge page to split_huge_page()); for
          // those pmd_trans_huge() is false and pmd_bad() true, so v5.13 skips the range.
          mpfn = 0;
        } else if (pte === undefined) {
          if (anon) {
            mpfn = MIGRATE_PFN_MIGRATE;
            args.cpages++;
          }
        } else if (pte.kind === 'swap') {
          const entry = pte.entry;
          if (devicePrivate && isDevicePrivateEntry(entry)) {
            const pfn = devicePrivateEntryToPfn(entry);
            if (sys.pagePgmap(pfn)?.owner === args.pgmapOwner) {
              mpfn = pfn * PFN_UNIT + MIGRATE_PFN_VALID + MIGRATE_PFN_MIGRATE + (isWriteDevicePrivateEntry(entry) ? MIGRATE_PFN_WRITE : 0);
              mpfn = collectPage(args, sys, pgd, addr, pfn, mpfn);
            }
          }
        } else if (system) {
          if (sys.isZeroPfn(pte.pfn)) {
            mpfn = MIGRATE_PFN_MIGRATE;
            args.cpages++;
          } else {
            const page = sys.vmNormalPage(vma, pte);
            if (page !== undefined) {
              mpfn = page * PFN_UNIT + MIGRATE_PFN_VALID + MIGRATE_PFN_MIGRATE + (pteWrite(pte) ? MIGRATE_PFN_WRITE : 0);
              mpfn = collectPage(args, sys, pgd, addr, page, mpfn);
            }
          }
        }
        dst[args.npages] = 0;
        src[args.npages++] = mpfn;
      }
    }
  } finally {
    mmuNotifierInvalidateRangeEnd(range);
  }
  args.end = args.start + args.npages * ps;
}

/** `migrate_pfn_to_page()` of an entry already checked: the pfn, or undefined without `MIGRATE_PFN_VALID`. */
function entryPage(mpfn: number): number | undefined {
  return mpfn % 2 === 1 ? Math.floor(mpfn / PFN_UNIT) : undefined;
}

/** The per-page part of `migrate_vma_collect_pmd()`: reference, lock, migration entry. */
function collectPage(args: MigrateVma, sys: MmSystem, pgd: PageTable, addr: number, page: number, mpfnIn: number): number {
  const store = sys.core.memmap;
  // !page->mapping (never mapped anonymously) is skipped.
  const mapping = store.pageMapping(page);
  if (mapping === undefined || mapping === null) return 0;
  let mpfn = mpfnIn;
  store.getPage(page);
  args.cpages++;
  // trylock_page()
  if (!store.testSetPageFlag(page, PG_locked)) {
    mpfn += MIGRATE_PFN_LOCKED;
    pgd.clear(addr);
    pgd.set(addr, swpEntryToPte(makeMigrationEntry(page, mpfnHas(mpfn, MIGRATE_PFN_WRITE))));
    pageRemoveRmap(sys.core, page);
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
function migrateCheckPage(sys: MmSystem, page: number): boolean {
  if (isZoneDevice(sys, page)) return sys.isDevicePrivatePage(page);
  let extra = 1;
  if (pageMapping(sys, page) !== null) extra += 1;
  return sys.pageCount(page) - extra <= sys.pageMapcount(page);
}

/** `migrate_vma_prepare()` (mm/migrate.c). */
function prepare(c: Ctx): void {
  const { args, sys, src } = c;
  let restore = 0;
  for (let i = 0; i < args.npages && args.cpages; i++) {
    const page = entryPage(src[i]!);
    if (page === undefined) continue;
    let remap = true;
    if (!mpfnHas(src[i]!, MIGRATE_PFN_LOCKED)) {
      if (sys.core.memmap.testSetPageFlag(page, PG_locked)) {
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
          src[i] = mpfnClear(src[i]!, MIGRATE_PFN_MIGRATE);
          args.cpages--;
          restore++;
        } else {
          src[i] = 0;
          unlock(sys, page);
          args.cpages--;
          sys.putPage(page);
        }
        continue;
      }
      // drop the reference taken by collect
      sys.putPage(page);
    }
    if (!migrateCheckPage(sys, page)) {
      if (remap) {
        src[i] = mpfnClear(src[i]!, MIGRATE_PFN_MIGRATE);
        args.cpages--;
        restore++;
        if (!isZoneDevice(sys, page)) {
          sys.getPage(page);
          putbackLruPage(sys, page);
        }
      } else {
        src[i] = 0;
        unlock(sys, page);
        args.cpages--;
        if (!isZoneDevice(sys, page)) putbackLruPage(sys, page);
        else sys.putPage(page);
      }
    }
  }
  for (let i = 0; i < args.npages && restore; i++) {
    const page = entryPage(src[i]!);
    if (page === undefined || mpfnHas(src[i]!, MIGRATE_PFN_MIGRATE)) continue;
    removeMigrationPtes(sys, page, page);
    src[i] = 0;
    unlock(sys, page);
    sys.putPage(page);
    restore--;
  }
}

/** `migrate_vma_unmap()` (mm/migrate.c): pages still mapped elsewhere get migration entries too. */
function unmap(c: Ctx): void {
  const { args, sys, src } = c;
  let restore = 0;
  for (let i = 0; i < args.npages; i++) {
    const page = entryPage(src[i]!);
    if (page === undefined || !mpfnHas(src[i]!, MIGRATE_PFN_MIGRATE)) continue;
    if (sys.pageMapcount(page) > 0) tryToUnmap(sys, page, TTU_MIGRATION + TTU_IGNORE_MLOCK);
    if (sys.pageMapcount(page) === 0 && migrateCheckPage(sys, page)) continue;
    src[i] = mpfnClear(src[i]!, MIGRATE_PFN_MIGRATE);
    args.cpages--;
    restore++;
  }
  for (let i = 0; i < args.npages && restore; i++) {
    const page = entryPage(src[i]!);
    if (page === undefined || mpfnHas(src[i]!, MIGRATE_PFN_MIGRATE)) continue;
    removeMigrationPtes(sys, page, page);
    src[i] = 0;
    unlock(sys, page);
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
  const c = context('migrate_vma_setup', args);
  c.src.fill(0, 0, nrPages);
  args.cpages = 0;
  args.npages = 0;
  collect(c);
  if (args.cpages) prepare(c);
  if (args.cpages) unmap(c);
}

/**
 * `migrate_vma_insert_page()` (mm/migrate.c): a new page for a hole or the
 * zero page of a private anonymous VMA. On success `src` becomes exactly
 * `MIGRATE_PFN_MIGRATE`; otherwise MIGRATE is cleared.
 */
function insertPage(c: Ctx, addr: number, page: number, i: number): void {
  const { vma, mm, sys, pgd, ps, src } = c;
  const abort = (): void => {
    src[i] = mpfnClear(src[i]!, MIGRATE_PFN_MIGRATE);
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
  pageAddNewAnonRmap(sys.core, page, vma, addr, ps);
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
  const expected = 1 + (isZoneDevice(sys, page) && sys.isDevicePrivatePage(page) ? 1 : 0);
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
  const c = checkArgs('migrate_vma_pages', args);
  const { mm, sys, ps, src, dst } = c;
  let range: ReturnType<typeof mmuNotifierRangeInitMigrate> | undefined;
  try {
    for (let i = 0, addr = args.start; i < args.npages; addr += ps, i++) {
      const newpage = entryPage(dst[i]!);
      const page = entryPage(src[i]!);
      if (newpage === undefined) {
        src[i] = mpfnClear(src[i]!, MIGRATE_PFN_MIGRATE);
        continue;
      }
      if (page === undefined) {
        if (!mpfnHas(src[i]!, MIGRATE_PFN_MIGRATE)) continue;
        if (range === undefined) {
          range = mmuNotifierRangeInitMigrate(0, mm, addr, args.end, args.pgmapOwner);
          mmuNotifierInvalidateRangeStart(range);
        }
        insertPage(c, addr, newpage, i);
        continue;
      }
      const mapping = pageMapping(sys, page);
      if (isZoneDevice(sys, newpage)) {
        if (!sys.isDevicePrivatePage(newpage) || mapping !== null) {
          src[i] = mpfnClear(src[i]!, MIGRATE_PFN_MIGRATE);
          continue;
        }
      }
      if (!migratePage(sys, newpage, page)) src[i] = mpfnClear(src[i]!, MIGRATE_PFN_MIGRATE);
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
  const { sys, src, dst } = checkArgs('migrate_vma_finalize', args);
  for (let i = 0; i < args.npages; i++) {
    let newpage = entryPage(dst[i]!);
    const page = entryPage(src[i]!);
    if (page === undefined) {
      if (newpage !== undefined) {
        unlock(sys, newpage);
        sys.putPage(newpage);
      }
      continue;
    }
    if (!mpfnHas(src[i]!, MIGRATE_PFN_MIGRATE) || newpage === undefined) {
      if (newpage !== undefined) {
        unlock(sys, newpage);
        sys.putPage(newpage);
      }
      newpage = page;
    }
    removeMigrationPtes(sys, page, newpage);
    unlock(sys, page);
    if (isZoneDevice(sys, page)) sys.putPage(page);
    else putbackLruPage(sys, page);
    if (newpage !== page) {
      unlock(sys, newpage);
      if (isZoneDevice(sys, newpage)) sys.putPage(newpage);
      else putbackLruPage(sys, newpage);
    }
  }
}
