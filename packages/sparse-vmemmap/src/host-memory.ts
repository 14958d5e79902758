/**
 * The host side of `-ENOMEM`: the model's own allocation points refuse
 * before the JavaScript heap runs out.
 *
 * In the kernel, `sparse_add_section()` fails with -ENOMEM when
 * `section_activate()` cannot get memory for a section's usage or memmap
 * (mm/sparse.c, v5.13). The model keeps its bookkeeping in the host's heap;
 * a request big enough would exhaust that heap first, and V8 answers with an
 * abort rather than an errno. A {@link HostMemoryGuard} turns the host
 * heap's high-water mark into the kernel's answer: when the heap in use
 * passes its limit less a reserve, {@link HostMemoryGuard.check} throws a
 * `KernelError` with -ENOMEM, before the caller changes anything, and the
 * caller's ordinary unwinding leaves the machine as it was. The reserve is
 * what that unwinding and the layers above still need.
 *
 * Reading the heap costs a microsecond or two, so the guard samples it once
 * every `interval` checks; between two samples an allocation point adds at
 * most a few hundred bytes. Where no heap statistics exist (a browser), the
 * default probe reports nothing and the guard never refuses.
 */
import { KernelError } from '@zonedev/kernel';

/**
 * What a {@link HostMemoryGuard} reads: bytes of host heap in use and the
 * heap's limit, or `undefined` when the host does not say.
 * @public
 */
export type HostMemoryProbe = () => { readonly used: number; readonly limit: number } | undefined;

/**
 * Options of a {@link HostMemoryGuard}.
 * @public
 */
export interface HostMemoryGuardOptions {
  /** Reads the heap (default: V8's `getHeapStatistics()` where the host has it). */
  readonly probe?: HostMemoryProbe;
  /** Fraction of the limit kept free for unwinding and the layers above (default 0.25). */
  readonly reserve?: number;
  /** Checks between two reads of the heap (default 64; 1 reads it every time). */
  readonly interval?: number;
}

interface V8Stats {
  getHeapStatistics(): { used_heap_size: number; heap_size_limit: number };
}

/**
 * V8's young generation on 64-bit hosts (three 16 MiB semi-spaces), which
 * `heap_size_limit` includes but the old generation, where the model's
 * records live, cannot use.
 */
const V8_YOUNG_GENERATION = 48 * 2 ** 20;

/**
 * V8's heap statistics through `process.getBuiltinModule('v8')`, without a
 * static `node:` import: the heap in use against the old generation's limit.
 */
function v8Probe(): HostMemoryProbe {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const v8 = proc?.getBuiltinModule?.('v8') as V8Stats | undefined;
  if (v8 === undefined || typeof v8.getHeapStatistics !== 'function') return () => undefined;
  return () => {
    const s = v8.getHeapStatistics();
    const limit = s.heap_size_limit > 2 * V8_YOUNG_GENERATION ? s.heap_size_limit - V8_YOUNG_GENERATION : s.heap_size_limit;
    return { used: s.used_heap_size, limit };
  };
}

/**
 * A guard on host memory that answers -ENOMEM at the model's allocation
 * points (see the file comment).
 * @public
 */
export class HostMemoryGuard {
  private readonly probe: HostMemoryProbe;
  private readonly reserve: number;
  private readonly interval: number;
  private countdown = 0;

  constructor(options: HostMemoryGuardOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new KernelError('EINVAL', `HostMemoryGuard: invalid options ${String(options)}`);
    const reserve = options.reserve ?? 0.25;
    const interval = options.interval ?? 64;
    if (!(reserve >= 0 && reserve < 1)) throw new KernelError('EINVAL', `HostMemoryGuard: reserve ${reserve} is not in [0, 1)`);
    if (!Number.isSafeInteger(interval) || interval < 1) throw new KernelError('EINVAL', `HostMemoryGuard: interval ${interval} is not a positive integer`);
    this.probe = options.probe ?? v8Probe();
    this.reserve = reserve;
    this.interval = interval;
  }

  /** Whether the heap in use is past the limit less the reserve (reads the heap now). */
  exhausted(): boolean {
    const s = this.probe();
    return s !== undefined && s.used > s.limit * (1 - this.reserve);
  }

  /**
   * Called at an allocation point before it changes anything: whether to
   * refuse with -ENOMEM (see {@link HostMemoryGuard.check}).
   */
  refuse(): boolean {
    if (this.countdown > 0) {
      this.countdown--;
      return false;
    }
    this.countdown = this.interval - 1;
    if (!this.exhausted()) return false;
    // Read again at the next call: the refusal is not sticky.
    this.countdown = 0;
    return true;
  }

  /** Throws -ENOMEM with `message` when {@link HostMemoryGuard.refuse} says so. */
  check(message: string): void {
    if (typeof message !== 'string') throw new KernelError('EINVAL', `HostMemoryGuard: invalid message ${String(message)}`);
    if (this.refuse()) throw new KernelError('ENOMEM', message);
  }
}
