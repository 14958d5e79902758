// `zonedev shell` on a terminal: Ctrl-C discards the line being typed (bash
// prints `^C` and a fresh prompt; the line never runs), also the lines of an
// unfinished command at the `> ` prompt, and the history is kept in
// $HOME/.zonedev_history across sessions.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaultHistoryFile, interactiveShell, loadHistory, PROMPT, saveHistory } from '../src/repl.js';
import { bootShellMachine as bootMachine } from '../src/commands/shell-machine.js';
import { DEFAULT_MACHINE } from '@zonedev/platform';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(repo, 'apps/demo/dist/cli.js');
const state3 = '/sys/devices/system/memory/memory3/state';
const homes: string[] = [];

/** What a terminal shows, without readline's cursor-movement escapes and with \n line ends. */
function screenText(raw: string): string {
  // eslint-disable-next-line no-control-regex
  return raw.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\r+\n/g, '\n').replace(/\r/g, '');
}

/** The lines the commands printed: the screen minus the two banner lines and the prompt lines. */
function printed(raw: string): string[] {
  return screenText(raw)
    .split('\n')
    .slice(2)
    .filter((l) => !l.startsWith(PROMPT) && l !== '');
}

function tempHome(): string {
  const dir = mkdtempSync(join(tmpdir(), 'zonedev-home-'));
  homes.push(dir);
  return dir;
}

