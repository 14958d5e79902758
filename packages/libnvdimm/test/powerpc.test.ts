// drivers/nvdimm/pfn_devs.c (nd_pfn_init, __nvdimm_setup_pfn) and nd.h
// (nd_info_block_reserve) on a 64 KiB-page architecture: powerpc64 with the
// hash MMU (memremap_compat_align() 16 MiB, PMD 16 MiB) and the radix MMU
// (compat 2 MiB, PMD 2 MiB, PUD 1 GiB). The info block reserve is one 64 KiB
// page there, not 8 KiB: the altmap's reserve and free are whole pages.
import { describe, expect, it } from 'vitest';
import { IORESOURCE_BUSY, IORESOURCE_SYSTEM_RAM, Kernel, Resource, SZ_16M, SZ_2M, orBits } from '@zonedev/kernel';
import { MemoryHotplug } from '@zonedev/memory-hotplug';
import { MmCore } from '@zonedev/mmzone';
import { BootMemblock, SparseMemory } from '@zonedev/sparse-vmemmap';
import { Memremap } from '@zonedev/memremap';
import { Libnvdimm, decodeNdPfnSb, ndSbChecksum } from '@zonedev/libnvdimm';
import { GiB, MiB, ND, createFsdax, ndSnapshot, tryRead, tryWrite } from './machine.js';
import type { Machine } from './machine.js';

const UUID = '2f1e3d4c-5b6a-4978-8695-a4b3c2d1e0f9';
const PMEM = 16 * GiB;
const PAGE = 64 * 1024;

/** A 2 GiB powerpc64 machine (64K pages, 16 MiB sections) with a 1 GiB of_pmem region at 16 GiB. */
function ppcMachine(mmu: 'hash' | 'radix'): Machine {
  const hash = mmu === 'hash';
  const kernel = new Kernel({ resources: { physAddrBits: 51, maxPhysmemBits: 51, paSectionShift: 24, pageShift: 16 } });
  const mm = new MmCore({
    kernel,
    config: { name: 'powerpc64', pageShift: 16, nodesShift: 8, maxOrder: 9, pageblockOrder: hash ? 8 : 5, sectionSizeBits: 24, maxPhysmemBits: 51, zoneDma: false, zoneDma32: false, zoneDevice: true },
    nodes: [0],
  });
  const memblock = new BootMemblock(16);
  memblock.addMemory(0, 2 * GiB, 0);
  memblock.reserve(0, 32 * MiB);
  const sparse = new SparseMemory({
    kernel,
    arch: { pageShift: 16, sectionSizeBits: 24, maxPhysmemBits: 51, vmemmapStart: 0xc00c000000000000n, pmdSize: hash ? SZ_16M : SZ_2M, vmemmapPageSize: hash ? SZ_16M : SZ_2M, vmemmapPopulate: 'powerpc', maxDmaAddress: 0 },
    allocator: mm,
    memmap: mm.memmap,
  });
  sparse.sparseInit(memblock);
  const ranges = [...memblock.memPfnRanges()];
  for (const r of ranges) sparse.subsectionMapInit(r.startPfn, r.endPfn - r.startPfn);
  mm.bootMemory(ranges, memblock.reservedPfnRanges());
  kernel.iomem.requestResource(kernel.iomem.root, new Resource({ name: 'System RAM', start: 0, end: 2 * GiB - 1, flags: orBits(IORESOURCE_SYSTEM_RAM, IORESOURCE_BUSY) }));
  const hp = new MemoryHotplug({ kernel, mm, sparse, arch: { name: 'powerpc64', memoryBlockSizeBytes: () => 256 * MiB, mhpMemmapOnMemory: false, addPagesUpdatesMaxPfn: true } });
  hp.memoryHotplugInit();
  const compat = hash ? SZ_16M : SZ_2M;
  const memremap = new Memremap({ kernel, mm, hotplug: hp, arch: { memremapCompatAlign: () => compat, pageOffset: 0xc000000000000000n } });
  const nd = new Libnvdimm({ kernel, mm, memremap, arch: hash ? { hpagePmdSize: SZ_16M, hpagePudSize: undefined } : { hpagePmdSize: SZ_2M, hpagePudSize: GiB } });
  nd.ofPmemRegionProbe({ name: 'pmem', reg: [{ start: PMEM, size: GiB }] });
  return { kernel, mm, sparse, hp, memremap, nd };
}

