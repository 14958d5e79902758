// dax_get_unmapped_area() (drivers/dax/device.c, Linux v5.13): an mmap of
// /dev/dax0.0 without an address gets one aligned to the device's align
// (congruent with the file offset), asking the mm for len + align bytes, so
// that PMD and PUD faults can map whole units; a mapping smaller than one
// unit, or one with a hint, gets the mm's own answer — and then dax_mmap()'s
// check_vma() refuses a VMA that is not aligned (EINVAL), as the kernel does.
import { describe, expect, it } from 'vitest';
import { MAP_SHARED, PROT_READ, PROT_WRITE, pteDevmap, ptePresent, pudDevmap, userRead, userWrite } from '@zonedev/mm';
import type { PresentPte } from '@zonedev/mm';
import { GiB, MiB, bootMachine } from './machine.js';
import { createDevdax, mmSystem, newProcess } from './dax-helpers.js';

const UUID = '3a9e0c7d-1b2f-4c6e-8d5a-9f0e1d2c3b4a';
const RW = PROT_READ + PROT_WRITE;

function setup(align: number) {
  const m = bootMachine({ pmem: [{ start: 4 * GiB, size: 4 * GiB }] });
  createDevdax(m, 0, UUID, align, 'ram');
  const sys = mmSystem(m);
  const mm = newProcess(sys);
  const file = m.nd.dax.open(m.nd.dax.find('dax0.0')!, 'unmapped-area');
  return { m, sys, mm, file };
}

describe('dax_get_unmapped_area', () => {
  it('2 MiB align: a 4 MiB mapping starts on a 2 MiB boundary and faults in PMD leaves', () => {
    const { mm, file } = setup(2 * MiB);
    const a = mm.mmap({ length: 4 * MiB, prot: RW, flags: MAP_SHARED, file });
    expect(a % (2 * MiB)).toBe(0);
    // the mm was asked for 6 MiB right below mmap_base; the aligned start is the first 2 MiB boundary inside
    const area = mm.mmapBase - 6 * MiB;
    expect(a).toBe(Math.ceil(area / (2 * MiB)) * 2 * MiB);
    userWrite(mm, a + 2 * MiB, new TextEncoder().encode('pmd'));
    expect(new TextDecoder().decode(userRead(mm, a + 2 * MiB, 3))).toBe('pmd');
    const pmd = mm.pgd!.getPmd(a + 2 * MiB);
    expect(ptePresent(pmd) && pteDevmap(pmd)).toBe(true);
  });

  it('an offset into the device keeps the address congruent with it modulo the align', () => {
    const { mm, file } = setup(2 * MiB);
    const a = mm.mmap({ length: 4 * MiB, prot: RW, flags: MAP_SHARED, file, offset: 2 * MiB });
    expect(a % (2 * MiB)).toBe(0);
  });

  it('1 GiB align: a 2 GiB mapping starts on a 1 GiB boundary and faults a PUD leaf', () => {
    const { mm, file } = setup(GiB);
    const a = mm.mmap({ length: 2 * GiB, prot: RW, flags: MAP_SHARED, file });
    expect(a % GiB).toBe(0);
    userWrite(mm, a, new TextEncoder().encode('pud'));
    expect(pudDevmap(mm.pgd!.getPud(a) as PresentPte)).toBe(true);
  });

  it("less than one unit: the mm's own address, and check_vma() refuses the VMA (EINVAL), leaving no mapping", () => {
    const { mm, file } = setup(2 * MiB);
    expect(() => mm.mmap({ length: 4096, prot: RW, flags: MAP_SHARED, file })).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
    expect(mm.vmas()).toEqual([]);
  });
});
