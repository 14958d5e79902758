// memremap_pages() and friends against the test doubles: the kernel's
// checks, errnos and messages, the unwinding of every failure, the struct
// pages memmap_init_zone_device() produces, and the reference rules.
import { PercpuRef, Resource, devresList, Device, DeviceCore, KernelError } from '@zonedev/kernel';
import { PG_reserved, PG_waiters, MIGRATE_MOVABLE } from '@zonedev/mmzone';
import { vmemAltmap } from '@zonedev/sparse-vmemmap';
import { describe, expect, it } from 'vitest';
import {
  DevPagemap,
  MEMORY_DEVICE_FS_DAX,
  MEMORY_DEVICE_GENERIC,
  MEMORY_DEVICE_PCI_P2PDMA,
  MEMORY_DEVICE_PRIVATE,
  PGMAP_ALTMAP_VALID,
} from '@zonedev/memremap';
import type { DevPagemapOps, MemoryType } from '@zonedev/memremap';
import { GiB, MiB, errno, fakeMachine, fakeSnapshot, flush } from './doubles.js';
import type { FakeMachine } from './doubles.js';

const DEV = 64 * GiB;
const PFN = DEV / 4096;

function privateOps(freed: number[] = []): DevPagemapOps {
  return { pageFree: (p) => freed.push(p), migrateToRam: () => 0 };
}

function generic(start = DEV, size = 8 * MiB): DevPagemap {
  return new DevPagemap({ type: MEMORY_DEVICE_GENERIC, range: { start, end: start + size - 1 } });
}

function warnings(m: FakeMachine): string[] {
  return m.kernel.log.lines.filter((l) => l.level === 4).map((l) => l.text);
}

describe('memremap_pages: checks before anything is done', () => {
  it('refuses a pagemap without ranges: -EINVAL, WARN_ONCE "nr_range must be specified"', () => {
    const m = fakeMachine();
    const before = fakeSnapshot(m);
    const pgmap = new DevPagemap({ type: MEMORY_DEVICE_GENERIC });
    expect(() => m.memremap.memremapPages(pgmap, 0)).toThrow(errno('EINVAL'));
    expect(() => m.memremap.memremapPages(pgmap, 0)).toThrow(errno('EINVAL'));
    expect(warnings(m).filter((t) => t === 'nr_range must be specified')).toHaveLength(1);
    expect(warnings(m)).toContain('------------[ cut here ]------------');
    expect(fakeSnapshot(m)).toEqual(before);
    expect(pgmap.ref).toBeUndefined();
  });

  it.each([
    ['Missing migrate_to_ram method', { ops: { pageFree: (): void => undefined }, owner: 'drv' }],
    ['Missing migrate_to_ram method', { owner: 'drv' }],
    ['Missing page_free method', { ops: { migrateToRam: (): number => 0 }, owner: 'drv' }],
    ['Missing owner', { ops: privateOps() }],
  ])('device-private memory: %s -> -EINVAL, nothing done', (msg, init) => {
    const m = fakeMachine();
    const before = fakeSnapshot(m);
    const pgmap = new DevPagemap({ type: MEMORY_DEVICE_PRIVATE, range: { start: DEV, end: DEV + 8 * MiB - 1 }, ...init });
    expect(() => m.memremap.memremapPages(pgmap, 0)).toThrow(expect.objectContaining({ errno: 'EINVAL', message: msg }));
    expect(warnings(m)).toContain(msg);
    expect(fakeSnapshot(m)).toEqual(before);
    expect(pgmap.ref).toBeUndefined();
    expect(m.hp.calls).toEqual([]);
  });

  it('refuses device-private memory without CONFIG_DEVICE_PRIVATE and fs-dax under CONFIG_FS_DAX_LIMITED', () => {
    const m = fakeMachine({ config: { devicePrivate: false, fsDaxLimited: true } });
    const priv = new DevPagemap({ type: MEMORY_DEVICE_PRIVATE, range: { start: DEV, end: DEV + 8 * MiB - 1 }, ops: privateOps(), owner: 1 });
    expect(() => m.memremap.memremapPages(priv, 0)).toThrow(expect.objectContaining({ errno: 'EINVAL', message: 'Device private memory not supported' }));
    const dax = new DevPagemap({ type: MEMORY_DEVICE_FS_DAX, range: { start: DEV, end: DEV + 8 * MiB - 1 } });
    expect(() => m.memremap.memremapPages(dax, 0)).toThrow(expect.objectContaining({ errno: 'EINVAL', message: 'File system DAX not supported' }));
    expect(warnings(m)).toEqual(expect.arrayContaining(['Device private memory not supported', 'File system DAX not supported']));
    expect(m.memremap.devPagemapOps).toBe(false);
  });

  it('warns about an invalid type in v5.13 words and refuses it with -EINVAL, mapping nothing', () => {
    for (const type of [0, 99]) {
      const m = fakeMachine();
      const pgmap = new DevPagemap({ type: type as MemoryType, range: { start: DEV, end: DEV + 8 * MiB - 1 } });
      const before = fakeSnapshot(m);
      expect(() => m.memremap.memremapPages(pgmap, 0)).toThrow(expect.objectContaining({ errno: 'EINVAL', message: `Invalid pgmap type ${type}` }));
      expect(warnings(m)).toContain(`Invalid pgmap type ${type}`);
      expect(m.hp.calls.map((c) => c.fn)).not.toContain('arch_add_memory');
      expect(fakeSnapshot(m)).toEqual(before);
      expect(m.memremap.pagemapPhase(pgmap)).toBeUndefined();
    }
  });

  it('without a caller ref: an internal percpu_ref, and kill/cleanup ops are -EINVAL', () => {
    const m = fakeMachine();
    const bad = new DevPagemap({ type: MEMORY_DEVICE_GENERIC, range: { start: DEV, end: DEV + 8 * MiB - 1 }, ops: { cleanup: (): void => undefined } });
    const before = fakeSnapshot(m);
    expect(() => m.memremap.memremapPages(bad, 0)).toThrow(errno('EINVAL'));
    expect(fakeSnapshot(m)).toEqual(before);
    expect(bad.ref).toBeUndefined();
    const good = generic();
    m.memremap.memremapPages(good, 0);
    expect(good.ref).toBeDefined();
    expect(good.ref).toBe(good.internalRef);
    expect(good.ref!.name).toBe('dev_pagemap_percpu_release');
  });

  it('with a caller ref: kill and cleanup are required ("Missing reference count teardown definition")', () => {
    const m = fakeMachine();
    const ref = new PercpuRef(() => undefined);
    const pgmap = new DevPagemap({ type: MEMORY_DEVICE_GENERIC, range: { start: DEV, end: DEV + 8 * MiB - 1 }, ref, ops: { kill: (): void => undefined } });
    const before = fakeSnapshot(m);
    expect(() => m.memremap.memremapPages(pgmap, 0)).toThrow(
      expect.objectContaining({ errno: 'EINVAL', message: 'Missing reference count teardown definition' }),
    );
    expect(fakeSnapshot(m)).toEqual(before);
    expect(ref.isDying()).toBe(false);
    expect(pgmap.internalRef).toBeUndefined();
  });
});

