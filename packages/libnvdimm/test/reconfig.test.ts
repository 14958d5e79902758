// ndctl's reconfiguration flows replayed by hand through sysfs (reference
// Part I section 3), raw mode without struct pages, region unbind, of_pmem.
import { describe, expect, it } from 'vitest';
import { KernelError } from '@zonedev/kernel';
import { PFN_DEV, pfnTDevmap, pfnTVal } from '@zonedev/memremap';
import { decodeNdPfnSb } from '@zonedev/libnvdimm';
import { GiB, MiB, ND, bootMachine, createFsdax, ndSnapshot, tryRead, tryWrite } from './machine.js';

const UUID = '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0';

describe('force_raw and raw mode', () => {
  it('force_raw maps the namespace without struct pages: mode "raw", PFN_DEV only, no fs-dax', () => {
    const m = bootMachine();
    m.kernel.sysfs.write(`${ND}/namespace0.0/driver/unbind`, 'namespace0.0\n');
    expect(m.memremap.pagemaps().length).toBe(0);
    m.kernel.sysfs.write(`${ND}/namespace0.0/force_raw`, '1\n');
    expect(tryRead(m, `${ND}/namespace0.0/mode`)).toBe('raw\n');
    m.kernel.sysfs.write('/sys/bus/nd/drivers/nd_pmem/bind', 'namespace0.0\n');
    const disk = m.nd.disk('pmem0')!;
    expect(disk.capacity).toBe(GiB);
    expect(m.memremap.pagemaps().length).toBe(0);
    const da = disk.daxDirectAccess(3, 1);
    expect(pfnTVal(da.pfn)).toBe(BigInt(4 * GiB / 4096 + 3) + PFN_DEV);
    expect(pfnTDevmap(da.pfn)).toBe(false);
    expect(disk.fsdaxSupported()).toBe(false);
    expect(m.kernel.log.dmesg()).toContain('pmem0: error: dax support not enabled');
    expect(tryRead(m, `${ND}/namespace0.0/block/pmem0/queue/dax`)).toBe('0\n');
  });

  it('force_raw hides an info block; clearing it brings the pfn personality back', () => {
    const m = bootMachine();
    createFsdax(m, 0, 'pmem', UUID);
    m.kernel.sysfs.write(`${ND}/pfn0.0/driver/unbind`, 'pfn0.0\n');
    // ndctl: detach the pfn device (pfn0.0 is no longer the seed: it goes away)
    m.kernel.sysfs.write(`${ND}/pfn0.0/namespace`, '\n');
    expect(m.kernel.sysfs.exists(`${ND}/pfn0.0`)).toBe(false);
    expect(tryRead(m, `${ND}/namespace0.0/holder`)).toBe('\n');
    m.kernel.sysfs.write(`${ND}/namespace0.0/force_raw`, '1\n');
    m.kernel.sysfs.write('/sys/bus/nd/drivers/nd_pmem/bind', 'namespace0.0\n');
    expect(m.nd.disk('pmem0')!.capacity).toBe(GiB);
    m.kernel.sysfs.write(`${ND}/namespace0.0/driver/unbind`, 'namespace0.0\n');
    m.kernel.sysfs.write(`${ND}/namespace0.0/force_raw`, '0\n');
    // a plain bind finds the info block: namespace0.0 comes back as a new pfn device (id 0 is free again)
    expect(tryWrite(m, '/sys/bus/nd/drivers/nd_pmem/bind', 'namespace0.0\n')).toBe('ENODEV');
    expect(tryRead(m, `${ND}/namespace0.0/holder`)).toBe('pfn0.0\n');
    expect(tryRead(m, `${ND}/pfn0.0/uuid`)).toBe(`${UUID}\n`);
    expect(m.nd.disk('pmem0')!.capacity).toBe(1054867456);
  });

  it('ndctl zeroes the info block through /dev/pmem0 in raw mode and reconfigures to map=mem', () => {
    const m = bootMachine();
    createFsdax(m, 0, 'pmem', UUID);
    m.kernel.sysfs.write(`${ND}/pfn0.0/driver/unbind`, 'pfn0.0\n');
    m.kernel.sysfs.write(`${ND}/pfn0.0/namespace`, '\n');
    m.kernel.sysfs.write(`${ND}/namespace0.0/holder_class`, '\n');
    m.kernel.sysfs.write(`${ND}/namespace0.0/force_raw`, '1\n');
    m.kernel.sysfs.write('/sys/bus/nd/drivers/nd_pmem/bind', 'namespace0.0\n');
    m.nd.disk('pmem0')!.write(0, new Uint8Array(8192));
    m.kernel.sysfs.write(`${ND}/namespace0.0/force_raw`, '0\n');
    m.kernel.sysfs.write(`${ND}/namespace0.0/driver/unbind`, 'namespace0.0\n');
    m.kernel.sysfs.write(`${ND}/namespace0.0/holder_class`, 'pfn\n');
    expect(tryRead(m, `${ND}/namespace0.0/holder_class`)).toBe('pfn\n');
    const seed = createFsdax(m, 0, 'ram', UUID, 4096);
    expect(seed).toBe('pfn0.1');
    expect(decodeNdPfnSb(m.mm.physmem.read(4 * GiB + 4096, 4096))).toMatchObject({ mode: 1, align: 4096, dataoff: 2 * MiB });
    expect(tryRead(m, `${ND}/region0/pfn_seed`)).toBe('pfn0.0\n');
  });

  it('holder_class refuses a personality of another class (-EBUSY) and unknown classes (-EINVAL)', () => {
    const m = bootMachine();
    m.kernel.sysfs.write(`${ND}/namespace0.0/driver/unbind`, 'namespace0.0\n');
    expect(tryWrite(m, `${ND}/namespace0.0/holder_class`, 'sector\n')).toBe('EINVAL');
    m.kernel.sysfs.write(`${ND}/namespace0.0/holder_class`, 'btt\n');
    expect(tryRead(m, `${ND}/namespace0.0/holder_class`)).toBe('btt\n');
    const before = ndSnapshot(m);
    expect(tryWrite(m, `${ND}/pfn0.0/namespace`, 'namespace0.0\n')).toBe('EBUSY');
    expect(tryWrite(m, `${ND}/dax0.0/namespace`, 'namespace0.0\n')).toBe('EBUSY');
    expect(ndSnapshot(m)).toEqual(before);
    m.kernel.sysfs.write(`${ND}/btt0.0/namespace`, 'namespace0.0\n');
    expect(tryRead(m, `${ND}/namespace0.0/mode`)).toBe('safe\n');
    // without a BTT driver the bind fails, as nvdimm_namespace_attach_btt() does without CONFIG_BTT
    expect(tryWrite(m, '/sys/bus/nd/drivers/nd_pmem/bind', 'btt0.0\n')).toBe('ENODEV');
    expect(tryWrite(m, `${ND}/pfn0.0/namespace`, 'namespace0.0\n')).toBe('EBUSY');
  });
});

