/**
 * API abuse, completeness: every function the kernel package exports whose
 * parameters are numbers (the size, alignment, bit and pfn helpers, errno and
 * notifier conversions, the log time format), found in the committed API
 * report (etc/kernel.api.md), is called with each of NaN, infinities, -1,
 * 1.5, 2^53 + 2, 2^64, undefined and a string in each parameter. Each must
 * be refused with a KernelError (or, for errnoName(), answer `undefined`,
 * its documented NULL). A new numeric export is covered by default: the
 * table of valid arguments must name it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isKernelBug, isKernelError } from '@zonedev/kernel';
import * as api from '@zonedev/kernel';

const BAD: readonly unknown[] = [NaN, Infinity, -Infinity, -1, 1.5, 2 ** 53 + 2, 2 ** 64, undefined, 'x'];

interface ApiEntry {
  readonly key: string;
  readonly optional: readonly boolean[];
}

/** Splits a parameter list at its top-level commas. */
function splitParams(list: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of list) {
    if ('([{<'.includes(c)) depth++;
    if (')]}>'.includes(c)) depth--;
    if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out;
}

/** The functions, constructors and methods an API report lists, with which parameters are optional. */
function reportEntries(md: string): ApiEntry[] {
  const out: ApiEntry[] = [];
  const lines = md.split('\n');
  let owner = '';
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    const head = /^(export (?:declare )?function |export (?:declare )?(?:abstract )?class | {4}(?:static )?)(\w+)\(/.exec(line);
    const cls = /^export (?:declare )?(?:abstract )?class (\w+)/.exec(line);
    if (cls !== null) owner = cls[1]!;
    else if (line.startsWith('export ')) owner = '';
    else if (line === '}') owner = '';
    if (head === null || cls !== null) continue;
    const isFn = head[1]!.startsWith('export');
    if (!isFn && owner === '') continue;
    // gather until the parameter list closes
    let depth = 0;
    let j = head[0].length - 1;
    let text = line;
    for (;;) {
      for (; j < text.length; j++) {
        if (text[j] === '(') depth++;
        if (text[j] === ')') depth--;
        if (depth === 0) break;
      }
      if (depth === 0) break;
      line = lines[++i]!;
      text += line;
    }
    const params = splitParams(text.slice(head[0].length, j)).filter((p) => !p.startsWith('...'));
    const optional = params.map((p) => /^\w+\?/.test(p) || /\|\s*undefined\b/.test(p));
    out.push({ key: isFn ? head[2]! : `${owner}.${head[2]!}`, optional });
  }
  return out;
}

interface Spec {
  /** Valid arguments, made afresh for each call. */
  readonly args: () => unknown[];
  readonly call: (args: unknown[]) => unknown;
  /** A bad value that is a valid argument in C for this parameter (for example -1 as NUMA_NO_NODE). */
  readonly allow?: (param: number, v: unknown) => boolean;
  /** A result that is the function's documented refusal (NULL as `undefined`). */
  readonly refusal?: (result: unknown) => boolean;
}

interface Tally {
  calls: number;
  failures: string[];
}

function show(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : String(v);
}

/** Calls each entry with each bad value in each parameter; records every answer that is not a refusal or that changed the state. */
function abuse(entries: readonly ApiEntry[], specs: Record<string, Spec | null>, snap: () => string): Tally {
  const t: Tally = { calls: 0, failures: [] };
  for (const e of entries) {
    const spec = specs[e.key];
    if (spec === null || spec === undefined) continue;
    for (let i = 0; i < e.optional.length; i++) {
      for (const v of BAD) {
        if (v === undefined && e.optional[i]) continue;
        if (spec.allow?.(i, v) === true) continue;
        const args = [...spec.args()];
        args[i] = v;
        const before = snap();
        let answer = 'returned';
        t.calls++;
        try {
          const r = spec.call(args);
          if (r instanceof Promise) r.catch(() => undefined);
          if (spec.refusal?.(r) === true) answer = 'refused';
        } catch (err) {
          answer = isKernelError(err) || isKernelBug(err) ? 'refused' : `threw ${String(err)}`;
        }
        if (answer !== 'refused') t.failures.push(`${e.key} arg ${i} = ${show(v)}: ${answer}`);
        if (snap() !== before) t.failures.push(`${e.key} arg ${i} = ${show(v)}: changed the state`);
      }
    }
  }
  return t;
}

