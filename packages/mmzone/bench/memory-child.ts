// One memory measurement, run in its own Node process by bench/run.ts
// (node --expose-gc): prints a JSON line with the RSS it ends with.
import { createMmConfig } from '../src/config.js';
import type { MmArchConfig } from '../src/config.js';
import { MemmapStore } from '../src/memmap.js';

const X86_64: MmArchConfig = {
  name: 'x86_64',
  pageShift: 12,
  nodesShift: 10,
  maxOrder: 11,
  pageblockOrder: 9,
  sectionSizeBits: 27,
  maxPhysmemBits: 46,
  zoneDma: true,
  zoneDma32: true,
  zoneDevice: true,
};

const gc = (globalThis as { gc?: () => void }).gc ?? ((): void => undefined);
const rss = (): number => {
  gc();
  gc();
  return process.memoryUsage().rss;
};

const which = process.argv[2];
const cfg = createMmConfig(X86_64);
const store = new MemmapStore(cfg);
const PPS = cfg.pagesPerSection;
const before = rss();
const t0 = performance.now();
let pages = 0;
let diverged = 0;

if (which === 'sparse') {
  // 64 TiB of registered sections: 512 Ki sections of 32 Ki pages, each
  // initialised as ZONE_DEVICE pages of node 0 by a bulk memmap init.
  const sections = (64 * 2 ** 40) / 2 ** cfg.sectionSizeBits;
  const tpl = store.initSinglePageTemplate(cfg.ZONE_DEVICE!, 0);
  for (let nr = 0; nr < sections; nr++) store.initSection(nr, tpl, 1);
  pages = sections * PPS;
} else if (which === 'dense') {
  // 64 Mi struct pages, each written individually.
  const sections = (64 * 2 ** 20) / PPS;
  for (let nr = 0; nr < sections; nr++) store.initSection(nr);
  pages = sections * PPS;
  for (let pfn = 0; pfn < pages; pfn++) store.setPageCount(pfn, 1 + (pfn % 3));
  diverged = pages;
} else if (which === 'diverged') {
  // 1024 template sections, 2000 scattered pages of each diverging (below the
  // overlay limit): host bytes per diverged page.
  const sections = 1024;
  for (let nr = 0; nr < sections; nr++) store.initSection(nr);
  const rssTemplates = rss();
  for (let nr = 0; nr < sections; nr++) for (let k = 0; k < 2000; k++) store.setPageCount(nr * PPS + ((k * 7919) % PPS), 2);
  pages = sections * PPS;
  diverged = sections * 2000;
  const after = rss();
  console.log(JSON.stringify({ which, pages, diverged, rssBytes: after, bytesPerDiverged: (after - rssTemplates) / diverged, stats: store.stats(), ms: performance.now() - t0 }));
  process.exit(0);
}
const after = rss();
console.log(JSON.stringify({ which, pages, diverged, rssBytes: after, deltaBytes: after - before, stats: store.stats(), ms: performance.now() - t0 }));
