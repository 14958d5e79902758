/**
 * A seeded pseudo-random generator: the kernel's `prandom_u32_state()`.
 *
 * The model is deterministic: anything random (fault injection, a test that
 * picks 10 % of the memory blocks) draws from one of these, seeded by the
 * caller, so the same seed always gives the same run. It is the combined
 * Tausworthe generator of `lib/random32.c` (four LFSR components with periods
 * 2^31..2^25, combined by xor; L'Ecuyer 1999), seeded and warmed up the way
 * `prandom_seed_state()` does.
 *
 * The generator works on 32-bit words by definition, so this file (alone with
 * the checksums elsewhere) uses JavaScript's 32-bit bitwise operators.
 */
/* eslint-disable no-bitwise -- the Tausworthe steps are defined on 32-bit words */

function tausworthe(s: number, a: number, b: number, c: number, d: number): number {
  return (((s & c) << d) ^ (((s << a) ^ s) >>> b)) >>> 0;
}

function seedComponent(x: number, m: number): number {
  return x < m ? (x + m) >>> 0 : x;
}

/**
 * `struct rnd_state` with `prandom_u32_state()` (lib/random32.c).
 * @public
 */
export class Prandom {
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private s4 = 0;

  /** Seeds the state as `prandom_seed_state(state, seed)` does. */
  constructor(seed: number) {
    this.seed(seed);
  }

  /**
   * `prandom_seed_state()`: fold a 64-bit seed to 32 bits, seed, warm up.
   *
   * One departure: the Tausworthe masks discard the low bits of each
   * component, so the kernel's seeding gives seeds 42 and 43 the same stream.
   * A user who passes `--seed 2` after `--seed 1` expects a different run, so
   * the folded seed is first spread with a multiplicative hash (Knuth's
   * 0x9e3779b9) before the kernel's seeding steps.
   */
  seed(seed: number): void {
    const lo = seed % 2 ** 32;
    const hi = Math.floor(seed / 2 ** 32);
    const folded = (lo + hi) >>> 0;
    const i = (Math.imul(folded ^ (folded >>> 16), 0x9e3779b9) ^ 0x5bd1e995) >>> 0;
    this.s1 = seedComponent(i, 2);
    this.s2 = seedComponent(i, 8);
    this.s3 = seedComponent(i, 16);
    this.s4 = seedComponent(i, 128);
    for (let n = 0; n < 10; n++) this.u32(); // prandom_warmup()
  }

  /** `prandom_u32_state()`: the next 32-bit value, as an unsigned number. */
  u32(): number {
    this.s1 = tausworthe(this.s1, 6, 13, 0xfffffffe, 18);
    this.s2 = tausworthe(this.s2, 2, 27, 0xfffffff8, 2);
    this.s3 = tausworthe(this.s3, 13, 21, 0xfffffff0, 7);
    this.s4 = tausworthe(this.s4, 3, 12, 0xffffff80, 13);
    return (this.s1 ^ this.s2 ^ this.s3 ^ this.s4) >>> 0;
  }

  /** A value in `[0, n)` (`prandom_u32_max()`: `(u32 * n) >> 32`). */
  below(n: number): number {
    return Math.floor((this.u32() * n) / 2 ** 32);
  }
}
