// add_memory / remove_memory and the checks before them (mm/memory_hotplug.c, v5.13).
import { IORESOURCE_SYSRAM_DRIVER_MANAGED, IORESOURCE_SYSRAM_MERGEABLE, KernelError, anyBits } from '@zonedev/kernel';
import { MHP_MERGE_RESOURCE, MHP_NONE, MemoryHotplug } from '@zonedev/memory-hotplug';
import { describe, expect, it } from 'vitest';
import { GiB, HOTPLUG_X86_64, MEM, MiB, bootMachine, snapshot } from './machine.js';
import { errno } from './errno.js';

const HOT = 4 * GiB; // above boot memory (x86: boot RAM is below 1 GiB)

describe('add_memory', () => {
  it('adds offline blocks, a System RAM resource and node links; memmap from RAM on the node', () => {
    const m = bootMachine();
    const free = m.mm.nrFreePages();
    m.hp.addMemory(0, HOT, 512 * MiB);
    const sysfs = m.kernel.sysfs;
    for (const n of [32, 33, 34, 35]) {
      expect(sysfs.read(`${MEM}/memory${n}/state`)).toBe('offline\n');
      expect(sysfs.read(`${MEM}/memory${n}/online`)).toBe('0\n');
      expect(sysfs.read(`${MEM}/memory${n}/phys_index`)).toBe(`000000${n.toString(16)}\n`);
      expect(sysfs.read(`${MEM}/memory${n}/valid_zones`)).toBe('Normal Movable\n');
      expect(sysfs.readlink(`/sys/devices/system/node/node0/memory${n}`)).toBe(`../../memory/memory${n}`);
    }
    expect(m.kernel.iomem.procIomem()).toContain('100000000-11fffffff : System RAM\n');
    // 4 sections x 2 MiB of memmap from the buddy allocator
    expect(m.mm.nrFreePages()).toBe(free - 4 * 512);
    expect(m.sparse.memmapOfSection(32).placements[0]).toMatchObject({ source: 'ram', nid: 0, bytes: 2 * MiB });
    // zones do not span offline memory
    expect(m.mm.nodeData(0)!.nodeZones[m.mm.config.ZONE_NORMAL]!.spannedPages).toBe(0);
    // x86 add_pages() moved max_pfn
    expect(m.hp.maxPfn).toBe((HOT + 512 * MiB) / 4096);
  });

  it('-EINVAL for a range not in whole blocks, with the kernel message', () => {
    const m = bootMachine();
    const before = snapshot(m);
    expect(() => m.hp.addMemory(0, HOT + 64 * MiB, 128 * MiB)).toThrow(errno('EINVAL'));
    // size 0 never reaches check_hotplug_memory_range(): mhp_range_allowed() refuses the empty range
    expect(() => m.hp.addMemory(0, HOT, 0)).toThrow(errno('E2BIG'));
    expect(m.kernel.log.dmesg()).toContain('Block size [0x8000000] unaligned hotplug range: start 0x104000000, size 0x8000000');
    expect(snapshot(m)).toEqual(before);
  });

  it('-EEXIST over boot RAM or memory already added', () => {
    const m = bootMachine();
    m.hp.addMemory(0, HOT, 128 * MiB);
    const before = snapshot(m);
    expect(() => m.hp.addMemory(0, 0, 128 * MiB)).toThrow(errno('EEXIST'));
    expect(() => m.hp.addMemory(0, HOT, 256 * MiB)).toThrow(errno('EEXIST'));
    expect(snapshot(m)).toEqual(before);
  });

  it('-E2BIG beyond MAX_PHYSMEM_BITS (mhp_range_allowed)', () => {
    const m = bootMachine();
    const before = snapshot(m);
    expect(() => m.hp.addMemory(0, 2 ** 46, 128 * MiB)).toThrow(errno('E2BIG'));
    expect(m.kernel.log.dmesg()).toContain(
      'Hotplug memory [0x400000000000-0x400008000000] exceeds maximum addressable range [0x0-0x3fffffffffff]',
    );
    expect(snapshot(m)).toEqual(before);
    expect(m.hp.mhpRangeAllowed(2 ** 46 - 128 * MiB, 128 * MiB, true)).toBe(true);
    expect(m.hp.mhpGetPluggableRange(false)).toEqual({ start: 0, end: 2 ** 46 - 1 });
  });

  it('the architecture mappable range limits ranges that need a linear mapping', () => {
    const m = bootMachine({ hotplug: { arch: { ...bootMachine().hp.arch, archGetMappableRange: () => ({ start: 0, end: 8 * GiB - 1 }) } } });
    expect(() => m.hp.addMemory(0, 8 * GiB, 128 * MiB)).toThrow(errno('E2BIG'));
    expect(m.hp.mhpRangeAllowed(8 * GiB, 128 * MiB, false)).toBe(true);
  });

  it('-EINVAL for a node that is not possible; a possible offline node is onlined and registered', () => {
    const m = bootMachine({ hotplug: { possibleNodes: [0, 1] } });
    const before = snapshot(m);
    expect(() => m.hp.addMemory(2, HOT, 128 * MiB)).toThrow(errno('EINVAL'));
    expect(m.kernel.log.dmesg()).toContain('node 2 was absent from the node_possible_map');
    expect(snapshot(m)).toEqual(before);
    m.hp.addMemory(1, HOT, 128 * MiB);
    expect(m.kernel.sysfs.read('/sys/devices/system/node/online')).toBe('0-1\n');
    expect(m.kernel.sysfs.readlink(`${MEM}/memory32/node1`)).toBe('../../node/node1');
    // removing the node's only memory offlines the node again
    m.hp.removeMemory(1, HOT, 128 * MiB);
    expect(m.kernel.sysfs.read('/sys/devices/system/node/online')).toBe('0\n');
    expect(m.kernel.sysfs.exists('/sys/devices/system/node/node1')).toBe(false);
  });

  it('add_memory_driver_managed: System RAM ($DRIVER), driver-managed; other names -EINVAL', () => {
    const m = bootMachine();
    expect(() => m.hp.addMemoryDriverManaged(0, HOT, 128 * MiB, 'kmem')).toThrow(errno('EINVAL'));
    expect(() => m.hp.addMemoryDriverManaged(0, HOT, 128 * MiB, 'System RAM (kmem')).toThrow(errno('EINVAL'));
    m.hp.addMemoryDriverManaged(0, HOT, 128 * MiB, 'System RAM (kmem)');
    expect(m.kernel.iomem.procIomem()).toContain('100000000-107ffffff : System RAM (kmem)\n');
    const res = m.kernel.iomem.lookupResource(m.kernel.iomem.root, HOT)!;
    expect(anyBits(res.flags, IORESOURCE_SYSRAM_DRIVER_MANAGED)).toBe(true);
  });

  it('MHP_MERGE_RESOURCE merges adjacent System RAM resources', () => {
    const m = bootMachine();
    m.hp.addMemoryDriverManaged(0, HOT, 128 * MiB, 'System RAM (virtio_mem)', MHP_MERGE_RESOURCE);
    m.hp.addMemoryDriverManaged(0, HOT + 128 * MiB, 128 * MiB, 'System RAM (virtio_mem)', MHP_MERGE_RESOURCE);
    expect(m.kernel.iomem.procIomem()).toContain('100000000-10fffffff : System RAM (virtio_mem)\n');
    const res = m.kernel.iomem.lookupResource(m.kernel.iomem.root, HOT)!;
    expect(anyBits(res.flags, IORESOURCE_SYSRAM_MERGEABLE)).toBe(true);
    m.hp.addMemory(0, HOT + 256 * MiB, 128 * MiB, MHP_NONE);
    expect(m.kernel.iomem.procIomem()).toContain('110000000-117ffffff : System RAM\n');
  });

  it('auto-onlining: auto_online_blocks=online_movable onlines the new blocks to ZONE_MOVABLE', () => {
    const m = bootMachine();
    m.kernel.sysfs.write(`${MEM}/auto_online_blocks`, 'online_movable');
    m.hp.addMemory(0, HOT, 256 * MiB);
    expect(m.kernel.sysfs.read(`${MEM}/memory32/state`)).toBe('online\n');
    expect(m.kernel.sysfs.read(`${MEM}/memory33/valid_zones`)).toBe('Movable\n');
    const movable = m.mm.nodeData(0)!.nodeZones[m.mm.config.ZONE_MOVABLE]!;
    expect(movable.presentPages).toBe(65536);
    expect(movable.managedPages).toBe(65536);
  });

  it('the probe file adds one block at an aligned address; an unaligned one is -EINVAL', () => {
    const m = bootMachine();
    const before = snapshot(m);
    expect(() => m.kernel.sysfs.write(`${MEM}/probe`, '0x104000000\n')).toThrow(errno('EINVAL'));
    expect(() => m.kernel.sysfs.write(`${MEM}/probe`, 'zz\n')).toThrow(errno('EINVAL'));
    expect(snapshot(m)).toEqual(before);
    m.kernel.sysfs.write(`${MEM}/probe`, '0x100000000\n');
    expect(m.kernel.sysfs.read(`${MEM}/memory32/state`)).toBe('offline\n');
    expect(() => m.kernel.sysfs.write(`${MEM}/probe`, '4294967296\n')).toThrow(errno('EEXIST'));
  });

  it('-ENOMEM when a memory block device cannot be allocated: everything unwound', () => {
    const m = bootMachine();
    const before = snapshot(m);
    m.kernel.faults.configure('failslab', { probability: 100, times: 1 });
    expect(() => m.hp.addMemory(0, HOT, 256 * MiB)).toThrow(expect.anything());
    expect(snapshot(m)).toEqual(before);
    m.hp.addMemory(0, HOT, 256 * MiB);
    expect(m.hp.memory.allBlocks()).toHaveLength(10);
  });
});

