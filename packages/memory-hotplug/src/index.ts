/**
 * `@zonedev/memory-hotplug` — mirrors mm/memory_hotplug.c, drivers/base/memory.c (Linux v5.13).
 *
 * This package owns: `add_memory*`/`remove_memory*`, `__add_pages`, zone choice, memory blocks and their sysfs, online/offline, memmap_on_memory, memory notifiers, `max_pfn`.
 *
 * The public API is filled in by its own issue; until then the entry point is
 * intentionally empty, so nothing here is invented ahead of the kernel model.
 *
 * @packageDocumentation
 */

export {};
