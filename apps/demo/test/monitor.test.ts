// The QEMU side through the shell: that a refused or failed request
// leaves QEMU and the guest exactly as they were.
import { describe, expect, it } from 'vitest';
import { QemuError } from '@zonedev/platform';
import { bootShellMachine as bootMachine, type DemoShellMachine as ZonedevMachine } from '../src/commands/shell-machine.js';
import { DEFAULT_MACHINE } from '@zonedev/platform';
import { run } from '../src/shell/shell.js';

const G = 2 ** 30;

/** What a failed request must not change: QEMU's objects and DIMMs, the guest's memory view. */
function snapshot(m: ZonedevMachine): unknown {
  const guest = run('cat /proc/iomem\nlsmem -o RANGE,SIZE,STATE,BLOCK,NODE,ZONES\ncat /proc/meminfo\ncat /proc/buddyinfo', m).stdout;
  return {
    backends: [...m.qemu.backends.values()].map((b) => [b.id, b.size, b.mapped]),
    dimms: m.qemu.dimms.map((d) => [d.id, d.addr, d.slot, d.node, d.size]),
    lmbs: [...m.qemu.lmbAssigned],
    guest,
    sections: [...m.sparse.presentSectionNrs()],
    backings: m.mm.physmem.ranges().map((r) => [r.start, r.size, r.name]),
  };
}

describe('refused requests change nothing', () => {
  it('x86_64: every QEMU error of object_add/device_add/device_del/object_del', () => {
    const m = bootMachine({ ...DEFAULT_MACHINE, ramSize: 2 * G, slots: 2, maxmem: 4 * G });
    m.qemu.objectAdd('memory-backend-ram,id=m1,size=1G');
    m.qemu.objectAdd('memory-backend-ram,id=big,size=3G');
    m.qemu.deviceAdd('pc-dimm,id=d1,memdev=m1');
    const before = snapshot(m);
    for (const bad of [
      () => m.qemu.objectAdd('memory-backend-ram,id=m1,size=1G'),
      () => m.qemu.objectAdd('memory-backend-ram,id=z'),
      () => m.qemu.deviceAdd('pc-dimm,id=d1,memdev=m1'),
      () => m.qemu.deviceAdd('pc-dimm,id=d2,memdev=m1'),
      () => m.qemu.deviceAdd('pc-dimm,id=d2,memdev=big'),
      () => m.qemu.deviceAdd('pc-dimm,id=d2,memdev=nope'),
      () => m.qemu.deviceAdd('pc-dimm,id=d2,memdev=big,node=4'),
      () => m.qemu.deviceDel('nope'),
      () => m.qemu.objectDel('m1'),
    ]) {
      expect(bad).toThrow(QemuError);
      expect(snapshot(m)).toEqual(before);
    }
  });

  it('x86_64: a busy DIMM stays plugged, its blocks online as they were', () => {
    const m = bootMachine({ ...DEFAULT_MACHINE, ramSize: 2 * G, slots: 2, maxmem: 4 * G });
    m.qemu.objectAdd('memory-backend-ram,id=m1,size=512M');
    m.qemu.deviceAdd('pc-dimm,id=d1,memdev=m1');
    run('chmem -e -z Normal 0x100000000-0x11fffffff\nmemalloc k', m);
    const before = snapshot(m);
    const r = m.qemu.deviceDel('d1');
    expect(r.guestFailed).toBe(true);
    expect(r.events[0]).toContain('"event": "ACPI_DEVICE_OST"');
    expect(snapshot(m)).toEqual(before);
    expect(m.kernel.log.dmesg()).toContain('memory memory32: Offline failed.\n');
    run('memfree k', m);
    expect(m.qemu.deviceDel('d1').guestFailed).toBe(false);
    expect(m.qemu.dimms).toEqual([]);
    expect(m.qemu.backends.get('m1')?.mapped).toBe(false);
  });

  it('powerpc: a refused DLPAR unplug re-adds nothing it did not remove, and keeps the DIMM', () => {
    const m = bootMachine({ ...DEFAULT_MACHINE, platform: 'powerpc', ramSize: 2 * G, slots: 2, maxmem: 4 * G, numa: 2 });
    m.qemu.objectAdd('memory-backend-ram,id=m1,size=512M');
    m.qemu.deviceAdd('pc-dimm,id=d1,memdev=m1,node=1');
    expect([...m.qemu.lmbAssigned]).toEqual([8, 9]);
    run('chmem -d -b 8-9\nchmem -e -z Movable -b 8-9\nprocess start --membind 1\nprocess mmap 100 64K\nprocess write 100 0x7ffff7ff0000 pinned\nprocess pin 100 0x7ffff7ff0000 64K', m);
    const before = snapshot(m);
    const r = m.qemu.deviceDel('d1');
    expect(r.guestFailed).toBe(true);
    expect(r.console).toEqual(['[   10.250000] pseries-hotplug-mem: Memory indexed-count-remove failed, adding any removed LMBs']);
    expect(r.events[0]).toContain('"msg": "Memory hotunplug rejected by the guest for device d1"');
    expect(snapshot(m)).toEqual(before);
    expect(() => m.qemu.deviceAdd('pc-dimm,id=d2,memdev=m1')).toThrow("can't use already busy memdev: m1");
  });

  it('powerpc: a DLPAR hot-add the guest cannot complete leaves the guest as it was', () => {
    const m = bootMachine({ ...DEFAULT_MACHINE, platform: 'powerpc', ramSize: 2 * G, slots: 2, maxmem: 4 * G });
    run('echo 0x90000000 > /sys/devices/system/memory/probe', m);
    m.qemu.objectAdd('memory-backend-ram,id=m1,size=512M');
    const guestBefore = (snapshot(m) as { guest: string }).guest;
    const r = m.qemu.deviceAdd('pc-dimm,id=d1,memdev=m1');
    expect(r.guestFailed).toBe(true);
    expect((snapshot(m) as { guest: string }).guest).toBe(guestBefore);
    expect([...m.qemu.lmbAssigned]).toEqual([]);
  });
});

describe('the guest names the ACPI memory device of each slot', () => {
  it('a failed hot-add names the DIMM slot the guest was told about', () => {
    const m = bootMachine({ ...DEFAULT_MACHINE, ramSize: 2 * G, slots: 3, maxmem: 4 * G });
    m.qemu.objectAdd('memory-backend-ram,id=m1,size=512M');
    m.qemu.objectAdd('memory-backend-ram,id=odd,size=100M');
    m.qemu.deviceAdd('pc-dimm,id=d1,memdev=m1');
    const r = m.qemu.deviceAdd('pc-dimm,id=d2,memdev=odd,slot=2');
    expect(r.guestFailed).toBe(true);
    expect(m.kernel.log.dmesg()).toContain('acpi PNP0C80:02: add_memory failed\n');
    expect(m.kernel.log.dmesg()).not.toContain('PNP0C80:00');
  });
});
