/**
 * get_user_pages and pins, after mm/gup.c (Linux v5.13), and
 * `access_process_vm()` of mm/memory.c built on it.
 *
 * GUP walks a process's page tables on behalf of the kernel (a driver doing
 * DMA, O_DIRECT, ptrace): for each page it checks the VMA
 * (`check_vma_flags`: VM_IO and VM_PFNMAP are refused with -EFAULT, a write
 * needs VM_WRITE or FOLL_FORCE on a COW mapping), looks the page up
 * (`follow_page_mask`), faults it in when it is absent or not writable
 * enough (`faultin_page` -> `handle_mm_fault`), and takes a reference:
 * `FOLL_GET` adds 1, `FOLL_PIN` adds `GUP_PIN_COUNTING_BIAS` (1024), so that
 * `page_maybe_dma_pinned()` can tell a pinned page by its refcount. A devmap
 * entry (device-dax, fs-dax) has a struct page only while its pagemap is
 * live, so GUP holds `get_dev_pagemap()` across the lookup; a special PTE
 * without a struct page ends GUP with -EFAULT: this is why DAX needed
 * ZONE_DEVICE struct pages to be the target of O_DIRECT.
 */
import { ERRNO, KernelError, anyBits, checkUnsigned, hasBits, isKernelError } from '@zonedev/kernel';
import { GFP_USER, PG_dirty, __GFP_HIGHMEM, __GFP_NOWARN, gfpOr } from '@zonedev/mmzone';
import { MIGRATE_SYNC, isolateLruPage, migratePages, putbackLruPage } from './migrate.js';
import {
  FAULT_FLAG_REMOTE,
  FAULT_FLAG_WRITE,
  GUP_PIN_COUNTING_BIAS,
  VM_FAULT_ERROR,
  VM_FAULT_HWPOISON,
  VM_FAULT_HWPOISON_LARGE,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
  VM_FAULT_SIGSEGV,
  VM_FAULT_WRITE,
  handleMmFault,
  isCowMapping,
} from './memory.js';
import type { MmSystem, ZoneDevicePagemap } from './memory.js';
import type { MmStruct } from './mm.js';
import { pmdHuge, pteDevmap, pteDirty, pteMkdirty, pteMkyoung, ptePresent, pteSpecial, pteWrite, pteYoung, pudDevmap } from './pgtable.js';
import type { PresentPte, Pte } from './pgtable.js';
import { VM_IO, VM_MAYREAD, VM_PFNMAP, VM_READ, VM_WRITE } from './vma.js';
import type { Vma } from './vma.js';
import { checkBool, checkMm, checkPfnList, checkSys } from './args.js';

/** `FOLL_WRITE` (include/linux/mm.h): check the PTE is writable. @public */ export const FOLL_WRITE = 0x01;
/** `FOLL_TOUCH`: mark the page accessed. @public */ export const FOLL_TOUCH = 0x02;
/** `FOLL_GET`: take a reference. @public */ export const FOLL_GET = 0x04;
/** `FOLL_DUMP`: give an error on holes (core dumps). @public */ export const FOLL_DUMP = 0x08;
/** `FOLL_FORCE`: get_user_pages read/write without the VMA's permission (ptrace). @public */ export const FOLL_FORCE = 0x10;
/** `FOLL_NOWAIT`. @public */ export const FOLL_NOWAIT = 0x20;
/** `FOLL_POPULATE`. @public */ export const FOLL_POPULATE = 0x40;
/** `FOLL_HWPOISON`: -EHWPOISON for a poisoned page. @public */ export const FOLL_HWPOISON = 0x100;
/** `FOLL_MIGRATION`: wait for migration entries. @public */ export const FOLL_MIGRATION = 0x400;
/** `FOLL_REMOTE`: the pages are another mm's. @public */ export const FOLL_REMOTE = 0x2000;
/** `FOLL_COW`: the COW already happened (internal). @public */ export const FOLL_COW = 0x4000;
/** `FOLL_ANON`: anonymous VMAs only. @public */ export const FOLL_ANON = 0x8000;
/** `FOLL_LONGTERM`: the pin may be held indefinitely (not on fs-dax). @public */ export const FOLL_LONGTERM = 0x10000;
/** `FOLL_PIN`: a DMA pin, counted with `GUP_PIN_COUNTING_BIAS`. @public */ export const FOLL_PIN = 0x40000;

const ERRNO_NAMES = { [-14]: 'EFAULT', [-12]: 'ENOMEM', [-133]: 'EHWPOISON', [-95]: 'EOPNOTSUPP', [-22]: 'EINVAL', [-11]: 'EAGAIN' } as const;
type GupErr = keyof typeof ERRNO_NAMES;