describe('region unbind and rebind', () => {
  it('unbinding region0 removes its namespace, seeds and disk; rebinding recreates them', () => {
    const m = bootMachine();
    createFsdax(m, 0, 'pmem', UUID);
    m.kernel.sysfs.write('/sys/bus/nd/drivers/nd_region/unbind', 'region0\n');
    expect(m.kernel.sysfs.list(ND)).toEqual(['ndbus0', 'region0']);
    expect(m.nd.disks()).toEqual([]);
    expect(m.memremap.pagemaps().length).toBe(0);
    expect(m.kernel.iomem.procIomem()).not.toContain('namespace0.0');
    expect(tryRead(m, `${ND}/region0/init_namespaces`)).toBe('ENXIO');
    expect(tryRead(m, `${ND}/region0/pfn_seed`)).toBe('\n');
    m.kernel.sysfs.write('/sys/bus/nd/drivers/nd_region/bind', 'region0\n');
    // the info block is still on the media: namespace0.0 comes back as pfn0.1 (pfn0.0 is the new seed)
    expect(m.kernel.sysfs.list(ND)).toEqual(['btt0.0', 'dax0.0', 'namespace0.0', 'ndbus0', 'pfn0.0', 'pfn0.1', 'region0']);
    expect(tryRead(m, `${ND}/namespace0.0/holder`)).toBe('pfn0.1\n');
    expect(m.nd.disk('pmem0')!.capacity).toBe(1054867456);
  });
});

