import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BUS_NOTIFY_ADD_DEVICE, BUS_NOTIFY_BIND_DRIVER, BUS_NOTIFY_BOUND_DRIVER, BUS_NOTIFY_DEL_DEVICE, BUS_NOTIFY_DRIVER_NOT_BOUND, BUS_NOTIFY_REMOVED_DEVICE, BUS_NOTIFY_UNBIND_DRIVER, BUS_NOTIFY_UNBOUND_DRIVER, Device, Kernel, KernelError, NOTIFY_DONE, devErr, devInfo, devName, devWarn, devmAddAction, devmAddActionOrReset, devmReleaseAction, devresList, isKernelError, sysfsStreq } from '@zonedev/kernel';
import { devDriverString, devmRemoveAction } from '../src/device.js';
import type { AttributeGroup, BusType, DeviceAttribute, DeviceCore, DeviceDriver, ErrnoName, Sysfs } from '@zonedev/kernel';

function errnoOf(fn: () => unknown): ErrnoName | undefined {
  try {
    fn();
  } catch (e) {
    if (isKernelError(e)) return e.errno;
    throw e;
  }
  return undefined;
}

/** The whole /sys as a list of `path type [mode|-> target]` lines. */
function sysSnapshot(s: Sysfs): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of s.list(dir)) {
      const path = `${dir}/${name}`;
      const st = s.stat(path);
      if (st.type === 'link') out.push(`${path} -> ${s.readlink(path)}`);
      else if (st.type === 'file') out.push(`${path} ${st.mode.toString(8)}`);
      else {
        out.push(`${path}/`);
        walk(path);
      }
    }
  };
  walk('/sys');
  return out;
}

function machine(): { k: Kernel; core: DeviceCore; sys: Sysfs } {
  const k = new Kernel();
  return { k, core: k.devices, sys: k.sysfs };
}

/** A memory-block-like subsystem with a state attribute. */
function memorySubsys(core: DeviceCore): { bus: BusType; root: Device; state: Map<Device, string> } {
  const state = new Map<Device, string>();
  const stateAttr: DeviceAttribute = {
    name: 'state',
    mode: 0o644,
    show: (dev) => `${state.get(dev) ?? 'offline'}\n`,
    store: (dev, buf) => {
      if (sysfsStreq(buf, 'online')) state.set(dev, 'online');
      else if (sysfsStreq(buf, 'offline')) state.set(dev, 'offline');
      else if (sysfsStreq(buf, 'busy')) throw new KernelError('EBUSY');
      else throw new KernelError('EINVAL');
    },
  };
  const physIndex: DeviceAttribute = {
    name: 'phys_index',
    mode: 0o444,
    show: (dev) => `${(dev.id ?? 0).toString(16).padStart(8, '0')}\n`,
  };
  const bus: BusType = { name: 'memory', devName: 'memory', devGroups: [{ attrs: [stateAttr, physIndex] }] };
  const root = core.subsysSystemRegister(bus, [
    { attrs: [{ name: 'block_size_bytes', mode: 0o444, show: () => '8000000\n' }] },
  ]);
  return { bus, root, state };
}

