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
  // The kernel's `if (!s) return -EINVAL;`: a missing string (or, here, a non-string).
  if (typeof s !== 'string') throw new KernelError('EINVAL', `kstrtobool: not a string: ${String(s)}`);
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
 * `kstrtoull(s, 0, &res)` (lib/kstrtox.c), exactly: an unsigned number in C
 * syntax (`0x` hex, leading `0` octal, else decimal) after an optional `+`,
 * one trailing newline allowed. KernelError EINVAL for anything else
 * (including a non-string), ERANGE at or beyond 2^64, as `_kstrtoull()`
 * returns.
 * @public
 */
export function kstrtoullBig(s: string): bigint {
  if (typeof s !== 'string') throw new KernelError('EINVAL', `kstrtoull: not a string: ${String(s)}`);
  const u = s.endsWith('\n') ? s.slice(0, -1) : s;
  const t = u.startsWith('+') ? u.slice(1) : u;
  let v: bigint;
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) v = BigInt(t);
  else if (/^0[0-7]*$/.test(t)) v = t.length > 1 ? BigInt(`0o${t.slice(1)}`) : 0n;
  else if (/^[1-9][0-9]*$/.test(t)) v = BigInt(t);
  else throw new KernelError('EINVAL', `kstrtoull: invalid number '${u}'`);
  if (v > 0xffffffffffffffffn) throw new KernelError('ERANGE', `kstrtoull: '${u}' out of range`);
  return v;
}

/**
 * `kstrtoull(s, 0, &res)` (lib/kstrtox.c) as a number: the syntax and the
 * errors of {@link kstrtoullBig}. A value the kernel accepts but a number
 * cannot hold exactly (above 2^53 and not a multiple of the spacing there,
 * such as 2^64 - 1) is refused with KernelError ERANGE rather than rounded:
 * no physical address, pfn or count of the model reaches 2^53, and a rounded
 * value would silently name a different one. Use {@link kstrtoullBig} for
 * the full 64-bit range.
 * @public
 */
export function kstrtoull(s: string): number {
  const v = kstrtoullBig(s);
  const n = Number(v);
  if (BigInt(n) !== v) {
    throw new KernelError('ERANGE', `kstrtoull: ${v} cannot be represented exactly`);
  }
  return n;
}
