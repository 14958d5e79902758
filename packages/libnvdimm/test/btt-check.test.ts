import { describe, expect, it } from 'vitest';
import { Btt } from '../src/btt.js';
import { CrashMedia, MemoryMedia, PowerFailure } from '../src/btt-media.js';
import { ndctlCheckNamespace } from '../src/btt-check.js';

const MiB = 2 ** 20;
const UUID = Uint8Array.from({ length: 16 }, (_, i) => 0x30 + i);
const opts = { lbasize: 4096, uuid: UUID };
const DEV = 'namespace0.0';

function image(size = 20 * MiB): { media: MemoryMedia; btt: Btt } {
  const media = new MemoryMedia(size);
  const btt = Btt.attach(media, opts);
  for (let s = 0; s < 4; s++) btt.writePage(s * 8, new Uint8Array(4096).fill(s + 1), s);
  return { media, btt };
}

function all(m: MemoryMedia): Uint8Array {
  const b = new Uint8Array(m.size);
  m.read(0, b);
  return b;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function corrupt(m: MemoryMedia, off: number): void {
  const b = new Uint8Array(1);
  m.read(off, b);
  m.write(off, Uint8Array.of((b[0]! + 1) % 256));
}

describe('ndctl check-namespace', () => {
  it('a clean BTT: rc 0, nothing on stderr; --verbose shows the walk', () => {
    const { media } = image();
    const r = ndctlCheckNamespace(media, { devname: DEV });
    expect(r.rc).toBe(0);
    expect(r.stderr).toEqual([]);
    const v = ndctlCheckNamespace(media, { devname: DEV, verbose: true });
    expect(v.stderr).toEqual([
      'namespace0.0: namespace_check: checking namespace0.0',
      'namespace0.0: btt_discover_arenas: found 1 BTT arena',
      'namespace0.0: log_set_indices: arena[0]: log_index_0 = 0',
      'namespace0.0: log_set_indices: arena[0]: log_index_1 = 1',
      'namespace0.0: btt_check_arenas: checking arena 0',
    ]);
  });

  it('a corrupt primary info block: reported without --repair (media unchanged), restored from info2 with it', () => {
    const { media, btt } = image();
    const a = btt.arenas[0]!;
    corrupt(media, 4096 + 60);
    const before = all(media);
    const r = ndctlCheckNamespace(media, { devname: DEV });
    // both start offsets are tried: the backup at the namespace end is a
    // BTT 1.1 block, which may only be restored at 0x1000
    expect(r.rc).toBe(-6);
    expect(r.stderr).toEqual([
      'namespace0.0: btt_write_info: BTT info block at offset 0x1000 needs to be restored',
      'namespace0.0: namespace_check: Unable to recover any BTT info blocks',
      'namespace0.0: namespace_check: This may not be a sector mode namespace',
    ]);
    expect(r.log.map((l) => l.message)).toContain('Attempting recover info-block from end-of-arena offset 0x13ff000');
    expect(same(all(media), before)).toBe(true);
    const fixed = ndctlCheckNamespace(media, { devname: DEV, repair: true, verbose: true });
    expect(fixed.rc).toBe(0);
    expect(fixed.stderr).toContain('namespace0.0: btt_write_info: Restoring BTT info block at offset 0x1000');
    const info = new Uint8Array(4096);
    const info2 = new Uint8Array(4096);
    media.read(4096, info);
    media.read(4096 + a.info2off, info2);
    expect(same(info, info2)).toBe(true);
    const re = Btt.attach(media, opts);
    const out = new Uint8Array(4096);
    re.readPage(16, out);
    expect(out.every((x) => x === 3)).toBe(true);
  });

  it('a corrupt info2: an error without --repair (rc stays 0), "Restoring BTT info2" with it', () => {
    const { media, btt } = image();
    const a = btt.arenas[0]!;
    corrupt(media, 4096 + a.info2off + 100);
    const r = ndctlCheckNamespace(media, { devname: DEV });
    expect(r.rc).toBe(0);
    expect(r.stderr).toEqual(['namespace0.0: btt_copy_to_info2: Arena 0: BTT info2 needs to be restored']);
    const f = ndctlCheckNamespace(media, { devname: DEV, repair: true });
    expect(f.stdout).toEqual(['Arena 0: Restoring BTT info2']);
    expect(ndctlCheckNamespace(media, { devname: DEV }).stderr).toEqual([]);
  });

  it('a map update lost in a crash: -ENXIO without --repair, fixed with it', () => {
    const { media, btt } = image();
    const ext = btt.arenas[0]!.externalNlba;
    const cm = new CrashMedia(media, 4);
    const b = Btt.attach(cm, opts);
    expect(() => b.writePage(40, new Uint8Array(4096).fill(9), 7)).toThrow(PowerFailure);
    const r = ndctlCheckNamespace(media, { devname: DEV, verbose: true });
    expect(r.rc).toBe(-6);
    expect(r.stderr).toContain(`namespace0.0: btt_check_log_map: arena 0: log[7].new_map (0x${(ext + 7).toString(16)}) doesn't match map[0x5] (0x5)`);
    expect(r.stderr).toContain(`namespace0.0: btt_map_write: Arena 0: map[0x5] needs to be updated to 0x${(ext + 7).toString(16)}`);
    expect(r.stderr).toContain('namespace0.0: repair_msg:   Run with --repair to make the changes');
    expect(r.stderr).toContain('namespace0.0: btt_xlat_status: arena 0: found a log entry that does not match with a map entry');
    const f = ndctlCheckNamespace(media, { devname: DEV, repair: true });
    expect(f.rc).toBe(0);
    const re = Btt.attach(media, opts);
    const out = new Uint8Array(4096);
    re.readPage(40, out);
    expect(out.every((x) => x === 9)).toBe(true);
  });

  it('bitmap error when two map entries share a block', () => {
    const { media, btt } = image();
    const a = btt.arenas[0]!;
    const e = new Uint8Array(4);
    media.read(4096 + a.mapoff, e);
    media.write(4096 + a.mapoff + 4 * 10, e);
    const r = ndctlCheckNamespace(media, { devname: DEV });
    expect(r.rc).toBe(-6);
    expect(r.stderr).toEqual(['namespace0.0: btt_xlat_status: arena 0: bitmap error: internal blocks are incorrectly referenced']);
  });

  it('no BTT at all', () => {
    const r = ndctlCheckNamespace(new MemoryMedia(20 * MiB), { devname: DEV });
    expect(r.rc).toBe(-6);
    expect(r.stderr).toEqual([
      'namespace0.0: namespace_check: Unable to recover any BTT info blocks',
      'namespace0.0: namespace_check: This may not be a sector mode namespace',
    ]);
  });
});
