// coreutils dd and head on the demo's /dev: records in/out, the byte summary
// with gnulib's human_readable(), offsets with seek=/skip=, the end of a
// block device, and dd's and head's messages for bad operands.
import { describe, expect, it } from 'vitest';
import { SZ_4G } from '@zonedev/kernel';
import { bootShellMachine as bootMachine, type DemoShellMachine as ZonedevMachine } from '../src/commands/shell-machine.js';
import { DEFAULT_MACHINE } from '@zonedev/platform';
import { machineFs, run } from '../src/shell/shell.js';
import { humanReadable, parseDdNumber } from '../src/shell/coreutils/dd.js';

function machine(cmdline = 'memmap=1G!4G'): ZonedevMachine {
  return bootMachine({ ...DEFAULT_MACHINE, ramSize: SZ_4G, maxmem: SZ_4G, cmdline });
}

describe('gnulib human_readable() as dd prints it', () => {
  it('scales by 1000 (SI) and 1024 (IEC), one decimal below 10, rounding to nearest', () => {
    expect(humanReadable(512, 1000)).toBe('512 B');
    expect(humanReadable(4096, 1000)).toBe('4.1 kB');
    expect(humanReadable(4096, 1024)).toBe('4.0 KiB');
    expect(humanReadable(1000, 1000)).toBe('1.0 kB');
    expect(humanReadable(1000, 1024)).toBe('1000 B');
    expect(humanReadable(2 ** 30, 1000)).toBe('1.1 GB');
    expect(humanReadable(2 ** 30, 1024)).toBe('1.0 GiB');
    expect(humanReadable(12288, 1000)).toBe('12 kB');
    expect(humanReadable(1048576, 1000)).toBe('1.0 MB');
    expect(humanReadable(999999, 1000)).toBe('1.0 MB');
  });

  it('parses dd numbers with their multipliers', () => {
    expect(parseDdNumber('4096')).toBe(4096);
    expect(parseDdNumber('4K')).toBe(4096);
    expect(parseDdNumber('4kB')).toBe(4000);
    expect(parseDdNumber('1M')).toBe(2 ** 20);
    expect(parseDdNumber('2b')).toBe(1024);
    expect(parseDdNumber('2x512')).toBe(1024);
    expect(parseDdNumber('3w')).toBe(6);
    for (const bad of ['', 'x', '4k', '-1', '1.5M', '4Q']) expect(parseDdNumber(bad)).toBeUndefined();
  });
});

