import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DeviceCore, Device, FaultInjection, IORESOURCE_BUSY, IORESOURCE_MEM, IORESOURCE_SYSRAM_DRIVER_MANAGED, IORESOURCE_SYSRAM_MERGEABLE, IORESOURCE_SYSTEM_RAM, IORES_DESC_NONE, IORES_DESC_PERSISTENT_MEMORY, IORES_DESC_PERSISTENT_MEMORY_LEGACY, IORES_DESC_RESERVED, IORES_DESC_SOFT_RESERVED, Kernel, Printk, REGION_DISJOINT, REGION_INTERSECTS, REGION_MIXED, Resource, ResourceTree, SZ_128M, SZ_1G, SZ_2M, SZ_4G, SZ_4K, SimClock, Tracer, formatResource, isKernelError, orBits } from '@zonedev/kernel';
import { IORESOURCE_EXCLUSIVE, IORESOURCE_IO, IORESOURCE_MEM_64, IORESOURCE_PREFETCH, IORESOURCE_SYSRAM, IORES_DESC_DEVICE_PRIVATE_MEMORY, defineResMem, resourceContains, resourceExtType, resourceOverlaps, resourceSize, resourceType } from '../src/resource.js';
import { SZ_16G, SZ_4M } from '../src/sizes.js';

const RAM = orBits(IORESOURCE_SYSTEM_RAM, IORESOURCE_BUSY);

interface Snap {
  name: string | undefined;
  start: number;
  end: number;
  flags: number;
  desc: number;
  children: Snap[];
}

function snap(r: Resource): Snap {
  return { name: r.name, start: r.start, end: r.end, flags: r.flags, desc: r.desc, children: r.children().map(snap) };
}

/** Every structural invariant of the tree: sorted, disjoint siblings inside their parent, consistent links. */
function checkInvariants(root: Resource): void {
  const seen = new Set<Resource>();
  const walk = (p: Resource): void => {
    let prev: Resource | undefined;
    for (let c = p.child; c !== undefined; c = c.sibling) {
      expect(seen.has(c)).toBe(false);
      seen.add(c);
      expect(c.parent).toBe(p);
      expect(c.start).toBeLessThanOrEqual(c.end);
      expect(c.start).toBeGreaterThanOrEqual(p.start);
      expect(c.end).toBeLessThanOrEqual(p.end);
      if (prev !== undefined) expect(prev.end).toBeLessThan(c.start);
      prev = c;
      walk(c);
    }
  };
  walk(root);
}

function newTree(extra: Partial<ConstructorParameters<typeof ResourceTree>[0]> = {}): { tree: ResourceTree; log: Printk } {
  const log = new Printk(new SimClock());
  return { tree: new ResourceTree({ physAddrBits: 46, log, ...extra }), log };
}

function expectKernelError(fn: () => unknown, errno: string): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(isKernelError(err)).toBe(true);
  expect((err as { errno: string }).errno).toBe(errno);
}

/** A small x86-like map: RAM below 4G and above, and e820 type-12 legacy pmem. */
function bootMap(tree: ResourceTree): { ram: Resource; pmem: Resource } {
  tree.requestResource(tree.root, new Resource({ name: 'Reserved', start: 0, end: 0xfff, flags: orBits(IORESOURCE_MEM, IORESOURCE_BUSY) }));
  tree.requestResource(tree.root, new Resource({ name: 'System RAM', start: 0x1000, end: 0x9fbff, flags: RAM }));
  tree.requestResource(tree.root, new Resource({ name: 'System RAM', start: 0x100000, end: 0xbffdffff, flags: RAM }));
  const ram = new Resource({ name: 'System RAM', start: SZ_4G, end: 0x2ffffffff, flags: RAM });
  tree.requestResource(tree.root, ram);
  const pmem = new Resource({
    name: 'Persistent Memory (legacy)',
    start: 0x300000000,
    end: 0x3ffffffff,
    flags: IORESOURCE_MEM,
    desc: IORES_DESC_PERSISTENT_MEMORY_LEGACY,
  });
  tree.requestResource(tree.root, pmem);
  return { ram, pmem };
}

describe('ioport.h constants (v5.13)', () => {
  it('flags', () => {
    expect(IORESOURCE_MEM).toBe(0x200);
    expect(IORESOURCE_BUSY).toBe(0x80000000);
    expect(IORESOURCE_SYSTEM_RAM).toBe(orBits(IORESOURCE_MEM, IORESOURCE_SYSRAM));
    expect(IORESOURCE_SYSRAM_DRIVER_MANAGED).toBe(0x02000000);
    expect(IORESOURCE_SYSRAM_MERGEABLE).toBe(0x04000000);
    expect(IORESOURCE_EXCLUSIVE).toBe(0x08000000);
  });
  it('descriptors', () => {
    expect(IORES_DESC_NONE).toBe(0);
    expect(IORES_DESC_PERSISTENT_MEMORY).toBe(4);
    expect(IORES_DESC_PERSISTENT_MEMORY_LEGACY).toBe(5);
    expect(IORES_DESC_DEVICE_PRIVATE_MEMORY).toBe(6);
    expect(IORES_DESC_RESERVED).toBe(7);
    expect(IORES_DESC_SOFT_RESERVED).toBe(8);
  });
  it('region_intersects results (include/linux/mm.h order)', () => {
    expect([REGION_INTERSECTS, REGION_DISJOINT, REGION_MIXED]).toEqual([0, 1, 2]);
  });
});

