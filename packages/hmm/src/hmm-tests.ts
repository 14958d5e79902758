/**
 * tools/testing/selftests/vm/hmm-tests.c at Linux v5.13, with the
 * kselftest harness (tools/testing/selftests/kselftest_harness.h and
 * kselftest.h) that runs it and prints TAP.
 *
 * The selftest is a user program: it maps memory, fills it, asks a dmirror
 * device to read, write, migrate or snapshot it through ioctls, and checks
 * what came back. Here each case is the same sequence of system calls made
 * on an {@link HmmTestsTask} — a process of the model — so that the cases
 * run against a machine's real dmirror devices and page tables. The harness
 * runs the cases in registration order (fixture `hmm`, then `hmm2`), one
 * fresh process per case as the harness's `fork()` gives, and prints what
 * v5.13's harness prints:
 *
 * ```
 * TAP version 13
 * 1..21
 * # Starting 21 tests from 2 test cases.
 * #  RUN           hmm.open_close ...
 * #            OK  hmm.open_close
 * ok 1 hmm.open_close
 * ...
 * # PASSED: 21 / 21 tests passed.
 * # Totals: pass:20 fail:0 xfail:0 xpass:0 skip:1 error:0
 * ```
 *
 * The two hugetlbfs cases exist because the v5.13 build found libhugetlbfs
 * (`LOCAL_CONFIG_HAVE_LIBHUGETLBFS`); without hugetlbfs in the kernel,
 * `gethugepagesizes()` finds no size, so `anon_write_hugetlbfs` SKIPs
 * ("Huge page size could not be determined") and `compound` returns early
 * and passes, as on a real kernel built without `CONFIG_HUGETLBFS`.
 * `file_read` and `file_write` make their `O_TMPFILE` in /tmp on a tmpfs:
 * the file's pages are shmem's page cache in `@zonedev/mm`, shared by its
 * `MAP_SHARED` mapping and `pwrite()`/`pread()`. `anon_teardown`'s thread is run at the driver's scheduling
 * points once its seeded `hmm_random() % 32000` ns have passed
 * ({@link DmirrorTask}).
 */
import { KernelError, Prandom, checkUnsigned, isKernelBug, isKernelError } from '@zonedev/kernel';
import type { MmapFile, VmFault, VmOperations } from '@zonedev/mm';
import {
  MADV_HUGEPAGE,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  MAP_SHARED,
  MmStruct,
  MmSystem,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  UserFaultSignal,
  Vma,
  userRead,
  userWrite,
} from '@zonedev/mm';
import { TestHmm } from './test-hmm.js';
import type { Dmirror, HmmDmirrorCmd } from './test-hmm.js';
import {
  HMM_DMIRROR_MIGRATE,
  HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL,
  HMM_DMIRROR_PROT_ERROR,
  HMM_DMIRROR_PROT_NONE,
  HMM_DMIRROR_PROT_READ,
  HMM_DMIRROR_PROT_WRITE,
  HMM_DMIRROR_PROT_ZERO,
  HMM_DMIRROR_READ,
  HMM_DMIRROR_SNAPSHOT,
  HMM_DMIRROR_WRITE,
} from './test-hmm.js';

/**
 * A process of the model as the selftest uses it: the system calls it makes
 * and its CPU loads and stores (which fault like real accesses). Each call
 * throws a KernelError with the errno the system call would set.
 * @public
 */
export interface HmmTestsTask {
  /** `sysconf(_SC_PAGE_SIZE)`. */
  readonly pageSize: number;
  /** `mmap(NULL, length, prot, flags, fd, offset)` (`fd` -1 or absent: anonymous): the address. */
  mmap(length: number, prot: number, flags: number, fd?: number, offset?: number): number;
  /** `munmap(addr, length)`. */
  munmap(addr: number, length: number): void;
  /** `mprotect(addr, length, prot)`. */
  mprotect(addr: number, length: number, prot: number): void;
  /** `madvise(addr, length, advice)`: 0 on success. */
  madvise(addr: number, length: number, advice: number): number;
  /** CPU loads of `length` bytes at `addr`. */
  load(addr: number, length: number): Uint8Array;
  /** CPU stores of `bytes` at `addr`. */
  store(addr: number, bytes: Uint8Array): void;
  /** `open(path, O_RDWR)`: a file descriptor. */
  open(path: string): number;
  /** `close(fd)`. */
  close(fd: number): void;
  /** `open(dir, O_TMPFILE | O_EXCL | O_RDWR, 0600)`: an unnamed regular file in `dir`. */
  openTmpfile(dir: string): number;
  /** `ftruncate(fd, length)`. */
  ftruncate(fd: number, length: number): void;
  /** `pwrite(fd, bytes, bytes.length, offset)`: the bytes written. */
  pwrite(fd: number, bytes: Uint8Array, offset: number): number;
  /** `pread(fd, buf, length, offset)`: the bytes read (fewer at the end of the file). */
  pread(fd: number, length: number, offset: number): Uint8Array;
  /** `ioctl(fd, request, &cmd)`: on success the kernel has copied `cmd` back. */
  ioctl(fd: number, request: number, cmd: HmmDmirrorCmd): void;
  /** `fork()`: the child process. */
  fork(): HmmTestsTask;
  /** `exit()`: the process ends and its address space goes away. */
  exit(): void;
  /**
   * A concurrent thread of this process that runs `fn` after about `ns`
   * nanoseconds of the process's own progress (the harness's
   * `pthread_create` + `nanosleep`); `join` waits for it.
   */
  spawnThread(ns: number, fn: () => void): { join(): void };
}

/** What a case reports: pass, fail (with the harness's messages) or skip (with its reason). */
interface CaseResult {
  passed: boolean;
  skip: string | undefined;
  log: string[];
}

/** An ASSERT_* that did not hold: the test process aborts. */
class AssertFailure extends Error {}

/** `SKIP(return, reason)`. */
class SkipCase extends Error {}

const HMM_BUFFER_SIZE = 1024 * 4096;
const TWOMEG = 2 ** 21;
const NTIMES = 10;

/**
 * `ASSERT_EQ(what, seen)`: the harness's message names both expressions and
 * their values, "Expected ret (-22) == 0 (0)" (`__EXPECT()` in
 * kselftest_harness.h); `seen` is the second expression's text, by default
 * its value.
 */
function assertEq(what: string, got: bigint | number | boolean, want: bigint | number | boolean, seen: string = String(want)): void {
  if (got !== want) throw new AssertFailure(`Expected ${what} (${String(got)}) == ${seen} (${String(want)})`);
}

/** The selftest's `struct hmm_buffer`. */
interface HmmBuffer {
  ptr: number;
  mirror: number;
  size: number;
  mirrorSize: number;
  cpages: bigint;
  faults: bigint;
}

