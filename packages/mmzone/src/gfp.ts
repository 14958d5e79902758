/**
 * GFP flags: how an allocation may be satisfied (include/linux/gfp.h, v5.13).
 *
 * A `gfp_t` mask says two things the buddy allocator needs. Its *zone
 * modifiers* (`__GFP_DMA`, `__GFP_DMA32`, `__GFP_HIGHMEM`, `__GFP_MOVABLE`)
 * pick the highest zone the allocation may come from: `gfp_zone()` maps them
 * through a table, and the zonelist then falls back to lower zones only
 * (Normal, then DMA32, then DMA). ZONE_MOVABLE is reachable only with
 * `__GFP_HIGHMEM | __GFP_MOVABLE` together, which is what
 * `GFP_HIGHUSER_MOVABLE` carries; nothing reaches ZONE_DEVICE. Its *mobility*
 * bits (`__GFP_MOVABLE`, `__GFP_RECLAIMABLE`) pick the migrate type of the
 * free lists searched first (`gfp_migratetype()`). The remaining bits say
 * whether the caller may sleep, reclaim, dip into reserves, or wants zeroed
 * pages.
 *
 * All values are below 2^24, and the allocator's internal `ALLOC_*` and
 * `FPI_*` words below 2^12: these small flag words are the one place the
 * package uses JavaScript's 32-bit bitwise operators (through the helpers at
 * the end of this file), never on a pfn, address or size.
 */
import { KernelBug, checkUnsigned } from '@zonedev/kernel';
import type { MmConfig } from './config.js';

/** `___GFP_DMA`. @public */ export const __GFP_DMA = 0x01;
/** `___GFP_HIGHMEM`. @public */ export const __GFP_HIGHMEM = 0x02;
/** `___GFP_DMA32`. @public */ export const __GFP_DMA32 = 0x04;
/** `___GFP_MOVABLE`. @public */ export const __GFP_MOVABLE = 0x08;
/** `___GFP_RECLAIMABLE`. @public */ export const __GFP_RECLAIMABLE = 0x10;
/** `___GFP_HIGH`: may use the emergency reserves above min/2. @public */ export const __GFP_HIGH = 0x20;
/** `___GFP_IO`. @public */ export const __GFP_IO = 0x40;
/** `___GFP_FS`. @public */ export const __GFP_FS = 0x80;
/** `___GFP_ZERO`: return zeroed pages. @public */ export const __GFP_ZERO = 0x100;
/** `___GFP_ATOMIC`: cannot sleep, may dip further into reserves. @public */ export const __GFP_ATOMIC = 0x200;
/** `___GFP_DIRECT_RECLAIM`. @public */ export const __GFP_DIRECT_RECLAIM = 0x400;
/** `___GFP_KSWAPD_RECLAIM`. @public */ export const __GFP_KSWAPD_RECLAIM = 0x800;
/** `___GFP_WRITE`. @public */ export const __GFP_WRITE = 0x1000;
/** `___GFP_NOWARN`: no allocation-failure report. @public */ export const __GFP_NOWARN = 0x2000;
/** `___GFP_RETRY_MAYFAIL`. @public */ export const __GFP_RETRY_MAYFAIL = 0x4000;
/** `___GFP_NOFAIL`. @public */ export const __GFP_NOFAIL = 0x8000;
/** `___GFP_NORETRY`. @public */ export const __GFP_NORETRY = 0x10000;
/** `___GFP_MEMALLOC`: may use all memory (ALLOC_NO_WATERMARKS). @public */ export const __GFP_MEMALLOC = 0x20000;
/** `___GFP_COMP`: a compound page. @public */ export const __GFP_COMP = 0x40000;
/** `___GFP_NOMEMALLOC`. @public */ export const __GFP_NOMEMALLOC = 0x80000;
/** `___GFP_HARDWALL`. @public */ export const __GFP_HARDWALL = 0x100000;
/** `___GFP_THISNODE`: the preferred node only, no fallback. @public */ export const __GFP_THISNODE = 0x200000;
/** `___GFP_ACCOUNT`. @public */ export const __GFP_ACCOUNT = 0x400000;

