// Test architectures and a tiny boot helper for the mmzone tests.
//
// The platform profiles of apps/demo implement MmArchConfig for real; these
// are the small stand-ins the tests use (docs/ARCHITECTURE.md: a package's tests use a
// test architecture of their own).
import { Kernel } from '@zonedev/kernel';
import { MmCore } from '../src/page-alloc.js';
import type { MemblockRegion, PfnRange } from '../src/page-alloc.js';
import type { MmArchConfig } from '../src/config.js';
import { resizePgdatRange, resizeZoneRange } from '../src/mmzone.js';
import { PG_reserved, flagsWordSet } from '../src/page-flags.js';
import { makeStructPage } from '../src/struct-page.js';

/** x86_64, 4-level paging, a distribution-like v5.13 config. */
export const X86_64: MmArchConfig = {
  name: 'x86_64',
  pageShift: 12,
  nodesShift: 10,
  maxOrder: 11,
  pageblockOrder: 9,
  sectionSizeBits: 27,
  maxPhysmemBits: 46,
  zoneDma: true,
  zoneDma32: true,
  zoneDevice: true,
  archUsesPgUncached: true,
};

/** powerpc64 book3s, hash MMU with 64 KiB pages: no DMA zones. */
export const PPC64: MmArchConfig = {
  name: 'powerpc64',
  pageShift: 16,
  nodesShift: 8,
  maxOrder: 9,
  pageblockOrder: 8,
  sectionSizeBits: 24,
  maxPhysmemBits: 51,
  zoneDma: false,
  zoneDma32: false,
  zoneDevice: true,
};

export const MiB = 2 ** 20;
export const GiB = 2 ** 30;

export interface BootOptions {
  readonly arch?: MmArchConfig;
  /** Memory ranges in bytes: [start, end) with a node. */
  readonly memory?: readonly { start: number; end: number; nid?: number }[];
  /** `set_dma_reserve()` before free_area_init() (default 0). */
  readonly dmaReserve?: number;
  /** Reserved ranges in bytes. */
  readonly reserved?: readonly { start: number; end: number }[];
  readonly nodes?: readonly number[];
  readonly seed?: number;
}

/**
 * Boots a machine: registers the memmap of every section the memory touches
 * (what sparse_init() would do), then runs the mm boot sequence.
 */
export function boot(o: BootOptions = {}): MmCore {
  const arch = o.arch ?? X86_64;
  const kernel = new Kernel({ seed: o.seed ?? 1 });
  const nodes = o.nodes ?? [...new Set((o.memory ?? [{ start: 0, end: 0, nid: 0 }]).map((m) => m.nid ?? 0))];
  const mm = new MmCore({ kernel, config: arch, nodes });
  const ps = mm.config.pageSize;
  const memory: MemblockRegion[] = (o.memory ?? [{ start: 0x1000, end: 256 * MiB }]).map((m) => ({
    startPfn: Math.ceil(m.start / ps),
    endPfn: Math.floor(m.end / ps),
    nid: m.nid ?? 0,
  }));
  for (const r of memory) {
    for (let nr = mm.memmap.pfnToSectionNr(r.startPfn); nr <= mm.memmap.pfnToSectionNr(r.endPfn - 1); nr++) {
      if (!mm.memmap.hasSection(nr)) mm.memmap.initSection(nr);
    }
  }
  const reserved: PfnRange[] = (o.reserved ?? []).map((r) => ({ startPfn: Math.floor(r.start / ps), endPfn: Math.ceil(r.end / ps) }));
  if (o.dmaReserve !== undefined) mm.setDmaReserve(o.dmaReserve);
  mm.bootMemory(memory, reserved);
  return mm;
}

/**
 * What memory-hotplug's add + online will do with this package's
 * primitives (online_pages() of v5.13): memmap for the sections,
 * move_pfn_range_to_zone() with MIGRATE_ISOLATE, release to the buddy
 * allocator, undo the isolation, recompute the watermarks.
 */
