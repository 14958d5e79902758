/**
 * The devices of the nd bus: the bus device itself, regions, label-less
 * (IO) namespaces, and the personalities that claim a namespace — pfn
 * (fsdax), nd dax (device-dax) and btt (sector) devices.
 *
 * A region is a range of persistent memory a provider (e820, of_pmem, the
 * ACPI NFIT) found. On a provider without labels the whole region is one
 * namespace, `namespaceR.0`, the unit the pmem driver turns into a block
 * device. A namespace may be *claimed* by one personality device at a time
 * (`ndns->claim`); the claim decides how the namespace is used, and the
 * personality's on-media info block records it so that the same use is
 * found on the next boot:
 *
 * ```
 *   ndbus0 (provider "e820")
 *    └─ region0            [0x100000000, +16G)   ND_REGION_PAGEMAP
 *        ├─ namespace0.0   the whole region; claim -> pfn0.1 (or none)
 *        ├─ pfn0.0         seed: an idle pfn device to configure next
 *        ├─ pfn0.1         claims namespace0.0, info block at +4K
 *        ├─ dax0.0         seed (device-dax personality)
 *        └─ btt0.0         seed (sector personality)
 * ```
 *
 * Seeds exist so that userspace can configure a personality through sysfs
 * (`uuid`, `mode`, `align`, `namespace`) and then bind it; once a seed is
 * bound, the region creates a new one (`nd_region_advance_seeds()`).
 *
 * Mirrors the structures of drivers/nvdimm/nd.h, nd-core.h (`struct
 * nvdimm_bus`, `nd_region`, `nd_namespace_io`, `nd_pfn`, `nd_dax`, `nd_btt`)
 * of Linux v5.13.
 */
import { Device, KernelError, Resource, checkUnsigned } from '@zonedev/kernel';
import type { DevPagemap } from '@zonedev/memremap';
import type { NdPfnSb } from './pfn-sb.js';
import { NvdimmClaimClass, PfnMode } from './nd.js';
import type { PmemDisk } from './pmem.js';
import type { BttDisk } from './pmem-btt.js';
import type { NdInterleaveSet } from './namespace-pmem.js';

/**
 * An id allocator that always hands out the smallest free number
 * (`ida_simple_get(ida, 0, 0)` / `ida_simple_remove()`).
 */
export class Ida {
  private readonly used = new Set<number>();

  get(): number {
    let i = 0;
    while (this.used.has(i)) i++;
    this.used.add(i);
    return i;
  }

  remove(id: number): void {
    this.used.delete(id);
  }
}

/**
 * A bus provider's description (`struct nvdimm_bus_descriptor`): its name,
 * shown in `ndbusN/provider`.
 * @public
 */
export interface NvdimmBusDescriptor {
  /** `provider_name`: "e820", or the of_pmem platform device's name. */
  readonly providerName: string;
  /**
   * The provider's `ND_CMD_ARS_CAP` clear-error unit when its firmware can
   * clear media errors (`ND_CMD_CLEAR_ERROR`); none: `nvdimm_clear_poison()`
   * fails (e820, of_pmem, QEMU's NFIT).
   */
  readonly clearErrUnit?: number;
}

/**
 * `struct nvdimm_bus`: one provider's bus device `ndbusN`.
 * @public
 */
export class NvdimmBus extends Device {
  /** The descriptor the provider registered with. */
  readonly desc: NvdimmBusDescriptor;
  /** `nvdimm_bus->id` (`ndbus%d`). */
  readonly busId: number;

  constructor(id: number, parent: Device, desc: NvdimmBusDescriptor) {
    super({ name: `ndbus${ndId('nvdimm_bus_register', id)}`, parent: ndParent('nvdimm_bus_register', parent, Device) });
    if (typeof desc !== 'object' || desc === null || typeof desc.providerName !== 'string') throw new KernelError('EINVAL', 'nvdimm_bus_register: invalid descriptor');
    this.busId = id;
    this.desc = desc;
  }
}

/**
 * What a provider passes to create a region (`struct nd_region_desc`).
 * @public
 */
export interface NdRegionDesc {
  /** `res->start`: the first byte of the provider's range. */
  readonly start: number;
  /** `resource_size(res)`. */
  readonly size: number;
  /** `numa_node`. */
  readonly numaNode: number;
  /** `target_node`. */
  readonly targetNode: number;
  /** `flags`: `ND_REGION_*` bit numbers set. */
  readonly flags: readonly number[];
  /** `ndr_desc->mapping`: the DIMM ranges behind the region (NFIT regions; none for e820 and of_pmem). */
  readonly mappings?: readonly NdMappingDesc[];
  /** `nd_set`: the interleave set of a region on NFIT DIMMs. */
  readonly ndSet?: NdInterleaveSet;
}

