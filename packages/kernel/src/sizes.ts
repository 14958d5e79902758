/**
 * Sizes, alignment and bit arithmetic that stay exact up to 2^53.
 *
 * The kernel does address arithmetic with 64-bit unsigned integers and shifts:
 * `ALIGN(x, a)` is `(x + a - 1) & ~(a - 1)`, `PFN_PHYS(pfn)` is
 * `pfn << PAGE_SHIFT`. In JavaScript the bitwise operators convert their
 * operands to 32-bit integers, so `2 ** 40 & ~0xfff` silently loses the high
 * bits. Every physical address of the model (up to 2^52 with 5-level paging)
 * fits exactly in a double, so the helpers here use multiplication, division
 * and remainder by powers of two instead: each is exact for every integer
 * below 2^53. The rest of the model never uses a bitwise operator on an
 * address, pfn or size (ESLint's `no-bitwise` enforces it).
 *
 * Mirrors `include/linux/sizes.h`, `include/linux/align.h` (`ALIGN`,
 * `ALIGN_DOWN`, `IS_ALIGNED`), `include/linux/math.h` (`round_up`,
 * `DIV_ROUND_UP`), `include/linux/pfn.h` (`PFN_PHYS`, `PHYS_PFN`, `PFN_UP`,
 * `PFN_DOWN`), `include/linux/log2.h` (`ilog2`, `is_power_of_2`) and
 * `lib/cmdline.c` (`memparse`).
 */

import { KernelError } from './errno.js';
import { checkUnsigned } from './validate.js';

/** 1 byte. @public */ export const SZ_1 = 0x1;
/** 2 bytes. @public */ export const SZ_2 = 0x2;
/** 4 bytes. @public */ export const SZ_4 = 0x4;
/** 8 bytes. @public */ export const SZ_8 = 0x8;
/** 16 bytes. @public */ export const SZ_16 = 0x10;
/** 32 bytes. @public */ export const SZ_32 = 0x20;
/** 64 bytes. @public */ export const SZ_64 = 0x40;
/** 128 bytes. @public */ export const SZ_128 = 0x80;
/** 256 bytes. @public */ export const SZ_256 = 0x100;
/** 512 bytes. @public */ export const SZ_512 = 0x200;
/** 1 KiB. @public */ export const SZ_1K = 0x400;
/** 2 KiB. @public */ export const SZ_2K = 0x800;
/** 4 KiB. @public */ export const SZ_4K = 0x1000;
/** 8 KiB. @public */ export const SZ_8K = 0x2000;
/** 16 KiB. @public */ export const SZ_16K = 0x4000;
/** 32 KiB. @public */ export const SZ_32K = 0x8000;
/** 64 KiB. @public */ export const SZ_64K = 0x10000;
/** 128 KiB. @public */ export const SZ_128K = 0x20000;
/** 256 KiB. @public */ export const SZ_256K = 0x40000;
/** 512 KiB. @public */ export const SZ_512K = 0x80000;
/** 1 MiB. @public */ export const SZ_1M = 0x100000;
/** 2 MiB. @public */ export const SZ_2M = 0x200000;
/** 4 MiB. @public */ export const SZ_4M = 0x400000;
/** 8 MiB. @public */ export const SZ_8M = 0x800000;
/** 16 MiB. @public */ export const SZ_16M = 0x1000000;
/** 32 MiB. @public */ export const SZ_32M = 0x2000000;
/** 64 MiB. @public */ export const SZ_64M = 0x4000000;
/** 128 MiB. @public */ export const SZ_128M = 0x8000000;
/** 256 MiB. @public */ export const SZ_256M = 0x10000000;
/** 512 MiB. @public */ export const SZ_512M = 0x20000000;
/** 1 GiB. @public */ export const SZ_1G = 0x40000000;
/** 2 GiB. @public */ export const SZ_2G = 0x80000000;
/** 4 GiB. @public */ export const SZ_4G = 0x100000000;
/** 8 GiB. @public */ export const SZ_8G = 0x200000000;
/** 16 GiB. @public */ export const SZ_16G = 0x400000000;
/** 32 GiB. @public */ export const SZ_32G = 0x800000000;
/** 64 GiB. @public */ export const SZ_64G = 0x1000000000;
/** 1 TiB. @public */ export const SZ_1T = 0x10000000000;
/** 64 TiB. @public */ export const SZ_64T = 0x400000000000;

