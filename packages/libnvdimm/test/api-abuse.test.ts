/**
 * API abuse: libnvdimm's public entry points — the providers
 * (e820__reserve_resources, register_e820_pmem, of_pmem_region_probe, the
 * NFIT), the media-error report, the pmem and btt disks (pread, pwrite,
 * dax_direct_access), the DIMM's config-data commands, the label engine and
 * ndctl's label commands, the interleave-set cookie, the nd helpers, and the
 * sysfs stores of regions, namespaces (IO and label) and personalities —
 * called with what no correct caller passes: NaN, infinities, negatives,
 * fractions, integers beyond 2^53, 2^64, undefined, null, strings, objects,
 * unaligned and out-of-range values. Each answer is a KernelError with
 * v5.13's errno (EINVAL where C could not express the call), and the
 * machine — every nd sysfs attribute, /proc/iomem, the media bytes and the
 * label area — is exactly as it was.
 *
 * The last block is driven by the committed API report
 * (etc/libnvdimm.api.md): every function, constructor and method it lists
 * has an entry (or `null` with the reason it is not called), and each is
 * called with each of the test kit's bad values in each parameter; a new
 * export without an entry fails its coverage test.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { abuse, reportEntries } from '@zonedev/test-kit';
import type { Spec } from '@zonedev/test-kit';
import * as api from '@zonedev/libnvdimm';
import { Device, isKernelBug, isKernelError } from '@zonedev/kernel';
import { SparseBacking } from '@zonedev/mmzone';
import {
  MemoryMedia,
  NvdimmDrvdata,
  decodeNamespaceIndex,
  decodeNamespaceLabel,
  decodeNdPfnSb,
  formatUuid,
  ndFletcher64,
  ndSbChecksum,
  ndSizeSelectShow,
  ndSizeSelectStore,
  ndUuidParse,
  ndctlInitLabels,
  ndctlReadLabels,
  nfitInterleaveSet,
} from '@zonedev/libnvdimm';
import type { NfitDescriptor } from '@zonedev/libnvdimm';
import { GiB, MiB, ND, bootMachine, createFsdax, ndSnapshot, tryWrite } from './machine.js';
import type { Machine } from './machine.js';

const PMEM = 4 * GiB;
const UUID = '5b1f7c2e-9a3d-4e6b-8c0f-1d2e3f4a5b6c';

/** Numbers and non-numbers no correct caller passes where an integer is expected. */
const BAD_NUMBERS: readonly unknown[] = [Number.NaN, Infinity, -Infinity, -1, 1.5, 2 ** 53 + 2, 2 ** 64, undefined, null, '4096', {}, [], true, 10n];

/** The errno a call throws, or 'ok', or the non-KernelError it threw (which fails the tests). */
function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return isKernelError(e) ? e.errno : `not a KernelError: ${String(e)}`;
  }
}

/** Everything a caller could observe: nd sysfs, /proc/iomem, the pmem's first and last MiB, the label area. */
function state(m: Machine, la?: MemoryMedia): unknown {
  return {
    nd: ndSnapshot(m),
    head: Buffer.from(m.mm.physmem.read(PMEM, MiB)).toString('base64'),
    tail: Buffer.from(m.mm.physmem.read(PMEM + GiB - MiB, MiB)).toString('base64'),
    labels: la === undefined ? '' : Buffer.from(ndctlReadLabels(la)).toString('base64'),
  };
}

function labelled(): { m: Machine; la: MemoryMedia } {
  const la = new MemoryMedia(128 * 1024);
  ndctlInitLabels(la, { labelVersion: '1.2' });
  const m = bootMachine({ pmem: [], noE820: true, media: new Map([[PMEM, new SparseBacking(GiB)]]) });
  m.nd.registerNfit({ spaRanges: [{ start: PMEM, size: GiB }], dimms: [{ handle: 1, physId: 0, spaRange: 0, labelArea: la }] });
  return { m, la };
}

