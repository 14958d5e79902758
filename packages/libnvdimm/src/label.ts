/**
 * Namespace labels: how a labelled NVDIMM remembers its namespaces.
 *
 * A DIMM with a label storage area ("config data", 128 KiB on QEMU's
 * `-device nvdimm,label-size=128K`) describes the namespaces carved from it
 * in that area (drivers/nvdimm/label.c, label.h; UEFI 2.7 "Label Storage
 * Area"). The area holds two index blocks followed by an array of label
 * slots:
 *
 * ```
 *  offset 0            index_size      2 * index_size
 *  +-----------------+-----------------+--------+--------+-- ... --+
 *  | nsindex0        | nsindex1        | slot 0 | slot 1 |  nslot  |
 *  | hdr 72 B + free | hdr 72 B + free | label  | label  |  labels |
 *  +-----------------+-----------------+--------+--------+-- ... --+
 * ```
 *
 * Nothing is ever updated in place. An update writes the new label into a
 * free slot, then writes the *other* index block (the "next" one) with the
 * slot's free bit cleared, the victim's bit set, and the sequence number
 * advanced (1 -> 2 -> 3 -> 1). The valid index with the later sequence number
 * is current, so a crash in the middle of an update leaves the previous index
 * in charge, and a torn index block (bad checksum) is simply ignored in
 * favour of the other one.
 *
 * In the free bitmap a SET bit means the slot is free; bits are numbered
 * little endian (bit i is bit i % 8 of byte i / 8). Index checksums are
 * `nd_fletcher64` over the whole index block with the checksum field as 0;
 * v1.2 (256-byte) labels carry their own checksum, v1.1 (128-byte) labels
 * none.
 *
 * The model keeps the kernel's in-memory copy of the area (`ndd->data`) and
 * its `ns_current`/`ns_next`, and reaches the media only through
 * `nvdimm_get_config_data()`/`nvdimm_set_config_data()` equivalents on an
 * {@link NdMedia}.
 */

import { KernelError, checkUnsigned, align, divRoundUp, testBit, setBit, clearBit } from '@zonedev/kernel';
import { ndFletcher64 } from './fletcher.js';
import type { NdMedia } from './btt-media.js';
import { NvdimmClaimClass } from './nd.js';

/** `NSINDEX_SIGNATURE` (16 bytes with the NUL). @public */
export const NSINDEX_SIGNATURE = 'NAMESPACE_INDEX\0';
/** `NSINDEX_SIG_LEN`. @public */
export const NSINDEX_SIG_LEN = 16;
/** `NSINDEX_ALIGN`: index blocks are multiples of 256 bytes. @public */
export const NSINDEX_ALIGN = 256;
/** `NSINDEX_SEQ_MASK`. @public */
export const NSINDEX_SEQ_MASK = 3;
/** `sizeof(struct nd_namespace_index)` without the free bitmap. @public */
export const NSINDEX_HDR_SIZE = 72;
/** `NSLABEL_UUID_LEN`. @public */
export const NSLABEL_UUID_LEN = 16;
/** `NSLABEL_NAME_LEN`. @public */
export const NSLABEL_NAME_LEN = 64;
/** `NSLABEL_FLAG_ROLABEL`: read-only label. @public */
export const NSLABEL_FLAG_ROLABEL = 0x1;
/** `NSLABEL_FLAG_LOCAL`: a blk (DIMM-local) label. @public */
export const NSLABEL_FLAG_LOCAL = 0x2;
/** `NSLABEL_FLAG_BTT`: namespace holds a BTT (v1.1 only). @public */
export const NSLABEL_FLAG_BTT = 0x4;
/** `NSLABEL_FLAG_UPDATING`: label being updated. @public */
export const NSLABEL_FLAG_UPDATING = 0x8;
/** `ND_LABEL_MIN_SIZE`: the smallest usable label area (`256 * 4`). @public */
export const ND_LABEL_MIN_SIZE = 1024;

/** Byte offsets of `struct nd_namespace_index`. @public */
export const NSINDEX_OFFSETS = {
  sig: 0, flags: 16, labelsize: 19, seq: 20, myoff: 24, mysize: 32, otheroff: 40, labeloff: 48,
  nslot: 56, major: 60, minor: 62, checksum: 64, free: 72,
} as const;

/** Byte offsets of `struct nd_namespace_label`. @public */
export const NSLABEL_OFFSETS = {
  uuid: 0, name: 16, flags: 80, nlabel: 84, position: 86, isetcookie: 88, lbasize: 96, dpa: 104,
  rawsize: 112, slot: 120, align: 124, typeGuid: 128, abstractionGuid: 144, checksum: 248,
} as const;

/** Parses a textual GUID into the byte order of `guid_parse()` (lib/uuid.c). */
function guidParse(s: string): Uint8Array {
  const h = s.replace(/-/g, '');
  const raw = Uint8Array.from({ length: 16 }, (_, i) => parseInt(h.slice(i * 2, i * 2 + 2), 16));
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  return Uint8Array.from(order, (i) => raw[i] ?? 0);
}

