// The store-wide overlay pool (src/page-arrays.ts) and what it costs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMmConfig } from '../src/config.js';
import { MemmapStore } from '../src/memmap.js';
import { OverlayPool, POOL_CHUNK } from '../src/page-arrays.js';
import type { SlotList } from '../src/page-arrays.js';
import { makeStructPage, ZERO_STRUCT_PAGE } from '../src/struct-page.js';
import { PPC64, X86_64 } from './machines.js';

/** The store's internals, for the invariant checks. */
interface Internals {
  readonly pool: OverlayPool;
  readonly sections: Map<number, SlotList>;
}
const internals = (m: MemmapStore): Internals => m as unknown as Internals;
const audit = (m: MemmapStore): void => {
  const { pool, sections } = internals(m);
  pool.audit(sections.values());
};

describe('overlay pool', () => {
  it('agrees with a Map under random inserts and releases of lists (and compacts)', () => {
    // pfns spread over 2^44 so that the high half of the hash matters
    const pfnArb = fc.oneof(fc.integer({ min: 0, max: 4000 }), fc.integer({ min: 0, max: 2 ** 44 }));
    const opArb = fc.oneof(
      fc.record({ kind: fc.constant('insert' as const), list: fc.integer({ min: 0, max: 7 }), pfns: fc.array(pfnArb, { maxLength: 700 }) }),
      fc.record({ kind: fc.constant('release' as const), list: fc.integer({ min: 0, max: 7 }) }),
    );
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 25 }), (ops) => {
        const pool = new OverlayPool();
        const lists: SlotList[] = Array.from({ length: 8 }, () => ({ ovHead: -1, ovCount: 0 }));
        const owner = new Map<number, number>(); // pfn -> list
        const value = new Map<number, number>(); // pfn -> refcount written
        const owners = (pfn: number): SlotList => lists[owner.get(pfn)!]!;
        let v = 0;
        for (const op of ops) {
          if (op.kind === 'insert') {
            for (const pfn of op.pfns) {
              if (owner.has(pfn)) continue;
              const s = pool.insert(pfn, makeStructPage({ refcount: ++v }), lists[op.list]!);
              owner.set(pfn, op.list);
              value.set(pfn, v);
              expect(pool.keyOf(s)).toBe(pfn);
            }
          } else {
            pool.release(lists[op.list]!, owners);
            for (const [pfn, l] of owner) {
              if (l !== op.list) continue;
              owner.delete(pfn);
              value.delete(pfn);
            }
          }
          pool.audit(lists);
          expect(pool.count).toBe(owner.size);
          for (const [pfn, r] of value) {
            const s = pool.find(pfn);
            expect(s).toBeGreaterThanOrEqual(0);
            expect(pool.chunkOf(s).ref[pool.posOf(s)]).toBe(r);
          }
          expect(pool.find(2 ** 45 + 3)).toBe(-1);
        }
        if (owner.size === 0) expect(pool.bytes).toBe(0);
      }),
      { numRuns: 40 },
    );
  });

  it('an empty pool holds nothing; a pool that shrank is compacted', () => {
    const pool = new OverlayPool();
    const a: SlotList = { ovHead: -1, ovCount: 0 };
    const b: SlotList = { ovHead: -1, ovCount: 0 };
    const owners = (pfn: number): SlotList => (pfn < 1e6 ? a : b);
    for (let i = 0; i < 10 * POOL_CHUNK; i++) pool.insert(i, ZERO_STRUCT_PAGE, a);
    for (let i = 0; i < 100; i++) pool.insert(2e6 + i * 7, makeStructPage({ private: i }), b);
    const big = pool.bytes;
    pool.release(a, owners);
    pool.audit([a, b]);
    expect(pool.count).toBe(100);
    expect(pool.bytes).toBeLessThan(big / 20);
    expect(pool.chunkOf(pool.find(2e6 + 99 * 7)).priv[pool.posOf(pool.find(2e6 + 99 * 7))]).toBe(99);
    pool.release(b, owners);
    expect(pool.bytes).toBe(0);
    expect(pool.find(2e6)).toBe(-1);
  });
});

describe('struct page store on the overlay pool', () => {
  it('one diverged page in each of 4096 sections costs no more than any other diverged page', () => {
    const m = new MemmapStore(createMmConfig(X86_64));
    const N = 4096;
    for (let s = 0; s < N; s++) m.initSection(s);
    const empty = m.stats().hostBytes;
    for (let s = 0; s < N; s++) m.setPageCount(s * 32768 + 100, 7);
    const st = m.stats();
    expect([st.overlaySections, st.overlayPages, st.templateSections]).toEqual([N, N, 0]);
    // each diverged section leaves the run of uniform sections as a record of
    // its own (160 B); then 28 bytes of slot, 8 (to 16) of pfn key, 8 to 16 of
    // index, and at most one partly used chunk
    expect((st.hostBytes - empty - N * 160) / N).toBeLessThanOrEqual(56);
    expect(m.pageRefCount(4095 * 32768 + 100)).toBe(7);
    expect(m.pageRefCount(4095 * 32768 + 101)).toBe(0);
    audit(m);
  });

  it('dropSection, a whole-section init and the switch to columns give the slots back', () => {
    const m = new MemmapStore(createMmConfig(X86_64));
    for (let s = 0; s < 64; s++) m.initSection(s);
    const empty = m.stats().hostBytes;
    for (let s = 0; s < 64; s++) for (let k = 0; k < 50; k++) m.setPagePrivate(s * 32768 + k * 13, k + 1);
    audit(m);
    for (let s = 0; s < 60; s++) m.dropSection(s);
    audit(m);
    expect(m.stats().overlayPages).toBe(4 * 50);
    expect(m.pagePrivate(63 * 32768 + 49 * 13)).toBe(50);
    m.initRange(60 * 32768, 32768, ZERO_STRUCT_PAGE);
    m.materialize(61 * 32768, 1);
    audit(m);
    expect([m.sectionState(60), m.sectionState(61), m.sectionState(62)]).toEqual(['template', 'columns', 'overlay']);
    expect(m.pagePrivate(61 * 32768 + 13)).toBe(2);
    expect(m.pagePrivate(62 * 32768 + 13)).toBe(2);
    m.dropSection(62);
    m.dropSection(63);
    audit(m);
    // no pool left: section 60, uniform again, is a run record as the 64
    // sections were at first; section 61 is a record with its columns (low
    // flags, _refcount, _mapcount, and private, which its pages changed)
    expect(m.stats().hostBytes).toBe(empty + 160 + 32768 * 20);
    // a re-added section starts from its template, with nothing left over
    m.initSection(62);
    expect(m.pagePrivate(62 * 32768 + 13)).toBe(0);
    expect(m.sectionState(62)).toBe('template');
  });

  it('pfns far apart (powerpc64, 51-bit physical addresses) hash apart', () => {
    const c = createMmConfig(PPC64);
    const m = new MemmapStore(c);
    const far = [0, 2 ** 16, 2 ** 24 + 5, 2 ** 26 + 3, 2 ** 27 - 1]; // the last: 2^51 - 16 MiB
    for (const nr of far) m.initSection(nr);
    for (const nr of far) for (let i = 0; i < 40; i++) m.setPageCount(nr * 256 + i, nr % 97 + i);
    for (const nr of far) for (let i = 0; i < 40; i++) expect(m.pageRefCount(nr * 256 + i)).toBe(nr % 97 + i);
    audit(m);
  });
});
