/**
 * memremap_pages(): giving device memory a memmap, and taking it back.
 *
 * RAM gets its `struct page`s at boot or when it is hot-added and onlined.
 * Device memory — persistent memory, GPU memory, a PCI BAR — gets them from
 * its driver: the driver fills in a {@link DevPagemap} and calls
 * `memremap_pages()`, which, for each range of the pagemap
 * (`pagemap_range()`):
 *
 * 1. refuses a range whose first or last pfn already belongs to a live
 *    pagemap ("Conflicting mapping in same section", -ENOMEM) or that
 *    intersects System RAM (-ENXIO);
 * 2. records the pagemap in `pgmap_array` over the range, so that
 *    `get_dev_pagemap(pfn)` finds it;
 * 3. checks the range against what the platform can plug
 *    (`mhp_range_allowed()`, -EINVAL);
 * 4. adds the sections and their memmap through memory hotplug — with
 *    `add_pages()` for device-private memory, which the CPU cannot address
 *    and which therefore gets no linear mapping, with `arch_add_memory()`
 *    for everything else — placing the memmap of range 0 in the device's
 *    `vmem_altmap` when the driver gave one;
 * 5. moves the range into the node's ZONE_DEVICE (its span grows, its
 *    present pages stay 0: no device page is ever given to the buddy
 *    allocator);
 * 6. initializes every struct page (`memmap_init_zone_device()`): zone and
 *    node links, `PG_reserved`, `page->pgmap`, refcount 1 — except the pages
 *    at the start of range 0 that hold the memmap itself;
 * 7. takes one pagemap reference per initialized page.
 *
 * ```
 *   range 0 with an altmap (reserve = 2):
 *   base_pfn
 *   |res|<-- free: memmap of the whole range -->|<------ data pages ------->|
 *   |   |   (initialized by move_pfn_range_to_  |  page->pgmap = pgmap,     |
 *   |   |    zone(), not device pages)          |  refcount 1, PG_reserved  |
 *                                               ^ pfn_first(pgmap, 0)
 *                                                 = base_pfn + vmem_altmap_offset()
 * ```
 *
 * If range i fails, the ranges 0..i-1 already mapped are torn down again and
 * the error returned: nothing is left behind.
 *
 * The life of a ZONE_DEVICE page (v5.13). A device page is *free* at
 * refcount 1, not 0. Users take references with `get_page()`; `put_page()`
 * on a *devmap-managed* page (device-private or fs-dax, while such a
 * pagemap exists) calls `free_devmap_managed_page()` when the count drops
 * back to 1: the driver's `page_free()` for device-private memory, a wake-up
 * of whoever waits for the page to be idle for fs-dax. Only when the count
 * reaches 0 — which happens at teardown — does the page drop its pagemap
 * reference (`__put_page()` → `put_dev_pagemap()`); it never returns to the
 * buddy allocator.
 *
 * Teardown (`memunmap_pages()`) kills the pagemap's reference (so
 * `get_dev_pagemap()` fails from now on), drops the initial reference of
 * every page (pages nobody holds go to 0 and release their pagemap
 * reference), waits until the pagemap's count is zero — every page that was
 * in use has been put — and only then unmaps each range. The kernel sleeps
 * in that wait; the model returns a `Promise` that settles when the last
 * reference is dropped, so "device memory can be removed at will by
 * userspace unbinding the driver" (Dan Williams' 2015 ZONE_DEVICE RFC) — but not before its pages are
 * free.
 *
 * Mirrors mm/memremap.c, the ZONE_DEVICE parts of include/linux/mm.h and
 * mm/swap.c (`put_page()`, `put_devmap_managed_page()`, `__put_page()`), and
 * `memmap_init_zone_device()` of mm/page_alloc.c, all as of Linux v5.13.
 */
import type { Devres, Kernel, Printk, Tracer } from '@zonedev/kernel';
import {
  Device,
  checkPhysRange,
  checkUnsigned,
  devToNode,
  IORES_DESC_NONE,
  IORESOURCE_SYSTEM_RAM,
  KernelBug,
  KernelError,
  PercpuRef,
  REGION_DISJOINT,
  REGION_MIXED,
  devmAddActionOrReset,
  devmReleaseAction,
  rangeLen,
  setBit,
} from '@zonedev/kernel';
import type { MhpParams, Pgprot } from '@zonedev/memory-hotplug';
import type { StructPage, Zone } from '@zonedev/mmzone';
import { MIGRATE_MOVABLE, PG_reserved, PG_waiters, makeStructPage, setPgdatNrZones, setPgdatSpan, setZoneSpan } from '@zonedev/mmzone';
import type { VmemAltmap } from '@zonedev/sparse-vmemmap';
import { SUBSECTION_SHIFT, vmemAltmapFree as sparseVmemAltmapFree, vmemAltmapOffset as sparseVmemAltmapOffset } from '@zonedev/sparse-vmemmap';
import type {
  MemremapArch,
  MemremapConfig,
  MemremapHotplug,
  MemremapMm,
  ZoneDevicePageStore,
} from './interfaces.js';
import {
  DevPagemap,
  MEMORY_DEVICE_FS_DAX,
  MEMORY_DEVICE_GENERIC,
  MEMORY_DEVICE_PCI_P2PDMA,
  MEMORY_DEVICE_PRIVATE,
  pgmapAltmap,
} from './pagemap.js';
import { PgmapArray } from './pgmap-array.js';
import type { PfnT } from './pfn-t.js';
import { checkPfnT, pfnTHasPage, pfnTToPhys } from './pfn-t.js';

/**
 * Options of a {@link Memremap}: the machine's layers below, the
 * architecture and the Kconfig.
 * @public
 */
export interface MemremapOptions {
  /** The machine's kernel services: iomem, log, tracer, fault points. */
  readonly kernel: Kernel;
  /** mmzone's core (nodes, zones, struct pages). */
  readonly mm: MemremapMm;
  /** memory-hotplug (adding and removing sections, zones). */
  readonly hotplug: MemremapHotplug;
  /** The architecture (compat alignment, `PAGE_OFFSET`). */
  readonly arch?: MemremapArch;
  /** The Kconfig options of memremap. */
  readonly config?: MemremapConfig;
}

/**
 * Where a pagemap is in its life.
 * - `live`: mapped; `get_dev_pagemap()` finds it.
 * - `dying`: `memunmap_pages()` has killed it and waits for its pages.
 * @public
 */
export type PagemapPhase = 'live' | 'dying';

interface MapState {
  phase: PagemapPhase;
  teardown: Promise<void> | undefined;
  devres: Devres | undefined;
}

interface SpanSnapshot {
  readonly zone: Zone | undefined;
  readonly zoneStartPfn: number;
  readonly spannedPages: number;
  readonly nodeStartPfn: number;
  readonly nodeSpannedPages: number;
  readonly nrZones: number;
  readonly maxPfn: number;
  readonly maxLowPfn: number;
}

/** `%#llx`: `0x` and lower-case hex, or `0` for zero. */
function hexAlt(n: number): string {
  return n === 0 ? '0' : `0x${n.toString(16)}`;
}

/** Refuses (EINVAL) a `pgmap` argument that is not a {@link DevPagemap}. */
function checkPgmap(fn: string, pgmap: unknown): asserts pgmap is DevPagemap {
  if (!(pgmap instanceof DevPagemap)) throw new KernelError('EINVAL', `${fn}: invalid pgmap ${String(pgmap)}`);
}

/** Refuses (EINVAL) a `pfn` argument that is not an unsigned integer below 2^53. */
function checkPfn(fn: string, pfn: unknown): asserts pfn is number {
  checkUnsigned(fn, 'pfn', pfn);
}

