/**
 * Page migration, after mm/migrate.c and the unmap side of mm/rmap.c (Linux
 * v5.13).
 *
 * Moving a page that processes map takes three steps. `try_to_unmap()` with
 * `TTU_MIGRATION` walks the page's rmap and replaces each PTE with a
 * *migration entry* (a swap entry naming the old pfn, write or read as the
 * PTE was): a process touching the page now waits instead of using it.
 * `migrate_page()` then checks the references: an anonymous page must have
 * exactly the one reference of its isolation (`expected_count`); any more —
 * a GUP pin, a `get_page()` elsewhere — and the move fails with -EAGAIN. On
 * success the contents and `mapping`/`index` move to the new page. Last,
 * `remove_migration_ptes()` walks the rmap again and turns every migration
 * entry into a PTE for the new page (or, after a failure, back to the old
 * one). `migrate_pages()` retries -EAGAIN up to ten passes.
 */
import { ERRNO, KernelError, checkUnsigned, clearBits, hasBits, orBits } from '@zonedev/kernel';
import { PG_dirty, PG_locked, PG_lru, PG_referenced } from '@zonedev/mmzone';
import { MMU_NOTIFY_CLEAR, mmuNotifierInvalidateRangeEnd, mmuNotifierInvalidateRangeStart, mmuNotifierRangeInit } from './mmu-notifier.js';
import type { MmSystem } from './memory.js';
import { _PAGE_ACCESSED, _PAGE_RW, pfnPte, pteDirty, pteWrite, swpEntryToPte, vmGetPageProt } from './pgtable.js';
import { isAnonMapping, pageAddAnonRmap, pageAddFileRmap, pageRemoveRmap, rmapWalkAnonWith } from './rmap.js';
import {
  devicePrivateEntryToPfn, isDevicePrivateEntry, isMigrationEntry, isWriteDevicePrivateEntry, isWriteMigrationEntry,
  makeDevicePrivateEntry, makeHwpoisonEntry, makeMigrationEntry, migrationEntryToPfn,
} from './swapops.js';
import { VM_WRITE } from './vma.js';
import type { Vma } from './vma.js';
import { checkFn, checkSys } from './args.js';

/** `TTU_MIGRATION` (include/linux/rmap.h): install migration entries. @public */ export const TTU_MIGRATION = 0x1;
/** `TTU_IGNORE_MLOCK`. @public */ export const TTU_IGNORE_MLOCK = 0x8;
/** `TTU_IGNORE_HWPOISON`: unmap a hwpoisoned page without installing hwpoison entries. @public */ export const TTU_IGNORE_HWPOISON = 0x20;

/** `MIGRATE_ASYNC` (include/linux/migrate_mode.h). @public */ export const MIGRATE_ASYNC = 0;
/** `MIGRATE_SYNC_LIGHT`. @public */ export const MIGRATE_SYNC_LIGHT = 1;
/** `MIGRATE_SYNC`. @public */ export const MIGRATE_SYNC = 2;
/** `MIGRATE_SYNC_NO_COPY`. @public */ export const MIGRATE_SYNC_NO_COPY = 3;

/** `MR_MEMORY_FAILURE` (`enum migrate_reason`, include/linux/migrate.h): soft offlining; the old page keeps its isolation reference. @public */ export const MR_MEMORY_FAILURE = 1;
/** `MR_MEMORY_HOTPLUG`. @public */ export const MR_MEMORY_HOTPLUG = 2;
/** `MR_SYSCALL`. @public */ export const MR_SYSCALL = 3;
/** `MR_DEMOTION`... `MR_COMPACTION`: 0. @public */ export const MR_COMPACTION = 0;

/** The last `enum migrate_reason` of v5.13 (`MR_LONGTERM_PIN`, 7). */
const MR_LONGTERM_PIN_REASON = 7;

/** `MIGRATEPAGE_SUCCESS`. @public */ export const MIGRATEPAGE_SUCCESS = 0;

/** How many passes migrate_pages() makes over pages that fail with -EAGAIN. */
const MIGRATE_PASSES = 10;

