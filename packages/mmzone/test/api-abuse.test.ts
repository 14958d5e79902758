/**
 * API abuse, driven by the committed API report: every function, constructor
 * and method that etc/mmzone.api.md lists is called with each of the values
 * no C caller could pass (NaN, infinities, -1, 1.5, 2^53 + 2, 2^64,
 * undefined, a string) in each of its parameters, the others valid. Each call
 * must be refused with a KernelError (or a KernelBug where the kernel would
 * BUG), and the machine must read exactly as before: the allocator snapshot
 * (zones, free lists, pageblocks, counters), /proc/zoneinfo, /proc/buddyinfo,
 * /proc/pagetypeinfo, the meminfo counters, the struct pages of a sample of
 * pfns, the section states of the memmap, the contents of physical memory and
 * the stand-alone free lists and backing the suite owns. An entry that is not
 * called says why (`null`); a new export without an entry fails the coverage
 * test.
 *
 * Then the misuses the kernel itself detects, case by case: freeing a block
 * with the wrong order or twice ("BUG: Bad page state", VM_BUG_ON_PAGE as a
 * KernelBug), onlining pages that are already online, and a pfn without a
 * memmap (the oops "unable to handle page fault").
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BAD, abuse, reportEntries } from '@zonedev/test-kit';
import type { Spec } from '@zonedev/test-kit';
import { KernelBug, isKernelBug, isKernelError } from '@zonedev/kernel';
import * as api from '../src/index.js';
import type { MeminitContext, MmConfig, MmCore as MmCoreT, PageFlagsLayout, PageUpdate, PglistData, PhysBacking, StructPage, Zone } from '../src/index.js';
import { FreeArea, FreeLists, GFP_KERNEL, MemmapStore, MmCore, PG_dirty, PG_reserved, PhysMem, SparseBacking } from '../src/index.js';
import { MiB, X86_64, addDeviceRange, boot, hotAdd, snapshot } from './machines.js';

/** A KernelError, or a KernelBug where the kernel would BUG. */
const refused = (err: unknown): boolean => isKernelError(err) || isKernelBug(err);

const ENTRIES = reportEntries(readFileSync(new URL('../etc/mmzone.api.md', import.meta.url), 'utf8'));

const SMALL = { memory: [{ start: 0x1000, end: 0x9f000 }, { start: 0x100000, end: 64 * MiB }] };
const HOT = 0x8000; // 128 MiB, one section hot-added to ZONE_NORMAL
const DEV = 0x10000; // 256 MiB, one section of ZONE_DEVICE
const PPS = 0x8000; // pages per section

function world() {
  const mm = boot(SMALL);
  hotAdd(mm, HOT, PPS, mm.config.ZONE_NORMAL);
  addDeviceRange(mm, DEV, PPS, { name: 'pgmap0' });
  const p = mm.allocPages(GFP_KERNEL, 0)!;
  mm.physmem.write(p * 4096, new Uint8Array([1, 2, 3, 4]));
  const lists = new FreeLists(11, 6);
  lists.pushTail(0x200, 1, 0);
  lists.pushTail(0x400, 2, 1);
  const backing = new SparseBacking(16 * 4096, 4096);
  backing.write(4096, new Uint8Array([5, 6, 7]));
  mm.physmem.registerBacking(DEV * 4096, 16 * 4096, backing, 'pmem0');
  const sample = [0x1, 0x100, 0x1000, 0x3fff, p, p + 1, HOT, HOT + 1, HOT + PPS - 1, DEV, DEV + 1];
  const snap = (): string => {
    const page = (pfn: number): unknown => (mm.memmap.hasMemmap(pfn) ? mm.memmap.readStructPage(pfn) : null);
    const zones = mm.zones().map((z) => [z.name, z.zoneStartPfn, z.spannedPages, z.presentPages, z.managedPages]);
    const pgdats = mm.onlinePgdats().map((g) => [g.nodeId, g.nodeStartPfn, g.nodeSpannedPages, g.nodePresentPages, g.nrZones]);
    const lst = Array.from({ length: 11 }, (_, o) => Array.from({ length: 6 }, (_, mt) => lists.list(o, mt)));
    return JSON.stringify([
      snapshot(mm),
      mm.zoneinfo(),
      mm.buddyinfo(),
      mm.pagetypeinfo(),
      [mm.totalramPages, mm.totalreservePages, mm.nrFreePages(), mm.userMinFreeKbytes, mm.vmTotalPages, mm.numaNodeId, mm.policyZone],
      zones,
      pgdats,
      sample.map(page),
      mm.memmap.sectionNumbers().map((nr) => [nr, mm.memmap.sectionState(nr)]),
      mm.physmem.ranges().map((r) => [r.start, r.size, r.name]),
      [...mm.physmem.read(p * 4096, 8)],
      [...mm.physmem.read(DEV * 4096 + 4096, 4)],
      lst,
    ]);
  };
  return { mm, p, lists, backing, snap };
}

