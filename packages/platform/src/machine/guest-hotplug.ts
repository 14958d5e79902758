/**
 * The guest kernel's half of a DIMM hot-plug: what Linux v5.13 runs when
 * the platform announces that memory arrived or must go.
 *
 * x86_64 — ACPI (drivers/acpi/acpi_memhotplug.c, drivers/acpi/scan.c):
 *
 * ```
 *   plug:   acpi_memory_device_add() -> acpi_memory_enable_device()
 *             __add_memory(node of _PXM, start, size, MHP_MEMMAP_ON_MEMORY if
 *                          mhp_supports_memmap_on_memory(size))
 *   eject:  acpi_scan_hot_remove()
 *             acpi_scan_try_to_offline(): device_offline() of every memory
 *               block, twice (errors of the first pass ignored); if a block
 *               still refuses: "memory memoryN: Offline failed.", the blocks
 *               offlined are onlined again, -EBUSY, _OST "device busy"
 *             acpi_memory_device_remove() -> __remove_memory()
 * ```
 *
 * powerpc — pseries DLPAR (arch/powerpc/platforms/pseries/hotplug-memory.c),
 * one LMB (memory block) at a time, indexed by DRC:
 *
 * ```
 *   plug:   dlpar_memory_add_by_ic(): for each LMB, dlpar_add_lmb():
 *             __add_memory(nid, lmb, block size, MHP_NONE), then
 *             device_online() of its block (the default zone); on a failure
 *             every LMB added so far is removed again
 *   unplug: dlpar_memory_remove_by_ic(): for each LMB, dlpar_remove_lmb():
 *             device_offline() of its block, __remove_memory(); on a failure
 *             the LMBs removed so far are added (and onlined) again
 * ```
 *
 * Neither path calls `offline_and_remove_memory()` (virtio-mem and dax/kmem
 * do); both do its two steps themselves, with their own roll-back.
 */
import { isKernelError } from '@zonedev/kernel';
import { acpiMemoryEnableDevice, MHP_NONE } from '@zonedev/memory-hotplug';
import type { MemoryBlock } from '@zonedev/memory-hotplug';
import type { MachineCore } from './core.js';
import { hexRaw } from './util.js';

/** How the guest handled a request. */
export interface GuestResult {
  /** The guest added (or released) the memory. */
  readonly ok: boolean;
}

/** A DIMM as the guest learns of it: its range and node (ACPI _CRS and _PXM, or the LMBs' associativity), and its slot. */
export interface GuestDimm {
  /** Physical start (ACPI `_CRS`, or the first LMB's address). */
  readonly addr: number;
  /** Size in bytes. */
  readonly size: number;
  /** NUMA node (ACPI `_PXM`, or the LMBs' `ibm,associativity`). */
  readonly node: number;
  /** QEMU's memory slot: the x86_64 guest sees slot N as the ACPI device `MPxx` named `PNP0C80:<N>`. */
  readonly slot: number;
}

/** The LMBs the pseries guest holds (`DRCONF_MEM_ASSIGNED`), by LMB number. */
export type LmbSet = Set<number>;

const PSERIES = 'pseries-hotplug-mem: ';

/** Runs `f`; a KernelError becomes `false`, anything else is rethrown. */
function attempt(f: () => void): boolean {
  try {
    f();
    return true;
  } catch (e) {
    if (isKernelError(e)) return false;
    throw e;
  }
}

/** The memory blocks of `[start, start + size)`, in order. */
function blocksOf(m: MachineCore, start: number, size: number): MemoryBlock[] {
  const out: MemoryBlock[] = [];
  m.hotplug.memory.walkMemoryBlocks(start, size, (mem) => {
    out.push(mem);
    return 0;
  });
  return out;
}

/**
 * The guest's name of the ACPI memory device of QEMU slot `slot`. QEMU's
 * DSDT declares one device (`MP00`, `MP01`, ...) with _HID PNP0C80 per slot,
 * present or not, so Linux numbers them in slot order;
 * `acpi_device_set_name()` formats `"%s:%02x"`.
  *
  * @public
 */
export function acpiMemoryDeviceName(slot: number): string {
  return `PNP0C80:${slot.toString(16).padStart(2, '0')}`;
}

/**
 * The DIMMs whose ACPI memory device the driver attached to: those whose
 * `acpi_memory_enable_device()` succeeded (drivers/acpi/scan.c,
 * `acpi_scan_attach_handler()` keeps the handler only for a positive
 * return of `acpi_memory_device_add()`), each with whether its range was
 * added by this device or was already there (-EEXIST: bound, not added).
 */
