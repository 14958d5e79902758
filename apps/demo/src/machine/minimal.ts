/**
 * The machine that can be booted today, before memory hot-plug exists.
 *
 * It runs the parts of boot that need nothing but `@zonedev/kernel` and the
 * platform facts of src/platform, and stops where memblock and the zones
 * would begin:
 *
 * ```
 *   x86_64 (QEMU pc + SeaBIOS)                  powerpc (QEMU pseries)
 *   ---------------------------                 ----------------------
 *   Linux version ...                           Linux version ...
 *   Command line: ...                           device tree: memory@ nodes,
 *   BIOS-provided physical RAM map:               ibm,dynamic-reconfiguration-memory
 *   BIOS-e820: [mem ...] usable ...             memblock ranges -> "System RAM"
 *   (memmap=, mem= -> user-defined map)           in /proc/iomem
 *   e820: update [mem 0x00000000-0x00000fff] ...  /sys/firmware/devicetree/base
 *   e820: remove [mem 0x000a0000-0x000fffff] ...
 *   last_pfn = ... max_arch_pfn = ...
 *   e820 -> iomem: System RAM, Reserved,
 *     Persistent Memory (legacy)
 *   /sys/firmware/memmap
 *   Kernel command line: ...                    Kernel command line: ...
 * ```
 *
 * `/proc` has `iomem` and `cmdline`; `/sys` is the kernel's device-core
 * sysfs plus the firmware views above. There are no memory blocks yet, so
 * `lsmem` says `This system does not support memory blocks`. The full
 * machines replace this one when memory-hotplug lands; they fill the same
 * {@link Machine} interface.
 */
import { Kernel, IORESOURCE_BUSY, IORESOURCE_SYSTEM_RAM, Resource, SZ_1M } from '@zonedev/kernel';
import type { Machine } from './machine.js';
import type { MachineOptions } from './options.js';
import type { ProcProvider } from '../shell/vfs.js';
import { SysfsFs } from '../shell/vfs.js';
import {
  e820EndOfRamPfn,
  e820FinishEarlyParams,
  e820ParseEarlyParams,
  e820PrintTable,
  e820ReserveResources,
  e820TrimBiosRange,
  e820TypeToString,
  type E820Table,
} from '../platform/x86/e820.js';
import { pcMemoryLayout, seabiosE820, type PcMemoryLayout } from '../platform/x86/qemu-pc.js';
import { fdtMemoryRanges, spaprDeviceTree, type FdtNode } from '../platform/powerpc/fdt.js';

/** `linux_banner` of the model. */
export const LINUX_BANNER = 'Linux version 5.13.0-zonedev (zonedev@zonedev) (TypeScript model of Linux v5.13) #1 SMP';

/** A boot that failed the way the kernel would stop (a panic). */
export class BootError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BootError';
  }
}

/** What the x86_64 boot found, for later stages and tests. */
export interface X86BootInfo {
  readonly layout: PcMemoryLayout;
  /** The table firmware handed over (`e820_table_firmware`). */
  readonly firmware: E820Table;
  /** The table after boot options and trimming (`e820_table`). */
  readonly table: E820Table;
  /** `max_pfn`. */
  readonly maxPfn: number;
  /** `mem=`'s limit, if given. */
  readonly maxMemSize: number | undefined;
}

/** A {@link Machine} with what its boot found. */
export interface MinimalMachine extends Machine {
  /** x86_64 only: the E820 story. */
  readonly x86: X86BootInfo | undefined;
  /** powerpc only: the device tree. */
  readonly deviceTree: FdtNode | undefined;
}

function hexSize(v: number): string {
  return `0x${v.toString(16)}\n`;
}

/**
 * Boots the minimal machine for `options`. Throws an Error for settings
 * QEMU refuses (with QEMU's message) and a {@link BootError} where the
 * kernel would panic.
 */
