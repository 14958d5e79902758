// Labelled PMEM namespaces on a QEMU NVDIMM with a label area
// (drivers/nvdimm/namespace_devs.c, label.c, region_devs.c, and the NFIT
// interleave-set cookie of drivers/acpi/nfit/core.c): the zero-sized seed
// namespace, the uuid / alt_name / size writes ndctl makes, the labels they
// write, DPA allocation and its refusals, deletion, and namespaces found
// again from the labels on the next boot.
import { describe, expect, it } from 'vitest';
import { SparseBacking } from '@zonedev/mmzone';
import { MemoryMedia, NvdimmDrvdata, decodeNamespaceIndex, formatUuid, ndctlInitLabels, nfitInterleaveSet } from '@zonedev/libnvdimm';
import type { NfitDescriptor } from '@zonedev/libnvdimm';
import { GiB, MiB, ND, bootMachine, ndSnapshot, tryRead, tryWrite } from './machine.js';
import type { Machine } from './machine.js';

const SPA = 4 * GiB;
const U1 = '6c2a5b9e-0d1f-4e3a-8b7c-9d0e1f2a3b4c';
const U2 = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';

/** Boots an NFIT machine on `media` and label area `la`, first writing v1.2 index blocks on an area that has none (unless `init` is false). */
function boot(media: SparseBacking, la: MemoryMedia, init = true): Machine {
  if (init && NvdimmDrvdata.labelDataInit(la).nsCurrent < 0) ndctlInitLabels(la, { labelVersion: '1.2' });
  const m = bootMachine({ pmem: [], noE820: true, media: new Map([[SPA, media]]) });
  const desc: NfitDescriptor = { spaRanges: [{ start: SPA, size: GiB }], dimms: [{ handle: 1, physId: 0, spaRange: 0, labelArea: la }] };
  m.nd.registerNfit(desc);
  return m;
}

function labelBytes(la: MemoryMedia): Uint8Array {
  const b = new Uint8Array(la.size);
  la.read(0, b);
  return b;
}

/** What ndctl create-namespace writes on a label namespace (setup_namespace), then the enable. */
function create(m: Machine, ns: string, uuid: string, name: string, size: number): void {
  m.kernel.sysfs.write(`${ND}/${ns}/uuid`, `${uuid}\n`);
  m.kernel.sysfs.write(`${ND}/${ns}/alt_name`, `${name}\n`);
  m.kernel.sysfs.write(`${ND}/${ns}/size`, `${size}\n`);
  m.kernel.sysfs.write('/sys/bus/nd/drivers/nd_pmem/bind', `${ns}\n`);
}

describe('the NFIT interleave-set cookie (acpi_nfit_init_interleave_set)', () => {
  it('is the Fletcher64 of the offset/serial (v1.1) and offset/serial/vendor (v1.2) records', () => {
    // One DIMM, region offset 0, serial 0x123456, vendor 0x8086 — the words are summed by hand:
    // v1.1 words [0, 0, 0x123456, 0]: lo 0x123456, hi 2 * 0x123456;
    // v1.2 words [0, 0, 0x123456, 0x8086, 0 x 8]: lo 0x12b4dc, hi 0x123456 + 9 * 0x12b4dc.
    const set = nfitInterleaveSet([{ regionOffset: 0, serialNumber: 0x123456, vendorId: 0x8086 }]);
    expect(set.cookie1).toBe(0x2468ac_00123456n);
    expect(set.cookie2).toBe(0xba9012_0012b4dcn);
    expect(set.altcookie).toBe(set.cookie1);
    expect(set.positions).toEqual([0]);
    // two DIMMs: positions follow the region offsets; the compat sort differs when the low bytes disagree
    const two = nfitInterleaveSet([
      { regionOffset: 0x200, serialNumber: 1, vendorId: 0x8086 },
      { regionOffset: 0x1ff, serialNumber: 5, vendorId: 0x8086 },
    ]);
    expect(two.positions).toEqual([1, 0]);
    expect(two.altcookie).not.toBe(two.cookie1);
    expect(() => nfitInterleaveSet([{ regionOffset: -1, serialNumber: 1, vendorId: 1 }])).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
    expect(() => nfitInterleaveSet([])).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
  });
});

