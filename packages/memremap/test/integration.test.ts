// memremap on a real machine: kernel + mmzone + sparse-vmemmap +
// memory-hotplug, as a platform profile composes them.
import {
  Device,
  DeviceCore,
  IORESOURCE_BUSY,
  IORESOURCE_MEM,
  IORES_DESC_PERSISTENT_MEMORY_LEGACY,
  KernelError,
  Resource,
  devresList,
  orBits,
} from '@zonedev/kernel';
import { PG_reserved } from '@zonedev/mmzone';
import { vmemAltmap } from '@zonedev/sparse-vmemmap';
import type { VmemAltmap } from '@zonedev/sparse-vmemmap';
import { describe, expect, it } from 'vitest';
import {
  DevPagemap,
  Memremap,
  MEMORY_DEVICE_FS_DAX,
  MEMORY_DEVICE_GENERIC,
  MEMORY_DEVICE_PCI_P2PDMA,
  MEMORY_DEVICE_PRIVATE,
  PFN_DEV,
  PFN_MAP,
  PGMAP_ALTMAP_VALID,
  __pfnToPfnT,
  pfnTToPage,
} from '@zonedev/memremap';
import type { MemoryType } from '@zonedev/memremap';
import { GiB, MiB, bootMachine, snapshot } from './machine.js';
import type { Machine } from './machine.js';
import { errno, flush } from './doubles.js';

const PMEM = 16 * GiB;
const PMEM_PFN = PMEM / 4096;

function pmemResource(m: Machine, start: number, size: number): void {
  m.kernel.iomem.requestResource(
    m.kernel.iomem.root,
    new Resource({
      name: 'Persistent Memory (legacy)',
      start,
      end: start + size - 1,
      flags: orBits(IORESOURCE_MEM, IORESOURCE_BUSY),
      desc: IORES_DESC_PERSISTENT_MEMORY_LEGACY,
    }),
  );
}

/**
 * The altmap nd_pfn sets up for a namespace in "map=dev" mode: the 8 KiB
 * info block reserved, then the memmap of the whole range, rounded up to
 * 2 MiB (`nd_pfn_init()`: dataoff = ALIGN(start + 8K + 64 * npfns, 2M)).
 */
function ndPfnAltmap(start: number, size: number): VmemAltmap {
  const npfns = (size - 8192) / 4096;
  const dataoff = Math.ceil((8192 + 64 * npfns) / (2 * MiB)) * 2 * MiB;
  return vmemAltmap({ basePfn: start / 4096, endPfn: (start + size) / 4096 - 1, reserve: 2, free: dataoff / 4096 - 2 });
}

function warnings(m: Machine): string[] {
  return m.kernel.log.lines.filter((l) => l.level === 4).map((l) => l.text);
}

