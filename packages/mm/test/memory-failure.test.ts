// Memory failure: memory_failure() and soft_offline_page() of
// mm/memory-failure.c (v5.13) on free, kernel, reserved, anonymous and shmem
// pages: the dmesg lines, the errnos, what happens to the page and to the
// process that maps it.
import { GFP_KERNEL, PG_error, PG_lru, PG_reserved } from '@zonedev/mmzone';
import { describe, expect, it } from 'vitest';
import {
  FOLL_WRITE, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, MF_ACTION_REQUIRED, MF_COUNT_INCREASED, MM_ANONPAGES, MM_SHMEMPAGES,
  MemoryFailure, PROT_READ, PROT_WRITE, UserFaultSignal, isHwpoisonEntry, pinUserPages, pteToSwpEntry, swpOffset,
  unpinUserPages, userRead, userWrite,
} from '../src/index.js';
import type { MmStruct } from '../src/index.js';
import { bootMachine, dec, enc, newMm } from './machine.js';
import type { Machine } from './machine.js';
import { expectErrno } from './helpers.js';

const RW = PROT_READ + PROT_WRITE;

function setup(): { m: Machine; mf: MemoryFailure; hw: number } {
  const m = bootMachine();
  const mf = new MemoryFailure({ core: m.core, system: () => m.sys });
  m.kernel.log.clear();
  return { m, mf, hw: m.core.config.pageflags.PG_hwpoison! };
}

/** A process with one written anonymous (or shared anonymous) page; its pfn. */
function userPage(m: Machine, flags = MAP_PRIVATE + MAP_ANONYMOUS): { mm: MmStruct; addr: number; pfn: number } {
  const mm = newMm(m);
  const addr = mm.mmap({ length: 4 * 4096, prot: RW, flags });
  userWrite(mm, addr, enc('poison me'));
  const pte = mm.pgd!.get(addr);
  if (pte?.kind !== 'present') throw new Error('not mapped');
  m.kernel.log.clear();
  return { mm, addr, pfn: pte.pfn };
}

function dmesg(m: Machine): string[] {
  return m.kernel.log.dmesg().split('\n').filter((l) => l !== '').map((l) => l.replace(/^\[[ .0-9]+\] /, ''));
}

const hex = (n: number): string => `0x${n.toString(16)}`;

