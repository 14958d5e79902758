/**
 * Platform profiles: the `arch/` of the model.
 *
 * In the kernel, mm/ is generic and arch/ answers its questions: how big is
 * a page (`PAGE_SHIFT`), a section (`SECTION_SIZE_BITS`), the physical
 * address space (`MAX_PHYSMEM_BITS`); which zones exist (`CONFIG_ZONE_DMA`,
 * `CONFIG_ZONE_DMA32`); how the vmemmap is mapped (`vmemmap_populate()`);
 * how large a memory block is (`memory_block_size_bytes()`); whether the
 * memmap of hot-added memory may live on that memory
 * (`ARCH_MHP_MEMMAP_ON_MEMORY_ENABLE`); how finely device memory may be
 * remapped (`memremap_compat_align()`).
 *
 * zonedev's packages ask the same questions through interfaces of their own
 * (each package names only what it needs):
 *
 * ```
 *   package              interface        answered here by
 *   -------------------  ---------------  -----------------------------------
 *   @zonedev/kernel      ResourceTree-    resources: iomem_resource.end,
 *                        Options          MAX_PHYSMEM_BITS, PA_SECTION_SHIFT
 *   @zonedev/mmzone      MmArchConfig     mm: page/section sizes, zones,
 *                                         NODES_SHIFT, MAX_ORDER, pageblocks
 *   @zonedev/sparse-     SparseArch       sparse: VMEMMAP_START, PMD size,
 *     vmemmap                             vmemmap page size, populate kind
 *   @zonedev/memory-     HotplugArch      hotplug(): block size (probed from
 *     hotplug                             what boot found), memmap_on_memory,
 *                                         max_pfn, probe, phys -> nid
 *   @zonedev/memremap    MemremapArch     memremap: compat align, PAGE_OFFSET
 * ```
 *
 * A {@link PlatformProfile} bundles the answers of one architecture in one
 * MMU configuration (x86_64 with 4- or 5-level paging, powerpc64 with the
 * hash or the radix MMU). Everything except the memory block size is known
 * at build time; the block size depends on what boot found (the end of boot
 * memory on x86, the device tree on pseries), so {@link PlatformProfile.hotplug}
 * is handed those facts once boot has them.
 */
import type { ResourceTreeOptions } from '@zonedev/kernel';
import type { HotplugArch } from '@zonedev/memory-hotplug';
import type { MemremapArch } from '@zonedev/memremap';
import type { MmArchConfig } from '@zonedev/mmzone';
import type { SparseArch } from '@zonedev/sparse-vmemmap';

/**
 * The platforms the model boots: `x86_64` (QEMU `pc` with SeaBIOS, arch/x86)
 * and `powerpc` (QEMU `pseries`, powerpc64le book3s, arch/powerpc).
 *
 * @public
 */
export type Platform = 'x86_64' | 'powerpc';

/**
 * The MMU configuration of a profile: x86_64 4-level paging (46 physical
 * bits) or 5-level paging (LA57, 52 bits); powerpc64 book3s hash MMU or
 * radix MMU.
  *
  * @public
 */
export type MmuMode = '4level' | '5level' | 'hash' | 'radix';

/**
 * The MMU modes of each platform, the default first.
 *
 * @public
 */
export const MMU_MODES: Readonly<Record<Platform, readonly MmuMode[]>> = {
  x86_64: ['4level', '5level'],
  powerpc: ['hash', 'radix'],
};

/**
 * What boot found that the memory block size depends on.
 *
 * @public
 */
export interface HotplugBootFacts {
  /** `max_pfn` at the end of boot (x86's `probe_memory_block_size()` reads it). */
  readonly maxPfn: number;
  /** pseries: `ibm,lmb-size` of the device tree, or the size pseries falls back to. */
  readonly lmbSize?: number | undefined;
  /** `memory_add_physaddr_to_nid()`: the node of a hot-added address. */
  readonly physaddrToNid?: (addr: number) => number;
  /** Where `pr_info()` of the probe goes (x86 prints `x86/mm: Memory block size: ...`). */
  readonly log?: (line: string) => void;
}

/**
 * One architecture in one MMU configuration, as every package needs it.
 *
 * @public
 */
export interface PlatformProfile {
  /** Which platform. */
  readonly platform: Platform;
  /** Which MMU configuration. */
  readonly mmu: MmuMode;
  /** A line for messages: `x86_64 (4-level paging)`. */
  readonly description: string;
  /** `iomem_resource` and the address-space facts of kernel/resource.c. */
  readonly resources: ResourceTreeOptions;
  /** The mm core's build configuration. */
  readonly mm: MmArchConfig;
  /** SPARSEMEM_VMEMMAP's constants and `vmemmap_populate()` kind. */
  readonly sparse: SparseArch;
  /** `memremap_compat_align()` and `PAGE_OFFSET`. */
  readonly memremap: MemremapArch;
  /** `PAGE_OFFSET`: the base of the direct map. */
  readonly pageOffset: bigint;
  /** `MAX_PHYSMEM_BITS`. */
  readonly maxPhysmemBits: number;
  /** Memory hotplug's view of the architecture, given what boot found. */
  hotplug(facts: HotplugBootFacts): HotplugArch;
}