describe('remove_memory', () => {
  it('-EBUSY while a block is online, with the kernel message; nothing changes', () => {
    const m = bootMachine();
    m.hp.addMemory(0, HOT, 256 * MiB);
    m.kernel.sysfs.write(`${MEM}/memory33/state`, 'online');
    const before = snapshot(m);
    expect(() => m.hp.removeMemory(0, HOT, 256 * MiB)).toThrow(errno('EBUSY'));
    expect(m.kernel.log.dmesg()).toContain('removing memory fails, because memory [0x0000000108000000-0x000000010fffffff] is onlined');
    expect(snapshot(m)).toEqual(before);
  });

  it('removes blocks, sections, memmap and resource; the memmap RAM returns to the buddy', () => {
    const m = bootMachine();
    const before = snapshot(m) as { maxPfn: number };
    m.hp.addMemory(0, HOT, 256 * MiB);
    m.kernel.sysfs.write(`${MEM}/memory33/state`, 'online');
    m.kernel.sysfs.write(`${MEM}/memory33/state`, 'offline');
    m.hp.removeMemory(0, HOT, 256 * MiB);
    // max_pfn does not go down again (x86 arch_remove_memory)
    expect(snapshot(m)).toEqual({ ...before, maxPfn: (HOT + 256 * MiB) / 4096 });
    expect(() => m.hp.removeMemory(0, HOT, 100 * MiB)).toThrow(errno('EINVAL'));
  });

  it('removing part of an added range trims the resource (release_mem_region_adjustable)', () => {
    const m = bootMachine();
    m.hp.addMemory(0, HOT, 384 * MiB);
    m.hp.removeMemory(0, HOT + 128 * MiB, 128 * MiB);
    const iomem = m.kernel.iomem.procIomem();
    expect(iomem).toContain('100000000-107ffffff : System RAM\n');
    expect(iomem).toContain('110000000-117ffffff : System RAM\n');
    expect(m.hp.memory.findMemoryBlockById(33)).toBeUndefined();
  });
});

