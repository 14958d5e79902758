import { describe, expect, it } from 'vitest';
import {
  FaultInjection, Kernel, KernelError, LOGLEVEL, Prandom, Printk, SimClock, Tracer, formatLogTime,
  formatTraceValue, isKernelError,
} from '@zonedev/kernel';

describe('prandom_u32_state (lib/random32.c)', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = new Prandom(42);
    const b = new Prandom(42);
    const c = new Prandom(43);
    const sa = Array.from({ length: 8 }, () => a.u32());
    expect(Array.from({ length: 8 }, () => b.u32())).toEqual(sa);
    expect(Array.from({ length: 8 }, () => c.u32())).not.toEqual(sa);
    for (const v of sa) expect(v >= 0 && v < 2 ** 32 && Number.isInteger(v)).toBe(true);
  });
  it('below(n) stays in range and covers it', () => {
    const r = new Prandom(7);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const v = r.below(10);
      expect(v >= 0 && v < 10).toBe(true);
      seen.add(v);
    }
    expect(seen.size).toBe(10);
  });
});

describe('printk / dmesg', () => {
  it('formats timestamps as [%5lu.%06lu]', () => {
    expect(formatLogTime(0)).toBe('[    0.000000] ');
    expect(formatLogTime(1_234_567_891)).toBe('[    1.234567] ');
    expect(formatLogTime(123_456_000_000_000)).toBe('[123456.000000] ');
  });
  it('logs with the simulated clock and filters by level', () => {
    const clock = new SimClock();
    const log = new Printk(clock);
    log.info('Linux version 5.13.0');
    clock.advance(2_500_000);
    log.warn('Conflicting mapping in same section');
    log.debug('debug line\nsecond line\n');
    expect(log.dmesg()).toBe(
      '[    0.000000] Linux version 5.13.0\n' +
        '[    0.002500] Conflicting mapping in same section\n' +
        '[    0.002500] debug line\n' +
        '[    0.002500] second line\n',
    );
    expect(log.dmesg(LOGLEVEL.WARNING)).toBe('[    0.002500] Conflicting mapping in same section\n');
    expect(() => clock.advance(-1)).toThrow(RangeError);
    log.clear();
    expect(log.dmesg()).toBe('');
  });
  it('keeps only the newest records when the ring is full', () => {
    const log = new Printk(new SimClock(), 2);
    log.info('a');
    log.info('b');
    log.info('c');
    expect(log.lines.map((r) => r.text)).toEqual(['b', 'c']);
  });
});

describe('function-graph tracer', () => {
  class Model {
    constructor(readonly tracer: Tracer) {}
    outer(n: number): number {
      const t = this.tracer;
      if (t.enabled) return t.call('outer', [n], () => this.outerImpl(n));
      return this.outerImpl(n);
    }
    private outerImpl(n: number): number {
      return this.leaf(n) + this.failing(n);
    }
    leaf(n: number): number {
      const t = this.tracer;
      if (t.enabled) return t.call('leaf', [n], () => n * 2);
      return n * 2;
    }
    failing(n: number): number {
      const t = this.tracer;
      const impl = (): number => {
        try {
          return this.thrower();
        } catch {
          return n;
        }
      };
      if (t.enabled) return t.call('failing', [], impl);
      return impl();
    }
    thrower(): number {
      const t = this.tracer;
      const impl = (): number => {
        throw new KernelError('EBUSY');
      };
      if (t.enabled) return t.call('thrower', [], impl);
      return impl();
    }
  }

  it('records nothing while off', () => {
    const tr = new Tracer();
    new Model(tr).outer(3);
    expect(tr.events).toHaveLength(0);
  });

  it('renders nested calls, leaves on one line, return values and errnos', () => {
    const tr = new Tracer();
    tr.on();
    expect(new Model(tr).outer(0x1000)).toBe(0x3000);
    tr.off();
    expect(tr.show()).toBe(
      [
        '# tracer: function_graph',
        '#',
        '# CPU  FUNCTION CALLS',
        '# |     |   |   |   |',
        ' 0)   outer(0x1000) {',
        ' 0)     leaf(0x1000) = 0x2000;',
        ' 0)     failing() {',
        ' 0)       thrower() = -EBUSY;',
        ' 0)     } /* failing = 0x1000 */',
        ' 0)   } /* outer = 0x3000 */',
        '',
      ].join('\n'),
    );
    tr.clear();
    expect(tr.events).toHaveLength(0);
  });

  it('keeps depth consistent after an exception escapes', () => {
    const tr = new Tracer();
    tr.on();
    const m = new Model(tr);
    expect(() => m.thrower()).toThrow(KernelError);
    m.leaf(1);
    expect(tr.events.map((e) => e.depth)).toEqual([0, 0, 0, 0]);
  });

  it('invoke() records arguments and result without a closure', () => {
    const tr = new Tracer();
    const self = { base: 10, add(this: { base: number }, a: number, b: number): number { return this.base + a + b; } };
    tr.on();
    expect(tr.invoke('add', self, self.add, 0x1000, 2)).toBe(0x100c);
    expect(tr.show().split('\n')[4]).toBe(' 0)   add(0x1000, 2) = 0x100c;');
    tr.clear();
    const rec = { f(this: void, a: unknown, b: unknown): number { return a === b ? 1 : 0; } };
    tr.invoke('cmp', rec, rec.f, { x: 1 }, { y: 20 });
    expect(tr.show().split('\n')[4]).toBe(' 0)   cmp({x=1}, {y=0x14}) = 0;');
  });

  it('formats values as a kernel developer reads them', () => {
    expect(formatTraceValue(9)).toBe('9');
    expect(formatTraceValue(4096)).toBe('0x1000');
    expect(formatTraceValue(-22)).toBe('-0x16');
    expect(formatTraceValue(undefined)).toBe('NULL');
    expect(formatTraceValue(new KernelError('ENOMEM'))).toBe('-ENOMEM');
    expect(formatTraceValue({ traceName: 'pgmap@0x100000000' })).toBe('pgmap@0x100000000');
    expect(formatTraceValue(true)).toBe('true');
    expect(formatTraceValue(10n)).toBe('0xa');
    expect(formatTraceValue({ altmap: undefined, pgprot: 'PAGE_KERNEL' })).toBe('{altmap=NULL, pgprot=PAGE_KERNEL}');
    expect(formatTraceValue({ basePfn: 0x100000, reserve: 2, range: { start: 0, end: 1 } })).toBe(
      '{base_pfn=0x100000, reserve=2, range={...}}',
    );
    expect(formatTraceValue([1, 4096])).toBe('[1, 0x1000]');
    expect(formatTraceValue(new Map())).toBe('Map');
  });
});

