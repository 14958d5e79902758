// Interval MMU notifiers and their sequence rules (mm/mmu_notifier.c v5.13).
import { describe, expect, it } from 'vitest';
import {
  MAP_ANONYMOUS, MAP_PRIVATE, MMU_NOTIFIER_RANGE_BLOCKABLE, MMU_NOTIFY_CLEAR, MMU_NOTIFY_MIGRATE,
  MMU_NOTIFY_PROTECTION_PAGE, MMU_NOTIFY_PROTECTION_VMA, MMU_NOTIFY_RELEASE, MMU_NOTIFY_SOFT_DIRTY,
  MMU_NOTIFY_UNMAP, MmStruct, MmuIntervalNotifier, mmuIntervalCheckRetry, mmuIntervalNotifierInsert,
  mmuIntervalNotifierRemove, mmuIntervalNotifierRemoveWait, mmuIntervalReadBegin, mmuIntervalReadBeginAsync,
  mmuIntervalReadRetry, mmuIntervalSetSeq, mmuNotifierEventName, mmuNotifierInvalidateRangeEnd,
  mmuNotifierInvalidateRangeStart, mmuNotifierInvalidateRangeStartNonblock, mmuNotifierRangeBlockable,
  mmuNotifierRangeInit, mmuNotifierRangeInitMigrate, PROT_READ, PROT_WRITE,
} from '../src/index.js';
import type { MmuIntervalNotifierOps, MmuNotifierMm, MmuNotifierRange } from '../src/index.js';
import { expectErrno } from './helpers.js';

type Call = { sub: MmuIntervalNotifier; event: number; start: number; end: number; curSeq: number; blockable: boolean };

function recorder(calls: Call[], answer: () => boolean = () => true): MmuIntervalNotifierOps {
  return {
    invalidate(sub: MmuIntervalNotifier, range: MmuNotifierRange, curSeq: number): boolean {
      calls.push({ sub, event: range.event, start: range.start, end: range.end, curSeq, blockable: mmuNotifierRangeBlockable(range) });
      if (!answer()) return false;
      mmuIntervalSetSeq(sub, curSeq);
      return true;
    },
  };
}

const newMm = (): MmuNotifierMm => ({ notifierSubscriptions: null });

describe('mmu_notifier_event', () => {
  it('numbers the v5.13 events in order', () => {
    expect([
      MMU_NOTIFY_UNMAP, MMU_NOTIFY_CLEAR, MMU_NOTIFY_PROTECTION_VMA, MMU_NOTIFY_PROTECTION_PAGE,
      MMU_NOTIFY_SOFT_DIRTY, MMU_NOTIFY_RELEASE, MMU_NOTIFY_MIGRATE,
    ]).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(mmuNotifierEventName(MMU_NOTIFY_MIGRATE)).toBe('MMU_NOTIFY_MIGRATE');
    expect(MMU_NOTIFIER_RANGE_BLOCKABLE).toBe(1);
  });

  it('a migrate range carries its pgmap owner', () => {
    const owner = { name: 'dmirror' };
    const r = mmuNotifierRangeInitMigrate(0, newMm(), 0x1000, 0x3000, owner);
    expect(r.event).toBe(MMU_NOTIFY_MIGRATE);
    expect(r.migratePgmapOwner).toBe(owner);
    expect(mmuNotifierRangeInit(MMU_NOTIFY_CLEAR, 0, newMm(), 0, 0x1000).migratePgmapOwner).toBe(null);
    expectErrno(() => mmuNotifierRangeInit(MMU_NOTIFY_CLEAR, 0, newMm(), 0x2000, 0x1000), 'EINVAL');
  });
});