describe('memremap_pages: what each type asks of memory hotplug', () => {
  it('device-private: add_pages() (no linear mapping), mhp_range_allowed(need_mapping = false)', () => {
    const m = fakeMachine();
    const pgmap = new DevPagemap({ type: MEMORY_DEVICE_PRIVATE, range: { start: DEV, end: DEV + 8 * MiB - 1 }, ops: privateOps(), owner: 'drv' });
    const va = m.memremap.memremapPages(pgmap, 0);
    expect(va).toBe(0xffff888000000000n + BigInt(DEV));
    expect(m.hp.calls.map((c) => [c.fn, ...c.args])).toEqual([
      ['mhp_range_allowed', DEV, 8 * MiB, false],
      ['add_pages', 0, PFN, 2048, 'PAGE_KERNEL', false],
      ['move_pfn_range_to_zone', 'Device', PFN, 2048, false, MIGRATE_MOVABLE],
    ]);
  });

  it.each([
    [MEMORY_DEVICE_GENERIC, 'PAGE_KERNEL'],
    [MEMORY_DEVICE_FS_DAX, 'PAGE_KERNEL'],
    [MEMORY_DEVICE_PCI_P2PDMA, 'PAGE_KERNEL_NOCACHE'],
  ])('type %i: arch_add_memory() with %s, mhp_range_allowed(need_mapping = true)', (type, pgprot) => {
    const m = fakeMachine();
    m.memremap.memremapPages(new DevPagemap({ type, range: { start: DEV, end: DEV + 8 * MiB - 1 } }), 1);
    expect(m.hp.calls.map((c) => [c.fn, ...c.args]).slice(0, 2)).toEqual([
      ['mhp_range_allowed', DEV, 8 * MiB, true],
      ['arch_add_memory', 1, DEV, 8 * MiB, pgprot, false],
    ]);
  });

  it('uses numa_mem_id() for a negative nid', () => {
    const m = fakeMachine();
    m.mm.numaNodeId = 1;
    m.memremap.memremapPages(generic(), -1);
    expect(m.hp.calls.find((c) => c.fn === 'arch_add_memory')!.args[0]).toBe(1);
    expect(m.mm.memmap.pageToNid(PFN)).toBe(1);
  });

  it('refuses a node without a pglist_data (-EINVAL), leaving nothing', () => {
    const m = fakeMachine();
    const before = fakeSnapshot(m);
    expect(() => m.memremap.memremapPages(generic(), 3)).toThrow(errno('EINVAL'));
    expect(fakeSnapshot(m)).toEqual(before);
  });
});

