// Model-based test: random remap / get_dev_pagemap / put_dev_pagemap /
// get_page / put_page / unmap commands on a real machine, checked against a
// small model of v5.13's rules:
//   - page_free() runs exactly when a device-private page's count drops to 1,
//     never twice; fs-dax pages wake their waiters at the same moment;
//   - the pagemap's count is 1 (while live) + one per page whose refcount is
//     above 0 + the get_dev_pagemap() references held;
//   - a teardown completes exactly when the last reference goes;
//   - lookups fail from the moment a pagemap is killed.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DevPagemap, MEMORY_DEVICE_FS_DAX, MEMORY_DEVICE_GENERIC, MEMORY_DEVICE_PCI_P2PDMA, MEMORY_DEVICE_PRIVATE } from '@zonedev/memremap';
import type { MemoryType } from '@zonedev/memremap';
import { GiB, MiB, bootMachine } from './machine.js';
import type { Machine } from './machine.js';
import { flush } from './doubles.js';

const SLOTS = 3;
const SLOT_BASE = 16 * GiB;
const SLOT_SIZE = 128 * MiB;
const PAGES = SLOT_SIZE / 4096;
/** The page offsets commands touch: a few, so that they collide. */
const OFFSETS = [0, 1, 2, 31, PAGES - 1];
const TYPES: readonly MemoryType[] = [MEMORY_DEVICE_PRIVATE, MEMORY_DEVICE_FS_DAX, MEMORY_DEVICE_GENERIC, MEMORY_DEVICE_PCI_P2PDMA];

interface Slot {
  phase: 'unmapped' | 'live' | 'dying';
  type: MemoryType;
  pgmap: DevPagemap | undefined;
  /** References users hold on each page (beyond the page's own initial one). */
  userRefs: Map<number, number>;
  /** get_dev_pagemap() references held. */
  gets: number;
  /** Whether the teardown's promise has settled. */
  settled: boolean;
}

interface Model {
  readonly slots: Slot[];
  /** Expected page_free() calls, by pfn. */
  readonly frees: Map<number, number>;
  wakeUps: number;
}

interface Real {
  readonly m: Machine;
  /** page_free() calls seen, by pfn. */
  readonly frees: Map<number, number>;
}

const pfnOf = (slot: number, off: number): number => (SLOT_BASE + slot * 2 * SLOT_SIZE) / 4096 + off;
const bump = (map: Map<number, number>, k: number, d = 1): void => {
  map.set(k, (map.get(k) ?? 0) + d);
};
const managed = (t: MemoryType): boolean => t === MEMORY_DEVICE_PRIVATE || t === MEMORY_DEVICE_FS_DAX;

/** A page's free moment (count drops to 1): page_free() for device-private, a wake-up for fs-dax. */
function pageBecameFree(model: Model, s: Slot, pfn: number): void {
  if (s.type === MEMORY_DEVICE_PRIVATE) bump(model.frees, pfn);
  else if (s.type === MEMORY_DEVICE_FS_DAX) model.wakeUps++;
}

function heldPages(s: Slot): number {
  let n = 0;
  for (const v of s.userRefs.values()) if (v > 0) n++;
  return n;
}

/** Checks every slot against the model, after letting completions run. */
async function check(model: Model, real: Real): Promise<void> {
  await flush();
  const { memremap, sparse, mm } = real.m;
  for (let i = 0; i < SLOTS; i++) {
    const s = model.slots[i]!;
    if (s.phase === 'dying') {
      // The teardown completes exactly when the last reference goes.
      expect(s.settled).toBe(s.gets === 0 && heldPages(s) === 0);
      if (s.settled) {
        s.phase = 'unmapped';
        s.pgmap = undefined;
      }
    }
    const pgmap = s.pgmap;
    expect(memremap.pagemapPhase(pgmap ?? new DevPagemap({ type: MEMORY_DEVICE_GENERIC }))).toBe(s.phase === 'unmapped' ? undefined : s.phase);
    expect(sparse.pfnValid(pfnOf(i, 0))).toBe(s.phase !== 'unmapped');
    if (pgmap !== undefined) {
      const live = s.phase === 'live' ? 1 : 0;
      const pages = s.phase === 'live' ? PAGES : heldPages(s);
      expect(pgmap.ref!.refs).toBe(live + pages + s.gets);
      for (const off of OFFSETS) {
        const u = s.userRefs.get(off) ?? 0;
        expect(mm.memmap.pageRefCount(pfnOf(i, off))).toBe(live + u);
      }
    }
  }
  expect(real.frees).toEqual(model.frees);
  expect(memremap.pageIdleWakeUps).toBe(model.wakeUps);
  expect(memremap.devmapManagedKey).toBe(model.slots.filter((s) => s.phase !== 'unmapped' && managed(s.type)).length);
}

class Remap implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly slot: number,
    readonly type: MemoryType,
  ) {}
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    const s = model.slots[this.slot]!;
    const start = pfnOf(this.slot, 0) * 4096;
    const pgmap = new DevPagemap({
      type: this.type,
      range: { start, end: start + SLOT_SIZE - 1 },
      ops: { pageFree: (p) => bump(real.frees, p), migrateToRam: () => 0 },
      owner: 'model',
    });
    if (s.phase === 'unmapped') {
      real.m.memremap.memremapPages(pgmap, 0);
      Object.assign(s, { phase: 'live', type: this.type, pgmap, userRefs: new Map(), gets: 0, settled: false });
    } else {
      // live: "Conflicting mapping in same section"; dying: the sections are still there.
      expect(() => real.m.memremap.memremapPages(pgmap, 0)).toThrow(expect.objectContaining({ errno: s.phase === 'live' ? 'ENOMEM' : 'EEXIST' }));
    }
    await check(model, real);
  }
  toString(): string {
    return `remap(${this.slot}, ${this.type})`;
  }
}

