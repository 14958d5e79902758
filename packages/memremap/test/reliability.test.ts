// Bad input at the boundary of memremap_pages()/memunmap_pages(): refused with
// the kernel's errno and words, and nothing changed.
import { KernelBug, isKernelBug } from '@zonedev/kernel';
import { vmemAltmap } from '@zonedev/sparse-vmemmap';
import { describe, expect, it } from 'vitest';
import { DevPagemap, MEMORY_DEVICE_FS_DAX, MEMORY_DEVICE_GENERIC, PGMAP_ALTMAP_VALID } from '@zonedev/memremap';
import { MiB, GiB, fakeMachine, fakeSnapshot } from './doubles.js';

const DEV = 64 * GiB;
const PFN = DEV / 4096;

function generic(start = DEV, size = 8 * MiB): DevPagemap {
  return new DevPagemap({ type: MEMORY_DEVICE_GENERIC, range: { start, end: start + size - 1 } });
}

describe('memremap_pages(): an altmap that leaves no data page', () => {
  it('is refused with -ENXIO as nd_pfn_init() refuses offset >= size, and nothing is mapped', () => {
    const m = fakeMachine();
    // 16 MiB = 4096 pages: reserve 2 + free 4094 covers every pfn.
    const altmap = vmemAltmap({ basePfn: PFN, reserve: 2, free: 4094 });
    const pgmap = new DevPagemap({ type: MEMORY_DEVICE_FS_DAX, range: { start: DEV, end: DEV + 16 * MiB - 1 }, altmap, flags: PGMAP_ALTMAP_VALID, name: 'pgmap0' });
    const before = fakeSnapshot(m);
    expect(() => m.memremap.memremapPages(pgmap, 0)).toThrow(expect.objectContaining({ errno: 'ENXIO', message: `${pgmap.traceName} unable to satisfy requested alignment` }));
    expect(fakeSnapshot(m)).toEqual(before);
    expect(m.memremap.pagemapPhase(pgmap)).toBeUndefined();
    expect(pgmap.ref).toBeUndefined();
    expect(altmap.alloc).toBe(0);
  });

  it('one data page left is enough', () => {
    const m = fakeMachine();
    const altmap = vmemAltmap({ basePfn: PFN, reserve: 2, free: 4093 });
    const pgmap = new DevPagemap({ type: MEMORY_DEVICE_FS_DAX, range: { start: DEV, end: DEV + 16 * MiB - 1 }, altmap, flags: PGMAP_ALTMAP_VALID });
    m.memremap.memremapPages(pgmap, 0);
    expect(m.memremap.pagemapPhase(pgmap)).toBe('live');
    void m.memremap.memunmapPages(pgmap);
    expect(m.memremap.pagemapPhase(pgmap)).toBeUndefined();
  });
});

describe('memunmap_pages() of a pagemap that is not mapped', () => {
  it('is a KernelBug naming the pagemap and its phase', () => {
    const m = fakeMachine();
    const pgmap = generic();
    m.memremap.memremapPages(pgmap, 0);
    void m.memremap.memunmapPages(pgmap);
    let err: unknown;
    try {
      void m.memremap.memunmapPages(pgmap);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KernelBug);
    expect(isKernelBug(err)).toBe(true);
    expect((err as Error).message).toBe(`BUG: memunmap_pages: ${pgmap.traceName} is not mapped (unmapped)`);
  });
});

describe('bad arguments', () => {
  const bad: unknown[] = [NaN, Infinity, -Infinity, 1.5, '0', undefined, null, {}];

  it('memremap_pages() refuses a nid that is not an integer, and a pgmap that is not one, with -EINVAL', () => {
    const m = fakeMachine();
    const before = fakeSnapshot(m);
    for (const nid of bad) {
      const pgmap = generic();
      expect(() => m.memremap.memremapPages(pgmap, nid as number)).toThrow(expect.objectContaining({ errno: 'EINVAL', message: `memremap_pages: invalid nid ${String(nid)}` }));
      expect(pgmap.ref).toBeUndefined();
    }
    for (const p of [...bad, { type: MEMORY_DEVICE_GENERIC }]) {
      expect(() => m.memremap.memremapPages(p as DevPagemap, 0)).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
    }
    expect(fakeSnapshot(m)).toEqual(before);
  });

  it('memunmap_pages() refuses what is not a pgmap with -EINVAL', () => {
    const m = fakeMachine();
    const pgmap = generic();
    m.memremap.memremapPages(pgmap, 0);
    const before = fakeSnapshot(m);
    for (const p of bad) {
      expect(() => m.memremap.memunmapPages(p as DevPagemap)).toThrow(expect.objectContaining({ errno: 'EINVAL', message: `memunmap_pages: invalid pgmap ${String(p)}` }));
    }
    expect(fakeSnapshot(m)).toEqual(before);
    expect(m.memremap.pagemapPhase(pgmap)).toBe('live');
  });
});
