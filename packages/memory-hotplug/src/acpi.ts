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
import { KernelError, isKernelError } from '@zonedev/kernel';
import { MHP_MEMMAP_ON_MEMORY, MHP_NONE } from './arch.js';
import type { MemoryHotplug } from './memory-hotplug.js';

/**
 * `acpi_memory_enable_device()` for one memory range of a device: adds
 * `[start, start + size)` on node `nid` with `__add_memory()`, with the
 * memmap on the memory itself where supported. A range that is already in
 * use (-EEXIST) counts as enabled; any other failure logs
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
  if (size === 0) throw new KernelError('EINVAL', 'add_memory failed');
  let flags = MHP_NONE;
  if (hp.mhpSupportsMemmapOnMemory(size)) flags = MHP_MEMMAP_ON_MEMORY;
  try {
    hp.__addMemory(nid, start, size, flags);
  } catch (e) {
    if (isKernelError(e, 'EEXIST')) return false;
    if (!isKernelError(e)) throw e;
    hp.kernel.log.err(`acpi ${device}: add_memory failed`);
    throw new KernelError('EINVAL', `add_memory failed: ${e.message}`);
  }
  return flags === MHP_MEMMAP_ON_MEMORY;
}
