/**
 * The free lists of a zone: `struct free_area free_area[MAX_ORDER]`, each
 * with one list per migrate type.
 *
 * The kernel threads free blocks through the `lru` list head inside the head
 * page's own struct page, so a free list costs nothing beyond the memmap. The
 * model does the same without a JavaScript object per free block: a *slot* in
 * a handful of typed arrays (its first pfn, the next and previous slot of its
 * list, which list it is on) stands for a *run* of free blocks that follow
 * each other on the list and in memory, each 2^order pages after the one
 * before it. Onlining 64 TiB frees 16 Mi MAX_ORDER-1 blocks (4 MiB each) in
 * ascending order to the tail of one list, and they stay in that order while
 * they are moved together (undo_isolate_page_range()) and taken from the head
 * one at a time (__rmqueue_smallest()): that is one slot, not millions.
 *
 * ```
 *   list head -> [pfn 0x1000, 3 blocks] -> [pfn 0x8000, 1 block] -> ...
 *                 = 0x1000, 0x1400, 0x1800 (order 10)
 * ```
 *
 * Adding a block right after the last block of the list's tail run (or right
 * before the first block of its head run) extends that run; taking a block out
 * of the middle of a run splits it in two, adjacent on the list. The order of
 * the blocks on every list, and every count, is exactly that of the kernel's
 * list of struct pages. A hash index from pfn to the slot of a one-block run
 * (open addressing over an Int32Array of slot numbers, probed by comparing
 * the slots' pfns) and a sorted array of the longer runs find a block when
 * its buddy wants to merge with it. Adding to the head or the tail,
 * unlinking and moving between lists are the O(1) list operations of
 * include/linux/list.h (O(log runs) for a block inside a run).
 *
 * The page state that makes a block free (`PageBuddy`, its order in
 * `page->private`) lives in the memmap store; the page allocator keeps the two
 * in step, as `add_to_free_list()` and `set_buddy_order()` do.
 */
import { KernelBug, KernelError, checkUnsigned } from '@zonedev/kernel';

const GOLDEN = -1640531535; // 0x9e3779b1 as int32: Fibonacci hashing
const MIX = 0x27d4eb2d; // folds a pfn's high half into the hash
const TWO32 = 4294967296;
const INV_TWO32 = 1 / TWO32;
const POW2: readonly number[] = Array.from({ length: 64 }, (_, i) => 2 ** i);

/**
 * The raw free lists of one zone (no page state; see page_alloc.ts for the
 * operations that keep `PageBuddy` in step). The blocks on them never
 * overlap, as the buddy allocator's free blocks never do.
 * @public
 */
export class FreeLists {
  /** `MAX_ORDER`. */
  readonly maxOrder: number;
  /** `MIGRATE_TYPES`. */
  readonly nrTypes: number;
  /** Hash buckets: a slot number, or -1; a power of two long, at most half full. */
  private index: Int32Array = new Int32Array(128).fill(-1);
  /** `index.length / 2^32`: turns a 32-bit hash into a bucket. */
  private scale = 128 * INV_TWO32;
  /** Slots in the index (the runs of one block). */
  private live = 0;
  /** Free block heads on all lists. */
  private blocks = 0;
  /** First pfn of each slot's run. */
  private pfns: Float64Array;
  /** Blocks in each slot's run. */
  private cnt: Float64Array;
  private next: Int32Array;
  private prev: Int32Array;
  private listOf: Int32Array;
  private freeTop = 0;
  private freeStack: Int32Array;
  private used = 0;
  private readonly head: Int32Array;
  private readonly tail: Int32Array;
  private readonly counts: Float64Array;
  private readonly nrFreeByOrder: Float64Array;
  /** The runs of more than one block, sorted by first pfn: their first pfns and slots. */
  private runStart: Float64Array = new Float64Array(16);
  private runSlot: Int32Array = new Int32Array(16);
  private nrRuns = 0;
  /** Where the last lookup found its pfn: the block's index in its slot's run. */
  private hitK = 0;