/** `a` must be a power of two below 2^53 (KernelError EINVAL). */
function checkPow2(fn: string, a: unknown): void {
  if (!isPowerOf2(a as number)) throw new KernelError('EINVAL', `${fn}: alignment ${typeof a === 'string' ? `'${a}'` : String(a)} is not a power of two`);
}

/** `d` must be an integer `1 <= d < 2^53` (KernelError EINVAL). */
function checkPositive(fn: string, what: string, d: unknown): void {
  checkUnsigned(fn, what, d);
  if (d === 0) throw new KernelError('EINVAL', `${fn}: ${what} 0`);
}

/** A shift must be an integer `0 <= n <= 52` (KernelError EINVAL). */
function checkShift(fn: string, n: unknown): void {
  checkUnsigned(fn, 'shift', n, 52);
}

/**
 * An operand of the bit helpers must be an integer `0 <= x < 2^53` (KernelError
 * EINVAL). The test is inline-sized (the helpers run in the hottest loops);
 * the message is built only on a refusal.
 */
function checkWord(fn: string, x: number): void {
  if (!(Number.isSafeInteger(x) && x >= 0)) checkUnsigned(fn, 'value', x);
}

/** A bit number or shift of the bit helpers: an integer `0 <= n <= 52` (KernelError EINVAL). */
function checkBitNr(fn: string, n: number): void {
  if (!(Number.isSafeInteger(n) && n >= 0 && n <= 52)) checkShift(fn, n);
}

/** An exact result must stay below 2^53 (KernelError ERANGE otherwise). */
function exact(fn: string, v: number): number {
  if (!Number.isSafeInteger(v)) throw new KernelError('ERANGE', `${fn}: result ${v} is not exact below 2^53`);
  return v;
}

// The shift and bit helpers below take unsigned integers below 2^53 and bit
// numbers 0..52, as the kernel's unsigned long operands are: anything else (a
// NaN, a fraction, a negative, a string) is a KernelError EINVAL, and a result
// that would not be exact (shl, setBit past 2^53) is ERANGE.

/**
 * `2^n` for `0 <= n <= 52`: the value of bit `n`. Mirrors `BIT(n)`.
 * @public
 */
export function bit(n: number): number {
  checkBitNr('bit', n);
  return 2 ** n;
}

/**
 * `x << n` without 32-bit truncation (`x * 2^n`).
 * @public
 */
export function shl(x: number, n: number): number {
  checkWord('shl', x);
  checkBitNr('shl', n);
  const v = x * 2 ** n;
  return v <= Number.MAX_SAFE_INTEGER ? v : exact('shl', v);
}

/**
 * `x >> n` (logical shift right of a non-negative integer) without 32-bit
 * truncation (`floor(x / 2^n)`).
 * @public
 */
export function shr(x: number, n: number): number {
  checkWord('shr', x);
  checkBitNr('shr', n);
  return Math.floor(x / 2 ** n);
}

/**
 * Whether bit `n` of `x` is set. Mirrors `test_bit()` on a value.
 * @public
 */
export function testBit(x: number, n: number): boolean {
  checkWord('testBit', x);
  checkBitNr('testBit', n);
  return Math.floor(x / 2 ** n) % 2 === 1;
}

/**
 * `x | BIT(n)`.
 * @public
 */
export function setBit(x: number, n: number): number {
  checkWord('setBit', x);
  checkBitNr('setBit', n);
  if (Math.floor(x / 2 ** n) % 2 === 1) return x;
  return exact('setBit', x + 2 ** n);
}

/**
 * `x & ~BIT(n)`.
 * @public
 */
export function clearBit(x: number, n: number): number {
  checkWord('clearBit', x);
  checkBitNr('clearBit', n);
  return Math.floor(x / 2 ** n) % 2 === 1 ? x - 2 ** n : x;
}

// The mask helpers below split each value into two 32-bit halves, which
// JavaScript's bitwise operators handle exactly, and recombine them: exact
// for every non-negative integer below 2^53, and a few nanoseconds a call
// (resource flags and page flags are tested on hot paths).
/* eslint-disable no-bitwise -- each operand is one exact 32-bit half */
const TWO32 = 2 ** 32;

/**
 * Whether every bit of `mask` is set in `x` (`(x & mask) == mask`), for
 * values up to 2^53.
 * @public
 */
export function hasBits(x: number, mask: number): boolean {
  checkWord('hasBits', x);
  checkWord('hasBits', mask);
  const ml = mask % TWO32;
  const mh = (mask - ml) / TWO32;
  const xl = x % TWO32;
  const xh = (x - xl) / TWO32;
  return ((xl & ml) >>> 0) === ml && ((xh & mh) >>> 0) === mh;
}

