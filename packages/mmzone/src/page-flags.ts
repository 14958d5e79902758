/**
 * Page flags and page types: the state bits of a `struct page`.
 *
 * `page->flags` is one `unsigned long`. Its low bits are the page flags of
 * `enum pageflags` (include/linux/page-flags.h): `PG_locked` is bit 0,
 * `PG_reserved` bit 12, and so on up to `NR_PAGEFLAGS`. The first 22 are the
 * same on every 64-bit v5.13 kernel; the rest depend on the configuration
 * (`PG_uncached` with `CONFIG_ARCH_USES_PG_UNCACHED`, `PG_hwpoison` with
 * `CONFIG_MEMORY_FAILURE`, `PG_young`/`PG_idle` with idle page tracking,
 * `PG_arch_2` on 64-bit). The high bits of the same word hold the node, zone
 * and section fields (see page-flags-layout.ts).
 *
 * Some states are not flags at all. A free page owned by the buddy allocator
 * is marked with a *page type*: `page->page_type` shares its word with
 * `page->_mapcount`, which is -1 (all ones) for an unmapped page. A type is
 * set by *clearing* its bit in that word, so `PageBuddy(page)` means "the top
 * nibble is all ones and the `PG_buddy` bit (0x80) is clear". Such a page can
 * never look mapped, and a real mapcount can never look like a type.
 *
 * ```
 *   page_type (aliases _mapcount):  1111 .... .... .... .... .GTO B... ....
 *                                   \__/              G=guard(0x400) T=table(0x200)
 *                          PAGE_TYPE_BASE             O=offline(0x100) B=buddy(0x80)
 * ```
 *
 * Flags here are numbers below 2^31 and page types are 32-bit words; the
 * helpers use arithmetic, never JavaScript's bitwise operators.
 */
import { KernelError, checkUnsigned } from '@zonedev/kernel';

/** `PG_locked`: the page is locked. @public */
export const PG_locked = 0;
/** `PG_referenced`. @public */
export const PG_referenced = 1;
/** `PG_uptodate`: the contents are valid. @public */
export const PG_uptodate = 2;
/** `PG_dirty`. @public */
export const PG_dirty = 3;
/** `PG_lru`: the page is on an LRU list (and therefore movable). @public */
export const PG_lru = 4;
/** `PG_active`. @public */
export const PG_active = 5;
/** `PG_workingset`. @public */
export const PG_workingset = 6;
/** `PG_waiters`: a task waits on this page. @public */
export const PG_waiters = 7;
/** `PG_error`. @public */
export const PG_error = 8;
/** `PG_slab`: owned by the slab allocator. @public */
export const PG_slab = 9;
/** `PG_owner_priv_1`. @public */
export const PG_owner_priv_1 = 10;
/** `PG_arch_1`. @public */
export const PG_arch_1 = 11;
/** `PG_reserved`: special page (bootmem, hole, ZONE_DEVICE), never given to the allocator. @public */
export const PG_reserved = 12;
/** `PG_private`: `page->private` holds filesystem data. @public */
export const PG_private = 13;
/** `PG_private_2`. @public */
export const PG_private_2 = 14;
/** `PG_writeback`. @public */
export const PG_writeback = 15;
/** `PG_head`: the head page of a compound page. @public */
export const PG_head = 16;
/** `PG_mappedtodisk`. @public */
export const PG_mappedtodisk = 17;
/** `PG_reclaim`. @public */
export const PG_reclaim = 18;
/** `PG_swapbacked`: backed by RAM or swap (anonymous). @public */
export const PG_swapbacked = 19;
/** `PG_unevictable`. @public */
export const PG_unevictable = 20;
/** `PG_mlocked` (CONFIG_MMU, always). @public */
export const PG_mlocked = 21;

/**
 * The configuration-dependent part of `enum pageflags`.
 * @public
 */