/** How many times one page's fault is retried while nothing changes (a migration entry, a dead pagemap). */
const MAX_RETRIES = 16;

/** `check_vma_flags(vma, gup_flags)` (mm/gup.c): 0 or a negative errno. */
function checkVmaFlags(vma: Vma, gupFlags: number): number {
  const flags = vma.vmFlags;
  if (anyBits(flags, VM_IO + VM_PFNMAP)) return -ERRNO.EFAULT;
  if (hasBits(gupFlags, FOLL_ANON) && !vma.isAnonymous()) return -ERRNO.EFAULT;
  if (hasBits(gupFlags, FOLL_WRITE)) {
    if (!hasBits(flags, VM_WRITE)) {
      if (!hasBits(gupFlags, FOLL_FORCE)) return -ERRNO.EFAULT;
      if (!isCowMapping(flags)) return -ERRNO.EFAULT;
    }
  } else if (!hasBits(flags, VM_READ)) {
    if (!hasBits(gupFlags, FOLL_FORCE)) return -ERRNO.EFAULT;
    if (!hasBits(flags, VM_MAYREAD)) return -ERRNO.EFAULT;
  }
  return 0;
}

/** `vm_fault_to_errno(vm_fault, foll_flags)` (include/linux/mm.h). */
function vmFaultToErrno(ret: number, gupFlags: number): number {
  if (hasBits(ret, VM_FAULT_OOM)) return -ERRNO.ENOMEM;
  if (anyBits(ret, VM_FAULT_HWPOISON + VM_FAULT_HWPOISON_LARGE)) return hasBits(gupFlags, FOLL_HWPOISON) ? -ERRNO.EHWPOISON : -ERRNO.EFAULT;
  if (anyBits(ret, VM_FAULT_SIGBUS + VM_FAULT_SIGSEGV)) return -ERRNO.EFAULT;
  return 0;
}

/** `try_grab_page(page, flags)` (mm/gup.c). */
function tryGrabPage(sys: MmSystem, pfn: number, ctx: FollowCtx): void {
  if (ctx.get) sys.getPage(pfn);
  else if (ctx.pin) sys.core.memmap.pageRefAdd(pfn, GUP_PIN_COUNTING_BIAS);
}

/**
 * `struct follow_page_context` (mm/gup.c): the pagemap held across pages,
 * and the call's FOLL_ bits as booleans (read per page; `cow` per page).
 */
interface FollowCtx {
  pgmap: ZoneDevicePagemap | undefined;
  readonly get: boolean;
  readonly pin: boolean;
  readonly write: boolean;
  readonly touch: boolean;
  readonly force: boolean;
  readonly dump: boolean;
  cow: boolean;
  /**
   * What {@link followPageMask} returns for the page after a run's last:
   * set (null, or a negative errno) when the run stopped because that page's
   * `get_dev_pagemap()` failed, so that the lookup is not made twice.
   */
  pending: number | null | undefined;
}

function followCtx(gupFlags: number): FollowCtx {
  return {
    pgmap: undefined,
    get: hasBits(gupFlags, FOLL_GET),
    pin: hasBits(gupFlags, FOLL_PIN),
    write: hasBits(gupFlags, FOLL_WRITE),
    touch: hasBits(gupFlags, FOLL_TOUCH),
    force: hasBits(gupFlags, FOLL_FORCE),
    dump: hasBits(gupFlags, FOLL_DUMP),
    cow: hasBits(gupFlags, FOLL_COW),
    pending: undefined,
  };
}

/**
 * `follow_page_mask(vma, address, flags, ctx)` (mm/gup.c): the page at
 * `address` with a reference per `flags`; `null` when it must be faulted
 * in; a negative errno for an entry GUP cannot return.
 */