describe('providers', () => {
  it('e820: one bus for several ranges, one region each', () => {
    const m = bootMachine({ pmem: [{ start: 4 * GiB, size: GiB }, { start: 6 * GiB, size: 512 * MiB }] });
    expect(m.kernel.sysfs.list(ND)).toEqual([
      'btt0.0', 'btt1.0', 'dax0.0', 'dax1.0', 'namespace0.0', 'namespace1.0', 'ndbus0', 'pfn0.0', 'pfn1.0', 'region0', 'region1',
    ]);
    expect(m.nd.disk('pmem1')!.capacity).toBe(512 * MiB);
    expect(m.kernel.iomem.procIomem()).toContain('180000000-19fffffff : Persistent Memory (legacy)\n  180000000-19fffffff : namespace1.0\n');
  });

  it('e820ReservePmem refuses bad ranges and conflicts, inserting nothing', () => {
    const m = bootMachine();
    const before = m.kernel.iomem.procIomem();
    for (const bad of [{ start: -1, size: GiB }, { start: 1.5, size: GiB }, { start: 8 * GiB, size: 0 }, { start: Number.NaN, size: 1 }]) {
      expect(() => m.nd.e820ReservePmem([bad])).toThrow(KernelError);
    }
    expect(() => m.nd.e820ReservePmem([{ start: 8 * GiB, size: GiB }, { start: 4 * GiB + MiB, size: GiB }])).toThrow(KernelError);
    expect(m.kernel.iomem.procIomem()).toBe(before);
  });

  it('of_pmem: provider named after the platform device, volatile regions, persistence domain', () => {
    const m = bootMachine({ pmem: [], noE820: true });
    const bus = m.nd.ofPmemRegionProbe({ name: 'pmem', reg: [{ start: 8 * GiB, size: GiB }] });
    const vbus = m.nd.ofPmemRegionProbe({ name: 'vmem', reg: [{ start: 10 * GiB, size: 256 * MiB }], volatile: true });
    expect(bus.name).toBe('ndbus0');
    expect(vbus.name).toBe('ndbus1');
    expect(tryRead(m, `${ND}/ndbus0/provider`)).toBe('200000000.pmem\n');
    expect(m.kernel.sysfs.realpath(`${ND}/region0`)).toBe('/sys/devices/platform/200000000.pmem/ndbus0/region0');
    expect(tryRead(m, `${ND}/region0/persistence_domain`)).toBe('memory_controller\n');
    expect(tryRead(m, `${ND}/region0/devtype`)).toBe('nd_pmem\n');
    expect(tryRead(m, `${ND}/region1/devtype`)).toBe('nd_volatile\n');
    expect(m.kernel.sysfs.exists(`${ND}/region1/persistence_domain`)).toBe(false);
    expect(tryRead(m, `${ND}/region0/numa_node`)).toBe('-1\n');
    expect(m.kernel.iomem.procIomem()).toContain('200000000-23fffffff : pmem@200000000\n  200000000-23fffffff : namespace0.0\n');
    expect(m.nd.disk('pmem1')!.capacity).toBe(256 * MiB);
    const before = ndSnapshot(m);
    expect(() => m.nd.ofPmemRegionProbe({ name: '', reg: [] })).toThrow(KernelError);
    expect(() => m.nd.ofPmemRegionProbe({ name: 'pmem', reg: [{ start: 12 * GiB, size: -4096 }] })).toThrow(KernelError);
    expect(() => m.nd.ofPmemRegionProbe({ name: 'pmem', reg: [{ start: 12 * GiB, size: GiB }], numaNode: 0.5 })).toThrow(KernelError);
    expect(ndSnapshot(m)).toEqual(before);
  });
});

