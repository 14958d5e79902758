// Benchmarks of the BTT, reported as ratios against a baseline measured in
// the same run (the medians of 9 alternating rounds of process CPU time):
//
//   1. BTT 4 KiB random writes over a 1 GiB namespace / raw 4 KiB writes of
//      the same namespace bytes (target <= 2): each BTT write is a data write,
//      two 8-byte log writes and a 4-byte map write, plus a map read;
//   2. BTT 4 KiB reads / raw reads (target <= 1.3): a map read (twice, for
//      the read tracking table) before the data;
//   3. the crash sweep: crash points per second (reported only), each one a
//      power failure, a re-probe of the arena from the media image and a read
//      of every sector.
//
// Run: node --import tsx/esm bench/btt.bench.ts
import { Btt, CrashMedia, MemoryMedia, PowerFailure } from '../src/index.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const UUID = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
const OPS = 32768;
/** Rounds of each measurement, alternating which of the two runs first; the medians are compared. */
const ROUNDS = 9;
let failed = false;

/**
 * Milliseconds of CPU the process spent in `fn` (user + system): unlike the
 * wall clock, it does not count the time other processes had the CPU, so a
 * ratio stays meaningful on a loaded machine.
 */
function time(fn: () => void): number {
  const t0 = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000;
}

/** Wall-clock milliseconds of `fn` (for the crash sweep's rate). */
function wall(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
}

function ratio(name: string, target: number, baseline: () => void, subject: () => void): void {
  const b: number[] = [];
  const s: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) {
      b.push(time(baseline));
      s.push(time(subject));
    } else {
      s.push(time(subject));
      b.push(time(baseline));
    }
  }
  const q = median(s) / median(b);
  const ok = q <= target;
  if (!ok) failed = true;
  console.log(`${name}: baseline ${median(b).toFixed(1)} ms, subject ${median(s).toFixed(1)} ms, ratio ${q.toFixed(3)} (<= ${target}) ${ok ? 'ok' : 'MISSED'}`);
}

// --- 1, 2: random 4 KiB I/O on a 1 GiB namespace
{
  const raw = new MemoryMedia(GiB);
  const media = new MemoryMedia(GiB);
  const btt = Btt.attach(media, { lbasize: 4096, uuid: UUID });
  const sectors = btt.nlba;
  const order = Float64Array.from({ length: OPS }, (_, i) => (i * 2654435761) % sectors);
  const buf = new Uint8Array(4096).fill(0x5a);
  const out = new Uint8Array(4096);
  let lane = 0;
  ratio(
    `BTT 4K random writes (${OPS}) / raw 4K writes`,
    2,
    () => {
      for (let i = 0; i < OPS; i++) raw.write(4096 + order[i]! * 4096, buf);
    },
    () => {
      for (let i = 0; i < OPS; i++) btt.writePage(order[i]! * 8, buf, (lane = (lane + 1) % 256));
    },
  );
  ratio(
    `BTT 4K random reads (${OPS}) / raw 4K reads`,
    1.3,
    () => {
      for (let i = 0; i < OPS; i++) raw.read(4096 + order[i]! * 4096, out);
    },
    () => {
      for (let i = 0; i < OPS; i++) btt.readPage(order[i]! * 8, out, i % 256);
    },
  );
}

// --- 3: the crash sweep
{
  const base = new MemoryMedia(20 * MiB);
  const opts = { lbasize: 4096, uuid: UUID };
  Btt.attach(base, opts);
  const ops = Array.from({ length: 8 }, (_, i) => ({ sector: i % 3, lane: i % 5 }));
  const data = new Uint8Array(4096).fill(7);
  const counter = new CrashMedia(base.clone());
  const bc = Btt.attach(counter, opts);
  for (const op of ops) bc.writePage(op.sector * 8, data, op.lane);
  let points = 0;
  const ms = wall(() => {
    for (let k = 1; k <= counter.writes; k++) {
      const img = base.clone();
      const b = Btt.attach(new CrashMedia(img, k, 2048), opts);
      try {
        for (const op of ops) b.writePage(op.sector * 8, data, op.lane);
      } catch (e) {
        if (!(e instanceof PowerFailure)) throw e;
      }
      const r = Btt.attach(img, opts);
      for (let s = 0; s < 3; s++) r.readPage(s * 8, new Uint8Array(4096));
      points++;
    }
  });
  console.log(`crash sweep: ${points} crash points in ${ms.toFixed(0)} ms = ${((points * 1000) / ms).toFixed(0)} crash points/s`);
}

if (failed) process.exitCode = 1;
