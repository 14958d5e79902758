import { describe, expect, it } from 'vitest';
import { run } from '../src/shell/shell.js';
import { bootShellMachine as bootMachine } from '../src/commands/shell-machine.js';
import { DEFAULT_MACHINE } from '@zonedev/platform';

const USAGE =
  'BusyBox v1.33.1 multi-call binary.\n\nUsage: devmem ADDRESS [WIDTH [VALUE]]\n\nRead/write from physical address\n\n\tADDRESS\tAddress to act upon\n\tWIDTH\tWidth (8/16/...)\n\tVALUE\tData to be written\n';

describe('bad input on a booted machine', () => {
  it('`echo 0 2> memory10/online` prints 0 and leaves the block online; `echo 0 > ` offlines it', () => {
    const m = bootMachine({ ...DEFAULT_MACHINE });
    const o = '/sys/devices/system/memory/memory10/online';
    expect(run(`echo 0 2> ${o}\ncat ${o}`, m)).toEqual({ status: 0, stdout: '0\n1\n', stderr: '', output: '0\n1\n' });
    expect(run(`echo offline > /sys/devices/system/memory/memory10/state/\ncat ${o}`, m)).toMatchObject({
      status: 0,
      stdout: '1\n',
      stderr: 'zonedev: /sys/devices/system/memory/memory10/state/: Not a directory\n',
    });
    expect(run(`echo 0 > ${o}\ncat ${o}`, m)).toEqual({ status: 0, stdout: '0\n', stderr: '', output: '0\n' });
  });
  it("`echo 'add x' > uevent` is refused as kobject_synth_uevent() refuses a bad UUID", () => {
    const m = bootMachine({ ...DEFAULT_MACHINE });
    const u = '/sys/devices/system/memory/memory10/uevent';
    const r = run(`echo 'add x' > ${u}`, m);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('zonedev: echo: write error: Invalid argument\n');
    expect(run(`echo 'add 0f8c32b5-1b1e-4f0e-9d7a-5a0e2b3c4d5e SYNTH=1' > ${u}`, m).status).toBe(0);
  });
  it('`page PFN` of an offlined block says the struct page is poisoned, as dump_page() does', () => {
    const m = bootMachine({ ...DEFAULT_MACHINE });
    run('echo 0 > /sys/devices/system/memory/memory10/online', m);
    const r = run('page 0x50001', m);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n').slice(0, 3)).toEqual([
      '*(struct page *)0xffffea0001400040: pfn 0x50001, phys 0x50001000',
      '  page:0xffffea0001400040 is uninitialized and poisoned',
      'section: 10 (present, has memmap, offline, early) of memory10, node 0',
    ]);
    expect(r.stdout).not.toMatch(/BUG|node 1024/);
    // Online again: the memmap is initialized and decoded.
    const back = run('echo 1 > /sys/devices/system/memory/memory10/online\npage 0x50001', m);
    expect(back.stdout).toMatch(/^ {2}flags {6}0x/m);
    expect(back.stdout).not.toMatch(/poisoned/);
  });
  it('`page` refuses pfns beyond an unsigned long, and never rounds a large one', () => {
    const m = bootMachine({ ...DEFAULT_MACHINE });
    expect(run('page 9007199254740993', m)).toEqual({
      status: 1,
      stdout: '',
      stderr: 'page: pfn 0x20000000000001: pfn_valid() is false: no struct page\n',
      output: 'page: pfn 0x20000000000001: pfn_valid() is false: no struct page\n',
    });
    expect(run('page 18446744073709551615', m)).toMatchObject({ status: 1, stderr: 'page: pfn 0xffffffffffffffff: pfn_valid() is false: no struct page\n' });
    expect(run('page 18446744073709551616', m)).toMatchObject({ status: 2, stderr: "page: invalid pfn '18446744073709551616': Numerical result out of range\n" });
    expect(run('page 0x10000000000000000', m)).toMatchObject({ status: 2, stderr: "page: invalid pfn '0x10000000000000000': Numerical result out of range\n" });
    expect(run('page 1.5', m)).toMatchObject({ status: 2, stderr: "page: invalid pfn '1.5'\n" });
  });
  it('devmem WIDTH as busybox parses it: xatou() for numbers, b/h/w/l letters, "bad width" at the access', () => {
    const m = bootMachine({ ...DEFAULT_MACHINE });
    const err = (cmd: string): string => run(cmd, m).stderr;
    expect(run('devmem 0x1000 l 0x1122334455667788\ndevmem 0x1000 W', m).stdout).toBe('0x55667788\n');
    expect(run('devmem 0x1000 b', m).stdout).toBe('0x88\n');
    expect(err('devmem 0x1000 7')).toBe('devmem: bad width\n');
    expect(err('devmem 0x1000 12 0x55')).toBe('devmem: bad width\n');
    expect(err('devmem 0x1000 q')).toBe('devmem: bad width\n');
    expect(err('devmem 0x1000 0x20')).toBe("devmem: invalid number '0x20'\n");
    expect(err('devmem 0x1000 99999999999')).toBe('devmem: number 99999999999 is not in 0..4294967295 range\n');
    // xatou() dies before the bad ADDRESS or VALUE shows the usage.
    expect(err('devmem zz 1x')).toBe("devmem: invalid number '1x'\n");
    expect(err('devmem zz')).toBe(USAGE);
    expect(err('devmem 0x1000 32 zz')).toBe(USAGE);
    expect(run('devmem 0x1000 7 0x55\ndevmem 0x1000 64', m).stdout).toBe('0x1122334455667788\n');
  });
  it('devmem refuses values and addresses of 2^64 or more (bb_strtoull ERANGE: usage) and writes nothing', () => {
    const m = bootMachine({ ...DEFAULT_MACHINE });
    expect(run('devmem 0x1000 64 0x1122334455667788\ndevmem 0x1000 64 18446744073709551616\ndevmem 0x1000 64', m)).toEqual({
      status: 0,
      stdout: '0x1122334455667788\n',
      stderr: USAGE,
      output: `${USAGE}0x1122334455667788\n`,
    });
    expect(run('devmem 0x1000 64 0x10000000000000000\ndevmem 0x1000 64', m)).toMatchObject({ stdout: '0x1122334455667788\n', stderr: USAGE });
    expect(run('devmem 18446744073709551616', m)).toEqual({ status: 1, stdout: '', stderr: USAGE, output: USAGE });
    expect(run('devmem 0x1000 64 18446744073709551615\ndevmem 0x1000 64', m)).toMatchObject({ status: 0, stdout: '0xFFFFFFFFFFFFFFFF\n', stderr: '' });
  });
  it('boots with mem=16E (memparse() wraps to 0: malformed) and an empty memmap_on_memory= (invalid, left off)', () => {
    const m = bootMachine({ ...DEFAULT_MACHINE, cmdline: 'mem=16E memory_hotplug.memmap_on_memory=' });
    const log = run('dmesg', m).stdout.split('\n').map((l) => l.replace(/^\[[ 0-9.]+\] /, ''));
    expect(log).toContain("Malformed early option 'mem'");
    expect(log).toContain("Booting kernel: `' invalid for parameter `memory_hotplug.memmap_on_memory'");
    expect(run('lsmem', m).stdout).toMatch(/Total online memory: {7}2G/);
  });
});
