// The PUD level of the page tables (Linux v5.13): huge PUD leaves
// (pfn_pud, pud_mkhuge, pud_mkdevmap, pud_trans_huge, pud_devmap),
// vmf_insert_pfn_pud() and insert_pfn_pud() of mm/huge_memory.c, the
// create_huge_pud()/wp_huge_pud()/huge_pud_set_accessed() steps of
// __handle_mm_fault() in mm/memory.c, zap_huge_pud() on munmap,
// copy_huge_pud() on fork, change_pud_range()'s pud_clear_bad() on mprotect,
// and walk_pud_range()'s split of a leaf when /proc/PID/smaps reads it.
import { describe, expect, it } from 'vitest';
import {
  FAULT_FLAG_WRITE, MAP_FIXED, MAP_SHARED, MMU_NOTIFY_CLEAR, PE_SIZE_PMD, PE_SIZE_PTE, PE_SIZE_PUD, PROT_READ,
  PROT_WRITE, VM_FAULT_FALLBACK, VM_FAULT_NOPAGE, VM_FAULT_SIGBUS, VM_MIXEDMAP, VM_PFNMAP, _PAGE_DEVMAP, _PAGE_PSE,
  _PAGE_SPECIAL, MmuIntervalNotifier, formatPte, handleMmFault, mmuIntervalNotifierInsert, mmuIntervalSetSeq, pfnPud, pteDirty, ptePresent, pteWrite,
  pteYoung, pudDevmap, pudMkdevmap, pudMkhuge, pudTransHuge, showSmap, userRead, userWrite, vmfInsertMixed,
  vmfInsertPfnPmd, vmfInsertPfnPud,
} from '../src/index.js';
import type { MmapFile, MmuNotifierRange, PresentPte, Vma, VmFault } from '../src/index.js';
import { GiB, MiB, bootMachine, dec, enc, newMm } from './machine.js';
import { expectErrno } from './helpers.js';

const RW = PROT_READ + PROT_WRITE;
const PFN_DEV_MAP = 2n ** 61n + 2n ** 60n;
const VA = 0x7f0000000000; // 1 GiB aligned
const BASE = (16 * GiB) / 4096; // a PUD-aligned pfn run beyond RAM

/** A driver whose huge_fault serves PE_SIZE_PUD (when `pud` says so), PMDs and PTEs from one pfn run. */
function pudDriver(opts: { pud?: () => boolean; log?: number[] } = {}): { file: MmapFile; calls: number[] } {
  const calls = opts.log ?? [];
  const ops: Vma['vmOps'] = {
    hugeFault: (vmf: VmFault, pe: number) => {
      calls.push(pe);
      const write = vmf.flags % (2 * FAULT_FLAG_WRITE) >= FAULT_FLAG_WRITE;
      if (pe === PE_SIZE_PUD) {
        if (!(opts.pud?.() ?? true)) return VM_FAULT_FALLBACK;
        const off = vmf.address - (vmf.address % GiB) - vmf.vma.vmStart;
        return vmfInsertPfnPud(vmf, { pfn: BASE + off / 4096, flags: PFN_DEV_MAP }, write);
      }
      if (pe === PE_SIZE_PMD) {
        const off = vmf.address - (vmf.address % (2 * MiB)) - vmf.vma.vmStart;
        return vmfInsertPfnPmd(vmf, { pfn: BASE + off / 4096, flags: PFN_DEV_MAP }, write);
      }
      return VM_FAULT_FALLBACK;
    },
    fault: (vmf: VmFault) => {
      calls.push(PE_SIZE_PTE);
      return vmfInsertMixed(vmf.vma, vmf.address, { pfn: BASE + vmf.pgoff, flags: PFN_DEV_MAP });
    },
    pagesize: () => GiB,
  };
  const file: MmapFile = {
    path: '/dev/dax9.0', devMajor: 0, devMinor: 6, ino: 9, readable: true, writable: true, dax: true,
    mmap: (v: Vma) => {
      v.vmFlags += VM_MIXEDMAP;
      v.vmOps = ops;
      return 0;
    },
  };
  return { file, calls };
}

function setup(opts: Parameters<typeof pudDriver>[0] = {}) {
  const m = bootMachine();
  const mm = newMm(m);
  const { file, calls } = pudDriver(opts);
  const a = mm.mmap({ addr: VA, length: 2 * GiB, prot: RW, flags: MAP_SHARED + MAP_FIXED, file });
  return { m, mm, a, calls, file };
}