/** Refuses (EINVAL) an altmap argument that is not a `vmem_altmap` with unsigned integer fields. */
function checkAltmap(fn: string, altmap: unknown): asserts altmap is VmemAltmap {
  const a = altmap as Record<string, unknown> | null;
  const ok = typeof a === 'object' && a !== null && ['basePfn', 'endPfn', 'reserve', 'free', 'align', 'alloc'].every((k) => Number.isSafeInteger(a[k]) && (a[k] as number) >= 0);
  if (!ok) throw new KernelError('EINVAL', `${fn}: invalid altmap ${String(altmap)}`);
}

/** Refuses (EINVAL) a `dev` argument that is not a {@link Device}. */
function checkDevice(fn: string, dev: unknown): asserts dev is Device {
  if (!(dev instanceof Device)) throw new KernelError('EINVAL', `${fn}: invalid device ${String(dev)}`);
}

function isThenable(v: unknown): v is Promise<void> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/** x86_64's `PAGE_OFFSET` with 4-level paging. */
const X86_64_PAGE_OFFSET = 0xffff888000000000n;

/** The `WARN()` banner the kernel prints before the message. */
const CUT_HERE = '------------[ cut here ]------------';

/**
 * The memremap subsystem of one machine: `pgmap_array`, the
 * `devmap_managed_key`, and the functions of mm/memremap.c that work on
 * them, plus the ZONE_DEVICE page reference rules of include/linux/mm.h.
 * @public
 */
export class Memremap {
  /** The machine's kernel services. */
  readonly kernel: Kernel;
  /** The mm core below. */
  readonly mm: MemremapMm;
  /** Memory hotplug below. */
  readonly hotplug: MemremapHotplug;
  /** The architecture. */
  readonly arch: MemremapArch;
  /** `IS_ENABLED(CONFIG_ZONE_DEVICE)` (from the mm configuration). */
  readonly zoneDevice: boolean;
  /** `IS_ENABLED(CONFIG_DEVICE_PRIVATE)`. */
  readonly devicePrivate: boolean;
  /** `IS_ENABLED(CONFIG_FS_DAX)`. */
  readonly fsDax: boolean;
  /** `IS_ENABLED(CONFIG_FS_DAX_LIMITED)`. */
  readonly fsDaxLimited: boolean;
  /** `IS_ENABLED(CONFIG_PCI_P2PDMA)`. */
  readonly pciP2pdma: boolean;
  /** `IS_ENABLED(CONFIG_DEV_PAGEMAP_OPS)`: selected by DEVICE_PRIVATE, and by FS_DAX unless FS_DAX_LIMITED. */
  readonly devPagemapOps: boolean;

  private readonly tracer: Tracer;
  private readonly log: Printk;
  private readonly memmap: ZoneDevicePageStore;
  private readonly pageShift: number;
  private readonly pageSize: number;
  private readonly zoneDeviceIdx: number;
  /** `pgmap_array`. */
  private readonly pgmapArray = new PgmapArray<DevPagemap>();
  /** `devmap_managed_key`: a static key counting the devmap-managed pagemaps. */
  private managedKey = 0;
  private readonly maps = new Map<DevPagemap, MapState>();
  private readonly warned = new Set<string>();
  /** Waiters of `wait_var_event(&page->_refcount, ...)`, by pfn. */
  private readonly varWaiters = new Map<number, (() => void)[]>();
  /** `wake_up_var()` calls on page refcounts, for inspection. */
  private wakeUps = 0;

  /**
   * Composes memremap on the machine's layers below and, with
   * `CONFIG_ZONE_DEVICE`, registers its ZONE_DEVICE `put_page()` path with
   * the mm core: KernelError EBUSY if another memremap already did (one
   * memremap per mm core).
   */
  constructor(options: MemremapOptions) {
    this.kernel = options.kernel;
    this.mm = options.mm;
    this.hotplug = options.hotplug;
    this.arch = options.arch ?? {};
    this.tracer = options.kernel.tracer;
    this.log = options.kernel.log;
    this.memmap = options.mm.memmap;
    const c = options.config ?? {};
    const dev = options.mm.config.ZONE_DEVICE;
    this.zoneDevice = dev !== undefined;
    this.zoneDeviceIdx = dev ?? -1;
    this.devicePrivate = this.zoneDevice && (c.devicePrivate ?? true);
    this.fsDax = c.fsDax ?? true;
    this.fsDaxLimited = c.fsDaxLimited ?? false;
    this.pciP2pdma = this.zoneDevice && (c.pciP2pdma ?? true);
    this.devPagemapOps = this.devicePrivate || (this.zoneDevice && this.fsDax && !this.fsDaxLimited);
    this.pageShift = options.mm.config.pageShift;
    this.pageSize = 2 ** this.pageShift;
    if (this.zoneDevice) {
      // put_page() of a ZONE_DEVICE page, wherever it is issued, takes memremap's path.
      options.mm.registerDevmapPut((pfn: number): boolean => {
        this.putZoneDevicePage(pfn);
        return true;
      });
    }
  }

  /** For the function-graph tracer. */
  get traceName(): string {
    return 'memremap';
  }

  // =====================================================================
  // small helpers
  // =====================================================================

  private physPfn(addr: number): number {
    return Math.floor(addr / this.pageSize);
  }

  /** `WARN(1, msg)`: the cut-here banner and the message, at KERN_WARNING. */
  private warn(msg: string): void {
    this.log.warn(CUT_HERE);
    this.log.warn(msg);
  }

  /** `WARN_ONCE(1, msg)`: {@link Memremap.warn} the first time `site` warns on this machine. */
  private warnOnce(site: string, msg: string): void {
    if (this.warned.has(site)) return;
    this.warned.add(site);
    this.warn(msg);
  }

  /** `__va(addr)`: the direct-map address of a physical address. */
  private va(addr: number): bigint {
    return (this.arch.pageOffset ?? X86_64_PAGE_OFFSET) + BigInt(addr);
  }

  /** `pfn_first(pgmap, range_id)`: the first pfn with a device struct page (after range 0's altmap). */
  private pfnFirst(pgmap: DevPagemap, rangeId: number): number {
    const pfn = this.physPfn(pgmap.ranges[rangeId]!.start);
    if (rangeId !== 0) return pfn;
    return pfn + this.vmemAltmapOffsetImpl(pgmapAltmap(pgmap));
  }

  /** `pfn_end(pgmap, range_id)`: one past the last pfn of the range. */
  private pfnEnd(pgmap: DevPagemap, rangeId: number): number {
    const r = pgmap.ranges[rangeId]!;
    return this.physPfn(r.start + rangeLen(r));
  }

  // =====================================================================
  // memremap_compat_align, vmem_altmap_offset / vmem_altmap_free
  // =====================================================================

  /**
   * `memremap_compat_align()`: the alignment a namespace needs so that it
   * can be switched between `memremap()` (any page) and `memremap_pages()`
   * (subsections) without violating the architecture's constraint: the
   * architecture's answer (`CONFIG_ARCH_HAS_MEMREMAP_COMPAT_ALIGN`), else
   * `SUBSECTION_SIZE` (2 MiB); `PAGE_SIZE` without `CONFIG_ZONE_DEVICE`
   * ("all archs can remap a single page"). Mirrors mm/memremap.c.
   */
  memremapCompatAlign(): number {
    if (this.tracer.enabled) return this.tracer.invoke('memremap_compat_align', this, this.memremapCompatAlignImpl);
    return this.memremapCompatAlignImpl();
  }

  private memremapCompatAlignImpl(): number {
    if (!this.zoneDevice) return this.pageSize;
    return this.arch.memremapCompatAlign?.() ?? 2 ** SUBSECTION_SHIFT;
  }

