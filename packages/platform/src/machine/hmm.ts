/**
 * Processes and the `test_hmm` module: the part of the machine that
 * heterogeneous memory management (@zonedev/hmm) works on.
 *
 * ```
 *   MmSystem       @zonedev/mm: page tables and faults of the processes,
 *                    on the machine's mmzone core (struct pages, buddy, RAM)
 *   test_hmm       lib/test_hmm.c: `modprobe test_hmm` registers
 *                    /dev/hmm_dmirror0 and /dev/hmm_dmirror1, each with a
 *                    256 MiB chunk of MEMORY_DEVICE_PRIVATE memory from
 *                    request_free_mem_region() ("hmm_dmirror" in /proc/iomem)
 *   processes      @zonedev/hmm's DmirrorTask: an address space, open files
 *                    of /dev/hmm_dmirrorN, loads and stores that fault
 * ```
 *
 * A device-private page has a struct page but no physical address the CPU
 * can use: a page migrated to the device is mapped in its process by a
 * swap entry of type SWP_DEVICE_WRITE (or SWP_DEVICE_READ) whose offset is
 * the device page's pfn. A CPU access faults, do_swap_page() calls the
 * pagemap's migrate_to_ram(), and test_hmm copies the page back to system
 * memory (or answers VM_FAULT_SIGBUS when its fault-injection point fires).
 *
 * `rmmod test_hmm` runs hmm_dmirror_exit(): memunmap_pages() of every chunk
 * and the release of its region. The module is in use while a process has
 * a device open (the file holds a reference on the module, and kmod's
 * rmmod says so). With every file closed but pages still on the device,
 * v5.13's memunmap_pages() waits until the processes let go of them — the
 * rmmod process sleeps uninterruptibly; the model cannot sleep, so
 * unload() says what rmmod would wait for (EAGAIN) and leaves the module
 * loaded.
 */
import { KernelError, checkUnsigned } from '@zonedev/kernel';
import type { Kernel } from '@zonedev/kernel';
import type { Memremap } from '@zonedev/memremap';
import { MmSystem, devicePrivateEntryToPfn, isDevicePrivateEntry, isSwapPte } from '@zonedev/mm';
import type { PagingArch, SwpEntry } from '@zonedev/mm';
import type { MmCore } from '@zonedev/mmzone';
import { TestHmm } from '@zonedev/hmm';
import type { DmirrorTask, DmirrorTaskOptions } from '@zonedev/hmm';
import type { DeviceFile } from './devices.js';
import type { Platform } from '../profile.js';

/**
 * `uname -r` of the model (the release of LINUX_BANNER): where modprobe looks for modules.
 *
 * @public
 */
export const LINUX_RELEASE = '5.13.0-zonedev';

/** The paging geometry of a profile for mm's page tables. */
export function pagingArch(platform: Platform, mmu: string, pageShift: number): PagingArch {
  if (platform === 'x86_64') {
    return mmu === '5level'
      ? { name: 'x86_64 5-level', pageShift, levelBits: [9, 9, 9, 9, 9] }
      : { name: 'x86_64 4-level', pageShift, levelBits: [9, 9, 9, 9] };
  }
  return { name: 'powerpc 64K', pageShift, levelBits: [5, 9, 9, 13] };
}

/**
 * A process started on the machine (a front-end's `hmm-demo start`): its task, the buffer it mapped and the device file it opened.
 *
 * @public
 */
export interface HmmProcess {
  /** The process: its address space (`mm_struct`) and open files. */
  readonly task: DmirrorTask;
  /** The buffer's address and length. */
  readonly addr: number;
  /** The buffer's length in bytes. */
  readonly length: number;
  /** Where the MIGRATE ioctl copies what the device read back (`cmd.ptr`: the selftest's `buffer->mirror`). */
  readonly mirror: number;
  /** How many bytes of text the process wrote at `addr`. */
  readonly textLength: number;
  /** The descriptor of /dev/hmm_dmirror0. */
  readonly fd: number;
  /** Whether the process closed it (a front-end's `hmm-demo close`). */
  closed: boolean;
}

