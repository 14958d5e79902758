/**
 * Faults and the life of user pages, after mm/memory.c (Linux v5.13):
 * `handle_mm_fault()` and what it dispatches to, the `vmf_insert_*` helpers
 * drivers call from their fault handlers, `zap_page_range()` (munmap and
 * exit), `copy_page_range()` (fork), `access_process_vm()`, and the
 * x86 user-fault entry `do_user_addr_fault()` (arch/x86/mm/fault.c) that
 * turns a fault result into the signal a process sees.
 *
 * {@link MmSystem} is the mm/ of one machine: it holds the mm core below it
 * (mmzone's struct pages, buddy allocator and physical memory), the paging
 * geometry of the architecture, the shared zero page, and the narrow
 * interface mm calls on device pages ({@link ZoneDevicePagemap},
 * {@link DevPagemapLookup}): memremap's `DevPagemap` and `Memremap` satisfy
 * them, so mm never imports the layers above it.
 *
 * Reference counting follows the kernel: an anonymous page has one reference
 * per PTE mapping it (and `_mapcount` counts the same PTEs), GUP adds one per
 * `FOLL_GET` and `GUP_PIN_COUNTING_BIAS` per `FOLL_PIN`; the zero page and
 * `pte_special` pfns are never counted. A device-private page is mapped by a
 * swap entry, and still counts as mapped (`page_dup_rmap` on fork,
 * `page_remove_rmap` on zap). v5.13's `do_swap_page()` calls the pgmap's
 * `migrate_to_ram(vmf)` without taking a reference on the page (6.1 added
 * one); so does the model.
 */
import { ERRNO, KernelError, anyBits, checkUnsigned, hasBits, orBits } from '@zonedev/kernel';
import { GFP_HIGHUSER, GFP_HIGHUSER_MOVABLE, GFP_KERNEL, MmCore, PG_dirty, PG_lru, PG_reserved, __GFP_THISNODE, gfpOr } from '@zonedev/mmzone';
import {
  MMU_NOTIFY_CLEAR,
  MMU_NOTIFY_PROTECTION_PAGE,
  mmuNotifierInvalidateRangeEnd,
  mmuNotifierInvalidateRangeStart,
  mmuNotifierRangeInit,
} from './mmu-notifier.js';
import type { MmuNotifierEvent } from './mmu-notifier.js';
import {
  checkPresentPte,
  PageTable,
  _PAGE_DIRTY,
  _PAGE_RW,
  hasBit,
  isSwapPte,
  pagingGeometry,
  pfnPte,
  pfnPud,
  pmdHuge,
  pmdMkhuge,
  pudDevmap,
  pudMkdevmap,
  pudMkhuge,
  pudTransHuge,
  pteDirty,
  pteMkclean,
  pteMkdevmap,
  pteMkdirty,
  pteMkold,
  pteMkspecial,
  pteMkwrite,
  pteMkyoung,
  ptePresent,
  pteSpecial,
  pteWrite,
  pteWrprotect,
  swpEntryToPte,
  vmGetPageProt,
} from './pgtable.js';
import type { PageWalkEntry, PagingArch, PagingGeometry, PresentPte, Pte } from './pgtable.js';
import {
  anonVmaPrepare,
  isAnonMapping,
  linearPageIndex,
  pageAddFileRmap,
  pageAddNewAnonRmap,
  pageDupRmap,
  pageRemoveRmap,
  vmaAddress,
} from './rmap.js';
import {
  devicePrivateEntryToPfn,
  isDevicePrivateEntry,
  isHwpoisonEntry,
  isMigrationEntry,
  isWriteDevicePrivateEntry,
  isWriteMigrationEntry,
  makeDevicePrivateEntryRead,
  makeMigrationEntryRead,
  migrationEntryToPfn,
  nonSwapEntry,
} from './swapops.js';
import type { SwpEntry } from './swapops.js';
import {
  VM_EXEC, VM_HUGEPAGE, VM_MAYWRITE, VM_MIXEDMAP, VM_NOHUGEPAGE, VM_PFNMAP, VM_READ, VM_SHARED, VM_WIPEONFORK, VM_WRITE,
} from './vma.js';
import type { MmapFile, Vma, VmOperations } from './vma.js';
import type { MmStruct } from './mm.js';
import { checkBool, checkFile, checkMm, checkPfn, checkPfnT, checkSys, checkVma, checkVmf, made } from './args.js';

/** A shmem file's `address_space`: its page cache. Not an anon_vma (no `anon` tag). */
interface ShmemMapping {
  readonly path: string;
  readonly pages: Map<number, number>;
  /** The file whose `i_mapping` this is: the VMAs that map it are its `i_mmap`. */
  readonly file: MmapFile;
}

// ------------------------------------------------------ include/linux/mm_types.h

/** `vm_fault_t`: 0 or `VM_FAULT_*` bits. @public */
export type VmFaultT = number;
/** `VM_FAULT_OOM`. @public */ export const VM_FAULT_OOM = 0x000001;
/** `VM_FAULT_SIGBUS`. @public */ export const VM_FAULT_SIGBUS = 0x000002;
/** `VM_FAULT_MAJOR`. @public */ export const VM_FAULT_MAJOR = 0x000004;
/** `VM_FAULT_WRITE`: a COW or reuse made the PTE writable. @public */ export const VM_FAULT_WRITE = 0x000008;
/** `VM_FAULT_HWPOISON`. @public */ export const VM_FAULT_HWPOISON = 0x000010;
/** `VM_FAULT_HWPOISON_LARGE`. @public */ export const VM_FAULT_HWPOISON_LARGE = 0x000020;
/** `VM_FAULT_SIGSEGV`. @public */ export const VM_FAULT_SIGSEGV = 0x000040;
/** `VM_FAULT_NOPAGE`: the handler installed the PTE itself. @public */ export const VM_FAULT_NOPAGE = 0x000100;
/** `VM_FAULT_LOCKED`. @public */ export const VM_FAULT_LOCKED = 0x000200;
/** `VM_FAULT_RETRY`. @public */ export const VM_FAULT_RETRY = 0x000400;
/** `VM_FAULT_FALLBACK`: a huge fault could not be served; try PTEs. @public */ export const VM_FAULT_FALLBACK = 0x000800;
/** `VM_FAULT_DONE_COW`. @public */ export const VM_FAULT_DONE_COW = 0x001000;
/** `VM_FAULT_NEEDDSYNC`. @public */ export const VM_FAULT_NEEDDSYNC = 0x002000;
/** `VM_FAULT_ERROR`: `OOM | SIGBUS | SIGSEGV | HWPOISON | HWPOISON_LARGE | FALLBACK`. @public */
export const VM_FAULT_ERROR: number = 0x000001 + 0x000002 + 0x000040 + 0x000010 + 0x000020 + 0x000800;

/** `FAULT_FLAG_WRITE` (include/linux/mm.h). @public */ export const FAULT_FLAG_WRITE = 0x01;
/** `FAULT_FLAG_MKWRITE`. @public */ export const FAULT_FLAG_MKWRITE = 0x02;
/** `FAULT_FLAG_ALLOW_RETRY`. @public */ export const FAULT_FLAG_ALLOW_RETRY = 0x04;
/** `FAULT_FLAG_RETRY_NOWAIT`. @public */ export const FAULT_FLAG_RETRY_NOWAIT = 0x08;
/** `FAULT_FLAG_KILLABLE`. @public */ export const FAULT_FLAG_KILLABLE = 0x10;
/** `FAULT_FLAG_TRIED`. @public */ export const FAULT_FLAG_TRIED = 0x20;
/** `FAULT_FLAG_USER`: the fault came from user mode. @public */ export const FAULT_FLAG_USER = 0x40;
/** `FAULT_FLAG_REMOTE`: on behalf of another mm (GUP remote). @public */ export const FAULT_FLAG_REMOTE = 0x80;
/** `FAULT_FLAG_INSTRUCTION`. @public */ export const FAULT_FLAG_INSTRUCTION = 0x100;
/** `FAULT_FLAG_INTERRUPTIBLE`. @public */ export const FAULT_FLAG_INTERRUPTIBLE = 0x200;

/** `enum page_entry_size` (include/linux/mm.h): `PE_SIZE_PTE`. @public */ export const PE_SIZE_PTE = 0;
/** `PE_SIZE_PMD`. @public */ export const PE_SIZE_PMD = 1;
/** `PE_SIZE_PUD`. @public */ export const PE_SIZE_PUD = 2;

/** `MM_FILEPAGES` (`enum` of include/linux/mm_types_task.h). @public */ export const MM_FILEPAGES = 0;
/** `MM_ANONPAGES`. @public */ export const MM_ANONPAGES = 1;
/** `MM_SWAPENTS`. @public */ export const MM_SWAPENTS = 2;
/** `MM_SHMEMPAGES`. @public */ export const MM_SHMEMPAGES = 3;

/**
 * `struct vm_fault` (include/linux/mm.h, v5.13): what a fault handler
 * (`vm_ops->fault`, `huge_fault`, a pgmap's `migrate_to_ram`) is given. The
 * page-table parts of the kernel's structure (`orig_pte`, `pmd`, `pte`,
 * `ptl`) stay inside mm, so the type names no page-table type and memremap
 * can take it (the lesson of the 2017 HMM review); a handler that needs the
 * tables reaches them through `vma.vmMm`.
 * @public
 */
export interface VmFault {
  /** `vmf->vma`: the faulting VMA. */
  readonly vma: Vma;
  /** `vmf->address`: the faulting address, page aligned (`PAGE_MASK`). */
  readonly address: number;
  /** `vmf->flags`: `FAULT_FLAG_*`. */
  readonly flags: number;
  /** `vmf->pgoff`: the logical page offset (`linear_page_index`). */
  readonly pgoff: number;
  /** `vmf->gfp_mask`: how to allocate (`__get_fault_gfp_mask`). */
  readonly gfpMask: number;
  /** `vmf->page`: a page (pfn) the handler returns, or the device-private page for `migrate_to_ram`. */
  page: number | undefined;
  /** `vmf->cow_page`: the page prepared for a COW fault on a file mapping. */
  cowPage: number | undefined;
}

