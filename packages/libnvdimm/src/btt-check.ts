/**
 * `ndctl check-namespace`: the userspace BTT checker (ndctl v72 ndctl/check.c).
 *
 * The kernel trusts the primary info block of each arena and repairs only
 * one thing on its own, a map update lost in a crash (`btt_freelist_init()`).
 * Everything else is left to this offline checker, which ndctl runs on the
 * namespace in raw mode: it finds the first info block (BTT 1.1 at 4 KiB,
 * BTT 2.0 at 0) or recovers it from a backup, walks the arenas, restoring a
 * corrupt primary from `info2`, and checks each arena in order — log entries
 * in bounds, map entries in bounds, every lane's newest log entry reflected
 * in the map (fixing it with `--repair`), `info2` equal to the primary, and
 * the bitmap check: map entries and free blocks together reference every
 * internal block exactly once. Without `--repair` nothing is written and
 * each needed change is reported with "Run with --repair to make the
 * changes". `--rewrite-log` (with `--repair`) finally rewrites each arena's
 * log in the current (0,1) padding scheme: the way to convert a BTT written
 * by a kernel before 4.15, whose two log entries per lane sit in slots 0
 * and 2.
 *
 * Messages go through ndctl's log (util/log.c): by default only errors are
 * printed, as `<namespace>: <function>: <message>`; `--verbose` prints the
 * informational ones too.
 */

import { KernelError, checkUnsigned } from '@zonedev/kernel';
import type { NdMedia } from './btt-media.js';
import {
  ARENA_MAX_SIZE, ARENA_MIN_SIZE, BTT_SIG, IB_FLAG_ERROR_MASK, LOG_ENT_SIZE, LOG_GRP_SIZE, MAP_ENT_SIZE, bttSbChecksum,
  decodeBttSb, entEFlag, entLba, entZFlag,
} from './btt.js';
import type { BttSb, LogEntry } from './btt.js';

const BTT_INFO_SIZE = 4096;
const BTT1_START_OFFSET = 4096;
const BTT2_START_OFFSET = 0;
const MAP_ENT_NORMAL = 0xc0000000;

/**
 * One line of ndctl's log: its priority, the C function that logged it, and
 * the text (without newline).
 * @public
 */
export interface CheckLogLine {
  priority: 'err' | 'info';
  fn: string;
  message: string;
}

/**
 * The outcome of {@link ndctlCheckNamespace}: `rc` is 0 for a clean (or
 * repaired) BTT, else the negative errno ndctl returns (-ENXIO for metadata
 * problems); `stderr` holds the log lines ndctl prints at the chosen
 * verbosity, `stdout` what it prints with `printf`.
 * @public
 */
export interface CheckResult {
  rc: number;
  log: CheckLogLine[];
  stderr: string[];
  stdout: string[];
}

/**
 * Options of `ndctl check-namespace`.
 * @public
 */
export interface CheckOptions {
  /** The namespace name used as the log prefix, e.g. `namespace0.0`. */
  devname: string;
  /** The namespace's uuid (null for a label-less namespace). */
  parentUuid?: Uint8Array;
  /** `--repair`. */
  repair?: boolean;
  /** `--verbose`. */
  verbose?: boolean;
  /**
   * `--rewrite-log` (`-L`): after a clean check of an arena, rewrite its log
   * in the initial state of the (0,1) padding scheme, converting a log of the
   * old (0,2) scheme. Needs `repair`.
   */
  rewriteLog?: boolean;
}

interface ChkArena {
  num: number;
  internalNlba: number;
  internalLbasize: number;
  externalNlba: number;
  externalLbasize: number;
  nfree: number;
  nextoff: number;
  infooff: number;
  dataoff: number;
  mapoff: number;
  logoff: number;
  info2off: number;
  size: number;
  flags: number;
  logIndex: [number, number];
}

class Fail extends Error {
  constructor(readonly rc: number) {
    super(`check failed: ${rc}`);
  }
}

const ENXIO = 6;
const EINVAL = 22;