/**
 * A device-private entry of a process's page tables.
 *
 * @public
 */
export interface DevicePrivateMapping {
  /** The process whose page tables hold the entry. */
  readonly pid: number;
  /** The virtual address it maps. */
  readonly addr: number;
  /** The device-private swap entry (its offset is the device pfn). */
  readonly entry: SwpEntry;
}

/**
 * What the module and the processes are built on.
 *
 * @public
 */
export interface HmmParts {
  /** The machine's kernel. */
  readonly kernel: Kernel;
  /** The mmzone core processes allocate from. */
  readonly mm: MmCore;
  /** Memremap, for the module's `memremap_pages(MEMORY_DEVICE_PRIVATE)`. */
  readonly memremap: Memremap;
  /** The paging geometry of the profile (levels, page size). */
  readonly paging: PagingArch;
  /** Told once, when the first process needs it, of the MmSystem made (the machine hands it to memory hot-remove). */
  readonly onSystem?: (system: MmSystem) => void;
}

/**
 * The machine's processes and its test_hmm module.
 *
 * @public
 */
export class MachineHmm {
  readonly #parts: HmmParts;
  #system: MmSystem | undefined;
  #module: TestHmm | undefined;
  readonly #procs = new Map<number, HmmProcess>();
  #nextPid = 100;

  /** The processes and module of a machine built from `parts`. */
  constructor(parts: HmmParts) {
    this.#parts = parts;
  }

  /**
   * @zonedev/mm: page tables and faults, on the machine's mmzone core. Made
   * on first use (its zero page comes from the page allocator, so a machine
   * that never runs a process keeps every page of its boot).
   */
  get system(): MmSystem {
    if (this.#system === undefined) {
      this.#system = new MmSystem({ core: this.#parts.mm, arch: this.#parts.paging, devPagemaps: this.#parts.memremap });
      this.#parts.onSystem?.(this.#system);
    }
    return this.#system;
  }

  /** The page size of the processes' address spaces (the architecture's). */
  get pageSize(): number {
    return 2 ** this.#parts.paging.pageShift;
  }

  /** The loaded module, or undefined. */
  get module(): TestHmm | undefined {
    return this.#module;
  }

  /** The module instance processes open devices of: the loaded one, or one with no devices. */
  moduleOrUnloaded(): TestHmm {
    return this.#module ?? new TestHmm({ kernel: this.#parts.kernel, mm: this.system, memremap: this.#parts.memremap });
  }

