/**
 * NUMA nodes in sysfs and the node state masks (drivers/base/node.c,
 * include/linux/nodemask.h) — the part memory hotplug needs.
 *
 * Every online node is a device `nodeN` on the `node` bus, below
 * /sys/devices/system/node. Memory blocks are tied to their node by a pair
 * of symlinks, made when a block is created and removed with the block.
 * At boot (`register_one_node()` -> `link_mem_sections(MEMINIT_EARLY)`)
 * each node walks the blocks of its span and links every block that has a
 * present page of that node, so a block straddling a node boundary is
 * linked under BOTH nodes (and both `nodeN` links appear in its
 * directory); on hot-add (`MEMINIT_HOTPLUG`) all pages of the new blocks
 * belong to the given node, which every block is linked to:
 *
 * ```
 *   /sys/devices/system/node/
 *       possible  online  has_normal_memory  has_memory  has_cpu  ...  (%*pbl: "0-1")
 *       node0/
 *           memory32 -> ../../memory/memory32
 *   /sys/devices/system/memory/memory32/
 *           node0 -> ../../node/node0
 * ```
 *
 * The kernel keeps a set of node masks (`node_states[]`): which nodes are
 * possible, online, have memory (`N_MEMORY`), have memory usable by the
 * kernel (`N_NORMAL_MEMORY`, and `N_HIGH_MEMORY` which equals it on a
 * 64-bit kernel), have CPUs. `online_pages()`/`offline_pages()` move a node
 * in and out of the memory masks as its first memory comes and its last
 * memory goes, announcing it in the `memory_notify` argument.
 *
 * Each node device carries the read-only attributes of `node_dev_groups`
 * that need no memory counters: `cpumap` and `cpulist`
 * (`node_read_cpumap()`) and `distance` (`node_read_distance()`). The
 * machine has one CPU, cpu0 (`nr_cpu_ids` = 1), on the first node
 * registered at boot (the lowest online node); every other node has an
 * empty CPU mask. Without a SLIT the distance of a node to itself is
 * `LOCAL_DISTANCE` (10) and to any other node `REMOTE_DISTANCE` (20), as
 * the generic `__node_distance()` gives:
 *
 * ```
 *   node0/cpumap    "1\n"        node1/cpumap    "0\n"
 *   node0/cpulist   "0\n"        node1/cpulist   "\n"
 *   node0/distance  "10 20\n"    node1/distance  "20 10\n"
 * ```
 *
 * Given the machine's mm core, each node also has the counter files, read
 * from that node's `pglist_data` and zones when they are read: `meminfo`
 * (`node_read_meminfo()`: `si_meminfo_node()`'s managed and free pages, then
 * the node's and its zones' vmstat items in kB), `numastat`
 * (`node_read_numastat()`) and `vmstat` (`node_read_vmstat()`: every zone,
 * NUMA and node item, by the names of mm/vmstat.c). Like every device, a
 * node has a `power/` directory (see power.ts).
 */
import type { BusType, DeviceAttribute, Kernel } from '@zonedev/kernel';
import { Device, Kernel as KernelClass, KernelError, NUMA_NO_NODE, checkUnsigned, isKernelError } from '@zonedev/kernel';
import type { MmCore, PglistData } from '@zonedev/mmzone';
import { MmCore as MmCoreClass, NODE_STAT_IN_THP, NR_FREE_PAGES, nodeStatNames, numaStatNames, zonePageState, zoneStatNames } from '@zonedev/mmzone';

/**
 * A memory block as the node links see it: a registered device and the
 * node it is linked to (`memory_block.nid`).
 * @public
 */
export interface NodeLinkedBlock extends Device {
  /** The node the block is linked to (set when linked), or NUMA_NO_NODE. */
  nid: number;
}

/**
 * `enum node_states` (include/linux/nodemask.h), for a 64-bit kernel
 * (no `CONFIG_HIGHMEM`: `N_HIGH_MEMORY` is `N_NORMAL_MEMORY`).
 * @public
 */
