import { describe, expect, it } from 'vitest';
import { GFP_KERNEL } from '../src/gfp.js';
import {
  MIGRATE_MOVABLE,
  isDevZone,
  pgdatEndPfn,
  pgdatIsEmpty,
  populatedZone,
  managedZone,
  resizePgdatRange,
  resizeZoneRange,
  setZoneSpan,
  zoneEndPfn,
  zoneIntersects,
  zoneIsEmpty,
  zonePageState,
  zoneSpansPfn,
  zoneId,
  zoneIdx,
} from '../src/mmzone.js';
import { MmCore } from '../src/page-alloc.js';
import { PG_reserved } from '../src/page-flags.js';
import { NR_FREE_PAGES } from '../src/vmstat-items.js';
import { GiB, MiB, X86_64, boot, hotAdd, snapshot } from './machines.js';
import { Kernel } from '@zonedev/kernel';

const BLOCK = (4 * GiB) / 4096;
const NR = 32768;

describe('zone and node resizing (the primitives of move_pfn_range_to_zone)', () => {
  it('resize_zone_range / resize_pgdat_range grow spans; helpers read them', () => {
    const mm = boot({ memory: [{ start: 0x100000, end: 64 * MiB }] });
    const pgdat = mm.nodeData(0)!;
    const normal = pgdat.nodeZones[mm.config.ZONE_NORMAL]!;
    expect([zoneIsEmpty(normal), populatedZone(normal), managedZone(normal)]).toEqual([true, false, false]);
    resizeZoneRange(normal, BLOCK + NR, NR);
    expect([normal.zoneStartPfn, normal.spannedPages, zoneEndPfn(normal)]).toEqual([BLOCK + NR, NR, BLOCK + 2 * NR]);
    resizeZoneRange(normal, BLOCK, NR);
    expect([normal.zoneStartPfn, normal.spannedPages]).toEqual([BLOCK, 2 * NR]);
    expect([zoneSpansPfn(normal, BLOCK), zoneSpansPfn(normal, BLOCK + 2 * NR), zoneIntersects(normal, BLOCK - 10, 11), zoneIntersects(normal, BLOCK - 10, 10)]).toEqual([
      true,
      false,
      true,
      false,
    ]);
    const end = pgdatEndPfn(pgdat);
    resizePgdatRange(pgdat, BLOCK, 2 * NR);
    expect([pgdat.nodeStartPfn, pgdatEndPfn(pgdat)]).toEqual([256, Math.max(end, BLOCK + 2 * NR)]);
    setZoneSpan(normal, 0, 0);
    expect([normal.zoneStartPfn, zoneIsEmpty(normal)]).toEqual([0, true]);
    const fresh = mm.allocNodeData(3);
    expect(pgdatIsEmpty(fresh)).toBe(true);
    expect(mm.nodeOnline(3)).toBe(false);
    expect([zoneIdx(normal), zoneId(normal), isDevZone(normal), isDevZone(pgdat.nodeZones[mm.config.ZONE_DEVICE!]!)]).toEqual([2, 2, false, true]);
  });

  it('is_dev_zone() is false everywhere when CONFIG_ZONE_DEVICE is off', () => {
    const mm = new MmCore({ kernel: new Kernel(), config: { ...X86_64, zoneDevice: false } });
    expect(mm.nodeData(0)!.nodeZones.map(isDevZone)).toEqual([false, false, false, false]);
  });
});

