// Benchmark of the web app's memory map (pnpm bench), reported as ratios
// against a baseline measured in the same run:
//
//   the layout of a machine with 64 TiB of device memory and 1000 memory
//   blocks (x86_64 with 5-level paging: 52 physical bits; 1000 blocks of
//   128 MiB of RAM, alternately online and offline, so 1000 distinct section
//   runs; a 64 TiB FS_DAX pgmap at 64 TiB whose 512 Ki sections keep their
//   memmap in the device's altmap), whole-space view:
//     1. layoutMap() / building the same number of plain rectangle records;
//     2. layoutMap() + renderSvg() / the SVG markup of as many plain rects;
//   and the same machine zoomed to one section of the device (its pages):
//     3. layoutMap() + renderSvg() at one-section zoom / plain rects;
//     4. drawing the whole-space SVG in chromium / as many plain rects.
//
// The facts are built directly (they are what machine-session.ts extracts
// from a booted machine): this measures the map, not the model.
/// <reference lib="dom" />
import { existsSync } from 'node:fs';
import { Bench } from 'tinybench';
import { layoutMap, type MapFacts, type MapRect } from '../src/web/layout.js';
import { plainRectsSvg, renderSvg } from '../src/web/svg.js';

const TiB = 2 ** 40;
const SECTION = 2 ** 27;
const BLOCKS = 1000;

const facts: MapFacts = {
  platform: 'x86_64',
  description: 'x86_64 (5-level paging), 125 GiB in 1000 blocks, 64 TiB of pmem',
  physBits: 52,
  pageShift: 12,
  sectionBits: 27,
  blockSize: SECTION,
  nodes: [0],
  zones: [
    { nid: 0, name: 'Normal', startPfn: 0, spannedPages: (BLOCKS * SECTION) / 4096, presentPages: (BLOCKS * SECTION) / 4096 },
    { nid: 0, name: 'Device', startPfn: (64 * TiB) / 4096, spannedPages: (64 * TiB) / 4096, presentPages: 0 },
  ],
  sections: [
    ...Array.from({ length: BLOCKS }, (_, i) => ({
      firstSection: i,
      count: 1,
      nid: 0,
      online: i % 2 === 0,
      early: i < 500,
      device: false,
      memmap: { source: i < 500 ? ('boot' as const) : ('ram' as const), nid: 0 },
    })),
    { firstSection: (64 * TiB) / SECTION, count: (64 * TiB) / SECTION, nid: 0, online: false, early: false, device: true, memmap: { source: 'altmap', nid: 0, altmapBasePfn: (64 * TiB) / 4096 } },
  ],
  blocks: Array.from({ length: BLOCKS }, (_, i) => ({
    id: i,
    startPfn: (i * SECTION) / 4096,
    nrPages: SECTION / 4096,
    state: i % 2 === 0 ? 'online' : 'offline',
    zone: i % 2 === 0 ? 'Normal' : undefined,
    nid: 0,
    nrVmemmapPages: 0,
  })),
  resources: [
    { start: 0, end: BLOCKS * SECTION - 1, name: 'System RAM', depth: 0 },
    { start: 64 * TiB, end: 128 * TiB - 1, name: 'Persistent Memory', depth: 0 },
    { start: 64 * TiB, end: 128 * TiB - 1, name: 'namespace0.0', depth: 1 },
  ],
  regions: [
    { kind: 'nd-region', start: 64 * TiB, size: 64 * TiB, label: 'region0', detail: 'persistent region' },
    { kind: 'namespace', start: 64 * TiB, size: 64 * TiB, label: 'namespace0.0', detail: 'fsdax' },
    { kind: 'pgmap', start: 64 * TiB, size: 64 * TiB, label: 'pgmap FS_DAX', detail: 'pfn0.0', type: 'FS_DAX' },
  ],
};
const WIDTH = 1600;
const whole = layoutMap(facts, { width: WIDTH });
const sectionView = { start: 64 * TiB + 7 * SECTION, end: 64 * TiB + 8 * SECTION };
const zoomed = layoutMap(facts, { width: WIDTH, view: sectionView });