export interface PageflagBits {
  /** `PG_uncached`, with `CONFIG_ARCH_USES_PG_UNCACHED`. */
  readonly PG_uncached: number | undefined;
  /** `PG_hwpoison`, with `CONFIG_MEMORY_FAILURE`. */
  readonly PG_hwpoison: number | undefined;
  /** `PG_young`, with `CONFIG_IDLE_PAGE_TRACKING` on 64-bit. */
  readonly PG_young: number | undefined;
  /** `PG_idle`, with `CONFIG_IDLE_PAGE_TRACKING` on 64-bit. */
  readonly PG_idle: number | undefined;
  /** `PG_arch_2`, on 64-bit. */
  readonly PG_arch_2: number | undefined;
  /** `__NR_PAGEFLAGS`. */
  readonly NR_PAGEFLAGS: number;
  /** The names `show_page_flags()` prints, by bit (include/trace/events/mmflags.h). */
  readonly names: readonly string[];
  /** `PAGE_FLAGS_CHECK_AT_FREE`: bits that must be clear when a page is freed. */
  readonly checkAtFree: readonly number[];
}

/** The options that decide which configuration-dependent flags exist. @public */
export interface PageflagOptions {
  readonly bitsPerLong: number;
  readonly archUsesPgUncached: boolean;
  readonly memoryFailure: boolean;
  readonly idlePageTracking: boolean;
}

const FIXED_NAMES = [
  'locked',
  'referenced',
  'uptodate',
  'dirty',
  'lru',
  'active',
  'workingset',
  'waiters',
  'error',
  'slab',
  'owner_priv_1',
  'arch_1',
  'reserved',
  'private',
  'private_2',
  'writeback',
  'head',
  'mappedtodisk',
  'reclaim',
  'swapbacked',
  'unevictable',
  'mlocked',
];

/** The flag tables {@link computePageflagBits} made: what {@link formatPageFlags} reads. */
const FLAG_TABLES = new WeakSet<object>();

/**
 * Numbers the configuration-dependent page flags as `enum pageflags` does in
 * v5.13.
 * @public
 */
export function computePageflagBits(o: PageflagOptions): PageflagBits {
  const names = [...FIXED_NAMES];
  const next = (name: string): number => names.push(name) - 1;
  const PG_uncached = o.archUsesPgUncached ? next('uncached') : undefined;
  const PG_hwpoison = o.memoryFailure ? next('hwpoison') : undefined;
  const idle = o.idlePageTracking && o.bitsPerLong === 64;
  const PG_young = idle ? next('young') : undefined;
  const PG_idle = idle ? next('idle') : undefined;
  const PG_arch_2 = o.bitsPerLong === 64 ? next('arch_2') : undefined;
  const bits: PageflagBits = Object.freeze({
    PG_uncached,
    PG_hwpoison,
    PG_young,
    PG_idle,
    PG_arch_2,
    NR_PAGEFLAGS: names.length,
    names: Object.freeze(names),
    checkAtFree: Object.freeze([
      PG_lru,
      PG_locked,
      PG_private,
      PG_private_2,
      PG_writeback,
      PG_reserved,
      PG_slab,
      PG_active,
      PG_unevictable,
      PG_mlocked,
    ]),
  });
  FLAG_TABLES.add(bits);
  return bits;
}


/**
 * `show_page_flags()` / `%pGp`: the names of the set flag bits of a flags
 * word's low 32 bits, joined by `|` in bit order as
 * include/trace/events/mmflags.h lists them (`PG_waiters` comes right after
 * `PG_locked` there). An empty string when none is set.
 * @public
 */
export function formatPageFlags(flagsLo: number, bits: PageflagBits): string {
  checkUnsigned('show_page_flags', 'flags', flagsLo, 0xffffffff);
  if (typeof bits !== 'object' || bits === null || !FLAG_TABLES.has(bits)) {
    throw new KernelError('EINVAL', `show_page_flags: not a page flag table: ${String(bits)}`);
  }
  const out: string[] = [];
  const order = [PG_locked, PG_waiters];
  for (let b = 0; b < bits.NR_PAGEFLAGS; b++) if (b !== PG_locked && b !== PG_waiters) order.push(b);
  for (const b of order) {
    if (Math.floor(flagsLo / 2 ** b) % 2 === 1) out.push(bits.names[b] ?? `bit${b}`);
  }
  return out.join('|');
}

