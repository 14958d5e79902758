/**
 * percpu_ref: a reference count that is cheap while the object is alive and
 * exact once it starts to die.
 *
 * A `dev_pagemap` is referenced by every ZONE_DEVICE page handed out, so its
 * count changes on hot paths on every CPU. A plain atomic counter would bounce
 * one cache line between CPUs; `percpu_ref` instead keeps one counter per CPU
 * while the object is alive ("percpu mode"): a get increments the local CPU's
 * counter, a put decrements it, and nobody can tell whether the total is zero,
 * which is fine because the owner still holds the initial reference.
 *
 * To tear the object down the owner calls `percpu_ref_kill()`. That marks the
 * ref DEAD (so `percpu_ref_tryget_live()` fails from now on), switches it to
 * "atomic mode" (after an RCU grace period the per-CPU counters are summed into
 * one atomic counter and the large bias that kept that counter above zero is
 * removed), calls the optional confirmation callback, and drops the initial
 * reference. From then on every put checks the atomic counter, and the one
 * that brings it to zero calls `release()` — exactly once.
 *
 * ```
 *             init                  kill                 last put
 *   percpu ----------> percpu,live ------> atomic,DEAD -----------> release()
 *   (count = 1 + gets - puts)      confirm_kill()      count == 0
 * ```
 *
 * The model keeps the true total in one number, so both modes count exactly;
 * what differs is what the kernel can observe: in percpu mode
 * `percpu_ref_is_zero()` is false and nothing reacts to the total. A put that
 * would take a live percpu ref to zero is a bug the kernel only notices later
 * ("percpu ref (...) <= 0 (...) after switching to atomic"): the model throws
 * at once, and likewise for any put below zero. The RCU grace period of the
 * mode switch is modelled as immediate, so `confirm_kill` runs inside
 * {@link PercpuRef.killAndConfirm}, before the initial reference is dropped
 * (as in the kernel, where the switch holds its own reference until after the
 * confirmation).
 *
 * Mirrors lib/percpu-refcount.c and include/linux/percpu-refcount.h (v5.13).
 */
import type { Tracer } from './trace.js';
import { checkUnsigned } from './validate.js';

/** Start in atomic mode (`PERCPU_REF_INIT_ATOMIC`). @public */
export const PERCPU_REF_INIT_ATOMIC = 1;
/** Start dead, with a count of 0 (`PERCPU_REF_INIT_DEAD`). @public */
export const PERCPU_REF_INIT_DEAD = 2;
/** Allow switching back to percpu mode after a kill (`PERCPU_REF_ALLOW_REINIT`). @public */
export const PERCPU_REF_ALLOW_REINIT = 4;

/**
 * A release or confirmation callback (`percpu_ref_func_t`).
 * @public
 */
export type PercpuRefFunc = (ref: PercpuRef) => void;

/**
 * A percpu reference count. Mirrors `struct percpu_ref` with
 * `percpu_ref_init()` as the constructor.
 * @public
 */
export class PercpuRef {
  /** Name shown by the tracer and in warnings (the kernel prints `%ps` of release). */
  readonly name: string;
  private readonly release: PercpuRefFunc;
  private readonly tracer: Tracer | undefined;
  private count: number;
  private atomic: boolean;
  private dead: boolean;
  private forceAtomic: boolean;
  private allowReinit: boolean;
  private exited = false;

  /**
   * `percpu_ref_init(ref, release, flags, gfp)`: one reference held by the
   * caller (none with `PERCPU_REF_INIT_DEAD`), percpu mode unless
   * `PERCPU_REF_INIT_ATOMIC` or `PERCPU_REF_INIT_DEAD` is given (both also
   * allow a later switch back to percpu mode, as the kernel does).
   */
  constructor(release: PercpuRefFunc, flags: number = 0, options: { name?: string; tracer?: Tracer } = {}) {
    this.release = release;
    this.name = options.name ?? (release.name || 'percpu_ref');
    this.tracer = options.tracer;
    const initAtomic = flags % 2 === 1;
    const initDead = Math.floor(flags / 2) % 2 === 1;
    this.forceAtomic = initAtomic;
    this.allowReinit = Math.floor(flags / 4) % 2 === 1 || initAtomic || initDead;
    this.atomic = initAtomic || initDead;
    this.dead = initDead;
    this.count = initDead ? 0 : 1;
  }

