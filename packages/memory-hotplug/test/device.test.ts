// The lower half memremap uses for ZONE_DEVICE: arch_add_memory()/add_pages()
// with mhp_params, __add_pages() checks, move_pfn_range_to_zone(ZONE_DEVICE),
// remove_pfn_range_from_zone(), __remove_pages(), and tracing.
import { anyBits } from '@zonedev/kernel';
import { SECTION_TAINT_ZONE_DEVICE, vmemAltmap } from '@zonedev/sparse-vmemmap';
import { MIGRATE_MOVABLE } from '@zonedev/mmzone';
import { describe, expect, it } from 'vitest';
import { GiB, MiB, bootMachine, snapshot } from './machine.js';
import { errno } from './errno.js';

const DEV = 16 * GiB;
const PFN = DEV / 4096;

describe('device memory through arch_add_memory / add_pages', () => {
  it('a GENERIC-like range with an altmap: memmap in the device, Device zone spans it, present stays 0', () => {
    const m = bootMachine();
    const dev = m.mm.config.ZONE_DEVICE!;
    const zone = m.mm.nodeData(0)!.nodeZones[dev]!;
    const free = m.mm.nrFreePages();
    const nr = (256 * MiB) / 4096;
    const altmap = vmemAltmap({ basePfn: PFN, endPfn: PFN + nr - 1, reserve: 2, free: 1534 });
    m.hp.archAddMemory(0, DEV, 256 * MiB, { altmap, pgprot: 'PAGE_KERNEL' });
    expect(m.mm.nrFreePages()).toBe(free);
    expect(altmap.alloc).toBe(1024);
    m.hp.movePfnRangeToZone(zone, PFN, nr, altmap, MIGRATE_MOVABLE);
    expect([zone.zoneStartPfn, zone.spannedPages, zone.presentPages, zone.managedPages]).toEqual([PFN, nr, 0, 0]);
    // only the altmap's memmap pages are initialized here (memmap_init_zone_device does the rest)
    expect(m.mm.pageZone(PFN + 2).zoneIdx).toBe(dev);
    expect(m.mm.memmap.pageReserved(PFN + 2)).toBe(true);
    expect(m.mm.memmap.pageReserved(PFN + 2000)).toBe(false);
    expect(altmap.align).toBe(510);
    m.hp.removePfnRangeFromZone(zone, PFN, nr);
    // v5.13 never shrinks ZONE_DEVICE ("Zone shrinking code cannot properly deal with ZONE_DEVICE")
    expect([zone.zoneStartPfn, zone.spannedPages]).toEqual([PFN, nr]);
    expect(m.mm.memmap.pagePoisoned(PFN + 2)).toBe(true);
    m.hp.archRemoveMemory(0, DEV, 256 * MiB, altmap);
    expect(altmap.alloc).toBe(0);
    expect(m.hp.linearMappings()).toEqual([]);
  });

  it('add_pages (device private: no linear mapping) costs 2 MiB of RAM per section; __remove_pages gives it back', () => {
    const m = bootMachine();
    const free = m.mm.nrFreePages();
    m.hp.addPages(0, PFN, 65536, { pgprot: 'PAGE_KERNEL' });
    expect(m.mm.nrFreePages()).toBe(free - 1024);
    expect(m.hp.linearMappings()).toEqual([]);
    m.hp.removePages(PFN, 65536, undefined);
    expect(m.mm.nrFreePages()).toBe(free);
  });

  it('P2PDMA-like: the linear mapping keeps its uncached pgprot', () => {
    const m = bootMachine();
    m.hp.archAddMemory(0, DEV, 2 * MiB, { pgprot: 'PAGE_KERNEL_NOCACHE' });
    expect(m.hp.linearMappings()).toEqual([{ start: DEV, size: 2 * MiB, pgprot: 'PAGE_KERNEL_NOCACHE' }]);
  });

  it('__add_pages errors leave nothing behind', () => {
    const m = bootMachine();
    const before = snapshot(m);
    expect(() => m.hp.__addPages(0, PFN, 512, { pgprot: undefined })).toThrow(errno('EINVAL'));
    const bad = vmemAltmap({ basePfn: PFN + 1, free: 8 });
    expect(() => m.hp.archAddMemory(0, DEV, 2 * MiB, { altmap: bad, pgprot: 'PAGE_KERNEL' })).toThrow(errno('EINVAL'));
    expect(m.kernel.log.dmesg()).toContain('memory add fail, invalid altmap');
    const big = vmemAltmap({ basePfn: PFN, free: 1024 });
    expect(() => m.hp.__addPages(0, PFN, 512, { altmap: big, pgprot: 'PAGE_KERNEL' })).toThrow(errno('EINVAL'));
    expect(() => m.hp.addPages(0, PFN + 1, 512, { pgprot: 'PAGE_KERNEL' })).toThrow(errno('EINVAL'));
    expect(m.kernel.log.dmesg()).toContain('Misaligned __add_pages start: 0x400001 end: #400200');
    // the second section exists: the first is removed again
    m.hp.addPages(0, PFN + 32768, 32768, { pgprot: 'PAGE_KERNEL' });
    const mid = snapshot(m);
    expect(() => m.hp.archAddMemory(0, DEV, 256 * MiB, { pgprot: 'PAGE_KERNEL' })).toThrow(errno('EEXIST'));
    expect(snapshot(m)).toEqual(mid);
    m.hp.removePages(PFN + 32768, 32768, undefined);
    expect(snapshot(m)).toEqual({ ...(before as object), maxPfn: (DEV + 256 * MiB) / 4096 });
    // -ENOMEM midway (the page allocator fails for good): the sections added so far are removed
    m.mm.failPageAlloc.ignoreGfpReclaim = false;
    const b2 = snapshot(m);
    m.kernel.faults.configure('fail_page_alloc', { probability: 100, space: 1024, times: -1 });
    expect(() => m.hp.addPages(0, PFN, 4 * 32768, { pgprot: 'PAGE_KERNEL' })).toThrow(errno('ENOMEM'));
    m.kernel.faults.disarm('fail_page_alloc');
    expect(snapshot(m)).toEqual(b2);
  });

  it('a device range sharing a section with System RAM taints it: pfn_to_online_page() hides its pages', () => {
    const m = bootMachine({ memory: [{ start: MiB, size: 960 * MiB - MiB, nid: 0 }] });
    const dev = m.mm.nodeData(0)!.nodeZones[m.mm.config.ZONE_DEVICE!]!;
    const start = (960 * MiB) / 4096;
    const nr = (64 * MiB) / 4096;
    m.hp.addPages(0, start, nr, { pgprot: 'PAGE_KERNEL' });
    m.hp.movePfnRangeToZone(dev, start, nr, undefined, MIGRATE_MOVABLE);
    expect(anyBits(m.sparse.pfnToSection(start)!.sectionMemMap, SECTION_TAINT_ZONE_DEVICE)).toBe(true);
    m.mm.memmap.setPagePgmap(start + 5, { pgmap: true }); // what memmap_init_zone_device() sets
    expect(m.hp.pfnToOnlinePage(start + 5)).toBeUndefined();
    expect(m.hp.pfnToOnlinePage(start - 5)).toBe(start - 5);
  });

  it('records a function graph while tracing', () => {
    const m = bootMachine();
    m.kernel.tracer.on();
    m.hp.addMemory(0, 4 * GiB, 128 * MiB);
    m.kernel.sysfs.write('/sys/devices/system/memory/memory32/state', 'online');
    m.kernel.tracer.off();
    const g = m.kernel.tracer.show();
    for (const f of ['add_memory(', 'add_memory_resource(', 'arch_add_memory(', 'add_pages(', '__add_pages(', 'sparse_add_section(', 'memory_block_online(', 'zone_for_pfn_range(', 'online_pages(', 'move_pfn_range_to_zone(']) {
      expect(g).toContain(f);
    }
  });
});
