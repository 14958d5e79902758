// Shared helpers of the gate tests: a scratch copy of part of the repository,
// placed inside the repository (so ESLint's flat config and node_modules
// resolution apply to it) under the git-ignored tools/repo-checks/scratch/.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT: string = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const SCRATCH = join(ROOT, 'tools/repo-checks/scratch');

/** A fresh scratch directory; the caller removes it with {@link removeScratch}. */
export function makeScratch(prefix: string): string {
  mkdirSync(SCRATCH, { recursive: true });
  return mkdtempSync(join(SCRATCH, `${prefix}-`));
}

export function removeScratch(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Copies repository-relative paths into `dir`, skipping build output. */
export function copyIntoScratch(dir: string, paths: readonly string[]): void {
  for (const p of paths) {
    cpSync(join(ROOT, p), join(dir, p), {
      recursive: true,
      filter: (src) => !/[/\\](node_modules|dist|temp|\.turbo)([/\\]|$)/.test(src),
    });
  }
}

export interface RunResult {
  status: number | null;
  output: string;
}

/** Runs a binary from the repository's node_modules/.bin in `cwd`. */
export function runBin(bin: string, args: readonly string[], cwd: string): RunResult {
  const r = spawnSync(join(ROOT, 'node_modules/.bin', bin), args, { cwd, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}
