/**
 * The powerpc64 (book3s, 64 KiB pages) profile: what arch/powerpc tells
 * mm/ (Linux v5.13).
 *
 * ```
 *                          hash MMU (default)        radix MMU
 *   PAGE_SHIFT             16 (64 KiB)               16
 *   SECTION_SIZE_BITS      24 (16 MiB)               24
 *   MAX_PHYSMEM_BITS       51 (H_MAX_PHYSMEM_BITS with 64K pages, VMEMMAP, EXTREME)
 *   zones                  Normal, Movable, Device (no ZONE_DMA on book3s64)
 *   vmemmap page           16 MiB (mmu_vmemmap_psize) 2 MiB
 *   PMD_SIZE               16 MiB                    2 MiB
 *   pageblock_order        8 (HUGETLB_PAGE_ORDER: 16M)  5 (2M)
 *   memremap_compat_align  16 MiB (linear map page)  2 MiB (SUBSECTION_SIZE)
 *   memory block           pseries: ibm,lmb-size     pseries: ibm,lmb-size
 *                          powernv: 256 MiB          powernv: 1 GiB
 *   memmap_on_memory       no (powerpc gains it in v6.5)
 *   add_pages() and max_pfn   max_pfn does not move
 * ```
 *
 * The build configuration is a ppc64le distribution kernel's: `NODES_SHIFT`
 * 8, `NR_CPUS` 2048 (11 bits), NUMA balancing, `MAX_ORDER` 9
 * (`CONFIG_FORCE_MAX_ZONEORDER` for 64K pages).
 *
 * The machine zonedev boots is QEMU's `pseries`: its memory block size is
 * what the device tree says (`pseries_memory_block_size()`), the LMB size
 * of `/ibm,dynamic-reconfiguration-memory` (256 MiB from QEMU), whichever
 * the MMU. The powernv rule (256 MiB hash, 1 GiB radix, because radix maps
 * the linear map with 1 GiB pages) is {@link pnvMemoryBlockSize}.
 */
import { KernelError, SZ_16M, SZ_1G, SZ_256M, SZ_2M, checkUnsigned } from '@zonedev/kernel';
import type { HotplugArch } from '@zonedev/memory-hotplug';
import type { MmArchConfig } from '@zonedev/mmzone';
import type { SparseArch } from '@zonedev/sparse-vmemmap';
import type { HotplugBootFacts, PlatformProfile } from '../profile.js';
import { argObject, argOneOf } from '../args.js';

/**
 * `MIN_MEMORY_BLOCK_SIZE` on powerpc: one 16 MiB section.
 *
 * @public
 */
export const PPC_MIN_MEMORY_BLOCK_SIZE: number = SZ_16M;
/** `SUBSECTION_SIZE`. */
const SUBSECTION_SIZE = SZ_2M;
/**
 * `VMEMMAP_START` (hash 64K and radix alike in v5.13).
 *
 * @public
 */
export const PPC_VMEMMAP_START = 0xc00c000000000000n;
/**
 * `PAGE_OFFSET`.
 *
 * @public
 */
export const PPC_PAGE_OFFSET = 0xc000000000000000n;
/**
 * `MAX_PHYSMEM_BITS` of book3s64 with 64K pages.
 *
 * @public
 */
export const PPC_MAX_PHYSMEM_BITS = 51;

/**
 * `pnv_memory_block_size()` (arch/powerpc/platforms/powernv/setup.c): 1 GiB
 * with radix (the linear map uses 1 GiB pages, and hot-unplug must remove
 * whole ones), 256 MiB with hash.
  *
  * @public
 */
export function pnvMemoryBlockSize(mmu: 'hash' | 'radix'): number {
  argOneOf('pnvMemoryBlockSize', 'mmu', mmu, ['hash', 'radix']);
  return mmu === 'radix' ? SZ_1G : SZ_256M;
}

/**
 * `pseries_memory_block_size()` (arch/powerpc/platforms/pseries/hotplug-memory.c):
 * `ibm,lmb-size` when the tree has `/ibm,dynamic-reconfiguration-memory`;
 * otherwise the size of the memory node that follows `memory@0` (found as
 * `/memory@<size of memory@0>`), or `MIN_MEMORY_BLOCK_SIZE` when there is
 * none.
  *
  * @public
 */
