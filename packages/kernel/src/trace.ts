/**
 * Function-graph tracing: watch the kernel's decisions as a call tree.
 *
 * ftrace's `function_graph` tracer hooks the entry and the return of every
 * kernel function and prints the calls nested by depth:
 *
 * ```
 *  0)               |  memremap_pages() {
 *  0)               |    pagemap_range() {
 *  0)   0.532 us    |      mhp_range_allowed();
 * ```
 *
 * Each machine of the model has one {@link Tracer}. A model function that
 * mirrors a kernel function records itself with this pattern, which costs a
 * single property read and branch while tracing is off:
 *
 * ```ts
 * requestRegion(start: number, n: number): Resource | undefined {
 *   if (this.tracer.enabled) return this.tracer.invoke('__request_region', this, this.requestRegionImpl, start, n);
 *   return this.requestRegionImpl(start, n);
 * }
 * ```
 *
 * Prefer {@link Tracer.invoke} over {@link Tracer.call} on hot paths: a
 * closure such as `() => this.impl(start, n)` captures the arguments, and V8
 * then allocates a context for them on every call, traced or not (measured in
 * bench/run.ts: about 40 % on a small function). `invoke` takes the
 * implementation and its arguments without a closure.
 *
 * The model has no wall clock worth printing, so instead of ftrace's duration
 * column the graph shows what a student wants next to a call: its arguments
 * and its return value (as ftrace's `funcgraph-args` and `funcgraph-retval`
 * options do in later kernels). A thrown {@link KernelError} is shown as the
 * negative errno the kernel would have returned.
 */
import { KernelError } from './errno.js';

/**
 * One recorded event: a function's entry or its return.
 * @public
 */
export interface TraceEvent {
  /** `entry` when the function was called, `exit` when it returned or threw. */
  readonly kind: 'entry' | 'exit';
  /** Kernel name of the function, e.g. `memremap_pages`. */
  readonly name: string;
  /** Call depth: 0 for an outermost traced call. */
  readonly depth: number;
  /** The arguments, formatted (entry events only). */
  readonly args: readonly string[];
  /** The result, formatted (exit events only; `undefined` for void). */
  readonly result: string | undefined;
}

/**
 * Formats a traced value the way a kernel developer reads it: integers of
 * 10 and above in hex, `NULL` for undefined, an error as `-EBUSY`, an
 * object by its `traceName` if it has one, and a plain record (a C struct
 * passed by value or pointer, such as `struct mhp_params`) as its fields
 * under their kernel names, `{altmap=NULL, pgprot=PAGE_KERNEL}`, one level
 * deep (deeper records print as `{...}`).
 * @public
 */
export function formatTraceValue(v: unknown, depth: number = 0): string {
  if (v === undefined || v === null) return 'NULL';
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= 10) return `0x${v.toString(16)}`;
    if (Number.isInteger(v) && v < 0 && v <= -10) return `-0x${(-v).toString(16)}`;
    return String(v);
  }
  if (typeof v === 'bigint') return `0x${v.toString(16)}`;
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof KernelError) return `-${v.errno}`;
  if (typeof v === 'function') return v.name || 'fn';
  if (typeof v === 'object') {
    const named = (v as { traceName?: unknown }).traceName;
    if (typeof named === 'string') return named;
    if (typeof named === 'function') return String((named as () => unknown).call(v));
    if (depth < 1 && Array.isArray(v)) return `[${v.map((x) => formatTraceValue(x, depth + 1)).join(', ')}]`;
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto === Object.prototype || proto === null) {
      // A plain record (struct mhp_params, struct vmem_altmap, struct range):
      // its fields under their kernel names, one level deep.
      if (depth >= 1) return '{...}';
      const fields = Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => typeof x !== 'function')
        .map(([k, x]) => `${snakeCase(k)}=${formatTraceValue(x, depth + 1)}`);
      return `{${fields.join(', ')}}`;
    }
    return v.constructor?.name ?? 'object';
  }
  return String(v);
}

