// Scale benchmark of memremap_pages()/memunmap_pages() on x86_64 with 5-level
// paging (52 physical bits): a GENERIC range starting at 0x4000000000000
// (1 PiB) with its memmap in the device's altmap, as nd_pfn_init() sets it up.
//
//   node --expose-gc --import tsx/esm bench/scale.ts [SIZE...]     parent: one child per case
//   node --import tsx/esm bench/scale.ts --child SIZE               one case, one JSON line
//
// SIZE is memparse-style (1G, 64T, 256T, 1P, 3P; RUNS=n runs per case,
// default 5). Each case runs in its own process; the parent reports the
// median and range of the memremap_pages() and memunmap_pages() times (wall
// and CPU), the peak RSS, the RSS and V8 heap in use before and after, and
// the CPU cost of get_dev_pagemap() + pfn_valid() + put_dev_pagemap() on
// random pfns of the range, with its ratio to the first size given (the
// target for 3P / 1G is <= 2). A case that fails reports the errno's message
// instead of aborting: memremap_pages() answers -ENOMEM when the host heap
// runs short.
import { fileURLToPath } from 'node:url';
import { Prandom, memparse } from '@zonedev/kernel';
import { median, runInChildren, spread } from '@zonedev/bench-kit';

const START = 2 ** 50;
const MiB = 2 ** 20;

interface CaseResult {
  readonly size: string;
  readonly ok: boolean;
  readonly error?: string;
  readonly mapMs: number;
  readonly unmapMs: number;
  /** CPU time (user + system) of the calls: less sensitive than wall time to other load on the host. */
  readonly mapCpuMs: number;
  readonly unmapCpuMs: number;
  readonly lookupNs: number;
  readonly peakRss: number;
  readonly rssBefore: number;
  readonly rssAfter: number;
  readonly heapBefore: number;
  readonly heapAfter: number;
}

async function child(sizeArg: string): Promise<void> {
  const { vmemAltmap } = await import('@zonedev/sparse-vmemmap');
  const { DevPagemap, MEMORY_DEVICE_GENERIC, PGMAP_ALTMAP_VALID } = await import('../src/index.js');
  const { bootMachine } = await import('../test/machine.js');
  const size = memparse(sizeArg).value;
  let peakRss = process.memoryUsage().rss;
  const sample = (): void => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  };
  const m = bootMachine({ physBits: 52 });
  globalThis.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const heapBefore = process.memoryUsage().heapUsed;
  const npfns = (size - 8192) / 4096;
  const dataoff = Math.ceil((8192 + 64 * npfns) / (2 * MiB)) * 2 * MiB;
  const altmap = vmemAltmap({ basePfn: START / 4096, endPfn: (START + size) / 4096, reserve: 2, free: dataoff / 4096 - 2 });
  const pgmap = new DevPagemap({ type: MEMORY_DEVICE_GENERIC, range: { start: START, end: START + size - 1 }, altmap, flags: PGMAP_ALTMAP_VALID });
  const sampler = setInterval(sample, 5);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let ok = true;
  let error: string | undefined;
  try {
    m.memremap.memremapPages(pgmap, 0);
  } catch (e) {
    ok = false;
    error = e instanceof Error ? e.message : String(e);
  }
  const t1 = performance.now();
  const c1 = process.cpuUsage(c0);
  sample();
  let lookupNs = 0;
  if (ok) {
    // Random data pfns from a seeded generator; a warm-up round first, so
    // that the measured rounds run optimized code, and the median of 5.
    const N = 100_000;
    const rnd = new Prandom(7);
    const first = START / 4096 + dataoff / 4096;
    const span = (START + size) / 4096 - first;
    // Two 32-bit draws: the spans of petabytes exceed 2^32 pfns.
    const pfns = Float64Array.from({ length: N }, () => first + Math.min(span - 1, Math.floor(((rnd.u32() * 2 ** 32 + rnd.u32()) / 2 ** 64) * span)));
    let sink = 0;
    // CPU time of the round, not wall time: other load on the host would dominate a 10 ms round.
    const round = (): number => {
      const t = process.cpuUsage();
      for (let i = 0; i < N; i++) {
        const pfn = pfns[i]!;
        const pg = m.memremap.getDevPagemap(pfn);
        if (pg !== undefined) sink++;
        if (m.sparse.pfnValid(pfn)) sink++;
        if (pg !== undefined) m.memremap.putDevPagemap(pg);
      }
      const c = process.cpuUsage(t);
      return ((c.user + c.system) * 1e3) / N;
    };
    for (let w = 0; w < 3; w++) round();
    lookupNs = median(Array.from({ length: 7 }, round));
    if (sink === 0) throw new Error('no lookups hit');
  }
  const cUnmap = process.cpuUsage();
  const tUnmap = performance.now();
  if (ok) await m.memremap.memunmapPages(pgmap);
  const t2 = performance.now();
  const c2 = process.cpuUsage(cUnmap);
  clearInterval(sampler);
  globalThis.gc?.();
  const rssAfter = process.memoryUsage().rss;
  const heapAfter = process.memoryUsage().heapUsed;
  sample();
  const r: CaseResult = { size: sizeArg, ok, ...(error !== undefined ? { error } : {}), mapMs: t1 - t0, unmapMs: t2 - tUnmap, mapCpuMs: (c1.user + c1.system) / 1000, unmapCpuMs: (c2.user + c2.system) / 1000, lookupNs, peakRss, rssBefore, rssAfter, heapBefore, heapAfter };
  console.log(JSON.stringify(r));
}