/** `MEMORY_DEVICE_PRIVATE` as memremap's `enum memory_type` numbers it. */
const MEMORY_DEVICE_PRIVATE_TYPE = 1;
/** `MEMORY_DEVICE_FS_DAX`. */
const MEMORY_DEVICE_FS_DAX_TYPE = 2;

/**
 * The part of a ZONE_DEVICE page's `struct dev_pagemap` mm calls
 * (include/linux/memremap.h): its memory type (`enum memory_type`, 1 for
 * `MEMORY_DEVICE_PRIVATE`), `owner`, and `ops->migrate_to_ram`. memremap's
 * `DevPagemap` satisfies it; mm reads it from `page->pgmap`.
 * @public
 */
export interface ZoneDevicePagemap {
  /** `pgmap->type` (`MEMORY_DEVICE_PRIVATE` = 1, `FS_DAX` = 2, `GENERIC` = 3, `PCI_P2PDMA` = 4). */
  readonly type: number;
  /** `pgmap->owner`. */
  readonly owner: unknown;
  /** `pgmap->ops`. */
  readonly ops?: { migrateToRam?(vmf: VmFault): VmFaultT } | undefined;
}

/**
 * `get_dev_pagemap(pfn, pgmap)` / `put_dev_pagemap(pgmap)`
 * (mm/memremap.c): how GUP pins the pagemap of a devmap pfn. memremap's
 * `Memremap` satisfies it.
 * @public
 */
export interface DevPagemapLookup {
  getDevPagemap(pfn: number, cached?: ZoneDevicePagemap): ZoneDevicePagemap | undefined;
  putDevPagemap(pgmap: ZoneDevicePagemap | undefined): void;
  /** `pgmap_pfn_valid(pgmap, pfn)`: `pfn` is a data page, not the altmap's memmap (every pfn when absent). */
  pgmapPfnValid?(pgmap: ZoneDevicePagemap, pfn: number): boolean;
}

/**
 * A `pfn_t` as the `vmf_insert_*` helpers read it: the pfn and the flag bits
 * at their include/linux/pfn_t.h positions (`PFN_DEV` 2^61, `PFN_MAP` 2^60).
 * memremap's `PfnT` satisfies it.
 * @public
 */
export interface PfnTView {
  readonly pfn: number;
  readonly flags: bigint;
}

/** `pfn_t_devmap()`: `PFN_DEV | PFN_MAP` both set. */
function pfnTDevmap(p: PfnTView): boolean {
  return (p.flags / 2n ** 60n) % 4n === 3n;
}

/** Transparent hugepage policy (`/sys/kernel/mm/transparent_hugepage/enabled`). @public */
export type ThpMode = 'always' | 'madvise' | 'never';

/** Options of {@link MmSystem}. @public */
export interface MmSystemOptions {
  /** The mm core of the machine (mmzone's `MmCore`): struct pages, buddy allocator, physical memory. */
  readonly core: MmCore;
  /** The paging geometry of the architecture. */
  readonly arch: PagingArch;
  /** How GUP finds a devmap pfn's pagemap (memremap); settable later as {@link MmSystem.devPagemaps}. */
  readonly devPagemaps?: DevPagemapLookup;
  /** `transparent_hugepage/enabled`; default `madvise`. */
  readonly thp?: ThpMode;
}

/**
 * The signal a user access ends in, as `do_user_addr_fault()`
 * (arch/x86/mm/fault.c) delivers it: SIGSEGV with `SEGV_MAPERR` (no VMA) or
 * `SEGV_ACCERR` (against the VMA's protection), SIGBUS with `BUS_ADRERR`
 * (`VM_FAULT_SIGBUS`) or `BUS_MCEERR_AR` (hwpoison). A `VM_FAULT_OOM` ends in
 * the OOM killer (`pagefault_out_of_memory`), reported as `code` `OOM`.
 * @public
 */
export class UserFaultSignal extends Error {
  /** `SIGSEGV` or `SIGBUS` (or `SIGKILL` from the OOM killer). */
  readonly signal: 'SIGSEGV' | 'SIGBUS' | 'SIGKILL';
  /** `si_code`. */
  readonly code: 'SEGV_MAPERR' | 'SEGV_ACCERR' | 'BUS_ADRERR' | 'BUS_MCEERR_AR' | 'OOM';
  /** The faulting address (`si_addr`). */
  readonly address: number;
  /** The `vm_fault_t` of the failed fault (0 for an access refused before faulting). */
  readonly fault: VmFaultT;

  constructor(signal: UserFaultSignal['signal'], code: UserFaultSignal['code'], address: number, fault: VmFaultT) {
    if (!['SIGSEGV', 'SIGBUS', 'SIGKILL'].includes(signal) || !['SEGV_MAPERR', 'SEGV_ACCERR', 'BUS_ADRERR', 'BUS_MCEERR_AR', 'OOM'].includes(code)) {
      throw new KernelError('EINVAL', `force_sig_fault: no signal ${String(signal)} (${String(code)})`);
    }
    checkUnsigned('force_sig_fault', 'address', address);
    checkUnsigned('force_sig_fault', 'fault', fault);
    super(`${signal} (${code}) at 0x${address.toString(16)}`);
    this.name = 'UserFaultSignal';
    this.signal = signal;
    this.code = code;
    this.address = address;
    this.fault = fault;
  }
}

/** The access a user fault is for. @public */
export type UserAccess = 'read' | 'write' | 'exec';

/** How many times a user access is retried while a fault returns without mapping (a migration entry waits). */
const MAX_FAULT_RETRIES = 16;

/**
 * The mm/ of one machine: processes' page tables and faults on top of
 * the mm core.
 * @public
 */
export class MmSystem {
  /** The mm core below (mmzone). */
  readonly core: MmCore;
  /** The paging architecture. */
  readonly arch: PagingArch;
  /** Its geometry. */
  readonly geometry: PagingGeometry;
  /** `PAGE_SIZE`. */
  readonly pageSize: number;
  /** The pfn of `empty_zero_page` (`my_zero_pfn`): mapped read-only for reads of untouched anonymous memory. */
  readonly zeroPfn: number;
  /** `transparent_hugepage/enabled`. */
  readonly thp: ThpMode;
  /** How GUP pins devmap pagemaps; memremap sets it. */
  devPagemaps: DevPagemapLookup | undefined;
  /** Called when a fault finds a migration entry (`migration_entry_wait`); the model cannot sleep. */
  onMigrationEntryWait: ((pfn: number) => void) | undefined = undefined;
  readonly #mms = new Set<MmStruct>();
  /** `PF_MEMALLOC_PIN` nesting: user pages allocated meanwhile avoid ZONE_MOVABLE (and CMA). */
  #memallocPin = 0;

  /**
   * `memalloc_pin_save()` / `memalloc_pin_restore()` (include/linux/sched/mm.h)
   * around `fn`: what a FOLL_LONGTERM GUP faults in is allocated without
   * `__GFP_MOVABLE`, so it lands where a long-term pin may stay. Internal
   * to the package.
   */
  withMemallocPin<R>(fn: () => R): R {
    this.#memallocPin++;
    try {
      return fn();
    } finally {
      this.#memallocPin--;
    }
  }
  /** shmem's page caches: one per `/dev/zero (deleted)` file of shared anonymous memory, index -> pfn. */
  readonly #shmem = new Map<MmapFile, ShmemMapping>();
  /**
   * `shmem_vm_ops` (mm/shmem.c): the `vm_ops` of shared anonymous memory.
   * `fault` is `shmem_fault()`: the page at `vmf.pgoff` of the file's page
   * cache, allocated zeroed (`GFP_HIGHUSER_MOVABLE`, `PG_swapbacked`) on
   * first touch, returned with a reference for the mapping.
   */
  readonly shmemVmOps: VmOperations = {
    fault: (vmf: VmFault): VmFaultT => {
      const file = vmf.vma.vmFile;
      if (!file) return VM_FAULT_SIGBUS;
      let cache = this.#shmem.get(file);
      if (!cache) {
        cache = { path: file.path, pages: new Map<number, number>(), file };
        this.#shmem.set(file, cache);
      }
      let pfn = cache.pages.get(vmf.pgoff);
      if (pfn === undefined) {
        pfn = this.allocUserPage(true, vmf.vma.vmMm ?? undefined);
        if (pfn === undefined) return VM_FAULT_OOM;
        const store = this.core.memmap;
        store.setPageFlag(pfn, 19 /* PG_swapbacked */);
        store.setPageMapping(pfn, cache);
        store.setPageIndex(pfn, vmf.pgoff);
        this.lruCacheAdd(pfn);
        cache.pages.set(vmf.pgoff, pfn);
      }
      this.getPage(pfn);
      vmf.page = pfn;
      return 0;
    },
  };

  constructor(options: MmSystemOptions) {
    if (typeof options !== 'object' || options === null || !(options.core instanceof MmCore)) throw new KernelError('EINVAL', 'mm system: options.core is not an mm core');
    if (options.thp !== undefined && options.thp !== 'always' && options.thp !== 'madvise' && options.thp !== 'never') throw new KernelError('EINVAL', `mm system: no THP mode ${String(options.thp)}`);
    if (options.devPagemaps !== undefined && (typeof options.devPagemaps !== 'object' || options.devPagemaps === null)) throw new KernelError('EINVAL', 'mm system: devPagemaps is not a lookup');
    made('system', this);
    this.core = options.core;
    this.arch = options.arch;
    this.geometry = pagingGeometry(options.arch);
    this.pageSize = this.geometry.pageSize;
    if (this.pageSize !== 2 ** this.core.config.pageShift) {
      throw new KernelError('EINVAL', `${options.arch.name}: PAGE_SIZE ${this.pageSize} differs from the mm core's`);
    }
    this.thp = options.thp ?? 'madvise';
    this.devPagemaps = options.devPagemaps;
    const zero = this.core.allocPages(GFP_KERNEL, 0);
    if (zero === undefined) throw new KernelError('ENOMEM', 'no memory for the zero page');
    this.core.memmap.setPageFlag(zero, PG_reserved);
    this.core.physmem.clearPage(zero);
    this.zeroPfn = zero;
  }

