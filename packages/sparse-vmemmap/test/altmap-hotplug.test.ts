// The memmap in the device: sparse_add_section with a vmem_altmap (the 2015 'struct page' for pmem series and commit a08a2ae346).
import { SZ_1G, SZ_2M, SZ_4K } from '@zonedev/kernel';
import { describe, expect, it } from 'vitest';
import type { SparseMemory, VmemAltmap } from '../src/index.js';
import { vmemAltmap, vmemAltmapOffset } from '../src/index.js';
import { X86_64, expectErrno, machine, snapshot } from './helpers.js';

const PPS = 32768;
const SUB = 512;
const BASE = 0x100000; // 4 GiB
const NR = SZ_1G / SZ_4K; // 262144 pages

/** What __add_pages does: the altmap checks, then one sparse_add_section per section. */
function addPages(sparse: SparseMemory, nid: number, pfn: number, nr: number, altmap?: VmemAltmap): void {
  if (altmap !== undefined) {
    sparse.checkAddPagesAltmap(pfn, nr, altmap);
    altmap.alloc = 0;
  }
  sparse.checkPfnSpan(pfn, nr, 'add');
  for (let p = pfn; p < pfn + nr; ) {
    const cur = Math.min(pfn + nr - p, sparse.sectionAlignUp(p + 1) - p);
    sparse.sparseAddSection(nid, p, cur, altmap);
    p += cur;
  }
}

function removePages(sparse: SparseMemory, pfn: number, nr: number, altmap?: VmemAltmap): void {
  for (let p = pfn; p < pfn + nr; ) {
    const cur = Math.min(pfn + nr - p, sparse.sectionAlignUp(p + 1) - p);
    sparse.sparseRemoveSection(p, cur, 0, altmap);
    p += cur;
  }
}

/** A pmem namespace of 1 GiB with an 8 KiB info block (reserve 2) and its memmap (free). */
function pmemAltmap(free: number): VmemAltmap {
  return vmemAltmap({ basePfn: BASE, endPfn: BASE + NR - 1, reserve: 2, free });
}

function ramMachine(): ReturnType<typeof machine> {
  return machine(X86_64, [{ nid: 0, startPfn: 0, nrPages: 16384 }]);
}

