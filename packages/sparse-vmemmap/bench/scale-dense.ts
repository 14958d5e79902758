// Dense scale (issue: "populate 256 GiB of sections (64 Mi struct pages) with
// every struct page individually written, in under 2 GiB of host memory").
// Run in its own process by run.ts; prints one JSON line.
import { Kernel } from '@zonedev/kernel';
import { MemmapStore, createMmConfig } from '@zonedev/mmzone';
import { SparseMemory } from '@zonedev/sparse-vmemmap';
import { MM_X86_64_LA57, X86_64_LA57, bumpAllocator, rss } from './common.js';

const SECTIONS = 2048; // 256 GiB of 128 MiB sections
const PPS = 32768;
const BASE = 2 ** 28; // at 1 TiB

const rss0 = rss();
const kernel = new Kernel();
const store = new MemmapStore(createMmConfig(MM_X86_64_LA57));
const sparse = new SparseMemory({ kernel, arch: X86_64_LA57, allocator: bumpAllocator(2 ** 36), memmap: store });
const t0 = performance.now();
for (let s = 0; s < SECTIONS; s++) sparse.sparseAddSection(0, BASE + s * PPS, PPS);
const t1 = performance.now();
const rss1 = rss();
const pages = SECTIONS * PPS;
for (let pfn = BASE; pfn < BASE + pages; pfn++) store.setPageCount(pfn, 1 + (pfn % 3));
const t2 = performance.now();
const rss2 = rss();
// spot-check that the writes are there
let sum = 0;
for (let pfn = BASE; pfn < BASE + pages; pfn += 4099) sum += store.pageRefCount(pfn) === 1 + (pfn % 3) ? 0 : 1;
if (sum !== 0) throw new Error('lost writes');
const memmap = sparse.memmapOfRange(BASE, pages).bytes;
console.log(
  JSON.stringify({
    pages,
    simulatedMemmapBytes: memmap,
    registerMs: t1 - t0,
    writeMs: t2 - t1,
    rssStart: rss0,
    rssAfterRegister: rss1,
    rssAfterWrite: rss2,
    hostBytesPerPage: (rss2 - rss0) / pages,
    storeStats: store.stats(),
  }),
);
