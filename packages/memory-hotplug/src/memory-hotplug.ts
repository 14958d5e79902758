/**
 * Memory hot(un)plug: adding, onlining, offlining and removing memory at run
 * time (mm/memory_hotplug.c, Linux v5.13).
 *
 * Memory arrives in two steps and leaves in two. *Adding* makes the range
 * exist for the kernel: a busy "System RAM" resource in /proc/iomem
 * (`register_memory_resource()`), sections with a memmap
 * (`arch_add_memory()` → `__add_pages()` → `sparse_add_section()`), and one
 * offline memory block device per block, linked to its node. *Onlining* a
 * block gives it to the page allocator: a zone is chosen, the zone and node
 * spans grow to cover it (`move_pfn_range_to_zone()`), the memory notifier
 * chain may veto, and the pages are freed into the buddy allocator in
 * MAX_ORDER blocks (`online_pages()`). Offlining is the reverse and the hard
 * part: the range is isolated so nothing new is allocated there, every page
 * still in use is migrated elsewhere, and only when the whole range is free
 * is it taken out of the allocator (`offline_pages()`). Removal then undoes
 * the add (`try_remove_memory()`), refused while any block is online.
 *
 * ```
 *   add_memory()            online_pages()            offline_pages()        remove_memory()
 *   ──────────────►  offline ──────────────►  online  ───────────────►  offline ──────────►  gone
 *   resource, sections,      zone span, buddy,         isolate, migrate,       blocks, sections,
 *   memmap, blocks           present/managed           take out of buddy       memmap, resource
 * ```
 *
 * Where the memmap of the added range lives is a choice (commit a08a2ae346): in RAM
 * that is already online (64 bytes per page, 2 MiB per 128 MiB on x86_64,
 * which can fail with -ENOMEM on a machine short of memory), or — with
 * `memory_hotplug.memmap_on_memory` and `MHP_MEMMAP_ON_MEMORY` — at the start
 * of the added block itself, through a `vmem_altmap` (the structure of the 2015 'struct page' for pmem series).
 * Those vmemmap pages are accounted to the zone only once the block is
 * online, and are never given to the allocator.
 *
 * ZONE_DEVICE (the 2015 ZONE_DEVICE patches) uses the lower half of this machinery
 * directly: memremap calls `arch_add_memory()` or `add_pages()` and
 * `move_pfn_range_to_zone(ZONE_DEVICE)`, but never onlines the pages.
 *
 * Model choices, each a place where the kernel leaks state on an error path
 * while the model's rule is that a failed call leaves everything as it was:
 * `__add_pages()` removes the sections it added before failing; x86's
 * `add_pages()` moves `max_pfn` only on success; `add_memory_resource()`
 * undoes `arch_add_memory()` with the altmap it added with. The
 * `device_hotplug_lock` and `mem_hotplug_lock` have no observable effect in
 * a single-threaded model and are not modelled; nor are memblock
 * (`ARCH_KEEP_MEMBLOCK`), /sys/firmware/memmap, KASAN shadow, kswapd and
 * kcompactd, zone contiguity, hugetlb and non-LRU movable pages.
 *
 * `offline_pages()` loops until every page of the range is free, and a page
 * that cannot be migrated (pinned by an extra reference) keeps it looping
 * until the writer gets a signal. The model's stand-in for that signal is a
 * bounded number of passes of the loop (`offlineSignalPasses`, default 8):
 * after that many passes with pages still in use, the call fails with
 * -EINTR and "signal backoff", exactly as the kernel's `signal_pending()`
 * branch does.
 */
import { Kernel } from '@zonedev/kernel';
import type { Range, Resource, Tracer } from '@zonedev/kernel';
import {
  ERRNO,
  IORESOURCE_BUSY,
  IORESOURCE_SYSRAM_DRIVER_MANAGED,
  IORESOURCE_SYSTEM_RAM,
  KernelError,
  NUMA_NO_NODE,
  alignDown,
  anyBits,
  checkPhysRange,
  checkUnsigned,
  errnoName,
  isAligned,
  notifierToErrno,
  orBits,
  traceMethod,
} from '@zonedev/kernel';
import { MmCore } from '@zonedev/mmzone';
import type { PglistData, Zone } from '@zonedev/mmzone';
import {
  GFP_USER,
  MEMORY_OFFLINE,
  MIGRATE_MOVABLE,
  MIGRATE_UNMOVABLE,
  PG_lru,
  PG_offline,
  POISONED_STRUCT_PAGE,
  REPORT_FAILURE,
  __GFP_MOVABLE,
  __GFP_RETRY_MAYFAIL,
  __GFP_THISNODE,
  gfpOr,
  isDevZone,
  pageTypeIs,
  populatedZone,
  resizePgdatRange,
  resizeZoneRange,
  setPgdatNrZones,
  setPgdatSpan,
  setZoneSpan,
  zoneEndPfn,
  zoneIntersects,
  zoneIsEmpty,
  zoneSpansPfn,
} from '@zonedev/mmzone';
import { SparseMemory } from '@zonedev/sparse-vmemmap';
import type { VmemAltmap } from '@zonedev/sparse-vmemmap';
import type { MmSystem } from '@zonedev/mm';
import { MIGRATE_SYNC, MR_MEMORY_HOTPLUG, MemoryFailure, isolateLruPage, migratePages, putbackLruPage } from '@zonedev/mm';
import { onlineDeviceSection, onlineSection, presentSection, validSection, vmemAltmap, vmemAltmapOffset } from '@zonedev/sparse-vmemmap';
import type { HotplugArch, MhpFlags, MhpParams, Pgprot } from './arch.js';
import { MHP_MEMMAP_ON_MEMORY, MHP_MERGE_RESOURCE, MHP_NONE } from './arch.js';
import type { MemoryBlock, MemoryBlockHost, OnlineType } from './memory.js';
import {
  MEM_STATE_OFFLINE,
  MEM_STATE_ONLINE,
  MMOP_OFFLINE,
  MMOP_ONLINE,
  MMOP_ONLINE_KERNEL,
  MMOP_ONLINE_MOVABLE,
  MemoryBlock as MemoryBlockDevice,
  MemorySubsystem,
  mhpOnlineTypeFromStr,
} from './memory.js';
import type { MemoryNotify } from './memory-notifier.js';
import {
  MEM_CANCEL_OFFLINE,
  MEM_CANCEL_ONLINE,
  MEM_GOING_OFFLINE,
  MEM_GOING_ONLINE,
  MEM_OFFLINE,
  MEM_ONLINE,
  MemoryNotifierErrorInject,
} from './memory-notifier.js';
import { NodeSubsystem } from './node.js';

/**
 * Options of a {@link MemoryHotplug}: the subsystems below it, the
 * architecture, and the boot parameters it honours.
 * @public
 */
export interface MemoryHotplugOptions {
  /** The machine's kernel services. */
  readonly kernel: Kernel;
  /** mmzone's core: nodes, zones, memmap, buddy allocator. */
  readonly mm: MmCore;
  /** sparse-vmemmap's memory model: sections and the vmemmap. */
  readonly sparse: SparseMemory;
  /** The architecture. */
  readonly arch: HotplugArch;
  /** `memhp_default_state=` (`online`, `online_kernel`, `online_movable`, `offline`); default `offline`, as without `CONFIG_MEMORY_HOTPLUG_DEFAULT_ONLINE`. */
  readonly memhpDefaultState?: string;
  /** `memory_hotplug.memmap_on_memory=` (default false; ignored unless the architecture has the feature). */
  readonly memmapOnMemory?: boolean;
  /** `movable_node` on the command line (default false). */
  readonly movableNode?: boolean;
  /** `max_pfn` after boot (default: the end of the highest present section). */
  readonly maxPfn?: number;
  /** `node_possible_map` (default: every online node of `mm`). Each possible node gets its `pglist_data` at boot, as x86 gives memoryless possible nodes one. */
  readonly possibleNodes?: readonly number[];
  /** Nodes with CPUs (`N_CPU`, and what `try_offline_node()` checks); default `[0]`. */
  readonly cpuNodes?: readonly number[];
  /** Passes of `offline_pages()`' migration loop before the model's stand-in signal ends it with -EINTR (default 8). */
  readonly offlineSignalPasses?: number;
  /**
   * The machine's mm/ (processes and their page tables): with it, an
   * anonymous page mapped by processes is migrated by mm's
   * `migrate_pages()`, which rewrites their PTEs. Settable later as
   * {@link MemoryHotplug.userMm}.
   */
  readonly userMm?: MmSystem;
}

/**
 * A recorded linear (direct) mapping made by `arch_add_memory()`
 * (x86 `init_memory_mapping()`, powerpc `arch_create_linear_mapping()`).
 * @public
 */
