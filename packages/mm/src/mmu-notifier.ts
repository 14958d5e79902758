/**
 * Interval MMU notifiers, mirroring mm/mmu_notifier.c and
 * include/linux/mmu_notifier.h (Linux v5.13).
 *
 * An mm's {@link MmuNotifierSubscriptions} keeps a global `invalidate_seq`:
 * even while no invalidation overlaps any interval subscription, odd while
 * one does. Each {@link MmuIntervalNotifier} keeps its own sequence, which is
 * always odd: a reader samples it with {@link mmuIntervalReadBegin}, and an
 * invalidation's `invalidate()` callback stores the current odd global value
 * with {@link mmuIntervalSetSeq}, so {@link mmuIntervalReadRetry} sees the
 * change. Inserting or removing a subscription while an invalidation is in
 * progress is deferred to the end of the last active invalidation, as
 * `mn_itree_inv_end()` does.
 */
import { KernelError, checkUnsigned } from '@zonedev/kernel';

/** `MMU_NOTIFY_UNMAP` (enum mmu_notifier_event): the range is being unmapped. @public */
export const MMU_NOTIFY_UNMAP = 0;
/** `MMU_NOTIFY_CLEAR`: the page table entries are cleared (e.g. zap, reclaim). @public */
export const MMU_NOTIFY_CLEAR = 1;
/** `MMU_NOTIFY_PROTECTION_VMA`: an mprotect() changes the whole range's protection. @public */
export const MMU_NOTIFY_PROTECTION_VMA = 2;
/** `MMU_NOTIFY_PROTECTION_PAGE`: a page's protection changes (e.g. write-protect for KSM). @public */
export const MMU_NOTIFY_PROTECTION_PAGE = 3;
/** `MMU_NOTIFY_SOFT_DIRTY`: soft-dirty tracking clears the write bit. @public */
export const MMU_NOTIFY_SOFT_DIRTY = 4;
/** `MMU_NOTIFY_RELEASE`: the mm is going away (exit_mmap). @public */
export const MMU_NOTIFY_RELEASE = 5;
/** `MMU_NOTIFY_MIGRATE`: migrate_vma is moving pages; `migrate_pgmap_owner` says whose. @public */
export const MMU_NOTIFY_MIGRATE = 6;

/** One of the `MMU_NOTIFY_*` events (enum mmu_notifier_event, v5.13 order). @public */
export type MmuNotifierEvent = 0 | 1 | 2 | 3 | 4 | 5 | 6;

const EVENT_NAMES = [
  'MMU_NOTIFY_UNMAP',
  'MMU_NOTIFY_CLEAR',
  'MMU_NOTIFY_PROTECTION_VMA',
  'MMU_NOTIFY_PROTECTION_PAGE',
  'MMU_NOTIFY_SOFT_DIRTY',
  'MMU_NOTIFY_RELEASE',
  'MMU_NOTIFY_MIGRATE',
] as const;

/** The enumerator's name for an event, e.g. `'MMU_NOTIFY_MIGRATE'`; EINVAL for a value `enum mmu_notifier_event` does not have. @public */
export function mmuNotifierEventName(event: MmuNotifierEvent): string {
  const name = Number.isInteger(event) ? EVENT_NAMES[event] : undefined;
  if (name === undefined) throw new KernelError('EINVAL', `mmu_notifier: no event ${String(event)}`);
  return name;
}

/** EINVAL unless `mm` carries notifier state: an address space (`notifierSubscriptions` null or a subscription set). */
function checkNotifierMm(fn: string, mm: unknown): asserts mm is MmuNotifierMm {
  const s = typeof mm === 'object' && mm !== null ? (mm as MmuNotifierMm).notifierSubscriptions : undefined;
  if (s !== null && !(s instanceof MmuNotifierSubscriptions)) throw new KernelError('EINVAL', `${fn}: not an mm: ${String(mm)}`);
}