describe('powerpc64 (64K pages): fsdax on an of_pmem region', () => {
  it('hash MMU: supported alignments 64K and 16M, the region aligned to 16M', () => {
    const m = ppcMachine('hash');
    expect(tryRead(m, `${ND}/pfn0.0/supported_alignments`)).toBe('65536 16777216 \n');
    expect(tryRead(m, `${ND}/pfn0.0/align`)).toBe('16777216\n');
    expect(tryRead(m, `${ND}/region0/align`)).toBe('0x1000000\n');
  });

  for (const align of [PAGE, SZ_16M]) {
    it(`hash MMU, map=dev, align ${align}: the altmap reserves one 64K page for the info block`, () => {
      const m = ppcMachine('hash');
      createFsdax(m, 0, 'pmem', UUID, align);
      expect(tryRead(m, `${ND}/pfn0.0/mode`)).toBe('pmem\n');
      expect(m.kernel.sysfs.exists(`${ND}/pfn0.0/driver`)).toBe(true);
      const raw = m.mm.physmem.read(PMEM + 4096, 4096);
      const sb = decodeNdPfnSb(raw);
      // align = max(64K, 16M): npfns = PHYS_PFN(1G - 8K) = 16383, dataoff = ALIGN(8K + 64 * 16383, 16M) = 16M
      expect(sb).toMatchObject({ versionMajor: 1, versionMinor: 4, dataoff: SZ_16M, npfns: 16128, mode: 2, startPad: 0, endTrunc: 0, align, pageSize: PAGE, pageStructSize: 64 });
      expect(ndSbChecksum(raw, 4088)).toBe(sb.checksum);
      expect(tryRead(m, `${ND}/pfn0.0/resource`)).toBe('0x401000000\n');
      expect(tryRead(m, `${ND}/pfn0.0/size`)).toBe(`${GiB - SZ_16M}\n`);
      const disk = m.nd.disk('pmem0')!;
      expect(disk.capacity).toBe(GiB - SZ_16M);
      expect(disk.daxDirectAccess(0, 1).phys).toBe(PMEM + SZ_16M);
      expect(disk.daxDirectAccess(0, 2 ** 20).nrPages).toBe(16128);
      expect(disk.fsdaxSupported()).toBe(true);
    });
  }

  it('hash MMU, map=mem: data at +16M, the memmap in RAM', () => {
    const m = ppcMachine('hash');
    createFsdax(m, 0, 'ram', UUID, PAGE);
    const sb = decodeNdPfnSb(m.mm.physmem.read(PMEM + 4096, 4096));
    expect(sb).toMatchObject({ dataoff: SZ_16M, npfns: 16128, mode: 1, pageSize: PAGE });
    expect(m.nd.disk('pmem0')!.capacity).toBe(GiB - SZ_16M);
    expect(m.sparse.vmemmapBlocks().filter((b) => b.source === 'altmap')).toEqual([]);
  });

  it('radix MMU, map=dev, align 64K: compat 2M, dataoff 2M, 16352 pfns', () => {
    const m = ppcMachine('radix');
    expect(tryRead(m, `${ND}/pfn0.0/supported_alignments`)).toBe('65536 2097152 1073741824 \n');
    createFsdax(m, 0, 'pmem', UUID, PAGE);
    const sb = decodeNdPfnSb(m.mm.physmem.read(PMEM + 4096, 4096));
    expect(sb).toMatchObject({ dataoff: SZ_2M, npfns: 16352, mode: 2, align: PAGE, pageSize: PAGE });
    const disk = m.nd.disk('pmem0')!;
    expect(disk.capacity).toBe(GiB - SZ_2M);
    expect(disk.daxDirectAccess(0, 1).phys).toBe(PMEM + SZ_2M);
    // the altmap has PHYS_PFN(2M - 64K) = 31 free pages, less than one 2 MiB vmemmap block:
    // vmemmap_populate() falls back to system memory for the struct pages
    expect(m.sparse.vmemmapBlocks().filter((b) => b.source === 'altmap')).toEqual([]);
  });

  it('an unsupported alignment is refused with EINVAL and nothing changes', () => {
    const m = ppcMachine('hash');
    const before = ndSnapshot(m);
    expect(tryWrite(m, `${ND}/pfn0.0/align`, `${SZ_2M}\n`)).toBe('EINVAL');
    expect(ndSnapshot(m)).toEqual(before);
  });

  it('a re-enable validates the 64K-page info block and keeps the data', () => {
    const m = ppcMachine('hash');
    createFsdax(m, 0, 'pmem', UUID, PAGE);
    m.nd.disk('pmem0')!.write(0, new TextEncoder().encode('ppc64 fsdax'));
    m.kernel.sysfs.write('/sys/bus/nd/drivers/nd_pmem/unbind', 'pfn0.0');
    expect(m.nd.disk('pmem0')).toBeUndefined();
    m.kernel.sysfs.write('/sys/bus/nd/drivers/nd_pmem/bind', 'pfn0.0');
    expect(new TextDecoder().decode(m.nd.disk('pmem0')!.read(0, 11))).toBe('ppc64 fsdax');
  });
});
