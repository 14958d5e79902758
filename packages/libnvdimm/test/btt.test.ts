import { describe, expect, it } from 'vitest';
import { isKernelError } from '@zonedev/kernel';
import {
  ARENA_MAX_SIZE, Btt, BTT_SB_OFFSETS, createArenas, decodeBttSb, entEFlag, entLba, ndBttArenaIsValid, ndBttProbe, ndIncSeq,
} from '../src/btt.js';
import { CrashMedia, MemoryMedia, PowerFailure } from '../src/btt-media.js';
import type { NdMedia } from '../src/btt-media.js';
import { NvdimmClaimClass } from '../src/nd.js';
import { ndctlCheckNamespace } from '../src/btt-check.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const UUID = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);

/** An independent Fletcher64 (BigInt, no reduction tricks) for golden checks. */
function refFletcher(buf: Uint8Array): bigint {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let lo = 0n;
  let hi = 0n;
  for (let i = 0; i + 4 <= buf.length; i += 4) {
    lo = (lo + BigInt(v.getUint32(i, true))) % 2n ** 32n;
    hi = (hi + lo) % 2n ** 32n;
  }
  return hi * 2n ** 32n + lo;
}

/** Records every write (offset, length) that reaches the media. */
class RecordingMedia implements NdMedia {
  readonly writes: [number, number][] = [];
  constructor(readonly inner: MemoryMedia) {}
  get size(): number {
    return this.inner.size;
  }
  read(o: number, d: Uint8Array): void {
    this.inner.read(o, d);
  }
  write(o: number, s: Uint8Array): void {
    this.writes.push([o, s.length]);
    this.inner.write(o, s);
  }
}

function pattern(sector: number, version: number, len: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (sector * 31 + version * 7 + Math.floor(i / 8)) % 251;
  b[0] = sector % 256;
  b[1] = version;
  return b;
}

function u32(m: NdMedia, off: number): number {
  const b = new Uint8Array(4);
  m.read(off, b);
  return new DataView(b.buffer).getUint32(0, true);
}

function expectErrno(fn: () => unknown, errno: string): void {
  try {
    fn();
  } catch (e) {
    expect(isKernelError(e)).toBe(true);
    expect((e as { errno: string }).errno).toBe(errno);
    return;
  }
  throw new Error(`expected ${errno}`);
}

function snapshot(m: MemoryMedia, off: number, len: number): Uint8Array {
  const b = new Uint8Array(len);
  m.read(off, b);
  return b;
}