describe('struct resource helpers', () => {
  it('size, type, ext type, contains, overlaps', () => {
    const r = new Resource({ start: SZ_4G, end: SZ_4G + SZ_1G - 1, flags: RAM });
    expect(resourceSize(r)).toBe(SZ_1G);
    expect(resourceType(r)).toBe(IORESOURCE_MEM);
    expect(resourceExtType(r)).toBe(IORESOURCE_SYSRAM);
    const inner = defineResMem(SZ_4G + SZ_2M, SZ_2M);
    expect(resourceContains(r, inner)).toBe(true);
    expect(resourceContains(inner, r)).toBe(false);
    expect(resourceContains(r, new Resource({ start: SZ_4G, end: SZ_4G, flags: IORESOURCE_IO }))).toBe(false);
    expect(resourceOverlaps(r, inner)).toBe(true);
    expect(resourceOverlaps(r, defineResMem(SZ_4G + SZ_1G, 1))).toBe(false);
  });
  it('%pR formatting', () => {
    expect(formatResource(defineResMem(0x100000, 0x100000))).toBe('[mem 0x00100000-0x001fffff]');
    expect(formatResource(defineResMem(SZ_16G, SZ_4G))).toBe('[mem 0x400000000-0x4ffffffff]');
    expect(formatResource(new Resource({ start: 0xcf8, end: 0xcff, flags: IORESOURCE_IO }))).toBe('[io  0x0cf8-0x0cff]');
    expect(
      formatResource(new Resource({ start: 0xe0000000, end: 0xefffffff, flags: orBits(IORESOURCE_MEM, orBits(IORESOURCE_MEM_64, IORESOURCE_PREFETCH)) })),
    ).toBe('[mem 0xe0000000-0xefffffff 64bit pref]');
    expect(formatResource(new Resource({ start: 5, end: 5, flags: 0 }))).toBe('[??? 0x00000005 flags 0x0]');
  });
});

describe('request_resource / release_resource', () => {
  it('links resources in address order', () => {
    const { tree } = newTree();
    const b = defineResMem(0x2000, 0x1000, 'b');
    const a = defineResMem(0x0, 0x1000, 'a');
    const c = defineResMem(0x5000, 0x1000, 'c');
    tree.requestResource(tree.root, b);
    tree.requestResource(tree.root, a);
    tree.requestResource(tree.root, c);
    expect(tree.root.children()).toEqual([a, b, c]);
    expect(a.parent).toBe(tree.root);
    checkInvariants(tree.root);
  });

  it('a conflict throws EBUSY (request_resource) / returns the conflict, and changes nothing', () => {
    const { tree } = newTree();
    const a = defineResMem(0x1000, 0x1000, 'a');
    tree.requestResource(tree.root, a);
    const before = snap(tree.root);
    const overlap = defineResMem(0x1800, 0x1000, 'x');
    expectKernelError(() => tree.requestResource(tree.root, overlap), 'EBUSY');
    expect(tree.requestResourceConflict(tree.root, overlap)).toBe(a);
    expect(overlap.parent).toBeUndefined();
    expect(snap(tree.root)).toEqual(before);
  });

  it('out of the root, or end < start, conflicts with the root itself', () => {
    const { tree } = newTree();
    const before = snap(tree.root);
    expect(tree.requestResourceConflict(tree.root, defineResMem(2 ** 46 - 0x1000, 0x2000))).toBe(tree.root);
    expect(tree.requestResourceConflict(tree.root, new Resource({ start: 10, end: 5, flags: IORESOURCE_MEM }))).toBe(tree.root);
    expectKernelError(() => tree.requestResource(tree.root, defineResMem(2 ** 46, 1)), 'EBUSY');
    expect(snap(tree.root)).toEqual(before);
  });

  it('release_resource unlinks with children; EINVAL if not in the tree', () => {
    const { tree } = newTree();
    const { pmem } = bootMap(tree);
    const ns = tree.requestMemRegion(pmem.start, resourceSize(pmem), 'namespace0.0')!;
    expect(ns.parent).toBe(pmem);
    tree.releaseResource(pmem);
    expect(tree.all().includes(pmem)).toBe(false);
    expect(tree.all().includes(ns)).toBe(false);
    const before = snap(tree.root);
    expectKernelError(() => tree.releaseResource(pmem), 'EINVAL');
    expectKernelError(() => tree.releaseResource(defineResMem(0, 1)), 'EINVAL');
    expect(snap(tree.root)).toEqual(before);
  });

  it('lookup_resource finds a direct child by start', () => {
    const { tree } = newTree();
    const { ram } = bootMap(tree);
    expect(tree.lookupResource(tree.root, SZ_4G)).toBe(ram);
    expect(tree.lookupResource(tree.root, SZ_4G + 1)).toBeUndefined();
  });
});

