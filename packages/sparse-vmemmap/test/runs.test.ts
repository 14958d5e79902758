// Uniform runs of sections are one record: the mem_section table and the
// vmemmap's full PMDs are kept as runs, split where a section diverges and
// joined again when it is like its neighbours, with every observable value
// (pfn_valid, the subsection maps, the vmemmap blocks and their frames, the
// altmap's counters) the same as one record per section would give.
import { Kernel } from '@zonedev/kernel';
import { describe, expect, it } from 'vitest';
import type { VmemAltmap } from '../src/index.js';
import {
  BootMemblock,
  HostMemoryGuard,
  SECTION_HAS_MEM_MAP,
  SECTION_IS_ONLINE,
  SECTION_MARKED_PRESENT,
  SparseMemory,
  earlySection,
  vmemAltmap,
} from '../src/index.js';
import { FakeBuddy, X86_64, X86_64_LA57, expectErrno, machine, snapshot } from './helpers.js';

const PPS = 32768;
const SUB = 512;
const BASE = 2 ** 38; // pfn of 1 PiB
const N = 64;

function addSections(sparse: SparseMemory, first: number, n: number, altmap?: VmemAltmap): void {
  for (let i = first; i < first + n; i++) sparse.sparseAddSection(0, BASE + i * PPS, PPS, altmap);
}

/** 64 hot-added sections with their memmap in one altmap (64 PMDs of 512 pfns, after a reserve of 2 and the alignment to 512). */
function device(): { m: ReturnType<typeof machine>; altmap: VmemAltmap; runs: number; records: number } {
  const m = machine(X86_64_LA57, [{ nid: 0, startPfn: 0, nrPages: 65536 }]);
  const runs = m.sparse.sectionRuns;
  const records = m.sparse.vmemmapRecords;
  const altmap = vmemAltmap({ basePfn: BASE, endPfn: BASE + N * PPS - 1, reserve: 2, free: N * SUB + SUB });
  addSections(m.sparse, 0, N, altmap);
  return { m, altmap, runs, records };
}