const ENTRIES = reportEntries(readFileSync(new URL('../etc/kernel.api.md', import.meta.url), 'utf8'));
const REPORT = readFileSync(new URL('../etc/kernel.api.md', import.meta.url), 'utf8');

/** The exported functions whose every parameter is a number. */
const NUMERIC = [...REPORT.matchAll(/^export function (\w+)\(([^)]*)\)/gm)]
  .filter(([, , params]) => params!.trim() !== '' && splitParams(params!).every((p) => /^\w+\??: number$/.test(p)))
  .map(([, name]) => name!);

/** Bit and mask helpers of page-flag words, used in the hottest loops, still unchecked. */
const PENDING: ReadonlySet<string> = new Set([
  'anyBits', 'bit', 'clearBit', 'clearBits', 'hasBits', 'isPowerOf2', 'orBits', 'setBit', 'shl', 'shr', 'testBit',
]);

/** Valid arguments of each. */
const VALID: Record<string, readonly number[]> = {
  align: [4097, 4096], alignDown: [4097, 4096], isAligned: [8192, 4096], roundUp: [10, 3], roundDown: [10, 3], divRoundUp: [10, 3],
  anyBits: [6, 2], hasBits: [6, 2], orBits: [4, 2], clearBits: [6, 2],
  bit: [3], setBit: [0, 3], clearBit: [8, 3], testBit: [8, 3], shl: [1, 12], shr: [4096, 12],
  ilog2: [4096], isPowerOf2: [4096], roundupPowOfTwo: [4097],
  pfnPhys: [1, 12], physPfn: [4096, 12], pfnUp: [4097, 12], pfnDown: [4097, 12],
  errnoName: [22], notifierFromErrno: [-22], notifierToErrno: [0x8016], formatLogTime: [1e9],
};

describe('@zonedev/kernel: every numeric export refuses bad values', () => {
  const fns = api as unknown as Record<string, (...a: unknown[]) => unknown>;
  const specs: Record<string, Spec | null> = Object.fromEntries(
    NUMERIC.map((name) => [
      name,
      {
        args: () => [...VALID[name]!],
        call: (args: unknown[]) => fns[name]!(...args),
        // errnoName(): an unknown code has no name (NULL); notifier conversions take negative errnos
        ...(name === 'errnoName' ? { refusal: (r: unknown) => r === undefined } : {}),
        ...(name === 'notifierFromErrno' || name === 'errnoName' ? { allow: (_i: number, v: unknown) => v === -1 } : {}),
        ...(name === 'formatLogTime' ? { allow: (_i: number, v: unknown) => v === 1.5 } : {}), // a time, not a count
      },
    ]),
  );

  it('the numeric exports are found, and each has valid arguments', () => {
    expect(NUMERIC.length).toBeGreaterThan(25);
    expect(NUMERIC.filter((nm) => VALID[nm] === undefined)).toEqual([]);
  });

  it('each bad value in each parameter is a KernelError', () => {
    const t = abuse(ENTRIES.filter((e) => NUMERIC.includes(e.key)), specs, () => '');
    const key = (f: string): string => f.slice(0, f.indexOf(' arg '));
    expect(t.failures.filter((f) => !PENDING.has(key(f)))).toEqual([]);
    // The 32-bit-word mask helpers do not validate yet (issue 19): the list shrinks
    // as each is fixed, and this fails until the fixed one is taken off it.
    expect([...new Set(t.failures.map(key))].sort()).toEqual([...PENDING].sort());
    expect(t.calls).toBeGreaterThan(400);
  });
});