  constructor(maxOrder: number, nrTypes: number) {
    checkUnsigned('free_area', 'MAX_ORDER', maxOrder, 64);
    checkUnsigned('free_area', 'MIGRATE_TYPES', nrTypes, 64);
    if (maxOrder === 0 || nrTypes === 0) throw new KernelError('EINVAL', `free_area: ${maxOrder} orders of ${nrTypes} migratetypes`);
    this.maxOrder = maxOrder;
    this.nrTypes = nrTypes;
    const lists = maxOrder * nrTypes;
    this.head = new Int32Array(lists).fill(-1);
    this.tail = new Int32Array(lists).fill(-1);
    this.counts = new Float64Array(lists);
    this.nrFreeByOrder = new Float64Array(maxOrder);
    const cap = 64;
    this.pfns = new Float64Array(cap);
    this.cnt = new Float64Array(cap);
    this.next = new Int32Array(cap);
    this.prev = new Int32Array(cap);
    this.listOf = new Int32Array(cap);
    this.freeStack = new Int32Array(cap);
  }

  private grow(): void {
    const cap = this.pfns.length * 2;
    const f = new Float64Array(cap);
    f.set(this.pfns);
    this.pfns = f;
    const c = new Float64Array(cap);
    c.set(this.cnt);
    this.cnt = c;
    const n = new Int32Array(cap);
    n.set(this.next);
    this.next = n;
    const p = new Int32Array(cap);
    p.set(this.prev);
    this.prev = p;
    const l = new Int32Array(cap);
    l.set(this.listOf);
    this.listOf = l;
    const s = new Int32Array(cap);
    s.set(this.freeStack);
    this.freeStack = s;
  }

  private bucket(pfn: number): number {
    const h = Math.imul(Math.imul(Math.floor(pfn * INV_TWO32), MIX) + pfn, GOLDEN);
    return Math.floor((h < 0 ? h + TWO32 : h) * this.scale);
  }

  /** The slot of the one-block run `pfn`, or -1. */
  private slotAt(pfn: number): number {
    const idx = this.index;
    const size = idx.length;
    let b = this.bucket(pfn);
    for (;;) {
      const s = idx[b]!;
      if (s < 0 || this.pfns[s] === pfn) return s;
      b = b + 1 === size ? 0 : b + 1;
    }
  }

  /** The pages of one block of the slot's list. */
  private stride(slot: number): number {
    return POW2[Math.floor(this.listOf[slot]! / this.nrTypes)]!;
  }

  /** The slot of the run holding the block `pfn` (its index in the run in `hitK`), or -1. */
  private slotOf(pfn: number): number {
    const s = this.slotAt(pfn);
    if (s >= 0 || this.nrRuns === 0) {
      this.hitK = 0;
      return s;
    }
    const r = this.runBefore(pfn);
    if (r < 0) return -1;
    const slot = this.runSlot[r]!;
    const k = (pfn - this.pfns[slot]!) / this.stride(slot);
    if (!Number.isInteger(k) || k >= this.cnt[slot]!) return -1;
    this.hitK = k;
    return slot;
  }