const attached = new WeakMap<GuestDimm, { readonly added: boolean }>();

/** Whether any memory block exists in `[start, start + size)`. */
function anyBlock(m: MachineCore, start: number, size: number): boolean {
  let found = false;
  m.hotplug.memory.walkMemoryBlocks(start, size, () => {
    found = true;
    return 1;
  });
  return found;
}

/**
 * x86_64: `acpi_memory_device_add()` (drivers/acpi/acpi_memhotplug.c) for a
 * DIMM that QEMU plugged. When `acpi_memory_enable_device()` fails the
 * driver frees its data and does not attach, so a later eject has nothing
 * of it to remove. A range `__add_memory()` finds already added (-EEXIST,
 * memory blocks the `probe` file made) counts as enabled and the device
 * attaches, but the range stays its first owner's (see
 * {@link acpiMemoryEject}).
 */
export function acpiMemoryAdd(m: MachineCore, dimm: GuestDimm): GuestResult {
  const device = acpiMemoryDeviceName(dimm.slot);
  // __add_memory() succeeds only over a range no resource holds, so blocks there now mean -EEXIST.
  const present = anyBlock(m, dimm.addr, dimm.size);
  const ok = attempt(() => void acpiMemoryEnableDevice(m.hotplug, device, dimm.node, dimm.addr, dimm.size));
  if (ok) attached.set(dimm, { added: !present });
  // acpi_memory_device_add() reports the failed enable on the device itself.
  else m.kernel.log.err(`acpi ${device}: acpi_memory_enable_device() error`);
  return { ok };
}

/**
 * x86_64: the ACPI eject of a DIMM (`acpi_scan_hot_remove()`): offline its
 * blocks (`acpi_scan_try_to_offline()`), then `__remove_memory()`. A device
 * the memory driver never attached to (its add failed) has no memory
 * bound and nothing to remove (`acpi_bus_trim()` finds no handler): it
 * ejects at once.
 *
 * `acpi_memory_remove_memory()` removes only what the device added. v5.13
 * marks a range that was already present (-EEXIST) enabled as well, and
 * would offline and remove memory blocks another owner made (the `probe`
 * file's); the model's driver leaves such a range, its blocks and their
 * contents as they are and only lets the device go.
 */
export function acpiMemoryEject(m: MachineCore, dimm: GuestDimm): GuestResult {
  const state = attached.get(dimm);
  if (state === undefined) return { ok: true };
  if (!state.added) {
    attached.delete(dimm);
    return { ok: true };
  }
  const devices = m.kernel.devices;
  const blocks = blocksOf(m, dimm.addr, dimm.size);
  const putOnline = new Set<MemoryBlock>();
  const offline = (b: MemoryBlock): boolean =>
    attempt(() => {
      if (devices.deviceOffline(b) === 0) putOnline.add(b);
    });
  // acpi_bus_offline(), first pass: errors noted, not fatal.
  const failed = blocks.filter((b) => !offline(b));
  if (failed.length > 0) {
    // Second pass: only the blocks the first pass could not offline.
    const errdev = failed.find((b) => !offline(b));
    if (errdev !== undefined) {
      m.kernel.log.warn(`memory ${errdev.name!}: Offline failed.`);
      // acpi_bus_online(): put back what this eject offlined.
      for (const b of blocks) if (putOnline.has(b)) attempt(() => void devices.deviceOnline(b));
      return { ok: false };
    }
  }
  // acpi_memory_device_remove() -> acpi_memory_remove_memory().
  const ok = attempt(() => m.hotplug.__removeMemory(dimm.node, dimm.addr, dimm.size));
  if (ok) attached.delete(dimm);
  return { ok };
}

/** pseries: the LMB numbers and first DRC index of a DIMM. */
function lmbsOf(m: MachineCore, dimm: GuestDimm): { first: number; count: number; size: number } {
  const size = m.hotplug.blockSize;
  return { first: dimm.addr / size, count: dimm.size / size, size };
}

function drcIndex(lmb: number): number {
  return 0x80000000 + lmb;
}

