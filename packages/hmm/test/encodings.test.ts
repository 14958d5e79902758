// include/linux/hmm.h and include/linux/migrate.h at v5.13: bit positions,
// helpers and migrate_vma_setup()'s argument rules.
import { isKernelError } from '@zonedev/kernel';
import { MAP_ANONYMOUS, MAP_PRIVATE, MmStruct, PROT_READ, PROT_WRITE, VM_HUGETLB, VM_IO, VM_MIXEDMAP, VM_PFNMAP } from '@zonedev/mm';
import { describe, expect, it } from 'vitest';
import { bootMachine, newMm } from './machine.js';
import type { MigrateVma } from '../src/index.js';
import {
  HMM_PFN_ERROR,
  HMM_PFN_FLAGS,
  HMM_PFN_ORDER_SHIFT,
  HMM_PFN_REQ_FAULT,
  HMM_PFN_REQ_WRITE,
  HMM_PFN_VALID,
  HMM_PFN_WRITE,
  HMM_RANGE_DEFAULT_TIMEOUT,
  MIGRATE_PFN_LOCKED,
  MIGRATE_PFN_MIGRATE,
  MIGRATE_PFN_SHIFT,
  MIGRATE_PFN_VALID,
  MIGRATE_PFN_WRITE,
  MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
  MIGRATE_VMA_SELECT_SYSTEM,
  hmmPfn,
  hmmPfnToMapOrder,
  hmmPfnToPage,
  hmmPteNeedFault,
  migratePfn,
  migratePfnClear,
  migratePfnHas,
  migratePfnSet,
  migratePfnToPage,
  migrateVmaSetupCheck,
} from '../src/index.js';

function errnoOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isKernelError(e)) return e.errno;
    throw e;
  }
  return 'none';
}

describe('include/linux/hmm.h', () => {
  it('flags are bits 63, 62, 61, the order sits at bit 56, the requests alias VALID and WRITE', () => {
    expect(HMM_PFN_VALID).toBe(0x8000000000000000n);
    expect(HMM_PFN_WRITE).toBe(0x4000000000000000n);
    expect(HMM_PFN_ERROR).toBe(0x2000000000000000n);
    expect(HMM_PFN_ORDER_SHIFT).toBe(56);
    expect(HMM_PFN_FLAGS).toBe(0xff00000000000000n);
    expect(HMM_PFN_REQ_FAULT).toBe(HMM_PFN_VALID);
    expect(HMM_PFN_REQ_WRITE).toBe(HMM_PFN_WRITE);
    expect(HMM_RANGE_DEFAULT_TIMEOUT).toBe(1000);
  });

  it('hmm_pfn_to_page strips the top byte; hmm_pfn_to_map_order reads 5 bits at 56', () => {
    const e = hmmPfn(0x3ffff0000, HMM_PFN_VALID + HMM_PFN_WRITE, 9);
    expect(e).toBe(0xc9000003ffff0000n);
    expect(hmmPfnToPage(e)).toBe(0x3ffff0000);
    expect(hmmPfnToMapOrder(e)).toBe(9);
    expect(hmmPfnToMapOrder(hmmPfn(5, HMM_PFN_VALID, 18))).toBe(18);
    expect(hmmPfnToMapOrder(HMM_PFN_ERROR)).toBe(0);
    // The order field is 5 bits: bit 61 (ERROR) is not part of it.
    expect(hmmPfnToMapOrder(HMM_PFN_ERROR + 0x1f00000000000000n)).toBe(31);
    expect(errnoOf(() => hmmPfnToPage(-1n))).toBe('EINVAL');
    expect(errnoOf(() => hmmPfnToPage(2n ** 64n))).toBe('EINVAL');
    expect(errnoOf(() => hmmPfn(1, 0n, 32))).toBe('EINVAL');
  });

  it('hmm_pte_need_fault: no REQ_FAULT, no fault; REQ_WRITE on a read-only page, a write fault; absent, a read fault', () => {
    const none = 0n;
    const ro = HMM_PFN_VALID;
    const rw = HMM_PFN_VALID + HMM_PFN_WRITE;
    expect(hmmPteNeedFault(0n, 0n, 0n, none)).toEqual({ fault: false, write: false });
    expect(hmmPteNeedFault(0n, HMM_PFN_REQ_FAULT, 0n, none)).toEqual({ fault: true, write: false });
    expect(hmmPteNeedFault(0n, HMM_PFN_REQ_FAULT, 0n, ro)).toEqual({ fault: false, write: false });
    expect(hmmPteNeedFault(0n, HMM_PFN_REQ_FAULT + HMM_PFN_REQ_WRITE, 0n, ro)).toEqual({ fault: true, write: true });
    expect(hmmPteNeedFault(0n, HMM_PFN_REQ_FAULT + HMM_PFN_REQ_WRITE, 0n, none)).toEqual({ fault: true, write: true });
    expect(hmmPteNeedFault(0n, HMM_PFN_REQ_FAULT + HMM_PFN_REQ_WRITE, 0n, rw)).toEqual({ fault: false, write: false });
    // REQ_WRITE alone (no REQ_FAULT) faults nothing.
    expect(hmmPteNeedFault(0n, HMM_PFN_REQ_WRITE, 0n, ro)).toEqual({ fault: false, write: false });
    // Documentation/vm/hmm.rst's per-page write: default REQ_FAULT, mask REQ_WRITE, the entry asks for write.
    expect(hmmPteNeedFault(HMM_PFN_REQ_WRITE, HMM_PFN_REQ_FAULT, HMM_PFN_REQ_WRITE, ro)).toEqual({ fault: true, write: true });
    // The input is masked: without REQ_WRITE in pfn_flags_mask the per-page request is ignored.
    expect(hmmPteNeedFault(HMM_PFN_REQ_WRITE, HMM_PFN_REQ_FAULT, 0n, ro)).toEqual({ fault: false, write: false });
  });
});