/** `PAGE_TYPE_BASE`: the top nibble of a page_type word. @public */
export const PAGE_TYPE_BASE = 0xf0000000;
/** `PAGE_MAPCOUNT_RESERVE`: mapcounts below this are page types. @public */
export const PAGE_MAPCOUNT_RESERVE = -128;
/** `PG_buddy` page type: a free block head owned by the buddy allocator. @public */
export const PG_buddy = 0x00000080;
/** `PG_offline` page type: logically offline (ballooned, not onlined). @public */
export const PG_offline = 0x00000100;
/** `PG_table` page type: a page table. @public */
export const PG_table = 0x00000200;
/** `PG_guard` page type: a debug_pagealloc guard page. @public */
export const PG_guard = 0x00000400;

/** The 32-bit unsigned view of a signed page_type/_mapcount word. */
function u32(word: number): number {
  return word < 0 ? word + 2 ** 32 : word;
}

/**
 * `PageType(page, flag)`: whether the page_type word (read as the signed
 * `_mapcount`) carries the page type `flag`.
 * @public
 */
export function pageTypeIs(word: number, flag: number): boolean {
  checkWord('PageType', 'page_type', word);
  checkUnsigned('PageType', 'flag', flag, 0xffffffff);
  const u = u32(word);
  return u >= PAGE_TYPE_BASE && (flag === 0 || Math.floor(u / flag) % 2 === 0);
}

/**
 * `page_has_type()`: whether the word is a page type rather than a mapcount.
 * @public
 */
export function pageHasType(word: number): boolean {
  checkWord('page_has_type', 'page_type', word);
  return word < PAGE_MAPCOUNT_RESERVE;
}

/**
 * `__SetPage<Type>`: the word with `flag`'s bit cleared (the type set).
 * @public
 */
export function setPageTypeWord(word: number, flag: number): number {
  return Math.floor(u32(word) / flag) % 2 === 1 ? word - flag : word;
}

/**
 * `__ClearPage<Type>`: the word with `flag`'s bit set again (the type cleared).
 * @public
 */
export function clearPageTypeWord(word: number, flag: number): number {
  return Math.floor(u32(word) / flag) % 2 === 0 ? word + flag : word;
}

/*
 * Helpers on one 32-bit half of `page->flags`. The store keeps the flags word
 * as two unsigned 32-bit halves; the page flags (below NR_PAGEFLAGS <= 32)
 * all live in the low half. These are genuine 32-bit word operations, the
 * one kind of value on which JavaScript's bitwise operators are exact.
 */
/* eslint-disable no-bitwise -- operations on a 32-bit half of page->flags */

/**
 * Whether bit `bit` (< 32) of a 32-bit flags half is set.
 * @public
 */
export function flagsWordTest(word: number, bit: number): boolean {
  return ((word >>> bit) & 1) === 1;
}

/**
 * The 32-bit flags half with bit `bit` set (unsigned result).
 * @public
 */
export function flagsWordSet(word: number, bit: number): number {
  return (word | (1 << bit)) >>> 0;
}

/**
 * The 32-bit flags half with bit `bit` cleared (unsigned result).
 * @public
 */
export function flagsWordClear(word: number, bit: number): number {
  return (word & ~(1 << bit)) >>> 0;
}

/**
 * Whether any bit of `mask` is set in a 32-bit flags half.
 * @public
 */
export function flagsWordAny(word: number, mask: number): boolean {
  return (word & mask) !== 0;
}

/**
 * The 32-bit flags half with its low `n` bits cleared
 * (`flags &= ~((1UL << n) - 1)` on the low half, n <= 32).
 * @public
 */
export function flagsWordClearBelow(word: number, n: number): number {
  if (n >= 32) return 0;
  return (word & ~((1 << n) - 1)) >>> 0;
}

/**
 * The mask of a list of bits (< 32) in a 32-bit flags half.
 * @public
 */
export function flagsWordMask(bits: readonly number[]): number {
  let m = 0;
  for (const b of bits) m |= 1 << b;
  return m >>> 0;
}
/* eslint-enable no-bitwise */

/** EINVAL unless `v` is a 32-bit word, read as signed or unsigned (`_mapcount`, `page_type`). */
function checkWord(fn: string, what: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -0x80000000 || v > 0xffffffff) {
    throw new KernelError('EINVAL', `${fn}: invalid ${what} ${String(v)}`);
  }
}
