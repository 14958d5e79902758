// Address spaces: mmap, munmap, mprotect, madvise and /proc/PID/maps
// (mm/mmap.c, mm/mprotect.c, mm/madvise.c, fs/proc/task_mmu.c v5.13).
import { describe, expect, it } from 'vitest';
import {
  MADV_HUGEPAGE, MADV_NOHUGEPAGE, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_NORESERVE, MAP_PRIVATE,
  MAP_SHARED, MmStruct, PROT_EXEC, PROT_NONE, PROT_READ, PROT_WRITE, TASK_SIZE_4LEVEL, VM_ACCOUNT, VM_DONTEXPAND,
  VM_EXEC, VM_GROWSDOWN, VM_HUGEPAGE, VM_IO, VM_MAYEXEC, VM_MAYREAD, VM_MAYSHARE, VM_MAYWRITE, VM_MIXEDMAP,
  VM_NOHUGEPAGE, VM_NORESERVE, VM_PFNMAP, VM_READ, VM_SHARED, VM_SPECIAL, VM_WRITE, x86MmapBase,
} from '../src/index.js';
import type { MmapFile, Vma } from '../src/index.js';
import { expectErrno, expectErrnoUnchanged, snapshot } from './helpers.js';

const RW = PROT_READ + PROT_WRITE;
const ANON = MAP_PRIVATE + MAP_ANONYMOUS;
const SHANON = MAP_SHARED + MAP_ANONYMOUS;
const BASE = 0x7ffff7fff000;
const MAY = VM_MAYREAD + VM_MAYWRITE + VM_MAYEXEC;

describe('VM_* flags', () => {
  it('have the include/linux/mm.h values', () => {
    expect([VM_READ, VM_WRITE, VM_EXEC, VM_SHARED, VM_MAYREAD, VM_MAYWRITE, VM_MAYEXEC, VM_MAYSHARE]).toEqual([
      0x1, 0x2, 0x4, 0x8, 0x10, 0x20, 0x40, 0x80,
    ]);
    expect(VM_GROWSDOWN).toBe(0x100);
    expect(VM_PFNMAP).toBe(0x400);
    expect(VM_IO).toBe(0x4000);
    expect(VM_DONTEXPAND).toBe(0x40000);
    expect(VM_ACCOUNT).toBe(0x100000);
    expect(VM_NORESERVE).toBe(0x200000);
    expect(VM_MIXEDMAP).toBe(0x10000000);
    expect(VM_HUGEPAGE).toBe(0x20000000);
    expect(VM_NOHUGEPAGE).toBe(0x40000000);
    expect(VM_SPECIAL).toBe(VM_IO + VM_DONTEXPAND + VM_PFNMAP + VM_MIXEDMAP);
  });
});