describe('memory_failure()', () => {
  it('takes a free buddy page off the allocator for good', () => {
    const { m, mf, hw } = setup();
    const pfn = m.core.allocPages(GFP_KERNEL, 0)!;
    m.core.putPage(pfn);
    expect(m.core.isFreeBuddyPage(pfn)).toBe(true);
    const free = m.core.nrFreePages();
    mf.memoryFailure(pfn, 0);
    expect(dmesg(m)).toEqual([`Memory failure: ${hex(pfn)}: recovery action for free buddy page: Recovered`]);
    expect(m.core.memmap.testPageFlag(pfn, hw)).toBe(true);
    expect(m.core.memmap.pageRefCount(pfn)).toBe(1);
    expect(m.core.isFreeBuddyPage(pfn)).toBe(false);
    expect(m.core.nrFreePages()).toBe(free - 1);
    expect(mf.numPoisonedPages).toBe(1);
    // its buddies stay free
    expect(m.core.isFreeBuddyPage(pfn + 1)).toBe(true);
  });

  it('refuses a page poisoned before with EHWPOISON, counting it once', () => {
    const { m, mf } = setup();
    const pfn = m.core.allocPages(GFP_KERNEL, 0)!;
    m.core.putPage(pfn);
    mf.memoryFailure(pfn, 0);
    m.kernel.log.clear();
    expectErrno(() => mf.memoryFailure(pfn, 0), 'EHWPOISON');
    expect(dmesg(m)).toEqual([`Memory failure: ${hex(pfn)}: already hardware poisoned`]);
    expect(mf.numPoisonedPages).toBe(1);
  });

  it('unmaps a dirty anonymous page: the PTE becomes a hwpoison entry and the next access is SIGBUS', () => {
    const { m, mf, hw } = setup();
    const { mm, addr, pfn } = userPage(m);
    const rss = mm.getMmCounter(MM_ANONPAGES);
    mf.memoryFailure(pfn, 0);
    expect(dmesg(m)).toEqual([`Memory failure: ${hex(pfn)}: recovery action for dirty LRU page: Recovered`]);
    const pte = mm.pgd!.get(addr)!;
    expect(pte.kind).toBe('swap');
    expect(isHwpoisonEntry(pteToSwpEntry(pte))).toBe(true);
    expect(swpOffset(pteToSwpEntry(pte))).toBe(BigInt(pfn));
    expect(mm.getMmCounter(MM_ANONPAGES)).toBe(rss - 1);
    const store = m.core.memmap;
    expect(store.pageRefCount(pfn)).toBe(1);
    expect(store.pageMapcount(pfn)).toBe(0);
    expect(store.testPageFlag(pfn, PG_lru)).toBe(false);
    expect(store.testPageFlag(pfn, PG_error)).toBe(true);
    expect(store.testPageFlag(pfn, hw)).toBe(true);
    let sig: unknown;
    try {
      userRead(mm, addr, 1);
    } catch (e) {
      sig = e;
    }
    expect(sig).toBeInstanceOf(UserFaultSignal);
    expect((sig as UserFaultSignal).signal).toBe('SIGBUS');
    expect((sig as UserFaultSignal).code).toBe('BUS_MCEERR_AR');
    expect((sig as UserFaultSignal).address).toBe(addr);
    // the rest of the mapping still works, and exit never frees the poisoned frame
    userWrite(mm, addr + 4096, enc('ok'));
    expect(dec(userRead(mm, addr + 4096, 2))).toBe('ok');
    const free = m.core.nrFreePages();
    mm.mmput();
    expect(store.pageRefCount(pfn)).toBe(1);
    expect(m.core.isFreeBuddyPage(pfn)).toBe(false);
    expect(m.core.nrFreePages()).toBe(free + 1); // the second page only
  });

  it('a hwpoison entry survives fork and mprotect, and munmap drops it', () => {
    const { m, mf } = setup();
    const { mm, addr, pfn } = userPage(m);
    mf.memoryFailure(pfn, 0);
    const child = mm.fork(101);
    const isPoison = (t: MmStruct): boolean => {
      const pte = t.pgd!.get(addr);
      return pte !== undefined && pte.kind === 'swap' && isHwpoisonEntry(pte.entry);
    };
    expect(isPoison(child)).toBe(true);
    expect(() => userRead(child, addr, 1)).toThrow(UserFaultSignal);
    mm.mprotect(addr, 4096, PROT_READ);
    expect(isPoison(mm)).toBe(true);
    mm.munmap(addr, 4096);
    expect(mm.pgd!.get(addr)).toBeUndefined();
    child.mmput();
    mm.mmput();
    expect(m.core.memmap.pageRefCount(pfn)).toBe(1);
  });

  it('fails on a pinned page, which stays poisoned and unmapped', () => {
    const { m, mf, hw } = setup();
    const { mm, addr, pfn } = userPage(m);
    const pins = pinUserPages(mm, addr, 1, FOLL_WRITE);
    m.kernel.log.clear();
    expectErrno(() => mf.memoryFailure(pfn, 0), 'EBUSY');
    expect(dmesg(m)).toEqual([
      `Memory failure: ${hex(pfn)}: dirty LRU page still referenced by 1024 users`,
      `Memory failure: ${hex(pfn)}: recovery action for dirty LRU page: Failed`,
    ]);
    expect(m.core.memmap.testPageFlag(pfn, hw)).toBe(true);
    expect(mf.numPoisonedPages).toBe(1);
    expect(isHwpoisonEntry(pteToSwpEntry(mm.pgd!.get(addr)!))).toBe(true);
    unpinUserPages(m.sys, pins);
    expect(m.core.memmap.pageRefCount(pfn)).toBe(1);
  });

  it('punches a shmem page out of its file', () => {
    const { m, mf } = setup();
    const { mm, addr, pfn } = userPage(m, MAP_SHARED + MAP_ANONYMOUS);
    const file = mm.findVma(addr)!.vmFile!;
    expect(m.sys.shmemPages(file).get(0)).toBe(pfn);
    const shmem = mm.getMmCounter(MM_SHMEMPAGES);
    mf.memoryFailure(pfn, 0);
    expect(dmesg(m)).toEqual([`Memory failure: ${hex(pfn)}: recovery action for dirty LRU page: Recovered`]);
    expect(m.sys.shmemPages(file).has(0)).toBe(false);
    expect(m.core.memmap.pageMapping(pfn)).toBeUndefined();
    expect(m.core.memmap.pageRefCount(pfn)).toBe(1);
    expect(mm.getMmCounter(MM_SHMEMPAGES)).toBe(shmem - 1);
    expect(() => userWrite(mm, addr, enc('x'))).toThrow(UserFaultSignal);
  });

  it('ignores a reserved kernel page and fails while the kernel holds it', () => {
    const { m, mf, hw } = setup();
    const zero = m.sys.zeroPfn;
    expect(m.core.memmap.testPageFlag(zero, PG_reserved)).toBe(true);
    expectErrno(() => mf.memoryFailure(zero, 0), 'EBUSY');
    expect(dmesg(m)).toEqual([
      `Memory failure: ${hex(zero)}: reserved kernel page still referenced by 1 users`,
      `Memory failure: ${hex(zero)}: recovery action for reserved kernel page: Failed`,
    ]);
    expect(m.core.memmap.testPageFlag(zero, hw)).toBe(true);
    expect(m.core.memmap.pageRefCount(zero)).toBe(2);
  });

  it('reports a kernel allocation as an unknown page', () => {
    const { m, mf } = setup();
    const pfn = m.core.allocPages(GFP_KERNEL, 0)!;
    expectErrno(() => mf.memoryFailure(pfn, 0), 'EBUSY');
    expect(dmesg(m)).toEqual([
      `Memory failure: ${hex(pfn)}: Unknown page state`,
      `Memory failure: ${hex(pfn)}: unknown page still referenced by 1 users`,
      `Memory failure: ${hex(pfn)}: recovery action for unknown page: Failed`,
    ]);
  });

  it('says "memory outside kernel control" for a pfn without memory', () => {
    const { m, mf } = setup();
    expectErrno(() => mf.memoryFailure(0x1000000, 0), 'ENXIO');
    expect(dmesg(m)).toEqual(['Memory failure: 0x1000000: memory outside kernel control']);
    expect(mf.numPoisonedPages).toBe(0);
  });

  it('records memory_failure, take_page_off_buddy and try_to_unmap in the function graph', () => {
    const { m, mf } = setup();
    const free = m.core.allocPages(GFP_KERNEL, 0)!;
    m.core.putPage(free);
    const { pfn } = userPage(m);
    m.kernel.tracer.on();
    mf.memoryFailure(free, 0);
    mf.memoryFailure(pfn, 0);
    mf.softOfflinePage(free, 0);
    m.kernel.tracer.off();
    const calls = m.kernel.tracer.events
      .filter((e) => e.kind === 'entry' && ['memory_failure', 'take_page_off_buddy', 'try_to_unmap', 'soft_offline_page'].includes(e.name))
      .map((e) => `${e.depth} ${e.name}(${e.args.join(', ')})`);
    expect(calls).toEqual([
      `0 memory_failure(${hex(free)}, 0)`,
      `1 take_page_off_buddy(${hex(free)})`,
      `0 memory_failure(${hex(pfn)}, 0)`,
      `1 try_to_unmap(mm, ${hex(pfn)}, 8)`,
      `0 soft_offline_page(${hex(free)}, 0)`,
    ]);
  });

  it('refuses bad arguments before printing or changing anything', () => {
    const { m, mf } = setup();
    const pfn = m.core.allocPages(GFP_KERNEL, 0)!;
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53 + 2]) expectErrno(() => mf.memoryFailure(bad, 0), 'EINVAL');
    expectErrno(() => mf.memoryFailure(pfn, 16), 'EINVAL');
    expectErrno(() => mf.memoryFailure(pfn, MF_ACTION_REQUIRED), 'EINVAL');
    expectErrno(() => mf.softOfflinePage(pfn, -1), 'EINVAL');
    expect(dmesg(m)).toEqual([]);
    expect(mf.numPoisonedPages).toBe(0);
    expect(() => new MemoryFailure({ core: null as never })).toThrow();
  });

  it('takes the caller reference with MF_COUNT_INCREASED', () => {
    const { m, mf } = setup();
    const { pfn } = userPage(m);
    m.sys.getPage(pfn);
    mf.memoryFailure(pfn, MF_COUNT_INCREASED);
    expect(dmesg(m)).toEqual([`Memory failure: ${hex(pfn)}: recovery action for dirty LRU page: Recovered`]);
    expect(m.core.memmap.pageRefCount(pfn)).toBe(1);
  });
});

