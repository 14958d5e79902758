// The first command a new user runs: the repository README's, then the
// demo's. Both end in `pnpm demo`, which the root package.json runs as
// `node apps/demo/dist/cli.js tour`: the same entry point as main(['tour']).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../src/main.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The first line of the first fenced code block of a Markdown file. */
function firstCommand(path: string): string {
  const text = readFileSync(path, 'utf8');
  const m = /```[a-z]*\n([^\n]+)\n/.exec(text);
  if (m === null) throw new Error(`${path} has no code block`);
  return m[1]!;
}

describe("the README's first command", () => {
  it('runs the tour on a fresh clone: pnpm demo -> node apps/demo/dist/cli.js tour', async () => {
    expect(firstCommand(`${ROOT}README.md`)).toMatch(/pnpm demo$/);
    expect(firstCommand(`${ROOT}apps/demo/README.md`)).toMatch(/^pnpm demo\b/);
    const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['demo']).toMatch(/&& node apps\/demo\/dist\/cli\.js tour$/);
    let out = '';
    let err = '';
    const code = await main(['tour'], {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
      readFile: () => '',
      readStdin: () => Promise.resolve(''),
      input: { stream: Readable.from([]), terminal: undefined },
    });
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(out).toBe(readFileSync(`${ROOT}apps/demo/test/golden/tour.txt`, 'utf8'));
  });
});