function followPageMask(sys: MmSystem, vma: Vma, address: number, gupFlags: number, ctx: FollowCtx): number | null {
  const pgd = vma.vmMm!.pgd!;
  const { pmdSize, pageSize } = sys.geometry;
  if (pgd.nrPudLeaves > 0) {
    // follow_pud_mask(): a devmap PUD leaf through follow_devmap_pud(); any other leaf is pud_bad (no_page_table)
    const pud = pgd.getPud(address);
    if (pud !== undefined) return followDevmapPud(sys, vma, address, pud, gupFlags, ctx);
  }
  const huge = pgd.getPmd(address);
  if (huge !== undefined) {
    // follow_devmap_pmd() / follow_trans_huge_pmd()
    if (!ptePresent(huge) || !pmdHuge(huge)) return null;
    if (hasBits(gupFlags, FOLL_WRITE) && !pteWrite(huge)) return null;
    if (!pteDevmap(huge)) return -ERRNO.EFAULT;
    const haddr = address - (address % pmdSize);
    if (hasBits(gupFlags, FOLL_TOUCH)) pgd.setPmd(haddr, hasBits(gupFlags, FOLL_WRITE) ? pteMkdirty(pteMkyoung(huge)) : pteMkyoung(huge));
    if (!anyBits(gupFlags, FOLL_GET + FOLL_PIN)) return -ERRNO.EEXIST;
    const pfn = huge.pfn + Math.floor((address - haddr) / pageSize);
    ctx.pgmap = sys.devPagemaps?.getDevPagemap(pfn, ctx.pgmap);
    if (!ctx.pgmap) return -ERRNO.EFAULT;
    tryGrabPage(sys, pfn, ctx);
    return pfn;
  }
  // follow_page_pte()
  const pte = pgd.get(address);
  if (!ptePresent(pte)) return null;
  if (ctx.write && !(pteWrite(pte) || ((ctx.force && ctx.cow) && pteDirty(pte)))) return null;
  let page = sys.vmNormalPage(vma, pte);
  const grab = ctx.get || ctx.pin;
  if (page === undefined && grab && pteDevmap(pte)) {
    ctx.pgmap = sys.devPagemaps?.getDevPagemap(pte.pfn, ctx.pgmap);
    if (!ctx.pgmap) return null;
    page = pte.pfn;
  } else if (page === undefined) {
    if (ctx.dump) return -ERRNO.EFAULT;
    if (sys.isZeroPfn(pte.pfn)) page = pte.pfn;
    else if (grab) return -ERRNO.EFAULT; // follow_pfn_pte(): no page to reference
    else return -ERRNO.EEXIST;
  }
  tryGrabPage(sys, page, ctx);
  if (ctx.touch && !(pteYoung(pte) && (!ctx.write || pteDirty(pte)))) {
    pgd.set(address, ctx.write ? pteMkdirty(pteMkyoung(pte)) : pteMkyoung(pte));
  }
  return page;
}

/** What {@link followPteRun} may do with a present PTE, decided from its `_PAGE_*` bits alone. */
const RUN_STOP = 0;
const RUN_NORMAL = 1;
const RUN_DEVMAP = 2;

/**
 * The {@link followPageMask} outcome a present PTE with these bits has
 * before its pfn is looked at: RUN_STOP when `follow_page_pte()` would fault
 * it (a write to a read-only entry), update it (FOLL_TOUCH of an entry not
 * yet young, or not dirty for a write) or not return a referenced page
 * (special without devmap, or devmap without FOLL_GET/FOLL_PIN);
 * RUN_DEVMAP for a devmap entry (`pte_devmap`, special: no
 * `vm_normal_page()`), RUN_NORMAL for a page `vm_normal_page()` decides.
 */
function pteRunKind(pte: PresentPte, ctx: FollowCtx): number {
  if (ctx.write && !(pteWrite(pte) || (ctx.force && ctx.cow && pteDirty(pte)))) return RUN_STOP;
  if (ctx.touch && !(pteYoung(pte) && (!ctx.write || pteDirty(pte)))) return RUN_STOP;
  if (!pteSpecial(pte)) return RUN_NORMAL;
  return pteDevmap(pte) && (ctx.get || ctx.pin) ? RUN_DEVMAP : RUN_STOP;
}

/**
 * `__get_user_pages()`'s `follow_page_mask()` -> `follow_page_pte()` steps
 * (mm/gup.c, v5.13) over consecutive pages of one PTE table, taken with one
 * page-table step for the whole table (the `pte_offset_map()` walk that
 * `gup_pte_range()` makes once per table): each entry is checked as
 * `follow_page_pte()` checks it (a decision about its bits is reused while
 * the next entry has the same bits), a devmap entry's pagemap through
 * `get_dev_pagemap(pfn, held)` (the one held answers while the pfn is in its
 * range), and a reference taken (`try_grab_page`). Appends the pages (and
 * their VMA) and returns how many; stops, returning what it took, at the
 * VMA's end, the table's end, `max` pages, or the first entry that needs
 * more than a lookup (none, not present, a fault, a FOLL_TOUCH update, no
 * struct page), which {@link followPageMask} then takes page by page.
 */
