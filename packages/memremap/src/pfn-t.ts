/**
 * `pfn_t`: a page frame number that says what kind of memory it names.
 *
 * A plain `unsigned long pfn` cannot tell a DAX or DMA path whether there is
 * a `struct page` behind it. Seed 001's series introduced `__pfn_t` for
 * persistent memory ("a pfn that may not have a page"), and it became
 * include/linux/pfn_t.h: a 64-bit value whose low bits are the pfn and whose
 * top `PAGE_SHIFT` bits are flags. The flags can live there because a
 * physical address has at most 52 bits, so a pfn never reaches the top
 * `PAGE_SHIFT` bits of a `u64`.
 *
 * ```
 *   pfn_t.val on x86_64 (PAGE_SHIFT = 12; 64K pages widen the flag field to 16 bits)
 *
 *    63   62   61   60   59   58 .. 52   51                                   0
 *  +----+----+----+----+----+----------+--------------------------------------+
 *  |SG_ |SG_ |DEV |MAP |SPE-|  (zero)  |                 pfn                  |
 *  |CHA-|LAST|    |    |CIAL|          |                                      |
 *  |IN  |    |    |    |    |          |                                      |
 *  +----+----+----+----+----+----------+--------------------------------------+
 *  |<-------- PFN_FLAGS_MASK -------->|<------ 64 - PAGE_SHIFT bits -------->|
 * ```
 *
 * - `PFN_SG_CHAIN`: the pfn is a pointer to the next scatterlist entry;
 * - `PFN_SG_LAST`: the pfn references a page and is the last scatterlist entry;
 * - `PFN_DEV`: the pfn is not covered by the system memmap by default;
 * - `PFN_MAP`: the pfn has a page mapping established by a device driver
 *   (`memremap_pages()`); `PFN_DEV | PFN_MAP` is a *devmap* pfn, the one a
 *   DAX fault installs with `pte_mkdevmap()`;
 * - `PFN_SPECIAL`: for `CONFIG_FS_DAX_LIMITED` (s390): map it, but never let
 *   `get_user_pages()` see a page.
 *
 * Representation. JavaScript's bitwise operators work on 32 bits, and a
 * `number` holds integers only up to 2^53, so the model never builds the
 * 64-bit word with `|` and `&`. A {@link PfnT} keeps the two halves apart:
 * `pfn` (a `number`, exact) and `flags` (a `bigint` holding the flag bits at
 * their kernel positions, so `PFN_DEV` is `2n ** 61n` exactly as in the
 * kernel). The kernel's `pfn_t.val` is {@link pfnTVal}: `flags + pfn`.
 * Flags are tested with bigint division and remainder, never with bitwise
 * operators.
 *
 * Mirrors include/linux/pfn_t.h (v5.13). Both architectures the model
 * targets (x86_64, powerpc64) define `__HAVE_ARCH_PTE_DEVMAP` and
 * `__HAVE_ARCH_PTE_SPECIAL`, so {@link pfnTDevmap} and {@link pfnTSpecial}
 * are the real tests rather than the `false` stubs.
 */
import { KernelError } from '@zonedev/kernel';

/** `BITS_PER_LONG_LONG`. */
const BITS = 64n;

/**
 * `PFN_SG_CHAIN` (bit 63): the pfn is a pointer to the next scatterlist entry.
 * @public
 */
export const PFN_SG_CHAIN: bigint = 2n ** (BITS - 1n);

/**
 * `PFN_SG_LAST` (bit 62): the pfn references a page and is the last
 * scatterlist entry.
 * @public
 */
export const PFN_SG_LAST: bigint = 2n ** (BITS - 2n);

/**
 * `PFN_DEV` (bit 61): the pfn is not covered by the system memmap by default.
 * @public
 */
export const PFN_DEV: bigint = 2n ** (BITS - 3n);

/**
 * `PFN_MAP` (bit 60): the pfn has a dynamic page mapping established by a
 * device driver.
 * @public
 */
export const PFN_MAP: bigint = 2n ** (BITS - 4n);

/**
 * `PFN_SPECIAL` (bit 59): for `CONFIG_FS_DAX_LIMITED` builds, to allow XIP
 * but not `get_user_pages()`.
 * @public
 */
export const PFN_SPECIAL: bigint = 2n ** (BITS - 5n);