/** `__GFP_RECLAIM` = __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM. @public */
export const __GFP_RECLAIM = 0xc00;
/** `GFP_ATOMIC` = __GFP_HIGH | __GFP_ATOMIC | __GFP_KSWAPD_RECLAIM. @public */
export const GFP_ATOMIC = 0xa20;
/** `GFP_KERNEL` = __GFP_RECLAIM | __GFP_IO | __GFP_FS. @public */
export const GFP_KERNEL = 0xcc0;
/** `GFP_KERNEL_ACCOUNT` = GFP_KERNEL | __GFP_ACCOUNT. @public */
export const GFP_KERNEL_ACCOUNT = 0x400cc0;
/** `GFP_NOWAIT` = __GFP_KSWAPD_RECLAIM. @public */
export const GFP_NOWAIT = 0x800;
/** `GFP_NOIO` = __GFP_RECLAIM. @public */
export const GFP_NOIO = 0xc00;
/** `GFP_NOFS` = __GFP_RECLAIM | __GFP_IO. @public */
export const GFP_NOFS = 0xc40;
/** `GFP_USER` = __GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL. @public */
export const GFP_USER = 0x100cc0;
/** `GFP_DMA` = __GFP_DMA. @public */
export const GFP_DMA = 0x1;
/** `GFP_DMA32` = __GFP_DMA32. @public */
export const GFP_DMA32 = 0x4;
/** `GFP_HIGHUSER` = GFP_USER | __GFP_HIGHMEM. @public */
export const GFP_HIGHUSER = 0x100cc2;
/** `GFP_HIGHUSER_MOVABLE` = GFP_HIGHUSER | __GFP_MOVABLE. @public */
export const GFP_HIGHUSER_MOVABLE = 0x100cca;
/** `GFP_TRANSHUGE_LIGHT` = (GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOMEMALLOC | __GFP_NOWARN) & ~__GFP_RECLAIM. @public */
export const GFP_TRANSHUGE_LIGHT = 0x1c20ca;
/** `GFP_TRANSHUGE` = GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM. @public */
export const GFP_TRANSHUGE = 0x1c24ca;

/** `GFP_ZONEMASK` = __GFP_DMA | __GFP_HIGHMEM | __GFP_DMA32 | __GFP_MOVABLE. @public */
export const GFP_ZONEMASK = 0x0f;

/**
 * Whether every bit of `mask` is set in the flag word `gfp` (both below 2^31).
 * @public
 */
export function gfpHas(gfp: number, mask: number): boolean {
  // eslint-disable-next-line no-bitwise -- a gfp/alloc flag word, below 2^31
  return (gfp & mask) === mask;
}

/**
 * Whether any bit of `mask` is set in the flag word `gfp`.
 * @public
 */
export function gfpAny(gfp: number, mask: number): boolean {
  // eslint-disable-next-line no-bitwise -- a gfp/alloc flag word, below 2^31
  return (gfp & mask) !== 0;
}

/**
 * `gfp & ~mask` for flag words below 2^31.
 * @public
 */
export function gfpClear(gfp: number, mask: number): number {
  // eslint-disable-next-line no-bitwise -- a gfp/alloc flag word, below 2^31
  return gfp & ~mask;
}

/**
 * `gfp | mask` for flag words below 2^31.
 * @public
 */
export function gfpOr(gfp: number, mask: number): number {
  checkUnsigned('gfp', 'gfp_mask', gfp, 0x7fffffff);
  checkUnsigned('gfp', 'mask', mask, 0x7fffffff);
  // eslint-disable-next-line no-bitwise -- a gfp/alloc flag word, below 2^31
  return gfp | mask;
}

/**
 * `gfp_zone()`: the highest zone index an allocation with these flags may use,
 * from `GFP_ZONE_TABLE`. Combinations the table marks bad (`GFP_ZONE_BAD`,
 * e.g. `__GFP_DMA | __GFP_DMA32`) are a kernel BUG; here they throw.
 * @public
 */
export function gfpZone(config: MmConfig, gfp: number): number {
  const dma = gfpHas(gfp, __GFP_DMA);
  const high = gfpHas(gfp, __GFP_HIGHMEM);
  const dma32 = gfpHas(gfp, __GFP_DMA32);
  const movable = gfpHas(gfp, __GFP_MOVABLE);
  const n = (dma ? 1 : 0) + (high ? 1 : 0) + (dma32 ? 1 : 0);
  if (n > 1) throw new KernelBug(`VM_BUG_ON((GFP_ZONE_BAD >> bit) & 1): invalid zone modifiers in gfp 0x${gfp.toString(16)}`);
  const OPT_ZONE_DMA = config.ZONE_DMA ?? config.ZONE_NORMAL;
  const OPT_ZONE_DMA32 = config.ZONE_DMA32 ?? config.ZONE_NORMAL;
  const OPT_ZONE_HIGHMEM = config.ZONE_HIGHMEM ?? config.ZONE_NORMAL;
  if (dma) return OPT_ZONE_DMA;
  if (dma32) return OPT_ZONE_DMA32;
  if (high) return movable ? config.ZONE_MOVABLE : OPT_ZONE_HIGHMEM;
  return config.ZONE_NORMAL;
}

