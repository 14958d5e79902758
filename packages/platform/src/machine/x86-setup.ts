/**
 * `setup_arch()` on x86_64, as far as memory goes: from the firmware's
 * E820 table to the memblock the mm core boots from.
 *
 * ```
 *   SeaBIOS E820 ──► BIOS-e820: lines ──► memmap=/mem= ──► user: lines
 *        │                                     │
 *        │                       trim_bios_range(), last_pfn = ...
 *        │                       (again for max_low_pfn when RAM is above 4 GiB)
 *        ▼                                     ▼
 *   QEMU's SRAT (ACPI) ──► ACPI: SRAT: Node N PXM N [mem ...] [hotplug]
 *        │                     NUMA: Node 0 [mem ..] + [mem ..] -> [mem ..]
 *        │              (none: "No NUMA configuration found", "Faking a node")
 *        ▼
 *   memblock.memory = e820 RAM, each piece on its node
 *   memblock.reserved = the first 1 MiB, the kernel image, NODE_DATA(n)
 *   iomem = the e820 table (+ Kernel code/rodata/data/bss inside System RAM)
 * ```
 *
 * QEMU gives a guest a SRAT when it has NUMA nodes, and a `pc` machine gets
 * one node automatically as soon as it has DIMM slots
 * (`auto_enable_numa_with_memhp`), so that the SRAT can describe the
 * hot-plug region: a memory affinity entry flagged hot-pluggable on the
 * last node (`build_srat()`). The kernel keeps that entry aside
 * (`numa_reserved_meminfo`): it covers no boot memory.
 *
 * Mirrors arch/x86/kernel/setup.c, arch/x86/kernel/e820.c,
 * arch/x86/mm/numa.c and drivers/acpi/numa/srat.c of Linux v5.13, with
 * QEMU 6.0's hw/i386/acpi-build.c `build_srat()`.
 */
import { IORESOURCE_BUSY, IORESOURCE_SYSTEM_RAM, SZ_1M, SZ_4G, orBits, Resource } from '@zonedev/kernel';
import type { Kernel } from '@zonedev/kernel';
import type { BootMemblock } from '@zonedev/sparse-vmemmap';
import {
  E820_TYPE_RAM,
  E820_TYPE_RESERVED_KERN,
  e820EndOfLowRamPfn,
  e820EndOfRamPfn,
  PFN_4G,
  e820FinishEarlyParams,
  e820ParseEarlyParams,
  e820PrintTable,
  e820ReserveResources,
  e820TrimBiosRange,
  e820TypeToString,
  type E820Table,
} from '../x86/e820.js';
import { pcMemoryLayout, seabiosE820, type PcMemoryLayout } from '../x86/qemu-pc.js';
import { numaSplit } from '../powerpc/fdt.js';
import type { MachineOptions } from './options.js';
import { BootError, hex10, hex18, type KernelSizes } from './util.js';
import { argArray, argFunction, argLayout, argObjects, argUnsigned } from '../args.js';

/**
 * `numa_mem_align_shift` of QEMU's pc machines: nodes split on 8 MiB boundaries.
 *
 * @public
 */
export const PC_NUMA_MEM_ALIGN: number = 8 * SZ_1M;

/**
 * One memory affinity structure of the SRAT QEMU builds.
 *
 * @public
 */
export interface SratMemory {
  /** Physical start (`base_address`). */
  readonly base: number;
  /** Length in bytes. */
  readonly length: number;
  /** Proximity domain (the node). */
  readonly node: number;
  /** `ACPI_SRAT_MEM_HOT_PLUGGABLE`. */
  readonly hotpluggable: boolean;
}

/**
 * A `struct numa_memblk`: `[start, end)` on a node.
 *
 * @public
 */
export interface NumaMemblk {
  /** Physical start. */
  start: number;
  /** Physical end (exclusive). */
  end: number;
  /** The node. */
  readonly nid: number;
}

/**
 * The x86 kernel image as the model lays it out (no KASLR: `_text` at 16 MiB).
 *
 * @public
 */