  /** How the function-graph tracer prints this argument. */
  get traceName(): string {
    return 'mm';
  }

  /** Registers an address space (done by `MmStruct` when it is given this system). */
  register(mm: MmStruct): void {
    checkMm('mm register', mm);
    this.#mms.add(mm);
  }

  /** Forgets an address space after its exit. */
  unregister(mm: MmStruct): void {
    checkMm('mm unregister', mm);
    this.#mms.delete(mm);
  }

  /**
   * The last `fput()` of a shmem file: once no VMA of any address space maps
   * `file`, its page cache is truncated (`shmem_evict_inode`): each page
   * leaves the cache (`page->mapping = NULL`) and loses the cache's
   * reference.
   */
  shmemRelease(file: MmapFile): void {
    checkFile('shmem_release', file);
    const cache = this.#shmem.get(file);
    if (!cache) return;
    for (const mm of this.#mms) if (mm.vmas().some((v) => v.vmFile === file)) return;
    this.#shmem.delete(file);
    const store = this.core.memmap;
    for (const pfn of cache.pages.values()) {
      store.setPageMapping(pfn, undefined);
      this.putPage(pfn);
    }
  }

  /** Whether `pfn` is a page of a shmem file's page cache (`page->mapping` is one of its mappings). */
  isShmemPage(pfn: number): boolean {
    const mapping = this.core.memmap.pageMapping(pfn);
    return typeof mapping === 'object' && mapping !== null && this.#shmem.get((mapping as ShmemMapping).file) === mapping;
  }

  /**
   * `rmap_walk_file(page, rwc)` (mm/rmap.c) for a shmem page: `fn(arg, vma,
   * address)` for every VMA of the machine's address spaces that maps the
   * page's file (its `i_mmap`) over the page's index. Nothing for a page
   * that is not in a shmem page cache.
   */
  rmapWalkFile<C>(pfn: number, arg: C, fn: (arg: C, vma: Vma, address: number) => void): void {
    if (!this.isShmemPage(pfn)) return;
    const file = (this.core.memmap.pageMapping(pfn) as ShmemMapping).file;
    const index = this.core.memmap.pageIndex(pfn);
    for (const mm of [...this.#mms]) {
      for (const vma of mm.vmas()) {
        if (vma.vmFile !== file) continue;
        const addr = vmaAddress(vma, index, this.pageSize);
        if (addr >= 0) fn(arg, vma, addr);
      }
    }
  }

  /**
   * `migrate_page_move_mapping()` (mm/migrate.c) for a shmem page: the page
   * cache's slot of `old` now holds `newPfn`, which takes the cache's
   * reference, and `old` gives it up. Internal to the package (migration).
   */
  shmemMoveMapping(old: number, newPfn: number): void {
    const cache = this.core.memmap.pageMapping(old) as ShmemMapping;
    cache.pages.set(this.core.memmap.pageIndex(old), newPfn);
    this.getPage(newPfn);
    this.putPage(old);
  }

  /**
   * `shmem_error_remove_page()` (mm/shmem.c, `generic_error_remove_page()`
   * → `truncate_inode_page()`): memory failure punches the page `pfn` out
   * of its shmem file's page cache (`page->mapping = NULL`), which drops
   * the cache's reference; the next fault of that index finds a hole and
   * gets a new zeroed page. Returns false, changing nothing, for a page
   * that is not in a shmem page cache. Internal to the package (memory
   * failure).
   */
  shmemErrorRemovePage(pfn: number): boolean {
    checkPfn('shmem_error_remove_page', pfn);
    if (!this.isShmemPage(pfn)) return false;
    const store = this.core.memmap;
    const cache = store.pageMapping(pfn) as ShmemMapping;
    cache.pages.delete(store.pageIndex(pfn));
    store.setPageMapping(pfn, undefined);
    this.putPage(pfn);
    return true;
  }

  /** The pages of a shmem file's page cache, by index (for tests and tools). */
  shmemPages(file: MmapFile): ReadonlyMap<number, number> {
    checkFile('shmem pages', file);
    return this.#shmem.get(file)?.pages ?? new Map<number, number>();
  }

  /** The live address spaces, by pid order. */
  mms(): MmStruct[] {
    return [...this.#mms].sort((a, b) => a.pid - b.pid);
  }

  /** The address space of `pid`, or undefined. */
  findMm(pid: number): MmStruct | undefined {
    checkUnsigned('find_task_by_vpid', 'pid', pid, 0x3fffff);
    return [...this.#mms].find((m) => m.pid === pid);
  }

  /** A new page table for an address space. */
  newPageTable(): PageTable {
    return new PageTable(this.arch);
  }

  // ------------------------------------------------------------ pages

  /** Checks that `pfn` has a struct page (KernelError EINVAL otherwise). */
  #page(fn: string, pfn: number): void {
    checkUnsigned(fn, 'pfn', pfn);
    if (!this.core.memmap.hasMemmap(pfn)) throw new KernelError('EINVAL', `${fn}: pfn 0x${pfn.toString(16)} has no struct page`);
  }

  readonly #zeroPtes = new Map<number, PresentPte>();

  /**
   * `pte_mkspecial(pfn_pte(my_zero_pfn(addr), prot))` (mm/memory.c,
   * `do_anonymous_page()`): the read-only special entry that maps the zero
   * page. Entries are immutable values, so every such mapping with the same
   * `prot` shares one entry, as every such PTE in the kernel holds the same
   * bits. KernelError EINVAL for a prot without `_PAGE_PRESENT`.
   */
  zeroPagePte(prot: number): PresentPte {
    let pte = this.#zeroPtes.get(prot);
    if (pte === undefined) {
      pte = pteMkspecial(pfnPte(this.zeroPfn, prot));
      this.#zeroPtes.set(prot, pte);
    }
    return pte;
  }

  /** `is_zero_pfn(pfn)`. */
  isZeroPfn(pfn: number): boolean {
    checkPfn('is_zero_pfn', pfn);
    return pfn === this.zeroPfn;
  }

  /** Whether `pfn` has a struct page (`pfn_valid` with a memmap). */
  pfnValid(pfn: number): boolean {
    checkUnsigned('pfn_valid', 'pfn', pfn);
    return this.core.memmap.hasMemmap(pfn);
  }

  /** `is_zone_device_page(page)`. */
  isZoneDevicePage(pfn: number): boolean {
    this.#page('is_zone_device_page', pfn);
    const dev = this.core.config.ZONE_DEVICE;
    return dev !== undefined && this.core.memmap.pageZonenum(pfn) === dev;
  }

  /** `page->pgmap` of a ZONE_DEVICE page, seen through mm's interface. */
  pagePgmap(pfn: number): ZoneDevicePagemap | undefined {
    if (!this.isZoneDevicePage(pfn)) return undefined;
    return this.core.memmap.pagePgmap(pfn) as ZoneDevicePagemap | undefined;
  }

  /** `is_device_private_page(page)` (include/linux/mm.h). */
  isDevicePrivatePage(pfn: number): boolean {
    return this.pagePgmap(pfn)?.type === MEMORY_DEVICE_PRIVATE_TYPE;
  }

  /** `is_device_fsdax_page(page)`. */
  isDeviceFsdaxPage(pfn: number): boolean {
    return this.pagePgmap(pfn)?.type === MEMORY_DEVICE_FS_DAX_TYPE;
  }

  /** `PageAnon(page)`. */
  pageAnon(pfn: number): boolean {
    this.#page('PageAnon', pfn);
    return isAnonMapping(this.core.memmap.pageMapping(pfn));
  }

  /** `page_count(page)`. */
  pageCount(pfn: number): number {
    this.#page('page_count', pfn);
    return this.core.memmap.pageRefCount(pfn);
  }

  /** `page_mapcount(page)`. */
  pageMapcount(pfn: number): number {
    this.#page('page_mapcount', pfn);
    return this.core.memmap.pageMapcount(pfn);
  }

  /** `get_page(page)`. */
  getPage(pfn: number): void {
    this.#page('get_page', pfn);
    this.core.memmap.getPage(pfn);
  }

  /**
   * `put_page(page)` (include/linux/mm.h): the last reference frees an
   * ordinary page to the buddy allocator, taking it off its LRU list first
   * (`__page_cache_release`); a ZONE_DEVICE page goes to memremap's hook
   * (`put_devmap_managed_page`, `page_free` at 1).
   */
  putPage(pfn: number): void {
    this.#page('put_page', pfn);
    const store = this.core.memmap;
    if (store.pageRefCount(pfn) === 1 && store.testPageFlag(pfn, PG_lru)) store.clearPageFlag(pfn, PG_lru);
    this.core.putPage(pfn);
  }

  /** `lru_cache_add_inactive_or_unevictable(page, vma)` (mm/swap.c): a new user page joins an LRU list. */
  lruCacheAdd(pfn: number): void {
    this.#page('lru_cache_add', pfn);
    this.core.memmap.setPageFlag(pfn, PG_lru);
  }

  /** `mm_counter(page)`: which rss counter a page is charged to. */
  mmCounter(pfn: number): number {
    this.#page('mm_counter', pfn);
    if (this.pageAnon(pfn)) return MM_ANONPAGES;
    return this.core.memmap.testPageFlag(pfn, 19 /* PG_swapbacked */) ? MM_SHMEMPAGES : MM_FILEPAGES;
  }

  /**
   * `vm_normal_page(vma, addr, pte)` (mm/memory.c): the struct page a
   * present PTE maps, or undefined for a special PTE (the zero page, raw
   * pfns of VM_PFNMAP/VM_MIXEDMAP, devmap entries).
   */
  vmNormalPage(_vma: Vma, pte: PresentPte): number | undefined {
    checkVma('vm_normal_page', _vma);
    checkPresentPte('vm_normal_page', pte);
    if (pteSpecial(pte)) return undefined;
    if (this.isZeroPfn(pte.pfn)) return undefined;
    if (!this.pfnValid(pte.pfn)) return undefined;
    return pte.pfn;
  }

  /**
   * Allocates a user page for `mm` (`alloc_page_vma(GFP_HIGHUSER_MOVABLE)`),
   * cleared when `zero`: from the local node and its fallbacks, or under an
   * `MPOL_BIND` policy ({@link MmStruct.membind}) from that node only
   * (`__alloc_pages_nodemask()` with a one-node mask walks only that node's
   * zones, which `__GFP_THISNODE` on the node's zonelist does too).
   */
  allocUserPage(zero: boolean, mm?: MmStruct): number | undefined {
    checkBool('alloc_page_vma', 'zero', zero);
    if (mm !== undefined) checkMm('alloc_page_vma', mm);
    const nid = mm?.membind;
    // current_gfp_context(): inside memalloc_pin_save() (a FOLL_LONGTERM GUP) no __GFP_MOVABLE
    const gfp = this.#memallocPin > 0 ? GFP_HIGHUSER : GFP_HIGHUSER_MOVABLE;
    const pfn = nid === undefined ? this.core.allocPages(gfp, 0) : this.core.allocPagesNode(nid, gfpOr(gfp, __GFP_THISNODE), 0);
    if (pfn === undefined) return undefined;
    if (zero) this.core.physmem.clearPage(pfn);
    return pfn;
  }

  /**
   * `copy_highpage(to, from)` (include/linux/highmem.h): the physical
   * memory contents copy the frame backing to backing, so a page that was
   * never written stays unwritten in its copy.
   */
  copyHighpage(to: number, from: number): void {
    checkUnsigned('copy_highpage', 'to', to);
    checkUnsigned('copy_highpage', 'from', from);
    this.core.physmem.copyHighpage(to, from);
  }

  /** `mk_pte(page, vma->vm_page_prot)` for `vma`. */
  mkPte(pfn: number, vma: Vma): PresentPte {
    checkVma('mk_pte', vma);
    return pfnPte(pfn, vmGetPageProt(vma.vmFlags));
  }

  /** Reads `length` bytes of page frame `pfn` from `offset` (any frame: RAM, device memory, MMIO). */
  readPage(pfn: number, offset: number, length: number): Uint8Array {
    checkUnsigned('kmap_local_page', 'pfn', pfn);
    checkUnsigned('kmap_local_page', 'offset', offset, this.pageSize);
    checkUnsigned('kmap_local_page', 'length', length, this.pageSize - offset);
    return this.core.physmem.read(pfn * this.pageSize + offset, length);
  }

  /** Writes bytes into page frame `pfn` at `offset` (any frame). */
  writePage(pfn: number, offset: number, data: Uint8Array): void {
    checkUnsigned('kmap_local_page', 'pfn', pfn);
    checkUnsigned('kmap_local_page', 'offset', offset, this.pageSize);
    if (!(data instanceof Uint8Array) || data.length > this.pageSize - offset) {
      throw new KernelError('EINVAL', `kmap_local_page: ${String((data as { length?: unknown }).length)} bytes do not fit at offset ${offset}`);
    }
    this.core.physmem.write(pfn * this.pageSize + offset, data);
  }
}

function systemOf(vma: Vma): { mm: MmStruct; sys: MmSystem; pgd: PageTable } {
  const mm = vma.vmMm;
  if (!mm) throw new KernelError('EINVAL', `VMA 0x${vma.vmStart.toString(16)} belongs to no mm`);
  const sys = mm.system;
  const pgd = mm.pgd;
  if (!sys || !pgd) throw new KernelError('EINVAL', `mm of pid ${mm.pid} has no page tables`);
  return { mm, sys, pgd };
}

/** `maybe_mkwrite(pte, vma)` (include/linux/mm.h). */
function maybeMkwrite(pte: PresentPte, vma: Vma): PresentPte {
  return hasBit(vma.vmFlags, VM_WRITE) ? pteMkwrite(pte) : pte;
}

/** `is_cow_mapping(flags)` (mm/internal.h): private and may be written. @public */
export function isCowMapping(flags: number): boolean {
  return hasBits(flags, VM_MAYWRITE) && !hasBits(flags, VM_SHARED);
}

function notify(mm: MmStruct, event: MmuNotifierEvent, start: number, end: number, fn: () => void): void {
  if (!mm.notifierSubscriptions) {
    fn();
    return;
  }
  const range = mmuNotifierRangeInit(event, 0, mm, start, end);
  mmuNotifierInvalidateRangeStart(range);
  try {
    fn();
  } finally {
    mmuNotifierInvalidateRangeEnd(range);
  }
}

/** mm's own view of a fault: the public {@link VmFault} and `vmf->orig_pte`. */
interface Vmf extends VmFault {
  readonly origPte: Pte | undefined;
}

function newVmf(vma: Vma, address: number, flags: number, origPte: Pte | undefined, pageSize: number): Vmf {
  const addr = address - (address % pageSize);
  return {
    vma,
    address: addr,
    flags,
    pgoff: linearPageIndex(vma, addr, pageSize),
    gfpMask: GFP_HIGHUSER_MOVABLE,
    page: undefined,
    cowPage: undefined,
    origPte,
  };
}

/**
 * `handle_mm_fault(vma, address, flags, regs)` (mm/memory.c): resolves a
 * fault at `address` in `vma` and returns the `vm_fault_t`: 0, or
 * `VM_FAULT_WRITE`/`NOPAGE` on success, `VM_FAULT_OOM`, `VM_FAULT_SIGBUS`,
 * `VM_FAULT_HWPOISON`, ... on failure. The caller has checked the access
 * against the VMA (as `do_user_addr_fault()` and GUP do). KernelError EFAULT
 * when `address` is outside `vma`.
 * @public
 */
export function handleMmFault(vma: Vma, address: number, flags: number): VmFaultT {
  checkVma('handle_mm_fault', vma);
  checkUnsigned('handle_mm_fault', 'address', address);
  checkUnsigned('handle_mm_fault', 'flags', flags);
  checkUnsigned('handle_mm_fault', 'address', address);
  checkUnsigned('handle_mm_fault', 'flags', flags);
  if (address < vma.vmStart || address >= vma.vmEnd) {
    throw new KernelError('EFAULT', `handle_mm_fault: 0x${address.toString(16)} is outside its VMA`);
  }
  const tracer = systemOf(vma).sys.core.kernel.tracer;
  if (tracer.enabled) return tracer.invoke('handle_mm_fault', null, handleMmFaultImpl, vma, address, flags);
  return handleMmFaultImpl(vma, address, flags);
}

/**
 * `__transparent_hugepage_enabled(vma)` (include/linux/huge_mm.h, v5.13):
 * not with `VM_NOHUGEPAGE`; always for a DAX file (`vma_is_dax`); otherwise
 * as `transparent_hugepage/enabled` says (`madvise`: with `VM_HUGEPAGE`).
 */
function hugepageEnabled(sys: MmSystem, vma: Vma): boolean {
  if (hasBits(vma.vmFlags, VM_NOHUGEPAGE)) return false;
  if (sys.thp === 'always') return true;
  if (vma.vmFile?.fsdax === true || vma.vmFile?.dax === true) return true;
  return sys.thp === 'madvise' && hasBits(vma.vmFlags, VM_HUGEPAGE);
}

/**
 * `__split_huge_pud(vma, pud, address)` (mm/huge_memory.c, v5.13): between
 * `MMU_NOTIFY_CLEAR` notifications over the `PUD_SIZE` range, the huge PUD
 * leaf covering `address` is cleared (`__split_huge_pud_locked`); there are
 * only pfn and devmap PUDs, with no page references or counters to drop, and
 * the next access faults at a lower level. Nothing happens without a leaf.
 * Internal to the package.
 */
export function splitHugePud(vma: Vma, address: number): void {
  const { mm, sys, pgd } = systemOf(vma);
  const pud = pgd.getPud(address);
  if (pud === undefined || !ptePresent(pud) || !(pudTransHuge(pud) || pudDevmap(pud))) return;
  const { pudSize } = sys.geometry;
  const haddr = address - (address % pudSize);
  notify(mm, MMU_NOTIFY_CLEAR, haddr, haddr + pudSize, () => {
    pgd.clearPud(haddr);
  });
}

/**
 * The PUD level of `__handle_mm_fault()` (mm/memory.c, v5.13). With
 * `pud_none` and transparent hugepages enabled for the VMA,
 * `create_huge_pud()`: an anonymous VMA falls back (no anonymous PUD
 * pages), a driver's `huge_fault(vmf, PE_SIZE_PUD)` may map a PUD leaf. On a
 * huge leaf, a write to a read-only one is `wp_huge_pud()` (the driver's
 * `huge_fault` again, else the leaf is split and the fault goes on below),
 * anything else `huge_pud_set_accessed()`. Returns the fault's result, or
 * `undefined` to go on at the PMD level.
 */
function pudFault(sys: MmSystem, pgd: PageTable, vma: Vma, address: number, flags: number, write: boolean): VmFaultT | undefined {
  const { pudSize, pageSize } = sys.geometry;
  if (pgd.pudNone(address)) {
    if (!hugepageEnabled(sys, vma) || vma.isAnonymous() || !vma.vmOps?.hugeFault) return undefined;
    const ret = vma.vmOps.hugeFault(newVmf(vma, address, flags, undefined, pageSize), PE_SIZE_PUD);
    return hasBit(ret, VM_FAULT_FALLBACK) ? undefined : ret;
  }
  const pud = pgd.getPud(address);
  if (pud === undefined || !ptePresent(pud) || !(pudTransHuge(pud) || pudDevmap(pud))) return undefined;
  if (write && !pteWrite(pud)) {
    if (!vma.isAnonymous() && vma.vmOps?.hugeFault) {
      const ret = vma.vmOps.hugeFault(newVmf(vma, address, flags, pud, pageSize), PE_SIZE_PUD);
      if (!hasBit(ret, VM_FAULT_FALLBACK)) return ret;
    }
    // COW or write-notify is not handled at the PUD level: split it
    splitHugePud(vma, address);
    return undefined;
  }
  const haddr = address - (address % pudSize);
  pgd.setPud(haddr, write ? pteMkdirty(pteMkyoung(pud)) : pteMkyoung(pud));
  return 0;
}

function handleMmFaultImpl(vma: Vma, address: number, flags: number): VmFaultT {
  const { sys, pgd } = systemOf(vma);
  const write = hasBit(flags, FAULT_FLAG_WRITE);
  const { pmdSize, pageSize } = sys.geometry;
  // __handle_mm_fault(): the PUD level (only drivers' mappings have anything there)
  if (vma.vmOps?.hugeFault || pgd.nrPudLeaves > 0) {
    const ret = pudFault(sys, pgd, vma, address, flags, write);
    if (ret !== undefined) return ret;
  }
  // then the PMD level
  const huge = pgd.getPmd(address);
  if (huge === undefined && !pgd.hasPteTable(address) && vma.vmOps?.hugeFault) {
    const haddr = address - (address % pmdSize);
    if (haddr >= vma.vmStart && haddr + pmdSize <= vma.vmEnd) {
      const vmf = newVmf(vma, address, flags, undefined, pageSize);
      const ret = vma.vmOps.hugeFault(vmf, PE_SIZE_PMD);
      if (!hasBit(ret, VM_FAULT_FALLBACK)) return ret;
    }
  } else if (huge !== undefined && ptePresent(huge)) {
    if (write && !pteWrite(huge)) {
      // wp_huge_pmd(): a driver mapping asks its huge_fault again
      if (vma.vmOps?.hugeFault) {
        const ret = vma.vmOps.hugeFault(newVmf(vma, address, flags, huge, pageSize), PE_SIZE_PMD);
        if (!hasBit(ret, VM_FAULT_FALLBACK)) return ret;
      }
      return VM_FAULT_SIGBUS;
    }
    // huge_pmd_set_accessed()
    const haddr = address - (address % pmdSize);
    pgd.setPmd(haddr, write ? pteMkdirty(pteMkyoung(huge)) : pteMkyoung(huge));
    return 0;
  }
  return handlePteFault(sys, pgd, newVmf(vma, address, flags, pgd.get(address), pageSize));
}

/** `handle_pte_fault(vmf)` (mm/memory.c). */
function handlePteFault(sys: MmSystem, pgd: PageTable, vmf: Vmf): VmFaultT {
  const pte = vmf.origPte;
  const vma = vmf.vma;
  if (pte === undefined) {
    if (vma.isAnonymous()) return doAnonymousPage(sys, pgd, vmf);
    return doFault(sys, pgd, vmf);
  }
  if (isSwapPte(pte)) {
    const tracer = sys.core.kernel.tracer;
    if (tracer.enabled) return tracer.invoke('do_swap_page', null, doSwapPage, sys, vmf, pte.entry);
    return doSwapPage(sys, vmf, pte.entry);
  }
  const write = hasBit(vmf.flags, FAULT_FLAG_WRITE);
  if (write && !pteWrite(pte)) return doWpPage(sys, pgd, vmf, pte);
  // the access bits a hardware walk would set
  pgd.set(vmf.address, write ? pteMkdirty(pteMkyoung(pte)) : pteMkyoung(pte));
  return 0;
}

/**
 * `do_anonymous_page(vmf)` (mm/memory.c): a read maps the zero page
 * (special, read-only); a write allocates a zeroed page
 * (`GFP_HIGHUSER_MOVABLE`), maps it writable and dirty, and adds it to the
 * rmap (`MM_ANONPAGES`).
 */
function doAnonymousPage(sys: MmSystem, pgd: PageTable, vmf: VmFault): VmFaultT {
  const vma = vmf.vma;
  const mm = vma.vmMm!;
  if (hasBit(vma.vmFlags, VM_SHARED)) return VM_FAULT_SIGBUS;
  if (!hasBit(vmf.flags, FAULT_FLAG_WRITE)) {
    pgd.set(vmf.address, sys.zeroPagePte(vmGetPageProt(vma.vmFlags)));
    return 0;
  }
  const pfn = sys.allocUserPage(true, mm);
  if (pfn === undefined) return VM_FAULT_OOM;
  anonVmaPrepare(vma);
  const prot = vmGetPageProt(vma.vmFlags);
  // mk_pte(), then pte_mkwrite(pte_mkdirty()) for a writable VMA, built at once
  const entry = pfnPte(pfn, hasBit(vma.vmFlags, VM_WRITE) ? orBits(prot, _PAGE_RW + _PAGE_DIRTY) : prot);
  mm.addRss(MM_ANONPAGES, 1);
  pageAddNewAnonRmap(sys.core, pfn, vma, vmf.address, sys.pageSize);
  sys.lruCacheAdd(pfn);
  pgd.set(vmf.address, entry);
  return 0;
}

/**
 * `do_wp_page(vmf)` (mm/memory.c, v5.13): a write to a present read-only
 * PTE. An anonymous page referenced only by this PTE (`page_count == 1`,
 * `page_mapcount == 1`) is reused; a shared writable mapping is made
 * writable; anything else, the zero page included, is copied
 * (`wp_page_copy`). Returns `VM_FAULT_WRITE`, or `VM_FAULT_OOM`.
 */
function doWpPage(sys: MmSystem, pgd: PageTable, vmf: VmFault, pte: PresentPte): VmFaultT {
  const vma = vmf.vma;
  const page = sys.vmNormalPage(vma, pte);
  const shared = hasBit(vma.vmFlags, VM_SHARED) && hasBit(vma.vmFlags, VM_WRITE);
  if (page === undefined) {
    if (shared) {
      // wp_pfn_shared() -> wp_page_reuse()
      pgd.set(vmf.address, maybeMkwrite(pteMkdirty(pteMkyoung(pte)), vma));
      return VM_FAULT_WRITE;
    }
    return wpPageCopy(sys, pgd, vmf, pte, undefined);
  }
  if (sys.pageAnon(page)) {
    if (sys.pageCount(page) === 1 && sys.pageMapcount(page) === 1) {
      pgd.set(vmf.address, maybeMkwrite(pteMkdirty(pteMkyoung(pte)), vma));
      return VM_FAULT_WRITE;
    }
    return wpPageCopy(sys, pgd, vmf, pte, page);
  }
  if (shared) {
    // wp_page_shared()
    pgd.set(vmf.address, maybeMkwrite(pteMkdirty(pteMkyoung(pte)), vma));
    sys.core.memmap.setPageFlag(page, PG_dirty);
    return VM_FAULT_WRITE;
  }
  return wpPageCopy(sys, pgd, vmf, pte, page);
}

/**
 * `wp_page_copy(vmf)` (mm/memory.c): a new anonymous page, zeroed for the
 * zero page or a copy of the old one, replaces the PTE between
 * `MMU_NOTIFY_CLEAR` notifications; the old page loses this mapping.
 */
function wpPageCopy(sys: MmSystem, pgd: PageTable, vmf: VmFault, pte: PresentPte, old: number | undefined): VmFaultT {
  const vma = vmf.vma;
  const mm = vma.vmMm!;
  const isZero = sys.isZeroPfn(pte.pfn);
  const newPage = sys.allocUserPage(isZero, mm);
  if (newPage === undefined) return VM_FAULT_OOM;
  if (!isZero) sys.copyHighpage(newPage, pte.pfn);
  anonVmaPrepare(vma);
  notify(mm, MMU_NOTIFY_CLEAR, vmf.address, vmf.address + sys.pageSize, () => {
    if (old !== undefined) {
      if (!sys.pageAnon(old)) {
        mm.addRss(sys.mmCounter(old), -1);
        mm.addRss(MM_ANONPAGES, 1);
      }
    } else {
      mm.addRss(MM_ANONPAGES, 1);
    }
    const entry = maybeMkwrite(pteMkdirty(sys.mkPte(newPage, vma)), vma);
    pageAddNewAnonRmap(sys.core, newPage, vma, vmf.address, sys.pageSize);
    sys.lruCacheAdd(newPage);
    pgd.set(vmf.address, entry);
    if (old !== undefined) {
      pageRemoveRmap(sys.core, old);
      sys.putPage(old);
    }
  });
  return VM_FAULT_WRITE;
}

/**
 * `do_swap_page(vmf)` (mm/memory.c, v5.13) for the entries the model has:
 * a migration entry waits (`migration_entry_wait`; returns 0 and the access
 * is retried), a device-private entry calls `page->pgmap->ops->migrate_to_ram(vmf)`
 * with `vmf.page` set and no extra reference, a hwpoison entry gives
 * `VM_FAULT_HWPOISON`, any other special entry `VM_FAULT_SIGBUS`
 * (`print_bad_pte`). An ordinary swap entry finds no swap device in the
 * model (`get_swap_device` fails) and returns 0, as the kernel does.
 */
function doSwapPage(sys: MmSystem, vmf: VmFault, entry: SwpEntry): VmFaultT {
  if (!nonSwapEntry(entry)) return 0;
  if (isMigrationEntry(entry)) {
    sys.onMigrationEntryWait?.(migrationEntryToPfn(entry));
    return 0;
  }
  if (isDevicePrivateEntry(entry)) {
    const pfn = devicePrivateEntryToPfn(entry);
    vmf.page = pfn;
    const pgmap = sys.pagePgmap(pfn);
    const migrate = pgmap?.ops?.migrateToRam;
    if (!migrate) return VM_FAULT_SIGBUS;
    return migrate.call(pgmap.ops, vmf);
  }
  if (isHwpoisonEntry(entry)) return VM_FAULT_HWPOISON;
  return VM_FAULT_SIGBUS;
}

/**
 * `do_fault(vmf)` (mm/memory.c): a driver or file mapping. Without
 * `vm_ops->fault` the fault is `VM_FAULT_SIGBUS`. A read maps the page the
 * handler returns (`do_read_fault`); a write to a private mapping copies it
 * into a new anonymous page (`do_cow_fault`); a write to a shared mapping
 * maps it writable (`do_shared_fault`). A handler that installed the entry
 * itself returns `VM_FAULT_NOPAGE`.
 */
function doFault(sys: MmSystem, pgd: PageTable, vmf: VmFault): VmFaultT {
  const vma = vmf.vma;
  const mm = vma.vmMm!;
  const fault = vma.vmOps?.fault;
  if (!fault) return VM_FAULT_SIGBUS;
  const write = hasBit(vmf.flags, FAULT_FLAG_WRITE);
  const cow = write && !hasBit(vma.vmFlags, VM_SHARED);
  if (cow) {
    const cowPage = sys.allocUserPage(false, mm);
    if (cowPage === undefined) return VM_FAULT_OOM;
    vmf.cowPage = cowPage;
  }
  const ret = fault.call(vma.vmOps, vmf);
  if (anyBits(ret, VM_FAULT_ERROR + VM_FAULT_NOPAGE + VM_FAULT_RETRY + VM_FAULT_DONE_COW) || vmf.page === undefined) {
    if (vmf.cowPage !== undefined) sys.putPage(vmf.cowPage);
    return ret;
  }
  const page = vmf.page;
  if (cow) {
    const cowPage = vmf.cowPage!;
    sys.copyHighpage(cowPage, page);
    sys.putPage(page);
    anonVmaPrepare(vma);
    mm.addRss(MM_ANONPAGES, 1);
    pageAddNewAnonRmap(sys.core, cowPage, vma, vmf.address, sys.pageSize);
    sys.lruCacheAdd(cowPage);
    pgd.set(vmf.address, maybeMkwrite(pteMkdirty(sys.mkPte(cowPage, vma)), vma));
    return ret;
  }
  // finish_fault() -> do_set_pte(): the handler's reference becomes the mapping's
  if (pgd.get(vmf.address) !== undefined) {
    sys.putPage(page);
    return ret;
  }
  let entry = sys.mkPte(page, vma);
  if (write) entry = maybeMkwrite(pteMkdirty(entry), vma);
  mm.addRss(sys.mmCounter(page), 1);
  pageAddFileRmap(sys.core, page);
  pgd.set(vmf.address, entry);
  return ret;
}

/**
 * `insert_pfn()` (mm/memory.c) for `vmf_insert_pfn_prot`/`vmf_insert_mixed`:
 * a special (or devmap) PTE for a raw pfn; an existing entry is only
 * refreshed for `mkwrite` when it maps the same pfn.
 */
function insertPfn(vma: Vma, addr: number, pfn: PfnTView, prot: number, mkwrite: boolean): VmFaultT {
  const { pgd } = systemOf(vma);
  const cur = pgd.get(addr);
  if (cur !== undefined) {
    if (mkwrite && ptePresent(cur) && cur.pfn === pfn.pfn) {
      pgd.set(addr, maybeMkwrite(pteMkdirty(pteMkyoung(cur)), vma));
    }
    return VM_FAULT_NOPAGE;
  }
  let entry = pfnPte(pfn.pfn, prot);
  entry = pfnTDevmap(pfn) ? pteMkdevmap(entry) : pteMkspecial(entry);
  if (mkwrite) entry = maybeMkwrite(pteMkdirty(pteMkyoung(entry)), vma);
  pgd.set(addr, entry);
  return VM_FAULT_NOPAGE;
}

function checkInsert(fn: string, vma: Vma, addr: number, need: number): VmFaultT {
  checkUnsigned(fn, 'addr', addr);
  if (!anyBits(vma.vmFlags, need)) throw new KernelError('EINVAL', `${fn}: VMA 0x${vma.vmStart.toString(16)} lacks VM_PFNMAP/VM_MIXEDMAP`);
  if (hasBits(vma.vmFlags, VM_PFNMAP + VM_MIXEDMAP)) throw new KernelError('EINVAL', `${fn}: VMA has both VM_PFNMAP and VM_MIXEDMAP`);
  if (addr < vma.vmStart || addr >= vma.vmEnd) return VM_FAULT_SIGBUS;
  return 0;
}

/**
 * `vmf_insert_pfn(vma, addr, pfn)` (mm/memory.c): maps a raw pfn with a
 * special PTE in a VM_PFNMAP or VM_MIXEDMAP VMA (the kernel BUGs otherwise:
 * KernelError EINVAL here). `VM_FAULT_SIGBUS` outside the VMA, else
 * `VM_FAULT_NOPAGE`.
 * @public
 */
export function vmfInsertPfn(vma: Vma, addr: number, pfn: number): VmFaultT {
  checkVma('vmf_insert_pfn', vma);
  checkUnsigned('vmf_insert_pfn', 'addr', addr);
  checkUnsigned('vmf_insert_pfn', 'pfn', pfn);
  const bad = checkInsert('vmf_insert_pfn', vma, addr, VM_PFNMAP + VM_MIXEDMAP);
  if (bad) return bad;
  return insertPfn(vma, addr - (addr % systemOf(vma).sys.pageSize), { pfn, flags: 2n ** 61n }, vmGetPageProt(vma.vmFlags), false);
}

/**
 * `vmf_insert_mixed(vma, addr, pfn)` (mm/memory.c): a pfn_t in a
 * VM_MIXEDMAP VMA; a devmap pfn gets a devmap PTE (x86 has
 * `ARCH_HAS_PTE_SPECIAL`, so every pfn is inserted with `insert_pfn`).
 * @public
 */
export function vmfInsertMixed(vma: Vma, addr: number, pfn: PfnTView): VmFaultT {
  checkVma('vmf_insert_mixed', vma);
  checkUnsigned('vmf_insert_mixed', 'addr', addr);
  checkPfnT('vmf_insert_mixed', pfn);
  checkUnsigned('vmf_insert_mixed', 'pfn', pfn.pfn);
  const bad = checkInsert('vmf_insert_mixed', vma, addr, VM_MIXEDMAP);
  if (bad) return bad;
  return insertPfn(vma, addr - (addr % systemOf(vma).sys.pageSize), pfn, vmGetPageProt(vma.vmFlags), false);
}

/** `vmf_insert_mixed_mkwrite(vma, addr, pfn)`: as {@link vmfInsertMixed}, writable and dirty. @public */
export function vmfInsertMixedMkwrite(vma: Vma, addr: number, pfn: PfnTView): VmFaultT {
  checkVma('vmf_insert_mixed_mkwrite', vma);
  checkUnsigned('vmf_insert_mixed_mkwrite', 'addr', addr);
  checkPfnT('vmf_insert_mixed_mkwrite', pfn);
  checkUnsigned('vmf_insert_mixed_mkwrite', 'pfn', pfn.pfn);
  const bad = checkInsert('vmf_insert_mixed_mkwrite', vma, addr, VM_MIXEDMAP);
  if (bad) return bad;
  return insertPfn(vma, addr - (addr % systemOf(vma).sys.pageSize), pfn, vmGetPageProt(vma.vmFlags), true);
}

/**
 * `vmf_insert_pfn_pmd(vmf, pfn, write)` (mm/huge_memory.c): a huge PMD leaf
 * for a `PMD_SIZE`-aligned pfn at `vmf.address & PMD_MASK`, devmap for a
 * devmap pfn; writable and dirty with `write`. `VM_FAULT_SIGBUS` when the
 * aligned range leaves the VMA, `VM_FAULT_NOPAGE` otherwise.
 * @public
 */
export function vmfInsertPfnPmd(vmf: VmFault, pfn: PfnTView, write: boolean): VmFaultT {
  checkVmf('vmf_insert_pfn_pmd', vmf);
  checkPfnT('vmf_insert_pfn_pmd', pfn);
  checkBool('vmf_insert_pfn_pmd', 'write', write);
  const vma = vmf.vma;
  const { sys, pgd } = systemOf(vma);
  checkUnsigned('vmf_insert_pfn_pmd', 'pfn', pfn.pfn);
  if (!anyBits(vma.vmFlags, VM_PFNMAP + VM_MIXEDMAP) && !pfnTDevmap(pfn)) {
    throw new KernelError('EINVAL', 'vmf_insert_pfn_pmd: not a VM_PFNMAP/VM_MIXEDMAP VMA nor a devmap pfn');
  }
  const { pmdSize, pageSize } = sys.geometry;
  const addr = vmf.address - (vmf.address % pmdSize);
  if (addr < vma.vmStart || addr + pmdSize > vma.vmEnd) return VM_FAULT_SIGBUS;
  if ((pfn.pfn * pageSize) % pmdSize !== 0) throw new KernelError('EINVAL', 'vmf_insert_pfn_pmd: pfn is not PMD aligned');
  if (pgd.hasPteTable(addr)) return VM_FAULT_FALLBACK;
  const cur = pgd.getPmd(addr);
  if (cur !== undefined) {
    if (write && ptePresent(cur) && cur.pfn === pfn.pfn) pgd.setPmd(addr, maybeMkwrite(pteMkdirty(pteMkyoung(cur)), vma));
    return VM_FAULT_NOPAGE;
  }
  let entry = pmdMkhuge(pfnPte(pfn.pfn, vmGetPageProt(vma.vmFlags)));
  if (pfnTDevmap(pfn)) entry = pteMkdevmap(entry);
  if (write) entry = maybeMkwrite(pteMkdirty(pteMkyoung(entry)), vma);
  pgd.setPmd(addr, entry);
  return VM_FAULT_NOPAGE;
}

/**
 * `vmf_insert_pfn_pud(vmf, pfn, write)` (include/linux/huge_mm.h) and
 * `vmf_insert_pfn_pud_prot()` with `insert_pfn_pud()` (mm/huge_memory.c,
 * v5.13): a huge PUD leaf (`pud_mkhuge(pfn_t_pud())`) for a `PUD_SIZE`
 * aligned pfn at `vmf.address & PUD_MASK`, devmap (`pud_mkdevmap`) for a
 * devmap pfn, young, dirty and (in a `VM_WRITE` VMA) writable with `write`.
 * The kernel BUGs for a VMA that is neither VM_PFNMAP nor VM_MIXEDMAP with
 * a pfn that is not devmap, for one that is both, and for a VM_PFNMAP COW
 * mapping: KernelError EINVAL here, as for a pfn that is not PUD aligned
 * (which the hardware would misread). `VM_FAULT_SIGBUS` when the aligned
 * address is outside the VMA. An entry already there is left alone, or for
 * a write refreshed young, dirty and writable when it maps the same pfn (a
 * different pfn is the kernel's `WARN_ON_ONCE`, and is left too). Returns
 * `VM_FAULT_NOPAGE`.
 * @public
 */
export function vmfInsertPfnPud(vmf: VmFault, pfn: PfnTView, write: boolean): VmFaultT {
  checkVmf('vmf_insert_pfn_pud', vmf);
  checkPfnT('vmf_insert_pfn_pud', pfn);
  checkBool('vmf_insert_pfn_pud', 'write', write);
  const vma = vmf.vma;
  const { sys, pgd } = systemOf(vma);
  checkUnsigned('vmf_insert_pfn_pud', 'pfn', pfn.pfn);
  checkUnsigned('vmf_insert_pfn_pud', 'address', vmf.address);
  const devmap = pfnTDevmap(pfn);
  if (!anyBits(vma.vmFlags, VM_PFNMAP + VM_MIXEDMAP) && !devmap) {
    throw new KernelError('EINVAL', 'vmf_insert_pfn_pud: not a VM_PFNMAP/VM_MIXEDMAP VMA nor a devmap pfn');
  }
  if (hasBits(vma.vmFlags, VM_PFNMAP + VM_MIXEDMAP)) throw new KernelError('EINVAL', 'vmf_insert_pfn_pud: VMA has both VM_PFNMAP and VM_MIXEDMAP');
  if (hasBits(vma.vmFlags, VM_PFNMAP) && isCowMapping(vma.vmFlags)) throw new KernelError('EINVAL', 'vmf_insert_pfn_pud: a VM_PFNMAP mapping may not be COW');
  const { pudSize, pageSize } = sys.geometry;
  if ((pfn.pfn * pageSize) % pudSize !== 0) throw new KernelError('EINVAL', 'vmf_insert_pfn_pud: pfn is not PUD aligned');
  const addr = vmf.address - (vmf.address % pudSize);
  if (addr < vma.vmStart || addr >= vma.vmEnd) return VM_FAULT_SIGBUS;
  const tracer = sys.core.kernel.tracer;
  if (tracer.enabled) return tracer.invoke('insert_pfn_pud', null, insertPfnPud, pgd, vma, addr, pfn, write);
  return insertPfnPud(pgd, vma, addr, pfn, write);
}

/** `insert_pfn_pud()` (mm/huge_memory.c): see {@link vmfInsertPfnPud}. */
function insertPfnPud(pgd: PageTable, vma: Vma, addr: number, pfn: PfnTView, write: boolean): VmFaultT {
  if (!pgd.pudNone(addr)) {
    const cur = pgd.getPud(addr);
    if (write && cur !== undefined && ptePresent(cur) && cur.pfn === pfn.pfn) {
      pgd.setPud(addr, maybeMkwrite(pteMkdirty(pteMkyoung(cur)), vma));
    }
    return VM_FAULT_NOPAGE;
  }
  let entry = pudMkhuge(pfnPud(pfn.pfn, vmGetPageProt(vma.vmFlags)));
  if (pfnTDevmap(pfn)) entry = pudMkdevmap(entry);
  if (write) entry = maybeMkwrite(pteMkdirty(pteMkyoung(entry)), vma);
  pgd.setPud(addr, entry);
  return VM_FAULT_NOPAGE;
}

// ------------------------------------------------------------- zap

/**
 * `zap_page_range()` / `unmap_page_range()` for `[start, end)` of one VMA
 * (mm/memory.c `zap_pte_range`, `zap_huge_pmd`): clears every entry; a
 * normal page loses its rmap and the mapping's reference (`put_page`), its
 * rss counter drops; a device-private entry likewise; a migration entry only
 * drops the rss counter (migration holds the page). The caller notifies.
 * @public
 */
export function zapPageRange(vma: Vma, start: number, end: number): void {
  checkVma('zap_page_range', vma);
  checkUnsigned('zap_page_range', 'start', start);
  checkUnsigned('zap_page_range', 'end', end);
  const { mm, sys, pgd } = systemOf(vma);
  const store = sys.core.memmap;
  const { pmdSize } = sys.geometry;
  const s = Math.max(start, vma.vmStart);
  const e = Math.min(end, vma.vmEnd);
  if (e <= s) return;
  const entries: PageWalkEntry[] = [];
  pgd.walk(s, e, (x) => entries.push(x));
  for (const { addr, pte, level } of entries) {
    if (level === 'pud') {
      // zap_huge_pud() (whole, or split_huge_pud() when partly in the range: both clear it). Only pfn and
      // devmap PUDs exist (vma_is_special_huge): no page reference, no counter. An anonymous one is the kernel's BUG.
      if (vma.isAnonymous()) throw new Error(`BUG: zap_huge_pud: anonymous VMA 0x${vma.vmStart.toString(16)} has a huge PUD`);
      pgd.clearPud(addr);
      continue;
    }
    if (level === 'pmd') {
      // zap_huge_pmd(): a devmap/pfn leaf has no counted page; one partly in the range is split away whole
      if (addr < s || addr + pmdSize > e) {
        if (!pmdHuge(pte as PresentPte)) continue;
      }
      pgd.clearPmd(addr);
      continue;
    }
    pgd.clear(addr);
    if (ptePresent(pte)) {
      const page = sys.vmNormalPage(vma, pte);
      if (page === undefined) continue;
      if (pteDirty(pte)) store.setPageFlag(page, PG_dirty);
      mm.addRss(sys.mmCounter(page), -1);
      pageRemoveRmap(sys.core, page);
      sys.putPage(page);
      continue;
    }
    const entry = pte.entry;
    if (isDevicePrivateEntry(entry)) {
      const page = devicePrivateEntryToPfn(entry);
      mm.addRss(sys.mmCounter(page), -1);
      pageRemoveRmap(sys.core, page);
      sys.putPage(page);
    } else if (!nonSwapEntry(entry)) {
      mm.addRss(MM_SWAPENTS, -1);
    } else if (isMigrationEntry(entry)) {
      mm.addRss(sys.mmCounter(migrationEntryToPfn(entry)), -1);
    }
  }
}

// ------------------------------------------------------------- fork

/**
 * `copy_page_range(dst_vma, src_vma)` (mm/memory.c, v5.13): fork's copy of
 * one VMA's entries. Skipped for a VMA without an anon_vma that is not
 * VM_PFNMAP/VM_MIXEDMAP (it will fault again), and for VM_WIPEONFORK. Per
 * entry (`copy_present_pte`, `copy_nonpresent_pte`): a normal page gets a
 * reference and `page_dup_rmap`; in a COW mapping both PTEs lose write; a
 * writable device-private or migration entry becomes a read entry in both
 * processes; a huge PMD of a driver mapping is not copied (the child faults
 * it in again); a page that may be DMA-pinned in a process that pinned is copied
 * for the child at once (`copy_present_page`). Returns 0 or `-ENOMEM`
 * (nothing is copied then).
 * @public
 */
export function copyPageRange(dst: Vma, src: Vma): number {
  checkVma('copy_page_range', dst);
  checkVma('copy_page_range', src);
  const s = systemOf(src);
  const d = systemOf(dst);
  const sys = s.sys;
  const store = sys.core.memmap;
  if (hasBits(src.vmFlags, VM_WIPEONFORK)) return 0;
  if (!anyBits(src.vmFlags, VM_PFNMAP + VM_MIXEDMAP) && !src.anonVma) return 0;
  const cow = isCowMapping(src.vmFlags);
  const entries: PageWalkEntry[] = [];
  s.pgd.walk(src.vmStart, src.vmEnd, (x) => entries.push(x));
  // copy_present_page() needs new pages up front, so that an allocation failure changes nothing
  const copies = new Map<number, number>();
  if (cow && s.mm.hasPinned) {
    for (const { addr, pte, level } of entries) {
      if (level !== 'pte' || !ptePresent(pte)) continue;
      const page = sys.vmNormalPage(src, pte);
      if (page === undefined || !sys.pageAnon(page) || !pageMaybeDmaPinned(sys, page)) continue;
      const n = sys.allocUserPage(false, dst.vmMm ?? undefined);
      if (n === undefined) {
        for (const p of copies.values()) sys.putPage(p);
        return -ERRNO.ENOMEM;
      }
      copies.set(addr, n);
    }
  }
  const run = (): void => {
    for (const { addr, pte, level } of entries) {
      if (level === 'pud') {
        copyHugePud(s.mm, d.pgd, s.pgd, addr, pte, src);
        continue;
      }
      // copy_huge_pmd(): a leaf of a VMA that is not anonymous (devmap, pfn) is refilled by a fault in the child
      if (level === 'pmd') continue;
      if (isSwapPte(pte)) {
        let entry = pte.entry;
        if (isMigrationEntry(entry)) {
          d.mm.addRss(sys.mmCounter(migrationEntryToPfn(entry)), 1);
          if (isWriteMigrationEntry(entry) && cow) {
            entry = makeMigrationEntryRead(entry);
            s.pgd.set(addr, swpEntryToPte(entry));
          }
        } else if (isDevicePrivateEntry(entry)) {
          const page = devicePrivateEntryToPfn(entry);
          sys.getPage(page);
          d.mm.addRss(sys.mmCounter(page), 1);
          pageDupRmap(store, page);
          if (isWriteDevicePrivateEntry(entry) && cow) {
            entry = makeDevicePrivateEntryRead(entry);
            s.pgd.set(addr, swpEntryToPte(entry));
          }
        } else if (!nonSwapEntry(entry)) {
          d.mm.addRss(MM_SWAPENTS, 1);
        }
        d.pgd.set(addr, swpEntryToPte(entry));
        continue;
      }
      let e = pte;
      const page = sys.vmNormalPage(src, e);
      const copy = copies.get(addr);
      if (page !== undefined && copy !== undefined) {
        sys.copyHighpage(copy, page);
        anonVmaPrepare(dst);
        pageAddNewAnonRmap(sys.core, copy, dst, addr, sys.pageSize);
        sys.lruCacheAdd(copy);
        d.mm.addRss(MM_ANONPAGES, 1);
        d.pgd.set(addr, maybeMkwrite(pteMkdirty(sys.mkPte(copy, dst)), dst));
        continue;
      }
      if (page !== undefined) {
        sys.getPage(page);
        pageDupRmap(store, page);
        d.mm.addRss(sys.mmCounter(page), 1);
      }
      if (cow && pteWrite(e)) {
        e = pteWrprotect(e);
        s.pgd.set(addr, e);
      }
      if (hasBits(src.vmFlags, VM_SHARED)) e = pteMkold(pteMkclean(e));
      d.pgd.set(addr, e);
    }
  };
  if (cow) notify(s.mm, MMU_NOTIFY_PROTECTION_PAGE, src.vmStart, src.vmEnd, run);
  else run();
  return 0;
}

/**
 * `copy_huge_pud()` (mm/huge_memory.c, v5.13): the source leaf is
 * write-protected and the child gets it old and write-protected (a devmap
 * or pfn PUD holds no page reference to take); in a COW mapping of a
 * process that pinned, a possibly pinned page is not shared: the source
 * leaf is split (cleared) and the child gets nothing, both fault again.
 */
function copyHugePud(srcMm: MmStruct, dst: PageTable, src: PageTable, addr: number, pud: Pte, vma: Vma): void {
  if (!ptePresent(pud) || !(pudTransHuge(pud) || pudDevmap(pud))) return;
  const sys = srcMm.system!;
  if (isCowMapping(vma.vmFlags) && srcMm.hasPinned && sys.pfnValid(pud.pfn) && pageMaybeDmaPinned(sys, pud.pfn)) {
    splitHugePud(vma, addr);
    return;
  }
  const wp = pteWrprotect(pud);
  src.setPud(addr, wp);
  dst.setPud(addr, pteMkold(wp));
}

/** `GUP_PIN_COUNTING_BIAS` (include/linux/mm.h): what one FOLL_PIN adds to a page's refcount. @public */
export const GUP_PIN_COUNTING_BIAS = 1024;

/** `page_maybe_dma_pinned(page)` (include/linux/mm.h): `page_count >= GUP_PIN_COUNTING_BIAS`. @public */
export function pageMaybeDmaPinned(sys: MmSystem, pfn: number): boolean {
  checkSys('page_maybe_dma_pinned', sys);
  checkPfn('page_maybe_dma_pinned', pfn);
  return sys.pageCount(pfn) >= GUP_PIN_COUNTING_BIAS;
}

// ------------------------------------------------------------- user access

/**
 * `access_error(error_code, vma)` (arch/x86/mm/fault.c): whether the VMA
 * forbids the access.
 */
function accessError(access: UserAccess, vma: Vma): boolean {
  if (access === 'write') return !hasBit(vma.vmFlags, VM_WRITE);
  if (access === 'exec') return !hasBits(vma.vmFlags, VM_EXEC);
  return !anyBits(vma.vmFlags, VM_READ + VM_WRITE + VM_EXEC);
}

/** Whether a PTE already lets the CPU do `access` (what the TLB would allow). */
function pteAllows(pte: Pte | undefined, access: UserAccess): boolean {
  if (!ptePresent(pte)) return false;
  return access !== 'write' || pteWrite(pte);
}

/**
 * A user-mode access of one byte at `address` by the process of `mm`: the
 * page walk the CPU does, and on a miss `do_user_addr_fault()`
 * (arch/x86/mm/fault.c): no VMA is SIGSEGV/SEGV_MAPERR, an access the VMA
 * forbids SIGSEGV/SEGV_ACCERR, then `handle_mm_fault()` with
 * `FAULT_FLAG_USER` (and `FAULT_FLAG_WRITE`): `VM_FAULT_SIGBUS` is
 * SIGBUS/BUS_ADRERR, `VM_FAULT_HWPOISON` SIGBUS/BUS_MCEERR_AR,
 * `VM_FAULT_OOM` the OOM killer. Throws {@link UserFaultSignal}; returns the
 * present PTE that allows the access.
 * @public
 */
export function userFault(mm: MmStruct, address: number, access: UserAccess): PresentPte {
  checkMm('do_user_addr_fault', mm);
  if (access !== 'read' && access !== 'write' && access !== 'exec') throw new KernelError('EINVAL', `do_user_addr_fault: no access ${String(access)}`);
  checkUnsigned('do_user_addr_fault', 'address', address);
  const pgd = mm.pgd;
  if (!pgd) throw new KernelError('EINVAL', `mm of pid ${mm.pid} has no page tables`);
  let last = 0;
  for (let i = 0; i < MAX_FAULT_RETRIES; i++) {
    const vma = mm.findVma(address);
    if (!vma || vma.vmStart > address) throw new UserFaultSignal('SIGSEGV', 'SEGV_MAPERR', address, 0);
    if (accessError(access, vma)) throw new UserFaultSignal('SIGSEGV', 'SEGV_ACCERR', address, 0);
    const pte = address <= pgd.maxAddr ? pgd.get(address) : undefined;
    if (pteAllows(pte, access)) return pte as PresentPte;
    // FAULT_FLAG_DEFAULT (ALLOW_RETRY | KILLABLE | INTERRUPTIBLE) for a user-mode fault
    let flags = FAULT_FLAG_USER + FAULT_FLAG_ALLOW_RETRY + FAULT_FLAG_KILLABLE + FAULT_FLAG_INTERRUPTIBLE;
    if (access === 'write') flags += FAULT_FLAG_WRITE;
    if (access === 'exec') flags += FAULT_FLAG_INSTRUCTION;
    if (i > 0) flags += FAULT_FLAG_TRIED;
    last = handleMmFault(vma, address, flags);
    if (hasBits(last, VM_FAULT_OOM)) throw new UserFaultSignal('SIGKILL', 'OOM', address, last);
    if (anyBits(last, VM_FAULT_HWPOISON + VM_FAULT_HWPOISON_LARGE)) throw new UserFaultSignal('SIGBUS', 'BUS_MCEERR_AR', address, last);
    if (hasBits(last, VM_FAULT_SIGBUS)) throw new UserFaultSignal('SIGBUS', 'BUS_ADRERR', address, last);
    if (hasBits(last, VM_FAULT_SIGSEGV)) throw new UserFaultSignal('SIGSEGV', 'SEGV_ACCERR', address, last);
  }
  // the kernel would still be waiting (a migration entry that never goes away)
  throw new KernelError('EAGAIN', `user access at 0x${address.toString(16)} still faulting after ${MAX_FAULT_RETRIES} tries (fault 0x${last.toString(16)})`);
}

/**
 * The base page at `address` inside the leaf that maps it: a PTE maps one
 * page, a huge PMD leaf maps `PMD_SIZE` from its head pfn, so the page is the
 * head plus the address's index in the leaf (what `follow_page_mask()` adds
 * as `(addr & ~PMD_MASK) >> PAGE_SHIFT`, mm/gup.c).
 */
function basePfnAt(mm: MmStruct, pte: PresentPte, address: number): number {
  if (!pmdHuge(pte)) return pte.pfn;
  const pgd = mm.pgd;
  if (!pgd) return pte.pfn;
  const g = pgd.geometry;
  // a huge PUD leaf (`(addr & ~PUD_MASK) >> PAGE_SHIFT`) or a huge PMD leaf
  const span = pgd.nrPudLeaves > 0 && pgd.getPud(address) === pte ? g.pudSize : g.pmdSize;
  return pte.pfn + Math.floor((address % span) / g.pageSize);
}

/**
 * What the process of `mm` reads at `[address, address + length)`, as its
 * own loads would: page by page through {@link userFault}. Throws
 * {@link UserFaultSignal} at the first page that cannot be read (nothing is
 * returned then).
 * @public
 */
export function userRead(mm: MmStruct, address: number, length: number): Uint8Array {
  checkMm('user_read', mm);
  checkUnsigned('user_read', 'address', address);
  checkUnsigned('user_read', 'length', length);
  const sys = mm.system;
  if (!sys) throw new KernelError('EINVAL', `mm of pid ${mm.pid} has no page tables`);
  const out = new Uint8Array(length);
  const ps = sys.pageSize;
  const physmem = sys.core.physmem;
  let done = 0;
  while (done < length) {
    const at = address + done;
    const off = at % ps;
    const n = Math.min(ps - off, length - done);
    const pte = userFault(mm, at, 'read');
    // kmap_local_page() + memcpy(): straight into the caller's buffer
    physmem.readInto(basePfnAt(mm, pte, at) * ps + off, out.subarray(done, done + n));
    done += n;
  }
  return out;
}

/**
 * The process of `mm` stores `data` at `address`, as its own stores would:
 * page by page through {@link userFault} (write faults, COW). Throws
 * {@link UserFaultSignal} at the first page it cannot write; the pages before
 * it keep what was written (a store is not transactional).
 * @public
 */
export function userWrite(mm: MmStruct, address: number, data: Uint8Array): void {
  checkMm('user_write', mm);
  if (!(data instanceof Uint8Array)) throw new KernelError('EINVAL', `user_write: data is not bytes: ${String(data)}`);
  checkUnsigned('user_write', 'address', address);
  const sys = mm.system;
  if (!sys) throw new KernelError('EINVAL', `mm of pid ${mm.pid} has no page tables`);
  const ps = sys.pageSize;
  let done = 0;
  while (done < data.length) {
    const at = address + done;
    const off = at % ps;
    const n = Math.min(ps - off, data.length - done);
    const pte = userFault(mm, at, 'write');
    sys.writePage(basePfnAt(mm, pte, at), off, data.subarray(done, done + n));
    done += n;
  }
}