/**
 * `gfp_migratetype()`: MIGRATE_MOVABLE for `__GFP_MOVABLE`,
 * MIGRATE_RECLAIMABLE for `__GFP_RECLAIMABLE`, else MIGRATE_UNMOVABLE. Both
 * bits together is a BUG (`VM_WARN_ON`, the kernel then treats it as
 * movable|reclaimable = 3); here it throws.
 * @public
 */
export function gfpMigratetype(gfp: number): number {
  const m = gfpHas(gfp, __GFP_MOVABLE);
  const r = gfpHas(gfp, __GFP_RECLAIMABLE);
  if (m && r) throw new Error(`VM_WARN_ON((gfp_flags & GFP_MOVABLE_MASK) == GFP_MOVABLE_MASK): gfp 0x${gfp.toString(16)}`);
  return m ? 1 : r ? 2 : 0;
}

/** The `__def_gfpflag_names` table of include/trace/events/mmflags.h, in its order. */
const GFP_NAMES: readonly (readonly [number, string])[] = [
  [GFP_TRANSHUGE, 'GFP_TRANSHUGE'],
  [GFP_TRANSHUGE_LIGHT, 'GFP_TRANSHUGE_LIGHT'],
  [GFP_HIGHUSER_MOVABLE, 'GFP_HIGHUSER_MOVABLE'],
  [GFP_HIGHUSER, 'GFP_HIGHUSER'],
  [GFP_USER, 'GFP_USER'],
  [GFP_KERNEL_ACCOUNT, 'GFP_KERNEL_ACCOUNT'],
  [GFP_KERNEL, 'GFP_KERNEL'],
  [GFP_NOFS, 'GFP_NOFS'],
  [GFP_ATOMIC, 'GFP_ATOMIC'],
  [GFP_NOIO, 'GFP_NOIO'],
  [GFP_NOWAIT, 'GFP_NOWAIT'],
  [GFP_DMA, 'GFP_DMA'],
  [__GFP_HIGHMEM, '__GFP_HIGHMEM'],
  [GFP_DMA32, 'GFP_DMA32'],
  [__GFP_HIGH, '__GFP_HIGH'],
  [__GFP_ATOMIC, '__GFP_ATOMIC'],
  [__GFP_IO, '__GFP_IO'],
  [__GFP_FS, '__GFP_FS'],
  [__GFP_NOWARN, '__GFP_NOWARN'],
  [__GFP_RETRY_MAYFAIL, '__GFP_RETRY_MAYFAIL'],
  [__GFP_NOFAIL, '__GFP_NOFAIL'],
  [__GFP_NORETRY, '__GFP_NORETRY'],
  [__GFP_COMP, '__GFP_COMP'],
  [__GFP_ZERO, '__GFP_ZERO'],
  [__GFP_NOMEMALLOC, '__GFP_NOMEMALLOC'],
  [__GFP_MEMALLOC, '__GFP_MEMALLOC'],
  [__GFP_HARDWALL, '__GFP_HARDWALL'],
  [__GFP_THISNODE, '__GFP_THISNODE'],
  [__GFP_RECLAIMABLE, '__GFP_RECLAIMABLE'],
  [__GFP_MOVABLE, '__GFP_MOVABLE'],
  [__GFP_ACCOUNT, '__GFP_ACCOUNT'],
  [__GFP_WRITE, '__GFP_WRITE'],
  [__GFP_RECLAIM, '__GFP_RECLAIM'],
  [__GFP_DIRECT_RECLAIM, '__GFP_DIRECT_RECLAIM'],
  [__GFP_KSWAPD_RECLAIM, '__GFP_KSWAPD_RECLAIM'],
];

/**
 * `%pGg` (lib/vsprintf.c `format_flags()` over `gfpflag_names`): the mask as
 * names joined by `|`, composite names first, leftover bits as `%#lx`. For
 * example `GFP_KERNEL|__GFP_ZERO` for 0xdc0.
 * @public
 */
export function formatGfpFlags(gfp: number): string {
  let flags = gfp;
  let out = '';
  for (const [mask, name] of GFP_NAMES) {
    if (flags === 0) break;
    if (mask === 0 || !gfpHas(flags, mask)) continue;
    out += name;
    flags = gfpClear(flags, mask);
    if (flags !== 0) out += '|';
  }
  if (flags !== 0) out += `0x${flags.toString(16)}`;
  return out;
}
