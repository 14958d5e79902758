// The vmemmap mapping rules: shared PMDs, multi-PMD sections, powerpc's
// linear-mapping pages, and the function-graph trace of a hot-add.
import { SZ_16K, SZ_16M, SZ_2M, SZ_4K } from '@zonedev/kernel';
import { describe, expect, it } from 'vitest';
import { vmemAltmap } from '../src/index.js';
import { PPC64_HASH, PPC64_RADIX, X86_64, X86_BIG_SECTIONS, X86_SMALL_SECTIONS, expectErrno, machine, snapshot } from './helpers.js';

describe('a PMD shared by two sections (64 MiB sections: 1 MiB of memmap each)', () => {
  const PPS = 16384;

  it('is allocated once, and freed only when both sections are gone', () => {
    const { sparse, buddy } = machine(X86_SMALL_SECTIONS, [{ nid: 0, startPfn: 0, nrPages: 8192 }]);
    const a = 64 * PPS; // section 64; its memmap is the first half of a PMD
    sparse.sparseAddSection(0, a, PPS);
    sparse.sparseAddSection(0, a + PPS, PPS); // section 65: the second half
    expect(sparse.vmemmapBlocks()).toHaveLength(1);
    expect(sparse.vmemmapBlocks()[0]).toMatchObject({ size: SZ_2M, usedBytes: SZ_2M });
    expect(buddy.nrFree()).toBe(8192 - 512);
    expect(sparse.memmapOfSection(64).bytes).toBe(SZ_2M / 2);
    sparse.sparseRemoveSection(a, PPS);
    // partially used: kept (the kernel's PAGE_UNUSED rule)
    expect(sparse.vmemmapBlocks()[0]).toMatchObject({ usedBytes: SZ_2M / 2 });
    expect(buddy.nrFree()).toBe(8192 - 512);
    // the struct pages of the removed section are still backed: the account says so
    expect(sparse.memmapOfSection(64).bytes).toBe(SZ_2M / 2);
    sparse.sparseRemoveSection(a + PPS, PPS);
    expect(sparse.vmemmapBlocks()).toHaveLength(0);
    expect(buddy.nrFree()).toBe(8192);
  });

  it('a re-added section reuses the PMD that outlived it', () => {
    const { sparse, buddy } = machine(X86_SMALL_SECTIONS, [{ nid: 0, startPfn: 0, nrPages: 8192 }]);
    const a = 64 * PPS;
    sparse.sparseAddSection(0, a, PPS);
    sparse.sparseAddSection(0, a + PPS, PPS);
    sparse.sparseRemoveSection(a, PPS);
    sparse.sparseAddSection(0, a, PPS);
    expect(sparse.vmemmapBlocks()).toHaveLength(1);
    expect(sparse.vmemmapBlocks()[0]!.usedBytes).toBe(SZ_2M);
    expect(buddy.log.filter((l) => l.startsWith('alloc'))).toHaveLength(1);
  });
});

describe('a section whose memmap spans two PMDs (256 MiB sections)', () => {
  const PPS = 65536;

  it('fails on the second PMD and gives the first back, altmap align included', () => {
    const { sparse, buddy, store } = machine(X86_BIG_SECTIONS, [{ nid: 0, startPfn: 0, nrPages: 4096 }]);
    const base = 16 * PPS;
    const a = vmemAltmap({ basePfn: base, reserve: 2, free: 510 + 512 + 100 }); // room for one block only
    const before = snapshot(sparse, { buddy, store, altmaps: [a] });
    expectErrno(() => sparse.sparseAddSection(0, base, PPS, a), 'ENOMEM');
    expect(snapshot(sparse, { buddy, store, altmaps: [a] })).toBe(before);
    expect(a).toMatchObject({ alloc: 0, align: 0 });
  });

  it('in RAM: both PMDs from the buddy, 4 MiB of memmap', () => {
    const { sparse, buddy } = machine(X86_BIG_SECTIONS, [{ nid: 0, startPfn: 0, nrPages: 4096 }]);
    sparse.sparseAddSection(0, 16 * PPS, PPS);
    expect(sparse.memmapOfSection(16)).toMatchObject({ bytes: 2 * SZ_2M, placements: [{ source: 'ram', pageSize: SZ_2M, bytes: 2 * SZ_2M }] });
    expect(buddy.nrFree()).toBe(4096 - 1024);
    buddy.allocationsLeft = 1;
    const before = snapshot(sparse, { buddy });
    expectErrno(() => sparse.sparseAddSection(0, 17 * PPS, PPS), 'ENOMEM');
    expect(snapshot(sparse, { buddy })).toBe(before);
  });
});

