// A copy in spirit of tools/bench-kit's runRatios(): each case runs a subject
// and a baseline in the same process, in alternating tinybench rounds, and
// reports subject / baseline of the median time per operation. (This package
// does not depend on @zonedev/bench-kit; tinybench comes from the workspace.)
import { Bench } from 'tinybench';

export interface RatioCase {
  readonly name: string;
  readonly baseline: () => unknown;
  readonly subject: () => unknown;
  /** The largest acceptable ratio, or undefined for a figure that is only reported. */
  readonly target: number | undefined;
  /** Operations one subject call performs (for the ops/s column). */
  readonly ops?: number;
}

export interface RatioResult {
  readonly name: string;
  readonly baselineMs: number;
  readonly subjectMs: number;
  readonly ratio: number;
  readonly target: number | undefined;
  readonly opsPerSec: number | undefined;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

export async function runRatios(title: string, cases: readonly RatioCase[], time = 300, rounds = 5): Promise<RatioResult[]> {
  const out: RatioResult[] = [];
  for (const c of cases) {
    const base: number[] = [];
    const subj: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const bench = new Bench({ time, warmupTime: Math.min(100, time) });
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
    out.push({ name: c.name, baselineMs: b, subjectMs: s, ratio: s / b, target: c.target, opsPerSec: c.ops === undefined ? undefined : (c.ops / s) * 1000 });
  }
  printTable(title, out);
  return out;
}

const fmtMs = (ms: number): string =>
  ms < 1e-3 ? `${(ms * 1e6).toFixed(1)} ns` : ms < 1 ? `${(ms * 1e3).toFixed(2)} us` : ms < 1000 ? `${ms.toFixed(2)} ms` : `${(ms / 1000).toFixed(2)} s`;

export function printTable(title: string, results: readonly RatioResult[]): void {
  const rows = results.map((r) => [
    r.name,
    fmtMs(r.baselineMs),
    fmtMs(r.subjectMs),
    r.ratio.toFixed(3),
    r.target === undefined ? '-' : `<= ${r.target}`,
    r.target === undefined ? '' : r.ratio <= r.target ? 'ok' : 'MISSED',
    r.opsPerSec === undefined ? '' : `${Math.round(r.opsPerSec).toLocaleString('en-US')} ops/s`,
  ]);
  const head = ['case', 'baseline', 'subject', 'ratio', 'target', '', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  console.log(`\n${title}`);
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}