/** The checker's state for one run (`struct btt_chk`). */
class BttChk {
  readonly log: CheckLogLine[] = [];
  readonly stdout: string[] = [];
  startOff = 0;
  readonly arenas: ChkArena[] = [];
  readonly rawsize: number;

  constructor(readonly media: NdMedia, readonly opts: CheckOptions) {
    this.rawsize = media.size;
  }

  err(fn: string, message: string): void {
    this.log.push({ priority: 'err', fn, message });
  }

  info(fn: string, message: string): void {
    this.log.push({ priority: 'info', fn, message });
  }

  read(off: number, len: number): Uint8Array {
    const b = new Uint8Array(len);
    this.media.read(off, b);
    return b;
  }

  readInfo(off: number): Uint8Array {
    if (off + BTT_INFO_SIZE > this.rawsize) {
      this.err('btt_read_info', `short read of first info block: ${Math.max(0, this.rawsize - off)}`);
      throw new Fail(-ENXIO);
    }
    return this.read(off, BTT_INFO_SIZE);
  }

  /** `btt_info_verify()`: signature, parent uuid, checksum. */
  infoVerify(buf: Uint8Array): boolean {
    const sb = decodeBttSb(buf);
    for (let i = 0; i < 16; i++) if (sb.signature[i] !== (i < BTT_SIG.length ? BTT_SIG.charCodeAt(i) : 0)) return false;
    if (!sb.parentUuid.every((b) => b === 0)) {
      const p = this.opts.parentUuid;
      if (p === undefined || !sb.parentUuid.every((b, i) => b === p[i])) return false;
    }
    return sb.checksum === bttSbChecksum(buf);
  }

  repairMsg(): void {
    this.info('repair_msg', '  Run with --repair to make the changes');
  }

  /** `btt_write_info()`. */
  writeInfo(buf: Uint8Array, off: number): void {
    if (this.opts.repair !== true) {
      this.err('btt_write_info', `BTT info block at offset 0x${off.toString(16)} needs to be restored`);
      this.repairMsg();
      throw new Fail(-1);
    }
    this.info('btt_write_info', `Restoring BTT info block at offset 0x${off.toString(16)}`);
    this.media.write(off, buf);
  }

  readVerify(off: number): Uint8Array | undefined {
    const b = this.readInfo(off);
    return this.infoVerify(b) ? b : undefined;
  }

  /** `__btt_recover_first_sb()`, attempts 1 and 3 (attempt 2 needs several arenas). */
  recoverFirstSbAt(off: number): boolean {
    let estArenas = 0;
    let remaining = this.rawsize - off;
    while (remaining > 0) {
      if (remaining < ARENA_MIN_SIZE && estArenas === 0) return false;
      if (remaining > ARENA_MAX_SIZE) {
        remaining -= ARENA_MAX_SIZE;
        estArenas++;
        continue;
      }
      if (remaining < ARENA_MIN_SIZE) break;
      remaining = 0;
      estArenas++;
      break;
    }
    this.info('__btt_recover_first_sb', `estimated arenas: ${estArenas}, remaining bytes: 0x${remaining.toString(16)}`);
    const first = decodeBttSb(this.readInfo(off));
    const end = estArenas === 1
      ? Math.floor((this.rawsize - remaining) / 4096) * 4096 - BTT_INFO_SIZE
      : ARENA_MAX_SIZE - BTT_INFO_SIZE + off;
    this.info('__btt_recover_first_sb', `Attempting recover info-block from end-of-arena offset 0x${end.toString(16)}`);
    const b = this.readVerify(end);
    if (b !== undefined) {
      const sb = decodeBttSb(b);
      const expected = sb.versionMajor === 1 && sb.versionMinor === 1 ? BTT1_START_OFFSET
        : sb.versionMajor === 2 && sb.versionMinor === 0 ? BTT2_START_OFFSET : -1;
      if (expected !== off) return false;
      this.writeInfo(b, off);
      return true;
    }
    const info2 = Number(first.info2off % 2n ** 32n);
    if (info2 > Math.min(this.rawsize - BTT_INFO_SIZE, ARENA_MAX_SIZE - BTT_INFO_SIZE + off)) return false;
    if (info2 === 0) return false;
    this.info('__btt_recover_first_sb', `Attempting to recover info-block from info2 offset 0x${info2.toString(16)}`);
    const c = this.readVerify(info2 + off);
    if (c === undefined) return false;
    this.writeInfo(c, off);
    return true;
  }

