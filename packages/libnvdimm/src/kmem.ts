/**
 * kmem: the dax-bus driver that turns a device-dax instance into System RAM.
 *
 * kmem binds only the devices whose names were written to its `new_id`
 * (daxctl does that after unbinding device_dax). For each range it trims to
 * whole memory blocks, reserves the range in iomem under the device's name
 * (`dax0.0`), turns that reservation into a non-busy System RAM parent, and
 * hot-adds it with `add_memory_driver_managed()` as "System RAM (kmem)" on
 * the device's target node: memory blocks appear, onlined or not as
 * `auto_online_blocks` says. Unbinding removes the memory again; a range
 * whose blocks are still online cannot be removed ("cannot be hotremoved
 * until the next reboot") and stays, but the unbind itself succeeds.
 *
 * Mirrors drivers/dax/kmem.c (Linux v5.13).
 */
import { KernelError, IORESOURCE_SYSTEM_RAM, alignDown, align, checkUnsigned, devDbg, devErr, devInfo, devName, devWarn } from '@zonedev/kernel';
import { Kernel } from '@zonedev/kernel';
import type { DeviceDriver, Range, Resource } from '@zonedev/kernel';
import { MemoryHotplug } from '@zonedev/memory-hotplug';
import { DaxBus, DevDax } from './dax-bus.js';

/** The resource name kmem hot-adds its memory under (`kmem_name`). @public */
export const KMEM_RESOURCE_NAME = 'System RAM (kmem)';

/**
 * Options of {@link DaxKmem}.
 * @public
 */
export interface DaxKmemOptions {
  readonly kernel: Kernel;
  /** The dax bus to register on. */
  readonly dax: DaxBus;
  /** The machine's memory hotplug (`add_memory_driver_managed`, `remove_memory`, memory blocks). */
  readonly hotplug: MemoryHotplug;
}

/** `struct dax_kmem_data`: the iomem reservation of each range (undefined once removed). */
interface KmemData {
  readonly resName: string;
  readonly res: (Resource | undefined)[];
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/**
 * The kmem driver of one machine (`modprobe kmem`: `dax_kmem_init()`).
 * @public
 */
export class DaxKmem {
  /** The `kmem` driver on the dax bus. */
  readonly driver: DeviceDriver;
  private readonly kernel: Kernel;
  private readonly hotplug: MemoryHotplug;
  private readonly data = new Map<DevDax, KmemData>();

  constructor(options: DaxKmemOptions) {
    if (typeof options !== 'object' || options === null || !(options.kernel instanceof Kernel) || !(options.dax instanceof DaxBus) || !(options.hotplug instanceof MemoryHotplug)) {
      throw new KernelError('EINVAL', 'kmem: kernel, dax and hotplug are required');
    }
    this.kernel = options.kernel;
    this.hotplug = options.hotplug;
    const traced = (name: string, fn: (d: DevDax) => void) => (d: DevDax): void => {
      const t = this.kernel.tracer;
      if (t.enabled) t.call(name, [d], () => fn(d));
      else fn(d);
    };
    this.driver = options.dax.daxDriverRegister(
      'kmem',
      false,
      traced('dev_dax_kmem_probe', (d) => this.probe(d)),
      traced('dev_dax_kmem_remove', (d) => this.remove(d)),
    );
  }

  /**
   * `dax_kmem_range()`: range `i` of `dev` trimmed to whole memory blocks,
   * or undefined when nothing is left (-ENOSPC in the kernel).
   */
  kmemRange(dev: DevDax, i: number): Range | undefined {
    checkUnsigned('dax_kmem_range', 'range', i);
    if (!(dev instanceof DevDax) || i >= dev.ranges.length) throw new KernelError('EINVAL', `dax_kmem_range: no range ${i}`);
    const r = dev.ranges[i]!.range;
    const bs = this.hotplug.blockSize;
    const start = align(r.start, bs);
    const end = alignDown(r.end + 1, bs) - 1;
    if (start >= end) return undefined;
    return { start, end };
  }

  /** Whether kmem holds memory of `dev` (a range it added and could not remove yet). */
  hasMemory(dev: DevDax): boolean {
    if (!(dev instanceof DevDax)) throw new KernelError('EINVAL', 'kmem: not a dax device');
    return this.data.get(dev)?.res.some((r) => r !== undefined) ?? false;
  }

