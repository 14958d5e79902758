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
 */
import { describe, expect, it } from 'vitest';
import { isKernelError } from '@zonedev/kernel';
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
