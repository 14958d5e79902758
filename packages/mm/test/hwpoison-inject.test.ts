// hwpoison-inject (mm/hwpoison-inject.c, v5.13) and unpoison_memory()
// (mm/memory-failure.c, v5.13): the debugfs files, injection on free and
// mapped pages, unpoison and its refusals, the filters, and the errnos.
import { GFP_KERNEL, PG_lru } from '@zonedev/mmzone';
import { describe, expect, it } from 'vitest';
import {
  FOLL_WRITE, HWPOISON_DEBUGFS_DIR, HwpoisonInject, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, MemoryFailure, PROT_READ,
  PROT_WRITE, pinUserPages, unpinUserPages, userWrite,
} from '../src/index.js';
import type { MmStruct } from '../src/index.js';
import { bootMachine, enc, newMm } from './machine.js';
import type { Machine } from './machine.js';
import { expectErrno } from './helpers.js';

const RW = PROT_READ + PROT_WRITE;
const DIR = HWPOISON_DEBUGFS_DIR;

function setup(): { m: Machine; mf: MemoryFailure; inj: HwpoisonInject; hw: number } {
  const m = bootMachine();
  const mf = new MemoryFailure({ core: m.core, system: () => m.sys });
  const inj = new HwpoisonInject(mf);
  m.kernel.log.clear();
  return { m, mf, inj, hw: m.core.config.pageflags.PG_hwpoison! };
}

function userPage(m: Machine, flags = MAP_PRIVATE + MAP_ANONYMOUS): { mm: MmStruct; addr: number; pfn: number } {
  const mm = newMm(m);
  const addr = mm.mmap({ length: 2 * 4096, prot: RW, flags });
  userWrite(mm, addr, enc('poison me'));
  const pte = mm.pgd!.get(addr);
  if (pte?.kind !== 'present') throw new Error('not mapped');
  m.kernel.log.clear();
  return { mm, addr, pfn: pte.pfn };
}

function freePage(m: Machine): number {
  const pfn = m.core.allocPages(GFP_KERNEL, 0)!;
  m.core.putPage(pfn);
  return pfn;
}

function dmesg(m: Machine): string[] {
  return m.kernel.log.dmesg().split('\n').filter((l) => l !== '').map((l) => l.replace(/^\[[ .0-9]+\] /, ''));
}

const hex = (n: number): string => `0x${n.toString(16)}`;
const write = (m: Machine, file: string, v: string): void => m.kernel.sysfs.write(`${DIR}/${file}`, v);
const read = (m: Machine, file: string): string => m.kernel.sysfs.read(`${DIR}/${file}`);

describe('hwpoison_inject module', () => {
  it('creates /sys/kernel/debug/hwpoison with the modes of v5.13 and removes it on exit', () => {
    const { m, inj } = setup();
    expect(m.kernel.sysfs.list(DIR)).toEqual([
      'corrupt-filter-dev-major', 'corrupt-filter-dev-minor', 'corrupt-filter-enable', 'corrupt-filter-flags-mask',
      'corrupt-filter-flags-value', 'corrupt-pfn', 'unpoison-pfn',
    ]);
    expect(m.kernel.sysfs.stat(`${DIR}/corrupt-pfn`).mode % 0o1000).toBe(0o200);
    expect(m.kernel.sysfs.stat(`${DIR}/unpoison-pfn`).mode % 0o1000).toBe(0o200);
    expect(m.kernel.sysfs.stat(`${DIR}/corrupt-filter-enable`).mode % 0o1000).toBe(0o600);
    expect(read(m, 'corrupt-filter-enable')).toBe('0\n');
    expect(read(m, 'corrupt-filter-dev-major')).toBe('4294967295\n');
    expect(read(m, 'corrupt-filter-dev-minor')).toBe('4294967295\n');
    expect(read(m, 'corrupt-filter-flags-mask')).toBe('0\n');
    expectErrno(() => read(m, 'corrupt-pfn'), 'EACCES');
    // a second load finds the directory taken
    expectErrno(() => new HwpoisonInject(inj.mf), 'EEXIST');
    inj.exit();
    expect(m.kernel.sysfs.exists(DIR)).toBe(false);
    inj.exit();
    expect(() => new HwpoisonInject(inj.mf)).not.toThrow();
  });

  it('the filter files take what kstrtoull takes, cut to the variable width', () => {
    const { m, mf } = setup();
    write(m, 'corrupt-filter-flags-mask', '0x20\n');
    expect(mf.hwpoisonFilter.flagsMask).toBe(0x20n);
    expect(read(m, 'corrupt-filter-flags-mask')).toBe('32\n');
    write(m, 'corrupt-filter-dev-major', '0x100000003');
    expect(read(m, 'corrupt-filter-dev-major')).toBe('3\n');
    expectErrno(() => write(m, 'corrupt-filter-enable', '-1'), 'EINVAL');
    expectErrno(() => write(m, 'corrupt-filter-enable', 'yes'), 'EINVAL');
    expectErrno(() => write(m, 'corrupt-filter-flags-value', '0x1ffffffffffffffff'), 'ERANGE');
    expect(read(m, 'corrupt-filter-enable')).toBe('0\n');
    expect(mf.hwpoisonFilter.flagsValue).toBe(0n);
  });
});

