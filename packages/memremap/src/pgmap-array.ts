/**
 * `pgmap_array`: which `dev_pagemap` owns a pfn.
 *
 * `get_dev_pagemap(pfn)` must find the pagemap of any device pfn quickly —
 * `get_user_pages()` calls it for every devmap pte it walks. mm/memremap.c
 * keeps a global xarray indexed by pfn; `memremap_pages()` stores the pagemap
 * over a range with `xa_store_range(first, last)` (a multi-index entry, not
 * one slot per page), `xa_load(pfn)` finds it, and `pgmap_array_delete()`
 * stores NULL over the range again.
 *
 * The model's {@link PgmapArray} is the same thing as an interval map: a
 * sorted list of disjoint `[first, last]` pfn intervals, each with its
 * value. A store over a range overwrites whatever part of other intervals it
 * covers (splitting them), exactly as `xa_store_range()` overwrites the
 * entries it spans; storing `undefined` erases. A lookup is a binary search,
 * O(log n) in the number of intervals, independent of how many pages they
 * cover — a 64 TiB range is one interval.
 */

/**
 * An interval map from pfns to values, with xarray range-store semantics.
 * The interval bounds are kept in typed arrays and searched without
 * data-dependent branches: a lookup of a random pfn would otherwise pay a
 * mispredicted branch at every step of the search. Internal to the package;
 * {@link Memremap} exposes a read-only view.
 */
export class PgmapArray<V> {
  private firsts: Float64Array = new Float64Array(0);
  private lasts: Float64Array = new Float64Array(0);
  private vals: V[] = [];

  /** Number of intervals. */
  get size(): number {
    return this.vals.length;
  }

  /** `xa_load(xa, index)`: the value stored at `index`, or `undefined`. */
  load(index: number): V | undefined {
    const firsts = this.firsts;
    let len = firsts.length;
    if (len === 0) return undefined;
    // The last interval whose first index is <= index (or 0): a lower bound
    // by halving, the step taken by arithmetic instead of a branch.
    let base = 0;
    while (len > 1) {
      const half = Math.floor(len / 2);
      base += half * Number(firsts[base + half]! <= index);
      len -= half;
    }
    if (firsts[base]! > index || this.lasts[base]! < index) return undefined;
    return this.vals[base];
  }

  /**
   * `xa_store_range(xa, first, last, entry)`: `value` for every index of
   * `[first, last]`, overwriting what was there; `undefined` erases.
   */
  storeRange(first: number, last: number, value: V | undefined): void {
    if (!(first <= last)) throw new RangeError(`xa_store_range: empty range ${first}..${last}`);
    const nf: number[] = [];
    const nl: number[] = [];
    const nv: V[] = [];
    let placed = false;
    const place = (): void => {
      if (placed) return;
      placed = true;
      if (value !== undefined) {
        nf.push(first);
        nl.push(last);
        nv.push(value);
      }
    };
    for (let i = 0; i < this.vals.length; i++) {
      const f = this.firsts[i]!;
      const l = this.lasts[i]!;
      const v = this.vals[i]!;
      if (l < first) {
        nf.push(f);
        nl.push(l);
        nv.push(v);
        continue;
      }
      if (f > last) {
        place();
        nf.push(f);
        nl.push(l);
        nv.push(v);
        continue;
      }
      // Overlap: keep the parts outside [first, last].
      if (f < first) {
        nf.push(f);
        nl.push(first - 1);
        nv.push(v);
      }
      place();
      if (l > last) {
        nf.push(last + 1);
        nl.push(l);
        nv.push(v);
      }
    }
    place();
    this.firsts = Float64Array.from(nf);
    this.lasts = Float64Array.from(nl);
    this.vals = nv;
  }

  /** The intervals, ascending: `[first, last, value]`. */
  entries(): [number, number, V][] {
    return this.vals.map((v, i) => [this.firsts[i]!, this.lasts[i]!, v]);
  }
}
