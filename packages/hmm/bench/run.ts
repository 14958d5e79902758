// Benchmarks of @zonedev/hmm, reported as ratios in one run (pnpm bench).
//
// 1. migrate_vma of 64 Ki anonymous 4K pages to a dmirror device (the
//    MIGRATE ioctl: collect, copy to the backing pages, commit, the read-back
//    to the user buffer) and back (CPU reads: one migrate_to_ram per page)
//    against two Buffer copies of 256 MiB: target <= 3, goal <= 2.
// 2. hmm_range_fault() snapshot of 1 GiB mapped (256 Ki zero-page PTEs)
//    against mm's page-table walk of the same range: target <= 2.
// 3. Host bytes per device-private page after migrating HMM_BENCH_DEVPAGES
//    (default 1 Mi) untouched pages to the device: reported.
//
// HMM_BENCH_PAGES scales case 1 (default 65536).
import { Bench } from 'tinybench';
import { MAP_ANONYMOUS, MAP_PRIVATE, MmuIntervalNotifier, PROT_READ, PROT_WRITE, mmuIntervalNotifierInsert, mmuIntervalReadBegin, mmuIntervalSetSeq, userRead, userWrite } from '@zonedev/mm';
import type { MmStruct } from '@zonedev/mm';
import type { Dmirror } from '../src/index.js';
import { HMM_DMIRROR_MIGRATE, hmmRangeFault } from '../src/index.js';
import { GiB, MiB, bootMachine, newMm } from '../test/machine.js';

interface RatioCase {
  readonly name: string;
  readonly baseline: () => unknown;
  readonly subject: () => unknown;
  /** Untimed preparation before each subject run. */
  readonly setup?: () => void;
  /** Rounds for this case, if not the run's. */
  readonly rounds?: number;
  readonly target: number;
}

/** Median subject/baseline time over alternating tinybench rounds. */
async function runRatios(cases: readonly RatioCase[], o: { time: number; rounds: number }): Promise<void> {
  for (const c of cases) {
    const base: number[] = [];
    const subj: number[] = [];
    for (let r = 0; r < (c.rounds ?? o.rounds); r++) {
      const bench = new Bench({ time: o.time, warmupTime: 0, warmupIterations: 0, iterations: 1 });
      const opts = c.setup ? { beforeEach: c.setup } : {};
      if (r % 2 === 0) bench.add('baseline', c.baseline).add('subject', c.subject, opts);
      else bench.add('subject', c.subject, opts).add('baseline', c.baseline);
      await bench.run();
      for (const t of bench.tasks) {
        const res = t.result;
        if (res.state !== 'completed') throw new Error(`${c.name}: ${t.name} ${res.state}`);
        (t.name === 'baseline' ? base : subj).push(res.latency.p50 ?? res.latency.mean);
      }
    }
    const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    const ratio = med(subj) / med(base);
    const verdict = Number.isFinite(c.target) ? (ratio <= c.target ? `ok (<= ${c.target})` : `OVER ${c.target}`) : 'reported';
    console.log(`  ${c.name}: ${med(subj).toFixed(1)} ms / ${med(base).toFixed(1)} ms = ${ratio.toFixed(2)}  ${verdict}`);
  }
}

const P = 4096;
const RW = PROT_READ + PROT_WRITE;
const ANON = MAP_PRIVATE + MAP_ANONYMOUS;
const N = Number(process.env['HMM_BENCH_PAGES'] ?? 65536);
const DEVPAGES = Number(process.env['HMM_BENCH_DEVPAGES'] ?? 1024 * 1024);
let sink = 0;

function bigMachine(ram: number): ReturnType<typeof bootMachine> {
  return bootMachine({ memory: [{ start: MiB, size: ram, nid: 0 }] });
}

const src = Buffer.alloc(N * P, 1);
let prepared: { mm: MmStruct; a: number; buf: number; f: Dmirror } | undefined;
const dst = Buffer.alloc(N * P);

