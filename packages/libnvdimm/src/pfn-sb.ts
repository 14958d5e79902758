/**
 * `struct nd_pfn_sb`: the info block that turns a namespace into an fsdax
 * ("pfn") or device-dax namespace.
 *
 * A namespace is only bytes. To give it struct pages, the kernel must know,
 * on every boot, where the data starts and where the memmap lives, and it
 * must find that out from the media itself. `nd_pfn_init()` therefore writes
 * a 4 KiB info block at namespace offset 4 KiB (the first 4 KiB are left for
 * a disk label), and every later enable reads it back and checks it
 * (`nd_pfn_validate()`). In map=dev mode (`PFN_MODE_PMEM`) the memmap itself
 * is stored in the namespace, between the info block and the data:
 *
 * ```
 *  namespace start                                       namespace end
 *  |0    4K    8K                  dataoff                   end-end_trunc|
 *  +-----+-----+-------------------+---------------------------+---------+
 *  |label|info | memmap (64 B per  | data: /dev/pmemN, DAX     |truncated|
 *  |     |block| pfn, map=dev only)| npfns pages               |to align |
 *  +-----+-----+-------------------+---------------------------+---------+
 * ```
 *
 * Layout (little-endian, 4096 bytes):
 *
 * ```
 *   0 signature[16]   16 uuid[16]   32 parent_uuid[16]   48 flags u32
 *  52 version_major u16   54 version_minor u16   56 dataoff u64
 *  64 npfns u64   72 mode u32   76 start_pad u32   80 end_trunc u32
 *  84 align u32   88 page_size u32   92 page_struct_size u16
 *  94 padding[3994]   4088 checksum u64 (nd_sb_checksum)
 * ```
 *
 * Mirrors drivers/nvdimm/pfn.h and the layout arithmetic of
 * `nd_pfn_init()` in drivers/nvdimm/pfn_devs.c (Linux v5.13: version 1.4,
 * `start_pad` always 0).
 */
import { KernelError, SZ_4K, SZ_8K, align as alignUp, alignDown, checkUnsigned, isAligned } from '@zonedev/kernel';
import { ndSbChecksum } from './fletcher.js';
import { MAX_STRUCT_PAGE_SIZE, PFN_SIG_LEN, PfnMode } from './nd.js';

/** Size of `struct nd_pfn_sb`. @public */
export const ND_PFN_SB_SIZE: number = 4096;
/** Namespace offset of the info block (`SZ_4K`). @public */
export const ND_PFN_SB_OFFSET: number = SZ_4K;
/** Offset of the checksum field. @public */
export const ND_PFN_SB_CHECKSUM_OFFSET: number = 4088;

/**
 * The decoded fields of a `struct nd_pfn_sb`.
 * @public
 */
export interface NdPfnSb {
  /** The 16 signature bytes as a string (`PFN_SIG` / `DAX_SIG`, with the NUL). */
  readonly signature: string;
  /** `uuid`: the pfn/dax device's uuid. */
  readonly uuid: Uint8Array;
  /** `parent_uuid`: the namespace's uuid (all zero for label-less namespaces). */
  readonly parentUuid: Uint8Array;
  /** `flags` (written 0). */
  readonly flags: number;
  /** `version_major` (1). */
  readonly versionMajor: number;
  /** `version_minor` (4 in v5.13). */
  readonly versionMinor: number;
  /** Byte offset of the data from the namespace start (+ start_pad). */
  readonly dataoff: number;
  /** `npfns`: pages of data. */
  readonly npfns: number;
  /** `mode`: a {@link PfnMode}. */
  readonly mode: number;
  /** `start_pad` (minor 1; never set by v5.13). */
  readonly startPad: number;
  /** `end_trunc` (minor 1). */
  readonly endTrunc: number;
  /** `align` (minor 2): the pfn device's alignment. */
  readonly align: number;
  /** `page_size` (minor 4). */
  readonly pageSize: number;
  /** `page_struct_size` (minor 4). */
  readonly pageStructSize: number;
  /** `checksum`: `nd_sb_checksum()` of the block. */
  readonly checksum: bigint;
}