describe('runs of uniform sections', () => {
  it('64 full sections with their memmap in one altmap are one section run and one PMD run', () => {
    const { m, altmap, runs, records } = device();
    expect(m.sparse.sectionRuns).toBe(runs + 1);
    expect(m.sparse.vmemmapRecords).toBe(records + 1);
    expect(altmap.alloc).toBe(N * SUB);
    expect(altmap.align).toBe(SUB - 2);
    // Every block is still listed, at the frames a block per section would have.
    const blocks = m.sparse.vmemmapBlocks().filter((b) => b.source === 'altmap');
    expect(blocks).toHaveLength(N);
    blocks.forEach((b, i) => {
      expect(b.pfn).toBe(BASE + SUB + i * SUB);
      expect(b.firstPfn).toBe(BASE + i * PPS);
      expect(b.usedBytes).toBe(2 * 2 ** 20);
    });
    expect(m.sparse.memmapOfRange(BASE, N * PPS)).toMatchObject({ bytes: N * PPS * 64, placements: [{ source: 'altmap', pageSize: 2 * 2 ** 20, bytes: N * PPS * 64 }] });
    expect(m.sparse.vmemmapTotals()).toMatchObject({ blocks: N, bytes: 2 * 2 ** 20 * N });
    expect(m.sparse.vmemmapTotals().altmap.get(altmap)).toBe(2 * 2 ** 20 * N);
    const secs = [...m.sparse.memSections()].filter((s) => s.sectionNr >= BASE / PPS);
    expect(secs.map((s) => s.sectionNr)).toEqual(Array.from({ length: N }, (_, i) => BASE / PPS + i));
    for (const s of secs) expect(s.sectionMemMap).toBe(SECTION_MARKED_PRESENT + SECTION_HAS_MEM_MAP);
  });

  it('a section losing a subsection leaves both runs; its PMD becomes a block of its own, partly in use', () => {
    const { m, altmap, runs, records } = device();
    const nr = BASE / PPS + 10;
    m.sparse.sparseRemoveSection(BASE + 10 * PPS + 3 * SUB, SUB, 0, altmap);
    expect(m.sparse.pfnToSection(BASE + 10 * PPS)!.usage!.subsectionMap.toString()).toBe('0-2,4-63');
    expect(m.sparse.pfnValid(BASE + 10 * PPS + 3 * SUB)).toBe(false);
    expect(m.sparse.pfnValid(BASE + 10 * PPS + 4 * SUB)).toBe(true);
    expect(m.sparse.pfnValid(BASE + 11 * PPS)).toBe(true);
    expect(m.sparse.sectionRuns).toBe(runs + 3);
    expect(m.sparse.vmemmapRecords).toBe(records + 3);
    const blk = m.sparse.vmemmapBlocks().find((b) => b.firstPfn === nr * PPS)!;
    expect(blk).toMatchObject({ pfn: BASE + SUB + 10 * SUB, source: 'altmap', usedBytes: 2 * 2 ** 20 - SUB * 64 });
    expect(altmap.alloc).toBe(N * SUB); // the PMD stays: part of it is in use
    // Adding the subsection back makes the section like its neighbours: one section run again.
    m.sparse.sparseAddSection(0, BASE + 10 * PPS + 3 * SUB, SUB, altmap);
    expect(m.sparse.sectionRuns).toBe(runs + 1);
    expect(m.sparse.pfnToSection(BASE + 10 * PPS)!.usage).toBe(m.sparse.pfnToSection(BASE)!.usage);
  });

  it('removing whole sections frees their PMDs out of the middle of a run, and all of them gives everything back', () => {
    const { m, altmap, runs, records } = device();
    for (const i of [20, 21]) m.sparse.sparseRemoveSection(BASE + i * PPS, PPS, 0, altmap);
    expect(altmap.alloc).toBe((N - 2) * SUB);
    expect(m.sparse.pfnToSection(BASE + 20 * PPS)).toBeUndefined();
    expect(m.sparse.pfnValid(BASE + 21 * PPS + 5)).toBe(false);
    expect(m.sparse.pfnValid(BASE + 22 * PPS)).toBe(true);
    expect(m.sparse.sectionRuns).toBe(runs + 2);
    expect(m.sparse.vmemmapRecords).toBe(records + 2);
    const pfns = m.sparse.vmemmapBlocks().filter((b) => b.source === 'altmap').map((b) => (b.pfn - BASE) / SUB - 1);
    expect(pfns).toEqual([...Array.from({ length: 20 }, (_, i) => i), ...Array.from({ length: N - 22 }, (_, i) => i + 22)]);
    for (let i = 0; i < N; i++) if (i !== 20 && i !== 21) m.sparse.sparseRemoveSection(BASE + i * PPS, PPS, 0, altmap);
    expect(altmap.alloc).toBe(0);
    expect(m.sparse.sectionRuns).toBe(runs);
    expect(m.sparse.vmemmapRecords).toBe(records);
  });

  it('onlining part of a run splits it, offlining it joins it again', () => {
    const { m, runs } = device();
    m.sparse.onlineMemSections(BASE + 8 * PPS, BASE + 16 * PPS);
    expect(m.sparse.onlineSectionNr(BASE / PPS + 7)).toBe(false);
    expect(m.sparse.onlineSectionNr(BASE / PPS + 8)).toBe(true);
    expect(m.sparse.onlineSectionNr(BASE / PPS + 15)).toBe(true);
    expect(m.sparse.onlineSectionNr(BASE / PPS + 16)).toBe(false);
    expect(m.sparse.pfnToSection(BASE + 8 * PPS)!.sectionMemMap).toBe(SECTION_MARKED_PRESENT + SECTION_HAS_MEM_MAP + SECTION_IS_ONLINE);
    expect(m.sparse.sectionRuns).toBe(runs + 3);
    m.sparse.offlineMemSections(BASE + 8 * PPS, BASE + 16 * PPS);
    expect(m.sparse.sectionRuns).toBe(runs + 1);
  });

  it('a failed add in the middle of a run (the altmap is full) changes nothing', () => {
    const m = machine(X86_64_LA57, [{ nid: 0, startPfn: 0, nrPages: 65536 }]);
    const altmap = vmemAltmap({ basePfn: BASE, endPfn: BASE + N * PPS - 1, reserve: 2, free: 4 * SUB + SUB });
    addSections(m.sparse, 0, 4, altmap);
    const before = snapshot(m.sparse, { altmaps: [altmap] });
    const runs = m.sparse.sectionRuns;
    expectErrno(() => m.sparse.sparseAddSection(0, BASE + 4 * PPS, PPS, altmap), 'ENOMEM');
    expect(snapshot(m.sparse, { altmaps: [altmap] })).toBe(before);
    expect(m.sparse.sectionRuns).toBe(runs);
    expectErrno(() => m.sparse.sparseAddSection(0, BASE + 2 * PPS, PPS, altmap), 'EEXIST');
    expect(snapshot(m.sparse, { altmaps: [altmap] })).toBe(before);
  });
});