/** The per-case context: the process and the fixture's file descriptors. */
interface Self {
  readonly t: HmmTestsTask;
  readonly pageSize: number;
  readonly fd: number;
  readonly fd0: number;
  readonly fd1: number;
  readonly rnd: Prandom;
}

function ints(n: number, f: (i: number) => number): Uint8Array {
  const b = new Uint8Array(n * 4);
  const v = new DataView(b.buffer);
  for (let i = 0; i < n; i++) v.setInt32(i * 4, f(i), true);
  return b;
}

/** `for (i = from; i < to; ++i) ASSERT_EQ(what[i], seen)` over the ints of `bytes`, `f` giving `seen`'s value. */
function checkInts(what: string, bytes: Uint8Array, from: number, to: number, f: (i: number) => number, seen: string = 'i'): void {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = from; i < to; i++) {
    const got = v.getInt32(i * 4, true);
    if (got !== f(i)) throw new AssertFailure(`Expected ${what}[i] (${got}) == ${seen} (${f(i)})`);
  }
}

/** `hmm_dmirror_cmd()`: the ioctl, retried on EINTR; 0 or -errno; cpages/faults copied only on success. */
function dmirrorCmd(t: HmmTestsTask, fd: number, request: number, buffer: HmmBuffer, npages: number): number {
  const cmd: HmmDmirrorCmd = { addr: BigInt(buffer.ptr), ptr: BigInt(buffer.mirror), npages: BigInt(npages), cpages: 0n, faults: 0n };
  for (;;) {
    try {
      t.ioctl(fd, request, cmd);
      break;
    } catch (e) {
      if (isKernelError(e) && e.errno === 'EINTR') continue;
      if (isKernelError(e)) return e.negative;
      throw e;
    }
  }
  buffer.cpages = cmd.cpages;
  buffer.faults = cmd.faults;
  return 0;
}

function errno(name: 'EFAULT' | 'EPERM' | 'ENOENT' | 'EINVAL'): number {
  return new KernelError(name).negative;
}

/** `malloc(size)` for the mirror buffer: anonymous private memory of the process. */
function newBuffer(s: Self, size: number, mirrorSize: number = size, prot: number = PROT_READ + PROT_WRITE, flags: number = MAP_PRIVATE + MAP_ANONYMOUS): HmmBuffer {
  const mirror = s.t.mmap(mirrorSize, PROT_READ + PROT_WRITE, MAP_PRIVATE + MAP_ANONYMOUS);
  const ptr = s.t.mmap(size, prot, flags);
  return { ptr, mirror, size, mirrorSize, cpages: 0n, faults: 0n };
}

/** `hmm_buffer_free()`. */
function freeBuffer(s: Self, b: HmmBuffer): void {
  if (b.ptr) s.t.munmap(b.ptr, b.size);
  s.t.munmap(b.mirror, b.mirrorSize);
}

function npagesOf(s: Self): number {
  return HMM_BUFFER_SIZE / s.pageSize;
}

// --- the TEST_F bodies, in hmm-tests.c's order

function openClose(): void {}

function anonRead(s: Self): void {
  const npages = npagesOf(s);
  const size = npages * s.pageSize;
  const b = newBuffer(s, size);
  const first = (2 * s.pageSize) / 4;
  s.t.store(b.ptr + first * 4, ints(size / 4 - first, (k) => k + first));
  s.t.mprotect(b.ptr, size, PROT_READ);
  const val = new DataView(s.t.load(b.ptr + s.pageSize, 4).buffer).getInt32(0, true);
  assertEq('val', val, 0);
  assertEq('ret', dmirrorCmd(s.t, s.fd, HMM_DMIRROR_READ, b, npages), 0);
  assertEq('buffer->cpages', b.cpages, BigInt(npages), 'npages');
  assertEq('buffer->faults', b.faults, 1n);
  const m = s.t.load(b.mirror, size);
  checkInts('ptr', m, 0, first, () => 0, '0');
  checkInts('ptr', m, first, size / 4, (i) => i);
  freeBuffer(s, b);
}

function anonReadProt(s: Self): void {
  const npages = npagesOf(s);
  const size = npages * s.pageSize;
  const b = newBuffer(s, size);
  s.t.store(b.ptr, ints(size / 4, (i) => i));
  s.t.store(b.mirror, ints(size / 4, (i) => -i));
  s.t.mprotect(b.ptr, size, PROT_NONE);
  assertEq('ret', dmirrorCmd(s.t, s.fd, HMM_DMIRROR_READ, b, npages), errno('EFAULT'), '-EFAULT');
  s.t.mprotect(b.ptr, size, PROT_READ);
  checkInts('ptr', s.t.load(b.ptr, size), 0, size / 4, (i) => i);
  checkInts('ptr', s.t.load(b.mirror, size), 0, size / 4, (i) => -i, '-i');
  freeBuffer(s, b);
}

function anonWrite(s: Self): void {
  const npages = npagesOf(s);
  const size = npages * s.pageSize;
  const b = newBuffer(s, size);
  s.t.store(b.mirror, ints(size / 4, (i) => i));
  assertEq('ret', dmirrorCmd(s.t, s.fd, HMM_DMIRROR_WRITE, b, npages), 0);
  assertEq('buffer->cpages', b.cpages, BigInt(npages), 'npages');
  assertEq('buffer->faults', b.faults, 1n);
  checkInts('ptr', s.t.load(b.ptr, size), 0, size / 4, (i) => i);
  freeBuffer(s, b);
}

function anonWriteProt(s: Self): void {
  const npages = npagesOf(s);
  const size = npages * s.pageSize;
  const b = newBuffer(s, size, size, PROT_READ);
  assertEq('ret', dmirrorCmd(s.t, s.fd, HMM_DMIRROR_READ, b, 1), 0);
  assertEq('buffer->cpages', b.cpages, 1n);
  assertEq('buffer->faults', b.faults, 1n);
  s.t.store(b.mirror, ints(size / 4, (i) => i));
  assertEq('ret', dmirrorCmd(s.t, s.fd, HMM_DMIRROR_WRITE, b, npages), errno('EPERM'), '-EPERM');
  checkInts('ptr', s.t.load(b.ptr, size), 0, size / 4, () => 0, '0');
  s.t.mprotect(b.ptr, size, PROT_WRITE + PROT_READ);
  assertEq('ret', dmirrorCmd(s.t, s.fd, HMM_DMIRROR_WRITE, b, npages), 0);
  assertEq('buffer->cpages', b.cpages, BigInt(npages), 'npages');
  assertEq('buffer->faults', b.faults, 1n);
  checkInts('ptr', s.t.load(b.ptr, size), 0, size / 4, (i) => i);
  freeBuffer(s, b);
}