/**
 * Encodes `sb` as the 4096 bytes the kernel writes; the checksum field is
 * computed (`nd_sb_checksum`). Throws KernelError EINVAL for a field that
 * does not fit its on-media width, a signature longer than 16 bytes or a
 * uuid that is not 16 bytes.
 * @public
 */
export function encodeNdPfnSb(sb: Omit<NdPfnSb, 'checksum'>): Uint8Array {
  const fn = 'nd_pfn_sb';
  if (typeof sb !== 'object' || sb === null || typeof sb.signature !== 'string' || sb.signature.length > PFN_SIG_LEN) {
    throw new KernelError('EINVAL', `${fn}: invalid signature`);
  }
  for (const [what, u] of [['uuid', sb.uuid], ['parent_uuid', sb.parentUuid]] as const) {
    if (!(u instanceof Uint8Array) || u.length !== 16) throw new KernelError('EINVAL', `${fn}: ${what} must be 16 bytes`);
  }
  const U32 = 0xffffffff;
  const U16 = 0xffff;
  checkUnsigned(fn, 'flags', sb.flags, U32);
  checkUnsigned(fn, 'version_major', sb.versionMajor, U16);
  checkUnsigned(fn, 'version_minor', sb.versionMinor, U16);
  checkUnsigned(fn, 'dataoff', sb.dataoff);
  checkUnsigned(fn, 'npfns', sb.npfns);
  checkUnsigned(fn, 'mode', sb.mode, U32);
  checkUnsigned(fn, 'start_pad', sb.startPad, U32);
  checkUnsigned(fn, 'end_trunc', sb.endTrunc, U32);
  checkUnsigned(fn, 'align', sb.align, U32);
  checkUnsigned(fn, 'page_size', sb.pageSize, U32);
  checkUnsigned(fn, 'page_struct_size', sb.pageStructSize, U16);
  const b = new Uint8Array(ND_PFN_SB_SIZE);
  const v = new DataView(b.buffer);
  for (let i = 0; i < PFN_SIG_LEN && i < sb.signature.length; i++) b[i] = sb.signature.charCodeAt(i);
  b.set(sb.uuid.subarray(0, 16), 16);
  b.set(sb.parentUuid.subarray(0, 16), 32);
  v.setUint32(48, sb.flags, true);
  v.setUint16(52, sb.versionMajor, true);
  v.setUint16(54, sb.versionMinor, true);
  v.setBigUint64(56, BigInt(sb.dataoff), true);
  v.setBigUint64(64, BigInt(sb.npfns), true);
  v.setUint32(72, sb.mode, true);
  v.setUint32(76, sb.startPad, true);
  v.setUint32(80, sb.endTrunc, true);
  v.setUint32(84, sb.align, true);
  v.setUint32(88, sb.pageSize, true);
  v.setUint16(92, sb.pageStructSize, true);
  v.setBigUint64(ND_PFN_SB_CHECKSUM_OFFSET, ndSbChecksum(b, ND_PFN_SB_CHECKSUM_OFFSET), true);
  return b;
}

/**
 * Decodes 4096 bytes as a `struct nd_pfn_sb`, field by field, without
 * checking anything (that is {@link Libnvdimm}'s `nd_pfn_validate`). u64
 * fields beyond 2^53 decode as `Number.MAX_SAFE_INTEGER` so that every
 * later range check fails the way the kernel's does on a huge value.
 * Throws KernelError EINVAL for a buffer shorter than 4096 bytes.
 * @public
 */
export function decodeNdPfnSb(b: Uint8Array): NdPfnSb {
  if (!(b instanceof Uint8Array) || b.byteLength < ND_PFN_SB_SIZE) {
    throw new KernelError('EINVAL', 'nd_pfn_sb: info block shorter than 4096 bytes');
  }
  const v = new DataView(b.buffer, b.byteOffset, ND_PFN_SB_SIZE);
  const u64 = (off: number): number => {
    const x = v.getBigUint64(off, true);
    return x > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(x);
  };
  return {
    signature: String.fromCharCode(...b.subarray(0, PFN_SIG_LEN)),
    uuid: b.slice(16, 32),
    parentUuid: b.slice(32, 48),
    flags: v.getUint32(48, true),
    versionMajor: v.getUint16(52, true),
    versionMinor: v.getUint16(54, true),
    dataoff: u64(56),
    npfns: u64(64),
    mode: v.getUint32(72, true),
    startPad: v.getUint32(76, true),
    endTrunc: v.getUint32(80, true),
    align: v.getUint32(84, true),
    pageSize: v.getUint32(88, true),
    pageStructSize: v.getUint16(92, true),
    checksum: v.getBigUint64(ND_PFN_SB_CHECKSUM_OFFSET, true),
  };
}