describe('sysfs', () => {
  it('starts with the top-level directories of /sys', () => {
    const { sys } = machine();
    expect(sys.list('/sys')).toEqual(['block', 'bus', 'class', 'dev', 'devices', 'firmware', 'fs', 'kernel', 'module', 'power']);
    expect(sys.list('/sys/devices')).toEqual(['system', 'virtual']);
    expect(sys.isDir('/sys/devices/system')).toBe(true);
  });

  it('plain attribute files at arbitrary paths, read and write', () => {
    const { sys } = machine();
    let memmapOnMemory = false;
    sys.createFile('/sys/module/memory_hotplug/parameters/memmap_on_memory', {
      name: 'memmap_on_memory',
      mode: 0o644,
      show: () => (memmapOnMemory ? 'Y\n' : 'N\n'),
      store: (v) => {
        if (sysfsStreq(v, 'Y') || sysfsStreq(v, '1')) memmapOnMemory = true;
        else if (sysfsStreq(v, 'N') || sysfsStreq(v, '0')) memmapOnMemory = false;
        else throw new KernelError('EINVAL');
      },
    });
    const p = '/sys/module/memory_hotplug/parameters/memmap_on_memory';
    expect(sys.read(p)).toBe('N\n');
    sys.write(p, 'Y\n');
    expect(sys.read(p)).toBe('Y\n');
    expect(errnoOf(() => sys.write(p, 'maybe\n'))).toBe('EINVAL');
    expect(sys.read(p)).toBe('Y\n');
    expect(sys.list('/sys/module/memory_hotplug')).toEqual(['parameters']);
    expect(sys.stat(p)).toEqual({ type: 'file', mode: 0o644 });
    expect(errnoOf(() => sys.createFile(p, { name: 'x', mode: 0o444 }))).toBe('EEXIST');
  });

  it('errors: ENOENT, EISDIR, ENOTDIR, EACCES (mode), EIO (no callback)', () => {
    const { sys } = machine();
    sys.createFile('/sys/kernel/ro', { name: 'ro', mode: 0o444, show: () => 'r\n' });
    sys.createFile('/sys/kernel/wo', { name: 'wo', mode: 0o200, store: () => undefined });
    sys.createFile('/sys/kernel/noshow', { name: 'noshow', mode: 0o644 });
    expect(errnoOf(() => sys.read('/sys/kernel/missing'))).toBe('ENOENT');
    expect(errnoOf(() => sys.read('/sys/nope/missing'))).toBe('ENOENT');
    expect(errnoOf(() => sys.read('/proc/iomem'))).toBe('ENOENT');
    expect(errnoOf(() => sys.read('/sys/kernel'))).toBe('EISDIR');
    expect(errnoOf(() => sys.write('/sys/kernel', 'x'))).toBe('EISDIR');
    expect(errnoOf(() => sys.list('/sys/kernel/ro'))).toBe('ENOTDIR');
    expect(errnoOf(() => sys.list('/sys/kernel/missing'))).toBe('ENOENT');
    expect(errnoOf(() => sys.write('/sys/kernel/ro', '1'))).toBe('EACCES');
    expect(errnoOf(() => sys.read('/sys/kernel/wo'))).toBe('EACCES');
    expect(errnoOf(() => sys.read('/sys/kernel/noshow'))).toBe('EIO');
    expect(errnoOf(() => sys.write('/sys/kernel/noshow', '1'))).toBe('EIO');
    // sysfs files cannot be created by writing
    expect(errnoOf(() => sys.write('/sys/kernel/newfile', '1'))).toBe('EACCES');
    expect(errnoOf(() => sys.write('/sys/nodir/newfile', '1'))).toBe('ENOENT');
    expect(sys.exists('/sys/kernel/newfile')).toBe(false);
    expect(new KernelError('EACCES').message).toBe('Permission denied');
  });

  it('symlinks: readlink is relative, reads follow, .. is physical, dangling links vanish', () => {
    const { sys } = machine();
    sys.createFile('/sys/devices/system/memory/memory32/state', { name: 'state', mode: 0o444, show: () => 'online\n' });
    sys.createDir('/sys/devices/system/node/node0');
    sys.createLink('/sys/devices/system/node/node0/memory32', '/sys/devices/system/memory/memory32');
    const l = '/sys/devices/system/node/node0/memory32';
    expect(sys.isLink(l)).toBe(true);
    expect(sys.isDir(l)).toBe(true);
    expect(sys.readlink(l)).toBe('../../memory/memory32');
    expect(sys.read(`${l}/state`)).toBe('online\n');
    expect(sys.realpath(`${l}/state`)).toBe('/sys/devices/system/memory/memory32/state');
    expect(sys.realpath(`${l}/..`)).toBe('/sys/devices/system/memory');
    expect(errnoOf(() => sys.readlink('/sys/devices'))).toBe('EINVAL');
    const linked = sysSnapshot(sys);
    expect(errnoOf(() => sys.createLink(l, '/sys/devices'))).toBe('EEXIST');
    expect(errnoOf(() => sys.createLink('/sys/devices/x', '/sys/missing'))).toBe('ENOENT');
    expect(errnoOf(() => sys.createLink('/sys/nodir/x', '/sys/devices'))).toBe('ENOENT');
    expect(sysSnapshot(sys)).toEqual(linked);
    sys.remove('/sys/devices/system/memory/memory32');
    expect(sys.exists(l)).toBe(false);
    expect(sys.isLink(l)).toBe(true);
    expect(errnoOf(() => sys.read(`${l}/state`))).toBe('ENOENT');
    expect(errnoOf(() => sys.remove('/sys/devices/system/memory/memory32'))).toBe('ENOENT');
  });

  it('createDir refuses to go through a file, changing nothing', () => {
    const { sys } = machine();
    sys.createFile('/sys/kernel/f', { name: 'f', mode: 0o444, show: () => '' });
    const before = sysSnapshot(sys);
    expect(errnoOf(() => sys.createDir('/sys/kernel/f/sub'))).toBe('EEXIST');
    expect(errnoOf(() => sys.createFile('/sys/kernel/f/sub/g', { name: 'g', mode: 0o444 }))).toBe('EEXIST');
    expect(sysSnapshot(sys)).toEqual(before);
  });

  it('lists names in byte order like LC_ALL=C ls', () => {
    const { sys } = machine();
    for (const n of ['memory10', 'memory9', 'Zed', 'block_size_bytes', 'memory1', 'auto_online_blocks']) {
      sys.createFile(`/sys/devices/system/memory/${n}`, { name: n, mode: 0o444 });
    }
    expect(sys.list('/sys/devices/system/memory')).toEqual(['Zed', 'auto_online_blocks', 'block_size_bytes', 'memory1', 'memory10', 'memory9']);
  });

  it('sysfs_streq ignores one trailing newline', () => {
    expect(sysfsStreq('online\n', 'online')).toBe(true);
    expect(sysfsStreq('online', 'online\n')).toBe(true);
    expect(sysfsStreq('online\n\n', 'online')).toBe(false);
    expect(sysfsStreq('onlin', 'online')).toBe(false);
  });
});