describe('mmap', () => {
  it('places anonymous memory top-down below mmap_base (TASK_SIZE - 128 MiB on x86_64)', () => {
    expect(TASK_SIZE_4LEVEL).toBe(2 ** 47 - 4096);
    expect(x86MmapBase(TASK_SIZE_4LEVEL)).toBe(BASE);
    const mm = new MmStruct(1);
    expect(mm.mmap({ length: 0x3000, prot: RW, flags: ANON })).toBe(BASE - 0x3000);
    expect(mm.mmap({ length: 1, prot: PROT_READ, flags: ANON })).toBe(BASE - 0x4000);
    const [low, high] = mm.vmas();
    expect(high!.vmFlags).toBe(VM_READ + VM_WRITE + MAY + VM_ACCOUNT);
    expect(high!.vmPgoff).toBe((BASE - 0x3000) / 4096);
    expect(low!.vmFlags).toBe(VM_READ + MAY);
  });

  it('merges adjacent compatible private anonymous mappings', () => {
    const mm = new MmStruct(1);
    mm.mmap({ length: 0x1000, prot: RW, flags: ANON });
    mm.mmap({ length: 0x2000, prot: RW, flags: ANON });
    expect(snapshot(mm)).toEqual([
      { start: BASE - 0x3000, end: BASE, flags: VM_READ + VM_WRITE + MAY + VM_ACCOUNT, pgoff: (BASE - 0x3000) / 4096 },
    ]);
    // a hole filled exactly merges both sides
    mm.munmap(BASE - 0x2000, 0x1000);
    expect(mm.mapCount).toBe(2);
    expect(mm.mmap({ addr: BASE - 0x2000, length: 0x1000, prot: RW, flags: ANON + MAP_FIXED })).toBe(BASE - 0x2000);
    expect(mm.mapCount).toBe(1);
  });

  it('takes a free hint, rounds it down, and ignores an occupied one', () => {
    const mm = new MmStruct(1);
    expect(mm.mmap({ addr: 0x10000123, length: 0x1000, prot: RW, flags: ANON })).toBe(0x10000000);
    expect(mm.mmap({ addr: 0x10000000, length: 0x1000, prot: RW, flags: ANON })).toBe(BASE - 0x1000);
    // a hint below mmap_min_addr is raised to it
    expect(mm.mmap({ addr: 0x1000, length: 0x1000, prot: PROT_READ, flags: ANON })).toBe(0x10000);
  });

  it('MAP_FIXED replaces what was there; MAP_FIXED_NOREPLACE refuses with EEXIST', () => {
    const mm = new MmStruct(1);
    const a = mm.mmap({ length: 0x4000, prot: RW, flags: ANON });
    expect(mm.mmap({ addr: a + 0x1000, length: 0x1000, prot: PROT_READ, flags: ANON + MAP_FIXED })).toBe(a + 0x1000);
    expect(snapshot(mm).map((v) => [v.start - a, v.end - a, v.flags])).toEqual([
      [0, 0x1000, VM_READ + VM_WRITE + MAY + VM_ACCOUNT],
      [0x1000, 0x2000, VM_READ + MAY],
      [0x2000, 0x4000, VM_READ + VM_WRITE + MAY + VM_ACCOUNT],
    ]);
    expectErrnoUnchanged(mm, () => mm.mmap({ addr: a, length: 0x1000, prot: RW, flags: ANON + MAP_FIXED_NOREPLACE }), 'EEXIST');
    expect(mm.mmap({ addr: a - 0x1000, length: 0x1000, prot: RW, flags: ANON + MAP_FIXED_NOREPLACE })).toBe(a - 0x1000);
  });

  it('fails before changing anything', () => {
    const mm = new MmStruct(1);
    mm.mmap({ length: 0x2000, prot: RW, flags: ANON });
    expectErrnoUnchanged(mm, () => mm.mmap({ length: 0, prot: RW, flags: ANON }), 'EINVAL');
    expectErrnoUnchanged(mm, () => mm.mmap({ addr: 0x10000800, length: 0x1000, prot: RW, flags: ANON + MAP_FIXED }), 'EINVAL');
    expectErrnoUnchanged(mm, () => mm.mmap({ length: 0x1000, prot: RW, flags: MAP_ANONYMOUS }), 'EINVAL');
    expectErrnoUnchanged(mm, () => mm.mmap({ length: 0x1000, prot: RW, flags: ANON + MAP_SHARED }), 'EINVAL');
    expectErrnoUnchanged(mm, () => mm.mmap({ length: 2 ** 47, prot: RW, flags: ANON }), 'ENOMEM');
    expectErrnoUnchanged(mm, () => mm.mmap({ addr: TASK_SIZE_4LEVEL, length: 0x1000, prot: RW, flags: ANON + MAP_FIXED }), 'ENOMEM');
    expectErrnoUnchanged(mm, () => mm.mmap({ addr: 0x1000, length: 0x1000, prot: RW, flags: ANON + MAP_FIXED }), 'EPERM');
    expectErrnoUnchanged(mm, () => mm.mmap({ length: 0x1000, prot: RW, flags: MAP_PRIVATE }), 'EBADF');
    expectErrnoUnchanged(mm, () => mm.mmap({ length: Number.NaN, prot: RW, flags: ANON }), 'EINVAL');
  });

  it('falls back to bottom-up from TASK_SIZE / 3, then ENOMEM; an area below mmap_min_addr is EPERM', () => {
    const mm = new MmStruct(1);
    expect(mm.mmapLegacyBase).toBe(0x2aaaaaaab000);
    mm.mmap({ addr: 0x10000, length: BASE - 0x10000, prot: PROT_READ, flags: ANON + MAP_FIXED });
    // nothing fits below mmap_base any more: arch_get_unmapped_area() searches up from the legacy base
    expect(mm.mmap({ length: 0x20000, prot: RW, flags: ANON })).toBe(BASE);
    expectErrnoUnchanged(mm, () => mm.mmap({ length: 0x10000000000, prot: RW, flags: ANON }), 'ENOMEM');
    // the top-down search may go down to PAGE_SIZE; security_mmap_addr() then refuses it
    expectErrnoUnchanged(mm, () => mm.mmap({ length: 0x4000, prot: RW, flags: ANON }), 'EPERM');
  });

  it('shared anonymous memory is a shmem file and never merges', () => {
    const mm = new MmStruct(7);
    const a = mm.mmap({ length: 0x1000, prot: RW, flags: SHANON });
    const b = mm.mmap({ length: 0x1000, prot: RW, flags: SHANON });
    expect(b).toBe(a - 0x1000);
    const [vb, va] = mm.vmas();
    expect(va!.vmFlags).toBe(VM_READ + VM_WRITE + VM_SHARED + VM_MAYSHARE + MAY);
    expect(va!.vmFile!.path).toBe('/dev/zero (deleted)');
    expect(va!.vmFile).not.toBe(vb!.vmFile);
    expect(va!.vmPgoff).toBe(0);
  });

  it('MAP_NORESERVE mappings are not accounted', () => {
    const mm = new MmStruct(1);
    mm.mmap({ length: 0x1000, prot: RW, flags: ANON + MAP_NORESERVE });
    expect(mm.vmas()[0]!.vmFlags).toBe(VM_READ + VM_WRITE + MAY + VM_NORESERVE);
  });
});