describe('pagemap_range: per-range failures leave no trace', () => {
  it('a live pagemap over the first or the last pfn: -ENOMEM "Conflicting mapping in same section"', () => {
    const m = fakeMachine();
    const a = generic(DEV, 8 * MiB);
    m.memremap.memremapPages(a, 0);
    const refs = a.ref!.refs;
    const before = fakeSnapshot(m);
    // b ends inside a; c starts inside a.
    const b = generic(DEV - 8 * MiB, 10 * MiB);
    expect(() => m.memremap.memremapPages(b, 0)).toThrow(expect.objectContaining({ errno: 'ENOMEM', message: 'Conflicting mapping in same section' }));
    const c = generic(DEV + 6 * MiB, 8 * MiB);
    expect(() => m.memremap.memremapPages(c, 0)).toThrow(errno('ENOMEM'));
    expect(warnings(m).filter((t) => t === 'Conflicting mapping in same section')).toHaveLength(2);
    expect(fakeSnapshot(m)).toEqual(before);
    expect(a.ref!.refs).toBe(refs); // the conflict lookups' references were put back
    expect(b.ref).toBeUndefined();
    expect(b.nrRange).toBe(1);
  });

  it('a range intersecting System RAM: -ENXIO, WARN_ONCE "attempted on ram/mixed region"', () => {
    const m = fakeMachine();
    m.kernel.iomem.requestResource(m.kernel.iomem.root, new Resource({ name: 'Reserved', start: 4 * GiB, end: 4 * GiB + 16 * MiB - 1 }));
    const before = fakeSnapshot(m);
    const ram = generic(2 * GiB, 8 * MiB);
    expect(() => m.memremap.memremapPages(ram, 0)).toThrow(errno('ENXIO'));
    const mixed = generic(4 * GiB - 4 * MiB, 8 * MiB);
    expect(() => m.memremap.memremapPages(mixed, 0)).toThrow(errno('ENXIO'));
    expect(warnings(m)).toContain('attempted on ram region 0x80000000-0x807fffff');
    // WARN_ONCE: the second (mixed) attempt is not printed.
    expect(warnings(m).some((t) => t.startsWith('attempted on mixed'))).toBe(false);
    expect(fakeSnapshot(m)).toEqual(before);
  });

  it('prints "mixed" when that is the first such attempt', async () => {
    const m = fakeMachine();
    m.kernel.iomem.requestResource(m.kernel.iomem.root, new Resource({ name: 'Reserved', start: 4 * GiB, end: 4 * GiB + 16 * MiB - 1 }));
    const before = fakeSnapshot(m);
    expect(() => m.memremap.memremapPages(generic(4 * GiB - 4 * MiB, 8 * MiB), 0)).toThrow(errno('ENXIO'));
    expect(warnings(m)).toContain('attempted on mixed region 0xffc00000-0x1003fffff');
    expect(fakeSnapshot(m)).toEqual(before);
    // Overlapping only a resource that is not System RAM is fine.
    const reserved = generic(4 * GiB + 12 * MiB, 8 * MiB);
    m.memremap.memremapPages(reserved, 0);
    await m.memremap.memunmapPages(reserved);
  });

  it('a range mhp_range_allowed() refuses: -EINVAL after the index was written, which is undone', () => {
    const m = fakeMachine();
    m.hp.pluggableBits = 36;
    const before = fakeSnapshot(m);
    expect(() => m.memremap.memremapPages(generic(), 0)).toThrow(errno('EINVAL'));
    expect(fakeSnapshot(m)).toEqual(before);
  });

  it('an xarray allocation failure (failslab): -ENOMEM', () => {
    const m = fakeMachine();
    const before = fakeSnapshot(m);
    m.kernel.faults.configure('failslab', { probability: 100, times: 1 });
    expect(() => m.memremap.memremapPages(generic(), 0)).toThrow(errno('ENOMEM'));
    expect(fakeSnapshot(m)).toEqual(before);
    m.memremap.memremapPages(generic(), 0); // the point is exhausted: now it works
  });

  it('a failing arch_add_memory() / add_pages(): its errno, and the index entry is erased', () => {
    const m = fakeMachine();
    const before = fakeSnapshot(m);
    m.hp.failNext.set('arch_add_memory', new KernelError('EEXIST', 'sections present'));
    expect(() => m.memremap.memremapPages(generic(), 0)).toThrow(errno('EEXIST'));
    m.hp.failNext.set('add_pages', new KernelError('ENOMEM', 'no memmap'));
    const priv = new DevPagemap({ type: MEMORY_DEVICE_PRIVATE, range: { start: DEV, end: DEV + 8 * MiB - 1 }, ops: privateOps(), owner: 1 });
    expect(() => m.memremap.memremapPages(priv, 0)).toThrow(errno('ENOMEM'));
    expect(fakeSnapshot(m)).toEqual(before);
    expect(m.memremap.getDevPagemap(PFN)).toBeUndefined();
  });

  it('a failure on range 2 unwinds ranges 0 and 1: sections, index, zone and node spans, max_pfn, refs', () => {
    const m = fakeMachine();
    const before = fakeSnapshot(m);
    const pgmap = new DevPagemap({
      type: MEMORY_DEVICE_GENERIC,
      ranges: [
        { start: DEV, end: DEV + 128 * MiB - 1 },
        { start: DEV + 512 * MiB, end: DEV + 520 * MiB - 1 },
        { start: 2 * GiB, end: 2 * GiB + 8 * MiB - 1 }, // System RAM
      ],
    });
    expect(() => m.memremap.memremapPages(pgmap, 0)).toThrow(errno('ENXIO'));
    expect(fakeSnapshot(m)).toEqual(before);
    expect(pgmap.nrRange).toBe(3);
    expect(pgmap.ref).toBeUndefined();
    expect(pgmap.internalRef!.isExited()).toBe(true);
    const fns = m.hp.calls.map((c) => c.fn);
    expect(fns.filter((f) => f === 'arch_add_memory')).toHaveLength(2);
    expect(fns.filter((f) => f === 'arch_remove_memory')).toHaveLength(2);
    // The same pagemap, fixed, maps fine afterwards.
    pgmap.ranges[2] = { start: DEV + GiB, end: DEV + GiB + 8 * MiB - 1 };
    m.memremap.memremapPages(pgmap, 0);
    expect(m.memremap.pagemapPhase(pgmap)).toBe('live');
    expect(pgmap.ref!.refs).toBe(1 + (128 + 8 + 8) * 256);
  });

  it('an altmap is only supported on range 0: -EINVAL "altmap not supported for multiple ranges"', () => {
    const m = fakeMachine();
    const before = fakeSnapshot(m);
    const pgmap = new DevPagemap({
      type: MEMORY_DEVICE_FS_DAX,
      ranges: [
        { start: DEV, end: DEV + 8 * MiB - 1 },
        { start: DEV + 16 * MiB, end: DEV + 24 * MiB - 1 },
      ],
      altmap: vmemAltmap({ basePfn: PFN, reserve: 2, free: 64 }),
      flags: PGMAP_ALTMAP_VALID,
    });
    expect(() => m.memremap.memremapPages(pgmap, 0)).toThrow(
      expect.objectContaining({ errno: 'EINVAL', message: 'altmap not supported for multiple ranges' }),
    );
    expect(fakeSnapshot(m)).toEqual(before);
    expect(pgmap.altmap.alloc).toBe(0);
  });

  it('a caller-provided ref must be live on entry (note 3): a dead one is -EINVAL before anything is done', () => {
    const m = fakeMachine();
    const ref = new PercpuRef(() => undefined);
    ref.kill();
    const pgmap = new DevPagemap({
      type: MEMORY_DEVICE_GENERIC,
      range: { start: DEV, end: DEV + 8 * MiB - 1 },
      ref,
      ops: { kill: (): void => undefined, cleanup: (): void => undefined },
    });
    const before = fakeSnapshot(m);
    expect(() => m.memremap.memremapPages(pgmap, 0)).toThrow(errno('EINVAL'));
    expect(fakeSnapshot(m)).toEqual(before);
    expect(m.hp.calls).toEqual([]);
  });

  it('a caller-provided ref is killed and cleaned up when memremap_pages() fails (note 3)', () => {
    const m = fakeMachine();
    const log: string[] = [];
    const ref = new PercpuRef(() => log.push('released'));
    const pgmap = new DevPagemap({
      type: MEMORY_DEVICE_GENERIC,
      range: { start: 2 * GiB, end: 2 * GiB + 8 * MiB - 1 },
      ref,
      ops: {
        kill: (p): void => {
          log.push('kill');
          p.ref!.kill();
        },
        cleanup: (): void => {
          log.push('cleanup');
        },
      },
    });
    expect(() => m.memremap.memremapPages(pgmap, 0)).toThrow(errno('ENXIO'));
    expect(log).toEqual(['kill', 'released', 'cleanup']);
    expect(pgmap.ref).toBe(ref);
  });
});