  /** Used by the tracer to print this ref as an argument. */
  get traceName(): string {
    return this.name;
  }

  /** The current total count (what a debugger would sum up). */
  get refs(): number {
    return this.count;
  }

  /** Whether the ref is in percpu mode (`__ref_is_percpu()`): not atomic and not dead. */
  isPercpu(): boolean {
    return !this.atomic && !this.dead && !this.exited;
  }

  /** Whether `percpu_ref_exit()` has been called. */
  isExited(): boolean {
    return this.exited;
  }

  /**
   * Runs `impl(...args)` under the tracer, recording `traced` as the
   * arguments (the kernel's, which start with the ref pointer). The closure
   * lives here, so the untraced path of the caller allocates none.
   */
  private traced<A extends unknown[], R>(t: Tracer, name: string, traced: readonly unknown[], impl: (...args: A) => R, ...args: A): R {
    return t.call(name, traced, () => impl.apply(this, args));
  }

  private checkLive(fn: string): void {
    if (this.exited) throw new Error(`${fn}: percpu ref (${this.name}) used after percpu_ref_exit()`);
  }

  /** `percpu_ref_get()`: takes a reference. Mirrors include/linux/percpu-refcount.h. */
  get(): void {
    this.getMany(1);
  }

  /**
   * `percpu_ref_get_many(ref, nr)`: takes `nr` references. The caller must
   * already hold one (or the ref must be in percpu mode); getting a released
   * ref throws, modelling the use-after-free it is. `nr` is an `unsigned
   * long`: anything but an integer `0 <= nr < 2^53` is KernelError EINVAL,
   * changing nothing (0 is a no-op, as in the kernel).
   */
  getMany(nr: number): void {
    checkUnsigned('percpu_ref_get_many', 'nr', nr);
    const t = this.tracer;
    if (t?.enabled) {
      this.traced(t, 'percpu_ref_get_many', [this, nr], this.getManyImpl, nr);
      return;
    }
    this.getManyImpl(nr);
  }

  private getManyImpl(nr: number): void {
    this.checkLive('percpu_ref_get_many');
    if (this.atomic && this.count === 0) {
      throw new Error(`percpu_ref_get_many: percpu ref (${this.name}) is already released`);
    }
    this.count += nr;
  }

  /**
   * `percpu_ref_tryget()`: takes a reference unless the count is zero; true
   * when it did. Succeeds on a dying ref that still has references.
   */
  tryget(): boolean {
    return this.trygetMany(1);
  }

  /** `percpu_ref_tryget_many(ref, nr)`; `nr` is checked as for {@link PercpuRef.getMany}. */
  trygetMany(nr: number): boolean {
    checkUnsigned('percpu_ref_tryget_many', 'nr', nr);
    const t = this.tracer;
    if (t?.enabled) return this.traced(t, 'percpu_ref_tryget_many', [this, nr], this.trygetManyImpl, nr);
    return this.trygetManyImpl(nr);
  }

  private trygetManyImpl(nr: number): boolean {
    this.checkLive('percpu_ref_tryget_many');
    if (this.isPercpu()) {
      this.count += nr;
      return true;
    }
    if (this.count === 0) return false;
    this.count += nr;
    return true;
  }

  /**
   * `percpu_ref_tryget_live()`: takes a reference only if the ref has not
   * been killed (and is not zero); false after {@link PercpuRef.kill}.
   */
  trygetLive(): boolean {
    const t = this.tracer;
    if (t?.enabled) return this.traced(t, 'percpu_ref_tryget_live', [this], this.trygetLiveImpl);
    return this.trygetLiveImpl();
  }

  private trygetLiveImpl(): boolean {
    this.checkLive('percpu_ref_tryget_live');
    if (this.isPercpu()) {
      this.count += 1;
      return true;
    }
    if (this.dead || this.count === 0) return false;
    this.count += 1;
    return true;
  }

