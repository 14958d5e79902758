// memmap_on_memory (commit a08a2ae346, v5.13): the memmap of a hot-added block at
// the start of the block itself.
import { MHP_MEMMAP_ON_MEMORY, acpiMemoryEnableDevice } from '@zonedev/memory-hotplug';
import { describe, expect, it } from 'vitest';
import { GiB, MEM, MiB, bootMachine, snapshot } from './machine.js';
import { errno } from './errno.js';

const HOT = 4 * GiB;
const BLOCK = 128 * MiB;
const PAGES = 32768;
const VMEMMAP = 512; // 2 MiB of struct pages for 128 MiB

describe('the scenario that motivated it: a machine short of free RAM', () => {
  it('cannot hot-add 32 GiB with the memmap in RAM (-ENOMEM, nothing half-added), but can one block at a time with memmap_on_memory', () => {
    const m = bootMachine({ memory: [{ start: MiB, size: 63 * MiB, nid: 0 }], hotplug: { memmapOnMemory: true } });
    const before = snapshot(m);
    const free = m.mm.nrFreePages();
    expect(free * 4096).toBeLessThan(64 * MiB);
    // 32 GiB needs 512 MiB of memmap
    expect(() => m.hp.addMemory(0, HOT, 32 * GiB)).toThrow(errno('ENOMEM'));
    expect(snapshot(m)).toEqual(before);
    expect(m.mm.nrFreePages()).toBe(free);

    for (let i = 0; i < 256; i++) m.hp.addMemory(0, HOT + i * BLOCK, BLOCK, MHP_MEMMAP_ON_MEMORY);
    // no RAM was spent on the memmap
    expect(m.mm.nrFreePages()).toBe(free);
    for (const i of [0, 1, 255]) {
      const startPfn = (HOT + i * BLOCK) / 4096;
      const acct = m.sparse.memmapOfSection(startPfn / PAGES);
      expect(acct.bytes).toBe(2 * MiB);
      expect(acct.placements).toHaveLength(1);
      expect(acct.placements[0]).toMatchObject({ source: 'altmap', pageSize: 2 * MiB, bytes: 2 * MiB });
      // the memmap occupies the first 2 MiB of the block
      const blk = m.sparse.vmemmapBlocks().find((b) => b.firstPfn === startPfn)!;
      expect(blk.pfn).toBe(startPfn);
      expect(m.hp.memory.findMemoryBlockById(startPfn / PAGES)!.nrVmemmapPages).toBe(VMEMMAP);
    }
    // online them all: now there is plenty of memory
    for (let i = 0; i < 256; i++) m.kernel.sysfs.write(`${MEM}/memory${32 + i}/state`, 'online_movable');
    const movable = m.mm.nodeData(0)!.nodeZones[m.mm.config.ZONE_MOVABLE]!;
    expect(movable.presentPages).toBe(256 * PAGES);
    expect(movable.managedPages).toBe(256 * (PAGES - VMEMMAP));
    expect(m.mm.nrFreePages()).toBeGreaterThan(255 * (PAGES - VMEMMAP));
  });
});

