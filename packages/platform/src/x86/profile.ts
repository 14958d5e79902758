/**
 * The x86_64 profile: what arch/x86 tells mm/ (Linux v5.13).
 *
 * ```
 *   PAGE_SHIFT 12 (4 KiB)            SECTION_SIZE_BITS 27 (128 MiB)
 *   MAX_PHYSMEM_BITS 46 (4-level)    52 with 5-level paging (LA57)
 *   zones DMA (< 16 MiB), DMA32 (< 4 GiB), Normal, Movable, Device
 *   vmemmap in 2 MiB PMD pages       VMEMMAP_START 0xffffea0000000000 (4-level)
 *   memremap_compat_align  2 MiB     (the generic SUBSECTION_SIZE)
 *   memory block 128 MiB .. 2 GiB    probe_memory_block_size()
 *   memmap_on_memory       yes       ARCH_MHP_MEMMAP_ON_MEMORY_ENABLE
 *   add_pages() moves max_pfn        update_end_of_memory_vars()
 * ```
 *
 * The build configuration is a distribution kernel's: `NODES_SHIFT` 10,
 * `NR_CPUS` 8192 (13 bits), NUMA balancing (LAST_CPUPID in `page->flags`),
 * PAT (`PG_uncached`), memory failure (`PG_hwpoison`), `MAX_ORDER` 11 and
 * `pageblock_order` 9 (2 MiB pageblocks).
 *
 * The memory block size is the one x86 decision that depends on the
 * machine. `probe_memory_block_size()` (arch/x86/mm/init_64.c) keeps the
 * minimum, one section, on machines with less than 64 GiB of boot memory;
 * on bigger bare-metal machines it takes the maximum, 2 GiB, to have fewer
 * block devices; under a hypervisor it takes the largest size that divides
 * the end of boot memory, so that memory the hypervisor hot-plugs later
 * (right after it) starts on a block boundary:
 *
 * ```
 *   boot memory end      bare metal   guest (X86_FEATURE_HYPERVISOR)
 *   < 64 GiB             128 MiB      128 MiB
 *   65 GiB               2 GiB        1 GiB   (65 GiB is 1 GiB-aligned)
 *   64.5 GiB             2 GiB        512 MiB
 * ```
 */
import { KernelError, SZ_128M, SZ_16M, SZ_2G, SZ_2M, SZ_64G, checkUnsigned, isAligned } from '@zonedev/kernel';
import type { HotplugArch } from '@zonedev/memory-hotplug';
import type { MmArchConfig } from '@zonedev/mmzone';
import type { SparseArch } from '@zonedev/sparse-vmemmap';
import type { HotplugBootFacts, PlatformProfile } from '../profile.js';
import { argObject, argOneOf } from '../args.js';

/**
 * `MIN_MEMORY_BLOCK_SIZE`: one section (128 MiB).
 *
 * @public
 */
export const X86_MIN_MEMORY_BLOCK_SIZE: number = SZ_128M;
/**
 * `MAX_BLOCK_SIZE` (arch/x86/mm/init_64.c): 2 GiB.
 *
 * @public
 */
export const X86_MAX_BLOCK_SIZE: number = SZ_2G;
/**
 * `MEM_SIZE_FOR_LARGE_BLOCK`: below 64 GiB of boot memory blocks stay minimal.
 *
 * @public
 */
export const X86_MEM_SIZE_FOR_LARGE_BLOCK: number = SZ_64G;

/**
 * What `probe_memory_block_size()` looks at.
 *
 * @public
 */
export interface X86BlockSizeInput {
  /** `max_pfn << PAGE_SHIFT`: the end of boot memory. */
  readonly bootMemEnd: number;
  /** `boot_cpu_has(X86_FEATURE_HYPERVISOR)`: running as a guest. */
  readonly hypervisor: boolean;
  /** `set_memory_block_size` (UV platforms set it; 0 = not set). */
  readonly setMemoryBlockSize?: number;
}

/**
 * `probe_memory_block_size()` of arch/x86/mm/init_64.c (v5.13): a size set
 * by the platform wins; below 64 GiB of boot memory, the minimum (128 MiB);
 * on bare metal, the maximum (2 GiB); under a hypervisor, the largest power
 * of two from 2 GiB down to 128 MiB that divides the end of boot memory.
  *
  * @public
 */
export function probeMemoryBlockSize(input: X86BlockSizeInput): number {
  if (typeof input !== 'object' || input === null) throw new KernelError('EINVAL', `probe_memory_block_size: invalid input ${String(input)}`);
  checkUnsigned('probe_memory_block_size', 'boot_mem_end', input.bootMemEnd);
  if (input.setMemoryBlockSize !== undefined) checkUnsigned('probe_memory_block_size', 'set_memory_block_size', input.setMemoryBlockSize);
  if (input.setMemoryBlockSize !== undefined && input.setMemoryBlockSize !== 0) return input.setMemoryBlockSize;
  if (input.bootMemEnd < X86_MEM_SIZE_FOR_LARGE_BLOCK) return X86_MIN_MEMORY_BLOCK_SIZE;
  if (!input.hypervisor) return X86_MAX_BLOCK_SIZE;
  let bz = X86_MAX_BLOCK_SIZE;
  for (; bz > X86_MIN_MEMORY_BLOCK_SIZE; bz /= 2) {
    if (isAligned(input.bootMemEnd, bz)) break;
  }
  return bz;
}

