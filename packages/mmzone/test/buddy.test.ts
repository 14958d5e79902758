import { describe, expect, it } from 'vitest';
import { KernelBug, isKernelError } from '@zonedev/kernel';
import {
  GFP_ATOMIC,
  GFP_DMA,
  GFP_DMA32,
  GFP_HIGHUSER_MOVABLE,
  GFP_KERNEL,
  GFP_NOWAIT,
  __GFP_COMP,
  __GFP_DIRECT_RECLAIM,
  __GFP_NOFAIL,
  __GFP_NOWARN,
  __GFP_RECLAIMABLE,
  __GFP_THISNODE,
  __GFP_ZERO,
  gfpClear,
  gfpOr,
} from '../src/gfp.js';
import { MIGRATE_MOVABLE, MIGRATE_UNMOVABLE, highWmarkPages, minWmarkPages, zonePageState } from '../src/mmzone.js';
import type { Zone } from '../src/mmzone.js';
import { MmCore } from '../src/page-alloc.js';
import { PG_dirty, PG_head, PG_reserved } from '../src/page-flags.js';
import { NR_FREE_PAGES } from '../src/vmstat-items.js';
import { GiB, MiB, PPC64, X86_64, addDeviceRange, boot, hotAdd, snapshot } from './machines.js';

/** A 64 MiB x86_64 box: DMA below 16 MiB (with the legacy hole), DMA32 above. */
const SMALL = { memory: [{ start: 0x1000, end: 0x9f000 }, { start: 0x100000, end: 64 * MiB }] };

const zone = (mm: MmCore, name: string, nid: number = 0): Zone => mm.nodeData(nid)!.nodeZones.find((z) => z.name === name)!;
const free = (z: Zone): number => zonePageState(z, NR_FREE_PAGES);

