/**
 * One machine's kernel services.
 *
 * The real kernel keeps these in globals (`iomem_resource`, the log buffer,
 * the ftrace ring, the fault attributes). The model keeps them in an instance
 * so that two machines in one process never share state: a {@link Kernel} is
 * created per machine, and every subsystem instance above is handed the one of
 * its machine.
 */
import { FaultInjection } from './fault-inject.js';
import { Printk, SimClock } from './printk.js';
import { Tracer } from './trace.js';
import { ResourceTree } from './resource.js';
import type { ResourceTreeOptions } from './resource.js';
import { DeviceCore } from './device.js';
import { BLOCK_EXT_MAJOR, DevNumbers, Devtmpfs, MEM_MAJOR, mkdev } from './devt.js';
import type { Sysfs } from './sysfs.js';

/**
 * Options of a new {@link Kernel}.
 * @public
 */
export interface KernelOptions {
  /** Seed of every random choice the machine makes (fault injection, ...). */
  seed?: number;
  /**
   * The architecture's address-space facts the resource tree needs
   * (`iomem_resource.end`, `MAX_PHYSMEM_BITS`, `PA_SECTION_SHIFT`,
   * `PAGE_SHIFT`); a platform profile passes its own. Defaults: x86_64 with
   * 4-level paging.
   */
  resources?: ResourceTreeOptions;
}

/**
 * The per-machine kernel services every subsystem uses.
 * @public
 */
export class Kernel {
  /** Simulated time since boot (printk timestamps). */
  readonly clock: SimClock;
  /** The dmesg ring. */
  readonly log: Printk;
  /** The function-graph tracer. */
  readonly tracer: Tracer;
  /** Named fault-injection points. */
  readonly faults: FaultInjection;
  /** The seed this machine was created with. */
  readonly seed: number;
  /** `iomem_resource` and kernel/resource.c: the physical address space and /proc/iomem. */
  readonly iomem: ResourceTree;
  /** The device model (buses, devices, drivers, devres) of drivers/base/. */
  readonly devices: DeviceCore;
  /** `/sys`, built from {@link Kernel.devices} (same as `devices.sysfs`). */
  readonly sysfs: Sysfs;
  /** The character and block major tables of fs/char_dev.c and block/genhd.c (`/proc/devices`). */
  readonly devt: DevNumbers;
  /** devtmpfs: `/dev`'s nodes and their inode numbers. */
  readonly devtmpfs: Devtmpfs;

  constructor(options: KernelOptions = {}) {
    this.seed = options.seed ?? 1;
    this.clock = new SimClock();
    this.log = new Printk(this.clock);
    this.tracer = new Tracer();
    this.faults = new FaultInjection(this.seed);
    this.iomem = new ResourceTree({ ...options.resources, tracer: this.tracer, log: this.log, faults: this.faults });
    this.devt = new DevNumbers();
    this.devtmpfs = new Devtmpfs();
    this.devices = new DeviceCore({ tracer: this.tracer, log: this.log, faults: this.faults, devtmpfs: this.devtmpfs });
    this.sysfs = this.devices.sysfs;
    // genhd_device_init(): the blkext major of disks without one of their own.
    this.devt.registerBlkdev(BLOCK_EXT_MAJOR, 'blkext');
    // chr_dev_init() (drivers/char/mem.c): the mem major and the nodes of the
    // memory devices the machine serves (devlist: null 1:3, zero 1:5, urandom 1:9).
    this.devt.registerChrdev(MEM_MAJOR, 'mem');
    for (const [name, mi] of [['null', 3], ['zero', 5], ['urandom', 9]] as const) this.devtmpfs.createNode(name, 'char', mkdev(MEM_MAJOR, mi));
  }
}