describe('soft_offline_page()', () => {
  it('migrates an in-use anonymous page away and poisons the old frame', () => {
    const { m, mf, hw } = setup();
    const { mm, addr, pfn } = userPage(m);
    mf.softOfflinePage(pfn, 0);
    expect(dmesg(m)).toEqual([]);
    const pte = mm.pgd!.get(addr)!;
    expect(pte.kind).toBe('present');
    const moved = (pte as { pfn: number }).pfn;
    expect(moved).not.toBe(pfn);
    expect(dec(userRead(mm, addr, 9))).toBe('poison me');
    const store = m.core.memmap;
    expect(store.testPageFlag(pfn, hw)).toBe(true);
    expect(store.testPageFlag(moved, hw)).toBe(false);
    expect(store.pageRefCount(pfn)).toBe(1);
    expect(store.pageMapcount(pfn)).toBe(0);
    expect(m.core.isFreeBuddyPage(pfn)).toBe(false);
    expect(mf.numPoisonedPages).toBe(1);
    // again: already poisoned, and success
    mf.softOfflinePage(pfn, 0);
    expect(dmesg(m)).toEqual([`soft_offline_page: ${hex(pfn)} page already poisoned`]);
    expect(mf.numPoisonedPages).toBe(1);
    // and memory_failure() on it afterwards
    m.kernel.log.clear();
    expectErrno(() => mf.memoryFailure(pfn, 0), 'EHWPOISON');
  });

  it('takes a free page off the buddy lists', () => {
    const { m, mf, hw } = setup();
    const pfn = m.core.allocPages(GFP_KERNEL, 0)!;
    m.core.putPage(pfn);
    const free = m.core.nrFreePages();
    mf.softOfflinePage(pfn, 0);
    expect(dmesg(m)).toEqual([]);
    expect(m.core.memmap.testPageFlag(pfn, hw)).toBe(true);
    expect(m.core.memmap.pageRefCount(pfn)).toBe(1);
    expect(m.core.nrFreePages()).toBe(free - 1);
    expect(mf.numPoisonedPages).toBe(1);
  });

  it('refuses a kernel page with EIO, leaving it alone', () => {
    const { m, mf, hw } = setup();
    const pfn = m.core.allocPages(GFP_KERNEL, 0)!;
    expectErrno(() => mf.softOfflinePage(pfn, 0), 'EIO');
    const lines = dmesg(m);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(`soft_offline_page: ${hex(pfn)}: unknown page type: ${m.core.memmap.pageFlagsHi(pfn).toString(16)}${m.core.memmap.pageFlagsLo(pfn).toString(16).padStart(8, '0')} ()`);
    expect(m.core.memmap.testPageFlag(pfn, hw)).toBe(false);
    expect(m.core.memmap.pageRefCount(pfn)).toBe(1);
    expect(mf.numPoisonedPages).toBe(0);
  });

  it('gives a pinned page back when the migration fails', () => {
    const { m, mf, hw } = setup();
    const { mm, addr, pfn } = userPage(m);
    const pins = pinUserPages(mm, addr, 1, FOLL_WRITE);
    m.kernel.log.clear();
    const refs = m.core.memmap.pageRefCount(pfn);
    expectErrno(() => mf.softOfflinePage(pfn, 0), 'EBUSY');
    const lines = dmesg(m);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^soft offline: ${hex(pfn)}: page migration failed 1, type [0-9a-f]+ \\(dirty\\|lru\\|swapbacked\\)$`));
    expect(m.core.memmap.testPageFlag(pfn, hw)).toBe(false);
    expect(m.core.memmap.testPageFlag(pfn, PG_lru)).toBe(true);
    expect(m.core.memmap.pageRefCount(pfn)).toBe(refs);
    expect((mm.pgd!.get(addr) as { pfn: number }).pfn).toBe(pfn);
    unpinUserPages(m.sys, pins);
    expect(mf.numPoisonedPages).toBe(0);
  });

  it('moves a shmem page, keeping the file contents', () => {
    const { m, mf } = setup();
    const { mm, addr, pfn } = userPage(m, MAP_SHARED + MAP_ANONYMOUS);
    const file = mm.findVma(addr)!.vmFile!;
    mf.softOfflinePage(pfn, 0);
    const moved = m.sys.shmemPages(file).get(0)!;
    expect(moved).not.toBe(pfn);
    expect(dec(userRead(mm, addr, 9))).toBe('poison me');
    expect(mf.numPoisonedPages).toBe(1);
  });

  it('refuses a pfn without a struct page with ENXIO', () => {
    const { m, mf } = setup();
    expectErrno(() => mf.softOfflinePage(0x1000000, 0), 'ENXIO');
    expect(dmesg(m)).toEqual([]);
  });
});
