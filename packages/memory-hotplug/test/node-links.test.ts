// Memory blocks that span nodes (drivers/base/node.c, v5.13): at boot
// register_one_node() -> link_mem_sections(MEMINIT_EARLY) links a block under
// every node one of its present pages belongs to; hot-add links under the
// given node; removal unlinks both directions.
import { describe, expect, it } from 'vitest';
import { snapshot, GiB, MEM, MiB, bootMachine } from './machine.js';
import { errno } from './errno.js';

const NODE = '/sys/devices/system/node';

/** x86_64: node 0 up to 200 MiB, node 1 above: memory1 (128-256 MiB) straddles the boundary. */
function straddling(): ReturnType<typeof bootMachine> {
  return bootMachine({
    memory: [
      { start: MiB, size: 200 * MiB - MiB, nid: 0 },
      { start: 200 * MiB, size: GiB - 200 * MiB, nid: 1 },
    ],
    hotplug: { possibleNodes: [0, 1] },
  });
}

const memLinks = (m: ReturnType<typeof bootMachine>, nid: number): string[] =>
  m.kernel.sysfs.list(`${NODE}/node${nid}`).filter((n) => n.startsWith('memory'));
const nodeLinks = (m: ReturnType<typeof bootMachine>, block: number): string[] =>
  m.kernel.sysfs.list(`${MEM}/memory${block}`).filter((n) => /^node\d+$/.test(n));

describe('memory blocks spanning nodes (register_mem_block_under_node_early)', () => {
  it('links a block straddling a node boundary under both nodes, in both directions', () => {
    const m = straddling();
    const sysfs = m.kernel.sysfs;
    expect(nodeLinks(m, 0)).toEqual(['node0']);
    expect(nodeLinks(m, 1)).toEqual(['node0', 'node1']);
    expect(nodeLinks(m, 2)).toEqual(['node1']);
    expect(sysfs.readlink(`${MEM}/memory1/node0`)).toBe('../../node/node0');
    expect(sysfs.readlink(`${MEM}/memory1/node1`)).toBe('../../node/node1');
    expect(sysfs.readlink(`${NODE}/node0/memory1`)).toBe('../../memory/memory1');
    expect(sysfs.readlink(`${NODE}/node1/memory1`)).toBe('../../memory/memory1');
    expect(memLinks(m, 0)).toEqual(['memory0', 'memory1']);
    expect(memLinks(m, 1)).toEqual(['memory1', 'memory2', 'memory3', 'memory4', 'memory5', 'memory6', 'memory7']);
    // "If this memory block spans multiple nodes, we only indicate the last processed node."
    const mem1 = m.hp.memory.findMemoryBlockById(1)!;
    expect(mem1.nid).toBe(1);
    expect(m.hp.nodes.memoryBlockNodes(mem1)).toEqual([0, 1]);
    expect(m.hp.memory.findMemoryBlockById(0)!.nid).toBe(0);
  });

  it('a block spanning two nodes spans two zones: valid_zones is none and it cannot be offlined', () => {
    const m = straddling();
    const sysfs = m.kernel.sysfs;
    expect(sysfs.read(`${MEM}/memory1/valid_zones`)).toBe('none\n');
    const before = snapshot(m);
    expect(() => sysfs.write(`${MEM}/memory1/state`, 'offline\n')).toThrow(errno('EINVAL'));
    expect(() => m.hp.offlineAndRemoveMemory(1, 128 * MiB, 128 * MiB)).toThrow(errno('EINVAL'));
    expect(snapshot(m)).toEqual(before);
    expect(nodeLinks(m, 1)).toEqual(['node0', 'node1']);
  });

  it('skips absent sections of a block (powerpc: 16 sections a block, a hole between the nodes)', () => {
    // memory1 = 256-512 MiB: section 16 on node 0, section 17 absent, the rest on node 1.
    const m = bootMachine({
      platform: 'powerpc',
      memory: [
        { start: 0, size: 272 * MiB, nid: 0 },
        { start: 288 * MiB, size: GiB - 288 * MiB, nid: 1 },
      ],
    });
    expect(m.sparse.presentSectionNr(17)).toBe(false);
    expect(nodeLinks(m, 0)).toEqual(['node0']);
    expect(nodeLinks(m, 1)).toEqual(['node0', 'node1']);
    expect(nodeLinks(m, 2)).toEqual(['node1']);
    expect(memLinks(m, 0)).toEqual(['memory0', 'memory1']);
    expect(memLinks(m, 1)).toEqual(['memory1', 'memory2', 'memory3']);
  });

  it('a block whose pages are all on one node is not linked under a node whose span only touches it', () => {
    // node 0 ends exactly at the block boundary (256 MiB): memory2 belongs to node 1 only
    const m = bootMachine({
      memory: [
        { start: MiB, size: 256 * MiB - MiB, nid: 0 },
        { start: 256 * MiB, size: 256 * MiB, nid: 1 },
      ],
    });
    expect(nodeLinks(m, 1)).toEqual(['node0']);
    expect(nodeLinks(m, 2)).toEqual(['node1']);
    expect(memLinks(m, 0)).toEqual(['memory0', 'memory1']);
    expect(memLinks(m, 1)).toEqual(['memory2', 'memory3']);
  });
});

describe('hot-added blocks (register_mem_block_under_node_hotplug) and their removal', () => {
  it('links hot-added blocks under the given node only, and removal unlinks both ways', () => {
    const m = straddling();
    const sysfs = m.kernel.sysfs;
    m.hp.addMemory(1, 4 * GiB, 256 * MiB);
    expect(nodeLinks(m, 32)).toEqual(['node1']);
    expect(nodeLinks(m, 33)).toEqual(['node1']);
    expect(sysfs.readlink(`${NODE}/node1/memory33`)).toBe('../../memory/memory33');
    expect(sysfs.exists(`${NODE}/node0/memory32`)).toBe(false);
    m.hp.removeMemory(1, 4 * GiB, 256 * MiB);
    expect(sysfs.exists(`${MEM}/memory32`)).toBe(false);
    expect(memLinks(m, 1)).toEqual(['memory1', 'memory2', 'memory3', 'memory4', 'memory5', 'memory6', 'memory7']);
    expect(memLinks(m, 0)).toEqual(['memory0', 'memory1']);
  });

  it('unregister_memory_block_under_nodes() removes every node link of a block, never leaving one dangling', () => {
    const m = straddling();
    const mem1 = m.hp.memory.findMemoryBlockById(1)!;
    m.hp.unregisterMemoryBlockUnderNodes(mem1);
    expect(nodeLinks(m, 1)).toEqual([]);
    expect(memLinks(m, 0)).toEqual(['memory0']);
    expect(memLinks(m, 1)).not.toContain('memory1');
    expect(m.hp.nodes.memoryBlockNodes(mem1)).toEqual([]);
    // the other blocks keep theirs
    expect(nodeLinks(m, 2)).toEqual(['node1']);
  });
});
