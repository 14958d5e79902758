// The per-node attribute files of drivers/base/node.c (v5.13) that need no
// memory counters: cpumap and cpulist (node_read_cpumap() with
// cpumap_print_to_pagebuf(), nr_cpu_ids = 1, cpu0 on the first online node)
// and distance (node_read_distance(), the default __node_distance(): 10 to
// itself, 20 to any other online node).
import { describe, expect, it } from 'vitest';
import { GiB, MiB, bootMachine } from './machine.js';
import { errno } from './errno.js';

const NODE = '/sys/devices/system/node';

/** x86_64, two nodes: node 0 below 512 MiB, node 1 above; a possible node 2. */
function twoNodes(): ReturnType<typeof bootMachine> {
  return bootMachine({
    memory: [
      { start: MiB, size: 512 * MiB - MiB, nid: 0 },
      { start: 512 * MiB, size: GiB - 512 * MiB, nid: 1 },
    ],
    hotplug: { possibleNodes: [0, 1, 2] },
  });
}

describe('node attributes (node_dev_attrs)', () => {
  it('cpumap, cpulist and distance on a two-node machine, byte for byte', () => {
    const sysfs = twoNodes().kernel.sysfs;
    expect(sysfs.read(`${NODE}/online`)).toBe('0-1\n');
    expect(sysfs.read(`${NODE}/has_cpu`)).toBe('0\n');
    expect(sysfs.read(`${NODE}/node0/cpumap`)).toBe('1\n');
    expect(sysfs.read(`${NODE}/node0/cpulist`)).toBe('0\n');
    expect(sysfs.read(`${NODE}/node0/distance`)).toBe('10 20\n');
    expect(sysfs.read(`${NODE}/node1/cpumap`)).toBe('0\n');
    expect(sysfs.read(`${NODE}/node1/cpulist`)).toBe('\n');
    expect(sysfs.read(`${NODE}/node1/distance`)).toBe('20 10\n');
  });

  it('are read-only (0444) files of every node directory', () => {
    const sysfs = twoNodes().kernel.sysfs;
    for (const nid of [0, 1]) {
      expect(sysfs.list(`${NODE}/node${nid}`)).toEqual(expect.arrayContaining(['cpulist', 'cpumap', 'distance']));
      for (const name of ['cpumap', 'cpulist', 'distance']) {
        expect(sysfs.stat(`${NODE}/node${nid}/${name}`).mode).toBe(0o444);
        const before = sysfs.read(`${NODE}/node${nid}/${name}`);
        expect(() => sysfs.write(`${NODE}/node${nid}/${name}`, '1\n')).toThrow(errno('EACCES'));
        expect(sysfs.read(`${NODE}/node${nid}/${name}`)).toBe(before);
      }
    }
  });

  it('a single-node machine: one column, cpu0 on node 0', () => {
    const sysfs = bootMachine().kernel.sysfs;
    expect(sysfs.read(`${NODE}/node0/distance`)).toBe('10\n');
    expect(sysfs.read(`${NODE}/node0/cpumap`)).toBe('1\n');
    expect(sysfs.read(`${NODE}/node0/cpulist`)).toBe('0\n');
  });

  it('distance follows the online nodes: a hot-added node gets a row and a column, an offlined one loses them', () => {
    const m = twoNodes();
    const sysfs = m.kernel.sysfs;
    m.hp.addMemory(2, 4 * GiB, 128 * MiB, 0);
    expect(sysfs.read(`${NODE}/online`)).toBe('0-2\n');
    expect(sysfs.read(`${NODE}/node0/distance`)).toBe('10 20 20\n');
    expect(sysfs.read(`${NODE}/node1/distance`)).toBe('20 10 20\n');
    expect(sysfs.read(`${NODE}/node2/distance`)).toBe('20 20 10\n');
    // the new node has no CPU; cpu0 stays on node 0
    expect(sysfs.read(`${NODE}/node2/cpumap`)).toBe('0\n');
    expect(sysfs.read(`${NODE}/node2/cpulist`)).toBe('\n');
    expect(sysfs.read(`${NODE}/node0/cpumap`)).toBe('1\n');
    m.hp.removeMemory(2, 4 * GiB, 128 * MiB);
    m.hp.tryOfflineNode(2);
    expect(sysfs.exists(`${NODE}/node2`)).toBe(false);
    expect(sysfs.read(`${NODE}/node0/distance`)).toBe('10 20\n');
    expect(sysfs.read(`${NODE}/node1/distance`)).toBe('20 10\n');
  });

  it('a row that does not start at node 0 begins with a space (the separator tests the node number)', () => {
    // node 0 possible but offline: online nodes 1-2, cpu0 on node 1.
    const m = bootMachine({
      memory: [
        { start: MiB, size: 512 * MiB - MiB, nid: 1 },
        { start: 512 * MiB, size: GiB - 512 * MiB, nid: 2 },
      ],
      hotplug: { possibleNodes: [0, 1, 2], cpuNodes: [1] },
    });
    const sysfs = m.kernel.sysfs;
    expect(sysfs.read(`${NODE}/online`)).toBe('1-2\n');
    expect(sysfs.read(`${NODE}/has_cpu`)).toBe('1\n');
    expect(sysfs.read(`${NODE}/node1/distance`)).toBe(' 10 20\n');
    expect(sysfs.read(`${NODE}/node2/distance`)).toBe(' 20 10\n');
    expect(sysfs.read(`${NODE}/node1/cpumap`)).toBe('1\n');
    expect(sysfs.read(`${NODE}/node1/cpulist`)).toBe('0\n');
    expect(sysfs.read(`${NODE}/node2/cpumap`)).toBe('0\n');
    expect(sysfs.read(`${NODE}/node2/cpulist`)).toBe('\n');
  });
});
