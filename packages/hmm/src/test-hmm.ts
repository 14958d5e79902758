/**
 * The dmirror test driver: lib/test_hmm.c and lib/test_hmm_uapi.h (Linux
 * v5.13).
 *
 * `test_hmm` is the kernel's own test device for HMM. It pretends to be a
 * device with memory the CPU cannot address (a GPU, say) and a page table
 * of its own that mirrors part of a process's address space. Loading the
 * module creates two such devices, `/dev/hmm_dmirror0` and
 * `/dev/hmm_dmirror1` (`test_hmm.sh` makes the nodes from the major number
 * of "HMM_DMIRROR" in /proc/devices). Each device owns device-private
 * memory in 256 MiB chunks:
 *
 * ```
 *   request_free_mem_region(&iomem_resource, 256M, "hmm_dmirror")
 *        |        a free physical range, high in the address space
 *        v
 *   memremap_pages(MEMORY_DEVICE_PRIVATE, owner = the device)
 *        |        struct pages in ZONE_DEVICE, no linear mapping
 *        v
 *   free list: every pfn pushed in order, so the highest is on top (LIFO),
 *              linked through page->zone_device_data
 * ```
 *
 * The "device memory" has no storage of its own: each device page that is
 * handed out gets a real system page (`rpage`, from `alloc_page(GFP_HIGHUSER)`)
 * that holds its data, and `dpage->zone_device_data = rpage`. When a device
 * page's refcount drops back to 1, memremap calls the pagemap's `page_free`,
 * which frees the backing page and pushes the device page back on the list.
 *
 * Each open file is one mirror (`struct dmirror`): the opener's mm, an
 * interval notifier over the whole address space, and the mirror page table
 * `pt`, indexed by virtual pfn, whose values are system pages (the backing
 * `rpage` for a page that lives on the device), tagged writable or not. An
 * invalidation of the process's page tables erases the overlapping entries
 * — one page more than the range, as v5.13's inclusive `xa_for_each_range`
 * end does — except the invalidation the device itself starts while
 * migrating (`MMU_NOTIFY_MIGRATE` with this device as the owner).
 *
 * The ioctls and `struct hmm_dmirror_cmd` are the v5.13 UAPI: READ, WRITE,
 * MIGRATE and SNAPSHOT only.
 */
import type { Kernel, Resource } from '@zonedev/kernel';
import { KernelBug, KernelError, SZ_256M, checkUnsigned, hasBits, isKernelError } from '@zonedev/kernel';
import type { MmSystem, MmuIntervalNotifierOps, MmuNotifierRange, PresentPte, VmFault, VmFaultT } from '@zonedev/mm';
import {
  MMU_NOTIFY_MIGRATE,
  MmStruct,
  MmuIntervalNotifier,
  UserFaultSignal,
  VM_FAULT_SIGBUS,
  VM_READ,
  VM_WRITE,
  Vma,
  mmuIntervalNotifierInsert,
  mmuIntervalNotifierRemove,
  mmuIntervalReadBegin,
  mmuIntervalReadRetry,
  mmuIntervalSetSeq,
  mmuNotifierEventName,
  mmuNotifierRangeBlockable,
  pmdHuge,
  userFault,
  userRead,
  userWrite,
} from '@zonedev/mm';
import type { Memremap } from '@zonedev/memremap';
import { DevPagemap, MEMORY_DEVICE_PRIVATE } from '@zonedev/memremap';
import { GFP_HIGHUSER } from '@zonedev/mmzone';
import type { HmmRange } from './hmm.js';
import { hmmRangeFault } from './hmm.js';
import {
  HMM_PFN_ERROR,
  HMM_PFN_REQ_FAULT,
  HMM_PFN_REQ_WRITE,
  HMM_PFN_VALID,
  HMM_PFN_WRITE,
  HMM_RANGE_DEFAULT_TIMEOUT,
  hmmPfnToMapOrder,
  hmmPfnToPage,
  hmmTest,
} from './hmm-pfn.js';
import type { MigrateVma } from './migrate-pfn.js';
import {
  MIGRATE_PFN_LOCKED,
  MIGRATE_PFN_MIGRATE,
  MIGRATE_PFN_WRITE,
  MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
  MIGRATE_VMA_SELECT_SYSTEM,
  migratePfn,
  migratePfnHas,
  migratePfnToPage,
} from './migrate-pfn.js';
import { lockPage, migrateVmaFinalize, migrateVmaPages, migrateVmaSetup } from './migrate-vma.js';

// --- lib/test_hmm_uapi.h

/** `_IOWR('H', nr, struct hmm_dmirror_cmd)`: dir 3 << 30, size 40 << 16, type 'H' << 8, nr. */
function iowrH(nr: number): number {
  return 3 * 2 ** 30 + 40 * 2 ** 16 + 0x48 * 2 ** 8 + nr;
}

/** `HMM_DMIRROR_READ` = `_IOWR('H', 0x00, struct hmm_dmirror_cmd)` = 0xC0284800. @public */
export const HMM_DMIRROR_READ: number = iowrH(0);
/** `HMM_DMIRROR_WRITE` = 0xC0284801. @public */
export const HMM_DMIRROR_WRITE: number = iowrH(1);
/** `HMM_DMIRROR_MIGRATE` = 0xC0284802. @public */
export const HMM_DMIRROR_MIGRATE: number = iowrH(2);
/** `HMM_DMIRROR_SNAPSHOT` = 0xC0284803. @public */
export const HMM_DMIRROR_SNAPSHOT: number = iowrH(3);

/**
 * `struct hmm_dmirror_cmd` (lib/test_hmm_uapi.h): 40 bytes of `__u64`.
 * `addr`, `ptr` and `npages` are inputs; `cpages` and `faults` are
 * outputs, copied back only when the ioctl succeeds.
 * @public
 */
export interface HmmDmirrorCmd {
  /** `addr`: first virtual address of the range (page aligned). */
  addr: bigint;
  /** `ptr`: the user buffer to copy data or snapshot bytes to or from. */
  ptr: bigint;
  /** `npages`: the number of pages. */
  npages: bigint;
  /** `cpages`: out, pages copied, migrated or snapshotted. */
  cpages: bigint;
  /** `faults`: out, how many times the driver called its fault routine. */
  faults: bigint;
}

/** `sizeof(struct hmm_dmirror_cmd)`. @public */
export const HMM_DMIRROR_CMD_SIZE = 40;

/**
 * Encodes a command as the 40 little-endian bytes the kernel copies from
 * user space (field order addr, ptr, npages, cpages, faults); -EFAULT
 * when a field is not a `__u64` bigint (no such struct could be copied).
 * @public
 */
export function encodeHmmDmirrorCmd(cmd: HmmDmirrorCmd): Uint8Array {
  checkCmd(cmd);
  const b = new Uint8Array(HMM_DMIRROR_CMD_SIZE);
  const v = new DataView(b.buffer);
  [cmd.addr, cmd.ptr, cmd.npages, cmd.cpages, cmd.faults].forEach((x, i) => v.setBigUint64(i * 8, x, true));
  return b;
}

