/**
 * One machine's kernel services.
 *
 * The real kernel keeps these in globals (`iomem_resource`, the log buffer,
 * the ftrace ring, the fault attributes). The model keeps them in an instance
 * so that two machines in one process never share state: a {@link Kernel} is
 * created per machine, and every subsystem instance above is handed the one of
 * its machine.
 */
import { FaultInjection } from './fault-inject.js';
import { Printk, SimClock } from './printk.js';
import { Tracer } from './trace.js';

/**
 * Options of a new {@link Kernel}.
 * @public
 */
export interface KernelOptions {
  /** Seed of every random choice the machine makes (fault injection, ...). */
  seed?: number;
}

/**
 * The per-machine kernel services every subsystem uses.
 * @public
 */
export class Kernel {
  /** Simulated time since boot (printk timestamps). */
  readonly clock: SimClock;
  /** The dmesg ring. */
  readonly log: Printk;
  /** The function-graph tracer. */
  readonly tracer: Tracer;
  /** Named fault-injection points. */
  readonly faults: FaultInjection;
  /** The seed this machine was created with. */
  readonly seed: number;
  // (resource tree and device core fields: added by their author)

  constructor(options: KernelOptions = {}) {
    this.seed = options.seed ?? 1;
    this.clock = new SimClock();
    this.log = new Printk(this.clock);
    this.tracer = new Tracer();
    this.faults = new FaultInjection(this.seed);
    // (resource tree and device core initialisation: added by their author)
  }
}
