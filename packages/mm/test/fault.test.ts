// Page tables and faults: handle_mm_fault() and the user-fault signals
// (mm/memory.c, arch/x86/mm/fault.c v5.13), fork's copy-on-write, munmap
// and exit freeing pages.
import { GFP_KERNEL } from '@zonedev/mmzone';
import { describe, expect, it } from 'vitest';
import {
  FAULT_FLAG_WRITE, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, MM_ANONPAGES, MmSystem, PROT_READ, PROT_WRITE,
  PageTable, UserFaultSignal, VM_FAULT_HWPOISON, VM_FAULT_SIGBUS, VM_FAULT_WRITE, anonVmaPrepare, handleMmFault,
  makeDevicePrivateEntry, makeHwpoisonEntry, makeMigrationEntry, pageAddNewAnonRmap, pagingGeometry, pfnPte,
  pteDirty, ptePresent, pteSpecial, pteToSwpEntry, pteValX86, pteWrite, swpEntry, swpEntryToPte, isWriteDevicePrivateEntry,
  userFault, userRead, userWrite, PAGE_SHARED, _PAGE_PRESENT, _PAGE_RW, _PAGE_USER, _PAGE_ACCESSED, _PAGE_NX,
  isDevicePrivateEntry, formatPte, _PAGE_DIRTY, MMU_NOTIFY_PROTECTION_PAGE, MMU_NOTIFY_UNMAP, MMU_NOTIFY_CLEAR, MmuIntervalNotifier,
  mmuIntervalNotifierInsert, mmuIntervalSetSeq,
} from '../src/index.js';
import type { MmStruct, MmuNotifierRange, Vma, VmFault } from '../src/index.js';
import { POWERPC_RADIX_64K, X86_64_4LEVEL, X86_64_5LEVEL, bootMachine, dec, enc, newMm } from './machine.js';
import { expectErrno } from './helpers.js';

const RW = PROT_READ + PROT_WRITE;
const ANON = MAP_PRIVATE + MAP_ANONYMOUS;

function anonMm(pages = 4): { m: ReturnType<typeof bootMachine>; mm: MmStruct; addr: number } {
  const m = bootMachine();
  const mm = newMm(m);
  const addr = mm.mmap({ length: pages * 4096, prot: RW, flags: ANON });
  return { m, mm, addr };
}

