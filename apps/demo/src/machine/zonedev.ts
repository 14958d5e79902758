/**
 * A whole machine: the boot of an x86_64 or powerpc64 guest, from firmware
 * to memory blocks, composed of one instance of every memory layer.
 *
 * ```
 *   firmware            x86_64: SeaBIOS E820 (+ QEMU's SRAT)   powerpc: pseries device tree
 *      │                        setup_arch() -> x86-setup.ts            powerpc-setup.ts
 *      ▼
 *   memblock            memory (per node), reserved (first MiB / image, NODE_DATA)
 *      ▼
 *   sparse_init()       @zonedev/sparse-vmemmap: mem_sections, boot memmap from memblock
 *      ▼
 *   free_area_init()    @zonedev/mmzone: nodes and zones ("Zone ranges:", ...),
 *   memblock_free_all()   memmap_init, the buddy allocator, zonelists, watermarks
 *      ▼
 *   "Kernel command line: ...", "Memory: ...K/...K available (...)"
 *      ▼
 *   memory_dev_init()   @zonedev/memory-hotplug: memory blocks, node devices,
 *   node_dev_init()       /sys/devices/system/{memory,node}, probe, auto_online_blocks
 *      ▼
 *   memremap            @zonedev/memremap: ZONE_DEVICE, memremap_pages()
 *      ▼
 *   libnvdimm           @zonedev/libnvdimm: x86 e820 legacy pmem (memmap=nn!ss),
 *                         powerpc pmem-region nodes (of_pmem); /dev/pmemN
 *      ▼
 *   mm, hmm             @zonedev/mm: processes' page tables and faults;
 *                         @zonedev/hmm: `modprobe test_hmm`, /dev/hmm_dmirrorN
 * ```
 *
 * The platform profile (src/platform) answers every architecture question
 * the packages ask. The machine then serves `/proc` (iomem, meminfo,
 * zoneinfo, buddyinfo, pagetypeinfo, cmdline) and `/sys`, and adds the
 * commands of the QEMU monitor, the page inspectors and the small memory
 * tools to the shell.
 *
 * Time: boot runs at 0; memory_dev_init at 0.1 s; every command the shell
 * runs afterwards starts one simulated second later, so dmesg shows when a
 * hot-plug happened relative to boot.
 */
import { Kernel } from '@zonedev/kernel';
import { MemoryHotplug } from '@zonedev/memory-hotplug';
import { Memremap } from '@zonedev/memremap';
import type { Libnvdimm } from '@zonedev/libnvdimm';
import { MmCore } from '@zonedev/mmzone';
import type { Pfn } from '@zonedev/mmzone';
import { BootMemblock, SparseMemory } from '@zonedev/sparse-vmemmap';
import type { VmemmapPageAllocator } from '@zonedev/sparse-vmemmap';
import type { Platform, ShellCommand } from './machine.js';
import type { DemoMachine } from './demo-machine.js';
import type { MachineOptions } from './options.js';
import type { PlatformProfile } from '../platform/profile.js';
import { x86Profile } from '../platform/x86/profile.js';
import { powerpcProfile } from '../platform/powerpc/profile.js';
import { MAX_ARCH_PFN_X86_64 } from '../platform/x86/e820.js';
import { SysfsFs, type ProcProvider } from '../shell/vfs.js';
import { setupArchX86, x86MemoryAddPhysaddrToNid, X86_KERNEL_SIZES, type X86BootInfo } from './x86-setup.js';
import { setupArchPowerpc, PPC_KERNEL_SIZES, type PowerpcBootInfo } from './powerpc-setup.js';
import { parseMmCmdline, unknownBootoptionsLine, type MmCmdline } from './cmdline.js';
import { procFiles } from './procfs.js';
import { QemuMachine } from './qemu.js';
import { UserMemory } from './user-memory.js';
import { DemoPagemaps } from './pagemaps.js';
import { machineCommands } from '../commands/index.js';
import { daxctlCommand, ddCommand, headCommand, ndctlCommand } from '../tools/commands.js';
import { machineDevtmpfs } from './devtmpfs.js';
import { pmemBlockDevices, setupNvdimm } from './nvdimm.js';
import { MachineHmm, pagingArch } from './hmm.js';

export { BootError } from './util.js';

/** `linux_banner` of the model. */
export const LINUX_BANNER = 'Linux version 5.13.0-zonedev (zonedev@zonedev) (TypeScript model of Linux v5.13) #1 SMP';

/** One simulated second, in nanoseconds. */
const SECOND = 1e9;

/**
 * The page allocator as sparse-vmemmap uses it: mmzone's buddy allocator,
 * with `free_reserved_page()` of a boot memmap done in naturally aligned
 * blocks.
 */