describe('buses and system subsystems', () => {
  it('bus_register creates /sys/bus/<name> with its files', () => {
    const { core, sys } = machine();
    core.busRegister({ name: 'nd', busAttrs: [{ name: 'wait_probe', mode: 0o444, show: () => '0\n' }] });
    expect(sys.list('/sys/bus/nd')).toEqual(['devices', 'drivers', 'drivers_autoprobe', 'drivers_probe', 'uevent', 'wait_probe']);
    expect(sys.read('/sys/bus/nd/drivers_autoprobe')).toBe('1\n');
    expect(sys.read('/sys/bus/nd/wait_probe')).toBe('0\n');
    expect(sys.stat('/sys/bus/nd/uevent').mode).toBe(0o200);
    sys.write('/sys/bus/nd/uevent', 'add\n');
    expect(errnoOf(() => sys.write('/sys/bus/nd/uevent', 'explode\n'))).toBe('EINVAL');
  });

  it('a uevent write takes an action, then optionally a UUID and KEY=VALUE pairs (kobject_synth_uevent)', () => {
    const { core, sys } = machine();
    core.busRegister({ name: 'nd' });
    const uuid = '0f8c32b5-1b1e-4f0e-9d7a-5a0e2b3c4d5e';
    for (const ok of ['add', 'add\n', 'change\0', `add ${uuid}`, `add ${uuid}\n`, `change ${uuid} A=1 bc2=Z9`]) {
      expect(() => sys.write('/sys/bus/nd/uevent', ok)).not.toThrow();
    }
    const bad: [string, string][] = [
      ['', 'unknown uevent action string'],
      ['ad', 'unknown uevent action string'],
      ['adds', 'unknown uevent action string'],
      ['add x', 'incorrect uuid'],
      ['add ', 'incorrect uuid'],
      [`add ${uuid.replace('-', 'x')}`, 'incorrect uuid'],
      [`add ${uuid}A=1`, 'incorrect uuid'],
      [`add ${uuid} A=`, 'incorrect uuid'],
      [`add ${uuid} =1`, 'incorrect uuid'],
      [`add ${uuid} A-B=1`, 'incorrect uuid'],
      [`add ${uuid} A=1 `, 'incorrect uuid'],
    ];
    for (const [buf, msg] of bad) {
      let err: unknown;
      try {
        sys.write('/sys/bus/nd/uevent', buf);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(buf)).toMatchObject({ errno: 'EINVAL', message: expect.stringContaining(msg) });
    }
  });

  it('a duplicate bus is EEXIST and changes nothing', () => {
    const { core, sys, k } = machine();
    core.busRegister({ name: 'nd' });
    const before = sysSnapshot(sys);
    expect(errnoOf(() => core.busRegister({ name: 'nd' }))).toBe('EEXIST');
    expect(errnoOf(() => core.busRegister({ name: 'x', busAttrs: [{ name: 'uevent', mode: 0o444 }] }))).toBe('EEXIST');
    expect(sysSnapshot(sys)).toEqual(before);
    expect(k.log.dmesg()).toContain("sysfs: cannot create duplicate filename '/bus/nd'");
  });

  it('subsys_system_register: /sys/devices/system/<name>, devices named devName+id below it', () => {
    const { core, sys } = machine();
    const { bus, root } = memorySubsys(core);
    expect(core.devicePath(root)).toBe('/sys/devices/system/memory');
    expect(core.busDevRoot(bus)).toBe(root);
    const m = new Device({ bus, id: 32 });
    core.deviceRegister(m);
    expect(devName(m)).toBe('memory32');
    expect(core.devicePath(m)).toBe('/sys/devices/system/memory/memory32');
    expect(sys.list('/sys/devices/system/memory')).toEqual(['block_size_bytes', 'memory32', 'power', 'uevent']);
    expect(sys.list('/sys/devices/system/memory/memory32')).toEqual(['phys_index', 'power', 'state', 'subsystem', 'uevent']);
    expect(sys.read('/sys/devices/system/memory/block_size_bytes')).toBe('8000000\n');
    expect(sys.read('/sys/devices/system/memory/memory32/phys_index')).toBe('00000020\n');
    expect(sys.readlink('/sys/bus/memory/devices/memory32')).toBe('../../../devices/system/memory/memory32');
    expect(sys.readlink('/sys/devices/system/memory/memory32/subsystem')).toBe('../../../../bus/memory');
    expect(sys.read('/sys/bus/memory/devices/memory32/state')).toBe('offline\n');
  });

  it('store callbacks run and their errors reach the writer, leaving state as it was', () => {
    const { core, sys } = machine();
    const { bus } = memorySubsys(core);
    core.deviceRegister(new Device({ bus, id: 0 }));
    const p = '/sys/devices/system/memory/memory0/state';
    sys.write(p, 'online\n');
    expect(sys.read(p)).toBe('online\n');
    let err: unknown;
    try {
      sys.write(p, 'busy\n');
    } catch (e) {
      err = e;
    }
    expect(isKernelError(err, 'EBUSY')).toBe(true);
    expect((err as KernelError).strerror).toBe('Device or resource busy');
    expect(sys.read(p)).toBe('online\n');
    expect(errnoOf(() => sys.write('/sys/devices/system/memory/memory0/phys_index', '1'))).toBe('EACCES');
  });

  it('bus_unregister: EBUSY while devices remain, EINVAL if unknown; then removes everything', () => {
    const { core, sys } = machine();
    const { bus } = memorySubsys(core);
    const m = new Device({ bus, id: 1 });
    core.deviceRegister(m);
    const before = sysSnapshot(sys);
    expect(errnoOf(() => core.busUnregister(bus))).toBe('EBUSY');
    expect(errnoOf(() => core.busUnregister({ name: 'memory' }))).toBe('EINVAL');
    expect(sysSnapshot(sys)).toEqual(before);
    core.deviceUnregister(m);
    core.busUnregister(bus);
    expect(sys.exists('/sys/bus/memory')).toBe(false);
    expect(sys.exists('/sys/devices/system/memory')).toBe(false);
    expect(core.busIsRegistered(bus)).toBe(false);
  });

  it('subsys_system_register failures (duplicate, root device refused) unwind completely', () => {
    const { core, sys } = machine();
    memorySubsys(core);
    const before = sysSnapshot(sys);
    expect(errnoOf(() => core.subsysSystemRegister({ name: 'memory' }))).toBe('EEXIST');
    const badRoot: AttributeGroup = { attrs: [{ name: 'uevent', mode: 0o444 }] };
    const node: BusType = { name: 'node' };
    expect(errnoOf(() => core.subsysSystemRegister(node, [badRoot]))).toBe('EEXIST');
    expect(core.busIsRegistered(node)).toBe(false);
    expect(sysSnapshot(sys)).toEqual(before);
    core.subsysSystemRegister(node);
    expect(sys.list('/sys/devices/system')).toEqual(['memory', 'node']);
  });

  it('bus notifiers: unknown bus is EINVAL, unknown block ENOENT', () => {
    const { core } = machine();
    const bus: BusType = { name: 'nd' };
    const nb = { notifierCall: () => NOTIFY_DONE };
    expect(errnoOf(() => core.busRegisterNotifier(bus, nb))).toBe('EINVAL');
    core.busRegister(bus);
    expect(errnoOf(() => core.busUnregisterNotifier(bus, nb))).toBe('ENOENT');
    core.busRegisterNotifier(bus, nb);
    core.busUnregisterNotifier(bus, nb);
  });

  it('the same BusType descriptor serves two machines independently', () => {
    const a = machine();
    const b = machine();
    const bus: BusType = { name: 'nd' };
    a.core.busRegister(bus);
    b.core.busRegister(bus);
    a.core.deviceRegister(new Device({ name: 'ndbus0', bus }));
    expect(a.sys.list('/sys/bus/nd/devices')).toEqual(['ndbus0']);
    expect(b.sys.list('/sys/bus/nd/devices')).toEqual([]);
  });
});

