/**
 * The memory notifier chain and its error-injection point.
 *
 * Other subsystems must hear when memory comes and goes: the slab allocator
 * sets up per-node structures before a node's first memory goes online,
 * hugetlb and KSM drop what they keep on memory going offline, virtio-mem
 * and the balloon drivers veto offlining of memory they still use. They
 * register a `notifier_block` on the `memory_chain` (drivers/base/memory.c)
 * and receive every transition of every memory block:
 *
 * ```
 *   online:   MEM_GOING_ONLINE ──ok──► ... pages onlined ... ──► MEM_ONLINE
 *                  │ vetoed (notifier_from_errno(-E...))
 *                  └──► MEM_CANCEL_ONLINE          (block stays offline)
 *
 *   offline:  isolate ──► MEM_GOING_OFFLINE ──ok──► migrate, offline ──► MEM_OFFLINE
 *                              │ vetoed                  │ failed
 *                              └─► MEM_CANCEL_OFFLINE ◄──┘ (block stays online)
 * ```
 *
 * The argument of every event is a `struct memory_notify`: the pfn range and
 * which node states (`N_MEMORY`, `N_NORMAL_MEMORY`, `N_HIGH_MEMORY`) the
 * transition will change.
 *
 * lib/memory-notifier-error-inject.c is a test module that registers on the
 * chain and answers `MEM_GOING_ONLINE` or `MEM_GOING_OFFLINE` with an errno
 * written to debugfs, so that a test (tools/testing/selftests/memory-hotplug)
 * can watch the kernel unwind. {@link MemoryNotifierErrorInject} is that
 * module; its files appear below `/sys/kernel/debug/notifier-error-inject/`
 * while it is loaded.
 */
import type { BlockingNotifierHead, Kernel, NotifierBlock } from '@zonedev/kernel';
import { BlockingNotifierHead as BlockingNotifierHeadClass, Kernel as KernelClass, KernelError, notifierFromErrno } from '@zonedev/kernel';

/** `MEM_ONLINE` (include/linux/memory.h): the block is online. @public */
export const MEM_ONLINE = 1;
/** `MEM_GOING_OFFLINE`: the block is about to go offline. @public */
export const MEM_GOING_OFFLINE = 2;
/** `MEM_OFFLINE`: the block is offline. @public */
export const MEM_OFFLINE = 4;
/** `MEM_GOING_ONLINE`: the block is about to go online. @public */
export const MEM_GOING_ONLINE = 8;
/** `MEM_CANCEL_ONLINE`: onlining failed after MEM_GOING_ONLINE. @public */
export const MEM_CANCEL_ONLINE = 16;
/** `MEM_CANCEL_OFFLINE`: offlining failed after MEM_GOING_OFFLINE. @public */
export const MEM_CANCEL_OFFLINE = 32;

/**
 * The names of the memory events, as the error-injection directories and
 * traces spell them.
 * @public
 */
export const MEM_EVENT_NAMES: Readonly<Record<number, string>> = Object.freeze({
  [MEM_ONLINE]: 'MEM_ONLINE',
  [MEM_GOING_OFFLINE]: 'MEM_GOING_OFFLINE',
  [MEM_OFFLINE]: 'MEM_OFFLINE',
  [MEM_GOING_ONLINE]: 'MEM_GOING_ONLINE',
  [MEM_CANCEL_ONLINE]: 'MEM_CANCEL_ONLINE',
  [MEM_CANCEL_OFFLINE]: 'MEM_CANCEL_OFFLINE',
});

/**
 * `struct memory_notify` (include/linux/memory.h): the argument of every
 * memory event.
 * @public
 */
export interface MemoryNotify {
  /** First pfn of the range going on/offline. */
  readonly startPfn: number;
  /** Pages in the range. */
  readonly nrPages: number;
  /** The node that gains or loses `N_NORMAL_MEMORY`, else `NUMA_NO_NODE`. */
  statusChangeNidNormal: number;
  /** The node that gains or loses `N_HIGH_MEMORY`, else `NUMA_NO_NODE`. */
  statusChangeNidHigh: number;
  /** The node that gains or loses `N_MEMORY`, else `NUMA_NO_NODE`. */
  statusChangeNid: number;
}

/** `MAX_ERRNO` (include/linux/err.h). */
const MAX_ERRNO = 4095;

const DEBUGFS_DIR = '/sys/kernel/debug/notifier-error-inject/memory';

interface Action {
  readonly name: string;
  readonly val: number;
  error: number;
}

/**
 * lib/memory-notifier-error-inject.c (with lib/notifier-error-inject.c):
 * while loaded, answers `MEM_GOING_ONLINE` / `MEM_GOING_OFFLINE` with the
 * errno written to
 * `/sys/kernel/debug/notifier-error-inject/memory/actions/<EVENT>/error`
 * (a negative number such as `-12`, clamped to -4095..0; 0 injects
 * nothing). Each injection logs "Injecting error (-12) to MEM_GOING_ONLINE".
 * @public
 */
