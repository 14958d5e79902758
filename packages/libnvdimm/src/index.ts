/**
 * `@zonedev/libnvdimm` — mirrors drivers/nvdimm/, drivers/dax/, arch/x86/kernel/pmem.c (Linux v5.13).
 *
 * This package owns: nd bus and providers (e820 legacy pmem, of_pmem), regions, namespaces, claims, pfn/dax/btt devices and their on-media info blocks, the pmem block driver and DAX, devdax and kmem, BTT.
 *
 * The public API is filled in by its own issue; until then the entry point is
 * intentionally empty, so nothing here is invented ahead of the kernel model.
 *
 * @packageDocumentation
 */

export {};