/** `basePfn` -> `base_pfn`: model field names back to the kernel's. */
function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * A traced method without a private twin: `traced(name, check)` wraps the
 * untraced body `method` so that each call runs `check` on the arguments
 * (the model's argument checks, which the trace does not show), then, while
 * the receiver's `tracer` is on, records `name` and the arguments around the
 * body as {@link Tracer.invoke} does, and otherwise calls the body directly.
 * The result is a TC39 method decorator (`@traced('region_intersects')`)
 * and can equally be applied by hand to a prototype's method, as
 * {@link traceMethod} does.
 * @public
 */
export function traced<This, A extends unknown[], R>(
  name: string,
  check?: (this: This, ...args: A) => void,
): (method: (this: This, ...args: A) => R, context?: ClassMethodDecoratorContext<This>) => (this: This, ...args: A) => R {
  return (method) => {
    if (typeof method !== 'function') throw new KernelError('EINVAL', `traced: ${name} has no method to trace`);
    const wrapper =
      check === undefined
        ? function (this: This, ...args: A): R {
            const t = (this as { readonly tracer?: Tracer }).tracer;
            if (t?.enabled === true) return t.invoke(name, this, method, ...args);
            return method.apply(this, args);
          }
        : function (this: This, ...args: A): R {
            check.apply(this, args);
            const t = (this as { readonly tracer?: Tracer }).tracer;
            if (t?.enabled === true) return t.invoke(name, this, method, ...args);
            return method.apply(this, args);
          };
    Object.defineProperty(wrapper, 'name', { value: method.name });
    return wrapper;
  };
}

/**
 * Makes the method `key` of a class's prototype a traced kernel function
 * named `name` with {@link traced}, the same way a TC39 method decorator
 * would, for sources compiled where decorators are not lowered. Call it in
 * the class's `static {}` block, so that the method is traced before any
 * instance exists: the method keeps its declaration and doc comment and is
 * written as the untraced body; `check` holds the argument checks, which
 * run before the trace records the call.
 * @public
 */
export function traceMethod<P extends object, K extends keyof P & string>(
  proto: P,
  key: K,
  name: string,
  check?: P[K] extends (...args: infer A) => unknown ? (this: P, ...args: A) => void : never,
): void {
  const method = proto[key] as (this: P, ...args: unknown[]) => unknown;
  if (typeof method !== 'function') throw new KernelError('EINVAL', `traceMethod: ${String(key)} is not a method`);
  if (check !== undefined && typeof check !== 'function') throw new KernelError('EINVAL', `traceMethod: the check of ${String(key)} is not a function`);
  (proto as Record<string, unknown>)[key] = traced<P, unknown[], unknown>(name, check as ((this: P, ...args: unknown[]) => void) | undefined)(method);
}

/**
 * A per-machine function-graph tracer (kernel/trace/trace_functions_graph.c).
 * @public
 */
export class Tracer {
  /** Whether calls are recorded. Read on every traced call: keep it a plain field. */
  enabled: boolean = false;
  private readonly buffer: TraceEvent[] = [];
  private depth = 0;
  private readonly capacity: number;

  /** @param capacity - events kept, like the ring buffer's size; oldest dropped first. */
  constructor(capacity: number = 65536) {
    this.capacity = capacity;
  }

  /** `echo function_graph > current_tracer; echo 1 > tracing_on`. */
  on(): void {
    this.enabled = true;
  }

  /** `echo 0 > tracing_on`. */
  off(): void {
    this.enabled = false;
  }

  /** `echo > trace`: drop every recorded event. */
  clear(): void {
    this.buffer.length = 0;
  }

  /** The recorded events, oldest first. */
  get events(): readonly TraceEvent[] {
    return this.buffer;
  }

  /**
   * Records the entry of `name(args)`, runs `fn`, records its return (or the
   * errno it threw, which is rethrown) and returns its result. Call it only
   * when {@link Tracer.enabled} is true (see the pattern above).
   */
  call<R>(name: string, args: readonly unknown[], fn: () => R): R {
    const depth = this.depth;
    this.push({ kind: 'entry', name, depth, args: args.map((a) => formatTraceValue(a)), result: undefined });
    this.depth = depth + 1;
    let result: R;
    try {
      result = fn();
    } catch (e) {
      this.depth = depth;
      this.push({ kind: 'exit', name, depth, args: [], result: formatTraceValue(e) });
      throw e;
    }
    this.depth = depth;
    this.push({
      kind: 'exit',
      name,
      depth,
      args: [],
      result: result === undefined ? undefined : formatTraceValue(result),
    });
    return result;
  }

  /**
   * Like {@link Tracer.call}, but calls `fn` with `self` as `this` and the
   * given arguments, which are also what the trace records. Needs no closure,
   * so the untraced path of the caller allocates nothing.
   */
  invoke<A extends unknown[], R>(name: string, self: unknown, fn: (...args: A) => R, ...args: A): R {
    return this.call(name, args, () => fn.apply(self, args));
  }

  private push(e: TraceEvent): void {
    if (this.buffer.length >= this.capacity) this.buffer.shift();
    this.buffer.push(e);
  }

  /**
   * The trace as `cat /sys/kernel/tracing/trace` shows the function_graph
   * tracer (CPU 0), with arguments and return values in place of durations.
   * A call with no traced callees is printed on one line (`func(args);` or
   * `func(args) = ret;`), as ftrace prints leaf functions.
   */
  show(): string {
    const lines = ['# tracer: function_graph', '#', '# CPU  FUNCTION CALLS', '# |     |   |   |   |'];
    const ev = this.buffer;
    for (let i = 0; i < ev.length; i++) {
      const e = ev[i]!;
      const indent = '  '.repeat(e.depth + 1);
      if (e.kind === 'entry') {
        const next = ev[i + 1];
        const call = `${e.name}(${e.args.join(', ')})`;
        if (next !== undefined && next.kind === 'exit' && next.name === e.name && next.depth === e.depth) {
          lines.push(` 0) ${indent}${call}${next.result === undefined ? '' : ` = ${next.result}`};`);
          i++;
        } else {
          lines.push(` 0) ${indent}${call} {`);
        }
      } else {
        lines.push(` 0) ${indent}}${e.result === undefined ? '' : ` /* ${e.name} = ${e.result} */`}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }
}