/**
 * Whether `x` and `mask` share any set bit (`(x & mask) != 0`), for values up
 * to 2^53.
 * @public
 */
export function anyBits(x: number, mask: number): boolean {
  checkWord('anyBits', x);
  checkWord('anyBits', mask);
  const ml = mask % TWO32;
  const xl = x % TWO32;
  return (xl & ml) !== 0 || (((x - xl) / TWO32) & ((mask - ml) / TWO32)) !== 0;
}

/**
 * `x | mask`, for values up to 2^53.
 * @public
 */
export function orBits(x: number, mask: number): number {
  checkWord('orBits', x);
  checkWord('orBits', mask);
  const ml = mask % TWO32;
  const xl = x % TWO32;
  return ((((x - xl) / TWO32) | ((mask - ml) / TWO32)) >>> 0) * TWO32 + ((xl | ml) >>> 0);
}

/**
 * `x & ~mask`, for values up to 2^53.
 * @public
 */
export function clearBits(x: number, mask: number): number {
  checkWord('clearBits', x);
  checkWord('clearBits', mask);
  const ml = mask % TWO32;
  const xl = x % TWO32;
  return ((((x - xl) / TWO32) & ~((mask - ml) / TWO32)) >>> 0) * TWO32 + ((xl & ~ml) >>> 0);
}
/* eslint-enable no-bitwise */

/**
 * Whether `x` is a power of two (`is_power_of_2()`, include/linux/log2.h):
 * false for 0.
 * @public
 */
export function isPowerOf2(x: number): boolean {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x <= 0) return false;
  return 2 ** ilog2(x) === x;
}

/**
 * `ilog2(x)` (include/linux/log2.h): the index of the highest set bit, exact
 * for every integer `1 <= x < 2^53`. Throws KernelError EINVAL for 0 (the
 * kernel's result is undefined there) and for anything but such an integer.
 * @public
 */
export function ilog2(x: number): number {
  checkUnsigned('ilog2', 'argument', x);
  if (x === 0) throw new KernelError('EINVAL', 'ilog2(0) is undefined');
  let r = Math.floor(Math.log2(x));
  // Math.log2 rounds near powers of two for large x; correct by one step.
  if (2 ** r > x) r -= 1;
  else if (2 ** (r + 1) <= x) r += 1;
  return r;
}

/**
 * The smallest power of two not below `x` (`roundup_pow_of_two()`).
 * @public
 */
export function roundupPowOfTwo(x: number): number {
  checkUnsigned('roundup_pow_of_two', 'argument', x, 2 ** 52);
  if (x <= 1) return 1;
  const r = 2 ** ilog2(x);
  return r === x ? r : r * 2;
}

/**
 * `ALIGN(x, a)` (include/linux/align.h): `x` rounded up to a multiple of `a`,
 * a power of two. Exact up to 2^53. Throws KernelError EINVAL unless `x` is
 * an unsigned integer below 2^53 and `a` a power of two, and KernelError
 * ERANGE if the result reaches 2^53 (in C it would wrap).
 * @public
 */
export function align(x: number, a: number): number {
  checkUnsigned('ALIGN', 'value', x);
  checkPow2('ALIGN', a);
  return alignExact('ALIGN', x, a);
}

function alignExact(fn: string, x: number, a: number): number {
  const r = x % a;
  return r === 0 ? x : exact(fn, x - r + a);
}

/**
 * `ALIGN_DOWN(x, a)`: `x` rounded down to a multiple of `a`.
 * @public
 */
export function alignDown(x: number, a: number): number {
  checkUnsigned('ALIGN_DOWN', 'value', x);
  checkPow2('ALIGN_DOWN', a);
  return x - (x % a);
}

/**
 * `IS_ALIGNED(x, a)`: whether `x` is a multiple of `a`.
 * @public
 */
export function isAligned(x: number, a: number): boolean {
  checkUnsigned('IS_ALIGNED', 'value', x);
  checkPow2('IS_ALIGNED', a);
  return x % a === 0;
}

/**
 * `round_up(x, y)` (include/linux/math.h): `x` rounded up to a multiple of
 * `y`. Unlike `ALIGN`, any positive integer `y` gives the exact answer here
 * (KernelError EINVAL for anything else, ERANGE beyond 2^53).
 * @public
 */