  /** The index of the last run starting at or before `pfn`, or -1. */
  private runBefore(pfn: number): number {
    let lo = 0;
    let hi = this.nrRuns;
    const rs = this.runStart;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (rs[mid]! <= pfn) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** Records `slot` (now of more than one block) in the sorted runs. */
  private runAdd(slot: number): void {
    const pfn = this.pfns[slot]!;
    const at = this.runBefore(pfn) + 1;
    if (this.nrRuns === this.runStart.length) {
      const rs = new Float64Array(this.nrRuns * 2);
      rs.set(this.runStart);
      this.runStart = rs;
      const sl = new Int32Array(this.nrRuns * 2);
      sl.set(this.runSlot);
      this.runSlot = sl;
    }
    this.runStart.copyWithin(at + 1, at, this.nrRuns);
    this.runSlot.copyWithin(at + 1, at, this.nrRuns);
    this.runStart[at] = pfn;
    this.runSlot[at] = slot;
    this.nrRuns++;
  }

  /** The position in the sorted runs of the run that starts at `pfn`. */
  private runPos(pfn: number): number {
    const r = this.runBefore(pfn);
    if (r < 0 || this.runStart[r] !== pfn) throw new KernelBug(`free_area: run at pfn 0x${pfn.toString(16)} is not indexed`);
    return r;
  }

  /** Forgets the run that starts at `pfn` in the sorted runs. */
  private runDel(pfn: number): void {
    const at = this.runPos(pfn);
    this.runStart.copyWithin(at, at + 1, this.nrRuns);
    this.runSlot.copyWithin(at, at + 1, this.nrRuns);
    this.nrRuns--;
  }

  private indexInsert(slot: number): void {
    if ((this.live + 1) * 2 > this.index.length) this.growIndex();
    const idx = this.index;
    const size = idx.length;
    let b = this.bucket(this.pfns[slot]!);
    while (idx[b]! >= 0) b = b + 1 === size ? 0 : b + 1;
    idx[b] = slot;
    this.live++;
  }

  private growIndex(): void {
    const old = this.index;
    this.index = new Int32Array(old.length * 2).fill(-1);
    this.scale = this.index.length * INV_TWO32;
    this.live = 0;
    for (const s of old) if (s >= 0) this.indexInsert(s);
  }

  /** Removes `slot` (of `pfn`) from the index: backward-shift deletion. */
  private indexRemove(pfn: number, slot: number): void {
    const idx = this.index;
    const size = idx.length;
    let i = this.bucket(pfn);
    while (idx[i] !== slot) i = i + 1 === size ? 0 : i + 1;
    let j = i;
    for (;;) {
      j = j + 1 === size ? 0 : j + 1;
      const t = idx[j]!;
      if (t < 0) break;
      const h = this.bucket(this.pfns[t]!);
      // t stays unless its home bucket lies cyclically outside (i, j]
      const stays = i <= j ? h > i && h <= j : h > i || h <= j;
      if (!stays) {
        idx[i] = t;
        i = j;
      }
    }
    idx[i] = -1;
    this.live--;
  }

  /** A new slot: a run of `n` blocks from `pfn` on list `li`, indexed but not linked. */
  private alloc(pfn: number, n: number, li: number): number {
    let slot: number;
    if (this.freeTop > 0) slot = this.freeStack[--this.freeTop]!;
    else {
      if (this.used === this.pfns.length) this.grow();
      slot = this.used++;
    }
    this.pfns[slot] = pfn;
    this.cnt[slot] = n;
    this.listOf[slot] = li;
    if (n > 1) this.runAdd(slot);
    else this.indexInsert(slot);
    return slot;
  }

  /** Accounts `d` blocks added to (or, negative, taken from) list `li`. */
  private account(li: number, d: number): void {
    this.counts[li]! += d;
    this.nrFreeByOrder[Math.floor(li / this.nrTypes)]! += d;
    this.blocks += d;
  }

  /** Moves the first pfn of the run of `slot` (of more than one block) from `from` to `to`. */
  private rebase(slot: number, from: number, to: number): void {
    this.runStart[this.runPos(from)] = to;
    this.pfns[slot] = to;
  }

  /** `slot` grew from one block to two: from the index to the sorted runs. */
  private toRuns(slot: number): void {
    this.indexRemove(this.pfns[slot]!, slot);
    this.runAdd(slot);
  }

  /** `slot`'s run, at `pfn`, shrank to one block: from the sorted runs to the index. */
  private toIndex(slot: number, pfn: number): void {
    this.runDel(pfn);
    this.indexInsert(slot);
  }

  /** EINVAL unless `pfn` is a pfn. */
  private pfnArg(pfn: number): void {
    checkUnsigned('free_area', 'pfn', pfn);
  }

  /** The index of list (`order`, `mt`); EINVAL for an order or migratetype out of range. */
  private li(order: number, mt: number): number {
    checkUnsigned('free_area', 'order', order, this.maxOrder - 1);
    checkUnsigned('free_area', 'migratetype', mt, this.nrTypes - 1);
    return order * this.nrTypes + mt;
  }

  private check(pfn: number, order: number, mt: number): number {
    this.pfnArg(pfn);
    this.li(order, mt);
    if (this.slotOf(pfn) >= 0) throw new KernelBug(`pfn 0x${pfn.toString(16)} is already on a free list`);
    if (!(order >= 0 && order < this.maxOrder && mt >= 0 && mt < this.nrTypes)) {
      throw new RangeError(`free list order ${order} / migratetype ${mt} out of range`);
    }
    return order * this.nrTypes + mt;
  }

  /** `list_add(&page->lru, &free_area[order].free_list[mt])`, `nr_free++`. */
  pushHead(pfn: number, order: number, mt: number): void {
    const li = this.check(pfn, order, mt);
    this.account(li, 1);
    const h = this.head[li]!;
    if (h >= 0 && this.pfns[h]! - this.stride(h) === pfn) {
      // the block just before the head run: the run grows at its front
      const old = this.pfns[h]!;
      this.cnt[h]! += 1;
      if (this.cnt[h] === 2) {
        this.indexRemove(old, h);
        this.pfns[h] = pfn;
        this.runAdd(h);
      } else this.rebase(h, old, pfn);
      return;
    }
    this.insertAfter(this.alloc(pfn, 1, li), -1, li);
  }

  /** `list_add_tail(...)`, `nr_free++`. */
  pushTail(pfn: number, order: number, mt: number): void {
    const li = this.check(pfn, order, mt);
    this.linkTail(pfn, li);
  }

  private linkTail(pfn: number, li: number): void {
    this.account(li, 1);
    const t = this.tail[li]!;
    if (t >= 0 && this.pfns[t]! + this.cnt[t]! * this.stride(t) === pfn) {
      // the block just after the tail run: the run grows at its end
      this.cnt[t]! += 1;
      if (this.cnt[t] === 2) this.toRuns(t);
      return;
    }
    this.insertAfter(this.alloc(pfn, 1, li), t, li);
  }

  /** Links `slot` into list `li` after `after` (-1: at the head). */
  private insertAfter(slot: number, after: number, li: number): void {
    const n = after >= 0 ? this.next[after]! : this.head[li]!;
    this.prev[slot] = after;
    this.next[slot] = n;
    if (after >= 0) this.next[after] = slot;
    else this.head[li] = slot;
    if (n >= 0) this.prev[n] = slot;
    else this.tail[li] = slot;
  }

  private unlink(slot: number): void {
    const li = this.listOf[slot]!;
    const n = this.next[slot]!;
    const p = this.prev[slot]!;
    if (p >= 0) this.next[p] = n;
    else this.head[li] = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail[li] = p;
  }

  /**
   * Takes block `k` out of `slot`'s run: the slot is freed when it was the
   * run's only block, shrinks when it was its first or last, and is split
   * around it otherwise. Returns the list the block was on.
   */
  private take(slot: number, k: number): number {
    const li = this.listOf[slot]!;
    const n = this.cnt[slot]!;
    const start = this.pfns[slot]!;
    this.account(li, -1);
    if (n === 1) {
      this.unlink(slot);
      this.indexRemove(start, slot);
      this.freeStack[this.freeTop++] = slot;
      return li;
    }
    const stride = this.stride(slot);
    if (k === 0) {
      this.rebase(slot, start, start + stride);
      this.cnt[slot] = n - 1;
      if (n === 2) this.toIndex(slot, start + stride);
      return li;
    }
    if (k === n - 1) {
      this.cnt[slot] = n - 1;
      if (n === 2) this.toIndex(slot, start);
      return li;
    }
    // split: the first k blocks stay, the blocks after k become a slot of their own
    this.cnt[slot] = k;
    if (k === 1) this.toIndex(slot, start);
    this.insertAfter(this.alloc(start + (k + 1) * stride, n - k - 1, li), slot, li);
    return li;
  }

  /** `list_del(&page->lru)`, `nr_free--`. Returns false if the pfn is on no list. */
  remove(pfn: number): boolean {
    this.pfnArg(pfn);
    const slot = this.slotOf(pfn);
    if (slot < 0) return false;
    this.take(slot, this.hitK);
    return true;
  }

  /** `list_move_tail()` onto the same order's list of another migratetype. */
  moveTail(pfn: number, mt: number): void {
    this.pfnArg(pfn);
    checkUnsigned('free_area', 'migratetype', mt, this.nrTypes - 1);
    const slot = this.slotOf(pfn);
    if (slot < 0) throw new KernelBug(`pfn 0x${pfn.toString(16)} is on no free list`);
    const old = this.take(slot, this.hitK);
    this.linkTail(pfn, Math.floor(old / this.nrTypes) * this.nrTypes + mt);
  }

  /** Whether `pfn` heads a block on some free list. */
  has(pfn: number): boolean {
    this.pfnArg(pfn);
    return this.slotOf(pfn) >= 0;
  }

  /** The order and migratetype of the list `pfn` is on, or undefined. */
  where(pfn: number): { order: number; migratetype: number } | undefined {
    this.pfnArg(pfn);
    const slot = this.slotOf(pfn);
    if (slot < 0) return undefined;
    const li = this.listOf[slot]!;
    return { order: Math.floor(li / this.nrTypes), migratetype: li % this.nrTypes };
  }

  /** `get_page_from_free_area()`: the first block of a list, or -1. */
  first(order: number, mt: number): number {
    const slot = this.head[this.li(order, mt)]!;
    return slot < 0 ? -1 : this.pfns[slot]!;
  }

  /** `free_area_empty(area, mt)`. */
  isEmpty(order: number, mt: number): boolean {
    return this.head[this.li(order, mt)]! < 0;
  }

  /** Blocks on one list. */
  count(order: number, mt: number): number {
    return this.counts[this.li(order, mt)]!;
  }

  /** `free_area[order].nr_free`: blocks of that order on any list. */
  nrFree(order: number): number {
    checkUnsigned('free_area', 'order', order, this.maxOrder - 1);
    return this.nrFreeByOrder[order]!;
  }

  /** The pfns on one list, head first (a snapshot). */
  list(order: number, mt: number): number[] {
    const out: number[] = [];
    const stride = POW2[order]!;
    for (let s = this.head[this.li(order, mt)]!; s >= 0; s = this.next[s]!) {
      const n = this.cnt[s]!;
      for (let k = 0; k < n; k++) out.push((this.pfns[s]! + k * stride));
    }
    return out;
  }

  /** Free block heads on all lists. */
  get size(): number {
    return this.blocks;
  }
}

/**
 * A read-only view of `zone->free_area[order]`.
 * @public
 */
export class FreeArea {
  /** The order of this area. */
  readonly order: number;
  private readonly lists: FreeLists;

  constructor(lists: FreeLists, order: number) {
    if (!(lists instanceof FreeLists)) throw new KernelError('EINVAL', 'free_area: lists is not a FreeLists');
    checkUnsigned('free_area', 'order', order, lists.maxOrder - 1);
    this.lists = lists;
    this.order = order;
  }

  /** `nr_free`: free blocks of this order, all migratetypes. */
  get nrFree(): number {
    return this.lists.nrFree(this.order);
  }

  /** `free_area_empty(area, migratetype)`. */
  isEmpty(migratetype: number): boolean {
    return this.lists.isEmpty(this.order, migratetype);
  }

  /** Blocks on `free_list[migratetype]`. */
  count(migratetype: number): number {
    return this.lists.count(this.order, migratetype);
  }

  /** The pfns on `free_list[migratetype]`, head first (a snapshot). */
  freeList(migratetype: number): number[] {
    return this.lists.list(this.order, migratetype);
  }
}
