// mm/hmm.c at v5.13: hmm_range_fault()'s walk, its need-fault rule, its
// errors, and the driver retry loop of Documentation/vm/hmm.rst.
import { isKernelError } from '@zonedev/kernel';
import type { MmStruct } from '@zonedev/mm';
import {
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  MmuIntervalNotifier,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  mmuIntervalNotifierInsert,
  mmuIntervalReadBegin,
  mmuIntervalReadRetry,
  mmuIntervalSetSeq,
  userRead,
  userWrite,
} from '@zonedev/mm';
import { describe, expect, it } from 'vitest';
import type { HmmRange } from '../src/index.js';
import {
  HMM_DMIRROR_MIGRATE,
  HMM_PFN_ERROR,
  HMM_PFN_REQ_FAULT,
  HMM_PFN_REQ_WRITE,
  HMM_PFN_VALID,
  HMM_PFN_WRITE,
  hmmPfn,
  hmmPfnToPage,
  hmmRangeFault,
} from '../src/index.js';
import type { Machine } from './machine.js';
import { bootWithTestHmm, newMm } from './machine.js';

const P = 4096;

function errnoOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isKernelError(e)) return e.errno;
    throw e;
  }
  return 'none';
}

/** A mirror of the whole address space whose invalidate only bumps the sequence (dmirror's snapshot notifier). */
function mirror(mm: MmStruct): MmuIntervalNotifier {
  const sub = new MmuIntervalNotifier();
  mmuIntervalNotifierInsert(sub, mm, 0, 2n ** 47n, { invalidate: (s, _r, seq) => (mmuIntervalSetSeq(s, seq), true) });
  return sub;
}

function range(sub: MmuIntervalNotifier, start: number, npages: number, defaultFlags = 0n, owner: unknown = null): HmmRange {
  return {
    notifier: sub,
    notifierSeq: mmuIntervalReadBegin(sub),
    start,
    end: start + npages * P,
    hmmPfns: new BigUint64Array(npages),
    defaultFlags,
    pfnFlagsMask: 0n,
    devPrivateOwner: owner,
  };
}

function setup(): { m: Machine; mm: MmStruct; sub: MmuIntervalNotifier; a: number } {
  const m = bootWithTestHmm();
  const mm = newMm(m);
  const sub = mirror(mm);
  const a = mm.mmap({ length: 8 * P, prot: PROT_READ + PROT_WRITE, flags: MAP_PRIVATE + MAP_ANONYMOUS });
  return { m, mm, sub, a };
}

describe('hmm_range_fault() without fault requests (a snapshot)', () => {
  it('reports none as 0, the zero page as a valid read-only pfn, a written page as valid and writable, no vma as ERROR', () => {
    const { m, mm, sub, a } = setup();
    userRead(mm, a + P, 1); // the zero page
    userWrite(mm, a + 2 * P, new Uint8Array([1]));
    const pte = mm.pgd!.get(a + 2 * P)!;
    const r = range(sub, a - P, 4);
    hmmRangeFault(r);
    expect([...r.hmmPfns]).toEqual([HMM_PFN_ERROR, 0n, hmmPfn(m.sys.zeroPfn, HMM_PFN_VALID), hmmPfn(pte.kind === 'present' ? pte.pfn : -1, HMM_PFN_VALID + HMM_PFN_WRITE)]);
    expect(hmmPfnToPage(r.hmmPfns[2]!)).toBe(m.sys.zeroPfn);
  });

  it('a PROT_NONE vma is ERROR for every page (hmm_vma_walk_test)', () => {
    const { mm, sub, a } = setup();
    mm.mprotect(a, 2 * P, PROT_NONE);
    const r = range(sub, a, 3);
    hmmRangeFault(r);
    expect([...r.hmmPfns]).toEqual([HMM_PFN_ERROR, HMM_PFN_ERROR, 0n]);
  });
});