  /**
   * `vmem_altmap_offset(altmap)`: the pfns from `base_pfn` where
   * `pfn_to_page()` is not valid, `reserve + free` (sparse-vmemmap's
   * definition); 0 for no altmap, and always 0 without
   * `CONFIG_ZONE_DEVICE`. Mirrors mm/memremap.c.
   */
  vmemAltmapOffset(altmap: VmemAltmap | undefined): number {
    if (this.tracer.enabled) return this.tracer.invoke('vmem_altmap_offset', this, this.vmemAltmapOffsetImpl, altmap);
    return this.vmemAltmapOffsetImpl(altmap);
  }

  private vmemAltmapOffsetImpl(altmap: VmemAltmap | undefined): number {
    if (altmap !== undefined) checkAltmap('vmem_altmap_offset', altmap);
    if (!this.zoneDevice || altmap === undefined) return 0;
    return sparseVmemAltmapOffset(altmap);
  }

  /**
   * `vmem_altmap_free(altmap, nr_pfns)`: gives memmap pfns back to the
   * altmap (sparse-vmemmap's definition); does nothing without
   * `CONFIG_ZONE_DEVICE`. Mirrors mm/memremap.c.
   */
  vmemAltmapFree(altmap: VmemAltmap, nrPfns: number): void {
    checkAltmap('vmem_altmap_free', altmap);
    checkUnsigned('vmem_altmap_free', 'nr_pfns', nrPfns);
    if (!this.zoneDevice) return;
    sparseVmemAltmapFree(altmap, nrPfns);
  }

  // =====================================================================
  // devmap_managed_key
  // =====================================================================

  /** The count of `devmap_managed_key` (enabled while > 0): live device-private and fs-dax pagemaps. */
  get devmapManagedKey(): number {
    return this.managedKey;
  }

  /** `devmap_managed_enable_get()`: device-private and fs-dax pagemaps enable the key (CONFIG_DEV_PAGEMAP_OPS). */
  private devmapManagedEnableGet(pgmap: DevPagemap): void {
    if (!this.devPagemapOps) return;
    if (pgmap.type === MEMORY_DEVICE_PRIVATE || pgmap.type === MEMORY_DEVICE_FS_DAX) this.managedKey += 1;
  }

  /** `devmap_managed_enable_put()`. */
  private devmapManagedEnablePut(pgmap: DevPagemap): void {
    if (!this.devPagemapOps) return;
    if (pgmap.type === MEMORY_DEVICE_PRIVATE || pgmap.type === MEMORY_DEVICE_FS_DAX) this.managedKey -= 1;
  }

  // =====================================================================
  // pgmap_array
  // =====================================================================

  /** `pgmap_array_delete(range)`: erases the index over a range. */
  private pgmapArrayDelete(firstPfn: number, lastPfn: number): void {
    this.pgmapArray.storeRange(firstPfn, lastPfn, undefined);
  }

  /**
   * The intervals of `pgmap_array`, ascending: what `get_dev_pagemap()`
   * looks up (for inspection).
   */
  pgmapArrayEntries(): { readonly firstPfn: number; readonly lastPfn: number; readonly pgmap: DevPagemap }[] {
    return this.pgmapArray.entries().map(([firstPfn, lastPfn, pgmap]) => ({ firstPfn, lastPfn, pgmap }));
  }

  /** The pagemaps mapped on this machine (live or dying), in mapping order. */
  pagemaps(): DevPagemap[] {
    return [...this.maps.keys()];
  }

  /** Where `pgmap` is in its life, or `undefined` when it is not mapped. */
  pagemapPhase(pgmap: DevPagemap): PagemapPhase | undefined {
    checkPgmap('pagemap_phase', pgmap);
    return this.maps.get(pgmap)?.phase;
  }

  /**
   * The pending teardown of a dying pagemap: the promise
   * {@link Memremap.memunmapPages} returned (also for a teardown started by
   * devres when its driver was unbound); `undefined` when none is pending.
   */
  memunmapCompletion(pgmap: DevPagemap): Promise<void> | undefined {
    checkPgmap('memunmap_completion', pgmap);
    return this.maps.get(pgmap)?.teardown;
  }

  // =====================================================================
  // memremap_pages / pagemap_range
  // =====================================================================

  /**
   * `memremap_pages(pgmap, nid)`: gives every range of `pgmap` a memmap in
   * ZONE_DEVICE of node `nid` (`numa_mem_id()` when negative) and returns
   * `__va()` of the first range's start. Per type: device-private needs
   * `CONFIG_DEVICE_PRIVATE`, `ops.migrateToRam`, `ops.pageFree` and an
   * `owner`, and is added without a linear mapping (`add_pages()`); fs-dax
   * is refused under `CONFIG_FS_DAX_LIMITED`; P2PDMA is mapped uncached; an
   * invalid type is warned about and mapped like GENERIC (as v5.13 does).
   * Without a caller `ref` an internal percpu_ref is set up (and
   * `ops.kill`/`ops.cleanup` are then refused); with one, both are required.
   * Throws KernelError: EINVAL ("nr_range must be specified", the type
   * checks, "Missing reference count teardown definition", a caller ref
   * that is not live (the model's check of note 3), "altmap not
   * supported for multiple ranges", a range `mhp_range_allowed()` refuses,
   * and from memory hotplug), ENOMEM ("Conflicting mapping in same
   * section", or the index allocation), ENXIO (a range intersects System
   * RAM), EEXIST (sections already present). On failure every range mapped
   * so far is unmapped again and nothing is left behind — except that, as in
   * the kernel, a caller-provided ref has been killed and cleaned up (note
   * 3 of `devm_memremap_pages()`). ENXIO without `CONFIG_ZONE_DEVICE` (the
   * kernel does not build the function). Mirrors mm/memremap.c.
   */
  memremapPages(pgmap: DevPagemap, nid: number): bigint {
    if (this.tracer.enabled) return this.tracer.invoke('memremap_pages', this, this.memremapPagesImpl, pgmap, nid);
    return this.memremapPagesImpl(pgmap, nid);
  }

