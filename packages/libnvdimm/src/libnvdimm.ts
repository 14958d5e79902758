/**
 * libnvdimm on one machine: the nd bus, its providers, and the drivers that
 * turn persistent memory into block devices with struct pages.
 *
 * The layers, bottom up:
 *
 * 1. A **provider** finds persistent memory in firmware and registers an
 *    `nvdimm_bus` (`ndbusN`) with one **region** per range: the e820
 *    provider for x86's legacy type-12 / `memmap=nn!ss` ranges, of_pmem for
 *    device-tree `pmem-region` nodes.
 * 2. The **nd_region** driver binds each region and creates its namespace
 *    (one IO namespace covering a label-less region) and its seeds (`btt`,
 *    `pfn`, `dax`), so that userspace can configure a personality.
 * 3. The **nd_pmem** driver binds a namespace — raw, or probing it for an
 *    info block left by an earlier boot, in which case the namespace's
 *    personality comes back as a new pfn device — or a configured pfn
 *    device, writing or validating its info block (`nd_pfn_init()`), mapping
 *    the range with `devm_memremap_pages()` (memmap in RAM for map=mem, in
 *    the namespace through a `vmem_altmap` for map=dev) and creating
 *    `/dev/pmemN`.
 *
 * Device registration on the nd bus is asynchronous in the kernel
 * (`nd_device_register()` schedules `device_add()`); the model queues the
 * devices registered while a probe runs and adds them, in order, once the
 * outermost probe has returned — the order `nd_synchronize()` would see.
 *
 * Everything user-visible goes through the kernel package's device model:
 * `/sys/bus/nd/devices/*`, `/sys/bus/nd/drivers/{nd_bus,nd_region,nd_pmem}`
 * with their `bind`/`unbind` files, `/proc/iomem` and dmesg.
 *
 * Mirrors drivers/nvdimm/bus.c, core.c, region_devs.c, region.c,
 * namespace_devs.c, claim.c, pfn_devs.c, dax_devs.c, btt_devs.c (the seed),
 * pmem.c, e820.c, of_pmem.c and arch/x86/kernel/pmem.c (Linux v5.13).
 */
import {
  ERRNO,
  BUS_NOTIFY_BOUND_DRIVER,
  BUS_NOTIFY_DRIVER_NOT_BOUND,
  Device,
  IORESOURCE_MEM,
  IORES_DESC_PERSISTENT_MEMORY,
  IORES_DESC_PERSISTENT_MEMORY_LEGACY,
  IORESOURCE_SYSTEM_RAM,
  IORES_DESC_NONE,
  KernelError,
  REGION_MIXED,
  Resource,
  SZ_8K,
  align,
  alignDown,
  checkPhysRange,
  debugfsCreateDir,
  debugfsCreateU16,
  debugfsCreateU32,
  debugfsCreateX32,
  debugfsCreateX64,
  debugfsRemoveRecursive,
  devDbg,
  devErr,
  devInfo,
  devName,
  devWarn,
  devmAddActionOrReset,
  devmReleaseAction,
  formatResource,
  isKernelError,
  isPowerOf2,
  kstrtobool,
  kstrtoull,
  kstrtoullBig,
  sysfsStreq,
  BLOCK_EXT_MAJOR,
  formatDevt,
  mkdev,
} from '@zonedev/kernel';
import { Kernel } from '@zonedev/kernel';
import type { AttributeGroup, BusType, DeviceAttribute, DeviceDriver, Devres } from '@zonedev/kernel';
import type { PhysMem } from '@zonedev/mmzone';
import { DevPagemap, Memremap, MEMORY_DEVICE_FS_DAX, PFN_DEV, PFN_MAP, PGMAP_ALTMAP_VALID } from '@zonedev/memremap';
import { vmemAltmap } from '@zonedev/sparse-vmemmap';
import { NdBtt, NdNamespaceIo, NdPfn, NdRegion, NvdimmBus } from './devices.js';
import type { NdRegionDesc, NvdimmBusDescriptor, PmemBinding } from './devices.js';
import { Ida } from './devices.js';
import {
  BTT_LBASIZE_SUPPORTED,
  DAX_SIG,
  MEMREMAP_COMPAT_ALIGN_MAX,
  ND_DEVICE_DAX_PMEM,
  ND_DEVICE_DIMM,
  ND_DEVICE_NAMESPACE_IO,
  ND_DEVICE_NAMESPACE_PMEM,
  ND_DEVICE_REGION_PMEM,
  ND_MIN_CLAIM_SIZE,
  ND_REGION_PAGEMAP,
  ND_REGION_PERSIST_CACHE,
  ND_REGION_PERSIST_MEMCTRL,
  NvdimmClaimClass,
  PFN_SIG,
  PfnMode,
  formatUuid,
  ndSizeSelectShow,
  ndSizeSelectStore,
  ndUuidParse,
  pfnModeMatches,
  strim,
} from './nd.js';
import { ND_PFN_SB_OFFSET, ND_PFN_SB_SIZE, decodeNdPfnSb, encodeNdPfnSb, ndPfnLayout } from './pfn-sb.js';
import { ndSbChecksum } from './fletcher.js';
import { NvdimmDimm, checkNfitDescriptor, nfitDimmAttrs, nfitSetMember, nvdimmCmdName } from './nfit.js';
import { NdNamespacePmem, allocatedDpa, freeDpa, nfitInterleaveSet, pmemLabelId, sortDpa } from './namespace-pmem.js';
import type { DpaResource } from './namespace-pmem.js';
import type { NfitDescriptor } from './nfit.js';
import { NSLABEL_FLAG_LOCAL, NSLABEL_FLAG_UPDATING, NvdimmDrvdata, toNvdimmCclass } from './label.js';
import type { PmemLabelSpec } from './label.js';
import { PmemDisk } from './pmem.js';
import type { PmemPoison } from './pmem.js';
import { BttDisk } from './pmem-btt.js';
import { Btt, ndBttProbe } from './btt.js';
import type { BttLogLevel } from './btt.js';
import type { NdMedia } from './btt-media.js';
import { Badblocks, addBadblockRange, isBadPmem } from './badblocks.js';
import { ND_CMD_ARS_CAP, ND_CMD_ARS_START, ND_CMD_ARS_STATUS, ND_CMD_CLEAR_ERROR, nvdimmBusCmdName } from './bus-cmd.js';
import type { NdBusCommand, NdBusCommandResult } from './bus-cmd.js';
import { DaxBus } from './dax-bus.js';
import { daxPmemProbe } from './dax-pmem.js';

/** `pmem_lbasize_supported` (drivers/nvdimm/namespace_devs.c): the sector sizes of a pmem namespace. */
const PMEM_LBASIZE_SUPPORTED: readonly number[] = [512, 4096];

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * The architecture facts libnvdimm uses (transparent huge page sizes decide
 * the pfn alignments).
 * @public
 */
export interface NvdimmArch {
  /** `HPAGE_PMD_SIZE` when `has_transparent_hugepage()`, else undefined (default 2 MiB). */
  readonly hpagePmdSize?: number | undefined;
  /** `HPAGE_PUD_SIZE` with `CONFIG_HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD`, else undefined (default 1 GiB). */
  readonly hpagePudSize?: number | undefined;
}

/**
 * The mm core as libnvdimm uses it: the machine's physical memory contents
 * (mmzone's `MmCore` fits).
 * @public
 */
export interface NvdimmMm {
  /** Physical memory contents (a platform registers persistent backings there). */
  readonly physmem: PhysMem;
}

/**
 * Options of a {@link Libnvdimm}.
 * @public
 */
export interface LibnvdimmOptions {
  /** The machine's kernel services (device model, iomem, dmesg). */
  readonly kernel: Kernel;
  /** The machine's mm core, for the media bytes (`PhysMem`). */
  readonly mm: NvdimmMm;
  /** The machine's memremap, for `devm_memremap_pages()`. */
  readonly memremap: Memremap;
  /** Huge page sizes (default x86_64: 2 MiB and 1 GiB). */
  readonly arch?: NvdimmArch;
  /**
   * The machine's `/sys/devices/platform` device, parent of the provider
   * platform devices (`e820_pmem`, of_pmem nodes). If missing, libnvdimm
   * registers one named `platform` on first use.
   */
  readonly platformDevice?: Device;
}

/**
 * A persistent-memory range of the e820 table (its node is what
 * `registerE820Pmem()`'s `nidOf` says).
 * @public
 */
export interface E820PmemRange {
  /** First byte. */
  readonly start: number;
  /** Size in bytes. */
  readonly size: number;
}

/**
 * A device-tree `pmem-region` node for {@link Libnvdimm.ofPmemRegionProbe}.
 * @public
 */
export interface OfPmemNode {
  /** The node's name without unit address, e.g. `pmem`. */
  readonly name: string;
  /** The `reg` ranges, one region each. */
  readonly reg: readonly { readonly start: number; readonly size: number }[];
  /** The `volatile` property is present. */
  readonly volatile?: boolean;
  /** `dev_to_node(&pdev->dev)` (default `NUMA_NO_NODE`, -1). */
  readonly numaNode?: number;
}

type NdKind = 'bus' | 'dimm' | 'region' | 'namespace' | 'pfn' | 'dax' | 'btt';

interface NdDriver {
  readonly drv: DeviceDriver;
  /** The `ND_DEVICE_*` numbers (or 'bus') it binds. */
  readonly types: readonly (number | 'bus')[];
  probe(dev: Device): void;
  remove?(dev: Device): void;
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/**
 * One machine's libnvdimm.
 * @public
 */
export class Libnvdimm {
  /** The machine's kernel services. */
  readonly kernel: Kernel;
  /** The machine's physical memory contents, where the media bytes live. */
  readonly physmem: PhysMem;
  /** The machine's memremap. */
  readonly memremap: Memremap;
  /** `PAGE_SIZE`. */
  readonly pageSize: number;
  /** The `nd` bus type (`nvdimm_bus_type`). */
  readonly ndBusType: BusType;
  /** The dax bus (`/sys/bus/dax`) with device_dax; dax_pmem publishes the nd dax devices there. */
  readonly dax: DaxBus;
  /** `debugfs_root` of drivers/nvdimm/btt.c: `/sys/kernel/debug/btt`. */
  private readonly bttDebugfsRoot: string;
  private readonly pageShift: number;
  private readonly pmdSize: number | undefined;
  private readonly pudSize: number | undefined;
  private platform: Device | undefined;
  private readonly busIda = new Ida();
  private readonly regionIda = new Ida();
  private readonly buses: NvdimmBus[] = [];
  private readonly drivers = new Map<DeviceDriver, NdDriver>();
  private readonly bindings = new Map<Device, PmemBinding>();
  private readonly diskByName = new Map<string, PmemDisk | BttDisk>();
  private readonly queue: Device[] = [];
  private readonly regionIdas = new WeakMap<NdRegion, { pfn: Ida; dax: Ida; btt: Ida }>();
  private probeDepth = 0;
  private readonly dimmIda = new Ida();
  /** `nvdimm_bus_major`: the `ndctl` character major (`/dev/ndctlN`). */
  readonly ndctlMajor: number;
  /** `nvdimm_major`: the `dimmctl` character major of `/dev/nmemN`. */
  readonly dimmctlMajor: number;
  private readonly labels = new Map<NvdimmDimm, NvdimmDrvdata>();
  /** DIMMs whose probe found valid labels (`NDD_LABELING` in `nvdimm->flags`; never cleared). */
  private readonly labeling = new Set<NvdimmDimm>();
  /** Each bound DIMM's allocated DPA extents (`ndd->dpa`), sorted by start. */
  private readonly dpa = new Map<NvdimmDimm, DpaResource[]>();
  private readonly nsIdas = new WeakMap<NdRegion, Ida>();
  /**
   * The scrub state of each bus whose firmware has ARS: `acpi_desc->scrub_count`
   * (completed scrubs), when the running one ends on the machine's clock
   * (`scrub_busy`), and how long a scrub of all its ranges takes.
   */
  private readonly ars = new Map<NvdimmBus, { count: number; busyUntil: number | undefined; ns: number }>();
  /** Each bus's known media errors (`nvdimm_bus->badrange`): physical byte ranges. */
  private readonly badrange = new Map<NvdimmBus, { start: number; length: number }[]>();
  /** Each enabled namespace's `nsio->bb` (filled by `devm_nsio_enable()`). */
  private readonly nsioBb = new WeakMap<NdNamespaceIo, Badblocks>();
  /** Each pmem disk's `pmem->bb` (`disk->bb`) and the physical range it covers (`bb_range`). */
  private readonly diskBb = new Map<PmemDisk, { bb: Badblocks; start: number; size: number; bus: NvdimmBus }>();
  private draining = false;

  constructor(options: LibnvdimmOptions) {
    if (typeof options !== 'object' || options === null || !(options.kernel instanceof Kernel) || options.mm?.physmem === undefined || !(options.memremap instanceof Memremap)) {
      throw new KernelError('EINVAL', 'libnvdimm: kernel, mm and memremap are required');
    }
    const a = options.arch ?? {};
    for (const [what, v] of [['HPAGE_PMD_SIZE', a.hpagePmdSize], ['HPAGE_PUD_SIZE', a.hpagePudSize]] as const) {
      if (v !== undefined && (!Number.isSafeInteger(v) || !isPowerOf2(v))) throw new KernelError('EINVAL', `libnvdimm: invalid ${what} ${String(v)}`);
    }
    this.kernel = options.kernel;
    this.physmem = options.mm.physmem;
    this.memremap = options.memremap;
    this.pageSize = this.physmem.pageSize;
    this.pageShift = this.physmem.pageShift;
    const arch = options.arch ?? {};
    this.pmdSize = 'hpagePmdSize' in arch ? arch.hpagePmdSize : 2 * 2 ** 20;
    this.pudSize = 'hpagePudSize' in arch ? arch.hpagePudSize : 2 ** 30;
    this.platform = options.platformDevice;
    this.ndBusType = {
      name: 'nd',
      match: (dev: Device, drv: DeviceDriver): boolean => this.busMatch(dev, drv),
      probe: (dev: Device): void => this.busProbe(dev),
      remove: (dev: Device): void => this.busRemove(dev),
      uevent: (dev: Device): readonly string[] => [`MODALIAS=nd:t${this.ndDeviceType(dev)}`],
    };
    // nvdimm_bus_init(): the bus, the `ndctl` and `dimmctl` character majors,
    // then nd_bus_driver; the drivers of region.c and pmem.c register at their module_init.
    this.kernel.devices.busRegister(this.ndBusType);
    this.ndctlMajor = this.kernel.devt.registerChrdev(0, 'ndctl');
    this.dimmctlMajor = this.kernel.devt.registerChrdev(0, 'dimmctl');
    // The end of a probe (bound or not) is where the asynchronous registrations it queued run.
    this.kernel.devices.busRegisterNotifier(this.ndBusType, {
      notifierCall: (_nb, event: number): number => {
        if ((event === BUS_NOTIFY_BOUND_DRIVER || event === BUS_NOTIFY_DRIVER_NOT_BOUND) && this.probeDepth === 0) this.ndSynchronize();
        return 0;
      },
    });
    this.registerDriver('nd_bus', ['bus'], () => undefined, undefined, true);
    this.registerDriver('nvdimm', [ND_DEVICE_DIMM], (d) => this.nvdimmProbe(d as NvdimmDimm), (d) => {
      this.labels.delete(d as NvdimmDimm);
      this.dpa.delete(d as NvdimmDimm);
    });
    this.registerDriver('nd_region', [ND_DEVICE_REGION_PMEM], (d) => this.ndRegionProbe(d as NdRegion), (d) => this.ndRegionRemove(d as NdRegion));
    // nd_btt_init() (drivers/nvdimm/btt.c): the BTT's debugfs root.
    this.bttDebugfsRoot = debugfsCreateDir(this.kernel, 'btt');
    this.registerDriver('nd_pmem', [ND_DEVICE_NAMESPACE_IO, ND_DEVICE_NAMESPACE_PMEM], (d) => this.ndPmemProbe(d), (d) => this.ndPmemRemove(d));
    // dax_init() (drivers/dax/super.c, bus.c, device.c), then dax_pmem_init() (drivers/dax/pmem/pmem.c).
    this.dax = new DaxBus({ kernel: this.kernel, memremap: this.memremap, pageSize: this.pageSize, ...(this.pmdSize !== undefined ? { pmdSize: this.pmdSize } : {}) });
    this.registerDriver('dax_pmem', [ND_DEVICE_DAX_PMEM], (d) =>
      this.traced('dax_pmem_probe', [d], () =>
        daxPmemProbe(
          {
            kernel: this.kernel,
            dax: this.dax,
            commonProbe: (dev) => this.commonProbe(dev),
            devmNamespaceEnable: (dev, ns) => this.devmNamespaceEnable(dev, ns),
            devmNamespaceDisable: (dev, en) => devmReleaseAction(dev, en),
            nvdimmSetupPfn: (pfn) => this.nvdimmSetupPfn(pfn),
          },
          d as NdPfn,
        ),
      ),
    );
  }

  /** Runs `fn` as the kernel function `name` in the machine's function-graph trace (no cost while tracing is off). */
  private traced<R>(name: string, args: readonly unknown[], fn: () => R): R {
    const t = this.kernel.tracer;
    return t.enabled ? t.call(name, args, fn) : fn();
  }

  private registerDriver(
    name: string,
    types: readonly (number | 'bus')[],
    probe: (d: Device) => void,
    remove?: (d: Device) => void,
    suppressBindAttrs = false,
  ): void {
    const drv: DeviceDriver = { name, bus: this.ndBusType, suppressBindAttrs };
    const nd: NdDriver = remove !== undefined ? { drv, types, probe, remove } : { drv, types, probe };
    this.drivers.set(drv, nd);
    this.kernel.devices.driverRegister(drv);
  }

  // =====================================================================
  // the bus: match, probe, remove (drivers/nvdimm/bus.c)
  // =====================================================================

  private kindOf(dev: Device): NdKind | undefined {
    if (dev instanceof NvdimmBus) return 'bus';
    if (dev instanceof NvdimmDimm) return 'dimm';
    if (dev instanceof NdRegion) return 'region';
    if (dev instanceof NdNamespaceIo) return 'namespace';
    if (dev instanceof NdPfn) return dev.kind;
    if (dev instanceof NdBtt) return 'btt';
    return undefined;
  }

