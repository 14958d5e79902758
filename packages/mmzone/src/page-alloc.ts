/**
 * The buddy allocator and the boot-time setup of nodes and zones
 * (mm/page_alloc.c, Linux v5.13).
 *
 * Free memory is kept in blocks of 2^order contiguous pages, naturally
 * aligned, for orders 0 .. MAX_ORDER-1 (a 4 MiB block on x86_64). Each zone
 * keeps, per order, one list per migrate type of free blocks. To allocate
 * 2^order pages the allocator takes a block of that order, or splits a larger
 * one in halves until it has one (`expand()`: each split-off upper half goes
 * back on the free list of its order). To free a block it looks at the block's
 * *buddy*, the other half of the block of the next order (`pfn ^ (1 << order)`);
 * if the buddy is free and of the same order, the two merge and the search
 * continues one order up (`__free_one_page()`).
 *
 * Migrate types group pages by mobility: a pageblock (2^pageblock_order pages)
 * is labelled MOVABLE, UNMOVABLE, RECLAIMABLE, ... and its free pages go on the
 * list of that type, so that kernel allocations, which can never move, do not
 * scatter through memory that could otherwise be emptied for hot-removal or
 * huge pages. When a type's lists run dry the allocator steals from another
 * type (`__rmqueue_fallback()`), taking whole pageblocks when it can. The
 * ISOLATE type takes pageblocks out of circulation: memory being offlined is
 * isolated first, so that its free pages are never allocated again.
 *
 * An allocation walks a *zonelist*: the zones it may use (chosen by its GFP
 * flags), highest first, its own node before others. In each zone it must
 * leave free pages above a watermark (`min`, `low`, `high`, derived from
 * `min_free_kbytes`) plus the zone's `lowmem_reserve` against the requesting
 * zone type.
 *
 * What the model leaves out, and says so: per-cpu page lists (pages go to and
 * come from the buddy lists directly; /proc/zoneinfo shows `count: 0`),
 * reclaim, compaction, kswapd (so `watermark_boost` stays 0) and the OOM
 * killer (when the watermarks cannot be met the allocation fails and
 * `warn_alloc()` reports it), highatomic reserves, page shuffling and page
 * reporting. Compound pages get `PG_head` only.
 */
import { KernelBug, KernelError, NUMA_NO_NODE, checkUnsigned } from '@zonedev/kernel';
import type { Kernel } from '@zonedev/kernel';
import { createMmConfig, fls } from './config.js';
import type { MmArchConfig, MmConfig } from './config.js';
import {
  GFP_HIGHUSER_MOVABLE,
  GFP_USER,
  __GFP_ATOMIC,
  __GFP_COMP,
  __GFP_DIRECT_RECLAIM,
  __GFP_HARDWALL,
  __GFP_HIGH,
  __GFP_HIGHMEM,
  __GFP_KSWAPD_RECLAIM,
  __GFP_MEMALLOC,
  __GFP_NOFAIL,
  __GFP_NOMEMALLOC,
  __GFP_NOWARN,
  __GFP_THISNODE,
  __GFP_ZERO,
  formatGfpFlags,
  gfpAny,
  gfpClear,
  gfpHas,
  gfpMigratetype,
  gfpOr,
  gfpZone,
} from './gfp.js';
import { MemmapStore } from './memmap.js';
import type { MemmapStoreOptions } from './memmap.js';
import {
  MIGRATE_HIGHATOMIC,
  MIGRATE_MOVABLE,
  MIGRATE_PCPTYPES,
  MIGRATE_RECLAIMABLE,
  MIGRATE_UNMOVABLE,
  PglistData,
  WMARK_HIGH,
  WMARK_LOW,
  WMARK_MIN,
  highWmarkPages,
  isHighmem,
  lowWmarkPages,
  minWmarkPages,
  populatedZone,
  wmarkPages,
  zoneEndPfn,
  zonePageState,
  zoneSpansPfn,
} from './mmzone.js';
import { checkZone } from './mmzone.js';
import type { Zone } from './mmzone.js';
import { PG_buddy, PG_head, PG_lru, PG_reserved, flagsWordAny, flagsWordMask, formatPageFlags, pageTypeIs } from './page-flags.js';
import * as iso from './page-isolation.js';
import { PhysMem } from './physmem.js';
import { checkObject } from './validate.js';
import { STRUCT_PAGE_SIZE } from './struct-page.js';
import { NR_FREE_PAGES, NUMA_FOREIGN, NUMA_HIT, NUMA_LOCAL, NUMA_MISS, NUMA_OTHER, nodeStatNames } from './vmstat-items.js';
import { buddyinfoShow, pagetypeinfoShow, zoneinfoShow } from './vmstat.js';

/** `ALLOC_WMARK_MIN` (= WMARK_MIN). @public */ export const ALLOC_WMARK_MIN = 0;
/** `ALLOC_WMARK_LOW` (= WMARK_LOW). @public */ export const ALLOC_WMARK_LOW = 1;
/** `ALLOC_WMARK_HIGH` (= WMARK_HIGH). @public */ export const ALLOC_WMARK_HIGH = 2;
/** `ALLOC_NO_WATERMARKS`. @public */ export const ALLOC_NO_WATERMARKS = 0x04;
/** `ALLOC_WMARK_MASK` (= ALLOC_NO_WATERMARKS - 1). @public */ export const ALLOC_WMARK_MASK = 3;
/** `ALLOC_OOM`. @public */ export const ALLOC_OOM = 0x08;
/** `ALLOC_HARDER`. @public */ export const ALLOC_HARDER = 0x10;
/** `ALLOC_HIGH`. @public */ export const ALLOC_HIGH = 0x20;
/** `ALLOC_CPUSET`. @public */ export const ALLOC_CPUSET = 0x40;
/** `ALLOC_CMA`. @public */ export const ALLOC_CMA = 0x80;
/** `ALLOC_NOFRAGMENT`. @public */ export const ALLOC_NOFRAGMENT = 0x100;
/** `ALLOC_KSWAPD`. @public */ export const ALLOC_KSWAPD = 0x800;

/** `FPI_NONE`. @public */ export const FPI_NONE = 0;
/** `FPI_SKIP_REPORT_NOTIFY`. @public */ export const FPI_SKIP_REPORT_NOTIFY = 0x1;
/** `FPI_TO_TAIL`: put the freed block at the tail of its free list. @public */ export const FPI_TO_TAIL = 0x2;
/** `FPI_SKIP_KASAN_POISON`. @public */ export const FPI_SKIP_KASAN_POISON = 0x4;


/**
 * `enum meminit_context`: boot-time (`MEMINIT_EARLY`) or hot-plugged
 * (`MEMINIT_HOTPLUG`, pages start out reserved) memmap initialization.
 * @public
 */
export type MeminitContext = 'early' | 'hotplug';

/**
 * A range of boot memory (`memblock.memory` region) on a node, in pfns.
 * @public
 */
export interface MemblockRegion {
  readonly startPfn: number;
  readonly endPfn: number;
  readonly nid: number;
}

/**
 * A pfn range `[startPfn, endPfn)`.
 * @public
 */
export interface PfnRange {
  readonly startPfn: number;
  readonly endPfn: number;
}

/**
 * The knobs of the `fail_page_alloc` fault point (mm/page_alloc.c): the
 * probability/interval/times come from the machine's FaultInjection under the
 * name `fail_page_alloc`; these are its page-allocator-specific filters.
 * @public
 */
export interface FailPageAllocAttrs {
  /** `ignore-gfp-wait` (default true): never fail allocations that may reclaim. */
  ignoreGfpReclaim: boolean;
  /** `ignore-gfp-highmem` (default true). */
  ignoreGfpHighmem: boolean;
  /** `min-order` (default 0). */
  minOrder: number;
}

/**
 * Options of a {@link MmCore}.
 * @public
 */
export interface MmCoreOptions {
  /** The machine's kernel services (log, tracer, fault injection). */
  readonly kernel: Kernel;
  /** The architecture description, or an already resolved configuration. */
  readonly config: MmArchConfig | MmConfig;
  /** Nodes that exist and are online at creation (default `[0]`). */
  readonly nodes?: readonly number[];
  /** `numa_node_id()`: the node of the running CPU (default: the first node). */
  readonly currentNode?: number;
  /** `node_distance(from, to)` (default 10 for the same node, 20 otherwise). */
  readonly nodeDistance?: (from: number, to: number) => number;
  /** Options of the struct page store. */
  readonly memmap?: MemmapStoreOptions;
  /** `current->comm` in messages (default `swapper/0`). */
  readonly comm?: string;
}

interface AllocContext {
  zonelist: readonly Zone[];
  highestZoneidx: number;
  migratetype: number;
  preferredZone: Zone | undefined;
}

/** Powers of two by exponent (2 ** n without Math.pow on hot paths). */
const POW2: readonly number[] = Array.from({ length: 64 }, (_, i) => 2 ** i);

/** `int_sqrt()`: floor of the square root. */
function intSqrt(x: number): number {
  let r = Math.floor(Math.sqrt(x));
  while (r * r > x) r--;
  while ((r + 1) * (r + 1) <= x) r++;
  return r;
}

/** `mult_frac(x, n, d)` with integer division. */
function multFrac(x: number, n: number, d: number): number {
  const q = Math.floor(x / d);
  const r = x % d;
  return q * n + Math.floor((r * n) / d);
}

/** `rounddown_pow_of_two()`. */
function rounddownPow2(x: number): number {
  return x < 1 ? 0 : 2 ** Math.floor(Math.log2(x) + 1e-9);
}

/** `__ffs(x)` for x > 0: index of the lowest set bit. */
/**
 * The arguments of `alloc_pages()`: a gfp mask of 32 bits and an unsigned
 * order (KernelError EINVAL otherwise). An order of MAX_ORDER or more is a
 * valid `unsigned int`; the allocator itself answers it with NULL.
 */
/** `first_zones_zonelist()` (include/linux/mmzone.h): the first zone of `zonelist` at or below `highestZoneidx`, or undefined. */
function firstZoneAtMost(zonelist: readonly Zone[], highestZoneidx: number): Zone | undefined {
  for (const z of zonelist) if (z.zoneIdx <= highestZoneidx) return z;
  return undefined;
}

function checkAlloc(fn: string, gfp: number, order: number): void {
  checkUnsigned(fn, 'gfp_mask', gfp, 0xffffffff);
  checkUnsigned(fn, 'order', order);
}