  private memremapPagesImpl(pgmap: DevPagemap, nidIn: number): bigint {
    checkPgmap('memremap_pages', pgmap);
    if (typeof nidIn !== 'number' || !Number.isSafeInteger(nidIn)) throw new KernelError('EINVAL', `memremap_pages: invalid nid ${String(nidIn)}`);
    if (!this.zoneDevice) throw new KernelError('ENXIO', 'memremap_pages: CONFIG_ZONE_DEVICE is not set');
    const nrRange = pgmap.nrRange;
    if (!nrRange) {
      this.warnOnce('nr_range', 'nr_range must be specified');
      throw new KernelError('EINVAL', 'nr_range must be specified');
    }
    this.checkRanges(pgmap, nrRange);
    let pgprot: Pgprot = 'PAGE_KERNEL';
    switch (pgmap.type) {
      case MEMORY_DEVICE_PRIVATE:
        if (!this.devicePrivate) {
          this.warn('Device private memory not supported');
          throw new KernelError('EINVAL', 'Device private memory not supported');
        }
        if (pgmap.ops?.migrateToRam === undefined) {
          this.warn('Missing migrate_to_ram method');
          throw new KernelError('EINVAL', 'Missing migrate_to_ram method');
        }
        if (pgmap.ops.pageFree === undefined) {
          this.warn('Missing page_free method');
          throw new KernelError('EINVAL', 'Missing page_free method');
        }
        if (pgmap.owner === undefined || pgmap.owner === null) {
          this.warn('Missing owner');
          throw new KernelError('EINVAL', 'Missing owner');
        }
        break;
      case MEMORY_DEVICE_FS_DAX:
        if (this.fsDaxLimited) {
          this.warn('File system DAX not supported');
          throw new KernelError('EINVAL', 'File system DAX not supported');
        }
        break;
      case MEMORY_DEVICE_GENERIC:
        break;
      case MEMORY_DEVICE_PCI_P2PDMA:
        pgprot = 'PAGE_KERNEL_NOCACHE';
        break;
      default:
        // v5.13 warns and carries on (mapping it like GENERIC); the model
        // warns the same words and refuses, changing nothing.
        this.warn(`Invalid pgmap type ${String(pgmap.type)}`);
        throw new KernelError('EINVAL', `Invalid pgmap type ${String(pgmap.type)}`);
    }
    this.checkDataPages(pgmap);
    const params: MhpParams = { altmap: pgmapAltmap(pgmap), pgprot, forDevice: true };

    if (pgmap.ref === undefined) {
      if (pgmap.ops !== undefined && (pgmap.ops.kill !== undefined || pgmap.ops.cleanup !== undefined)) {
        throw new KernelError('EINVAL', 'memremap_pages: kill/cleanup given without a caller-provided ref');
      }
      pgmap.done.reinit();
      pgmap.internalRef = new PercpuRef(() => this.devPagemapPercpuRelease(pgmap), 0, {
        name: 'dev_pagemap_percpu_release',
        tracer: this.tracer,
      });
      pgmap.ref = pgmap.internalRef;
    } else if (pgmap.ops?.kill === undefined || pgmap.ops.cleanup === undefined) {
      this.warn('Missing reference count teardown definition');
      throw new KernelError('EINVAL', 'Missing reference count teardown definition');
    } else if (pgmap.ref.isExited() || pgmap.ref.isDying()) {
      // Note 3 of devm_memremap_pages(): the ref "must be 'live' on entry".
      // The kernel would take page references on a dead ref; the model refuses.
      throw new KernelError('EINVAL', 'memremap_pages: pgmap->ref is not live');
    }

    this.devmapManagedEnableGet(pgmap);

    const nid = nidIn < 0 ? this.mm.numaNodeId : nidIn;
    const spans = this.snapshotSpans(nid);
    // pgmap->nr_range counts the ranges mapped so far: how many to unwind.
    pgmap.nrRange = 0;
    let error: unknown;
    for (let i = 0; i < nrRange; i++) {
      try {
        this.pagemapRange(pgmap, params, i, nid);
      } catch (e) {
        error = e;
        break;
      }
      pgmap.nrRange++;
    }
    if (error !== undefined) {
      this.memunmapAfterFailure(pgmap);
      pgmap.nrRange = nrRange;
      this.restoreSpans(spans);
      throw error;
    }
    this.maps.set(pgmap, { phase: 'live', teardown: undefined, devres: undefined });
    return this.va(pgmap.ranges[0]!.start);
  }

  /**
   * The model's refusal of an altmap that leaves the first range no data
   * page (reserve + free covering the whole range): v5.13's
   * `memremap_pages()` would take a negative count of page references.
   * Refused with -ENXIO in the words of `nd_pfn_init()`
   * (drivers/nvdimm/pfn_devs.c), which refuses a layout whose data offset
   * is not below the namespace size.
   */
  private checkDataPages(pgmap: DevPagemap): void {
    if (pgmapAltmap(pgmap) === undefined || this.pfnFirst(pgmap, 0) < this.pfnEnd(pgmap, 0)) return;
    throw new KernelError('ENXIO', `${pgmap.traceName} unable to satisfy requested alignment`);
  }

  /** The model's sanity check of the ranges (the kernel trusts its callers). */
  private checkRanges(pgmap: DevPagemap, nrRange: number): void {
    if (!Number.isInteger(nrRange) || nrRange < 0 || nrRange > pgmap.ranges.length) {
      throw new KernelError('EINVAL', `memremap_pages: nr_range ${nrRange} but ${pgmap.ranges.length} ranges`);
    }
    if (!Number.isSafeInteger(pgmap.flags) || pgmap.flags < 0) {
      throw new KernelError('EINVAL', `memremap_pages: invalid flags ${String(pgmap.flags)}`);
    }
    if (pgmapAltmap(pgmap) !== undefined) checkAltmap('memremap_pages', pgmap.altmap);
    for (let i = 0; i < nrRange; i++) {
      const r = pgmap.ranges[i]!;
      if (typeof r !== 'object' || r === null) throw new KernelError('EINVAL', `memremap_pages: invalid range ${String(r)}`);
      if (!Number.isSafeInteger(r.start) || !Number.isSafeInteger(r.end) || r.start < 0 || r.end < r.start) {
        throw new KernelError('EINVAL', `memremap_pages: invalid range ${r.start}-${r.end}`);
      }
    }
  }

  /**
   * The spans a failed `memremap_pages()` must give back. The kernel never
   * shrinks ZONE_DEVICE ("Zone shrinking code cannot properly deal with
   * ZONE_DEVICE", `remove_pfn_range_from_zone()`) and leaves `max_pfn`
   * raised; the model's unwind restores them, so that a failed call leaves
   * no trace.
   */
  private snapshotSpans(nid: number): SpanSnapshot {
    const pgdat = this.mm.nodeData(nid);
    const zone = pgdat?.nodeZones[this.zoneDeviceIdx];
    return {
      zone,
      zoneStartPfn: zone?.zoneStartPfn ?? 0,
      spannedPages: zone?.spannedPages ?? 0,
      nodeStartPfn: pgdat?.nodeStartPfn ?? 0,
      nodeSpannedPages: pgdat?.nodeSpannedPages ?? 0,
      nrZones: pgdat?.nrZones ?? 0,
      maxPfn: this.hotplug.maxPfn,
      maxLowPfn: this.hotplug.maxLowPfn,
    };
  }

  private restoreSpans(s: SpanSnapshot): void {
    const zone = s.zone;
    if (zone !== undefined) {
      setZoneSpan(zone, s.zoneStartPfn, s.spannedPages);
      const pgdat = zone.zonePgdat;
      setPgdatSpan(pgdat, s.nodeStartPfn, s.nodeSpannedPages);
      setPgdatNrZones(pgdat, s.nrZones);
    }
    this.hotplug.restoreEndOfMemoryVars(s.maxPfn, s.maxLowPfn);
  }

  /** `pagemap_range(pgmap, params, range_id, nid)`: maps one range (steps 1-7 of the module comment). */
  private pagemapRange(pgmap: DevPagemap, params: MhpParams, rangeId: number, nid: number): void {
    if (this.tracer.enabled) {
      this.tracer.invoke('pagemap_range', this, this.pagemapRangeImpl, pgmap, params, rangeId, nid);
      return;
    }
    this.pagemapRangeImpl(pgmap, params, rangeId, nid);
  }

