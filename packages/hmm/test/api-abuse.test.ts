/**
 * API abuse: every public entry of hmm_range_fault(), migrate_vma_setup(),
 * migrate_vma_pages(), migrate_vma_finalize() and the dmirror device
 * (open, the four ioctls, page_free, migrate_to_ram, invalidate) called with
 * what no correct caller passes — NaN, infinities, negatives, fractions,
 * integers beyond 2^53, 2^64, undefined, null, strings, objects, unaligned
 * and empty ranges, end below start, the wrong VMA, the wrong owner, arrays
 * that are missing or too short, entries naming pages that are not locked
 * or have no struct page, a second finalize. Each answer is v5.13's errno
 * where v5.13 has one (mm/hmm.c, mm/migrate.c, lib/test_hmm.c), -EINVAL
 * where C could not even express the call, and a KernelBug where v5.13
 * would hit `VM_BUG_ON_PAGE`; and the machine — page tables, reference and
 * map counts, page locks, rss, page contents, the mirror page tables and
 * notifier sequences, iomem, free pages, the devices' free lists — is
 * exactly as it was.
 *
 * The last block is driven by the committed API report (etc/hmm.api.md):
 * every function, constructor and method it lists has an entry, and each is
 * called with each of the test kit's bad values in each parameter; a new
 * export without an entry fails its coverage test.
 */
import { isKernelBug, isKernelError } from '@zonedev/kernel';
import { GFP_HIGHUSER } from '@zonedev/mmzone';
import type { Pte, Vma } from '@zonedev/mm';
import {
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  MM_ANONPAGES,
  MM_SWAPENTS,
  MmStruct,
  MmuIntervalNotifier,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  devicePrivateEntryToPfn,
  isDevicePrivateEntry,
  isMigrationEntry,
  migrationEntryToPfn,
  mmuIntervalNotifierInsert,
  mmuIntervalReadBegin,
  mmuIntervalSetSeq,
  userRead,
  userWrite,
} from '@zonedev/mm';
import type { Dmirror, HmmDmirrorCmd, HmmRange, HmmTestsTask, MigrateVma } from '@zonedev/hmm';
import * as api from '@zonedev/hmm';
import {
  HMM_DMIRROR_MIGRATE,
  HMM_DMIRROR_READ,
  HMM_DMIRROR_SNAPSHOT,
  HMM_DMIRROR_WRITE,
  HMM_PFN_REQ_FAULT,
  HMM_PFN_REQ_WRITE,
  MIGRATE_PFN_LOCKED,
  MIGRATE_PFN_MIGRATE,
  MIGRATE_PFN_WRITE,
  MIGRATE_VMA_SELECT_SYSTEM,
  decodeHmmDmirrorCmd,
  encodeHmmDmirrorCmd,
  hmmPfn,
  hmmPfnToMapOrder,
  hmmPfnToPage,
  hmmPteNeedFault,
  hmmRangeFault,
  lockPage,
  migratePfn,
  migratePfnClear,
  migratePfnHas,
  migratePfnSet,
  migratePfnToPage,
  migrateVmaFinalize,
  migrateVmaPages,
  migrateVmaSetup,
  pageLocked,
  trylockPage,
  unlockPage,
} from '@zonedev/hmm';
import { readFileSync } from 'node:fs';
import { abuse, reportEntries } from '@zonedev/test-kit';
import type { Spec } from '@zonedev/test-kit';
import { describe, expect, it } from 'vitest';
import { bootWithTestHmm, newMm, snapshot } from './machine.js';
import type { Machine } from './machine.js';

const P = 4096;
const RW = PROT_READ + PROT_WRITE;
const ANON = MAP_PRIVATE + MAP_ANONYMOUS;
const BAD: readonly unknown[] = [NaN, Infinity, -Infinity, -1, 1.5, 2 ** 53 + 2, 2 ** 64, undefined, null, '4096', {}];
const n = (x: unknown): number => x as number;

/** The errno of a refusal, 'BUG' for a KernelBug, 'ok' when the call returned. */
function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isKernelError(e)) return e.errno;
    if (isKernelBug(e)) return 'BUG';
    return `not a KernelError: ${String(e)}`;
  }
  return 'ok';
}

/**
 * The machine every case starts from: one process with
 *   a:    8 RW pages: 0-3 written (1..4), 4 the zero page, 5-6 migrated to
 *         device 0, 7 never touched;
 *   ro:   2 read-only pages (zero page);
 *   none: 1 PROT_NONE page;
 *   buf:  16 RW pages, written (the ioctls' user buffer);
 *   gap:  1 page mapped and unmapped again (no VMA), below buf, above
 *         one more page;
 * and /dev/hmm_dmirror0 (f0, mirroring pages 0-3 and, migrated, 5-6) and
 * /dev/hmm_dmirror1 (f1) open on it.
 */
interface Scene {
  m: Machine;
  mm: MmStruct;
  a: number;
  ro: number;
  none: number;
  gap: number;
  buf: number;
  f0: Dmirror;
  f1: Dmirror;
}

function scene(): Scene {
  const m = bootWithTestHmm();
  const mm = newMm(m);
  const a = mm.mmap({ length: 8 * P, prot: RW, flags: ANON });
  const ro = mm.mmap({ length: 2 * P, prot: PROT_READ, flags: ANON });
  const none = mm.mmap({ length: P, prot: PROT_NONE, flags: ANON });
  const buf = mm.mmap({ length: 16 * P, prot: RW, flags: ANON });
  const gap = mm.mmap({ length: P, prot: RW, flags: ANON });
  mm.mmap({ length: P, prot: RW, flags: ANON });
  mm.munmap(gap, P);
  userWrite(mm, buf, new Uint8Array(16 * P).fill(0xee));
  for (let i = 0; i < 4; i++) userWrite(mm, a + i * P, new Uint8Array(P).fill(i + 1));
  userRead(mm, a + 4 * P, 1);
  userRead(mm, ro, 2 * P);
  userWrite(mm, a + 5 * P, new Uint8Array(2 * P).fill(0x55));
  const f0 = m.testHmm.open(0, mm);
  const f1 = m.testHmm.open(1, mm);
  f0.ioctl(HMM_DMIRROR_MIGRATE, cmd(a + 5 * P, buf, 2));
  f0.ioctl(HMM_DMIRROR_READ, cmd(a, buf, 4));
  return { m, mm, a, ro, none, gap, buf, f0, f1 };
}

