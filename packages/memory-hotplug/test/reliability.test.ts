// Bad input at the boundary of memory hotplug, and requests over memory
// another owner holds: refused with the kernel's errno, nothing changed.
import { KernelError } from '@zonedev/kernel';
import { MHP_NONE, acpiMemoryEnableDevice } from '@zonedev/memory-hotplug';
import { describe, expect, it } from 'vitest';
import { GiB, MEM, MiB, bootMachine, snapshot } from './machine.js';

const HOT = 4 * GiB;
const BLOCK_PAGES = 32768;

function expectEinval(f: () => unknown, what = ""): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, `${what} ${f.toString()}`).toBeInstanceOf(KernelError);
  expect((err as KernelError).errno).toBe('EINVAL');
}

const BAD: unknown[] = [NaN, Infinity, -Infinity, -1, 1.5, 2 ** 53 + 2, 2 ** 64, undefined, null, '4294967296', {}];

describe('online_pages() on a range that is already online', () => {
  it('is -EINVAL before managed, present or any free list changes', () => {
    const m = bootMachine();
    m.hp.addMemory(0, HOT, 128 * MiB);
    m.kernel.sysfs.write(`${MEM}/memory32/state`, 'online\n');
    const zone = m.mm.pageZone(HOT / 4096);
    const before = snapshot(m);
    const managed = zone.managedPages;
    expect(() => m.hp.onlinePages(HOT / 4096, BLOCK_PAGES, zone)).toThrow(
      expect.objectContaining({ errno: 'EINVAL', message: 'online_pages: section 32 of 0x100000+0x8000 is already online' }),
    );
    expect(zone.managedPages).toBe(managed);
    expect(snapshot(m)).toEqual(before);
  });

  it('is -EINVAL for sections that are not present', () => {
    const m = bootMachine();
    const zone = m.mm.onlinePgdats()[0]!.nodeZones.find((z) => z.managedPages > 0)!;
    const before = snapshot(m);
    expect(() => m.hp.onlinePages(HOT / 4096, BLOCK_PAGES, zone)).toThrow(
      expect.objectContaining({ errno: 'EINVAL', message: 'online_pages: section 32 of 0x100000+0x8000 is not present' }),
    );
    expect(snapshot(m)).toEqual(before);
  });
});

describe('numbers that are not C integers', () => {
  it('are -EINVAL at every entry point of the add and remove paths, and nothing changes', () => {
    const m = bootMachine();
    m.hp.addMemory(0, HOT, 128 * MiB);
    const zone = m.mm.pageZone(HOT / 4096);
    const before = snapshot(m);
    for (const x of BAD) {
      const n = x as number;
      expectEinval(() => m.hp.addMemory(n, HOT + GiB, 128 * MiB), String(x));
      expectEinval(() => m.hp.addMemory(0, n, 128 * MiB), String(x));
      expectEinval(() => m.hp.addMemory(0, HOT + GiB, n), String(x));
      // (an undefined mhp_flags is the parameter left out: MHP_NONE)
      if (x !== undefined) expectEinval(() => m.hp.addMemory(0, HOT + GiB, 128 * MiB, n), String(x));
      expectEinval(() => m.hp.__addMemory(0, n, 128 * MiB, MHP_NONE), String(x));
      expectEinval(() => m.hp.addMemoryDriverManaged(0, n, 128 * MiB, 'System RAM (kmem)'), String(x));
      expectEinval(() => m.hp.removeMemory(n, HOT, 128 * MiB), String(x));
      expectEinval(() => m.hp.removeMemory(0, n, 128 * MiB), String(x));
      expectEinval(() => m.hp.__removeMemory(0, HOT, n), String(x));
      expectEinval(() => m.hp.offlineAndRemoveMemory(0, n, 128 * MiB), String(x));
      expectEinval(() => m.hp.onlinePages(n, BLOCK_PAGES, zone), String(x));
      expectEinval(() => m.hp.onlinePages(HOT / 4096, n, zone), String(x));
      expectEinval(() => m.hp.offlinePages(n, BLOCK_PAGES), String(x));
      expectEinval(() => m.hp.offlinePages(HOT / 4096, n), String(x));
      expectEinval(() => acpiMemoryEnableDevice(m.hp, 'PNP0C80:00', n, HOT + GiB, 128 * MiB), String(x));
      expectEinval(() => acpiMemoryEnableDevice(m.hp, 'PNP0C80:00', 0, n, 128 * MiB), String(x));
      expectEinval(() => acpiMemoryEnableDevice(m.hp, 'PNP0C80:00', 0, HOT + GiB, n), String(x));
    }
    expectEinval(() => m.hp.onlinePages(HOT / 4096, BLOCK_PAGES, undefined as never));
    expectEinval(() => m.hp.addMemoryDriverManaged(0, HOT + GiB, 128 * MiB, 5 as never));
    expectEinval(() => acpiMemoryEnableDevice(m.hp, undefined as never, 0, HOT + GiB, 128 * MiB));
    expect(snapshot(m)).toEqual(before);
  });
});

describe('remove_memory() over a range memory hotplug did not add', () => {
  it('is -EINVAL in the words of try_remove_memory(), and nothing is torn down', () => {
    const m = bootMachine();
    m.hp.addMemory(0, HOT, 128 * MiB);
    const before = snapshot(m);
    const msg = 'removing memory fails, because memory [0x0000000108000000-0x000000010fffffff] is not System RAM added by memory hotplug';
    expect(() => m.hp.removeMemory(0, HOT + 128 * MiB, 128 * MiB)).toThrow(expect.objectContaining({ errno: 'EINVAL', message: msg }));
    // Part hot-added, part not: refused as a whole, the added block stays.
    expect(() => m.hp.removeMemory(0, HOT, 256 * MiB)).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
    expect(snapshot(m)).toEqual(before);
    expect(m.kernel.log.lines.map((l) => l.text)).toContain(msg);
    m.hp.removeMemory(0, HOT, 128 * MiB);
  });
});

describe('acpi_memory_enable_device() over memory already in use', () => {
  it('is enabled when hot-added memory blocks cover the whole range (the -EEXIST of v5.13)', () => {
    const m = bootMachine();
    m.hp.addMemory(0, HOT, 128 * MiB);
    const before = snapshot(m);
    expect(acpiMemoryEnableDevice(m.hp, 'PNP0C80:00', 0, HOT, 128 * MiB)).toBe(false);
    expect(snapshot(m)).toEqual(before);
  });

  it('fails with "add_memory failed" when the range is only partly such memory, adding nothing', () => {
    const m = bootMachine();
    m.hp.addMemory(0, HOT + 128 * MiB, 128 * MiB);
    const before = snapshot(m);
    expect(() => acpiMemoryEnableDevice(m.hp, 'PNP0C80:01', 0, HOT, 256 * MiB)).toThrow(
      expect.objectContaining({ errno: 'EINVAL', message: 'add_memory failed: Unable to reserve System RAM region: 0000000100000000->0000000110000000' }),
    );
    expect(m.kernel.log.lines.map((l) => l.text)).toContain('acpi PNP0C80:01: add_memory failed');
    expect(snapshot(m)).toEqual(before);
  });
});
