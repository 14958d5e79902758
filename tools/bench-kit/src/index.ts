/**
 * The benchmark harness every package's `bench/` uses.
 *
 * Speed targets in zonedev are ratios, never absolute times: each case runs a
 * subject and a baseline (a plain-JavaScript stand-in for the same amount of
 * work, e.g. `TypedArray.fill` of the memmap's bytes) in the same process, in
 * alternating rounds, and reports `subject / baseline` of the median time per
 * operation. A ratio survives a slower or busier machine; a time does not.
 */
import { execFileSync } from 'node:child_process';
import { Bench } from 'tinybench';

/** One comparison. */
export interface RatioCase {
  /** What is measured, e.g. `__init_single_page x 4Mi vs fill`. */
  readonly name: string;
  /** The reference work. */
  readonly baseline: () => unknown;
  /** The model code under test. */
  readonly subject: () => unknown;
  /** The largest acceptable ratio subject/baseline. */
  readonly target: number;
}

/** The outcome of one case. */
export interface RatioResult {
  readonly name: string;
  readonly baselineMs: number;
  readonly subjectMs: number;
  readonly ratio: number;
  readonly target: number;
  readonly ok: boolean;
}

/** The median of `xs` (the upper one of an even count); NaN for none. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** `median [min..max]` of `xs`, each with `digits` decimals. */
export function spread(xs: readonly number[], digits = 1): string {
  return `${median(xs).toFixed(digits)} [${Math.min(...xs).toFixed(digits)}..${Math.max(...xs).toFixed(digits)}]`;
}

/**
 * Runs the bench script `self` as `node [...nodeArgs] --import tsx/esm self
 * --child arg` `runs` times, each in a fresh process (so that a case's heap
 * and peak RSS are its own), and returns what each run printed last, a JSON
 * line, parsed.
 */
export function runInChildren<T>(self: string, arg: string, runs: number, nodeArgs: readonly string[] = []): T[] {
  const out: T[] = [];
  for (let i = 0; i < runs; i++) {
    const text = execFileSync(process.execPath, [...nodeArgs, '--import', 'tsx/esm', self, '--child', arg], { encoding: 'utf8', maxBuffer: 2 ** 24 });
    out.push(JSON.parse(text.trim().split('\n').pop()!) as T);
  }
  return out;
}

/**
 * Runs every case (`rounds` alternating rounds of tinybench, `time` ms per
 * task per round), prints a table of ratios, and returns the results.
 */
export async function runRatios(
  title: string,
  cases: readonly RatioCase[],
  options: { time?: number; rounds?: number } = {},
): Promise<RatioResult[]> {
  const time = options.time ?? 300;
  const rounds = options.rounds ?? 5;
  const results: RatioResult[] = [];
  for (const c of cases) {
    const base: number[] = [];
    const subj: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const bench = new Bench({ time, warmupTime: Math.min(100, time) });
      // Alternate which task goes first so neither always runs on a warmer JIT.
      if (r % 2 === 0) bench.add('baseline', c.baseline).add('subject', c.subject);
      else bench.add('subject', c.subject).add('baseline', c.baseline);
      await bench.run();
      for (const task of bench.tasks) {
        const res = task.result;
        if (res.state !== 'completed') throw new Error(`${c.name}: ${task.name} ${res.state}`);
        (task.name === 'baseline' ? base : subj).push(res.latency.p50 ?? res.latency.mean);
      }
    }
    const b = median(base);
    const s = median(subj);
    const ratio = s / b;
    results.push({ name: c.name, baselineMs: b, subjectMs: s, ratio, target: c.target, ok: ratio <= c.target });
  }
  printTable(title, results);
  return results;
}

/** Prints results as an aligned text table. */
export function printTable(title: string, results: readonly RatioResult[]): void {
  const rows = results.map((r) => [
    r.name,
    fmtMs(r.baselineMs),
    fmtMs(r.subjectMs),
    r.ratio.toFixed(3),
    `<= ${r.target}`,
    r.ok ? 'ok' : 'MISSED',
  ]);
  const head = ['case', 'baseline', 'subject', 'ratio', 'target', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  console.log(`\n${title}`);
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

function fmtMs(ms: number): string {
  if (ms < 1e-3) return `${(ms * 1e6).toFixed(1)} ns`;
  if (ms < 1) return `${(ms * 1e3).toFixed(2)} us`;
  if (ms < 1000) return `${ms.toFixed(2)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}
