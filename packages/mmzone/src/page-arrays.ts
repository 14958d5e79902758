/**
 * Column storage for struct pages (internal to the memmap store).
 *
 * A struct page is not a JavaScript object here. Its five hot fields live in
 * parallel typed arrays ("columns"): the two 32-bit halves of `flags`,
 * `_refcount`, `_mapcount` (which doubles as `page_type`) and `private`, 24
 * host bytes per page. Two containers hold such columns:
 *
 * - {@link Cols}: one entry per page of a memory section, indexed by the
 *   page's offset in the section (a section whose pages are written densely);
 * - {@link Overlay}: a small open-addressing hash table of the few pages of a
 *   section that differ from the section's template, keyed by offset. Each
 *   entry costs the 24 bytes of columns plus a 4-byte key, at a load factor
 *   between 0.5 and 0.75: 37 to 56 host bytes per diverged page.
 *
 * Both expose the same five arrays, so a writer finds "the arrays and the
 * position" once and stores into them without caring which container it is.
 */
import type { StructPage } from './struct-page.js';

/** The five columns, as any container exposes them. */
export interface PageArrays {
  lo: Uint32Array;
  hi: Uint32Array;
  ref: Int32Array;
  mc: Int32Array;
  priv: Float64Array;
}

/** Host bytes of the five columns, per page. */
export const COLUMN_BYTES = 24;

function columns(n: number): PageArrays {
  // One allocation: private (8-byte aligned) first, then the 32-bit columns.
  const buf = new ArrayBuffer(n * COLUMN_BYTES);
  return {
    priv: new Float64Array(buf, 0, n),
    lo: new Uint32Array(buf, n * 8, n),
    hi: new Uint32Array(buf, n * 12, n),
    ref: new Int32Array(buf, n * 16, n),
    mc: new Int32Array(buf, n * 20, n),
  };
}

/** Dense columns for every page of a section. */
export class Cols implements PageArrays {
  lo: Uint32Array;
  hi: Uint32Array;
  ref: Int32Array;
  mc: Int32Array;
  priv: Float64Array;
  constructor(n: number, t: StructPage) {
    const c = columns(n);
    this.lo = c.lo;
    this.hi = c.hi;
    this.ref = c.ref;
    this.mc = c.mc;
    this.priv = c.priv;
    this.fill(0, n, t);
  }

  fill(a: number, b: number, t: StructPage): void {
    this.lo.fill(t.flagsLo, a, b);
    this.hi.fill(t.flagsHi, a, b);
    this.ref.fill(t.refcount, a, b);
    this.mc.fill(t.mapcount, a, b);
    this.priv.fill(t.private, a, b);
  }

  get bytes(): number {
    return this.lo.length * COLUMN_BYTES;
  }
}

const GOLDEN = -1640531535; // 0x9e3779b1 as int32: Fibonacci hashing
const TWO32 = 4294967296;

/** The few diverged pages of a section, keyed by their offset in it. */
export class Overlay implements PageArrays {
  keys: Int32Array;
  lo: Uint32Array;
  hi: Uint32Array;
  ref: Int32Array;
  mc: Int32Array;
  priv: Float64Array;
  cap: number;
  count = 0;

  constructor(cap: number = 8) {
    this.cap = cap;
    this.keys = new Int32Array(cap).fill(-1);
    const c = columns(cap);
    this.lo = c.lo;
    this.hi = c.hi;
    this.ref = c.ref;
    this.mc = c.mc;
    this.priv = c.priv;
  }

  private home(i: number): number {
    const h = Math.imul(i, GOLDEN);
    return Math.floor(((h < 0 ? h + TWO32 : h) * this.cap) / TWO32);
  }

  /** The position of offset `i`, or -1. */
  find(i: number): number {
    const keys = this.keys;
    const cap = this.cap;
    let p = this.home(i);
    for (;;) {
      const k = keys[p]!;
      if (k === i) return p;
      if (k === -1) return -1;
      p = p + 1 === cap ? 0 : p + 1;
    }
  }

  /** Adds offset `i` (absent) with the template's values; returns its position. */
  insert(i: number, t: StructPage): number {
    if ((this.count + 1) * 4 > this.cap * 3) this.grow();
    const keys = this.keys;
    const cap = this.cap;
    let p = this.home(i);
    while (keys[p] !== -1) p = p + 1 === cap ? 0 : p + 1;
    keys[p] = i;
    this.lo[p] = t.flagsLo;
    this.hi[p] = t.flagsHi;
    this.ref[p] = t.refcount;
    this.mc[p] = t.mapcount;
    this.priv[p] = t.private;
    this.count++;
    return p;
  }

  private grow(): void {
    const old = { keys: this.keys, lo: this.lo, hi: this.hi, ref: this.ref, mc: this.mc, priv: this.priv };
    const oldCap = this.cap;
    const cap = Math.ceil(oldCap * 1.5);
    this.cap = cap;
    this.keys = new Int32Array(cap).fill(-1);
    const c = columns(cap);
    this.lo = c.lo;
    this.hi = c.hi;
    this.ref = c.ref;
    this.mc = c.mc;
    this.priv = c.priv;
    for (let q = 0; q < oldCap; q++) {
      const k = old.keys[q]!;
      if (k === -1) continue;
      let p = this.home(k);
      while (this.keys[p] !== -1) p = p + 1 === cap ? 0 : p + 1;
      this.keys[p] = k;
      this.lo[p] = old.lo[q]!;
      this.hi[p] = old.hi[q]!;
      this.ref[p] = old.ref[q]!;
      this.mc[p] = old.mc[q]!;
      this.priv[p] = old.priv[q]!;
    }
  }

  /** Copies every entry into dense columns. */
  spill(into: PageArrays): void {
    for (let p = 0; p < this.cap; p++) {
      const k = this.keys[p]!;
      if (k === -1) continue;
      into.lo[k] = this.lo[p]!;
      into.hi[k] = this.hi[p]!;
      into.ref[k] = this.ref[p]!;
      into.mc[k] = this.mc[p]!;
      into.priv[k] = this.priv[p]!;
    }
  }

  get bytes(): number {
    return this.cap * (COLUMN_BYTES + 4);
  }
}