describe('insert_resource / remove_resource / adjust_resource', () => {
  it('insert_resource adopts the resources it covers; remove_resource gives them back', () => {
    const { tree } = newTree();
    const a = defineResMem(0x1000, 0x1000, 'a');
    const b = defineResMem(0x3000, 0x1000, 'b');
    tree.requestResource(tree.root, a);
    tree.requestResource(tree.root, b);
    const big = defineResMem(0x0, 0x10000, 'big');
    tree.insertResource(tree.root, big);
    expect(tree.root.children()).toEqual([big]);
    expect(big.children()).toEqual([a, b]);
    expect(a.parent).toBe(big);
    checkInvariants(tree.root);
    tree.removeResource(big);
    expect(tree.root.children()).toEqual([a, b]);
    expect(a.parent).toBe(tree.root);
    checkInvariants(tree.root);
  });

  it('insert_resource descends into a resource that contains it', () => {
    const { tree } = newTree();
    const outer = defineResMem(0x0, 0x10000, 'outer');
    tree.requestResource(tree.root, outer);
    const inner = defineResMem(0x1000, 0x1000, 'inner');
    tree.insertResource(tree.root, inner);
    expect(inner.parent).toBe(outer);
  });

  it('a partial overlap fails with EBUSY and changes nothing', () => {
    const { tree } = newTree();
    tree.requestResource(tree.root, defineResMem(0x1000, 0x2000, 'a'));
    const before = snap(tree.root);
    const bad = defineResMem(0x2000, 0x2000, 'bad');
    expect(tree.insertResourceConflict(tree.root, bad)?.name).toBe('a');
    expectKernelError(() => tree.insertResource(tree.root, bad), 'EBUSY');
    expect(snap(tree.root)).toEqual(before);
    expectKernelError(() => tree.removeResource(bad), 'EINVAL');
    expect(snap(tree.root)).toEqual(before);
  });

  it('adjust_resource resizes within bounds; EBUSY otherwise, unchanged', () => {
    const { tree } = newTree();
    const a = defineResMem(0x1000, 0x1000, 'a');
    const b = defineResMem(0x4000, 0x1000, 'b');
    tree.requestResource(tree.root, a);
    tree.requestResource(tree.root, b);
    const c = tree.requestRegion(a, 0x1800, 0x100, 'c')!;
    tree.adjustResource(a, 0x1000, 0x3000);
    expect(a.end).toBe(0x3fff);
    const before = snap(tree.root);
    expectKernelError(() => tree.adjustResource(a, 0x1000, 0x3001), 'EBUSY'); // runs into b
    expectKernelError(() => tree.adjustResource(a, 0x1900, 0x100), 'EBUSY'); // drops child c
    expectKernelError(() => tree.adjustResource(b, 0x3000, 0x1000), 'EBUSY'); // runs into a
    expect(snap(tree.root)).toEqual(before);
    expect(c.parent).toBe(a);
  });
});

describe('__request_region / request_mem_region', () => {
  it('nests inside a non-busy parent and inherits its type and descriptor', () => {
    const { tree } = newTree();
    const { pmem } = bootMap(tree);
    const ns = tree.requestMemRegion(0x300000000, SZ_4G, 'namespace0.0');
    expect(ns).toBeDefined();
    expect(ns!.parent).toBe(pmem);
    expect(ns!.flags).toBe(orBits(IORESOURCE_MEM, IORESOURCE_BUSY));
    expect(ns!.desc).toBe(IORES_DESC_PERSISTENT_MEMORY_LEGACY);
    checkInvariants(tree.root);
  });

  it('inherits the SYSRAM extended type inside System RAM', () => {
    const { tree } = newTree();
    const outer = new Resource({ name: 'hotplug', start: SZ_16G, end: SZ_16G + SZ_1G - 1, flags: IORESOURCE_SYSTEM_RAM });
    tree.requestResource(tree.root, outer);
    const r = tree.requestMemRegion(SZ_16G, SZ_128M, 'System RAM (kmem)')!;
    expect(r.flags).toBe(RAM);
  });

  it('exclusive requests carry IORESOURCE_EXCLUSIVE', () => {
    const { tree } = newTree();
    const r = tree.requestMemRegionExclusive(SZ_16G, SZ_2M, 'x')!;
    expect(r.flags).toBe(orBits(IORESOURCE_MEM, orBits(IORESOURCE_BUSY, IORESOURCE_EXCLUSIVE)));
  });

  it('returns undefined on a busy conflict or a straddle, changing nothing', () => {
    const { tree } = newTree();
    bootMap(tree);
    const before = snap(tree.root);
    expect(tree.requestMemRegion(SZ_4G + SZ_4K, SZ_4K, 'inside RAM')).toBeUndefined();
    expect(tree.requestMemRegion(0x2fff00000, SZ_2M, 'straddle RAM/pmem')).toBeUndefined();
    expect(tree.requestMemRegion(0x3fff00000, SZ_2M, 'straddle pmem end')).toBeUndefined();
    expect(snap(tree.root)).toEqual(before);
    // after one namespace claims the pmem, a second one conflicts
    tree.requestMemRegion(0x300000000, SZ_4G, 'namespace0.0');
    const after = snap(tree.root);
    expect(tree.requestMemRegion(0x300000000, SZ_2M, 'namespace0.1')).toBeUndefined();
    expect(snap(tree.root)).toEqual(after);
  });

  it('warns when a request meets device-private memory', () => {
    const { tree, log } = newTree();
    const dp = tree.requestFreeMemRegion(tree.root, SZ_1G, 'hmm_dmirror');
    expect(tree.requestMemRegion(dp.start, SZ_2M, 'intruder')).toBeUndefined();
    expect(log.dmesg()).toContain(
      `resource: Unaddressable device hmm_dmirror ${formatResource(dp)} conflicts with [mem 0x${dp.start.toString(16)}-0x${(dp.start + SZ_2M - 1).toString(16)}]`,
    );
  });

  it('an allocation failure (failslab) returns undefined and changes nothing', () => {
    const faults = new FaultInjection(1);
    const { tree } = newTree({ faults });
    const before = snap(tree.root);
    faults.configure('failslab', { probability: 100, times: 1 });
    expect(tree.requestMemRegion(SZ_16G, SZ_2M, 'x')).toBeUndefined();
    expect(snap(tree.root)).toEqual(before);
    expect(tree.requestMemRegion(SZ_16G, SZ_2M, 'x')).toBeDefined();
  });

  it('release_mem_region releases the exact busy region, through non-busy parents', () => {
    const { tree } = newTree();
    const { pmem } = bootMap(tree);
    tree.requestMemRegion(0x300000000, SZ_4G, 'namespace0.0');
    tree.releaseMemRegion(0x300000000, SZ_4G);
    expect(pmem.child).toBeUndefined();
    checkInvariants(tree.root);
  });

  it('releasing a nonexistent or partial region warns and changes nothing', () => {
    const { tree, log } = newTree();
    bootMap(tree);
    tree.requestMemRegion(0x300000000, SZ_4G, 'namespace0.0');
    const before = snap(tree.root);
    tree.releaseMemRegion(0x300000000, SZ_2M);
    tree.releaseMemRegion(SZ_16G * 4, SZ_4K);
    expect(snap(tree.root)).toEqual(before);
    expect(log.dmesg()).toContain('resource: Trying to free nonexistent resource <0x0000000300000000-0x00000003001fffff>');
    expect(log.dmesg()).toContain('resource: Trying to free nonexistent resource <0x0000001000000000-0x0000001000000fff>');
  });
});

