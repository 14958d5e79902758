// A DIMM and memory the guest added through the probe file over the same
// range, in either order: the DIMM's unplug removes only what its own
// __add_memory() added, and the bytes the user stored in the probed memory
// stay readable where they were written.
import { describe, expect, it } from 'vitest';
import { parseRunArgs } from '../src/args.js';
import { bootShellMachine as bootMachine } from '../src/commands/shell-machine.js';
import { Shell } from '../src/shell/shell.js';
import { fuzzRun } from './fuzz/run.js';

function session(opts: string[]): (line: string) => string {
  const args = parseRunArgs('run', opts);
  if ('error' in args) throw new Error(args.error);
  if (!('machine' in args)) throw new Error('no machine options');
  const m = bootMachine(args.machine);
  let text = '';
  const sink = { write: (t: string): void => void (text += t) };
  const shell = new Shell(m, { strict: false, stdout: sink, stderr: sink });
  return (line: string): string => {
    text = '';
    shell.execLine(line);
    return text.replace(/^\[ *[0-9]+\.[0-9]+\] /gm, '');
  };
}

const X86 = ['-m', '4G,slots=4,maxmem=8G'];
const PROBE = '/sys/devices/system/memory/probe';

describe('x86_64: a DIMM plugged exactly over a probed block (-EEXIST)', () => {
  it('attaches (the range counts as enabled); its unplug leaves the probed block, its state and its data', () => {
    const sh = session(X86);
    expect(sh(`echo 0x148000000 > ${PROBE}`)).toBe('');
    expect(sh('echo online_movable > /sys/devices/system/memory/memory41/state')).toBe('');
    sh('devmem 0x148000000 64 0x1122334455667788');
    const lsmem = sh('lsmem');
    const iomem = sh('cat /proc/iomem');
    sh('object_add memory-backend-ram,id=mem1,size=128M');
    // acpi_memory_enable_device(): -EEXIST over blocks memory hotplug added is enabled: no error.
    expect(sh('device_add pc-dimm,id=dimm1,memdev=mem1,addr=0x148000000')).toBe('');
    expect(sh('info memory-devices')).toContain('addr: 0x148000000');
    expect(sh('devmem 0x148000000 64')).toBe('0x1122334455667788\n');
    expect(sh('device_del dimm1')).toBe('');
    expect(sh('info memory-devices')).toBe('');
    expect(sh('object_del mem1')).toBe('');
    expect(sh('lsmem')).toBe(lsmem);
    expect(sh('cat /sys/devices/system/memory/memory41/state')).toBe('online\n');
    expect(sh('cat /proc/iomem')).toBe(iomem);
    expect(sh('devmem 0x148000000 64')).toBe('0x1122334455667788\n');
    // The block is still the probe file's: it offlines and is removable as before.
    expect(sh('echo offline > /sys/devices/system/memory/memory41/state')).toBe('');
  });

  it('a DIMM that added its own range still offlines and removes it on unplug', () => {
    const sh = session(X86);
    const lsmem = sh('lsmem');
    sh('object_add memory-backend-ram,id=mem1,size=128M');
    expect(sh('device_add pc-dimm,id=dimm1,memdev=mem1,addr=0x148000000')).toBe('');
    expect(sh('lsmem -o RANGE,STATE')).toContain('0x0000000148000000-0x000000014fffffff offline');
    expect(sh('device_del dimm1')).toBe('');
    expect(sh('lsmem')).toBe(lsmem);
    expect(sh('cat /sys/devices/system/memory/memory41/state')).toContain('No such file or directory');
  });
});

describe('x86_64: a block probed inside a DIMM the guest refused', () => {
  it('keeps the bytes the user stored after the DIMM is ejected', () => {
    const sh = session(X86);
    sh('object_add memory-backend-ram,id=mem1,size=100M');
    expect(sh('device_add pc-dimm,id=dimm1,memdev=mem1')).toContain('acpi PNP0C80:00: acpi_memory_enable_device() error\n');
    expect(sh(`echo 0x140000000 > ${PROBE}`)).toBe('');
    sh('devmem 0x140000000 64 0x1122334455667788');
    // A page past the DIMM's 100 MiB, in the same block.
    sh('devmem 0x147fff000 32 0xcafef00d');
    const lsmem = sh('lsmem');
    expect(sh('device_del dimm1')).toBe('');
    expect(sh('info memory-devices')).toBe('');
    expect(sh('devmem 0x140000000 64')).toBe('0x1122334455667788\n');
    expect(sh('devmem 0x147fff000 32')).toBe('0xCAFEF00D\n');
    expect(sh('lsmem')).toBe(lsmem);
    // The backend is free and keeps its own copy for a re-plug.
    expect(sh('object_del mem1')).toBe('');
    expect(sh('devmem 0x140000000 64')).toBe('0x1122334455667788\n');
  });

  it("a process's page in the probed block survives the eject", () => {
    const commands = [
      'object_add memory-backend-ram,id=mem1,size=100M',
      'device_add pc-dimm,id=dimm1,memdev=mem1',
      'echo 0x140000000 > /sys/devices/system/memory/probe',
      'echo online_movable > /sys/devices/system/memory/memory40/state',
      'process start',
      'process mmap 100 4K',
      'process write 100 0x7ffff7ffe000 hello',
      'device_del dimm1',
      'process read 100 0x7ffff7ffe000 5',
    ];
    const r = fuzzRun(1, 0, { machine: 0, commands });
    expect(r.finding).toBeUndefined();
    expect(r.skipped).toBe(0);
    expect(r.commands).toBe(commands.length);
  });
});

describe('the fuzzer replays both findings without a problem', () => {
  it('probe, then a DIMM over the probed block, then its unplug', () => {
    const commands = [
      'echo 0x148000000 > /sys/devices/system/memory/probe',
      'object_add memory-backend-ram,id=mem1,size=128M',
      'device_add pc-dimm,id=dimm1,memdev=mem1,addr=0x148000000',
      'device_del dimm1',
    ];
    const r = fuzzRun(1, 0, { machine: 0, commands });
    expect(r.finding).toBeUndefined();
    expect(r.skipped).toBe(0);
  });
});
