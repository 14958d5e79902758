// GUP and pins (mm/gup.c), access_process_vm (mm/memory.c), driver
// mappings through vm_ops (vmf_insert_pfn, vmf_insert_pfn_pmd), and page
// migration (mm/migrate.c, v5.13).
import { GFP_KERNEL } from '@zonedev/mmzone';
import { describe, expect, it } from 'vitest';
import {
  FOLL_FORCE, FOLL_GET, FOLL_LONGTERM, FOLL_PIN, FOLL_WRITE, GUP_PIN_COUNTING_BIAS, MAP_ANONYMOUS, MAP_PRIVATE,
  MAP_SHARED, MIGRATE_SYNC, MR_MEMORY_HOTPLUG, PE_SIZE_PMD, PROT_READ, PROT_WRITE, VM_FAULT_FALLBACK,
  VM_FAULT_NOPAGE, VM_FAULT_SIGBUS, VM_IO, VM_MIXEDMAP, VM_PFNMAP, accessProcessVm, getUserPages, isMigrationEntry,
  isolateLruPage, migratePages, pageMaybeDmaPinned, pinUserPages, pmdHuge, pteDevmap, pteDirty, ptePresent, pteToSwpEntry, pteWrite, pteYoung,
  putbackLruPage, tryToUnmap, TTU_MIGRATION, removeMigrationPtes, unpinUserPages, userRead, userWrite,
  vmfInsertMixed, vmfInsertPfn, vmfInsertPfnPmd, migrationEntryToPfn,
} from '../src/index.js';
import type { MmapFile, Vma, VmFault, ZoneDevicePagemap } from '../src/index.js';
import { bootMachine, dec, enc, newMm } from './machine.js';
import { expectErrno } from './helpers.js';

const RW = PROT_READ + PROT_WRITE;
const ANON = MAP_PRIVATE + MAP_ANONYMOUS;
const PFN_DEV_MAP = 2n ** 61n + 2n ** 60n;

function setup(pages = 4): { m: ReturnType<typeof bootMachine>; mm: ReturnType<typeof newMm>; addr: number } {
  const m = bootMachine();
  const mm = newMm(m);
  const addr = mm.mmap({ length: pages * 4096, prot: RW, flags: ANON });
  return { m, mm, addr };
}

function driverFile(path: string, flags: number, ops: Vma['vmOps']): MmapFile {
  return {
    path, devMajor: 250, devMinor: 0, ino: 99, readable: true, writable: true,
    mmap: (v: Vma) => {
      v.vmFlags += flags;
      v.vmOps = ops;
      return 0;
    },
  };
}

