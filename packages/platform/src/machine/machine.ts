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
 * The platform profile (x86/, powerpc/) answers every architecture question
 * the packages ask. The machine then serves `/proc` (iomem, meminfo,
 * zoneinfo, buddyinfo, pagetypeinfo, cmdline, each process's maps and
 * smaps), `/sys` (the kernel's sysfs, by path), the device files of `/dev`,
 * and the QEMU monitor's operations (object_add, device_add, device_del,
 * object_del, info memory-devices) as methods. It knows no shell: a
 * front-end reads and writes these by path.
 *
 * Time: boot runs at 0; memory_dev_init at 0.1 s; each {@link Machine.tick}
 * (a front-end calls it before each command it runs) moves the clock to a
 * quarter past the next simulated second, so dmesg shows when a hot-plug
 * happened relative to boot.
 */
import { Kernel } from '@zonedev/kernel';
import type { Sysfs } from '@zonedev/kernel';
import { MemoryHotplug } from '@zonedev/memory-hotplug';
import { Memremap } from '@zonedev/memremap';
import type { Libnvdimm } from '@zonedev/libnvdimm';
import { MmCore } from '@zonedev/mmzone';
import { BootMemblock, SparseMemory } from '@zonedev/sparse-vmemmap';
import type { VmemmapPageAllocator } from '@zonedev/sparse-vmemmap';
import type { Platform, PlatformProfile } from '../profile.js';
import { x86Profile } from '../x86/profile.js';
import { powerpcProfile } from '../powerpc/profile.js';
import { MAX_ARCH_PFN_X86_64 } from '../x86/e820.js';
import type { MachineCore } from './core.js';
import type { MachineOptions } from './options.js';
import { checkBootOptions, setMemoryOptions } from './check.js';
import { memblockFindDmaReserve, setupArchX86, x86MemoryAddPhysaddrToNid, X86_KERNEL_SIZES, type X86BootInfo } from './x86-setup.js';
import { setupArchPowerpc, PPC_KERNEL_SIZES, type PowerpcBootInfo } from './powerpc-setup.js';
import { parseMmCmdline, unknownBootoptionsLine, type MmCmdline } from './cmdline.js';
import { Procfs } from './procfs.js';
import { QemuMachine, type MonitorResult } from './qemu.js';
import { KernelPages } from './kernel-pages.js';
import { DevicePagemaps } from './pagemaps.js';
import { machineDevtmpfs, type DeviceFile, type DeviceFiles } from './devices.js';
import { pmemBlockDevices, setupNvdimm, type NvdimmOptions } from './nvdimm.js';
import { memoryBackingStore, type BackingStoreFactory } from './backing.js';
import { MachineHmm, pagingArch } from './hmm.js';
import { MachineProcesses } from './processes.js';

/**
 * `linux_banner` of the model: the first line of every machine's dmesg.
 *
 * @public
 */
export const LINUX_BANNER = 'Linux version 5.13.0-zonedev (zonedev@zonedev) (TypeScript model of Linux v5.13) #1 SMP';

/** One simulated second, in nanoseconds. */
const SECOND = 1e9;

/**
 * What {@link bootMachine} takes: the machine's settings (QEMU's `-m`,
 * NUMA nodes, the kernel command line, the seed...), its QEMU NVDIMMs, and
 * how to open the host files behind them.
 *
 * @public
 */
export interface BootOptions extends MachineOptions, NvdimmOptions {
  /**
   * Opens the store behind each `memory-backend-file` (`mem-path=`). Default:
   * an in-memory store per backend, lost with the machine. A Node front-end
   * passes one over the host file system so NVDIMM media persist.
   */
  readonly backingStore?: BackingStoreFactory;
}

/**
 * The page allocator as sparse-vmemmap uses it: mmzone's buddy allocator,
 * with `free_reserved_page()` of a boot memmap done in naturally aligned
 * blocks.
 */
function vmemmapAllocator(mm: MmCore): VmemmapPageAllocator {
  return {
    allocPagesNode: (nid, gfp, order) => mm.allocPagesNode(nid, gfp, order),
    freePages: (pfn, order) => mm.freePages(pfn, order),
    freeReservedPages: (pfn, nr) => {
      for (let p = pfn; p < pfn + nr; ) {
        let order = 0;
        while (order + 1 < mm.config.MAX_ORDER && p % 2 ** (order + 1) === 0 && p + 2 ** (order + 1) <= pfn + nr) order++;
        mm.genericOnlinePage(p, order);
        p += 2 ** order;
      }
    },
    pfnToNid: (pfn) => mm.pagePgdat(pfn).nodeId,
  };
}

/** The profile a machine's options ask for (`disable_radix` on the command line wins over `mmu: 'radix'`). */
export function profileFor(options: MachineOptions, cmdline: MmCmdline): PlatformProfile {
  if (options.platform === 'x86_64') {
    return x86Profile({ mmu: options.mmu === '5level' ? '5level' : '4level' });
  }
  const radix = options.mmu === 'radix' && !cmdline.disableRadix;
  return powerpcProfile({ mmu: radix ? 'radix' : 'hash' });
}

/**
 * A booted machine: one instance of every subsystem, the QEMU side, and
 * what a front-end reads and writes (sysfs and procfs by path, the device
 * files, the monitor's operations). Made by {@link bootMachine}.
 *
 * @public
 */
