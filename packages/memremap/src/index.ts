/**
 * `@zonedev/memremap` — mirrors mm/memremap.c, include/linux/memremap.h,
 * include/linux/pfn_t.h, the ZONE_DEVICE page references of
 * include/linux/mm.h and mm/swap.c, and `memmap_init_zone_device()` of
 * mm/page_alloc.c (Linux v5.13).
 *
 * This package owns `dev_pagemap`, the memory types,
 * `memremap_pages`/`memunmap_pages`, `get_dev_pagemap`/`put_dev_pagemap`,
 * ZONE_DEVICE page refcounts and `page_free`. It sits on memory hotplug, and
 * names what it needs from the layers below in narrow interfaces
 * (interfaces.ts) that a machine's real objects satisfy:
 *
 * ```ts
 * const memremap = new Memremap({ kernel, mm, hotplug });   // MmCore, MemoryHotplug
 * const pgmap = new DevPagemap({ type: MEMORY_DEVICE_GENERIC, range: { start, end } });
 * memremap.memremapPages(pgmap, 0);
 * await memremap.memunmapPages(pgmap);                      // settles when the last page is put
 * ```
 *
 * The exports are grouped by the kernel file each group mirrors.
 *
 * @packageDocumentation
 */

// --- include/linux/memremap.h: memory types, dev_pagemap and its ops
export {
  MemoryType,
  MEMORY_DEVICE_PRIVATE,
  MEMORY_DEVICE_FS_DAX,
  MEMORY_DEVICE_GENERIC,
  MEMORY_DEVICE_PCI_P2PDMA,
  PGMAP_ALTMAP_VALID,
  DevPagemap,
  memoryTypeName,
  pgmapAltmap,
} from './pagemap.js';
export type { DevPagemapInit, DevPagemapOps } from './pagemap.js';

// --- include/linux/mm.h, mm_types.h: the fault context of migrate_to_ram, mm's (the HMM-v25 review: no page-table types)
export { VM_FAULT_OOM, VM_FAULT_SIGBUS } from '@zonedev/mm';
export type { VmFault, VmFaultT } from '@zonedev/mm';


// --- mm/memremap.c, mm/page_alloc.c (memmap_init_zone_device), include/linux/mm.h and mm/swap.c (ZONE_DEVICE page refs)
export { Memremap } from './memremap.js';
export type { MemremapOptions, PagemapPhase } from './memremap.js';

// --- what memremap needs from mmzone, memory-hotplug and the architecture
export type { MemremapArch, MemremapConfig, MemremapHotplug, MemremapMm, ZoneDevicePageStore } from './interfaces.js';

// --- include/linux/pfn_t.h
export {
  PFN_SG_CHAIN,
  PFN_SG_LAST,
  PFN_DEV,
  PFN_MAP,
  PFN_SPECIAL,
  PFN_FLAGS_TRACE,
  pfnFlagsMask,
  __pfnToPfnT,
  pfnToPfnT,
  physToPfnT,
  pfnTVal,
  pfnTHasPage,
  pfnTToPfn,
  pfnTToPage,
  pfnTToPhys,
  pageToPfnT,
  pfnTDevmap,
  pfnTSpecial,
  formatPfnT,
} from './pfn-t.js';
export type { PfnT } from './pfn-t.js';
