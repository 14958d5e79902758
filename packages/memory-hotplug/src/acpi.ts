/**
 * The ACPI memory device driver's hot-add (drivers/acpi/acpi_memhotplug.c,
 * v5.13): what runs when a DIMM is plugged into a running machine (QEMU's
 * `device_add pc-dimm`) and the firmware announces a PNP0C80 memory device.
 *
 * The driver does not insist on memmap_on_memory: it asks
 * `mhp_supports_memmap_on_memory()` first and passes
 * `MHP_MEMMAP_ON_MEMORY` only when the answer is yes, so a DIMM the feature
 * cannot serve (in v5.13: anything but exactly one memory block) silently
 * gets its memmap in RAM. `add_memory_resource()` itself fails with -EINVAL
 * when given the flag for such a range.
 */
import { KernelError, checkPhysRange, checkUnsigned, isKernelError } from '@zonedev/kernel';
import { MHP_MEMMAP_ON_MEMORY, MHP_NONE } from './arch.js';
import { MemoryHotplug as MemoryHotplugClass } from './memory-hotplug.js';
import type { MemoryHotplug } from './memory-hotplug.js';

/**
 * `acpi_memory_enable_device()` for one memory range of a device: adds
 * `[start, start + size)` on node `nid` with `__add_memory()`, with the
 * memmap on the memory itself where supported. A range that is already in
 * use (-EEXIST) counts as enabled only when `acpi_bind_memory_blocks()` can
 * bind the device to memory blocks covering the whole range, i.e. the range
 * is System RAM that memory hotplug already added; over memory another
 * owner holds (a `memremap_pages()` range, which has no memory blocks, or
 * a range only partly present) the device is not enabled, so that its
 * later eject never runs `__remove_memory()` over sections it does not
 * own (v5.13 binds whatever blocks it finds, none for a pgmap, and counts
 * the device enabled; the model refuses there). Any other failure logs
 * "acpi <device>: add_memory failed" (`dev_err()` on the ACPI device) and
 * throws -EINVAL, having added nothing. Returns whether the memmap went on
 * the memory.
 *
 * `device` is the ACPI device's name, `<_HID>:<instance>` as
 * `acpi_device_set_name()` makes it (`"%s:%02x"`, the instance counting the
 * devices of that _HID in namespace order): `PNP0C80:00` for QEMU's first
 * memory slot, `PNP0C80:01` for the second.
 * @public
 */
export function acpiMemoryEnableDevice(hp: MemoryHotplug, device: string, nid: number, start: number, size: number): boolean {
  if (!(hp instanceof MemoryHotplugClass)) throw new KernelError('EINVAL', `acpi_memory_enable_device: not memory hotplug: ${String(hp)}`);
  if (typeof device !== 'string') throw new KernelError('EINVAL', `acpi_memory_enable_device: invalid device ${String(device)}`);
  checkUnsigned('acpi_memory_enable_device', 'nid', nid);
  checkPhysRange('acpi_memory_enable_device', start, size);
  if (size === 0) throw new KernelError('EINVAL', 'add_memory failed');
  let flags = MHP_NONE;
  if (hp.mhpSupportsMemmapOnMemory(size)) flags = MHP_MEMMAP_ON_MEMORY;
  try {
    hp.__addMemory(nid, start, size, flags);
  } catch (e) {
    if (!isKernelError(e)) throw e;
    if (isKernelError(e, 'EEXIST') && boundBlocks(hp, start, size) * hp.blockSize === size) return false;
    hp.kernel.log.err(`acpi ${device}: add_memory failed`);
    throw new KernelError('EINVAL', `add_memory failed: ${e.message}`);
  }
  return flags === MHP_MEMMAP_ON_MEMORY;
}

/** How many memory blocks `acpi_bind_memory_blocks()` finds in `[start, start + size)` (drivers/acpi/acpi_memhotplug.c). */
function boundBlocks(hp: MemoryHotplug, start: number, size: number): number {
  let n = 0;
  hp.memory.walkMemoryBlocks(start, size, () => {
    n++;
    return 0;
  });
  return n;
}