function followPteRun(sys: MmSystem, vma: Vma, addr: number, max: number, ctx: FollowCtx, pages: number[], vmas: Vma[] | null): number {
  const pgd = vma.vmMm!.pgd!;
  if (pgd.nrPudLeaves > 0) return 0;
  const table = pgd.pteTable(addr);
  if (table === undefined) return 0;
  const { pageSize, pmdSize, ptrsPerPte } = sys.geometry;
  const first = Math.floor((addr % pmdSize) / pageSize);
  const stop = Math.min(ptrsPerPte, first + max, first + Math.ceil((vma.vmEnd - addr) / pageSize));
  const dev = sys.devPagemaps;
  let flags = -1;
  let kind = RUN_STOP;
  let j = first;
  for (; j < stop; j++) {
    const pte = table[j];
    if (pte === undefined || pte.kind !== 'present') break;
    if (pte.flags !== flags) {
      flags = pte.flags;
      kind = pteRunKind(pte, ctx);
    }
    if (kind === RUN_STOP) break;
    const pfn = pte.pfn;
    if (kind === RUN_DEVMAP) {
      const pgmap = dev?.getDevPagemap(pfn, ctx.pgmap);
      ctx.pgmap = pgmap;
      if (pgmap === undefined) {
        // follow_page_pte(): no pagemap, no page: fault it
        ctx.pending = null;
        break;
      }
    } else if (sys.vmNormalPage(vma, pte) === undefined) break;
    tryGrabPage(sys, pfn, ctx);
    pages.push(pfn);
    vmas?.push(vma);
  }
  return j - first;
}

/**
 * `__get_user_pages()`'s `follow_devmap_pmd()` steps (mm/huge_memory.c,
 * v5.13) for the pages after the first of one devmap PMD leaf, as
 * `__gup_device_huge_pmd()` takes a whole leaf's pages: once the leaf is
 * writable for a write, young, and dirty for a write (the first page's
 * FOLL_TOUCH made it so, and would change nothing again), each page of the
 * leaf is the leaf's pfn plus its offset, with its pagemap
 * (`get_dev_pagemap(pfn, held)`: the one held answers while the pfn is in
 * its range) and a reference. Appends the pages and returns how many, up
 * to the leaf's end, the VMA's end and `max`; 0 when `addr` is under no
 * such leaf, which leaves the page to {@link followPageMask}.
 */
function followDevmapPmdRun(sys: MmSystem, vma: Vma, addr: number, max: number, ctx: FollowCtx, pages: number[], vmas: Vma[] | null): number {
  const pgd = vma.vmMm!.pgd!;
  if (!(ctx.get || ctx.pin) || pgd.nrPudLeaves > 0) return 0;
  const huge = pgd.getPmd(addr);
  if (huge === undefined || !ptePresent(huge) || !pmdHuge(huge) || !pteDevmap(huge)) return 0;
  if (ctx.write && !pteWrite(huge)) return 0;
  if (ctx.touch && !(pteYoung(huge) && (!ctx.write || pteDirty(huge)))) return 0;
  const { pageSize, pmdSize } = sys.geometry;
  const haddr = addr - (addr % pmdSize);
  const first = Math.floor((addr - haddr) / pageSize);
  const stop = Math.min(pmdSize / pageSize, first + max, first + Math.ceil((vma.vmEnd - addr) / pageSize));
  const dev = sys.devPagemaps;
  let j = first;
  for (; j < stop; j++) {
    const pfn = huge.pfn + j;
    const pgmap = dev?.getDevPagemap(pfn, ctx.pgmap);
    ctx.pgmap = pgmap;
    if (pgmap === undefined) {
      // follow_devmap_pmd(): -EFAULT once the pagemap is gone
      ctx.pending = -ERRNO.EFAULT;
      break;
    }
    tryGrabPage(sys, pfn, ctx);
    pages.push(pfn);
    vmas?.push(vma);
  }
  return j - first;
}

/**
 * `follow_devmap_pud(vma, addr, pud, flags, pgmap)` (mm/huge_memory.c,
 * v5.13): `null` (fault it) for a write to a read-only leaf or a leaf that
 * is not present and devmap; touched young (and dirty for a write) with
 * FOLL_TOUCH; -EEXIST without FOLL_GET/FOLL_PIN; then the base page at
 * `addr` in the leaf (`pfn + ((addr & ~PUD_MASK) >> PAGE_SHIFT)`) with its
 * pagemap held (`get_dev_pagemap`, -EFAULT once the pagemap is dying) and a
 * reference taken (`try_grab_page`).
 */
