import { describe, expect, it } from 'vitest';
import { Tracer, isKernelError } from '@zonedev/kernel';
import { PhysMem } from '@zonedev/mmzone';
import { CrashMedia, MemoryMedia, PhysMemMedia, PowerFailure } from '../src/btt-media.js';
import { Btt } from '../src/btt.js';

function errno(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isKernelError(e) ? e.errno : 'not a KernelError';
  }
  return undefined;
}

describe('MemoryMedia', () => {
  it('is sparse: zeros cost nothing, data costs its pages', () => {
    const m = new MemoryMedia(2 ** 40);
    m.write(2 ** 39, new Uint8Array(2 * 1024 * 1024));
    expect(m.pagesInUse).toBe(0);
    m.write(2 ** 39 + 4090, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
    expect(m.pagesInUse).toBe(2);
    const b = new Uint8Array(12);
    m.read(2 ** 39 + 4089, b);
    expect([...b]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0]);
  });

  it('clone is copy-on-write in both directions', () => {
    const a = new MemoryMedia(8192);
    a.write(0, Uint8Array.of(1, 1, 1, 1));
    const b = a.clone();
    a.write(0, Uint8Array.of(2));
    b.write(1, Uint8Array.of(3));
    const ra = new Uint8Array(4);
    const rb = new Uint8Array(4);
    a.read(0, ra);
    b.read(0, rb);
    expect([...ra]).toEqual([2, 1, 1, 1]);
    expect([...rb]).toEqual([1, 3, 1, 1]);
  });

  it('clone after reads: the pages the original just looked up are still copied before it writes them', () => {
    const a = new MemoryMedia(3 * 4096);
    a.write(0, Uint8Array.of(1, 1));
    a.write(4096, Uint8Array.of(2, 2));
    const r = new Uint8Array(2);
    a.read(0, r);
    a.read(4096, r);
    const b = a.clone();
    // the original's last two pages, small and page-sized writes
    a.write(4096, Uint8Array.of(9));
    a.write(0, new Uint8Array(4096).fill(8));
    // an unwritten page looked up, then written in the clone only
    a.read(8192, r);
    b.write(8192, Uint8Array.of(7));
    b.read(0, r);
    expect([...r]).toEqual([1, 1]);
    b.read(4096, r);
    expect([...r]).toEqual([2, 2]);
    a.read(4096, r);
    expect([...r]).toEqual([9, 2]);
    a.read(0, r);
    expect([...r]).toEqual([8, 8]);
    a.read(8192, r);
    expect([...r]).toEqual([0, 0]);
    b.read(8192, r);
    expect([...r]).toEqual([7, 0]);
  });

  it('refuses accesses beyond its size with ENXIO and bad offsets with EINVAL, unchanged', () => {
    const m = new MemoryMedia(4096);
    expect(errno(() => m.write(4090, new Uint8Array(8).fill(1)))).toBe('ENXIO');
    expect(errno(() => m.read(-1, new Uint8Array(1)))).toBe('EINVAL');
    expect(errno(() => m.write(0.5, new Uint8Array(1)))).toBe('EINVAL');
    expect(m.pagesInUse).toBe(0);
  });

  it('poison: reads of a bad sector give EIO, a write covering the whole sector clears it', () => {
    const m = new MemoryMedia(8192);
    m.injectPoison(1024, 1);
    expect(m.isPoisoned(1024, 512)).toBe(true);
    expect(m.isPoisoned(0, 1024)).toBe(false);
    expect(errno(() => m.read(1000, new Uint8Array(100)))).toBe('EIO');
    m.write(1024, new Uint8Array(100).fill(1));
    expect(m.isPoisoned(1024, 1)).toBe(true);
    m.write(1024, new Uint8Array(512).fill(1));
    expect(m.isPoisoned(1024, 1)).toBe(false);
  });
});

