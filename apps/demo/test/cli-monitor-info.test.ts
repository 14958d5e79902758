// The QEMU monitor's `info`: a bare `info` lists the subcommands as
// `help info` does (help_cmd_dump_one()'s "info NAME PARAMS -- HELP"),
// `info memdev`, `info numa` and `info memory-devices` print QEMU 6.0's text
// for the machine's backends and DIMMs.
import { describe, expect, it } from 'vitest';
import { bootShellMachine as bootMachine } from '../src/commands/shell-machine.js';
import { DEFAULT_MACHINE, type MachineOptions } from '@zonedev/platform';
import { run } from '../src/shell/shell.js';
import { infoHelp, INFO_COMMANDS } from '../src/commands/qemu-monitor.js';

const G = 2 ** 30;
const hotplug: MachineOptions = { ...DEFAULT_MACHINE, ramSize: 2 * G, slots: 4, maxmem: 8 * G, numa: 2 };

const backend = (id: string, size: number): string =>
  `memory backend: ${id}\n  size:  ${size}\n  merge: true\n  dump: true\n  prealloc: false\n  policy: default\n  host nodes: \n`;

describe('info (QEMU monitor)', () => {
  it('lists its subcommands with no argument, sorted, in help_cmd_dump_one() format', () => {
    const list = 'info memdev  -- show memory backends\ninfo memory-devices  -- show memory devices\ninfo numa  -- show NUMA information\n';
    expect(infoHelp()).toBe(list);
    expect(run('info', bootMachine(DEFAULT_MACHINE))).toMatchObject({ status: 0, stdout: list, stderr: '' });
    expect(INFO_COMMANDS.map((c) => c.name)).toEqual([...INFO_COMMANDS.map((c) => c.name)].sort());
  });

  it('rejects an unknown subcommand and extra arguments as HMP does, status 1', () => {
    const m = bootMachine(DEFAULT_MACHINE);
    expect(run('info bogus', m)).toMatchObject({ status: 1, stdout: '', stderr: "unknown command: 'info bogus'\n" });
    expect(run('info numa 1', m)).toMatchObject({
      status: 1,
      stdout: '',
      stderr: 'numa: extraneous characters at the end of line\nTry "help info numa" for more information\n',
    });
  });

  it('info memdev: the boot RAM backend, then each object_add, and an empty line', () => {
    const m = bootMachine(hotplug);
    expect(run('info memdev', m).stdout).toBe(`${backend('pc.ram', 2 * G)}\n`);
    run('object_add memory-backend-ram,id=mem1,size=1G\nobject_add memory-backend-ram,id=mem2,size=512M', m);
    expect(run('info memdev', m).stdout).toBe(`${backend('pc.ram', 2 * G)}${backend('mem1', G)}${backend('mem2', G / 2)}\n`);
    run('object_del mem2', m);
    expect(run('info memdev', m).stdout).toBe(`${backend('pc.ram', 2 * G)}${backend('mem1', G)}\n`);
    const ppc = bootMachine({ ...DEFAULT_MACHINE, platform: 'powerpc' });
    expect(run('info memdev', ppc).stdout).toBe(`${backend('ppc_spapr.ram', 2 * G)}\n`);
  });

  it('info numa: no nodes on a plain pc, the RAM split over the nodes, and each DIMM on its node', () => {
    expect(run('info numa', bootMachine(DEFAULT_MACHINE)).stdout).toBe('0 nodes\n');
    const m = bootMachine(hotplug);
    const before = 'node 0 cpus: 0\nnode 0 size: 1024 MB\nnode 0 plugged: 0 MB\n';
    expect(run('info numa', m).stdout).toBe(`2 nodes\n${before}node 1 cpus:\nnode 1 size: 1024 MB\nnode 1 plugged: 0 MB\n`);
    expect(run('object_add memory-backend-ram,id=mem1,size=1G\ndevice_add pc-dimm,id=dimm1,memdev=mem1,node=1', m).status).toBe(0);
    expect(run('info numa', m).stdout).toBe(`2 nodes\n${before}node 1 cpus:\nnode 1 size: 2048 MB\nnode 1 plugged: 1024 MB\n`);
    // pc with slots gets one implicit node; pseries always has one.
    expect(run('info numa', bootMachine({ ...DEFAULT_MACHINE, slots: 2, maxmem: 4 * G })).stdout).toBe('1 nodes\nnode 0 cpus: 0\nnode 0 size: 2048 MB\nnode 0 plugged: 0 MB\n');
    expect(run('info numa', bootMachine({ ...DEFAULT_MACHINE, platform: 'powerpc' })).stdout).toBe('1 nodes\nnode 0 cpus: 0\nnode 0 size: 2048 MB\nnode 0 plugged: 0 MB\n');
  });

  it('info numa splits an uneven RAM size on the machine alignment (8 MiB on pc), the last node taking the rest', () => {
    const m = bootMachine({ ...hotplug, ramSize: 2 * G + 100 * 2 ** 20, numa: 3 });
    const out = run('info numa', m).stdout;
    // (2148 MiB / 3) rounded down to 8 MiB = 712 MiB; the last node has 2148 - 2 * 712 = 724.
    expect(out).toBe('3 nodes\nnode 0 cpus: 0\nnode 0 size: 712 MB\nnode 0 plugged: 0 MB\nnode 1 cpus:\nnode 1 size: 712 MB\nnode 1 plugged: 0 MB\nnode 2 cpus:\nnode 2 size: 724 MB\nnode 2 plugged: 0 MB\n');
  });

  it('info memory-devices: the plugged DIMMs', () => {
    const m = bootMachine(hotplug);
    expect(run('info memory-devices', m)).toMatchObject({ status: 0, stdout: '' });
    run('object_add memory-backend-ram,id=mem1,size=1G\ndevice_add pc-dimm,id=dimm1,memdev=mem1,node=1', m);
    expect(run('info memory-devices', m).stdout).toBe(
      'Memory device [dimm]: "dimm1"\n  addr: 0x100000000\n  slot: 0\n  node: 1\n  size: 1073741824\n  memdev: /objects/mem1\n  hotplugged: true\n  hotpluggable: true\n',
    );
  });
});