describe('sparseAddSections / sparseRemoveSections: the loop of __add_pages() and __remove_pages() in one step', () => {
  const setup = (hostMemory?: HostMemoryGuard): { m: ReturnType<typeof machine>; altmap: VmemAltmap } => {
    const m = machine(X86_64_LA57, [{ nid: 0, startPfn: 0, nrPages: 65536 }], hostMemory !== undefined ? { hostMemory } : {});
    // Two sections elsewhere first, so that the altmap's alignment and the runs next to the range matter.
    m.sparse.sparseAddSection(0, 2 * BASE, PPS);
    const altmap = vmemAltmap({ basePfn: BASE, endPfn: BASE + N * PPS - 1, reserve: 3, free: N * SUB + SUB });
    return { m, altmap };
  };
  const state = (m: ReturnType<typeof machine>, altmap: VmemAltmap): string =>
    snapshot(m.sparse, { buddy: m.buddy, store: m.store, altmaps: [altmap] }) + m.store.calls.length;

  it('gives exactly what one sparse_add_section() per section gives, as one record', () => {
    const a = setup();
    addSections(a.m.sparse, 0, N, a.altmap);
    const b = setup();
    expect(b.m.sparse.sparseAddSections(0, BASE, N * PPS, b.altmap)).toBe(true);
    expect(state(b.m, b.altmap)).toBe(state(a.m, a.altmap));
    expect(b.m.sparse.highestPresentSectionNr).toBe(a.m.sparse.highestPresentSectionNr);
    expect(b.m.sparse.sectionRuns).toBe(a.m.sparse.sectionRuns);
    expect(b.m.sparse.vmemmapRecords).toBe(a.m.sparse.vmemmapRecords);
    expect(b.m.store.calls.slice(-N)).toEqual(Array.from({ length: N }, (_, i) => `init ${BASE / PPS + i}`));
    // Removing: the same again, and everything back where the loop puts it.
    for (let i = 0; i < N; i++) a.m.sparse.sparseRemoveSection(BASE + i * PPS, PPS, 0, a.altmap);
    expect(b.m.sparse.sparseRemoveSections(BASE, N * PPS, b.altmap)).toBe(true);
    expect(state(b.m, b.altmap)).toBe(state(a.m, a.altmap));
    expect(b.altmap.alloc).toBe(0);
  });

  it('declines, changing nothing, where a section exists, the altmap is short, or none is given', () => {
    const { m, altmap } = setup();
    m.sparse.sparseAddSection(0, BASE + 5 * PPS + SUB, SUB);
    const before = state(m, altmap);
    expect(m.sparse.sparseAddSections(0, BASE, N * PPS, altmap)).toBe(false);
    expect(m.sparse.sparseAddSections(0, BASE + 8 * PPS, (N + 2) * PPS, altmap)).toBe(false); // more than the altmap holds
    expect(m.sparse.sparseAddSections(0, BASE + 8 * PPS, 4 * PPS, undefined)).toBe(false);
    expect(m.sparse.sparseRemoveSections(BASE, 8 * PPS, altmap)).toBe(false); // not all there
    expect(state(m, altmap)).toBe(before);
  });

  it('refuses the memmap of section k on a full host heap with the loop\'s -ENOMEM and leaves what the loop and its unwinding leave', () => {
    const full = (): HostMemoryGuard => {
      let reads = 0;
      return new HostMemoryGuard({ interval: 1, probe: () => ({ used: ++reads > 1 + 4 ? 100 : 0, limit: 100 }) });
    };
    const a = setup(full());
    const msgA = expectErrno(() => {
      let i = 0;
      try {
        for (; i < N; i++) a.m.sparse.sparseAddSection(0, BASE + i * PPS, PPS, a.altmap);
      } catch (e) {
        for (let k = i - 1; k >= 0; k--) a.m.sparse.sparseRemoveSection(BASE + k * PPS, PPS, 0, a.altmap);
        throw e;
      }
    }, 'ENOMEM');
    const b = setup(full());
    const msgB = expectErrno(() => b.m.sparse.sparseAddSections(0, BASE, N * PPS, b.altmap), 'ENOMEM');
    expect(msgB).toBe(msgA);
    expect(msgB).toBe(`sparse_add_section: out of host memory for pfn 0x${(BASE + 4 * PPS).toString(16)} + 32768`);
    expect(snapshot(b.m.sparse, { buddy: b.m.buddy, store: b.m.store })).toBe(snapshot(a.m.sparse, { buddy: a.m.buddy, store: a.m.store }));
    expect(b.m.sparse.highestPresentSectionNr).toBe(a.m.sparse.highestPresentSectionNr);
  });
});