/** EINVAL unless `range` is a `struct mmu_notifier_range` of an mm: a known event, flags, and start <= end. */
function checkRange(fn: string, range: unknown): asserts range is MmuNotifierRange {
  if (typeof range !== 'object' || range === null) throw new KernelError('EINVAL', `${fn}: no range`);
  const r = range as MmuNotifierRange;
  checkNotifierMm(fn, r.mm);
  mmuNotifierEventName(r.event);
  checkUnsigned(fn, 'flags', r.flags);
  checkUnsigned(fn, 'start', r.start);
  checkUnsigned(fn, 'end', r.end);
  if (r.end < r.start) throw new KernelError('EINVAL', `${fn}: range end below start`);
}

/** EINVAL unless `sub` is a `struct mmu_interval_notifier`. */
function checkSub(fn: string, sub: unknown): asserts sub is MmuIntervalNotifier {
  if (!(sub instanceof MmuIntervalNotifier)) throw new KernelError('EINVAL', `${fn}: not an interval notifier: ${String(sub)}`);
}

/** EINVAL unless `seq` is a notifier sequence (an unsigned long). */
function checkSeq(fn: string, seq: unknown): asserts seq is number {
  checkUnsigned(fn, 'seq', seq);
}

/** `MMU_NOTIFIER_RANGE_BLOCKABLE` (include/linux/mmu_notifier.h): the invalidation may sleep. @public */
export const MMU_NOTIFIER_RANGE_BLOCKABLE = 1;

/**
 * What an mm must carry for notifiers: `mm->notifier_subscriptions`,
 * allocated on the first registration.
 * @public
 */
export interface MmuNotifierMm {
  /** `mm->notifier_subscriptions`, null until the first registration. */
  notifierSubscriptions: MmuNotifierSubscriptions | null;
}

/**
 * `struct mmu_notifier_range` (include/linux/mmu_notifier.h): the
 * `[start, end)` range of `mm` being invalidated, why, and for
 * `MMU_NOTIFY_MIGRATE` the pgmap owner doing it.
 * @public
 */
export interface MmuNotifierRange {
  /** The mm whose range it is. */
  readonly mm: MmuNotifierMm;
  /** Why the range is invalidated. */
  readonly event: MmuNotifierEvent;
  /** First address. */
  readonly start: number;
  /** End address, exclusive. */
  readonly end: number;
  /** `MMU_NOTIFIER_RANGE_*` flags. */
  flags: number;
  /** For `MMU_NOTIFY_MIGRATE`: the `pgmap->owner` migrating, else null. */
  readonly migratePgmapOwner: unknown;
}

/**
 * `mmu_notifier_range_init(range, event, flags, vma, mm, start, end)`
 * (include/linux/mmu_notifier.h).
 * @public
 */
export function mmuNotifierRangeInit(
  event: MmuNotifierEvent,
  flags: number,
  mm: MmuNotifierMm,
  start: number,
  end: number,
): MmuNotifierRange {
  mmuNotifierEventName(event);
  checkUnsigned('mmu_notifier_range_init', 'flags', flags);
  checkNotifierMm('mmu_notifier_range_init', mm);
  checkUnsigned('mmu_notifier_range_init', 'start', start);
  checkUnsigned('mmu_notifier_range_init', 'end', end);
  if (end < start) throw new KernelError('EINVAL', `range end 0x${end.toString(16)} below start 0x${start.toString(16)}`);
  return { mm, event, start, end, flags, migratePgmapOwner: null };
}

/**
 * `mmu_notifier_range_init_migrate(range, flags, vma, mm, start, end, pgmap)`
 * (include/linux/mmu_notifier.h): event `MMU_NOTIFY_MIGRATE`, owner `pgmap`.
 * @public
 */
export function mmuNotifierRangeInitMigrate(
  flags: number,
  mm: MmuNotifierMm,
  start: number,
  end: number,
  pgmapOwner: unknown,
): MmuNotifierRange {
  return { ...mmuNotifierRangeInit(MMU_NOTIFY_MIGRATE, flags, mm, start, end), migratePgmapOwner: pgmapOwner };
}

