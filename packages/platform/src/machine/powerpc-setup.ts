/**
 * Early boot on powerpc64 (QEMU `pseries`): from the flattened device tree
 * to the memblock the mm core boots from.
 *
 * ```
 *   QEMU's device tree, as rebuilt after client-architecture-support (prom_init
 *   asks for OV5_DRMEM_V2, QEMU 6.0 grants it)
 *     memory@0, memory@40000000 ...   reg + ibm,associativity (the node)
 *     ibm,dynamic-reconfiguration-memory   ibm,lmb-size, ibm,dynamic-memory-v2:
 *                                          the LMBs to come, as LMB sets (drmem.c)
 *           │
 *           ▼  early_init_dt_scan_memory()          mem=  memory_limit
 *   memblock.memory (each range on its node)  ──► memblock_enforce_memory_limit()
 *   memblock.reserved: the kernel image at 0, NODE_DATA(n)
 *   iomem: one "System RAM" per memblock region (add_system_ram_resources())
 *   /sys/firmware/devicetree/base: the unflattened tree
 * ```
 *
 * Mirrors arch/powerpc/kernel/prom.c, arch/powerpc/mm/numa.c,
 * arch/powerpc/mm/drmem.c and arch/powerpc/mm/mem.c of Linux v5.13.
 */
import { IORESOURCE_BUSY, IORESOURCE_SYSTEM_RAM, KernelError, Resource, checkUnsigned, memparse, orBits } from '@zonedev/kernel';
import type { Kernel } from '@zonedev/kernel';
import type { BootMemblock } from '@zonedev/sparse-vmemmap';
import {
  fdtFindNode,
  fdtGetProp,
  fdtLmbSize,
  fdtMemoryRanges,
  spaprDeviceTree,
  type FdtNode,
} from '../powerpc/fdt.js';
import { PPC_MIN_MEMORY_BLOCK_SIZE, pseriesMemoryBlockSize } from '../powerpc/profile.js';
import type { MachineOptions } from './options.js';
import { splitCmdline } from '../x86/e820.js';
import { BootError, hex10, type KernelSizes } from './util.js';

/**
 * A range of boot memory and its node.
 *
 * @public
 */
export interface BootMemoryRange {
  /** Physical start. */
  readonly base: number;
  /** Size in bytes. */
  readonly size: number;
  /** The node `ibm,associativity` names. */
  readonly nid: number;
}

/**
 * What powerpc boot found.
 *
 * @public
 */
export interface PowerpcBootInfo {
  /** The flattened device tree QEMU built (`spapr_build_fdt()`). */
  readonly deviceTree: FdtNode;
  /** Boot memory as the tree describes it, each range with its node. */
  readonly memory: readonly BootMemoryRange[];
  /** `memory_limit` (`mem=`), if given. */
  readonly memoryLimit: number | undefined;
  /** `pseries_memory_block_size()`. */
  readonly blockSize: number;
  /** The hot-plug region `[start, end)` of the LMBs, if the tree has one. */
  readonly hotplugRegion: { readonly start: number; readonly end: number } | undefined;
  /** Online nodes (those with memory). */
  readonly nodes: readonly number[];
  /** The kernel image `[0, end)`. */
  readonly imageEnd: number;
  /** `__pa_symbol(__init_begin)`: where the radix linear map's first boundary is. */
  readonly initBegin: number;
  /** `radix_mem_block_size` (`radix_memory_block_size()`): the largest radix linear-map step. */
  readonly radixMemBlockSize: number;
}

/** `pg_data_t` of this configuration (NODES_SHIFT 8, three zones), rounded to a cache line. */
export const PPC_NODE_DATA_SIZE = 0x7a80;

/** The kernel image's sections, in bytes (a v5.13 ppc64le distribution kernel). */
export const PPC_KERNEL_SIZES: KernelSizes = { code: 14720 * 1024, rodata: 3456 * 1024, rwdata: 2304 * 1024, init: 1664 * 1024, bss: 1536 * 1024 };

/** `STRICT_ALIGN_SIZE` of a ppc64 `STRICT_KERNEL_RWX` kernel: `1 << CONFIG_DATA_SHIFT` (24). */
export const PPC_STRICT_ALIGN_SIZE: number = 16 * 2 ** 20;