/** `__ffs()` of a positive safe integer: the index of its lowest set bit, by halving steps (32, 16, ... 1). */
function ffs0(x: number): number {
  let n = 0;
  let v = x;
  for (let k = 32; k >= 1; k /= 2) {
    const p = POW2[k]!;
    if (v % p === 0) {
      v /= p;
      n += k;
    }
  }
  return n;
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** `%#018Lx` */
function hex18(n: number): string {
  return `0x${n.toString(16).padStart(16, '0')}`;
}

/**
 * The mm core of one machine: its nodes and zones, the memmap, the physical
 * memory contents and the buddy allocator (mm/page_alloc.c). A machine
 * creates one; every layer above reaches zones and pages through it.
 * @public
 */
export class MmCore {
  /** The machine's kernel services. */
  readonly kernel: Kernel;
  /** The resolved configuration. */
  readonly config: MmConfig;
  /** The struct page store. */
  readonly memmap: MemmapStore;
  /** The physical memory contents. */
  readonly physmem: PhysMem;
  /** `numa_node_id()`: the node of the running CPU. */
  numaNodeId: number;
  /** `current->comm` for messages. */
  comm: string;
  /** `totalram_pages()`. */
  totalramPages = 0;
  // min_free_kbytes and user_min_free_kbytes: written only by
  // init_per_zone_wmark_min() and setMinFreeKbytes(), which recompute the
  // watermarks from them.
  private minFreeKb = 1024;
  private userMinFreeKb = -1;
  /** `watermark_scale_factor` (vm.watermark_scale_factor). */
  watermarkScaleFactor = 10;
  /** `sysctl_lowmem_reserve_ratio[MAX_NR_ZONES]`. */
  readonly lowmemReserveRatio: number[];
  /** `totalreserve_pages`. */
  totalreservePages = 0;
  /** `page_group_by_mobility_disabled`. */
  pageGroupByMobilityDisabled = false;
  /** `vm_total_pages`, as the last zonelist build computed it. */
  vmTotalPages = 0;
  /** `policy_zone`. */
  policyZone = 0;
  /** The `fail_page_alloc` filters. */
  readonly failPageAlloc: FailPageAllocAttrs = { ignoreGfpReclaim: true, ignoreGfpHighmem: true, minOrder: 0 };
  // The hooks the layers above register once (registerPfnOnline(),
  // registerDevmapPut()).
  private pfnOnlineHook: ((pfn: number) => boolean) | undefined = undefined;
  private devmapPutHook: ((pfn: number) => boolean) | undefined = undefined;

  private readonly pgdats = new Map<number, PglistData>();
  private readonly onlineNodes = new Set<number>();
  private readonly distance: (from: number, to: number) => number;
  private zonelists: (Zone[] | undefined)[] = [];
  private readonly allFlagBits: number[];
  private readonly checkAtFreeMask: number;
  private readonly checkAtPrepMask: number;
  private managedReset = false;
  private memblockMemory: MemblockRegion[] = [];
  // free_area_init_core()'s totals and memmap_init_zone()'s hole cursor
  private dmaReserve = 0;
  private nrKernelPages = 0;
  private nrAllPages = 0;
  private holePfn = 0;
  // ratelimit state of warn_alloc() and bad_page()
  private warnBurst = 0;
  private warnStart = 0;
  private warnMissed = 0;
  private badShown = 0;
  private badResume = 0;
  private badUnshown = 0;
  // scratch results of find_suitable_fallback() / move_freepages()
  private fbCanSteal = false;
  private numMovable = 0;
  /** The zone-locked buddy primitives page-isolation.ts works with. */
  private readonly ops: iso.BuddyOps = {
    moveFreepagesBlock: (zone, pfn, mt) => this.moveFreepagesBlock(zone, pfn, mt, false),
    modZoneFreepageState: (zone, nr, mt) => this.modZoneFreepageState(zone, nr, mt),
    delPageFromFreeList: (zone, pfn) => this.delPageFromFreeList(zone, pfn),
    freeOnePage: (pfn, zone, order, mt, fpi) => this.freeOnePage(pfn, zone, order, mt, fpi),
  };

  constructor(options: MmCoreOptions) {
    checkObject('mm', 'options', options);
    checkObject('mm', 'config', options.config);
    if (typeof options.kernel !== 'object' || options.kernel === null) throw new KernelError('EINVAL', 'mm: options.kernel is not a Kernel');
    this.kernel = options.kernel;
    this.config = 'zoneNames' in options.config ? options.config : createMmConfig(options.config);
    this.memmap = new MemmapStore(this.config, options.memmap);
    this.physmem = new PhysMem(this.config.pageShift);
    const nodes = options.nodes ?? [0];
    if (nodes.length === 0) throw new KernelError('EINVAL', 'a machine needs at least one node');
    for (const nid of nodes) {
      this.allocNodeData(nid);
      this.nodeSetOnline(nid);
    }
    this.numaNodeId = options.currentNode ?? nodes[0]!;
    this.distance = options.nodeDistance ?? ((a, b) => (a === b ? 10 : 20));
    this.comm = options.comm ?? 'swapper/0';
    const c = this.config;
    this.lowmemReserveRatio = c.zoneKinds.map((k) => (k === 'DMA' || k === 'DMA32' ? 256 : k === 'Normal' ? 32 : 0));
    this.allFlagBits = Array.from({ length: c.pageflags.NR_PAGEFLAGS }, (_, i) => i);
    this.checkAtFreeMask = flagsWordMask(c.pageflags.checkAtFree);
    this.checkAtPrepMask = flagsWordMask(this.allFlagBits);
  }

  /** For the function-graph tracer. */
  get traceName(): string {
    return 'mm';
  }

  private get tracing(): boolean {
    return this.kernel.tracer.enabled;
  }

  /** EINVAL unless `list` is a list of pfn ranges (with a node id if `withNid`). */
  private checkRegions(fn: string, list: unknown, withNid: boolean): void {
    if (!Array.isArray(list)) throw new KernelError('EINVAL', `${fn}: not a list of ranges: ${String(list)}`);
    for (const r of list as unknown[]) {
      if (typeof r !== 'object' || r === null) throw new KernelError('EINVAL', `${fn}: invalid range ${String(r)}`);
      const x = r as MemblockRegion;
      checkUnsigned(fn, 'start_pfn', x.startPfn);
      checkUnsigned(fn, 'end_pfn', x.endPfn);
      if (withNid) checkUnsigned(fn, 'nid', x.nid, this.config.MAX_NUMNODES - 1);
    }
  }

  // ===================================================================
  // nodes and zones
  // ===================================================================

  /**
   * `NODE_DATA(nid)`: the node's `pglist_data`, or undefined if it was
   * never allocated.
   */
  nodeData(nid: number): PglistData | undefined {
    checkUnsigned('NODE_DATA', 'nid', nid, this.config.MAX_NUMNODES - 1);
    return this.pgdats.get(nid);
  }

  /**
   * `arch_alloc_nodedata()` + `pgdat_init_internals()`: creates the
   * pglist_data of a possible node (hotadd_new_pgdat's first step). -EINVAL
   * for a node id outside 0..MAX_NUMNODES-1; returns the existing one if any.
   */
  allocNodeData(nid: number): PglistData {
    checkUnsigned('alloc_node_data', 'nid', nid, this.config.MAX_NUMNODES - 1);
    if (!Number.isInteger(nid) || nid < 0 || nid >= this.config.MAX_NUMNODES) {
      throw new KernelError('EINVAL', `node ${nid} is outside 0..${this.config.MAX_NUMNODES - 1}`);
    }
    let p = this.pgdats.get(nid);
    if (p === undefined) {
      p = new PglistData(nid, this.config);
      this.pgdats.set(nid, p);
    }
    return p;
  }

  /** `node_set_online()`. The node's pglist_data must exist. */
  nodeSetOnline(nid: number): void {
    checkUnsigned('node_set_online', 'nid', nid, this.config.MAX_NUMNODES - 1);
    if (!this.pgdats.has(nid)) throw new KernelError('EINVAL', `node ${nid} has no pglist_data`);
    this.onlineNodes.add(nid);
  }

  /** `node_set_offline()`. */
  nodeSetOffline(nid: number): void {
    checkUnsigned('node_set_offline', 'nid', nid, this.config.MAX_NUMNODES - 1);
    this.onlineNodes.delete(nid);
  }

  /** `node_online()`. */
  nodeOnline(nid: number): boolean {
    checkUnsigned('node_online', 'nid', nid, this.config.MAX_NUMNODES - 1);
    return this.onlineNodes.has(nid);
  }

  /** `for_each_online_pgdat()`: online nodes by id. */
  onlinePgdats(): PglistData[] {
    return [...this.onlineNodes].sort((a, b) => a - b).map((n) => this.pgdats.get(n)!);
  }

  /** `for_each_zone()`: every zone of every online node. */
  zones(): Zone[] {
    return this.onlinePgdats().flatMap((p) => [...p.nodeZones]);
  }

  /** `page_zone()`: the zone a page's flags name. */
  pageZone(pfn: number): Zone {
    const nz = this.memmap.pageNodeZone(pfn);
    const n = this.config.MAX_NR_ZONES;
    const nid = Math.floor(nz / n);
    const p = this.pgdats.get(nid);
    if (p === undefined) throw new KernelBug(`pfn ${hex(pfn)} names node ${nid}, which has no pglist_data`);
    return p.nodeZones[nz - nid * n]!;
  }

  /** `page_pgdat()`. */
  pagePgdat(pfn: number): PglistData {
    return this.pageZone(pfn).zonePgdat;
  }

  /**
   * `pfn_to_nid()` (include/linux/mmzone.h, CONFIG_NUMA with SPARSEMEM):
   * `page_to_nid(pfn_to_page(pfn))`, the node recorded in the page's flags
   * (or in `section_to_node_table` when the node is not in the flags). The
   * page must have a memmap: a pfn without one throws the memmap's "page
   * fault" KernelBug, as the kernel would oops.
   */
  pfnToNid(pfn: number): number {
    return this.memmap.pageToNid(pfn);
  }

  /** `node_distance()`. */
  nodeDistance(from: number, to: number): number {
    checkUnsigned('node_distance', 'from', from, this.config.MAX_NUMNODES - 1);
    checkUnsigned('node_distance', 'to', to, this.config.MAX_NUMNODES - 1);
    return this.distance(from, to);
  }

  // ===================================================================
  // zonelists
  // ===================================================================

  /**
   * `build_all_zonelists()`: rebuilds every node's zonelists from the zones
   * that now have managed pages, recomputes `vm_total_pages` and mobility
   * grouping, and logs as the kernel does. Call it after a zone gains or
   * loses all its managed pages (online_pages/offline_pages do).
   */
  buildAllZonelists(): void {
    if (this.tracing) return this.kernel.tracer.invoke('build_all_zonelists', this, this.buildAllZonelistsImpl);
    return this.buildAllZonelistsImpl();
  }

  private buildAllZonelistsImpl(): void {
    this.zonelists = [];
    this.vmTotalPages = this.nrFreeZonePages(gfpZone(this.config, GFP_HIGHUSER_MOVABLE));
    this.pageGroupByMobilityDisabled = this.vmTotalPages < this.config.pageblockNrPages * this.config.MIGRATE_TYPES;
    // check_highest_zone(): the highest populated zone below ZONE_MOVABLE.
    let pz = 0;
    for (const p of this.onlinePgdats()) {
      for (const z of p.nodeZones) if (z.zoneIdx < this.config.ZONE_MOVABLE && populatedZone(z) && z.zoneIdx > pz) pz = z.zoneIdx;
    }
    this.policyZone = pz;
    this.kernel.log.info(
      `Built ${this.onlineNodes.size} zonelists, mobility grouping ${this.pageGroupByMobilityDisabled ? 'off' : 'on'}.  Total pages: ${this.vmTotalPages}`,
    );
    if (this.config.numa) this.kernel.log.info(`Policy zone: ${this.config.zoneNames[this.policyZone]}`);
  }

  /**
   * `node_zonelist(nid, gfp)`: the zones an allocation on `nid` may walk,
   * best first: for `__GFP_THISNODE` only `nid`'s own zones
   * (ZONELIST_NOFALLBACK), else every online node by distance
   * (ZONELIST_FALLBACK), each node's zones from the highest down. Only zones
   * with managed pages at the last build are listed (`build_zonerefs_node()`).
   */
  nodeZonelist(nid: number, gfp: number): readonly Zone[] {
    checkUnsigned('node_zonelist', 'nid', nid, this.config.MAX_NUMNODES - 1);
    checkUnsigned('node_zonelist', 'gfp_mask', gfp, 0xffffffff);
    const thisNode = gfpHas(gfp, __GFP_THISNODE);
    const key = nid * 2 + (thisNode ? 1 : 0);
    let zl = this.zonelists[key];
    if (zl === undefined) {
      const nodes = thisNode
        ? [nid]
        : [...this.onlineNodes].sort((a, b) => this.distance(nid, a) - this.distance(nid, b) || (a === nid ? -1 : b === nid ? 1 : a - b));
      zl = [];
      for (const n of nodes) {
        const p = this.pgdats.get(n);
        if (p === undefined) continue;
        for (let i = p.nodeZones.length - 1; i >= 0; i--) {
          const z = p.nodeZones[i]!;
          if (z.managedPages > 0) zl.push(z);
        }
      }
      this.zonelists[key] = zl;
    }
    return zl;
  }

  /** `nr_free_zone_pages(offset)`: managed pages above the high watermark, zones <= offset. */
  private nrFreeZonePages(offset: number): number {
    let sum = 0;
    for (const p of this.onlinePgdats()) {
      for (const z of p.nodeZones) {
        if (z.zoneIdx > offset || z.managedPages === 0) continue;
        const high = highWmarkPages(z);
        if (z.managedPages > high) sum += z.managedPages - high;
      }
    }
    return sum;
  }

  /** `nr_free_buffer_pages()`. */
  nrFreeBufferPages(): number {
    return this.nrFreeZonePages(gfpZone(this.config, GFP_USER));
  }

  /**
   * `__mod_node_page_state(page_pgdat(page), item, nr)` (mm/vmstat.c): adds
   * `nr` (may be negative) to node item `item` of the node `pfn`'s page
   * belongs to, as rmap does for `NR_ANON_MAPPED` and `NR_FILE_MAPPED`.
   * EINVAL for an item that does not exist in this configuration, a pfn
   * without a struct page, or an `nr` that is not an integer.
   */
  modNodePageState(pfn: number, item: number, nr: number): void {
    checkUnsigned('__mod_node_page_state', 'pfn', pfn);
    if (!Number.isSafeInteger(nr)) throw new KernelError('EINVAL', `__mod_node_page_state: invalid nr ${String(nr)}`);
    if (!this.memmap.hasMemmap(pfn)) throw new KernelError('EINVAL', `__mod_node_page_state: pfn 0x${pfn.toString(16)} has no struct page`);
    const pgdat = this.nodeData(this.memmap.pageToNid(pfn));
    if (pgdat === undefined || !Number.isSafeInteger(item) || item < 0 || item >= pgdat.vmStat.length) {
      throw new KernelError('EINVAL', `__mod_node_page_state: invalid item ${String(item)}`);
    }
    pgdat.vmStat[item]! += nr;
  }

  /** `node_page_state(pgdat, item)`: node item `item` of node `nid` (0 for a node that does not exist). */
  nodePageState(nid: number, item: number): number {
    checkUnsigned('node_page_state', 'nid', nid, this.config.MAX_NUMNODES - 1);
    checkUnsigned('node_page_state', 'item', item, nodeStatNames(this.config).length - 1);
    return this.nodeData(nid)?.vmStat[item] ?? 0;
  }

  /** `global_node_page_state(item)`: node item `item` summed over the nodes. */
  globalNodePageState(item: number): number {
    checkUnsigned('global_node_page_state', 'item', item, nodeStatNames(this.config).length - 1);
    let n = 0;
    for (const p of this.pgdats.values()) n += p.vmStat[item] ?? 0;
    return n;
  }

  /** `global_zone_page_state(NR_FREE_PAGES)`: free pages of every zone. */
  nrFreePages(): number {
    let n = 0;
    for (const z of this.zones()) n += zonePageState(z, NR_FREE_PAGES);
    return n;
  }

  // ===================================================================
  // boot: free_area_init(), memmap_init(), memblock_free_all()
  // ===================================================================

  /**
   * `free_area_init()`: from the boot memory map (`memblock.memory`, in pfns,
   * sorted, non-overlapping) computes each zone's range from the
   * architecture's zone limits (`max_zone_pfn[]`: ZONE_DMA below
   * MAX_DMA_PFN, ZONE_DMA32 below MAX_DMA32_PFN, ZONE_NORMAL the rest),
   * sizes every node and zone (spanned and present pages), logs the zone
   * ranges as the kernel does, and initializes the memmap of all boot memory
   * (`memmap_init()`: pages of memory get their zone and node, holes inside a
   * memmap'ed section are reserved). The sections must already have a memmap
   * (sparse_init() runs first). -EINVAL for a bad map.
   */
  freeAreaInit(memory: readonly MemblockRegion[]): void {
    this.checkRegions('free_area_init', memory, true);
    if (this.tracing) return this.kernel.tracer.invoke('free_area_init', this, this.freeAreaInitImpl, memory);
    return this.freeAreaInitImpl(memory);
  }

  private freeAreaInitImpl(memory: readonly MemblockRegion[]): void {
    const c = this.config;
    const regions = [...memory];
    if (regions.length === 0) throw new KernelError('EINVAL', 'free_area_init: no memory');
    for (let i = 0; i < regions.length; i++) {
      const r = regions[i]!;
      if (!(Number.isSafeInteger(r.startPfn) && Number.isSafeInteger(r.endPfn) && r.startPfn >= 0 && r.endPfn > r.startPfn)) {
        throw new KernelError('EINVAL', `free_area_init: bad region ${r.startPfn}-${r.endPfn}`);
      }
      if (i > 0 && r.startPfn < regions[i - 1]!.endPfn) throw new KernelError('EINVAL', 'free_area_init: regions overlap or are unsorted');
      if (!this.pgdats.has(r.nid)) throw new KernelError('EINVAL', `free_area_init: node ${r.nid} has no pglist_data`);
      for (let nr = this.memmap.pfnToSectionNr(r.startPfn); nr <= this.memmap.pfnToSectionNr(r.endPfn - 1); nr++) {
        if (!this.memmap.hasSection(nr)) throw new KernelError('EINVAL', `free_area_init: section ${nr} has no memmap`);
      }
    }
    this.memblockMemory = regions;
    const maxPfn = regions[regions.length - 1]!.endPfn;
    const maxZonePfn = new Array<number>(c.MAX_NR_ZONES).fill(0);
    if (c.ZONE_DMA !== undefined) maxZonePfn[c.ZONE_DMA] = Math.min(c.MAX_DMA_PFN, maxPfn);
    if (c.ZONE_DMA32 !== undefined) maxZonePfn[c.ZONE_DMA32] = Math.min(c.MAX_DMA32_PFN, maxPfn);
    maxZonePfn[c.ZONE_NORMAL] = maxPfn;
    const lowest = new Array<number>(c.MAX_NR_ZONES).fill(0);
    const highest = new Array<number>(c.MAX_NR_ZONES).fill(0);
    let start = regions[0]!.startPfn;
    for (let z = 0; z < c.MAX_NR_ZONES; z++) {
      if (z === c.ZONE_MOVABLE) continue;
      const end = Math.max(maxZonePfn[z]!, start);
      lowest[z] = start;
      highest[z] = end;
      start = end;
    }
    const log = this.kernel.log;
    const ps = c.pageSize;
    log.info('Zone ranges:');
    for (let z = 0; z < c.MAX_NR_ZONES; z++) {
      if (z === c.ZONE_MOVABLE) continue;
      const name = `  ${c.zoneNames[z]!.padEnd(8)} `;
      if (lowest[z] === highest[z]) log.info(`${name}empty`);
      else log.info(`${name}[mem ${hex18(lowest[z]! * ps)}-${hex18(highest[z]! * ps - 1)}]`);
    }
    log.info('Movable zone start for each node');
    log.info('Early memory node ranges');
    for (const r of regions) log.info(`  node ${String(r.nid).padStart(3)}: [mem ${hex18(r.startPfn * ps)}-${hex18(r.endPfn * ps - 1)}]`);

    this.nrKernelPages = 0;
    this.nrAllPages = 0;
    this.holePfn = 0;
    for (const pgdat of this.onlinePgdats()) {
      // free_area_init_node()
      const mine = regions.filter((r) => r.nid === pgdat.nodeId);
      const nStart = mine.length > 0 ? mine[0]!.startPfn : 0;
      const nEnd = mine.length > 0 ? mine[mine.length - 1]!.endPfn : 0;
      pgdat.nodeStartPfn = nStart;
      if (nStart !== nEnd) log.info(`Initmem setup node ${pgdat.nodeId} [mem ${hex18(nStart * ps)}-${hex18(nEnd !== 0 ? nEnd * ps - 1 : 0)}]`);
      else log.info(`Initmem setup node ${pgdat.nodeId} as memoryless`);
      // calculate_node_totalpages()
      let total = 0;
      let real = 0;
      for (const zone of pgdat.nodeZones) {
        const zs = Math.min(Math.max(lowest[zone.zoneIdx]!, nStart), nEnd);
        const ze = Math.max(Math.min(highest[zone.zoneIdx]!, nEnd), zs);
        const size = zone.zoneIdx === c.ZONE_MOVABLE ? 0 : ze - zs;
        let present = 0;
        for (const r of mine) present += Math.max(0, Math.min(r.endPfn, ze) - Math.max(r.startPfn, zs));
        zone.zoneStartPfn = size > 0 ? zs : 0;
        zone.spannedPages = size;
        zone.presentPages = size > 0 ? present : 0;
        total += size;
        real += zone.presentPages;
        if (size > 0 && zone.zoneIdx + 1 > pgdat.nrZones) pgdat.nrZones = zone.zoneIdx + 1;
      }
      pgdat.nodeSpannedPages = total;
      pgdat.nodePresentPages = real;
      log.debug(`On node ${pgdat.nodeId} totalpages: ${real}`);
      this.freeAreaInitCore(pgdat, mine);
    }
  }

  /**
   * `calc_memmap_size()`: the pages of struct pages a zone is charged for,
   * `PAGE_ALIGN(pages * sizeof(struct page)) >> PAGE_SHIFT` of its spanned
   * pages, or of its present pages when holes make it span more than
   * present + present/16 (SPARSEMEM allocates no memmap for whole holes).
   */
  private calcMemmapSize(spanned: number, present: number): number {
    const pages = spanned > present + Math.floor(present / 16) ? present : spanned;
    return Math.ceil((pages * STRUCT_PAGE_SIZE) / this.config.pageSize);
  }

  /**
   * `free_area_init_core()` for one node, zone by zone: the early estimate
   * of each zone's managed pages (present pages less its memmap and, for the
   * first zone, `dma_reserve`), which the page allocator uses until
   * memblock_free_all() counts the real ones, the per-cpu pageset
   * (`zone_pcp_init()`), and the zone's memmap (`memmap_init_zone()`). The
   * KERN_DEBUG lines ("pages used for memmap", "pages reserved", "LIFO
   * batch") and the KERN_INFO hole line are logged in the kernel's order.
   */
  private freeAreaInitCore(pgdat: PglistData, mine: readonly MemblockRegion[]): void {
    const log = this.kernel.log;
    const names = this.config.zoneNames;
    for (const zone of pgdat.nodeZones) {
      const j = zone.zoneIdx;
      const size = zone.spannedPages;
      let freesize = zone.presentPages;
      const memmapPages = this.calcMemmapSize(size, freesize);
      const highmem = isHighmem(zone);
      if (!highmem) {
        if (freesize >= memmapPages) {
          freesize -= memmapPages;
          if (memmapPages > 0) log.debug(`  ${names[j]} zone: ${memmapPages} pages used for memmap`);
        } else {
          log.warn(`  ${names[j]} zone: ${memmapPages} pages exceeds freesize ${freesize}`);
        }
      }
      if (j === 0 && freesize > this.dmaReserve) {
        freesize -= this.dmaReserve;
        log.debug(`  ${names[0]} zone: ${this.dmaReserve} pages reserved`);
      }
      if (!highmem) this.nrKernelPages += freesize;
      else if (this.nrKernelPages > memmapPages * 2) this.nrKernelPages -= memmapPages;
      this.nrAllPages += freesize;
      // zone_init_internals(): the approximate managed count, then zone_pcp_init().
      zone.managedPages = freesize;
      this.zonePcpReset(zone);
      if (populatedZone(zone)) log.debug(`  ${zone.name} zone: ${zone.presentPages} pages, LIFO batch:${this.zoneBatchsize(zone)}`);
      if (size === 0) continue;
      this.memmapInitZone(zone, mine);
    }
  }

  /**
   * `memmap_init_zone()` (v5.13): initializes the struct pages of the
   * node's boot memory inside the zone, and those of the holes before each
   * region and up to the end of the zone's last section (`hole_pfn` carries
   * over from zone to zone and node to node, so a section the zone ends in
   * is initialized again by the zone above). Logs
   * `  <zone> zone: N pages in unavailable ranges` when there were holes.
   */
  private memmapInitZone(zone: Zone, mine: readonly MemblockRegion[]): void {
    const zs = zone.zoneStartPfn;
    const ze = zoneEndPfn(zone);
    const nid = zone.node;
    let pgcnt = 0;
    for (const r of mine) {
      const s = Math.min(Math.max(r.startPfn, zs), ze);
      const e = Math.min(Math.max(r.endPfn, zs), ze);
      if (e > s) this.memmapInitRange(s, e - s, nid, zone.zoneIdx, 'early', MIGRATE_MOVABLE);
      if (this.holePfn < s) pgcnt += this.initUnavailableRange(this.holePfn, s, zone.zoneIdx, nid);
      this.holePfn = e;
    }
    const sectionEnd = Math.ceil(ze / this.config.pagesPerSection) * this.config.pagesPerSection;
    if (this.holePfn < sectionEnd) pgcnt += this.initUnavailableRange(this.holePfn, sectionEnd, zone.zoneIdx, nid);
    if (pgcnt > 0) this.kernel.log.info(`  ${zone.name} zone: ${pgcnt} pages in unavailable ranges`);
  }

  /**
   * `init_unavailable_range()`: initializes the struct pages of a hole as
   * reserved pages of `zone` on `node` (pageblocks without a memmap are
   * skipped) and returns how many it initialized.
   */
  initUnavailableRange(spfn: number, epfn: number, zone: number, node: number): number {
    checkUnsigned('init_unavailable_range', 'spfn', spfn);
    checkUnsigned('init_unavailable_range', 'epfn', epfn);
    checkUnsigned('init_unavailable_range', 'zone', zone, this.config.MAX_NR_ZONES - 1);
    checkUnsigned('init_unavailable_range', 'node', node, this.config.MAX_NUMNODES - 1);
    if (this.tracing) return this.kernel.tracer.invoke('init_unavailable_range', this, this.initUnavailableRangeImpl, spfn, epfn, zone, node);
    return this.initUnavailableRangeImpl(spfn, epfn, zone, node);
  }

  private initUnavailableRangeImpl(spfn: number, epfn: number, zone: number, node: number): number {
    const nb = this.config.pageblockNrPages;
    let count = 0;
    let pfn = spfn;
    while (pfn < epfn) {
      const blockStart = pfn - (pfn % nb);
      if (!this.memmap.hasMemmap(blockStart)) {
        pfn = blockStart + nb;
        continue;
      }
      const runEnd = Math.min(epfn, (this.memmap.pfnToSectionNr(pfn) + 1) * this.config.pagesPerSection);
      const n = runEnd - pfn;
      this.memmap.initSinglePageRange(pfn, n, zone, node);
      this.memmap.updateRange(pfn, n, { setFlags: [PG_reserved] });
      count += n;
      pfn = runEnd;
    }
    return count;
  }

  /**
   * `memmap_init_range()`: `__init_single_page()` for every page of
   * `[startPfn, startPfn + nrPages)` (zone `zoneIdx` of node `nid`), reserved
   * in the hotplug context, and every pageblock starting in the range set to
   * `migratetype`. Bulk: whole sections become a shared template. For
   * ZONE_DEVICE the caller passes the range to initialize (v5.13 limits it to
   * the altmap's vmemmap pages; `memmap_init_zone_device()` does the rest).
   */
  memmapInitRange(startPfn: number, nrPages: number, nid: number, zoneIdx: number, context: MeminitContext, migratetype: number): void {
    if (context !== 'early' && context !== 'hotplug') throw new KernelError('EINVAL', `memmap_init_range: invalid context ${String(context)}`);
    checkUnsigned('memmap_init_range', 'start_pfn', startPfn);
    checkUnsigned('memmap_init_range', 'size', nrPages);
    checkUnsigned('memmap_init_range', 'nid', nid, this.config.MAX_NUMNODES - 1);
    checkUnsigned('memmap_init_range', 'zone', zoneIdx, this.config.MAX_NR_ZONES - 1);
    checkUnsigned('memmap_init_range', 'migratetype', migratetype, this.config.MIGRATE_TYPES - 1);
    if (this.tracing) {
      return this.kernel.tracer.invoke('memmap_init_range', this, this.memmapInitRangeImpl, startPfn, nrPages, nid, zoneIdx, context, migratetype);
    }
    return this.memmapInitRangeImpl(startPfn, nrPages, nid, zoneIdx, context, migratetype);
  }

  private memmapInitRangeImpl(startPfn: number, nrPages: number, nid: number, zoneIdx: number, context: MeminitContext, migratetype: number): void {
    if (!Number.isInteger(zoneIdx) || zoneIdx < 0 || zoneIdx >= this.config.MAX_NR_ZONES) {
      throw new KernelError('EINVAL', `memmap_init_range: no zone ${zoneIdx}`);
    }
    if (nrPages === 0) return;
    const mm = this.memmap;
    mm.initSinglePageRange(startPfn, nrPages, zoneIdx, nid);
    if (context === 'hotplug') mm.updateRange(startPfn, nrPages, { setFlags: [PG_reserved] });
    const nb = this.config.pageblockNrPages;
    const first = Math.ceil(startPfn / nb) * nb;
    const end = startPfn + nrPages;
    if (first < end) mm.setPageblockMigratetypeRange(first, end - first, migratetype);
  }

  /**
   * `reserve_bootmem_region()`: marks the struct pages of a boot-reserved
   * range `PG_reserved` (pfns without a memmap are skipped).
   */
  reserveBootmemRegion(startPfn: number, endPfn: number): void {
    checkUnsigned('reserve_bootmem_region', 'start', startPfn);
    checkUnsigned('reserve_bootmem_region', 'end', endPfn);
    if (this.tracing) return this.kernel.tracer.invoke('reserve_bootmem_region', this, this.reserveBootmemRegionImpl, startPfn, endPfn);
    return this.reserveBootmemRegionImpl(startPfn, endPfn);
  }

  private reserveBootmemRegionImpl(startPfn: number, endPfn: number): void {
    let pfn = startPfn;
    while (pfn < endPfn) {
      const secEnd = (this.memmap.pfnToSectionNr(pfn) + 1) * this.config.pagesPerSection;
      const e = Math.min(secEnd, endPfn);
      if (this.memmap.hasMemmap(pfn)) this.memmap.updateRange(pfn, e - pfn, { setFlags: [PG_reserved] });
      pfn = e;
    }
  }

  /**
   * `memblock_free_all()`: releases boot memory to the buddy allocator. Every
   * zone's managed count starts from 0; the `reserved` ranges (memblock
   * reservations: kernel image, initrd, firmware) get `PG_reserved` and stay
   * out; every other page of the memory passed to {@link MmCore.freeAreaInit}
   * is freed in the largest naturally aligned blocks (`__free_pages_memory()`)
   * to the tail of its free list. Returns the number of pages released.
   */
  memblockFreeAll(reserved: readonly PfnRange[] = []): number {
    this.checkRegions('memblock_free_all', reserved, false);
    if (this.tracing) return this.kernel.tracer.invoke('memblock_free_all', this, this.memblockFreeAllImpl, reserved);
    return this.memblockFreeAllImpl(reserved);
  }

  private memblockFreeAllImpl(reserved: readonly PfnRange[]): number {
    if (!this.managedReset) {
      for (const z of this.zones()) z.managedPages = 0;
      this.managedReset = true;
    }
    const res = [...reserved].sort((a, b) => a.startPfn - b.startPfn);
    for (const r of res) this.reserveBootmemRegion(r.startPfn, r.endPfn);
    let count = 0;
    for (const m of this.memblockMemory) {
      // for_each_free_mem_range: memory minus reserved
      let s = m.startPfn;
      for (const r of res) {
        if (r.endPfn <= s || r.startPfn >= m.endPfn) continue;
        if (r.startPfn > s) count += this.freePagesMemory(s, r.startPfn);
        s = Math.max(s, r.endPfn);
      }
      if (s < m.endPfn) count += this.freePagesMemory(s, m.endPfn);
    }
    this.totalramPages += count;
    return count;
  }

  /** `__free_pages_memory()`: frees `[start, end)` in the largest aligned blocks, in bulk. */
  private freePagesMemory(start: number, end: number): number {
    this.freeRangeCore(start, end, false);
    return end - start;
  }

  /**
   * The bulk form of `__free_pages_core()` over a range: the struct pages
   * of the whole range are prepared at once (`PG_reserved` and the other
   * flags cleared, refcount 0, as __free_pages_core() and
   * free_pages_prepare() leave them; the pages are expected to be as
   * memmap_init_range() made them), then each naturally aligned block of at
   * most MAX_ORDER-1 is added to its zone's managed pages and freed to the
   * tail of its free list.
   */
  private freeRangeCore(start: number, end: number, online: boolean): void {
    if (end <= start) return;
    this.memmap.updateRange(start, end - start, { clearFlags: this.allFlagBits, refcount: 0 });
    let pfn = start;
    const maxO = this.config.MAX_ORDER - 1;
    while (pfn < end) {
      let order = pfn === 0 ? maxO : Math.min(maxO, ffs0(pfn));
      while (pfn + POW2[order]! > end) order--;
      const zone = this.pageZone(pfn);
      zone.managedPages += POW2[order]!;
      const mt = this.memmap.getPageblockMigratetype(pfn);
      this.freeOnePage(pfn, zone, order, mt, FPI_TO_TAIL);
      if (online) this.totalramPages += POW2[order]!;
      pfn += POW2[order]!;
    }
  }

  /**
   * `setup_per_cpu_pageset()` / `zone_pcp_update()` for every populated
   * zone: recomputes the per-cpu list `high` and `batch` shown in
   * /proc/zoneinfo.
   */
  setupPerCpuPageset(): void {
    for (const z of this.zones()) if (populatedZone(z)) this.zonePcpUpdate(z);
  }

  /**
   * `zone_pcp_update()` → `zone_set_pageset_high_and_batch()`: `batch` from
   * `zone_batchsize()` (a quarter of 1/1024 of the zone, at most 1 MiB worth,
   * rounded to 2^n - 1), `high` = 6 * batch, at least batch 1.
   */
  zonePcpUpdate(zone: Zone): void {
    checkZone('zone_pcp_update', zone);
    if (this.tracing) return this.kernel.tracer.invoke('zone_pcp_update', this, this.zonePcpUpdateImpl, zone);
    return this.zonePcpUpdateImpl(zone);
  }

  private zonePcpUpdateImpl(zone: Zone): void {
    const batch = this.zoneBatchsize(zone);
    zone.pagesetHigh = 6 * batch;
    zone.pagesetBatch = Math.max(1, batch);
  }

  /**
   * `zone_batchsize()`: a quarter of 1/1024 of the zone's managed pages, at
   * most 1 MiB worth, rounded down to 2^n - 1 (so 0 for a zone under 4096
   * pages).
   */
  private zoneBatchsize(zone: Zone): number {
    let batch = Math.floor(zone.managedPages / 1024);
    if (batch * this.config.pageSize > 1024 * 1024) batch = Math.floor((1024 * 1024) / this.config.pageSize);
    batch = Math.floor(batch / 4);
    if (batch < 1) batch = 1;
    return rounddownPow2(batch + Math.floor(batch / 2)) - 1;
  }

  /** `zone_pcp_reset()`: back to the boot pageset (high 0, batch 1). */
  zonePcpReset(zone: Zone): void {
    checkZone('zone_pcp_reset', zone);
    zone.pagesetHigh = 0;
    zone.pagesetBatch = 1;
  }

  /**
   * `set_dma_reserve()`: pages of the first zone that the architecture
   * counts as used before the page allocator runs (x86_64's
   * `memblock_find_dma_reserve()`: memory below 16 MiB that memblock has
   * reserved). free_area_init() takes them out of the zone's early managed
   * estimate and logs `  DMA zone: N pages reserved`. Call it before
   * {@link MmCore.freeAreaInit}; -EINVAL for a count that is not an
   * unsigned integer.
   */
  setDmaReserve(newDmaReserve: number): void {
    checkUnsigned('set_dma_reserve', 'new_dma_reserve', newDmaReserve);
    this.dmaReserve = newDmaReserve;
  }

  /**
   * The whole boot sequence of the memory core after sparse_init(), in
   * start_kernel()'s order: {@link MmCore.freeAreaInit} (setup_arch()),
   * {@link MmCore.buildAllZonelists} (on free_area_init()'s early managed
   * estimates, before any watermark exists), {@link MmCore.memblockFreeAll}
   * (mm_init()), {@link MmCore.setupPerCpuPageset} and
   * {@link MmCore.initPerZoneWmarkMin} (an initcall). Returns the pages
   * released.
   */
  bootMemory(memory: readonly MemblockRegion[], reserved: readonly PfnRange[] = []): number {
    this.checkRegions('free_area_init', memory, true);
    this.checkRegions('memblock_free_all', reserved, false);
    this.freeAreaInit(memory);
    this.buildAllZonelists();
    const n = this.memblockFreeAll(reserved);
    this.setupPerCpuPageset();
    this.initPerZoneWmarkMin();
    return n;
  }

  // ===================================================================
  // watermarks and reserves
  // ===================================================================

  /**
   * `init_per_zone_wmark_min()`: `min_free_kbytes` = sqrt(16 * lowmem KiB),
   * clamped to 128 KiB .. 256 MiB unless the user set a larger value, then
   * the watermarks, the vmstat thresholds and the lowmem reserves. Memory
   * hotplug calls it after every online and offline.
   */
  initPerZoneWmarkMin(): void {
    if (this.tracing) return this.kernel.tracer.invoke('init_per_zone_wmark_min', this, this.initPerZoneWmarkMinImpl);
    return this.initPerZoneWmarkMinImpl();
  }

  private initPerZoneWmarkMinImpl(): void {
    const lowmemKbytes = this.nrFreeBufferPages() * (this.config.pageSize / 1024);
    const newMin = intSqrt(lowmemKbytes * 16);
    if (newMin > this.userMinFreeKb) {
      this.minFreeKb = Math.min(262144, Math.max(128, newMin));
    } else {
      this.kernel.log.warn(
        `min_free_kbytes is not updated to ${newMin} because user defined value ${this.userMinFreeKb} is preferred`,
      );
    }
    this.setupPerZoneWmarks();
    this.refreshZoneStatThresholds();
    this.setupPerZoneLowmemReserve();
  }

  /**
   * The `vm.min_free_kbytes` sysctl: sets `min_free_kbytes` (and
   * `user_min_free_kbytes`) and recomputes the watermarks. -EINVAL below 0.
   */
  setMinFreeKbytes(kbytes: number): void {
    if (this.tracing) return this.kernel.tracer.invoke('min_free_kbytes_sysctl_handler', this, this.setMinFreeKbytesImpl, kbytes);
    return this.setMinFreeKbytesImpl(kbytes);
  }

  private setMinFreeKbytesImpl(kbytes: number): void {
    // proc_dointvec_minmax() with extra1 = SYSCTL_ZERO: an int, 0..INT_MAX.
    if (typeof kbytes !== 'number' || !Number.isInteger(kbytes) || kbytes < 0 || kbytes > 0x7fffffff) {
      throw new KernelError('EINVAL', 'min_free_kbytes must be >= 0');
    }
    this.minFreeKb = kbytes;
    this.userMinFreeKb = kbytes;
    this.setupPerZoneWmarks();
  }

  /**
   * `min_free_kbytes` (vm.min_free_kbytes): computed by
   * {@link MmCore.initPerZoneWmarkMin}, set by {@link MmCore.setMinFreeKbytes};
   * both recompute the watermarks from it.
   */
  get minFreeKbytes(): number {
    return this.minFreeKb;
  }

  /** `user_min_free_kbytes`: the last value the sysctl set (-1: never set). */
  get userMinFreeKbytes(): number {
    return this.userMinFreeKb;
  }

  /**
   * `setup_per_zone_wmarks()`: each zone's `min` is its share (by managed
   * pages among the lowmem zones) of `min_free_kbytes`; `low` and `high` add
   * one and two times max(min/4, managed * watermark_scale_factor / 10000).
   */
  setupPerZoneWmarks(): void {
    if (this.tracing) return this.kernel.tracer.invoke('setup_per_zone_wmarks', this, this.setupPerZoneWmarksImpl);
    return this.setupPerZoneWmarksImpl();
  }

  private setupPerZoneWmarksImpl(): void {
    const pagesMin = Math.floor(this.minFreeKb / 2 ** (this.config.pageShift - 10));
    let lowmem = 0;
    const zones = this.zones();
    for (const z of zones) if (!isHighmem(z)) lowmem += z.managedPages;
    for (const z of zones) {
      let tmp = lowmem === 0 ? 0 : Math.floor((pagesMin * z.managedPages) / lowmem);
      z.watermark[WMARK_MIN] = tmp;
      tmp = Math.max(Math.floor(tmp / 4), multFrac(z.managedPages, this.watermarkScaleFactor, 10000));
      z.watermarkBoost = 0;
      z.watermark[WMARK_LOW] = minWmarkPages(z) + tmp;
      z.watermark[WMARK_HIGH] = minWmarkPages(z) + tmp * 2;
    }
    this.calculateTotalreservePages();
  }

  /**
   * `setup_per_zone_lowmem_reserve()`: zone i keeps (managed pages of the
   * zones above it, up to j) / `lowmem_reserve_ratio[i]` free against an
   * allocation that could have used zone j.
   */
  setupPerZoneLowmemReserve(): void {
    if (this.tracing) return this.kernel.tracer.invoke('setup_per_zone_lowmem_reserve', this, this.setupPerZoneLowmemReserveImpl);
    return this.setupPerZoneLowmemReserveImpl();
  }

  private setupPerZoneLowmemReserveImpl(): void {
    const n = this.config.MAX_NR_ZONES;
    for (const pgdat of this.onlinePgdats()) {
      for (let i = 0; i < n - 1; i++) {
        const zone = pgdat.nodeZones[i]!;
        const ratio = this.lowmemReserveRatio[i] ?? 0;
        const clear = ratio === 0 || zone.managedPages === 0;
        let managed = 0;
        for (let j = i + 1; j < n; j++) {
          managed += pgdat.nodeZones[j]!.managedPages;
          zone.lowmemReserve[j] = clear ? 0 : Math.floor(managed / ratio);
        }
      }
    }
    this.calculateTotalreservePages();
  }

  /** `calculate_totalreserve_pages()`. */
  private calculateTotalreservePages(): void {
    let total = 0;
    for (const pgdat of this.onlinePgdats()) {
      pgdat.totalreservePages = 0;
      for (const zone of pgdat.nodeZones) {
        let max = 0;
        for (let j = zone.zoneIdx; j < zone.lowmemReserve.length; j++) max = Math.max(max, zone.lowmemReserve[j]!);
        max += highWmarkPages(zone);
        if (max > zone.managedPages) max = zone.managedPages;
        pgdat.totalreservePages += max;
        total += max;
      }
    }
    this.totalreservePages = total;
  }

  /**
   * `refresh_zone_stat_thresholds()` (mm/vmstat.c): the per-cpu counter
   * threshold of each populated zone, `calculate_normal_threshold()`:
   * 2 * fls(cpus) * (1 + fls(managed in 128 MiB units)), at most 125.
   */
  refreshZoneStatThresholds(): void {
    const cpus = this.config.nrCpus;
    for (const z of this.zones()) {
      if (!populatedZone(z)) continue;
      const mem = Math.floor(z.managedPages / 2 ** (27 - this.config.pageShift));
      const threshold = Math.min(125, 2 * fls(cpus) * (1 + fls(mem)));
      z.statThreshold = threshold;
      const maxDrift = cpus * threshold;
      const tolerate = lowWmarkPages(z) - minWmarkPages(z);
      if (maxDrift > tolerate) z.percpuDriftMark = highWmarkPages(z) + maxDrift;
    }
  }

  /**
   * `__zone_watermark_ok()`: whether `zone` can give 2^order pages and keep
   * more than `mark` (reduced for ALLOC_HIGH / ALLOC_HARDER) plus its
   * lowmem reserve against `highestZoneidx` free; for order > 0 a block of
   * at least that order must also be free on an allowed list.
   */
  zoneWatermarkOk(zone: Zone, order: number, mark: number, highestZoneidx: number, allocFlags: number, freePages: number = zonePageState(zone, NR_FREE_PAGES)): boolean {
    checkZone('zone_watermark_ok', zone);
    checkUnsigned('zone_watermark_ok', 'order', order, this.config.MAX_ORDER - 1);
    checkUnsigned('zone_watermark_ok', 'mark', mark);
    checkUnsigned('zone_watermark_ok', 'highest_zoneidx', highestZoneidx, this.config.MAX_NR_ZONES - 1);
    checkUnsigned('zone_watermark_ok', 'alloc_flags', allocFlags, 0xffffffff);
    if (!Number.isSafeInteger(freePages)) throw new KernelError('EINVAL', `zone_watermark_ok: invalid free_pages ${String(freePages)}`);
    let min = mark;
    const harder = gfpAny(allocFlags, ALLOC_HARDER + ALLOC_OOM);
    let free = freePages - this.watermarkUnusableFree(zone, order, allocFlags);
    if (gfpHas(allocFlags, ALLOC_HIGH)) min -= Math.floor(min / 2);
    if (harder) min -= gfpHas(allocFlags, ALLOC_OOM) ? Math.floor(min / 2) : Math.floor(min / 4);
    if (free <= min + (zone.lowmemReserve[highestZoneidx] ?? 0)) return false;
    if (order === 0) return true;
    free = 0;
    const fl = zone.freeLists;
    for (let o = order; o < this.config.MAX_ORDER; o++) {
      if (fl.nrFree(o) === 0) continue;
      for (let mt = 0; mt < MIGRATE_PCPTYPES; mt++) if (!fl.isEmpty(o, mt)) return true;
      const cma = this.config.MIGRATE_CMA;
      if (cma !== undefined && gfpHas(allocFlags, ALLOC_CMA) && !fl.isEmpty(o, cma)) return true;
      if (harder && !fl.isEmpty(o, MIGRATE_HIGHATOMIC)) return true;
    }
    return false;
  }

  /** `__zone_watermark_unusable_free()`. */
  private watermarkUnusableFree(zone: Zone, order: number, allocFlags: number): number {
    let unusable = POW2[order]! - 1;
    if (!gfpAny(allocFlags, ALLOC_HARDER + ALLOC_OOM)) unusable += zone.nrReservedHighatomic;
    if (this.config.MIGRATE_CMA !== undefined && !gfpHas(allocFlags, ALLOC_CMA)) unusable += zonePageState(zone, zone.vmStat.length - 1); // NR_FREE_CMA_PAGES
    return unusable;
  }

  /** `zone_watermark_fast()`. */
  private zoneWatermarkFast(zone: Zone, order: number, mark: number, highestZoneidx: number, allocFlags: number): boolean {
    const free = zonePageState(zone, NR_FREE_PAGES);
    if (order === 0) {
      const fast = free - this.watermarkUnusableFree(zone, 0, allocFlags);
      if (fast > mark + (zone.lowmemReserve[highestZoneidx] ?? 0)) return true;
    }
    return this.zoneWatermarkOk(zone, order, mark, highestZoneidx, allocFlags, free);
  }

  // ===================================================================
  // freeing
  // ===================================================================

  /** `__find_buddy_pfn()`: `pfn ^ (1 << order)`. */
  findBuddyPfn(pfn: number, order: number): number {
    checkUnsigned('__find_buddy_pfn', 'pfn', pfn);
    checkUnsigned('__find_buddy_pfn', 'order', order, this.config.MAX_ORDER - 1);
    return this.buddyPfnOf(pfn, order);
  }

  /** {@link MmCore.findBuddyPfn} without the boundary checks, for the allocator's own loops. */
  private buddyPfnOf(pfn: number, order: number): number {
    const s = POW2[order]!;
    return Math.floor(pfn / s) % 2 === 0 ? pfn + s : pfn - s;
  }

  /** `page_is_buddy()`: the buddy is a free block head of this order in the same zone. */
  private pageIsBuddy(pfn: number, buddy: number, order: number): boolean {
    const mm = this.memmap;
    if (mm.buddyOrderOf(buddy) !== order) return false;
    return mm.pageZoneId(pfn) === mm.pageZoneId(buddy);
  }

  private modZoneFreepageState(zone: Zone, nr: number, mt: number): void {
    zone.vmStat[NR_FREE_PAGES]! += nr;
    const cma = this.config.MIGRATE_CMA;
    if (cma !== undefined && mt === cma) zone.vmStat[zone.vmStat.length - 1]! += nr;
  }

  private addToFreeList(zone: Zone, pfn: number, order: number, mt: number, tail: boolean): void {
    if (tail) zone.freeLists.pushTail(pfn, order, mt);
    else zone.freeLists.pushHead(pfn, order, mt);
  }

  /** `del_page_from_free_list()`. */
  private delPageFromFreeList(zone: Zone, pfn: number): void {
    zone.freeLists.remove(pfn);
    this.memmap.clearBuddy(pfn);
  }

  /** `buddy_merge_likely()`: whether the block one order up is about to be complete. */
  private buddyMergeLikely(pfn: number, order: number): boolean {
    if (order >= this.config.MAX_ORDER - 2) return false;
    const buddy = this.buddyPfnOf(pfn, order);
    const combined = Math.min(pfn, buddy);
    const higherBuddy = this.buddyPfnOf(combined, order + 1);
    return this.pageIsBuddy(combined, higherBuddy, order + 1);
  }

  /**
   * `__free_one_page()`: puts the free block `pfn` of `order` into `zone`,
   * merging with its buddy as long as the buddy is free (up to
   * pageblock_order freely; beyond it only between pageblocks that are both
   * isolated or both not), and accounts it in NR_FREE_PAGES unless isolated.
   */
  private freeOnePage(pfn0: number, zone: Zone, order0: number, mt: number, fpi: number): void {
    const c = this.config;
    const isolate = c.MIGRATE_ISOLATE;
    let pfn = pfn0;
    let order = order0;
    let maxOrder = Math.min(c.MAX_ORDER - 1, c.pageblockOrder);
    if (mt !== isolate) this.modZoneFreepageState(zone, POW2[order]!, mt);
    for (;;) {
      let merged = true;
      while (order < maxOrder) {
        const buddy = this.buddyPfnOf(pfn, order);
        if (!this.pageIsBuddy(pfn, buddy, order)) {
          merged = false;
          break;
        }
        this.delPageFromFreeList(zone, buddy);
        pfn = Math.min(pfn, buddy);
        order++;
      }
      if (!merged || order >= c.MAX_ORDER - 1) break;
      if (zone.nrIsolatePageblock > 0) {
        const buddy = this.buddyPfnOf(pfn, order);
        if (this.memmap.hasMemmap(buddy)) {
          const bmt = this.memmap.getPageblockMigratetype(buddy);
          if (mt !== bmt && (mt === isolate || bmt === isolate)) break;
        }
      }
      maxOrder = order + 1;
    }
    this.memmap.setBuddyOrder(pfn, order);
    const toTail = gfpHas(fpi, FPI_TO_TAIL) || this.buddyMergeLikely(pfn, order);
    this.addToFreeList(zone, pfn, order, mt, toTail);
  }

  /** `page_expected_state()` / `page_bad_reason()`: undefined when the page may be freed. */
  private pageBadReason(pfn: number, atPrep: boolean): string | undefined {
    const mm = this.memmap;
    if (mm.pageExpectedState(pfn, atPrep ? this.checkAtPrepMask : this.checkAtFreeMask)) return undefined;
    let reason: string | undefined;
    if (mm.pageMapcountRaw(pfn) !== -1) reason = 'nonzero mapcount';
    if (mm.pageMapping(pfn) !== undefined) reason = 'non-NULL mapping';
    if (mm.pageRefCount(pfn) !== 0) reason = 'nonzero _refcount';
    const lo = mm.pageFlagsLo(pfn);
    if (flagsWordAny(lo, atPrep ? this.checkAtPrepMask : this.checkAtFreeMask)) {
      reason = atPrep ? 'PAGE_FLAGS_CHECK_AT_PREP flag(s) set' : 'PAGE_FLAGS_CHECK_AT_FREE flag(s) set';
    }
    return reason;
  }

  /**
   * `bad_page()`: reports a struct page in an impossible state (rate-limited
   * to 60 reports a minute, as the kernel does) and resets its mapcount.
   */
  private badPage(pfn: number, reason: string): void {
    const mm = this.memmap;
    const hw = this.config.pageflags.PG_hwpoison;
    if (hw !== undefined && mm.testPageFlag(pfn, hw)) {
      mm.pageMapcountReset(pfn);
      return;
    }
    this.reportBadPage(pfn, reason);
    mm.pageMapcountReset(pfn);
  }

  /** `bad_page()`'s report alone (rate-limited), without touching the page. */
  private reportBadPage(pfn: number, reason: string | undefined): void {
    const now = this.kernel.clock.now();
    let show = true;
    if (this.badShown === 60) {
      if (now < this.badResume) {
        this.badUnshown++;
        show = false;
      } else {
        if (this.badUnshown > 0) this.kernel.log.printk(1, `BUG: Bad page state: ${this.badUnshown} messages suppressed`);
        this.badUnshown = 0;
        this.badShown = 0;
      }
    }
    if (show) {
      if (this.badShown++ === 0) this.badResume = now + 60e9;
      this.kernel.log.printk(1, `BUG: Bad page state in process ${this.comm}  pfn:${pfn.toString(16).padStart(5, '0')}`);
      for (const line of this.dumpPageLines(pfn, reason)) this.kernel.log.warn(line);
    }
  }

  /** The text of `bad_page()`'s first line, for a {@link KernelBug}. */
  private badPageText(pfn: number): string {
    return `BUG: Bad page state in process ${this.comm}  pfn:${pfn.toString(16).padStart(5, '0')}`;
  }

  /**
   * Validation of a free at the boundary: `order` must be an integer below
   * MAX_ORDER and `pfn` an unsigned integer with a memmap (KernelError
   * EINVAL). Then, before any reference is dropped, the tail pages of the
   * block are checked as `free_pages_prepare()` would check them: a tail
   * that is still allocated or already free means `order` is not the order
   * the block was allocated with. The kernel reports that with `bad_page()`
   * and leaks the block; the model logs the same report and throws it as a
   * {@link KernelBug}, leaving the buddy allocator and the struct pages as
   * they were.
   */
  private checkFree(fn: string, pfn: number, order: number): void {
    checkUnsigned(fn, 'order', order, this.config.MAX_ORDER - 1);
    checkUnsigned(fn, 'pfn', pfn);
    this.checkMemmapRange(pfn, POW2[order]!);
    const n = POW2[order]!;
    // Tail pages in the expected state pass: check page by page from the first one that is not.
    const first = n > 1 ? this.memmap.firstUnexpectedPage(pfn + 1, n - 1, this.checkAtFreeMask) : -1;
    for (let i = first < 0 ? n : first - pfn; i < n; i++) {
      const reason = this.pageBadReason(pfn + i, false);
      if (reason !== undefined) {
        this.reportBadPage(pfn + i, reason);
        throw new KernelBug(this.badPageText(pfn + i));
      }
    }
  }

  /**
   * Validation of an online at the boundary: every block head (and block
   * end) must still be as `memmap_init_range()` left it for hotplug,
   * `PG_reserved` set, and not in the buddy allocator. A page that is
   * already online would be freed a second time: the kernel's
   * `free_pages_prepare()` reports it with `bad_page()` after
   * `__free_pages_core()` has already counted it as managed. The model
   * logs that report and throws it as a {@link KernelBug} before anything
   * (managed pages, totalram, the free lists) changes.
   */
  private checkOnline(fn: string, startPfn: number, nrPages: number): void {
    checkUnsigned(fn, 'pfn', startPfn);
    checkUnsigned(fn, 'nr_pages', nrPages);
    this.checkMemmapRange(startPfn, nrPages);
    const mm = this.memmap;
    const end = startPfn + nrPages;
    const maxO = this.config.MAX_ORDER - 1;
    for (let pfn = startPfn; pfn < end; ) {
      let order = pfn === 0 ? maxO : Math.min(maxO, ffs0(pfn));
      while (pfn + POW2[order]! > end) order--;
      for (const p of [pfn, pfn + POW2[order]! - 1]) {
        if (!mm.testPageFlag(p, PG_reserved) || pageTypeIs(mm.pageMapcountRaw(p), PG_buddy)) {
          this.reportBadPage(p, this.pageBadReason(p, false));
          throw new KernelBug(this.badPageText(p));
        }
      }
      pfn += POW2[order]!;
    }
  }

  /**
   * `dump_page()` (mm/debug.c), in the model's terms: the page's refcount,
   * mapcount, mapping, index, pfn, its flags with names, and the reason.
   */
  dumpPage(pfn: number, reason?: string): void {
    for (const line of this.dumpPageLines(pfn, reason)) this.kernel.log.warn(line);
  }

  private dumpPageLines(pfn: number, reason: string | undefined): string[] {
    const mm = this.memmap;
    const mapping = mm.pageMapping(pfn);
    const lo = mm.pageFlagsLo(pfn);
    const hi = mm.pageFlagsHi(pfn);
    const flags = hi === 0 ? hex(lo) : `0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')}`;
    const lines = [
      `page:(____ptrval____) refcount:${mm.pageRefCount(pfn)} mapcount:${mm.pageMapcount(pfn)} mapping:${mapping === undefined ? '0000000000000000' : '(____ptrval____)'} index:${hex(mm.pageIndex(pfn))} pfn:${hex(pfn)}`,
      `flags: ${flags}(${formatPageFlags(lo, this.config.pageflags)})`,
    ];
    if (reason !== undefined) lines.push(`page dumped because: ${reason}`);
    return lines;
  }

  /** `free_pages_prepare()`: checks the block and clears its flags; false if it must be leaked. */
  private freePagesPrepare(pfn: number, order: number): boolean {
    const mm = this.memmap;
    const hw = this.config.pageflags.PG_hwpoison;
    if (hw !== undefined && order === 0 && mm.testPageFlag(pfn, hw)) return false;
    let bad = 0;
    const nrFlags = this.config.pageflags.NR_PAGEFLAGS;
    const n = POW2[order]!;
    // Tail pages that are in the expected state with no page flag set need
    // nothing: start the page-by-page checks at the first one that does.
    const first = n > 1 ? mm.firstUnexpectedPage(pfn + 1, n - 1, this.checkAtPrepMask) : -1;
    for (let i = first < 0 ? n : first - pfn; i < n; i++) {
      const reason = this.pageBadReason(pfn + i, false);
      if (reason !== undefined) {
        this.badPage(pfn + i, reason);
        bad++;
        continue;
      }
      mm.clearLowFlags(pfn + i, nrFlags);
    }
    const mapping = mm.pageMapping(pfn);
    if (typeof mapping === 'object' && mapping !== null && (mapping as { anon?: unknown }).anon === true) mm.setPageMapping(pfn, undefined);
    const reason = this.pageBadReason(pfn, false);
    if (reason !== undefined) {
      this.badPage(pfn, reason);
      bad++;
    }
    if (bad > 0) return false;
    mm.clearLowFlags(pfn, nrFlags);
    return true;
  }

  /** `__free_pages_ok()`: frees a block whose refcount already dropped to 0. */
  private freePagesOk(pfn: number, order: number, fpi: number): void {
    if (!this.freePagesPrepare(pfn, order)) return;
    const mt = this.memmap.getPageblockMigratetype(pfn);
    this.freeOnePage(pfn, this.pageZone(pfn), order, mt, fpi);
  }

  /**
   * `__free_pages()`: drops a reference on the block `pfn` of `order`; when it
   * was the last, the block returns to the buddy allocator. (When it was not
   * and the page is not a compound head, the tail halves are freed, as the
   * kernel does for a speculatively referenced non-compound block.)
   */
  freePages(pfn: number, order: number): void {
    this.checkFree('__free_pages', pfn, order);
    if (this.tracing) return this.kernel.tracer.invoke('__free_pages', this, this.freePagesImpl, pfn, order);
    return this.freePagesImpl(pfn, order);
  }

  private freePagesImpl(pfn: number, order: number): void {
    if (this.memmap.putPageTestzero(pfn)) this.freePagesOk(pfn, order, FPI_NONE);
    else if (!this.memmap.testPageFlag(pfn, PG_head)) {
      for (let o = order - 1; o >= 0; o--) this.freePagesOk(pfn + POW2[o]!, o, FPI_NONE);
    }
  }

  /**
   * `pfn_to_online_page(pfn) != NULL` (mm/memory_hotplug.c): whether `pfn`
   * lies in an online memory section. That knowledge belongs to memory
   * hotplug, above this package, which registers the test with
   * {@link MmCore.registerPfnOnline}; until it does (a machine without
   * hotplug), a pfn is online when it has a memmap.
   */
  pfnOnline(pfn: number): boolean {
    return this.pfnOnlineHook !== undefined ? this.pfnOnlineHook(pfn) : this.memmap.hasMemmap(pfn);
  }

  /**
   * Registers the `pfn_to_online_page()` test of the memory-hotplug layer
   * that sits on this mm core, once, as an ops table is installed once:
   * -EBUSY if one is already registered (a second hotplug subsystem on the
   * same mm), -EINVAL if `test` is not a function. {@link MmCore.pfnOnline}
   * answers with it from then on.
   */
  registerPfnOnline(test: (pfn: number) => boolean): void {
    if (typeof test !== 'function') throw new KernelError('EINVAL', 'register_pfn_online: not a function');
    if (this.pfnOnlineHook !== undefined) throw new KernelError('EBUSY', 'register_pfn_online: pfn_to_online_page() is already provided');
    this.pfnOnlineHook = test;
  }

  /**
   * Registers the ZONE_DEVICE path of `put_page()`
   * (`put_devmap_managed_page()` and `put_dev_pagemap()`, mm/memremap.c),
   * once: the memremap subsystem on this mm core registers a handler that
   * answers true when it took the page. -EBUSY if one is already registered
   * (a second memremap subsystem on the same mm would otherwise silently
   * take the first one's pages), -EINVAL if `handler` is not a function.
   * Without a handler, `put_page()` of a ZONE_DEVICE page only drops the
   * reference.
   */
  registerDevmapPut(handler: (pfn: number) => boolean): void {
    if (typeof handler !== 'function') throw new KernelError('EINVAL', 'register_devmap_put: not a function');
    if (this.devmapPutHook !== undefined) throw new KernelError('EBUSY', 'register_devmap_put: the ZONE_DEVICE put_page() path is already provided');
    this.devmapPutHook = handler;
  }

  /**
   * `put_page()`: drops a reference; a page whose count reaches 0 is freed
   * (order 0). ZONE_DEVICE pages go to the handler registered with
   * {@link MmCore.registerDevmapPut} instead.
   */
  putPage(pfn: number): void {
    const dev = this.config.ZONE_DEVICE;
    if (dev !== undefined && this.memmap.pageZonenum(pfn) === dev) {
      if (this.devmapPutHook !== undefined && this.devmapPutHook(pfn)) return;
      this.memmap.putPageTestzero(pfn);
      return;
    }
    if (this.memmap.putPageTestzero(pfn)) this.freePagesOk(pfn, 0, FPI_NONE);
  }

  /**
   * `__free_pages_core()`: hands a never-allocated block to the buddy
   * allocator: every page loses `PG_reserved` and gets refcount 0, the zone's
   * managed count grows, and the block is freed to the tail of its list.
   */
  freePagesCore(pfn: number, order: number): void {
    if (this.tracing) return this.kernel.tracer.invoke('__free_pages_core', this, this.freePagesCoreImpl, pfn, order);
    return this.freePagesCoreImpl(pfn, order);
  }

  private freePagesCoreImpl(pfn: number, order: number): void {
    const n = POW2[order]!;
    this.memmap.updateRange(pfn, n, { clearFlags: [PG_reserved], refcount: 0 });
    this.pageZone(pfn).managedPages += n;
    this.freePagesOk(pfn, order, FPI_TO_TAIL + FPI_SKIP_KASAN_POISON);
  }

  /**
   * `generic_online_page()`: the default `online_page_callback` of memory
   * hotplug: `__free_pages_core()` and `totalram_pages_add()`.
   */
  genericOnlinePage(pfn: number, order: number): void {
    checkUnsigned('generic_online_page', 'order', order, this.config.MAX_ORDER - 1);
    this.checkOnline('generic_online_page', pfn, POW2[order]!);
    if (this.tracing) return this.kernel.tracer.invoke('generic_online_page', this, this.genericOnlinePageImpl, pfn, order);
    return this.genericOnlinePageImpl(pfn, order);
  }

  private genericOnlinePageImpl(pfn: number, order: number): void {
    this.freePagesCoreImpl(pfn, order);
    this.totalramPages += POW2[order]!;
  }

  /**
   * `generic_online_page()` on every naturally aligned chunk of
   * `[startPfn, startPfn + nrPages)` (at most MAX_ORDER-1), as
   * `online_pages_range()` calls it, in one bulk pass: the struct pages of
   * the range are prepared at once (whole sections in O(1)) and only the
   * chunk heads are touched individually. The pages must be as
   * `memmap_init_range()` left them.
   */
  genericOnlinePages(startPfn: number, nrPages: number): void {
    this.checkOnline('online_pages_range', startPfn, nrPages);
    if (this.tracing) return this.kernel.tracer.invoke('online_pages_range', this, this.genericOnlinePagesImpl, startPfn, nrPages);
    return this.genericOnlinePagesImpl(startPfn, nrPages);
  }

  private genericOnlinePagesImpl(startPfn: number, nrPages: number): void {
    this.freeRangeCore(startPfn, startPfn + nrPages, true);
  }

  /**
   * `free_reserved_page()` (include/linux/mm.h): hands one page that boot
   * code reserved (in memblock: a boot-time memmap, initmem, firmware
   * tables) to the buddy allocator, which never had it:
   * `ClearPageReserved()`, `init_page_count()`, `__free_page()`, then
   * `adjust_managed_page_count(page, 1)` (the zone's managed pages and
   * `totalram_pages` grow by one). The page must have a memmap (else nothing
   * changes and the "page fault" KernelBug of the memmap is thrown); a page
   * that is not in the state of a reserved page is reported by `bad_page()`
   * when it is freed, as in the kernel. An inline function: not traced
   * itself, its `__free_pages` and `adjust_managed_page_count` are.
   */
  freeReservedPage(pfn: number): void {
    const mm = this.memmap;
    mm.clearPageReserved(pfn);
    mm.initPageCount(pfn);
    this.freePages(pfn, 0);
    this.adjustManagedPageCount(pfn, 1);
  }

  /**
   * {@link MmCore.freeReservedPage} for each of the `nrPages` pages from
   * `pfn`, in order: the loop with which `free_pagetable()`
   * (arch/x86/mm/init_64.c) gives a boot-time vmemmap block back when its
   * section is removed, and the shape of sparse-vmemmap's
   * `VmemmapPageAllocator.freeReservedPages`. Every pfn must have a memmap:
   * that is checked first, and on failure nothing changes (-EINVAL for a bad
   * range, the memmap's page-fault KernelBug for a pfn without one).
   */
  freeReservedPages(pfn: number, nrPages: number): void {
    this.checkMemmapRange(pfn, nrPages);
    for (let i = 0; i < nrPages; i++) this.freeReservedPage(pfn + i);
  }

  /**
   * `free_reserved_area(start, end, poison, s)` (mm/page_alloc.c): frees the
   * reserved pages of the physical range `[PAGE_ALIGN(start), end &
   * PAGE_MASK)` one by one with `free_reserved_page()`, first filling each
   * with the byte `poison` when it is within 0..0xff (the kernel's
   * `(unsigned int)poison <= 0xFF`: pass -1 for no poisoning), and, when `s`
   * is given and pages were freed, logs `Freeing <s> memory: <n>K`. Returns
   * the number of pages freed. (The kernel takes direct-map virtual
   * addresses; the model has no direct map, so these are physical.) Every
   * page must have a memmap: checked first, and on failure nothing changes.
   */
  freeReservedArea(start: number, end: number, poison: number, s?: string): number {
    if (!Number.isInteger(poison) || poison < -0x80000000 || poison > 0x7fffffff) {
      throw new KernelError('EINVAL', `free_reserved_area: invalid poison ${String(poison)}`);
    }
    if (s !== undefined && typeof s !== 'string') throw new KernelError('EINVAL', `free_reserved_area: invalid name ${String(s)}`);
    if (this.tracing) return this.kernel.tracer.invoke('free_reserved_area', this, this.freeReservedAreaImpl, start, end, poison, s);
    return this.freeReservedAreaImpl(start, end, poison, s);
  }

  private freeReservedAreaImpl(start: number, end: number, poison: number, s: string | undefined): number {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < 0) {
      throw new KernelError('EINVAL', `free_reserved_area: invalid range ${start}-${end}`);
    }
    const ps = this.config.pageSize;
    const first = Math.ceil(start / ps);
    const last = Math.floor(end / ps);
    const pages = Math.max(0, last - first);
    this.checkMemmapRange(first, pages);
    const fill = poison >= 0 && poison <= 0xff && poison !== 0 ? new Uint8Array(ps).fill(poison) : undefined;
    for (let pfn = first; pfn < last; pfn++) {
      if (poison === 0) this.physmem.clearPage(pfn);
      else if (fill !== undefined) this.physmem.write(pfn * ps, fill);
      this.freeReservedPage(pfn);
    }
    if (pages > 0 && s !== undefined) this.kernel.log.info(`Freeing ${s} memory: ${(pages * ps) / 1024}K`);
    return pages;
  }

  /** Throws (before any change) unless every pfn of the range has a memmap. */
  private checkMemmapRange(pfn: number, nrPages: number): void {
    if (!Number.isSafeInteger(pfn) || pfn < 0 || !Number.isSafeInteger(nrPages) || nrPages < 0) {
      throw new KernelError('EINVAL', `invalid pfn range ${pfn} + ${nrPages}`);
    }
    if (nrPages === 0) return;
    const mm = this.memmap;
    const last = mm.pfnToSectionNr(pfn + nrPages - 1);
    for (let nr = mm.pfnToSectionNr(pfn); nr <= last; nr++) {
      if (!mm.hasSection(nr)) {
        const at = Math.max(pfn, nr * this.config.pagesPerSection);
        throw new KernelBug(`BUG: unable to handle page fault: no struct page for pfn ${hex(at)} (section ${nr} has no memmap)`);
      }
    }
  }

  /**
   * `adjust_managed_page_count()`: adds `count` (may be negative) to the
   * zone of `pfn`'s managed pages and to `totalram_pages`.
   */
  adjustManagedPageCount(pfn: number, count: number): void {
    checkUnsigned('adjust_managed_page_count', 'pfn', pfn);
    if (typeof count !== 'number' || !Number.isSafeInteger(count)) {
      throw new KernelError('EINVAL', `adjust_managed_page_count: invalid count ${String(count)}`);
    }
    if (this.tracing) return this.kernel.tracer.invoke('adjust_managed_page_count', this, this.adjustManagedPageCountImpl, pfn, count);
    return this.adjustManagedPageCountImpl(pfn, count);
  }

  private adjustManagedPageCountImpl(pfn: number, count: number): void {
    this.pageZone(pfn).managedPages += count;
    this.totalramPages += count;
  }

  // ===================================================================
  // allocation
  // ===================================================================

  /**
   * `alloc_pages(gfp, order)`: 2^order contiguous pages from the running
   * CPU's node (falling back to other nodes and lower zones), or undefined.
   * The first page has refcount 1.
   */
  allocPages(gfp: number, order: number): number | undefined {
    checkAlloc('alloc_pages', gfp, order);
    if (this.tracing) return this.kernel.tracer.invoke('alloc_pages', this, this.allocPagesImpl, gfp, order);
    return this.allocPagesInternal(gfp, order, this.numaNodeId);
  }

  private allocPagesImpl(gfp: number, order: number): number | undefined {
    return this.allocPagesInternal(gfp, order, this.numaNodeId);
  }

  /**
   * `alloc_pages_node(nid, gfp, order)`: `NUMA_NO_NODE` means the running
   * CPU's node; `__GFP_THISNODE` forbids falling back to other nodes.
   */
  allocPagesNode(nid: number, gfp: number, order: number): number | undefined {
    if (nid !== NUMA_NO_NODE) checkUnsigned('alloc_pages_node', 'nid', nid);
    checkAlloc('alloc_pages_node', gfp, order);
    if (this.tracing) return this.kernel.tracer.invoke('alloc_pages_node', this, this.allocPagesNodeImpl, nid, gfp, order);
    return this.allocPagesNodeImpl(nid, gfp, order);
  }

  private allocPagesNodeImpl(nid: number, gfp: number, order: number): number | undefined {
    return this.allocPagesInternal(gfp, order, nid === NUMA_NO_NODE ? this.numaNodeId : nid);
  }

  /** `__alloc_pages()`: the allocator's entry point. */
  private allocPagesInternal(gfp: number, order: number, preferredNid: number): number | undefined {
    if (!Number.isInteger(order) || order < 0 || order >= this.config.MAX_ORDER) return undefined;
    if (!this.pgdats.has(preferredNid)) throw new KernelBug(`alloc on node ${preferredNid}, which has no pglist_data`);
    const ac: AllocContext = {
      zonelist: this.nodeZonelist(preferredNid, gfp),
      highestZoneidx: gfpZone(this.config, gfp),
      migratetype: this.pageGroupByMobilityDisabled ? MIGRATE_UNMOVABLE : gfpMigratetype(gfp),
      preferredZone: undefined,
    };
    if (this.shouldFailAllocPage(gfp, order)) return undefined;
    ac.preferredZone = firstZoneAtMost(ac.zonelist, ac.highestZoneidx);
    let allocFlags = ALLOC_WMARK_LOW;
    allocFlags = gfpOr(allocFlags, this.allocFlagsNofragment(ac.preferredZone, gfp));
    if (this.config.MIGRATE_CMA !== undefined && ac.migratetype === MIGRATE_MOVABLE) allocFlags = gfpOr(allocFlags, ALLOC_CMA);
    const page = this.getPageFromFreelist(gfp, order, allocFlags, ac);
    if (page >= 0) return page;
    return this.allocPagesSlowpath(gfp, order, ac);
  }

  /** `should_fail_alloc_page()`: the `fail_page_alloc` fault point. */
  private shouldFailAllocPage(gfp: number, order: number): boolean {
    const f = this.failPageAlloc;
    if (order < f.minOrder) return false;
    if (gfpHas(gfp, __GFP_NOFAIL)) return false;
    if (f.ignoreGfpHighmem && gfpHas(gfp, __GFP_HIGHMEM)) return false;
    if (f.ignoreGfpReclaim && gfpHas(gfp, __GFP_DIRECT_RECLAIM)) return false;
    return this.kernel.faults.shouldFail('fail_page_alloc', POW2[order]!);
  }

  /** `alloc_flags_nofragment()`. */
  private allocFlagsNofragment(zone: Zone | undefined, gfp: number): number {
    let f = gfpHas(gfp, __GFP_KSWAPD_RECLAIM) ? ALLOC_KSWAPD : 0;
    const dma32 = this.config.ZONE_DMA32;
    if (dma32 === undefined || zone === undefined) return f;
    if (zone.zoneIdx !== this.config.ZONE_NORMAL) return f;
    if (this.onlineNodes.size > 1 && !populatedZone(zone.zonePgdat.nodeZones[dma32]!)) return f;
    f = gfpOr(f, ALLOC_NOFRAGMENT);
    return f;
  }

  /** `gfp_to_alloc_flags()`. */
  private gfpToAllocFlags(gfp: number): number {
    let f = ALLOC_WMARK_MIN + ALLOC_CPUSET;
    if (gfpHas(gfp, __GFP_HIGH)) f = gfpOr(f, ALLOC_HIGH);
    if (gfpHas(gfp, __GFP_KSWAPD_RECLAIM)) f = gfpOr(f, ALLOC_KSWAPD);
    if (gfpHas(gfp, __GFP_ATOMIC)) {
      if (!gfpHas(gfp, __GFP_NOMEMALLOC)) f = gfpOr(f, ALLOC_HARDER);
      f = gfpClear(f, ALLOC_CPUSET);
    }
    if (this.config.MIGRATE_CMA !== undefined && gfpMigratetype(gfp) === MIGRATE_MOVABLE) f = gfpOr(f, ALLOC_CMA);
    return f;
  }

  /**
   * `__alloc_pages_slowpath()` without reclaim, compaction or OOM: retry at
   * the min watermark with the caller's privileges, then (for
   * `__GFP_MEMALLOC`) without watermarks; then fail and report.
   */
  private allocPagesSlowpath(gfp: number, order: number, ac: AllocContext): number | undefined {
    let allocFlags = this.gfpToAllocFlags(gfp);
    let page = this.getPageFromFreelist(gfp, order, allocFlags, ac);
    if (page >= 0) return page;
    if (gfpHas(gfp, __GFP_MEMALLOC) && !gfpHas(gfp, __GFP_NOMEMALLOC)) {
      allocFlags = ALLOC_NO_WATERMARKS;
      ac.zonelist = this.nodeZonelist(this.numaNodeId, gfp);
      ac.preferredZone = firstZoneAtMost(ac.zonelist, ac.highestZoneidx);
      page = this.getPageFromFreelist(gfp, order, allocFlags, ac);
      if (page >= 0) return page;
    }
    if (gfpHas(gfp, __GFP_NOFAIL)) {
      // __alloc_pages_cpuset_fallback(): the kernel would then loop forever.
      page = this.getPageFromFreelist(gfp, order, ALLOC_HARDER + ALLOC_CPUSET, ac);
      if (page >= 0) return page;
    }
    if (!gfpHas(gfp, __GFP_NOWARN)) this.warnAlloc(gfp, order);
    return undefined;
  }

  /** `warn_alloc()`, rate-limited like `nopage_rs` (10 per 5 s of simulated time). */
  private warnAlloc(gfp: number, order: number): void {
    const now = this.kernel.clock.now();
    if (this.warnStart === 0 && this.warnBurst === 0) this.warnStart = now;
    if (now - this.warnStart >= 5e9) {
      if (this.warnMissed > 0) this.kernel.log.warn(`warn_alloc: ${this.warnMissed} callbacks suppressed`);
      this.warnStart = now;
      this.warnBurst = 0;
      this.warnMissed = 0;
    }
    if (this.warnBurst >= 10) {
      this.warnMissed++;
      return;
    }
    this.warnBurst++;
    const mode = gfp === 0 ? '0' : hex(gfp);
    this.kernel.log.warn(`${this.comm}: page allocation failure: order:${order}, mode:${mode}(${formatGfpFlags(gfp)}), nodemask=(null)`);
  }

  /**
   * `get_page_from_freelist()`: walks the zonelist for a zone that passes
   * its watermark check and takes the block from it.
   */
  private getPageFromFreelist(gfp: number, order: number, allocFlags0: number, ac: AllocContext): number {
    let allocFlags = allocFlags0;
    for (;;) {
      const noFallback = gfpHas(allocFlags, ALLOC_NOFRAGMENT);
      let retry = false;
      for (const zone of ac.zonelist) {
        if (zone.zoneIdx > ac.highestZoneidx) continue;
        if (noFallback && this.onlineNodes.size > 1 && ac.preferredZone !== undefined && zone !== ac.preferredZone) {
          if (zone.node !== ac.preferredZone.node) {
            allocFlags = gfpClear(allocFlags, ALLOC_NOFRAGMENT);
            retry = true;
            break;
          }
        }
        if (!gfpHas(allocFlags, ALLOC_NO_WATERMARKS)) {
          const mark = wmarkPages(zone, allocFlags % (ALLOC_WMARK_MASK + 1)); // allocFlags & ALLOC_WMARK_MASK
          if (!this.zoneWatermarkFast(zone, order, mark, ac.highestZoneidx, allocFlags)) continue;
        }
        const page = this.rmqueue(ac.preferredZone ?? zone, zone, order, allocFlags, ac.migratetype);
        if (page >= 0) {
          this.prepNewPage(page, order, gfp, allocFlags);
          return page;
        }
      }
      if (retry) continue;
      if (noFallback) {
        allocFlags = gfpClear(allocFlags, ALLOC_NOFRAGMENT);
        continue;
      }
      return -1;
    }
  }

  /** `rmqueue()` (no per-cpu lists): takes a block from the zone and accounts it. */
  private rmqueue(preferred: Zone, zone: Zone, order: number, allocFlags: number, mt: number): number {
    let page = -1;
    let fromMt = mt;
    for (;;) {
      page = -1;
      if (order > 0 && gfpHas(allocFlags, ALLOC_HARDER)) {
        page = this.rmqueueSmallest(zone, order, MIGRATE_HIGHATOMIC);
        if (page >= 0) fromMt = MIGRATE_HIGHATOMIC;
      }
      if (page < 0) {
        page = this.rmqueueInternal(zone, order, mt, allocFlags);
        fromMt = mt;
      }
      if (page < 0 || !this.checkNewPages(page, order)) break;
    }
    if (page < 0) return -1;
    this.modZoneFreepageState(zone, -(POW2[order]!), fromMt);
    this.zoneStatistics(preferred, zone);
    return page;
  }

  /** `zone_statistics()`: numa_hit/miss/foreign/local/other. */
  private zoneStatistics(preferred: Zone, z: Zone): void {
    if (!this.config.numa) return;
    const local = z.node !== this.numaNodeId ? NUMA_OTHER : NUMA_LOCAL;
    if (z.node === preferred.node) z.vmNumaStat[NUMA_HIT]! += 1;
    else {
      z.vmNumaStat[NUMA_MISS]! += 1;
      preferred.vmNumaStat[NUMA_FOREIGN]! += 1;
    }
    z.vmNumaStat[local]! += 1;
  }

  /** `check_new_pages()`: true if a page of the block is bad (the block is then leaked). */
  private checkNewPages(pfn: number, order: number): boolean {
    // the first page of the block not in the expected state, found per section
    const mm = this.memmap;
    const p = mm.firstUnexpectedPage(pfn, POW2[order]!, this.checkAtPrepMask);
    if (p < 0) return false;
    const hw = this.config.pageflags.PG_hwpoison;
    if (hw !== undefined && mm.testPageFlag(p, hw)) mm.pageMapcountReset(p);
    else this.badPage(p, this.pageBadReason(p, true) ?? 'PAGE_FLAGS_CHECK_AT_PREP flag(s) set');
    return true;
  }

  /** `__rmqueue()`. */
  private rmqueueInternal(zone: Zone, order: number, mt: number, allocFlags: number): number {
    for (;;) {
      const page = this.rmqueueSmallest(zone, order, mt);
      if (page >= 0) return page;
      if (!this.rmqueueFallback(zone, order, mt, allocFlags)) return -1;
    }
  }

  /** `__rmqueue_smallest()`: the smallest free block of `mt` that fits, split down to `order`. */
  private rmqueueSmallest(zone: Zone, order: number, mt: number): number {
    const fl = zone.freeLists;
    for (let cur = order; cur < this.config.MAX_ORDER; cur++) {
      const page = fl.first(cur, mt);
      if (page < 0) continue;
      this.delPageFromFreeList(zone, page);
      this.expand(zone, page, order, cur, mt);
      return page;
    }
    return -1;
  }

  /** `expand()`: returns the upper halves of a split block to their free lists. */
  private expand(zone: Zone, pfn: number, low: number, high0: number, mt: number): void {
    let high = high0;
    let size = POW2[high]!;
    while (high > low) {
      high--;
      size /= 2;
      this.addToFreeList(zone, pfn + size, high, mt, false);
      this.memmap.setBuddyOrder(pfn + size, high);
    }
  }

  /** The `fallbacks[]` table: where a migratetype may steal from, in order. */
  private fallbacks(mt: number): readonly number[] {
    if (mt === MIGRATE_UNMOVABLE) return [MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE];
    if (mt === MIGRATE_MOVABLE) return [MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE];
    if (mt === MIGRATE_RECLAIMABLE) return [MIGRATE_UNMOVABLE, MIGRATE_MOVABLE];
    return [];
  }

  /** `can_steal_fallback()`. */
  private canStealFallback(order: number, startMt: number): boolean {
    const pbo = this.config.pageblockOrder;
    if (order >= pbo) return true;
    return order >= pbo / 2 || startMt === MIGRATE_RECLAIMABLE || startMt === MIGRATE_UNMOVABLE || this.pageGroupByMobilityDisabled;
  }

  /** `find_suitable_fallback()`: the migratetype to steal from, or -1; sets `fbCanSteal`. */
  private findSuitableFallback(zone: Zone, order: number, mt: number, onlyStealable: boolean): number {
    this.fbCanSteal = false;
    const fl = zone.freeLists;
    if (fl.nrFree(order) === 0) return -1;
    for (const f of this.fallbacks(mt)) {
      if (fl.isEmpty(order, f)) continue;
      if (this.canStealFallback(order, mt)) this.fbCanSteal = true;
      if (!onlyStealable) return f;
      if (this.fbCanSteal) return f;
    }
    return -1;
  }

  /**
   * `__rmqueue_fallback()`: steals the largest suitable free block of another
   * migratetype (whole pageblocks when it can); true if something was moved.
   */
  private rmqueueFallback(zone: Zone, order: number, startMt: number, allocFlags: number): boolean {
    if (this.tracing) return this.kernel.tracer.invoke('__rmqueue_fallback', this, this.rmqueueFallbackImpl, zone, order, startMt, allocFlags);
    return this.rmqueueFallbackImpl(zone, order, startMt, allocFlags);
  }

  private rmqueueFallbackImpl(zone: Zone, order: number, startMt: number, allocFlags: number): boolean {
    const minOrder = gfpHas(allocFlags, ALLOC_NOFRAGMENT) ? this.config.pageblockOrder : order;
    let cur = this.config.MAX_ORDER - 1;
    let fbMt = -1;
    let canSteal = false;
    for (; cur >= minOrder; cur--) {
      fbMt = this.findSuitableFallback(zone, cur, startMt, false);
      if (fbMt !== -1) break;
    }
    if (fbMt === -1) return false;
    canSteal = this.fbCanSteal;
    if (!canSteal && startMt === MIGRATE_MOVABLE && cur > order) {
      // find_smallest: the smallest block that can be stolen from at all
      for (cur = order; cur < this.config.MAX_ORDER; cur++) {
        fbMt = this.findSuitableFallback(zone, cur, startMt, false);
        if (fbMt !== -1) break;
      }
      if (fbMt === -1) throw new KernelBug('VM_BUG_ON(current_order == MAX_ORDER)');
      canSteal = this.fbCanSteal;
    }
    const page = zone.freeLists.first(cur, fbMt);
    this.stealSuitableFallback(zone, page, startMt, canSteal);
    return true;
  }

  /**
   * `steal_suitable_fallback()`: moves the whole pageblock to `startType` if
   * enough of it is free or alike, else only the one block.
   */
  private stealSuitableFallback(zone: Zone, pfn: number, startType: number, wholeBlock: boolean): void {
    const mm = this.memmap;
    const currentOrder = mm.buddyOrder(pfn);
    const oldType = mm.getPageblockMigratetype(pfn);
    const pbo = this.config.pageblockOrder;
    const single = (): void => zone.freeLists.moveTail(pfn, startType);
    if (oldType === MIGRATE_HIGHATOMIC) return single();
    if (currentOrder >= pbo) {
      this.changePageblockRange(pfn, currentOrder, startType);
      return single();
    }
    if (!wholeBlock) return single();
    const freePages = this.moveFreepagesBlock(zone, pfn, startType, true);
    const movable = this.numMovable;
    let alike = 0;
    if (startType === MIGRATE_MOVABLE) alike = movable;
    else if (oldType === MIGRATE_MOVABLE) alike = this.config.pageblockNrPages - (freePages + movable);
    if (freePages === 0) return single();
    if (freePages + alike >= 2 ** (pbo - 1) || this.pageGroupByMobilityDisabled) mm.setPageblockMigratetype(pfn, startType);
  }

  /** `change_pageblock_range()`. */
  private changePageblockRange(pfn: number, startOrder: number, mt: number): void {
    const nb = this.config.pageblockNrPages;
    const blocks = 2 ** (startOrder - this.config.pageblockOrder);
    for (let i = 0; i < blocks; i++) this.memmap.setPageblockMigratetype(pfn + i * nb, mt);
  }

  /**
   * `move_freepages_block()`: moves every free block of the pageblock
   * containing `pfn` to the `mt` lists (tail); returns the pages moved. With
   * `countMovable` the LRU pages met are counted in `numMovable`.
   */
  moveFreepagesBlock(zone: Zone, pfn: number, mt: number, countMovable: boolean = false): number {
    checkZone('move_freepages_block', zone);
    if (typeof countMovable !== 'boolean') throw new KernelError('EINVAL', `move_freepages_block: invalid num_movable ${String(countMovable)}`);
    checkUnsigned('move_freepages_block', 'pfn', pfn);
    checkUnsigned('move_freepages_block', 'migratetype', mt, this.config.MIGRATE_TYPES - 1);
    const nb = this.config.pageblockNrPages;
    let start = pfn - (pfn % nb);
    const end = start + nb - 1;
    if (!zoneSpansPfn(zone, start)) start = pfn;
    if (!zoneSpansPfn(zone, end)) return 0;
    return this.moveFreepages(zone, start, end, mt, countMovable);
  }

  /** `move_freepages()`. */
  private moveFreepages(zone: Zone, start: number, end: number, mt: number, countMovable: boolean): number {
    const mm = this.memmap;
    let moved = 0;
    this.numMovable = 0;
    if (countMovable) {
      for (let pfn = start; pfn <= end; ) {
        if (!mm.hasMemmap(pfn)) {
          pfn++;
          continue;
        }
        if (!mm.pageBuddy(pfn)) {
          if (mm.testPageFlag(pfn, PG_lru)) this.numMovable++;
          pfn++;
          continue;
        }
        const order = mm.buddyOrder(pfn);
        zone.freeLists.moveTail(pfn, mt);
        pfn += POW2[order]!;
        moved += POW2[order]!;
      }
      return moved;
    }
    let pfn = start;
    for (;;) {
      pfn = mm.findFirst(pfn, end + 1, (_lo, mc) => pageTypeIs(mc, PG_buddy));
      if (pfn < 0) break;
      const order = mm.buddyOrder(pfn);
      zone.freeLists.moveTail(pfn, mt);
      pfn += POW2[order]!;
      moved += POW2[order]!;
    }
    return moved;
  }

  /**
   * `prep_new_page()` / `post_alloc_hook()`: `private` 0, refcount 1, the
   * contents zeroed for `__GFP_ZERO`, `PG_head` for `__GFP_COMP`.
   */
  private prepNewPage(pfn: number, order: number, gfp: number, _allocFlags: number): void {
    const mm = this.memmap;
    mm.initAllocatedPage(pfn);
    if (gfpHas(gfp, __GFP_ZERO)) {
      const n = POW2[order]!;
      for (let i = 0; i < n; i++) this.physmem.clearPage(pfn + i);
    }
    if (order > 0 && gfpHas(gfp, __GFP_COMP)) mm.setPageFlag(pfn, PG_head);
  }

  // ===================================================================
  // pageblocks and isolation (mm/page_isolation.c)
  // ===================================================================

  /** `get_pageblock_migratetype()`. */
  getPageblockMigratetype(pfn: number): number {
    return this.memmap.getPageblockMigratetype(pfn);
  }

  /** `set_pageblock_migratetype()` (page_group_by_mobility_disabled forces UNMOVABLE). */
  setPageblockMigratetype(pfn: number, migratetype: number): void {
    checkUnsigned('set_pageblock_migratetype', 'pfn', pfn);
    checkUnsigned('set_pageblock_migratetype', 'migratetype', migratetype, this.config.MIGRATE_TYPES - 1);
    let mt = migratetype;
    if (this.pageGroupByMobilityDisabled && mt < MIGRATE_PCPTYPES) mt = MIGRATE_UNMOVABLE;
    this.memmap.setPageblockMigratetype(pfn, mt);
  }

  /**
   * `__isolate_free_page()`: takes a free block out of the allocator (the
   * watermark must allow it unless its pageblock is isolated); returns the
   * number of pages taken, 0 if refused.
   */
  isolateFreePage(pfn: number, order: number): number {
    checkUnsigned('__isolate_free_page', 'pfn', pfn);
    checkUnsigned('__isolate_free_page', 'order', order, this.config.MAX_ORDER - 1);
    if (this.tracing) return this.kernel.tracer.invoke('__isolate_free_page', this, this.isolateFreePageImpl, pfn, order);
    return this.isolateFreePageImpl(pfn, order);
  }

  private isolateFreePageImpl(pfn: number, order: number): number {
    return iso.isolateFreePage(this, this.ops, pfn, order);
  }

  /** `__putback_isolated_page()`: returns a block taken by {@link MmCore.isolateFreePage}. */
  putbackIsolatedPage(pfn: number, order: number, migratetype: number): void {
    checkUnsigned('__putback_isolated_page', 'pfn', pfn);
    checkUnsigned('__putback_isolated_page', 'order', order, this.config.MAX_ORDER - 1);
    checkUnsigned('__putback_isolated_page', 'migratetype', migratetype, this.config.MIGRATE_TYPES - 1);
    if (this.tracing) return this.kernel.tracer.invoke('__putback_isolated_page', this, this.putbackIsolatedPageImpl, pfn, order, migratetype);
    return this.putbackIsolatedPageImpl(pfn, order, migratetype);
  }

  private putbackIsolatedPageImpl(pfn: number, order: number, migratetype: number): void {
    iso.putbackIsolatedPage(this, this.ops, pfn, order, migratetype);
  }

  /**
   * `has_unmovable_pages()`: the first page of the pageblock at `pfn` that
   * would stop its isolation (reserved, or in use and neither LRU nor
   * movable, outside ZONE_MOVABLE), or undefined.
   */
  hasUnmovablePages(zone: Zone, pfn: number, migratetype: number, flags: number): number | undefined {
    checkZone('has_unmovable_pages', zone);
    checkUnsigned('has_unmovable_pages', 'pfn', pfn);
    checkUnsigned('has_unmovable_pages', 'migratetype', migratetype, this.config.MIGRATE_TYPES - 1);
    checkUnsigned('has_unmovable_pages', 'flags', flags, 0xffffffff);
    if (this.tracing) return this.kernel.tracer.invoke('has_unmovable_pages', this, this.hasUnmovablePagesImpl, zone, pfn, migratetype, flags);
    return this.hasUnmovablePagesImpl(zone, pfn, migratetype, flags);
  }

  private hasUnmovablePagesImpl(zone: Zone, pfn: number, migratetype: number, flags: number): number | undefined {
    return iso.hasUnmovablePages(this, this.ops, zone, pfn, migratetype, flags);
  }

  /**
   * `start_isolate_page_range()`: marks every pageblock of `[startPfn,
   * endPfn)` (pageblock aligned) MIGRATE_ISOLATE and moves their free pages to
   * the isolate lists, where the allocator never looks and NR_FREE_PAGES does
   * not count them. -EBUSY if a pageblock holds an unmovable page or is
   * already isolated; the pageblocks isolated so far are then restored, with
   * `migratetype`, as the kernel's undo loop does.
   */
  startIsolatePageRange(startPfn: number, endPfn: number, migratetype: number, flags: number = 0): void {
    checkUnsigned('start_isolate_page_range', 'start_pfn', startPfn);
    checkUnsigned('start_isolate_page_range', 'end_pfn', endPfn);
    if (this.tracing) return this.kernel.tracer.invoke('start_isolate_page_range', this, this.startIsolateImpl, startPfn, endPfn, migratetype, flags);
    return this.startIsolateImpl(startPfn, endPfn, migratetype, flags);
  }

  private startIsolateImpl(startPfn: number, endPfn: number, migratetype: number, flags: number): void {
    iso.startIsolatePageRange(this, this.ops, startPfn, endPfn, migratetype, flags);
  }

  /**
   * `undo_isolate_page_range()`: gives every isolated pageblock of the range
   * back `migratetype` and its free pages back to the allocator (merging
   * blocks of pageblock order and above with their buddies).
   */
  undoIsolatePageRange(startPfn: number, endPfn: number, migratetype: number): void {
    checkUnsigned('undo_isolate_page_range', 'start_pfn', startPfn);
    checkUnsigned('undo_isolate_page_range', 'end_pfn', endPfn);
    checkUnsigned('undo_isolate_page_range', 'migratetype', migratetype, this.config.MIGRATE_TYPES - 1);
    if (this.tracing) return this.kernel.tracer.invoke('undo_isolate_page_range', this, this.undoIsolateImpl, startPfn, endPfn, migratetype);
    return this.undoIsolateImpl(startPfn, endPfn, migratetype);
  }

  private undoIsolateImpl(startPfn: number, endPfn: number, migratetype: number): void {
    iso.undoIsolatePageRange(this, this.ops, startPfn, endPfn, migratetype);
  }

  /**
   * `test_pages_isolated()`: -EBUSY unless every pageblock of the range is
   * isolated and every page is free (or, with MEMORY_OFFLINE, hwpoisoned or
   * an unreferenced PageOffline page).
   */
  testPagesIsolated(startPfn: number, endPfn: number, flags: number = 0): void {
    checkUnsigned('test_pages_isolated', 'start_pfn', startPfn);
    checkUnsigned('test_pages_isolated', 'end_pfn', endPfn);
    if (this.tracing) return this.kernel.tracer.invoke('test_pages_isolated', this, this.testIsolatedImpl, startPfn, endPfn, flags);
    return this.testIsolatedImpl(startPfn, endPfn, flags);
  }

  private testIsolatedImpl(startPfn: number, endPfn: number, flags: number): void {
    iso.testPagesIsolated(this, this.ops, startPfn, endPfn, flags);
  }

  /**
   * `__offline_isolated_pages()`: takes every free block of an isolated range
   * off the free lists for good; returns the pages of the range that were
   * not free blocks (hwpoisoned or PageOffline), which the kernel counts as
   * already offline.
   */
  offlineIsolatedPages(startPfn: number, endPfn: number): number {
    checkUnsigned('__offline_isolated_pages', 'start_pfn', startPfn);
    checkUnsigned('__offline_isolated_pages', 'end_pfn', endPfn);
    if (this.tracing) return this.kernel.tracer.invoke('__offline_isolated_pages', this, this.offlineIsolatedImpl, startPfn, endPfn);
    return this.offlineIsolatedImpl(startPfn, endPfn);
  }

  private offlineIsolatedImpl(startPfn: number, endPfn: number): number {
    return iso.offlineIsolatedPages(this, this.ops, startPfn, endPfn);
  }

  /**
   * `is_free_buddy_page(page)` (mm/page_alloc.c): whether `pfn` lies in a
   * free block of the buddy allocator (a PageBuddy head at `pfn` aligned
   * down to some order, of that order or more). KernelError EINVAL for a
   * pfn without a struct page.
   */
  isFreeBuddyPage(pfn: number): boolean {
    checkUnsigned('is_free_buddy_page', 'pfn', pfn);
    if (!this.memmap.hasMemmap(pfn)) throw new KernelError('EINVAL', `is_free_buddy_page: pfn 0x${pfn.toString(16)} has no struct page`);
    return this.buddyHeadOf(pfn) >= 0;
  }

  /** The head of the free block covering `pfn`, or -1 (the search of `is_free_buddy_page()`). */
  private buddyHeadOf(pfn: number): number {
    const mm = this.memmap;
    for (let o = 0; o < this.config.MAX_ORDER; o++) {
      const head = pfn - (pfn % POW2[o]!);
      if (!mm.hasMemmap(head)) return -1;
      if (mm.pageBuddy(head) && mm.buddyOrder(head) >= o) return head;
    }
    return -1;
  }

  /**
   * `take_page_off_buddy(page)` (mm/page_alloc.c, v5.13): takes the single
   * page `pfn` out of the free block that holds it, for memory failure: the
   * block leaves its free list, `break_down_buddy_pages()` gives every other
   * part of it back to the list of its migratetype, and NR_FREE_PAGES drops
   * by one (unless the pageblock is isolated). The page is left with
   * refcount 0, no page type and no flags changed. Returns false, changing
   * nothing, when the page is not free (the search stops at the first
   * referenced head, as the kernel's does). KernelError EINVAL for a pfn
   * without a struct page.
   */
  takePageOffBuddy(pfn: number): boolean {
    checkUnsigned('take_page_off_buddy', 'pfn', pfn);
    if (!this.memmap.hasMemmap(pfn)) throw new KernelError('EINVAL', `take_page_off_buddy: pfn 0x${pfn.toString(16)} has no struct page`);
    if (this.tracing) return this.kernel.tracer.invoke('take_page_off_buddy', this, this.takePageOffBuddyImpl, pfn);
    return this.takePageOffBuddyImpl(pfn);
  }

  private takePageOffBuddyImpl(pfn: number): boolean {
    const mm = this.memmap;
    const zone = this.pageZone(pfn);
    for (let o = 0; o < this.config.MAX_ORDER; o++) {
      const head = pfn - (pfn % POW2[o]!);
      if (!mm.hasMemmap(head)) return false;
      if (mm.pageBuddy(head) && mm.buddyOrder(head) >= o) {
        const order = mm.buddyOrder(head);
        const mt = mm.getPageblockMigratetype(head);
        this.delPageFromFreeList(zone, head);
        this.breakDownBuddyPages(zone, head, pfn, order, mt);
        if (mt !== this.config.MIGRATE_ISOLATE) this.modZoneFreepageState(zone, -1, mt);
        return true;
      }
      if (mm.pageRefCount(head) > 0) return false;
    }
    return false;
  }

  /**
   * `break_down_buddy_pages(zone, page, target, 0, high, migratetype)`: halves
   * the block `head` of order `high` down to the page `target`, each half
   * that does not hold `target` going back to the free list as a block of
   * its order.
   */
  private breakDownBuddyPages(zone: Zone, head: number, target: number, high0: number, mt: number): void {
    let page = head;
    let high = high0;
    let size = POW2[high]!;
    while (high > 0) {
      high--;
      size /= 2;
      const upper = target >= page + size;
      const buddy = upper ? page : page + size;
      this.addToFreeList(zone, buddy, high, mt, false);
      this.memmap.setBuddyOrder(buddy, high);
      if (upper) page += size;
    }
  }

  // ===================================================================
  // /proc
  // ===================================================================

  /** `/proc/zoneinfo`. */
  zoneinfo(): string {
    return zoneinfoShow(this);
  }

  /** `/proc/buddyinfo`. */
  buddyinfo(): string {
    return buddyinfoShow(this);
  }

  /** `/proc/pagetypeinfo`. */
  pagetypeinfo(): string {
    return pagetypeinfoShow(this);
  }

  // ===================================================================
  // physical memory helpers
  // ===================================================================

  /** `clear_page()` on a page frame. */
  clearPage(pfn: number): void {
    checkUnsigned('clear_page', 'pfn', pfn);
    this.physmem.clearPage(pfn);
  }

  /** `copy_highpage(to, from)`. */
  copyHighpage(to: number, from: number): void {
    checkUnsigned('copy_highpage', 'to', to);
    checkUnsigned('copy_highpage', 'from', from);
    this.physmem.copyHighpage(to, from);
  }

  /**
   * The free block containing `pfn` (its head pfn and order), or undefined
   * if the page is not free. An inspection helper: the head is PageBuddy
   * with an order that covers `pfn`.
   */
  freeBlockOf(pfn: number): { readonly head: number; readonly order: number } | undefined {
    checkUnsigned('free_block_of', 'pfn', pfn);
    const mm = this.memmap;
    for (let o = 0; o < this.config.MAX_ORDER; o++) {
      const head = pfn - (pfn % POW2[o]!);
      if (mm.hasMemmap(head) && mm.pageBuddy(head) && mm.buddyOrder(head) === o) return { head: head, order: o };
    }
    return undefined;
  }
}
