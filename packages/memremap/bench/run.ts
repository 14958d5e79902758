// Benchmarks of @zonedev/memremap (pnpm bench), reported as ratios against a
// baseline measured in the same run, plus one memory benchmark in a separate
// process:
//
//   1. memmap_init_zone_device() of 4 Mi pages / TypedArray.fill of the same
//      number of 64-byte struct pages (target <= 2.0): the bulk template
//      initialization must cost no more than touching the memmap once;
//   2. get_dev_pagemap() + put_dev_pagemap() on random pfns of 64 pagemaps /
//      a mem_section table read (pfn_valid(): the section's flags and
//      subsection map) on the same pfns (target <= 2);
//   3. remapping a 64 TiB GENERIC range with its memmap (1 TiB) accounted in
//      the device's altmap, in a child process: RSS < 1 GiB, time < 10 s.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runRatios } from '@zonedev/bench-kit';
import { Prandom } from '@zonedev/kernel';
import { DevPagemap, MEMORY_DEVICE_GENERIC } from '../src/index.js';
import { GiB, MiB, bootMachine } from '../test/machine.js';

let sink = 0;

// --- 1. memmap_init_zone_device for 4 Mi pages vs fill --------------------
const NPAGES = 4 * 2 ** 20;
const init = bootMachine({ memory: [{ start: 0x100000, size: 2 * GiB - 0x100000, nid: 0 }] });
const BASE = 64 * GiB;
const big = new DevPagemap({ type: MEMORY_DEVICE_GENERIC, range: { start: BASE, end: BASE + NPAGES * 4096 - 1 } });
init.memremap.memremapPages(big, 0);
const zone = init.mm.nodeData(0)!.nodeZones[init.mm.config.ZONE_DEVICE!]!;
const memmapBytes = new Uint8Array(NPAGES * 64);
let fillByte = 0;
init.kernel.log.clear();

// --- 2. get_dev_pagemap + put_dev_pagemap on 64 pagemaps -----------------
const lookups = bootMachine();
const NMAPS = 64;
const MAP_SIZE = 128 * MiB;
for (let i = 0; i < NMAPS; i++) {
  const start = BASE + i * 2 * MAP_SIZE;
  lookups.memremap.memremapPages(new DevPagemap({ type: MEMORY_DEVICE_GENERIC, range: { start, end: start + MAP_SIZE - 1 } }), 0);
}
const rnd = new Prandom(42);
const NLOOKUPS = 4096;
const pfns = Float64Array.from({ length: NLOOKUPS }, () => {
  const map = rnd.below(NMAPS);
  return (BASE + map * 2 * MAP_SIZE) / 4096 + rnd.below(MAP_SIZE / 4096);
});
const { memremap, sparse } = lookups;

const results = await runRatios('@zonedev/memremap', [
  {
    name: 'memmap_init_zone_device x 4Mi pages / fill 4Mi x 64 B',
    target: 2.0,
    baseline: () => {
      memmapBytes.fill(fillByte++ % 251);
      sink += memmapBytes[NPAGES]!;
    },
    subject: () => {
      init.memremap.memmapInitZoneDevice(zone, BASE / 4096, NPAGES, big);
      init.kernel.log.clear();
      sink += init.mm.memmap.pageRefCount(BASE / 4096);
    },
  },
  {
    name: 'get_dev_pagemap+put_dev_pagemap, 64 pgmaps / mem_section read (pfn_valid, 4096 pfns)',
    target: 2,
    baseline: () => {
      let s = 0;
      for (let i = 0; i < NLOOKUPS; i++) s += sparse.pfnValid(pfns[i]!) ? 1 : 0;
      sink += s;
    },
    subject: () => {
      let s = 0;
      for (let i = 0; i < NLOOKUPS; i++) {
        const pgmap = memremap.getDevPagemap(pfns[i]!);
        s += pgmap!.nrRange;
        memremap.putDevPagemap(pgmap);
      }
      sink += s;
    },
  },
]);

// --- 3. a 64 TiB remap in a separate process ------------------------------
const child = fileURLToPath(new URL('./remap-64t.ts', import.meta.url));
const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx/esm', child], { encoding: 'utf8' });
const r = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, number>;
const rssLimit = 2 ** 30;
const timeLimit = 10_000;
const rssOk = r.peakRss! < rssLimit;
const timeOk = r.totalMs! < timeLimit;
const mib = (n: number): string => `${(n / 2 ** 20).toFixed(0)} MiB`;
console.log('\n@zonedev/memremap: remap 64 TiB GENERIC (memmap in the altmap), separate process');
console.log(`  memmap accounted: ${r.memmapBytes! / 2 ** 40} TiB (${r.inAltmap! / 2 ** 40} TiB in the altmap, ${r.altmapAlloc} pfns), ${r.devicePages} device pages`);
console.log(`  ZONE_DEVICE: spanned ${r.zoneSpanned}, present ${r.zonePresent}; host bytes of the memmap store ${mib(r.hostMemmapBytes!)}`);
console.log(`  boot ${r.bootMs!.toFixed(0)} ms, memremap_pages ${r.memremapMs!.toFixed(0)} ms, memunmap_pages ${r.memunmapMs!.toFixed(0)} ms`);
console.log(`  peak RSS ${mib(r.peakRss!)} (< ${mib(rssLimit)}: ${rssOk ? 'ok' : 'MISSED'}), total ${(r.totalMs! / 1000).toFixed(2)} s (< 10 s: ${timeOk ? 'ok' : 'MISSED'})`);
console.log(`  after unmap: altmap alloc ${r.altmapAllocAfter}, memmap sections ${r.sectionsAfter} (boot RAM only)`);

if (sink === -1) console.log(sink);
if (!results.every((x) => x.ok) || !rssOk || !timeOk) process.exitCode = 1;