describe('memmap_init_zone_device', () => {
  it('every page: ZONE_DEVICE and node links, PG_reserved, pgmap, refcount 1; pageblocks movable; dmesg line', () => {
    const m = fakeMachine();
    const pgmap = generic(DEV, 130 * MiB); // crosses a section boundary
    m.memremap.memremapPages(pgmap, 1);
    const mm = m.mm.memmap;
    for (const pfn of [PFN, PFN + 1, PFN + 32767, PFN + 32768, PFN + 130 * 256 - 1]) {
      expect(m.memremap.isZoneDevicePage(pfn)).toBe(true);
      expect(mm.pageZonenum(pfn)).toBe(m.mm.config.ZONE_DEVICE);
      expect(mm.pageToNid(pfn)).toBe(1);
      expect(mm.testPageFlag(pfn, PG_reserved)).toBe(true);
      expect(mm.pagePgmap(pfn)).toBe(pgmap);
      expect(m.memremap.pagePgmap(pfn)).toBe(pgmap);
      expect(mm.pageZoneDeviceData(pfn)).toBeUndefined();
      expect(mm.pageRefCount(pfn)).toBe(1);
      expect(mm.pageMapcountRaw(pfn)).toBe(-1);
      expect(mm.getPageblockMigratetype(pfn)).toBe(MIGRATE_MOVABLE);
    }
    expect(m.kernel.log.lines.map((l) => l.text)).toContain('memmap_init_zone_device initialised 33280 pages in 0ms');
    expect(pgmap.ref!.refs).toBe(1 + 33280);
    // Whole sections are one template (bulk initialization).
    expect(mm.sectionState(PFN / 32768)).toBe('template');
  });

  it('with an altmap, the reserve and the memmap pages are not device pages', () => {
    const m = fakeMachine();
    const altmap = vmemAltmap({ basePfn: PFN, reserve: 2, free: 64 });
    const pgmap = new DevPagemap({ type: MEMORY_DEVICE_FS_DAX, range: { start: DEV, end: DEV + 16 * MiB - 1 }, altmap, flags: PGMAP_ALTMAP_VALID });
    m.memremap.memremapPages(pgmap, 0);
    expect(altmap.alloc).toBe(64); // 4096 pages x 64 bytes
    const mm = m.mm.memmap;
    expect(mm.pagePgmap(PFN + 65)).toBeUndefined(); // memmap storage
    expect(mm.testPageFlag(PFN + 65, PG_reserved)).toBe(true);
    expect(mm.pagePgmap(PFN + 66)).toBe(pgmap);
    expect(m.memremap.pgmapPfnValid(pgmap, PFN)).toBe(false);
    expect(m.memremap.pgmapPfnValid(pgmap, PFN + 65)).toBe(false);
    expect(m.memremap.pgmapPfnValid(pgmap, PFN + 66)).toBe(true);
    expect(m.memremap.pgmapPfnValid(pgmap, PFN + 4095)).toBe(true);
    expect(m.memremap.pgmapPfnValid(pgmap, PFN + 4096)).toBe(false);
    expect(pgmap.ref!.refs).toBe(1 + 4096 - 66);
    expect(m.kernel.log.lines.map((l) => l.text)).toContain('memmap_init_zone_device initialised 4030 pages in 0ms');
    expect(m.memremap.vmemAltmapOffset(altmap)).toBe(66);
    expect(m.memremap.vmemAltmapOffset(undefined)).toBe(0);
  });

  it('with the section number in page->flags (no SPARSEMEM_VMEMMAP), each section gets its own template', () => {
    const m = fakeMachine({ arch: { sparsememVmemmap: false, maxPhysmemBits: 46 } });
    const pgmap = generic(DEV, 256 * MiB);
    m.memremap.memremapPages(pgmap, 0);
    const mm = m.mm.memmap;
    expect(mm.pageToSection(PFN)).toBe(PFN / 32768);
    expect(mm.pageToSection(PFN + 32768)).toBe(PFN / 32768 + 1);
    expect(mm.pagePgmap(PFN + 40000)).toBe(pgmap);
  });

  it('WARN_ON_ONCE and nothing for a zone that is not ZONE_DEVICE, or no pgmap', () => {
    const m = fakeMachine();
    const pgmap = generic();
    m.memremap.memremapPages(pgmap, 0);
    const normal = m.mm.nodeData(0)!.nodeZones[m.mm.config.ZONE_NORMAL]!;
    m.memremap.memmapInitZoneDevice(normal, PFN, 16, pgmap);
    m.memremap.memmapInitZoneDevice(m.mm.deviceZone, PFN, 16, undefined);
    expect(warnings(m).filter((t) => t.includes('memmap_init_zone_device'))).toHaveLength(1);
    expect(m.mm.memmap.pageZonenum(PFN)).toBe(m.mm.config.ZONE_DEVICE);
  });
});

