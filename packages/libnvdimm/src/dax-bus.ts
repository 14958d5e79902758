/**
 * The dax bus and its devices: dax regions, `dev_dax` instances and the
 * `device_dax` driver that maps them into processes.
 *
 * A dax region is a range of device memory a provider (here dax_pmem, see
 * dax-pmem.ts) hands out; a `dev_dax` (`daxR.N`) is a device on the `dax`
 * bus covering (part of) it. Two drivers compete for a `dev_dax`: the
 * always-matching `device_dax`, which gives the memory struct pages
 * (`devm_memremap_pages()` with `MEMORY_DEVICE_GENERIC`) and a character
 * device processes can `mmap()`, and `kmem` (kmem.ts), which binds only
 * devices whose name was written to its `new_id` and hot-adds the memory
 * as System RAM. Userspace (daxctl) switches a device between them with the
 * drivers' `unbind`, `remove_id`, `new_id` and `bind` files.
 *
 * A mapping of `/dev/daxR.N` must be shared and aligned to the device's
 * `align`; faults insert devmap entries of that size (a PTE for 4 KiB, a
 * PMD for 2 MiB, a PUD for 1 GiB). Once the device is killed (its driver unbinds) every
 * mapping is zapped and new faults end in SIGBUS.
 *
 * Mirrors drivers/dax/bus.c, drivers/dax/device.c, drivers/dax/super.c
 * (dax_alive, kill_dax) and drivers/dax/dax-private.h (Linux v5.13).
 */
import {
  ERRNO,
  orBits,
  Device,
  IORESOURCE_MEM,
  KernelError,
  isKernelError,
  Resource,
  checkPhysRange,
  checkUnsigned,
  devDbg,
  devInfo,
  devName,
  devWarn,
  devmAddAction,
  devmAddActionOrReset,
  isAligned,
  isPowerOf2,
  MINORMASK,
  mkdev,
  major as majorOf,
  minor as minorOf,
} from '@zonedev/kernel';
import { Kernel } from '@zonedev/kernel';
import type { AttributeGroup, BusType, DeviceAttribute, DeviceDriver, Range } from '@zonedev/kernel';
import type { DevPagemap } from '@zonedev/memremap';
import { MEMORY_DEVICE_GENERIC, Memremap, PFN_DEV, PFN_MAP } from '@zonedev/memremap';
import {
  FAULT_FLAG_WRITE,
  PE_SIZE_PMD,
  PE_SIZE_PTE,
  PE_SIZE_PUD,
  VM_FAULT_FALLBACK,
  VM_FAULT_SIGBUS,
  VM_HUGEPAGE,
  VM_MAYSHARE,
  VM_MIXEDMAP,
  linearPageIndex,
  vmfInsertMixed,
  vmfInsertPfnPmd,
  vmfInsertPfnPud,
  zapPageRange,
} from '@zonedev/mm';
import type { MmapFile, Vma, VmFault, VmFaultT, VmOperations } from '@zonedev/mm';
import { Ida } from './devices.js';

/** `IORESOURCE_DAX_STATIC` (drivers/dax/bus.h): a region whose one device cannot be resized. @public */
export const IORESOURCE_DAX_STATIC: number = 2 ** 0;

/**
 * `struct dax_region` (drivers/dax/dax-private.h): the provider's range, its
 * id (the nd region's), target node and alignment.
 * @public
 */
export class DaxRegion {
  /** `id`: the `R` of `daxR.N`. */
  readonly id: number;
  /** `target_node`: the node the memory is meant for (`NUMA_NO_NODE` is -1). */
  readonly targetNode: number;
  /** `align`: the mapping granularity of its devices. */
  readonly align: number;
  /** `res`: the region's range, named after the provider device; the devices' ranges are requested from it. */
  readonly res: Resource;
  /** `dev`: the provider device (the nd dax device `daxR.N` on the nd bus). */
  readonly dev: Device;
  /** `IORESOURCE_DAX_STATIC` for pmem-backed regions. */
  readonly flags: number;

  constructor(dev: Device, id: number, range: Range, targetNode: number, align: number, flags: number) {
    if (!(dev instanceof Device)) throw new KernelError('EINVAL', `dax_region: invalid parent ${String(dev)}`);
    checkUnsigned('dax_region', 'id', id, 0x7fffffff);
    if (typeof range !== 'object' || range === null) throw new KernelError('EINVAL', 'dax_region: no range');
    checkPhysRange('dax_region', range.start, range.end - range.start + 1);
    if (targetNode !== -1) checkUnsigned('dax_region', 'target node', targetNode, 0xffff);
    checkUnsigned('dax_region', 'align', align);
    checkUnsigned('dax_region', 'flags', flags, 0xffffffff);
    this.dev = dev;
    this.id = id;
    this.targetNode = targetNode;
    this.align = align;
    this.flags = flags;
    this.res = new Resource({ name: devName(dev), start: range.start, end: range.end, flags: IORESOURCE_MEM + flags });
  }

