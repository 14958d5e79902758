// drivers/acpi/nfit/core.c for QEMU's NFIT: nmemN DIMMs with their nfit/
// attributes, the config-data commands on a label area read at probe
// (nd_label_data_init), and the label-less DIMM's region with its mapping,
// its IO namespace and media that survive a reboot.
import { describe, expect, it } from 'vitest';
import { SparseBacking } from '@zonedev/mmzone';
import { MemoryMedia, ndctlInitLabels, decodeNamespaceIndex, NSINDEX_SIGNATURE } from '@zonedev/libnvdimm';
import type { NfitDescriptor } from '@zonedev/libnvdimm';
import { GiB, ND, bootMachine, createFsdax, ndSnapshot, tryRead } from './machine.js';
import type { Machine } from './machine.js';

const UUID = '0c6f4b2a-8d1e-4f3a-9b5c-7e2d1a0f9c8b';
const SPA = 4 * GiB;

function nfitMachine(media: SparseBacking, labelArea?: MemoryMedia): Machine {
  const m = bootMachine({ pmem: [], noE820: true, media: new Map([[SPA, media]]) });
  const desc: NfitDescriptor = {
    spaRanges: [{ start: SPA, size: GiB }],
    dimms: [{ handle: 1, physId: 0, spaRange: 0, ...(labelArea !== undefined ? { labelArea } : {}) }],
  };
  m.nd.registerNfit(desc);
  return m;
}

describe('QEMU NFIT: a label-less NVDIMM', () => {
  it('registers ndbus0 (ACPI.NFIT), nmem0 with QEMU\'s control region, region0 with one mapping and namespace0.0', () => {
    const m = nfitMachine(new SparseBacking(GiB));
    expect(m.kernel.sysfs.list(ND)).toEqual(['btt0.0', 'dax0.0', 'namespace0.0', 'ndbus0', 'nmem0', 'pfn0.0', 'region0']);
    expect(tryRead(m, `${ND}/ndbus0/provider`)).toBe('ACPI.NFIT\n');
    const nfit = `${ND}/nmem0/nfit`;
    expect(tryRead(m, `${nfit}/handle`)).toBe('0x1\n');
    expect(tryRead(m, `${nfit}/phys_id`)).toBe('0x0\n');
    expect(tryRead(m, `${nfit}/vendor`)).toBe('0x8680\n');
    expect(tryRead(m, `${nfit}/device`)).toBe('0x0100\n');
    expect(tryRead(m, `${nfit}/rev_id`)).toBe('0x0100\n');
    expect(tryRead(m, `${nfit}/serial`)).toBe('0x56341200\n');
    expect(tryRead(m, `${nfit}/format`)).toBe('0x0301\n');
    expect(tryRead(m, `${nfit}/id`)).toBe('8680-56341200\n');
    expect(tryRead(m, `${nfit}/flags`)).toBe('\n');
    expect(tryRead(m, `${nfit}/dsm_mask`)).toBe('0\n');
    expect(tryRead(m, `${ND}/nmem0/commands`)).toBe('cmd_call \n');
    expect(tryRead(m, `${ND}/nmem0/flags`)).toBe('\n');
    expect(tryRead(m, `${ND}/nmem0/state`)).toBe('idle\n');
    expect(m.kernel.sysfs.exists(`${ND}/nmem0/driver`)).toBe(true);
    expect(tryRead(m, `${ND}/region0/mappings`)).toBe('1\n');
    expect(tryRead(m, `${ND}/region0/mapping0`)).toBe(`nmem0,0,${GiB},0\n`);
    // no platform capabilities structure: no persistence domain, the attribute is hidden
    expect(tryRead(m, `${ND}/region0/persistence_domain`)).toBe('ENOENT');
    expect(tryRead(m, `${ND}/namespace0.0/size`)).toBe(`${GiB}\n`);
    // no ND_REGION_PAGEMAP on an NFIT region: the idle namespace is raw, no struct pages, no fs-dax
    expect(tryRead(m, `${ND}/namespace0.0/mode`)).toBe('raw\n');
    const disk = m.nd.disk('pmem0')!;
    expect(disk.capacity).toBe(GiB);
    expect(disk.fsdaxSupported()).toBe(false);
    expect(m.kernel.iomem.procIomem()).toContain('100000000-13fffffff : Persistent Memory\n  100000000-13fffffff : namespace0.0\n');
  });

  it('fsdax on the NFIT region survives a reboot of the same media', () => {
    const media = new SparseBacking(GiB);
    const m1 = nfitMachine(media);
    createFsdax(m1, 0, 'pmem', UUID);
    const data = new TextEncoder().encode('NFIT media');
    m1.nd.disk('pmem0')!.write(4096, data);
    const m2 = nfitMachine(media);
    expect(tryRead(m2, `${ND}/namespace0.0/holder`)).toBe('pfn0.1\n');
    expect(tryRead(m2, `${ND}/pfn0.1/uuid`)).toBe(`${UUID}\n`);
    expect(m2.nd.disk('pmem0')!.read(4096, data.length)).toEqual(data);
  });

  it('refuses a malformed NFIT with EINVAL, registering nothing', () => {
    const m = bootMachine({ pmem: [], noE820: true });
    const before = ndSnapshot(m);
    expect(() => m.nd.registerNfit({ spaRanges: [{ start: SPA, size: GiB }], dimms: [{ handle: 1, physId: 0, spaRange: 1 }] })).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
    expect(() => m.nd.registerNfit({ spaRanges: [{ start: SPA, size: 0 }], dimms: [] })).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
    const dup = { spaRanges: [{ start: SPA, size: GiB }, { start: SPA + GiB, size: GiB }], dimms: [{ handle: 1, physId: 0, spaRange: 0 }, { handle: 1, physId: 1, spaRange: 1 }] };
    expect(() => m.nd.registerNfit(dup)).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
    expect(ndSnapshot(m)).toEqual(before);
  });
});

