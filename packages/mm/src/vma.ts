/**
 * Virtual memory areas: `struct vm_area_struct` and `struct
 * vm_operations_struct` (include/linux/mm_types.h, include/linux/mm.h, Linux
 * v5.13) and the `VM_*` flag values of include/linux/mm.h.
 *
 * Flag words are plain numbers below 2^32 and are combined only through the
 * mask helpers of `@zonedev/kernel`.
 */
import { anyBits, clearBits, hasBits, orBits } from '@zonedev/kernel';
import type { MmStruct } from './mm.js';
import type { VmFault, VmFaultT } from './memory.js';
import type { AnonVma } from './rmap.js';
import { KernelError, checkUnsigned } from '@zonedev/kernel';
import { checkFile, made } from './args.js';

/** x86_64 `PAGE_SIZE`. @public */ export const PAGE_SIZE = 4096;

/** `VM_NONE` (include/linux/mm.h). @public */ export const VM_NONE = 0x00000000;
/** `VM_READ`. @public */ export const VM_READ = 0x00000001;
/** `VM_WRITE`. @public */ export const VM_WRITE = 0x00000002;
/** `VM_EXEC`. @public */ export const VM_EXEC = 0x00000004;
/** `VM_SHARED`. @public */ export const VM_SHARED = 0x00000008;
/** `VM_MAYREAD`: VM_READ may be set (mprotect). @public */ export const VM_MAYREAD = 0x00000010;
/** `VM_MAYWRITE`. @public */ export const VM_MAYWRITE = 0x00000020;
/** `VM_MAYEXEC`. @public */ export const VM_MAYEXEC = 0x00000040;
/** `VM_MAYSHARE`. @public */ export const VM_MAYSHARE = 0x00000080;
/** `VM_GROWSDOWN`: a stack segment. @public */ export const VM_GROWSDOWN = 0x00000100;
/** `VM_PFNMAP`: pure pfns, no struct page behind them. @public */ export const VM_PFNMAP = 0x00000400;
/** `VM_DENYWRITE`. @public */ export const VM_DENYWRITE = 0x00000800;
/** `VM_LOCKED`: mlock()ed. @public */ export const VM_LOCKED = 0x00002000;
/** `VM_IO`: memory-mapped I/O. @public */ export const VM_IO = 0x00004000;
/** `VM_SEQ_READ`. @public */ export const VM_SEQ_READ = 0x00008000;
/** `VM_RAND_READ`. @public */ export const VM_RAND_READ = 0x00010000;
/** `VM_DONTCOPY`: not copied on fork. @public */ export const VM_DONTCOPY = 0x00020000;
/** `VM_DONTEXPAND`: cannot be expanded by mremap(). @public */ export const VM_DONTEXPAND = 0x00040000;
/** `VM_LOCKONFAULT`. @public */ export const VM_LOCKONFAULT = 0x00080000;
/** `VM_ACCOUNT`: a private writable mapping charged to overcommit accounting. @public */ export const VM_ACCOUNT = 0x00100000;
/** `VM_NORESERVE`: no swap reservation (MAP_NORESERVE). @public */ export const VM_NORESERVE = 0x00200000;
/** `VM_HUGETLB`. @public */ export const VM_HUGETLB = 0x00400000;
/** `VM_SYNC`: MAP_SYNC. @public */ export const VM_SYNC = 0x00800000;
/** `VM_WIPEONFORK`. @public */ export const VM_WIPEONFORK = 0x02000000;
/** `VM_DONTDUMP`. @public */ export const VM_DONTDUMP = 0x04000000;
/** `VM_MIXEDMAP`: both struct-page pages and raw pfns. @public */ export const VM_MIXEDMAP = 0x10000000;
/** `VM_HUGEPAGE`: MADV_HUGEPAGE. @public */ export const VM_HUGEPAGE = 0x20000000;
/** `VM_NOHUGEPAGE`: MADV_NOHUGEPAGE. @public */ export const VM_NOHUGEPAGE = 0x40000000;
/** `VM_MERGEABLE`: KSM may merge. @public */ export const VM_MERGEABLE = 0x80000000;

