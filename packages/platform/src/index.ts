/**
 * `@zonedev/platform` — whole machines: the arch/x86 and arch/powerpc
 * profiles that answer every package's architecture questions, QEMU's `pc`
 * and `pseries` hardware (RAM layout, e820 and SRAT, the device tree,
 * pc-dimm and memory backends, NVDIMMs), the firmware-to-kernel hand-off,
 * the guest's hot-plug drivers (ACPI memory device, pseries DLPAR), and
 * `bootMachine()`, which composes one instance of every zonedev subsystem
 * into a booted Linux v5.13 machine.
 *
 * ```ts
 * const m = bootMachine({ ...DEFAULT_MACHINE, slots: 2, maxmem: 2 ** 32 });
 * m.objectAdd('memory-backend-ram,id=mem1,size=128M');
 * m.deviceAdd('pc-dimm,id=dimm1,memdev=mem1');     // the guest's __add_memory() at 4 GiB
 * m.sysfs.write('/sys/devices/system/memory/memory32/state', 'online');
 * console.log(m.procfs.read('/proc/iomem'));
 * ```
 *
 * The package imports no `node:` module: it runs in a browser as it is.
 * Host files behind NVDIMMs are opened by a {@link BackingStoreFactory} the
 * caller passes in.
 *
 * @packageDocumentation
 */

// --- arch/*: the profiles (constants and hooks every package asks for)
export { MMU_MODES } from './profile.js';
export type { Platform, MmuMode, PlatformProfile, HotplugBootFacts } from './profile.js';
export { x86_64, powerpc } from './profiles.js';

// --- arch/x86: memory block size, page offsets
export {
  X86_MIN_MEMORY_BLOCK_SIZE, X86_MAX_BLOCK_SIZE, X86_MEM_SIZE_FOR_LARGE_BLOCK,
  X86_VMEMMAP_START_L4, X86_VMEMMAP_START_L5, X86_PAGE_OFFSET_L4, X86_PAGE_OFFSET_L5,
  probeMemoryBlockSize, memoryBlockSizeLine, x86Profile,
} from './x86/profile.js';
export type { X86BlockSizeInput, X86ProfileOptions } from './x86/profile.js';

// --- arch/powerpc: memory block size, compat alignment
export {
  PPC_MIN_MEMORY_BLOCK_SIZE, PPC_VMEMMAP_START, PPC_PAGE_OFFSET, PPC_MAX_PHYSMEM_BITS,
  pnvMemoryBlockSize, pseriesMemoryBlockSize, ppcMemremapCompatAlign, powerpcProfile,
} from './powerpc/profile.js';
export type { PowerpcProfileOptions } from './powerpc/profile.js';

// --- arch/x86/kernel/e820.c: the firmware memory map and memmap=/mem=
export {
  E820_TYPE_RAM, E820_TYPE_RESERVED, E820_TYPE_ACPI, E820_TYPE_NVS, E820_TYPE_UNUSABLE, E820_TYPE_PMEM,
  E820_TYPE_PRAM, E820_TYPE_SOFT_RESERVED, E820_TYPE_RESERVED_KERN, MAX_ARCH_PFN_X86_64,
  e820TypeName, e820TypeToString, e820PrintTable, e820ParseEarlyParams, e820EndOfRamPfn, e820EndOfLowRamPfn,
  e820ReserveResources,
} from './x86/e820.js';
export type { E820Entry, E820Table, E820Params } from './x86/e820.js';

// --- QEMU hw/i386/pc.c + SeaBIOS: the pc machine's RAM layout and E820
export {
  ACPI_MAX_RAM_SLOTS, PC_MAX_RAM_BELOW_4G, KVM_IDENTITY_BASE, pcMemoryLayout, qemuE820,
  SEABIOS_EBDA, SEABIOS_BIOS, SEABIOS_ROM, SEABIOS_HIGH_TABLES, seabiosE820,
} from './x86/qemu-pc.js';
export type { PcMemoryOptions, PcMemoryLayout } from './x86/qemu-pc.js';

