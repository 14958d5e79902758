/**
 * Notifier chains: "tell everyone who cares that X is about to happen".
 *
 * A subsystem that wants others to react to its events (memory going
 * online, a device being bound, a reboot) owns a chain head; interested code
 * registers a `notifier_block` carrying a callback and a priority. Calling the
 * chain walks the blocks from the highest priority to the lowest and hands
 * each the event (`val`) and an argument (`data`). A callback answers with a
 * small integer:
 *
 * ```
 *   bit 15          bits 14..0
 *  +------+-------------------------------+
 *  | STOP |  NOTIFY_DONE (0) / OK (1) /   |
 *  | MASK |  BAD's 2 / an encoded errno   |
 *  +------+-------------------------------+
 * ```
 *
 * Setting `NOTIFY_STOP_MASK` ends the walk at once, and the chain returns that
 * value, which is how a listener vetoes an operation (`NOTIFY_BAD`) or returns
 * an errno through the chain (`notifier_from_errno(-EBUSY)`; the caller decodes
 * it with `notifier_to_errno()`). Otherwise the chain returns the value of the
 * last callback called, or `NOTIFY_DONE` for an empty chain.
 *
 * Blocks of equal priority run in the order they were registered: the
 * insertion walk of `notifier_chain_register()` only stops in front of a
 * block of strictly lower priority. Registering the same block twice is a
 * bug the kernel of v5.13 reports with `WARN(1, "double register detected")`
 * and then ignores (returning 0); later kernels return -EEXIST.
 *
 * `blocking_notifier_call_chain_robust()` (v5.10+) pairs an "up" event with
 * a "down" event: if a callback stops the "up" walk, every block that had
 * already been told "up" is told "down", so listeners can undo what they
 * prepared (MEM_GOING_OFFLINE / MEM_CANCEL_OFFLINE is the classic pair).
 *
 * The model runs callbacks synchronously; the rwsem of a blocking chain has no
 * observable effect in a single-threaded model. Mirrors kernel/notifier.c and
 * include/linux/notifier.h.
 */
/* eslint-disable no-bitwise -- notifier return values are C `int`s: JavaScript's
   32-bit bitwise operators reproduce C's int arithmetic on them exactly, and no
   address, pfn or size is ever combined here. */
import type { Printk } from './printk.js';
import type { Tracer } from './trace.js';
import { KernelError } from './errno.js';

/** Don't care (`NOTIFY_DONE`, include/linux/notifier.h). @public */
export const NOTIFY_DONE = 0x0000;
/** Suits me (`NOTIFY_OK`). @public */
export const NOTIFY_OK = 0x0001;
/** Don't call further (`NOTIFY_STOP_MASK`). @public */
export const NOTIFY_STOP_MASK = 0x8000;
/** Bad/veto action (`NOTIFY_BAD` = `NOTIFY_STOP_MASK | 0x0002`). @public */
export const NOTIFY_BAD = 0x8002;
/** Clean way to stop further calls (`NOTIFY_STOP` = `NOTIFY_OK | NOTIFY_STOP_MASK`). @public */
export const NOTIFY_STOP = 0x8001;

/**
 * Encodes a negative errno (or 0) as a notifier return value. Mirrors
 * `notifier_from_errno()` in include/linux/notifier.h:
 * `NOTIFY_STOP_MASK | (NOTIFY_OK - err)` for a non-zero `err`, else `NOTIFY_OK`.
 * `notifierFromErrno(-16)` (-EBUSY) is `0x8011`.
 * @public
 */
export function notifierFromErrno(err: number): number {
  if (!Number.isSafeInteger(err) || err > 0 || err < -4095) throw new KernelError('EINVAL', `notifier_from_errno: invalid errno ${String(err)}`);
  if (err !== 0) return NOTIFY_STOP_MASK | (NOTIFY_OK - err);
  return NOTIFY_OK;
}

/**
 * Decodes a notifier return value into a negative errno, or 0. Mirrors
 * `notifier_to_errno()` in include/linux/notifier.h: clear the stop bit, then
 * a value above `NOTIFY_OK` is `NOTIFY_OK - ret`. `NOTIFY_BAD` decodes to
 * -EPERM (-1); `NOTIFY_DONE`, `NOTIFY_OK` and `NOTIFY_STOP` decode to 0.
 * @public
 */