/** `VM_ACCESS_FLAGS` (include/linux/mm.h): `VM_READ | VM_WRITE | VM_EXEC`. @public */
export const VM_ACCESS_FLAGS = 0x00000007;

/** `VM_SPECIAL` (include/linux/mm.h): `VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP`; never merged. @public */
export const VM_SPECIAL = 0x10044400;

/**
 * The part of `struct file` an mmap of a file uses: its path, device and
 * inode (for /proc/PID/maps), its open mode, and the driver's `f_op->mmap`.
 * @public
 */
export interface MmapFile {
  /** What /proc/PID/maps prints for it (`seq_file_path`). */
  readonly path: string;
  /** `MAJOR(inode->i_sb->s_dev)`. */
  readonly devMajor: number;
  /** `MINOR(inode->i_sb->s_dev)`. */
  readonly devMinor: number;
  /** `inode->i_ino`. */
  readonly ino: number;
  /** `FMODE_READ`. */
  readonly readable: boolean;
  /** `FMODE_WRITE`. */
  readonly writable: boolean;
  /** `vma_is_fsdax()`: a file-system DAX file (GUP refuses FOLL_LONGTERM pins on it). */
  readonly fsdax?: boolean;
  /**
   * `IS_DAX(inode)` of a device-dax character device (`S_DAX`, set by
   * `dax_open()`): with {@link MmapFile.fsdax}, what `vma_is_dax()` tests,
   * so that huge faults are tried whatever `transparent_hugepage/enabled`
   * says.
   */
  readonly dax?: boolean;
  /**
   * `file->f_op->mmap(file, vma)`: the driver sets `vmOps`, `vmPrivateData`
   * and flags; returns 0 or a negative errno. Absent: the file cannot be
   * mapped (-ENODEV).
   */
  mmap?(vma: Vma): number;
  /**
   * `file->f_op->get_unmapped_area(file, addr, len, pgoff, flags)`: where a
   * mapping of `len` bytes at page offset `pgoff` goes when the caller gave
   * no fixed address. `mmArea(addr, len)` is the mm's own
   * (`current->mm->get_unmapped_area`); a driver that wants its mappings
   * aligned asks it for more room and picks the aligned address inside
   * (device-dax's `dax_get_unmapped_area()`). Returns the address, or throws
   * the mm's error. Absent: the mm's own search.
   */
  getUnmappedArea?(mmArea: (addr: number, len: number) => number, addr: number, len: number, pgoff: number): number;
}

/**
 * `struct vm_operations_struct` (include/linux/mm.h), the hooks this model
 * calls.
 * @public
 */
export interface VmOperations {
  /**
   * `fault(vmf)`: a PTE-level fault in a driver or file mapping. Either sets
   * `vmf.page` to a page it holds a reference on (mm maps it, or copies it
   * for a private write) and returns 0, or installs the entry itself
   * (`vmf_insert_pfn`, `vmf_insert_mixed`) and returns `VM_FAULT_NOPAGE`,
   * or fails with `VM_FAULT_SIGBUS`/`VM_FAULT_OOM`.
   */
  fault?(vmf: VmFault): VmFaultT;
  /**
   * `huge_fault(vmf, pe_size)`: a fault that may be served with a PUD leaf
   * (`PE_SIZE_PUD`, `vmf_insert_pfn_pud`) or a PMD leaf (`PE_SIZE_PMD`,
   * `vmf_insert_pfn_pmd`); `VM_FAULT_FALLBACK` to fall back to the next
   * smaller size.
   */
  hugeFault?(vmf: VmFault, peSize: number): VmFaultT;
  /** `pagesize(vma)`: the page size the mapping uses (smaps' KernelPageSize); default `PAGE_SIZE`. */
  pagesize?(vma: Vma): number;
  /** `open`: a new VMA was made from this one (split). */
  open?(vma: Vma): void;
  /** `close`: the VMA is going away. A VMA with `close` is never merged. */
  close?(vma: Vma): void;
  /** `may_split(vma, addr)`: 0 to allow a split at `addr`, or a negative errno. */
  maySplit?(vma: Vma, addr: number): number;
  /** `name(vma)`: the name /proc/PID/maps shows, or null. */
  name?(vma: Vma): string | null;
}

