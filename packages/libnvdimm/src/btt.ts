/**
 * The Block Translation Table: atomic sectors on media that has none.
 *
 * Persistent memory is written by CPU stores; only an aligned 8-byte store is
 * atomic. A power failure in the middle of a 4 KiB write leaves a sector that
 * is half old and half new, which no filesystem expects from a disk. The BTT
 * (drivers/nvdimm/btt.c, btt.h, btt_devs.c) fixes that with one level of
 * indirection: the namespace is cut into arenas of at most 512 GiB, and each
 * arena holds more internal blocks than it exports. A write never touches the
 * block that holds a sector's current data. It takes a free block owned by its
 * lane, writes the new data there, records `{premap, old, new, seq}` in the
 * lane's log (the commit point), and only then points the map entry at the
 * new block; the old block becomes the lane's next free block. After a crash,
 * the log tells which block is free, and a map update that did not land is
 * replayed (`btt_freelist_init()`).
 *
 * An arena on the media (offsets relative to the arena; the first arena starts
 * at namespace offset 4096 for BTT 1.1 and 0 for BTT 2.0):
 *
 * ```
 *  +--------+---------------------------+-------+-------+--------+
 *  | info   | data: internal_nlba blocks|  map  |  log  | info2  |
 *  | 4 KiB  | of internal_lbasize bytes | 4 B/  | 64 B/ | 4 KiB  |
 *  |        |                           | lba   | lane  | backup |
 *  +--------+---------------------------+-------+-------+--------+
 *  infooff  dataoff                     mapoff  logoff  info2off
 * ```
 *
 * A map entry (4 bytes, little endian, at `mapoff + premap * 4`):
 *
 * ```
 *   31  30  29                                  0
 *  +---+---+-------------------------------------+
 *  | Z | E |              postmap                |
 *  +---+---+-------------------------------------+
 *   Z E = 0 0  never written: postmap is premap (an all-zero map is identity)
 *         0 1  media error: a read returns -EIO
 *         1 0  trimmed: a read returns zeros
 *         1 1  normal: the data lives in block `postmap`
 * ```
 *
 * A log group (64 bytes per lane) holds four 16-byte entries `{lba, old_map,
 * new_map, seq}`; two are in use (slots 0 and 1, or 0 and 2 in the layout
 * written before Linux 4.15), the others are zero padding. Sequence numbers
 * cycle 1, 2, 3, 1; the entry with the later number is the newest.
 *
 * The model follows v5.13: every media access goes through the namespace's
 * byte interface ({@link NdMedia}), in the kernel's order, so a crash can be
 * injected between any two of them.
 */

import { ERRNO, KernelError, checkUnsigned, roundUp } from '@zonedev/kernel';
import type { Tracer } from '@zonedev/kernel';
import { ndSbChecksum } from './fletcher.js';
import type { NdMedia } from './btt-media.js';
import { BTT_LBASIZE_SUPPORTED, NvdimmClaimClass } from './nd.js';

// --- include/linux/nd.h, drivers/nvdimm/nd.h, btt.h constants

/** `ND_MAX_LANES` (drivers/nvdimm/nd.h). @public */
export const ND_MAX_LANES = 256;
/** `INT_LBASIZE_ALIGNMENT` (drivers/nvdimm/nd.h): internal blocks are 64-byte aligned. @public */
export const INT_LBASIZE_ALIGNMENT = 64;
/** `BTT_SIG`: the 16-byte signature field of `struct btt_sb`. @public */
export const BTT_SIG = 'BTT_ARENA_INFO\0';
/** `BTT_SIG_LEN`. @public */
export const BTT_SIG_LEN = 16;
/** `MAP_ENT_SIZE`. @public */
export const MAP_ENT_SIZE = 4;
/** `MAP_TRIM_SHIFT`: bit 31, Z. @public */
export const MAP_TRIM_SHIFT = 31;
/** `MAP_ERR_SHIFT`: bit 30, E. @public */
export const MAP_ERR_SHIFT = 30;
/** `MAP_TRIM_MASK` (1 << 31). @public */
export const MAP_TRIM_MASK = 0x80000000;
/** `MAP_ERR_MASK` (1 << 30). @public */
export const MAP_ERR_MASK = 0x40000000;
/** `MAP_LBA_MASK`: the low 30 bits. @public */
export const MAP_LBA_MASK = 0x3fffffff;
/** `MAP_ENT_NORMAL`: both flags set. @public */
export const MAP_ENT_NORMAL = 0xc0000000;
/** `LOG_GRP_SIZE`: one `struct log_group` per lane. @public */
export const LOG_GRP_SIZE = 64;
/** `LOG_ENT_SIZE`: one `struct log_entry`. @public */
export const LOG_ENT_SIZE = 16;
/** `ARENA_MIN_SIZE` (16 MiB). @public */
export const ARENA_MIN_SIZE = 0x1000000;
/** `ARENA_MAX_SIZE` (512 GiB). @public */
export const ARENA_MAX_SIZE = 0x8000000000;
/** `RTT_VALID` (1 << 31). @public */
export const RTT_VALID = 0x80000000;
/** `RTT_INVALID`. @public */
export const RTT_INVALID = 0;
/** `BTT_PG_SIZE`. @public */
export const BTT_PG_SIZE = 4096;
/** `BTT_DEFAULT_NFREE` (= ND_MAX_LANES). @public */
export const BTT_DEFAULT_NFREE: number = ND_MAX_LANES;
/** `LOG_SEQ_INIT`. @public */
export const LOG_SEQ_INIT = 1;
/** `IB_FLAG_ERROR`: the arena's info block flags it as in error. @public */
export const IB_FLAG_ERROR = 0x1;
/** `IB_FLAG_ERROR_MASK`. @public */
export const IB_FLAG_ERROR_MASK = 0x1;
/** `LOG_NEW_ENT` / `LOG_OLD_ENT`, the `old_flag` of `btt_log_read()`. @public */
export const LOG_NEW_ENT = 0;
/** @public */
export const LOG_OLD_ENT = 1;

const SECTOR_SIZE = 512;
const PAGE_SIZE = 4096;
const TWO30 = 0x40000000;

// --- drivers/nvdimm/btt.h: map entry helpers (arithmetic, no 32-bit bitwise ops)

/** `ent_lba()`: the postmap bits of a map or log entry. @public */
export function entLba(ent: number): number {
  checkUnsigned('ent_lba', 'ent', ent, 0xffffffff);
  return ent % TWO30;
}
/** `ent_e_flag()`. @public */
export function entEFlag(ent: number): boolean {
  checkUnsigned('ent_e_flag', 'ent', ent, 0xffffffff);
  // bit MAP_ERR_SHIFT (30) of a u32
  return ent % (2 * MAP_ERR_MASK) >= MAP_ERR_MASK;
}
/** `ent_z_flag()`. @public */
export function entZFlag(ent: number): boolean {
  checkUnsigned('ent_z_flag', 'ent', ent, 0xffffffff);
  // bit MAP_TRIM_SHIFT (31) of a u32
  return ent % (2 * MAP_TRIM_MASK) >= MAP_TRIM_MASK;
}
/** `ent_normal()`: both Z and E set. @public */
export function entNormal(ent: number): boolean {
  return entEFlag(ent) && entZFlag(ent);
}
/** `set_e_flag()`: the entry with E set. @public */
export function setEFlag(ent: number): number {
  checkUnsigned('set_e_flag', 'ent', ent, 0xffffffff);
  return entEFlag(ent) ? ent : ent + MAP_ERR_MASK;
}

/**
 * `nd_inc_seq()` (drivers/nvdimm/nd.h): 1 -> 2 -> 3 -> 1, and 0 (unused) stays 0.
 * Only the low two bits count (`seq & NSINDEX_SEQ_MASK`).
 * @public
 */
