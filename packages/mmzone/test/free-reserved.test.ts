// free_reserved_page(), free_reserved_area() and pfn_to_nid(): what a layer
// above needs to hand boot-reserved memory (a boot-time memmap, initmem) to
// the buddy allocator and to place memmap on a node. Contract test: the
// package is imported by name (the zone's NR_FREE_PAGES counter, which is
// not part of the API, is read through the package's src).
import { describe, expect, it } from 'vitest';
import { Kernel, isKernelError } from '@zonedev/kernel';
import { MmCore, PG_reserved } from '@zonedev/mmzone';
import { NR_FREE_PAGES } from '../src/vmstat-items.js';
import { zonePageState } from '../src/mmzone.js';
import type { MemblockRegion } from '@zonedev/mmzone';
import { MiB, X86_64, snapshot } from './machines.js';

const IMAGE = { startPfn: (16 * MiB) / 4096, endPfn: (32 * MiB) / 4096 }; // "the kernel image", reserved

/** 512 MiB on node 0 and 512 MiB on node 1 (at 4 GiB), 16..32 MiB reserved. */
function machine(): MmCore {
  const mm = new MmCore({ kernel: new Kernel({ seed: 3 }), config: X86_64, nodes: [0, 1] });
  const memory: MemblockRegion[] = [
    { startPfn: 1, endPfn: (512 * MiB) / 4096, nid: 0 },
    { startPfn: (4096 * MiB) / 4096, endPfn: (4608 * MiB) / 4096, nid: 1 },
  ];
  for (const r of memory) {
    for (let nr = mm.memmap.pfnToSectionNr(r.startPfn); nr <= mm.memmap.pfnToSectionNr(r.endPfn - 1); nr++) mm.memmap.initSection(nr);
  }
  mm.bootMemory(memory, [IMAGE]);
  return mm;
}