describe('release_mem_region_adjustable (v5.13)', () => {
  function hotplugged(): { tree: ResourceTree; ram: Resource; log: Printk } {
    const { tree, log } = newTree();
    const ram = tree.requestMemRegion(SZ_16G, 4 * SZ_128M, 'System RAM')!;
    ram.flags = RAM;
    return { tree, ram, log };
  }

  it('frees an exact match', () => {
    const { tree, ram } = hotplugged();
    tree.releaseMemRegionAdjustable(SZ_16G, 4 * SZ_128M);
    expect(tree.all().includes(ram)).toBe(false);
  });

  it('trims the start or the end', () => {
    const { tree, ram } = hotplugged();
    tree.releaseMemRegionAdjustable(SZ_16G, SZ_128M);
    expect([ram.start, ram.end]).toEqual([SZ_16G + SZ_128M, SZ_16G + 4 * SZ_128M - 1]);
    tree.releaseMemRegionAdjustable(SZ_16G + 3 * SZ_128M, SZ_128M);
    expect([ram.start, ram.end]).toEqual([SZ_16G + SZ_128M, SZ_16G + 3 * SZ_128M - 1]);
  });

  it('splits a resource in two, children staying with the lower part', () => {
    const { tree, ram } = hotplugged();
    const child = tree.requestRegion(ram, SZ_16G, SZ_4K, 'Kernel code');
    expect(child).toBeDefined();
    // Make the child non-conflicting with the released middle block.
    tree.releaseMemRegionAdjustable(SZ_16G + SZ_128M, SZ_128M);
    const parts = tree.root.children();
    expect(parts.map((r) => [r.name, r.start, r.end, r.flags, r.desc])).toEqual([
      ['System RAM', SZ_16G, SZ_16G + SZ_128M - 1, RAM, IORES_DESC_NONE],
      ['System RAM', SZ_16G + 2 * SZ_128M, SZ_16G + 4 * SZ_128M - 1, RAM, IORES_DESC_NONE],
    ]);
    expect(parts[0]!.children()).toEqual([child]);
    expect(parts[1]!.child).toBeUndefined();
    checkInvariants(tree.root);
  });

  it('looks through non-busy parents', () => {
    const { tree } = newTree();
    const outer = new Resource({ name: 'virtio-mem', start: SZ_16G, end: SZ_16G + SZ_1G - 1, flags: IORESOURCE_MEM });
    tree.requestResource(tree.root, outer);
    const ram = tree.requestRegion(outer, SZ_16G, SZ_1G, 'System RAM (virtio_mem)')!;
    tree.releaseMemRegionAdjustable(SZ_16G, SZ_128M);
    expect(ram.start).toBe(SZ_16G + SZ_128M);
    expect(ram.parent).toBe(outer);
  });

  it('a child in the way is a WARN and changes nothing; no match changes nothing', () => {
    const { tree, ram, log } = hotplugged();
    tree.requestRegion(ram, SZ_16G + SZ_4K, SZ_4K, 'child');
    const before = snap(tree.root);
    tree.releaseMemRegionAdjustable(SZ_16G, SZ_128M); // trimming the start would orphan the child
    expect(snap(tree.root)).toEqual(before);
    expect(log.dmesg()).toContain('WARNING: release_mem_region_adjustable');
    tree.releaseMemRegionAdjustable(SZ_16G * 2, SZ_128M);
    tree.releaseMemRegionAdjustable(SZ_16G - SZ_128M, 2 * SZ_128M); // straddles the start
    expect(snap(tree.root)).toEqual(before);
  });
});

describe('merge_system_ram_resource', () => {
  it('merges adjacent mergeable System RAM with the same name', () => {
    const { tree } = newTree();
    const name = 'System RAM (virtio_mem)';
    const a = tree.requestMemRegion(SZ_16G, SZ_128M, name)!;
    const b = tree.requestMemRegion(SZ_16G + SZ_128M, SZ_128M, name)!;
    const c = tree.requestMemRegion(SZ_16G + 2 * SZ_128M, SZ_128M, name)!;
    for (const r of [a, b, c]) r.flags = orBits(RAM, IORESOURCE_SYSRAM_DRIVER_MANAGED);
    tree.mergeSystemRamResource(a);
    tree.mergeSystemRamResource(c);
    expect(tree.root.children()).toEqual([a, b, c]);
    tree.mergeSystemRamResource(b);
    expect(tree.root.children()).toEqual([a]);
    expect([a.start, a.end]).toEqual([SZ_16G, SZ_16G + 3 * SZ_128M - 1]);
  });

  it('refuses what is not busy System RAM (WARN), changing nothing', () => {
    const { tree } = newTree();
    const r = tree.requestMemRegion(SZ_16G, SZ_128M, 'x')!;
    const before = snap(tree.root);
    expect(() => tree.mergeSystemRamResource(r)).toThrow(/not busy System RAM/);
    expect(snap(tree.root)).toEqual(before);
  });
});

