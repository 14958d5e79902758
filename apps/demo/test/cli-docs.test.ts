// The repository explains itself: docs/ARCHITECTURE.md and CONTRIBUTING.md
// exist, the README links to them, their relative links resolve, and the
// files that used to cite a design document or working rules outside the
// repository now cite docs/ARCHITECTURE.md and nothing outside the checkout.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

/** The relative targets of a Markdown file's `[text](target)` links (no URLs, no anchors). */
function relativeLinks(text: string): string[] {
  return [...text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1]!).filter((t) => !/^[a-z]+:/.test(t));
}

describe('docs/ARCHITECTURE.md and CONTRIBUTING.md', () => {
  it('exist, replace docs/HELPERS.md, and are linked from the README', () => {
    expect(existsSync(join(ROOT, 'docs/ARCHITECTURE.md'))).toBe(true);
    expect(existsSync(join(ROOT, 'CONTRIBUTING.md'))).toBe(true);
    expect(existsSync(join(ROOT, 'docs/HELPERS.md'))).toBe(false);
    const readme = read('README.md');
    expect(relativeLinks(readme)).toContain('docs/ARCHITECTURE.md');
    expect(relativeLinks(readme)).toContain('CONTRIBUTING.md');
  });

  it('cover the layers, the rules of the model, the gates and each package', () => {
    const arch = read('docs/ARCHITECTURE.md');
    for (const heading of ['## Layers', '## Rules of the model', '## The gates', '### Why each package exists']) expect(arch).toContain(heading);
    for (const pkg of ['kernel', 'mmzone', 'sparse-vmemmap', 'mm', 'memory-hotplug', 'memremap', 'libnvdimm', 'hmm']) {
      expect(arch, pkg).toContain(`| \`${pkg}\` |`);
    }
    const contributing = read('CONTRIBUTING.md');
    for (const topic of ['## Changing a package', '## Refreshing the API report', '## Adding a changeset', '## Running the gates', '### Porting a kernel test']) {
      expect(contributing).toContain(topic);
    }
    expect(contributing).toContain('turbo run api:update --filter=@zonedev/<name>');
  });

  it('have relative links that resolve inside the repository', () => {
    for (const doc of ['README.md', 'CONTRIBUTING.md', 'docs/ARCHITECTURE.md']) {
      for (const target of relativeLinks(read(doc))) {
        expect(existsSync(join(ROOT, dirname(doc), target)), `${doc} -> ${target}`).toBe(true);
      }
    }
    // Every file CONTRIBUTING.md names as an example exists.
    for (const path of ['packages/memory-hotplug/test/mem-on-off.test.ts', 'packages/kernel/src/trace.ts', 'apps/demo/test/golden']) {
      expect(read('CONTRIBUTING.md')).toContain(path);
      expect(existsSync(join(ROOT, path)), path).toBe(true);
    }
  });

  it('leave no reference to a design document or a machine path outside the repository', () => {
    const files = ['README.md', 'CONTRIBUTING.md', 'docs/ARCHITECTURE.md', 'eslint.config.js', 'tools/repo-checks/test/boundaries.test.ts', 'apps/demo/src/tour.ts'];
    for (const f of files) {
      const text = read(f);
      expect(text, f).not.toMatch(/\bDESIGN\.md\b|HELPERS\.md|\.\.\/shared\//);
      expect(text, f).not.toMatch(/\bseeds? 0\d\d\b/i);
    }
    expect(read('eslint.config.js')).toContain('docs/ARCHITECTURE.md');
    expect(read('tools/repo-checks/test/boundaries.test.ts')).toContain('docs/ARCHITECTURE.md');
  });
});
