/**
 * `@zonedev/memory-hotplug` — mirrors mm/memory_hotplug.c,
 * drivers/base/memory.c, the memory-block half of drivers/base/node.c,
 * include/linux/memory_hotplug.h, include/linux/memory.h and
 * lib/memory-notifier-error-inject.c (Linux v5.13).
 *
 * This package owns `add_memory*`/`remove_memory*`, `arch_add_memory()` and
 * `__add_pages()`/`__remove_pages()`, zone choice, `move_pfn_range_to_zone()`,
 * online/offline with page migration, memmap_on_memory, the memory block
 * devices and their sysfs, the memory notifier chain, and `max_pfn`.
 * Architecture facts come in through {@link HotplugArch}.
 *
 * A machine composes it last among the memory layers:
 *
 * ```ts
 * const kernel = new Kernel();
 * const mm = new MmCore({ kernel, config });          // @zonedev/mmzone
 * const sparse = new SparseMemory({ kernel, arch, allocator, memmap }); // @zonedev/sparse-vmemmap
 * // boot: sparse.sparseInit(memblock), mm.bootMemory(...)
 * const hotplug = new MemoryHotplug({ kernel, mm, sparse, arch: hotplugArch });
 * hotplug.memoryHotplugInit();                         // memory_dev_init(), node_dev_init()
 * hotplug.addMemory(0, 0x100000000, 0x8000000);        // ACPI hot-add of 128 MiB
 * ```
 *
 * @packageDocumentation
 */

// --- include/linux/memory_hotplug.h, include/linux/range.h (the architecture interface, mhp_params, MHP_* flags)
export { MHP_NONE, MHP_MERGE_RESOURCE, MHP_MEMMAP_ON_MEMORY } from './arch.js';
export type { HotplugArch, MhpParams, MhpFlags, Pgprot } from './arch.js';

// --- mm/memory_hotplug.c
export { MemoryHotplug } from './memory-hotplug.js';
export type { MemoryHotplugOptions, LinearMapping } from './memory-hotplug.js';

// --- drivers/base/memory.c, include/linux/memory.h (memory blocks and their sysfs)
export {
  MemoryBlock,
  MemorySubsystem,
  MEM_STATE_ONLINE,
  MEM_STATE_GOING_OFFLINE,
  MEM_STATE_OFFLINE,
  MMOP_OFFLINE,
  MMOP_ONLINE,
  MMOP_ONLINE_KERNEL,
  MMOP_ONLINE_MOVABLE,
  ONLINE_TYPE_TO_STR,
  mhpOnlineTypeFromStr,
} from './memory.js';
export type { OnlineType, MemoryBlockHost } from './memory.js';

// --- include/linux/memory.h (the memory notifier chain), lib/memory-notifier-error-inject.c
export {
  MEM_ONLINE,
  MEM_GOING_OFFLINE,
  MEM_OFFLINE,
  MEM_GOING_ONLINE,
  MEM_CANCEL_ONLINE,
  MEM_CANCEL_OFFLINE,
  MEM_EVENT_NAMES,
  MemoryNotifierErrorInject,
} from './memory-notifier.js';
export type { MemoryNotify } from './memory-notifier.js';

// --- drivers/base/node.c, include/linux/nodemask.h (node devices and node states)
export { NodeSubsystem, formatNodeList } from './node.js';
export type { NodeState, NodeLinkedBlock } from './node.js';

// --- drivers/acpi/acpi_memhotplug.c (the hot-add path of a DIMM)
export { acpiMemoryEnableDevice } from './acpi.js';