/** `nvdimm_btt_guid` (BTT abstraction, v1.2 labels). @public */
export const NVDIMM_BTT_GUID: Uint8Array = guidParse('8aed63a2-29a2-4c66-8b12-f05d15d3922a');
/** `nvdimm_btt2_guid`. @public */
export const NVDIMM_BTT2_GUID: Uint8Array = guidParse('18633bfc-1735-4217-8ac9-17239282d3f8');
/** `nvdimm_pfn_guid`. @public */
export const NVDIMM_PFN_GUID: Uint8Array = guidParse('266400ba-fb9f-4677-bcb0-968f11d0d225');
/** `nvdimm_dax_guid`. @public */
export const NVDIMM_DAX_GUID: Uint8Array = guidParse('97a86d9c-3cdd-4eda-986f-5068b4f80088');

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * `to_nvdimm_cclass()`: the claim class an abstraction guid names.
 * @public
 */
export function toNvdimmCclass(guid: Uint8Array): NvdimmClaimClass {
  if (!(guid instanceof Uint8Array) || guid.length !== 16) throw new KernelError('EINVAL', `to_nvdimm_cclass: invalid guid ${String(guid)}`);
  if (bytesEqual(guid, NVDIMM_BTT_GUID)) return NvdimmClaimClass.NVDIMM_CCLASS_BTT;
  if (bytesEqual(guid, NVDIMM_BTT2_GUID)) return NvdimmClaimClass.NVDIMM_CCLASS_BTT2;
  if (bytesEqual(guid, NVDIMM_PFN_GUID)) return NvdimmClaimClass.NVDIMM_CCLASS_PFN;
  if (bytesEqual(guid, NVDIMM_DAX_GUID)) return NvdimmClaimClass.NVDIMM_CCLASS_DAX;
  if (guid.every((b) => b === 0)) return NvdimmClaimClass.NVDIMM_CCLASS_NONE;
  return NvdimmClaimClass.NVDIMM_CCLASS_UNKNOWN;
}

/**
 * `to_abstraction_guid()`: the guid written for a claim class; UNKNOWN keeps
 * `target` (the label's existing guid).
 * @public
 */
export function toAbstractionGuid(claimClass: NvdimmClaimClass, target: Uint8Array): Uint8Array {
  if (typeof claimClass !== 'number' || !Object.values(NvdimmClaimClass).includes(claimClass)) throw new KernelError('EINVAL', `to_abstraction_guid: invalid claim class ${String(claimClass)}`);
  if (!(target instanceof Uint8Array) || target.length !== 16) throw new KernelError('EINVAL', `to_abstraction_guid: invalid target ${String(target)}`);
  switch (claimClass) {
    case NvdimmClaimClass.NVDIMM_CCLASS_BTT: return NVDIMM_BTT_GUID;
    case NvdimmClaimClass.NVDIMM_CCLASS_BTT2: return NVDIMM_BTT2_GUID;
    case NvdimmClaimClass.NVDIMM_CCLASS_PFN: return NVDIMM_PFN_GUID;
    case NvdimmClaimClass.NVDIMM_CCLASS_DAX: return NVDIMM_DAX_GUID;
    case NvdimmClaimClass.NVDIMM_CCLASS_UNKNOWN: return target;
    default: return new Uint8Array(16);
  }
}

/** `nd_inc_seq()` on an index sequence number (low two bits). */
function incSeq(seq: number): number {
  return [0, 2, 3, 1][seq % 4] ?? 0;
}

/**
 * `best_seq()`: of two index sequence numbers, the later one.
 * @public
 */
export function bestSeq(a: number, b: number): number {
  checkUnsigned('best_seq', 'a', a, 0xffffffff);
  checkUnsigned('best_seq', 'b', b, 0xffffffff);
  const x = a % 4;
  const y = b % 4;
  if (x === 0 || x === y) return y;
  if (y === 0) return x;
  if (incSeq(x) === y) return y;
  return x;
}

/**
 * `__sizeof_namespace_index()`: an index block for `nslot` labels, 72 bytes
 * of header plus one free bit per slot, rounded up to 256.
 * @public
 */
export function sizeofNamespaceIndexFor(nslot: number): number {
  return align(NSINDEX_HDR_SIZE + divRoundUp(nslot, 8), NSINDEX_ALIGN);
}

/**
 * `nvdimm_num_label_slots()` (v5.13): the slots left after two index blocks
 * sized for `config_size / label_size` labels.
 * @public
 */
export function nvdimmNumLabelSlots(configSize: number, labelSize: number): number {
  checkLabelGeometry('nvdimm_num_label_slots', configSize, labelSize);
  const tmp = Math.floor(configSize / labelSize);
  const n = sizeofNamespaceIndexFor(tmp) / NSINDEX_ALIGN;
  return Math.floor((configSize - NSINDEX_ALIGN * n * 2) / labelSize);
}

/**
 * `sizeof_namespace_index()` (v5.13): the index block size, or 0 when the area
 * cannot hold two index blocks and at least two labels.
 * @public
 */
export function sizeofNamespaceIndex(configSize: number, labelSize: number): number {
  checkLabelGeometry('sizeof_namespace_index', configSize, labelSize);
  const nslot = nvdimmNumLabelSlots(configSize, labelSize);
  const space = configSize - nslot * labelSize;
  const size = sizeofNamespaceIndexFor(nslot) * 2;
  if (size <= space && nslot >= 2) return size / 2;
  return 0;
}

/**
 * A decoded `struct nd_namespace_index` (without the free bitmap).
 * @public
 */