/**
 * The line `probe_memory_block_size()` prints: `x86/mm: Memory block size: 128MB`.
 *
 * @public
 */
export function memoryBlockSizeLine(bz: number): string {
  checkUnsigned('probe_memory_block_size', 'bz', bz);
  return `x86/mm: Memory block size: ${Math.floor(bz / 2 ** 20)}MB`;
}

/**
 * Options of the x86_64 profile.
 *
 * @public
 */
export interface X86ProfileOptions {
  /** `'4level'` (default) or `'5level'` paging. */
  readonly mmu?: '4level' | '5level';
  /** A guest under a hypervisor (QEMU/KVM: yes, the default). */
  readonly hypervisor?: boolean;
}

/**
 * `VMEMMAP_START` with 4-level paging.
 *
 * @public
 */
export const X86_VMEMMAP_START_L4 = 0xffffea0000000000n;
/**
 * `VMEMMAP_START` with 5-level paging.
 *
 * @public
 */
export const X86_VMEMMAP_START_L5 = 0xffd4000000000000n;
/**
 * `PAGE_OFFSET` (`__PAGE_OFFSET_BASE_L4`).
 *
 * @public
 */
export const X86_PAGE_OFFSET_L4 = 0xffff888000000000n;
/**
 * `PAGE_OFFSET` with 5-level paging (`__PAGE_OFFSET_BASE_L5`).
 *
 * @public
 */
export const X86_PAGE_OFFSET_L5 = 0xff11000000000000n;

/**
 * The x86_64 profile.
 *
 * @public
 */
export function x86Profile(options: X86ProfileOptions = {}): PlatformProfile {
  argObject('x86Profile', 'options', options);
  if (options.mmu !== undefined) argOneOf('x86Profile', 'mmu', options.mmu, ['4level', '5level']);
  if (options.hypervisor !== undefined && typeof options.hypervisor !== 'boolean') argOneOf('x86Profile', 'hypervisor', options.hypervisor, ['true', 'false']);
  const mmu = options.mmu ?? '4level';
  const hypervisor = options.hypervisor ?? true;
  const bits = mmu === '5level' ? 52 : 46;
  const mm: MmArchConfig = {
    name: 'x86_64',
    pageShift: 12,
    nodesShift: 10,
    maxOrder: 11,
    pageblockOrder: 9,
    sectionSizeBits: 27,
    maxPhysmemBits: bits,
    zoneDma: true,
    zoneDma32: true,
    zoneDevice: true,
    numaBalancing: true,
    nrCpusBits: 13,
    archUsesPgUncached: true,
    memoryFailure: true,
    nrCpus: 1,
  };
  const sparse: SparseArch = {
    pageShift: 12,
    sectionSizeBits: 27,
    maxPhysmemBits: bits,
    vmemmapStart: mmu === '5level' ? X86_VMEMMAP_START_L5 : X86_VMEMMAP_START_L4,
    pmdSize: SZ_2M,
    vmemmapPageSize: SZ_2M,
    vmemmapPopulate: 'x86_64',
    maxDmaAddress: SZ_16M,
  };
  const pageOffset = mmu === '5level' ? X86_PAGE_OFFSET_L5 : X86_PAGE_OFFSET_L4;
  return {
    platform: 'x86_64',
    mmu,
    description: `x86_64 (${mmu === '5level' ? '5-level' : '4-level'} paging)`,
    resources: { physAddrBits: bits, maxPhysmemBits: bits, paSectionShift: 27, pageShift: 12 },
    mm,
    sparse,
    // No CONFIG_ARCH_HAS_MEMREMAP_COMPAT_ALIGN: the generic SUBSECTION_SIZE.
    memremap: { pageOffset },
    pageOffset,
    maxPhysmemBits: bits,
    hotplug(facts: HotplugBootFacts): HotplugArch {
      let probed = 0;
      return {
        name: 'x86_64',
        // memory_block_size_bytes(): probed once, on first use.
        memoryBlockSizeBytes: (): number => {
          if (probed === 0) {
            probed = probeMemoryBlockSize({ bootMemEnd: facts.maxPfn * 4096, hypervisor });
            facts.log?.(memoryBlockSizeLine(probed));
          }
          return probed;
        },
        mhpMemmapOnMemory: true,
        addPagesUpdatesMaxPfn: true,
        memoryProbe: true,
        memoryAddPhysaddrToNid: (addr: number): number => facts.physaddrToNid?.(addr) ?? 0,
      };
    },
  };
}
