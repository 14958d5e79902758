// The layer graph gate (dependency-cruiser) and the import rules (ESLint)
// reject what docs/ARCHITECTURE.md forbids. Each case writes a violating file
// into a scratch copy of the sources and runs the real checker on it.
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, copyIntoScratch, makeScratch, removeScratch, runBin } from './helpers.js';

const PACKAGES = readdirSync(join(ROOT, 'packages'));

describe('dependency-cruiser enforces the layer graph', () => {
  let dir: string;
  beforeAll(() => {
    dir = makeScratch('layers');
    copyIntoScratch(dir, [
      '.dependency-cruiser.cjs',
      'tsconfig.base.json',
      'tsconfig.depcruise.json',
      ...PACKAGES.flatMap((p) => [`packages/${p}/src`, `packages/${p}/package.json`]),
      'apps/demo/src',
    ]);
    // The app's third-party imports (the web app's terminal) resolve as in the tree.
    symlinkSync(join(ROOT, 'apps/demo/node_modules'), join(dir, 'apps/demo/node_modules'));
  });
  afterAll(() => removeScratch(dir));

  const cruise = (file: string, source: string): ReturnType<typeof runBin> => {
    const path = join(dir, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, source);
    try {
      return runBin('depcruise', ['packages', 'apps', '--config', '.dependency-cruiser.cjs'], dir);
    } finally {
      writeFileSync(path, 'export {};\n');
    }
  };

  it('accepts the tree as it is', () => {
    const r = runBin('depcruise', ['packages', 'apps', '--config', '.dependency-cruiser.cjs'], dir);
    expect(r.output).toContain('no dependency violations found');
    expect(r.status).toBe(0);
  });

  it('accepts a downward import (memremap -> kernel)', () => {
    const r = cruise('packages/memremap/src/ok.ts', "import { KernelError } from '@zonedev/kernel';\nexport const k = KernelError;\n");
    expect(r.status).toBe(0);
  });

  it('rejects an upward import (kernel -> mmzone)', () => {
    const r = cruise('packages/kernel/src/bad.ts', "export * from '@zonedev/mmzone';\n");
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('layer-kernel');
  });

  it('rejects a sideways import (libnvdimm -> hmm) both ways', () => {
    const a = cruise('packages/libnvdimm/src/bad.ts', "export * from '@zonedev/hmm';\n");
    expect(a.status).not.toBe(0);
    expect(a.output).toContain('layer-libnvdimm');
    const b = cruise('packages/hmm/src/bad.ts', "export * from '@zonedev/libnvdimm';\n");
    expect(b.status).not.toBe(0);
    expect(b.output).toContain('layer-hmm');
  });

  it('rejects a relative import into another package', () => {
    const r = cruise('packages/mmzone/src/bad.ts', "export * from '../../memremap/src/index.js';\n");
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('layer-mmzone');
  });

  it('rejects a package importing an app', () => {
    const r = cruise('packages/hmm/src/bad.ts', "export * from '../../../apps/demo/src/main.js';\n");
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('no-package-imports-app');
  });

  it('rejects a cycle inside a package', () => {
    writeFileSync(join(dir, 'packages/kernel/src/cyc-b.ts'), "import { a } from './cyc-a.js';\nexport const b = (): unknown => a;\n");
    try {
      const r = cruise('packages/kernel/src/cyc-a.ts', "import { b } from './cyc-b.js';\nexport const a = (): unknown => b;\n");
      expect(r.status).not.toBe(0);
      expect(r.output).toContain('no-circular');
    } finally {
      writeFileSync(join(dir, 'packages/kernel/src/cyc-b.ts'), 'export {};\n');
    }
  });

  it('allows a cycle made only of type imports, which the compiler erases', () => {
    writeFileSync(join(dir, 'packages/kernel/src/cyc-b.ts'), "import type { A } from './cyc-a.js';\nexport interface B { a: A }\n");
    try {
      const r = cruise('packages/kernel/src/cyc-a.ts', "import type { B } from './cyc-b.js';\nexport interface A { b: B }\n");
      expect(r.output).not.toContain('no-circular');
      expect(r.status).toBe(0);
    } finally {
      writeFileSync(join(dir, 'packages/kernel/src/cyc-b.ts'), 'export {};\n');
    }
  });
});

describe('ESLint forbids deep and cross-package relative imports', () => {
  let dir: string;
  beforeAll(() => {
    dir = makeScratch('eslint');
    copyIntoScratch(dir, ['packages/kernel/package.json', 'packages/kernel/src', 'packages/mmzone/package.json']);
    mkdirSync(join(dir, 'packages/mmzone/src'), { recursive: true });
  });
  afterAll(() => removeScratch(dir));

  const lint = (source: string): ReturnType<typeof runBin> => {
    const file = join(dir, 'packages/mmzone/src/probe.ts');
    writeFileSync(file, source);
    return runBin('eslint', ['--no-warn-ignored', file], ROOT);
  };

  it('accepts an import through the entry point', () => {
    const r = lint("import { KernelError } from '@zonedev/kernel';\nexport const k = KernelError;\n");
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });

  it('rejects a deep import (@zonedev/kernel/...)', () => {
    const r = lint("import { KernelError } from '@zonedev/kernel/src/errno.js';\nexport const k = KernelError;\n");
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('no-restricted-imports');
    expect(r.output).toContain('Deep imports are forbidden');
  });

  it('rejects a relative import into another package', () => {
    const r = lint("import { KernelError } from '../../kernel/src/errno.js';\nexport const k = KernelError;\n");
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('import-x/no-relative-packages');
  });

  it('rejects 32-bit bitwise arithmetic on addresses', () => {
    const r = lint('export const alignDown = (x: number): number => x & ~0xfff;\n');
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('no-bitwise');
  });
});
