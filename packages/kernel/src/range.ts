/**
 * Inclusive physical ranges (include/linux/range.h).
 *
 * `struct range` is the kernel's plain pair of u64s, `start` and `end`, with
 * the end *inclusive*: the range `[0x100000000, 0x13fffffff]` is 1 GiB long.
 * `struct dev_pagemap` keeps its ranges in this form, device-dax keeps its
 * region and device ranges in it, and `arch_get_mappable_range()` answers
 * with one. `range_len()` is the one place the `+ 1` is written. (A
 * `struct resource` has the same inclusive `start`/`end`, with a name, flags
 * and tree links on top; `resource_size()` is its length.)
 *
 *   start                               end
 *     |<------------ range_len() ------->|
 *     [ byte ][ byte ] ... [ byte ][ byte ]
 */
import { KernelError } from './errno.js';
import { checkUnsigned } from './validate.js';

/**
 * `struct range` (include/linux/range.h): the physical range
 * `[start, end]`, end inclusive.
 * @public
 */
export interface Range {
  /** `start`: the first byte. */
  readonly start: number;
  /** `end`: the last byte (inclusive). */
  readonly end: number;
}

/**
 * `range_len()` (include/linux/range.h): the number of bytes in a range,
 * `end - start + 1`. An empty range has `end == start - 1` and length 0.
 * Throws KernelError EINVAL if `start` or `end` is not an unsigned integer
 * below 2^53, or if `end` lies more than one byte before `start`.
 * @public
 */
export function rangeLen(range: Range): number {
  checkUnsigned('range_len', 'start', range.start);
  if (range.end !== range.start - 1) checkUnsigned('range_len', 'end', range.end);
  if (range.end < range.start - 1) {
    throw new KernelError('EINVAL', `range_len: end 0x${range.end.toString(16)} before start 0x${range.start.toString(16)}`);
  }
  return range.end - range.start + 1;
}