/**
 * `try_to_unmap(page, flags)` (mm/rmap.c, `try_to_unmap_one`): removes
 * every PTE mapping the anonymous page `pfn` (a present PTE, or the
 * device-private entry of a device-private page), each under an
 * `MMU_NOTIFY_CLEAR` notification: with `TTU_MIGRATION` a migration entry
 * (write if the PTE was writable) takes its place. Each PTE removed drops
 * the page's rmap and one reference. A page with `PG_hwpoison` gets a
 * hwpoison entry instead (whatever the other flags) unless
 * `TTU_IGNORE_HWPOISON`: a later access by the process is
 * `VM_FAULT_HWPOISON`. Returns whether the page is no longer mapped
 * (`!page_mapcount`).
 * @public
 */
export function tryToUnmap(sys: MmSystem, pfn: number, flags: number): boolean {
  checkSys('try_to_unmap', sys);
  checkUnsigned('try_to_unmap', 'flags', flags);
  checkUnsigned('try_to_unmap', 'pfn', pfn);
  const tracer = sys.core.kernel.tracer;
  if (tracer.enabled) return tracer.invoke('try_to_unmap', null, tryToUnmapImpl, sys, pfn, flags);
  return tryToUnmapImpl(sys, pfn, flags);
}

function tryToUnmapImpl(sys: MmSystem, pfn: number, flags: number): boolean {
  const store = sys.core.memmap;
  const hw = sys.core.config.pageflags.PG_hwpoison;
  const hwpoison = hw !== undefined && !hasBits(flags, TTU_IGNORE_HWPOISON) && store.testPageFlag(pfn, hw);
  rmapWalk(sys, pfn, store.pageMapping(pfn), { sys, pfn, migration: hasBits(flags, TTU_MIGRATION), hwpoison }, tryToUnmapOne);
  return store.pageMapcount(pfn) === 0;
}

/**
 * `rmap_walk(page, rwc)` (mm/rmap.c) of the page `pfn` whose
 * `page->mapping` is `mapping`: the anon_vma chain of an anonymous page
 * (`rmap_walk_anon`), or the `i_mmap` of a shmem page's file
 * (`rmap_walk_file`).
 */
function rmapWalk<C>(sys: MmSystem, pfn: number, mapping: unknown, arg: C, fn: (arg: C, vma: Vma, address: number) => void): void {
  if (isAnonMapping(mapping)) rmapWalkAnonWith(mapping, sys.core.memmap.pageIndex(pfn), sys.pageSize, arg, fn);
  else sys.rmapWalkFile(pfn, arg, fn);
}

/** What {@link tryToUnmapOne} needs besides the VMA and address (one object per page, no closure). */
interface UnmapWalk {
  readonly sys: MmSystem;
  readonly pfn: number;
  readonly migration: boolean;
  readonly hwpoison: boolean;
}

/**
 * `try_to_unmap_one()` (mm/rmap.c) for one VMA of the page's rmap: the PTE
 * at `addr` if it maps the page (present, or the page's device-private
 * entry) becomes a migration entry or none, under an `MMU_NOTIFY_CLEAR`
 * notification when the mm has subscribers.
 */
function tryToUnmapOne(w: UnmapWalk, vma: Vma, addr: number): void {
  const mm = vma.vmMm;
  const pgd = mm?.pgd;
  if (!mm || !pgd) return;
  const { sys, pfn } = w;
  const pte = pgd.get(addr);
  if (pte === undefined) return;
  let write: boolean;
  if (pte.kind === 'present') {
    if (pte.pfn !== pfn) return;
    write = pteWrite(pte);
  } else if (isDevicePrivateEntry(pte.entry) && devicePrivateEntryToPfn(pte.entry) === pfn) {
    write = isWriteDevicePrivateEntry(pte.entry);
  } else return;
  const store = sys.core.memmap;
  const range = mm.notifierSubscriptions ? mmuNotifierRangeInit(MMU_NOTIFY_CLEAR, 0, mm, addr, addr + sys.pageSize) : null;
  if (range) mmuNotifierInvalidateRangeStart(range);
  try {
    if (pte.kind === 'present' && pteDirty(pte)) store.setPageFlag(pfn, PG_dirty);
    if (w.hwpoison) {
      pgd.set(addr, swpEntryToPte(makeHwpoisonEntry(pfn)));
      mm.addRss(sys.mmCounter(pfn), -1);
    } else if (w.migration) pgd.set(addr, swpEntryToPte(makeMigrationEntry(pfn, write)));
    else {
      pgd.clear(addr);
      mm.addRss(sys.mmCounter(pfn), -1);
    }
    pageRemoveRmap(sys.core, pfn);
    sys.putPage(pfn);
  } finally {
    if (range) mmuNotifierInvalidateRangeEnd(range);
  }
}