/**
 * Decodes 40 little-endian bytes into a command; -EFAULT for a short
 * buffer (what `copy_from_user()` of a bad pointer gives).
 * @public
 */
export function decodeHmmDmirrorCmd(bytes: Uint8Array): HmmDmirrorCmd {
  if (!(bytes instanceof Uint8Array) || bytes.length < HMM_DMIRROR_CMD_SIZE) throw new KernelError('EFAULT');
  const v = new DataView(bytes.buffer, bytes.byteOffset, HMM_DMIRROR_CMD_SIZE);
  return {
    addr: v.getBigUint64(0, true),
    ptr: v.getBigUint64(8, true),
    npages: v.getBigUint64(16, true),
    cpages: v.getBigUint64(24, true),
    faults: v.getBigUint64(32, true),
  };
}

/**
 * The bytes `HMM_DMIRROR_SNAPSHOT` writes, one per page (`enum`
 * in lib/test_hmm_uapi.h, v5.13). `DEV_PRIVATE_REMOTE` is a value, not a
 * bit: it equals `DEV_PRIVATE_LOCAL | ZERO`.
 * @public
 */
export const HMM_DMIRROR_PROT_ERROR = 0xff;
/** `HMM_DMIRROR_PROT_NONE`. @public */
export const HMM_DMIRROR_PROT_NONE = 0x00;
/** `HMM_DMIRROR_PROT_READ`. @public */
export const HMM_DMIRROR_PROT_READ = 0x01;
/** `HMM_DMIRROR_PROT_WRITE`. @public */
export const HMM_DMIRROR_PROT_WRITE = 0x02;
/** `HMM_DMIRROR_PROT_PMD`. @public */
export const HMM_DMIRROR_PROT_PMD = 0x04;
/** `HMM_DMIRROR_PROT_PUD`. @public */
export const HMM_DMIRROR_PROT_PUD = 0x08;
/** `HMM_DMIRROR_PROT_ZERO`. @public */
export const HMM_DMIRROR_PROT_ZERO = 0x10;
/** `HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL`. @public */
export const HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL = 0x20;
/** `HMM_DMIRROR_PROT_DEV_PRIVATE_REMOTE`. @public */
export const HMM_DMIRROR_PROT_DEV_PRIVATE_REMOTE = 0x30;

// --- lib/test_hmm.c

/** `DMIRROR_NDEVICES`. @public */
export const DMIRROR_NDEVICES = 2;
/** `DEVMEM_CHUNK_SIZE`: 256 MiB. @public */
export const DEVMEM_CHUNK_SIZE: number = SZ_256M;
/** `DEVMEM_CHUNKS_RESERVE`: the chunk array grows by this many slots. @public */
export const DEVMEM_CHUNKS_RESERVE = 16;
/** The character device region's name (`alloc_chrdev_region(.., "HMM_DMIRROR")`), as /proc/devices shows it. @public */
export const HMM_DMIRROR_CHRDEV_NAME = 'HMM_DMIRROR';

/**
 * `struct dmirror_chunk`: one 256 MiB slice of device memory, its pagemap
 * and the iomem resource it was carved from.
 * @public
 */
export interface DmirrorChunk {
  /** `pagemap`: the device-private pagemap. */
  readonly pagemap: DevPagemap;
  /** The `hmm_dmirror` resource from `request_free_mem_region()`. */
  readonly resource: Resource;
  /** First pfn of the chunk. */
  readonly pfnFirst: number;
  /** One past the last pfn. */
  readonly pfnLast: number;
}

/** The machine parts the module drives. @public */
export interface TestHmmOptions {
  /** Kernel services: iomem, dmesg, fault injection. */
  readonly kernel: Kernel;
  /** The machine's mm/: struct pages, the page allocator, physical memory, page tables. */
  readonly mm: MmSystem;
  /** memremap_pages()/memunmap_pages() and ZONE_DEVICE page references. */
  readonly memremap: Memremap;
}

/**
 * The fault-injection point that makes a device refuse to give pages back:
 * while it fires, `migrate_to_ram` returns `VM_FAULT_SIGBUS` and the process
 * touching the page gets SIGBUS. Configure it with `kernel.faults.configure(...)`.
 * @public
 */
export const DMIRROR_FAIL_MIGRATE_TO_RAM = 'dmirror_fail_migrate_to_ram';

/**
 * A LIFO free list of pfns kept as runs, so that a chunk of 65536 pages is
 * one record: pushing `[first, last)` in order leaves `last - 1` on top, as
 * test_hmm.c's per-page push through `zone_device_data` does.
 */
class PfnStack {
  readonly #runs: { lo: number; hi: number }[] = [];
  #count = 0;

  get count(): number {
    return this.#count;
  }

  pushRange(first: number, last: number): void {
    if (last <= first) return;
    const top = this.#runs[this.#runs.length - 1];
    if (top !== undefined && top.hi === first) top.hi = last;
    else this.#runs.push({ lo: first, hi: last });
    this.#count += last - first;
  }

  push(pfn: number): void {
    this.pushRange(pfn, pfn + 1);
  }

  pop(): number | undefined {
    const top = this.#runs[this.#runs.length - 1];
    if (top === undefined) return undefined;
    top.hi -= 1;
    const pfn = top.hi;
    if (top.hi === top.lo) this.#runs.pop();
    this.#count -= 1;
    return pfn;
  }

  *topDown(): Generator<number> {
    for (let i = this.#runs.length - 1; i >= 0; i--) {
      const r = this.#runs[i]!;
      for (let p = r.hi - 1; p >= r.lo; p--) yield p;
    }
  }

  dropRange(first: number, last: number): void {
    for (let i = this.#runs.length - 1; i >= 0; i--) {
      const r = this.#runs[i]!;
      const lo = Math.max(r.lo, first);
      const hi = Math.min(r.hi, last);
      if (lo >= hi) continue;
      this.#count -= hi - lo;
      const parts = [
        { lo: r.lo, hi: lo },
        { lo: hi, hi: r.hi },
      ].filter((x) => x.hi > x.lo);
      this.#runs.splice(i, 1, ...parts);
    }
  }
}

/**
 * `struct dmirror_device`: one of the two devices, with its chunks of
 * device memory, the free list and the `calloc`/`cfree` counters (not
 * exported to user space in v5.13; here for inspection).
 * @public
 */
export class DmirrorDevice {
  /** The minor number (0 or 1). */
  readonly minor: number;
  /** The device node's path, `/dev/hmm_dmirror<minor>`. */
  readonly path: string;
  /** `calloc`: device pages handed out. */
  calloc = 0;
  /** `cfree`: device pages given back by `page_free`. */
  cfree = 0;
  readonly #module: TestHmm;
  readonly #chunks: DmirrorChunk[] = [];
  #capacity = 0;
  readonly #free = new PfnStack();

