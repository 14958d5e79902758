/**
 * `@zonedev/hmm` — mirrors mm/hmm.c, mm/migrate.c (migrate_vma), lib/test_hmm.c, include/linux/swapops.h (Linux v5.13).
 *
 * This package owns: process address spaces and page tables, device-private memory and its swap entries, `migrate_vma_*`, `migrate_to_ram` on CPU fault, `hmm_range_fault`, the dmirror test device.
 *
 * The public API is filled in by its own issue; until then the entry point is
 * intentionally empty, so nothing here is invented ahead of the kernel model.
 *
 * @packageDocumentation
 */

export {};