  /** `to_nd_device_type()`: the `ND_DEVICE_*` number of a device (0 for the bus). */
  private ndDeviceType(dev: Device): number {
    const k = this.kindOf(dev);
    if (k === 'dimm') return ND_DEVICE_DIMM;
    if (k === 'region') return ND_DEVICE_REGION_PMEM;
    if (k === 'dax') return ND_DEVICE_DAX_PMEM;
    if (k === 'namespace' || k === 'pfn' || k === 'btt') return this.ndRegionToNstype(dev.parent as NdRegion);
    return 0;
  }

  /** `nd_region_to_nstype()`: PMEM when every DIMM of the region has a label area, else IO. */
  private ndRegionToNstype(region: NdRegion): number {
    return region.labelled ? ND_DEVICE_NAMESPACE_PMEM : ND_DEVICE_NAMESPACE_IO;
  }

  /** `nvdimm_bus_match()`. */
  private busMatch(dev: Device, drv: DeviceDriver): boolean {
    const nd = this.drivers.get(drv);
    if (nd === undefined) return false;
    if (dev instanceof NvdimmBus) return nd.types.includes('bus');
    return nd.types.includes(this.ndDeviceType(dev));
  }

  /**
   * `nvdimm_bus_probe()`: the driver's probe; on success (or -EOPNOTSUPP, an
   * info block that cannot be used) the region's seeds advance. Devices
   * registered during the probe are added once the outermost probe is over
   * (see the bus notifier in the constructor).
   */
  private busProbe(dev: Device): void {
    const nd = this.drivers.get(dev.driver!)!;
    const bus = this.walkToBus(dev);
    if (bus !== undefined) devDbg(bus, `START: ${nd.drv.name}.probe(${devName(dev)})`);
    this.probeDepth++;
    let rc = 0;
    try {
      nd.probe(dev);
    } catch (e) {
      rc = isKernelError(e) ? e.negative : -ERRNO.EINVAL;
      throw e;
    } finally {
      this.probeDepth--;
      if ((rc === 0 || rc === -ERRNO.EOPNOTSUPP) && dev.parent instanceof NdRegion) this.ndRegionAdvanceSeeds(dev.parent, dev);
      if (bus !== undefined) devDbg(bus, `END: ${nd.drv.name}.probe(${devName(dev)}) = ${rc}`);
    }
  }

  /** `nvdimm_bus_remove()`. */
  private busRemove(dev: Device): void {
    const nd = this.drivers.get(dev.driver!)!;
    nd.remove?.(dev);
    const bus = this.walkToBus(dev);
    if (bus !== undefined) devDbg(bus, `${nd.drv.name}.remove(${devName(dev)})`);
  }

  /** The region's `pfn_ida`, `dax_ida` and `btt_ida`. */
  private idas(region: NdRegion): { pfn: Ida; dax: Ida; btt: Ida } {
    let i = this.regionIdas.get(region);
    if (i === undefined) {
      i = { pfn: new Ida(), dax: new Ida(), btt: new Ida() };
      this.regionIdas.set(region, i);
    }
    return i;
  }

  private walkToBus(dev: Device): NvdimmBus | undefined {
    for (let d: Device | undefined = dev; d !== undefined; d = d.parent) if (d instanceof NvdimmBus) return d;
    return undefined;
  }

  /** `nd_device_register()`: queued while a probe runs, added at once otherwise. */
  private ndDeviceRegister(dev: Device): void {
    this.kernel.devices.deviceInitialize(dev);
    this.queue.push(dev);
    if (this.probeDepth === 0) this.ndSynchronize();
  }

