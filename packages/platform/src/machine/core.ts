/**
 * The parts of a booted machine that its components (the QEMU side, the
 * named pages, the pagemaps, /proc) work on: the platform, the kernel and
 * one instance of each memory layer. `Machine` (machine.ts) is the
 * one implementation; the components depend on these interfaces, not on it,
 * so that the composition has no import cycle.
 */
import type { Kernel } from '@zonedev/kernel';
import type { MemoryHotplug } from '@zonedev/memory-hotplug';
import type { Memremap } from '@zonedev/memremap';
import type { MmCore } from '@zonedev/mmzone';
import type { BootMemblock, SparseMemory } from '@zonedev/sparse-vmemmap';
import type { Platform } from '../profile.js';
import type { MachineOptions } from './options.js';
import type { PlatformProfile } from '../profile.js';
import type { PowerpcBootInfo } from './powerpc-setup.js';

/**
 * The platform and the memory layers of one machine.
 *
 * @public
 */
export interface MachineCore {
  /** Which platform booted it. */
  readonly platform: Platform;
  /** What `zonedev run` was asked for. */
  readonly options: MachineOptions;
  /** The architecture. */
  readonly profile: PlatformProfile;
  /** @zonedev/kernel: dmesg, tracer, iomem resource tree, device model and sysfs. */
  readonly kernel: Kernel;
  /** Boot memory (what memblock held when the page allocator took over). */
  readonly memblock: BootMemblock;
  /** @zonedev/mmzone: nodes, zones, memmap, buddy allocator, physical memory. */
  readonly mm: MmCore;
  /** @zonedev/sparse-vmemmap: sections and the vmemmap. */
  readonly sparse: SparseMemory;
  /** @zonedev/memory-hotplug: memory blocks, add/online/offline/remove. */
  readonly hotplug: MemoryHotplug;
  /** @zonedev/memremap: ZONE_DEVICE. */
  readonly memremap: Memremap;
  /** powerpc only: what early boot found (the device tree, the radix linear-map limits). */
  readonly powerpc?: PowerpcBootInfo | undefined;
}
