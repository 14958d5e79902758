/**
 * dax_pmem: the nd-bus driver of the nd dax personality (`daxR.N` on the nd
 * bus, `ND_DEVICE_DAX_PMEM`). It sets up the namespace's `NVDIMM_DAX_INFO`
 * block the way fsdax's pfn device does (`nvdimm_setup_pfn()`), keeps the
 * metadata part of the namespace reserved under the namespace's name, and
 * publishes the data part as a static dax region with one device-dax
 * instance, `daxR.N` on the dax bus, whose id is the namespace's.
 *
 * Mirrors drivers/dax/pmem/core.c (`__dax_pmem_probe`) and
 * drivers/dax/pmem/pmem.c (`dax_pmem_probe`) of Linux v5.13.
 */
import { KernelError, devName, devWarn, devmAddActionOrReset } from '@zonedev/kernel';
import type { Device, Devres, Kernel } from '@zonedev/kernel';
import type { DevPagemap } from '@zonedev/memremap';
import type { NdNamespaceIo, NdPfn } from './devices.js';
import { IORESOURCE_DAX_STATIC } from './dax-bus.js';
import type { DaxBus, DevDax } from './dax-bus.js';

/** What dax_pmem needs from libnvdimm's core (drivers/nvdimm/{bus,claim,pfn_devs}.c). */
export interface DaxPmemHost {
  readonly kernel: Kernel;
  readonly dax: DaxBus;
  /** `nvdimm_namespace_common_probe()`. */
  commonProbe(dev: Device): NdNamespaceIo;
  /** `devm_namespace_enable()`. */
  devmNamespaceEnable(dev: Device, ns: NdNamespaceIo): Devres;
  /** `devm_namespace_disable()`. */
  devmNamespaceDisable(dev: Device, en: Devres): void;
  /** `nvdimm_setup_pfn()`: the info block and the pagemap with its altmap. */
  nvdimmSetupPfn(pfn: NdPfn): DevPagemap;
}

/**
 * `dax_pmem_probe()` → `__dax_pmem_probe()`. A dax device in pfn mode "ram"
 * (map=mem) is set up like map=mem fsdax: the memmap in RAM. Throws the
 * errors of the steps (ENODEV without a namespace, the info block's
 * validation errors, EBUSY "could not reserve metadata"), with every step
 * undone by devres.
 * @returns the new `dev_dax`.
 */
export function daxPmemProbe(host: DaxPmemHost, nd: NdPfn): DevDax {
  const ns = host.commonProbe(nd);
  const en = host.devmNamespaceEnable(nd, ns);
  const pgmap = host.nvdimmSetupPfn(nd);
  host.devmNamespaceDisable(nd, en);
  const offset = nd.pfnSb!.dataoff;
  const iomem = host.kernel.iomem;
  if (iomem.requestMemRegion(ns.res.start, offset, devName(ns)) === undefined) {
    devWarn(nd, 'could not reserve metadata');
    throw new KernelError('EBUSY', 'could not reserve metadata');
  }
  devmAddActionOrReset(nd, () => iomem.releaseMemRegion(ns.res.start, offset), 'devm_region_release');
  const m = /^namespace(\d+)\.(\d+)$/.exec(devName(ns));
  if (m === null) throw new KernelError('EINVAL', `${devName(ns)}: not namespace%d.%d`);
  const regionId = Number(m[1]);
  const id = Number(m[2]);
  const r = pgmap.ranges[0]!;
  const range = { start: r.start + offset, end: r.end };
  const region = host.dax.allocDaxRegion(nd, regionId, range, nd.region.targetNode, nd.pfnSb!.align, IORESOURCE_DAX_STATIC);
  return host.dax.devmCreateDevDax(region, id, range.end - range.start + 1, pgmap);
}