/**
 * `__init_begin` (arch/powerpc/kernel/vmlinux.lds.S): after the text and
 * rodata, aligned to `STRICT_ALIGN_SIZE`; the kernel runs at physical 0.
 */
export function ppcInitBegin(): number {
  const s = PPC_KERNEL_SIZES;
  return Math.ceil((s.code + s.rodata) / PPC_STRICT_ALIGN_SIZE) * PPC_STRICT_ALIGN_SIZE;
}

/**
 * `direct_pages_count[]` of a radix kernel in bytes by page size.
 *
 * @public
 */
export interface RadixDirectPages {
  /** Bytes mapped with 4 KiB pages. */
  readonly k4: number;
  /** Bytes mapped with 64 KiB pages. */
  readonly k64: number;
  /** Bytes mapped with 2 MiB pages. */
  readonly m2: number;
  /** Bytes mapped with 1 GiB pages. */
  readonly g1: number;
}

/**
 * `create_physical_mapping()` (arch/powerpc/mm/book3s64/radix_pgtable.c,
 * v5.13) on a 64K-page radix kernel: maps `[start, end)` (rounded inwards to
 * whole pages) in steps of 1 GiB where aligned and the gap allows, else
 * 2 MiB, else a base page; the gap stops at `__init_begin` while below it
 * (`next_boundary()`, STRICT_KERNEL_RWX) and never exceeds
 * `maxMappingSize` (`radix_mem_block_size`). Adds each step to `acc`
 * (`update_page_count()`), in bytes.
  *
  * @public
 */
export function radixCreatePhysicalMapping(
  start: number,
  end: number,
  maxMappingSize: number,
  initBegin: number,
  acc: { k4: number; k64: number; m2: number; g1: number },
): void {
  for (const [what, v] of [['start', start], ['end', end], ['max_mapping_size', maxMappingSize], ['init_begin', initBegin]] as const) {
    checkUnsigned('radix__create_physical_mapping', what, v);
  }
  if (maxMappingSize < 1) throw new KernelError('EINVAL', 'radix__create_physical_mapping: max_mapping_size 0');
  if (typeof acc !== 'object' || acc === null) throw new KernelError('EINVAL', `radix__create_physical_mapping: invalid acc ${String(acc)}`);
  for (const k of ['k4', 'k64', 'm2', 'g1'] as const) checkUnsigned('radix__create_physical_mapping', `acc.${k}`, acc[k]);
  const PAGE = 65536;
  const PMD = 2 ** 21;
  const PUD = 2 ** 30;
  const e = Math.floor(end / PAGE) * PAGE;
  let addr = Math.ceil(start / PAGE) * PAGE;
  while (addr < e) {
    const boundary = addr < initBegin ? initBegin : e;
    const gap = Math.min(boundary - addr, maxMappingSize);
    if (addr % PUD === 0 && gap >= PUD) {
      acc.g1 += PUD;
      addr += PUD;
    } else if (addr % PMD === 0 && gap >= PMD) {
      // A run of 2 MiB steps: up to the boundary, or the next 1 GiB step.
      let stop = boundary;
      if (maxMappingSize >= PUD) stop = Math.min(stop, Math.ceil((addr + 1) / PUD) * PUD);
      const n = Math.max(1, Math.floor((stop - addr) / PMD));
      acc.m2 += n * PMD;
      addr += n * PMD;
    } else {
      acc.k64 += PAGE;
      addr += PAGE;
    }
  }
}

/** The node of a memory node: the last cell of `ibm,associativity` (QEMU writes `<4 0 0 0 node>`). */
function associativityNode(tree: FdtNode, path: string): number {
  const node = fdtFindNode(tree, path);
  const v = node === undefined ? undefined : fdtGetProp(node, 'ibm,associativity');
  if (v === undefined || v.length < 4) return 0;
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  return dv.getUint32(v.length - 4);
}

/** `struct drmem_lmb` (arch/powerpc/include/asm/drmem.h): one LMB as the kernel keeps it. */
interface DrmemLmb {
  readonly baseAddr: number;
  readonly drcIndex: number;
  readonly aaIndex: number;
  readonly flags: number;
}

