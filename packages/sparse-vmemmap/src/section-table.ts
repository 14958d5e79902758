/**
 * The `mem_section` table as runs: uniform sections are one record.
 *
 * With SPARSEMEM_EXTREME the kernel's table is two-level: an array of root
 * pointers, each root a page of `SECTIONS_PER_ROOT` `struct mem_section`s,
 * allocated by `sparse_index_init()` when a section in it is first used
 * (mm/sparse.c, v5.13). A 52-bit physical space has 2^25 sections of
 * 128 MiB; a device of petabytes fills tens of millions of them, all in the
 * same state: present, valid, on one node, every subsection there. The
 * kernel spends 16 bytes of its own memory on each. The model spends host
 * memory on what *differs*: a run of consecutive sections with the same
 * flags, node and usage is one {@link SectionRun}, split when one of its
 * sections changes and merged again with its neighbours when it becomes
 * like them.
 *
 * ```
 *   section nr   0 ........ 511 | 512 ...... 8388607 | 8388608 ... 33554431
 *   runs         [early, own usage each] [present|valid, node 0, full usage]
 *                 one run per section      one run for 8 Mi sections
 * ```
 *
 * Two sections can share a run only if they share their usage object: a
 * hot-added section with every subsection present uses the one immutable
 * full usage, an absent-usage section has none; any other usage belongs to
 * one section, so its run has length one and it may be written in place.
 *
 * A lookup is a binary search over the runs, O(log runs), with the last run
 * found remembered (callers walk neighbouring pfns). The same structure,
 * without states, keeps the set of roots that exist ({@link NumberRuns}).
 */
import type { Usage } from './mem-section.js';

/** Consecutive sections `[start, end)` in one state. */
export class SectionRun {
  constructor(
    public start: number,
    public end: number,
    /** The flag bits of `section_mem_map`. */
    public flags: number,
    /** The node. */
    public nid: number,
    /** The usage every section of the run points at (shared when the run is longer than one). */
    public usage: Usage | undefined,
  ) {}
}

