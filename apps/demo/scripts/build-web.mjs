#!/usr/bin/env node
/**
 * Builds the web app (`zonedev web`) into dist/web/: src/web/main.ts and
 * everything it imports (the machine, the shell, every @zonedev package,
 * xterm.js) bundled by esbuild for the browser into one script, with
 * web/index.html, web/style.css and xterm's stylesheet beside it. Nothing is
 * fetched at run time.
 *
 * The @zonedev packages are bundled from their TypeScript sources (as the
 * tests run them), so the bundle needs no build of the packages first.
 * No `node:` module may reach the bundle (esbuild fails the build if one
 * does): in the browser, a `memory-backend-file` is @zonedev/platform's
 * in-memory store, as the platform package defaults to. The page embeds docs/KERNEL-INDEX.md, parsed, as
 * the trace panel's map from kernel functions to kernel and model files.
 *
 * Usage: node scripts/build-web.mjs [--outdir DIR] [--sourcemap]
 */
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const app = fileURLToPath(new URL('..', import.meta.url));
const repo = join(app, '..', '..');
const args = process.argv.slice(2);
const at = args.indexOf('--outdir');
const outdir = at >= 0 && args[at + 1] !== undefined ? args[at + 1] : join(app, 'dist', 'web');
const sourcemap = args.includes('--sourcemap');

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

/** docs/KERNEL-INDEX.md as `{ name: [kernel file, model file, line] }` (see src/web/trace-view.ts). */
function kernelIndex() {
  const file = join(repo, 'docs', 'KERNEL-INDEX.md');
  if (!existsSync(file)) return {};
  const out = {};
  const traced = new Set();
  let kfile;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const h = /^## (\S+)$/.exec(line);
    if (h !== null) {
      kfile = h[1];
      continue;
    }
    if (kfile === undefined || !line.startsWith('| [`')) continue;
    const sym = /^\| \[`([A-Za-z0-9_]+)(?:\(\))?`\]\([^)]*\)( ⏱)?/.exec(line);
    const model = /\[((?:packages|apps)\/[^\]:]+):([0-9]+)\]/.exec(line);
    if (sym === null || model === null) continue;
    const name = sym[1];
    const isTraced = sym[2] !== undefined;
    if (Object.hasOwn(out, name) && (traced.has(name) || !isTraced)) continue;
    out[name] = [kfile, model[1], Number(model[2])];
    if (isTraced) traced.add(name);
  }
  return out;
}

mkdirSync(outdir, { recursive: true });
const result = await build({
  entryPoints: [join(app, 'src', 'web', 'main.ts')],
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap,
  outfile: join(outdir, 'app.js'),
  plugins: [workspace],
  logLevel: 'warning',
  metafile: true,
});
const require = createRequire(join(app, 'package.json'));
copyFileSync(join(dirname(require.resolve('@xterm/xterm/package.json')), 'css', 'xterm.css'), join(outdir, 'xterm.css'));
copyFileSync(join(app, 'web', 'style.css'), join(outdir, 'style.css'));
const index = JSON.stringify(kernelIndex()).replace(/</g, '\\u003c');
const html = readFileSync(join(app, 'web', 'index.html'), 'utf8').replace('{"kernel-index":"here"}', index);
writeFileSync(join(outdir, 'index.html'), html);
const bytes = Object.values(result.metafile.outputs).reduce((t, o) => t + o.bytes, 0);
console.log(`web app: ${outdir} (${Math.round(bytes / 1024)} KiB${sourcemap ? ' with its source map' : ''})`);