function cmd(addr: number, ptr: number, npages: number): HmmDmirrorCmd {
  return { addr: BigInt(addr), ptr: BigInt(ptr), npages: BigInt(npages), cpages: 0n, faults: 0n };
}

function describePte(pte: Pte): unknown {
  if (pte.kind === 'present') return { pfn: pte.pfn, flags: pte.flags };
  return { entry: String(pte.entry) };
}

/** The pfn an entry names (present page, device-private or migration entry), if any. */
function pfnOf(pte: Pte): number | undefined {
  if (pte.kind === 'present') return pte.pfn;
  if (isDevicePrivateEntry(pte.entry)) return devicePrivateEntryToPfn(pte.entry);
  if (isMigrationEntry(pte.entry)) return migrationEntryToPfn(pte.entry);
  return undefined;
}

/** Everything a refused call must leave exactly as it was. */
function state(s: Scene): unknown {
  const { m, mm, f0, f1 } = s;
  const ptes: unknown[] = [];
  const pages = new Map<number, unknown>();
  mm.pgd!.walk(0, 2 ** 47, (e) => {
    ptes.push([e.addr, e.level, describePte(e.pte)]);
    const pfn = pfnOf(e.pte);
    if (pfn === undefined || pages.has(pfn) || m.sys.isZeroPfn(pfn)) return;
    const backing = m.testHmm.devices.map((d) => d.backingPage(pfn)).find((x) => x !== undefined);
    const data = m.mm.physmem.read((backing ?? pfn) * P, P);
    pages.set(pfn, {
      count: m.sys.pageCount(pfn),
      mapcount: m.sys.pageMapcount(pfn),
      locked: pageLocked(m.sys, pfn),
      backing,
      sum: data.reduce((x, y) => x + y, 0),
    });
  });
  return {
    machine: snapshot(m),
    freeLists: m.testHmm.devices.map((d) => [...d.freeList()].slice(0, 8)),
    maps: mm.procMaps(),
    rss: [mm.getMmCounter(MM_ANONPAGES), mm.getMmCounter(MM_SWAPENTS)],
    ptes,
    pages: [...pages.entries()],
    mirrors: [f0, f1].map((f) => ({ pt: [...f.pt.entries()], seq: f.notifier.invalidateSeq, released: f.released })),
  };
}

/** A state with the PTEs' accessed and dirty bits and the mirrors' sequences left out. */
function settled(st: unknown): unknown {
  const x = st as { ptes: [number, string, { flags?: number }][]; mirrors: { seq?: number }[] };
  return {
    ...x,
    ptes: x.ptes.map(([addr, level, e]) => [addr, level, e.flags === undefined ? e : { ...e, flags: e.flags - (e.flags % 0x80) + (e.flags % 0x20) }]),
    mirrors: x.mirrors.map((mi) => ({ ...mi, seq: undefined })),
  };
}

/** Runs `call`, expects `want`, and that the scene is as it was. */
function expectRefused(s: Scene, cases: readonly (readonly [string, () => unknown, string])[]): void {
  const before = state(s);
  const wrong: string[] = [];
  for (const [name, call, want] of cases) {
    const got = refusal(call);
    if (got !== want) wrong.push(`${name}: ${got}, want ${want}`);
    const now = state(s);
    try {
      expect(now).toEqual(before);
    } catch {
      wrong.push(`${name}: changed the machine`);
    }
  }
  expect(wrong).toEqual([]);
}

describe('the encodings and page-lock helpers', () => {
  it('answer every bad number with EINVAL and change nothing', () => {
    const s = scene();
    const { m } = s;
    const before = state(s);
    const calls: [string, (v: unknown) => unknown][] = [
      ['migratePfn', (v) => migratePfn(n(v))],
      ['migratePfnToPage', (v) => migratePfnToPage(n(v))],
      ['migratePfnHas mpfn', (v) => migratePfnHas(n(v), MIGRATE_PFN_WRITE)],
      ['migratePfnHas flag', (v) => migratePfnHas(0, n(v))],
      ['migratePfnClear', (v) => migratePfnClear(n(v), MIGRATE_PFN_WRITE)],
      ['migratePfnSet', (v) => migratePfnSet(n(v), MIGRATE_PFN_WRITE)],
      ['hmmPfn pfn', (v) => hmmPfn(n(v), 0n)],
      ['hmmPfn order', (v) => hmmPfn(0x1000, 0n, n(v ?? NaN))],
      ['hmmPfnToPage', (v) => hmmPfnToPage(v as bigint)],
      ['hmmPfnToMapOrder', (v) => hmmPfnToMapOrder(v as bigint)],
      ['hmmPteNeedFault', (v) => hmmPteNeedFault(v as bigint, 0n, 0n, 0n)],
      ['lockPage', (v) => lockPage(m.sys, n(v))],
      ['trylockPage', (v) => trylockPage(m.sys, n(v))],
      ['unlockPage', (v) => unlockPage(m.sys, n(v))],
      ['pageLocked', (v) => pageLocked(m.sys, n(v))],
    ];
    const wrong: string[] = [];
    for (const [name, call] of calls) {
      for (const v of [...BAD, -1n, 2n ** 64n, 3]) {
        if (typeof v === 'bigint' && !name.startsWith('hmmPfnTo') && name !== 'hmmPteNeedFault') continue;
        if (v === 3 && !name.endsWith('flag')) continue;
        const r = refusal(() => call(v));
        if (r !== 'EINVAL') wrong.push(`${name}(${String(v)}): ${r}`);
      }
    }
    // A pfn with no struct page is not a page to lock.
    for (const [name, call] of calls.filter(([k]) => /lock/i.test(k))) {
      const r = refusal(() => call(2 ** 40));
      if (r !== 'EINVAL') wrong.push(`${name}(2^40): ${r}`);
    }
    expect(wrong).toEqual([]);
    expect(state(s)).toEqual(before);
  });

  it('encode and decode refuse what is not a struct hmm_dmirror_cmd with EFAULT', () => {
    expect(refusal(() => encodeHmmDmirrorCmd({ ...cmd(0, 0, 1), npages: 1 as never }))).toBe('EFAULT');
    expect(refusal(() => encodeHmmDmirrorCmd({ ...cmd(0, 0, 1), addr: 2n ** 64n }))).toBe('EFAULT');
    expect(refusal(() => encodeHmmDmirrorCmd(null as never))).toBe('EFAULT');
    expect(refusal(() => decodeHmmDmirrorCmd(new Uint8Array(39)))).toBe('EFAULT');
    expect(refusal(() => decodeHmmDmirrorCmd('x' as never))).toBe('EFAULT');
    expect(decodeHmmDmirrorCmd(encodeHmmDmirrorCmd(cmd(0x1000, 0x2000, 3)))).toEqual(cmd(0x1000, 0x2000, 3));
  });
});

