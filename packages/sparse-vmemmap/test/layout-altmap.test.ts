import { SZ_16K, SZ_16M, SZ_2M, SZ_4K } from '@zonedev/kernel';
import { describe, expect, it } from 'vitest';
import { SUBSECTION_SHIFT, sparseLayout, vmemAltmap, vmemAltmapFree, vmemAltmapOffset } from '../src/index.js';
// static in mm/sparse-vmemmap.c: not exported, tested here
import { altmapAllocBlockBuf, vmemAltmapNextPfn, vmemAltmapNrFree } from '../src/altmap.js';
import { PPC64_HASH, PPC64_RADIX, X86_64, X86_64_LA57, expectErrno } from './helpers.js';

describe('sparseLayout', () => {
  it('derives the x86_64 constants', () => {
    const L = sparseLayout(X86_64);
    expect(L.PAGE_SIZE).toBe(SZ_4K);
    expect(L.PFN_SECTION_SHIFT).toBe(15);
    expect(L.PAGES_PER_SECTION).toBe(32768);
    expect(L.NR_MEM_SECTIONS).toBe(2 ** 19);
    expect(L.SECTIONS_PER_ROOT).toBe(256);
    expect(L.NR_SECTION_ROOTS).toBe(2048);
    expect(L.SUBSECTION_SHIFT).toBe(SUBSECTION_SHIFT);
    expect(L.PAGES_PER_SUBSECTION).toBe(512);
    expect(L.SUBSECTIONS_PER_SECTION).toBe(64);
    expect(L.SECTION_MAP_SIZE).toBe(SZ_2M);
    expect(L.VMEMMAP_START).toBe(0xffffea0000000000n);
  });

  it('has 2^25 sections with 5-level paging', () => {
    const L = sparseLayout(X86_64_LA57);
    expect(L.NR_MEM_SECTIONS).toBe(2 ** 25);
    expect(L.NR_SECTION_ROOTS).toBe(2 ** 17);
  });

  it('derives the powerpc 64K constants', () => {
    const L = sparseLayout(PPC64_HASH);
    expect(L.PAGES_PER_SECTION).toBe(256);
    expect(L.PAGES_PER_SUBSECTION).toBe(32);
    expect(L.SUBSECTIONS_PER_SECTION).toBe(8);
    expect(L.SECTIONS_PER_ROOT).toBe(4096);
    // one 16 KiB memmap rounded up to the 16 MiB hash PMD
    expect(L.SECTION_MAP_SIZE).toBe(SZ_16M);
    expect(sparseLayout(PPC64_RADIX).SECTION_MAP_SIZE).toBe(SZ_2M);
  });

  it('rejects impossible architectures', () => {
    expect(() => sparseLayout({ ...X86_64, sectionSizeBits: 20 })).toThrow('Subsection size exceeds section size');
    expect(() => sparseLayout({ ...X86_64, pmdSize: 3 * SZ_2M })).toThrow(RangeError);
    expect(() => sparseLayout({ ...X86_64, maxPhysmemBits: 60 })).toThrow(RangeError);
  });
});

describe('struct vmem_altmap', () => {
  it('is the v5.13 struct field for field, align and alloc starting at 0', () => {
    const a = vmemAltmap({ basePfn: 0x100000, endPfn: 0x13ffff, reserve: 2, free: 4606 });
    expect(a).toEqual({ basePfn: 0x100000, endPfn: 0x13ffff, reserve: 2, free: 4606, align: 0, alloc: 0 });
    expect(Object.keys(a).sort()).toEqual(['align', 'alloc', 'basePfn', 'endPfn', 'free', 'reserve']);
    expect(() => vmemAltmap({ basePfn: -1 })).toThrow(RangeError);
  });

  it('vmem_altmap_offset is reserve + free; next pfn and nr_free follow alloc and align', () => {
    const a = vmemAltmap({ basePfn: 1000, reserve: 2, free: 100 });
    expect(vmemAltmapOffset(a)).toBe(102);
    expect(vmemAltmapNextPfn(a)).toBe(1002);
    expect(vmemAltmapNrFree(a)).toBe(100);
    a.alloc = 60;
    a.align = 50;
    expect(vmemAltmapNextPfn(a)).toBe(1112);
    expect(vmemAltmapNrFree(a)).toBe(0); // over-consumed counts as none left
  });

  it('altmap_alloc_block_buf aligns each block to its size and counts the padding in align', () => {
    const a = vmemAltmap({ basePfn: 0x100000, reserve: 2, free: 4606 });
    // 512 pfns (2 MiB): from 0x100002 up to the next 512-pfn boundary
    expect(altmapAllocBlockBuf(SZ_2M, a, 12)).toEqual({ pfn: 0x100200, nrPfns: 512, nrAlign: 510 });
    expect(a).toMatchObject({ alloc: 512, align: 510 });
    // already aligned: no padding
    expect(altmapAllocBlockBuf(SZ_2M, a, 12)).toEqual({ pfn: 0x100400, nrPfns: 512, nrAlign: 0 });
    // 3 pages: aligned to 1 (lowest set bit of 3)
    expect(altmapAllocBlockBuf(3 * SZ_4K, a, 12)).toEqual({ pfn: 0x100600, nrPfns: 3, nrAlign: 0 });
    // 16 KiB = 4 pfns: 0x100603 -> 0x100604
    expect(altmapAllocBlockBuf(SZ_16K, a, 12)).toEqual({ pfn: 0x100604, nrPfns: 4, nrAlign: 1 });
    expect(a).toMatchObject({ alloc: 1031, align: 511 });
  });

  it('altmap_alloc_block_buf fails without changing anything when it does not fit or is not page-sized', () => {
    const a = vmemAltmap({ basePfn: 0x100000, reserve: 2, free: 1021 });
    expect(altmapAllocBlockBuf(SZ_2M, a, 12)).toBeUndefined(); // 510 + 512 > 1021
    expect(a).toMatchObject({ alloc: 0, align: 0 });
    expect(altmapAllocBlockBuf(SZ_4K + 1, a, 12)).toBeUndefined();
    expect(a).toMatchObject({ alloc: 0, align: 0 });
    a.free = 1022;
    expect(altmapAllocBlockBuf(SZ_2M, a, 12)?.pfn).toBe(0x100200);
  });

  it('vmem_altmap_free lowers alloc only; over-freeing is refused', () => {
    const a = vmemAltmap({ basePfn: 0, reserve: 2, free: 2000 });
    altmapAllocBlockBuf(SZ_2M, a, 12);
    vmemAltmapFree(a, 512);
    expect(a).toMatchObject({ alloc: 0, align: 510 });
    expectErrno(() => vmemAltmapFree(a, 1), 'EINVAL');
    expect(a).toMatchObject({ alloc: 0, align: 510 });
  });
});