function followDevmapPud(sys: MmSystem, vma: Vma, address: number, pud: Pte, gupFlags: number, ctx: FollowCtx): number | null {
  const pgd = vma.vmMm!.pgd!;
  if (!ptePresent(pud)) return null;
  if (hasBits(gupFlags, FOLL_WRITE) && !pteWrite(pud)) return null;
  if (!pudDevmap(pud)) return null;
  const { pudSize, pageSize } = sys.geometry;
  const haddr = address - (address % pudSize);
  if (hasBits(gupFlags, FOLL_TOUCH)) pgd.setPud(haddr, hasBits(gupFlags, FOLL_WRITE) ? pteMkdirty(pteMkyoung(pud)) : pteMkyoung(pud));
  if (!anyBits(gupFlags, FOLL_GET + FOLL_PIN)) return -ERRNO.EEXIST;
  const pfn = pud.pfn + Math.floor((address - haddr) / pageSize);
  ctx.pgmap = sys.devPagemaps?.getDevPagemap(pfn, ctx.pgmap);
  if (!ctx.pgmap) return -ERRNO.EFAULT;
  tryGrabPage(sys, pfn, ctx);
  return pfn;
}

/** Drops what {@link tryGrabPage} took. */
function ungrab(sys: MmSystem, pfn: number, gupFlags: number): void {
  if (hasBits(gupFlags, FOLL_PIN)) unpinUserPage(sys, pfn);
  else sys.putPage(pfn);
}

/**
 * `__get_user_pages()` with `__gup_longterm_locked()` (mm/gup.c): returns
 * the pfns of the pages it took, and with FOLL_LONGTERM the VMA of each. An error on the first
 * page throws its KernelError; an error later ends the list early.
 */
function gupCore(mm: MmStruct, start: number, nrPages: number, gupFlags0: number, fn: string): { pages: number[]; vmas: Vma[] | null } {
  checkUnsigned(fn, 'start', start);
  checkUnsigned(fn, 'nr_pages', nrPages);
  checkUnsigned(fn, 'gup_flags', gupFlags0);
  const sys = mm.system;
  if (!sys || !mm.pgd) throw new KernelError('EINVAL', `${fn}: mm of pid ${mm.pid} has no page tables`);
  const tracer = sys.core.kernel.tracer;
  if (tracer.enabled) return tracer.invoke(fn, null, gupLongtermLocked, sys, mm, start, nrPages, gupFlags0, fn);
  return gupLongtermLocked(sys, mm, start, nrPages, gupFlags0, fn);
}

/** `MR_LONGTERM_PIN` (`enum migrate_reason`, include/linux/migrate.h v5.13). @public */
export const MR_LONGTERM_PIN = 7;

/**
 * `__gup_longterm_locked()` (mm/gup.c, v5.13): a plain GUP, or for
 * `FOLL_LONGTERM`, under `memalloc_pin_save()` (pages faulted in avoid
 * ZONE_MOVABLE), GUP then `check_and_migrate_movable_pages()` until every
 * page taken is pinnable: a page in ZONE_MOVABLE is migrated out first, so
 * that the pin does not keep its memory block from going offline.
 */
function gupLongtermLocked(sys: MmSystem, mm: MmStruct, start: number, nrPages: number, gupFlags: number, fn: string): { pages: number[]; vmas: Vma[] | null } {
  if (!hasBits(gupFlags, FOLL_LONGTERM)) return gupCoreImpl(sys, mm, start, nrPages, gupFlags, fn);
  return sys.withMemallocPin(() => {
    for (let pass = 0; ; pass++) {
      const got = gupCoreImpl(sys, mm, start, nrPages, gupFlags, fn);
      if (checkAndMigrateMovablePages(sys, got.pages, gupFlags, fn)) return got;
      // the kernel loops until the pages stay put; the model bounds it (isolation never fails for long there)
      if (pass >= MAX_RETRIES) throw new KernelError('EAGAIN', `${fn}(0x${start.toString(16)}, ${nrPages}): pages keep moving`);
    }
  });
}

/**
 * `is_pinnable_page(page)` (include/linux/mm.h, v5.13): not in ZONE_MOVABLE
 * (the model has no CMA areas), or the zero page.
 */
function isPinnablePage(sys: MmSystem, pfn: number): boolean {
  if (sys.isZeroPfn(pfn)) return true;
  return sys.core.memmap.pageZonenum(pfn) !== sys.core.config.ZONE_MOVABLE;
}

/**
 * `check_and_migrate_movable_pages(nr_pages, pages, gup_flags)` (mm/gup.c,
 * v5.13): true when every page is pinnable (the pins stand). Otherwise the
 * pages that are not are isolated from the LRU, every page taken is
 * released (unpinned or put), and the isolated ones are migrated
 * (`alloc_migration_target()` on their own node first, `GFP_USER |
 * __GFP_NOWARN` — no `__GFP_MOVABLE` — with `__GFP_HIGHMEM` for a movable
 * page, `MIGRATE_SYNC`, `MR_LONGTERM_PIN`); false then, and the caller takes
 * the pages again. KernelError ENOMEM when some page could not be migrated.
 */
