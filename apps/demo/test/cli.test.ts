import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main, USAGE, type Io } from '../src/main.js';
import { parseRunArgs } from '../src/args.js';
import { complete } from '../src/repl.js';
import { Shell } from '../src/shell/shell.js';
import { bootShellMachine as bootMachine } from '../src/commands/shell-machine.js';
import { DEFAULT_MACHINE } from '@zonedev/platform';

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
    expect(r).toEqual({ code: 0, out: '\nbuddyinfo\ncmdline\ndevices\niomem\nmeminfo\npagetypeinfo\nzoneinfo\n', err: '' });
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
    expect(await zonedev(['run', '--strict', '-'], {}, 'cat /proc/nope\necho never\n')).toEqual({ code: 1, out: '', err: 'cat: /proc/nope: No such file or directory\n' });
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
  01000000-01e023ff : Kernel code
  02000000-024e8fff : Kernel rodata
  02600000-028577ff : Kernel data
  029be000-02e02fff : Kernel bss
bffe0000-bfffffff : Reserved
feffc000-feffffff : Reserved
fffc0000-ffffffff : Reserved
100000000-13fffffff : Persistent Memory (legacy)
  100000000-13fffffff : namespace0.0
`,
    });
    const ppc = await zonedev(['run', '--platform=powerpc', '-m4G', '--numa=2', '-'], {}, 'cat /proc/iomem\n');
    expect(ppc).toEqual({ code: 0, out: '00000000-7fffffff : System RAM\n80000000-ffffffff : System RAM\n', err: '' });
  });

  it('exits 1 when the machine cannot boot', async () => {
    expect(await zonedev(['run', '-m', '4G,slots=2,maxmem=4G', '-'], {}, 'true\n')).toEqual({
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
    const sh = new Shell(bootMachine(DEFAULT_MACHINE));
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
    expect(a.err).toBe('');
    for (const p of ['kernel', 'mmzone', 'sparse-vmemmap', 'memory-hotplug', 'memremap', 'libnvdimm', 'hmm']) expect(a.out).toContain(`@zonedev/${p}`);
    expect(a.out).toContain('1/2 x86_64:');
    expect(a.out).toContain('2/2 powerpc:');
    expect(a.out).toContain('100000000-13fffffff : Persistent Memory (legacy)\n');
    expect(a.out).toContain('} /* devm_memremap_pages = 0xffff888100000000 */');
    expect((await zonedev(['tour'])).out).toBe(a.out);
    expect(await zonedev(['tour', 'x'])).toMatchObject({ code: 2 });
  });
});

describe('zonedev run on a machine with DIMM slots', () => {
  const opts = ['run', '-m', '2G,slots=2,maxmem=4G'];
  const plug = 'object_add memory-backend-ram,id=m1,size=128M\ndevice_add pc-dimm,id=d1,memdev=m1\n';

  it('exits 0 after a hot-add and unplug, with nothing on stderr', async () => {
    const r = await zonedev([...opts, '-'], {}, `${plug}device_del d1\ninfo memory-devices\n`);
    expect(r).toEqual({ code: 0, out: '', err: '' });
  });

  it('exits 1 when the last command is a refused unplug; --strict stops at it', async () => {
    const busy = `${plug}echo online_kernel > /sys/devices/system/memory/memory32/state\nmemalloc k\ndevice_del d1\n`;
    const r = await zonedev([...opts, '-'], {}, busy);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^\{"timestamp": \{"seconds": 5, "microseconds": 250000\}, "event": "ACPI_DEVICE_OST", "data": \{"info": \{"device": "d1", "slot": "0", "slot-type": "DIMM", "source": 259, "status": 130\}\}\}\n$/);
    const strict = await zonedev([...opts, '--strict', '-'], {}, `${busy}echo never\n`);
    expect(strict.code).toBe(1);
    expect(strict.out).not.toContain('never');
    const keepsGoing = await zonedev([...opts, '-'], {}, `${busy}echo after\n`);
    expect(keepsGoing).toMatchObject({ code: 0, out: expect.stringContaining('after\n') as unknown as string });
  });

  it('exits 1 on a QEMU error, with HMP\'s text', async () => {
    expect(await zonedev([...opts, '-'], {}, 'device_add pc-dimm,id=d1\n')).toEqual({ code: 1, out: '', err: "Error: 'memdev' property must be set\n" });
    expect(await zonedev(['run', '-'], {}, plug)).toEqual({ code: 1, out: '', err: "Error: no slots where allocated, please specify the 'slots' option\n" });
  });

  it('boots the MMU it is asked for, and refuses one of the other platform', async () => {
    expect((await zonedev(['run', '--mmu', '5level', '-'], {}, 'dmesg\n')).out).toContain('max_arch_pfn = 0x10000000000\n');
    expect((await zonedev(['run', '--platform', 'powerpc', '--mmu', 'radix', '-'], {}, 'cat /proc/pagetypeinfo\n')).out).toContain('Page block order: 5\n');
    const tryHelp = "Try 'zonedev help' for more information.\n";
    expect(await zonedev(['run', '--mmu', 'radix', '-'])).toEqual({ code: 2, out: '', err: `zonedev: run: MMU mode 'radix' is not one of x86_64's (4level, 5level)\n${tryHelp}` });
    expect(await zonedev(['run', '--mmu', 'sv48', '-'])).toEqual({ code: 2, out: '', err: `zonedev: run: invalid MMU mode 'sv48' (4level or 5level for x86_64, hash or radix for powerpc)\n${tryHelp}` });
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
    expect(parseRunArgs('run', ['--platform=powerpc', '--mmu=radix'])).toMatchObject({ machine: { platform: 'powerpc', mmu: 'radix' } });
  });
});