export function pseriesMemoryBlockSize(lmbSize: number | undefined, memoryNodes: readonly { base: number; size: number }[]): number {
  if (lmbSize !== undefined) checkUnsigned('pseries_memory_block_size', 'lmb_size', lmbSize);
  if (!Array.isArray(memoryNodes)) throw new KernelError('EINVAL', `pseries_memory_block_size: invalid memory nodes ${String(memoryNodes)}`);
  if (lmbSize !== undefined) return lmbSize;
  const mem0 = memoryNodes.find((m) => m.base === 0);
  if (mem0 !== undefined && mem0.size !== 0) {
    const next = memoryNodes.find((m) => m.base === mem0.size);
    if (next !== undefined) return next.size;
  }
  return PPC_MIN_MEMORY_BLOCK_SIZE;
}

/**
 * `memremap_compat_align()` of book3s64 (arch/powerpc/mm/book3s64/pgtable.c):
 * with hash, the larger of SUBSECTION_SIZE and the linear map's page size
 * (16 MiB); with radix, SUBSECTION_SIZE.
  *
  * @public
 */
export function ppcMemremapCompatAlign(mmu: 'hash' | 'radix'): number {
  argOneOf('ppcMemremapCompatAlign', 'mmu', mmu, ['hash', 'radix']);
  return mmu === 'hash' ? Math.max(SUBSECTION_SIZE, SZ_16M) : SUBSECTION_SIZE;
}

/**
 * Options of the powerpc profile.
 *
 * @public
 */
export interface PowerpcProfileOptions {
  /** `'hash'` (default) or `'radix'`. */
  readonly mmu?: 'hash' | 'radix';
}

/**
 * The powerpc64 profile.
 *
 * @public
 */
export function powerpcProfile(options: PowerpcProfileOptions = {}): PlatformProfile {
  argObject('powerpcProfile', 'options', options);
  if (options.mmu !== undefined) argOneOf('powerpcProfile', 'mmu', options.mmu, ['hash', 'radix']);
  const mmu = options.mmu ?? 'hash';
  const hash = mmu === 'hash';
  const mm: MmArchConfig = {
    name: 'powerpc64',
    pageShift: 16,
    nodesShift: 8,
    maxOrder: 9,
    pageblockOrder: hash ? 8 : 5,
    sectionSizeBits: 24,
    maxPhysmemBits: PPC_MAX_PHYSMEM_BITS,
    zoneDma: false,
    zoneDma32: false,
    zoneDevice: true,
    numaBalancing: true,
    nrCpusBits: 11,
    memoryFailure: true,
    nrCpus: 1,
  };
  const sparse: SparseArch = {
    pageShift: 16,
    sectionSizeBits: 24,
    maxPhysmemBits: PPC_MAX_PHYSMEM_BITS,
    vmemmapStart: PPC_VMEMMAP_START,
    pmdSize: hash ? SZ_16M : SZ_2M,
    vmemmapPageSize: hash ? SZ_16M : SZ_2M,
    vmemmapPopulate: 'powerpc',
    maxDmaAddress: 0,
  };
  const compat = ppcMemremapCompatAlign(mmu);
  return {
    platform: 'powerpc',
    mmu,
    description: `powerpc64 (${hash ? 'hash' : 'radix'} MMU, 64K pages)`,
    resources: { physAddrBits: PPC_MAX_PHYSMEM_BITS, maxPhysmemBits: PPC_MAX_PHYSMEM_BITS, paSectionShift: 24, pageShift: 16 },
    mm,
    sparse,
    memremap: { memremapCompatAlign: (): number => compat, pageOffset: PPC_PAGE_OFFSET },
    pageOffset: PPC_PAGE_OFFSET,
    maxPhysmemBits: PPC_MAX_PHYSMEM_BITS,
    hotplug(facts: HotplugBootFacts): HotplugArch {
      const bz = facts.lmbSize ?? PPC_MIN_MEMORY_BLOCK_SIZE;
      return {
        name: 'powerpc64',
        memoryBlockSizeBytes: (): number => bz,
        mhpMemmapOnMemory: false,
        addPagesUpdatesMaxPfn: false,
        memoryProbe: true,
        memoryAddPhysaddrToNid: (addr: number): number => facts.physaddrToNid?.(addr) ?? 0,
      };
    },
  };
}