describe('hmm_range_fault()', () => {
  function mirror(mm: MmStruct): MmuIntervalNotifier {
    const sub = new MmuIntervalNotifier();
    mmuIntervalNotifierInsert(sub, mm, 0, 2n ** 47n, { invalidate: (x, _r, seq) => (mmuIntervalSetSeq(x, seq), true) });
    return sub;
  }

  function range(sub: MmuIntervalNotifier, start: number, npages: number, o: Partial<HmmRange> = {}): HmmRange {
    return {
      notifier: sub,
      notifierSeq: mmuIntervalReadBegin(sub),
      start,
      end: start + npages * P,
      hmmPfns: new BigUint64Array(npages),
      defaultFlags: HMM_PFN_REQ_FAULT,
      pfnFlagsMask: 0n,
      devPrivateOwner: null,
      ...o,
    };
  }

  it('refuses malformed ranges with EINVAL (start >= end is walk_page_range()\'s -EINVAL) and changes nothing', () => {
    const s = scene();
    const sub = mirror(s.mm);
    const { a } = s;
    const cases: [string, () => unknown, string][] = [];
    for (const r of [undefined, null, 5, 'range']) cases.push([`range ${String(r)}`, () => hmmRangeFault(r as never), 'EINVAL']);
    for (const v of BAD) {
      cases.push([`start ${String(v)}`, () => hmmRangeFault(range(sub, a, 8, { start: v as never })), 'EINVAL']);
      cases.push([`end ${String(v)}`, () => hmmRangeFault(range(sub, a, 8, { end: v as never })), 'EINVAL']);
      cases.push([`notifier_seq ${String(v)}`, () => hmmRangeFault(range(sub, a, 8, { notifierSeq: v as never })), 'EINVAL']);
    }
    for (const v of [1, -1n, 2n ** 64n, undefined, null, '0']) {
      cases.push([`default_flags ${String(v)}`, () => hmmRangeFault(range(sub, a, 8, { defaultFlags: v as never })), 'EINVAL']);
      cases.push([`pfn_flags_mask ${String(v)}`, () => hmmRangeFault(range(sub, a, 8, { pfnFlagsMask: v as never })), 'EINVAL']);
    }
    cases.push(
      ['unaligned start', () => hmmRangeFault(range(sub, a + 1, 8, { end: a + 8 * P })), 'EINVAL'],
      ['unaligned end', () => hmmRangeFault(range(sub, a, 8, { end: a + 8 * P - 1 })), 'EINVAL'],
      ['end == start', () => hmmRangeFault(range(sub, a, 8, { end: a })), 'EINVAL'],
      ['end < start', () => hmmRangeFault(range(sub, a + 4 * P, 8, { end: a })), 'EINVAL'],
      ['huge end, 8 entries', () => hmmRangeFault(range(sub, a, 8, { end: a + 2 ** 40 })), 'EINVAL'],
      ['hmm_pfns too short', () => hmmRangeFault(range(sub, a, 8, { hmmPfns: new BigUint64Array(7) })), 'EINVAL'],
      ['hmm_pfns a number[]', () => hmmRangeFault(range(sub, a, 8, { hmmPfns: new Array(8).fill(0) as never })), 'EINVAL'],
      ['hmm_pfns missing', () => hmmRangeFault(range(sub, a, 8, { hmmPfns: undefined as never })), 'EINVAL'],
      ['no notifier', () => hmmRangeFault(range(sub, a, 8, { notifier: undefined as never })), 'EINVAL'],
      ['a notifier-shaped object', () => hmmRangeFault(range(sub, a, 8, { notifier: { mm: s.mm } as never })), 'EINVAL'],
      ['a notifier never inserted', () => hmmRangeFault({ ...range(sub, a, 8), notifier: new MmuIntervalNotifier() }), 'EINVAL'],
      // v5.13: mmu_interval_check_retry() sees a sequence that is not current
      ['a stale notifier_seq', () => hmmRangeFault(range(sub, a, 8, { notifierSeq: mmuIntervalReadBegin(sub) - 2 })), 'EBUSY'],
    );
    expectRefused(s, cases);
  });

  it('answers what it cannot mirror with v5.13\'s errnos, before faulting anything', () => {
    const s = scene();
    const sub = mirror(s.mm);
    const { a, ro, none, gap, m } = s;
    expectRefused(s, [
      // hmm_vma_walk_hole() without a vma, a fault requested
      ['no vma', () => hmmRangeFault(range(sub, gap, 1)), 'EFAULT'],
      // hmm_vma_walk_test(): PROT_NONE has no VM_READ
      ['PROT_NONE', () => hmmRangeFault(range(sub, none, 1)), 'EFAULT'],
      // hmm_vma_fault(): a write fault in a vma without VM_WRITE
      ['write to read-only', () => hmmRangeFault(range(sub, ro, 2, { defaultFlags: HMM_PFN_REQ_FAULT + HMM_PFN_REQ_WRITE })), 'EPERM'],
      // per-page write request through pfn_flags_mask
      ['write request in hmm_pfns', () => {
        const r = range(sub, ro, 2, { pfnFlagsMask: HMM_PFN_REQ_WRITE });
        r.hmmPfns[1] = HMM_PFN_REQ_WRITE;
        hmmRangeFault(r);
      }, 'EPERM'],
      // v5.13: a device-private page of another owner with a fault requested is -EFAULT (not migrated back)
      ['the wrong owner', () => hmmRangeFault(range(sub, a + 5 * P, 2, { devPrivateOwner: m.testHmm.devices[1] })), 'EFAULT'],
      ['no owner', () => hmmRangeFault(range(sub, a + 5 * P, 1)), 'EFAULT'],
    ]);
  });
});