  private pagemapRangeImpl(pgmap: DevPagemap, params: MhpParams, rangeId: number, nid: number): void {
    const isPrivate = pgmap.type === MEMORY_DEVICE_PRIVATE;
    const range = pgmap.ranges[rangeId]!;
    const len = rangeLen(range);
    const startPfn = this.physPfn(range.start);
    const lastPfn = this.physPfn(range.end);
    const nrPages = this.physPfn(len);

    if (pgmapAltmap(pgmap) !== undefined && rangeId > 0) {
      this.warnOnce('altmap_multi', 'altmap not supported for multiple ranges');
      throw new KernelError('EINVAL', 'altmap not supported for multiple ranges');
    }
    for (const pfn of [startPfn, lastPfn]) {
      const conflict = this.getDevPagemap(pfn, undefined);
      if (conflict !== undefined) {
        this.warn('Conflicting mapping in same section');
        this.putDevPagemap(conflict);
        throw new KernelError('ENOMEM', 'Conflicting mapping in same section');
      }
    }
    const isRam = this.kernel.iomem.regionIntersects(range.start, len, IORESOURCE_SYSTEM_RAM, IORES_DESC_NONE);
    if (isRam !== REGION_DISJOINT) {
      const what = isRam === REGION_MIXED ? 'mixed' : 'ram';
      this.warnOnce('is_ram', `attempted on ${what} region ${hexAlt(range.start)}-${hexAlt(range.end)}`);
      throw new KernelError('ENXIO', `memremap_pages attempted on ${what} region ${hexAlt(range.start)}-${hexAlt(range.end)}`);
    }
    const pgdat = this.mm.nodeData(nid);
    if (pgdat === undefined) {
      // NODE_DATA() of a node that was never possible: the model refuses it.
      throw new KernelError('EINVAL', `memremap_pages: node ${nid} has no pglist_data`);
    }
    // xa_store_range() allocates xarray nodes from a slab cache.
    if (this.kernel.faults.shouldFail('failslab', 576)) {
      throw new KernelError('ENOMEM', 'pagemap_range: xa_store_range: out of memory');
    }
    this.pgmapArray.storeRange(startPfn, lastPfn, pgmap);

    const zone = pgdat.nodeZones[this.zoneDeviceIdx]!;
    try {
      // track_pfn_remap(): no PAT memory types in the model.
      if (!this.hotplug.mhpRangeAllowed(range.start, len, !isPrivate)) {
        throw new KernelError('EINVAL', `memremap_pages: range ${hexAlt(range.start)}-${hexAlt(range.end)} is not pluggable`);
      }
      // Device-private memory is not CPU-addressable: no linear mapping.
      if (isPrivate) this.hotplug.addPages(nid, startPfn, nrPages, params);
      else this.hotplug.archAddMemory(nid, range.start, len, params);
      this.hotplug.movePfnRangeToZone(zone, startPfn, nrPages, params.altmap, MIGRATE_MOVABLE);
    } catch (e) {
      this.pgmapArrayDelete(startPfn, lastPfn);
      throw e;
    }
    // The pages are initialized outside the hotplug lock in the kernel.
    this.memmapInitZoneDevice(zone, startPfn, nrPages, pgmap);
    pgmap.ref!.getMany(this.pfnEnd(pgmap, rangeId) - this.pfnFirst(pgmap, rangeId));
  }

  /** `dev_pagemap_percpu_release()`: the internal ref's release completes `done`. */
  private devPagemapPercpuRelease(pgmap: DevPagemap): void {
    pgmap.done.complete();
  }

  // =====================================================================
  // memunmap_pages / pageunmap_range
  // =====================================================================

  /**
   * `memunmap_pages(pgmap)`: tears a mapped pagemap down. At once: kills its
   * ref (`ops.kill`, or `percpu_ref_kill()` of the internal one) so
   * `get_dev_pagemap()` fails, and drops every page's initial reference
   * (pages at refcount 1 go to 0 and release their pagemap reference; a
   * devmap-managed page still in use drops to 1 and is freed through
   * `page_free()` / the fs-dax wake-up). Then it waits for the pagemap's
   * count to reach zero (`ops.cleanup`, or the internal ref's completion and
   * `percpu_ref_exit()`), and only then unmaps each range
   * (`remove_pfn_range_from_zone()`, then `__remove_pages()` for
   * device-private memory or `arch_remove_memory()`), erases it from
   * `pgmap_array`, warns "failed to free all reserved pages" if the altmap
   * still has allocations, and drops the `devmap_managed_key`. The returned
   * promise settles when that is done — at once if no page was in use,
   * otherwise when the last page reference is dropped. The ZONE_DEVICE
   * zone's span is not shrunk (v5.13). Throws (a kernel BUG) if the pagemap
   * is not mapped. Mirrors mm/memremap.c.
   */
  memunmapPages(pgmap: DevPagemap): Promise<void> {
    if (this.tracer.enabled) return this.tracer.invoke('memunmap_pages', this, this.memunmapPagesImpl, pgmap);
    return this.memunmapPagesImpl(pgmap);
  }

  private memunmapPagesImpl(pgmap: DevPagemap): Promise<void> {
    checkPgmap('memunmap_pages', pgmap);
    if (!this.zoneDevice) throw new KernelError('ENXIO', 'memunmap_pages: CONFIG_ZONE_DEVICE is not set');
    const st = this.maps.get(pgmap);
    if (st === undefined || st.phase !== 'live') {
      throw new KernelBug(`memunmap_pages: ${pgmap.traceName} is not mapped (${st?.phase ?? 'unmapped'})`);
    }
    st.phase = 'dying';
    const wait = this.teardownBegin(pgmap);
    if (wait === undefined) {
      this.teardownEnd(pgmap);
      return Promise.resolve();
    }
    const p = wait.then(() => this.teardownEnd(pgmap));
    st.teardown = p;
    return p;
  }

  /** The failure path of memremap_pages(): the same teardown, with nothing to wait for. */
  private memunmapAfterFailure(pgmap: DevPagemap): void {
    const wait = this.teardownBegin(pgmap);
    if (wait !== undefined) {
      if (pgmap.ref === pgmap.internalRef && pgmap.internalRef !== undefined) {
        throw new KernelBug('memremap_pages: pages referenced while still being mapped');
      }
      // A caller's cleanup still waits for references of its own; no page of
      // this pagemap can be among them, so the unmapping goes on now.
      wait.catch(() => undefined);
    }
    this.teardownEnd(pgmap);
  }

  /** Kill, drop the pages' initial references, start the cleanup; the wait, or undefined if already idle. */
  private teardownBegin(pgmap: DevPagemap): Promise<void> | undefined {
    this.devPagemapKill(pgmap);
    for (let i = 0; i < pgmap.nrRange; i++) this.putRangePages(pgmap, this.pfnFirst(pgmap, i), this.pfnEnd(pgmap, i));
    return this.devPagemapCleanup(pgmap);
  }

  /** Unmap every range, check the altmap, drop the static key. */
  private teardownEnd(pgmap: DevPagemap): void {
    for (let i = 0; i < pgmap.nrRange; i++) this.pageunmapRange(pgmap, i);
    if (pgmap.altmap.alloc !== 0) this.warnOnce('altmap_alloc', 'failed to free all reserved pages');
    this.devmapManagedEnablePut(pgmap);
    this.maps.delete(pgmap);
  }

  /** `dev_pagemap_kill()`: `ops.kill`, or `percpu_ref_kill()`. */
  private devPagemapKill(pgmap: DevPagemap): void {
    if (pgmap.ops?.kill !== undefined) pgmap.ops.kill(pgmap);
    else pgmap.ref!.kill();
  }

  /**
   * `dev_pagemap_cleanup()`: `ops.cleanup`, or wait for the internal ref's
   * completion and `percpu_ref_exit()`; then the internal ref is detached so
   * the pagemap can be mapped again. Returns the wait, or undefined when
   * nothing has to be waited for.
   */
  private devPagemapCleanup(pgmap: DevPagemap): Promise<void> | undefined {
    const detach = (): void => {
      if (pgmap.ref === pgmap.internalRef) pgmap.ref = undefined;
    };
    const cleanup = pgmap.ops?.cleanup;
    if (cleanup !== undefined) {
      const r = cleanup.call(pgmap.ops, pgmap);
      if (isThenable(r)) return r.then(detach);
      detach();
      return undefined;
    }
    const ref = pgmap.ref!;
    const reap = (): void => {
      ref.exit();
      detach();
    };
    if (pgmap.done.completionDone()) {
      reap();
      return undefined;
    }
    return pgmap.done.wait().then(reap);
  }