describe('mmu_interval_notifier_insert', () => {
  it('refuses a zero or wrapping length with EOVERFLOW and leaves the mm alone', () => {
    const mm = newMm();
    const sub = new MmuIntervalNotifier();
    expectErrno(() => mmuIntervalNotifierInsert(sub, mm, 0x1000, 0, recorder([])), 'EOVERFLOW');
    expectErrno(() => mmuIntervalNotifierInsert(sub, mm, 2n ** 64n - 0x1000n, 0x1001n, recorder([])), 'EOVERFLOW');
    expect(mm.notifierSubscriptions).toBe(null);
    expect(sub.mm).toBe(null);
    // the very last byte of the address space is fine
    mmuIntervalNotifierInsert(sub, mm, 2n ** 64n - 0x1000n, 0x1000n, recorder([]));
    expect(sub.last).toBe(2n ** 64n - 1n);
    expectErrno(() => mmuIntervalNotifierInsert(new MmuIntervalNotifier(), mm, -1, 1, recorder([])), 'EINVAL');
    expectErrno(() => mmuIntervalNotifierInsert(new MmuIntervalNotifier(), mm, 0, 2n ** 64n, recorder([])), 'EINVAL');
    expectErrno(() => mmuIntervalNotifierInsert(sub, mm, 0, 1, recorder([])), 'EBUSY');
  });

  it('starts idle: global seq 2, the subscription one below it (odd)', () => {
    const mm = newMm();
    const sub = new MmuIntervalNotifier();
    mmuIntervalNotifierInsert(sub, mm, 0x1000, 0x2000, recorder([]));
    expect(mm.notifierSubscriptions!.invalidateSeq).toBe(2);
    expect(sub.invalidateSeq).toBe(1);
    expect(sub.start).toBe(0x1000n);
    expect(sub.last).toBe(0x2fffn);
    const seq = mmuIntervalReadBegin(sub);
    expect(seq).toBe(1);
    expect(mmuIntervalReadRetry(sub, seq)).toBe(false);
    expect(mmuIntervalCheckRetry(sub, seq)).toBe(false);
  });
});