/**
 * `PFN_FLAGS_TRACE`: the flag names trace events print, in the kernel's order.
 * @public
 */
export const PFN_FLAGS_TRACE: readonly (readonly [bigint, string])[] = Object.freeze([
  Object.freeze([PFN_SPECIAL, 'SPECIAL'] as const),
  Object.freeze([PFN_SG_CHAIN, 'SG_CHAIN'] as const),
  Object.freeze([PFN_SG_LAST, 'SG_LAST'] as const),
  Object.freeze([PFN_DEV, 'DEV'] as const),
  Object.freeze([PFN_MAP, 'MAP'] as const),
]);

/**
 * A `pfn_t` (`typedef struct { u64 val; } pfn_t;`), kept as its two fields:
 * see the module comment for the layout.
 * @public
 */
export interface PfnT {
  /** The page frame number: the low `64 - PAGE_SHIFT` bits of `val`. */
  readonly pfn: number;
  /** The flag bits at their kernel positions (only bits of `PFN_FLAGS_MASK`). */
  readonly flags: bigint;
}

function checkPageShift(pageShift: number): void {
  if (typeof pageShift !== 'number' || !Number.isInteger(pageShift) || pageShift < 1 || pageShift > 32) {
    throw new KernelError('EINVAL', `PAGE_SHIFT must be an integer in 1..32, got ${String(pageShift)}`);
  }
}

function checkFlags(fn: string, flags: unknown): asserts flags is bigint {
  if (typeof flags !== 'bigint') throw new KernelError('EINVAL', `${fn}: invalid flags ${String(flags)}`);
}

/**
 * Refuses (KernelError EINVAL, naming `fn`) a value that is not a {@link PfnT}:
 * an object whose `pfn` is an unsigned integer below 2^53 and whose `flags`
 * is a bigint. A C `pfn_t` is always a well-formed u64; this is the model's
 * boundary check for the JavaScript values that are not.
 */
export function checkPfnT(fn: string, p: unknown): asserts p is PfnT {
  const o = p as { pfn?: unknown; flags?: unknown } | null;
  if (typeof o !== 'object' || o === null || !Number.isSafeInteger(o.pfn) || (o.pfn as number) < 0 || typeof o.flags !== 'bigint') {
    throw new KernelError('EINVAL', `${fn}: invalid pfn_t ${String(p)}`);
  }
}

/**
 * `PFN_FLAGS_MASK`: the top `PAGE_SHIFT` bits of a `u64`,
 * `((u64)~PAGE_MASK) << (BITS_PER_LONG_LONG - PAGE_SHIFT)`.
 * @public
 */
export function pfnFlagsMask(pageShift: number): bigint {
  checkPageShift(pageShift);
  const low = BITS - BigInt(pageShift);
  return 2n ** BITS - 2n ** low;
}

/** Whether the single-bit flag `bit` (a power of two) is set in `flags`. */
function has(flags: bigint, bit: bigint): boolean {
  return (flags / bit) % 2n === 1n;
}

/**
 * `__pfn_to_pfn_t(pfn, flags)`: a pfn_t of `pfn` with the bits of `flags`
 * that lie in `PFN_FLAGS_MASK` (others are dropped, as the kernel's `&`
 * drops them). Throws KernelError EINVAL for a pfn that is not an integer in
 * `[0, 2^(64 - PAGE_SHIFT))` or beyond 2^53, flags that are not a bigint, or a PAGE_SHIFT outside 1..32.
 * @public
 */
export function __pfnToPfnT(pfn: number, flags: bigint, pageShift: number): PfnT {
  checkPageShift(pageShift);
  checkFlags('__pfn_to_pfn_t', flags);
  if (!Number.isSafeInteger(pfn) || pfn < 0 || BigInt(pfn) >= 2n ** (BITS - BigInt(pageShift))) {
    throw new KernelError('EINVAL', `not a page frame number: ${String(pfn)}`);
  }
  const word = ((flags % 2n ** BITS) + 2n ** BITS) % 2n ** BITS;
  const low = 2n ** (BITS - BigInt(pageShift));
  return Object.freeze({ pfn, flags: word - (word % low) });
}

/**
 * `pfn_to_pfn_t(pfn)`: a pfn_t without flags. The kernel's default
 * conversion assumes that its argument is `pfn_valid()`.
 * @public
 */