describe('BTT sizing (alloc_arena / create_arenas), reference worked example', () => {
  it('1 GiB namespace, BTT 1.1, lbasize 4096', () => {
    const media = new MemoryMedia(GiB);
    const btt = Btt.attach(media, { lbasize: 4096, uuid: UUID });
    expect(btt.rawsize).toBe(1073737728);
    expect(btt.arenas).toHaveLength(1);
    const a = btt.arenas[0]!;
    expect(a.internalLbasize).toBe(4096);
    expect(a.internalNlba).toBe(261880);
    expect(a.externalNlba).toBe(261624);
    expect([a.infooff, a.dataoff, a.mapoff, a.logoff, a.info2off]).toEqual([0, 0x1000, 0x3fefa000, 0x3fffa000, 0x3fffe000]);
    expect(a.logoff - a.mapoff).toBe(0x100000);
    expect(a.info2off - a.logoff).toBe(0x4000);
    expect(a.mapoff - a.dataoff).toBe(1072664576);
    expect(a.nextoff).toBe(0);
    expect(a.info2off + 4096 + btt.initialOffset).toBe(GiB);
    expect(btt.capacity).toBe(1071611904);
    expect(btt.capacity / 512).toBe(2092992);
    expect(btt.sectorSize).toBe(4096);
  });

  it('1 GiB namespace, lbasize 512', () => {
    const btt = Btt.attach(new MemoryMedia(GiB), { lbasize: 512, uuid: UUID });
    const a = btt.arenas[0]!;
    expect(a.internalNlba).toBe(2080831);
    expect(a.externalNlba).toBe(2080575);
    expect(a.mapoff).toBe(0x3f80a000);
    expect(a.logoff - a.mapoff).toBe(0x7f0000);
    expect(a.logoff).toBe(0x3fffa000);
    expect(a.info2off).toBe(0x3fffe000);
    expect(a.mapoff - a.dataoff).toBe(1065390080);
    expect(btt.nlba).toBe(2080575);
    expect(btt.capacity).toBe(1065254400);
  });

  it('integrity lbasizes round the internal block up to 64 bytes', () => {
    const cases: [number, number, number][] = [[520, 576, 512], [528, 576, 512], [4104, 4160, 4096], [4160, 4160, 4096], [4224, 4224, 4096]];
    for (const [lbasize, internal, sector] of cases) {
      const [a] = createArenas(GiB - 4096, lbasize, 1, 1);
      expect(a!.internalLbasize).toBe(internal);
      expect(a!.sectorSize).toBe(sector);
    }
  });

  it('arenas of 512 GiB, a short tail dropped, nextoff chaining', () => {
    const arenas = createArenas(ARENA_MAX_SIZE + 32 * MiB, 4096, 1, 1);
    expect(arenas).toHaveLength(2);
    expect(arenas[0]!.nextoff).toBe(ARENA_MAX_SIZE);
    expect(arenas[1]!.nextoff).toBe(0);
    expect(arenas[1]!.infooff).toBe(ARENA_MAX_SIZE);
    expect(arenas[1]!.externalLbaStart).toBe(arenas[0]!.externalNlba);
    const tail = createArenas(ARENA_MAX_SIZE + 8 * MiB, 4096, 1, 1);
    expect(tail).toHaveLength(1);
    expect(tail[0]!.nextoff).toBe(0);
  });

  it('refuses a namespace below 16 MiB + 4 KiB, bad lbasize and uuid, writing nothing', () => {
    const small = new MemoryMedia(16 * MiB + 4095);
    expectErrno(() => Btt.attach(small, { lbasize: 4096, uuid: UUID }), 'ENXIO');
    expect(small.pagesInUse).toBe(0);
    const m = new MemoryMedia(32 * MiB);
    expectErrno(() => Btt.attach(m, { lbasize: 1024, uuid: UUID }), 'EINVAL');
    expectErrno(() => Btt.attach(m, { lbasize: 4096, uuid: new Uint8Array(15) }), 'EINVAL');
    expect(m.pagesInUse).toBe(0);
    // BTT 2.0 has no initial offset: exactly 16 MiB is enough
    expect(Btt.attach(new MemoryMedia(16 * MiB), { lbasize: 4096, uuid: UUID, claimClass: NvdimmClaimClass.NVDIMM_CCLASS_BTT2 }).initialOffset).toBe(0);
  });
});

