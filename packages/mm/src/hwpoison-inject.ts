/**
 * hwpoison-inject: software error injection for memory failure, after
 * mm/hwpoison-inject.c (Linux v5.13, `CONFIG_HWPOISON_INJECT=m`, the module
 * `hwpoison_inject`).
 *
 * Loading the module creates a debugfs directory, `/sys/kernel/debug/hwpoison`:
 *
 * ```
 *   corrupt-pfn                 0200  write a pfn: memory_failure(pfn, 0), as if the hardware had reported it
 *   unpoison-pfn                0200  write a pfn: unpoison_memory(pfn), the software undo
 *   corrupt-filter-enable       0600  u32: apply the filters below (0 by default)
 *   corrupt-filter-dev-major    0600  u32: only pages of files on this device (4294967295: any)
 *   corrupt-filter-dev-minor    0600  u32
 *   corrupt-filter-flags-mask   0600  u64: only pages whose /proc/kpageflags & mask == value
 *   corrupt-filter-flags-value  0600  u64
 * ```
 *
 * The two pfn files parse what is written as `simple_attr_write()` does
 * (`kstrtoull(buf, 0)`: EINVAL for anything but a number, ERANGE for one
 * above 64 bits) and answer with the errno of `memory_failure()` or
 * `unpoison_memory()`; a pfn without a struct page is ENXIO. With the
 * filters enabled, `corrupt-pfn` only poisons an LRU page that passes them,
 * and says nothing about the others (the write succeeds).
 * `corrupt-filter-memcg` exists only with `CONFIG_MEMCG`, which the model's
 * kernel does not have; the injector's `capable(CAP_SYS_ADMIN)` check has no
 * unprivileged writer to refuse.
 */
import {
  DEBUGFS_MOUNTPOINT, KernelError, debugfsCreateAttribute, debugfsCreateDir, debugfsCreateU32, debugfsCreateU64,
  debugfsRemoveRecursive,
} from '@zonedev/kernel';
import type { Kernel } from '@zonedev/kernel';
import { PG_lru } from '@zonedev/mmzone';
import { MemoryFailure } from './memory-failure.js';

/** The module's name, as modprobe and /sys/module know it. @public */
export const HWPOISON_INJECT_MODULE = 'hwpoison_inject';

/** The pfn a debugfs write carries, or ENXIO when no page can have it (`pfn_valid()` of an `unsigned long`). */
function pfnOf(fn: string, val: bigint): number {
  if (val > BigInt(Number.MAX_SAFE_INTEGER)) throw new KernelError('ENXIO', `${fn}: pfn 0x${val.toString(16)} is not valid`);
  return Number(val);
}

/**
 * The loaded `hwpoison_inject` module of one machine: `pfn_inject_init()`
 * in the constructor, `pfn_inject_exit()` in {@link HwpoisonInject.exit}.
 * @public
 */
export class HwpoisonInject {
  /** The memory failure handling the files drive. */
  readonly mf: MemoryFailure;
  /** `hwpoison_dir`: the module's debugfs directory, until exit. */
  #dir: string | undefined;

  /**
   * `pfn_inject_init()`: creates `/sys/kernel/debug/hwpoison` and its files.
   * Throws KernelError EINVAL when `mf` is not a MemoryFailure, EEXIST when
   * the directory exists already (the module is loaded).
   */
  constructor(mf: MemoryFailure) {
    if (!(mf instanceof MemoryFailure)) throw new KernelError('EINVAL', 'hwpoison_inject: no memory failure handling (CONFIG_MEMORY_FAILURE)');
    this.mf = mf;
    const kernel: Kernel = mf.core.kernel;
    const dir = debugfsCreateDir(kernel, 'hwpoison');
    this.#dir = dir;
    const f = mf.hwpoisonFilter;
    debugfsCreateAttribute(kernel, 'corrupt-pfn', 0o200, dir, { set: (v) => this.hwpoisonInject(pfnOf('hwpoison_inject', v)) });
    debugfsCreateAttribute(kernel, 'unpoison-pfn', 0o200, dir, { set: (v) => mf.unpoisonMemory(pfnOf('unpoison_memory', v)) });
    debugfsCreateU32(kernel, 'corrupt-filter-enable', 0o600, dir, () => f.enable, (v) => { f.enable = Number(v); });
    debugfsCreateU32(kernel, 'corrupt-filter-dev-major', 0o600, dir, () => f.devMajor, (v) => { f.devMajor = Number(v); });
    debugfsCreateU32(kernel, 'corrupt-filter-dev-minor', 0o600, dir, () => f.devMinor, (v) => { f.devMinor = Number(v); });
    debugfsCreateU64(kernel, 'corrupt-filter-flags-mask', 0o600, dir, () => f.flagsMask, (v) => { f.flagsMask = v; });
    debugfsCreateU64(kernel, 'corrupt-filter-flags-value', 0o600, dir, () => f.flagsValue, (v) => { f.flagsValue = v; });
  }

  /** The debugfs directory (`/sys/kernel/debug/hwpoison`), undefined after exit. */
  get dir(): string | undefined {
    return this.#dir;
  }

  /**
   * `hwpoison_inject(data, val)` (mm/hwpoison-inject.c, v5.13): the write
   * of `corrupt-pfn`. ENXIO for a pfn without a struct page. With the
   * filters enabled, a page that is not on an LRU list (after
   * `shake_page()`, which has nothing to drain in the model) or that
   * `hwpoison_filter()` rejects is skipped silently; otherwise "Injecting
   * memory failure at pfn %#lx" and `memory_failure(pfn, 0)`, whose errno
   * is the write's. EINVAL for a pfn that is not an unsigned integer.
   * @public
   */
  hwpoisonInject(pfn: number): void {
    if (!Number.isSafeInteger(pfn) || pfn < 0) throw new KernelError('EINVAL', `hwpoison_inject: invalid pfn ${String(pfn)}`);
    const mf = this.mf;
    const store = mf.core.memmap;
    if (!store.hasMemmap(pfn)) throw new KernelError('ENXIO', `hwpoison_inject: pfn 0x${pfn.toString(16)} is not valid`);
    if (mf.hwpoisonFilter.enable !== 0) {
      // only LRU pages (hugetlb pages, the other kind it takes, are not modelled)
      if (!store.testPageFlag(pfn, PG_lru)) return;
      if (mf.hwpoisonFiltered(pfn)) return;
    }
    mf.core.kernel.log.info(`Injecting memory failure at pfn ${pfn === 0 ? '0' : `0x${pfn.toString(16)}`}`);
    mf.memoryFailure(pfn, 0);
  }

  /** `pfn_inject_exit()`: removes the debugfs directory (rmmod). Nothing happens the second time. */
  exit(): void {
    if (this.#dir === undefined) return;
    debugfsRemoveRecursive(this.mf.core.kernel, this.#dir);
    this.#dir = undefined;
  }

  /** How the function-graph tracer prints this argument. */
  get traceName(): string {
    return HWPOISON_INJECT_MODULE;
  }
}

/** Where the module's files are: `/sys/kernel/debug/hwpoison`. @public */
export const HWPOISON_DEBUGFS_DIR: string = `${DEBUGFS_MOUNTPOINT}/hwpoison`;