describe('bad input at the public entries', () => {
  it('refuses a bad constructor, arch, nid callback and a second e820_pmem, changing nothing', () => {
    const m = bootMachine();
    expect(() => new (m.nd.constructor as new (o: unknown) => unknown)({})).toThrow(KernelError);
    const before = ndSnapshot(m);
    expect(() => m.nd.registerE820Pmem(() => -2)).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
    expect(() => m.nd.registerE820Pmem(42 as unknown as () => number)).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
    expect(() => m.nd.registerE820Pmem()).toThrow(expect.objectContaining({ errno: 'EEXIST' }));
    expect(ndSnapshot(m)).toEqual(before);
    expect(() => m.nd.disk(7 as unknown as string)).toThrow(expect.objectContaining({ errno: 'EINVAL', message: 'disk: invalid name 7' }));
  });

  it('refuses malformed info-block fields', async () => {
    const { encodeNdPfnSb: enc, formatUuid, ndUuidParse } = await import('@zonedev/libnvdimm');
    const ok = {
      signature: 'NVDIMM_PFN_INFO\0', uuid: new Uint8Array(16), parentUuid: new Uint8Array(16), flags: 0, versionMajor: 1,
      versionMinor: 4, dataoff: 0x200000, npfns: 1, mode: 1, startPad: 0, endTrunc: 0, align: 0x200000, pageSize: 4096, pageStructSize: 64,
    };
    expect(enc(ok).length).toBe(4096);
    for (const bad of [{ mode: -1 }, { align: 2 ** 32 }, { pageStructSize: 65536 }, { dataoff: 1.5 }, { uuid: new Uint8Array(3) }, { signature: 'x'.repeat(17) }]) {
      expect(() => enc({ ...ok, ...bad })).toThrow(KernelError);
    }
    expect(() => formatUuid(new Uint8Array(4))).toThrow(KernelError);
    expect(() => ndUuidParse(undefined as unknown as string)).toThrow(KernelError);
    expect(formatUuid(ndUuidParse('0f1e2d3c4b5a49688776a5b4c3d2e1f0\n'))).toBe(UUID);
    expect(formatUuid(ndUuidParse('0f:1e:2d:3c:4b:5a:49:68:87:76:a5:b4:c3:d2:e1:f0'))).toBe(UUID);
  });
});

describe('device-dax info blocks', () => {
  it('a namespace with an NVDIMM_DAX_INFO block comes back as an nd dax device that dax_pmem binds', async () => {
    const { DAX_SIG, encodeNdPfnSb: enc, ndUuidParse } = await import('@zonedev/libnvdimm');
    const { SparseBacking } = await import('@zonedev/mmzone');
    const media = new SparseBacking(GiB);
    media.write(4096, enc({
      signature: DAX_SIG, uuid: ndUuidParse(UUID), parentUuid: new Uint8Array(16), flags: 0, versionMajor: 1, versionMinor: 4,
      dataoff: 0x1200000, npfns: 257536, mode: 2, startPad: 0, endTrunc: 0, align: 0x200000, pageSize: 4096, pageStructSize: 64,
    }));
    const m = bootMachine({ media: new Map([[4 * GiB, media]]) });
    expect(tryRead(m, `${ND}/namespace0.0/holder`)).toBe('dax0.1\n');
    expect(tryRead(m, `${ND}/namespace0.0/mode`)).toBe('dax\n');
    expect(tryRead(m, `${ND}/dax0.1/uuid`)).toBe(`${UUID}\n`);
    expect(tryRead(m, `${ND}/dax0.1/mode`)).toBe('pmem\n');
    expect(tryRead(m, `${ND}/dax0.1/align`)).toBe('2097152\n');
    expect(m.kernel.sysfs.realpath(`${ND}/dax0.1/driver`)).toBe('/sys/bus/nd/drivers/dax_pmem');
    // __dax_pmem_probe() names the dax bus device after the namespace (namespace0.0 => dax0.0)
    expect(m.kernel.sysfs.list('/sys/bus/dax/devices')).toEqual(['dax0.0']);
    expect(m.nd.disks()).toEqual([]);
    // an unsupported alignment in a dax block is refused with -EOPNOTSUPP: no raw fallback
    media.write(4096, enc({
      signature: DAX_SIG, uuid: ndUuidParse(UUID), parentUuid: new Uint8Array(16), flags: 0, versionMajor: 1, versionMinor: 4,
      dataoff: 0x1200000, npfns: 257536, mode: 2, startPad: 0, endTrunc: 0, align: 0x10000, pageSize: 4096, pageStructSize: 64,
    }));
    const m2 = bootMachine({ media: new Map([[4 * GiB, media]]) });
    expect(tryRead(m2, `${ND}/namespace0.0/holder`)).toBe('\n');
    expect(m2.kernel.sysfs.exists(`${ND}/namespace0.0/driver`)).toBe(false);
    expect(m2.nd.disks()).toEqual([]);
    expect(m2.kernel.log.dmesg()).toContain('init failed, alignment mismatch: 2097152:65536');
  });
});
