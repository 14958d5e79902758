// Model-based property test: random add/remove of subsection-aligned ranges,
// with and without altmaps. After every command pfn_valid() is the union of
// the added ranges, the buddy's free count is its start minus the memmap
// still populated in RAM, and each altmap has exactly its blocks allocated.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SparseMemory, VmemAltmap } from '../src/index.js';
import { vmemAltmap } from '../src/index.js';
import type { FakeBuddy, RecordingStore } from './helpers.js';
import { X86_64, machine, snapshot } from './helpers.js';

const PPS = 32768;
const SUB = 512;
const SUBS = 64;
const START_FREE = 16384;
/** Sections that RAM commands play in. */
const RAM_SECTIONS = [64, 65, 66, 67, 72];

interface Dev {
  /** Ranges [pfn, nr) as __add_pages splits them. */
  readonly chunks: readonly [number, number][];
  readonly basePfn: number;
  readonly reserve: number;
  /** free when the memmap fits exactly; one less makes the last section fail. */
  readonly fit: number;
}

/** dev 0: sections 70-71 whole (two altmap PMDs after 510 pfns of padding). */
/** dev 1: the upper half of section 72 (base pages from RAM) and section 73 (an altmap PMD). */
const DEVS: readonly Dev[] = [
  { chunks: [[70 * PPS, PPS], [71 * PPS, PPS]], basePfn: 70 * PPS, reserve: 2, fit: 510 + 1024 },
  { chunks: [[72 * PPS + 32 * SUB, 32 * SUB], [73 * PPS, PPS]], basePfn: 72 * PPS + 32 * SUB, reserve: 0, fit: 512 },
];

type Owner = 'ram' | 0 | 1;

class Model {
  /** Present subsections (global subsection index) and who added them. */
  readonly present = new Map<number, Owner>();
  /** RAM sections with a live PMD (added whole). */
  readonly pmd = new Set<number>();
  /** Added devices and their altmaps. */
  readonly devs = new Map<number, VmemAltmap>();
}

interface Real {
  sparse: SparseMemory;
  buddy: FakeBuddy;
  store: RecordingStore;
}

const gsub = (pfn: number): number => pfn / SUB;

function subsOf(pfn: number, nr: number): number[] {
  return Array.from({ length: nr / SUB }, (_, i) => gsub(pfn) + i);
}

function errnoOf(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as { errno?: string }).errno ?? String(e);
  }
}

class AddRam implements fc.Command<Model, Real> {
  constructor(
    readonly section: number,
    readonly first: number,
    readonly n: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const pfn = this.section * PPS + this.first * SUB;
    const nr = this.n * SUB;
    const subs = subsOf(pfn, nr);
    const before = snapshot(r.sparse, { buddy: r.buddy, store: r.store });
    const err = errnoOf(() => r.sparse.sparseAddSection(0, pfn, nr));
    if (subs.some((s) => m.present.has(s))) {
      expect(err).toBe('EEXIST');
      expect(snapshot(r.sparse, { buddy: r.buddy, store: r.store })).toBe(before);
      return;
    }
    expect(err).toBeUndefined();
    for (const s of subs) m.present.set(s, 'ram');
    if (nr === PPS) m.pmd.add(this.section);
  }
  toString(): string {
    return `addRam(${this.section}, ${this.first}, ${this.n})`;
  }
}

class RemoveRam implements fc.Command<Model, Real> {
  constructor(
    readonly section: number,
    readonly first: number,
    readonly n: number,
  ) {}
  check(m: Model): boolean {
    // Device memory is removed as a whole, with its altmap (RemoveDev).
    const subs = subsOf(this.section * PPS + this.first * SUB, this.n * SUB);
    return subs.every((s) => m.present.get(s) === undefined || m.present.get(s) === 'ram');
  }
  run(m: Model, r: Real): void {
    const pfn = this.section * PPS + this.first * SUB;
    const nr = this.n * SUB;
    const subs = subsOf(pfn, nr);
    const before = snapshot(r.sparse, { buddy: r.buddy, store: r.store });
    const err = errnoOf(() => r.sparse.sparseRemoveSection(pfn, nr));
    if (!subs.every((s) => m.present.has(s))) {
      expect(err).toBe('EINVAL');
      expect(snapshot(r.sparse, { buddy: r.buddy, store: r.store })).toBe(before);
      return;
    }
    expect(err).toBeUndefined();
    for (const s of subs) m.present.delete(s);
    if (!subsOf(this.section * PPS, PPS).some((s) => m.present.has(s))) m.pmd.delete(this.section);
  }
  toString(): string {
    return `removeRam(${this.section}, ${this.first}, ${this.n})`;
  }
}

