/**
 * The two architectures as values a consumer can use directly: the profile
 * each platform boots with by default (x86_64: 4-level paging; powerpc64:
 * the hash MMU with 64K pages). The other MMU configurations come from
 * {@link x86Profile} and {@link powerpcProfile}.
 *
 * A profile is a description, not state: the memory block size that depends
 * on what boot found is computed by each call of `hotplug()`, so one profile
 * value serves any number of machines.
 */
import type { PlatformProfile } from './profile.js';
import { x86Profile } from './x86/profile.js';
import { powerpcProfile } from './powerpc/profile.js';

/** Freezes a profile and the configuration objects it carries. */
function frozen(p: PlatformProfile): PlatformProfile {
  Object.freeze(p.resources);
  Object.freeze(p.mm);
  Object.freeze(p.sparse);
  Object.freeze(p.memremap);
  return Object.freeze(p);
}

/**
 * arch/x86 as QEMU's `pc` machine runs it: x86_64 with 4-level paging.
 *
 * - `resources`: 46 physical address bits (`MAX_PHYSMEM_BITS`), sections of
 *   2^27 bytes (`PA_SECTION_SHIFT`), 4 KiB pages.
 * - `mm`: `PAGE_SHIFT` 12, `NODES_SHIFT` 10, `MAX_ORDER` 11, `pageblock_order`
 *   9, `SECTION_SIZE_BITS` 27; ZONE_DMA, ZONE_DMA32 and ZONE_DEVICE
 *   configured (ZONE_NORMAL and ZONE_MOVABLE always are).
 * - `sparse`: `VMEMMAP_START` 0xffffea0000000000, the vmemmap mapped with
 *   2 MiB pages (`vmemmap_populate()` of arch/x86/mm/init_64.c).
 * - `memremap`: no `memremap_compat_align()` of its own (the generic
 *   subsection size, 2 MiB); `PAGE_OFFSET` 0xffff888000000000.
 * - `hotplug()`: `memory_block_size_bytes()` probed from the end of boot
 *   memory (`probe_memory_block_size()`: 128 MiB up to 2 GiB), memmap_on_memory
 *   supported, the `probe` file present.
 *
 * @public
 */
export const x86_64: PlatformProfile = frozen(x86Profile());

/**
 * arch/powerpc as QEMU's `pseries` machine runs it: powerpc64 book3s with the
 * hash MMU and 64 KiB pages.
 *
 * - `resources`: 51 physical address bits, sections of 2^24 bytes (16 MiB),
 *   64 KiB pages.
 * - `mm`: `PAGE_SHIFT` 16, `NODES_SHIFT` 8, `MAX_ORDER` 9, `pageblock_order`
 *   8, `SECTION_SIZE_BITS` 24; no ZONE_DMA or ZONE_DMA32; ZONE_DEVICE.
 * - `sparse`: `VMEMMAP_START` 0xc00c000000000000, the vmemmap mapped with
 *   16 MiB pages (the hash MMU's `mmu_vmemmap_psize`).
 * - `memremap`: `memremap_compat_align()` 16 MiB (the hash MMU's linear-map
 *   page size); `PAGE_OFFSET` 0xc000000000000000.
 * - `hotplug()`: the memory block size is the device tree's `ibm,lmb-size`
 *   (`pseries_memory_block_size()`), no memmap_on_memory, the `probe` file
 *   present.
 *
 * @public
 */
export const powerpc: PlatformProfile = frozen(powerpcProfile());