function vmemmapAllocator(mm: MmCore): VmemmapPageAllocator {
  return {
    allocPagesNode: (nid, gfp, order) => mm.allocPagesNode(nid, gfp, order),
    freePages: (pfn, order) => mm.freePages(pfn as Pfn, order),
    freeReservedPages: (pfn, nr) => {
      for (let p = pfn; p < pfn + nr; ) {
        let order = 0;
        while (order + 1 < mm.config.MAX_ORDER && p % 2 ** (order + 1) === 0 && p + 2 ** (order + 1) <= pfn + nr) order++;
        mm.genericOnlinePage(p as Pfn, order);
        p += 2 ** order;
      }
    },
    pfnToNid: (pfn) => mm.pagePgdat(pfn).nodeId,
  };
}

/** The profile a machine's options ask for. */
export function profileFor(options: MachineOptions, cmdline: MmCmdline): PlatformProfile {
  if (options.platform === 'x86_64') {
    return x86Profile({ mmu: options.mmu === '5level' ? '5level' : '4level' });
  }
  const radix = options.mmu === 'radix' && !cmdline.disableRadix;
  return powerpcProfile({ mmu: radix ? 'radix' : 'hash' });
}

/** A booted machine: every memory layer, the QEMU side, and the shell's view. */
export class ZonedevMachine implements DemoMachine {
  readonly platform: Platform;
  readonly description: string;
  readonly kernel: Kernel;
  readonly sysfs: SysfsFs;
  readonly procfs: ReadonlyMap<string, ProcProvider>;
  readonly commands: readonly ShellCommand[];
  /** What `zonedev run` was asked for. */
  readonly options: MachineOptions;
  /** The architecture. */
  readonly profile: PlatformProfile;
  /** The command line as the mm side read it. */
  readonly cmdline: MmCmdline;
  /** Boot memory (what memblock held when the page allocator took over). */
  readonly memblock: BootMemblock;
  /** @zonedev/mmzone: nodes, zones, memmap, buddy allocator, physical memory. */
  readonly mm: MmCore;
  /** @zonedev/sparse-vmemmap: sections and the vmemmap. */
  readonly sparse: SparseMemory;
  /** @zonedev/memory-hotplug: memory blocks, add/online/offline/remove. */
  readonly hotplug: MemoryHotplug;
  /** @zonedev/memremap: ZONE_DEVICE. */
  readonly memremap: Memremap;
  /** @zonedev/libnvdimm: the nd bus, its regions and namespaces, and the pmem disks (`/dev/pmemN`). */
  readonly nvdimm: Libnvdimm;
  /** x86_64 only: the E820/SRAT story. */
  readonly x86: X86BootInfo | undefined;
  /** powerpc only: the device tree and its LMBs. */
  readonly powerpc: PowerpcBootInfo | undefined;
  /** The QEMU side: memory backends, DIMMs, the monitor. */
  readonly qemu: QemuMachine;
  /** Pages the `memalloc` command allocated. */
  readonly user: UserMemory;
  /** Pagemaps the `memremap` command mapped. */
  readonly pagemaps: DemoPagemaps;
  /** @zonedev/mm's processes and @zonedev/hmm's test_hmm module. */
  readonly hmm: MachineHmm;

