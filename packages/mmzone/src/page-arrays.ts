/**
 * Column storage for struct pages (internal to the memmap store).
 *
 * A struct page is not a JavaScript object here. Its five hot fields live in
 * parallel typed arrays ("columns"): the two 32-bit halves of `flags`,
 * `_refcount`, `_mapcount` (which doubles as `page_type`) and `private`.
 * Two containers hold such columns:
 *
 * - {@link SectionCols}: one entry per page of a memory section, indexed by
 *   the page's offset in the section (a section whose pages are written
 *   densely): 12 host bytes per page for the low flags word, `_refcount`
 *   and `_mapcount`, and the high flags word (4 B) and `private` (8 B) only
 *   once some page of the section differs from the template there;
 * - {@link OverlayPool}: one pool for the whole store holding the pages that
 *   differ from their section's template, wherever they are. Its slots are
 *   columns too (all five, 24 bytes), cut into fixed-size chunks (each chunk
 *   is a {@link Cols}), so a writer finds "the arrays and the position" once
 *   and stores into them without caring which container it is.
 *
 * Why one pool and not one small table per section: a section is 32768 pages
 * on x86_64, and 64 TiB of device memory is half a million sections. If every
 * section that gains its first diverged page paid for a table of its own (a
 * handful of typed arrays, about a kilobyte before the first entry), a page
 * diverging in each of many sections would cost more than a kilobyte. In the
 * pool a diverged page costs its slot and its share of one hash index,
 * whatever section it is in:
 *
 * ```
 *   slot    24 B columns + 4 B next-in-section link (chunked)          28 B
 *   key     the slot's pfn, 8 B, in one array grown by doubling         8-16 B
 *   index   Int32 bucket (the slot), load factor 1/4 .. 1/2             8-16 B
 *   chunks  1024 slots each: at most one partly used chunk              < 28 KiB per store
 * ```
 *
 * so 44 to 60 host bytes per diverged page, plus a bounded constant (bench/
 * measures 46 to 59 bytes of RSS: the never-written half of a freshly
 * doubled array is usually not resident).
 * The index is open addressing with linear probing, keyed by pfn (Fibonacci
 * hashing of the pfn's two 32-bit halves), and stores only slot numbers: a
 * probe compares the pfn in the key array. Each section keeps the head of a
 * singly linked list of its slots and their count, so that it can walk,
 * spill or release its own entries without scanning the pool. Released slots
 * go to a free list; when fewer than a quarter of the slots are live the
 * pool compacts itself, and an empty pool holds no arrays at all. Two
 * one-entry memories save probes: the page last found (accessors read and
 * write the same struct page several times in a row) and the page last
 * missed (a write usually follows a failed read of the same page, and
 * inserts into the bucket where that probe ended).
 */
import { ZERO_STRUCT_PAGE } from './struct-page.js';
import type { StructPage } from './struct-page.js';

/**
 * The five columns, as any container exposes them. `hi` and `priv` may be
 * absent in a section's columns ({@link SectionCols}): then every page of
 * the section has its template's value there.
 */
export interface PageArrays {
  lo: Uint32Array;
  hi: Uint32Array | undefined;
  ref: Int32Array;
  mc: Int32Array;
  priv: Float64Array | undefined;
}

/** Host bytes of the five columns, per page. */
export const COLUMN_BYTES = 24;

/** Columns for `n` pages (or slots), filled from `t` when given, else zero. */
export class Cols implements PageArrays {
  lo: Uint32Array;
  hi: Uint32Array;
  ref: Int32Array;
  mc: Int32Array;
  priv: Float64Array;
  constructor(n: number, t: StructPage | undefined) {
    // One allocation: private (8-byte aligned) first, then the 32-bit columns.
    const buf = new ArrayBuffer(n * COLUMN_BYTES);
    this.priv = new Float64Array(buf, 0, n);
    this.lo = new Uint32Array(buf, n * 8, n);
    this.hi = new Uint32Array(buf, n * 12, n);
    this.ref = new Int32Array(buf, n * 16, n);
    this.mc = new Int32Array(buf, n * 20, n);
    if (t !== undefined) this.fill(0, n, t);
  }

  fill(a: number, b: number, t: StructPage): void {
    this.lo.fill(t.flagsLo, a, b);
    this.hi.fill(t.flagsHi, a, b);
    this.ref.fill(t.refcount, a, b);
    this.mc.fill(t.mapcount, a, b);
    this.priv.fill(t.private, a, b);
  }