function checkAndMigrateMovablePages(sys: MmSystem, pages: readonly number[], gupFlags: number, fn: string): boolean {
  const movable: number[] = [];
  const seen = new Set<number>();
  let isolationErrors = 0;
  for (const pfn of pages) {
    if (isPinnablePage(sys, pfn) || seen.has(pfn)) continue;
    seen.add(pfn);
    try {
      isolateLruPage(sys, pfn);
      movable.push(pfn);
    } catch (e) {
      if (!isKernelError(e)) throw e;
      isolationErrors++;
    }
  }
  if (movable.length === 0 && isolationErrors === 0) return true;
  for (const pfn of pages) ungrab(sys, pfn, gupFlags);
  if (movable.length === 0) return false;
  const core = sys.core;
  const target = (pfn: number): number | undefined => core.allocPagesNode(core.memmap.pageToNid(pfn), gfpOr(gfpOr(GFP_USER, __GFP_NOWARN), __GFP_HIGHMEM), 0);
  let failed: number;
  try {
    failed = migratePages(sys, movable, target, undefined, MIGRATE_SYNC, MR_LONGTERM_PIN).nrFailed;
  } catch (e) {
    if (!isKernelError(e) || e.errno !== 'ENOMEM') throw e;
    failed = movable.length;
  }
  // putback_movable_pages(): what did not move goes back on the LRU
  for (const pfn of movable) putbackLruPage(sys, pfn);
  if (failed > 0) throw new KernelError('ENOMEM', `${fn}: ${failed} pages could not be migrated out of ZONE_MOVABLE`);
  return false;
}

function gupCoreImpl(sys: MmSystem, mm: MmStruct, start: number, nrPages: number, gupFlags0: number, fn: string): { pages: number[]; vmas: Vma[] | null } {
  const ps = sys.pageSize;
  let addr = start - (start % ps);
  const pages: number[] = [];
  // the VMAs only for FOLL_LONGTERM: __gup_longterm_locked() allocates them for check_dax_vmas()
  const vmas: Vma[] | null = hasBits(gupFlags0, FOLL_LONGTERM) ? [] : null;
  const ctx = followCtx(gupFlags0);
  const cow0 = ctx.cow;
  let err = 0;
  let gupFlags = gupFlags0;
  if (ctx.pin) mm.hasPinned = true;
  let vma: Vma | null = null;
  try {
    for (let i = 0; i < nrPages; i++, addr += ps) {
      let foll = gupFlags;
      ctx.cow = cow0;
      // first iteration or a VMA boundary: find_extend_vma(), check_vma_flags()
      if (vma === null || addr >= vma.vmEnd) {
        vma = mm.findVma(addr);
        if (!vma || vma.vmStart > addr) {
          err = -ERRNO.EFAULT;
          break;
        }
        err = checkVmaFlags(vma, foll);
        if (err) break;
      }
      const run = ctx.pending !== undefined ? 0 : followPteRun(sys, vma, addr, nrPages - i, ctx, pages, vmas) || followDevmapPmdRun(sys, vma, addr, nrPages - i, ctx, pages, vmas);
      if (run > 0) {
        // the loop's own step adds the last page of the run
        i += run - 1;
        addr += (run - 1) * ps;
        continue;
      }
      let page: number | null = null;
      for (let tries = 0; ; tries++) {
        page = ctx.pending !== undefined ? ctx.pending : followPageMask(sys, vma, addr, foll, ctx);
        ctx.pending = undefined;
        if (page !== null) break;
        if (tries >= MAX_RETRIES) {
          err = -ERRNO.EAGAIN;
          break;
        }
        // faultin_page()
        let faultFlags = 0;
        if (hasBits(foll, FOLL_WRITE)) faultFlags += FAULT_FLAG_WRITE;
        if (hasBits(foll, FOLL_REMOTE)) faultFlags += FAULT_FLAG_REMOTE;
        const ret = handleMmFault(vma, addr, faultFlags);
        if (anyBits(ret, VM_FAULT_ERROR)) {
          err = vmFaultToErrno(ret, foll) || -14;
          break;
        }
        if (hasBits(ret, VM_FAULT_WRITE) && !hasBits(vma.vmFlags, VM_WRITE) && !hasBits(foll, FOLL_COW)) {
          foll += FOLL_COW;
          ctx.cow = true;
        }
      }
      if (err) break;
      if (page === null) break;
      if (page === -ERRNO.EEXIST) continue; // an entry without a page to return
      if (page < 0) {
        err = page;
        break;
      }
      pages.push(page);
      vmas?.push(vma);
    }
  } finally {
    sys.devPagemaps?.putDevPagemap(ctx.pgmap);
  }
  gupFlags = gupFlags0;
  if (vmas !== null && vmas.some((v) => v.vmFile?.fsdax === true)) {
    // check_dax_vmas(): a long-term pin of fs-dax memory would block truncate
    for (const p of pages) ungrab(sys, p, gupFlags);
    pages.length = 0;
    vmas.length = 0;
    err = -ERRNO.EOPNOTSUPP;
  }
  if (pages.length === 0 && err) {
    const name = ERRNO_NAMES[err as GupErr] ?? 'EFAULT';
    throw new KernelError(name, `${fn}(0x${start.toString(16)}, ${nrPages}): ${name}`);
  }
  return { pages, vmas };
}