describe('migrate_vma_setup()', () => {
  it('refuses every malformed struct migrate_vma with EINVAL, the only error v5.13 has, and changes nothing', () => {
    const s = scene();
    const { mm, a, ro, m } = s;
    const vma = mm.findVma(a)!;
    const args = (o: Record<string, unknown> = {}): MigrateVma =>
      ({ vma, dst: new Array(8).fill(0), src: new Array(8).fill(0), cpages: 0, npages: 0, start: a, end: a + 8 * P, pgmapOwner: m.testHmm.devices[0], flags: MIGRATE_VMA_SELECT_SYSTEM, ...o }) as MigrateVma;
    const bare = new MmStruct(999);
    const bareStart = bare.mmap({ length: P, prot: RW, flags: ANON });
    const stale = mm.findVma(mm.mmap({ length: P, prot: RW, flags: ANON }))!;
    mm.munmap(stale.vmStart, P);
    const cases: [string, () => unknown, string][] = [];
    for (const x of [undefined, null, 7, 'args']) cases.push([`args ${String(x)}`, () => migrateVmaSetup(x as never), 'EINVAL']);
    for (const v of BAD) {
      for (const k of ['start', 'end', 'flags']) cases.push([`${k} ${String(v)}`, () => migrateVmaSetup(args({ [k]: v })), 'EINVAL']);
    }
    for (const v of [null, undefined, {}, 'vma']) cases.push([`vma ${String(v)}`, () => migrateVmaSetup(args({ vma: v })), 'EINVAL']);
    for (const k of ['src', 'dst']) {
      for (const v of [null, undefined, 'xxxxxxxx', { length: 8 }, new Float64Array(8), [0]]) {
        cases.push([`${k} ${Array.isArray(v) ? `[${v.length}]` : String(v)}`, () => migrateVmaSetup(args({ [k]: v })), 'EINVAL']);
      }
    }
    cases.push(
      ['a vma no longer mapped', () => migrateVmaSetup(args({ vma: stale, start: stale.vmStart, end: stale.vmEnd })), 'EINVAL'],
      ['a vma without page tables', () => migrateVmaSetup(args({ vma: bare.findVma(bareStart), start: bareStart, end: bareStart + P })), 'EINVAL'],
      ['the wrong vma', () => migrateVmaSetup(args({ vma: mm.findVma(ro) })), 'EINVAL'],
      ['end == start', () => migrateVmaSetup(args({ end: a })), 'EINVAL'],
      ['end < start', () => migrateVmaSetup(args({ start: a + 4 * P, end: a })), 'EINVAL'],
      ['less than a page', () => migrateVmaSetup(args({ start: a + 100, end: a + P + 99 })), 'EINVAL'],
      ['start below the vma', () => migrateVmaSetup(args({ start: a - P })), 'EINVAL'],
      ['end beyond the vma', () => migrateVmaSetup(args({ end: a + 9 * P })), 'EINVAL'],
      ['huge end', () => migrateVmaSetup(args({ end: 2 ** 53 - P })), 'EINVAL'],
    );
    expectRefused(s, cases);
  });
});

describe('migrate_vma_setup() with the wrong owner', () => {
  it('collects nothing of another owner\'s device-private pages (v5.13 returns 0, cpages 0), and the pages stay', () => {
    const s = scene();
    const before = state(s) as { ptes: unknown; pages: unknown };
    for (const [owner, flags] of [[s.m.testHmm.devices[1], 2], ['nobody', 2], [s.m.testHmm.devices[0], 1]] as const) {
      const args: MigrateVma = {
        vma: s.mm.findVma(s.a), src: [7, 7], dst: [7, 7], cpages: 9, npages: 9, start: s.a + 5 * P, end: s.a + 7 * P, pgmapOwner: owner, flags,
      };
      migrateVmaSetup(args);
      expect([args.src, args.dst, args.cpages, args.npages]).toEqual([[0, 0], [0, 0], 0, 2]);
      migrateVmaPages(args);
      migrateVmaFinalize(args);
    }
    const after = state(s) as typeof before;
    expect(after.ptes).toEqual(before.ptes);
    expect(after.pages).toEqual(before.pages);
  });
});

