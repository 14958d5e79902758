/**
 * Process address spaces: `struct mm_struct` (include/linux/mm_types.h) with
 * its sorted VMA list, and the system calls that shape it, after Linux v5.13:
 * mmap (do_mmap, get_unmapped_area, mmap_region and vma_merge in mm/mmap.c,
 * with arch_get_unmapped_area_topdown of arch/x86/kernel/sys_x86_64.c and
 * mmap_base of arch/x86/mm/mmap.c), munmap (__do_munmap, __split_vma),
 * mprotect (do_mprotect_pkey, mprotect_fixup in mm/mprotect.c), madvise
 * (MADV_HUGEPAGE/MADV_NOHUGEPAGE in mm/madvise.c and hugepage_madvise in
 * mm/khugepaged.c), and /proc/PID/maps (show_map_vma in fs/proc/task_mmu.c).
 *
 * One rule of the model is stricter than the kernel: a call that fails
 * changes nothing. The kernel validates as it goes, so a munmap whose second
 * split is refused keeps its first split, an mprotect that meets a hole has
 * already changed the VMAs before it, a madvise applies its advice around a
 * hole before returning -ENOMEM, and a MAP_FIXED mmap whose driver mmap fails
 * has already unmapped what was there. Here every check runs before anything
 * changes.
 *
 * An address space made with an {@link MmSystem} (`system` option, or
 * `MmSystem`-aware callers) has page tables: munmap and a MAP_FIXED mmap zap
 * the pages of what they unmap between `MMU_NOTIFY_UNMAP` notifications
 * (unmap_region, zap_page_range and free_pgtables in mm/mmap.c and
 * mm/memory.c), mprotect changes the PTEs of what it changes
 * (change_protection, with `MMU_NOTIFY_PROTECTION_VMA` when anything is
 * mapped), fork copies them (dup_mmap, copy_page_range) and exit tears them
 * down (exit_mmap). Without a system, an address space has VMAs only.
 */
import { KernelError, checkUnsigned, errnoName, hasBits, anyBits, orBits, clearBits } from '@zonedev/kernel';
import type { ErrnoName } from '@zonedev/kernel';
import {
  MMU_NOTIFY_UNMAP,
  mmuNotifierInvalidateRangeEnd,
  mmuNotifierInvalidateRangeStart,
  mmuNotifierRangeInit,
} from './mmu-notifier.js';
import type { MmuNotifierMm, MmuNotifierSubscriptions } from './mmu-notifier.js';
import {
  VM_ACCOUNT,
  VM_HUGEPAGE,
  VM_HUGETLB,
  VM_MAYEXEC,
  VM_MAYREAD,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_NOHUGEPAGE,
  VM_NORESERVE,
  VM_SHARED,
  VM_WRITE,
  Vma,
  calcVmProtBits,
  exceedsMayFlags,
  isSpecial,
  withAccess,
} from './vma.js';
import type { MmapFile, VmOperations } from './vma.js';
import {
  MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES, copyPageRange, zapPageRange,
} from './memory.js';
import type { MmSystem } from './memory.js';
import { MMU_NOTIFY_PROTECTION_VMA } from './mmu-notifier.js';
import type { PageTable } from './pgtable.js';
import { _PAGE_NX, _PAGE_RW, _PAGE_USER, _PAGE_PRESENT, isSwapPte, ptePresent, swpEntryToPte, vmGetPageProt } from './pgtable.js';
import type { Pte } from './pgtable.js';
import { anonVmaFork, unlinkAnonVmas } from './rmap.js';
import type { AnonVma } from './rmap.js';
import {
  isWriteDevicePrivateEntry, isWriteMigrationEntry, makeDevicePrivateEntryRead, makeMigrationEntryRead,
} from './swapops.js';
import { PAGE_SIZE, VM_DONTCOPY, VM_LOCKED, VM_LOCKONFAULT, VM_WIPEONFORK } from './vma.js';
import { showMapVma, showSmap, taskMem } from './task-mmu.js';
import { checkSys, made } from './args.js';

/** `PROT_NONE` (include/uapi/asm-generic/mman-common.h). @public */ export const PROT_NONE = 0x0;
/** `PROT_READ`. @public */ export const PROT_READ = 0x1;
/** `PROT_WRITE`. @public */ export const PROT_WRITE = 0x2;
/** `PROT_EXEC`. @public */ export const PROT_EXEC = 0x4;
/** `PROT_SEM`. @public */ export const PROT_SEM = 0x8;

/** `MAP_SHARED` (include/uapi/linux/mman.h). @public */ export const MAP_SHARED = 0x01;
/** `MAP_PRIVATE`. @public */ export const MAP_PRIVATE = 0x02;
/** `MAP_TYPE`: the mask of the mapping type. @public */ export const MAP_TYPE = 0x0f;
/** `MAP_FIXED`. @public */ export const MAP_FIXED = 0x10;
/** `MAP_ANONYMOUS`. @public */ export const MAP_ANONYMOUS = 0x20;
/** `MAP_NORESERVE` (x86). @public */ export const MAP_NORESERVE = 0x4000;
/** `MAP_FIXED_NOREPLACE`. @public */ export const MAP_FIXED_NOREPLACE = 0x100000;

/** `MADV_HUGEPAGE` (include/uapi/asm-generic/mman-common.h). @public */ export const MADV_HUGEPAGE = 14;
/** `MADV_NOHUGEPAGE`. @public */ export const MADV_NOHUGEPAGE = 15;

/** x86_64 `PAGE_SHIFT`. @public */ export const PAGE_SHIFT = 12;
export { PAGE_SIZE } from './vma.js';
/**
 * x86_64 `TASK_SIZE_MAX` with 4-level paging (arch/x86/include/asm/page_64_types.h):
 * `(1 << 47) - PAGE_SIZE`, also `DEFAULT_MAP_WINDOW`.
 * @public
 */
export const TASK_SIZE_4LEVEL = 0x7ffffffff000;
/** `CONFIG_DEFAULT_MMAP_MIN_ADDR` as x86 configs set it (`vm.mmap_min_addr`). @public */
export const DEFAULT_MMAP_MIN_ADDR = 65536;
/** `DEFAULT_MAX_MAP_COUNT` (include/linux/mm.h): `vm.max_map_count`. @public */
export const DEFAULT_MAX_MAP_COUNT = 65530;