describe('a 64 KiB-page architecture (powerpc book3s64 hash)', () => {
  it('maps, counts and unmaps in 64 KiB pages, and aligns namespaces to 16 MiB', async () => {
    const m = fakeMachine({ arch: { pageShift: 16, sectionSizeBits: 24, maxOrder: 9, pageblockOrder: 8, zoneDma32: false }, compatAlign: 16 * MiB });
    const pfn = DEV / 65536;
    const altmap = vmemAltmap({ basePfn: pfn, reserve: 1, free: 1 });
    const pgmap = new DevPagemap({ type: MEMORY_DEVICE_FS_DAX, range: { start: DEV, end: DEV + 32 * MiB - 1 }, altmap, flags: PGMAP_ALTMAP_VALID });
    m.memremap.memremapPages(pgmap, 0);
    expect(m.hp.calls.find((c) => c.fn === 'arch_add_memory')!.args).toEqual([0, DEV, 32 * MiB, 'PAGE_KERNEL', true]);
    expect(pgmap.ref!.refs).toBe(1 + 512 - 2);
    expect(m.memremap.pgmapPfnValid(pgmap, pfn + 1)).toBe(false);
    expect(m.memremap.pgmapPfnValid(pgmap, pfn + 2)).toBe(true);
    expect(m.memremap.getDevPagemap(pfn + 511)).toBe(pgmap);
    m.memremap.putDevPagemap(pgmap);
    expect(m.mm.memmap.getPageblockMigratetype(pfn + 256)).toBe(MIGRATE_MOVABLE);
    expect(m.memremap.memremapCompatAlign()).toBe(16 * MiB);
    await m.memremap.memunmapPages(pgmap);
    expect(altmap.alloc).toBe(0);
    expect(m.hp.presentSubsections()).toEqual([]);
  });
});

describe('get_dev_pagemap / put_dev_pagemap / pgmap_pfn_valid', () => {
  it('finds the live pagemap of a pfn and takes a reference; a cached one covering the pfn is returned as is', () => {
    const m = fakeMachine();
    const a = generic(DEV, 8 * MiB);
    const b = generic(DEV + 16 * MiB, 8 * MiB);
    m.memremap.memremapPages(a, 0);
    m.memremap.memremapPages(b, 0);
    const ra = a.ref!.refs;
    const rb = b.ref!.refs;
    expect(m.memremap.getDevPagemap(PFN + 5)).toBe(a);
    expect(a.ref!.refs).toBe(ra + 1);
    expect(m.memremap.getDevPagemap(PFN + 6, a)).toBe(a); // cached: no new reference
    expect(a.ref!.refs).toBe(ra + 1);
    expect(m.memremap.getDevPagemap(PFN + 4096, a)).toBe(b); // not covered: a is put, b looked up
    expect(a.ref!.refs).toBe(ra);
    expect(b.ref!.refs).toBe(rb + 1);
    m.memremap.putDevPagemap(b);
    m.memremap.putDevPagemap(undefined);
    expect(b.ref!.refs).toBe(rb);
    expect(m.memremap.getDevPagemap(PFN + 2048)).toBeUndefined(); // the hole between them
    expect(m.memremap.getDevPagemap(PFN - 1)).toBeUndefined();
    expect(m.memremap.pgmapArrayEntries().map((e) => [e.firstPfn, e.lastPfn])).toEqual([
      [PFN, PFN + 2047],
      [PFN + 4096, PFN + 6143],
    ]);
  });

  it('the cached check compares with pgmap->range, the first range only (v5.13)', () => {
    const m = fakeMachine();
    const pgmap = new DevPagemap({
      type: MEMORY_DEVICE_GENERIC,
      ranges: [
        { start: DEV, end: DEV + 8 * MiB - 1 },
        { start: DEV + 16 * MiB, end: DEV + 24 * MiB - 1 },
      ],
    });
    m.memremap.memremapPages(pgmap, 0);
    const r = pgmap.ref!.refs;
    expect(m.memremap.getDevPagemap(PFN + 4096, pgmap)).toBe(pgmap); // put, then found again
    expect(pgmap.ref!.refs).toBe(r);
    expect(m.memremap.pgmapPfnValid(pgmap, PFN + 4096)).toBe(true);
    expect(m.memremap.pgmapPfnValid(pgmap, PFN + 3000)).toBe(false);
  });

  it('finds nothing once the pagemap is killed', async () => {
    const m = fakeMachine();
    const pgmap = generic();
    m.memremap.memremapPages(pgmap, 0);
    m.memremap.getPage(PFN);
    const done = m.memremap.memunmapPages(pgmap);
    expect(m.memremap.pagemapPhase(pgmap)).toBe('dying');
    expect(m.memremap.getDevPagemap(PFN)).toBeUndefined();
    expect(m.memremap.getDevPagemap(PFN + 1)).toBeUndefined();
    m.mm.putPage(PFN);
    await done;
    expect(m.memremap.getDevPagemap(PFN)).toBeUndefined();
  });
});

