// Boot: memory_present / sparse_init / subsection_map_init on x86_64 (with the
// PCI hole below 4 GiB) and powerpc; the boot memmap's placement in memblock.
import { SZ_128M, SZ_16K, SZ_16M, SZ_1G, SZ_2M, SZ_4G, SZ_8G, Kernel } from '@zonedev/kernel';
import { describe, expect, it } from 'vitest';
import {
  BootMemblock,
  SECTION_HAS_MEM_MAP,
  SECTION_IS_EARLY,
  SECTION_IS_ONLINE,
  SECTION_MARKED_PRESENT,
  SparseMemory,
  earlySection,
} from '../src/index.js';
import { FakeBuddy, PPC64_HASH, X86_64 } from './helpers.js';

const MiB = 2 ** 20;

/** A 16 GiB x86_64 machine as e820 describes it: low memory, the PCI hole 3-4 GiB, then the rest. */
function x86Boot(): { sparse: SparseMemory; memblock: BootMemblock; buddy: FakeBuddy; kernel: Kernel } {
  const kernel = new Kernel();
  const memblock = new BootMemblock(12);
  memblock.addMemory(0x1000, 0x9e000, 0); // [0x1000, 0x9f000)
  memblock.addMemory(0x100000, 0xbf000000 - 0x100000, 0); // up to 0xbf000000 (firmware takes the rest)
  memblock.addMemory(SZ_4G, 0x440000000 - SZ_4G, 0); // 4 GiB .. 17 GiB
  memblock.reserve(0x1000000, 0x2000000); // the kernel image
  const buddy = new FakeBuddy([{ nid: 0, startPfn: 0, nrPages: 0x440000 }]);
  const sparse = new SparseMemory({ kernel, arch: X86_64, allocator: buddy });
  sparse.sparseInit(memblock);
  for (const r of memblock.memPfnRanges()) sparse.subsectionMapInit(r.startPfn, r.endPfn - r.startPfn);
  for (const r of memblock.reservedRanges()) buddy.reserve(r.base / 4096, r.size / 4096);
  return { sparse, memblock, buddy, kernel };
}