describe('mmap of a file', () => {
  function devFile(over: Partial<MmapFile> = {}, flagsToAdd = VM_IO + VM_PFNMAP + VM_DONTEXPAND): MmapFile {
    return {
      path: '/dev/dax0.0',
      devMajor: 0xfd,
      devMinor: 0,
      ino: 3142,
      readable: true,
      writable: true,
      mmap(vma: Vma): number {
        vma.vmFlags += flagsToAdd;
        vma.vmOps = { name: () => null };
        vma.vmPrivateData = 'dev_dax';
        return 0;
      },
      ...over,
    };
  }

  it('calls the driver and shows the file in /proc/PID/maps', () => {
    const mm = new MmStruct(100);
    const f = devFile();
    const a = mm.mmap({ length: 0x2000, prot: RW, flags: MAP_SHARED, file: f, offset: 0x5000 });
    const v = mm.findVma(a)!;
    expect(v.vmPrivateData).toBe('dev_dax');
    expect(v.vmPgoff).toBe(5);
    expect(v.vmFlags).toBe(VM_READ + VM_WRITE + VM_SHARED + VM_MAYSHARE + MAY + VM_IO + VM_PFNMAP + VM_DONTEXPAND);
    expect(mm.procMaps()).toBe(
      '7ffff7ffd000-7ffff7fff000 rw-s 00005000 fd:00 3142                       /dev/dax0.0\n',
    );
  });

  it('refuses what the file does not allow', () => {
    const mm = new MmStruct(100);
    expectErrnoUnchanged(mm, () => mm.mmap({ length: 0x1000, prot: RW, flags: MAP_SHARED, file: devFile({ writable: false }) }), 'EACCES');
    expectErrnoUnchanged(mm, () => mm.mmap({ length: 0x1000, prot: PROT_READ, flags: MAP_PRIVATE, file: devFile({ readable: false }) }), 'EACCES');
    const { mmap: _drop, ...noMmap } = devFile();
    expectErrnoUnchanged(mm, () => mm.mmap({ length: 0x1000, prot: PROT_READ, flags: MAP_SHARED, file: noMmap }), 'ENODEV');
    expectErrnoUnchanged(mm, () => mm.mmap({ length: 0x1000, prot: PROT_READ, flags: MAP_SHARED, file: devFile(), offset: 0x10 }), 'EINVAL');
    expectErrnoUnchanged(mm, () => mm.mmap({ length: 0x1000, prot: PROT_READ, flags: MAP_SHARED, file: devFile({ mmap: () => -19 }) }), 'ENODEV');
  });

  it('a read-only shared mapping loses VM_MAYWRITE and VM_SHARED, and cannot be mprotected writable', () => {
    const mm = new MmStruct(100);
    const a = mm.mmap({ length: 0x1000, prot: PROT_READ, flags: MAP_SHARED, file: devFile({ writable: false }, 0) });
    expect(mm.findVma(a)!.vmFlags).toBe(VM_READ + VM_MAYREAD + VM_MAYEXEC + VM_MAYSHARE);
    expect(mm.procMaps().slice(26, 30)).toBe('r--s');
    expectErrnoUnchanged(mm, () => mm.mprotect(a, 0x1000, RW), 'EACCES');
    // a hole before the refusing VMA is found first
    mm.mmap({ addr: a - 0x2000, length: 0x1000, prot: PROT_READ, flags: ANON + MAP_FIXED });
    expectErrnoUnchanged(mm, () => mm.mprotect(a - 0x2000, 0x3000, RW), 'ENOMEM');
    expectErrnoUnchanged(mm, () => mm.mprotect(a, 0x2000, RW), 'EACCES');
    mm.mprotect(a, 0x1000, PROT_READ + PROT_EXEC);
    expect(mm.findVma(a)!.vmFlags).toBe(VM_READ + VM_EXEC + VM_MAYREAD + VM_MAYEXEC + VM_MAYSHARE);
  });
});