  constructor(options: MachineOptions) {
    this.options = options;
    this.platform = options.platform;
    this.cmdline = parseMmCmdline(options.platform, options.cmdline);
    this.profile = profileFor(options, this.cmdline);
    const profile = this.profile;
    const kernel = new Kernel({ seed: options.seed, resources: profile.resources });
    this.kernel = kernel;
    const log = kernel.log;
    log.notice(LINUX_BANNER);

    // setup_arch(): firmware -> memblock.
    const memblock = new BootMemblock(profile.mm.pageShift);
    this.memblock = memblock;
    let nodes: readonly number[];
    let possible: readonly number[];
    let maxPfn: number;
    let physaddrToNid: (addr: number) => number;
    let lmbSize: number | undefined;
    if (options.platform === 'x86_64') {
      const maxArchPfn = profile.maxPhysmemBits === 46 ? MAX_ARCH_PFN_X86_64 : 2 ** (profile.maxPhysmemBits - 12);
      const x86 = setupArchX86(kernel, options, memblock, maxArchPfn);
      this.x86 = x86;
      this.powerpc = undefined;
      possible = x86.nodes;
      nodes = x86.nodes.filter((n) => x86.numaMeminfo.some((b) => b.nid === n));
      maxPfn = x86.maxPfn;
      physaddrToNid = (addr) => x86MemoryAddPhysaddrToNid(x86, addr);
    } else {
      const ppc = setupArchPowerpc(kernel, options, memblock);
      this.x86 = undefined;
      this.powerpc = ppc;
      nodes = ppc.nodes;
      possible = Array.from({ length: Math.max(options.numa, 1) }, (_, i) => i);
      maxPfn = Math.max(...ppc.memory.map((m) => (m.base + m.size) / 2 ** 16));
      lmbSize = ppc.blockSize;
      physaddrToNid = () => nodes[0] ?? 0;
    }

    // paging_init(): sparse_init(), then free_area_init() and the rest of mm_init().
    const mm = new MmCore({ kernel, config: profile.mm, nodes });
    this.mm = mm;
    const sparse = new SparseMemory({ kernel, arch: profile.sparse, allocator: vmemmapAllocator(mm), memmap: mm.memmap });
    this.sparse = sparse;
    sparse.sparseInit(memblock);
    const ranges = [...memblock.memPfnRanges()];
    for (const r of ranges) sparse.subsectionMapInit(r.startPfn, r.endPfn - r.startPfn);
    mm.bootMemory(ranges, memblock.reservedPfnRanges());

    log.notice(`Kernel command line: ${options.cmdline}`);
    for (const e of this.cmdline.errors) log.err(e);
    const unknown = unknownBootoptionsLine(this.cmdline.unknown);
    if (unknown !== undefined) log.notice(unknown);
    log.info(this.memoryLine());

    // Later initcalls: memory_dev_init(), node_dev_init().
    kernel.clock.advance(SECOND / 10);
    const hotplugArch = profile.hotplug({ maxPfn, lmbSize, physaddrToNid, log: (l) => log.info(l) });
    this.hotplug = new MemoryHotplug({
      kernel,
      mm,
      sparse,
      arch: hotplugArch,
      ...(this.cmdline.memhpDefaultState !== undefined ? { memhpDefaultState: this.cmdline.memhpDefaultState } : {}),
      memmapOnMemory: this.cmdline.memmapOnMemory,
      movableNode: this.cmdline.movableNode,
      maxPfn,
      possibleNodes: possible,
      cpuNodes: [nodes[0] ?? 0],
    });
    this.hotplug.memoryHotplugInit();
    this.memremap = new Memremap({ kernel, mm, hotplug: this.hotplug, arch: profile.memremap });
    this.nvdimm = setupNvdimm({ kernel, mm, memremap: this.memremap, options, radix: options.platform === 'powerpc' && options.mmu === 'radix' && !this.cmdline.disableRadix }, physaddrToNid);

    this.hmm = new MachineHmm({ kernel, mm, memremap: this.memremap, paging: pagingArch(options.platform, profile.mmu, profile.mm.pageShift) });

    this.qemu = new QemuMachine(this);
    this.user = new UserMemory(this);
    this.pagemaps = new DemoPagemaps(this);
    this.sysfs = new SysfsFs(kernel.sysfs, machineDevtmpfs(kernel.seed, () => {
      const pmem = pmemBlockDevices(this.nvdimm);
      return new Map([...pmem(), ...this.hmm.devices()]);
    }));
    this.procfs = procFiles(this);
    this.commands = [...machineCommands(this), ndctlCommand(2 ** profile.mm.pageShift), daxctlCommand, ddCommand, headCommand];
    this.description = this.describe();
  }

  /** The shell calls this before each command: one simulated second passes. */
  tick(): void {
    const now = this.kernel.clock.now();
    this.kernel.clock.advance(Math.floor(now / SECOND + 1) * SECOND + SECOND / 4 - now);
  }

  /** `mem_init_print_info()`: `Memory: 1983620K/2096632K available (...)`. */
  memoryLine(): string {
    const mm = this.mm;
    const k = (pages: number): number => (pages * mm.config.pageSize) / 1024;
    let physpages = 0;
    for (const p of mm.onlinePgdats()) physpages += p.nodePresentPages;
    const s = this.platform === 'x86_64' ? X86_KERNEL_SIZES : PPC_KERNEL_SIZES;
    const kb = (b: number): number => Math.floor(b / 1024);
    return (
      `Memory: ${k(mm.nrFreePages())}K/${k(physpages)}K available (${kb(s.code)}K kernel code, ${kb(s.rwdata)}K rwdata, ` +
      `${kb(s.rodata)}K rodata, ${kb(s.init)}K init, ${kb(s.bss)}K bss, ${k(physpages - mm.totalramPages)}K reserved, 0K cma-reserved)`
    );
  }

  private describe(): string {
    const o = this.options;
    const mib = Math.floor(o.ramSize / 2 ** 20);
    const hp = o.maxmem > o.ramSize ? `, ${o.slots} slots up to ${Math.floor(o.maxmem / 2 ** 20)} MiB` : '';
    const numa = `${o.numa} NUMA node${o.numa === 1 ? '' : 's'}`;
    const fw = this.platform === 'x86_64' ? 'QEMU pc (i440FX) with SeaBIOS' : 'QEMU pseries';
    return `${this.profile.description}: ${fw}, ${mib} MiB RAM${hp}, ${numa}`;
  }
}

/**
 * Boots the machine `options` describe. Throws an Error with QEMU's message
 * for settings QEMU refuses, a {@link BootError} where the kernel panics.
 */
export function bootMachine(options: MachineOptions): ZonedevMachine {
  return new ZonedevMachine(options);
}