function anonWriteChildCommon(s: Self, shared: boolean): void {
  const npages = npagesOf(s);
  const size = npages * s.pageSize;
  const b = newBuffer(s, size, size, PROT_READ + PROT_WRITE, (shared ? MAP_SHARED : MAP_PRIVATE) + MAP_ANONYMOUS);
  s.t.store(b.ptr, ints(size / 4, (i) => i));
  s.t.store(b.mirror, ints(size / 4, (i) => -i));
  const child = s.t.fork();
  // The child runs to its exit() first; the parent's waitpid() then sees how it ended.
  let exitedNormally = true;
  try {
    checkInts('ptr', child.load(b.ptr, size), 0, size / 4, (i) => i);
    checkInts('ptr', child.load(b.mirror, size), 0, size / 4, (i) => -i, '-i');
    const childFd = child.open('/dev/hmm_dmirror0');
    assertEq('ret', dmirrorCmd(child, childFd, HMM_DMIRROR_WRITE, b, npages), 0);
    assertEq('buffer->cpages', b.cpages, BigInt(npages), 'npages');
    assertEq('buffer->faults', b.faults, 1n);
    checkInts('ptr', child.load(b.ptr, size), 0, size / 4, (i) => -i, '-i');
    child.close(childFd);
  } catch (e) {
    // An ASSERT_* in the child aborts it, a signal kills it: either way not WIFEXITED.
    if (!(e instanceof AssertFailure) && !(e instanceof UserFaultSignal) && !isKernelError(e)) throw e;
    exitedNormally = false;
  } finally {
    child.exit();
  }
  assertEq('WIFEXITED(ret)', exitedNormally ? 1 : 0, 1);
  checkInts('ptr', s.t.load(b.ptr, size), 0, size / 4, shared ? (i) => -i : (i) => i, shared ? '-i' : 'i');
  freeBuffer(s, b);
}

function anonWriteHuge(s: Self): void {
  let size = 2 * TWOMEG;
  const b = newBuffer(s, size);
  size = TWOMEG;
  const npages = size / s.pageSize;
  const map = Math.ceil(b.ptr / size) * size;
  assertEq('ret', s.t.madvise(map, size, MADV_HUGEPAGE), 0);
  const oldPtr = b.ptr;
  b.ptr = map;
  s.t.store(b.mirror, ints(size / 4, (i) => i));
  assertEq('ret', dmirrorCmd(s.t, s.fd, HMM_DMIRROR_WRITE, b, npages), 0);
  assertEq('buffer->cpages', b.cpages, BigInt(npages), 'npages');
  assertEq('buffer->faults', b.faults, 1n);
  checkInts('ptr', s.t.load(b.ptr, size), 0, size / 4, (i) => i);
  b.ptr = oldPtr;
  freeBuffer(s, b);
}

/** `gethugepagesizes()` of a kernel without hugetlbfs: no sizes. */
function gethugepagesizes(): number[] {
  return [];
}

function anonWriteHugetlbfs(): void {
  if (gethugepagesizes().length <= 0) throw new SkipCase('Huge page size could not be determined');
}

/**
 * `hmm_create_file(size)`: `open("/tmp", O_TMPFILE | O_EXCL | O_RDWR, 0600)`
 * and `ftruncate()` (retried on EINTR); -1 when either fails.
 */
function hmmCreateFile(t: HmmTestsTask, size: number): number {
  let fd: number;
  try {
    fd = t.openTmpfile('/tmp');
  } catch (e) {
    if (isKernelError(e)) return -1;
    throw e;
  }
  for (;;) {
    try {
      t.ftruncate(fd, size);
      return fd;
    } catch (e) {
      if (isKernelError(e) && e.errno === 'EINTR') continue;
      if (!isKernelError(e)) throw e;
      t.close(fd);
      return -1;
    }
  }
}

function fileRead(s: Self): void {
  const npages = npagesOf(s);
  const size = npages * s.pageSize;
  const fd = hmmCreateFile(s.t, size);
  if (fd < 0) throw new AssertFailure(`Expected fd (${fd}) >= 0`);
  const mirror = s.t.mmap(size, PROT_READ + PROT_WRITE, MAP_PRIVATE + MAP_ANONYMOUS);
  // the initial contents of the file, written with pwrite() from the mirror buffer
  s.t.store(mirror, ints(size / 4, (i) => i));
  assertEq('len', s.t.pwrite(fd, s.t.load(mirror, size), 0), size, 'size');
  s.t.store(mirror, new Uint8Array(size));
  const ptr = s.t.mmap(size, PROT_READ, MAP_SHARED, fd, 0);
  const b: HmmBuffer = { ptr, mirror, size, mirrorSize: size, cpages: 0n, faults: 0n };
  assertEq('ret', dmirrorCmd(s.t, s.fd, HMM_DMIRROR_READ, b, npages), 0);
  assertEq('buffer->cpages', b.cpages, BigInt(npages), 'npages');
  assertEq('buffer->faults', b.faults, 1n);
  checkInts('ptr', s.t.load(mirror, size), 0, size / 4, (i) => i);
  freeBuffer(s, b);
}

function fileWrite(s: Self): void {
  const npages = npagesOf(s);
  const size = npages * s.pageSize;
  const fd = hmmCreateFile(s.t, size);
  if (fd < 0) throw new AssertFailure(`Expected fd (${fd}) >= 0`);
  const mirror = s.t.mmap(size, PROT_READ + PROT_WRITE, MAP_PRIVATE + MAP_ANONYMOUS);
  const ptr = s.t.mmap(size, PROT_READ + PROT_WRITE, MAP_SHARED, fd, 0);
  const b: HmmBuffer = { ptr, mirror, size, mirrorSize: size, cpages: 0n, faults: 0n };
  s.t.store(mirror, ints(size / 4, (i) => i));
  assertEq('ret', dmirrorCmd(s.t, s.fd, HMM_DMIRROR_WRITE, b, npages), 0);
  assertEq('buffer->cpages', b.cpages, BigInt(npages), 'npages');
  assertEq('buffer->faults', b.faults, 1n);
  checkInts('ptr', s.t.load(ptr, size), 0, size / 4, (i) => i);
  // the device also wrote the file
  const back = s.t.pread(fd, size, 0);
  assertEq('len', back.length, size, 'size');
  checkInts('ptr', back, 0, size / 4, (i) => i);
  freeBuffer(s, b);
}

function migrate(s: Self): void {
  const npages = npagesOf(s);
  const size = npages * s.pageSize;
  const b = newBuffer(s, size);
  s.t.store(b.ptr, ints(size / 4, (i) => i));
  assertEq('ret', dmirrorCmd(s.t, s.fd, HMM_DMIRROR_MIGRATE, b, npages), 0);
  assertEq('buffer->cpages', b.cpages, BigInt(npages), 'npages');
  checkInts('ptr', s.t.load(b.mirror, size), 0, size / 4, (i) => i);
  freeBuffer(s, b);
}

