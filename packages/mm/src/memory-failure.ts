/**
 * Memory failure: hard and soft offlining of a page, after mm/memory-failure.c
 * (Linux v5.13).
 *
 * When the hardware reports that a page frame is corrupted (a machine check,
 * or a user writing its physical address to
 * `/sys/devices/system/memory/hard_offline_page`), `memory_failure(pfn)`
 * takes the page away from everyone who could touch it. It sets
 * `PG_hwpoison` first and counts the page in `num_poisoned_pages` (the
 * `HardwareCorrupted:` line of /proc/meminfo), then decides by the page's
 * state what it can do:
 *
 * ```
 *   free in the buddy allocator   take_page_off_buddy()      free buddy page: Recovered
 *   reserved / slab               nothing                    reserved kernel page: Ignored
 *                                 (a user still holds it)    ... still referenced by N users, Failed
 *   on an LRU list (user page)    try_to_unmap(): every PTE  dirty LRU page: Recovered
 *                                 becomes a hwpoison swap    (the process gets SIGBUS/BUS_MCEERR_AR
 *                                 entry; the page leaves     on its next access)
 *                                 the LRU (and a shmem file)
 *   ZONE_DEVICE                   memory_failure_dev_pagemap dax page: Recovered / Failed
 *   anything else                 nothing                    unknown page: Failed
 * ```
 *
 * Each case ends in one line `Memory failure: <pfn>: recovery action for
 * <page type>: <Ignored|Failed|Delayed|Recovered>` (`action_result()`), and
 * the poisoned page is never freed again: it keeps one reference for good,
 * and the allocator's free path leaks an order-0 page with `PG_hwpoison`
 * (`free_pages_prepare()`). Whatever the outcome, the flag and the count
 * stay: a failed recovery is still a poisoned page. That is the kernel's
 * documented result, the one exception to "a failed call changes nothing".
 *
 * Soft offlining (`soft_offline_page()`, the `soft_offline_page` file) is
 * the gentle version for a page that is only suspected (too many corrected
 * errors): its contents are still good, so an in-use page is migrated away
 * (`migrate_pages(..., MR_MEMORY_FAILURE)`) and only the old frame is
 * poisoned; a free page is simply taken off the buddy lists. Nobody is
 * unmapped or signalled.
 *
 * `unpoison_memory(pfn)` is the software undo, for testing (the
 * `unpoison-pfn` file of hwpoison-inject): it clears `PG_hwpoison` of a page
 * nobody holds or maps any more, takes `num_poisoned_pages` down, and drops
 * the reference memory failure kept, so the frame goes back to the buddy
 * allocator. A page someone still holds, maps or caches stays poisoned, with
 * a line saying why. The filters of hwpoison-inject
 * (`corrupt-filter-*`, `hwpoison_filter()`) are the `hwpoisonFilter`
 * variables here.
 *
 * What the model leaves out: hugetlb pages (there are none), the swap cache
 * (there is no swap), transparent huge pages of anonymous memory (the model
 * maps anonymous memory with base pages only), KSM, memcg (and so the
 * memcg filter), the ratelimit of the unpoison lines, and early kill: no process of the
 * model asks for it (`prctl(PR_MCE_KILL)`) and `vm.memory_failure_early_kill`
 * is 0, so `collect_procs()` finds no one to signal at once and a process
 * learns of the poison when it touches the page.
 */
import { ERRNO, KernelError, checkUnsigned, hasBits } from '@zonedev/kernel';
import {
  GFP_USER, MmCore, PG_active, PG_arch_1, PG_dirty, PG_error, PG_head, PG_locked, PG_lru, PG_mappedtodisk, PG_mlocked,
  PG_owner_priv_1, PG_private, PG_private_2, PG_reclaim, PG_referenced, PG_reserved, PG_slab, PG_swapbacked,
  PG_unevictable, PG_uptodate, PG_writeback, __GFP_MOVABLE, __GFP_RETRY_MAYFAIL, formatPageFlags, gfpOr,
} from '@zonedev/mmzone';
import type { DevPagemapLookup, MmSystem, ZoneDevicePagemap } from './memory.js';
import { MIGRATE_SYNC, MR_MEMORY_FAILURE, TTU_IGNORE_MLOCK, isolateLruPage, migratePages, putbackLruPage, tryToUnmap } from './migrate.js';
import { isAnonMapping } from './rmap.js';

/** `MF_COUNT_INCREASED` (`enum mf_flags`, include/linux/mm.h): the caller holds a reference on the page. @public */
export const MF_COUNT_INCREASED = 1;
/** `MF_ACTION_REQUIRED`: the error was consumed by the current task (not from sysfs). @public */
export const MF_ACTION_REQUIRED = 2;
/** `MF_MUST_KILL`: kill the processes that map the page even if it is clean. @public */
export const MF_MUST_KILL = 4;
/** `MF_SOFT_OFFLINE`. @public */
export const MF_SOFT_OFFLINE = 8;

/** `MF_IGNORED` (`enum mf_result`). @public */ export const MF_IGNORED = 0;
/** `MF_FAILED`. @public */ export const MF_FAILED = 1;
/** `MF_DELAYED`. @public */ export const MF_DELAYED = 2;
/** `MF_RECOVERED`. @public */ export const MF_RECOVERED = 3;

/** `action_name[]`: how `action_result()` prints an `enum mf_result`. */
const ACTION_NAME = ['Ignored', 'Failed', 'Delayed', 'Recovered'] as const;

/**
 * `enum mf_action_page_type` with `action_page_types[]` (v5.13): the page
 * type each `action_result()` line names.
 */