describe('memremap on a real machine', () => {
  it('a device-private pagemap over a free range from request_free_mem_region(): add_pages(), no linear mapping, memmap in RAM', async () => {
    const m = bootMachine();
    const free0 = m.mm.nrFreePages();
    const res = m.kernel.iomem.requestFreeMemRegion(m.kernel.iomem.root, 256 * MiB, 'hmm_dmirror');
    expect(res.start).toBe(2 ** 46 - 256 * MiB);
    const freed: number[] = [];
    const pgmap = new DevPagemap({
      type: MEMORY_DEVICE_PRIVATE,
      range: { start: res.start, end: res.end },
      ops: { pageFree: (p) => freed.push(p), migrateToRam: () => 0 },
      owner: 'dmirror',
    });
    m.memremap.memremapPages(pgmap, 0);
    const pfn = res.start / 4096;
    expect(m.sparse.pfnValid(pfn)).toBe(true);
    expect(m.sparse.pfnValid(pfn + 65535)).toBe(true);
    expect(m.hp.linearMappings()).toEqual([]);
    const acct = m.sparse.memmapOfRange(pfn, 65536);
    expect(acct.bytes).toBe(65536 * 64);
    expect(acct.placements.every((p) => p.source === 'ram')).toBe(true);
    expect(m.mm.nrFreePages()).toBe(free0 - 1024); // 4 MiB of memmap from RAM
    const dz = m.mm.nodeData(0)!.nodeZones[m.mm.config.ZONE_DEVICE!]!;
    expect([dz.zoneStartPfn, dz.spannedPages, dz.presentPages, dz.managedPages]).toEqual([pfn, 65536, 0, 0]);
    expect(m.memremap.isDevicePrivatePage(pfn)).toBe(true);
    expect(m.memremap.pfnTToVirt(__pfnToPfnT(pfn, PFN_DEV + PFN_MAP, 12))).toBeUndefined();
    // A driver allocates a page and gives it back through the mm core's put_page().
    m.memremap.getPage(pfn + 9);
    m.mm.putPage((pfn + 9) as number);
    expect(freed).toEqual([pfn + 9]);
    await m.memremap.memunmapPages(pgmap);
    expect(m.sparse.pfnValid(pfn)).toBe(false);
    expect(m.mm.nrFreePages()).toBe(free0);
    // v5.13 does not shrink ZONE_DEVICE.
    expect(dz.spannedPages).toBe(65536);
    expect(m.kernel.iomem.procIomem()).toContain('hmm_dmirror');
    m.kernel.iomem.releaseResource(res);
  });

  it('GENERIC and FS_DAX pagemaps with an altmap (reserve 2): the memmap lives in the first pages, which pgmap_pfn_valid() excludes', async () => {
    const m = bootMachine();
    pmemResource(m, PMEM, 2 * GiB);
    const free0 = m.mm.nrFreePages();
    const altmapA = ndPfnAltmap(PMEM, GiB);
    const altmapB = ndPfnAltmap(PMEM + GiB, GiB);
    expect([altmapA.reserve, altmapA.free]).toEqual([2, 4606]);
    const gen = new DevPagemap({ type: MEMORY_DEVICE_GENERIC, range: { start: PMEM, end: PMEM + GiB - 1 }, altmap: altmapA, flags: PGMAP_ALTMAP_VALID });
    const dax = new DevPagemap({
      type: MEMORY_DEVICE_FS_DAX,
      range: { start: PMEM + GiB, end: PMEM + 2 * GiB - 1 },
      altmap: altmapB,
      flags: PGMAP_ALTMAP_VALID,
    });
    const dz = m.mm.nodeData(0)!.nodeZones[m.mm.config.ZONE_DEVICE!]!;
    m.memremap.memremapPages(gen, 0);
    expect([dz.zoneStartPfn, dz.spannedPages, dz.presentPages]).toEqual([PMEM_PFN, 262144, 0]);
    m.memremap.memremapPages(dax, 0);
    expect([dz.zoneStartPfn, dz.spannedPages, dz.presentPages]).toEqual([PMEM_PFN, 524288, 0]);
    expect(m.mm.nodeData(0)!.nodePresentPages).toBe(m.mm.zones().reduce((s, z) => s + z.presentPages, 0));

    // The memmap of each GiB (16 MiB) is in its own altmap, in 2 MiB blocks after the first 512-pfn boundary.
    expect(m.mm.nrFreePages()).toBe(free0);
    expect([altmapA.alloc, altmapA.align]).toEqual([4096, 510]);
    const acct = m.sparse.memmapOfRange(PMEM_PFN, 262144);
    expect(acct.placements.map((p) => [p.source, p.pageSize, p.bytes])).toEqual([['altmap', 2 * MiB, 16 * MiB]]);
    expect(acct.placements[0]!.altmap).toBe(altmapA);

    // pfn_first = base + reserve + free = base + 4608.
    for (const [pfn, valid] of [
      [PMEM_PFN, false],
      [PMEM_PFN + 1, false],
      [PMEM_PFN + 2, false],
      [PMEM_PFN + 4607, false],
      [PMEM_PFN + 4608, true],
      [PMEM_PFN + 262143, true],
      [PMEM_PFN + 262144, false],
    ] as const) {
      expect(m.memremap.pgmapPfnValid(gen, pfn)).toBe(valid);
    }
    const mm = m.mm.memmap;
    // The memmap's own pages: ZONE_DEVICE, reserved, but no pgmap (move_pfn_range_to_zone initialized them).
    expect(mm.pagePgmap(PMEM_PFN + 100)).toBeUndefined();
    expect(mm.testPageFlag(PMEM_PFN + 100, PG_reserved)).toBe(true);
    expect(mm.pageZonenum(PMEM_PFN + 100)).toBe(m.mm.config.ZONE_DEVICE);
    expect(mm.pagePgmap(PMEM_PFN + 4608)).toBe(gen);
    expect(mm.pageRefCount(PMEM_PFN + 4608)).toBe(1);
    expect(gen.ref!.refs).toBe(1 + 262144 - 4608);
    expect(m.kernel.log.lines.map((l) => l.text)).toContain('memmap_init_zone_device initialised 257536 pages in 0ms');
    expect(m.hp.linearMappings()).toEqual([
      { start: PMEM, size: GiB, pgprot: 'PAGE_KERNEL' },
      { start: PMEM + GiB, size: GiB, pgprot: 'PAGE_KERNEL' },
    ]);
    expect(m.memremap.pfnTToVirt(__pfnToPfnT(PMEM_PFN + 4608, PFN_DEV + PFN_MAP, 12))).toBe(0xffff888000000000n + BigInt(PMEM + 4608 * 4096));
    expect(pfnTToPage(__pfnToPfnT(PMEM_PFN + 4608, PFN_DEV + PFN_MAP, 12))).toBe(PMEM_PFN + 4608);

    // fs-dax: a truncate waits for a pinned page to become idle.
    const daxPfn = PMEM_PFN + 262144 + 5000;
    expect(m.memremap.pageIsDevmapManaged(daxPfn)).toBe(true);
    m.memremap.getPage(daxPfn);
    let idle = false;
    void m.memremap.waitPageIdle(daxPfn).then(() => (idle = true));
    await flush();
    expect(idle).toBe(false);
    m.mm.putPage(daxPfn as number);
    await flush();
    expect(idle).toBe(true);

    await m.memremap.memunmapPages(gen);
    await m.memremap.memunmapPages(dax);
    expect([altmapA.alloc, altmapB.alloc]).toEqual([0, 0]);
    expect(warnings(m)).not.toContain('failed to free all reserved pages');
    expect(m.sparse.pfnValid(PMEM_PFN + 4608)).toBe(false);
    expect(m.hp.linearMappings()).toEqual([]);
    expect(m.sparse.vmemmapBlocks().some((b) => b.source === 'altmap')).toBe(false);
    expect([dz.presentPages, dz.spannedPages]).toEqual([0, 524288]);
  });

  it('PCI P2PDMA memory is mapped uncached', async () => {
    const m = bootMachine();
    const pgmap = new DevPagemap({ type: MEMORY_DEVICE_PCI_P2PDMA, range: { start: 32 * GiB, end: 32 * GiB + 64 * MiB - 1 } });
    m.memremap.memremapPages(pgmap, 0);
    expect(m.hp.linearMappings()).toEqual([{ start: 32 * GiB, size: 64 * MiB, pgprot: 'PAGE_KERNEL_NOCACHE' }]);
    expect(m.memremap.isPciP2pdmaPage(32 * GiB / 4096)).toBe(true);
    await m.memremap.memunmapPages(pgmap);
  });

  it('unmapping waits for a referenced page and completes when it is released', async () => {
    const m = bootMachine();
    const before = snapshot(m);
    const pgmap = new DevPagemap({ type: MEMORY_DEVICE_GENERIC, range: { start: PMEM, end: PMEM + 256 * MiB - 1 } });
    m.memremap.memremapPages(pgmap, 0);
    const pfn = PMEM_PFN + 1234;
    m.memremap.getPage(pfn); // e.g. pinned by get_user_pages()
    let done = false;
    const p = m.memremap.memunmapPages(pgmap).then(() => (done = true));
    await flush();
    expect(done).toBe(false);
    expect(m.memremap.getDevPagemap(pfn)).toBeUndefined();
    expect(m.sparse.pfnValid(pfn)).toBe(true);
    expect(m.mm.memmap.pageRefCount(pfn)).toBe(1);
    m.mm.putPage(pfn);
    await p;
    expect(done).toBe(true);
    expect(m.sparse.pfnValid(pfn)).toBe(false);
    const after = snapshot(m) as Record<string, unknown>;
    // Everything is back, except the ZONE_DEVICE span (v5.13) and max_pfn, which x86's add_pages() raised.
    expect({ ...after, zones: 0, maxPfn: 0 }).toEqual({ ...(before as Record<string, unknown>), zones: 0, maxPfn: 0 });
  });

  it('unbinding the driver tears the pagemap down (devres), once its pages are free', async () => {
    const m = bootMachine();
    const core = m.kernel.devices;
    const bus = { name: 'nd' };
    core.busRegister(bus);
    const pgmaps = new Map<Device, DevPagemap>();
    core.driverRegister({
      name: 'pmem',
      bus,
      probe: (dev) => {
        const pgmap = new DevPagemap({ type: MEMORY_DEVICE_FS_DAX, range: { start: PMEM, end: PMEM + 128 * MiB - 1 } });
        m.memremap.devmMemremapPages(dev, pgmap);
        pgmaps.set(dev, pgmap);
      },
    });
    const dev = new Device({ name: 'namespace0.0', bus });
    core.deviceRegister(dev);
    const pgmap = pgmaps.get(dev)!;
    expect(m.memremap.pagemapPhase(pgmap)).toBe('live');
    expect(devresList(dev).map((d) => d.name)).toEqual(['devm_memremap_pages_release']);
    m.memremap.getPage(PMEM_PFN + 7);
    core.deviceReleaseDriver(dev); // echo namespace0.0 > /sys/bus/nd/drivers/pmem/unbind
    expect(dev.driver).toBeUndefined();
    expect(m.memremap.pagemapPhase(pgmap)).toBe('dying');
    const completion = m.memremap.memunmapCompletion(pgmap)!;
    await flush();
    expect(m.sparse.pfnValid(PMEM_PFN)).toBe(true);
    m.mm.putPage(PMEM_PFN + 7);
    await completion;
    expect(m.memremap.pagemapPhase(pgmap)).toBeUndefined();
    expect(m.sparse.pfnValid(PMEM_PFN)).toBe(false);
    expect(m.memremap.devmapManagedKey).toBe(0);
  });

  it('a probe that fails after devm_memremap_pages() leaves nothing behind', () => {
    const m = bootMachine();
    const before = snapshot(m);
    const core = m.kernel.devices;
    const bus = { name: 'dax' };
    core.busRegister(bus);
    core.driverRegister({
      name: 'device_dax',
      bus,
      probe: (dev) => {
        m.memremap.devmMemremapPages(dev, new DevPagemap({ type: MEMORY_DEVICE_GENERIC, range: { start: PMEM, end: PMEM + 128 * MiB - 1 } }));
        throw new KernelError('EIO', 'probe failed later');
      },
    });
    const dev = new Device({ name: 'dax0.0', bus });
    core.deviceRegister(dev);
    expect(dev.driver).toBeUndefined();
    expect(devresList(dev)).toEqual([]);
    const after = snapshot(m) as Record<string, unknown>;
    expect({ ...after, zones: 0, maxPfn: 0 }).toEqual({ ...(before as Record<string, unknown>), zones: 0, maxPfn: 0 });
  });
});