describe('corrupt-pfn', () => {
  it('poisons a free page: the injection line, then memory_failure()', () => {
    const { m, mf, hw } = setup();
    const pfn = freePage(m);
    write(m, 'corrupt-pfn', `${hex(pfn)}\n`);
    expect(dmesg(m)).toEqual([
      `Injecting memory failure at pfn ${hex(pfn)}`,
      `Memory failure: ${hex(pfn)}: recovery action for free buddy page: Recovered`,
    ]);
    expect(m.core.memmap.testPageFlag(pfn, hw)).toBe(true);
    expect(mf.numPoisonedPages).toBe(1);
    // the second time: memory_failure()'s EHWPOISON is the write's
    expectErrno(() => write(m, 'corrupt-pfn', `${pfn}`), 'EHWPOISON');
    expect(mf.numPoisonedPages).toBe(1);
  });

  it('ENXIO for a pfn without a struct page, EINVAL/ERANGE for what is not a number', () => {
    const { m, mf } = setup();
    const beyond = m.core.memmap.hasMemmap(0x7fffffff) ? 0xffffffffff : 0x7fffffff;
    expectErrno(() => write(m, 'corrupt-pfn', hex(beyond)), 'ENXIO');
    expectErrno(() => write(m, 'corrupt-pfn', '0xffffffffffffffff'), 'ENXIO');
    expectErrno(() => write(m, 'corrupt-pfn', '0x12g'), 'EINVAL');
    expectErrno(() => write(m, 'corrupt-pfn', '18446744073709551616'), 'ERANGE');
    expectErrno(() => write(m, 'unpoison-pfn', hex(beyond)), 'ENXIO');
    expectErrno(() => write(m, 'unpoison-pfn', ''), 'EINVAL');
    expect(dmesg(m)).toEqual([]);
    expect(mf.numPoisonedPages).toBe(0);
  });

  it('with the filters on, skips pages off the LRU and pages the flags filter rejects, silently', () => {
    const { m, mf, hw } = setup();
    const pfn = freePage(m);
    write(m, 'corrupt-filter-enable', '1');
    write(m, 'corrupt-pfn', hex(pfn));
    expect(m.core.memmap.testPageFlag(pfn, hw)).toBe(false);
    const { pfn: upfn } = userPage(m);
    // KPF_LRU | KPF_ANON must be KPF_LRU: an anonymous page does not match
    write(m, 'corrupt-filter-flags-mask', `${2 ** 5 + 2 ** 12}`);
    write(m, 'corrupt-filter-flags-value', `${2 ** 5}`);
    write(m, 'corrupt-pfn', hex(upfn));
    expect(m.core.memmap.testPageFlag(upfn, hw)).toBe(false);
    expect(dmesg(m)).toEqual([]);
    // KPF_LRU | KPF_ANON both set matches it
    write(m, 'corrupt-filter-flags-value', `${2 ** 5 + 2 ** 12}`);
    write(m, 'corrupt-pfn', hex(upfn));
    expect(dmesg(m)).toEqual([
      `Injecting memory failure at pfn ${hex(upfn)}`,
      `Memory failure: ${hex(upfn)}: recovery action for dirty LRU page: Recovered`,
    ]);
    expect(mf.numPoisonedPages).toBe(1);
  });

  it('the device filter matches no page the model has: an anonymous page is let go', () => {
    const { m, mf, hw } = setup();
    const { pfn } = userPage(m);
    write(m, 'corrupt-filter-enable', '1');
    write(m, 'corrupt-filter-dev-major', '8');
    write(m, 'corrupt-pfn', hex(pfn));
    expect(m.core.memmap.testPageFlag(pfn, hw)).toBe(false);
    expect(m.core.memmap.testPageFlag(pfn, PG_lru)).toBe(true);
    // memory_failure() itself also applies the filter: poisoned and unpoisoned again
    const refs = m.core.memmap.pageRefCount(pfn);
    mf.memoryFailure(pfn, 0);
    expect(m.core.memmap.testPageFlag(pfn, hw)).toBe(false);
    expect(m.core.memmap.pageRefCount(pfn)).toBe(refs);
    expect(mf.numPoisonedPages).toBe(0);
    expect(dmesg(m)).toEqual([]);
  });
});

