/**
 * Memory blocks: physical memory as devices in sysfs (drivers/base/memory.c).
 *
 * Sections (128 MiB on x86_64, 16 MiB on powerpc) are the kernel's unit of
 * memory, but a user onlines and offlines *memory blocks*: runs of
 * `sections_per_block` sections of `memory_block_size_bytes()` each, aligned
 * to their size. Every block that has a present section is a device
 * `memoryN` on the `memory` bus, N = start address / block size, below
 * /sys/devices/system/memory:
 *
 * ```
 *   /sys/devices/system/memory/
 *       block_size_bytes        8000000               (%lx: 128 MiB)
 *       auto_online_blocks      offline               (memhp_default_state=)
 *       probe                   echo ADDR > probe     (add one block)
 *       memory32/
 *           state               online | offline | going-offline
 *           online              1 | 0                 (the device core's file)
 *           phys_index          00000020              (%08lx: the block id)
 *           phys_device         0
 *           removable           1
 *           valid_zones         Normal Movable | Movable | none
 *           node0 -> ../../node/node0
 * ```
 *
 * A block's `state` moves offline → online (`memory_block_online()`: choose a
 * zone, `online_pages()`), and online → going-offline → offline
 * (`memory_block_offline()`: `offline_pages()`); a failure puts it back where
 * it was. A block created by memory_hotplug's `add_memory()` starts offline
 * (and is onlined at once when `auto_online_blocks` says so); blocks present
 * at boot start online.
 *
 * Two paths lead to the same transitions. Writing `state` (with
 * `online_kernel`, `online_movable`, `online` or `offline`) and writing the
 * device core's `online` file (`1`/`0`) both end in `device_online()` /
 * `device_offline()` of drivers/base/core.c (`DeviceCore.deviceOnline()` /
 * `deviceOffline()` of `@zonedev/kernel`), which only call the bus's
 * `online`/`offline` callbacks (`memory_subsys_online()` /
 * `memory_subsys_offline()`) when the device is not already in the
 * requested state, and otherwise return 1.
 * `online_store()` treats that 1 as success; `state_store()` turns it into
 * -EINVAL, so in v5.13 `echo online > state` on an online block fails with
 * "Invalid argument" while `echo 1 > online` succeeds and changes nothing.
 *
 * memmap_on_memory (commit a08a2ae346) gives a block `nr_vmemmap_pages`: the first
 * pages of the block hold the block's own memmap. They are initialized and
 * accounted when the block goes online and un-accounted when it goes
 * offline, but never handed to the page allocator.
 */
import { Kernel as KernelClass } from '@zonedev/kernel';
import type { AttributeGroup, BlockingNotifierHead, BusType, DeviceAttribute, Kernel, NotifierBlock } from '@zonedev/kernel';
import {
  BlockingNotifierHead as NotifierHead,
  Device,
  KernelError,
  checkPhysRange,
  checkUnsigned,
  kstrtoull,
  kstrtoullBig,
  isPowerOf2,
  sysfsStreq,
} from '@zonedev/kernel';
import type { MemoryFailure } from '@zonedev/mm';
import type { HotplugArch, MhpFlags } from './arch.js';
import type { MemoryNotify } from './memory-notifier.js';

/** `MEM_ONLINE` as a block state (include/linux/memory.h). @public */
export const MEM_STATE_ONLINE = 1;
/** `MEM_GOING_OFFLINE` as a block state. @public */
export const MEM_STATE_GOING_OFFLINE = 2;
/** `MEM_OFFLINE` as a block state. @public */
export const MEM_STATE_OFFLINE = 4;

/** `MMOP_OFFLINE` (include/linux/memory_hotplug.h, v5.13). @public */
export const MMOP_OFFLINE = 0;
/** `MMOP_ONLINE`: online to the default zone. @public */
export const MMOP_ONLINE = 1;
/** `MMOP_ONLINE_KERNEL`: online to a kernel zone. @public */
export const MMOP_ONLINE_KERNEL = 2;
/** `MMOP_ONLINE_MOVABLE`: online to ZONE_MOVABLE. @public */
export const MMOP_ONLINE_MOVABLE = 3;