describe('one memremap per mm core', () => {
  it('a second Memremap on the same mm core is refused with EBUSY; the first keeps its put_page() path', () => {
    const m = bootMachine();
    expect(() => new Memremap({ kernel: m.kernel, mm: m.mm, hotplug: m.hp })).toThrow(
      new KernelError('EBUSY', 'register_devmap_put: the ZONE_DEVICE put_page() path is already provided'),
    );
    expect(() => new Memremap({ kernel: m.kernel, mm: m.mm, hotplug: m.hp })).toThrow(errno('EBUSY'));
    const pgmap = new DevPagemap({ type: MEMORY_DEVICE_FS_DAX, range: { start: PMEM, end: PMEM + 128 * MiB - 1 } });
    m.memremap.memremapPages(pgmap, 0);
    m.memremap.getPage(PMEM_PFN);
    expect(m.mm.memmap.pageRefCount(PMEM_PFN)).toBe(2);
    const wakeUps = m.memremap.pageIdleWakeUps;
    // put_page() issued through the mm core takes the first memremap's path:
    // put_devmap_managed_page() wakes the waiters of a page whose count drops to 1
    m.mm.putPage(PMEM_PFN as number);
    expect(m.mm.memmap.pageRefCount(PMEM_PFN)).toBe(1);
    expect(m.memremap.pageIdleWakeUps).toBe(wakeUps + 1);
  });
});

