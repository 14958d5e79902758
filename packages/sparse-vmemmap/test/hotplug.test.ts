// Hot-add and hot-remove with the memmap in RAM: sections and subsections.
import { SZ_2M, SZ_4K } from '@zonedev/kernel';
import { describe, expect, it } from 'vitest';
import { SECTION_HAS_MEM_MAP, SECTION_MARKED_PRESENT, earlySection, validSection } from '../src/index.js';
import { X86_64, X86_64_LA57, expectErrno, machine, snapshot } from './helpers.js';

const PPS = 32768; // pages per 128 MiB section
const SUB = 512; // pages per 2 MiB subsection

/** Two nodes of 64 MiB of RAM each (16384 pages), at 0 and at 64 MiB. */
function twoNodes(): ReturnType<typeof machine> {
  return machine(X86_64, [
    { nid: 0, startPfn: 0, nrPages: 16384 },
    { nid: 1, startPfn: 16384, nrPages: 16384 },
  ]);
}

describe('sparse_add_section with the memmap in RAM', () => {
  it('takes one order-9 block from the section node and maps it with a PMD', () => {
    const { sparse, buddy, store } = twoNodes();
    const pfn = 64 * PPS; // 8 GiB
    sparse.sparseAddSection(1, pfn, PPS);
    expect(buddy.nrFree(1)).toBe(16384 - 512);
    expect(buddy.nrFree(0)).toBe(16384);
    expect(buddy.log).toEqual(['alloc 9 @0x4000']);
    const ms = sparse.nrToSection(64)!;
    expect(ms.sectionMemMap).toBe(SECTION_MARKED_PRESENT + SECTION_HAS_MEM_MAP);
    expect(ms.nid).toBe(1);
    expect(ms.usage?.subsectionMap.toString()).toBe('0-63');
    expect(ms.usage?.early).toBe(false);
    expect(sparse.pfnValid(pfn)).toBe(true);
    expect(sparse.pfnValid(pfn + PPS - 1)).toBe(true);
    expect(sparse.pfnValid(pfn + PPS)).toBe(false);
    expect(sparse.memmapOfSection(64)).toEqual({
      startPfn: pfn,
      nrPages: PPS,
      bytes: SZ_2M,
      placements: [{ source: 'ram', nid: 1, altmap: undefined, pageSize: SZ_2M, bytes: SZ_2M }],
    });
    expect(sparse.vmemmapBlocks()[0]!.vaddr).toBe(sparse.pfnToPage(pfn));
    expect(store.calls).toEqual(['init 64']);
    expect(buddy.gfps).toEqual(new Set([0x6cc0]));
    expect(sparse.highestPresentSectionNr).toBe(64);
    expect(sparse.onlineSectionNr(64)).toBe(false);
  });

  it('sparse_remove_section gives the block back and forgets the section', () => {
    const { sparse, buddy, store } = twoNodes();
    const empty = snapshot(sparse, { buddy, store });
    sparse.sparseAddSection(0, 64 * PPS, PPS);
    sparse.sparseRemoveSection(64 * PPS, PPS);
    expect(buddy.nrFree(0)).toBe(16384);
    expect(sparse.nrToSection(64)).toBeUndefined();
    expect(sparse.pfnValid(64 * PPS)).toBe(false);
    expect(store.calls).toEqual(['init 64', 'drop 64']);
    // The root stays (roots are never freed) and so does the highest section number.
    const after = JSON.parse(snapshot(sparse, { buddy, store })) as { roots: number; highest: number };
    expect(after.roots).toBe(1);
    expect(after.highest).toBe(64);
    expect({ ...after, roots: 0, highest: 0 }).toEqual({ ...(JSON.parse(empty) as object), roots: 0, highest: 0 });
  });

  it('falls back to base pages when no order-9 block is free', () => {
    const { sparse, buddy } = twoNodes();
    buddy.strictNode = true;
    // Fragment node 0: one page taken in every 2 MiB.
    for (let pfn = 0; pfn < 16384; pfn += 512) buddy.take(pfn + 7, 1);
    sparse.sparseAddSection(0, 64 * PPS, PPS);
    expect(sparse.memmapOfSection(64).placements).toEqual([
      { source: 'ram', nid: 0, altmap: undefined, pageSize: SZ_4K, bytes: SZ_2M },
    ]);
    expect(sparse.vmemmapBlocks()).toHaveLength(512);
    expect(buddy.nrFree(0)).toBe(16384 - 32 - 512);
    sparse.sparseRemoveSection(64 * PPS, PPS);
    expect(buddy.nrFree(0)).toBe(16384 - 32);
    expect(sparse.vmemmapBlocks()).toHaveLength(0);
  });

  it('accounts a memmap that the zonelist placed on another node', () => {
    const { sparse, buddy } = twoNodes();
    for (let pfn = 0; pfn < 16384; pfn += 512) buddy.take(pfn + 7, 1); // node 0 fragmented
    buddy.take(16384, 16384); // node 1 full
    // no order-9 block anywhere: base pages, from node 0 (the only free pages)
    sparse.sparseAddSection(1, 64 * PPS, PPS);
    expect(sparse.memmapOfSection(64).placements).toEqual([{ source: 'ram', nid: 0, altmap: undefined, pageSize: SZ_4K, bytes: SZ_2M }]);
  });

  it('fails with -ENOMEM when RAM runs out, leaving nothing behind', () => {
    const { sparse, buddy, store } = twoNodes();
    buddy.strictNode = true;
    sparse.sparseAddSection(0, 64 * PPS, PPS);
    buddy.take(512, 16384 - 512 - 100); // 100 pages left on node 0
    const before = snapshot(sparse, { buddy, store });
    expectErrno(() => sparse.sparseAddSection(0, 65 * PPS, PPS), 'ENOMEM'); // a new root-less section
    expect(snapshot(sparse, { buddy, store })).toBe(before);
    expectErrno(() => sparse.sparseAddSection(0, 1000 * PPS, PPS), 'ENOMEM'); // a new root too
    expect(snapshot(sparse, { buddy, store })).toBe(before);
    expect(sparse.sectionRoots).toBe(1);
    // 100 pages are enough for a subsection (8 pages) but the property holds for it too
    sparse.sparseAddSection(0, 65 * PPS, SUB);
    expect(buddy.nrFree(0)).toBe(92);
  });

  it('fails in the middle of a fallback to base pages and undoes the pages already taken', () => {
    const { sparse, buddy, store } = twoNodes();
    buddy.strictNode = true;
    for (let pfn = 0; pfn < 16384; pfn += 512) buddy.take(pfn + 7, 1);
    buddy.allocationsLeft = 300; // the 301st base page fails
    const before = snapshot(sparse, { buddy, store });
    expectErrno(() => sparse.sparseAddSection(0, 64 * PPS, PPS), 'ENOMEM');
    expect(snapshot(sparse, { buddy, store })).toBe(before);
  });
});