describe('boot: free_area_init() and memblock_free_all()', () => {
  it('logs the zone ranges and holes as the kernel does', () => {
    const mm = boot(SMALL);
    expect(mm.kernel.log.lines.map((l) => l.text)).toEqual([
      'Zone ranges:',
      '  DMA      [mem 0x0000000000001000-0x0000000000ffffff]',
      '  DMA32    [mem 0x0000000001000000-0x0000000003ffffff]',
      '  Normal   empty',
      '  Device   empty',
      'Movable zone start for each node',
      'Early memory node ranges',
      '  node   0: [mem 0x0000000000001000-0x000000000009efff]',
      '  node   0: [mem 0x0000000000100000-0x0000000003ffffff]',
      'Initmem setup node 0 [mem 0x0000000000001000-0x0000000003ffffff]',
      'On node 0 totalpages: 16286',
      // free_area_init_core(), zone by zone: memmap 4095 * 64 bytes = 64 pages, LIFO batch 0 below 4096 managed
      '  DMA zone: 64 pages used for memmap',
      '  DMA zone: 0 pages reserved',
      '  DMA zone: 3998 pages, LIFO batch:0',
      // memmap_init_zone(): pfn 0, 0x9f-0xff and the rest of section 0 after the zone's end
      '  DMA zone: 28770 pages in unavailable ranges',
      '  DMA32 zone: 192 pages used for memmap',
      '  DMA32 zone: 12288 pages, LIFO batch:1',
      '  DMA32 zone: 16384 pages in unavailable ranges',
      // build_all_zonelists() runs on the early estimates: (3998 - 64) + (12288 - 192)
      'Built 1 zonelists, mobility grouping on.  Total pages: 16030',
      'Policy zone: DMA32',
    ]);
  });

  it('free_area_init_core() logs each zone of each node in turn; dma_reserve comes off the first zone only', () => {
    // powerpc64 (64K pages, 16 MiB sections, no ZONE_DMA): zone 0 is Normal, on both nodes.
    const mm = boot({
      arch: PPC64,
      dmaReserve: 5,
      memory: [
        { start: 0, end: 1 * GiB - 3 * MiB, nid: 0 },
        { start: 1 * GiB, end: 2 * GiB, nid: 1 },
      ],
    });
    const lines = mm.kernel.log.lines.map((l) => l.text);
    const from = lines.indexOf('Initmem setup node 0 [mem 0x0000000000000000-0x000000003fcfffff]');
    expect(lines.slice(from, from + 13)).toEqual([
      'Initmem setup node 0 [mem 0x0000000000000000-0x000000003fcfffff]',
      'On node 0 totalpages: 16336',
      // 16336 * 64 bytes = 16 pages of 64K; 5 reserved; batch min(15, 1 MiB / 64K) / 4 = 4 -> 3
      '  Normal zone: 16 pages used for memmap',
      '  Normal zone: 5 pages reserved',
      '  Normal zone: 16336 pages, LIFO batch:3',
      // the tail of the last 16 MiB section: 0x3fd0000-0x3ffffff
      '  Normal zone: 48 pages in unavailable ranges',
      'Initmem setup node 1 [mem 0x0000000040000000-0x000000007fffffff]',
      'On node 1 totalpages: 16384',
      '  Normal zone: 16 pages used for memmap',
      '  Normal zone: 5 pages reserved',
      '  Normal zone: 16384 pages, LIFO batch:3',
      // hole_pfn carries over from node 0: the gap below node 1 is initialized again, as node 1's
      '  Normal zone: 48 pages in unavailable ranges',
      'Built 2 zonelists, mobility grouping on.  Total pages: 32678',
    ]);
    // the early estimate is what build_all_zonelists() saw; memblock_free_all() then counts every page
    expect(mm.vmTotalPages).toBe(16336 - 16 - 5 + (16384 - 16 - 5));
    expect(mm.totalramPages).toBe(16336 + 16384);
    expect([mm.memmap.pageReserved(0x3fd0), mm.memmap.pageToNid(0x3fd0)]).toEqual([true, 1]);
  });

  it('set_dma_reserve() refuses a count that is not an unsigned integer', () => {
    const mm = boot(SMALL);
    const before = snapshot(mm);
    for (const v of [-1, 1.5, Number.NaN]) expect(() => mm.setDmaReserve(v)).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
    expect(snapshot(mm)).toBe(before);
  });

  it('sizes zones: spanned, present, managed', () => {
    const mm = boot({ ...SMALL, reserved: [{ start: 0x1000000, end: 0x1400000 }] });
    const dma = zone(mm, 'DMA');
    const dma32 = zone(mm, 'DMA32');
    expect([dma.zoneStartPfn, dma.spannedPages, dma.presentPages, dma.managedPages]).toEqual([1, 4095, 3998, 3998]);
    expect([dma32.zoneStartPfn, dma32.spannedPages, dma32.presentPages, dma32.managedPages]).toEqual([4096, 12288, 12288, 11264]);
    expect(mm.totalramPages).toBe(3998 + 11264);
    expect(mm.nodeData(0)!.nodePresentPages).toBe(16286);
    expect(mm.nodeData(0)!.nrZones).toBe(2);
    // holes and reservations are reserved pages with their zone and node
    expect([mm.memmap.pageReserved(0), mm.memmap.pageZonenum(0), mm.memmap.pageRefCount(0)]).toEqual([true, 0, 1]);
    expect([mm.memmap.pageReserved(0x1000), mm.memmap.pageZonenum(0x1000)]).toEqual([true, 1]);
    expect([mm.memmap.pageReserved(0x1400), mm.memmap.pageRefCount(0x1400), mm.memmap.pageBuddy(0x1400)]).toEqual([false, 0, true]);
  });

  it('releases boot memory in the largest aligned blocks (buddyinfo)', () => {
    const mm = boot(SMALL);
    expect(mm.buddyinfo()).toBe(
      'Node 0, zone      DMA      2      2      2      2      2      1      1      0      1      1      3 \n' +
        'Node 0, zone    DMA32      0      0      0      0      0      0      0      0      0      0     12 \n',
    );
    expect(free(zone(mm, 'DMA'))).toBe(3998);
    expect(zone(mm, 'DMA32').freeArea[10]!.freeList(MIGRATE_MOVABLE)).toEqual([4096, 5120, 6144, 7168, 8192, 9216, 10240, 11264, 12288, 13312, 14336, 15360]);
  });

  it('rejects a bad memory map and changes nothing', () => {
    const mm = new MmCore({ kernel: boot().kernel, config: X86_64 });
    mm.memmap.initSection(0);
    const before = snapshot(mm);
    for (const bad of [
      [],
      [{ startPfn: 10, endPfn: 5, nid: 0 }],
      [{ startPfn: 0, endPfn: 100, nid: 0 }, { startPfn: 50, endPfn: 200, nid: 0 }],
      [{ startPfn: 0, endPfn: 100, nid: 3 }],
      [{ startPfn: 0, endPfn: 40000, nid: 0 }],
    ]) {
      let err: unknown;
      try {
        mm.freeAreaInit(bad);
      } catch (e) {
        err = e;
      }
      expect(isKernelError(err, 'EINVAL')).toBe(true);
    }
    expect(snapshot(mm)).toBe(before);
  });

  it('boots powerpc64 with 64K pages: one Normal zone of 16 MiB blocks', () => {
    const mm = boot({ arch: PPC64, memory: [{ start: 0, end: 2 * GiB }] });
    expect(mm.buddyinfo()).toBe('Node 0, zone   Normal      0      0      0      0      0      0      0      0    128 \n');
    const n = zone(mm, 'Normal');
    // min_free_kbytes = sqrt(16 * 2 GiB in KiB) = 5792; in 64 KiB pages: 90
    expect([n.spannedPages, n.managedPages, minWmarkPages(n)]).toEqual([32768, 32768, 90]);
    expect(mm.minFreeKbytes).toBe(Math.floor(Math.sqrt(32768 * 64 * 16)));
  });
});