describe('failures on a real machine leave no trace', () => {
  function expectNoTrace(m: Machine, f: () => unknown, e: string): void {
    const before = snapshot(m);
    expect(f).toThrow(errno(e));
    expect(snapshot(m)).toEqual(before);
  }

  it('System RAM (-ENXIO), an existing live pagemap (-ENOMEM), an unpluggable range (-EINVAL)', () => {
    const m = bootMachine();
    const a = new DevPagemap({ type: MEMORY_DEVICE_GENERIC, range: { start: PMEM, end: PMEM + 128 * MiB - 1 } });
    m.memremap.memremapPages(a, 0);
    expectNoTrace(m, () => m.memremap.memremapPages(new DevPagemap({ type: MEMORY_DEVICE_GENERIC, range: { start: 256 * MiB, end: 512 * MiB - 1 } }), 0), 'ENXIO');
    expectNoTrace(
      m,
      () => m.memremap.memremapPages(new DevPagemap({ type: MEMORY_DEVICE_FS_DAX, range: { start: PMEM + 64 * MiB, end: PMEM + 192 * MiB - 1 } }), 0),
      'ENOMEM',
    );
    expectNoTrace(m, () => m.memremap.memremapPages(new DevPagemap({ type: MEMORY_DEVICE_GENERIC, range: { start: 2 ** 46, end: 2 ** 46 + 128 * MiB - 1 } }), 0), 'EINVAL');
    expect(m.kernel.log.lines.map((l) => l.text).some((t) => t.startsWith('Hotplug memory [0x400000000000-0x400008000000] exceeds maximum addressable range'))).toBe(true);
  });

  it('a range not in whole subsections, an altmap not at the range start (-EINVAL from __add_pages)', () => {
    const m = bootMachine();
    expectNoTrace(m, () => m.memremap.memremapPages(new DevPagemap({ type: MEMORY_DEVICE_GENERIC, range: { start: PMEM, end: PMEM + MiB - 1 } }), 0), 'EINVAL');
    const altmap = vmemAltmap({ basePfn: PMEM_PFN + 1, reserve: 2, free: 4606 });
    expectNoTrace(
      m,
      () => m.memremap.memremapPages(new DevPagemap({ type: MEMORY_DEVICE_GENERIC, range: { start: PMEM, end: PMEM + GiB - 1 }, altmap, flags: PGMAP_ALTMAP_VALID }), 0),
      'EINVAL',
    );
    expect(warnings(m)).toContain('memory add fail, invalid altmap');
    expect(altmap.alloc).toBe(0);
  });

  it('an altmap too small for the memmap (-ENOMEM from vmemmap_populate)', () => {
    const m = bootMachine();
    const altmap = vmemAltmap({ basePfn: PMEM_PFN, reserve: 2, free: 1024 });
    expectNoTrace(
      m,
      () => m.memremap.memremapPages(new DevPagemap({ type: MEMORY_DEVICE_FS_DAX, range: { start: PMEM, end: PMEM + GiB - 1 }, altmap, flags: PGMAP_ALTMAP_VALID }), 0),
      'ENOMEM',
    );
    expect(altmap.alloc).toBe(0);
  });

  it('a failure on range 1 unwinds range 0: sections, memmap, linear mapping, zone and node spans, max_pfn', () => {
    const m = bootMachine();
    const pgmap = new DevPagemap({
      type: MEMORY_DEVICE_GENERIC,
      ranges: [
        { start: PMEM, end: PMEM + 256 * MiB - 1 },
        { start: 512 * MiB, end: 640 * MiB - 1 },
      ],
    });
    const before = snapshot(m);
    expect(() => m.memremap.memremapPages(pgmap, 0)).toThrow(errno('ENXIO'));
    expect(snapshot(m)).toEqual(before);
    expect(pgmap.ref).toBeUndefined();
  });

  it('the xarray allocation (failslab) and -EEXIST for sections a dying pagemap still holds', async () => {
    const m = bootMachine();
    m.kernel.faults.configure('failslab', { probability: 100, times: 1 });
    expectNoTrace(m, () => m.memremap.memremapPages(new DevPagemap({ type: MEMORY_DEVICE_GENERIC, range: { start: PMEM, end: PMEM + 128 * MiB - 1 } }), 0), 'ENOMEM');
    const a = new DevPagemap({ type: MEMORY_DEVICE_GENERIC, range: { start: PMEM, end: PMEM + 128 * MiB - 1 } });
    m.memremap.memremapPages(a, 0);
    m.memremap.getPage(PMEM_PFN);
    const teardown = m.memremap.memunmapPages(a);
    // A is dying: get_dev_pagemap() no longer sees it, so no "Conflicting mapping";
    // its sections are still there, so __add_pages() fails with -EEXIST.
    const b = new DevPagemap({ type: MEMORY_DEVICE_GENERIC, range: { start: PMEM, end: PMEM + 128 * MiB - 1 } });
    expect(() => m.memremap.memremapPages(b, 0)).toThrow(errno('EEXIST'));
    // As in the kernel, b's pgmap_array_delete() erased the range, a's entry included.
    expect(m.memremap.pgmapArrayEntries()).toEqual([]);
    m.mm.putPage(PMEM_PFN);
    await teardown;
    expect(m.sparse.pfnValid(PMEM_PFN)).toBe(false);
    m.memremap.memremapPages(b, 0);
    expect(m.memremap.getDevPagemap(PMEM_PFN)).toBe(b);
  });

  it.each([MEMORY_DEVICE_PRIVATE, MEMORY_DEVICE_GENERIC])('type %i: a second mapping of the same range is refused', (type) => {
    const m = bootMachine();
    const ops = { pageFree: (): void => undefined, migrateToRam: (): number => 0 };
    const mk = (): DevPagemap => new DevPagemap({ type: type as MemoryType, range: { start: PMEM, end: PMEM + 128 * MiB - 1 }, ops, owner: 1 });
    m.memremap.memremapPages(mk(), 0);
    expectNoTrace(m, () => m.memremap.memremapPages(mk(), 0), 'ENOMEM');
  });
});

describe('a machine without CONFIG_ZONE_DEVICE', () => {
  it('refuses devm_memremap_pages with -ENXIO and aligns namespaces to PAGE_SIZE', () => {
    const m = bootMachine({ mm: { zoneDevice: false } });
    const dev = new Device({ name: 'pmem0' });
    new DeviceCore().deviceRegister(dev);
    expect(() => m.memremap.devmMemremapPages(dev, new DevPagemap({ type: MEMORY_DEVICE_GENERIC, range: { start: PMEM, end: PMEM + 128 * MiB - 1 } }))).toThrow(
      errno('ENXIO'),
    );
    expect(m.memremap.getDevPagemap(PMEM_PFN)).toBeUndefined();
    expect(m.memremap.memremapCompatAlign()).toBe(4096);
  });
});