describe('@zonedev/mmzone: every entry point of the API report refuses bad values', () => {
  const w = world();
  const mm = w.mm;
  const ms = mm.memmap;
  const c: MmConfig = mm.config;
  const z = (): Zone => mm.pageZone(HOT);
  const g = (): PglistData => mm.nodeData(0)!;
  const p = w.p as number;
  const a = (...xs: unknown[]) => () => xs;
  const n = (x: unknown): number => x as number;
  /** A spec calling `obj[name](...args)`. */
  const on = <T extends object>(obj: T, name: keyof T & string, args: unknown[], allow?: (i: number, v: unknown) => boolean): Spec => ({
    args: () => [...args],
    call: (xs) => (obj[name] as (...v: unknown[]) => unknown)(...xs),
    ...(allow === undefined ? {} : { allow }),
  });
  const anyAt = (k: number) => (i: number): boolean => i === k;
  const minus1At = (k: number) => (i: number, v: unknown): boolean => i === k && v === -1;
  const online: PageUpdate = { setFlags: [PG_dirty] };
  const tpl = (): StructPage => ms.initSinglePageTemplate(c.ZONE_NORMAL, 0);
  const noParams = null;
  /** An architecture field left out takes its default; any string names an architecture. */
  const archField = (_i: number, f: string, v: unknown): boolean => (v === undefined && f !== 'pageShift' && f !== 'nodesShift' && f !== 'maxOrder' && f !== 'pageblockOrder' && f !== 'sectionSizeBits' && f !== 'maxPhysmemBits' && f !== 'zoneDma' && f !== 'zoneDma32' && f !== 'zoneDevice') || (f === 'name' && v === 'x');
  /** -1 is a valid _refcount, _mapcount, private or index (all ones: a poisoned page has them). */
  const allOnes = (_i: number, f: string, v: unknown): boolean =>
    (v === -1 && ['refcount', 'mapcount', 'private', 'index'].includes(f)) || (v === undefined && ['pgmap', 'mapping', 'zoneDeviceData'].includes(f) /* NULL */);

  const specs: Record<string, Spec | null> = {
    // --- pure functions of a config, a zone or a word
    checkMmConfig: { args: a(X86_64), call: ([x]) => api.checkMmConfig(x as never), refusal: (r) => typeof r === 'string', allowField: archField },
    createMmConfig: { args: a(X86_64), call: ([x]) => api.createMmConfig(x as never), allowField: archField },
    formatPageFlags: { args: () => [2 ** PG_reserved, c.pageflags], call: ([f, b]) => api.formatPageFlags(n(f), b as never) },
    gfpOr: { args: a(GFP_KERNEL, 0x10), call: ([x, y]) => api.gfpOr(n(x), n(y)) },
    isDevZone: { args: () => [z()], call: ([x]) => api.isDevZone(x as Zone) },
    makeStructPage: { args: a({ refcount: 1 }), call: ([f, b]) => api.makeStructPage(f as never, b as never), allowField: allOnes },
    nodeStatNames: { args: a(c), call: ([x]) => api.nodeStatNames(x as MmConfig) },
    numaStatNames: { args: a(c), call: ([x]) => api.numaStatNames(x as MmConfig) },
    zoneStatNames: { args: a(c), call: ([x]) => api.zoneStatNames(x as MmConfig) },
    pageHasType: { args: a(0xf0000000), call: ([x]) => api.pageHasType(n(x)), allow: minus1At(0) /* _mapcount -1: not a type */ },
    pageTypeIs: { args: a(0xf0000000, 0x80), call: ([x, f]) => api.pageTypeIs(n(x), n(f)), allow: minus1At(0) },
    populatedZone: { args: () => [z()], call: ([x]) => api.populatedZone(x as Zone) },
    renderPageFlagsLayout: { args: a(c.layout), call: ([l, t]) => api.renderPageFlagsLayout(l as PageFlagsLayout, t as string), allow: (i, v) => i === 1 && v === 'x' /* any title */ },
    resizePgdatRange: { args: () => [g(), HOT, PPS], call: ([x, s, k]) => api.resizePgdatRange(x as PglistData, n(s), n(k)) },
    resizeZoneRange: { args: () => [z(), HOT, PPS], call: ([x, s, k]) => api.resizeZoneRange(x as Zone, n(s), n(k)) },
    setPgdatNrZones: { args: () => [g(), g().nrZones], call: ([x, k]) => api.setPgdatNrZones(x as PglistData, n(k)) },
    setPgdatSpan: { args: () => [g(), g().nodeStartPfn, g().nodeSpannedPages], call: ([x, s, k]) => api.setPgdatSpan(x as PglistData, n(s), n(k)) },
    setZoneSpan: { args: () => [z(), z().zoneStartPfn, z().spannedPages], call: ([x, s, k]) => api.setZoneSpan(x as Zone, n(s), n(k)) },
    zoneEndPfn: { args: () => [z()], call: ([x]) => api.zoneEndPfn(x as Zone) },
    zoneId: { args: () => [z()], call: ([x]) => api.zoneId(x as Zone) },
    zoneIdx: { args: () => [z()], call: ([x]) => api.zoneIdx(x as Zone) },
    zoneIntersects: { args: () => [z(), HOT, 16], call: ([x, s, k]) => api.zoneIntersects(x as Zone, n(s), n(k)) },
    zoneIsEmpty: { args: () => [z()], call: ([x]) => api.zoneIsEmpty(x as Zone) },
    zonePageState: { args: () => [z(), 0], call: ([x, i]) => api.zonePageState(x as Zone, n(i)) },
    zoneSpansPfn: { args: () => [z(), HOT], call: ([x, s]) => api.zoneSpansPfn(x as Zone, n(s)) },
    zonesShiftFor: { args: a(4), call: ([x]) => api.zonesShiftFor(n(x)), refusal: (r) => r === undefined },

    // --- constructors of stand-alone objects
    'FreeArea.constructor': { args: () => [w.lists, 1], call: ([l, o]) => new FreeArea(l as FreeLists, n(o)) },
    'FreeLists.constructor': { args: a(11, 6), call: ([o, t]) => new FreeLists(n(o), n(t)) },
    'MemmapStore.constructor': { args: a(c), call: ([x, o]) => new MemmapStore(x as MmConfig, o as never) },
    'MmCore.constructor': { args: () => [{ kernel: mm.kernel, config: X86_64 }], call: ([o]) => new MmCore(o as never) },
    'PglistData.constructor': { args: a(1, c), call: ([nid, x]) => new api.PglistData(n(nid), x as MmConfig) },
    'PhysMem.constructor': { args: a(12), call: ([s]) => new PhysMem(n(s)) },
    'SparseBacking.constructor': { args: a(8192, 4096), call: ([s, ps]) => new SparseBacking(n(s), n(ps)) },
    'Zone.constructor': { args: () => [g(), 1, c], call: ([x, i, k]) => new api.Zone(x as PglistData, n(i), k as MmConfig) },

    // --- FreeArea and FreeLists (the suite's own lists)
    'FreeArea.count': { args: a(0), call: ([mt]) => new FreeArea(w.lists, 1).count(n(mt)) },
    'FreeArea.freeList': { args: a(0), call: ([mt]) => new FreeArea(w.lists, 1).freeList(n(mt)) },
    'FreeArea.isEmpty': { args: a(0), call: ([mt]) => new FreeArea(w.lists, 1).isEmpty(n(mt)) },
    'FreeLists.count': on(w.lists, 'count', [1, 0]),
    'FreeLists.first': on(w.lists, 'first', [1, 0]),
    'FreeLists.has': on(w.lists, 'has', [0x200]),
    'FreeLists.isEmpty': on(w.lists, 'isEmpty', [1, 0]),
    'FreeLists.list': on(w.lists, 'list', [1, 0]),
    'FreeLists.moveTail': on(w.lists, 'moveTail', [0x200, 0]),
    'FreeLists.nrFree': on(w.lists, 'nrFree', [1]),
    'FreeLists.pushHead': on(w.lists, 'pushHead', [0x800, 3, 0]),
    'FreeLists.pushTail': on(w.lists, 'pushTail', [0x800, 3, 0]),
    'FreeLists.remove': on(w.lists, 'remove', [0x200]),
    'FreeLists.where': on(w.lists, 'where', [0x200]),

    // --- the memmap: struct page fields, refs, flags, sections
    'MemmapStore.buddyOrder': on(ms, 'buddyOrder', [HOT]),
    'MemmapStore.buddyOrderOf': on(ms, 'buddyOrderOf', [HOT]),
    'MemmapStore.clearBuddy': on(ms, 'clearBuddy', [HOT]),
    'MemmapStore.clearLowFlags': on(ms, 'clearLowFlags', [p, 1]),
    'MemmapStore.clearPageFlag': on(ms, 'clearPageFlag', [p, PG_dirty]),
    'MemmapStore.clearPageOffline': on(ms, 'clearPageOffline', [p]),
    'MemmapStore.clearPageReserved': on(ms, 'clearPageReserved', [DEV]),
    'MemmapStore.clearPageType': on(ms, 'clearPageType', [HOT, 0x80]),
    'MemmapStore.dropSection': on(ms, 'dropSection', [DEV / PPS]),
    'MemmapStore.dropSections': on(ms, 'dropSections', [DEV / PPS, 1]),
    'MemmapStore.findFirst': on(ms, 'findFirst', [HOT, HOT + 16, () => true]),
    'MemmapStore.firstUnexpectedPage': on(ms, 'firstUnexpectedPage', [HOT, 16, 1]),
    'MemmapStore.getPage': on(ms, 'getPage', [p]),
    'MemmapStore.getPageblockMigratetype': on(ms, 'getPageblockMigratetype', [HOT]),
    'MemmapStore.getPageUnlessZero': on(ms, 'getPageUnlessZero', [p]),
    'MemmapStore.hasMemmap': on(ms, 'hasMemmap', [HOT]),
    'MemmapStore.hasSection': on(ms, 'hasSection', [1]),
    'MemmapStore.initAllocatedPage': on(ms, 'initAllocatedPage', [p]),
    'MemmapStore.initPageCount': on(ms, 'initPageCount', [p]),
    'MemmapStore.initRange': { args: () => [HOT, 16, tpl()], call: ([s, k, t]) => ms.initRange(n(s), n(k), t as StructPage), allowField: allOnes },
    'MemmapStore.initSection': on(ms, 'initSection', [100]),
    'MemmapStore.initSections': on(ms, 'initSections', [100, 1]),
    'MemmapStore.initSinglePage': on(ms, 'initSinglePage', [p, c.ZONE_NORMAL, 0]),
    'MemmapStore.initSinglePageRange': on(ms, 'initSinglePageRange', [HOT, 16, c.ZONE_NORMAL, 0]),
    'MemmapStore.initSinglePageTemplate': on(ms, 'initSinglePageTemplate', [c.ZONE_NORMAL, 0, HOT]),
    'MemmapStore.materialize': on(ms, 'materialize', [HOT, 16]),
    'MemmapStore.pageBuddy': on(ms, 'pageBuddy', [HOT]),
    'MemmapStore.pageCount': on(ms, 'pageCount', [p]),
    'MemmapStore.pageExpectedState': on(ms, 'pageExpectedState', [p, 1]),
    'MemmapStore.pageFlagsHi': on(ms, 'pageFlagsHi', [p]),
    'MemmapStore.pageFlagsLo': on(ms, 'pageFlagsLo', [p]),
    'MemmapStore.pageIndex': on(ms, 'pageIndex', [p]),
    'MemmapStore.pageLinksWord': on(ms, 'pageLinksWord', [c.ZONE_NORMAL, 0, p, 0, 0]),
    'MemmapStore.pageMapcount': on(ms, 'pageMapcount', [p]),
    'MemmapStore.pageMapcountRaw': on(ms, 'pageMapcountRaw', [p]),
    'MemmapStore.pageMapcountReset': on(ms, 'pageMapcountReset', [p]),
    'MemmapStore.pageMapping': on(ms, 'pageMapping', [p]),
    'MemmapStore.pageNodeZone': on(ms, 'pageNodeZone', [p]),
    'MemmapStore.pageOffline': on(ms, 'pageOffline', [p]),
    'MemmapStore.pagePgmap': on(ms, 'pagePgmap', [DEV]),
    'MemmapStore.pagePoisoned': on(ms, 'pagePoisoned', [p]),
    'MemmapStore.pagePrivate': on(ms, 'pagePrivate', [p]),
    'MemmapStore.pageRefAdd': on(ms, 'pageRefAdd', [p, 1], minus1At(1) /* an int */),
    'MemmapStore.pageRefAddUnless': on(ms, 'pageRefAddUnless', [p, 1, 0], (i, v) => i > 0 && v === -1 /* an int */),
    'MemmapStore.pageRefCount': on(ms, 'pageRefCount', [p]),
    'MemmapStore.pageRefDec': on(ms, 'pageRefDec', [DEV]),
    'MemmapStore.pageRefDecAndTest': on(ms, 'pageRefDecAndTest', [DEV]),
    'MemmapStore.pageRefDecReturn': on(ms, 'pageRefDecReturn', [DEV]),
    'MemmapStore.pageRefFreeze': on(ms, 'pageRefFreeze', [p, 1], minus1At(1) /* an int */),
    'MemmapStore.pageRefInc': on(ms, 'pageRefInc', [p]),
    'MemmapStore.pageRefIncReturn': on(ms, 'pageRefIncReturn', [p]),
    'MemmapStore.pageRefSub': on(ms, 'pageRefSub', [p, 1], minus1At(1) /* an int */),
    'MemmapStore.pageRefSubAndTest': on(ms, 'pageRefSubAndTest', [p, 1], minus1At(1) /* an int */),
    'MemmapStore.pageRefUnfreeze': on(ms, 'pageRefUnfreeze', [p, 1], minus1At(1) /* an int */),
    'MemmapStore.pageReserved': on(ms, 'pageReserved', [DEV]),
    'MemmapStore.pageToNid': on(ms, 'pageToNid', [p]),
    'MemmapStore.pageToSection': on(ms, 'pageToSection', [p]),
    'MemmapStore.pageType': on(ms, 'pageType', [HOT, 0x80]),
    'MemmapStore.pageZoneDeviceData': on(ms, 'pageZoneDeviceData', [DEV]),
    'MemmapStore.pageZoneId': on(ms, 'pageZoneId', [p]),
    'MemmapStore.pageZonenum': on(ms, 'pageZonenum', [p]),
    'MemmapStore.pfnToSectionNr': on(ms, 'pfnToSectionNr', [p]),
    'MemmapStore.putPageTestzero': on(ms, 'putPageTestzero', [DEV]),
    'MemmapStore.readStructPage': on(ms, 'readStructPage', [p]),
    'MemmapStore.sectionNrToPfn': on(ms, 'sectionNrToPfn', [1]),
    'MemmapStore.sectionNumbers': noParams,
    'MemmapStore.sectionState': on(ms, 'sectionState', [1]),
    'MemmapStore.sectionTemplate': on(ms, 'sectionTemplate', [1]),
    'MemmapStore.setBuddyOrder': on(ms, 'setBuddyOrder', [p, 0]),
    'MemmapStore.setPageblockMigratetype': on(ms, 'setPageblockMigratetype', [HOT, 1]),
    'MemmapStore.setPageblockMigratetypeRange': on(ms, 'setPageblockMigratetypeRange', [HOT, 512, 1]),
    'MemmapStore.setPageCount': on(ms, 'setPageCount', [p, 1], minus1At(1) /* an int */),
    'MemmapStore.setPageFlag': on(ms, 'setPageFlag', [p, PG_dirty]),
    'MemmapStore.setPageFlagsWord': on(ms, 'setPageFlagsWord', [p, 0, 0]),
    'MemmapStore.setPageIndex': on(ms, 'setPageIndex', [p, 0]),
    'MemmapStore.setPageLinks': on(ms, 'setPageLinks', [p, c.ZONE_NORMAL, 0]),
    // _mapcount is stored biased by one: -1 is "not mapped"
    'MemmapStore.setPageMapcountRaw': on(ms, 'setPageMapcountRaw', [p, -1], minus1At(1)),
    'MemmapStore.setPageMapping': on(ms, 'setPageMapping', [p, undefined], anyAt(1) /* an opaque pointer: any value */),
    'MemmapStore.setPageOffline': on(ms, 'setPageOffline', [p]),
    'MemmapStore.setPagePgmap': on(ms, 'setPagePgmap', [DEV, {}], anyAt(1)),
    'MemmapStore.setPagePrivate': on(ms, 'setPagePrivate', [p, 0]),
    'MemmapStore.setPageReserved': on(ms, 'setPageReserved', [p]),
    'MemmapStore.setPageType': on(ms, 'setPageType', [p, 0x80]),
    'MemmapStore.setPageZoneDeviceData': on(ms, 'setPageZoneDeviceData', [DEV, {}], anyAt(1)),
    'MemmapStore.stats': noParams,
    'MemmapStore.testClearPageFlag': on(ms, 'testClearPageFlag', [p, PG_dirty]),
    'MemmapStore.testPageFlag': on(ms, 'testPageFlag', [p, PG_dirty]),
    'MemmapStore.testSetPageFlag': on(ms, 'testSetPageFlag', [p, PG_dirty]),
    'MemmapStore.updateRange': { ...on(ms, 'updateRange', [HOT, 16, online]), allowField: (_i, f, v) => f === 'setFlags' && v === undefined /* optional */ },
    'MemmapStore.writeStructPage': { args: () => [p, ms.readStructPage(p)], call: ([x, v]) => ms.writeStructPage(n(x), v as StructPage), allowField: allOnes },

    // --- the page allocator
    'MmCore.adjustManagedPageCount': on(mm, 'adjustManagedPageCount', [p, 1], minus1At(1) /* a count, signed */),
    'MmCore.allocNodeData': on(mm, 'allocNodeData', [1]),
    'MmCore.allocPages': on(mm, 'allocPages', [GFP_KERNEL, 0]),
    'MmCore.allocPagesNode': on(mm, 'allocPagesNode', [0, GFP_KERNEL, 0], minus1At(0) /* NUMA_NO_NODE */),
    'MmCore.bootMemory': on(mm, 'bootMemory', [[{ startPfn: 0x100, endPfn: 0x4000, nid: 0 }], []]),
    'MmCore.buddyinfo': noParams,
    'MmCore.buildAllZonelists': noParams,
    'MmCore.clearPage': on(mm, 'clearPage', [p]),
    'MmCore.copyHighpage': on(mm, 'copyHighpage', [p, p]),
    'MmCore.dumpPage': on(mm, 'dumpPage', [p, 'x'], anyAt(1) /* any reason text */),
    'MmCore.findBuddyPfn': on(mm, 'findBuddyPfn', [HOT, 0]),
    'MmCore.freeAreaInit': on(mm, 'freeAreaInit', [[{ startPfn: 0x100, endPfn: 0x4000, nid: 0 }]]),
    'MmCore.freeBlockOf': on(mm, 'freeBlockOf', [HOT]),
    'MmCore.freePages': on(mm, 'freePages', [p, 0]),
    'MmCore.freePagesCore': on(mm, 'freePagesCore', [p, 0]),
    'MmCore.freeReservedArea': on(mm, 'freeReservedArea', [0x9000, 0xa000, -1, 'x'], (i, v) => (i === 2 && v === -1) || (i === 3 && v === 'x')),
    'MmCore.freeReservedPage': on(mm, 'freeReservedPage', [0x1]),
    'MmCore.freeReservedPages': on(mm, 'freeReservedPages', [0x1, 1]),
    'MmCore.genericOnlinePage': on(mm, 'genericOnlinePage', [HOT, 0]),
    'MmCore.genericOnlinePages': on(mm, 'genericOnlinePages', [HOT, 16]),
    'MmCore.getPageblockMigratetype': on(mm, 'getPageblockMigratetype', [HOT]),
    'MmCore.globalNodePageState': on(mm, 'globalNodePageState', [0]),
    'MmCore.hasUnmovablePages': { args: () => [z(), HOT, 1, 0], call: ([x, f, mt, fl]) => mm.hasUnmovablePages(x as Zone, n(f) as number, n(mt), n(fl)) },
    'MmCore.initPerZoneWmarkMin': noParams,
    'MmCore.initUnavailableRange': on(mm, 'initUnavailableRange', [0x9f, 0x100, 0, 0]),
    'MmCore.isFreeBuddyPage': on(mm, 'isFreeBuddyPage', [HOT]),
    'MmCore.isolateFreePage': on(mm, 'isolateFreePage', [HOT, 0]),
    'MmCore.memblockFreeAll': on(mm, 'memblockFreeAll', [[]]),
    'MmCore.memmapInitRange': on(mm, 'memmapInitRange', [HOT, 16, 0, c.ZONE_NORMAL, 'hotplug' satisfies MeminitContext, 1]),
    'MmCore.modNodePageState': on(mm, 'modNodePageState', [p, 0, 1], minus1At(2) /* a delta, signed */),
    'MmCore.moveFreepagesBlock': { args: () => [z(), HOT, 1, false], call: ([x, f, mt, cm]) => mm.moveFreepagesBlock(x as Zone, n(f), n(mt), cm as boolean) },
    'MmCore.nodeData': on(mm, 'nodeData', [0]),
    'MmCore.nodeDistance': on(mm, 'nodeDistance', [0, 0]),
    'MmCore.nodeOnline': on(mm, 'nodeOnline', [0]),
    'MmCore.nodePageState': on(mm, 'nodePageState', [0, 0]),
    'MmCore.nodeSetOffline': on(mm, 'nodeSetOffline', [0]),
    'MmCore.nodeSetOnline': on(mm, 'nodeSetOnline', [0]),
    'MmCore.nodeZonelist': on(mm, 'nodeZonelist', [0, GFP_KERNEL]),
    'MmCore.nrFreeBufferPages': noParams,
    'MmCore.nrFreePages': noParams,
    'MmCore.offlineIsolatedPages': on(mm, 'offlineIsolatedPages', [HOT, HOT + 512]),
    'MmCore.onlinePgdats': noParams,
    'MmCore.pagePgdat': on(mm, 'pagePgdat', [p]),
    'MmCore.pagetypeinfo': noParams,
    'MmCore.pageZone': on(mm, 'pageZone', [p]),
    'MmCore.pfnOnline': on(mm, 'pfnOnline', [p]),
    'MmCore.pfnToNid': on(mm, 'pfnToNid', [p]),
    'MmCore.putbackIsolatedPage': on(mm, 'putbackIsolatedPage', [p, 0, 1]),
    'MmCore.putPage': on(mm, 'putPage', [DEV]),
    'MmCore.refreshZoneStatThresholds': noParams,
    'MmCore.registerDevmapPut': on(mm, 'registerDevmapPut', [() => false]),
    'MmCore.registerPfnOnline': on(mm, 'registerPfnOnline', [() => true]),
    'MmCore.reserveBootmemRegion': on(mm, 'reserveBootmemRegion', [0x100, 0x101]),
    'MmCore.setDmaReserve': on(mm, 'setDmaReserve', [0]),
    'MmCore.setMinFreeKbytes': on(mm, 'setMinFreeKbytes', [mm.userMinFreeKbytes]),
    'MmCore.setPageblockMigratetype': on(mm, 'setPageblockMigratetype', [HOT, 1]),
    'MmCore.setupPerCpuPageset': noParams,
    'MmCore.setupPerZoneLowmemReserve': noParams,
    'MmCore.setupPerZoneWmarks': noParams,
    'MmCore.startIsolatePageRange': on(mm, 'startIsolatePageRange', [HOT, HOT + 512, 1, 0]),
    'MmCore.takePageOffBuddy': on(mm, 'takePageOffBuddy', [HOT]),
    'MmCore.testPagesIsolated': on(mm, 'testPagesIsolated', [HOT, HOT + 512, 0]),
    'MmCore.undoIsolatePageRange': on(mm, 'undoIsolatePageRange', [HOT, HOT + 512, 1]),
    'MmCore.zoneinfo': noParams,
    'MmCore.zonePcpReset': { args: () => [z()], call: ([x]) => mm.zonePcpReset(x as Zone) },
    'MmCore.zonePcpUpdate': { args: () => [z()], call: ([x]) => mm.zonePcpUpdate(x as Zone) },
    'MmCore.zones': noParams,
    'MmCore.zoneWatermarkOk': {
      args: () => [z(), 0, 0, c.ZONE_NORMAL, 0, undefined],
      call: ([x, o, mk, hz, af, fp]) => mm.zoneWatermarkOk(x as Zone, n(o), n(mk), n(hz), n(af), fp as number),
      allow: minus1At(5), // free_pages is a long: it can be below zero
    },

    // --- physical memory contents and backings
    'PhysMem.clearPage': on(mm.physmem, 'clearPage', [p]),
    'PhysMem.copy': on(mm.physmem, 'copy', [p * 4096, p * 4096, 8]),
    'PhysMem.copyHighpage': on(mm.physmem, 'copyHighpage', [p, p]),
    'PhysMem.ranges': noParams,
    'PhysMem.read': on(mm.physmem, 'read', [p * 4096, 8]),
    'PhysMem.readInto': on(mm.physmem, 'readInto', [p * 4096, new Uint8Array(8)]),
    'PhysMem.readPage': on(mm.physmem, 'readPage', [p]),
    'PhysMem.readU64': on(mm.physmem, 'readU64', [p * 4096]),
    'PhysMem.registerBacking': {
      args: () => [2 * DEV * 4096, 4096 * 16, new SparseBacking(4096 * 16), 'x'],
      call: ([s, z2, b, nm]) => mm.physmem.registerBacking(n(s), n(z2), b as PhysBacking, nm as string),
      allow: (i, v) => i === 3 && v === 'x',
    },
    'PhysMem.unregisterBacking': on(mm.physmem, 'unregisterBacking', [DEV * 4096]),
    'PhysMem.write': on(mm.physmem, 'write', [p * 4096, new Uint8Array([9])]),
    'PhysMem.writeU64': on(mm.physmem, 'writeU64', [p * 4096, 7n]),
    'PhysMem.zero': on(mm.physmem, 'zero', [p * 4096, 8]),
    'SparseBacking.copyFrom': { args: () => [new SparseBacking(8192), 0, 0, 8], call: ([s, so, d, l]) => w.backing.copyFrom(s as PhysBacking, n(so), n(d), n(l)) },
    'SparseBacking.read': on(w.backing, 'read', [4096, new Uint8Array(4)]),
    'SparseBacking.write': on(w.backing, 'write', [4096, new Uint8Array([1])]),
    'SparseBacking.zero': on(w.backing, 'zero', [4096, 4]),
  };

  it('the table covers every function and method of the API report, and nothing else', () => {
    const keys = [...new Set(ENTRIES.map((e) => e.key))].sort();
    expect(keys.length).toBeGreaterThan(200);
    expect(Object.keys(specs).sort()).toEqual(keys);
  });

  it('each bad value in each parameter is refused with a KernelError or KernelBug, the machine unchanged', () => {
    const t = abuse(ENTRIES, specs, w.snap, refused);
    expect(t.failures).toEqual([]);
    expect(t.calls).toBeGreaterThan(3000);
    // the world still works: the page is allocated and the hot-added block is free
    expect(ms.pageRefCount(p)).toBe(1);
    expect(mm.nrFreePages()).toBeGreaterThan(PPS / 2);
  });
});