describe('page-table geometry', () => {
  it('follows the architecture: x86_64 4- and 5-level, powerpc radix 64K', () => {
    expect(pagingGeometry(X86_64_4LEVEL)).toEqual({
      pageSize: 4096, ptrsPerPte: 512, pmdSize: 2 * 2 ** 20, pudSize: 2 ** 30, pudTableSpan: 2 ** 39, levels: 4, vaBits: 48,
    });
    expect(pagingGeometry(X86_64_5LEVEL)).toMatchObject({ levels: 5, vaBits: 57, pmdSize: 2 ** 21, pudTableSpan: 2 ** 39 });
    expect(pagingGeometry(POWERPC_RADIX_64K)).toEqual({
      pageSize: 65536, ptrsPerPte: 32, pmdSize: 2 ** 21, pudSize: 2 ** 30, pudTableSpan: 2 ** 39, levels: 4, vaBits: 52,
    });
    expectErrno(() => pagingGeometry({ name: 'bad', pageShift: 12, levelBits: [9, 9] }), 'EINVAL');
  });

  it('keeps PTEs, huge PMDs and swap entries at their virtual addresses', () => {
    const pt = new PageTable(POWERPC_RADIX_64K);
    pt.set(0x7ff00000, pfnPte(5, PAGE_SHARED));
    pt.set(0x7ff00000 + 65536, swpEntryToPte(makeDevicePrivateEntry(9, true)));
    expect(pt.get(0x7ff00000)).toEqual({ kind: 'present', pfn: 5, flags: PAGE_SHARED });
    expect(isDevicePrivateEntry(pteToSwpEntry(pt.get(0x7ff00000 + 65536)))).toBe(true);
    expect(pt.get(0x7ff00000 + 2 * 65536)).toBeUndefined();
    const seen: number[] = [];
    pt.walk(0, 2 ** 40, (e) => seen.push(e.addr));
    expect(seen).toEqual([0x7ff00000, 0x7ff00000 + 65536]);
    // a huge leaf needs an empty, aligned PMD slot
    expectErrno(() => pt.setPmd(0x7fe00000 + 4096, pfnPte(512, PAGE_SHARED)), 'EINVAL');
    expectErrno(() => pt.setPmd(0x7fe00000, pfnPte(512, PAGE_SHARED)), 'EEXIST');
    expect(pt.pgtablesBytes()).toBe(3 * 65536); // one PTE, one PMD and one PUD table
    expect(pt.clear(0x7ff00000)).toEqual({ kind: 'present', pfn: 5, flags: PAGE_SHARED });
    expectErrno(() => pt.get(2 ** 52), 'EINVAL');
  });

  it('encodes x86_64 pte values, swap entries inverted from bit 9', () => {
    expect(pteValX86(pfnPte(0x1234, PAGE_SHARED))).toBe(0x8000000001234067n - 0x40n);
    // __swp_entry(type 31, offset 0x10): type << 59 | ~0x10 << 14 >> 5
    const v = pteValX86(swpEntryToPte(swpEntry(31, 0x10)));
    expect(v / 2n ** 59n).toBe(31n);
    expect(((2n ** 59n - 1n - (v % 2n ** 59n)) / 2n ** 9n) % 2n ** 50n).toBe(0x10n);
    expect([_PAGE_PRESENT, _PAGE_RW, _PAGE_USER, _PAGE_ACCESSED]).toEqual([1, 2, 4, 0x20]);
    expect(formatPte(pfnPte(0x12345, PAGE_SHARED + _PAGE_DIRTY))).toBe('0x8000000012345067 pfn 0x12345 RW USR ACC DIRTY NX');
    expect(formatPte(swpEntryToPte(makeDevicePrivateEntry(0x1234, true)))).toMatch(/^0x[0-9a-f]{16} swap type 30 \(device-private write\) pfn 0x1234$/);
    expect(formatPte(undefined)).toBe('none');
    expect(PAGE_SHARED).toBe(_PAGE_PRESENT + _PAGE_RW + _PAGE_USER + _PAGE_ACCESSED + _PAGE_NX);
  });
});