class AddDev implements fc.Command<Model, Real> {
  constructor(
    readonly dev: 0 | 1,
    readonly short: boolean,
  ) {}
  check(m: Model): boolean {
    return !m.devs.has(this.dev);
  }
  run(m: Model, r: Real): void {
    const d = DEVS[this.dev]!;
    const last = d.chunks.at(-1)!;
    const nrPages = last[0] + last[1] - d.basePfn;
    const altmap = vmemAltmap({ basePfn: d.basePfn, endPfn: d.basePfn + nrPages - 1, reserve: d.reserve, free: d.fit - (this.short ? 1 : 0) });
    const subs = d.chunks.flatMap(([p, n]) => subsOf(p, n));
    const before = snapshot(r.sparse, { buddy: r.buddy, store: r.store, monotonic: false });
    // __add_pages, unwinding the sections already added when one fails (memory hotplug's job).
    r.sparse.checkAddPagesAltmap(d.basePfn, nrPages, altmap);
    altmap.alloc = 0;
    const done: [number, number][] = [];
    let err: string | undefined;
    for (const [p, n] of d.chunks) {
      err = errnoOf(() => r.sparse.sparseAddSection(0, p, n, altmap));
      if (err !== undefined) break;
      done.push([p, n]);
    }
    if (err !== undefined) {
      for (const [p, n] of done.reverse()) r.sparse.sparseRemoveSection(p, n, 0, altmap);
    }
    if (subs.some((s) => m.present.has(s))) {
      expect(err).toBe('EEXIST');
    } else if (this.short) {
      expect(err).toBe('ENOMEM');
    } else {
      expect(err).toBeUndefined();
    }
    if (err !== undefined) {
      expect(snapshot(r.sparse, { buddy: r.buddy, store: r.store, monotonic: false })).toBe(before);
      expect(altmap.alloc).toBe(0);
      return;
    }
    for (const s of subs) m.present.set(s, this.dev);
    m.devs.set(this.dev, altmap);
  }
  toString(): string {
    return `addDev(${this.dev}${this.short ? ', short' : ''})`;
  }
}

class RemoveDev implements fc.Command<Model, Real> {
  constructor(readonly dev: 0 | 1) {}
  check(m: Model): boolean {
    return m.devs.has(this.dev);
  }
  run(m: Model, r: Real): void {
    const d = DEVS[this.dev]!;
    const altmap = m.devs.get(this.dev)!;
    for (const [p, n] of d.chunks) r.sparse.sparseRemoveSection(p, n, 0, altmap);
    expect(altmap.alloc).toBe(0);
    for (const [p, n] of d.chunks) for (const s of subsOf(p, n)) m.present.delete(s);
    m.devs.delete(this.dev);
  }
  toString(): string {
    return `removeDev(${this.dev})`;
  }
}

