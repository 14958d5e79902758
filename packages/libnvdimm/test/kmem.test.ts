// drivers/dax/kmem.c: dax0.0 handed from device_dax to kmem the way daxctl
// reconfigure-device -m system-ram does it, the memory blocks that appear,
// and the refusals while the memory is online.
import { describe, expect, it } from 'vitest';
import { DaxKmem } from '@zonedev/libnvdimm';
import { GiB, bootMachine, tryRead, tryWrite } from './machine.js';
import type { Machine } from './machine.js';
import { createDevdax } from './dax-helpers.js';

const UUID = 'b6b5c8a2-1e2f-4c3d-9a8b-7c6d5e4f3a21';
const DAX = '/sys/bus/dax/devices/dax0.0';
const MEM = '/sys/devices/system/memory';
// The data range 0x101200000-0x13fffffff trimmed to 128 MiB blocks: 0x108000000-0x13fffffff, memory33..memory39.
const BLOCKS = [33, 34, 35, 36, 37, 38, 39];

/** daxctl's disable (remove_id, unbind) of device_dax, then its bind (new_id, bind) of kmem. */
function toKmem(m: Machine): string | undefined {
  const fs = m.kernel.sysfs;
  fs.write(`${DAX}/driver/remove_id`, 'dax0.0');
  fs.write(`${DAX}/driver/unbind`, 'dax0.0');
  const rc = tryWrite(m, '/sys/bus/dax/drivers/kmem/new_id', 'dax0.0');
  tryWrite(m, '/sys/bus/dax/drivers/kmem/bind', 'dax0.0');
  return rc;
}

function setup(): { m: Machine; kmem: DaxKmem } {
  const m = bootMachine();
  createDevdax(m, 0, UUID);
  const kmem = new DaxKmem({ kernel: m.kernel, dax: m.nd.dax, hotplug: m.hp });
  return { m, kmem };
}

