/**
 * Migrating a range of a process to device memory and back: the encoding of
 * `struct migrate_vma` (include/linux/migrate.h) and the argument rules of
 * `migrate_vma_setup()` (mm/migrate.c, `CONFIG_DEVICE_PRIVATE`), Linux
 * v5.13.
 *
 * A driver moves a virtual range of a process between system RAM and its
 * own device-private memory in three steps: `migrate_vma_setup()` collects,
 * locks and unmaps the source pages; the driver allocates destination pages
 * and copies; `migrate_vma_pages()` commits and `migrate_vma_finalize()`
 * puts the new pages in the page table. The two sides talk through two
 * arrays of one `unsigned long` per page, `src` and `dst`, each a pfn
 * shifted up by `MIGRATE_PFN_SHIFT` with flags in the low bits:
 *
 * ```
 *   63 .................................. 6   5   4   3   2   1   0
 *  +---------------------------------------+---+---+---+---+---+---+
 *  |                 pfn                   | - | - | W | L | M | V |
 *  +---------------------------------------+---+---+---+---+---+---+
 *   V = MIGRATE_PFN_VALID    the pfn is valid
 *   M = MIGRATE_PFN_MIGRATE  this page is being migrated (cleared when not)
 *   L = MIGRATE_PFN_LOCKED   the page is locked (removed in v5.16)
 *   W = MIGRATE_PFN_WRITE    the CPU mapping was writable
 *   bits 4-5 are unused in v5.13 (MIGRATE_PFN_DEVICE, bit 4, went in v5.4)
 * ```
 *
 * A `src` of just `MIGRATE_PFN_MIGRATE` (no VALID, no pfn) is a hole or the
 * zero page: there is no source page, and the driver clears the destination
 * instead of copying.
 *
 * The values stay below 2^53 (a 46-bit physical address space gives pfns
 * below 2^34, shifted by 6), so they are `number`s.
 */
import { KernelError, anyBits, checkUnsigned, orBits, testBit } from '@zonedev/kernel';
import type { MmSystem } from '@zonedev/mm';
import { MmStruct, VM_HUGETLB, VM_SPECIAL, Vma } from '@zonedev/mm';

/** `MIGRATE_PFN_VALID` (bit 0). @public */
export const MIGRATE_PFN_VALID = 1;
/** `MIGRATE_PFN_MIGRATE` (bit 1). @public */
export const MIGRATE_PFN_MIGRATE = 2;
/** `MIGRATE_PFN_LOCKED` (bit 2; present until v5.16). @public */
export const MIGRATE_PFN_LOCKED = 4;
/** `MIGRATE_PFN_WRITE` (bit 3). @public */
export const MIGRATE_PFN_WRITE = 8;
/** `MIGRATE_PFN_SHIFT`: the pfn starts at bit 6. @public */
export const MIGRATE_PFN_SHIFT = 6;

const PFN_UNIT = 2 ** MIGRATE_PFN_SHIFT;

/**
 * `migrate_pfn(pfn)`: `(pfn << MIGRATE_PFN_SHIFT) | MIGRATE_PFN_VALID`.
 * Mirrors include/linux/migrate.h.
 * @public
 */
export function migratePfn(pfn: number): number {
  checkUnsigned('migrate_pfn', 'pfn', pfn, Math.floor(Number.MAX_SAFE_INTEGER / PFN_UNIT));
  return pfn * PFN_UNIT + MIGRATE_PFN_VALID;
}

/**
 * `migrate_pfn_to_page(mpfn)`: the page (named by pfn) of an entry, or
 * `undefined` when `MIGRATE_PFN_VALID` is clear. Mirrors
 * include/linux/migrate.h.
 * @public
 */
export function migratePfnToPage(mpfn: number): number | undefined {
  checkUnsigned('migrate_pfn_to_page', 'mpfn', mpfn);
  if (!testBit(mpfn, 0)) return undefined;
  return Math.floor(mpfn / PFN_UNIT);
}

/** Whether flag `flag` (one of the `MIGRATE_PFN_*` bits) is set in `mpfn`. @public */
export function migratePfnHas(mpfn: number, flag: number): boolean {
  checkUnsigned('migrate_pfn', 'mpfn', mpfn);
  checkFlag(flag);
  return mpfnHas(mpfn, flag);
}

/** {@link migratePfnHas} for an entry and flag already checked. */
export function mpfnHas(mpfn: number, flag: number): boolean {
  return (Math.floor(mpfn / flag) % 2) === 1;
}

function checkFlag(flag: number): void {
  if (flag !== MIGRATE_PFN_VALID && flag !== MIGRATE_PFN_MIGRATE && flag !== MIGRATE_PFN_LOCKED && flag !== MIGRATE_PFN_WRITE) {
    throw new KernelError('EINVAL', `migrate_pfn: ${String(flag)} is not a MIGRATE_PFN_* flag`);
  }
}

/** `mpfn & ~flag` for one of the `MIGRATE_PFN_*` bits. @public */
export function migratePfnClear(mpfn: number, flag: number): number {
  return migratePfnHas(mpfn, flag) ? mpfn - flag : mpfn;
}

/** {@link migratePfnClear} for an entry and flag already checked. */
export function mpfnClear(mpfn: number, flag: number): number {
  return mpfnHas(mpfn, flag) ? mpfn - flag : mpfn;
}

/** `mpfn | flag` for one of the `MIGRATE_PFN_*` bits. @public */
export function migratePfnSet(mpfn: number, flag: number): number {
  checkUnsigned('migrate_pfn', 'mpfn', mpfn);
  checkFlag(flag);
  return orBits(mpfn, flag);
}

