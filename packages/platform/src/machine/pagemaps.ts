/**
 * Device pagemaps a front-end maps and unmaps (the demo's `memremap` and
 * `memunmap` commands): the part of a device driver that gives its memory a
 * memmap.
 *
 * A driver that wants `struct page`s for device memory claims the range
 * (`devm_request_mem_region()`), fills in a `struct dev_pagemap` and calls
 * `memremap_pages()`. `DevicePagemaps.map()` plays such a driver, in one of the
 * kernel's memory types:
 *
 * ```
 *   fsdax     MEMORY_DEVICE_FS_DAX     pmem under a DAX file system (drivers/nvdimm/pmem.c)
 *   generic   MEMORY_DEVICE_GENERIC    device DAX (drivers/dax/device.c)
 *   p2pdma    MEMORY_DEVICE_PCI_P2PDMA a PCI BAR for peer-to-peer DMA
 *   private   MEMORY_DEVICE_PRIVATE    memory the CPU cannot address (lib/test_hmm.c)
 * ```
 *
 * With `--altmap` the memmap goes in the device itself, as libnvdimm's
 * `map=dev` (nd_pfn) lays it out: the first 8 KiB (rounded up to a page)
 * reserved for the info block, then the struct pages of the whole range,
 * rounded up to the vmemmap's page size; data pages begin after that.
 * Device-private memory has no physical address of its own: its range
 * comes from `request_free_mem_region()` at the top of the address space,
 * as test_hmm's does.
 */
import { IORESOURCE_BUSY, IORESOURCE_MEM, KernelError, orBits } from '@zonedev/kernel';
import type { Resource as ResourceT } from '@zonedev/kernel';
import {
  DevPagemap,
  MEMORY_DEVICE_FS_DAX,
  MEMORY_DEVICE_GENERIC,
  MEMORY_DEVICE_PCI_P2PDMA,
  MEMORY_DEVICE_PRIVATE,
  PGMAP_ALTMAP_VALID,
} from '@zonedev/memremap';
import type { MemoryType } from '@zonedev/memremap';
import { vmemAltmap } from '@zonedev/sparse-vmemmap';
import type { MachineCore } from './core.js';

/**
 * The memory types by name (`fsdax`, `generic`, `p2pdma`, `private`).
 *
 * @public
 */
export const PGMAP_TYPES: Readonly<Record<string, MemoryType>> = {
  fsdax: MEMORY_DEVICE_FS_DAX,
  generic: MEMORY_DEVICE_GENERIC,
  p2pdma: MEMORY_DEVICE_PCI_P2PDMA,
  private: MEMORY_DEVICE_PRIVATE,
};

/** The info-block reserve of the `map=dev` layout: 8 KiB, rounded up to a page. */
function altmapReserveBytes(ps: number): number {
  return Math.ceil(8192 / ps) * ps;
}

/**
 * Where data pages begin in the `map=dev` layout of a `size`-byte device:
 * after the reserve and the struct pages of the rest, rounded up to the
 * vmemmap's page size (`offset` of `nd_pfn_init()`).
 */
function altmapDataOffset(size: number, ps: number, unit: number): number {
  const reserveBytes = altmapReserveBytes(ps);
  const npfns = (size - reserveBytes) / ps;
  return Math.ceil((reserveBytes + 64 * npfns) / unit) * unit;
}

/**
 * One mapped pagemap.
 *
 * @public
 */
export interface DevicePagemap {
  /** `pgmapN`. */
  readonly name: string;
  /** The `struct dev_pagemap` handed to `memremap_pages()`. */
  readonly pgmap: DevPagemap;
  /** The claimed region (`pgmapN` in /proc/iomem). */
  readonly res: ResourceT;
  /** The memory type by name (`fsdax`, `generic`, `p2pdma`, `private`). */
  readonly typeName: string;
  /** The node the memmap was placed on. */
  readonly nid: number;
  /** What `memremap_pages()` returned: the range's kernel virtual address. */
  readonly va: bigint;
}

/**
 * The pagemaps of one machine.
 *
 * @public
 */
export class DevicePagemaps {
  private readonly m: MachineCore;
  private readonly maps: DevicePagemap[] = [];
  private next = 0;

  /** The pagemaps of machine `m` (none yet). */
  constructor(m: MachineCore) {
    this.m = m;
  }

  /** The mapped pagemaps, by address. */
  list(): DevicePagemap[] {
    return [...this.maps].sort((a, b) => a.res.start - b.res.start);
  }

