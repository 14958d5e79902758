/**
 * Validation at the boundary of every exported function that takes an
 * address, size, count or order.
 *
 * The kernel's arguments are C integers (`resource_size_t`, `unsigned long`,
 * `unsigned int`): a NaN, an infinity, a fraction or a string cannot reach it.
 * In JavaScript they can, and an unchecked one turns into `0x00000NaN` in
 * /proc/iomem or a fractional page count. The model therefore refuses every
 * value that is not a non-negative integer it can represent exactly (below
 * 2^53, which covers every physical address up to 5-level paging's 2^52)
 * with KernelError EINVAL, before it changes any state. A negative number
 * would be a huge unsigned value in C; it is refused the same way.
 */
import { KernelError } from './errno.js';

function show(x: unknown): string {
  if (typeof x === 'string') return `'${x}'`;
  if (typeof x === 'bigint') return `${x}n`;
  return String(x);
}

/**
 * Throws KernelError EINVAL, naming `fn` and `what`, unless `x` is an integer
 * `0 <= x <= max` (default `2^53 - 1`, the largest exact integer).
 * @public
 */
export function checkUnsigned(fn: string, what: string, x: unknown, max: number = Number.MAX_SAFE_INTEGER): asserts x is number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0 || x > max) {
    throw new KernelError('EINVAL', `${fn}: invalid ${what} ${show(x)}`);
  }
}

/**
 * Throws KernelError EINVAL unless `start` and `size` are unsigned integers
 * whose sum stays below 2^53 (so `start + size - 1`, the inclusive end, is
 * exact). A size of 0 passes: the kernel's own checks refuse the empty range
 * it describes (`end < start`).
 * @public
 */
export function checkPhysRange(fn: string, start: unknown, size: unknown): asserts start is number {
  checkUnsigned(fn, 'start', start);
  checkUnsigned(fn, 'size', size);
  if (size > 0 && start > Number.MAX_SAFE_INTEGER - (size - 1)) {
    throw new KernelError('EINVAL', `${fn}: range 0x${start.toString(16)}+0x${size.toString(16)} exceeds 2^53`);
  }
}
