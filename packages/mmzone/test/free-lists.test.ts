// The free lists against the plain lists of struct pages they stand for: a
// fast-check run of random list_add, list_add_tail, list_del and
// list_move_tail on free blocks that never overlap (as the buddy allocator's
// never do), comparing every list, its order and every count after each step.
// The blocks are drawn from a small range so that neighbours, and with them
// runs that grow, shrink and split, are common.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { KernelBug } from '@zonedev/kernel';
import { FreeLists } from '../src/free-area.js';

const MAX_ORDER = 3;
const TYPES = 3;
const SPAN = 64; // pfns [0, 64)

interface Ref {
  lists: number[][]; // per list index order * TYPES + mt, head first
}

const li = (order: number, mt: number): number => order * TYPES + mt;

function refFind(r: Ref, pfn: number): { l: number; i: number } | undefined {
  for (let l = 0; l < r.lists.length; l++) {
    const i = r.lists[l]!.indexOf(pfn);
    if (i >= 0) return { l, i };
  }
  return undefined;
}

/** Whether [pfn, pfn + 2^order) overlaps a block on some list. */
function overlaps(r: Ref, pfn: number, order: number): boolean {
  for (let l = 0; l < r.lists.length; l++) {
    const o = Math.floor(l / TYPES);
    for (const p of r.lists[l]!) if (p < pfn + 2 ** order && pfn < p + 2 ** o) return true;
  }
  return false;
}

function same(f: FreeLists, r: Ref): void {
  let total = 0;
  for (let o = 0; o < MAX_ORDER; o++) {
    let nr = 0;
    for (let mt = 0; mt < TYPES; mt++) {
      const want = r.lists[li(o, mt)]!;
      expect(f.list(o, mt)).toEqual(want);
      expect(f.count(o, mt)).toBe(want.length);
      expect(f.isEmpty(o, mt)).toBe(want.length === 0);
      expect(f.first(o, mt)).toBe(want.length > 0 ? want[0] : -1);
      nr += want.length;
    }
    expect(f.nrFree(o)).toBe(nr);
    total += nr;
  }
  expect(f.size).toBe(total);
  for (let p = 0; p < SPAN; p++) {
    const w = refFind(r, p);
    expect(f.has(p)).toBe(w !== undefined);
    expect(f.where(p)).toEqual(w === undefined ? undefined : { order: Math.floor(w.l / TYPES), migratetype: w.l % TYPES });
  }
}

type Op =
  | { kind: 'add'; tail: boolean; block: number; order: number; mt: number }
  | { kind: 'del'; pick: number }
  | { kind: 'move'; pick: number; mt: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), tail: fc.boolean(), block: fc.nat(SPAN - 1), order: fc.nat(MAX_ORDER - 1), mt: fc.nat(TYPES - 1) }),
  fc.record({ kind: fc.constant('del' as const), pick: fc.nat(1000) }),
  fc.record({ kind: fc.constant('move' as const), pick: fc.nat(1000), mt: fc.nat(TYPES - 1) }),
);

function all(r: Ref): number[] {
  return r.lists.flat().sort((a, b) => a - b);
}

function step(f: FreeLists, r: Ref, o: Op): void {
  if (o.kind === 'add') {
    const pfn = Math.floor(o.block / 2 ** o.order) * 2 ** o.order;
    if (overlaps(r, pfn, o.order)) return;
    const l = r.lists[li(o.order, o.mt)]!;
    if (o.tail) {
      f.pushTail(pfn, o.order, o.mt);
      l.push(pfn);
    } else {
      f.pushHead(pfn, o.order, o.mt);
      l.unshift(pfn);
    }
    return;
  }
  const heads = all(r);
  if (heads.length === 0) return;
  const pfn = heads[o.pick % heads.length]!;
  const w = refFind(r, pfn)!;
  r.lists[w.l]!.splice(w.i, 1);
  if (o.kind === 'del') expect(f.remove(pfn)).toBe(true);
  else {
    f.moveTail(pfn, o.mt);
    r.lists[li(Math.floor(w.l / TYPES), o.mt)]!.push(pfn);
  }
}

describe('free lists', () => {
  it('keep every list, its order and its counts exactly as plain lists of struct pages would', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 120 }), (ops) => {
        const f = new FreeLists(MAX_ORDER, TYPES);
        const r: Ref = { lists: Array.from({ length: MAX_ORDER * TYPES }, () => []) };
        for (const o of ops) {
          step(f, r, o);
          same(f, r);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('hold a long run of ascending blocks as one run: taken from the head, split in the middle, moved, in list order', () => {
    const f = new FreeLists(11, 6);
    for (let i = 0; i < 10000; i++) f.pushTail(i * 1024, 10, 1);
    expect(f.count(10, 1)).toBe(10000);
    expect(f.first(10, 1)).toBe(0);
    expect(f.remove(0)).toBe(true); // __rmqueue_smallest() takes the head
    f.moveTail(5000 * 1024, 4); // a block from the middle to the isolate list
    f.moveTail(5001 * 1024, 4);
    expect(f.list(10, 4)).toEqual([5000 * 1024, 5001 * 1024]);
    const l = f.list(10, 1);
    expect(l.length).toBe(9997);
    expect(l[0]).toBe(1024);
    expect(l[4998]).toBe(4999 * 1024);
    expect(l[4999]).toBe(5002 * 1024);
    expect(f.where(7000 * 1024)).toEqual({ order: 10, migratetype: 1 });
    expect(f.has(7000 * 1024 + 512)).toBe(false); // not a block head
    expect(() => f.pushTail(7000 * 1024, 10, 1)).toThrow(KernelBug);
    f.moveTail(5000 * 1024, 1);
    f.moveTail(5001 * 1024, 1);
    expect(f.list(10, 1).slice(-3)).toEqual([9999 * 1024, 5000 * 1024, 5001 * 1024]);
    expect(f.size).toBe(9999);
    expect(f.remove(5000 * 1024 + 1)).toBe(false);
  });
});