describe('device_add / device_del', () => {
  it('nests devices below their parents and names kobjects without "/"', () => {
    const { core, sys } = machine();
    const bus: BusType = { name: 'nd' };
    core.busRegister(bus);
    const platform = new Device({ name: 'platform' });
    core.deviceRegister(platform);
    const e820 = new Device({ name: 'e820_pmem', parent: platform });
    core.deviceRegister(e820);
    const ndbus = new Device({ name: 'ndbus0', parent: e820, bus });
    core.deviceRegister(ndbus);
    const region = new Device({ name: 'region0', parent: ndbus, bus });
    core.deviceRegister(region);
    expect(core.devicePath(region)).toBe('/sys/devices/platform/e820_pmem/ndbus0/region0');
    expect(sys.readlink('/sys/bus/nd/devices/region0')).toBe('../../../devices/platform/e820_pmem/ndbus0/region0');
    expect(sys.list('/sys/devices/platform')).toEqual(['e820_pmem', 'power', 'uevent']);
    expect(core.deviceChildren(ndbus)).toEqual([region]);
    const slash = new Device({ name: 'a/b' });
    core.deviceRegister(slash);
    expect(core.devicePath(slash)).toBe('/sys/devices/a!b');
  });

  it('failures are EINVAL/ENOENT/EEXIST and change nothing', () => {
    const { core, sys, k } = machine();
    const { bus } = memorySubsys(core);
    const m0 = new Device({ bus, id: 0 });
    core.deviceRegister(m0);
    const before = sysSnapshot(sys);
    const devsBefore = core.busDevices(bus);
    expect(errnoOf(() => core.deviceRegister(new Device({})))).toBe('EINVAL'); // no name
    expect(errnoOf(() => core.deviceRegister(new Device({ bus })))).toBe('EINVAL'); // devName but no id
    expect(errnoOf(() => core.deviceRegister(new Device({ name: 'x', bus: { name: 'nobus' } })))).toBe('EINVAL');
    expect(errnoOf(() => core.deviceRegister(new Device({ name: 'x', parent: new Device({ name: 'ghost' }) })))).toBe('ENOENT');
    expect(errnoOf(() => core.deviceRegister(new Device({ bus, id: 0 })))).toBe('EEXIST'); // memory0 again
    expect(errnoOf(() => core.deviceRegister(m0))).toBe('EEXIST'); // already added
    const clash: AttributeGroup = { attrs: [{ name: 'state', mode: 0o444 }] };
    expect(errnoOf(() => core.deviceRegister(new Device({ bus, id: 1, groups: [clash] })))).toBe('EEXIST');
    expect(errnoOf(() => core.deviceRegister(new Device({ name: 'u', groups: [{ attrs: [{ name: 'uevent', mode: 0o444 }] }] })))).toBe('EEXIST');
    const other = new Kernel();
    const foreign = new Device({ name: 'foreign' });
    other.devices.deviceRegister(foreign);
    expect(errnoOf(() => core.deviceRegister(new Device({ name: 'child', parent: foreign })))).toBe('ENOENT');
    expect(errnoOf(() => core.deviceRegister(foreign))).toBe('EINVAL');
    expect(sysSnapshot(sys)).toEqual(before);
    expect(core.busDevices(bus)).toEqual(devsBefore);
    expect(k.log.dmesg()).toContain("sysfs: cannot create duplicate filename '/devices/system/memory/memory0'");
  });

  it('a device on a bus with the same name as another under a different parent is EEXIST', () => {
    const { core, sys } = machine();
    const bus: BusType = { name: 'nd' };
    core.busRegister(bus);
    const p1 = new Device({ name: 'p1' });
    const p2 = new Device({ name: 'p2' });
    core.deviceRegister(p1);
    core.deviceRegister(p2);
    core.deviceRegister(new Device({ name: 'region0', parent: p1, bus }));
    const before = sysSnapshot(sys);
    expect(errnoOf(() => core.deviceRegister(new Device({ name: 'region0', parent: p2, bus })))).toBe('EEXIST');
    expect(sysSnapshot(sys)).toEqual(before);
  });

  it('device_del: EBUSY with children, ENODEV when not registered; unregister releases', () => {
    const { core, sys } = machine();
    let released = 0;
    const parent = new Device({ name: 'parent', release: () => released++ });
    core.deviceRegister(parent);
    const child = new Device({ name: 'child', parent });
    core.deviceRegister(child);
    const before = sysSnapshot(sys);
    expect(errnoOf(() => core.deviceDel(parent))).toBe('EBUSY');
    expect(errnoOf(() => core.deviceDel(new Device({ name: 'never' })))).toBe('ENODEV');
    expect(sysSnapshot(sys)).toEqual(before);
    core.deviceUnregister(child);
    expect(parent.registered).toBe(true);
    core.getDevice(parent);
    core.deviceUnregister(parent);
    expect(parent.registered).toBe(false);
    expect(released).toBe(0); // our extra reference
    core.putDevice(parent);
    expect(released).toBe(1);
    expect(() => core.putDevice(parent)).toThrow(/already zero/);
    expect(sys.exists('/sys/devices/parent')).toBe(false);
    // a deleted device can be added again
    const again = new Device({ name: 'parent' });
    core.deviceRegister(again);
    expect(sys.exists('/sys/devices/parent')).toBe(true);
  });

  it('attribute groups: named subdirectories, is_visible, mode masking, dynamic files and links', () => {
    const { core, sys } = machine();
    const hidden: DeviceAttribute = { name: 'hidden', mode: 0o444, show: () => 'h\n' };
    const shown: DeviceAttribute = { name: 'shown', mode: 0o777, show: () => 's\n', store: () => undefined };
    const group: AttributeGroup = {
      name: 'dax_region',
      attrs: [hidden, shown],
      isVisible: (_dev, attr) => (attr === hidden ? 0 : attr.mode),
    };
    const d = new Device({ name: 'dax0', groups: [group] });
    core.deviceRegister(d);
    expect(sys.list('/sys/devices/dax0')).toEqual(['dax_region', 'power', 'uevent']);
    expect(sys.list('/sys/devices/dax0/dax_region')).toEqual(['shown']);
    expect(sys.stat('/sys/devices/dax0/dax_region/shown').mode).toBe(0o664);
    const extra: DeviceAttribute = { name: 'extra', mode: 0o444, show: (dev) => `${devName(dev)}\n` };
    core.deviceCreateFile(d, extra);
    expect(sys.read('/sys/devices/dax0/extra')).toBe('dax0\n');
    const before = sysSnapshot(sys);
    expect(errnoOf(() => core.deviceCreateFile(d, extra))).toBe('EEXIST');
    expect(errnoOf(() => core.deviceCreateFile(new Device({ name: 'x' }), extra))).toBe('EINVAL');
    expect(errnoOf(() => core.deviceAddGroup(d, { attrs: [extra] }))).toBe('EEXIST');
    expect(sysSnapshot(sys)).toEqual(before);
    core.deviceRemoveFile(d, extra);
    expect(sys.exists('/sys/devices/dax0/extra')).toBe(false);
    core.deviceAddGroup(d, { name: 'mapping', attrs: [extra] });
    expect(sys.read('/sys/devices/dax0/mapping/extra')).toBe('dax0\n');
    core.deviceRemoveGroup(d, { name: 'mapping', attrs: [extra] });
    expect(sys.exists('/sys/devices/dax0/mapping')).toBe(false);
    const node = new Device({ name: 'node0' });
    core.deviceRegister(node);
    core.sysfsCreateLink(node, d, 'dax0');
    expect(sys.readlink('/sys/devices/node0/dax0')).toBe('../dax0');
    expect(errnoOf(() => core.sysfsCreateLink(node, d, 'dax0'))).toBe('EEXIST');
    expect(errnoOf(() => core.sysfsCreateLink(node, new Device({ name: 'y' }), 'y'))).toBe('EINVAL');
    expect(sys.list('/sys/devices/node0')).toEqual(['dax0', 'power', 'uevent']);
    core.sysfsRemoveLink(node, 'dax0');
    expect(sys.exists('/sys/devices/node0/dax0')).toBe(false);
  });

  it('the files device_add() makes answer the same whether or not the directory was looked at before', () => {
    const { core, sys, k } = machine();
    const { bus, state } = memorySubsys(core);
    const node = new Device({ name: 'node0' });
    core.deviceRegister(node);
    const blocks = [0, 1, 2].map((id) => new Device({ bus, id }));
    for (const b of blocks) core.deviceRegister(b);
    const dir = (id: number): string => `/sys/devices/system/memory/memory${id}`;
    // memory0 is looked at before anything else happens to it; memory1 and memory2 are not.
    expect(sys.list(dir(0))).toEqual(['phys_index', 'power', 'state', 'subsystem', 'uevent']);
    // The names device_add() reserved are taken even in a directory nobody has listed yet.
    const clash: DeviceAttribute = { name: 'state', mode: 0o444, show: () => 'x\n' };
    expect(errnoOf(() => core.deviceCreateFile(blocks[1]!, clash))).toBe('EEXIST');
    expect(k.log.dmesg()).toContain("sysfs: cannot create duplicate filename '/devices/system/memory/memory1/state'");
    expect(errnoOf(() => core.sysfsCreateLinkNowarn(blocks[1]!, node, 'power'))).toBe('EEXIST');
    expect(errnoOf(() => core.sysfsCreateLinkNowarn(blocks[2]!, node, 'subsystem'))).toBe('EEXIST');
    // The node links, made the same way under a listed and an unlisted directory.
    for (const b of blocks) {
      core.sysfsCreateLinkNowarn(node, b, devName(b));
      core.sysfsCreateLinkNowarn(b, node, 'node0');
    }
    expect(sys.readlink(`${dir(1)}/node0`)).toBe('../../../node0');
    expect(sys.readlink('/sys/devices/node0/memory1')).toBe('../system/memory/memory1');
    expect(sys.readlink('/sys/bus/memory/devices/memory2')).toBe('../../../devices/system/memory/memory2');
    expect(sys.readlink(`${dir(2)}/subsystem`)).toBe('../../../../bus/memory');
    // power/ of an unlisted directory keeps what is written, like any other.
    sys.write(`${dir(2)}/power/control`, 'on\n');
    expect(sys.read(`${dir(2)}/power/control`)).toBe('on\n');
    expect(sys.read(`${dir(1)}/power/control`)).toBe('auto\n');
    expect(sys.read(`${dir(1)}/power/runtime_status`)).toBe('unsupported\n');
    sys.write(`${dir(1)}/state`, 'online\n');
    expect(state.get(blocks[1]!)).toBe('online');
    const shape = (id: number): string[] =>
      sysSnapshot(sys).filter((l) => l.startsWith(`${dir(id)}/`)).map((l) => l.replace(`memory${id}`, 'memoryN'));
    expect(shape(1)).toEqual(shape(0));
    expect(shape(2)).toEqual(shape(0));
    expect(shape(0)).toContain('/sys/devices/system/memory/memoryN/node0 -> ../../../node0');
    // Removing a link stored as its target, and a device whose directory was never listed.
    core.sysfsRemoveLink(blocks[1]!, 'node0');
    expect(sys.list(dir(1))).toEqual(['phys_index', 'power', 'state', 'subsystem', 'uevent']);
    core.sysfsRemoveLink(node, 'memory1');
    expect(sys.exists('/sys/devices/node0/memory1')).toBe(false);
    core.deviceUnregister(blocks[2]!);
    expect(sys.exists(dir(2))).toBe(false);
    expect(sys.exists('/sys/bus/memory/devices/memory2')).toBe(false);
    // node0/memory2 now dangles: still listed and still a link, but it leads nowhere.
    expect(sys.list('/sys/devices/node0')).toEqual(['memory0', 'memory2', 'power', 'uevent']);
    expect(sys.isLink('/sys/devices/node0/memory2')).toBe(true);
    expect(sys.exists('/sys/devices/node0/memory2')).toBe(false);
  });

  it('uevent shows DEVTYPE/DRIVER and bus lines; a bad synthetic uevent is EINVAL with dev_err', () => {
    const { core, sys, k } = machine();
    const bus: BusType = { name: 'nd', uevent: (dev) => [`MODALIAS=nd:t${dev.id ?? 0}`] };
    core.busRegister(bus);
    const d = new Device({ name: 'namespace0.0', bus, id: 5, type: { name: 'nd_namespace_io' } });
    core.deviceRegister(d);
    expect(sys.read('/sys/devices/namespace0.0/uevent')).toBe('DEVTYPE=nd_namespace_io\nMODALIAS=nd:t5\n');
    core.driverRegister({ name: 'nd_pmem', bus });
    expect(sys.read('/sys/devices/namespace0.0/uevent')).toBe('DEVTYPE=nd_namespace_io\nDRIVER=nd_pmem\nMODALIAS=nd:t5\n');
    const plain = new Device({ name: 'plain' });
    core.deviceRegister(plain);
    expect(sys.read('/sys/devices/plain/uevent')).toBe('');
    sys.write('/sys/devices/namespace0.0/uevent', 'change\n');
    expect(errnoOf(() => sys.write('/sys/devices/namespace0.0/uevent', 'bogus\n'))).toBe('EINVAL');
    expect(k.log.dmesg()).toContain('nd_pmem namespace0.0: uevent: failed to send synthetic uevent');
  });
});