/**
 * An online type (`MMOP_*`).
 * @public
 */
export type OnlineType = 0 | 1 | 2 | 3;

/**
 * `online_type_to_str[]` (drivers/base/memory.c): the names of the online
 * types, as `state` and `auto_online_blocks` accept them.
 * @public
 */
export const ONLINE_TYPE_TO_STR: readonly string[] = Object.freeze(['offline', 'online', 'online_kernel', 'online_movable']);

/** EINVAL unless `bus` is a `struct bus_type`: a name and a device name. */
function checkBus(fn: string, bus: unknown): void {
  const b = bus as { name?: unknown; devName?: unknown; online?: unknown; offline?: unknown } | null;
  if (
    typeof b !== 'object' || b === null || typeof b.name !== 'string' || (b.devName !== undefined && typeof b.devName !== 'string') ||
    (b.online !== undefined && typeof b.online !== 'function') || (b.offline !== undefined && typeof b.offline !== 'function')
  ) {
    throw new KernelError('EINVAL', `${fn}: not a bus: ${String(bus)}`);
  }
}

/** EINVAL unless `mem` is a memory block device. */
function checkMemoryBlock(fn: string, mem: unknown): asserts mem is MemoryBlock {
  if (!(mem instanceof MemoryBlock)) throw new KernelError('EINVAL', `${fn}: not a memory block: ${String(mem)}`);
}

/** EINVAL unless `arg` is a `struct memory_notify`: a pfn range and three node numbers (NUMA_NO_NODE, -1, when unchanged). */
function checkNotify(fn: string, arg: unknown): void {
  const a = arg as Record<string, unknown> | null;
  if (typeof a !== 'object' || a === null) throw new KernelError('EINVAL', `${fn}: no memory_notify`);
  checkUnsigned(fn, 'start_pfn', a['startPfn']);
  checkUnsigned(fn, 'nr_pages', a['nrPages']);
  for (const k of ['statusChangeNid', 'statusChangeNidNormal', 'statusChangeNidHigh']) if (a[k] !== -1) checkUnsigned(fn, k, a[k], 0xffff);
}

/**
 * `mhp_online_type_from_str()`: the online type a string names (compared
 * with `sysfs_streq()`), or -EINVAL.
 * @public
 */
export function mhpOnlineTypeFromStr(str: string): OnlineType {
  if (typeof str !== 'string') throw new KernelError('EINVAL', `invalid online type ${String(str)}`);
  for (let i = 0; i < ONLINE_TYPE_TO_STR.length; i++) {
    if (sysfsStreq(str, ONLINE_TYPE_TO_STR[i]!)) return i as OnlineType;
  }
  throw new KernelError('EINVAL', `invalid online type '${str.replace(/\n$/, '')}'`);
}



/**
 * What the memory subsystem needs from memory hotplug (mm/memory_hotplug.c
 * and drivers/base/node.c): {@link MemoryHotplug} implements it.
 * @public
 */
export interface MemoryBlockHost {
  /** The architecture (`probe`, `phys_device`, the node of a probed address). */
  readonly arch: Pick<HotplugArch, 'memoryProbe' | 'memoryAddPhysaddrToNid' | 'archGetMemoryPhysDevice'>;
  /** `mhp_default_online_type`, read and written through `auto_online_blocks`. */
  mhpDefaultOnlineType: OnlineType;
  /** `memory_block_online()`. */
  memoryBlockOnline(mem: MemoryBlock): void;
  /** `memory_block_offline()`. */
  memoryBlockOffline(mem: MemoryBlock): void;
  /** The text of `valid_zones`. */
  validZonesShow(mem: MemoryBlock): string;
  /** `__add_memory()`, for `probe`. */
  __addMemory(nid: number, start: number, size: number, mhpFlags: MhpFlags): void;
  /** `unregister_memory_block_under_nodes()`. */
  unregisterMemoryBlockUnderNodes(mem: MemoryBlock): void;
  /**
   * `memory_failure()` and `soft_offline_page()` (mm/memory-failure.c),
   * for `hard_offline_page` and `soft_offline_page`; the two files exist
   * only with it (`CONFIG_MEMORY_FAILURE`).
   */
  readonly memoryFailure?: Pick<MemoryFailure, 'memoryFailure' | 'softOfflinePage'> | undefined;
}