function checkInvariants(m: Model, r: Real): void {
  const { sparse, buddy, store } = r;
  // pfn_valid is the union of the added ranges (first and last pfn of every subsection).
  for (const sec of [...RAM_SECTIONS, 68, 69, 70, 71, 73]) {
    for (let i = 0; i < SUBS; i++) {
      const pfn = sec * PPS + i * SUB;
      const want = m.present.has(gsub(pfn));
      expect(sparse.pfnValid(pfn)).toBe(want);
      expect(sparse.pfnValid(pfn + SUB - 1)).toBe(want);
      // every present page has its 64 bytes of struct page backed
      if (want) expect(sparse.memmapOfRange(pfn, SUB).bytes).toBe(SUB * 64);
    }
  }
  // The buddy's free pages: the start minus the memmap populated in RAM,
  // as the model predicts it (a PMD per whole-added RAM section, 8 base
  // pages per other present subsection in RAM_SECTIONS; device sections 70,
  // 71 and 73 are in their altmaps).
  let expectedRam = 0;
  for (const sec of RAM_SECTIONS) {
    if (m.pmd.has(sec)) expectedRam += 512;
    else expectedRam += 8 * subsOf(sec * PPS, PPS).filter((s) => m.present.has(s)).length;
  }
  const ramBytes = [...sparse.vmemmapTotals().ram.values()].reduce((a, b) => a + b, 0);
  expect(ramBytes / 4096).toBe(expectedRam);
  expect(buddy.nrFree()).toBe(START_FREE - expectedRam);
  // Each altmap has exactly its PMDs allocated.
  for (const [dev, altmap] of m.devs) {
    expect(altmap.alloc).toBe(dev === 0 ? 1024 : 512);
    expect(sparse.vmemmapTotals().altmap.get(altmap)).toBe(altmap.alloc * 4096);
  }
  // The struct-page store has exactly the sections with a present subsection.
  const sections = new Set([...m.present.keys()].map((s) => Math.floor(s / SUBS)));
  expect(store.sections).toEqual(sections);
}

describe('random add/remove of subsection-aligned ranges (fast-check commands)', () => {
  it('keeps pfn_valid, the buddy, the altmaps and the store consistent with the model', () => {
    const ramRange = fc
      .record({ section: fc.constantFrom(...RAM_SECTIONS), first: fc.integer({ min: 0, max: SUBS - 1 }), n: fc.integer({ min: 1, max: SUBS }) })
      .map((x) => ({ ...x, n: Math.min(x.n, SUBS - x.first) }));
    const wholeOrPart = fc.oneof(
      ramRange,
      fc.constantFrom(...RAM_SECTIONS).map((section) => ({ section, first: 0, n: SUBS })),
    );
    const commands = [
      wholeOrPart.map((x) => new AddRam(x.section, x.first, x.n)),
      wholeOrPart.map((x) => new RemoveRam(x.section, x.first, x.n)),
      fc.record({ dev: fc.constantFrom<0 | 1>(0, 1), short: fc.boolean() }).map((x) => new AddDev(x.dev, x.short)),
      fc.constantFrom<0 | 1>(0, 1).map((d) => new RemoveDev(d)),
    ];
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 40 }), (cmds) => {
        const { sparse, buddy, store } = machine(X86_64, [{ nid: 0, startPfn: 0, nrPages: START_FREE }]);
        const real: Real = { sparse, buddy, store };
        const model = new Model();
        fc.modelRun(() => ({ model, real }), cmds);
        checkInvariants(model, real);
        // Remove everything: every page comes back.
        for (const dev of [...model.devs.keys()]) new RemoveDev(dev as 0 | 1).run(model, real);
        for (const sec of RAM_SECTIONS) {
          for (let i = 0; i < SUBS; i++) {
            if (model.present.has(gsub(sec * PPS + i * SUB))) sparse.sparseRemoveSection(sec * PPS + i * SUB, SUB);
          }
        }
        expect(buddy.nrFree()).toBe(START_FREE);
        expect(sparse.vmemmapBlocks()).toHaveLength(0);
        expect([...sparse.presentSectionNrs()]).toEqual([]);
      }),
      { numRuns: 60, seed: 4 },
    );
  });
});

// Invariants are also checked after every command, not only at the end.
for (const C of [AddRam, RemoveRam, AddDev, RemoveDev]) {
  const run = C.prototype.run;
  C.prototype.run = function (this: fc.Command<Model, Real>, m: Model, r: Real): void {
    run.call(this, m, r);
    checkInvariants(m, r);
  } as typeof run;
}