  /** `is_static()`. */
  get isStatic(): boolean {
    return this.flags === IORESOURCE_DAX_STATIC;
  }

  /** `dax_region_avail_size()`: the region's bytes no device has claimed. */
  get availableSize(): number {
    let size = this.res.end - this.res.start + 1;
    for (let c = this.res.child; c !== undefined; c = c.sibling) size -= c.end - c.start + 1;
    return size;
  }
}

/** One range of a device (`struct dev_dax_range`): its page offset in the device and its physical range. @public */
export interface DevDaxRange {
  readonly pgoff: number;
  readonly range: Range;
}

/**
 * `struct dev_dax` (drivers/dax/dax-private.h): a device on the dax bus,
 * `daxR.N`, with its ranges, alignment, target node, and (for pmem-backed
 * devices) the static pagemap `device_dax` maps with.
 * @public
 */
export class DevDax extends Device {
  /** `region`. */
  readonly region: DaxRegion;
  /** `align`: the mapping and fault size (PAGE_SIZE, PMD or PUD size). */
  readonly align: number;
  /** `target_node`. */
  readonly targetNode: number;
  /** `ranges[]`: the device's physical ranges in page-offset order. */
  readonly ranges: DevDaxRange[] = [];
  /** `pgmap`: the provider's static pagemap (type set to `MEMORY_DEVICE_GENERIC` by device_dax). */
  readonly pgmap: DevPagemap | undefined;
  /** `dax_alive(dax_dev)`: false once the device is killed (driver unbound). */
  alive: boolean = false;
  /** The VMAs mapping `/dev/daxR.N` (`inode->i_mapping`), zapped when the device is killed. */
  readonly vmas: Set<Vma> = new Set<Vma>();

  constructor(region: DaxRegion, id: number, pgmap: DevPagemap | undefined) {
    super({ name: `dax${daxRegionArg(region).id}.${daxId(id)}`, parent: region.dev, numaNode: region.dev.numaNode });
    if (pgmap !== undefined && (typeof pgmap !== 'object' || pgmap === null)) throw new KernelError('EINVAL', `devm_create_dev_dax: invalid pgmap ${String(pgmap)}`);
    this.region = region;
    this.align = region.align;
    this.targetNode = region.targetNode;
    this.pgmap = pgmap;
  }

  /** `dev_dax_size()`: the sum of its ranges. */
  get size(): number {
    let s = 0;
    for (const r of this.ranges) s += r.range.end - r.range.start + 1;
    return s;
  }
}

/**
 * The `struct dax_device_driver` of a dax-bus driver: its id list (`new_id`)
 * and whether it matches every device (`match_always`).
 */
interface DaxDriver {
  readonly drv: DeviceDriver;
  readonly matchAlways: boolean;
  readonly ids: Set<string>;
  probe(dev: DevDax): void;
  remove?(dev: DevDax): void;
}

/**
 * Options of a {@link DaxBus}.
 * @public
 */
export interface DaxBusOptions {
  readonly kernel: Kernel;
  readonly memremap: Memremap;
  /** `PAGE_SIZE`. */
  readonly pageSize: number;
  /** `PMD_SIZE`: the size of a huge fault (default 2 MiB). */
  readonly pmdSize?: number;
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/**
 * The dax bus of one machine (`/sys/bus/dax`), with the `device_dax` driver
 * registered.
 * @public
 */
export class DaxBus {
  /** `dax_bus_type`. */
  readonly busType: BusType;
  /** The `device_dax` driver. */
  readonly deviceDax: DeviceDriver;
  private readonly kernel: Kernel;
  private readonly memremap: Memremap;
  private readonly pageSize: number;
  private readonly pmdSize: number;
  private readonly drivers = new Map<DeviceDriver, DaxDriver>();
  private readonly devs: DevDax[] = [];
  private readonly comms = new WeakMap<Vma, string>();
  private readonly vmOps: VmOperations;
  /** `dax_devt`: the first number of the `dax` character region (`alloc_chrdev_region()` in `dax_core_init()`). */
  readonly daxDevt: number;
  /** `dax_minor_ida`: minors of `dax_device`s, device-dax and pmem ones alike. */
  private readonly daxMinors = new Ida();
  private readonly minors = new Map<DevDax, number>();