function migrateFault(s: Self): void {
  const npages = npagesOf(s);
  const size = npages * s.pageSize;
  const b = newBuffer(s, size);
  s.t.store(b.ptr, ints(size / 4, (i) => i));
  assertEq('ret', dmirrorCmd(s.t, s.fd, HMM_DMIRROR_MIGRATE, b, npages), 0);
  assertEq('buffer->cpages', b.cpages, BigInt(npages), 'npages');
  checkInts('ptr', s.t.load(b.mirror, size), 0, size / 4, (i) => i);
  checkInts('ptr', s.t.load(b.ptr, size / 2), 0, size / 8, (i) => i);
  assertEq('ret', dmirrorCmd(s.t, s.fd, HMM_DMIRROR_MIGRATE, b, npages), 0);
  assertEq('buffer->cpages', b.cpages, BigInt(npages), 'npages');
  checkInts('ptr', s.t.load(b.mirror, size), 0, size / 4, (i) => i);
  freeBuffer(s, b);
}

function migrateShared(s: Self): void {
  const npages = npagesOf(s);
  const size = npages * s.pageSize;
  const b = newBuffer(s, size, size, PROT_READ + PROT_WRITE, MAP_SHARED + MAP_ANONYMOUS);
  assertEq('ret', dmirrorCmd(s.t, s.fd, HMM_DMIRROR_MIGRATE, b, npages), errno('ENOENT'), '-ENOENT');
  freeBuffer(s, b);
}

function migrateMultiple(s: Self): void {
  const npages = npagesOf(s);
  const size = npages * s.pageSize;
  for (let c = 0; c < NTIMES; c++) {
    const b = newBuffer(s, size);
    s.t.store(b.ptr, ints(size / 4, (i) => i));
    assertEq('ret', dmirrorCmd(s.t, s.fd, HMM_DMIRROR_MIGRATE, b, npages), 0);
    assertEq('buffer->cpages', b.cpages, BigInt(npages), 'npages');
    checkInts('ptr', s.t.load(b.mirror, size), 0, size / 4, (i) => i);
    checkInts('ptr', s.t.load(b.ptr, size), 0, size / 4, (i) => i);
    freeBuffer(s, b);
  }
}

function anonReadMultiple(s: Self): void {
  const npages = npagesOf(s);
  const size = npages * s.pageSize;
  for (let c = 0; c < NTIMES; c++) {
    const b = newBuffer(s, size);
    s.t.store(b.ptr, ints(size / 4, (i) => i + c));
    assertEq('ret', dmirrorCmd(s.t, s.fd, HMM_DMIRROR_READ, b, npages), 0);
    assertEq('buffer->cpages', b.cpages, BigInt(npages), 'npages');
    assertEq('buffer->faults', b.faults, 1n);
    checkInts('ptr', s.t.load(b.mirror, size), 0, size / 4, (i) => i + c, 'i + c');
    freeBuffer(s, b);
  }
}

function anonTeardown(s: Self): void {
  const npages = npagesOf(s);
  const size = npages * s.pageSize;
  for (let c = 0; c < NTIMES; c++) {
    const b = newBuffer(s, size);
    s.t.store(b.ptr, ints(size / 4, (i) => i + c));
    // unmap_buffer(): sleep hmm_random() % 32000 ns, then munmap the upper half.
    const delay = s.rnd.u32() % 32000;
    const thread = s.t.spawnThread(delay, () => {
      s.t.munmap(b.ptr + size / 2, size / 2);
    });
    const rc = dmirrorCmd(s.t, s.fd, HMM_DMIRROR_READ, b, npages);
    if (rc === 0) {
      assertEq('buffer->cpages', b.cpages, BigInt(npages), 'npages');
      assertEq('buffer->faults', b.faults, 1n);
      checkInts('ptr', s.t.load(b.mirror, size), 0, size / 4, (i) => i + c, 'i + c');
    }
    thread.join();
    // The thread set buffer->ptr = NULL, so hmm_buffer_free() frees only the mirror.
    s.t.munmap(b.mirror, b.mirrorSize);
  }
}

function compound(): void {
  // The test returns (and passes) when no huge page size is found.
  if (gethugepagesizes().length <= 0) return;
}

function migrateMixed(s: Self): void {
  const npages = 6;
  const size = npages * s.pageSize;
  const b = newBuffer(s, size, size, PROT_NONE);
  const p = b.ptr;
  assertEq('ret', dmirrorCmd(s.t, s.fd1, HMM_DMIRROR_MIGRATE, b, npages), errno('EINVAL'), '-EINVAL');
  s.t.munmap(b.ptr + s.pageSize, s.pageSize);
  assertEq('ret', dmirrorCmd(s.t, s.fd1, HMM_DMIRROR_MIGRATE, b, 3), errno('EINVAL'), '-EINVAL');
  s.t.mprotect(b.ptr + 2 * s.pageSize, s.pageSize, PROT_READ);
  const val = new DataView(s.t.load(b.ptr + 2 * s.pageSize, 4).buffer).getInt32(0, true) + 3;
  assertEq('val', val, 3);
  s.t.mprotect(b.ptr + 3 * s.pageSize, s.pageSize, PROT_READ + PROT_WRITE);
  s.t.store(b.ptr + 3 * s.pageSize, ints(1, () => val));
  s.t.mprotect(b.ptr + 3 * s.pageSize, s.pageSize, PROT_READ);
  s.t.mprotect(b.ptr + 4 * s.pageSize, 2 * s.pageSize, PROT_READ + PROT_WRITE);
  s.t.store(b.ptr + 4 * s.pageSize, ints(1, () => val));
  s.t.store(b.ptr + 5 * s.pageSize, ints(1, () => val));
  b.ptr = p + 2 * s.pageSize;
  assertEq('ret', dmirrorCmd(s.t, s.fd1, HMM_DMIRROR_MIGRATE, b, 4), 0);
  assertEq('buffer->cpages', b.cpages, 4n);
  b.ptr = p + 5 * s.pageSize;
  assertEq('ret', dmirrorCmd(s.t, s.fd0, HMM_DMIRROR_MIGRATE, b, 1), errno('ENOENT'), '-ENOENT');
  b.ptr = p;
  // hmm_buffer_free(): munmap of the whole range (the hole included) and the mirror.
  freeBuffer(s, b);
}

