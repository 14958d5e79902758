/**
 * The arithmetic of SPARSEMEM: sections, subsections, roots and the vmemmap.
 *
 * SPARSEMEM cuts the physical address space into *sections* of
 * `2^SECTION_SIZE_BITS` bytes (128 MiB on x86_64, 16 MiB on powerpc). A
 * section is the unit in which memory exists or not: each has a `struct
 * mem_section` saying whether it is present, whether it has a memmap (its
 * array of `struct page`), whether it is online. Since v5.3 a section is
 * further cut into *subsections* of `2^SUBSECTION_SHIFT` = 2 MiB, the unit in
 * which ZONE_DEVICE memory may be hot-added (a pmem namespace need not start
 * on a 128 MiB boundary).
 *
 * ```
 *   physical address (x86_64, 4K pages, 46 bits)
 *   45                     27 26          21 20          12 11          0
 *  +-------------------------+--------------+--------------+-------------+
 *  |     section number      |  subsection  | page in sub- | byte offset |
 *  |  (NR_MEM_SECTIONS=2^19) | (64 / sect.) | section (512)|  in page    |
 *  +-------------------------+--------------+--------------+-------------+
 *                            |<------- PFN_SECTION_SHIFT = 15 ------->|
 * ```
 *
 * With SPARSEMEM_EXTREME the `mem_section` array is two-level: an array of
 * `NR_SECTION_ROOTS` pointers to *roots*, each a page holding
 * `SECTIONS_PER_ROOT` = `PAGE_SIZE / sizeof(struct mem_section)` sections,
 * allocated only when a section inside it is first used. A 52-bit x86_64 space
 * has 2^25 sections, and absent ones cost nothing.
 *
 * With SPARSEMEM_VMEMMAP every `struct page` (64 bytes) has a fixed virtual
 * address, `VMEMMAP_START + pfn * 64`, so `pfn_to_page()` is arithmetic; the
 * memmap of a section is the slice of that virtual array its pfns select, and
 * only the slices of present memory are backed by physical frames (see
 * vmemmap.ts).
 *
 * Nothing here is hard-wired to an architecture: the numbers come from a
 * {@link SparseArch} the platform supplies, the way `arch/` headers define
 * them for `mm/`.
 */
import { KernelError, isPowerOf2 } from '@zonedev/kernel';

/**
 * `SUBSECTION_SHIFT` (include/linux/mmzone.h): subsections are 2 MiB on every
 * architecture.
 * @public
 */
export const SUBSECTION_SHIFT = 21;

/**
 * `sizeof(struct mem_section)` in v5.13 without `CONFIG_PAGE_EXTENSION`: the
 * encoded `section_mem_map` and the `usage` pointer, 8 bytes each.
 * @public
 */
export const SIZEOF_MEM_SECTION = 16;

/**
 * `sizeof(struct page)` on a 64-bit kernel (`MAX_STRUCT_PAGE_SIZE` in
 * drivers/nvdimm/nd.h is the same 64).
 * @public
 */
export const SIZEOF_STRUCT_PAGE = 64;

/**
 * How an architecture builds its vmemmap (its `vmemmap_populate()` and
 * `vmemmap_free()`):
 *
 * - `'x86_64'` — arch/x86/mm/init_64.c: a range of at least one section is
 *   mapped with PMD-sized pages (`vmemmap_populate_hugepages`), each from the
 *   altmap if one is given (no fallback: -ENOMEM) or else from RAM, falling
 *   back to base pages from RAM when no PMD-sized block is free; a smaller
 *   (sub-section) range is mapped with base pages from RAM. Teardown frees
 *   PMD blocks once no part of them is in use (`remove_pagetable`).
 * - `'powerpc'` — arch/powerpc/mm/init_64.c: the vmemmap is mapped in pages of
 *   the linear-mapping page size (16 MiB with hash, 2 MiB with radix); each
 *   comes from the altmap when the pages it describes lie inside the altmap's
 *   range, falling back to RAM; a page is skipped when any pfn it describes is
 *   already valid, and freed when none is any more.
 *
 * @public
 */
export type VmemmapPopulateKind = 'x86_64' | 'powerpc';

/**
 * What sparse-vmemmap needs from an architecture. The platform profiles
 * implement it; tests use small ones of their own.
 * @public
 */