describe('sub-section hot-add and hot-remove', () => {
  it('maps 2 MiB-aligned ranges inside a section with base pages, 32 KiB of memmap each', () => {
    const { sparse, buddy, store } = twoNodes();
    const base = 64 * PPS;
    sparse.sparseAddSection(0, base + 3 * SUB, 2 * SUB);
    sparse.sparseAddSection(0, base + 10 * SUB, SUB);
    const ms = sparse.nrToSection(64)!;
    expect(ms.usage?.subsectionMap.toString()).toBe('3-4,10');
    expect(validSection(ms)).toBe(true);
    expect(earlySection(ms)).toBe(false);
    expect(sparse.pfnValid(base + 3 * SUB)).toBe(true);
    expect(sparse.pfnValid(base + 5 * SUB - 1)).toBe(true);
    expect(sparse.pfnValid(base + 5 * SUB)).toBe(false);
    expect(sparse.pfnValid(base)).toBe(false);
    expect(buddy.nrFree(0)).toBe(16384 - 24);
    expect(sparse.memmapOfSection(64)).toMatchObject({
      bytes: 3 * 32768,
      placements: [{ source: 'ram', nid: 0, pageSize: SZ_4K, bytes: 3 * 32768 }],
    });
    expect(sparse.memmapOfRange(base + 10 * SUB, SUB).bytes).toBe(32768);
    expect(store.calls).toEqual(['init 64']);
    sparse.sparseRemoveSection(base + 3 * SUB, SUB);
    expect(ms.usage?.subsectionMap.toString()).toBe('4,10');
    expect(buddy.nrFree(0)).toBe(16384 - 16);
    expect(sparse.pfnValid(base + 3 * SUB)).toBe(false);
    sparse.sparseRemoveSection(base + 4 * SUB, SUB);
    sparse.sparseRemoveSection(base + 10 * SUB, SUB);
    expect(sparse.nrToSection(64)).toBeUndefined();
    expect(buddy.nrFree(0)).toBe(16384);
    expect(store.calls).toEqual(['init 64', 'drop 64']);
  });

  it('re-adding a present subsection fails with -EEXIST and changes nothing', () => {
    const { sparse, buddy, store } = twoNodes();
    const base = 64 * PPS;
    sparse.sparseAddSection(0, base + 3 * SUB, 2 * SUB);
    const before = snapshot(sparse, { buddy, store });
    expectErrno(() => sparse.sparseAddSection(0, base + 4 * SUB, 2 * SUB), 'EEXIST');
    expectErrno(() => sparse.sparseAddSection(0, base, PPS), 'EEXIST');
    expect(snapshot(sparse, { buddy, store })).toBe(before);
  });

  it('an empty range is -EINVAL and a misaligned one -ENOMEM, changing nothing', () => {
    const { sparse, buddy, store } = twoNodes();
    const before = snapshot(sparse, { buddy, store });
    expectErrno(() => sparse.sparseAddSection(0, 64 * PPS, 0), 'EINVAL');
    expectErrno(() => sparse.sparseAddSection(0, 64 * PPS + 1, SUB), 'ENOMEM');
    expect(snapshot(sparse, { buddy, store })).toBe(before);
    expect(sparse.sectionRoots).toBe(0);
  });

  it('removing an absent subsection is -EINVAL "section already deactivated", changing nothing', () => {
    const { sparse, buddy, store } = twoNodes();
    const base = 64 * PPS;
    sparse.sparseAddSection(0, base, 2 * SUB);
    const before = snapshot(sparse, { buddy, store });
    expect(expectErrno(() => sparse.sparseRemoveSection(base + SUB, 2 * SUB), 'EINVAL')).toBe(
      'section already deactivated (0x200200 + 1024)',
    );
    expectErrno(() => sparse.sparseRemoveSection(65 * PPS, SUB), 'EINVAL');
    expect(snapshot(sparse, { buddy, store })).toBe(before);
  });

  it('refuses ranges that cross a section or leave the physical address space, changing nothing', () => {
    const { sparse, buddy, store } = twoNodes();
    sparse.sparseAddSection(0, PPS - SUB, SUB);
    const before = snapshot(sparse, { buddy, store });
    expect(() => sparse.sparseAddSection(0, PPS - SUB, 2 * SUB)).toThrow(/crosses a section boundary/);
    expect(() => sparse.sparseAddSection(0, 2 ** 34, SUB)).toThrow(/beyond MAX_PHYSMEM_BITS/);
    expect(() => sparse.sparseRemoveSection(PPS - SUB, 2 * SUB)).toThrow(/crosses a section boundary/);
    expect(() => sparse.sparseAddSection(0, -SUB, SUB)).toThrow(RangeError);
    expect(snapshot(sparse, { buddy, store })).toBe(before);
  });

  it('a whole section added after some of its subsections is -EEXIST; the rest can be added', () => {
    const { sparse, buddy } = twoNodes();
    const base = 64 * PPS;
    sparse.sparseAddSection(0, base, SUB);
    for (let i = 1; i < 64; i++) sparse.sparseAddSection(0, base + i * SUB, SUB);
    expect(sparse.nrToSection(64)?.usage?.subsectionMap.isFull()).toBe(true);
    expect(sparse.memmapOfSection(64)).toMatchObject({ bytes: SZ_2M, placements: [{ pageSize: SZ_4K }] });
    expect(buddy.nrFree(0)).toBe(16384 - 512);
  });
});