const SZ_128M = 0x8000000;
/** `_STK_LIM` (include/uapi/linux/resource.h): the default RLIMIT_STACK, 8 MiB. */
const STK_LIM = 0x800000;
/** `stack_guard_gap` (mm/mmap.c): 256 pages. */
const STACK_GUARD_GAP_PAGES = 256;

/**
 * `mmap_base()` (arch/x86/mm/mmap.c, and the same rule in
 * arch/powerpc/mm/mmap.c) without randomization: the stack rlimit plus the
 * guard gap (`stack_guard_gap`, 256 pages of `pageSize`), clamped to at
 * least 128 MiB and at most 5/6 of the task size, below `TASK_SIZE`, page
 * aligned.
 * @public
 */
export function x86MmapBase(taskSize: number, stackRlimit: number = STK_LIM, pageSize: number = PAGE_SIZE): number {
  checkUnsigned('mmap_base', 'task_size', taskSize);
  checkUnsigned('mmap_base', 'stack rlimit', stackRlimit);
  checkUnsigned('mmap_base', 'page size', pageSize);
  if (pageSize === 0 || 2 ** Math.round(Math.log2(pageSize)) !== pageSize) throw new KernelError('EINVAL', `mmap_base: page size ${pageSize} is not a power of two`);
  const gapMin = SZ_128M;
  const gapMax = Math.floor(taskSize / 6) * 5;
  let gap = stackRlimit + STACK_GUARD_GAP_PAGES * pageSize;
  if (gap < gapMin) gap = gapMin;
  else if (gap > gapMax) gap = gapMax;
  return pageAlign(taskSize - gap, pageSize);
}

/** `PAGE_ALIGN(x)` for pages of `ps` bytes. */
function pageAlign(x: number, ps: number): number {
  return Math.ceil(x / ps) * ps;
}

function fail(errno: ErrnoName, message: string): never {
  throw new KernelError(errno, message);
}

/** The device and inode /proc/PID/maps shows for `MAP_SHARED|MAP_ANONYMOUS` memory: the shm mount's. */
const SHMEM_DEV_MAJOR = 0;
const SHMEM_DEV_MINOR = 1;

/** Options of {@link MmStruct}. @public */
export interface MmStructOptions {
  /** `TASK_SIZE`; default {@link TASK_SIZE_4LEVEL}. */
  taskSize?: number;
  /** `vm.mmap_min_addr`; default {@link DEFAULT_MMAP_MIN_ADDR}. */
  mmapMinAddr?: number;
  /** `vm.max_map_count`; default {@link DEFAULT_MAX_MAP_COUNT}. */
  maxMapCount?: number;
  /** First inode number for shared anonymous memory (shmem's `get_next_ino()`); default 1. */
  firstShmemIno?: number;
  /** The machine's mm/ (page tables, faults); without it the address space has VMAs only. */
  system?: MmSystem;
  /**
   * `PAGE_SIZE` of an address space without a system (default 4096); with
   * one it is the architecture's, and a different value here is EINVAL.
   */
  pageSize?: number;
  /**
   * The task's memory policy `set_mempolicy(MPOL_BIND, {nid})` (mm/mempolicy.c),
   * as `numactl --membind=nid` sets it: user pages come from node `nid` only
   * (`alloc_page_vma()` with a one-node nodemask), and a fork inherits it.
   * Default: the local node's zonelist with its fallbacks (`MPOL_DEFAULT`).
   * EINVAL for a node that has no memory.
   */
  membind?: number;
}

/** Arguments of {@link MmStruct.mmap}. @public */
export interface MmapArgs {
  /** The address hint, or the address with MAP_FIXED; default 0. */
  addr?: number;
  /** Bytes to map; rounded up to whole pages. */
  length: number;
  /** `PROT_*` bits. */
  prot: number;
  /** `MAP_*` bits: exactly one of MAP_SHARED and MAP_PRIVATE. */
  flags: number;
  /** The file to map; absent with MAP_ANONYMOUS. */
  file?: MmapFile;
  /** Byte offset in the file; must be page aligned. */
  offset?: number;
}

/** A VMA in the making: the working copy every call plans on before committing. */
interface Rec {
  start: number;
  end: number;
  flags: number;
  pgoff: number;
  file: MmapFile | null;
  ops: VmOperations | null;
  priv: unknown;
  /** `anon_vma` and `anon_vma_chain` (shared by the pieces of a split). */
  anon: AnonVma | null;
  chain: AnonVma[];
  /** The existing VMA this piece stays, or null for a new one. */
  orig: Vma | null;
  /** For a new piece, the VMA it was split from (vm_ops->open is called on it). */
  from: Vma | null;
}

function recOf(v: Vma): Rec {
  return {
    start: v.vmStart,
    end: v.vmEnd,
    flags: v.vmFlags,
    pgoff: v.vmPgoff,
    file: v.vmFile,
    ops: v.vmOps,
    priv: v.vmPrivateData,
    anon: v.anonVma,
    chain: v.anonVmaChain,
    orig: v,
    from: null,
  };
}


/** is_mergeable_vma() and is_mergeable_anon_vma() (mm/mmap.c). */
function isMergeable(r: Rec, file: MmapFile | null, flags: number, anon: AnonVma | null): boolean {
  if (r.flags !== flags) return false;
  if (r.file !== file) return false;
  if (r.ops?.close) return false;
  if (r.anon && anon && r.anon !== anon) return false;
  return true;
}

/**
 * `struct mm_struct` (include/linux/mm_types.h): one process's address
 * space — its VMAs sorted by address, `mm_users`, the mmap layout of x86_64
 * and the MMU notifier subscriptions.
 * @public
 */
export class MmStruct implements MmuNotifierMm {
  /** The pid of the process owning it (/proc/PID). */
  readonly pid: number;
  /** `this.pageSize` of this address space: the architecture's (4 KiB on x86_64, 64 KiB on powerpc with 64K pages). */
  readonly pageSize: number;
  /** `mm_users`: tasks sharing this address space. */
  mmUsers = 1;
  /** `task_size`. */
  readonly taskSize: number;
  /** `mmap_base`: where top-down searches start. */
  readonly mmapBase: number;
  /** `mmap_legacy_base`: where the bottom-up fallback starts (`PAGE_ALIGN(TASK_SIZE / 3)`). */
  readonly mmapLegacyBase: number;
  /** `vm.mmap_min_addr`: no mapping may start below it (-EPERM). */
  readonly mmapMinAddr: number;
  /** `vm.max_map_count`. */
  readonly maxMapCount: number;
  /** `notifier_subscriptions`: allocated by the first MMU notifier. */
  notifierSubscriptions: MmuNotifierSubscriptions | null = null;
  /** The machine's mm/ this address space lives in, or null (VMAs only). */
  readonly system: MmSystem | null;
  /** `mm->pgd`: the page tables (null without a system). */
  readonly pgd: PageTable | null;
  /** The node of an `MPOL_BIND` task policy ({@link MmStructOptions.membind}), or undefined. */
  readonly membind: number | undefined;
  /** `mm->has_pinned`: set by the first FOLL_PIN (fork then copies pinned anonymous pages). */
  hasPinned = false;
  /** `mm->hiwater_rss`, updated before rss drops. */
  hiwaterRss = 0;
  /** `mm->hiwater_vm`, updated before total_vm drops. */
  hiwaterVm = 0;
  readonly #options: MmStructOptions;
  readonly #rss = [0, 0, 0, 0];
  #vmas: Vma[] = [];
  #nextShmemIno: number;

