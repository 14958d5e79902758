// daxctl v72 on the e820 (memmap=nn!ss) machine: ndctl create-namespace -m
// devdax, daxctl list's JSON, and ports of ndctl's test/daxctl-devices.sh
// (reconfigure-device to system-ram and back, online-memory,
// offline-memory, the refusals) with lsmem and /proc/iomem showing the
// hot-added blocks.
import { describe, expect, it } from 'vitest';
import { SZ_4G } from '@zonedev/kernel';
import { bootShellMachine as bootMachine, type DemoShellMachine as ZonedevMachine } from '../src/commands/shell-machine.js';
import { DEFAULT_MACHINE } from '@zonedev/platform';
import type { ShellMachine as Machine } from '../src/shell/command.js';
import { machineFs, run } from '../src/shell/shell.js';
import { daxctlCommand } from '../src/tools/commands.js';
import { daxHasActiveMemory } from '../src/tools/daxctl.js';

/** 4 GiB of RAM with the GiB at 4 GiB made legacy pmem, daxctl installed. */
function machine(): { m: Machine; z: ZonedevMachine } {
  const z = bootMachine({ ...DEFAULT_MACHINE, ramSize: SZ_4G, maxmem: SZ_4G, cmdline: 'memmap=1G!4G' });
  const m = Object.create(z, { commands: { value: [...z.commands, daxctlCommand] } }) as Machine;
  return { m, z };
}

function devdax(): { m: Machine; z: ZonedevMachine } {
  const r = machine();
  const out = run('ndctl create-namespace -f -e namespace0.0 -m devdax', r.m);
  expect(out.status).toBe(0);
  return r;
}

const DEV_DEVDAX = `[
  {
    "chardev":"dax0.0",
    "size":1054867456,
    "target_node":0,
    "align":2097152,
    "mode":"devdax"
  }
]
`;

const DEV_RAM = (online: number, movable: boolean): string => `[
  {
    "chardev":"dax0.0",
    "size":1054867456,
    "target_node":0,
    "align":2097152,
    "mode":"system-ram",
    "online_memblocks":${online},
    "total_memblocks":7${online > 0 ? `,\n    "movable":${movable}` : ''}
  }
]
`;

describe('daxctl list', () => {
  it('lists dax0.0 after ndctl create-namespace -m devdax', () => {
    const { m } = devdax();
    expect(run('daxctl list', m).stdout).toBe(DEV_DEVDAX);
    expect(run('daxctl list -d dax0.0', m).stdout).toBe(DEV_DEVDAX);
    expect(run('daxctl list -d dax1.0', m).stdout).toBe('');
  });

  it('-R -D -M: the region with its path, devices and mappings; -u humanizes one element', () => {
    const { m } = devdax();
    expect(run('daxctl list -R -D -M', m).stdout).toBe(`[
  {
    "path":"\\/platform\\/e820_pmem\\/ndbus0\\/region0\\/dax0.0",
    "id":0,
    "size":1054867456,
    "align":2097152,
    "devices":[
      {
        "chardev":"dax0.0",
        "size":1054867456,
        "target_node":0,
        "align":2097152,
        "mode":"devdax",
        "mappings":[
          {
            "page_offset":0,
            "start":4313841664,
            "end":5368709119,
            "size":1054867456
          }
        ]
      }
    ]
  }
]
`);
    expect(run('daxctl list -R', m).stdout).toBe(`[
  {
    "path":"\\/platform\\/e820_pmem\\/ndbus0\\/region0\\/dax0.0",
    "id":0,
    "size":1054867456,
    "align":2097152
  }
]
`);
    expect(run('daxctl list -u', m).stdout).toBe(`{
  "chardev":"dax0.0",
  "size":"1006.00 MiB (1054.87 MB)",
  "target_node":0,
  "align":2097152,
  "mode":"devdax"
}
`);
  });

  it('an unknown parameter is a usage error (129)', () => {
    const { m } = devdax();
    const r = run('daxctl list foo', m);
    expect(r.status).toBe(129);
    expect(r.stderr).toContain('  Error: unknown parameter "foo"\n');
    expect(r.stderr).toContain(' usage: daxctl list [<options>]\n');
  });

  it('/dev/dax0.0 is there while device_dax drives it', () => {
    const { m } = devdax();
    expect(machineFs(m).list('/dev')).toContain('dax0.0');
    run('daxctl reconfigure-device -N -m system-ram dax0.0', m);
    expect(machineFs(m).list('/dev')).not.toContain('dax0.0');
  });
});