describe('ZONE_DEVICE page references (v5.13)', () => {
  it('device-private: page_free() exactly when the count drops back to 1; mapping and PG_waiters cleared', () => {
    const m = fakeMachine();
    const freed: number[] = [];
    const pgmap = new DevPagemap({ type: MEMORY_DEVICE_PRIVATE, range: { start: DEV, end: DEV + 8 * MiB - 1 }, ops: privateOps(freed), owner: 'gpu' });
    m.memremap.memremapPages(pgmap, 0);
    expect(m.memremap.devmapManagedKey).toBe(1);
    expect(m.memremap.isDevicePrivatePage(PFN)).toBe(true);
    expect(m.memremap.pageIsDevmapManaged(PFN)).toBe(true);
    m.memremap.getPage(PFN); // the driver allocates the page: 1 -> 2
    m.memremap.getPage(PFN); // and someone else holds it: 3
    m.mm.memmap.setPageMapping(PFN, { anon: true });
    m.mm.memmap.setPageFlag(PFN, PG_waiters);
    m.mm.putPage(PFN);
    expect(freed).toEqual([]);
    m.mm.putPage(PFN);
    expect(freed).toEqual([PFN]);
    expect(m.mm.memmap.pageRefCount(PFN)).toBe(1);
    expect(m.mm.memmap.pageMapping(PFN)).toBeUndefined();
    expect(m.mm.memmap.testPageFlag(PFN, PG_waiters)).toBe(false);
    // A put issued through the mm core takes the same path.
    m.memremap.getPage(PFN + 1);
    m.mm.putPage((PFN + 1) as never);
    expect(freed).toEqual([PFN, PFN + 1]);
    expect(m.mm.buddyPuts).toEqual([]);
  });

  it('fs-dax: a wake-up of waiters when a pinned page becomes idle', async () => {
    const m = fakeMachine();
    const pgmap = new DevPagemap({ type: MEMORY_DEVICE_FS_DAX, range: { start: DEV, end: DEV + 8 * MiB - 1 } });
    m.memremap.memremapPages(pgmap, 0);
    expect(m.memremap.pageIsDevmapManaged(PFN)).toBe(true);
    expect(m.memremap.isDevicePrivatePage(PFN)).toBe(false);
    m.memremap.getPage(PFN);
    m.memremap.getPage(PFN);
    let idle = false;
    void m.memremap.waitPageIdle(PFN).then(() => (idle = true));
    m.mm.putPage(PFN);
    await flush();
    expect(idle).toBe(false);
    m.mm.putPage(PFN);
    await flush();
    expect(idle).toBe(true);
    expect(m.memremap.pageIdleWakeUps).toBe(1);
    await m.memremap.waitPageIdle(PFN); // already idle
  });

  it('GENERIC and P2PDMA pages are not devmap-managed: the pagemap reference goes at 0', () => {
    const m = fakeMachine();
    const gen = generic();
    const p2p = new DevPagemap({ type: MEMORY_DEVICE_PCI_P2PDMA, range: { start: DEV + 16 * MiB, end: DEV + 24 * MiB - 1 } });
    m.memremap.memremapPages(gen, 0);
    m.memremap.memremapPages(p2p, 0);
    expect(m.memremap.devmapManagedKey).toBe(0);
    expect(m.memremap.pageIsDevmapManaged(PFN)).toBe(false);
    expect(m.memremap.isPciP2pdmaPage(PFN + 4096)).toBe(true);
    expect(m.memremap.isPciP2pdmaPage(PFN)).toBe(false);
    const r = gen.ref!.refs;
    m.memremap.getPage(PFN);
    m.mm.putPage(PFN);
    expect(gen.ref!.refs).toBe(r);
    m.mm.putPage(PFN); // 1 -> 0: __put_page() -> put_dev_pagemap()
    expect(gen.ref!.refs).toBe(r - 1);
    expect(m.mm.memmap.pageRefCount(PFN)).toBe(0);
    expect(() => m.mm.putPage(PFN)).toThrow(/VM_BUG_ON_PAGE/);
    expect(() => m.memremap.getPage(PFN)).toThrow(/VM_BUG_ON_PAGE/);
  });

  it('P2PDMA pages need CONFIG_PCI_P2PDMA to be recognised', () => {
    const m = fakeMachine({ config: { pciP2pdma: false } });
    m.memremap.memremapPages(new DevPagemap({ type: MEMORY_DEVICE_PCI_P2PDMA, range: { start: DEV, end: DEV + 8 * MiB - 1 } }), 0);
    expect(m.memremap.isPciP2pdmaPage(PFN)).toBe(false);
    expect(m.memremap.isZoneDevicePage(PFN)).toBe(true);
  });

  it('put_devmap_managed_page() on a page that is not managed: WARN_ON_ONCE, nothing', () => {
    const m = fakeMachine();
    m.memremap.memremapPages(generic(), 0);
    m.memremap.putDevmapManagedPage(PFN);
    expect(m.mm.memmap.pageRefCount(PFN)).toBe(1);
    expect(warnings(m).some((t) => t.includes('put_devmap_managed_page'))).toBe(true);
  });

  it('put_page() of other pages goes to the mm core', () => {
    const m = fakeMachine();
    m.mm.memmap.initSection(0);
    m.mm.memmap.initSinglePageRange(0, 32768, m.mm.config.ZONE_NORMAL, 0);
    m.mm.putPage(7);
    expect(m.mm.buddyPuts).toEqual([7]);
    expect(m.memremap.isZoneDevicePage(7)).toBe(false);
    expect(m.memremap.isZoneDevicePage(2 ** 40)).toBe(false); // no struct page at all
  });
});

