import { describe, expect, it } from 'vitest';
import { isKernelError } from '@zonedev/kernel';
import {
  NSLABEL_FLAG_UPDATING, NVDIMM_BTT_GUID, NVDIMM_PFN_GUID, NvdimmDrvdata, bestSeq, decodeNamespaceIndex,
  decodeNamespaceLabel, ndctlInitLabels, ndctlReadLabels, nvdimmNumLabelSlots, sizeofNamespaceIndex, toNvdimmCclass,
} from '../src/label.js';
import type { PmemLabelSpec } from '../src/label.js';
import { CrashMedia, MemoryMedia, PowerFailure } from '../src/btt-media.js';
import type { NdMedia } from '../src/btt-media.js';
import { NvdimmClaimClass } from '../src/nd.js';

const K128 = 128 * 1024;

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

class Recording implements NdMedia {
  readonly reads: [number, number][] = [];
  readonly writes: [number, number][] = [];
  constructor(readonly inner: MemoryMedia) {}
  get size(): number {
    return this.inner.size;
  }
  read(o: number, d: Uint8Array): void {
    this.reads.push([o, d.length]);
    this.inner.read(o, d);
  }
  write(o: number, s: Uint8Array): void {
    this.writes.push([o, s.length]);
    this.inner.write(o, s);
  }
}

