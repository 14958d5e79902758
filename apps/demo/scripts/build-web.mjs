#!/usr/bin/env node
/**
 * Builds the web app (`zonedev web`) into dist/web/: src/web/main.ts and
 * everything it imports (the machine, the shell, every @zonedev package,
 * xterm.js) bundled and minified by esbuild for the browser into app.js,
 * with web/index.html, web/style.css and xterm's stylesheet beside it.
 * What the page imports dynamically goes to chunks/ and is loaded from the
 * same place when needed: the kernel-symbol table (right after the page
 * runs) and the tour (when it starts). Nothing is fetched from elsewhere.
 *
 * The @zonedev packages are bundled from their TypeScript sources (as the
 * tests run them), so the bundle needs no build of the packages first.
 * No `node:` module may reach the bundle (esbuild fails the build if one
 * does): in the browser, a `memory-backend-file` is @zonedev/platform's
 * in-memory store, as the platform package defaults to.
 *
 * It prints each JS file with its size, raw and gzipped, and the gzipped
 * total of the JS loaded before the page runs; `--metafile FILE` writes
 * esbuild's metafile (which input went where) to FILE.
 *
 * Usage: node scripts/build-web.mjs [--outdir DIR] [--sourcemap] [--metafile FILE]
 */
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const app = fileURLToPath(new URL('..', import.meta.url));
const repo = join(app, '..', '..');
const args = process.argv.slice(2);
const at = args.indexOf('--outdir');
const outdir = at >= 0 && args[at + 1] !== undefined ? args[at + 1] : join(app, 'dist', 'web');
const sourcemap = args.includes('--sourcemap');
const mf = args.indexOf('--metafile');
const metafileOut = mf >= 0 ? args[mf + 1] : undefined;

const packages = readdirSync(join(repo, 'packages'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(repo, 'packages', d.name, 'src', 'index.ts')))
  .map((d) => d.name);

/** @type {import('esbuild').Plugin} */
const workspace = {
  name: 'zonedev-workspace',
  setup(b) {
    b.onResolve({ filter: /^@zonedev\/[^/]+$/ }, (a) => {
      const name = a.path.slice('@zonedev/'.length);
      if (!packages.includes(name)) return undefined;
      return { path: join(repo, 'packages', name, 'src', 'index.ts') };
    });
  },
};

/**
 * The shell's kernel-symbol index (src/explain/kernel-index.ts) imports the
 * generated table statically; in the page that import is src/web/kernel-symbols.ts,
 * which holds the table once its lazily loaded chunk is in.
 */
const lazySymbols = {
  name: 'zonedev-lazy-kernel-symbols',
  setup(b) {
    b.onResolve({ filter: /\/kernel-symbols\.generated\.js$/ }, (a) => {
      if (!a.importer.endsWith(join('src', 'explain', 'kernel-index.ts'))) return undefined;
      return { path: join(app, 'src', 'web', 'kernel-symbols.ts') };
    });
  },
};

/** The JS files the page loads before it runs: the entry and, transitively, what it imports statically. */
function initialFiles(metafile, entry) {
  const seen = new Set();
  const walk = (f) => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const i of metafile.outputs[f]?.imports ?? []) if (i.kind === 'import-statement' && !i.external) walk(i.path);
  };
  walk(entry);
  return [...seen];
}

mkdirSync(outdir, { recursive: true });
// Chunk names carry a content hash: a new build must not leave the old ones beside it.
rmSync(join(outdir, 'chunks'), { recursive: true, force: true });
const result = await build({
  entryPoints: [join(app, 'src', 'web', 'main.ts')],
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap,
  outdir,
  entryNames: 'app',
  chunkNames: 'chunks/[name]-[hash]',
  splitting: true,
  plugins: [workspace, lazySymbols],
  logLevel: 'warning',
  metafile: true,
  absWorkingDir: app,
});
const require = createRequire(join(app, 'package.json'));
copyFileSync(join(dirname(require.resolve('@xterm/xterm/package.json')), 'css', 'xterm.css'), join(outdir, 'xterm.css'));
copyFileSync(join(app, 'web', 'style.css'), join(outdir, 'style.css'));
if (metafileOut !== undefined) writeFileSync(metafileOut, JSON.stringify(result.metafile));
const outputs = Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.js'));
const entry = outputs.find((f) => result.metafile.outputs[f].entryPoint !== undefined);
const initial = new Set(initialFiles(result.metafile, entry));
// The chunks app.js imports statically are announced in the page, so that the
// browser fetches them beside app.js instead of after it. The trace panel's
// index comes with the kernel-symbol chunk: the page embeds none.
const preload = [...initial]
  .filter((f) => f !== entry)
  .map((f) => `<link rel="modulepreload" href="${relative(outdir, join(app, f)).split(sep).join('/')}">\n`)
  .join('');
const html = readFileSync(join(app, 'web', 'index.html'), 'utf8')
  .replace('<script type="module" src="app.js"></script>', `${preload}<script type="module" src="app.js"></script>`);
writeFileSync(join(outdir, 'index.html'), html);
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
let first = 0;
const rows = outputs.map((f) => {
  const text = readFileSync(join(app, f));
  const gz = gzipSync(text, { level: 9 }).length;
  if (initial.has(f)) first += gz;
  return `  ${relative(outdir, join(app, f)).padEnd(44)} ${kib(text.length).padStart(11)} ${kib(gz).padStart(10)} gzipped${initial.has(f) ? '' : ', loaded later'}`;
});
console.log(`web app: ${outdir} (${kib(first)} of JS gzipped before the page runs)\n${rows.join('\n')}`);