describe('hmm_range_fault() with requests', () => {
  it('faults absent pages in: a read fault maps the zero page, a write fault a new page, and nothing is invalidated', () => {
    const { m, mm, sub, a } = setup();
    const r = range(sub, a, 2, HMM_PFN_REQ_FAULT);
    hmmRangeFault(r);
    expect([...r.hmmPfns]).toEqual([hmmPfn(m.sys.zeroPfn, HMM_PFN_VALID), hmmPfn(m.sys.zeroPfn, HMM_PFN_VALID)]);
    const w = range(sub, a + 4 * P, 2, HMM_PFN_REQ_FAULT + HMM_PFN_REQ_WRITE);
    hmmRangeFault(w);
    for (const e of w.hmmPfns) expect(e / HMM_PFN_WRITE % 4n).toBe(3n); // VALID and WRITE
    expect(mm.getMmRss()).toBe(2);
  });

  it('a write request on the zero page COWs it under MMU_NOTIFY_CLEAR: -EBUSY, and the hmm.rst loop then succeeds', () => {
    const { mm, sub, a } = setup();
    userRead(mm, a, 1);
    const r = range(sub, a, 1, HMM_PFN_REQ_FAULT + HMM_PFN_REQ_WRITE);
    expect(errnoOf(() => hmmRangeFault(r))).toBe('EBUSY');
    let tries = 0;
    for (;;) {
      tries++;
      r.notifierSeq = mmuIntervalReadBegin(sub);
      try {
        hmmRangeFault(r);
      } catch (e) {
        if (isKernelError(e) && e.errno === 'EBUSY') continue;
        throw e;
      }
      if (mmuIntervalReadRetry(sub, r.notifierSeq)) continue;
      break;
    }
    expect(tries).toBe(1);
    expect(r.hmmPfns[0]! / HMM_PFN_WRITE % 4n).toBe(3n);
  });

  it('-EBUSY comes first when the sequence changed before the call, whatever the range', () => {
    const { mm, sub, a } = setup();
    const r = range(sub, a, 1);
    mm.munmap(a + 7 * P, P); // an invalidation somewhere in the subscription
    expect(errnoOf(() => hmmRangeFault(r))).toBe('EBUSY');
    expect(r.hmmPfns[0]).toBe(0n);
  });

  it('-EFAULT for a fault where there is no vma or a PROT_NONE vma; -EPERM for a write to a read-only vma', () => {
    const { mm, sub, a } = setup();
    expect(errnoOf(() => hmmRangeFault(range(sub, a - P, 2, HMM_PFN_REQ_FAULT)))).toBe('EFAULT');
    mm.mprotect(a, P, PROT_NONE);
    expect(errnoOf(() => hmmRangeFault(range(sub, a, 1, HMM_PFN_REQ_FAULT)))).toBe('EFAULT');
    mm.mprotect(a + P, P, PROT_READ);
    const r = range(sub, a + P, 1, HMM_PFN_REQ_FAULT + HMM_PFN_REQ_WRITE);
    expect(errnoOf(() => hmmRangeFault(r))).toBe('EPERM');
    // the page was not faulted in, the entry still holds its (zero) request
    expect(mm.pgd!.get(a + P)).toBeUndefined();
    expect(r.hmmPfns[0]).toBe(0n);
  });

  it('per-page requests through pfn_flags_mask (hmm.rst): only the page asking for write is made writable', () => {
    const { mm, sub, a } = setup();
    userRead(mm, a, 2 * P);
    const r = range(sub, a, 2, HMM_PFN_REQ_FAULT);
    r.pfnFlagsMask = HMM_PFN_REQ_WRITE;
    r.hmmPfns[1] = HMM_PFN_REQ_WRITE;
    for (;;) {
      r.notifierSeq = mmuIntervalReadBegin(sub);
      try {
        hmmRangeFault(r);
        break;
      } catch (e) {
        if (!(isKernelError(e) && e.errno === 'EBUSY')) throw e;
      }
    }
    expect(r.hmmPfns[0]! / HMM_PFN_WRITE % 4n).toBe(2n); // VALID only
    expect(r.hmmPfns[1]! / HMM_PFN_WRITE % 4n).toBe(3n); // VALID and WRITE
  });

  it('refuses an empty or unaligned range and a short array with -EINVAL', () => {
    const { sub, a } = setup();
    expect(errnoOf(() => hmmRangeFault({ ...range(sub, a, 1), end: a }))).toBe('EINVAL');
    expect(errnoOf(() => hmmRangeFault({ ...range(sub, a, 1), start: a + 1 }))).toBe('EINVAL');
    expect(errnoOf(() => hmmRangeFault({ ...range(sub, a, 2), hmmPfns: new BigUint64Array(1) }))).toBe('EINVAL');
  });
});