export function pfnToPfnT(pfn: number): PfnT {
  if (!Number.isSafeInteger(pfn) || pfn < 0) throw new KernelError('EINVAL', `not a page frame number: ${String(pfn)}`);
  return Object.freeze({ pfn, flags: 0n });
}

/**
 * `phys_to_pfn_t(addr, flags)`: the pfn_t of the page containing physical
 * address `addr` (`addr >> PAGE_SHIFT`), with `flags`.
 * @public
 */
export function physToPfnT(addr: number, flags: bigint, pageShift: number): PfnT {
  checkPageShift(pageShift);
  checkFlags('phys_to_pfn_t', flags);
  if (!Number.isSafeInteger(addr) || addr < 0) throw new KernelError('EINVAL', `not a physical address: ${String(addr)}`);
  return __pfnToPfnT(Math.floor(addr / 2 ** pageShift), flags, pageShift);
}

/**
 * The kernel's 64-bit `pfn.val`: `flags | pfn`, as a bigint (for display and
 * comparison with kernel dumps).
 * @public
 */
export function pfnTVal(p: PfnT): bigint {
  checkPfnT('pfn_t_val', p);
  return p.flags + BigInt(p.pfn);
}

/**
 * `pfn_t_has_page(pfn)`: whether there is a `struct page` behind the pfn:
 * `PFN_MAP` is set, or `PFN_DEV` is not.
 * @public
 */
export function pfnTHasPage(p: PfnT): boolean {
  checkPfnT('pfn_t_has_page', p);
  return has(p.flags, PFN_MAP) || !has(p.flags, PFN_DEV);
}

/**
 * `pfn_t_to_pfn(pfn)`: the pfn without its flags.
 * @public
 */
export function pfnTToPfn(p: PfnT): number {
  checkPfnT('pfn_t_to_pfn', p);
  return p.pfn;
}

/**
 * `pfn_t_to_page(pfn)`: the page, or `undefined` when the pfn_t has no page
 * ({@link pfnTHasPage}). Pages are named by their pfn throughout the model
 * (the struct page store is keyed by pfn), so the page is `pfn_to_page()` of
 * the pfn, returned as that pfn; like the kernel, no validity check is made.
 * @public
 */
export function pfnTToPage(p: PfnT): number | undefined {
  checkPfnT('pfn_t_to_page', p);
  return pfnTHasPage(p) ? p.pfn : undefined;
}

/**
 * `pfn_t_to_phys(pfn)`: `PFN_PHYS()` of the pfn.
 * @public
 */
export function pfnTToPhys(p: PfnT, pageShift: number): number {
  checkPfnT('pfn_t_to_phys', p);
  checkPageShift(pageShift);
  return p.pfn * 2 ** pageShift;
}

/**
 * `page_to_pfn_t(page)`: the pfn_t (no flags) of a page, named by its pfn.
 * @public
 */
export function pageToPfnT(page: number): PfnT {
  return pfnToPfnT(page);
}

/**
 * `pfn_t_devmap(pfn)`: both `PFN_DEV` and `PFN_MAP` are set — the pfn is
 * device memory with a `memremap_pages()` memmap (`__HAVE_ARCH_PTE_DEVMAP`).
 * @public
 */
export function pfnTDevmap(p: PfnT): boolean {
  checkPfnT('pfn_t_devmap', p);
  return has(p.flags, PFN_DEV) && has(p.flags, PFN_MAP);
}

/**
 * `pfn_t_special(pfn)`: `PFN_SPECIAL` is set (`__HAVE_ARCH_PTE_SPECIAL`).
 * @public
 */
export function pfnTSpecial(p: PfnT): boolean {
  checkPfnT('pfn_t_special', p);
  return has(p.flags, PFN_SPECIAL);
}

/**
 * A pfn_t as trace events print it: `0x<pfn>` followed by the set flags in
 * `PFN_FLAGS_TRACE` order joined with `|`, e.g. `0x10000 DEV|MAP`.
 * @public
 */
export function formatPfnT(p: PfnT): string {
  checkPfnT('format_pfn_t', p);
  const names = PFN_FLAGS_TRACE.filter(([bit]) => has(p.flags, bit)).map(([, name]) => name);
  return names.length === 0 ? `0x${p.pfn.toString(16)}` : `0x${p.pfn.toString(16)} ${names.join('|')}`;
}