describe('powerpc (hash, 64K pages): the vmemmap in 16 MiB linear-mapping pages', () => {
  const PPS = 256; // pages per 16 MiB section
  const NODE = { nid: 0, startPfn: 0, nrPages: 65536 }; // 4 GiB of RAM

  it('the first section in a 16 GiB stretch allocates a 16 MiB page; its neighbours share it', () => {
    const { sparse, buddy } = machine(PPC64_HASH, [NODE]);
    const far = 1024 * PPS; // 16 GiB: vmemmap page 1
    sparse.sparseAddSection(0, far, PPS);
    expect(buddy.log).toEqual(['alloc 8 @0x0']); // 16 MiB = 256 pages of 64K: order 8
    expect(sparse.memmapOfSection(1024)).toEqual({
      startPfn: far,
      nrPages: PPS,
      bytes: SZ_16K,
      placements: [{ source: 'ram', nid: 0, altmap: undefined, pageSize: SZ_16M, bytes: SZ_16K }],
    });
    sparse.sparseAddSection(0, far + PPS, PPS);
    sparse.sparseAddSection(0, far + 5 * PPS + 32, 64); // two subsections of a third section
    expect(buddy.log).toHaveLength(1);
    sparse.sparseRemoveSection(far, PPS);
    sparse.sparseRemoveSection(far + PPS, PPS);
    expect(sparse.vmemmapBlocks()).toHaveLength(1); // subsections of section 1029 still valid
    sparse.sparseRemoveSection(far + 5 * PPS + 32, 64);
    expect(sparse.vmemmapBlocks()).toHaveLength(0);
    expect(buddy.nrFree()).toBe(65536);
  });

  it('uses the altmap only when the page describes pfns inside the device, else falls back to RAM', () => {
    const { sparse, buddy } = machine(PPC64_HASH, [NODE]);
    // A 32 GiB device at 16 GiB: its struct pages fill exactly vmemmap pages 1 and 2.
    const base = 1024 * PPS;
    const big = vmemAltmap({ basePfn: base, endPfn: base + 2048 * PPS - 1, free: 512 });
    sparse.sparseAddSection(0, base, PPS, big);
    expect(sparse.vmemmapBlocks()[0]).toMatchObject({ source: 'altmap', pfn: base, size: SZ_16M });
    expect(big).toMatchObject({ alloc: 256, align: 0 });
    // A 1 GiB device at 48 GiB: the page would describe 15 GiB that is not the device's.
    const small = 3072 * PPS;
    const s = vmemAltmap({ basePfn: small, endPfn: small + 64 * PPS - 1, free: 512 });
    sparse.sparseAddSection(0, small, PPS, s);
    expect(s.alloc).toBe(0);
    expect(sparse.memmapOfSection(3072).placements).toEqual([
      { source: 'ram', nid: 0, altmap: undefined, pageSize: SZ_16M, bytes: SZ_16K },
    ]);
    expect(buddy.nrFree()).toBe(65536 - 256);
    sparse.sparseRemoveSection(small, PPS, 0, s);
    sparse.sparseRemoveSection(base, PPS, 0, big);
    expect(big.alloc).toBe(0);
    expect(buddy.nrFree()).toBe(65536);
  });

  it('an altmap too small falls back to RAM instead of failing', () => {
    const { sparse } = machine(PPC64_HASH, [NODE], { dynamicDebug: true });
    const base = 1024 * PPS;
    const a = vmemAltmap({ basePfn: base, endPfn: base + 1024 * PPS - 1, free: 100 });
    sparse.sparseAddSection(0, base, PPS, a);
    expect(sparse.vmemmapBlocks()[0]).toMatchObject({ source: 'ram' });
  });

  it('radix maps the vmemmap with 2 MiB pages (the struct pages of 2 GiB)', () => {
    const { sparse, buddy } = machine(PPC64_RADIX, [NODE]);
    sparse.sparseAddSection(0, 1024 * PPS, PPS);
    expect(buddy.log).toEqual(['alloc 5 @0x0']);
    expect(sparse.memmapOfSection(1024).placements[0]).toMatchObject({ pageSize: SZ_2M, bytes: SZ_16K });
  });

  it('running out of RAM is -ENOMEM, leaving nothing', () => {
    const { sparse, buddy, store } = machine(PPC64_HASH, [NODE]);
    buddy.take(0, 65536 - 200);
    const before = snapshot(sparse, { buddy, store });
    expectErrno(() => sparse.sparseAddSection(0, 1024 * PPS, PPS), 'ENOMEM');
    expect(snapshot(sparse, { buddy, store })).toBe(before);
  });
});