  /**
   * Claims `[start, start + size)` (or, for device-private memory without a
   * start, a free region of `size` at the top of the address space) and
   * maps it with `memremap_pages()`. Errors are the kernel's (EBUSY for a
   * range someone else claimed, what memremap_pages() throws); nothing is
   * left behind on failure.
   */
  map(typeName: string, start: number | undefined, size: number, withAltmap: boolean, nid: number): DevicePagemap {
    if (typeof withAltmap !== 'boolean') throw new KernelError('EINVAL', `memremap: invalid altmap flag ${String(withAltmap)}`);
    const type = PGMAP_TYPES[typeName];
    if (type === undefined) throw new KernelError('EINVAL', `unknown memory type ${typeName}`);
    const m = this.m;
    const name = `pgmap${this.next}`;
    const ps = m.mm.config.pageSize;
    const withDevAltmap = withAltmap && type !== MEMORY_DEVICE_PRIVATE;
    // nd_pfn_init() (drivers/nvdimm/pfn_devs.c): a layout whose data offset is
    // not below the size maps no data page; -ENXIO before anything is claimed.
    if (withDevAltmap && altmapDataOffset(size, ps, m.profile.sparse.vmemmapPageSize) >= size) {
      const msg = `${name} unable to satisfy requested alignment`;
      m.kernel.log.err(msg);
      throw new KernelError('ENXIO', msg);
    }
    const iomem = m.kernel.iomem;
    let res: ResourceT;
    if (start === undefined) {
      res = iomem.requestFreeMemRegion(iomem.root, size, name);
    } else {
      // devm_request_mem_region(): the range, claimed under whatever holds it (e.g. the legacy pmem).
      const r = iomem.requestRegion(iomem.root, start, size, name, orBits(IORESOURCE_MEM, IORESOURCE_BUSY));
      if (r === undefined) throw new KernelError('EBUSY', `devm_request_mem_region: ${name}: [mem 0x${start.toString(16)}-0x${(start + size - 1).toString(16)}] is busy`);
      res = r;
    }
    const base = res.start;
    const ops =
      type === MEMORY_DEVICE_PRIVATE
        ? { pageFree: (): void => undefined, migrateToRam: (): number => 0 }
        : undefined;
    let altmap;
    if (withDevAltmap) {
      const reserveBytes = altmapReserveBytes(ps);
      const dataoff = altmapDataOffset(size, ps, m.profile.sparse.vmemmapPageSize);
      // end_pfn is the last pfn, PHYS_PFN(res->end), as nvdimm_setup_pfn() sets it.
      altmap = vmemAltmap({ basePfn: base / ps, endPfn: (base + size - 1 - ((base + size - 1) % ps)) / ps, reserve: reserveBytes / ps, free: (dataoff - reserveBytes) / ps });
    }
    const pgmap = new DevPagemap({
      type,
      range: { start: base, end: base + size - 1 },
      ...(altmap !== undefined ? { altmap, flags: PGMAP_ALTMAP_VALID } : {}),
      ...(ops !== undefined ? { ops, owner: name } : {}),
      name,
    });
    let va: bigint;
    try {
      va = m.memremap.memremapPages(pgmap, nid);
    } catch (e) {
      iomem.releaseResource(res);
      throw e;
    }
    const d: DevicePagemap = { name, pgmap, res, typeName, nid, va };
    this.maps.push(d);
    this.next++;
    return d;
  }

  /** The pagemap whose range starts at `start` or is named `name`. */
  find(key: string | number): DevicePagemap | undefined {
    if (typeof key !== 'string' && (typeof key !== 'number' || !Number.isSafeInteger(key) || key < 0)) throw new KernelError('EINVAL', `memremap: invalid pagemap ${String(key)}`);
    return this.maps.find((d) => (typeof key === 'number' ? d.res.start === key : d.name === key));
  }

  /**
   * `memunmap_pages()` and the release of the region. Returns whether the
   * teardown finished (no page of the pagemap was still referenced).
   */
  unmap(d: DevicePagemap): boolean {
    if (typeof d !== 'object' || d === null || !this.maps.includes(d)) throw new KernelError('EINVAL', `memunmap: not a mapped pagemap: ${String(d)}`);
    let done = false;
    void this.m.memremap.memunmapPages(d.pgmap).then(() => {
      done = true;
    });
    const finish = (): void => {
      this.m.kernel.iomem.releaseResource(d.res);
      this.maps.splice(this.maps.indexOf(d), 1);
    };
    if (this.m.memremap.pagemapPhase(d.pgmap) === undefined) {
      finish();
      return true;
    }
    void this.m.memremap.memunmapCompletion(d.pgmap)?.then(finish);
    return done;
  }
}