  constructor(options: DaxBusOptions) {
    if (typeof options !== 'object' || options === null || !(options.kernel instanceof Kernel) || !(options.memremap instanceof Memremap)) {
      throw new KernelError('EINVAL', 'dax: kernel and memremap are required');
    }
    for (const [what, v] of [['PAGE_SIZE', options.pageSize], ['PMD_SIZE', options.pmdSize ?? 2 * 2 ** 20]] as const) {
      if (!Number.isSafeInteger(v) || !isPowerOf2(v)) throw new KernelError('EINVAL', `dax: invalid ${what} ${String(v)}`);
    }
    this.kernel = options.kernel;
    this.memremap = options.memremap;
    this.pageSize = options.pageSize;
    this.pmdSize = options.pmdSize ?? 2 * 2 ** 20;
    this.busType = {
      name: 'dax',
      match: (dev: Device, drv: DeviceDriver): boolean => this.busMatch(dev, drv),
      probe: (dev: Device): void => this.drivers.get(dev.driver!)!.probe(dev as DevDax),
      remove: (dev: Device): void => this.drivers.get(dev.driver!)!.remove?.(dev as DevDax),
      uevent: (): readonly string[] => ['MODALIAS=dax:t0*'],
    };
    // dax_core_init(): all the minors of one dynamic major; then dax_bus_init()
    this.daxDevt = this.kernel.devt.allocChrdevRegion(0, MINORMASK + 1, 'dax');
    this.kernel.devices.busRegister(this.busType);
    this.vmOps = {
      fault: (vmf) => this.devDaxHugeFault(vmf, PE_SIZE_PTE),
      hugeFault: (vmf, pe) => this.devDaxHugeFault(vmf, pe),
      maySplit: (vma, addr) => (isAligned(addr, this.devDaxOf(vma).align) ? 0 : -ERRNO.EINVAL),
      pagesize: (vma) => this.devDaxOf(vma).align,
    };
    this.deviceDax = this.daxDriverRegister('device_dax', true, (d) => {
      const t = this.kernel.tracer;
      if (t.enabled) t.call('dev_dax_probe', [d], () => this.devDaxProbe(d));
      else this.devDaxProbe(d);
    });
  }

  /**
   * `dax_driver_register()` + `__dax_driver_register()`: a driver on the dax
   * bus, with its `new_id` and `remove_id` files.
   */
  daxDriverRegister(name: string, matchAlways: boolean, probe: (dev: DevDax) => void, remove?: (dev: DevDax) => void): DeviceDriver {
    if (typeof name !== 'string' || name === '' || name.includes('/') || typeof matchAlways !== 'boolean' || typeof probe !== 'function' || (remove !== undefined && typeof remove !== 'function')) {
      throw new KernelError('EINVAL', `dax_driver_register: invalid driver ${String(name)}`);
    }
    const ids = new Set<string>();
    const attrs = [
      { name: 'new_id', mode: 0o200, store: (buf: string): void => this.doIdStore(dd, buf, true) },
      { name: 'remove_id', mode: 0o200, store: (buf: string): void => this.doIdStore(dd, buf, false) },
    ];
    const drv: DeviceDriver = { name, bus: this.busType, attrs };
    const dd: DaxDriver = remove !== undefined ? { drv, matchAlways, ids, probe, remove } : { drv, matchAlways, ids, probe };
    this.drivers.set(drv, dd);
    this.kernel.devices.driverRegister(drv);
    return drv;
  }

  /**
   * `do_id_store()`: `new_id` adds a device name the driver will then bind
   * (and attaches it at once), `remove_id` drops one. The name must be a
   * registered dax device (ENODEV, "daxX.Y" parsed as `dax%d.%d`, else
   * EINVAL).
   */
  private doIdStore(dd: DaxDriver, buf: string, add: boolean): void {
    const name = buf.replace(/\n$/, '');
    if (!/^dax\d+\.\d+$/.test(name)) throw new KernelError('EINVAL', `${dd.drv.name}: invalid id '${name}'`);
    const dev = this.devs.find((d) => devName(d) === name && d.registered);
    if (dev === undefined) throw new KernelError('ENODEV', `${dd.drv.name}: ${name}: no such device`);
    if (add) {
      dd.ids.add(name);
      // driver_attach(): bind any unbound device that now matches.
      if (dev.driver === undefined) this.kernel.devices.deviceDriverAttach(dd.drv, dev);
    } else {
      dd.ids.delete(name);
    }
  }

