// drivers/dax/pmem/core.c, drivers/dax/bus.c: ndctl create-namespace -m
// devdax on a legacy pmem region binds the nd dax seed with dax_pmem, which
// publishes /sys/bus/dax/devices/dax0.0 and device_dax binds it.
import { describe, expect, it } from 'vitest';
import { MEMORY_DEVICE_GENERIC } from '@zonedev/memremap';
import { SparseBacking } from '@zonedev/mmzone';
import { DAX_SIG, DevDax, encodeNdPfnSb, ndUuidParse } from '@zonedev/libnvdimm';
import { GiB, MiB, ND, bootMachine, ndSnapshot, tryWrite } from './machine.js';
import { createDevdax } from './dax-helpers.js';

const UUID = 'b6b5c8a2-1e2f-4c3d-9a8b-7c6d5e4f3a21';
const DAX = '/sys/bus/dax/devices/dax0.0';

describe('dax_pmem: devdax map=dev, 2 MiB align', () => {
  it('publishes dax0.0 on the dax bus with the data range of the info block', () => {
    const m = bootMachine();
    const seed = createDevdax(m, 0, UUID);
    expect(seed).toBe('dax0.0');
    const fs = m.kernel.sysfs;
    expect(fs.exists('/sys/bus/nd/drivers/dax_pmem/dax0.0')).toBe(true);
    expect(fs.read(`${ND}/region0/dax_seed`)).toBe('dax0.1\n');
    expect(fs.list('/sys/bus/dax/devices')).toEqual(['dax0.0']);
    expect(fs.read(`${DAX}/size`)).toBe(`${GiB - 18 * MiB}\n`);
    expect(fs.read(`${DAX}/align`)).toBe('2097152\n');
    expect(fs.read(`${DAX}/target_node`)).toBe('0\n');
    expect(fs.read(`${DAX}/numa_node`)).toBe('0\n');
    expect(fs.read(`${DAX}/resource`)).toBe('0x101200000\n');
    expect(fs.read(`${DAX}/modalias`)).toBe('dax:t0\n');
    expect(fs.read(`${DAX}/mapping0/start`)).toBe('0x101200000\n');
    expect(fs.read(`${DAX}/mapping0/end`)).toBe('0x13fffffff\n');
    expect(fs.read(`${DAX}/mapping0/page_offset`)).toBe('0x0\n');
    expect(fs.read(`${ND}/dax0.0/dax_region/id`)).toBe('0\n');
    expect(fs.read(`${ND}/dax0.0/dax_region/size`)).toBe(`${GiB - 18 * MiB}\n`);
    expect(fs.read(`${ND}/dax0.0/dax_region/available_size`)).toBe('0\n');
    expect(fs.read(`${ND}/dax0.0/dax_region/align`)).toBe('2097152\n');
    expect(fs.exists('/sys/bus/dax/drivers/device_dax/dax0.0')).toBe(true);
    // size and align of a static region are read-only
    expect(tryWrite(m, `${DAX}/size`, '0\n')).toBe('EACCES');
    expect(tryWrite(m, `${DAX}/align`, '4096\n')).toBe('EACCES');
    // /proc/iomem: the metadata under the namespace's name, the data under the device's
    const iomem = m.kernel.iomem.procIomem();
    expect(iomem).toContain('100000000-13fffffff : Persistent Memory (legacy)\n');
    expect(iomem).toContain('  100000000-1011fffff : namespace0.0\n');
    expect(iomem).toContain('  101200000-13fffffff : dax0.0\n');
    // device_dax mapped it as MEMORY_DEVICE_GENERIC with the memmap in the namespace
    const dev = m.nd.dax.find('dax0.0')!;
    expect(dev).toBeInstanceOf(DevDax);
    expect(dev.pgmap!.type).toBe(MEMORY_DEVICE_GENERIC);
    expect(m.memremap.pagemapPhase(dev.pgmap!)).toBeDefined();
    expect(dev.pgmap!.altmap.basePfn).toBe(0x100000);
  });

  it('unbinding device_dax releases the data range and the pages; binding again restores them', () => {
    const m = bootMachine();
    createDevdax(m, 0, UUID);
    const dev = m.nd.dax.find('dax0.0')!;
    m.kernel.sysfs.write(`${DAX}/driver/unbind`, 'dax0.0\n');
    expect(m.kernel.iomem.procIomem()).not.toContain('dax0.0');
    expect(m.memremap.pagemaps()).not.toContain(dev.pgmap);
    expect(dev.alive).toBe(false);
    m.kernel.sysfs.write('/sys/bus/dax/drivers/device_dax/bind', 'dax0.0\n');
    expect(m.kernel.iomem.procIomem()).toContain('  101200000-13fffffff : dax0.0\n');
    expect(dev.alive).toBe(true);
  });

  it('disabling the nd dax device removes dax0.0 and every reservation', () => {
    const m = bootMachine();
    m.kernel.sysfs.write(`${ND}/namespace0.0/driver/unbind`, 'namespace0.0\n');
    const before = m.kernel.iomem.procIomem();
    createDevdax(m, 0, UUID);
    m.kernel.sysfs.write(`${ND}/dax0.0/driver/unbind`, 'dax0.0\n');
    expect(m.kernel.sysfs.list('/sys/bus/dax/devices')).toEqual([]);
    expect(m.kernel.sysfs.exists(`${ND}/dax0.0/dax_region`)).toBe(false);
    expect(m.kernel.iomem.procIomem()).toBe(before);
    expect(m.memremap.pagemaps()).toEqual([]);
    // enabling again finds the info block and publishes the same device
    m.kernel.sysfs.write('/sys/bus/nd/drivers/dax_pmem/bind', 'dax0.0\n');
    expect(m.kernel.sysfs.read(`${DAX}/resource`)).toBe('0x101200000\n');
  });

  it('4 KiB align and map=mem: the data starts at 2 MiB with the memmap in RAM', () => {
    const m = bootMachine();
    createDevdax(m, 0, UUID, 4096, 'ram');
    const fs = m.kernel.sysfs;
    expect(fs.read(`${DAX}/align`)).toBe('4096\n');
    expect(fs.read(`${DAX}/size`)).toBe(`${GiB - 2 * MiB}\n`);
    expect(fs.read(`${DAX}/resource`)).toBe('0x100200000\n');
    expect(m.nd.dax.find('dax0.0')!.pgmap!.flags).toBe(0);
  });

  it('a dax device without a namespace fails with ENODEV and changes nothing', () => {
    const m = bootMachine();
    const before = ndSnapshot(m);
    // bind_store() answers ENODEV for any probe failure; the probe's own errno is in dmesg
    expect(tryWrite(m, '/sys/bus/nd/drivers/dax_pmem/bind', 'dax0.0\n')).toBe('ENODEV');
    expect(m.kernel.log.dmesg()).toContain('nd_bus ndbus0: END: dax_pmem.probe(dax0.0) = -19\n');
    expect(ndSnapshot(m)).toEqual(before);
    expect(m.kernel.sysfs.list('/sys/bus/dax/devices')).toEqual([]);
  });

  it('a namespace still enabled raw keeps its range: the probe fails with EBUSY and nothing changes', () => {
    const m = bootMachine();
    const fs = m.kernel.sysfs;
    fs.write(`${ND}/dax0.0/uuid`, `${UUID}\n`);
    fs.write(`${ND}/dax0.0/mode`, 'pmem\n');
    fs.write(`${ND}/dax0.0/namespace`, 'namespace0.0\n');
    const before = ndSnapshot(m);
    const maps = m.memremap.pagemaps();
    // namespace0.0 is bound by nd_pmem and holds its range: the info block cannot be set up
    expect(tryWrite(m, '/sys/bus/nd/drivers/dax_pmem/bind', 'dax0.0\n')).toBe('ENODEV');
    const log = m.kernel.log.dmesg();
    expect(log).toContain('dax_pmem dax0.0: could not reserve region [mem 0x100000000-0x13fffffff]\n');
    expect(log).toContain('dax_pmem: probe of dax0.0 failed with error -16\n');
    expect(ndSnapshot(m)).toEqual(before);
    expect(m.memremap.pagemaps()).toEqual(maps);
  });

  it('at boot a namespace with an NVDIMM_DAX_INFO block comes back as nd dax0.1, which dax_pmem binds', () => {
    const media = new SparseBacking(GiB);
    const sb = {
      signature: DAX_SIG, uuid: ndUuidParse(UUID), parentUuid: new Uint8Array(16), flags: 0, versionMajor: 1, versionMinor: 4,
      dataoff: 0x1200000, npfns: 257536, mode: 2, startPad: 0, endTrunc: 0, align: 0x200000, pageSize: 4096, pageStructSize: 64,
    };
    media.write(4096, encodeNdPfnSb(sb));
    media.write(0x1200000 + 100, new TextEncoder().encode('kept'));
    const m = bootMachine({ media: new Map([[4 * GiB, media]]) });
    const fs = m.kernel.sysfs;
    expect(fs.read(`${ND}/namespace0.0/holder`)).toBe('dax0.1\n');
    expect(fs.exists('/sys/bus/nd/drivers/dax_pmem/dax0.1')).toBe(true);
    // the dax-bus device is named after the namespace, not the nd dax device
    expect(fs.list('/sys/bus/dax/devices')).toEqual(['dax0.0']);
    expect(fs.read(`${DAX}/resource`)).toBe('0x101200000\n');
    expect(fs.read(`${DAX}/size`)).toBe(`${GiB - 18 * MiB}\n`);
    expect(m.kernel.sysfs.exists(`${ND}/dax0.1/dax_region/id`)).toBe(true);
    expect(new TextDecoder().decode(m.mm.physmem.read(4 * GiB + 0x1200000 + 100, 4))).toBe('kept');
  });
});