const MF_MSG = {
  KERNEL: 'reserved kernel page',
  KERNEL_HIGH_ORDER: 'high-order kernel page',
  SLAB: 'kernel slab page',
  DIFFERENT_COMPOUND: 'different compound page after locking',
  POISONED_HUGE: 'huge page already hardware poisoned',
  HUGE: 'huge page',
  FREE_HUGE: 'free huge page',
  NON_PMD_HUGE: 'non-pmd-sized huge page',
  UNMAP_FAILED: 'unmapping failed page',
  DIRTY_SWAPCACHE: 'dirty swapcache page',
  CLEAN_SWAPCACHE: 'clean swapcache page',
  DIRTY_MLOCKED_LRU: 'dirty mlocked LRU page',
  CLEAN_MLOCKED_LRU: 'clean mlocked LRU page',
  DIRTY_UNEVICTABLE_LRU: 'dirty unevictable LRU page',
  CLEAN_UNEVICTABLE_LRU: 'clean unevictable LRU page',
  DIRTY_LRU: 'dirty LRU page',
  CLEAN_LRU: 'clean LRU page',
  TRUNCATED_LRU: 'already truncated LRU page',
  BUDDY: 'free buddy page',
  BUDDY_2ND: 'free buddy page (2nd try)',
  DAX: 'dax page',
  UNSPLIT_THP: 'unsplit thp',
  UNKNOWN: 'unknown page',
} as const;

/**
 * The `hwpoison_filter_*` variables of mm/memory-failure.c (v5.13), which
 * hwpoison-inject shows as `corrupt-filter-*`: with `enable` set, memory
 * failure leaves alone (unpoisons again, silently) every page that does not
 * match them. `devMajor`/`devMinor` (`~0U`: any) name the device of the
 * file the page caches; `flagsMask`/`flagsValue` compare the page's
 * `/proc/kpageflags` bits (`stable_page_flags()`). @public
 */
export interface HwpoisonFilter {
  /** `hwpoison_filter_enable` (u32, 0 by default). */
  enable: number;
  /** `hwpoison_filter_dev_major` (u32, `~0U` by default: any). */
  devMajor: number;
  /** `hwpoison_filter_dev_minor` (u32, `~0U` by default: any). */
  devMinor: number;
  /** `hwpoison_filter_flags_mask` (u64, 0: no flags filter). */
  flagsMask: bigint;
  /** `hwpoison_filter_flags_value` (u64). */
  flagsValue: bigint;
}

/** `~0U`. */
const U32_ALL = 0xffffffff;

/**
 * The `KPF_*` bits (include/uapi/linux/kernel-page-flags.h and the
 * kernel-internal ones of include/linux/kernel-page-flags.h) that
 * `stable_page_flags()` copies one to one from a page flag.
 */
const KPF_COPY: readonly (readonly [number, number])[] = [
  [0, PG_locked], [1, PG_error], [2, PG_referenced], [3, PG_uptodate], [4, PG_dirty], [5, PG_lru], [6, PG_active],
  [7, PG_slab], [8, PG_writeback], [9, PG_reclaim], [14, PG_swapbacked], [18, PG_unevictable],
  [32, PG_reserved], [33, PG_mlocked], [34, PG_mappedtodisk], [35, PG_private], [36, PG_private_2],
  [37, PG_owner_priv_1], [38, PG_arch_1],
];
const KPF_BUDDY = 10;
const KPF_MMAP = 11;
const KPF_ANON = 12;
const KPF_SWAPCACHE = 13;
const KPF_COMPOUND_HEAD = 15;
const KPF_HWPOISON = 19;
const KPF_OFFLINE = 23;
const KPF_ZERO_PAGE = 24;

/** `PG_swapcache` is `PG_owner_priv_1` (include/linux/page-flags.h). */
const PG_swapcache = PG_owner_priv_1;

/** `%#lx`: `0x` and lowercase hex, plain `0` for zero. */
function hexp(n: number): string {
  return n === 0 ? '0' : `0x${n.toString(16)}`;
}

/** One row of `error_states[]`: flags under `mask` must equal `res`. */
interface PageState {
  readonly mask: readonly number[];
  readonly res: readonly number[];
  readonly type: string;
  readonly action: (pfn: number) => number;
}

/** The options of {@link MemoryFailure}. @public */
export interface MemoryFailureOptions {
  /** The mm core (mmzone) whose pages fail. Needs `CONFIG_MEMORY_FAILURE` (`PG_hwpoison`). */
  readonly core: MmCore;
  /**
   * The machine's process memory (mm/), when there is one yet: the user
   * pages that memory failure unmaps and soft offline migrates are its.
   */
  readonly system?: () => MmSystem | undefined;
  /** `get_dev_pagemap()` for ZONE_DEVICE pfns (memremap); settable later. */
  readonly devPagemaps?: DevPagemapLookup;
}

/**
 * The memory-failure handling of one machine (mm/memory-failure.c, v5.13):
 * `memory_failure()`, `soft_offline_page()` and the `num_poisoned_pages`
 * counter. Both entry points take a pfn and `enum mf_flags`
 * (`MF_COUNT_INCREASED` and `MF_MUST_KILL`; the model has no current task
 * for `MF_ACTION_REQUIRED`, which is refused with EINVAL) and throw the
 * kernel's errno as a KernelError.
 * @public
 */
export class MemoryFailure {
  /** The mm core. */
  readonly core: MmCore;
  /** `get_dev_pagemap()` for ZONE_DEVICE pfns (memremap sets it). */
  devPagemaps: DevPagemapLookup | undefined;
  readonly #system: () => MmSystem | undefined;
  readonly #hw: number;
  #numPoisoned = 0;
  readonly #states: readonly PageState[];
  /** The `hwpoison_filter_*` variables (see {@link HwpoisonFilter}); hwpoison-inject's files read and write them. */
  readonly hwpoisonFilter: HwpoisonFilter = { enable: 0, devMajor: U32_ALL, devMinor: U32_ALL, flagsMask: 0n, flagsValue: 0n };

