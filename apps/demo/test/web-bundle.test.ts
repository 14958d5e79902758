/**
 * The web app's bundle (scripts/build-web.mjs): what the page loads before
 * it runs stays under a budget, the kernel-symbol table and the tour come as
 * chunks loaded later, xterm.js is bundled (no CDN), and `zonedev web --out`
 * copies the chunks with the page.
 *
 * The budget is of the gzipped JS the page needs before it runs: app.js and
 * the chunks it imports statically, as esbuild's metafile lists them. It is
 * set a little above what the build reaches (352 KiB for xterm.js, the
 * machine and the shell; ndctl check-namespace brings the userspace BTT
 * checker along, the process commands mm's user side, the sysfs files of
 * memory failure (mm/memory-failure.c), and every package checks
 * struct-valued arguments field by field at its boundary), so that growing
 * it is a decision.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webCommand } from '../src/web-cli.js';

const APP = fileURLToPath(new URL('..', import.meta.url));
/** Gzipped bytes of JS loaded before the page runs. */
const INITIAL_JS_BUDGET = 356 * 1024;

interface Metafile {
  readonly outputs: Readonly<
    Record<
      string,
      {
        readonly bytes: number;
        readonly entryPoint?: string;
        readonly imports: readonly { readonly path: string; readonly kind: string; readonly external?: boolean }[];
        readonly inputs: Readonly<Record<string, { readonly bytesInOutput: number }>>;
      }
    >
  >;
}

describe('the web bundle', () => {
  let dir: string;
  let meta: Metafile;
  let initial: string[];
  let lazy: string[];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'zonedev-web-bundle-'));
    const metafile = join(dir, 'meta.json');
    execFileSync(process.execPath, [join(APP, 'scripts', 'build-web.mjs'), '--outdir', join(dir, 'web'), '--metafile', metafile], { stdio: 'pipe' });
    meta = JSON.parse(readFileSync(metafile, 'utf8')) as Metafile;
    const js = Object.keys(meta.outputs).filter((f) => f.endsWith('.js'));
    const entry = js.find((f) => meta.outputs[f]!.entryPoint !== undefined)!;
    const seen = new Set<string>();
    const walk = (f: string): void => {
      if (seen.has(f)) return;
      seen.add(f);
      for (const i of meta.outputs[f]!.imports) if (i.kind === 'import-statement' && i.external !== true) walk(i.path);
    };
    walk(entry);
    initial = [...seen];
    lazy = js.filter((f) => !seen.has(f));
  }, 120_000);

  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const gz = (f: string): number => gzipSync(readFileSync(join(APP, f)), { level: 9 }).length;
  /** The outputs that carry input file `path` (from apps/demo). */
  const holding = (path: string): string[] => Object.keys(meta.outputs).filter((f) => (meta.outputs[f]!.inputs[path]?.bytesInOutput ?? 0) > 0);

  it(`loads at most ${INITIAL_JS_BUDGET / 1024} KiB of gzipped JS before the page runs`, () => {
    expect(initial[0]).toMatch(/\/app\.js$/);
    const total = initial.reduce((t, f) => t + gz(f), 0);
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThanOrEqual(INITIAL_JS_BUDGET);
  });

  it('the kernel-symbol table and the tour are chunks loaded later; xterm.js is bundled', () => {
    for (const input of ['src/explain/kernel-symbols.generated.ts', 'src/tour.ts']) {
      const where = holding(input);
      expect([input, where.length]).toEqual([input, 1]);
      expect(lazy).toContain(where[0]);
    }
    const xterm = Object.keys(meta.outputs[initial[0]!]!.inputs).concat(...initial.slice(1).map((f) => Object.keys(meta.outputs[f]!.inputs)));
    expect(xterm.some((i) => /@xterm\/xterm\/lib\/xterm\.mjs$/.test(i))).toBe(true);
    // Nothing is fetched from elsewhere: every import of every chunk is one of the bundle's own files.
    for (const f of Object.keys(meta.outputs)) for (const i of meta.outputs[f]!.imports) expect([f, i.path, i.external ?? false]).toEqual([f, i.path, false]);
  });

  it('zonedev web --out copies the page with its chunks', async () => {
    const out = join(dir, 'site');
    const io = { stdout: { write: (): void => undefined }, stderr: { write: (): void => undefined } };
    expect(await webCommand(['--out', out], io, join(dir, 'web'))).toBe(0);
    const chunks = readdirSync(join(dir, 'web', 'chunks')).sort();
    expect(chunks.length).toBe(lazy.length + initial.length - 1);
    expect(readdirSync(join(out, 'chunks')).sort()).toEqual(chunks);
    expect(readdirSync(out).sort()).toEqual(['app.js', 'chunks', 'index.html', 'style.css', 'xterm.css']);
  });

  it('the page announces the chunks app.js imports, and embeds no index', () => {
    const html = readFileSync(join(dir, 'web', 'index.html'), 'utf8');
    const announced = [...html.matchAll(/<link rel="modulepreload" href="([^"]+)">/g)].map((m) => m[1]);
    expect(announced.sort()).toEqual(initial.slice(1).map((f) => f.slice(f.lastIndexOf('chunks/'))).sort());
    expect(announced.length).toBeGreaterThan(0);
    expect(html).not.toContain('kernel-index');
  });
});
