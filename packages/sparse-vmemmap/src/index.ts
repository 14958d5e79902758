/**
 * `@zonedev/sparse-vmemmap` — mirrors mm/sparse.c, mm/sparse-vmemmap.c, include/linux/memremap.h (`vmem_altmap`) (Linux v5.13).
 *
 * This package owns: `mem_section`, subsections, `pfn_valid`/`pfn_to_page`, vmemmap population from RAM or from a `vmem_altmap`, memmap accounting.
 *
 * The public API is filled in by its own issue; until then the entry point is
 * intentionally empty, so nothing here is invented ahead of the kernel model.
 *
 * @packageDocumentation
 */

export {};