describe('drivers: probe, bind, unbind', () => {
  function ndSetup(): {
    k: Kernel;
    core: DeviceCore;
    sys: Sysfs;
    bus: BusType;
    events: string[];
  } {
    const { k, core, sys } = machine();
    const bus: BusType = {
      name: 'nd',
      match: (dev, drv) => (dev.name ?? '').startsWith(drv.name.replace('nd_', '')),
    };
    core.busRegister(bus);
    const events: string[] = [];
    core.busRegisterNotifier(bus, {
      notifierCall: (_nb, action, dev) => {
        events.push(`${action}:${devName(dev)}`);
        return NOTIFY_DONE;
      },
    });
    return { k, core, sys, bus, events };
  }

  it('binds on driver_register and on device_add, using the bus match', () => {
    const { core, sys, bus, events } = ndSetup();
    const probed: string[] = [];
    const early = new Device({ name: 'namespace0.0', bus });
    const other = new Device({ name: 'region0', bus });
    core.deviceRegister(early);
    core.deviceRegister(other);
    const drv: DeviceDriver = { name: 'nd_namespace', bus, probe: (d) => void probed.push(devName(d)) };
    core.driverRegister(drv);
    expect(early.driver).toBe(drv);
    expect(other.driver).toBeUndefined();
    const late = new Device({ name: 'namespace1.0', bus });
    core.deviceRegister(late);
    expect(late.driver).toBe(drv);
    expect(probed).toEqual(['namespace0.0', 'namespace1.0']);
    expect(core.driverDevices(drv)).toEqual([early, late]);
    expect(sys.list('/sys/bus/nd/drivers/nd_namespace')).toEqual(['bind', 'namespace0.0', 'namespace1.0', 'uevent', 'unbind']);
    expect(sys.readlink('/sys/bus/nd/drivers/nd_namespace/namespace0.0')).toBe('../../../../devices/namespace0.0');
    expect(sys.readlink('/sys/devices/namespace0.0/driver')).toBe('../../bus/nd/drivers/nd_namespace');
    expect(events).toEqual([
      `${BUS_NOTIFY_ADD_DEVICE}:namespace0.0`,
      `${BUS_NOTIFY_ADD_DEVICE}:region0`,
      `${BUS_NOTIFY_BIND_DRIVER}:namespace0.0`,
      `${BUS_NOTIFY_BOUND_DRIVER}:namespace0.0`,
      `${BUS_NOTIFY_ADD_DEVICE}:namespace1.0`,
      `${BUS_NOTIFY_BIND_DRIVER}:namespace1.0`,
      `${BUS_NOTIFY_BOUND_DRIVER}:namespace1.0`,
    ]);
  });

  it('a bus without match() offers every device to every driver; the first driver that binds wins', () => {
    const { core } = machine();
    const bus: BusType = { name: 'dax' };
    core.busRegister(bus);
    const refuse: DeviceDriver = {
      name: 'refuser',
      bus,
      probe: () => {
        throw new KernelError('ENXIO');
      },
    };
    const accept: DeviceDriver = { name: 'device_dax', bus };
    core.driverRegister(refuse);
    core.driverRegister(accept);
    const d = new Device({ name: 'dax0.0', bus });
    core.deviceRegister(d);
    expect(d.driver).toBe(accept);
  });

  it('probe failure: devres undone in reverse, no driver, dmesg, notifier, device stays registered', () => {
    const { k, core, sys, bus, events } = ndSetup();
    const undo: string[] = [];
    core.driverRegister({
      name: 'nd_pmem',
      bus,
      probe: (d) => {
        d.driverData = { x: 1 };
        devmAddAction(d, () => undo.push('first'));
        devmAddAction(d, () => undo.push('second'));
        devmAddAction(d, () => undo.push('third'));
        throw new KernelError('ENOMEM');
      },
    });
    const d = new Device({ name: 'pmem0', bus });
    core.deviceRegister(d);
    expect(d.registered).toBe(true);
    expect(d.driver).toBeUndefined();
    expect(d.driverData).toBeUndefined();
    expect(undo).toEqual(['third', 'second', 'first']);
    expect(devresList(d)).toEqual([]);
    expect(sys.exists('/sys/devices/pmem0/driver')).toBe(false);
    expect(sys.list('/sys/bus/nd/drivers/nd_pmem')).toEqual(['bind', 'uevent', 'unbind']);
    expect(k.log.dmesg()).toContain('nd_pmem: probe of pmem0 failed with error -12');
    expect(events).toContain(`${BUS_NOTIFY_DRIVER_NOT_BOUND}:pmem0`);
  });

  it('a probe that rejects the match (-ENODEV) is only a debug message', () => {
    const { k, core, bus } = ndSetup();
    core.driverRegister({
      name: 'nd_btt',
      bus,
      probe: () => {
        throw new KernelError('ENODEV');
      },
    });
    core.deviceRegister(new Device({ name: 'btt0.0', bus }));
    expect(k.log.dmesg()).toContain('nd_btt: probe of btt0.0 rejects match -19');
    expect(k.log.dmesg()).not.toContain('failed with error');
  });

  it('a non-KernelError thrown by probe is a bug: cleaned up, then rethrown', () => {
    const { core, bus } = ndSetup();
    core.driverRegister({
      name: 'nd_pmem',
      bus,
      probe: () => {
        throw new TypeError('bug');
      },
    });
    const d = new Device({ name: 'pmem0', bus });
    expect(() => core.deviceRegister(d)).toThrow(TypeError);
    expect(d.driver).toBeUndefined();
  });

  it('unbind runs remove, then devres newest first, and clears driver data', () => {
    const { core, sys, bus, events } = ndSetup();
    const order: string[] = [];
    const drv: DeviceDriver = {
      name: 'nd_pmem',
      bus,
      probe: (d) => {
        d.driverData = 'pmem';
        devmAddAction(d, () => order.push('devm 1'));
        devmAddAction(d, () => order.push('devm 2'));
      },
      remove: (d) => void order.push(`remove ${String(d.driverData)}`),
    };
    core.driverRegister(drv);
    const d = new Device({ name: 'pmem0', bus });
    core.deviceRegister(d);
    events.length = 0;
    sys.write('/sys/bus/nd/drivers/nd_pmem/unbind', 'pmem0\n');
    expect(order).toEqual(['remove pmem', 'devm 2', 'devm 1']);
    expect(d.driver).toBeUndefined();
    expect(d.driverData).toBeUndefined();
    expect(events).toEqual([`${BUS_NOTIFY_UNBIND_DRIVER}:pmem0`, `${BUS_NOTIFY_UNBOUND_DRIVER}:pmem0`]);
    expect(sys.exists('/sys/devices/pmem0/driver')).toBe(false);
    // bind again through sysfs
    sys.write('/sys/bus/nd/drivers/nd_pmem/bind', 'pmem0\n');
    expect(d.driver).toBe(drv);
  });

  it('bind/unbind stores fail with ENODEV and change nothing', () => {
    const { core, sys, bus } = ndSetup();
    let fail = false;
    const drv: DeviceDriver = {
      name: 'nd_pmem',
      bus,
      probe: () => {
        if (fail) throw new KernelError('EIO');
      },
    };
    core.driverRegister(drv);
    core.driverRegister({ name: 'nd_region', bus });
    const pmem = new Device({ name: 'pmem0', bus });
    const region = new Device({ name: 'region0', bus });
    core.deviceRegister(pmem);
    core.deviceRegister(region);
    const before = sysSnapshot(sys);
    const bind = '/sys/bus/nd/drivers/nd_pmem/bind';
    const unbind = '/sys/bus/nd/drivers/nd_pmem/unbind';
    expect(errnoOf(() => sys.write(bind, 'nosuch\n'))).toBe('ENODEV'); // no such device
    expect(errnoOf(() => sys.write(bind, 'region0\n'))).toBe('ENODEV'); // no match
    expect(errnoOf(() => sys.write(bind, 'pmem0\n'))).toBe('ENODEV'); // already bound (v5.13)
    expect(errnoOf(() => sys.write(unbind, 'region0\n'))).toBe('ENODEV'); // bound to another driver
    expect(errnoOf(() => sys.write(unbind, 'nosuch'))).toBe('ENODEV');
    expect(sysSnapshot(sys)).toEqual(before);
    core.deviceReleaseDriver(pmem);
    const unbound = sysSnapshot(sys);
    fail = true;
    expect(errnoOf(() => sys.write(bind, 'pmem0\n'))).toBe('ENODEV'); // probe fails
    expect(sysSnapshot(sys)).toEqual(unbound);
    expect(errnoOf(() => sys.write(unbind, 'pmem0\n'))).toBe('ENODEV'); // not bound
  });

  it('driver dev_groups appear while bound', () => {
    const { core, sys, bus } = ndSetup();
    const mode: DeviceAttribute = { name: 'mode', mode: 0o444, show: () => 'fsdax\n' };
    core.driverRegister({ name: 'nd_pmem', bus, devGroups: [{ attrs: [mode] }] });
    const d = new Device({ name: 'pmem0', bus });
    core.deviceRegister(d);
    expect(sys.read('/sys/devices/pmem0/mode')).toBe('fsdax\n');
    core.deviceReleaseDriver(d);
    expect(sys.exists('/sys/devices/pmem0/mode')).toBe(false);
  });

  it('driver dev_groups that clash fail the probe after remove, with dev_err', () => {
    const { k, core, bus } = ndSetup();
    const removed: string[] = [];
    const clash: DeviceAttribute = { name: 'uevent', mode: 0o444 };
    core.driverRegister({ name: 'nd_pmem', bus, devGroups: [{ attrs: [clash] }], remove: (d) => void removed.push(devName(d)) });
    const d = new Device({ name: 'pmem0', bus });
    core.deviceRegister(d);
    expect(d.driver).toBeUndefined();
    expect(removed).toEqual(['pmem0']);
    expect(k.log.dmesg()).toContain('nd_pmem pmem0: device_add_groups() failed');
  });

  it('drivers_autoprobe 0 stops automatic binding; drivers_probe binds on request', () => {
    const { core, sys, bus } = ndSetup();
    core.driverRegister({ name: 'nd_pmem', bus });
    sys.write('/sys/bus/nd/drivers_autoprobe', '0\n');
    expect(sys.read('/sys/bus/nd/drivers_autoprobe')).toBe('0\n');
    const d = new Device({ name: 'pmem0', bus });
    core.deviceRegister(d);
    expect(d.driver).toBeUndefined();
    expect(errnoOf(() => sys.write('/sys/bus/nd/drivers_probe', 'pmem9\n'))).toBe('ENODEV');
    sys.write('/sys/bus/nd/drivers_probe', 'pmem0\n');
    expect(d.driver?.name).toBe('nd_pmem');
    expect(core.deviceAttach(d)).toBe(true);
    expect(errnoOf(() => core.deviceAttach(new Device({ name: 'x', bus })))).toBe('ENODEV');
  });

  it('driver_register failures: unknown bus EINVAL, duplicate name EBUSY, with the kernel messages', () => {
    const { k, core, sys, bus } = ndSetup();
    core.driverRegister({ name: 'nd_pmem', bus });
    const before = sysSnapshot(sys);
    expect(errnoOf(() => core.driverRegister({ name: 'nd_pmem', bus }))).toBe('EBUSY');
    expect(errnoOf(() => core.driverRegister({ name: 'dax_pmem', bus: { name: 'dax' } }))).toBe('EINVAL');
    expect(errnoOf(() => core.driverRegister({ name: 'x', bus, attrs: [{ name: 'bind', mode: 0o444 }] }))).toBe('EEXIST');
    expect(sysSnapshot(sys)).toEqual(before);
    expect(core.busDrivers(bus).map((d) => d.name)).toEqual(['nd_pmem']);
    expect(k.log.dmesg()).toContain("Error: Driver 'nd_pmem' is already registered, aborting...");
    expect(k.log.dmesg()).toContain(
      "Driver 'dax_pmem' was unable to register with bus_type 'dax' because the bus was not initialized.",
    );
  });

  it('driver_unregister unbinds every device; an unknown driver only warns', () => {
    const { k, core, sys, bus } = ndSetup();
    const removed: string[] = [];
    const drv: DeviceDriver = { name: 'nd_pmem', bus, remove: (d) => void removed.push(devName(d)) };
    core.driverRegister(drv);
    core.deviceRegister(new Device({ name: 'pmem0', bus }));
    core.deviceRegister(new Device({ name: 'pmem1', bus }));
    core.driverUnregister(drv);
    expect(removed).toEqual(['pmem1', 'pmem0']);
    expect(sys.exists('/sys/bus/nd/drivers/nd_pmem')).toBe(false);
    expect(core.driverIsRegistered(drv)).toBe(false);
    const before = sysSnapshot(sys);
    core.driverUnregister(drv);
    expect(k.log.dmesg()).toContain('Unexpected driver unregister!');
    expect(sysSnapshot(sys)).toEqual(before);
  });

  it('device_del unbinds first and notifies DEL then REMOVED', () => {
    const { core, bus, events } = ndSetup();
    const order: string[] = [];
    core.driverRegister({ name: 'nd_pmem', bus, remove: () => void order.push('remove') });
    const d = new Device({ name: 'pmem0', bus });
    core.deviceRegister(d);
    devmAddAction(d, () => order.push('devm'));
    events.length = 0;
    core.deviceUnregister(d);
    expect(order).toEqual(['remove', 'devm']);
    expect(events).toEqual([
      `${BUS_NOTIFY_DEL_DEVICE}:pmem0`,
      `${BUS_NOTIFY_UNBIND_DRIVER}:pmem0`,
      `${BUS_NOTIFY_UNBOUND_DRIVER}:pmem0`,
      `${BUS_NOTIFY_REMOVED_DEVICE}:pmem0`,
    ]);
  });

  it('deviceDriverAttach skips unregistered or bound devices; unknown driver is EINVAL', () => {
    const { core, bus } = ndSetup();
    const drv: DeviceDriver = { name: 'nd_pmem', bus };
    core.driverRegister(drv);
    const d = new Device({ name: 'pmem0', bus });
    expect(core.deviceDriverAttach(drv, d)).toBe(false);
    core.deviceRegister(d);
    expect(core.deviceDriverAttach(drv, d)).toBe(false); // autoprobe bound it already
    expect(errnoOf(() => core.deviceDriverAttach({ name: 'ghost', bus }, d))).toBe('EINVAL');
  });

  it('bus probe/remove take precedence over the driver callbacks', () => {
    const { core } = machine();
    const calls: string[] = [];
    const bus: BusType = {
      name: 'dax',
      probe: (d) => void calls.push(`bus probe ${devName(d)}`),
      remove: (d) => void calls.push(`bus remove ${devName(d)}`),
    };
    core.busRegister(bus);
    core.driverRegister({ name: 'device_dax', bus, probe: () => void calls.push('drv probe') });
    const d = new Device({ name: 'dax0.0', bus });
    core.deviceRegister(d);
    core.deviceReleaseDriver(d);
    expect(calls).toEqual(['bus probe dax0.0', 'bus remove dax0.0']);
  });
});

