// A port of ndctl's test/btt-pad-compat.sh (v72) to the kernel's sysfs and
// debugfs: a BTT laid out by v5.13 uses log slots (0,1); a BTT written by a
// kernel before 4.15, whose two 32-byte log entries per lane put the second
// one in 16-byte slot 2, is still read, written and found again with
// indices (0,2) (`log_set_indices()`, `btt_log_read()` with the detected
// index); `ndctl check-namespace --rewrite-log --repair` converts it, after
// which the kernel deduces (0,1) again. The indices are read where the
// script reads them, /sys/kernel/debug/btt/<btt>/arena0/log_index_{0,1}.
//
// Departures from the script: the namespace is the machine's label-less
// legacy one (BTT 1.1, info block at 4 KiB) rather than an nfit_test label
// namespace (BTT 2.0 at 0); the script's pre-generated image of an old
// kernel's BTT (btt-pad-compat.xxd, copied with `xxd -r`) is generated here
// by `oldKernelImage()` from the pre-4.15 layout rules and written through
// the raw /dev/pmem0 the same way; ndctl's enable/disable are their sysfs
// writes; the eight concurrent `dd`s each get their own lane, as on eight
// CPUs.
import { describe, expect, it } from 'vitest';
import { allocArena, bttSbChecksum, encodeBttSb, BTT_SIG, LOG_GRP_SIZE, MAP_ENT_NORMAL } from '../src/btt.js';
import { ndctlCheckNamespace } from '../src/btt-check.js';
import type { NdMedia } from '../src/btt-media.js';
import { GiB, ND, bootMachine, tryRead, tryWrite } from './machine.js';
import type { Machine } from './machine.js';

const NS = 'namespace0.0';
const UUID = '3c2b1a09-8f7e-4d6c-b5a4-938271605f4e';
const DEBUGFS = '/sys/kernel/debug/btt';
const BTT1_OFFSET = 4096;

function w(m: Machine, path: string, value: string): void {
  m.kernel.sysfs.write(path, value);
}

function holder(m: Machine): string {
  return m.kernel.sysfs.read(`${ND}/${NS}/holder`).trim();
}

/** The script's create(): `ndctl create-namespace -m sector`, then the holder is the btt device. */
function create(m: Machine): string {
  w(m, `${ND}/${NS}/driver/unbind`, `${NS}\n`);
  w(m, `${ND}/${NS}/holder_class`, 'btt\n');
  w(m, `${ND}/btt0.0/uuid`, `${UUID}\n`);
  w(m, `${ND}/btt0.0/sector_size`, '4096\n');
  w(m, `${ND}/btt0.0/namespace`, `${NS}\n`);
  w(m, '/sys/bus/nd/drivers/nd_pmem/bind', 'btt0.0\n');
  const btt = holder(m);
  expect(btt).toBe('btt0.0');
  expect(m.kernel.sysfs.exists(`${DEBUGFS}/${btt}/arena0/log_index_0`)).toBe(true);
  return btt;
}

/** The script's verify_idx(). */
function verifyIdx(m: Machine, btt: string, idx0: number, idx1: number): void {
  expect(tryRead(m, `${DEBUGFS}/${btt}/arena0/log_index_0`)).toBe(`${idx0}\n`);
  expect(tryRead(m, `${DEBUGFS}/${btt}/arena0/log_index_1`)).toBe(`${idx1}\n`);
}

const SEEKS = [0, 32, 64, 128, 256, 512, 1024, 2048];

/** A deterministic stand-in for /dev/urandom: the block's content names the block and the round. */
function block(lba: number, round: number): Uint8Array {
  const b = new Uint8Array(4096);
  for (let i = 0; i < b.length; i += 4) new DataView(b.buffer).setUint32(i, lba * 65537 + round * 7919 + i, true);
  return b;
}

/** The script's do_random_io(): eight `dd bs=4096 count=32` at the seeks, each on its own lane. */
function doRandomIo(m: Machine, round: number): void {
  const btt = m.nd.bttDisk('pmem0s')!.btt;
  for (let c = 0; c < 32; c++) {
    SEEKS.forEach((seek, lane) => btt.writePage((seek + c) * 8, block(seek + c, round), lane));
  }
}

function verifyIo(m: Machine, round: number): void {
  const disk = m.nd.bttDisk('pmem0s')!;
  for (const seek of SEEKS) {
    for (let c = 0; c < 32; c++) {
      const lba = seek + c;
      expect(Buffer.from(disk.read(lba * 4096, 4096)).equals(Buffer.from(block(lba, round))), `lba ${lba}`).toBe(true);
    }
  }
}