describe('max_pfn', () => {
  it('powerpc: arch_add_memory does not move max_pfn', () => {
    const m = bootMachine({ platform: 'powerpc' });
    const maxPfn = m.hp.maxPfn;
    m.hp.addMemory(0, 4 * GiB, 256 * MiB);
    expect(m.hp.maxPfn).toBe(maxPfn);
  });

  it('v5.13 x86: device memory moves max_pfn; the 2015 series did not (for_device)', () => {
    for (const budget of ['v5.13', '2015'] as const) {
      const m = bootMachine({ mmArch: { zoneDma: budget === 'v5.13', zonesShiftBudget: budget } });
      const maxPfn = m.hp.maxPfn;
      m.hp.archAddMemory(0, 16 * GiB, 128 * MiB, { pgprot: 'PAGE_KERNEL', forDevice: true });
      expect(m.hp.maxPfn).toBe(budget === '2015' ? maxPfn : (16 * GiB + 128 * MiB) / 4096);
      m.hp.archAddMemory(0, 8 * GiB, 128 * MiB, { pgprot: 'PAGE_KERNEL' });
      expect(m.hp.maxPfn).toBe(budget === '2015' ? (8 * GiB + 128 * MiB) / 4096 : (16 * GiB + 128 * MiB) / 4096);
      expect(m.hp.linearMappings().map((l) => l.start)).toEqual([8 * GiB, 16 * GiB]);
    }
  });
});

describe('powerpc (64K pages, 16 MiB sections, 256 MiB blocks)', () => {
  it('a 256 MiB block is 16 sections with 64 bytes of memmap per 64K page; offline_and_remove_memory undoes it all', () => {
    const m = bootMachine({ platform: 'powerpc' });
    const before = snapshot(m);
    m.hp.addMemory(0, HOT, 256 * MiB);
    expect(m.kernel.sysfs.read(`${MEM}/memory16/phys_index`)).toBe('00000010\n');
    expect(m.sparse.memmapOfRange(HOT / 65536, 4096).bytes).toBe(4096 * 64);
    m.kernel.sysfs.write(`${MEM}/memory16/state`, 'online_movable');
    const movable = m.mm.nodeData(0)!.nodeZones[m.mm.config.ZONE_MOVABLE]!;
    expect([movable.presentPages, movable.managedPages]).toEqual([4096, 4096]);
    expect(() => m.hp.offlineAndRemoveMemory(0, HOT, 128 * MiB)).toThrow(errno('EINVAL'));
    m.hp.offlineAndRemoveMemory(0, HOT, 256 * MiB);
    expect(snapshot(m)).toEqual(before);
  });
});