describe('btt_meta_init layout on media', () => {
  const media = new MemoryMedia(GiB);
  const parent = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
  const rec = new RecordingMedia(media);
  const btt = Btt.attach(rec, { lbasize: 4096, uuid: UUID, parentUuid: parent });
  const a = btt.arenas[0]!;
  const ns = (off: number): number => off + 4096;

  it('struct btt_sb at namespace offset 4096, bit for bit', () => {
    const sb = snapshot(media, 4096, 4096);
    expect(new TextDecoder().decode(sb.subarray(0, 16))).toBe('BTT_ARENA_INFO\0\0');
    expect(sb.subarray(16, 32)).toEqual(UUID);
    expect(sb.subarray(32, 48)).toEqual(parent);
    const v = new DataView(sb.buffer);
    expect(v.getUint32(48, true)).toBe(0);
    expect([v.getUint16(52, true), v.getUint16(54, true)]).toEqual([1, 1]);
    expect([v.getUint32(56, true), v.getUint32(60, true), v.getUint32(64, true), v.getUint32(68, true)]).toEqual([4096, 261624, 4096, 261880]);
    expect([v.getUint32(72, true), v.getUint32(76, true)]).toEqual([256, 4096]);
    expect([80, 88, 96, 104, 112].map((o) => v.getBigUint64(o, true))).toEqual([0n, 0x1000n, 0x3fefa000n, 0x3fffa000n, 0x3fffe000n]);
    expect(sb.subarray(120, 4088).every((x) => x === 0)).toBe(true);
    const zeroed = sb.slice();
    zeroed.fill(0, 4088);
    expect(v.getBigUint64(BTT_SB_OFFSETS.checksum, true)).toBe(refFletcher(zeroed));
    expect(ndBttArenaIsValid(sb, parent)).toBe(true);
    expect(ndBttArenaIsValid(sb, UUID)).toBe(false);
  });

  it('golden checksum of a bare signature block', () => {
    const b = new Uint8Array(4096);
    b.set(new TextEncoder().encode('BTT_ARENA_INFO'));
    expect(refFletcher(b)).toBe(0xa27b296bfbe3550an);
  });

  it('info2 is a copy at the arena end, written before the primary', () => {
    expect(snapshot(media, ns(a.info2off), 4096)).toEqual(snapshot(media, 4096, 4096));
    const last = rec.writes.slice(-2);
    expect(last).toEqual([[ns(a.info2off), 4096], [ns(a.infooff), 4096]]);
  });

  it('map zeroed in 2 MiB chunks, log zeroed in 4 KiB chunks, then two 8-byte halves per lane', () => {
    expect(rec.writes[0]).toEqual([ns(a.mapoff), 0x100000]);
    expect(rec.writes.slice(1, 5)).toEqual([0, 1, 2, 3].map((i) => [ns(a.logoff) + i * 4096, 4096]));
    expect(rec.writes.slice(5, 7)).toEqual([[ns(a.logoff), 8], [ns(a.logoff) + 8, 8]]);
    expect(rec.writes).toHaveLength(1 + 4 + 512 + 2);
  });

  it('fresh log: slot 0 {lba i, old = new = external_nlba + i, seq 1}, other slots zero', () => {
    for (const lane of [0, 7, 255]) {
      const g = snapshot(media, ns(a.logoff) + lane * 64, 64);
      const v = new DataView(g.buffer);
      expect([0, 4, 8, 12].map((o) => v.getUint32(o, true))).toEqual([lane, 261624 + lane, 261624 + lane, 1]);
      expect(g.subarray(16).every((x) => x === 0)).toBe(true);
    }
  });

  it('free list from the fresh log: block external_nlba + lane, sub 1, seq 2', () => {
    expect(a.freelist[0]).toEqual({ block: 261624, sub: 1, seq: 2, hasErr: false });
    expect(a.freelist[255]).toEqual({ block: 261624 + 255, sub: 1, seq: 2, hasErr: false });
  });

  it('identity map: an unwritten sector reads its own block (zeros)', () => {
    const d = new Uint8Array(4096).fill(1);
    btt.readPage(8 * 100, d);
    expect(d.every((x) => x === 0)).toBe(true);
    expect(btt.mapRead(a, 100)).toEqual({ postmap: 100, trim: false, error: false });
  });

  it('nd_inc_seq cycles 1 2 3 1 and keeps 0', () => {
    expect([0, 1, 2, 3].map(ndIncSeq)).toEqual([0, 2, 3, 1]);
  });
});

