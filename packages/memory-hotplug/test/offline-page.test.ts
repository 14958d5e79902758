// /sys/devices/system/memory/{soft,hard}_offline_page (drivers/base/memory.c
// soft_offline_page_store() / hard_offline_page_store(), v5.13): a physical
// address parsed with kstrtoull(buf, 0) (-EINVAL otherwise), shifted to a pfn
// and handed to soft_offline_page() / memory_failure(); and offlining a
// memory block that holds a hwpoisoned page (offline_pages() treats it as
// already offline).
import { MAP_ANONYMOUS, MAP_PRIVATE, MmStruct, MmSystem, PROT_READ, PROT_WRITE, UserFaultSignal, ptePresent, ptePfn, userRead, userWrite } from '@zonedev/mm';
import type { PagingArch } from '@zonedev/mm';
import { describe, expect, it } from 'vitest';
import { errno } from './errno.js';
import type { TestMachine } from './machine.js';
import { GiB, MEM, MiB, bootMachine } from './machine.js';

const X86_64_4LEVEL: PagingArch = { name: 'x86_64 4-level', pageShift: 12, levelBits: [9, 9, 9, 9] };
const HOT = 4 * GiB;
const BLOCK = 128 * MiB;

function machine(): { m: TestMachine; task: MmStruct; addr: number; pfn: number } {
  const m = bootMachine();
  m.hp.addMemory(0, HOT, 2 * BLOCK);
  m.kernel.sysfs.write(`${MEM}/memory32/state`, 'online_movable\n');
  const sys = new MmSystem({ core: m.mm, arch: X86_64_4LEVEL });
  m.hp.userMm = sys;
  const task = new MmStruct(100, { system: sys });
  const addr = task.mmap({ length: 4 * 4096, prot: PROT_READ + PROT_WRITE, flags: MAP_PRIVATE + MAP_ANONYMOUS });
  userWrite(task, addr, new TextEncoder().encode('hello'));
  const pte = task.pgd!.get(addr);
  if (!ptePresent(pte)) throw new Error('not mapped');
  m.kernel.log.clear();
  return { m, task, addr, pfn: ptePfn(pte) };
}

function dmesg(m: TestMachine): string[] {
  return m.kernel.log.dmesg().split('\n').filter((l) => l !== '').map((l) => l.replace(/^\[[ .0-9]+\] /, ''));
}

const hex = (n: number): string => `0x${n.toString(16)}`;