export interface KernelImage {
  /** `_text`. */
  readonly text: number;
  /** `_etext`. */
  readonly etext: number;
  /** `__start_rodata`. */
  readonly rodata: number;
  /** `__end_rodata`. */
  readonly erodata: number;
  /** `_sdata`. */
  readonly data: number;
  /** `_edata`. */
  readonly edata: number;
  /** `__init_begin`. */
  readonly init: number;
  /** `__init_end`. */
  readonly einit: number;
  /** `__bss_start`. */
  readonly bss: number;
  /** `__bss_stop`. */
  readonly ebss: number;
  /** `__end_of_kernel_reserve`: the end of what boot reserves. */
  readonly end: number;
}

/** Sizes of a v5.13 distribution kernel's sections, in bytes. */
export const X86_KERNEL_SIZES: KernelSizes = { code: 14345 * 1024, rodata: 5028 * 1024, rwdata: 2398 * 1024, init: 1432 * 1024, bss: 4372 * 1024 };

/** `CONFIG_PHYSICAL_START`: where the kernel runs without KASLR. */
export const X86_PHYSICAL_START = 0x1000000;

const PAGE = 4096;
const up = (v: number, a: number): number => Math.ceil(v / a) * a;

/**
 * The image's sections: text at 16 MiB, rodata on the next 2 MiB boundary
 * (`X86_ALIGN_RODATA_BEGIN`), data on the next, init and bss page-aligned.
 */
export function x86KernelImage(): KernelImage {
  const s = X86_KERNEL_SIZES;
  const text = X86_PHYSICAL_START;
  const etext = text + s.code;
  const rodata = up(etext, 2 * SZ_1M);
  const erodata = rodata + s.rodata;
  const data = up(erodata, 2 * SZ_1M);
  const edata = data + s.rwdata;
  const init = up(edata, PAGE);
  const einit = init + s.init;
  const bss = up(einit, PAGE);
  const ebss = bss + s.bss;
  return { text, etext, rodata, erodata, data, edata, init, einit, bss, ebss, end: up(ebss, PAGE) };
}

/**
 * What x86 boot found.
 *
 * @public
 */
export interface X86BootInfo {
  /** The RAM layout QEMU built (`pc_memory_init()`). */
  readonly layout: PcMemoryLayout;
  /** The table firmware handed over (`e820_table_firmware`). */
  readonly firmware: E820Table;
  /** The table after boot options and trimming (`e820_table`). */
  readonly table: E820Table;
  /** `max_pfn`. */
  readonly maxPfn: number;
  /** `mem=`'s limit, if given. */
  readonly maxMemSize: number | undefined;
  /** The SRAT QEMU built (empty without one). */
  readonly srat: readonly SratMemory[];
  /** `numa_meminfo` after cleanup. */
  readonly numaMeminfo: readonly NumaMemblk[];
  /** `numa_reserved_meminfo`: SRAT ranges without boot memory (the hot-plug region). */
  readonly numaReservedMeminfo: readonly NumaMemblk[];
  /** Nodes the SRAT names (`numa_nodes_parsed`), or [0]. */
  readonly nodes: readonly number[];
  /** Where the kernel image lies (its sections, in physical addresses). */
  readonly image: KernelImage;
  /** Options of the command line the kernel rejected. */
  readonly invalid: readonly string[];
}

/**
 * QEMU 6.0's `build_srat()` (hw/i386/acpi-build.c) memory affinity entries
 * for a `pc` machine: each node's share of RAM in RAM order, the 640K..1M
 * hole cut out of the node that spans it (the next node still starts where
 * this one's share ends: QEMU does not move `next_base` by the hole), the
 * part beyond the low RAM moved above 4 GiB; then the hot-plug region,
 * hot-pluggable, on the last node.
  *
  * @public
 */
