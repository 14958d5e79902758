import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isKernelError } from '@zonedev/kernel';
import { createMmConfig } from '../src/config.js';
import type { MmArchConfig } from '../src/config.js';
import { MemmapStore } from '../src/memmap.js';
import type { OverlayPool, SlotList } from '../src/page-arrays.js';
import type { PageUpdate } from '../src/memmap.js';
import { PG_buddy, PG_dirty, PG_lru, PG_offline, PG_reserved, flagsWordClear, flagsWordSet, flagsWordTest, pageTypeIs } from '../src/page-flags.js';
import { POISONED_STRUCT_PAGE, ZERO_STRUCT_PAGE, makeStructPage, sameStructPage } from '../src/struct-page.js';
import type { StructPage } from '../src/struct-page.js';
import { PPC64, X86_64 } from './machines.js';

/** A tiny architecture: 64 pages per section, so overlays fill and flip quickly. */
const TINY: MmArchConfig = {
  name: 'tiny',
  pageShift: 12,
  nodesShift: 2,
  maxOrder: 5,
  pageblockOrder: 3,
  sectionSizeBits: 18,
  maxPhysmemBits: 30,
  zoneDma: false,
  zoneDma32: true,
  zoneDevice: true,
};

describe('struct page store: sections', () => {
  it('a section gets a memmap once; pages without one fault', () => {
    const m = new MemmapStore(createMmConfig(X86_64));
    m.initSection(3);
    expect(m.hasSection(3)).toBe(true);
    expect(m.hasMemmap(3 * 32768 + 5)).toBe(true);
    expect(m.hasMemmap(4 * 32768)).toBe(false);
    expect(m.nrPages).toBe(32768);
    expect(m.readStructPage(3 * 32768)).toEqual(ZERO_STRUCT_PAGE);
    expect(() => m.pageRefCount(0)).toThrow(/no struct page for pfn 0x0/);
    let err: unknown;
    try {
      m.initSection(3, POISONED_STRUCT_PAGE);
    } catch (e) {
      err = e;
    }
    expect(isKernelError(err, 'EEXIST')).toBe(true);
    expect(m.pagePoisoned(3 * 32768)).toBe(false); // unchanged by the failed call
    expect(() => m.dropSection(4)).toThrow(/has no memmap/);
    expect(m.nrSections).toBe(1);
    m.dropSection(3);
    expect(m.hasMemmap(3 * 32768)).toBe(false);
    expect(m.nrPages).toBe(0);
  });

  it('a poisoned memmap is caught by PagePoisoned()', () => {
    const m = new MemmapStore(createMmConfig(X86_64));
    m.initSection(0, POISONED_STRUCT_PAGE);
    expect(m.pagePoisoned(17)).toBe(true);
    m.initSinglePage(17, 2, 0);
    expect(m.pagePoisoned(17)).toBe(false);
    expect(m.pagePoisoned(18)).toBe(true);
  });

  it('__init_single_page: links, refcount 1, mapcount -1', () => {
    const c = createMmConfig(X86_64);
    const m = new MemmapStore(c);
    m.initSection(0);
    m.initSinglePage(42, c.ZONE_DEVICE!, 1023);
    expect(m.pageZonenum(42)).toBe(4);
    expect(m.pageToNid(42)).toBe(1023);
    expect(m.pageRefCount(42)).toBe(1);
    expect(m.pageMapcount(42)).toBe(0);
    expect(m.pageMapcountRaw(42)).toBe(-1);
    expect(m.pageFlagsHi(42)).toBe((1023 * 2 ** 22 + 4 * 2 ** 19) % 2 ** 32);
    expect(m.pageZoneId(42)).toBe(1023 * 8 + 4);
    // the untouched neighbour is still a zero page
    expect(m.pageZonenum(43)).toBe(0);
  });

  it('set_page_links keeps the flag bits, and works on powerpc64', () => {
    const c = createMmConfig(PPC64);
    const m = new MemmapStore(c);
    m.initSection(5);
    const pfn = 5 * 256 + 3;
    m.setPageFlag(pfn, PG_dirty);
    m.setPageLinks(pfn, c.ZONE_DEVICE!, 255);
    expect([m.pageZonenum(pfn), m.pageToNid(pfn), m.testPageFlag(pfn, PG_dirty)]).toEqual([2, 255, true]);
    m.setPageLinks(pfn, 0, 7);
    expect([m.pageZonenum(pfn), m.pageToNid(pfn)]).toEqual([0, 7]);
  });

  it('classic SPARSEMEM stores the section in the flags; NODE_NOT_IN_PAGE_FLAGS uses a table', () => {
    const classic = createMmConfig({ ...X86_64, sparsememVmemmap: false });
    const m = new MemmapStore(classic);
    m.initSection(9);
    m.initSinglePage(9 * 32768 + 1, 2, 3);
    expect([m.pageToSection(9 * 32768 + 1), m.pageToNid(9 * 32768 + 1), m.pageZonenum(9 * 32768 + 1)]).toEqual([9, 3, 2]);
    m.initSinglePageRange(9 * 32768, 32768, 1, 5);
    expect([m.pageToSection(9 * 32768 + 100), m.pageToNid(9 * 32768 + 100)]).toEqual([9, 5]);
    const far = createMmConfig({ ...X86_64, sparsememVmemmap: false, maxPhysmemBits: 52, nodesShift: 12 });
    expect(far.layout.NODE_NOT_IN_PAGE_FLAGS).toBe(true);
    const n = new MemmapStore(far);
    n.initSection(2);
    n.initSinglePageRange(2 * 32768, 32768, 2, 4000);
    expect([n.pageToNid(2 * 32768 + 7), n.pageZonenum(2 * 32768 + 7), n.pageToSection(2 * 32768 + 7)]).toEqual([4000, 2, 2]);
  });
});