/** `mmu_notifier_range_blockable(range)` (include/linux/mmu_notifier.h). @public */
export function mmuNotifierRangeBlockable(range: MmuNotifierRange): boolean {
  checkRange('mmu_notifier_range_blockable', range);
  return range.flags % 2 === 1;
}

/**
 * `struct mmu_interval_notifier_ops` (include/linux/mmu_notifier.h).
 * `invalidate` must call {@link mmuIntervalSetSeq} with `curSeq` when it
 * returns true; it returns false only for a non-blockable range it cannot
 * handle without sleeping.
 * @public
 */
export interface MmuIntervalNotifierOps {
  /** `invalidate(interval_sub, range, cur_seq)`: true when handled. */
  invalidate(sub: MmuIntervalNotifier, range: MmuNotifierRange, curSeq: number): boolean;
}

/**
 * `struct mmu_interval_notifier` (include/linux/mmu_notifier.h): an interval
 * `[start, last]` of an mm's address space (as `unsigned long`, so bigint)
 * with its own sequence count.
 * @public
 */
export class MmuIntervalNotifier {
  /** The mm it is subscribed to, once inserted. */
  mm: MmuNotifierMm | null = null;
  /** Its operations, once inserted. */
  ops: MmuIntervalNotifierOps | null = null;
  /** First address of the interval (`interval_tree.start`). */
  start = 0n;
  /** Last address of the interval, inclusive (`interval_tree.last`). */
  last = 0n;
  /** `invalidate_seq`: always odd once inserted. */
  invalidateSeq = 0;
}

type Waiter = { seq: number; resolve: () => void };

/**
 * `struct mmu_notifier_subscriptions` (mm/mmu_notifier.c), interval-tree
 * half: the global sequence, the active invalidation count, the subscriptions
 * ordered by start as the interval tree walks them, and the deferred list.
 * @public
 */
export class MmuNotifierSubscriptions {
  /** `invalidate_seq`: starts at 2 (`__mmu_notifier_register`), odd while invalidating. */
  invalidateSeq = 2;
  /** `active_invalidate_ranges`: invalidations between range_start and range_end. */
  activeInvalidateRanges = 0;
  readonly #itree: MmuIntervalNotifier[] = [];
  readonly #deferred: MmuIntervalNotifier[] = [];
  readonly #waiters: Waiter[] = [];

  /** `mn_itree_is_invalidating()`: whether the global sequence is odd. */
  isInvalidating(): boolean {
    return this.invalidateSeq % 2 === 1;
  }

  /** The subscriptions in the interval tree, in its order (start, then insertion). */
  intervals(): readonly MmuIntervalNotifier[] {
    return [...this.#itree];
  }

  /** Subscriptions whose insert or remove waits for the end of the invalidation. */
  deferred(): readonly MmuIntervalNotifier[] {
    return [...this.#deferred];
  }

  /** @internal Whether `sub` is in the interval tree (not RB_EMPTY_NODE). */
  inTree(sub: MmuIntervalNotifier): boolean {
    checkSub('mmu_notifier_subscriptions', sub);
    return this.#itree.includes(sub);
  }

  /** @internal interval_tree_insert: after every node with a start not above it. */
  treeInsert(sub: MmuIntervalNotifier): void {
    checkSub('mmu_notifier_subscriptions', sub);
    let i = this.#itree.length;
    while (i > 0 && this.#itree[i - 1]!.start > sub.start) i--;
    this.#itree.splice(i, 0, sub);
  }

  /** @internal interval_tree_remove */
  treeRemove(sub: MmuIntervalNotifier): void {
    checkSub('mmu_notifier_subscriptions', sub);
    const i = this.#itree.indexOf(sub);
    if (i >= 0) this.#itree.splice(i, 1);
  }

  /** @internal hlist_add_head on the deferred list. */
  defer(sub: MmuIntervalNotifier): void {
    checkSub('mmu_notifier_subscriptions', sub);
    this.#deferred.unshift(sub);
  }

  /** @internal hlist_del from the deferred list; whether it was there. */
  undefer(sub: MmuIntervalNotifier): boolean {
    checkSub('mmu_notifier_subscriptions', sub);
    const i = this.#deferred.indexOf(sub);
    if (i < 0) return false;
    this.#deferred.splice(i, 1);
    return true;
  }

  /** @internal interval_tree_iter_first/next: subscriptions overlapping [start, last]. */
  overlapping(start: bigint, last: bigint): MmuIntervalNotifier[] {
    for (const v of [start, last]) if (typeof v !== 'bigint' || v < 0n || v > ULONG_MAX) throw new KernelError('EINVAL', `interval_tree_iter_first: bad bound ${String(v)}`);
    return this.#itree.filter((s) => s.start <= last && s.last >= start);
  }

  /** @internal wait_event(subscriptions->wq, invalidate_seq != seq) */
  waitFor(seq: number): Promise<void> {
    checkSeq('wait_event', seq);
    if (this.invalidateSeq !== seq) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ seq, resolve }));
  }