export function ndIncSeq(seq: number): number {
  checkUnsigned('nd_inc_seq', 'seq', seq, 0xffffffff);
  const next = [0, 2, 3, 1] as const;
  return next[seq % 4] ?? 0;
}

// --- struct btt_sb

/**
 * `struct btt_sb` (drivers/nvdimm/btt.h), 4096 bytes little endian: the arena
 * info block. Offsets are relative to the arena's start.
 * @public
 */
export interface BttSb {
  signature: Uint8Array;
  uuid: Uint8Array;
  parentUuid: Uint8Array;
  flags: number;
  versionMajor: number;
  versionMinor: number;
  externalLbasize: number;
  externalNlba: number;
  internalLbasize: number;
  internalNlba: number;
  nfree: number;
  infosize: number;
  nextoff: bigint;
  dataoff: bigint;
  mapoff: bigint;
  logoff: bigint;
  info2off: bigint;
  checksum: bigint;
}

/** Byte offsets of `struct btt_sb`'s fields. @public */
export const BTT_SB_OFFSETS = {
  signature: 0, uuid: 16, parentUuid: 32, flags: 48, versionMajor: 52, versionMinor: 54,
  externalLbasize: 56, externalNlba: 60, internalLbasize: 64, internalNlba: 68, nfree: 72, infosize: 76,
  nextoff: 80, dataoff: 88, mapoff: 96, logoff: 104, info2off: 112, padding: 120, checksum: 4088,
} as const;

/**
 * Serializes a `struct btt_sb` into 4096 bytes, the checksum field as given
 * (see {@link bttSbChecksum}).
 * @public
 */
export function encodeBttSb(sb: BttSb): Uint8Array {
  if (typeof sb !== 'object' || sb === null) throw new KernelError('EINVAL', `btt info block: invalid ${String(sb)}`);
  for (const k of ['signature', 'uuid', 'parentUuid'] as const) {
    if (!(sb[k] instanceof Uint8Array)) throw new KernelError('EINVAL', `btt info block: ${k} is not a byte array`);
  }
  // each field must fit its width in struct btt_sb
  for (const k of ['flags', 'externalLbasize', 'externalNlba', 'internalLbasize', 'internalNlba', 'nfree', 'infosize'] as const) {
    checkUnsigned('btt info block', k, sb[k], 0xffffffff);
  }
  for (const k of ['versionMajor', 'versionMinor'] as const) checkUnsigned('btt info block', k, sb[k], 0xffff);
  for (const k of ['nextoff', 'dataoff', 'mapoff', 'logoff', 'info2off', 'checksum'] as const) {
    const v = sb[k];
    if (typeof v !== 'bigint' || v < 0n || v >= 2n ** 64n) throw new KernelError('EINVAL', `btt info block: ${k} is not a 64-bit value: ${String(v)}`);
  }
  const buf = new Uint8Array(4096);
  const v = new DataView(buf.buffer);
  const o = BTT_SB_OFFSETS;
  buf.set(sb.signature.subarray(0, 16), o.signature);
  buf.set(sb.uuid.subarray(0, 16), o.uuid);
  buf.set(sb.parentUuid.subarray(0, 16), o.parentUuid);
  v.setUint32(o.flags, sb.flags, true);
  v.setUint16(o.versionMajor, sb.versionMajor, true);
  v.setUint16(o.versionMinor, sb.versionMinor, true);
  v.setUint32(o.externalLbasize, sb.externalLbasize, true);
  v.setUint32(o.externalNlba, sb.externalNlba, true);
  v.setUint32(o.internalLbasize, sb.internalLbasize, true);
  v.setUint32(o.internalNlba, sb.internalNlba, true);
  v.setUint32(o.nfree, sb.nfree, true);
  v.setUint32(o.infosize, sb.infosize, true);
  v.setBigUint64(o.nextoff, sb.nextoff, true);
  v.setBigUint64(o.dataoff, sb.dataoff, true);
  v.setBigUint64(o.mapoff, sb.mapoff, true);
  v.setBigUint64(o.logoff, sb.logoff, true);
  v.setBigUint64(o.info2off, sb.info2off, true);
  v.setBigUint64(o.checksum, sb.checksum, true);
  return buf;
}

/**
 * Parses 4096 bytes as a `struct btt_sb`. Throws KernelError EINVAL for a
 * buffer shorter than 4096 bytes.
 * @public
 */
export function decodeBttSb(buf: Uint8Array): BttSb {
  if (!(buf instanceof Uint8Array) || buf.length < 4096) throw new KernelError('EINVAL', 'btt_sb: buffer shorter than 4096 bytes');
  const v = new DataView(buf.buffer, buf.byteOffset, 4096);
  const o = BTT_SB_OFFSETS;
  return {
    signature: buf.slice(0, 16),
    uuid: buf.slice(16, 32),
    parentUuid: buf.slice(32, 48),
    flags: v.getUint32(o.flags, true),
    versionMajor: v.getUint16(o.versionMajor, true),
    versionMinor: v.getUint16(o.versionMinor, true),
    externalLbasize: v.getUint32(o.externalLbasize, true),
    externalNlba: v.getUint32(o.externalNlba, true),
    internalLbasize: v.getUint32(o.internalLbasize, true),
    internalNlba: v.getUint32(o.internalNlba, true),
    nfree: v.getUint32(o.nfree, true),
    infosize: v.getUint32(o.infosize, true),
    nextoff: v.getBigUint64(o.nextoff, true),
    dataoff: v.getBigUint64(o.dataoff, true),
    mapoff: v.getBigUint64(o.mapoff, true),
    logoff: v.getBigUint64(o.logoff, true),
    info2off: v.getBigUint64(o.info2off, true),
    checksum: v.getBigUint64(o.checksum, true),
  };
}

/** `nd_sb_checksum()` of a serialized `struct btt_sb` (field at 4088 counted as zero). @public */
export function bttSbChecksum(buf: Uint8Array): bigint {
  return ndSbChecksum(buf, BTT_SB_OFFSETS.checksum);
}

