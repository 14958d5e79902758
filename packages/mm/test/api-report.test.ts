/**
 * API abuse, driven by the committed API report: every function, constructor
 * and method that etc/mm.api.md lists is called with each of the values no C
 * caller could pass (NaN, infinities, -1, 1.5, 2^53 + 2, 2^64, undefined, a
 * string) in each of its parameters and in each field of a struct-valued
 * one, the others valid. Each call must be refused with a KernelError (or a
 * KernelBug where the kernel would BUG), and the machine must read exactly
 * as before: the processes' VMAs, /proc/PID/maps and smaps, rss counters,
 * every page-table entry, the reference and map counts and the bytes of each
 * mapped page, the free page count and the notifier's sequence. A new export
 * without an entry fails the coverage test; `null` entries have no
 * parameters.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isKernelBug, isKernelError } from '@zonedev/kernel';
import { GFP_HIGHUSER_MOVABLE } from '@zonedev/mmzone';
import { BAD, abuse, reportEntries } from '@zonedev/test-kit';
import type { Spec } from '@zonedev/test-kit';
import * as api from '../src/index.js';
import type { MmuNotifierRange, PresentPte, Pte, SwpEntry, Vma, VmFault } from '../src/index.js';
import {
  AnonVma,
  FOLL_WRITE,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  MAP_SHARED,
  MIGRATE_SYNC,
  MMU_NOTIFY_CLEAR,
  MR_SYSCALL,
  MmStruct,
  MmuIntervalNotifier,
  PROT_READ,
  PROT_WRITE,
  PageTable,
  mmuIntervalNotifierInsert,
  mmuIntervalSetSeq,
  userRead,
  userWrite,
} from '../src/index.js';
import { X86_64_4LEVEL, bootMachine, newMm } from './machine.js';

/** A KernelError, or a KernelBug where the kernel would BUG. */
const refused = (err: unknown): boolean => isKernelError(err) || isKernelBug(err);

const ENTRIES = reportEntries(readFileSync(new URL('../etc/mm.api.md', import.meta.url), 'utf8'));
const P = 4096;
const RW = PROT_READ + PROT_WRITE;

/**
 * The machine every call starts from: one process with an anonymous
 * read-write mapping of 8 pages (0-3 written), a shared anonymous page, a
 * child forked from it (sharing the written pages copy-on-write), and an
 * interval notifier over the parent's address space.
 */
function world() {
  const m = bootMachine();
  const mm = newMm(m);
  const a = mm.mmap({ length: 8 * P, prot: RW, flags: MAP_PRIVATE + MAP_ANONYMOUS });
  const sh = mm.mmap({ length: P, prot: RW, flags: MAP_SHARED + MAP_ANONYMOUS });
  for (let i = 0; i < 4; i++) userWrite(mm, a + i * P, new Uint8Array(P).fill(i + 1));
  userWrite(mm, sh, new Uint8Array([7, 7, 7]));
  const child = mm.fork(mm.pid + 1);
  const sub = new MmuIntervalNotifier();
  mmuIntervalNotifierInsert(sub, mm, 0, 2n ** 47n, { invalidate: (x, _r, seq) => (mmuIntervalSetSeq(x, seq), true) });
  const snap = (): string => {
    const out: unknown[] = [m.core.nrFreePages(), sub.invalidateSeq];
    for (const x of [mm, child]) {
      out.push(x.procMaps(), x.procSmaps(), x.getMmRss(), x.vmas().map((v) => [v.vmStart, v.vmEnd, v.vmFlags, v.vmPgoff]));
      x.pgd!.walk(0, 2 ** 47, (e) => {
        const pte = e.pte;
        if (pte.kind !== 'present') return void out.push([e.addr, String(pte.entry.val)]);
        const zero = m.sys.isZeroPfn(pte.pfn);
        out.push([e.addr, pte.pfn, pte.flags, m.sys.pageCount(pte.pfn), m.sys.pageMapcount(pte.pfn), zero ? 0 : [...m.sys.readPage(pte.pfn, 0, 8)]]);
      });
    }
    return JSON.stringify(out);
  };
  return { m, mm, child, a, sh, sub, snap };
}

