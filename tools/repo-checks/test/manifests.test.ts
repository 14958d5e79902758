// Every package follows the publishing rules of CONVENTIONS.md, and its
// tsconfig references exactly its workspace dependencies.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

const LAYERS: Record<string, string[]> = {
  kernel: [],
  mmzone: ['kernel'],
  'sparse-vmemmap': ['kernel', 'mmzone'],
  mm: ['kernel', 'mmzone', 'sparse-vmemmap'],
  'memory-hotplug': ['kernel', 'mmzone', 'sparse-vmemmap', 'mm'],
  memremap: ['kernel', 'mmzone', 'sparse-vmemmap', 'mm', 'memory-hotplug'],
  libnvdimm: ['kernel', 'mmzone', 'sparse-vmemmap', 'mm', 'memory-hotplug', 'memremap'],
  hmm: ['kernel', 'mmzone', 'sparse-vmemmap', 'mm', 'memory-hotplug', 'memremap'],
  platform: ['kernel', 'mmzone', 'sparse-vmemmap', 'mm', 'memory-hotplug', 'memremap', 'libnvdimm', 'hmm'],
};

const json = (path: string): Record<string, unknown> => JSON.parse(readFileSync(join(ROOT, path), 'utf8'));

describe('package manifests', () => {
  it('are exactly the packages of the layer graph', () => {
    expect(readdirSync(join(ROOT, 'packages')).sort()).toEqual(Object.keys(LAYERS).sort());
  });

  for (const [name, deps] of Object.entries(LAYERS)) {
    it(`@zonedev/${name} is a publishable ESM package with one entry point`, () => {
      const pkg = json(`packages/${name}/package.json`);
      expect(pkg.name).toBe(`@zonedev/${name}`);
      expect(pkg.type).toBe('module');
      expect(pkg.sideEffects).toBe(false);
      // The build info is an artifact of `tsc -b`, not something a user installs.
      expect(pkg.files).toEqual(['dist', '!dist/.tsbuildinfo', 'src']);
      expect(Object.keys(pkg.exports as object)).toEqual(['.', './package.json']);
      // A `default` condition lets a CommonJS project require() the ESM entry
      // (Node 20.19+), where an `import`-only map would refuse it.
      const entry = (pkg.exports as Record<string, Record<string, string>>)['.'];
      expect(entry).toEqual({ types: './dist/index.d.ts', import: './dist/index.js', default: './dist/index.js' });
      const workspaceDeps = Object.keys((pkg.dependencies ?? {}) as object)
        .filter((d) => d.startsWith('@zonedev/'))
        .map((d) => d.slice('@zonedev/'.length));
      expect(workspaceDeps.sort()).toEqual([...deps].sort());
      const tsconfig = json(`packages/${name}/tsconfig.json`);
      const refs = ((tsconfig.references ?? []) as { path: string }[]).map((r) => r.path.replace('../', ''));
      expect(refs.sort()).toEqual([...deps].sort());
      expect(json(`packages/${name}/api-extractor.json`).extends).toBe('../../api-extractor.base.json');
      expect(existsSync(join(ROOT, `packages/${name}/etc/${name}.api.md`))).toBe(true);
      expect(existsSync(join(ROOT, `packages/${name}/src/index.ts`))).toBe(true);
      expect(readFileSync(join(ROOT, `packages/${name}/README.md`), 'utf8')).toMatch(/\*\*Mirrors:\*\*[\s\S]*\*\*Owns:\*\*/);
    });
  }

  it('the demo app is published as zonedev, its bin the built CLI', () => {
    const demo = json('apps/demo/package.json');
    expect(demo.name).toBe('zonedev');
    expect(demo.private).toBeUndefined();
    expect(demo.type).toBe('module');
    expect(demo.bin).toEqual({ zonedev: './dist/cli.js' });
    expect(demo.files).toContain('dist');
  });

  it('pins pnpm in packageManager', () => {
    expect(json('package.json').packageManager).toBe('pnpm@10.34.9');
  });
});