function snapshot(s: Self): void {
  const npages = 7;
  const size = npages * s.pageSize;
  const b = newBuffer(s, size, npages, PROT_NONE);
  const p = b.ptr;
  s.t.munmap(b.ptr + s.pageSize, s.pageSize);
  s.t.mprotect(b.ptr + 2 * s.pageSize, s.pageSize, PROT_READ);
  const val = new DataView(s.t.load(b.ptr + 2 * s.pageSize, 4).buffer).getInt32(0, true) + 3;
  assertEq('val', val, 3);
  s.t.mprotect(b.ptr + 3 * s.pageSize, s.pageSize, PROT_READ + PROT_WRITE);
  s.t.store(b.ptr + 3 * s.pageSize, ints(1, () => val));
  s.t.mprotect(b.ptr + 3 * s.pageSize, s.pageSize, PROT_READ);
  s.t.mprotect(b.ptr + 4 * s.pageSize, 3 * s.pageSize, PROT_READ + PROT_WRITE);
  s.t.store(b.ptr + 4 * s.pageSize, ints(1, () => val));
  b.ptr = p + 5 * s.pageSize;
  assertEq('ret', dmirrorCmd(s.t, s.fd0, HMM_DMIRROR_MIGRATE, b, 1), 0);
  assertEq('buffer->cpages', b.cpages, 1n);
  b.ptr = p + 6 * s.pageSize;
  assertEq('ret', dmirrorCmd(s.t, s.fd1, HMM_DMIRROR_MIGRATE, b, 1), 0);
  assertEq('buffer->cpages', b.cpages, 1n);
  b.ptr = p;
  assertEq('ret', dmirrorCmd(s.t, s.fd0, HMM_DMIRROR_SNAPSHOT, b, npages), 0);
  assertEq('buffer->cpages', b.cpages, BigInt(npages), 'npages');
  const m = s.t.load(b.mirror, npages);
  assertEq('m[0]', m[0]!, HMM_DMIRROR_PROT_ERROR, 'HMM_DMIRROR_PROT_ERROR');
  assertEq('m[1]', m[1]!, HMM_DMIRROR_PROT_ERROR, 'HMM_DMIRROR_PROT_ERROR');
  assertEq('m[2]', m[2]!, HMM_DMIRROR_PROT_ZERO + HMM_DMIRROR_PROT_READ, 'HMM_DMIRROR_PROT_ZERO | HMM_DMIRROR_PROT_READ');
  assertEq('m[3]', m[3]!, HMM_DMIRROR_PROT_READ, 'HMM_DMIRROR_PROT_READ');
  assertEq('m[4]', m[4]!, HMM_DMIRROR_PROT_WRITE, 'HMM_DMIRROR_PROT_WRITE');
  assertEq('m[5]', m[5]!, HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL + HMM_DMIRROR_PROT_WRITE, 'HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL | HMM_DMIRROR_PROT_WRITE');
  assertEq('m[6]', m[6]!, HMM_DMIRROR_PROT_NONE, 'HMM_DMIRROR_PROT_NONE');
  freeBuffer(s, b);
}

function doubleMap(s: Self): void {
  const npages = 6;
  const size = npages * s.pageSize;
  // The selftest mallocs only npages bytes for the mirror yet reads size bytes into it; the model gives it size.
  const b = newBuffer(s, size, size);
  s.t.store(b.ptr, ints(size / 4, (i) => i));
  s.t.mprotect(b.ptr, size, PROT_READ);
  assertEq('ret', dmirrorCmd(s.t, s.fd0, HMM_DMIRROR_READ, b, npages), 0);
  assertEq('buffer->cpages', b.cpages, BigInt(npages), 'npages');
  assertEq('buffer->faults', b.faults, 1n);
  checkInts('ptr', s.t.load(b.mirror, size), 0, size / 4, (i) => i);
  assertEq('ret', dmirrorCmd(s.t, s.fd1, HMM_DMIRROR_READ, b, npages), 0);
  assertEq('buffer->cpages', b.cpages, BigInt(npages), 'npages');
  assertEq('buffer->faults', b.faults, 1n);
  checkInts('ptr', s.t.load(b.mirror, size), 0, size / 4, (i) => i);
  s.t.munmap(b.ptr + s.pageSize, s.pageSize);
  freeBuffer(s, b);
}

/** One `TEST_F(fixture, name)`. @public */
export interface HmmTestsCase {
  /** `hmm` (one device open) or `hmm2` (both). */
  readonly fixture: 'hmm' | 'hmm2';
  /** The test's name. */
  readonly name: string;
}

type Body = (s: Self) => void;

const CASES: readonly (HmmTestsCase & { readonly body: Body })[] = [
  { fixture: 'hmm', name: 'open_close', body: openClose },
  { fixture: 'hmm', name: 'anon_read', body: anonRead },
  { fixture: 'hmm', name: 'anon_read_prot', body: anonReadProt },
  { fixture: 'hmm', name: 'anon_write', body: anonWrite },
  { fixture: 'hmm', name: 'anon_write_prot', body: anonWriteProt },
  { fixture: 'hmm', name: 'anon_write_child', body: (s) => anonWriteChildCommon(s, false) },
  { fixture: 'hmm', name: 'anon_write_child_shared', body: (s) => anonWriteChildCommon(s, true) },
  { fixture: 'hmm', name: 'anon_write_huge', body: anonWriteHuge },
  { fixture: 'hmm', name: 'anon_write_hugetlbfs', body: anonWriteHugetlbfs },
  { fixture: 'hmm', name: 'file_read', body: fileRead },
  { fixture: 'hmm', name: 'file_write', body: fileWrite },
  { fixture: 'hmm', name: 'migrate', body: migrate },
  { fixture: 'hmm', name: 'migrate_fault', body: migrateFault },
  { fixture: 'hmm', name: 'migrate_shared', body: migrateShared },
  { fixture: 'hmm', name: 'migrate_multiple', body: migrateMultiple },
  { fixture: 'hmm', name: 'anon_read_multiple', body: anonReadMultiple },
  { fixture: 'hmm', name: 'anon_teardown', body: anonTeardown },
  { fixture: 'hmm', name: 'compound', body: compound },
  { fixture: 'hmm2', name: 'migrate_mixed', body: migrateMixed },
  { fixture: 'hmm2', name: 'snapshot', body: snapshot },
  { fixture: 'hmm2', name: 'double_map', body: doubleMap },
];

/**
 * The 21 v5.13 cases in the order the harness runs them: fixture `hmm`'s
 * tests as defined, then fixture `hmm2`'s.
 * @public
 */
export function hmmTestsCases(): HmmTestsCase[] {
  return CASES.map(({ fixture, name }) => ({ fixture, name }));
}

/** The outcome of one case, for programs that want more than the TAP text. @public */
export interface HmmTestsResult extends HmmTestsCase {
  /** Whether the harness counts it as passed (a SKIP counts as passed). */
  readonly passed: boolean;
  /** The SKIP reason, if the case skipped. */
  readonly skip?: string;
  /** The lines the case logged (assertion failures). */
  readonly log: readonly string[];
}

/** What {@link runHmmTests} returns: the TAP text and each case's result. @public */
export interface HmmTestsRun {
  /** Exactly what the harness prints to stdout. */
  readonly output: string;
  /** One result per case, in run order. */
  readonly results: readonly HmmTestsResult[];
  /** The harness's exit status: 0 (KSFT_PASS) when every case passed, else 1 (KSFT_FAIL). */
  readonly exitStatus: number;
}