describe('@zonedev/mm: every entry point of the API report refuses bad values', () => {
  const w = world();
  const { m, mm, child, a, sh, sub } = w;
  const sys = m.sys;
  const core = m.core;
  const mf = new api.MemoryFailure({ core, system: () => sys });
  const inj = new api.HwpoisonInject(mf);
  const vma = (): Vma => mm.findVma(a)!;
  const pte = (): PresentPte => mm.pgd!.get(a) as PresentPte;
  const pfn = (): number => pte().pfn;
  const swp = (): SwpEntry => api.makeMigrationEntry(pfn(), true);
  const range = (): MmuNotifierRange => api.mmuNotifierRangeInit(MMU_NOTIFY_CLEAR, 0, mm, a, a + P);
  /** `migrate_pgmap_owner` is an opaque cookie, compared by address. */
  const owner = (_i: number, f: string): boolean => f === 'migratePgmapOwner';
  /** find_vma() of an address no double names exactly is above every mapping: NULL (see api-abuse.test.ts). */
  const aboveAll = (_i: number, v: unknown): boolean => v === Infinity || v === 2 ** 53 + 2 || v === 2 ** 64;
  const n = (x: unknown): number => x as number;
  const a_ = (...xs: unknown[]) => () => xs;
  /** A spec calling `obj[name](...args)`. */
  const on = <T extends object>(obj: T | (() => T), name: string, args: unknown[] | (() => unknown[]), allow?: Spec['allow']): Spec => ({
    args: typeof args === 'function' ? args : () => [...args],
    call: (xs) => {
      const o = (typeof obj === 'function' && !(obj instanceof MmStruct) ? (obj as () => T)() : obj) as Record<string, (...v: unknown[]) => unknown>;
      return o[name]!(...xs);
    },
    ...(allow === undefined ? {} : { allow }),
  });
  const ptes = (f: (p: PresentPte) => unknown): Spec => ({ args: () => [pte()], call: ([p]) => f(p as PresentPte) });
  const anyPte = (f: (p: Pte | undefined) => unknown): Spec => ({ args: () => [pte()], call: ([p]) => f(p as Pte), allow: (_i, v) => v === undefined /* pte_none */ });
  const entry = (f: (e: SwpEntry) => unknown): Spec => ({ args: () => [swp()], call: ([e]) => f(e as SwpEntry) });
  const flags = (f: (x: number) => unknown): Spec => ({ args: a_(RW), call: ([x]) => f(n(x)) });
  const onlyAtEnd = (k: number) => (i: number, v: unknown): boolean => i === k && v === undefined;
  const none = null;
  /** A file's path may be any string. */
  const anyPath = (_i: number, f: string, v: unknown): boolean => f === 'path' && typeof v === 'string';

  const specs: Record<string, Spec | null> = {
    // --- mm/memory.c, mm/gup.c, mm/rmap.c, mm/migrate.c
    accessProcessVm: { args: () => [mm, a, new Uint8Array(8), 0], call: ([x, ad, b, g]) => api.accessProcessVm(x as MmStruct, n(ad), b as Uint8Array, n(g)) },
    'AnonVma.constructor': { args: a_(null), call: ([p]) => new AnonVma(p as AnonVma), allow: onlyAtEnd(0) },
    anonVmaFork: { args: () => [new api.Vma(a, a + P, 0x73, 0, null), vma()], call: ([v, p]) => api.anonVmaFork(v as Vma, p as Vma) },
    anonVmaPrepare: { args: () => [vma()], call: ([v]) => api.anonVmaPrepare(v as Vma) },
    calcVmProtBits: flags(api.calcVmProtBits),
    copyPageRange: { args: () => [new api.Vma(a, a + P, 0x73, 0, null), vma()], call: ([d, s]) => api.copyPageRange(d as Vma, s as Vma) },
    devicePrivateEntryToPfn: entry(api.devicePrivateEntryToPfn),
    exceedsMayFlags: flags(api.exceedsMayFlags),
    formatPte: anyPte(api.formatPte),
    getUserPages: { args: () => [mm, a, 1, 0], call: ([x, s, k, g]) => api.getUserPages(x as MmStruct, n(s), n(k), n(g)) },
    getUserPagesRemote: { args: () => [mm, a, 1, 0], call: ([x, s, k, g]) => api.getUserPagesRemote(x as MmStruct, n(s), n(k), n(g)) },
    handleMmFault: { args: () => [vma(), a + 7 * P, 0x1], call: ([v, ad, f]) => api.handleMmFault(v as Vma, n(ad), n(f)) },
    isAnonMapping: { args: () => [new AnonVma()], call: ([x]) => api.isAnonMapping(x), allow: () => true /* any pointer */ },
    isCowMapping: flags(api.isCowMapping),
    isDevicePrivateEntry: entry(api.isDevicePrivateEntry),
    isHwpoisonEntry: entry(api.isHwpoisonEntry),
    isMigrationEntry: entry(api.isMigrationEntry),
    isolateLruPage: { args: () => [sys, 2 ** 40], call: ([s, p]) => api.isolateLruPage(s as never, n(p)) },
    isSwapPte: anyPte(api.isSwapPte),
    isWriteDevicePrivateEntry: entry(api.isWriteDevicePrivateEntry),
    isWriteMigrationEntry: entry(api.isWriteMigrationEntry),
    linearPageIndex: { args: () => [vma(), a, P], call: ([v, ad, ps]) => api.linearPageIndex(v as Vma, n(ad), n(ps)) },
    makeDevicePrivateEntry: { args: () => [pfn(), true], call: ([p, wr]) => api.makeDevicePrivateEntry(n(p), wr as boolean) },
    makeDevicePrivateEntryRead: entry(api.makeDevicePrivateEntryRead),
    makeHwpoisonEntry: { args: () => [pfn()], call: ([p]) => api.makeHwpoisonEntry(n(p)) },
    makeMigrationEntry: { args: () => [pfn(), true], call: ([p, wr]) => api.makeMigrationEntry(n(p), wr as boolean) },
    makeMigrationEntryRead: entry(api.makeMigrationEntryRead),
    migratePages: {
      args: () => [sys, [2 ** 40], () => undefined, undefined, MIGRATE_SYNC, MR_SYSCALL],
      call: ([s, f, g, p, md, r]) => api.migratePages(s as never, f as number[], g as never, p as never, n(md), n(r)),
      allow: (i, v) => i === 3 && v === undefined,
    },
    migrationEntryToPfn: entry(api.migrationEntryToPfn),
    mmuIntervalCheckRetry: { args: () => [sub, sub.invalidateSeq], call: ([s, q]) => api.mmuIntervalCheckRetry(s as never, n(q)) },
    mmuIntervalNotifierInsert: {
      args: () => [new MmuIntervalNotifier(), mm, a, P, { invalidate: () => true }],
      call: ([s, x, st, l, o]) => api.mmuIntervalNotifierInsert(s as never, x as never, st as number, l as number, o as never),
    },
    mmuIntervalNotifierRemove: { args: () => [new MmuIntervalNotifier()], call: ([s]) => api.mmuIntervalNotifierRemove(s as never) },
    mmuIntervalNotifierRemoveWait: { args: () => [child], call: ([x]) => api.mmuIntervalNotifierRemoveWait(x as never) },
    mmuIntervalReadBegin: { args: () => [sub], call: ([s]) => api.mmuIntervalReadBegin(s as never) },
    mmuIntervalReadBeginAsync: { args: () => [sub], call: ([s]) => api.mmuIntervalReadBeginAsync(s as never) },
    mmuIntervalReadRetry: { args: () => [sub, sub.invalidateSeq], call: ([s, q]) => api.mmuIntervalReadRetry(s as never, n(q)) },
    mmuIntervalSetSeq: { args: () => [sub, sub.invalidateSeq], call: ([s, q]) => api.mmuIntervalSetSeq(s as never, n(q)) },
    mmuNotifierEventName: { args: a_(MMU_NOTIFY_CLEAR), call: ([e]) => api.mmuNotifierEventName(e as never) },
    mmuNotifierInvalidateRangeEnd: { args: () => [range()], call: ([r]) => api.mmuNotifierInvalidateRangeEnd(r as never), allowField: owner },
    mmuNotifierInvalidateRangeStart: { args: () => [range()], call: ([r]) => api.mmuNotifierInvalidateRangeStart(r as never), allowField: owner },
    mmuNotifierInvalidateRangeStartNonblock: { args: () => [range()], call: ([r]) => api.mmuNotifierInvalidateRangeStartNonblock(r as never), allowField: owner },
    mmuNotifierRangeBlockable: { args: () => [range()], call: ([r]) => api.mmuNotifierRangeBlockable(r as never), allowField: owner },
    mmuNotifierRangeInit: { args: () => [MMU_NOTIFY_CLEAR, 0, mm, a, a + P], call: ([e, f, x, s, t]) => api.mmuNotifierRangeInit(e as never, n(f), x as never, n(s), n(t)) },
    mmuNotifierRangeInitMigrate: {
      args: () => [0, mm, a, a + P, null],
      call: ([f, x, s, t, o]) => api.mmuNotifierRangeInitMigrate(n(f), x as never, n(s), n(t), o),
      allow: (i) => i === 4 /* pgmap_owner: an opaque cookie */,
    },
    nonSwapEntry: entry(api.nonSwapEntry),
    pageAddAnonRmap: { args: () => [core, 2 ** 40, vma(), a, P], call: ([c, p, v, ad, ps]) => api.pageAddAnonRmap(c as never, n(p), v as Vma, n(ad), n(ps)) },
    pageAddFileRmap: { args: () => [core, 2 ** 40], call: ([c, p]) => api.pageAddFileRmap(c as never, n(p)) },
    pageAddNewAnonRmap: { args: () => [core, 2 ** 40, vma(), a, P], call: ([c, p, v, ad, ps]) => api.pageAddNewAnonRmap(c as never, n(p), v as Vma, n(ad), n(ps)) },
    pageDupRmap: { args: () => [core.memmap, 2 ** 40], call: ([s, p]) => api.pageDupRmap(s as never, n(p)) },
    pageMapcount: { args: () => [core.memmap, pfn()], call: ([s, p]) => api.pageMapcount(s as never, n(p)) },
    pageMaybeDmaPinned: { args: () => [sys, pfn()], call: ([s, p]) => api.pageMaybeDmaPinned(s as never, n(p)) },
    pageRemoveRmap: { args: () => [core, 2 ** 40], call: ([c, p]) => api.pageRemoveRmap(c as never, n(p)) },
    pagingGeometry: { args: a_(X86_64_4LEVEL), call: ([x]) => api.pagingGeometry(x as never), allowField: (_i, f, v) => f === 'name' && typeof v === 'string' },
    pfnPte: { args: () => [pfn(), RW], call: ([p, f]) => api.pfnPte(n(p), n(f)) },
    pfnPud: { args: () => [0x40000, RW], call: ([p, f]) => api.pfnPud(n(p), n(f)) },
    pinUserPages: { args: () => [mm, a, 1, FOLL_WRITE + 2 ** 40], call: ([x, s, k, g]) => api.pinUserPages(x as MmStruct, n(s), n(k), n(g)) },
    pinUserPagesRemote: { args: () => [mm, a, 1, FOLL_WRITE + 2 ** 40], call: ([x, s, k, g]) => api.pinUserPagesRemote(x as MmStruct, n(s), n(k), n(g)) },
    pmdHuge: ptes(api.pmdHuge),
    pmdMkhuge: ptes(api.pmdMkhuge),
    pteDevmap: ptes(api.pteDevmap),
    pteDirty: ptes(api.pteDirty),
    pteMkclean: ptes(api.pteMkclean),
    pteMkdevmap: ptes(api.pteMkdevmap),
    pteMkdirty: ptes(api.pteMkdirty),
    pteMkold: ptes(api.pteMkold),
    pteMkspecial: ptes(api.pteMkspecial),
    pteMkwrite: ptes(api.pteMkwrite),
    pteMkyoung: ptes(api.pteMkyoung),
    pteNone: anyPte(api.pteNone),
    ptePfn: ptes(api.ptePfn),
    ptePresent: anyPte(api.ptePresent),
    pteSpecial: ptes(api.pteSpecial),
    pteToSwpEntry: anyPte(api.pteToSwpEntry),
    pteValX86: anyPte(api.pteValX86),
    pteWrite: ptes(api.pteWrite),
    pteWrprotect: ptes(api.pteWrprotect),
    pteYoung: ptes(api.pteYoung),
    pudDevmap: ptes(api.pudDevmap),
    pudMkdevmap: ptes(api.pudMkdevmap),
    pudMkhuge: ptes(api.pudMkhuge),
    pudTransHuge: ptes(api.pudTransHuge),
    putbackLruPage: { args: () => [sys, 2 ** 40], call: ([s, p]) => api.putbackLruPage(s as never, n(p)) },
    removeMigrationPtes: { args: () => [sys, 2 ** 40, 2 ** 40 + 1], call: ([s, o, x]) => api.removeMigrationPtes(s as never, n(o), n(x)) },
    rmapWalkAnon: { args: () => [core.memmap, pfn(), P, () => undefined], call: ([s, p, ps, f]) => api.rmapWalkAnon(s as never, n(p), n(ps), f as never) },
    showMapVma: { args: () => [vma()], call: ([v]) => api.showMapVma(v as Vma) },
    showSmap: { args: () => [vma()], call: ([v]) => api.showSmap(v as Vma) },
    swpEntry: { args: a_(1, 5), call: ([t, o]) => api.swpEntry(n(t), o as number) },
    swpEntryFromValue: { args: a_(5n), call: ([v]) => api.swpEntryFromValue(v as bigint) },
    swpEntryToPte: entry(api.swpEntryToPte),
    swpOffset: entry(api.swpOffset),
    swpType: entry(api.swpType),
    taskMem: { args: () => [mm], call: ([x]) => api.taskMem(x as MmStruct) },
    tryToUnmap: { args: () => [sys, 2 ** 40, 0], call: ([s, p, f]) => api.tryToUnmap(s as never, n(p), n(f)) },
    unlinkAnonVmas: { args: () => [new api.Vma(a, a + P, 0x73, 0, null)], call: ([v]) => api.unlinkAnonVmas(v as Vma) },
    unpinUserPage: { args: () => [sys, 2 ** 40], call: ([s, p]) => api.unpinUserPage(s as never, n(p)) },
    unpinUserPages: { args: () => [sys, [2 ** 40]], call: ([s, p]) => api.unpinUserPages(s as never, p as number[]) },
    unpinUserPagesDirtyLock: { args: () => [sys, [2 ** 40], true], call: ([s, p, d]) => api.unpinUserPagesDirtyLock(s as never, p as number[], d as boolean) },
    userFault: { args: () => [mm, a, 'read'], call: ([x, ad, k]) => api.userFault(x as MmStruct, n(ad), k as never) },
    'UserFaultSignal.constructor': {
      args: () => ['SIGSEGV', 'SEGV_MAPERR', a, 0],
      call: ([s, c, ad, f]) => new api.UserFaultSignal(s as never, c as never, n(ad), f as never),
    },
    userRead: { args: () => [mm, a, 8], call: ([x, ad, l]) => userRead(x as MmStruct, n(ad), n(l)) },
    userWrite: { args: () => [mm, a + 4 * P, new Uint8Array(1)], call: ([x, ad, d]) => userWrite(x as MmStruct, n(ad), d as Uint8Array) },
    vmaAddress: { args: () => [vma(), 0, P], call: ([v, i, ps]) => api.vmaAddress(v as Vma, n(i), n(ps)) },
    vmfInsertMixed: { args: () => [vma(), a, { pfn: 2 ** 40, flags: 0n }], call: ([v, ad, p]) => api.vmfInsertMixed(v as Vma, n(ad), p as never) },
    vmfInsertMixedMkwrite: { args: () => [vma(), a, { pfn: 2 ** 40, flags: 0n }], call: ([v, ad, p]) => api.vmfInsertMixedMkwrite(v as Vma, n(ad), p as never) },
    vmfInsertPfn: { args: () => [vma(), a, 2 ** 40], call: ([v, ad, p]) => api.vmfInsertPfn(v as Vma, n(ad), n(p)) },
    vmfInsertPfnPmd: {
      args: () => [vmf(), { pfn: 2 ** 40, flags: 0n }, true],
      call: ([f, p, wr]) => api.vmfInsertPfnPmd(f as VmFault, p as never, wr as boolean),
    },
    vmfInsertPfnPud: {
      args: () => [vmf(), { pfn: 2 ** 40, flags: 0n }, true],
      call: ([f, p, wr]) => api.vmfInsertPfnPud(f as VmFault, p as never, wr as boolean),
    },
    vmGetPageProt: flags(api.vmGetPageProt),
    x86MmapBase: { args: a_(2 ** 47, 8 * 2 ** 20, P), call: ([t, s, ps]) => api.x86MmapBase(n(t), s as number, ps as number), allow: (i, v) => i > 0 && v === undefined },
    zapPageRange: { args: () => [vma(), a + 7 * P, a + 8 * P], call: ([v, s, e]) => api.zapPageRange(v as Vma, n(s), n(e)) },

    // --- mm/memory-failure.c (a pfn with no struct page: ENXIO, nothing changes)
    'MemoryFailure.constructor': { args: () => [{ core, system: () => sys }], call: ([o]) => new api.MemoryFailure(o as never), allowField: (_i, f, v) => f === 'system' && v === undefined },
    'MemoryFailure.memoryFailure': on(() => mf, 'memoryFailure', () => [2 ** 40, 0]),
    'MemoryFailure.softOfflinePage': on(() => mf, 'softOfflinePage', () => [2 ** 40, 0]),
    'MemoryFailure.unpoisonMemory': on(() => mf, 'unpoisonMemory', () => [2 ** 40]),
    'MemoryFailure.hwpoisonFiltered': on(() => mf, 'hwpoisonFiltered', () => [pfn()]),
    'MemoryFailure.stablePageFlags': on(() => mf, 'stablePageFlags', () => [pfn()]),

    // --- mm/hwpoison-inject.c (loaded once: a second load is EEXIST)
    'HwpoisonInject.constructor': { args: () => [mf], call: ([x]) => new api.HwpoisonInject(x as never) },
    'HwpoisonInject.exit': none,
    'HwpoisonInject.hwpoisonInject': on(() => inj, 'hwpoisonInject', () => [2 ** 40]),

    // --- struct mm_struct
    'MmStruct.constructor': { args: () => [900, { system: sys }], call: ([p, o]) => new MmStruct(n(p), o as never), allow: onlyAtEnd(1), allowField: (_i, f, v) => f === 'system' && v === undefined /* an mm without page tables */ },
    'MmStruct.addRss': on(child, 'addRss', [api.MM_SWAPENTS, 0], (i, v) => i === 1 && v === -1 /* a decrement */),
    'MmStruct.exitMmap': none,
    'MmStruct.findVma': on(mm, 'findVma', [a], aboveAll),
    'MmStruct.findVmaIntersection': on(mm, 'findVmaIntersection', [a, a + P], aboveAll),
    'MmStruct.fork': on(mm, 'fork', [mm.pid]),
    'MmStruct.getMmCounter': on(mm, 'getMmCounter', [api.MM_ANONPAGES]),
    'MmStruct.getMmRss': none,
    'MmStruct.madvise': on(mm, 'madvise', [a, P, 0x10000]),
    'MmStruct.mmap': { args: () => [{ length: 2 ** 60, prot: RW, flags: MAP_PRIVATE + MAP_ANONYMOUS }], call: ([x]) => mm.mmap(x as never), allowField: () => false },
    'MmStruct.mmput': none,
    'MmStruct.mprotect': on(mm, 'mprotect', [a, 2 ** 40, PROT_READ]),
    'MmStruct.munmap': on(mm, 'munmap', [a + 2 ** 40, P]),
    'MmStruct.procMaps': none,
    'MmStruct.procSmaps': none,
    'MmStruct.procStatusMem': none,
    'MmStruct.vmas': none,

    // --- the machine's page pool, as mm sees it
    'MmSystem.constructor': { args: () => [{ core, arch: X86_64_4LEVEL }], call: ([o]) => new api.MmSystem(o as never), allowField: () => false },
    'MmSystem.allocUserPage': { args: () => [true, mm], call: ([z, x]) => sys.allocUserPage(z as boolean, x as never), allow: onlyAtEnd(1) },
    'MmSystem.copyHighpage': on(sys, 'copyHighpage', () => [2 ** 40, pfn()]),
    'MmSystem.findMm': on(sys, 'findMm', [mm.pid]),
    'MmSystem.getPage': on(sys, 'getPage', [2 ** 40]),
    'MmSystem.isDeviceFsdaxPage': on(sys, 'isDeviceFsdaxPage', () => [pfn()]),
    'MmSystem.isDevicePrivatePage': on(sys, 'isDevicePrivatePage', () => [pfn()]),
    'MmSystem.isShmemPage': on(sys, 'isShmemPage', () => [pfn()]),
    'MmSystem.isZeroPfn': on(sys, 'isZeroPfn', () => [pfn()]),
    'MmSystem.isZoneDevicePage': on(sys, 'isZoneDevicePage', () => [pfn()]),
    'MmSystem.lruCacheAdd': on(sys, 'lruCacheAdd', [2 ** 40]),
    'MmSystem.mkPte': { args: () => [pfn(), vma()], call: ([p, v]) => sys.mkPte(n(p), v as Vma) },
    'MmSystem.mmCounter': on(sys, 'mmCounter', () => [pfn()]),
    'MmSystem.mms': none,
    'MmSystem.newPageTable': none,
    'MmSystem.pageAnon': on(sys, 'pageAnon', () => [pfn()]),
    'MmSystem.pageCount': on(sys, 'pageCount', () => [pfn()]),
    'MmSystem.pageMapcount': on(sys, 'pageMapcount', () => [pfn()]),
    'MmSystem.pagePgmap': on(sys, 'pagePgmap', () => [pfn()]),
    'MmSystem.pfnValid': on(sys, 'pfnValid', () => [pfn()]),
    'MmSystem.putPage': on(sys, 'putPage', [2 ** 40]),
    'MmSystem.readPage': on(sys, 'readPage', () => [pfn(), 0, 8]),
    'MmSystem.register': on(sys, 'register', () => [mm]),
    'MmSystem.shmemErrorRemovePage': on(sys, 'shmemErrorRemovePage', [2 ** 40]),
    'MmSystem.shmemMoveMapping': on(sys, 'shmemMoveMapping', [2 ** 40, 2 ** 40 + 1]),
    'MmSystem.shmemPages': { ...on(sys, 'shmemPages', () => [mm.findVma(sh)!.vmFile]), allowField: anyPath },
    'MmSystem.shmemRelease': {
      args: () => [{ path: '/dev/zero (deleted)', ino: 99, devMajor: 0, devMinor: 1, readable: true, writable: true }],
      call: ([f]) => sys.shmemRelease(f as never),
      allowField: anyPath,
    },
    'MmSystem.unregister': on(sys, 'unregister', () => [new MmStruct(901)]),
    'MmSystem.vmNormalPage': { args: () => [vma(), pte()], call: ([v, p]) => sys.vmNormalPage(v as Vma, p as never) },
    'MmSystem.writePage': on(sys, 'writePage', () => [pfn(), 2 * P, new Uint8Array(1)]),
    'MmSystem.zeroPagePte': on(sys, 'zeroPagePte', [PROT_READ]),

    // --- notifiers
    'MmuNotifierSubscriptions.defer': on(() => mm.notifierSubscriptions!, 'defer', () => [new MmuIntervalNotifier()]),
    'MmuNotifierSubscriptions.deferred': none,
    'MmuNotifierSubscriptions.intervals': none,
    'MmuNotifierSubscriptions.inTree': on(() => mm.notifierSubscriptions!, 'inTree', () => [sub]),
    'MmuNotifierSubscriptions.invEnd': none,
    'MmuNotifierSubscriptions.isInvalidating': none,
    'MmuNotifierSubscriptions.overlapping': on(() => mm.notifierSubscriptions!, 'overlapping', [0n, 1n]),
    'MmuNotifierSubscriptions.treeInsert': on(() => mm.notifierSubscriptions!, 'treeInsert', () => [sub]),
    'MmuNotifierSubscriptions.treeRemove': on(() => mm.notifierSubscriptions!, 'treeRemove', () => [new MmuIntervalNotifier()]),
    'MmuNotifierSubscriptions.undefer': on(() => mm.notifierSubscriptions!, 'undefer', () => [new MmuIntervalNotifier()]),
    'MmuNotifierSubscriptions.waitFor': on(() => mm.notifierSubscriptions!, 'waitFor', () => [sub.invalidateSeq]),

    // --- page tables
    'PageTable.constructor': { args: a_(X86_64_4LEVEL), call: ([x]) => new PageTable(x as never), allowField: (_i, f, v) => f === 'name' && typeof v === 'string' },
    'PageTable.clear': on(() => mm.pgd!, 'clear', [a + 2 ** 40]),
    'PageTable.clearPmd': on(() => mm.pgd!, 'clearPmd', [a + 2 ** 40]),
    'PageTable.clearPud': on(() => mm.pgd!, 'clearPud', [a + 2 ** 40]),
    'PageTable.freePgtables': on(() => mm.pgd!, 'freePgtables', [a + 2 ** 40, a + 2 ** 41]),
    'PageTable.get': on(() => mm.pgd!, 'get', [a]),
    'PageTable.getPmd': on(() => mm.pgd!, 'getPmd', [a]),
    'PageTable.getPud': on(() => mm.pgd!, 'getPud', [a]),
    'PageTable.hasPteTable': on(() => mm.pgd!, 'hasPteTable', [a]),
    'PageTable.pgtablesBytes': none,
    'PageTable.pteTable': on(() => mm.pgd!, 'pteTable', [a]),
    'PageTable.pudNone': on(() => mm.pgd!, 'pudNone', [a]),
    'PageTable.set': on(() => new PageTable(X86_64_4LEVEL), 'set', () => [a, pte()]),
    'PageTable.setPmd': on(() => new PageTable(X86_64_4LEVEL), 'setPmd', () => [0, api.pmdMkhuge(api.pfnPte(0x200, RW))]),
    'PageTable.setPud': on(() => new PageTable(X86_64_4LEVEL), 'setPud', () => [0, api.pudMkhuge(api.pfnPud(0x40000, RW))]),
    'PageTable.walk': on(() => mm.pgd!, 'walk', () => [a, a + P, () => undefined]),

    // --- struct vm_area_struct
    'Vma.constructor': { args: a_(a, a + P, 0x73, 0, null), call: ([s, e, f, o, fl]) => new api.Vma(n(s), n(e), n(f), n(o), fl as never) },
    'Vma.isAnonymous': none,
  };

  function vmf(): VmFault {
    return { vma: vma(), address: a, pgoff: 0, flags: 1, gfpMask: GFP_HIGHUSER_MOVABLE, page: undefined, cowPage: undefined };
  }

  it('the table covers every function and method of the API report, and nothing else', () => {
    const keys = [...new Set(ENTRIES.map((e) => e.key))].sort();
    expect(keys.length).toBeGreaterThan(170);
    expect(Object.keys(specs).sort()).toEqual(keys);
    for (const [k, s] of Object.entries(specs)) if (s === null) expect(ENTRIES.find((e) => e.key === k)!.optional, k).toEqual([]);
  });

  it('each bad value in each parameter and field is refused with a KernelError or KernelBug, the machine unchanged', () => {
    const t = abuse(ENTRIES, specs, w.snap, refused);
    expect(t.failures).toEqual([]);
    expect(t.calls).toBeGreaterThan(2000);
    // the world still works: the written page reads back
    expect([...userRead(mm, a + P, 2)]).toEqual([2, 2]);
    expect(BAD.length).toBe(9);
  });
});
