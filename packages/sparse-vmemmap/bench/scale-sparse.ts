// Sparse scale (issue: "register 64 TiB of memory on x86_64 in under 1 GiB
// RSS and under 10 s; host memory then grows by at most 72 bytes per struct
// page that actually diverges from its section's template").
// Run in its own process by run.ts; prints one JSON line.
import { Kernel, Prandom } from '@zonedev/kernel';
import { MemmapStore, createMmConfig } from '@zonedev/mmzone';
import { SparseMemory, vmemAltmap } from '@zonedev/sparse-vmemmap';
import { MM_X86_64_LA57, X86_64_LA57, bumpAllocator, rss } from './common.js';

const PPS = 32768;
const SECTIONS = 524288; // 64 TiB
const BASE = 2 ** 28; // 1 TiB
// argv: memmap source ('altmap' | 'ram'), store ('store' | 'nostore'), divergence pattern.
const mode = process.argv[2] ?? 'altmap';
const withStore = (process.argv[3] ?? 'store') === 'store';
const pattern = process.argv[4] ?? 'none';

const rss0 = rss();
const kernel = new Kernel();
const store = new MemmapStore(createMmConfig(MM_X86_64_LA57));
const allocator = bumpAllocator(2 ** 38);
const sparse = withStore
  ? new SparseMemory({ kernel, arch: X86_64_LA57, allocator, memmap: store })
  : new SparseMemory({ kernel, arch: X86_64_LA57, allocator });
// The device holds its own memmap (1 TiB of it), as pmem does with map=dev; or RAM does.
const altmap = mode === 'altmap' ? vmemAltmap({ basePfn: BASE, endPfn: BASE + SECTIONS * PPS - 1, free: 2 ** 28 }) : undefined;
const t0 = performance.now();
for (let s = 0; s < SECTIONS; s++) sparse.sparseAddSection(0, BASE + s * PPS, PPS, altmap);
const t1 = performance.now();
const rss1 = rss();
const totals = sparse.vmemmapTotals();
const memmapBytes = sparse.memmapOfRange(BASE, SECTIONS * PPS).bytes;
const t2 = performance.now();

// Divergence, three patterns; each delta is measured on its own.
function diverge(pfns: Iterable<number>): { pages: number; bytesPerPage: number } {
  const before = rss();
  let n = 0;
  for (const pfn of pfns) {
    store.setPageCount(pfn, 7);
    n++;
  }
  return { pages: n, bytesPerPage: (rss() - before) / n };
}
const prandom = new Prandom(12345);
function rand(n: number): number {
  return prandom.below(n);
}
function* scattered(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield BASE + rand(SECTIONS) * PPS + rand(PPS);
}
function* onePerSection(n: number, from: number): Generator<number> {
  for (let i = 0; i < n; i++) yield BASE + (from + i) * PPS + 100;
}
function* dense(sections: number, from: number): Generator<number> {
  for (let p = BASE + from * PPS; p < BASE + (from + sections) * PPS; p++) yield p;
}
const patterns: Record<string, () => Iterable<number>> = {
  dense: () => dense(128, 0), // 4 Mi pages filling 128 sections
  scattered: () => scattered(2 ** 22), // 4 Mi pages at random, ~8 per section
  onePerSection: () => onePerSection(2 ** 18, 0), // 1 page in each of 256 Ki sections
};
const d = pattern === 'none' ? undefined : diverge(patterns[pattern]!());
console.log(
  JSON.stringify({
    mode,
    sections: SECTIONS,
    registeredBytes: SECTIONS * PPS * 4096,
    simulatedMemmapBytes: memmapBytes,
    vmemmapBlocks: totals.blocks,
    altmapAlloc: altmap?.alloc,
    ramPages: allocator.used(),
    registerMs: t1 - t0,
    accountingMs: t2 - t1,
    rssStart: rss0,
    rssAfterRegister: rss1,
    rssFinal: rss(),
    withStore,
    pattern,
    diverged: d,
    storeStats: store.stats(),
  }),
);