describe('unpoison-pfn (unpoison_memory())', () => {
  it('a free page poisoned goes back to the buddy allocator, and HardwareCorrupted goes down', () => {
    const { m, mf, hw } = setup();
    const pfn = freePage(m);
    const free = m.core.nrFreePages();
    write(m, 'corrupt-pfn', hex(pfn));
    expect(m.core.nrFreePages()).toBe(free - 1);
    m.kernel.log.clear();
    write(m, 'unpoison-pfn', hex(pfn));
    expect(dmesg(m)).toEqual([`Unpoison: Software-unpoisoned page ${hex(pfn)}`]);
    expect(m.core.memmap.testPageFlag(pfn, hw)).toBe(false);
    expect(m.core.memmap.pageRefCount(pfn)).toBe(0);
    expect(m.core.isFreeBuddyPage(pfn)).toBe(true);
    expect(m.core.nrFreePages()).toBe(free);
    expect(mf.numPoisonedPages).toBe(0);
    // and it can be poisoned again
    m.kernel.log.clear();
    write(m, 'corrupt-pfn', hex(pfn));
    expect(dmesg(m)[1]).toBe(`Memory failure: ${hex(pfn)}: recovery action for free buddy page: Recovered`);
  });

  it('a never-poisoned page: "Page was already unpoisoned", nothing changes', () => {
    const { m, mf } = setup();
    const { pfn } = userPage(m);
    const refs = m.core.memmap.pageRefCount(pfn);
    write(m, 'unpoison-pfn', `${pfn}`);
    expect(dmesg(m)).toEqual([`Unpoison: Page was already unpoisoned ${hex(pfn)}`]);
    expect(m.core.memmap.pageRefCount(pfn)).toBe(refs);
    expect(mf.numPoisonedPages).toBe(0);
  });

  it('an anonymous page unmapped by memory failure is freed by unpoison, before or after the process exits', () => {
    for (const exitFirst of [false, true]) {
      const { m, mf, hw } = setup();
      const { mm, pfn } = userPage(m);
      write(m, 'corrupt-pfn', hex(pfn));
      if (exitFirst) mm.mmput();
      m.kernel.log.clear();
      const free = m.core.nrFreePages();
      write(m, 'unpoison-pfn', hex(pfn));
      expect(dmesg(m)).toEqual([`Unpoison: Software-unpoisoned page ${hex(pfn)}`]);
      expect(m.core.memmap.testPageFlag(pfn, hw)).toBe(false);
      expect(m.core.isFreeBuddyPage(pfn)).toBe(true);
      expect(m.core.nrFreePages()).toBe(free + 1);
      expect(mf.numPoisonedPages).toBe(0);
      if (!exitFirst) mm.mmput();
    }
  });

  it('a page still pinned: "Someone grabs the hwpoison page" until the pin is gone', () => {
    const { m, mf, hw } = setup();
    const { mm, addr, pfn } = userPage(m);
    const pins = pinUserPages(mm, addr, 1, FOLL_WRITE);
    expectErrno(() => write(m, 'corrupt-pfn', hex(pfn)), 'EBUSY');
    m.kernel.log.clear();
    write(m, 'unpoison-pfn', hex(pfn));
    expect(dmesg(m)).toEqual([`Unpoison: Someone grabs the hwpoison page ${hex(pfn)}`]);
    expect(m.core.memmap.testPageFlag(pfn, hw)).toBe(true);
    expect(mf.numPoisonedPages).toBe(1);
    unpinUserPages(m.sys, pins);
    m.kernel.log.clear();
    write(m, 'unpoison-pfn', hex(pfn));
    expect(dmesg(m)).toEqual([`Unpoison: Software-unpoisoned page ${hex(pfn)}`]);
    expect(mf.numPoisonedPages).toBe(0);
    mm.mmput();
  });

  it('a reserved kernel page (the zero page) keeps the kernel\'s reference: "Someone grabs"', () => {
    const { m, mf, hw } = setup();
    const zero = m.sys.zeroPfn;
    expectErrno(() => write(m, 'corrupt-pfn', hex(zero)), 'EBUSY');
    m.kernel.log.clear();
    write(m, 'unpoison-pfn', hex(zero));
    expect(dmesg(m)).toEqual([`Unpoison: Someone grabs the hwpoison page ${hex(zero)}`]);
    expect(m.core.memmap.testPageFlag(zero, hw)).toBe(true);
    expect(mf.numPoisonedPages).toBe(1);
  });

  it('a page with no reference at all only loses the flag: "Software-unpoisoned free page"', () => {
    const { m, mf, hw } = setup();
    const pfn = freePage(m);
    mf.memoryFailure(pfn, 0);
    // the kept reference dropped by hand: the frame stays off the buddy lists
    m.core.memmap.pageRefDec(pfn);
    m.kernel.log.clear();
    write(m, 'unpoison-pfn', hex(pfn));
    expect(dmesg(m)).toEqual([`Unpoison: Software-unpoisoned free page ${hex(pfn)}`]);
    expect(m.core.memmap.testPageFlag(pfn, hw)).toBe(false);
    expect(mf.numPoisonedPages).toBe(0);
  });

  it('a soft-offlined page is unpoisoned the same way', () => {
    const { m, mf } = setup();
    const pfn = freePage(m);
    mf.softOfflinePage(pfn, 0);
    expect(mf.numPoisonedPages).toBe(1);
    m.kernel.log.clear();
    mf.unpoisonMemory(pfn);
    expect(dmesg(m)).toEqual([`Unpoison: Software-unpoisoned page ${hex(pfn)}`]);
    expect(m.core.isFreeBuddyPage(pfn)).toBe(true);
    expect(mf.numPoisonedPages).toBe(0);
  });

  it('a shmem page poisoned and truncated is freed; its process can fault a fresh page in', () => {
    const { m, mf, hw } = setup();
    const { mm, pfn } = userPage(m, MAP_SHARED + MAP_ANONYMOUS);
    write(m, 'corrupt-pfn', hex(pfn));
    m.kernel.log.clear();
    write(m, 'unpoison-pfn', hex(pfn));
    expect(dmesg(m)).toEqual([`Unpoison: Software-unpoisoned page ${hex(pfn)}`]);
    expect(m.core.memmap.testPageFlag(pfn, hw)).toBe(false);
    expect(mf.numPoisonedPages).toBe(0);
    mm.mmput();
  });

  it('unpoisonMemory() refuses a bad pfn with EINVAL', () => {
    const { mf } = setup();
    for (const v of [-1, 1.5, Number.NaN, 2 ** 64]) expectErrno(() => mf.unpoisonMemory(v), 'EINVAL');
    expectErrno(() => new HwpoisonInject({} as MemoryFailure), 'EINVAL');
  });
});

