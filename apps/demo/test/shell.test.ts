import { describe, expect, it } from 'vitest';
import { KernelError } from '@zonedev/kernel';
import { Shell, run } from '../src/shell/shell.js';
import type { ShellCommand } from '../src/shell/command.js';
import { chmemCommand, lsmemCommand } from '../src/tools/commands.js';
import { fakeMachine, fakeMemorySysfs, range } from './helpers.js';

/** 4 blocks of 128 MiB: 0-1 online, 2-3 offline; block 3 refuses to online (EBUSY). The machine brings lsmem and chmem, as a real one does. */
function machine(commands: ShellCommand[] = []): ReturnType<typeof fakeMachine> {
  const { fs } = fakeMemorySysfs(0x8000000, [
    ...range(0, 2, 'online', { zones: 'Normal', node: 0 }),
    { index: 2, state: 'offline', zones: 'Normal Movable', node: 0 },
    { index: 3, state: 'offline', zones: 'Normal Movable', node: 0, fail: 'EBUSY' },
  ]);
  return fakeMachine(fs, { '/proc/iomem': '00000000-1fffffff : System RAM\n', '/proc/cmdline': 'quiet\n' }, [lsmemCommand, chmemCommand, ...commands]);
}

describe('the demo shell', () => {
  it('runs a transcript: cat, echo > sysfs, lsmem, errors in bash’s words', () => {
    const r = run(
      `# a comment, then a blank line

cat /sys/devices/system/memory/memory2/state
echo online > /sys/devices/system/memory/memory2/state
cat /sys/devices/system/memory/memory2/state
echo online > /sys/devices/system/memory/memory3/state
echo bogus > /sys/devices/system/memory/memory2/state
echo 1 > /sys/devices/system/memory/nope
echo 1 > /sys/nodir/nope
lsmem
frobnicate --now
cat /proc/cmdline /proc/nope /sys
`,
      machine(),
    );
    expect(r.stdout).toBe(`offline
online
RANGE                                  SIZE   STATE REMOVABLE BLOCK
0x0000000000000000-0x0000000017ffffff  384M  online       yes   0-2
0x0000000018000000-0x000000001fffffff  128M offline               3

Memory block size:       128M
Total online memory:     384M
Total offline memory:    128M
quiet
`);
    expect(r.stderr).toBe(`zonedev: echo: write error: Device or resource busy
zonedev: echo: write error: Invalid argument
zonedev: /sys/devices/system/memory/nope: Permission denied
zonedev: /sys/nodir/nope: No such file or directory
zonedev: frobnicate: command not found
cat: /proc/nope: No such file or directory
cat: /sys: Is a directory
`);
    expect(r.status).toBe(1);
  });

  it('writes once, with echo’s newline, to the file’s store()', () => {
    const { fs, writes } = fakeMemorySysfs(0x8000000, range(0, 1, 'offline'));
    const r = run('echo -n online_movable > /sys/devices/system/memory/memory0/state\necho offline >> /sys/devices/system/memory/memory0/state', fakeMachine(fs));
    expect(r.status).toBe(0);
    expect(writes).toEqual(['memory0=online_movable', 'memory0=offline']);
  });

  it('does not run a command whose redirection cannot be opened', () => {
    let ran = false;
    const spy: ShellCommand = { name: 'spy', synopsis: 'spy', summary: 'test', run: () => ((ran = true), 0) };
    const r = run('spy > /proc/new', machine([spy]));
    expect(ran).toBe(false);
    expect(r).toMatchObject({ status: 1, stderr: 'zonedev: /proc/new: No such file or directory\n' });
  });

  it('reports a program’s write error in its own name, a procfs write as EIO', () => {
    expect(run('cat /proc/cmdline > /sys/devices/system/memory/memory3/state', machine()).stderr).toBe('cat: write error: Invalid argument\n');
    expect(run('echo 1 > /proc/iomem', machine()).stderr).toBe('zonedev: echo: write error: Input/output error\n');
  });

  it('returns the last command’s status, $? holds it, and keeps going after failures', () => {
    expect(run('false\necho $?', machine())).toMatchObject({ status: 0, stdout: '1\n' });
    expect(run('nope\necho "status $?"', machine())).toMatchObject({ status: 0, stdout: 'status 127\n' });
    expect(run('true\nfalse', machine()).status).toBe(1);
    expect(run('', machine()).status).toBe(0);
    expect(run('nope', machine()).status).toBe(127);
  });

  it('stops at the first failure with set -e or strict, with status 1', () => {
    const script = 'echo a\ncat /nope\necho b\n';
    expect(run(script, machine())).toMatchObject({ status: 0, stdout: 'a\nb\n' });
    expect(run(script, machine(), { strict: true })).toMatchObject({ status: 1, stdout: 'a\n', stderr: 'cat: /nope: No such file or directory\n' });
    expect(run(`set -e\n${script}`, machine())).toMatchObject({ status: 1, stdout: 'a\n' });
    expect(run(`set -e\nset +e\n${script}`, machine())).toMatchObject({ status: 0, stdout: 'a\nb\n' });
    expect(run(`set -o errexit\nnope\necho never`, machine())).toMatchObject({ status: 1, stdout: '' });
    expect(run('set -x', machine())).toMatchObject({ status: 2, stderr: 'zonedev: set: -x: invalid option\nset: usage: set [-e] [+e] [-o errexit] [+o errexit]\n' });
  });

  it('treats a line that cannot be parsed as a failed command of status 2', () => {
    expect(run('echo "x\necho after', machine())).toMatchObject({
      status: 0,
      stdout: 'after\n',
      stderr: 'zonedev: unexpected EOF while looking for matching `"\'\n',
    });
    expect(run('cat /proc/iomem | ', machine(), { strict: true })).toMatchObject({ status: 1, stderr: 'zonedev: syntax error: unexpected end of file\n' });
    expect(run('cat /proc/iomem | | head\necho no', machine(), { strict: true })).toMatchObject({ status: 1, stdout: '', stderr: "zonedev: syntax error near unexpected token `|'\n" });
  });

  it('ends the script with exit N', () => {
    expect(run('echo a\nexit 3\necho b', machine())).toMatchObject({ status: 3, stdout: 'a\n' });
    expect(run('false\nexit', machine()).status).toBe(1);
    expect(run('exit 256', machine()).status).toBe(0);
    expect(run('exit x', machine())).toMatchObject({ status: 2, stderr: 'zonedev: exit: x: numeric argument required\n' });
  });

  it('echo: -n, -e, and words joined by one blank', () => {
    expect(run(`echo a   b\necho -n x\necho -e 'y\\tz\\c'\necho -E 'q\\t'\necho -nx`, machine()).stdout).toBe('a b\nxy\tzq\\t\n-nx\n');
  });

  it('ls: one name per line, C order, headings for several operands, status 2 when missing', () => {
    const m = machine();
    expect(run('ls', m).stdout).toBe('proc\nsys\n');
    expect(run('ls /sys/devices/system/memory', m).stdout).toBe('block_size_bytes\nmemory0\nmemory1\nmemory2\nmemory3\n');
    expect(run('ls -1 /proc/iomem /sys/devices/system/memory/memory0 /proc', m).stdout).toBe(
      '/proc/iomem\n\n/proc:\ncmdline\niomem\n\n/sys/devices/system/memory/memory0:\nnode0\nphys_index\nremovable\nstate\nvalid_zones\n',
    );
    expect(run('ls /nope /proc', m)).toMatchObject({ status: 2, stdout: '/proc:\ncmdline\niomem\n', stderr: "ls: cannot access '/nope': No such file or directory\n" });
    expect(run('ls -a', m)).toMatchObject({ status: 2, stderr: 'ls: -a: option not supported by the demo shell\n' });
    expect(run('ls -l', m)).toMatchObject({ status: 2, stderr: 'ls: /: -l describes only /sys in the demo shell\n' });
  });

  it('resolves relative paths from /', () => {
    expect(run('cat proc/cmdline', machine()).stdout).toBe('quiet\n');
  });

  it('dmesg prints and clears the kernel log', () => {
    const m = machine();
    m.kernel.log.info('hello');
    expect(run('dmesg', m).stdout).toBe('[    0.000000] hello\n');
    expect(run('dmesg -C\ndmesg', m).stdout).toBe('');
  });

  it('lets a machine add commands and replace base ones; help lists them sorted', () => {
    const hello: ShellCommand = { name: 'hello', synopsis: 'hello NAME', summary: 'greet', run: (ctx) => (ctx.out(`hi ${ctx.args.join(' ')}\n`), 0) };
    const cat: ShellCommand = { name: 'cat', synopsis: 'cat', summary: 'replaced', run: (ctx) => (ctx.out('meow\n'), 0) };
    const m = machine([hello, cat]);
    expect(run('hello "big world"\ncat /proc/iomem', m).stdout).toBe('hi big world\nmeow\n');
    const help = run('help', m).stdout;
    expect(help.split('\n')[0]).toBe('Commands (one per line; quotes, # comments, > FILE, >> FILE and $? as in bash):');
    expect(help).toContain('  hello NAME ');
    const names = help.split('\n').slice(1, -1).map((l) => l.trim().split(' ')[0]);
    expect(names).toEqual([...names].sort());
    // the machine's commands, the shell's builtins and its text utilities, in one list
    expect(names).toEqual(
      [':', '[', 'break', 'cat', 'cd', 'chmem', 'continue', 'cut', 'dmesg', 'echo', 'exit', 'export', 'false', 'grep', 'head', 'hello', 'help', 'local', 'ls', 'lsmem', 'pwd', 'return', 'set', 'shift', 'sort', 'tail', 'test', 'trace', 'true', 'uniq', 'unset', 'wc', 'xargs'].sort(),
    );
  });

  it('reports an exception thrown by a command, and a builtin’s in the shell’s name', () => {
    const boom: ShellCommand = { name: 'boom', synopsis: 'boom', summary: 't', run: () => { throw new KernelError('ENOMEM'); } };
    expect(run('boom', machine([boom]))).toMatchObject({ status: 1, stderr: 'boom: Cannot allocate memory\n' });
  });

  it('trace drives the kernel tracer', () => {
    const m = machine();
    const r = run('trace on\ntrace show\ntrace off\ntrace bogus', m);
    expect(m.kernel.tracer.enabled).toBe(false);
    expect(r).toMatchObject({ status: 2, stdout: '# tracer: function_graph\n#\n# CPU  FUNCTION CALLS\n# |     |   |   |   |\n', stderr: 'trace: usage: trace on|off|show|clear\n' });
    m.kernel.tracer.on();
    m.kernel.tracer.call('memremap_pages', [0x1000], () => 7);
    expect(run('trace show\ntrace clear\ntrace show', m).stdout).toBe(
      '# tracer: function_graph\n#\n# CPU  FUNCTION CALLS\n# |     |   |   |   |\n 0)   memremap_pages(0x1000) = 7;\n' +
        '# tracer: function_graph\n#\n# CPU  FUNCTION CALLS\n# |     |   |   |   |\n',
    );
  });

  it('interleaves stdout and stderr in output', () => {
    expect(run('echo a\nnope\necho b', machine()).output).toBe('a\nzonedev: nope: command not found\nb\n');
  });

  it('runs line by line in a Shell', () => {
    const sh = new Shell(machine());
    expect(sh.execLine('   ')).toEqual({ ran: false, status: 0 });
    expect(sh.execLine('false')).toEqual({ ran: true, status: 1 });
    expect(sh.execLine('# comment')).toEqual({ ran: false, status: 1 });
    expect(sh.path('sys')).toBe('/sys');
  });
});
