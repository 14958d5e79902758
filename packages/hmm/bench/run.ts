// Benchmarks of @zonedev/hmm, reported as ratios (pnpm bench).
//
// 1. migrate_vma of 64 Ki anonymous 4K pages to a dmirror device and back
//    against two copies of the same 256 MiB: target <= 3, goal <= 2. To the
//    device is the MIGRATE ioctl (dmirror_migrate(): migrate_vma_setup, the
//    copy to the backing pages, migrate_vma_pages, the mirror update,
//    migrate_vma_finalize, and the read-back of the migrated data to the
//    user buffer the ioctl does for verification); back is the process
//    touching each page once (a CPU fault per page: migrate_to_ram, which
//    copies the page back). The machine is booted once: every round moves the
//    same pages there and back, so it ends as it started, and the pages are
//    copied into host memory that earlier rounds already touched, as the
//    baseline's copies are.
// 2. hmm_range_fault() snapshot of 1 GiB mapped (256 Ki zero-page PTEs)
//    against mm's page-table walk of the same range: target <= 2. Each
//    side runs HMM_BENCH_REPS times (default 10) per round and the mean is
//    taken, as one walk is only a few milliseconds; the 2 MiB pfn array is
//    the driver's, allocated once.
// 3. Host bytes per device-private page after migrating HMM_BENCH_DEVPAGES
//    (default 1 Mi) untouched pages to the device: reported.
//
// Every case is first run untimed HMM_BENCH_WARMUP times (default 2), so that
// the rounds time compiled code; every timed run starts after a full garbage
// collection (node --expose-gc) and is measured in the process's own CPU time
// (user + system), which other processes on a shared machine do not inflate.
// HMM_BENCH_ROUNDS rounds (default 5) alternate which side goes first; the
// median ratio is printed with the range of the rounds' ratios.
// HMM_BENCH_PAGES scales case 1 (default 65536).
import {
  FAULT_FLAG_WRITE, MAP_ANONYMOUS, MAP_PRIVATE, MmuIntervalNotifier, PROT_READ, PROT_WRITE, handleMmFault, mmuIntervalNotifierInsert,
  mmuIntervalReadBegin, mmuIntervalSetSeq, userRead, userWrite,
} from '@zonedev/mm';
import { HMM_DMIRROR_MIGRATE, hmmRangeFault } from '../src/index.js';
import { GiB, MiB, bootMachine, newMm } from '../test/machine.js';

interface RatioCase {
  readonly name: string;
  readonly baseline: () => unknown;
  readonly subject: () => unknown;
  /** Runs of each side per timed measurement (their mean is taken). */
  readonly reps?: number;
  readonly target: number;
}

const P = 4096;
const RW = PROT_READ + PROT_WRITE;
const ANON = MAP_PRIVATE + MAP_ANONYMOUS;
const N = Number(process.env['HMM_BENCH_PAGES'] ?? 65536);
const DEVPAGES = Number(process.env['HMM_BENCH_DEVPAGES'] ?? 1024 * 1024);
const ROUNDS = Number(process.env['HMM_BENCH_ROUNDS'] ?? 5);
const WARMUP = Number(process.env['HMM_BENCH_WARMUP'] ?? 2);
const REPS = Number(process.env['HMM_BENCH_REPS'] ?? 10);
let sink = 0;
/** A full collection (with --expose-gc), so that no earlier garbage is collected inside a timed run. */
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

/** The mean CPU time (user + system) and wall time of `reps` runs of `fn`, in ms. */
function timeRuns(fn: () => unknown, reps: number): { cpu: number; wall: number } {
  gc();
  const c = process.cpuUsage();
  const t = performance.now();
  for (let i = 0; i < reps; i++) fn();
  const wall = performance.now() - t;
  const d = process.cpuUsage(c);
  return { cpu: (d.user + d.system) / 1000 / reps, wall: wall / reps };
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** Median subject/baseline CPU time over alternating rounds, with the range of the rounds' ratios. */
function runRatios(cases: readonly RatioCase[]): void {
  for (const c of cases) {
    const reps = c.reps ?? 1;
    for (let w = 0; w < WARMUP; w++) {
      c.baseline();
      c.subject();
    }
    const base: number[] = [];
    const subj: number[] = [];
    const wall: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const first = r % 2 === 0 ? c.baseline : c.subject;
      const second = r % 2 === 0 ? c.subject : c.baseline;
      const a = timeRuns(first, reps);
      const b = timeRuns(second, reps);
      const [tb, ts] = r % 2 === 0 ? [a, b] : [b, a];
      base.push(tb.cpu);
      subj.push(ts.cpu);
      wall.push(ts.wall / tb.wall);
    }
    const ratio = median(subj) / median(base);
    const perRound = subj.map((x, i) => x / base[i]!);
    const verdict = Number.isFinite(c.target) ? (ratio <= c.target ? `ok (<= ${c.target})` : `OVER ${c.target}`) : 'reported';
    console.log(
      `  ${c.name}: cpu ${median(subj).toFixed(1)} ms / ${median(base).toFixed(1)} ms = ${ratio.toFixed(2)} ` +
        `(${ROUNDS} rounds ${Math.min(...perRound).toFixed(2)}..${Math.max(...perRound).toFixed(2)}), wall ${median(wall).toFixed(2)}  ${verdict}`,
    );
  }
}