describe('providers and the media-error report', () => {
  it('e820__reserve_resources / register_e820_pmem / of_pmem_region_probe refuse bad ranges with EINVAL and register nothing', () => {
    const m = bootMachine({ noE820: true });
    const before = state(m);
    for (const v of BAD_NUMBERS) {
      expect(outcome(() => m.nd.e820ReservePmem([{ start: v as number, size: GiB }]))).toBe('EINVAL');
      expect(outcome(() => m.nd.e820ReservePmem([{ start: 8 * GiB, size: v as number }]))).toBe('EINVAL');
      expect(outcome(() => m.nd.ofPmemRegionProbe({ name: 'pmem', reg: [{ start: v as number, size: GiB }] }))).toBe('EINVAL');
      // -1 (NUMA_NO_NODE) and a missing node are valid
      if (v !== undefined && v !== -1) expect(outcome(() => m.nd.ofPmemRegionProbe({ name: 'pmem', reg: [{ start: 8 * GiB, size: GiB }], numaNode: v as number }))).toBe('EINVAL');
    }
    for (const bad of [undefined, null, 5, 'x', {}, [null], [{}]]) {
      expect(outcome(() => m.nd.e820ReservePmem(bad as never))).toBe('EINVAL');
      expect(outcome(() => m.nd.ofPmemRegionProbe(bad as never))).toBe('EINVAL');
      expect(outcome(() => m.nd.registerNfit(bad as never))).toBe('EINVAL');
    }
    expect(outcome(() => m.nd.registerE820Pmem(5 as never))).toBe('EINVAL');
    expect(outcome(() => m.nd.ofPmemRegionProbe({ name: 'pmem', reg: [{ start: 8 * GiB, size: GiB }], volatile: 'yes' as never }))).toBe('EINVAL');
    expect(outcome(() => m.nd.ofPmemRegionProbe({ name: '', reg: [{ start: 8 * GiB, size: GiB }] }))).toBe('EINVAL');
    expect(state(m)).toEqual(before);
  });

  it('registerNfit refuses malformed tables with EINVAL and registers nothing', () => {
    const m = bootMachine({ pmem: [], noE820: true });
    const before = state(m);
    const ok: NfitDescriptor = { spaRanges: [{ start: PMEM, size: GiB }], dimms: [{ handle: 1, physId: 0, spaRange: 0 }] };
    for (const v of BAD_NUMBERS) {
      expect(outcome(() => m.nd.registerNfit({ ...ok, spaRanges: [{ start: v as number, size: GiB }] }))).toBe('EINVAL');
      expect(outcome(() => m.nd.registerNfit({ ...ok, dimms: [{ handle: v as number, physId: 0, spaRange: 0 }] }))).toBe('EINVAL');
      expect(outcome(() => m.nd.registerNfit({ ...ok, dimms: [{ handle: 1, physId: 0, spaRange: v as number }] }))).toBe('EINVAL');
      if (v !== undefined) expect(outcome(() => m.nd.registerNfit({ ...ok, arsClearErrUnit: v as number }))).toBe('EINVAL');
    }
    expect(outcome(() => m.nd.registerNfit({ ...ok, arsClearErrUnit: 384 }))).toBe('EINVAL');
    expect(outcome(() => m.nd.registerNfit({ ...ok, spaRanges: [null as never] }))).toBe('EINVAL');
    expect(outcome(() => m.nd.registerNfit({ ...ok, dimms: [5 as never] }))).toBe('EINVAL');
    // three DIMMs cannot interleave 1 GiB in whole pages
    const three = [0, 1, 2].map((i) => ({ handle: i + 1, physId: i, spaRange: 0 }));
    expect(outcome(() => m.nd.registerNfit({ ...ok, dimms: three }))).toBe('EINVAL');
    for (const v of BAD_NUMBERS) {
      if (v !== undefined) expect(outcome(() => m.nd.registerNfit({ ...ok, dimms: [{ handle: 1, physId: 0, spaRange: 0, regionOffset: v as number }] }))).toBe('EINVAL');
    }
    expect(outcome(() => m.nd.registerNfit({ ...ok, dimms: [{ handle: 1, physId: 0, spaRange: 0, labelArea: {} as never }] }))).toBe('EINVAL');
    expect(state(m)).toEqual(before);
  });

  it('addBadrange refuses bad ranges (EINVAL) and non-pmem addresses (ENXIO)', () => {
    const m = bootMachine();
    const before = state(m);
    for (const v of BAD_NUMBERS) {
      expect(outcome(() => m.nd.addBadrange(v as number, 512))).toBe('EINVAL');
      expect(outcome(() => m.nd.addBadrange(PMEM, v as number))).toBe('EINVAL');
    }
    expect(outcome(() => m.nd.addBadrange(0, 512))).toBe('ENXIO');
    expect(outcome(() => m.nd.addBadrange(PMEM + GiB, 512))).toBe('ENXIO');
    expect(state(m)).toEqual(before);
  });
});

describe('the disks', () => {
  it('/dev/pmem0: pread, pwrite and dax_direct_access refuse bad offsets, lengths and buffers', () => {
    const m = bootMachine();
    createFsdax(m, 0, 'pmem', UUID);
    const disk = m.nd.disk('pmem0')!;
    disk.write(0, new TextEncoder().encode('data'));
    const before = state(m);
    for (const v of BAD_NUMBERS) {
      expect(outcome(() => disk.read(v as number, 16))).toBe('EINVAL');
      expect(outcome(() => disk.read(0, v as number))).toBe('EINVAL');
      expect(outcome(() => disk.readInto(v as number, new Uint8Array(16)))).toBe('EINVAL');
      expect(outcome(() => disk.write(v as number, new Uint8Array(16)))).toBe('EINVAL');
      expect(outcome(() => disk.daxDirectAccess(v as number, 1))).toBe('EINVAL');
      expect(outcome(() => disk.daxDirectAccess(0, v as number))).toBe('EINVAL');
    }
    for (const b of [undefined, null, 'abc', [1, 2], {}, new Uint16Array(4)]) {
      expect(outcome(() => disk.write(0, b as never))).toBe('EINVAL');
      expect(outcome(() => disk.readInto(0, b as never))).toBe('EINVAL');
    }
    expect(outcome(() => disk.write(disk.capacity, new Uint8Array(1)))).toBe('ENOSPC');
    expect(outcome(() => disk.daxDirectAccess(disk.capacity / 4096, 1))).toBe('ERANGE');
    expect(state(m)).toEqual(before);
  });

  it('/dev/pmem0s: the btt disk refuses the same way', () => {
    const m = bootMachine();
    m.kernel.sysfs.write(`${ND}/namespace0.0/driver/unbind`, 'namespace0.0');
    m.kernel.sysfs.write(`${ND}/namespace0.0/holder_class`, 'btt');
    m.kernel.sysfs.write(`${ND}/btt0.0/uuid`, UUID);
    m.kernel.sysfs.write(`${ND}/btt0.0/sector_size`, '4096');
    m.kernel.sysfs.write(`${ND}/btt0.0/namespace`, 'namespace0.0');
    m.kernel.sysfs.write('/sys/bus/nd/drivers/nd_pmem/bind', 'btt0.0');
    const disk = m.nd.bttDisk('pmem0s')!;
    const before = state(m);
    for (const v of BAD_NUMBERS) {
      expect(outcome(() => disk.read(v as number, 16))).toBe('EINVAL');
      expect(outcome(() => disk.read(0, v as number))).toBe('EINVAL');
      expect(outcome(() => disk.write(v as number, new Uint8Array(16)))).toBe('EINVAL');
    }
    for (const b of [undefined, null, 'abc', [1, 2], {}]) expect(outcome(() => disk.write(0, b as never))).toBe('EINVAL');
    expect(state(m)).toEqual(before);
  });
});