export interface LinearMapping {
  /** Physical start of the mapped range. */
  readonly start: number;
  /** Bytes mapped. */
  readonly size: number;
  /** The protection it was mapped with (`mhp_params.pgprot`). */
  readonly pgprot: Pgprot;
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/**
 * The gfp mask of a migration target page when a range is offlined
 * (`do_migrate_range()`'s `mtc.gfp_mask`, `GFP_USER | __GFP_MOVABLE |
 * __GFP_RETRY_MAYFAIL`), on one node at a time (`__GFP_THISNODE`).
 */
const MIGRATION_TARGET_GFP = gfpOr(gfpOr(gfpOr(GFP_USER, __GFP_MOVABLE), __GFP_RETRY_MAYFAIL), __GFP_THISNODE);

/** `%#010llx` */
function hex10(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** `%pa` on a 64-bit kernel: `0x` and 16 hex digits. */
function pa(n: number): string {
  return `0x${n.toString(16).padStart(16, '0')}`;
}

/** `%016llx` */
function hex16(n: number): string {
  return n.toString(16).padStart(16, '0');
}

/** The KernelError for a negative errno decoded from a notifier value. */
function errnoOf(ret: number): KernelError {
  return new KernelError(errnoName(ret) ?? 'EINVAL', `notifier returned ${ret}`);
}

/** Refuses (EINVAL) arguments of the add_memory() family that are not C integers. */
function checkAddArgs(fn: string, nid: unknown, start: unknown, size: unknown, mhpFlags: unknown): void {
  checkUnsigned(fn, 'nid', nid);
  checkPhysRange(fn, start, size);
  checkUnsigned(fn, 'mhp_flags', mhpFlags);
}

/** EINVAL unless `pfn` and `nrPages` are unsigned integers whose sum is exact (a pfn range). */
function checkPfnRange(fn: string, pfn: unknown, nrPages: unknown): asserts pfn is number {
  checkUnsigned(fn, 'pfn', pfn);
  checkUnsigned(fn, 'nr_pages', nrPages, Number.MAX_SAFE_INTEGER - pfn);
}

/** EINVAL unless `v` is true or false. */
function checkBool(fn: string, what: string, v: unknown): asserts v is boolean {
  if (typeof v !== 'boolean') throw new KernelError('EINVAL', `${fn}: ${what} is not true or false: ${String(v)}`);
}

/** EINVAL unless `altmap` is NULL or a `struct vmem_altmap` (its pfns and counts whole numbers). */
function checkAltmap(fn: string, altmap: unknown): asserts altmap is VmemAltmap | undefined {
  if (altmap === undefined) return;
  const a = altmap as Record<string, unknown> | null;
  if (typeof a !== 'object' || a === null) throw new KernelError('EINVAL', `${fn}: invalid altmap ${String(altmap)}`);
  for (const k of ['basePfn', 'endPfn', 'reserve', 'free', 'alloc', 'align']) if (a[k] !== undefined) checkUnsigned(fn, `altmap ${k}`, a[k]);
}

/** EINVAL unless `params` is a `struct mhp_params`: a known pgprot, an altmap or NULL. */
function checkParams(fn: string, params: unknown): asserts params is MhpParams {
  const p = params as MhpParams | null;
  if (typeof p !== 'object' || p === null) throw new KernelError('EINVAL', `${fn}: invalid params ${String(params)}`);
  if (p.pgprot !== undefined && p.pgprot !== 'PAGE_KERNEL' && p.pgprot !== 'PAGE_KERNEL_NOCACHE') throw new KernelError('EINVAL', `${fn}: invalid pgprot ${String(p.pgprot)}`);
  checkAltmap(fn, p.altmap);
  if (p.forDevice !== undefined) checkBool(fn, 'for_device', p.forDevice);
}

/** EINVAL unless `mem` is a memory block device. */
function checkBlock(fn: string, mem: unknown): asserts mem is MemoryBlock {
  if (!(mem instanceof MemoryBlockDevice)) throw new KernelError('EINVAL', `${fn}: not a memory block: ${String(mem)}`);
}

function checkZone(fn: string, zone: unknown): asserts zone is Zone {
  if (typeof zone !== 'object' || zone === null || typeof (zone as { node?: unknown }).node !== 'number') {
    throw new KernelError('EINVAL', `${fn}: invalid zone ${String(zone)}`);
  }
}

/**
 * Memory hotplug of one machine (mm/memory_hotplug.c), with its memory
 * block devices (drivers/base/memory.c) and node devices
 * (drivers/base/node.c). See the module comment for the life cycle.
 * @public
 */
export class MemoryHotplug implements MemoryBlockHost {
  /** The machine's kernel services. */
  readonly kernel: Kernel;
  /** mmzone's core. */
  readonly mm: MmCore;
  /** sparse-vmemmap's memory model. */
  readonly sparse: SparseMemory;
  /** The architecture. */
  readonly arch: HotplugArch;
  /** The memory subsystem: blocks, their sysfs, the notifier chain. */
  readonly memory: MemorySubsystem;
  /** The node subsystem and `node_states[]`. */
  readonly nodes: NodeSubsystem;
  /** lib/memory-notifier-error-inject.c (load it to use it). */
  readonly errorInject: MemoryNotifierErrorInject;
  /** `mhp_default_online_type` (`auto_online_blocks`). */
  mhpDefaultOnlineType: OnlineType;
  /** `memmap_on_memory`: the boot parameter, false when the architecture lacks the feature. */
  readonly memmapOnMemory: boolean;
  /** `movable_node_enabled`. */
  readonly movableNodeEnabled: boolean;
  // max_pfn and max_low_pfn: raised by update_end_of_memory_vars(), lowered
  // back only by restoreEndOfMemoryVars() when a hot-add unwinds.
  private maxPfnVal: number;
  private maxLowPfnVal: number;
  /** Passes of the offline migration loop before -EINTR. */
  readonly offlineSignalPasses: number;
  /** The machine's mm/: anonymous pages of processes migrate through its `migrate_pages()`. */
  userMm: MmSystem | undefined;
  /**
   * The machine's memory-failure handling (mm/memory-failure.c) over the
   * same mm core and {@link MemoryHotplug.userMm}, behind the
   * `soft_offline_page` and `hard_offline_page` files; undefined without
   * `CONFIG_MEMORY_FAILURE` (no `PG_hwpoison`).
   */
  readonly memoryFailure: MemoryFailure | undefined;
  private readonly tracer: Tracer;
  private readonly linear: LinearMapping[] = [];
  private readonly cpuNodes: ReadonlySet<number>;
  private readonly series2015: boolean;
  private booted = false;

  constructor(options: MemoryHotplugOptions) {
    if (typeof options !== 'object' || options === null || !(options.kernel instanceof Kernel) || !(options.mm instanceof MmCore) || !(options.sparse instanceof SparseMemory)) {
      throw new KernelError('EINVAL', 'memory hotplug: kernel, mm and sparse are required');
    }
    this.kernel = options.kernel;
    this.mm = options.mm;
    this.sparse = options.sparse;
    this.arch = options.arch;
    this.tracer = options.kernel.tracer;
    this.userMm = options.userMm;
    this.memoryFailure = options.mm.config.pageflags.PG_hwpoison !== undefined
      ? new MemoryFailure({ core: options.mm, system: () => this.userMm })
      : undefined;
    const c = this.mm.config;
    if (this.sparse.layout.PAGE_SHIFT !== c.pageShift || this.sparse.layout.SECTION_SIZE_BITS !== c.sectionSizeBits) {
      throw new KernelError('EINVAL', 'memory hotplug: mmzone and sparse-vmemmap disagree on PAGE_SHIFT or SECTION_SIZE_BITS');
    }
    this.series2015 = c.arch.zonesShiftBudget === '2015';
    // setup_memhp_default_state(): an unknown value is ignored.
    let defaultType: OnlineType = MMOP_OFFLINE;
    if (options.memhpDefaultState !== undefined) {
      try {
        defaultType = mhpOnlineTypeFromStr(options.memhpDefaultState);
      } catch {
        // keep the default
      }
    }
    this.mhpDefaultOnlineType = defaultType;
    this.memmapOnMemory = this.arch.mhpMemmapOnMemory && (options.memmapOnMemory ?? false);
    this.movableNodeEnabled = options.movableNode ?? false;
    this.offlineSignalPasses = options.offlineSignalPasses ?? 8;
    this.cpuNodes = new Set(options.cpuNodes ?? [0]);
    const online = this.mm.onlinePgdats().map((p) => p.nodeId);
    const possible = options.possibleNodes ?? online;
    for (const nid of online) {
      if (!possible.includes(nid)) throw new KernelError('EINVAL', `online node ${nid} is not possible`);
    }
    for (const nid of possible) this.mm.allocNodeData(nid);
    this.nodes = new NodeSubsystem(this.kernel, possible, this.mm);
    this.memory = new MemorySubsystem(this.kernel, this, this.arch.memoryBlockSizeBytes(), this.sparse.layout.PAGES_PER_SECTION * this.sparse.layout.PAGE_SIZE, c.pageShift);
    this.errorInject = new MemoryNotifierErrorInject(this.kernel, this.memory.memoryChain);
    let highest = -1;
    for (const nr of this.sparse.presentSectionNrs()) highest = nr;
    this.maxPfnVal = options.maxPfn ?? (highest + 1) * this.sparse.layout.PAGES_PER_SECTION;
    this.maxLowPfnVal = this.maxPfnVal;
  }

  /** For the function-graph tracer. */
  get traceName(): string {
    return 'memory_hotplug';
  }

  /** `memory_block_size_bytes()`. */
  get blockSize(): number {
    return this.memory.blockSize;
  }

  private get pageShift(): number {
    return this.mm.config.pageShift;
  }

  private get pagesPerSection(): number {
    return this.mm.config.pagesPerSection;
  }

  // =====================================================================
  // boot
  // =====================================================================

  /**
   * The boot-time part (after the mm core and sparse are booted):
   * `memory_dev_init()` (the memory subsystem and one online block per block
   * with present memory), `node_dev_init()` and `register_one_node()` for
   * every online node with its early block links, the node state masks from
   * the zones' present pages, the `memmap_on_memory` module parameter, and
   * `pfn_to_online_page()` for the page allocator. Call once: EEXIST the
   * second time; EBUSY if another hotplug subsystem registered its
   * `pfn_to_online_page()` with the same mm core.
   */
  memoryHotplugInit(): void {
    if (this.booted) throw new KernelError('EEXIST', 'memory hotplug is already initialized');
    // First, so that a refusal (EBUSY: another hotplug subsystem owns this
    // mm core's pfn_to_online_page()) leaves everything as it was.
    this.mm.registerPfnOnline((pfn: number): boolean => this.pfnToOnlinePage(pfn) !== undefined);
    const c = this.mm.config;
    // memory_dev_init()
    const present = new Set<number>();
    for (const nr of this.sparse.presentSectionNrs()) present.add(nr);
    this.memory.memoryDevInit(present);
    // node_dev_init()
    this.nodes.nodeDevInit();
    for (const nid of this.nodes.nodesInState('N_POSSIBLE')) {
      if (this.cpuNodes.has(nid)) this.nodes.nodeSetState(nid, 'N_CPU');
    }
    for (const pgdat of this.mm.onlinePgdats()) {
      const nid = pgdat.nodeId;
      this.nodes.nodeSetOnline(nid);
      let normal = 0;
      let any = 0;
      for (const z of pgdat.nodeZones) {
        if (isDevZone(z)) continue;
        if (z.zoneIdx <= c.ZONE_NORMAL) normal += z.presentPages;
        any += z.presentPages;
      }
      if (normal > 0) this.nodes.nodeSetState(nid, 'N_NORMAL_MEMORY');
      if (any > 0) this.nodes.nodeSetState(nid, 'N_MEMORY');
      // register_one_node(): __register_one_node(), then the node's span
      // linked with link_mem_sections(MEMINIT_EARLY).
      this.nodes.registerOneNode(nid);
      this.linkMemSections(nid, pgdat.nodeStartPfn, pgdat.nodeStartPfn + pgdat.nodeSpannedPages, 'MEMINIT_EARLY');
    }
    if (this.arch.mhpMemmapOnMemory) {
      this.kernel.sysfs.createFile('/sys/module/memory_hotplug/parameters/memmap_on_memory', {
        name: 'memmap_on_memory',
        mode: 0o444,
        show: () => (this.memmapOnMemory ? 'Y\n' : 'N\n'),
      });
    }
    this.booted = true;
  }

  // =====================================================================
  // ranges and resources
  // =====================================================================

  /**
   * `mhp_get_pluggable_range(need_mapping)`: the physical range memory may
   * be hot-added in: `[0, 2^MAX_PHYSMEM_BITS - 1]`, cut to the
   * architecture's mappable range when the memory needs a linear mapping.
   */
  mhpGetPluggableRange(needMapping: boolean): Range {
    checkBool('mhp_get_pluggable_range', 'need_mapping', needMapping);
    const maxPhys = 2 ** this.mm.config.maxPhysmemBits - 1;
    if (!needMapping) return { start: 0, end: maxPhys };
    const r = this.arch.archGetMappableRange?.() ?? { start: 0, end: Number.MAX_SAFE_INTEGER };
    if (r.start > maxPhys) return { start: 0, end: 0 };
    return { start: r.start, end: Math.min(r.end, maxPhys) };
  }

  /**
   * `mhp_range_allowed(start, size, need_mapping)`: whether
   * `[start, start + size)` lies in the pluggable range; if not, logs
   * "Hotplug memory [...] exceeds maximum addressable range [...]".
   */
  mhpRangeAllowed(start: number, size: number, needMapping: boolean): boolean {
    checkBool('mhp_range_allowed', 'need_mapping', needMapping);
    checkPhysRange('mhp_range_allowed', start, size);
    if (this.tracer.enabled) return this.tracer.invoke('mhp_range_allowed', this, this.mhpRangeAllowedImpl, start, size, needMapping);
    return this.mhpRangeAllowedImpl(start, size, needMapping);
  }

  private mhpRangeAllowedImpl(start: number, size: number, needMapping: boolean): boolean {
    const r = this.mhpGetPluggableRange(needMapping);
    const end = start + size;
    if (start < end && start >= r.start && end - 1 <= r.end) return true;
    this.kernel.log.warn(
      `Hotplug memory [${hex(start)}-${hex(end)}] exceeds maximum addressable range [${hex(r.start)}-${hex(r.end)}]`,
    );
    return false;
  }

  /**
   * `check_hotplug_memory_range(start, size)`: -EINVAL (with the kernel's
   * error line) unless `size` is non-zero and both are multiples of the
   * memory block size. Static in mm/memory_hotplug.c: reached through
   * add_memory() and remove_memory().
   */
  private checkHotplugMemoryRange(start: number, size: number): void {
    checkPhysRange('check_hotplug_memory_range', start, size);
    const bs = this.blockSize;
    if (size === 0 || !isAligned(start, bs) || !isAligned(size, bs)) {
      const msg = `Block size [${hex(bs)}] unaligned hotplug range: start ${hex(start)}, size ${hex(size)}`;
      this.kernel.log.err(msg);
      throw new KernelError('EINVAL', msg);
    }
  }

  /**
   * `register_memory_resource(start, size, resource_name)`: a busy System
   * RAM resource for the range (driver-managed unless the name is "System
   * RAM"). -E2BIG outside the pluggable range; -EEXIST when it overlaps a
   * busy resource (or the allocation fails). Static in mm/memory_hotplug.c:
   * reached through add_memory() and add_memory_driver_managed().
   */
  private registerMemoryResource(start: number, size: number, resourceName: string): Resource {
    checkPhysRange('register_memory_resource', start, size);
    if (typeof resourceName !== 'string') throw new KernelError('EINVAL', `register_memory_resource: invalid resource name ${String(resourceName)}`);
    let flags = orBits(IORESOURCE_SYSTEM_RAM, IORESOURCE_BUSY);
    if (resourceName !== 'System RAM') flags = orBits(flags, IORESOURCE_SYSRAM_DRIVER_MANAGED);
    if (!this.mhpRangeAllowedImpl(start, size, true)) throw new KernelError('E2BIG', `memory [${hex(start)}-${hex(start + size)}] is outside the pluggable range`);
    const iomem = this.kernel.iomem;
    const res = iomem.requestRegion(iomem.root, start, size, resourceName, flags);
    if (res === undefined) {
      const msg = `Unable to reserve System RAM region: ${hex16(start)}->${hex16(start + size)}`;
      this.kernel.log.debug(msg);
      throw new KernelError('EEXIST', msg);
    }
    return res;
  }

  /** `release_memory_resource(res)`. */
  releaseMemoryResource(res: Resource | undefined): void {
    if (res === undefined) return;
    this.kernel.iomem.releaseResource(res);
  }

  // =====================================================================
  // max_pfn and the linear mapping (arch/x86/mm/init_64.c)
  // =====================================================================

  /**
   * `update_end_of_memory_vars(start, size)` (x86): raises `max_pfn` and
   * `max_low_pfn` to the end of the range if it lies above.
   */
  updateEndOfMemoryVars(start: number, size: number): void {
    checkPhysRange('update_end_of_memory_vars', start, size);
    const endPfn = Math.ceil((start + size) / 2 ** this.pageShift);
    if (endPfn > this.maxPfnVal) {
      this.maxPfnVal = endPfn;
      this.maxLowPfnVal = endPfn;
    }
  }

  /** `max_pfn`: one past the highest pfn of memory (x86: raised by `add_pages()`). */
  get maxPfn(): number {
    return this.maxPfnVal;
  }

  /** `max_low_pfn` (equal to max_pfn on 64-bit). */
  get maxLowPfn(): number {
    return this.maxLowPfnVal;
  }

  /**
   * Lowers `max_pfn` and `max_low_pfn` back to values read before a hot-add
   * that failed: the model's undo of {@link MemoryHotplug.updateEndOfMemoryVars}
   * (the kernel leaves them raised; the model's unwinds leave no trace).
   * Throws KernelError EINVAL, changing nothing, unless both are unsigned
   * integers no higher than the current values (raising is
   * update_end_of_memory_vars()'s job).
   */
  restoreEndOfMemoryVars(maxPfn: number, maxLowPfn: number): void {
    checkUnsigned('restore_end_of_memory_vars', 'max_pfn', maxPfn, this.maxPfnVal);
    checkUnsigned('restore_end_of_memory_vars', 'max_low_pfn', maxLowPfn, this.maxLowPfnVal);
    this.maxPfnVal = maxPfn;
    this.maxLowPfnVal = maxLowPfn;
  }

  /** The linear mappings made for hot-added ranges, by address. */
  linearMappings(): readonly LinearMapping[] {
    return [...this.linear].sort((a, b) => a.start - b.start);
  }

  private removeLinearMapping(start: number, size: number): void {
    const i = this.linear.findIndex((m) => m.start === start && m.size === size);
    if (i >= 0) this.linear.splice(i, 1);
  }

  // =====================================================================
  // arch_add_memory / __add_pages / __remove_pages
  // =====================================================================

  /**
   * `arch_add_memory(nid, start, size, params)`: maps the range in the
   * linear mapping with `params.pgprot` and adds its pages
   * (x86: `add_pages()`, which moves `max_pfn`; powerpc: `__add_pages()`).
   * Fails as `__add_pages()` does, having removed the mapping.
   */
  archAddMemory(nid: number, start: number, size: number, params: MhpParams): void {
    const startPfn = Math.floor(start / 2 ** this.pageShift);
    const nrPages = Math.floor(size / 2 ** this.pageShift);
    if (params.pgprot !== undefined) this.linear.push({ start, size, pgprot: params.pgprot });
    try {
      this.addPagesImpl(nid, startPfn, nrPages, params);
    } catch (e) {
      this.removeLinearMapping(start, size);
      throw e;
    }
  }

  /**
   * `arch_remove_memory(nid, start, size, altmap)`: `__remove_pages()` and
   * the removal of the linear mapping. `max_pfn` stays.
   */
  archRemoveMemory(nid: number, start: number, size: number, altmap: VmemAltmap | undefined): void {
    checkUnsigned('arch_remove_memory', 'nid', nid);
    checkPhysRange('arch_remove_memory', start, size);
    if (this.tracer.enabled) return this.tracer.invoke('arch_remove_memory', this, this.archRemoveMemoryImpl, nid, start, size, altmap);
    return this.archRemoveMemoryImpl(nid, start, size, altmap);
  }

  private archRemoveMemoryImpl(_nid: number, start: number, size: number, altmap: VmemAltmap | undefined): void {
    const startPfn = Math.floor(start / 2 ** this.pageShift);
    const nrPages = Math.floor(size / 2 ** this.pageShift);
    this.removePagesImpl(startPfn, nrPages, altmap);
    this.removeLinearMapping(start, size);
  }

  /**
   * `add_pages(nid, start_pfn, nr_pages, params)`: `__add_pages()`, then —
   * where the architecture has its own `add_pages()` (x86_64) — moves
   * `max_pfn`. Under the 2015 configuration, device memory
   * (`params.forDevice`) does not move it (the 2015 ZONE_DEVICE patches).
   */
  addPages(nid: number, startPfn: number, nrPages: number, params: MhpParams): void {
    checkParams('add_pages', params);
    checkUnsigned('add_pages', 'nid', nid);
    checkPfnRange('add_pages', startPfn, nrPages);
    if (this.tracer.enabled) return this.tracer.invoke('add_pages', this, this.addPagesImpl, nid, startPfn, nrPages, params);
    return this.addPagesImpl(nid, startPfn, nrPages, params);
  }

  private addPagesImpl(nid: number, startPfn: number, nrPages: number, params: MhpParams): void {
    this.__addPages(nid, startPfn, nrPages, params);
    if (!this.arch.addPagesUpdatesMaxPfn) return;
    if (this.series2015 && params.forDevice === true) return;
    this.updateEndOfMemoryVars(startPfn * 2 ** this.pageShift, nrPages * 2 ** this.pageShift);
  }

  /**
   * `__add_pages(nid, pfn, nr_pages, params)`: adds the range section by
   * section (`sparse_add_section()`), with the memmap from `params.altmap`
   * when given. -EINVAL for a zero pgprot, an altmap that does not start at
   * `pfn` or whose offset exceeds the range ("memory add fail, invalid
   * altmap"), or a range not in whole subsections ("Misaligned
   * __add_pages ..."); -EEXIST / -ENOMEM from `sparse_add_section()`, after
   * removing the sections added so far (the model's unwind).
   */
  __addPages(nid: number, pfn: number, nrPages: number, params: MhpParams): void {
    if (params.pgprot === undefined) {
      this.kernel.log.warn('WARNING: __add_pages: !params->pgprot.pgprot');
      throw new KernelError('EINVAL', '__add_pages: zero pgprot');
    }
    const ps = 2 ** this.pageShift;
    if (!this.mhpRangeAllowedImpl(pfn * ps, nrPages * ps, false)) {
      throw new KernelError('EINVAL', 'VM_BUG_ON(!mhp_range_allowed(PFN_PHYS(pfn), nr_pages * PAGE_SIZE, false))');
    }
    const altmap = params.altmap;
    const savedAlloc = altmap?.alloc ?? 0;
    if (altmap !== undefined) {
      try {
        this.sparse.checkAddPagesAltmap(pfn, nrPages, altmap);
      } catch (e) {
        this.kernel.log.warn('memory add fail, invalid altmap');
        throw e;
      }
    }
    try {
      this.sparse.checkPfnSpan(pfn, nrPages, 'add');
    } catch (e) {
      this.kernel.log.warn(`WARNING: ${(e as KernelError).message}`);
      throw e;
    }
    if (altmap !== undefined) altmap.alloc = 0;
    const end = pfn + nrPages;
    // Everything below `done` is added; a failure removes it again, last first.
    let done = pfn;
    try {
      for (let p = pfn; p < end; ) {
        const cur = Math.min(end - p, this.sparse.sectionAlignUp(p + 1) - p);
        // Whole uniform sections from here to the last whole one: in one step where sparse can.
        const whole = this.sparse.sectionAlignDown(end) - p;
        if (cur === this.pagesPerSection && whole > cur && this.sparse.sparseAddSections(nid, p, whole, altmap)) {
          p += whole;
          done = p;
          continue;
        }
        this.sparse.sparseAddSection(nid, p, cur, altmap);
        p += cur;
        done = p;
      }
    } catch (e) {
      this.unwindAddedPages(pfn, done, altmap);
      if (altmap !== undefined) altmap.alloc = savedAlloc;
      throw e;
    }
  }

  /** The error path of `__add_pages()`: removes the sections of `[pfn, done)` again, the last first. */
  private unwindAddedPages(pfn: number, done: number, altmap: VmemAltmap | undefined): void {
    for (let p = done; p > pfn; ) {
      const from = Math.max(pfn, this.sparse.sectionAlignDown(p - 1));
      // Whole sections down to the first whole one: in one step where sparse can.
      const lo = this.sparse.sectionAlignUp(pfn);
      if (p - from === this.pagesPerSection && from - lo > 0 && this.sparse.sparseRemoveSections(lo, p - lo, altmap)) {
        p = lo;
        continue;
      }
      this.sparse.sparseRemoveSection(from, p - from, 0, altmap);
      p = from;
    }
  }

  /**
   * `__remove_pages(pfn, nr_pages, altmap)`: removes the range section by
   * section (`sparse_remove_section()`), freeing memmap that came from
   * `altmap` through it. -EINVAL for a range not in whole subsections (the
   * kernel warns and returns).
   */
  removePages(startPfn: number, nrPages: number, altmap: VmemAltmap | undefined): void {
    checkPfnRange('__remove_pages', startPfn, nrPages);
    if (this.tracer.enabled) return this.tracer.invoke('__remove_pages', this, this.removePagesImpl, startPfn, nrPages, altmap);
    return this.removePagesImpl(startPfn, nrPages, altmap);
  }

  private removePagesImpl(pfn: number, nrPages: number, altmap: VmemAltmap | undefined): void {
    let mapOffset = altmap !== undefined ? vmemAltmapOffset(altmap) : 0;
    try {
      this.sparse.checkPfnSpan(pfn, nrPages, 'remove');
    } catch (e) {
      this.kernel.log.warn(`WARNING: ${(e as KernelError).message}`);
      throw e;
    }
    const end = pfn + nrPages;
    for (let p = pfn; p < end; ) {
      const cur = Math.min(end - p, this.sparse.sectionAlignUp(p + 1) - p);
      // Whole uniform sections from here on: in one step where sparse can (after the first, as the map offset only concerns it).
      const whole = this.sparse.sectionAlignDown(end) - p;
      if (mapOffset === 0 && cur === this.pagesPerSection && whole > cur && this.sparse.sparseRemoveSections(p, whole, altmap)) {
        p += whole;
        continue;
      }
      const ms = this.sparse.pfnToSection(p);
      if (validSection(ms)) this.sparse.sparseRemoveSection(p, cur, mapOffset, altmap);
      else this.kernel.log.warn('WARNING: __remove_section: !valid_section(ms)');
      mapOffset = 0;
      p += cur;
    }
  }

  // =====================================================================
  // zones
  // =====================================================================

  /**
   * `pfn_to_online_page(pfn)`: the pfn if its struct page is initialized and
   * online — its section is online and the pfn's subsection present, and it
   * is not an offline ZONE_DEVICE page in a section shared with System RAM
   * (the kernel asks `get_dev_pagemap()`; the model looks at the page's
   * `pgmap` and zone). Otherwise `undefined`. Note that onlining works on
   * whole sections: after a memmap_on_memory block is onlined its vmemmap
   * pages are in an online section, reserved, and visible here; while the
   * block is offline they are not.
   */
  pfnToOnlinePage(pfn: number): number | undefined {
    checkUnsigned('pfn_to_online_page', 'pfn', pfn);
    const nr = this.sparse.pfnToSectionNr(pfn);
    if (nr >= this.sparse.layout.NR_MEM_SECTIONS || pfn < 0) return undefined;
    const ms = this.sparse.nrToSection(nr);
    if (ms === undefined || !onlineSection(ms)) return undefined;
    if (!this.sparse.pfnSectionValid(ms, pfn)) return undefined;
    if (!onlineDeviceSection(ms)) return pfn;
    const mm = this.mm.memmap;
    if (mm.pagePgmap(pfn) !== undefined) return undefined;
    const dev = this.mm.config.ZONE_DEVICE;
    if (dev !== undefined && !mm.pagePoisoned(pfn) && mm.pageZonenum(pfn) === dev) return undefined;
    return pfn;
  }

  private pfnToNid(pfn: number): number {
    return this.mm.memmap.pageToNid(pfn);
  }

  /** `find_smallest_section_pfn()`: the first online pfn of `zone` (on `nid`) in `[start, end)`, by subsection, or 0. */
  private findSmallestSectionPfn(nid: number, zone: Zone, startPfn: number, endPfn: number): number {
    const step = this.sparse.layout.PAGES_PER_SUBSECTION;
    for (let pfn = startPfn; pfn < endPfn; pfn += step) {
      if (this.pfnToOnlinePage(pfn) === undefined) continue;
      if (this.pfnToNid(pfn) !== nid) continue;
      if (this.mm.pageZone(pfn) !== zone) continue;
      return pfn;
    }
    return 0;
  }

  /** `find_biggest_section_pfn()`: the last such pfn in `[start, end)`, or 0. */
  private findBiggestSectionPfn(nid: number, zone: Zone, startPfn: number, endPfn: number): number {
    const step = this.sparse.layout.PAGES_PER_SUBSECTION;
    for (let pfn = endPfn - 1; pfn >= startPfn; pfn -= step) {
      if (this.pfnToOnlinePage(pfn) === undefined) continue;
      if (this.pfnToNid(pfn) !== nid) continue;
      if (this.mm.pageZone(pfn) !== zone) continue;
      return pfn;
    }
    return 0;
  }

  /** `shrink_zone_span()`: shrinks the zone's span after `[start, end)` left it. */
  private shrinkZoneSpan(zone: Zone, startPfn: number, endPfn: number): void {
    const nid = zone.node;
    if (zone.zoneStartPfn === startPfn) {
      const pfn = this.findSmallestSectionPfn(nid, zone, endPfn, zoneEndPfn(zone));
      if (pfn !== 0) setZoneSpan(zone, pfn, zoneEndPfn(zone) - pfn);
      else setZoneSpan(zone, 0, 0);
    } else if (zoneEndPfn(zone) === endPfn) {
      const pfn = this.findBiggestSectionPfn(nid, zone, zone.zoneStartPfn, startPfn);
      if (pfn !== 0) setZoneSpan(zone, zone.zoneStartPfn, pfn - zone.zoneStartPfn + 1);
      else setZoneSpan(zone, 0, 0);
    }
  }

  /** `update_pgdat_span()`: the node spans its zones. */
  private updatePgdatSpan(pgdat: PglistData): void {
    let start = 0;
    let end = 0;
    for (const zone of pgdat.nodeZones) {
      if (zone.spannedPages === 0) continue;
      const zEnd = zoneEndPfn(zone);
      if (end === 0) {
        start = zone.zoneStartPfn;
        end = zEnd;
        continue;
      }
      if (zEnd > end) end = zEnd;
      if (zone.zoneStartPfn < start) start = zone.zoneStartPfn;
    }
    setPgdatSpan(pgdat, start, end - start);
  }

  /**
   * `init_currently_empty_zone()`: an empty zone starts at `startPfn`; the
   * node's `nr_zones` covers it.
   */
  private initCurrentlyEmptyZone(zone: Zone, startPfn: number): void {
    const pgdat = zone.zonePgdat;
    if (zone.zoneIdx + 1 > pgdat.nrZones) setPgdatNrZones(pgdat, zone.zoneIdx + 1);
    zone.zoneStartPfn = startPfn;
  }

  /**
   * `move_pfn_range_to_zone(zone, start_pfn, nr_pages, altmap, migratetype)`:
   * grows the zone's and node's spans to cover the range and initializes its
   * struct pages for the zone (reserved, pageblocks of `migratetype`). For
   * ZONE_DEVICE only the altmap's own memmap pages are initialized here
   * (none without an altmap: `memmap_init_zone_device()` does the rest),
   * and a section the range shares with other memory is tainted.
   */
  movePfnRangeToZone(zone: Zone, startPfn: number, nrPages: number, altmap: VmemAltmap | undefined, migratetype: number): void {
    const pgdat = zone.zonePgdat;
    if (zoneIsEmpty(zone)) this.initCurrentlyEmptyZone(zone, startPfn);
    resizeZoneRange(zone, startPfn, nrPages);
    resizePgdatRange(pgdat, startPfn, nrPages);
    if (isDevZone(zone)) {
      if (!isAligned(startPfn, this.pagesPerSection)) this.sparse.sectionTaintZoneDevice(startPfn);
      if (!isAligned(startPfn + nrPages, this.pagesPerSection)) this.sparse.sectionTaintZoneDevice(startPfn + nrPages);
      // memmap_init_range() for ZONE_DEVICE: only the altmap's memmap pages.
      if (altmap === undefined) return;
      let s = startPfn;
      if (s === altmap.basePfn) s += altmap.reserve;
      const e = altmap.basePfn + vmemAltmapOffset(altmap);
      if (e > s) this.mm.memmapInitRange(s, e - s, pgdat.nodeId, zone.zoneIdx, 'hotplug', migratetype);
      return;
    }
    this.mm.memmapInitRange(startPfn, nrPages, pgdat.nodeId, zone.zoneIdx, 'hotplug', migratetype);
  }

  /**
   * `remove_pfn_range_from_zone(zone, start_pfn, nr_pages)`: poisons the
   * struct pages of the range (uninitialized again) and, except for
   * ZONE_DEVICE, shrinks the zone's and node's spans to the online memory
   * that remains.
   */
  removePfnRangeFromZone(zone: Zone, startPfn: number, nrPages: number): void {
    const end = startPfn + nrPages;
    // page_init_poison() over the range; where every section has its memmap, in one call.
    if (nrPages > 0 && this.sparse.validSectionsCover(startPfn, end)) this.mm.memmap.initRange(startPfn, nrPages, POISONED_STRUCT_PAGE);
    else {
      for (let pfn = startPfn; pfn < end; ) {
        const cur = Math.min(end - pfn, this.sparse.sectionAlignUp(pfn + 1) - pfn);
        if (this.mm.memmap.hasMemmap(pfn)) this.mm.memmap.initRange(pfn, cur, POISONED_STRUCT_PAGE);
        pfn += cur;
      }
    }
    if (isDevZone(zone)) return;
    this.shrinkZoneSpan(zone, startPfn, end);
    this.updatePgdatSpan(zone.zonePgdat);
  }

  private nodeData(nid: number): PglistData {
    const p = this.mm.nodeData(nid);
    if (p === undefined) throw new KernelError('EINVAL', `node ${nid} has no pglist_data`);
    return p;
  }

  /**
   * `default_kernel_zone_for_pfn(nid, start_pfn, nr_pages)`: the first kernel
   * zone (up to ZONE_NORMAL) of the node whose span meets the range, else
   * ZONE_NORMAL.
   */
  defaultKernelZoneForPfn(nid: number, startPfn: number, nrPages: number): Zone {
    checkUnsigned('default_kernel_zone_for_pfn', 'nid', nid);
    checkPfnRange('default_kernel_zone_for_pfn', startPfn, nrPages);
    const pgdat = this.nodeData(nid);
    const normal = this.mm.config.ZONE_NORMAL;
    for (let zid = 0; zid <= normal; zid++) {
      const zone = pgdat.nodeZones[zid]!;
      if (zoneIntersects(zone, startPfn, nrPages)) return zone;
    }
    return pgdat.nodeZones[normal]!;
  }

  /**
   * `default_zone_for_pfn(nid, start_pfn, nr_pages)` (v5.13's
   * contiguous-zones rule): the zone the range already belongs to when
   * exactly one of the default kernel zone and ZONE_MOVABLE spans it;
   * otherwise ZONE_MOVABLE with `movable_node`, else the kernel zone.
   */
  defaultZoneForPfn(nid: number, startPfn: number, nrPages: number): Zone {
    checkUnsigned('default_zone_for_pfn', 'nid', nid);
    checkPfnRange('default_zone_for_pfn', startPfn, nrPages);
    const kernelZone = this.defaultKernelZoneForPfn(nid, startPfn, nrPages);
    const movableZone = this.nodeData(nid).nodeZones[this.mm.config.ZONE_MOVABLE]!;
    const inKernel = zoneIntersects(kernelZone, startPfn, nrPages);
    const inMovable = zoneIntersects(movableZone, startPfn, nrPages);
    if (inKernel !== inMovable) return inKernel ? kernelZone : movableZone;
    return this.movableNodeEnabled ? movableZone : kernelZone;
  }

  /**
   * `zone_for_pfn_range(online_type, nid, start_pfn, nr_pages)`: the zone a
   * block is onlined to: the default kernel zone for `MMOP_ONLINE_KERNEL`,
   * ZONE_MOVABLE for `MMOP_ONLINE_MOVABLE`, else the default zone.
   */
  zoneForPfnRange(onlineType: OnlineType, nid: number, startPfn: number, nrPages: number): Zone {
    checkUnsigned('zone_for_pfn_range', 'online_type', onlineType, MMOP_ONLINE_MOVABLE);
    checkUnsigned('zone_for_pfn_range', 'nid', nid);
    checkPfnRange('zone_for_pfn_range', startPfn, nrPages);
    if (this.tracer.enabled) return this.tracer.invoke('zone_for_pfn_range', this, this.zoneForPfnRangeImpl, onlineType, nid, startPfn, nrPages);
    return this.zoneForPfnRangeImpl(onlineType, nid, startPfn, nrPages);
  }

  private zoneForPfnRangeImpl(onlineType: OnlineType, nid: number, startPfn: number, nrPages: number): Zone {
    if (onlineType === MMOP_ONLINE_KERNEL) return this.defaultKernelZoneForPfn(nid, startPfn, nrPages);
    if (onlineType === MMOP_ONLINE_MOVABLE) return this.nodeData(nid).nodeZones[this.mm.config.ZONE_MOVABLE]!;
    return this.defaultZoneForPfn(nid, startPfn, nrPages);
  }

  /**
   * `adjust_present_page_count(zone, nr_pages)`: adds `nrPages` (may be
   * negative) to the zone's and its node's present pages.
   */
  adjustPresentPageCount(zone: Zone, nrPages: number): void {
    checkZone('adjust_present_page_count', zone);
    if (typeof nrPages !== 'number' || !Number.isSafeInteger(nrPages)) throw new KernelError('EINVAL', `adjust_present_page_count: invalid nr_pages ${String(nrPages)}`);
    zone.presentPages += nrPages;
    zone.zonePgdat.nodePresentPages += nrPages;
  }

  /**
   * `test_pages_in_a_zone(start_pfn, end_pfn)`: the zone every present page
   * of the range belongs to, or `undefined` when they span several zones.
   */
  testPagesInAZone(startPfn: number, endPfn: number): Zone | undefined {
    checkUnsigned('test_pages_in_a_zone', 'start_pfn', startPfn);
    checkUnsigned('test_pages_in_a_zone', 'end_pfn', endPfn);
    let zone: Zone | undefined;
    const step = this.mm.config.MAX_ORDER_NR_PAGES;
    for (let pfn = startPfn, secEnd = this.sparse.sectionAlignUp(startPfn + 1); pfn < endPfn; pfn = secEnd, secEnd += this.pagesPerSection) {
      if (!this.sparse.presentSectionNr(this.sparse.pfnToSectionNr(pfn))) continue;
      for (; pfn < secEnd && pfn < endPfn; pfn += step) {
        if (zone !== undefined && !zoneSpansPfn(zone, pfn)) return undefined;
        const z = this.mm.pageZone(pfn);
        if (zone !== undefined && z !== zone) return undefined;
        zone = z;
      }
    }
    return zone;
  }

  // =====================================================================
  // memmap_on_memory
  // =====================================================================

  /**
   * `mhp_supports_memmap_on_memory(size)` (v5.13): the feature is enabled
   * (boot parameter and architecture), the range is exactly one memory
   * block, its memmap fills whole PMDs, and the rest whole pageblocks.
   */
  mhpSupportsMemmapOnMemory(size: number): boolean {
    checkUnsigned('mhp_supports_memmap_on_memory', 'size', size);
    const ps = 2 ** this.pageShift;
    const vmemmapSize = (size / ps) * 64;
    const remaining = size - vmemmapSize;
    return (
      this.memmapOnMemory &&
      size === this.blockSize &&
      isAligned(vmemmapSize, this.sparse.layout.PMD_SIZE) &&
      isAligned(remaining, this.mm.config.pageblockNrPages * ps)
    );
  }

  /**
   * `mhp_init_memmap_on_memory(pfn, nr_pages, zone)`: moves the vmemmap
   * pages of a block into `zone` (reserved, unmovable pageblocks) and marks
   * online the sections they fill completely.
   */
  mhpInitMemmapOnMemory(pfn: number, nrPages: number, zone: Zone): void {
    this.movePfnRangeToZone(zone, pfn, nrPages, undefined, MIGRATE_UNMOVABLE);
    if (nrPages >= this.pagesPerSection) this.sparse.onlineMemSections(pfn, alignDown(pfn + nrPages, this.pagesPerSection));
  }

  /**
   * `mhp_deinit_memmap_on_memory(pfn, nr_pages)`: offlines the sections the
   * vmemmap pages fill and takes them out of their zone again.
   */
  mhpDeinitMemmapOnMemory(pfn: number, nrPages: number): void {
    if (nrPages >= this.pagesPerSection) this.sparse.offlineMemSections(pfn, alignDown(pfn + nrPages, this.pagesPerSection));
    this.removePfnRangeFromZone(this.mm.pageZone(pfn), pfn, nrPages);
  }

  // =====================================================================
  // online_pages / offline_pages
  // =====================================================================

  private notify(val: number, arg: MemoryNotify): number {
    return this.memory.memoryNotify(val, arg);
  }

  /** `node_states_check_changes_online()`. */
  private nodeStatesCheckChangesOnline(zone: Zone, arg: MemoryNotify): void {
    const nid = zone.node;
    arg.statusChangeNid = NUMA_NO_NODE;
    arg.statusChangeNidNormal = NUMA_NO_NODE;
    arg.statusChangeNidHigh = NUMA_NO_NODE;
    if (!this.nodes.nodeState(nid, 'N_MEMORY')) arg.statusChangeNid = nid;
    if (zone.zoneIdx <= this.mm.config.ZONE_NORMAL && !this.nodes.nodeState(nid, 'N_NORMAL_MEMORY')) arg.statusChangeNidNormal = nid;
  }

  /** `node_states_set_node()`. */
  private nodeStatesSetNode(nid: number, arg: MemoryNotify): void {
    if (arg.statusChangeNidNormal >= 0) this.nodes.nodeSetState(nid, 'N_NORMAL_MEMORY');
    if (arg.statusChangeNid >= 0) this.nodes.nodeSetState(nid, 'N_MEMORY');
  }

  /** `node_states_check_changes_offline()`. */
  private nodeStatesCheckChangesOffline(nrPages: number, zone: Zone, arg: MemoryNotify): void {
    const pgdat = zone.zonePgdat;
    const c = this.mm.config;
    arg.statusChangeNid = NUMA_NO_NODE;
    arg.statusChangeNidNormal = NUMA_NO_NODE;
    arg.statusChangeNidHigh = NUMA_NO_NODE;
    let present = 0;
    for (let zt = 0; zt <= c.ZONE_NORMAL; zt++) present += pgdat.nodeZones[zt]!.presentPages;
    if (zone.zoneIdx <= c.ZONE_NORMAL && nrPages >= present) arg.statusChangeNidNormal = zone.node;
    present += pgdat.nodeZones[c.ZONE_MOVABLE]!.presentPages;
    if (nrPages >= present) arg.statusChangeNid = zone.node;
  }

  /** `node_states_clear_node()`. */
  private nodeStatesClearNode(nid: number, arg: MemoryNotify): void {
    if (arg.statusChangeNidNormal >= 0) this.nodes.nodeClearState(nid, 'N_NORMAL_MEMORY');
    if (arg.statusChangeNid >= 0) this.nodes.nodeClearState(nid, 'N_MEMORY');
  }

  /**
   * `online_pages(pfn, nr_pages, zone)`: moves the range into `zone`,
   * announces `MEM_GOING_ONLINE` (a veto unwinds with `MEM_CANCEL_ONLINE`
   * and fails with the listener's errno), frees the pages into the buddy
   * allocator in MAX_ORDER-aligned blocks, marks the sections online, and
   * accounts present and managed pages; then `MEM_ONLINE`. -EINVAL for an
   * empty range, a start not pageblock-aligned or an end not
   * section-aligned.
   */
  onlinePages(pfn: number, nrPages: number, zone: Zone): void {
    checkUnsigned('online_pages', 'pfn', pfn);
    checkUnsigned('online_pages', 'nr_pages', nrPages);
    checkZone('online_pages', zone);
    const c = this.mm.config;
    const nid = zone.node;
    if (nrPages === 0 || !isAligned(pfn, c.pageblockNrPages) || !isAligned(pfn + nrPages, this.pagesPerSection)) {
      this.kernel.log.warn('WARNING: online_pages: misaligned range');
      throw new KernelError('EINVAL', `online_pages: misaligned range ${hex(pfn)}+${hex(nrPages)}`);
    }
    // The caller (memory_block_online()) only onlines an offline block of
    // present sections; anything else is refused before a page is touched.
    for (let nr = this.sparse.pfnToSectionNr(pfn); nr <= this.sparse.pfnToSectionNr(pfn + nrPages - 1); nr++) {
      if (!this.sparse.presentSectionNr(nr) || this.sparse.onlineSectionNr(nr)) {
        throw new KernelError('EINVAL', `online_pages: section ${nr} of ${hex(pfn)}+${hex(nrPages)} is ${this.sparse.presentSectionNr(nr) ? 'already online' : 'not present'}`);
      }
    }
    this.movePfnRangeToZone(zone, pfn, nrPages, undefined, c.MIGRATE_ISOLATE);
    const arg: MemoryNotify = { startPfn: pfn, nrPages, statusChangeNid: -1, statusChangeNidNormal: -1, statusChangeNidHigh: -1 };
    this.nodeStatesCheckChangesOnline(zone, arg);
    const ret = notifierToErrno(this.notify(MEM_GOING_ONLINE, arg));
    if (ret !== 0) {
      const ps = 2 ** this.pageShift;
      this.kernel.log.debug(`online_pages [mem ${hex10(pfn * ps)}-${hex10((pfn + nrPages) * ps - 1)}] failed`);
      this.notify(MEM_CANCEL_ONLINE, arg);
      this.removePfnRangeFromZone(zone, pfn, nrPages);
      throw errnoOf(ret);
    }
    zone.nrIsolatePageblock += nrPages / c.pageblockNrPages;
    let needZonelistsRebuild = false;
    if (!populatedZone(zone)) {
      needZonelistsRebuild = true;
      this.mm.zonePcpUpdate(zone); // setup_zone_pageset()
    }
    // online_pages_range()
    this.mm.genericOnlinePages(pfn, nrPages);
    this.sparse.onlineMemSections(pfn, pfn + nrPages);
    this.adjustPresentPageCount(zone, nrPages);
    this.nodeStatesSetNode(nid, arg);
    if (needZonelistsRebuild) this.mm.buildAllZonelists();
    this.mm.zonePcpUpdate(zone);
    this.mm.undoIsolatePageRange(pfn, (pfn + nrPages), MIGRATE_MOVABLE);
    this.mm.initPerZoneWmarkMin();
    this.notify(MEM_ONLINE, arg);
  }

  /**
   * `scan_movable_pages(start, end)`: the first pfn of an LRU page in the
   * range; `'ENOENT'` when there is none; `'EBUSY'` for a referenced
   * PageOffline page (definitely unmovable).
   */
  private scanMovablePages(start: number, end: number): number | 'ENOENT' | 'EBUSY' {
    // The kernel tests page by page; pfn_valid() is the same for every pfn
    // of a subsection, and the memmap store finds the first page of a valid
    // subsection that is on the LRU or a referenced PageOffline page without
    // reading the others one by one.
    const mm = this.mm.memmap;
    const step = this.sparse.layout.PAGES_PER_SUBSECTION;
    const lru = 2 ** PG_lru;
    const stops = (lo: number, mc: number, ref: number): boolean => Math.floor(lo / lru) % 2 === 1 || (pageTypeIs(mc, PG_offline) && ref > 0);
    for (let pfn = start; pfn < end; ) {
      const next = Math.min(end, pfn - (pfn % step) + step);
      if (this.sparse.pfnValid(pfn)) {
        const hit = mm.findFirst(pfn, next, stops);
        if (hit >= 0) return mm.testPageFlag(hit, PG_lru) ? hit : 'EBUSY';
      }
      pfn = next;
    }
    return 'ENOENT';
  }

  /**
   * `do_migrate_range(start_pfn, end_pfn)` (mm/memory_hotplug.c): every LRU
   * page of the range — a process's anonymous page or a page of a shmem
   * file — is isolated (`isolate_lru_page()`) and handed to mm's
   * `migrate_pages()` with `alloc_migration_target()` (other nodes with
   * memory first, nearest first, the same node if it is the only one;
   * `MR_MEMORY_HOTPLUG`), which unmaps it through the rmap, copies it and
   * points every PTE (and the page cache) at the new page. A page that
   * cannot be isolated is reported ("failed to isolate pfn"), one that does
   * not move ("migrating pfn ... failed") goes back on its LRU: a pinned
   * page has references beyond its mappings. Without the machine's mm
   * (`userMm`), no page can be isolated.
   */
  private doMigrateRange(startPfn: number, endPfn: number): void {
    const mm = this.mm.memmap;
    const from: number[] = [];
    const userMm = this.userMm;
    for (let pfn = startPfn; pfn < endPfn; pfn++) {
      if (!this.sparse.pfnValid(pfn)) continue;
      if (mm.pageCount(pfn) === 0) continue; // !get_page_unless_zero()
      if (userMm && mm.testPageFlag(pfn, PG_lru)) {
        isolateLruPage(userMm, pfn);
        from.push(pfn);
      } else {
        this.kernel.log.warn(`failed to isolate pfn ${pfn.toString(16)}`);
        this.mm.dumpPage(pfn, 'isolation failed');
      }
    }
    if (!userMm || from.length === 0) return;
    const nid = this.pfnToNid(from[0]!);
    let targets = this.nodes.nodesInState('N_MEMORY').filter((n) => n !== nid);
    if (targets.length === 0) targets = [nid];
    targets.sort((a, b) => this.mm.nodeDistance(nid, a) - this.mm.nodeDistance(nid, b) || a - b);
    // migrate_pages(&source, alloc_migration_target, NULL, &mtc, MIGRATE_SYNC, MR_MEMORY_HOTPLUG)
    const gfp = MIGRATION_TARGET_GFP;
    const alloc = (): number | undefined => {
      for (const n of targets) {
        const p = this.mm.allocPagesNode(n, gfp, 0);
        if (p !== undefined) return p;
      }
      return undefined;
    };
    let ret: number;
    try {
      ret = migratePages(userMm, from, alloc, undefined, MIGRATE_SYNC, MR_MEMORY_HOTPLUG).nrFailed;
    } catch {
      ret = -ERRNO.ENOMEM; // what did not move stays on the list
    }
    for (const pfn of from) {
      this.kernel.log.warn(`migrating pfn ${pfn.toString(16)} failed ret:${ret} `);
      this.mm.dumpPage(pfn, 'migration failure');
      putbackLruPage(userMm, pfn); // putback_movable_pages()
    }
  }


  /**
   * `offline_pages(start_pfn, nr_pages)`: takes an online range out of the
   * page allocator. Fails, leaving the range online and usable:
   * - -EINVAL for a misaligned range, memory holes, or several zones;
   * - -EBUSY when a pageblock holds an unmovable page ("failure to isolate
   *   range") or a referenced PageOffline page is found ("unmovable page");
   * - the errno a `MEM_GOING_OFFLINE` listener returns ("notifier failure");
   * - -EINTR ("signal backoff") when pages stay in use (pinned) after
   *   `offlineSignalPasses` passes of the migration loop.
   * On success, `MEM_OFFLINE` is announced and the zone and node shrink.
   */
  offlinePages(startPfn: number, nrPages: number): void {
    checkUnsigned('offline_pages', 'start_pfn', startPfn);
    checkUnsigned('offline_pages', 'nr_pages', nrPages);
    const c = this.mm.config;
    const endPfn = startPfn + nrPages;
    const ps = 2 ** this.pageShift;
    if (nrPages === 0 || !isAligned(startPfn, c.pageblockNrPages) || !isAligned(endPfn, this.pagesPerSection)) {
      this.kernel.log.warn('WARNING: offline_pages: misaligned range');
      throw new KernelError('EINVAL', `offline_pages: misaligned range ${hex(startPfn)}+${hex(nrPages)}`);
    }
    const failed = (reason: string, e: KernelError): KernelError => {
      this.kernel.log.debug(`memory offlining [mem ${hex10(startPfn * ps)}-${hex10(endPfn * ps - 1)}] failed due to ${reason}`);
      return e;
    };
    let systemRamPages = 0;
    this.kernel.iomem.walkSystemRamRange(startPfn, nrPages, (_p, n) => {
      systemRamPages += n;
      return 0;
    });
    if (systemRamPages !== nrPages) throw failed('memory holes', new KernelError('EINVAL', 'offline_pages: memory holes'));
    const zone = this.testPagesInAZone(startPfn, endPfn);
    if (zone === undefined) throw failed('multizone range', new KernelError('EINVAL', 'offline_pages: multizone range'));
    const node = zone.node;
    try {
      this.mm.startIsolatePageRange(startPfn, endPfn, MIGRATE_MOVABLE, MEMORY_OFFLINE + REPORT_FAILURE);
    } catch (e) {
      throw failed('failure to isolate range', e as KernelError);
    }
    const arg: MemoryNotify = { startPfn, nrPages, statusChangeNid: -1, statusChangeNidNormal: -1, statusChangeNidHigh: -1 };
    this.nodeStatesCheckChangesOffline(nrPages, zone, arg);
    const undo = (reason: string, e: KernelError): KernelError => {
      this.mm.undoIsolatePageRange(startPfn, endPfn, MIGRATE_MOVABLE);
      this.notify(MEM_CANCEL_OFFLINE, arg);
      return failed(reason, e);
    };
    const ret = notifierToErrno(this.notify(MEM_GOING_OFFLINE, arg));
    if (ret !== 0) throw undo('notifier failure', errnoOf(ret));

    let passes = 0;
    for (;;) {
      let pfn = startPfn;
      for (;;) {
        if (passes >= this.offlineSignalPasses) {
          throw undo('signal backoff', new KernelError('EINTR', `offline_pages: pages still in use after ${passes} passes`));
        }
        const found = this.scanMovablePages(pfn, endPfn);
        if (typeof found !== 'number') {
          if (found === 'EBUSY') throw undo('unmovable page', new KernelError('EBUSY', 'offline_pages: unmovable page'));
          break;
        }
        passes++;
        pfn = found;
        this.doMigrateRange(pfn, endPfn);
      }
      try {
        this.mm.testPagesIsolated(startPfn, endPfn, MEMORY_OFFLINE);
        break;
      } catch {
        passes++;
      }
    }
    // __offline_isolated_pages(): mark the sections offline, take the free pages out of the buddy.
    this.sparse.offlineMemSections(startPfn, endPfn);
    this.mm.offlineIsolatedPages(startPfn, endPfn);
    this.kernel.log.debug(`Offlined Pages ${nrPages}`);
    zone.nrIsolatePageblock -= nrPages / c.pageblockNrPages;
    this.mm.adjustManagedPageCount(startPfn, -nrPages);
    this.adjustPresentPageCount(zone, -nrPages);
    this.mm.initPerZoneWmarkMin();
    if (!populatedZone(zone)) {
      this.mm.zonePcpReset(zone);
      this.mm.buildAllZonelists();
    } else {
      this.mm.zonePcpUpdate(zone);
    }
    this.nodeStatesClearNode(node, arg);
    this.notify(MEM_OFFLINE, arg);
    this.removePfnRangeFromZone(zone, startPfn, nrPages);
  }

  // =====================================================================
  // memory blocks (drivers/base/memory.c)
  // =====================================================================

  /**
   * `memory_block_online(mem)`: chooses the zone by the block's online type,
   * initializes its vmemmap pages (memmap_on_memory), onlines the rest, and
   * only then accounts the vmemmap pages as present. A failure undoes the
   * vmemmap initialization.
   */
  memoryBlockOnline(mem: MemoryBlock): void {
    const startPfn = this.memory.blockStartPfn(mem);
    const nrPages = this.memory.pagesPerBlock;
    const nrVmemmap = mem.nrVmemmapPages;
    const nid = mem.nid === NUMA_NO_NODE ? 0 : mem.nid;
    const zone = this.zoneForPfnRange(mem.onlineType, nid, startPfn, nrPages);
    if (nrVmemmap > 0) this.mhpInitMemmapOnMemory(startPfn, nrVmemmap, zone);
    try {
      this.onlinePages(startPfn + nrVmemmap, nrPages - nrVmemmap, zone);
    } catch (e) {
      if (nrVmemmap > 0) this.mhpDeinitMemmapOnMemory(startPfn, nrVmemmap);
      throw e;
    }
    if (nrVmemmap > 0) this.adjustPresentPageCount(zone, nrVmemmap);
  }

  /**
   * `memory_block_offline(mem)`: un-accounts the vmemmap pages, offlines the
   * rest (accounting them back if that fails), then takes the vmemmap pages
   * out of the zone.
   */
  memoryBlockOffline(mem: MemoryBlock): void {
    const startPfn = this.memory.blockStartPfn(mem);
    const nrPages = this.memory.pagesPerBlock;
    const nrVmemmap = mem.nrVmemmapPages;
    const zone = this.mm.pageZone(startPfn);
    if (nrVmemmap > 0) this.adjustPresentPageCount(zone, -nrVmemmap);
    try {
      this.offlinePages(startPfn + nrVmemmap, nrPages - nrVmemmap);
    } catch (e) {
      if (nrVmemmap > 0) this.adjustPresentPageCount(zone, nrVmemmap);
      throw e;
    }
    if (nrVmemmap > 0) this.mhpDeinitMemmapOnMemory(startPfn, nrVmemmap);
  }

  /**
   * `valid_zones_show()`: for an online block, its zone (`none` if it spans
   * several); for an offline one, the default zone first, then the other
   * zones `online_kernel` and `online_movable` would choose.
   */
  validZonesShow(mem: MemoryBlock): string {
    checkBlock('valid_zones_show', mem);
    const startPfn = this.memory.blockStartPfn(mem);
    const nrPages = this.memory.pagesPerBlock;
    if (mem.state === MEM_STATE_ONLINE) {
      const z = this.testPagesInAZone(startPfn, startPfn + nrPages);
      return z === undefined ? 'none\n' : `${z.name}\n`;
    }
    const nid = mem.nid === NUMA_NO_NODE ? 0 : mem.nid;
    const def = this.zoneForPfnRangeImpl(MMOP_ONLINE, nid, startPfn, nrPages);
    let out = def.name;
    for (const t of [MMOP_ONLINE_KERNEL, MMOP_ONLINE_MOVABLE] as const) {
      const z = this.zoneForPfnRangeImpl(t, nid, startPfn, nrPages);
      if (z !== def) out += ` ${z.name}`;
    }
    return `${out}\n`;
  }

  // =====================================================================
  // nodes
  // =====================================================================

  /** `unregister_memory_block_under_nodes(mem)` (drivers/base/node.c): removes a block's node links. */
  unregisterMemoryBlockUnderNodes(mem: MemoryBlock): void {
    checkBlock('unregister_memory_block_under_nodes', mem);
    this.nodes.unregisterMemoryBlockUnderNodes(mem);
  }

  /**
   * `__try_online_node(nid, set_node_online)`: 0 if the node is online;
   * else prepares its (empty) pglist_data (`hotadd_new_pgdat()`) and, if
   * asked, onlines and registers it; returns 1.
   */
  private tryOnlineNodeCore(nid: number, setNodeOnline: boolean): 0 | 1 {
    if (this.nodes.nodeOnline(nid)) return 0;
    const pgdat = this.mm.allocNodeData(nid);
    setPgdatNrZones(pgdat, 0);
    pgdat.nodeStartPfn = 0;
    if (setNodeOnline) {
      this.mm.nodeSetOnline(nid);
      this.nodes.nodeSetOnline(nid);
      this.nodes.registerOneNode(nid);
    }
    return 1;
  }

  /**
   * `try_online_node(nid)`: onlines and registers a possible node without
   * memory (what CPU hotplug does). Returns 1 if it was onlined, 0 if it was
   * online; -EINVAL for an impossible node.
   */
  tryOnlineNode(nid: number): 0 | 1 {
    checkUnsigned('try_online_node', 'nid', nid);
    if (!this.nodes.nodePossible(nid)) throw new KernelError('EINVAL', `node ${nid} is not possible`);
    return this.tryOnlineNodeCore(nid, true);
  }

  /**
   * `try_offline_node(nid)`: offlines and unregisters a node that spans no
   * pages, has no memory block linked to it and no CPU.
   */
  tryOfflineNode(nid: number): void {
    checkUnsigned('try_offline_node', 'nid', nid);
    const pgdat = this.mm.nodeData(nid);
    if (pgdat === undefined || pgdat.nodeSpannedPages !== 0) return;
    if (this.memory.forEachMemoryBlock((mem) => (mem.nid === nid ? -ERRNO.EEXIST : 0)) !== 0) return;
    if (this.cpuNodes.has(nid)) return;
    this.mm.nodeSetOffline(nid);
    this.nodes.nodeSetOffline(nid);
    this.nodes.unregisterOneNode(nid);
  }

  /**
   * `link_mem_sections(nid, start_pfn, end_pfn, context)` (drivers/base/node.c):
   * walks the memory blocks of `[startPfn, endPfn)` and links them under node
   * `nid`: with `MEMINIT_HOTPLUG` every block (`register_mem_block_under_node_hotplug()`:
   * hot-added pages all belong to `nid`), with `MEMINIT_EARLY` (boot) only
   * the blocks holding a present page of `nid`
   * (`register_mem_block_under_node_early()`), so that a block straddling
   * two nodes ends up linked under both.
   */
  private linkMemSections(nid: number, startPfn: number, endPfn: number, context: 'MEMINIT_EARLY' | 'MEMINIT_HOTPLUG'): void {
    const ps = 2 ** this.pageShift;
    this.memory.walkMemoryBlocks(startPfn * ps, (endPfn - startPfn) * ps, (mem) => {
      if (context === 'MEMINIT_HOTPLUG' || this.memBlockSpansNode(mem, nid)) this.nodes.registerMemoryBlockUnderNode(nid, mem);
      return 0;
    });
  }

  /**
   * The test of `register_mem_block_under_node_early()`: whether a page of a
   * present section of `mem` belongs to node `nid` (`get_nid_for_pfn()`,
   * i.e. `pfn_to_nid()` without deferred struct page init). The kernel
   * tries every pfn from the block's start; the pages of `nid` all lie in
   * the node's span, so the model starts at the span and stops at its end,
   * with the same answer.
   */
  private memBlockSpansNode(mem: MemoryBlock, nid: number): boolean {
    const pgdat = this.mm.nodeData(nid);
    if (pgdat === undefined) return false;
    const pps = this.pagesPerSection;
    const blockStart = this.memory.blockStartPfn(mem);
    const start = Math.max(blockStart, pgdat.nodeStartPfn);
    const end = Math.min(blockStart + this.memory.pagesPerBlock, pgdat.nodeStartPfn + pgdat.nodeSpannedPages);
    for (let pfn = start; pfn < end; pfn++) {
      if (!presentSection(this.sparse.nrToSection(this.sparse.pfnToSectionNr(pfn)))) {
        // skip the rest of an absent section
        pfn = (Math.floor(pfn / pps) + 1) * pps - 1;
        continue;
      }
      if (this.mm.pfnToNid(pfn) === nid) return true;
    }
    return false;
  }

  // =====================================================================
  // add_memory
  // =====================================================================

  /**
   * `add_memory_resource(nid, res, mhp_flags)`: adds the memory of a
   * registered resource on node `nid`: sections and memmap
   * (`arch_add_memory()`, with the memmap at the start of the range for
   * `MHP_MEMMAP_ON_MEMORY`), offline memory blocks linked to the node, the
   * node onlined if it was not; then the resource merged for
   * `MHP_MERGE_RESOURCE`, and the blocks onlined if `auto_online_blocks`
   * says so (a failure to online does not fail the add). Errors, each
   * leaving everything as it was: -EINVAL for a range not in whole blocks,
   * an impossible node, or `MHP_MEMMAP_ON_MEMORY` where
   * `mhp_supports_memmap_on_memory()` says no (v5.13 fails; callers such as
   * ACPI test first and fall back); -ENOMEM when the memmap cannot be
   * allocated; -EEXIST for present sections.
   */
  addMemoryResource(nid: number, res: Resource, mhpFlags: MhpFlags): void {
    const start = res.start;
    const size = res.end - res.start + 1;
    this.checkHotplugMemoryRange(start, size);
    if (!this.nodes.nodePossible(nid)) {
      const msg = `node ${nid} was absent from the node_possible_map`;
      this.kernel.log.warn(`WARNING: ${msg}`);
      throw new KernelError('EINVAL', msg);
    }
    const newNode = this.tryOnlineNodeCore(nid, false) === 1;
    const rollbackNode = (): void => {
      // rollback_node_hotadd(): the pglist_data stays allocated (it exists for every possible node).
    };
    const params: { altmap?: VmemAltmap; pgprot: Pgprot } = { pgprot: 'PAGE_KERNEL' };
    const ps = 2 ** this.pageShift;
    if (anyBits(mhpFlags, MHP_MEMMAP_ON_MEMORY)) {
      if (!this.mhpSupportsMemmapOnMemory(size)) {
        rollbackNode();
        throw new KernelError('EINVAL', `memmap_on_memory is not supported for [${hex(start)}-${hex(start + size - 1)}]`);
      }
      params.altmap = vmemAltmap({ basePfn: start / ps, free: size / ps });
    }
    try {
      this.archAddMemory(nid, start, size, params);
    } catch (e) {
      rollbackNode();
      throw e;
    }
    try {
      this.createMemoryBlockDevices(start, size, params.altmap?.alloc ?? 0);
    } catch (e) {
      this.archRemoveMemory(nid, start, size, params.altmap);
      rollbackNode();
      throw e;
    }
    if (newNode) {
      this.mm.nodeSetOnline(nid);
      this.nodes.nodeSetOnline(nid);
      this.nodes.registerOneNode(nid);
    }
    this.linkMemSections(nid, start / ps, Math.ceil((start + size - 1) / ps), 'MEMINIT_HOTPLUG');
    if (anyBits(mhpFlags, MHP_MERGE_RESOURCE)) this.kernel.iomem.mergeSystemRamResource(res);
    if (this.mhpDefaultOnlineType !== MMOP_OFFLINE) {
      this.memory.walkMemoryBlocks(start, size, (mem) => {
        // online_memory_block(): the result is ignored by add_memory_resource().
        mem.onlineType = this.mhpDefaultOnlineType;
        try {
          this.kernel.devices.deviceOnline(mem);
        } catch {
          // the block stays offline
        }
        return 0;
      });
    }
  }

  /** `create_memory_block_devices()` with the `kzalloc()` of each block as the `failslab` fault point. */
  private createMemoryBlockDevices(start: number, size: number, nrVmemmapPages: number): void {
    if (this.kernel.faults.shouldFail('failslab', 64)) throw new KernelError('ENOMEM', 'create_memory_block_devices: out of memory');
    this.memory.createMemoryBlockDevices(start, size, nrVmemmapPages);
  }

  /**
   * `__add_memory(nid, start, size, mhp_flags)`: registers a "System RAM"
   * resource and adds its memory (see {@link MemoryHotplug.addMemoryResource});
   * the resource is released if that fails. Also -E2BIG / -EEXIST from
   * `register_memory_resource()`.
   */
  __addMemory(nid: number, start: number, size: number, mhpFlags: MhpFlags = MHP_NONE): void {
    if (this.tracer.enabled) return this.tracer.invoke('__add_memory', this, this.addMemoryCore, nid, start, size, mhpFlags);
    return this.addMemoryCore(nid, start, size, mhpFlags);
  }

  private addMemoryCore(nid: number, start: number, size: number, mhpFlags: MhpFlags): void {
    checkAddArgs('add_memory', nid, start, size, mhpFlags);
    const res = this.registerMemoryResource(start, size, 'System RAM');
    try {
      this.addMemoryResource(nid, res, mhpFlags);
    } catch (e) {
      this.releaseMemoryResource(res);
      throw e;
    }
  }

  /** `add_memory(nid, start, size, mhp_flags)`: {@link MemoryHotplug.__addMemory} under the device hotplug lock. */
  addMemory(nid: number, start: number, size: number, mhpFlags: MhpFlags = MHP_NONE): void {
    if (this.tracer.enabled) return this.tracer.invoke('add_memory', this, this.addMemoryCore, nid, start, size, mhpFlags);
    return this.addMemoryCore(nid, start, size, mhpFlags);
  }

  /**
   * `add_memory_driver_managed(nid, start, size, resource_name, mhp_flags)`:
   * adds memory a driver found (kmem, virtio-mem) under a resource named
   * `System RAM ($DRIVER)`, flagged driver-managed. -EINVAL for a name of
   * another form; else as {@link MemoryHotplug.addMemory}.
   */
  addMemoryDriverManaged(nid: number, start: number, size: number, resourceName: string, mhpFlags: MhpFlags = MHP_NONE): void {
    if (this.tracer.enabled) {
      return this.tracer.invoke('add_memory_driver_managed', this, this.addMemoryDriverManagedImpl, nid, start, size, resourceName, mhpFlags);
    }
    return this.addMemoryDriverManagedImpl(nid, start, size, resourceName, mhpFlags);
  }

  private addMemoryDriverManagedImpl(nid: number, start: number, size: number, resourceName: string, mhpFlags: MhpFlags): void {
    checkAddArgs('add_memory_driver_managed', nid, start, size, mhpFlags);
    if (typeof resourceName !== 'string') throw new KernelError('EINVAL', `add_memory_driver_managed: invalid resource name ${String(resourceName)}`);
    if (!resourceName.startsWith('System RAM (') || !resourceName.endsWith(')')) {
      throw new KernelError('EINVAL', `add_memory_driver_managed: resource name '${resourceName}' is not 'System RAM ($DRIVER)'`);
    }
    const res = this.registerMemoryResource(start, size, resourceName);
    try {
      this.addMemoryResource(nid, res, mhpFlags);
    } catch (e) {
      this.releaseMemoryResource(res);
      throw e;
    }
  }

  // =====================================================================
  // remove_memory
  // =====================================================================

  /**
   * `try_remove_memory(nid, start, size)`: removes memory whose blocks are
   * all offline: the blocks, the sections and memmap (through an altmap
   * for a memmap_on_memory block), the resource, and the node if nothing
   * is left on it. -EBUSY ("removing memory fails, because memory [...] is
   * onlined") while a block is online; -EINVAL for a range not wholly
   * covered by memory blocks (System RAM memory hotplug added: the model
   * refuses where v5.13 would tear down another owner's sections, such as
   * a pgmap's); -EINVAL ("Refuse to remove ...")
   * for a range with vmemmap pages that is not exactly one block. Nothing
   * changes on failure.
   */
  tryRemoveMemory(nid: number, start: number, size: number): void {
    if (this.tracer.enabled) return this.tracer.invoke('try_remove_memory', this, this.tryRemoveMemoryImpl, nid, start, size);
    return this.tryRemoveMemoryImpl(nid, start, size);
  }

  private tryRemoveMemoryImpl(nid: number, start: number, size: number): void {
    checkUnsigned('try_remove_memory', 'nid', nid);
    checkPhysRange('try_remove_memory', start, size);
    this.checkHotplugMemoryRange(start, size);
    // Only memory that memory hotplug added has memory blocks; sections
    // without one (a memremap_pages() range, a hole) belong to someone else
    // and are never torn down here.
    let blocks = 0;
    this.memory.walkMemoryBlocks(start, size, () => {
      blocks++;
      return 0;
    });
    if (blocks * this.blockSize !== size) {
      const msg = `removing memory fails, because memory [${pa(start)}-${pa(start + size - 1)}] is not System RAM added by memory hotplug`;
      this.kernel.log.warn(msg);
      throw new KernelError('EINVAL', msg);
    }
    let busy: KernelError | undefined;
    this.memory.walkMemoryBlocks(start, size, (mem) => {
      if (mem.state === MEM_STATE_OFFLINE) return 0; // is_memblock_offlined()
      const begin = this.memory.blockStartPfn(mem) * 2 ** this.pageShift;
      const msg = `removing memory fails, because memory [${pa(begin)}-${pa(begin + this.blockSize - 1)}] is onlined`;
      this.kernel.log.warn(msg);
      busy = new KernelError('EBUSY', msg);
      return -ERRNO.EBUSY;
    });
    if (busy !== undefined) throw busy;
    let altmap: VmemAltmap | undefined;
    if (this.memmapOnMemory) {
      const nrVmemmap = this.memory.walkMemoryBlocks(start, size, (mem) => mem.nrVmemmapPages);
      if (nrVmemmap !== 0) {
        if (size !== this.blockSize) {
          const msg = `Refuse to remove ${hex(start)} - ${hex(start + size)},wrong granularity`;
          this.kernel.log.warn(msg);
          throw new KernelError('EINVAL', msg);
        }
        altmap = vmemAltmap({ basePfn: 0 });
        altmap.alloc = nrVmemmap;
      }
    }
    this.memory.removeMemoryBlockDevices(start, size);
    this.archRemoveMemory(nid, start, size, altmap);
    this.kernel.iomem.releaseMemRegionAdjustable(start, size);
    this.tryOfflineNode(nid);
  }

  /**
   * `remove_memory(nid, start, size)`: {@link MemoryHotplug.tryRemoveMemory}
   * under the device hotplug lock.
   */
  removeMemory(nid: number, start: number, size: number): void {
    if (this.tracer.enabled) return this.tracer.invoke('remove_memory', this, this.tryRemoveMemoryImpl, nid, start, size);
    return this.tryRemoveMemoryImpl(nid, start, size);
  }

  /**
   * `__remove_memory(nid, start, size)`: for callers that know the memory is
   * offline; the kernel BUG()s if it is not, the model throws.
   */
  __removeMemory(nid: number, start: number, size: number): void {
    if (this.tracer.enabled) return this.tracer.invoke('__remove_memory', this, this.tryRemoveMemoryImpl, nid, start, size);
    return this.tryRemoveMemoryImpl(nid, start, size);
  }

  /**
   * `offline_and_remove_memory(nid, start, size)`: offlines every block of
   * the range and removes it. If a block cannot be offlined (or the removal
   * fails), every block this call offlined is onlined again with the online
   * type it had (movable or kernel, sensed from its zone), and the error is
   * thrown. -EINVAL for a range not in whole blocks.
   */
  offlineAndRemoveMemory(nid: number, start: number, size: number): void {
    checkUnsigned('offline_and_remove_memory', 'nid', nid);
    checkPhysRange('offline_and_remove_memory', start, size);
    const bs = this.blockSize;
    if (!isAligned(start, bs) || !isAligned(size, bs) || size === 0) {
      throw new KernelError('EINVAL', `offline_and_remove_memory: [${hex(start)}+${hex(size)}] is not in whole memory blocks`);
    }
    const onlineTypes: OnlineType[] = new Array<OnlineType>(size / bs).fill(MMOP_OFFLINE);
    let i = 0;
    let err: unknown;
    this.memory.walkMemoryBlocks(start, size, (mem) => {
      let onlineType: OnlineType = MMOP_ONLINE_KERNEL;
      const pfn = this.pfnToOnlinePage(this.memory.blockStartPfn(mem));
      if (pfn !== undefined && this.mm.pageZone(pfn).zoneIdx === this.mm.config.ZONE_MOVABLE) onlineType = MMOP_ONLINE_MOVABLE;
      try {
        if (this.kernel.devices.deviceOffline(mem) === 0) onlineTypes[i] = onlineType;
      } catch (e) {
        err = e;
        return -1;
      }
      i++;
      return 0;
    });
    if (err === undefined) {
      try {
        this.tryRemoveMemoryImpl(nid, start, size);
      } catch (e) {
        err = e;
        this.kernel.log.err(`offline_and_remove_memory: Failed to remove memory: ${-(e as KernelError).code}`);
      }
    }
    if (err === undefined) return;
    i = 0;
    this.memory.walkMemoryBlocks(start, size, (mem) => {
      const t = onlineTypes[i++]!;
      if (t !== MMOP_OFFLINE) {
        mem.onlineType = t;
        try {
          this.kernel.devices.deviceOnline(mem);
        } catch (e) {
          this.kernel.log.warn(`try_reonline_memory_block: Failed to re-online memory: ${-(e as KernelError).code}`);
        }
      }
      return 0;
    });
    throw err;
  }

  // The traced kernel functions: each method above is its untraced body;
  // traceMethod() (kernel/trace.ts of @zonedev/kernel) wraps it so that its
  // argument checks run first and, while tracing is on, the call is recorded.
  static {
    const p = MemoryHotplug.prototype;
    traceMethod(p, 'addMemoryResource', 'add_memory_resource', (nid, res, mhpFlags) => {
      checkUnsigned('add_memory_resource', 'nid', nid);
      if (typeof res !== 'object' || res === null || !Number.isSafeInteger(res.start) || !Number.isSafeInteger(res.end)) throw new KernelError('EINVAL', `add_memory_resource: invalid resource ${String(res)}`);
      checkUnsigned('add_memory_resource', 'mhp_flags', mhpFlags);
    });
    traceMethod(p, '__addPages', '__add_pages', (nid, pfn, nrPages, params) => {
      checkParams('__add_pages', params);
      checkUnsigned('__add_pages', 'nid', nid);
      checkPfnRange('__add_pages', pfn, nrPages);
    });
    traceMethod(p, 'archAddMemory', 'arch_add_memory', (nid, start, size, params) => {
      checkParams('arch_add_memory', params);
      checkUnsigned('arch_add_memory', 'nid', nid);
      checkPhysRange('arch_add_memory', start, size);
    });
    traceMethod(p, 'memoryBlockOffline', 'memory_block_offline', (mem) => {
      checkBlock('memory_block_offline', mem);
    });
    traceMethod(p, 'memoryBlockOnline', 'memory_block_online', (mem) => {
      checkBlock('memory_block_online', mem);
    });
    traceMethod(p, 'mhpDeinitMemmapOnMemory', 'mhp_deinit_memmap_on_memory', (pfn, nrPages) => {
      checkPfnRange('mhp_deinit_memmap_on_memory', pfn, nrPages);
    });
    traceMethod(p, 'mhpInitMemmapOnMemory', 'mhp_init_memmap_on_memory', (pfn, nrPages, zone) => {
      checkZone('mhp_init_memmap_on_memory', zone);
      checkPfnRange('mhp_init_memmap_on_memory', pfn, nrPages);
    });
    traceMethod(p, 'movePfnRangeToZone', 'move_pfn_range_to_zone', function (this: MemoryHotplug, zone, startPfn, nrPages, altmap, migratetype) {
      checkAltmap('move_pfn_range_to_zone', altmap);
      checkZone('move_pfn_range_to_zone', zone);
      checkPfnRange('move_pfn_range_to_zone', startPfn, nrPages);
      checkUnsigned('move_pfn_range_to_zone', 'migratetype', migratetype, this.mm.config.MIGRATE_TYPES - 1);
    });
    traceMethod(p, 'offlineAndRemoveMemory', 'offline_and_remove_memory');
    traceMethod(p, 'offlinePages', 'offline_pages');
    traceMethod(p, 'onlinePages', 'online_pages');
    traceMethod(p, 'removePfnRangeFromZone', 'remove_pfn_range_from_zone', (zone, startPfn, nrPages) => {
      checkZone('remove_pfn_range_from_zone', zone);
      checkPfnRange('remove_pfn_range_from_zone', startPfn, nrPages);
    });
  }
}