describe('devres', () => {
  it('remove/release an action early; unknown entries are ENOENT', () => {
    const { core } = machine();
    const d = new Device({ name: 'd' });
    core.deviceRegister(d);
    const ran: string[] = [];
    const a = devmAddAction(d, () => ran.push('a'), 'a');
    const b = devmAddAction(d, () => ran.push('b'), 'b');
    devmRemoveAction(d, a);
    expect(ran).toEqual([]);
    devmReleaseAction(d, b);
    expect(ran).toEqual(['b']);
    expect(devresList(d)).toEqual([]);
    expect(errnoOf(() => devmRemoveAction(d, a))).toBe('ENOENT');
    expect(errnoOf(() => devmReleaseAction(d, b))).toBe('ENOENT');
    expect(ran).toEqual(['b']);
  });

  it('allocation failure: devm_add_action is ENOMEM; _or_reset runs the action', () => {
    const { k, core } = machine();
    const d = new Device({ name: 'd' });
    core.deviceRegister(d);
    k.faults.configure('failslab', { probability: 100, times: 2 });
    const ran: string[] = [];
    expect(errnoOf(() => devmAddAction(d, () => ran.push('x')))).toBe('ENOMEM');
    expect(ran).toEqual([]);
    expect(errnoOf(() => devmAddActionOrReset(d, () => ran.push('reset')))).toBe('ENOMEM');
    expect(ran).toEqual(['reset']);
    expect(devresList(d)).toEqual([]);
  });

  it('actions on an unbound device run at its release', () => {
    const { core } = machine();
    const d = new Device({ name: 'd' });
    core.deviceRegister(d);
    const ran: string[] = [];
    devmAddAction(d, () => ran.push('1'));
    devmAddAction(d, () => ran.push('2'));
    core.deviceUnregister(d);
    expect(ran).toEqual(['2', '1']);
  });

  it('property: actions always run newest first, each exactly once', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 12 }), fc.boolean(), (n, failProbe) => {
        const { core } = machine();
        const bus: BusType = { name: 'b' };
        core.busRegister(bus);
        const ran: number[] = [];
        core.driverRegister({
          name: 'drv',
          bus,
          probe: (d) => {
            for (let i = 0; i < n; i++) devmAddAction(d, () => ran.push(i));
            if (failProbe) throw new KernelError('EIO');
          },
        });
        const d = new Device({ name: 'd', bus });
        core.deviceRegister(d);
        if (!failProbe) core.deviceReleaseDriver(d);
        expect(ran).toEqual(Array.from({ length: n }, (_, i) => n - 1 - i));
        core.deviceUnregister(d);
        expect(ran.length).toBe(n);
      }),
      { numRuns: 50 },
    );
  });
});