/**
 * `struct memory_block` (include/linux/memory.h, v5.13): one memory block,
 * a device on the `memory` bus.
 * @public
 */
export class MemoryBlock extends Device {
  /** `start_section_nr`: the first section of the block. */
  readonly startSectionNr: number;
  /** `state`: `MEM_STATE_ONLINE`, `MEM_STATE_OFFLINE` or `MEM_STATE_GOING_OFFLINE`. */
  state: number;
  /** `online_type`: the `MMOP_*` the next onlining uses (reset to MMOP_OFFLINE after it). */
  onlineType: OnlineType = MMOP_OFFLINE;
  /** `phys_device`: the arch's `arch_get_memory_phys_device()` (0). */
  readonly physDevice: number;
  /** `nid`: the node the block was last linked to, or NUMA_NO_NODE (-1). */
  nid: number = -1;
  /** `nr_vmemmap_pages`: pages at the start of the block that hold its memmap (memmap_on_memory). */
  readonly nrVmemmapPages: number;

  constructor(bus: BusType, blockId: number, startSectionNr: number, state: number, nrVmemmapPages: number, physDevice: number, groups: readonly AttributeGroup[]) {
    checkBus('init_memory_block', bus);
    checkUnsigned('init_memory_block', 'block_id', blockId, 0xffffffff);
    checkUnsigned('init_memory_block', 'start_section_nr', startSectionNr);
    if (state !== MEM_STATE_ONLINE && state !== MEM_STATE_OFFLINE && state !== MEM_STATE_GOING_OFFLINE) throw new KernelError('EINVAL', `init_memory_block: invalid state ${String(state)}`);
    checkUnsigned('init_memory_block', 'nr_vmemmap_pages', nrVmemmapPages);
    checkUnsigned('init_memory_block', 'phys_device', physDevice);
    if (!Array.isArray(groups)) throw new KernelError('EINVAL', 'init_memory_block: groups is not a list');
    // dev->offline = (state == MEM_OFFLINE), as init_memory_block() sets it.
    super({ bus, id: blockId, groups, offline: state === MEM_STATE_OFFLINE });
    this.startSectionNr = startSectionNr;
    this.state = state;
    this.nrVmemmapPages = nrVmemmapPages;
    this.physDevice = physDevice;
  }

  /** The block id (`memory_block_id(start_section_nr)`, the N of `memoryN`). */
  get blockId(): number {
    return this.id!;
  }
}

/**
 * The memory subsystem of one machine: the `memory` bus, its root
 * attributes, the memory blocks and the memory notifier chain
 * (drivers/base/memory.c). Created and booted by memory hotplug, its
 * {@link MemoryBlockHost}.
 * @public
 */
export class MemorySubsystem {
  /** `memory_subsys`: the bus. */
  readonly bus: BusType;
  /** `memory_block_size_bytes()`. */
  readonly blockSize: number;
  /** `sections_per_block`. */
  readonly sectionsPerBlock: number;
  /** `memory_chain`. */
  readonly memoryChain: BlockingNotifierHead<MemoryNotify>;
  private readonly kernel: Kernel;
  private readonly hp: MemoryBlockHost;
  /** `memory_blocks` (an xarray in the kernel), by block id. */
  private readonly blocks = new Map<number, MemoryBlock>();
  private readonly blockGroups: readonly AttributeGroup[];
  /** Each block's `power.runtime_auto` (`power/control`). */
  private readonly pagesPerSection: number;
  private readonly pageShift: number;

