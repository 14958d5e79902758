/**
 * `@zonedev/sparse-vmemmap` — mirrors mm/sparse.c, mm/sparse-vmemmap.c and
 * the `vmem_altmap` half of include/linux/memremap.h (Linux v5.13), with the
 * vmemmap_populate()/vmemmap_free() of arch/x86/mm/init_64.c and
 * arch/powerpc/mm/init_64.c.
 *
 * This package owns `mem_section`, subsections, `pfn_valid()`/`pfn_to_page()`,
 * vmemmap population from RAM or from a `vmem_altmap`, and memmap
 * accounting. Architecture constants come in through {@link SparseArch}; the
 * page allocator, the struct-page store and boot memory through the narrow
 * interfaces of interfaces.ts.
 *
 * @packageDocumentation
 */

// --- include/linux/mmzone.h (SPARSEMEM constants, derived from an architecture)
export { SUBSECTION_SHIFT, SIZEOF_MEM_SECTION, SIZEOF_STRUCT_PAGE, sparseLayout } from './layout.js';
export type { SparseArch, SparseLayout, VmemmapPopulateKind } from './layout.js';

// --- include/linux/mmzone.h (struct mem_section, struct mem_section_usage)
export {
  SECTION_MARKED_PRESENT,
  SECTION_HAS_MEM_MAP,
  SECTION_IS_ONLINE,
  SECTION_IS_EARLY,
  SECTION_TAINT_ZONE_DEVICE,
  SECTION_MAP_LAST_BIT,
  presentSection,
  validSection,
  earlySection,
  onlineSection,
  onlineDeviceSection,
} from './mem-section.js';
export type { MemSection, MemSectionUsage } from './mem-section.js';
export type { SubsectionBitmap } from './bitmap.js';

// --- mm/sparse.c (and pfn_valid()/pfn_to_page() of include/linux/mmzone.h)
export { SparseMemory } from './sparse.js';
export type { SparseMemoryOptions, MemmapAccount } from './sparse.js';

// --- the host side of -ENOMEM at the model's allocation points
export { HostMemoryGuard } from './host-memory.js';
export type { HostMemoryGuardOptions, HostMemoryProbe } from './host-memory.js';

// --- mm/sparse-vmemmap.c, arch/{x86,powerpc}/mm/init_64.c (the vmemmap mapping)
export type { VmemmapBlock, VmemmapSource, MemmapPlacement, VmemmapTotals } from './vmemmap.js';

// --- include/linux/memremap.h, mm/sparse-vmemmap.c, mm/memremap.c (struct vmem_altmap)
export { vmemAltmap, vmemAltmapOffset, vmemAltmapFree } from './altmap.js';
export type { VmemAltmap, VmemAltmapInit } from './altmap.js';

// --- the page allocator, struct-page store and memblock as this package uses them
export type { VmemmapPageAllocator, SectionMemmapStore, SparseMemblock, MemPfnRange } from './interfaces.js';

// --- mm/memblock.c (the minimum sparse_init needs)
export { BootMemblock } from './memblock.js';
export type { BootMemblockRegion } from './memblock.js';