describe('request_free_mem_region (v5.13: downward from MAX_PHYSMEM_BITS)', () => {
  it('takes the highest section-aligned free slot below 2^MAX_PHYSMEM_BITS', () => {
    const { tree } = newTree();
    bootMap(tree);
    const r = tree.requestFreeMemRegion(tree.root, SZ_1G + 1, 'hmm_dmirror');
    const size = SZ_1G + SZ_128M; // rounded up to a 128 MiB section
    expect(resourceSize(r)).toBe(size);
    expect(r.start).toBe(2 ** 46 - size);
    expect(r.end).toBe(2 ** 46 - 1);
    expect(r.name).toBe('hmm_dmirror');
    expect(r.desc).toBe(IORES_DESC_DEVICE_PRIVATE_MEMORY);
    expect(r.flags).toBe(orBits(IORESOURCE_MEM, IORESOURCE_BUSY));
    const r2 = tree.requestFreeMemRegion(tree.root, SZ_1G + 1, 'hmm_dmirror');
    expect(r2.end).toBe(r.start - 1);
  });

  it('skips slots that overlap anything, in steps of the size', () => {
    const { tree } = newTree({ physAddrBits: 40, maxPhysmemBits: 40 });
    // occupy the top 128M and a bit of the next slot
    tree.requestResource(tree.root, defineResMem(2 ** 40 - SZ_128M, SZ_128M, 'top'));
    tree.requestResource(tree.root, defineResMem(2 ** 40 - SZ_128M - SZ_4K, SZ_4K, 'tail'));
    const r = tree.requestFreeMemRegion(tree.root, SZ_128M, 'dev');
    expect(r.start).toBe(2 ** 40 - 3 * SZ_128M);
  });

  it('the base limits the search; nothing free is ERANGE and changes nothing', () => {
    const { tree } = newTree({ physAddrBits: 40, maxPhysmemBits: 40 });
    const base = new Resource({ name: 'window', start: 2 ** 39, end: 2 ** 39 + 2 * SZ_128M - 1, flags: IORESOURCE_MEM });
    const r = tree.requestFreeMemRegion(base, SZ_128M, 'a');
    expect(r.start).toBe(2 ** 39 + SZ_128M);
    const r2 = tree.requestFreeMemRegion(base, SZ_128M, 'b');
    expect(r2.start).toBe(2 ** 39);
    const before = snap(tree.root);
    expectKernelError(() => tree.requestFreeMemRegion(base, SZ_128M, 'c'), 'ERANGE');
    expectKernelError(() => tree.requestFreeMemRegion(tree.root, 2 ** 40, 'huge'), 'ERANGE');
    expect(snap(tree.root)).toEqual(before);
  });

  it('an allocation failure is ENOMEM and changes nothing', () => {
    const faults = new FaultInjection(1);
    const { tree } = newTree({ faults });
    const before = snap(tree.root);
    faults.configure('failslab', { probability: 100, times: 1 });
    expectKernelError(() => tree.requestFreeMemRegion(tree.root, SZ_128M, 'x'), 'ENOMEM');
    expect(snap(tree.root)).toEqual(before);
  });
});

describe('region_intersects', () => {
  it('DISJOINT, INTERSECTS (holes do not count), MIXED', () => {
    const { tree } = newTree();
    bootMap(tree);
    const ram = IORESOURCE_SYSTEM_RAM;
    expect(tree.regionIntersects(SZ_16G * 2, SZ_1G, ram, IORES_DESC_NONE)).toBe(REGION_DISJOINT);
    expect(tree.regionIntersects(SZ_4G, SZ_1G, ram, IORES_DESC_NONE)).toBe(REGION_INTERSECTS);
    expect(tree.regionIntersects(0xa0000, SZ_2M, ram, IORES_DESC_NONE)).toBe(REGION_INTERSECTS); // hole + RAM
    expect(tree.regionIntersects(0x2ffe00000, SZ_4M, ram, IORES_DESC_NONE)).toBe(REGION_MIXED); // RAM + pmem
    expect(tree.regionIntersects(0x300000000, SZ_1G, IORESOURCE_MEM, IORES_DESC_PERSISTENT_MEMORY_LEGACY)).toBe(REGION_INTERSECTS);
    expect(tree.regionIntersects(0x300000000, SZ_1G, ram, IORES_DESC_NONE)).toBe(REGION_DISJOINT);
    expect(tree.regionIntersects(0x300000000, SZ_1G, IORESOURCE_MEM, IORES_DESC_PERSISTENT_MEMORY)).toBe(REGION_DISJOINT);
    // flags 0 / DESC_NONE matches anything: used by request_free_mem_region
    expect(tree.regionIntersects(0x300000000, SZ_1G, 0, IORES_DESC_NONE)).toBe(REGION_INTERSECTS);
  });

  it('looks at the first level only (v5.13)', () => {
    const { tree } = newTree();
    const { pmem } = bootMap(tree);
    tree.requestMemRegion(pmem.start, SZ_1G, 'namespace0.0');
    // the busy namespace is a child: only the pmem parent counts
    expect(tree.regionIntersects(pmem.start, SZ_1G, IORESOURCE_BUSY, IORES_DESC_NONE)).toBe(REGION_DISJOINT);
  });
});