describe('get_user_pages / pin_user_pages', () => {
  it('faults pages in and takes a reference (FOLL_GET) or a pin (GUP_PIN_COUNTING_BIAS)', () => {
    const { m, mm, addr } = setup();
    const free = m.core.nrFreePages();
    const got = getUserPages(mm, addr, 2, FOLL_WRITE);
    expect(got).toHaveLength(2);
    expect(m.core.nrFreePages()).toBe(free - 2);
    expect(got.map((p) => [m.sys.pageCount(p), m.sys.pageMapcount(p)])).toEqual([[2, 1], [2, 1]]);
    const pinned = pinUserPages(mm, addr, 1, FOLL_WRITE + FOLL_LONGTERM);
    expect(GUP_PIN_COUNTING_BIAS).toBe(1024);
    expect(m.sys.pageCount(pinned[0]!)).toBe(2 + 1024);
    expect(pageMaybeDmaPinned(m.sys, pinned[0]!)).toBe(true);
    expect(mm.hasPinned).toBe(true);
    unpinUserPages(m.sys, pinned);
    for (const p of got) m.sys.putPage(p);
    expect(got.map((p) => m.sys.pageCount(p))).toEqual([1, 1]);
    // a read of untouched memory gets the zero page
    const [z] = getUserPages(mm, addr + 3 * 4096, 1, 0);
    expect(z).toBe(m.sys.zeroPfn);
    m.sys.putPage(z!);
  });

  it('a pin across PTE tables: holes and read-only entries faulted, every entry touched, a short count at a VMA that refuses', () => {
    // 1100 pages: three PTE tables; pages 0..699 written, 700..899 read (the zero page), 900..1099 never touched
    const { m, mm, addr } = setup(1100);
    for (let i = 0; i < 700; i++) userWrite(mm, addr + i * 4096, enc('w'));
    for (let i = 700; i < 900; i++) userRead(mm, addr + i * 4096, 1);
    // a read-only VMA right after: FOLL_WRITE refuses it
    const ro = mm.mmap({ addr: addr + 1100 * 4096, length: 4096, prot: PROT_READ, flags: ANON });
    expect(ro).toBe(addr + 1100 * 4096);
    const got = pinUserPages(mm, addr, 1101, FOLL_WRITE);
    expect(got).toHaveLength(1100);
    const seen = new Set<number>();
    for (let i = 0; i < 1100; i++) {
      const pte = mm.pgd!.get(addr + i * 4096);
      expect(ptePresent(pte)).toBe(true);
      if (!ptePresent(pte)) continue;
      expect(got[i]).toBe(pte.pfn);
      expect(pteWrite(pte) && pteYoung(pte) && pteDirty(pte)).toBe(true);
      expect(m.sys.pageCount(pte.pfn)).toBe(1 + GUP_PIN_COUNTING_BIAS);
      seen.add(pte.pfn);
    }
    expect(seen.size).toBe(1100);
    expect(got).not.toContain(m.sys.zeroPfn);
    unpinUserPages(m.sys, got);
    expect(got.every((p) => m.sys.pageCount(p) === 1)).toBe(true);
    // the first page refused: EFAULT, nothing taken
    expectErrno(() => pinUserPages(mm, ro, 1, FOLL_WRITE), 'EFAULT');
  });

  it('refuses what the kernel refuses, changing nothing', () => {
    const { m, mm, addr } = setup();
    const ro = mm.mmap({ length: 4096, prot: PROT_READ, flags: ANON });
    const free = m.core.nrFreePages();
    expectErrno(() => getUserPages(mm, addr - 0x100000, 1, 0), 'EFAULT');
    expectErrno(() => getUserPages(mm, ro, 1, FOLL_WRITE), 'EFAULT');
    expectErrno(() => pinUserPages(mm, addr, 1, FOLL_GET), 'EINVAL');
    expectErrno(() => getUserPages(mm, addr, 1, FOLL_PIN), 'EINVAL');
    expect(m.core.nrFreePages()).toBe(free);
    const io = mm.mmap({ length: 4096, prot: RW, flags: MAP_SHARED, file: driverFile('/dev/mmio', VM_IO + VM_PFNMAP, {}) });
    expectErrno(() => getUserPages(mm, io, 1, 0), 'EFAULT');
    // a short count when a later page fails
    expect(getUserPages(mm, addr + 3 * 4096, 3, FOLL_WRITE)).toHaveLength(1);
  });

  it('FOLL_FORCE writes a read-only private mapping through a COW (ptrace)', () => {
    const { m, mm } = setup();
    const ro = mm.mmap({ length: 4096, prot: PROT_READ, flags: ANON });
    expect(accessProcessVm(mm, ro + 8, enc('poke'), FOLL_WRITE + FOLL_FORCE)).toBe(4);
    expect(dec(userRead(mm, ro + 8, 4))).toBe('poke');
    const buf = new Uint8Array(4);
    expect(accessProcessVm(mm, ro + 8, buf, FOLL_FORCE)).toBe(4);
    expect(dec(buf)).toBe('poke');
    expect(accessProcessVm(mm, ro + 8, enc('x'), FOLL_WRITE)).toBe(0);
    // reading across the end of the mapping stops there
    mm.munmap(ro + 4096, 4 * 4096);
    expect(accessProcessVm(mm, ro + 4094, new Uint8Array(8), FOLL_FORCE)).toBe(2);
    expect(m.sys.pageCount((mm.pgd!.get(ro) as { pfn: number }).pfn)).toBe(1);
  });

  it('fork copies a pinned anonymous page for the child at once', () => {
    const { m, mm, addr } = setup(1);
    userWrite(mm, addr, enc('dma'));
    const [p] = pinUserPages(mm, addr, 1, FOLL_WRITE);
    const child = mm.fork(2);
    const cp = (child.pgd!.get(addr) as { pfn: number }).pfn;
    expect(cp).not.toBe(p);
    expect(dec(userRead(child, addr, 3))).toBe('dma');
    expect((mm.pgd!.get(addr) as { flags: number }).flags % 4 >= 2).toBe(true); // still writable in the parent
    unpinUserPages(m.sys, [p!]);
  });
});

