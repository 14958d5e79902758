// daxctl v72 enable-device, disable-device, create-device and destroy-device
// (daxctl/device.c) on the pmem-backed dax region of an e820 devdax
// namespace: the device_dax unbind/bind they do, the refusals for a kmem
// (system-ram) device, and what v5.13's static regions allow — no `create`,
// a read-only `size` — with daxctl's messages.
import { describe, expect, it } from 'vitest';
import { SZ_4G } from '@zonedev/kernel';
import { bootShellMachine as bootMachine, type DemoShellMachine as ZonedevMachine } from '../src/commands/shell-machine.js';
import { DEFAULT_MACHINE } from '@zonedev/platform';
import { machineFs, run } from '../src/shell/shell.js';

function devdax(): ZonedevMachine {
  const m = bootMachine({ ...DEFAULT_MACHINE, ramSize: SZ_4G, maxmem: SZ_4G, cmdline: 'memmap=1G!4G' });
  expect(run('ndctl create-namespace -f -e namespace0.0 -m devdax', m).status).toBe(0);
  return m;
}

describe('daxctl disable-device / enable-device', () => {
  it('unbinds and binds device_dax; /dev/dax0.0 goes and comes back', () => {
    const m = devdax();
    const fs = machineFs(m);
    expect(fs.exists('/sys/bus/dax/devices/dax0.0/driver')).toBe(true);
    expect(run('daxctl disable-device dax0.0', m)).toMatchObject({ status: 0, stdout: '', stderr: 'disabled 1 device\n' });
    expect(fs.exists('/sys/bus/dax/devices/dax0.0/driver')).toBe(false);
    expect(fs.exists('/dev/dax0.0')).toBe(false);
    // already disabled: nothing to do, still counted
    expect(run('daxctl disable-device dax0.0', m).stderr).toBe('disabled 1 device\n');
    expect(run('daxctl enable-device all', m)).toMatchObject({ status: 0, stderr: 'enabled 1 device\n' });
    expect(fs.exists('/dev/dax0.0')).toBe(true);
    expect(run('daxctl list', m).stdout).toContain('"mode":"devdax"');
  });

  it('refuses a device in system-ram mode, and names the device it wants', () => {
    const m = devdax();
    expect(run('daxctl reconfigure-device -m system-ram dax0.0', m).status).toBe(0);
    const r = run('daxctl disable-device dax0.0', m);
    expect(r.stderr).toBe('dax0.0: status operations are only applicable in devdax mode\nerror disabling device: No such device or address\ndisabled 0 devices\n');
    expect(r.status).toBe(256 - 6);
    const u = run('daxctl enable-device', m);
    expect(u.status).toBe(129);
    // v72 parses enable-device's options as for disable
    expect(u.stderr.startsWith('specify a device to disable, or "all"\n')).toBe(true);
  });
});

describe('daxctl create-device / destroy-device on a static (pmem-backed) region', () => {
  it('create-device finds no way to add a device: ENOSPC, nothing created', () => {
    const m = devdax();
    const before = machineFs(m).list('/sys/bus/dax/devices');
    expect(run('daxctl create-device -s 16M', m)).toMatchObject({ status: 256 - 28, stdout: '', stderr: 'error creating devices: No space left on device\ncreated 0 devices\n' });
    expect(machineFs(m).list('/sys/bus/dax/devices')).toEqual(before);
  });

  it('destroy-device wants --force while enabled; with it, the device is disabled but its size cannot be changed', () => {
    const m = devdax();
    expect(run('daxctl destroy-device dax0.0', m)).toMatchObject({
      status: 256 - 6,
      stderr: 'dax0.0 is active, specify --force for deletion\nerror destroying devices: No such device or address\ndestroyed 0 devices\n',
    });
    expect(machineFs(m).exists('/sys/bus/dax/devices/dax0.0/driver')).toBe(true);
    const r = run('daxctl destroy-device -f dax0.0', m);
    expect(r.status).toBe(256 - 6);
    expect(r.stderr).toBe('libdaxctl: daxctl_dev_set_size: dax0.0: failed to set size\nerror destroying devices: No such device or address\ndestroyed 0 devices\n');
    expect(machineFs(m).exists('/sys/bus/dax/devices/dax0.0/driver')).toBe(false);
    expect(machineFs(m).read('/sys/bus/dax/devices/dax0.0/size')).not.toBe('0\n');
  });
});
