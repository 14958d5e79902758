/**
 * The flattened device tree: how a powerpc machine tells the kernel where
 * its memory is.
 *
 * Open Firmware (or QEMU acting as it) describes the machine as a tree of
 * nodes with properties; each property value is a string of bytes, usually
 * big-endian 32-bit cells. Memory is described three ways:
 *
 * ```
 *   / {
 *       #address-cells = <0x02>;              addresses and sizes are 2 cells (64 bits)
 *       #size-cells = <0x02>;
 *
 *       memory@0 {                            boot RAM, one node per range
 *           device_type = "memory";
 *           reg = <0x00 0x00 0x00 0x80000000>;        base 0, size 2 GiB
 *           ibm,associativity = <0x04 0x00 0x00 0x00 0x00>;   NUMA node 0
 *       };
 *
 *       ibm,dynamic-reconfiguration-memory {  pseries: memory in LMBs that can come and go
 *           ibm,lmb-size = <0x00 0x10000000>;          256 MiB: the memory block size
 *           ibm,dynamic-memory-v2 = <N  nr-lmbs base.hi base.lo drc-index aa-index flags ...>;
 *       };
 *
 *       pmem@100000000 {                      a persistent-memory range (of_pmem)
 *           compatible = "pmem-region";
 *           reg = <0x01 0x00 0x00 0x40000000>;
 *       };
 *   };
 * ```
 *
 * The kernel's early boot (`early_init_dt_scan_memory()`) reads every node
 * whose `device_type` is `"memory"` and adds its `reg` ranges to memblock;
 * pseries reads `ibm,lmb-size` as its memory block size
 * (`pseries_memory_block_size()`), and hot-plug adds LMBs through DLPAR; the
 * of_pmem driver turns each `pmem-region` into an NVDIMM region.
 *
 * The LMB table comes in two encodings. `ibm,dynamic-memory` (v1) has one
 * entry per LMB; `ibm,dynamic-memory-v2` has one per *set* of consecutive
 * LMBs that share their flags and node (`seq_lmbs`, the first LMB's address
 * and DRC index, the associativity index, the flags). A guest asks for v2 in
 * option vector 5 of its client-architecture-support call
 * (`OV5_DRMEM_V2`, byte 22 of v5.13's prom_init.c `ibm_architecture_vec`),
 * and QEMU, which answers CAS by rebuilding the tree, then writes v2
 * (`spapr_dt_dynamic_reconfiguration_memory()` tests the negotiated vector).
 * A v5.13 guest of QEMU 6.0 therefore parses v2.
 *
 * This file keeps a tree as plain data, builds the tree QEMU's `pseries`
 * machine gives a guest (`spapr_dt_memory()`,
 * `spapr_dt_dynamic_reconfiguration_memory()` in hw/ppc/spapr.c, QEMU 6.0),
 * scans it the way the kernel does, and prints it as `dtc -I dtb -O dts`
 * prints a blob (types guessed from the bytes, as dtc's treesource.c does).
 */
import { KernelError, SZ_1G, SZ_256M, align, checkUnsigned } from '@zonedev/kernel';
import { argBoolean, argNode, argObject, argObjects, argString, argUnsigned } from '../args.js';

/**
 * A property: a name and its bytes.
 *
 * @public
 */
export interface FdtProperty {
  /** Property name. */
  readonly name: string;
  /** Property value, as stored in the blob (big-endian cells). */
  readonly value: Uint8Array;
}

/**
 * A node: a name (`memory@0`; `''` for the root), properties, children.
 *
 * @public
 */
export interface FdtNode {
  /** Node name with unit address (`memory@0`). */
  readonly name: string;
  /** Its properties, in order. */
  readonly props: readonly FdtProperty[];
  /** Its child nodes, in order. */
  readonly children: readonly FdtNode[];
}

/**
 * A node.
 *
 * @public
 */
export function fdtNode(name: string, props: readonly FdtProperty[] = [], children: readonly FdtNode[] = []): FdtNode {
  return { name, props, children };
}

/**
 * A property without a value (`volatile;`).
 *
 * @public
 */
export function propEmpty(name: string): FdtProperty {
  return { name, value: new Uint8Array(0) };
}

/**
 * A string-list property: each string NUL-terminated.
 *
 * @public
 */
export function propStrings(name: string, ...strings: readonly string[]): FdtProperty {
  const bytes: number[] = [];
  for (const s of strings) {
    for (const ch of s) bytes.push(ch.charCodeAt(0) % 256);
    bytes.push(0);
  }
  return { name, value: Uint8Array.from(bytes) };
}