describe('invalidation', () => {
  it('calls overlapping subscriptions with the odd sequence and makes readers retry', () => {
    const mm = newMm();
    const calls: Call[] = [];
    const a = new MmuIntervalNotifier();
    const b = new MmuIntervalNotifier();
    mmuIntervalNotifierInsert(a, mm, 0x1000, 0x1000, recorder(calls));
    mmuIntervalNotifierInsert(b, mm, 0x4000, 0x1000, recorder(calls));
    const seqA = mmuIntervalReadBegin(a);
    const seqB = mmuIntervalReadBegin(b);
    const range = mmuNotifierRangeInit(MMU_NOTIFY_CLEAR, 0, mm, 0x1800, 0x2000);
    mmuNotifierInvalidateRangeStart(range);
    expect(mm.notifierSubscriptions!.invalidateSeq).toBe(3);
    expect(mm.notifierSubscriptions!.activeInvalidateRanges).toBe(1);
    expect(calls).toEqual([{ sub: a, event: MMU_NOTIFY_CLEAR, start: 0x1800, end: 0x2000, curSeq: 3, blockable: true }]);
    expect(range.flags).toBe(MMU_NOTIFIER_RANGE_BLOCKABLE);
    expect(mmuIntervalReadRetry(a, seqA)).toBe(true);
    expect(mmuIntervalReadRetry(b, seqB)).toBe(false);
    // a reader of a would sleep until the end
    expectErrno(() => mmuIntervalReadBegin(a), 'EDEADLK');
    expect(mmuIntervalReadBegin(b)).toBe(seqB);
    mmuNotifierInvalidateRangeEnd(range);
    expect(mm.notifierSubscriptions!.invalidateSeq).toBe(4);
    expect(mm.notifierSubscriptions!.activeInvalidateRanges).toBe(0);
    const again = mmuIntervalReadBegin(a);
    expect(again).toBe(3);
    expect(mmuIntervalReadRetry(a, again)).toBe(false);
    expectErrno(() => mmuNotifierInvalidateRangeEnd(range), 'EINVAL');
  });

  it('a range touching no interval leaves the sequence even; end is exclusive', () => {
    const mm = newMm();
    const calls: Call[] = [];
    const a = new MmuIntervalNotifier();
    mmuIntervalNotifierInsert(a, mm, 0x2000, 0x1000, recorder(calls));
    const range = mmuNotifierRangeInit(MMU_NOTIFY_UNMAP, 0, mm, 0x1000, 0x2000);
    mmuNotifierInvalidateRangeStart(range);
    expect(mm.notifierSubscriptions!.invalidateSeq).toBe(2);
    expect(calls).toEqual([]);
    mmuNotifierInvalidateRangeEnd(range);
    expect(mm.notifierSubscriptions!.invalidateSeq).toBe(2);
  });

  it('nested invalidations end only when the last one ends', () => {
    const mm = newMm();
    const calls: Call[] = [];
    const a = new MmuIntervalNotifier();
    mmuIntervalNotifierInsert(a, mm, 0, 0x10000, recorder(calls));
    const r1 = mmuNotifierRangeInit(MMU_NOTIFY_CLEAR, 0, mm, 0, 0x1000);
    const r2 = mmuNotifierRangeInit(MMU_NOTIFY_PROTECTION_VMA, 0, mm, 0x2000, 0x3000);
    mmuNotifierInvalidateRangeStart(r1);
    mmuNotifierInvalidateRangeStart(r2);
    expect(calls.map((c) => c.curSeq)).toEqual([3, 3]);
    mmuNotifierInvalidateRangeEnd(r1);
    expect(mm.notifierSubscriptions!.invalidateSeq).toBe(3);
    mmuNotifierInvalidateRangeEnd(r2);
    expect(mm.notifierSubscriptions!.invalidateSeq).toBe(4);
  });

  it('a non-blocking start fails EAGAIN when a callback refuses, and ends the invalidation', () => {
    const mm = newMm();
    const calls: Call[] = [];
    const a = new MmuIntervalNotifier();
    mmuIntervalNotifierInsert(a, mm, 0, 0x1000, recorder(calls, () => false));
    const range = mmuNotifierRangeInit(MMU_NOTIFY_CLEAR, MMU_NOTIFIER_RANGE_BLOCKABLE, mm, 0, 0x1000);
    expectErrno(() => mmuNotifierInvalidateRangeStartNonblock(range), 'EAGAIN');
    expect(calls[0]!.blockable).toBe(false);
    expect(mm.notifierSubscriptions!.activeInvalidateRanges).toBe(0);
    expect(mm.notifierSubscriptions!.invalidateSeq).toBe(4);
    // a blocking start ignores the refusal (the kernel WARNs) and goes on
    const r2 = mmuNotifierRangeInit(MMU_NOTIFY_CLEAR, 0, mm, 0, 0x1000);
    mmuNotifierInvalidateRangeStart(r2);
    expect(mm.notifierSubscriptions!.activeInvalidateRanges).toBe(1);
    mmuNotifierInvalidateRangeEnd(r2);
    expect(mm.notifierSubscriptions!.invalidateSeq).toBe(6);
  });

  it('an mm without subscriptions is not touched', () => {
    const mm = newMm();
    const range = mmuNotifierRangeInit(MMU_NOTIFY_RELEASE, 0, mm, 0, 0x1000);
    mmuNotifierInvalidateRangeStart(range);
    mmuNotifierInvalidateRangeEnd(range);
    expect(mm.notifierSubscriptions).toBe(null);
  });
});