describe('include/linux/migrate.h', () => {
  it('MIGRATE_PFN_* are bits 0-3 with the pfn at bit 6; select flags are 1 and 2', () => {
    expect([MIGRATE_PFN_VALID, MIGRATE_PFN_MIGRATE, MIGRATE_PFN_LOCKED, MIGRATE_PFN_WRITE, MIGRATE_PFN_SHIFT]).toEqual([1, 2, 4, 8, 6]);
    expect([MIGRATE_VMA_SELECT_SYSTEM, MIGRATE_VMA_SELECT_DEVICE_PRIVATE]).toEqual([1, 2]);
  });

  it('migrate_pfn() and migrate_pfn_to_page()', () => {
    const pfn = 0x3fff0000f; // a pfn high in a 46-bit space
    const m = migratePfn(pfn);
    expect(m).toBe(pfn * 64 + 1);
    expect(migratePfnToPage(m)).toBe(pfn);
    const full = migratePfnSet(migratePfnSet(migratePfnSet(m, MIGRATE_PFN_MIGRATE), MIGRATE_PFN_LOCKED), MIGRATE_PFN_WRITE);
    expect(full).toBe(pfn * 64 + 15);
    expect(migratePfnToPage(full)).toBe(pfn);
    expect(migratePfnHas(full, MIGRATE_PFN_WRITE)).toBe(true);
    expect(migratePfnClear(full, MIGRATE_PFN_MIGRATE)).toBe(pfn * 64 + 13);
    // A hole: MIGRATE alone, no page.
    expect(migratePfnToPage(MIGRATE_PFN_MIGRATE)).toBeUndefined();
    expect(migratePfnToPage(0)).toBeUndefined();
    expect(errnoOf(() => migratePfn(-1))).toBe('EINVAL');
    expect(errnoOf(() => migratePfn(2 ** 48))).toBe('EINVAL');
  });
});

describe('migrate_vma_setup() argument checks (v5.13: -EINVAL only)', () => {
  const mm = newMm(bootMachine());
  const start = mm.mmap({ length: 16 * 4096, prot: PROT_READ + PROT_WRITE, flags: MAP_PRIVATE + MAP_ANONYMOUS });
  const vma = mm.findVma(start)!;
  const args = (over: Partial<MigrateVma> = {}): MigrateVma => ({
    vma,
    src: new Array<number>(16).fill(0),
    dst: new Array<number>(16).fill(0),
    cpages: 0,
    npages: 0,
    start,
    end: start + 16 * 4096,
    pgmapOwner: 'owner',
    flags: MIGRATE_VMA_SELECT_SYSTEM,
    ...over,
  });

  it('accepts a range inside the vma, flags 0 included, and rounds start and end down to a page', () => {
    expect(migrateVmaSetupCheck(args())).toBe(16);
    expect(migrateVmaSetupCheck(args({ flags: 0 }))).toBe(16);
    const a = args({ start: start + 100, end: start + 3 * 4096 + 200 });
    // nr_pages is computed before the rounding: (3*4096 + 100) >> 12 = 3.
    expect(migrateVmaSetupCheck(a)).toBe(3);
    expect([a.start, a.end]).toEqual([start, start + 3 * 4096]);
  });

  it.each([
    ['no vma', { vma: null }],
    ['empty range', { end: start }],
    ['end below start', { start: start + 4096, end: start }],
    ['less than a page', { end: start + 4095 }],
    ['start below the vma', { start: start - 4096, end: start + 4096 }],
    ['end beyond the vma', { end: start + 17 * 4096 }],
    ['no src', { src: null }],
    ['no dst', { dst: null }],
  ] as [string, Partial<MigrateVma>][])('%s: -EINVAL, args untouched', (_name, over) => {
    const a = args(over);
    const before = { ...a };
    expect(errnoOf(() => migrateVmaSetupCheck(a))).toBe('EINVAL');
    expect(a).toEqual(before);
  });

  it.each([
    ['VM_HUGETLB', VM_HUGETLB],
    ['VM_IO', VM_IO],
    ['VM_PFNMAP', VM_PFNMAP],
    ['VM_MIXEDMAP', VM_MIXEDMAP],
  ])('a %s vma: -EINVAL', (_name, flag) => {
    const saved = vma.vmFlags;
    vma.vmFlags = saved + flag;
    try {
      expect(errnoOf(() => migrateVmaSetupCheck(args()))).toBe('EINVAL');
    } finally {
      vma.vmFlags = saved;
    }
  });

  it('arrays shorter than the range would be overrun in C: -EINVAL, args untouched', () => {
    const a = args({ src: [0] });
    const before = { ...a };
    expect(errnoOf(() => migrateVmaSetupCheck(a))).toBe('EINVAL');
    expect(a).toEqual(before);
  });

  it('a vma of an address space without page tables, or one no longer mapped: -EINVAL', () => {
    const bare = new MmStruct(2);
    const b = bare.mmap({ length: 4096, prot: PROT_READ, flags: MAP_PRIVATE + MAP_ANONYMOUS });
    expect(errnoOf(() => migrateVmaSetupCheck(args({ vma: bare.findVma(b), start: b, end: b + 4096 })))).toBe('EINVAL');
    const gone = mm.mmap({ length: 4096, prot: PROT_READ, flags: MAP_PRIVATE + MAP_ANONYMOUS });
    const stale = mm.findVma(gone)!;
    mm.munmap(gone, 4096);
    expect(errnoOf(() => migrateVmaSetupCheck(args({ vma: stale, start: gone, end: gone + 4096 })))).toBe('EINVAL');
  });
});
