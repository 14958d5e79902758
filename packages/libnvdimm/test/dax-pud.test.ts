// drivers/dax/device.c (Linux v5.13) with a 1 GiB align: ndctl
// create-namespace -m devdax -a 1G, a 1 GiB-aligned mmap of /dev/dax0.0,
// faults through dev_dax_huge_fault() -> __dev_dax_pud_fault() ->
// vmf_insert_pfn_pud(), GUP through the PUD leaf (follow_devmap_pud), munmap
// (zap_huge_pud), and the fault-size checks and fallbacks of
// __dev_dax_{pud,pmd,pte}_fault().
import { describe, expect, it } from 'vitest';
import {
  FAULT_FLAG_WRITE, FOLL_LONGTERM, FOLL_WRITE, GUP_PIN_COUNTING_BIAS, MAP_FIXED, MAP_SHARED, PE_SIZE_PMD, PE_SIZE_PTE,
  PE_SIZE_PUD, PROT_READ, PROT_WRITE, UserFaultSignal, VM_FAULT_FALLBACK, VM_FAULT_SIGBUS, getUserPages, pinUserPages,
  pteWrite, pudDevmap, showSmap, unpinUserPages, userRead, userWrite,
} from '@zonedev/mm';
import type { PresentPte, VmFault } from '@zonedev/mm';
import { GiB, MiB, bootMachine } from './machine.js';
import { createDevdax, mmSystem, newProcess } from './dax-helpers.js';

const UUID = '7c3f5b1e-2d4a-4e8b-9f6c-1a2b3c4d5e6f';
const DAX = '/sys/bus/dax/devices/dax0.0';
const RW = PROT_READ + PROT_WRITE;
const VA = 0x7f0000000000; // 1 GiB aligned
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

/** A 4 GiB legacy pmem namespace at 4 GiB as device-dax with the given align, and a process. */
function setup(align = GiB) {
  const m = bootMachine({ pmem: [{ start: 4 * GiB, size: 4 * GiB }] });
  createDevdax(m, 0, UUID, align, 'ram');
  const sys = mmSystem(m);
  const mm = newProcess(sys);
  const dev = m.nd.dax.find('dax0.0')!;
  const file = m.nd.dax.open(dev, 'dax-pud');
  const data = Number.parseInt(m.kernel.sysfs.read(`${DAX}/resource`).trim(), 16);
  const size = Number(m.kernel.sysfs.read(`${DAX}/size`).trim());
  return { m, sys, mm, dev, file, data, size };
}

function errnoOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as { errno?: string }).errno ?? String(e);
  }
}