export interface SparseArch {
  /** `PAGE_SHIFT`: 12 for 4 KiB pages, 16 for 64 KiB. */
  readonly pageShift: number;
  /** `SECTION_SIZE_BITS` (arch/x86/include/asm/sparsemem.h: 27; powerpc: 24). */
  readonly sectionSizeBits: number;
  /** `MAX_PHYSMEM_BITS`: 46 (52 with 5-level paging on x86_64). */
  readonly maxPhysmemBits: number;
  /** `VMEMMAP_START`, a kernel virtual address (above 2^53, hence a bigint). */
  readonly vmemmapStart: bigint;
  /** `PMD_SIZE` in bytes: 2 MiB on x86_64 and powerpc radix, 16 MiB on powerpc hash 64K. */
  readonly pmdSize: number;
  /**
   * The page size the vmemmap is mapped with when possible: `PMD_SIZE` on
   * x86_64, `1 << mmu_psize_defs[mmu_vmemmap_psize].shift` on powerpc.
   */
  readonly vmemmapPageSize: number;
  /** Which `vmemmap_populate()` the architecture has. */
  readonly vmemmapPopulate: VmemmapPopulateKind;
  /**
   * `__pa(MAX_DMA_ADDRESS)`: the lowest address boot allocations of the
   * memmap prefer (16 MiB on x86_64; 0 where there is no such limit).
   */
  readonly maxDmaAddress: number;
}

/**
 * The constants `include/linux/mmzone.h` derives from an architecture, under
 * their kernel names.
 * @public
 */
export interface SparseLayout {
  /** `PAGE_SHIFT`. */
  readonly PAGE_SHIFT: number;
  /** `PAGE_SIZE` in bytes. */
  readonly PAGE_SIZE: number;
  /** `SECTION_SIZE_BITS`: log2 of a section's size in bytes. */
  readonly SECTION_SIZE_BITS: number;
  /** `PA_SECTION_SHIFT` (= SECTION_SIZE_BITS). */
  readonly PA_SECTION_SHIFT: number;
  /** `PFN_SECTION_SHIFT` = SECTION_SIZE_BITS - PAGE_SHIFT. */
  readonly PFN_SECTION_SHIFT: number;
  /** `PAGES_PER_SECTION` (32768 on x86_64). */
  readonly PAGES_PER_SECTION: number;
  /** `MAX_PHYSMEM_BITS`. */
  readonly MAX_PHYSMEM_BITS: number;
  /** `SECTIONS_SHIFT` = MAX_PHYSMEM_BITS - SECTION_SIZE_BITS. */
  readonly SECTIONS_SHIFT: number;
  /** `NR_MEM_SECTIONS` = 2^SECTIONS_SHIFT. */
  readonly NR_MEM_SECTIONS: number;
  /** `PAGE_SIZE / sizeof(struct mem_section)` (SPARSEMEM_EXTREME). */
  readonly SECTIONS_PER_ROOT: number;
  /** `NR_SECTION_ROOTS` = NR_MEM_SECTIONS / SECTIONS_PER_ROOT, rounded up. */
  readonly NR_SECTION_ROOTS: number;
  /** `SUBSECTION_SHIFT` (21). */
  readonly SUBSECTION_SHIFT: number;
  /** `SUBSECTION_SIZE` (2 MiB). */
  readonly SUBSECTION_SIZE: number;
  /** `PFN_SUBSECTION_SHIFT` = SUBSECTION_SHIFT - PAGE_SHIFT. */
  readonly PFN_SUBSECTION_SHIFT: number;
  /** `PAGES_PER_SUBSECTION` (512 with 4K pages, 32 with 64K). */
  readonly PAGES_PER_SUBSECTION: number;
  /** `SUBSECTIONS_PER_SECTION` (64 on x86_64, 8 on powerpc). */
  readonly SUBSECTIONS_PER_SECTION: number;
  /** `sizeof(struct page)`. */
  readonly STRUCT_PAGE_SIZE: number;
  /** `PMD_SIZE` in bytes. */
  readonly PMD_SIZE: number;
  /** The size of one vmemmap mapping page when mapped large (see {@link SparseArch.vmemmapPageSize}). */
  readonly VMEMMAP_PAGE_SIZE: number;
  /** `VMEMMAP_START`: the virtual address of pfn 0's struct page. */
  readonly VMEMMAP_START: bigint;
  /**
   * `section_map_size()` (mm/sparse.c, SPARSEMEM_VMEMMAP): one section's
   * memmap rounded up to PMD_SIZE, the unit of the boot-time memmap buffer.
   */
  readonly SECTION_MAP_SIZE: number;
}

