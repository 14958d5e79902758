import { describe, expect, it } from 'vitest';
import {
  BLOCK_EXT_MAJOR,
  DevNumbers,
  Device,
  Devtmpfs,
  Kernel,
  MINORMASK,
  formatDevt,
  major,
  minor,
  mkdev,
} from '@zonedev/kernel';
import type { BusType } from '@zonedev/kernel';
import { errno } from './errno.js';

describe('dev_t (include/linux/kdev_t.h)', () => {
  it('packs 12 bits of major above 20 bits of minor', () => {
    expect(mkdev(252, 0)).toBe(252 * 2 ** 20);
    expect(major(mkdev(259, 7))).toBe(259);
    expect(minor(mkdev(259, 7))).toBe(7);
    expect(formatDevt(mkdev(1, 3))).toBe('1:3');
    expect(minor(mkdev(4095, MINORMASK))).toBe(MINORMASK);
  });

  it('refuses numbers that do not fit', () => {
    expect(errno(() => mkdev(4096, 0))).toBe('EINVAL');
    expect(errno(() => mkdev(1, MINORMASK + 1))).toBe('EINVAL');
    expect(errno(() => mkdev(-1, 0))).toBe('EINVAL');
    expect(errno(() => major(1.5))).toBe('EINVAL');
  });
});

describe('character majors (fs/char_dev.c)', () => {
  it('find_dynamic_major() hands out 254, 253, ... and skips a taken bucket', () => {
    const d = new DevNumbers();
    expect(d.registerChrdev(0, 'ndctl')).toBe(254);
    expect(d.registerChrdev(0, 'dimmctl')).toBe(253);
    d.registerChrdevRegion(mkdev(252, 0), 1, 'fixed');
    expect(major(d.allocChrdevRegion(0, MINORMASK + 1, 'dax'))).toBe(251);
  });

  it('a static major at or above 255 empties no bucket: 509 % 255 = 254 hides bucket 254', () => {
    const d = new DevNumbers();
    d.registerChrdevRegion(mkdev(509, 0), 1, 'high');
    expect(d.registerChrdev(0, 'next')).toBe(253);
  });

  it('falls back to 511..384 once 254..234 are used, then reports the region full', () => {
    const d = new DevNumbers();
    for (let m = 254; m >= 234; m--) expect(d.registerChrdev(0, `d${m}`)).toBe(m);
    expect(d.registerChrdev(0, 'ext')).toBe(511);
    const ext = [];
    for (let m = 510; m >= 384; m--) ext.push(d.registerChrdev(0, `e${m}`));
    expect(ext.at(-1)).toBe(384);
    expect(() => d.registerChrdev(0, 'none')).toThrow('CHRDEV "none" dynamic allocation region is full');
  });

  it('overlapping minor ranges of one major are refused with EBUSY; adjacent ones are fine', () => {
    const d = new DevNumbers();
    d.registerChrdevRegion(mkdev(10, 0), 4, 'a');
    d.registerChrdevRegion(mkdev(10, 4), 4, 'b');
    const before = d.procDevices();
    expect(errno(() => d.registerChrdevRegion(mkdev(10, 3), 2, 'c'))).toBe('EBUSY');
    expect(d.procDevices()).toBe(before);
    expect(d.chrdevRegions().map((r) => `${r.major}:${r.baseminor}+${r.minorct} ${r.name}`)).toEqual(['10:0+4 a', '10:4+4 b']);
  });

  it('a range across majors is all or nothing', () => {
    const d = new DevNumbers();
    d.registerChrdevRegion(mkdev(21, 0), 1, 'taken');
    expect(errno(() => d.registerChrdevRegion(mkdev(20, MINORMASK), 2, 'span'))).toBe('EBUSY');
    expect(d.chrdevRegions().map((r) => r.name)).toEqual(['taken']);
    d.unregisterChrdevRegion(mkdev(21, 0), 1);
    d.registerChrdevRegion(mkdev(20, MINORMASK), 2, 'span');
    expect(d.chrdevRegions().map((r) => `${r.major}:${r.baseminor}+${r.minorct}`)).toEqual([`20:${MINORMASK}+1`, '21:0+1']);
  });

  it('refuses a major of 512 and a minor range past MINORMASK with the kernel messages', () => {
    const d = new DevNumbers();
    expect(() => d.registerChrdev(512, 'big')).toThrow('CHRDEV "big" major requested (512) is greater than the maximum (511)');
    expect(() => d.allocChrdevRegion(1, MINORMASK + 1, 'wide')).toThrow(
      `CHRDEV "wide" minor range requested (1-${MINORMASK + 1}) is out of range of maximum range (0-${MINORMASK}) for a single major`,
    );
    expect(errno(() => d.allocChrdevRegion(0, 0, 'zero'))).toBe('EINVAL');
    expect(errno(() => d.registerChrdev(0, ''))).toBe('EINVAL');
    expect(d.chrdevRegions()).toEqual([]);
  });

  it('unregister gives a major back to the dynamic search', () => {
    const d = new DevNumbers();
    const dev = d.allocChrdevRegion(0, 16, 'x');
    d.unregisterChrdevRegion(dev, 16);
    expect(major(d.allocChrdevRegion(0, 16, 'y'))).toBe(254);
  });
});

