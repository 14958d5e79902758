import { describe, expect, it } from 'vitest';
import { parseLine } from '../src/shell/parse.js';
import { run } from '../src/shell/shell.js';
import { parseMmCmdline } from '@zonedev/platform';
import { fakeMachine, fakeMemorySysfs, range } from './helpers.js';

function machine(): ReturnType<typeof fakeMachine> {
  const { fs } = fakeMemorySysfs(0x8000000, range(0, 2, 'online', { zones: 'Normal', node: 0 }));
  return fakeMachine(fs, { '/proc/cmdline': 'quiet\n' });
}

describe('shell words as bash reads them', () => {
  it('NAME=value before the command is an assignment, not the command', () => {
    expect(parseLine('x=1 y_2=a=b echo hi')).toEqual({ kind: 'command', words: ['echo', 'hi'], redirections: [], assignments: ['x=1', 'y_2=a=b'] });
    expect(parseLine('echo x=1')).toEqual({ kind: 'command', words: ['echo', 'x=1'], redirections: [] });
    const m = machine();
    expect(run('x=1 echo hi', m)).toEqual({ status: 0, stdout: 'hi\n', stderr: '', output: 'hi\n' });
    expect(run('x=1', m)).toEqual({ status: 0, stdout: '', stderr: '', output: '' });
    // Quoted, or not a name: a word like any other.
    expect(run("'x'=1 echo", m)).toMatchObject({ status: 127, stderr: 'zonedev: x=1: command not found\n' });
    expect(run('1x=1 echo', m)).toMatchObject({ status: 127, stderr: 'zonedev: 1x=1: command not found\n' });
  });
  it('echo -e knows \\xHH, \\0nnn, \\uHHHH and \\c as bash’s ansicstr() does', () => {
    const m = machine();
    expect(run("echo -e '\\x41\\x4a|\\x4G|\\x|\\0101|\\0|\\1|\\u00e9|\\q'", m).stdout).toBe('AJ|\x04G|\\x|A|\0|\\1|\u00e9|\\q\n');
    expect(run("echo -e 'a\\cb'", m).stdout).toBe('a');
    expect(run("echo '\\x41'", m).stdout).toBe('\\x41\n');
    expect(run("echo -eE '\\x41'", m).stdout).toBe('\\x41\n');
  });
  it('exit: too many arguments goes on (status 1); a number out of intmax_t range exits 2', () => {
    const m = machine();
    expect(run('exit 1 2\necho $?', m)).toEqual({ status: 0, stdout: '1\n', stderr: 'zonedev: exit: too many arguments\n', output: 'zonedev: exit: too many arguments\n1\n' });
    expect(run('exit 99999999999999999999\necho no', m)).toEqual({
      status: 2,
      stdout: '',
      stderr: 'zonedev: exit: 99999999999999999999: numeric argument required\n',
      output: 'zonedev: exit: 99999999999999999999: numeric argument required\n',
    });
    expect(run('exit 9223372036854775807', m).status).toBe(255);
    expect(run('exit -9223372036854775808', m).status).toBe(0);
    expect(run('exit 9223372036854775808', m).status).toBe(2);
    expect(run('exit -1', m).status).toBe(255);
    expect(run("exit ' 3 '", m).status).toBe(3);
    expect(run('exit x 2', m)).toMatchObject({ status: 2, stderr: 'zonedev: exit: x: numeric argument required\n' });
  });
  it('NUL bytes are dropped with bash’s warning; invalid UTF-8 passes through', () => {
    const m = machine();
    expect(run('echo a\0b\0c\necho $?', m)).toEqual({
      status: 0,
      stdout: 'abc\n0\n',
      stderr: 'zonedev: warning: ignored null byte in input\nzonedev: warning: ignored null byte in input\n',
      output: 'zonedev: warning: ignored null byte in input\nzonedev: warning: ignored null byte in input\nabc\n0\n',
    });
    const bad = Buffer.from([0x65, 0x63, 0x68, 0x6f, 0x20, 0xff, 0xc3, 0x0a]).toString('utf8');
    expect(run(bad, m)).toEqual({ status: 0, stdout: '\ufffd\ufffd\n', stderr: '', output: '\ufffd\ufffd\n' });
    expect(run('cat \ud800', m)).toMatchObject({ status: 1, stderr: "cat: '\ud800': No such file or directory\n" });
  });
});

describe('boot options with bad values', () => {
  it('an empty memory_hotplug.memmap_on_memory= is invalid for param_set_bool() and leaves it off', () => {
    expect(parseMmCmdline('x86_64', 'memory_hotplug.memmap_on_memory=')).toMatchObject({
      memmapOnMemory: false,
      errors: ["Booting kernel: `' invalid for parameter `memory_hotplug.memmap_on_memory'"],
      unknown: [],
    });
    expect(parseMmCmdline('x86_64', 'memory_hotplug.memmap_on_memory')).toMatchObject({ memmapOnMemory: true, errors: [] });
    expect(parseMmCmdline('x86_64', 'memory_hotplug.memmap_on_memory=1 memory_hotplug.memmap_on_memory=')).toMatchObject({
      memmapOnMemory: true,
      errors: ["Booting kernel: `' invalid for parameter `memory_hotplug.memmap_on_memory'"],
    });
  });
});
