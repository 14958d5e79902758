// Contract test: the package as its consumers see it, through its entry point.
import { describe, expect, it } from 'vitest';
import { Kernel, pfnPhys, physPfn } from '@zonedev/kernel';
import {
  GFP_KERNEL,
  MIGRATE_MOVABLE,
  MmCore,
  PG_reserved,
  STRUCT_PAGE_SIZE,
  createMmConfig,
  makeStructPage,
  renderPageFlagsLayout,
  resizeZoneRange,
} from '@zonedev/mmzone';
import type { MmArchConfig } from '@zonedev/mmzone';

const ARCH: MmArchConfig = {
  name: 'x86_64',
  pageShift: 12,
  nodesShift: 6,
  maxOrder: 11,
  pageblockOrder: 9,
  sectionSizeBits: 27,
  maxPhysmemBits: 46,
  zoneDma: true,
  zoneDma32: true,
  zoneDevice: true,
};

function machine(): MmCore {
  const kernel = new Kernel({ seed: 7 });
  const mm = new MmCore({ kernel, config: ARCH });
  for (let s = 0; s < 4; s++) mm.memmap.initSection(s); // sparse_init()'s part
  mm.bootMemory([{ startPfn: 256, endPfn: 4 * 32768, nid: 0 }]);
  return mm;
}

describe('@zonedev/mmzone, through its entry point', () => {
  it('boots, allocates, frees, and prints /proc/zoneinfo', () => {
    const mm = machine();
    const p = mm.allocPages(GFP_KERNEL, 2);
    expect(p).toBeDefined();
    expect(mm.memmap.pageRefCount(p!)).toBe(1);
    mm.freePages(p!, 2);
    expect(mm.zoneinfo()).toContain('Node 0, zone    DMA32\n');
    expect(renderPageFlagsLayout(mm.config.layout)).toContain('NODE');
  });

  it('pfns are plain numbers, converted with the kernel package\'s PFN_PHYS/PHYS_PFN', () => {
    const pfn = physPfn(0x1234fff, 12);
    expect(pfn).toBe(0x1234);
    expect(pfnPhys(pfn, 12)).toBe(0x1234000);
    expect(STRUCT_PAGE_SIZE).toBe(64);
  });

  it('two machines share no state', () => {
    const a = machine();
    const b = machine();
    a.allocPages(GFP_KERNEL, 10);
    expect(a.buddyinfo()).not.toBe(b.buddyinfo());
    expect(b.kernel.log.dmesg()).not.toContain('failure');
  });

  it('traces kernel functions as a call graph, at no cost when off', () => {
    const mm = machine();
    mm.kernel.tracer.on();
    const p = mm.allocPages(GFP_KERNEL, 0)!;
    mm.freePages(p, 0);
    mm.startIsolatePageRange(0x8000, 0x8000 + 1024, MIGRATE_MOVABLE);
    mm.kernel.tracer.off();
    mm.allocPages(GFP_KERNEL, 0);
    const ev = mm.kernel.tracer.events.filter((e) => e.kind === 'entry').map((e) => `${e.name}(${e.args.join(', ')})`);
    expect(ev).toEqual([
      'alloc_pages(0xcc0, 0)',
      '__rmqueue_fallback(zone(0:DMA32), 0, 0, 0x801)', // ALLOC_KSWAPD | ALLOC_WMARK_LOW
      `__free_pages(0x${p.toString(16)}, 0)`,
      'start_isolate_page_range(0x8000, 0x8400, 1, 0)',
    ]);
    expect(mm.kernel.tracer.show()).toContain(' 0)   alloc_pages(0xcc0, 0) {');
  });

  it('builds the device memmap the way memremap will: one shared template per section', () => {
    const mm = machine();
    const c = createMmConfig(ARCH);
    const dev = c.ZONE_DEVICE!;
    const start = 8 * 32768;
    for (let s = 8; s < 12; s++) mm.memmap.initSection(s);
    const zone = mm.nodeData(0)!.nodeZones[dev]!;
    resizeZoneRange(zone, start, 4 * 32768);
    const pgmap = { type: 'MEMORY_DEVICE_FS_DAX' };
    const base = mm.memmap.initSinglePageTemplate(dev, 0);
    mm.memmap.initRange(start, 4 * 32768, makeStructPage({ pgmap, flagsLo: base.flagsLo + 2 ** PG_reserved }, base));
    expect(mm.memmap.stats().templateSections).toBe(4);
    expect([mm.memmap.pagePgmap(start + 12345), mm.memmap.pageReserved(start + 1), mm.pageZone(start + 99).name]).toEqual([pgmap, true, 'Device']);
  });
});