/**
 * A property of big-endian 32-bit cells.
 *
 * @public
 */
export function propCells(name: string, ...cells: readonly number[]): FdtProperty {
  const v = new Uint8Array(cells.length * 4);
  const dv = new DataView(v.buffer);
  cells.forEach((c, i) => dv.setUint32(i * 4, ((c % 2 ** 32) + 2 ** 32) % 2 ** 32));
  return { name, value: v };
}

/**
 * A value as `n` 32-bit cells, most significant first (a 64-bit address is 2 cells).
 *
 * @public
 */
export function toCells(value: number, n: number): number[] {
  const out: number[] = [];
  let v = value;
  for (let i = 0; i < n; i++) {
    out.unshift(v % 2 ** 32);
    v = Math.floor(v / 2 ** 32);
  }
  return out;
}

/** Reads `n` cells at cell offset `at` as one number. */
function readCells(value: Uint8Array, at: number, n: number): number {
  const dv = new DataView(value.buffer, value.byteOffset, value.byteLength);
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 2 ** 32 + dv.getUint32((at + i) * 4);
  return v;
}

/**
 * The node at `path` (`/ibm,dynamic-reconfiguration-memory`), or undefined.
 *
 * @public
 */
export function fdtFindNode(root: FdtNode, path: string): FdtNode | undefined {
  argNode('fdtFindNode', root);
  argString('fdtFindNode', 'path', path);
  let node: FdtNode | undefined = root;
  for (const part of path.split('/').filter((p) => p !== '')) {
    node = node?.children.find((c) => c.name === part);
  }
  return node;
}

/**
 * A property of a node, or undefined.
 *
 * @public
 */
export function fdtGetProp(node: FdtNode, name: string): Uint8Array | undefined {
  argNode('fdtGetProp', node);
  argString('fdtGetProp', 'name', name);
  return node.props.find((p) => p.name === name)?.value;
}

/** A property's first cell, or `fallback`. */
function cellProp(node: FdtNode, name: string, fallback: number): number {
  const v = fdtGetProp(node, name);
  return v !== undefined && v.length >= 4 ? readCells(v, 0, 1) : fallback;
}

/**
 * A property as a string (up to its first NUL), or undefined.
 *
 * @public
 */
export function fdtGetString(node: FdtNode, name: string): string | undefined {
  argNode('fdtGetString', node);
  argString('fdtGetString', 'name', name);
  const v = fdtGetProp(node, name);
  if (v === undefined) return undefined;
  let s = '';
  for (const b of v) {
    if (b === 0) break;
    s += String.fromCharCode(b);
  }
  return s;
}

/**
 * One range of memory a tree describes.
 *
 * @public
 */
export interface FdtMemoryRange {
  /** Physical start (`reg`). */
  readonly base: number;
  /** Size in bytes (`reg`). */
  readonly size: number;
  /** The node it came from. */
  readonly node: string;
}

/**
 * `early_init_dt_scan_memory()`: the `reg` ranges of every top-level node
 * whose `device_type` is `"memory"`, in tree order, using the root's
 * `#address-cells`/`#size-cells` (default 1 and 1); empty ranges are skipped.
  *
  * @public
 */
export function fdtMemoryRanges(root: FdtNode): FdtMemoryRange[] {
  argNode('fdtMemoryRanges', root);
  const ac = cellProp(root, '#address-cells', 1);
  const sc = cellProp(root, '#size-cells', 1);
  const out: FdtMemoryRange[] = [];
  for (const node of root.children) {
    if (fdtGetString(node, 'device_type') !== 'memory') continue;
    const reg = fdtGetProp(node, 'linux,usable-memory') ?? fdtGetProp(node, 'reg');
    if (reg === undefined) continue;
    const entry = ac + sc;
    for (let i = 0; (i + entry) * 4 <= reg.length; i += entry) {
      const base = readCells(reg, i, ac);
      const size = readCells(reg, i + ac, sc);
      if (size === 0) continue;
      out.push({ base, size, node: node.name });
    }
  }
  return out;
}

/**
 * `ibm,lmb-size` of `/ibm,dynamic-reconfiguration-memory` (pseries' memory block size), or undefined.
 *
 * @public
 */
export function fdtLmbSize(root: FdtNode): number | undefined {
  argNode('fdtLmbSize', root);
  const drconf = fdtFindNode(root, '/ibm,dynamic-reconfiguration-memory');
  const v = drconf === undefined ? undefined : fdtGetProp(drconf, 'ibm,lmb-size');
  return v === undefined ? undefined : readCells(v, 0, v.length / 4);
}

