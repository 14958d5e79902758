// docs/KERNEL-INDEX.md is generated from the doc comments of packages/*/src
// by tools/repo-checks/scripts/kernel-index.mjs: it must be what the script
// produces from the sources as they are now. So must the demo's copy of the
// entries (apps/demo/src/explain/kernel-symbols.generated.ts), which its
// `where` and `explain` commands read.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

const SCRIPT = join(ROOT, 'tools/repo-checks/scripts/kernel-index.mjs');

function generate(mode: '--stdout' | '--module' = '--stdout'): string {
  const r = spawnSync(process.execPath, [SCRIPT, mode], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`kernel-index.mjs failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Fails with the first differing line when `path` is not `fresh`. */
function expectFresh(path: string, fresh: string): void {
  const committed = readFileSync(join(ROOT, path), 'utf8');
  if (committed !== fresh) {
    const a = committed.split('\n');
    const b = fresh.split('\n');
    let i = 0;
    while (i < Math.max(a.length, b.length) && a[i] === b[i]) i++;
    expect.fail(
      `${path} is stale: run \`pnpm docs:index\` and commit the result.\n` +
        `first difference at line ${i + 1}:\n  committed: ${a[i] ?? '(end of file)'}\n  generated: ${b[i] ?? '(end of file)'}`,
    );
  }
}

describe('docs/KERNEL-INDEX.md', () => {
  const fresh = generate();

  it('is up to date with the sources (regenerate with `pnpm docs:index`)', () => {
    expectFresh('docs/KERNEL-INDEX.md', fresh);
  });

  it("has the demo's copy of its entries up to date too (the module `where` and `explain` read)", () => {
    const module = generate('--module');
    expectFresh('apps/demo/src/explain/kernel-symbols.generated.ts', module);
    // The same entries as the Markdown: one row per table row.
    const rows = module.split('\n').filter((l) => l.startsWith('  [')).length;
    expect(rows).toBe(fresh.split('\n').filter((l) => l.startsWith('| [`')).length);
    expect(module).toMatch(/\n {2}\['__add_pages','f','mm\/memory_hotplug\.c',1,'@zonedev\/memory-hotplug','MemoryHotplug\.__addPages','MemoryHotplug\.__addPages','packages\/memory-hotplug\/src\/memory-hotplug\.ts',[0-9]+\],\n/);
  });

  it('indexes what the doc comments say: the kernel file, package, export and model line of a mirrored function', () => {
    // Each check reads the source line the index points at, so it holds whatever the line numbers are.
    const row = (symbol: string, exportName: string): { file: string; path: string; line: number } => {
      let file = '';
      for (const l of fresh.split('\n')) {
        if (l.startsWith('## ')) file = l.slice(3);
        const m = new RegExp(`^\\| \\[\`${symbol.replace(/[()]/g, '\\$&')}\`\\][^|]*\\| @zonedev/[a-z-]+ \\| \`${exportName}\` \\| \\[([^:\\]]+):([0-9]+)\\]`).exec(l);
        if (m !== null) return { file, path: m[1]!, line: Number(m[2]) };
      }
      throw new Error(`${symbol} as ${exportName} is not in the index`);
    };
    const addPages = row('__add_pages()', 'MemoryHotplug.__addPages');
    expect(addPages.file).toBe('mm/memory_hotplug.c');
    expect(addPages.path).toBe('packages/memory-hotplug/src/memory-hotplug.ts');
    expect(readFileSync(join(ROOT, addPages.path), 'utf8').split('\n')[addPages.line - 1]).toMatch(/^\s*__addPages\(/);
    const request = row('request_resource()', 'ResourceTree.requestResource');
    expect(request.file).toBe('kernel/resource.c');
    const pgmap = row('struct dev_pagemap', 'DevPagemap');
    expect(pgmap.file).toBe('include/linux/memremap.h');
    expect(readFileSync(join(ROOT, pgmap.path), 'utf8').split('\n')[pgmap.line - 1]).toMatch(/DevPagemap/);
  });

  it('lists every function-graph trace point of the sources', () => {
    const traced = new Set<string>();
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir).sort()) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (name.endsWith('.ts')) {
          for (const m of readFileSync(p, 'utf8').matchAll(/\.(?:invoke|call)\(\s*'([A-Za-z_]\w*)'|\.traced\(\s*\w+,\s*'([A-Za-z_]\w*)'/g)) traced.add((m[1] ?? m[2])!);
        }
      }
    };
    for (const pkg of readdirSync(join(ROOT, 'packages'))) {
      const src = join(ROOT, 'packages', pkg, 'src');
      if (existsSync(src)) walk(src);
    }
    expect(traced.size).toBeGreaterThan(50);
    const missing = [...traced].filter((t) => !fresh.includes(`[\`${t}()\`](https://elixir.bootlin.com/linux/v5.13/A/ident/${t}) ⏱`));
    expect(missing).toEqual([]);
  });
});