const num = (x: unknown): number => x as number;

function refusal(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (isKernelError(e)) return e.errno;
    if (isKernelBug(e)) return e.message;
    return `neither KernelError nor KernelBug: ${String(e)}`;
  }
  return undefined;
}

const state = (mm: MmCoreT): string => `${snapshot(mm)}\n${mm.zoneinfo()}\n${mm.buddyinfo()}\ntotalram ${mm.totalramPages}`;

describe('freePages (__free_pages, mm/page_alloc.c) at the boundary', () => {
  it('refuses a bad pfn or order with EINVAL and changes nothing', () => {
    const mm = boot(SMALL);
    const p = mm.allocPages(GFP_KERNEL, 0)!;
    const before = state(mm);
    for (const v of [...BAD, 11, 64]) expect(refusal(() => mm.freePages(p, num(v)))).toBe('EINVAL');
    for (const v of BAD) expect(refusal(() => mm.freePages(v as number, 0))).toBe('EINVAL');
    expect(state(mm)).toBe(before);
    mm.freePages(p, 0);
    expect(state(mm)).not.toBe(before);
  });

  it('freeing an order-0 page as order 2 is "Bad page state": reported, refused, nothing leaked', () => {
    const mm = boot(SMALL);
    const p = mm.allocPages(GFP_KERNEL, 0)!;
    const before = state(mm);
    const lines = mm.kernel.log.lines.length;
    const tail = p + 1;
    const text = `BUG: Bad page state in process swapper/0  pfn:${tail.toString(16).padStart(5, '0')}`;
    expect(refusal(() => mm.freePages(p, 2))).toBe(text);
    expect(() => mm.freePages(p, 2)).toThrow(KernelBug);
    expect(state(mm)).toBe(before);
    const report = mm.kernel.log.lines.slice(lines, lines + 4).map((l) => l.text);
    expect(report[0]).toBe(text);
    expect(report[3]).toMatch(/^page dumped because: (nonzero mapcount|nonzero _refcount)$/);
    // the page was not leaked: freeing it with its real order works
    mm.freePages(p, 0);
    const mm2 = boot(SMALL);
    const q = mm2.allocPages(GFP_KERNEL, 0)!;
    mm2.freePages(q, 0);
    expect(snapshot(mm)).toBe(snapshot(mm2));
  });
});

