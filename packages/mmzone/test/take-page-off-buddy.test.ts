// take_page_off_buddy() and is_free_buddy_page() (mm/page_alloc.c, v5.13):
// memory failure takes one page out of a free block; the rest of the block
// goes back to the free lists in halves, and NR_FREE_PAGES drops by one.
import { describe, expect, it } from 'vitest';
import { isKernelError } from '@zonedev/kernel';
import { GFP_KERNEL } from '../src/gfp.js';
import { zonePageState } from '../src/mmzone.js';
import type { Zone } from '../src/mmzone.js';
import type { MmCore } from '../src/page-alloc.js';
import { NR_FREE_PAGES } from '../src/vmstat-items.js';
import { MiB, boot } from './machines.js';

const SMALL = { memory: [{ start: 0x1000, end: 0x9f000 }, { start: 0x100000, end: 64 * MiB }] };
const zone = (mm: MmCore, name: string): Zone => mm.nodeData(0)!.nodeZones.find((z) => z.name === name)!;

describe('take_page_off_buddy()', () => {
  it('splits the order-10 block around the page: one block of each lower order back on the lists', () => {
    const mm = boot(SMALL);
    const z = zone(mm, 'DMA32');
    const target = 4096 + 777;
    expect(mm.freeBlockOf(target)).toEqual({ head: 4096, order: 10 });
    const counts = (): number[] => Array.from({ length: 11 }, (_, o) => z.freeLists.nrFree(o));
    const before = counts();
    const free = zonePageState(z, NR_FREE_PAGES);
    expect(mm.isFreeBuddyPage(target)).toBe(true);
    expect(mm.takePageOffBuddy(target)).toBe(true);
    expect(mm.isFreeBuddyPage(target)).toBe(false);
    expect(mm.memmap.pageRefCount(target)).toBe(0);
    expect(zonePageState(z, NR_FREE_PAGES)).toBe(free - 1);
    // every other page of the block is free, in the halves break_down_buddy_pages() leaves
    for (let p = 4096; p < 4096 + 1024; p++) if (p !== target) expect(mm.isFreeBuddyPage(p)).toBe(true);
    expect(mm.freeBlockOf(4096)).toEqual({ head: 4096, order: 9 });
    expect(mm.freeBlockOf(4096 + 776)).toEqual({ head: 4096 + 776, order: 0 });
    expect(mm.freeBlockOf(4096 + 778)).toEqual({ head: 4096 + 778, order: 1 });
    const after = counts();
    expect(after[10]).toBe(before[10]! - 1);
    for (let o = 0; o < 10; o++) expect(after[o]).toBe(before[o]! + 1);
    // the page can never be allocated now: all of DMA32 goes without it
    const got = new Set<number>();
    for (;;) {
      const p = mm.allocPages(GFP_KERNEL, 0);
      if (p === undefined) break;
      got.add(p);
    }
    expect(got.has(target)).toBe(false);
  });

  it('refuses a page in use, changing nothing', () => {
    const mm = boot(SMALL);
    const p = mm.allocPages(GFP_KERNEL, 0)!;
    const z = mm.pageZone(p);
    const free = zonePageState(z, NR_FREE_PAGES);
    expect(mm.isFreeBuddyPage(p)).toBe(false);
    expect(mm.takePageOffBuddy(p)).toBe(false);
    expect(zonePageState(z, NR_FREE_PAGES)).toBe(free);
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 60]) {
      let errno = '';
      try {
        mm.takePageOffBuddy(bad);
      } catch (e) {
        if (isKernelError(e)) errno = e.errno;
      }
      expect(errno).toBe('EINVAL');
    }
  });
});
