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

describe('node counter files: meminfo, numastat, vmstat (node_read_*(), v5.13)', () => {
  it("powerpc64, two nodes: each node's managed and free pages in kB, and its allocations' NUMA counters", () => {
    const m = bootMachine({
      platform: 'powerpc',
      memory: [
        { start: 0, size: GiB, nid: 0 },
        { start: GiB, size: GiB, nid: 1 },
      ],
    });
    const sysfs = m.kernel.sysfs;
    const zone1 = m.mm.nodeData(1)!.nodeZones.find((z) => z.managedPages > 0)!;
    const free1 = m.mm.nrFreePages() - m.mm.nodeData(0)!.nodeZones.reduce((n, z) => n + (z.vmStat[0] ?? 0), 0);
    const kb = (pages: number): string => String((pages * 65536) / 1024).padStart(8);
    const text = sysfs.read(`${NODE}/node1/meminfo`);
    const lines = text.split('\n');
    expect(lines.slice(0, 3)).toEqual([
      `Node 1 MemTotal:       ${kb(zone1.managedPages)} kB`,
      `Node 1 MemFree:        ${kb(free1)} kB`,
      `Node 1 MemUsed:        ${kb(zone1.managedPages - free1)} kB`,
    ]);
    // the labels and their order are v5.13's (no ShadowCallStack line without CONFIG_SHADOW_CALL_STACK)
    expect(lines.map((l) => l.replace(/^Node 1 ([^:]+:).*$/, '$1'))).toEqual([
      'MemTotal:', 'MemFree:', 'MemUsed:', 'Active:', 'Inactive:', 'Active(anon):', 'Inactive(anon):', 'Active(file):',
      'Inactive(file):', 'Unevictable:', 'Mlocked:', 'Dirty:', 'Writeback:', 'FilePages:', 'Mapped:', 'AnonPages:',
      'Shmem:', 'KernelStack:', 'PageTables:', 'NFS_Unstable:', 'Bounce:', 'WritebackTmp:', 'KReclaimable:', 'Slab:',
      'SReclaimable:', 'SUnreclaim:', 'AnonHugePages:', 'ShmemHugePages:', 'ShmemPmdMapped:', 'FileHugePages:',
      'FilePmdMapped:', 'HugePages_Total:', 'HugePages_Free:', 'HugePages_Surp:', '',
    ]);
    // v5.13 has one space fewer after the two file-THP labels, and %5u for the hugetlb counts
    expect(lines).toContain('Node 1 FileHugePages:        0 kB');
    expect(lines).toContain('Node 1 HugePages_Free:      0');
    // an allocation on node 1 moves MemFree and counts a numa_hit
    const before = sysfs.read(`${NODE}/node1/numastat`);
    expect(before).toBe('numa_hit 0\nnuma_miss 0\nnuma_foreign 0\ninterleave_hit 0\nlocal_node 0\nother_node 0\n');
    const p = m.mm.allocPagesNode(1, 0xcc0, 0)!;
    expect(sysfs.read(`${NODE}/node1/meminfo`).split('\n')[1]).toBe(`Node 1 MemFree:        ${kb(free1 - 1)} kB`);
    const numa = sysfs.read(`${NODE}/node1/numastat`).split('\n');
    // the CPU is on node 0: a hit on node 1 is an other_node allocation (zone_statistics())
    expect([numa[0], numa[4], numa[5]]).toEqual(['numa_hit 1', 'local_node 0', 'other_node 1']);
    const vm = sysfs.read(`${NODE}/node1/vmstat`).split('\n');
    expect(vm[0]).toBe(`nr_free_pages ${free1 - 1}`);
    expect(vm).toContain('numa_hit 1');
    expect(vm.at(-2)).toBe('nr_swapcached 0');
    m.mm.freePages(p, 0);
    expect(sysfs.stat(`${NODE}/node1/meminfo`).mode).toBe(0o444);
    expect(() => sysfs.write(`${NODE}/node1/vmstat`, '0')).toThrow(errno('EACCES'));
  });
});

describe('power/ of memory blocks and nodes (dpm_sysfs_add(), runtime PM never enabled)', () => {
  it('x86_64: the five runtime files; control keeps auto/on, refuses anything else; autosuspend_delay_ms is -EIO', () => {
    const m = bootMachine();
    const sysfs = m.kernel.sysfs;
    for (const dir of ['/sys/devices/system/memory/memory1/power', `${NODE}/node0/power`]) {
      expect(sysfs.list(dir)).toEqual(['autosuspend_delay_ms', 'control', 'runtime_active_time', 'runtime_status', 'runtime_suspended_time']);
      expect(sysfs.read(`${dir}/runtime_status`)).toBe('unsupported\n');
      expect(sysfs.read(`${dir}/runtime_active_time`)).toBe('0\n');
      expect(sysfs.read(`${dir}/runtime_suspended_time`)).toBe('0\n');
      expect(sysfs.read(`${dir}/control`)).toBe('auto\n');
      expect(() => sysfs.read(`${dir}/autosuspend_delay_ms`)).toThrow(errno('EIO'));
      expect(() => sysfs.write(`${dir}/autosuspend_delay_ms`, '100')).toThrow(errno('EIO'));
      sysfs.write(`${dir}/control`, 'on\n');
      expect(sysfs.read(`${dir}/control`)).toBe('on\n');
      expect(() => sysfs.write(`${dir}/control`, 'off')).toThrow(errno('EINVAL'));
      expect(sysfs.read(`${dir}/control`)).toBe('on\n');
      sysfs.write(`${dir}/control`, 'auto');
      expect(sysfs.read(`${dir}/control`)).toBe('auto\n');
      expect(sysfs.read(`${dir}/runtime_status`)).toBe('unsupported\n');
    }
    // one block's control is its own
    sysfs.write('/sys/devices/system/memory/memory2/power/control', 'on');
    expect(sysfs.read('/sys/devices/system/memory/memory3/power/control')).toBe('auto\n');
  });
});