// case 2's machine: 1 GiB mapped to the zero page, a mirror of the whole address space
const walkM = bigMachine(GiB);
const walkMm = newMm(walkM);
const walkAddr = walkMm.mmap({ length: GiB, prot: RW, flags: ANON });
userRead(walkMm, walkAddr, GiB);
const sub = new MmuIntervalNotifier();
mmuIntervalNotifierInsert(sub, walkMm, 0, 2n ** 47n, { invalidate: (s, _r, seq) => (mmuIntervalSetSeq(s, seq), true) });

console.log('@zonedev/hmm');
await runRatios(
  [
    {
      name: `migrate_vma of ${N} anonymous pages to the device and back / two Buffer copies of ${(N * P) / MiB} MiB`,
      target: 3,
      baseline: () => {
        src.copy(dst);
        dst.copy(src);
      },
      setup: () => {
        const m = bigMachine(4 * (N * P) + 512 * MiB);
        m.testHmm.load();
        const mm = newMm(m);
        const a = mm.mmap({ length: N * P, prot: RW, flags: ANON });
        const buf = mm.mmap({ length: N * P, prot: RW, flags: ANON });
        userWrite(mm, a, src);
        userWrite(mm, buf, src);
        prepared = { mm, a, buf, f: m.testHmm.open(0, mm) };
      },
      subject: () => {
        const { mm, a, buf, f } = prepared!;
        f.ioctl(HMM_DMIRROR_MIGRATE, { addr: BigInt(a), ptr: BigInt(buf), npages: BigInt(N), cpages: 0n, faults: 0n });
        sink += userRead(mm, a, N * P)[0]!;
      },
    },
    {
      name: 'hmm_range_fault snapshot of 1 GiB mapped / page-table walk of the same range',
      target: 2,
      rounds: 11,
      baseline: () => {
        let n = 0;
        walkMm.pgd!.walk(walkAddr, walkAddr + GiB, () => n++);
        sink += n;
      },
      subject: () => {
        const range = {
          notifier: sub,
          notifierSeq: mmuIntervalReadBegin(sub),
          start: walkAddr,
          end: walkAddr + GiB,
          hmmPfns: new BigUint64Array(GiB / P),
          defaultFlags: 0n,
          pfnFlagsMask: 0n,
          devPrivateOwner: null,
        };
        hmmRangeFault(range);
        sink += Number(range.hmmPfns[0]! % 2n);
      },
    },
  ],
  { time: 1, rounds: 3 },
);

// case 3: host memory per device-private page
{
  const m = bigMachine(DEVPAGES * P + GiB);
  m.testHmm.load();
  const mm = newMm(m);
  const a = mm.mmap({ length: DEVPAGES * P, prot: RW, flags: ANON });
  const buf = mm.mmap({ length: DEVPAGES * P, prot: RW, flags: ANON });
  const f = m.testHmm.open(0, mm);
  const chunk = 64 * 1024;
  // the buffer the data is copied back to is written before the measurement starts
  userWrite(mm, buf, new Uint8Array(Math.min(chunk, DEVPAGES) * P));
  (globalThis as { gc?: () => void }).gc?.();
  const before = process.memoryUsage();
  for (let i = 0; i < DEVPAGES; i += chunk) {
    const n = Math.min(chunk, DEVPAGES - i);
    f.ioctl(HMM_DMIRROR_MIGRATE, { addr: BigInt(a + i * P), ptr: BigInt(buf), npages: BigInt(n), cpages: 0n, faults: 0n });
  }
  (globalThis as { gc?: () => void }).gc?.();
  const after = process.memoryUsage();
  const heap = after.heapUsed + after.external + after.arrayBuffers - (before.heapUsed + before.external + before.arrayBuffers);
  console.log(`  host bytes per device-private page after migrating ${DEVPAGES} pages: ${(heap / DEVPAGES).toFixed(0)} (heap+external), rss +${((after.rss - before.rss) / DEVPAGES).toFixed(0)}  reported`);
}
if (sink === -1) console.log(sink);