/**
 * `struct nd_mapping_desc` (include/linux/libnvdimm.h): a DIMM's range in a region.
 * @public
 */
export interface NdMappingDesc {
  /** The DIMM (`nmemN`). */
  readonly nvdimm: Device;
  /** Device physical address of the range on the DIMM. */
  readonly start: number;
  readonly size: number;
  /** Position in the interleave set. */
  readonly position: number;
}

/**
 * `struct nd_region` of a pmem or volatile region without DIMM mappings
 * (e820, of_pmem).
 * @public
 */
export class NdRegion extends Device {
  /** `nd_region->id` (`region%d`, global across buses). */
  readonly regionId: number;
  /** The bus it belongs to. */
  readonly nvdimmBus: NvdimmBus;
  /** `ndr_start`. */
  readonly ndrStart: number;
  /** `ndr_size`. */
  readonly ndrSize: number;
  /** `ndr_mappings`: DIMMs behind the region (0 for e820 and of_pmem). */
  readonly ndrMappings: number;
  /** `nd_region->mapping`. */
  readonly mapping: readonly NdMappingDesc[];
  /** `target_node`. */
  readonly targetNode: number;
  /** `flags`: the `ND_REGION_*` bits. */
  readonly regionFlags: ReadonlySet<number>;
  /** Volatile region (`nd_volatile_device_type`), else pmem (`nd_pmem_device_type`). */
  readonly isVolatile: boolean;
  /** `ro`: the `read_only` attribute. */
  ro = false;
  /** `align`: the namespace size/alignment granule. */
  align: number;
  /** `btt_seed` (`ns_seed` is always NULL on IO regions). */
  bttSeed: Device | undefined;
  /** `pfn_seed`. */
  pfnSeed: Device | undefined;
  /** `dax_seed`. */
  daxSeed: Device | undefined;
  /** `ns_seed`: the zero-sized namespace to configure next (labelled regions only). */
  nsSeed: Device | undefined;
  /** `nd_set`. */
  readonly ndSet: NdInterleaveSet | undefined;
  /**
   * `nd_region_to_nstype()` is `ND_DEVICE_NAMESPACE_PMEM`: every DIMM of the
   * region had valid labels (`NDD_LABELING`) when the region was last
   * probed, so its namespaces come from labels.
   */
  labelled = false;
  /** `nd_region_data->ns_active`, while bound (`init_namespaces`). */
  nsActive: number | undefined;
  /** `nd_region_data->ns_count`, while bound. */
  nsCount: number | undefined;
  /** The region's child devices (namespaces, personalities), in creation order. */
  readonly ndChildren: Device[] = [];

  constructor(id: number, bus: NvdimmBus, desc: NdRegionDesc, isVolatile: boolean, align: number) {
    super({ name: `region${ndId('nd_region_create', id)}`, parent: ndParent('nd_region_create', bus, NvdimmBus), numaNode: regionDesc(desc).numaNode });
    if (typeof isVolatile !== 'boolean') throw new KernelError('EINVAL', `nd_region_create: invalid volatile flag ${String(isVolatile)}`);
    checkUnsigned('nd_region_create', 'align', align);
    this.regionId = id;
    this.nvdimmBus = bus;
    this.ndrStart = desc.start;
    this.ndrSize = desc.size;
    this.mapping = desc.mappings ?? [];
    this.ndrMappings = this.mapping.length;
    this.targetNode = desc.targetNode;
    this.regionFlags = new Set(desc.flags);
    this.isVolatile = isVolatile;
    this.align = align;
    this.ndSet = desc.ndSet;
  }
}

/**
 * `struct nd_namespace_io`: a label-less namespace covering its region.
 * @public
 */
export class NdNamespaceIo extends Device {
  /** The parent region. */
  readonly region: NdRegion;
  /** `nsio->res`: the namespace's range, named after the region. */
  readonly res: Resource;
  /** `ndns->claim`: the personality device holding it. */
  claim: Device | undefined;
  /** `ndns->claim_class` (`holder_class`). */
  claimClass: NvdimmClaimClass = NvdimmClaimClass.NVDIMM_CCLASS_NONE;
  /** `ndns->force_raw`. */
  forceRaw = false;

  constructor(region: NdRegion, id: number) {
    super({ name: `namespace${ndParent('nd_namespace_io_create', region, NdRegion).regionId}.${ndId('nd_namespace_io_create', id)}`, parent: region, numaNode: region.numaNode });
    this.region = region;
    this.res = new Resource({
      name: region.name ?? '',
      start: region.ndrStart,
      end: region.ndrStart + region.ndrSize - 1,
      flags: 0x200,
    });
  }