describe('munmap', () => {
  it('splits VMAs and unmaps holes silently', () => {
    const mm = new MmStruct(1);
    const a = mm.mmap({ length: 0x5000, prot: RW, flags: ANON });
    mm.munmap(a + 0x1000, 0x1800);
    expect(snapshot(mm).map((v) => [v.start - a, v.end - a, v.pgoff - a / 4096])).toEqual([
      [0, 0x1000, 0],
      [0x3000, 0x5000, 3],
    ]);
    mm.munmap(a + 0x1000, 0x2000);
    expect(mm.mapCount).toBe(2);
    mm.munmap(a - 0x100000, 0x200000);
    expect(mm.mapCount).toBe(0);
  });

  it('refuses bad ranges and may_split vetoes, changing nothing', () => {
    const mm = new MmStruct(1);
    const a = mm.mmap({ length: 0x4000, prot: RW, flags: ANON });
    const b = mm.mmap({ length: 0x4000, prot: PROT_READ, flags: ANON });
    const v = mm.findVma(b)!;
    const asked: number[] = [];
    v.vmOps = { maySplit: (_vma, addr) => (asked.push(addr), addr === b + 0x3000 ? -22 : 0) };
    expectErrnoUnchanged(mm, () => mm.munmap(a + 1, 0x1000), 'EINVAL');
    expectErrnoUnchanged(mm, () => mm.munmap(a, 0), 'EINVAL');
    expectErrnoUnchanged(mm, () => mm.munmap(a, TASK_SIZE_4LEVEL), 'EINVAL');
    // the first split (at b + 0x1000) is allowed, the second refused: nothing changes
    expectErrnoUnchanged(mm, () => mm.munmap(b + 0x1000, 0x2000), 'EINVAL');
    expect(asked).toEqual([b + 0x1000, b + 0x3000]);
    v.vmOps = { maySplit: () => -16 };
    expectErrnoUnchanged(mm, () => mm.munmap(b + 0x1000, 0x1000), 'EBUSY');
    // unmapping whole VMAs needs no split
    mm.munmap(b, 0x4000);
    expect(mm.mapCount).toBe(1);
  });

  it('calls open on split-off VMAs and close on removed ones', () => {
    const mm = new MmStruct(1);
    const a = mm.mmap({ length: 0x3000, prot: RW, flags: ANON });
    const events: string[] = [];
    const v = mm.findVma(a)!;
    v.vmOps = {
      open: (x) => events.push(`open ${(x.vmStart - a).toString(16)}`),
      close: (x) => events.push(`close ${(x.vmStart - a).toString(16)}`),
    };
    mm.munmap(a + 0x1000, 0x1000);
    expect(events).toEqual(['open 2000']);
    mm.munmap(a, 0x1000);
    expect(events).toEqual(['open 2000', 'close 0']);
  });

  it('ENOMEM when a middle split would exceed vm.max_map_count', () => {
    const mm = new MmStruct(1, { maxMapCount: 1 });
    const a = mm.mmap({ length: 0x3000, prot: RW, flags: ANON });
    expectErrnoUnchanged(mm, () => mm.munmap(a + 0x1000, 0x1000), 'ENOMEM');
    mm.munmap(a, 0x1000);
    expect(mm.mapCount).toBe(1);
  });
});

