import { describe, expect, it } from 'vitest';
import { run } from '../src/shell/shell.js';
import { quotef } from '../src/shell/builtins.js';
import { fakeMachine, fakeMemorySysfs, range } from './helpers.js';

const S = '/sys/devices/system/memory/memory1/state';

function machine(): { m: ReturnType<typeof fakeMachine>; writes: string[] } {
  const { fs, writes } = fakeMemorySysfs(0x8000000, range(0, 2, 'online', { zones: 'Normal', node: 0 }));
  return { m: fakeMachine(fs, { '/proc/cmdline': 'quiet\n' }), writes };
}

/** Runs one line: its status and what a terminal shows. */
function line(m: ReturnType<typeof fakeMachine>, l: string): [number, string] {
  const r = run(l, m);
  return [r.status, r.output];
}

describe('paths resolve as the kernel’s path walk does', () => {
  it('a trailing / or /. (or any name) after a regular file is ENOTDIR, for reads and for writes', () => {
    const { m, writes } = machine();
    expect(line(m, `cat ${S}/`)).toEqual([1, `cat: ${S}/: Not a directory\n`]);
    expect(line(m, `cat ${S}/.`)).toEqual([1, `cat: ${S}/.: Not a directory\n`]);
    expect(line(m, `cat ${S}/x`)).toEqual([1, `cat: ${S}/x: Not a directory\n`]);
    expect(line(m, 'cat /proc/cmdline/')).toEqual([1, 'cat: /proc/cmdline/: Not a directory\n']);
    expect(line(m, `ls ${S}/`)).toEqual([2, `ls: cannot access '${S}/': Not a directory\n`]);
    expect(line(m, `echo offline > ${S}/`)).toEqual([1, `zonedev: ${S}/: Not a directory\n`]);
    expect(line(m, `echo offline > ${S}/.`)).toEqual([1, `zonedev: ${S}/.: Not a directory\n`]);
    expect(line(m, `echo offline 2> ${S}/`)).toEqual([1, `zonedev: ${S}/: Not a directory\n`]);
    expect(writes).toEqual([]);
    expect(line(m, `cat ${S}`)).toEqual([0, 'online\n']);
  });
  it('writing to a directory is EISDIR, also a new name with a trailing slash', () => {
    const { m, writes } = machine();
    expect(line(m, 'echo x > /sys/devices/system/memory')).toEqual([1, 'zonedev: /sys/devices/system/memory: Is a directory\n']);
    expect(line(m, 'echo x > /sys/devices/system/memory/')).toEqual([1, 'zonedev: /sys/devices/system/memory/: Is a directory\n']);
    expect(line(m, 'echo x > /sys/devices/system/memory/new/')).toEqual([1, 'zonedev: /sys/devices/system/memory/new/: Is a directory\n']);
    expect(line(m, 'echo x > /')).toEqual([1, 'zonedev: /: Is a directory\n']);
    expect(line(m, 'echo x > /sys/devices/system/memory/new')).toEqual([1, 'zonedev: /sys/devices/system/memory/new: Permission denied\n']);
    expect(writes).toEqual([]);
  });
  it("the empty name is ENOENT, quoted as coreutils' quotef() does", () => {
    const { m } = machine();
    expect(line(m, "cat ''")).toEqual([1, "cat: '': No such file or directory\n"]);
    expect(line(m, "cat 'a b'")).toEqual([1, "cat: 'a b': No such file or directory\n"]);
    expect(line(m, "ls ''")).toEqual([2, "ls: cannot access '': No such file or directory\n"]);
    expect(line(m, "echo x > ''")).toEqual([1, 'zonedev: : No such file or directory\n']);
    expect(quotef('')).toBe("''");
    expect(quotef('/sys/x-1_2.3')).toBe('/sys/x-1_2.3');
    expect(quotef("it's")).toBe("'it'\\''s'");
    expect(quotef('#x')).toBe("'#x'");
    expect(quotef('x#')).toBe('x#');
  });
  it('.. at / stays at /; /sys/.. is /; .. after a symlink leaves its target', () => {
    const { m } = machine();
    expect(line(m, 'ls /..')).toEqual([0, 'proc\nsys\n']);
    expect(line(m, 'ls /sys/..')).toEqual([0, 'proc\nsys\n']);
    expect(line(m, 'ls /proc/../..')).toEqual([0, 'proc\nsys\n']);
    expect(line(m, 'ls /sys/../proc')).toEqual([0, 'cmdline\n']);
    expect(line(m, 'cat /../sys/../proc/cmdline')).toEqual([0, 'quiet\n']);
    expect(line(m, 'ls /../sys/devices/system/memory/..')).toEqual([0, 'memory\nnode\n']);
    // node0 is a link to /sys/devices/system/node/node0: its .. is .../node, where there is no state.
    expect(line(m, 'cat /sys/devices/system/memory/memory0/node0/../state')).toEqual([1, 'cat: /sys/devices/system/memory/memory0/node0/../state: No such file or directory\n']);
    expect(line(m, 'ls /sys/devices/system/memory/memory0/node0/..')).toEqual([0, 'node0\n']);
    expect(line(m, 'ls /nope/')).toEqual([2, "ls: cannot access '/nope/': No such file or directory\n"]);
    expect(line(m, 'cat /nope/x')).toEqual([1, 'cat: /nope/x: No such file or directory\n']);
  });
});