  constructor(kernel: Kernel, hp: MemoryBlockHost, blockSize: number, sectionSize: number, pageShift: number) {
    if (!(kernel instanceof KernelClass)) throw new KernelError('EINVAL', `memory: not a kernel: ${String(kernel)}`);
    checkUnsigned('memory_dev_init', 'block size', blockSize);
    if (typeof hp !== 'object' || hp === null || typeof hp.memoryBlockOnline !== 'function' || typeof hp.memoryBlockOffline !== 'function') throw new KernelError('EINVAL', 'memory: not a memory block host');
    checkUnsigned('memory_dev_init', 'section size', sectionSize);
    checkUnsigned('memory_dev_init', 'PAGE_SHIFT', pageShift, 30);
    if (!isPowerOf2(sectionSize) || sectionSize < 2 ** pageShift) throw new KernelError('EINVAL', `memory: section size 0x${sectionSize.toString(16)} is not a power of two of pages`);
    // memory_dev_init(): validate the configured block size.
    if (!isPowerOf2(blockSize) || blockSize < sectionSize) {
      throw new KernelError('EINVAL', `Memory block size not suitable: 0x${blockSize.toString(16)}`);
    }
    this.kernel = kernel;
    this.hp = hp;
    this.blockSize = blockSize;
    this.sectionsPerBlock = blockSize / sectionSize;
    this.pageShift = pageShift;
    this.pagesPerSection = sectionSize / 2 ** pageShift;
    this.memoryChain = new NotifierHead<MemoryNotify>({ name: 'memory_chain', tracer: kernel.tracer, log: kernel.log });
    this.bus = {
      name: 'memory',
      devName: 'memory',
      online: (dev: Device): void => this.memorySubsysOnline(dev as MemoryBlock),
      offline: (dev: Device): void => this.memorySubsysOffline(dev as MemoryBlock),
    };
    this.blockGroups = [{ attrs: this.blockAttrs() }];
  }

  // ------------------------------------------------------------- numbering

  /** `memory_block_id(section_nr)`. */
  memoryBlockId(sectionNr: number): number {
    checkUnsigned('memory_block_id', 'section_nr', sectionNr);
    return Math.floor(sectionNr / this.sectionsPerBlock);
  }

  /** `pfn_to_block_id(pfn)`. */
  pfnToBlockId(pfn: number): number {
    checkUnsigned('pfn_to_block_id', 'pfn', pfn);
    return this.memoryBlockId(Math.floor(pfn / this.pagesPerSection));
  }

  /** `phys_to_block_id(phys)`. */
  physToBlockId(phys: number): number {
    checkUnsigned('phys_to_block_id', 'phys', phys);
    return Math.floor(phys / this.blockSize);
  }

  /** Pages in a block (`PAGES_PER_SECTION * sections_per_block`). */
  get pagesPerBlock(): number {
    return this.pagesPerSection * this.sectionsPerBlock;
  }

  /** The first pfn of a block. */
  blockStartPfn(mem: MemoryBlock): number {
    checkMemoryBlock('memory_block_start_pfn', mem);
    return mem.startSectionNr * this.pagesPerSection;
  }

  // --------------------------------------------------------- the notifier

  /** `register_memory_notifier()`. */
  registerMemoryNotifier(nb: NotifierBlock<MemoryNotify>): void {
    this.memoryChain.register(nb);
  }

  /** `unregister_memory_notifier()`; -ENOENT if not registered. */
  unregisterMemoryNotifier(nb: NotifierBlock<MemoryNotify>): void {
    this.memoryChain.unregister(nb);
  }

  /** `memory_notify(val, arg)`: calls the chain, returns its notifier value. */
  memoryNotify(val: number, arg: MemoryNotify): number {
    checkNotify('memory_notify', arg);
    checkUnsigned('memory_notify', 'val', val);
    return this.memoryChain.callChain(val, arg);
  }

  // --------------------------------------------------------- registration