/** Options of {@link runHmmTests}. @public */
export interface HmmTestsOptions {
  /** Run only the cases whose `fixture.name` is listed (the model's filter: v5.13's harness always runs them all); default all. */
  readonly only?: readonly string[];
  /** Seed of `hmm_random()` (the teardown thread's delays); default 1. */
  readonly seed?: number;
}

function runCase(c: (typeof CASES)[number], spawn: () => HmmTestsTask, rnd: Prandom): CaseResult {
  const log: string[] = [];
  const t = spawn();
  try {
    // FIXTURE_SETUP: open the device(s); ASSERT_GE(fd, 0).
    let fd = -1;
    let fd0 = -1;
    let fd1 = -1;
    const open = (unit: number): number => {
      try {
        return t.open(`/dev/hmm_dmirror${unit}`);
      } catch (e) {
        // hmm_open() reports "could not open hmm dmirror driver (path)" on stderr, not in the TAP stream.
        if (!isKernelError(e)) throw e;
        throw new AssertFailure(`Expected self->fd (-1) >= 0`);
      }
    };
    if (c.fixture === 'hmm') fd = open(0);
    else {
      fd0 = open(0);
      fd1 = open(1);
    }
    c.body({ t, pageSize: t.pageSize, fd, fd0, fd1, rnd });
    // FIXTURE_TEARDOWN: close.
    if (c.fixture === 'hmm') t.close(fd);
    else {
      t.close(fd0);
      t.close(fd1);
    }
    return { passed: true, skip: undefined, log };
  } catch (e) {
    if (e instanceof SkipCase) {
      log.push(`#      SKIP      ${e.message}`);
      return { passed: true, skip: e.message, log };
    }
    if (e instanceof AssertFailure) {
      log.push(`# hmm-tests.c:${c.name}:${e.message}`, `# ${c.name}: Test terminated by assertion`);
      return { passed: false, skip: undefined, log };
    }
    if (isKernelBug(e)) {
      // A kernel BUG in a system call oopses and the task dies of SIGSEGV.
      log.push(`# ${c.name}: Test terminated unexpectedly by signal 11`);
      return { passed: false, skip: undefined, log };
    }
    if (e instanceof UserFaultSignal) {
      // The test process died of the signal: __wait_for_test() reports it.
      const num = e.signal === 'SIGBUS' ? 7 : e.signal === 'SIGSEGV' ? 11 : 9;
      log.push(`# ${c.name}: Test terminated unexpectedly by signal ${num}`);
      return { passed: false, skip: undefined, log };
    }
    if (isKernelError(e)) {
      // A system call the selftest ASSERTs on (mmap, munmap, mprotect, close) failed.
      log.push(`# hmm-tests.c:${c.name}:Expected ret (${e.negative}) == 0`, `# ${c.name}: Test terminated by assertion`);
      return { passed: false, skip: undefined, log };
    }
    throw e;
  } finally {
    t.exit();
  }
}

/**
 * Runs the v5.13 hmm selftest: each case in a fresh process from `spawn`
 * (which must open the devices of a machine with test_hmm loaded), and
 * returns the harness's stdout byte for byte (`test_harness_run()`,
 * `__run_test()`, `ksft_print_cnts()`), each case's result and the exit
 * status. A failing ASSERT prints an approximation of the harness's
 * "file:line:test:Expected ..." line (the model has no line numbers).
 * @public
 */
export function runHmmTests(spawn: () => HmmTestsTask, options: HmmTestsOptions = {}): HmmTestsRun {
  if (typeof spawn !== 'function') throw new KernelError('EINVAL', 'hmm-tests: spawn is not a function');
  if (typeof options !== 'object' || options === null) throw new KernelError('EINVAL', `hmm-tests: invalid options ${String(options)}`);
  if (options.seed !== undefined) checkUnsigned('hmm-tests', 'seed', options.seed, 0xffffffff);
  if (options.only !== undefined && !Array.isArray(options.only)) throw new KernelError('EINVAL', 'hmm-tests: only is not a list');
  const selected = CASES.filter((c) => options.only === undefined || options.only.includes(`${c.fixture}.${c.name}`));
  const fixtures = new Set(selected.map((c) => c.fixture));
  const rnd = new Prandom(options.seed ?? 1);
  const out: string[] = ['TAP version 13', `1..${selected.length}`, `# Starting ${selected.length} tests from ${fixtures.size} test cases.`];
  const results: HmmTestsResult[] = [];
  let pass = 0;
  let fail = 0;
  let skip = 0;
  let passCount = 0;
  selected.forEach((c, i) => {
    const full = `${c.fixture}.${c.name}`;
    out.push(`#  RUN           ${full} ...`);
    const r = runCase(c, spawn, rnd);
    out.push(...r.log);
    out.push(`#          ${r.passed ? '  OK' : 'FAIL'}  ${full}`);
    if (r.skip !== undefined) {
      out.push(`ok ${i + 1} # SKIP ${r.skip}`);
      skip++;
    } else if (r.passed) {
      out.push(`ok ${i + 1} ${full}`);
      pass++;
    } else {
      out.push(`not ok ${i + 1} ${full}`);
      fail++;
    }
    if (r.passed) passCount++;
    results.push({ fixture: c.fixture, name: c.name, passed: r.passed, ...(r.skip !== undefined ? { skip: r.skip } : {}), log: r.log });
  });
  const ok = fail === 0;
  out.push(`# ${ok ? 'PASSED' : 'FAILED'}: ${passCount} / ${selected.length} tests passed.`);
  out.push(`# Totals: pass:${pass} fail:${fail} xfail:0 xpass:0 skip:${skip} error:0`);
  return { output: `${out.join('\n')}\n`, results, exitStatus: ok ? 0 : 1 };
}

/** What {@link DmirrorTask} needs: the module and the machine's mm/. @public */
export interface DmirrorTaskOptions {
  /** The loaded test_hmm module whose devices `open()` reaches. */
  readonly testHmm: TestHmm;
  /** The machine's mm/ (page tables and faults for the task's address space). */
  readonly system: MmSystem;
  /** Allocates a pid for each new process (a fork, a spawn). */
  readonly nextPid: () => number;
  /** Allocates an inode number for each tmpfs file; absent, they count up from 1000 per process. */
  readonly nextIno?: () => number;
}

/** A shared open file — a dmirror device or a tmpfs file — and how many descriptors refer to it. */
type FileRef = { readonly kind: 'dmirror'; readonly file: Dmirror; refs: number } | { readonly kind: 'tmpfile'; readonly file: TmpFile; refs: number };

/** `O_TMPFILE` files are on tmpfs, whose inodes get an anonymous device number (`get_anon_bdev`). */
const TMPFS_DEV_MINOR = 27;