describe('QEMU NFIT: an NVDIMM with label-size=128K', () => {
  it('advertises the config commands and reads the label area at probe', () => {
    const la = new MemoryMedia(128 * 1024);
    const m = nfitMachine(new SparseBacking(GiB), la);
    expect(tryRead(m, `${ND}/nmem0/commands`)).toBe('get_size get_data set_data cmd_call \n');
    expect(tryRead(m, `${ND}/nmem0/nfit/dsm_mask`)).toBe('0x70\n');
    // NDD_LABELING only once the probe finds a valid index
    expect(tryRead(m, `${ND}/nmem0/flags`)).toBe('\n');
    const dimm = m.nd.dimms()[0]!;
    expect(dimm.getConfigSize()).toEqual({ configSize: 131072, maxXfer: 4076 });
    expect(() => dimm.getConfigData(131072 - 8, 16)).toThrow(expect.objectContaining({ errno: 'ENXIO' }));
    expect(() => dimm.getConfigData(0, 4077)).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
    const before = dimm.getConfigData(0, 4076);
    expect(() => dimm.setConfigData(131072 - 4, new Uint8Array(8))).toThrow(expect.objectContaining({ errno: 'ENXIO' }));
    expect(dimm.getConfigData(0, 4076)).toEqual(before);
    dimm.setConfigData(100, new Uint8Array([1, 2, 3]));
    expect([...dimm.getConfigData(100, 3)]).toEqual([1, 2, 3]);
  });

  it('a label area initialised by ndctl init-labels is found valid by the next probe', () => {
    const la = new MemoryMedia(128 * 1024);
    const m1 = nfitMachine(new SparseBacking(GiB), la);
    expect(m1.nd.dimmDrvdata(m1.nd.dimms()[0]!)).toBeDefined();
    ndctlInitLabels(la);
    const b = new Uint8Array(256);
    la.read(0, b);
    expect(new TextDecoder().decode(decodeNamespaceIndex(b).sig)).toBe(NSINDEX_SIGNATURE);
    const m2 = nfitMachine(new SparseBacking(GiB), la);
    const ndd = m2.nd.dimmDrvdata(m2.nd.dimms()[0]!)!;
    expect(ndd.validate()).toBeGreaterThanOrEqual(0);
    expect(tryRead(m2, `${ND}/nmem0/available_slots`)).toBe(`${ndd.nfree() - 1}\n`);
    expect(tryRead(m2, `${ND}/nmem0/flags`)).toBe('label \n');
  });

  it('a label-less DIMM has no config commands (ENOTTY)', () => {
    const m = nfitMachine(new SparseBacking(GiB));
    expect(() => m.nd.dimms()[0]!.getConfigSize()).toThrow(expect.objectContaining({ errno: 'ENOTTY' }));
  });
});
