/**
 * printk and the dmesg ring.
 *
 * Every machine has its own log: subsystems append lines with a level
 * (`KERN_INFO`, `KERN_WARNING`, ...) and `dmesg` prints them prefixed with the
 * time since boot as `[%5lu.%06lu]` (seconds, microseconds), the format of
 * `print_time()` in kernel/printk/printk.c. Time comes from a simulated
 * {@link SimClock} that only moves when the model advances it, so the same
 * run prints the same bytes.
 */
import { KernelError } from './errno.js';

/**
 * The console log levels of include/linux/kern_levels.h.
 * @public
 */
export const LOGLEVEL = {
  EMERG: 0,
  ALERT: 1,
  CRIT: 2,
  ERR: 3,
  WARNING: 4,
  NOTICE: 5,
  INFO: 6,
  DEBUG: 7,
} as const;

/**
 * A log level number, 0 (emergency) .. 7 (debug).
 * @public
 */
export type LogLevel = (typeof LOGLEVEL)[keyof typeof LOGLEVEL];

/**
 * A monotonic simulated clock in nanoseconds since boot (`local_clock()`).
 * @public
 */
export class SimClock {
  private ns = 0;

  /** Nanoseconds since boot. */
  now(): number {
    return this.ns;
  }

  /** Moves time forward by `ns` nanoseconds (negative values are refused). */
  advance(ns: number): void {
    if (!(ns >= 0)) throw new RangeError(`clock cannot go backwards (${ns} ns)`);
    this.ns += ns;
  }
}

/**
 * One record of the log ring.
 * @public
 */
export interface LogRecord {
  /** Nanoseconds since boot when the line was logged. */
  readonly ts: number;
  readonly level: LogLevel;
  readonly text: string;
}

/**
 * `[%5lu.%06lu] ` for a time in nanoseconds, as print_time() writes it.
 * @public
 */
export function formatLogTime(ns: number): string {
  // A clock reading: any finite time from 0 (the simulated clock may advance by fractions of a ns).
  if (typeof ns !== 'number' || !(ns >= 0 && ns <= Number.MAX_SAFE_INTEGER)) throw new KernelError('EINVAL', `print_time: invalid time ${String(ns)} ns`);
  const usec = Math.floor(ns / 1000);
  const sec = Math.floor(usec / 1e6);
  const frac = usec - sec * 1e6;
  return `[${String(sec).padStart(5, ' ')}.${String(frac).padStart(6, '0')}] `;
}

/**
 * A machine's kernel log (kernel/printk/printk.c): `printk()` appends, and
 * {@link Printk.dmesg} renders what `dmesg` prints.
 * @public
 */
export class Printk {
  private readonly records: LogRecord[] = [];
  private readonly clock: SimClock;
  private readonly capacity: number;

  /** @param capacity - records kept (the ring's size); the oldest go first. */
  constructor(clock: SimClock, capacity: number = 16384) {
    this.clock = clock;
    this.capacity = capacity;
  }

  /** `printk(KERN_<level> "text")`. A text with newlines makes one record per line. */
  printk(level: LogLevel, text: string): void {
    const ts = this.clock.now();
    for (const line of text.replace(/\n$/, '').split('\n')) {
      if (this.records.length >= this.capacity) this.records.shift();
      this.records.push({ ts, level, text: line });
    }
  }

  /** `pr_emerg()`. */
  emerg(text: string): void {
    this.printk(LOGLEVEL.EMERG, text);
  }
  /** `pr_err()`. */
  err(text: string): void {
    this.printk(LOGLEVEL.ERR, text);
  }
  /** `pr_warn()`. */
  warn(text: string): void {
    this.printk(LOGLEVEL.WARNING, text);
  }
  /** `pr_notice()`. */
  notice(text: string): void {
    this.printk(LOGLEVEL.NOTICE, text);
  }
  /** `pr_info()`. */
  info(text: string): void {
    this.printk(LOGLEVEL.INFO, text);
  }
  /** `pr_debug()` (kept: dynamic debug is treated as enabled). */
  debug(text: string): void {
    this.printk(LOGLEVEL.DEBUG, text);
  }

  /** The records in the ring, oldest first. */
  get lines(): readonly LogRecord[] {
    return this.records;
  }

  /**
   * What `dmesg` prints: every record at or below `maxLevel` (default: all),
   * each as `[    1.234567] text`.
   */
  dmesg(maxLevel: LogLevel = LOGLEVEL.DEBUG): string {
    let out = '';
    for (const r of this.records) if (r.level <= maxLevel) out += `${formatLogTime(r.ts)}${r.text}\n`;
    return out;
  }

  /** `dmesg -C`: clear the ring. */
  clear(): void {
    this.records.length = 0;
  }
}