describe('btt_write_pg / btt_read_pg', () => {
  it('one sector: data to the free block, log halves, map; in that order', () => {
    const media = new MemoryMedia(32 * MiB);
    const rec = new RecordingMedia(media);
    const btt = Btt.attach(rec, { lbasize: 4096, uuid: UUID });
    const a = btt.arenas[0]!;
    const ext = a.externalNlba;
    rec.writes.length = 0;
    const data = pattern(3, 1, 4096);
    btt.writePage(3 * 8, data, 5);
    const ns = (off: number): number => off + 4096;
    expect(rec.writes).toEqual([
      [ns(a.dataoff + (ext + 5) * 4096), 4096],
      [ns(a.logoff + 5 * 64 + 16), 8],
      [ns(a.logoff + 5 * 64 + 24), 8],
      [ns(a.mapoff + 3 * 4), 4],
    ]);
    expect(u32(media, ns(a.mapoff + 12))).toBe(0xc0000000 + ext + 5);
    const g = snapshot(media, ns(a.logoff + 5 * 64 + 16), 16);
    const v = new DataView(g.buffer);
    expect([0, 4, 8, 12].map((o) => v.getUint32(o, true))).toEqual([3, 3, ext + 5, 2]);
    expect(a.freelist[5]).toEqual({ block: 3, sub: 0, seq: 3, hasErr: false });
    const out = new Uint8Array(4096);
    btt.readPage(24, out, 9);
    expect(out).toEqual(data);
    // re-open: the same data through the discovered arena
    const again = Btt.attach(media, { lbasize: 4096, uuid: UUID });
    again.readPage(24, out);
    expect(out).toEqual(data);
    expect(again.arenas[0]!.freelist[5]).toEqual({ block: 3, sub: 0, seq: 3, hasErr: false });
    expect(again.checkArena(again.arenas[0]!)).toEqual([]);
  });

  it('seq rotation in one lane across many writes, 512-byte sectors in a 4 KiB page', () => {
    const media = new MemoryMedia(32 * MiB);
    const btt = Btt.attach(media, { lbasize: 512, uuid: UUID });
    const a = btt.arenas[0]!;
    const seqs: number[] = [];
    for (let i = 0; i < 6; i++) {
      btt.writePage(0, pattern(0, i, 4096), 1);
      seqs.push(a.freelist[1]!.seq);
    }
    // 8 sectors per page: each write advances the lane 8 times
    expect(seqs).toEqual([1, 3, 2, 1, 3, 2]);
    const out = new Uint8Array(4096);
    btt.readPage(0, out);
    expect(out).toEqual(pattern(0, 5, 4096));
    const re = Btt.attach(media, { lbasize: 512, uuid: UUID });
    expect(re.arenas[0]!.freelist[1]).toEqual(a.freelist[1]);
    expect(re.checkArena(re.arenas[0]!)).toEqual([]);
  });

  it('refuses unaligned and out-of-range I/O without touching the media', () => {
    const media = new MemoryMedia(32 * MiB);
    const btt = Btt.attach(media, { lbasize: 4096, uuid: UUID });
    const before = media.clone();
    const lastSector = btt.capacity / 512 - 8;
    expectErrno(() => btt.writePage(0, new Uint8Array(512)), 'EIO');
    expectErrno(() => btt.writePage(1, new Uint8Array(4096)), 'EIO');
    expectErrno(() => btt.writePage(lastSector + 8, new Uint8Array(4096)), 'EIO');
    expectErrno(() => btt.writePage(0, new Uint8Array(8192)), 'EIO');
    expectErrno(() => btt.writePage(0, new Uint8Array(4096), 256), 'EINVAL');
    expectErrno(() => btt.writePage(-8, new Uint8Array(4096)), 'EINVAL');
    expect(bytesEq(snapshot(before, 0, media.size), snapshot(media, 0, media.size))).toBe(true);
    const fl = JSON.stringify(btt.arenas[0]!.freelist);
    expectErrno(() => btt.writePage(lastSector + 8, new Uint8Array(4096)), 'EIO');
    expect(JSON.stringify(btt.arenas[0]!.freelist)).toBe(fl);
    // the last sector itself is writable
    btt.writePage(lastSector, pattern(1, 1, 4096));
    expect(JSON.stringify(btt.arenas[0]!.freelist)).not.toBe(fl);
    expect(bytesEq(snapshot(before, 0, media.size), snapshot(media, 0, media.size))).toBe(false);
  });

  it('media error: a poisoned data block reads EIO and sets E; a full write clears it', () => {
    const media = new MemoryMedia(32 * MiB);
    const log: string[] = [];
    const btt = Btt.attach(media, { lbasize: 4096, uuid: UUID, log: (_l, m) => log.push(m) });
    const a = btt.arenas[0]!;
    btt.writePage(16, pattern(2, 1, 4096), 0);
    const block = btt.mapRead(a, 2).postmap;
    media.injectPoison(4096 + a.dataoff + block * 4096, 512);
    expectErrno(() => btt.readPage(16, new Uint8Array(4096)), 'EIO');
    expect(log).toContain('io error in READ sector 16, len 4096,');
    const raw = u32(media, 4096 + a.mapoff + 8);
    expect(entEFlag(raw)).toBe(true);
    expect(raw).toBe(0x40000000 + block);
    expectErrno(() => btt.readPage(16, new Uint8Array(4096)), 'EIO');
    btt.writePage(16, pattern(2, 2, 4096), 3);
    const out = new Uint8Array(4096);
    btt.readPage(16, out);
    expect(out).toEqual(pattern(2, 2, 4096));
    // the old, poisoned block became lane 3's free block and was zeroed (poison cleared)
    expect(a.freelist[3]!.block).toBe(block);
    expect(a.freelist[3]!.hasErr).toBe(false);
    expect(media.isPoisoned(4096 + a.dataoff + block * 4096, 4096)).toBe(false);
    expect(btt.checkArena(a)).toEqual([]);
  });

  it('a trimmed map entry (Z) reads zeros and ends the request there, as btt_read_pg does', () => {
    const media = new MemoryMedia(32 * MiB);
    const btt = Btt.attach(media, { lbasize: 512, uuid: UUID });
    const a = btt.arenas[0]!;
    btt.writePage(0, pattern(0, 1, 4096), 0);
    const raw = u32(media, 4096 + a.mapoff);
    const e = new Uint8Array(4);
    new DataView(e.buffer).setUint32(0, entLba(raw) + 0x80000000, true);
    media.write(4096 + a.mapoff, e);
    const out = new Uint8Array(4096).fill(0xee);
    btt.readPage(0, out);
    expect(out.subarray(0, 512).every((x) => x === 0)).toBe(true);
    expect(out.subarray(512).every((x) => x === 0xee)).toBe(true);
    // a read starting at the next sector goes through the map as usual
    const rest = new Uint8Array(512);
    btt.readPage(1, rest);
    expect(rest).toEqual(pattern(0, 1, 4096).subarray(512, 1024));
  });

  it('lbasize 520: 512-byte sectors with 8 bytes of integrity metadata in 576-byte blocks', () => {
    const media = new MemoryMedia(32 * MiB);
    const btt = Btt.attach(media, { lbasize: 520, uuid: UUID });
    const a = btt.arenas[0]!;
    const data = pattern(4, 1, 1024);
    const meta = Uint8Array.from({ length: 16 }, (_, i) => 0xf0 + i);
    btt.writePage(4, data, 2, meta);
    const block = btt.mapRead(a, 5).postmap;
    expect(snapshot(media, 4096 + a.dataoff + block * 576 + 512, 8)).toEqual(meta.subarray(8));
    const out = new Uint8Array(1024);
    const back = new Uint8Array(16);
    btt.readPage(4, out, 0, back);
    expect(out).toEqual(data);
    expect(back).toEqual(meta);
    expectErrno(() => btt.writePage(4, data, 2, new Uint8Array(8)), 'EINVAL');
    const plain = Btt.attach(new MemoryMedia(32 * MiB), { lbasize: 512, uuid: UUID });
    expectErrno(() => plain.writePage(0, new Uint8Array(512), 0, new Uint8Array(0)), 'EINVAL');
  });

  it('a poisoned free block is zeroed before use', () => {
    const media = new MemoryMedia(32 * MiB);
    const btt = Btt.attach(media, { lbasize: 4096, uuid: UUID });
    const a = btt.arenas[0]!;
    const free = a.freelist[0]!.block;
    media.injectPoison(4096 + a.dataoff + free * 4096 + 1024, 512);
    btt.writePage(0, pattern(0, 1, 4096), 0);
    const out = new Uint8Array(4096);
    btt.readPage(0, out);
    expect(out).toEqual(pattern(0, 1, 4096));
    expect(media.isPoisoned(4096 + a.dataoff + free * 4096, 4096)).toBe(false);
  });
});

