// `pnpm docs`: TypeDoc builds the HTML API reference of every package from
// its doc comments (typedoc.json at the root, into docs/api). It must build
// with no warning — a type in a public signature that the package does not
// export, a broken {@link}, an unknown TSDoc tag all fail it, as
// treatWarningsAsErrors makes them — and the packages' pages must link to
// each other. The build reads the packages' built declarations for the types
// one package takes from another, as `pnpm test` builds them first.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeScratch, removeScratch, ROOT } from './helpers.js';

const config = JSON.parse(readFileSync(join(ROOT, 'typedoc.json'), 'utf8')) as {
  entryPoints: string[];
  out: string;
  treatWarningsAsErrors: boolean;
};

describe('pnpm docs (TypeDoc)', () => {
  const out = makeScratch('api-docs');
  afterAll(() => removeScratch(out));

  it('documents every package, into docs/api, with warnings as errors', () => {
    const packages = readdirSync(join(ROOT, 'packages'))
      .filter((p) => existsSync(join(ROOT, 'packages', p, 'package.json')))
      .map((p) => `packages/${p}`)
      .sort();
    expect([...config.entryPoints].sort()).toEqual(packages);
    expect(config.out).toBe('docs/api');
    expect(config.treatWarningsAsErrors).toBe(true);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['docs']).toBe('typedoc');
  });

  it('builds with no warning, and the packages link to each other', () => {
    const r = spawnSync(join(ROOT, 'node_modules/.bin/typedoc'), ['--out', out], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
    // eslint-disable-next-line no-control-regex
    const text = `${r.stdout}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
    expect(text.split('\n').filter((l) => /\[warning\]|\[error\]/.test(l))).toEqual([]);
    expect(r.status, text).toBe(0);
    for (const p of config.entryPoints) {
      const name = `_zonedev_${p.slice('packages/'.length)}`;
      expect(existsSync(join(out, 'modules', `${name}.html`)), name).toBe(true);
    }
    // A memory-hotplug class page links to @zonedev/kernel's pages (the types it takes from the kernel package).
    const page = readFileSync(join(out, 'classes', '_zonedev_memory-hotplug.MemoryHotplug.html'), 'utf8');
    expect(page).toMatch(/href="[^"]*_zonedev_kernel\.[A-Za-z]+\.html/);
  }, 300_000);
});