describe('walk_iomem_res_desc and friends', () => {
  it('visits matching resources in address order, clipped, at any depth', () => {
    const { tree } = newTree();
    const { pmem } = bootMap(tree);
    const ns = tree.requestMemRegion(pmem.start + SZ_1G, SZ_1G, 'namespace0.0')!;
    const seen: string[] = [];
    const ret = tree.walkIomemResDesc(IORES_DESC_PERSISTENT_MEMORY_LEGACY, IORESOURCE_MEM, 0, 2 ** 46 - 1, (r) => {
      seen.push(`${r.name} ${r.start.toString(16)}-${r.end.toString(16)}`);
      return 0;
    });
    expect(ret).toBe(0);
    // the parent's copy covers its child, so the walk resumes after both
    expect(seen).toEqual(['Persistent Memory (legacy) 300000000-3ffffffff']);
    const inside: string[] = [];
    tree.walkIomemResDesc(IORES_DESC_NONE, orBits(IORESOURCE_MEM, IORESOURCE_BUSY), pmem.start, pmem.end, (r) => {
      inside.push(`${r.name} ${r.start.toString(16)}-${r.end.toString(16)}`);
      return 0;
    });
    expect(inside).toEqual(['namespace0.0 340000000-37fffffff']);
    expect(ns.desc).toBe(IORES_DESC_PERSISTENT_MEMORY_LEGACY);
    const clipped: number[][] = [];
    tree.walkIomemResDesc(IORES_DESC_NONE, RAM, SZ_4G + SZ_1G, SZ_16G, (r) => {
      clipped.push([r.start, r.end]);
      return 0;
    });
    expect(clipped).toEqual([[SZ_4G + SZ_1G, 0x2ffffffff]]);
  });

  it('returns -EINVAL when nothing matches and stops at a non-zero return', () => {
    const { tree } = newTree();
    bootMap(tree);
    expect(tree.walkIomemResDesc(IORES_DESC_DEVICE_PRIVATE_MEMORY, 0, 0, 2 ** 46 - 1, () => 0)).toBe(-22);
    let calls = 0;
    expect(
      tree.walkSystemRamRes(0, 2 ** 46 - 1, () => {
        calls++;
        return 7;
      }),
    ).toBe(7);
    expect(calls).toBe(1);
    const mem: number[] = [];
    tree.walkMemRes(0, 2 ** 46 - 1, (r) => {
      mem.push(r.start);
      return 0;
    });
    expect(mem).toEqual([0, 0x1000, 0x100000, SZ_4G]);
  });

  it('walk_system_ram_range reports whole pages; page_is_ram', () => {
    const { tree } = newTree();
    bootMap(tree);
    const runs: number[][] = [];
    const ret = tree.walkSystemRamRange(0, 0x200, (pfn, n) => {
      runs.push([pfn, n]);
      return 0;
    });
    expect(ret).toBe(0);
    // 0x1000-0x9fbff: pfns 1..0x9e (the partial page 0x9f is dropped); 0x100000-: pfn 0x100..
    expect(runs).toEqual([
      [1, 0x9e],
      [0x100, 0x100],
    ]);
    expect(tree.pageIsRam(0)).toBe(false);
    expect(tree.pageIsRam(1)).toBe(true);
    expect(tree.pageIsRam(0x9f)).toBe(false);
    expect(tree.pageIsRam(0x300000)).toBe(false);
    expect(tree.walkSystemRamRange(0x300000, 0x10, () => 1)).toBe(-22);
  });
});

describe('/proc/iomem (r_show)', () => {
  it('prints the tree depth first, two spaces per level, %08llx', () => {
    const { tree } = newTree();
    bootMap(tree);
    tree.requestRegion(tree.lookupResource(tree.root, 0x100000)!, 0x1000000, 0xe00000, 'Kernel code');
    tree.requestMemRegion(0x300000000, SZ_4G, 'namespace0.0');
    expect(tree.procIomem()).toBe(
      [
        '00000000-00000fff : Reserved',
        '00001000-0009fbff : System RAM',
        '00100000-bffdffff : System RAM',
        '  01000000-01dfffff : Kernel code',
        '100000000-2ffffffff : System RAM',
        '300000000-3ffffffff : Persistent Memory (legacy)',
        '  300000000-3ffffffff : namespace0.0',
        '',
      ].join('\n'),
    );
  });

  it('caps the indentation at MAX_IORES_LEVEL, prints <BAD> for a missing name', () => {
    const { tree } = newTree();
    let parent = tree.root;
    for (let i = 0; i < 7; i++) {
      const r = new Resource({ name: i === 6 ? undefined : `l${i}`, start: 0x1000 + i, end: 0x10000 - i, flags: IORESOURCE_MEM });
      tree.requestResource(parent, r);
      parent = r;
    }
    const lines = tree.procIomem().split('\n');
    expect(lines[0]).toBe('00001000-00010000 : l0');
    expect(lines[4]).toBe('        00001004-0000fffc : l4');
    expect(lines[5]).toBe('          00001005-0000fffb : l5');
    expect(lines[6]).toBe('          00001006-0000fffa : <BAD>');
  });

  it('shows zeros without CAP_SYS_ADMIN, and width 4 for a small root', () => {
    const { tree } = newTree();
    bootMap(tree);
    expect(tree.procIomem({ capSysAdmin: false }).split('\n')[3]).toBe('00000000-00000000 : System RAM');
    const io = new ResourceTree({ name: 'PCI IO', physAddrBits: 16, flags: IORESOURCE_IO });
    io.requestResource(io.root, new Resource({ name: 'dma1', start: 0, end: 0x1f, flags: IORESOURCE_IO }));
    expect(io.procIomem()).toBe('0000-001f : dma1\n');
  });
});