  /** `btt_parse_meta()`. */
  parseMeta(num: number, sb: BttSb, arenaOff: number): ChkArena {
    const a: ChkArena = {
      num,
      internalNlba: sb.internalNlba,
      internalLbasize: sb.internalLbasize,
      externalNlba: sb.externalNlba,
      externalLbasize: sb.externalLbasize,
      nfree: sb.nfree,
      nextoff: sb.nextoff === 0n ? 0 : arenaOff + Number(sb.nextoff),
      infooff: arenaOff,
      dataoff: arenaOff + Number(sb.dataoff),
      mapoff: arenaOff + Number(sb.mapoff),
      logoff: arenaOff + Number(sb.logoff),
      info2off: arenaOff + Number(sb.info2off),
      size: 0,
      flags: sb.flags,
      logIndex: [0, 1],
    };
    if (a.internalNlba - a.externalNlba !== a.nfree) throw new Fail(-ENXIO);
    if (a.internalLbasize !== a.externalLbasize) throw new Fail(-ENXIO);
    a.size = sb.nextoff > 0n ? Number(sb.nextoff) : a.info2off - a.infooff + BTT_INFO_SIZE;
    if (sb.flags % 2 === IB_FLAG_ERROR_MASK) {
      this.err('btt_parse_meta', 'Info block error flag is set, aborting');
      throw new Fail(-ENXIO);
    }
    return a;
  }

  /** `btt_discover_arenas()`: restores a bad primary from the arena's backup. */
  discoverArenas(): void {
    let remaining = this.rawsize;
    let curOff = this.startOff;
    let i = 0;
    while (remaining > 0) {
      let buf = this.readInfo(curOff);
      if (!this.infoVerify(buf)) {
        const offset = remaining <= ARENA_MAX_SIZE
          ? Math.floor(this.rawsize / 4096) * 4096 - BTT_INFO_SIZE
          : curOff + ARENA_MAX_SIZE - BTT_INFO_SIZE;
        this.info('btt_discover_arenas', `Arena ${i}: Attempting recover info-block using info2`);
        buf = this.readInfo(offset);
        if (!this.infoVerify(buf)) {
          this.err('btt_discover_arenas', `Backup info block (offset 0x${offset.toString(16)}) verification failed`);
          throw new Fail(-ENXIO);
        }
        try {
          this.writeInfo(buf, curOff);
        } catch (e) {
          if (e instanceof Fail) this.err('btt_discover_arenas', `Restoration of the info block failed: ${e.rc}`);
          throw e;
        }
      }
      let a: ChkArena;
      try {
        a = this.parseMeta(i, decodeBttSb(buf), curOff);
      } catch (e) {
        if (e instanceof Fail) this.err('btt_discover_arenas', `Problem parsing arena[${i}] metadata`);
        throw e;
      }
      this.arenas.push(a);
      remaining -= a.size;
      curOff += a.size;
      i++;
      if (a.nextoff === 0) break;
    }
    this.info('btt_discover_arenas', `found ${i} BTT arena${i > 1 ? 's' : ''}`);
  }

  logGroup(a: ChkArena, lane: number): LogEntry[] {
    const b = this.read(a.logoff + lane * LOG_GRP_SIZE, LOG_GRP_SIZE);
    const v = new DataView(b.buffer);
    return [0, 1, 2, 3].map((j) => ({
      lba: v.getUint32(j * LOG_ENT_SIZE, true),
      oldMap: v.getUint32(j * LOG_ENT_SIZE + 4, true),
      newMap: v.getUint32(j * LOG_ENT_SIZE + 8, true),
      seq: v.getUint32(j * LOG_ENT_SIZE + 12, true),
    }));
  }

