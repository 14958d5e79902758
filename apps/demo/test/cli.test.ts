import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main, USAGE, type Io } from '../src/main.js';
import { parseRunArgs } from '../src/args.js';
import { complete } from '../src/repl.js';
import { Shell } from '../src/shell/shell.js';
import { bootMinimalMachine } from '../src/machine/minimal.js';
import { DEFAULT_MACHINE } from '../src/machine/options.js';

interface Result {
  code: number;
  out: string;
  err: string;
}

async function zonedev(argv: string[], files: Record<string, string> = {}, stdin = ''): Promise<Result> {
  let out = '';
  let err = '';
  const io: Io = {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    readFile: (path) => {
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return text;
    },
    readStdin: () => Promise.resolve(stdin),
    input: { stream: Readable.from(stdin === '' ? [] : [stdin]), terminal: undefined },
  };
  const code = await main(argv, io);
  return { code, out, err };
}

describe('zonedev run: exit statuses (golden)', () => {
  it('runs a script file and exits with its last status', async () => {
    const r = await zonedev(['run', 's.sh'], { 's.sh': 'cat /proc/cmdline\nls /proc\n' });
    expect(r).toEqual({ code: 0, out: '\ncmdline\niomem\n', err: '' });
  });

  it('reads the script from standard input with - or no operand', async () => {
    expect(await zonedev(['run', '-'], {}, 'echo hi\n')).toEqual({ code: 0, out: 'hi\n', err: '' });
    expect(await zonedev(['run'], {}, 'echo hi\nfalse\n')).toEqual({ code: 1, out: 'hi\n', err: '' });
  });

  it('keeps going after a failed command without --strict, stops with status 1 with it', async () => {
    const script = 'echo one\ncat /proc/nope\necho two\n';
    expect(await zonedev(['run', '-'], {}, script)).toEqual({ code: 0, out: 'one\ntwo\n', err: 'cat: /proc/nope: No such file or directory\n' });
    expect(await zonedev(['run', '--strict', '-'], {}, script)).toEqual({ code: 1, out: 'one\n', err: 'cat: /proc/nope: No such file or directory\n' });
    expect(await zonedev(['run', '-'], {}, `set -e\n${script}`)).toEqual({ code: 1, out: 'one\n', err: 'cat: /proc/nope: No such file or directory\n' });
  });

  it('exits 127 when the last command is not found, N with exit N', async () => {
    expect(await zonedev(['run', '-'], {}, 'nope\n')).toEqual({ code: 127, out: '', err: 'zonedev: nope: command not found\n' });
    expect(await zonedev(['run', '-'], {}, 'exit 42\necho never\n')).toMatchObject({ code: 42, out: '' });
    expect(await zonedev(['run', '--strict', '-'], {}, 'lsmem\n')).toEqual({ code: 1, out: '', err: 'lsmem: This system does not support memory blocks\n' });
  });

  it('boots the options it is given', async () => {
    const r = await zonedev(['run', '--platform', 'x86_64', '-m', '4G', '--cmdline', 'memmap=1G!4G', '--seed', '7', '-'], {}, 'cat /proc/iomem\n');
    expect(r).toEqual({
      code: 0,
      err: '',
      out: `00000000-00000fff : Reserved
00001000-0009fbff : System RAM
0009fc00-0009ffff : Reserved
000f0000-000fffff : Reserved
00100000-bffdffff : System RAM
bffe0000-bfffffff : Reserved
feffc000-feffffff : Reserved
fffc0000-ffffffff : Reserved
100000000-13fffffff : Persistent Memory (legacy)
`,
    });
    const ppc = await zonedev(['run', '--platform=powerpc', '-m4G', '--numa=2', '-'], {}, 'cat /proc/iomem\n');
    expect(ppc).toEqual({ code: 0, out: '00000000-ffffffff : System RAM\n', err: '' });
  });

  it('exits 1 when the machine cannot boot', async () => {
    expect(await zonedev(['run', '-m', '4G,slots=2', '-'], {}, 'true\n')).toEqual({
      code: 1,
      out: '',
      err: 'zonedev: qemu: invalid value of -m option maxmem: memory slots were specified but maximum memory size (0x100000000) is equal to the initial memory size (0x100000000)\n',
    });
    expect(await zonedev(['run', '--cmdline', 'memmap=exactmap', '-'], {}, 'true\n')).toEqual({
      code: 1,
      out: '',
      err: 'zonedev: boot failed: Kernel panic - not syncing: Invalid user supplied memory map\n',
    });
  });

  it('exits 2 on usage errors and unreadable scripts', async () => {
    const tryHelp = "Try 'zonedev help' for more information.\n";
    expect(await zonedev(['run', '--bogus'])).toEqual({ code: 2, out: '', err: `zonedev: run: unrecognized option '--bogus'\n${tryHelp}` });
    expect(await zonedev(['run', '--platform'])).toEqual({ code: 2, out: '', err: `zonedev: run: option '--platform' requires an argument\n${tryHelp}` });
    expect(await zonedev(['run', '--platform', 'arm'])).toEqual({ code: 2, out: '', err: `zonedev: run: invalid platform 'arm' (x86_64 or powerpc)\n${tryHelp}` });
    expect(await zonedev(['run', '-m', 'lots'])).toEqual({ code: 2, out: '', err: `zonedev: run: -m lots: invalid size 'lots'\n${tryHelp}` });
    expect(await zonedev(['run', '--numa', '0'])).toMatchObject({ code: 2 });
    expect(await zonedev(['run', '--seed', 'x'])).toMatchObject({ code: 2 });
    expect(await zonedev(['run', '--strict=1'])).toMatchObject({ code: 2 });
    expect(await zonedev(['run', 'a', 'b'])).toEqual({ code: 2, out: '', err: `zonedev: run: too many arguments: b\n${tryHelp}` });
    expect(await zonedev(['run', 'missing.sh'])).toEqual({ code: 2, out: '', err: `zonedev: run: cannot read 'missing.sh': No such file or directory\n${tryHelp}` });
    expect(await zonedev(['frobnicate'])).toEqual({ code: 2, out: '', err: `zonedev: unknown command 'frobnicate'\n${tryHelp}` });
    expect(await zonedev(['shell', 'x.sh'])).toMatchObject({ code: 2 });
  });

  it('prints usage with help (and with no command)', async () => {
    expect(await zonedev(['help'])).toEqual({ code: 0, out: USAGE, err: '' });
    expect(await zonedev([])).toEqual({ code: 0, out: USAGE, err: '' });
  });
});

