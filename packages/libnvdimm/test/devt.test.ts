// Device numbers of the nvdimm stack (Linux v5.13): nvdimm_bus_init() takes
// the dynamic `ndctl` and `dimmctl` majors, dax_core_init() all minors of the
// `dax` major; a pmem disk is 259:N (GENHD_FL_EXT_DEVT, blk_alloc_ext_minor())
// and its dax_device takes a dax minor, which a device-dax device then cannot
// have; /dev/daxR.N is devtmpfs's node, whose superblock and inode number
// /proc/PID/maps prints.
import { describe, expect, it } from 'vitest';
import { formatDevt, major } from '@zonedev/kernel';
import { SparseBacking } from '@zonedev/mmzone';
import { MAP_SHARED, PROT_READ, PROT_WRITE } from '@zonedev/mm';
import { GiB, MiB, ND, bootMachine } from './machine.js';
import { createDevdax, mmSystem, newProcess } from './dax-helpers.js';

const UUID = '5c3a1e2d-7b4f-4a9e-8c6d-1f2e3d4c5b6a';

function twoRegions() {
  return bootMachine({ pmem: [{ start: 4 * GiB, size: GiB }, { start: 6 * GiB, size: GiB }] });
}

describe('libnvdimm and dax device numbers', () => {
  it('ndctl, dimmctl and dax take 254, 253 and 252, in initcall order, as /proc/devices lists them', () => {
    const m = twoRegions();
    expect(m.nd.ndctlMajor).toBe(254);
    expect(m.nd.dimmctlMajor).toBe(253);
    expect(major(m.nd.dax.daxDevt)).toBe(252);
    expect(m.kernel.devt.procDevices()).toBe('Character devices:\n  1 mem\n252 dax\n253 dimmctl\n254 ndctl\n\nBlock devices:\n259 blkext\n');
  });

  it('pmem disks are 259:0 and 259:1: dev files, /sys/dev/block links and devtmpfs nodes', () => {
    const m = twoRegions();
    const fs = m.kernel.sysfs;
    expect(fs.read('/sys/block/pmem0/dev')).toBe('259:0\n');
    expect(fs.read('/sys/block/pmem1/dev')).toBe('259:1\n');
    expect(fs.realpath('/sys/dev/block/259:1')).toBe(fs.realpath('/sys/block/pmem1'));
    expect(m.kernel.devtmpfs.lookup('pmem1')).toMatchObject({ kind: 'block', devt: 259 * 2 ** 20 + 1 });
  });

  it('a devdax device takes the dax minor its namespace\'s pmem disk gave back; the disk\'s blkext minor is free again', () => {
    const m = twoRegions();
    const fs = m.kernel.sysfs;
    createDevdax(m, 1, UUID, 2 * MiB);
    expect(m.kernel.devtmpfs.lookup('pmem1')).toBeUndefined();
    expect(fs.exists('/sys/dev/block/259:1')).toBe(false);
    // pmem0's dax_device holds dax minor 0; pmem1's was given back when its namespace was unbound
    const dir = '/sys/bus/dax/devices/dax1.0';
    expect(fs.read(`${dir}/dev`)).toBe('252:1\n');
    expect(fs.realpath('/sys/dev/char/252:1')).toBe(fs.realpath(dir));
    expect(fs.read(`${dir}/uevent`)).toBe('MAJOR=252\nMINOR=1\nDEVNAME=dax1.0\nDEVTYPE=dev_dax\nDRIVER=device_dax\nMODALIAS=dax:t0*\n');
    expect(m.nd.dax.minor(m.nd.dax.find('dax1.0')!)).toBe(1);
  });

  it('an NFIT DIMM is /dev/nmemN with a dimmctl number', () => {
    const m = bootMachine({ pmem: [], noE820: true, media: new Map([[4 * GiB, new SparseBacking(GiB)]]) });
    m.nd.registerNfit({ spaRanges: [{ start: 4 * GiB, size: GiB }], dimms: [{ handle: 1, physId: 0, spaRange: 0 }] });
    const fs = m.kernel.sysfs;
    expect(fs.read(`${ND}/nmem0/dev`)).toBe('253:0\n');
    expect(fs.read(`${ND}/nmem0/uevent`).split('\n').slice(0, 3)).toEqual(['MAJOR=253', 'MINOR=0', 'DEVNAME=nmem0']);
    expect(m.kernel.devtmpfs.lookup('nmem0')?.kind).toBe('char');
  });

  it('/proc/PID/maps shows /dev/dax1.0 with devtmpfs\'s s_dev and the node\'s inode number', () => {
    const m = twoRegions();
    createDevdax(m, 1, UUID, 2 * MiB);
    const sys = mmSystem(m);
    const mm = newProcess(sys);
    const file = m.nd.dax.open(m.nd.dax.find('dax1.0')!, 'maps');
    const a = mm.mmap({ length: 2 * MiB, prot: PROT_READ + PROT_WRITE, flags: MAP_SHARED, file });
    const node = m.kernel.devtmpfs.lookup('dax1.0')!;
    expect(formatDevt(node.devt)).toBe('252:1');
    const line = mm.procMaps().split('\n').find((l) => l.endsWith('/dev/dax1.0'))!;
    expect(line).toMatch(new RegExp(`^${a.toString(16)}-${(a + 2 * MiB).toString(16)} rw-s 00000000 00:05 ${node.ino} +/dev/dax1.0$`));
    // the inode is devtmpfs's: devices made later get later numbers
    expect(node.ino).toBeGreaterThan(m.kernel.devtmpfs.lookup('pmem0')!.ino);
  });

  it('unbinding dax_pmem gives the minor, the /sys/dev/char link and the node back', () => {
    const m = twoRegions();
    const fs = m.kernel.sysfs;
    const seed = createDevdax(m, 1, UUID, 2 * MiB);
    expect(fs.exists('/sys/dev/char/252:1')).toBe(true);
    fs.write('/sys/bus/nd/drivers/dax_pmem/unbind', seed);
    expect(fs.exists('/sys/dev/char/252:1')).toBe(false);
    expect(m.kernel.devtmpfs.lookup('dax1.0')).toBeUndefined();
    expect(m.nd.dax.allocDaxMinor()).toBe(1);
  });
});