describe('ResourceTree per machine', () => {
  it('each Kernel has its own iomem_resource', () => {
    const k1 = new Kernel();
    const k2 = new Kernel();
    k1.iomem.requestMemRegion(SZ_16G, SZ_2M, 'x');
    expect(k1.iomem.procIomem()).toContain(': x');
    expect(k2.iomem.procIomem()).toBe('');
    expect(k1.iomem.root.name).toBe('PCI mem');
  });

  it('setPhysAddrBits moves the root end, refusing to cut off a resource', () => {
    const { tree } = newTree();
    tree.setPhysAddrBits(40);
    expect(tree.root.end).toBe(2 ** 40 - 1);
    tree.requestMemRegion(2 ** 39, SZ_2M, 'x');
    expectKernelError(() => tree.setPhysAddrBits(39), 'EBUSY');
    expect(tree.root.end).toBe(2 ** 40 - 1);
  });

  it('traces requests as function-graph events', () => {
    const tracer = new Tracer();
    const { tree } = newTree({ tracer });
    tracer.on();
    tree.requestMemRegion(SZ_16G, SZ_2M, 'x');
    expect(tracer.show()).toContain('__request_region(PCI mem');
  });
});

describe('devm_request_free_mem_region / devm_request_mem_region', () => {
  it('regions are released when the device is unbound, newest first', () => {
    const k = new Kernel();
    const bus = { name: 'test' };
    k.devices.busRegister(bus);
    let dev!: Device;
    let r1: Resource | undefined;
    k.devices.driverRegister({
      name: 'dmirror',
      bus,
      probe: (d) => {
        dev = d;
        r1 = k.iomem.devmRequestFreeMemRegion(d, k.iomem.root, SZ_128M);
        k.iomem.devmRequestMemRegion(d, SZ_16G, SZ_2M, 'devm');
      },
    });
    k.devices.deviceRegister(new Device({ name: 'hmm_dmirror0', bus }));
    expect(dev.driver?.name).toBe('dmirror');
    expect(r1!.name).toBe('hmm_dmirror0');
    expect(k.iomem.root.children().map((r) => r.name)).toEqual(['devm', 'hmm_dmirror0']);
    k.devices.deviceReleaseDriver(dev);
    expect(k.iomem.root.child).toBeUndefined();
  });

  it('a devm request that conflicts returns undefined and records nothing', () => {
    const k = new Kernel();
    const d = new Device({ name: 'd' });
    k.devices.deviceRegister(d);
    k.iomem.requestMemRegion(SZ_16G, SZ_2M, 'taken');
    const before = snap(k.iomem.root);
    expect(k.iomem.devmRequestMemRegion(d, SZ_16G, SZ_2M, 'again')).toBeUndefined();
    expect(snap(k.iomem.root)).toEqual(before);
  });

  it('devm_request_mem_region: a devres allocation failure gives the region back', () => {
    const k = new Kernel();
    const d = new Device({ name: 'd' });
    k.devices.deviceRegister(d);
    const before = snap(k.iomem.root);
    k.faults.configure('failslab', { probability: 100, interval: 2, times: 1 });
    expect(k.iomem.devmRequestMemRegion(d, SZ_16G, SZ_2M, 'x')).toBeUndefined();
    expect(snap(k.iomem.root)).toEqual(before);
  });

  it('a devres allocation failure undoes the region', () => {
    const k = new Kernel();
    const d = new Device({ name: 'd' });
    k.devices.deviceRegister(d);
    const before = snap(k.iomem.root);
    // first allocation (alloc_resource) succeeds, the devres one fails
    k.faults.configure('failslab', { probability: 100, interval: 2, times: 1 });
    expectKernelError(() => k.iomem.devmRequestFreeMemRegion(d, k.iomem.root, SZ_128M), 'ENOMEM');
    expect(snap(k.iomem.root)).toEqual(before);
  });
});

// ---------------------------------------------------------------------------
// property tests

type Cmd =
  | { kind: 'region'; start: number; n: number; parentPick: number }
  | { kind: 'resource'; start: number; n: number; busy: boolean; parentPick: number }
  | { kind: 'insert'; start: number; n: number }
  | { kind: 'releaseRegion'; start: number; n: number }
  | { kind: 'releaseResource'; pick: number }
  | { kind: 'removeResource'; pick: number }
  | { kind: 'adjustable'; start: number; n: number };

const SPACE = 64; // units of 4 KiB in a small address space
const unit = (x: number): number => x * SZ_4K;
const range = fc
  .tuple(fc.integer({ min: 0, max: SPACE - 1 }), fc.integer({ min: 1, max: 16 }))
  .map(([s, n]) => ({ start: unit(s), n: unit(n) }));

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  fc.tuple(range, fc.nat()).map(([r, p]) => ({ kind: 'region' as const, ...r, parentPick: p })),
  fc.tuple(range, fc.boolean(), fc.nat()).map(([r, busy, p]) => ({ kind: 'resource' as const, ...r, busy, parentPick: p })),
  range.map((r) => ({ kind: 'insert' as const, ...r })),
  range.map((r) => ({ kind: 'releaseRegion' as const, ...r })),
  fc.nat().map((pick) => ({ kind: 'releaseResource' as const, pick })),
  fc.nat().map((pick) => ({ kind: 'removeResource' as const, pick })),
  range.map((r) => ({ kind: 'adjustable' as const, ...r })),
);

