/**
 * A small fixed-size bitmap: `DECLARE_BITMAP(subsection_map,
 * SUBSECTIONS_PER_SECTION)` of `struct mem_section_usage`.
 *
 * The kernel keeps the subsection map in `unsigned long` words and works on it
 * with `bitmap_set()`, `bitmap_intersects()`, `bitmap_or()`, `bitmap_xor()`,
 * `bitmap_empty()` (lib/bitmap.c). Here the words are 32 bits wide so that
 * JavaScript's bitwise operators, which are 32-bit, are exact on them.
 */
/* eslint-disable no-bitwise -- every operand below is one 32-bit word of a
   bitmap (a value < 2^32) or a bit index < 32, never an address, pfn or size. */

const WORD = 32;

/**
 * A read-only view of a fixed-size bitmap, such as a section's subsection map
 * (64 bits on x86_64, 8 on powerpc with 16 MiB sections).
 * @public
 */
export interface SubsectionBitmap {
  /** The number of bits (`SUBSECTIONS_PER_SECTION`). */
  readonly nbits: number;
  /** `test_bit(i, map)`. */
  test(i: number): boolean;
  /** `bitmap_empty(map, nbits)`. */
  isEmpty(): boolean;
  /** `bitmap_full(map, nbits)`. */
  isFull(): boolean;
  /** `bitmap_weight(map, nbits)`: the number of set bits. */
  weight(): number;
  /** The indexes of the set bits, ascending. */
  bits(): number[];
  /** The bitmap as `%*pbl` prints it: ranges of set bits such as `0-7,12,60-63`. */
  toString(): string;
}

/**
 * The mutable bitmap behind {@link SubsectionBitmap}. The first two words
 * (64 bits: x86_64's SUBSECTIONS_PER_SECTION) are fields, the rest (larger
 * sections, e.g. arm64's 512 MiB) an array: a section costs no array.
 */
export class Bitmap implements SubsectionBitmap {
  readonly nbits: number;
  private w0 = 0;
  private w1 = 0;
  private readonly more: number[] | undefined;
  private readonly nwords: number;

  constructor(nbits: number) {
    if (!Number.isInteger(nbits) || nbits <= 0) throw new RangeError(`bitmap size must be positive, got ${nbits}`);
    this.nbits = nbits;
    this.nwords = Math.ceil(nbits / WORD);
    this.more = this.nwords > 2 ? new Array<number>(this.nwords - 2).fill(0) : undefined;
  }

  private word(k: number): number {
    return k === 0 ? this.w0 : k === 1 ? this.w1 : (this.more?.[k - 2] ?? 0);
  }

  // Words are kept as signed 32-bit values (`| 0`), which V8 stores unboxed.
  private setWord(k: number, v: number): void {
    const u = v | 0;
    if (k === 0) this.w0 = u;
    else if (k === 1) this.w1 = u;
    else this.more![k - 2] = u;
  }

  /** `test_bit(i, map)`. */
  test(i: number): boolean {
    if (i < 0 || i >= this.nbits) return false;
    return ((this.word(i >>> 5) >>> (i & 31)) & 1) === 1;
  }

  /** `bitmap_empty(map, nbits)`. */
  isEmpty(): boolean {
    for (let k = 0; k < this.nwords; k++) if (this.word(k) !== 0) return false;
    return true;
  }

  /** `bitmap_full(map, nbits)`. */
  isFull(): boolean {
    return this.weight() === this.nbits;
  }

  /** `bitmap_weight(map, nbits)`: the number of set bits. */
  weight(): number {
    let n = 0;
    for (let k = 0; k < this.nwords; k++) {
      let w = this.word(k);
      while (w !== 0) {
        w &= w - 1;
        n++;
      }
    }
    return n;
  }

  /** `bitmap_intersects(a, b)`. */
  intersects(other: Bitmap): boolean {
    for (let k = 0; k < this.nwords; k++) if ((this.word(k) & other.word(k)) !== 0) return true;
    return false;
  }

  /** Whether every bit set here is set in `other` (`bitmap_subset()`). */
  isSubsetOf(other: Bitmap): boolean {
    for (let k = 0; k < this.nwords; k++) {
      const w = this.word(k);
      if ((w & other.word(k)) !== w) return false;
    }
    return true;
  }

  /** `bitmap_equal(a, b)`. */
  equals(other: Bitmap): boolean {
    if (other.nbits !== this.nbits) return false;
    for (let k = 0; k < this.nwords; k++) if (this.word(k) !== other.word(k)) return false;
    return true;
  }

  /** The indexes of the set bits, ascending. */
  bits(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.nbits; i++) if (this.test(i)) out.push(i);
    return out;
  }

  /**
   * The map as the kernel prints a bitmap with `%*pbl`: ranges of set bits,
   * e.g. `0-7,12,60-63`; empty for no bit.
   */
  toString(): string {
    const parts: string[] = [];
    for (let i = 0; i < this.nbits; i++) {
      if (!this.test(i)) continue;
      let j = i;
      while (j + 1 < this.nbits && this.test(j + 1)) j++;
      parts.push(i === j ? `${i}` : `${i}-${j}`);
      i = j;
    }
    return parts.join(',');
  }

  /** `bitmap_set(map, start, len)`. */
  setRange(start: number, len: number): void {
    for (let i = Math.max(0, start); i < start + len && i < this.nbits; i++) {
      this.setWord(i >>> 5, this.word(i >>> 5) | (1 << (i & 31)));
    }
  }

  /** `bitmap_or(this, this, other)`. */
  or(other: Bitmap): void {
    for (let k = 0; k < this.nwords; k++) this.setWord(k, this.word(k) | other.word(k));
  }

  /** `bitmap_xor(this, other, this)` for `other` a subset of this: clears its bits. */
  clear(other: Bitmap): void {
    for (let k = 0; k < this.nwords; k++) this.setWord(k, this.word(k) & ~other.word(k));
  }
}