describe('onlining hot-added memory (memmap_init_range, generic_online_page)', () => {
  it('memmap_init_range in the hotplug context: reserved pages, isolated pageblocks', () => {
    const mm = boot({ memory: [{ start: 0x100000, end: 64 * MiB }] });
    for (let s = 0; s < 2; s++) mm.memmap.initSection(BLOCK / NR + s);
    mm.memmapInitRange((BLOCK + 100) as number, NR, 0, mm.config.ZONE_NORMAL, 'hotplug', mm.config.MIGRATE_ISOLATE);
    expect([mm.memmap.pageReserved(BLOCK + 100), mm.memmap.pageZonenum(BLOCK + 100), mm.memmap.pageRefCount(BLOCK + 100)]).toEqual([true, 2, 1]);
    expect(mm.memmap.pageReserved(BLOCK + 99)).toBe(false);
    // pageblocks that start inside the range take the migratetype, the first (partial) one does not
    expect([mm.getPageblockMigratetype(BLOCK), mm.getPageblockMigratetype(BLOCK + 512), mm.getPageblockMigratetype(BLOCK + NR + 99)]).toEqual([
      0,
      mm.config.MIGRATE_ISOLATE,
      mm.config.MIGRATE_ISOLATE,
    ]);
  });

  it('online_pages()-style onlining: counts, buddy, zonelists, watermarks', () => {
    const mm = boot({ memory: [{ start: 0x100000, end: 64 * MiB }] });
    const normal = mm.nodeData(0)!.nodeZones[mm.config.ZONE_NORMAL]!;
    const total = mm.totalramPages;
    hotAdd(mm, BLOCK, NR, mm.config.ZONE_NORMAL);
    expect([normal.presentPages, normal.managedPages, zonePageState(normal, NR_FREE_PAGES), normal.nrIsolatePageblock]).toEqual([NR, NR, NR, 0]);
    expect(mm.totalramPages).toBe(total + NR);
    expect(normal.freeArea[10]!.count(MIGRATE_MOVABLE)).toBe(32);
    expect(mm.memmap.pageReserved(BLOCK)).toBe(false);
    expect(mm.memmap.sectionState(BLOCK / NR)).toBe('overlay'); // only the 32 block heads diverged
    expect(mm.memmap.stats().overlayPages).toBeLessThan(200);
    // vm_total_pages: managed above the high watermark, (3840 - 90) + (12288 - 288) + 32768
    expect(mm.kernel.log.lines.at(-2)!.text).toBe('Built 1 zonelists, mobility grouping on.  Total pages: 48518');
    expect(mm.allocPages(GFP_KERNEL, 0)).toBe(BLOCK);
    expect([normal.pagesetHigh, normal.pagesetBatch]).toEqual([42, 7]);
  });

  it('generic_online_page() per chunk and the bulk path agree', () => {
    const a = boot({ memory: [{ start: 0x100000, end: 64 * MiB }] });
    const b = boot({ memory: [{ start: 0x100000, end: 64 * MiB }] });
    const start = BLOCK + 512; // not MAX_ORDER aligned: the first chunk is a pageblock
    const n = NR - 512;
    for (const mm of [a, b]) {
      mm.memmap.initSection(BLOCK / NR);
      const z = mm.nodeData(0)!.nodeZones[mm.config.ZONE_NORMAL]!;
      resizeZoneRange(z, start, n);
      mm.memmapInitRange(start as number, n, 0, mm.config.ZONE_NORMAL, 'hotplug', MIGRATE_MOVABLE);
      z.presentPages += n;
    }
    // online_pages_range(): chunks of min(MAX_ORDER - 1, __ffs(pfn))
    for (let pfn = start; pfn < start + n; ) {
      let order = 0;
      while (order < 10 && (pfn / 2 ** (order + 1)) % 1 === 0) order++;
      a.genericOnlinePage(pfn as number, order);
      pfn += 2 ** order;
    }
    b.genericOnlinePages(start as number, n);
    expect(snapshot(b).replace(/"memmap":.*$/, '')).toBe(snapshot(a).replace(/"memmap":.*$/, ''));
    expect(a.totalramPages).toBe(b.totalramPages);
    for (const pfn of [start, start + 1, start + 511, start + 512, start + n - 1]) expect(b.memmap.readStructPage(pfn)).toEqual(a.memmap.readStructPage(pfn));
    expect(b.memmap.testPageFlag(start + 3, PG_reserved)).toBe(false);
  });

  it('adjust_managed_page_count() moves managed pages and totalram together', () => {
    const mm = boot({ memory: [{ start: 0x100000, end: 64 * MiB }] });
    const z = mm.pageZone(300 as number);
    const [m, t] = [z.managedPages, mm.totalramPages];
    mm.adjustManagedPageCount(300 as number, -5);
    expect([z.managedPages, mm.totalramPages]).toEqual([m - 5, t - 5]);
  });
});