describe('resource tree properties', () => {
  it('random request/release sequences keep siblings disjoint and children inside parents; rejected requests change nothing', () => {
    fc.assert(
      fc.property(fc.array(cmdArb, { maxLength: 40 }), (cmds) => {
        const log = new Printk(new SimClock());
        const tree = new ResourceTree({ physAddrBits: 20, log });
        for (const c of cmds) {
          const nodes = [tree.root, ...tree.all()];
          const before = snap(tree.root);
          const warnsBefore = log.lines.length;
          switch (c.kind) {
            case 'region': {
              const parent = nodes[c.parentPick % nodes.length]!;
              const r = tree.requestRegion(parent, c.start, c.n, 'r');
              if (r === undefined) expect(snap(tree.root)).toEqual(before);
              else {
                expect(r.start).toBe(c.start);
                expect(resourceSize(r)).toBe(c.n);
              }
              break;
            }
            case 'resource': {
              const parent = nodes[c.parentPick % nodes.length]!;
              const flags = c.busy ? orBits(IORESOURCE_MEM, IORESOURCE_BUSY) : IORESOURCE_MEM;
              const res = new Resource({ name: 'q', start: c.start, end: c.start + c.n - 1, flags });
              const conflict = tree.requestResourceConflict(parent, res);
              if (conflict !== undefined) {
                expect(snap(tree.root)).toEqual(before);
                expect(res.parent).toBeUndefined();
              } else expect(res.parent).toBe(parent);
              break;
            }
            case 'insert': {
              const res = new Resource({ name: 'i', start: c.start, end: c.start + c.n - 1, flags: IORESOURCE_MEM });
              try {
                tree.insertResource(tree.root, res);
              } catch (e) {
                expect(isKernelError(e, 'EBUSY')).toBe(true);
                expect(snap(tree.root)).toEqual(before);
              }
              break;
            }
            case 'releaseRegion':
              tree.releaseRegion(tree.root, c.start, c.n);
              if (log.lines.length > warnsBefore) expect(snap(tree.root)).toEqual(before);
              break;
            case 'releaseResource':
            case 'removeResource': {
              if (nodes.length === 1) break;
              const victim = nodes[1 + (c.pick % (nodes.length - 1))]!;
              if (c.kind === 'releaseResource') tree.releaseResource(victim);
              else tree.removeResource(victim);
              expect(tree.all().includes(victim)).toBe(false);
              break;
            }
            case 'adjustable':
              tree.releaseMemRegionAdjustable(c.start, c.n);
              break;
          }
          checkInvariants(tree.root);
          // /proc/iomem lists exactly the tree
          expect(tree.procIomem().split('\n').length - 1).toBe(tree.all().length);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('request_free_mem_region always returns a disjoint, aligned, top-level region', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 8 })), { maxLength: 10 }), fc.integer({ min: 1, max: 3 }), (occupied, sections) => {
        const tree = new ResourceTree({ physAddrBits: 40, maxPhysmemBits: 36, paSectionShift: 27 });
        for (const [s, n] of occupied) tree.requestMemRegion(s * SZ_128M, n * SZ_4K, 'occ');
        const before = snap(tree.root);
        try {
          const r = tree.requestFreeMemRegion(tree.root, sections * SZ_128M - 1, 'free');
          expect(r.parent).toBe(tree.root);
          expect(r.start % SZ_128M).toBe(0);
          expect(resourceSize(r)).toBe(sections * SZ_128M);
          expect(r.end).toBeLessThan(2 ** 36);
          for (const o of tree.root.children()) if (o !== r) expect(resourceOverlaps(o, r)).toBe(false);
        } catch (e) {
          expect(isKernelError(e, 'ERANGE')).toBe(true);
          expect(snap(tree.root)).toEqual(before);
        }
        checkInvariants(tree.root);
      }),
      { numRuns: 100 },
    );
  });
});

describe('devices and resources together', () => {
  it('DeviceCore and ResourceTree of one Kernel share the tracer', () => {
    const k = new Kernel();
    expect(k.devices).toBeInstanceOf(DeviceCore);
    expect(k.sysfs).toBe(k.devices.sysfs);
  });
});

describe('__request_resource() walks of a long sibling list', () => {
  // The walk may start at the child linked last; what is linked, and what
  // conflicts, must be what a walk from the first child gives, whatever was
  // released, inserted (reparenting children) or adjusted in between.
  it('links and conflicts as a walk from the first child would', () => {
    const op = fc.oneof(
      fc.record({ k: fc.constant('req' as const), at: fc.integer({ min: 0, max: 63 }), len: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ k: fc.constant('rel' as const), i: fc.nat() }),
      fc.record({ k: fc.constant('ins' as const), at: fc.integer({ min: 0, max: 63 }), len: fc.integer({ min: 1, max: 16 }) }),
      fc.record({ k: fc.constant('rm' as const), i: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const t = new ResourceTree();
        const unit = SZ_128M;
        for (const o of ops) {
          const kids = t.root.children();
          if (o.k === 'req' || o.k === 'ins') {
            const start = o.at * unit;
            const end = start + o.len * unit - 1;
            const res = new Resource({ name: 'r', start, end, flags: IORESOURCE_MEM });
            if (o.k === 'req') {
              // a walk from the first child: the first sibling that does not end below start
              const first = kids.find((c) => c.end >= start);
              const want = first !== undefined && first.start <= end ? first : undefined;
              expect(t.requestResourceConflict(t.root, res)).toBe(want);
              expect(t.root.children().includes(res)).toBe(want === undefined);
            } else t.insertResourceConflict(t.root, res);
          } else if (kids.length > 0) {
            const victim = kids[o.i % kids.length]!;
            if (o.k === 'rel') t.releaseResource(victim);
            else t.removeResource(victim);
          }
          const after = t.root.children();
          for (let i = 1; i < after.length; i++) expect(after[i - 1]!.end).toBeLessThan(after[i]!.start);
          for (const c of after) expect(c.parent).toBe(t.root);
        }
      }),
      { numRuns: 300 },
    );
  });
});