describe('block majors and /proc/devices', () => {
  it('register_blkdev() takes a free major; 259 blkext hands out the lowest free minor', () => {
    const d = new DevNumbers();
    expect(d.registerBlkdev(BLOCK_EXT_MAJOR, 'blkext')).toBe(259);
    expect(errno(() => d.registerBlkdev(259, 'again'))).toBe('EBUSY');
    expect(d.registerBlkdev(0, 'dyn')).toBe(254);
    expect(errno(() => d.registerBlkdev(600, 'big'))).toBe('EINVAL');
    expect([d.blkAllocExtMinor(), d.blkAllocExtMinor(), d.blkAllocExtMinor()]).toEqual([0, 1, 2]);
    d.blkFreeExtMinor(1);
    expect(d.blkAllocExtMinor()).toBe(1);
  });

  it('a machine boots with mem and blkext, and /proc/devices prints them as devinfo_show() does', () => {
    const k = new Kernel();
    k.devt.registerChrdev(0, 'ndctl');
    expect(k.devt.procDevices()).toBe('Character devices:\n  1 mem\n254 ndctl\n\nBlock devices:\n259 blkext\n');
    expect(k.devtmpfs.nodes().map((n) => `${n.name} ${formatDevt(n.devt)} ${n.ino}`)).toEqual(['null 1:3 2', 'urandom 1:9 4', 'zero 1:5 3']);
  });
});

describe('a device with a devt (drivers/base/core.c, devtmpfs.c)', () => {
  function machine(): { k: Kernel; bus: BusType } {
    const k = new Kernel();
    const bus: BusType = { name: 'demo', uevent: () => ['MODALIAS=demo'] };
    k.devices.busRegister(bus);
    return { k, bus };
  }

  it('gets a dev file, /sys/dev/char/MAJ:MIN, MAJOR/MINOR/DEVNAME in uevent, and a devtmpfs node with the next inode', () => {
    const { k, bus } = machine();
    const devt = k.devt.allocChrdevRegion(0, 4, 'demo');
    const dev = new Device({ name: 'demo0', bus, devt });
    k.devices.deviceRegister(dev);
    const dir = k.devices.devicePath(dev);
    expect(k.sysfs.read(`${dir}/dev`)).toBe('254:0\n');
    expect(k.sysfs.stat(`${dir}/dev`).mode).toBe(0o444);
    expect(k.sysfs.realpath('/sys/dev/char/254:0')).toBe(dir);
    expect(k.sysfs.read(`${dir}/uevent`)).toBe('MAJOR=254\nMINOR=0\nDEVNAME=demo0\nMODALIAS=demo\n');
    expect(k.devtmpfs.lookup('demo0')).toEqual({ name: 'demo0', kind: 'char', devt, ino: 5 });
    k.devices.deviceUnregister(dev);
    expect(k.sysfs.exists('/sys/dev/char/254:0')).toBe(false);
    expect(k.devtmpfs.lookup('demo0')).toBeUndefined();
  });

  it('a devt already linked, a taken node name or a major of 0 fails device_add and changes nothing', () => {
    const { k, bus } = machine();
    const devt = k.devt.allocChrdevRegion(0, 4, 'demo');
    k.devices.deviceRegister(new Device({ name: 'a', bus, devt }));
    const before = k.sysfs.list('/sys/dev/char');
    expect(errno(() => k.devices.deviceRegister(new Device({ name: 'b', bus, devt })))).toBe('EEXIST');
    expect(errno(() => k.devices.deviceRegister(new Device({ name: 'null', bus, devt: devt + 1 })))).toBe('EEXIST');
    expect(errno(() => k.devices.deviceRegister(new Device({ name: 'c', bus, devt: 7 })))).toBe('EINVAL');
    expect(errno(() => k.devices.deviceRegister(new Device({ name: 'd', bus, devt: 1.5 })))).toBe('EINVAL');
    expect(k.sysfs.list('/sys/dev/char')).toEqual(before);
    expect(k.sysfs.list('/sys/bus/demo/devices')).toEqual(['a']);
  });

  it('devtmpfs refuses bad names and duplicates', () => {
    const t = new Devtmpfs();
    t.createNode('x', 'block', mkdev(259, 0));
    expect(errno(() => t.createNode('x', 'char', mkdev(1, 1)))).toBe('EEXIST');
    expect(errno(() => t.createNode('a/b', 'char', mkdev(1, 1)))).toBe('EINVAL');
    expect(errno(() => t.createNode('y', 'fifo' as 'char', mkdev(1, 1)))).toBe('EINVAL');
    expect(t.nodes().map((n) => n.ino)).toEqual([2]);
  });
});

describe('power/ of every device (drivers/base/power/sysfs.c dpm_sysfs_add)', () => {
  it('has the runtime-PM files of a device whose runtime PM is disabled; control keeps auto or on', () => {
    const k = new Kernel();
    const dev = new Device({ name: 'plain0' });
    k.devices.deviceRegister(dev);
    const p = `${k.devices.devicePath(dev)}/power`;
    expect(k.sysfs.list(p)).toEqual(['autosuspend_delay_ms', 'control', 'runtime_active_time', 'runtime_status', 'runtime_suspended_time']);
    expect(k.sysfs.read(`${p}/runtime_status`)).toBe('unsupported\n');
    expect(k.sysfs.read(`${p}/control`)).toBe('auto\n');
    k.sysfs.write(`${p}/control`, 'on\n');
    expect(k.sysfs.read(`${p}/control`)).toBe('on\n');
    expect(errno(() => k.sysfs.write(`${p}/control`, 'off'))).toBe('EINVAL');
    expect(errno(() => k.sysfs.read(`${p}/autosuspend_delay_ms`))).toBe('EIO');
    expect(k.sysfs.read(`${p}/control`)).toBe('on\n');
  });
});