describe('nodes and the remaining entry points', () => {
  it('try_online_node onlines a possible memoryless node; impossible ones are -EINVAL', () => {
    const m = bootMachine({ hotplug: { possibleNodes: [0, 1, 2] } });
    expect(m.hp.tryOnlineNode(2)).toBe(1);
    expect(m.hp.tryOnlineNode(2)).toBe(0);
    expect(m.kernel.sysfs.read('/sys/devices/system/node/online')).toBe('0,2\n');
    expect(() => m.hp.tryOnlineNode(3)).toThrow(errno('EINVAL'));
    m.hp.tryOfflineNode(2);
    expect(m.kernel.sysfs.read('/sys/devices/system/node/online')).toBe('0\n');
    // node 0 has CPUs and memory: never offlined
    m.hp.tryOfflineNode(0);
    expect(m.kernel.sysfs.read('/sys/devices/system/node/online')).toBe('0\n');
  });

  it('__remove_memory of offline memory; __add_memory; add_memory_driver_managed failures change nothing', () => {
    const m = bootMachine();
    const before = snapshot(m);
    expect(() => m.hp.addMemoryDriverManaged(0, HOT, 128 * MiB, 'dax')).toThrow(errno('EINVAL'));
    expect(() => m.hp.addMemoryDriverManaged(0, 0, 128 * MiB, 'System RAM (kmem)')).toThrow(errno('EEXIST'));
    expect(snapshot(m)).toEqual(before);
    m.hp.__addMemory(0, HOT, 128 * MiB);
    m.hp.__removeMemory(0, HOT, 128 * MiB);
    expect(snapshot(m)).toEqual({ ...(before as object), maxPfn: (HOT + 128 * MiB) / 4096 });
  });

  it('an unknown memhp_default_state= is ignored, as setup_memhp_default_state() does', () => {
    const m = bootMachine({ hotplug: { memhpDefaultState: 'bogus' } });
    expect(m.kernel.sysfs.read(`${MEM}/auto_online_blocks`)).toBe('offline\n');
  });
});

describe('the hooks memory hotplug registers with the mm core', () => {
  it('a second hotplug subsystem on the same mm core is refused with EBUSY before it changes anything', () => {
    const m = bootMachine();
    const before = snapshot(m);
    const sysfsBefore = m.kernel.sysfs.list(MEM).join(' ');
    const second = new MemoryHotplug({ kernel: m.kernel, mm: m.mm, sparse: m.sparse, arch: HOTPLUG_X86_64 });
    expect(() => second.memoryHotplugInit()).toThrow(
      new KernelError('EBUSY', 'register_pfn_online: pfn_to_online_page() is already provided'),
    );
    expect(() => second.memoryHotplugInit()).toThrow(errno('EBUSY'));
    expect(m.kernel.sysfs.list(MEM).join(' ')).toBe(sysfsBefore);
    expect(snapshot(m)).toEqual(before);
    // the first one's pfn_to_online_page() still answers for the mm core
    m.hp.addMemory(0, HOT, 128 * MiB);
    expect(m.mm.pfnOnline(HOT / 4096)).toBe(false);
    m.kernel.sysfs.write(`${MEM}/memory32/online`, '1\n');
    expect(m.mm.pfnOnline(HOT / 4096)).toBe(true);
  });

  it('max_pfn is raised by update_end_of_memory_vars() and lowered back only by restoreEndOfMemoryVars()', () => {
    const m = bootMachine();
    const [maxPfn, maxLowPfn] = [m.hp.maxPfn, m.hp.maxLowPfn];
    m.hp.updateEndOfMemoryVars(HOT, 128 * MiB);
    expect([m.hp.maxPfn, m.hp.maxLowPfn]).toEqual([(HOT + 128 * MiB) / 4096, (HOT + 128 * MiB) / 4096]);
    expect(() => {
      (m.hp as unknown as { maxPfn: number }).maxPfn = 0;
    }).toThrow(TypeError);
    // raising is update_end_of_memory_vars()'s job
    expect(() => m.hp.restoreEndOfMemoryVars(m.hp.maxPfn + 1, maxLowPfn)).toThrow(errno('EINVAL'));
    expect(() => m.hp.restoreEndOfMemoryVars(maxPfn, m.hp.maxLowPfn + 1)).toThrow(errno('EINVAL'));
    expect(m.hp.maxPfn).toBe((HOT + 128 * MiB) / 4096);
    m.hp.restoreEndOfMemoryVars(maxPfn, maxLowPfn);
    expect([m.hp.maxPfn, m.hp.maxLowPfn]).toEqual([maxPfn, maxLowPfn]);
  });
});