  /** `log_set_indices()` (ndctl's copy of the kernel's). */
  logSetIndices(a: ChkArena): void {
    let idxSet = false;
    let initialState = true;
    const idx = [-1, -1];
    let next = 0;
    const pad = (e: LogEntry): boolean => e.lba === 0 && e.oldMap === 0 && e.newMap === 0 && e.seq === 0;
    const fail = (): never => {
      this.err('namespace_check', 'Unable to deduce log/padding indices');
      throw new Fail(-ENXIO);
    };
    for (let i = 0; i < a.nfree; i++) {
      const log = this.logGroup(a, i);
      let padCount = 0;
      for (let j = 0; j < 4; j++) {
        const e = log[j] as LogEntry;
        if (!idxSet) {
          if (pad(e)) {
            padCount++;
            continue;
          }
          if (next === 1 && j === idx[0]) continue;
          idx[next] = j;
          next++;
          if (next === 2) idxSet = true;
          else if (next > 2) fail();
        } else if (j === idx[0]) {
          if (pad(e)) fail();
        } else if (j !== idx[1]) {
          if (!pad(e)) fail();
        }
      }
      if (padCount < 3) initialState = false;
    }
    if (!initialState && !idxSet) fail();
    if (initialState) idx[1] = 1;
    if (!(idx[0] === 0 && (idx[1] === 1 || idx[1] === 2))) {
      this.err('log_set_indices', 'Found an unknown padding scheme');
      fail();
    }
    a.logIndex = [idx[0] as number, idx[1] as number];
    this.info('log_set_indices', `arena[${a.num}]: log_index_0 = ${a.logIndex[0]}`);
    this.info('log_set_indices', `arena[${a.num}]: log_index_1 = ${a.logIndex[1]}`);
  }

  /** ndctl's `btt_log_read()`: the newest entry of a lane. */
  logRead(a: ChkArena, lane: number): LogEntry {
    const log = this.logGroup(a, lane);
    const e0 = log[a.logIndex[0]] as LogEntry;
    const e1 = log[a.logIndex[1]] as LogEntry;
    let old: number;
    if (e0.seq === 0) {
      e0.seq = 1;
      old = 0;
    } else if (e0.seq < e1.seq) old = e1.seq - e0.seq === 1 ? 0 : 1;
    else old = e0.seq - e1.seq === 1 ? 1 : 0;
    return { ...(log[a.logIndex[(1 - old) as 0 | 1]] as LogEntry) };
  }

  mapRaw(a: ChkArena, lba: number): number {
    return new DataView(this.read(a.mapoff + lba * MAP_ENT_SIZE, MAP_ENT_SIZE).buffer).getUint32(0, true);
  }

  /** `btt_map_lookup()`: any flag bit means "the entry holds a postmap". */
  static lookup(raw: number, lba: number): number {
    return entZFlag(raw) || entEFlag(raw) ? entLba(raw) : lba;
  }

  readMap(a: ChkArena): DataView {
    return new DataView(this.read(a.mapoff, a.externalNlba * MAP_ENT_SIZE).buffer);
  }

  checkLogEntries(a: ChkArena): string | undefined {
    for (let i = 0; i < a.nfree; i++) {
      const log = this.logGroup(a, i);
      const s0 = (log[a.logIndex[0]] as LogEntry).seq;
      const s1 = (log[a.logIndex[1]] as LogEntry).seq;
      if (s0 === s1) return 'found a pair of log entries with the same sequence number';
      if (s0 > 3 || s1 > 3) return 'found a log entry with an out of bounds sequence number';
    }
    for (let i = 0; i < a.nfree; i++) {
      const e = this.logRead(a, i);
      if (e.lba >= a.externalNlba) return 'found a log entry with an out of bounds LBA';
      if (e.oldMap >= a.internalNlba) return "found a log entry with an out of bounds 'old' mapping";
      if (e.newMap >= a.internalNlba) return "found a log entry with an out of bounds 'new' mapping";
    }
    return undefined;
  }

  checkMapEntries(a: ChkArena): string | undefined {
    const map = this.readMap(a);
    for (let i = 0; i < a.externalNlba; i++) {
      if (BttChk.lookup(map.getUint32(i * 4, true), i) >= a.internalNlba) return 'found a map entry that is out of bounds';
    }
    return undefined;
  }