describe('device-private entries', () => {
  it('are reported to their owner without faulting (VALID|WRITE), 0 to others without a request, -EFAULT to others with one', () => {
    const { m, mm, a } = setup();
    userWrite(mm, a, new Uint8Array(P).fill(7));
    const f = m.testHmm.open(0, mm);
    const buf = mm.mmap({ length: P, prot: PROT_READ + PROT_WRITE, flags: MAP_PRIVATE + MAP_ANONYMOUS });
    f.ioctl(HMM_DMIRROR_MIGRATE, { addr: BigInt(a), ptr: BigInt(buf), npages: 1n, cpages: 0n, faults: 0n });
    const sub = mirror(mm);
    const dev0 = m.testHmm.devices[0]!;
    const own = range(sub, a, 1, HMM_PFN_REQ_FAULT, dev0);
    hmmRangeFault(own);
    const dpage = hmmPfnToPage(own.hmmPfns[0]!);
    expect(dev0.ownsPfn(dpage)).toBe(true);
    expect(own.hmmPfns[0]).toBe(hmmPfn(dpage, HMM_PFN_VALID + HMM_PFN_WRITE));
    const other = range(sub, a, 1, 0n, m.testHmm.devices[1]);
    hmmRangeFault(other);
    expect(other.hmmPfns[0]).toBe(0n);
    expect(errnoOf(() => hmmRangeFault(range(sub, a, 1, HMM_PFN_REQ_FAULT, m.testHmm.devices[1])))).toBe('EFAULT');
    // still on the device
    expect(mm.pgd!.get(a)!.kind).toBe('swap');
  });
});

describe('the snapshot walk', () => {
  it('gives the same entries whether or not a fault could have been requested', () => {
    const { m, mm, sub, a } = setup();
    userRead(mm, a, 2 * P);
    userWrite(mm, a + 3 * P, new Uint8Array(P).fill(9));
    mm.mprotect(a + 5 * P, P, PROT_READ);
    const f = m.testHmm.open(0, mm);
    const buf = mm.mmap({ length: P, prot: PROT_READ + PROT_WRITE, flags: MAP_PRIVATE + MAP_ANONYMOUS });
    userWrite(mm, a + 6 * P, new Uint8Array(P).fill(4));
    f.ioctl(HMM_DMIRROR_MIGRATE, { addr: BigInt(a + 6 * P), ptr: BigInt(buf), npages: 1n, cpages: 0n, faults: 0n });
    const fast = range(sub, a - P, 10, 0n, m.testHmm.devices[0]);
    hmmRangeFault(fast);
    // REQ_FAULT in the mask with no entry asking for it: the walk that can fault, faulting nothing
    const slow = range(sub, a - P, 10, 0n, m.testHmm.devices[0]);
    slow.pfnFlagsMask = HMM_PFN_REQ_FAULT;
    hmmRangeFault(slow);
    expect([...slow.hmmPfns]).toEqual([...fast.hmmPfns]);
    expect(fast.hmmPfns[0]! / HMM_PFN_WRITE % 4n).toBe(3n); // the mirror buffer below, written by the copy back
    expect(fast.hmmPfns[1]).toBe(hmmPfn(m.sys.zeroPfn, HMM_PFN_VALID));
    expect(fast.hmmPfns[6]).toBe(0n); // PROT_READ, never touched
    expect(fast.hmmPfns[7]! / HMM_PFN_WRITE % 4n).toBe(3n); // the device page, VALID|WRITE
    expect(fast.hmmPfns[9]).toBe(HMM_PFN_ERROR); // above the vma
  });
});