describe('dev_printk', () => {
  it('prefixes "<driver> <device>: " (bus name while unbound, empty without bus)', () => {
    const { k, core } = machine();
    const bus: BusType = { name: 'nd' };
    core.busRegister(bus);
    const d = new Device({ name: 'region0', bus });
    const plain = new Device({ name: 'platform' });
    core.deviceRegister(plain);
    core.deviceRegister(d);
    devInfo(d, 'unbound');
    core.driverRegister({ name: 'nd_region', bus });
    expect(devDriverString(d)).toBe('nd_region');
    devWarn(d, 'bound');
    devErr(plain, 'no bus');
    const text = k.log.dmesg();
    expect(text).toContain('] nd region0: unbound\n');
    expect(text).toContain('] nd_region region0: bound\n');
    expect(text).toContain(']  platform: no bus\n');
    expect(() => devInfo(new Device({ name: 'lonely' }), 'x')).toThrow(/not initialized/);
    const lonely = new Device({ name: 'lonely' });
    core.deviceInitialize(lonely);
    devInfo(lonely, 'initialized');
    expect(k.log.dmesg()).toContain(' lonely: initialized');
    expect(errnoOf(() => new Kernel().devices.deviceInitialize(lonely))).toBe('EINVAL');
  });
});

describe('tracing', () => {
  it('records device_add and really_probe', () => {
    const { k, core } = machine();
    const bus: BusType = { name: 'nd' };
    core.busRegister(bus);
    core.driverRegister({ name: 'nd_pmem', bus });
    k.tracer.on();
    core.deviceRegister(new Device({ name: 'pmem0', bus }));
    const out = k.tracer.show();
    expect(out).toContain('device_register(pmem0) {');
    expect(out).toContain('really_probe(pmem0, nd_pmem) {');
    expect(out).toContain('} /* really_probe = true */');
    expect(out).toContain('blocking_notifier_call_chain(nd_bus_notifier, 1) = 0;');
  });
});