  /**
   * `put_page()` of every page of `[first, end)` (memunmap_pages'
   * `for_each_device_pfn` loop), in bulk: runs of pages at refcount 1 go to
   * 0 together and release as many pagemap references at once; the pages in
   * use are put one by one.
   */
  private putRangePages(pgmap: DevPagemap, first: number, end: number): void {
    const mm = this.memmap;
    let pfn = first;
    while (pfn < end) {
      const next = mm.findFirst(pfn, end, (_lo, _mc, ref) => ref !== 1);
      const runEnd = next < 0 ? end : next;
      if (runEnd > pfn) {
        mm.updateRange(pfn, runEnd - pfn, { refcount: 0 });
        pgmap.ref!.putMany(runEnd - pfn);
      }
      if (next < 0) break;
      this.putZoneDevicePage(next);
      pfn = next + 1;
    }
  }

  /** `pageunmap_range(pgmap, range_id)`: undoes pagemap_range() once the pages are dead. */
  private pageunmapRange(pgmap: DevPagemap, rangeId: number): void {
    if (this.tracer.enabled) {
      this.tracer.invoke('pageunmap_range', this, this.pageunmapRangeImpl, pgmap, rangeId);
      return;
    }
    this.pageunmapRangeImpl(pgmap, rangeId);
  }

  private pageunmapRangeImpl(pgmap: DevPagemap, rangeId: number): void {
    const range = pgmap.ranges[rangeId]!;
    const len = rangeLen(range);
    const startPfn = this.physPfn(range.start);
    // Read a struct page that was actually initialized.
    const first = this.pfnFirst(pgmap, rangeId);
    const nid = this.memmap.pageToNid(first);
    const zone = this.mm.pageZone(first);
    this.hotplug.removePfnRangeFromZone(zone, startPfn, this.physPfn(len));
    if (pgmap.type === MEMORY_DEVICE_PRIVATE) this.hotplug.removePages(startPfn, this.physPfn(len), undefined);
    else this.hotplug.archRemoveMemory(nid, range.start, len, pgmapAltmap(pgmap));
    // untrack_pfn(): no PAT memory types in the model.
    this.pgmapArrayDelete(startPfn, this.physPfn(range.end));
  }

  // =====================================================================
  // devm_memremap_pages / devm_memunmap_pages
  // =====================================================================

  /**
   * `devm_memremap_pages(dev, pgmap)`: {@link Memremap.memremapPages} on
   * the device's node (`dev_to_node()`, or `NUMA_NO_NODE`
   * when it has none), with the teardown recorded in the
   * device's devres, so that unbinding the driver starts
   * `memunmap_pages()` (its completion: {@link Memremap.memunmapCompletion}).
   * If recording fails the pagemap is unmapped again and ENOMEM thrown.
   * Without `CONFIG_ZONE_DEVICE`: WARN_ON_ONCE and ENXIO ("callers must fall
   * back to plain devm_memremap()"). Mirrors mm/memremap.c.
   */
  devmMemremapPages(dev: Device, pgmap: DevPagemap): bigint {
    if (this.tracer.enabled) return this.tracer.invoke('devm_memremap_pages', this, this.devmMemremapPagesImpl, dev, pgmap);
    return this.devmMemremapPagesImpl(dev, pgmap);
  }

  private devmMemremapPagesImpl(dev: Device, pgmap: DevPagemap): bigint {
    checkDevice('devm_memremap_pages', dev);
    checkPgmap('devm_memremap_pages', pgmap);
    if (!this.zoneDevice) {
      this.warnOnce('devm_memremap_pages', 'WARNING: devm_memremap_pages: CONFIG_ZONE_DEVICE is not set');
      throw new KernelError('ENXIO', 'devm_memremap_pages: CONFIG_ZONE_DEVICE is not set');
    }
    const ret = this.memremapPagesImpl(pgmap, devToNode(dev));
    const release = (): void => {
      const st = this.maps.get(pgmap);
      if (st !== undefined) st.devres = undefined;
      // devm_memremap_pages_release(): the teardown's completion is kept in the map state.
      this.memunmapPagesImpl(pgmap).catch(() => undefined);
    };
    const dr = devmAddActionOrReset(dev, release, 'devm_memremap_pages_release');
    this.maps.get(pgmap)!.devres = dr;
    return ret;
  }

  /**
   * `devm_memunmap_pages(dev, pgmap)`: runs the devres action recorded by
   * {@link Memremap.devmMemremapPages} now (`devm_release_action()`) and
   * returns the teardown's completion. A pagemap without such an action is
   * the kernel's WARN and nothing happens. Does nothing without
   * `CONFIG_ZONE_DEVICE`. Mirrors mm/memremap.c.
   */
  devmMemunmapPages(dev: Device, pgmap: DevPagemap): Promise<void> {
    if (this.tracer.enabled) return this.tracer.invoke('devm_memunmap_pages', this, this.devmMemunmapPagesImpl, dev, pgmap);
    return this.devmMemunmapPagesImpl(dev, pgmap);
  }

  private devmMemunmapPagesImpl(dev: Device, pgmap: DevPagemap): Promise<void> {
    checkDevice('devm_memunmap_pages', dev);
    checkPgmap('devm_memunmap_pages', pgmap);
    if (!this.zoneDevice) return Promise.resolve();
    const st = this.maps.get(pgmap);
    const dr = st?.devres;
    if (dr === undefined) {
      this.warn('WARNING: devm_release_action: devm_memremap_pages_release not found');
      return Promise.resolve();
    }
    devmReleaseAction(dev, dr);
    return this.maps.get(pgmap)?.teardown ?? Promise.resolve();
  }

  // =====================================================================
  // get_dev_pagemap / put_dev_pagemap / pgmap_pfn_valid
  // =====================================================================

  /**
   * `get_dev_pagemap(pfn, pgmap)`: a new live reference on the pagemap of
   * `pfn`. A given (`cached`) pagemap whose range covers the pfn is returned
   * as is — the caller already holds a reference (v5.13 compares with
   * `pgmap->range`, i.e. the first range only); one that does not cover it
   * is put first. Otherwise `pgmap_array` is looked up, and the pagemap is
   * returned only if `percpu_ref_tryget_live()` succeeds — never after it
   * was killed. `undefined` when there is none, and always without
   * `CONFIG_ZONE_DEVICE`. Mirrors mm/memremap.c.
   */
  getDevPagemap(pfn: number, cached?: DevPagemap): DevPagemap | undefined {
    if (this.tracer.enabled) return this.tracer.invoke('get_dev_pagemap', this, this.getDevPagemapImpl, pfn, cached);
    return this.getDevPagemapImpl(pfn, cached);
  }

  private getDevPagemapImpl(pfn: number, cached: DevPagemap | undefined): DevPagemap | undefined {
    checkPfn('get_dev_pagemap', pfn);
    if (cached !== undefined) checkPgmap('get_dev_pagemap', cached);
    if (!this.zoneDevice) return undefined;
    if (cached !== undefined) {
      const phys = pfn * this.pageSize;
      const r = cached.ranges[0];
      if (r !== undefined && phys >= r.start && phys <= r.end) return cached;
      this.putDevPagemap(cached);
    }
    const pgmap = this.pgmapArray.load(pfn);
    if (pgmap === undefined) return undefined;
    const ref = pgmap.ref;
    if (ref === undefined || !ref.trygetLive()) return undefined;
    return pgmap;
  }

