/**
 * API abuse: the page allocator's exported entry points called with values
 * no C caller could pass (NaN, infinities, negatives, fractions, integers
 * beyond 2^53, 2^64, undefined, a string), and with the two misuses the
 * kernel itself detects: freeing a block with the wrong order and onlining
 * pages that are already online. Each answer is a KernelError (EINVAL) or a
 * KernelBug with the kernel's "BUG: Bad page state" text, and the allocator
 * is left exactly as it was (the full snapshot and /proc/zoneinfo).
 */
import { describe, expect, it } from 'vitest';
import { KernelBug, isKernelBug, isKernelError } from '@zonedev/kernel';
import { GFP_KERNEL } from '../src/gfp.js';
import type { MmCore } from '../src/page-alloc.js';
import type { Pfn } from '../src/struct-page.js';
import { MiB, boot, hotAdd, snapshot } from './machines.js';

const BAD: readonly unknown[] = [NaN, Infinity, -Infinity, -1, 1.5, 2 ** 53 + 2, 2 ** 64, undefined, 'x'];
const SMALL = { memory: [{ start: 0x1000, end: 0x9f000 }, { start: 0x100000, end: 64 * MiB }] };
const n = (x: unknown): number => x as number;

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

const state = (mm: MmCore): string => `${snapshot(mm)}\n${mm.zoneinfo()}\n${mm.buddyinfo()}\ntotalram ${mm.totalramPages}`;

describe('freePages (__free_pages, mm/page_alloc.c) at the boundary', () => {
  it('refuses a bad pfn or order with EINVAL and changes nothing', () => {
    const mm = boot(SMALL);
    const p = mm.allocPages(GFP_KERNEL, 0)!;
    const before = state(mm);
    for (const v of [...BAD, 11, 64]) expect(refusal(() => mm.freePages(p, n(v)))).toBe('EINVAL');
    for (const v of BAD) expect(refusal(() => mm.freePages(v as Pfn, 0))).toBe('EINVAL');
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
    expect(refusal(() => mm.genericOnlinePages(start as Pfn, nr))).toBe(text);
    expect(refusal(() => mm.genericOnlinePage(start as Pfn, 10))).toBe(text);
    expect(state(mm)).toBe(before);
  });

  it('refuses a bad pfn, count or order with EINVAL and changes nothing', () => {
    const mm = boot(SMALL);
    const before = state(mm);
    for (const v of BAD) {
      expect(refusal(() => mm.genericOnlinePages(v as Pfn, 512))).toBe('EINVAL');
      expect(refusal(() => mm.genericOnlinePages(0x8000 as Pfn, n(v)))).toBe('EINVAL');
      expect(refusal(() => mm.genericOnlinePage(0x8000 as Pfn, n(v)))).toBe('EINVAL');
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
      expect(refusal(() => mm.allocPages(GFP_KERNEL, n(v)))).toBe('EINVAL');
      expect(refusal(() => mm.allocPages(n(v), 0))).toBe('EINVAL');
      if (v !== -1) expect(refusal(() => mm.allocPagesNode(n(v), GFP_KERNEL, 0))).toBe('EINVAL'); // -1 is NUMA_NO_NODE
      expect(refusal(() => mm.freeReservedPages(v as Pfn, 1))).toBe('EINVAL');
      expect(refusal(() => mm.freeReservedPages(p, n(v)))).toBe('EINVAL');
      expect(refusal(() => mm.freeReservedArea(n(v), 0x2000, -1))).toBe('EINVAL');
      expect(refusal(() => mm.setMinFreeKbytes(n(v)))).toBe('EINVAL');
      expect(refusal(() => mm.setDmaReserve(n(v)))).toBe('EINVAL');
      expect(refusal(() => mm.isolateFreePage(p, n(v)))).toBe('EINVAL');
      expect(refusal(() => mm.findBuddyPfn(n(v), 0))).toBe('EINVAL');
      expect(refusal(() => mm.findBuddyPfn(0, n(v)))).toBe('EINVAL');
      if (v !== -1) expect(refusal(() => mm.adjustManagedPageCount(p, n(v)))).toBe('EINVAL');
    }
    expect(state(mm)).toBe(before);
  });

  it('the memmap, pageblock, isolation and node entry points refuse bad numbers with EINVAL', () => {
    const mm = boot(SMALL);
    const z = mm.pageZone(0x1000);
    const before = state(mm);
    for (const v of BAD) {
      const pfn = v as Pfn;
      expect(refusal(() => mm.setPageblockMigratetype(pfn, 1))).toBe('EINVAL');
      expect(refusal(() => mm.setPageblockMigratetype(0x1000, n(v)))).toBe('EINVAL');
      expect(refusal(() => mm.moveFreepagesBlock(z, n(v), 1))).toBe('EINVAL');
      expect(refusal(() => mm.moveFreepagesBlock(z, 0x1000, n(v)))).toBe('EINVAL');
      expect(refusal(() => mm.putbackIsolatedPage(pfn, 0, 1))).toBe('EINVAL');
      expect(refusal(() => mm.reserveBootmemRegion(n(v), 0x4000))).toBe('EINVAL');
      expect(refusal(() => mm.initUnavailableRange(n(v), 0x4000, 1, 0))).toBe('EINVAL');
      expect(refusal(() => mm.memmapInitRange(pfn, 512, 0, 1, 'hotplug', 1))).toBe('EINVAL');
      expect(refusal(() => mm.memmapInitRange(0x1000 as Pfn, n(v), 0, 1, 'hotplug', 1))).toBe('EINVAL');
      expect(refusal(() => mm.startIsolatePageRange(pfn, 0x4000 as Pfn, 4))).toBe('EINVAL');
      expect(refusal(() => mm.undoIsolatePageRange(0x1000 as Pfn, pfn, 4))).toBe('EINVAL');
      expect(refusal(() => mm.testPagesIsolated(pfn, 0x4000 as Pfn))).toBe('EINVAL');
      expect(refusal(() => mm.offlineIsolatedPages(pfn, 0x4000 as Pfn))).toBe('EINVAL');
      expect(refusal(() => mm.freeBlockOf(pfn))).toBe('EINVAL');
      expect(refusal(() => mm.allocNodeData(n(v)))).toBe('EINVAL');
      expect(refusal(() => mm.nodeSetOnline(n(v)))).toBe('EINVAL');
      expect(refusal(() => mm.nodeSetOffline(n(v)))).toBe('EINVAL');
      expect(refusal(() => mm.clearPage(pfn))).toBe('EINVAL');
      if (v !== 1.5) expect(refusal(() => mm.memmap.getPage(pfn))).toBe('EINVAL');
    }
    expect(state(mm)).toBe(before);
  });

  it('a pfn without a memmap is the kernel oops "unable to handle page fault", a KernelBug', () => {
    const mm = boot(SMALL);
    const before = state(mm);
    const pfn = (4 * 2 ** 30) / mm.config.pageSize;
    expect(refusal(() => mm.freeReservedPages(pfn as Pfn, 1))).toMatch(/^BUG: unable to handle page fault: no struct page for pfn 0x100000 /);
    expect(refusal(() => mm.memmap.getPage(pfn))).toMatch(/^BUG: unable to handle page fault: no struct page for pfn 0x100000 /);
    expect(state(mm)).toBe(before);
  });
});