/**
 * What `nd_pfn_init()` computes for a fresh info block.
 * @public
 */
export interface NdPfnLayout {
  /** `dataoff`: where the data starts, from the namespace start. */
  readonly dataoff: number;
  /** `npfns`: pages of data. */
  readonly npfns: number;
  /** `end_trunc`: bytes cut at the end to meet the alignment. */
  readonly endTrunc: number;
  /** Usable bytes: `size - dataoff - end_trunc` (the pfn device's `size`, the disk's capacity). */
  readonly usable: number;
}

/**
 * The layout arithmetic of `nd_pfn_init()` (drivers/nvdimm/pfn_devs.c,
 * v5.13) for a namespace `[start, start + size)`, the pfn device's `align`
 * and `mode`, `memremap_compat_align()` and `PAGE_SIZE`:
 *
 * - provisional `npfns = PHYS_PFN(size - 8K)` sizes the memmap;
 * - `align = max(align, compat)`; `start` must be aligned to `compat`
 *   (EINVAL "%s: start %pa misaligned to %#lx");
 * - `end_trunc = start + size - ALIGN_DOWN(start + size, align)`;
 * - map=dev: `dataoff = ALIGN(start + 8K + 64 * npfns, align) - start`;
 *   map=mem: `dataoff = ALIGN(start + 8K, align) - start`; other modes ENXIO;
 * - `dataoff >= size`: ENXIO "%s unable to satisfy requested alignment";
 * - `npfns = PHYS_PFN(size - dataoff - end_trunc)`.
 *
 * The errors carry the kernel's message with `nsName` for `%s`.
 * @public
 */
export function ndPfnLayout(
  start: number,
  size: number,
  pfnAlign: number,
  mode: PfnMode,
  compatAlign: number,
  pageSize: number,
  nsName: string = 'namespace',
): NdPfnLayout {
  checkUnsigned('nd_pfn_init', 'start', start);
  checkUnsigned('nd_pfn_init', 'size', size);
  checkUnsigned('nd_pfn_init', 'align', pfnAlign);
  checkUnsigned('nd_pfn_init', 'compat align', compatAlign);
  checkUnsigned('nd_pfn_init', 'page size', pageSize);
  if (size < SZ_8K || pageSize === 0 || compatAlign === 0) {
    throw new KernelError('EINVAL', `nd_pfn_init: ${nsName} too small`);
  }
  const provisional = Math.floor((size - SZ_8K) / pageSize);
  const a = Math.max(pfnAlign, compatAlign);
  if (!isAligned(start, compatAlign)) {
    throw new KernelError('EINVAL', `${nsName}: start 0x${start.toString(16).padStart(16, '0')} misaligned to 0x${compatAlign.toString(16)}`);
  }
  const endTrunc = start + size - alignDown(start + size, a);
  let dataoff: number;
  if (mode === PfnMode.PFN_MODE_PMEM) dataoff = alignUp(start + SZ_8K + MAX_STRUCT_PAGE_SIZE * provisional, a) - start;
  else if (mode === PfnMode.PFN_MODE_RAM) dataoff = alignUp(start + SZ_8K, a) - start;
  else throw new KernelError('ENXIO', `nd_pfn_init: ${nsName} has no pfn mode`);
  if (dataoff >= size) throw new KernelError('ENXIO', `${nsName} unable to satisfy requested alignment`);
  const npfns = Math.floor((size - dataoff - endTrunc) / pageSize);
  return { dataoff, npfns, endTrunc, usable: size - dataoff - endTrunc };
}