  /** `dax_bus_match()`: device_dax matches always, other drivers by their id list. */
  private busMatch(dev: Device, drv: DeviceDriver): boolean {
    const dd = this.drivers.get(drv);
    if (dd === undefined || !(dev instanceof DevDax)) return false;
    if (dd.matchAlways) return true;
    return dd.ids.has(devName(dev));
  }

  /** The dax-bus devices, in creation order. */
  devices(): readonly DevDax[] {
    return this.devs.filter((d) => d.registered);
  }

  /** The dax device called `name`, if registered. */
  find(name: string): DevDax | undefined {
    if (typeof name !== 'string') throw new KernelError('EINVAL', `dax: invalid name ${String(name)}`);
    return this.devs.find((d) => d.registered && devName(d) === name);
  }

  /**
   * `alloc_dax()`'s minor (drivers/dax/super.c): the lowest free one of
   * `dax_minor_ida`. ENOSPC when all {@link MINORMASK} + 1 are in use.
   */
  allocDaxMinor(): number {
    const m = this.daxMinors.get();
    if (m > MINORMASK) {
      this.daxMinors.remove(m);
      throw new KernelError('ENOSPC', 'alloc_dax: no free dax minor');
    }
    return m;
  }

  /** `dax_free_inode()`: gives a minor back to `dax_minor_ida`. */
  freeDaxMinor(m: number): void {
    checkUnsigned('dax_free_inode', 'minor', m);
    this.daxMinors.remove(m);
  }

  /** The char device minor of `dev` (`MINOR(dev->devt)`), allocated at creation. */
  minor(dev: DevDax): number | undefined {
    if (!(dev instanceof DevDax)) throw new KernelError('EINVAL', `dax: not a device-dax instance: ${String(dev)}`);
    return this.minors.get(dev);
  }

  // =====================================================================
  // regions and devices (drivers/dax/bus.c)
  // =====================================================================

  /**
   * `alloc_dax_region()`: a region for the provider device `parent`, with its
   * `dax_region/` attributes (id, size, available_size, align) on `parent`,
   * removed when `parent` unbinds. EINVAL for a range not aligned to `align`
   * or an `align` that is not a multiple of PAGE_SIZE.
   */
  allocDaxRegion(parent: Device, id: number, range: Range, targetNode: number, align: number, flags: number): DaxRegion {
    if (!(parent instanceof Device) || !parent.registered) throw new KernelError('EINVAL', 'alloc_dax_region: the parent is not a registered device');
    checkUnsigned('alloc_dax_region', 'id', id);
    checkUnsigned('alloc_dax_region', 'flags', flags);
    if (typeof range !== 'object' || range === null) throw new KernelError('EINVAL', 'alloc_dax_region: no range');
    checkPhysRange('alloc_dax_region', range.start, range.end - range.start + 1);
    if (!Number.isSafeInteger(targetNode) || targetNode < -1) throw new KernelError('EINVAL', `alloc_dax_region: invalid target node ${String(targetNode)}`);
    if (!Number.isSafeInteger(align) || !isPowerOf2(align)) throw new KernelError('EINVAL', `alloc_dax_region: invalid align ${String(align)}`);
    const len = range.end - range.start + 1;
    if (!isAligned(range.start, align) || !isAligned(len, align)) {
      throw new KernelError('EINVAL', `dax region ${hex(range.start)}-${hex(range.end)} is not aligned to ${hex(align)}`);
    }
    if (!isAligned(align, this.pageSize)) throw new KernelError('EINVAL', `dax region align ${hex(align)} is not a multiple of PAGE_SIZE`);
    const region = new DaxRegion(parent, id, range, targetNode, align, flags);
    const attrs: DeviceAttribute[] = [
      { name: 'id', mode: 0o444, show: () => `${region.id}\n` },
      { name: 'size', mode: 0o444, show: () => `${region.res.end - region.res.start + 1}\n` },
      { name: 'available_size', mode: 0o444, show: () => `${region.availableSize}\n` },
      { name: 'align', mode: 0o444, show: () => `${region.align}\n` },
    ];
    const group: AttributeGroup = { name: 'dax_region', attrs };
    this.kernel.devices.deviceAddGroup(parent, group);
    devmAddActionOrReset(parent, () => this.kernel.devices.deviceRemoveGroup(parent, group), 'dax_region_unregister');
    return region;
  }