describe('free_reserved_page / free_reserved_area', () => {
  it('free_reserved_page() gives one reserved page to the buddy and counts it managed', () => {
    const mm = machine();
    const pfn = (IMAGE.startPfn + 5) as number;
    const zone = mm.pageZone(pfn);
    const [free, managed, totalram] = [mm.nrFreePages(), zone.managedPages, mm.totalramPages];
    expect(mm.memmap.pageReserved(pfn)).toBe(true);
    mm.freeReservedPage(pfn);
    expect(mm.memmap.pageReserved(pfn)).toBe(false);
    expect(mm.memmap.pageRefCount(pfn)).toBe(0);
    expect(mm.freeBlockOf(pfn)).toEqual({ head: pfn, order: 0 });
    expect([mm.nrFreePages(), zone.managedPages, mm.totalramPages]).toEqual([free + 1, managed + 1, totalram + 1]);
    expect(zonePageState(zone, NR_FREE_PAGES)).toBeGreaterThan(0);
  });

  it('freeing a whole reserved range page by page merges it back into MAX_ORDER blocks', () => {
    const mm = machine();
    const free = mm.nrFreePages();
    const n = IMAGE.endPfn - IMAGE.startPfn;
    mm.freeReservedPages(IMAGE.startPfn, n);
    expect(mm.nrFreePages()).toBe(free + n);
    for (let pfn = IMAGE.startPfn; pfn < IMAGE.endPfn; pfn += 1024) {
      expect(mm.freeBlockOf(pfn)).toEqual({ head: pfn, order: 10 });
      expect(mm.memmap.testPageFlag(pfn + 1, PG_reserved)).toBe(false);
    }
    expect(mm.freeReservedPages(IMAGE.startPfn, 0)).toBeUndefined();
  });

  it('free_reserved_area() page-aligns the range, poisons, logs and returns the pages freed', () => {
    const mm = machine();
    const start = 16 * MiB + 1; // PAGE_ALIGN(start): the next page
    const end = 16 * MiB + 9 * 4096 + 100; // end & PAGE_MASK
    mm.kernel.tracer.on();
    const n = mm.freeReservedArea(start, end, 0xcc, 'unused kernel image (initmem)');
    mm.kernel.tracer.off();
    expect(n).toBe(8);
    expect(mm.kernel.log.lines.at(-1)!.text).toBe('Freeing unused kernel image (initmem) memory: 32K');
    expect(mm.memmap.pageReserved(IMAGE.startPfn)).toBe(true);
    expect(mm.memmap.pageReserved(IMAGE.startPfn + 1)).toBe(false);
    expect(mm.memmap.pageReserved(IMAGE.startPfn + 9)).toBe(true);
    expect(mm.physmem.readPage(IMAGE.startPfn + 3).every((b) => b === 0xcc)).toBe(true);
    expect(mm.physmem.readPage(IMAGE.startPfn + 9).every((b) => b === 0)).toBe(true);
    const names = mm.kernel.tracer.events.filter((e) => e.kind === 'entry').map((e) => e.name);
    expect(names[0]).toBe('free_reserved_area');
    expect(names.filter((x) => x === '__free_pages')).toHaveLength(8);
    expect(names.filter((x) => x === 'adjust_managed_page_count')).toHaveLength(8);
    // poison -1: no memset; no name: no message; an empty range frees nothing
    const lines = mm.kernel.log.lines.length;
    expect(mm.freeReservedArea(20 * MiB, 20 * MiB + 4096, -1)).toBe(1);
    expect(mm.freeReservedArea(20 * MiB + 4096, 20 * MiB + 4096, 0, 'nothing')).toBe(0);
    expect(mm.kernel.log.lines.length).toBe(lines);
  });

  it('a range with a pfn that has no memmap fails before changing anything', () => {
    const mm = machine();
    const before = snapshot(mm);
    const hole = (512 * MiB) / 4096; // the end of node 0: no memmap above
    expect(() => mm.freeReservedPages(hole - 4, 8)).toThrow(/no struct page for pfn 0x20000 \(section 4 has no memmap\)/);
    expect(() => mm.freeReservedArea((hole - 4) * 4096, (hole + 4) * 4096, 0xaa, 'x')).toThrow(/no struct page/);
    expect(() => mm.freeReservedPage(hole)).toThrow(/no struct page/);
    let err: unknown;
    try {
      mm.freeReservedPages(-1, 2);
    } catch (e) {
      err = e;
    }
    expect(isKernelError(err, 'EINVAL')).toBe(true);
    expect(() => mm.freeReservedArea(Number.NaN, 4096, 0)).toThrow(/invalid range/);
    expect(snapshot(mm)).toBe(before);
    expect(mm.physmem.readPage(hole - 4).every((b) => b === 0)).toBe(true);
    expect(mm.memmap.pageReserved(IMAGE.startPfn)).toBe(true);
  });
});

describe('pfn_to_nid', () => {
  it('is the node in the page flags', () => {
    const mm = machine();
    expect(mm.pfnToNid(IMAGE.startPfn)).toBe(0);
    expect(mm.pfnToNid((4096 * MiB) / 4096 + 77)).toBe(1);
    expect(mm.pfnToNid((4096 * MiB) / 4096 + 77)).toBe(mm.pagePgdat((4096 * MiB) / 4096 + 77).nodeId);
  });

  it('reads section_to_node_table when the node is not in the flags', () => {
    const arch = { ...X86_64, sparsememVmemmap: false, maxPhysmemBits: 52, nodesShift: 12 };
    const mm = new MmCore({ kernel: new Kernel(), config: arch, nodes: [0, 4000] });
    expect(mm.config.layout.NODE_NOT_IN_PAGE_FLAGS).toBe(true);
    mm.memmap.initSection(2);
    mm.memmapInitRange((2 * 32768) as number, 32768, 4000, mm.config.ZONE_NORMAL, 'hotplug', 1);
    expect(mm.pfnToNid(2 * 32768 + 5)).toBe(4000);
  });

  it('oopses on a pfn without a memmap', () => {
    expect(() => machine().pfnToNid((1024 * MiB) / 4096)).toThrow(/no struct page for pfn 0x40000/);
  });
});