describe('anonymous faults', () => {
  it('maps the shared zero page on a read, and allocates nothing', () => {
    const { m, mm, addr } = anonMm();
    const free = m.core.nrFreePages();
    expect(dec(userRead(mm, addr + 10, 3))).toBe('\0\0\0');
    const pte = mm.pgd!.get(addr)!;
    expect(ptePresent(pte) && pte.pfn === m.sys.zeroPfn && pteSpecial(pte) && !pteWrite(pte)).toBe(true);
    expect(m.core.nrFreePages()).toBe(free);
    expect(mm.getMmCounter(MM_ANONPAGES)).toBe(0);
  });

  it('allocates a zeroed GFP_HIGHUSER_MOVABLE page on a write, mapped writable and dirty', () => {
    const { m, mm, addr } = anonMm();
    const free = m.core.nrFreePages();
    userWrite(mm, addr + 4095, enc('ab'));
    expect(m.core.nrFreePages()).toBe(free - 2);
    const p0 = mm.pgd!.get(addr)!;
    const p1 = mm.pgd!.get(addr + 4096)!;
    for (const p of [p0, p1]) {
      if (!ptePresent(p)) throw new Error('not present');
      expect(pteWrite(p) && pteDirty(p)).toBe(true);
      expect(m.sys.pageCount(p.pfn)).toBe(1);
      expect(m.sys.pageMapcount(p.pfn)).toBe(1);
      expect(m.sys.pageAnon(p.pfn)).toBe(true);
      // the highest zone there is: all 256 MiB of this machine lie below 4 GiB
      expect(m.core.pageZone(p.pfn).name).toBe('DMA32');
    }
    expect(dec(userRead(mm, addr + 4094, 4))).toBe('\0ab\0');
    expect(mm.getMmCounter(MM_ANONPAGES)).toBe(2);
  });

  it('copies the zero page on the first write after a read', () => {
    const { m, mm, addr } = anonMm();
    userRead(mm, addr, 1);
    const r = handleMmFault(mm.findVma(addr)!, addr, FAULT_FLAG_WRITE);
    expect(r).toBe(VM_FAULT_WRITE);
    const pte = mm.pgd!.get(addr)!;
    expect(ptePresent(pte) && pte.pfn !== m.sys.zeroPfn && pteWrite(pte)).toBe(true);
    expect(dec(userRead(mm, addr, 2))).toBe('\0\0');
  });

  it('ends in the signal do_user_addr_fault() sends', () => {
    const { m, mm, addr } = anonMm();
    const ro = mm.mmap({ length: 4096, prot: PROT_READ, flags: ANON });
    const sig = (fn: () => unknown): [string, string] => {
      try {
        fn();
      } catch (e) {
        if (e instanceof UserFaultSignal) return [e.signal, e.code];
        throw e;
      }
      return ['none', ''];
    };
    expect(sig(() => userRead(mm, addr - 0x100000, 1))).toEqual(['SIGSEGV', 'SEGV_MAPERR']);
    expect(sig(() => userWrite(mm, ro, enc('x')))).toEqual(['SIGSEGV', 'SEGV_ACCERR']);
    expect(sig(() => userFault(mm, addr, 'exec'))).toEqual(['SIGSEGV', 'SEGV_ACCERR']);
    mm.pgd!.set(addr, swpEntryToPte(makeHwpoisonEntry(0x1234)));
    expect(sig(() => userRead(mm, addr, 1))).toEqual(['SIGBUS', 'BUS_MCEERR_AR']);
    expect(handleMmFault(mm.findVma(addr)!, addr, 0)).toBe(VM_FAULT_HWPOISON);
    // a driver mapping without vm_ops->fault
    const file = { path: '/dev/nofault', devMajor: 10, devMinor: 1, ino: 7, readable: true, writable: true, mmap: (v: Vma) => ((v.vmOps = {}), 0) };
    const d = mm.mmap({ length: 4096, prot: RW, flags: MAP_SHARED, file });
    expect(sig(() => userRead(mm, d, 1))).toEqual(['SIGBUS', 'BUS_ADRERR']);
    expect(m.core.nrFreePages()).toBeGreaterThan(0);
  });

  it('waits on a migration entry: the fault returns 0 and nothing changes', () => {
    const { m, mm, addr } = anonMm();
    const waited: number[] = [];
    m.sys.onMigrationEntryWait = (pfn) => waited.push(pfn);
    mm.pgd!.set(addr, swpEntryToPte(makeMigrationEntry(0x4321, true)));
    expect(handleMmFault(mm.findVma(addr)!, addr, FAULT_FLAG_WRITE)).toBe(0);
    expect(waited).toEqual([0x4321]);
    expectErrno(() => userRead(mm, addr, 1), 'EAGAIN');
  });

  it('validates: an address outside the VMA is EFAULT', () => {
    const { mm, addr } = anonMm();
    expectErrno(() => handleMmFault(mm.findVma(addr)!, addr + 4 * 4096, 0), 'EFAULT');
    expectErrno(() => handleMmFault(mm.findVma(addr)!, -1, 0), 'EINVAL');
  });
});