export function notifierToErrno(ret: number): number {
  if (!Number.isSafeInteger(ret) || ret < 0 || ret > 0xffffffff) throw new KernelError('EINVAL', `notifier_to_errno: invalid ret ${String(ret)}`);
  const r = ret & ~NOTIFY_STOP_MASK;
  return r > NOTIFY_OK ? NOTIFY_OK - r : 0;
}

/**
 * A chain callback: receives its own block, the event and the argument, and
 * returns `NOTIFY_DONE`, `NOTIFY_OK`, `NOTIFY_BAD`, `NOTIFY_STOP` or a
 * `notifierFromErrno()` value. Mirrors `notifier_fn_t`.
 * @public
 */
export type NotifierFn<T> = (nb: NotifierBlock<T>, action: number, data: T) => number;

/** EINVAL unless `nb` is a `struct notifier_block`: a callback and an integer priority. */
function checkNotifierBlock(fn: string, nb: unknown): void {
  const b = nb as { notifierCall?: unknown; priority?: unknown } | null;
  if (typeof b !== 'object' || b === null || typeof b.notifierCall !== 'function') throw new KernelError('EINVAL', `${fn}: not a notifier block: ${String(nb)}`);
  if (b.priority !== undefined && (!Number.isSafeInteger(b.priority) || (b.priority as number) < -0x80000000 || (b.priority as number) > 0x7fffffff)) {
    throw new KernelError('EINVAL', `${fn}: invalid priority ${String(b.priority)}`);
  }
}

/**
 * A listener on a chain. Mirrors `struct notifier_block`: the object's
 * identity is what {@link BlockingNotifierHead.unregister} removes.
 * @public
 */
export interface NotifierBlock<T = unknown> {
  /** The callback (`notifier_call`). */
  readonly notifierCall: NotifierFn<T>;
  /** Higher runs first; equal priorities run in registration order. Default 0. */
  readonly priority?: number;
}

/**
 * Options of a {@link BlockingNotifierHead}.
 * @public
 */
export interface NotifierHeadOptions {
  /** Name shown in warnings (e.g. `memory_chain`). */
  readonly name?: string;
  /** Function-graph tracer of the machine. */
  readonly tracer?: Tracer;
  /** Log for the kernel's WARN messages. */
  readonly log?: Printk;
}

/**
 * A blocking notifier chain. Mirrors `struct blocking_notifier_head` and the
 * `blocking_notifier_*` functions of kernel/notifier.c.
 * @public
 */
export class BlockingNotifierHead<T = unknown> {
  /** The chain's name (`BLOCKING_NOTIFIER_HEAD(name)`). */
  readonly name: string;
  private readonly blocks: NotifierBlock<T>[] = [];
  private readonly tracer: Tracer | undefined;
  private readonly log: Printk | undefined;

  constructor(options: NotifierHeadOptions = {}) {
    this.name = options.name ?? 'notifier_chain';
    this.tracer = options.tracer;
    this.log = options.log;
  }

  /** Used by the tracer to print this chain as an argument. */
  get traceName(): string {
    return this.name;
  }

  /** The registered blocks in calling order (a copy). */
  get chain(): readonly NotifierBlock<T>[] {
    return this.blocks.slice();
  }

  /** Whether no block is registered (`!rcu_access_pointer(nh->head)`). */
  isEmpty(): boolean {
    return this.blocks.length === 0;
  }

  /**
   * Runs `impl(...args)` under the tracer, recording `traced` as the
   * arguments (the kernel's, which start with the chain head pointer). The
   * closure lives here, so the untraced path of the caller allocates none.
   */
  private traced<A extends unknown[], R>(t: Tracer, name: string, traced: readonly unknown[], impl: (...args: A) => R, ...args: A): R {
    return t.call(name, traced, () => impl.apply(this, args));
  }