describe('validSectionsCover', () => {
  it('answers what valid_section_nr() of every section of the range answers', () => {
    const { m, altmap } = device();
    expect(m.sparse.validSectionsCover(BASE, BASE + N * PPS)).toBe(true);
    expect(m.sparse.validSectionsCover(BASE + 5, BASE + 7)).toBe(true);
    expect(m.sparse.validSectionsCover(BASE - 1, BASE + PPS)).toBe(false);
    expect(m.sparse.validSectionsCover(BASE, BASE + N * PPS + 1)).toBe(false);
    expect(m.sparse.validSectionsCover(BASE, BASE)).toBe(true);
    m.sparse.sparseRemoveSection(BASE + 3 * PPS, PPS, 0, altmap);
    expect(m.sparse.validSectionsCover(BASE, BASE + N * PPS)).toBe(false);
    expect(m.sparse.validSectionsCover(BASE, BASE + 3 * PPS)).toBe(true);
    expect(m.sparse.validSectionsCover(BASE + 4 * PPS, BASE + N * PPS)).toBe(true);
  });
});

describe('sparseAddSections and a store at a host limit', () => {
  it('turns a store that cannot hold one more section into -ENOMEM for that section, and unwinds the store', () => {
    const m = machine(X86_64_LA57, [{ nid: 0, startPfn: 0, nrPages: 65536 }]);
    const before = snapshot(m.sparse, { buddy: m.buddy, store: m.store });
    const init = m.store.initSection.bind(m.store);
    let calls = 0;
    m.store.initSection = (nr: number): void => {
      if (++calls === 6) throw new RangeError('Map maximum size exceeded');
      init(nr);
    };
    const altmap = vmemAltmap({ basePfn: BASE, endPfn: BASE + N * PPS - 1, reserve: 2, free: N * SUB + SUB });
    const msg = expectErrno(() => m.sparse.sparseAddSections(0, BASE, N * PPS, altmap), 'ENOMEM');
    expect(msg).toBe(`sparse_add_section: out of host memory for pfn 0x${(BASE + 5 * PPS).toString(16)} + 32768`);
    // Everything but the roots and the highest section number (which the loop leaves raised) is as it was.
    const { roots: _r, highest: _h, ...now } = JSON.parse(snapshot(m.sparse, { buddy: m.buddy, store: m.store })) as Record<string, unknown>;
    const { roots: _r0, highest: _h0, ...then } = JSON.parse(before) as Record<string, unknown>;
    expect(now).toEqual(then);
    expect(m.sparse.highestPresentSectionNr).toBe(BASE / PPS + 4);
    expect(altmap).toMatchObject({ alloc: 0, align: 0 });
    expect(m.sparse.pfnValid(BASE)).toBe(false);
    expect(m.sparse.vmemmapBlocks()).toEqual([]);
  });
});