  /** `resource_size(&nsio->res)` (= `nvdimm_namespace_capacity()` for IO namespaces). */
  get size(): number {
    return this.res.end - this.res.start + 1;
  }
}

/**
 * `struct nd_pfn`, and `struct nd_dax` (which embeds one): a personality
 * that gives a namespace a memmap.
 * @public
 */
export class NdPfn extends Device {
  /** 'pfn' for `pfnR.N` (fsdax), 'dax' for the nd dax device `daxR.N`. */
  readonly kind: 'pfn' | 'dax';
  /** The parent region. */
  readonly region: NdRegion;
  /** `nd_pfn->id`. */
  readonly pfnId: number;
  /** `mode`. */
  mode: PfnMode = PfnMode.PFN_MODE_NONE;
  /** `align`. */
  align: number;
  /** `uuid`, or undefined (reads "\n"). */
  uuid: Uint8Array | undefined;
  /** `ndns`: the claimed namespace. */
  ndns: NdNamespaceIo | undefined;
  /** `pfn_sb`: the info block as last validated or written. */
  pfnSb: NdPfnSb | undefined;
  /** `npfns` as set up by `__nvdimm_setup_pfn()`. */
  npfns = 0;

  constructor(kind: 'pfn' | 'dax', region: NdRegion, id: number, align: number) {
    super({ name: `${pfnKind(kind)}${ndParent('nd_pfn_alloc', region, NdRegion).regionId}.${ndId('nd_pfn_alloc', id)}`, parent: region, numaNode: region.numaNode });
    checkUnsigned('nd_pfn_alloc', 'align', align);
    this.kind = kind;
    this.region = region;
    this.pfnId = id;
    this.align = align;
  }
}

/**
 * `struct nd_btt`: the sector-mode personality; bound by nd_pmem, it puts a
 * BTT (src/btt.ts) on its namespace and exports `/dev/pmemNs`.
 * @public
 */
export class NdBtt extends Device {
  /** The parent region. */
  readonly region: NdRegion;
  /** `nd_btt->id`. */
  readonly bttId: number;
  /** `lbasize` (`sector_size`; 0 until set). */
  lbasize = 0;
  /** `uuid`, or undefined (reads "\n"). */
  uuid: Uint8Array | undefined;
  /** `ndns`: the claimed namespace. */
  ndns: NdNamespaceIo | undefined;
  /** `size` while bound. */
  size = 0;

  constructor(region: NdRegion, id: number) {
    super({ name: `btt${ndParent('nd_btt_alloc', region, NdRegion).regionId}.${ndId('nd_btt_alloc', id)}`, parent: region, numaNode: region.numaNode });
    this.region = region;
    this.bttId = id;
  }
}

/** Driver-private state of a bound pmem device (namespace or pfn). */
export interface PmemBinding {
  disk: PmemDisk | BttDisk;
  pgmap: DevPagemap | undefined;
}

/** EINVAL unless `id` is an ida number (the `id` of a device's name). */
function ndId(fn: string, id: unknown): number {
  checkUnsigned(fn, 'id', id, 0x7fffffff);
  return id;
}

/** EINVAL unless `parent` is an instance of `cls` (the device the new one hangs under). */
function ndParent<T>(fn: string, parent: unknown, cls: abstract new (...args: never[]) => T): T {
  if (!(parent instanceof cls)) throw new KernelError('EINVAL', `${fn}: invalid parent ${String(parent)}`);
  return parent;
}

/** EINVAL unless `desc` is a region descriptor: a physical range, a node, a flag list. */
function regionDesc(desc: unknown): NdRegionDesc {
  const d = desc as NdRegionDesc | null | undefined;
  if (typeof d !== 'object' || d === null || !Array.isArray(d.flags)) throw new KernelError('EINVAL', 'nd_region_create: invalid descriptor');
  checkUnsigned('nd_region_create', 'start', d.start);
  checkUnsigned('nd_region_create', 'size', d.size, Number.MAX_SAFE_INTEGER - d.start);
  for (const [what, n] of [['numa node', d.numaNode], ['target node', d.targetNode]] as const) {
    if (n !== -1) checkUnsigned('nd_region_create', what, n, 0xffff);
  }
  return d;
}

/** EINVAL unless `kind` is 'pfn' or 'dax'. */
function pfnKind(kind: unknown): 'pfn' | 'dax' {
  if (kind !== 'pfn' && kind !== 'dax') throw new KernelError('EINVAL', `nd_pfn_alloc: invalid kind ${String(kind)}`);
  return kind;
}