describe('x86_64 boot layout', () => {
  it('marks the sections of boot memory present, online, early and valid — and not the PCI hole', () => {
    const { sparse } = x86Boot();
    const present = [...sparse.presentSectionNrs()];
    // 0 .. 0xbf000000 is sections 0..23; 4 GiB .. 17 GiB is sections 32..135.
    expect(present).toEqual([...Array.from({ length: 24 }, (_, i) => i), ...Array.from({ length: 104 }, (_, i) => 32 + i)]);
    expect(sparse.highestPresentSectionNr).toBe(135);
    const all = SECTION_MARKED_PRESENT + SECTION_HAS_MEM_MAP + SECTION_IS_ONLINE + SECTION_IS_EARLY;
    for (const nr of present) expect(sparse.nrToSection(nr)?.sectionMemMap).toBe(all);
    for (let nr = 24; nr < 32; nr++) expect(sparse.nrToSection(nr)).toBeUndefined();
    expect(sparse.presentSectionNr(24)).toBe(false);
    expect(sparse.onlineSectionNr(0)).toBe(true);
    expect(earlySection(sparse.nrToSection(135))).toBe(true);
  });

  it('pfn_valid: early sections are valid as a whole, the hole is not', () => {
    const { sparse } = x86Boot();
    expect(sparse.pfnValid(0)).toBe(true); // page 0 is not in memblock, but its section is early
    expect(sparse.pfnValid(0x9f)).toBe(true); // the legacy VGA hole
    expect(sparse.pfnValid(0xbf800)).toBe(true); // the firmware part of section 23
    expect(sparse.pfnValid(0xc0000)).toBe(false); // 3 GiB: PCI hole
    expect(sparse.pfnValid(0xfffff)).toBe(false);
    expect(sparse.pfnValid(0x100000)).toBe(true); // 4 GiB
    expect(sparse.pfnValid(0x43ffff)).toBe(true);
    expect(sparse.pfnValid(0x440000)).toBe(false);
    expect(sparse.pfnValid(2 ** 34)).toBe(false); // beyond MAX_PHYSMEM_BITS
  });

  it('subsection_map_init records the subsections the ranges cover', () => {
    const { sparse } = x86Boot();
    expect(sparse.nrToSection(0)?.usage?.subsectionMap.toString()).toBe('0-63');
    // section 23 = 0xb8000000..0xc0000000, memory up to 0xbf000000: 56 subsections
    expect(sparse.nrToSection(23)?.usage?.subsectionMap.toString()).toBe('0-55');
    expect(sparse.nrToSection(23)?.usage?.early).toBe(true);
    expect(sparse.pfnSectionValid(sparse.nrToSection(23)!, 0xbf800)).toBe(false);
  });

  it('places the boot memmap top-down in one 256 MiB memblock buffer on the node, one 2 MiB PMD per section', () => {
    const { sparse, memblock } = x86Boot();
    const bufBase = 0x440000000 - 128 * SZ_2M;
    expect(memblock.reservedRanges()).toEqual([
      { base: 0x1000000, size: 0x2000000, nid: -1 },
      { base: bufBase, size: 128 * SZ_2M, nid: -1 },
    ]);
    const blocks = sparse.vmemmapBlocks();
    expect(blocks).toHaveLength(128);
    expect(blocks[0]).toMatchObject({ offset: 0, size: SZ_2M, pfn: bufBase / 4096, source: 'boot', nid: 0, usedBytes: SZ_2M });
    expect(blocks[0]!.vaddr).toBe(0xffffea0000000000n);
    // section 32 is the 25th present section: the 25th PMD of the buffer
    expect(blocks[24]).toMatchObject({ offset: 32 * SZ_2M, pfn: bufBase / 4096 + 24 * 512 });
    expect(sparse.vmemmapTotals()).toMatchObject({ blocks: 128, bytes: 256 * MiB });
    expect(sparse.vmemmapTotals().boot.get(0)).toBe(256 * MiB);
  });

  it('accounts exactly 2 MiB of memmap per 128 MiB section, mapped by one PMD in node 0 boot memory', () => {
    const { sparse } = x86Boot();
    expect(sparse.memmapOfSection(0)).toEqual({
      startPfn: 0,
      nrPages: 32768,
      bytes: SZ_2M,
      placements: [{ source: 'boot', nid: 0, altmap: undefined, pageSize: SZ_2M, bytes: SZ_2M }],
    });
    expect(sparse.memmapOfSection(24).bytes).toBe(0);
    expect(sparse.memmapOfRange(0, 0x440000).bytes).toBe(128 * SZ_2M);
    // a 1 GiB range inside: 8 sections
    expect(sparse.memmapOfRange(SZ_4G / 4096, SZ_1G / 4096).bytes).toBe(16 * MiB);
    expect(SZ_128M / 64).toBe(SZ_2M); // the 1/64 rule the model reproduces
  });

  it('removing a boot section frees its memmap to the page allocator as reserved pages and keeps its usage', () => {
    const { sparse, buddy } = x86Boot();
    const before = buddy.nrFree(0);
    const pfn = sparse.sectionNrToPfn(40);
    sparse.sparseRemoveSection(pfn, 32768);
    expect(buddy.nrFree(0)).toBe(before + 512);
    expect(buddy.log.at(-1)).toMatch(/^free_reserved 512 @0x/);
    const ms = sparse.nrToSection(40);
    expect(ms?.sectionMemMap).toBe(0);
    expect(ms?.usage?.early).toBe(true); // kept, to be reused
    expect(sparse.pfnValid(pfn)).toBe(false);
    expect(sparse.memmapOfSection(40).bytes).toBe(0);
    // re-added it is no longer early and its memmap comes from the buddy
    sparse.sparseAddSection(0, pfn, 32768);
    expect(earlySection(sparse.nrToSection(40))).toBe(false);
    expect(sparse.memmapOfSection(40).placements).toEqual([{ source: 'ram', nid: 0, altmap: undefined, pageSize: SZ_2M, bytes: SZ_2M }]);
  });

  it('a partial hot-add into an early section reuses the boot memmap; its removal keeps it', () => {
    const { sparse, buddy } = x86Boot();
    // subsections 56..63 of section 23 (the firmware part) were never in memblock
    const pfn = 0xbf000;
    const free = buddy.nrFree();
    expect(() => sparse.sparseAddSection(0, pfn, 4096)).not.toThrow();
    expect(buddy.nrFree()).toBe(free);
    expect(sparse.nrToSection(23)?.usage?.subsectionMap.toString()).toBe('0-63');
    sparse.sparseRemoveSection(pfn, 4096);
    expect(buddy.nrFree()).toBe(free);
    expect(sparse.memmapOfSection(23).bytes).toBe(SZ_2M);
  });

  it('reports a node whose memmap cannot be backed, and drops its remaining sections', () => {
    const kernel = new Kernel();
    const memblock = new BootMemblock(12);
    memblock.addMemory(0, 2 * SZ_128M, 0);
    memblock.reserve(0x1000, 2 * SZ_128M - SZ_2M - 0x1000); // only the top 2 MiB is free
    const sparse = new SparseMemory({ kernel, arch: X86_64, allocator: new FakeBuddy([{ nid: 0, startPfn: 0, nrPages: 65536 }]) });
    sparse.sparseInit(memblock);
    expect(kernel.log.dmesg()).toContain(
      'sparse_init_nid: node[0] memory map backing failed. Some memory will not be available.\n',
    );
    expect(sparse.validSectionNr(0)).toBe(true);
    expect(sparse.vmemmapBlocks()[0]).toMatchObject({ pfn: (2 * SZ_128M - SZ_2M) / 4096, source: 'boot' });
    expect(sparse.presentSectionNr(1)).toBe(false);
    expect(sparse.pfnValid(32768)).toBe(false);
  });
});