describe('driver mappings', () => {
  it('VM_PFNMAP: vmf_insert_pfn maps a raw pfn; GUP cannot take it', () => {
    const { m, mm } = setup();
    const fault = (vmf: VmFault): number => vmfInsertPfn(vmf.vma, vmf.address, 0x3ff000 + vmf.pgoff);
    const a = mm.mmap({ length: 2 * 4096, prot: RW, flags: MAP_SHARED, file: driverFile('/dev/bar', VM_PFNMAP + VM_IO, { fault }) });
    expect(userRead(mm, a + 4096, 1)).toHaveLength(1);
    const pte = mm.pgd!.get(a + 4096)!;
    expect(ptePresent(pte) && pte.pfn === 0x3ff001).toBe(true);
    expectErrno(() => getUserPages(mm, a, 1, 0), 'EFAULT');
    expect(vmfInsertPfn(mm.findVma(a)!, a + 2 * 4096, 1)).toBe(VM_FAULT_SIGBUS);
    mm.munmap(a, 2 * 4096);
    expect(m.sys.mms()).toHaveLength(1);
  });

  it('VM_MIXEDMAP: a special pfn without struct page is EFAULT for GUP, a devmap one pins its pagemap', () => {
    const { m, mm } = setup();
    const dpfn = m.core.allocPages(GFP_KERNEL, 0)!;
    m.core.memmap.setPageLinks(dpfn, m.core.config.ZONE_DEVICE!, 0);
    const pgmap: ZoneDevicePagemap = { type: 3, owner: null };
    m.core.memmap.setPagePgmap(dpfn, pgmap);
    const refs: string[] = [];
    m.sys.devPagemaps = {
      getDevPagemap: (pfn) => (refs.push(`get ${pfn === dpfn}`), pfn === dpfn ? pgmap : undefined),
      putDevPagemap: (p) => void refs.push(`put ${p === pgmap}`),
    };
    const fault = (vmf: VmFault): number =>
      vmf.pgoff % 2 === 0 ? vmfInsertMixed(vmf.vma, vmf.address, { pfn: dpfn, flags: PFN_DEV_MAP }) : vmfInsertMixed(vmf.vma, vmf.address, { pfn: 0x3ff000, flags: 2n ** 61n });
    const a = mm.mmap({ length: 2 * 4096, prot: RW, flags: MAP_SHARED, file: driverFile('/dev/dax0.0', VM_MIXEDMAP, { fault }) });
    const [p] = pinUserPages(mm, a, 1, 0);
    expect(p).toBe(dpfn);
    expect(pteDevmap(mm.pgd!.get(a) as never)).toBe(true);
    expect(refs).toEqual(['get true', 'put true']);
    expectErrno(() => getUserPages(mm, a + 4096, 1, 0), 'EFAULT');
    unpinUserPages(m.sys, [p!]);
    expect(m.sys.pageCount(dpfn)).toBe(1);
    // FOLL_LONGTERM is refused on fs-dax (check_dax_vmas), and takes nothing
    const fsdax = { ...driverFile('/mnt/pmem/file', VM_MIXEDMAP, { fault }), fsdax: true };
    const b = mm.mmap({ length: 4096, prot: RW, flags: MAP_SHARED, file: fsdax });
    expectErrno(() => pinUserPages(mm, b, 1, FOLL_LONGTERM), 'EOPNOTSUPP');
    expect(m.sys.pageCount(dpfn)).toBe(1);
    expect(pinUserPages(mm, b, 1, 0)).toEqual([dpfn]);
  });

  it('huge_fault: vmf_insert_pfn_pmd maps a 2 MiB devmap leaf, FALLBACK goes to PTEs', () => {
    const { m, mm } = setup();
    const base = 0x200000; // a PMD-aligned pfn run
    let huge = true;
    const ops: Vma['vmOps'] = {
      hugeFault: (vmf: VmFault, size: number) => {
        expect(size).toBe(PE_SIZE_PMD);
        return huge ? vmfInsertPfnPmd(vmf, { pfn: base, flags: PFN_DEV_MAP }, false) : VM_FAULT_FALLBACK;
      },
      fault: (vmf: VmFault) => vmfInsertMixed(vmf.vma, vmf.address, { pfn: base + vmf.pgoff, flags: PFN_DEV_MAP }),
      pagesize: () => 2 * 2 ** 20,
    };
    const hint = 0x7f0000000000;
    const a = mm.mmap({ addr: hint, length: 4 * 2 ** 20, prot: RW, flags: MAP_SHARED, file: driverFile('/dev/dax1.0', VM_MIXEDMAP, ops) });
    expect(a).toBe(hint);
    userRead(mm, a + 0x1234, 1);
    const pmd = mm.pgd!.getPmd(a)!;
    expect(ptePresent(pmd) && pmdHuge(pmd) && pteDevmap(pmd) && pmd.pfn === base).toBe(true);
    expect(mm.pgd!.get(a + 0x1ff000)).toBe(pmd);
    huge = false;
    userRead(mm, a + 2 ** 21 + 5 * 4096, 1);
    expect(mm.pgd!.getPmd(a + 2 ** 21)).toBeUndefined();
    expect((mm.pgd!.get(a + 2 ** 21 + 5 * 4096) as { pfn: number }).pfn).toBe(base + 512 + 5);
    // a PMD slot that already holds a PTE table cannot take a leaf; one with the same leaf is left alone
    const vmfAt = (address: number): VmFault => ({ vma: mm.findVma(a)!, address, flags: 0, pgoff: 0, gfpMask: 0, page: undefined, cowPage: undefined });
    expect(vmfInsertPfnPmd(vmfAt(a + 3 * 2 ** 20), { pfn: base + 512, flags: PFN_DEV_MAP }, false)).toBe(VM_FAULT_FALLBACK);
    expect(vmfInsertPfnPmd(vmfAt(a + 4096), { pfn: base, flags: PFN_DEV_MAP }, false)).toBe(VM_FAULT_NOPAGE);
    expect(mm.pgd!.getPmd(a)).toBe(pmd);
    expect(m.sys.mms()).toHaveLength(1);
  });
});