describe('fork and copy-on-write', () => {
  it('shares pages read-only, copies on the first write in either process', () => {
    const { m, mm, addr } = anonMm(2);
    userWrite(mm, addr, enc('parent'));
    const pfn = (mm.pgd!.get(addr) as { pfn: number }).pfn;
    const child = mm.fork(101);
    expect(m.sys.pageCount(pfn)).toBe(2);
    expect(m.sys.pageMapcount(pfn)).toBe(2);
    expect(pteWrite(mm.pgd!.get(addr) as never)).toBe(false);
    expect(pteWrite(child.pgd!.get(addr) as never)).toBe(false);
    expect(dec(userRead(child, addr, 6))).toBe('parent');
    const free = m.core.nrFreePages();
    userWrite(child, addr, enc('child!'));
    expect(m.core.nrFreePages()).toBe(free - 1);
    const cpfn = (child.pgd!.get(addr) as { pfn: number }).pfn;
    expect(cpfn).not.toBe(pfn);
    expect([m.sys.pageCount(pfn), m.sys.pageMapcount(pfn), m.sys.pageCount(cpfn), m.sys.pageMapcount(cpfn)]).toEqual([1, 1, 1, 1]);
    expect(dec(userRead(mm, addr, 6))).toBe('parent');
    expect(dec(userRead(child, addr, 6))).toBe('child!');
    // the parent's page is its own again: reused, not copied
    userWrite(mm, addr, enc('P'));
    expect(m.core.nrFreePages()).toBe(free - 1);
    expect((mm.pgd!.get(addr) as { pfn: number }).pfn).toBe(pfn);
    expect(child.getMmCounter(MM_ANONPAGES)).toBe(1);
  });

  it('notifies MMU_NOTIFY_PROTECTION_PAGE on the parent and CLEAR on a COW', () => {
    const { mm, addr } = anonMm(1);
    userWrite(mm, addr, enc('x'));
    const events: number[] = [];
    const sub = new MmuIntervalNotifier();
    mmuIntervalNotifierInsert(sub, mm, addr, 4096, {
      invalidate: (s: MmuIntervalNotifier, r: MmuNotifierRange, seq: number) => (events.push(r.event), mmuIntervalSetSeq(s, seq), true),
    });
    const child = mm.fork(7);
    userWrite(mm, addr, enc('y'));
    mm.munmap(addr, 4096);
    expect(events).toEqual([MMU_NOTIFY_PROTECTION_PAGE, MMU_NOTIFY_CLEAR, MMU_NOTIFY_UNMAP]);
    expect(dec(userRead(child, addr, 1))).toBe('x');
  });
});

describe('shared anonymous memory (shmem)', () => {
  it('is one page cache: fork shares it both ways, the last unmap frees it', () => {
    const m = bootMachine();
    const free0 = m.core.nrFreePages();
    const mm = newMm(m);
    const a = mm.mmap({ length: 2 * 4096, prot: RW, flags: MAP_SHARED + MAP_ANONYMOUS });
    userWrite(mm, a + 4096, enc('shared'));
    const child = mm.fork(5);
    expect(dec(userRead(child, a + 4096, 6))).toBe('shared');
    userWrite(child, a + 4096, enc('SHARED'));
    expect(dec(userRead(mm, a + 4096, 6))).toBe('SHARED');
    const file = mm.findVma(a)!.vmFile!;
    const pfn = m.sys.shmemPages(file).get(1)!;
    // the page cache's reference and one per mapping
    expect([m.sys.pageCount(pfn), m.sys.pageMapcount(pfn), mm.getMmCounter(3), child.getMmCounter(3)]).toEqual([3, 2, 1, 1]);
    expect(m.core.nrFreePages()).toBe(free0 - 1);
    mm.munmap(a, 2 * 4096);
    expect(m.core.nrFreePages()).toBe(free0 - 1);
    child.exitMmap();
    expect(m.core.nrFreePages()).toBe(free0);
    expect(m.sys.shmemPages(file).size).toBe(0);
  });
});

describe('munmap and exit free pages', () => {
  it('returns every page to the buddy allocator', () => {
    const m = bootMachine();
    const free0 = m.core.nrFreePages();
    const mm = newMm(m);
    const addr = mm.mmap({ length: 64 * 4096, prot: RW, flags: ANON });
    for (let i = 0; i < 64; i++) userWrite(mm, addr + i * 4096, enc(`page ${i}`));
    expect(m.core.nrFreePages()).toBe(free0 - 64);
    mm.munmap(addr, 16 * 4096);
    expect(m.core.nrFreePages()).toBe(free0 - 48);
    expect(mm.getMmCounter(MM_ANONPAGES)).toBe(48);
    const child = mm.fork(200);
    mm.exitMmap();
    expect(m.core.nrFreePages()).toBe(free0 - 48);
    expect(dec(userRead(child, addr + 20 * 4096, 7))).toBe('page 20');
    child.mmput();
    expect(m.core.nrFreePages()).toBe(free0);
    expect(m.sys.mms()).toEqual([]);
    expect(child.pgd!.empty).toBe(true);
  });
});