describe('migrate_vma_pages() and migrate_vma_finalize() on a collected range', () => {
  /** Pages 0-3 collected: locked, unmapped, migration entries in their place. */
  function collected(s: Scene): MigrateVma {
    const args: MigrateVma = {
      vma: s.mm.findVma(s.a),
      src: new Array<number>(4).fill(0),
      dst: new Array<number>(4).fill(0),
      cpages: 0,
      npages: 0,
      start: s.a,
      end: s.a + 4 * P,
      pgmapOwner: s.m.testHmm.devices[0],
      flags: MIGRATE_VMA_SELECT_SYSTEM,
    };
    migrateVmaSetup(args);
    expect(args.cpages).toBe(4);
    return args;
  }

  it('refuses malformed arguments and entries before anything changes; finalize then restores the machine', () => {
    const s = scene();
    const start = state(s);
    const args = collected(s);
    const { m } = s;
    const unlocked = m.mm.allocPages(GFP_HIGHUSER, 0)!;
    const locked = m.mm.allocPages(GFP_HIGHUSER, 0)!;
    lockPage(m.sys, locked);
    const good = migratePfn(locked) + MIGRATE_PFN_LOCKED;
    const with_ = (o: Partial<MigrateVma>): MigrateVma => ({ ...args, src: [...args.src!], dst: [...args.dst!], ...o });
    const entry = (k: 'src' | 'dst', i: number, v: unknown): MigrateVma => {
      const x = with_({});
      x[k]![i] = v as number;
      return x;
    };
    const cases: [string, (f: (a: MigrateVma) => void) => unknown, string][] = [
      ['args null', (f) => f(null as never), 'EINVAL'],
      ['vma null', (f) => f(with_({ vma: null })), 'EINVAL'],
      ['vma {}', (f) => f(with_({ vma: {} as Vma })), 'EINVAL'],
      ['the wrong vma', (f) => f(with_({ vma: s.mm.findVma(s.ro) })), 'EINVAL'],
      ['npages NaN', (f) => f(with_({ npages: NaN })), 'EINVAL'],
      ['npages -1', (f) => f(with_({ npages: -1 })), 'EINVAL'],
      ['npages 1.5', (f) => f(with_({ npages: 1.5 })), 'EINVAL'],
      ['npages beyond the arrays', (f) => f(with_({ npages: 5, end: s.a + 5 * P })), 'EINVAL'],
      ['npages not (end - start) / PAGE_SIZE', (f) => f(with_({ npages: 3 })), 'EINVAL'],
      ['start moved', (f) => f(with_({ start: s.a + P })), 'EINVAL'],
      ['end moved', (f) => f(with_({ end: s.a + 8 * P })), 'EINVAL'],
      ['cpages NaN', (f) => f(with_({ cpages: NaN })), 'EINVAL'],
      ['src null', (f) => f(with_({ src: null })), 'EINVAL'],
      ['dst undefined', (f) => f(with_({ dst: undefined as never })), 'EINVAL'],
      ['src too short', (f) => f(with_({ src: [0] })), 'EINVAL'],
      ['dst too short', (f) => f(with_({ dst: [0, 0, 0] })), 'EINVAL'],
      ['src[0] NaN', (f) => f(entry('src', 0, NaN)), 'EINVAL'],
      ['src[1] -1', (f) => f(entry('src', 1, -1)), 'EINVAL'],
      ['src[2] "1"', (f) => f(entry('src', 2, '1')), 'EINVAL'],
      ['dst[3] 1.5', (f) => f(entry('dst', 3, 1.5)), 'EINVAL'],
      ['dst[0] 2^60', (f) => f(entry('dst', 0, 2 ** 60)), 'EINVAL'],
      ['dst[0] a pfn with no struct page', (f) => f(entry('dst', 0, migratePfn(2 ** 40) + MIGRATE_PFN_LOCKED)), 'EINVAL'],
      ['dst[0] an unlocked page', (f) => f(entry('dst', 0, migratePfn(unlocked))), 'BUG'],
      ['dst[3] an unlocked page after a good one', (f) => f(with_({ dst: [good, 0, 0, migratePfn(unlocked)] })), 'BUG'],
      ['the same dst page twice', (f) => f(with_({ dst: [good, good, 0, 0] })), 'EINVAL'],
      ['src[3] forged: an unlocked page', (f) => f(entry('src', 3, migratePfn(unlocked) + MIGRATE_PFN_MIGRATE + MIGRATE_PFN_LOCKED)), 'BUG'],
    ];
    const all: [string, () => unknown, string][] = [];
    for (const [name, call, want] of cases) {
      all.push([`pages: ${name}`, () => call(migrateVmaPages), want]);
      all.push([`finalize: ${name}`, () => call(migrateVmaFinalize), want]);
    }
    expectRefused(s, all);
    // The well-formed arguments still work: nothing migrated, finalize puts every page back.
    unlockPage(m.sys, locked);
    m.sys.putPage(locked);
    m.sys.putPage(unlocked);
    migrateVmaPages(args);
    migrateVmaFinalize(args);
    // remove_migration_pte() makes the PTEs old and clean (the dirty bit went to the
    // struct page at unmap), and the migration's invalidations bumped the mirrors'
    // sequences; everything else is as before the migration started.
    expect(settled(state(s))).toEqual(settled(start));
    for (let i = 0; i < 4; i++) expect(userRead(s.mm, s.a + i * P, 1)[0]).toBe(i + 1);
    // A second finalize would unlock pages that are not locked: v5.13's VM_BUG_ON_PAGE, before any change.
    expectRefused(s, [['finalize twice', () => migrateVmaFinalize(args), 'BUG']]);
  });
});

