// Golden transcripts: the tour, and scripts for each platform profile, run
// on full machines and compared byte for byte with test/golden/.
//
// Each script test/golden/NAME.sh starts with the line
//   # zonedev run OPTIONS
// naming the machine it runs on (so `zonedev run OPTIONS NAME.sh` replays it
// by hand). Its transcript NAME.out shows every line as `$ line`, then what
// the line printed (stdout and stderr in the order a terminal shows them),
// and ends with `[exit status N]`, the status `zonedev run` would exit with.
//
// UPDATE_GOLDEN=1 pnpm exec vitest run --project demo rewrites the files;
// read the diff before committing it.
import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseRunArgs } from '../src/args.js';
import { bootShellMachine as bootMachine } from '../src/commands/shell-machine.js';
import { parseLine } from '../src/shell/parse.js';
import { Shell } from '../src/shell/shell.js';
import { tour } from '../src/tour.js';

const DIR = fileURLToPath(new URL('./golden/', import.meta.url));
const UPDATE = process.env['UPDATE_GOLDEN'] === '1';

/** Compares `actual` with the golden file `name`, or rewrites it under UPDATE_GOLDEN=1. */
function golden(name: string, actual: string): void {
  const path = `${DIR}${name}`;
  if (UPDATE) {
    writeFileSync(path, actual);
    return;
  }
  expect(existsSync(path), `${name} is missing: run with UPDATE_GOLDEN=1`).toBe(true);
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

/** The `zonedev run` options of a script's first line. */
export function scriptOptions(script: string): ReturnType<typeof parseRunArgs> {
  const first = script.split('\n')[0] ?? '';
  const parsed = parseLine(first.replace(/^#\s*/, ''));
  if (parsed.kind !== 'command' || parsed.words[0] !== 'zonedev' || parsed.words[1] !== 'run') {
    throw new Error(`first line must be '# zonedev run OPTIONS', got '${first}'`);
  }
  return parseRunArgs('run', parsed.words.slice(2));
}

/** Runs a script line by line as `zonedev run` would and records the transcript. */
export function transcript(script: string): { text: string; status: number } {
  const args = scriptOptions(script);
  if ('error' in args) throw new Error(args.error);
  let text = '';
  const sink = { write: (t: string): void => void (text += t) };
  const shell = new Shell(bootMachine(args.machine), { strict: args.strict, stdout: sink, stderr: sink });
  const lines = script.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let status: number | undefined;
  for (const line of lines.slice(1)) {
    text += `$ ${line}\n`;
    const r = shell.execLine(line);
    if (shell.exitStatus !== undefined) {
      status = shell.exitStatus;
      break;
    }
    if (r.ran && r.status !== 0 && shell.options.errexit) {
      status = 1;
      break;
    }
  }
  status ??= shell.status;
  text += `[exit status ${status}]\n`;
  return { text, status };
}

describe('the tour (pnpm demo)', () => {
  it('prints the golden transcript, the same bytes every time', () => {
    let a = '';
    expect(tour({ write: (t: string) => (a += t) })).toBe(0);
    golden('tour.txt', a);
    let b = '';
    tour({ write: (t: string) => (b += t) });
    expect(b).toBe(a);
  });
});

describe('golden scripts', () => {
  const scripts = readdirSync(DIR)
    .filter((f) => f.endsWith('.sh'))
    .sort();

  it('cover both profiles', () => {
    expect(scripts.some((s) => s.startsWith('x86_64-'))).toBe(true);
    expect(scripts.some((s) => s.startsWith('powerpc-'))).toBe(true);
  });

  for (const file of scripts) {
    it(file, () => {
      const script = readFileSync(`${DIR}${file}`, 'utf8');
      const { text } = transcript(script);
      golden(file.replace(/\.sh$/, '.out'), text);
    });
  }
});