describe('the section table', () => {
  it('costs nothing for absent sections, even with 2^25 of them', () => {
    const { sparse } = machine(X86_64_LA57, [{ nid: 0, startPfn: 0, nrPages: 4096 }]);
    expect(sparse.layout.NR_MEM_SECTIONS).toBe(2 ** 25);
    expect(sparse.sectionRoots).toBe(0);
    expect(sparse.nrToSection(2 ** 25 - 1)).toBeUndefined();
    expect(sparse.pfnValid(2 ** 40 - 1)).toBe(false);
    const top = (2 ** 25 - 1) * PPS; // the last section below 2^52
    sparse.sparseAddSection(0, top, SUB);
    expect(sparse.sectionRoots).toBe(1);
    expect([...sparse.presentSectionNrs()]).toEqual([2 ** 25 - 1]);
    expect(sparse.pfnToPage(top)).toBe(0xffd4000000000000n + BigInt(top) * 64n);
    expect(sparse.pageToPfn(sparse.pfnToPage(top + 5))).toBe(top + 5);
    expect(() => sparse.pageToPfn(0xffd4000000000001n)).toThrow(RangeError);
  });

  it('pfn and section arithmetic', () => {
    const { sparse } = twoNodes();
    expect(sparse.pfnToSectionNr(PPS * 3 + 5)).toBe(3);
    expect(sparse.sectionNrToPfn(3)).toBe(PPS * 3);
    expect(sparse.sectionAlignUp(PPS + 1)).toBe(2 * PPS);
    expect(sparse.sectionAlignDown(2 * PPS - 1)).toBe(PPS);
    expect(sparse.subsectionMapIndex(PPS + 5 * SUB + 3)).toBe(5);
    expect(sparse.pfnToPage(0)).toBe(0xffffea0000000000n);
    expect(sparse.pfnToPage(1)).toBe(0xffffea0000000040n);
  });

  it('online and offline marks, and the ZONE_DEVICE taint', () => {
    const { sparse } = twoNodes();
    sparse.sparseAddSection(0, 64 * PPS, PPS);
    sparse.sparseAddSection(0, 65 * PPS, PPS);
    sparse.onlineMemSections(64 * PPS, 67 * PPS); // 66 is invalid: skipped
    expect(sparse.onlineSectionNr(64)).toBe(true);
    expect(sparse.onlineSectionNr(65)).toBe(true);
    expect(sparse.nrToSection(66)).toBeUndefined();
    sparse.offlineMemSections(65 * PPS, 66 * PPS);
    expect(sparse.onlineSectionNr(65)).toBe(false);
    sparse.sectionTaintZoneDevice(64 * PPS + 100);
    expect(sparse.nrToSection(64)?.sectionMemMap).toBe(0x1 + 0x2 + 0x4 + 0x10);
    sparse.sectionTaintZoneDevice(66 * PPS); // absent: nothing
    expect(sparse.nrToSection(66)).toBeUndefined();
  });
});

