import { describe, expect, it } from 'vitest';
import { isKernelError } from '@zonedev/kernel';
import { GFP_HIGHUSER_MOVABLE, GFP_KERNEL, __GFP_NOWARN, gfpOr } from '../src/gfp.js';
import { MIGRATE_MOVABLE, zonePageState } from '../src/mmzone.js';
import type { Zone } from '../src/mmzone.js';
import type { MmCore } from '../src/page-alloc.js';
import { PG_lru } from '../src/page-flags.js';
import { MEMORY_OFFLINE, REPORT_FAILURE } from '../src/page-isolation.js';
import { NR_FREE_PAGES } from '../src/vmstat-items.js';
import { GiB, MiB, boot, hotAdd } from './machines.js';

const BLOCK = (4 * GiB) / 4096; // a 128 MiB memory block hot-added at 4 GiB
const NR = 32768;
const zoneOf = (mm: MmCore, name: string): Zone => mm.nodeData(0)!.nodeZones.find((z) => z.name === name)!;
const free = (z: Zone): number => zonePageState(z, NR_FREE_PAGES);
const isoFree = (mm: MmCore, z: Zone): number => {
  let n = 0;
  for (let o = 0; o < mm.config.MAX_ORDER; o++) n += z.freeArea[o]!.count(mm.config.MIGRATE_ISOLATE) * 2 ** o;
  return n;
};

function machine(zone: 'Normal' | 'Movable' = 'Normal'): MmCore {
  const mm = boot({ memory: [{ start: 0x100000, end: 256 * MiB }] });
  hotAdd(mm, BLOCK, NR, zone === 'Normal' ? mm.config.ZONE_NORMAL : mm.config.ZONE_MOVABLE);
  return mm;
}

