import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BlockingNotifierHead, ERRNO, NOTIFY_BAD, NOTIFY_DONE, NOTIFY_OK, NOTIFY_STOP, Printk, SimClock, Tracer, isKernelError, notifierFromErrno, notifierToErrno } from '@zonedev/kernel';
import { NOTIFY_STOP_MASK } from '../src/notifier.js';
import type { NotifierBlock } from '@zonedev/kernel';

function block(log: string[], tag: string, priority: number, ret: number = NOTIFY_OK): NotifierBlock<string> {
  return {
    priority,
    notifierCall: (_nb, action, data) => {
      log.push(`${tag}:${action}:${data}`);
      return ret;
    },
  };
}

describe('notifier constants (include/linux/notifier.h)', () => {
  it('have the kernel values', () => {
    expect(NOTIFY_DONE).toBe(0);
    expect(NOTIFY_OK).toBe(1);
    expect(NOTIFY_STOP_MASK).toBe(0x8000);
    expect(NOTIFY_BAD).toBe(0x8002);
    expect(NOTIFY_STOP).toBe(0x8001);
  });
});

describe('notifier_from_errno / notifier_to_errno', () => {
  it('encode as NOTIFY_STOP_MASK | (NOTIFY_OK - err)', () => {
    expect(notifierFromErrno(0)).toBe(NOTIFY_OK);
    expect(notifierFromErrno(-ERRNO.EBUSY)).toBe(0x8011);
    expect(notifierFromErrno(-ERRNO.ENOMEM)).toBe(0x800d);
    expect(notifierFromErrno(-ERRNO.EPERM)).toBe(NOTIFY_BAD);
  });

  it('decode: NOTIFY_BAD is -EPERM, DONE/OK/STOP are 0', () => {
    expect(notifierToErrno(NOTIFY_BAD)).toBe(-ERRNO.EPERM);
    expect(notifierToErrno(NOTIFY_DONE)).toBe(0);
    expect(notifierToErrno(NOTIFY_OK)).toBe(0);
    expect(notifierToErrno(NOTIFY_STOP)).toBe(0);
    expect(notifierToErrno(0x8011)).toBe(-ERRNO.EBUSY);
  });

  it('round-trip every errno', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 133 }), (e) => {
        const ret = notifierFromErrno(-e);
        expect(ret >= NOTIFY_STOP_MASK).toBe(true);
        expect(notifierToErrno(ret)).toBe(-e);
      }),
      { numRuns: 200 },
    );
  });
});