export function qemuSrat(layout: PcMemoryLayout, nodeMem: readonly number[]): SratMemory[] {
  argLayout('qemuSrat', layout);
  argArray('qemuSrat', 'nodeMem', nodeMem);
  for (const b of nodeMem) argUnsigned('qemuSrat', 'nodeMem entry', b);
  const HOLE_640K_START = 640 * 1024;
  const HOLE_640K_END = SZ_1M;
  const out: SratMemory[] = [];
  let nextBase = 0;
  nodeMem.forEach((len, node) => {
    let memBase = nextBase;
    let memLen = len;
    nextBase = memBase + memLen;
    if (memBase <= HOLE_640K_START && nextBase > HOLE_640K_START) {
      memLen -= nextBase - HOLE_640K_START;
      if (memLen > 0) out.push({ base: memBase, length: memLen, node, hotpluggable: false });
      // The rare node that ends inside the hole: the next one starts at 1 MiB.
      if (nextBase <= HOLE_640K_END) {
        nextBase = HOLE_640K_END;
        return;
      }
      memBase = HOLE_640K_END;
      memLen = nextBase - HOLE_640K_END;
    }
    if (memBase <= layout.belowFourG && nextBase > layout.belowFourG) {
      memLen -= nextBase - layout.belowFourG;
      if (memLen > 0) out.push({ base: memBase, length: memLen, node, hotpluggable: false });
      memBase = SZ_4G;
      memLen = nextBase - layout.belowFourG;
      nextBase = memBase + memLen;
    }
    if (memLen > 0) out.push({ base: memBase, length: memLen, node, hotpluggable: false });
  });
  if (layout.deviceMemory !== undefined) {
    out.push({ base: layout.deviceMemory.base, length: layout.deviceMemory.size, node: nodeMem.length - 1, hotpluggable: true });
  }
  return out;
}

/**
 * `numa_cleanup_meminfo()`: blocks without boot memory move to the
 * reserved list; the rest are clipped to `[0, max_pfn)`; blocks of one node
 * whose gap holds no other node's memory are merged, each merge logged.
  *
  * @public
 */
export function numaCleanupMeminfo(
  blocks: readonly NumaMemblk[],
  maxPfn: number,
  hasMemory: (start: number, end: number) => boolean,
  log: (line: string) => void,
): { meminfo: NumaMemblk[]; reserved: NumaMemblk[] } {
  argObjects('numaCleanupMeminfo', 'blocks', blocks);
  argUnsigned('numaCleanupMeminfo', 'maxPfn', maxPfn);
  argFunction('numaCleanupMeminfo', 'hasMemory', hasMemory);
  argFunction('numaCleanupMeminfo', 'log', log);
  const mi: NumaMemblk[] = [];
  const reserved: NumaMemblk[] = [];
  const high = maxPfn * PAGE;
  for (const b of blocks) {
    if (!hasMemory(b.start, b.end)) {
      reserved.push({ ...b });
      continue;
    }
    const start = Math.max(b.start, 0);
    const end = Math.min(b.end, high);
    if (start < end) mi.push({ start, end, nid: b.nid });
  }
  for (let i = 0; i < mi.length; i++) {
    const bi = mi[i]!;
    for (let j = i + 1; j < mi.length; j++) {
      const bj = mi[j]!;
      if (bi.nid !== bj.nid) continue;
      const start = Math.min(bi.start, bj.start);
      const end = Math.max(bi.end, bj.end);
      if (mi.some((bk) => bk.nid !== bi.nid && start < bk.end && end > bk.start)) continue;
      log(
        `NUMA: Node ${bi.nid} [mem ${hex10(bi.start)}-${hex10(bi.end - 1)}] + [mem ${hex10(bj.start)}-${hex10(bj.end - 1)}] -> [mem ${hex10(start)}-${hex10(end - 1)}]`,
      );
      bi.start = start;
      bi.end = end;
      mi.splice(j--, 1);
    }
  }
  return { meminfo: mi, reserved };
}

/** `meminfo_to_nid()`: the node of the block holding `addr`, or -1. */
export function meminfoToNid(mi: readonly NumaMemblk[], addr: number): number {
  return mi.find((b) => addr >= b.start && addr < b.end)?.nid ?? -1;
}

/** `pg_data_t` of this configuration (NODES_SHIFT 10, five zones), rounded to a page. */
export const X86_NODE_DATA_SIZE = 0x2b000;

/**
 * The x86 half of boot: logs what the kernel logs, fills `memblock`, builds
 * the iomem tree and /sys/firmware/memmap. Throws an Error with QEMU's
 * message for settings QEMU refuses, a {@link BootError} for a panic.
 */
