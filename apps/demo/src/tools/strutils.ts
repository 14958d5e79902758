/**
 * The helpers of util-linux's lib/strutils.c that lsmem and chmem print and
 * parse with, reproduced for their exact output (util-linux 2.37).
 *
 * Sizes are binary: `size_to_human_string()` picks the largest unit the
 * value reaches (B, K, M, G, T, P, E: powers of 1024) and shows one decimal,
 * rounded half up and dropped when it is 0:
 *
 * ```
 *   134217728    -> 128M          1610612736 -> 1.5G
 *   4294967296   -> 4G            1073741824 + 100 MiB -> 1.1G
 *   0            -> 0B
 * ```
 *
 * Arithmetic runs on `bigint` because util-linux computes in `uint64_t`
 * (`frac * 1000` overflows 2^53 for exabyte values).
 */

const LETTERS = 'BKMGTPE';

/**
 * `get_exp()`: the exponent 10, 20, ... 60 of the largest unit below
 * `bytes` (0 for bytes).
 */
function getExp(bytes: bigint): number {
  let shft = 10;
  for (; shft <= 60; shft += 10) {
    if (bytes < 2n ** BigInt(shft)) break;
  }
  return shft - 10;
}

/**
 * `size_to_human_string(SIZE_SUFFIX_1LETTER, bytes)`: `128M`, `1.5G`, `0B`.
 * Mirrors lib/strutils.c of util-linux.
 */
export function sizeToHumanString(bytes: number | bigint): string {
  const b = BigInt(bytes);
  const exp = getExp(b);
  const unit = 2n ** BigInt(exp);
  const c = LETTERS[exp / 10]!;
  let dec = exp === 0 ? b : b / unit;
  let frac = exp === 0 ? 0n : b % unit;
  if (frac !== 0n) {
    // Three digits after the decimal point, then round half up to one.
    frac = (frac * 1000n) / unit;
    frac = ((frac + 50n) / 100n) * 10n;
    if (frac === 100n) {
      dec += 1n;
      frac = 0n;
    }
  }
  if (frac !== 0n) {
    let digits = frac.toString().padStart(2, '0');
    if (digits.endsWith('0')) digits = digits.slice(0, -1);
    return `${dec}.${digits}${c}`;
  }
  return `${dec}${c}`;
}

/**
 * `parse_size()` / `strtosize()`: a size with an optional binary suffix
 * (`K`, `M`, `G`, ... or `KiB`, `MiB`, ...; lower case accepted) or decimal
 * one (`KB`, `MB`, ...), a `0x` or `0` prefix for hex or octal, and a
 * decimal point (`1.5G`). Returns the value, or `undefined` where util-linux
 * returns -EINVAL (it then prints `Failed to parse size: '...': Invalid argument`).
 */
export function parseSize(str: string): bigint | undefined {
  if (str === '') return undefined;
  const trimmed = str.replace(/^\s+/, '');
  if (trimmed.startsWith('-')) return undefined;
  const num = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(trimmed);
  if (num === null) return undefined;
  let x = parseInteger(num[0]);
  let p = trimmed.slice(num[0].length);
  if (p === '') return x;
  let frac = 0n;
  let fracZeros = 0;
  let base = 1024n;
  for (;;) {
    if (p[1] === 'i' && (p[2] === 'B' || p[2] === 'b') && p.length === 3) {
      base = 1024n;
    } else if ((p[1] === 'B' || p[1] === 'b') && p.length === 2) {
      base = 1000n;
    } else if (p.length > 1) {
      // A decimal point, once, followed by digits and a suffix.
      if (frac === 0n && p[0] === '.') {
        let q = p.slice(1);
        while (q.startsWith('0')) {
          fracZeros++;
          q = q.slice(1);
        }
        const digits = /^[0-9]+/.exec(q);
        if (digits !== null) {
          frac = BigInt(digits[0]);
          q = q.slice(digits[0].length);
        }
        if (frac !== 0n && q === '') return undefined;
        p = q;
        continue;
      }
      return undefined;
    }
    break;
  }
  const suffix = p[0] ?? '';
  let pwr = 'KMGTPEZY'.indexOf(suffix) + 1;
  if (pwr === 0) pwr = 'kmgtpezy'.indexOf(suffix) + 1;
  if (pwr === 0) return undefined;
  x *= base ** BigInt(pwr);
  if (frac !== 0n) {
    const fracBase = base ** BigInt(pwr);
    let fracDiv = 10n;
    while (fracDiv < frac) fracDiv *= 10n;
    for (let i = 0; i < fracZeros; i++) fracDiv *= 10n;
    let poz = 1n;
    let f = frac;
    do {
      const seg = f % 10n;
      const segDiv = fracDiv / poz;
      f /= 10n;
      poz *= 10n;
      if (seg !== 0n && segDiv / seg !== 0n) x += fracBase / (segDiv / seg);
    } while (f !== 0n);
  }
  return x;
}

/** `strtoumax(s, NULL, 0)` for a string already known to be a whole number. */
function parseInteger(s: string): bigint {
  if (/^0[xX]/.test(s)) return BigInt(s);
  if (s.length > 1 && s.startsWith('0')) return BigInt(`0o${s.slice(1)}`);
  return BigInt(s);
}

/**
 * `ul_strtou64(str, base)` as `strtou64_or_err()`/`strtox64_or_err()` use it:
 * the whole string must be a number (`0x` allowed in base 16), no sign.
 * Returns `undefined` for what util-linux rejects.
 */
export function strtou64(str: string, base: 10 | 16): bigint | undefined {
  const re = base === 10 ? /^\s*\+?[0-9]+$/ : /^\s*\+?(0[xX])?[0-9a-fA-F]+$/;
  if (!re.test(str)) return undefined;
  const s = str.trim().replace(/^\+/, '');
  return base === 10 ? BigInt(s) : BigInt(/^0[xX]/.test(s) ? s : `0x${s}`);
}

/**
 * `versionsort` order of directory names (`strverscmp`), enough for sysfs
 * names: runs of digits compare as numbers, `memory9` before `memory10`.
 */
export function versionCompare(a: string, b: string): number {
  const re = /(\d+|\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const nx = BigInt(x);
      const ny = BigInt(y);
      if (nx !== ny) return nx < ny ? -1 : 1;
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

/** `isdigit_string()`: non-empty and all decimal digits. */
export function isDigitString(s: string): boolean {
  return /^[0-9]+$/.test(s);
}
