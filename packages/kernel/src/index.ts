/**
 * `@zonedev/kernel` — the non-mm kernel infrastructure every subsystem of
 * zonedev uses, modelled on Linux v5.13: errno and `KernelError`, size and
 * alignment arithmetic exact up to 2^53, the iomem resource tree, the device
 * core and sysfs, percpu_ref, notifier chains, printk, function-graph tracing
 * and fault injection.
 *
 * The exports are grouped by the kernel file each group mirrors.
 *
 * @packageDocumentation
 */

// --- include/uapi/asm-generic/errno-base.h, errno.h (and glibc strerror)
export { ERRNO, errnoName, strerror, KernelError, isKernelError, KernelBug, isKernelBug } from './errno.js';
export { checkUnsigned, checkPhysRange } from './validate.js';
export type { ErrnoName } from './errno.js';

// --- include/linux/sizes.h, align.h, math.h, pfn.h, log2.h, lib/cmdline.c
export {
  SZ_4K, SZ_8K, SZ_16K, SZ_64K, SZ_128K, SZ_256K, SZ_1M, SZ_2M, SZ_16M, SZ_128M, SZ_256M,
  SZ_1G, SZ_2G, SZ_4G, SZ_8G, SZ_64G,
  bit, testBit, setBit, clearBit, hasBits, anyBits, orBits, clearBits,
  isPowerOf2, ilog2, align, alignDown, isAligned, roundUp, divRoundUp, pfnPhys, physPfn, memparse,
} from './sizes.js';

// --- lib/kstrtox.c
export { kstrtobool, kstrtoull, kstrtoullBig } from './kstrtox.js';

// --- lib/random32.c
export { Prandom } from './random.js';

// --- include/linux/numa.h
export { NUMA_NO_NODE } from './numa.js';

// --- include/linux/range.h
export { rangeLen } from './range.js';
export type { Range } from './range.js';

// --- kernel/printk/printk.c, include/linux/kern_levels.h
export { LOGLEVEL, SimClock, Printk, formatLogTime } from './printk.js';
export type { LogLevel, LogRecord } from './printk.js';

// --- kernel/trace/trace_functions_graph.c
export { Tracer, formatTraceValue, traced, traceMethod } from './trace.js';
export type { TraceEvent } from './trace.js';

// --- lib/fault-inject.c
export { FaultInjection } from './fault-inject.js';
export type { FaultAttr, FaultAttrOptions } from './fault-inject.js';

// --- kernel/resource.c, include/linux/ioport.h
export {
  IORESOURCE_MEM, IORESOURCE_SYSRAM_DRIVER_MANAGED, IORESOURCE_SYSRAM_MERGEABLE, IORESOURCE_BUSY,
  IORESOURCE_SYSTEM_RAM, IORES_DESC_NONE, IORES_DESC_ACPI_TABLES, IORES_DESC_ACPI_NV_STORAGE,
  IORES_DESC_PERSISTENT_MEMORY, IORES_DESC_PERSISTENT_MEMORY_LEGACY, IORES_DESC_RESERVED,
  IORES_DESC_SOFT_RESERVED, REGION_INTERSECTS, REGION_DISJOINT, REGION_MIXED, Resource, ResourceTree,
  formatResource,
} from './resource.js';
export type { ResourceInit, ResourceTreeOptions, ResourceWalkFn } from './resource.js';

// --- drivers/base/ (core.c, bus.c, dd.c, devres.c) and sysfs
export {
  Device, DeviceCore, devName, devToNode, setDevNode, devErr, devWarn, devInfo, devDbg, devmAddAction,
  devmAddActionOrReset, devmReleaseAction, devresList, BUS_NOTIFY_ADD_DEVICE, BUS_NOTIFY_DEL_DEVICE,
  BUS_NOTIFY_REMOVED_DEVICE, BUS_NOTIFY_BIND_DRIVER, BUS_NOTIFY_BOUND_DRIVER, BUS_NOTIFY_UNBIND_DRIVER,
  BUS_NOTIFY_UNBOUND_DRIVER, BUS_NOTIFY_DRIVER_NOT_BOUND,
} from './device.js';
export type {
  DeviceAttribute, AttributeGroup, BusType, DeviceDriver, DeviceType, DeviceOptions, Devres, DeviceCoreOptions,
} from './device.js';
export { Sysfs, sysfsStreq } from './sysfs.js';

// --- fs/debugfs/ (inode.c, file.c)
export {
  DEBUGFS_MOUNTPOINT, debugfsCreateAttribute, debugfsCreateDir, debugfsCreateU16, debugfsCreateU32, debugfsCreateU64, debugfsCreateX32,
  debugfsCreateX64, debugfsRemoveRecursive,
} from './debugfs.js';
export type { DebugfsSetter, DebugfsValue } from './debugfs.js';

// --- include/linux/kdev_t.h, fs/char_dev.c, block/genhd.c (majors), drivers/base/devtmpfs.c
export {
  MINORBITS, MINORMASK, CHRDEV_MAJOR_MAX, CHRDEV_MAJOR_DYN_END, CHRDEV_MAJOR_DYN_EXT_START, CHRDEV_MAJOR_DYN_EXT_END,
  BLKDEV_MAJOR_MAX, MEM_MAJOR, BLOCK_EXT_MAJOR, mkdev, major, minor, formatDevt, DevNumbers, Devtmpfs,
} from './devt.js';
export type { ChrdevRegion, DevtmpfsNode } from './devt.js';
export type { Attribute, SysfsStat } from './sysfs.js';

// --- lib/percpu-refcount.c
export {
  PercpuRef, PERCPU_REF_INIT_ATOMIC, PERCPU_REF_INIT_DEAD, PERCPU_REF_ALLOW_REINIT,
} from './percpu-refcount.js';
export type { PercpuRefFunc } from './percpu-refcount.js';

// --- kernel/notifier.c
export {
  NOTIFY_DONE, NOTIFY_OK, NOTIFY_BAD, NOTIFY_STOP, notifierFromErrno, notifierToErrno, BlockingNotifierHead,
} from './notifier.js';
export type { NotifierFn, NotifierBlock, NotifierHeadOptions } from './notifier.js';

// --- include/linux/completion.h, kernel/sched/completion.c
export { Completion } from './completion.js';

// --- one machine's kernel services
export { Kernel } from './kernel.js';
export type { KernelOptions } from './kernel.js';