describe('VM_BUG_ON checks are KernelBug', () => {
  it('freeing a page twice is VM_BUG_ON_PAGE(page_ref_count(page) == 0), a KernelBug, and changes nothing', () => {
    const mm = boot(SMALL);
    const p = mm.allocPages(GFP_KERNEL, 0)!;
    mm.freePages(p, 0);
    const before = state(mm);
    expect(refusal(() => mm.freePages(p, 0))).toBe(`BUG: VM_BUG_ON_PAGE(page_ref_count(page) == 0): pfn 0x${p.toString(16)}`);
    expect(() => mm.freePages(p, 0)).toThrow(KernelBug);
    expect(state(mm)).toBe(before);
  });
});

describe('genericOnlinePages (online_pages_range) at the boundary', () => {
  it('onlining a range that is already online is refused before managed pages change', () => {
    const mm = boot(SMALL);
    const start = (128 * MiB) / mm.config.pageSize;
    const nr = (128 * MiB) / mm.config.pageSize;
    hotAdd(mm, start, nr, 2 /* ZONE_NORMAL */);
    const before = state(mm);
    const text = `BUG: Bad page state in process swapper/0  pfn:${start.toString(16).padStart(5, '0')}`;
    expect(refusal(() => mm.genericOnlinePages(start as number, nr))).toBe(text);
    expect(refusal(() => mm.genericOnlinePage(start as number, 10))).toBe(text);
    expect(state(mm)).toBe(before);
  });

  it('refuses a bad pfn, count or order with EINVAL and changes nothing', () => {
    const mm = boot(SMALL);
    const before = state(mm);
    for (const v of BAD) {
      expect(refusal(() => mm.genericOnlinePages(v as number, 512))).toBe('EINVAL');
      expect(refusal(() => mm.genericOnlinePages(0x8000 as number, num(v)))).toBe('EINVAL');
      expect(refusal(() => mm.genericOnlinePage(0x8000 as number, num(v)))).toBe('EINVAL');
    }
    expect(state(mm)).toBe(before);
  });
});