  /**
   * `memory_dev_init()` (boot): registers the subsystem with its root
   * attributes and one online block for every run of sections containing a
   * present one (`add_memory_block()`).
   */
  memoryDevInit(presentSectionNrs: Iterable<number>): void {
    this.kernel.devices.subsysSystemRegister(this.bus, [{ attrs: this.rootAttrs() }]);
    // The ids of the blocks, ascending and each once; the sections come in order, so usually no sort is needed.
    const ids: number[] = [];
    let ascending = true;
    for (const nr of presentSectionNrs) {
      const id = this.memoryBlockId(nr);
      const last = ids[ids.length - 1];
      if (last === id) continue;
      if (last !== undefined && id < last) ascending = false;
      ids.push(id);
    }
    for (const id of ascending ? ids : [...new Set(ids)].sort((a, b) => a - b)) this.initMemoryBlock(id, MEM_STATE_ONLINE, 0);
  }

  /**
   * `init_memory_block()` + `register_memory()`: creates and registers
   * block `blockId`. -EEXIST if it exists (nothing changes).
   */
  initMemoryBlock(blockId: number, state: number, nrVmemmapPages: number): MemoryBlock {
    checkUnsigned('init_memory_block', 'block_id', blockId);
    checkUnsigned('init_memory_block', 'state', state);
    checkUnsigned('init_memory_block', 'nr_vmemmap_pages', nrVmemmapPages, this.pagesPerBlock);
    if (this.blocks.has(blockId)) throw new KernelError('EEXIST', `memory${blockId} already exists`);
    const startSectionNr = blockId * this.sectionsPerBlock;
    const physDevice = this.hp.arch.archGetMemoryPhysDevice?.(startSectionNr * this.pagesPerSection) ?? 0;
    const mem = new MemoryBlock(this.bus, blockId, startSectionNr, state, nrVmemmapPages, physDevice, this.blockGroups);
    this.kernel.devices.deviceRegister(mem);
    this.blocks.set(blockId, mem);
    return mem;
  }

  /** `unregister_memory()`: removes a block's device. */
  unregisterMemory(mem: MemoryBlock): void {
    checkMemoryBlock('unregister_memory', mem);
    this.blocks.delete(mem.blockId);
    this.kernel.devices.deviceUnregister(mem);
  }

  /**
   * `create_memory_block_devices(start, size, vmemmap_pages)`: one offline
   * block per block-sized chunk of `[start, start + size)`, each with
   * `nrVmemmapPages`. -EINVAL unless block-aligned; -EEXIST if a block
   * exists, after removing the blocks it created.
   */
  createMemoryBlockDevices(start: number, size: number, nrVmemmapPages: number): void {
    checkPhysRange('create_memory_block_devices', start, size);
    checkUnsigned('create_memory_block_devices', 'nr_vmemmap_pages', nrVmemmapPages, this.pagesPerBlock);
    if (start % this.blockSize !== 0 || size % this.blockSize !== 0) {
      throw new KernelError('EINVAL', 'create_memory_block_devices: range not block aligned');
    }
    const first = this.physToBlockId(start);
    const end = this.physToBlockId(start + size);
    const made: MemoryBlock[] = [];
    try {
      for (let id = first; id !== end; id++) made.push(this.initMemoryBlock(id, MEM_STATE_OFFLINE, nrVmemmapPages));
    } catch (e) {
      for (const mem of made.reverse()) this.unregisterMemory(mem);
      throw e;
    }
  }

  /**
   * `remove_memory_block_devices(start, size)`: unlinks every block of the
   * range from its node and removes it.
   */
  removeMemoryBlockDevices(start: number, size: number): void {
    checkPhysRange('remove_memory_block_devices', start, size);
    const first = this.physToBlockId(start);
    const end = this.physToBlockId(start + size);
    for (let id = first; id !== end; id++) {
      const mem = this.blocks.get(id);
      if (mem === undefined) continue; // WARN_ON_ONCE(!mem)
      this.hp.unregisterMemoryBlockUnderNodes(mem);
      this.unregisterMemory(mem);
    }
  }

  /** `find_memory_block_by_id()`. */
  findMemoryBlockById(blockId: number): MemoryBlock | undefined {
    return this.blocks.get(blockId);
  }

  /** `find_memory_block(section)`: the block holding section `sectionNr`. */
  findMemoryBlock(sectionNr: number): MemoryBlock | undefined {
    return this.blocks.get(this.memoryBlockId(sectionNr));
  }

