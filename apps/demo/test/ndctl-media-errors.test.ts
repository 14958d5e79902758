// Media errors through ndctl v72 on the e820 (memmap=nn!ss) machine: a media
// error the platform reports (the bus's badrange) in `ndctl list -M` with
// ndctl's badblock_count and badblocks records, a read of /dev/pmem0 over it
// failing, and `ndctl inject-error` refusing as it does on a bus without the
// NFIT injection functions — with its option checks and messages.
import { describe, expect, it } from 'vitest';
import { SZ_4G } from '@zonedev/kernel';
import { bootShellMachine as bootMachine, type DemoShellMachine as ZonedevMachine } from '../src/commands/shell-machine.js';
import { DEFAULT_MACHINE } from '@zonedev/platform';
import { machineFs, run } from '../src/shell/shell.js';

function e820(): ZonedevMachine {
  return bootMachine({ ...DEFAULT_MACHINE, ramSize: SZ_4G, maxmem: SZ_4G, cmdline: 'memmap=1G!4G' });
}

describe('ndctl list --media-errors', () => {
  it('shows the region\'s and the namespace\'s badblocks; /dev/pmem0 reads over them fail', () => {
    const m = e820();
    m.nvdimm.addBadrange(SZ_4G + 4096, 1024);
    const r = run('ndctl list -RN -M', m);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as { regions: Record<string, unknown>[] } | Record<string, unknown>[];
    const region = (Array.isArray(j) ? j[0] : j.regions[0]) as { badblock_count: number; badblocks: unknown[]; namespaces: { badblock_count: number; badblocks: unknown[] }[] };
    expect(region.badblock_count).toBe(2);
    expect(region.badblocks).toEqual([{ offset: 8, length: 2 }]);
    expect(region.namespaces[0]!.badblock_count).toBe(2);
    expect(machineFs(m).read('/sys/block/pmem0/badblocks')).toBe('8 2\n');
    const d = run('head -c 16 /dev/pmem0', m);
    expect(d.status).toBe(0);
    const dd = run('dd if=/dev/pmem0 of=/dev/null bs=512 skip=8 count=1', m);
    expect(dd.status).toBe(1);
    expect(dd.stderr).toContain('Input/output error');
  });
});

describe('ndctl inject-error', () => {
  it('refuses on a bus without error injection, after finding the namespace', () => {
    const m = e820();
    const snap = machineFs(m).read('/sys/bus/nd/devices/region0/badblocks');
    const r = run('ndctl inject-error namespace0.0 -B 8 -n 1', m);
    expect(r.stderr).toBe('namespace0.0: error injection not supported\n');
    expect(r.status).toBe(256 - 95);
    expect(machineFs(m).read('/sys/bus/nd/devices/region0/badblocks')).toBe(snap);
    expect(run('ndctl inject-error namespace9.9 -B 8 -n 1', m)).toMatchObject({ status: 256 - 6, stderr: 'Error: namespace9.9: no such namespace\n' });
  });

  it('checks its options as inject_init() does', () => {
    const m = e820();
    expect(run('ndctl inject-error namespace0.0', m)).toMatchObject({ status: 256 - 22, stderr: 'Error: block and count required for inject/uninject\n' });
    expect(run('ndctl inject-error namespace0.0 -d -t', m).stderr).toBe('Error: status is invalid with inject or uninject\n');
    expect(run('ndctl inject-error namespace0.0 -t -B 1', m).stderr).toBe('Error: status is invalid with inject or uninject\n');
    expect(run('ndctl inject-error namespace0.0 -B x -n 1', m).stderr).toBe('Error: Invalid block: x\n');
    const u = run('ndctl inject-error -B 1 -n 1', m);
    expect(u.status).toBe(129);
    expect(u.stderr.startsWith('Error: specify a namespace to inject error to\n\n usage: ndctl inject-error <namespace> [<options>]\n')).toBe(true);
    expect(run('ndctl --list-cmds', m).stdout.split('\n')).toContain('inject-error');
  });
});
