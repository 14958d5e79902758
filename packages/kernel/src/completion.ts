/**
 * Completions: "this has happened", waited for by someone else.
 *
 * A `struct completion` (include/linux/completion.h, kernel/sched/completion.c)
 * is a counter of events plus a wait queue: `complete()` records one event
 * and wakes a waiter, `wait_for_completion()` sleeps until an event is there
 * and consumes it. `memunmap_pages()` uses the one embedded in every
 * `dev_pagemap`: the internal percpu_ref's release callback completes it
 * when the last page reference is gone, and the unmapping thread, asleep in
 * `wait_for_completion()`, wakes up and tears the memmap down.
 *
 * The model has no threads to put to sleep, so a wait is a `Promise` that
 * settles when the event happens. One event releases every waiter (as
 * `complete_all()` does), which is all `dev_pagemap` needs: it has exactly
 * one waiter.
 */

/**
 * `struct completion`, with `init_completion()` as the constructor.
 * Mirrors include/linux/completion.h and kernel/sched/completion.c.
 * @public
 */
export class Completion {
  private done = false;
  private waiters: (() => void)[] = [];

  /**
   * `reinit_completion()` (also what `init_completion()` does to a reused
   * one): no event recorded. Waiters already queued keep waiting.
   */
  reinit(): void {
    this.done = false;
  }

  /** `complete()` / `complete_all()`: records the event and wakes every waiter. */
  complete(): void {
    this.done = true;
    const w = this.waiters;
    this.waiters = [];
    for (const wake of w) wake();
  }

  /** `completion_done()`: whether the event has happened (nobody would sleep). */
  completionDone(): boolean {
    return this.done;
  }

  /**
   * `wait_for_completion()`: settles once the event has happened (at once if
   * it already has).
   */
  wait(): Promise<void> {
    if (this.done) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.waiters.push(resolve);
    });
  }

  /** How many waiters sleep on it (for inspection). */
  get nrWaiters(): number {
    return this.waiters.length;
  }
}