  /** @internal mn_itree_inv_end() */
  invEnd(): void {
    this.activeInvalidateRanges--;
    if (this.activeInvalidateRanges > 0 || !this.isInvalidating()) return;
    this.invalidateSeq++;
    for (const sub of [...this.#deferred]) {
      if (this.inTree(sub)) this.treeRemove(sub);
      else this.treeInsert(sub);
    }
    this.#deferred.length = 0;
    const woken = this.#waiters.filter((w) => w.seq !== this.invalidateSeq);
    for (const w of woken) this.#waiters.splice(this.#waiters.indexOf(w), 1);
    for (const w of woken) w.resolve();
  }
}

const ULONG_MAX = 2n ** 64n - 1n;

function toUlong(what: string, x: number | bigint): bigint {
  if (typeof x !== 'number' && typeof x !== 'bigint') throw new KernelError('EINVAL', `${what} ${String(x)} is not an unsigned long`);
  if (typeof x === 'number') {
    if (!Number.isSafeInteger(x) || x < 0) throw new KernelError('EINVAL', `${what} ${x} is not an unsigned long`);
    return BigInt(x);
  }
  if (x < 0n || x > ULONG_MAX) throw new KernelError('EINVAL', `${what} ${x} is not an unsigned long`);
  return x;
}

function subscriptionsOf(mm: MmuNotifierMm): MmuNotifierSubscriptions {
  if (!mm.notifierSubscriptions) mm.notifierSubscriptions = new MmuNotifierSubscriptions();
  return mm.notifierSubscriptions;
}

/**
 * `mmu_interval_notifier_insert(interval_sub, mm, start, length, ops)`
 * (mm/mmu_notifier.c). -EOVERFLOW when `length` is 0 or `start + length - 1`
 * does not fit in an `unsigned long` (64 bits). While invalidations are
 * active the insert is deferred (if one overlaps a subscription) or the
 * global sequence is made odd first, and the new subscription starts with the
 * global (odd) sequence; otherwise it starts one below the even global value.
 * @public
 */
export function mmuIntervalNotifierInsert(
  sub: MmuIntervalNotifier,
  mm: MmuNotifierMm,
  start: number | bigint,
  length: number | bigint,
  ops: MmuIntervalNotifierOps,
): void {
  checkSub('mmu_interval_notifier_insert', sub);
  checkNotifierMm('mmu_interval_notifier_insert', mm);
  if (typeof ops !== 'object' || ops === null || typeof ops.invalidate !== 'function') {
    throw new KernelError('EINVAL', 'mmu_interval_notifier_insert: ops has no invalidate()');
  }
  const s = toUlong('start', start);
  const len = toUlong('length', length);
  if (len === 0n || s + len - 1n > ULONG_MAX) {
    throw new KernelError('EOVERFLOW', `interval at 0x${s.toString(16)} of length 0x${len.toString(16)} overflows`);
  }
  if (sub.mm !== null) throw new KernelError('EBUSY', 'interval notifier is already inserted');
  const subs = subscriptionsOf(mm);
  sub.mm = mm;
  sub.ops = ops;
  sub.start = s;
  sub.last = s + len - 1n;
  if (subs.activeInvalidateRanges > 0) {
    if (subs.isInvalidating()) subs.defer(sub);
    else {
      subs.invalidateSeq += 1;
      subs.treeInsert(sub);
    }
    sub.invalidateSeq = subs.invalidateSeq;
  } else {
    sub.invalidateSeq = subs.invalidateSeq - 1;
    subs.treeInsert(sub);
  }
}

/**
 * `mmu_interval_notifier_remove(interval_sub)` (mm/mmu_notifier.c). During an
 * invalidation the removal is deferred to its end (an insert still on the
 * deferred list is simply dropped); the kernel's caller then sleeps until the
 * end, and {@link mmuIntervalNotifierRemoveWait} is that wait.
 * @public
 */
export function mmuIntervalNotifierRemove(sub: MmuIntervalNotifier): void {
  checkSub('mmu_interval_notifier_remove', sub);
  const mm = sub.mm;
  if (!mm || !mm.notifierSubscriptions) throw new KernelError('EINVAL', 'interval notifier is not inserted');
  const subs = mm.notifierSubscriptions;
  if (subs.isInvalidating()) {
    if (!subs.inTree(sub)) subs.undefer(sub);
    else if (!subs.deferred().includes(sub)) subs.defer(sub);
  } else {
    subs.treeRemove(sub);
  }
  sub.mm = null;
  sub.ops = null;
}

/**
 * The sleep at the end of `mmu_interval_notifier_remove()`: resolves once the
 * invalidation in progress when `sub` was removed has ended.
 * @public
 */
export function mmuIntervalNotifierRemoveWait(mm: MmuNotifierMm): Promise<void> {
  checkNotifierMm('mmu_interval_notifier_remove', mm);
  const subs = mm.notifierSubscriptions;
  if (!subs || !subs.isInvalidating()) return Promise.resolve();
  return subs.waitFor(subs.invalidateSeq);
}

function liveSubscriptions(sub: MmuIntervalNotifier): MmuNotifierSubscriptions {
  checkSub('mmu_interval_read_begin', sub);
  const subs = sub.mm?.notifierSubscriptions;
  if (!subs) throw new KernelError('EINVAL', 'interval notifier is not inserted');
  return subs;
}

/**
 * `mmu_interval_read_begin(interval_sub)` (mm/mmu_notifier.c): the
 * subscription's (odd) sequence. If an invalidation of this subscription is
 * in progress the kernel sleeps until it ends; a synchronous caller cannot
 * sleep here (nothing else runs to end it), so the model throws -EDEADLK and
 * {@link mmuIntervalReadBeginAsync} is the sleeping form.
 * @public
 */
export function mmuIntervalReadBegin(sub: MmuIntervalNotifier): number {
  const subs = liveSubscriptions(sub);
  const seq = sub.invalidateSeq;
  if (seq === subs.invalidateSeq) {
    throw new KernelError('EDEADLK', 'mmu_interval_read_begin would sleep until the invalidation in progress ends');
  }
  return seq;
}

/**
 * `mmu_interval_read_begin()` with its sleep: waits for an invalidation of
 * `sub` in progress to end, then returns the sequence it sampled.
 * @public
 */
export function mmuIntervalReadBeginAsync(sub: MmuIntervalNotifier): Promise<number> {
  // the checks are synchronous: a bad argument throws before any promise exists
  const subs = liveSubscriptions(sub);
  const seq = sub.invalidateSeq;
  if (seq !== subs.invalidateSeq) return Promise.resolve(seq);
  return subs.waitFor(seq).then(() => seq);
}

/** `mmu_interval_read_retry(interval_sub, seq)` (include/linux/mmu_notifier.h), under the driver's lock. @public */
export function mmuIntervalReadRetry(sub: MmuIntervalNotifier, seq: number): boolean {
  checkSub('mmu_interval_read_retry', sub);
  checkSeq('mmu_interval_read_retry', seq);
  return sub.invalidateSeq !== seq;
}

/** `mmu_interval_check_retry(interval_sub, seq)` (include/linux/mmu_notifier.h), the lockless hint. @public */
export function mmuIntervalCheckRetry(sub: MmuIntervalNotifier, seq: number): boolean {
  checkSub('mmu_interval_check_retry', sub);
  checkSeq('mmu_interval_check_retry', seq);
  return sub.invalidateSeq !== seq;
}

/** `mmu_interval_set_seq(interval_sub, cur_seq)` (include/linux/mmu_notifier.h), from `invalidate()`. @public */
export function mmuIntervalSetSeq(sub: MmuIntervalNotifier, curSeq: number): void {
  checkSub('mmu_interval_set_seq', sub);
  checkSeq('mmu_interval_set_seq', curSeq);
  sub.invalidateSeq = curSeq;
}

function rangeStart(range: MmuNotifierRange): void {
  const subs = range.mm.notifierSubscriptions;
  if (!subs) return;
  // mn_itree_inv_start_range()
  subs.activeInvalidateRanges++;
  const hits = range.end > range.start ? subs.overlapping(BigInt(range.start), BigInt(range.end) - 1n) : [];
  if (hits.length > 0 && !subs.isInvalidating()) subs.invalidateSeq += 1;
  const curSeq = subs.invalidateSeq;
  // mn_itree_invalidate()
  for (const sub of hits) {
    const ok = sub.ops!.invalidate(sub, range, curSeq);
    if (!ok) {
      if (mmuNotifierRangeBlockable(range)) continue;
      subs.invEnd();
      throw new KernelError('EAGAIN', 'an interval notifier cannot invalidate without blocking');
    }
  }
}

/**
 * `mmu_notifier_invalidate_range_start(range)` (include/linux/mmu_notifier.h
 * and `__mmu_notifier_invalidate_range_start` in mm/mmu_notifier.c): marks the
 * range blockable, makes the global sequence odd if any subscription
 * overlaps, and calls each overlapping subscription's `invalidate()` with it.
 * @public
 */
export function mmuNotifierInvalidateRangeStart(range: MmuNotifierRange): void {
  checkRange('mmu_notifier_invalidate_range_start', range);
  if (!range.mm.notifierSubscriptions) return;
  if (!mmuNotifierRangeBlockable(range)) range.flags += MMU_NOTIFIER_RANGE_BLOCKABLE;
  rangeStart(range);
}

/**
 * `mmu_notifier_invalidate_range_start_nonblock(range)`: as
 * {@link mmuNotifierInvalidateRangeStart} without `MMU_NOTIFIER_RANGE_BLOCKABLE`;
 * a callback that refuses ends the invalidation and the call fails -EAGAIN.
 * @public
 */
export function mmuNotifierInvalidateRangeStartNonblock(range: MmuNotifierRange): void {
  checkRange('mmu_notifier_invalidate_range_start_nonblock', range);
  if (!range.mm.notifierSubscriptions) return;
  if (mmuNotifierRangeBlockable(range)) range.flags -= MMU_NOTIFIER_RANGE_BLOCKABLE;
  rangeStart(range);
}

/**
 * `mmu_notifier_invalidate_range_end(range)` (mm/mmu_notifier.c,
 * `mn_itree_inv_end`): the last active invalidation makes the global sequence
 * even again and applies the deferred inserts and removes.
 * @public
 */
export function mmuNotifierInvalidateRangeEnd(range: MmuNotifierRange): void {
  checkRange('mmu_notifier_invalidate_range_end', range);
  const subs = range.mm.notifierSubscriptions;
  if (!subs) return;
  if (subs.activeInvalidateRanges === 0) throw new KernelError('EINVAL', 'invalidate_range_end without a matching start');
  subs.invEnd();
}
