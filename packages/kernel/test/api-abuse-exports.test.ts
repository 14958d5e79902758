/**
 * API abuse, completeness: every function the kernel package exports whose
 * parameters are numbers (the size, alignment, bit and pfn helpers, errno and
 * notifier conversions, the log time format), found in the committed API
 * report (etc/kernel.api.md), is called with each of NaN, infinities, -1,
 * 1.5, 2^53 + 2, 2^64, undefined and a string in each parameter. Each must
 * be refused with a KernelError (or, for errnoName(), answer `undefined`,
 * its documented NULL; for isPowerOf2(), false). A new numeric export is
 * covered by default: the table of valid arguments must name it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { abuse, reportEntries, splitParams } from '@zonedev/test-kit';
import type { Spec } from '@zonedev/test-kit';
import { isKernelBug, isKernelError } from '@zonedev/kernel';
import * as api from '@zonedev/kernel';

/** A KernelError, or a KernelBug where the kernel would BUG. */
const refused = (err: unknown): boolean => isKernelError(err) || isKernelBug(err);

const ENTRIES = reportEntries(readFileSync(new URL('../etc/kernel.api.md', import.meta.url), 'utf8'));
const REPORT = readFileSync(new URL('../etc/kernel.api.md', import.meta.url), 'utf8');

/** The exported functions whose every parameter is a number. */
const NUMERIC = [...REPORT.matchAll(/^export function (\w+)\(([^)]*)\)/gm)]
  .filter(([, , params]) => params!.trim() !== '' && splitParams(params!).every((p) => /^\w+\??: number$/.test(p)))
  .map(([, name]) => name!);

/** Valid arguments of each. */
const VALID: Record<string, readonly number[]> = {
  align: [4097, 4096], alignDown: [4097, 4096], isAligned: [8192, 4096], roundUp: [10, 3], roundDown: [10, 3], divRoundUp: [10, 3],
  anyBits: [6, 2], hasBits: [6, 2], orBits: [4, 2], clearBits: [6, 2],
  bit: [3], setBit: [0, 3], clearBit: [8, 3], testBit: [8, 3], shl: [1, 12], shr: [4096, 12],
  ilog2: [4096], isPowerOf2: [4096], roundupPowOfTwo: [4097],
  pfnPhys: [1, 12], physPfn: [4096, 12], pfnUp: [4097, 12], pfnDown: [4097, 12],
  mkdev: [252, 0], major: [264241152], minor: [264241152], formatDevt: [1048579],
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
        // errnoName(): an unknown code has no name (NULL); is_power_of_2() of a
        // value that is not a positive integer is false; notifier conversions
        // take negative errnos
        ...(name === 'errnoName' ? { refusal: (r: unknown) => r === undefined } : {}),
        ...(name === 'isPowerOf2' ? { refusal: (r: unknown) => r === false } : {}),
        ...(name === 'notifierFromErrno' || name === 'errnoName' ? { allow: (_i: number, v: unknown) => v === -1 } : {}),
        ...(name === 'formatLogTime' ? { allow: (_i: number, v: unknown) => v === 1.5 } : {}), // a time, not a count
      },
    ]),
  );

  it('the numeric exports are found, and each has valid arguments', () => {
    expect(NUMERIC.length).toBeGreaterThan(20);
    expect(NUMERIC.filter((nm) => VALID[nm] === undefined)).toEqual([]);
  });

  it('each bad value in each parameter is a KernelError', () => {
    const t = abuse(ENTRIES.filter((e) => NUMERIC.includes(e.key)), specs, () => '', refused);
    expect(t.failures).toEqual([]);
    expect(t.calls).toBeGreaterThan(300);
  });
});