describe('pageblock isolation (mm/page_isolation.c)', () => {
  it('isolates a free range: its pages leave NR_FREE_PAGES and are never allocated', () => {
    const mm = machine();
    const normal = zoneOf(mm, 'Normal');
    const start = (BLOCK + NR / 2) as number;
    const end = (BLOCK + NR) as number;
    mm.startIsolatePageRange(start, end, MIGRATE_MOVABLE);
    expect(normal.nrIsolatePageblock).toBe(NR / 2 / 512);
    expect(free(normal)).toBe(NR / 2);
    expect(isoFree(mm, normal)).toBe(NR / 2);
    expect(mm.getPageblockMigratetype(start)).toBe(mm.config.MIGRATE_ISOLATE);
    // drain everything else; nothing comes from the isolated half
    for (let p = mm.allocPages(gfpOr(GFP_HIGHUSER_MOVABLE, __GFP_NOWARN), 0); p !== undefined; p = mm.allocPages(gfpOr(GFP_HIGHUSER_MOVABLE, __GFP_NOWARN), 0)) {
      expect(p >= start && p < end).toBe(false);
    }
    mm.testPagesIsolated(start, end, MEMORY_OFFLINE);
    expect(mm.offlineIsolatedPages(start, end)).toBe(NR / 2);
    expect(isoFree(mm, normal)).toBe(0);
    expect(mm.memmap.pageBuddy(start)).toBe(false);
    expect(mm.memmap.pageRefCount(start)).toBe(0);
  });

  it('undo gives the pages back exactly', () => {
    const mm = machine();
    const normal = zoneOf(mm, 'Normal');
    const before = mm.buddyinfo();
    const freeBefore = free(normal);
    const start = (BLOCK + 4096) as number;
    mm.startIsolatePageRange(start, (start + 1024) as number, MIGRATE_MOVABLE);
    expect(free(normal)).toBe(freeBefore - 1024);
    mm.undoIsolatePageRange(start, (start + 1024) as number, MIGRATE_MOVABLE);
    expect(mm.buddyinfo()).toBe(before);
    expect(free(normal)).toBe(freeBefore);
    expect(normal.nrIsolatePageblock).toBe(0);
    expect(mm.getPageblockMigratetype(start)).toBe(MIGRATE_MOVABLE);
  });

  it('v5.13 does not split a free block that straddles the isolation boundary', () => {
    const mm = machine();
    const normal = zoneOf(mm, 'Normal');
    const freeBefore = free(normal);
    // the upper pageblock of a free 4 MiB block: the block's head is in the
    // lower pageblock, so move_freepages_block() finds nothing to move
    const start = (BLOCK + 512) as number;
    mm.startIsolatePageRange(start, (start + 512) as number, MIGRATE_MOVABLE);
    expect(normal.nrIsolatePageblock).toBe(1);
    expect(free(normal)).toBe(freeBefore);
    expect(() => mm.testPagesIsolated(start, (start + 512) as number, MEMORY_OFFLINE)).toThrow(/is not free/);
    mm.undoIsolatePageRange(start, (start + 512) as number, MIGRATE_MOVABLE);
    expect(free(normal)).toBe(freeBefore);
  });

  it('fails with -EBUSY on an unmovable page and undoes the pageblocks already isolated', () => {
    const mm = machine();
    const normal = zoneOf(mm, 'Normal');
    // kernel pages come from the hot-added Normal block, lowest first; keep
    // the one at BLOCK + 2048 and give the others back
    const got: number[] = [];
    let p: number | undefined;
    do {
      p = mm.allocPages(GFP_KERNEL, 0)!;
      got.push(p);
    } while (p < BLOCK + 2048);
    expect(p).toBe(BLOCK + 2048);
    for (const q of got) if (q !== p) mm.freePages(q, 0);
    const pb = p;
    const start = (pb - 1024) as number;
    const end = (pb + 512) as number;
    const bi = mm.buddyinfo();
    const f = free(normal);
    const types = [start, start + 512, pb].map((x) => mm.getPageblockMigratetype(x));
    const lines = mm.kernel.log.lines.length;
    let err: unknown;
    try {
      mm.startIsolatePageRange(start, end, MIGRATE_MOVABLE, REPORT_FAILURE);
    } catch (e) {
      err = e;
    }
    expect(isKernelError(err, 'EBUSY')).toBe(true);
    expect(mm.buddyinfo()).toBe(bi);
    expect(free(normal)).toBe(f);
    expect(normal.nrIsolatePageblock).toBe(0);
    expect([start, start + 512, pb].map((x) => mm.getPageblockMigratetype(x))).toEqual(types.map((t, i) => (i < 2 ? MIGRATE_MOVABLE : t)));
    expect(mm.kernel.log.lines.slice(lines).map((l) => l.text)).toEqual([
      `page:(____ptrval____) refcount:1 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x${p!.toString(16)}`,
      'flags: 0x10000000000000()',
      'page dumped because: unmovable page',
    ]);
    // an LRU page is movable: the same range now isolates
    mm.memmap.setPageFlag(p!, PG_lru);
    mm.startIsolatePageRange(start, end, MIGRATE_MOVABLE);
    expect(normal.nrIsolatePageblock).toBe(3);
    // but it is not free, so the range is not ready to go offline
    expect(() => mm.testPagesIsolated(start, end, MEMORY_OFFLINE)).toThrow(/is not free/);
    // isolating an isolated pageblock again is -EBUSY too
    expect(() => mm.startIsolatePageRange(start, (start + 512) as number, MIGRATE_MOVABLE)).toThrow(/cannot be isolated/);
    expect(normal.nrIsolatePageblock).toBe(3);
  });

  it('in ZONE_MOVABLE only reserved pages stop isolation', () => {
    const mm = machine('Movable');
    const mov = zoneOf(mm, 'Movable');
    const p = mm.allocPages(GFP_HIGHUSER_MOVABLE, 0)!;
    expect(mm.memmap.pageZonenum(p)).toBe(mm.config.ZONE_MOVABLE);
    const start = (p - (p % 512)) as number;
    mm.startIsolatePageRange(start, (start + 512) as number, MIGRATE_MOVABLE);
    expect(mov.nrIsolatePageblock).toBe(1);
    mm.undoIsolatePageRange(start, (start + 512) as number, MIGRATE_MOVABLE);
    mm.memmap.setPageReserved((start + 100) as number);
    expect(() => mm.startIsolatePageRange(start, (start + 512) as number, MIGRATE_MOVABLE)).toThrow(/cannot be isolated/);
    expect(mov.nrIsolatePageblock).toBe(0);
  });

  it('test_pages_isolated: -EBUSY unless every pageblock is isolated; PageOffline pages are tolerated', () => {
    const mm = machine();
    const start = BLOCK as number;
    const end = (BLOCK + NR) as number;
    const before = mm.buddyinfo();
    expect(() => mm.testPagesIsolated(start, end, MEMORY_OFFLINE)).toThrow(/not isolated/);
    expect(mm.buddyinfo()).toBe(before);
    // a driver-owned PageOffline page (as virtio-mem leaves them)
    const p = mm.allocPages(GFP_HIGHUSER_MOVABLE, 0)!;
    expect(p >= start && p < end).toBe(true);
    mm.memmap.setPageFlag(p, PG_lru); // movable until the driver takes it
    mm.startIsolatePageRange(start, end, MIGRATE_MOVABLE, MEMORY_OFFLINE);
    expect(() => mm.testPagesIsolated(start, end, MEMORY_OFFLINE)).toThrow(/is not free/);
    mm.memmap.clearPageFlag(p, PG_lru);
    mm.memmap.setPageCount(p, 0);
    mm.memmap.setPageOffline(p);
    expect(() => mm.testPagesIsolated(start, end, 0)).toThrow(/is not free/);
    mm.testPagesIsolated(start, end, MEMORY_OFFLINE);
    expect(mm.offlineIsolatedPages(start, end)).toBe(NR - 1);
  });

  it('__isolate_free_page obeys the min watermark outside isolated pageblocks', () => {
    const mm = boot({ memory: [{ start: 0x100000, end: 64 * MiB }] });
    const dma32 = zoneOf(mm, 'DMA32');
    const head = dma32.freeArea[10]!.freeList(MIGRATE_MOVABLE)[0]!;
    expect(mm.isolateFreePage(head, 10)).toBe(1024);
    expect(mm.memmap.pageBuddy(head)).toBe(false);
    mm.putbackIsolatedPage(head, 10, MIGRATE_MOVABLE);
    expect(mm.memmap.pageBuddy(head)).toBe(true);
    // drain to the watermark: then a 4 MiB block may not be taken
    while (mm.allocPages(gfpOr(GFP_KERNEL, __GFP_NOWARN), 0) !== undefined);
    const blk = dma32.freeArea.findLast((a) => a.nrFree > 0)!;
    const h = [MIGRATE_MOVABLE, 0, 2].map((mt) => blk.freeList(mt)).flat()[0]!;
    const f = free(dma32);
    expect(mm.isolateFreePage(h, blk.order)).toBe(0);
    expect(free(dma32)).toBe(f);
  });
});