/**
 * A file from `open("/tmp", O_TMPFILE | O_EXCL | O_RDWR, 0600)` with /tmp a
 * tmpfs: an unnamed shmem inode (mm/shmem.c). Its pages are shmem's page
 * cache in `@zonedev/mm` — the machine's `shmem_fault()` finds or allocates
 * the page at an index — for faults on a `MAP_SHARED` mapping and for
 * `pwrite()`/`pread()` alike (`shmem_getpage()` in `shmem_write_begin()`
 * and `shmem_file_read_iter()`), so a device writing the mapping writes the
 * file. The inode lives while a descriptor or a mapping refers to it; the
 * last of them truncates the cache (`shmem_evict_inode()`).
 */
class TmpFile {
  /** `i_size`. */
  size = 0;
  /** Open descriptors (over all processes). */
  fds = 1;
  /** VMAs mapping it (over all processes). */
  maps = 0;
  readonly file: MmapFile;
  readonly #sys: MmSystem;
  /** A VMA of no address space that carries the file to `shmem_fault()` for read and write. */
  readonly #carrier: Vma;

  constructor(sys: MmSystem, ino: number) {
    this.#sys = sys;
    const ops: VmOperations = {
      fault: (vmf) => sys.shmemVmOps.fault!(vmf),
      open: () => {
        this.maps++;
      },
      close: () => {
        this.maps--;
        this.#maybeEvict();
      },
    };
    this.file = {
      path: `/tmp/#${ino} (deleted)`,
      devMajor: 0,
      devMinor: TMPFS_DEV_MINOR,
      ino,
      readable: true,
      writable: true,
      mmap: (vma: Vma): number => {
        vma.vmOps = ops;
        this.maps++;
        return 0;
      },
    };
    this.#carrier = new Vma(0, sys.pageSize, 0, 0, this.file);
  }

  /** `shmem_getpage(inode, index, SGP_WRITE)`: the page at `index`, allocated on first use, with a reference. */
  #getpage(index: number): number {
    const vmf: VmFault = { vma: this.#carrier, address: 0, flags: 0, pgoff: index, gfpMask: 0, page: undefined, cowPage: undefined };
    const ret = this.#sys.shmemVmOps.fault!(vmf);
    if (ret !== 0 || vmf.page === undefined) throw new KernelError('ENOSPC', 'tmpfs: no memory for the page');
    return vmf.page;
  }

  /** `shmem_setattr()` of the size: a file that shrinks loses its pages beyond the end (not needed: the selftest only grows files). */
  truncate(length: number): void {
    if (!Number.isSafeInteger(length) || length < 0) throw new KernelError('EINVAL', 'ftruncate: invalid length');
    if (length < this.size) throw new KernelError('EINVAL', 'ftruncate: shrinking a tmpfs file is not modelled');
    this.size = length;
  }

  /** `pwrite()` through `generic_perform_write()`: page by page into the page cache; the file grows to the end of the write. */
  write(bytes: Uint8Array, offset: number): number {
    if (!Number.isSafeInteger(offset) || offset < 0) throw new KernelError('EINVAL', 'pwrite: invalid offset');
    const ps = this.#sys.pageSize;
    for (let done = 0; done < bytes.length; ) {
      const pos = offset + done;
      const inPage = pos % ps;
      const n = Math.min(ps - inPage, bytes.length - done);
      const page = this.#getpage((pos - inPage) / ps);
      this.#sys.writePage(page, inPage, bytes.subarray(done, done + n));
      this.#sys.putPage(page);
      done += n;
    }
    this.size = Math.max(this.size, offset + bytes.length);
    return bytes.length;
  }

  /** `pread()` through `shmem_file_read_iter()`: up to the end of the file; a page not in the cache reads as zeros. */
  read(length: number, offset: number): Uint8Array {
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) throw new KernelError('EINVAL', 'pread: invalid range');
    const ps = this.#sys.pageSize;
    const out = new Uint8Array(Math.max(0, Math.min(length, this.size - offset)));
    const cache = this.#sys.shmemPages(this.file);
    for (let done = 0; done < out.length; ) {
      const pos = offset + done;
      const inPage = pos % ps;
      const n = Math.min(ps - inPage, out.length - done);
      const page = cache.get((pos - inPage) / ps);
      if (page !== undefined) out.set(this.#sys.readPage(page, inPage, n), done);
      done += n;
    }
    return out;
  }

  /** The last descriptor closed. */
  closed(): void {
    this.fds--;
    this.#maybeEvict();
  }

  #maybeEvict(): void {
    if (this.fds === 0 && this.maps === 0) this.#sys.shmemRelease(this.file);
  }
}

/** The simulated nanoseconds a scheduling point of the driver stands for. */
const RESCHED_NS = 1000;

/**
 * A user process of the model for {@link runHmmTests} (or any program
 * driving the dmirror devices): an address space of `@zonedev/mm` with its
 * page tables, a file-descriptor table for `/dev/hmm_dmirror<N>`, `fork()`
 * (copy-on-write, as `dup_mmap()` does) and threads run at the driver's
 * scheduling points (`cond_resched()`), a deterministic stand-in for
 * concurrency: a thread due after `ns` runs at the first point where the
 * process has made that much progress.
 * @public
 */
export class DmirrorTask implements HmmTestsTask {
  /** The address space. */
  readonly mm: MmStruct;
  /** `sysconf(_SC_PAGE_SIZE)`: the machine's `PAGE_SIZE`. */
  readonly pageSize: number;
  readonly #o: DmirrorTaskOptions;
  readonly #fds = new Map<number, FileRef>();
  readonly #threads: { due: number; fn: () => void; done: boolean }[] = [];
  #ino = 1000;
  #clock = 0;
  #exited = false;

  constructor(options: DmirrorTaskOptions, mm?: MmStruct) {
    if (typeof options !== 'object' || options === null) throw new KernelError('EINVAL', `dmirror task: invalid options ${String(options)}`);
    if (!(options.system instanceof MmSystem)) throw new KernelError('EINVAL', 'dmirror task: options.system is not an mm system');
    if (!(options.testHmm instanceof TestHmm)) throw new KernelError('EINVAL', 'dmirror task: options.testHmm is not the test_hmm module');
    if (options.nextIno !== undefined && typeof options.nextIno !== 'function') throw new KernelError('EINVAL', 'dmirror task: options.nextIno is not a function');
    if (typeof options.nextPid !== 'function') throw new KernelError('EINVAL', 'dmirror task: options.nextPid is not a function');
    if (mm !== undefined && !(mm instanceof MmStruct)) throw new KernelError('EINVAL', `dmirror task: not an mm: ${String(mm)}`);
    this.#o = options;
    this.pageSize = options.system.pageSize;
    this.mm = mm ?? new MmStruct(options.nextPid(), { system: options.system });
  }

  /** The process id. */
  get pid(): number {
    return this.mm.pid;
  }

