// device_online() / device_offline(), dev->offline, dev->offline_disabled and
// the core's `online` attribute (drivers/base/core.c, v5.13).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Device, Kernel, KernelError, isKernelError } from '@zonedev/kernel';
import type { BusType, DeviceCore, ErrnoName, Sysfs } from '@zonedev/kernel';

function errnoOf(fn: () => unknown): ErrnoName | undefined {
  try {
    fn();
  } catch (e) {
    if (isKernelError(e)) return e.errno;
    throw e;
  }
  return undefined;
}

interface Cpuish {
  k: Kernel;
  core: DeviceCore;
  sys: Sysfs;
  bus: BusType;
  calls: string[];
  /** Device names whose next bus callback fails with this errno. */
  fail: Map<string, ErrnoName>;
}

/** A bus that supports offline (both callbacks), recording its calls. */
function offlineBus(): Cpuish {
  const k = new Kernel();
  const calls: string[] = [];
  const fail = new Map<string, ErrnoName>();
  const cb = (what: string) => (dev: Device): void => {
    calls.push(`${what} ${dev.name}`);
    const e = fail.get(dev.name!);
    if (e !== undefined) throw new KernelError(e, `${what} refused`);
  };
  const bus: BusType = { name: 'cpu', devName: 'cpu', online: cb('online'), offline: cb('offline') };
  k.devices.subsysSystemRegister(bus);
  return { k, core: k.devices, sys: k.sysfs, bus, calls, fail };
}

const CPU = '/sys/devices/system/cpu';

describe('device_supports_offline() and the online attribute', () => {
  it('every device of a bus with online and offline callbacks gets a 0644 online file', () => {
    const { core, sys, bus } = offlineBus();
    const d = new Device({ bus, id: 1 });
    core.deviceRegister(d);
    expect(core.deviceSupportsOffline(d)).toBe(true);
    expect(sys.list(`${CPU}/cpu1`)).toEqual(['online', 'power', 'subsystem', 'uevent']);
    expect(sys.stat(`${CPU}/cpu1/online`).mode).toBe(0o644);
    expect(sys.read(`${CPU}/cpu1/online`)).toBe('1\n');
    const off = new Device({ bus, id: 2, offline: true });
    core.deviceRegister(off);
    expect(sys.read(`${CPU}/cpu2/online`)).toBe('0\n');
  });

  it('no online file without both callbacks, or with offline_disabled', () => {
    const k = new Kernel();
    const half: BusType = { name: 'half', online: () => undefined };
    k.devices.busRegister(half);
    const d = new Device({ name: 'h0', bus: half });
    k.devices.deviceRegister(d);
    expect(k.devices.deviceSupportsOffline(d)).toBe(false);
    expect(k.sysfs.list('/sys/devices/h0')).toEqual(['power', 'subsystem', 'uevent']);
    expect(k.devices.deviceSupportsOffline(new Device({ name: 'nobus' }))).toBe(false);

    const { core, sys, bus } = offlineBus();
    const boot = new Device({ bus, id: 0, offlineDisabled: true });
    core.deviceRegister(boot);
    expect(sys.list(`${CPU}/cpu0`)).toEqual(['power', 'subsystem', 'uevent']);
  });

  it('an attribute group with its own online file clashes: EEXIST, nothing created', () => {
    const { core, sys, bus } = offlineBus();
    const d = new Device({ bus, id: 3, groups: [{ attrs: [{ name: 'online', mode: 0o444, show: () => 'x\n' }] }] });
    const before = sys.list(CPU);
    expect(errnoOf(() => core.deviceRegister(d))).toBe('EEXIST');
    expect(sys.list(CPU)).toEqual(before);
    expect(d.registered).toBe(false);
  });
});