describe('mprotect', () => {
  it('splits, and merges back as vma_merge does', () => {
    const mm = new MmStruct(1);
    const a = mm.mmap({ length: 0x4000, prot: RW, flags: ANON });
    mm.mprotect(a + 0x1000, 0x2000, PROT_READ);
    expect(mm.mapCount).toBe(3);
    expect(mm.vmas()[1]!.vmFlags).toBe(VM_READ + MAY + VM_ACCOUNT);
    // the head of the read-only VMA joins its writable prev (vma_merge case 5)
    mm.mprotect(a + 0x1000, 0x1000, RW);
    expect(snapshot(mm).map((v) => [v.start - a, v.end - a])).toEqual([
      [0, 0x2000],
      [0x2000, 0x3000],
      [0x3000, 0x4000],
    ]);
    // the whole middle VMA joins both neighbours (case 6)
    mm.mprotect(a + 0x2000, 0x1000, RW);
    expect(snapshot(mm)).toEqual([{ start: a, end: a + 0x4000, flags: VM_READ + VM_WRITE + MAY + VM_ACCOUNT, pgoff: a / 4096 }]);
  });

  it('the tail of a VMA joins its next (case 4); VM_ACCOUNT keeps look-alikes apart', () => {
    const mm = new MmStruct(1);
    const a = mm.mmap({ length: 0x3000, prot: RW, flags: ANON });
    mm.mprotect(a + 0x2000, 0x1000, PROT_READ);
    mm.mprotect(a + 0x1000, 0x1000, PROT_READ);
    expect(snapshot(mm).map((v) => [v.start - a, v.end - a, v.flags])).toEqual([
      [0, 0x1000, VM_READ + VM_WRITE + MAY + VM_ACCOUNT],
      [0x1000, 0x3000, VM_READ + MAY + VM_ACCOUNT],
    ]);
    // a fresh read-only mapping above is r-- too, but was never accounted: no merge
    mm.mmap({ addr: a + 0x3000, length: 0x1000, prot: PROT_READ, flags: ANON + MAP_FIXED });
    expect(mm.procMaps()).toBe(
      [
        `${a.toString(16)}-${(a + 0x1000).toString(16)} rw-p 00000000 00:00 0 `,
        `${(a + 0x1000).toString(16)}-${(a + 0x3000).toString(16)} r--p 00000000 00:00 0 `,
        `${(a + 0x3000).toString(16)}-${(a + 0x4000).toString(16)} r--p 00000000 00:00 0 `,
        '',
      ].join('\n'),
    );
    // once writable it is accounted, and joins
    mm.mprotect(a + 0x3000, 0x1000, RW);
    mm.mprotect(a + 0x1000, 0x2000, RW);
    expect(mm.mapCount).toBe(1);
  });

  it('fails without changing anything', () => {
    const mm = new MmStruct(1);
    const a = mm.mmap({ length: 0x2000, prot: RW, flags: ANON });
    expectErrnoUnchanged(mm, () => mm.mprotect(a + 0x10, 0x1000, PROT_READ), 'EINVAL');
    expectErrnoUnchanged(mm, () => mm.mprotect(a, 0x1000, 0x10), 'EINVAL');
    // a hole anywhere in the range
    expectErrnoUnchanged(mm, () => mm.mprotect(a - 0x1000, 0x2000, PROT_READ), 'ENOMEM');
    expectErrnoUnchanged(mm, () => mm.mprotect(a, 0x3000, PROT_READ), 'ENOMEM');
    expectErrnoUnchanged(mm, () => mm.mprotect(0x10000, 0x1000, PROT_READ), 'ENOMEM');
    // a may_split veto
    mm.findVma(a)!.vmOps = { maySplit: () => -12 };
    expectErrnoUnchanged(mm, () => mm.mprotect(a, 0x1000, PROT_NONE), 'ENOMEM');
    // length 0 is a successful no-op
    mm.mprotect(a, 0, PROT_NONE);
    expect(mm.mapCount).toBe(1);
  });

  it('PROT_NONE shows ---p', () => {
    const mm = new MmStruct(1);
    const a = mm.mmap({ length: 0x1000, prot: PROT_NONE, flags: ANON });
    expect(mm.procMaps()).toBe(`${a.toString(16)}-${(a + 0x1000).toString(16)} ---p 00000000 00:00 0 \n`);
  });
});