describe('a 1 GiB device range with its memmap in an altmap (reserve 2)', () => {
  // 16 MiB of memmap: 8 PMD blocks of 512 pfns, the first pushed to a 512-pfn
  // boundary (510 pfns of padding after the 2 reserved): free = 4096 + 510.
  const EXACT = 4606;

  it('consumes exactly the pfns B+0x200 .. B+0x11ff, one 2 MiB block per section, no RAM', () => {
    const { sparse, buddy } = ramMachine();
    const a = pmemAltmap(EXACT);
    addPages(sparse, 1, BASE, NR, a);
    expect(a).toEqual({ basePfn: BASE, endPfn: BASE + NR - 1, reserve: 2, free: EXACT, align: 510, alloc: 4096 });
    const blocks = sparse.vmemmapBlocks();
    expect(blocks.map((b) => b.pfn)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((i) => BASE + i * 512));
    for (const b of blocks) expect(b).toMatchObject({ source: 'altmap', altmap: a, nid: 1, size: SZ_2M });
    expect(buddy.nrFree()).toBe(16384);
    expect(vmemAltmapOffset(a)).toBe(4608); // the first data page is B + 4608
    expect(sparse.memmapOfRange(BASE, NR)).toEqual({
      startPfn: BASE,
      nrPages: NR,
      bytes: 16 * 2 ** 20,
      placements: [{ source: 'altmap', nid: 1, altmap: a, pageSize: SZ_2M, bytes: 16 * 2 ** 20 }],
    });
    expect(sparse.vmemmapTotals().altmap.get(a)).toBe(16 * 2 ** 20);
  });

  it('frees alloc back to zero on removal; align stays, so a re-add lands on the same pfns', () => {
    const { sparse } = ramMachine();
    const a = pmemAltmap(EXACT);
    addPages(sparse, 0, BASE, NR, a);
    const first = sparse.vmemmapBlocks().map((b) => b.pfn);
    removePages(sparse, BASE, NR, a);
    expect(a).toMatchObject({ alloc: 0, align: 510 });
    expect(sparse.vmemmapBlocks()).toHaveLength(0);
    expect([...sparse.presentSectionNrs()]).toEqual([]);
    addPages(sparse, 0, BASE, NR, a);
    expect(sparse.vmemmapBlocks().map((b) => b.pfn)).toEqual(first);
    expect(a).toMatchObject({ alloc: 4096, align: 510 });
  });

  it('exhaustion is -ENOMEM with no fallback to RAM, and leaves the altmap and sections as they were', () => {
    const { sparse, buddy, store } = ramMachine();
    const a = pmemAltmap(EXACT - 1);
    const seven = 7 * PPS;
    addPages(sparse, 0, BASE, seven, a);
    const before = snapshot(sparse, { buddy, store, altmaps: [a] });
    expectErrno(() => sparse.sparseAddSection(0, BASE + seven, PPS, a), 'ENOMEM');
    expect(snapshot(sparse, { buddy, store, altmaps: [a] })).toBe(before);
    expect(a).toMatchObject({ alloc: 3584, align: 510 });
    expect(buddy.nrFree()).toBe(16384); // RAM was not touched
  });

  it('the memmap_on_memory layout: the memmap fills the first 2 MiB of a 128 MiB block', () => {
    const { sparse } = ramMachine();
    const start = 0x200000; // 8 GiB
    const a = vmemAltmap({ basePfn: start, free: PPS }); // memmap_on_memory: free = the whole block
    addPages(sparse, 0, start, PPS, a);
    expect(a).toMatchObject({ alloc: 512, align: 0 });
    expect(sparse.vmemmapBlocks()[0]).toMatchObject({ pfn: start, source: 'altmap' });
    // try_remove_memory() builds a fresh altmap with alloc = nr_vmemmap_pages to give them back
    const removal = vmemAltmap({ basePfn: 0 });
    removal.alloc = 512;
    removePages(sparse, start, PPS, removal);
    expect(removal.alloc).toBe(0);
  });

  it('sub-section ranges get base pages from RAM even with an altmap (v5.13 x86 vmemmap_populate)', () => {
    const { sparse, buddy } = ramMachine();
    const a = vmemAltmap({ basePfn: BASE + 4 * SUB, free: 4096 });
    addPages(sparse, 0, BASE + 4 * SUB, 60 * SUB + PPS, a); // the tail of one section, then a whole one
    expect(sparse.memmapOfSection(BASE / PPS).placements).toEqual([
      { source: 'ram', nid: 0, altmap: undefined, pageSize: SZ_4K, bytes: 60 * 32768 },
    ]);
    expect(sparse.memmapOfSection(BASE / PPS + 1).placements).toEqual([
      { source: 'altmap', nid: 0, altmap: a, pageSize: SZ_2M, bytes: SZ_2M },
    ]);
    expect(buddy.nrFree()).toBe(16384 - 480);
    removePages(sparse, BASE + 4 * SUB, 60 * SUB + PPS, a);
    expect(buddy.nrFree()).toBe(16384);
    expect(a.alloc).toBe(0);
  });

  it('removing altmap-backed memmap without the altmap is -EINVAL and changes nothing', () => {
    const { sparse, buddy, store } = ramMachine();
    const a = pmemAltmap(EXACT);
    addPages(sparse, 0, BASE, NR, a);
    const before = snapshot(sparse, { buddy, store, altmaps: [a] });
    expect(expectErrno(() => sparse.sparseRemoveSection(BASE, PPS), 'EINVAL')).toMatch(/lives in an altmap, none given/);
    const poor = vmemAltmap({ basePfn: BASE }); // alloc 0: nothing to give back to
    expectErrno(() => sparse.sparseRemoveSection(BASE, PPS, 0, poor), 'EINVAL');
    expect(snapshot(sparse, { buddy, store, altmaps: [a] })).toBe(before);
  });
});

describe('the __add_pages checks offered to memory hotplug', () => {
  it('rejects an altmap that does not start at the range or does not fit in it', () => {
    const { sparse } = ramMachine();
    expect(expectErrno(() => sparse.checkAddPagesAltmap(BASE, NR, vmemAltmap({ basePfn: BASE + 1 })), 'EINVAL')).toBe(
      'memory add fail, invalid altmap',
    );
    expectErrno(() => sparse.checkAddPagesAltmap(BASE, 100, vmemAltmap({ basePfn: BASE, reserve: 2, free: 99 })), 'EINVAL');
    expect(() => sparse.checkAddPagesAltmap(BASE, 101, vmemAltmap({ basePfn: BASE, reserve: 2, free: 99 }))).not.toThrow();
  });

  it('check_pfn_span wants whole subsections, with v5.13 warning text', () => {
    const { sparse } = ramMachine();
    expect(() => sparse.checkPfnSpan(BASE, SUB, 'add')).not.toThrow();
    expect(expectErrno(() => sparse.checkPfnSpan(BASE + 1, SUB, 'add'), 'EINVAL')).toBe(
      'Misaligned __add_pages start: 0x100001 end: #100200',
    );
    expect(expectErrno(() => sparse.checkPfnSpan(BASE, 100, 'remove'), 'EINVAL')).toBe(
      'Misaligned __remove_pages start: 0x100000 end: #100063',
    );
  });
});
