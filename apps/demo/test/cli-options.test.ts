// `zonedev --help`, `zonedev COMMAND --help`, `zonedev help COMMAND` and
// `zonedev --version`: usage and version on stdout with status 0, as GNU
// programs print them; anything unknown stays a usage error (status 2).
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { COMMAND_USAGE, main, USAGE, type Io } from '../src/main.js';
import { parseRunArgs } from '../src/args.js';

interface Result {
  code: number;
  out: string;
  err: string;
}

async function zonedev(argv: string[], stdin = ''): Promise<Result> {
  let out = '';
  let err = '';
  const io: Io = {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    readFile: () => {
      throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    },
    readStdin: () => Promise.resolve(stdin),
    input: { stream: Readable.from(stdin === '' ? [] : [stdin]), terminal: undefined },
  };
  const code = await main(argv, io);
  return { code, out, err };
}

const tryHelp = "Try 'zonedev help' for more information.\n";
const pkgVersion = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('zonedev --help and --version', () => {
  it('prints the usage with --help and -h, status 0, nothing on stderr', async () => {
    expect(await zonedev(['--help'])).toEqual({ code: 0, out: USAGE, err: '' });
    expect(await zonedev(['-h'])).toEqual({ code: 0, out: USAGE, err: '' });
    expect(USAGE).toContain('zonedev --help | --version\n');
  });

  it('prints "zonedev VERSION" from package.json with --version and -V', async () => {
    expect(pkgVersion).toMatch(/^[0-9]+\.[0-9]+\.[0-9]+/);
    expect(await zonedev(['--version'])).toEqual({ code: 0, out: `zonedev ${pkgVersion}\n`, err: '' });
    expect(await zonedev(['-V'])).toEqual({ code: 0, out: `zonedev ${pkgVersion}\n`, err: '' });
    expect(await zonedev(['--version', 'x'])).toEqual({ code: 2, out: '', err: `zonedev: unexpected argument 'x'\n${tryHelp}` });
  });

  it('still rejects unknown options and commands with status 2', async () => {
    expect(await zonedev(['--bogus'])).toEqual({ code: 2, out: '', err: `zonedev: unrecognized option '--bogus'\n${tryHelp}` });
    expect(await zonedev(['-x'])).toEqual({ code: 2, out: '', err: `zonedev: unrecognized option '-x'\n${tryHelp}` });
    expect(await zonedev(['frob'])).toEqual({ code: 2, out: '', err: `zonedev: unknown command 'frob'\n${tryHelp}` });
  });
});

describe('zonedev COMMAND --help', () => {
  for (const command of ['run', 'shell', 'tour']) {
    it(`prints the usage of ${command} and runs nothing`, async () => {
      const r = await zonedev([command, '--help'], 'echo ran\n');
      expect(r).toEqual({ code: 0, out: COMMAND_USAGE[command], err: '' });
      expect(r.out.startsWith(`usage: zonedev ${command}`)).toBe(true);
      expect(r.out).toContain('--help');
    });
  }

  it('lists every machine option in the usage of run and shell', async () => {
    for (const command of ['run', 'shell']) {
      const { out } = await zonedev([command, '--help']);
      for (const opt of ['--platform', '--mmu', '-m SIZE', '--numa', '--cmdline', '--seed', '--strict']) expect(out).toContain(opt);
    }
  });

  it('wins over operands and later options, as getopt_long --help, but not over an earlier bad option', async () => {
    expect(await zonedev(['run', 'script.sh', '--help'])).toEqual({ code: 0, out: COMMAND_USAGE['run'], err: '' });
    expect(await zonedev(['run', '--help', '--bogus'])).toEqual({ code: 0, out: COMMAND_USAGE['run'], err: '' });
    expect(await zonedev(['run', '--bogus', '--help'])).toEqual({ code: 2, out: '', err: `zonedev: run: unrecognized option '--bogus'\n${tryHelp}` });
    expect(await zonedev(['shell', '--help=1'])).toEqual({ code: 2, out: '', err: `zonedev: shell: option '--help' doesn't allow an argument\n${tryHelp}` });
    expect(parseRunArgs('run', ['--seed', '3', '--help'])).toMatchObject({ help: true, machine: { seed: 3 } });
    expect(parseRunArgs('run', ['--seed', '3'])).not.toHaveProperty('help');
  });

  it('takes --pmem-region START,SIZE[,volatile] on powerpc only, repeatable', () => {
    expect(parseRunArgs('run', ['--platform=powerpc', '--pmem-region', '16G,1G', '--pmem-region=0x500000000,256M,volatile'])).toMatchObject({
      machine: {
        pmemRegions: [
          { start: 16 * 2 ** 30, size: 2 ** 30 },
          { start: 0x500000000, size: 256 * 2 ** 20, volatile: true },
        ],
      },
    });
    expect(parseRunArgs('run', ['--platform=powerpc'])).not.toHaveProperty('machine.pmemRegions');
    for (const bad of ['16G', '16G,0', '16G,1G,persistent', 'x,1G', '16G,1Gx', '16G,1G,volatile,x']) {
      expect(parseRunArgs('run', ['--platform=powerpc', `--pmem-region=${bad}`])).toEqual({
        error: `run: invalid pmem-region '${bad}' (START,SIZE[,volatile])`,
      });
    }
    expect(parseRunArgs('run', ['--pmem-region=16G,1G'])).toEqual({
      error: 'run: --pmem-region is a device-tree node: it needs --platform powerpc (x86_64 takes memmap=nn!ss)',
    });
  });

  it('rejects other options and operands of tour', async () => {
    expect(await zonedev(['tour', '--bogus'])).toEqual({ code: 2, out: '', err: `zonedev: tour: unrecognized option '--bogus'\n${tryHelp}` });
    expect(await zonedev(['tour', 'x'])).toEqual({ code: 2, out: '', err: `zonedev: tour: unexpected argument 'x'\n${tryHelp}` });
  });
});

describe('zonedev help COMMAND', () => {
  it('prints the usage of COMMAND, the same text as COMMAND --help', async () => {
    for (const command of ['run', 'shell', 'tour']) {
      expect(await zonedev(['help', command])).toEqual({ code: 0, out: COMMAND_USAGE[command], err: '' });
    }
    expect(await zonedev(['help', 'help'])).toEqual({ code: 0, out: COMMAND_USAGE['help'], err: '' });
    expect(await zonedev(['help', '--help'])).toEqual({ code: 0, out: COMMAND_USAGE['help'], err: '' });
  });

  it('is a usage error for an unknown command or extra operands', async () => {
    expect(await zonedev(['help', 'frob'])).toEqual({ code: 2, out: '', err: `zonedev: help: unknown command 'frob'\n${tryHelp}` });
    expect(await zonedev(['help', 'toString'])).toEqual({ code: 2, out: '', err: `zonedev: help: unknown command 'toString'\n${tryHelp}` });
    expect(await zonedev(['help', 'run', 'x'])).toEqual({ code: 2, out: '', err: `zonedev: help: too many arguments: x\n${tryHelp}` });
  });
});
