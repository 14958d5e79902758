// One memory measurement, run in its own Node process by bench/run.ts
// (node --expose-gc): prints a JSON line with the RSS it ends with.
//
//   sparse         64 TiB of registered sections (512 Ki template sections)
//   dense          64 Mi struct pages, each written individually
//   diverged       1024 template sections, 2000 scattered pages of each diverging
//   scattered      64 TiB registered, then 4 Mi pages diverging at random (~8 per section)
//   onePerSection  64 TiB registered, then 1 page diverging in each of 256 Ki sections
//   indexWorst     64 TiB registered, then 2 Mi + 4 Ki pages at random: the
//                  overlay pool's hash index has just doubled (load ~1/4, its emptiest)
import { Prandom } from '@zonedev/kernel';
import { createMmConfig } from '../src/config.js';
import { X86_64 } from '../test/machines.js';
import { MemmapStore } from '../src/memmap.js';


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

/** 64 TiB of registered sections: 512 Ki sections of 32 Ki pages, ZONE_DEVICE pages of node 0. */
function register64T(): number {
  const sections = (64 * 2 ** 40) / 2 ** cfg.sectionSizeBits;
  const tpl = store.initSinglePageTemplate(cfg.ZONE_DEVICE!, 0);
  for (let nr = 0; nr < sections; nr++) store.initSection(nr, tpl, 1);
  return sections;
}

/**
 * Writes `pfns` (one divergence each; listed in a typed array beforehand so
 * that the loop allocates nothing on the JavaScript heap) and reports the
 * RSS growth per struct page that diverged.
 */
function diverge(pfns: Float64Array): never {
  const rssTemplates = rss();
  const t1 = performance.now();
  for (let i = 0; i < pfns.length; i++) store.setPageCount(pfns[i]!, 7);
  const ms = performance.now() - t1;
  const after = rss();
  const st = store.stats();
  console.log(
    JSON.stringify({ which, pages, diverged: st.overlayPages + st.columnSections * PPS, writes: pfns.length, rssBytes: after, bytesPerDiverged: (after - rssTemplates) / (st.overlayPages + st.columnSections * PPS), stats: st, ms }),
  );
  process.exit(0);
}

if (which === 'sparse') {
  pages = register64T() * PPS;
} else if (which === 'dense') {
  const sections = (64 * 2 ** 20) / PPS;
  for (let nr = 0; nr < sections; nr++) store.initSection(nr);
  pages = sections * PPS;
  for (let pfn = 0; pfn < pages; pfn++) store.setPageCount(pfn, 1 + (pfn % 3));
  diverged = pages;
} else if (which === 'diverged') {
  // below the overlay limit of each section
  const sections = 1024;
  for (let nr = 0; nr < sections; nr++) store.initSection(nr);
  pages = sections * PPS;
  const pfns = new Float64Array(sections * 2000);
  for (let nr = 0; nr < sections; nr++) for (let k = 0; k < 2000; k++) pfns[nr * 2000 + k] = nr * PPS + ((k * 7919) % PPS);
  diverge(pfns);
} else if (which === 'scattered' || which === 'indexWorst') {
  // seeded random pfns over the 64 TiB (a few hundred repeat: the figure is
  // per distinct diverged page)
  const sections = register64T();
  pages = sections * PPS;
  const rnd = new Prandom(12345);
  const pfns = new Float64Array(which === 'scattered' ? 2 ** 22 : 2 ** 21 + 2 ** 12);
  for (let i = 0; i < pfns.length; i++) pfns[i] = rnd.below(sections) * PPS + rnd.below(PPS);
  diverge(pfns);
} else if (which === 'onePerSection') {
  const sections = register64T();
  pages = sections * PPS;
  const pfns = new Float64Array(2 ** 18);
  for (let nr = 0; nr < pfns.length; nr++) pfns[nr] = nr * PPS + 100;
  diverge(pfns);
} else {
  throw new Error(`unknown measurement ${which}`);
}
const after = rss();
console.log(JSON.stringify({ which, pages, diverged, rssBytes: after, deltaBytes: after - before, stats: store.stats(), ms: performance.now() - t0 }));