  /**
   * `dev_dax_kmem_probe()`: see the file comment. EINVAL for a device
   * without a target node ("rejecting DAX region with invalid node: %d") or
   * without a whole memory block; EBUSY when no range could be reserved;
   * the add's error when no range could be added. Ranges after the first
   * added one only warn. Nothing stays behind on failure.
   */
  private probe(dev: DevDax): void {
    const nid = dev.targetNode;
    if (nid < 0) {
      devWarn(dev, `rejecting DAX region with invalid node: ${nid}`);
      throw new KernelError('EINVAL', `rejecting DAX region with invalid node: ${nid}`);
    }
    let total = 0;
    for (let i = 0; i < dev.ranges.length; i++) {
      const range = this.kmemRange(dev, i);
      if (range === undefined) {
        const r = dev.ranges[i]!.range;
        devInfo(dev, `mapping${i}: ${hex(r.start)}-${hex(r.end)} too small after alignment`);
        continue;
      }
      total += range.end - range.start + 1;
    }
    if (total === 0) {
      devWarn(dev, 'rejecting DAX region without any memory after alignment');
      throw new KernelError('EINVAL', 'rejecting DAX region without any memory after alignment');
    }
    const data: KmemData = { resName: devName(dev), res: [] };
    const iomem = this.kernel.iomem;
    let mapped = 0;
    const undo = (): void => {
      for (const [i, res] of data.res.entries()) {
        if (res === undefined) continue;
        const range = this.kmemRange(dev, i)!;
        this.hotplug.removeMemory(nid, range.start, range.end - range.start + 1);
        iomem.releaseResource(res);
      }
    };
    for (let i = 0; i < dev.ranges.length; i++) {
      const range = this.kmemRange(dev, i);
      if (range === undefined) {
        data.res.push(undefined);
        continue;
      }
      const len = range.end - range.start + 1;
      const res = iomem.requestMemRegion(range.start, len, data.resName);
      if (res === undefined) {
        devWarn(dev, `mapping${i}: ${hex(range.start)}-${hex(range.end)} could not reserve region`);
        data.res.push(undefined);
        if (mapped > 0) continue;
        undo();
        throw new KernelError('EBUSY', `mapping${i}: ${hex(range.start)}-${hex(range.end)} could not reserve region`);
      }
      // Temporarily clear the busy bit: the hot-added System RAM nests below.
      res.flags = IORESOURCE_SYSTEM_RAM;
      try {
        this.hotplug.addMemoryDriverManaged(nid, range.start, len, KMEM_RESOURCE_NAME);
      } catch (e) {
        devWarn(dev, `mapping${i}: ${hex(range.start)}-${hex(range.end)} memory add failed`);
        iomem.releaseResource(res);
        data.res.push(undefined);
        if (mapped > 0) continue;
        undo();
        throw e;
      }
      data.res.push(res);
      mapped++;
    }
    this.data.set(dev, data);
    dev.driverData = data;
  }

  /**
   * `dev_dax_kmem_remove()`: `remove_memory()` of each range; a range with
   * online blocks stays added ("mapping%d: %#llx-%#llx cannot be hotremoved
   * until the next reboot") and its data is kept, as the kernel leaks it.
   */
  private remove(dev: DevDax): void {
    const data = this.data.get(dev);
    if (data === undefined) return;
    let success = 0;
    for (let i = 0; i < dev.ranges.length; i++) {
      const res = data.res[i];
      const range = this.kmemRange(dev, i);
      if (range === undefined || res === undefined) {
        success++;
        continue;
      }
      try {
        this.hotplug.removeMemory(dev.targetNode, range.start, range.end - range.start + 1);
      } catch (e) {
        devDbg(dev, (e as Error).message);
        devErr(dev, `mapping${i}: ${hex(range.start)}-${hex(range.end)} cannot be hotremoved until the next reboot`);
        continue;
      }
      this.kernel.iomem.releaseResource(res);
      data.res[i] = undefined;
      success++;
    }
    if (success >= dev.ranges.length) this.data.delete(dev);
  }
}