describe('PUD entries', () => {
  it('pfn_pud + pud_mkhuge is pud_trans_huge; pud_mkdevmap makes it pud_devmap and no longer trans-huge, without _PAGE_SPECIAL', () => {
    const huge = pudMkhuge(pfnPud(BASE, 0x27));
    expect([pudTransHuge(huge), pudDevmap(huge)]).toEqual([true, false]);
    const dev = pudMkdevmap(huge);
    expect([pudTransHuge(dev), pudDevmap(dev)]).toEqual([false, true]);
    expect(dev.flags).toBe(0x27 + _PAGE_PSE + _PAGE_DEVMAP);
    expect(dev.flags % (2 * _PAGE_SPECIAL) >= _PAGE_SPECIAL).toBe(false);
    // pfn 0x400000 at bit 12, PSE, devmap at bit 58
    expect(formatPte(dev)).toBe('0x04000004000000a7 pfn 0x400000 RW USR ACC PSE DEVMAP');
    expectErrno(() => pfnPud(BASE, 0x2), 'EINVAL');
    expectErrno(() => pfnPud(-1, 0x27), 'EINVAL');
  });

  it('the page table holds a PUD leaf alone in its 1 GiB: no PTE or PMD below it, pud_none around it', () => {
    const m = bootMachine();
    const pt = m.sys.newPageTable();
    const leaf = pudMkdevmap(pudMkhuge(pfnPud(BASE, 0x27)));
    expect(pt.pudNone(VA)).toBe(true);
    expectErrno(() => pt.setPud(VA + 2 * MiB, leaf), 'EINVAL');
    pt.setPud(VA, leaf);
    expect([pt.pudNone(VA), pt.getPud(VA + GiB - 1), pt.get(VA + 12345), pt.getPmd(VA)]).toEqual([false, leaf, leaf, undefined]);
    expectErrno(() => pt.set(VA + 4096, leaf), 'EEXIST');
    expectErrno(() => pt.setPmd(VA + 2 * MiB, leaf), 'EEXIST');
    pt.set(VA + GiB, leaf);
    expectErrno(() => pt.setPud(VA + GiB, leaf), 'EEXIST');
    const seen: string[] = [];
    pt.walk(VA - GiB, VA + 2 * GiB, (e) => seen.push(`${e.level} ${(e.addr - VA) / MiB}`));
    expect(seen).toEqual(['pud 0', 'pte 1024']);
    expect([pt.nrPresent, pt.nrPudLeaves]).toEqual([2, 1]);
    // one PUD table for both, one PMD and one PTE table for the PTE
    expect(pt.pgtablesBytes()).toBe(3 * 4096);
    expect(pt.clearPud(VA)).toBe(leaf);
    expect([pt.pudNone(VA), pt.nrPudLeaves, pt.nrPresent]).toEqual([true, 0, 1]);
  });
});