describe('discover_arenas', () => {
  it('a corrupt primary info block means no arenas: a fresh layout is written', () => {
    const media = new MemoryMedia(32 * MiB);
    const btt = Btt.attach(media, { lbasize: 4096, uuid: UUID });
    btt.writePage(0, pattern(0, 1, 4096));
    const b = snapshot(media, 4096 + 200, 1);
    media.write(4096 + 200, Uint8Array.of(b[0]! + 1));
    const log: string[] = [];
    const re = Btt.attach(media, { lbasize: 4096, uuid: UUID, log: (_l, m) => log.push(m) });
    expect(log).toContain('No existing arenas');
    const out = new Uint8Array(4096).fill(9);
    re.readPage(0, out);
    expect(out.every((x) => x === 0)).toBe(true);
  });

  it('read-only region without a BTT: ENOMEM and nothing written', () => {
    const media = new MemoryMedia(32 * MiB);
    const log: string[] = [];
    expectErrno(() => Btt.attach(media, { lbasize: 4096, uuid: UUID, readOnly: true, log: (l, m) => log.push(`${l}:${m}`) }), 'ENOMEM');
    expect(media.pagesInUse).toBe(0);
    expect(log).toContain('warn:region is read-only, unable to init btt metadata');
  });

  it('old (0,2) log padding is recognised and kept', () => {
    const media = new MemoryMedia(32 * MiB);
    const btt = Btt.attach(media, { lbasize: 4096, uuid: UUID });
    const a = btt.arenas[0]!;
    btt.writePage(8, pattern(1, 1, 4096), 4);
    // move every lane's slot 1 to slot 2, as pre-4.15 kernels laid the log out
    for (let lane = 0; lane < 256; lane++) {
      const g = snapshot(media, 4096 + a.logoff + lane * 64, 64);
      const moved = new Uint8Array(64);
      moved.set(g.subarray(0, 16), 0);
      moved.set(g.subarray(16, 32), 32);
      media.write(4096 + a.logoff + lane * 64, moved);
    }
    const log: string[] = [];
    const re = Btt.attach(media, { lbasize: 4096, uuid: UUID, log: (_l, m) => log.push(m) });
    expect(re.arenas[0]!.logIndex).toEqual([0, 2]);
    expect(log).toContain('log_index_1 = 2');
    re.writePage(8, pattern(1, 2, 4096), 4);
    const again = Btt.attach(media, { lbasize: 4096, uuid: UUID });
    const out = new Uint8Array(4096);
    again.readPage(8, out);
    expect(out).toEqual(pattern(1, 2, 4096));
    expect(again.checkArena(again.arenas[0]!)).toEqual([]);
  });

  it('an unknown padding scheme fails the attach', () => {
    const media = new MemoryMedia(32 * MiB);
    const btt = Btt.attach(media, { lbasize: 4096, uuid: UUID });
    const a = btt.arenas[0]!;
    const g = snapshot(media, 4096 + a.logoff, 64);
    const moved = new Uint8Array(64);
    moved.set(g.subarray(0, 16), 48);
    moved.set(Uint8Array.of(1), 16);
    media.write(4096 + a.logoff, moved);
    const log: string[] = [];
    expectErrno(() => Btt.attach(media, { lbasize: 4096, uuid: UUID, log: (_l, m) => log.push(m) }), 'ENOMEM');
    expect(log).toContain('Unable to deduce log/padding indices');
  });
});

