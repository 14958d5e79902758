import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isKernelError } from '@zonedev/kernel';
import { PhysMem, SparseBacking } from '../src/physmem.js';

describe('physical memory contents', () => {
  it('unwritten memory reads as zeros and costs nothing', () => {
    const pm = new PhysMem(12);
    expect(pm.read(2 ** 45, 16)).toEqual(new Uint8Array(16));
    expect(pm.ramBytesAllocated).toBe(0);
  });

  it('writes and reads across page boundaries; a written page costs one page', () => {
    const pm = new PhysMem(12);
    const data = Uint8Array.from({ length: 10 }, (_, i) => i + 1);
    pm.write(4096 - 5, data);
    expect(pm.read(4096 - 5, 10)).toEqual(data);
    expect(pm.ramBytesAllocated).toBe(2 * 4096);
    pm.writeU64(0x10000, 0x0123456789abcdefn);
    expect(pm.read(0x10000, 2)).toEqual(Uint8Array.from([0xef, 0xcd]));
    expect(pm.readU64(0x10000)).toBe(0x0123456789abcdefn);
  });

  it('clear_page frees the page, copy_highpage copies one', () => {
    const pm = new PhysMem(12);
    pm.write(3 * 4096, Uint8Array.of(7, 8, 9));
    pm.copyHighpage(9, 3);
    expect(pm.readPage(9).subarray(0, 4)).toEqual(Uint8Array.of(7, 8, 9, 0));
    pm.clearPage(3);
    expect(pm.read(3 * 4096, 3)).toEqual(new Uint8Array(3));
    expect(pm.ramBytesAllocated).toBe(4096);
  });

  it('a range can have its own backing, and data on it outlives the machine', () => {
    const media = new SparseBacking(64 * 4096);
    const first = new PhysMem(12);
    first.registerBacking(0x100000000, 64 * 4096, media, 'pmem0');
    first.write(0x100000000 + 4090, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
    expect(first.ramBytesAllocated).toBe(0);
    expect(media.bytesAllocated).toBe(2 * 4096);
    expect(first.unregisterBacking(0x100000000)).toBe(media);
    // after a "restart", another machine registers the same media
    const second = new PhysMem(12);
    second.registerBacking(0x100000000, 64 * 4096, media, 'pmem0');
    expect(second.read(0x100000000 + 4090, 10)).toEqual(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
    // accesses spanning RAM and the backing are split
    second.write(0x100000000 - 2, Uint8Array.of(0xaa, 0xbb, 0xcc, 0xdd));
    expect(second.read(0x100000000 - 2, 4)).toEqual(Uint8Array.of(0xaa, 0xbb, 0xcc, 0xdd));
    expect(media.read !== undefined && second.ranges()).toEqual([{ start: 0x100000000, size: 64 * 4096, name: 'pmem0', backing: media }]);
  });

  it('rejects overlapping or unaligned backings and leaves the map unchanged', () => {
    const pm = new PhysMem(12);
    pm.registerBacking(0x10000, 0x10000, new SparseBacking(0x10000), 'a');
    const attempts: [number, number, number, string][] = [
      [0x18000, 0x10000, 0x10000, 'EBUSY'],
      [0x20001, 0x1000, 0x1000, 'EINVAL'],
      [0x30000, 0x2000, 0x1000, 'EINVAL'],
    ];
    for (const [start, size, bsize, errno] of attempts) {
      let err: unknown;
      try {
        pm.registerBacking(start, size, new SparseBacking(bsize));
      } catch (e) {
        err = e;
      }
      expect(isKernelError(err, errno as 'EBUSY')).toBe(true);
    }
    expect(pm.ranges().map((r) => r.name)).toEqual(['a']);
    expect(() => pm.unregisterBacking(0x20000)).toThrow(/no backing/);
    expect(pm.ranges().length).toBe(1);
  });

  it('a sparse backing agrees with a flat byte array under writes, zeroing and copies of whole and partial pages', () => {
    const PS = 1024;
    const PAGES = 600; // more than two slabs of 1 KiB pages
    const at = fc.integer({ min: 0, max: PAGES * PS - 1 });
    const op = fc.oneof(
      fc.record({ k: fc.constant('write' as const), at, n: fc.integer({ min: 1, max: 3 * PS }), v: fc.integer({ min: 1, max: 255 }) }),
      fc.record({ k: fc.constant('zero' as const), at, n: fc.integer({ min: 1, max: 300 * PS }) }),
      fc.record({ k: fc.constant('copy' as const), from: at, at, n: fc.integer({ min: 1, max: 40 * PS }), other: fc.boolean() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const b = new SparseBacking(PAGES * PS, PS);
        const o = new SparseBacking(PAGES * PS, PS);
        const flat = new Uint8Array(PAGES * PS);
        const oflat = new Uint8Array(PAGES * PS);
        for (let i = 0; i < PAGES * PS; i += 7 * PS + 3) {
          o.write(i, new Uint8Array([i % 251]));
          oflat[i] = i % 251;
        }
        for (const x of ops) {
          if (x.k === 'write') {
            const n = Math.min(x.n, PAGES * PS - x.at);
            b.write(x.at, new Uint8Array(n).fill(x.v));
            flat.fill(x.v, x.at, x.at + n);
          } else if (x.k === 'zero') {
            const n = Math.min(x.n, PAGES * PS - x.at);
            b.zero(x.at, n);
            flat.fill(0, x.at, x.at + n);
          } else {
            const n = Math.min(x.n, PAGES * PS - x.at, PAGES * PS - x.from);
            b.copyFrom(x.other ? o : b, x.from, x.at, n);
            flat.copyWithin(x.at, x.from, x.from + n); // (memmove, like the same-backing copy)
            if (x.other) flat.set(oflat.subarray(x.from, x.from + n), x.at);
          }
        }
        const back = new Uint8Array(PAGES * PS);
        b.read(0, back);
        expect(Buffer.compare(back, flat)).toBe(0);
        let pages = 0;
        for (let p = 0; p < PAGES; p++) if (flat.subarray(p * PS, (p + 1) * PS).some((v) => v !== 0)) pages++;
        // every page holding data costs one page, a zeroed whole page none
        expect(b.pagesAllocated).toBeGreaterThanOrEqual(pages);
        b.zero(0, PAGES * PS);
        expect([b.pagesAllocated, b.bytesAllocated]).toEqual([0, 0]);
      }),
      { numRuns: 80 },
    );
  });
});