describe('migration', () => {
  it('try_to_unmap installs migration entries; remove_migration_ptes restores them', () => {
    const { m, mm, addr } = setup();
    userWrite(mm, addr, enc('x'));
    const p = (mm.pgd!.get(addr) as { pfn: number }).pfn;
    isolateLruPage(m.sys, p);
    expect(tryToUnmap(m.sys, p, TTU_MIGRATION)).toBe(true);
    const e = pteToSwpEntry(mm.pgd!.get(addr));
    expect(isMigrationEntry(e) && migrationEntryToPfn(e) === p).toBe(true);
    expect([m.sys.pageCount(p), m.sys.pageMapcount(p)]).toEqual([1, 0]);
    removeMigrationPtes(m.sys, p, p);
    expect([m.sys.pageCount(p), m.sys.pageMapcount(p)]).toEqual([2, 1]);
    putbackLruPage(m.sys, p);
    expect(dec(userRead(mm, addr, 1))).toBe('x');
    expectErrno(() => isolateLruPage(m.sys, m.sys.zeroPfn), 'EBUSY');
  });

  it('moves a mapped page: same bytes at the same address, the old page freed', () => {
    const { m, mm, addr } = setup();
    userWrite(mm, addr + 100, enc('keep me'));
    const child = mm.fork(9);
    const old = (mm.pgd!.get(addr) as { pfn: number }).pfn;
    isolateLruPage(m.sys, old);
    const from = [old];
    let target = -1;
    const r = migratePages(m.sys, from, () => (target = m.core.allocPages(GFP_KERNEL, 0)!), undefined, MIGRATE_SYNC, MR_MEMORY_HOTPLUG);
    expect(r).toEqual({ nrFailed: 0, nrSucceeded: 1, passes: 1 });
    expect(from).toEqual([]);
    for (const p of [mm, child]) {
      expect((p.pgd!.get(addr) as { pfn: number }).pfn).toBe(target);
      expect(dec(userRead(p, addr + 100, 7))).toBe('keep me');
    }
    expect([m.sys.pageCount(target), m.sys.pageMapcount(target), m.sys.pageCount(old)]).toEqual([2, 2, 0]);
  });

  it('refuses a page with references beyond its mappings: -EAGAIN ten times, nothing changes', () => {
    const { m, mm, addr } = setup();
    userWrite(mm, addr, enc('pinned'));
    const [p] = pinUserPages(mm, addr, 1, FOLL_WRITE);
    isolateLruPage(m.sys, p!);
    const free = m.core.nrFreePages();
    const from = [p!];
    const r = migratePages(m.sys, from, () => m.core.allocPages(GFP_KERNEL, 0), undefined, MIGRATE_SYNC, MR_MEMORY_HOTPLUG);
    expect(r).toEqual({ nrFailed: 1, nrSucceeded: 0, passes: 10 });
    expect(from).toEqual([p]);
    expect(m.core.nrFreePages()).toBe(free);
    expect((mm.pgd!.get(addr) as { pfn: number; flags: number }).pfn).toBe(p);
    expect([m.sys.pageCount(p!), m.sys.pageMapcount(p!)]).toEqual([1 + 1024 + 1, 1]);
    putbackLruPage(m.sys, p!);
    unpinUserPages(m.sys, [p!]);
    expect(m.sys.pageCount(p!)).toBe(1);
    expect(dec(userRead(mm, addr, 6))).toBe('pinned');
    isolateLruPage(m.sys, p!);
    expectErrno(() => migratePages(m.sys, [p!], () => undefined, undefined, MIGRATE_SYNC, MR_MEMORY_HOTPLUG), 'ENOMEM');
    putbackLruPage(m.sys, p!);
    expect([m.sys.pageCount(p!), m.sys.pageMapcount(p!)]).toEqual([1, 1]);
  });
});
