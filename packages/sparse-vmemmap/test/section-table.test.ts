// The run-length mem_section table and root set against a plain model: one
// entry per section. Random sequences of range writes (with shared and
// per-section usages) must give the same state for every section, keep the
// runs disjoint, ascending and maximal (no two neighbours in the same state).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Usage } from '../src/mem-section.js';
import { NumberRuns, SectionTable } from '../src/section-table.js';

const SPAN = 40;

describe('SectionTable', () => {
  it('matches one record per section, with maximal runs', () => {
    const shared = [undefined, new Usage(64, false), new Usage(64, true)];
    const write = fc.record({
      start: fc.integer({ min: 0, max: SPAN - 1 }),
      // Few states, short writes: neighbours often end up alike and must join.
      len: fc.integer({ min: 1, max: 4 }),
      flags: fc.constantFrom(0, 3, 3, 7),
      nid: fc.constantFrom(0, 0, 0, 1),
      usage: fc.constantFrom(0, 1, 1, 2, 3),
    });
    fc.assert(
      fc.property(fc.array(write, { maxLength: 60 }), (writes) => {
        const t = new SectionTable();
        const model: ({ flags: number; nid: number; usage: Usage | undefined } | undefined)[] = new Array(SPAN + 12).fill(undefined);
        for (const w of writes) {
          // usage 3: a usage of its own, for one section only.
          const own = w.usage === 3;
          const end = own ? w.start + 1 : w.start + w.len;
          const usage = own ? new Usage(64, false) : shared[w.usage];
          t.set(w.start, end, w.flags, w.nid, usage);
          for (let i = w.start; i < end; i++) model[i] = w.flags === 0 && usage === undefined ? undefined : { flags: w.flags, nid: w.nid, usage };
        }
        for (let i = 0; i < model.length; i++) {
          const r = t.find(i);
          const m = model[i];
          if (m === undefined) expect(r).toBeUndefined();
          else expect(r && { flags: r.flags, nid: r.nid, usage: r.usage }).toEqual(m);
          if (m !== undefined) expect(r!.usage).toBe(m.usage);
        }
        const runs = t.allRuns();
        for (let k = 0; k < runs.length; k++) {
          const r = runs[k]!;
          expect(r.end).toBeGreaterThan(r.start);
          const next = runs[k + 1];
          if (next === undefined) continue;
          expect(next.start).toBeGreaterThanOrEqual(r.end);
          if (next.start === r.end) expect(next.flags !== r.flags || next.nid !== r.nid || next.usage !== r.usage).toBe(true);
        }
        expect(t.runsIn(0, Infinity).length).toBe(runs.length);
      }),
      { numRuns: 300, seed: 20 },
    );
  });
});

describe('SectionTable joins', () => {
  it('a section filling the gap between two runs in its state joins them into one', () => {
    const u = new Usage(64, false);
    const t = new SectionTable();
    t.set(0, 2, 3, 0, u);
    t.set(3, 5, 3, 0, u);
    expect(t.size).toBe(2);
    t.set(2, 3, 3, 0, u);
    expect(t.allRuns().map((r) => [r.start, r.end])).toEqual([[0, 5]]);
    // One in another state splits it in three; back in the state, one again.
    t.set(1, 2, 7, 0, u);
    expect(t.allRuns().map((r) => [r.start, r.end, r.flags])).toEqual([[0, 1, 3], [1, 2, 7], [2, 5, 3]]);
    t.set(1, 2, 3, 0, u);
    expect(t.allRuns().map((r) => [r.start, r.end])).toEqual([[0, 5]]);
    // Extending at either end, and forgetting a section in the middle.
    t.set(5, 6, 3, 0, u);
    t.set(6, 9, 3, 0, u);
    expect(t.allRuns().map((r) => [r.start, r.end])).toEqual([[0, 9]]);
    t.set(4, 5, 0, 0, undefined);
    expect(t.allRuns().map((r) => [r.start, r.end])).toEqual([[0, 4], [5, 9]]);
    expect(t.find(4)).toBeUndefined();
    expect(t.find(8)!.start).toBe(5);
  });
});

describe('NumberRuns', () => {
  it('is a set of numbers', () => {
    const op = fc.record({ kind: fc.constantFrom('add', 'delete', 'range'), x: fc.integer({ min: 0, max: 30 }), len: fc.integer({ min: 1, max: 8 }) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 50 }), (ops) => {
        const s = new NumberRuns();
        const model = new Set<number>();
        for (const o of ops) {
          if (o.kind === 'add') expect(s.add(o.x)).toBe(!model.has(o.x));
          if (o.kind === 'add') model.add(o.x);
          else if (o.kind === 'delete') {
            s.delete(o.x);
            model.delete(o.x);
          } else {
            s.addRange(o.x, o.x + o.len);
            for (let i = o.x; i < o.x + o.len; i++) model.add(i);
          }
        }
        expect([...s.values()]).toEqual([...model].sort((a, b) => a - b));
        expect(s.size).toBe(model.size);
        for (let i = 0; i < 40; i++) expect(s.has(i)).toBe(model.has(i));
      }),
      { numRuns: 300, seed: 20 },
    );
  });
});