export interface NdNamespaceIndex {
  sig: Uint8Array;
  labelsize: number;
  seq: number;
  myoff: bigint;
  mysize: bigint;
  otheroff: bigint;
  labeloff: bigint;
  nslot: number;
  major: number;
  minor: number;
  checksum: bigint;
}

/**
 * A decoded `struct nd_namespace_label`. For 128-byte (v1.1) labels the
 * fields from `typeGuid` on are not on the media and read as zero.
 * @public
 */
export interface NdNamespaceLabel {
  uuid: Uint8Array;
  name: Uint8Array;
  flags: number;
  nlabel: number;
  position: number;
  isetcookie: bigint;
  lbasize: bigint;
  dpa: bigint;
  rawsize: bigint;
  slot: number;
  align: number;
  typeGuid: Uint8Array;
  abstractionGuid: Uint8Array;
  checksum: bigint;
}

/** Parses an index block header. @public */
export function decodeNamespaceIndex(buf: Uint8Array): NdNamespaceIndex {
  if (!(buf instanceof Uint8Array) || buf.length < NSINDEX_HDR_SIZE) throw new KernelError('EINVAL', 'nd_namespace_index: buffer shorter than 72 bytes');
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const o = NSINDEX_OFFSETS;
  return {
    sig: buf.slice(0, 16),
    labelsize: v.getUint8(o.labelsize),
    seq: v.getUint32(o.seq, true),
    myoff: v.getBigUint64(o.myoff, true),
    mysize: v.getBigUint64(o.mysize, true),
    otheroff: v.getBigUint64(o.otheroff, true),
    labeloff: v.getBigUint64(o.labeloff, true),
    nslot: v.getUint32(o.nslot, true),
    major: v.getUint16(o.major, true),
    minor: v.getUint16(o.minor, true),
    checksum: v.getBigUint64(o.checksum, true),
  };
}

/** Parses a label slot (128 or 256 bytes). @public */
export function decodeNamespaceLabel(buf: Uint8Array): NdNamespaceLabel {
  if (!(buf instanceof Uint8Array) || buf.length < 128) throw new KernelError('EINVAL', 'nd_namespace_label: buffer shorter than 128 bytes');
  const full = new Uint8Array(256);
  full.set(buf.subarray(0, Math.min(256, buf.length)));
  const v = new DataView(full.buffer);
  const o = NSLABEL_OFFSETS;
  return {
    uuid: full.slice(0, 16),
    name: full.slice(16, 80),
    flags: v.getUint32(o.flags, true),
    nlabel: v.getUint16(o.nlabel, true),
    position: v.getUint16(o.position, true),
    isetcookie: v.getBigUint64(o.isetcookie, true),
    lbasize: v.getBigUint64(o.lbasize, true),
    dpa: v.getBigUint64(o.dpa, true),
    rawsize: v.getBigUint64(o.rawsize, true),
    slot: v.getUint32(o.slot, true),
    align: v.getUint8(o.align),
    typeGuid: full.slice(128, 144),
    abstractionGuid: full.slice(144, 160),
    checksum: v.getBigUint64(o.checksum, true),
  };
}

/**
 * What a pmem namespace's label records (`struct nd_namespace_pmem` and its
 * DPA resource as `__pmem_label_update()` reads them).
 * @public
 */
export interface PmemLabelSpec {
  /** Namespace uuid, 16 bytes. */
  uuid: Uint8Array;
  /** `alt_name`, at most 64 bytes. */
  name?: string;
  /** `nd_region->ndr_mappings`. */
  nlabel: number;
  /** This DIMM's position in the interleave set (`nd_mapping->position`; default 0). */
  position?: number;
  /** Interleave-set cookie for this index version. */
  isetcookie: bigint;
  /** `nspm->lbasize` (0 unless set). */
  lbasize?: number;
  /** DPA start and size of the namespace's resource on this DIMM. */
  dpa: number;
  rawsize: number;
  /** `nd_set->type_guid` (v1.2 labels). */
  typeGuid?: Uint8Array;
  /** `ndns->claim_class` (v1.2 labels). */
  claimClass?: NvdimmClaimClass;
}

/**
 * Receives the label engine's kernel messages (`dev_dbg`/`dev_err` on the
 * DIMM), without device prefix.
 * @public
 */
export type LabelLog = (level: 'err' | 'dbg', message: string) => void;

/** `ND_NSINDEX_INIT`. */
const ND_NSINDEX_INIT = 1;

/**
 * `struct nvdimm_drvdata` as far as labels go: the cached label area, the
 * label size in use and which index block is current and which is next.
 * Create it with {@link NvdimmDrvdata.labelDataInit}.
 * @public
 */
export class NvdimmDrvdata {
  readonly media: NdMedia;
  readonly configSize: number;
  /** The kernel's copy of the label area (`ndd->data`). */
  data: Uint8Array;
  /** 128 (v1.1) or 256 (v1.2). */
  nslabelSize = 128;
  nsCurrent = -1;
  nsNext = -1;
  private readonly log: LabelLog;

  private constructor(media: NdMedia, log: LabelLog | undefined) {
    this.media = media;
    this.configSize = media.size;
    this.data = new Uint8Array(media.size);
    this.log = log ?? ((): void => undefined);
  }

