import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  PERCPU_REF_ALLOW_REINIT,
  PERCPU_REF_INIT_ATOMIC,
  PERCPU_REF_INIT_DEAD,
  PercpuRef,
  Tracer,
} from '@zonedev/kernel';

function counted(flags = 0): { ref: PercpuRef; released: () => number } {
  let n = 0;
  const ref = new PercpuRef(() => {
    n++;
  }, flags);
  return { ref, released: () => n };
}

function state(ref: PercpuRef): unknown {
  return { refs: ref.refs, percpu: ref.isPercpu(), dying: ref.isDying(), zero: ref.isZero(), exited: ref.isExited() };
}

describe('percpu_ref init', () => {
  it('starts live in percpu mode holding one reference', () => {
    const { ref, released } = counted();
    expect(ref.isPercpu()).toBe(true);
    expect(ref.isDying()).toBe(false);
    expect(ref.isZero()).toBe(false);
    expect(ref.refs).toBe(1);
    expect(released()).toBe(0);
  });

  it('PERCPU_REF_INIT_ATOMIC starts in atomic mode', () => {
    const { ref } = counted(PERCPU_REF_INIT_ATOMIC);
    expect(ref.isPercpu()).toBe(false);
    expect(ref.refs).toBe(1);
  });

  it('PERCPU_REF_INIT_DEAD starts dead and zero', () => {
    const { ref } = counted(PERCPU_REF_INIT_DEAD);
    expect(ref.isDying()).toBe(true);
    expect(ref.isZero()).toBe(true);
    expect(ref.trygetLive()).toBe(false);
    expect(ref.tryget()).toBe(false);
    ref.reinit();
    expect(ref.isPercpu()).toBe(true);
    expect(ref.refs).toBe(1);
  });
});

describe('percpu_ref get/put/kill', () => {
  it('release runs exactly once, when the last reference of a killed ref is put', () => {
    const { ref, released } = counted();
    ref.get();
    ref.getMany(3);
    ref.putMany(2);
    expect(ref.refs).toBe(3);
    ref.kill();
    expect(ref.isDying()).toBe(true);
    expect(ref.isPercpu()).toBe(false);
    expect(ref.refs).toBe(2);
    expect(released()).toBe(0);
    ref.put();
    expect(released()).toBe(0);
    ref.put();
    expect(released()).toBe(1);
    expect(ref.isZero()).toBe(true);
  });

  it('kill of an otherwise unreferenced ref releases at once, after the confirmation', () => {
    const order: string[] = [];
    const ref = new PercpuRef(() => order.push('release'));
    ref.killAndConfirm((r) => {
      order.push(`confirm dying=${r.isDying()} percpu=${r.isPercpu()}`);
    });
    expect(order).toEqual(['confirm dying=true percpu=false', 'release']);
  });

  it('tryget_live fails after kill; tryget still succeeds while references remain', () => {
    const { ref, released } = counted();
    expect(ref.trygetLive()).toBe(true);
    ref.kill();
    expect(ref.trygetLive()).toBe(false);
    expect(ref.tryget()).toBe(true);
    expect(ref.refs).toBe(2);
    ref.putMany(2);
    expect(released()).toBe(1);
    expect(ref.tryget()).toBe(false);
    expect(ref.trygetLive()).toBe(false);
  });

  it('percpu mode never reaches zero: dropping the initial reference throws and changes nothing', () => {
    const { ref, released } = counted();
    const before = state(ref);
    expect(() => ref.put()).toThrow(/percpu_ref_kill/);
    expect(state(ref)).toEqual(before);
    expect(released()).toBe(0);
  });

  it('put below zero throws (WARN) and changes nothing', () => {
    const { ref, released } = counted();
    ref.kill();
    expect(released()).toBe(1);
    const before = state(ref);
    expect(() => ref.put()).toThrow(/<= 0/);
    expect(() => ref.putMany(5)).toThrow(/<= 0/);
    expect(state(ref)).toEqual(before);
    expect(released()).toBe(1);
  });

  it('killing twice throws and changes nothing', () => {
    const { ref, released } = counted();
    ref.get();
    ref.kill();
    const before = state(ref);
    expect(() => ref.kill()).toThrow(/more than once/);
    expect(state(ref)).toEqual(before);
    expect(released()).toBe(0);
  });

  it('get on a released ref throws (use after free)', () => {
    const { ref } = counted();
    ref.kill();
    const before = state(ref);
    expect(() => ref.get()).toThrow(/released/);
    expect(state(ref)).toEqual(before);
  });

  it('atomic mode: a put to zero releases even without kill', () => {
    const { ref, released } = counted(PERCPU_REF_INIT_ATOMIC);
    expect(ref.isZero()).toBe(false);
    ref.put();
    expect(released()).toBe(1);
    expect(ref.isZero()).toBe(true);
    expect(ref.isDying()).toBe(false);
  });

  it('switch to atomic and back (ALLOW_REINIT)', () => {
    const { ref } = counted(PERCPU_REF_ALLOW_REINIT);
    let confirmed = 0;
    ref.switchToAtomic(() => confirmed++);
    expect(confirmed).toBe(1);
    expect(ref.isPercpu()).toBe(false);
    ref.switchToPercpu();
    expect(ref.isPercpu()).toBe(true);
  });

  it('switch back to percpu without ALLOW_REINIT throws and changes nothing', () => {
    const { ref } = counted();
    ref.switchToAtomic();
    const before = state(ref);
    expect(() => ref.switchToPercpu()).toThrow(/ALLOW_REINIT/);
    expect(state(ref)).toEqual(before);
  });
});