describe('memunmap_pages: an asynchronous completion', () => {
  it('with no page in use: settles at once and leaves nothing but the ZONE_DEVICE span (v5.13 never shrinks it)', async () => {
    const m = fakeMachine();
    const before = fakeSnapshot(m) as Record<string, unknown>;
    const pgmap = generic(DEV, 128 * MiB);
    m.memremap.memremapPages(pgmap, 0);
    expect(m.mm.deviceZone.spannedPages).toBe(32768);
    expect(m.mm.deviceZone.presentPages).toBe(0);
    const internal = pgmap.internalRef!;
    await m.memremap.memunmapPages(pgmap);
    const after = fakeSnapshot(m) as Record<string, unknown>;
    expect({ ...after, zone: undefined, node: undefined, maxPfn: undefined }).toEqual({ ...before, zone: undefined, node: undefined, maxPfn: undefined });
    expect(m.mm.deviceZone.spannedPages).toBe(32768);
    expect(internal.isExited()).toBe(true);
    expect(pgmap.ref).toBeUndefined();
    expect(m.memremap.pagemapPhase(pgmap)).toBeUndefined();
    expect(m.hp.calls.slice(-2).map((c) => c.fn)).toEqual(['remove_pfn_range_from_zone', 'arch_remove_memory']);
  });

  it('waits for a referenced page, and completes exactly when the last reference is dropped', async () => {
    const m = fakeMachine();
    const freed: number[] = [];
    const pgmap = new DevPagemap({ type: MEMORY_DEVICE_PRIVATE, range: { start: DEV, end: DEV + 8 * MiB - 1 }, ops: privateOps(freed), owner: 'gpu' });
    m.memremap.memremapPages(pgmap, 0);
    m.memremap.getPage(PFN + 3);
    m.memremap.getPage(PFN + 3);
    let settled = false;
    const done = m.memremap.memunmapPages(pgmap).then(() => (settled = true));
    expect(m.memremap.memunmapCompletion(pgmap)).toBeDefined();
    // Teardown dropped the page's initial reference: 3 -> 2.
    expect(m.mm.memmap.pageRefCount(PFN + 3)).toBe(2);
    expect(m.mm.memmap.pageRefCount(PFN + 4)).toBe(0);
    expect(pgmap.ref!.refs).toBe(1);
    await flush();
    expect(settled).toBe(false);
    expect(m.hp.presentSubsections()).not.toEqual([]);
    m.mm.putPage(PFN + 3); // 2 -> 1: the page is free, page_free() runs
    expect(freed).toEqual([PFN + 3]);
    await flush();
    expect(settled).toBe(false);
    m.mm.putPage(PFN + 3); // 1 -> 0: the last pagemap reference
    await done;
    expect(settled).toBe(true);
    expect(m.hp.presentSubsections()).toEqual([]);
    expect(m.memremap.devmapManagedKey).toBe(0);
    expect(m.memremap.pgmapArrayEntries()).toEqual([]);
    expect(m.hp.calls.at(-1)!.fn).toBe('__remove_pages');
  });

  it('an outstanding get_dev_pagemap() reference also holds the teardown', async () => {
    const m = fakeMachine();
    const pgmap = generic();
    m.memremap.memremapPages(pgmap, 0);
    const got = m.memremap.getDevPagemap(PFN)!;
    let settled = false;
    const done = m.memremap.memunmapPages(pgmap).then(() => (settled = true));
    await flush();
    expect(settled).toBe(false);
    m.memremap.putDevPagemap(got);
    await done;
    expect(settled).toBe(true);
  });

  it('with a caller-provided ref: ops.kill, and ops.cleanup whose promise the teardown waits for', async () => {
    const m = fakeMachine();
    const steps: string[] = [];
    let idle!: () => void;
    const ref = new PercpuRef(() => {
      steps.push('release');
      idle();
    });
    const pgmap = new DevPagemap({
      type: MEMORY_DEVICE_GENERIC,
      range: { start: DEV, end: DEV + 8 * MiB - 1 },
      ref,
      ops: {
        kill: (p): void => {
          steps.push('kill');
          p.ref!.kill();
        },
        cleanup: (): Promise<void> =>
          new Promise<void>((resolve) => {
            steps.push('cleanup');
            idle = resolve;
          }),
      },
    });
    m.memremap.memremapPages(pgmap, 0);
    expect(ref.refs).toBe(1 + 2048);
    ref.get(); // the caller's own reference
    const done = m.memremap.memunmapPages(pgmap);
    expect(steps).toEqual(['kill', 'cleanup']);
    await flush();
    expect(m.hp.presentSubsections()).not.toEqual([]);
    ref.put();
    await done;
    expect(steps).toEqual(['kill', 'cleanup', 'release']);
    expect(m.hp.presentSubsections()).toEqual([]);
    expect(pgmap.ref).toBe(ref); // a caller's ref stays
  });

  it('a second memunmap_pages() is a BUG', () => {
    const m = fakeMachine();
    const pgmap = generic();
    m.memremap.memremapPages(pgmap, 0);
    m.memremap.getPage(PFN);
    void m.memremap.memunmapPages(pgmap);
    expect(() => m.memremap.memunmapPages(pgmap)).toThrow(/BUG/);
    expect(() => m.memremap.memunmapPages(generic(DEV + GiB))).toThrow(/BUG/);
  });

  it('warns "failed to free all reserved pages" when the altmap still has allocations', async () => {
    const m = fakeMachine();
    const altmap = vmemAltmap({ basePfn: PFN, free: 64 });
    const pgmap = new DevPagemap({ type: MEMORY_DEVICE_GENERIC, range: { start: DEV, end: DEV + 16 * MiB - 1 }, altmap, flags: PGMAP_ALTMAP_VALID });
    m.memremap.memremapPages(pgmap, 0);
    altmap.alloc += 1; // a leak
    await m.memremap.memunmapPages(pgmap);
    expect(warnings(m)).toContain('failed to free all reserved pages');
    expect(altmap.alloc).toBe(1);
  });
});

