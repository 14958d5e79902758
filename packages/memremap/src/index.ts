/**
 * `@zonedev/memremap` — mirrors mm/memremap.c, include/linux/memremap.h, include/linux/pfn_t.h (Linux v5.13).
 *
 * This package owns: `dev_pagemap`, memory types, `memremap_pages`/`memunmap_pages`, `get_dev_pagemap`/`put_dev_pagemap`, ZONE_DEVICE page refcounts and `page_free`.
 *
 * The public API is filled in by its own issue; until then the entry point is
 * intentionally empty, so nothing here is invented ahead of the kernel model.
 *
 * @packageDocumentation
 */

export {};