/** ndctl's disable-namespace of a sector namespace: the btt device is unbound and its claim deleted. */
function disable(m: Machine): void {
  const btt = holder(m);
  if (btt !== '') {
    if (m.kernel.sysfs.exists(`${ND}/${btt}/driver`)) w(m, `${ND}/${btt}/driver/unbind`, `${btt}\n`);
    w(m, `${ND}/${btt}/namespace`, '\n');
  }
  if (m.kernel.sysfs.exists(`${ND}/${NS}/driver`)) w(m, `${ND}/${NS}/driver/unbind`, `${NS}\n`);
}

/**
 * ndctl's enable-namespace: bind the namespace. With a BTT on the media the
 * namespace itself does not bind (-ENODEV): a btt device is made for the
 * BTT found and enabled ("enabled via btt").
 */
function enable(m: Machine): string | undefined {
  return tryWrite(m, '/sys/bus/nd/drivers/nd_pmem/bind', `${NS}\n`);
}

function cycleNs(m: Machine): string {
  disable(m);
  expect(enable(m)).toBe('ENODEV');
  return holder(m);
}

/** The script's force_raw(). */
function forceRaw(m: Machine, raw: 0 | 1): void {
  disable(m);
  w(m, `${ND}/${NS}/force_raw`, `${raw}\n`);
  const rc = enable(m);
  expect(rc).toBe(raw === 1 ? undefined : 'ENODEV');
  expect(m.nd.disk('pmem0') !== undefined).toBe(raw === 1);
}

/** `/dev/pmem0` in raw mode as the checker's pread/pwrite see it. */
function rawMedia(m: Machine): NdMedia {
  const disk = m.nd.disk('pmem0')!;
  return {
    size: disk.capacity,
    read: (off, dst) => dst.set(disk.read(off, dst.length)),
    write: (off, src) => void disk.write(off, src),
  };
}

/**
 * The BTT a kernel before 4.15 leaves on a label-less namespace of
 * `size` bytes with 4096-byte sectors, after writing `writes` (one per
 * lane, lane i writing its own lba): the same arena geometry and info block
 * as today, but each lane's log group holds two 32-byte entries — the
 * initial one `{lane, ext+lane, ext+lane, seq 1}` at bytes 0..31 and the
 * write's `{lba, old mapping, the lane's free block, seq 2}` at bytes
 * 32..63, i.e. 16-byte slots 0 and 2. Each write's data is in the lane's
 * first free block, the map entry points there. Returned as (namespace
 * offset, bytes) pieces, written to the raw disk like `xxd -r` does.
 */
function oldKernelImage(size: number, writes: readonly { lba: number; data: Uint8Array }[]): { off: number; bytes: Uint8Array }[] {
  const a = allocArena(size - BTT1_OFFSET, 0, 0, 4096, 4096, 1, 1);
  const at = (arenaOff: number): number => BTT1_OFFSET + arenaOff;
  const out: { off: number; bytes: Uint8Array }[] = [];
  out.push({ off: at(a.mapoff), bytes: new Uint8Array(a.logoff - a.mapoff) });
  const log = new Uint8Array(a.info2off - a.logoff);
  const lv = new DataView(log.buffer);
  const put = (o: number, lba: number, oldMap: number, newMap: number, seq: number): void => {
    lv.setUint32(o, lba, true);
    lv.setUint32(o + 4, oldMap, true);
    lv.setUint32(o + 8, newMap, true);
    lv.setUint32(o + 12, seq, true);
  };
  for (let lane = 0; lane < a.nfree; lane++) put(lane * LOG_GRP_SIZE, lane, a.externalNlba + lane, a.externalNlba + lane, 1);
  writes.forEach((wr, lane) => {
    const free = a.externalNlba + lane;
    out.push({ off: at(a.dataoff) + free * 4096, bytes: wr.data });
    put(lane * LOG_GRP_SIZE + 32, wr.lba, wr.lba, free, 2);
    const ent = new Uint8Array(4);
    new DataView(ent.buffer).setUint32(0, free + MAP_ENT_NORMAL, true);
    out.push({ off: at(a.mapoff) + wr.lba * 4, bytes: ent });
  });
  out.push({ off: at(a.logoff), bytes: log });
  const sb = encodeBttSb({
    signature: new TextEncoder().encode(BTT_SIG),
    uuid: Uint8Array.from({ length: 16 }, (_, i) => 0xf0 - i),
    parentUuid: new Uint8Array(16),
    flags: 0, versionMajor: 1, versionMinor: 1,
    externalLbasize: 4096, externalNlba: a.externalNlba, internalLbasize: 4096, internalNlba: a.internalNlba,
    nfree: a.nfree, infosize: 4096, nextoff: 0n,
    dataoff: BigInt(a.dataoff), mapoff: BigInt(a.mapoff), logoff: BigInt(a.logoff), info2off: BigInt(a.info2off),
    checksum: 0n,
  });
  new DataView(sb.buffer).setBigUint64(4088, bttSbChecksum(sb), true);
  out.push({ off: at(a.info2off), bytes: sb }, { off: at(a.infooff), bytes: sb });
  return out;
}