/**
 * `remove_migration_ptes(old, new, locked)` (mm/migrate.c,
 * `remove_migration_pte`): every migration entry for `old` in the rmap of
 * `newPfn` becomes a PTE for `newPfn`: old-aged, writable only if the entry
 * was a write entry and the VMA allows write, a device-private entry when
 * the new page is device-private. Each takes a reference and an rmap on the
 * new page. `old === newPfn` restores the mappings after a failed move.
 * @public
 */
export function removeMigrationPtes(sys: MmSystem, old: number, newPfn: number): void {
  checkSys('remove_migration_ptes', sys);
  checkUnsigned('remove_migration_ptes', 'old', old);
  checkUnsigned('remove_migration_ptes', 'new', newPfn);
  const tracer = sys.core.kernel.tracer;
  if (tracer.enabled) return tracer.invoke('remove_migration_ptes', null, removeMigrationPtesImpl, sys, old, newPfn);
  return removeMigrationPtesImpl(sys, old, newPfn);
}

function removeMigrationPtesImpl(sys: MmSystem, old: number, newPfn: number): void {
  const mapping = sys.core.memmap.pageMapping(newPfn);
  const anon = isAnonMapping(mapping);
  rmapWalk(sys, newPfn, mapping, { sys, old, newPfn, devPrivate: sys.isDevicePrivatePage(newPfn), anon }, removeMigrationPte);
}

/** What {@link removeMigrationPte} needs besides the VMA and address. */
interface RemoveWalk {
  readonly sys: MmSystem;
  readonly old: number;
  readonly newPfn: number;
  readonly devPrivate: boolean;
  readonly anon: boolean;
}

/**
 * `remove_migration_pte()` (mm/migrate.c) for one VMA: a migration entry
 * for `old` at `addr` becomes `pte_mkold(mk_pte(new, vm_page_prot))`, made
 * writable for a write entry in a writable VMA (one entry value built from
 * the final bits), or a device-private entry for a device-private page.
 */
function removeMigrationPte(w: RemoveWalk, vma: Vma, addr: number): void {
  const pgd = vma.vmMm?.pgd;
  if (!pgd) return;
  const pte = pgd.get(addr);
  if (pte === undefined || pte.kind !== 'swap' || !isMigrationEntry(pte.entry) || migrationEntryToPfn(pte.entry) !== w.old) return;
  const { sys, newPfn } = w;
  sys.getPage(newPfn);
  let prot = clearBits(vmGetPageProt(vma.vmFlags), _PAGE_ACCESSED);
  if (isWriteMigrationEntry(pte.entry) && hasBits(vma.vmFlags, VM_WRITE)) prot = orBits(prot, _PAGE_RW);
  const entry = pfnPte(newPfn, prot);
  if (w.devPrivate) pgd.set(addr, swpEntryToPte(makeDevicePrivateEntry(newPfn, pteWrite(entry))));
  else pgd.set(addr, entry);
  if (w.anon) pageAddAnonRmap(sys.core, newPfn, vma, addr, sys.pageSize);
  else pageAddFileRmap(sys.core, newPfn);
}

/**
 * `isolate_lru_page(page)` (mm/vmscan.c): takes a page off its LRU list
 * for migration (`PG_lru` cleared), holding a reference. KernelError EBUSY
 * for a page on no LRU list (free, reserved, the zero page, ZONE_DEVICE,
 * already isolated).
 * @public
 */
export function isolateLruPage(sys: MmSystem, pfn: number): void {
  checkSys('isolate_lru_page', sys);
  checkUnsigned('isolate_lru_page', 'pfn', pfn);
  const store = sys.core.memmap;
  if (!sys.pfnValid(pfn) || sys.pageCount(pfn) === 0 || !store.testPageFlag(pfn, PG_lru)) {
    throw new KernelError('EBUSY', `isolate_lru_page: pfn 0x${pfn.toString(16)} is not on an LRU list`);
  }
  sys.getPage(pfn);
  store.clearPageFlag(pfn, PG_lru);
}

