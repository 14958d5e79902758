/**
 * The fuzzer's random numbers: the Park–Miller "minimal standard" generator
 * (Lehmer, multiplier 48271, modulus 2^31 - 1). Every product stays below
 * 2^53, so plain arithmetic computes it exactly, without bitwise operators,
 * and a seed replays the same sequence on every machine.
 */
const MODULUS = 2147483647;
const MULTIPLIER = 48271;

/** A seeded generator of integers and choices. */
export class Prng {
  private state: number;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed ${seed} is not an integer`);
    const s = ((seed % MODULUS) + MODULUS) % MODULUS;
    this.state = s === 0 ? 1 : s;
    // Stir: neighbouring seeds start far apart.
    for (let i = 0; i < 4; i++) this.next();
  }

  /** The next value, in [1, 2^31 - 2]. */
  next(): number {
    this.state = (this.state * MULTIPLIER) % MODULUS;
    return this.state;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(((this.next() - 1) / (MODULUS - 1)) * n);
  }

  /** An integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** true with probability p. */
  chance(p: number): boolean {
    return (this.next() - 1) / (MODULUS - 1) < p;
  }

  /** One element of a non-empty list. */
  pick<T>(list: readonly T[]): T {
    if (list.length === 0) throw new RangeError('pick() from an empty list');
    return list[this.int(list.length)]!;
  }

  /** One key, chosen with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as [K, number][];
    const total = entries.reduce((s, [, w]) => s + w, 0);
    let r = this.int(total);
    for (const [k, w] of entries) {
      if (r < w) return k;
      r -= w;
    }
    return entries[entries.length - 1]![0];
  }
}