/** The script's create_oldfmt_ns(): a raw namespace made sector, then the old image copied over it through the raw disk. */
function createOldfmtNs(m: Machine, writes: readonly { lba: number; data: Uint8Array }[]): string {
  create(m);
  forceRaw(m, 1);
  const disk = m.nd.disk('pmem0')!;
  for (const p of oldKernelImage(disk.capacity, writes)) disk.write(p.off, p.bytes);
  forceRaw(m, 0);
  expect(m.nd.bttDisk('pmem0s')).toBeDefined();
  return holder(m);
}

describe('btt-pad-compat.sh', () => {
  it('a v5.13 BTT uses log slots (0,1), before and after I/O and a cycle', () => {
    const m = bootMachine();
    const btt = create(m);
    verifyIdx(m, btt, 0, 1);
    doRandomIo(m, 1);
    // cycle_ns: the btt device goes with its debugfs directory; enabling
    // the namespace finds the BTT and makes a btt device for it again
    disable(m);
    expect(m.kernel.sysfs.list(DEBUGFS)).toEqual([]);
    expect(enable(m)).toBe('ENODEV');
    const again = holder(m);
    expect(again).toBe('btt0.0');
    verifyIdx(m, again, 0, 1);
    verifyIo(m, 1);
  });

  it('a pre-4.15 BTT is found with (0,2), survives I/O and cycles, and --rewrite-log converts it to (0,1)', () => {
    const m = bootMachine();
    const old = SEEKS.map((lba) => ({ lba, data: block(lba, 0) }));
    let btt = createOldfmtNs(m, old);
    verifyIdx(m, btt, 0, 2);
    // the kernel reads what the old kernel wrote, through the (0,2) log
    const disk = m.nd.bttDisk('pmem0s')!;
    for (const o of old) expect(Buffer.from(disk.read(o.lba * 4096, 4096)).equals(Buffer.from(o.data))).toBe(true);
    expect(disk.read(4096, 4096)).toEqual(new Uint8Array(4096));

    doRandomIo(m, 2);
    btt = cycleNs(m);
    verifyIdx(m, btt, 0, 2);
    verifyIo(m, 2);
    // new entries went to slot 2, slots 1 and 3 stayed padding
    const a = m.nd.bttDisk('pmem0s')!.btt.arenas[0]!;
    const lane3 = m.nd.bttDisk('pmem0s')!.btt.logGroupRead(a, 3);
    expect(lane3[1]).toEqual({ lba: 0, oldMap: 0, newMap: 0, seq: 0 });
    expect(lane3[3]).toEqual({ lba: 0, oldMap: 0, newMap: 0, seq: 0 });
    expect(lane3[2]!.seq).not.toBe(0);

    // check-namespace --rewrite-log --repair --force --verbose
    forceRaw(m, 1);
    const r = ndctlCheckNamespace(rawMedia(m), { devname: NS, repair: true, rewriteLog: true, verbose: true });
    expect(r.rc).toBe(0);
    expect(r.stderr).toEqual([
      'namespace0.0: namespace_check: WARNING: interruption may cause unrecoverable metadata corruption',
      'namespace0.0: namespace_check: checking namespace0.0',
      'namespace0.0: btt_discover_arenas: found 1 BTT arena',
      'namespace0.0: log_set_indices: arena[0]: log_index_0 = 0',
      'namespace0.0: log_set_indices: arena[0]: log_index_1 = 2',
      'namespace0.0: btt_check_arenas: checking arena 0',
      'namespace0.0: btt_rewrite_log: arena 0: rewriting log',
    ]);
    forceRaw(m, 0);
    btt = holder(m);
    // an all-initial log: the kernel assumes the new scheme
    verifyIdx(m, btt, 0, 1);
    verifyIo(m, 2);
    doRandomIo(m, 3);
    btt = cycleNs(m);
    verifyIdx(m, btt, 0, 1);
    verifyIo(m, 3);

    // check-namespace again: clean
    forceRaw(m, 1);
    const again = ndctlCheckNamespace(rawMedia(m), { devname: NS, verbose: true });
    expect(again.rc).toBe(0);
    expect(again.stderr).toContain('namespace0.0: log_set_indices: arena[0]: log_index_1 = 1');

    // ns_info_wipe: zero the first two blocks; the next enable finds no BTT
    rawMedia(m).write(0, new Uint8Array(8192));
    disable(m);
    w(m, `${ND}/${NS}/force_raw`, '0\n');
    expect(enable(m)).toBeUndefined();
    expect(holder(m)).toBe('');
    expect(m.nd.disk('pmem0')!.capacity).toBe(GiB);
  });

  it('--rewrite-log without --repair is refused before the namespace is read', () => {
    const m = bootMachine();
    createOldfmtNs(m, [{ lba: 5, data: block(5, 0) }]);
    forceRaw(m, 1);
    const media = rawMedia(m);
    let reads = 0;
    const counted: NdMedia = { size: media.size, read: (o, d) => { reads++; media.read(o, d); }, write: media.write };
    const r = ndctlCheckNamespace(counted, { devname: NS, rewriteLog: true, verbose: true });
    expect(r).toEqual({
      rc: -22,
      log: [{ priority: 'err', fn: 'namespace_check', message: '--rewrite-log also requires --repair' }],
      stderr: ['namespace0.0: namespace_check: --rewrite-log also requires --repair'],
      stdout: [],
    });
    expect(reads).toBe(0);
    forceRaw(m, 0);
    verifyIdx(m, holder(m), 0, 2);
  });

  it('--rewrite-log leaves a corrupt arena alone: the check fails first, and the log keeps (0,2)', () => {
    const m = bootMachine();
    createOldfmtNs(m, [{ lba: 5, data: block(5, 0) }, { lba: 9, data: block(9, 0) }]);
    forceRaw(m, 1);
    const media = rawMedia(m);
    const a = allocArena(media.size - BTT1_OFFSET, 0, 0, 4096, 4096, 1, 1);
    // lane 1's slot-2 entry gets the sequence number of slot 0
    const seq = new Uint8Array(4);
    new DataView(seq.buffer).setUint32(0, 1, true);
    media.write(BTT1_OFFSET + a.logoff + LOG_GRP_SIZE + 32 + 12, seq);
    const logBefore = new Uint8Array(a.info2off - a.logoff);
    media.read(BTT1_OFFSET + a.logoff, logBefore);
    const r = ndctlCheckNamespace(media, { devname: NS, repair: true, rewriteLog: true });
    expect(r.rc).toBe(-6);
    expect(r.stderr).toEqual(['namespace0.0: btt_xlat_status: arena 0: found a pair of log entries with the same sequence number']);
    expect(r.log.some((l) => l.fn === 'btt_rewrite_log')).toBe(false);
    const logAfter = new Uint8Array(logBefore.length);
    media.read(BTT1_OFFSET + a.logoff, logAfter);
    expect(Buffer.from(logAfter).equals(Buffer.from(logBefore))).toBe(true);
  });

  it('the debugfs files show the arena as the kernel formats them, read-only, and go away with the BTT', () => {
    const m = bootMachine();
    const btt = create(m);
    const d = `${DEBUGFS}/${btt}/arena0`;
    const files = Object.fromEntries(m.kernel.sysfs.list(d).map((f) => [f, m.kernel.sysfs.read(`${d}/${f}`)]));
    // 1 GiB label-less namespace, 4096-byte sectors (reference worked example)
    expect(files).toEqual({
      dataoff: '0x0000000000001000\n',
      external_lba_start: '0x0000000000000000\n',
      external_lbasize: '4096\n',
      external_nlba: '0x0003fdf8\n',
      flags: '0x00000000\n',
      info2off: '0x000000003fffe000\n',
      infooff: '0x0000000000000000\n',
      internal_lbasize: '4096\n',
      internal_nlba: '0x0003fef8\n',
      log_index_0: '0\n',
      log_index_1: '1\n',
      logoff: '0x000000003fffa000\n',
      mapoff: '0x000000003fefa000\n',
      nextoff: '0x0000000000000000\n',
      nfree: '256\n',
      size: '0x000000003ffff000\n',
      version_major: '1\n',
      version_minor: '1\n',
    });
    expect(Number.parseInt(files.external_nlba!, 16)).toBe(261624);
    expect(m.kernel.sysfs.stat(`${d}/log_index_0`).mode).toBe(0o444);
    expect(tryWrite(m, `${d}/log_index_1`, '2\n')).toBe('EACCES');
    expect(tryRead(m, `${d}/log_index_1`)).toBe('1\n');
    w(m, `${ND}/${btt}/driver/unbind`, `${btt}\n`);
    expect(m.kernel.sysfs.list(DEBUGFS)).toEqual([]);
  });
});