  /** Copies entry `q` of `from` to entry `p`. */
  copyFrom(p: number, from: Cols, q: number): void {
    this.lo[p] = from.lo[q]!;
    this.hi[p] = from.hi[q]!;
    this.ref[p] = from.ref[q]!;
    this.mc[p] = from.mc[q]!;
    this.priv[p] = from.priv[q]!;
  }

  get bytes(): number {
    return this.lo.length * COLUMN_BYTES;
  }
}

/** Host bytes per page of a section's columns while `hi` and `priv` are absent. */
export const SECTION_COLUMN_BYTES = 12;

/**
 * The columns of one section stored page by page. The three fields nearly
 * every written page changes (the low flags word, `_refcount`, `_mapcount`)
 * are allocated with the section's columns, 12 host bytes per page; the
 * high flags word (zone, node and section links, which `set_page_links()`
 * rarely changes from the template) and `private` (the buddy order of free
 * block heads) get their column the first time a page's value differs from
 * the section's template, 4 and 8 more bytes per page.
 */
export class SectionCols implements PageArrays {
  lo: Uint32Array;
  hi: Uint32Array | undefined = undefined;
  ref: Int32Array;
  mc: Int32Array;
  priv: Float64Array | undefined = undefined;
  /** Pages of the section. */
  readonly n: number;
  constructor(n: number, t: StructPage) {
    this.n = n;
    const buf = new ArrayBuffer(n * SECTION_COLUMN_BYTES);
    this.lo = new Uint32Array(buf, 0, n);
    this.ref = new Int32Array(buf, n * 4, n);
    this.mc = new Int32Array(buf, n * 8, n);
    if (t.flagsLo !== 0) this.lo.fill(t.flagsLo);
    if (t.refcount !== 0) this.ref.fill(t.refcount);
    if (t.mapcount !== 0) this.mc.fill(t.mapcount);
  }

  /** The `hi` column, created from the template `t` if absent. */
  hiCol(t: StructPage): Uint32Array {
    if (this.hi === undefined) {
      this.hi = new Uint32Array(this.n);
      if (t.flagsHi !== 0) this.hi.fill(t.flagsHi);
    }
    return this.hi;
  }

  /** The `priv` column, created from the template `t` if absent. */
  privCol(t: StructPage): Float64Array {
    if (this.priv === undefined) {
      this.priv = new Float64Array(this.n);
      if (t.private !== 0) this.priv.fill(t.private);
    }
    return this.priv;
  }

  /** Sets pages [a, b) to `v`; `t` is the section's template (for absent columns). */
  fill(a: number, b: number, v: StructPage, t: StructPage): void {
    this.lo.fill(v.flagsLo, a, b);
    this.ref.fill(v.refcount, a, b);
    this.mc.fill(v.mapcount, a, b);
    if (this.hi !== undefined || v.flagsHi !== t.flagsHi) this.hiCol(t).fill(v.flagsHi, a, b);
    if (this.priv !== undefined || v.private !== t.private) this.privCol(t).fill(v.private, a, b);
  }

  /** Copies entry `q` of `from` (a pool chunk) to page `p`; `t` is the section's template. */
  copyFrom(p: number, from: Cols, q: number, t: StructPage): void {
    this.lo[p] = from.lo[q]!;
    this.ref[p] = from.ref[q]!;
    this.mc[p] = from.mc[q]!;
    const hi = from.hi[q]!;
    if (this.hi !== undefined || hi !== t.flagsHi) this.hiCol(t)[p] = hi;
    const pr = from.priv[q]!;
    if (this.priv !== undefined || pr !== t.private) this.privCol(t)[p] = pr;
  }

  get bytes(): number {
    return this.n * SECTION_COLUMN_BYTES + (this.hi === undefined ? 0 : this.n * 4) + (this.priv === undefined ? 0 : this.n * 8);
  }
}

/** What owns a list of slots: a section with diverged pages. */
export interface SlotList {
  /** First slot of the list, or -1. */
  ovHead: number;
  /** Slots in the list. */
  ovCount: number;
}

/** Slots per chunk (a power of two). */
export const POOL_CHUNK = 1024;
const INV_CHUNK = 1 / POOL_CHUNK;
/** The smallest first chunk and the smallest index. */
const MIN_SLOTS = 64;
/** Host bytes of a slot's link to the next slot of its list. */
const SLOT_LINK_BYTES = 4;

