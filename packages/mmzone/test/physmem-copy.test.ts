import { describe, expect, it } from 'vitest';
import { isKernelError } from '@zonedev/kernel';
import type { PhysBacking } from '../src/physmem.js';
import { PhysMem, SparseBacking } from '../src/physmem.js';

const P = 4096;

/** A backing that is not a SparseBacking: a flat array, as a host file would be. */
class FlatBacking implements PhysBacking {
  readonly size: number;
  readonly bytes: Uint8Array;
  writes = 0;
  constructor(size: number) {
    this.size = size;
    this.bytes = new Uint8Array(size);
  }
  read(offset: number, dst: Uint8Array): void {
    dst.set(this.bytes.subarray(offset, offset + dst.length));
  }
  write(offset: number, src: Uint8Array): void {
    this.writes++;
    this.bytes.set(src, offset);
  }
  zero(offset: number, length: number): void {
    this.bytes.fill(0, offset, offset + length);
  }
  get bytesAllocated(): number {
    return this.size;
  }
}

function pattern(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) % 251);
}

describe('PhysMem.copy and copy_highpage, backing to backing', () => {
  it('copy_highpage of a written page copies its bytes; the copy is its own page', () => {
    const pm = new PhysMem(12);
    const data = pattern(P, 3);
    pm.write(5 * P, data);
    pm.copyHighpage(9, 5);
    expect(pm.readPage(9)).toEqual(data);
    expect(pm.ramBytesAllocated).toBe(2 * P);
    // writing the source afterwards does not change the copy
    pm.write(5 * P, Uint8Array.of(0xff));
    expect(pm.read(9 * P, 1)).toEqual(Uint8Array.of(data[0]!));
  });

  it('copy_highpage of a never-written page leaves the destination unwritten (zeros, no host memory)', () => {
    const pm = new PhysMem(12);
    pm.write(9 * P + 100, Uint8Array.of(1, 2, 3));
    expect(pm.ramBytesAllocated).toBe(P);
    pm.copyHighpage(9, 5);
    expect(pm.readPage(9)).toEqual(new Uint8Array(P));
    expect(pm.ramBytesAllocated).toBe(0);
  });

  it('copies unaligned ranges across pages exactly as read + write would', () => {
    const pm = new PhysMem(12);
    const data = pattern(3 * P, 11);
    pm.write(2 * P, data);
    pm.copy(20 * P + 123, 2 * P + 45, 2 * P + 7);
    expect(pm.read(20 * P + 123, 2 * P + 7)).toEqual(data.subarray(45, 45 + 2 * P + 7));
    expect(pm.read(20 * P, 123)).toEqual(new Uint8Array(123));
  });

  it('overlapping ranges copy as memmove does', () => {
    const pm = new PhysMem(12);
    const data = pattern(2 * P, 5);
    pm.write(0, data);
    pm.copy(100, 0, 2 * P);
    expect(pm.read(100, 2 * P)).toEqual(data);
    pm.write(0, data);
    pm.copy(0, 100, P);
    expect(pm.read(0, P)).toEqual(data.subarray(100, 100 + P));
  });

  it('copies between RAM and a registered SparseBacking, and within it', () => {
    const pm = new PhysMem(12);
    const media = new SparseBacking(16 * P);
    const base = 2 ** 32;
    pm.registerBacking(base, 16 * P, media, 'pmem0');
    const data = pattern(P, 9);
    pm.write(3 * P, data);
    pm.copy(base + 2 * P, 3 * P, P);
    expect(media.pagesAllocated).toBe(1);
    expect(pm.read(base + 2 * P, P)).toEqual(data);
    pm.copyHighpage(base / P + 5, base / P + 2);
    expect(pm.read(base + 5 * P, P)).toEqual(data);
    // an unwritten page of the media copied over a written RAM page frees it
    pm.copyHighpage(3, base / P + 7);
    expect(pm.read(3 * P, P)).toEqual(new Uint8Array(P));
    expect(pm.ramBytesAllocated).toBe(0);
    // a copy that spans RAM and the backing is split at the boundary
    pm.write(base - P, pattern(P, 1));
    pm.copy(40 * P, base - P, 2 * P);
    expect(pm.read(40 * P, 2 * P)).toEqual(pm.read(base - P, 2 * P));
  });

  it('copies into a backing that is not sparse through its write method', () => {
    const pm = new PhysMem(12);
    const flat = new FlatBacking(8 * P);
    const base = 2 ** 33;
    pm.registerBacking(base, 8 * P, flat, 'file');
    const data = pattern(2 * P, 17);
    pm.write(P, data);
    pm.copy(base + 10, P, 2 * P);
    expect(flat.bytes.subarray(10, 10 + 2 * P)).toEqual(data);
    pm.copy(7 * P, base + 10, 2 * P);
    expect(pm.read(7 * P, 2 * P)).toEqual(data);
  });

  it('rejects an invalid copy with EINVAL and changes nothing', () => {
    const pm = new PhysMem(12);
    const data = pattern(P, 2);
    pm.write(0, data);
    for (const [dst, src, len] of [
      [-P, 0, P],
      [P, 0.5, P],
      [P, 0, -1],
      [P, 0, Number.NaN],
      [2 ** 53, 0, P],
    ] as const) {
      let err: unknown;
      try {
        pm.copy(dst, src, len);
      } catch (e) {
        err = e;
      }
      expect(isKernelError(err) && err.errno === 'EINVAL').toBe(true);
    }
    expect(pm.read(0, P)).toEqual(data);
    expect(pm.read(P, P)).toEqual(new Uint8Array(P));
    expect(pm.ramBytesAllocated).toBe(P);
  });

  it('SparseBacking.copyFrom moves whole pages and keeps unwritten pages unwritten', () => {
    const a = new SparseBacking(8 * P);
    const b = new SparseBacking(8 * P);
    a.write(P, pattern(P, 4));
    b.write(3 * P, pattern(P, 8));
    b.copyFrom(a, 0, 2 * P, 2 * P);
    const out = new Uint8Array(2 * P);
    b.read(2 * P, out);
    expect(out.subarray(0, P)).toEqual(new Uint8Array(P));
    expect(out.subarray(P)).toEqual(pattern(P, 4));
    expect(b.pagesAllocated).toBe(1);
    expect(() => b.copyFrom(a, 7 * P, 0, 2 * P)).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
    expect(() => b.copyFrom(a, 0, 7 * P, 2 * P)).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
    expect(b.pagesAllocated).toBe(1);
  });
});
