/**
 * The machine's user processes: address spaces of @zonedev/mm that a
 * front-end starts, maps memory into, reads and writes, forks, pins and
 * ends — what a program on the guest does, without the program.
 *
 * ```
 *   start          a new mm_struct (the task's address space), pid from the machine
 *   mmap/munmap    do_mmap()/__do_munmap(): anonymous private or shared memory,
 *   mprotect         or a device file (/dev/daxR.N through device_dax's dax_mmap())
 *   read/write     the process's own loads and stores: a CPU access that faults
 *                    (handle_mm_fault(); a new page is GFP_HIGHUSER_MOVABLE, so
 *                    ZONE_MOVABLE first), SIGSEGV outside a mapping
 *   fork           dup_mmap(): copy-on-write for private anonymous memory
 *   pin/unpin      pin_user_pages(FOLL_WRITE), as a direct I/O leaves a page while
 *                    a device writes it (FOLL_LONGTERM too for an RDMA-style
 *                    registration); unpin_user_pages()
 *   exit           exit_mmap(): every mapping goes, every page reference is dropped
 * ```
 *
 * Memory hot-remove migrates these processes' pages with mm's
 * `migrate_pages()` (the machine hands its MmSystem to memory-hotplug as
 * the user mm): after `offline`, a process reads the same bytes at the same
 * virtual address from a different physical page. A pinned page cannot be
 * migrated, so the offline fails as the kernel's does.
 */
import { KernelError, checkUnsigned } from '@zonedev/kernel';
import {
  FOLL_LONGTERM, FOLL_WRITE, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, MmStruct, PROT_READ, PROT_WRITE,
  pinUserPages, unpinUserPages, userRead, userWrite,
} from '@zonedev/mm';
import type { MmSystem, MmapFile } from '@zonedev/mm';
import { argString } from '../args.js';

/**
 * A pin a process holds: the pages `pin_user_pages()` returned for a range.
 *
 * @public
 */
export interface ProcessPin {
  /** The first virtual address of the range. */
  readonly addr: number;
  /** The pfns pinned, one per page of the range. */
  readonly pfns: readonly number[];
}

/**
 * One process of the machine.
 *
 * @public
 */
export interface MachineProcess {
  /** Its address space. */
  readonly mm: MmStruct;
  /** The pid of the process it was forked from, or undefined. */
  readonly parent: number | undefined;
  /** The pins it holds, oldest first. */
  readonly pins: readonly ProcessPin[];
}

/**
 * How an `mmap` maps: anonymous private, anonymous shared, or a device file (always shared).
 *
 * @public
 */
export type ProcessMapping = 'private' | 'shared' | { readonly file: MmapFile };

interface Proc {
  readonly mm: MmStruct;
  readonly parent: number | undefined;
  pins: ProcessPin[];
}

/**
 * The processes of one machine, on its MmSystem.
 *
 * @public
 */
export class MachineProcesses {
  readonly #system: () => MmSystem;
  readonly #nextPid: () => number;
  readonly #procs = new Map<number, Proc>();

  /** Processes on the MmSystem `system()` returns, with pids from `nextPid()`. */
  constructor(system: () => MmSystem, nextPid: () => number) {
    this.#system = system;
    this.#nextPid = nextPid;
  }

