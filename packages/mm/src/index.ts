/**
 * `@zonedev/mm` — the core of mm/ that device memory stands on (Linux v5.13):
 * swap entries as include/linux/swapops.h encodes them, interval MMU
 * notifiers (mm/mmu_notifier.c), and process address spaces with their VMAs
 * (mm/mmap.c, mm/mprotect.c, mm/madvise.c) and /proc/PID/maps
 * (fs/proc/task_mmu.c).
 *
 * The exports are grouped by the kernel file each group mirrors.
 *
 * @packageDocumentation
 */

// --- include/linux/swapops.h, include/linux/swap.h
export {
  BITS_PER_XA_VALUE, MAX_SWAPFILES_SHIFT, SWP_DEVICE_NUM, SWP_MIGRATION_NUM, SWP_HWPOISON_NUM, MAX_SWAPFILES,
  SWP_HWPOISON, SWP_MIGRATION_READ, SWP_MIGRATION_WRITE, SWP_DEVICE_WRITE, SWP_DEVICE_READ,
  SWP_TYPE_SHIFT, SWP_OFFSET_MASK,
  swpEntry, swpEntryFromValue, swpType, swpOffset, nonSwapEntry,
  makeDevicePrivateEntry, makeDevicePrivateEntryRead, isDevicePrivateEntry, isWriteDevicePrivateEntry,
  devicePrivateEntryToPfn,
  makeMigrationEntry, makeMigrationEntryRead, isMigrationEntry, isWriteMigrationEntry, migrationEntryToPfn,
  makeHwpoisonEntry, isHwpoisonEntry,
} from './swapops.js';
export type { SwpEntry } from './swapops.js';

// --- mm/mmu_notifier.c, include/linux/mmu_notifier.h
export {
  MMU_NOTIFY_UNMAP, MMU_NOTIFY_CLEAR, MMU_NOTIFY_PROTECTION_VMA, MMU_NOTIFY_PROTECTION_PAGE,
  MMU_NOTIFY_SOFT_DIRTY, MMU_NOTIFY_RELEASE, MMU_NOTIFY_MIGRATE, MMU_NOTIFIER_RANGE_BLOCKABLE,
  mmuNotifierEventName, mmuNotifierRangeInit, mmuNotifierRangeInitMigrate, mmuNotifierRangeBlockable,
  MmuIntervalNotifier, MmuNotifierSubscriptions,
  mmuIntervalNotifierInsert, mmuIntervalNotifierRemove, mmuIntervalNotifierRemoveWait,
  mmuIntervalReadBegin, mmuIntervalReadBeginAsync, mmuIntervalReadRetry, mmuIntervalCheckRetry, mmuIntervalSetSeq,
  mmuNotifierInvalidateRangeStart, mmuNotifierInvalidateRangeStartNonblock, mmuNotifierInvalidateRangeEnd,
} from './mmu-notifier.js';
export type { MmuNotifierEvent, MmuNotifierMm, MmuNotifierRange, MmuIntervalNotifierOps } from './mmu-notifier.js';

// --- include/linux/mm_types.h, include/linux/mm.h (struct vm_area_struct, VM_* flags)
export {
  VM_NONE, VM_READ, VM_WRITE, VM_EXEC, VM_SHARED, VM_MAYREAD, VM_MAYWRITE, VM_MAYEXEC, VM_MAYSHARE,
  VM_GROWSDOWN, VM_PFNMAP, VM_DENYWRITE, VM_LOCKED, VM_IO, VM_SEQ_READ, VM_RAND_READ, VM_DONTCOPY,
  VM_DONTEXPAND, VM_LOCKONFAULT, VM_ACCOUNT, VM_NORESERVE, VM_HUGETLB, VM_SYNC, VM_WIPEONFORK, VM_DONTDUMP,
  VM_MIXEDMAP, VM_HUGEPAGE, VM_NOHUGEPAGE, VM_MERGEABLE, VM_ACCESS_FLAGS, VM_SPECIAL,
  Vma, calcVmProtBits, exceedsMayFlags,
} from './vma.js';
export type { MmapFile, VmOperations } from './vma.js';

// --- mm/mmap.c, mm/mprotect.c, mm/madvise.c, arch/x86 mmap layout, fs/proc/task_mmu.c
export {
  PROT_NONE, PROT_READ, PROT_WRITE, PROT_EXEC, PROT_SEM,
  MAP_SHARED, MAP_PRIVATE, MAP_TYPE, MAP_FIXED, MAP_ANONYMOUS, MAP_NORESERVE, MAP_FIXED_NOREPLACE,
  MADV_HUGEPAGE, MADV_NOHUGEPAGE,
  PAGE_SHIFT, PAGE_SIZE, TASK_SIZE_4LEVEL, DEFAULT_MMAP_MIN_ADDR, DEFAULT_MAX_MAP_COUNT,
  x86MmapBase, MmStruct, showMapVma,
} from './mm.js';
export type { MmStructOptions, MmapArgs } from './mm.js';