/** `putback_lru_page(page)` (mm/vmscan.c): back on its LRU list, the isolation reference dropped. @public */
export function putbackLruPage(sys: MmSystem, pfn: number): void {
  checkSys('putback_lru_page', sys);
  checkUnsigned('putback_lru_page', 'pfn', pfn);
  sys.core.memmap.setPageFlag(pfn, PG_lru);
  sys.putPage(pfn);
}

/**
 * `migrate_page_move_mapping()` + `migrate_page_copy()` (mm/migrate.c) for
 * an anonymous page or a shmem page: -EAGAIN unless the only references
 * left are the isolation's and, for a shmem page, its page cache's
 * (`expected_page_refs()`); otherwise the new page takes `index`,
 * `mapping`, the dirty and referenced flags and the contents, and the page
 * cache's slot (a shmem page). A page with any other mapping is not one the
 * model's mm can move: -EAGAIN.
 */
function migratePage(sys: MmSystem, newPfn: number, pfn: number, mode: number): number {
  const store = sys.core.memmap;
  const mapping = store.pageMapping(pfn);
  const anon = isAnonMapping(mapping);
  const shmem = !anon && sys.isShmemPage(pfn);
  if (!anon && !shmem && mapping !== undefined && mapping !== null) return -ERRNO.EAGAIN;
  const expected = shmem ? 2 : 1;
  if (store.pageRefCount(pfn) !== expected) return -ERRNO.EAGAIN;
  if (shmem) sys.shmemMoveMapping(pfn, newPfn);
  store.setPageIndex(newPfn, store.pageIndex(pfn));
  store.setPageMapping(newPfn, mapping);
  store.setPageFlag(newPfn, 19 /* PG_swapbacked */);
  if (store.testPageFlag(pfn, PG_dirty)) store.setPageFlag(newPfn, PG_dirty);
  if (store.testPageFlag(pfn, PG_referenced)) store.setPageFlag(newPfn, PG_referenced);
  if (mode !== MIGRATE_SYNC_NO_COPY) sys.copyHighpage(newPfn, pfn);
  // move_to_new_page(): a page-cache page that moved no longer belongs to its file
  if (shmem) store.setPageMapping(pfn, undefined);
  return MIGRATEPAGE_SUCCESS;
}

/**
 * `unmap_and_move()` / `__unmap_and_move()` (mm/migrate.c) for one isolated
 * page: MIGRATEPAGE_SUCCESS, -EAGAIN (locked, or referenced beyond its
 * mappings) or -ENOMEM (no new page).
 */
function unmapAndMove(
  sys: MmSystem,
  getNewPage: (pfn: number) => number | undefined,
  putNewPage: ((pfn: number) => void) | undefined,
  pfn: number,
  mode: number,
  reason: number,
): number {
  const store = sys.core.memmap;
  if (sys.pageCount(pfn) === 1) {
    // the page was freed from under us: only the isolation reference is left
    if (reason !== MR_MEMORY_FAILURE) sys.putPage(pfn);
    return MIGRATEPAGE_SUCCESS;
  }
  const newPfn = getNewPage(pfn);
  if (newPfn === undefined) return -ERRNO.ENOMEM;
  // lock_page(): MIGRATE_SYNC would sleep on a locked page; the model cannot, so it retries
  if (store.testPageFlag(pfn, PG_locked)) {
    if (putNewPage) putNewPage(newPfn);
    else sys.putPage(newPfn);
    return -ERRNO.EAGAIN;
  }
  store.setPageFlag(pfn, PG_locked);
  let rc = -ERRNO.EAGAIN;
  const wasMapped = store.pageMapcount(pfn) > 0;
  // (the traced entry points when tracing is on; their checked arguments are known good here)
  const traced = sys.core.kernel.tracer.enabled;
  if (wasMapped) {
    if (traced) tryToUnmap(sys, pfn, TTU_MIGRATION + TTU_IGNORE_MLOCK);
    else tryToUnmapImpl(sys, pfn, TTU_MIGRATION + TTU_IGNORE_MLOCK);
  }
  if (store.pageMapcount(pfn) === 0) rc = migratePage(sys, newPfn, pfn, mode);
  if (wasMapped) {
    const to = rc === MIGRATEPAGE_SUCCESS ? newPfn : pfn;
    if (traced) removeMigrationPtes(sys, pfn, to);
    else removeMigrationPtesImpl(sys, pfn, to);
  }
  store.clearPageFlag(pfn, PG_locked);
  if (rc === MIGRATEPAGE_SUCCESS) {
    // the old page goes with its isolation reference (soft offline keeps it
    // for page_handle_poison()); the new one is put back on the LRU
    if (reason !== MR_MEMORY_FAILURE) sys.putPage(pfn);
    putbackLruPage(sys, newPfn);
  } else if (putNewPage) putNewPage(newPfn);
  else sys.putPage(newPfn);
  return rc;
}

