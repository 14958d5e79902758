#!/usr/bin/env node
// The consumer gate: would a user who installs our packages from npm get
// working, typed ESM?
//
//  1. `pnpm pack` every publishable package (workspace:^ ranges become real
//     versions, exactly as on publish);
//  2. `npm install` all the tarballs into a scratch project outside the
//     workspace (no access to the workspace's node_modules);
//  3. import every package from plain Node ESM and check it exports something
//     when its API report says it should;
//  4. type-check a small TypeScript consumer against the installed packages;
//  5. require() every package from a CommonJS project (what `npm init -y`
//     makes), which Node 20.19+ allows through the `default` export condition;
//  6. `publint --strict` on every package, and no build info in a tarball;
//  7. pack the `zonedev` app too, install it with the packages' tarballs, and
//     run its bin on a two-line script from standard input, as `npx zonedev
//     run -` would for someone who never cloned the repository.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const pkgDirs = readdirSync(join(root, 'packages')).map((d) => join(root, 'packages', d));
const manifests = pkgDirs.map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }));

const appDir = join(root, 'apps', 'demo');
const appPkg = JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8'));

const run = (cmd, args, opts = {}) =>
  execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...opts });

const scratch = mkdtempSync(join(tmpdir(), 'zonedev-consumer-'));
const tarballs = join(scratch, 'tarballs');
mkdirSync(tarballs);
let failed = false;
try {
  for (const { dir, pkg } of manifests) {
    run('pnpm', ['pack', '--pack-destination', tarballs], { cwd: dir });
    console.log(`packed ${pkg.name}`);
  }
  const app = join(scratch, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const files = readdirSync(tarballs).map((f) => join(tarballs, f));
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...files], { cwd: app });
  console.log(`installed ${files.length} tarballs into ${app}`);

  // Plain Node ESM import of every package.
  const names = manifests.map(({ pkg }) => pkg.name);
  const probe = names
    .map((n, i) => `import * as m${i} from '${n}'; console.log('${n}', Object.keys(m${i}).length);`)
    .join('\n');
  writeFileSync(join(app, 'probe.mjs'), probe);
  process.stdout.write(run('node', ['probe.mjs'], { cwd: app }));

  // A TypeScript consumer compiled against the installed declarations.
  const consumer = names.map((n, i) => `import * as m${i} from '${n}';\nexport const k${i}: object = m${i};`).join('\n');
  writeFileSync(join(app, 'consumer.ts'), consumer + '\n');
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        target: 'ES2022',
        strict: true,
        noEmit: true,
        types: [],
        skipLibCheck: false,
        exactOptionalPropertyTypes: true,
      },
      files: ['consumer.ts'],
    }),
  );
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  run('node', [tsc, '-p', 'tsconfig.json'], { cwd: app });
  console.log('type-checked a TypeScript consumer against the installed packages');

  // A CommonJS consumer: require() of each ESM package.
  const cjs = join(scratch, 'cjs');
  mkdirSync(cjs);
  writeFileSync(join(cjs, 'package.json'), JSON.stringify({ name: 'cjs-consumer', private: true }));
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...files], { cwd: cjs });
  const cjsProbe = names.map((n) => `console.log('${n}', Object.keys(require('${n}')).length);`).join('\n');
  writeFileSync(join(cjs, 'probe.cjs'), cjsProbe);
  process.stdout.write(run('node', ['probe.cjs'], { cwd: cjs }));
  console.log('required every package from a CommonJS project');

  for (const f of files) {
    const listing = run('tar', ['-tzf', f]);
    if (listing.includes('.tsbuildinfo')) throw new Error(`${f} ships a .tsbuildinfo`);
  }

  // The app: packed like the packages, installed beside their tarballs.
  const appTarballs = join(scratch, 'app-tarball');
  mkdirSync(appTarballs);
  run('pnpm', ['pack', '--pack-destination', appTarballs], { cwd: appDir });
  const appTarball = readdirSync(appTarballs).map((f) => join(appTarballs, f))[0];
  if (appTarball === undefined) throw new Error(`pnpm pack wrote no tarball for ${appPkg.name}`);
  if (run('tar', ['-tzf', appTarball]).includes('.tsbuildinfo')) throw new Error(`${appTarball} ships a .tsbuildinfo`);
  const cli = join(scratch, 'cli');
  mkdirSync(cli);
  writeFileSync(join(cli, 'package.json'), JSON.stringify({ name: 'cli-user', private: true }));
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', appTarball, ...files], { cwd: cli });
  const bin = join(cli, 'node_modules', '.bin', 'zonedev');
  const script = 'cat /sys/devices/system/memory/block_size_bytes\ncat /proc/iomem\n';
  const out = run(bin, ['run', '-'], { cwd: cli, input: script, stdio: ['pipe', 'pipe', 'pipe'] });
  if (!/(^|\n)8000000\n/.test(out) || !out.includes('System RAM')) {
    throw new Error(`${appPkg.name} run - printed an unexpected transcript:\n${out}`);
  }
  console.log(`ran the installed ${appPkg.name} bin on a two-line script (${out.split('\n').length - 1} lines of output)`);

  const publint = join(root, 'node_modules', 'publint', 'src', 'cli.js');
  for (const { dir, pkg } of [...manifests, { dir: appDir, pkg: appPkg }]) {
    const out = run('node', [publint, '--strict', '--pack', 'pnpm', dir], { cwd: dir });
    console.log(`publint ${pkg.name}: ${out.trim().split('\n').pop()}`);
  }
} catch (e) {
  failed = true;
  console.error(`consumer check failed: ${e.message}`);
  if (e.stdout) console.error(e.stdout);
  if (e.stderr) console.error(e.stderr);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