  /**
   * `nd_label_data_init()` (drivers/nvdimm/dimm_devs.c): reads the two index
   * blocks in one transfer of `maxXfer`-sized pieces (4076 is QEMU's maximum
   * transfer), validates them, and fetches the slots the current index
   * marks in use. Without a valid index the labels are absent
   * (`nsCurrent` -1) and nothing is written.
   *
   * ENXIO when the area cannot hold two index blocks and two labels, or
   * `maxXfer` is 0 ("failed to init config data area").
   */
  static labelDataInit(media: NdMedia, maxXfer: number = 4076, log?: LabelLog): NvdimmDrvdata {
    if (log !== undefined && typeof log !== 'function') throw new KernelError('EINVAL', 'nd_label_data_init: log is not a function');
    if (typeof media !== 'object' || media === null) throw new KernelError('EINVAL', 'nd_label_data_init: no label area');
    checkUnsigned('nd_label_data_init', 'config size', media.size, 0xffffffff);
    checkUnsigned('nd_label_data_init', 'max_xfer', maxXfer, 0xffffffff);
    const ndd = new NvdimmDrvdata(media, log);
    const configSize = media.size;
    if (maxXfer === 0) {
      ndd.log('dbg', `failed to init config data area: (${maxXfer}:${configSize})`);
      throw new KernelError('ENXIO', `failed to init config data area: (${maxXfer}:${configSize})`);
    }
    ndd.nslabelSize = 128;
    let readSize = ndd.sizeofNamespaceIndex() * 2;
    if (readSize === 0) throw new KernelError('ENXIO', `label area (${configSize}) too small to host (128 byte) labels`);
    let xfer = Math.min(maxXfer, configSize);
    if (readSize < xfer) {
      xfer -= Math.floor((xfer - 1 - ((configSize - 1) % xfer)) / divRoundUp(configSize, xfer));
      if (xfer < readSize) xfer = readSize;
    }
    readSize = Math.min(divRoundUp(readSize, xfer) * xfer, configSize);
    ndd.getConfigData(0, readSize);
    ndd.nsCurrent = ndd.validate();
    if (ndd.nsCurrent < 0) return ndd;
    ndd.nsNext = 1 - ndd.nsCurrent;
    ndd.copyIndex(ndd.nsNext, ndd.nsCurrent);
    const cur = ndd.indexOffset(ndd.nsCurrent);
    const v = ndd.view();
    let offset = Number(v.getBigUint64(cur + NSINDEX_OFFSETS.labeloff, true));
    const nslot = v.getUint32(cur + NSINDEX_OFFSETS.nslot, true);
    for (let i = 0; i < nslot; i++, offset += ndd.nslabelSize) {
      if (ndd.testFree(ndd.nsCurrent, i)) {
        ndd.data.fill(0, offset, offset + ndd.nslabelSize);
        continue;
      }
      if (offset + ndd.nslabelSize <= readSize) continue;
      if (readSize < offset) readSize = offset;
      let n = divRoundUp(offset + ndd.nslabelSize - readSize, xfer) * xfer;
      if (readSize + n > configSize) n = configSize - readSize;
      ndd.getConfigData(readSize, n);
      readSize += n;
    }
    return ndd;
  }

  private view(): DataView {
    return new DataView(this.data.buffer, this.data.byteOffset, this.data.byteLength);
  }

  /** `nvdimm_get_config_data()`: media bytes into the cache. */
  private getConfigData(offset: number, len: number): void {
    if (offset + len > this.configSize) throw new KernelError('ENXIO', 'config data access beyond the label area');
    this.media.read(offset, this.data.subarray(offset, offset + len));
  }

  /** `nvdimm_set_config_data()`: cache bytes to the media. */
  private setConfigData(offset: number, len: number): void {
    if (offset + len > this.configSize) throw new KernelError('ENXIO', 'config data access beyond the label area');
    this.media.write(offset, this.data.slice(offset, offset + len));
  }

  /** `sizeof_namespace_index()` for the label size in use. */
  sizeofNamespaceIndex(): number {
    return sizeofNamespaceIndex(this.configSize, this.nslabelSize);
  }

  /** `nvdimm_num_label_slots()` for the label size in use. */
  numLabelSlots(): number {
    return nvdimmNumLabelSlots(this.configSize, this.nslabelSize);
  }

  private indexOffset(i: number): number {
    return i * this.sizeofNamespaceIndex();
  }

  /** Area offset of label slot `slot` (`to_label()`). */
  labelOffset(slot: number): number {
    checkUnsigned('nd_label_offset', 'slot', slot, this.numLabelSlots() - 1);
    return 2 * this.sizeofNamespaceIndex() + slot * this.nslabelSize;
  }

  private copyIndex(dst: number, src: number): void {
    const size = this.sizeofNamespaceIndex();
    this.data.copyWithin(this.indexOffset(dst), this.indexOffset(src), this.indexOffset(src) + size);
  }

  private testFree(index: number, slot: number): boolean {
    const byte = this.data[this.indexOffset(index) + NSINDEX_OFFSETS.free + Math.floor(slot / 8)] ?? 0;
    return testBit(byte, slot % 8);
  }

  private setFree(index: number, slot: number, free: boolean): void {
    const at = this.indexOffset(index) + NSINDEX_OFFSETS.free + Math.floor(slot / 8);
    const byte = this.data[at] ?? 0;
    this.data[at] = free ? setBit(byte, slot % 8) : clearBit(byte, slot % 8);
  }