describe('accounting and the block life cycle', () => {
  it('vmemmap pages: present only once online succeeded, never managed; hidden from pfn_to_online_page while offline', () => {
    const m = bootMachine({ hotplug: { memmapOnMemory: true } });
    m.hp.addMemory(0, HOT, BLOCK, MHP_MEMMAP_ON_MEMORY);
    const start = HOT / 4096;
    expect(m.sparse.pfnValid(start)).toBe(true);
    expect(m.hp.pfnToOnlinePage(start)).toBeUndefined();
    const normal = m.mm.nodeData(0)!.nodeZones[m.mm.config.ZONE_NORMAL]!;
    // a vetoed online leaves nothing accounted
    m.hp.errorInject.load();
    m.kernel.sysfs.write('/sys/kernel/debug/notifier-error-inject/memory/actions/MEM_GOING_ONLINE/error', '-12');
    const before = snapshot(m);
    expect(() => m.kernel.sysfs.write(`${MEM}/memory32/state`, 'online')).toThrow(errno('ENOMEM'));
    expect(snapshot(m)).toEqual(before);
    expect([normal.spannedPages, normal.presentPages]).toEqual([0, 0]);
    m.hp.errorInject.unload();

    m.kernel.sysfs.write(`${MEM}/memory32/state`, 'online');
    expect([normal.zoneStartPfn, normal.spannedPages, normal.presentPages, normal.managedPages]).toEqual([start, PAGES, PAGES, PAGES - VMEMMAP]);
    // the vmemmap pages belong to the zone, reserved; the rest is in the buddy
    expect(m.mm.pageZone(start)).toBe(normal);
    expect(m.mm.memmap.pageReserved(start)).toBe(true);
    expect(m.mm.freeBlockOf(start)).toBeUndefined();
    expect(m.mm.freeBlockOf(start + VMEMMAP)).toBeDefined();
    expect(m.kernel.sysfs.read(`${MEM}/memory32/valid_zones`)).toBe('Normal\n');

    m.kernel.sysfs.write(`${MEM}/memory32/state`, 'offline');
    expect([normal.spannedPages, normal.presentPages, normal.managedPages]).toEqual([0, 0, 0]);
    expect(m.hp.pfnToOnlinePage(start)).toBeUndefined();
    // the memmap stays in the block until the memory is removed
    expect(m.sparse.memmapOfSection(32).placements[0]!.source).toBe('altmap');
  });

  it('a failed offline accounts the vmemmap pages back', () => {
    const m = bootMachine({ hotplug: { memmapOnMemory: true, possibleNodes: [0, 1] } });
    m.hp.addMemory(1, HOT, BLOCK, MHP_MEMMAP_ON_MEMORY);
    m.kernel.sysfs.write(`${MEM}/memory32/state`, 'online_kernel');
    const before = snapshot(m);
    m.hp.errorInject.load();
    m.hp.errorInject.setError(2 /* MEM_GOING_OFFLINE */, -16);
    expect(() => m.kernel.sysfs.write(`${MEM}/memory32/state`, 'offline')).toThrow(errno('EBUSY'));
    expect(snapshot(m)).toEqual(before);
  });

  it('removal frees through an altmap; a range of several such blocks is refused', () => {
    const m = bootMachine({ hotplug: { memmapOnMemory: true } });
    m.hp.addMemory(0, HOT, BLOCK, MHP_MEMMAP_ON_MEMORY);
    m.hp.addMemory(0, HOT + BLOCK, BLOCK, MHP_MEMMAP_ON_MEMORY);
    const before = snapshot(m);
    expect(() => m.hp.removeMemory(0, HOT, 2 * BLOCK)).toThrow(errno('EINVAL'));
    expect(m.kernel.log.dmesg()).toContain('Refuse to remove 0x100000000 - 0x110000000,wrong granularity');
    expect(snapshot(m)).toEqual(before);
    m.hp.removeMemory(0, HOT + BLOCK, BLOCK);
    m.hp.removeMemory(0, HOT, BLOCK);
    expect(m.sparse.vmemmapBlocks().filter((b) => b.source === 'altmap')).toHaveLength(0);
    expect(m.hp.memory.allBlocks()).toHaveLength(8);
  });
});

describe('mhp_supports_memmap_on_memory (v5.13)', () => {
  it('only exactly one block, only with the parameter, only where the architecture has it', () => {
    const off = bootMachine();
    expect(off.hp.mhpSupportsMemmapOnMemory(BLOCK)).toBe(false);
    const on = bootMachine({ hotplug: { memmapOnMemory: true } });
    expect(on.hp.mhpSupportsMemmapOnMemory(BLOCK)).toBe(true);
    expect(on.hp.mhpSupportsMemmapOnMemory(2 * BLOCK)).toBe(false);
    const ppc = bootMachine({ platform: 'powerpc', hotplug: { memmapOnMemory: true } });
    expect(ppc.hp.memmapOnMemory).toBe(false);
    expect(ppc.hp.mhpSupportsMemmapOnMemory(256 * MiB)).toBe(false);
  });

  it('add_memory with MHP_MEMMAP_ON_MEMORY where unsupported is -EINVAL; the ACPI driver falls back to RAM', () => {
    const m = bootMachine({ hotplug: { memmapOnMemory: true } });
    const before = snapshot(m);
    expect(() => m.hp.addMemory(0, HOT, 2 * BLOCK, MHP_MEMMAP_ON_MEMORY)).toThrow(errno('EINVAL'));
    expect(snapshot(m)).toEqual(before);
    expect(acpiMemoryEnableDevice(m.hp, 'PNP0C80:00', 0, HOT, 2 * BLOCK)).toBe(false);
    expect(m.sparse.memmapOfSection(32).placements[0]!.source).toBe('ram');
    expect(acpiMemoryEnableDevice(m.hp, 'PNP0C80:00', 0, HOT + 2 * BLOCK, BLOCK)).toBe(true);
    expect(m.sparse.memmapOfSection(34).placements[0]!.source).toBe('altmap');
    const mark = m.kernel.log.lines.length;
    expect(() => acpiMemoryEnableDevice(m.hp, 'PNP0C80:01', 0, 3 * HOT + 64 * MiB, BLOCK)).toThrow(errno('EINVAL'));
    // dev_err() on the ACPI device the caller named
    expect(m.kernel.log.lines.slice(mark).map((l) => l.text)).toContain('acpi PNP0C80:01: add_memory failed');
    // the same range again: -EEXIST counts as enabled
    expect(acpiMemoryEnableDevice(m.hp, 'PNP0C80:00', 0, HOT, BLOCK)).toBe(false);
    const ppc = bootMachine({ platform: 'powerpc' });
    expect(() => ppc.hp.addMemory(0, HOT, 256 * MiB, MHP_MEMMAP_ON_MEMORY)).toThrow(errno('EINVAL'));
  });
});