describe('device-private entries', () => {
  function devicePage(m: ReturnType<typeof bootMachine>, migrateToRam: (vmf: VmFault) => number): number {
    // a page standing for memremap's: ZONE_DEVICE links, a pgmap, refcount 1 when free
    const pfn = m.core.allocPages(GFP_KERNEL, 0)!;
    m.core.memmap.setPageLinks(pfn, m.core.config.ZONE_DEVICE!, 0);
    m.core.memmap.setPagePgmap(pfn, { type: 1, owner: 'dmirror', ops: { migrateToRam } });
    return pfn;
  }

  function mapDevicePage(m: ReturnType<typeof bootMachine>, mm: MmStruct, addr: number, dpfn: number): void {
    const vma = mm.findVma(addr)!;
    anonVmaPrepare(vma);
    m.sys.getPage(dpfn);
    pageAddNewAnonRmap(m.core, dpfn, vma, addr, 4096);
    mm.addRss(MM_ANONPAGES, 1);
    mm.pgd!.set(addr, swpEntryToPte(makeDevicePrivateEntry(dpfn, true)));
  }

  it('do_swap_page calls migrate_to_ram(vmf) with vmf->page and no extra reference', () => {
    const { m, mm, addr } = anonMm();
    const seen: [number, number, number | undefined, number][] = [];
    const dpfn = devicePage(m, (vmf) => (seen.push([vmf.address, vmf.flags, vmf.page, m.sys.pageCount(vmf.page!)]), VM_FAULT_SIGBUS));
    mapDevicePage(m, mm, addr + 4096, dpfn);
    expect(handleMmFault(mm.findVma(addr)!, addr + 4096 + 12, FAULT_FLAG_WRITE)).toBe(VM_FAULT_SIGBUS);
    expect(seen).toEqual([[addr + 4096, FAULT_FLAG_WRITE, dpfn, 2]]);
  });

  it('fork downgrades a writable device-private entry to read in both processes; zap drops the page', () => {
    const { m, mm, addr } = anonMm();
    const dpfn = devicePage(m, () => 0);
    mapDevicePage(m, mm, addr, dpfn);
    const child = mm.fork(300);
    for (const p of [mm, child]) {
      const e = pteToSwpEntry(p.pgd!.get(addr));
      expect(isDevicePrivateEntry(e) && !isWriteDevicePrivateEntry(e)).toBe(true);
    }
    expect([m.sys.pageCount(dpfn), m.sys.pageMapcount(dpfn), child.getMmCounter(MM_ANONPAGES)]).toEqual([3, 2, 1]);
    child.exitMmap();
    mm.munmap(addr, 4096);
    expect([m.sys.pageCount(dpfn), m.sys.pageMapcount(dpfn), mm.getMmCounter(MM_ANONPAGES)]).toEqual([1, 0, 0]);
  });

  it('mprotect makes a writable device-private entry a read entry; exit notifies MMU_NOTIFY_UNMAP', () => {
    const { m, mm, addr } = anonMm();
    const dpfn = devicePage(m, () => 0);
    mapDevicePage(m, mm, addr, dpfn);
    const events: [number, number, number][] = [];
    const sub = new MmuIntervalNotifier();
    mmuIntervalNotifierInsert(sub, mm, addr, 4 * 4096, {
      invalidate: (s: MmuIntervalNotifier, r: MmuNotifierRange, seq: number) => (events.push([r.event, r.start, r.end]), mmuIntervalSetSeq(s, seq), true),
    });
    mm.mprotect(addr, 4096, PROT_READ);
    const e = pteToSwpEntry(mm.pgd!.get(addr));
    expect(isDevicePrivateEntry(e) && !isWriteDevicePrivateEntry(e)).toBe(true);
    mm.exitMmap();
    expect(events).toEqual([[2, addr, addr + 4096], [MMU_NOTIFY_UNMAP, 0, mm.taskSize]]);
    expect([m.sys.pageCount(dpfn), m.sys.pageMapcount(dpfn)]).toEqual([1, 0]);
  });
});