  /** `btt_check_log_map()`: replays a lost map update (with --repair). */
  checkLogMap(a: ChkArena): string | undefined {
    let failed = false;
    for (let i = 0; i < a.nfree; i++) {
      const e = this.logRead(a, i);
      const mapping = BttChk.lookup(this.mapRaw(a, e.lba), e.lba);
      if (e.newMap !== mapping && e.oldMap === mapping) {
        this.info('btt_check_log_map', `arena ${a.num}: log[${i}].new_map (0x${e.newMap.toString(16)}) doesn't match map[0x${e.lba.toString(16)}] (0x${mapping.toString(16)})`);
        if (this.opts.repair !== true) {
          this.err('btt_map_write', `Arena ${a.num}: map[0x${e.lba.toString(16)}] needs to be updated to 0x${e.newMap.toString(16)}`);
          this.repairMsg();
          failed = true;
        } else {
          this.info('btt_map_write', `Arena ${a.num}: Updating map[0x${e.lba.toString(16)}] to 0x${e.newMap.toString(16)}`);
          const b = new Uint8Array(4);
          new DataView(b.buffer).setUint32(0, entLba(e.newMap) + MAP_ENT_NORMAL, true);
          this.media.write(a.mapoff + e.lba * MAP_ENT_SIZE, b);
        }
      }
    }
    return failed ? 'found a log entry that does not match with a map entry' : undefined;
  }

  /** `btt_check_info2()` / `btt_copy_to_info2()`. */
  checkInfo2(a: ChkArena): void {
    const info = this.read(a.infooff, BTT_INFO_SIZE);
    const info2 = this.read(a.info2off, BTT_INFO_SIZE);
    if (info.every((b, i) => b === info2[i])) return;
    if (this.opts.repair !== true) {
      this.err('btt_copy_to_info2', `Arena ${a.num}: BTT info2 needs to be restored`);
      this.repairMsg();
      return;
    }
    this.stdout.push(`Arena ${a.num}: Restoring BTT info2`);
    this.media.write(a.info2off, info);
  }

  /** `btt_check_bitmap()`. */
  checkBitmap(a: ChkArena): string | undefined {
    const bm = new Uint8Array(a.internalNlba);
    const map = this.readMap(a);
    for (let i = 0; i < a.externalNlba; i++) {
      const m = BttChk.lookup(map.getUint32(i * 4, true), i);
      if (bm[m] === 1) {
        this.info('btt_check_bitmap', `arena ${a.num}: internal block 0x${m.toString(16)} is referenced by two map entries`);
        return 'bitmap error: internal blocks are incorrectly referenced';
      }
      bm[m] = 1;
    }
    for (let i = 0; i < a.nfree; i++) {
      const e = this.logRead(a, i);
      if (bm[e.oldMap] === 1) {
        this.info('btt_check_bitmap', `arena ${a.num}: internal block 0x${e.oldMap.toString(16)} is referenced by two map/log entries`);
        return 'bitmap error: internal blocks are incorrectly referenced';
      }
      bm[e.oldMap] = 1;
    }
    if (!bm.every((b) => b === 1)) return 'bitmap error: internal blocks are incorrectly referenced';
    return undefined;
  }

  /**
   * `btt_rewrite_log()`: every lane's log group becomes the initial state of
   * the (0,1) scheme — slot 0 holds the lane's newest entry (its `old_map`
   * is the lane's free block) with sequence number 1, the other three slots
   * are zero. The kernel then deduces (0,1) from the all-initial log, and a
   * pre-4.15 kernel, which shares slot 0, still finds its free blocks.
   */
  rewriteLog(a: ChkArena): void {
    this.info('btt_rewrite_log', `arena ${a.num}: rewriting log`);
    const group = new Uint8Array(LOG_GRP_SIZE);
    const v = new DataView(group.buffer);
    for (let i = 0; i < a.nfree; i++) {
      const e = this.logRead(a, i);
      v.setUint32(0, e.lba, true);
      v.setUint32(4, e.oldMap, true);
      v.setUint32(8, e.newMap, true);
      v.setUint32(12, 1, true);
      this.media.write(a.logoff + i * LOG_GRP_SIZE, group);
    }
  }