// --- crash consistency

interface Op {
  sector: number;
  lane: number;
  version: number;
}

/**
 * For every write k of the operation sequence and several tear points of
 * that write: crash, re-probe from the image, check every sector reads its
 * old or its new content and the arena is consistent. Returns the number of
 * crash points checked.
 */
function crashSweep(size: number, lbasize: number, sectors: number[], ops: Op[], fullCheck: boolean): number {
  const base = new MemoryMedia(size);
  const opts = { lbasize, uuid: UUID };
  const btt0 = Btt.attach(base, opts);
  const spp = btt0.sectorSize / 512;
  const len = btt0.sectorSize;
  for (const s of sectors) btt0.writePage(s * spp, pattern(s, 0, len), s % 256);
  // how many media writes the whole sequence takes
  const counter = new CrashMedia(base.clone());
  const bc = Btt.attach(counter, opts);
  for (const op of ops) bc.writePage(op.sector * spp, pattern(op.sector, op.version, len), op.lane);
  const total = counter.writes;
  let points = 0;
  for (let k = 1; k <= total; k++) {
    for (const torn of [0, 8, len / 2]) {
      const img = base.clone();
      const cm = new CrashMedia(img, k, torn);
      const b = Btt.attach(cm, opts);
      const current = new Map(sectors.map((s) => [s, 0]));
      let inflight: Op | undefined;
      for (const op of ops) {
        try {
          b.writePage(op.sector * spp, pattern(op.sector, op.version, len), op.lane);
          current.set(op.sector, op.version);
        } catch (e) {
          if (!(e instanceof PowerFailure)) throw e;
          inflight = op;
          break;
        }
      }
      expect(inflight).toBeDefined();
      const r = Btt.attach(img, opts);
      const out = new Uint8Array(len);
      for (const s of sectors) {
        r.readPage(s * spp, out);
        const old = pattern(s, current.get(s)!, len);
        const ok = bytesEq(out, old) || (inflight?.sector === s && bytesEq(out, pattern(s, inflight.version, len)));
        if (!ok) throw new Error(`crash at write ${k} (torn ${torn}): sector ${s} reads neither old nor new`);
      }
      if (fullCheck) {
        for (const a of r.arenas) expect(r.checkArena(a)).toEqual([]);
        expect(ndctlCheckNamespace(img, { devname: 'namespace0.0' }).rc).toBe(0);
      } else {
        sparseCheck(r, sectors);
      }
      points++;
    }
  }
  return points;
}