  constructor(pid: number, options: MmStructOptions = {}) {
    checkUnsigned('mm_alloc', 'pid', pid);
    if (typeof options !== 'object' || options === null) throw new KernelError('EINVAL', `mm_alloc: invalid options ${String(options)}`);
    if (options.system !== undefined) checkSys('mm_alloc', options.system);
    for (const k of ['taskSize', 'mmapMinAddr', 'maxMapCount', 'firstShmemIno', 'membind'] as const) {
      if (options[k] !== undefined) checkUnsigned('mm_alloc', k, options[k]);
    }
    made('mm', this);
    this.pid = pid;
    this.taskSize = options.taskSize ?? TASK_SIZE_4LEVEL;
    this.mmapMinAddr = options.mmapMinAddr ?? DEFAULT_MMAP_MIN_ADDR;
    this.maxMapCount = options.maxMapCount ?? DEFAULT_MAX_MAP_COUNT;
    this.system = options.system ?? null;
    const ps = this.system ? this.system.pageSize : (options.pageSize ?? PAGE_SIZE);
    if (!Number.isSafeInteger(ps) || ps < 4096 || ps > 2 ** 30 || 2 ** Math.round(Math.log2(ps)) !== ps) {
      throw new KernelError('EINVAL', `mm_alloc: page size ${String(ps)} is not a power of two from 4096`);
    }
    if (options.pageSize !== undefined && options.pageSize !== ps) {
      throw new KernelError('EINVAL', `mm_alloc: page size ${options.pageSize} differs from the architecture's ${ps}`);
    }
    this.pageSize = ps;
    this.mmapBase = x86MmapBase(this.taskSize, STK_LIM, ps);
    this.mmapLegacyBase = pageAlign(Math.floor(this.taskSize / 3), ps);
    this.#nextShmemIno = options.firstShmemIno ?? 1;
    this.#options = options;
    if (options.membind !== undefined) {
      checkUnsigned('set_mempolicy', 'nid', options.membind);
      if (this.system && this.system.core.nodeData(options.membind) === undefined) {
        throw new KernelError('EINVAL', `set_mempolicy: node ${options.membind} has no memory`);
      }
    }
    this.membind = options.membind;
    this.pgd = this.system ? this.system.newPageTable() : null;
    if (this.system) {
      if (this.taskSize > 2 ** this.system.geometry.vaBits) {
        throw new KernelError('EINVAL', `mm_alloc: TASK_SIZE 0x${this.taskSize.toString(16)} exceeds the ${this.system.geometry.vaBits}-bit page tables`);
      }
      this.system.register(this);
    }
  }

  /** `get_mm_counter(mm, member)`: `MM_FILEPAGES`, `MM_ANONPAGES`, `MM_SWAPENTS` or `MM_SHMEMPAGES`, in pages. */
  getMmCounter(member: number): number {
    const v = this.#rss[member];
    if (v === undefined) throw new KernelError('EINVAL', `get_mm_counter: no counter ${member}`);
    return v;
  }

  /** `add_mm_counter(mm, member, value)`. */
  addRss(member: number, value: number): void {
    if (!Number.isSafeInteger(value)) throw new KernelError('EINVAL', `add_mm_counter: invalid value ${String(value)}`);
    const v = Number.isInteger(member) ? this.#rss[member] : undefined;
    if (v === undefined) throw new KernelError('EINVAL', `add_mm_counter: no counter ${member}`);
    this.#rss[member] = v + value;
  }

  /** `get_mm_rss(mm)`: file + anonymous + shmem pages. */
  getMmRss(): number {
    return this.#rss[MM_FILEPAGES]! + this.#rss[MM_ANONPAGES]! + this.#rss[MM_SHMEMPAGES]!;
  }

  /** `mm->total_vm`: mapped pages. */
  get totalVm(): number {
    return this.#vmas.reduce((a, v) => a + (v.vmEnd - v.vmStart) / this.pageSize, 0);
  }