describe('madvise', () => {
  it('MADV_HUGEPAGE sets VM_HUGEPAGE, splitting and merging like mprotect', () => {
    const mm = new MmStruct(1);
    const a = mm.mmap({ length: 0x4000, prot: RW, flags: ANON });
    expect(mm.madvise(a + 0x1000, 0x1000, MADV_HUGEPAGE)).toBe(0);
    expect(mm.vmas().map((v) => v.vmFlags)).toEqual([
      VM_READ + VM_WRITE + MAY + VM_ACCOUNT,
      VM_READ + VM_WRITE + MAY + VM_ACCOUNT + VM_HUGEPAGE,
      VM_READ + VM_WRITE + MAY + VM_ACCOUNT,
    ]);
    expect(mm.madvise(a + 0x2000, 0x1000, MADV_HUGEPAGE)).toBe(0);
    expect(mm.mapCount).toBe(3);
    expect(mm.madvise(a, 0x4000, MADV_NOHUGEPAGE)).toBe(0);
    expect(mm.vmas().map((v) => v.vmFlags)).toEqual([VM_READ + VM_WRITE + MAY + VM_ACCOUNT + VM_NOHUGEPAGE]);
    expect(mm.madvise(a, 0, MADV_HUGEPAGE)).toBe(0);
  });

  it('fails without changing anything', () => {
    const mm = new MmStruct(1);
    const a = mm.mmap({ length: 0x2000, prot: RW, flags: ANON });
    expectErrnoUnchanged(mm, () => mm.madvise(a + 1, 0x1000, MADV_HUGEPAGE), 'EINVAL');
    expectErrnoUnchanged(mm, () => mm.madvise(a, 0x1000, 4), 'EINVAL');
    expectErrnoUnchanged(mm, () => mm.madvise(a - 0x1000, 0x2000, MADV_HUGEPAGE), 'ENOMEM');
  });
});

describe('/proc/PID/maps', () => {
  it('prints show_map_vma lines with 8-digit minimum hex and padded names', () => {
    const mm = new MmStruct(5, { mmapMinAddr: 0x1000 });
    mm.mmap({ addr: 0x1000, length: 0x1000, prot: PROT_READ + PROT_EXEC, flags: ANON + MAP_FIXED });
    mm.mmap({ addr: 0x3000, length: 0x1000, prot: RW, flags: SHANON + MAP_FIXED });
    const v = mm.findVma(mm.mmap({ addr: 0x5000, length: 0x1000, prot: RW, flags: ANON + MAP_FIXED }))!;
    v.vmOps = { name: () => '[anon:test]' };
    expect(mm.procMaps()).toBe(
      '00001000-00002000 r-xp 00000000 00:00 0 \n' +
        '00003000-00004000 rw-s 00000000 00:01 1                                  /dev/zero (deleted)\n' +
        '00005000-00006000 rw-p 00000000 00:00 0                                  [anon:test]\n',
    );
    const line = mm.procMaps().split('\n')[1]!;
    expect(line.indexOf('/dev/zero')).toBe(73);
  });

  it('find_vma returns the first VMA ending above the address', () => {
    const mm = new MmStruct(1);
    const a = mm.mmap({ length: 0x1000, prot: RW, flags: ANON });
    expect(mm.findVma(0)!.vmStart).toBe(a);
    expect(mm.findVma(a + 0xfff)!.vmStart).toBe(a);
    expect(mm.findVma(a + 0x1000)).toBe(null);
    expectErrno(() => new MmStruct(-1), 'EINVAL');
  });
});