function parent(sizes: readonly string[], runs: number): void {
  const self = fileURLToPath(import.meta.url);
  const lookups = new Map<string, number>();
  for (const size of sizes) {
    const rs = runInChildren<CaseResult>(self, size, runs, ['--expose-gc']);
    if (rs.every((r) => r.ok)) lookups.set(size, median(rs.map((r) => r.lookupNs)));
    const f = (k: 'mapMs' | 'unmapMs' | 'mapCpuMs' | 'unmapCpuMs' | 'peakRss' | 'lookupNs', d = 1): string => {
      return spread(rs.map((r) => r[k] / d), 1);
    };
    console.log(`${size}: ok=${rs.map((r) => r.ok).join(',')} map ${f('mapMs')} ms (cpu ${f('mapCpuMs')}), unmap ${f('unmapMs')} ms (cpu ${f('unmapCpuMs')}), peak RSS ${f('peakRss', MiB)} MiB, lookup ${f('lookupNs')} ns, rss before/after ${(median(rs.map((r) => r.rssBefore)) / MiB).toFixed(0)}/${(median(rs.map((r) => r.rssAfter)) / MiB).toFixed(0)} MiB, heap before/after ${(median(rs.map((r) => r.heapBefore)) / MiB).toFixed(0)}/${(median(rs.map((r) => r.heapAfter)) / MiB).toFixed(0)} MiB${rs[0]!.error !== undefined ? ` error: ${rs[0]!.error}` : ''}`);
  }
  lookupRatios(lookups);
}

/** The lookup cost of each size against the first (the smallest pagemap): the target is <= 2. */
function lookupRatios(lookups: ReadonlyMap<string, number>): void {
  const [base, ...rest] = [...lookups];
  if (base === undefined) return;
  for (const [size, ns] of rest) console.log(`lookup ${size} / ${base[0]}: ${(ns / base[1]).toFixed(2)}`);
}

const argv = process.argv.slice(2);
if (argv[0] === '--child') await child(argv[1]!);
else {
  const runs = Number(process.env['RUNS'] ?? '5');
  parent(argv.length > 0 ? argv : ['1G', '64T', '256T', '1P', '3P'], runs);
}
