// `zonedev run --record FILE` writes the run's options on the first line,
// `# zonedev run OPTIONS`, and its commands after it; `zonedev run FILE`
// boots the machine that line names, so the replay prints exactly what the
// recorded run printed and ends with the same status.
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main, type Io } from '../src/main.js';
import { parseRunArgs, recordedScript, scriptHeader, shellQuote, splitHeaderWords } from '../src/args.js';

interface Result {
  code: number;
  out: string;
  err: string;
}

/** `zonedev ARGV` with `files` as its file system and `stdin` as standard input. */
async function zonedev(argv: string[], files: Map<string, string>, stdin = ''): Promise<Result> {
  let out = '';
  let err = '';
  const io: Io = {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    readFile: (path) => {
      const text = files.get(path);
      if (text === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return text;
    },
    writeFile: (path, text) => {
      if (path.startsWith('/nonexistent/')) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      files.set(path, text);
    },
    readStdin: () => Promise.resolve(stdin),
    input: { stream: Readable.from([]), terminal: undefined },
  };
  const code = await main(argv, io);
  return { code, out, err };
}

const tryHelp = "Try 'zonedev help' for more information.\n";

const SCRIPT = `echo online > /sys/devices/system/memory/memory40/state
object_add memory-backend-ram,id=mem1,size=1G
device_add pc-dimm,id=dimm1,memdev=mem1,node=1
echo online_movable > /sys/devices/system/memory/memory40/state
cat /sys/devices/system/memory/memory40/valid_zones
memremap 0x100000000 1M
info numa
page 0x140000
`;

describe('zonedev run --record FILE', () => {
  it('writes the options and the commands, and zonedev run FILE replays them byte for byte', async () => {
    const files = new Map<string, string>();
    const options = ['-m', '2G,slots=2,maxmem=4G', '--numa=2', '--cmdline', 'memhp_default_state=offline memmap=256M!1G', '--seed', '5'];
    const recorded = await zonedev(['run', ...options, '--record', 'run.sh'], files, SCRIPT);
    expect(files.get('run.sh')).toBe(`# zonedev run -m 2G,slots=2,maxmem=4G --numa=2 --cmdline 'memhp_default_state=offline memmap=256M!1G' --seed 5\n${SCRIPT}`);
    expect(recorded.out).toContain('node 1 plugged: 1024 MB\n');
    const replay = await zonedev(['run', 'run.sh'], files);
    expect(replay).toEqual(recorded);
    // Without the header the same commands run on the default machine, and print something else.
    const plain = await zonedev(['run'], files, SCRIPT);
    expect(plain.out).not.toBe(recorded.out);
  });

  it('records a recording again with the same header, and the command line adds to the header', async () => {
    const files = new Map<string, string>();
    await zonedev(['run', '--seed', '3', '--record=a.sh'], files, 'echo hi\n');
    expect(files.get('a.sh')).toBe('# zonedev run --seed 3\necho hi\n');
    expect(await zonedev(['run', '--strict', '--record', 'b.sh', 'a.sh'], files)).toEqual({ code: 0, out: 'hi\n', err: '' });
    expect(files.get('b.sh')).toBe('# zonedev run --seed 3 --strict\necho hi\n');
    // A script without a final newline gets one.
    await zonedev(['run', '--record', 'c.sh'], files, 'echo x');
    expect(files.get('c.sh')).toBe('# zonedev run\necho x\n');
    expect(await zonedev(['run', 'c.sh'], files)).toEqual({ code: 0, out: 'x\n', err: '' });
  });

  it('replays the golden scripts from their first line, as their transcripts show', async () => {
    const dir = new URL('./golden/', import.meta.url);
    const script = readFileSync(new URL('x86_64-failures.sh', dir), 'utf8');
    const header = scriptHeader(script);
    expect(header).toEqual({ options: ['-m', '2G,slots=2,maxmem=4G'] });
    const files = new Map([['x86_64-failures.sh', script]]);
    const byHeader = await zonedev(['run', 'x86_64-failures.sh'], files);
    const byHand = await zonedev(['run', '-m', '2G,slots=2,maxmem=4G'], files, script);
    expect(byHeader).toEqual(byHand);
  });

  it('is a usage error without a file name, on shell, in a bad header, or when FILE cannot be written; nothing runs', async () => {
    const files = new Map<string, string>();
    expect(await zonedev(['run', '--record'], files, 'echo ran\n')).toEqual({ code: 2, out: '', err: `zonedev: run: option '--record' requires an argument\n${tryHelp}` });
    expect(await zonedev(['run', '--record='], files, 'echo ran\n')).toEqual({ code: 2, out: '', err: `zonedev: run: option '--record' requires a file name\n${tryHelp}` });
    expect(await zonedev(['shell', '--record', 'x'], files)).toEqual({ code: 2, out: '', err: `zonedev: shell: unrecognized option '--record'\n${tryHelp}` });
    expect(await zonedev(['run', '--record', '/nonexistent/x.sh'], files, 'echo ran\n')).toEqual({
      code: 2,
      out: '',
      err: `zonedev: run: cannot write '/nonexistent/x.sh': No such file or directory\n${tryHelp}`,
    });
    files.set('bad.sh', "# zonedev run --cmdline 'quiet\necho ran\n");
    expect(await zonedev(['run', 'bad.sh'], files)).toEqual({ code: 2, out: '', err: `zonedev: run: the script's '# zonedev run' line has an unterminated quote\n${tryHelp}` });
    files.set('bad2.sh', '# zonedev run --numa 0\necho ran\n');
    expect(await zonedev(['run', 'bad2.sh'], files)).toEqual({ code: 2, out: '', err: `zonedev: run: invalid number of NUMA nodes '0' (1 to 64)\n${tryHelp}` });
    expect(files.size).toBe(2);
  });
});

describe('the header line', () => {
  it('splits words as a POSIX shell does, and shellQuote() reads back the same words', () => {
    expect(splitHeaderWords(`-m 2G  --cmdline 'a b' "c \\"d\\" \\$e" f\\ g ''`)).toEqual(['-m', '2G', '--cmdline', 'a b', 'c "d" $e', 'f g', '']);
    expect(splitHeaderWords("'open")).toBeUndefined();
    expect(splitHeaderWords('"open')).toBeUndefined();
    for (const w of ['plain', 'memmap=1G!4G', "it's", 'a b', '', 'x$y', '2G,slots=2']) expect(splitHeaderWords(shellQuote(w))).toEqual([w]);
    expect(scriptHeader('echo hi\n')).toBeUndefined();
    expect(scriptHeader('# zonedev running\n')).toBeUndefined();
    expect(scriptHeader('# zonedev run\n')).toEqual({ options: [] });
    expect(recordedScript(['--cmdline', 'memmap=1G!4G'], '# zonedev run -m 4G\nls\n')).toBe("# zonedev run --cmdline 'memmap=1G!4G'\nls\n");
  });

  it('keeps the option words of the command line, without --record and the operand', () => {
    const words: string[] = [];
    expect(parseRunArgs('run', ['-m4G', '--record', 'r.sh', '--platform=powerpc', 's.sh', '--strict'], words)).toMatchObject({ record: 'r.sh', script: 's.sh' });
    expect(words).toEqual(['-m4G', '--platform=powerpc', '--strict']);
    expect(parseRunArgs('run', [])).not.toHaveProperty('record');
  });
});