describe('subsection maps wider than 64 bits (512 MiB sections: 256 subsections)', () => {
  it('tracks subsections in every word', () => {
    const { sparse, buddy } = machine({ ...X86_64, sectionSizeBits: 29 }, [{ nid: 0, startPfn: 0, nrPages: 16384 }]);
    const PPS512 = 131072;
    const base = 64 * PPS512;
    expect(sparse.layout.SUBSECTIONS_PER_SECTION).toBe(256);
    sparse.sparseAddSection(0, base + 31 * SUB, 2 * SUB); // 31-32: across the first word boundary
    sparse.sparseAddSection(0, base + 100 * SUB, SUB);
    sparse.sparseAddSection(0, base + 255 * SUB, SUB);
    const map = sparse.nrToSection(64)!.usage!.subsectionMap;
    expect(map.toString()).toBe('31-32,100,255');
    expect(map.weight()).toBe(4);
    expect(map.bits()).toEqual([31, 32, 100, 255]);
    expect(map.test(255)).toBe(true);
    expect(map.test(256)).toBe(false);
    expect(sparse.pfnValid(base + 255 * SUB + 511)).toBe(true);
    expect(sparse.pfnValid(base + 254 * SUB)).toBe(false);
    expectErrno(() => sparse.sparseAddSection(0, base + 32 * SUB, 69 * SUB), 'EEXIST');
    sparse.sparseRemoveSection(base + 100 * SUB, SUB);
    expect(map.toString()).toBe('31-32,255');
    expect(buddy.nrFree()).toBe(16384 - 24);
  });
});