  /**
   * `put_dev_pagemap(pgmap)`: drops a reference taken by
   * {@link Memremap.getDevPagemap}; nothing for `undefined`. Inline in
   * include/linux/memremap.h (not traced).
   */
  putDevPagemap(pgmap: DevPagemap | undefined): void {
    if (pgmap === undefined) return;
    checkPgmap('put_dev_pagemap', pgmap);
    const ref = pgmap.ref;
    if (ref === undefined) throw new KernelBug(`put_dev_pagemap: ${pgmap.traceName} has no ref`);
    ref.put();
  }

  /**
   * `pgmap_pfn_valid(pgmap, pfn)`: whether `pfn` is a device page of the
   * pagemap — inside one of its ranges, and not among the pfns of range 0
   * that hold the altmap's reserve and memmap. Always false without
   * `CONFIG_ZONE_DEVICE`. Mirrors mm/memremap.c.
   */
  pgmapPfnValid(pgmap: DevPagemap, pfn: number): boolean {
    if (this.tracer.enabled) return this.tracer.invoke('pgmap_pfn_valid', this, this.pgmapPfnValidImpl, pgmap, pfn);
    return this.pgmapPfnValidImpl(pgmap, pfn);
  }

  private pgmapPfnValidImpl(pgmap: DevPagemap, pfn: number): boolean {
    checkPgmap('pgmap_pfn_valid', pgmap);
    checkPfn('pgmap_pfn_valid', pfn);
    if (!this.zoneDevice) return false;
    for (let i = 0; i < pgmap.nrRange; i++) {
      const r = pgmap.ranges[i];
      if (r === undefined) break;
      if (pfn >= this.physPfn(r.start) && pfn <= this.physPfn(r.end)) return pfn >= this.pfnFirst(pgmap, i);
    }
    return false;
  }

  // =====================================================================
  // memmap_init_zone_device (mm/page_alloc.c)
  // =====================================================================

  /**
   * `memmap_init_zone_device(zone, start_pfn, nr_pages, pgmap)`: initializes
   * the struct pages of a range moved into ZONE_DEVICE: each page gets the
   * zone and node links, `PG_reserved`, `page->pgmap = pgmap`,
   * `zone_device_data = NULL` and refcount 1 (`__init_single_page()`), and
   * each pageblock starting in the range is made MIGRATE_MOVABLE. With an
   * altmap the pages before `base_pfn + vmem_altmap_offset()` — the memmap's
   * own storage, initialized by `move_pfn_range_to_zone()` — are skipped.
   * Logs "memmap_init_zone_device initialised N pages in Mms". Bulk: a whole
   * section takes one shared template. WARN_ON_ONCE and nothing done without
   * a pgmap or for a zone that is not ZONE_DEVICE. Mirrors mm/page_alloc.c.
   */
  memmapInitZoneDevice(zone: Zone, startPfn: number, nrPages: number, pgmap: DevPagemap | undefined): void {
    if (this.tracer.enabled) {
      this.tracer.invoke('memmap_init_zone_device', this, this.memmapInitZoneDeviceImpl, zone, startPfn, nrPages, pgmap);
      return;
    }
    this.memmapInitZoneDeviceImpl(zone, startPfn, nrPages, pgmap);
  }

  private memmapInitZoneDeviceImpl(zone: Zone, startPfnIn: number, nrPagesIn: number, pgmap: DevPagemap | undefined): void {
    const fn = 'memmap_init_zone_device';
    if (typeof zone !== 'object' || zone === null || typeof zone.zoneIdx !== 'number') throw new KernelError('EINVAL', `${fn}: invalid zone ${String(zone)}`);
    checkPhysRange(fn, startPfnIn, nrPagesIn);
    if (pgmap !== undefined) checkPgmap(fn, pgmap);
    if (pgmap === undefined || zone.zoneIdx !== this.zoneDeviceIdx) {
      this.warnOnce('memmap_init_zone_device', 'WARNING: memmap_init_zone_device: !pgmap || zone_idx(zone) != ZONE_DEVICE');
      return;
    }
    const t0 = this.kernel.clock.now();
    const endPfn = startPfnIn + nrPagesIn;
    let startPfn = startPfnIn;
    let nrPages = nrPagesIn;
    const altmap = pgmapAltmap(pgmap);
    if (altmap !== undefined) {
      // memmap_init_range() has already taken care of the altmap's pages.
      startPfn = altmap.basePfn + sparseVmemAltmapOffset(altmap);
      nrPages = endPfn - startPfn;
    }
    if (startPfn < endPfn) {
      const mm = this.memmap;
      const nid = zone.zonePgdat.nodeId;
      const zoneIdx = zone.zoneIdx;
      const derived = new Map<StructPage, StructPage>();
      const template = (pfn: number): StructPage => {
        const base = mm.initSinglePageTemplate(zoneIdx, nid, pfn);
        let t = derived.get(base);
        if (t === undefined) {
          t = makeStructPage({ flagsLo: setBit(base.flagsLo, PG_reserved), pgmap, zoneDeviceData: undefined }, base);
          derived.set(base, t);
        }
        return t;
      };
      const config = this.mm.config;
      if (config.layout.SECTIONS_WIDTH === 0) {
        mm.initRange(startPfn, endPfn - startPfn, template(startPfn));
      } else {
        // The section number is part of page->flags: one template per section.
        const pps = config.pagesPerSection;
        for (let pfn = startPfn; pfn < endPfn; ) {
          const next = Math.min(endPfn, (Math.floor(pfn / pps) + 1) * pps);
          mm.initRange(pfn, next - pfn, template(pfn));
          pfn = next;
        }
      }
      const nb = config.pageblockNrPages;
      const firstBlock = Math.ceil(startPfn / nb) * nb;
      if (firstBlock < endPfn) mm.setPageblockMigratetypeRange(firstBlock, endPfn - firstBlock, MIGRATE_MOVABLE);
    }
    const ms = Math.floor((this.kernel.clock.now() - t0) / 1e6);
    this.log.info(`memmap_init_zone_device initialised ${Math.max(0, nrPages)} pages in ${ms}ms`);
  }

  // =====================================================================
  // ZONE_DEVICE pages (include/linux/mm.h, mm/swap.c, mm/memremap.c)
  // =====================================================================

  /** The pagemap a ZONE_DEVICE page points to (`page->pgmap`), or `undefined`. */
  pagePgmap(pfn: number): DevPagemap | undefined {
    checkPfn('page_pgmap', pfn);
    if (!this.isZoneDevicePage(pfn)) return undefined;
    const p = this.memmap.pagePgmap(pfn);
    return p instanceof DevPagemap ? p : undefined;
  }

  /**
   * `is_zone_device_page(page)`: the page's zone is ZONE_DEVICE (false
   * without `CONFIG_ZONE_DEVICE`, and for a pfn without a struct page).
   * Inline in include/linux/mm.h.
   */
  isZoneDevicePage(pfn: number): boolean {
    checkPfn('is_zone_device_page', pfn);
    return this.zoneDevice && this.memmap.hasMemmap(pfn) && this.memmap.pageZonenum(pfn) === this.zoneDeviceIdx;
  }

  private pageType(pfn: number): number | undefined {
    const p = this.memmap.pagePgmap(pfn);
    return p instanceof DevPagemap ? p.type : undefined;
  }

  /**
   * `is_device_private_page(page)`: a ZONE_DEVICE page of a device-private
   * pagemap (needs `CONFIG_DEV_PAGEMAP_OPS` and `CONFIG_DEVICE_PRIVATE`).
   */
  isDevicePrivatePage(pfn: number): boolean {
    checkPfn('is_device_private_page', pfn);
    return this.devPagemapOps && this.devicePrivate && this.isZoneDevicePage(pfn) && this.pageType(pfn) === MEMORY_DEVICE_PRIVATE;
  }