describe('device_online() / device_offline()', () => {
  it('call the bus only when the state changes; 1 when already so', () => {
    const { core, bus, calls } = offlineBus();
    const d = new Device({ bus, id: 1 });
    core.deviceRegister(d);
    expect(core.deviceOnline(d)).toBe(1);
    expect(calls).toEqual([]);
    expect(core.deviceOffline(d)).toBe(0);
    expect(d.offline).toBe(true);
    expect(core.deviceOffline(d)).toBe(1);
    expect(core.deviceOnline(d)).toBe(0);
    expect(d.offline).toBe(false);
    expect(calls).toEqual(['offline cpu1', 'online cpu1']);
  });

  it('a failing callback is thrown and dev->offline stays as it was', () => {
    const { core, bus, fail } = offlineBus();
    const d = new Device({ bus, id: 1 });
    core.deviceRegister(d);
    fail.set('cpu1', 'EBUSY');
    expect(errnoOf(() => core.deviceOffline(d))).toBe('EBUSY');
    expect(d.offline).toBe(false);
    fail.delete('cpu1');
    core.deviceOffline(d);
    fail.set('cpu1', 'ENOMEM');
    expect(errnoOf(() => core.deviceOnline(d))).toBe('ENOMEM');
    expect(d.offline).toBe(true);
  });

  it('offline_disabled: device_offline is EPERM without calling the bus', () => {
    const { core, bus, calls } = offlineBus();
    const d = new Device({ bus, id: 0, offlineDisabled: true });
    core.deviceRegister(d);
    expect(errnoOf(() => core.deviceOffline(d))).toBe('EPERM');
    expect(d.offline).toBe(false);
    expect(calls).toEqual([]);
  });

  it('a device whose bus does not support offline: 0, nothing changes', () => {
    const k = new Kernel();
    const bus: BusType = { name: 'plain' };
    k.devices.busRegister(bus);
    const d = new Device({ name: 'p0', bus });
    k.devices.deviceRegister(d);
    expect(k.devices.deviceOffline(d)).toBe(0);
    expect(d.offline).toBe(false);
    expect(k.devices.deviceOnline(d)).toBe(0);
  });

  it('device_check_offline: EBUSY while a descendant that supports offline is online', () => {
    const { k, core, bus, calls } = offlineBus();
    const plain: BusType = { name: 'plain' };
    core.busRegister(plain);
    const parent = new Device({ name: 'pkg0', bus: plain });
    core.deviceRegister(parent);
    const mid = new Device({ name: 'mid', parent }); // no bus: never blocks, but its children count
    core.deviceRegister(mid);
    const cpu = new Device({ bus, id: 7, parent: mid });
    core.deviceRegister(cpu);
    expect(errnoOf(() => core.deviceOffline(parent))).toBe('EBUSY');
    core.deviceOffline(cpu);
    expect(core.deviceOffline(parent)).toBe(0);
    expect(calls).toEqual(['offline cpu7']);
    // an offline-capable parent with an online child: EBUSY, the parent's callback is not called
    const p2 = new Device({ bus, id: 8 });
    core.deviceRegister(p2);
    const c2 = new Device({ bus, id: 9, parent: p2 });
    core.deviceRegister(c2);
    expect(errnoOf(() => core.deviceOffline(p2))).toBe('EBUSY');
    expect(p2.offline).toBe(false);
    expect(calls).toEqual(['offline cpu7']);
    expect(k.sysfs.read(`${CPU}/cpu8/online`)).toBe('1\n');
  });
});

describe('online_store()', () => {
  it('parses a boolean like strtobool(): 1/y/on online, 0/n/off offline, else EINVAL', () => {
    const { core, sys, bus, calls } = offlineBus();
    core.deviceRegister(new Device({ bus, id: 1 }));
    const p = `${CPU}/cpu1/online`;
    for (const [text, want] of [
      ['0\n', '0\n'], ['1\n', '1\n'], ['n', '0\n'], ['Y', '1\n'], ['off\n', '0\n'], ['on\n', '1\n'], ['No', '0\n'], ['yes', '1\n'],
    ] as const) {
      sys.write(p, text);
      expect(sys.read(p)).toBe(want);
    }
    const n = calls.length;
    for (const bad of ['2\n', 'o\n', 'true', '', 'x']) expect(errnoOf(() => sys.write(p, bad))).toBe('EINVAL');
    expect(calls).toHaveLength(n);
    expect(sys.read(p)).toBe('1\n');
  });

  it('writing the current state succeeds without calling the bus; errors reach the writer', () => {
    const { core, sys, bus, calls, fail } = offlineBus();
    core.deviceRegister(new Device({ bus, id: 1 }));
    const p = `${CPU}/cpu1/online`;
    sys.write(p, '1\n');
    expect(calls).toEqual([]);
    fail.set('cpu1', 'EBUSY');
    expect(errnoOf(() => sys.write(p, '0\n'))).toBe('EBUSY');
    expect(sys.read(p)).toBe('1\n');
  });

  it('property: the online file always shows the last successful transition', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.boolean()), { maxLength: 30 }), (ops) => {
        const { core, sys, bus, fail } = offlineBus();
        const d = new Device({ bus, id: 1 });
        core.deviceRegister(d);
        let online = true;
        for (const [want, refuse] of ops) {
          if (refuse) fail.set('cpu1', 'EIO');
          else fail.delete('cpu1');
          const r = errnoOf(() => sys.write(`${CPU}/cpu1/online`, want ? '1\n' : '0\n'));
          if (want === online) expect(r).toBeUndefined();
          else if (refuse) expect(r).toBe('EIO');
          else online = want;
          expect(sys.read(`${CPU}/cpu1/online`)).toBe(online ? '1\n' : '0\n');
          expect(d.offline).toBe(!online);
        }
      }),
      { numRuns: 50 },
    );
  });
});

describe('tracing', () => {
  it('records device_online and device_offline with their results', () => {
    const { k, core, bus } = offlineBus();
    const d = new Device({ bus, id: 1 });
    core.deviceRegister(d);
    k.tracer.on();
    core.deviceOffline(d);
    core.deviceOnline(d);
    core.deviceOnline(d);
    const out = k.tracer.show();
    expect(out).toContain('device_offline(cpu1) = 0;');
    expect(out).toContain('device_online(cpu1) = 0;');
    expect(out).toContain('device_online(cpu1) = 1;');
  });
});