describe('a labelled PMEM region', () => {
  it('a label area without an index is label-less: an IO region and namespace until labels are written', () => {
    const la = new MemoryMedia(128 * 1024);
    const m = boot(new SparseBacking(GiB), la, false);
    // no valid index at the DIMM's probe: no NDD_LABELING, the region is label-less (nstype 4)
    expect(tryRead(m, `${ND}/nmem0/flags`)).toBe('\n');
    expect(tryRead(m, `${ND}/region0/nstype`)).toBe('4\n');
    expect(tryRead(m, `${ND}/namespace0.0/devtype`)).toBe('nd_namespace_io\n');
    expect(tryRead(m, `${ND}/namespace0.0/size`)).toBe(`${GiB}\n`);
    expect(tryRead(m, `${ND}/region0/available_size`)).toBe('ENOENT');
    // ndctl's enable_labels(): disable the region, write the index, re-probe the DIMM, enable the region
    m.kernel.sysfs.write(`${ND}/region0/driver/unbind`, 'region0');
    ndctlInitLabels(la, { labelVersion: '1.2' });
    m.kernel.sysfs.write(`${ND}/nmem0/driver/unbind`, 'nmem0');
    m.kernel.sysfs.write('/sys/bus/nd/drivers/nvdimm/bind', 'nmem0');
    m.kernel.sysfs.write('/sys/bus/nd/drivers/nd_region/bind', 'region0');
    expect(tryRead(m, `${ND}/nmem0/flags`)).toBe('label \n');
    expect(tryRead(m, `${ND}/region0/nstype`)).toBe('5\n');
    expect(tryRead(m, `${ND}/namespace0.0/devtype`)).toBe('nd_namespace_pmem\n');
    expect(tryRead(m, `${ND}/namespace0.0/size`)).toBe('0\n');
  });

  it('v1.1 labels: the region shows and writes the v1.1 cookie', () => {
    const la = new MemoryMedia(128 * 1024);
    ndctlInitLabels(la, { labelVersion: '1.1' });
    const m = boot(new SparseBacking(GiB), la);
    expect(tryRead(m, `${ND}/region0/set_cookie`)).toBe('0x2468ac00123456\n');
    create(m, 'namespace0.0', U1, 'v11', 16 * MiB);
    const l = NvdimmDrvdata.labelDataInit(la).activeLabels()[0]!.label;
    expect(l.isetcookie).toBe(0x2468ac_00123456n);
  });

  it('publishes a zero-sized seed namespace_pmem on an initialised label area', () => {
    const m = boot(new SparseBacking(GiB), new MemoryMedia(128 * 1024));
    expect(tryRead(m, `${ND}/region0/nstype`)).toBe('5\n');
    expect(tryRead(m, `${ND}/region0/namespace_seed`)).toBe('namespace0.0\n');
    expect(tryRead(m, `${ND}/region0/available_size`)).toBe(`${GiB}\n`);
    expect(tryRead(m, `${ND}/region0/max_available_extent`)).toBe(`${GiB}\n`);
    expect(tryRead(m, `${ND}/region0/init_namespaces`)).toBe('1/1\n');
    // a v1.2 index: the v1.2 cookie
    expect(tryRead(m, `${ND}/region0/set_cookie`)).toBe('0xba90120012b4dc\n');
    const ns = `${ND}/namespace0.0`;
    expect(tryRead(m, `${ns}/devtype`)).toBe('nd_namespace_pmem\n');
    expect(tryRead(m, `${ns}/modalias`)).toBe('nd:t5\n');
    expect(tryRead(m, `${ns}/nstype`)).toBe('5\n');
    expect(tryRead(m, `${ns}/size`)).toBe('0\n');
    expect(tryRead(m, `${ns}/uuid`)).toBe('\n');
    expect(tryRead(m, `${ns}/alt_name`)).toBe('\n');
    expect(tryRead(m, `${ns}/sector_size`)).toBe('512 4096 \n');
    expect(tryRead(m, `${ns}/dpa_extents`)).toBe('0\n');
    expect(tryRead(m, `${ns}/resource`)).toBe('ENXIO');
    expect(m.kernel.sysfs.exists(`${ns}/driver`)).toBe(false);
    expect(m.nd.disk('pmem0')).toBeUndefined();
  });

  it('uuid, alt_name and size write the label; binding makes /dev/pmem0 and a new seed', () => {
    const la = new MemoryMedia(128 * 1024);
    const m = boot(new SparseBacking(GiB), la);
    create(m, 'namespace0.0', U1, 'db', 512 * MiB);
    const ns = `${ND}/namespace0.0`;
    expect(tryRead(m, `${ns}/uuid`)).toBe(`${U1}\n`);
    expect(tryRead(m, `${ns}/alt_name`)).toBe('db\n');
    expect(tryRead(m, `${ns}/size`)).toBe(`${512 * MiB}\n`);
    expect(tryRead(m, `${ns}/dpa_extents`)).toBe('1\n');
    expect(tryRead(m, `${ns}/resource`)).toBe('0x100000000\n');
    expect(tryRead(m, `${ns}/mode`)).toBe('raw\n');
    expect(m.nd.disk('pmem0')!.capacity).toBe(512 * MiB);
    expect(tryRead(m, `${ND}/region0/namespace_seed`)).toBe('namespace0.1\n');
    expect(tryRead(m, `${ND}/namespace0.1/size`)).toBe('0\n');
    expect(tryRead(m, `${ND}/region0/available_size`)).toBe(`${512 * MiB}\n`);
    expect(tryRead(m, `${ND}/region0/max_available_extent`)).toBe(`${512 * MiB}\n`);
    expect(m.kernel.iomem.procIomem()).toContain('100000000-13fffffff : Persistent Memory\n  100000000-11fffffff : namespace0.0\n');
    // On the media: a v1.2 index and one active 256-byte label with the region's v1.2 cookie.
    const ndd = NvdimmDrvdata.labelDataInit(la);
    expect(ndd.nslabelSize).toBe(256);
    const idx = decodeNamespaceIndex(labelBytes(la).subarray(ndd.nsCurrent * 256, ndd.nsCurrent * 256 + 256));
    expect([idx.major, idx.minor]).toEqual([1, 2]);
    const labels = ndd.activeLabels();
    expect(labels).toHaveLength(1);
    const l = labels[0]!.label;
    expect(formatUuid(l.uuid)).toBe(U1);
    expect(new TextDecoder().decode(l.name.subarray(0, 2))).toBe('db');
    expect(l.name[2]).toBe(0);
    expect([l.dpa, l.rawsize, l.isetcookie, l.nlabel, l.position, l.flags]).toEqual([0n, BigInt(512 * MiB), 0xba9012_0012b4dcn, 1, 0, 0]);
    expect(tryRead(m, `${ND}/region0/set_cookie`)).toBe('0xba90120012b4dc\n');
  });

  it('comes back from the labels on the next boot, namespaces in DPA order, with the data', () => {
    const la = new MemoryMedia(128 * 1024);
    const media = new SparseBacking(GiB);
    const m1 = boot(media, la);
    create(m1, 'namespace0.0', U1, 'first', 256 * MiB);
    create(m1, 'namespace0.1', U2, 'second', 512 * MiB);
    expect(m1.nd.disk('pmem0.1')!.capacity).toBe(512 * MiB);
    m1.nd.disk('pmem0.1')!.write(4096, new TextEncoder().encode('kept'));
    const m2 = boot(media, la);
    expect(tryRead(m2, `${ND}/namespace0.0/uuid`)).toBe(`${U1}\n`);
    expect(tryRead(m2, `${ND}/namespace0.0/alt_name`)).toBe('first\n');
    expect(tryRead(m2, `${ND}/namespace0.1/uuid`)).toBe(`${U2}\n`);
    expect(tryRead(m2, `${ND}/namespace0.1/resource`)).toBe('0x110000000\n');
    expect(tryRead(m2, `${ND}/namespace0.1/size`)).toBe(`${512 * MiB}\n`);
    expect(tryRead(m2, `${ND}/region0/init_namespaces`)).toBe('2/2\n');
    // the first namespace was the seed; once bound, a new zero-sized seed follows
    expect(tryRead(m2, `${ND}/region0/namespace_seed`)).toBe('namespace0.2\n');
    expect(new TextDecoder().decode(m2.nd.disk('pmem0.1')!.read(4096, 4))).toBe('kept');
  });

  it('size 0 deletes the labels and forgets the uuid; a non-seed namespace goes away', () => {
    const la = new MemoryMedia(128 * 1024);
    const m = boot(new SparseBacking(GiB), la);
    create(m, 'namespace0.0', U1, 'a', 256 * MiB);
    create(m, 'namespace0.1', U2, 'b', 256 * MiB);
    m.kernel.sysfs.write(`${ND}/namespace0.1/driver/unbind`, 'namespace0.1');
    m.kernel.sysfs.write(`${ND}/namespace0.1/size`, '0\n');
    expect(m.kernel.sysfs.exists(`${ND}/namespace0.1`)).toBe(false);
    expect(NvdimmDrvdata.labelDataInit(la).activeLabels().map((l) => formatUuid(l.label.uuid))).toEqual([U1]);
    m.kernel.sysfs.write(`${ND}/namespace0.0/driver/unbind`, 'namespace0.0');
    m.kernel.sysfs.write(`${ND}/namespace0.0/size`, '0\n');
    // id 0 stays, empty
    expect(tryRead(m, `${ND}/namespace0.0/size`)).toBe('0\n');
    expect(tryRead(m, `${ND}/namespace0.0/uuid`)).toBe('\n');
    expect(NvdimmDrvdata.labelDataInit(la).activeCount()).toBe(0);
    expect(tryRead(m, `${ND}/region0/available_size`)).toBe(`${GiB}\n`);
  });

  it('refuses bad writes with the kernel errno and changes neither sysfs nor the label area', () => {
    const la = new MemoryMedia(128 * 1024);
    const m = boot(new SparseBacking(GiB), la);
    const ns = `${ND}/namespace0.0`;
    // size before uuid: ENXIO "uuid not set"
    expect(tryWrite(m, `${ns}/size`, `${16 * MiB}\n`)).toBe('ENXIO');
    create(m, 'namespace0.0', U1, 'a', 256 * MiB);
    const before = ndSnapshot(m);
    const bytes = labelBytes(la);
    // enabled: every label attribute is EBUSY
    for (const [f, v] of [['size', '0'], ['uuid', U2], ['alt_name', 'x'], ['sector_size', '4096'], ['holder_class', 'btt']] as const) {
      expect(tryWrite(m, `${ns}/${f}`, `${v}\n`)).toBe('EBUSY');
    }
    expect(ndSnapshot(m)).toEqual(before);
    expect(labelBytes(la)).toEqual(bytes);
    const seed = `${ND}/namespace0.1`;
    expect(tryWrite(m, `${seed}/uuid`, 'not-a-uuid\n')).toBe('EINVAL');
    expect(tryWrite(m, `${seed}/uuid`, `${U1}\n`)).toBe('EINVAL'); // namespace0.0 has it
    m.kernel.sysfs.write(`${seed}/uuid`, `${U2}\n`);
    const mid = ndSnapshot(m);
    const midBytes = labelBytes(la);
    expect(tryWrite(m, `${seed}/size`, `${16 * MiB + 4096}\n`)).toBe('EINVAL'); // not a multiple of the 16 MiB align
    expect(tryWrite(m, `${seed}/size`, `${GiB}\n`)).toBe('ENOSPC');
    expect(tryWrite(m, `${seed}/size`, 'abc\n')).toBe('EINVAL');
    expect(tryWrite(m, `${seed}/size`, '-16777216\n')).toBe('EINVAL');
    expect(tryWrite(m, `${seed}/sector_size`, '520\n')).toBe('EINVAL');
    expect(tryWrite(m, `${seed}/alt_name`, `${'n'.repeat(64)}\n`)).toBe('EINVAL');
    expect(ndSnapshot(m)).toEqual(mid);
    expect(labelBytes(la)).toEqual(midBytes);
  });

  it('resizes in place: an extent shrinks from its end and grows only into the free space next to it', () => {
    const la = new MemoryMedia(128 * 1024);
    const m = boot(new SparseBacking(GiB), la);
    create(m, 'namespace0.0', U1, 'a', 256 * MiB);
    create(m, 'namespace0.1', U2, 'b', 256 * MiB);
    m.kernel.sysfs.write(`${ND}/namespace0.0/driver/unbind`, 'namespace0.0');
    // 512 MiB are free, but not next to namespace0.0's extent: the kernel's "allocation underrun"
    const before = ndSnapshot(m);
    const bytes = labelBytes(la);
    expect(tryWrite(m, `${ND}/namespace0.0/size`, `${512 * MiB}\n`)).toBe('ENXIO');
    expect(ndSnapshot(m)).toEqual(before);
    expect(labelBytes(la)).toEqual(bytes);
    // shrink, then grow back into the space it left
    m.kernel.sysfs.write(`${ND}/namespace0.0/size`, `${128 * MiB}\n`);
    expect(tryRead(m, `${ND}/namespace0.0/size`)).toBe(`${128 * MiB}\n`);
    expect(tryRead(m, `${ND}/region0/available_size`)).toBe(`${GiB - 384 * MiB}\n`);
    expect(tryRead(m, `${ND}/region0/max_available_extent`)).toBe(`${512 * MiB}\n`);
    m.kernel.sysfs.write(`${ND}/namespace0.0/size`, `${256 * MiB}\n`);
    const l = NvdimmDrvdata.labelDataInit(la).activeLabels().find((x) => formatUuid(x.label.uuid) === U1)!.label;
    expect([l.dpa, l.rawsize]).toEqual([0n, BigInt(256 * MiB)]);
    // the namespace after it grows into the free space at the end
    m.kernel.sysfs.write(`${ND}/namespace0.1/driver/unbind`, 'namespace0.1');
    m.kernel.sysfs.write(`${ND}/namespace0.1/size`, `${768 * MiB}\n`);
    expect(tryRead(m, `${ND}/namespace0.1/resource`)).toBe('0x110000000\n');
    expect(tryRead(m, `${ND}/region0/available_size`)).toBe('0\n');
  });

  it('a new uuid renames a labelled namespace: its extent and its label take the new uuid', () => {
    const la = new MemoryMedia(128 * 1024);
    const m = boot(new SparseBacking(GiB), la);
    create(m, 'namespace0.0', U1, 'a', 256 * MiB);
    m.kernel.sysfs.write(`${ND}/namespace0.0/driver/unbind`, 'namespace0.0');
    m.kernel.sysfs.write(`${ND}/namespace0.0/uuid`, `${U2}\n`);
    expect(tryRead(m, `${ND}/namespace0.0/dpa_extents`)).toBe('1\n');
    expect(tryRead(m, `${ND}/namespace0.0/size`)).toBe(`${256 * MiB}\n`);
    expect(NvdimmDrvdata.labelDataInit(la).activeLabels().map((l) => formatUuid(l.label.uuid))).toEqual([U2]);
    // the same uuid again changes nothing
    const bytes = labelBytes(la);
    m.kernel.sysfs.write(`${ND}/namespace0.0/uuid`, `${U2}\n`);
    expect(labelBytes(la)).toEqual(bytes);
  });

  it('a full label area refuses the next namespace with ENXIO and writes nothing', () => {
    // 1 KiB area: index blocks of 256 bytes, two 256-byte slots: one namespace's two-pass update needs both
    const la = new MemoryMedia(1024);
    const m = boot(new SparseBacking(GiB), la);
    create(m, 'namespace0.0', U1, 'a', 256 * MiB);
    m.kernel.sysfs.write(`${ND}/namespace0.1/uuid`, `${U2}\n`);
    const bytes = labelBytes(la);
    const snap = ndSnapshot(m);
    expect(tryWrite(m, `${ND}/namespace0.1/size`, `${256 * MiB}\n`)).toBe('ENXIO');
    expect(ndSnapshot(m)).toEqual(snap);
    expect(labelBytes(la)).toEqual(bytes);
  });
});