export class Machine implements MachineCore {
  /** Which platform booted it. */
  readonly platform: Platform;
  /** One line describing the machine: `x86_64 (4-level paging): QEMU pc (i440FX) with SeaBIOS, 2048 MiB RAM, 1 NUMA node`. */
  readonly description: string;
  /** @zonedev/kernel: the dmesg ring (`kernel.log`), the tracer, the iomem tree, the device model and sysfs. */
  readonly kernel: Kernel;
  /** What the machine was booted with (without the backing-store factory). */
  readonly options: MachineOptions & NvdimmOptions;
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
  /** Named kernel pages a driver holds (`memalloc`): pages that cannot move. */
  readonly kernelPages: KernelPages;
  /** Device pagemaps mapped with `memremap_pages()` (`memremap`). */
  readonly pagemaps: DevicePagemaps;
  /** @zonedev/mm's processes and @zonedev/hmm's test_hmm module. */
  readonly hmm: MachineHmm;
  /** User processes (`process start`, `mmap`, `fork`, `pin`, `exit`) on the same mm as hmm's. */
  readonly processes: MachineProcesses;
  /** `/proc`, by path: `procfs.read('/proc/iomem')`. */
  readonly procfs: Procfs;
  readonly #devices: DeviceFiles;

  /**
   * Boots the machine: `start_kernel()` of init/main.c as far as memory goes
   * (`setup_arch()`, `mm_init()`, the memory and nvdimm initcalls). See
   * {@link bootMachine} for the errors.
   */
  constructor(bootOptions: BootOptions) {
    checkBootOptions(bootOptions);
    setMemoryOptions(bootOptions);
    const { backingStore = memoryBackingStore, ...options } = bootOptions;
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
    // setup_arch() on x86_64 counts what memblock holds below 16 MiB before paging_init().
    if (options.platform === 'x86_64') mm.setDmaReserve(memblockFindDmaReserve(memblock));
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
    // memory_failure() finds a ZONE_DEVICE pfn's pagemap through get_dev_pagemap()
    if (this.hotplug.memoryFailure) this.hotplug.memoryFailure.devPagemaps = this.memremap;
    const radix = options.platform === 'powerpc' && options.mmu === 'radix' && !this.cmdline.disableRadix;
    this.nvdimm = setupNvdimm({ kernel, mm, memremap: this.memremap, options, radix, backingStore }, physaddrToNid);

    // The processes' mm is made with the first process (it takes the zero
    // page); memory hot-remove migrates their pages through it from then on.
    this.hmm = new MachineHmm({
      kernel, mm, memremap: this.memremap, paging: pagingArch(options.platform, profile.mmu, profile.mm.pageShift),
      onSystem: (system) => {
        this.hotplug.userMm = system;
      },
    });
    this.processes = new MachineProcesses(() => this.hmm.system, () => this.hmm.nextPid());

    this.qemu = new QemuMachine(this);
    this.kernelPages = new KernelPages(this);
    this.pagemaps = new DevicePagemaps(this);
    const pmem = pmemBlockDevices(this.nvdimm);
    this.#devices = machineDevtmpfs(kernel.seed, () => new Map([...pmem(), ...this.hmm.devices()]));
    this.procfs = new Procfs(this);
    this.description = this.describe();
  }

  /** The kernel's sysfs, by path (`sysfs.read('/sys/devices/system/memory/block_size_bytes')`, `write`, `list`). */
  get sysfs(): Sysfs {
    return this.kernel.sysfs;
  }

  /** The device files of `/dev` now, by name (`null`, `zero`, `urandom`, `pmem0`, `dax0.0`, `nmem0`, `hmm_dmirror0`). */
  devices(): ReadonlyMap<string, DeviceFile> {
    return this.#devices();
  }

  /** The text of `/proc/NAME`; throws KernelError ENOENT for a file the machine does not have. */
  readProc(path: string): string {
    return this.procfs.read(path);
  }

  /** Lets simulated time pass before the next command: the clock moves to a quarter past the next second. */
  tick(): void {
    const now = this.kernel.clock.now();
    this.kernel.clock.advance(Math.floor(now / SECOND + 1) * SECOND + SECOND / 4 - now);
  }

  /** HMP `object_add TYPE,id=ID,size=SIZE`: a `memory-backend-ram`. Throws a QemuError with QEMU's text. */
  objectAdd(opts: string): void {
    this.qemu.objectAdd(opts);
  }

  /** HMP `object_del ID`. Throws a QemuError with QEMU's text. */
  objectDel(id: string): void {
    this.qemu.objectDel(id);
  }

  /** HMP `device_add pc-dimm,id=ID,memdev=MEM[,node=N][,slot=N][,addr=A]`, then the guest's hot-add. Throws a QemuError when QEMU refuses. */
  deviceAdd(opts: string): MonitorResult {
    return this.qemu.deviceAdd(opts);
  }

  /** HMP `device_del ID`: the guest's hot-remove, then the unplug if the guest let go. Throws a QemuError for an unknown id. */
  deviceDel(id: string): MonitorResult {
    return this.qemu.deviceDel(id);
  }

  /** HMP `info memory-devices`. */
  infoMemoryDevices(): string {
    return this.qemu.infoMemoryDevices();
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
 * Boots the machine `options` describe, from firmware to memory blocks:
 * QEMU's board, then the guest's `start_kernel()` (init/main.c) as far as
 * memory goes. The same options give the same machine, byte for byte.
 *
 * Throws, with nothing left behind: a `KernelError` EINVAL for options
 * that are not what their types say (`ramSize` not a positive whole number
 * of bytes, an unknown platform or MMU...); a {@link QemuError} with QEMU's
 * text for settings QEMU refuses (`maxmem` below `ramSize`, slots without
 * `maxmem`, NVDIMMs without `nvdimm=on`...); a {@link BackendError} for a
 * memory backend QEMU cannot open; a {@link BootError} where the kernel
 * panics (`mem=` leaving no usable memory).
 *
 * @public
 */
export function bootMachine(options: BootOptions): Machine {
  return new Machine(options);
}