  /**
   * `devm_create_dev_dax()`: the device `daxR.<id>` covering `size` bytes of
   * the region from its start (`alloc_dev_dax_range()`), with its
   * `mappingN` child, registered on the dax bus (device_dax binds it).
   * Unregistered when the region's provider unbinds. EBUSY if the range is
   * taken, EEXIST for a duplicate name.
   */
  devmCreateDevDax(region: DaxRegion, id: number, size: number, pgmap: DevPagemap | undefined): DevDax {
    if (!(region instanceof DaxRegion)) throw new KernelError('EINVAL', 'devm_create_dev_dax: not a dax region');
    checkUnsigned('devm_create_dev_dax', 'id', id);
    checkUnsigned('devm_create_dev_dax', 'size', size);
    if (size === 0 || !isAligned(size, region.align)) throw new KernelError('EINVAL', `devm_create_dev_dax: size ${hex(size)} is not a multiple of ${hex(region.align)}`);
    if (size > region.availableSize) throw new KernelError('ENOSPC', `devm_create_dev_dax: ${hex(size)} exceeds the available ${hex(region.availableSize)}`);
    if (this.find(`dax${region.id}.${id}`) !== undefined) throw new KernelError('EEXIST', `dax${region.id}.${id} already exists`);
    const dev = new DevDax(region, id, pgmap);
    const start = region.res.start;
    const alloc = this.kernel.iomem.requestRegion(region.res, start, size, devName(dev));
    if (alloc === undefined) throw new KernelError('EBUSY', `${devName(dev)}: range ${hex(start)}+${hex(size)} is busy`);
    dev.ranges.push({ pgoff: 0, range: { start, end: start + size - 1 } });
    dev.bus = this.busType;
    dev.type = { name: 'dev_dax', groups: [this.devDaxAttrs()] };
    // alloc_dax(): the device's dax_device and its inode give dev->devt
    const minor = this.allocDaxMinor();
    dev.devt = mkdev(majorOf(this.daxDevt), minor);
    this.minors.set(dev, minor);
    this.devs.push(dev);
    try {
      this.kernel.devices.deviceRegister(dev);
    } catch (e) {
      this.devs.splice(this.devs.indexOf(dev), 1);
      this.minors.delete(dev);
      this.freeDaxMinor(minor);
      this.kernel.iomem.releaseResource(alloc);
      throw e;
    }
    const mapping = this.registerDaxMapping(dev, 0);
    devmAddAction(
      region.dev,
      () => {
        this.kernel.devices.deviceUnregister(mapping);
        this.kernel.devices.deviceUnregister(dev);
        this.kernel.iomem.releaseResource(alloc);
        this.devs.splice(this.devs.indexOf(dev), 1);
        this.minors.delete(dev);
        this.freeDaxMinor(minor);
      },
      'unregister_dev_dax',
    );
    return dev;
  }

  /** `devm_register_dax_mapping()`: `daxR.N/mappingN/{start,end,page_offset}`. */
  private registerDaxMapping(dev: DevDax, i: number): Device {
    const r = dev.ranges[i]!;
    const attrs: DeviceAttribute[] = [
      { name: 'start', mode: 0o400, show: () => `${hex(r.range.start)}\n` },
      { name: 'end', mode: 0o400, show: () => `${hex(r.range.end)}\n` },
      { name: 'page_offset', mode: 0o400, show: () => `${hex(r.pgoff)}\n` },
    ];
    const mapping = new Device({ name: `mapping${i}`, parent: dev, type: { name: 'dax_mapping', groups: [{ attrs }] } });
    this.kernel.devices.deviceRegister(mapping);
    return mapping;
  }

  /** `dev_dax_attribute_group`: the static-region (pmem) form of v5.10+. */
  private devDaxAttrs(): AttributeGroup {
    const D = (d: Device): DevDax => d as DevDax;
    return {
      attrs: [
        { name: 'modalias', mode: 0o444, show: () => 'dax:t0\n' },
        { name: 'size', mode: 0o644, show: (d) => `${D(d).size}\n`, store: () => { throw new KernelError('EACCES', 'size is read-only'); } },
        { name: 'target_node', mode: 0o444, show: (d) => `${D(d).targetNode}\n` },
        { name: 'align', mode: 0o644, show: (d) => `${D(d).align}\n`, store: () => { throw new KernelError('EACCES', 'align is read-only'); } },
        {
          name: 'resource',
          mode: 0o400,
          show: (d) => `${hex(D(d).ranges.length > 0 ? D(d).ranges[0]!.range.start : D(d).region.res.start)}\n`,
        },
        { name: 'numa_node', mode: 0o444, show: (d) => `${d.numaNode}\n` },
      ],
      isVisible: (d, a) => {
        const dev = D(d);
        if (a.name === 'target_node' && dev.targetNode < 0) return 0;
        if ((a.name === 'align' || a.name === 'size') && dev.region.isStatic) return 0o444;
        return a.mode;
      },
    };
  }

