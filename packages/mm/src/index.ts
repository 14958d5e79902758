/**
 * `@zonedev/mm` — the core of mm/ that device memory stands on (Linux v5.13):
 * swap entries as include/linux/swapops.h encodes them, interval MMU
 * notifiers (mm/mmu_notifier.c), process address spaces with their VMAs
 * (mm/mmap.c, mm/mprotect.c, mm/madvise.c, kernel/fork.c), page tables
 * (include/linux/pgtable.h), faults (mm/memory.c), GUP (mm/gup.c), anonymous
 * rmap (mm/rmap.c), page migration (mm/migrate.c) and /proc/PID/{maps,smaps,
 * status} (fs/proc/task_mmu.c).
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
  x86MmapBase, MmStruct,
} from './mm.js';
export type { MmStructOptions, MmapArgs } from './mm.js';

// --- include/linux/pgtable.h, arch/x86/include/asm/pgtable_types.h: page tables and PTE bits
export {
  _PAGE_PRESENT, _PAGE_RW, _PAGE_USER, _PAGE_PWT, _PAGE_PCD, _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_PSE, _PAGE_GLOBAL,
  _PAGE_SPECIAL, _PAGE_DEVMAP, _PAGE_NX, PAGE_READONLY, PAGE_SHARED, PAGE_READONLY_EXEC, PAGE_SHARED_EXEC,
  PageTable, pagingGeometry, pfnPte, pteNone, ptePresent, isSwapPte, pteToSwpEntry, swpEntryToPte,
  ptePfn, pteWrite, pteDirty, pteYoung, pteSpecial, pteDevmap, pmdHuge,
  pteMkwrite, pteWrprotect, pteMkdirty, pteMkclean, pteMkyoung, pteMkold, pteMkspecial, pteMkdevmap, pmdMkhuge,
  pfnPud, pudMkhuge, pudMkdevmap, pudTransHuge, pudDevmap,
  vmGetPageProt, pteValX86, formatPte,
} from './pgtable.js';
export type { PagingArch, PagingGeometry, Pte, PresentPte, SwapPte, PageWalkEntry } from './pgtable.js';

// --- mm/memory.c, include/linux/mm.h, include/linux/mm_types.h, arch/x86/mm/fault.c: faults
export {
  VM_FAULT_OOM, VM_FAULT_SIGBUS, VM_FAULT_MAJOR, VM_FAULT_WRITE, VM_FAULT_HWPOISON, VM_FAULT_HWPOISON_LARGE,
  VM_FAULT_SIGSEGV, VM_FAULT_NOPAGE, VM_FAULT_LOCKED, VM_FAULT_RETRY, VM_FAULT_FALLBACK, VM_FAULT_DONE_COW,
  VM_FAULT_NEEDDSYNC, VM_FAULT_ERROR,
  FAULT_FLAG_WRITE, FAULT_FLAG_MKWRITE, FAULT_FLAG_ALLOW_RETRY, FAULT_FLAG_RETRY_NOWAIT, FAULT_FLAG_KILLABLE,
  FAULT_FLAG_TRIED, FAULT_FLAG_USER, FAULT_FLAG_REMOTE, FAULT_FLAG_INSTRUCTION, FAULT_FLAG_INTERRUPTIBLE,
  PE_SIZE_PTE, PE_SIZE_PMD, PE_SIZE_PUD, MM_FILEPAGES, MM_ANONPAGES, MM_SWAPENTS, MM_SHMEMPAGES,
  GUP_PIN_COUNTING_BIAS,
  MmSystem, UserFaultSignal,
  handleMmFault, vmfInsertPfn, vmfInsertMixed, vmfInsertMixedMkwrite, vmfInsertPfnPmd, vmfInsertPfnPud,
  zapPageRange, copyPageRange, isCowMapping, pageMaybeDmaPinned, userFault, userRead, userWrite,
} from './memory.js';
export type {
  VmFault, VmFaultT, ZoneDevicePagemap, DevPagemapLookup, PfnTView, ThpMode, MmSystemOptions, UserAccess,
} from './memory.js';

// --- mm/rmap.c, include/linux/rmap.h: anonymous reverse mapping
export {
  AnonVma, isAnonMapping, anonVmaPrepare, anonVmaFork, unlinkAnonVmas, linearPageIndex, vmaAddress,
  pageAddNewAnonRmap, pageAddAnonRmap, pageDupRmap, pageAddFileRmap, pageRemoveRmap, pageMapcount, rmapWalkAnon,
} from './rmap.js';

// --- mm/gup.c, mm/memory.c (access_process_vm)
export {
  FOLL_WRITE, FOLL_TOUCH, FOLL_GET, FOLL_DUMP, FOLL_FORCE, FOLL_NOWAIT, FOLL_POPULATE, FOLL_HWPOISON,
  FOLL_MIGRATION, FOLL_REMOTE, FOLL_COW, FOLL_ANON, FOLL_LONGTERM, FOLL_PIN, MR_LONGTERM_PIN,
  getUserPages, getUserPagesRemote, pinUserPages, pinUserPagesRemote, unpinUserPage, unpinUserPages,
  unpinUserPagesDirtyLock, accessProcessVm,
} from './gup.js';

// --- mm/migrate.c, mm/rmap.c (try_to_unmap), mm/vmscan.c (isolation)
export {
  TTU_MIGRATION, TTU_IGNORE_MLOCK, TTU_IGNORE_HWPOISON, MIGRATE_ASYNC, MIGRATE_SYNC_LIGHT, MIGRATE_SYNC, MIGRATE_SYNC_NO_COPY,
  MR_COMPACTION, MR_MEMORY_FAILURE, MR_MEMORY_HOTPLUG, MR_SYSCALL, MIGRATEPAGE_SUCCESS,
  tryToUnmap, removeMigrationPtes, isolateLruPage, putbackLruPage, migratePages,
} from './migrate.js';
export type { MigratePagesResult } from './migrate.js';

// --- fs/proc/task_mmu.c: /proc/PID/smaps and status
export { showMapVma, showSmap, taskMem } from './task-mmu.js';

// --- mm/memory-failure.c, include/linux/mm.h (enum mf_flags, enum mf_result)
export {
  MF_COUNT_INCREASED, MF_ACTION_REQUIRED, MF_MUST_KILL, MF_SOFT_OFFLINE,
  MF_IGNORED, MF_FAILED, MF_DELAYED, MF_RECOVERED, MemoryFailure,
} from './memory-failure.js';
export type { HwpoisonFilter, MemoryFailureOptions } from './memory-failure.js';
// --- mm/hwpoison-inject.c
export { HWPOISON_DEBUGFS_DIR, HWPOISON_INJECT_MODULE, HwpoisonInject } from './hwpoison-inject.js';