/**
 * `enum migrate_vma_direction` (include/linux/migrate.h, v5.13): which
 * source pages `migrate_vma_setup()` collects. (`SELECT_DEVICE_COHERENT`
 * came in v6.0.)
 * @public
 */
export const MIGRATE_VMA_SELECT_SYSTEM = 1;
/** `MIGRATE_VMA_SELECT_DEVICE_PRIVATE`: collect device-private pages of `pgmap_owner`. @public */
export const MIGRATE_VMA_SELECT_DEVICE_PRIVATE = 2;

/**
 * `struct migrate_vma` (include/linux/migrate.h, v5.13), field for field.
 * `src` and `dst` hold `(end - start) >> PAGE_SHIFT` entries each; the
 * caller must not change `src` after setup nor `dst` after
 * `migrate_vma_pages()`.
 * @public
 */
export interface MigrateVma {
  /** `vma`: the VMA the range lies in (null is refused with -EINVAL). */
  vma: Vma | null;
  /** `dst`: destination entries, filled by the driver. */
  dst: number[] | null;
  /** `src`: source entries, filled by `migrate_vma_setup()`. */
  src: number[] | null;
  /** `cpages`: how many pages were collected. */
  cpages: number;
  /** `npages`: how many entries `src` and `dst` hold. */
  npages: number;
  /** `start`: first address (rounded down to a page). */
  start: number;
  /** `end`: end address, exclusive. */
  end: number;
  /** `pgmap_owner`: only device-private pages of this owner are collected (and the notifier is told). */
  pgmapOwner: unknown;
  /** `flags`: `MIGRATE_VMA_SELECT_*`. */
  flags: number;
}

/**
 * The address space a {@link MigrateVma}'s `vma` belongs to, and its page
 * size, or -EINVAL: `args` is not an object, `vma` is null or not a VMA
 * (`!vma` in v5.13), or the VMA is no longer mapped in an address space
 * with page tables (a stale pointer in C).
 */
export function migrateVmaMm(fn: string, args: MigrateVma): { vma: Vma; mm: MmStruct; sys: MmSystem; ps: number } {
  if (typeof args !== 'object' || args === null) throw new KernelError('EINVAL', `${fn}: no args`);
  const vma: unknown = args.vma;
  if (!(vma instanceof Vma)) throw new KernelError('EINVAL', `${fn}: no vma`);
  const mm = vma.vmMm;
  if (!(mm instanceof MmStruct) || mm.system === null || mm.pgd === null) {
    throw new KernelError('EINVAL', `${fn}: the vma belongs to no address space with page tables`);
  }
  if (mm.findVma(vma.vmStart) !== vma) throw new KernelError('EINVAL', `${fn}: the vma is no longer mapped`);
  return { vma, mm, sys: mm.system, ps: mm.pgd.geometry.pageSize };
}

/**
 * The argument checks of `migrate_vma_setup(args)` (mm/migrate.c, v5.13),
 * in the kernel's order, before anything changes: `nr_pages =
 * (end - start) >> PAGE_SHIFT` is computed first (signed), then `start` and
 * `end` are rounded down to a page (of the VMA's address space: 4 KiB on
 * x86_64, 64 KiB on a 64K-page powerpc). All refusals are -EINVAL, and
 * v5.13 has no other error: no vma, a hugetlb vma, a `VM_SPECIAL` vma or a
 * DAX file; `nr_pages <= 0`; `start` outside `[vm_start, vm_end)`; `end`
 * outside `(vm_start, vm_end]`; no `src` or `dst` array. `flags == 0` is
 * accepted. What C cannot express or would overrun is -EINVAL too, checked
 * first: `args` not an object, numbers that are not unsigned integers, a
 * VMA no longer mapped, `src`/`dst` that are not arrays (the kernel's
 * NULL) or hold fewer than `nr_pages` entries. Returns `nr_pages`, with
 * `args.start`/`args.end` rounded down.
 * @public
 */
export function migrateVmaSetupCheck(args: MigrateVma): number {
  const fn = 'migrate_vma_setup';
  if (typeof args !== 'object' || args === null) throw new KernelError('EINVAL', `${fn}: no args`);
  checkUnsigned(fn, 'start', args.start);
  checkUnsigned(fn, 'end', args.end);
  checkUnsigned(fn, 'flags', args.flags);
  const { vma, ps } = migrateVmaMm(fn, args);
  const nrPages = Math.trunc((args.end - args.start) / ps);
  const start = args.start - (args.start % ps);
  const end = args.end - (args.end % ps);
  if (anyBits(vma.vmFlags, VM_HUGETLB)) throw new KernelError('EINVAL', `${fn}: hugetlb vma`);
  if (anyBits(vma.vmFlags, VM_SPECIAL)) throw new KernelError('EINVAL', `${fn}: VM_SPECIAL vma`);
  if (nrPages <= 0) throw new KernelError('EINVAL', `${fn}: empty range`);
  if (start < vma.vmStart || start >= vma.vmEnd) throw new KernelError('EINVAL', `${fn}: start outside the vma`);
  if (end <= vma.vmStart || end > vma.vmEnd) throw new KernelError('EINVAL', `${fn}: end outside the vma`);
  if (!Array.isArray(args.src) || !Array.isArray(args.dst)) throw new KernelError('EINVAL', `${fn}: no src or dst array`);
  if (args.src.length < nrPages || args.dst.length < nrPages) {
    throw new KernelError('EINVAL', `${fn}: src/dst hold fewer than ${nrPages} entries`);
  }
  args.start = start;
  args.end = end;
  return nrPages;
}