/**
 * `get_user_pages_remote(mm, start, nr_pages, gup_flags, pages, vmas,
 * locked)` (mm/gup.c): takes a reference (`FOLL_GET`) on each page of
 * `[start, start + nr_pages pages)` of `mm`, faulting as needed, and returns
 * their pfns (fewer when a later page fails). KernelError EINVAL with
 * `FOLL_PIN` in `gup_flags`; EFAULT when the first page has no VMA, the VMA
 * is VM_IO/VM_PFNMAP, forbids the access (a write without VM_WRITE and no
 * FOLL_FORCE), or maps a pfn without a struct page; ENOMEM when a fault
 * cannot allocate; EOPNOTSUPP for FOLL_LONGTERM on fs-dax.
 * @public
 */
export function getUserPagesRemote(mm: MmStruct, start: number, nrPages: number, gupFlags: number): number[] {
  checkMm('get_user_pages_remote', mm);
  checkUnsigned('get_user_pages_remote', 'gup_flags', gupFlags);
  if (hasBits(gupFlags, FOLL_PIN)) throw new KernelError('EINVAL', 'get_user_pages_remote: FOLL_PIN is for pin_user_pages');
  let flags = gupFlags;
  if (!hasBits(flags, FOLL_TOUCH)) flags += FOLL_TOUCH;
  if (!hasBits(flags, FOLL_REMOTE)) flags += FOLL_REMOTE;
  if (!hasBits(flags, FOLL_GET)) flags += FOLL_GET;
  return gupCore(mm, start, nrPages, flags, 'get_user_pages_remote').pages;
}

/**
 * `get_user_pages(start, nr_pages, gup_flags, pages, vmas)` (mm/gup.c) for
 * the process of `mm` (the kernel's `current->mm`): as
 * {@link getUserPagesRemote} without `FOLL_REMOTE`.
 * @public
 */
export function getUserPages(mm: MmStruct, start: number, nrPages: number, gupFlags: number): number[] {
  checkMm('get_user_pages', mm);
  checkUnsigned('get_user_pages', 'gup_flags', gupFlags);
  if (hasBits(gupFlags, FOLL_PIN)) throw new KernelError('EINVAL', 'get_user_pages: FOLL_PIN is for pin_user_pages');
  let flags = gupFlags;
  if (!hasBits(flags, FOLL_TOUCH)) flags += FOLL_TOUCH;
  if (!hasBits(flags, FOLL_GET)) flags += FOLL_GET;
  return gupCore(mm, start, nrPages, flags, 'get_user_pages').pages;
}

/**
 * `pin_user_pages(start, nr_pages, gup_flags, pages, vmas)` (mm/gup.c): as
 * {@link getUserPages}, but each page gains `GUP_PIN_COUNTING_BIAS`
 * references (`FOLL_PIN`) and the mm is marked `has_pinned` (fork then
 * copies pinned anonymous pages at once). KernelError EINVAL with
 * `FOLL_GET`. Release with {@link unpinUserPages}.
 * @public
 */
export function pinUserPages(mm: MmStruct, start: number, nrPages: number, gupFlags: number): number[] {
  checkMm('pin_user_pages', mm);
  checkUnsigned('pin_user_pages', 'gup_flags', gupFlags);
  if (hasBits(gupFlags, FOLL_GET)) throw new KernelError('EINVAL', 'pin_user_pages: FOLL_GET and FOLL_PIN are exclusive');
  let flags = gupFlags + FOLL_PIN;
  if (!hasBits(flags, FOLL_TOUCH)) flags += FOLL_TOUCH;
  return gupCore(mm, start, nrPages, flags, 'pin_user_pages').pages;
}

