// Child process of bench/run.ts: remaps a 64 TiB GENERIC range on a machine
// with 5-level paging (52 physical bits), its memmap (1 TiB of struct pages)
// accounted in the device's altmap as nd_pfn would set it up, then unmaps
// it. Prints one JSON line: the time taken, the peak RSS, and what the
// machine accounted.
import { vmemAltmap } from '@zonedev/sparse-vmemmap';
import { DevPagemap, MEMORY_DEVICE_GENERIC, PGMAP_ALTMAP_VALID } from '../src/index.js';
import { MiB, TiB, bootMachine } from '../test/machine.js';

const START = 64 * TiB;
const SIZE = 64 * TiB;

let peakRss = process.memoryUsage().rss;
const sample = (): void => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
};

const t0 = performance.now();
const m = bootMachine({ physBits: 52 });
const tBoot = performance.now();

// nd_pfn_init(): the 8 KiB info block reserved, the memmap rounded up to 2 MiB.
const npfns = (SIZE - 8192) / 4096;
const dataoff = Math.ceil((8192 + 64 * npfns) / (2 * MiB)) * 2 * MiB;
const altmap = vmemAltmap({ basePfn: START / 4096, endPfn: (START + SIZE) / 4096, reserve: 2, free: dataoff / 4096 - 2 });
const pgmap = new DevPagemap({ type: MEMORY_DEVICE_GENERIC, range: { start: START, end: START + SIZE - 1 }, altmap, flags: PGMAP_ALTMAP_VALID });

m.memremap.memremapPages(pgmap, 0);
const tMap = performance.now();
sample();

const acct = m.sparse.memmapOfRange(START / 4096, SIZE / 4096);
const zone = m.mm.nodeData(0)!.nodeZones[m.mm.config.ZONE_DEVICE!]!;
const mapped = {
  memmapBytes: acct.bytes,
  inAltmap: acct.placements.filter((p) => p.source === 'altmap').reduce((s, p) => s + p.bytes, 0),
  altmapAlloc: altmap.alloc,
  devicePages: pgmap.ref!.refs - 1,
  zoneSpanned: zone.spannedPages,
  zonePresent: zone.presentPages,
  hostMemmapBytes: m.mm.memmap.stats().hostBytes,
};

await m.memremap.memunmapPages(pgmap);
const tUnmap = performance.now();
sample();

console.log(
  JSON.stringify({
    bootMs: tBoot - t0,
    memremapMs: tMap - tBoot,
    memunmapMs: tUnmap - tMap,
    totalMs: tUnmap - t0,
    peakRss,
    ...mapped,
    altmapAllocAfter: altmap.alloc,
    sectionsAfter: m.mm.memmap.nrSections,
  }),
);
