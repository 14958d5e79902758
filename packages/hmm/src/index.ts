/**
 * `@zonedev/hmm` — heterogeneous memory management at Linux v5.13:
 * `hmm_range_fault()` and the pfn encoding of mm/hmm.c and
 * include/linux/hmm.h, `migrate_vma_setup/pages/finalize()` of mm/migrate.c
 * (`CONFIG_DEVICE_PRIVATE`) with `struct migrate_vma` of
 * include/linux/migrate.h, the dmirror test device of lib/test_hmm.c with the
 * UAPI of lib/test_hmm_uapi.h, and the selftest
 * tools/testing/selftests/vm/hmm-tests.c with the kselftest harness.
 *
 * ```ts
 * const hmm = new TestHmm({ kernel, mm: system, memremap });   // system: mm's MmSystem
 * hmm.load();                       // two devices, one 256 MiB chunk each
 * const f = hmm.open(0, process);   // /dev/hmm_dmirror0 for a process's MmStruct
 * f.ioctl(HMM_DMIRROR_MIGRATE, cmd); // the buffer moves to device memory
 * f.release();
 * console.log(runHmmTests(dmirrorTaskSpawner(hmm, system)).output);  // TAP
 * await hmm.unload();               // memunmap_pages() waits for the pages
 * ```
 *
 * The exports are grouped by the kernel file each group mirrors.
 *
 * @packageDocumentation
 */

// --- include/linux/hmm.h, mm/hmm.c (the pfn encoding and the need-fault rule)
export {
  HMM_PFN_VALID, HMM_PFN_WRITE, HMM_PFN_ERROR, HMM_PFN_ORDER_SHIFT, HMM_PFN_REQ_FAULT, HMM_PFN_REQ_WRITE,
  HMM_PFN_FLAGS, HMM_RANGE_DEFAULT_TIMEOUT,
  hmmPfnToPage, hmmPfnToMapOrder, hmmPfn, hmmPteNeedFault,
} from './hmm-pfn.js';
export type { HmmNeedFault } from './hmm-pfn.js';

// --- mm/hmm.c, include/linux/hmm.h: hmm_range_fault
export { hmmRangeFault } from './hmm.js';
export type { HmmRange } from './hmm.js';

// --- include/linux/migrate.h, mm/migrate.c (migrate_vma_setup's argument rules)
export {
  MIGRATE_PFN_VALID, MIGRATE_PFN_MIGRATE, MIGRATE_PFN_LOCKED, MIGRATE_PFN_WRITE, MIGRATE_PFN_SHIFT,
  MIGRATE_VMA_SELECT_SYSTEM, MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
  migratePfn, migratePfnToPage, migratePfnHas, migratePfnSet, migratePfnClear, migrateVmaSetupCheck,
} from './migrate-pfn.js';
export type { MigrateVma } from './migrate-pfn.js';

// --- mm/migrate.c (CONFIG_DEVICE_PRIVATE): migrate_vma_*, and the page lock of include/linux/pagemap.h
export { migrateVmaSetup, migrateVmaPages, migrateVmaFinalize, lockPage, trylockPage, unlockPage, pageLocked } from './migrate-vma.js';

// --- lib/test_hmm_uapi.h
export {
  HMM_DMIRROR_READ, HMM_DMIRROR_WRITE, HMM_DMIRROR_MIGRATE, HMM_DMIRROR_SNAPSHOT, HMM_DMIRROR_CMD_SIZE,
  HMM_DMIRROR_PROT_ERROR, HMM_DMIRROR_PROT_NONE, HMM_DMIRROR_PROT_READ, HMM_DMIRROR_PROT_WRITE,
  HMM_DMIRROR_PROT_PMD, HMM_DMIRROR_PROT_PUD, HMM_DMIRROR_PROT_ZERO, HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL,
  HMM_DMIRROR_PROT_DEV_PRIVATE_REMOTE,
  encodeHmmDmirrorCmd, decodeHmmDmirrorCmd,
} from './test-hmm.js';
export type { HmmDmirrorCmd } from './test-hmm.js';

// --- lib/test_hmm.c
export {
  DMIRROR_NDEVICES, DEVMEM_CHUNK_SIZE, DEVMEM_CHUNKS_RESERVE, HMM_DMIRROR_CHRDEV_NAME, DMIRROR_FAIL_MIGRATE_TO_RAM,
  DmirrorDevice, Dmirror, TestHmm,
} from './test-hmm.js';
export type { DmirrorChunk, DmirrorPtEntry, TestHmmOptions } from './test-hmm.js';

// --- tools/testing/selftests/vm/hmm-tests.c, kselftest_harness.h
export { hmmTestsCases, runHmmTests, DmirrorTask, dmirrorTaskSpawner } from './hmm-tests.js';
export type {
  HmmTestsTask, HmmTestsCase, HmmTestsResult, HmmTestsRun, HmmTestsOptions, DmirrorTaskOptions,
} from './hmm-tests.js';