/** `pin_user_pages_remote(mm, ...)` (mm/gup.c). @public */
export function pinUserPagesRemote(mm: MmStruct, start: number, nrPages: number, gupFlags: number): number[] {
  checkMm('pin_user_pages_remote', mm);
  checkUnsigned('pin_user_pages_remote', 'gup_flags', gupFlags);
  if (hasBits(gupFlags, FOLL_GET)) throw new KernelError('EINVAL', 'pin_user_pages_remote: FOLL_GET and FOLL_PIN are exclusive');
  let flags = gupFlags + FOLL_PIN;
  if (!hasBits(flags, FOLL_TOUCH)) flags += FOLL_TOUCH;
  if (!hasBits(flags, FOLL_REMOTE)) flags += FOLL_REMOTE;
  return gupCore(mm, start, nrPages, flags, 'pin_user_pages_remote').pages;
}

/**
 * `unpin_user_page(page)` (mm/gup.c): drops `GUP_PIN_COUNTING_BIAS`
 * references, the last through `put_page()` (which may free the page, or
 * hand a ZONE_DEVICE page to its pagemap). Throws (a kernel VM_BUG_ON) when
 * the page has fewer references than a pin.
 * @public
 */
export function unpinUserPage(sys: MmSystem, pfn: number): void {
  checkSys('unpin_user_page', sys);
  checkUnsigned('unpin_user_page', 'pfn', pfn);
  const store = sys.core.memmap;
  if (store.pageRefCount(pfn) < GUP_PIN_COUNTING_BIAS) {
    throw new Error(`BUG: unpin_user_page: pfn 0x${pfn.toString(16)} has refcount ${store.pageRefCount(pfn)}, not pinned`);
  }
  // put_compound_head(): the bias less one in one step, the last through put_page()
  store.pageRefAdd(pfn, 1 - GUP_PIN_COUNTING_BIAS);
  sys.putPage(pfn);
}

/** `unpin_user_pages(pages, npages)` (mm/gup.c). @public */
export function unpinUserPages(sys: MmSystem, pfns: readonly number[]): void {
  checkSys('unpin_user_pages', sys);
  checkPfnList('unpin_user_pages', pfns);
  for (const p of pfns) unpinUserPage(sys, p);
}

/** `unpin_user_pages_dirty_lock(pages, npages, make_dirty)` (mm/gup.c): marks them dirty first. @public */
export function unpinUserPagesDirtyLock(sys: MmSystem, pfns: readonly number[], makeDirty: boolean): void {
  checkSys('unpin_user_pages_dirty_lock', sys);
  checkPfnList('unpin_user_pages_dirty_lock', pfns);
  checkBool('unpin_user_pages_dirty_lock', 'make_dirty', makeDirty);
  for (const p of pfns) {
    if (makeDirty && !sys.isZeroPfn(p)) sys.core.memmap.setPageFlag(p, PG_dirty);
    unpinUserPage(sys, p);
  }
}

/**
 * `access_process_vm(tsk, addr, buf, len, gup_flags)` and
 * `__access_remote_vm()` (mm/memory.c): reads `buf.length` bytes of `mm` at
 * `addr` into `buf`, or with `FOLL_WRITE` writes `buf` there (through COW,
 * and with `FOLL_FORCE` into a read-only private mapping, as ptrace does).
 * Page by page through `get_user_pages_remote()`; stops at the first page it
 * cannot get. Returns the number of bytes transferred (0 when none).
 * @public
 */
export function accessProcessVm(mm: MmStruct, addr: number, buf: Uint8Array, gupFlags: number): number {
  checkMm('access_process_vm', mm);
  if (!(buf instanceof Uint8Array)) throw new KernelError('EINVAL', `access_process_vm: buf is not bytes: ${String(buf)}`);
  checkUnsigned('access_process_vm', 'addr', addr);
  checkUnsigned('access_process_vm', 'gup_flags', gupFlags);
  const sys = mm.system;
  if (!sys) throw new KernelError('EINVAL', `access_process_vm: mm of pid ${mm.pid} has no page tables`);
  const write = hasBits(gupFlags, FOLL_WRITE);
  const ps = sys.pageSize;
  let done = 0;
  while (done < buf.length) {
    const at = addr + done;
    const off = at % ps;
    const n = Math.min(ps - off, buf.length - done);
    let page: number | undefined;
    try {
      page = getUserPagesRemote(mm, at, 1, gupFlags)[0];
    } catch (e) {
      if (!(e instanceof KernelError)) throw e;
      page = undefined;
    }
    if (page === undefined) break;
    if (write) {
      sys.writePage(page, off, buf.subarray(done, done + n));
      sys.core.memmap.setPageFlag(page, PG_dirty);
    } else {
      sys.core.physmem.readInto(page * ps + off, buf.subarray(done, done + n));
    }
    sys.putPage(page);
    done += n;
  }
  return done;
}