/**
 * `init_drmem_lmbs()` (arch/powerpc/mm/drmem.c, v5.13): the LMBs of
 * `ibm,dynamic-reconfiguration-memory`, from `ibm,dynamic-memory` (v1: one
 * 6-cell entry per LMB, `read_drconf_v1_cell()`) if the tree has it, else
 * from `ibm,dynamic-memory-v2` (LMB sets, `read_drconf_v2_cell()`: a set of
 * `seq_lmbs` LMBs from `base_addr` with consecutive DRC indexes, one
 * associativity index and one flags word). Empty without either.
 */
function initDrmemLmbs(tree: FdtNode, lmbSize: number): DrmemLmb[] {
  const drconf = fdtFindNode(tree, '/ibm,dynamic-reconfiguration-memory');
  if (drconf === undefined) return [];
  const lmbs: DrmemLmb[] = [];
  const v1 = fdtGetProp(drconf, 'ibm,dynamic-memory');
  const v2 = v1 === undefined ? fdtGetProp(drconf, 'ibm,dynamic-memory-v2') : undefined;
  const prop = v1 ?? v2;
  if (prop === undefined) return lmbs;
  const dv = new DataView(prop.buffer, prop.byteOffset, prop.byteLength);
  const cell = (i: number): number => dv.getUint32(i * 4);
  const entries = cell(0);
  for (let i = 0, p = 1; i < entries; i++, p += 6) {
    if (v1 !== undefined) {
      // <addr.hi addr.lo drc-index reserved aa-index flags>
      lmbs.push({ baseAddr: cell(p) * 2 ** 32 + cell(p + 1), drcIndex: cell(p + 2), aaIndex: cell(p + 4), flags: cell(p + 5) });
      continue;
    }
    // <seq_lmbs base.hi base.lo drc-index aa-index flags>
    const base = cell(p + 1) * 2 ** 32 + cell(p + 2);
    for (let j = 0; j < cell(p); j++) {
      lmbs.push({ baseAddr: base + j * lmbSize, drcIndex: cell(p + 3) + j, aaIndex: cell(p + 4), flags: cell(p + 5) });
    }
  }
  return lmbs;
}

/** `DRCONF_MEM_RESERVED` (arch/powerpc/include/asm/drmem.h): an LMB of boot memory or the gap, never hot-plugged. */
const DRCONF_MEM_RESERVED = 0x80;

/** The LMB region of the dynamic-reconfiguration memory: from the first LMB not reserved to the end. */
function lmbRegion(tree: FdtNode): { start: number; end: number } | undefined {
  const lmb = fdtLmbSize(tree);
  if (lmb === undefined) return undefined;
  let start: number | undefined;
  let end = 0;
  for (const l of initDrmemLmbs(tree, lmb)) {
    // Boot memory and the gap are reserved (their v2 set still numbers its DRC indexes from 0).
    if (Math.floor(l.flags / DRCONF_MEM_RESERVED) % 2 === 1) continue;
    start ??= l.baseAddr;
    end = l.baseAddr + lmb;
  }
  return start === undefined ? undefined : { start, end };
}

/**
 * The powerpc half of boot: the device tree, memblock (with `mem=`), the
 * kernel image and NODE_DATA reservations, System RAM in iomem, the tree in
 * sysfs. Throws a {@link BootError} when there is no memory left.
 */