function bytes(m: MemoryMedia, off: number, len: number): Uint8Array {
  const b = new Uint8Array(len);
  m.read(off, b);
  return b;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
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

function uuid(n: number): Uint8Array {
  return Uint8Array.from({ length: 16 }, (_, i) => (n * 17 + i) % 256);
}

function spec(n: number, extra: Partial<PmemLabelSpec> = {}): PmemLabelSpec {
  return { uuid: uuid(n), name: `ns${n}`, nlabel: 1, isetcookie: 0x1234_5678_9abc_def0n, dpa: n * 0x1000_0000, rawsize: 0x1000_0000, ...extra };
}

describe('label area sizing (v5.13)', () => {
  it('128 KiB: 256-byte labels give 510 slots, 128-byte labels 1020, one 256-byte index each', () => {
    expect(sizeofNamespaceIndex(K128, 256)).toBe(256);
    expect(nvdimmNumLabelSlots(K128, 256)).toBe(510);
    expect(sizeofNamespaceIndex(K128, 128)).toBe(256);
    expect(nvdimmNumLabelSlots(K128, 128)).toBe(1020);
  });

  it('a larger area needs a larger index; too small an area has none', () => {
    // 1 MiB of 128-byte labels: 8192 bits of free map -> 72 + 1024 -> 1280
    expect(sizeofNamespaceIndex(1024 * 1024, 128)).toBe(1280);
    expect(nvdimmNumLabelSlots(1024 * 1024, 128)).toBe((1024 * 1024 - 2560) / 128);
    expect(sizeofNamespaceIndex(1024, 256)).toBe(256);
    expect(sizeofNamespaceIndex(768, 256)).toBe(0);
  });

  it('best_seq: the later of two sequence numbers, ties go to the second', () => {
    expect(bestSeq(1, 2)).toBe(2);
    expect(bestSeq(3, 1)).toBe(1);
    expect(bestSeq(1, 3)).toBe(1);
    expect(bestSeq(2, 2)).toBe(2);
    expect(bestSeq(0, 3)).toBe(3);
    expect(bestSeq(2, 0)).toBe(2);
  });
});

describe('nd_label_data_init on a blank 128 KiB area (QEMU label-size=128K)', () => {
  it('one 3972-byte read, no valid index, labels absent, probe leaves 256-byte labels, nothing written', () => {
    const media = new Recording(new MemoryMedia(K128));
    const ndd = NvdimmDrvdata.labelDataInit(media);
    expect(media.reads).toEqual([[0, 3972]]);
    expect(ndd.nsCurrent).toBe(-1);
    expect(ndd.nslabelSize).toBe(256);
    expect(ndd.activeCount()).toBe(0);
    expect(media.writes).toEqual([]);
  });

  it('ENXIO for an area too small and for max_xfer 0', () => {
    expectErrno(() => NvdimmDrvdata.labelDataInit(new MemoryMedia(512)), 'ENXIO');
    expectErrno(() => NvdimmDrvdata.labelDataInit(new MemoryMedia(K128), 0), 'ENXIO');
  });
});

describe('nd_label_data_init on a labelled area', () => {
  it('fetches in-use slots beyond the first transfer in 3972-byte pieces and zeroes free slots in its copy', () => {
    const inner = new MemoryMedia(K128);
    const ndd = NvdimmDrvdata.labelDataInit(inner);
    for (let n = 1; n <= 16; n++) ndd.pmemNamespaceLabelUpdate(spec(n));
    const media = new Recording(inner);
    const re = NvdimmDrvdata.labelDataInit(media);
    expect(re.activeLabels().map((a) => a.slot)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(media.reads).toEqual([[0, 3972], [3972, 3972]]);
    // slot 0 still holds an UPDATING label on the media, but it is free: zero in the copy
    expect(bytes(inner, 512, 16).every((b) => b === 0)).toBe(false);
    expect(re.data.subarray(512, 768).every((b) => b === 0)).toBe(true);
  });
});

describe('fresh index blocks', () => {
  it('kernel init_labels: v1.2, index 0 seq 3, index 1 seq 2, golden checksums', () => {
    const inner = new MemoryMedia(K128);
    const media = new Recording(inner);
    const ndd = NvdimmDrvdata.labelDataInit(media);
    expect(ndd.initLabels()).toBe(true);
    expect(media.writes).toEqual([[0, 256], [256, 256]]);
    const i0 = bytes(inner, 0, 256);
    const i1 = bytes(inner, 256, 256);
    const v = new DataView(i0.buffer);
    expect(new TextDecoder().decode(i0.subarray(0, 16))).toBe('NAMESPACE_INDEX\0');
    expect([...i0.subarray(16, 20)]).toEqual([0, 0, 0, 1]);
    expect(v.getUint32(20, true)).toBe(3);
    expect([24, 32, 40, 48].map((o) => v.getBigUint64(o, true))).toEqual([0n, 256n, 256n, 512n]);
    expect(v.getUint32(56, true)).toBe(510);
    expect([v.getUint16(60, true), v.getUint16(62, true)]).toEqual([1, 2]);
    expect(v.getBigUint64(64, true)).toBe(0xe793e3ed18323c1cn);
    expect(new DataView(i1.buffer).getBigUint64(64, true)).toBe(0xe793e7b218323c1bn);
    // free bitmap: 510 set bits, then zeros
    expect(i0.subarray(72, 135).every((b) => b === 0xff)).toBe(true);
    expect(i0[135]).toBe(0x3f);
    expect(i0.subarray(136).every((b) => b === 0)).toBe(true);
    const z = i0.slice();
    z.fill(0, 64, 72);
    expect(refFletcher(z)).toBe(0xe793e3ed18323c1cn);
    const idx1 = decodeNamespaceIndex(i1);
    expect([idx1.seq, Number(idx1.myoff), Number(idx1.otheroff)]).toEqual([2, 256, 0]);
    expect(ndd.initLabels()).toBe(false);
  });

  it('ndctl init-labels: v1.1 by default, golden checksums, then EBUSY without --force', () => {
    const media = new MemoryMedia(K128);
    expect(ndctlInitLabels(media)).toBe(1020);
    const i0 = bytes(media, 0, 256);
    const v = new DataView(i0.buffer);
    expect(i0[19]).toBe(0);
    expect([v.getUint16(60, true), v.getUint16(62, true)]).toEqual([1, 1]);
    expect(v.getUint32(56, true)).toBe(1020);
    expect(v.getBigUint64(64, true)).toBe(0xdb634621e7313e0an);
    expect(new DataView(bytes(media, 256, 256).buffer).getBigUint64(64, true)).toBe(0xdb6349e6e7313e09n);
    expect(i0.subarray(72, 199).every((b) => b === 0xff)).toBe(true);
    expect(i0[199]).toBe(0x0f);
    const before = ndctlReadLabels(media);
    expectErrno(() => ndctlInitLabels(media, { labelVersion: '1.2' }), 'EBUSY');
    expect(same(ndctlReadLabels(media), before)).toBe(true);
    expect(ndctlInitLabels(media, { labelVersion: '1.2', force: true })).toBe(510);
    const ndd = NvdimmDrvdata.labelDataInit(media);
    expect([ndd.nslabelSize, ndd.nsCurrent]).toEqual([256, 0]);
  });
});

describe('pmem label updates', () => {
  it('create: UPDATING pass then final pass, seq rotation 3/2 -> 3/3 -> 1/3, label bytes', () => {
    const media = new MemoryMedia(K128);
    const ndd = NvdimmDrvdata.labelDataInit(media);
    const typeGuid = Uint8Array.from({ length: 16 }, (_, i) => 0x60 + i);
    const s = spec(1, { typeGuid, claimClass: NvdimmClaimClass.NVDIMM_CCLASS_PFN });
    ndd.initLabels();
    expect(ndd.pmemLabelUpdate(s, 0, NSLABEL_FLAG_UPDATING)).toBe(0);
    // the next index (1) had seq 2 after init: it is written with seq 3, a tie that index 1 wins
    expect(decodeNamespaceIndex(bytes(media, 0, 256)).seq).toBe(3);
    expect(decodeNamespaceIndex(bytes(media, 256, 256)).seq).toBe(3);
    expect(NvdimmDrvdata.labelDataInit(media).nsCurrent).toBe(1);
    expect(ndd.nsCurrent).toBe(1);
    expect(ndd.pmemLabelUpdate(s, 0, 0)).toBe(1);
    expect(decodeNamespaceIndex(bytes(media, 0, 256)).seq).toBe(1);
    expect(ndd.nsCurrent).toBe(0);
    const re = NvdimmDrvdata.labelDataInit(media);
    expect(re.nsCurrent).toBe(0);
    const act = re.activeLabels();
    expect(act.map((a) => a.slot)).toEqual([1]);
    const lab = bytes(media, 512 + 256, 256);
    const l = decodeNamespaceLabel(lab);
    expect(l.uuid).toEqual(uuid(1));
    expect(new TextDecoder().decode(l.name.subarray(0, 3))).toBe('ns1');
    expect([l.flags, l.nlabel, l.position, l.slot]).toEqual([0, 1, 0, 1]);
    expect([l.isetcookie, l.dpa, l.rawsize, l.lbasize]).toEqual([0x123456789abcdef0n, 0x10000000n, 0x10000000n, 0n]);
    expect(l.typeGuid).toEqual(typeGuid);
    expect(l.abstractionGuid).toEqual(NVDIMM_PFN_GUID);
    expect(toNvdimmCclass(l.abstractionGuid)).toBe(NvdimmClaimClass.NVDIMM_CCLASS_PFN);
    const z = lab.slice();
    z.fill(0, 248);
    expect(l.checksum).toBe(refFletcher(z));
    // slot 0 still holds the UPDATING label, but its free bit is set
    expect(decodeNamespaceLabel(bytes(media, 512, 256)).flags).toBe(NSLABEL_FLAG_UPDATING);
  });

  it('guid byte order is guid_parse(): BTT 8aed63a2-... starts a2 63 ed 8a', () => {
    expect([...NVDIMM_BTT_GUID.subarray(0, 8)]).toEqual([0xa2, 0x63, 0xed, 0x8a, 0xa2, 0x29, 0x66, 0x4c]);
  });

  it('v1.1 labels: 128 bytes, no checksum, no guids', () => {
    const media = new MemoryMedia(K128);
    ndctlInitLabels(media);
    const ndd = NvdimmDrvdata.labelDataInit(media);
    expect(ndd.nslabelSize).toBe(128);
    const slot = ndd.pmemNamespaceLabelUpdate(spec(2, { typeGuid: new Uint8Array(16).fill(9) }));
    expect(slot).toBe(1);
    const raw = bytes(media, 512 + 128, 128);
    expect(raw.subarray(124).every((b) => b === 0)).toBe(true);
    expect(bytes(media, 512 + 256, 128).every((b) => b === 0)).toBe(true);
    expect(NvdimmDrvdata.labelDataInit(media).activeLabels().map((a) => a.slot)).toEqual([1]);
  });

  it('updating a namespace replaces its label; delete frees it', () => {
    const media = new MemoryMedia(K128);
    const ndd = NvdimmDrvdata.labelDataInit(media);
    ndd.pmemNamespaceLabelUpdate(spec(1));
    ndd.pmemNamespaceLabelUpdate(spec(2));
    ndd.pmemNamespaceLabelUpdate(spec(1, { rawsize: 0x2000_0000 }));
    let act = NvdimmDrvdata.labelDataInit(media).activeLabels();
    expect(act).toHaveLength(2);
    expect(act.find((a) => a.label.uuid[0] === uuid(1)[0])!.label.rawsize).toBe(0x20000000n);
    ndd.pmemNamespaceLabelUpdate(spec(1, { rawsize: 0 }));
    act = NvdimmDrvdata.labelDataInit(media).activeLabels();
    expect(act.map((a) => a.label.uuid)).toEqual([uuid(2)]);
  });

  it('a torn current index block falls back to the other one', () => {
    const media = new MemoryMedia(K128);
    const ndd = NvdimmDrvdata.labelDataInit(media);
    ndd.pmemNamespaceLabelUpdate(spec(1));
    // current is index 0 (seq 1, final label in slot 1); index 1 (seq 3) has the UPDATING label in slot 0
    expect(ndd.nsCurrent).toBe(0);
    const b = bytes(media, 100, 1);
    media.write(100, Uint8Array.of((b[0]! + 1) % 256));
    const re = NvdimmDrvdata.labelDataInit(media);
    expect(re.nsCurrent).toBe(1);
    const act = re.activeLabels();
    expect(act.map((a) => [a.slot, a.label.flags])).toEqual([[0, NSLABEL_FLAG_UPDATING]]);
    // the next update goes on from the surviving index
    re.pmemNamespaceLabelUpdate(spec(1));
    expect(NvdimmDrvdata.labelDataInit(media).activeLabels()).toHaveLength(1);
  });

  it('a torn label (v1.2 checksum) is not active', () => {
    const media = new MemoryMedia(K128);
    const ndd = NvdimmDrvdata.labelDataInit(media);
    ndd.pmemNamespaceLabelUpdate(spec(1));
    media.write(512 + 256 + 20, Uint8Array.of(0x7a));
    expect(NvdimmDrvdata.labelDataInit(media).activeCount()).toBe(0);
  });

  it('ENXIO when the label area is full, EINVAL for bad input, media unchanged', () => {
    const media = new MemoryMedia(4096);
    const ndd = NvdimmDrvdata.labelDataInit(media);
    expect(ndd.numLabelSlots()).toBe(14);
    for (let n = 0; n < 13; n++) ndd.pmemNamespaceLabelUpdate(spec(n + 1));
    expect(ndd.nfree()).toBe(1);
    const before = ndctlReadLabels(media);
    const state = [ndd.nsCurrent, ndd.nsNext];
    const cache = ndd.data.slice();
    expectErrno(() => ndd.pmemNamespaceLabelUpdate(spec(50)), 'ENXIO');
    expectErrno(() => ndd.pmemNamespaceLabelUpdate({ ...spec(51), uuid: new Uint8Array(3) }), 'EINVAL');
    expectErrno(() => ndd.pmemNamespaceLabelUpdate(spec(52, { name: 'x'.repeat(65) })), 'EINVAL');
    expectErrno(() => ndd.pmemNamespaceLabelUpdate(spec(53, { dpa: -1 })), 'EINVAL');
    expect(same(ndctlReadLabels(media), before)).toBe(true);
    expect([ndd.nsCurrent, ndd.nsNext]).toEqual(state);
    expect(same(ndd.data, cache)).toBe(true);
    // replacing an existing namespace still fits
    ndd.pmemNamespaceLabelUpdate(spec(3, { rawsize: 0x3000_0000 }));
    expect(NvdimmDrvdata.labelDataInit(media).activeCount()).toBe(13);
  });

  it('a power failure at any write of an update leaves the old or the new label set, never neither', () => {
    const base = new MemoryMedia(K128);
    NvdimmDrvdata.labelDataInit(base).pmemNamespaceLabelUpdate(spec(1));
    const counter = new CrashMedia(base.clone());
    NvdimmDrvdata.labelDataInit(counter).pmemNamespaceLabelUpdate(spec(1, { rawsize: 0x2000_0000 }));
    // two passes, each a label write and an index write
    expect(counter.writes).toBe(4);
    const outcomes: string[] = [];
    for (let k = 1; k <= counter.writes; k++) {
      for (const torn of [0, 128]) {
        const img = base.clone();
        const ndd = NvdimmDrvdata.labelDataInit(new CrashMedia(img, k, torn));
        expect(() => ndd.pmemNamespaceLabelUpdate(spec(1, { rawsize: 0x2000_0000 }))).toThrow(PowerFailure);
        const act = NvdimmDrvdata.labelDataInit(img).activeLabels();
        expect(act).toHaveLength(1);
        const l = act[0]!.label;
        outcomes.push(`${l.rawsize.toString(16)}/${l.flags}`);
      }
    }
    // (k, torn) = (1,0) (1,128) (2,0) (2,128) (3,0) (3,128) (4,0) (4,128). Until an
    // index write lands the old label stays; after the first one the new label
    // rules, flagged UPDATING until the second. An index block torn after 128
    // bytes is whole here: all that changes (sequence number, checksum, the
    // first bitmap bytes) lies in its first 128 bytes, so its checksum holds.
    expect(outcomes).toEqual(['10000000/0', '10000000/0', '10000000/0', '20000000/8', '20000000/8', '20000000/8', '20000000/8', '20000000/0']);
  });

  it('ENXIO from __pmem_label_update without an index, nothing written', () => {
    const media = new MemoryMedia(K128);
    const ndd = NvdimmDrvdata.labelDataInit(media);
    expectErrno(() => ndd.pmemLabelUpdate(spec(1), 0, 0), 'ENXIO');
    expect(media.pagesInUse).toBe(0);
  });
});