describe('DIMMs, labels and the nd helpers', () => {
  it('the config-data commands refuse bad offsets and lengths (EINVAL) and ranges past the area (ENXIO)', () => {
    const { m, la } = labelled();
    const dimm = m.nd.dimms()[0]!;
    const before = state(m, la);
    for (const v of BAD_NUMBERS) {
      expect(outcome(() => dimm.getConfigData(v as number, 16))).toBe('EINVAL');
      expect(outcome(() => dimm.getConfigData(0, v as number))).toBe('EINVAL');
      expect(outcome(() => dimm.setConfigData(v as number, new Uint8Array(4)))).toBe('EINVAL');
    }
    expect(outcome(() => dimm.setConfigData(0, 'abc' as never))).toBe('EINVAL');
    expect(outcome(() => dimm.setConfigData(la.size, new Uint8Array(1)))).toBe('ENXIO');
    expect(state(m, la)).toEqual(before);
  });

  it('the label engine and ndctl\'s label commands refuse bad arguments and leave the area alone', () => {
    const la = new MemoryMedia(128 * 1024);
    ndctlInitLabels(la);
    const bytes = ndctlReadLabels(la);
    const ndd = NvdimmDrvdata.labelDataInit(la);
    const spec = { uuid: ndUuidParse(UUID), nlabel: 1, isetcookie: 1n, dpa: 0, rawsize: 16 * MiB };
    for (const v of BAD_NUMBERS) {
      expect(outcome(() => ndd.pmemNamespaceLabelUpdate({ ...spec, dpa: v as number }))).toBe('EINVAL');
      expect(outcome(() => ndd.pmemNamespaceLabelUpdate({ ...spec, rawsize: v as number }))).toBe('EINVAL');
      expect(outcome(() => ndd.pmemNamespaceLabelUpdate({ ...spec, nlabel: v as number }))).toBe('EINVAL');
      expect(outcome(() => NvdimmDrvdata.labelDataInit(la, v as number))).toBe(v === undefined ? 'ok' : 'EINVAL');
    }
    for (const c of [-1n, 2n ** 64n, 1, 'x']) expect(outcome(() => ndd.pmemNamespaceLabelUpdate({ ...spec, isetcookie: c as bigint }))).toBe('EINVAL');
    for (const u of [undefined, new Uint8Array(15), 'uuid']) {
      expect(outcome(() => ndd.pmemNamespaceLabelUpdate({ ...spec, uuid: u as Uint8Array }))).toBe('EINVAL');
      expect(outcome(() => ndd.delLabels(u as Uint8Array))).toBe('EINVAL');
      expect(outcome(() => ndd.renameLabels(u as Uint8Array, spec.uuid))).toBe('EINVAL');
    }
    expect(outcome(() => ndd.pmemNamespaceLabelUpdate({ ...spec, name: 'n'.repeat(65) }))).toBe('EINVAL');
    expect(outcome(() => ndctlInitLabels(la, { labelVersion: '2.0' as never }))).toBe('EINVAL');
    expect(outcome(() => ndctlInitLabels(la))).toBe('EBUSY');
    expect(outcome(() => ndctlReadLabels(null as never))).toBe('EINVAL');
    expect(outcome(() => NvdimmDrvdata.labelDataInit(null as never))).toBe('EINVAL');
    expect(ndctlReadLabels(la)).toEqual(bytes);
  });

  it('the decoders, checksums, uuid and size-select helpers refuse what is not theirs with EINVAL', () => {
    for (const b of [undefined, null, 'x', 5, {}, new Uint8Array(10)]) {
      expect(outcome(() => decodeNamespaceIndex(b as never))).toBe('EINVAL');
      expect(outcome(() => decodeNamespaceLabel(b as never))).toBe('EINVAL');
      expect(outcome(() => decodeNdPfnSb(b as never))).toBe('EINVAL');
      expect(outcome(() => ndSbChecksum(b as never, 4088))).toBe('EINVAL');
      expect(outcome(() => formatUuid(b as never))).toBe('EINVAL');
    }
    expect(outcome(() => ndFletcher64('x' as never, true))).toBe('EINVAL');
    for (const s of [undefined, 5, {}, 'zz', '']) expect(outcome(() => ndUuidParse(s as never))).toBe('EINVAL');
    for (const s of [undefined, 5, 'abc', '-1', '3', '18446744073709551616']) {
      expect(['EINVAL', 'ERANGE']).toContain(outcome(() => ndSizeSelectStore(false, s as never, [512, 4096])));
    }
    expect(outcome(() => ndSizeSelectShow(0, 'x' as never))).toBe('EINVAL');
    for (const v of BAD_NUMBERS) {
      expect(outcome(() => nfitInterleaveSet([{ regionOffset: v as number, serialNumber: 1, vendorId: 1 }]))).toBe('EINVAL');
      expect(outcome(() => nfitInterleaveSet([{ regionOffset: 0, serialNumber: v as number, vendorId: 1 }]))).toBe('EINVAL');
    }
    expect(outcome(() => nfitInterleaveSet([{ regionOffset: 0, serialNumber: 2 ** 32, vendorId: 1 }]))).toBe('EINVAL');
    expect(outcome(() => nfitInterleaveSet('x' as never))).toBe('EINVAL');
  });
});