/** The baseline: as many plain rectangle records, evenly spaced. */
function plainRects(count: number): MapRect[] {
  const out: MapRect[] = [];
  for (let i = 0; i < count; i++) {
    out.push({ lane: 'blocks', kind: 'block', x: (i * WIDTH) / count, y: 0, w: WIDTH / count, h: 20, fill: '#42a5f5', hatch: false, dashed: false, label: '', title: '', start: i, end: i + 1, data: {} });
  }
  return out;
}

let sink = 0;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function ratio(name: string, subject: () => unknown, baseline: () => unknown): Promise<void> {
  const s: number[] = [];
  const b: number[] = [];
  for (let round = 0; round < 5; round++) {
    const bench = new Bench({ time: 300, warmupTime: 100 });
    if (round % 2 === 0) bench.add('subject', subject).add('baseline', baseline);
    else bench.add('baseline', baseline).add('subject', subject);
    await bench.run();
    for (const t of bench.tasks) {
      const r = t.result;
      if (r.state !== 'completed') throw new Error(`${name}: ${t.name} ${r.state}`);
      (t.name === 'subject' ? s : b).push(r.latency.p50 ?? r.latency.mean);
    }
  }
  const sm = median(s);
  const bm = median(b);
  console.log(`${name.padEnd(58)} ${sm.toFixed(3).padStart(9)} ms  baseline ${bm.toFixed(3).padStart(8)} ms  ratio ${(sm / bm).toFixed(2)}`);
}

console.log(`web layout: ${whole.rects.length} rectangles for the whole 52-bit space (${facts.sections.length} section runs, ${BLOCKS} blocks, 64 TiB of device memory); ${zoomed.rects.length} at one-section zoom`);
const n = whole.rects.length;
await ratio(
  'layoutMap, whole space / plain rect records',
  () => (sink += layoutMap(facts, { width: WIDTH }).rects.length),
  () => (sink += plainRects(n).length),
);
await ratio(
  'layoutMap + renderSvg, whole space / plain rects SVG',
  () => (sink += renderSvg(layoutMap(facts, { width: WIDTH })).length),
  () => (sink += plainRectsSvg(n, WIDTH).length),
);
const z = zoomed.rects.length;
await ratio(
  'layoutMap + renderSvg, one device section / plain rects SVG',
  () => (sink += renderSvg(layoutMap(facts, { width: WIDTH, view: sectionView })).length),
  () => (sink += plainRectsSvg(z, WIDTH).length),
);

// 4. Drawing in a browser (when /usr/bin/chromium is there): the map's SVG
//    put into a page and laid out (innerHTML + getBoundingClientRect), as
//    the web app does on every redraw, against as many plain rectangles.
if (existsSync('/usr/bin/chromium')) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
  const page = await browser.newPage({ viewport: { width: WIDTH + 40, height: 800 } });
  await page.setContent('<!doctype html><div id="m"></div>');
  const draw = (markup: string): Promise<number> =>
    page.evaluate((svg) => {
      const el = document.getElementById('m')!;
      const times: number[] = [];
      for (let i = 0; i < 15; i++) {
        el.innerHTML = '';
        void el.getBoundingClientRect();
        const t0 = performance.now();
        el.innerHTML = svg;
        void el.getBoundingClientRect();
        void (el.firstElementChild as SVGSVGElement).getBBox();
        times.push(performance.now() - t0);
      }
      return times.sort((a, b) => a - b)[7]!;
    }, markup);
  const map = renderSvg(whole);
  const plain = plainRectsSvg(n, WIDTH);
  const ms: number[] = [];
  const base: number[] = [];
  for (let round = 0; round < 5; round++) {
    ms.push(await draw(map));
    base.push(await draw(plain));
  }
  const sm = median(ms);
  const bm = median(base);
  console.log(`${'drawing the whole-space SVG in chromium / plain rects SVG'.padEnd(58)} ${sm.toFixed(3).padStart(9)} ms  baseline ${bm.toFixed(3).padStart(8)} ms  ratio ${(sm / bm).toFixed(2)}`);
  await browser.close();
} else {
  console.log('drawing in a browser: skipped (/usr/bin/chromium is missing)');
}
if (sink === 0) console.log('');