  constructor(module: TestHmm, minor: number) {
    if (!(module instanceof TestHmm)) throw new KernelError('EINVAL', `dmirror_device_init: not the test_hmm module: ${String(module)}`);
    checkUnsigned('dmirror_device_init', 'minor', minor, DMIRROR_NDEVICES - 1);
    this.#module = module;
    this.minor = minor;
    this.path = `/dev/hmm_dmirror${minor}`;
  }

  /** `devmem_chunks[0..devmem_count)`. */
  get chunks(): readonly DmirrorChunk[] {
    return this.#chunks;
  }

  /** `devmem_capacity`: slots in the chunk array (grows by 16). */
  get capacity(): number {
    return this.#capacity;
  }

  /** How many device pages are on the free list. */
  get nrFreePages(): number {
    return this.#free.count;
  }

  /** The free list from its top (the next page handed out) down. */
  freeList(): Generator<number> {
    return this.#free.topDown();
  }

  /** The backing system page of a device page in use (`dpage->zone_device_data`), or undefined. */
  backingPage(dpage: number): number | undefined {
    checkUnsigned('dmirror_backing_page', 'dpage', dpage);
    if (!this.ownsPfn(dpage)) return undefined;
    const r = this.#module.parts.mm.core.memmap.pageZoneDeviceData(dpage);
    return typeof r === 'number' ? r : undefined;
  }

  /** Whether `pfn` is device memory of this device. */
  ownsPfn(pfn: number): boolean {
    checkUnsigned('dmirror_owns_pfn', 'pfn', pfn);
    return this.#chunks.some((c) => pfn >= c.pfnFirst && pfn < c.pfnLast);
  }