// --- arch/x86 setup_arch(), QEMU's SRAT (hw/i386/acpi-build.c), arch/x86/mm/numa.c
export { PC_NUMA_MEM_ALIGN, qemuSrat, numaCleanupMeminfo } from './machine/x86-setup.js';
export type { SratMemory, NumaMemblk, KernelImage, X86BootInfo } from './machine/x86-setup.js';

// --- QEMU hw/ppc/spapr.c and the flattened device tree (scripts/dtc, arch/powerpc/kernel/prom.c)
export {
  fdtFindNode, fdtGetProp, fdtGetString, fdtMemoryRanges, fdtLmbSize, fdtPmemRegions, printDts,
  SPAPR_MEMORY_BLOCK_SIZE, SPAPR_DEVICE_MEM_ALIGN, SPAPR_LMB_FLAGS_ASSIGNED, SPAPR_LMB_FLAGS_DRC_INVALID,
  SPAPR_LMB_FLAGS_RESERVED, spaprLmbDrcIndex, SPAPR_NUMA_MEM_ALIGN, numaSplit, spaprDeviceTree,
} from './powerpc/fdt.js';
export type { FdtProperty, FdtNode, FdtMemoryRange, FdtPmemRegion, SpaprOptions } from './powerpc/fdt.js';

// --- arch/powerpc early boot (prom.c, mm/numa.c, mm/book3s64/radix_pgtable.c)
export { radixCreatePhysicalMapping } from './machine/powerpc-setup.js';
export type { BootMemoryRange, PowerpcBootInfo, RadixDirectPages } from './machine/powerpc-setup.js';

// --- boot options (QEMU's -m, -M, -object, -device; the kernel command line)
export { DEFAULT_MACHINE, parseQemuSize, parseMemoryOption } from './machine/options.js';
export type { MachineOptions, PmemRegionOption } from './machine/options.js';
export { parseMmCmdline, unknownBootoptionsLine } from './machine/cmdline.js';
export type { MmCmdline } from './machine/cmdline.js';
export {
  MIN_NAMESPACE_LABEL_SIZE, parseMachineOption, parseObjectOption, parseDeviceOption, checkNvdimmOptions,
} from './machine/nvdimm.js';
export type { NvdimmOptions, MemoryBackendFileOption, NvdimmDeviceOption } from './machine/nvdimm.js';
export { BackendError } from './machine/backing.js';
export type { BackingStore, BackingStoreFactory } from './machine/backing.js';

// --- the boot (init/main.c start_kernel()) and the booted machine
export { bootMachine, Machine, LINUX_BANNER } from './machine/machine.js';
export type { BootOptions } from './machine/machine.js';
export type { MachineCore } from './machine/core.js';
export { BootError } from './machine/util.js';
export { QemuError } from './qemu-error.js';
export { Procfs, meminfoShow } from './machine/procfs.js';
export type { DeviceFile } from './machine/devices.js';

// --- QEMU's memory devices and monitor (hw/mem/pc-dimm.c, hw/mem/memory-device.c, monitor/hmp-cmds.c)
export { QemuMachine } from './machine/qemu.js';
export type { MemoryBackend, PcDimm, MonitorResult } from './machine/qemu.js';

// --- what runs on the machine: named pages, device pagemaps, processes and test_hmm
export { KernelPages } from './machine/kernel-pages.js';
export type { NamedPage } from './machine/kernel-pages.js';
export { DevicePagemaps, PGMAP_TYPES } from './machine/pagemaps.js';
export type { DevicePagemap } from './machine/pagemaps.js';
export { MachineHmm, LINUX_RELEASE } from './machine/hmm.js';
export type { HmmProcess, DevicePrivateMapping, HmmParts } from './machine/hmm.js';
export { MachineProcesses } from './machine/processes.js';
export type { MachineProcess, ProcessMapping, ProcessPin } from './machine/processes.js';