describe('boot sections', () => {
  /** 64 GiB of boot memory from 1 MiB, and a hole of 2 MiB in section 100 (12.5 GiB). */
  function boot(): SparseMemory {
    const memblock = new BootMemblock(12);
    memblock.addMemory(2 ** 20, 100 * 128 * 2 ** 20 + 2 * 2 ** 20 - 2 ** 20, 0);
    memblock.addMemory(100 * 128 * 2 ** 20 + 4 * 2 ** 20, 64 * 2 ** 30 - (100 * 128 * 2 ** 20 + 4 * 2 ** 20), 0);
    const buddy = new FakeBuddy([{ nid: 0, startPfn: 0, nrPages: 64 * 2 ** 18 }]);
    const sparse = new SparseMemory({ kernel: new Kernel(), arch: X86_64, allocator: buddy });
    sparse.sparseInit(memblock);
    for (const r of memblock.memPfnRanges()) sparse.subsectionMapInit(r.startPfn, r.endPfn - r.startPfn);
    for (const r of memblock.reservedRanges()) buddy.reserve(r.base / 4096, r.size / 4096);
    return sparse;
  }

  it('sections that boot memory covers whole share one run; a partly covered one has its own map', () => {
    const sparse = boot();
    // [0..99], [100], [101..511]: memory from 1 MiB touches every subsection of section 0 (subsection_map_init() marks what a range touches); section 100 has a hole.
    expect(sparse.sectionRuns).toBe(3);
    expect(sparse.pfnToSection(0)!.usage!.subsectionMap.toString()).toBe('0-63');
    expect(sparse.nrToSection(100)!.usage!.subsectionMap.toString()).toBe('0,2-63');
    expect(sparse.nrToSection(100)!.usage!.early).toBe(true);
    for (const nr of [1, 50, 99, 101, 511]) {
      expect(sparse.nrToSection(nr)!.usage!.subsectionMap.toString()).toBe('0-63');
      expect(sparse.nrToSection(nr)!.usage!.early).toBe(true);
      expect(earlySection(sparse.nrToSection(nr))).toBe(true);
    }
    expect(sparse.nrToSection(1)!.usage).toBe(sparse.nrToSection(511)!.usage);
  });

  it('removing part of one boot section gives it a map of its own and leaves its neighbours; adding it back joins them again', () => {
    const sparse = boot();
    sparse.sparseRemoveSection(50 * PPS + 3 * SUB, SUB);
    expect(sparse.nrToSection(50)!.usage!.subsectionMap.toString()).toBe('0-2,4-63');
    expect(sparse.nrToSection(49)!.usage!.subsectionMap.toString()).toBe('0-63');
    expect(sparse.nrToSection(51)!.usage!.subsectionMap.toString()).toBe('0-63');
    // An early section is valid as a whole: pfn_valid() stays true in the hole.
    expect(sparse.pfnValid(50 * PPS + 3 * SUB)).toBe(true);
    expect(sparse.sectionRuns).toBe(5);
    sparse.sparseAddSection(0, 50 * PPS + 3 * SUB, SUB);
    expect(sparse.nrToSection(50)!.usage!.subsectionMap.toString()).toBe('0-63');
    expect(sparse.sectionRuns).toBe(3);
    // Removing a whole boot section keeps its (now empty) early usage, as the kernel does.
    sparse.sparseRemoveSection(60 * PPS, PPS);
    expect(sparse.nrToSection(60)).toMatchObject({ sectionMemMap: 0, usage: { early: true } });
    expect(sparse.nrToSection(60)!.usage!.subsectionMap.toString()).toBe('');
    expect(sparse.nrToSection(61)!.usage!.subsectionMap.toString()).toBe('0-63');
  });
});