  /** `percpu_ref_put()`: drops a reference. */
  put(): void {
    this.putMany(1);
  }

  /**
   * `percpu_ref_put_many(ref, nr)`: drops `nr` references. In atomic mode the
   * put that reaches zero calls `release()`. Throws (the kernel's WARN), and
   * changes nothing, for a put below zero, or one that would drop the last
   * reference of a ref still in percpu mode (only kill may drop the initial
   * reference). `nr` is checked as for {@link PercpuRef.getMany}
   * (KernelError EINVAL).
   */
  putMany(nr: number): void {
    checkUnsigned('percpu_ref_put_many', 'nr', nr);
    const t = this.tracer;
    if (t?.enabled) {
      this.traced(t, 'percpu_ref_put_many', [this, nr], this.putManyImpl, nr);
      return;
    }
    this.putManyImpl(nr);
  }

  private putManyImpl(nr: number): void {
    this.checkLive('percpu_ref_put_many');
    const next = this.count - nr;
    if (next < 0) {
      throw new Error(`percpu ref (${this.name}) <= 0 (${next}) after put`);
    }
    if (this.isPercpu()) {
      if (next === 0) {
        throw new Error(
          `percpu ref (${this.name}): the initial reference of a live percpu ref can only be dropped by percpu_ref_kill()`,
        );
      }
      this.count = next;
      return;
    }
    this.count = next;
    if (next === 0) this.release(this);
  }

  /** `percpu_ref_kill()`: {@link PercpuRef.killAndConfirm} without a confirmation. */
  kill(): void {
    this.killAndConfirm(undefined);
  }

  /**
   * `percpu_ref_kill_and_confirm(ref, confirm_kill)`: marks the ref dead
   * (tryget_live fails from now on), switches it to atomic mode, calls
   * `confirmKill` (the switch is complete) and drops the initial reference,
   * which calls `release()` if no other reference is held. Killing a dead ref
   * is the kernel's WARN "called more than once": the model throws and
   * changes nothing.
   */
  killAndConfirm(confirmKill: PercpuRefFunc | undefined): void {
    const t = this.tracer;
    if (t?.enabled) {
      this.traced(t, 'percpu_ref_kill_and_confirm', [this], this.killImpl, confirmKill);
      return;
    }
    this.killImpl(confirmKill);
  }

  private killImpl(confirmKill: PercpuRefFunc | undefined): void {
    this.checkLive('percpu_ref_kill_and_confirm');
    if (this.dead) {
      throw new Error(`percpu_ref_kill_and_confirm called more than once on ${this.name}!`);
    }
    if (this.count === 0) {
      throw new Error(`percpu ref (${this.name}) <= 0 (-1) after switching to atomic`);
    }
    this.dead = true;
    // The switch holds a reference of its own until after the confirmation.
    this.switchToAtomicImpl(confirmKill);
    this.putManyImpl(1);
  }

  private switchToAtomicImpl(confirm: PercpuRefFunc | undefined): void {
    if (this.atomic) {
      confirm?.(this);
      return;
    }
    // Without allow_reinit, percpu_ref_call_confirm_rcu() frees the percpu
    // counters here: the ref can never return to percpu mode (checked by
    // checkReinitAllowed()).
    this.atomic = true;
    confirm?.(this);
  }

  /**
   * `percpu_ref_switch_to_atomic(ref, confirm_switch)`: sticky atomic mode
   * (until {@link PercpuRef.switchToPercpu}); `confirm` runs once the switch
   * is complete (at once in the model).
   */
  switchToAtomic(confirm?: PercpuRefFunc): void {
    const t = this.tracer;
    if (t?.enabled) {
      this.traced(t, 'percpu_ref_switch_to_atomic', [this], this.switchToAtomicPublic, confirm);
      return;
    }
    this.switchToAtomicPublic(confirm);
  }

  private switchToAtomicPublic(confirm: PercpuRefFunc | undefined): void {
    this.checkLive('percpu_ref_switch_to_atomic');
    this.forceAtomic = true;
    this.switchToAtomicImpl(confirm);
  }

