// Address spaces with 64 KiB pages (powerpc64 radix, Linux v5.13): every
// size and offset of mm/mmap.c, mm/memory.c, mm/gup.c and fs/proc/task_mmu.c
// comes from the architecture's PAGE_SIZE, so anonymous faults, fork and
// copy-on-write, GUP, munmap, /proc/PID/maps, smaps and status work on 64K
// pages as on 4K ones.
import { describe, expect, it } from 'vitest';
import {
  FOLL_WRITE, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, MmStruct, PROT_READ, PROT_WRITE, getUserPages,
  pinUserPages, ptePresent, pteWrite, unpinUserPages, userRead, userWrite, x86MmapBase,
} from '../src/index.js';
import type { PresentPte } from '../src/index.js';
import { GiB, MiB, bootMachine64K, dec, enc, newMm } from './machine.js';
import { expectErrno, expectErrnoUnchanged } from './helpers.js';

const PS = 65536;
const RW = PROT_READ + PROT_WRITE;
const ANON = MAP_PRIVATE + MAP_ANONYMOUS;

describe('a 64K-page address space', () => {
  it('takes the architecture page size, and refuses a different one', () => {
    const m = bootMachine64K();
    const mm = newMm(m);
    expect(mm.pageSize).toBe(PS);
    expect(m.sys.geometry).toMatchObject({ pageSize: PS, ptrsPerPte: 32, pmdSize: 2 * MiB, pudSize: GiB });
    expectErrno(() => new MmStruct(7, { system: m.sys, pageSize: 4096 }), 'EINVAL');
    expectErrno(() => new MmStruct(7, { pageSize: 3000 }), 'EINVAL');
    expect(new MmStruct(7, { pageSize: PS }).pageSize).toBe(PS);
    // stack_guard_gap is 256 pages: 16 MiB with 64K pages, under the 128 MiB minimum gap either way
    expect(mm.mmapBase).toBe(x86MmapBase(mm.taskSize, 8 * MiB, PS));
    expect(mm.mmapBase % PS).toBe(0);
  });

  it('mmap rounds to 64 KiB pages; offsets and addresses must be 64 KiB aligned', () => {
    const m = bootMachine64K();
    const mm = newMm(m);
    const a = mm.mmap({ length: 1, prot: RW, flags: ANON });
    expect(a % PS).toBe(0);
    const v = mm.findVma(a)!;
    expect(v.vmEnd - v.vmStart).toBe(PS);
    expect(v.vmPgoff).toBe(a / PS);
    expectErrnoUnchanged(mm, () => mm.mmap({ addr: a + 4096, length: PS, prot: RW, flags: ANON + MAP_FIXED }), 'EINVAL');
    expectErrnoUnchanged(mm, () => mm.munmap(a + 4096, PS), 'EINVAL');
    expectErrnoUnchanged(mm, () => mm.mprotect(a + 4096, PS, PROT_READ), 'EINVAL');
    expect(mm.totalVm).toBe(1);
  });

  it('anonymous faults: a read maps the zero page, a write a zeroed 64 KiB page', () => {
    const m = bootMachine64K();
    const mm = newMm(m);
    const a = mm.mmap({ length: 4 * PS, prot: RW, flags: ANON });
    expect(userRead(mm, a + PS + 100, 4)).toEqual(new Uint8Array(4));
    expect((mm.pgd!.get(a + PS) as PresentPte).pfn).toBe(m.sys.zeroPfn);
    const free = m.core.nrFreePages();
    userWrite(mm, a + PS - 2, enc('spans'));
    expect(m.core.nrFreePages()).toBe(free - 2);
    expect(dec(userRead(mm, a + PS - 2, 5))).toBe('spans');
    const p0 = (mm.pgd!.get(a) as PresentPte).pfn;
    expect(dec(m.core.physmem.read(p0 * PS + PS - 2, 2))).toBe('sp');
    // one PTE table of 32 entries covers 2 MiB: a and a + PS share it
    expect(mm.pgd!.get(a + 65535)).toBe(mm.pgd!.get(a));
    expect(mm.getMmRss()).toBe(2);
    expect(mm.procStatusMem()).toContain('VmRSS:\t     128 kB\n');
    expect(mm.procStatusMem()).toContain('VmSize:\t     256 kB\n');
  });

  it('fork shares pages copy-on-write; the first write copies 64 KiB', () => {
    const m = bootMachine64K();
    const mm = newMm(m);
    const a = mm.mmap({ length: 2 * PS, prot: RW, flags: ANON });
    userWrite(mm, a + 40000, enc('parent'));
    const child = mm.fork(101);
    const p = (mm.pgd!.get(a) as PresentPte).pfn;
    expect([m.sys.pageCount(p), m.sys.pageMapcount(p)]).toEqual([2, 2]);
    expect(pteWrite(mm.pgd!.get(a) as PresentPte)).toBe(false);
    userWrite(child, a + 40000, enc('child!'));
    const c = (child.pgd!.get(a) as PresentPte).pfn;
    expect(c).not.toBe(p);
    expect(dec(userRead(mm, a + 40000, 6))).toBe('parent');
    expect(dec(userRead(child, a + 40000, 6))).toBe('child!');
    // the copy took the whole 64 KiB page, not 4 KiB of it
    userWrite(mm, a + PS - 1, enc('z'));
    expect(dec(m.core.physmem.read(c * PS + PS - 1, 1))).toBe('\0');
    expect([m.sys.pageCount(p), m.sys.pageMapcount(p)]).toEqual([1, 1]);
    child.exitMmap();
    expect(m.sys.pageCount(c)).toBe(0);
  });

  it('GUP returns 64 KiB pages, one per page of the range, and pins count 1024', () => {
    const m = bootMachine64K();
    const mm = newMm(m);
    const a = mm.mmap({ length: 3 * PS, prot: RW, flags: ANON });
    const got = getUserPages(mm, a + 100, 3, FOLL_WRITE);
    expect(got).toHaveLength(3);
    expect(got.map((p) => (mm.pgd!.get(a + got.indexOf(p) * PS) as PresentPte).pfn)).toEqual(got);
    expect(got.map((p) => m.sys.pageCount(p))).toEqual([2, 2, 2]);
    for (const p of got) m.sys.putPage(p);
    const pins = pinUserPages(mm, a + 2 * PS, 1, FOLL_WRITE);
    expect(m.sys.pageCount(pins[0]!)).toBe(1 + 1024);
    unpinUserPages(m.sys, pins);
    expectErrno(() => getUserPages(mm, a + 3 * PS, 1, 0), 'EFAULT');
  });

  it('munmap of one 64 KiB page in the middle frees it and splits the VMA', () => {
    const m = bootMachine64K();
    const mm = newMm(m);
    const a = mm.mmap({ length: 3 * PS, prot: RW, flags: ANON });
    userWrite(mm, a, enc('a'));
    userWrite(mm, a + PS, enc('b'));
    userWrite(mm, a + 2 * PS, enc('c'));
    const mid = (mm.pgd!.get(a + PS) as PresentPte).pfn;
    const free = m.core.nrFreePages();
    mm.munmap(a + PS, PS);
    expect(m.core.nrFreePages()).toBe(free + 1);
    expect(m.sys.pageCount(mid)).toBe(0);
    expect(ptePresent(mm.pgd!.get(a + PS))).toBe(false);
    expect(mm.vmas().map((v) => [v.vmStart - a, v.vmEnd - a, v.vmPgoff - a / PS])).toEqual([[0, PS, 0], [2 * PS, 3 * PS, 2]]);
    expect(dec(userRead(mm, a + 2 * PS, 1))).toBe('c');
  });

  it('/proc/PID/smaps says KernelPageSize 64 kB and counts 64 kB per page; maps prints offsets in bytes', () => {
    const m = bootMachine64K();
    const mm = newMm(m);
    const a = mm.mmap({ length: 4 * PS, prot: RW, flags: ANON });
    userWrite(mm, a, enc('x'));
    userWrite(mm, a + 3 * PS, enc('y'));
    const smaps = mm.procSmaps();
    expect(smaps).toContain('Size:                256 kB\nKernelPageSize:       64 kB\nMMUPageSize:          64 kB\nRss:                 128 kB\n');
    expect(smaps).toContain('Anonymous:           128 kB\n');
    expect(smaps).toContain('Private_Dirty:       128 kB\n');
    const s = mm.mmap({ length: PS, prot: RW, flags: MAP_SHARED + MAP_ANONYMOUS });
    userWrite(mm, s, enc('s'));
    expect(mm.procStatusMem()).toContain('RssShmem:\t      64 kB\n');
    mm.munmap(s, PS);
    expect(mm.procMaps().split('\n')[0]).toMatch(/^[0-9a-f]+-[0-9a-f]+ rw-p 00000000 00:00 0 $/);
  });
});