describe('the dmirror device', () => {
  it('refuses bad ioctls with lib/test_hmm.c\'s errnos, copies nothing back and changes nothing', () => {
    const s = scene();
    const { a, ro, none, gap, buf, f0, f1 } = s;
    const c = (addr: number | bigint, ptr: number | bigint, npages: number | bigint): HmmDmirrorCmd => ({
      addr: BigInt(addr), ptr: BigInt(ptr), npages: BigInt(npages), cpages: 77n, faults: 77n,
    });
    const cmds: HmmDmirrorCmd[] = [];
    const io = (f: Dmirror, req: number, x: HmmDmirrorCmd) => () => {
      cmds.push(x);
      f.ioctl(req, x);
    };
    const cases: [string, () => unknown, string][] = [
      ['request 0', io(f0, 0, c(a, buf, 1)), 'EINVAL'],
      ['request NaN', io(f0, NaN, c(a, buf, 1)), 'EINVAL'],
      // _IOWR('H', 0x04, ...): HMM_DMIRROR_EXCLUSIVE, which came in v5.14
      ['the v5.14 EXCLUSIVE ioctl', io(f0, HMM_DMIRROR_READ + 4, c(a, buf, 1)), 'EINVAL'],
      ['cmd undefined', () => f0.ioctl(HMM_DMIRROR_READ, undefined as never), 'EFAULT'],
      ['cmd {}', () => f0.ioctl(HMM_DMIRROR_READ, {} as never), 'EFAULT'],
      ['addr a number', io(f0, HMM_DMIRROR_READ, { ...c(a, buf, 1), addr: a as never }), 'EFAULT'],
      ['npages -1n', io(f0, HMM_DMIRROR_READ, { ...c(a, buf, 1), npages: -1n }), 'EFAULT'],
      ['npages 2^64', io(f0, HMM_DMIRROR_READ, { ...c(a, buf, 1), npages: 2n ** 64n }), 'EFAULT'],
    ];
    for (const req of [HMM_DMIRROR_READ, HMM_DMIRROR_WRITE, HMM_DMIRROR_MIGRATE, HMM_DMIRROR_SNAPSHOT]) {
      const r = `0x${req.toString(16)}`;
      cases.push(
        [`${r} unaligned addr`, io(f0, req, c(a + 1, buf, 1)), 'EINVAL'],
        [`${r} npages 0`, io(f0, req, c(a, buf, 0)), 'EINVAL'],
        [`${r} a range that wraps`, io(f0, req, c(2n ** 64n - BigInt(P), buf, 2)), 'EINVAL'],
        [`${r} npages << PAGE_SHIFT == 2^64`, io(f0, req, c(a, buf, 2n ** 52n)), 'EINVAL'],
        [`${r} on a released file`, () => {
          const f = s.m.testHmm.open(0, s.mm);
          f.release();
          f.ioctl(req, c(a, buf, 1));
        }, 'EINVAL'],
      );
    }
    cases.push(
      // dmirror_bounce_init(): vmalloc of 4 TiB fails
      ['READ of 2^30 pages', io(f0, HMM_DMIRROR_READ, c(a, buf, 2 ** 30)), 'ENOMEM'],
      // copy_to_user() after a read that needed no fault
      ['READ to an unmapped buffer', io(f0, HMM_DMIRROR_READ, c(a, gap, 4)), 'EFAULT'],
      ['READ to a read-only buffer', io(f0, HMM_DMIRROR_READ, c(a, ro, 2)), 'EFAULT'],
      // copy_from_user() before anything else
      ['WRITE from an unmapped buffer', io(f0, HMM_DMIRROR_WRITE, c(a, gap, 4)), 'EFAULT'],
      // hmm_range_fault(): write fault in a read-only vma
      ['WRITE to read-only memory', io(f1, HMM_DMIRROR_WRITE, c(ro, buf, 2)), 'EPERM'],
      ['READ of PROT_NONE', io(f1, HMM_DMIRROR_READ, c(none, buf, 1)), 'EFAULT'],
      ['READ of no vma', io(f1, HMM_DMIRROR_READ, c(gap, buf, 1)), 'EFAULT'],
      // another device's page, faulting requested: -EFAULT in v5.13
      ['READ of device 0\'s pages through device 1', io(f1, HMM_DMIRROR_READ, c(a + 5 * P, buf, 2)), 'EFAULT'],
      // dmirror_migrate(): no vma, or one without VM_READ
      ['MIGRATE of no vma', io(f0, HMM_DMIRROR_MIGRATE, c(gap, buf, 1)), 'EINVAL'],
      ['MIGRATE of PROT_NONE', io(f0, HMM_DMIRROR_MIGRATE, c(none, buf, 1)), 'EINVAL'],
      ['MIGRATE far beyond every vma', io(f0, HMM_DMIRROR_MIGRATE, c(2 ** 46, buf, 2 ** 40)), 'EINVAL'],
      ['SNAPSHOT to an unmapped buffer', io(f0, HMM_DMIRROR_SNAPSHOT, c(a, gap, 8)), 'EFAULT'],
      ['SNAPSHOT to a read-only buffer', io(f0, HMM_DMIRROR_SNAPSHOT, c(a, ro, 8)), 'EFAULT'],
    );
    expectRefused(s, cases);
    // "On error, cmd is not copied back."
    expect(cmds.map((x) => [x.cpages, x.faults])).toEqual(cmds.map(() => [77n, 77n]));
  });

  it('MIGRATE of another device\'s pages is -ENOENT; only that device\'s mirror saw the MMU_NOTIFY_MIGRATE invalidation', () => {
    const s = scene();
    const before = state(s) as { mirrors: { pt: [number, unknown][]; seq: number }[] };
    const x = { ...cmd(s.a + 5 * P, s.buf, 2), cpages: 77n, faults: 77n };
    expect(refusal(() => s.f1.ioctl(HMM_DMIRROR_MIGRATE, x))).toBe('ENOENT');
    expect([x.cpages, x.faults]).toEqual([77n, 77n]);
    const after = state(s) as typeof before;
    // dmirror_interval_invalidate() of device 0 erases [5, 7] (its inclusive end), and bumps its sequence;
    // device 1 skips its own migration. Nothing else changes: the pages stay on device 0.
    const vpfn = s.a / P;
    const erased = before.mirrors[0]!.pt.filter(([k]) => k < vpfn + 5 || k > vpfn + 7);
    expect(after.mirrors[0]!.pt).toEqual(erased);
    expect(after.mirrors[0]!.seq).not.toBe(before.mirrors[0]!.seq);
    expect(after.mirrors[1]).toEqual(before.mirrors[1]);
    expect({ ...after, mirrors: null }).toEqual({ ...before, mirrors: null });
  });

  it('open, release, page_free, migrate_to_ram and invalidate refuse what is not theirs', () => {
    const s = scene();
    const { m, mm, a, f0 } = s;
    const d0 = m.testHmm.devices[0]!;
    const d1 = m.testHmm.devices[1]!;
    const onDevice = pfnOf(mm.pgd!.get(a + 5 * P)!)!;
    const free = [...d0.freeList()][0]!;
    const r = { event: 0, start: a, end: a + P, flags: 1, mm } as never;
    expectRefused(s, [
      ['open minor 2', () => m.testHmm.open(2, mm), 'ENODEV'],
      ['open minor NaN', () => m.testHmm.open(NaN, mm), 'EINVAL'],
      ['open minor -1', () => m.testHmm.open(-1, mm), 'EINVAL'],
      ['open without an mm', () => m.testHmm.open(0, {} as never), 'EINVAL'],
      ['open by an mm without page tables', () => m.testHmm.open(0, new MmStruct(998)), 'EINVAL'],
      ['load twice', () => m.testHmm.load(), 'EEXIST'],
      ['page_free of NaN', () => d0.devmemFree(NaN), 'EINVAL'],
      ['page_free of a RAM page', () => d0.devmemFree(0x1000), 'EINVAL'],
      ['page_free of the other device\'s page', () => d1.devmemFree(onDevice), 'EINVAL'],
      ['page_free of a free page', () => d0.devmemFree(free), 'BUG'],
      ['migrate_to_ram without a vm_fault', () => d0.devmemFault(null as never), 'EINVAL'],
      ['migrate_to_ram at NaN', () => d0.devmemFault({ vma: mm.findVma(a)!, address: NaN, flags: 0, page: onDevice } as never), 'EINVAL'],
      ['migrate_to_ram of page -1', () => d0.devmemFault({ vma: mm.findVma(a)!, address: a + 5 * P, flags: 0, page: -1 } as never), 'EINVAL'],
      ['invalidate with a foreign notifier', () => f0.invalidate(new MmuIntervalNotifier(), r, 4), 'EINVAL'],
      ['invalidate without a range', () => f0.invalidate(f0.notifier, null as never, 4), 'EINVAL'],
      ['invalidate of [NaN, end)', () => f0.invalidate(f0.notifier, { ...(r as object), start: NaN } as never, 4), 'EINVAL'],
      ['invalidate at seq 1.5', () => f0.invalidate(f0.notifier, r, 1.5), 'EINVAL'],
    ]);
    f0.release();
    expect(refusal(() => f0.release())).toBe('EINVAL');
  });
});