  // =====================================================================
  // device_dax (drivers/dax/device.c)
  // =====================================================================

  /**
   * `dev_dax_probe()`: reserves each range in iomem under the device's name
   * ("mapping%d: %#llx-%#llx could not reserve range", EBUSY), maps the
   * static pagemap (or one made of the ranges) as `MEMORY_DEVICE_GENERIC`,
   * and makes the device alive (`run_dax()`); the char device is
   * {@link DaxBus.open}. Unbinding kills it and undoes all of it.
   */
  private devDaxProbe(dev: DevDax): void {
    for (const [i, r] of dev.ranges.entries()) {
      const len = r.range.end - r.range.start + 1;
      if (this.kernel.iomem.requestMemRegion(r.range.start, len, devName(dev)) === undefined) {
        devWarn(dev, `mapping${i}: ${hex(r.range.start)}-${hex(r.range.end)} could not reserve range`);
        throw new KernelError('EBUSY', `mapping${i}: ${hex(r.range.start)}-${hex(r.range.end)} could not reserve range`);
      }
      devmAddActionOrReset(dev, () => this.kernel.iomem.releaseMemRegion(r.range.start, len), 'devm_region_release');
    }
    const pgmap = dev.pgmap;
    if (pgmap === undefined) throw new KernelError('EINVAL', `${devName(dev)}: no pagemap`);
    pgmap.type = MEMORY_DEVICE_GENERIC;
    this.memremap.devmMemremapPages(dev, pgmap);
    dev.alive = true;
    devmAddActionOrReset(dev, () => this.killDevDax(dev), 'dev_dax_kill');
  }

  /** `kill_dev_dax()`: `kill_dax()`, then `unmap_mapping_range()` of every mapping of the device. */
  private killDevDax(dev: DevDax): void {
    dev.alive = false;
    for (const vma of dev.vmas) if (vma.vmMm !== null) zapPageRange(vma, vma.vmStart, vma.vmEnd);
  }

  /**
   * `dax_open()`: the file of `/dev/daxR.N` for mm's `mmap()`, opened by the
   * task `comm` (the name check_vma's messages print as `current->comm`).
   * ENXIO if the device is not bound to device_dax (no char device then).
   */
  open(dev: DevDax, comm = 'task'): MmapFile {
    if (typeof comm !== 'string') throw new KernelError('EINVAL', 'dax_open: comm is not a string');
    if (!(dev instanceof DevDax) || !dev.registered || dev.driver !== this.deviceDax) {
      throw new KernelError('ENXIO', `${dev instanceof Device ? devName(dev) : String(dev)}: no such device`);
    }
    // The file is devtmpfs's node: /proc/PID/maps shows its superblock and inode.
    const node = this.kernel.devtmpfs.lookup(devName(dev));
    const sDev = this.kernel.devtmpfs.sDev;
    devDbg(dev, 'trace');
    return {
      path: `/dev/${devName(dev)}`,
      devMajor: majorOf(sDev),
      devMinor: minorOf(sDev),
      ino: node?.ino ?? 0,
      readable: true,
      writable: true,
      dax: true,
      mmap: (vma: Vma): number => this.daxMmap(dev, vma, comm),
      getUnmappedArea: (mmArea, addr, len, pgoff) => this.daxGetUnmappedArea(dev, mmArea, addr, len, pgoff),
    };
  }

  /**
   * `dax_get_unmapped_area()` (drivers/dax/device.c): without a hint, and
   * when the mapping covers at least one whole `align` unit of the device,
   * asks the mm for `len + align` bytes and returns the address inside them
   * that is congruent with the file offset modulo the device's align (so
   * that PMD and PUD faults can map whole units); otherwise the mm's own
   * answer for `len`.
   */
  private daxGetUnmappedArea(dev: DevDax, mmArea: (addr: number, len: number) => number, addr: number, len: number, pgoff: number): number {
    const align = dev.align;
    const ps = this.pageSize;
    if (addr !== 0) return mmArea(addr, len);
    const off = pgoff * ps;
    const offEnd = off + len;
    const offAlign = Math.ceil(off / align) * align;
    if (offEnd <= offAlign || offEnd - offAlign < align) return mmArea(addr, len);
    let area: number;
    try {
      area = mmArea(addr, len + align);
    } catch (e) {
      if (!isKernelError(e)) throw e;
      return mmArea(addr, len);
    }
    // addr_align += (off - addr_align) & (align - 1)
    const delta = (((off - area) % align) + align) % align;
    return area + delta;
  }

