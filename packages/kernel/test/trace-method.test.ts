import { describe, expect, it } from 'vitest';
import { KernelError, Tracer, checkUnsigned, isKernelError, traceMethod, traced } from '@zonedev/kernel';

/** Two model functions: an outer one that calls an inner one, both traced. */
class Pair {
  readonly tracer: Tracer = new Tracer();
  calls = 0;
  static {
    const p = Pair.prototype;
    traceMethod(p, 'outer', 'outer_fn', (nid) => checkUnsigned('outer_fn', 'nid', nid));
    traceMethod(p, 'inner', 'inner_fn');
  }
  /** The untraced body of outer_fn(). */
  outer(nid: number, size: number): number {
    this.calls++;
    return this.inner(nid + size);
  }
  /** The untraced body of inner_fn(); -ENOSPC above 0x100. */
  inner(total: number): number {
    if (total > 0x100) throw new KernelError('ENOSPC', 'inner_fn: too big');
    return total * 2;
  }
}

/** The same pair written with today's pattern: a private twin per function. */
class Twins {
  readonly tracer: Tracer = new Tracer();
  outer(nid: number, size: number): number {
    checkUnsigned('outer_fn', 'nid', nid);
    if (this.tracer.enabled) return this.tracer.invoke('outer_fn', this, this.outerImpl, nid, size);
    return this.outerImpl(nid, size);
  }
  private outerImpl(nid: number, size: number): number {
    return this.inner(nid + size);
  }
  inner(total: number): number {
    if (this.tracer.enabled) return this.tracer.invoke('inner_fn', this, this.innerImpl, total);
    return this.innerImpl(total);
  }
  private innerImpl(total: number): number {
    if (total > 0x100) throw new KernelError('ENOSPC', 'inner_fn: too big');
    return total * 2;
  }
}

const errno = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return isKernelError(e) ? e.errno : 'not a KernelError';
  }
  return undefined;
};

describe('traceMethod() and traced(): a traced function without a twin', () => {
  it('records the same function graph as the invoke() pattern, results and errnos included', () => {
    const a = new Pair();
    const b = new Twins();
    for (const m of [a, b]) {
      m.tracer.on();
      expect(m.outer(3, 0x20)).toBe(0x46);
      expect(errno(() => m.outer(1, 0x200))).toBe('ENOSPC');
      m.tracer.off();
      expect(m.outer(1, 1)).toBe(4);
    }
    expect(a.tracer.show()).toBe(b.tracer.show());
    expect(a.tracer.show()).toBe(
      [
        '# tracer: function_graph',
        '#',
        '# CPU  FUNCTION CALLS',
        '# |     |   |   |   |',
        ' 0)   outer_fn(3, 0x20) {',
        ' 0)     inner_fn(0x23) = 0x46;',
        ' 0)   } /* outer_fn = 0x46 */',
        ' 0)   outer_fn(1, 0x200) {',
        ' 0)     inner_fn(0x201) = -ENOSPC;',
        ' 0)   } /* outer_fn = -ENOSPC */',
        '',
      ].join('\n'),
    );
    expect(a.calls).toBe(3);
  });

  it('runs the argument checks before the trace records the call, and not the body', () => {
    const a = new Pair();
    a.tracer.on();
    expect(errno(() => a.outer(-1, 0))).toBe('EINVAL');
    expect(errno(() => a.outer(1.5, 0))).toBe('EINVAL');
    expect(a.tracer.events).toEqual([]);
    expect(a.calls).toBe(0);
  });

  it('keeps the method name; the trace names the kernel function', () => {
    expect(Pair.prototype.outer.name).toBe('outer');
    const a = new Pair();
    a.tracer.on();
    a.inner(2);
    expect(a.tracer.events.map((e) => `${e.kind} ${e.name} ${e.depth}`)).toEqual(['entry inner_fn 0', 'exit inner_fn 0']);
  });

  it('traced() applied by hand passes `this` to the check and the body', () => {
    const seen: unknown[] = [];
    const self = { tracer: new Tracer(), base: 0x10 };
    const f = traced<typeof self, [number], number>('add_base', function (this: typeof self, n) {
      seen.push(this);
      if (n < 0) throw new KernelError('EINVAL', 'add_base: negative');
    })(function (this: typeof self, n: number): number {
      return this.base + n;
    });
    expect(f.call(self, 1)).toBe(0x11);
    self.tracer.on();
    expect(f.call(self, 2)).toBe(0x12);
    expect(errno(() => f.call(self, -1))).toBe('EINVAL');
    expect(seen).toEqual([self, self, self]);
    expect(self.tracer.show()).toContain(' 0)   add_base(2) = 0x12;\n');
    expect(self.tracer.events).toHaveLength(2);
  });

  it('a receiver without a tracer runs the body untraced', () => {
    const f = traced<object, [number], number>('twice')((n: number) => n * 2);
    expect(f.call({}, 4)).toBe(8);
  });

  it('refuses what is not a method with EINVAL', () => {
    const p = { x: 1, f(): number { return 1; } };
    expect(errno(() => traceMethod(p, 'x', 'x_fn'))).toBe('EINVAL');
    expect(errno(() => traceMethod(p, 'nope' as 'x', 'nope_fn'))).toBe('EINVAL');
    expect(errno(() => traceMethod(p, 'f', 'f_fn', 5 as never))).toBe('EINVAL');
    expect(errno(() => traced('none')(undefined as never))).toBe('EINVAL');
    expect(p.f()).toBe(1);
  });
});
