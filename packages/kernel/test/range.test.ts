// include/linux/range.h and include/linux/numa.h: struct range, range_len(), NUMA_NO_NODE.
import { describe, expect, it } from 'vitest';
import { NUMA_NO_NODE, SZ_1G, SZ_4G, isKernelError, rangeLen } from '@zonedev/kernel';
import type { Range } from '@zonedev/kernel';

function errnoOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isKernelError(e) ? `${e.errno}: ${e.message}` : `not a KernelError: ${String(e)}`;
  }
  return undefined;
}

describe('range_len() (include/linux/range.h)', () => {
  it('counts the inclusive end: [4G, 5G - 1] is 1 GiB, one byte is 1', () => {
    expect(rangeLen({ start: SZ_4G, end: SZ_4G + SZ_1G - 1 })).toBe(SZ_1G);
    expect(rangeLen({ start: 0x1000, end: 0x1000 })).toBe(1);
  });

  it('an empty range (end == start - 1) has length 0', () => {
    expect(rangeLen({ start: SZ_4G, end: SZ_4G - 1 })).toBe(0);
    expect(rangeLen({ start: 0, end: -1 })).toBe(0);
  });

  it('refuses an end before start - 1 and values no u64 can hold, with EINVAL', () => {
    expect(errnoOf(() => rangeLen({ start: 0x2000, end: 0xfff }))).toBe('EINVAL: range_len: end 0xfff before start 0x2000');
    expect(errnoOf(() => rangeLen({ start: NaN, end: 0 }))).toBe('EINVAL: range_len: invalid start NaN');
    expect(errnoOf(() => rangeLen({ start: 0, end: 1.5 }))).toBe('EINVAL: range_len: invalid end 1.5');
    expect(errnoOf(() => rangeLen({ start: 0, end: 2 ** 53 + 2 }))).toMatch(/^EINVAL: range_len: invalid end/);
    expect(errnoOf(() => rangeLen({ start: 'x', end: 1 } as unknown as Range))).toBe("EINVAL: range_len: invalid start 'x'");
  });
});

describe('NUMA_NO_NODE (include/linux/numa.h)', () => {
  it('is -1', () => {
    expect(NUMA_NO_NODE).toBe(-1);
  });
});