  /** Every block, by ascending id. */
  allBlocks(): MemoryBlock[] {
    return [...this.blocks.values()].sort((a, b) => a.blockId - b.blockId);
  }

  /**
   * `walk_memory_blocks(start, size, arg, func)`: calls `func` for every
   * existing block that `[start, start + size)` touches, in order, stopping
   * at (and returning) the first non-zero result.
   */
  walkMemoryBlocks(start: number, size: number, func: (mem: MemoryBlock) => number): number {
    if (typeof func !== 'function') throw new KernelError('EINVAL', 'walk_memory_blocks: no callback');
    checkPhysRange('walk_memory_blocks', start, size);
    if (size === 0) return 0;
    const first = this.physToBlockId(start);
    const last = this.physToBlockId(start + size - 1);
    for (let id = first; id <= last; id++) {
      const mem = this.blocks.get(id);
      if (mem === undefined) continue;
      const ret = func(mem);
      if (ret !== 0) return ret;
    }
    return 0;
  }

  /** `for_each_memory_block(arg, func)`: every block, stopping at the first non-zero result. */
  forEachMemoryBlock(func: (mem: MemoryBlock) => number): number {
    if (typeof func !== 'function') throw new KernelError('EINVAL', 'for_each_memory_block: no callback');
    for (const mem of this.allBlocks()) {
      const ret = func(mem);
      if (ret !== 0) return ret;
    }
    return 0;
  }

  // ------------------------------------------------------ state changes

  /**
   * `memory_block_change_state()`: -EINVAL unless the block is in
   * `fromStateReq`; marks it going-offline while offlining; on failure puts
   * it back in `fromStateReq` and rethrows.
   */
  private memoryBlockChangeState(mem: MemoryBlock, toState: number, fromStateReq: number): void {
    if (mem.state !== fromStateReq) {
      throw new KernelError('EINVAL', `memory${mem.blockId}: not in the required state`);
    }
    if (toState === MEM_STATE_OFFLINE) mem.state = MEM_STATE_GOING_OFFLINE;
    try {
      if (toState === MEM_STATE_ONLINE) this.hp.memoryBlockOnline(mem);
      else this.hp.memoryBlockOffline(mem);
    } catch (e) {
      mem.state = fromStateReq;
      throw e;
    }
    mem.state = toState;
  }

  /** `memory_subsys_online()`: the bus's `online` callback. */
  private memorySubsysOnline(mem: MemoryBlock): void {
    if (mem.state === MEM_STATE_ONLINE) return;
    // device_online() without a configured online type defaults to MMOP_ONLINE.
    if (mem.onlineType === MMOP_OFFLINE) mem.onlineType = MMOP_ONLINE;
    try {
      this.memoryBlockChangeState(mem, MEM_STATE_ONLINE, MEM_STATE_OFFLINE);
    } finally {
      mem.onlineType = MMOP_OFFLINE;
    }
  }

  /** `memory_subsys_offline()`: the bus's `offline` callback. */
  private memorySubsysOffline(mem: MemoryBlock): void {
    if (mem.state === MEM_STATE_OFFLINE) return;
    this.memoryBlockChangeState(mem, MEM_STATE_OFFLINE, MEM_STATE_ONLINE);
  }


  // ------------------------------------------------------------ sysfs

  private blockAttrs(): DeviceAttribute[] {
    const asBlock = (dev: Device): MemoryBlock => dev as MemoryBlock;
    const phys_index: DeviceAttribute = {
      name: 'phys_index',
      mode: 0o444,
      show: (dev) => `${asBlock(dev).blockId.toString(16).padStart(8, '0')}\n`,
    };
    const state: DeviceAttribute = {
      name: 'state',
      mode: 0o644,
      show: (dev) => stateName(asBlock(dev).state),
      store: (dev, buf) => this.stateStore(asBlock(dev), buf),
    };
    const phys_device: DeviceAttribute = {
      name: 'phys_device',
      mode: 0o444,
      show: (dev) => `${asBlock(dev).physDevice}\n`,
    };
    const removable: DeviceAttribute = {
      // v5.13: IS_ENABLED(CONFIG_MEMORY_HOTREMOVE).
      name: 'removable',
      mode: 0o444,
      show: () => '1\n',
    };
    const valid_zones: DeviceAttribute = {
      name: 'valid_zones',
      mode: 0o444,
      show: (dev) => this.hp.validZonesShow(asBlock(dev)),
    };
    // The `online` file is the device core's (dev_attr_online): the bus has online/offline callbacks.
    return [phys_index, state, phys_device, removable, valid_zones];
  }