describe('MemoryMedia.readU32', () => {
  it('reads the little-endian word read() would give, zero where nothing was written; poison is EIO; bad offsets are refused as read() refuses them', () => {
    const m = new MemoryMedia(3 * 4096);
    m.write(4096 + 8, Uint8Array.from([0x78, 0x56, 0x34, 0x12, 0xff, 0xff, 0xff, 0xff]));
    expect(m.readU32(4096 + 8)).toBe(0x12345678);
    expect(m.readU32(4096 + 12)).toBe(0xffffffff);
    expect(m.readU32(8192)).toBe(0);
    // an unaligned word, and one across a page boundary, go through read()
    m.write(4094, Uint8Array.from([1, 2, 3, 4]));
    expect(m.readU32(4094)).toBe(0x04030201);
    expect(errno(() => m.readU32(3 * 4096 - 2))).toBe('ENXIO');
    expect(errno(() => m.readU32(-4))).toBe('EINVAL');
    m.injectPoison(4096, 1);
    expect(errno(() => m.readU32(4096 + 8))).toBe('EIO');
  });
});

describe('CrashMedia', () => {
  it('writes before the crash land, the crash write lands a prefix of 8-byte multiples, then nothing', () => {
    const inner = new MemoryMedia(4096);
    const c = new CrashMedia(inner, 2, 20);
    c.write(0, new Uint8Array(32).fill(1));
    expect(() => c.write(0, new Uint8Array(32).fill(2))).toThrow(PowerFailure);
    expect(() => c.read(0, new Uint8Array(1))).toThrow(PowerFailure);
    expect(() => c.write(0, new Uint8Array(1))).toThrow(PowerFailure);
    const b = new Uint8Array(32);
    inner.read(0, b);
    expect([...b]).toEqual([...new Array(16).fill(2), ...new Array(16).fill(1)]);
    expect(c.writes).toBe(2);
  });

  it('an 8-byte write is atomic: it lands whole or not at all', () => {
    const inner = new MemoryMedia(4096);
    const c = new CrashMedia(inner, 1, 8);
    expect(() => c.write(0, new Uint8Array(8).fill(5))).toThrow(PowerFailure);
    const b = new Uint8Array(8);
    inner.read(0, b);
    expect(b.every((x) => x === 0)).toBe(true);
  });
});

describe('PhysMemMedia', () => {
  it('a BTT on a namespace in physical memory: its info block at phys start + 4 KiB', () => {
    const pm = new PhysMem(12);
    const start = 0x100000000;
    const media = new PhysMemMedia(pm, start, 32 * 2 ** 20);
    const btt = Btt.attach(media, { lbasize: 4096, uuid: new Uint8Array(16).fill(1) });
    expect(new TextDecoder().decode(pm.read(start + 4096, 14))).toBe('BTT_ARENA_INFO');
    btt.writePage(8, new Uint8Array(4096).fill(0x42));
    const again = Btt.attach(new PhysMemMedia(pm, start, 32 * 2 ** 20), { lbasize: 4096, uuid: new Uint8Array(16).fill(1) });
    const out = new Uint8Array(4096);
    again.readPage(8, out);
    expect(out.every((x) => x === 0x42)).toBe(true);
    expect(errno(() => media.read(32 * 2 ** 20 - 2, new Uint8Array(4)))).toBe('ENXIO');
  });

  it('badblocks reported by the namespace make reads EIO', () => {
    const pm = new PhysMem(12);
    const media = new PhysMemMedia(pm, 0, 8192, (off, len) => off < 1024 && off + len > 512);
    expect(errno(() => media.read(0, new Uint8Array(1024)))).toBe('EIO');
    expect(errno(() => media.read(1024, new Uint8Array(1024)))).toBeUndefined();
  });
});

describe('tracing', () => {
  it('btt_write_pg and btt_read_pg appear in the function graph while tracing is on', () => {
    const tracer = new Tracer();
    const btt = Btt.attach(new MemoryMedia(32 * 2 ** 20), { lbasize: 4096, uuid: new Uint8Array(16), tracer });
    btt.writePage(0, new Uint8Array(4096));
    expect(tracer.show()).not.toContain('btt_write_pg');
    tracer.on();
    btt.writePage(0, new Uint8Array(4096), 3);
    btt.readPage(0, new Uint8Array(4096));
    const text = tracer.show();
    expect(text).toContain(' 0)   btt_write_pg(0, Uint8Array, 3);\n');
    expect(text).toContain(' 0)   btt_read_pg(0, Uint8Array, 0);\n');
  });
});