describe('alloc_pages() and __free_pages()', () => {
  it('splits the first block and merges it back (expand / __free_one_page)', () => {
    const mm = boot(SMALL);
    const before = mm.buddyinfo();
    const p = mm.allocPages(GFP_KERNEL, 0)!;
    expect(p).toBe(4096);
    const dma32 = zone(mm, 'DMA32');
    // the upper halves of the split block, one per order, on the unmovable lists (the stolen pageblocks)
    for (let o = 0; o < 10; o++) expect(dma32.freeArea[o]!.freeList(MIGRATE_UNMOVABLE)).toEqual([4096 + 2 ** o]);
    expect([mm.memmap.pageRefCount(p), mm.memmap.pageBuddy(p), mm.memmap.pagePrivate(p)]).toEqual([1, false, 0]);
    expect(free(dma32)).toBe(12288 - 1);
    expect(mm.allocPages(GFP_KERNEL, 0)).toBe(4097);
    expect(mm.allocPages(GFP_KERNEL, 1)).toBe(4098);
    mm.freePages(4097 as number, 0);
    mm.freePages(p, 0);
    mm.freePages(4098 as number, 1);
    expect(mm.buddyinfo()).toBe(before);
    expect(free(dma32)).toBe(12288);
  });

  it('the first unmovable allocation steals whole pageblocks (__rmqueue_fallback)', () => {
    const mm = boot(SMALL);
    mm.allocPages(GFP_KERNEL, 0);
    expect([mm.getPageblockMigratetype(4096), mm.getPageblockMigratetype(4608), mm.getPageblockMigratetype(5120)]).toEqual([
      MIGRATE_UNMOVABLE,
      MIGRATE_UNMOVABLE,
      MIGRATE_MOVABLE,
    ]);
    expect(mm.pagetypeinfo()).toContain('Node 0, zone    DMA32            2           22            0            0            0 \n');
  });

  it('picks zones by GFP flags and falls back downwards, never to ZONE_DEVICE', () => {
    const mm = boot({ memory: [{ start: 0x1000, end: 0x9f000 }, { start: 0x100000, end: 3 * GiB }, { start: 4 * GiB, end: 4 * GiB + 64 * MiB }] });
    addDeviceRange(mm, (8 * GiB) / 4096, 32768, { pgmap: true });
    const c = mm.config;
    const z = (p: number | undefined): number => mm.memmap.pageZonenum(p!);
    expect(z(mm.allocPages(GFP_KERNEL, 0))).toBe(c.ZONE_NORMAL);
    expect(z(mm.allocPages(GFP_DMA32, 0))).toBe(c.ZONE_DMA32);
    expect(z(mm.allocPages(GFP_DMA, 0))).toBe(c.ZONE_DMA);
    expect(z(mm.allocPages(GFP_HIGHUSER_MOVABLE, 0))).toBe(c.ZONE_NORMAL); // no Movable zone yet
    // exhaust Normal (64 MiB): the next GFP_KERNEL pages come from DMA32
    const got: number[] = [];
    for (;;) {
      const p = mm.allocPages(GFP_KERNEL, 0)!;
      got.push(p);
      if (z(p) !== c.ZONE_NORMAL) break;
    }
    expect(z(got[got.length - 1])).toBe(c.ZONE_DMA32);
    // ALLOC_NOFRAGMENT: rather than steal less than a pageblock of Normal's
    // movable memory for a kernel page, the allocator fell back to DMA32
    expect(free(zone(mm, 'Normal'))).toBeGreaterThan(0);
    expect(free(zone(mm, 'Normal'))).toBeLessThan(mm.config.pageblockNrPages);
    // nothing ever came from the device range
    expect(got.every((p) => z(p) !== c.ZONE_DEVICE)).toBe(true);
    expect(zone(mm, 'Device').presentPages).toBe(32768);
    expect(zone(mm, 'Device').managedPages).toBe(0);
  });

  it('movable allocations may use ZONE_MOVABLE, kernel allocations never', () => {
    const mm = boot(SMALL);
    hotAdd(mm, (4 * GiB) / 4096, 32768, mm.config.ZONE_MOVABLE);
    const mov = zone(mm, 'Movable');
    expect([mov.presentPages, mov.managedPages, free(mov)]).toEqual([32768, 32768, 32768]);
    const p = mm.allocPages(GFP_HIGHUSER_MOVABLE, 0)!;
    expect(mm.memmap.pageZonenum(p)).toBe(mm.config.ZONE_MOVABLE);
    for (let i = 0; i < 200; i++) expect(mm.memmap.pageZonenum(mm.allocPages(GFP_KERNEL, 0)!)).not.toBe(mm.config.ZONE_MOVABLE);
  });

  it('__GFP_ZERO clears the contents; __GFP_COMP marks the head', () => {
    const mm = boot(SMALL);
    const p = mm.allocPages(GFP_KERNEL, 1)!;
    mm.physmem.write(p * 4096 + 100, Uint8Array.of(1, 2, 3));
    mm.physmem.write((p + 1) * 4096, Uint8Array.of(4));
    mm.freePages(p, 1);
    const q = mm.allocPages(gfpOr(gfpOr(GFP_KERNEL, __GFP_ZERO), __GFP_COMP), 1)!;
    expect(q).toBe(p);
    expect(mm.physmem.read(p * 4096 + 100, 3)).toEqual(new Uint8Array(3));
    expect(mm.physmem.read((p + 1) * 4096, 1)).toEqual(new Uint8Array(1));
    expect(mm.memmap.testPageFlag(q, PG_head)).toBe(true);
    mm.freePages(q, 1);
    expect(mm.memmap.testPageFlag(q, PG_head)).toBe(false);
  });

  it('a page with more references is not freed until the last one goes', () => {
    const mm = boot(SMALL);
    const p = mm.allocPages(GFP_KERNEL, 0)!;
    mm.memmap.getPage(p);
    const f = free(zone(mm, 'DMA32'));
    mm.freePages(p, 0);
    expect(free(zone(mm, 'DMA32'))).toBe(f);
    mm.putPage(p);
    expect(free(zone(mm, 'DMA32'))).toBe(f + 1);
  });

  it('freeing a page in a bad state reports it and leaks it', () => {
    const mm = boot(SMALL);
    const p = mm.allocPages(GFP_KERNEL, 0)!;
    mm.memmap.setPageReserved(p);
    const f = free(zone(mm, 'DMA32'));
    mm.freePages(p, 0);
    expect(free(zone(mm, 'DMA32'))).toBe(f);
    const tail = mm.kernel.log.lines.slice(-4).map((l) => l.text);
    expect(tail).toEqual([
      'BUG: Bad page state in process swapper/0  pfn:01000',
      'page:(____ptrval____) refcount:0 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x1000',
      'flags: 0x8000000001000(reserved)', // zone 1 (DMA32) at bit 51, PG_reserved
      'page dumped because: PAGE_FLAGS_CHECK_AT_FREE flag(s) set',
    ]);
  });

  it('freeing a block clears the tail pages\' flags; a tail page in a bad state is reported and the free refused', () => {
    const mm = boot(SMALL);
    const p = mm.allocPages(GFP_KERNEL, 3)!;
    mm.memmap.setPageFlag(p + 6, PG_dirty); // not checked at free: free_pages_prepare() clears it
    const f = free(zone(mm, 'DMA32'));
    mm.freePages(p, 3);
    expect(free(zone(mm, 'DMA32'))).toBe(f + 8);
    expect(mm.memmap.testPageFlag(p + 6, PG_dirty)).toBe(false);
    const q = mm.allocPages(GFP_KERNEL, 3)!;
    mm.memmap.setPageFlag(q + 5, PG_dirty);
    mm.memmap.setPageReserved(q + 3);
    const lines = mm.kernel.log.lines.length;
    expect(() => mm.freePages(q, 3)).toThrow(KernelBug);
    expect(free(zone(mm, 'DMA32'))).toBe(f);
    expect(mm.kernel.log.lines.slice(lines).map((l) => l.text)[0]).toBe(`BUG: Bad page state in process swapper/0  pfn:${(q + 3).toString(16).padStart(5, '0')}`);
    expect(mm.memmap.testPageFlag(q + 5, PG_dirty)).toBe(true);
    expect(mm.memmap.testPageFlag(q + 3, PG_reserved)).toBe(true);
  });

  it('fails when the watermarks cannot be met, reports it, and changes nothing', () => {
    const mm = boot(SMALL);
    const before = snapshot(mm);
    expect(mm.allocPages(gfpOr(GFP_KERNEL, __GFP_NOWARN), 11)).toBeUndefined(); // order >= MAX_ORDER
    // take everything order-10 can give, then one more fails
    const blocks: number[] = [];
    for (let p = mm.allocPages(GFP_KERNEL, 10); p !== undefined; p = mm.allocPages(GFP_KERNEL, 10)) blocks.push(p);
    expect(blocks.length).toBeGreaterThan(0);
    const mid = snapshot(mm);
    const lines = mm.kernel.log.lines.length;
    expect(mm.allocPages(GFP_KERNEL, 10)).toBeUndefined();
    expect(mm.kernel.log.lines.slice(lines).map((l) => l.text)).toEqual([
      'swapper/0: page allocation failure: order:10, mode:0xcc0(GFP_KERNEL), nodemask=(null)',
    ]);
    expect(mm.allocPages(gfpOr(GFP_KERNEL, __GFP_NOWARN), 10)).toBeUndefined();
    expect(mm.kernel.log.lines.length).toBe(lines + 1);
    expect(snapshot(mm)).toBe(mid);
    for (const b of blocks) mm.freePages(b, 10);
    expect(snapshot(mm)).not.toBe(before); // pageblocks were stolen by the unmovable allocations
    expect(mm.buddyinfo()).toBe(boot(SMALL).buddyinfo());
  });

  it('rate-limits allocation failure reports (10 per 5 s)', () => {
    const mm = boot(SMALL);
    while (mm.allocPages(gfpOr(GFP_KERNEL, __GFP_NOWARN), 10) !== undefined);
    const fails = (): number => mm.kernel.log.lines.filter((l) => l.text.includes('page allocation failure')).length;
    for (let i = 0; i < 30; i++) mm.allocPages(GFP_KERNEL, 10);
    expect(fails()).toBe(10);
    mm.kernel.clock.advance(5e9);
    mm.allocPages(GFP_KERNEL, 10);
    expect(mm.kernel.log.lines.some((l) => /warn_alloc: \d+ callbacks suppressed/.test(l.text))).toBe(true);
    expect(fails()).toBe(11);
  });

  it('atomic allocations may dig below the min watermark, ordinary ones may not', () => {
    const mm = boot(SMALL);
    const dma32 = zone(mm, 'DMA32');
    const dma = zone(mm, 'DMA');
    const got: number[] = [];
    for (let p = mm.allocPages(gfpOr(GFP_KERNEL, __GFP_NOWARN), 0); p !== undefined; p = mm.allocPages(gfpOr(GFP_KERNEL, __GFP_NOWARN), 0)) got.push(p);
    const low = free(dma32);
    expect(low).toBeLessThanOrEqual(minWmarkPages(dma32) + 1);
    expect(free(dma)).toBeLessThanOrEqual(minWmarkPages(dma) + dma.lowmemReserve[2]! + 1);
    expect(mm.allocPages(GFP_ATOMIC, 0)).toBeDefined();
    expect(free(dma32)).toBe(low - 1);
    expect(mm.allocPages(gfpOr(GFP_NOWAIT, __GFP_NOWARN), 0)).toBeUndefined();
    expect(got.length).toBeGreaterThan(15000);
    expect(highWmarkPages(dma32)).toBeGreaterThan(minWmarkPages(dma32));
  });

  it('fail_page_alloc injects failures that change nothing', () => {
    const mm = boot(SMALL);
    mm.kernel.faults.configure('fail_page_alloc', { probability: 100, times: 2 });
    // ignore-gfp-wait: allocations that may reclaim are not failed by default
    expect(mm.allocPages(GFP_KERNEL, 0)).toBeDefined();
    const before = snapshot(mm);
    expect(mm.allocPages(GFP_ATOMIC, 0)).toBeUndefined();
    expect(snapshot(mm)).toBe(before);
    mm.failPageAlloc.ignoreGfpReclaim = false;
    expect(mm.allocPages(GFP_KERNEL, 0)).toBeUndefined();
    expect(mm.allocPages(GFP_KERNEL, 0)).toBeDefined(); // times exhausted
    mm.kernel.faults.configure('fail_page_alloc', { times: -1 });
    expect(mm.allocPages(gfpOr(GFP_KERNEL, __GFP_NOFAIL), 0)).toBeDefined();
    expect(mm.allocPages(gfpOr(gfpClear(GFP_KERNEL, __GFP_DIRECT_RECLAIM), __GFP_RECLAIMABLE), 0)).toBeUndefined();
    expect(snapshot(mm)).not.toBe(before);
  });

  it('NUMA: allocations prefer the local node, fall back by distance, __GFP_THISNODE does not', () => {
    const mm = boot({
      memory: [
        { start: 0x100000, end: 64 * MiB, nid: 0 },
        { start: 4 * GiB, end: 4 * GiB + 8 * MiB, nid: 1 },
      ],
    });
    expect(mm.nodeZonelist(1, GFP_KERNEL).map((z) => `${z.node}:${z.name}`)).toEqual(['1:Normal', '0:DMA32', '0:DMA']);
    const p = mm.allocPagesNode(1, GFP_KERNEL, 0)!;
    expect(mm.memmap.pageToNid(p)).toBe(1);
    const n1 = zone(mm, 'Normal', 1);
    expect(n1.vmNumaStat.slice(0, 3)).toEqual([1, 0, 0]); // hit, miss, foreign
    while (mm.allocPagesNode(1, gfpOr(gfpOr(GFP_KERNEL, __GFP_THISNODE), __GFP_NOWARN), 0) !== undefined);
    const q = mm.allocPagesNode(1, GFP_KERNEL, 0)!;
    expect(mm.memmap.pageToNid(q)).toBe(0);
    expect(zone(mm, 'DMA32', 0).vmNumaStat[1]).toBe(1); // numa_miss on node 0
    expect(n1.vmNumaStat[2]).toBe(1); // numa_foreign on the preferred zone
    expect(mm.memmap.pageToNid(mm.allocPages(GFP_KERNEL, 0)!)).toBe(0);
  });

  it('a node without memory is set up as memoryless', () => {
    const mm = boot({ memory: [{ start: 0x100000, end: 64 * MiB, nid: 0 }], nodes: [0, 1] });
    expect(mm.kernel.log.lines.map((l) => l.text)).toContain('Initmem setup node 1 as memoryless');
    expect(mm.kernel.log.lines.map((l) => l.text)).toContain('Built 2 zonelists, mobility grouping on.  Total pages: 15876');
    expect(mm.memmap.pageToNid(mm.allocPagesNode(1, GFP_KERNEL, 0)!)).toBe(0);
  });

  it('rejects impossible nodes and bad sysctl values without changing anything', () => {
    const mm = boot(SMALL);
    const before = snapshot(mm);
    for (const f of [
      () => mm.allocNodeData(1024),
      () => mm.nodeSetOnline(5),
      () => mm.setMinFreeKbytes(-1),
      () => mm.memmapInitRange(0 as number, 10, 0, 9, 'hotplug', 1),
      () => mm.memmapInitRange((40000) as number, 10, 0, 1, 'hotplug', 1),
    ]) expect(f).toThrow();
    expect(snapshot(mm)).toBe(before);
    expect(mm.nodeData(5)).toBeUndefined();
  });

  it('min_free_kbytes set by the user sticks', () => {
    const mm = boot(SMALL);
    mm.setMinFreeKbytes(8192);
    mm.initPerZoneWmarkMin();
    expect(mm.minFreeKbytes).toBe(8192);
    expect(mm.kernel.log.lines.at(-1)!.text).toBe('min_free_kbytes is not updated to 919 because user defined value 8192 is preferred');
    expect(minWmarkPages(zone(mm, 'DMA32'))).toBe(Math.floor((2048 * 12288) / 16286));
  });

  it('a small machine turns mobility grouping off', () => {
    const mm = boot({ memory: [{ start: 0x100000, end: 8 * MiB }] });
    expect(mm.kernel.log.lines.find((l) => l.text.startsWith('Built'))!.text).toBe('Built 1 zonelists, mobility grouping off.  Total pages: 1764');
    expect(mm.pageGroupByMobilityDisabled).toBe(true);
    const p = mm.allocPages(GFP_HIGHUSER_MOVABLE, 0)!;
    expect(mm.memmap.pageRefCount(p)).toBe(1);
    mm.setPageblockMigratetype(p, MIGRATE_MOVABLE);
    expect(mm.getPageblockMigratetype(p)).toBe(MIGRATE_UNMOVABLE);
  });

  it('freeBlockOf finds the free block around a pfn', () => {
    const mm = boot(SMALL);
    expect(mm.freeBlockOf(4096 + 777)).toEqual({ head: 4096, order: 10 });
    const p = mm.allocPages(GFP_KERNEL, 0)!;
    expect(mm.freeBlockOf(p)).toBeUndefined();
    expect(mm.freeBlockOf(p + 1)).toEqual({ head: p + 1, order: 0 });
  });

  it('boot-reserved pages are never handed out', () => {
    const mm = boot({ ...SMALL, reserved: [{ start: 0x1000000, end: 0x1100000 }] });
    const seen = new Set<number>();
    for (let p = mm.allocPages(gfpOr(GFP_KERNEL, __GFP_NOWARN), 0); p !== undefined; p = mm.allocPages(gfpOr(GFP_KERNEL, __GFP_NOWARN), 0)) seen.add(p);
    for (let pfn = 0x1000; pfn < 0x1100; pfn++) expect(seen.has(pfn)).toBe(false);
    expect(mm.memmap.pageReserved(0x1000)).toBe(true);
    expect(mm.memmap.testPageFlag(0x1100, PG_reserved)).toBe(false);
  });
});
