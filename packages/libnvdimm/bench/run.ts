// Benchmarks of @zonedev/libnvdimm, reported as ratios against a baseline
// measured in the same run, plus one time/RSS measurement:
//
//   1. `ndctl create-namespace -m fsdax -M dev` on a 1 TiB e820 region (the
//      sysfs writes ndctl does): time (target < 1 s) and RSS growth (target
//      < 64 MiB): the 16 GiB memmap in the altmap is templates, not host
//      memory;
//   2. /dev/pmem0 sequential 4 KiB writes then reads of BENCH_PMEM_BYTES
//      (default 1 GiB) / Buffer.copy of the same bytes in the same chunks
//      (target <= 1.5). The disk's bytes live in mmzone's PhysMem, a sparse
//      page store; most of the ratio is that store's per-page lookup.
//
// Run: node --expose-gc --import tsx/esm bench/run.ts
import { GiB, MiB, TiB, bootMachine, createFsdax } from '../test/machine.js';

const gc = (globalThis as { gc?: () => void }).gc;
const mib = (n: number): string => `${(n / MiB).toFixed(1)} MiB`;
let failed = false;

// --- 1. fsdax map=dev on a 1 TiB region --------------------------------------
{
  const m = bootMachine({ pmem: [{ start: TiB, size: TiB }] });
  gc?.();
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  createFsdax(m, 0, 'pmem', '6a1f3e9c-2b4d-4e8f-9a0b-1c2d3e4f5a6b');
  const ms = performance.now() - t0;
  gc?.();
  const grown = process.memoryUsage().rss - rss0;
  const disk = m.nd.disk('pmem0')!;
  const okT = ms < 1000;
  const okR = grown < 64 * MiB;
  console.log('@zonedev/libnvdimm: create-namespace -m fsdax -M dev on a 1 TiB region');
  console.log(`  data ${(disk.capacity / GiB).toFixed(2)} GiB at offset ${mib(disk.dataOffset)} (8 KiB info reserve + memmap in the altmap)`);
  console.log(`  time ${ms.toFixed(0)} ms (< 1000 ms: ${okT ? 'ok' : 'MISSED'}), RSS growth ${mib(grown)} (< 64 MiB: ${okR ? 'ok' : 'MISSED'})`);
  failed ||= !okT || !okR;
}

// --- 2. sequential 4 KiB I/O of /dev/pmem0 vs Buffer.copy ---------------------
{
  const bytes = Number(process.env.BENCH_PMEM_BYTES ?? GiB);
  const m = bootMachine({ pmem: [{ start: 4 * GiB, size: Math.max(bytes, 16 * MiB) }] });
  const disk = m.nd.disk('pmem0')!;
  const chunk = 4096;
  const src = Buffer.alloc(chunk, 0xa5);
  const shadow = Buffer.alloc(bytes);
  const back = Buffer.alloc(chunk);
  let sink = 0;
  const subject = (): void => {
    for (let off = 0; off < bytes; off += chunk) disk.write(off, src);
    for (let off = 0; off < bytes; off += chunk) {
      disk.readInto(off, back);
      sink += back[0]!;
    }
  };
  const baseline = (): void => {
    for (let off = 0; off < bytes; off += chunk) src.copy(shadow, off);
    for (let off = 0; off < bytes; off += chunk) {
      shadow.copy(back, 0, off, off + chunk);
      sink += back[0]!;
    }
  };
  const times = { subject: [] as number[], baseline: [] as number[] };
  for (let r = 0; r < 5; r++) {
    for (const [name, fn] of r % 2 === 0 ? ([['baseline', baseline], ['subject', subject]] as const) : ([['subject', subject], ['baseline', baseline]] as const)) {
      const t = performance.now();
      fn();
      times[name].push(performance.now() - t);
    }
  }
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ratio = med(times.subject) / med(times.baseline);
  const ok = ratio <= 1.5;
  console.log(`\n@zonedev/libnvdimm: /dev/pmem0 sequential 4 KiB writes+reads of ${mib(bytes)} / Buffer.copy`);
  console.log(`  pmem ${med(times.subject).toFixed(0)} ms, Buffer.copy ${med(times.baseline).toFixed(0)} ms, ratio ${ratio.toFixed(2)} (<= 1.5: ${ok ? 'ok' : 'MISSED'})`);
  failed ||= !ok;
  if (sink === -1) console.log(sink);
}

if (failed) process.exitCode = 1;