describe('zonedev shell', () => {
  it('reads commands from a pipe with no banner and no prompt', async () => {
    expect(await zonedev(['shell'], {}, 'echo a\nnope\necho b\n')).toEqual({ code: 0, out: 'a\nb\n', err: 'zonedev: nope: command not found\n' });
  });
  it('ends with exit N, or at a failure with --strict', async () => {
    expect(await zonedev(['shell'], {}, 'echo a\nexit 5\necho b\n')).toMatchObject({ code: 5, out: 'a\n' });
    expect(await zonedev(['shell', '--strict'], {}, 'false\necho b\n')).toMatchObject({ code: 1, out: '' });
    expect(await zonedev(['shell'], {}, 'false\n')).toMatchObject({ code: 1 });
  });
  it('completes command names and paths', () => {
    const sh = new Shell(bootMinimalMachine(DEFAULT_MACHINE));
    expect(complete(sh, 'ls')).toEqual([['ls ', 'lsmem '], 'ls']);
    expect(complete(sh, 'cat /pr')).toEqual([['/proc/'], '/pr']);
    expect(complete(sh, 'cat /proc/io')).toEqual([['/proc/iomem'], '/proc/io']);
    expect(complete(sh, 'cat /nope/x')).toEqual([[], '/nope/x']);
  });
});

describe('zonedev tour', () => {
  it('lists every layer and tours both platforms, deterministically', async () => {
    const a = await zonedev(['tour']);
    expect(a.code).toBe(0);
    for (const p of ['kernel', 'mmzone', 'sparse-vmemmap', 'memory-hotplug', 'memremap', 'libnvdimm', 'hmm']) expect(a.out).toContain(`@zonedev/${p}`);
    expect(a.out).toContain('== x86_64:');
    expect(a.out).toContain('100000000-13fffffff : Persistent Memory (legacy)\n');
    expect(a.out).toContain('== powerpc:');
    expect((await zonedev(['tour'])).out).toBe(a.out);
  });
});

describe('run/shell argument parsing', () => {
  it('has defaults and reads every option', () => {
    expect(parseRunArgs('run', [])).toEqual({ machine: DEFAULT_MACHINE, strict: false, script: undefined });
    expect(parseRunArgs('run', ['--platform', 'powerpc', '-m', '4G,slots=2,maxmem=8G', '--numa', '2', '--cmdline', 'mem=2G', '--seed', '9', '--strict', 'x.sh'])).toEqual({
      machine: { platform: 'powerpc', ramSize: 4 * 2 ** 30, slots: 2, maxmem: 8 * 2 ** 30, numa: 2, cmdline: 'mem=2G', seed: 9 },
      strict: true,
      script: 'x.sh',
    });
    expect(parseRunArgs('run', ['--', '-odd-name'])).toMatchObject({ script: '-odd-name' });
  });
});