class GetDevPagemap implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly slot: number,
    readonly off: number,
  ) {}
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    const s = model.slots[this.slot]!;
    const got = real.m.memremap.getDevPagemap(pfnOf(this.slot, this.off));
    if (s.phase === 'live') {
      expect(got).toBe(s.pgmap);
      s.gets++;
    } else {
      expect(got).toBeUndefined(); // never after kill
    }
    await check(model, real);
  }
  toString(): string {
    return `get_dev_pagemap(${this.slot}, ${this.off})`;
  }
}

class PutDevPagemap implements fc.AsyncCommand<Model, Real> {
  constructor(readonly slot: number) {}
  check(model: Readonly<Model>): boolean {
    return model.slots[this.slot]!.gets > 0;
  }
  async run(model: Model, real: Real): Promise<void> {
    const s = model.slots[this.slot]!;
    real.m.memremap.putDevPagemap(s.pgmap);
    s.gets--;
    await check(model, real);
  }
  toString(): string {
    return `put_dev_pagemap(${this.slot})`;
  }
}

class GetPage implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly slot: number,
    readonly off: number,
  ) {}
  check(model: Readonly<Model>): boolean {
    const s = model.slots[this.slot]!;
    // get_page() needs a page with a count: every page of a live pagemap, a held one of a dying one.
    return s.phase === 'live' || (s.phase === 'dying' && (s.userRefs.get(this.off) ?? 0) > 0);
  }
  async run(model: Model, real: Real): Promise<void> {
    real.m.memremap.getPage(pfnOf(this.slot, this.off));
    bump(model.slots[this.slot]!.userRefs, this.off);
    await check(model, real);
  }
  toString(): string {
    return `get_page(${this.slot}, ${this.off})`;
  }
}

class PutPage implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly slot: number,
    readonly off: number,
  ) {}
  check(model: Readonly<Model>): boolean {
    return (model.slots[this.slot]!.userRefs.get(this.off) ?? 0) > 0;
  }
  async run(model: Model, real: Real): Promise<void> {
    const s = model.slots[this.slot]!;
    const pfn = pfnOf(this.slot, this.off);
    real.m.mm.putPage(pfn);
    bump(s.userRefs, this.off, -1);
    const after = (s.phase === 'live' ? 1 : 0) + s.userRefs.get(this.off)!;
    if (after === 1) pageBecameFree(model, s, pfn);
    await check(model, real);
  }
  toString(): string {
    return `put_page(${this.slot}, ${this.off})`;
  }
}

class Unmap implements fc.AsyncCommand<Model, Real> {
  constructor(readonly slot: number) {}
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    const s = model.slots[this.slot]!;
    const pgmap = s.pgmap ?? new DevPagemap({ type: MEMORY_DEVICE_GENERIC });
    if (s.phase !== 'live') {
      expect(() => real.m.memremap.memunmapPages(pgmap)).toThrow(/BUG/);
      await check(model, real);
      return;
    }
    void real.m.memremap.memunmapPages(pgmap).then(() => {
      s.settled = true;
    });
    s.phase = 'dying';
    // The teardown dropped each page's initial reference: held pages at 2 became free.
    for (const [off, u] of s.userRefs) if (u === 1) pageBecameFree(model, s, pfnOf(this.slot, off));
    await check(model, real);
  }
  toString(): string {
    return `memunmap_pages(${this.slot})`;
  }
}

describe('memremap model', () => {
  it('follows the model under random commands', async () => {
    const slot = fc.integer({ min: 0, max: SLOTS - 1 });
    const off = fc.constantFrom(...OFFSETS);
    const commands = [
      fc.tuple(slot, fc.constantFrom(...TYPES)).map(([s, t]) => new Remap(s, t)),
      fc.tuple(slot, fc.constantFrom(...TYPES)).map(([s, t]) => new Remap(s, t)),
      fc.tuple(slot, off).map(([s, o]) => new GetDevPagemap(s, o)),
      slot.map((s) => new PutDevPagemap(s)),
      fc.tuple(slot, off).map(([s, o]) => new GetPage(s, o)),
      fc.tuple(slot, off).map(([s, o]) => new GetPage(s, o)),
      fc.tuple(slot, off).map(([s, o]) => new PutPage(s, o)),
      fc.tuple(slot, off).map(([s, o]) => new PutPage(s, o)),
      slot.map((s) => new Unmap(s)),
    ];
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 60, size: 'max' }), async (cmds) => {
        const setup = (): { model: Model; real: Real } => ({
          model: {
            slots: Array.from({ length: SLOTS }, () => ({
              phase: 'unmapped' as const,
              type: MEMORY_DEVICE_GENERIC as MemoryType,
              pgmap: undefined,
              userRefs: new Map<number, number>(),
              gets: 0,
              settled: false,
            })),
            frees: new Map(),
            wakeUps: 0,
          },
          real: { m: bootMachine(), frees: new Map() },
        });
        await fc.asyncModelRun(setup, cmds);
      }),
      { numRuns: 25, seed: 5138 },
    );
  });
});
