/**
 * What memory hotplug needs from an architecture.
 *
 * mm/memory_hotplug.c is generic; the architecture decides the parts that
 * depend on page tables and firmware. In the kernel these are functions and
 * Kconfig symbols of arch/ (`memory_block_size_bytes()`,
 * `arch_add_memory()`, `arch_get_mappable_range()`,
 * `ARCH_MHP_MEMMAP_ON_MEMORY_ENABLE`, `ARCH_MEMORY_PROBE`); here they are
 * the fields of a {@link HotplugArch} that a platform profile supplies:
 *
 * ```
 *                      x86_64 (v5.13)                  powerpc64 (v5.13)
 *  block size          128 MiB .. 2 GiB               256 MiB (hash) / 1 GiB (radix)
 *  arch_add_memory     init_memory_mapping()          arch_create_linear_mapping()
 *                      + add_pages(): __add_pages()   + __add_pages()
 *                        and max_pfn moves
 *  memmap_on_memory    yes (ARCH_MHP_..._ENABLE)      no (gained in v6.5)
 *  mappable range      [0, 2^MAX_PHYSMEM_BITS)        the linear map's reach
 * ```
 *
 * The generic `arch_add_memory()`/`arch_remove_memory()` of
 * {@link MemoryHotplug} implement both shapes from these facts: the linear
 * (direct) mapping is recorded, `__add_pages()` adds the sections, and
 * `max_pfn` moves when the architecture says so.
 *
 * `max_pfn` and device memory. v5.13's x86 `add_pages()` moves `max_pfn`
 * for every range it adds, device memory included. The 2015 series that
 * introduced ZONE_DEVICE (the 2015 ZONE_DEVICE patches) did not: its
 * `__arch_add_memory()` skipped `update_end_of_memory_vars()` for the device
 * zone. That behaviour is selected by the same named configuration that
 * selects the 2015 `ZONES_SHIFT` budget in mmzone:
 * `MmArchConfig.zonesShiftBudget === '2015'`. What "device memory" is then
 * comes from the 2015 `arch_add_memory(nid, start, size, for_device)`
 * argument, carried here by {@link MhpParams.forDevice}.
 */
import type { Range } from '@zonedev/kernel';
import type { VmemAltmap } from '@zonedev/sparse-vmemmap';

/**
 * `pgprot_t` values the model distinguishes: the kernel's default mapping
 * (`PAGE_KERNEL`, write-back cacheable) and an uncached one
 * (`pgprot_noncached(PAGE_KERNEL)`, which `memremap_pages()` uses for PCI
 * P2PDMA). The kernel's pgprot is a word of page-table bits; the model only
 * needs to tell them apart and to see that one is set.
 * @public
 */
export type Pgprot = 'PAGE_KERNEL' | 'PAGE_KERNEL_NOCACHE';

/**
 * `struct mhp_params` (include/linux/memory_hotplug.h, v5.13): how
 * `arch_add_memory()` / `__add_pages()` should add a range.
 * @public
 */
export interface MhpParams {
  /** Alternative storage for the memmap, at the start of the range (`altmap`). */
  readonly altmap?: VmemAltmap | undefined;
  /** Protection of the linear mapping (`pgprot`); `undefined` is the kernel's zero pgprot, which `__add_pages()` rejects. */
  readonly pgprot: Pgprot | undefined;
  /**
   * The 2015 series' `for_device` argument of `arch_add_memory()` (seed
   * 002): the range is device memory. v5.13 has no such argument; it is
   * only read under the 2015 configuration, where device memory does not
   * move `max_pfn`. Default false.
   */
  readonly forDevice?: boolean;
}

/**
 * What memory hotplug needs from an architecture. A platform profile (or a
 * test) implements it.
 * @public
 */
export interface HotplugArch {
  /** A name for messages, e.g. `x86_64`. */
  readonly name?: string;
  /**
   * `memory_block_size_bytes()`: the size of a memory block, a power of two
   * and a multiple of the section size (x86_64: 128 MiB to 2 GiB,
   * `probe_memory_block_size()`; powernv: 256 MiB hash / 1 GiB radix).
   */
  memoryBlockSizeBytes(): number;
  /**
   * `CONFIG_ARCH_MHP_MEMMAP_ON_MEMORY_ENABLE` (hence
   * `CONFIG_MHP_MEMMAP_ON_MEMORY`): x86_64 and arm64 in v5.13, not powerpc
   * (which gained it in v6.5). Without it the `memmap_on_memory` parameter
   * does not exist and the feature is never used.
   */
  readonly mhpMemmapOnMemory: boolean;
  /**
   * `arch_get_mappable_range()`: the physical range the linear mapping can
   * cover (inclusive). Default: everything (`[0, -1]`), as the weak generic
   * function.
   */
  archGetMappableRange?(): Range;
  /**
   * Whether `arch_add_memory()` moves `max_pfn` (x86_64's `add_pages()` →
   * `update_end_of_memory_vars()`); false on powerpc.
   */
  readonly addPagesUpdatesMaxPfn: boolean;
  /**
   * `CONFIG_ARCH_MEMORY_PROBE`: the `probe` file of
   * /sys/devices/system/memory (x86 and powerpc offer it). Default true.
   */
  readonly memoryProbe?: boolean;
  /**
   * `memory_add_physaddr_to_nid()`: the node a probed address belongs to
   * (x86: from the NUMA meminfo; default node 0).
   */
  memoryAddPhysaddrToNid?(addr: number): number;
  /**
   * `arch_get_memory_phys_device()`: the `phys_device` of a block (always 0
   * in v5.13 on x86 and powerpc). Default 0.
   */
  archGetMemoryPhysDevice?(startPfn: number): number;
}

/**
 * `MHP_NONE` (include/linux/memory_hotplug.h, v5.13): no flags.
 * @public
 */
export const MHP_NONE = 0;

/**
 * `MHP_MERGE_RESOURCE`: merge the new System RAM resource with mergeable
 * neighbours once the add succeeded (virtio-mem).
 * @public
 */
export const MHP_MERGE_RESOURCE = 1;

/**
 * `MHP_MEMMAP_ON_MEMORY`: place the memmap of the added range at its start
 * (commit a08a2ae346). Only allowed when `mhp_supports_memmap_on_memory()`.
 * @public
 */
export const MHP_MEMMAP_ON_MEMORY = 2;

/**
 * `mhp_t`: a combination of the `MHP_*` flags.
 * @public
 */
export type MhpFlags = number;