  /** `state_store()`. */
  private stateStore(mem: MemoryBlock, buf: string): void {
    const onlineType = mhpOnlineTypeFromStr(buf);
    let ret: 0 | 1;
    if (onlineType === MMOP_OFFLINE) {
      ret = this.kernel.devices.deviceOffline(mem);
    } else {
      mem.onlineType = onlineType;
      ret = this.kernel.devices.deviceOnline(mem);
    }
    if (ret === 1) {
      throw new KernelError('EINVAL', `memory${mem.blockId} is already ${onlineType === MMOP_OFFLINE ? 'offline' : 'online'}`);
    }
  }

  private rootAttrs(): DeviceAttribute[] {
    const attrs: DeviceAttribute[] = [
      {
        name: 'block_size_bytes',
        mode: 0o444,
        show: () => `${this.blockSize.toString(16)}\n`,
      },
      {
        name: 'auto_online_blocks',
        mode: 0o644,
        show: () => `${ONLINE_TYPE_TO_STR[this.hp.mhpDefaultOnlineType]}\n`,
        store: (_dev, buf) => {
          this.hp.mhpDefaultOnlineType = mhpOnlineTypeFromStr(buf);
        },
      },
    ];
    if (this.hp.arch.memoryProbe !== false) {
      attrs.push({
        name: 'probe',
        mode: 0o200,
        store: (_dev, buf) => this.probeStore(buf),
      });
    }
    const mf = this.hp.memoryFailure;
    if (mf !== undefined) {
      // CONFIG_MEMORY_FAILURE: both write-only (0200)
      attrs.push({
        name: 'soft_offline_page',
        mode: 0o200,
        store: (_dev, buf) => mf.softOfflinePage(this.offlinePagePfn(buf), 0),
      }, {
        name: 'hard_offline_page',
        mode: 0o200,
        store: (_dev, buf) => mf.memoryFailure(this.offlinePagePfn(buf), 0),
      });
    }
    return attrs;
  }

  /**
   * The pfn `soft_offline_page_store()` and `hard_offline_page_store()`
   * (drivers/base/memory.c, v5.13) take from the written physical address:
   * `kstrtoull(buf, 0)` (any failure, range included, is -EINVAL) shifted
   * right by PAGE_SHIFT. The result is then theirs: `soft_offline_page()`'s
   * or `memory_failure()`'s errno, or success.
   */
  private offlinePagePfn(buf: string): number {
    let addr: bigint;
    try {
      addr = kstrtoullBig(buf);
    } catch {
      throw new KernelError('EINVAL', `offline_page: invalid physical address '${String(buf).replace(/\n$/, '')}'`);
    }
    return Number(addr / 2n ** BigInt(this.pageShift));
  }

  /** `probe_store()`: adds the block starting at the written address (`__add_memory()`). */
  private probeStore(buf: string): void {
    const physAddr = kstrtoull(buf);
    if (physAddr % this.blockSize !== 0) {
      throw new KernelError('EINVAL', `probe: 0x${physAddr.toString(16)} is not aligned to the memory block size`);
    }
    const nid = this.hp.arch.memoryAddPhysaddrToNid?.(physAddr) ?? 0;
    this.hp.__addMemory(nid, physAddr, this.blockSize, 0);
  }
}

function stateName(state: number): string {
  switch (state) {
    case MEM_STATE_ONLINE:
      return 'online\n';
    case MEM_STATE_OFFLINE:
      return 'offline\n';
    case MEM_STATE_GOING_OFFLINE:
      return 'going-offline\n';
    default:
      return `ERROR-UNKNOWN-${state}\n`;
  }
}
