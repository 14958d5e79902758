// tools/repo-checks/scripts/api-symbol-count.mjs: the per-package counts of
// exported symbols a reviewer compares before and after an API change.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

const SCRIPT = join(ROOT, 'tools/repo-checks/scripts/api-symbol-count.mjs');

interface Counts {
  readonly total: number;
  readonly function: number;
  readonly class: number;
  readonly interface: number;
  readonly type: number;
  readonly const: number;
  readonly 're-export': number;
  readonly members: number;
}

function run(...args: string[]): string {
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { cwd: ROOT, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

describe('api-symbol-count.mjs', () => {
  it('counts each kind of top-level declaration and the class and interface members of a report', async () => {
    const { countReport } = (await import(SCRIPT)) as { countReport: (t: string) => Counts & { counts: Record<string, number>; names: string[] } };
    const report = [
      '## API Report File for "@zonedev/x"',
      '',
      '```ts',
      "import type { Range } from '@zonedev/kernel';",
      '',
      '// @public',
      'export function f(a: number): number;',
      '',
      '// @public',
      'export class C {',
      '    constructor(x: number);',
      '    // (undocumented)',
      '    readonly name: string;',
      '    get size(): number;',
      '    method(r: Range): void;',
      '}',
      '',
      '// @public',
      'export interface I {',
      '    readonly start: number;',
      '}',
      '',
      '// @public',
      'export type T = number | string;',
      '',
      '// @public',
      'export const K = 1;',
      '',
      'export { Y }',
      '',
      '```',
    ].join('\n');
    const r = countReport(report);
    expect(r.total).toBe(6);
    expect(r.counts).toMatchObject({ function: 1, class: 1, interface: 1, type: 1, const: 1, 're-export': 1 });
    expect(r.members).toBe(5);
    expect(r.names).toEqual(['f', 'C', 'I', 'T', 'K', 'Y']);
  });

  it('reports every committed API report, and its totals are the reports’ top-level declarations', () => {
    const json = JSON.parse(run('--json')) as Record<string, Counts>;
    const packages = readdirSync(join(ROOT, 'packages')).sort();
    expect(Object.keys(json).sort()).toEqual(packages);
    for (const p of packages) {
      const text = readFileSync(join(ROOT, 'packages', p, 'etc', `${p}.api.md`), 'utf8');
      const decls = text.split('\n').filter((l) => /^export /.test(l)).length;
      expect(json[p]!.total, p).toBe(decls);
    }
    const table = run().split('\n');
    expect(table[0]).toMatch(/^package +total +function/);
    expect(table.at(-2)).toMatch(/^\(all\) +\d+/);
  });
});