describe('sysfs stores', () => {
  const NUMBERS = ['nan', 'inf', '-1', '1.5', '9007199254740994', '18446744073709551616', '0x', '', 'abc', '1e3'];

  it('label namespaces: size, sector_size, uuid and alt_name refuse bad input; the labels are untouched', () => {
    const { m, la } = labelled();
    m.kernel.sysfs.write(`${ND}/namespace0.0/uuid`, UUID);
    const before = state(m, la);
    for (const v of NUMBERS) {
      expect(['EINVAL', 'ERANGE']).toContain(tryWrite(m, `${ND}/namespace0.0/size`, `${v}\n`));
      expect(['EINVAL', 'ERANGE']).toContain(tryWrite(m, `${ND}/namespace0.0/sector_size`, `${v}\n`));
    }
    expect(tryWrite(m, `${ND}/namespace0.0/size`, `${2 ** 40}\n`)).toBe('ENOSPC');
    expect(tryWrite(m, `${ND}/namespace0.0/size`, `${16 * MiB + 1}\n`)).toBe('EINVAL');
    for (const u of ['', 'x', '5b1f7c2e-9a3d', `${UUID}00`.slice(0, 30)]) expect(tryWrite(m, `${ND}/namespace0.0/uuid`, `${u}\n`)).toBe('EINVAL');
    expect(tryWrite(m, `${ND}/namespace0.0/alt_name`, 'a'.repeat(64))).toBe('EINVAL');
    expect(tryWrite(m, `${ND}/namespace0.0/holder_class`, 'bogus')).toBe('EINVAL');
    expect(state(m, la)).toEqual(before);
  });

  it('regions and personalities: align, read_only, pfn align/mode/uuid/namespace and btt sector_size', () => {
    const m = bootMachine();
    const before = state(m);
    for (const v of NUMBERS) {
      expect(['EINVAL', 'ERANGE', 'ENXIO']).toContain(tryWrite(m, `${ND}/region0/align`, `${v}\n`));
      expect(['EINVAL', 'ERANGE']).toContain(tryWrite(m, `${ND}/pfn0.0/align`, `${v}\n`));
      expect(['EINVAL', 'ERANGE']).toContain(tryWrite(m, `${ND}/btt0.0/sector_size`, `${v}\n`));
    }
    expect(tryWrite(m, `${ND}/region0/read_only`, 'maybe')).toBe('EINVAL');
    expect(tryWrite(m, `${ND}/pfn0.0/mode`, 'disk')).toBe('EINVAL');
    expect(tryWrite(m, `${ND}/pfn0.0/uuid`, 'not-a-uuid')).toBe('EINVAL');
    expect(tryWrite(m, `${ND}/pfn0.0/namespace`, 'region0')).toBe('EINVAL');
    expect(tryWrite(m, `${ND}/pfn0.0/namespace`, 'namespace9.9')).toBe('ENODEV');
    expect(state(m)).toEqual(before);
  });
});