export function setupArchX86(kernel: Kernel, options: MachineOptions, memblock: BootMemblock, maxArchPfn: number): X86BootInfo {
  const log = kernel.log;
  log.info(`Command line: ${options.cmdline}`);
  const layout = pcMemoryLayout({ ramSize: options.ramSize, slots: options.slots, maxmem: options.maxmem });
  const firmware = seabiosE820(layout);

  log.info('BIOS-provided physical RAM map:');
  for (const line of e820PrintTable(firmware, 'BIOS-e820')) log.info(line);

  const params = e820ParseEarlyParams(firmware, options.cmdline);
  for (const line of params.log) {
    if (line.startsWith('e820: ')) log.debug(line);
    else log.warn(line);
  }
  const fin = e820FinishEarlyParams(params.table, params.userdef);
  if (fin.panic !== undefined) {
    log.emerg(`Kernel panic - not syncing: ${fin.panic}`);
    throw new BootError(`Kernel panic - not syncing: ${fin.panic}`);
  }
  for (const line of fin.log) log.info(line);
  const trimmed = e820TrimBiosRange(fin.table);
  for (const line of trimmed.log) log.debug(line);
  const end = e820EndOfRamPfn(trimmed.table, maxArchPfn);
  log.info(end.log);
  const table = trimmed.table;
  const maxPfn = end.pfn;
  if (maxPfn === 0) {
    log.emerg('Kernel panic - not syncing: no usable memory');
    throw new BootError('Kernel panic - not syncing: no usable memory');
  }
  // setup_arch(): max_low_pfn, from a second walk only when RAM reaches above 4 GiB.
  if (maxPfn > PFN_4G) log.info(e820EndOfLowRamPfn(table, maxArchPfn).log);

  // e820__memblock_setup(): every RAM entry, trimmed to whole pages later.
  const ram = table.filter((e) => e.type === E820_TYPE_RAM || e.type === E820_TYPE_RESERVED_KERN);
  const hasMemory = (s: number, e: number): boolean => ram.some((r) => s < r.addr + r.size && e > r.addr);

  // initmem_init() -> x86_numa_init(): the SRAT, or a faked node.
  const numaNodes = options.numa > 1 || options.slots > 0 ? options.numa : 0;
  let srat: SratMemory[] = [];
  let meminfo: NumaMemblk[];
  let reserved: NumaMemblk[] = [];
  let nodes: number[];
  if (numaNodes > 0) {
    srat = qemuSrat(layout, numaSplit(options.ramSize, numaNodes, PC_NUMA_MEM_ALIGN));
    for (const m of srat) {
      log.info(
        `ACPI: SRAT: Node ${m.node} PXM ${m.node} [mem ${hex10(m.base)}-${hex10(m.base + m.length - 1)}]${m.hotpluggable ? ' hotplug' : ''}`,
      );
    }
    const r = numaCleanupMeminfo(
      srat.map((m) => ({ start: m.base, end: m.base + m.length, nid: m.node })),
      maxPfn,
      hasMemory,
      (l) => log.info(l),
    );
    meminfo = r.meminfo;
    reserved = r.reserved;
    nodes = [...new Set(srat.map((m) => m.node))].sort((a, b) => a - b);
  } else {
    log.info('No NUMA configuration found');
    log.info(`Faking a node at [mem ${hex18(0)}-${hex18(maxPfn * PAGE - 1)}]`);
    meminfo = [{ start: 0, end: maxPfn * PAGE, nid: 0 }];
    nodes = [0];
  }

  // memblock: RAM split by node (memblock_set_node()).
  for (const e of ram) {
    const s0 = e.addr;
    const e0 = e.addr + e.size;
    const pieces = meminfo
      .filter((b) => b.start < e0 && b.end > s0)
      .map((b) => ({ base: Math.max(b.start, s0), end: Math.min(b.end, e0), nid: b.nid }))
      .sort((a, b) => a.base - b.base);
    for (const p of pieces) memblock.addMemory(p.base, p.end - p.base, p.nid);
  }

  // setup_arch(): the kernel image and (v5.13) the whole first MiB.
  const image = x86KernelImage();
  memblock.reserve(image.text, image.end - image.text);
  memblock.reserve(0, SZ_1M);

  // numa_register_memblks() -> alloc_node_data(): NODE_DATA at the top of each node.
  for (const nid of nodes) {
    if (!meminfo.some((b) => b.nid === nid)) continue;
    const pa = memblock.allocRaw(X86_NODE_DATA_SIZE, 64, 0, nid, false);
    if (pa === undefined) throw new BootError(`Kernel panic - not syncing: Cannot allocate ${X86_NODE_DATA_SIZE} bytes for node ${nid} data`);
    log.info(`NODE_DATA(${nid}) allocated [mem ${hex10(pa)}-${hex10(pa + X86_NODE_DATA_SIZE - 1)}]`);
    const tnid = memblock.nidOf(pa);
    if (tnid !== nid) log.info(`    NODE_DATA(${nid}) on node ${tnid}`);
  }

  // e820__reserve_resources() + the kernel's own resources inside System RAM.
  e820ReserveResources(kernel.iomem, table);
  const kernelRes = (name: string, start: number, endExcl: number): void => {
    kernel.iomem.insertResource(
      kernel.iomem.root,
      new Resource({ name, start, end: endExcl - 1, flags: orBits(IORESOURCE_SYSTEM_RAM, IORESOURCE_BUSY) }),
    );
  };
  // Only an image that RAM holds (mem= may cut it short) gets its resources.
  if (ram.some((r) => image.text >= r.addr && image.ebss <= r.addr + r.size)) {
    kernelRes('Kernel code', image.text, image.etext);
    kernelRes('Kernel rodata', image.rodata, image.erodata);
    kernelRes('Kernel data', image.data, image.edata);
    kernelRes('Kernel bss', image.bss, image.ebss);
  }

  // firmware_map_add_early(): the firmware's table, before boot options.
  firmware.forEach((e, i) => {
    const dir = `/sys/firmware/memmap/${i}`;
    const text = (v: string): (() => string) => () => `${v}\n`;
    kernel.sysfs.createFile(`${dir}/start`, { name: 'start', mode: 0o444, show: text(`0x${e.addr.toString(16)}`) });
    kernel.sysfs.createFile(`${dir}/end`, { name: 'end', mode: 0o444, show: text(`0x${(e.addr + e.size - 1).toString(16)}`) });
    kernel.sysfs.createFile(`${dir}/type`, { name: 'type', mode: 0o444, show: text(e820TypeToString(e.type)) });
  });

  return {
    layout,
    firmware,
    table,
    maxPfn,
    maxMemSize: params.maxMemSize,
    srat,
    numaMeminfo: meminfo,
    numaReservedMeminfo: reserved,
    nodes,
    image,
    invalid: params.invalid,
  };
}