function bytesEq(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The bitmap check restricted to the blocks writes can touch (for 512 GiB
 * arenas whose whole map is too large to scan here): the postmaps of the
 * written sectors and the free blocks are exactly the identity blocks of the
 * written sectors plus the arena's 256 spare blocks.
 */
function sparseCheck(btt: Btt, sectors: number[]): void {
  for (const a of btt.arenas) {
    const written = sectors.map((s) => s - a.externalLbaStart).filter((p) => p >= 0 && p < a.externalNlba);
    const used = [...written.map((p) => btt.mapRead(a, p).postmap), ...a.freelist.map((f) => f.block)].sort((x, y) => x - y);
    const expected = [...written, ...Array.from({ length: a.nfree }, (_, i) => a.externalNlba + i)].sort((x, y) => x - y);
    expect(used).toEqual(expected);
  }
}

describe('crash consistency: every write of btt_write_pg', () => {
  it('several lanes, the same sector twice, 4096-byte sectors', () => {
    const ops: Op[] = [
      { sector: 1, lane: 0, version: 1 },
      { sector: 2, lane: 1, version: 1 },
      { sector: 1, lane: 2, version: 2 },
      { sector: 1, lane: 0, version: 3 },
      { sector: 5, lane: 255, version: 1 },
      { sector: 2, lane: 1, version: 2 },
    ];
    const points = crashSweep(20 * MiB, 4096, [1, 2, 3, 5], ops, true);
    expect(points).toBe(6 * 4 * 3);
  });

  it('512-byte sectors', () => {
    const ops: Op[] = [
      { sector: 7, lane: 3, version: 1 },
      { sector: 7, lane: 3, version: 2 },
      { sector: 8, lane: 4, version: 1 },
    ];
    expect(crashSweep(20 * MiB, 512, [7, 8, 9], ops, true)).toBe(3 * 4 * 3);
  });

  it('sectors in two arenas', () => {
    const size = ARENA_MAX_SIZE + 4096 + 20 * MiB;
    const probe = createArenas(size - 4096, 4096, 1, 1);
    expect(probe).toHaveLength(2);
    const first = probe[0]!.externalNlba;
    const ops: Op[] = [
      { sector: first - 1, lane: 0, version: 1 },
      { sector: first, lane: 0, version: 1 },
      { sector: first + 3, lane: 9, version: 1 },
      { sector: first, lane: 9, version: 2 },
    ];
    expect(crashSweep(size, 4096, [first - 1, first, first + 3], ops, false)).toBe(4 * 4 * 3);
  });

  it('a crash anywhere in btt_meta_init: the next attach lays out a fresh arena', () => {
    const opts = { lbasize: 4096, uuid: UUID };
    const counter = new CrashMedia(new MemoryMedia(20 * MiB));
    Btt.attach(counter, opts);
    const total = counter.writes;
    expect(total).toBe(1 + 4 + 512 + 2);
    let fresh = 0;
    for (let k = 1; k <= total; k++) {
      const img = new MemoryMedia(20 * MiB);
      expect(() => Btt.attach(new CrashMedia(img, k, 2048), opts)).toThrow(PowerFailure);
      const log: string[] = [];
      const r = Btt.attach(img, { ...opts, log: (_l, m) => log.push(m) });
      if (log.includes('No existing arenas')) fresh++;
      expect(r.checkArena(r.arenas[0]!)).toEqual([]);
      const out = new Uint8Array(4096).fill(1);
      r.readPage(0, out);
      expect(out.every((x) => x === 0)).toBe(true);
    }
    // the primary info block is the last write: a crash at any write, the torn
    // primary included, leaves no valid primary, so every re-attach starts over
    expect(fresh).toBe(total);
  });

  it('a crash between the log and the map is repaired by btt_freelist_init', () => {
    const media = new MemoryMedia(20 * MiB);
    const opts = { lbasize: 4096, uuid: UUID };
    Btt.attach(media, opts);
    const cm = new CrashMedia(media, 4);
    const b = Btt.attach(cm, opts);
    expect(() => b.writePage(8, pattern(1, 1, 4096), 2)).toThrow(PowerFailure);
    const a = b.arenas[0]!;
    // the map still holds the identity entry; the log has the new entry
    expect(u32(media, 4096 + a.mapoff + 4)).toBe(0);
    const r = Btt.attach(media, opts);
    expect(entLba(u32(media, 4096 + a.mapoff + 4))).toBe(a.externalNlba + 2);
    expect(u32(media, 4096 + a.mapoff + 4)).toBe(0xc0000000 + a.externalNlba + 2);
    const out = new Uint8Array(4096);
    r.readPage(8, out);
    expect(out).toEqual(pattern(1, 1, 4096));
    expect(r.checkArena(r.arenas[0]!)).toEqual([]);
  });

  it('raw pmem without BTT tears: the same crash points leave mixed sectors', () => {
    const media = new MemoryMedia(1 * MiB);
    media.write(0, pattern(0, 0, 4096));
    let torn = 0;
    for (const t of [8, 1024, 2048, 4088]) {
      const img = media.clone();
      const cm = new CrashMedia(img, 1, t);
      expect(() => cm.write(0, pattern(0, 1, 4096))).toThrow(PowerFailure);
      const out = snapshot(img, 0, 4096);
      if (!bytesEq(out, pattern(0, 0, 4096)) && !bytesEq(out, pattern(0, 1, 4096))) torn++;
    }
    expect(torn).toBe(4);
  });
});

describe('BTT versions and __nd_btt_probe', () => {
  it('BTT 2.0 (v1.2 labels, BTT2 claim): info block at offset 0, version 2.0', () => {
    const media = new MemoryMedia(32 * MiB);
    const parent = new Uint8Array(16).fill(7);
    const btt = Btt.attach(media, { lbasize: 4096, uuid: UUID, parentUuid: parent, claimClass: NvdimmClaimClass.NVDIMM_CCLASS_BTT2 });
    expect(btt.rawsize).toBe(32 * MiB);
    const sb = decodeBttSb(snapshot(media, 0, 4096));
    expect([sb.versionMajor, sb.versionMinor]).toEqual([2, 0]);
    expect(snapshot(media, 4096, 16).every((x) => x === 0)).toBe(true);
    expect(ndBttProbe(media, NvdimmClaimClass.NVDIMM_CCLASS_BTT2, parent)).toEqual({
      lbasize: 4096, uuid: UUID, initialOffset: 0, versionMajor: 2, versionMinor: 0,
    });
    // a label-less (BTT 1.1) probe looks at 4 KiB and finds nothing
    expectErrno(() => ndBttProbe(media, NvdimmClaimClass.NVDIMM_CCLASS_NONE, parent), 'ENODEV');
    // another namespace's uuid: not ours
    expectErrno(() => ndBttProbe(media, NvdimmClaimClass.NVDIMM_CCLASS_BTT2, UUID), 'ENODEV');
  });

  it('probe adopts lbasize and uuid of a BTT 1.1; ENXIO below 16 MiB', () => {
    const media = new MemoryMedia(32 * MiB);
    Btt.attach(media, { lbasize: 520, uuid: UUID });
    const p = ndBttProbe(media, NvdimmClaimClass.NVDIMM_CCLASS_BTT);
    expect([p.lbasize, p.initialOffset, p.versionMajor, p.versionMinor]).toEqual([520, 4096, 1, 1]);
    expect(p.uuid).toEqual(UUID);
    expectErrno(() => ndBttProbe(new MemoryMedia(16 * MiB - 4096), NvdimmClaimClass.NVDIMM_CCLASS_NONE), 'ENXIO');
  });
});

describe('info block parse', () => {
  it('decodeBttSb reads back what attach wrote', () => {
    const media = new MemoryMedia(32 * MiB);
    const btt = Btt.attach(media, { lbasize: 520, uuid: UUID });
    const sb = decodeBttSb(snapshot(media, 4096, 4096));
    expect(sb.externalLbasize).toBe(520);
    expect(sb.internalLbasize).toBe(576);
    expect(sb.externalNlba).toBe(btt.arenas[0]!.externalNlba);
    expect(btt.sectorSize).toBe(512);
  });
});