  /** `__nd_label_validate()` for the current `nslabelSize`: 0, 1, or -1. */
  private validateOnce(): number {
    const valid = [false, false];
    const size = this.sizeofNamespaceIndex();
    const sig = new TextEncoder().encode(NSINDEX_SIGNATURE);
    const v = this.view();
    const seqs = [0, 0];
    for (let i = 0; i < 2; i++) {
      const off = i * size;
      if (size === 0 || off + size > this.configSize) continue;
      if (!bytesEqual(this.data.subarray(off, off + 16), sig)) {
        this.log('dbg', `__nd_label_validate: nsindex${i} signature invalid`);
        continue;
      }
      const version = v.getUint16(off + NSINDEX_OFFSETS.major, true) * 100 + v.getUint16(off + NSINDEX_OFFSETS.minor, true);
      const lsField = v.getUint8(off + NSINDEX_OFFSETS.labelsize);
      const labelsize = version >= 102 ? 2 ** (7 + lsField) : 128;
      if (labelsize !== this.nslabelSize) {
        this.log('dbg', `__nd_label_validate: nsindex${i} labelsize ${lsField} invalid`);
        continue;
      }
      const copy = this.data.slice(off, off + size);
      copy.fill(0, NSINDEX_OFFSETS.checksum, NSINDEX_OFFSETS.checksum + 8);
      if (ndFletcher64(copy, true) !== v.getBigUint64(off + NSINDEX_OFFSETS.checksum, true)) {
        this.log('dbg', `__nd_label_validate: nsindex${i} checksum invalid`);
        continue;
      }
      const seq = v.getUint32(off + NSINDEX_OFFSETS.seq, true);
      if (seq % 4 === 0) {
        this.log('dbg', `__nd_label_validate: nsindex${i} sequence: 0x${seq.toString(16)} invalid`);
        continue;
      }
      const myoff = v.getBigUint64(off + NSINDEX_OFFSETS.myoff, true);
      if (myoff !== BigInt(i * size)) {
        this.log('dbg', `__nd_label_validate: nsindex${i} myoff: 0x${myoff.toString(16)} invalid`);
        continue;
      }
      const otheroff = v.getBigUint64(off + NSINDEX_OFFSETS.otheroff, true);
      if (otheroff !== BigInt((1 - i) * size)) {
        this.log('dbg', `__nd_label_validate: nsindex${i} otheroff: 0x${otheroff.toString(16)} invalid`);
        continue;
      }
      const labeloff = v.getBigUint64(off + NSINDEX_OFFSETS.labeloff, true);
      if (labeloff !== BigInt(2 * size)) {
        this.log('dbg', `__nd_label_validate: nsindex${i} labeloff: 0x${labeloff.toString(16)} invalid`);
        continue;
      }
      const mysize = v.getBigUint64(off + NSINDEX_OFFSETS.mysize, true);
      if (mysize > BigInt(size) || mysize < BigInt(NSINDEX_HDR_SIZE)) {
        this.log('dbg', `__nd_label_validate: nsindex${i} mysize: 0x${mysize.toString(16)} invalid`);
        continue;
      }
      const nslot = v.getUint32(off + NSINDEX_OFFSETS.nslot, true);
      if (nslot * this.nslabelSize + 2 * size > this.configSize) {
        this.log('dbg', `__nd_label_validate: nsindex${i} nslot: ${nslot} invalid, config_size: 0x${this.configSize.toString(16)}`);
        continue;
      }
      valid[i] = true;
      seqs[i] = seq;
    }
    if (valid[0] && valid[1]) {
      const best = bestSeq(seqs[0] ?? 0, seqs[1] ?? 0);
      return best === (seqs[1] ?? 0) % 4 ? 1 : 0;
    }
    if (valid[0]) return 0;
    if (valid[1]) return 1;
    return -1;
  }

  /**
   * `nd_label_validate()`: probe 128-byte then 256-byte labels; the index
   * block to use (0 or 1), or -1 when neither is valid (the label size is
   * then left at 256, so a fresh init writes v1.2 labels).
   */
  validate(): number {
    for (const size of [128, 256]) {
      this.nslabelSize = size;
      const rc = this.validateOnce();
      if (rc >= 0) return rc;
    }
    return -1;
  }

  /**
   * `nd_label_write_index()`: fill index block `index` with `seq` (and, for
   * an init, every slot free) and write it to the media. After a normal
   * update the written index becomes current (copied over the old current,
   * which becomes next).
   */
  private writeIndex(index: number, seq: number, flags: number): void {
    const off = this.indexOffset(index);
    const size = this.sizeofNamespaceIndex();
    const v = this.view();
    const o = NSINDEX_OFFSETS;
    const nslot = flags === ND_NSINDEX_INIT ? this.numLabelSlots() : v.getUint32(off + o.nslot, true);
    this.data.set(new TextEncoder().encode(NSINDEX_SIGNATURE), off);
    this.data.fill(0, off + o.flags, off + o.flags + 3);
    v.setUint8(off + o.labelsize, Math.floor(this.nslabelSize / 256));
    v.setUint32(off + o.seq, seq, true);
    v.setBigUint64(off + o.myoff, BigInt(off), true);
    v.setBigUint64(off + o.mysize, BigInt(size), true);
    v.setBigUint64(off + o.otheroff, BigInt(this.indexOffset(1 - index)), true);
    v.setBigUint64(off + o.labeloff, BigInt(2 * size), true);
    v.setUint32(off + o.nslot, nslot, true);
    v.setUint16(off + o.major, 1, true);
    v.setUint16(off + o.minor, this.nslabelSize < 256 ? 1 : 2, true);
    v.setBigUint64(off + o.checksum, 0n, true);
    if (flags === ND_NSINDEX_INIT) {
      const nfree = align(nslot, 64);
      this.data.fill(0xff, off + o.free, off + o.free + nfree / 8);
      for (let s = nslot; s < nfree; s++) this.setFree(index, s, false);
    }
    v.setBigUint64(off + o.checksum, ndFletcher64(this.data.subarray(off, off + size), true), true);
    this.setConfigData(off, size);
    if (flags === ND_NSINDEX_INIT) return;
    this.copyIndex(this.nsCurrent, index);
    this.nsCurrent = 1 - this.nsCurrent;
    this.nsNext = 1 - this.nsNext;
  }