const GOLDEN = -1640531535; // 0x9e3779b1 as int32: Fibonacci hashing
const MIX = 0x27d4eb2d; // odd multiplier folding a pfn's high half into the hash
const TWO32 = 4294967296;
const INV_TWO32 = 1 / TWO32;
const EMPTY_INDEX = new Int32Array(0);
const EMPTY_KEYS = new Float64Array(0);

/**
 * The store-wide pool of diverged struct pages (see the module comment). A
 * slot number `s` is entry `s % POOL_CHUNK` of chunk `floor(s / POOL_CHUNK)`;
 * {@link OverlayPool.chunkOf} and {@link OverlayPool.posOf} split it.
 */
export class OverlayPool {
  /** Column chunks. */
  cols: Cols[] = [];
  /**
   * The pfn held by each slot, or -1 for a free slot: one array for all
   * chunks (grown by doubling), so that a probe compares keys without
   * finding a chunk first.
   */
  keys: Float64Array = EMPTY_KEYS;
  /** Per chunk: the next slot of the same list (a section's, or the free list), or -1. */
  next: Int32Array[] = [];
  /** Live slots. */
  count = 0;
  /** Slots handed out so far (live or free): the high-water mark. */
  private top = 0;
  /** Slots the chunks provide. */
  private cap = 0;
  /** Head of the free list of released slots, or -1. */
  private freeHead = -1;
  /** Hash buckets: a slot number, or -1. Length a power of two (or 0). */
  private index: Int32Array = EMPTY_INDEX;
  /** `index.length / 2^32`: turns a 32-bit hash into a bucket. */
  private scale = 0;
  /**
   * The pfn the last {@link OverlayPool.find} did not find (-1: none, or the
   * pool changed since) and the empty bucket where its probe ended: a write
   * that follows a failed read of the same page inserts without probing again.
   */
  missPfn = -1;
  private missBucket = -1;
  /**
   * Compactions so far: a compaction relinks every list in a new order, so a
   * list's newest slots are no longer the first ones (see memmap.ts's sorted
   * overlay keys).
   */
  compactions = 0;
  /**
   * The pfn the last successful {@link OverlayPool.find} or
   * {@link OverlayPool.insert} was about (-1: none, or slots moved since),
   * its slot, and the chunk and position of that slot: accessors usually
   * read and write the same struct page several times in a row.
   */
  private hitPfn = -1;
  private hitSlot = -1;
  /** The chunk of the last slot found or inserted. */
  hitCols: Cols | undefined = undefined;
  /** The position in {@link OverlayPool.hitCols} of the last slot found or inserted. */
  hitPos = 0;

  /** The chunk of slot `s`. */
  chunkOf(s: number): Cols {
    return this.cols[Math.floor(s * INV_CHUNK)]!;
  }

  /** The position of slot `s` in its chunk. */
  posOf(s: number): number {
    return s - Math.floor(s * INV_CHUNK) * POOL_CHUNK;
  }

  /** The pfn slot `s` holds (-1: free). */
  keyOf(s: number): number {
    return this.keys[s]!;
  }

  /** The slot after `s` in its list, or -1. */
  nextOf(s: number): number {
    const c = Math.floor(s * INV_CHUNK);
    return this.next[c]![s - c * POOL_CHUNK]!;
  }

  private setNext(s: number, v: number): void {
    const c = Math.floor(s * INV_CHUNK);
    this.next[c]![s - c * POOL_CHUNK] = v;
  }

  private bucket(pfn: number): number {
    // The pfn's high half (pfns reach 2^40 and more) is folded in before the
    // multiplication; Math.imul takes both operands modulo 2^32.
    const h = Math.imul(Math.imul(Math.floor(pfn * INV_TWO32), MIX) + pfn, GOLDEN);
    return Math.floor((h < 0 ? h + TWO32 : h) * this.scale);
  }

  /**
   * The slot holding `pfn`, or -1. When found, {@link OverlayPool.hitCols}
   * and {@link OverlayPool.hitPos} locate it.
   */
  find(pfn: number): number {
    if (pfn === this.hitPfn) return this.hitSlot;
    if (this.count === 0) {
      this.missPfn = -1;
      return -1;
    }
    const idx = this.index;
    const size = idx.length;
    let b = this.bucket(pfn);
    for (;;) {
      const s = idx[b]!;
      if (s < 0) {
        this.missPfn = pfn;
        this.missBucket = b;
        return -1;
      }
      if (this.keys[s] === pfn) {
        const c = Math.floor(s * INV_CHUNK);
        const p = s - c * POOL_CHUNK;
        this.hitPfn = pfn;
        this.hitSlot = s;
        this.hitCols = this.cols[c]!;
        this.hitPos = p;
        return s;
      }
      b = b + 1 === size ? 0 : b + 1;
    }
  }