/** The outcome of {@link migratePages}. @public */
export interface MigratePagesResult {
  /** The return value: the number of pages not migrated (0 when all moved). */
  readonly nrFailed: number;
  /** How many moved. */
  readonly nrSucceeded: number;
  /** Passes made. */
  readonly passes: number;
}

/**
 * `migrate_pages(from, get_new_page, put_new_page, private, mode, reason)`
 * (mm/migrate.c, v5.13): moves each isolated page of `from` (see
 * {@link isolateLruPage}) to a page from `getNewPage`. A page that fails
 * with -EAGAIN (referenced beyond its mappings, or locked) is retried, up
 * to ten passes, and then counted as failed; a page that moved leaves
 * `from`, a page that did not stays there for `putback_movable_pages()`.
 * A moved page drops its isolation reference, except with
 * `MR_MEMORY_FAILURE`, where soft offline keeps it for poisoning the old
 * frame. KernelError ENOMEM when `getNewPage` has nothing (pages moved
 * before it stay moved, as in the kernel); EINVAL for a `reason` beyond
 * v5.13's `enum migrate_reason`.
 * @public
 */
export function migratePages(
  sys: MmSystem,
  from: number[],
  getNewPage: (pfn: number) => number | undefined,
  putNewPage: ((pfn: number) => void) | undefined,
  mode: number,
  reason: number,
): MigratePagesResult {
  checkSys('migrate_pages', sys);
  if (!Array.isArray(from)) throw new KernelError('EINVAL', 'migrate_pages: from is not a list');
  checkFn('migrate_pages', 'get_new_page', getNewPage);
  if (putNewPage !== undefined) checkFn('migrate_pages', 'put_new_page', putNewPage);
  checkUnsigned('migrate_pages', 'mode', mode, MIGRATE_SYNC_NO_COPY);
  checkUnsigned('migrate_pages', 'reason', reason, MR_LONGTERM_PIN_REASON);
  for (const p of from) checkUnsigned('migrate_pages', 'pfn', p);
  const tracer = sys.core.kernel.tracer;
  if (tracer.enabled) return tracer.invoke('migrate_pages', null, migratePagesImpl, sys, from, getNewPage, putNewPage, mode, reason);
  return migratePagesImpl(sys, from, getNewPage, putNewPage, mode, reason);
}

function migratePagesImpl(
  sys: MmSystem,
  from: number[],
  getNewPage: (pfn: number) => number | undefined,
  putNewPage: ((pfn: number) => void) | undefined,
  mode: number,
  reason: number,
): MigratePagesResult {
  let retry = 1;
  let nrSucceeded = 0;
  let nrFailed = 0;
  let pass = 0;
  for (; pass < MIGRATE_PASSES && retry; pass++) {
    retry = 0;
    const stay: number[] = [];
    let i = 0;
    try {
      for (; i < from.length; i++) {
        const pfn = from[i]!;
        const rc = unmapAndMove(sys, getNewPage, putNewPage, pfn, mode, reason);
        if (rc === -12) throw new KernelError('ENOMEM', `migrate_pages: no new page for pfn 0x${pfn.toString(16)}`);
        if (rc === MIGRATEPAGE_SUCCESS) nrSucceeded++;
        else {
          if (rc === -ERRNO.EAGAIN) retry++;
          else nrFailed++;
          stay.push(pfn);
        }
      }
    } finally {
      // the pages that moved leave the list; the rest (and those not reached) stay
      const rest = from.slice(i);
      from.length = 0;
      for (const p of stay) from.push(p);
      for (const p of rest) from.push(p);
    }
  }
  nrFailed += retry;
  return { nrFailed, nrSucceeded, passes: pass };
}
