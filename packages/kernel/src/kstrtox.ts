/**
 * Parsing user input the way sysfs store callbacks do (lib/kstrtox.c).
 *
 * A sysfs write hands the store callback the bytes the user wrote, newline
 * included; the `kstrto*()` helpers turn them into values and reject anything
 * else with -EINVAL, which the shell shows as `write error: Invalid argument`.
 */
import { KernelError } from './errno.js';

/**
 * `kstrtobool()` of v5.13 (lib/kstrtox.c): `y`/`Y`/`1`/`on` is true,
 * `n`/`N`/`0`/`off` is false (only the first one or two characters count, so
 * `"1\n"` and `"yes"` are fine), anything else -EINVAL.
 * @public
 */
export function kstrtobool(s: string): boolean {
  const c0 = s[0];
  if (c0 === 'y' || c0 === 'Y' || c0 === '1') return true;
  if (c0 === 'n' || c0 === 'N' || c0 === '0') return false;
  if (c0 === 'o' || c0 === 'O') {
    const c1 = s[1];
    if (c1 === 'n' || c1 === 'N') return true;
    if (c1 === 'f' || c1 === 'F') return false;
  }
  throw new KernelError('EINVAL', `kstrtobool: invalid boolean '${s.replace(/\n$/, '')}'`);
}

/**
 * `kstrtoull(s, 0, &res)` (lib/kstrtox.c): an unsigned number in C syntax
 * (`0x` hex, leading `0` octal, else decimal), one trailing newline allowed.
 * -EINVAL for anything else, -ERANGE beyond 2^64 - 1. Values above 2^53 are
 * returned rounded (no physical address of the model reaches them).
 * @public
 */
export function kstrtoull(s: string): number {
  const t = s.endsWith('\n') ? s.slice(0, -1) : s;
  let digits: string;
  let base: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) {
    digits = t.slice(2);
    base = 16;
  } else if (/^0[0-7]*$/.test(t)) {
    digits = t;
    base = 8;
  } else if (/^[1-9][0-9]*$/.test(t)) {
    digits = t;
    base = 10;
  } else {
    throw new KernelError('EINVAL', `kstrtoull: invalid number '${t}'`);
  }
  const v = BigInt(base === 16 ? `0x${digits}` : base === 8 ? `0o${digits}` : digits);
  if (v > 0xffffffffffffffffn) throw new KernelError('ERANGE', `kstrtoull: '${t}' out of range`);
  return Number(v);
}