  /**
   * `dmirror_allocate_chunk(mdevice, ppage)` (lib/test_hmm.c): carves a
   * 256 MiB `hmm_dmirror` range out of iomem, maps it with
   * `memremap_pages(MEMORY_DEVICE_PRIVATE, owner = this device)`, logs
   * "added new 256 MB chunk ..." and pushes all its pfns on the free list.
   * With `takeOne` it pops one page for the caller (counted in `calloc`).
   * Returns `ok: false`, with nothing changed, when any step fails (the
   * kernel's `err_release` path).
   */
  allocateChunk(takeOne: boolean = false): { ok: boolean; page?: number } {
    if (typeof takeOne !== 'boolean') throw new KernelError('EINVAL', `dmirror_allocate_chunk: invalid ppage ${String(takeOne)}`);
    const { kernel, memremap, mm } = this.#module.parts;
    let res: Resource;
    try {
      res = kernel.iomem.requestFreeMemRegion(kernel.iomem.root, DEVMEM_CHUNK_SIZE, 'hmm_dmirror');
    } catch (e) {
      if (e instanceof KernelError) return { ok: false };
      throw e;
    }
    const pagemap = new DevPagemap({
      type: MEMORY_DEVICE_PRIVATE,
      range: { start: res.start, end: res.end },
      ops: {
        pageFree: (page: number) => this.devmemFree(page),
        migrateToRam: (vmf: VmFault) => this.devmemFault(vmf),
      },
      owner: this,
      name: `hmm_dmirror${this.minor} 0x${res.start.toString(16)}-0x${res.end.toString(16)}`,
    });
    const oldCapacity = this.#capacity;
    if (this.#chunks.length === this.#capacity) this.#capacity += DEVMEM_CHUNKS_RESERVE;
    try {
      memremap.memremapPages(pagemap, mm.core.numaNodeId);
    } catch (e) {
      this.#capacity = oldCapacity;
      kernel.iomem.releaseResource(res);
      if (e instanceof KernelError) return { ok: false };
      throw e;
    }
    const pfnFirst = res.start / this.#module.pageSize;
    const pfnLast = pfnFirst + (res.end - res.start + 1) / this.#module.pageSize;
    this.#chunks.push({ pagemap, resource: res, pfnFirst, pfnLast });
    const mb = DEVMEM_CHUNK_SIZE / 2 ** 20;
    kernel.log.info(
      `added new ${mb} MB chunk (total ${this.#chunks.length} chunks, ${this.#chunks.length * mb} MB) PFNs [0x${pfnFirst.toString(16)} 0x${pfnLast.toString(16)})`,
    );
    this.#free.pushRange(pfnFirst, pfnLast);
    if (!takeOne) return { ok: true };
    const page = this.#free.pop()!;
    this.calloc += 1;
    return { ok: true, page };
  }

  /**
   * `dmirror_devmem_alloc_page(mdevice)` (lib/test_hmm.c): a backing system
   * page from `alloc_page(GFP_HIGHUSER)`, then a device page from the free
   * list (or a new chunk), with `zone_device_data = rpage`, an extra
   * reference (`get_page`, count 2) and the page lock. Returns the device
   * page, or undefined (nothing changed) when either allocation fails.
   */
  devmemAllocPage(): number | undefined {
    const { mm, memremap } = this.#module.parts;
    const rpage = mm.core.allocPages(GFP_HIGHUSER, 0);
    if (rpage === undefined) return undefined;
    let dpage = this.#free.pop();
    if (dpage !== undefined) this.calloc += 1;
    else {
      const r = this.allocateChunk(true);
      if (!r.ok || r.page === undefined) {
        mm.putPage(rpage);
        return undefined;
      }
      dpage = r.page;
    }
    mm.core.memmap.setPageZoneDeviceData(dpage, rpage);
    memremap.getPage(dpage);
    lockPage(mm, dpage);
    return dpage;
  }

  /**
   * `dmirror_devmem_free(page)` (lib/test_hmm.c), the pagemap's
   * `page_free`: frees the backing page, counts `cfree` and pushes the
   * device page back on top of the free list. The core calls it for a
   * page of this device whose refcount dropped to 1; any other pfn, or a
   * page that is not in use (no backing page: it is on the free list, and a
   * second push would corrupt the list), is refused before anything
   * changes: -EINVAL, and a KernelBug for the double free.
   */
  devmemFree(page: number): void {
    checkUnsigned('dmirror_devmem_free', 'page', page);
    if (!this.ownsPfn(page)) throw new KernelError('EINVAL', `dmirror_devmem_free: pfn 0x${page.toString(16)} is not memory of ${this.path}`);
    const rpage = this.backingPage(page);
    if (rpage === undefined) throw new KernelBug(`dmirror_devmem_free: pfn 0x${page.toString(16)} is already free`);
    const { mm } = this.#module.parts;
    mm.core.memmap.setPageZoneDeviceData(rpage, undefined);
    mm.putPage(rpage);
    mm.core.memmap.setPageZoneDeviceData(page, undefined);
    this.cfree += 1;
    this.#free.push(page);
  }

  /**
   * `dmirror_devmem_fault(vmf)` (lib/test_hmm.c), the pagemap's
   * `migrate_to_ram`: migrates the one faulting page back to a new system
   * page (`MIGRATE_VMA_SELECT_DEVICE_PRIVATE`, owner = this device),
   * dropping the mirror entry of the device that had it and copying the data
   * from the backing page. Returns `VM_FAULT_SIGBUS` when
   * `migrate_vma_setup()` refuses — or when the fault-injection point
   * {@link DMIRROR_FAIL_MIGRATE_TO_RAM} fires — and 0 otherwise (a page
   * that did not move is faulted again).
   */
  devmemFault(vmf: VmFault): VmFaultT {
    if (typeof vmf !== 'object' || vmf === null) throw new KernelError('EINVAL', 'dmirror_devmem_fault: no vm_fault');
    checkUnsigned('dmirror_devmem_fault', 'address', vmf.address);
    checkUnsigned('dmirror_devmem_fault', 'flags', vmf.flags);
    // do_swap_page() calls migrate_to_ram() with the faulting VMA and the device-private page of the entry
    if (!(vmf.vma instanceof Vma)) throw new KernelError('EINVAL', 'dmirror_devmem_fault: vmf->vma is not a vma');
    checkUnsigned('dmirror_devmem_fault', 'page', vmf.page);
    const { kernel, mm } = this.#module.parts;
    if (kernel.faults.shouldFail(DMIRROR_FAIL_MIGRATE_TO_RAM)) return VM_FAULT_SIGBUS;
    const store = mm.core.memmap;
    const rpage = store.pageZoneDeviceData(vmf.page);
    const dmirror = typeof rpage === 'number' ? store.pageZoneDeviceData(rpage) : undefined;
    const vma = vmf.vma;
    const args: MigrateVma = {
      vma,
      src: [0],
      dst: [0],
      cpages: 0,
      npages: 0,
      start: vmf.address,
      end: vmf.address + this.#module.pageSize,
      pgmapOwner: this,
      flags: MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
    };
    try {
      migrateVmaSetup(args);
    } catch (e) {
      if (isKernelError(e)) return VM_FAULT_SIGBUS;
      throw e;
    }
    // dmirror_devmem_fault_alloc_and_copy()
    const spage = migratePfnToPage(args.src![0]!);
    if (spage !== undefined && migratePfnHas(args.src![0]!, MIGRATE_PFN_MIGRATE)) {
      const backing = store.pageZoneDeviceData(spage);
      const dpage = mm.allocUserPage(false, vmf.vma.vmMm ?? undefined);
      if (dpage !== undefined && typeof backing === 'number') {
        lockPage(mm, dpage);
        if (dmirror instanceof Dmirror) dmirror.pt.delete(vmf.address / this.#module.pageSize);
        mm.core.physmem.copyHighpage(dpage, backing);
        args.dst![0] = migratePfn(dpage) + MIGRATE_PFN_LOCKED + (migratePfnHas(args.src![0]!, MIGRATE_PFN_WRITE) ? MIGRATE_PFN_WRITE : 0);
      } else if (dpage !== undefined) {
        mm.putPage(dpage);
      }
    }
    migrateVmaPages(args);
    migrateVmaFinalize(args);
    return 0;
  }

  /** `dmirror_device_remove()`: each chunk's pagemap unmapped (waiting for its pages), its region released. */
  async removeChunks(): Promise<void> {
    const { kernel, memremap } = this.#module.parts;
    for (const c of [...this.#chunks]) {
      await memremap.memunmapPages(c.pagemap);
      kernel.iomem.releaseResource(c.resource);
      this.#free.dropRange(c.pfnFirst, c.pfnLast);
      this.#chunks.splice(this.#chunks.indexOf(c), 1);
    }
    this.#capacity = 0;
  }
}

/** One mirror page-table entry: the system page mirrored and `DPT_XA_TAG_WRITE`. @public */
export interface DmirrorPtEntry {
  /** The system page (the backing page for a page on the device). */
  readonly page: number;
  /** Tagged writable. */
  readonly write: boolean;
}

/** `struct dmirror_bounce`: the kernel buffer between user memory and the mirror (allocated on its first page). */
interface Bounce {
  readonly addr: number;
  readonly size: number;
  ptr: Uint8Array | undefined;
  cpages: number;
}

/** The user address space (2^53) above which no VMA can exist: ranges are cut there. */
const ADDR_LIMIT = 2 ** 53;

/**
 * `struct dmirror`: one open file of a dmirror device, bound to the
 * opener's mm, with its interval notifier and mirror page table.
 * @public
 */
export class Dmirror {
  /** `mdevice`: the device it was opened on. */
  readonly mdevice: DmirrorDevice;
  /** `notifier.mm`: the opener's address space. */
  readonly mm: MmStruct;
  /** `notifier`: the interval subscription over `[0, ULONG_MAX & PAGE_MASK)`. */
  readonly notifier: MmuIntervalNotifier = new MmuIntervalNotifier();
  /**
   * `pt`: the mirror page table, virtual pfn to the system page mirrored
   * there (the backing page for a page on the device) and whether it is
   * writable (`DPT_XA_TAG_WRITE`). It holds no page references.
   */
  readonly pt: Map<number, DmirrorPtEntry> = new Map();
  #released = false;
  readonly #module: TestHmm;
  /** `PAGE_SIZE` of the machine. */
  readonly #ps: number;
  readonly #onRelease: (file: Dmirror) => void;

  constructor(module: TestHmm, mdevice: DmirrorDevice, mm: MmStruct, onRelease: (file: Dmirror) => void) {
    if (!(module instanceof TestHmm)) throw new KernelError('EINVAL', `dmirror_new: not the test_hmm module: ${String(module)}`);
    if (!(mdevice instanceof DmirrorDevice)) throw new KernelError('EINVAL', `dmirror_new: not a dmirror device: ${String(mdevice)}`);
    if (!(mm instanceof MmStruct)) throw new KernelError('EINVAL', `dmirror_new: not an mm: ${String(mm)}`);
    if (typeof onRelease !== 'function') throw new KernelError('EINVAL', 'dmirror_new: onRelease is not a function');
    this.#module = module;
    this.#ps = module.pageSize;
    this.mdevice = mdevice;
    this.mm = mm;
    this.#onRelease = onRelease;
  }

  /** Whether the file has been released. */
  get released(): boolean {
    return this.#released;
  }

  /**
   * `dmirror_interval_invalidate()` (lib/test_hmm.c): skips the device's
   * own migration (`MMU_NOTIFY_MIGRATE` with this device as owner, no
   * `set_seq`); otherwise refuses (false) a non-blockable range, or bumps
   * the sequence and erases the mirror entries of `[start >> PAGE_SHIFT, end >> PAGE_SHIFT]`
   * — an inclusive end, so one page beyond the range goes too.
   */
  invalidate(sub: MmuIntervalNotifier, range: MmuNotifierRange, curSeq: number): boolean {
    if (sub !== this.notifier) throw new KernelError('EINVAL', 'dmirror_interval_invalidate: not this mirror\'s notifier');
    if (typeof range !== 'object' || range === null) throw new KernelError('EINVAL', 'dmirror_interval_invalidate: no range');
    if (range.mm !== this.mm) throw new KernelError('EINVAL', 'dmirror_interval_invalidate: the range is not of the mirrored mm');
    mmuNotifierEventName(range.event);
    checkUnsigned('dmirror_interval_invalidate', 'flags', range.flags);
    checkUnsigned('dmirror_interval_invalidate', 'start', range.start);
    checkUnsigned('dmirror_interval_invalidate', 'end', range.end);
    checkUnsigned('dmirror_interval_invalidate', 'cur_seq', curSeq);
    if (range.event === MMU_NOTIFY_MIGRATE && range.migratePgmapOwner === this.mdevice) return true;
    if (!mmuNotifierRangeBlockable(range)) return false;
    mmuIntervalSetSeq(sub, curSeq);
    this.#doUpdate(range.start, range.end);
    return true;
  }

  /** `dmirror_do_update(dmirror, start, end)`: erase `pt[start >> PAGE_SHIFT ..= end >> PAGE_SHIFT]`. */
  #doUpdate(start: number, end: number): void {
    const first = Math.floor(start / this.#ps);
    const last = Math.floor(end / this.#ps);
    if (last - first + 1 > this.pt.size) {
      for (const k of [...this.pt.keys()]) if (k >= first && k <= last) this.pt.delete(k);
    } else {
      for (let k = first; k <= last; k++) this.pt.delete(k);
    }
  }

  /**
   * The common part of `dmirror_fops_unlocked_ioctl()` (lib/test_hmm.c),
   * in the kernel's order: a released file (`!private_data`) is -EINVAL, a
   * field that is not a `__u64` -EFAULT (what `copy_from_user` of a bad
   * struct gives), `addr` not page aligned -EINVAL, `addr >= addr +
   * (npages << PAGE_SHIFT)` (npages 0, or a range that wraps) -EINVAL, an unknown
   * command -EINVAL. Returns the range `[start, end)` (cut at 2^53, above
   * any user address).
   */
  ioctlCheck(request: number, cmd: HmmDmirrorCmd): { start: number; end: number } {
    if (this.#released) throw new KernelError('EINVAL', 'dmirror: file has no private data');
    checkCmd(cmd);
    if (cmd.addr % BigInt(this.#ps) !== 0n) throw new KernelError('EINVAL', 'dmirror: addr is not page aligned');
    const end = (cmd.addr + cmd.npages * BigInt(this.#ps)) % 2n ** 64n;
    if (cmd.addr >= end) throw new KernelError('EINVAL', 'dmirror: empty or wrapping range');
    if (![HMM_DMIRROR_READ, HMM_DMIRROR_WRITE, HMM_DMIRROR_MIGRATE, HMM_DMIRROR_SNAPSHOT].includes(request)) {
      throw new KernelError('EINVAL', `dmirror: unknown ioctl ${typeof request === 'number' ? `0x${request.toString(16)}` : String(request)}`);
    }
    const cut = (x: bigint): number => (x > BigInt(ADDR_LIMIT) ? ADDR_LIMIT : Number(x));
    return { start: cut(cmd.addr), end: cut(end) };
  }

  /**
   * `dmirror_fops_unlocked_ioctl(filp, request, cmd)` (lib/test_hmm.c,
   * v5.13): runs READ, WRITE, MIGRATE or SNAPSHOT on `[addr, addr + npages
   * pages)` of the file's mm, with `ptr` the user buffer. On success
   * `cmd.cpages` and `cmd.faults` are updated (the copy back); on failure
   * they are not, and the KernelError says why: -EINVAL (checks, no VMA or
   * an unreadable one for MIGRATE, the mm gone), -EFAULT (an address that
   * cannot be mirrored, a user buffer that cannot be copied), -EPERM (WRITE
   * to read-only memory), -ENOENT (MIGRATE: a page did not end on this
   * device), -EBUSY (the range kept changing for the 1 s timeout), -ENOMEM.
   */
  ioctl(request: number, cmd: HmmDmirrorCmd): void {
    const { start, end } = this.ioctlCheck(request, cmd);
    const out = { cpages: 0, faults: 0 };
    switch (request) {
      case HMM_DMIRROR_READ:
        this.#read(start, end, cmd.ptr, out);
        break;
      case HMM_DMIRROR_WRITE:
        this.#write(start, end, cmd.ptr, out);
        break;
      case HMM_DMIRROR_MIGRATE:
        this.#migrate(start, end, cmd.ptr, out);
        break;
      default:
        this.#snapshot(start, end, cmd.ptr, out);
    }
    cmd.cpages = BigInt(out.cpages);
    cmd.faults = BigInt(out.faults);
  }

  #mmAlive(): boolean {
    return this.mm.mmUsers > 0;
  }

  /** `dmirror_bounce_init()`: -ENOMEM for a buffer larger than free memory (vmalloc fails). */
  #bounceInit(start: number, size: number): Bounce {
    const { mm } = this.#module.parts;
    if (size > mm.core.nrFreePages() * this.#ps) throw new KernelError('ENOMEM', 'dmirror: no memory for the bounce buffer');
    return { addr: start, size, ptr: undefined, cpages: 0 };
  }

  /** `copy_to_user()` to the opener's memory: -EFAULT if any byte cannot be written. */
  #copyToUser(ptr: bigint, data: Uint8Array): void {
    if (data.length === 0) return;
    if (ptr + BigInt(data.length) > BigInt(ADDR_LIMIT)) throw new KernelError('EFAULT', 'dmirror: copy_to_user failed');
    try {
      userWrite(this.mm, Number(ptr), data);
    } catch (e) {
      if (e instanceof UserFaultSignal || isKernelError(e)) throw new KernelError('EFAULT', 'dmirror: copy_to_user failed');
      throw e;
    }
  }

  /** `copy_from_user()` from the opener's memory: -EFAULT if any byte cannot be read. */
  #copyFromUser(ptr: bigint, length: number): Uint8Array {
    if (ptr + BigInt(length) > BigInt(ADDR_LIMIT)) throw new KernelError('EFAULT', 'dmirror: copy_from_user failed');
    try {
      return userRead(this.mm, Number(ptr), length);
    } catch (e) {
      if (e instanceof UserFaultSignal || isKernelError(e)) throw new KernelError('EFAULT', 'dmirror: copy_from_user failed');
      throw e;
    }
  }

  #bounceBytes(b: Bounce): Uint8Array {
    return b.ptr ?? new Uint8Array(b.size);
  }

  /** `dmirror_do_read()`: copies mirrored pages into the bounce buffer from `start`; -ENOENT at the first missing one. */
  #doRead(start: number, end: number, b: Bounce): boolean {
    const physmem = this.#module.parts.mm.core.physmem;
    for (let pfn = start / this.#ps; pfn < end / this.#ps; pfn++) {
      const e = this.pt.get(pfn);
      if (e === undefined) return false;
      const buf = (b.ptr ??= new Uint8Array(b.size));
      const off = (pfn - b.addr / this.#ps) * this.#ps;
      physmem.readInto(e.page * this.#ps, buf.subarray(off, off + this.#ps));
      b.cpages++;
    }
    return true;
  }

  /** `dmirror_do_write()`: copies the bounce buffer into mirrored pages tagged writable; -ENOENT at the first other one. */
  #doWrite(start: number, end: number, b: Bounce, data: Uint8Array): boolean {
    const { mm } = this.#module.parts;
    for (let pfn = start / this.#ps; pfn < end / this.#ps; pfn++) {
      const e = this.pt.get(pfn);
      if (e === undefined || !e.write) return false;
      const off = (pfn - b.addr / this.#ps) * this.#ps;
      mm.writePage(e.page, 0, data.subarray(off, off + this.#ps));
      b.cpages++;
    }
    return true;
  }

  /** `dmirror_read()`: read from the mirror, faulting missing pages in (`faults` counts the calls). */
  #read(startIn: number, end: number, ptr: bigint, out: { cpages: number; faults: number }): void {
    const b = this.#bounceInit(startIn, end - startIn);
    let start = startIn;
    for (;;) {
      const ok = this.#doRead(start, end, b);
      out.cpages = b.cpages;
      if (ok) break;
      start = startIn + b.cpages * this.#ps;
      this.#module.condResched();
      this.#faultOrSpin(start, end, false);
      out.faults++;
    }
    this.#copyToUser(ptr, this.#bounceBytes(b));
  }

  /** `dmirror_write()`: copy the user buffer in, then write through the mirror, faulting pages in writable. */
  #write(startIn: number, end: number, ptr: bigint, out: { cpages: number; faults: number }): void {
    const b = this.#bounceInit(startIn, end - startIn);
    const data = this.#copyFromUser(ptr, end - startIn);
    let start = startIn;
    for (;;) {
      const ok = this.#doWrite(start, end, b, data);
      out.cpages = b.cpages;
      if (ok) break;
      start = startIn + b.cpages * this.#ps;
      this.#module.condResched();
      this.#faultOrSpin(start, end, true);
      out.faults++;
    }
  }

  /**
   * `dmirror_fault()` as READ and WRITE call it: when the mm is gone it does
   * nothing and returns 0, and v5.13's loop around it spins for ever (only a
   * file inherited by a process that outlived the opener can get there);
   * the model stops with a KernelBug instead.
   */
  #faultOrSpin(start: number, end: number, write: boolean): void {
    if (!this.#mmAlive()) throw new KernelBug('dmirror: the mirrored address space is gone; v5.13 would retry for ever here');
    this.#fault(start, end, write);
  }

  /** `dmirror_fault()`: `dmirror_range_fault()` per 64-page chunk; nothing if the mm is gone. */
  #fault(start: number, end: number, write: boolean): void {
    if (!this.#mmAlive()) return;
    for (let addr = start; addr < end; ) {
      const next = Math.min(addr + 64 * this.#ps, end);
      const range: HmmRange = {
        notifier: this.notifier,
        notifierSeq: 0,
        start: addr,
        end: next,
        hmmPfns: new BigUint64Array((next - addr) / this.#ps),
        defaultFlags: HMM_PFN_REQ_FAULT + (write ? HMM_PFN_REQ_WRITE : 0n),
        pfnFlagsMask: 0n,
        devPrivateOwner: this.mdevice,
      };
      this.#rangeFault(range, () => this.#doFault(range));
      addr = next;
    }
  }

  /**
   * The retry loop of `dmirror_range_fault()` / `dmirror_range_snapshot()`
   * (Documentation/vm/hmm.rst): `read_begin`, `hmm_range_fault`, -EBUSY
   * starts over; then under the driver lock `read_retry` starts over too;
   * else `commit` runs. The 1 s `HMM_RANGE_DEFAULT_TIMEOUT` is counted as
   * attempts of about 1 ms each (the model has no jiffies): -EBUSY after
   * 1000 of them.
   */
  #rangeFault(range: HmmRange, commit: () => void): void {
    for (let attempt = 0; ; attempt++) {
      if (attempt >= HMM_RANGE_DEFAULT_TIMEOUT) throw new KernelError('EBUSY', 'dmirror: the range kept changing');
      this.#module.condResched();
      range.notifierSeq = mmuIntervalReadBegin(range.notifier);
      try {
        hmmRangeFault(range);
      } catch (e) {
        if (isKernelError(e) && e.errno === 'EBUSY') continue;
        throw e;
      }
      this.#module.condResched();
      if (mmuIntervalReadRetry(range.notifier, range.notifierSeq)) continue;
      commit();
      return;
    }
  }

  /**
   * `dmirror_do_fault()`: stores the pages `hmm_range_fault()` returned,
   * tagged writable when the CPU may write. A device-private page of this
   * device (reported, not faulted, after the mirror lost its entry) is
   * stored as its backing page, so that the mirror always holds system
   * pages as v5.13's driver intends.
   */
  #doFault(range: HmmRange): void {
    const { mm } = this.#module.parts;
    const store = mm.core.memmap;
    for (let i = 0; i < range.hmmPfns.length; i++) {
      const e = range.hmmPfns[i]!;
      if (hmmTest(e, HMM_PFN_ERROR) || !hmmTest(e, HMM_PFN_VALID)) throw new KernelBug('dmirror_do_fault: hmm_range_fault returned an invalid entry');
      let page = hmmPfnToPage(e);
      if (this.mdevice.ownsPfn(page)) {
        const r = store.pageZoneDeviceData(page);
        if (typeof r === 'number') page = r;
      }
      const write = hmmTest(e, HMM_PFN_WRITE);
      if (!write && hmmTest(range.defaultFlags, HMM_PFN_REQ_WRITE)) throw new KernelError('EFAULT', 'dmirror: read-only page for a write');
      this.pt.set(range.start / this.#ps + i, { page, write });
    }
  }

  /** `dmirror_migrate()`: per VMA and 64-page chunk, migrate system memory to this device, then read it back. */
  #migrate(start: number, end: number, ptr: bigint, out: { cpages: number; faults: number }): void {
    if (!this.#mmAlive()) throw new KernelError('EINVAL', 'dmirror: the address space is gone');
    for (let addr = start; addr < end; ) {
      const vma = this.mm.findVma(addr);
      if (vma === null || addr < vma.vmStart || !hasBits(vma.vmFlags, VM_READ)) {
        throw new KernelError('EINVAL', `dmirror: no readable vma at 0x${addr.toString(16)}`);
      }
      const next = Math.min(end, addr + 64 * this.#ps, vma.vmEnd);
      const n = (next - addr) / this.#ps;
      const args: MigrateVma = {
        vma,
        src: new Array<number>(n).fill(0),
        dst: new Array<number>(n).fill(0),
        cpages: 0,
        npages: 0,
        start: addr,
        end: next,
        pgmapOwner: this.mdevice,
        flags: MIGRATE_VMA_SELECT_SYSTEM,
      };
      migrateVmaSetup(args);
      this.#migrateAllocAndCopy(args);
      migrateVmaPages(args);
      this.#migrateFinalizeAndMap(args);
      migrateVmaFinalize(args);
      addr = next;
    }
    const b = this.#bounceInit(start, end - start);
    if (this.#copyMirrorToUser(start, end, ptr, out)) return;
    const ok = this.#doRead(start, end, b);
    out.cpages = b.cpages;
    if (!ok) throw new KernelError('ENOENT', 'dmirror: a page was not migrated to this device');
    this.#copyToUser(ptr, this.#bounceBytes(b));
  }

  /**
   * `dmirror_do_read()` into the bounce buffer followed by `copy_to_user()`
   * of it, done page to page when nothing can tell the difference: a
   * page-aligned user buffer that does not overlap `[start, end)` cannot
   * alias a mirrored page, so each mirrored page is copied straight into
   * the user page that would have received its bytes, with no host buffer
   * of the whole range. The mirror entries are all looked up first (-ENOENT
   * at the first missing one, `cpages` counting those before it, as
   * `dmirror_do_read()` does), then the user pages are written in order
   * (-EFAULT at the first that cannot be, the pages before it written, as
   * `copy_to_user()` leaves them). Returns false, having done nothing, when
   * the buffer does not qualify.
   */
  #copyMirrorToUser(start: number, end: number, ptr: bigint, out: { cpages: number; faults: number }): boolean {
    const ps = this.#ps;
    const size = end - start;
    if (size === 0 || ptr % BigInt(ps) !== 0n || ptr + BigInt(size) > BigInt(ADDR_LIMIT)) return false;
    const uaddr = Number(ptr);
    if (uaddr < end && start < uaddr + size) return false;
    const n = size / ps;
    const first = start / ps;
    const pages = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const e = this.pt.get(first + i);
      if (e === undefined) {
        out.cpages = i;
        throw new KernelError('ENOENT', 'dmirror: a page was not migrated to this device');
      }
      pages[i] = e.page;
    }
    out.cpages = n;
    const physmem = this.#module.parts.mm.core.physmem;
    for (let i = 0; i < n; i++) {
      const at = uaddr + i * ps;
      let pte: PresentPte;
      try {
        pte = userFault(this.mm, at, 'write');
      } catch (e) {
        if (e instanceof UserFaultSignal || isKernelError(e)) throw new KernelError('EFAULT', 'dmirror: copy_to_user failed');
        throw e;
      }
      const pmdSize = this.mm.pgd!.geometry.pmdSize;
      const to = pmdHuge(pte) ? pte.pfn + Math.floor((at % pmdSize) / ps) : pte.pfn;
      physmem.copy(to * ps, pages[i]! * ps, ps);
    }
    return true;
  }

  /** `dmirror_migrate_alloc_and_copy()`: a device page per collected entry, its backing page a copy (or cleared). */
  #migrateAllocAndCopy(args: MigrateVma): void {
    const { mm } = this.#module.parts;
    const store = mm.core.memmap;
    const src = args.src!;
    const dst = args.dst!;
    for (let i = 0; i < args.npages; i++) {
      if (!migratePfnHas(src[i]!, MIGRATE_PFN_MIGRATE)) continue;
      const spage = migratePfnToPage(src[i]!);
      const dpage = this.mdevice.devmemAllocPage();
      if (dpage === undefined) continue;
      const rpage = store.pageZoneDeviceData(dpage) as number;
      if (spage !== undefined) mm.core.physmem.copyHighpage(rpage, spage);
      else mm.core.physmem.clearPage(rpage);
      store.setPageZoneDeviceData(rpage, this);
      const write = migratePfnHas(src[i]!, MIGRATE_PFN_WRITE) || (spage === undefined && hasBits(args.vma!.vmFlags, VM_WRITE));
      dst[i] = migratePfn(dpage) + MIGRATE_PFN_LOCKED + (write ? MIGRATE_PFN_WRITE : 0);
    }
  }

  /** `dmirror_migrate_finalize_and_map()`: the mirror maps each migrated page's backing page. */
  #migrateFinalizeAndMap(args: MigrateVma): void {
    const store = this.#module.parts.mm.core.memmap;
    const src = args.src!;
    const dst = args.dst!;
    for (let i = 0; i < args.npages; i++) {
      if (!migratePfnHas(src[i]!, MIGRATE_PFN_MIGRATE)) continue;
      const dpage = migratePfnToPage(dst[i]!);
      if (dpage === undefined) continue;
      this.pt.set(args.start / this.#ps + i, { page: store.pageZoneDeviceData(dpage) as number, write: migratePfnHas(dst[i]!, MIGRATE_PFN_WRITE) });
    }
  }

  /** `dmirror_snapshot()`: one byte per page of what the CPU page table holds, never faulting. */
  #snapshot(start: number, end: number, ptrIn: bigint, out: { cpages: number; faults: number }): void {
    if (!this.#mmAlive()) throw new KernelError('EINVAL', 'dmirror: the address space is gone');
    let ptr = ptrIn;
    for (let addr = start; addr < end; ) {
      const next = Math.min(addr + 64 * this.#ps, end);
      const n = (next - addr) / this.#ps;
      const perm = this.#rangeSnapshot(addr, next);
      this.#copyToUser(ptr, perm);
      out.cpages += n;
      ptr += BigInt(n);
      addr = next;
    }
  }

  /** `dmirror_range_snapshot()`: a temporary interval notifier over the chunk, the retry loop, `dmirror_mkentry()` per page. */
  #rangeSnapshot(start: number, end: number): Uint8Array {
    const sub = new MmuIntervalNotifier();
    mmuIntervalNotifierInsert(sub, this.mm, start, end - start, {
      invalidate: (s, _range, curSeq) => {
        mmuIntervalSetSeq(s, curSeq);
        return true;
      },
    });
    const range: HmmRange = {
      notifier: sub,
      notifierSeq: 0,
      start,
      end,
      hmmPfns: new BigUint64Array((end - start) / this.#ps),
      defaultFlags: 0n,
      pfnFlagsMask: 0n,
      devPrivateOwner: this.mdevice,
    };
    const perm = new Uint8Array((end - start) / this.#ps);
    try {
      this.#rangeFault(range, () => {
        range.hmmPfns.forEach((e, i) => (perm[i] = this.#mkentry(e)));
      });
    } finally {
      mmuIntervalNotifierRemove(sub);
    }
    return perm;
  }

  /** `dmirror_mkentry()`: the snapshot byte of one entry. */
  #mkentry(e: bigint): number {
    if (hmmTest(e, HMM_PFN_ERROR)) return HMM_DMIRROR_PROT_ERROR;
    if (!hmmTest(e, HMM_PFN_VALID)) return HMM_DMIRROR_PROT_NONE;
    const { mm } = this.#module.parts;
    const page = hmmPfnToPage(e);
    let perm: number;
    if (mm.isDevicePrivatePage(page)) {
      perm = mm.pagePgmap(page)?.owner === this.mdevice ? HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL : HMM_DMIRROR_PROT_DEV_PRIVATE_REMOTE;
    } else if (mm.isZeroPfn(page)) perm = HMM_DMIRROR_PROT_ZERO;
    else perm = HMM_DMIRROR_PROT_NONE;
    perm += hmmTest(e, HMM_PFN_WRITE) ? HMM_DMIRROR_PROT_WRITE : HMM_DMIRROR_PROT_READ;
    const order = hmmPfnToMapOrder(e);
    const pageShift = Math.log2(this.#ps);
    const pmdShift = Math.log2(mm.geometry.pmdSize);
    const pudShift = Math.log2(mm.geometry.pudSize);
    if (order + pageShift === pmdShift) perm += HMM_DMIRROR_PROT_PMD;
    else if (order + pageShift === pudShift) perm += HMM_DMIRROR_PROT_PUD;
    return perm;
  }

  /**
   * `dmirror_fops_release()`: removes the interval notifier and drops the
   * mirror page table. A second release is -EINVAL.
   */
  release(): void {
    if (this.#released) throw new KernelError('EINVAL', 'dmirror: file already released');
    mmuIntervalNotifierRemove(this.notifier);
    this.pt.clear();
    this.#released = true;
    this.#onRelease(this);
  }
}

function checkCmd(cmd: HmmDmirrorCmd): void {
  for (const k of ['addr', 'ptr', 'npages', 'cpages', 'faults'] as const) {
    const v: unknown = (cmd as unknown as Record<string, unknown> | null)?.[k];
    if (typeof v !== 'bigint' || v < 0n || v >= 2n ** 64n) throw new KernelError('EFAULT', `dmirror: cmd.${k} is not a __u64`);
  }
}

/**
 * The `test_hmm` module: `hmm_dmirror_init()` / `hmm_dmirror_exit()` and
 * `dmirror_fops_open()` (lib/test_hmm.c, v5.13).
 * @public
 */
export class TestHmm {
  /** The machine parts it drives. */
  readonly parts: TestHmmOptions;
  /** `dmirror_devices[]`, once loaded. */
  readonly devices: DmirrorDevice[] = [];
  /**
   * Called at the driver's scheduling points (between fault chunks and
   * retries): where another thread of the process — the selftest's
   * `unmap_buffer()` — gets to run. Unset, nothing runs there.
   */
  onCondResched: (() => void) | undefined = undefined;
  readonly #files = new Set<Dmirror>();
  #loaded = false;
  #devt = 0;

  constructor(options: TestHmmOptions) {
    if (typeof options !== 'object' || options === null) throw new KernelError('EINVAL', `test_hmm: invalid options ${String(options)}`);
    for (const k of ['kernel', 'memremap', 'mm'] as const) {
      if (typeof options[k] !== 'object' || options[k] === null) throw new KernelError('EINVAL', `test_hmm: options.${k} is missing`);
    }
    this.parts = options;
  }

  /** `PAGE_SIZE` of the machine's architecture (4 KiB on x86_64, 4 or 64 KiB on powerpc). */
  get pageSize(): number {
    return this.parts.mm.pageSize;
  }

  /** Whether the module is loaded. */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** `cond_resched()`: lets {@link TestHmm.onCondResched} run. */
  condResched(): void {
    this.onCondResched?.();
  }

  /**
   * `hmm_dmirror_init()` (modprobe test_hmm): registers the two devices,
   * allocates one chunk for each (a failure is ignored, as the kernel
   * ignores the return value), and logs "HMM test module loaded. This is
   * only for testing HMM.". -EEXIST if already loaded.
   */
  load(): void {
    if (this.#loaded) throw new KernelError('EEXIST', 'test_hmm is already loaded');
    // alloc_chrdev_region(): the major test_hmm.sh reads from /proc/devices for its mknod
    this.#devt = this.parts.kernel.devt.allocChrdevRegion(0, DMIRROR_NDEVICES, HMM_DMIRROR_CHRDEV_NAME);
    for (let id = 0; id < DMIRROR_NDEVICES; id++) this.devices.push(new DmirrorDevice(this, id));
    for (const d of this.devices) d.allocateChunk(false);
    this.#loaded = true;
    this.parts.kernel.log.info('HMM test module loaded. This is only for testing HMM.');
  }

  /**
   * `hmm_dmirror_exit()` (rmmod test_hmm): for each device, each chunk's
   * `memunmap_pages()` — which waits until every page of it is free — and
   * `release_mem_region()`. -EBUSY while a file is open (the module is in
   * use), -ENOENT if not loaded; nothing changes then.
   */
  async unload(): Promise<void> {
    if (!this.#loaded) throw new KernelError('ENOENT', 'test_hmm is not loaded');
    if (this.#files.size > 0) throw new KernelError('EBUSY', 'Module test_hmm is in use');
    this.#loaded = false;
    for (const d of this.devices) await d.removeChunks();
    this.devices.length = 0;
    this.parts.kernel.devt.unregisterChrdevRegion(this.#devt, DMIRROR_NDEVICES);
    this.#devt = 0;
  }

  /** The first device number of the module's region (`MKDEV(major, 0)`), 0 while it is not loaded. */
  get devt(): number {
    return this.#devt;
  }

  /**
   * `dmirror_fops_open(inode, filp)` of `/dev/hmm_dmirror<minor>`: a new
   * mirror bound to `mm`, subscribed with `mmu_interval_notifier_insert(..,
   * 0, ULONG_MAX & PAGE_MASK, ..)`. -ENODEV for a minor that does not exist
   * or when the module is not loaded; -EINVAL for an mm without page tables.
   */
  open(minor: number, mm: MmStruct): Dmirror {
    checkUnsigned('dmirror_fops_open', 'minor', minor);
    const mdevice = this.#loaded ? this.devices[minor] : undefined;
    if (mdevice === undefined) throw new KernelError('ENODEV', `no such device: /dev/hmm_dmirror${minor}`);
    if (!(mm instanceof MmStruct) || mm.pgd === null) throw new KernelError('EINVAL', 'dmirror: the opener has no page tables');
    const dmirror = new Dmirror(this, mdevice, mm, (f) => this.#files.delete(f));
    const ops: MmuIntervalNotifierOps = {
      invalidate: (sub, range, curSeq) => dmirror.invalidate(sub, range, curSeq),
    };
    // ULONG_MAX & PAGE_MASK: the whole address space from 0
    mmuIntervalNotifierInsert(dmirror.notifier, mm, 0, 2n ** 64n - BigInt(this.pageSize), ops);
    this.#files.add(dmirror);
    return dmirror;
  }

  /** The open files. */
  files(): Dmirror[] {
    return [...this.#files];
  }
}