  /**
   * `init_labels()` (the index part): with no valid index, clear the area
   * copy and write index 0 with sequence 3 and index 1 with sequence 2, all
   * slots free; index 0 becomes current. Returns false (nothing written) when
   * a valid index already exists.
   */
  initLabels(): boolean {
    if (this.nsCurrent !== -1 && this.nsNext !== -1) return false;
    const saved = this.data.slice();
    try {
      this.data.fill(0);
      for (let i = 0; i < 2; i++) this.writeIndex(i, 3 - i, ND_NSINDEX_INIT);
    } catch (e) {
      this.data = saved;
      throw e;
    }
    this.nsNext = 1;
    this.nsCurrent = 0;
    return true;
  }

  /** `slot_valid()`: the label records its own slot, 4K-aligned DPA and size, and (v1.2) its checksum. */
  private slotValid(slot: number): boolean {
    const off = this.labelOffset(slot);
    const v = this.view();
    const o = NSLABEL_OFFSETS;
    if (v.getUint32(off + o.slot, true) !== slot) return false;
    if (v.getBigUint64(off + o.dpa, true) % 4096n !== 0n || v.getBigUint64(off + o.rawsize, true) % 4096n !== 0n) return false;
    if (this.nslabelSize > o.checksum) {
      const copy = this.data.slice(off, off + this.nslabelSize);
      copy.fill(0, o.checksum, o.checksum + 8);
      const sum = ndFletcher64(copy, true);
      if (sum !== v.getBigUint64(off + o.checksum, true)) {
        this.log('dbg', `slot_valid fail checksum. slot: ${slot} expect: 0x${sum.toString(16)}`);
        return false;
      }
    }
    return true;
  }

  /** The in-use slots of index `idx` whose labels are valid, in slot order. */
  private activeSlots(idx: number): number[] {
    if (idx < 0) return [];
    const nslot = this.view().getUint32(this.indexOffset(idx) + NSINDEX_OFFSETS.nslot, true);
    const out: number[] = [];
    for (let s = 0; s < nslot; s++) if (!this.testFree(idx, s) && this.slotValid(s)) out.push(s);
    return out;
  }

  /** `nd_label_active_count()`. */
  activeCount(): number {
    return this.activeSlots(this.nsCurrent).length;
  }

  /** `nd_label_active()` for every n: the active labels with their slots. */
  activeLabels(): { slot: number; label: NdNamespaceLabel }[] {
    return this.activeSlots(this.nsCurrent).map((slot) => ({
      slot,
      label: decodeNamespaceLabel(this.data.subarray(this.labelOffset(slot), this.labelOffset(slot) + this.nslabelSize)),
    }));
  }

  /** `nd_label_nfree()`: free slots in the next index. */
  nfree(): number {
    if (this.nsNext < 0) return this.numLabelSlots();
    const nslot = this.view().getUint32(this.indexOffset(this.nsNext) + NSINDEX_OFFSETS.nslot, true);
    let n = 0;
    for (let s = 0; s < nslot; s++) if (this.testFree(this.nsNext, s)) n++;
    return n;
  }

  /** `nd_label_alloc_slot()`: lowest free slot of the next index, now in use; undefined when none. */
  private allocSlot(): number | undefined {
    const nslot = this.view().getUint32(this.indexOffset(this.nsNext) + NSINDEX_OFFSETS.nslot, true);
    for (let s = 0; s < nslot; s++) {
      if (this.testFree(this.nsNext, s)) {
        this.setFree(this.nsNext, s, false);
        return s;
      }
    }
    return undefined;
  }

  /** `nd_label_free_slot()`: mark `slot` free in the next index. */
  private freeSlot(slot: number): boolean {
    const nslot = this.view().getUint32(this.indexOffset(this.nsNext) + NSINDEX_OFFSETS.nslot, true);
    if (slot >= nslot) return false;
    const was = this.testFree(this.nsNext, slot);
    this.setFree(this.nsNext, slot, true);
    return !was;
  }

  /** Runs `fn`, restoring the cache and index roles if it throws. */
  private transaction<T>(fn: () => T): T {
    const saved = this.data.slice();
    const cur = this.nsCurrent;
    const next = this.nsNext;
    const size = this.nslabelSize;
    try {
      return fn();
    } catch (e) {
      this.data = saved;
      this.nsCurrent = cur;
      this.nsNext = next;
      this.nslabelSize = size;
      throw e;
    }
  }