describe('an interleave set of two labelled DIMMs', () => {
  function boot2(media: SparseBacking, a: MemoryMedia, b: MemoryMedia): Machine {
    for (const la of [a, b]) if (NvdimmDrvdata.labelDataInit(la).nsCurrent < 0) ndctlInitLabels(la, { labelVersion: '1.2' });
    const m = bootMachine({ pmem: [], noE820: true, media: new Map([[SPA, media]]) });
    m.nd.registerNfit({
      spaRanges: [{ start: SPA, size: GiB }],
      dimms: [
        { handle: 1, physId: 0, spaRange: 0, labelArea: a },
        { handle: 2, physId: 1, spaRange: 0, labelArea: b, regionOffset: 4096 },
      ],
    });
    return m;
  }

  it('one region with a mapping per DIMM; a namespace takes half its size on each, labelled at its position', () => {
    const [a, b] = [new MemoryMedia(128 * 1024), new MemoryMedia(128 * 1024)];
    const media = new SparseBacking(GiB);
    const m = boot2(media, a, b);
    expect(tryRead(m, `${ND}/region0/mappings`)).toBe('2\n');
    expect(tryRead(m, `${ND}/region0/mapping0`)).toBe(`nmem0,0,${GiB / 2},0\n`);
    expect(tryRead(m, `${ND}/region0/mapping1`)).toBe(`nmem1,0,${GiB / 2},1\n`);
    expect(tryRead(m, `${ND}/region0/align`)).toBe('0x1000000\n');
    expect(tryRead(m, `${ND}/region0/available_size`)).toBe(`${GiB}\n`);
    expect(tryRead(m, `${ND}/region0/max_available_extent`)).toBe(`${GiB}\n`);
    // the cookie covers both DIMMs, sorted by region offset
    const set = nfitInterleaveSet([
      { regionOffset: 0, serialNumber: 0x123456, vendorId: 0x8086 },
      { regionOffset: 4096, serialNumber: 0x123457, vendorId: 0x8086 },
    ]);
    expect(tryRead(m, `${ND}/region0/set_cookie`)).toBe(`0x${set.cookie2.toString(16)}\n`);
    create(m, 'namespace0.0', U1, 'striped', 256 * MiB);
    expect(tryRead(m, `${ND}/namespace0.0/dpa_extents`)).toBe('2\n');
    expect(m.nd.disk('pmem0')!.capacity).toBe(256 * MiB);
    for (const [la, pos] of [[a, 0], [b, 1]] as const) {
      const l = NvdimmDrvdata.labelDataInit(la).activeLabels()[0]!.label;
      expect([formatUuid(l.uuid), l.nlabel, l.position, l.dpa, l.rawsize, l.isetcookie]).toEqual([U1, 2, pos, 0n, BigInt(128 * MiB), set.cookie2]);
    }
    const m2 = boot2(media, a, b);
    expect(tryRead(m2, `${ND}/namespace0.0/uuid`)).toBe(`${U1}\n`);
    expect(tryRead(m2, `${ND}/namespace0.0/size`)).toBe(`${256 * MiB}\n`);
    expect(tryRead(m2, `${ND}/region0/available_size`)).toBe(`${GiB - 256 * MiB}\n`);
  });

  it('a label missing on one DIMM fails the region probe ("missing label"), as scan_labels() does', () => {
    const [a, b] = [new MemoryMedia(128 * 1024), new MemoryMedia(128 * 1024)];
    const media = new SparseBacking(GiB);
    const m = boot2(media, a, b);
    create(m, 'namespace0.0', U1, 'x', 256 * MiB);
    const m2 = boot2(media, a, new MemoryMedia(128 * 1024));
    expect(m2.kernel.sysfs.exists(`${ND}/region0/driver`)).toBe(false);
    expect(m2.kernel.log.dmesg()).toContain(`region0: nmem1 missing label for ${U1}`);
  });
});