function sigBytes(): Uint8Array {
  const b = new Uint8Array(BTT_SIG_LEN);
  for (let i = 0; i < BTT_SIG.length; i++) b[i] = BTT_SIG.charCodeAt(i);
  return b;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function isNullUuid(u: Uint8Array): boolean {
  for (let i = 0; i < u.length; i++) if (u[i] !== 0) return false;
  return true;
}

/**
 * `nd_btt_arena_is_valid()` (drivers/nvdimm/btt_devs.c): the signature, the
 * parent uuid (compared only when the block records one), and the checksum.
 * An arena flagged `IB_FLAG_ERROR` is still valid; `log` receives the kernel's
 * "Found arena with an error flag".
 * @public
 */
export function ndBttArenaIsValid(buf: Uint8Array, parentUuid: Uint8Array | undefined, log?: BttLog): boolean {
  if (parentUuid !== undefined) checkUuid('nd_btt_arena_is_valid', 'parent uuid', parentUuid);
  if (log !== undefined && typeof log !== 'function') throw new KernelError('EINVAL', 'nd_btt_arena_is_valid: log is not a function');
  const sb = decodeBttSb(buf);
  if (!bytesEqual(sb.signature, sigBytes())) return false;
  if (!isNullUuid(sb.parentUuid)) {
    if (parentUuid === undefined || !bytesEqual(sb.parentUuid, parentUuid)) return false;
  }
  if (sb.checksum !== bttSbChecksum(buf)) return false;
  if (sb.flags % 2 === 1) log?.('info', 'Found arena with an error flag');
  return true;
}

// --- arenas

/**
 * Log levels of the kernel messages the BTT emits (`dev_err`, `dev_warn`,
 * `dev_info`, `dev_dbg` on the btt device).
 * @public
 */
export type BttLogLevel = 'err' | 'warn' | 'info' | 'dbg';
/**
 * Receives a kernel message (without the device prefix or newline).
 * @public
 */
export type BttLog = (level: BttLogLevel, message: string) => void;

/**
 * `struct free_entry`: a lane's free block, the log slot it writes next and
 * the sequence number it writes there.
 * @public
 */
export interface FreeEntry {
  block: number;
  sub: number;
  seq: number;
  hasErr: boolean;
}

/**
 * `struct log_entry`, decoded.
 * @public
 */
export interface LogEntry {
  lba: number;
  oldMap: number;
  newMap: number;
  seq: number;
}

/**
 * `struct arena_info` (drivers/nvdimm/btt.h): one arena's geometry and its
 * in-memory state (free list, read tracking table). Offsets are namespace
 * byte offsets minus the BTT's initial offset (the kernel's arena offsets).
 * @public
 */
export class ArenaInfo {
  size = 0;
  externalLbaStart = 0;
  internalNlba = 0;
  internalLbasize = 0;
  externalNlba = 0;
  externalLbasize = 0;
  nfree = 0;
  versionMajor = 0;
  versionMinor = 0;
  sectorSize = 0;
  nextoff = 0;
  infooff = 0;
  dataoff = 0;
  mapoff = 0;
  logoff = 0;
  info2off = 0;
  flags = 0;
  logIndex: [number, number] = [0, 1];
  freelist: FreeEntry[] = [];
  /** The read tracking table: `RTT_VALID + postmap` while a lane reads a block. */
  rtt: number[] = [];
}

/**
 * Geometry of a new arena of `size` bytes at arena offset `arenaOff`, as
 * `alloc_arena()` (drivers/nvdimm/btt.c) computes it.
 * @public
 */
export function allocArena(size: number, start: number, arenaOff: number, lbasize: number, sectorSize: number, versionMajor: number, versionMinor: number): ArenaInfo {
  checkUnsigned('btt_alloc_arena', 'size', size);
  checkUnsigned('btt_alloc_arena', 'start', start);
  checkUnsigned('btt_alloc_arena', 'arena_off', arenaOff);
  checkArenaGeometry('btt_alloc_arena', lbasize, versionMajor, versionMinor);
  if (sectorSize !== 512 && sectorSize !== 4096) throw new KernelError('EINVAL', `btt_alloc_arena: invalid sector size ${String(sectorSize)}`);
  const a = new ArenaInfo();
  a.sectorSize = sectorSize;
  a.size = size;
  a.externalLbaStart = start;
  a.externalLbasize = lbasize;
  a.internalLbasize = roundUp(lbasize, INT_LBASIZE_ALIGNMENT);
  a.nfree = BTT_DEFAULT_NFREE;
  a.versionMajor = versionMajor;
  a.versionMinor = versionMinor;
  let available = size - (size % BTT_PG_SIZE);
  available -= 2 * BTT_PG_SIZE;
  const logsize = roundUp(a.nfree * LOG_GRP_SIZE, BTT_PG_SIZE);
  available -= logsize;
  a.internalNlba = Math.floor((available - BTT_PG_SIZE) / (a.internalLbasize + MAP_ENT_SIZE));
  a.externalNlba = a.internalNlba - a.nfree;
  const mapsize = roundUp(a.externalNlba * MAP_ENT_SIZE, BTT_PG_SIZE);
  const datasize = available - mapsize;
  a.infooff = arenaOff;
  a.dataoff = a.infooff + BTT_PG_SIZE;
  a.mapoff = a.dataoff + datasize;
  a.logoff = a.mapoff + mapsize;
  a.info2off = a.logoff + logsize;
  a.logIndex = [0, 1];
  return a;
}

/** EINVAL unless the lba size is a non-zero 32-bit integer and the version two 16-bit ones (the info block's `__le32`/`__le16` fields). */
function checkArenaGeometry(fn: string, lbasize: number, versionMajor: number, versionMinor: number): void {
  checkUnsigned(fn, 'lbasize', lbasize, 0xffffffff);
  if (lbasize === 0) throw new KernelError('EINVAL', `${fn}: lbasize 0`);
  checkUnsigned(fn, 'version_major', versionMajor, 0xffff);
  checkUnsigned(fn, 'version_minor', versionMinor, 0xffff);
}

/**
 * `create_arenas()` (drivers/nvdimm/btt.c): cuts `rawsize` bytes into arenas
 * of at most 512 GiB; a tail shorter than 16 MiB is dropped.
 * @public
 */
export function createArenas(rawsize: number, lbasize: number, versionMajor: number, versionMinor: number): ArenaInfo[] {
  checkUnsigned('create_arenas', 'rawsize', rawsize);
  checkArenaGeometry('create_arenas', lbasize, versionMajor, versionMinor);
  const sectorSize = lbasize >= 4096 ? 4096 : 512;
  const arenas: ArenaInfo[] = [];
  let remaining = rawsize;
  let curOff = 0;
  let nlba = 0;
  while (remaining > 0) {
    const arenaSize = Math.min(ARENA_MAX_SIZE, remaining);
    remaining -= arenaSize;
    if (arenaSize < ARENA_MIN_SIZE) break;
    const a = allocArena(arenaSize, nlba, curOff, lbasize, sectorSize, versionMajor, versionMinor);
    nlba += a.externalNlba;
    a.nextoff = remaining >= ARENA_MIN_SIZE ? a.size : 0;
    curOff += arenaSize;
    arenas.push(a);
  }
  return arenas;
}

/**
 * The BTT format a namespace carries, from its claim class
 * (`nd_btt_version()`, drivers/nvdimm/btt_devs.c): BTT 2.0 at offset 0 for
 * v1.2-labelled namespaces claimed with the BTT2 abstraction guid, BTT 1.1 at
 * offset 4096 otherwise (label-less, v1.1 labels).
 * @public
 */
export function ndBttVersion(claimClass: NvdimmClaimClass): { initialOffset: number; versionMajor: number; versionMinor: number } {
  checkClaimClass('nd_btt_version', claimClass);
  return claimClass === NvdimmClaimClass.NVDIMM_CCLASS_BTT2
    ? { initialOffset: 0, versionMajor: 2, versionMinor: 0 }
    : { initialOffset: 4096, versionMajor: 1, versionMinor: 1 };
}

/**
 * What `__nd_btt_probe()` adopts from an existing BTT: the info block's
 * external lbasize and uuid, with the version and offset of its format.
 * @public
 */
export interface NdBttProbe {
  lbasize: number;
  uuid: Uint8Array;
  initialOffset: number;
  versionMajor: number;
  versionMinor: number;
}

/**
 * `__nd_btt_probe()` with `nd_btt_version()` (drivers/nvdimm/btt_devs.c):
 * looks for a BTT info block of the claim class's format on the namespace.
 * ENXIO for a namespace below 16 MiB or a read error; ENODEV when there is
 * no valid block of that version (the namespace is then not a BTT).
 * @public
 */
export function ndBttProbe(media: NdMedia, claimClass: NvdimmClaimClass, parentUuid?: Uint8Array): NdBttProbe {
  checkClaimClass('__nd_btt_probe', claimClass);
  if (typeof media !== 'object' || media === null) throw new KernelError('ENODEV', '__nd_btt_probe: no namespace');
  if (parentUuid !== undefined) checkUuid('__nd_btt_probe', 'parent uuid', parentUuid);
  if (media.size < 16 * 2 ** 20) throw new KernelError('ENXIO', '__nd_btt_probe: namespace below 16 MiB');
  const v = ndBttVersion(claimClass);
  const buf = new Uint8Array(4096);
  try {
    media.read(v.initialOffset, buf);
  } catch (e) {
    if (e instanceof KernelError) throw new KernelError('ENXIO', `nd_btt_version: ${e.message}`);
    throw e;
  }
  if (!ndBttArenaIsValid(buf, parentUuid)) throw new KernelError('ENODEV', 'nd_btt_version: no valid btt info block');
  const sb = decodeBttSb(buf);
  if (sb.versionMajor !== v.versionMajor || sb.versionMinor !== v.versionMinor) {
    throw new KernelError('ENODEV', `nd_btt_version: info block version ${sb.versionMajor}.${sb.versionMinor}`);
  }
  return { lbasize: sb.externalLbasize, uuid: sb.uuid, ...v };
}

/**
 * How a BTT is set up on a namespace: the `btt0.0` device's `sector_size`
 * (lbasize), `uuid`, and the namespace's uuid and claim class.
 * @public
 */
export interface BttOptions {
  /** The external lbasize, one of {@link BTT_LBASIZE_SUPPORTED}. */
  lbasize: number;
  /** The btt device's uuid (16 bytes). */
  uuid: Uint8Array;
  /** The namespace's uuid; absent for a label-less namespace. */
  parentUuid?: Uint8Array;
  /** The namespace's claim class (`NVDIMM_CCLASS_NONE` when absent). */
  claimClass?: NvdimmClaimClass;
  /** The region is read-only (`nd_region->ro`). */
  readOnly?: boolean;
  log?: BttLog;
  /** The machine's function-graph tracer: `btt_read_pg` and `btt_write_pg` are traced while it is on. */
  tracer?: Tracer;
}

/** `btt->init_state`. @public */
export type BttInitState = 'INIT_UNCHECKED' | 'INIT_NOTFOUND' | 'INIT_READY';

function checkUuid(fn: string, what: string, u: unknown): asserts u is Uint8Array {
  if (!(u instanceof Uint8Array) || u.length !== 16) throw new KernelError('EINVAL', `${fn}: ${what} must be 16 bytes`);
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/**
 * One BTT instance on a namespace (`struct btt`, drivers/nvdimm/btt.c).
 * Build it with {@link Btt.attach}; read and write it one page at a time with
 * {@link Btt.readPage} and {@link Btt.writePage} (`btt_read_pg()`,
 * `btt_write_pg()`), in 512-byte sector units as the block layer addresses it.
 * @public
 */
export class Btt {
  readonly media: NdMedia;
  readonly rawsize: number;
  readonly lbasize: number;
  /** 4096 for lbasize ≥ 4096, else 512 (`btt->sector_size`). */
  readonly sectorSize: number;
  readonly initialOffset: number;
  readonly versionMajor: number;
  readonly versionMinor: number;
  readonly uuid: Uint8Array;
  readonly parentUuid: Uint8Array | undefined;
  arenas: ArenaInfo[] = [];
  /** Exported sectors of `sectorSize` bytes, over all arenas. */
  nlba = 0;
  initState: BttInitState = 'INIT_UNCHECKED';
  private readonly log: BttLog;
  private readonly tracer: Tracer | undefined;
  /** Scratch buffer for one map entry (the kernel's `__le32` on the stack). */
  private readonly ent4: Uint8Array = new Uint8Array(MAP_ENT_SIZE);
  private readonly ent4View: DataView = new DataView(this.ent4.buffer);
  private readonly half8: Uint8Array = new Uint8Array(8);
  private readonly half8View: DataView = new DataView(this.half8.buffer);
  private hitPremap = 0;

  private constructor(media: NdMedia, rawsize: number, opts: BttOptions, v: { initialOffset: number; versionMajor: number; versionMinor: number }) {
    this.media = media;
    this.rawsize = rawsize;
    this.lbasize = opts.lbasize;
    this.sectorSize = opts.lbasize >= 4096 ? 4096 : 512;
    this.initialOffset = v.initialOffset;
    this.versionMajor = v.versionMajor;
    this.versionMinor = v.versionMinor;
    this.uuid = opts.uuid.slice();
    this.parentUuid = opts.parentUuid?.slice();
    this.log = opts.log ?? ((): void => undefined);
    this.tracer = opts.tracer;
  }

  /**
   * `nvdimm_namespace_attach_btt()` → `btt_init()`: finds the arenas already on
   * the media (`discover_arenas()`, primary info blocks only) or, when the
   * first arena has none, lays out fresh ones (`create_arenas()`,
   * `btt_meta_init()`).
   *
   * Errors: EINVAL for an unsupported lbasize or a uuid that is not 16 bytes;
   * ENXIO when the namespace minus the initial offset is below 16 MiB; ENOMEM
   * (the kernel's answer when `btt_init()` returns NULL) for corrupted metadata
   * in a later arena, an unknown log padding scheme, log corruption, or a
   * read-only region without a BTT. Errors from the media propagate.
   */
  static attach(media: NdMedia, opts: BttOptions): Btt {
    const fn = 'nvdimm_namespace_attach_btt';
    if (typeof media !== 'object' || media === null) throw new KernelError('EINVAL', `${fn}: no namespace`);
    if (typeof opts !== 'object' || opts === null) throw new KernelError('EINVAL', `${fn}: invalid options ${String(opts)}`);
    checkUnsigned(fn, 'namespace size', media.size);
    checkUuid(fn, 'uuid', opts.uuid);
    if (opts.parentUuid !== undefined) checkUuid(fn, 'parent uuid', opts.parentUuid);
    if (!BTT_LBASIZE_SUPPORTED.includes(opts.lbasize)) throw new KernelError('EINVAL', `${fn}: unsupported lbasize ${String(opts.lbasize)}`);
    const v = ndBttVersion(opts.claimClass ?? NvdimmClaimClass.NVDIMM_CCLASS_NONE);
    const size = media.size;
    if (size < v.initialOffset || size - v.initialOffset < ARENA_MIN_SIZE) {
      throw new KernelError('ENXIO', `namespace must be at least ${ARENA_MIN_SIZE + v.initialOffset} bytes`);
    }
    const btt = new Btt(media, size - v.initialOffset, opts, v);
    btt.init(opts.readOnly === true);
    return btt;
  }

  /** Bytes the block device exports (`nlba * sector_size`, `/dev/pmemNs`). */
  get capacity(): number {
    return this.nlba * this.sectorSize;
  }

  // --- arena_read_bytes / arena_write_bytes: arena offsets + initial offset

  private readBytes(off: number, dst: Uint8Array): void {
    this.media.read(off + this.initialOffset, dst);
  }

  private writeBytes(off: number, src: Uint8Array): void {
    const nsOff = off + this.initialOffset;
    // nsio_rw_bytes(): a write over poison must be 512-byte aligned to clear it.
    if (this.media.isPoisoned?.(nsOff, src.length) === true && (nsOff % SECTOR_SIZE !== 0 || src.length % SECTOR_SIZE !== 0)) {
      throw new KernelError('EIO', 'write to a media error that is not sector aligned');
    }
    this.media.write(nsOff, src);
  }

  private init(readOnly: boolean): void {
    try {
      this.discoverArenas();
    } catch (e) {
      if (e instanceof KernelError) {
        this.log('err', `init: error in arena_discover: ${e.negative}`);
        throw new KernelError('ENOMEM', e.message);
      }
      throw e;
    }
    if (this.initState !== 'INIT_READY' && readOnly) {
      const msg = 'region is read-only, unable to init btt metadata';
      this.log('warn', msg);
      throw new KernelError('ENOMEM', msg);
    }
    if (this.initState !== 'INIT_READY') {
      this.arenas = createArenas(this.rawsize, this.lbasize, this.versionMajor, this.versionMinor);
      this.nlba = this.arenas.reduce((n, a) => n + a.externalNlba, 0);
      this.log('dbg', `init: ${Math.ceil(this.rawsize / ARENA_MAX_SIZE)} arenas for ${this.rawsize} rawsize`);
      this.metaInit();
    }
  }

  /** `btt_meta_init()`: write each arena's layout, then build its free list. */
  private metaInit(): void {
    for (const a of this.arenas) {
      this.arenaWriteLayout(a);
      this.freelistInit(a);
      a.rtt = new Array<number>(a.nfree).fill(RTT_INVALID);
    }
    this.initState = 'INIT_READY';
  }

  /** `btt_map_init()`: zero the map (identity) in 2 MiB chunks. */
  private mapInit(a: ArenaInfo): void {
    const chunk = 0x200000;
    let mapsize = a.logoff - a.mapoff;
    let off = 0;
    const zero = new Uint8Array(Math.min(chunk, mapsize));
    while (mapsize > 0) {
      const n = Math.min(mapsize, chunk);
      this.writeBytes(a.mapoff + off, n === zero.length ? zero : zero.subarray(0, n));
      off += n;
      mapsize -= n;
    }
  }

  /**
   * `btt_log_init()`: zero the log in 4 KiB chunks, then write each lane's
   * first entry `{lba i, old = new = external_nlba + i, seq 1}` to slot 0.
   */
  private logInit(a: ArenaInfo): void {
    let logsize = a.info2off - a.logoff;
    let off = 0;
    const zero = new Uint8Array(4096);
    if (a.logoff % 512 !== 0) throw new KernelError('EINVAL', 'log offset not 512-byte aligned');
    while (logsize > 0) {
      const n = Math.min(logsize, 4096);
      this.writeBytes(a.logoff + off, zero.subarray(0, n));
      off += n;
      logsize -= n;
    }
    for (let i = 0; i < a.nfree; i++) {
      this.logWrite(a, i, 0, { lba: i, oldMap: a.externalNlba + i, newMap: a.externalNlba + i, seq: LOG_SEQ_INIT });
    }
  }

  /** EINVAL unless `a` is an arena. */
  private arenaArg(fn: string, a: unknown): asserts a is ArenaInfo {
    if (!(a instanceof ArenaInfo)) throw new KernelError('EINVAL', `${fn}: not an arena: ${String(a)}`);
  }

  /** The info block `btt_arena_write_layout()` builds for an arena. */
  buildSb(a: ArenaInfo): Uint8Array {
    this.arenaArg('btt_info_write', a);
    const buf = encodeBttSb({
      signature: sigBytes(),
      uuid: this.uuid,
      parentUuid: this.parentUuid ?? new Uint8Array(16),
      flags: 0,
      versionMajor: a.versionMajor,
      versionMinor: a.versionMinor,
      externalLbasize: a.externalLbasize,
      externalNlba: a.externalNlba,
      internalLbasize: a.internalLbasize,
      internalNlba: a.internalNlba,
      nfree: a.nfree,
      infosize: 4096,
      nextoff: BigInt(a.nextoff),
      dataoff: BigInt(a.dataoff - a.infooff),
      mapoff: BigInt(a.mapoff - a.infooff),
      logoff: BigInt(a.logoff - a.infooff),
      info2off: BigInt(a.info2off - a.infooff),
      checksum: 0n,
    });
    new DataView(buf.buffer).setBigUint64(BTT_SB_OFFSETS.checksum, bttSbChecksum(buf), true);
    return buf;
  }

  /**
   * `btt_arena_write_layout()`: map, log, then the info blocks — the backup
   * (info2) first and the primary last (`btt_info_write()`), so a crash
   * leaves no valid primary over a half-built arena.
   */
  private arenaWriteLayout(a: ArenaInfo): void {
    this.mapInit(a);
    this.logInit(a);
    const sb = this.buildSb(a);
    this.writeBytes(a.info2off, sb);
    this.writeBytes(a.infooff, sb);
  }

  /** `parse_arena_meta()`: an arena from its info block at `arenaOff`. */
  private parseArenaMeta(sb: BttSb, arenaOff: number): ArenaInfo {
    const a = new ArenaInfo();
    a.sectorSize = this.sectorSize;
    a.internalNlba = sb.internalNlba;
    a.internalLbasize = sb.internalLbasize;
    a.externalNlba = sb.externalNlba;
    a.externalLbasize = sb.externalLbasize;
    a.nfree = sb.nfree;
    a.versionMajor = sb.versionMajor;
    a.versionMinor = sb.versionMinor;
    const nextoff = Number(sb.nextoff);
    a.nextoff = nextoff === 0 ? 0 : arenaOff + nextoff;
    a.infooff = arenaOff;
    a.dataoff = arenaOff + Number(sb.dataoff);
    a.mapoff = arenaOff + Number(sb.mapoff);
    a.logoff = arenaOff + Number(sb.logoff);
    a.info2off = arenaOff + Number(sb.info2off);
    a.size = nextoff > 0 ? nextoff : a.info2off - a.infooff + BTT_PG_SIZE;
    a.flags = sb.flags;
    return a;
  }

  /**
   * `discover_arenas()`: walk the primary info blocks. An invalid first block
   * means "No existing arenas" (INIT_NOTFOUND); an invalid later one is
   * "Found corrupted metadata!" (ENODEV). Each arena found gets its log
   * indices, free list (with crash recovery) and read tracking table.
   */
  private discoverArenas(): void {
    let remaining = this.rawsize;
    let curOff = 0;
    let curNlba = 0;
    const found: ArenaInfo[] = [];
    const buf = new Uint8Array(4096);
    while (remaining > 0) {
      this.readBytes(curOff, buf);
      if (!ndBttArenaIsValid(buf, this.parentUuid, this.log)) {
        if (remaining === this.rawsize) {
          this.initState = 'INIT_NOTFOUND';
          this.log('info', 'No existing arenas');
          return;
        }
        this.log('err', 'Found corrupted metadata!');
        throw new KernelError('ENODEV', 'Found corrupted metadata!');
      }
      const a = this.parseArenaMeta(decodeBttSb(buf), curOff);
      a.externalLbaStart = curNlba;
      try {
        this.logSetIndices(a);
      } catch (e) {
        this.log('err', 'Unable to deduce log/padding indices');
        throw e;
      }
      this.freelistInit(a);
      a.rtt = new Array<number>(a.nfree).fill(RTT_INVALID);
      found.push(a);
      remaining -= a.size;
      curOff += a.size;
      curNlba += a.externalNlba;
      if (a.nextoff === 0) break;
    }
    this.arenas = found;
    this.nlba = curNlba;
    this.initState = 'INIT_READY';
  }

  // --- log

  /** `btt_log_group_read()`: the four entries of a lane's log group. */
  logGroupRead(a: ArenaInfo, lane: number): LogEntry[] {
    this.arenaArg('btt_log_group_read', a);
    checkUnsigned('btt_log_group_read', 'lane', lane, a.nfree - 1);
    const buf = new Uint8Array(LOG_GRP_SIZE);
    this.readBytes(a.logoff + lane * LOG_GRP_SIZE, buf);
    const v = new DataView(buf.buffer);
    const ents: LogEntry[] = [];
    for (let j = 0; j < 4; j++) {
      ents.push({
        lba: v.getUint32(j * 16, true),
        oldMap: v.getUint32(j * 16 + 4, true),
        newMap: v.getUint32(j * 16 + 8, true),
        seq: v.getUint32(j * 16 + 12, true),
      });
    }
    return ents;
  }

  /**
   * `log_set_indices()`: which two slots of a log group are in use, (0,1) or
   * the pre-4.15 (0,2). ENXIO when the lanes disagree or for any other pair
   * ("Found an unknown padding scheme").
   */
  private logSetIndices(a: ArenaInfo): void {
    let idxSet = false;
    let initialState = true;
    const logIndex = [-1, -1];
    let nextIdx = 0;
    const isPad = (e: LogEntry): boolean => e.lba === 0 && e.oldMap === 0 && e.newMap === 0 && e.seq === 0;
    for (let i = 0; i < a.nfree; i++) {
      const log = this.logGroupRead(a, i);
      let padCount = 0;
      for (let j = 0; j < 4; j++) {
        const ent = log[j] as LogEntry;
        if (!idxSet) {
          if (isPad(ent)) {
            padCount++;
            continue;
          }
          if (nextIdx === 1 && j === logIndex[0]) continue;
          logIndex[nextIdx] = j;
          nextIdx++;
          if (nextIdx === 2) idxSet = true;
          else if (nextIdx > 2) throw new KernelError('ENXIO', 'too many valid log indices');
        } else if (j === logIndex[0]) {
          if (isPad(ent)) throw new KernelError('ENXIO', `lane ${i}: log slot ${j} is padding`);
        } else if (j !== logIndex[1]) {
          if (!isPad(ent)) throw new KernelError('ENXIO', `lane ${i}: log slot ${j} is not padding`);
        }
      }
      if (padCount < 3) initialState = false;
    }
    if (!initialState && !idxSet) throw new KernelError('ENXIO', 'Unable to deduce log/padding indices');
    if (initialState) logIndex[1] = 1;
    if (!(logIndex[0] === 0 && (logIndex[1] === 1 || logIndex[1] === 2))) {
      this.log('err', 'Found an unknown padding scheme');
      throw new KernelError('ENXIO', 'Found an unknown padding scheme');
    }
    a.logIndex = [logIndex[0], logIndex[1] as number];
    this.log('dbg', `log_index_0 = ${logIndex[0]}`);
    this.log('dbg', `log_index_1 = ${logIndex[1] as number}`);
  }

  /**
   * `btt_log_get_old()`: which of the two in-use slots holds the older entry
   * (0 or 1), or -EINVAL for sequence numbers that cannot occur. A zero
   * sequence in the first slot (a never-written lane) becomes 1 in `log`.
   */
  static logGetOld(a: ArenaInfo, log: LogEntry[]): number {
    if (!(a instanceof ArenaInfo)) throw new KernelError('EINVAL', `btt_log_get_old: not an arena: ${String(a)}`);
    if (!Array.isArray(log) || log.length < 2 || log.some((e) => typeof e !== 'object' || e === null)) throw new KernelError('EINVAL', 'btt_log_get_old: not a log group');
    const e0 = log[a.logIndex[0]] as LogEntry;
    const e1 = log[a.logIndex[1]] as LogEntry;
    if (e0.seq === 0) {
      e0.seq = 1;
      return 0;
    }
    if (e0.seq === e1.seq) return -ERRNO.EINVAL;
    if (e0.seq + e1.seq > 5) return -ERRNO.EINVAL;
    if (e0.seq < e1.seq) return e1.seq - e0.seq === 1 ? 0 : 1;
    return e0.seq - e1.seq === 1 ? 1 : 0;
  }

  /**
   * `btt_log_read()`: a lane's newest (`LOG_NEW_ENT`) or older entry, and the
   * slot index (0/1) it came from. EIO for "log corruption".
   */
  logRead(a: ArenaInfo, lane: number, oldFlag: number): { slot: number; ent: LogEntry } {
    this.arenaArg('btt_log_read', a);
    checkUnsigned('btt_log_read', 'lane', lane, a.nfree - 1);
    checkUnsigned('btt_log_read', 'old_flag', oldFlag, 1);
    const log = this.logGroupRead(a, lane);
    const old = Btt.logGetOld(a, log);
    if (old < 0 || old > 1) {
      const msg = `log corruption (${old}): lane ${lane} seq [${(log[a.logIndex[0]] as LogEntry).seq}, ${(log[a.logIndex[1]] as LogEntry).seq}]`;
      this.log('err', msg);
      throw new KernelError('EIO', msg);
    }
    const slot = oldFlag === LOG_OLD_ENT ? old : 1 - old;
    return { slot, ent: { ...(log[a.logIndex[slot] ?? 0] as LogEntry) } };
  }

  /**
   * `__btt_log_write()`: one log entry as two 8-byte writes, `{lba, old_map}`
   * then `{new_map, seq}`; the second half, carrying the sequence number, is
   * the commit.
   */
  private logWrite(a: ArenaInfo, lane: number, sub: number, ent: LogEntry): void {
    const slot = a.logIndex[sub as 0 | 1];
    const off = a.logoff + lane * LOG_GRP_SIZE + slot * LOG_ENT_SIZE;
    const half = this.half8;
    const v = this.half8View;
    v.setUint32(0, ent.lba, true);
    v.setUint32(4, ent.oldMap, true);
    this.writeBytes(off, half);
    v.setUint32(0, ent.newMap, true);
    v.setUint32(4, ent.seq, true);
    this.writeBytes(off + 8, half);
  }

  /** `btt_flog_write()`: log the entry, then advance the lane's free entry. */
  private flogWrite(a: ArenaInfo, lane: number, sub: number, ent: LogEntry): void {
    this.logWrite(a, lane, sub, ent);
    const f = a.freelist[lane] as FreeEntry;
    f.sub = 1 - f.sub;
    f.seq = f.seq + 1 === 4 ? 1 : f.seq + 1;
    if (entEFlag(ent.oldMap)) f.hasErr = true;
    f.block = entLba(ent.oldMap);
  }

  // --- map

  /**
   * `btt_map_read()`: the postmap block of `lba` and its trim/error flags
   * (an all-zero entry is the identity mapping).
   */
  mapRead(a: ArenaInfo, lba: number): { postmap: number; trim: boolean; error: boolean } {
    this.arenaArg('btt_map_read', a);
    checkUnsigned('btt_map_read', 'lba', lba, a.externalNlba - 1);
    const raw = this.mapEntry(a, lba);
    // the bits by subtraction, as in readPg() (no floating-point remainder)
    const z = raw >= MAP_TRIM_MASK;
    const rest = z ? raw - MAP_TRIM_MASK : raw;
    const e = rest >= MAP_ERR_MASK;
    if (!z && !e) return { postmap: lba, trim: false, error: false };
    return { postmap: e ? rest - MAP_ERR_MASK : rest, trim: z && !e, error: e && !z };
  }

  /**
   * `btt_map_write()`: store `mapping` with the Z/E flags: (0,0) normal,
   * (0,1) error, (1,0) trim; (1,1) is EIO "Invalid use of Z and E flags".
   */
  private mapWrite(a: ArenaInfo, lba: number, mapping: number, zFlag: boolean, eFlag: boolean): void {
    let ent: number;
    const postmap = entLba(mapping);
    if (!zFlag && !eFlag) ent = postmap + MAP_ENT_NORMAL;
    else if (!zFlag && eFlag) ent = postmap + MAP_ERR_MASK;
    else if (zFlag && !eFlag) ent = postmap + MAP_TRIM_MASK;
    else {
      this.log('err', 'Invalid use of Z and E flags');
      throw new KernelError('EIO', 'Invalid use of Z and E flags');
    }
    if (lba >= a.externalNlba) this.log('err', `btt_map_write: lba ${hex(lba)} out of range (max: ${hex(a.externalNlba)})`);
    this.ent4View.setUint32(0, ent, true);
    this.writeBytes(a.mapoff + lba * MAP_ENT_SIZE, this.ent4);
  }

  /** The raw map entry of `lba` through the scratch buffer (logs an out-of-range lba as btt_map_read does). */
  private mapEntry(a: ArenaInfo, lba: number): number {
    if (lba >= a.externalNlba) this.log('err', `btt_map_read: lba ${hex(lba)} out of range (max: ${hex(a.externalNlba)})`);
    const off = a.mapoff + lba * MAP_ENT_SIZE;
    if (this.media.readU32 !== undefined) return this.media.readU32(off + this.initialOffset);
    this.readBytes(off, this.ent4);
    return this.ent4View.getUint32(0, true);
  }

  /** `lba_to_arena()` without allocation: the arena, with the premap left in `hitPremap`. */
  private arenaOf(sector: number): ArenaInfo {
    let lba = Math.floor((sector * SECTOR_SIZE) / this.sectorSize);
    const arenas = this.arenas;
    for (let i = 0; i < arenas.length; i++) {
      const a = arenas[i] as ArenaInfo;
      if (lba < a.externalNlba) {
        this.hitPremap = lba;
        return a;
      }
      lba -= a.externalNlba;
    }
    throw new KernelError('EIO', `sector ${sector} beyond the last arena`);
  }

  /** The raw 32-bit map entry of `lba` (for inspection and checking). */
  mapRaw(a: ArenaInfo, lba: number): number {
    this.arenaArg('btt_map_read', a);
    checkUnsigned('btt_map_read', 'lba', lba, a.externalNlba - 1);
    const buf = new Uint8Array(MAP_ENT_SIZE);
    this.readBytes(a.mapoff + lba * MAP_ENT_SIZE, buf);
    return new DataView(buf.buffer).getUint32(0, true);
  }

  // --- free list

  /**
   * `btt_freelist_init()`: each lane's free block is the old block of its
   * newest log entry. A lane whose newest entry is newer than the map (the
   * map write did not land before a crash) gets the map entry rewritten.
   */
  private freelistInit(a: ArenaInfo): void {
    a.freelist = [];
    for (let i = 0; i < a.nfree; i++) {
      const { slot, ent } = this.logRead(a, i, LOG_NEW_ENT);
      const oldmap = entLba(ent.oldMap);
      const newmap = entLba(ent.newMap);
      const f: FreeEntry = { sub: 1 - slot, seq: ndIncSeq(ent.seq), block: oldmap, hasErr: false };
      a.freelist.push(f);
      if (entEFlag(ent.oldMap) && !entNormal(ent.oldMap)) {
        f.hasErr = true;
        try {
          this.arenaClearFreelistError(a, i);
        } catch (e) {
          if (!(e instanceof KernelError)) throw e;
          this.log('err', 'Unable to clear known errors');
        }
      }
      if (oldmap === newmap) continue;
      const cur = this.mapRead(a, ent.lba).postmap;
      if (newmap !== cur && oldmap === cur) {
        this.mapWrite(a, ent.lba, ent.newMap, false, false);
      }
    }
  }

  /** `to_namespace_offset()`: arena offset of internal block `lba`. */
  blockOffset(a: ArenaInfo, lba: number): number {
    this.arenaArg('to_namespace_offset', a);
    checkUnsigned('to_namespace_offset', 'lba', lba, a.internalNlba - 1);
    return a.dataoff + lba * a.internalLbasize;
  }

  /**
   * `arena_clear_freelist_error()`: overwrite a lane's free block that holds
   * a known media error with zeros (a full-sector write clears the poison).
   */
  private arenaClearFreelistError(a: ArenaInfo, lane: number): void {
    const f = a.freelist[lane] as FreeEntry;
    if (!f.hasErr) return;
    let off = this.blockOffset(a, f.block);
    let len = a.sectorSize;
    const zero = new Uint8Array(PAGE_SIZE);
    while (len > 0) {
      const chunk = Math.min(len, PAGE_SIZE);
      this.writeBytes(off, zero.subarray(0, chunk));
      len -= chunk;
      off += chunk;
      if (len === 0) f.hasErr = false;
    }
  }

  /** `btt_is_badblock()`: whether an internal block overlaps a known media error. */
  private isBadblock(a: ArenaInfo, postmap: number): boolean {
    const nsoff = this.blockOffset(a, postmap) + this.initialOffset;
    const start = Math.floor(nsoff / SECTOR_SIZE) * SECTOR_SIZE;
    return this.media.isPoisoned?.(start, a.internalLbasize) === true;
  }

  /**
   * Checks the invariants ndctl's `check-namespace` (btt-check) verifies on
   * one arena: every map entry points inside the arena, every lane's newest
   * log entry names its free block, and the map entries and
   * free blocks together reference every internal block exactly once (the
   * bitmap check). Returns the violations found, empty when the arena is
   * consistent. Reads the whole map: meant for arenas of test size.
   */
  checkArena(a: ArenaInfo): string[] {
    this.arenaArg('btt_check_arena', a);
    const problems: string[] = [];
    const seen = new Uint8Array(a.internalNlba);
    const mapBuf = new Uint8Array(a.externalNlba * MAP_ENT_SIZE);
    this.readBytes(a.mapoff, mapBuf);
    const mv = new DataView(mapBuf.buffer);
    const mark = (block: number, what: string): void => {
      if (block >= a.internalNlba) {
        problems.push(`${what}: block ${block} beyond internal_nlba ${a.internalNlba}`);
        return;
      }
      if (seen[block] === 1) problems.push(`${what}: block ${block} referenced twice`);
      seen[block] = 1;
    };
    for (let p = 0; p < a.externalNlba; p++) {
      const raw = mv.getUint32(p * MAP_ENT_SIZE, true);
      mark(entZFlag(raw) || entEFlag(raw) ? entLba(raw) : p, `map[${p}]`);
    }
    for (let i = 0; i < a.nfree; i++) {
      const f = a.freelist[i] as FreeEntry;
      mark(f.block, `freelist[${i}]`);
      const { ent } = this.logRead(a, i, LOG_NEW_ENT);
      if (entLba(ent.oldMap) !== f.block) problems.push(`lane ${i}: log old_map ${entLba(ent.oldMap)} is not the free block ${f.block}`);
    }
    for (let b = 0; b < a.internalNlba; b++) if (seen[b] !== 1) problems.push(`block ${b} unreferenced`);
    return problems;
  }

  // --- I/O

  /**
   * `lba_to_arena()`: the arena and premap of a 512-byte `sector`; EIO
   * beyond the last arena.
   */
  lbaToArena(sector: number): { arena: ArenaInfo; premap: number } {
    checkUnsigned('lba_to_arena', 'sector', sector);
    let lba = Math.floor((sector * SECTOR_SIZE) / this.sectorSize);
    for (const a of this.arenas) {
      if (lba < a.externalNlba) return { arena: a, premap: lba };
      lba -= a.externalNlba;
    }
    throw new KernelError('EIO', `sector ${sector} beyond the last arena`);
  }

  /**
   * The integrity payload of a request: `lbasize - sector_size` bytes per
   * sector (`btt_meta_size()`), only on a BTT with metadata (lbasize 520,
   * 528, 4104, 4160, 4224). EINVAL otherwise.
   */
  private checkMeta(fn: string, buf: Uint8Array, meta: unknown): void {
    if (meta === undefined) return;
    const ms = this.lbasize - this.sectorSize;
    if (!(meta instanceof Uint8Array) || ms === 0 || meta.length !== (buf.length / this.sectorSize) * ms) {
      throw new KernelError('EINVAL', `${fn}: integrity payload must be ${ms} bytes per sector`);
    }
  }

  private checkBio(fn: string, sector: unknown, buf: unknown, lane: unknown): asserts sector is number {
    checkUnsigned(fn, 'sector', sector);
    checkUnsigned(fn, 'lane', lane, ND_MAX_LANES - 1);
    if (!(buf instanceof Uint8Array)) throw new KernelError('EINVAL', `${fn}: buffer is not a byte array`);
    if (this.initState !== 'INIT_READY') throw new KernelError('EIO', `${fn}: btt not ready`);
    const len = buf.length;
    if (len === 0 || len % this.sectorSize !== 0 || len > PAGE_SIZE) {
      this.log('err', `unaligned bio segment (len: ${len})`);
      throw new KernelError('EIO', `unaligned bio segment (len: ${len})`);
    }
    const bytes = sector * SECTOR_SIZE;
    if (Math.floor(bytes / this.sectorSize) * this.sectorSize !== bytes || bytes + len > this.capacity) {
      throw new KernelError('EIO', `${fn}: sector ${sector} len ${len} beyond the device or not sector aligned`);
    }
  }

  /**
   * `btt_read_pg()`: read `dst.length` bytes (a multiple of the sector size,
   * at most a page) from 512-byte `sector`, through the map. A trimmed entry
   * reads as zeros; an entry with E, or a media error in the data (which then
   * sets E persistently), gives EIO. `lane` is the CPU's lane. `meta`, on a
   * BTT with integrity metadata, receives each sector's metadata.
   */
  readPage(sector: number, dst: Uint8Array, lane: number = 0, meta?: Uint8Array): void {
    this.checkBio('btt_read_pg', sector, dst, lane);
    this.checkMeta('btt_read_pg', dst, meta);
    if (this.tracer?.enabled !== true) this.readPg(sector, dst, lane, meta);
    else if (meta === undefined) this.tracer.invoke('btt_read_pg', this, this.readPg, sector, dst, lane);
    else this.tracer.invoke('btt_read_pg', this, this.readPg, sector, dst, lane, meta);
  }

  private readPg(sector: number, dst: Uint8Array, lane: number, meta?: Uint8Array): void {
    try {
      let off = 0;
      let len = dst.length;
      let sec = sector;
      while (len > 0) {
        const a = this.arenaOf(sec);
        const premap = this.hitPremap;
        const curLen = Math.min(this.sectorSize, len);
        // btt_map_read(): the raw entry, compared whole on the re-read (same postmap and flags)
        let raw = this.mapEntry(a, premap);
        let done = false;
        let postmap = premap;
        for (;;) {
          // The Z and E bits and the postmap by subtraction: a u32 entry with
          // Z set is no small integer, and `%` of such a number is a
          // floating-point remainder, which would cost more than the rest of
          // the lookup.
          const z = raw >= MAP_TRIM_MASK;
          const rest = z ? raw - MAP_TRIM_MASK : raw;
          const e = rest >= MAP_ERR_MASK;
          if (z && !e) {
            // The kernel fills this chunk with zeros and ends the request here.
            dst.fill(0, off, off + curLen);
            done = true;
            break;
          }
          if (e && !z) throw new KernelError('EIO', `sector ${sec}: map entry has the error flag`);
          postmap = z ? rest - MAP_ERR_MASK : premap;
          a.rtt[lane % a.nfree] = RTT_VALID + postmap;
          const again = this.mapEntry(a, premap);
          if (again === raw) break;
          raw = again;
        }
        if (done) break;
        // to_namespace_offset(), with blockOffset()'s check of a postmap past the arena
        if (postmap >= a.internalNlba) throw new KernelError('EINVAL', `to_namespace_offset: invalid lba ${postmap}`);
        const blockOff = a.dataoff + postmap * a.internalLbasize;
        try {
          try {
            this.readBytes(blockOff, curLen === dst.length ? dst : dst.subarray(off, off + curLen));
          } catch (e) {
            if (e instanceof KernelError) {
              try {
                this.mapWrite(a, premap, postmap, false, true);
              } catch (e2) {
                if (!(e2 instanceof KernelError)) throw e2;
                this.log('warn', `Error persistently tracking bad blocks at ${hex(premap)}`);
              }
            }
            throw e;
          }
          // btt_rw_integrity(): the metadata follows the sector in its block
          if (meta !== undefined) {
            const ms = this.lbasize - this.sectorSize;
            const i = off / this.sectorSize;
            this.readBytes(blockOff + this.sectorSize, meta.subarray(i * ms, (i + 1) * ms));
          }
        } finally {
          a.rtt[lane % a.nfree] = RTT_INVALID;
        }
        len -= curLen;
        off += curLen;
        sec += this.sectorSize / SECTOR_SIZE;
      }
    } catch (e) {
      if (e instanceof KernelError) this.log('err', `io error in READ sector ${sector}, len ${dst.length},`);
      throw e;
    }
  }

  /**
   * `btt_write_pg()`: write `src` (a multiple of the sector size, at most a
   * page) at 512-byte `sector`. Per sector: the lane's free block receives the
   * data, the log records the switch, the map points at the new block; the
   * old block becomes the lane's free block. A free block with a known media
   * error is zeroed first. EIO when the arena is flagged in error. `meta`, on
   * a BTT with integrity metadata, is written after each sector's data.
   */
  writePage(sector: number, src: Uint8Array, lane: number = 0, meta?: Uint8Array): void {
    this.checkBio('btt_write_pg', sector, src, lane);
    this.checkMeta('btt_write_pg', src, meta);
    if (this.tracer?.enabled !== true) this.writePg(sector, src, lane, meta);
    else if (meta === undefined) this.tracer.invoke('btt_write_pg', this, this.writePg, sector, src, lane);
    else this.tracer.invoke('btt_write_pg', this, this.writePg, sector, src, lane, meta);
  }

  private writePg(sector: number, src: Uint8Array, lane: number, meta?: Uint8Array): void {
    try {
      let off = 0;
      let len = src.length;
      let sec = sector;
      while (len > 0) {
        const a = this.arenaOf(sec);
        const premap = this.hitPremap;
        const curLen = Math.min(this.sectorSize, len);
        if (a.flags % 2 === IB_FLAG_ERROR) throw new KernelError('EIO', 'arena has the error flag');
        const f = a.freelist[lane % a.nfree] as FreeEntry;
        if (this.isBadblock(a, f.block)) f.hasErr = true;
        if (f.hasErr) this.arenaClearFreelistError(a, lane % a.nfree);
        const newPostmap = f.block;
        if (newPostmap >= a.internalNlba) throw new KernelError('EIO', `free block ${newPostmap} beyond internal_nlba`);
        // 1) data to the free block, which no map entry references
        this.writeBytes(this.blockOffset(a, newPostmap), curLen === src.length ? src : src.subarray(off, off + curLen));
        if (meta !== undefined) {
          const ms = this.lbasize - this.sectorSize;
          const i = off / this.sectorSize;
          this.writeBytes(this.blockOffset(a, newPostmap) + this.sectorSize, meta.subarray(i * ms, (i + 1) * ms));
        }
        const m = this.mapRead(a, premap);
        let oldPostmap = m.postmap;
        if (oldPostmap >= a.internalNlba) throw new KernelError('EIO', `map entry ${oldPostmap} beyond internal_nlba`);
        if (m.error) oldPostmap = setEFlag(oldPostmap);
        // 2) the log entry: the commit point
        this.flogWrite(a, lane % a.nfree, f.sub, { lba: premap, oldMap: oldPostmap, newMap: newPostmap, seq: f.seq });
        // 3) the map
        this.mapWrite(a, premap, newPostmap, false, false);
        if (m.error) this.arenaClearFreelistError(a, lane % a.nfree);
        len -= curLen;
        off += curLen;
        sec += this.sectorSize / SECTOR_SIZE;
      }
    } catch (e) {
      if (e instanceof KernelError) this.log('err', `io error in WRITE sector ${sector}, len ${src.length},`);
      throw e;
    }
  }
}


/** EINVAL unless `c` is a claim class (`enum nvdimm_claim_class`). */
function checkClaimClass(fn: string, c: unknown): asserts c is NvdimmClaimClass {
  if (typeof c !== 'number' || !Object.values(NvdimmClaimClass).includes(c)) throw new KernelError('EINVAL', `${fn}: invalid claim class ${String(c)}`);
}
