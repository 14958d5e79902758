// Model-based property test of the buddy allocator (fast-check fc.commands):
// random allocations and frees of random orders and GFP masks, with random
// pageblock isolation, against a model that knows which blocks are out.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isKernelError } from '@zonedev/kernel';
import {
  GFP_ATOMIC,
  GFP_DMA,
  GFP_DMA32,
  GFP_HIGHUSER_MOVABLE,
  GFP_KERNEL,
  GFP_NOWAIT,
  __GFP_NOWARN,
  __GFP_RECLAIMABLE,
  gfpZone,
  gfpOr,
} from '../src/gfp.js';
import { MIGRATE_MOVABLE, zonePageState } from '../src/mmzone.js';
import type { Zone } from '../src/mmzone.js';
import type { MmCore } from '../src/page-alloc.js';
import { NR_FREE_PAGES } from '../src/vmstat-items.js';
import { GiB, MiB, addDeviceRange, boot, hotAdd } from './machines.js';

const GFPS = [GFP_KERNEL, GFP_HIGHUSER_MOVABLE, GFP_DMA, GFP_DMA32, GFP_ATOMIC, gfpOr(GFP_KERNEL, __GFP_RECLAIMABLE), GFP_NOWAIT];
const MOVABLE_BASE = (4 * GiB) / 4096;
const DEVICE_BASE = (8 * GiB) / 4096;

interface Block {
  readonly pfn: number;
  readonly order: number;
}
interface Model {
  allocated: Block[];
  isolated: { start: number; end: number }[];
}
interface Real {
  mm: MmCore;
}

function isoFree(mm: MmCore, z: Zone): number {
  let n = 0;
  for (let o = 0; o < mm.config.MAX_ORDER; o++) n += z.freeArea[o]!.count(mm.config.MIGRATE_ISOLATE) * 2 ** o;
  return n;
}

function checkInvariants(m: Model, mm: MmCore): void {
  for (const z of mm.zones()) {
    let used = 0;
    for (const b of m.allocated) if (mm.pageZone(b.pfn) === z) used += 2 ** b.order;
    expect(zonePageState(z, NR_FREE_PAGES) + isoFree(mm, z) + used, `zone ${z.name}`).toBe(z.managedPages);
  }
}

function machine(): MmCore {
  // small zones, so that random allocations exhaust them and fall back
  const mm = boot({ memory: [{ start: 0x1000, end: 0x9f000 }, { start: 0x100000, end: 24 * MiB }] });
  hotAdd(mm, MOVABLE_BASE, 4096, mm.config.ZONE_MOVABLE);
  addDeviceRange(mm, DEVICE_BASE, 32768, { pgmap: 'dev' });
  return mm;
}

describe('buddy allocator: model-based', () => {
  it('never hands out a page twice, never loses one, never uses ZONE_DEVICE or isolated blocks, and merges back', () => {
    const initial = machine().buddyinfo();
    const alloc = fc.tuple(fc.integer({ min: 0, max: GFPS.length - 1 }), fc.constantFrom(0, 0, 0, 1, 2, 3, 5, 9, 10)).map(
      ([g, order]): fc.Command<Model, Real> => ({
        check: () => true,
        toString: () => `alloc(${GFPS[g]!.toString(16)}, ${order})`,
        run: (m, r) => {
          const gfp = gfpOr(GFPS[g]!, __GFP_NOWARN);
          const p = r.mm.allocPages(gfp, order);
          if (p !== undefined) {
            const n = 2 ** order;
            expect(p % n).toBe(0);
            for (const b of m.allocated) expect(p + n <= b.pfn || b.pfn + 2 ** b.order <= p, `overlap ${p}`).toBe(true);
            const zi = r.mm.memmap.pageZonenum(p);
            expect(zi).toBeLessThanOrEqual(gfpZone(r.mm.config, gfp));
            expect(zi).not.toBe(r.mm.config.ZONE_DEVICE);
            for (const iso of m.isolated) expect(p + n <= iso.start || iso.end <= p).toBe(true);
            expect(r.mm.memmap.pageRefCount(p)).toBe(1);
            m.allocated.push({ pfn: p, order });
          }
          checkInvariants(m, r.mm);
        },
      }),
    );
    const free = fc.nat().map(
      (i): fc.Command<Model, Real> => ({
        check: (m) => m.allocated.length > 0,
        toString: () => `free(#${i})`,
        run: (m, r) => {
          const [b] = m.allocated.splice(i % m.allocated.length, 1);
          r.mm.freePages(b!.pfn as number, b!.order);
          checkInvariants(m, r.mm);
        },
      }),
    );
    // Callers isolate MAX_ORDER-aligned ranges (memory blocks, alloc_contig_range):
    // v5.13 does not split a free block that straddles the range's edge.
    const isolate = fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 2 })).map(
      ([movable, i, nblocks]): fc.Command<Model, Real> => ({
        check: () => true,
        toString: () => `isolate(${movable ? 'Movable' : 'DMA32'} block ${i} x${nblocks})`,
        run: (m, r) => {
          const idx = movable ? i % (5 - nblocks) : i % (3 - nblocks); // DMA32 has 2 MAX_ORDER blocks, Movable 4
          const start = (movable ? MOVABLE_BASE : 4096) + idx * 1024;
          const end = start + nblocks * 1024;
          if (m.isolated.some((x) => start < x.end && x.start < end)) return;
          try {
            r.mm.startIsolatePageRange(start as number, end as number, MIGRATE_MOVABLE);
            m.isolated.push({ start, end });
          } catch (e) {
            expect(isKernelError(e, 'EBUSY')).toBe(true);
            expect(movable).toBe(false); // only unmovable kernel pages stop isolation
          }
          checkInvariants(m, r.mm);
        },
      }),
    );
    const undo = fc.nat().map(
      (i): fc.Command<Model, Real> => ({
        check: (m) => m.isolated.length > 0,
        toString: () => `undo(#${i})`,
        run: (m, r) => {
          const [x] = m.isolated.splice(i % m.isolated.length, 1);
          r.mm.undoIsolatePageRange(x!.start as number, x!.end as number, MIGRATE_MOVABLE);
          checkInvariants(m, r.mm);
        },
      }),
    );
    fc.assert(
      fc.property(fc.commands([alloc, alloc, alloc, free, free, isolate, undo], { maxCommands: 150 }), (cmds) => {
        const mm = machine();
        const model: Model = { allocated: [], isolated: [] };
        fc.modelRun(() => ({ model, real: { mm } }), cmds);
        for (const x of model.isolated) mm.undoIsolatePageRange(x.start as number, x.end as number, MIGRATE_MOVABLE);
        for (const b of model.allocated) mm.freePages(b.pfn as number, b.order);
        for (const z of mm.zones()) expect(zonePageState(z, NR_FREE_PAGES)).toBe(z.managedPages);
        expect(mm.buddyinfo()).toBe(initial);
      }),
      { numRuns: 40 },
    );
  });
});