  /**
   * Adds `pfn` (absent) with the values of `t`, at the head of `list`;
   * returns its slot, which {@link OverlayPool.hitCols} and
   * {@link OverlayPool.hitPos} locate.
   */
  insert(pfn: number, t: StructPage, list: SlotList): number {
    if ((this.count + 1) * 2 > this.index.length) {
      this.growIndex();
      this.missPfn = -1;
    }
    const s = this.allocSlot();
    const c = Math.floor(s * INV_CHUNK);
    const p = s - c * POOL_CHUNK;
    const cols = this.cols[c]!;
    cols.lo[p] = t.flagsLo;
    cols.hi[p] = t.flagsHi;
    cols.ref[p] = t.refcount;
    cols.mc[p] = t.mapcount;
    cols.priv[p] = t.private;
    this.keys[s] = pfn;
    this.next[c]![p] = list.ovHead;
    list.ovHead = s;
    list.ovCount++;
    this.count++;
    const idx = this.index;
    let b: number;
    if (pfn === this.missPfn) b = this.missBucket;
    else {
      const size = idx.length;
      b = this.bucket(pfn);
      while (idx[b]! >= 0) b = b + 1 === size ? 0 : b + 1;
    }
    this.missPfn = -1;
    idx[b] = s;
    this.hitPfn = pfn;
    this.hitSlot = s;
    this.hitCols = cols;
    this.hitPos = p;
    return s;
  }

  private allocSlot(): number {
    const f = this.freeHead;
    if (f >= 0) {
      this.freeHead = this.nextOf(f);
      return f;
    }
    if (this.top === this.cap) this.grow();
    return this.top++;
  }

  /** One more chunk, or a larger first chunk while the pool is small. */
  private grow(): void {
    if (this.cap < POOL_CHUNK) {
      const n = Math.min(POOL_CHUNK, Math.max(MIN_SLOTS, this.cap * 2));
      const cols = new Cols(n, undefined);
      const next = new Int32Array(n);
      const old = this.cols[0];
      if (old !== undefined) {
        cols.lo.set(old.lo);
        cols.hi.set(old.hi);
        cols.ref.set(old.ref);
        cols.mc.set(old.mc);
        cols.priv.set(old.priv);
        next.set(this.next[0]!);
      }
      this.cols[0] = cols;
      this.next[0] = next;
      this.cap = n;
      this.hitPfn = -1;
      this.growKeys();
      return;
    }
    this.cols.push(new Cols(POOL_CHUNK, undefined));
    this.next.push(new Int32Array(POOL_CHUNK));
    this.cap += POOL_CHUNK;
    this.growKeys();
  }

  /** Makes `keys` cover the chunks' slots, doubling it as they grow. */
  private growKeys(): void {
    if (this.keys.length >= this.cap) return;
    const keys = new Float64Array(Math.max(this.cap, this.keys.length * 2));
    keys.set(this.keys);
    this.keys = keys;
  }

  private setIndexSize(size: number): void {
    this.index = size === 0 ? EMPTY_INDEX : new Int32Array(size).fill(-1);
    this.scale = size * INV_TWO32;
  }

  private growIndex(): void {
    const old = this.index;
    this.setIndexSize(Math.max(MIN_SLOTS, old.length * 2));
    const idx = this.index;
    const size = idx.length;
    for (let q = 0; q < old.length; q++) {
      const s = old[q]!;
      if (s < 0) continue;
      let b = this.bucket(this.keyOf(s));
      while (idx[b]! >= 0) b = b + 1 === size ? 0 : b + 1;
      idx[b] = s;
    }
  }

  /** Removes slot `s` (holding `pfn`) from the index (backward-shift deletion). */
  private unindex(pfn: number, s: number): void {
    const idx = this.index;
    const size = idx.length;
    let i = this.bucket(pfn);
    while (idx[i] !== s) i = i + 1 === size ? 0 : i + 1;
    let j = i;
    for (;;) {
      j = j + 1 === size ? 0 : j + 1;
      const t = idx[j]!;
      if (t < 0) break;
      const h = this.bucket(this.keyOf(t));
      // t stays unless its home lies cyclically outside (i, j].
      const stays = i <= j ? h > i && h <= j : h > i || h <= j;
      if (!stays) {
        idx[i] = t;
        i = j;
      }
    }
    idx[i] = -1;
  }

