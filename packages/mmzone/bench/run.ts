// Benchmarks of @zonedev/mmzone (pnpm bench): speed as ratios against a
// baseline measured in the same run (the repository's harness,
// @zonedev/bench-kit), and memory figures from separate processes
// (bench/memory-child.ts; bench-kit has no RSS helper).
//
// (a) initializing 4 Mi struct pages (__init_single_page for every page)
//     against TypedArray.fill of 4 Mi x 64 bytes: target ratio <= 2.0.
//     a1: the bulk path (memmap_init_range: whole sections take a shared
//         template); a2: partial ranges, filled into columns; a3: one call
//         of __init_single_page per page (issue 20: target <= 1.5).
// (b) alloc + free of order-0 pages, operations per second, against a plain
//     array push/pop (reported: no target).
// (c) memory: 64 TiB of registered sections (< 1 GiB RSS), 64 Mi
//     individually written struct pages, dense 256 GiB (< 2 GiB RSS, and
//     issue 20: <= 16 host bytes per page, the process's own RSS included),
//     and host bytes per
//     struct page diverging from its section's template (<= 72), for dense
//     divergence and the two worst patterns: pages at random over 64 TiB,
//     and one page in each of many sections.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runRatios } from '@zonedev/bench-kit';
import { Kernel } from '@zonedev/kernel';
import { createMmConfig } from '../src/config.js';
import { X86_64 } from '../test/machines.js';
import { GFP_KERNEL } from '../src/gfp.js';
import { MemmapStore } from '../src/memmap.js';
import { MmCore } from '../src/page-alloc.js';

const cfg = createMmConfig(X86_64);
const N = 4 * 2 ** 20;
const PPS = cfg.pagesPerSection;

const fillBuf = new Uint8Array(N * 64);
let fillByte = 0;
const fill = (): void => {
  fillByte = (fillByte + 1) % 251;
  fillBuf.fill(fillByte);
};

const bulk = new MemmapStore(cfg);
for (let s = 0; s < N / PPS; s++) bulk.initSection(s);
let zone = 0;
const partial = new MemmapStore(cfg);
for (let s = 0; s < N / PPS; s++) partial.initSection(s);
partial.materialize(0, N);
const perPage = new MemmapStore(cfg);
for (let s = 0; s < N / PPS; s++) perPage.initSection(s);
perPage.materialize(0, N);

/** A full collection (node --expose-gc), so that no case pays for the garbage of the one before. */
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
gc();
const [a1] = await runRatios('@zonedev/mmzone: memmap initialization (4 Mi struct pages)', [
  {
    name: '(a1) memmap_init_range 4 Mi pages (bulk) vs fill 4 Mi x 64 B',
    target: 2.0,
    baseline: fill,
    subject: () => {
      zone = (zone + 1) % 3;
      bulk.initSinglePageRange(0, N, zone, 0);
    },
  },
]);
gc();
const [a2] = await runRatios('@zonedev/mmzone: memmap initialization, partial ranges', [
  {
    name: '(a2) partial ranges into columns vs fill',
    target: 2.0,
    baseline: fill,
    subject: () => {
      zone = (zone + 1) % 3;
      for (let s = 0; s < N / PPS; s++) partial.initSinglePageRange(s * PPS + 1, PPS - 2, zone, 0);
    },
  },
]);
gc();
const [a3] = await runRatios('@zonedev/mmzone: memmap initialization, page by page', [
  {
    name: '(a3) __init_single_page x 4 Mi calls vs fill',
    target: 1.5,
    baseline: fill,
    subject: () => {
      zone = (zone + 1) % 3;
      for (let p = 0; p < N; p++) perPage.initSinglePage(p, zone, 0);
      // the pages are read back, so that the call's whole effect is timed
      if (perPage.pageZonenum(N - 1) !== zone) throw new Error('__init_single_page lost a page');
    },
  },
]);
console.log(`(a) ratios: a1 ${a1!.ratio.toFixed(3)}, a2 ${a2!.ratio.toFixed(3)}, a3 ${a3!.ratio.toFixed(3)}`);
gc();