describe('powerpc (hash, 64K pages) boot layout', () => {
  function ppcBoot(): { sparse: SparseMemory; memblock: BootMemblock } {
    const memblock = new BootMemblock(16);
    memblock.addMemory(0, SZ_4G, 0);
    memblock.addMemory(SZ_4G, SZ_4G, 1);
    const sparse = new SparseMemory({
      kernel: new Kernel(),
      arch: PPC64_HASH,
      allocator: new FakeBuddy([
        { nid: 0, startPfn: 0, nrPages: 65536 },
        { nid: 1, startPfn: 65536, nrPages: 65536 },
      ]),
    });
    sparse.sparseInit(memblock);
    for (const r of memblock.memPfnRanges()) sparse.subsectionMapInit(r.startPfn, r.endPfn - r.startPfn);
    return { sparse, memblock };
  }

  it('has 512 early sections of 16 MiB on two nodes', () => {
    const { sparse } = ppcBoot();
    expect([...sparse.presentSectionNrs()]).toHaveLength(512);
    expect(sparse.nrToSection(0)?.nid).toBe(0);
    expect(sparse.nrToSection(511)?.nid).toBe(1);
    expect(sparse.nrToSection(3)?.usage?.subsectionMap.toString()).toBe('0-7');
    expect(sparse.pfnValid(SZ_8G / SZ_64K - 1)).toBe(true);
    expect(sparse.pfnValid(SZ_8G / SZ_64K)).toBe(false);
  });

  it('maps the memmap of 16 GiB with one 16 MiB page: node 1 struct pages live on node 0', () => {
    const { sparse, memblock } = ppcBoot();
    // The 4 GiB per-node buffer does not fit; each page falls back to a memblock allocation.
    const blocks = sparse.vmemmapBlocks();
    expect(blocks).toHaveLength(1);
    expect(blocks[0]).toMatchObject({ offset: 0, size: SZ_16M, source: 'boot', nid: 0, pfn: (SZ_4G - SZ_16M) / SZ_64K });
    expect(memblock.reservedRanges()).toEqual([{ base: SZ_4G - SZ_16M, size: SZ_16M, nid: -1 }]);
    expect(sparse.memmapOfSection(0)).toEqual({
      startPfn: 0,
      nrPages: 256,
      bytes: SZ_16K,
      placements: [{ source: 'boot', nid: 0, altmap: undefined, pageSize: SZ_16M, bytes: SZ_16K }],
    });
    expect(sparse.memmapOfSection(300).placements[0]).toMatchObject({ nid: 0, bytes: SZ_16K });
  });
});

const SZ_64K = 65536;