describe('devm_memremap_pages', () => {
  it('records the teardown in devres; devm_memunmap_pages() runs it', async () => {
    const m = fakeMachine();
    const core = new DeviceCore({ tracer: m.kernel.tracer, log: m.kernel.log, faults: m.kernel.faults });
    const dev = new Device({ name: 'dax0.0' });
    core.deviceRegister(dev);
    const pgmap = generic();
    m.memremap.devmMemremapPages(dev, pgmap);
    expect(devresList(dev).map((d) => d.name)).toEqual(['devm_memremap_pages_release']);
    await m.memremap.devmMemunmapPages(dev, pgmap);
    expect(devresList(dev)).toEqual([]);
    expect(m.hp.presentSubsections()).toEqual([]);
    await m.memremap.devmMemunmapPages(dev, pgmap); // nothing recorded any more: WARN only
    expect(warnings(m).some((t) => t.includes('devm_release_action'))).toBe(true);
  });

  it('uses the device node when the device class models one', () => {
    const m = fakeMachine();
    const dev = Object.assign(new Device({ name: 'pmem1' }), { numaNode: 1 });
    new DeviceCore().deviceRegister(dev);
    m.memremap.devmMemremapPages(dev, generic());
    expect(m.mm.memmap.pageToNid(PFN)).toBe(1);
  });

  it('if devres cannot record the action, the pagemap is unmapped again: -ENOMEM, no trace', () => {
    const m = fakeMachine();
    const core = new DeviceCore({ faults: m.kernel.faults });
    const dev = new Device({ name: 'dax0.0' });
    core.deviceRegister(dev);
    const before = fakeSnapshot(m);
    m.kernel.faults.configure('failslab', { probability: 100, times: 1, interval: 2 }); // the xarray's allocation passes, devres's fails
    const pgmap = generic();
    expect(() => m.memremap.devmMemremapPages(dev, pgmap)).toThrow(errno('ENOMEM'));
    const after = fakeSnapshot(m) as Record<string, unknown>;
    expect({ ...after, zone: 0, node: 0, maxPfn: 0 }).toEqual({ ...(before as Record<string, unknown>), zone: 0, node: 0, maxPfn: 0 });
    expect(m.memremap.pagemapPhase(pgmap)).toBeUndefined();
  });
});

describe('without CONFIG_ZONE_DEVICE', () => {
  it('devm_memremap_pages is -ENXIO, get_dev_pagemap finds nothing, memremap_compat_align is PAGE_SIZE', async () => {
    const m = fakeMachine({ arch: { zoneDevice: false } });
    const dev = new Device({ name: 'pmem0' });
    new DeviceCore().deviceRegister(dev);
    const pgmap = generic();
    expect(() => m.memremap.devmMemremapPages(dev, pgmap)).toThrow(errno('ENXIO'));
    expect(() => m.memremap.devmMemremapPages(dev, pgmap)).toThrow(errno('ENXIO'));
    expect(warnings(m).filter((t) => t.includes('devm_memremap_pages'))).toHaveLength(1);
    expect(() => m.memremap.memremapPages(pgmap, 0)).toThrow(errno('ENXIO'));
    expect(() => m.memremap.memunmapPages(pgmap)).toThrow(errno('ENXIO'));
    await m.memremap.devmMemunmapPages(dev, pgmap);
    expect(m.memremap.getDevPagemap(PFN)).toBeUndefined();
    expect(m.memremap.pgmapPfnValid(pgmap, PFN)).toBe(false);
    expect(m.memremap.memremapCompatAlign()).toBe(4096);
    const altmap = vmemAltmap({ basePfn: PFN, reserve: 2, free: 64 });
    expect(m.memremap.vmemAltmapOffset(altmap)).toBe(0);
    m.memremap.vmemAltmapFree(altmap, 5);
    expect(altmap.alloc).toBe(0);
    expect(m.memremap.devPagemapOps).toBe(false);
    // no ZONE_DEVICE: memremap registered no put_page() path, so the slot is free
    expect(() => m.mm.registerDevmapPut(() => false)).not.toThrow();
  });
});

describe('memremap_compat_align and tracing', () => {
  it('is SUBSECTION_SIZE by default and the architecture override otherwise', () => {
    expect(fakeMachine().memremap.memremapCompatAlign()).toBe(2 * MiB);
    expect(fakeMachine({ compatAlign: 16 * MiB }).memremap.memremapCompatAlign()).toBe(16 * MiB);
  });

  it('records the function graph of memremap_pages()', () => {
    const m = fakeMachine();
    m.kernel.tracer.on();
    m.memremap.memremapPages(generic(), 0);
    m.kernel.tracer.off();
    const graph = m.kernel.tracer.show();
    expect(graph).toContain('memremap_pages(dev_pagemap(MEMORY_DEVICE_GENERIC 0x1000000000-0x10007fffff), 0) {');
    expect(graph).toContain('pagemap_range(');
    expect(graph).toContain('get_dev_pagemap(0x1000000, NULL);');
    expect(graph).toContain('get_dev_pagemap(0x10007ff, NULL);');
    expect(graph).toContain('memmap_init_zone_device(zone(0:Device), 0x1000000, 0x800, dev_pagemap(');
    expect(graph).toContain('percpu_ref_get_many(dev_pagemap_percpu_release, 0x800);');
  });
});