describe('fault injection (lib/fault-inject.c)', () => {
  it('is disarmed by default', () => {
    const f = new FaultInjection(1);
    for (let i = 0; i < 100; i++) expect(f.shouldFail('fail_page_alloc')).toBe(false);
  });
  it('fails every call at probability 100 until times runs out', () => {
    const f = new FaultInjection(1);
    f.configure('p', { probability: 100, times: 2 });
    expect([f.shouldFail('p'), f.shouldFail('p'), f.shouldFail('p')]).toEqual([true, true, false]);
    expect(f.attr('p').injected).toBe(2);
  });
  it('honours interval and space', () => {
    const f = new FaultInjection(1);
    f.configure('p', { probability: 100, times: -1, interval: 3 });
    expect(Array.from({ length: 6 }, () => f.shouldFail('p'))).toEqual([false, false, true, false, false, true]);
    const g = new FaultInjection(1);
    g.configure('s', { probability: 100, times: -1, space: 8192 });
    expect(g.shouldFail('s', 4096)).toBe(false);
    expect(g.shouldFail('s', 4096)).toBe(true);
  });
  it('is deterministic for a seed at partial probability', () => {
    const run = (seed: number): boolean[] => {
      const f = new FaultInjection(seed);
      f.configure('p', { probability: 30, times: -1 });
      return Array.from({ length: 200 }, () => f.shouldFail('p'));
    };
    const a = run(5);
    expect(run(5)).toEqual(a);
    const fails = a.filter(Boolean).length;
    expect(fails).toBeGreaterThan(30);
    expect(fails).toBeLessThan(90);
  });
  it('rejects bad knobs with -EINVAL and changes nothing', () => {
    const f = new FaultInjection(1);
    f.configure('p', { probability: 10, times: 3 });
    const before = { ...f.attr('p') };
    for (const bad of [{ probability: 101 }, { interval: 0 }, { times: -2 }, { space: -1 }, { probability: 1.5 }]) {
      let err: unknown;
      try {
        f.configure('p', { times: 9, ...bad });
      } catch (e) {
        err = e;
      }
      expect(isKernelError(err, 'EINVAL')).toBe(true);
      expect(f.attr('p')).toEqual(before);
    }
    f.disarm('p');
    expect(f.attr('p').times).toBe(0);
  });
});

describe('Kernel (per-machine services)', () => {
  it('gives two machines independent state', () => {
    const a = new Kernel({ seed: 1 });
    const b = new Kernel({ seed: 1 });
    a.log.info('only on a');
    a.tracer.on();
    a.clock.advance(1000);
    expect(b.log.dmesg()).toBe('');
    expect(b.tracer.enabled).toBe(false);
    expect(b.clock.now()).toBe(0);
    expect(a.seed).toBe(1);
  });
});
