// btt_devs.c + btt.c through the nd bus: ndctl create-namespace -m sector on a
// label-less namespace, /dev/pmem0s, and the BTT found again on the next boot.
import { describe, expect, it } from 'vitest';
import { SparseBacking } from '@zonedev/mmzone';
import { GiB, ND, bootMachine, ndSnapshot, tryRead, tryWrite } from './machine.js';
import type { Machine } from './machine.js';

const UUID = '3c2b1a09-8f7e-4d6c-b5a4-938271605f4e';

function createSector(m: Machine, lbasize: number): void {
  m.kernel.sysfs.write(`${ND}/namespace0.0/driver/unbind`, 'namespace0.0\n');
  m.kernel.sysfs.write(`${ND}/namespace0.0/holder_class`, 'btt\n');
  m.kernel.sysfs.write(`${ND}/btt0.0/uuid`, `${UUID}\n`);
  m.kernel.sysfs.write(`${ND}/btt0.0/sector_size`, `${lbasize}\n`);
  m.kernel.sysfs.write(`${ND}/btt0.0/namespace`, 'namespace0.0\n');
  m.kernel.sysfs.write('/sys/bus/nd/drivers/nd_pmem/bind', 'btt0.0\n');
}

describe('sector mode', () => {
  it('4096-byte sectors: /dev/pmem0s of 1071611904 bytes, a new btt seed', () => {
    const m = bootMachine();
    createSector(m, 4096);
    const disk = m.nd.bttDisk('pmem0s')!;
    expect(disk.capacity).toBe(1071611904);
    expect(tryRead(m, `${ND}/btt0.0/size`)).toBe('1071611904\n');
    expect(tryRead(m, `${ND}/btt0.0/sector_size`)).toBe('512 520 528 [4096] 4104 4160 4224 \n');
    expect(tryRead(m, `${ND}/namespace0.0/mode`)).toBe('safe\n');
    expect(tryRead(m, `${ND}/region0/btt_seed`)).toBe('btt0.1\n');
    expect(tryRead(m, `${ND}/btt0.0/block/pmem0s/size`)).toBe(`${1071611904 / 512}\n`);
    expect(tryRead(m, `${ND}/btt0.0/block/pmem0s/queue/logical_block_size`)).toBe('4096\n');
    expect(m.nd.disk('pmem0s')).toBeUndefined();
    expect(m.kernel.iomem.procIomem()).toContain('  100000000-13fffffff : namespace0.0\n');
    const data = new TextEncoder().encode('atomic sectors');
    expect(disk.write(5000, data)).toBe(data.length);
    expect(disk.read(5000, data.length)).toEqual(data);
    expect(disk.read(4096, 904)).toEqual(new Uint8Array(904));
    expect(tryWrite(m, `${ND}/btt0.0/sector_size`, '512\n')).toBe('EBUSY');
  });

  it('512-byte sectors: 1065254400 bytes', () => {
    const m = bootMachine();
    createSector(m, 512);
    expect(m.nd.bttDisk('pmem0s')!.capacity).toBe(1065254400);
  });

  it('refuses an incomplete configuration (-ENODEV) and a bad sector size (-EINVAL), changing nothing', () => {
    const m = bootMachine();
    m.kernel.sysfs.write(`${ND}/namespace0.0/driver/unbind`, 'namespace0.0\n');
    m.kernel.sysfs.write(`${ND}/btt0.0/namespace`, 'namespace0.0\n');
    const bytes = Buffer.from(m.mm.physmem.read(4 * GiB, 65536)).toString('hex');
    const before = ndSnapshot(m);
    expect(tryWrite(m, `${ND}/btt0.0/sector_size`, '1024\n')).toBe('EINVAL');
    expect(tryWrite(m, '/sys/bus/nd/drivers/nd_pmem/bind', 'btt0.0\n')).toBe('ENODEV');
    expect(ndSnapshot(m)).toEqual(before);
    expect(Buffer.from(m.mm.physmem.read(4 * GiB, 65536)).toString('hex') === bytes).toBe(true);
  });

  it('the BTT survives a reboot: namespace0.0 comes back as btt0.1 with the same data', () => {
    const media = new SparseBacking(GiB);
    const m1 = bootMachine({ media: new Map([[4 * GiB, media]]) });
    createSector(m1, 4096);
    const data = new TextEncoder().encode('still here');
    m1.nd.bttDisk('pmem0s')!.write(123456, data);
    const m2 = bootMachine({ media: new Map([[4 * GiB, media]]) });
    expect(tryRead(m2, `${ND}/namespace0.0/holder`)).toBe('btt0.1\n');
    expect(tryRead(m2, `${ND}/btt0.1/uuid`)).toBe(`${UUID}\n`);
    expect(tryRead(m2, `${ND}/btt0.1/sector_size`)).toBe('512 520 528 [4096] 4104 4160 4224 \n');
    expect(m2.nd.bttDisk('pmem0s')!.read(123456, data.length)).toEqual(data);
  });
});