describe('stable_page_flags()', () => {
  it('gives the /proc/kpageflags bits the flags filter compares', () => {
    const { m, mf } = setup();
    const bit = (b: number): bigint => 2n ** BigInt(b);
    const free = freePage(m);
    const head = (): number => {
      // the head of the free block holding the page
      for (let p = free; ; p--) if (m.core.memmap.pageBuddy(p)) return p;
    };
    expect(mf.stablePageFlags(head()) / bit(10) % 2n).toBe(1n); // KPF_BUDDY
    const { pfn } = userPage(m);
    const u = mf.stablePageFlags(pfn);
    for (const b of [5, 11, 12, 14]) expect(u / bit(b) % 2n, `KPF bit ${b}`).toBe(1n); // LRU, MMAP, ANON, SWAPBACKED
    expect(u / bit(19) % 2n).toBe(0n);
    expect(mf.stablePageFlags(m.sys.zeroPfn) / bit(24) % 2n).toBe(1n); // KPF_ZERO_PAGE
    expect(mf.stablePageFlags(m.sys.zeroPfn) / bit(32) % 2n).toBe(1n); // KPF_RESERVED
    mf.memoryFailure(pfn, 0);
    expect(mf.stablePageFlags(pfn) / bit(19) % 2n).toBe(1n); // KPF_HWPOISON
    expect(mf.stablePageFlags(pfn) / bit(11) % 2n).toBe(0n); // unmapped
    expectErrno(() => mf.stablePageFlags(2 ** 40), 'EINVAL');
  });
});