/**
 * Derives the {@link SparseLayout} of an architecture. Throws a RangeError for
 * an impossible one (the kernel's build-time checks: e.g. "Subsection size
 * exceeds section size" when SECTION_SIZE_BITS < SUBSECTION_SHIFT).
 * @public
 */
export function sparseLayout(arch: SparseArch): SparseLayout {
  if (typeof arch !== 'object' || arch === null) throw new KernelError('EINVAL', `sparse_layout: invalid arch ${String(arch)}`);
  const { pageShift, sectionSizeBits, maxPhysmemBits, pmdSize, vmemmapPageSize } = arch;
  for (const [name, v] of [
    ['pageShift', pageShift],
    ['sectionSizeBits', sectionSizeBits],
    ['maxPhysmemBits', maxPhysmemBits],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 52) throw new RangeError(`${name} must be an integer 0..52, got ${v}`);
  }
  if (sectionSizeBits < SUBSECTION_SHIFT) throw new RangeError('Subsection size exceeds section size');
  if (pageShift > SUBSECTION_SHIFT) throw new RangeError('PAGE_SHIFT exceeds SUBSECTION_SHIFT');
  if (maxPhysmemBits < sectionSizeBits) throw new RangeError('MAX_PHYSMEM_BITS below SECTION_SIZE_BITS');
  const pageSize = 2 ** pageShift;
  if (typeof arch.vmemmapStart !== 'bigint' || arch.vmemmapStart < 0n || arch.vmemmapStart >= 2n ** 64n) {
    throw new KernelError('EINVAL', `sparse_layout: VMEMMAP_START must be a 64-bit address, got ${String(arch.vmemmapStart)}`);
  }
  if (arch.vmemmapPopulate !== 'x86_64' && arch.vmemmapPopulate !== 'powerpc') {
    throw new KernelError('EINVAL', `sparse_layout: no vmemmap_populate() for ${String(arch.vmemmapPopulate)}`);
  }
  if (!Number.isSafeInteger(arch.maxDmaAddress) || arch.maxDmaAddress < 0) {
    throw new KernelError('EINVAL', `sparse_layout: MAX_DMA_ADDRESS must be a physical address, got ${String(arch.maxDmaAddress)}`);
  }
  for (const [name, v] of [
    ['pmdSize', pmdSize],
    ['vmemmapPageSize', vmemmapPageSize],
  ] as const) {
    if (!isPowerOf2(v) || v < pageSize) throw new RangeError(`${name} must be a power of two >= PAGE_SIZE, got ${v}`);
  }
  const pagesPerSection = 2 ** (sectionSizeBits - pageShift);
  const nrMemSections = 2 ** (maxPhysmemBits - sectionSizeBits);
  const sectionsPerRoot = pageSize / SIZEOF_MEM_SECTION;
  const memmapBytes = pagesPerSection * SIZEOF_STRUCT_PAGE;
  return {
    PAGE_SHIFT: pageShift,
    PAGE_SIZE: pageSize,
    SECTION_SIZE_BITS: sectionSizeBits,
    PA_SECTION_SHIFT: sectionSizeBits,
    PFN_SECTION_SHIFT: sectionSizeBits - pageShift,
    PAGES_PER_SECTION: pagesPerSection,
    MAX_PHYSMEM_BITS: maxPhysmemBits,
    SECTIONS_SHIFT: maxPhysmemBits - sectionSizeBits,
    NR_MEM_SECTIONS: nrMemSections,
    SECTIONS_PER_ROOT: sectionsPerRoot,
    NR_SECTION_ROOTS: Math.ceil(nrMemSections / sectionsPerRoot),
    SUBSECTION_SHIFT,
    SUBSECTION_SIZE: 2 ** SUBSECTION_SHIFT,
    PFN_SUBSECTION_SHIFT: SUBSECTION_SHIFT - pageShift,
    PAGES_PER_SUBSECTION: 2 ** (SUBSECTION_SHIFT - pageShift),
    SUBSECTIONS_PER_SECTION: 2 ** (sectionSizeBits - SUBSECTION_SHIFT),
    STRUCT_PAGE_SIZE: SIZEOF_STRUCT_PAGE,
    PMD_SIZE: pmdSize,
    VMEMMAP_PAGE_SIZE: vmemmapPageSize,
    VMEMMAP_START: arch.vmemmapStart,
    SECTION_MAP_SIZE: Math.ceil(memmapBytes / pmdSize) * pmdSize,
  };
}