describe('kmem', () => {
  it('binds only after new_id, and hot-adds the data range as System RAM (kmem) below dax0.0', () => {
    const { m, kmem } = setup();
    const fs = m.kernel.sysfs;
    expect(fs.exists('/sys/bus/dax/drivers/device_dax/dax0.0')).toBe(true);
    expect(toKmem(m)).toBeUndefined();
    expect(fs.exists('/sys/bus/dax/drivers/kmem/dax0.0')).toBe(true);
    expect(kmem.hasMemory(m.nd.dax.find('dax0.0')!)).toBe(true);
    const iomem = m.kernel.iomem.procIomem();
    expect(iomem).toContain(
      '100000000-13fffffff : Persistent Memory (legacy)\n' +
        '  100000000-1011fffff : namespace0.0\n' +
        '  108000000-13fffffff : dax0.0\n' +
        '    108000000-13fffffff : System RAM (kmem)\n',
    );
    for (const b of BLOCKS) {
      expect(fs.read(`${MEM}/memory${b}/state`)).toBe('offline\n');
      expect(fs.exists(`/sys/devices/system/node/node0/memory${b}`)).toBe(true);
    }
    expect(fs.exists(`${MEM}/memory32`)).toBe(false);
    expect(fs.exists(`${MEM}/memory40`)).toBe(false);
  });

  it('blocks onlined as movable add to the node; unbinding while online keeps the memory', () => {
    const { m, kmem } = setup();
    const fs = m.kernel.sysfs;
    toKmem(m);
    for (const b of BLOCKS) fs.write(`${MEM}/memory${b}/state`, 'online_movable');
    expect(fs.read(`${MEM}/memory33/valid_zones`)).toBe('Movable\n');
    const before = m.kernel.iomem.procIomem();
    fs.write(`${DAX}/driver/unbind`, 'dax0.0');
    // the unbind succeeds, but the memory stays until the next reboot
    expect(fs.exists(`${DAX}/driver`)).toBe(false);
    expect(m.kernel.log.dmesg()).toContain('kmem dax0.0: mapping0: 0x108000000-0x13fffffff cannot be hotremoved until the next reboot\n');
    expect(m.kernel.iomem.procIomem()).toBe(before);
    expect(fs.read(`${MEM}/memory33/state`)).toBe('online\n');
    expect(kmem.hasMemory(m.nd.dax.find('dax0.0')!)).toBe(true);
    // device_dax cannot take the range back while kmem's reservation stays
    expect(tryWrite(m, '/sys/bus/dax/drivers/device_dax/bind', 'dax0.0')).toBe('ENODEV');
    expect(m.kernel.log.dmesg()).toContain('device_dax dax0.0: mapping0: 0x101200000-0x13fffffff could not reserve range\n');
  });

  it('offlined blocks are removed on unbind and device_dax gets the device back', () => {
    const { m, kmem } = setup();
    const fs = m.kernel.sysfs;
    const before = m.kernel.iomem.procIomem();
    toKmem(m);
    fs.write(`${MEM}/memory33/state`, 'online_movable');
    fs.write(`${MEM}/memory33/state`, 'offline');
    fs.write(`${DAX}/driver/remove_id`, 'dax0.0');
    fs.write(`${DAX}/driver/unbind`, 'dax0.0');
    expect(fs.exists(`${MEM}/memory33`)).toBe(false);
    expect(kmem.hasMemory(m.nd.dax.find('dax0.0')!)).toBe(false);
    fs.write('/sys/bus/dax/drivers/device_dax/bind', 'dax0.0');
    expect(m.kernel.iomem.procIomem()).toBe(before);
    expect(fs.exists('/sys/bus/dax/drivers/device_dax/dax0.0')).toBe(true);
  });

  it('auto_online_blocks=online onlines the blocks as they are added', () => {
    const { m } = setup();
    m.kernel.sysfs.write(`${MEM}/auto_online_blocks`, 'online_movable');
    toKmem(m);
    for (const b of BLOCKS) expect(m.kernel.sysfs.read(`${MEM}/memory${b}/state`)).toBe('online\n');
  });

  it('rejects a device without a target node with EINVAL and leaves nothing behind', () => {
    const m = bootMachine({ noE820: true });
    m.nd.registerE820Pmem(() => -1);
    createDevdax(m, 0, UUID);
    new DaxKmem({ kernel: m.kernel, dax: m.nd.dax, hotplug: m.hp });
    expect(tryRead(m, `${DAX}/target_node`)).toBe('ENOENT');
    const fs = m.kernel.sysfs;
    fs.write(`${DAX}/driver/unbind`, 'dax0.0');
    const before = m.kernel.iomem.procIomem();
    expect(tryWrite(m, '/sys/bus/dax/drivers/kmem/new_id', 'dax0.0')).toBeUndefined();
    expect(m.kernel.log.dmesg()).toContain('kmem dax0.0: rejecting DAX region with invalid node: -1\n');
    expect(fs.exists(`${DAX}/driver`)).toBe(false);
    expect(m.kernel.iomem.procIomem()).toBe(before);
    expect(fs.list(MEM).filter((n) => /^memory\d+$/.test(n)).every((n) => Number(n.slice(6)) * 128 * 2 ** 20 < GiB)).toBe(true);
  });

  it('new_id of something that is not a dax device: EINVAL / ENODEV', () => {
    const { m } = setup();
    expect(tryWrite(m, '/sys/bus/dax/drivers/kmem/new_id', 'foo')).toBe('EINVAL');
    expect(tryWrite(m, '/sys/bus/dax/drivers/kmem/new_id', 'dax9.0')).toBe('ENODEV');
    expect(m.kernel.sysfs.exists('/sys/bus/dax/drivers/device_dax/dax0.0')).toBe(true);
  });

  it('validates its options and arguments', () => {
    const { m, kmem } = setup();
    expect(() => new DaxKmem({ kernel: m.kernel, dax: m.nd.dax } as never)).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
    const dev = m.nd.dax.find('dax0.0')!;
    expect(() => kmem.kmemRange(dev, 1)).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
    expect(kmem.kmemRange(dev, 0)).toEqual({ start: 0x108000000, end: 0x13fffffff });
  });
});