describe('soft_offline_page and hard_offline_page', () => {
  it('are write-only files of the memory root (CONFIG_MEMORY_FAILURE)', () => {
    const { m } = machine();
    for (const f of ['soft_offline_page', 'hard_offline_page']) {
      expect(m.kernel.sysfs.stat(`${MEM}/${f}`)).toEqual({ type: 'file', mode: 0o200 });
      expect(() => m.kernel.sysfs.read(`${MEM}/${f}`)).toThrow(errno('EACCES'));
    }
  });

  it('hard_offline_page poisons the page at a physical address; the process gets SIGBUS', () => {
    const { m, task, addr, pfn } = machine();
    m.kernel.sysfs.write(`${MEM}/hard_offline_page`, `${hex(pfn * 4096 + 0x123)}\n`);
    expect(dmesg(m)).toEqual([`Memory failure: ${hex(pfn)}: recovery action for dirty LRU page: Recovered`]);
    expect(m.hp.memoryFailure!.numPoisonedPages).toBe(1);
    expect(() => userRead(task, addr, 1)).toThrow(UserFaultSignal);
    // again: "already hardware poisoned", EHWPOISON to the writer (v5.13 has no -EOPNOTSUPP filter here)
    m.kernel.log.clear();
    expect(() => m.kernel.sysfs.write(`${MEM}/hard_offline_page`, `${pfn * 4096}\n`)).toThrow(errno('EHWPOISON'));
    expect(dmesg(m)).toEqual([`Memory failure: ${hex(pfn)}: already hardware poisoned`]);
  });

  it('soft_offline_page moves the page and poisons the old frame', () => {
    const { m, task, addr, pfn } = machine();
    m.kernel.sysfs.write(`${MEM}/soft_offline_page`, `0${(pfn * 4096).toString(8)}\n`);
    const pte = task.pgd!.get(addr);
    if (!ptePresent(pte)) throw new Error('not mapped');
    const now = ptePfn(pte);
    expect(now).not.toBe(pfn);
    expect(new TextDecoder().decode(userRead(task, addr, 5))).toBe('hello');
    expect(m.mm.memmap.testPageFlag(pfn, m.mm.config.pageflags.PG_hwpoison!)).toBe(true);
    expect(m.hp.memoryFailure!.numPoisonedPages).toBe(1);
  });

  it('refuses what kstrtoull refuses with EINVAL, printing nothing', () => {
    const { m } = machine();
    for (const bad of ['', 'zz\n', '0x\n', '-1\n', '0x1 \n', '18446744073709551616\n', '1\n\n']) {
      expect(() => m.kernel.sysfs.write(`${MEM}/hard_offline_page`, bad)).toThrow(errno('EINVAL'));
      expect(() => m.kernel.sysfs.write(`${MEM}/soft_offline_page`, bad)).toThrow(errno('EINVAL'));
    }
    expect(dmesg(m)).toEqual([]);
    expect(m.hp.memoryFailure!.numPoisonedPages).toBe(0);
  });

  it('an offline block: memory_failure() says ENXIO, soft_offline_page() EIO', () => {
    const { m } = machine();
    const pfn = (HOT + BLOCK) / 4096 + 5; // memory33, present but offline
    expect(m.kernel.sysfs.read(`${MEM}/memory33/state`)).toBe('offline\n');
    expect(() => m.kernel.sysfs.write(`${MEM}/hard_offline_page`, `${hex(pfn * 4096)}\n`)).toThrow(errno('ENXIO'));
    expect(dmesg(m)).toEqual([`Memory failure: ${hex(pfn)}: memory outside kernel control`]);
    m.kernel.log.clear();
    expect(() => m.kernel.sysfs.write(`${MEM}/soft_offline_page`, `${hex(pfn * 4096)}\n`)).toThrow(errno('EIO'));
    expect(dmesg(m)).toEqual([]);
    // beyond all memory: no struct page
    expect(() => m.kernel.sysfs.write(`${MEM}/soft_offline_page`, '0xfffffffffffff000\n')).toThrow(errno('ENXIO'));
    expect(() => m.kernel.sysfs.write(`${MEM}/hard_offline_page`, '0xfffffffffffff000\n')).toThrow(errno('ENXIO'));
  });

  it('a block with a poisoned page still goes offline; the page counts as offline already', () => {
    const { m, pfn } = machine();
    const block = Math.floor((pfn * 4096) / BLOCK);
    expect(block).toBe(32);
    m.kernel.sysfs.write(`${MEM}/hard_offline_page`, `${hex(pfn * 4096)}\n`);
    // and a free page of the same block
    const free = HOT / 4096 + 1000;
    expect(m.mm.isFreeBuddyPage(free)).toBe(true);
    m.kernel.sysfs.write(`${MEM}/hard_offline_page`, `${hex(free * 4096)}\n`);
    expect(m.hp.memoryFailure!.numPoisonedPages).toBe(2);
    const managed = m.mm.zones().reduce((n, z) => n + z.managedPages, 0);
    m.kernel.log.clear();
    m.kernel.sysfs.write(`${MEM}/memory32/state`, 'offline\n');
    // the poisoned pages neither stop the isolation nor need migrating
    expect(dmesg(m).filter((l) => /isolat|migrat|page dumped/.test(l))).toEqual([]);
    expect(m.kernel.sysfs.read(`${MEM}/memory32/state`)).toBe('offline\n');
    expect(m.mm.zones().reduce((n, z) => n + z.managedPages, 0)).toBe(managed - BLOCK / 4096);
    expect(m.hp.memoryFailure!.numPoisonedPages).toBe(2);
    // onlining again initializes the memmap afresh (v5.13 keeps no record of
    // the poison): the frames are free pages again, the count stays
    m.kernel.log.clear();
    m.kernel.sysfs.write(`${MEM}/memory32/state`, 'online_movable\n');
    expect(dmesg(m).filter((l) => /Bad page/.test(l))).toEqual([]);
    expect(m.mm.memmap.testPageFlag(pfn, m.mm.config.pageflags.PG_hwpoison!)).toBe(false);
    expect(m.mm.isFreeBuddyPage(pfn)).toBe(true);
    expect(m.mm.isFreeBuddyPage(free)).toBe(true);
    expect(m.hp.memoryFailure!.numPoisonedPages).toBe(2);
  });
});
