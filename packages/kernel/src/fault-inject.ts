/**
 * Fault injection: make a chosen kernel operation fail on purpose.
 *
 * `lib/fault-inject.c` lets a tester arm named fault points (`failslab`,
 * `fail_page_alloc`, ...) through debugfs: `probability` (percent), `interval`
 * (fail only every Nth eligible call), `times` (how many failures in all, -1
 * for no limit) and `space` (bytes to let through before failing). A code
 * path asks `should_fail(attr, size)` and takes its error branch when told to.
 *
 * The model keeps one {@link FaultInjection} per machine with named points, and
 * the randomness comes from a seeded {@link Prandom}, so an injected failure
 * happens at the same call in every run with the same seed. Points are
 * created on first use with the kernel's defaults (`DEFINE_FAULT_ATTR`:
 * probability 0, interval 1, times 1, space 0), i.e. disarmed.
 */
import { KernelError } from './errno.js';
import { Prandom } from './random.js';

/**
 * The tunables of one fault point (`struct fault_attr`).
 * @public
 */
export interface FaultAttr {
  /** Percent chance (0..100) that an eligible call fails. */
  probability: number;
  /** Only every `interval`-th call is eligible (1: every call). */
  interval: number;
  /** Failures left; -1 means unlimited, 0 disarms the point. */
  times: number;
  /** Bytes of `size` to let through before failures start. */
  space: number;
  /** Eligible calls seen (for `interval`). */
  count: number;
  /** Failures injected so far. */
  injected: number;
}

/**
 * Options accepted by {@link FaultInjection.configure}: any subset of the
 * debugfs knobs.
 * @public
 */
export interface FaultAttrOptions {
  probability?: number;
  interval?: number;
  times?: number;
  space?: number;
}

/**
 * The fault points of one machine (lib/fault-inject.c).
 * @public
 */
export class FaultInjection {
  private readonly points = new Map<string, FaultAttr>();
  private readonly rnd: Prandom;

  constructor(seed: number = 1) {
    this.rnd = new Prandom(seed);
  }

  /** The attributes of a point, created disarmed on first use. */
  attr(name: string): FaultAttr {
    let a = this.points.get(name);
    if (a === undefined) {
      a = { probability: 0, interval: 1, times: 1, space: 0, count: 0, injected: 0 };
      this.points.set(name, a);
    }
    return a;
  }

  /**
   * Sets a point's knobs, as writing its debugfs files does. -EINVAL for a
   * probability outside 0..100, an interval below 1, times below -1 or a
   * negative space; nothing changes then.
   */
  configure(name: string, options: FaultAttrOptions): void {
    const { probability, interval, times, space } = options;
    if (probability !== undefined && !(Number.isInteger(probability) && probability >= 0 && probability <= 100)) {
      throw new KernelError('EINVAL', `fault ${name}: probability must be 0..100`);
    }
    if (interval !== undefined && !(Number.isInteger(interval) && interval >= 1)) {
      throw new KernelError('EINVAL', `fault ${name}: interval must be >= 1`);
    }
    if (times !== undefined && !(Number.isInteger(times) && times >= -1)) {
      throw new KernelError('EINVAL', `fault ${name}: times must be >= -1`);
    }
    if (space !== undefined && !(Number.isInteger(space) && space >= 0)) {
      throw new KernelError('EINVAL', `fault ${name}: space must be >= 0`);
    }
    const a = this.attr(name);
    if (probability !== undefined) a.probability = probability;
    if (interval !== undefined) a.interval = interval;
    if (times !== undefined) a.times = times;
    if (space !== undefined) a.space = space;
  }

  /** Disarms a point (times 0) and resets its counters. */
  disarm(name: string): void {
    const a = this.attr(name);
    a.times = 0;
    a.count = 0;
  }

  /**
   * `should_fail(attr, size)`: whether the caller must take its failure
   * branch now. The checks run in the kernel's order: an exhausted `times`,
   * then `space`, then `interval`, then `probability`.
   */
  shouldFail(name: string, size: number = 0): boolean {
    const a = this.points.get(name);
    if (a === undefined || a.times === 0) return false;
    if (a.space > size) {
      a.space -= size;
      return false;
    }
    if (a.interval > 1) {
      a.count += 1;
      if (a.count % a.interval !== 0) return false;
    }
    if (a.probability <= this.rnd.below(100)) return false;
    if (a.times !== -1) a.times -= 1;
    a.injected += 1;
    return true;
  }
}