/**
 * `memory_add_physaddr_to_nid()` (arch/x86/mm/numa.c, v5.13): the node of
 * the boot-memory block holding the address, else the first block's node.
 */
export function x86MemoryAddPhysaddrToNid(info: X86BootInfo, addr: number): number {
  const nid = meminfoToNid(info.numaMeminfo, addr);
  return nid >= 0 ? nid : (info.numaMeminfo[0]?.nid ?? 0);
}

/** `MAX_DMA_PFN` of x86: the 16 MiB of ISA DMA. */
const MAX_DMA_PFN = (16 * SZ_1M) / PAGE;

/**
 * `memblock_find_dma_reserve()` (arch/x86/mm/init.c, x86_64): the pages of
 * boot memory below 16 MiB that memblock has already reserved when
 * setup_arch() asks (the first MiB, and whatever else lies that low), as
 * the memory pages below MAX_DMA_PFN less the whole free pages there. The
 * result goes to `set_dma_reserve()`.
 */
export function memblockFindDmaReserve(memblock: BootMemblock): number {
  let nrPages = 0;
  for (const r of memblock.memPfnRanges()) nrPages += Math.min(r.endPfn, MAX_DMA_PFN) - Math.min(r.startPfn, MAX_DMA_PFN);
  // for_each_free_mem_range(): memory minus reserved, partial pages left out.
  const reserved = memblock.reservedRanges();
  let nrFree = 0;
  for (const m of memblock.memoryRegions()) {
    let s = m.base;
    const end = m.base + m.size;
    const addFree = (a: number, b: number): void => {
      const sp = Math.min(Math.ceil(a / PAGE), MAX_DMA_PFN);
      const ep = Math.min(Math.floor(b / PAGE), MAX_DMA_PFN);
      if (sp < ep) nrFree += ep - sp;
    };
    for (const r of reserved) {
      const rEnd = r.base + r.size;
      if (rEnd <= s || r.base >= end) continue;
      if (r.base > s) addFree(s, r.base);
      s = Math.max(s, rEnd);
    }
    if (s < end) addFree(s, end);
  }
  return nrPages - nrFree;
}