describe('the other exported entry points', () => {
  it('allocPages, freeReservedPages, adjustManagedPageCount, setMinFreeKbytes, setDmaReserve and isolation refuse bad numbers', () => {
    const mm = boot(SMALL);
    const p = mm.allocPages(GFP_KERNEL, 0)!;
    const before = state(mm);
    for (const v of BAD) {
      expect(refusal(() => mm.allocPages(GFP_KERNEL, num(v)))).toBe('EINVAL');
      expect(refusal(() => mm.allocPages(num(v), 0))).toBe('EINVAL');
      if (v !== -1) expect(refusal(() => mm.allocPagesNode(num(v), GFP_KERNEL, 0))).toBe('EINVAL'); // -1 is NUMA_NO_NODE
      expect(refusal(() => mm.freeReservedPages(v as number, 1))).toBe('EINVAL');
      expect(refusal(() => mm.freeReservedPages(p, num(v)))).toBe('EINVAL');
      expect(refusal(() => mm.freeReservedArea(num(v), 0x2000, -1))).toBe('EINVAL');
      expect(refusal(() => mm.setMinFreeKbytes(num(v)))).toBe('EINVAL');
      expect(refusal(() => mm.setDmaReserve(num(v)))).toBe('EINVAL');
      expect(refusal(() => mm.isolateFreePage(p, num(v)))).toBe('EINVAL');
      expect(refusal(() => mm.findBuddyPfn(num(v), 0))).toBe('EINVAL');
      expect(refusal(() => mm.findBuddyPfn(0, num(v)))).toBe('EINVAL');
      if (v !== -1) expect(refusal(() => mm.adjustManagedPageCount(p, num(v)))).toBe('EINVAL');
    }
    expect(state(mm)).toBe(before);
  });

  it('the memmap, pageblock, isolation and node entry points refuse bad numbers with EINVAL', () => {
    const mm = boot(SMALL);
    const z = mm.pageZone(0x1000);
    const before = state(mm);
    for (const v of BAD) {
      const pfn = v as number;
      expect(refusal(() => mm.setPageblockMigratetype(pfn, 1))).toBe('EINVAL');
      expect(refusal(() => mm.setPageblockMigratetype(0x1000, num(v)))).toBe('EINVAL');
      expect(refusal(() => mm.moveFreepagesBlock(z, num(v), 1))).toBe('EINVAL');
      expect(refusal(() => mm.moveFreepagesBlock(z, 0x1000, num(v)))).toBe('EINVAL');
      expect(refusal(() => mm.putbackIsolatedPage(pfn, 0, 1))).toBe('EINVAL');
      expect(refusal(() => mm.reserveBootmemRegion(num(v), 0x4000))).toBe('EINVAL');
      expect(refusal(() => mm.initUnavailableRange(num(v), 0x4000, 1, 0))).toBe('EINVAL');
      expect(refusal(() => mm.memmapInitRange(pfn, 512, 0, 1, 'hotplug', 1))).toBe('EINVAL');
      expect(refusal(() => mm.memmapInitRange(0x1000 as number, num(v), 0, 1, 'hotplug', 1))).toBe('EINVAL');
      expect(refusal(() => mm.startIsolatePageRange(pfn, 0x4000 as number, 4))).toBe('EINVAL');
      expect(refusal(() => mm.undoIsolatePageRange(0x1000 as number, pfn, 4))).toBe('EINVAL');
      expect(refusal(() => mm.testPagesIsolated(pfn, 0x4000 as number))).toBe('EINVAL');
      expect(refusal(() => mm.offlineIsolatedPages(pfn, 0x4000 as number))).toBe('EINVAL');
      expect(refusal(() => mm.freeBlockOf(pfn))).toBe('EINVAL');
      expect(refusal(() => mm.allocNodeData(num(v)))).toBe('EINVAL');
      expect(refusal(() => mm.nodeSetOnline(num(v)))).toBe('EINVAL');
      expect(refusal(() => mm.nodeSetOffline(num(v)))).toBe('EINVAL');
      expect(refusal(() => mm.clearPage(pfn))).toBe('EINVAL');
      expect(refusal(() => mm.memmap.getPage(pfn))).toBe('EINVAL');
    }
    expect(state(mm)).toBe(before);
  });

  it('a pfn without a memmap is the kernel oops "unable to handle page fault", a KernelBug', () => {
    const mm = boot(SMALL);
    const before = state(mm);
    const pfn = (4 * 2 ** 30) / mm.config.pageSize;
    expect(refusal(() => mm.freeReservedPages(pfn as number, 1))).toMatch(/^BUG: unable to handle page fault: no struct page for pfn 0x100000 /);
    expect(refusal(() => mm.memmap.getPage(pfn))).toMatch(/^BUG: unable to handle page fault: no struct page for pfn 0x100000 /);
    expect(state(mm)).toBe(before);
  });
});
