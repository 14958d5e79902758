// Integration with the real mmzone: its buddy allocator backs hot-added
// memmap, its struct-page store gets a region per valid section, and boot
// goes memblock -> sparse_init -> free_area_init/memblock_free_all.
// This is a contract test: both packages are imported by name.
import { Kernel, SZ_2M, SZ_4K } from '@zonedev/kernel';
import type { MmArchConfig } from '@zonedev/mmzone';
import { GFP_KERNEL, MmCore, __GFP_NOWARN, __GFP_RETRY_MAYFAIL, gfpOr } from '@zonedev/mmzone';
import { BootMemblock, SparseMemory, vmemAltmap } from '@zonedev/sparse-vmemmap';
import type { SectionMemmapStore, SparseArch, VmemmapPageAllocator } from '@zonedev/sparse-vmemmap';
import { describe, expect, it } from 'vitest';
import { X86_64 } from './helpers.js';

const MM_X86_64: MmArchConfig = {
  name: 'x86_64',
  pageShift: 12,
  nodesShift: 10,
  maxOrder: 11,
  pageblockOrder: 9,
  sectionSizeBits: 27,
  maxPhysmemBits: 46,
  zoneDma: true,
  zoneDma32: true,
  zoneDevice: true,
};


/** A 1 GiB x86_64 machine booted the kernel's way, plus 1 GiB on node 1 at 4 GiB. */
function bootMachine(arch: SparseArch = X86_64): { kernel: Kernel; mm: MmCore; sparse: SparseMemory; memblock: BootMemblock } {
  const kernel = new Kernel();
  const mm = new MmCore({ kernel, config: MM_X86_64, nodes: [0, 1] });
  const memblock = new BootMemblock(12);
  memblock.addMemory(0x1000, 0x9e000, 0);
  memblock.addMemory(0x100000, 0x40000000 - 0x100000, 0);
  memblock.addMemory(0x100000000, 0x40000000, 1);
  memblock.reserve(0x1000000, 0x1000000); // the kernel image
  const store: SectionMemmapStore = mm.memmap; // mmzone's MemmapStore fits as it is
  // MmCore is the vmemmap's page allocator as it is: no adapter (checked by tsc).
  const allocator: VmemmapPageAllocator = mm;
  const sparse = new SparseMemory({ kernel, arch, allocator, memmap: store });
  sparse.sparseInit(memblock);
  const ranges = [...memblock.memPfnRanges()];
  for (const r of ranges) sparse.subsectionMapInit(r.startPfn, r.endPfn - r.startPfn);
  mm.bootMemory(ranges, memblock.reservedPfnRanges());
  return { kernel, mm, sparse, memblock };
}

describe('sparse-vmemmap on the real mmzone', () => {
  it('asks the buddy with the kernel GFP mask', async () => {
    const { VMEMMAP_ALLOC_GFP } = await import('../src/interfaces.js');
    expect(VMEMMAP_ALLOC_GFP).toBe(gfpOr(gfpOr(GFP_KERNEL, __GFP_RETRY_MAYFAIL), __GFP_NOWARN));
  });

  it('boots: the memmap is reserved in memblock and never reaches the buddy', () => {
    const { mm, sparse, memblock } = bootMachine();
    expect(mm.memmap.sectionNumbers()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 32, 33, 34, 35, 36, 37, 38, 39]);
    // node 0: 8 sections -> a 16 MiB buffer at the top of its memory; node 1: the same at 5 GiB
    expect(memblock.reservedRanges()).toEqual([
      { base: 0x1000000, size: 0x1000000, nid: -1 },
      { base: 0x40000000 - 16 * 2 ** 20, size: 16 * 2 ** 20, nid: -1 },
      { base: 0x140000000 - 16 * 2 ** 20, size: 16 * 2 ** 20, nid: -1 },
    ]);
    const memoryPages = 0x9e + (0x40000 - 0x100) + 0x40000;
    expect(mm.nrFreePages()).toBe(memoryPages - 4096 - 4096 - 4096);
    expect(sparse.memmapOfSection(33).placements).toEqual([{ source: 'boot', nid: 1, altmap: undefined, pageSize: SZ_2M, bytes: SZ_2M }]);
  });

  it('hot-adding a section takes 2 MiB from the buddy on the node; removing gives it back', () => {
    const { mm, sparse } = bootMachine();
    const free = mm.nrFreePages();
    const pfn = 0x200000; // 8 GiB
    sparse.sparseAddSection(1, pfn, 32768);
    expect(mm.nrFreePages()).toBe(free - 512);
    expect(mm.memmap.hasSection(64)).toBe(true);
    expect(mm.memmap.nrSections).toBe(17);
    expect(sparse.memmapOfSection(64).placements).toEqual([{ source: 'ram', nid: 1, altmap: undefined, pageSize: SZ_2M, bytes: SZ_2M }]);
    const block = sparse.vmemmapBlocks().find((b) => b.source === 'ram')!;
    expect(mm.pagePgdat(block.pfn).nodeId).toBe(1);
    sparse.sparseRemoveSection(pfn, 32768);
    expect(mm.nrFreePages()).toBe(free);
    expect(mm.memmap.hasSection(64)).toBe(false);
  });

  it('fail_page_alloc on the PMD falls back to base pages; failing everything is -ENOMEM with nothing left behind', () => {
    const { kernel, mm, sparse } = bootMachine();
    mm.failPageAlloc.ignoreGfpReclaim = false;
    const free = mm.nrFreePages();
    kernel.faults.configure('fail_page_alloc', { probability: 100, times: 1 });
    sparse.sparseAddSection(0, 0x200000, 32768);
    expect(sparse.memmapOfSection(64).placements).toEqual([{ source: 'ram', nid: 0, altmap: undefined, pageSize: SZ_4K, bytes: SZ_2M }]);
    expect(mm.nrFreePages()).toBe(free - 512);
    kernel.faults.configure('fail_page_alloc', { probability: 100, times: 200 });
    const blocks = sparse.vmemmapBlocks().length;
    expect(() => sparse.sparseAddSection(0, 0x208000, 32768)).toThrow(expect.objectContaining({ errno: 'ENOMEM' }));
    expect(mm.nrFreePages()).toBe(free - 512);
    expect(sparse.vmemmapBlocks()).toHaveLength(blocks);
    expect(mm.memmap.hasSection(65)).toBe(false);
  });

  it('device memory with its memmap in an altmap costs the buddy nothing', () => {
    const { mm, sparse } = bootMachine();
    const free = mm.nrFreePages();
    const base = 0x400000; // 16 GiB
    const a = vmemAltmap({ basePfn: base, endPfn: base + 0x40000 - 1, reserve: 2, free: 4606 });
    for (let i = 0; i < 8; i++) sparse.sparseAddSection(0, base + i * 32768, 32768, a);
    expect(mm.nrFreePages()).toBe(free);
    expect(a.alloc).toBe(4096);
    expect(mm.memmap.nrSections).toBe(24);
    for (let i = 0; i < 8; i++) sparse.sparseRemoveSection(base + i * 32768, 32768, 0, a);
    expect(a.alloc).toBe(0);
    expect(mm.memmap.nrSections).toBe(16);
  });
});