describe('BlockingNotifierHead', () => {
  it('calls blocks by descending priority, equal priorities in registration order', () => {
    const log: string[] = [];
    const nh = new BlockingNotifierHead<string>({ name: 'test_chain' });
    nh.register(block(log, 'a', 0));
    nh.register(block(log, 'b', 10));
    nh.register(block(log, 'c', 0));
    nh.register(block(log, 'd', 10));
    nh.register(block(log, 'e', -5));
    nh.register(block(log, 'f', 100));
    expect(nh.callChain(3, 'x')).toBe(NOTIFY_OK);
    expect(log).toEqual(['f:3:x', 'b:3:x', 'd:3:x', 'a:3:x', 'c:3:x', 'e:3:x']);
  });

  it('an empty chain returns NOTIFY_DONE', () => {
    const nh = new BlockingNotifierHead<string>();
    expect(nh.isEmpty()).toBe(true);
    expect(nh.callChain(1, 'x')).toBe(NOTIFY_DONE);
    expect(nh.callChainRobust(1, 2, 'x')).toBe(NOTIFY_DONE);
  });

  it('returns the last value returned when nothing stops', () => {
    const log: string[] = [];
    const nh = new BlockingNotifierHead<string>();
    nh.register(block(log, 'a', 2, NOTIFY_OK));
    nh.register(block(log, 'b', 1, NOTIFY_DONE));
    expect(nh.callChain(0, '')).toBe(NOTIFY_DONE);
  });

  it('stops at a value with NOTIFY_STOP_MASK and returns it', () => {
    const log: string[] = [];
    const nh = new BlockingNotifierHead<string>();
    nh.register(block(log, 'a', 3));
    nh.register(block(log, 'b', 2, notifierFromErrno(-ERRNO.EBUSY)));
    nh.register(block(log, 'c', 1));
    const ret = nh.callChain(7, 'p');
    expect(ret).toBe(0x8011);
    expect(notifierToErrno(ret)).toBe(-ERRNO.EBUSY);
    expect(log).toEqual(['a:7:p', 'b:7:p']);
    log.length = 0;
    const nh2 = new BlockingNotifierHead<string>();
    nh2.register(block(log, 'x', 0, NOTIFY_STOP));
    nh2.register(block(log, 'y', -1));
    expect(nh2.callChain(1, '')).toBe(NOTIFY_STOP);
    expect(log).toEqual(['x:1:']);
  });

  it('robust: rolls back the blocks called before the one that vetoed', () => {
    const log: string[] = [];
    const nh = new BlockingNotifierHead<string>();
    nh.register(block(log, 'a', 3));
    nh.register(block(log, 'b', 2));
    nh.register(block(log, 'c', 1, NOTIFY_BAD));
    nh.register(block(log, 'd', 0));
    expect(nh.callChainRobust(10, 11, 'm')).toBe(NOTIFY_BAD);
    expect(log).toEqual(['a:10:m', 'b:10:m', 'c:10:m', 'a:11:m', 'b:11:m']);
  });

  it('robust: no rollback when nobody stops', () => {
    const log: string[] = [];
    const nh = new BlockingNotifierHead<string>();
    nh.register(block(log, 'a', 1));
    nh.register(block(log, 'b', 0));
    expect(nh.callChainRobust(10, 11, 'm')).toBe(NOTIFY_OK);
    expect(log).toEqual(['a:10:m', 'b:10:m']);
  });

  it('unregister removes by identity; unknown block is ENOENT and changes nothing', () => {
    const log: string[] = [];
    const nh = new BlockingNotifierHead<string>();
    const a = block(log, 'a', 0);
    const b = block(log, 'b', 0);
    nh.register(a);
    nh.register(b);
    nh.unregister(a);
    expect(nh.chain).toEqual([b]);
    let err: unknown;
    try {
      nh.unregister(a);
    } catch (e) {
      err = e;
    }
    expect(isKernelError(err, 'ENOENT')).toBe(true);
    expect(nh.chain).toEqual([b]);
  });

  it('double registration warns and changes nothing (v5.13)', () => {
    const log = new Printk(new SimClock());
    const calls: string[] = [];
    const nh = new BlockingNotifierHead<string>({ log });
    const a = block(calls, 'a', 0);
    nh.register(a);
    nh.register(a);
    expect(nh.chain).toEqual([a]);
    expect(log.dmesg()).toContain('double register detected');
    nh.callChain(1, '');
    expect(calls).toEqual(['a:1:']);
  });

  it('a block may unregister itself while being called', () => {
    const calls: string[] = [];
    const nh = new BlockingNotifierHead<string>();
    const self: NotifierBlock<string> = {
      notifierCall: (nb) => {
        calls.push('self');
        nh.unregister(nb);
        return NOTIFY_OK;
      },
      priority: 1,
    };
    nh.register(self);
    nh.register(block(calls, 'b', 0));
    nh.callChain(1, '');
    nh.callChain(2, '');
    expect(calls).toEqual(['self', 'b:1:', 'b:2:']);
  });

  it('traces calls when the tracer is on', () => {
    const tracer = new Tracer();
    const nh = new BlockingNotifierHead<string>({ name: 'memory_chain', tracer });
    nh.register(block([], 'a', 0));
    tracer.on();
    nh.callChain(1, 'x');
    expect(tracer.show()).toContain('blocking_notifier_call_chain(memory_chain, 1) = 1;');
  });

  it('model: priority order is a stable sort by descending priority', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -3, max: 3 }), { maxLength: 20 }), (prios) => {
        const log: string[] = [];
        const nh = new BlockingNotifierHead<string>();
        prios.forEach((p, i) => nh.register(block(log, String(i), p)));
        nh.callChain(0, '');
        const expected = prios
          .map((p, i) => ({ p, i }))
          .sort((x, y) => y.p - x.p || x.i - y.i)
          .map(({ i }) => `${i}:0:`);
        expect(log).toEqual(expected);
      }),
      { numRuns: 100 },
    );
  });
});