describe('vmf_insert_pfn_pud and the PUD level of handle_mm_fault', () => {
  it('a read fault asks huge_fault(PE_SIZE_PUD) first and maps 1 GiB with one devmap leaf', () => {
    const { m, mm, a, calls } = setup();
    m.core.physmem.write(BASE * 4096 + 0x3fff0000, enc('far'));
    expect(dec(userRead(mm, a + 0x3fff0000, 3))).toBe('far');
    expect(calls).toEqual([PE_SIZE_PUD]);
    // a shared writable mapping's vm_page_prot is PAGE_SHARED: writable, but a read fault leaves it clean
    const pud = mm.pgd!.getPud(a) as PresentPte;
    expect([pudDevmap(pud), pteWrite(pud), pteDirty(pud), pteYoung(pud), pud.pfn]).toEqual([true, true, false, true, BASE]);
    // the whole GiB reads and writes through the same leaf: no more faults
    userRead(mm, a + 5, 1);
    userWrite(mm, a + 7, enc('w'));
    expect(calls).toEqual([PE_SIZE_PUD]);
    expect(dec(m.core.physmem.read(BASE * 4096 + 7, 1))).toBe('w');
    // the second GiB gets its own leaf, one GiB further into the run
    userWrite(mm, a + GiB + 1, enc('x'));
    expect((mm.pgd!.getPud(a + GiB) as PresentPte).pfn).toBe(BASE + GiB / 4096);
    expect(mm.pgd!.nrPresent).toBe(2);
  });

  it('VM_FAULT_FALLBACK at the PUD level goes on to the PMD level, and a populated PUD is not asked again', () => {
    const { mm, a, calls } = setup({ pud: () => false });
    userRead(mm, a + 3 * MiB, 1);
    expect(calls).toEqual([PE_SIZE_PUD, PE_SIZE_PMD]);
    expect(mm.pgd!.getPud(a)).toBeUndefined();
    expect(ptePresent(mm.pgd!.getPmd(a + 2 * MiB))).toBe(true);
    userRead(mm, a + 5 * MiB, 1);
    expect(calls).toEqual([PE_SIZE_PUD, PE_SIZE_PMD, PE_SIZE_PMD]);
  });

  it('without huge_fault, or with VM_NOHUGEPAGE semantics off (thp never on a non-DAX file), the PUD level is skipped', () => {
    const m = bootMachine({ thp: 'never' });
    const mm = newMm(m);
    const { file, calls } = pudDriver();
    const plain = { ...file, dax: false };
    const a = mm.mmap({ addr: VA, length: GiB, prot: RW, flags: MAP_SHARED + MAP_FIXED, file: plain });
    userRead(mm, a, 1);
    expect(calls).toEqual([PE_SIZE_PMD]);
    // a DAX file is always eligible (vma_is_dax)
    const b = mm.mmap({ addr: VA + 4 * GiB, length: GiB, prot: RW, flags: MAP_SHARED + MAP_FIXED, file });
    userRead(mm, b, 1);
    expect(calls).toEqual([PE_SIZE_PMD, PE_SIZE_PUD]);
  });

  it("vmf_insert_pfn_pud's BUG_ON conditions are EINVAL, outside the VMA is SIGBUS, an entry already there stays", () => {
    const { mm, a } = setup({ pud: () => false });
    const vma = mm.findVma(a)!;
    const vmfAt = (address: number, v: Vma = vma): VmFault => ({ vma: v, address, flags: 0, pgoff: 0, gfpMask: 0, page: undefined, cowPage: undefined });
    const flagsBefore = vma.vmFlags;
    vma.vmFlags -= VM_MIXEDMAP;
    expectErrno(() => vmfInsertPfnPud(vmfAt(a), { pfn: BASE, flags: 2n ** 61n }, false), 'EINVAL');
    vma.vmFlags = flagsBefore + VM_PFNMAP;
    expectErrno(() => vmfInsertPfnPud(vmfAt(a), { pfn: BASE, flags: PFN_DEV_MAP }, false), 'EINVAL');
    vma.vmFlags = flagsBefore;
    expectErrno(() => vmfInsertPfnPud(vmfAt(a), { pfn: BASE + 512, flags: PFN_DEV_MAP }, false), 'EINVAL');
    expect(mm.pgd!.empty).toBe(true);
    // the PUD-aligned address below the VMA's start
    const small = mm.mmap({ addr: VA + 4 * GiB + 2 * MiB, length: 2 * MiB, prot: RW, flags: MAP_SHARED + MAP_FIXED, file: pudDriver().file });
    expect(vmfInsertPfnPud(vmfAt(small, mm.findVma(small)!), { pfn: BASE, flags: PFN_DEV_MAP }, false)).toBe(VM_FAULT_SIGBUS);
    expect(mm.pgd!.empty).toBe(true);
    expect(vmfInsertPfnPud(vmfAt(a + 5), { pfn: BASE, flags: PFN_DEV_MAP }, false)).toBe(VM_FAULT_NOPAGE);
    const leaf = mm.pgd!.getPud(a);
    // a different pfn for a write is the kernel's WARN_ON_ONCE: nothing changes
    expect(vmfInsertPfnPud(vmfAt(a), { pfn: BASE + GiB / 4096, flags: PFN_DEV_MAP }, true)).toBe(VM_FAULT_NOPAGE);
    expect(mm.pgd!.getPud(a)).toBe(leaf);
    // a PUD with a PMD table below is not pud_none: the insertion leaves it
    userRead(mm, a + GiB, 1);
    expect(vmfInsertPfnPud(vmfAt(a + GiB), { pfn: BASE, flags: PFN_DEV_MAP }, false)).toBe(VM_FAULT_NOPAGE);
    expect(mm.pgd!.getPud(a + GiB)).toBeUndefined();
  });

  it('a write to a read-only leaf is wp_huge_pud(): huge_fault again, or a split and a fault below on FALLBACK', () => {
    let pud = true;
    const { mm, a, calls } = setup({ pud: () => pud });
    userRead(mm, a, 1);
    userRead(mm, a + GiB, 1);
    // fork write-protects the parent's leaves (copy_huge_pud)
    mm.fork(101).exitMmap();
    expect(pteWrite(mm.pgd!.getPud(a) as PresentPte)).toBe(false);
    userWrite(mm, a + 1, enc('w'));
    expect(calls).toEqual([PE_SIZE_PUD, PE_SIZE_PUD, PE_SIZE_PUD]);
    const w = mm.pgd!.getPud(a) as PresentPte;
    expect([pteWrite(w), pteDirty(w), pteYoung(w), w.pfn]).toEqual([true, true, true, BASE]);
    pud = false;
    userWrite(mm, a + GiB + 4096, enc('y'));
    expect(calls).toEqual([PE_SIZE_PUD, PE_SIZE_PUD, PE_SIZE_PUD, PE_SIZE_PUD, PE_SIZE_PMD]);
    expect(mm.pgd!.getPud(a + GiB)).toBeUndefined();
    expect(pteWrite(mm.pgd!.getPmd(a + GiB) as PresentPte)).toBe(true);
  });

  it('munmap zaps the PUD leaf between MMU_NOTIFY_UNMAP notifications; mprotect clears it (pud_clear_bad)', () => {
    const { mm, a } = setup();
    const events: string[] = [];
    const sub = new MmuIntervalNotifier();
    mmuIntervalNotifierInsert(sub, mm, a, 2 * GiB, {
      invalidate: (s, r: MmuNotifierRange, seq: number) => {
        mmuIntervalSetSeq(s, seq);
        events.push(`${r.event} ${(r.end - r.start) / GiB}`);
        return true;
      },
    });
    userRead(mm, a, 1);
    userRead(mm, a + GiB, 1);
    events.length = 0;
    mm.mprotect(a + GiB, GiB, PROT_READ);
    expect(mm.pgd!.getPud(a + GiB)).toBeUndefined();
    expect(ptePresent(mm.pgd!.getPud(a))).toBe(true);
    mm.munmap(a, GiB);
    expect(mm.pgd!.getPud(a)).toBeUndefined();
    expect(mm.pgd!.empty).toBe(true);
    expect(events.map((e) => e.split(' ')[1])).toEqual(['1', '1']);
    expect(mm.getMmRss()).toBe(0);
    // fault the protected half again: read-only now, a write is SIGSEGV
    userRead(mm, a + GiB, 1);
    expect(pteWrite(mm.pgd!.getPud(a + GiB) as PresentPte)).toBe(false);
  });

  it('fork copies the leaf write-protected and old into the child (copy_huge_pud)', () => {
    const { mm, a } = setup();
    userWrite(mm, a, enc('p'));
    const child = mm.fork(101);
    const p = mm.pgd!.getPud(a) as PresentPte;
    const c = child.pgd!.getPud(a) as PresentPte;
    expect([pteWrite(p), pteWrite(c), pteYoung(c), c.pfn]).toEqual([false, false, false, BASE]);
    expect(dec(userRead(child, a, 1))).toBe('p');
    userWrite(child, a + 1, enc('c'));
    expect(pteWrite(child.pgd!.getPud(a) as PresentPte)).toBe(true);
    expect(dec(userRead(mm, a, 2))).toBe('pc');
    child.exitMmap();
    expect(child.pgd!.empty).toBe(true);
  });

  it('/proc/PID/smaps shows KernelPageSize 1048576 kB, and its walk splits the PUD leaf (walk_pud_range, v5.13)', () => {
    const { mm, a, calls } = setup();
    userRead(mm, a, 1);
    const events: number[] = [];
    const sub = new MmuIntervalNotifier();
    mmuIntervalNotifierInsert(sub, mm, a, GiB, {
      invalidate: (s, r: MmuNotifierRange, seq: number) => {
        mmuIntervalSetSeq(s, seq);
        events.push(r.event);
        return true;
      },
    });
    const smaps = showSmap(mm.findVma(a)!);
    expect(smaps).toContain('KernelPageSize:  1048576 kB\nMMUPageSize:     1048576 kB\n');
    expect(smaps).toContain('Rss:                   0 kB\n');
    expect(mm.pgd!.getPud(a)).toBeUndefined();
    expect(events).toEqual([MMU_NOTIFY_CLEAR]);
    // the next access faults it in again at the PUD level
    userRead(mm, a, 1);
    expect(calls).toEqual([PE_SIZE_PUD, PE_SIZE_PUD]);
  });

  it('handle_mm_fault on a present PUD leaf marks it young and, for a write to a writable one, dirty', () => {
    const { mm, a } = setup();
    userWrite(mm, a, enc('z'));
    const vma = mm.findVma(a)!;
    const clean = { ...(mm.pgd!.getPud(a) as PresentPte) };
    mm.pgd!.setPud(a, { kind: 'present', pfn: clean.pfn, flags: clean.flags - 0x60 });
    expect(handleMmFault(vma, a + 100, 0)).toBe(0);
    expect([pteYoung(mm.pgd!.getPud(a) as PresentPte), pteDirty(mm.pgd!.getPud(a) as PresentPte)]).toEqual([true, false]);
    expect(handleMmFault(vma, a + 100, FAULT_FLAG_WRITE)).toBe(0);
    expect(pteDirty(mm.pgd!.getPud(a) as PresentPte)).toBe(true);
  });
});