/**
 * A `pmem-region` node's range.
 *
 * @public
 */
export interface FdtPmemRegion {
  /** Physical start (`reg`). */
  readonly base: number;
  /** Size in bytes (`reg`). */
  readonly size: number;
  /** `volatile`: not persistent (the region is then a volatile NVDIMM region). */
  readonly volatile: boolean;
  /** The node it came from. */
  readonly node: string;
}

/**
 * The nodes compatible with `"pmem-region"` (what of_pmem binds to), in tree order.
 *
 * @public
 */
export function fdtPmemRegions(root: FdtNode): FdtPmemRegion[] {
  argNode('fdtPmemRegions', root);
  const ac = cellProp(root, '#address-cells', 1);
  const sc = cellProp(root, '#size-cells', 1);
  const out: FdtPmemRegion[] = [];
  for (const node of root.children) {
    const compat = fdtGetProp(node, 'compatible');
    if (compat === undefined) continue;
    const names = String.fromCharCode(...compat).split('\0');
    if (!names.includes('pmem-region') && !names.includes('pmem-region-v2')) continue;
    const reg = fdtGetProp(node, 'reg');
    if (reg === undefined) continue;
    for (let i = 0; (i + ac + sc) * 4 <= reg.length; i += ac + sc) {
      out.push({
        base: readCells(reg, i, ac),
        size: readCells(reg, i + ac, sc),
        volatile: fdtGetProp(node, 'volatile') !== undefined,
        node: node.name,
      });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// printing, as dtc -O dts

function isString(b: number): boolean {
  return (b >= 0x20 && b < 0x7f) || b === 0 || (b >= 7 && b <= 13);
}

/** `guess_value_type()`: string, 32-bit cells, or bytes. */
function guessType(v: Uint8Array): 'string' | 'cells' | 'bytes' {
  let nnotstring = 0;
  let nnul = 0;
  for (const b of v) {
    if (!isString(b)) nnotstring++;
    if (b === 0) nnul++;
  }
  if (v[v.length - 1] === 0 && nnotstring === 0 && nnul <= v.length - nnul) return 'string';
  return v.length % 4 === 0 ? 'cells' : 'bytes';
}

const ESCAPES: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 0x5c: '\\\\', 0x22: '\\"' };

function stringValue(v: Uint8Array): string {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < v.length; i++) {
    const b = v[i]!;
    if (b === 0) {
      parts.push(`"${cur}"`);
      cur = '';
      continue;
    }
    cur += ESCAPES[b] ?? (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`);
  }
  return parts.join(', ');
}

function propValue(v: Uint8Array): string {
  switch (guessType(v)) {
    case 'string':
      return stringValue(v);
    case 'cells': {
      const cells: string[] = [];
      for (let i = 0; i < v.length / 4; i++) cells.push(`0x${readCells(v, i, 1).toString(16).padStart(2, '0')}`);
      return `<${cells.join(' ')}>`;
    }
    default:
      return `[${[...v].map((b) => b.toString(16).padStart(2, '0')).join(' ')}]`;
  }
}

function printNode(node: FdtNode, level: number): string {
  const tab = '\t'.repeat(level);
  let s = `${tab}${node.name === '' ? '/' : node.name} {\n`;
  for (const p of node.props) {
    s += p.value.length === 0 ? `${tab}\t${p.name};\n` : `${tab}\t${p.name} = ${propValue(p.value)};\n`;
  }
  for (const c of node.children) s += `\n${printNode(c, level + 1)}`;
  return `${s}${tab}};\n`;
}

/**
 * The tree as `dtc -I dtb -O dts` prints it: `/dts-v1/;`, a blank line, the
 * memory reservations, then the nodes, tab-indented, each node's properties
 * before its children, a blank line before each child.
  *
  * @public
 */
export function printDts(root: FdtNode, memreserve: readonly { address: number; size: number }[] = []): string {
  argNode('printDts', root);
  argObjects('printDts', 'memreserve', memreserve);
  let s = '/dts-v1/;\n\n';
  for (const r of memreserve) {
    s += `/memreserve/\t0x${r.address.toString(16).padStart(16, '0')} 0x${r.size.toString(16).padStart(16, '0')};\n`;
  }
  return s + printNode(root, 0);
}

// ---------------------------------------------------------------------------
// QEMU's pseries tree

/**
 * `SPAPR_MEMORY_BLOCK_SIZE`: the LMB size of QEMU's pseries machine.
 *
 * @public
 */
export const SPAPR_MEMORY_BLOCK_SIZE: number = SZ_256M;
/**
 * `SPAPR_DEVICE_MEM_ALIGN`: the hot-plug region starts at the next 1 GiB.
 *
 * @public
 */
export const SPAPR_DEVICE_MEM_ALIGN: number = SZ_1G;
/**
 * `SPAPR_LMB_FLAGS_ASSIGNED`.
 *
 * @public
 */
export const SPAPR_LMB_FLAGS_ASSIGNED = 0x8;
/**
 * `SPAPR_LMB_FLAGS_DRC_INVALID`.
 *
 * @public
 */
export const SPAPR_LMB_FLAGS_DRC_INVALID = 0x20;
/**
 * `SPAPR_LMB_FLAGS_RESERVED`.
 *
 * @public
 */
export const SPAPR_LMB_FLAGS_RESERVED = 0x80;
/**
 * The DRC index of an LMB: type LMB (8) in the top nibble, the LMB number below.
 *
 * @public
 */
export function spaprLmbDrcIndex(lmb: number): number {
  checkUnsigned('spapr_lmb_drc_index', 'lmb', lmb, 0x7fffffff);
  return 0x80000000 + lmb;
}

/**
 * The pseries machine's memory settings.
 *
 * @public
 */
export interface SpaprOptions {
  /** `-m SIZE`. */
  readonly ramSize: number;
  /** `maxmem=` (default `ramSize`: no hot-plug). */
  readonly maxmem?: number;
  /** NUMA nodes (default 1); RAM is split as QEMU's `numa_default_auto_assign_ram()` does. */
  readonly numaNodes?: number;
  /** Persistent-memory ranges to describe as `pmem-region` nodes. */
  readonly pmem?: readonly { readonly base: number; readonly size: number; readonly volatile?: boolean }[];
  /**
   * Whether the guest's client-architecture-support call negotiated
   * `OV5_DRMEM_V2` (default true: v5.13's prom_init.c asks for it and QEMU
   * 6.0 grants it, so the tree the kernel parses has
   * `ibm,dynamic-memory-v2`); false gives the tree before CAS, with
   * `ibm,dynamic-memory`.
   */
  readonly drmemV2?: boolean;
}

/**
 * `numa_mem_align_shift` of the pseries machine: nodes are split on 256 MiB boundaries.
 *
 * @public
 */
export const SPAPR_NUMA_MEM_ALIGN: number = SZ_256M;

/**
 * `numa_default_auto_assign_ram()`: equal shares rounded down to `alignment`,
 * the remainder on the last node.
  *
  * @public
 */
export function numaSplit(size: number, nodes: number, alignment: number): number[] {
  checkUnsigned('numa_split', 'size', size);
  checkUnsigned('numa_split', 'nodes', nodes, 1024);
  checkUnsigned('numa_split', 'alignment', alignment);
  if (nodes < 1 || alignment < 1) throw new KernelError('EINVAL', `numa_split: ${nodes} nodes, alignment ${alignment}`);
  const out: number[] = [];
  let used = 0;
  for (let i = 0; i < nodes - 1; i++) {
    const share = Math.floor(size / nodes / alignment) * alignment;
    out.push(share);
    used += share;
  }
  out.push(size - used);
  return out;
}

/** `spapr_numa_write_associativity_dt()`: `<4 0 0 0 node>`. */
function associativity(node: number): FdtProperty {
  return propCells('ibm,associativity', 4, 0, 0, 0, node);
}

function memoryNode(start: number, size: number, node: number): FdtNode {
  return fdtNode(`memory@${start.toString(16)}`, [
    propStrings('device_type', 'memory'),
    propCells('reg', ...toCells(start, 2), ...toCells(size, 2)),
    associativity(node),
  ]);
}

/** `ctzl()`: trailing zero bits of a positive number. */
function ctz(v: number): number {
  let n = 0;
  while (v % 2 ** (n + 1) === 0) n++;
  return n;
}

/**
 * The tree QEMU's pseries machine builds for `-m ramSize[,maxmem=]` with
 * `numaNodes` nodes: `memory@` nodes for the boot RAM (node 0's RMA-sized
 * first node at 0, the rest split in naturally aligned power-of-two
 * chunks), the dynamic-reconfiguration node when there is hot-plug room,
 * and one `pmem-region` node per persistent range.
  *
  * @public
 */
export function spaprDeviceTree(options: SpaprOptions): FdtNode {
  argObject('spaprDeviceTree', 'options', options);
  argUnsigned('spaprDeviceTree', 'ramSize', options.ramSize, 1);
  if (options.maxmem !== undefined) argUnsigned('spaprDeviceTree', 'maxmem', options.maxmem, 1);
  if (options.numaNodes !== undefined) argUnsigned('spaprDeviceTree', 'numaNodes', options.numaNodes, 1);
  if (options.drmemV2 !== undefined) argBoolean('spaprDeviceTree', 'drmemV2', options.drmemV2);
  if (options.pmem !== undefined) argObjects('spaprDeviceTree', 'pmem', options.pmem);
  const ram = options.ramSize;
  const maxmem = options.maxmem ?? ram;
  const nodes = numaSplit(ram, Math.max(1, options.numaNodes ?? 1), SPAPR_NUMA_MEM_ALIGN);
  const children: FdtNode[] = [];

  // spapr_dt_memory(): the RMA is all of node 0 (pseries-6.0 has no rma_limit).
  let memStart = 0;
  nodes.forEach((nodeMem, i) => {
    if (nodeMem === 0) return;
    let nodeSize = memStart >= ram ? 0 : Math.min(nodeMem, ram - memStart);
    if (memStart === 0) {
      children.push(memoryNode(0, nodeSize, i));
      memStart += nodeSize;
      nodeSize = 0;
    }
    while (nodeSize > 0) {
      let chunk = 2 ** Math.floor(Math.log2(nodeSize));
      if (ctz(memStart) < ctz(chunk)) chunk = 2 ** ctz(memStart);
      children.push(memoryNode(memStart, chunk, i));
      nodeSize -= chunk;
      memStart += chunk;
    }
  });

  if (maxmem > ram) {
    const base = align(ram, SPAPR_DEVICE_MEM_ALIGN);
    const lmb = SPAPR_MEMORY_BLOCK_SIZE;
    const nrLmbs = (base + (maxmem - ram)) / lmb;
    const firstDevice = base / lmb;
    // spapr_dt_dynamic_memory_v2(): LMB sets <seq_lmbs base.hi base.lo drc-index aa-index flags>,
    // one for the boot RAM and the gap up to device memory, one for each
    // stretch of device memory (no DIMM is plugged at boot).
    // spapr_dt_dynamic_memory(): one <addr.hi addr.lo drc-index 0 aa-index flags> per LMB.
    const v2 = options.drmemV2 ?? true;
    const reservedFlags = SPAPR_LMB_FLAGS_RESERVED + SPAPR_LMB_FLAGS_DRC_INVALID;
    const dyn: number[] = [];
    if (v2) {
      dyn.push(firstDevice < nrLmbs ? 2 : 1);
      dyn.push(firstDevice, 0, 0, 0, 0xffffffff, reservedFlags);
      if (firstDevice < nrLmbs) dyn.push(nrLmbs - firstDevice, ...toCells(base, 2), spaprLmbDrcIndex(firstDevice), 0xffffffff, 0);
    } else {
      dyn.push(nrLmbs);
      for (let i = 0; i < nrLmbs; i++) {
        const addr = toCells(i * lmb, 2);
        if (i >= firstDevice) dyn.push(...addr, spaprLmbDrcIndex(i), 0, 0xffffffff, 0);
        else dyn.push(...addr, 0, 0, 0xffffffff, reservedFlags);
      }
    }
    const lookup: number[] = [nodes.length, 4];
    nodes.forEach((_, i) => lookup.push(0, 0, 0, i));
    children.push(
      fdtNode('ibm,dynamic-reconfiguration-memory', [
        propCells('ibm,lmb-size', ...toCells(lmb, 2)),
        propCells('ibm,memory-flags-mask', 0xff),
        propCells('ibm,memory-preservation-time', 0),
        propCells(v2 ? 'ibm,dynamic-memory-v2' : 'ibm,dynamic-memory', ...dyn),
        propCells('ibm,associativity-lookup-arrays', ...lookup),
      ]),
    );
  }

  for (const p of options.pmem ?? []) {
    const props = [propStrings('compatible', 'pmem-region'), propCells('reg', ...toCells(p.base, 2), ...toCells(p.size, 2))];
    if (p.volatile === true) props.push(propEmpty('volatile'));
    children.push(fdtNode(`pmem@${p.base.toString(16)}`, props));
  }

  return fdtNode(
    '',
    [
      propStrings('compatible', 'qemu,pseries'),
      propStrings('model', 'IBM pSeries (emulated by qemu)'),
      propStrings('device_type', 'chrp'),
      propCells('#address-cells', 2),
      propCells('#size-cells', 2),
    ],
    children,
  );
}