// (b): a 4 GiB machine, pages allocated and freed in batches of 1000
const kernel = new Kernel();
const mm = new MmCore({ kernel, config: cfg });
for (let s = 0; s < 32; s++) mm.memmap.initSection(s);
mm.bootMemory([{ startPfn: 256, endPfn: 32 * PPS, nid: 0 }]);
const BATCH = 1000;
const pfns = new Float64Array(BATCH);
const stack: number[] = [];
const [b] = await runRatios('@zonedev/mmzone: buddy allocator (reported; the issue sets no target)', [
  {
    name: '(b) alloc_pages+__free_pages order 0 x 1000 vs push/pop',
    target: Number.POSITIVE_INFINITY,
    baseline: () => {
      for (let j = 0; j < BATCH; j++) stack.push(j);
      for (let j = 0; j < BATCH; j++) stack.pop();
    },
    subject: () => {
      for (let j = 0; j < BATCH; j++) pfns[j] = mm.allocPages(GFP_KERNEL, 0)!;
      for (let j = 0; j < BATCH; j++) mm.freePages(pfns[j]! as number, 0);
    },
  },
]);
console.log(`(b) ${Math.round((BATCH / b!.subjectMs) * 1000).toLocaleString('en-US')} alloc+free pairs/s`);

// (c): memory, each in a fresh process
const child = fileURLToPath(new URL('./memory-child.ts', import.meta.url));
const MiB = 2 ** 20;
interface ChildResult {
  readonly pages: number;
  readonly diverged: number;
  readonly rssBytes: number;
  readonly bytesPerDiverged?: number;
  readonly ms: number;
}
const measure = (which: string): ChildResult => {
  const out = execFileSync(process.execPath, ['--expose-gc', '--max-old-space-size=4096', '--import', 'tsx/esm', child, which], {
    encoding: 'utf8',
    maxBuffer: 2 ** 24,
  });
  return JSON.parse(out.trim().split('\n').at(-1)!) as ChildResult;
};
const mib = (bytes: number): string => `${(bytes / MiB).toFixed(0)} MiB`;
const verdict = (ok: boolean): string => (ok ? 'ok' : 'MISSED');
console.log('\n@zonedev/mmzone: memory (separate processes, RSS after GC)');
for (const [which, what, limit, perPage] of [
  ['sparse', '(c1) 64 TiB registered (512 Ki sections)', 1024 * MiB, Infinity],
  ['dense', '(c2) 64 Mi struct pages (256 GiB) written one by one', 2048 * MiB, 16],
] as const) {
  const r = measure(which);
  const per = r.rssBytes / r.pages;
  const perVerdict = Number.isFinite(perPage) ? ` (<= ${perPage}: ${verdict(per <= perPage)})` : '';
  console.log(
    `${what}: RSS ${mib(r.rssBytes)} (< ${mib(limit)}: ${verdict(r.rssBytes < limit)}), ${per.toFixed(3)} B/page${perVerdict}, ${(r.ms / 1000).toFixed(1)} s`,
  );
}
for (const [which, what] of [
  ['diverged', '(c3) 2000 pages in each of 1024 template sections'],
  ['scattered', '(c4) 4 Mi pages at random over 64 TiB (~8 per section)'],
  ['onePerSection', '(c5) 1 page in each of 256 Ki sections of 64 TiB'],
  ['indexWorst', '(c6) 2 Mi + 4 Ki pages at random over 64 TiB (hash index at load ~1/4)'],
] as const) {
  const r = measure(which);
  const per = r.bytesPerDiverged!;
  console.log(`${what}: ${r.diverged} diverged, ${per.toFixed(1)} host B each (<= 72: ${verdict(per <= 72)}), ${(r.ms / 1000).toFixed(2)} s`);
}
