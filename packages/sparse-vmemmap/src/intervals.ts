/**
 * Sets of half-open intervals `[s, e)` kept as a flat, sorted array
 * `[s0, e0, s1, e1, ...]` of disjoint, non-touching pairs. Used for the parts
 * of a vmemmap block that describe present memory.
 */

/** Adds `[s, e)`; returns the pieces that were not already in the set (flat pairs). */
export function addInterval(set: number[], s: number, e: number): number[] {
  if (e <= s) return [];
  const added: number[] = [];
  let cursor = s;
  for (let i = 0; i < set.length && cursor < e; i += 2) {
    const a = set[i]!;
    const b = set[i + 1]!;
    if (b <= cursor) continue;
    if (a >= e) break;
    if (a > cursor) added.push(cursor, a);
    cursor = Math.max(cursor, b);
  }
  if (cursor < e) added.push(cursor, e);
  if (added.length === 0) return added;
  // Merge: rebuild the array with [s, e) included.
  const out: number[] = [];
  let ns = s;
  let ne = e;
  let placed = false;
  for (let i = 0; i < set.length; i += 2) {
    const a = set[i]!;
    const b = set[i + 1]!;
    if (b < ns) out.push(a, b);
    else if (a > ne) {
      if (!placed) {
        out.push(ns, ne);
        placed = true;
      }
      out.push(a, b);
    } else {
      ns = Math.min(ns, a);
      ne = Math.max(ne, b);
    }
  }
  if (!placed) out.push(ns, ne);
  set.length = 0;
  for (const x of out) set.push(x);
  return added;
}

/** Removes `[s, e)` from the set. */
export function removeInterval(set: number[], s: number, e: number): void {
  if (e <= s) return;
  const out: number[] = [];
  for (let i = 0; i < set.length; i += 2) {
    const a = set[i]!;
    const b = set[i + 1]!;
    if (b <= s || a >= e) {
      out.push(a, b);
      continue;
    }
    if (a < s) out.push(a, s);
    if (b > e) out.push(e, b);
  }
  set.length = 0;
  for (const x of out) set.push(x);
}

/** The total length of the set. */
export function intervalsLength(set: readonly number[]): number {
  let n = 0;
  for (let i = 0; i < set.length; i += 2) n += set[i + 1]! - set[i]!;
  return n;
}