describe('every entry of the API report (etc/hmm.api.md) refuses the test kit\'s bad values', () => {
  const ENTRIES = reportEntries(readFileSync(new URL('../etc/hmm.api.md', import.meta.url), 'utf8'));
  const s = scene();
  const { m, mm, a, buf, f0 } = s;
  const d0 = m.testHmm.devices[0]!;
  const task = api.dmirrorTaskSpawner(m.testHmm, m.sys, 500)();
  const fd = task.open('/dev/hmm_dmirror0');
  const tbuf = task.mmap(4 * P, RW, ANON);
  const snap = (): string => JSON.stringify([state(s), task.mm.procMaps(), [...task.load(tbuf, 16)]]);
  const onDevice = pfnOf(mm.pgd!.get(a + 5 * P)!)!;
  const range = { event: 0, start: a, end: a + P, flags: 1, mm };
  const mvma = (): MigrateVma =>
    ({ vma: mm.findVma(a)!, dst: new Array(8).fill(0), src: new Array(8).fill(0), cpages: 0, npages: 0, start: a, end: a + 8 * P, pgmapOwner: d0, flags: MIGRATE_VMA_SELECT_SYSTEM }) as MigrateVma;
  const args = (...xs: unknown[]) => () => xs;
  /** A spec calling `obj[name](...args)`. */
  const on = <T extends object>(obj: T, name: keyof T & string, xs: unknown[], allow?: (i: number, v: unknown) => boolean): Spec => ({
    args: () => [...xs],
    call: (v) => (obj[name] as (...p: unknown[]) => unknown)(...v),
    ...(allow === undefined ? {} : { allow }),
  });
  const t = task as HmmTestsTask;
  // migrate_vma_setup() sets cpages and npages; pgmap_owner is an opaque cookie compared by address
  const outputsAndOwner = (_i: number, f: string): boolean => f === 'cpages' || f === 'npages' || f === 'pgmapOwner';
  const ownerOnly = (_i: number, f: string): boolean => f === 'pgmapOwner';
  const specs: Record<string, Spec | null> = {
    decodeHmmDmirrorCmd: { args: () => [api.encodeHmmDmirrorCmd(cmd(a, buf, 1))], call: ([b]) => decodeHmmDmirrorCmd(b as Uint8Array) },
    encodeHmmDmirrorCmd: { args: () => [cmd(a, buf, 1)], call: ([c]) => encodeHmmDmirrorCmd(c as HmmDmirrorCmd) },
    hmmPfn: { args: args(0x1000, 0n, 0), call: ([p, fl, o]) => hmmPfn(n(p), fl as bigint, n(o)) },
    hmmPfnToMapOrder: { args: args(0n), call: ([x]) => hmmPfnToMapOrder(x as bigint) },
    hmmPfnToPage: { args: args(0n), call: ([x]) => hmmPfnToPage(x as bigint) },
    hmmPteNeedFault: { args: args(0n, 0n, 0n, 0n), call: ([i, d, k, c]) => hmmPteNeedFault(i as bigint, d as bigint, k as bigint, c as bigint) },
    hmmRangeFault: { args: args({}), call: ([r]) => hmmRangeFault(r as HmmRange) },
    hmmTestsCases: null, // no parameters
    lockPage: { args: args(m.sys, onDevice), call: ([y, p]) => lockPage(y as never, n(p)) },
    trylockPage: { args: args(m.sys, onDevice), call: ([y, p]) => trylockPage(y as never, n(p)) },
    unlockPage: { args: args(m.sys, onDevice), call: ([y, p]) => unlockPage(y as never, n(p)) },
    pageLocked: { args: args(m.sys, onDevice), call: ([y, p]) => pageLocked(y as never, n(p)) },
    migratePfn: { args: args(0x1000), call: ([p]) => migratePfn(n(p)) },
    migratePfnClear: { args: args(migratePfn(0x1000), MIGRATE_PFN_LOCKED), call: ([x, fl]) => migratePfnClear(n(x), n(fl)) },
    migratePfnHas: { args: args(migratePfn(0x1000), MIGRATE_PFN_LOCKED), call: ([x, fl]) => migratePfnHas(n(x), n(fl)) },
    migratePfnSet: { args: args(migratePfn(0x1000), MIGRATE_PFN_LOCKED), call: ([x, fl]) => migratePfnSet(n(x), n(fl)) },
    migratePfnToPage: { args: args(migratePfn(0x1000)), call: ([x]) => migratePfnToPage(n(x)) },
    migrateVmaSetup: { args: () => [mvma()], call: ([x]) => migrateVmaSetup(x as MigrateVma), allowField: outputsAndOwner },
    migrateVmaSetupCheck: { args: () => [mvma()], call: ([x]) => api.migrateVmaSetupCheck(x as MigrateVma), allowField: outputsAndOwner },
    migrateVmaPages: { args: () => [mvma()], call: ([x]) => migrateVmaPages(x as MigrateVma), allowField: ownerOnly },
    migrateVmaFinalize: { args: () => [mvma()], call: ([x]) => migrateVmaFinalize(x as MigrateVma), allowField: ownerOnly },
    dmirrorTaskSpawner: { args: args(m.testHmm, m.sys, 600), call: ([h, y, p]) => api.dmirrorTaskSpawner(h as never, y as never, p as number) },
    runHmmTests: { args: () => [() => t, { only: [] }], call: ([sp, o]) => api.runHmmTests(sp as () => HmmTestsTask, o as never) },
    'Dmirror.constructor': { args: args(m.testHmm, d0, mm, () => undefined), call: ([h, d, x, r]) => new api.Dmirror(h as never, d as never, x as never, r as never) },
    'Dmirror.invalidate': { args: () => [f0.notifier, range, 4], call: ([sub, r, q]) => f0.invalidate(sub as never, r as never, n(q)) },
    'Dmirror.ioctl': { args: () => [HMM_DMIRROR_READ, cmd(a, buf, 1)], call: ([r, c]) => f0.ioctl(n(r), c as HmmDmirrorCmd) },
    'Dmirror.ioctlCheck': { args: () => [HMM_DMIRROR_READ, cmd(a, buf, 1)], call: ([r, c]) => f0.ioctlCheck(n(r), c as HmmDmirrorCmd) },
    'Dmirror.release': null, // no parameters
    'DmirrorDevice.constructor': { args: args(m.testHmm, 0), call: ([h, x]) => new api.DmirrorDevice(h as never, n(x)) },
    'DmirrorDevice.allocateChunk': { args: args(false), call: ([x]) => d0.allocateChunk(x as boolean) },
    'DmirrorDevice.backingPage': { args: args(onDevice), call: ([x]) => d0.backingPage(n(x)) },
    'DmirrorDevice.devmemAllocPage': null, // no parameters
    'DmirrorDevice.devmemFault': { args: () => [{ vma: mm.findVma(a)!, address: a + 5 * P, flags: 0, page: onDevice }], call: ([v]) => d0.devmemFault(v as never) },
    'DmirrorDevice.devmemFree': { args: args(onDevice), call: ([x]) => d0.devmemFree(n(x)) },
    'DmirrorDevice.freeList': null, // no parameters
    'DmirrorDevice.ownsPfn': { args: args(onDevice), call: ([x]) => d0.ownsPfn(n(x)) },
    'DmirrorDevice.removeChunks': null, // no parameters
    'DmirrorTask.constructor': { args: () => [{ testHmm: m.testHmm, system: m.sys, nextPid: () => 700 }], call: ([o, x]) => new api.DmirrorTask(o as never, x as never) },
    'DmirrorTask.close': on(task, 'close', [fd]),
    'DmirrorTask.exit': null, // no parameters
    'DmirrorTask.fork': null,
    'DmirrorTask.ftruncate': on(task, 'ftruncate', [fd, P]),
    'DmirrorTask.ioctl': { args: () => [fd, HMM_DMIRROR_READ, cmd(tbuf, tbuf + P, 1)], call: ([x, r, c]) => task.ioctl(n(x), n(r), c as HmmDmirrorCmd) },
    'DmirrorTask.load': on(task, 'load', [tbuf, 16]),
    'DmirrorTask.madvise': on(task, 'madvise', [tbuf, P, 4]),
    'DmirrorTask.mmap': on(task, 'mmap', [P, RW, ANON, -1, 0], (i, v) => i === 3 && v === -1 /* no file */),
    'DmirrorTask.mprotect': on(task, 'mprotect', [tbuf, P, RW]),
    'DmirrorTask.munmap': on(task, 'munmap', [tbuf, P]),
    'DmirrorTask.open': on(task, 'open', ['/dev/hmm_dmirror1']),
    'DmirrorTask.openTmpfile': on(task, 'openTmpfile', ['/tmp']),
    'DmirrorTask.pread': on(task, 'pread', [fd, 16, 0]),
    'DmirrorTask.pwrite': on(task, 'pwrite', [fd, new Uint8Array(1), 0]),
    'DmirrorTask.spawnThread': on(task, 'spawnThread', [0, () => undefined]),
    'DmirrorTask.store': on(task, 'store', [tbuf, new Uint8Array([1])]),
    'TestHmm.constructor': { args: () => [{ kernel: m.kernel, memremap: m.memremap, mm: m.sys }], call: ([o]) => new api.TestHmm(o as never) },
    'TestHmm.condResched': null, // no parameters
    'TestHmm.files': null,
    'TestHmm.load': null,
    'TestHmm.open': { args: args(0, mm), call: ([x, y]) => m.testHmm.open(n(x), y as MmStruct) },
    'TestHmm.unload': null,
  };
  const refused = (e: unknown): boolean => isKernelError(e) || isKernelBug(e);

  it('the table covers every function and method of the API report, and nothing else', () => {
    const keys = [...new Set(ENTRIES.map((e) => e.key))].sort();
    expect(keys.length).toBeGreaterThan(55);
    expect(Object.keys(specs).sort()).toEqual(keys);
  });

  it('each bad value in each parameter is refused with a KernelError or KernelBug, the machine unchanged', () => {
    const r = abuse(ENTRIES, specs, snap, refused);
    expect(r.failures).toEqual([]);
    expect(r.calls).toBeGreaterThan(800);
  });
});