  constructor(options: MemoryFailureOptions) {
    if (typeof options !== 'object' || options === null || !(options.core instanceof MmCore)) {
      throw new KernelError('EINVAL', 'memory_failure: options.core is not an mm core');
    }
    if (options.system !== undefined && typeof options.system !== 'function') throw new KernelError('EINVAL', 'memory_failure: options.system is not a function');
    if (options.devPagemaps !== undefined && (typeof options.devPagemaps !== 'object' || options.devPagemaps === null)) throw new KernelError('EINVAL', 'memory_failure: devPagemaps is not a lookup');
    const hw = options.core.config.pageflags.PG_hwpoison;
    if (hw === undefined) throw new KernelError('EINVAL', 'memory_failure: CONFIG_MEMORY_FAILURE is not set (no PG_hwpoison)');
    this.core = options.core;
    this.#system = options.system ?? ((): undefined => undefined);
    this.devPagemaps = options.devPagemaps;
    this.#hw = hw;
    const sc = [PG_swapcache, PG_swapbacked];
    // error_states[]: the first row whose flags match decides the action
    this.#states = [
      { mask: [PG_reserved], res: [PG_reserved], type: MF_MSG.KERNEL, action: () => MF_IGNORED },
      { mask: [PG_slab], res: [PG_slab], type: MF_MSG.SLAB, action: () => MF_IGNORED },
      { mask: [PG_head], res: [PG_head], type: MF_MSG.HUGE, action: () => MF_DELAYED },
      { mask: [...sc, PG_dirty], res: [...sc, PG_dirty], type: MF_MSG.DIRTY_SWAPCACHE, action: (p) => this.meSwapcacheDirty(p) },
      { mask: [...sc, PG_dirty], res: sc, type: MF_MSG.CLEAN_SWAPCACHE, action: (p) => this.meSwapcacheClean(p) },
      { mask: [PG_mlocked, PG_dirty], res: [PG_mlocked, PG_dirty], type: MF_MSG.DIRTY_MLOCKED_LRU, action: (p) => this.mePagecacheDirty(p) },
      { mask: [PG_mlocked, PG_dirty], res: [PG_mlocked], type: MF_MSG.CLEAN_MLOCKED_LRU, action: (p) => this.mePagecacheClean(p) },
      { mask: [PG_unevictable, PG_dirty], res: [PG_unevictable, PG_dirty], type: MF_MSG.DIRTY_UNEVICTABLE_LRU, action: (p) => this.mePagecacheDirty(p) },
      { mask: [PG_unevictable, PG_dirty], res: [PG_unevictable], type: MF_MSG.CLEAN_UNEVICTABLE_LRU, action: (p) => this.mePagecacheClean(p) },
      { mask: [PG_lru, PG_dirty], res: [PG_lru, PG_dirty], type: MF_MSG.DIRTY_LRU, action: (p) => this.mePagecacheDirty(p) },
      { mask: [PG_lru, PG_dirty], res: [PG_lru], type: MF_MSG.CLEAN_LRU, action: (p) => this.mePagecacheClean(p) },
      { mask: [], res: [], type: MF_MSG.UNKNOWN, action: (p) => this.meUnknown(p) },
    ];
  }

  /** How the function-graph tracer prints this argument. */
  get traceName(): string {
    return 'memory_failure';
  }

  /** `num_poisoned_pages`: pages marked `PG_hwpoison` by memory failure and soft offline. */
  get numPoisonedPages(): number {
    return this.#numPoisoned;
  }

  /**
   * `memory_failure(pfn, flags)` (mm/memory-failure.c, v5.13): handles a
   * hardware error in page frame `pfn`, as described at the top of this
   * file. Returns on success (Recovered or Delayed). Throws KernelError:
   * - ENXIO "memory outside kernel control" for a pfn that is neither
   *   online memory nor a ZONE_DEVICE page (an offline block, a hole), and
   *   for an altmap pfn of a ZONE_DEVICE range;
   * - EHWPOISON "already hardware poisoned" for a page poisoned before;
   * - EBUSY when the page could not be isolated (Ignored or Failed);
   * - EINVAL for a bad pfn or flags (then nothing is printed or changed).
   * @public
   */
  memoryFailure(pfn: number, flags: number): void {
    checkUnsigned('memory_failure', 'pfn', pfn);
    this.#checkFlags('memory_failure', flags);
    const tracer = this.core.kernel.tracer;
    if (tracer.enabled) return tracer.invoke('memory_failure', this, this.memoryFailureImpl, pfn, flags);
    return this.memoryFailureImpl(pfn, flags);
  }

  /**
   * `soft_offline_page(pfn, flags)` (mm/memory-failure.c, v5.13): takes a
   * suspected page frame out of use without losing its contents: a free
   * page leaves the buddy allocator, an in-use LRU page is migrated to a
   * new page of the same node (`MR_MEMORY_FAILURE`) or, if it is a clean
   * unmapped page-cache page, dropped; the old frame is then poisoned.
   * Returns on success, also for a page already poisoned. Throws
   * KernelError: ENXIO for a pfn without a struct page; EIO for a pfn not
   * in online memory (an offline block, ZONE_DEVICE) and for a page that
   * is neither free nor on an LRU list (a kernel page); EBUSY (or ENOMEM)
   * when the migration failed, the page then staying where it was; EINVAL
   * for a bad pfn or flags.
   * @public
   */
  softOfflinePage(pfn: number, flags: number): void {
    checkUnsigned('soft_offline_page', 'pfn', pfn);
    this.#checkFlags('soft_offline_page', flags);
    const tracer = this.core.kernel.tracer;
    if (tracer.enabled) return tracer.invoke('soft_offline_page', this, this.softOfflinePageImpl, pfn, flags);
    return this.softOfflinePageImpl(pfn, flags);
  }

  /**
   * `unpoison_memory(pfn)` (mm/memory-failure.c, v5.13): clears
   * `PG_hwpoison` of a page that memory failure or soft offline took, for
   * testing. Each outcome prints one `Unpoison: ...` line (KERN_INFO) and
   * returns: a page not poisoned ("Page was already unpoisoned"), one with
   * a reference besides memory failure's ("Someone grabs the hwpoison
   * page"), still mapped ("Someone maps"), still in a file ("has non-NULL
   * mapping") or a compound page ("Memory failure is now running on") is
   * left as it is; a page with no reference at all just loses the flag
   * ("Software-unpoisoned free page"); otherwise the flag goes, the count
   * goes down and the kept reference is dropped, freeing the frame to the
   * buddy allocator ("Software-unpoisoned page"). Throws KernelError ENXIO
   * for a pfn without a struct page (`pfn_valid()`), EINVAL for a pfn that
   * is not an unsigned integer.
   * @public
   */
  unpoisonMemory(pfn: number): void {
    checkUnsigned('unpoison_memory', 'pfn', pfn);
    const tracer = this.core.kernel.tracer;
    if (tracer.enabled) return tracer.invoke('unpoison_memory', this, this.unpoisonMemoryImpl, pfn);
    return this.unpoisonMemoryImpl(pfn);
  }

  /**
   * `hwpoison_filter(p)` (mm/memory-failure.c, v5.13): whether the page
   * fails the filters (true: leave it alone). Off unless
   * `hwpoisonFilter.enable`; then the device filter (`hwpoison_filter_dev()`:
   * a page that caches no file fails it; the model's only page cache is
   * shmem, whose internal mount has an anonymous device the model does not
   * number, so a set major or minor is matched by no page) and the flags
   * filter (`hwpoison_filter_flags()`: `stable_page_flags() & mask` must be
   * the value). EINVAL for a pfn without a struct page.
   * @public
   */
  hwpoisonFiltered(pfn: number): boolean {
    checkUnsigned('hwpoison_filter', 'pfn', pfn);
    if (!this.core.memmap.hasMemmap(pfn)) throw new KernelError('EINVAL', `hwpoison_filter: pfn ${hexp(pfn)} has no struct page`);
    const f = this.hwpoisonFilter;
    if (f.enable === 0) return false;
    if (f.devMajor !== U32_ALL || f.devMinor !== U32_ALL) return true;
    if (f.flagsMask !== 0n && and64(this.stablePageFlags(pfn), f.flagsMask) !== f.flagsValue) return true;
    return false;
  }

  /**
   * `stable_page_flags(page)` (fs/proc/page.c, v5.13): the page's
   * `/proc/kpageflags` word, for the flags filter: the page flags copied to
   * their `KPF_*` bits, plus `KPF_MMAP` (mapped), `KPF_ANON`,
   * `KPF_SWAPCACHE`, `KPF_BUDDY` (the head of a free buddy block),
   * `KPF_OFFLINE`, `KPF_ZERO_PAGE`, `KPF_COMPOUND_HEAD` and `KPF_HWPOISON`
   * (the model has no KSM, idle tracking, page-table page type or tails). EINVAL for a pfn without a struct page.
   * @public
   */
  stablePageFlags(pfn: number): bigint {
    checkUnsigned('stable_page_flags', 'pfn', pfn);
    const store = this.core.memmap;
    if (!store.hasMemmap(pfn)) throw new KernelError('EINVAL', `stable_page_flags: pfn ${hexp(pfn)} has no struct page`);
    let u = 0n;
    // each KPF bit is set at most once below
    const set = (bit: number): void => {
      u += 2n ** BigInt(bit);
    };
    if (store.pageMapcount(pfn) > 0) set(KPF_MMAP);
    const anon = isAnonMapping(store.pageMapping(pfn));
    if (anon) set(KPF_ANON);
    if (store.pageBuddy(pfn)) set(KPF_BUDDY);
    if (store.pageOffline(pfn)) set(KPF_OFFLINE);
    if (this.#system()?.isZeroPfn(pfn) === true) set(KPF_ZERO_PAGE);
    if (this.#flag(pfn, PG_head)) set(KPF_COMPOUND_HEAD);
    for (const [kpf, pg] of KPF_COPY) if (this.#flag(pfn, pg)) set(kpf);
    if (this.#flag(pfn, PG_swapcache) && this.#flag(pfn, PG_swapbacked)) set(KPF_SWAPCACHE);
    if (this.#flag(pfn, this.#hw)) set(KPF_HWPOISON);
    return u;
  }

  #checkFlags(fn: string, flags: number): void {
    checkUnsigned(fn, 'flags', flags, MF_COUNT_INCREASED + MF_ACTION_REQUIRED + MF_MUST_KILL + MF_SOFT_OFFLINE);
    if (hasBits(flags, MF_ACTION_REQUIRED)) throw new KernelError('EINVAL', `${fn}: MF_ACTION_REQUIRED needs a current task, which the model does not have`);
  }

  // ------------------------------------------------------------ helpers

  #flag(pfn: number, bit: number): boolean {
    return this.core.memmap.testPageFlag(pfn, bit);
  }

  #err(text: string): void {
    this.core.kernel.log.err(text);
  }

  #info(text: string): void {
    this.core.kernel.log.info(text);
  }

  /** `page->flags` as `%lx` prints it (no `0x`). */
  #flagsWord(pfn: number): string {
    const store = this.core.memmap;
    const hi = store.pageFlagsHi(pfn);
    const lo = store.pageFlagsLo(pfn);
    return hi === 0 ? lo.toString(16) : `${hi.toString(16)}${lo.toString(16).padStart(8, '0')}`;
  }

  /** `%pGp` of v5.13: the names of the set page flags, joined by `|`. */
  #flagNames(pfn: number): string {
    return formatPageFlags(this.core.memmap.pageFlagsLo(pfn), this.core.config.pageflags);
  }

  /** `put_page()` through mm/ when there is one (it takes an LRU page off its list first). */
  #putPage(pfn: number): void {
    const sys = this.#system();
    if (sys) sys.putPage(pfn);
    else this.core.putPage(pfn as Parameters<MmCore['putPage']>[0]);
  }

  /** `num_poisoned_pages_inc()`. */
  #numPoisonedInc(): void {
    this.#numPoisoned++;
  }

  /** `action_result(pfn, type, result)`: the one line every outcome prints. */
  #actionResult(pfn: number, type: string, result: number): void {
    this.#err(`Memory failure: ${hexp(pfn)}: recovery action for ${type}: ${ACTION_NAME[result]!}`);
  }

  #busy(pfn: number, type: string, result: number): KernelError {
    return new KernelError('EBUSY', `memory_failure: ${hexp(pfn)}: recovery action for ${type}: ${ACTION_NAME[result]!}`);
  }

  /**
   * `get_hwpoison_page(page)` (v5.13): a reference on the page unless it
   * is free (refcount 0). A compound page that is not anonymous memory
   * ("non anonymous thp": a kernel allocation) is refused.
   */
  #getHwpoisonPage(pfn: number): boolean {
    const store = this.core.memmap;
    if (store.testPageFlag(pfn, PG_head) && !isAnonMapping(store.pageMapping(pfn))) {
      this.#err(`Memory failure: ${hexp(pfn)}: non anonymous thp`);
      return false;
    }
    return store.getPageUnlessZero(pfn);
  }

  // ------------------------------------------------------------ memory_failure

  private memoryFailureImpl(pfn: number, flags: number): void {
    const core = this.core;
    const store = core.memmap;
    // pfn_to_online_page()
    if (!store.hasMemmap(pfn) || !core.pfnOnline(pfn)) {
      if (store.hasMemmap(pfn)) {
        const pgmap = this.devPagemaps?.getDevPagemap(pfn);
        if (pgmap) return this.memoryFailureDevPagemap(pfn, flags, pgmap);
      }
      this.#err(`Memory failure: ${hexp(pfn)}: memory outside kernel control`);
      throw new KernelError('ENXIO', `memory_failure: ${hexp(pfn)}: memory outside kernel control`);
    }
    // (PageHuge(p): hugetlb pages are not modelled)
    // TestSetPageHWPoison()
    if (this.#flag(pfn, this.#hw)) {
      this.#err(`Memory failure: ${hexp(pfn)}: already hardware poisoned`);
      throw new KernelError('EHWPOISON', `memory_failure: ${hexp(pfn)}: already hardware poisoned`);
    }
    store.setPageFlag(pfn, this.#hw);
    this.#numPoisonedInc();

    // A page with refcount 0 is free (or the tail of a non-compound
    // high-order kernel allocation): take it off the buddy lists, or pray.
    if (!hasBits(flags, MF_COUNT_INCREASED) && !this.#getHwpoisonPage(pfn)) {
      if (core.isFreeBuddyPage(pfn)) {
        let res = MF_FAILED;
        if (core.takePageOffBuddy(pfn)) {
          store.pageRefInc(pfn);
          res = MF_RECOVERED;
        }
        this.#actionResult(pfn, MF_MSG.BUDDY, res);
        if (res !== MF_RECOVERED) throw this.#busy(pfn, MF_MSG.BUDDY, res);
        return;
      }
      this.#actionResult(pfn, MF_MSG.KERNEL_HIGH_ORDER, MF_IGNORED);
      throw this.#busy(pfn, MF_MSG.KERNEL_HIGH_ORDER, MF_IGNORED);
    }
    // (PageTransHuge(hpage): anonymous THPs are not modelled, so there is
    // nothing to split; shake_page() has no per-cpu LRU vectors to drain.)

    // The flags before the containment changes them (unmapping clears
    // PG_mlocked in the kernel): the second chance of identify_page_state().
    const pageFlags = store.pageFlagsLo(pfn);
    // hwpoison_filter(): a page the injector's filters do not match is let go
    if (this.hwpoisonFiltered(pfn)) {
      store.clearPageFlag(pfn, this.#hw);
      this.#numPoisoned--;
      this.#putPage(pfn);
      return;
    }
    if (this.#flag(pfn, PG_lru) || this.#flag(pfn, PG_writeback)) {
      if (!this.hwpoisonUserMappings(pfn, flags)) {
        this.#actionResult(pfn, MF_MSG.UNMAP_FAILED, MF_IGNORED);
        throw this.#busy(pfn, MF_MSG.UNMAP_FAILED, MF_IGNORED);
      }
      // torn down by someone else?
      const mapping = store.pageMapping(pfn);
      if (this.#flag(pfn, PG_lru) && !this.#flag(pfn, PG_swapcache) && (mapping === undefined || mapping === null)) {
        this.#actionResult(pfn, MF_MSG.TRUNCATED_LRU, MF_IGNORED);
        throw this.#busy(pfn, MF_MSG.TRUNCATED_LRU, MF_IGNORED);
      }
    }
    this.identifyPageState(pfn, pageFlags);
  }

  /**
   * `hwpoison_user_mappings(p, pfn, flags, hpage)`: unmaps a mapped LRU
   * page from every process with `try_to_unmap(TTU_IGNORE_MLOCK)`; each
   * PTE becomes a hwpoison entry. The processes to kill at once would be
   * collected first (`collect_procs()`), but no process of the model asks
   * for early kill (see the top of the file). Returns whether the page is
   * no longer mapped.
   */
  private hwpoisonUserMappings(pfn: number, _flags: number): boolean {
    const store = this.core.memmap;
    if (this.#flag(pfn, PG_reserved) || this.#flag(pfn, PG_slab)) return true;
    if (!this.#flag(pfn, PG_lru)) return true;
    if (store.pageMapcount(pfn) <= 0) return true;
    const sys = this.#system();
    if (!sys) return true;
    // (page_mkclean() is for mappings that can write back; shmem cannot)
    tryToUnmap(sys, pfn, TTU_IGNORE_MLOCK);
    const unmapped = store.pageMapcount(pfn) <= 0;
    if (!unmapped) this.#err(`Memory failure: ${hexp(pfn)}: failed to unmap page (mapcount=${store.pageMapcount(pfn)})`);
    // kill_procs(): nobody was collected
    return unmapped;
  }

  /**
   * `identify_page_state(pfn, p, page_flags)`: the first `error_states[]`
   * row the page's flags match (the saved flags, with the current dirty
   * bit, when only the catch-all matched), then `page_action()`.
   */
  private identifyPageState(pfn: number, savedFlags: number): void {
    const cur = this.core.memmap.pageFlagsLo(pfn);
    let ps = this.#states.find((s) => matches(cur, s))!;
    if (ps.mask.length === 0) {
      const flags = bitOf(cur, PG_dirty) && !bitOf(savedFlags, PG_dirty) ? savedFlags + 2 ** PG_dirty : savedFlags;
      ps = this.#states.find((s) => matches(flags, s))!;
    }
    this.pageAction(ps, pfn);
  }

  /**
   * `page_action(ps, p, pfn)` (v5.13): runs the row's handler; a page still
   * referenced by anyone but memory failure itself (a GUP pin, a kernel
   * user) is reported and the result becomes Failed. Recovered and Delayed
   * succeed; anything else is EBUSY.
   */
  private pageAction(ps: PageState, pfn: number): void {
    let result = ps.action(pfn);
    let count = this.core.memmap.pageRefCount(pfn) - 1;
    if (ps.type === MF_MSG.DIRTY_SWAPCACHE && result === MF_DELAYED) count--;
    if (count > 0) {
      this.#err(`Memory failure: ${hexp(pfn)}: ${ps.type} still referenced by ${count} users`);
      result = MF_FAILED;
    }
    this.#actionResult(pfn, ps.type, result);
    if (result !== MF_RECOVERED && result !== MF_DELAYED) throw this.#busy(pfn, ps.type, result);
  }

  /**
   * `delete_from_lru_cache(p)`: takes the page off its LRU list for good
   * (`PG_active` and `PG_unevictable` cleared); 0, or -EIO when it was on
   * none.
   */
  private deleteFromLruCache(pfn: number): number {
    const sys = this.#system();
    if (!sys || !this.#flag(pfn, PG_lru)) return -ERRNO.EIO;
    isolateLruPage(sys, pfn);
    const store = this.core.memmap;
    store.clearPageFlag(pfn, PG_active);
    store.clearPageFlag(pfn, PG_unevictable);
    sys.putPage(pfn); // the isolation's reference
    return 0;
  }

  /** `me_unknown()`: a page in no state memory failure knows. */
  private meUnknown(pfn: number): number {
    this.#err(`Memory failure: ${hexp(pfn)}: Unknown page state`);
    return MF_FAILED;
  }

  /**
   * `me_pagecache_clean()`: off the LRU; an anonymous page is then done
   * (its PTEs are hwpoison entries already), a shmem page is punched out of
   * its file (`truncate_error_page()` with `shmem_error_remove_page()`); a
   * page with no mapping left fails.
   */
  private mePagecacheClean(pfn: number): number {
    this.deleteFromLruCache(pfn);
    const store = this.core.memmap;
    const mapping = store.pageMapping(pfn);
    if (isAnonMapping(mapping)) return MF_RECOVERED;
    if (mapping === undefined || mapping === null) return MF_FAILED;
    const sys = this.#system();
    if (sys?.shmemErrorRemovePage(pfn)) return MF_RECOVERED;
    this.#info(`Memory failure: ${hexp(pfn)}: Failed to invalidate`);
    return MF_FAILED;
  }

  /**
   * `me_pagecache_dirty()`: `PG_error` (the file's `AS_EIO` has no reader
   * in the model), then as a clean page.
   */
  private mePagecacheDirty(pfn: number): number {
    this.core.memmap.setPageFlag(pfn, PG_error);
    return this.mePagecacheClean(pfn);
  }

  /** `me_swapcache_dirty()`: kept (Delayed) for the fault to find; the model has no swap cache. */
  private meSwapcacheDirty(pfn: number): number {
    const store = this.core.memmap;
    store.clearPageFlag(pfn, PG_dirty);
    store.clearPageFlag(pfn, PG_uptodate);
    return this.deleteFromLruCache(pfn) !== 0 ? MF_FAILED : MF_DELAYED;
  }

  /** `me_swapcache_clean()`: dropped; a later fault reads the data back from swap. */
  private meSwapcacheClean(pfn: number): number {
    return this.deleteFromLruCache(pfn) !== 0 ? MF_FAILED : MF_RECOVERED;
  }

  /**
   * `memory_failure_dev_pagemap(pfn, flags, pgmap)` (v5.13): a ZONE_DEVICE
   * page. An altmap pfn (the device's own memmap) is -ENXIO. The page must
   * be locked through its DAX mapping (`dax_lock_page()`): only a device-dax
   * page that a process has faulted in has one (`page->mapping` is the
   * character device's); then `PG_hwpoison` is set, the mapping processes
   * would be collected for SIGBUS (none asks for early kill, and the writer
   * of the sysfs file maps nothing), and the result is Recovered. Without
   * one (an unmapped page, fs-dax without a filesystem, device-private
   * memory) it is -EBUSY, Failed. `num_poisoned_pages` is not counted.
   */
  private memoryFailureDevPagemap(pfn: number, flags: number, pgmap: ZoneDevicePagemap): void {
    const lookup = this.devPagemaps!;
    if (hasBits(flags, MF_COUNT_INCREASED)) this.#putPage(pfn);
    let rc: 'EBUSY' | 'ENXIO' | undefined = 'EBUSY';
    if (lookup.pgmapPfnValid && !lookup.pgmapPfnValid(pgmap, pfn)) {
      rc = 'ENXIO'; // device metadata space is not recoverable
    } else {
      const mapping = this.core.memmap.pageMapping(pfn);
      // dax_lock_page(): a cookie only for a page with a DAX mapping
      if (mapping !== undefined && mapping !== null && !isAnonMapping(mapping)) {
        this.core.memmap.setPageFlag(pfn, this.#hw);
        rc = undefined;
      }
    }
    lookup.putDevPagemap(pgmap);
    this.#actionResult(pfn, MF_MSG.DAX, rc !== undefined ? MF_FAILED : MF_RECOVERED);
    if (rc !== undefined) throw new KernelError(rc, `memory_failure: ${hexp(pfn)}: recovery action for ${MF_MSG.DAX}: Failed`);
  }

  // ------------------------------------------------------------ unpoison

  /** `unpoison_pr_info()`: the line (the kernel ratelimits it; the model does not). */
  #unpoisonInfo(what: string, pfn: number): void {
    this.#info(`Unpoison: ${what} ${hexp(pfn)}`);
  }

  private unpoisonMemoryImpl(pfn: number): void {
    const store = this.core.memmap;
    if (!store.hasMemmap(pfn)) throw new KernelError('ENXIO', `unpoison_memory: pfn ${hexp(pfn)} is not valid`);
    // (compound_head(): the compound pages the model poisons are their own heads)
    if (!this.#flag(pfn, this.#hw)) {
      this.#unpoisonInfo('Page was already unpoisoned', pfn);
      return;
    }
    if (store.pageRefCount(pfn) > 1) {
      this.#unpoisonInfo('Someone grabs the hwpoison page', pfn);
      return;
    }
    if (store.pageMapcount(pfn) > 0) {
      this.#unpoisonInfo('Someone maps the hwpoison page', pfn);
      return;
    }
    // page_mapping(): an anonymous page has none
    const mapping = store.pageMapping(pfn);
    if (mapping !== undefined && mapping !== null && !isAnonMapping(mapping)) {
      this.#unpoisonInfo('the hwpoison page has non-NULL mapping', pfn);
      return;
    }
    // a THP being worked on by memory_failure() (hugetlb is not modelled)
    if (this.#flag(pfn, PG_head)) {
      this.#unpoisonInfo('Memory failure is now running on', pfn);
      return;
    }
    if (!store.getPageUnlessZero(pfn)) {
      store.clearPageFlag(pfn, this.#hw);
      this.#numPoisoned--;
      this.#unpoisonInfo('Software-unpoisoned free page', pfn);
      return;
    }
    store.clearPageFlag(pfn, this.#hw);
    this.#unpoisonInfo('Software-unpoisoned page', pfn);
    this.#numPoisoned--;
    // our reference, then the one memory failure kept (but never the zero
    // page's own last one)
    this.#putPage(pfn);
    const zero = this.#system()?.zeroPfn;
    if (!(pfn === zero && store.pageRefCount(pfn) === 1)) this.#putPage(pfn);
  }

  // ------------------------------------------------------------ soft offline

  private softOfflinePageImpl(pfn: number, flags: number): void {
    const core = this.core;
    const store = core.memmap;
    if (!store.hasMemmap(pfn)) throw new KernelError('ENXIO', `soft_offline_page: pfn ${hexp(pfn)} is not valid`);
    // only online pages can be soft-offlined (not ZONE_DEVICE)
    if (!core.pfnOnline(pfn)) throw new KernelError('EIO', `soft_offline_page: pfn ${hexp(pfn)} is not online`);
    if (this.#flag(pfn, this.#hw)) {
      this.#info(`soft_offline_page: ${hexp(pfn)} page already poisoned`);
      if (hasBits(flags, MF_COUNT_INCREASED)) this.#putPage(pfn);
      return;
    }
    let tryAgain = true;
    let f = flags;
    for (;;) {
      const ret = this.getAnyPage(pfn, f);
      if (ret > 0) return this.softOfflineInUsePage(pfn);
      if (ret === -ERRNO.EIO) {
        this.#info(`soft_offline_page: ${hexp(pfn)}: unknown page type: ${this.#flagsWord(pfn)} (${this.#flagNames(pfn)})`);
        throw new KernelError('EIO', `soft_offline_page: ${hexp(pfn)}: unknown page type`);
      }
      if (ret < 0) throw new KernelError('EBUSY', `soft_offline_page: ${hexp(pfn)}: the page is busy`);
      // a free page; v5.13 retries once and then returns 0 however it went
      if (this.softOfflineFreePage(pfn) !== 0 && tryAgain) {
        tryAgain = false;
        f = clearFlag(f, MF_COUNT_INCREASED);
        continue;
      }
      return;
    }
  }

  /**
   * `get_any_page(p, flags)` (mm/memory-failure.c, v5.13, as refactored in
   * v5.11): 1 with a reference on an in-use page memory failure can handle
   * (on an LRU list), 0 for a free buddy page, -EBUSY for a referenced page
   * that `get_hwpoison_page()` refused, -EIO for a free page the buddy
   * allocator does not own or an in-use page of another kind (a kernel
   * page). Each doubtful answer is looked at again, up to three more times
   * (`shake_page()` has nothing to drain in the model).
   */
  private getAnyPage(pfn: number, flags: number): number {
    const store = this.core.memmap;
    let pass = 0;
    let countIncreased = hasBits(flags, MF_COUNT_INCREASED);
    for (;;) {
      if (!countIncreased && !this.#getHwpoisonPage(pfn)) {
        if (store.pageRefCount(pfn) > 0) {
          // raced with an allocation
          if (pass++ < 3) continue;
          return -ERRNO.EBUSY;
        }
        if (!this.core.isFreeBuddyPage(pfn)) {
          // raced with put_page()
          if (pass++ < 3) continue;
          return -ERRNO.EIO;
        }
        return 0;
      }
      // (PageHuge and __PageMovable: neither exists in the model)
      if (this.#flag(pfn, PG_lru)) return 1;
      this.#putPage(pfn);
      if (pass++ < 3) {
        countIncreased = false;
        continue;
      }
      return -ERRNO.EIO;
    }
  }

  /**
   * `page_handle_poison(page, hugepage_or_freepage, release)` (v5.13): a
   * free page must first come off the buddy lists (false if it cannot);
   * then `PG_hwpoison`, the caller's reference dropped if `release` (the
   * frame is leaked, never freed), one reference taken for good, and the
   * page counted.
   */
  private pageHandlePoison(pfn: number, freePage: boolean, release: boolean): boolean {
    const store = this.core.memmap;
    if (freePage && !this.core.takePageOffBuddy(pfn)) return false;
    store.setPageFlag(pfn, this.#hw);
    if (release) this.#putPage(pfn);
    store.pageRefInc(pfn);
    this.#numPoisonedInc();
    return true;
  }

  /** `soft_offline_free_page(page)`: 0, or -EBUSY when the page was no longer free. */
  private softOfflineFreePage(pfn: number): number {
    return this.pageHandlePoison(pfn, true, false) ? 0 : -ERRNO.EBUSY;
  }

  /**
   * `soft_offline_in_use_page(page)` (v5.13), holding a reference: a page
   * poisoned meanwhile is done; a clean, unmapped shmem page is dropped
   * from its file (`invalidate_inode_page()`); otherwise the page is
   * isolated from its LRU list and migrated (`migrate_pages()` with
   * `alloc_migration_target()`: `GFP_USER | __GFP_MOVABLE |
   * __GFP_RETRY_MAYFAIL` on the page's node first), and the old frame is
   * poisoned. A failed migration puts the page back (EBUSY, or the ENOMEM
   * of no new page).
   */
  private softOfflineInUsePage(pfn: number): void {
    const store = this.core.memmap;
    const sys = this.#system();
    if (this.#flag(pfn, this.#hw)) {
      this.#putPage(pfn);
      this.#info(`soft offline: ${hexp(pfn)} page already poisoned`);
      return;
    }
    if (sys && this.invalidateInodePage(sys, pfn)) {
      this.#info(`soft_offline: ${hexp(pfn)}: invalidated`);
      this.pageHandlePoison(pfn, false, true);
      return;
    }
    // isolate_page(): the isolation's reference replaces get_any_page()'s
    let isolated = false;
    if (sys && this.#flag(pfn, PG_lru)) {
      isolateLruPage(sys, pfn);
      isolated = true;
    }
    this.#putPage(pfn);
    if (!sys || !isolated) {
      this.#info(`soft offline: ${hexp(pfn)}: page isolation failed, page count ${store.pageRefCount(pfn)}, type ${this.#flagsWord(pfn)} (${this.#flagNames(pfn)})`);
      throw new KernelError('EBUSY', `soft_offline_page: ${hexp(pfn)}: page isolation failed`);
    }
    const nid = store.pageToNid(pfn);
    const gfp = gfpOr(gfpOr(GFP_USER, __GFP_MOVABLE), __GFP_RETRY_MAYFAIL);
    const alloc = (): number | undefined => this.core.allocPagesNode(nid, gfp, 0);
    const from = [pfn];
    let ret: number;
    try {
      ret = migratePages(sys, from, alloc, undefined, MIGRATE_SYNC, MR_MEMORY_FAILURE).nrFailed;
    } catch (e) {
      if (!(e instanceof KernelError) || e.errno !== 'ENOMEM') throw e;
      ret = -ERRNO.ENOMEM;
    }
    if (ret === 0) {
      this.pageHandlePoison(pfn, false, true);
      return;
    }
    for (const p of from) putbackLruPage(sys, p); // putback_movable_pages()
    this.#info(`soft offline: ${hexp(pfn)}: page migration failed ${ret}, type ${this.#flagsWord(pfn)} (${this.#flagNames(pfn)})`);
    if (ret > 0) throw new KernelError('EBUSY', `soft_offline_page: ${hexp(pfn)}: page migration failed ${ret}`);
    throw new KernelError('ENOMEM', `soft_offline_page: ${hexp(pfn)}: page migration failed ${ret}`);
  }

  /**
   * `invalidate_inode_page(page)` (mm/truncate.c): drops a page-cache page
   * that nobody needs (clean, not under writeback, unmapped, referenced by
   * its cache and the caller only). Anonymous pages have no page cache:
   * false.
   */
  private invalidateInodePage(sys: MmSystem, pfn: number): boolean {
    const store = this.core.memmap;
    if (!sys.isShmemPage(pfn)) return false;
    if (this.#flag(pfn, PG_dirty) || this.#flag(pfn, PG_writeback)) return false;
    if (store.pageMapcount(pfn) > 0) return false;
    if (store.pageRefCount(pfn) !== 2) return false;
    return sys.shmemErrorRemovePage(pfn);
  }
}

/** `a & b` of two u64 words. */
function and64(a: bigint, b: bigint): bigint {
  let r = 0n;
  for (let i = 0n; i < 64n; i++) {
    const bit = 2n ** i;
    if ((a / bit) % 2n === 1n && (b / bit) % 2n === 1n) r += bit;
  }
  return r;
}

/** `flags & ~bit` for a flag that is set or not. */
function clearFlag(flags: number, bit: number): number {
  return hasBits(flags, bit) ? flags - bit : flags;
}

/** Whether bit `b` of a flags word is set. */
function bitOf(flags: number, b: number): boolean {
  return Math.floor(flags / 2 ** b) % 2 === 1;
}

/** `(flags & ps->mask) == ps->res`. */
function matches(flags: number, ps: PageState): boolean {
  for (const b of ps.mask) if (bitOf(flags, b) !== ps.res.includes(b)) return false;
  return true;
}