  /**
   * Adds `nb` in priority order, after every block of equal or higher
   * priority. Registering a block already on the chain logs "double register
   * detected" (the kernel's WARN) and changes nothing, as v5.13 does.
   * Mirrors `blocking_notifier_chain_register()` / `notifier_chain_register()`.
   */
  register(nb: NotifierBlock<T>): void {
    checkNotifierBlock('blocking_notifier_chain_register', nb);
    const t = this.tracer;
    if (t?.enabled) {
      this.traced(t, 'blocking_notifier_chain_register', [this, nb.priority ?? 0], this.registerImpl, nb);
      return;
    }
    this.registerImpl(nb);
  }

  private registerImpl(nb: NotifierBlock<T>): void {
    const pri = nb.priority ?? 0;
    let i = 0;
    for (; i < this.blocks.length; i++) {
      const cur = this.blocks[i]!;
      if (cur === nb) {
        this.log?.warn('double register detected');
        return;
      }
      if (pri > (cur.priority ?? 0)) break;
    }
    this.blocks.splice(i, 0, nb);
  }

  /**
   * Removes `nb`. Throws KernelError ENOENT if it is not on the chain.
   * Mirrors `blocking_notifier_chain_unregister()`.
   */
  unregister(nb: NotifierBlock<T>): void {
    checkNotifierBlock('blocking_notifier_chain_unregister', nb);
    const t = this.tracer;
    if (t?.enabled) {
      this.traced(t, 'blocking_notifier_chain_unregister', [this], this.unregisterImpl, nb);
      return;
    }
    this.unregisterImpl(nb);
  }

  private unregisterImpl(nb: NotifierBlock<T>): void {
    const i = this.blocks.indexOf(nb);
    if (i < 0) throw new KernelError('ENOENT', `notifier block not registered on ${this.name}`);
    this.blocks.splice(i, 1);
  }

  /**
   * Calls every block in turn with `(val, data)` and returns the last value
   * returned, stopping early at a value with `NOTIFY_STOP_MASK` set (which is
   * then returned). An empty chain returns `NOTIFY_DONE`. An exception thrown
   * by a callback propagates (a kernel callback cannot throw; this is a bug in
   * the caller's model). Mirrors `blocking_notifier_call_chain()`.
   */
  callChain(val: number, data: T): number {
    const t = this.tracer;
    if (t?.enabled) return this.traced(t, 'blocking_notifier_call_chain', [this, val], this.callChainImpl, val, data);
    return this.callChainImpl(val, data);
  }

  private callChainImpl(val: number, data: T): number {
    return this.callImpl(val, data, -1).ret;
  }

  /**
   * Calls the chain with `valUp`; if a block stops it, calls the blocks that
   * had already been called (all but the one that stopped) with `valDown`, in
   * the same order, and returns the stopping value. Mirrors
   * `blocking_notifier_call_chain_robust()` / `notifier_call_chain_robust()`.
   */
  callChainRobust(valUp: number, valDown: number, data: T): number {
    const t = this.tracer;
    if (t?.enabled) {
      return this.traced(t, 'blocking_notifier_call_chain_robust', [this, valUp, valDown], this.robustImpl, valUp, valDown, data);
    }
    return this.robustImpl(valUp, valDown, data);
  }

  private robustImpl(valUp: number, valDown: number, data: T): number {
    if (this.blocks.length === 0) return NOTIFY_DONE;
    const { ret, nrCalls } = this.callImpl(valUp, data, -1);
    if (ret & NOTIFY_STOP_MASK) this.callImpl(valDown, data, nrCalls - 1);
    return ret;
  }

  /** `notifier_call_chain()`: `nrToCall` -1 means all. */
  private callImpl(val: number, data: T, nrToCall: number): { ret: number; nrCalls: number } {
    let ret = NOTIFY_DONE;
    let nrCalls = 0;
    // Snapshot: a callback may unregister itself (the kernel reads `next`
    // before calling, which has the same effect for the block being called).
    const list = this.blocks.slice();
    let left = nrToCall;
    for (const nb of list) {
      if (left === 0) break;
      ret = nb.notifierCall(nb, val, data);
      nrCalls++;
      if (ret & NOTIFY_STOP_MASK) break;
      left--;
    }
    return { ret, nrCalls };
  }
}
