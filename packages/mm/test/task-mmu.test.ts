// /proc/PID/smaps and /proc/PID/status as fs/proc/task_mmu.c v5.13 prints them.
import { GFP_KERNEL } from '@zonedev/mmzone';
import { describe, expect, it } from 'vitest';
import {
  MADV_HUGEPAGE, MAP_ANONYMOUS, MAP_PRIVATE, MM_ANONPAGES, PROT_READ, PROT_WRITE, anonVmaPrepare, makeDevicePrivateEntry,
  pageAddNewAnonRmap, swpEntryToPte, userRead, userWrite,
} from '../src/index.js';
import { bootMachine, enc, newMm } from './machine.js';

const RW = PROT_READ + PROT_WRITE;
const ANON = MAP_PRIVATE + MAP_ANONYMOUS;

function smaps(head: string, c: Record<string, number>, thp = 0, flags = 'rd wr mr mw me ac '): string {
  const v = (k: string): number => c[k] ?? 0;
  return [
    head,
    `Size:           ${String(v('Size')).padStart(8)} kB`,
    'KernelPageSize:        4 kB',
    'MMUPageSize:           4 kB',
    `Rss:            ${String(v('Rss')).padStart(8)} kB`,
    `Pss:            ${String(v('Pss')).padStart(8)} kB`,
    `Shared_Clean:   ${String(v('Shared_Clean')).padStart(8)} kB`,
    `Shared_Dirty:   ${String(v('Shared_Dirty')).padStart(8)} kB`,
    `Private_Clean:  ${String(v('Private_Clean')).padStart(8)} kB`,
    `Private_Dirty:  ${String(v('Private_Dirty')).padStart(8)} kB`,
    `Referenced:     ${String(v('Referenced')).padStart(8)} kB`,
    `Anonymous:      ${String(v('Anonymous')).padStart(8)} kB`,
    'LazyFree:              0 kB',
    'AnonHugePages:         0 kB',
    'ShmemPmdMapped:        0 kB',
    'FilePmdMapped:         0 kB',
    'Shared_Hugetlb:        0 kB',
    'Private_Hugetlb:       0 kB',
    'Swap:                  0 kB',
    'SwapPss:               0 kB',
    'Locked:                0 kB',
    `THPeligible:    ${thp}`,
    `VmFlags: ${flags}`,
    '',
  ].join('\n');
}

describe('/proc/PID/smaps', () => {
  it('counts private pages, not the zero page, and splits shared ones in Pss', () => {
    const m = bootMachine();
    const mm = newMm(m);
    const addr = mm.mmap({ length: 0x4000, prot: RW, flags: ANON });
    userWrite(mm, addr, enc('a'));
    userWrite(mm, addr + 0x1000, enc('b'));
    userRead(mm, addr + 0x2000, 1);
    const head = '7ffff7ffb000-7ffff7fff000 rw-p 00000000 00:00 0 ';
    expect(mm.procSmaps()).toBe(smaps(head, { Size: 16, Rss: 8, Pss: 8, Private_Dirty: 8, Referenced: 8, Anonymous: 8 }));
    const child = mm.fork(2);
    expect(mm.procSmaps()).toBe(smaps(head, { Size: 16, Rss: 8, Pss: 4, Shared_Dirty: 8, Referenced: 8, Anonymous: 8 }));
    child.exitMmap();
    expect(mm.procSmaps()).toBe(smaps(head, { Size: 16, Rss: 8, Pss: 8, Private_Dirty: 8, Referenced: 8, Anonymous: 8 }));
  });

  it('counts a device-private entry as resident anonymous memory', () => {
    const m = bootMachine();
    const mm = newMm(m);
    const addr = mm.mmap({ length: 0x1000, prot: RW, flags: ANON });
    const dpfn = m.core.allocPages(GFP_KERNEL, 0)!;
    m.core.memmap.setPageLinks(dpfn, m.core.config.ZONE_DEVICE!, 0);
    m.core.memmap.setPagePgmap(dpfn, { type: 1, owner: 'dev', ops: {} });
    const vma = mm.findVma(addr)!;
    anonVmaPrepare(vma);
    m.sys.getPage(dpfn);
    pageAddNewAnonRmap(m.core, dpfn, vma, addr, 4096);
    mm.addRss(MM_ANONPAGES, 1);
    mm.pgd!.set(addr, swpEntryToPte(makeDevicePrivateEntry(dpfn, true)));
    // page_count is 2 (free device pages sit at 1), mapcount 1: private; a swap PTE is neither young nor dirty
    expect(mm.procSmaps()).toBe(
      smaps('7ffff7ffe000-7ffff7fff000 rw-p 00000000 00:00 0 ', { Size: 4, Rss: 4, Pss: 4, Private_Clean: 4, Anonymous: 4 }),
    );
    expect(mm.procStatusMem()).toContain('RssAnon:\t       4 kB\n');
  });

  it('says THPeligible for an anonymous VMA holding an aligned 2 MiB range under madvise', () => {
    const m = bootMachine({ thp: 'madvise' });
    const mm = newMm(m);
    const addr = mm.mmap({ length: 0x400000, prot: RW, flags: ANON });
    expect(mm.procSmaps()).toContain('THPeligible:    0\n');
    mm.madvise(addr, 0x400000, MADV_HUGEPAGE);
    expect(mm.procSmaps()).toContain('THPeligible:    1\nVmFlags: rd wr mr mw me ac hg \n');
  });
});

describe('/proc/PID/status', () => {
  it('prints task_mem() with the rss counters and the page tables', () => {
    const m = bootMachine();
    const mm = newMm(m);
    const addr = mm.mmap({ length: 0x4000, prot: RW, flags: ANON });
    mm.mmap({ length: 0x1000, prot: PROT_READ, flags: ANON });
    userWrite(mm, addr, enc('abc'));
    userWrite(mm, addr + 0x3000, enc('abc'));
    mm.munmap(addr + 0x3000, 0x1000);
    expect(mm.procStatusMem()).toBe(
      'VmPeak:\t      20 kB\n' +
        'VmSize:\t      16 kB\n' +
        'VmLck:\t       0 kB\n' +
        'VmPin:\t       0 kB\n' +
        'VmHWM:\t       8 kB\n' +
        'VmRSS:\t       4 kB\n' +
        'RssAnon:\t       4 kB\n' +
        'RssFile:\t       0 kB\n' +
        'RssShmem:\t       0 kB\n' +
        'VmData:\t      12 kB\n' +
        'VmStk:\t       0 kB\n' +
        'VmExe:\t       0 kB\n' +
        'VmLib:\t       0 kB\n' +
        'VmPTE:\t      12 kB\n' +
        'VmSwap:\t       0 kB\n' +
        'HugetlbPages:\t       0 kB\n',
    );
  });
});
