// Offlining a block under a process (mm/memory_hotplug.c do_migrate_range()
// through mm's migrate_pages(), v5.13): the process's anonymous pages move out
// of the block, its page tables point at the new pages, and it reads the same
// bytes at the same virtual addresses; a pinned page cannot move (its extra
// references fail migrate_pages()), so the offline fails until the pin goes.
import { FOLL_WRITE, MAP_ANONYMOUS, MAP_PRIVATE, MmStruct, MmSystem, PROT_READ, PROT_WRITE, pinUserPages, ptePresent, ptePfn, unpinUserPages, userRead, userWrite } from '@zonedev/mm';
import type { PagingArch } from '@zonedev/mm';
import { describe, expect, it } from 'vitest';
import type { TestMachine } from './machine.js';
import { GiB, MEM, MiB, bootMachine } from './machine.js';

const X86_64_4LEVEL: PagingArch = { name: 'x86_64 4-level', pageShift: 12, levelBits: [9, 9, 9, 9] };
const HOT = 4 * GiB;
const BLOCK = 128 * MiB;
const PAGES = 64;

function machine(): { m: TestMachine; task: MmStruct; addr: number } {
  const m = bootMachine();
  m.hp.addMemory(0, HOT, 2 * BLOCK);
  m.kernel.sysfs.write(`${MEM}/memory32/state`, 'online_movable\n');
  m.kernel.sysfs.write(`${MEM}/memory33/state`, 'online_movable\n');
  const sys = new MmSystem({ core: m.mm, arch: X86_64_4LEVEL });
  m.hp.userMm = sys;
  const task = new MmStruct(100, { system: sys });
  const addr = task.mmap({ length: PAGES * 4096, prot: PROT_READ + PROT_WRITE, flags: MAP_PRIVATE + MAP_ANONYMOUS });
  for (let i = 0; i < PAGES; i++) userWrite(task, addr + i * 4096, new TextEncoder().encode(`page ${i}`));
  return { m, task, addr };
}

function pfnOf(task: MmStruct, va: number): number {
  const pte = task.pgd!.get(va);
  if (!ptePresent(pte)) throw new Error(`no page at 0x${va.toString(16)}`);
  return ptePfn(pte);
}

const inBlock = (pfn: number, block: number): boolean => pfn * 4096 >= block * BLOCK && pfn * 4096 < (block + 1) * BLOCK;

describe('offlining a block with a process\'s pages in it', () => {
  it('migrates them: new pfns outside the block, the same bytes at the same addresses', () => {
    const { m, task, addr } = machine();
    // GFP_HIGHUSER_MOVABLE prefers ZONE_MOVABLE: the process's pages are in the hot-added blocks
    const before = Array.from({ length: PAGES }, (_, i) => pfnOf(task, addr + i * 4096));
    const block = Math.floor((before[0]! * 4096) / BLOCK);
    expect(block === 32 || block === 33).toBe(true);
    const moving = before.filter((p) => inBlock(p, block)).length;
    expect(moving).toBeGreaterThan(0);
    m.kernel.sysfs.write(`${MEM}/memory${block}/state`, 'offline\n');
    expect(m.kernel.sysfs.read(`${MEM}/memory${block}/state`)).toBe('offline\n');
    const after = Array.from({ length: PAGES }, (_, i) => pfnOf(task, addr + i * 4096));
    expect(after.filter((p) => inBlock(p, block))).toEqual([]);
    expect(after.filter((p, i) => p !== before[i]).length).toBe(moving);
    for (let i = 0; i < PAGES; i++) {
      expect(new TextDecoder().decode(userRead(task, addr + i * 4096, `page ${i}`.length))).toBe(`page ${i}`);
    }
  });

  it('a pinned page (an O_DIRECT pin) cannot move: the offline fails and the block stays online until it is unpinned', () => {
    const { m, task, addr } = machine();
    const pfn = pfnOf(task, addr);
    const block = Math.floor((pfn * 4096) / BLOCK);
    const pinned = pinUserPages(task, addr, 1, FOLL_WRITE);
    expect(pinned).toEqual([pfn]);
    expect(() => m.kernel.sysfs.write(`${MEM}/memory${block}/state`, 'offline\n')).toThrow();
    expect(m.kernel.sysfs.read(`${MEM}/memory${block}/state`)).toBe('online\n');
    expect(pfnOf(task, addr)).toBe(pfn);
    expect(new TextDecoder().decode(userRead(task, addr, 6))).toBe('page 0');
    unpinUserPages(task.system!, pinned);
    m.kernel.sysfs.write(`${MEM}/memory${block}/state`, 'offline\n');
    expect(inBlock(pfnOf(task, addr), block)).toBe(false);
    expect(new TextDecoder().decode(userRead(task, addr, 6))).toBe('page 0');
  });
});
