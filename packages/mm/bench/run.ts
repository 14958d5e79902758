// Benchmarks of @zonedev/mm, reported as ratios (pnpm bench).
//
// 1. Faulting in 256 MiB of anonymous memory (64 Ki write faults: page
//    allocation, clearing, rmap, PTE; and the munmap that frees it again)
//    against a `fill` of the same bytes plus 64 B per page (the struct page
//    the kernel touches): target <= 20.
// 2. migrate_pages() of 64 Ki mapped 4K pages (try_to_unmap, the refcount
//    check, the copy, remove_migration_ptes) against one copy of the same
//    bytes: target <= 3 (the kernel spends about a third of a 4K migration
//    in the copy).
// 3. A page-table walk over 1 GiB mapped (256 Ki PTEs) against a read of a
//    Float64Array of 256 Ki entries: reported.
//
// Case 2 times migrate_pages() alone: the machine and its mapped pages are
// prepared once, and the isolation of the pages before each run, untimed;
// each run moves the pages the previous one left, so the copies go to host
// memory that earlier runs already touched, as the baseline's copy does. Every timed run starts
// after a full garbage collection (node --expose-gc) and is measured in the
// process's own CPU time (user + system), so that other processes on a shared
// machine do not count. Every case is first run untimed MM_BENCH_WARMUP times
// (default 2), so that the rounds time compiled code. MM_BENCH_PAGES scales
// cases 1 and 2 (default 65536), MM_BENCH_ROUNDS sets the rounds (default 5,
// one run of each side per round, alternating which goes first); the median
// ratio is printed with the range of the rounds' ratios.
import { GFP_HIGHUSER_MOVABLE } from '@zonedev/mmzone';
import {
  FAULT_FLAG_WRITE, MAP_ANONYMOUS, MAP_PRIVATE, MIGRATE_SYNC, MR_SYSCALL, PROT_READ, PROT_WRITE, handleMmFault,
  isolateLruPage, migratePages, userWrite,
} from '../src/index.js';
import type { MmStruct } from '../src/index.js';
import { GiB, MiB, bootMachine, newMm } from '../test/machine.js';

interface RatioCase {
  readonly name: string;
  readonly baseline: () => unknown;
  readonly subject: () => unknown;
  /** Untimed preparation before each subject run. */
  readonly setup?: () => void;
  /** Runs of each side per timed measurement, their mean taken (a case without setup only). */
  readonly reps?: number;
  readonly target: number;
}

/** The mean of `reps` runs of `fn`: this process's CPU time (user + system) and the wall time, in ms. */
function timeRun(fn: () => unknown, reps: number = 1): { cpu: number; wall: number } {
  const c = process.cpuUsage();
  const t = performance.now();
  for (let i = 0; i < reps; i++) fn();
  const wall = performance.now() - t;
  const d = process.cpuUsage(c);
  return { cpu: (d.user + d.system) / 1000 / reps, wall: wall / reps };
}

/**
 * Median subject/baseline time over rounds that alternate which side runs
 * first, printed with the range of the per-round ratios. Each case first
 * runs untimed (warm-up: both sides are compiled before the first timed
 * round); every timed run starts after a full collection. The verdict is
 * on the process's own CPU time (user + system, all its threads: page faults
 * and concurrent GC count), which other processes on a shared machine do not
 * inflate; the wall-time ratio is printed too.
 */
function runRatios(title: string, cases: readonly RatioCase[], o: { rounds: number }): void {
  console.log(title);
  for (const c of cases) {
    const base: number[] = [];
    const subj: number[] = [];
    const baseWall: number[] = [];
    const subjWall: number[] = [];
    for (let w = 0; w < WARMUP; w++) {
      c.baseline();
      c.setup?.();
      c.subject();
    }
    const timeBaseline = (): void => {
      gc();
      const t = timeRun(c.baseline, c.reps);
      base.push(t.cpu);
      baseWall.push(t.wall);
    };
    const timeSubject = (): void => {
      c.setup?.();
      gc();
      const t = timeRun(c.subject, c.setup ? 1 : c.reps);
      subj.push(t.cpu);
      subjWall.push(t.wall);
    };
    for (let r = 0; r < o.rounds; r++) {
      if (r % 2 === 0) {
        timeBaseline();
        timeSubject();
      } else {
        timeSubject();
        timeBaseline();
      }
    }
    const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    const ratio = med(subj) / med(base);
    const perRound = subj.map((x, i) => x / base[i]!);
    const range = `rounds ${Math.min(...perRound).toFixed(2)}..${Math.max(...perRound).toFixed(2)}`;
    const wall = med(subjWall) / med(baseWall);
    const verdict = Number.isFinite(c.target) ? (ratio <= c.target ? `ok (<= ${c.target})` : `OVER ${c.target}`) : 'reported';
    console.log(
      `  ${c.name}: cpu ${med(subj).toFixed(1)} ms / ${med(base).toFixed(1)} ms = ${ratio.toFixed(2)} (${range}), wall ${wall.toFixed(2)}  ${verdict}`,
    );
  }
}