describe('sparseAddSections and a store that takes many sections at once', () => {
  class BulkStore {
    readonly calls: string[] = [];
    readonly sections = new Set<number>();
    failAt = -1;
    initSection(nr: number): void {
      this.calls.push(`init ${nr}`);
      this.sections.add(nr);
    }
    dropSection(nr: number): void {
      this.calls.push(`drop ${nr}`);
      this.sections.delete(nr);
    }
    initSections(first: number, n: number): void {
      if (this.failAt >= first && this.failAt < first + n) throw new RangeError('Map maximum size exceeded');
      this.calls.push(`init ${first}+${n}`);
      for (let i = 0; i < n; i++) this.sections.add(first + i);
    }
    dropSections(first: number, n: number): void {
      this.calls.push(`drop ${first}+${n}`);
      for (let i = 0; i < n; i++) this.sections.delete(first + i);
    }
  }
  const M = 200;
  const setup = (): { sparse: SparseMemory; store: BulkStore; altmap: VmemAltmap } => {
    const store = new BulkStore();
    const sparse = new SparseMemory({ kernel: new Kernel(), arch: X86_64_LA57, allocator: new FakeBuddy([{ nid: 0, startPfn: 0, nrPages: 65536 }]), memmap: store });
    const altmap = vmemAltmap({ basePfn: BASE, endPfn: BASE + M * PPS - 1, reserve: 2, free: M * SUB + SUB });
    return { sparse, store, altmap };
  };

  it('tells it in chunks of 64 sections, and takes them back in one call', () => {
    const { sparse, store, altmap } = setup();
    expect(sparse.sparseAddSections(0, BASE, M * PPS, altmap)).toBe(true);
    const s0 = BASE / PPS;
    expect(store.calls).toEqual([`init ${s0}+64`, `init ${s0 + 64}+64`, `init ${s0 + 128}+64`, `init ${s0 + 192}+8`]);
    expect(store.sections.size).toBe(M);
    expect(sparse.sparseRemoveSections(BASE, M * PPS, altmap)).toBe(true);
    expect(store.calls.at(-1)).toBe(`drop ${s0}+${M}`);
    expect(store.sections.size).toBe(0);
    expect(altmap.alloc).toBe(0);
  });

  it('unwinds the chunks it was told when one fails, with -ENOMEM for the first section of that chunk', () => {
    const { sparse, store, altmap } = setup();
    const s0 = BASE / PPS;
    store.failAt = s0 + 130;
    const msg = expectErrno(() => sparse.sparseAddSections(0, BASE, M * PPS, altmap), 'ENOMEM');
    // The chunk [128, 192) is told at section 191, which the message names.
    expect(msg).toBe(`sparse_add_section: out of host memory for pfn 0x${(BASE + 191 * PPS).toString(16)} + 32768`);
    expect(store.calls).toEqual([`init ${s0}+64`, `init ${s0 + 64}+64`, `drop ${s0}+128`]);
    expect(store.sections.size).toBe(0);
    expect(altmap).toMatchObject({ alloc: 0, align: 0 });
    expect(sparse.pfnValid(BASE)).toBe(false);
    expect(sparse.sectionRuns).toBe(0);
  });
});
