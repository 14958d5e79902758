// `page PFN` at the edges the reliability issue names: a struct page that
// offlining poisoned is reported the way dump_page() (mm/debug.c) reports it,
// never decoded into a nonsense node or zone; pfns beyond 2^53 are read as
// bigints and never rounded onto a different pfn; 2^64 and above are
// ERANGE, as kstrtoul() says.
import { describe, expect, it } from 'vitest';
import { DEFAULT_MACHINE } from '@zonedev/platform';
import { run } from '../src/shell/shell.js';
import { bootShellMachine } from '../src/commands/shell-machine.js';

describe('page PFN of a poisoned struct page', () => {
  it('on powerpc: an offlined block is "uninitialized and poisoned", not decoded', () => {
    const m = bootShellMachine({ ...DEFAULT_MACHINE, platform: 'powerpc' });
    const blocks = run('ls /sys/devices/system/memory', m).stdout.split(/\s+/).filter((b) => /^memory\d+$/.test(b));
    const nrs = blocks.map((b) => Number(b.slice(6))).sort((a, b) => b - a);
    const bs = Number.parseInt(run('cat /sys/devices/system/memory/block_size_bytes', m).stdout, 16);
    // the highest block that offlines (the low ones hold the kernel's unmovable pages)
    const last = nrs.find((nr) => run(`echo offline > /sys/devices/system/memory/memory${nr}/state`, m).status === 0);
    expect(last).toBeDefined();
    const pfn = (last! * bs) / 65536 + 1; // 64K pages
    const r = run(`page 0x${pfn.toString(16)}`, m);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')[1]).toMatch(/^ {2}page:0x[0-9a-f]+ is uninitialized and poisoned$/);
    expect(r.stdout).not.toMatch(/BUG|node 1024|flags {6}0x/);
  });

  it('--json gives state "poisoned" and no decoded fields; online again, the page is decoded', () => {
    const m = bootShellMachine({ ...DEFAULT_MACHINE });
    run('echo 0 > /sys/devices/system/memory/memory12/online', m);
    const pfn = (12 * 128 * 2 ** 20) / 4096 + 7;
    const j = JSON.parse(run(`page --json 0x${pfn.toString(16)}`, m).stdout) as Record<string, unknown>;
    expect(j.state).toBe('poisoned');
    expect(j.pfn).toBe(pfn);
    expect(j).not.toHaveProperty('flags');
    expect(j).not.toHaveProperty('zone');
    run('echo 1 > /sys/devices/system/memory/memory12/online', m);
    const k = JSON.parse(run(`page --json 0x${pfn.toString(16)}`, m).stdout) as Record<string, unknown>;
    expect(k.state).not.toBe('poisoned');
    expect(k).toHaveProperty('zone');
  });
});

describe('page PFN beyond 2^53', () => {
  it('2^53, 2^53 + 1 and 2^64 - 1 are each named exactly, none rounded; 2^64 is ERANGE', () => {
    const m = bootShellMachine({ ...DEFAULT_MACHINE });
    const nope = (hex: string): string => `page: pfn 0x${hex}: pfn_valid() is false: no struct page\n`;
    expect(run('page 9007199254740992', m)).toMatchObject({ status: 1, stderr: nope('20000000000000') });
    expect(run('page 0x20000000000001', m)).toMatchObject({ status: 1, stderr: nope('20000000000001') });
    expect(run('page 0x20000000000003', m)).toMatchObject({ status: 1, stderr: nope('20000000000003') });
    expect(run('page 01777777777777777777777', m)).toMatchObject({ status: 1, stderr: nope('ffffffffffffffff') });
    expect(run('page 18446744073709551617', m)).toMatchObject({ status: 2, stderr: "page: invalid pfn '18446744073709551617': Numerical result out of range\n" });
    expect(run('page -1', m)).toMatchObject({ status: 2, stderr: "page: invalid pfn '-1'\n" });
  });
});