describe('percpu_ref reinit/resurrect/exit', () => {
  it('reinit after release starts a new life in percpu mode (ALLOW_REINIT)', () => {
    const { ref, released } = counted(PERCPU_REF_ALLOW_REINIT);
    ref.kill();
    expect(released()).toBe(1);
    ref.reinit();
    expect(ref.isPercpu()).toBe(true);
    expect(ref.isDying()).toBe(false);
    expect(ref.refs).toBe(1);
    ref.kill();
    expect(released()).toBe(2);
  });

  it('reinit of a non-zero ref throws and changes nothing', () => {
    const { ref } = counted(PERCPU_REF_ALLOW_REINIT);
    ref.get();
    ref.kill();
    const before = state(ref);
    expect(() => ref.reinit()).toThrow(/not zero/);
    expect(state(ref)).toEqual(before);
  });

  it('reinit without ALLOW_REINIT throws (the percpu counters are gone)', () => {
    const { ref } = counted();
    ref.kill();
    const before = state(ref);
    expect(() => ref.reinit()).toThrow(/ALLOW_REINIT/);
    expect(state(ref)).toEqual(before);
  });

  it('resurrect a dying ref that still has references', () => {
    const { ref, released } = counted(PERCPU_REF_ALLOW_REINIT);
    ref.get();
    ref.kill();
    ref.resurrect();
    expect(ref.isDying()).toBe(false);
    expect(ref.isPercpu()).toBe(true);
    expect(ref.refs).toBe(2);
    expect(ref.trygetLive()).toBe(true);
    expect(released()).toBe(0);
  });

  it('resurrect of a live ref throws and changes nothing', () => {
    const { ref } = counted(PERCPU_REF_ALLOW_REINIT);
    const before = state(ref);
    expect(() => ref.resurrect()).toThrow(/not dying/);
    expect(state(ref)).toEqual(before);
  });

  it('exit keeps is_zero/is_dying answering and refuses further use', () => {
    const { ref } = counted();
    ref.kill();
    ref.exit();
    expect(ref.isExited()).toBe(true);
    expect(ref.isZero()).toBe(true);
    expect(ref.isDying()).toBe(true);
    expect(() => ref.get()).toThrow(/percpu_ref_exit/);
    expect(() => ref.tryget()).toThrow(/percpu_ref_exit/);
    ref.exit();
  });

  it('traces kill and release when the tracer is on', () => {
    const tracer = new Tracer();
    const ref = new PercpuRef(function dev_pagemap_percpu_release() {}, 0, { tracer });
    tracer.on();
    ref.kill();
    expect(tracer.show()).toContain('percpu_ref_kill_and_confirm(dev_pagemap_percpu_release)');
  });
});

describe('percpu_ref model', () => {
  type Op = 'get' | 'put' | 'tryget' | 'trygetLive' | 'kill';
  it('random sequences: release exactly once iff killed and all references dropped', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom<Op>('get', 'put', 'tryget', 'trygetLive', 'kill'), { maxLength: 60 }), (ops) => {
        let released = 0;
        const ref = new PercpuRef(() => {
          released++;
        });
        let held = 0; // references taken by the test besides the initial one
        let killed = false;
        for (const op of ops) {
          switch (op) {
            case 'get':
              if (killed && held === 0) {
                expect(() => ref.get()).toThrow();
              } else {
                ref.get();
                held++;
              }
              break;
            case 'put':
              if (held > 0) {
                ref.put();
                held--;
              } else {
                expect(() => ref.put()).toThrow();
              }
              break;
            case 'tryget': {
              const ok = ref.tryget();
              expect(ok).toBe(!killed || held > 0);
              if (ok) held++;
              break;
            }
            case 'trygetLive': {
              const ok = ref.trygetLive();
              expect(ok).toBe(!killed);
              if (ok) held++;
              break;
            }
            case 'kill':
              if (killed) {
                expect(() => ref.kill()).toThrow();
              } else {
                ref.kill();
                killed = true;
              }
              break;
          }
          expect(released).toBe(killed && held === 0 ? 1 : 0);
          expect(ref.refs).toBe(held + (killed ? 0 : 1));
          expect(ref.trygetLive()).toBe(!killed);
          if (!killed) ref.put();
        }
      }),
      { numRuns: 200 },
    );
  });
});