  /**
   * Releases every slot of `list` (which becomes empty). `owners` finds the
   * list of a pfn's section: a compaction, which moves slots, relinks every
   * section's list through it.
   */
  release(list: SlotList, owners: (pfn: number) => SlotList): void {
    let s = list.ovHead;
    const n = list.ovCount;
    list.ovHead = -1;
    list.ovCount = 0;
    if (n === 0) return;
    this.missPfn = -1;
    this.hitPfn = -1;
    this.count -= n;
    if (this.count === 0) {
      this.reset();
      return;
    }
    while (s >= 0) {
      const c = Math.floor(s * INV_CHUNK);
      const p = s - c * POOL_CHUNK;
      const keys = this.keys;
      const next = this.next[c]!;
      const after = next[p]!;
      this.unindex(keys[s]!, s);
      keys[s] = -1;
      next[p] = this.freeHead;
      this.freeHead = s;
      s = after;
    }
    if (this.cap > POOL_CHUNK && this.count * 4 < this.cap) this.compact(owners);
  }

  /** Forgets every slot and frees every array. */
  reset(): void {
    this.cols = [];
    this.keys = EMPTY_KEYS;
    this.next = [];
    this.count = 0;
    this.top = 0;
    this.cap = 0;
    this.freeHead = -1;
    this.missPfn = -1;
    this.hitPfn = -1;
    this.hitCols = undefined;
    this.setIndexSize(0);
  }

  /**
   * Moves the live slots to the front of fresh, smaller chunks, rebuilding
   * every section's list and the index.
   */
  private compact(owners: (pfn: number) => SlotList): void {
    this.compactions++;
    const oldCols = this.cols;
    const oldKeys = this.keys;
    const top = this.top;
    for (let s = 0; s < top; s++) {
      const pfn = this.keyOf(s);
      if (pfn < 0) continue;
      const list = owners(pfn);
      list.ovHead = -1;
      list.ovCount = 0;
    }
    const live = this.count;
    this.reset();
    let size = MIN_SLOTS;
    while (size < live * 2) size *= 2;
    this.setIndexSize(size);
    for (let q = 0; q < top; q++) {
      const c = Math.floor(q * INV_CHUNK);
      const p = q - c * POOL_CHUNK;
      const pfn = oldKeys[q]!;
      if (pfn < 0) continue;
      const s = this.insert(pfn, ZERO_STRUCT_PAGE, owners(pfn));
      this.chunkOf(s).copyFrom(this.posOf(s), oldCols[c]!, p);
    }
  }

  /** Host bytes of the chunks and the index. */
  get bytes(): number {
    return this.cap * (COLUMN_BYTES + SLOT_LINK_BYTES) + this.keys.length * 8 + this.index.length * 4;
  }

  /**
   * Checks the pool's invariants (for tests): every live slot is indexed
   * once, every list is well formed, free and live slots add up.
   */
  audit(lists: Iterable<SlotList>): void {
    let listed = 0;
    const seen = new Set<number>();
    for (const l of lists) {
      let n = 0;
      for (let s = l.ovHead; s >= 0; s = this.nextOf(s)) {
        if (seen.has(s)) throw new Error(`slot ${s} is in two lists`);
        seen.add(s);
        if (this.find(this.keyOf(s)) !== s) throw new Error(`slot ${s} (pfn ${this.keyOf(s)}) is not indexed`);
        n++;
      }
      if (n !== l.ovCount) throw new Error(`a list counts ${l.ovCount} slots but links ${n}`);
      listed += n;
    }
    if (listed !== this.count) throw new Error(`pool counts ${this.count} live slots, lists hold ${listed}`);
    let indexed = 0;
    for (const s of this.index) if (s >= 0) indexed++;
    if (indexed !== this.count) throw new Error(`index holds ${indexed} slots, pool counts ${this.count}`);
    let free = 0;
    for (let s = this.freeHead; s >= 0; s = this.nextOf(s)) free++;
    if (free + this.count !== this.top) throw new Error(`${free} free + ${this.count} live != ${this.top} slots used`);
    if (this.index.length > 0 && this.count * 2 > this.index.length) throw new Error('index over half full');
  }
}