  /** `update_hiwater_rss()` and `update_hiwater_vm()`. */
  #updateHiwater(): void {
    this.hiwaterRss = Math.max(this.hiwaterRss, this.getMmRss());
    this.hiwaterVm = Math.max(this.hiwaterVm, this.totalVm);
  }

  /**
   * unmap_region() (mm/mmap.c): zaps `[start, end)` of every VMA it touches
   * between `MMU_NOTIFY_UNMAP` start and end (unmap_vmas), then
   * `fn` (the VMA list change) and free_pgtables().
   */
  #unmapRegion(start: number, end: number, fn: () => void): void {
    const range = this.notifierSubscriptions ? mmuNotifierRangeInit(MMU_NOTIFY_UNMAP, 0, this, start, end) : null;
    if (range) mmuNotifierInvalidateRangeStart(range);
    try {
      if (this.pgd) {
        this.#updateHiwater();
        for (const v of this.#vmas) if (v.vmStart < end && v.vmEnd > start) zapPageRange(v, start, end);
      }
    } finally {
      if (range) mmuNotifierInvalidateRangeEnd(range);
    }
    fn();
    this.pgd?.freePgtables(start, end);
  }

  /** `PAGE_ALIGN(x)`. */
  #pageAlign(x: number): number {
    return pageAlign(x, this.pageSize);
  }

  /** `offset_in_page(x) != 0`. */
  #offsetInPage(x: number): boolean {
    return x % this.pageSize !== 0;
  }

  /** `vma_pages()` of a planned piece. */
  #pages(r: Rec): number {
    return (r.end - r.start) / this.pageSize;
  }

  /** How the function-graph tracer prints an mm argument. */
  get traceName(): string {
    return `mm(pid ${this.pid})`;
  }

  /** `mm->map_count`. */
  get mapCount(): number {
    return this.#vmas.length;
  }

  /** The VMAs in address order (the `mm->mmap` list). */
  vmas(): readonly Vma[] {
    return [...this.#vmas];
  }

  /** `find_vma(mm, addr)` (mm/mmap.c): the first VMA with `addr < vm_end`, or null. */
  findVma(addr: number): Vma | null {
    // an address is an unsigned long: beyond 2^53 it is simply above every VMA
    if (typeof addr !== 'number' || !(addr >= 0) || (addr < 2 ** 53 && !Number.isInteger(addr))) {
      throw new KernelError('EINVAL', `find_vma: invalid address ${String(addr)}`);
    }
    return this.#vmas.find((v) => addr < v.vmEnd) ?? null;
  }

  /** `find_vma_intersection(mm, start, end)` (include/linux/mm.h). */
  findVmaIntersection(start: number, end: number): Vma | null {
    if (typeof end !== 'number' || !(end >= 0) || (end < 2 ** 53 && !Number.isInteger(end))) {
      throw new KernelError('EINVAL', `find_vma_intersection: invalid end ${String(end)}`);
    }
    const v = this.findVma(start);
    return v && end > v.vmStart ? v : null;
  }

  // ---- get_unmapped_area

  #fits(list: readonly { start: number; end: number }[], addr: number, len: number): boolean {
    const v = list.find((x) => addr < x.end);
    return !v || addr + len <= v.start;
  }

  /** The gaps between VMAs, lowest first, as [start, end). */
  #gaps(): { start: number; end: number }[] {
    const gaps: { start: number; end: number }[] = [];
    let prevEnd = 0;
    for (const v of this.#vmas) {
      if (v.vmStart > prevEnd) gaps.push({ start: prevEnd, end: v.vmStart });
      prevEnd = v.vmEnd;
    }
    gaps.push({ start: prevEnd, end: Number.MAX_SAFE_INTEGER });
    return gaps;
  }

  /** unmapped_area_topdown() (mm/mmap.c): the highest fit in [low, high). */
  #unmappedAreaTopdown(len: number, low: number, high: number): number | null {
    const gaps = this.#gaps();
    for (let i = gaps.length - 1; i >= 0; i--) {
      const g = gaps[i]!;
      const top = Math.min(g.end, high) - len;
      if (top >= Math.max(g.start, low)) return top;
    }
    return null;
  }

  /** unmapped_area() (mm/mmap.c): the lowest fit in [low, high). */
  #unmappedArea(len: number, low: number, high: number): number | null {
    for (const g of this.#gaps()) {
      const a = Math.max(g.start, low);
      if (a + len <= Math.min(g.end, high)) return a;
    }
    return null;
  }

  /**
   * get_unmapped_area() (mm/mmap.c): the file's `get_unmapped_area` when it
   * has one and the mapping is not fixed, else the mm's own.
   */
  #getUnmappedAreaFor(file: MmapFile | null, addr: number, len: number, pgoff: number, fixed: boolean): number {
    if (fixed || !file?.getUnmappedArea) return this.#getUnmappedArea(addr, len, fixed);
    const result = file.getUnmappedArea((a, l) => this.#getUnmappedArea(a, l, false), addr, len, pgoff);
    checkUnsigned('get_unmapped_area', 'address', result);
    if (result > this.taskSize - len) fail('ENOMEM', `0x${result.toString(16)}+0x${len.toString(16)} is beyond TASK_SIZE`);
    if (this.#offsetInPage(result)) fail('EINVAL', `address 0x${result.toString(16)} is not page aligned`);
    return result;
  }

  /**
   * The mm's own `get_unmapped_area`: arch_get_unmapped_area_topdown()
   * and its bottom-up fallback arch_get_unmapped_area()
   * (arch/x86/kernel/sys_x86_64.c).
   */
  #getUnmappedArea(addr: number, len: number, fixed: boolean): number {
    const taskSize = this.taskSize;
    if (len > taskSize) fail('ENOMEM', `length 0x${len.toString(16)} exceeds TASK_SIZE`);
    let result: number | null;
    if (fixed) {
      result = addr;
    } else {
      result = null;
      if (addr) {
        const hint = addr - (addr % this.pageSize);
        if (taskSize - len >= hint && this.#fits(this.#ranges(), hint, len)) result = hint;
      }
      if (result === null) result = this.#unmappedAreaTopdown(len, this.pageSize, this.mmapBase);
      if (result === null) {
        // arch_get_unmapped_area(): the hint again, then bottom-up from mmap_legacy_base
        if (addr) {
          const hint = this.#pageAlign(addr);
          if (taskSize - len >= hint && this.#fits(this.#ranges(), hint, len)) result = hint;
        }
        if (result === null) result = this.#unmappedArea(len, this.mmapLegacyBase, taskSize);
      }
      if (result === null) fail('ENOMEM', `no room for 0x${len.toString(16)} bytes in the address space`);
    }
    if (result > taskSize - len) fail('ENOMEM', `0x${result.toString(16)}+0x${len.toString(16)} is beyond TASK_SIZE`);
    if (this.#offsetInPage(result)) fail('EINVAL', `address 0x${result.toString(16)} is not page aligned`);
    if (result < this.mmapMinAddr) fail('EPERM', `address 0x${result.toString(16)} is below mmap_min_addr`);
    return result;
  }

  #ranges(): { start: number; end: number }[] {
    return this.#vmas.map((v) => ({ start: v.vmStart, end: v.vmEnd }));
  }

  // ---- planning on working copies

  /**
   * __split_vma(mm, vma, addr, new_below) (mm/mmap.c) on the working copy:
   * asks `vm_ops->may_split`, then cuts `list[i]` at `addr`. With `newBelow`
   * the new piece is the lower one and the VMA keeps the upper part.
   */
  #split(list: Rec[], i: number, addr: number, newBelow: boolean): void {
    const r = list[i]!;
    if (r.ops?.maySplit) {
      const err = r.ops.maySplit(r.orig ?? r.from!, addr);
      if (err !== 0) fail(errnoName(err) ?? 'EINVAL', `vm_ops->may_split refused a split at 0x${addr.toString(16)}`);
    }
    const lowPages = (addr - r.start) / this.pageSize;
    const low: Rec = { ...r, end: addr };
    const high: Rec = { ...r, start: addr, pgoff: r.pgoff + lowPages };
    const keeper = r.orig ?? null;
    const source = r.orig ?? r.from;
    if (newBelow) {
      low.orig = null;
      low.from = source;
      high.orig = keeper;
    } else {
      high.orig = null;
      high.from = source;
      low.orig = keeper;
    }
    list.splice(i, 1, low, high);
  }

  /** split_vma() (mm/mmap.c): __split_vma after the map_count check. */
  #splitChecked(list: Rec[], i: number, addr: number, newBelow: boolean): void {
    if (list.length >= this.maxMapCount) fail('ENOMEM', `map_count ${list.length} reached vm.max_map_count`);
    this.#split(list, i, addr, newBelow);
  }

  /**
   * vma_merge() (mm/mmap.c) on the working copy, for `[addr, end)` given the
   * index of `prev` (-1 for none): returns the index of the merged VMA or -1.
   */
  #vmaMerge(
    list: Rec[],
    prevIdx: number,
    addr: number,
    end: number,
    flags: number,
    file: MmapFile | null,
    pgoff: number,
    anon: AnonVma | null = null,
  ): number {
    if (isSpecial(flags)) return -1;
    const pglen = (end - addr) / this.pageSize;
    const prev = prevIdx >= 0 ? list[prevIdx]! : null;
    let nextIdx = prevIdx + 1;
    const area = list[nextIdx];
    if (area && area.end === end) nextIdx++;
    const next = list[nextIdx] ?? null;
    const canAfter = (r: Rec): boolean => isMergeable(r, file, flags, anon) && r.pgoff + this.#pages(r) === pgoff;
    const canBefore = (r: Rec): boolean => isMergeable(r, file, flags, anon) && r.pgoff === pgoff + pglen;
    /** The merged VMA takes whichever anon_vma exists (__vma_adjust's importer). */
    const adopt = (into: Rec, other: Rec | null): void => {
      const av = into.anon ?? other?.anon ?? anon;
      if (!av) return;
      into.anon = av;
      // the merged VMA stays linked to every anon_vma either part was linked to
      const chain = new Set<AnonVma>([...into.chain, ...(other?.chain ?? []), av]);
      into.chain = [...chain];
    };

    if (prev && prev.end === addr && canAfter(prev)) {
      if (next && end === next.start && canBefore(next)) {
        // cases 1, 6: prev absorbs everything up to next's end
        const newEnd = next.end;
        adopt(prev, next);
        adopt(prev, list[prevIdx + 1] ?? null);
        list.splice(prevIdx + 1, nextIdx - prevIdx);
        prev.end = newEnd;
      } else {
        // cases 2, 5, 7: prev grows to end; an overlapped area starts at end
        adopt(prev, list[prevIdx + 1]?.start === addr ? list[prevIdx + 1]! : null);
        prev.end = end;
        const a = list[prevIdx + 1];
        if (a && a.start < end) {
          if (a.end <= end) list.splice(prevIdx + 1, 1);
          else {
            a.pgoff += (end - a.start) / this.pageSize;
            a.start = end;
          }
        }
      }
      return prevIdx;
    }
    if (next && end === next.start && canBefore(next)) {
      adopt(next, list[prevIdx + 1]?.start === addr ? list[prevIdx + 1]! : null);
      if (prev && addr < prev.end) {
        // case 4: prev shrinks to addr, next grows down to addr
        prev.end = addr;
        next.start = addr;
        next.pgoff -= pglen;
        return nextIdx;
      }
      // cases 3, 8: next grows down to addr; an area covering [addr, end) goes
      next.start = addr;
      next.pgoff -= pglen;
      if (nextIdx !== prevIdx + 1) {
        list.splice(prevIdx + 1, 1);
        return nextIdx - 1;
      }
      return nextIdx;
    }
    return -1;
  }

  /** Commit a planned list: reuse kept VMAs, make new ones, open splits, close removed. */
  #commit(list: Rec[]): Vma[] {
    const kept = new Set<Vma>();
    const opened: Vma[] = [];
    const result = list.map((r) => {
      let v: Vma;
      if (r.orig) {
        v = r.orig;
        v.vmStart = r.start;
        v.vmEnd = r.end;
        v.vmFlags = r.flags;
        v.vmPgoff = r.pgoff;
        kept.add(v);
      } else {
        v = new Vma(r.start, r.end, r.flags, r.pgoff, r.file);
        v.vmOps = r.ops;
        v.vmPrivateData = r.priv;
        if (r.from) opened.push(v);
      }
      v.vmMm = this;
      v.anonVma = r.anon;
      v.anonVmaChain = r.chain;
      return v;
    });
    const removed = this.#vmas.filter((v) => !kept.has(v));
    // anon_vma_clone() for new pieces, unlink_anon_vmas() for removed VMAs
    for (const v of removed) for (const av of v.anonVmaChain) av.vmas.delete(v);
    for (const v of result) for (const av of v.anonVmaChain) av.vmas.add(v);
    this.#vmas = result;
    for (const v of opened) v.vmOps?.open?.(v);
    for (const v of removed) v.vmOps?.close?.(v);
    if (this.system) for (const v of removed) if (v.vmFile && v.vmOps === this.system.shmemVmOps) this.system.shmemRelease(v.vmFile);
    return result;
  }

  /** The munmap part of a plan: splits at start/end, drops the pieces between. Returns whether anything was mapped. */
  #planUnmap(list: Rec[], start: number, end: number): boolean {
    let i = list.findIndex((r) => start < r.end);
    if (i < 0 || list[i]!.start >= end) return false;
    const first = list[i]!;
    if (start > first.start) {
      if (end < first.end && list.length >= this.maxMapCount) {
        fail('ENOMEM', `map_count ${list.length} reached vm.max_map_count`);
      }
      this.#split(list, i, start, false);
      i++;
    }
    const j = list.findIndex((r) => end < r.end);
    if (j >= 0 && end > list[j]!.start) this.#split(list, j, end, true);
    let k = i;
    while (k < list.length && list[k]!.end <= end) k++;
    list.splice(i, k - i);
    return true;
  }

  // ---- system calls

  /**
   * `mmap(addr, length, prot, flags, fd, offset)`: sys_mmap
   * (arch/x86/kernel/sys_x86_64.c), do_mmap and mmap_region (mm/mmap.c).
   * Returns the mapped address. Anonymous private memory merges with
   * compatible neighbours; shared anonymous memory gets its own shmem file
   * (`/dev/zero (deleted)`); a file is mapped through its driver's `mmap`.
   * @public
   */
  mmap(args: MmapArgs): number {
    if (typeof args !== 'object' || args === null) throw new KernelError('EINVAL', `mmap: invalid arguments ${String(args)}`);
    const { length, prot } = args;
    let addr = args.addr ?? 0;
    let flags = args.flags;
    const offset = args.offset ?? 0;
    const file = hasBits(flags, MAP_ANONYMOUS) ? null : (args.file ?? null);
    for (const [what, x] of [['addr', addr], ['length', length], ['prot', prot], ['flags', flags], ['offset', offset]] as const) {
      checkUnsigned('do_mmap', what, x);
    }
    if (this.#offsetInPage(offset)) fail('EINVAL', `offset 0x${offset.toString(16)} is not page aligned`);
    if (!hasBits(flags, MAP_ANONYMOUS) && !args.file) fail('EBADF', 'mmap of a file needs a file');
    let pgoff = offset / this.pageSize;
    if (!length) fail('EINVAL', 'mmap of length 0');
    if (hasBits(flags, MAP_FIXED_NOREPLACE)) flags = orBits(flags, MAP_FIXED);
    const fixed = hasBits(flags, MAP_FIXED);
    if (!fixed) {
      // round_hint_to_min()
      addr -= addr % this.pageSize;
      if (addr && addr < this.mmapMinAddr) addr = this.#pageAlign(this.mmapMinAddr);
    }
    const len = this.#pageAlign(length);
    if (len > Number.MAX_SAFE_INTEGER - this.pageSize) fail('ENOMEM', 'length too large');
    if (this.mapCount > this.maxMapCount) fail('ENOMEM', `map_count ${this.mapCount} exceeds vm.max_map_count`);

    const mapType = flags % (MAP_TYPE + 1);
    if (mapType !== MAP_SHARED && mapType !== MAP_PRIVATE) fail('EINVAL', `mapping type 0x${mapType.toString(16)} is neither MAP_SHARED nor MAP_PRIVATE`);
    const addrFound = this.#getUnmappedAreaFor(file, addr, len, pgoff, fixed);
    if (hasBits(flags, MAP_FIXED_NOREPLACE) && this.findVmaIntersection(addrFound, addrFound + len)) {
      fail('EEXIST', `0x${addrFound.toString(16)}-0x${(addrFound + len).toString(16)} is already mapped`);
    }

    let vmFlags = orBits(calcVmProtBits(prot), VM_MAYREAD + VM_MAYWRITE + VM_MAYEXEC);
    if (file) {
      if (mapType === MAP_SHARED) {
        if (hasBits(prot, PROT_WRITE) && !file.writable) fail('EACCES', `${file.path} is not open for writing`);
        vmFlags = orBits(vmFlags, VM_SHARED + VM_MAYSHARE);
        if (!file.writable) vmFlags = clearBits(vmFlags, VM_MAYWRITE + VM_SHARED);
      }
      if (!file.readable) fail('EACCES', `${file.path} is not open for reading`);
      if (!file.mmap) fail('ENODEV', `${file.path} does not support mmap`);
    } else if (mapType === MAP_SHARED) {
      pgoff = 0;
      vmFlags = orBits(vmFlags, VM_SHARED + VM_MAYSHARE);
    } else {
      pgoff = addrFound / this.pageSize;
    }
    if (hasBits(flags, MAP_NORESERVE)) vmFlags = orBits(vmFlags, VM_NORESERVE);
    return this.#mmapRegion(file, addrFound, len, vmFlags, pgoff);
  }

  /** mmap_region() (mm/mmap.c). */
  #mmapRegion(file: MmapFile | null, addr: number, len: number, vmFlagsIn: number, pgoff: number): number {
    let vmFlags = vmFlagsIn;
    const end = addr + len;
    const list = this.#vmas.map(recOf);
    const unmapped = this.#planUnmap(list, addr, end);
    // accountable_mapping()
    if (!hasBits(vmFlags, VM_NORESERVE) && !hasBits(vmFlags, VM_SHARED) && hasBits(vmFlags, VM_WRITE)) {
      vmFlags = orBits(vmFlags, VM_ACCOUNT);
    }
    const prevIdx = list.findLastIndex((r) => r.end <= addr);
    const merged = this.#vmaMerge(list, prevIdx, addr, end, vmFlags, file, pgoff);
    if (merged < 0) {
      const vma = new Vma(addr, end, vmFlags, pgoff, file);
      vma.vmMm = this;
      if (file) {
        const err = file.mmap!(vma);
        if (err !== 0) fail(errnoName(err) ?? 'EINVAL', `${file.path}: mmap failed`);
      } else if (hasBits(vmFlags, VM_SHARED)) {
        // shmem_zero_setup(): a shmem file behind shared anonymous memory
        vma.vmFile = {
          path: '/dev/zero (deleted)',
          devMajor: SHMEM_DEV_MAJOR,
          devMinor: SHMEM_DEV_MINOR,
          ino: this.#nextShmemIno++,
          readable: true,
          writable: true,
        };
        if (this.system) vma.vmOps = this.system.shmemVmOps;
      }
      const rec: Rec = { ...recOf(vma), orig: vma };
      list.splice(prevIdx + 1, 0, rec);
      // merge again if the driver's mmap changed the flags (v5.8+ mmap_region)
      if (file && vma.vmFlags !== vmFlags && prevIdx >= 0) {
        const idx = prevIdx + 1;
        list.splice(idx, 1);
        const m = this.#vmaMerge(list, prevIdx, vma.vmStart, vma.vmEnd, vma.vmFlags, vma.vmFile, vma.vmPgoff);
        if (m < 0) list.splice(idx, 0, rec);
      }
    }
    if (unmapped) this.#unmapRegion(addr, end, () => this.#commit(list));
    else this.#commit(list);
    return addr;
  }

  /**
   * `munmap(addr, length)`: __do_munmap() (mm/mmap.c). Splits the VMAs at
   * the ends of the range (asking `vm_ops->may_split`) and removes what lies
   * between; unmapping a hole succeeds.
   * @public
   */
  munmap(start: number, length: number): void {
    checkUnsigned('__do_munmap', 'addr', start);
    checkUnsigned('__do_munmap', 'length', length);
    if (this.#offsetInPage(start) || start > this.taskSize || length > this.taskSize - start) {
      fail('EINVAL', `munmap(0x${start.toString(16)}, 0x${length.toString(16)}): bad range`);
    }
    const len = this.#pageAlign(length);
    if (len === 0) fail('EINVAL', 'munmap of length 0');
    const end = start + len;
    const list = this.#vmas.map(recOf);
    if (!this.#planUnmap(list, start, end)) return;
    this.#unmapRegion(start, end, () => this.#commit(list));
  }

  /**
   * Applies `newFlags(oldFlags)` to every VMA piece of `[start, end)` as
   * mprotect_fixup() (mm/mprotect.c) and madvise_behavior() (mm/madvise.c)
   * do: a piece whose flags change merges with its neighbours (vma_merge) or
   * is split out (split_vma).
   */
  #applyFlags(start: number, end: number, newFlags: (r: Rec) => number): { start: number; end: number; flags: number }[] {
    const changed: { start: number; end: number; flags: number }[] = [];
    const list = this.#vmas.map(recOf);
    let i = list.findIndex((r) => start < r.end);
    if (i < 0 || list[i]!.start > start) fail('ENOMEM', `0x${start.toString(16)} is not mapped`);
    // the range must be mapped without holes
    for (let j = i, at = start; at < end; j++) {
      const r = list[j];
      if (!r || r.start > at) fail('ENOMEM', `0x${at.toString(16)} is not mapped`);
      at = r.end;
    }
    let prevIdx = list[i]!.start < start ? i : i - 1;
    let at = start;
    while (at < end) {
      const r = list[i]!;
      const pieceEnd = Math.min(end, r.end);
      const flags = newFlags(r);
      if (flags === r.flags) {
        prevIdx = i;
        i++;
        at = pieceEnd;
        continue;
      }
      changed.push({ start: at, end: pieceEnd, flags });
      const pgoff = r.pgoff + (at - r.start) / this.pageSize;
      const m = this.#vmaMerge(list, prevIdx, at, pieceEnd, flags, r.file, pgoff, r.anon);
      if (m >= 0) {
        // do_mprotect_pkey(): go on after the merged VMA
        prevIdx = m;
        i = m + 1;
        at = Math.max(pieceEnd, list[m]!.end);
        continue;
      } else {
        let idx = i;
        if (at !== list[idx]!.start) {
          this.#splitChecked(list, idx, at, true);
          idx++;
        }
        if (pieceEnd !== list[idx]!.end) this.#splitChecked(list, idx, pieceEnd, false);
        list[idx]!.flags = flags;
        prevIdx = idx;
        i = idx + 1;
      }
      at = pieceEnd;
    }
    this.#commit(list);
    return changed;
  }

  /**
   * change_protection(vma, start, end, newprot) (mm/mprotect.c): every
   * present PTE of `[start, end)` gets the new VMA's protection
   * (`pte_modify`: the pfn, accessed, dirty, special and devmap bits stay),
   * and every writable migration or device-private entry becomes a read
   * entry; notified as `MMU_NOTIFY_PROTECTION_VMA` when anything is mapped.
   */
  #changeProtection(start: number, end: number, flags: number): void {
    const pgd = this.pgd;
    if (!pgd) return;
    const entries: { addr: number; pte: Pte; level: 'pte' | 'pmd' | 'pud' }[] = [];
    pgd.walk(start, end, (e) => entries.push(e));
    if (entries.length === 0) return;
    let prot = vmGetPageProt(flags);
    // PAGE_NONE: the model keeps the entry present without write; the VMA refuses every access
    if (prot === 0) prot = _PAGE_PRESENT + _PAGE_USER + _PAGE_NX;
    const CHG = _PAGE_RW + _PAGE_USER + _PAGE_NX + _PAGE_PRESENT;
    const range = this.notifierSubscriptions ? mmuNotifierRangeInit(MMU_NOTIFY_PROTECTION_VMA, 0, this, start, end) : null;
    if (range) mmuNotifierInvalidateRangeStart(range);
    try {
      for (const { addr, pte, level } of entries) {
        if (level === 'pud') {
          // v5.13's change_pud_range() has no huge-PUD case: pud_none_or_clear_bad() finds a leaf "bad" and
          // clears it (pud_clear_bad), so the next access faults it in again with the new protection
          pgd.clearPud(addr);
          continue;
        }
        if (ptePresent(pte)) {
          const modified: Pte = { kind: 'present', pfn: pte.pfn, flags: orBits(clearBits(pte.flags, CHG), prot) };
          // change_huge_pmd() for a huge leaf, pte_modify() for a PTE
          if (level === 'pmd') pgd.setPmd(addr, modified);
          else pgd.set(addr, modified);
        } else if (isSwapPte(pte)) {
          if (isWriteMigrationEntry(pte.entry)) pgd.set(addr, swpEntryToPte(makeMigrationEntryRead(pte.entry)));
          else if (isWriteDevicePrivateEntry(pte.entry)) pgd.set(addr, swpEntryToPte(makeDevicePrivateEntryRead(pte.entry)));
        }
      }
    } finally {
      if (range) mmuNotifierInvalidateRangeEnd(range);
    }
  }

  /**
   * `mprotect(addr, len, prot)`: do_mprotect_pkey() and mprotect_fixup()
   * (mm/mprotect.c). -EINVAL for an unaligned start or unknown prot bits,
   * -ENOMEM for a hole, -EACCES for access beyond a VMA's VM_MAY* bits.
   * Making a private mapping writable charges it (`VM_ACCOUNT`).
   * @public
   */
  mprotect(start: number, length: number, prot: number): void {
    checkUnsigned('do_mprotect_pkey', 'addr', start);
    checkUnsigned('do_mprotect_pkey', 'length', length);
    checkUnsigned('do_mprotect_pkey', 'prot', prot);
    if (this.#offsetInPage(start)) fail('EINVAL', `mprotect: 0x${start.toString(16)} is not page aligned`);
    if (!length) return;
    const len = this.#pageAlign(length);
    const end = start + len;
    if (end <= start || end > Number.MAX_SAFE_INTEGER) fail('ENOMEM', 'mprotect: range wraps');
    if (clearBits(prot, PROT_READ + PROT_WRITE + PROT_EXEC + PROT_SEM) !== 0) {
      fail('EINVAL', `mprotect: prot 0x${prot.toString(16)} has unknown bits`);
    }
    const access = calcVmProtBits(prot);
    // do_mprotect_pkey()'s checks in its order (the first VMA, then per VMA
    // the VM_MAY* test and the hole after it), all before anything changes
    let v = this.findVma(start);
    if (!v || v.vmStart > start) fail('ENOMEM', `mprotect: 0x${start.toString(16)} is not mapped`);
    for (;;) {
      if (exceedsMayFlags(withAccess(v.vmFlags, access))) {
        fail('EACCES', `mprotect: 0x${v.vmStart.toString(16)}-0x${v.vmEnd.toString(16)} does not allow that access`);
      }
      if (v.vmEnd >= end) break;
      const next: Vma | null = this.findVma(v.vmEnd);
      if (!next || next.vmStart !== v.vmEnd) fail('ENOMEM', `mprotect: 0x${v.vmEnd.toString(16)} is not mapped`);
      v = next;
    }
    const changed = this.#applyFlags(start, end, (r) => {
      let f = withAccess(r.flags, access);
      if (hasBits(f, VM_WRITE) && !anyBits(r.flags, VM_ACCOUNT + VM_WRITE + VM_HUGETLB + VM_SHARED + VM_NORESERVE)) {
        f = orBits(f, VM_ACCOUNT);
      }
      return f;
    });
    for (const c of changed) this.#changeProtection(c.start, c.end, c.flags);
  }

  /**
   * `madvise(addr, len, MADV_HUGEPAGE | MADV_NOHUGEPAGE)`: do_madvise()
   * (mm/madvise.c) and hugepage_madvise() (mm/khugepaged.c); returns 0.
   * Other advice is not modelled yet and is refused with -EINVAL, as
   * madvise_behavior_valid() refuses advice it does not know.
   * @public
   */
  madvise(start: number, length: number, behavior: number): number {
    checkUnsigned('do_madvise', 'addr', start);
    checkUnsigned('do_madvise', 'length', length);
    if (behavior !== MADV_HUGEPAGE && behavior !== MADV_NOHUGEPAGE) {
      fail('EINVAL', `madvise: advice ${behavior} is not modelled`);
    }
    if (this.#offsetInPage(start)) fail('EINVAL', `madvise: 0x${start.toString(16)} is not page aligned`);
    const len = this.#pageAlign(length);
    if (length && !len) fail('EINVAL', 'madvise: length overflows');
    const end = start + len;
    if (end < start) fail('EINVAL', 'madvise: range wraps');
    if (end === start) return 0;
    this.#applyFlags(start, end, (r) =>
      behavior === MADV_HUGEPAGE
        ? orBits(clearBits(r.flags, VM_NOHUGEPAGE), VM_HUGEPAGE)
        : orBits(clearBits(r.flags, VM_HUGEPAGE), VM_NOHUGEPAGE),
    );
    return 0;
  }

  /**
   * `fork()`'s copy of the address space: dup_mmap() (kernel/fork.c) and
   * copy_page_range() (mm/memory.c). The child gets a copy of every VMA but
   * the VM_DONTCOPY ones (VM_LOCKED cleared), linked into the parent's
   * anon_vmas (anon_vma_fork) and opened (`vm_ops->open`); anonymous pages
   * are shared copy-on-write, both PTEs write-protected. KernelError ENOMEM
   * when a copy cannot be allocated: the child is torn down, and the
   * parent's PTEs copied so far stay write-protected, as in the kernel.
   * @public
   */
  fork(childPid: number): MmStruct {
    checkUnsigned('dup_mmap', 'pid', childPid);
    const child = new MmStruct(childPid, { ...this.#options, firstShmemIno: this.#nextShmemIno });
    const list: Vma[] = [];
    for (const v of this.#vmas) {
      if (hasBits(v.vmFlags, VM_DONTCOPY)) continue;
      const tmp = new Vma(v.vmStart, v.vmEnd, clearBits(v.vmFlags, VM_LOCKED + VM_LOCKONFAULT), v.vmPgoff, v.vmFile);
      tmp.vmOps = v.vmOps;
      tmp.vmPrivateData = v.vmPrivateData;
      tmp.vmMm = child;
      if (!hasBits(v.vmFlags, VM_WIPEONFORK)) anonVmaFork(tmp, v);
      list.push(tmp);
    }
    child.#vmas = list;
    for (const tmp of list) tmp.vmOps?.open?.(tmp);
    if (this.pgd) {
      const parents = this.#vmas.filter((v) => !hasBits(v.vmFlags, VM_DONTCOPY));
      for (let i = 0; i < list.length; i++) {
        if (copyPageRange(list[i]!, parents[i]!) !== 0) {
          child.exitMmap();
          fail('ENOMEM', `fork: no memory to copy 0x${parents[i]!.vmStart.toString(16)}-0x${parents[i]!.vmEnd.toString(16)}`);
        }
      }
    }
    return child;
  }

  /**
   * exit_mmap() (mm/mmap.c), when the last user of the address space goes
   * (`mmput`): every VMA is zapped under one `MMU_NOTIFY_UNMAP` over the
   * whole address space, closed (`vm_ops->close`), unlinked from its
   * anon_vmas, and the page tables freed. Pages return to the buddy
   * allocator (or, ZONE_DEVICE ones, to their pagemap) once nothing else
   * holds them. Calling it twice does nothing.
   * @public
   */
  exitMmap(): void {
    const vmas = this.#vmas;
    if (this.pgd && vmas.length > 0) {
      this.#unmapRegion(0, this.taskSize, () => undefined);
    }
    this.#vmas = [];
    for (const v of vmas) {
      v.vmOps?.close?.(v);
      unlinkAnonVmas(v);
    }
    this.pgd?.freePgtables(0, this.taskSize);
    this.mmUsers = 0;
    const sys = this.system;
    if (sys) {
      sys.unregister(this);
      for (const v of vmas) if (v.vmFile && v.vmOps === sys.shmemVmOps) sys.shmemRelease(v.vmFile);
    }
  }

  /** `mmput(mm)` (kernel/fork.c): drops a user; the last one runs {@link MmStruct.exitMmap}. @public */
  mmput(): void {
    if (this.mmUsers <= 0) return;
    this.mmUsers--;
    if (this.mmUsers === 0) this.exitMmap();
  }

  /** `/proc/PID/smaps`: show_smap() (fs/proc/task_mmu.c) for every VMA. @public */
  procSmaps(): string {
    return this.#vmas.map((v) => showSmap(v)).join('');
  }

  /** The memory lines of `/proc/PID/status`: task_mem() (fs/proc/task_mmu.c). @public */
  procStatusMem(): string {
    return taskMem(this);
  }

  /**
   * `/proc/PID/maps`: show_map_vma() (fs/proc/task_mmu.c) for every VMA —
   * `start-end perms offset major:minor inode`, and for a named VMA the
   * name after padding the line to 73 columns.
   * @public
   */
  procMaps(): string {
    return this.#vmas.map((v) => showMapVma(v)).join('');
  }
}