  /**
   * `__pmem_label_update()`: write the namespace's label (with `flags`) into
   * the lowest free slot, free the label it replaces (the active label of the
   * same uuid), and commit with the next index at the next sequence number.
   * Returns the slot used. ENXIO without a valid index or without a free
   * slot; EINVAL for a malformed spec. On failure the cached area and the
   * index roles are as before.
   */
  pmemLabelUpdate(spec: PmemLabelSpec, pos: number, flags: number): number {
    checkSpec(spec);
    checkUnsigned('__pmem_label_update', 'position', pos, 0xffff);
    checkUnsigned('__pmem_label_update', 'flags', flags, 0xffffffff);
    if (this.nsNext < 0) throw new KernelError('ENXIO', '__pmem_label_update: no label index');
    return this.transaction(() => {
      const victim = this.activeLabels().find((l) => bytesEqual(l.label.uuid, spec.uuid));
      const slot = this.allocSlot();
      if (slot === undefined) throw new KernelError('ENXIO', '__pmem_label_update: no free label slot');
      this.log('dbg', `allocated: ${slot}`);
      const off = this.labelOffset(slot);
      const lab = this.data.subarray(off, off + this.nslabelSize);
      const previousGuid = lab.slice(NSLABEL_OFFSETS.abstractionGuid, NSLABEL_OFFSETS.abstractionGuid + 16);
      lab.fill(0);
      const v = new DataView(lab.buffer, lab.byteOffset, lab.byteLength);
      const o = NSLABEL_OFFSETS;
      lab.set(spec.uuid, o.uuid);
      if (spec.name !== undefined) lab.set(new TextEncoder().encode(spec.name), o.name);
      v.setUint32(o.flags, flags, true);
      v.setUint16(o.nlabel, spec.nlabel, true);
      v.setUint16(o.position, pos, true);
      v.setBigUint64(o.isetcookie, spec.isetcookie, true);
      v.setBigUint64(o.rawsize, BigInt(spec.rawsize), true);
      v.setBigUint64(o.lbasize, BigInt(spec.lbasize ?? 0), true);
      v.setBigUint64(o.dpa, BigInt(spec.dpa), true);
      v.setUint32(o.slot, slot, true);
      if (this.nslabelSize > o.typeGuid) lab.set(spec.typeGuid ?? new Uint8Array(16), o.typeGuid);
      if (this.nslabelSize > o.abstractionGuid) {
        lab.set(toAbstractionGuid(spec.claimClass ?? NvdimmClaimClass.NVDIMM_CCLASS_NONE, previousGuid), o.abstractionGuid);
      }
      if (this.nslabelSize > o.checksum) {
        v.setBigUint64(o.checksum, 0n, true);
        v.setBigUint64(o.checksum, ndFletcher64(lab, true), true);
      }
      this.setConfigData(off, this.nslabelSize);
      if (victim !== undefined) {
        this.log('dbg', `free: ${victim.slot}`);
        this.freeSlot(victim.slot);
      }
      const seq = this.view().getUint32(this.indexOffset(this.nsNext) + NSINDEX_OFFSETS.seq, true);
      this.writeIndex(this.nsNext, incSeq(seq), 0);
      return slot;
    });
  }

  /**
   * The rename step of `namespace_update_uuid()` (drivers/nvdimm/namespace_devs.c):
   * the cached copies of the active labels of `oldUuid` take `newUuid`, so
   * that the next label update replaces them. The media are not written
   * (the kernel edits its in-memory labels only). Returns how many were renamed.
   */
  renameLabels(oldUuid: Uint8Array, newUuid: Uint8Array): number {
    for (const u of [oldUuid, newUuid]) if (!(u instanceof Uint8Array) || u.length !== 16) throw new KernelError('EINVAL', 'namespace_update_uuid: uuid must be 16 bytes');
    let n = 0;
    for (const { slot, label } of this.activeLabels()) {
      if (!bytesEqual(label.uuid, oldUuid)) continue;
      const off = this.labelOffset(slot);
      const lab = this.data.subarray(off, off + this.nslabelSize);
      lab.set(newUuid, NSLABEL_OFFSETS.uuid);
      if (this.nslabelSize > NSLABEL_OFFSETS.checksum) {
        const v = new DataView(lab.buffer, lab.byteOffset, lab.byteLength);
        v.setBigUint64(NSLABEL_OFFSETS.checksum, 0n, true);
        v.setBigUint64(NSLABEL_OFFSETS.checksum, ndFletcher64(lab, true), true);
      }
      n++;
    }
    return n;
  }

  /**
   * `del_labels()`: free every active label of `uuid` and commit the next
   * index. Nothing to do (and nothing written) without an index.
   */
  delLabels(uuid: Uint8Array): void {
    if (!(uuid instanceof Uint8Array) || uuid.length !== 16) throw new KernelError('EINVAL', 'del_labels: uuid must be 16 bytes');
    if (this.nsNext < 0) return;
    this.transaction(() => {
      for (const { slot, label } of this.activeLabels()) {
        if (!bytesEqual(label.uuid, uuid)) continue;
        this.freeSlot(slot);
        this.log('dbg', `free: ${slot}`);
      }
      const seq = this.view().getUint32(this.indexOffset(this.nsNext) + NSINDEX_OFFSETS.seq, true);
      this.writeIndex(this.nsNext, incSeq(seq), 0);
    });
  }