describe('help info (the shell\'s help, for the QEMU monitor)', () => {
  // QEMU 6.0 hmp-commands-info.hx: .name "memdev" .help "show memory backends",
  // "memory-devices" "show memory devices", "numa" "show NUMA information", all
  // with empty .params; help_cmd_dump_one() prints "info NAME PARAMS -- HELP".
  const list = 'info memdev  -- show memory backends\ninfo memory-devices  -- show memory devices\ninfo numa  -- show NUMA information\n';

  it('help info lists every info subcommand, as a bare info does', () => {
    const m = bootMachine(DEFAULT_MACHINE);
    expect(run('help info', m)).toMatchObject({ status: 0, stdout: list, stderr: '' });
    expect(run('info', m).stdout).toBe(run('help info', m).stdout);
  });

  it('help info SUBCOMMAND prints its line; an unknown one is reported on the monitor, status 0', () => {
    const m = bootMachine(DEFAULT_MACHINE);
    expect(run('help info numa', m)).toMatchObject({ status: 0, stdout: 'info numa  -- show NUMA information\n', stderr: '' });
    expect(run('help info memory-devices', m)).toMatchObject({ status: 0, stdout: 'info memory-devices  -- show memory devices\n', stderr: '' });
    expect(run('help info bogus', m)).toMatchObject({ status: 0, stdout: "unknown command: 'info bogus'\n", stderr: '' });
  });

  it('help of a command without topics is still its synopsis, for each name', () => {
    const m = bootMachine(DEFAULT_MACHINE);
    expect(run('help device_del info', m).stdout).toBe(`device_del: device_del ID\n    QEMU monitor: unplug a DIMM (the guest offlines and removes it)\n${list}`);
  });
});