export function roundUp(x: number, y: number): number {
  checkUnsigned('round_up', 'value', x);
  checkPositive('round_up', 'divisor', y);
  return alignExact('round_up', x, y);
}

/**
 * `round_down(x, y)`: `x` rounded down to a multiple of `y`.
 * @public
 */
export function roundDown(x: number, y: number): number {
  checkUnsigned('round_down', 'value', x);
  checkPositive('round_down', 'divisor', y);
  return x - (x % y);
}

/**
 * `DIV_ROUND_UP(n, d)`: the quotient rounded up, exact up to 2^53.
 * KernelError EINVAL unless both are integers below 2^53 and `d` is not 0.
 * @public
 */
export function divRoundUp(n: number, d: number): number {
  checkUnsigned('DIV_ROUND_UP', 'dividend', n);
  checkPositive('DIV_ROUND_UP', 'divisor', d);
  const r = n % d;
  return (n - r) / d + (r === 0 ? 0 : 1);
}

/**
 * `PFN_PHYS(pfn)` (include/linux/pfn.h): the physical address of a page
 * frame, for a given `PAGE_SHIFT`.
 * @public
 */
export function pfnPhys(pfn: number, pageShift: number): number {
  checkUnsigned('PFN_PHYS', 'pfn', pfn);
  checkShift('PFN_PHYS', pageShift);
  return exact('PFN_PHYS', pfn * 2 ** pageShift);
}

/**
 * `PHYS_PFN(addr)`: the page frame that contains a physical address.
 * @public
 */
export function physPfn(addr: number, pageShift: number): number {
  checkUnsigned('PHYS_PFN', 'address', addr);
  checkShift('PHYS_PFN', pageShift);
  return Math.floor(addr / 2 ** pageShift);
}

/**
 * `PFN_UP(addr)`: the first page frame at or above `addr`.
 * @public
 */
export function pfnUp(addr: number, pageShift: number): number {
  checkUnsigned('PFN_UP', 'address', addr);
  checkShift('PFN_UP', pageShift);
  return Math.ceil(addr / 2 ** pageShift);
}

/**
 * `PFN_DOWN(addr)`: the page frame containing `addr` (same as `PHYS_PFN`).
 * @public
 */
export function pfnDown(addr: number, pageShift: number): number {
  checkUnsigned('PFN_DOWN', 'address', addr);
  checkShift('PFN_DOWN', pageShift);
  return Math.floor(addr / 2 ** pageShift);
}

/**
 * `memparse()` (lib/cmdline.c): parse a size such as `4G`, `0x1000`, `512M`,
 * with an optional K/M/G/T/P/E suffix (either case). Returns the value and
 * the index of the first character not consumed, as the kernel returns
 * `*retptr`. A string with no leading number parses as 0 consuming nothing,
 * as `simple_strtoull` does.
 *
 * The kernel computes in `unsigned long long` and never reports overflow:
 * both the digits (`simple_strtoull()` ignores its overflow flag) and the
 * suffix shift wrap modulo 2^64, so `16E` is 0 (which `mem=` then rejects as
 * "Malformed early option") and `17E` is `1E`. The model wraps the same way,
 * computing exactly; a wrapped value that a number cannot hold exactly (at
 * or above 2^53 and not a multiple of the spacing there) is refused with
 * KernelError ERANGE instead of being rounded. A non-string is EINVAL.
 * @public
 */
export function memparse(text: string): { value: number; end: number } {
  if (typeof text !== 'string') throw new KernelError('EINVAL', `memparse: not a string: ${String(text)}`);
  const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(text);
  if (m === null) return { value: 0, end: 0 };
  const digits = m[0];
  let value: bigint;
  if (/^0[xX]/.test(digits)) value = BigInt(digits);
  else if (digits.length > 1 && digits.startsWith('0')) value = BigInt(`0o${digits.slice(1)}`);
  else value = BigInt(digits);
  let end = digits.length;
  const shifts: Record<string, number> = { k: 10, m: 20, g: 30, t: 40, p: 50, e: 60 };
  const suffix = text[end]?.toLowerCase();
  if (suffix !== undefined && shifts[suffix] !== undefined) {
    value *= 2n ** BigInt(shifts[suffix]);
    end += 1;
  }
  value = BigInt.asUintN(64, value);
  const n = Number(value);
  if (BigInt(n) !== value) {
    throw new KernelError('ERANGE', `memparse: '${text.slice(0, end)}' is 0x${value.toString(16)}, not exact as a number`);
  }
  return { value: n, end };
}