/** The index of the run containing `x` in `starts/ends` order, or -1. */
function search<T extends { start: number; end: number }>(runs: readonly T[], x: number): number {
  let lo = 0;
  let hi = runs.length - 1;
  while (lo <= hi) {
    const mid = Math.floor((lo + hi) / 2);
    const r = runs[mid]!;
    if (x < r.start) hi = mid - 1;
    else if (x >= r.end) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/** The index of the first run that ends after `x` (the run containing `x`, or the next one). */
function lowerBound<T extends { start: number; end: number }>(runs: readonly T[], x: number): number {
  let lo = 0;
  let hi = runs.length;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (runs[mid]!.end <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The mem_section table of one machine, as runs (see the file comment). */
export class SectionTable {
  private runs: SectionRun[] = [];
  private last: SectionRun | undefined = undefined;

  /** The run holding section `nr`, or `undefined` when the section is all zero. */
  find(nr: number): SectionRun | undefined {
    const l = this.last;
    if (l !== undefined && nr >= l.start && nr < l.end) return l;
    const i = search(this.runs, nr);
    if (i < 0) return undefined;
    const r = this.runs[i]!;
    this.last = r;
    return r;
  }

  /** Number of runs: the host-side cost of the table. */
  get size(): number {
    return this.runs.length;
  }

  /** The runs overlapping `[start, end)`, ascending (a copy: the caller may change the table). */
  runsIn(start: number, end: number): SectionRun[] {
    const out: SectionRun[] = [];
    for (let i = lowerBound(this.runs, start); i < this.runs.length && this.runs[i]!.start < end; i++) out.push(this.runs[i]!);
    return out;
  }

  /** Every run, ascending. */
  allRuns(): readonly SectionRun[] {
    return this.runs;
  }

  /**
   * Sets sections `[start, end)` to one state; flags 0 and no usage forget
   * them. A usage that is not shareable must only be given for one section.
   */
  set(start: number, end: number, flags: number, nid: number, usage: Usage | undefined): void {
    if (end <= start) return;
    this.last = undefined;
    const runs = this.runs;
    let i = lowerBound(runs, start);
    if (end === start + 1 && this.setOne(i, start, flags, nid, usage)) return;
    // Split the runs cut by the bounds, then drop what lies inside.
    const pieces: SectionRun[] = [];
    let j = i;
    while (j < runs.length && runs[j]!.start < end) {
      const r = runs[j]!;
      if (r.start < start) pieces.push(new SectionRun(r.start, start, r.flags, r.nid, r.usage));
      if (r.end > end) pieces.push(new SectionRun(end, r.end, r.flags, r.nid, r.usage));
      j++;
    }
    const keep = flags !== 0 || usage !== undefined;
    const mid = keep ? new SectionRun(start, end, flags, nid, usage) : undefined;
    const repl: SectionRun[] = [];
    if (pieces.length > 0 && pieces[0]!.start < start) repl.push(pieces.shift()!);
    if (mid !== undefined) repl.push(mid);
    repl.push(...pieces);
    runs.splice(i, j - i, ...repl);
    // Merge with the neighbours where the states are equal.
    if (mid === undefined) return;
    i = runs.indexOf(mid, Math.max(0, i - 1));
    const next = runs[i + 1];
    if (next !== undefined && next.start === mid.end && same(mid, next)) {
      mid.end = next.end;
      runs.splice(i + 1, 1);
    }
    const prev = runs[i - 1];
    if (prev !== undefined && prev.end === mid.start && same(prev, mid)) {
      prev.end = mid.end;
      runs.splice(i, 1);
    }
  }

  /**
   * The common cases of setting one section `nr` (`i` = the first run ending
   * after it) without building pieces: no change, a new section that
   * extends the run before it, or one that starts the run after it. False
   * when the general path must run.
   */
  private setOne(i: number, nr: number, flags: number, nid: number, usage: Usage | undefined): boolean {
    const runs = this.runs;
    const r = runs[i];
    if (r !== undefined && r.start <= nr) return r.flags === flags && r.nid === nid && r.usage === usage;
    if (flags === 0 && usage === undefined) return true; // already absent
    const prev = runs[i - 1];
    if (prev !== undefined && prev.end === nr && prev.flags === flags && prev.nid === nid && prev.usage === usage) {
      prev.end = nr + 1;
      if (r !== undefined && r.start === nr + 1 && r.flags === flags && r.nid === nid && r.usage === usage) {
        prev.end = r.end;
        runs.splice(i, 1);
      }
      return true;
    }
    if (r !== undefined && r.start === nr + 1 && r.flags === flags && r.nid === nid && r.usage === usage) {
      r.start = nr;
      return true;
    }
    return false;
  }
}

function same(a: SectionRun, b: SectionRun): boolean {
  return a.flags === b.flags && a.nid === b.nid && a.usage === b.usage;
}

/**
 * A set of non-negative integers kept as sorted runs `[start, end)`: the
 * roots of the section table that exist.
 */
export class NumberRuns {
  private runs: { start: number; end: number }[] = [];
  private count = 0;

  /** How many numbers are in the set. */
  get size(): number {
    return this.count;
  }

  has(x: number): boolean {
    return search(this.runs, x) >= 0;
  }

  /** Adds `x`; true when it was not there. */
  add(x: number): boolean {
    const runs = this.runs;
    const i = lowerBound(runs, x);
    const r = runs[i];
    if (r !== undefined && r.start <= x) return false;
    this.count++;
    const prev = runs[i - 1];
    const joinPrev = prev !== undefined && prev.end === x;
    const joinNext = r !== undefined && r.start === x + 1;
    if (joinPrev && joinNext) {
      prev.end = r.end;
      runs.splice(i, 1);
    } else if (joinPrev) prev.end = x + 1;
    else if (joinNext) r.start = x;
    else runs.splice(i, 0, { start: x, end: x + 1 });
    return true;
  }

  /** Adds every number of `[a, b)`. */
  addRange(a: number, b: number): void {
    for (let x = a; x < b; ) {
      const i = lowerBound(this.runs, x);
      const r = this.runs[i];
      if (r !== undefined && r.start <= x) {
        x = r.end;
        continue;
      }
      // A gap [x, stop): add it whole.
      const stop = r === undefined ? b : Math.min(b, r.start);
      const prev = this.runs[i - 1];
      this.count += stop - x;
      if (prev !== undefined && prev.end === x) prev.end = stop;
      else this.runs.splice(i, 0, { start: x, end: stop });
      const merged = prev !== undefined && prev.end === stop ? prev : this.runs[i]!;
      const next = this.runs[lowerBound(this.runs, stop)];
      if (next !== undefined && next !== merged && next.start === stop) {
        merged.end = next.end;
        this.runs.splice(this.runs.indexOf(next), 1);
      }
      x = stop;
    }
  }

  /** Removes `x` if present. */
  delete(x: number): void {
    const i = search(this.runs, x);
    if (i < 0) return;
    this.count--;
    const r = this.runs[i]!;
    if (r.start === x && r.end === x + 1) this.runs.splice(i, 1);
    else if (r.start === x) r.start = x + 1;
    else if (r.end === x + 1) r.end = x;
    else {
      this.runs.splice(i + 1, 0, { start: x + 1, end: r.end });
      r.end = x;
    }
  }

  /** The numbers, ascending. */
  *values(): Generator<number> {
    for (const r of this.runs) for (let x = r.start; x < r.end; x++) yield x;
  }
}