  /** `btt_check_arenas()`. */
  checkArenas(): void {
    for (const a of this.arenas) {
      this.info('btt_check_arenas', `checking arena ${a.num}`);
      const problem = this.checkLogEntries(a) ?? this.checkMapEntries(a) ?? this.checkLogMap(a);
      if (problem === undefined) this.checkInfo2(a);
      const p2 = problem ?? this.checkBitmap(a);
      if (p2 === undefined && this.opts.rewriteLog === true) this.rewriteLog(a);
      if (p2 !== undefined) {
        if (p2.startsWith('found a log entry that does not match')) this.info('btt_xlat_status', `arena ${a.num}: ${p2}`);
        else this.err('btt_xlat_status', `arena ${a.num}: ${p2}`);
        throw new Fail(-ENXIO);
      }
    }
  }
}

/**
 * `namespace_check()` (ndctl v72 ndctl/check.c) on the raw bytes of a
 * namespace: finds the BTT (1.1 at 4 KiB, then 2.0 at 0, then recovery of
 * the first info block from a backup), discovers the arenas (restoring a bad
 * primary from `info2`), deduces each log's padding scheme and checks every
 * arena, rewriting each clean arena's log with `rewriteLog` (which without
 * `repair` is refused before anything is read: rc -EINVAL, "--rewrite-log
 * also requires --repair"). Writes only with `repair`. EINVAL (thrown) for
 * bad options. The caller is
 * responsible for ndctl's "check aborted, namespace online" (the namespace
 * must be disabled).
 * @public
 */
export function ndctlCheckNamespace(media: NdMedia, options: CheckOptions): CheckResult {
  if (typeof media !== 'object' || media === null) throw new KernelError('EINVAL', 'check-namespace: no namespace');
  checkUnsigned('check-namespace', 'namespace size', media.size);
  if (typeof options?.devname !== 'string') throw new KernelError('EINVAL', 'check-namespace: no device name');
  if (options.parentUuid !== undefined && (!(options.parentUuid instanceof Uint8Array) || options.parentUuid.length !== 16)) {
    throw new KernelError('EINVAL', 'check-namespace: parent uuid must be 16 bytes');
  }
  const c = new BttChk(media, options);
  let rc = 0;
  if (options.rewriteLog === true) {
    if (options.repair !== true) {
      c.err('namespace_check', '--rewrite-log also requires --repair');
      return { rc: -EINVAL, log: c.log, stderr: c.log.map((l) => `${options.devname}: ${l.fn}: ${l.message}`), stdout: [] };
    }
    c.info('namespace_check', 'WARNING: interruption may cause unrecoverable metadata corruption');
  }
  c.info('namespace_check', `checking ${options.devname}`);
  try {
    if (c.readVerify(BTT1_START_OFFSET) !== undefined) c.startOff = BTT1_START_OFFSET;
    else if (c.readVerify(BTT2_START_OFFSET) !== undefined) c.startOff = BTT2_START_OFFSET;
    else {
      let ok = false;
      let last = -ENXIO;
      for (const off of [BTT1_START_OFFSET, BTT2_START_OFFSET]) {
        try {
          if (c.recoverFirstSbAt(off)) {
            c.startOff = off;
            ok = true;
            break;
          }
          last = -ENXIO;
        } catch (e) {
          if (!(e instanceof Fail)) throw e;
          last = e.rc;
        }
      }
      if (!ok) {
        c.err('namespace_check', 'Unable to recover any BTT info blocks');
        c.err('namespace_check', 'This may not be a sector mode namespace');
        throw new Fail(last);
      }
    }
    c.discoverArenas();
    for (const a of c.arenas) c.logSetIndices(a);
    c.checkArenas();
  } catch (e) {
    if (!(e instanceof Fail)) throw e;
    rc = e.rc;
  }
  const shown = c.log.filter((l) => l.priority === 'err' || options.verbose === true);
  return {
    rc,
    log: c.log,
    stderr: shown.map((l) => `${options.devname}: ${l.fn}: ${l.message}`),
    stdout: c.stdout,
  };
}