describe('deferred insert and remove', () => {
  it('an insert during an invalidation waits on the deferred list until the end', () => {
    const mm = newMm();
    const calls: Call[] = [];
    const a = new MmuIntervalNotifier();
    mmuIntervalNotifierInsert(a, mm, 0, 0x1000, recorder(calls));
    const range = mmuNotifierRangeInit(MMU_NOTIFY_CLEAR, 0, mm, 0, 0x1000);
    mmuNotifierInvalidateRangeStart(range);
    const b = new MmuIntervalNotifier();
    mmuIntervalNotifierInsert(b, mm, 0, 0x1000, recorder(calls));
    const subs = mm.notifierSubscriptions!;
    expect(b.invalidateSeq).toBe(3);
    expect(subs.intervals()).toEqual([a]);
    expect(subs.deferred()).toEqual([b]);
    mmuNotifierInvalidateRangeEnd(range);
    expect(subs.intervals()).toEqual([a, b]);
    expect(subs.deferred()).toEqual([]);
    expect(mmuIntervalReadBegin(b)).toBe(3);
  });

  it('an insert while only non-overlapping invalidations run makes the sequence odd', () => {
    const mm = newMm();
    const a = new MmuIntervalNotifier();
    mmuIntervalNotifierInsert(a, mm, 0x10000, 0x1000, recorder([]));
    const range = mmuNotifierRangeInit(MMU_NOTIFY_CLEAR, 0, mm, 0, 0x1000);
    mmuNotifierInvalidateRangeStart(range);
    expect(mm.notifierSubscriptions!.invalidateSeq).toBe(2);
    const b = new MmuIntervalNotifier();
    mmuIntervalNotifierInsert(b, mm, 0, 0x1000, recorder([]));
    expect(mm.notifierSubscriptions!.invalidateSeq).toBe(3);
    expect(b.invalidateSeq).toBe(3);
    expect(mm.notifierSubscriptions!.intervals()).toEqual([b, a]);
    expectErrno(() => mmuIntervalReadBegin(b), 'EDEADLK');
    mmuNotifierInvalidateRangeEnd(range);
    expect(mmuIntervalReadBegin(b)).toBe(3);
  });

  it('a remove during an invalidation takes effect at its end; a deferred insert is just dropped', async () => {
    const mm = newMm();
    const calls: Call[] = [];
    const a = new MmuIntervalNotifier();
    mmuIntervalNotifierInsert(a, mm, 0, 0x1000, recorder(calls));
    const range = mmuNotifierRangeInit(MMU_NOTIFY_CLEAR, 0, mm, 0, 0x1000);
    mmuNotifierInvalidateRangeStart(range);
    const b = new MmuIntervalNotifier();
    mmuIntervalNotifierInsert(b, mm, 0, 0x1000, recorder(calls));
    mmuIntervalNotifierRemove(b);
    mmuIntervalNotifierRemove(a);
    const subs = mm.notifierSubscriptions!;
    expect(subs.intervals()).toEqual([a]);
    expect(subs.deferred()).toEqual([a]);
    let woke = false;
    const wait = mmuIntervalNotifierRemoveWait(mm).then(() => {
      woke = true;
    });
    await Promise.resolve();
    expect(woke).toBe(false);
    mmuNotifierInvalidateRangeEnd(range);
    await wait;
    expect(woke).toBe(true);
    expect(subs.intervals()).toEqual([]);
    expectErrno(() => mmuIntervalNotifierRemove(a), 'EINVAL');
  });

  it('mmu_interval_read_begin sleeps until the invalidation ends', async () => {
    const mm = newMm();
    const a = new MmuIntervalNotifier();
    mmuIntervalNotifierInsert(a, mm, 0, 0x1000, recorder([]));
    const range = mmuNotifierRangeInit(MMU_NOTIFY_CLEAR, 0, mm, 0, 0x1000);
    mmuNotifierInvalidateRangeStart(range);
    let got: number | null = null;
    const p = mmuIntervalReadBeginAsync(a).then((s) => {
      got = s;
    });
    await Promise.resolve();
    expect(got).toBe(null);
    mmuNotifierInvalidateRangeEnd(range);
    await p;
    expect(got).toBe(3);
    expect(mmuIntervalReadRetry(a, 3)).toBe(false);
  });
});

describe('munmap notifies MMU_NOTIFY_UNMAP', () => {
  it('over the unmapped range, only when something was mapped', () => {
    const mm = new MmStruct(1);
    const addr = mm.mmap({ length: 0x4000, prot: PROT_READ + PROT_WRITE, flags: MAP_PRIVATE + MAP_ANONYMOUS });
    const calls: Call[] = [];
    const sub = new MmuIntervalNotifier();
    mmuIntervalNotifierInsert(sub, mm, addr, 0x4000, recorder(calls));
    mm.munmap(addr - 0x10000, 0x1000);
    expect(calls).toEqual([]);
    mm.munmap(addr + 0x1000, 0x1000);
    expect(calls).toEqual([{ sub, event: MMU_NOTIFY_UNMAP, start: addr + 0x1000, end: addr + 0x2000, curSeq: 3, blockable: true }]);
    expect(mm.notifierSubscriptions!.invalidateSeq).toBe(4);
  });
});