describe('struct page store: storage forms', () => {
  it('template -> overlay -> columns, values preserved', () => {
    const c = createMmConfig(X86_64);
    const m = new MemmapStore(c);
    m.initSection(0);
    expect(m.sectionState(0)).toBe('template');
    m.setPageCount(5, 0); // same as the template: no divergence
    expect(m.sectionState(0)).toBe('template');
    m.setPageCount(5, 7);
    expect(m.sectionState(0)).toBe('overlay');
    expect(m.stats().overlayPages).toBe(1);
    for (let i = 0; i < m.overlayLimit; i++) m.setPagePrivate(1000 + i, i + 1);
    expect(m.sectionState(0)).toBe('columns');
    expect(m.pageRefCount(5)).toBe(7);
    expect(m.pagePrivate(1000 + m.overlayLimit - 1)).toBe(m.overlayLimit);
    expect(m.pagePrivate(999)).toBe(0);
    // a whole-section init makes it a template again
    m.initSinglePageRange(0, 32768, 2, 0);
    expect(m.sectionState(0)).toBe('template');
    expect(m.pageRefCount(5)).toBe(1);
  });

  it('bounds the host cost: <= 56 bytes per diverged page in an overlay, 12 to 24 per page in columns', () => {
    const m = new MemmapStore(createMmConfig(X86_64));
    m.initSection(0);
    for (let i = 0; i < 5000; i++) m.setPageCount(i * 3, 1);
    const st = m.stats();
    expect(st.overlayPages).toBe(5000);
    expect((st.hostBytes - 160) / 5000).toBeLessThanOrEqual(56);
    m.materialize(0, 1);
    // low flags, _refcount, _mapcount
    expect(m.stats().hostBytes - 160).toBe(32768 * 12);
    expect(m.pageRefCount(3)).toBe(1);
    // private gets its column when a page's value first differs from the template's
    m.setPagePrivate(7, 0);
    expect(m.stats().hostBytes - 160).toBe(32768 * 12);
    m.setPagePrivate(7, 2 ** 40 + 3);
    expect(m.stats().hostBytes - 160).toBe(32768 * 20);
    // and so does the high flags word
    m.setPageFlagsWord(9, m.pageFlagsLo(9), 0x1234);
    expect(m.stats().hostBytes - 160).toBe(32768 * 24);
    expect([m.pagePrivate(7), m.pagePrivate(8), m.pageFlagsHi(9), m.pageFlagsHi(10), m.pageRefCount(3)]).toEqual([2 ** 40 + 3, 0, 0x1234, 0, 1]);
  });

  it('a range covering most of a section flips the template and keeps the rest in the overlay', () => {
    const c = createMmConfig(X86_64);
    const m = new MemmapStore(c);
    m.initSection(0);
    m.initSinglePageRange(1, 4095, 0, 0); // DMA, like pfn 1..4095
    m.initSinglePageRange(4096, 32768 - 4096, 1, 0); // DMA32
    expect(m.sectionState(0)).toBe('overlay');
    expect(m.sectionTemplate(0)!.flagsHi).toBe(m.initSinglePageTemplate(1, 0).flagsHi);
    expect([m.pageZonenum(0), m.pageZonenum(1), m.pageZonenum(4095), m.pageZonenum(4096), m.pageZonenum(32767)]).toEqual([0, 0, 0, 1, 1]);
    expect(m.pageRefCount(0)).toBe(0);
    expect(m.pageRefCount(1)).toBe(1);
  });

  it('updateRange transforms templates, overlays and columns alike', () => {
    const c = createMmConfig(X86_64);
    const m = new MemmapStore(c);
    for (let s = 0; s < 3; s++) m.initSection(s);
    m.initSinglePageRange(0, 3 * 32768, 2, 0);
    m.updateRange(0, 3 * 32768, { setFlags: [PG_reserved] });
    m.setPageCount(40000, 5);
    m.materialize(70000, 1);
    m.updateRange(100, 3 * 32768 - 200, { clearFlags: [PG_reserved], refcount: 0 });
    for (const pfn of [0, 99, 100, 40000, 70000, 3 * 32768 - 101, 3 * 32768 - 100]) {
      const inside = pfn >= 100 && pfn < 3 * 32768 - 100;
      expect([pfn, m.pageReserved(pfn), m.pageRefCount(pfn)]).toEqual([pfn, !inside, inside ? 0 : 1]);
    }
    expect([m.sectionState(0), m.sectionState(1), m.sectionState(2)]).toEqual(['overlay', 'overlay', 'columns']);
  });

  it('bulk operations check the whole range first and change nothing on error', () => {
    const m = new MemmapStore(createMmConfig(X86_64));
    m.initSection(0);
    m.setPageCount(7, 3);
    const before = m.stats();
    expect(() => m.initRange(32000, 1000, ZERO_STRUCT_PAGE)).toThrow(/no memmap/);
    expect(() => m.updateRange(32000, 1000, { refcount: 9 })).toThrow(/no memmap/);
    expect(() => m.setPageblockMigratetypeRange(32000, 1000, 1)).toThrow(/no memmap/);
    expect(m.stats()).toEqual(before);
    expect(m.pageRefCount(32001)).toBe(0);
    expect(m.getPageblockMigratetype(32000)).toBe(0);
  });

  it('findFirst finds pages in templates, overlays and columns', () => {
    const m = new MemmapStore(createMmConfig(X86_64));
    m.initSection(0);
    m.initSection(2);
    m.setPageCount(300, 1);
    m.setPageCount(200, 1);
    const ref1 = (_lo: number, _mc: number, ref: number): boolean => ref === 1;
    expect(m.findFirst(0, 32768, ref1)).toBe(200);
    expect(m.findFirst(201, 32768, ref1)).toBe(300);
    expect(m.findFirst(301, 3 * 32768, ref1)).toBe(-1);
    m.initSinglePageRange(2 * 32768, 32768, 2, 0);
    expect(m.findFirst(301, 3 * 32768, ref1)).toBe(2 * 32768);
    m.materialize(0, 1);
    expect(m.findFirst(201, 32768, ref1)).toBe(300);
  });
});

