// Shared test helpers.
import { isKernelError } from '@zonedev/kernel';
import { expect } from 'vitest';
import type { MmStruct, Vma } from '../src/index.js';

/** Runs `fn`, expects a KernelError with `errno`, and returns its message. */
export function expectErrno(fn: () => unknown, errno: string): string {
  try {
    fn();
  } catch (e) {
    expect(isKernelError(e)).toBe(true);
    expect((e as { errno: string }).errno).toBe(errno);
    return (e as Error).message;
  }
  throw new Error(`expected ${errno}, nothing was thrown`);
}

/** The VMA list as plain values, for snapshot comparisons. */
export function snapshot(mm: MmStruct): { start: number; end: number; flags: number; pgoff: number }[] {
  return mm.vmas().map((v: Vma) => ({ start: v.vmStart, end: v.vmEnd, flags: v.vmFlags, pgoff: v.vmPgoff }));
}

/** Runs `fn` expecting `errno` and checks the VMA list did not change. */
export function expectErrnoUnchanged(mm: MmStruct, fn: () => unknown, errno: string): void {
  const before = snapshot(mm);
  const maps = mm.procMaps();
  expectErrno(fn, errno);
  expect(snapshot(mm)).toEqual(before);
  expect(mm.procMaps()).toBe(maps);
}