/**
 * `struct vm_area_struct` (include/linux/mm_types.h): `[vmStart, vmEnd)` of
 * one mm, its flags, page offset, file, operations and driver data.
 * @public
 */
export class Vma {
  /** `vm_start`: first address. */
  vmStart: number;
  /** `vm_end`: first address after the VMA. */
  vmEnd: number;
  /** `vm_flags`: `VM_*` bits. */
  vmFlags: number;
  /** `vm_pgoff`: offset in the file in pages (for anonymous private memory, `vm_start >> PAGE_SHIFT`). */
  vmPgoff: number;
  /** `vm_file`: the mapped file, or null for anonymous memory. */
  vmFile: MmapFile | null;
  /** `vm_ops`: set by a driver's mmap (and shmem); null for anonymous private memory. */
  vmOps: VmOperations | null = null;
  /** `vm_private_data`: the driver's. */
  vmPrivateData: unknown = null;
  /** `vm_mm`: the address space this VMA belongs to (null until it is inserted). */
  vmMm: MmStruct | null = null;
  /** `anon_vma`: the anon_vma new anonymous pages of this VMA join (null until the first). */
  anonVma: AnonVma | null = null;
  /** `anon_vma_chain`: every anon_vma whose pages this VMA may map (its own and its ancestors'). */
  anonVmaChain: AnonVma[] = [];

  constructor(vmStart: number, vmEnd: number, vmFlags: number, vmPgoff: number, vmFile: MmapFile | null) {
    for (const [what, v] of [['vm_start', vmStart], ['vm_end', vmEnd], ['vm_flags', vmFlags], ['vm_pgoff', vmPgoff]] as const) checkUnsigned('vm_area_alloc', what, v);
    if (vmEnd <= vmStart) throw new KernelError('EINVAL', 'vm_area_alloc: vm_end is not above vm_start');
    if (vmFile !== null) checkFile('vm_area_alloc', vmFile);
    made('vma', this);
    this.vmStart = vmStart;
    this.vmEnd = vmEnd;
    this.vmFlags = vmFlags;
    this.vmPgoff = vmPgoff;
    this.vmFile = vmFile;
  }

  /** How the function-graph tracer prints a VMA argument. */
  get traceName(): string {
    return `vma(0x${this.vmStart.toString(16)}-0x${this.vmEnd.toString(16)})`;
  }

  /** `vma_is_anonymous(vma)` (include/linux/mm.h): no `vm_ops`. */
  isAnonymous(): boolean {
    return this.vmOps === null;
  }
}

/** `calc_vm_prot_bits(prot, 0)` (include/linux/mman.h): PROT_READ/WRITE/EXEC to VM_READ/WRITE/EXEC. @public */
export function calcVmProtBits(prot: number): number {
  let flags = VM_NONE;
  if (hasBits(prot, 0x1)) flags = orBits(flags, VM_READ);
  if (hasBits(prot, 0x2)) flags = orBits(flags, VM_WRITE);
  if (hasBits(prot, 0x4)) flags = orBits(flags, VM_EXEC);
  return flags;
}

/** Flags with the access bits replaced by `access` (a VM_READ/WRITE/EXEC subset). */
export function withAccess(flags: number, access: number): number {
  return orBits(clearBits(flags, VM_ACCESS_FLAGS), access);
}

/**
 * The `(newflags & ~(newflags >> 4)) & VM_ACCESS_FLAGS` test of
 * do_mprotect_pkey() (mm/mprotect.c): an access bit without its VM_MAY* bit.
 * @public
 */
export function exceedsMayFlags(flags: number): boolean {
  return (
    (hasBits(flags, VM_READ) && !hasBits(flags, VM_MAYREAD)) ||
    (hasBits(flags, VM_WRITE) && !hasBits(flags, VM_MAYWRITE)) ||
    (hasBits(flags, VM_EXEC) && !hasBits(flags, VM_MAYEXEC))
  );
}

/** Whether a flag word has any `VM_SPECIAL` bit. */
export function isSpecial(flags: number): boolean {
  return anyBits(flags, VM_SPECIAL);
}
