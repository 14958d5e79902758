/**
 * The free lists of a zone: `struct free_area free_area[MAX_ORDER]`, each
 * with one list per migrate type.
 *
 * The kernel threads free blocks through the `lru` list head inside the head
 * page's own struct page, so a free list costs nothing beyond the memmap. The
 * model does the same without a JavaScript object per free block: every free
 * block head occupies a *slot* in a handful of typed arrays (its pfn, the next
 * and previous slot of its list, which list it is on), and a hash index from
 * pfn to slot (open addressing over an Int32Array of slot numbers, probed by
 * comparing the slots' pfns) finds a block when its buddy wants to merge with
 * it. Adding to the head
 * or the tail, unlinking and moving between lists are the O(1) list
 * operations of include/linux/list.h.
 *
 * The page state that makes a block free (`PageBuddy`, its order in
 * `page->private`) lives in the memmap store; the page allocator keeps the two
 * in step, as `add_to_free_list()` and `set_buddy_order()` do.
 */
import { KernelBug, KernelError, checkUnsigned } from '@zonedev/kernel';
import type { Pfn } from './struct-page.js';

const GOLDEN = -1640531535; // 0x9e3779b1 as int32: Fibonacci hashing
const MIX = 0x27d4eb2d; // folds a pfn's high half into the hash
const TWO32 = 4294967296;
const INV_TWO32 = 1 / TWO32;

/**
 * The raw free lists of one zone (no page state; see page_alloc.ts for the
 * operations that keep `PageBuddy` in step).
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
  /** Slots in the index (free block heads). */
  private live = 0;
  private pfns: Float64Array;
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

  /** The slot of `pfn`, or -1. */
  private slotOf(pfn: number): number {
    const idx = this.index;
    const size = idx.length;
    let b = this.bucket(pfn);
    for (;;) {
      const s = idx[b]!;
      if (s < 0 || this.pfns[s] === pfn) return s;
      b = b + 1 === size ? 0 : b + 1;
    }
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

  private alloc(pfn: number, li: number): number {
    let slot: number;
    if (this.freeTop > 0) slot = this.freeStack[--this.freeTop]!;
    else {
      if (this.used === this.pfns.length) this.grow();
      slot = this.used++;
    }
    this.pfns[slot] = pfn;
    this.listOf[slot] = li;
    this.indexInsert(slot);
    this.counts[li]! += 1;
    this.nrFreeByOrder[Math.floor(li / this.nrTypes)]! += 1;
    return slot;
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
  pushHead(pfn: Pfn | number, order: number, mt: number): void {
    const li = this.check(pfn, order, mt);
    const slot = this.alloc(pfn, li);
    const h = this.head[li]!;
    this.prev[slot] = -1;
    this.next[slot] = h;
    if (h >= 0) this.prev[h] = slot;
    else this.tail[li] = slot;
    this.head[li] = slot;
  }

  /** `list_add_tail(...)`, `nr_free++`. */
  pushTail(pfn: Pfn | number, order: number, mt: number): void {
    const li = this.check(pfn, order, mt);
    const slot = this.alloc(pfn, li);
    this.linkTail(slot, li);
  }

  private linkTail(slot: number, li: number): void {
    const t = this.tail[li]!;
    this.next[slot] = -1;
    this.prev[slot] = t;
    if (t >= 0) this.next[t] = slot;
    else this.head[li] = slot;
    this.tail[li] = slot;
  }

  private unlink(slot: number): number {
    const li = this.listOf[slot]!;
    const n = this.next[slot]!;
    const p = this.prev[slot]!;
    if (p >= 0) this.next[p] = n;
    else this.head[li] = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail[li] = p;
    return li;
  }

  /** `list_del(&page->lru)`, `nr_free--`. Returns false if the pfn is on no list. */
  remove(pfn: Pfn | number): boolean {
    this.pfnArg(pfn);
    const slot = this.slotOf(pfn);
    if (slot < 0) return false;
    const li = this.unlink(slot);
    this.indexRemove(pfn, slot);
    this.counts[li]! -= 1;
    this.nrFreeByOrder[Math.floor(li / this.nrTypes)]! -= 1;
    this.freeStack[this.freeTop++] = slot;
    return true;
  }

  /** `list_move_tail()` onto the same order's list of another migratetype. */
  moveTail(pfn: Pfn | number, mt: number): void {
    this.pfnArg(pfn);
    checkUnsigned('free_area', 'migratetype', mt, this.nrTypes - 1);
    const slot = this.slotOf(pfn);
    if (slot < 0) throw new KernelBug(`pfn 0x${pfn.toString(16)} is on no free list`);
    const old = this.unlink(slot);
    const order = Math.floor(old / this.nrTypes);
    const li = order * this.nrTypes + mt;
    this.counts[old]! -= 1;
    this.counts[li]! += 1;
    this.listOf[slot] = li;
    this.linkTail(slot, li);
  }

  /** Whether `pfn` heads a block on some free list. */
  has(pfn: Pfn | number): boolean {
    this.pfnArg(pfn);
    return this.slotOf(pfn) >= 0;
  }

  /** The order and migratetype of the list `pfn` is on, or undefined. */
  where(pfn: Pfn | number): { order: number; migratetype: number } | undefined {
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
  list(order: number, mt: number): Pfn[] {
    const out: Pfn[] = [];
    for (let s = this.head[this.li(order, mt)]!; s >= 0; s = this.next[s]!) out.push(this.pfns[s]! as Pfn);
    return out;
  }

  /** Free block heads on all lists. */
  get size(): number {
    return this.live;
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
  freeList(migratetype: number): Pfn[] {
    return this.lists.list(this.order, migratetype);
  }
}