  private devDaxOf(vma: Vma): DevDax {
    return vma.vmPrivateData as DevDax;
  }

  /**
   * `check_vma()`: the device must be alive (ENXIO), the mapping shared
   * ("%s: %s: fail, attempted private mapping") and its start and end
   * aligned to the device's align ("%s: %s: fail, unaligned vma (%#lx -
   * %#lx, %#lx)"), both EINVAL.
   */
  private checkVma(dev: DevDax, vma: Vma, func: string): number {
    if (!dev.alive) return -ERRNO.ENXIO;
    const comm = this.comms.get(vma) ?? 'task';
    if ((vma.vmFlags % (2 * VM_MAYSHARE)) < VM_MAYSHARE) {
      devInfo(dev, `${comm}: ${func}: fail, attempted private mapping`);
      return -ERRNO.EINVAL;
    }
    if (!isAligned(vma.vmStart, dev.align) || !isAligned(vma.vmEnd, dev.align)) {
      devInfo(dev, `${comm}: ${func}: fail, unaligned vma (${hex(vma.vmStart)} - ${hex(vma.vmEnd)}, ${hex(dev.align - 1)})`);
      return -ERRNO.EINVAL;
    }
    return 0;
  }

  /**
   * `dax_mmap()`: check_vma, then the dax vm_ops and `VM_HUGEPAGE`. The
   * model also sets `VM_MIXEDMAP`, which its `vmf_insert_mixed()` requires
   * where the kernel's `vm_mixed_ok()` accepts any devmap pfn.
   */
  private daxMmap(dev: DevDax, vma: Vma, comm: string): number {
    devDbg(dev, 'trace');
    this.comms.set(vma, comm);
    const rc = this.checkVma(dev, vma, 'dax_mmap');
    if (rc !== 0) return rc;
    vma.vmOps = {
      ...this.vmOps,
      close: (v: Vma) => dev.vmas.delete(v),
      open: (v: Vma) => {
        dev.vmas.add(v);
        this.comms.set(v, comm);
      },
    };
    vma.vmPrivateData = dev;
    vma.vmFlags = orBits(orBits(vma.vmFlags, VM_HUGEPAGE), VM_MIXEDMAP);
    dev.vmas.add(vma);
    return 0;
  }

  /** `dax_pgoff_to_phys()`: the physical address of page offset `pgoff` for a `size`-byte fault, or -1. */
  daxPgoffToPhys(dev: DevDax, pgoff: number, size: number): number {
    if (!(dev instanceof DevDax)) throw new KernelError('EINVAL', 'dax_pgoff_to_phys: not a dax device');
    checkUnsigned('dax_pgoff_to_phys', 'pgoff', pgoff);
    checkUnsigned('dax_pgoff_to_phys', 'size', size);
    for (const r of dev.ranges) {
      const pages = Math.floor((r.range.end - r.range.start + 1) / this.pageSize);
      if (pgoff < r.pgoff || pgoff > r.pgoff + pages - 1) continue;
      const phys = (pgoff - r.pgoff) * this.pageSize + r.range.start;
      if (phys + size - 1 <= r.range.end) return phys;
      break;
    }
    return -1;
  }

  /**
   * `dev_dax_huge_fault()`: `__dev_dax_pte_fault()` for PE_SIZE_PTE (the
   * device's align must be PAGE_SIZE), `__dev_dax_pmd_fault()` for
   * PE_SIZE_PMD and `__dev_dax_pud_fault()` for PE_SIZE_PUD (each
   * VM_FAULT_FALLBACK when the align is smaller than its fault size, SIGBUS
   * when larger). The pfns are `PFN_DEV|PFN_MAP`, so the entries are devmap.
   */
  private devDaxHugeFault(vmf: VmFault, peSize: number): VmFaultT {
    const dev = this.devDaxOf(vmf.vma);
    // The kernel's per-fault dev_dbg() ("%s: %s (%#lx - %#lx) size = %d") is left out: it is off unless dynamic debug enables it.
    const write = vmf.flags % (2 * FAULT_FLAG_WRITE) >= FAULT_FLAG_WRITE;
    if (peSize === PE_SIZE_PTE) return this.pteFault(dev, vmf);
    if (peSize === PE_SIZE_PMD) return this.pmdFault(dev, vmf, write);
    if (peSize === PE_SIZE_PUD) return this.pudFault(dev, vmf, write);
    return VM_FAULT_SIGBUS;
  }