describe('struct page store: range searches agree with page-by-page reads', () => {
  // findFirst() keeps each overlay's entries sorted between calls and
  // firstUnexpectedPage() answers per section: both must equal a loop over
  // every page, however the overlay grew, was released, compacted or
  // promoted to columns in between.
  const PPS = 32768;
  const mapping = { name: 'anon_vma' };
  it('findFirst and firstUnexpectedPage equal a loop over the pages', () => {
    // pfns near the start of each section, so that searches meet the writes
    const pfn = fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 3999 })).map(([sec, off]) => sec * PPS + off);
    const op = fc.oneof(
      fc.record({ k: fc.constant('ref' as const), pfn, v: fc.integer({ min: 0, max: 2 }) }),
      fc.record({ k: fc.constant('buddy' as const), pfn }),
      fc.record({ k: fc.constant('map' as const), pfn, on: fc.boolean() }),
      fc.record({ k: fc.constant('many' as const), pfn, step: fc.integer({ min: 1, max: 7 }) }),
      fc.record({ k: fc.constant('whole' as const), s: fc.integer({ min: 0, max: 2 }), free: fc.boolean() }),
      fc.record({ k: fc.constant('cols' as const), s: fc.integer({ min: 0, max: 2 }) }),
      fc.record({ k: fc.constant('find' as const), a: pfn, n: fc.integer({ min: 1, max: 4000 }) }),
      fc.record({ k: fc.constant('find' as const), a: pfn, n: fc.integer({ min: 1, max: 3 * PPS }) }),
    );
    const free = makeStructPage({ mapcount: -1 });
    const buddyOrRef = (_lo: number, mc: number, ref: number): boolean => ref !== 0 || pageTypeIs(mc, PG_buddy);
    const mask = 2 ** PG_reserved + 2 ** PG_lru;
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const m = new MemmapStore(createMmConfig(X86_64), { overlayLimit: 600 });
        for (let s = 0; s < 3; s++) m.initSection(s, free);
        for (const o of ops) {
          if (o.k === 'ref') m.setPageCount(o.pfn, o.v);
          else if (o.k === 'buddy') {
            if (m.pageMapcountRaw(o.pfn) === -1) m.setPageType(o.pfn, PG_buddy);
          }
          else if (o.k === 'map') m.setPageMapping(o.pfn, o.on ? mapping : undefined);
          else if (o.k === 'many') for (let i = 0; i < 500; i++) m.setPagePrivate(o.pfn + i * o.step, 1);
          else if (o.k === 'whole') m.initRange(o.s * PPS, PPS, o.free ? free : ZERO_STRUCT_PAGE);
          else if (o.k === 'cols') m.materialize(o.s * PPS, 1);
          else {
            const end = Math.min(o.a + o.n, 3 * PPS);
            let want = -1;
            for (let p = o.a; p < end && want < 0; p++) {
              const v = m.readStructPage(p);
              if (buddyOrRef(v.flagsLo, v.mapcount, v.refcount)) want = p;
            }
            expect(m.findFirst(o.a, end, buddyOrRef)).toBe(want);
            let bad = -1;
            for (let p = o.a; p < end && bad < 0; p++) if (!m.pageExpectedState(p, mask)) bad = p;
            expect(m.firstUnexpectedPage(o.a, end - o.a, mask)).toBe(bad);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('findFirst sees the overlay entries added, released and compacted since its last search of a section', () => {
    const m = new MemmapStore(createMmConfig(X86_64));
    m.initSection(0, makeStructPage({ mapcount: -1 }));
    m.initSection(1, makeStructPage({ mapcount: -1 }));
    const ref1 = (_lo: number, _mc: number, ref: number): boolean => ref === 1;
    m.setPageCount(100, 1);
    expect(m.findFirst(0, 512, ref1)).toBe(100);
    m.setPageCount(50, 1);
    expect(m.findFirst(0, 512, ref1)).toBe(50);
    expect(m.findFirst(51, 512, ref1)).toBe(100);
    m.initRange(0, PPS, makeStructPage({ mapcount: -1 }));
    m.setPagePrivate(60, 3);
    expect(m.findFirst(0, 512, ref1)).toBe(-1);
    // many entries in section 1, released: the pool compacts and relinks section 0's list
    m.setPageCount(70, 1);
    expect(m.findFirst(0, 512, ref1)).toBe(70);
    for (let i = 0; i < 5000; i++) m.setPagePrivate(PPS + i, 1);
    m.initRange(PPS, PPS, makeStructPage({ mapcount: -1 }));
    m.setPageCount(65, 1);
    expect(m.findFirst(0, 512, ref1)).toBe(65);
    expect(m.findFirst(66, 512, ref1)).toBe(70);
  });

  it('the high flags word of overlaid pages: written, flipped to a new template, released', () => {
    const m = new MemmapStore(createMmConfig(X86_64));
    m.initSection(0);
    m.setPageCount(5, 1); // an overlay entry with the template's links
    expect(m.pageFlagsHi(5)).toBe(0);
    m.setPageFlagsWord(6, 0, 0x40000000);
    expect(m.pageFlagsHi(6)).toBe(0x40000000);
    expect(m.pageFlagsHi(5)).toBe(0);
    m.initRange(0, PPS, ZERO_STRUCT_PAGE);
    expect(m.pageFlagsHi(6)).toBe(0);
    m.setPageCount(7, 1);
    // most of the section gets other links: the template flips, pages 0..99 keep the old ones
    m.initRange(100, PPS - 100, makeStructPage({ flagsHi: 0x1000000 }));
    expect(m.sectionState(0)).toBe('overlay');
    expect(m.pageFlagsHi(7)).toBe(0);
    expect(m.pageFlagsHi(50)).toBe(0);
    expect(m.pageFlagsHi(100)).toBe(0x1000000);
    expect(m.pageNodeZone(50)).toBe(m.pageToNid(50) * m.config.MAX_NR_ZONES + m.pageZonenum(50));
  });

  it('firstUnexpectedPage fails on a pfn without a memmap as the per-page accessor does', () => {
    const m = new MemmapStore(createMmConfig(X86_64));
    m.initSection(0, makeStructPage({ mapcount: -1 }));
    expect(m.firstUnexpectedPage(PPS - 4, 4, 0)).toBe(-1);
    m.setPageCount(PPS - 2, 1);
    expect(m.firstUnexpectedPage(PPS - 4, 4, 0)).toBe(PPS - 2);
    m.setPageCount(PPS - 2, 0);
    expect(() => m.firstUnexpectedPage(PPS - 4, 8, 0)).toThrow(/no struct page for pfn 0x8000/);
  });
});

describe('struct page store: fields and page_ref.h', () => {
  it('page references', () => {
    const m = new MemmapStore(createMmConfig(X86_64));
    m.initSection(0);
    m.initPageCount(1);
    m.getPage(1);
    expect(m.pageRefCount(1)).toBe(2);
    expect(m.putPageTestzero(1)).toBe(false);
    expect(m.putPageTestzero(1)).toBe(true);
    expect(() => m.putPageTestzero(1)).toThrow(/page_ref_count\(page\) == 0/);
    expect(() => m.getPage(1)).toThrow(/page_ref_zero_or_close_to_overflow/);
    expect(m.getPageUnlessZero(1)).toBe(false);
    m.setPageCount(1, 2);
    expect(m.pageRefFreeze(1, 1)).toBe(false);
    expect(m.pageRefFreeze(1, 2)).toBe(true);
    expect(m.pageRefCount(1)).toBe(0);
    m.pageRefUnfreeze(1, 3);
    expect(m.pageRefIncReturn(1)).toBe(4);
    expect(m.pageRefDecReturn(1)).toBe(3);
    expect(m.pageRefSubAndTest(1, 3)).toBe(true);
    expect(m.pageRefAddUnless(1, 1, 0)).toBe(false);
    m.pageRefAdd(1, 2);
    m.pageRefSub(1, 1);
    m.pageRefInc(1);
    m.pageRefDec(1);
    expect(m.pageRefDecAndTest(1)).toBe(true);
  });

  it('page types live in _mapcount: PageBuddy, PageOffline', () => {
    const m = new MemmapStore(createMmConfig(X86_64));
    m.initSection(0);
    m.initSinglePage(8, 2, 0);
    expect(m.pageBuddy(8)).toBe(false);
    m.setBuddyOrder(8, 3);
    expect([m.pageBuddy(8), m.buddyOrder(8), m.buddyOrderOf(8), m.pageMapcountRaw(8)]).toEqual([true, 3, 3, -1 - PG_buddy]);
    expect(m.pageType(8, PG_offline)).toBe(false);
    m.clearBuddy(8);
    expect([m.pageBuddy(8), m.pagePrivate(8), m.pageMapcountRaw(8), m.buddyOrderOf(8)]).toEqual([false, 0, -1, -1]);
    m.setPageOffline(8);
    expect(m.pageOffline(8)).toBe(true);
    m.clearPageOffline(8);
    expect(() => m.clearPageOffline(8)).toThrow(/VM_BUG_ON_PAGE/);
    m.setPageMapcountRaw(8, 0); // mapped once: not a type word
    expect(() => m.setBuddyOrder(8, 0)).toThrow(/PageType\(page, 0\)/);
    expect(m.buddyOrderOf(5 * 32768)).toBe(-1); // no memmap: not a buddy
  });

  it('flags, test-and-set, and the low-flags clear of the page allocator', () => {
    const m = new MemmapStore(createMmConfig(X86_64));
    m.initSection(0);
    expect(m.testSetPageFlag(3, PG_lru)).toBe(false);
    expect(m.testSetPageFlag(3, PG_lru)).toBe(true);
    m.setPageReserved(3);
    expect(m.pageReserved(3)).toBe(true);
    m.clearPageReserved(3);
    expect(m.testClearPageFlag(3, PG_lru)).toBe(true);
    expect(m.testClearPageFlag(3, PG_lru)).toBe(false);
    m.setPageFlag(3, 24);
    m.setPageFlag(3, 2);
    m.clearLowFlags(3, 25);
    expect(m.pageFlagsLo(3)).toBe(0);
    m.setPageFlagsWord(3, 0xffffffff, 0x12345678);
    expect([m.pageFlagsLo(3), m.pageFlagsHi(3)]).toEqual([0xffffffff, 0x12345678]);
  });

  it('pointer fields: pgmap, mapping, index, zone_device_data, from templates and per page', () => {
    const m = new MemmapStore(createMmConfig(X86_64));
    m.initSection(0);
    const pgmap = { name: 'pgmap' };
    m.initRange(0, 32768, makeStructPage({ pgmap, refcount: 1, mapcount: -1 }));
    expect(m.pagePgmap(77)).toBe(pgmap);
    m.setPagePgmap(77, undefined);
    expect(m.pagePgmap(77)).toBeUndefined();
    expect(m.pagePgmap(78)).toBe(pgmap);
    m.setPageZoneDeviceData(78, 'dmirror');
    m.setPageMapping(79, { anon: true });
    m.setPageIndex(79, 12);
    expect([m.pageZoneDeviceData(78), m.pageIndex(79), m.pageIndex(80)]).toEqual(['dmirror', 12, 0]);
    m.materialize(0, 1);
    expect(m.readStructPage(77).pgmap).toBeUndefined();
    expect(m.readStructPage(79)).toMatchObject({ mapping: { anon: true }, index: 12, pgmap });
    const other = { name: 'other' };
    m.updateRange(0, 32768, { pgmap: other });
    expect([m.pagePgmap(77), m.pagePgmap(78)]).toEqual([other, other]);
    m.initRange(0, 32768, ZERO_STRUCT_PAGE);
    expect(m.stats().extraEntries).toBe(0);
  });

  it('__init_single_page page by page sees every change of a section (template, form, pointer fields)', () => {
    const c = createMmConfig(X86_64);
    const m = new MemmapStore(c);
    m.initSection(0);
    m.materialize(0, 1);
    const pgmap = { name: 'pgmap' };
    const normal = m.initSinglePageTemplate(c.ZONE_NORMAL, 0);
    const expectInit = (pfn: number, zone: number, nid: number): void => {
      expect(sameStructPage(m.readStructPage(pfn), m.initSinglePageTemplate(zone, nid, pfn)), `pfn ${pfn}`).toBe(true);
    };
    for (let p = 0; p < 10; p++) m.initSinglePage(p, c.ZONE_NORMAL, 0);
    expectInit(9, c.ZONE_NORMAL, 0);
    // a whole-section init: the section is a template again, with a pgmap
    m.initRange(0, 32768, makeStructPage({ pgmap }, normal));
    m.initSinglePage(10, c.ZONE_NORMAL, 0);
    expectInit(10, c.ZONE_NORMAL, 0);
    expect([m.pagePgmap(10), m.pagePgmap(11), m.sectionState(0)]).toEqual([undefined, pgmap, 'template']); // only a pointer field differs
    // columns again, then a per-page pointer field
    m.initRange(0, 32768, normal);
    m.materialize(0, 1);
    m.initSinglePage(20, c.ZONE_NORMAL, 0);
    m.setPagePgmap(21, pgmap);
    m.initSinglePage(21, c.ZONE_NORMAL, 0);
    expect(m.pagePgmap(21)).toBeUndefined();
    // a template transformed in place (the columns stay)
    m.initRange(0, 32768, normal);
    m.materialize(0, 1);
    m.initSinglePage(30, c.ZONE_DEVICE!, 1);
    m.updateRange(0, 32768, { pgmap });
    expect(m.sectionState(0)).toBe('columns');
    m.initSinglePage(31, c.ZONE_DEVICE!, 1);
    expectInit(31, c.ZONE_DEVICE!, 1);
    expect([m.pagePgmap(31), m.pagePgmap(32)]).toEqual([undefined, pgmap]);
    // another zone or node, and a section dropped and re-added
    m.initSinglePage(33, c.ZONE_NORMAL, 2);
    expectInit(33, c.ZONE_NORMAL, 2);
    m.dropSection(0);
    m.initSection(0);
    m.initSinglePage(34, c.ZONE_NORMAL, 2);
    expectInit(34, c.ZONE_NORMAL, 2);
    expect([m.sectionState(0), m.pageRefCount(33)]).toEqual(['overlay', 0]);
    expect(() => m.initSinglePage(32768, c.ZONE_NORMAL, 2)).toThrow(/no struct page/);
    // a dropped section has no struct pages left to initialize
    m.materialize(0, 1);
    m.initSinglePage(40, c.ZONE_NORMAL, 2);
    m.dropSection(0);
    expect(() => m.initSinglePage(41, c.ZONE_NORMAL, 2)).toThrow(/no struct page/);
  });

  it('__init_single_page in consecutive runs gives what page-by-page writes give, whatever comes between', () => {
    const c = createMmConfig(X86_64);
    const zones = [c.ZONE_NORMAL, c.ZONE_MOVABLE, c.ZONE_DEVICE!];
    const op = fc.oneof(
      // a run of consecutive calls, possibly across a section boundary
      fc.record({ k: fc.constant('run' as const), pfn: fc.integer({ min: 0, max: 3 * 32768 - 1 }), n: fc.integer({ min: 1, max: 40000 }), z: fc.integer({ min: 0, max: 2 }), nid: fc.integer({ min: 0, max: 1 }) }),
      fc.record({ k: fc.constant('ref' as const), pfn: fc.integer({ min: 0, max: 3 * 32768 - 1 }), v: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ k: fc.constant('whole' as const), s: fc.integer({ min: 0, max: 2 }) }),
      fc.record({ k: fc.constant('drop' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 8 }), fc.array(fc.integer({ min: 0, max: 4 * 32768 - 1 }), { minLength: 20, maxLength: 20 }), (ops, probes) => {
        const m = new MemmapStore(c);
        const ref = new MemmapStore(c);
        for (const st of [m, ref]) for (let s = 0; s < 3; s++) st.initSection(s);
        let dropped = false;
        for (const o of ops) {
          if (o.k === 'run') {
            const end = Math.min(o.pfn + o.n, dropped ? 2 * 32768 : 3 * 32768);
            for (let p = o.pfn; p < end; p++) m.initSinglePage(p, zones[o.z]!, o.nid);
            for (let p = o.pfn; p < end; p++) ref.writeStructPage(p, ref.initSinglePageTemplate(zones[o.z]!, o.nid, p));
            if (end < o.pfn + o.n) {
              // the first pfn without a memmap fails at its own call
              expect(() => m.initSinglePage(end, zones[o.z]!, o.nid)).toThrow(/no struct page/);
            }
          } else if (o.k === 'ref') {
            if (dropped && o.pfn >= 2 * 32768) continue;
            m.setPageCount(o.pfn, o.v);
            ref.setPageCount(o.pfn, o.v);
          } else if (o.k === 'whole') {
            if (dropped && o.s === 2) continue;
            // a read, then a bulk change of a whole section, between runs
            expect(m.sectionState(o.s)).toBeDefined();
            m.updateRange(o.s * 32768, 32768, { setFlags: [PG_reserved] });
            ref.updateRange(o.s * 32768, 32768, { setFlags: [PG_reserved] });
          } else if (!dropped) {
            m.dropSection(2);
            ref.dropSection(2);
            dropped = true;
          }
        }
        for (const p of probes) {
          if (!ref.hasMemmap(p)) {
            expect(m.hasMemmap(p)).toBe(false);
            continue;
          }
          expect(sameStructPage(m.readStructPage(p), ref.readStructPage(p)), `pfn ${p}`).toBe(true);
        }
        expect(m.nrPages).toBe(ref.nrPages);
      }),
      { numRuns: 60 },
    );
  });

  it('pageblock migratetypes per pageblock, whole sections at once', () => {
    const c = createMmConfig(X86_64);
    const m = new MemmapStore(c);
    m.initSection(0, ZERO_STRUCT_PAGE, 1);
    expect(m.getPageblockMigratetype(100)).toBe(1);
    m.setPageblockMigratetype(600, 4);
    expect([m.getPageblockMigratetype(511), m.getPageblockMigratetype(512), m.getPageblockMigratetype(1023), m.getPageblockMigratetype(1024)]).toEqual([1, 4, 4, 1]);
    m.setPageblockMigratetypeRange(0, 32768, 0);
    expect(m.getPageblockMigratetype(600)).toBe(0);
    m.setPageblockMigratetypeRange(1000, 100, 2);
    expect([m.getPageblockMigratetype(511), m.getPageblockMigratetype(512), m.getPageblockMigratetype(1024)]).toEqual([0, 2, 2]);
  });
});

// ---------------------------------------------------------------- model test

type Model = Map<number, StructPage>;
const PPS = 64;
const SECTIONS = [0, 1, 3];

function modelUpdate(t: StructPage, u: PageUpdate): StructPage {
  let lo = t.flagsLo;
  for (const b of u.setFlags ?? []) lo = flagsWordSet(lo, b);
  for (const b of u.clearFlags ?? []) lo = flagsWordClear(lo, b);
  return makeStructPage(
    {
      flagsLo: lo,
      ...(u.refcount !== undefined ? { refcount: u.refcount } : {}),
      ...(u.private !== undefined ? { private: u.private } : {}),
      ...('pgmap' in u ? { pgmap: u.pgmap } : {}),
      ...(u.index !== undefined ? { index: u.index } : {}),
    },
    t,
  );
}

describe('struct page store: model-based', () => {
  it('agrees with a page-by-page model under random writes and bulk operations', () => {
    const cfg = createMmConfig(TINY);
    const pgmaps = [undefined, { p: 1 }, { p: 2 }];
    const pfnArb = fc.constantFrom(...SECTIONS).chain((s) => fc.integer({ min: 0, max: PPS - 1 }).map((i) => s * PPS + i));
    const rangeArb = fc.tuple(pfnArb, fc.integer({ min: 1, max: 3 * PPS })).filter(([p, n]) => SECTIONS.includes(Math.floor((p + n - 1) / PPS)) && [...Array(n).keys()].every((k) => SECTIONS.includes(Math.floor((p + k) / PPS))));
    const tplArb = fc.record({
      refcount: fc.integer({ min: 0, max: 3 }),
      flagsLo: fc.integer({ min: 0, max: 255 }),
      private: fc.integer({ min: 0, max: 2 }),
      pgmap: fc.constantFrom(...pgmaps),
    }).map((r) => makeStructPage(r));
    const updArb = fc.record(
      {
        setFlags: fc.subarray([0, 3, 12]),
        clearFlags: fc.subarray([1, 4]),
        refcount: fc.integer({ min: 0, max: 3 }),
        private: fc.integer({ min: 0, max: 3 }),
        pgmap: fc.constantFrom(...pgmaps),
        index: fc.integer({ min: 0, max: 5 }),
      },
      { requiredKeys: [] },
    );
    type Cmd = fc.Command<Model, MemmapStore>;
    const check = (model: Model, m: MemmapStore, pfns: readonly number[]): void => {
      for (const p of pfns) expect(sameStructPage(m.readStructPage(p), model.get(p)!), `pfn ${p}`).toBe(true);
    };
    const allPfns = SECTIONS.flatMap((s) => [...Array(PPS).keys()].map((i) => s * PPS + i));
    const cmds = [
      fc.tuple(pfnArb, fc.integer({ min: -1, max: 5 })).map(([pfn, v]): Cmd => ({
        check: () => true,
        run: (model, m) => {
          m.setPageCount(pfn, v);
          model.set(pfn, makeStructPage({ refcount: v }, model.get(pfn)!));
          check(model, m, [pfn]);
        },
        toString: () => `setPageCount(${pfn}, ${v})`,
      })),
      fc.tuple(pfnArb, fc.integer({ min: 0, max: 20 }), fc.boolean()).map(([pfn, bit, set]): Cmd => ({
        check: () => true,
        run: (model, m) => {
          if (set) m.setPageFlag(pfn, bit);
          else m.clearPageFlag(pfn, bit);
          const t = model.get(pfn)!;
          model.set(pfn, makeStructPage({ flagsLo: set ? flagsWordSet(t.flagsLo, bit) : flagsWordClear(t.flagsLo, bit) }, t));
          expect(m.testPageFlag(pfn, bit)).toBe(set);
          expect(flagsWordTest(m.pageFlagsLo(pfn), bit)).toBe(set);
        },
        toString: () => `${set ? 'set' : 'clear'}PageFlag(${pfn}, ${bit})`,
      })),
      fc.tuple(pfnArb, fc.constantFrom(...pgmaps), fc.integer({ min: 0, max: 9 })).map(([pfn, pg, ix]): Cmd => ({
        check: () => true,
        run: (model, m) => {
          m.setPagePgmap(pfn, pg);
          m.setPageIndex(pfn, ix);
          model.set(pfn, makeStructPage({ pgmap: pg, index: ix }, model.get(pfn)!));
        },
        toString: () => `setPgmapIndex(${pfn}, ${ix})`,
      })),
      fc.tuple(rangeArb, tplArb).map(([[p, n], t]): Cmd => ({
        check: () => true,
        run: (model, m) => {
          m.initRange(p, n, t);
          for (let k = 0; k < n; k++) model.set(p + k, t);
          check(model, m, allPfns);
        },
        toString: () => `initRange(${p}, ${n})`,
      })),
      fc.tuple(rangeArb, updArb).map(([[p, n], u]): Cmd => ({
        check: () => true,
        run: (model, m) => {
          m.updateRange(p, n, u);
          for (let k = 0; k < n; k++) model.set(p + k, modelUpdate(model.get(p + k)!, u));
          check(model, m, allPfns);
        },
        toString: () => `updateRange(${p}, ${n}, ${JSON.stringify(u)})`,
      })),
      fc.tuple(pfnArb, fc.integer({ min: 1, max: PPS }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })).map(([pfn, n, zone, nid]): Cmd => ({
        check: () => true,
        run: (model, m) => {
          const end = Math.min(pfn + n, (Math.floor(pfn / PPS) + 1) * PPS);
          for (let p = pfn; p < end; p++) {
            m.initSinglePage(p, zone, nid);
            model.set(p, m.initSinglePageTemplate(zone, nid, p));
          }
          check(model, m, allPfns);
        },
        toString: () => `initSinglePage(${pfn}.., ${n}, ${zone}, ${nid})`,
      })),
      fc.tuple(fc.constantFrom(...SECTIONS), tplArb).map(([s, t]): Cmd => ({
        check: () => true,
        run: (model, m) => {
          m.dropSection(s);
          m.initSection(s, t);
          for (let i = 0; i < PPS; i++) model.set(s * PPS + i, t);
          check(model, m, allPfns);
          const { pool, sections } = m as unknown as { pool: OverlayPool; sections: Map<number, SlotList> };
          pool.audit(sections.values());
        },
        toString: () => `dropSection(${s}) + initSection(${s})`,
      })),
      fc.constantFrom(...SECTIONS).map((s): Cmd => ({
        check: () => true,
        run: (model, m) => {
          m.materialize(s * PPS, 1);
          check(model, m, allPfns);
        },
        toString: () => `materialize(${s})`,
      })),
    ];
    fc.assert(
      fc.property(fc.commands(cmds, { maxCommands: 60 }), (c) => {
        const m = new MemmapStore(cfg);
        const model: Model = new Map();
        for (const s of SECTIONS) {
          m.initSection(s);
          for (let i = 0; i < PPS; i++) model.set(s * PPS + i, ZERO_STRUCT_PAGE);
        }
        fc.modelRun(() => ({ model, real: m }), c);
        check(model, m, allPfns);
      }),
      { numRuns: 60 },
    );
  });
});