describe('every entry of the API report (etc/libnvdimm.api.md) refuses the test kit\'s bad values', () => {
  const ENTRIES = reportEntries(readFileSync(new URL('../etc/libnvdimm.api.md', import.meta.url), 'utf8'));
  const { m, la } = labelled();
  const e820 = bootMachine();
  const disk = e820.nd.disks()[0] as api.PmemDisk;
  const dimm = m.nd.dimms()[0]!;
  const ndd = m.nd.dimmDrvdata(dimm)!;
  const region = m.nd.regions()[0]!;
  const bus = m.nd.nvdimmBuses()[0]!;
  const media = new MemoryMedia(32 * MiB);
  const btt = api.Btt.attach(media, { lbasize: 4096, uuid: ndUuidParse(UUID) });
  btt.writePage(0, new Uint8Array(4096).fill(7));
  const arena = btt.arenas[0]!;
  const bttDisk = new api.BttDisk('pmem9s', btt, false);
  const crash = new api.CrashMedia(new MemoryMedia(MiB));
  const pmm = new api.PhysMemMedia(m.mm.physmem, PMEM, MiB);
  const dax = m.nd.dax;
  const uuid = ndUuidParse(UUID);
  const digest = (x: { size: number; read(o: number, d: Uint8Array): void }, n: number): string => {
    const b = new Uint8Array(Math.min(n, x.size));
    x.read(0, b);
    return createHash('sha1').update(b).digest('hex');
  };
  const snap = (): string =>
    JSON.stringify([
      ndSnapshot(m),
      ndSnapshot(e820),
      m.kernel.iomem.procIomem(),
      e820.kernel.iomem.procIomem(),
      createHash('sha1').update(m.mm.physmem.read(PMEM, 64 * 1024)).update(e820.mm.physmem.read(PMEM, 64 * 1024)).digest('hex'),
      createHash('sha1').update(ndctlReadLabels(la)).digest('hex'),
      digest(media, 64 * 1024),
      [0, 1, 2, 3].map((l) => btt.mapRaw(arena, l)),
      btt.arenas.map((x) => [x.freelist?.length, x.mapoff]),
      digest(crash, 64 * 1024),
      dax.devices().map((d) => d.name),
      [ndd.activeCount(), ndd.nfree()],
    ]);
  const args = (...xs: unknown[]) => () => xs;
  const on = <T extends object>(obj: T, name: keyof T & string, xs: unknown[], allow?: (i: number, v: unknown) => boolean): Spec => ({
    args: () => [...xs],
    call: (v) => (obj[name] as (...p: unknown[]) => unknown)(...v),
    ...(allow === undefined ? {} : { allow }),
  });
  const anyString = (k: number) => (i: number, v: unknown): boolean => i === k && v === 'x';
  const none = null; // no parameters
  /** A name field may be any string. */
  const anyName = (_i: number, f: string, v: unknown): boolean => typeof v === 'string' && /name$/i.test(f);
  const specs: Record<string, Spec | null> = {
    allocArena: { args: args(64 * MiB, 0, 0, 4096, 4096, 2, 0), call: (x) => api.allocArena(...(x as [number, number, number, number, number, number, number])) },
    bestSeq: { args: args(1, 2), call: ([a, b]) => api.bestSeq(a as number, b as number) },
    bttSbChecksum: { args: () => [new Uint8Array(4096)], call: ([b]) => api.bttSbChecksum(b as Uint8Array) },
    createArenas: { args: args(64 * MiB, 4096, 2, 0), call: ([a, b, c, d]) => api.createArenas(a as number, b as number, c as number, d as number) },
    decodeBttSb: { args: () => [new Uint8Array(4096)], call: ([b]) => api.decodeBttSb(b as Uint8Array) },
    decodeNamespaceIndex: { args: () => [new Uint8Array(256)], call: ([b]) => decodeNamespaceIndex(b as Uint8Array) },
    decodeNamespaceLabel: { args: () => [new Uint8Array(256)], call: ([b]) => decodeNamespaceLabel(b as Uint8Array) },
    decodeNdPfnSb: { args: () => [new Uint8Array(4096)], call: ([b]) => decodeNdPfnSb(b as Uint8Array) },
    encodeBttSb: { args: () => [api.decodeBttSb(btt.buildSb(arena))], call: ([x]) => api.encodeBttSb(x as never) },
    encodeNdPfnSb: { args: () => [{}], call: ([x]) => api.encodeNdPfnSb(x as never) },
    entEFlag: { args: args(0), call: ([x]) => api.entEFlag(x as number) },
    entLba: { args: args(0), call: ([x]) => api.entLba(x as number) },
    entNormal: { args: args(0), call: ([x]) => api.entNormal(x as number) },
    entZFlag: { args: args(0), call: ([x]) => api.entZFlag(x as number) },
    setEFlag: { args: args(0), call: ([x]) => api.setEFlag(x as number) },
    formatUuid: { args: () => [uuid], call: ([u]) => formatUuid(u as Uint8Array) },
    ndBttArenaIsValid: { args: () => [btt.buildSb(arena), uuid], call: ([b, u, l]) => api.ndBttArenaIsValid(b as Uint8Array, u as Uint8Array, l as never) },
    ndBttProbe: { args: () => [media, api.NvdimmClaimClass.NVDIMM_CCLASS_BTT2, undefined], call: ([x, c, u]) => api.ndBttProbe(x as never, c as never, u as Uint8Array) },
    ndBttVersion: { args: args(api.NvdimmClaimClass.NVDIMM_CCLASS_BTT2), call: ([c]) => api.ndBttVersion(c as never) },
    ndctlCheckNamespace: { args: () => [media, { devname: 'btt0.0' }], call: ([x, o]) => api.ndctlCheckNamespace(x as never, o as never), allowField: anyName },
    ndctlInitLabels: { args: () => [new MemoryMedia(128 * 1024), {}], call: ([x, o]) => ndctlInitLabels(x as never, o as never) },
    ndctlReadLabels: { args: () => [la], call: ([x]) => ndctlReadLabels(x as never) },
    ndFletcher64: { args: () => [new Uint8Array(8), true], call: ([b, le]) => ndFletcher64(b as Uint8Array, le as boolean) },
    ndIncSeq: { args: args(1), call: ([x]) => api.ndIncSeq(x as number) },
    ndPfnLayout: {
      args: args(PMEM, GiB, 2 * MiB, 'pmem', 2 * MiB, 4096, 'x'),
      call: (x) => api.ndPfnLayout(...(x as [number, number, number, never, number, number, string])),
      allow: anyString(6),
    },
    ndSbChecksum: { args: () => [new Uint8Array(4096), 4088], call: ([b, o]) => ndSbChecksum(b as Uint8Array, o as number) },
    ndSizeSelectShow: { args: args(4096, [512, 4096]), call: ([c, x]) => ndSizeSelectShow(c as number, x as number[]) },
    ndSizeSelectStore: { args: args(false, '4096', [512, 4096]), call: ([b, t, x]) => ndSizeSelectStore(b as boolean, t as string, x as number[]), allow: anyString(1) },
    ndUuidParse: { args: args(UUID), call: ([t]) => ndUuidParse(t as string), allow: anyString(0) },
    nfitInterleaveSet: { args: () => [[{ regionOffset: 0, serialNumber: 1, vendorId: 0x8086 }]], call: ([x, g]) => nfitInterleaveSet(x as never, g as Uint8Array) },
    nvdimmBusCmdName: { args: args(1), call: ([x]) => api.nvdimmBusCmdName(x as number) },
    nvdimmCmdName: { args: args(1), call: ([x]) => api.nvdimmCmdName(x as number) },
    nvdimmNumLabelSlots: { args: args(128 * 1024, 256), call: ([a, b]) => api.nvdimmNumLabelSlots(a as number, b as number) },
    sizeofNamespaceIndex: { args: args(128 * 1024, 256), call: ([a, b]) => api.sizeofNamespaceIndex(a as number, b as number) },
    sizeofNamespaceIndexFor: { args: args(510), call: ([a]) => api.sizeofNamespaceIndexFor(a as number) },
    toAbstractionGuid: { args: () => [api.NvdimmClaimClass.NVDIMM_CCLASS_BTT2, new Uint8Array(16)], call: ([c, t]) => api.toAbstractionGuid(c as never, t as Uint8Array) },
    toNvdimmCclass: { args: () => [new Uint8Array(16)], call: ([g]) => api.toNvdimmCclass(g as Uint8Array) },

    // --- BTT (on a stand-alone medium)
    'Btt.attach': { args: () => [media, { lbasize: 4096, uuid }], call: ([x, o]) => api.Btt.attach(x as never, o as never) },
    'Btt.blockOffset': on(btt, 'blockOffset', [arena, 0]),
    'Btt.buildSb': on(btt, 'buildSb', [arena]),
    'Btt.checkArena': on(btt, 'checkArena', [arena]),
    'Btt.lbaToArena': on(btt, 'lbaToArena', [0]),
    'Btt.logGetOld': { args: () => [arena, btt.logGroupRead(arena, 0)], call: ([a, l]) => api.Btt.logGetOld(a as never, l as never) },
    'Btt.logGroupRead': on(btt, 'logGroupRead', [arena, 0]),
    'Btt.logRead': on(btt, 'logRead', [arena, 0, 0]),
    'Btt.mapRaw': on(btt, 'mapRaw', [arena, 0]),
    'Btt.mapRead': on(btt, 'mapRead', [arena, 0]),
    'Btt.readPage': on(btt, 'readPage', [0, new Uint8Array(4096), 0, undefined]),
    'Btt.writePage': on(btt, 'writePage', [0, new Uint8Array(4096).fill(7), 0, undefined]),
    'BttDisk.constructor': { args: () => ['pmem8s', btt, false], call: ([n, b, r]) => new api.BttDisk(n as string, b as never, r as boolean), allow: anyString(0) },
    'BttDisk.kill': none,
    'BttDisk.read': on(bttDisk, 'read', [0, 4096]),
    'BttDisk.readInto': on(bttDisk, 'readInto', [0, new Uint8Array(4096)]),
    'BttDisk.write': on(bttDisk, 'write', [0, new Uint8Array(4096).fill(7)]),

    // --- media
    'CrashMedia.constructor': { args: () => [new MemoryMedia(MiB), 10, 0], call: ([x, c, t]) => new api.CrashMedia(x as never, c as number, t as number) },
    'CrashMedia.isPoisoned': on(crash, 'isPoisoned', [0, 512]),
    'CrashMedia.read': on(crash, 'read', [0, new Uint8Array(512)]),
    'CrashMedia.write': on(crash, 'write', [0, new Uint8Array(512)]),
    'MemoryMedia.constructor': { args: args(MiB), call: ([z]) => new MemoryMedia(z as number) },
    'MemoryMedia.clone': none,
    'MemoryMedia.injectPoison': on(media, 'injectPoison', [16 * MiB, 512]),
    'MemoryMedia.isPoisoned': on(media, 'isPoisoned', [0, 512]),
    'MemoryMedia.read': on(media, 'read', [0, new Uint8Array(512)]),
    'MemoryMedia.readU32': on(media, 'readU32', [0]),
    'MemoryMedia.write': on(media, 'write', [0, new Uint8Array(512)]),
    'PhysMemMedia.constructor': { args: () => [m.mm.physmem, PMEM, MiB, () => false], call: ([p, a, z, b]) => new api.PhysMemMedia(p as never, a as number, z as number, b as never) },
    'PhysMemMedia.isPoisoned': on(pmm, 'isPoisoned', [0, 512]),
    'PhysMemMedia.read': on(pmm, 'read', [0, new Uint8Array(512)]),
    'PhysMemMedia.write': on(pmm, 'write', [0, new Uint8Array(512)]),
    'PowerFailure.constructor': none,

    // --- device-dax and kmem
    'DaxBus.constructor': { args: () => [{ kernel: m.kernel, memremap: m.memremap, pageSize: 4096 }], call: ([o]) => new api.DaxBus(o as never) },
    'DaxBus.allocDaxMinor': none,
    'DaxBus.allocDaxRegion': { args: () => [region, 9, { start: PMEM, end: PMEM + GiB - 1 }, 0, 2 * MiB, 0], call: (x) => dax.allocDaxRegion(...(x as [never, number, never, number, number, number])), allow: (i, v) => i === 3 && v === -1 /* NUMA_NO_NODE */ },
    'DaxBus.daxDriverRegister': { args: () => ['x', false, () => undefined, undefined], call: ([n, a, p, r]) => dax.daxDriverRegister(n as string, a as boolean, p as never, r as never), allow: anyString(0) },
    'DaxBus.daxPgoffToPhys': { args: () => [{}, 0, 4096], call: ([d, p, z]) => dax.daxPgoffToPhys(d as never, p as number, z as number) },
    'DaxBus.devices': none,
    'DaxBus.devmCreateDevDax': { args: () => [{}, 0, 0, undefined], call: ([r, i, z, p]) => dax.devmCreateDevDax(r as never, i as number, z as number, p as never) },
    'DaxBus.find': on(dax, 'find', ['dax9.9'], anyString(0)),
    'DaxBus.freeDaxMinor': on(dax, 'freeDaxMinor', [4000]),
    'DaxBus.minor': on(dax, 'minor', [{}]),
    'DaxBus.open': on(dax, 'open', [{}, 'x'], anyString(1)),
    'DaxKmem.constructor': { args: () => [{ kernel: m.kernel, dax, hotplug: m.hp }], call: ([o]) => new api.DaxKmem(o as never) },
    'DaxKmem.hasMemory': { args: () => [{}], call: ([d]) => new api.DaxKmem({ kernel: m.kernel, dax, hotplug: m.hp }).hasMemory(d as never) },
    'DaxKmem.kmemRange': { args: () => [{}, 0], call: ([d, i]) => new api.DaxKmem({ kernel: m.kernel, dax, hotplug: m.hp }).kmemRange(d as never, i as number) },
    'DaxRegion.constructor': { args: () => [region, 9, { start: PMEM, end: PMEM + GiB - 1 }, 0, 2 * MiB, 0], call: (x) => new api.DaxRegion(...(x as [Device, number, never, number, number, number])), allow: (i, v) => i === 3 && v === -1 /* NUMA_NO_NODE */ },
    'DevDax.constructor': { args: () => [new api.DaxRegion(region, 9, { start: PMEM, end: PMEM + GiB - 1 }, 0, 2 * MiB, 0), 0, undefined], call: ([r, i, p]) => new api.DevDax(r as never, i as number, p as never) },

    // --- the nd bus, regions, namespaces and DIMMs
    'Libnvdimm.constructor': { args: () => [{ kernel: m.kernel, mm: m.mm, memremap: m.memremap }], call: ([o]) => new api.Libnvdimm(o as never) },
    'Libnvdimm.addBadrange': on(m.nd, 'addBadrange', [PMEM, 512]),
    'Libnvdimm.bttDisk': on(m.nd, 'bttDisk', ['pmem0s'], anyString(0)),
    'Libnvdimm.dimmDrvdata': on(m.nd, 'dimmDrvdata', [dimm]),
    'Libnvdimm.dimms': none,
    'Libnvdimm.disk': on(m.nd, 'disk', ['pmem0'], anyString(0)),
    'Libnvdimm.diskOf': on(m.nd, 'diskOf', [region]),
    'Libnvdimm.disks': none,
    'Libnvdimm.e820ReservePmem': on(m.nd, 'e820ReservePmem', [[]]),
    'Libnvdimm.ndBusCommand': on(m.nd, 'ndBusCommand', [bus, { cmd: 1, address: PMEM, length: 4096 }]),
    'Libnvdimm.nvdimmBuses': none,
    'Libnvdimm.ofPmemRegionProbe': on(m.nd, 'ofPmemRegionProbe', [{ name: 'pmem', reg: [] }]),
    'Libnvdimm.regions': none,
    'Libnvdimm.registerE820Pmem': on(m.nd, 'registerE820Pmem', [undefined]),
    'Libnvdimm.registerNfit': on(m.nd, 'registerNfit', [{ spaRanges: [], dimms: [] }]),
    'NdBtt.constructor': { args: () => [region, 9], call: ([r, i]) => new api.NdBtt(r as never, i as number) },
    'NdNamespaceIo.constructor': { args: () => [region, 9], call: ([r, i]) => new api.NdNamespaceIo(r as never, i as number) },
    'NdNamespacePmem.constructor': { args: () => [region, 9], call: ([r, i]) => new api.NdNamespacePmem(r as never, i as number) },
    'NdPfn.constructor': { args: () => ['pfn', region, 9, 2 * MiB], call: ([k, r, i, a]) => new api.NdPfn(k as never, r as never, i as number, a as number) },
    'NdRegion.constructor': {
      args: () => [9, bus, { flags: [], numaNode: 0, targetNode: 0, start: PMEM, size: GiB }, false, 2 * MiB],
      call: ([i, b, d, v, a]) => new api.NdRegion(i as number, b as never, d as never, v as boolean, a as number),
      allowField: (_i, f, v) => v === -1 && (f === 'numaNode' || f === 'targetNode') /* NUMA_NO_NODE */,
    },
    'NvdimmBus.constructor': { args: () => [9, new Device({ name: 'p' }), { providerName: 'x' }], call: ([i, p, d]) => new api.NvdimmBus(i as number, p as never, d as never), allowField: anyName },
    'NvdimmDimm.constructor': { args: () => [9, bus, { handle: 9, physId: 9, spaRange: 0 }], call: ([i, p, d]) => new api.NvdimmDimm(i as number, p as never, d as never) },
    'NvdimmDimm.getConfigData': on(dimm, 'getConfigData', [0, 256]),
    'NvdimmDimm.getConfigSize': none,
    'NvdimmDimm.setConfigData': on(dimm, 'setConfigData', [0, ndctlReadLabels(la).subarray(0, 256)]),
    'NvdimmDrvdata.activeCount': none,
    'NvdimmDrvdata.activeLabels': none,
    'NvdimmDrvdata.delLabels': on(ndd, 'delLabels', [uuid]),
    'NvdimmDrvdata.initLabels': none,
    'NvdimmDrvdata.labelDataInit': { args: () => [la, 4096], call: ([x, n, l]) => NvdimmDrvdata.labelDataInit(x as never, n as number, l as never) },
    'NvdimmDrvdata.labelOffset': on(ndd, 'labelOffset', [0]),
    'NvdimmDrvdata.nfree': none,
    'NvdimmDrvdata.numLabelSlots': none,
    'NvdimmDrvdata.pmemLabelUpdate': on(ndd, 'pmemLabelUpdate', [{ dpa: 0, isetcookie: 0n, nlabel: 1, rawsize: GiB, uuid }, 0, 0]),
    'NvdimmDrvdata.pmemNamespaceLabelUpdate': on(ndd, 'pmemNamespaceLabelUpdate', [{}]),
    'NvdimmDrvdata.renameLabels': on(ndd, 'renameLabels', [uuid, uuid]),
    'NvdimmDrvdata.sizeofNamespaceIndex': none,
    'NvdimmDrvdata.validate': none,

    // --- the pmem disk (legacy e820 pmem of a second machine)
    'PmemDisk.constructor': {
      args: () => [{ name: 'pmem9', physAddr: PMEM, size: MiB, dataOffset: 0, pfnFlags: 0n, pfnPad: 0, pgmap: undefined, readOnly: false }, e820.mm.physmem, e820.memremap, e820.kernel.log, 12],
      call: ([i, p, r, l, s]) => new api.PmemDisk(i as never, p as never, r as never, l as never, s as number),
      allowField: (i, f, v) => anyName(i, f, v) || (f === 'pgmap' && v === undefined) /* NULL: no pagemap */,
    },
    'PmemDisk.daxDirectAccess': on(disk, 'daxDirectAccess', [0, 1]),
    'PmemDisk.fsdaxSupported': on(disk, 'fsdaxSupported', [4096, 0, 8]),
    'PmemDisk.kill': none,
    'PmemDisk.read': on(disk, 'read', [0, 512]),
    'PmemDisk.readInto': on(disk, 'readInto', [0, new Uint8Array(512)]),
    'PmemDisk.write': on(disk, 'write', [0, new Uint8Array(512)]),
  };
  const refused = (e: unknown): boolean => isKernelError(e) || isKernelBug(e);

  it('the table covers every function and method of the API report, and nothing else', () => {
    const keys = [...new Set(ENTRIES.map((e) => e.key))].sort();
    expect(keys.length).toBeGreaterThan(120);
    expect(Object.keys(specs).sort()).toEqual(keys);
  });

  it('each bad value in each parameter is refused with a KernelError or KernelBug, the machine unchanged', () => {
    const r = abuse(ENTRIES, specs, snap, refused);
    expect(r.failures).toEqual([]);
    expect(r.calls).toBeGreaterThan(2000);
  });
});