  /** `mmap()`: anonymous memory, or a tmpfs file open on `fd` (-EBADF for another fd, -ENODEV for a dmirror device). */
  mmap(length: number, prot: number, flags: number, fd: number = -1, offset: number = 0): number {
    // sys_mmap(): an offset that is not page aligned is -EINVAL, even for anonymous memory
    checkUnsigned('mmap', 'offset', offset);
    if (offset % this.pageSize !== 0) throw new KernelError('EINVAL', `mmap: offset 0x${offset.toString(16)} is not page aligned`);
    if (fd === -1) return this.mm.mmap({ length, prot, flags });
    const f = this.#file(fd);
    if (f.kind !== 'tmpfile') throw new KernelError('ENODEV', 'mmap: /dev/hmm_dmirror does not support mmap in v5.13');
    return this.mm.mmap({ length, prot, flags, file: f.file.file, offset });
  }

  munmap(addr: number, length: number): void {
    this.mm.munmap(addr, length);
  }

  mprotect(addr: number, length: number, prot: number): void {
    this.mm.mprotect(addr, length, prot);
  }

  madvise(addr: number, length: number, advice: number): number {
    return this.mm.madvise(addr, length, advice);
  }

  load(addr: number, length: number): Uint8Array {
    return userRead(this.mm, addr, length);
  }

  store(addr: number, bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array)) throw new KernelError('EFAULT', `store: not a buffer: ${String(bytes)}`);
    userWrite(this.mm, addr, bytes);
  }

  /** `open("/dev/hmm_dmirror<N>", O_RDWR)`: -ENOENT for another path, -ENODEV when the device is missing. */
  open(path: string): number {
    const m = /^\/dev\/hmm_dmirror(\d+)$/.exec(path);
    if (m === null) throw new KernelError('ENOENT', `${path}: No such file or directory`);
    const file = this.#o.testHmm.open(Number(m[1]), this.mm);
    return this.#install({ kind: 'dmirror', file, refs: 1 });
  }

  /** The lowest free descriptor, from 3. */
  #install(f: FileRef): number {
    let fd = 3;
    while (this.#fds.has(fd)) fd++;
    this.#fds.set(fd, f);
    return fd;
  }

  /**
   * `open(dir, O_TMPFILE | O_EXCL | O_RDWR, 0600)`: an unnamed file on the
   * tmpfs mounted at /tmp. -ENOENT for another directory.
   */
  openTmpfile(dir: string): number {
    if (dir !== '/tmp' && dir !== '/tmp/') throw new KernelError('ENOENT', `${dir}: No such file or directory`);
    return this.#install({ kind: 'tmpfile', file: new TmpFile(this.#o.system, this.#o.nextIno?.() ?? this.#ino++), refs: 1 });
  }

  #tmpfile(fd: number): TmpFile {
    const f = this.#file(fd);
    if (f.kind !== 'tmpfile') throw new KernelError('EINVAL', `fd ${fd} is not a regular file`);
    return f.file;
  }

  /** `ftruncate(fd, length)`: -EBADF, -EINVAL for a device or a bad length. */
  ftruncate(fd: number, length: number): void {
    this.#tmpfile(fd).truncate(length);
  }

  /** `pwrite(fd, bytes, bytes.length, offset)`. */
  pwrite(fd: number, bytes: Uint8Array, offset: number): number {
    return this.#tmpfile(fd).write(bytes, offset);
  }

  /** `pread(fd, buf, length, offset)`. */
  pread(fd: number, length: number, offset: number): Uint8Array {
    return this.#tmpfile(fd).read(length, offset);
  }

  #file(fd: number): FileRef {
    const f = this.#fds.get(fd);
    if (f === undefined) throw new KernelError('EBADF', `fd ${fd} is not open`);
    return f;
  }

  /** `close(fd)`: the last descriptor of a file releases it. -EBADF for an fd not open. */
  close(fd: number): void {
    const f = this.#file(fd);
    this.#fds.delete(fd);
    f.refs--;
    if (f.refs > 0) return;
    if (f.kind === 'dmirror') f.file.release();
    else f.file.closed();
  }

  ioctl(fd: number, request: number, cmd: HmmDmirrorCmd): void {
    const f = this.#file(fd);
    if (f.kind !== 'dmirror') throw new KernelError('ENOTTY', `fd ${fd}: Inappropriate ioctl for device`);
    const prev = this.#o.testHmm.onCondResched;
    this.#o.testHmm.onCondResched = () => this.#resched();
    try {
      f.file.ioctl(request, cmd);
    } finally {
      this.#o.testHmm.onCondResched = prev;
    }
  }

  /** `fork()`: a child with a copy-on-write copy of the address space and the same open files. */
  fork(): DmirrorTask {
    const child = new DmirrorTask(this.#o, this.mm.fork(this.#o.nextPid()));
    for (const [fd, f] of this.#fds) {
      f.refs++;
      child.#fds.set(fd, f);
    }
    return child;
  }

  /** `exit()`: the descriptors are closed and the address space goes (`mmput`). */
  exit(): void {
    if (this.#exited) return;
    this.#exited = true;
    for (const fd of [...this.#fds.keys()]) this.close(fd);
    for (const t of this.#threads) this.#runThread(t);
    this.mm.mmput();
  }

  spawnThread(ns: number, fn: () => void): { join(): void } {
    checkUnsigned('pthread_create', 'delay', ns);
    if (typeof fn !== 'function') throw new KernelError('EINVAL', 'pthread_create: start_routine is not a function');
    const t = { due: this.#clock + ns, fn, done: false };
    this.#threads.push(t);
    return { join: () => this.#runThread(t) };
  }

  #runThread(t: { fn: () => void; done: boolean }): void {
    if (t.done) return;
    t.done = true;
    t.fn();
  }

  #resched(): void {
    this.#clock += RESCHED_NS;
    for (const t of this.#threads) if (!t.done && t.due <= this.#clock) this.#runThread(t);
  }
}

/**
 * A spawner for {@link runHmmTests}: each call makes a fresh process on
 * `system` whose `open()` reaches `testHmm`'s devices; pids count up from
 * `firstPid`.
 * @public
 */
export function dmirrorTaskSpawner(testHmm: TestHmm, system: MmSystem, firstPid: number = 1000): () => DmirrorTask {
  if (typeof testHmm !== 'object' || testHmm === null || typeof testHmm.open !== 'function') throw new KernelError('EINVAL', `dmirror task: not the test_hmm module: ${String(testHmm)}`);
  if (!(system instanceof MmSystem)) throw new KernelError('EINVAL', `dmirror task: not an mm system: ${String(system)}`);
  checkUnsigned('dmirror task', 'first pid', firstPid, 0x3fffffff);
  let pid = firstPid;
  let ino = 1000;
  const options: DmirrorTaskOptions = { testHmm, system, nextPid: () => pid++, nextIno: () => ino++ };
  return () => new DmirrorTask(options);
}