describe('daxctl reconfigure-device (test/daxctl-devices.sh)', () => {
  it('-N -m system-ram: kmem adds 7 offline blocks, online-memory and offline-memory switch them', () => {
    const { m } = devdax();
    let r = run('daxctl reconfigure-device -N -m system-ram dax0.0', m);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(DEV_RAM(0, true));
    expect(r.stderr).toBe('reconfigured 1 device\n');
    const iomem = machineFs(m).read('/proc/iomem');
    expect(iomem).toContain('  100000000-1011fffff : namespace0.0\n  108000000-13fffffff : dax0.0\n    108000000-13fffffff : System RAM (kmem)\n');
    expect(run('lsmem', m).stdout).toContain('0x0000000108000000-0x000000013fffffff  896M offline           33-39\n');
    r = run('daxctl online-memory dax0.0', m);
    expect(r.stderr).toBe('onlined memory for 1 device\n');
    expect(run('daxctl list', m).stdout).toBe(DEV_RAM(7, true));
    expect(run('lsmem', m).stdout).toContain('0x0000000108000000-0x000000013fffffff  896M online       yes 33-39\n');
    expect(run('daxctl online-memory dax0.0', m).stderr).toBe('dax0.0:\n  WARNING: detected a race while onlining memory\n  Some memory may not be in the expected zone. It is\n  recommended to disable any other onlining mechanisms,\n  and retry. If onlining is to be left to other agents,\n  use the --no-online option to suppress this warning\ndax0.0: all memory sections (7) already online\nonlined memory for 0 devices\n');
    r = run('daxctl offline-memory dax0.0', m);
    expect(r.stderr).toBe('offlined memory for 1 device\n');
    expect(run('daxctl offline-memory dax0.0', m).stderr).toBe('dax0.0: all memory sections (7) already offline\nofflined memory for 0 devices\n');
    r = run('daxctl reconfigure-device -m devdax dax0.0', m);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(DEV_DEVDAX);
    expect(machineFs(m).read('/proc/iomem')).toContain('  100000000-1011fffff : namespace0.0\n  101200000-13fffffff : dax0.0\n');
    expect(run('lsmem', m).stdout).not.toContain('33-39');
  });

  it('ndctl refuses to disable a namespace whose device-dax memory is online as System RAM', () => {
    const { m } = devdax();
    expect(run('daxctl reconfigure-device -m system-ram dax0.0', m).status).toBe(0);
    const before = machineFs(m).read('/proc/iomem');
    const r = run('ndctl disable-namespace namespace0.0', m);
    expect(r.stderr).toContain('namespace0.0: active as system-ram, refusing to disable\n');
    expect(r.stderr).toContain('disabled 0 namespaces\n');
    expect(machineFs(m).read('/proc/iomem')).toBe(before);
    expect(run('daxctl offline-memory dax0.0', m).status).toBe(0);
    expect(run('daxctl reconfigure-device -m devdax dax0.0', m).status).toBe(0);
    expect(run('ndctl disable-namespace namespace0.0', m).stderr).toBe('disabled 1 namespace\n');
  });

  it('system-ram onlines movable by default; back to devdax is refused while online, -f offlines first', () => {
    const { m } = devdax();
    let r = run('daxctl reconfigure-device -m system-ram dax0.0', m);
    expect(r.stdout).toBe(DEV_RAM(7, true));
    expect(machineFs(m).read('/sys/devices/system/memory/memory33/valid_zones')).toBe('Movable\n');
    const before = machineFs(m).read('/proc/iomem');
    r = run('daxctl reconfigure-device -m devdax dax0.0', m);
    expect(r.status).toBe(240);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('error reconfiguring devices: Device or resource busy\nreconfigured 0 devices\n');
    expect(machineFs(m).read('/proc/iomem')).toBe(before);
    r = run('daxctl reconfigure-device -v -m devdax dax0.0', m);
    expect(r.stderr).toContain('dax0.0: found 7 memory sections online\ndax0.0: refusing to change modes\n');
    r = run('daxctl reconfigure-device -m system-ram dax0.0', m);
    expect(r.stderr).toBe('dax0.0 was already in system-ram mode\ndax0.0:\n  WARNING: detected a race while onlining memory\n  Some memory may not be in the expected zone. It is\n  recommended to disable any other onlining mechanisms,\n  and retry. If onlining is to be left to other agents,\n  use the --no-online option to suppress this warning\ndax0.0: all memory sections (7) already online\nreconfigured 1 device\n');
    r = run('daxctl reconfigure-device -f -m devdax dax0.0', m);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(DEV_DEVDAX);
    expect(run('daxctl reconfigure-device -m devdax dax0.0', m).stderr).toBe('dax0.0 was already in devdax mode\nreconfigured 1 device\n');
  });

  it('--no-movable onlines into ZONE_NORMAL', () => {
    const { m } = devdax();
    const r = run('daxctl reconfigure-device --no-movable -m system-ram dax0.0', m);
    expect(r.stdout).toBe(DEV_RAM(7, false));
    expect(machineFs(m).read('/sys/devices/system/memory/memory39/valid_zones')).toBe('Normal\n');
  });

  it('with auto_online_blocks=online, -N -m system-ram is refused unless -f', () => {
    const { m } = devdax();
    run('echo online > /sys/devices/system/memory/auto_online_blocks', m);
    let r = run('daxctl reconfigure-device -N -m system-ram dax0.0', m);
    expect(r.status).toBe(240);
    expect(r.stderr).toBe('dax0.0: error: kernel policy will auto-online memory, aborting\nerror reconfiguring devices: Device or resource busy\nreconfigured 0 devices\n');
    expect(run('daxctl list', m).stdout).toBe(DEV_DEVDAX);
    r = run('daxctl reconfigure-device -f -N -m system-ram dax0.0', m);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(DEV_RAM(7, false));
  });

  it('usage errors: no device, no mode, --no-online with devdax', () => {
    const { m } = devdax();
    let r = run('daxctl reconfigure-device -m system-ram', m);
    expect(r.status).toBe(129);
    expect(r.stderr.startsWith('specify a device to reconfigure, or "all"\n\n usage: daxctl reconfigure-device <device> [<options>]\n')).toBe(true);
    r = run('daxctl reconfigure-device dax0.0', m);
    expect(r.stderr.startsWith("error: a 'align', 'mode' or 'size' option is required\n")).toBe(true);
    r = run('daxctl reconfigure-device -N -m devdax dax0.0', m);
    expect(r.stderr.startsWith('--no-online is incompatible with --mode=devdax\n')).toBe(true);
    expect(run('daxctl online-memory dax0.0', m).stderr).toBe(
      'dax0.0: memory operations are not applicable in devdax mode\nerror onlining memory: No such device or address\nonlined memory for 0 devices\n',
    );
  });

  it('a static region refuses -a (the align file is read-only)', () => {
    const { m } = devdax();
    const r = run('daxctl reconfigure-device -a 4096 dax0.0', m);
    expect(r.stderr).toBe('error reconfiguring devices: Permission denied\nreconfigured 0 devices\n');
    expect(run('daxctl list', m).stdout).toBe(DEV_DEVDAX);
  });

  it('ndctl_dax_has_active_memory(): true exactly while a kmem block of the region is online', () => {
    const { m } = devdax();
    const fs = machineFs(m);
    const nd = '/sys/devices/platform/e820_pmem/ndbus0/region0/dax0.0';
    expect(daxHasActiveMemory(fs, nd)).toBe(false);
    run('daxctl reconfigure-device -N -m system-ram dax0.0', m);
    expect(daxHasActiveMemory(fs, nd)).toBe(false);
    run('echo online_movable > /sys/devices/system/memory/memory35/state', m);
    expect(daxHasActiveMemory(fs, nd)).toBe(true);
    expect(daxHasActiveMemory(fs, '/sys/devices/platform/e820_pmem/ndbus0/region0/dax0.1')).toBe(false);
  });
});