  /**
   * `nd_pmem_namespace_label_update()` for a namespace on this one DIMM:
   * size 0 deletes its labels; otherwise create the index if there is none
   * (`init_labels()`), write the label flagged UPDATING, then once more
   * without the flag ("per UEFI 2.7"). Returns the final slot (or -1 for a
   * delete). ENXIO when the label area has no room for the update (checked
   * before anything is written).
   */
  pmemNamespaceLabelUpdate(spec: PmemLabelSpec): number {
    checkSpec(spec);
    if (spec.rawsize === 0) {
      this.delLabels(spec.uuid);
      return -1;
    }
    return this.transaction(() => {
      this.initLabels();
      // Two passes need one free slot each, less the slot the first pass
      // frees when it replaces an old label. The kernel finds out in the
      // second pass, after committing the first; the model refuses up front
      // with the same errno so that a failed update leaves the media as it was.
      const replaces = this.activeLabels().some((l) => bytesEqual(l.label.uuid, spec.uuid));
      if (this.nfree() < (replaces ? 1 : 2)) throw new KernelError('ENXIO', '__pmem_label_update: no free label slot');
      const pos = spec.position ?? 0;
      this.pmemLabelUpdate(spec, pos, NSLABEL_FLAG_UPDATING);
      return this.pmemLabelUpdate(spec, pos, 0);
    });
  }
}

function checkSpec(spec: PmemLabelSpec): void {
  const fn = '__pmem_label_update';
  if (typeof spec !== 'object' || spec === null) throw new KernelError('EINVAL', `${fn}: no namespace`);
  if (!(spec.uuid instanceof Uint8Array) || spec.uuid.length !== 16) throw new KernelError('EINVAL', `${fn}: uuid must be 16 bytes`);
  if (spec.name !== undefined && new TextEncoder().encode(spec.name).length > NSLABEL_NAME_LEN) {
    throw new KernelError('EINVAL', `${fn}: name longer than ${NSLABEL_NAME_LEN} bytes`);
  }
  checkUnsigned(fn, 'nlabel', spec.nlabel, 0xffff);
  if (spec.position !== undefined) checkUnsigned(fn, 'position', spec.position, 0xffff);
  if (typeof spec.isetcookie !== 'bigint' || spec.isetcookie < 0n || spec.isetcookie >= 2n ** 64n) throw new KernelError('EINVAL', `${fn}: invalid isetcookie`);
  checkUnsigned(fn, 'lbasize', spec.lbasize ?? 0);
  checkUnsigned(fn, 'dpa', spec.dpa);
  checkUnsigned(fn, 'rawsize', spec.rawsize);
  if (spec.typeGuid !== undefined && (!(spec.typeGuid instanceof Uint8Array) || spec.typeGuid.length !== 16)) {
    throw new KernelError('EINVAL', `${fn}: type guid must be 16 bytes`);
  }
}

/**
 * ndctl `init-labels` (ndctl v72 `ndctl_dimm_init_labels()`): write fresh
 * index blocks — index 0 with sequence 3, index 1 with sequence 2, every
 * slot free — for labels of `labelVersion` 1.1 (128 bytes, ndctl's default)
 * or 1.2 (256 bytes). EBUSY when the area already holds a valid index and
 * `force` is not set ("labels already initialized"); ENXIO when the area is
 * too small. Returns the number of label slots.
 * @public
 */
export function ndctlInitLabels(media: NdMedia, options: { labelVersion?: '1.1' | '1.2'; force?: boolean } = {}): number {
  if (typeof options !== 'object' || options === null) throw new KernelError('EINVAL', `init-labels: invalid options ${String(options)}`);
  const version = options.labelVersion ?? '1.1';
  if (version !== '1.1' && version !== '1.2') throw new KernelError('EINVAL', `init-labels: unknown label version ${String(version)}`);
  const ndd = NvdimmDrvdata.labelDataInit(media);
  if (ndd.nsCurrent >= 0 && options.force !== true) throw new KernelError('EBUSY', 'labels already initialized');
  ndd.nsCurrent = -1;
  ndd.nsNext = -1;
  ndd.nslabelSize = version === '1.1' ? 128 : 256;
  if (ndd.sizeofNamespaceIndex() === 0) throw new KernelError('ENXIO', `label area (${media.size}) too small to host (${ndd.nslabelSize} byte) labels`);
  ndd.initLabels();
  return ndd.numLabelSlots();
}

/**
 * ndctl `read-labels` (raw form, `-o FILE`): the label area's bytes.
 * @public
 */
export function ndctlReadLabels(media: NdMedia): Uint8Array {
  if (typeof media !== 'object' || media === null) throw new KernelError('EINVAL', 'read-labels: no label area');
  const out = new Uint8Array(media.size);
  media.read(0, out);
  return out;
}

/** EINVAL unless the config size is a 32-bit integer and the label size 128 or 256 (v1.1 and v1.2 labels). */
function checkLabelGeometry(fn: string, configSize: number, labelSize: number): void {
  checkUnsigned(fn, 'config_size', configSize, 0xffffffff);
  if (labelSize !== 128 && labelSize !== 256) throw new KernelError('EINVAL', `${fn}: invalid label size ${String(labelSize)}`);
}