describe('tracing', () => {
  it('records handle_mm_fault and do_swap_page in the function graph', () => {
    const { m, mm, addr } = anonMm();
    m.kernel.tracer.on();
    userWrite(mm, addr, enc('x'));
    mm.pgd!.set(addr + 4096, swpEntryToPte(makeMigrationEntry(0x10, false)));
    handleMmFault(mm.findVma(addr)!, addr + 4096, 0);
    m.kernel.tracer.off();
    const calls = m.kernel.tracer.events
      .filter((e) => e.kind === 'entry' && (e.name === 'handle_mm_fault' || e.name === 'do_swap_page'))
      .map((e) => `${e.depth} ${e.name}(${e.args.join(', ')})`);
    const v = `vma(0x${addr.toString(16)}-0x${(addr + 4 * 4096).toString(16)})`;
    expect(calls).toEqual([
      `0 handle_mm_fault(${v}, 0x${addr.toString(16)}, 0x255)`,
      `0 handle_mm_fault(${v}, 0x${(addr + 4096).toString(16)}, 0)`,
      `1 do_swap_page(mm, {vma=${v}, address=0x${(addr + 4096).toString(16)}, flags=0, pgoff=0x${((addr + 4096) / 4096).toString(16)}, gfp_mask=0x${(0x100cca).toString(16)}, page=NULL, cow_page=NULL, orig_pte={...}}, {val=0x${(28n * 2n ** 58n + 16n).toString(16)}})`,
    ]);
  });
});

describe('a machine', () => {
  it('refuses an architecture whose page size differs from the mm core', () => {
    const m = bootMachine();
    expectErrno(() => new MmSystem({ core: m.core, arch: POWERPC_RADIX_64K }), 'EINVAL');
  });
});

describe('mprotect on populated memory', () => {
  it('write-protects the PTEs (MMU_NOTIFY_PROTECTION_VMA), and a write then faults and reuses the page', () => {
    const { m, mm, addr } = anonMm(2);
    userWrite(mm, addr, enc('w'));
    const pfn = (mm.pgd!.get(addr) as { pfn: number }).pfn;
    const events: number[] = [];
    const sub = new MmuIntervalNotifier();
    mmuIntervalNotifierInsert(sub, mm, addr, 2 * 4096, {
      invalidate: (s: MmuIntervalNotifier, r: MmuNotifierRange, seq: number) => (events.push(r.event), mmuIntervalSetSeq(s, seq), true),
    });
    mm.mprotect(addr, 2 * 4096, PROT_READ);
    expect(pteWrite(mm.pgd!.get(addr) as never)).toBe(false);
    expect(events).toEqual([2 /* MMU_NOTIFY_PROTECTION_VMA */]);
    const sig = (() => {
      try {
        userWrite(mm, addr, enc('x'));
      } catch (e) {
        return (e as UserFaultSignal).code;
      }
      return 'none';
    })();
    expect(sig).toBe('SEGV_ACCERR');
    mm.mprotect(addr, 2 * 4096, RW);
    const free = m.core.nrFreePages();
    userWrite(mm, addr, enc('y'));
    expect((mm.pgd!.get(addr) as { pfn: number }).pfn).toBe(pfn);
    expect(m.core.nrFreePages()).toBe(free);
    expect(dec(userRead(mm, addr, 1))).toBe('y');
  });
});

describe('out of memory', () => {
  it('a write fault that cannot allocate is VM_FAULT_OOM, and the process gets the OOM killer', () => {
    const m = bootMachine({ memory: 32 * 2 ** 20 });
    const mm = newMm(m);
    const addr = mm.mmap({ length: 4096, prot: RW, flags: ANON });
    const held: number[] = [];
    for (;;) {
      const p = m.core.allocPages(GFP_KERNEL, 0);
      if (p === undefined) break;
      held.push(p);
    }
    expect(handleMmFault(mm.findVma(addr)!, addr, FAULT_FLAG_WRITE)).toBe(1 /* VM_FAULT_OOM */);
    expect(mm.pgd!.get(addr)).toBeUndefined();
    try {
      userWrite(mm, addr, enc('x'));
      throw new Error('no signal');
    } catch (e) {
      expect([(e as UserFaultSignal).signal, (e as UserFaultSignal).code]).toEqual(['SIGKILL', 'OOM']);
    }
    for (const p of held) m.core.putPage(p as never);
    userWrite(mm, addr, enc('x'));
    expect(mm.getMmCounter(MM_ANONPAGES)).toBe(1);
  });
});
