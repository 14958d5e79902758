// The minimal memblock and memory_present's edges.
import { Kernel, SZ_128M, SZ_16M, SZ_1G, SZ_2M } from '@zonedev/kernel';
import { describe, expect, it } from 'vitest';
import { BootMemblock, SparseMemory, vmemAltmap } from '../src/index.js';
import { FakeBuddy, PPC64_HASH, X86_64, expectErrno, machine } from './helpers.js';

describe('BootMemblock', () => {
  function twoNodes(): BootMemblock {
    const m = new BootMemblock(12);
    m.addMemory(0, SZ_1G, 0);
    m.addMemory(SZ_1G, SZ_1G, 1);
    return m;
  }

  it('allocates top-down on the node, aligned, above min_addr', () => {
    const m = twoNodes();
    expect(m.allocRaw(SZ_2M, SZ_2M, SZ_16M, 0, true)).toBe(SZ_1G - SZ_2M);
    expect(m.allocRaw(SZ_2M, SZ_2M, SZ_16M, 0, true)).toBe(SZ_1G - 2 * SZ_2M);
    expect(m.allocRaw(4096, 4096, 0, 1, true)).toBe(2 * SZ_1G - 4096);
    expect(m.allocRaw(SZ_2M, SZ_2M, 0, 1, true)).toBe(2 * SZ_1G - 2 * SZ_2M); // the 4 KiB forced it down
    expect(m.isReserved(SZ_1G - 1)).toBe(true);
    expect(m.nidOf(SZ_1G + 5)).toBe(1);
    expect(m.reservedPfnRanges()).toEqual([
      { startPfn: (SZ_1G - 2 * SZ_2M) / 4096, endPfn: SZ_1G / 4096 },
      { startPfn: (2 * SZ_1G - 2 * SZ_2M) / 4096, endPfn: (2 * SZ_1G - SZ_2M) / 4096 },
      { startPfn: (2 * SZ_1G - 4096) / 4096, endPfn: (2 * SZ_1G) / 4096 },
    ]);
  });

  it('retries below min_addr, then (unless exact) on any node', () => {
    const m = twoNodes();
    m.reserve(SZ_16M, SZ_1G - SZ_16M); // node 0: only [4K, 16M) free
    expect(m.allocRaw(SZ_2M, SZ_2M, SZ_16M, 0, true)).toBe(SZ_16M - SZ_2M);
    m.reserve(0, SZ_16M);
    expect(m.allocRaw(SZ_2M, SZ_2M, SZ_16M, 0, true)).toBeUndefined();
    expect(m.allocRaw(SZ_2M, SZ_2M, SZ_16M, 0, false)).toBe(2 * SZ_1G - SZ_2M);
  });

  it('free gives a reservation back; overlapping memory is -EINVAL and changes nothing', () => {
    const m = twoNodes();
    const a = m.allocRaw(SZ_2M, SZ_2M, 0, 0, true)!;
    m.free(a, SZ_2M);
    expect(m.reservedRanges()).toEqual([]);
    expectErrno(() => m.addMemory(SZ_1G - 4096, 8192, 2), 'EINVAL');
    expect(m.memoryRegions()).toEqual([
      { base: 0, size: SZ_1G, nid: 0 },
      { base: SZ_1G, size: SZ_1G, nid: 1 },
    ]);
    expect([...m.memPfnRanges()]).toEqual([
      { startPfn: 0, endPfn: 262144, nid: 0 },
      { startPfn: 262144, endPfn: 524288, nid: 1 },
    ]);
  });
});

describe('memory_present', () => {
  it('clamps ranges beyond MAX_PHYSMEM_BITS and keeps the first node of a shared section', () => {
    const sparse = new SparseMemory({ kernel: new Kernel(), arch: X86_64, allocator: new FakeBuddy([]) });
    const max = 2 ** 34; // pfns below 2^46
    sparse.memoryPresent(0, max - 32768, max + 100);
    expect([...sparse.presentSectionNrs()]).toEqual([2 ** 19 - 1]);
    sparse.memoryPresent(3, max + 5, max + 100); // entirely beyond: nothing
    expect([...sparse.presentSectionNrs()]).toHaveLength(1);
    sparse.memoryPresent(0, 100, 200);
    sparse.memoryPresent(1, 300, SZ_128M / 4096 + 1);
    expect(sparse.nrToSection(0)?.nid).toBe(0);
    expect(sparse.nrToSection(1)?.nid).toBe(1);
    // present and online, but no memmap before sparse_init
    expect(sparse.nrToSection(0)?.sectionMemMap).toBe(0x1 + 0x4);
    expect(sparse.pfnInPresentSection(100)).toBe(true);
    expect(sparse.pfnValid(100)).toBe(false);
  });
});

describe('dynamic debug on powerpc', () => {
  it('prints vmemmap_populate and the altmap fallback lines', () => {
    const { kernel, sparse } = machine(PPC64_HASH, [{ nid: 0, startPfn: 0, nrPages: 65536 }], { dynamicDebug: true });
    const base = 1024 * 256;
    sparse.sparseAddSection(0, base, 256, vmemAltmap({ basePfn: base, endPfn: base + 1024 * 256 - 1, free: 10 }));
    expect(kernel.log.dmesg()).toBe(
      '[    0.000000] vmemmap_populate c00c000001000000..c00c000001004000, node 0\n' +
        '[    0.000000] altmap block allocation failed, falling back to system memory\n',
    );
  });
});