const N = Number(process.env['MM_BENCH_PAGES'] ?? 64 * 1024);
const ROUNDS = Number(process.env['MM_BENCH_ROUNDS'] ?? 5);
const WARMUP = Number(process.env['MM_BENCH_WARMUP'] ?? 2);
const RW = PROT_READ + PROT_WRITE;
const ANON = MAP_PRIVATE + MAP_ANONYMOUS;
let sink = 0;
let migration: { m: ReturnType<typeof bootMachine>; from: number[] } | undefined;
/** A full collection before a timed run, so garbage of the preparation is not collected inside it (with --expose-gc). */
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

function faultIn(mm: MmStruct, pages: number): number {
  const a = mm.mmap({ length: pages * 4096, prot: RW, flags: ANON });
  const vma = mm.findVma(a)!;
  for (let i = 0; i < pages; i++) handleMmFault(vma, a + i * 4096, FAULT_FLAG_WRITE);
  return a;
}

const bytes = new Uint8Array(N * 4096 + 64 * N);
const src = new Uint8Array(N * 4096).fill(0x5a);
const dst = new Uint8Array(N * 4096);
const f64 = new Float64Array(256 * 1024);

// the fault case's machine is booted once; each run maps, faults in and unmaps 256 MiB
const faultM = bootMachine({ memory: 2 * N * 4096 + 64 * MiB });
const faultMm = newMm(faultM);

// the migration's machine is booted once: each round moves the same 256 MiB of mapped pages to new pages
const migM = bootMachine({ memory: 3 * N * 4096 + 256 * MiB });
const migMm = newMm(migM);
const migAddr = migMm.mmap({ length: N * 4096, prot: RW, flags: ANON });
userWrite(migMm, migAddr, src);

// the walk's machine is built once: 1 GiB mapped
const walkM = bootMachine({ memory: 2 * GiB });
const walkMm = newMm(walkM);
const walkAddr = faultIn(walkMm, 256 * 1024);

runRatios(
  '@zonedev/mm',
  [
    {
      name: `fault in ${(N * 4096) / MiB} MiB anonymous (${N} pages) / fill of the bytes + 64 B per page`,
      target: 20,
      baseline: () => {
        bytes.fill(++sink % 256);
      },
      subject: () => {
        const a = faultIn(faultMm, N);
        faultMm.munmap(a, N * 4096);
        sink += faultM.core.nrFreePages();
      },
    },
    {
      name: `migrate_pages of ${N} mapped 4K pages / one copy of ${(N * 4096) / MiB} MiB`,
      target: 3,
      baseline: () => {
        dst.set(src);
      },
      setup: () => {
        // the pages mapped now (where the previous round moved them), isolated as migrate_pages() wants them
        const from: number[] = [];
        migMm.pgd!.walk(migAddr, migAddr + N * 4096, ({ pte }) => {
          if (pte.kind === 'present') from.push(pte.pfn);
        });
        for (const p of from) isolateLruPage(migM.sys, p);
        migration = { m: migM, from };
      },
      subject: () => {
        const { m, from } = migration!;
        const r = migratePages(m.sys, from, () => m.core.allocPages(GFP_HIGHUSER_MOVABLE, 0), undefined, MIGRATE_SYNC, MR_SYSCALL);
        if (r.nrSucceeded !== N) throw new Error(`migrate_pages moved ${r.nrSucceeded} of ${N}`);
        migration = undefined;
        sink += r.nrSucceeded;
      },
    },
    {
      name: 'page-table walk of 1 GiB mapped / Float64Array read of 256 Ki entries',
      target: Infinity,
      // a walk takes milliseconds and the read a fraction of one: each measurement is the mean of 20 runs
      reps: 20,
      baseline: () => {
        let s = 0;
        for (let i = 0; i < f64.length; i++) s += f64[i]!;
        sink += s;
      },
      subject: () => {
        let n = 0;
        walkMm.pgd!.walk(walkAddr, walkAddr + GiB, () => n++);
        sink += n;
      },
    },
  ],
  { rounds: ROUNDS },
);
if (sink === -1) console.log(sink);