export class MemoryNotifierErrorInject {
  private readonly kernel: Kernel;
  private readonly chain: BlockingNotifierHead<MemoryNotify>;
  private readonly actions: Action[] = [
    { name: 'MEM_GOING_ONLINE', val: MEM_GOING_ONLINE, error: 0 },
    { name: 'MEM_GOING_OFFLINE', val: MEM_GOING_OFFLINE, error: 0 },
  ];
  private nb: NotifierBlock<MemoryNotify> | undefined = undefined;

  /** @param chain - the `memory_chain` it registers on. */
  constructor(kernel: Kernel, chain: BlockingNotifierHead<MemoryNotify>) {
    if (!(kernel instanceof KernelClass)) throw new KernelError('EINVAL', `memory_notifier_error_inject: not a kernel: ${String(kernel)}`);
    if (!(chain instanceof BlockingNotifierHeadClass)) throw new KernelError('EINVAL', 'memory_notifier_error_inject: not a notifier chain');
    this.kernel = kernel;
    this.chain = chain;
  }

  /** Whether the module is loaded. */
  get loaded(): boolean {
    return this.nb !== undefined;
  }

  /**
   * `modprobe memory-notifier-error-inject priority=N`: creates the debugfs
   * files (errors reset to 0) and registers on the memory chain with
   * `priority`. -EEXIST if already loaded.
   */
  load(priority: number = 0): void {
    if (!Number.isSafeInteger(priority) || priority < -0x80000000 || priority > 0x7fffffff) throw new KernelError('EINVAL', `memory_notifier_error_inject: invalid priority ${String(priority)}`);
    if (this.nb !== undefined) throw new KernelError('EEXIST', 'memory_notifier_error_inject: module already loaded');
    const sysfs = this.kernel.sysfs;
    const created: string[] = [];
    try {
      for (const a of this.actions) {
        a.error = 0;
        const path = `${DEBUGFS_DIR}/actions/${a.name}/error`;
        sysfs.createFile(path, {
          name: 'error',
          mode: 0o600,
          show: (): string => `${a.error}\n`,
          store: (v: string): void => {
            a.error = parseErrno(v);
          },
        });
        created.push(path);
      }
    } catch (e) {
      for (const p of created.reverse()) sysfs.remove(p);
      throw e;
    }
    const log = this.kernel.log;
    const nb: NotifierBlock<MemoryNotify> = {
      priority,
      notifierCall: (_nb, val): number => {
        let err = 0;
        let name = '';
        for (const a of this.actions) {
          if (a.val === val) {
            err = a.error;
            name = a.name;
            break;
          }
        }
        if (err !== 0) log.info(`Injecting error (${err}) to ${name}`);
        return notifierFromErrno(err);
      },
    };
    this.chain.register(nb);
    this.nb = nb;
  }

  /** `modprobe -r memory-notifier-error-inject`: unregisters and removes the files. No-op if not loaded. */
  unload(): void {
    if (this.nb === undefined) return;
    this.chain.unregister(this.nb);
    this.nb = undefined;
    this.kernel.sysfs.remove('/sys/kernel/debug/notifier-error-inject/memory');
  }

  /** The errno currently injected for an event (`MEM_GOING_ONLINE` or `MEM_GOING_OFFLINE`), 0 for none. */
  error(event: number): number {
    return this.action('memory_notifier_error_inject', event).error;
  }

  /** The action of `event`; EINVAL for an event the module has no file for. */
  private action(fn: string, event: number): (typeof this.actions)[number] {
    const a = this.actions.find((x) => x.val === event);
    if (a === undefined) throw new KernelError('EINVAL', `${fn}: no error-injection action for event ${String(event)}`);
    return a;
  }

  /** Sets the errno injected for an event, as writing its debugfs file does (clamped to -4095..0). */
  setError(event: number, errno: number): void {
    if (!Number.isSafeInteger(errno)) throw new KernelError('EINVAL', `memory_notifier_error_inject: invalid errno ${String(errno)}`);
    const a = this.actions.find((x) => x.val === event);
    if (a === undefined) throw new KernelError('EINVAL', `no error-injection action for event ${event}`);
    a.error = Math.min(0, Math.max(-MAX_ERRNO, Math.trunc(errno)));
  }
}

/**
 * What `simple_attr_write()` of a debugfs errno file does with the text:
 * `simple_strtoll(buf, NULL, 0)` (leading junk parses as 0), then the
 * clamp of `debugfs_errno_set()`.
 */
function parseErrno(text: string): number {
  const m = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(text);
  let v = 0;
  if (m !== null) {
    const digits = m[2]!;
    if (/^0[xX]/.test(digits)) v = Number.parseInt(digits.slice(2), 16);
    else if (digits.length > 1 && digits.startsWith('0')) v = Number.parseInt(digits, 8);
    else v = Number.parseInt(digits, 10);
    if (m[1] === '-') v = -v;
  }
  return Math.min(0, Math.max(-MAX_ERRNO, v));
}