afterEach(() => {
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

/** A terminal session over streams: readline in terminal mode, keys written to `keys`. */
function session(historyFile: string) {
  const keys = new PassThrough();
  const screen = new PassThrough();
  let out = '';
  const stdout = { write: (s: string) => (out += s) };
  screen.on('data', (d: Buffer) => (out += d.toString()));
  const done = interactiveShell(bootMachine(DEFAULT_MACHINE), {
    strict: false,
    stdout,
    stderr: stdout,
    input: { stream: keys, terminal: screen },
    historyFile,
  });
  const type = async (s: string): Promise<void> => {
    keys.write(s);
    await new Promise((r) => setImmediate(r));
  };
  return { type, done, out: () => out };
}

describe('zonedev shell on a terminal (readline over streams)', () => {
  it('Ctrl-C prints ^C and a fresh prompt, and the cancelled line never runs', async () => {
    const home = tempHome();
    const s = session(join(home, '.zonedev_history'));
    await s.type(`echo offline > ${state3}`);
    await s.type('\x03');
    expect(screenText(s.out()).endsWith(`${PROMPT}echo offline > ${state3}^C\n${PROMPT}`)).toBe(true);
    await s.type('\r');
    await s.type(`cat ${state3}\r`);
    await s.type('\x04');
    expect(await s.done).toBe(0);
    expect(printed(s.out())).toEqual(['online']);
    // Only the line that ran is remembered.
    expect(readFileSync(join(home, '.zonedev_history'), 'utf8')).toBe(`cat ${state3}\n`);
  });

  it('Ctrl-C in the middle of a line discards all of it, not just what is left of the cursor', async () => {
    const home = tempHome();
    const s = session(join(home, '.zonedev_history'));
    await s.type('echo abc');
    await s.type('\x1b[D\x1b[D'); // two cursor-left keys
    await s.type('\x03');
    await s.type('echo def\r');
    await s.type('\x04');
    await s.done;
    expect(printed(s.out())).toEqual(['def']);
  });

  it('an unfinished command gets the `> ` prompt; Ctrl-C there throws the whole command away', async () => {
    const home = tempHome();
    const s = session(join(home, '.zonedev_history'));
    await s.type('for b in /sys/devices/system/memory/memory3*\r');
    expect(screenText(s.out()).endsWith('\n> ')).toBe(true);
    await s.type('do echo offline > $b/state\r');
    await s.type('\x03');
    expect(screenText(s.out()).endsWith(`> ^C\n${PROMPT}`)).toBe(true);
    await s.type('done\r');
    await s.type(`cat ${state3}\r`);
    await s.type('for x in a b; do\r');
    await s.type('echo $x; done\r');
    await s.type('\x04');
    expect(await s.done).toBe(0);
    expect(printed(s.out()).filter((l) => !l.startsWith('> '))).toEqual(["zonedev: syntax error near unexpected token `done'", 'online', 'a', 'b']);
  });

  it('C-r searches the history backwards, as bash’s reverse-i-search', async () => {
    const home = tempHome();
    const file = join(home, '.zonedev_history');
    writeFileSync(file, `cat ${state3}\necho one\necho two\n`);
    const s = session(file);
    await s.type('\x12');
    expect(screenText(s.out()).endsWith("(reverse-i-search)`': ")).toBe(true);
    await s.type('echo');
    expect(screenText(s.out()).endsWith("(reverse-i-search)`echo': echo two")).toBe(true);
    await s.type('\x12'); // the next older match
    expect(screenText(s.out()).endsWith("(reverse-i-search)`echo': echo one")).toBe(true);
    await s.type('\x12'); // none older
    expect(screenText(s.out()).endsWith("(failed reverse-i-search)`echo': echo one")).toBe(true);
    await s.type('\r'); // runs the match
    await s.type('\x12sta'); // a query typed at once
    await s.type('\x07'); // C-g: give up, the line is as it was (empty)
    await s.type('\x12two\x7f\x7f\x7fcat\r'); // backspace shortens the query
    await s.type('\x04');
    expect(await s.done).toBe(0);
    expect(printed(s.out()).filter((l) => !l.includes('reverse-i-search'))).toEqual(['one', 'online']);
    expect(readFileSync(file, 'utf8')).toBe(`cat ${state3}\necho one\necho two\necho one\ncat ${state3}\n`);
  });

  it('Ctrl-D in the middle of an unfinished command is bash’s unexpected end of file', async () => {
    const home = tempHome();
    const s = session(join(home, '.zonedev_history'));
    await s.type(`echo offline > ${state3} |\r`);
    await s.type('\x04');
    expect(await s.done).toBe(2);
    // As bash does, the message follows the `> ` prompt, and the shell says exit.
    expect(screenText(s.out()).endsWith('\n> zonedev: syntax error: unexpected end of file\nexit\n')).toBe(true);
  });

  it('loads the history at the start (oldest line first in the file) and appends the session at the end', async () => {
    const home = tempHome();
    const file = join(home, '.zonedev_history');
    writeFileSync(file, 'echo one\necho two\n');
    expect(loadHistory(file)).toEqual(['echo two', 'echo one']);
    const s = session(file);
    await s.type('\x1b[A\r'); // up arrow: the newest line, "echo two"
    await s.type('\x1b[A\x1b[A\r'); // twice up: "echo two" again, then "echo one", the oldest
    await s.type('\x04');
    await s.done;
    expect(printed(s.out())).toEqual(['two', 'one']);
    // As readline (and bash with HISTCONTROL=ignoredups) does, a line equal to the previous one is kept once.
    expect(readFileSync(file, 'utf8')).toBe('echo one\necho two\necho one\n');
  });

  it('puts the history file in $HOME, keeps at most 1000 lines, and ignores an unwritable file', () => {
    expect(defaultHistoryFile({ HOME: '/home/student' })).toBe('/home/student/.zonedev_history');
    const home = tempHome();
    const file = join(home, 'h');
    saveHistory(file, Array.from({ length: 1005 }, (_, i) => `echo ${1004 - i}`));
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines.length).toBe(1001);
    expect(lines[0]).toBe('echo 5');
    expect(lines[999]).toBe('echo 1004');
    expect(() => saveHistory(join(home, 'no/such/dir/h'), ['x'])).not.toThrow();
    expect(loadHistory(join(home, 'missing'))).toEqual([]);
  });
});

const hasScript = spawnSync('script', ['--version']).status === 0;

describe.skipIf(!hasScript)('zonedev shell on a real pty (script -qfc)', () => {
  beforeAll(() => {
    // The pty runs the built CLI: bring dist up to date first.
    const tsc = createRequire(join(repo, 'package.json')).resolve('typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '-b', join(repo, 'apps/demo')], { stdio: 'inherit' });
  }, 120_000);

  function pty(home: string) {
    const child = spawn('script', ['-qfc', `${JSON.stringify(process.execPath)} ${JSON.stringify(cli)} shell`, '/dev/null'], {
      env: { ...process.env, HOME: home, TERM: 'xterm' },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const until = (re: RegExp): Promise<void> =>
      new Promise((resolve, reject) => {
        const started = Date.now();
        const t = setInterval(() => {
          if (re.test(screenText(out))) {
            clearInterval(t);
            resolve();
          } else if (Date.now() - started > 20_000) {
            clearInterval(t);
            reject(new Error(`timed out waiting for ${re} in ${JSON.stringify(screenText(out))}`));
          }
        }, 20);
      });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    return { child, until, exited, out: () => out };
  }

  it('Ctrl-C discards a typed `echo offline > state`: the block stays online', async () => {
    const home = tempHome();
    const p = pty(home);
    await p.until(/zonedev# $/);
    p.child.stdin.write(`echo offline > ${state3}`);
    await p.until(/state$/);
    p.child.stdin.write('\x03');
    await p.until(/\^C\nzonedev# $/);
    p.child.stdin.write('\r');
    await p.until(/\^C\nzonedev# \nzonedev# $/);
    p.child.stdin.write(`cat ${state3}\r`);
    await p.until(/\n(online|offline)\nzonedev# $/);
    expect(printed(p.out())).toEqual(['online']);
    p.child.stdin.write('\x04');
    expect(await p.exited).toBe(0);
    expect(screenText(p.out()).endsWith('zonedev# exit\n')).toBe(true);
    expect(readFileSync(join(home, '.zonedev_history'), 'utf8')).toBe(`cat ${state3}\n`);
  }, 60_000);

  it("a second session recalls the first one's command from ~/.zonedev_history", async () => {
    const home = tempHome();
    writeFileSync(join(home, '.zonedev_history'), `echo offline > ${state3}\n`);
    const p = pty(home);
    await p.until(/zonedev# $/);
    p.child.stdin.write('\x1b[A');
    await p.until(/state$/);
    p.child.stdin.write('\r');
    await p.until(/state\nzonedev# $/);
    p.child.stdin.write(`cat ${state3}\r`);
    await p.until(/\n(online|offline)\nzonedev# $/);
    expect(printed(p.out())).toEqual(['offline']);
    p.child.stdin.write('exit\r');
    expect(await p.exited).toBe(0);
    expect(readFileSync(join(home, '.zonedev_history'), 'utf8')).toBe(`echo offline > ${state3}\ncat ${state3}\nexit\n`);
  }, 60_000);
});