  /**
   * `percpu_ref_switch_to_percpu()`: drops the sticky atomic state; the ref
   * returns to percpu mode unless it is dead (then on the next reinit).
   * Throws (the kernel's WARN) if the percpu counters are gone because the
   * ref was killed without `PERCPU_REF_ALLOW_REINIT`.
   */
  switchToPercpu(): void {
    const t = this.tracer;
    if (t?.enabled) {
      this.traced(t, 'percpu_ref_switch_to_percpu', [this], this.switchToPercpuPublic);
      return;
    }
    this.switchToPercpuPublic();
  }

  private switchToPercpuPublic(): void {
    this.checkLive('percpu_ref_switch_to_percpu');
    if (!this.dead && this.atomic) this.checkReinitAllowed('percpu_ref_switch_to_percpu');
    this.forceAtomic = false;
    this.switchMode();
  }

  private checkReinitAllowed(fn: string): void {
    if (!this.allowReinit) {
      throw new Error(`${fn}: percpu ref (${this.name}) cannot return to percpu mode without PERCPU_REF_ALLOW_REINIT`);
    }
  }

  /** `__percpu_ref_switch_mode()`. */
  private switchMode(): void {
    if (this.forceAtomic || this.dead) {
      this.switchToAtomicImpl(undefined);
    } else if (this.atomic) {
      this.atomic = false;
    }
  }

  /** `percpu_ref_is_zero()`: true only in atomic mode with a count of zero. */
  isZero(): boolean {
    if (this.isPercpu()) return false;
    return this.count === 0;
  }

  /** `percpu_ref_is_dying()`: whether the ref has been killed (and not resurrected). */
  isDying(): boolean {
    return this.dead;
  }

  /**
   * `percpu_ref_exit()`: the percpu counters are freed. The caller ensures
   * the ref is no longer in use; afterwards only {@link PercpuRef.isZero} and
   * {@link PercpuRef.isDying} may be called (anything else throws). The count
   * is kept so that `isZero()` still answers. Exiting twice is harmless.
   */
  exit(): void {
    const t = this.tracer;
    if (t?.enabled) {
      this.traced(t, 'percpu_ref_exit', [this], this.exitImpl);
      return;
    }
    this.exitImpl();
  }

  private exitImpl(): void {
    if (this.exited) return;
    this.exited = true;
    this.atomic = true;
    this.dead = true;
  }

  /**
   * `percpu_ref_resurrect()`: turns a dead ref with references back into a
   * live one (taking a new initial reference) and returns it to percpu mode
   * unless it is sticky-atomic. Throws (the kernel's WARN) if the ref is not
   * dying, or if percpu mode is needed but was not allowed at init; nothing
   * changes then.
   */
  resurrect(): void {
    const t = this.tracer;
    if (t?.enabled) {
      this.traced(t, 'percpu_ref_resurrect', [this], this.resurrectImpl);
      return;
    }
    this.resurrectImpl();
  }

  private resurrectImpl(): void {
    this.checkLive('percpu_ref_resurrect');
    if (!this.dead) throw new Error(`percpu_ref_resurrect: percpu ref (${this.name}) is not dying`);
    if (!this.forceAtomic) this.checkReinitAllowed('percpu_ref_resurrect');
    this.dead = false;
    this.count += 1;
    this.switchMode();
  }

  /**
   * `percpu_ref_reinit()`: re-initialises a ref that was killed and reached
   * zero, as if freshly initialised (one reference, percpu mode unless
   * sticky-atomic). Throws (the kernel's WARN) if the count is not zero.
   */
  reinit(): void {
    const t = this.tracer;
    if (t?.enabled) {
      this.traced(t, 'percpu_ref_reinit', [this], this.reinitImpl);
      return;
    }
    this.reinitImpl();
  }

  private reinitImpl(): void {
    this.checkLive('percpu_ref_reinit');
    if (!this.isZero()) throw new Error(`percpu_ref_reinit: percpu ref (${this.name}) is not zero`);
    this.resurrectImpl();
  }
}