export function bootMinimalMachine(options: MachineOptions): MinimalMachine {
  const kernel = new Kernel({ seed: options.seed });
  kernel.log.notice(LINUX_BANNER);
  const procfs = new Map<string, ProcProvider>([
    ['/proc/iomem', (): string => kernel.iomem.procIomem()],
    ['/proc/cmdline', (): string => `${options.cmdline}\n`],
  ]);
  const mib = Math.floor(options.ramSize / SZ_1M);
  if (options.platform === 'x86_64') {
    const x86 = bootX86(kernel, options);
    kernel.log.notice(`Kernel command line: ${options.cmdline}`);
    const hotplug = options.maxmem > options.ramSize ? `, ${options.slots} slots up to ${Math.floor(options.maxmem / SZ_1M)} MiB` : '';
    return {
      platform: 'x86_64',
      description: `x86_64: QEMU pc (i440FX) with SeaBIOS, ${mib} MiB RAM${hotplug}, minimal boot (no memory blocks yet)`,
      kernel,
      sysfs: new SysfsFs(kernel.sysfs),
      procfs,
      commands: [],
      x86,
      deviceTree: undefined,
    };
  }
  const tree = bootPowerpc(kernel, options);
  kernel.log.notice(`Kernel command line: ${options.cmdline}`);
  return {
    platform: 'powerpc',
    description: `powerpc: QEMU pseries, ${mib} MiB RAM, ${options.numa} NUMA node${options.numa === 1 ? '' : 's'}, minimal boot (no memory blocks yet)`,
    kernel,
    sysfs: new SysfsFs(kernel.sysfs),
    procfs,
    commands: [],
    x86: undefined,
    deviceTree: tree,
  };
}

/**
 * `setup_arch()` on x86_64, as far as the E820 table goes:
 * `e820__memory_setup()`, `parse_early_param()` (`memmap=`, `mem=`),
 * `e820__finish_early_params()`, `trim_bios_range()`,
 * `e820__end_of_ram_pfn()`, then `e820__reserve_resources()` into the iomem
 * tree and `firmware_map_add_early()` into /sys/firmware/memmap.
 */
function bootX86(kernel: Kernel, options: MachineOptions): X86BootInfo {
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
  const end = e820EndOfRamPfn(trimmed.table);
  log.info(end.log);

  e820ReserveResources(kernel.iomem, trimmed.table);

  firmware.forEach((e, i) => {
    const dir = `/sys/firmware/memmap/${i}`;
    kernel.sysfs.createFile(`${dir}/start`, { name: 'start', mode: 0o444, show: () => hexSize(e.addr) });
    kernel.sysfs.createFile(`${dir}/end`, { name: 'end', mode: 0o444, show: () => hexSize(e.addr + e.size - 1) });
    kernel.sysfs.createFile(`${dir}/type`, { name: 'type', mode: 0o444, show: () => `${e820TypeToString(e.type)}\n` });
  });

  return { layout, firmware, table: trimmed.table, maxPfn: end.pfn, maxMemSize: params.maxMemSize };
}

/**
 * powerpc: QEMU pseries' device tree, its memory nodes added to memblock
 * (adjacent ranges merge, as `memblock_add()` merges them) and registered
 * as `System RAM` (`add_system_ram_resources()` in arch/powerpc/mm/mem.c);
 * the tree is shown at /sys/firmware/devicetree/base.
 */
function bootPowerpc(kernel: Kernel, options: MachineOptions): FdtNode {
  const tree = spaprDeviceTree({ ramSize: options.ramSize, maxmem: options.maxmem, numaNodes: options.numa });
  const merged: { base: number; end: number }[] = [];
  for (const r of [...fdtMemoryRanges(tree)].sort((a, b) => a.base - b.base)) {
    const last = merged[merged.length - 1];
    if (last !== undefined && last.end >= r.base) last.end = Math.max(last.end, r.base + r.size);
    else merged.push({ base: r.base, end: r.base + r.size });
  }
  for (const m of merged) {
    const res = new Resource({ name: 'System RAM', start: m.base, end: m.end - 1, flags: IORESOURCE_SYSTEM_RAM + IORESOURCE_BUSY });
    kernel.iomem.requestResource(kernel.iomem.root, res);
  }
  exposeDeviceTree(kernel, tree, '/sys/firmware/devicetree/base');
  return tree;
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