  /**
   * `modprobe test_hmm`: hmm_dmirror_init() (lib/test_hmm.c). Throws
   * KernelError EEXIST (nothing changes) if the module is loaded.
   */
  load(): void {
    if (this.#module !== undefined) throw new KernelError('EEXIST', 'Module already in kernel');
    const m = new TestHmm({ kernel: this.#parts.kernel, mm: this.system, memremap: this.#parts.memremap });
    m.load();
    this.#module = m;
  }

  /** Device pages of the loaded module that are not on its free list (allocated to processes). */
  busyPages(): number {
    const m = this.#module;
    if (m === undefined) return 0;
    let busy = 0;
    for (const d of m.devices) {
      let total = 0;
      for (const c of d.chunks) total += c.pfnLast - c.pfnFirst;
      busy += total - d.nrFreePages;
    }
    return busy;
  }

  /**
   * `rmmod test_hmm`: hmm_dmirror_exit() (lib/test_hmm.c): for each device,
   * each chunk's memunmap_pages() and release_mem_region(). Throws
   * KernelError, with nothing changed: ENOENT when not loaded, EBUSY while a
   * device is open ("in use"), EAGAIN while device pages are still mapped
   * (memunmap_pages() would wait for them).
   */
  unload(): void {
    const m = this.#module;
    if (m === undefined) throw new KernelError('ENOENT', 'Module test_hmm is not currently loaded');
    if (m.files().length > 0) throw new KernelError('EBUSY', 'Module test_hmm is in use');
    const busy = this.busyPages();
    if (busy > 0) throw new KernelError('EAGAIN', `memunmap_pages() waits for ${busy} device page${busy === 1 ? '' : 's'} still mapped by a process`);
    const { kernel, memremap } = this.#parts;
    for (const d of m.devices) {
      for (const c of d.chunks) {
        // Every page is free: the teardown finishes inside the call.
        void memremap.memunmapPages(c.pagemap);
        kernel.iomem.releaseResource(c.resource);
      }
    }
    this.#module = undefined;
  }

  /** `/dev/hmm_dmirror0` and `1` while the module is loaded (character devices without read or write methods). */
  devices(): ReadonlyMap<string, DeviceFile> {
    const nodes = new Map<string, DeviceFile>();
    const m = this.#module;
    if (m === undefined) return nodes;
    for (const d of m.devices) {
      nodes.set(d.path.replace(/^\/dev\//, ''), {
        kind: 'char',
        size: () => undefined,
        read: () => new Uint8Array(0),
        write: () => 0,
      });
    }
    return nodes;
  }

  /** The options a new process (or the selftest's processes) is made with. */
  taskOptions(): DmirrorTaskOptions {
    return { testHmm: this.moduleOrUnloaded(), system: this.system, nextPid: () => this.nextPid() };
  }

  /** The pid the next process of the machine gets (`alloc_pid()`): one sequence for every kind of process. */
  nextPid(): number {
    return this.#nextPid++;
  }

  /** Records a process started on the machine. */
  addProcess(p: HmmProcess): void {
    this.#procs.set(p.task.pid, p);
  }

  /** A process by pid. */
  process(pid: number): HmmProcess | undefined {
    checkUnsigned('find_task_by_vpid', 'pid', pid);
    return this.#procs.get(pid);
  }

  /** The processes, by pid. */
  processes(): readonly HmmProcess[] {
    return [...this.#procs.values()].sort((a, b) => a.task.pid - b.task.pid);
  }

  /**
   * The process closes its /dev/hmm_dmirror0 (dmirror_fops_release()): its
   * pages on the device stay where they are. Throws KernelError EBADF if it
   * already did.
   */
  closeDevice(pid: number): void {
    checkUnsigned('dmirror_fops_release', 'pid', pid);
    const p = this.#procs.get(pid);
    if (p === undefined) throw new KernelError('ESRCH', `no process ${pid}`);
    if (p.closed) throw new KernelError('EBADF', `fd ${p.fd} is not open`);
    p.task.close(p.fd);
    p.closed = true;
  }

  /** The process ends (exit or a fatal signal): its files are closed and its address space goes. */
  exitProcess(pid: number): void {
    checkUnsigned('do_exit', 'pid', pid);
    const p = this.#procs.get(pid);
    if (p === undefined) return;
    p.task.exit();
    this.#procs.delete(pid);
  }

  /** Every PTE of the recorded processes that maps device page `pfn` (a device-private swap entry). */
  mappingsOf(pfn: number): DevicePrivateMapping[] {
    checkUnsigned('rmap_walk', 'pfn', pfn);
    const out: DevicePrivateMapping[] = [];
    if (this.#procs.size === 0) return out;
    const ps = this.pageSize;
    for (const p of this.processes()) {
      const mm = p.task.mm;
      const pgd = mm.pgd;
      if (pgd === null) continue;
      for (const vma of mm.vmas()) {
        for (let a = vma.vmStart; a < vma.vmEnd; a += ps) {
          const pte = pgd.get(a);
          if (isSwapPte(pte) && isDevicePrivateEntry(pte.entry) && devicePrivateEntryToPfn(pte.entry) === pfn) {
            out.push({ pid: mm.pid, addr: a, entry: pte.entry });
          }
        }
      }
    }
    return out;
  }
}