/** Memory usage after a full collection and a pause in which freed array buffers are released. */
async function settledMemoryUsage(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 2; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return process.memoryUsage();
}

function bigMachine(ram: number): ReturnType<typeof bootMachine> {
  return bootMachine({ memory: [{ start: MiB, size: ram, nid: 0 }] });
}

const src = Buffer.alloc(N * P, 1);
const dst = Buffer.alloc(N * P);

// case 1's machine: the buffer to migrate, the buffer the ioctl copies the migrated data to, the mirror
const migM = bigMachine(4 * (N * P) + 512 * MiB);
migM.testHmm.load();
const migMm = newMm(migM);
const migA = migMm.mmap({ length: N * P, prot: RW, flags: ANON });
const migBuf = migMm.mmap({ length: N * P, prot: RW, flags: ANON });
userWrite(migMm, migA, src);
userWrite(migMm, migBuf, src);
const migF = migM.testHmm.open(0, migMm);

// case 2's machine: 1 GiB mapped to the zero page, a mirror of the whole address space
const walkM = bigMachine(GiB);
const walkMm = newMm(walkM);
const walkAddr = walkMm.mmap({ length: GiB, prot: RW, flags: ANON });
userRead(walkMm, walkAddr, GiB);
const sub = new MmuIntervalNotifier();
mmuIntervalNotifierInsert(sub, walkMm, 0, 2n ** 47n, { invalidate: (s, _r, seq) => (mmuIntervalSetSeq(s, seq), true) });
// the driver's pfn array, allocated once as a driver allocates it (hmm_range_fault() writes every entry)
const walkPfns = new BigUint64Array(GiB / P);

console.log('@zonedev/hmm');
runRatios([
  {
    name: `migrate_vma of ${N} anonymous pages to the device and back / two copies of ${(N * P) / MiB} MiB`,
    target: 3,
    baseline: () => {
      src.copy(dst);
      dst.copy(src);
    },
    subject: () => {
      const cmd = { addr: BigInt(migA), ptr: BigInt(migBuf), npages: BigInt(N), cpages: 0n, faults: 0n };
      migF.ioctl(HMM_DMIRROR_MIGRATE, cmd);
      if (cmd.cpages !== BigInt(N)) throw new Error(`MIGRATE moved ${cmd.cpages} of ${N} pages`);
      // the CPU touches every page once: one migrate_to_ram each
      let s = 0;
      for (let i = 0; i < N; i++) s += userRead(migMm, migA + i * P, 1)[0]!;
      if (s !== N) throw new Error('the pages did not come back with their data');
      sink += s;
    },
  },
  {
    name: 'hmm_range_fault snapshot of 1 GiB mapped / page-table walk of the same range',
    target: 2,
    reps: REPS,
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
        hmmPfns: walkPfns,
        defaultFlags: 0n,
        pfnFlagsMask: 0n,
        devPrivateOwner: null,
      };
      hmmRangeFault(range);
      sink += Number(range.hmmPfns[0]! % 2n);
    },
  },
]);

// case 3: host memory per device-private page
{
  const m = bigMachine(DEVPAGES * P + GiB);
  m.testHmm.load();
  const mm = newMm(m);
  const a = mm.mmap({ length: DEVPAGES * P, prot: RW, flags: ANON });
  const buf = mm.mmap({ length: DEVPAGES * P, prot: RW, flags: ANON });
  const f = m.testHmm.open(0, mm);
  const chunk = 64 * 1024;
  // The pages migrated were never written, so the read-back to `buf` copies zeros and leaves its pages
  // unwritten too; `buf`'s pages are faulted in (write faults: mapped, no data) before the measurement
  // starts, so that what grows is the bookkeeping of the device-private pages alone.
  const bufVma = mm.findVma(buf)!;
  for (let i = 0; i < Math.min(chunk, DEVPAGES); i++) handleMmFault(bufVma, buf + i * P, FAULT_FLAG_WRITE);
  const before = await settledMemoryUsage();
  for (let i = 0; i < DEVPAGES; i += chunk) {
    const n = Math.min(chunk, DEVPAGES - i);
    f.ioctl(HMM_DMIRROR_MIGRATE, { addr: BigInt(a + i * P), ptr: BigInt(buf), npages: BigInt(n), cpages: 0n, faults: 0n });
  }
  const after = await settledMemoryUsage();
  const heap = after.heapUsed + after.external + after.arrayBuffers - (before.heapUsed + before.external + before.arrayBuffers);
  console.log(`  host bytes per device-private page after migrating ${DEVPAGES} pages: ${(heap / DEVPAGES).toFixed(0)} (heap+external), rss +${((after.rss - before.rss) / DEVPAGES).toFixed(0)}  reported`);
}
if (sink === -1) console.log(sink);