/** `dlpar_add_lmb()`: add the LMB's memory and online its block; undone on failure. */
function dlparAddLmb(m: MachineCore, lmbs: LmbSet, lmb: number, nid: number): boolean {
  if (lmbs.has(lmb)) return false;
  const hp = m.hotplug;
  const size = hp.blockSize;
  const base = lmb * size;
  // lmb_set_nid(): the associativity's node, or the first online node.
  const node = hp.nodes.nodePossible(nid) ? nid : (m.mm.onlinePgdats()[0]?.nodeId ?? 0);
  if (!attempt(() => hp.__addMemory(node, base, size, MHP_NONE))) return false;
  const block = hp.memory.findMemoryBlock(base / 2 ** m.mm.config.sectionSizeBits);
  const online = block !== undefined && attempt(() => void (block.offline ? m.kernel.devices.deviceOnline(block) : 0));
  if (!online) {
    attempt(() => hp.__removeMemory(node, base, size));
    return false;
  }
  lmbs.add(lmb);
  return true;
}

/** `dlpar_remove_lmb()`: offline the LMB's block and remove its memory. */
function dlparRemoveLmb(m: MachineCore, lmbs: LmbSet, lmb: number): boolean {
  if (!lmbs.has(lmb)) return false;
  const hp = m.hotplug;
  const size = hp.blockSize;
  const base = lmb * size;
  const block = hp.memory.findMemoryBlock(base / 2 ** m.mm.config.sectionSizeBits);
  if (block === undefined) return false;
  if (!attempt(() => void (block.offline ? 0 : m.kernel.devices.deviceOffline(block)))) return false;
  if (!attempt(() => hp.__removeMemory(block.nid, base, size))) return false;
  lmbs.delete(lmb);
  return true;
}

/** pseries: `dlpar_memory_add_by_ic()` for the LMBs of a plugged DIMM. */
export function dlparMemoryAddByIc(m: MachineCore, lmbs: LmbSet, dimm: GuestDimm): GuestResult {
  const log = m.kernel.log;
  const { first, count, size } = lmbsOf(m, dimm);
  log.info(`${PSERIES}Attempting to hot-add ${count} LMB(s) at index ${hexRaw(drcIndex(first))}`);
  const added: number[] = [];
  let ok = true;
  for (let lmb = first; lmb < first + count; lmb++) {
    if (lmbs.has(lmb)) continue;
    if (!dlparAddLmb(m, lmbs, lmb, dimm.node)) {
      ok = false;
      break;
    }
    added.push(lmb);
  }
  if (!ok) {
    log.err(`${PSERIES}Memory indexed-count-add failed, removing any added LMBs`);
    for (const lmb of added) {
      if (!dlparRemoveLmb(m, lmbs, lmb)) log.err(`${PSERIES}Failed to remove LMB, drc index ${hexRaw(drcIndex(lmb))}`);
    }
    return { ok: false };
  }
  for (const lmb of added) log.info(`${PSERIES}Memory at ${hexRaw(lmb * size)} (drc index ${hexRaw(drcIndex(lmb))}) was hot-added`);
  return { ok: true };
}

/** pseries: `dlpar_memory_remove_by_ic()` for the LMBs of a DIMM being unplugged. */
export function dlparMemoryRemoveByIc(m: MachineCore, lmbs: LmbSet, dimm: GuestDimm): GuestResult {
  const log = m.kernel.log;
  const { first, count, size } = lmbsOf(m, dimm);
  log.info(`${PSERIES}Attempting to hot-remove ${count} LMB(s) at ${hexRaw(drcIndex(first))}`);
  const removed: { lmb: number; nid: number }[] = [];
  let ok = true;
  for (let lmb = first; lmb < first + count; lmb++) {
    if (!lmbs.has(lmb)) continue;
    const block = m.hotplug.memory.findMemoryBlock((lmb * size) / 2 ** m.mm.config.sectionSizeBits);
    const nid = block?.nid ?? dimm.node;
    if (!dlparRemoveLmb(m, lmbs, lmb)) {
      ok = false;
      break;
    }
    removed.push({ lmb, nid });
  }
  if (!ok) {
    log.err(`${PSERIES}Memory indexed-count-remove failed, adding any removed LMBs`);
    for (const r of removed) {
      if (!dlparAddLmb(m, lmbs, r.lmb, r.nid)) log.err(`${PSERIES}Failed to add LMB, drc index ${hexRaw(drcIndex(r.lmb))}`);
    }
    return { ok: false };
  }
  for (const r of removed) log.info(`${PSERIES}Memory at ${hexRaw(r.lmb * size)} (drc index ${hexRaw(drcIndex(r.lmb))}) was hot-removed`);
  return { ok: true };
}