export function setupArchPowerpc(kernel: Kernel, options: MachineOptions, memblock: BootMemblock): PowerpcBootInfo {
  const log = kernel.log;
  const tree = spaprDeviceTree({ ramSize: options.ramSize, maxmem: options.maxmem, numaNodes: options.numa });
  log.info('Using pSeries machine description');

  // early_parse_mem(): memory_limit = PAGE_ALIGN(memparse(p)).
  let memoryLimit: number | undefined;
  for (const w of splitCmdline(options.cmdline)) {
    if (!w.startsWith('mem=')) continue;
    const v = memparse(w.slice(4)).value;
    memoryLimit = v === 0 ? undefined : Math.ceil(v / 65536) * 65536;
  }

  const ranges = fdtMemoryRanges(tree).map((r) => ({ base: r.base, size: r.size, nid: associativityNode(tree, `/${r.node}`) }));
  ranges.sort((a, b) => a.base - b.base);
  // memblock_enforce_memory_limit(): keep the first memory_limit bytes.
  let left = memoryLimit ?? Number.MAX_SAFE_INTEGER;
  const memory: BootMemoryRange[] = [];
  for (const r of ranges) {
    if (left <= 0) break;
    const size = Math.min(r.size, left);
    memory.push({ base: r.base, size, nid: r.nid });
    left -= size;
  }
  if (memory.length === 0) {
    log.emerg('Kernel panic - not syncing: no usable memory');
    throw new BootError('Kernel panic - not syncing: no usable memory');
  }
  for (const m of memory) memblock.addMemory(m.base, m.size, m.nid);

  // The kernel runs at 0 (real mode); its image is reserved first.
  const s = PPC_KERNEL_SIZES;
  const imageEnd = Math.ceil((s.code + s.rodata + s.rwdata + s.init + s.bss) / 65536) * 65536;
  memblock.reserve(0, imageEnd);

  // initmem_init() -> setup_node_data() for every online node.
  const nodes = [...new Set(memory.map((m) => m.nid))].sort((a, b) => a - b);
  for (const nid of nodes) {
    const pa = memblock.allocRaw(PPC_NODE_DATA_SIZE, 128, 0, nid, false);
    if (pa === undefined) throw new BootError(`Kernel panic - not syncing: Cannot allocate ${PPC_NODE_DATA_SIZE} bytes for node ${nid} data`);
    log.info(`numa:   NODE_DATA [mem ${hex10(pa)}-${hex10(pa + PPC_NODE_DATA_SIZE - 1)}]`);
    const tnid = memblock.nidOf(pa);
    if (tnid !== nid) log.info(`numa:     NODE_DATA(${nid}) on node ${tnid}`);
  }

  // add_system_ram_resources() (arch/powerpc/mm/mem.c): one busy "System RAM"
  // per memblock.memory region. memblock_merge_regions() joins only adjacent
  // regions of the same node, so each node's contiguous RAM is one line.
  const merged: { base: number; end: number; nid: number }[] = [];
  for (const m of memory) {
    const last = merged[merged.length - 1];
    if (last !== undefined && last.end === m.base && last.nid === m.nid) last.end = m.base + m.size;
    else merged.push({ base: m.base, end: m.base + m.size, nid: m.nid });
  }
  for (const m of merged) {
    kernel.iomem.requestResource(
      kernel.iomem.root,
      new Resource({ name: 'System RAM', start: m.base, end: m.end - 1, flags: orBits(IORESOURCE_SYSTEM_RAM, IORESOURCE_BUSY) }),
    );
  }
  exposeDeviceTree(kernel, tree, '/sys/firmware/devicetree/base');

  const blockSize = pseriesMemoryBlockSize(
    fdtLmbSize(tree),
    ranges.map((r) => ({ base: r.base, size: r.size })),
  );
  // radix_memory_block_size() (pseries): ibm,lmb-size, else MIN_MEMORY_BLOCK_SIZE.
  const radixMemBlockSize = fdtLmbSize(tree) ?? PPC_MIN_MEMORY_BLOCK_SIZE;
  return {
    deviceTree: tree,
    memory,
    memoryLimit,
    blockSize,
    hotplugRegion: lmbRegion(tree),
    nodes,
    imageEnd,
    initBegin: ppcInitBegin(),
    radixMemBlockSize,
  };
}

/**
 * The unflattened tree in sysfs: a directory per node, a read-only file per
 * property holding its raw bytes (one character per byte), and the `name`
 * property the kernel adds from the node name (`populate_properties()`).
 */
function exposeDeviceTree(kernel: Kernel, node: FdtNode, path: string): void {
  kernel.sysfs.createDir(path);
  const props = [...node.props];
  if (!props.some((p) => p.name === 'name')) {
    const at = node.name.indexOf('@');
    const base = at < 0 ? node.name : node.name.slice(0, at);
    props.push({ name: 'name', value: Uint8Array.from([...base].map((c) => c.charCodeAt(0)).concat([0])) });
  }
  for (const p of props) {
    const text = String.fromCharCode(...p.value);
    kernel.sysfs.createFile(`${path}/${p.name}`, { name: p.name, mode: 0o444, show: () => text });
  }
  for (const c of node.children) exposeDeviceTree(kernel, c, `${path}/${c.name}`);
}
