// One vitest run over every package, app and tool, each as its own project.
// Tests resolve @zonedev/* packages to their TypeScript sources, so `pnpm
// test:unit` needs no build; the consumer gate checks the built output.
import { readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));
const dirs = (group: string): string[] =>
  readdirSync(`${root}${group}`, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(`${root}${group}/${d.name}/package.json`))
    .map((d) => `${group}/${d.name}`);

const packages = dirs('packages');
const alias = Object.fromEntries(
  packages.map((p) => [`@zonedev/${p.slice('packages/'.length)}`, `${root}${p}/src/index.ts`]),
);

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [...packages, ...dirs('apps'), ...dirs('tools')].map((dir) => ({
      extends: true,
      test: {
        name: dir.slice(dir.indexOf('/') + 1),
        root: `${root}${dir}`,
        include: ['test/**/*.test.ts'],
        testTimeout: 60_000,
      },
    })),
  },
});
