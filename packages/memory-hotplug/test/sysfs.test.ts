// The memory block devices and their sysfs files, in the formats of
// drivers/base/memory.c (v5.13) and FORMATS.md.
import { describe, expect, it } from 'vitest';
import { GiB, MEM, MiB, bootMachine } from './machine.js';
import { errno } from './errno.js';

describe('memory blocks at boot (memory_dev_init, node_dev_init)', () => {
  it('x86_64: block_size_bytes, auto_online_blocks, one online block per 128 MiB of boot memory', () => {
    const { kernel } = bootMachine();
    const sysfs = kernel.sysfs;
    expect(sysfs.read(`${MEM}/block_size_bytes`)).toBe('8000000\n');
    expect(sysfs.read(`${MEM}/auto_online_blocks`)).toBe('offline\n');
    const blocks = sysfs.list(MEM).filter((n) => /^memory\d+$/.test(n));
    expect(blocks).toEqual(['memory0', 'memory1', 'memory2', 'memory3', 'memory4', 'memory5', 'memory6', 'memory7']);
    expect(sysfs.list(`${MEM}/memory3`)).toEqual(
      expect.arrayContaining(['node0', 'online', 'phys_device', 'phys_index', 'removable', 'state', 'subsystem', 'uevent', 'valid_zones']),
    );
    expect(sysfs.read(`${MEM}/memory3/state`)).toBe('online\n');
    expect(sysfs.read(`${MEM}/memory3/online`)).toBe('1\n');
    expect(sysfs.read(`${MEM}/memory3/phys_index`)).toBe('00000003\n');
    expect(sysfs.read(`${MEM}/memory3/phys_device`)).toBe('0\n');
    expect(sysfs.read(`${MEM}/memory3/removable`)).toBe('1\n');
    expect(sysfs.read(`${MEM}/memory3/valid_zones`)).toBe('DMA32\n');
    // memory0 holds ZONE_DMA (< 16 MiB) and ZONE_DMA32: it cannot be offlined
    expect(sysfs.read(`${MEM}/memory0/valid_zones`)).toBe('none\n');
    expect(sysfs.stat(`${MEM}/probe`).mode).toBe(0o200);
    expect(sysfs.read('/sys/module/memory_hotplug/parameters/memmap_on_memory')).toBe('N\n');
  });

  it('node links both ways, and the node state files', () => {
    const { kernel } = bootMachine();
    const sysfs = kernel.sysfs;
    expect(sysfs.readlink(`${MEM}/memory5/node0`)).toBe('../../node/node0');
    expect(sysfs.readlink('/sys/devices/system/node/node0/memory5')).toBe('../../memory/memory5');
    expect(sysfs.read('/sys/devices/system/node/online')).toBe('0\n');
    expect(sysfs.read('/sys/devices/system/node/has_memory')).toBe('0\n');
    expect(sysfs.read('/sys/devices/system/node/has_normal_memory')).toBe('0\n');
    expect(sysfs.read('/sys/devices/system/node/has_cpu')).toBe('0\n');
  });

  it('two nodes: each block links to the node of its sections', () => {
    const { kernel, hp } = bootMachine({
      memory: [
        { start: MiB, size: GiB - MiB, nid: 0 },
        { start: 4 * GiB, size: GiB, nid: 1 },
      ],
      hotplug: { possibleNodes: [0, 1, 2] },
    });
    const sysfs = kernel.sysfs;
    expect(sysfs.readlink(`${MEM}/memory32/node1`)).toBe('../../node/node1');
    expect(sysfs.exists(`${MEM}/memory32/node0`)).toBe(false);
    expect(sysfs.read('/sys/devices/system/node/possible')).toBe('0-2\n');
    expect(sysfs.read('/sys/devices/system/node/online')).toBe('0-1\n');
    expect(sysfs.read('/sys/devices/system/node/has_memory')).toBe('0-1\n');
    expect(hp.memory.findMemoryBlockById(39)?.nid).toBe(1);
  });

  it('powerpc: 256 MiB blocks of 16 sections, no memmap_on_memory parameter', () => {
    const { kernel, hp } = bootMachine({ platform: 'powerpc' });
    expect(kernel.sysfs.read(`${MEM}/block_size_bytes`)).toBe('10000000\n');
    expect(hp.memory.sectionsPerBlock).toBe(16);
    expect(kernel.sysfs.list(MEM).filter((n) => n.startsWith('memory'))).toEqual(['memory0', 'memory1', 'memory2', 'memory3']);
    expect(kernel.sysfs.exists('/sys/module/memory_hotplug')).toBe(false);
    expect(kernel.sysfs.read(`${MEM}/memory2/valid_zones`)).toBe('Normal\n');
  });

  it('memory_hotplug.memmap_on_memory=1 shows Y', () => {
    const { kernel, hp } = bootMachine({ hotplug: { memmapOnMemory: true } });
    expect(kernel.sysfs.read('/sys/module/memory_hotplug/parameters/memmap_on_memory')).toBe('Y\n');
    expect(() => kernel.sysfs.write('/sys/module/memory_hotplug/parameters/memmap_on_memory', 'N\n')).toThrow(errno('EACCES'));
    expect(hp.memmapOnMemory).toBe(true);
  });
});

describe('auto_online_blocks and memhp_default_state=', () => {
  it('accepts the four online types, rejects anything else with -EINVAL', () => {
    const { kernel, hp } = bootMachine();
    for (const t of ['online', 'online_kernel', 'online_movable', 'offline']) {
      kernel.sysfs.write(`${MEM}/auto_online_blocks`, `${t}\n`);
      expect(kernel.sysfs.read(`${MEM}/auto_online_blocks`)).toBe(`${t}\n`);
    }
    expect(() => kernel.sysfs.write(`${MEM}/auto_online_blocks`, 'on\n')).toThrow(errno('EINVAL'));
    expect(kernel.sysfs.read(`${MEM}/auto_online_blocks`)).toBe('offline\n');
    expect(hp.mhpDefaultOnlineType).toBe(0);
  });

  it('memhp_default_state=online_movable is the boot default', () => {
    const { kernel } = bootMachine({ hotplug: { memhpDefaultState: 'online_movable' } });
    expect(kernel.sysfs.read(`${MEM}/auto_online_blocks`)).toBe('online_movable\n');
  });
});