describe('tracing and debug output', () => {
  it('records the call graph of a hot-add while tracing is on, and nothing while it is off', () => {
    const { kernel, sparse } = machine(X86_64, [{ nid: 0, startPfn: 0, nrPages: 4096 }]);
    sparse.sparseAddSection(0, 32768, 32768);
    expect(kernel.tracer.events).toHaveLength(0);
    kernel.tracer.on();
    sparse.sparseAddSection(0, 2 * 32768, 512);
    kernel.tracer.off();
    const text = kernel.tracer.show();
    expect(text).toContain(' 0)   sparse_add_section(0, 0x10000, 0x200, NULL) {');
    expect(text).toContain('    fill_subsection_map(0x10000, 0x200) = 0;');
    expect(text).toContain('vmemmap_populate(0xffffea0000400000, 0xffffea0000408000, 0, NULL) {');
    expect(text).toContain('vmemmap_alloc_block(0x1000, 0) = 0x');
    kernel.tracer.clear();
    kernel.tracer.on();
    expectErrno(() => sparse.sparseAddSection(0, 2 * 32768, 512), 'EEXIST');
    expect(kernel.tracer.show()).toContain('} /* sparse_add_section = -EEXIST */');
    kernel.tracer.clear();
    const a = vmemAltmap({ basePfn: 0x100000, reserve: 2, free: 4606 });
    sparse.sparseAddSection(0, 0x100000, 32768, a);
    sparse.sparseRemoveSection(0x100000, 32768, 0, a);
    expect(kernel.tracer.show().split('\n').slice(4, 16)).toEqual([
      ' 0)   sparse_add_section(0, 0x100000, 0x8000, vmem_altmap(base_pfn=0x100000)) {',
      ' 0)     fill_subsection_map(0x100000, 0x8000) = 0;',
      ' 0)     vmemmap_populate(0xffffea0004000000, 0xffffea0004200000, 0, vmem_altmap(base_pfn=0x100000)) {',
      ' 0)       altmap_alloc_block_buf(0x200000, vmem_altmap(base_pfn=0x100000)) = 0x100200;',
      ' 0)     } /* vmemmap_populate = 0 */',
      ' 0)   }',
      ' 0)   sparse_remove_section(0x100000, 0x8000, 0, vmem_altmap(base_pfn=0x100000)) {',
      ' 0)     section_deactivate(0x100000, 0x8000, vmem_altmap(base_pfn=0x100000)) {',
      ' 0)       vmemmap_free(0xffffea0004000000, 0xffffea0004200000, vmem_altmap(base_pfn=0x100000)) {',
      ' 0)         vmem_altmap_free(vmem_altmap(base_pfn=0x100000), 0x200);',
      ' 0)       }',
      ' 0)     }',
    ]);
  });

  it('prints the pr_debug lines of altmap_alloc_block_buf with dynamic debug on', () => {
    const { kernel, sparse } = machine(X86_64, [{ nid: 0, startPfn: 0, nrPages: 4096 }], { dynamicDebug: true });
    const a = vmemAltmap({ basePfn: 0x100000, reserve: 2, free: 4606 });
    sparse.sparseAddSection(0, 0x100000, 32768, a);
    expect(kernel.log.dmesg()).toBe('[    0.000000] altmap_alloc_block_buf: pfn: 0x100200 alloc: 512 align: 510 nr: 0x200\n');
  });

  it('base pages per subsection: 8 pages of 4 KiB for 2 MiB of memory', () => {
    const { sparse } = machine(X86_64, [{ nid: 0, startPfn: 0, nrPages: 4096 }]);
    sparse.sparseAddSection(0, 32768, 512);
    const blocks = sparse.vmemmapBlocks();
    expect(blocks.map((b) => b.size)).toEqual(Array<number>(8).fill(SZ_4K));
    expect(blocks[0]).toMatchObject({ firstPfn: 32768, nrPfns: 64 });
  });
});