  /** `nd_synchronize()`: adds every queued device, in order (their probes may queue more). */
  private ndSynchronize(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const dev = this.queue.shift()!;
        if (dev.registered) continue;
        this.kernel.devices.deviceAdd(dev);
      }
    } finally {
      this.draining = false;
    }
  }

  /** `nd_device_unregister(dev, ND_SYNC)`. */
  private ndDeviceUnregister(dev: Device): void {
    const q = this.queue.indexOf(dev);
    if (q >= 0) this.queue.splice(q, 1);
    if (dev.registered) this.kernel.devices.deviceUnregister(dev);
    this.ndDeviceRelease(dev);
  }

  /** The release callbacks of the nd device types (ids back to their ida, claims dropped). */
  private ndDeviceRelease(dev: Device): void {
    if (dev instanceof NdPfn) {
      if (dev.ndns !== undefined) this.ndDetachNdns(dev);
      (this.idas(dev.region)[dev.kind]).remove(dev.pfnId);
    } else if (dev instanceof NdBtt) {
      if (dev.ndns !== undefined) this.ndDetachNdns(dev);
      this.idas(dev.region).btt.remove(dev.bttId);
    } else if (dev instanceof NdNamespacePmem) {
      // namespace_pmem_release()
      this.nsIda(dev.region).remove(dev.nsId);
      if (dev.region.nsSeed === dev) dev.region.nsSeed = undefined;
    }
    if (dev.parent instanceof NdRegion) {
      const kids = dev.parent.ndChildren;
      const i = kids.indexOf(dev);
      if (i >= 0) kids.splice(i, 1);
    }
  }

  // =====================================================================
  // providers
  // =====================================================================

  private platformRoot(): Device {
    if (this.platform === undefined) {
      const p = new Device({ name: 'platform' });
      this.kernel.devices.deviceRegister(p);
      this.platform = p;
    }
    return this.platform;
  }

  /**
   * `e820__reserve_resources()` for the persistent-memory entries
   * (arch/x86/kernel/e820.c): inserts each range into iomem as a non-busy
   * "Persistent Memory (legacy)" resource (`IORES_DESC_PERSISTENT_MEMORY_LEGACY`),
   * where a platform's e820 code would. Returns the resources. Throws
   * KernelError EINVAL for a bad range, EBUSY if one conflicts (nothing is
   * inserted then).
   */
  e820ReservePmem(ranges: readonly E820PmemRange[]): Resource[] {
    if (!Array.isArray(ranges) || ranges.some((r) => typeof r !== 'object' || r === null)) throw new KernelError('EINVAL', 'e820__reserve_resources: malformed ranges');
    for (const r of ranges) {
      checkPhysRange('e820__reserve_resources', r.start, r.size);
      if (r.size === 0) throw new KernelError('EINVAL', 'e820__reserve_resources: empty range');
    }
    const done: Resource[] = [];
    try {
      for (const r of ranges) {
        const res = new Resource({
          name: 'Persistent Memory (legacy)',
          start: r.start,
          end: r.start + r.size - 1,
          flags: IORESOURCE_MEM,
          desc: IORES_DESC_PERSISTENT_MEMORY_LEGACY,
        });
        this.kernel.iomem.insertResource(this.kernel.iomem.root, res);
        done.push(res);
      }
    } catch (e) {
      for (const res of done.reverse()) this.kernel.iomem.removeResource(res);
      throw e;
    }
    return done;
  }

  /**
   * `register_e820_pmem()` (arch/x86/kernel/pmem.c) and `e820_pmem_probe()`
   * (drivers/nvdimm/e820.c): if iomem has any "Persistent Memory (legacy)"
   * range, one platform device `e820_pmem`, one bus with provider "e820",
   * and one region per range (`ND_REGION_PAGEMAP`, `target_node` from
   * `nidOf`), each bound by nd_region, whose namespace nd_pmem binds.
   * Returns the bus, or undefined when there is no legacy range. A region
   * that cannot be created fails the probe with -ENXIO "failed to register
   * legacy persistent memory ranges" and unregisters the bus. Throws
   * KernelError EINVAL if `nidOf` is not a function or gives neither a node
   * number nor `NUMA_NO_NODE` (-1), changing nothing, or
   * EEXIST if the e820_pmem device is already registered.
   */
  registerE820Pmem(nidOf: (start: number) => number = () => 0): NvdimmBus | undefined {
    if (typeof nidOf !== 'function') throw new KernelError('EINVAL', 'register_e820_pmem: nidOf is not a function');
    const ranges: Resource[] = [];
    this.kernel.iomem.walkIomemResDesc(IORES_DESC_PERSISTENT_MEMORY_LEGACY, IORESOURCE_MEM, 0, Number.MAX_SAFE_INTEGER, (res) => {
      ranges.push(res);
      return 0;
    });
    if (ranges.length === 0) return undefined;
    const nids = ranges.map((res) => {
      const nid = nidOf(res.start);
      // phys_to_target_node() may answer NUMA_NO_NODE (-1).
      if (!Number.isSafeInteger(nid) || nid < -1) throw new KernelError('EINVAL', `e820_register_one: invalid nid ${String(nid)}`);
      return nid;
    });
    const pdev = new Device({ name: 'e820_pmem', parent: this.platformRoot() });
    this.kernel.devices.deviceRegister(pdev);
    const bus = this.nvdimmBusRegister(pdev, { providerName: 'e820' });
    try {
      ranges.forEach((res, i) => {
        const nid = nids[i]!;
        this.nvdimmRegionCreate(bus, { start: res.start, size: res.end - res.start + 1, numaNode: nid, targetNode: nid, flags: [ND_REGION_PAGEMAP] }, false);
      });
    } catch (e) {
      this.nvdimmBusUnregister(bus);
      devErr(pdev, 'failed to register legacy persistent memory ranges');
      this.kernel.devices.deviceUnregister(pdev);
      throw new KernelError('ENXIO', `failed to register legacy persistent memory ranges: ${(e as Error).message}`);
    }
    this.ndSynchronize();
    return bus;
  }

  /**
   * `of_pmem_region_probe()` (drivers/nvdimm/of_pmem.c) for a
   * `pmem-region` node: the platform device `<reg0 start>.<name>` with its
   * `reg` ranges in iomem (named `<name>@<unit address>`), one bus whose
   * provider is the platform device's name, and one region per range —
   * volatile (`nd_volatile`) with the `volatile` property, else pmem with
   * `ND_REGION_PERSIST_MEMCTRL`; all with `ND_REGION_PAGEMAP`. A region
   * that cannot be created is only a warning, "Unable to register region
   * %pR from %pOF". Throws KernelError EINVAL for a malformed node.
   */
  ofPmemRegionProbe(node: OfPmemNode): NvdimmBus {
    if (
      typeof node?.name !== 'string' ||
      node.name === '' ||
      /[/\s]/.test(node.name) ||
      !Array.isArray(node.reg) ||
      node.reg.length === 0 ||
      node.reg.some((r) => typeof r !== 'object' || r === null)
    ) {
      throw new KernelError('EINVAL', 'of_pmem_region_probe: malformed pmem-region node');
    }
    for (const r of node.reg) {
      checkPhysRange('of_pmem_region_probe', r.start, r.size);
      if (r.size === 0) throw new KernelError('EINVAL', 'of_pmem_region_probe: empty reg range');
    }
    const numaNode = node.numaNode === undefined ? -1 : node.numaNode;
    if (!Number.isSafeInteger(numaNode) || numaNode < -1) throw new KernelError('EINVAL', `of_pmem_region_probe: invalid node ${String(numaNode)}`);
    if (node.volatile !== undefined && typeof node.volatile !== 'boolean') throw new KernelError('EINVAL', 'of_pmem_region_probe: malformed volatile property');
    const unit = node.reg[0]!.start.toString(16);
    const fullName = `${node.name}@${unit}`;
    const pdevName = `${unit}.${node.name}`;
    // platform_device_add(): the node's resources into iomem.
    const inserted: Resource[] = [];
    try {
      for (const r of node.reg) {
        const res = new Resource({ name: fullName, start: r.start, end: r.start + r.size - 1, flags: IORESOURCE_MEM });
        this.kernel.iomem.insertResource(this.kernel.iomem.root, res);
        inserted.push(res);
      }
    } catch (e) {
      for (const res of inserted.reverse()) this.kernel.iomem.removeResource(res);
      throw e;
    }
    const pdev = new Device({ name: pdevName, parent: this.platformRoot(), numaNode });
    this.kernel.devices.deviceRegister(pdev);
    const bus = this.nvdimmBusRegister(pdev, { providerName: pdevName });
    devDbg(pdev, `Registering ${node.volatile === true ? 'volatile' : 'non-volatile'} regions from /${fullName}`);
    for (const r of inserted) {
      const flags = node.volatile === true ? [ND_REGION_PAGEMAP] : [ND_REGION_PAGEMAP, ND_REGION_PERSIST_MEMCTRL];
      try {
        const region = this.nvdimmRegionCreate(bus, { start: r.start, size: r.end - r.start + 1, numaNode, targetNode: numaNode, flags }, node.volatile === true);
        devDbg(pdev, `Registered region ${devName(region)} from /${fullName}`);
      } catch {
        devWarn(pdev, `Unable to register region ${formatResource(r)} from /${fullName}`);
      }
    }
    this.ndSynchronize();
    return bus;
  }

  /**
   * `acpi_nfit_add()` / `acpi_nfit_init()` (drivers/acpi/nfit/core.c) for
   * an NFIT as QEMU builds it: each SPA range inserted into iomem as
   * "Persistent Memory" (`acpi_nfit_insert_resource()`), the `ACPI0012:00`
   * device and its bus (provider `ACPI.NFIT`), one `nmemN` per memory
   * device (`acpi_nfit_register_dimms()` → `nvdimm_create()`, bound by the
   * `nvdimm` driver, which reads the label area: `nd_label_data_init()`),
   * then the region of each SPA range (`acpi_nfit_register_region()`:
   * one mapping per DIMM of its interleave set, the set's cookies and
   * positions; no `ND_REGION_PAGEMAP`, so
   * an idle namespace is "raw" without struct pages until it gets a pfn
   * device; no persistence-domain flags without a platform capabilities
   * structure). A label-less DIMM's region has one IO namespace; a DIMM
   * with a label area gives a PMEM region whose namespaces come from its
   * labels (src/namespace-pmem.ts). Throws KernelError EINVAL for a
   * malformed table (a range its DIMMs cannot share in whole pages included), EBUSY for a range that conflicts in iomem; nothing is registered then.
   */
  registerNfit(desc: NfitDescriptor): NvdimmBus {
    checkNfitDescriptor(desc, (start, size) => checkPhysRange('acpi_nfit_init', start, size));
    const inserted: Resource[] = [];
    try {
      for (const r of desc.spaRanges) {
        const res = new Resource({ name: 'Persistent Memory', start: r.start, end: r.start + r.size - 1, flags: IORESOURCE_MEM, desc: IORES_DESC_PERSISTENT_MEMORY });
        this.kernel.iomem.insertResource(this.kernel.iomem.root, res);
        inserted.push(res);
      }
    } catch (e) {
      for (const res of inserted.reverse()) this.kernel.iomem.removeResource(res);
      throw e;
    }
    const adev = new Device({ name: `ACPI0012:${String(this.buses.filter((b) => b.desc.providerName === 'ACPI.NFIT').length).padStart(2, '0')}` });
    this.kernel.devices.deviceRegister(adev);
    const bus = this.nvdimmBusRegister(adev, { providerName: 'ACPI.NFIT', ...(desc.arsClearErrUnit !== undefined ? { clearErrUnit: desc.arsClearErrUnit } : {}) });
    const dimms: NvdimmDimm[] = [];
    for (const d of [...desc.dimms].sort((a, b) => a.handle - b.handle)) {
      const id = this.dimmIda.get();
      const nvdimm = new NvdimmDimm(id, bus, d);
      // __nvdimm_create(): the DIMM's own char device, /dev/nmemN
      nvdimm.devt = mkdev(this.dimmctlMajor, id);
      nvdimm.bus = this.ndBusType;
      nvdimm.type = { name: 'nvdimm', groups: [this.dimmAttrs(), nfitDimmAttrs(), this.deviceAttrs()] };
      nvdimm.release = () => this.dimmIda.remove(id);
      this.ndDeviceRegister(nvdimm);
      dimms.push(nvdimm);
    }
    this.ndSynchronize();
    // acpi_nfit_register_regions(): one region per SPA range, mapped by the DIMMs that interleave it.
    for (let idx = 0; idx < desc.spaRanges.length; idx++) {
      const members = dimms.filter((d) => d.nfit.spaRange === idx);
      if (members.length === 0) continue;
      const r = desc.spaRanges[idx]!;
      const node = r.node ?? 0;
      // acpi_nfit_init_interleave_set(): the cookies, and each DIMM's position in the set.
      const set = nfitInterleaveSet(members.map((d) => nfitSetMember(d.nfit)));
      const share = r.size / members.length;
      try {
        this.nvdimmRegionCreate(
          bus,
          {
            start: r.start,
            size: r.size,
            numaNode: node,
            targetNode: node,
            flags: [],
            mappings: members.map((nvdimm, k) => ({ nvdimm, start: 0, size: share, position: set.positions[k]! })),
            ndSet: { cookie1: set.cookie1, cookie2: set.cookie2, altcookie: set.altcookie, typeGuid: set.typeGuid },
          },
          false,
        );
      } catch {
        devErr(adev, `failed to register spa range ${idx + 1}`);
      }
    }
    this.ndSynchronize();
    // acpi_nfit_register_regions() → sched_ars(): the scrub at boot.
    if (busHasArs(bus)) {
      const total = desc.spaRanges.reduce((n, r) => n + r.size, 0);
      this.ars.set(bus, { count: 0, busyUntil: undefined, ns: Math.ceil((total / (desc.arsBytesPerSecond ?? ARS_DEFAULT_RATE)) * 1e9) });
      this.acpiNfitArsRescan(bus);
    }
    return bus;
  }

  /** The DIMMs (`nmemN`) of every bus, by id. */
  dimms(): NvdimmDimm[] {
    const out: NvdimmDimm[] = [];
    for (const bus of this.buses) for (const c of this.kernel.devices.deviceChildren(bus)) if (c instanceof NvdimmDimm) out.push(c);
    return out.sort((a, b) => a.dimmId - b.dimmId);
  }

  /** The label state the `nvdimm` driver read at probe (`struct nvdimm_drvdata`), while bound. */
  dimmDrvdata(dimm: NvdimmDimm): NvdimmDrvdata | undefined {
    if (!(dimm instanceof NvdimmDimm)) throw new KernelError('EINVAL', `dimm drvdata: not a DIMM: ${String(dimm)}`);
    return this.labels.get(dimm);
  }

  /**
   * `nvdimm_probe()` (drivers/nvdimm/dimm.c): a DIMM with a label area
   * reads it (`nd_label_data_init()`, QEMU's max_xfer); with a valid index
   * it reserves its labels' DPA and is marked `NDD_LABELING` (so its
   * regions probe as PMEM regions from then on). One without a label area
   * binds with nothing to read (`nvdimm_check_config_data()` is -ENOTTY).
   */
  private nvdimmProbe(dimm: NvdimmDimm): void {
    this.traced('nvdimm_probe', [dimm], () => {
      const la = dimm.nfit.labelArea;
      if (la === undefined) return;
      const max = dimm.getConfigSize().maxXfer;
      const ndd = NvdimmDrvdata.labelDataInit(la, max, (level, message) => (level === 'err' ? devErr(dimm, message) : devDbg(dimm, message)));
      const dpa = ndd.nsCurrent >= 0 ? this.ndLabelReserveDpa(dimm, ndd) : [];
      this.labels.set(dimm, ndd);
      this.dpa.set(dimm, dpa);
      if (ndd.nsCurrent >= 0) this.labeling.add(dimm);
    });
  }

  /**
   * `nd_label_reserve_dpa()` (drivers/nvdimm/label.c): every active pmem
   * label's extent is allocated to its label id; two labels whose extents
   * overlap fail the DIMM's probe with EBUSY.
   */
  private ndLabelReserveDpa(dimm: NvdimmDimm, ndd: NvdimmDrvdata): DpaResource[] {
    const out: DpaResource[] = [];
    for (const { label } of ndd.activeLabels()) {
      if (label.flags % (2 * NSLABEL_FLAG_LOCAL) >= NSLABEL_FLAG_LOCAL) continue;
      const start = Number(label.dpa);
      const size = Number(label.rawsize);
      if (out.some((r) => start < r.start + r.size && r.start < start + size)) {
        devDbg(dimm, `dpa ${hex(start)}+${hex(size)} busy`);
        throw new KernelError('EBUSY', `${devName(dimm)}: label extent ${hex(start)}+${hex(size)} overlaps another`);
      }
      out.push({ id: pmemLabelId(label.uuid), start, size });
    }
    sortDpa(out);
    return out;
  }

  /** `nvdimm_attribute_group` (drivers/nvdimm/dimm_devs.c). */
  private dimmAttrs(): AttributeGroup {
    const D = (d: Device): NvdimmDimm => d as NvdimmDimm;
    return {
      attrs: [
        { name: 'commands', mode: 0o444, show: (d) => `${D(d).cmdMask.map((c) => `${nvdimmCmdName(c)} `).join('')}\n` },
        { name: 'state', mode: 0o444, show: (d) => (D(d).busy > 0 ? 'active\n' : 'idle\n') },
        { name: 'flags', mode: 0o444, show: (d) => (this.labeling.has(D(d)) ? 'label \n' : '\n') },
        {
          name: 'available_slots',
          mode: 0o444,
          show: (d) => {
            const ndd = this.labels.get(D(d));
            if (ndd === undefined) throw new KernelError('ENXIO', `${devName(d)}: not enabled`);
            return `${Math.max(0, ndd.nfree() - 1)}\n`;
          },
        },
      ],
    };
  }

  /** `mappingN` (drivers/nvdimm/region_devs.c `mappingN_show()`): "nmemX,<dpa start>,<size>,<position>". */
  private mappingAttrs(region: NdRegion): AttributeGroup {
    return {
      attrs: region.mapping.map((m, i) => ({
        name: `mapping${i}`,
        mode: 0o444,
        show: (): string => `${devName(m.nvdimm)},${m.start},${m.size},${m.position}\n`,
      })),
    };
  }

  /**
   * `nvdimm_bus_register()`: the bus device `ndbusN` below the provider's
   * device, on the nd bus (bound by nd_bus).
   */
  private nvdimmBusRegister(parent: Device, desc: NvdimmBusDescriptor): NvdimmBus {
    const id = this.busIda.get();
    const bus = new NvdimmBus(id, parent, desc);
    bus.bus = this.ndBusType;
    bus.groups = busHasArs(bus) ? [this.busAttrs(), this.nfitBusAttrs()] : [this.busAttrs()];
    try {
      this.kernel.devices.deviceRegister(bus);
    } catch (e) {
      this.busIda.remove(id);
      throw e;
    }
    this.buses.push(bus);
    return bus;
  }

  // =====================================================================
  // media errors (drivers/nvdimm/badrange.c, bus.c nvdimm_clear_poison, pmem.c)
  // =====================================================================

  /**
   * A media error the platform reports at `[addr, addr + length)`: what the
   * NFIT's scrub results and machine-check handler do (`ars_status_process_records()`,
   * `nfit_handle_mce()`): `nvdimm_bus_add_badrange()` on the bus whose
   * region holds the address, then `nvdimm_region_notify(NVDIMM_REVALIDATE_POISON)`
   * so that the region's, the namespaces' and the disks' badblocks show it.
   * An entry with the same start replaces the old one (`add_badrange()`).
   * Throws KernelError EINVAL for a bad range, ENXIO when no region holds it.
   */
  addBadrange(addr: number, length: number): void {
    this.traced('nvdimm_bus_add_badrange', [addr, length], () => {
      checkPhysRange('nvdimm_bus_add_badrange', addr, length);
      if (length === 0) throw new KernelError('EINVAL', 'nvdimm_bus_add_badrange: empty range');
      const region = this.regions().find((r) => addr >= r.ndrStart && addr < r.ndrStart + r.ndrSize);
      if (region === undefined) throw new KernelError('ENXIO', `nvdimm_bus_add_badrange: ${hex(addr)} is not persistent memory`);
      const list = this.badrange.get(region.nvdimmBus) ?? [];
      const same = list.find((b) => b.start === addr);
      if (same !== undefined) same.length = length;
      else list.push({ start: addr, length });
      list.sort((a, b) => a.start - b.start);
      this.badrange.set(region.nvdimmBus, list);
      this.revalidatePoison(region.nvdimmBus);
    });
  }

  /**
   * `nvdimm_region_notify(NVDIMM_REVALIDATE_POISON)` → `nd_pmem_notify()`:
   * every pmem disk on the bus (raw and fsdax) fills `pmem->bb` again from
   * the badrange, every BTT its namespace's `nsio->bb`. Sectors cleared
   * from a table but still in the badrange come back.
   */
  private revalidatePoison(bus: NvdimmBus): void {
    for (const [dev, b] of this.bindings) {
      if (b.disk instanceof PmemDisk) {
        const d = this.diskBb.get(b.disk);
        if (d !== undefined && d.bus === bus) this.badblocksPopulate(bus, d.bb, d.start, d.size);
      } else if (dev instanceof NdBtt && dev.ndns !== undefined && dev.ndns.region.nvdimmBus === bus) {
        const bb = this.nsioBb.get(dev.ndns);
        if (bb !== undefined) this.badblocksPopulate(bus, bb, dev.ndns.res.start, dev.ndns.size);
      }
    }
  }

  /**
   * `nvdimm_badblocks_populate()` → `badblocks_populate()` (drivers/nvdimm/badrange.c):
   * adds the bus's media errors that overlap `[start, start + size)` to
   * `bb`, as sectors relative to `start` (a partial sector counts whole).
   */
  private badblocksPopulate(bus: NvdimmBus, bb: Badblocks, start: number, size: number): void {
    for (const b of this.badrange.get(bus) ?? []) {
      const s = Math.max(b.start, start);
      const e = Math.min(b.start + b.length, start + size);
      if (e <= s) continue;
      addBadblockRange(bb, s - start, e - s);
    }
  }

  /** `badrange_forget()`: `[start, start + len)` is no longer poisoned (entries are trimmed or split). */
  private badrangeForget(bus: NvdimmBus, start: number, len: number): void {
    const list = this.badrange.get(bus);
    if (list === undefined) return;
    const end = start + len;
    const out: { start: number; length: number }[] = [];
    for (const b of list) {
      const bEnd = b.start + b.length;
      if (bEnd <= start || b.start >= end) {
        out.push(b);
        continue;
      }
      if (b.start < start) out.push({ start: b.start, length: start - b.start });
      if (bEnd > end) out.push({ start: end, length: bEnd - end });
    }
    this.badrange.set(bus, out);
  }

  /**
   * `nvdimm_badblocks_populate()` → `badblocks_populate()`: the bus's media
   * errors inside `[start, start + size)` as 512-byte sector runs relative
   * to `start` (a partial sector counts whole), merged.
   */
  private badSectors(bus: NvdimmBus, start: number, size: number): { sector: number; count: number }[] {
    const runs: { sector: number; count: number }[] = [];
    for (const b of this.badrange.get(bus) ?? []) {
      const s = Math.max(b.start, start);
      const e = Math.min(b.start + b.length, start + size);
      if (e <= s) continue;
      runs.push({ sector: Math.floor((s - start) / 512), count: 0 });
      runs[runs.length - 1]!.count = Math.ceil((e - start) / 512) - runs[runs.length - 1]!.sector;
    }
    runs.sort((a, b) => a.sector - b.sector);
    const merged: { sector: number; count: number }[] = [];
    for (const r of runs) {
      const last = merged[merged.length - 1];
      if (last !== undefined && r.sector <= last.sector + last.count) last.count = Math.max(last.count, r.sector + r.count - last.sector);
      else merged.push({ ...r });
    }
    return merged;
  }

  /** `badblocks_show()`: "sector count" lines, each run at most `BB_MAX_LEN` (512) sectors. */
  private badblocksShow(runs: readonly { sector: number; count: number }[]): string {
    let out = '';
    for (const r of runs) {
      for (let s = r.sector; s < r.sector + r.count; s += 512) out += `${s} ${Math.min(512, r.sector + r.count - s)}\n`;
    }
    return out;
  }

  /**
   * `nvdimm_clear_poison()` (drivers/nvdimm/bus.c): asks the provider to
   * clear `[phys, phys + len)`. A provider without an `ndctl` callback (e820,
   * of_pmem) is PMEM_LEGACY: the whole length counts as cleared and nothing
   * else happens. On an NFIT bus without ARS commands (QEMU) `acpi_nfit_ctl()`
   * refuses `ND_CMD_ARS_CAP` with -ENOTTY; -ENXIO when the range is not in
   * whole clear-error units.
   * What is cleared leaves the bus's badrange (`nvdimm_account_cleared_poison()`).
   * Returns the bytes cleared or the negative errno.
   */
  private nvdimmClearPoison(dev: Device, phys: number, len: number): number {
    return this.traced('nvdimm_clear_poison', [dev, phys, len], () => {
      const bus = this.walkToBus(dev);
      if (bus === undefined) return -ERRNO.ENXIO;
      // Only the ACPI NFIT provider has an nd_desc->ndctl; for e820 and of_pmem (PMEM_LEGACY)
      // the kernel pretends the poison is handled and leaves the badrange alone.
      if (bus.desc.providerName !== 'ACPI.NFIT') return len;
      const unit = bus.desc.clearErrUnit;
      // acpi_nfit_ctl(): ND_CMD_ARS_CAP is not in the bus's cmd_mask (QEMU: no root _DSM functions).
      if (unit === undefined) return -ERRNO.ENOTTY;
      if (phys % unit !== 0 || len % unit !== 0) return -ERRNO.ENXIO;
      this.badrangeForget(bus, phys, len);
      return len;
    });
  }

  /**
   * `acpi_nfit_ars_rescan(acpi_desc, ARS_REQ_LONG)`: schedules the scrub work
   * (`acpi_nfit_scrub()` → `ars_start()` over every SPA range), which runs on
   * the machine's clock for the bus's scrub time; -EBUSY while one runs.
   */
  private acpiNfitArsRescan(bus: NvdimmBus): void {
    this.traced('acpi_nfit_ars_rescan', [bus], () => {
      const st = this.arsSettle(bus);
      if (st === undefined) throw new KernelError('ENOTTY', `${devName(bus)}: no address range scrub`);
      if (st.busyUntil !== undefined) throw new KernelError('EBUSY', `${devName(bus)}: a scrub is in progress`);
      for (const region of this.regions().filter((r) => r.nvdimmBus === bus)) this.traced('ars_start', [region.ndrStart, region.ndrSize], () => 0);
      st.busyUntil = this.kernel.clock.now() + st.ns;
    });
  }

  /**
   * The scrub work's completion, once the clock has passed its end:
   * `ars_status()` and `ars_status_process_records()` (each record into the
   * badrange, the disks' badblocks revalidated), then `notify_ars_done()`
   * (`scrub_count` + 1, `scrub_busy` cleared). The model's firmware knows no
   * media errors beyond those already reported to the badrange.
   */
  private arsSettle(bus: NvdimmBus): { count: number; busyUntil: number | undefined; ns: number } | undefined {
    const st = this.ars.get(bus);
    if (st?.busyUntil === undefined || this.kernel.clock.now() < st.busyUntil) return st;
    this.traced('notify_ars_done', [bus], () => {
      for (const region of this.regions().filter((r) => r.nvdimmBus === bus)) this.traced('ars_status', [region.ndrStart, region.ndrSize], () => 0);
      this.revalidatePoison(bus);
      st.busyUntil = undefined;
      st.count++;
    });
    return st;
  }

  /**
   * A bus command sent to `/dev/ndctlN` (`__nd_ioctl()`, drivers/nvdimm/bus.c,
   * with `acpi_nfit_ctl()` and `xlat_bus_status()` of drivers/acpi/nfit/core.c
   * answering for the firmware). `ND_CMD_ARS_CAP` reports the clear-error
   * unit; `ND_CMD_CLEAR_ERROR` clears whole units of poison and forgets them
   * from the badrange and the regions' badblocks (`nvdimm_account_cleared_poison()`).
   * Throws KernelError EINVAL for a malformed command or range, ENXIO for a bus
   * that is not registered, ENOTTY for a command not in the bus's `cmd_mask`
   * (every bus without ARS: e820, of_pmem, QEMU's NFIT), EBUSY when the range
   * covers the whole of an enabled namespace (`nd_pmem_forget_poison_check()`),
   * EIO when the firmware refuses (a range outside persistent memory, or not
   * in whole clear-error units). Nothing changes on failure.
   */
  ndBusCommand(bus: NvdimmBus, command: NdBusCommand): NdBusCommandResult {
    if (!(bus instanceof NvdimmBus)) throw new KernelError('EINVAL', 'nd_ioctl: not an nvdimm bus');
    if (!this.buses.includes(bus)) throw new KernelError('ENXIO', `nd_ioctl: ${devName(bus)} is not registered`);
    if (typeof command !== 'object' || command === null) throw new KernelError('EINVAL', 'nd_ioctl: no command');
    const { cmd, address, length } = command;
    return this.traced('__nd_ioctl', [bus, cmd, address, length], () => {
      if (!Number.isSafeInteger(cmd)) throw new KernelError('EINVAL', `nd_ioctl: bad command ${String(cmd)}`);
      if (!busCmdMask(bus).includes(cmd)) throw new KernelError('ENOTTY', `${devName(bus)}: '${nvdimmBusCmdName(cmd)}' not supported`);
      if (cmd !== ND_CMD_ARS_CAP && cmd !== ND_CMD_CLEAR_ERROR) throw new KernelError('EINVAL', `nd_ioctl: ${nvdimmBusCmdName(cmd)}: use nfit/scrub`);
      checkPhysRange('nd_ioctl', address, length);
      const unit = bus.desc.clearErrUnit!;
      const region = this.regions().find((r) => r.nvdimmBus === bus && address >= r.ndrStart && address + length <= r.ndrStart + r.ndrSize);
      // acpi_nfit_ctl(): a range outside the bus's persistent memory is invalid input to the firmware.
      if (region === undefined || length === 0) throw new KernelError('EIO', `${devName(bus)}: ${nvdimmBusCmdName(cmd)}: firmware status: invalid input`);
      if (cmd === ND_CMD_ARS_CAP) {
        // Status: success, the persistent scrub type supported (ND_ARS_PERSISTENT in the high half).
        return { status: ND_ARS_PERSISTENT * 0x10000, maxArsOut: ARS_MAX_OUT, clearErrUnit: unit, flags: 0 };
      }
      // nd_cmd_clear_to_send() → nd_ns_forget_poison_check(): not behind an enabled namespace's back.
      for (const r of this.regions().filter((x) => x.nvdimmBus === bus)) {
        for (const child of this.kernel.devices.deviceChildren(r)) {
          if (child.driver === undefined || !(child instanceof NdNamespaceIo || child instanceof NdPfn || child instanceof NdBtt)) continue;
          if (child instanceof NdPfn && child.kind === 'dax') continue;
          const ndns = child instanceof NdNamespaceIo ? child : child.ndns;
          if (ndns === undefined) continue;
          if (ndns.res.start >= address && ndns.res.end <= address + length - 1) {
            throw new KernelError('EBUSY', `${devName(bus)}: clear_error: ${devName(child)} is enabled over the range`);
          }
        }
      }
      // The firmware clears whole units only: anything else is invalid input and nothing is cleared.
      if (address % unit !== 0 || length % unit !== 0) throw new KernelError('EIO', `${devName(bus)}: clear_error: firmware status: invalid input`);
      this.traced('nvdimm_account_cleared_poison', [bus, address, length], () => this.badrangeForget(bus, address, length));
      return { status: 0, cleared: length };
    });
  }

  /** The data area's poison for a disk (`pmem->bb` over `bb_range`, and `pmem_clear_poison()`). */
  private diskPoison(dev: Device, ns: NdNamespaceIo, dataStart: number, dataSize: number): { poison: PmemPoison; bb: Badblocks } {
    const bus = ns.region.nvdimmBus;
    // devm_init_badblocks() + nvdimm_badblocks_populate() over bb_range.
    const bb = new Badblocks();
    this.badblocksPopulate(bus, bb, dataStart, dataSize);
    const poison: PmemPoison = {
      isBad: (offset, length) => isBadPmem(bb, offset, length),
      // pmem_clear_poison(): what the provider cleared leaves pmem->bb.
      clear: (offset, length) => {
        const cleared = this.nvdimmClearPoison(dev, dataStart + offset, length);
        if (cleared >= 512) {
          const n = Math.floor(cleared / 512);
          devDbg(dev, `${hex(Math.floor(offset / 512))} clear ${n} sector${n > 1 ? 's' : ''}`);
          bb.clear(BigInt(Math.floor(offset / 512)), BigInt(n));
        }
        return Math.max(0, cleared);
      },
    };
    return { poison, bb };
  }

  /** `nvdimm_bus_unregister()`: its regions (and everything below them), then the bus. */
  private nvdimmBusUnregister(bus: NvdimmBus): void {
    for (const child of this.kernel.devices.deviceChildren(bus).reverse()) this.ndDeviceUnregister(child);
    for (const q of this.queue.filter((d) => d.parent === bus)) this.ndDeviceUnregister(q);
    this.kernel.devices.deviceUnregister(bus);
    this.badrange.delete(bus);
    this.ars.delete(bus);
    this.busIda.remove(bus.busId);
    this.buses.splice(this.buses.indexOf(bus), 1);
  }

  /** `nvdimm_pmem_region_create()` / `nvdimm_volatile_region_create()`. */
  private nvdimmRegionCreate(bus: NvdimmBus, desc: NdRegionDesc, isVolatile: boolean): NdRegion {
    const id = this.regionIda.get();
    // default_align(): 16 MiB unless the region is smaller, times the ways when they do not divide it.
    const ways = Math.max(1, desc.mappings?.length ?? 0);
    const base = desc.size < MEMREMAP_COMPAT_ALIGN_MAX ? this.pageSize : MEMREMAP_COMPAT_ALIGN_MAX;
    const align = base % ways !== 0 ? base * ways : base;
    const region = new NdRegion(id, bus, desc, isVolatile, align);
    region.bus = this.ndBusType;
    region.type = { name: isVolatile ? 'nd_volatile' : 'nd_pmem', groups: [this.regionAttrs(), this.deviceAttrs(), this.numaAttrs()] };
    if (region.ndrMappings > 0) region.groups = [this.mappingAttrs(region)];
    region.release = () => this.regionIda.remove(id);
    // nd_region_to_nstype() as region_visible() sees it when the region is added (the DIMMs have probed).
    region.labelled = region.ndrMappings > 0 && region.mapping.every((m) => this.labeling.has(m.nvdimm as NvdimmDimm));
    this.ndDeviceRegister(region);
    return region;
  }

  // =====================================================================
  // nd_region driver (drivers/nvdimm/region.c, region_devs.c)
  // =====================================================================

  /**
   * `nd_region_probe()`: badblocks, the namespaces (`create_namespace_io()`:
   * one covering the region), then the btt, pfn and dax seeds.
   */
  private ndRegionProbe(region: NdRegion): void {
    this.traced('nd_region_probe', [region], () => this.ndRegionProbeImpl(region));
  }

  private ndRegionProbeImpl(region: NdRegion): void {
    region.labelled = region.ndrMappings > 0 && region.mapping.every((m) => this.labeling.has(m.nvdimm as NvdimmDimm));
    if (region.labelled) {
      this.ndRegionRegisterNamespacesPmem(region);
    } else {
      this.createNamespaceIo(region);
    }
    region.bttSeed = this.ndBttCreate(region);
    region.pfnSeed = this.ndPfnCreate(region, 'pfn');
    region.daxSeed = this.ndPfnCreate(region, 'dax');
  }

  /** `create_namespace_io()`: one IO namespace covering the region. */
  private createNamespaceIo(region: NdRegion): void {
    const ns = new NdNamespaceIo(region, 0);
    ns.bus = this.ndBusType;
    ns.type = { name: 'nd_namespace_io', groups: [this.namespaceAttrs(), this.deviceAttrs(), this.numaAttrs()] };
    region.ndChildren.push(ns);
    this.ndDeviceRegister(ns);
    region.nsActive = 1;
    region.nsCount = 1;
  }

  // =====================================================================
  // labelled PMEM namespaces (drivers/nvdimm/namespace_devs.c, region_devs.c)
  // =====================================================================

  /** The region's `ns_ida`. */
  private nsIda(region: NdRegion): Ida {
    let i = this.nsIdas.get(region);
    if (i === undefined) {
      i = new Ida();
      this.nsIdas.set(region, i);
    }
    return i;
  }

  /** A `namespace_pmem` device of `region` with id `id`, not yet registered. */
  private newNamespacePmem(region: NdRegion, id: number): NdNamespacePmem {
    const ns = new NdNamespacePmem(region, id);
    ns.bus = this.ndBusType;
    ns.type = { name: 'nd_namespace_pmem', groups: [this.namespaceAttrs(), this.deviceAttrs(), this.numaAttrs()] };
    region.ndChildren.push(ns);
    return ns;
  }

  /** The label state of each of the region's DIMMs (`to_ndd()`), or undefined if one is not enabled. */
  private regionNdds(region: NdRegion): { dimm: NvdimmDimm; ndd: NvdimmDrvdata; dpa: DpaResource[]; start: number; size: number }[] | undefined {
    const out: { dimm: NvdimmDimm; ndd: NvdimmDrvdata; dpa: DpaResource[]; start: number; size: number }[] = [];
    for (const m of region.mapping) {
      const dimm = m.nvdimm as NvdimmDimm;
      const ndd = this.labels.get(dimm);
      const dpa = this.dpa.get(dimm);
      if (ndd === undefined || dpa === undefined) return undefined;
      out.push({ dimm, ndd, dpa, start: m.start, size: m.size });
    }
    return out;
  }

  /**
   * `nd_region_interleave_set_cookie()` (drivers/nvdimm/region_devs.c): the
   * v1.1 cookie for a v1.1 label area, the v1.2 cookie otherwise (also when
   * the area has no index yet: a fresh index is written as v1.2 unless the
   * area was initialised for 128-byte labels).
   */
  private interleaveSetCookie(region: NdRegion, ndd: NvdimmDrvdata | undefined): bigint {
    const set = region.ndSet;
    if (set === undefined) return 0n;
    if (ndd !== undefined && ndd.nsCurrent >= 0 && ndd.nslabelSize === 128) return set.cookie1;
    return set.cookie2;
  }

  /**
   * `nd_region_register_namespaces()` for a PMEM region: `init_active_labels()`
   * (every DIMM must be enabled: ENXIO "is disabled, failing probe"), then
   * `scan_labels()` — one namespace per label of mapping 0 whose cookie (or
   * alternate cookie) matches, sorted by address, or one zero-sized
   * namespace when there is none — each named `namespaceR.<ida>`; the first
   * becomes the region's namespace seed. A label without its counterpart at
   * every interleave position, or whose extent is not the DIMM's reservation,
   * fails the probe with ENODEV ("invalid label(s)").
   */
  private ndRegionRegisterNamespacesPmem(region: NdRegion): void {
    const ndds = this.regionNdds(region);
    if (ndds === undefined) {
      const off = region.mapping.find((m) => !this.labels.has(m.nvdimm as NvdimmDimm))!;
      devErr(region, `${devName(off.nvdimm)}: is disabled, failing probe`);
      throw new KernelError('ENXIO', `${devName(off.nvdimm)}: is disabled, failing probe`);
    }
    const m0 = ndds[0]!;
    const cookie = this.interleaveSetCookie(region, m0.ndd);
    const alt = region.ndSet?.altcookie ?? 0n;
    const found: { uuid: Uint8Array; name: string; lbasize: number; claimClass: NvdimmClaimClass; size: number }[] = [];
    for (const { label } of m0.ndd.activeLabels()) {
      if (label.flags % (2 * NSLABEL_FLAG_LOCAL) >= NSLABEL_FLAG_LOCAL) continue;
      const dpa = Number(label.dpa);
      if (dpa < m0.start || dpa > m0.start + m0.size - 1) continue;
      if (found.some((f) => bytesEqual(f.uuid, label.uuid))) continue;
      if (cookie === 0n) {
        devDbg(region, 'invalid interleave-set-cookie');
        throw new KernelError('ENXIO', `${devName(region)}: invalid interleave-set-cookie`);
      }
      if (label.isetcookie !== cookie) {
        devDbg(region, `invalid cookie in label: ${formatUuid(label.uuid)}`);
        if (label.isetcookie !== alt) continue;
        devDbg(region, `valid altcookie in label: ${formatUuid(label.uuid)}`);
      }
      let size = 0;
      for (let i = 0; i < ndds.length; i++) {
        const at = ndds[i]!;
        const mine = at.ndd.activeLabels().filter(
          (l) =>
            bytesEqual(l.label.uuid, label.uuid) &&
            (l.label.isetcookie === cookie || l.label.isetcookie === alt) &&
            l.label.position === region.mapping[i]!.position &&
            (at.ndd.nslabelSize === 128 || region.ndSet === undefined || bytesEqual(l.label.typeGuid, region.ndSet.typeGuid)),
        );
        const res = at.dpa.find((r) => r.id === pmemLabelId(label.uuid));
        if (mine.length !== 1 || res === undefined) {
          devErr(region, `${devName(at.dimm)} missing label for ${formatUuid(label.uuid)}`);
          devDbg(region, 'invalid label(s)');
          throw new KernelError('ENODEV', `${devName(region)}: invalid label(s)`);
        }
        const l = mine[0]!.label;
        if (!(Number(l.dpa) >= res.start && Number(l.dpa) + Number(l.rawsize) <= res.start + res.size)) {
          devDbg(region, `${devName(at.dimm)} invalid label for ${formatUuid(label.uuid)}`);
          throw new KernelError('ENODEV', `${devName(region)}: invalid label(s)`);
        }
        size += Number(l.rawsize);
      }
      const nul = label.name.indexOf(0);
      found.push({
        uuid: label.uuid.slice(),
        name: new TextDecoder().decode(label.name.subarray(0, nul < 0 ? label.name.length : nul)),
        lbasize: Number(label.lbasize),
        claimClass: m0.ndd.nslabelSize > 128 ? toNvdimmCclass(label.abstractionGuid) : NvdimmClaimClass.NVDIMM_CCLASS_NONE,
        size,
      });
    }
    devDbg(region, `discovered ${found.length} pmem namespace${found.length === 1 ? '' : 's'}`);
    const ida = this.nsIda(region);
    const devs: NdNamespacePmem[] = [];
    if (found.length === 0) {
      devs.push(this.newNamespacePmem(region, ida.get()));
    } else {
      // cmp_dpa(): by the start of the namespace's range; ids follow that order.
      const placed = found.map((f) => ({ f, start: this.dpaOffset(region, pmemLabelId(f.uuid)) })).sort((a, b) => a.start - b.start);
      for (const { f } of placed) {
        const ns = this.newNamespacePmem(region, ida.get());
        ns.uuid = f.uuid;
        ns.altName = f.name;
        ns.lbasize = f.lbasize;
        ns.claimClass = f.claimClass;
        this.ndNamespacePmemSetResource(region, ns, f.size);
        devs.push(ns);
      }
    }
    region.nsSeed = devs[0];
    for (const ns of devs) this.ndDeviceRegister(ns);
    region.nsActive = devs.length;
    region.nsCount = devs.length;
  }

  /** The region offset where the extent `id` of mapping 0 maps (`(dpa - mapping start) * ways`). */
  private dpaOffset(region: NdRegion, id: string): number {
    const m = region.mapping[0]!;
    const res = this.dpa.get(m.nvdimm as NvdimmDimm)?.find((r) => r.id === id);
    return res === undefined ? 0 : (res.start - m.start) * region.ndrMappings;
  }

  /** `nd_namespace_pmem_set_resource()`: the namespace's range from its extent on mapping 0 (size 0 without one). */
  private ndNamespacePmemSetResource(region: NdRegion, ns: NdNamespacePmem, size: number): void {
    let offset = 0;
    let s = size;
    const m = region.mapping[0]!;
    const res = ns.uuid === undefined ? undefined : this.dpa.get(m.nvdimm as NvdimmDimm)?.find((r) => r.id === pmemLabelId(ns.uuid!));
    if (s > 0 && res !== undefined) offset = (res.start - m.start) * region.ndrMappings;
    else s = 0;
    ns.res.start = region.ndrStart + offset;
    ns.res.end = ns.res.start + s - 1;
  }

  /**
   * `nd_region_create_ns_seed()`: a new zero-sized namespace once the seed
   * is in use (dev_err "failed to create namespace" if it cannot be).
   */
  private ndRegionCreateNsSeed(region: NdRegion): void {
    if (!region.labelled) return;
    const ns = this.newNamespacePmem(region, this.nsIda(region).get());
    region.nsSeed = ns;
    this.ndDeviceRegister(ns);
  }

  /** `dpa_align()`: the region's align divided over its DIMMs. */
  private dpaAlign(region: NdRegion): number {
    return Math.floor(region.align / Math.max(1, region.ndrMappings));
  }

  /** `nd_pmem_available_dpa()`: a DIMM's unallocated space in the mapping, in whole `dpa_align` units. */
  private ndPmemAvailableDpa(region: NdRegion, m: { dpa: DpaResource[]; start: number; size: number }): number {
    const a = this.dpaAlign(region);
    if (a === 0) return 0;
    const mapStart = m.start;
    const mapEnd = m.start + m.size - 1;
    let busy = 0;
    for (const r of m.dpa) {
      const start = alignDown(r.start, a);
      const end = align(r.start + r.size, a) - 1;
      if (start >= mapStart && start < mapEnd) busy += end - start + 1;
      else if (end >= mapStart && end <= mapEnd) busy += end - start + 1;
      else if (mapStart > start && mapStart < end) busy += m.size;
    }
    return busy < m.size ? alignDown(m.size - busy, a) : 0;
  }

  /** The `dpa_align`-aligned free gaps of a mapping (`space_valid()`'s trimming), in DPA order. */
  private alignedGaps(region: NdRegion, m: { dpa: DpaResource[]; start: number; size: number }): { start: number; size: number }[] {
    const a = this.dpaAlign(region);
    const out: { start: number; size: number }[] = [];
    for (const g of freeDpa(m.dpa, m.start, m.size)) {
      const s = align(g.start, a);
      const e = alignDown(g.start + g.size, a);
      if (e > s) out.push({ start: s, size: e - s });
    }
    return out;
  }

  /** `nd_region_available_dpa()` (region `available_size`): 0 if a DIMM is disabled. */
  private ndRegionAvailableDpa(region: NdRegion): number {
    const ndds = this.regionNdds(region);
    if (ndds === undefined) return 0;
    let n = 0;
    for (const m of ndds) n += this.ndPmemAvailableDpa(region, m);
    return n;
  }

  /** `nd_region_allocatable_dpa()` (`max_available_extent`): the smallest DIMM's largest aligned gap, times the ways. */
  private ndRegionAllocatableDpa(region: NdRegion): number {
    const ndds = this.regionNdds(region);
    if (ndds === undefined) return 0;
    let avail = 0;
    for (const m of ndds) {
      const max = Math.max(0, ...this.alignedGaps(region, m).map((g) => g.size));
      if (avail === 0 || (max !== 0 && max < avail)) avail = max;
    }
    return avail * region.ndrMappings;
  }

  /** `nd_is_uuid_unique()`: no namespace, pfn or btt device on the bus but `except` has `uuid`. */
  private ndIsUuidUnique(bus: NvdimmBus, uuid: Uint8Array, except: Device): boolean {
    for (const region of this.regions()) {
      if (region.nvdimmBus !== bus) continue;
      for (const c of region.ndChildren) {
        if (c === except) continue;
        const u = c instanceof NdNamespacePmem ? c.uuid : c instanceof NdPfn || c instanceof NdBtt ? c.uuid : undefined;
        if (u !== undefined && bytesEqual(u, uuid)) return false;
      }
    }
    return true;
  }

  /**
   * Runs a labelled namespace's attribute store as one transaction: if it
   * fails, the DIMMs' extents and the namespace's fields are as before (the
   * label engine restores its own cache and writes nothing it cannot finish).
   */
  private nsTransaction(ns: NdNamespacePmem, fn: () => void): void {
    const region = ns.region;
    const saved = region.mapping.map((m) => {
      const d = m.nvdimm as NvdimmDimm;
      const list = this.dpa.get(d);
      return { d, list: list?.map((r) => ({ ...r })) };
    });
    const fields = { uuid: ns.uuid, altName: ns.altName, lbasize: ns.lbasize, claimClass: ns.claimClass, start: ns.res.start, end: ns.res.end };
    try {
      fn();
    } catch (e) {
      for (const s of saved) if (s.list !== undefined) this.dpa.set(s.d, s.list);
      ns.uuid = fields.uuid;
      ns.altName = fields.altName;
      ns.lbasize = fields.lbasize;
      ns.claimClass = fields.claimClass;
      ns.res.start = fields.start;
      ns.res.end = fields.end;
      throw e;
    }
  }

  /** EBUSY while the namespace is enabled or claimed (the first check of every label-namespace store). */
  private nsCheckIdle(ns: NdNamespacePmem): void {
    if (ns.driver !== undefined || ns.claim !== undefined) {
      throw new KernelError('EBUSY', `${devName(ns)}: ${ns.driver !== undefined ? 'namespace is active' : `claimed by ${devName(ns.claim!)}`}`);
    }
  }

  /**
   * `nd_namespace_label_update()`: only writes that leave a valid namespace
   * (a uuid and a size) or delete one (a uuid and size 0) touch the labels.
   */
  private ndNamespaceLabelUpdate(ns: NdNamespacePmem): void {
    if (ns.driver !== undefined || ns.claim !== undefined) return;
    if (ns.uuid === undefined) return;
    this.ndPmemNamespaceLabelUpdate(ns, ns.size);
  }

  /**
   * `nd_pmem_namespace_label_update()` (drivers/nvdimm/label.c): on every
   * DIMM of the region, delete the namespace's labels (size 0) or write its
   * label at the DIMM's interleave position (the index is created first if
   * there is none) — flagged UPDATING on every DIMM, then again without the
   * flag on every DIMM. ENXIO without label space on one of them (nothing
   * written then).
   */
  private ndPmemNamespaceLabelUpdate(ns: NdNamespacePmem, size: number): void {
    const region = ns.region;
    const ndds = this.regionNdds(region);
    if (ndds === undefined) throw new KernelError('ENXIO', `${devName(ns)}: a DIMM of ${devName(region)} is disabled`);
    const uuid = ns.uuid!;
    if (size === 0) {
      for (const m of ndds) m.ndd.delLabels(uuid);
      return;
    }
    const id = pmemLabelId(uuid);
    const work = ndds.map((m, i) => {
      const res = m.dpa.find((r) => r.id === id);
      if (res === undefined) throw new KernelError('ENXIO', `${devName(ns)}: no allocation on ${devName(m.dimm)}`);
      // the cookie of the index version in use, or of the one init_labels() is about to write
      const cookie = m.ndd.nsCurrent < 0 ? (m.ndd.nslabelSize === 128 ? region.ndSet?.cookie1 ?? 0n : region.ndSet?.cookie2 ?? 0n) : this.interleaveSetCookie(region, m.ndd);
      const spec: PmemLabelSpec = {
        uuid,
        name: ns.altName,
        nlabel: region.ndrMappings,
        position: region.mapping[i]!.position,
        isetcookie: cookie,
        lbasize: ns.lbasize,
        dpa: res.start,
        rawsize: res.size,
        ...(region.ndSet !== undefined ? { typeGuid: region.ndSet.typeGuid } : {}),
        claimClass: ns.claimClass,
      };
      return { m, spec };
    });
    // Each DIMM needs a free slot per pass, less the one the first pass frees when it replaces a label.
    // The kernel finds a full area in the second pass, after writing; the model refuses before writing anything.
    for (const { m } of work) {
      const hasIndex = m.ndd.nsCurrent >= 0;
      const free = hasIndex ? m.ndd.nfree() : m.ndd.numLabelSlots();
      const replaces = hasIndex && m.ndd.activeLabels().some((l) => bytesEqual(l.label.uuid, uuid));
      if (free < (replaces ? 1 : 2)) throw new KernelError('ENXIO', `${devName(m.dimm)}: no free label slot`);
    }
    for (const { m } of work) m.ndd.initLabels();
    for (const { m, spec } of work) m.ndd.pmemLabelUpdate(spec, spec.position ?? 0, NSLABEL_FLAG_UPDATING);
    // the UPDATING flag is cleared per UEFI 2.7
    for (const { m, spec } of work) m.ndd.pmemLabelUpdate(spec, spec.position ?? 0, 0);
  }

  /**
   * `__size_store()` + `size_store()`: the namespace needs a uuid (ENXIO),
   * the size must be a multiple of the region's align (EINVAL) and fit the
   * largest free extent plus what the namespace holds (ENOSPC); the DIMMs'
   * extents shrink from the end or grow contiguously (ENXIO when no aligned
   * gap next to the extent can take the growth: the kernel's "allocation
   * underrun", refused here before anything changes), the labels are
   * written, and size 0 deletes them and forgets the uuid — and unregisters
   * the namespace unless it is id 0, the seed, or claimed.
   */
  private nsSizeStore(ns: NdNamespacePmem, buf: string): void {
    const val = kstrtoull(buf);
    const region = ns.region;
    this.nsTransaction(ns, () => {
      this.nsCheckIdle(ns);
      if (ns.uuid === undefined) {
        devDbg(ns, '__size_store: uuid not set');
        throw new KernelError('ENXIO', `${devName(ns)}: uuid not set`);
      }
      if (region.ndrMappings === 0) {
        devDbg(ns, 'not associated with dimm(s)');
        throw new KernelError('ENXIO', `${devName(ns)}: not associated with dimm(s)`);
      }
      if (val % region.align !== 0) {
        devDbg(ns, `${val} is not ${region.align / 1024}K aligned`);
        throw new KernelError('EINVAL', `${val} is not ${region.align / 1024}K aligned`);
      }
      const ndds = this.regionNdds(region);
      if (ndds === undefined) throw new KernelError('ENXIO', `${devName(ns)}: a DIMM of ${devName(region)} is disabled`);
      const id = pmemLabelId(ns.uuid);
      let allocated = 0;
      for (const m of ndds) allocated += allocatedDpa(m.dpa, id);
      const available = this.ndRegionAllocatableDpa(region);
      if (val > available + allocated) throw new KernelError('ENOSPC', `${devName(ns)}: ${val} exceeds the available ${available + allocated}`);
      if (val !== allocated) {
        const per = val / region.ndrMappings;
        const had = allocated / region.ndrMappings;
        for (const m of ndds) {
          if (per < had) this.shrinkDpa(m.dpa, id, had - per);
          else this.growDpa(region, ns, m, id, per - had);
        }
        this.ndNamespacePmemSetResource(region, ns, val);
      }
      this.ndNamespaceLabelUpdate(ns);
      if (val === 0) ns.uuid = undefined;
    });
    devDbg(ns, `${val.toString(16)} success (0)`);
    if (val === 0 && ns.nsId !== 0 && region.nsSeed !== ns && ns.claim === undefined) this.ndDeviceUnregister(ns);
  }

  /** `scan_free()` for pmem: the extent shrinks from its end; an extent shrunk to nothing is freed. */
  private shrinkDpa(list: DpaResource[], id: string, n: number): void {
    let left = n;
    while (left > 0) {
      const last = [...list].reverse().find((r) => r.id === id);
      if (last === undefined) return;
      if (left >= last.size) {
        left -= last.size;
        list.splice(list.indexOf(last), 1);
        continue;
      }
      last.size -= left;
      left = 0;
    }
  }

  /**
   * `grow_dpa_allocation()` → `scan_allocate()` for pmem: the first aligned
   * free gap in DPA order that holds all of `n` — and, when the namespace
   * already has an extent, touches it (the extent grows into it) — else
   * ENXIO "allocation underrun".
   */
  private growDpa(region: NdRegion, ns: NdNamespacePmem, m: { dimm: NvdimmDimm; dpa: DpaResource[]; start: number; size: number }, id: string, n: number): void {
    const exist = m.dpa.find((r) => r.id === id);
    for (const g of this.alignedGaps(region, m)) {
      if (g.size < n) continue;
      if (exist === undefined) {
        m.dpa.push({ id, start: g.start, size: n });
        sortDpa(m.dpa);
        devDbg(region, `${devName(m.dimm)}: ${id} allocate ${hex(g.start)}+${hex(n)}`);
        return;
      }
      if (g.start === exist.start + exist.size) {
        exist.size += n;
        return;
      }
      if (g.start + g.size === exist.start) {
        exist.start -= n;
        exist.size += n;
        return;
      }
    }
    devWarn(ns, `allocation underrun: ${hex(n)} of ${hex(n)} bytes`);
    throw new KernelError('ENXIO', `${devName(ns)}: allocation underrun`);
  }

  /**
   * `uuid_store()` → `namespace_update_uuid()`: EBUSY while claimed or
   * enabled, EINVAL for a malformed uuid or one another device on the bus
   * has; a namespace that already has labels is renamed (its extents and
   * cached labels take the new uuid; EBUSY if its DIMMs hold no labels);
   * then the labels are updated.
   */
  private nsUuidStore(ns: NdNamespacePmem, buf: string): void {
    this.nsTransaction(ns, () => {
      this.nsCheckIdle(ns);
      const uuid = ndUuidParse(buf);
      if (ns.uuid !== undefined && bytesEqual(ns.uuid, uuid)) return;
      if (!this.ndIsUuidUnique(ns.region.nvdimmBus, uuid, ns)) throw new KernelError('EINVAL', `${devName(ns)}: uuid ${formatUuid(uuid)} is not unique`);
      if (ns.uuid !== undefined) {
        const ndds = this.regionNdds(ns.region);
        if (ndds === undefined || ndds.some((m) => m.ndd.activeCount() === 0)) throw new KernelError('EBUSY', `${devName(ns)}: no labels to rename`);
        const oldId = pmemLabelId(ns.uuid);
        const newId = pmemLabelId(uuid);
        for (const m of ndds) {
          for (const r of m.dpa) if (r.id === oldId) r.id = newId;
        }
        const old = ns.uuid;
        ns.uuid = uuid;
        this.ndNamespaceLabelUpdateRenamed(ns, ndds, old);
        return;
      }
      ns.uuid = uuid;
      this.ndNamespaceLabelUpdate(ns);
    });
  }

  /** The label update after a rename: the cached labels of the old uuid are the ones replaced. */
  private ndNamespaceLabelUpdateRenamed(ns: NdNamespacePmem, ndds: readonly { ndd: NvdimmDrvdata }[], old: Uint8Array): void {
    const saved = ndds.map((m) => m.ndd.data.slice());
    try {
      for (const m of ndds) m.ndd.renameLabels(old, ns.uuid!);
      this.ndNamespaceLabelUpdate(ns);
    } catch (e) {
      ndds.forEach((m, i) => {
        m.ndd.data = saved[i]!;
      });
      throw e;
    }
  }

  /** `alt_name_store()`: EBUSY while enabled or claimed, EINVAL above 63 bytes; then the labels. */
  private nsAltNameStore(ns: NdNamespacePmem, buf: string): void {
    this.nsTransaction(ns, () => {
      this.nsCheckIdle(ns);
      const name = strim(buf);
      if (new TextEncoder().encode(name).length + 1 > 64) throw new KernelError('EINVAL', `${devName(ns)}: alt_name longer than 63 bytes`);
      ns.altName = name;
      this.ndNamespaceLabelUpdate(ns);
    });
  }

  /** `sector_size_store()` of a pmem namespace: 512 or 4096 (`pmem_lbasize_supported`); then the labels. */
  private nsSectorSizeStore(ns: NdNamespacePmem, buf: string): void {
    this.nsTransaction(ns, () => {
      this.nsCheckIdle(ns);
      ns.lbasize = ndSizeSelectStore(false, buf, PMEM_LBASIZE_SUPPORTED);
      this.ndNamespaceLabelUpdate(ns);
    });
  }

  /** `nd_region_remove()`: every child unregistered (newest first), the seeds forgotten. */
  private ndRegionRemove(region: NdRegion): void {
    for (const child of region.ndChildren.slice().reverse()) this.ndDeviceUnregister(child);
    region.bttSeed = undefined;
    region.pfnSeed = undefined;
    region.daxSeed = undefined;
    region.nsSeed = undefined;
    region.nsActive = undefined;
    region.nsCount = undefined;
  }

  /** `nd_region_advance_seeds()`: a bound seed is replaced by a new one. */
  private ndRegionAdvanceSeeds(region: NdRegion, dev: Device): void {
    if (region.nsSeed !== undefined && region.nsSeed === dev) {
      this.ndRegionCreateNsSeed(region);
      return;
    }
    if (dev instanceof NdBtt && region.bttSeed === dev) {
      region.bttSeed = this.ndBttCreate(region);
    } else if (dev instanceof NdPfn && dev.kind === 'pfn' && region.pfnSeed === dev) {
      region.pfnSeed = this.ndPfnCreate(region, 'pfn');
    } else if (dev instanceof NdPfn && dev.kind === 'dax' && region.daxSeed === dev) {
      region.daxSeed = this.ndPfnCreate(region, 'dax');
    }
    // A personality bound on the seed namespace uses it up too.
    if ((dev instanceof NdBtt || dev instanceof NdPfn) && dev.ndns !== undefined && region.nsSeed === dev.ndns) this.ndRegionCreateNsSeed(region);
  }

  /** `nd_pfn_alloc()` + `nd_pfn_devinit()`: a pfn (or nd dax) device, optionally claiming `ndns`. */
  private ndPfnAlloc(region: NdRegion, kind: 'pfn' | 'dax', ndns: NdNamespaceIo | undefined): NdPfn | undefined {
    const ida = this.idas(region)[kind];
    const id = ida.get();
    const pfn = new NdPfn(kind, region, id, this.defaultAlignment());
    pfn.bus = this.ndBusType;
    pfn.type = { name: kind === 'pfn' ? 'nd_pfn' : 'nd_dax', groups: [this.pfnAttrs(), this.deviceAttrs(), this.numaAttrs()] };
    this.kernel.devices.deviceInitialize(pfn);
    if (ndns !== undefined && !this.ndAttachNdns(pfn, ndns)) {
      devDbg(ndns, `failed, already claimed by ${devName(ndns.claim!)}`);
      ida.remove(id);
      return undefined;
    }
    region.ndChildren.push(pfn);
    return pfn;
  }

  /** `nd_pfn_create()` / `nd_dax_create()`: a seed (pmem regions only). */
  private ndPfnCreate(region: NdRegion, kind: 'pfn' | 'dax'): NdPfn | undefined {
    const pfn = this.ndPfnAlloc(region, kind, undefined);
    if (pfn === undefined) return undefined;
    this.ndDeviceRegister(pfn);
    return pfn;
  }

  /** `nd_btt_create()`: the btt seed. */
  private ndBttCreate(region: NdRegion): NdBtt {
    const btt = this.ndBttAlloc(region, undefined);
    this.ndDeviceRegister(btt);
    return btt;
  }

  /** `nd_info_block_reserve()` (drivers/nvdimm/nd.h): `ALIGN(SZ_8K, PAGE_SIZE)`. */
  private ndInfoBlockReserve(): number {
    return Math.ceil(SZ_8K / this.pageSize) * this.pageSize;
  }

  /** `nd_pfn_default_alignment()`. */
  private defaultAlignment(): number {
    return this.pmdSize ?? this.pageSize;
  }

  /** `nd_pfn_supported_alignments()`. */
  private supportedAlignments(): number[] {
    const a = [this.pageSize];
    if (this.pmdSize !== undefined) a.push(this.pmdSize);
    if (this.pudSize !== undefined) a.push(this.pudSize);
    return a;
  }

  // =====================================================================
  // claims (drivers/nvdimm/claim.c)
  // =====================================================================

  /** `__nd_attach_ndns()`: false if the namespace is already claimed. */
  private ndAttachNdns(dev: NdPfn | NdBtt, ndns: NdNamespaceIo): boolean {
    if (ndns.claim !== undefined) return false;
    ndns.claim = dev;
    dev.ndns = ndns;
    return true;
  }

  /** `__nd_detach_ndns()`. */
  private ndDetachNdns(dev: NdPfn | NdBtt): void {
    const ndns = dev.ndns;
    if (ndns === undefined) return;
    if (ndns.claim === dev) ndns.claim = undefined;
    dev.ndns = undefined;
  }

  /** `is_idle()`: a personality that is not the seed, has no namespace and no driver. */
  private isIdle(dev: NdPfn | NdBtt): boolean {
    const r = dev.region;
    const seed = dev instanceof NdBtt ? r.bttSeed : dev.kind === 'pfn' ? r.pfnSeed : r.daxSeed;
    return !(seed === dev || dev.ndns !== undefined || dev.driver !== undefined);
  }

  /**
   * `nd_namespace_store()`: the `namespace` attribute of a personality.
   * "" detaches (and removes the device when it is then idle); otherwise the
   * name must start with "namespace" (EINVAL), nothing may be attached yet
   * (EBUSY), the namespace must exist below the region (ENODEV), its
   * `holder_class` must allow this personality (EBUSY), it must hold at
   * least 16 MiB (ENXIO) and be unclaimed (EBUSY).
   */
  private ndNamespaceStore(dev: NdPfn | NdBtt, buf: string): void {
    if (dev.driver !== undefined) {
      devDbg(dev, 'nd_namespace_store: -EBUSY');
      throw new KernelError('EBUSY', `${devName(dev)}: namespace already active`);
    }
    const name = strim(buf);
    if (!(name.startsWith('namespace') || name === '')) throw new KernelError('EINVAL', `${devName(dev)}: '${name}' is not a namespace`);
    if (name === '') {
      this.ndDetachAndReset(dev);
      return;
    }
    if (dev.ndns !== undefined) {
      devDbg(dev, `namespace already set to: ${devName(dev.ndns)}`);
      throw new KernelError('EBUSY', `${devName(dev)}: namespace already set to ${devName(dev.ndns)}`);
    }
    const found = dev.region.ndChildren.find((c): c is NdNamespaceIo => c instanceof NdNamespaceIo && devName(c) === name && c.registered);
    if (found === undefined) {
      devDbg(dev, `'${name}' not found under ${devName(dev.region)}`);
      throw new KernelError('ENODEV', `'${name}' not found under ${devName(dev.region)}`);
    }
    const cc = found.claimClass;
    const ok =
      cc === NvdimmClaimClass.NVDIMM_CCLASS_NONE ||
      ((cc === NvdimmClaimClass.NVDIMM_CCLASS_BTT || cc === NvdimmClaimClass.NVDIMM_CCLASS_BTT2) && dev instanceof NdBtt) ||
      (cc === NvdimmClaimClass.NVDIMM_CCLASS_PFN && dev instanceof NdPfn && dev.kind === 'pfn') ||
      (cc === NvdimmClaimClass.NVDIMM_CCLASS_DAX && dev instanceof NdPfn && dev.kind === 'dax');
    if (!ok) throw new KernelError('EBUSY', `${name}: holder_class does not allow ${devName(dev)}`);
    if (found.size < ND_MIN_CLAIM_SIZE) {
      devDbg(dev, `${name} too small to host`);
      throw new KernelError('ENXIO', `${name} too small to host`);
    }
    if (!this.ndAttachNdns(dev, found)) {
      devDbg(dev, `${name} already claimed`);
      throw new KernelError('EBUSY', `${name} already claimed`);
    }
  }

  /** `nd_detach_and_reset()`. */
  private ndDetachAndReset(dev: NdPfn | NdBtt): void {
    this.ndDetachNdns(dev);
    if (this.isIdle(dev)) {
      this.ndDeviceUnregister(dev);
    } else if (dev instanceof NdBtt) {
      dev.lbasize = 0;
      dev.uuid = undefined;
    } else {
      dev.uuid = undefined;
      dev.mode = PfnMode.PFN_MODE_NONE;
    }
  }

  // =====================================================================
  // namespace helpers (drivers/nvdimm/namespace_devs.c, claim.c)
  // =====================================================================

  /** `pmem_should_map_pages()`: a raw namespace gets struct pages (in RAM). */
  private pmemShouldMapPages(ns: NdNamespaceIo): boolean {
    if (!this.memremap.zoneDevice) return false;
    if (!ns.region.regionFlags.has(ND_REGION_PAGEMAP)) return false;
    if (ns.forceRaw) return false;
    if (this.kernel.iomem.regionIntersects(ns.res.start, ns.size, IORESOURCE_SYSTEM_RAM, IORES_DESC_NONE) === REGION_MIXED) return false;
    return true;
  }

  /**
   * `devm_namespace_enable()` → `devm_nsio_enable()`: reserves the
   * namespace's range in iomem under the namespace's name for `dev` (dev_warn
   * "could not reserve region %pR" and EBUSY if taken). Returns the devres
   * entry so that `devm_namespace_disable()` can release it early.
   */
  private devmNamespaceEnable(dev: Device, ns: NdNamespaceIo): Devres {
    const res = this.kernel.iomem.requestMemRegion(ns.res.start, ns.size, devName(ns));
    if (res === undefined) {
      devWarn(dev, `could not reserve region ${formatResource(ns.res)}`);
      throw new KernelError('EBUSY', `could not reserve region ${formatResource(ns.res)}`);
    }
    const entry = devmAddActionOrReset(dev, () => this.kernel.iomem.releaseMemRegion(ns.res.start, ns.size), 'devm_region_release');
    // devm_init_badblocks(&nsio->bb) and nvdimm_badblocks_populate() over the namespace.
    const bb = new Badblocks();
    this.badblocksPopulate(ns.region.nvdimmBus, bb, ns.res.start, ns.size);
    this.nsioBb.set(ns, bb);
    return entry;
  }

  /** `nvdimm_read_bytes()` through `nsio_rw_bytes()`: -EFAULT "request out of range". */
  private nsRead(ns: NdNamespaceIo, offset: number, size: number): Uint8Array {
    if (offset + size > ns.size) throw new KernelError('EFAULT', `${devName(ns)}: request out of range`);
    return this.physmem.read(ns.res.start + offset, size);
  }

  /** `nvdimm_write_bytes()` through `nsio_rw_bytes()`. */
  private nsWrite(ns: NdNamespaceIo, offset: number, data: Uint8Array): void {
    if (offset + data.length > ns.size) throw new KernelError('EFAULT', `${devName(ns)}: request out of range`);
    this.physmem.write(ns.res.start + offset, data);
  }

  /**
   * `nvdimm_namespace_common_probe()`: the namespace behind `dev`. A claimed
   * namespace cannot be probed by itself (ENXIO); a personality without a
   * namespace fails with ENODEV; so does a namespace below `PAGE_SIZE`.
   */
  private commonProbe(dev: Device): NdNamespaceIo {
    let ns: NdNamespaceIo | undefined;
    if (dev instanceof NdPfn || dev instanceof NdBtt) {
      ns = dev.ndns;
      if (ns === undefined) throw new KernelError('ENODEV', `${devName(dev)}: no namespace attached`);
    } else if (dev instanceof NdNamespaceIo) {
      ns = dev;
      if (ns.claim !== undefined) {
        devDbg(dev, `claimed by ${devName(ns.claim)}, failing probe`);
        throw new KernelError('ENXIO', `${devName(dev)}: claimed by ${devName(ns.claim)}, failing probe`);
      }
    } else {
      throw new KernelError('ENODEV', `${devName(dev)}: not a namespace`);
    }
    if (ns instanceof NdNamespacePmem && ns.uuid === undefined) {
      devDbg(ns, 'nvdimm_namespace_common_probe: uuid not set');
      throw new KernelError('ENODEV', `${devName(ns)}: uuid not set`);
    }
    if (ns.size < this.pageSize) {
      devDbg(ns, `0x${ns.size.toString(16).padStart(16, '0')}, too small must be at least 0x${this.pageSize.toString(16)}`);
      throw new KernelError('ENODEV', `${devName(ns)} too small`);
    }
    return ns;
  }

  // =====================================================================
  // the pfn info block (drivers/nvdimm/pfn_devs.c)
  // =====================================================================

  /**
   * `nd_pfn_validate(nd_pfn, sig)`: reads the info block at namespace
   * offset 4 KiB and checks it, in the kernel's order. ENODEV means "no
   * (usable) info block here" and lets `nd_pfn_init()` write a fresh one;
   * every other error aborts. A pfn device without a uuid (the probe path)
   * adopts the block's uuid, align and mode.
   */
  private ndPfnValidate(pfn: NdPfn, sig: string): void {
    this.traced('nd_pfn_validate', [pfn, sig.slice(0, -1)], () => this.ndPfnValidateImpl(pfn, sig));
  }

  private ndPfnValidateImpl(pfn: NdPfn, sig: string): void {
    const ns = pfn.ndns;
    if (ns === undefined) throw new KernelError('ENODEV', `${devName(pfn)}: no namespace`);
    let raw: Uint8Array;
    try {
      raw = this.nsRead(ns, ND_PFN_SB_OFFSET, ND_PFN_SB_SIZE);
    } catch {
      throw new KernelError('ENXIO', `${devName(pfn)}: info block read failed`);
    }
    const sb = decodeNdPfnSb(raw);
    if (sb.signature !== sig) throw new KernelError('ENODEV', `${devName(pfn)}: no ${sig.slice(0, -1)} signature`);
    if (ndSbChecksum(raw, 4088) !== sb.checksum) throw new KernelError('ENODEV', `${devName(pfn)}: info block checksum mismatch`);
    if (sb.parentUuid.some((b) => b !== 0)) throw new KernelError('ENODEV', `${devName(pfn)}: parent uuid mismatch`);
    let startPad = sb.startPad;
    let endTrunc = sb.endTrunc;
    let align = sb.align;
    let pageSize = sb.pageSize;
    let pageStructSize = sb.pageStructSize;
    if (sb.versionMinor < 1) {
      startPad = 0;
      endTrunc = 0;
    }
    if (sb.versionMinor < 2) align = 0;
    if (sb.versionMinor < 4) {
      pageStructSize = 64;
      pageSize = this.pageSize;
    }
    const mode = sb.mode;
    if (mode !== PfnMode.PFN_MODE_RAM && mode !== PfnMode.PFN_MODE_PMEM) throw new KernelError('ENXIO', `${devName(pfn)}: bad pfn mode ${mode}`);
    const offset = sb.dataoff;
    if (align === 0) align = offset > 0 ? 2 ** Math.floor(Math.log2(offset)) : 0;
    if (mode === PfnMode.PFN_MODE_PMEM) {
      if (pageSize > this.pageSize) {
        devErr(pfn, `init failed, page size mismatch ${pageSize}`);
        throw new KernelError('EOPNOTSUPP', `init failed, page size mismatch ${pageSize}`);
      }
      if (pageStructSize < 64) {
        devErr(pfn, `init failed, struct page size mismatch ${pageStructSize}`);
        throw new KernelError('EOPNOTSUPP', `init failed, struct page size mismatch ${pageStructSize}`);
      }
    }
    if (!this.supportedAlignments().includes(align) && sig === DAX_SIG) {
      devErr(pfn, `init failed, alignment mismatch: ${pfn.align}:${align}`);
      throw new KernelError('EOPNOTSUPP', `init failed, alignment mismatch: ${pfn.align}:${align}`);
    }
    if (pfn.uuid === undefined) {
      pfn.uuid = sb.uuid.slice();
      pfn.align = align;
      pfn.mode = mode;
    } else {
      if (pfn.uuid.some((b, i) => b !== sb.uuid[i])) throw new KernelError('ENODEV', `${devName(pfn)}: uuid mismatch`);
      if (pfn.align !== align || pfn.mode !== mode) {
        devErr(pfn, 'init failed, settings mismatch');
        devDbg(pfn, `align: ${pfn.align.toString(16)}:${align.toString(16)} mode: ${pfn.mode}:${mode}`);
        throw new KernelError('EOPNOTSUPP', 'init failed, settings mismatch');
      }
    }
    if (align > ns.size) {
      devErr(pfn, `alignment: ${align.toString(16)} exceeds capacity ${ns.size.toString(16)}`);
      throw new KernelError('EOPNOTSUPP', `alignment: ${align.toString(16)} exceeds capacity ${ns.size.toString(16)}`);
    }
    if (offset >= ns.size) {
      devErr(pfn, `pfn array size exceeds capacity of ${devName(ns)}`);
      throw new KernelError('EOPNOTSUPP', `pfn array size exceeds capacity of ${devName(ns)}`);
    }
    if ((align !== 0 && (ns.res.start + offset + startPad) % align !== 0) || offset % this.pageSize !== 0) {
      devErr(pfn, `bad offset: ${hex(offset)} dax disabled align: ${hex(align)}`);
      throw new KernelError('EOPNOTSUPP', `bad offset: ${hex(offset)} dax disabled align: ${hex(align)}`);
    }
    const compat = this.memremap.memremapCompatAlign();
    if ((ns.res.start + startPad) % compat !== 0) {
      devErr(pfn, 'resource start misaligned');
      throw new KernelError('EOPNOTSUPP', 'resource start misaligned');
    }
    if ((ns.res.end + 1 - endTrunc) % compat !== 0) {
      devErr(pfn, 'resource end misaligned');
      throw new KernelError('EOPNOTSUPP', 'resource end misaligned');
    }
    pfn.pfnSb = sb;
  }

  /**
   * `nd_pfn_init()`: a valid info block is kept; on ENODEV (none, torn, or
   * another device's) a fresh v1.4 block is computed and written at
   * namespace offset 4 KiB — unless the region is read-only (dev_info "%s is
   * read-only, unable to init metadata", ENXIO). Other validation errors are
   * returned and nothing is written.
   */
  private ndPfnInit(pfn: NdPfn): void {
    this.traced('nd_pfn_init', [pfn], () => this.ndPfnInitImpl(pfn));
  }

  private ndPfnInitImpl(pfn: NdPfn): void {
    const ns = pfn.ndns!;
    const sig = pfn.kind === 'dax' ? DAX_SIG : PFN_SIG;
    try {
      this.ndPfnValidate(pfn, sig);
      return; // nd_pfn_clear_memmap_errors(): the model keeps no badblocks.
    } catch (e) {
      if (!(isKernelError(e) && e.errno === 'ENODEV')) throw e;
    }
    if (pfn.region.ro) {
      devInfo(pfn, `${devName(pfn.region)} is read-only, unable to init metadata`);
      throw new KernelError('ENXIO', `${devName(pfn.region)} is read-only, unable to init metadata`);
    }
    let layout;
    try {
      layout = ndPfnLayout(ns.res.start, ns.size, pfn.align, pfn.mode, this.memremap.memremapCompatAlign(), this.pageSize, devName(ns));
    } catch (e) {
      if (isKernelError(e) && e.errno !== 'ENXIO') devErr(pfn, e.message);
      else if (isKernelError(e) && e.message.endsWith('unable to satisfy requested alignment')) devErr(pfn, e.message);
      throw e;
    }
    const fields = {
      signature: sig,
      uuid: pfn.uuid!,
      parentUuid: new Uint8Array(16),
      flags: 0,
      versionMajor: 1,
      versionMinor: 4,
      dataoff: layout.dataoff,
      npfns: layout.npfns,
      mode: pfn.mode,
      startPad: 0,
      endTrunc: layout.endTrunc,
      align: pfn.align,
      pageSize: this.pageSize,
      pageStructSize: 64,
    };
    const bytes = encodeNdPfnSb(fields);
    this.nsWrite(ns, ND_PFN_SB_OFFSET, bytes);
    pfn.pfnSb = decodeNdPfnSb(bytes);
  }

  /**
   * `nvdimm_setup_pfn()` + `__nvdimm_setup_pfn()`: the info block, then the
   * pagemap: range `[start + start_pad, end - end_trunc]`. The info block
   * reserve is `nd_info_block_reserve()` = `ALIGN(SZ_8K, PAGE_SIZE)`
   * (drivers/nvdimm/nd.h): 8 KiB with 4K pages, one 64 KiB page on powerpc.
   * map=mem needs `dataoff >= reserve` (EINVAL); map=dev gets the altmap
   * `{ base_pfn: SUBSECTION_ALIGN_DOWN(base), reserve: PHYS_PFN(reserve) +
   * misalignment, free: PHYS_PFN(dataoff - reserve), end_pfn }` with
   * `PGMAP_ALTMAP_VALID`.
   */
  private nvdimmSetupPfn(pfn: NdPfn): DevPagemap {
    if (pfn.uuid === undefined || pfn.ndns === undefined) throw new KernelError('ENODEV', `${devName(pfn)}: uuid and namespace must be set`);
    this.ndPfnInit(pfn);
    const sb = pfn.pfnSb!;
    const ns = pfn.ndns;
    const start = ns.res.start + sb.startPad;
    const end = ns.res.end - sb.endTrunc;
    const reserve = this.ndInfoBlockReserve();
    const range = { start, end };
    if (pfn.mode === PfnMode.PFN_MODE_RAM) {
      if (sb.dataoff < reserve) throw new KernelError('EINVAL', `${devName(pfn)}: data offset below the info block reserve`);
      pfn.npfns = sb.npfns;
      return new DevPagemap({ type: MEMORY_DEVICE_FS_DAX, range, name: devName(pfn) });
    }
    if (pfn.mode !== PfnMode.PFN_MODE_PMEM) throw new KernelError('ENXIO', `${devName(pfn)}: no pfn mode`);
    pfn.npfns = Math.floor((end - start + 1 - sb.dataoff) / this.pageSize);
    if (sb.npfns > pfn.npfns) devInfo(pfn, `number of pfns truncated from ${sb.npfns} to ${pfn.npfns}`);
    const basePfn = Math.floor(start / this.pageSize);
    const subsectionPages = 2 ** (21 - this.pageShift);
    const alignedBase = basePfn - (basePfn % subsectionPages);
    const altmap = vmemAltmap({
      basePfn: alignedBase,
      reserve: reserve / this.pageSize + (basePfn - alignedBase),
      endPfn: Math.floor(end / this.pageSize),
      free: Math.floor((sb.dataoff - reserve) / this.pageSize),
    });
    return new DevPagemap({ type: MEMORY_DEVICE_FS_DAX, range, altmap, flags: PGMAP_ALTMAP_VALID, name: devName(pfn) });
  }

  /**
   * `nd_pfn_probe()` (`kind` 'pfn', `PFN_SIG`) and `nd_dax_probe()` (`kind`
   * 'dax', `DAX_SIG`, drivers/nvdimm/dax_devs.c): a namespace being probed
   * raw is checked for an info block of that kind; if one validates, a new
   * pfn (or nd dax) device claiming the namespace is registered with the
   * block's uuid, mode and align, and the namespace's probe ends with ENXIO.
   * Throws the validation error otherwise (ENODEV for none; force_raw and a
   * claim class of another personality are ENODEV too).
   */
  private ndPfnProbe(ns: NdNamespaceIo, kind: 'pfn' | 'dax'): void {
    if (ns.forceRaw) throw new KernelError('ENODEV', 'force_raw');
    const own = kind === 'pfn' ? NvdimmClaimClass.NVDIMM_CCLASS_PFN : NvdimmClaimClass.NVDIMM_CCLASS_DAX;
    if (ns.claimClass !== NvdimmClaimClass.NVDIMM_CCLASS_NONE && ns.claimClass !== own) throw new KernelError('ENODEV', 'claim class');
    // The namespace is being probed, so nothing claims it: devinit's attach succeeds.
    const pfn = this.ndPfnAlloc(ns.region, kind, ns)!;
    try {
      this.ndPfnValidate(pfn, kind === 'pfn' ? PFN_SIG : DAX_SIG);
    } catch (e) {
      devDbg(ns, `${kind}: <none>`);
      this.ndDetachNdns(pfn);
      this.ndDeviceRelease(pfn);
      throw e;
    }
    devDbg(ns, `${kind}: ${devName(pfn)}`);
    this.ndDeviceRegister(pfn);
  }

  // =====================================================================
  // nd_pmem driver (drivers/nvdimm/pmem.c)
  // =====================================================================

  /** `nd_pmem_probe()`. */
  private ndPmemProbe(dev: Device): void {
    this.traced('nd_pmem_probe', [dev], () => this.ndPmemProbeImpl(dev));
  }

  private ndPmemProbeImpl(dev: Device): void {
    const ns = this.commonProbe(dev);
    if (dev instanceof NdBtt) {
      this.nvdimmNamespaceAttachBtt(dev, ns);
      return;
    }
    if (dev instanceof NdPfn) {
      this.pmemAttachDisk(dev, ns);
      return;
    }
    const en = this.devmNamespaceEnable(dev, ns);
    // If a valid info block is found, the namespace comes back as that personality.
    const attempt = (probe: () => void): KernelError | undefined => {
      try {
        probe();
        return undefined;
      } catch (e) {
        if (isKernelError(e)) return e;
        devmReleaseAction(dev, en);
        throw e;
      }
    };
    if (attempt(() => this.ndBttProbe(ns)) === undefined) {
      devmReleaseAction(dev, en);
      throw new KernelError('ENXIO', `${devName(ns)}: comes back as its btt device`);
    }
    for (const kind of ['pfn', 'dax'] as const) {
      const rc = attempt(() => this.ndPfnProbe(ns, kind));
      if (rc === undefined || rc.errno === 'EOPNOTSUPP') {
        devmReleaseAction(dev, en);
        throw rc ?? new KernelError('ENXIO', `${devName(ns)}: comes back as its ${kind} device`);
      }
    }
    // "probe complete, attach handles namespace enabling"
    devmReleaseAction(dev, en);
    this.pmemAttachDisk(dev, ns);
  }

  /** `nd_pmem_remove()`: the disk goes with the devres actions; flush the region. */
  private ndPmemRemove(dev: Device): void {
    this.bindings.get(dev)?.disk.kill();
  }

  /** The namespace's `rw_bytes` (`nsio_rw_bytes()`) as the BTT's media. */
  private nsMedia(ns: NdNamespaceIo): NdMedia {
    return {
      size: ns.size,
      read: (offset: number, dst: Uint8Array): void => {
        if (offset + dst.length > ns.size) throw new KernelError('EFAULT', `${devName(ns)}: request out of range`);
        if (isBadPmem(this.nsioBb.get(ns), offset, dst.length)) throw new KernelError('EIO', `${devName(ns)}: media error`);
        this.physmem.readInto(ns.res.start + offset, dst);
      },
      // nsio_rw_bytes() write: over a media error a sector-aligned write clears the poison first
      // (EIO if it cannot); an unaligned one fails with EIO. The bytes are written either way.
      write: (offset: number, src: Uint8Array): void => {
        if (offset + src.length > ns.size) throw new KernelError('EFAULT', `${devName(ns)}: request out of range`);
        let rc = 0;
        const bb = this.nsioBb.get(ns);
        if (isBadPmem(bb, offset, src.length)) {
          if (offset % 512 === 0 && src.length % 512 === 0) {
            const cleared = this.nvdimmClearPoison(ns, ns.res.start + offset, src.length);
            if (cleared < src.length) rc = -ERRNO.EIO;
            if (cleared >= 512) bb!.clear(BigInt(offset / 512), BigInt(Math.floor(cleared / 512)));
          } else rc = -ERRNO.EIO;
        }
        this.physmem.write(ns.res.start + offset, src);
        if (rc !== 0) throw new KernelError('EIO', `${devName(ns)}: media error`);
      },
      isPoisoned: (offset: number, len: number): boolean => isBadPmem(this.nsioBb.get(ns), offset, len),
    };
  }

  /** `__nd_btt_create()`: a btt device on `region`, claiming `ndns` if given. */
  private ndBttAlloc(region: NdRegion, ndns: NdNamespaceIo | undefined): NdBtt {
    const id = this.idas(region).btt.get();
    const btt = new NdBtt(region, id);
    btt.bus = this.ndBusType;
    btt.type = { name: 'nd_btt', groups: [this.bttAttrs(), this.deviceAttrs(), this.numaAttrs()] };
    this.kernel.devices.deviceInitialize(btt);
    if (ndns !== undefined) this.ndAttachNdns(btt, ndns);
    region.ndChildren.push(btt);
    return btt;
  }

  /**
   * `nd_btt_probe()` (drivers/nvdimm/btt_devs.c): a namespace being probed
   * raw is checked for a BTT info block of its claim class's format; if one
   * is valid, a new btt device with the block's sector size and uuid claims
   * the namespace and is registered (nd_pmem binds it). ENODEV otherwise
   * (force_raw, a pfn/dax claim class, no block), ENXIO below 16 MiB.
   */
  private ndBttProbe(ns: NdNamespaceIo): void {
    if (ns.forceRaw) throw new KernelError('ENODEV', 'force_raw');
    const cc = ns.claimClass;
    if (cc !== NvdimmClaimClass.NVDIMM_CCLASS_NONE && cc !== NvdimmClaimClass.NVDIMM_CCLASS_BTT && cc !== NvdimmClaimClass.NVDIMM_CCLASS_BTT2) {
      throw new KernelError('ENODEV', 'claim class');
    }
    const found = ndBttProbe(this.nsMedia(ns), cc);
    const btt = this.ndBttAlloc(ns.region, ns);
    btt.lbasize = found.lbasize;
    btt.uuid = found.uuid.slice();
    devDbg(ns, `btt: ${devName(btt)}`);
    this.ndDeviceRegister(btt);
  }

  /**
   * `nvdimm_namespace_attach_btt()` + `btt_blk_init()` (drivers/nvdimm/btt.c):
   * the btt device needs a uuid, a namespace and a sector size (ENODEV
   * "incomplete btt configuration"); the namespace stays reserved for it, the
   * BTT is found or laid out on the media (src/btt.ts), and `/dev/pmemNs`
   * exports its sectors.
   */
  private nvdimmNamespaceAttachBtt(btt: NdBtt, ns: NdNamespaceIo): void {
    this.traced('nvdimm_namespace_attach_btt', [ns], () => this.nvdimmNamespaceAttachBttImpl(btt, ns));
  }

  private nvdimmNamespaceAttachBttImpl(btt: NdBtt, ns: NdNamespaceIo): void {
    if (btt.uuid === undefined || btt.ndns === undefined || btt.lbasize === 0) {
      devDbg(btt, 'incomplete btt configuration');
      throw new KernelError('ENODEV', `${devName(btt)}: incomplete btt configuration`);
    }
    this.devmNamespaceEnable(btt, ns);
    const region = ns.region;
    const log = (level: BttLogLevel, msg: string): void => {
      if (level === 'err') devErr(btt, msg);
      else if (level === 'warn') devWarn(btt, msg);
      else if (level === 'info') devInfo(btt, msg);
      else devDbg(btt, msg);
    };
    const b = Btt.attach(this.nsMedia(ns), { lbasize: btt.lbasize, uuid: btt.uuid, claimClass: ns.claimClass, readOnly: region.ro, log });
    const disk = new BttDisk(`${this.diskName(ns)}s`, b, region.ro);
    this.addDisk(btt, disk);
    const debugfsDir = this.bttDebugfsInit(b, devName(btt));
    devmAddActionOrReset(btt, () => debugfsRemoveRecursive(this.kernel, debugfsDir), 'btt_debugfs_remove');
    btt.size = b.capacity;
    this.bindings.set(btt, { disk, pgmap: undefined });
    devmAddActionOrReset(
      btt,
      () => {
        this.bindings.delete(btt);
        btt.size = 0;
      },
      'btt_release',
    );
  }

  /**
   * `btt_debugfs_init()` + `arena_debugfs_init()` (drivers/nvdimm/btt.c):
   * `/sys/kernel/debug/btt/<btt device>/arena<N>/`, one read-only file per
   * field of each arena, showing its live value (ndctl's btt-pad-compat test
   * reads `log_index_0`/`log_index_1` there). Like the kernel, a directory
   * that cannot be created leaves the BTT without its debugfs files and is
   * not an error. Returns the device's directory, undefined then.
   */
  private bttDebugfsInit(b: Btt, name: string): string | undefined {
    const k = this.kernel;
    let dir: string;
    try {
      dir = debugfsCreateDir(k, name, this.bttDebugfsRoot);
    } catch (e) {
      if (isKernelError(e)) return undefined;
      throw e;
    }
    b.arenas.forEach((a, idx) => {
      const d = debugfsCreateDir(k, `arena${idx}`, dir);
      debugfsCreateX64(k, 'size', 0o444, d, () => a.size);
      debugfsCreateX64(k, 'external_lba_start', 0o444, d, () => a.externalLbaStart);
      debugfsCreateX32(k, 'internal_nlba', 0o444, d, () => a.internalNlba);
      debugfsCreateU32(k, 'internal_lbasize', 0o444, d, () => a.internalLbasize);
      debugfsCreateX32(k, 'external_nlba', 0o444, d, () => a.externalNlba);
      debugfsCreateU32(k, 'external_lbasize', 0o444, d, () => a.externalLbasize);
      debugfsCreateU32(k, 'nfree', 0o444, d, () => a.nfree);
      debugfsCreateU16(k, 'version_major', 0o444, d, () => a.versionMajor);
      debugfsCreateU16(k, 'version_minor', 0o444, d, () => a.versionMinor);
      debugfsCreateX64(k, 'nextoff', 0o444, d, () => a.nextoff);
      debugfsCreateX64(k, 'infooff', 0o444, d, () => a.infooff);
      debugfsCreateX64(k, 'dataoff', 0o444, d, () => a.dataoff);
      debugfsCreateX64(k, 'mapoff', 0o444, d, () => a.mapoff);
      debugfsCreateX64(k, 'logoff', 0o444, d, () => a.logoff);
      debugfsCreateX64(k, 'info2off', 0o444, d, () => a.info2off);
      debugfsCreateX32(k, 'flags', 0o444, d, () => a.flags);
      debugfsCreateU32(k, 'log_index_0', 0o444, d, () => a.logIndex[0]);
      debugfsCreateU32(k, 'log_index_1', 0o444, d, () => a.logIndex[1]);
    });
    return dir;
  }

  /**
   * `pmem_attach_disk()`: see the file comment. Everything it acquires is
   * recorded in `dev`'s devres, so a failure or an unbind undoes it in
   * reverse order.
   */
  private pmemAttachDisk(dev: Device, ns: NdNamespaceIo): void {
    this.traced('pmem_attach_disk', [dev, ns], () => this.pmemAttachDiskImpl(dev, ns));
  }

  private pmemAttachDiskImpl(dev: Device, ns: NdNamespaceIo): void {
    const region = ns.region;
    const en = this.devmNamespaceEnable(dev, ns);
    let pgmap: DevPagemap | undefined;
    if (dev instanceof NdPfn) pgmap = this.nvdimmSetupPfn(dev);
    devmReleaseAction(dev, en);
    // nvdimm_has_flush(): -ENXIO without DIMM mappings.
    if (region.ndrMappings === 0) devWarn(dev, 'unable to guarantee persistence of writes');
    const res = this.kernel.iomem.requestMemRegion(ns.res.start, ns.size, devName(ns));
    if (res === undefined) {
      devWarn(dev, `could not reserve region ${formatResource(ns.res)}`);
      throw new KernelError('EBUSY', `could not reserve region ${formatResource(ns.res)}`);
    }
    devmAddActionOrReset(dev, () => this.kernel.iomem.releaseMemRegion(ns.res.start, ns.size), 'devm_region_release');
    let dataOffset = 0;
    let pfnPad = 0;
    let pfnFlags = PFN_DEV;
    if (dev instanceof NdPfn) {
      this.memremap.devmMemremapPages(dev, pgmap!);
      dataOffset = dev.pfnSb!.dataoff;
      const r = pgmap!.ranges[0]!;
      pfnPad = ns.size - (r.end - r.start + 1);
      pfnFlags = PFN_DEV + PFN_MAP;
    } else if (this.pmemShouldMapPages(ns)) {
      pgmap = new DevPagemap({ type: MEMORY_DEVICE_FS_DAX, range: { start: ns.res.start, end: ns.res.end }, name: devName(ns) });
      this.memremap.devmMemremapPages(dev, pgmap);
      pfnFlags = PFN_DEV + PFN_MAP;
    }
    // else devm_memremap(): the bytes are reachable through PhysMem, no struct pages.
    const name = this.diskName(ns);
    // bb_range: the data area, [res.start + start_pad + data_offset, res.end - end_trunc].
    const dataStart = ns.res.start + dataOffset;
    const { poison, bb } = this.diskPoison(dev, ns, dataStart, ns.size - dataOffset - pfnPad);
    const disk = new PmemDisk(
      { name, physAddr: ns.res.start, size: ns.size, dataOffset, pfnPad, pfnFlags, pgmap, readOnly: region.ro, poison },
      this.physmem,
      this.memremap,
      this.kernel.log,
      this.pageShift,
    );
    this.addDisk(dev, disk);
    this.diskBb.set(disk, { bb, start: dataStart, size: ns.size - dataOffset - pfnPad, bus: region.nvdimmBus });
    this.bindings.set(dev, { disk, pgmap });
    // pmem->bb lives in devres memory (devm_init_badblocks()): it goes with the binding
    devmAddActionOrReset(
      dev,
      () => {
        this.bindings.delete(dev);
        this.diskBb.delete(disk);
      },
      'pmem_release_binding',
    );
    if (region.ro) devInfo(dev, `${devName(region)} read-only, marking ${name} read-only`);
  }

  /**
   * `disk_badblocks_show()` (block/genhd.c): `pmem->bb` as `badblocks_show()`
   * prints it; a btt disk has no `disk->bb` and shows an empty line.
   */
  private diskBadblocks(disk: PmemDisk | BttDisk): string {
    const d = disk instanceof PmemDisk ? this.diskBb.get(disk) : undefined;
    return d === undefined ? '\n' : d.bb.show();
  }

  /**
   * `disk_badblocks_store()` (block/genhd.c) → `badblocks_store()`: "sector
   * length" marks sectors of the disk bad. ENXIO for a disk without
   * `disk->bb` (btt), EINVAL for text that is not two numbers with a length
   * of at least 1, ENOSPC when the table is full.
   */
  private diskBadblocksStore(disk: PmemDisk | BttDisk, value: string): void {
    const d = disk instanceof PmemDisk ? this.diskBb.get(disk) : undefined;
    if (d === undefined) throw new KernelError('ENXIO', `disk_badblocks_store: ${disk.name}: No such device or address`);
    d.bb.store(value);
  }

  /** `nvdimm_namespace_disk_name()` without the btt suffix: "pmem<region>", or "pmem<region>.<id>" for a label namespace with id > 0. */
  private diskName(ns: NdNamespaceIo): string {
    const id = ns instanceof NdNamespacePmem ? ns.nsId : 0;
    return id !== 0 ? `pmem${ns.region.regionId}.${id}` : `pmem${ns.region.regionId}`;
  }

  /**
   * `device_add_disk()`: `<dev>/block/<disk>` with its attributes, `/sys/block/<disk>`, and the devres undo.
   * The disk asks for no major of its own (`alloc_disk(0)` with
   * `GENHD_FL_EXT_DEVT`), so `blk_alloc_devt()` gives it 259:N, the lowest
   * free blkext minor: its `dev` file, `/sys/dev/block/259:N` and the
   * devtmpfs node `/dev/<disk>`. A pmem disk first takes a dax minor for its
   * `dax_device` (`alloc_dax()` in `pmem_attach_disk()`), as device-dax
   * devices do: the two share one minor space.
   */
  private addDisk(dev: Device, disk: PmemDisk | BttDisk): void {
    const sysfs = this.kernel.sysfs;
    const dir = `${this.kernel.devices.devicePath(dev)}/block/${disk.name}`;
    if (this.diskByName.has(disk.name) || sysfs.exists(`/sys/block/${disk.name}`) || this.kernel.devtmpfs.lookup(disk.name) !== undefined) {
      throw new KernelError('EEXIST', `sysfs: cannot create duplicate filename '/block/${disk.name}'`);
    }
    const daxMinor = disk instanceof PmemDisk ? this.dax.allocDaxMinor() : undefined;
    const extMinor = this.kernel.devt.blkAllocExtMinor();
    const devt = mkdev(BLOCK_EXT_MAJOR, extMinor);
    const ro = (v: () => string): { name: string; mode: number; show: () => string } => ({ name: '', mode: 0o444, show: v });
    sysfs.createDir(dir);
    sysfs.createFile(`${dir}/size`, ro(() => `${disk.sectors}\n`));
    sysfs.createFile(`${dir}/ro`, ro(() => `${disk.readOnly ? 1 : 0}\n`));
    sysfs.createFile(`${dir}/removable`, ro(() => '0\n'));
    sysfs.createFile(`${dir}/badblocks`, {
      name: 'badblocks',
      mode: 0o644,
      show: () => this.diskBadblocks(disk),
      store: (v: string) => this.diskBadblocksStore(disk, v),
    });
    sysfs.createFile(`${dir}/queue/logical_block_size`, ro(() => `${disk.logicalBlockSize}\n`));
    sysfs.createFile(`${dir}/queue/physical_block_size`, ro(() => `${disk instanceof PmemDisk ? disk.physicalBlockSize : disk.logicalBlockSize}\n`));
    sysfs.createFile(`${dir}/queue/dax`, ro(() => `${disk instanceof PmemDisk && disk.pfnFlags !== PFN_DEV ? 1 : 0}\n`));
    sysfs.createFile(`${dir}/queue/rotational`, ro(() => '0\n'));
    sysfs.createFile(`${dir}/dev`, ro(() => `${formatDevt(devt)}\n`));
    sysfs.createLink(`/sys/block/${disk.name}`, dir);
    sysfs.createLink(`/sys/dev/block/${formatDevt(devt)}`, dir);
    this.kernel.devtmpfs.createNode(disk.name, 'block', devt);
    this.diskByName.set(disk.name, disk);
    devmAddActionOrReset(
      dev,
      () => {
        disk.kill();
        this.diskByName.delete(disk.name);
        this.kernel.devtmpfs.deleteNode(disk.name);
        sysfs.remove(`/sys/dev/block/${formatDevt(devt)}`);
        sysfs.remove(`/sys/block/${disk.name}`);
        sysfs.remove(`${this.kernel.devices.devicePath(dev)}/block`);
        this.kernel.devt.blkFreeExtMinor(extMinor);
        if (daxMinor !== undefined) this.dax.freeDaxMinor(daxMinor);
      },
      'pmem_release_disk',
    );
  }

  // =====================================================================
  // public queries
  // =====================================================================

  /** The registered nd buses, by id. */
  nvdimmBuses(): NvdimmBus[] {
    return this.buses.slice();
  }

  /** Every region of every bus, by id. */
  regions(): NdRegion[] {
    return this.kernel.devices.busDevices(this.ndBusType).filter((d): d is NdRegion => d instanceof NdRegion).sort((a, b) => a.regionId - b.regionId);
  }

  /** The pmem disk named `name` (`pmem0`), while attached (`/dev/pmem0`). */
  disk(name: string): PmemDisk | undefined {
    if (typeof name !== 'string') throw new KernelError('EINVAL', `disk: invalid name ${String(name)}`);
    const d = this.diskByName.get(name);
    return d instanceof PmemDisk ? d : undefined;
  }

  /** The sector-mode disk named `name` (`pmem0s`), while attached. */
  bttDisk(name: string): BttDisk | undefined {
    if (typeof name !== 'string') throw new KernelError('EINVAL', `disk: invalid name ${String(name)}`);
    const d = this.diskByName.get(name);
    return d instanceof BttDisk ? d : undefined;
  }

  /** The attached disks (`/dev/pmemN`, `/dev/pmemNs`), by name. */
  disks(): (PmemDisk | BttDisk)[] {
    return [...this.diskByName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The disk a bound namespace, pfn or btt device provides. */
  diskOf(dev: Device): PmemDisk | BttDisk | undefined {
    if (!(dev instanceof Device)) throw new KernelError('EINVAL', `disk: not a device: ${String(dev)}`);
    return this.bindings.get(dev)?.disk;
  }

  // =====================================================================
  // sysfs attribute groups
  // =====================================================================

  private busAttrs(): AttributeGroup {
    return {
      attrs: [
        {
          // commands_show(): the names of the commands in nd_desc->cmd_mask, each followed by a space.
          name: 'commands',
          mode: 0o444,
          show: (d) => `${busCmdMask(d as NvdimmBus).map((c) => `${nvdimmBusCmdName(c)} `).join('')}\n`,
        },
        { name: 'provider', mode: 0o444, show: (d) => `${(d as NvdimmBus).desc.providerName}\n` },
        {
          name: 'wait_probe',
          mode: 0o444,
          show: () => {
            this.ndSynchronize();
            return '1\n';
          },
        },
      ],
    };
  }

  /**
   * The NFIT bus group `nfit/` (drivers/acpi/nfit/core.c `acpi_nfit_attribute_group`),
   * given to a bus whose firmware implements ARS; of its attributes the model has
   * `scrub` (`scrub_show()` / `scrub_store()`): the number of completed scrubs,
   * with a "+" while one runs; writing 1 starts one.
   */
  private nfitBusAttrs(): AttributeGroup {
    return {
      name: 'nfit',
      attrs: [
        {
          name: 'scrub',
          mode: 0o644,
          show: (d) => {
            // scrub_show(): the count, and "+" while the scrub work runs
            const st = this.arsSettle(d as NvdimmBus);
            return `${st?.count ?? 0}${st?.busyUntil !== undefined ? '+' : ''}\n`;
          },
          store: (d, buf) => {
            // kstrtol(buf, 0, &val); only 1 starts a scrub.
            const neg = buf.startsWith('-');
            const val = kstrtoullBig(neg ? buf.slice(1) : buf);
            if (val > (neg ? 2n ** 63n : 2n ** 63n - 1n)) throw new KernelError('ERANGE', `scrub: ${strim(buf)}: out of range`);
            if (neg || val !== 1n) throw new KernelError('EINVAL', `scrub: ${strim(buf)}: only 1 starts a scrub`);
            this.acpiNfitArsRescan(d as NvdimmBus);
          },
        },
      ],
    };
  }

  /** `nd_device_attribute_group`: devtype, modalias. */
  private deviceAttrs(): AttributeGroup {
    return {
      attrs: [
        { name: 'devtype', mode: 0o444, show: (d) => `${d.type?.name ?? ''}\n` },
        { name: 'modalias', mode: 0o444, show: (d) => `nd:t${this.ndDeviceType(d)}\n` },
      ],
    };
  }

  /** `nd_numa_attribute_group`: numa_node, target_node. */
  private numaAttrs(): AttributeGroup {
    const region = (d: Device): NdRegion => (d instanceof NdRegion ? d : (d.parent as NdRegion));
    return {
      attrs: [
        { name: 'numa_node', mode: 0o444, show: (d) => `${d.numaNode}\n` },
        { name: 'target_node', mode: 0o444, show: (d) => `${region(d).targetNode}\n` },
      ],
    };
  }

  private regionAttrs(): AttributeGroup {
    const R = (d: Device): NdRegion => d as NdRegion;
    const seed = (s: Device | undefined): string => `${s !== undefined ? devName(s) : ''}\n`;
    const attrs: DeviceAttribute[] = [
      { name: 'size', mode: 0o444, show: (d) => `${R(d).ndrSize}\n` },
      {
        name: 'align',
        mode: 0o644,
        show: (d) => `${hex(R(d).align)}\n`,
        store: (d, buf) => {
          const r = R(d);
          if (r.ndrMappings === 0) throw new KernelError('ENXIO', `${devName(r)}: align is fixed without mappings`);
          const val = kstrtoull(buf);
          const mappings = Math.max(1, r.ndrMappings);
          const dpa = Math.floor(val / mappings);
          if (!isPowerOf2(dpa) || dpa < this.pageSize || val > r.ndrSize || val % mappings !== 0) throw new KernelError('EINVAL', `${devName(r)}: invalid align ${val}`);
          r.align = val;
        },
      },
      { name: 'nstype', mode: 0o444, show: (d) => `${this.ndRegionToNstype(R(d))}\n` },
      { name: 'mappings', mode: 0o444, show: (d) => `${R(d).ndrMappings}\n` },
      { name: 'btt_seed', mode: 0o444, show: (d) => seed(R(d).bttSeed) },
      { name: 'pfn_seed', mode: 0o444, show: (d) => seed(R(d).pfnSeed) },
      { name: 'dax_seed', mode: 0o444, show: (d) => seed(R(d).daxSeed) },
      { name: 'deep_flush', mode: 0o644, show: () => '0\n' },
      {
        name: 'persistence_domain',
        mode: 0o444,
        show: (d) => (R(d).regionFlags.has(ND_REGION_PERSIST_CACHE) ? 'cpu_cache\n' : R(d).regionFlags.has(ND_REGION_PERSIST_MEMCTRL) ? 'memory_controller\n' : '\n'),
      },
      {
        name: 'read_only',
        mode: 0o644,
        show: (d) => `${R(d).ro ? 1 : 0}\n`,
        store: (d, buf) => {
          R(d).ro = kstrtobool(buf);
        },
      },
      {
        name: 'set_cookie',
        mode: 0o444,
        // set_cookie_show(): the cookie of mapping 0's current index version, else the v1.1 cookie.
        show: (d) => {
          const r = R(d);
          if (r.ndSet === undefined) throw new KernelError('ENXIO', `${devName(r)}: no interleave set`);
          this.ndSynchronize();
          const m = r.mapping[0];
          const ndd = m !== undefined ? this.labels.get(m.nvdimm as NvdimmDimm) : undefined;
          const cookie = ndd !== undefined ? this.interleaveSetCookie(r, ndd) : r.ndSet.cookie1;
          return `0x${cookie.toString(16)}\n`;
        },
      },
      {
        name: 'available_size',
        mode: 0o444,
        show: (d) => {
          this.ndSynchronize();
          return `${R(d).labelled ? this.ndRegionAvailableDpa(R(d)) : 0}\n`;
        },
      },
      {
        name: 'max_available_extent',
        mode: 0o444,
        show: (d) => {
          this.ndSynchronize();
          return `${R(d).labelled ? this.ndRegionAllocatableDpa(R(d)) : 0}\n`;
        },
      },
      {
        name: 'namespace_seed',
        mode: 0o444,
        show: (d) => {
          this.ndSynchronize();
          return seed(R(d).nsSeed);
        },
      },
      {
        name: 'init_namespaces',
        mode: 0o444,
        show: (d) => {
          const r = R(d);
          if (r.driver === undefined || r.nsActive === undefined) throw new KernelError('ENXIO', `${devName(r)} is not enabled`);
          return `${r.nsActive}/${r.nsCount}\n`;
        },
      },
      {
        name: 'badblocks',
        mode: 0o444,
        show: (d) => {
          if (d.driver === undefined) throw new KernelError('ENXIO', `${devName(d)} is not enabled`);
          const r = R(d);
          return this.badblocksShow(this.badSectors(r.nvdimmBus, r.ndrStart, r.ndrSize));
        },
      },
      { name: 'resource', mode: 0o400, show: (d) => `${hex(R(d).ndrStart)}\n` },
    ];
    return {
      attrs,
      // region_visible(): deep_flush needs nvdimm_has_flush() >= 0, persistence_domain a PERSIST flag,
      // available_size a label (PMEM/BLK) nstype, set_cookie an interleave set: none of them on IO regions.
      isVisible: (d, a) => {
        const r = R(d);
        if (a.name === 'deep_flush') return 0;
        if (a.name === 'available_size' && !r.labelled) return 0;
        if (a.name === 'set_cookie' && r.ndSet === undefined) return 0;
        if (a.name === 'persistence_domain' && !r.regionFlags.has(ND_REGION_PERSIST_CACHE) && !r.regionFlags.has(ND_REGION_PERSIST_MEMCTRL)) return 0;
        return a.mode;
      },
    };
  }

  private namespaceAttrs(): AttributeGroup {
    const N = (d: Device): NdNamespaceIo => d as NdNamespaceIo;
    const P = (d: Device): NdNamespacePmem => {
      if (!(d instanceof NdNamespacePmem)) throw new KernelError('ENXIO', `${devName(d)}: not a label namespace`);
      return d;
    };
    return {
      // namespace_visible(): uuid, alt_name, sector_size and dpa_extents are label-namespace attributes; size is read-only on IO namespaces.
      isVisible: (d, a) => {
        const pmem = d instanceof NdNamespacePmem;
        if (!pmem && (a.name === 'uuid' || a.name === 'alt_name' || a.name === 'sector_size' || a.name === 'dpa_extents')) return 0;
        if (!pmem && a.name === 'size') return 0o444;
        return a.mode;
      },
      attrs: [
        { name: 'nstype', mode: 0o444, show: (d) => `${this.ndRegionToNstype(N(d).region)}\n` },
        { name: 'size', mode: 0o644, show: (d) => `${N(d).size}\n`, store: (d, buf) => this.nsSizeStore(P(d), buf) },
        {
          name: 'uuid',
          mode: 0o644,
          show: (d) => (P(d).uuid !== undefined ? `${formatUuid(P(d).uuid!)}\n` : '\n'),
          store: (d, buf) => this.nsUuidStore(P(d), buf),
        },
        { name: 'alt_name', mode: 0o644, show: (d) => `${P(d).altName}\n`, store: (d, buf) => this.nsAltNameStore(P(d), buf) },
        {
          name: 'sector_size',
          mode: 0o644,
          show: (d) => ndSizeSelectShow(P(d).lbasize, PMEM_LBASIZE_SUPPORTED),
          store: (d, buf) => this.nsSectorSizeStore(P(d), buf),
        },
        {
          name: 'dpa_extents',
          mode: 0o444,
          show: (d) => {
            const ns = P(d);
            if (ns.uuid === undefined) return '0\n';
            const id = pmemLabelId(ns.uuid);
            let n = 0;
            for (const m of ns.region.mapping) n += (this.dpa.get(m.nvdimm as NvdimmDimm) ?? []).filter((r) => r.id === id).length;
            return `${n}\n`;
          },
        },
        { name: 'holder', mode: 0o444, show: (d) => `${N(d).claim !== undefined ? devName(N(d).claim!) : ''}\n` },
        {
          name: 'holder_class',
          mode: 0o644,
          show: (d) => {
            const c = N(d).claimClass;
            if (c === NvdimmClaimClass.NVDIMM_CCLASS_NONE) return '\n';
            if (c === NvdimmClaimClass.NVDIMM_CCLASS_BTT || c === NvdimmClaimClass.NVDIMM_CCLASS_BTT2) return 'btt\n';
            if (c === NvdimmClaimClass.NVDIMM_CCLASS_PFN) return 'pfn\n';
            if (c === NvdimmClaimClass.NVDIMM_CCLASS_DAX) return 'dax\n';
            return '<unknown>\n';
          },
          store: (d, buf) => {
            const ns = N(d);
            if (ns.driver !== undefined || ns.claim !== undefined) throw new KernelError('EBUSY', `${devName(ns)} is active or claimed`);
            let c: NvdimmClaimClass;
            if (sysfsStreq(buf, 'btt')) c = this.bttClaimClass(ns);
            else if (sysfsStreq(buf, 'pfn')) c = NvdimmClaimClass.NVDIMM_CCLASS_PFN;
            else if (sysfsStreq(buf, 'dax')) c = NvdimmClaimClass.NVDIMM_CCLASS_DAX;
            else if (sysfsStreq(buf, '')) c = NvdimmClaimClass.NVDIMM_CCLASS_NONE;
            else throw new KernelError('EINVAL', `${devName(ns)}: unknown holder class`);
            if (ns instanceof NdNamespacePmem) {
              this.nsTransaction(ns, () => {
                ns.claimClass = c;
                this.ndNamespaceLabelUpdate(ns);
              });
            } else ns.claimClass = c;
          },
        },
        {
          name: 'force_raw',
          mode: 0o644,
          show: (d) => `${N(d).forceRaw ? 1 : 0}\n`,
          store: (d, buf) => {
            N(d).forceRaw = kstrtobool(buf);
          },
        },
        {
          name: 'mode',
          mode: 0o444,
          show: (d) => {
            const ns = N(d);
            const c = ns.claim;
            if (c instanceof NdBtt) return 'safe\n';
            if (c instanceof NdPfn && c.kind === 'pfn') return 'memory\n';
            if (c instanceof NdPfn && c.kind === 'dax') return 'dax\n';
            if (c === undefined && this.pmemShouldMapPages(ns)) return 'memory\n';
            return 'raw\n';
          },
        },
        {
          name: 'resource',
          mode: 0o400,
          show: (d) => {
            if (N(d).size === 0) throw new KernelError('ENXIO', `${devName(d)} has no size`);
            return `${hex(N(d).res.start)}\n`;
          },
        },
      ],
    };
  }

  /**
   * `btt_claim_class()` (drivers/nvdimm/namespace_devs.c): BTT 1.1 for a
   * namespace without labelled DIMMs or on v1.1 labels, BTT 2.0 on v1.2
   * labels or DIMMs whose labels are not initialised yet; ENXIO when the
   * DIMMs disagree.
   */
  private bttClaimClass(ns: NdNamespaceIo): NvdimmClaimClass {
    // The loop's bits: 1 no index yet, 2 a v1.1 index, 4 a v1.2 index.
    const bits = new Set<number>();
    for (const m of ns.region.mapping) {
      const ndd = ns.region.labelled ? this.labels.get(m.nvdimm as NvdimmDimm) : undefined;
      if (ndd === undefined) {
        bits.clear();
        break;
      }
      bits.add(ndd.nsCurrent < 0 ? 1 : ndd.nslabelSize === 128 ? 2 : 4);
    }
    if (bits.size > 1) throw new KernelError('ENXIO', `${devName(ns)}: the DIMMs' label versions disagree`);
    return bits.has(1) || bits.has(4) ? NvdimmClaimClass.NVDIMM_CCLASS_BTT2 : NvdimmClaimClass.NVDIMM_CCLASS_BTT;
  }

  private pfnAttrs(): AttributeGroup {
    const P = (d: Device): NdPfn => d as NdPfn;
    return {
      attrs: [
        {
          name: 'mode',
          mode: 0o644,
          show: (d) => (P(d).mode === PfnMode.PFN_MODE_RAM ? 'ram\n' : P(d).mode === PfnMode.PFN_MODE_PMEM ? 'pmem\n' : 'none\n'),
          store: (d, buf) => {
            const p = P(d);
            if (p.driver !== undefined) throw new KernelError('EBUSY', `${devName(p)} is active`);
            if (pfnModeMatches(buf, 'pmem')) p.mode = PfnMode.PFN_MODE_PMEM;
            else if (pfnModeMatches(buf, 'ram')) p.mode = PfnMode.PFN_MODE_RAM;
            else if (pfnModeMatches(buf, 'none')) p.mode = PfnMode.PFN_MODE_NONE;
            else throw new KernelError('EINVAL', `${devName(p)}: unknown mode`);
          },
        },
        {
          name: 'align',
          mode: 0o644,
          show: (d) => `${P(d).align}\n`,
          store: (d, buf) => {
            const p = P(d);
            p.align = ndSizeSelectStore(p.driver !== undefined, buf, this.supportedAlignments());
          },
        },
        {
          name: 'uuid',
          mode: 0o644,
          show: (d) => (P(d).uuid !== undefined ? `${formatUuid(P(d).uuid!)}\n` : '\n'),
          store: (d, buf) => {
            const p = P(d);
            if (p.driver !== undefined) throw new KernelError('EBUSY', `${devName(p)} is active`);
            p.uuid = ndUuidParse(buf);
          },
        },
        {
          name: 'namespace',
          mode: 0o644,
          show: (d) => `${P(d).ndns !== undefined ? devName(P(d).ndns!) : ''}\n`,
          store: (d, buf) => this.ndNamespaceStore(P(d), buf),
        },
        {
          name: 'resource',
          mode: 0o400,
          show: (d) => {
            const p = P(d);
            if (p.driver === undefined || p.pfnSb === undefined || p.ndns === undefined) throw new KernelError('ENXIO', `${devName(p)} is not enabled`);
            return `${hex(p.ndns.res.start + p.pfnSb.startPad + p.pfnSb.dataoff)}\n`;
          },
        },
        {
          name: 'size',
          mode: 0o444,
          show: (d) => {
            const p = P(d);
            if (p.driver === undefined || p.pfnSb === undefined || p.ndns === undefined) throw new KernelError('ENXIO', `${devName(p)} is not enabled`);
            return `${p.ndns.size - p.pfnSb.startPad - p.pfnSb.endTrunc - p.pfnSb.dataoff}\n`;
          },
        },
        { name: 'supported_alignments', mode: 0o444, show: () => ndSizeSelectShow(0, this.supportedAlignments()) },
      ],
    };
  }

  private bttAttrs(): AttributeGroup {
    const B = (d: Device): NdBtt => d as NdBtt;
    return {
      attrs: [
        {
          name: 'sector_size',
          mode: 0o644,
          show: (d) => ndSizeSelectShow(B(d).lbasize, BTT_LBASIZE_SUPPORTED),
          store: (d, buf) => {
            B(d).lbasize = ndSizeSelectStore(d.driver !== undefined, buf, BTT_LBASIZE_SUPPORTED);
          },
        },
        {
          name: 'uuid',
          mode: 0o644,
          show: (d) => (B(d).uuid !== undefined ? `${formatUuid(B(d).uuid!)}\n` : '\n'),
          store: (d, buf) => {
            if (d.driver !== undefined) throw new KernelError('EBUSY', `${devName(d)} is active`);
            B(d).uuid = ndUuidParse(buf);
          },
        },
        {
          name: 'namespace',
          mode: 0o644,
          show: (d) => `${B(d).ndns !== undefined ? devName(B(d).ndns!) : ''}\n`,
          store: (d, buf) => this.ndNamespaceStore(B(d), buf),
        },
        {
          name: 'size',
          mode: 0o444,
          show: (d) => {
            if (d.driver === undefined) throw new KernelError('ENXIO', `${devName(d)} is not enabled`);
            return `${B(d).size}\n`;
          },
        },
        { name: 'log_zero_flags', mode: 0o444, show: () => 'Y\n' },
      ],
    };
  }
}


/** The modelled firmware's scrub rate when the NFIT does not give one: 256 MiB per second. */
const ARS_DEFAULT_RATE = 256 * 2 ** 20;
/** `ND_ARS_PERSISTENT` (include/uapi/linux/ndctl.h): the scrub type of persistent memory. */
const ND_ARS_PERSISTENT = 2;
/** The modelled firmware's `max_ars_out`: an `nd_cmd_ars_status` header and 166 records of 24 bytes. */
const ARS_MAX_OUT = 48 + 166 * 24;

/** Whether a bus's firmware implements ARS (an ACPI NFIT with a clear-error unit). */
function busHasArs(bus: NvdimmBus): boolean {
  return bus.desc.providerName === 'ACPI.NFIT' && bus.desc.clearErrUnit !== undefined;
}

/** `nd_desc->cmd_mask` of a bus, in bit order: the ARS commands and clear_error on a bus with ARS, none otherwise. */
function busCmdMask(bus: NvdimmBus): number[] {
  return busHasArs(bus) ? [ND_CMD_ARS_CAP, ND_CMD_ARS_START, ND_CMD_ARS_STATUS, ND_CMD_CLEAR_ERROR] : [];
}