  #get(fn: string, pid: number): Proc {
    checkUnsigned(fn, 'pid', pid);
    const p = this.#procs.get(pid);
    if (p === undefined) throw new KernelError('ESRCH', `${fn}: no process ${pid}`);
    return p;
  }

  /** A process by pid, or undefined. */
  process(pid: number): MachineProcess | undefined {
    checkUnsigned('find_task_by_vpid', 'pid', pid);
    return this.#procs.get(pid);
  }

  /** The processes, by pid. */
  processes(): readonly MachineProcess[] {
    return [...this.#procs.values()].sort((a, b) => a.mm.pid - b.mm.pid);
  }

  /**
   * A new process with an empty address space (`execve()` of a program that
   * has not mapped anything yet); with `membind`, started as `numactl
   * --membind=NODE` starts it (`set_mempolicy(MPOL_BIND)`: its pages come
   * from that node only). EINVAL for a node without memory; nothing changes then.
   */
  start(membind?: number): MachineProcess {
    const system = this.#system();
    if (membind !== undefined) {
      checkUnsigned('set_mempolicy', 'nid', membind);
      if (system.core.nodeData(membind) === undefined) throw new KernelError('EINVAL', `set_mempolicy: node ${membind} has no memory`);
    }
    const mm = new MmStruct(this.#nextPid(), { system, ...(membind !== undefined ? { membind } : {}) });
    const p: Proc = { mm, parent: undefined, pins: [] };
    this.#procs.set(mm.pid, p);
    return p;
  }

  /**
   * `mmap(NULL, length, PROT_READ|PROT_WRITE, flags, fd, 0)`: the address of
   * the new mapping. The errors are mmap's (EINVAL for a zero length,
   * ENOMEM for no room, the device's own for a device file); nothing is
   * mapped then.
   */
  mmap(pid: number, length: number, how: ProcessMapping = 'private'): number {
    const p = this.#get('do_mmap', pid);
    checkUnsigned('do_mmap', 'length', length);
    const prot = PROT_READ + PROT_WRITE;
    if (how === 'private') return p.mm.mmap({ length, prot, flags: MAP_PRIVATE + MAP_ANONYMOUS });
    if (how === 'shared') return p.mm.mmap({ length, prot, flags: MAP_SHARED + MAP_ANONYMOUS });
    if (typeof how !== 'object' || how === null) throw new KernelError('EINVAL', `do_mmap: invalid mapping ${String(how)}`);
    return p.mm.mmap({ length, prot, flags: MAP_SHARED, file: how.file, offset: 0 });
  }

  /** `munmap(addr, length)`. EINVAL for an unaligned address; pinned pages keep their pins. */
  munmap(pid: number, addr: number, length: number): void {
    this.#get('__do_munmap', pid).mm.munmap(addr, length);
  }

  /** `mprotect(addr, length, prot)` with mm's errors (ENOMEM over a hole, EACCES beyond VM_MAY*). */
  mprotect(pid: number, addr: number, length: number, prot: number): void {
    this.#get('do_mprotect_pkey', pid).mm.mprotect(addr, length, prot);
  }

  /** The process stores `text` at `addr`, faulting pages in; a UserFaultSignal (SIGSEGV) outside a writable mapping. */
  write(pid: number, addr: number, text: string): void {
    const p = this.#get('handle_mm_fault', pid);
    checkUnsigned('handle_mm_fault', 'addr', addr);
    argString('handle_mm_fault', 'text', text);
    userWrite(p.mm, addr, new TextEncoder().encode(text));
  }

  /** The process loads `length` bytes at `addr`; a UserFaultSignal (SIGSEGV) outside a readable mapping. */
  read(pid: number, addr: number, length: number): Uint8Array {
    const p = this.#get('handle_mm_fault', pid);
    checkUnsigned('handle_mm_fault', 'addr', addr);
    checkUnsigned('handle_mm_fault', 'length', length);
    return userRead(p.mm, addr, length);
  }

  /** `fork()`: a child with a copy-on-write copy of the address space (pins are not inherited). */
  fork(pid: number): MachineProcess {
    const parent = this.#get('copy_process', pid);
    const mm = parent.mm.fork(this.#nextPid());
    const child: Proc = { mm, parent: pid, pins: [] };
    this.#procs.set(mm.pid, child);
    return child;
  }

  /**
   * `pin_user_pages(addr, length / PAGE_SIZE, FOLL_WRITE)` (with
   * `FOLL_LONGTERM` when `longterm`): faults the range in writable and pins
   * each page (refcount +1024). The pin is the process's until
   * {@link MachineProcesses.unpin} or exit.
   */
  pin(pid: number, addr: number, length: number, longterm = false): ProcessPin {
    const p = this.#get('pin_user_pages', pid);
    checkUnsigned('pin_user_pages', 'addr', addr);
    checkUnsigned('pin_user_pages', 'length', length, Number.MAX_SAFE_INTEGER);
    const ps = p.mm.pageSize;
    if (length === 0 || addr % ps !== 0) throw new KernelError('EINVAL', `pin_user_pages: range ${addr}+${length} is not page-aligned`);
    if (typeof longterm !== 'boolean') throw new KernelError('EINVAL', `pin_user_pages: invalid longterm ${String(longterm)}`);
    const pfns = pinUserPages(p.mm, addr, Math.ceil(length / ps), longterm ? FOLL_WRITE + FOLL_LONGTERM : FOLL_WRITE);
    const pin = { addr, pfns };
    p.pins.push(pin);
    return pin;
  }

  /** `unpin_user_pages()` of every pin the process holds: the number of pages unpinned. */
  unpin(pid: number): number {
    const p = this.#get('unpin_user_pages', pid);
    let n = 0;
    for (const pin of p.pins) {
      unpinUserPages(this.#system(), pin.pfns);
      n += pin.pfns.length;
    }
    p.pins = [];
    return n;
  }

  /** `do_exit()`: the pins are released, then `exit_mmap()` tears the address space down. */
  exit(pid: number): void {
    const p = this.#get('do_exit', pid);
    this.unpin(pid);
    p.mm.mmput();
    this.#procs.delete(pid);
  }
}