  /** `is_pci_p2pdma_page(page)`: a ZONE_DEVICE page of a P2PDMA pagemap (needs `CONFIG_PCI_P2PDMA`). */
  isPciP2pdmaPage(pfn: number): boolean {
    checkPfn('is_pci_p2pdma_page', pfn);
    return this.pciP2pdma && this.isZoneDevicePage(pfn) && this.pageType(pfn) === MEMORY_DEVICE_PCI_P2PDMA;
  }

  /**
   * `page_is_devmap_managed(page)`: while `devmap_managed_key` is enabled, a
   * ZONE_DEVICE page of a device-private or fs-dax pagemap — one whose
   * refcount the driver manages (free at 1).
   */
  pageIsDevmapManaged(pfn: number): boolean {
    checkPfn('page_is_devmap_managed', pfn);
    if (!this.devPagemapOps || this.managedKey === 0) return false;
    if (!this.isZoneDevicePage(pfn)) return false;
    const t = this.pageType(pfn);
    return t === MEMORY_DEVICE_PRIVATE || t === MEMORY_DEVICE_FS_DAX;
  }

  /** `get_page(page)`: takes a reference (BUG on a page whose count is 0). */
  getPage(pfn: number): void {
    checkPfn('get_page', pfn);
    this.memmap.getPage(pfn);
  }

  /**
   * `put_page(page)` (v5.13, include/linux/mm.h) of a ZONE_DEVICE page, the
   * handler memremap registers with the mm core's put_page() (so every
   * put_page() of a device page, from any layer, comes here): for a
   * devmap-managed page {@link Memremap.putDevmapManagedPage}; for another
   * ZONE_DEVICE page, drop the reference and, at 0, `__put_page()`, which
   * drops its pagemap reference and never frees it to the buddy allocator.
   * `page_is_devmap_managed()` is the pagemap's type alone: the mm core
   * found the page in ZONE_DEVICE already.
   */
  private putZoneDevicePage(pfn: number): void {
    const t = this.devPagemapOps && this.managedKey !== 0 ? this.pageType(pfn) : undefined;
    if (t === MEMORY_DEVICE_PRIVATE || t === MEMORY_DEVICE_FS_DAX) {
      this.putDevmapManagedPageImpl(pfn);
      return;
    }
    if (this.memmap.putPageTestzero(pfn)) this.putZoneDevicePageFinal(pfn);
  }

  /** `__put_page()` of a ZONE_DEVICE page: `put_dev_pagemap(page->pgmap)`, nothing returns to the allocator. */
  private putZoneDevicePageFinal(pfn: number): void {
    const pgmap = this.memmap.pagePgmap(pfn);
    if (!(pgmap instanceof DevPagemap)) throw new KernelBug(`__put_page: ZONE_DEVICE pfn 0x${pfn.toString(16)} has no pgmap`);
    this.putDevPagemap(pgmap);
  }

  /**
   * `put_devmap_managed_page(page)` (mm/swap.c, v5.13): drops a reference of
   * a devmap-managed page; at 1 the page is free:
   * {@link Memremap.freeDevmapManagedPage}; at 0 (teardown) `__put_page()`.
   * WARN_ON_ONCE and nothing for a page that is not devmap-managed. The
   * model throws (the kernel's counter would silently underflow) for a page
   * whose count is already 0.
   */
  putDevmapManagedPage(pfn: number): void {
    if (this.tracer.enabled) {
      this.tracer.invoke('put_devmap_managed_page', this, this.putDevmapManagedPageImpl, pfn);
      return;
    }
    this.putDevmapManagedPageImpl(pfn);
  }

  private putDevmapManagedPageImpl(pfn: number): void {
    checkPfn('put_devmap_managed_page', pfn);
    if (!this.pageIsDevmapManaged(pfn)) {
      this.warnOnce('put_devmap_managed_page', 'WARNING: put_devmap_managed_page: !page_is_devmap_managed(page)');
      return;
    }
    if (this.memmap.pageRefCount(pfn) <= 0) {
      throw new KernelBug(`put_page: ZONE_DEVICE pfn 0x${pfn.toString(16)} refcount ${this.memmap.pageRefCount(pfn)}`);
    }
    const count = this.memmap.pageRefDecReturn(pfn);
    // devmap page refcounts are 1-based: at 1 the page is free.
    if (count === 1) this.freeDevmapManagedPageImpl(pfn);
    else if (count === 0) this.putZoneDevicePageFinal(pfn);
  }

  /**
   * `free_devmap_managed_page(page)` (v5.13): a devmap-managed page became
   * free (refcount 1). fs-dax: wake whoever waits for the page to be idle
   * (`wake_up_var(&page->_refcount)`). Device-private: clear `PG_waiters`
   * and the stale `page->mapping`, and call the driver's `page_free()`.
   * Mirrors mm/memremap.c.
   */
  freeDevmapManagedPage(pfn: number): void {
    if (this.tracer.enabled) {
      this.tracer.invoke('free_devmap_managed_page', this, this.freeDevmapManagedPageImpl, pfn);
      return;
    }
    this.freeDevmapManagedPageImpl(pfn);
  }

  private freeDevmapManagedPageImpl(pfn: number): void {
    checkPfn('free_devmap_managed_page', pfn);
    if (!this.isDevicePrivatePage(pfn)) {
      this.wakeUpVar(pfn);
      return;
    }
    const mm = this.memmap;
    mm.clearPageFlag(pfn, PG_waiters);
    // mem_cgroup_uncharge(): no memory cgroups in the model.
    mm.setPageMapping(pfn, undefined);
    const pgmap = mm.pagePgmap(pfn) as DevPagemap;
    pgmap.ops!.pageFree!.call(pgmap.ops, pfn);
  }

  /** `wake_up_var(&page->_refcount)`: wakes the waiters of the page. */
  private wakeUpVar(pfn: number): void {
    this.wakeUps += 1;
    const w = this.varWaiters.get(pfn);
    if (w === undefined) return;
    this.varWaiters.delete(pfn);
    for (const wake of w) wake();
  }

  /** How many `wake_up_var()` calls fs-dax pages have made (for inspection). */
  get pageIdleWakeUps(): number {
    return this.wakeUps;
  }

  /**
   * Waits until a ZONE_DEVICE page is idle (refcount 1): the
   * `___wait_var_event(&page->_refcount, page_ref_count(page) == 1, ...)`
   * of fs/ext4 and fs/xfs breaking DAX layouts (`dax_layout_busy_page()`
   * found the page pinned). Settles at once if the page is idle, else at the
   * `wake_up_var()` of {@link Memremap.freeDevmapManagedPage}.
   */
  waitPageIdle(pfn: number): Promise<void> {
    checkPfn('wait_page_idle', pfn);
    if (this.memmap.pageRefCount(pfn) === 1) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const w = this.varWaiters.get(pfn);
      if (w === undefined) this.varWaiters.set(pfn, [resolve]);
      else w.push(resolve);
    });
  }

  // =====================================================================
  // pfn_t helpers that need the machine (include/linux/pfn_t.h)
  // =====================================================================

  /**
   * `pfn_t_to_virt(pfn)`: `__va()` of the pfn's address if it has a page that
   * is not device-private (the CPU cannot address those), else `undefined`.
   */
  pfnTToVirt(p: PfnT): bigint | undefined {
    checkPfnT('pfn_t_to_virt', p);
    if (pfnTHasPage(p) && !this.isDevicePrivatePage(p.pfn)) return this.va(pfnTToPhys(p, this.pageShift));
    return undefined;
  }
}