describe('dd', () => {
  it('reads standard input without if=: a pipe of 11 bytes is one partial record; skip= reads past blocks of it', () => {
    const m = machine();
    const r = run("echo 'sector one' | dd of=/dev/pmem0 bs=4096 seek=1", m);
    expect(r).toMatchObject({ status: 0, stdout: '', stderr: '0+1 records in\n0+1 records out\n11 bytes copied, 0 s, Infinity B/s\n' });
    expect(new TextDecoder().decode(machineFs(m).pread!('/dev/pmem0', 4096, 12))).toBe('sector one\n\0');
    const s = run('echo abcdefgh | dd bs=3 skip=1 count=1', m);
    expect(s).toMatchObject({ status: 0, stdout: 'def', stderr: '1+0 records in\n1+0 records out\n3 bytes copied, 0 s, Infinity B/s\n' });
    expect(run('dd of=/dev/null < /proc/cmdline', m).stderr).toMatch(/^0\+1 records in\n0\+1 records out\n/);
    expect(run('true | dd of=/dev/null', m).stderr).toBe('0+0 records in\n0+0 records out\n0 bytes copied, 0 s, Infinity B/s\n');
  });

  it('copies whole records and reports them, with the time of a clock that did not move', () => {
    const m = machine();
    const r = run('dd if=/dev/zero of=/dev/null bs=4096 count=3', m);
    expect(r).toMatchObject({
      status: 0,
      stdout: '',
      stderr: '3+0 records in\n3+0 records out\n12288 bytes (12 kB, 12 KiB) copied, 0 s, Infinity B/s\n',
    });
    expect(run('dd if=/dev/zero of=/dev/null bs=1 count=1', m).stderr).toBe('1+0 records in\n1+0 records out\n1 byte copied, 0 s, Infinity B/s\n');
    expect(run('dd if=/dev/zero of=/dev/null count=0', m).stderr).toBe('0+0 records in\n0+0 records out\n0 bytes copied, 0 s, Infinity B/s\n');
    expect(run('dd if=/dev/zero of=/dev/null bs=1000 count=1 status=noxfer', m).stderr).toBe('1+0 records in\n1+0 records out\n');
    expect(run('dd if=/dev/zero of=/dev/null bs=1000 count=1 status=none', m).stderr).toBe('');
  });

  it('writes at seek= and reads at skip= on /dev/pmem0, and conv=notrunc leaves the rest', () => {
    const m = machine();
    const fs = machineFs(m);
    expect(run("echo 'Hello, pmem' > /dev/pmem0", m).status).toBe(0);
    const r = run('dd if=/dev/pmem0 of=/dev/pmem0 bs=4096 count=1 seek=256 conv=notrunc', m);
    expect(r.stderr).toBe('1+0 records in\n1+0 records out\n4096 bytes (4.1 kB, 4.0 KiB) copied, 0 s, Infinity B/s\n');
    expect(new TextDecoder().decode(fs.pread!('/dev/pmem0', 2 ** 20, 12))).toBe('Hello, pmem\n');
    expect(run('dd if=/dev/pmem0 bs=7 skip=1 count=1', m)).toMatchObject({ stdout: 'pmem\n\0\0', stderr: '1+0 records in\n1+0 records out\n7 bytes copied, 0 s, Infinity B/s\n' });
    // A partial record at the end of the input: 0+1.
    expect(run('dd if=/proc/cmdline of=/dev/pmem0 bs=512 seek=1', m).stderr).toBe('0+1 records in\n0+1 records out\n13 bytes copied, 0 s, Infinity B/s\n');
    expect(new TextDecoder().decode(fs.pread!('/dev/pmem0', 512, 13))).toBe('memmap=1G!4G\n');
    // ibs/obs reblocking: 3 input records of 2 bytes make one output record of 4 and a partial of 2.
    expect(run('dd if=/dev/pmem0 of=/dev/null ibs=2 obs=4 count=3', m).stderr).toBe('3+0 records in\n1+1 records out\n6 bytes copied, 0 s, Infinity B/s\n');
  });

  it('stops at the end of the block device: a short record, then No space left on device', () => {
    const m = machine();
    const size = 2 ** 30;
    const last = size / 4096 - 1;
    const r = run(`dd if=/dev/zero of=/dev/pmem0 bs=4096 seek=${last} count=2`, m);
    expect(r.stderr).toBe(
      "dd: error writing '/dev/pmem0': No space left on device\n2+0 records in\n1+0 records out\n4096 bytes (4.1 kB, 4.0 KiB) copied, 0 s, Infinity B/s\n",
    );
    expect(r.status).toBe(1);
    expect(run(`dd if=/dev/pmem0 of=/dev/null bs=4096 skip=${last} count=5`, m).stderr).toBe(
      '1+0 records in\n1+0 records out\n4096 bytes (4.1 kB, 4.0 KiB) copied, 0 s, Infinity B/s\n',
    );
  });

  it("refuses bad operands in coreutils' words", () => {
    const m = machine();
    const cases: [string, string][] = [
      ['dd if=/dev/nope of=/dev/null', "dd: failed to open '/dev/nope': No such file or directory\n"],
      ['dd if=/dev/zero of=/dev/nope count=1', "dd: failed to open '/dev/nope': Permission denied\n"],
      ['dd bs=0', "dd: invalid number: '0'\n"],
      ['dd count=1x', "dd: invalid number: '1x'\n"],
      ['dd foo', "dd: unrecognized operand 'foo'\nTry 'dd --help' for more information.\n"],
      ['dd bar=1', "dd: unrecognized operand 'bar=1'\nTry 'dd --help' for more information.\n"],
      ['dd conv=sideways', "dd: invalid conversion: 'sideways'\nTry 'dd --help' for more information.\n"],
      ['dd status=loud', "dd: invalid status level: 'loud'\nTry 'dd --help' for more information.\n"],
    ];
    const before = Buffer.from(machineFs(m).pread!('/dev/pmem0', 0, 4096)).toString('hex');
    for (const [cmd, err] of cases) expect(run(cmd, m), cmd).toMatchObject({ status: 1, stdout: '', stderr: err });
    expect(Buffer.from(machineFs(m).pread!('/dev/pmem0', 0, 4096)).toString('hex')).toBe(before);
  });
});

describe('head', () => {
  it('prints the first bytes or lines of a device or a file', () => {
    const m = machine();
    run("echo -e 'one\\ntwo\\nthree' > /dev/pmem0", m);
    expect(run('head -c 3 /dev/pmem0', m).stdout).toBe('one');
    expect(run('head -c3 /dev/pmem0', m).stdout).toBe('one');
    expect(run('head --bytes=7 /dev/pmem0', m).stdout).toBe('one\ntwo');
    expect(run('head -n 2 /dev/pmem0', m).stdout).toBe('one\ntwo\n');
    expect(run('head -n 1 /proc/cmdline /dev/pmem0', m).stdout).toBe('==> /proc/cmdline <==\nmemmap=1G!4G\n\n==> /dev/pmem0 <==\none\n');
    expect(run('head -c -12 /proc/cmdline', m).stdout).toBe('m');
  });

  it("refuses what coreutils refuses", () => {
    const m = machine();
    expect(run('head -c x /dev/pmem0', m)).toMatchObject({ status: 1, stderr: "head: invalid number of bytes: 'x'\n" });
    expect(run('head -n 1Q /dev/pmem0', m)).toMatchObject({ status: 1, stderr: "head: invalid number of lines: '1Q'\n" });
    expect(run('head -c 1 /dev/nope', m)).toMatchObject({ status: 1, stderr: "head: cannot open '/dev/nope' for reading: No such file or directory\n" });
    expect(run('head -c', m)).toMatchObject({ status: 1, stderr: "head: option requires an argument -- 'c'\nTry 'head --help' for more information.\n" });
  });
});