  /**
   * `__dev_dax_pud_fault()` (drivers/dax/device.c, with
   * `CONFIG_HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD`): check_vma (SIGBUS), an
   * align above `PUD_SIZE` SIGBUS, below it VM_FAULT_FALLBACK, the
   * `PUD_SIZE` range at `address & PUD_MASK` outside the VMA SIGBUS, its
   * pgoff without a whole `PUD_SIZE` of device behind it SIGBUS
   * ("pgoff_to_phys(%#lx) failed"), else `vmf_insert_pfn_pud()`. `PUD_SIZE`
   * is the faulting address space's.
   */
  private pudFault(dev: DevDax, vmf: VmFault, write: boolean): VmFaultT {
    const pudSize = vmf.vma.vmMm?.system?.geometry.pudSize;
    if (pudSize === undefined) return VM_FAULT_FALLBACK;
    const pudAddr = vmf.address - (vmf.address % pudSize);
    if (this.checkVma(dev, vmf.vma, '__dev_dax_pud_fault') !== 0) return VM_FAULT_SIGBUS;
    if (dev.align > pudSize) {
      devDbg(dev, `alignment (${hex(dev.align)}) > fault size (${hex(pudSize)})`);
      return VM_FAULT_SIGBUS;
    }
    if (pudSize > dev.align) return VM_FAULT_FALLBACK;
    if (pudAddr < vmf.vma.vmStart || pudAddr + pudSize > vmf.vma.vmEnd) return VM_FAULT_SIGBUS;
    const pgoff = linearPageIndex(vmf.vma, pudAddr, this.pageSize);
    const phys = this.daxPgoffToPhys(dev, pgoff, pudSize);
    if (phys === -1) {
      devDbg(dev, `pgoff_to_phys(${hex(pgoff)}) failed`);
      return VM_FAULT_SIGBUS;
    }
    return vmfInsertPfnPud(vmf, { pfn: phys / this.pageSize, flags: PFN_DEV + PFN_MAP }, write);
  }

  private pteFault(dev: DevDax, vmf: VmFault): VmFaultT {
    if (this.checkVma(dev, vmf.vma, '__dev_dax_pte_fault') !== 0) return VM_FAULT_SIGBUS;
    if (dev.align > this.pageSize) {
      devDbg(dev, `alignment (${hex(dev.align)}) > fault size (${hex(this.pageSize)})`);
      return VM_FAULT_SIGBUS;
    }
    const phys = this.daxPgoffToPhys(dev, vmf.pgoff, this.pageSize);
    if (phys === -1) {
      devDbg(dev, `pgoff_to_phys(${hex(vmf.pgoff)}) failed`);
      return VM_FAULT_SIGBUS;
    }
    return vmfInsertMixed(vmf.vma, vmf.address, { pfn: phys / this.pageSize, flags: PFN_DEV + PFN_MAP });
  }

  private pmdFault(dev: DevDax, vmf: VmFault, write: boolean): VmFaultT {
    const pmdAddr = vmf.address - (vmf.address % this.pmdSize);
    if (this.checkVma(dev, vmf.vma, '__dev_dax_pmd_fault') !== 0) return VM_FAULT_SIGBUS;
    if (dev.align > this.pmdSize) {
      devDbg(dev, `alignment (${hex(dev.align)}) > fault size (${hex(this.pmdSize)})`);
      return VM_FAULT_SIGBUS;
    }
    if (this.pmdSize > dev.align) return VM_FAULT_FALLBACK;
    if (pmdAddr < vmf.vma.vmStart || pmdAddr + this.pmdSize > vmf.vma.vmEnd) return VM_FAULT_SIGBUS;
    const pgoff = linearPageIndex(vmf.vma, pmdAddr, this.pageSize);
    const phys = this.daxPgoffToPhys(dev, pgoff, this.pmdSize);
    if (phys === -1) {
      devDbg(dev, `pgoff_to_phys(${hex(pgoff)}) failed`);
      return VM_FAULT_SIGBUS;
    }
    return vmfInsertPfnPmd(vmf, { pfn: phys / this.pageSize, flags: PFN_DEV + PFN_MAP }, write);
  }
}

/** EINVAL unless `r` is a {@link DaxRegion}. */
function daxRegionArg(r: unknown): DaxRegion {
  if (!(r instanceof DaxRegion)) throw new KernelError('EINVAL', `devm_create_dev_dax: not a dax region: ${String(r)}`);
  return r;
}

/** EINVAL unless `id` is an ida number. */
function daxId(id: unknown): number {
  checkUnsigned('devm_create_dev_dax', 'id', id, 0x7fffffff);
  return id;
}