export type NodeState = 'N_POSSIBLE' | 'N_ONLINE' | 'N_NORMAL_MEMORY' | 'N_HIGH_MEMORY' | 'N_MEMORY' | 'N_CPU' | 'N_GENERIC_INITIATOR';

/** EINVAL unless `mem` is a device with a node number (a memory block). */
function checkLinkedBlock(fn: string, mem: unknown): void {
  if (!(mem instanceof Device) || !Number.isInteger((mem as { nid?: unknown }).nid)) throw new KernelError('EINVAL', `${fn}: not a memory block: ${String(mem)}`);
}

/**
 * `bitmap_print_to_pagebuf(true, ...)` / `%*pbl`: a set of small integers as
 * a list of ranges, e.g. `0-2,4`; empty for none. EINVAL for a member that
 * is not a bit number (an unsigned integer).
 * @public
 */
export function formatNodeList(nodes: Iterable<number>): string {
  if (typeof nodes !== 'object' || nodes === null || typeof (nodes as Iterable<number>)[Symbol.iterator] !== 'function') throw new KernelError('EINVAL', 'bitmap_print_to_pagebuf: not a list of nodes');
  const s = [...new Set(nodes)].sort((a, b) => a - b);
  for (const nid of s) checkUnsigned('bitmap_print_to_pagebuf', 'bit', nid);
  const parts: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j]! + 1) j++;
    parts.push(i === j ? `${s[i]}` : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** `LOCAL_DISTANCE` (include/linux/topology.h): a node's distance to itself. */
const LOCAL_DISTANCE = 10;
/** `REMOTE_DISTANCE` (include/linux/topology.h): the default distance between two nodes. */
const REMOTE_DISTANCE = 20;
/** `nr_cpu_ids`: the model's machine has one CPU, cpu0. */
const NR_CPU_IDS = 1;

/**
 * `bitmap_print_to_pagebuf(false, ...)` / `%*pb` for a bitmap of `nbits`
 * bits: comma-separated 32-bit chunks in hex, most significant first, the
 * first chunk only as wide as its bits need (`bitmap_string()`), and a
 * newline. Works on the set bits given as numbers (no bitwise operators).
 */
function formatBitmapMask(bits: ReadonlySet<number>, nbits: number): string {
  const chunks: string[] = [];
  for (let start = Math.floor((nbits - 1) / 32) * 32; start >= 0; start -= 32) {
    const width = Math.min(32, nbits - start);
    let value = 0;
    for (let b = 0; b < width; b++) if (bits.has(start + b)) value += 2 ** b;
    const digits = chunks.length === 0 ? Math.ceil(width / 4) : 8;
    chunks.push(value.toString(16).padStart(digits, '0'));
  }
  return `${chunks.join(',')}\n`;
}

/**
 * The node subsystem of one machine: the `node` bus, node devices, the
 * memory-block links and `node_states[]`.
 * @public
 */
export class NodeSubsystem {
  /** `node_subsys`: the bus. */
  readonly bus: BusType;
  private readonly kernel: Kernel;
  private readonly devices = new Map<number, Device>();
  private readonly states = new Map<NodeState, Set<number>>();
  /** The node of cpu0 (`cpu_to_node(0)`): the first node registered, at boot. */
  private cpu0Nid: number | undefined;
  /** The mm core the counter files read (none: no `meminfo`, `numastat`, `vmstat`). */
  private readonly mm: MmCore | undefined;
  /** Each node's `power.runtime_auto` (`power/control`). */

  /**
   * @param possible - `node_possible_map`.
   * @param mm - the machine's mm core, for the counter files of each node.
   */
  constructor(kernel: Kernel, possible: Iterable<number>, mm?: MmCore) {
    if (!(kernel instanceof KernelClass)) throw new KernelError('EINVAL', `node: not a kernel: ${String(kernel)}`);
    if (typeof possible !== 'object' || possible === null || typeof (possible as Iterable<number>)[Symbol.iterator] !== 'function') throw new KernelError('EINVAL', 'node: the possible nodes are not a list');
    for (const nid of possible) checkUnsigned('node_possible_map', 'nid', nid, 0xffff);
    if (mm !== undefined && !(mm instanceof MmCoreClass)) throw new KernelError('EINVAL', 'node: not an mm core');
    this.kernel = kernel;
    this.mm = mm;
    this.bus = { name: 'node', devName: 'node' };
    for (const s of ['N_POSSIBLE', 'N_ONLINE', 'N_NORMAL_MEMORY', 'N_MEMORY', 'N_CPU', 'N_GENERIC_INITIATOR'] as const) {
      this.states.set(s, new Set());
    }
    for (const nid of possible) this.nodeSetState(nid, 'N_POSSIBLE');
  }

  private mask(state: NodeState): Set<number> {
    // N_HIGH_MEMORY == N_NORMAL_MEMORY without CONFIG_HIGHMEM.
    const m = this.states.get(state === 'N_HIGH_MEMORY' ? 'N_NORMAL_MEMORY' : state);
    if (m === undefined) throw new KernelError('EINVAL', `node: no node state ${String(state)}`);
    return m;
  }

  /** `node_state(node, state)`. */
  nodeState(nid: number, state: NodeState): boolean {
    return this.mask(state).has(nid);
  }

  /** `node_set_state(node, state)`. */
  nodeSetState(nid: number, state: NodeState): void {
    checkUnsigned('node_set_state', 'nid', nid);
    this.mask(state).add(nid);
  }

  /** `node_clear_state(node, state)`. */
  nodeClearState(nid: number, state: NodeState): void {
    checkUnsigned('node_clear_state', 'nid', nid);
    this.mask(state).delete(nid);
  }

  /** The nodes in a state, ascending (`for_each_node_state()`). */
  nodesInState(state: NodeState): number[] {
    return [...this.mask(state)].sort((a, b) => a - b);
  }

  /** `node_possible(nid)`. */
  nodePossible(nid: number): boolean {
    return this.nodeState(nid, 'N_POSSIBLE');
  }

  /** `node_online(nid)`. */
  nodeOnline(nid: number): boolean {
    return this.nodeState(nid, 'N_ONLINE');
  }

  /**
   * `node_dev_init()` (boot): registers the `node` subsystem with its
   * state files. Nodes are registered with {@link NodeSubsystem.registerOneNode}.
   */
  nodeDevInit(): void {
    const file = (name: string, state: NodeState): DeviceAttribute => ({
      name,
      mode: 0o444,
      show: () => `${formatNodeList(this.nodesInState(state))}\n`,
    });
    this.kernel.devices.subsysSystemRegister(this.bus, [
      {
        attrs: [
          file('possible', 'N_POSSIBLE'),
          file('online', 'N_ONLINE'),
          file('has_normal_memory', 'N_NORMAL_MEMORY'),
          file('has_memory', 'N_MEMORY'),
          file('has_cpu', 'N_CPU'),
          file('has_generic_initiator', 'N_GENERIC_INITIATOR'),
        ],
      },
    ]);
  }

  /** The device of node `nid` (`node_devices[nid]`), if registered. */
  nodeDevice(nid: number): Device | undefined {
    return this.devices.get(nid);
  }

  /** `node_set_online(nid)`. */
  nodeSetOnline(nid: number): void {
    this.nodeSetState(nid, 'N_ONLINE');
  }

  /** `node_set_offline(nid)`. */
  nodeSetOffline(nid: number): void {
    this.nodeClearState(nid, 'N_ONLINE');
  }

  /**
   * `__register_one_node(nid)`: registers `nodeN`. -EEXIST if it is
   * registered.
   */
  registerOneNode(nid: number): void {
    checkUnsigned('__register_one_node', 'nid', nid);
    if (this.devices.has(nid)) throw new KernelError('EEXIST', `node${nid} is already registered`);
    const dev = new Device({ bus: this.bus, id: nid, groups: [{ attrs: this.nodeDevAttrs() }] });
    this.kernel.devices.deviceRegister(dev);
    this.devices.set(nid, dev);
    // Boot registers the online nodes in ascending order: cpu0 is on the first.
    this.cpu0Nid ??= nid;
  }

  /**
   * `node_dev_attrs[]` (drivers/base/node.c): `cpumap`, `cpulist`
   * (`node_read_cpumap()` with `cpumap_print_to_pagebuf()`), `meminfo`,
   * `numastat`, `distance` (`node_read_distance()`) and `vmstat`, all 0444;
   * the three counter files only with an mm core to read.
   */
  private nodeDevAttrs(): DeviceAttribute[] {
    const attrs: DeviceAttribute[] = [
      { name: 'cpumap', mode: 0o444, show: (dev) => formatBitmapMask(this.cpumaskOfNode(dev.id!), NR_CPU_IDS) },
      { name: 'cpulist', mode: 0o444, show: (dev) => `${formatNodeList(this.cpumaskOfNode(dev.id!))}\n` },
    ];
    const mm = this.mm;
    if (mm !== undefined) {
      attrs.push({ name: 'meminfo', mode: 0o444, show: (dev) => nodeReadMeminfo(mm, dev.id!) });
      attrs.push({ name: 'numastat', mode: 0o444, show: (dev) => nodeReadNumastat(mm, dev.id!) });
    }
    attrs.push({ name: 'distance', mode: 0o444, show: (dev) => this.nodeReadDistance(dev.id!) });
    if (mm !== undefined) attrs.push({ name: 'vmstat', mode: 0o444, show: (dev) => nodeReadVmstat(mm, dev.id!) });
    return attrs;
  }

  /** `cpumask_of_node(nid) & cpu_online_mask`: {0} on cpu0's node, else empty. */
  private cpumaskOfNode(nid: number): Set<number> {
    return new Set(nid === this.cpu0Nid ? [0] : []);
  }

  /**
   * `node_read_distance()`: `node_distance(nid, i)` for every online node
   * `i` ascending, each but node 0's preceded by a space (the kernel tests
   * the node number, not the position, so a row that does not start at
   * node 0 begins with a space), then a newline.
   */
  private nodeReadDistance(nid: number): string {
    let out = '';
    for (const i of this.nodesInState('N_ONLINE')) {
      out += `${i === 0 ? '' : ' '}${i === nid ? LOCAL_DISTANCE : REMOTE_DISTANCE}`;
    }
    return `${out}\n`;
  }

  /** `unregister_one_node(nid)`: removes `nodeN` (no-op if absent). */
  unregisterOneNode(nid: number): void {
    checkUnsigned('unregister_one_node', 'nid', nid);
    const dev = this.devices.get(nid);
    if (dev === undefined) return;
    this.devices.delete(nid);
    this.kernel.devices.deviceUnregister(dev);
  }

  /**
   * `do_register_memory_block_under_node(nid, mem)`: records `nid` in the
   * block (for a block spanning several nodes, the last one linked wins,
   * as in v5.13) and creates `nodeN/memoryM` and `memoryM/nodeN`. An
   * existing link is kept (`sysfs_create_link_nowarn()`'s -EEXIST, ignored
   * by the callers). No-op while `nodeN` is not registered.
   */
  registerMemoryBlockUnderNode(nid: number, mem: NodeLinkedBlock): void {
    const node = this.devices.get(nid);
    if (node === undefined) return;
    mem.nid = nid;
    const core = this.kernel.devices;
    // do_register_memory_block_under_node(): sysfs_create_link_nowarn() both ways, an existing link (-EEXIST) is fine
    for (const [from, to] of [[node, mem], [mem, node]] as const) {
      try {
        core.sysfsCreateLinkNowarn(from, to, to.name!);
      } catch (e) {
        if (!isKernelError(e) || e.errno !== 'EEXIST') throw e;
      }
    }
  }

  /**
   * The nodes `mem` is linked under (the `nodeN` links in its directory),
   * ascending. A block whose pages belong to several nodes is linked under
   * each of them at boot (`register_mem_block_under_node_early()`).
   */
  memoryBlockNodes(mem: NodeLinkedBlock): number[] {
    checkLinkedBlock('memory block nodes', mem);
    if (!mem.registered) return [];
    const core = this.kernel.devices;
    const dir = core.devicePath(mem);
    const out: number[] = [];
    for (const [nid, node] of this.devices) {
      if (this.kernel.sysfs.isLink(`${dir}/${node.name!}`)) out.push(nid);
    }
    return out.sort((a, b) => a - b);
  }

  /**
   * `unregister_memory_block_under_nodes(mem)`: removes the block's node
   * links, `nodeN/memoryM` and `memoryM/nodeN`. v5.13 removes only the
   * links of `mem.nid`, because a block spanning several nodes cannot be
   * offlined ("multizone range") and so is never removed; the model removes
   * the links of every node the block is linked under, which is the same on
   * every state the kernel can reach and never leaves a dangling
   * `nodeN/memoryM` behind. No-op for a block never linked (NUMA_NO_NODE).
   */
  unregisterMemoryBlockUnderNodes(mem: NodeLinkedBlock): void {
    checkLinkedBlock('unregister_memory_block_under_nodes', mem);
    if (mem.nid === NUMA_NO_NODE) return;
    const core = this.kernel.devices;
    for (const nid of this.memoryBlockNodes(mem)) {
      const node = this.devices.get(nid)!;
      core.sysfsRemoveLink(node, mem.name!);
      core.sysfsRemoveLink(mem, node.name!);
    }
  }
}

/** `NODE_DATA(nid)` of a registered node (its pglist_data exists from boot or hot-add). */
function nodeData(mm: MmCore, nid: number): PglistData {
  const pgdat = mm.nodeData(nid);
  if (pgdat === undefined) throw new KernelError('ENODEV', `node${nid} has no pglist_data`);
  return pgdat;
}

/** `sum_zone_node_page_state(nid, item)`: a zone item summed over the node's zones. */
function sumZoneNodePageState(pgdat: PglistData, item: number): number {
  let n = 0;
  for (const z of pgdat.nodeZones) n += zonePageState(z, item);
  return n;
}

/** `sum_zone_numa_state(nid, item)`. */
function sumZoneNumaState(pgdat: PglistData, item: number): number {
  let n = 0;
  for (const z of pgdat.nodeZones) n += z.vmNumaStat[item] ?? 0;
  return n;
}

/**
 * `node_read_meminfo()` (drivers/base/node.c, v5.13): `Node N Label: %8lu kB`
 * lines. MemTotal and MemFree are `si_meminfo_node()`'s (managed and free
 * pages of the node's zones); the rest are the node's vmstat items (and the
 * zone items Mlocked and Bounce summed over its zones), in kB;
 * KernelStack and ShadowCallStack are kept in kB; NFS_Unstable is always 0.
 * CONFIG_TRANSPARENT_HUGEPAGE's five lines (in v5.13 their counters are in
 * base pages) and `hugetlb_report_node_meminfo()`'s three follow.
 */
function nodeReadMeminfo(mm: MmCore, nid: number): string {
  const pgdat = nodeData(mm, nid);
  const c = mm.config;
  const K = (pages: number): number => (pages * c.pageSize) / 1024;
  const names = nodeStatNames(c);
  const zoneNames = zoneStatNames(c);
  const node = (name: string): number => {
    const i = names.indexOf(name);
    return i < 0 ? 0 : (pgdat.vmStat[i] ?? 0);
  };
  const zoneSum = (name: string): number => sumZoneNodePageState(pgdat, zoneNames.indexOf(name));
  let totalram = 0;
  for (const z of pgdat.nodeZones) totalram += z.managedPages;
  const freeram = sumZoneNodePageState(pgdat, NR_FREE_PAGES);
  const sreclaimable = node('nr_slab_reclaimable');
  const sunreclaimable = node('nr_slab_unreclaimable');
  const rows: [string, number][] = [
    ['MemTotal:       ', K(totalram)],
    ['MemFree:        ', K(freeram)],
    ['MemUsed:        ', K(totalram - freeram)],
    ['Active:         ', K(node('nr_active_anon') + node('nr_active_file'))],
    ['Inactive:       ', K(node('nr_inactive_anon') + node('nr_inactive_file'))],
    ['Active(anon):   ', K(node('nr_active_anon'))],
    ['Inactive(anon): ', K(node('nr_inactive_anon'))],
    ['Active(file):   ', K(node('nr_active_file'))],
    ['Inactive(file): ', K(node('nr_inactive_file'))],
    ['Unevictable:    ', K(node('nr_unevictable'))],
    ['Mlocked:        ', K(zoneSum('nr_mlock'))],
    ['Dirty:          ', K(node('nr_dirty'))],
    ['Writeback:      ', K(node('nr_writeback'))],
    ['FilePages:      ', K(node('nr_file_pages'))],
    ['Mapped:         ', K(node('nr_mapped'))],
    ['AnonPages:      ', K(node('nr_anon_pages'))],
    ['Shmem:          ', K(node('nr_shmem'))],
    ['KernelStack:    ', node('nr_kernel_stack')],
  ];
  if (c.arch.shadowCallStack) rows.push(['ShadowCallStack:', node('nr_shadow_call_stack')]);
  rows.push(
    ['PageTables:     ', K(node('nr_page_table_pages'))],
    ['NFS_Unstable:   ', 0],
    ['Bounce:         ', K(zoneSum('nr_bounce'))],
    ['WritebackTmp:   ', K(node('nr_writeback_temp'))],
    ['KReclaimable:   ', K(sreclaimable + node('nr_kernel_misc_reclaimable'))],
    ['Slab:           ', K(sreclaimable + sunreclaimable)],
    ['SReclaimable:   ', K(sreclaimable)],
    ['SUnreclaim:     ', K(sunreclaimable)],
    ['AnonHugePages:  ', K(node('nr_anon_transparent_hugepages'))],
    ['ShmemHugePages: ', K(node('nr_shmem_hugepages'))],
    ['ShmemPmdMapped: ', K(node('nr_shmem_pmdmapped'))],
    ['FileHugePages: ', K(node('nr_file_hugepages'))],
    ['FilePmdMapped: ', K(node('nr_file_pmdmapped'))],
  );
  let out = '';
  for (const [label, v] of rows) out += `Node ${nid} ${label}${String(v).padStart(8)} kB\n`;
  // hugetlb_report_node_meminfo(): no huge pages are ever reserved in the model.
  out += `Node ${nid} HugePages_Total: ${String(0).padStart(5)}\n`;
  out += `Node ${nid} HugePages_Free:  ${String(0).padStart(5)}\n`;
  out += `Node ${nid} HugePages_Surp:  ${String(0).padStart(5)}\n`;
  return out;
}

/** `node_read_numastat()` (drivers/base/node.c, v5.13): the node's NUMA counters under their old names. */
function nodeReadNumastat(mm: MmCore, nid: number): string {
  const pgdat = nodeData(mm, nid);
  const labels = ['numa_hit', 'numa_miss', 'numa_foreign', 'interleave_hit', 'local_node', 'other_node'];
  return labels.map((l, i) => `${l} ${sumZoneNumaState(pgdat, i)}\n`).join('');
}

/**
 * `node_read_vmstat()` (drivers/base/node.c, v5.13): `name value` for every
 * zone item (summed over the node's zones), NUMA item and node item; the THP
 * node items in huge pages (`vmstat_item_print_in_thp()`).
 */
function nodeReadVmstat(mm: MmCore, nid: number): string {
  const pgdat = nodeData(mm, nid);
  const c = mm.config;
  let out = '';
  zoneStatNames(c).forEach((name, i) => {
    out += `${name} ${sumZoneNodePageState(pgdat, i)}\n`;
  });
  numaStatNames(c).forEach((name, i) => {
    out += `${name} ${sumZoneNumaState(pgdat, i)}\n`;
  });
  const hpagePmdNr = 2 ** ((c.pageShift === 12 ? 21 : 24) - c.pageShift);
  nodeStatNames(c).forEach((name, i) => {
    let pages = pgdat.vmStat[i] ?? 0;
    if (NODE_STAT_IN_THP.includes(name)) pages = Math.floor(pages / hpagePmdNr);
    out += `${name} ${pages}\n`;
  });
  return out;
}