describe('device_dax with a 1 GiB align', () => {
  it('the device starts on a 1 GiB boundary, and its align says 1 GiB', () => {
    const { m, data, size } = setup();
    expect(m.kernel.sysfs.read(`${DAX}/align`)).toBe(`${GiB}\n`);
    // map=mem: the info block's data offset is rounded up to the align
    expect(data).toBe(5 * GiB);
    expect(size).toBe(3 * GiB);
  });

  it('a 1 GiB-aligned shared mapping faults in one PUD devmap leaf per GiB', () => {
    const { m, mm, file, data } = setup();
    const a = mm.mmap({ addr: VA, length: 2 * GiB, prot: RW, flags: MAP_SHARED + MAP_FIXED, file, offset: GiB });
    m.mm.physmem.write(data + GiB + 0x3ffff000, enc('last page'));
    expect(dec(userRead(mm, a + 0x3ffff000, 9))).toBe('last page');
    const pud = mm.pgd!.getPud(a) as PresentPte;
    expect([pudDevmap(pud), pud.pfn]).toEqual([true, (data + GiB) / 4096]);
    // every 4 KiB page of the leaf is its head pfn plus its index
    userWrite(mm, a + GiB + 0x12345678, enc('deep'));
    expect(dec(m.mm.physmem.read(data + 2 * GiB + 0x12345678, 4))).toBe('deep');
    expect(mm.pgd!.nrPresent).toBe(2);
    expect(mm.pgd!.getPmd(a)).toBeUndefined();
    expect(showSmap(mm.findVma(a)!)).toContain('KernelPageSize:  1048576 kB\nMMUPageSize:     1048576 kB\n');
  });

  it('mappings that are not 1 GiB aligned are refused with EINVAL and the kernel message', () => {
    const { m, mm, file } = setup();
    expect(errnoOf(() => mm.mmap({ addr: VA + 2 * MiB, length: GiB, prot: RW, flags: MAP_SHARED + MAP_FIXED, file }))).toBe('EINVAL');
    expect(m.kernel.log.dmesg()).toContain(
      `device_dax dax0.0: dax-pud: dax_mmap: fail, unaligned vma (0x${(VA + 2 * MiB).toString(16)} - 0x${(VA + 2 * MiB + GiB).toString(16)}, 0x3fffffff)\n`,
    );
    expect(errnoOf(() => mm.mmap({ addr: VA, length: 2 * MiB, prot: RW, flags: MAP_SHARED + MAP_FIXED, file }))).toBe('EINVAL');
    expect(mm.findVma(VA)).toBeNull();
  });

  it('pin_user_pages through the PUD leaf takes page references, and the pagemap references balance', () => {
    const { sys, mm, dev, file, data } = setup();
    const a = mm.mmap({ addr: VA, length: GiB, prot: RW, flags: MAP_SHARED + MAP_FIXED, file });
    const pgmap = dev.pgmap!;
    const refs = pgmap.ref!.refs;
    const at = a + 300 * MiB + 5 * 4096;
    const pfns = pinUserPages(mm, at, 3, FOLL_WRITE + FOLL_LONGTERM);
    const first = (data + 300 * MiB) / 4096 + 5;
    expect(pfns).toEqual([first, first + 1, first + 2]);
    expect(pfns.map((p) => sys.pageCount(p))).toEqual([1, 1, 1].map((n) => n + GUP_PIN_COUNTING_BIAS));
    // get_dev_pagemap() was held across the walk and put at its end
    expect(pgmap.ref!.refs).toBe(refs);
    expect(pteWrite(mm.pgd!.getPud(a) as PresentPte)).toBe(true);
    const [got] = getUserPages(mm, a + GiB - 4096, 1, 0);
    expect(got).toBe((data + GiB) / 4096 - 1);
    expect(sys.pageCount(got!)).toBe(2);
    sys.putPage(got!);
    unpinUserPages(sys, pfns);
    expect(pfns.map((p) => sys.pageCount(p))).toEqual([1, 1, 1]);
    expect(pgmap.ref!.refs).toBe(refs);
  });

  it('munmap zaps the leaf (zap_huge_pud): no reference was taken, none is dropped, the range is unmapped', () => {
    const { sys, mm, file, data } = setup();
    const a = mm.mmap({ addr: VA, length: 2 * GiB, prot: RW, flags: MAP_SHARED + MAP_FIXED, file });
    userRead(mm, a, 1);
    userRead(mm, a + GiB, 1);
    const head = data / 4096;
    expect([sys.pageCount(head), sys.pageMapcount(head)]).toEqual([1, 0]);
    // a split inside a GiB is refused by may_split
    expect(errnoOf(() => mm.munmap(a + 2 * MiB, 2 * MiB))).toBe('EINVAL');
    mm.munmap(a + GiB, GiB);
    expect(mm.pgd!.getPud(a + GiB)).toBeUndefined();
    expect(mm.pgd!.nrPresent).toBe(1);
    expect(() => userRead(mm, a + GiB, 1)).toThrow(UserFaultSignal);
    mm.munmap(a, GiB);
    expect(mm.pgd!.empty).toBe(true);
    expect([sys.pageCount(head), sys.pageMapcount(head)]).toEqual([1, 0]);
  });

  it('beyond the device end __dev_dax_pud_fault finds no phys: SIGBUS', () => {
    const { mm, file, size } = setup();
    const a = mm.mmap({ addr: VA, length: 2 * GiB, prot: RW, flags: MAP_SHARED + MAP_FIXED, file, offset: size - GiB });
    expect(userRead(mm, a, 1)).toEqual(new Uint8Array([0]));
    let sig: unknown;
    try {
      userRead(mm, a + GiB, 1);
    } catch (e) {
      sig = e;
    }
    expect(sig instanceof UserFaultSignal && sig.signal === 'SIGBUS' && sig.fault === VM_FAULT_SIGBUS).toBe(true);
  });

  it('the fault-size checks: PMD and PTE faults are SIGBUS with a 1 GiB align; a PUD fault with a smaller align falls back', () => {
    const { mm, file } = setup();
    const a = mm.mmap({ addr: VA, length: GiB, prot: RW, flags: MAP_SHARED + MAP_FIXED, file });
    const vma = mm.findVma(a)!;
    const vmf = (flags = 0): VmFault => ({ vma, address: a, flags, pgoff: vma.vmPgoff, gfpMask: 0, page: undefined, cowPage: undefined });
    expect(vma.vmOps!.hugeFault!(vmf(), PE_SIZE_PMD)).toBe(VM_FAULT_SIGBUS);
    expect(vma.vmOps!.hugeFault!(vmf(), PE_SIZE_PTE)).toBe(VM_FAULT_SIGBUS);
    expect(vma.vmOps!.fault!(vmf(FAULT_FLAG_WRITE))).toBe(VM_FAULT_SIGBUS);
    expect(mm.pgd!.empty).toBe(true);

    // 2 MiB align: the PUD fault falls back and the fault maps a PMD leaf
    const two = setup(2 * MiB);
    const b = two.mm.mmap({ addr: VA, length: 4 * MiB, prot: RW, flags: MAP_SHARED + MAP_FIXED, file: two.file });
    const bvma = two.mm.findVma(b)!;
    const bvmf: VmFault = { vma: bvma, address: b, flags: 0, pgoff: 0, gfpMask: 0, page: undefined, cowPage: undefined };
    expect(bvma.vmOps!.hugeFault!(bvmf, PE_SIZE_PUD)).toBe(VM_FAULT_FALLBACK);
    userRead(two.mm, b + 3 * MiB, 1);
    expect(two.mm.pgd!.getPud(b)).toBeUndefined();
    expect(two.mm.pgd!.getPmd(b + 2 * MiB)).toBeDefined();

    // 4 KiB align: PUD and PMD both fall back to PTEs
    const small = setup(4096);
    const c = small.mm.mmap({ addr: VA, length: 8192, prot: RW, flags: MAP_SHARED + MAP_FIXED, file: small.file });
    userWrite(small.mm, c + 4096, enc('pte'));
    expect(small.mm.pgd!.getPud(c)).toBeUndefined();
    expect(small.mm.pgd!.getPmd(c)).toBeUndefined();
    expect(small.mm.pgd!.hasPteTable(c)).toBe(true);
    expect(dec(small.m.mm.physmem.read(small.data + 4096, 3))).toBe('pte');
  });

  it('unbinding device_dax zaps the PUD leaves and later faults are SIGBUS', () => {
    const { m, mm, file } = setup();
    const a = mm.mmap({ addr: VA, length: GiB, prot: RW, flags: MAP_SHARED + MAP_FIXED, file });
    userRead(mm, a, 1);
    m.kernel.sysfs.write(`${DAX}/driver/unbind`, 'dax0.0\n');
    expect(mm.pgd!.getPud(a)).toBeUndefined();
    expect(() => userRead(mm, a, 1)).toThrow(UserFaultSignal);
  });
});
