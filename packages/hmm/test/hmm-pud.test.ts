// hmm_vma_walk_pud() (mm/hmm.c, Linux v5.13): a 1 GiB devmap PUD leaf — what
// device-dax with a 1 GiB align maps — is reported as one entry per base page
// with order PUD_SHIFT - PAGE_SHIFT (18), VALID, and WRITE when the leaf is
// writable (a MAP_SHARED writable mapping's vm_page_prot is PAGE_SHARED, so
// even a read fault maps it writable); a write request on a read-only
// mapping is EPERM, and an empty PUD is a hole.
import { isKernelError } from '@zonedev/kernel';
import {
  FAULT_FLAG_WRITE,
  MAP_SHARED,
  MmuIntervalNotifier,
  PE_SIZE_PUD,
  PROT_READ,
  PROT_WRITE,
  VM_FAULT_FALLBACK,
  VM_HUGEPAGE,
  mmuIntervalNotifierInsert,
  mmuIntervalReadBegin,
  mmuIntervalSetSeq,
  vmfInsertPfnPud,
} from '@zonedev/mm';
import type { MmapFile, MmStruct, Vma, VmFault } from '@zonedev/mm';
import { describe, expect, it } from 'vitest';
import { HMM_PFN_REQ_FAULT, HMM_PFN_REQ_WRITE, HMM_PFN_VALID, HMM_PFN_WRITE, hmmPfn, hmmPfnToMapOrder, hmmPfnToPage, hmmRangeFault } from '../src/index.js';
import type { HmmRange } from '../src/index.js';
import { bootMachine, newMm } from './machine.js';

const P = 4096;
const GiB = 2 ** 30;
/** PFN_DEV | PFN_MAP (include/linux/pfn_t.h). */
const PFN_DEV_MAP = 2n ** 61n + 2n ** 60n;
/** A PUD-aligned run of pfns of device memory above the machine's RAM. */
const BASE = (64 * GiB) / P;

/** A device-dax-like driver whose huge_fault maps whole 1 GiB PUD leaves. */
function pudFile(faults: number[]): MmapFile {
  const ops: Vma['vmOps'] = {
    hugeFault: (vmf: VmFault, pe: number) => {
      if (pe !== PE_SIZE_PUD) return VM_FAULT_FALLBACK;
      faults.push(vmf.flags);
      const off = vmf.address - (vmf.address % GiB) - vmf.vma.vmStart;
      return vmfInsertPfnPud(vmf, { pfn: BASE + off / P, flags: PFN_DEV_MAP }, vmf.flags % (2 * FAULT_FLAG_WRITE) >= FAULT_FLAG_WRITE);
    },
    fault: () => VM_FAULT_FALLBACK,
    pagesize: () => GiB,
  };
  return {
    path: '/dev/dax9.0', devMajor: 0, devMinor: 5, ino: 9, readable: true, writable: true, dax: true,
    mmap: (v: Vma) => {
      // dax_mmap(): VM_HUGEPAGE, no VM_MIXEDMAP (vm_mixed_ok() takes devmap pfns), so hmm may walk it
      v.vmFlags += VM_HUGEPAGE;
      v.vmOps = ops;
      return 0;
    },
  };
}

function mirror(mm: MmStruct): MmuIntervalNotifier {
  const sub = new MmuIntervalNotifier();
  mmuIntervalNotifierInsert(sub, mm, 0, 2n ** 47n, { invalidate: (s, _r, seq) => (mmuIntervalSetSeq(s, seq), true) });
  return sub;
}

function range(sub: MmuIntervalNotifier, start: number, npages: number, defaultFlags: bigint): HmmRange {
  return {
    notifier: sub, notifierSeq: mmuIntervalReadBegin(sub), start, end: start + npages * P,
    hmmPfns: new BigUint64Array(npages), defaultFlags, pfnFlagsMask: 0n, devPrivateOwner: null,
  };
}

function setup(prot = PROT_READ + PROT_WRITE) {
  const m = bootMachine();
  const mm = newMm(m);
  const faults: number[] = [];
  const va = mm.mmap({ addr: 0x7f0000000000, length: 2 * GiB, prot, flags: MAP_SHARED + 0x10 /* MAP_FIXED */, file: pudFile(faults) });
  return { m, mm, va, faults, sub: mirror(mm) };
}

describe('hmm_vma_walk_pud', () => {
  it('faults a 1 GiB leaf in on request and reports each base page with order 18', () => {
    const { mm, va, faults, sub } = setup();
    const r = range(sub, va + GiB - 4 * P, 8, HMM_PFN_REQ_FAULT);
    hmmRangeFault(r);
    // two PUDs touched: the end of the first leaf and the start of the second
    expect(faults.length).toBe(2);
    expect(mm.pgd!.nrPudLeaves).toBe(2);
    const pages = [...r.hmmPfns].map(hmmPfnToPage);
    expect(pages).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => BASE + GiB / P - 4 + i));
    for (const e of r.hmmPfns) expect(hmmPfnToMapOrder(e)).toBe(18);
    expect([...r.hmmPfns]).toEqual(pages.map((p) => hmmPfn(p, HMM_PFN_VALID + HMM_PFN_WRITE, 18)));
  });

  it('a read-only mapping reports VALID only, a snapshot afterwards needs no fault, and a write request is EPERM', () => {
    const { va, faults, sub } = setup(PROT_READ);
    const r = range(sub, va, 4, HMM_PFN_REQ_FAULT);
    hmmRangeFault(r);
    expect(faults.length).toBe(1);
    expect([...r.hmmPfns]).toEqual([0, 1, 2, 3].map((i) => hmmPfn(BASE + i, HMM_PFN_VALID, 18)));
    const snap = range(sub, va + 8 * P, 2, 0n);
    hmmRangeFault(snap);
    expect(faults.length).toBe(1);
    expect([...snap.hmmPfns].map(hmmPfnToPage)).toEqual([BASE + 8, BASE + 9]);
    let err: unknown;
    try {
      hmmRangeFault(range(sub, va, 1, HMM_PFN_REQ_FAULT + HMM_PFN_REQ_WRITE));
    } catch (e) {
      err = e;
    }
    expect(isKernelError(err) && err.errno).toBe('EPERM');
    expect(faults.length).toBe(1);
  });

  it('an empty PUD is a hole: 0 without a request, a fault with one; a snapshot of it changes nothing', () => {
    const { mm, va, faults, sub } = setup();
    const r = range(sub, va + GiB, 2, 0n);
    hmmRangeFault(r);
    expect([...r.hmmPfns]).toEqual([0n, 0n]);
    expect(faults.length).toBe(0);
    expect(mm.pgd!.nrPudLeaves).toBe(0);
    let err: unknown;
    try {
      hmmRangeFault(range(sub, va + 2 * GiB, 1, HMM_PFN_REQ_FAULT));
    } catch (e) {
      err = e;
    }
    expect(isKernelError(err) && err.errno).toBe('EFAULT'); // past the VMA: no vma
  });
});