export function hotAdd(mm: MmCore, startPfn: number, nrPages: number, zoneIdx: number, nid: number = 0): void {
  for (let nr = mm.memmap.pfnToSectionNr(startPfn); nr <= mm.memmap.pfnToSectionNr(startPfn + nrPages - 1); nr++) {
    if (!mm.memmap.hasSection(nr)) mm.memmap.initSection(nr);
  }
  const pgdat = mm.nodeData(nid) ?? mm.allocNodeData(nid);
  if (!mm.nodeOnline(nid)) mm.nodeSetOnline(nid);
  const zone = pgdat.nodeZones[zoneIdx]!;
  resizeZoneRange(zone, startPfn, nrPages);
  resizePgdatRange(pgdat, startPfn, nrPages);
  mm.memmapInitRange(startPfn as number, nrPages, nid, zoneIdx, 'hotplug', mm.config.MIGRATE_ISOLATE);
  zone.nrIsolatePageblock += nrPages / mm.config.pageblockNrPages;
  const wasPopulated = zone.presentPages > 0;
  mm.genericOnlinePages(startPfn as number, nrPages);
  zone.presentPages += nrPages;
  pgdat.nodePresentPages += nrPages;
  if (!wasPopulated) {
    mm.zonePcpUpdate(zone);
    mm.buildAllZonelists();
  }
  mm.undoIsolatePageRange(startPfn as number, (startPfn + nrPages) as number, 1 /* MIGRATE_MOVABLE */);
  mm.initPerZoneWmarkMin();
}

/**
 * What memremap_pages() will do for a ZONE_DEVICE range: memmap, zone and
 * node spans, present pages, and memmap_init_zone_device(): every page
 * reserved, refcount 1, pgmap set, pageblocks MOVABLE.
 */
export function addDeviceRange(mm: MmCore, startPfn: number, nrPages: number, pgmap: object, nid: number = 0): void {
  const dev = mm.config.ZONE_DEVICE!;
  for (let nr = mm.memmap.pfnToSectionNr(startPfn); nr <= mm.memmap.pfnToSectionNr(startPfn + nrPages - 1); nr++) {
    if (!mm.memmap.hasSection(nr)) mm.memmap.initSection(nr);
  }
  const pgdat = mm.nodeData(nid)!;
  const zone = pgdat.nodeZones[dev]!;
  resizeZoneRange(zone, startPfn, nrPages);
  resizePgdatRange(pgdat, startPfn, nrPages);
  const base = mm.memmap.initSinglePageTemplate(dev, nid);
  mm.memmap.initRange(startPfn, nrPages, makeStructPage({ pgmap, flagsLo: flagsWordSet(base.flagsLo, PG_reserved) }, base));
  mm.memmap.setPageblockMigratetypeRange(startPfn, nrPages, 1);
  zone.presentPages += nrPages;
}

/** A string capturing every piece of allocator state, to compare before/after a failed call. */
export function snapshot(mm: MmCore): string {
  const c = mm.config;
  const zones = mm.zones().map((z) => {
    const blocks: number[] = [];
    for (let pfn = z.zoneStartPfn - (z.zoneStartPfn % c.pageblockNrPages); pfn < z.zoneStartPfn + z.spannedPages; pfn += c.pageblockNrPages) {
      if (mm.memmap.hasMemmap(pfn)) blocks.push(mm.memmap.getPageblockMigratetype(pfn));
    }
    return {
      node: z.node,
      name: z.name,
      vm: [...z.vmStat],
      numa: [...z.vmNumaStat],
      counts: [z.zoneStartPfn, z.spannedPages, z.presentPages, z.managedPages, z.nrIsolatePageblock],
      wm: [...z.watermark, ...z.lowmemReserve],
      lists: z.freeArea.map((a) => Array.from({ length: c.MIGRATE_TYPES }, (_, mt) => a.freeList(mt))),
      blocks,
    };
  });
  return JSON.stringify({ zones, totalram: mm.totalramPages, memmap: mm.memmap.stats() });
}
