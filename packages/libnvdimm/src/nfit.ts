/**
 * The ACPI NFIT as QEMU builds it for `-device nvdimm` (hw/acpi/nvdimm.c),
 * and the parts of drivers/acpi/nfit/core.c that turn it into nd bus
 * objects: `acpi_nfit_register_dimms()` (one `nmemN` per memory-device
 * handle, with the `nfit/` attribute group of `acpi_nfit_dimm_attribute_groups`)
 * and the DIMM side of drivers/nvdimm/dimm_devs.c / dimm.c (`nvdimm_create()`,
 * the `ND_CMD_GET_CONFIG_SIZE` / `GET_CONFIG_DATA` / `SET_CONFIG_DATA`
 * commands on the label storage area, `nvdimm_probe()` reading it through
 * `nd_label_data_init()`).
 *
 * QEMU's NFIT for the DIMM in slot `s`: SPA range structure index `s + 1`
 * (persistent-memory GUID), memory device to region mapping with handle
 * `s + 1` and physical id `s`, an NVDIMM control region with vendor 0x8086,
 * device 1, revision 1, serial `0x123456 + s` and format interface code
 * 0x301. The kernel reads vendor/device/revision/serial big-endian
 * (`be16_to_cpu()`, `be32_to_cpu()` of the little-endian table fields), so
 * sysfs shows `0x8680`, `0x0100`, `0x0100` and `0x56341200` for slot 0, as
 * on a real QEMU guest. With a label area (`label-size=`) QEMU's _DSM
 * answers the Intel-family functions 4, 5 and 6 (`dsm_mask` 0x70).
 */
import { Device, KernelError, checkUnsigned } from '@zonedev/kernel';
import type { AttributeGroup } from '@zonedev/kernel';
import type { NdMedia } from './btt-media.js';
import type { NfitSetMember } from './namespace-pmem.js';

/** `ND_CMD_DIMM_FLAGS` .. `ND_CMD_CALL` (include/uapi/linux/ndctl.h). @public */
export const ND_CMD_GET_CONFIG_SIZE = 4;
/** @public */
export const ND_CMD_GET_CONFIG_DATA = 5;
/** @public */
export const ND_CMD_SET_CONFIG_DATA = 6;
/** @public */
export const ND_CMD_CALL = 10;

/** `nvdimm_cmd_name()` (include/uapi/linux/ndctl.h). */
const NVDIMM_CMD_NAMES: Readonly<Record<number, string>> = {
  1: 'smart',
  2: 'smart_thresh',
  3: 'flags',
  4: 'get_size',
  5: 'get_data',
  6: 'set_data',
  7: 'effect_size',
  8: 'effect_log',
  9: 'vendor',
  10: 'cmd_call',
};

/** `nvdimm_cmd_name(cmd)`. @public */
export function nvdimmCmdName(cmd: number): string {
  checkUnsigned('nvdimm_cmd_name', 'cmd', cmd, 0xffffffff);
  return NVDIMM_CMD_NAMES[cmd] ?? 'unknown';
}

/** QEMU's maximum label transfer per _DSM call (`nvdimm_get_max_xfer_label_size()`). @public */
export const QEMU_NVDIMM_MAX_XFER = 4076;

/**
 * A memory device of the NFIT (one QEMU `-device nvdimm`).
 * @public
 */
export interface NfitDimm {
  /** The NFIT device handle (`nfit/handle`; QEMU: slot + 1). */
  readonly handle: number;
  /** The SMBIOS physical id (`nfit/phys_id`; QEMU: the slot). */
  readonly physId: number;
  /** The SPA range this DIMM maps (index into {@link NfitDescriptor.spaRanges}); several DIMMs on one range interleave. */
  readonly spaRange: number;
  /** `memdev->region_offset`: the DIMM's offset in its interleave set (default 0, QEMU's value). */
  readonly regionOffset?: number;
  /** The label storage area (QEMU's `label-size=`), persistent like the media; none: a label-less DIMM. */
  readonly labelArea?: NdMedia;
  /** Control region fields as QEMU writes them (little-endian table values); defaults are QEMU's. */
  readonly vendorId?: number;
  readonly deviceId?: number;
  readonly revisionId?: number;
  readonly serialNumber?: number;
  readonly formatCode?: number;
  /** Memory-device state flags (`ACPI_NFIT_MEM_*`, bit 3 NOT_ARMED for QEMU's `unarmed=on`). */
  readonly memFlags?: number;
}

/**
 * A system-physical-address range structure (persistent memory).
 * @public
 */
export interface NfitSpaRange {
  readonly start: number;
  readonly size: number;
  /** The proximity domain (node), default 0. */
  readonly node?: number;
}

/**
 * What `Libnvdimm.registerNfit()` takes: the SPA ranges and the DIMMs.
 * @public
 */
export interface NfitDescriptor {
  readonly spaRanges: readonly NfitSpaRange[];
  readonly dimms: readonly NfitDimm[];
  /**
   * Address range scrub in the platform firmware: the clear-error unit its
   * `ARS_CAP` reports (a power of two). QEMU's NFIT has no ARS (none).
   */
  readonly arsClearErrUnit?: number;
  /**
   * How fast that firmware scrubs, in bytes per (simulated) second: an
   * address range scrub of every SPA range takes their total size at this
   * rate. Default 256 MiB/s.
   */
  readonly arsBytesPerSecond?: number;
}

/** `swab16()`: what `be16_to_cpu()` makes of a little-endian u16 on x86. */
function swab16(v: number): number {
  return (v % 256) * 256 + Math.floor(v / 256);
}

/** `swab32()`. */
function swab32(v: number): number {
  const b0 = v % 256;
  const b1 = Math.floor(v / 256) % 256;
  const b2 = Math.floor(v / 65536) % 256;
  const b3 = Math.floor(v / 16777216) % 256;
  return ((b0 * 256 + b1) * 256 + b2) * 256 + b3;
}

function hex4(v: number): string {
  return `0x${v.toString(16).padStart(4, '0')}`;
}

/** The `ACPI_NFIT_MEM_*` flag names of `flags_show()` (drivers/acpi/nfit/core.c), in bit order. */
const NFIT_MEM_FLAG_NAMES = ['save_fail ', 'restore_fail ', 'flush_fail ', 'not_armed ', 'smart_event ', 'map_fail ', 'smart_notify '];

/**
 * The field widths of the ACPI 6.3 NFIT structures a DIMM is described by
 * (Memory Device to SPA Range Mapping: the 32-bit NFIT device handle, the
 * 16-bit physical id and SPA range index; NVDIMM Control Region: the
 * 16-bit ids and format code, the 32-bit serial number), EINVAL for a value
 * the table could not hold (acpi_nfit_add_dimm(), drivers/acpi/nfit/core.c).
 */
function checkNfitDimm(f: string, d: NfitDimm): void {
  checkUnsigned(f, 'handle', d.handle, 0xffffffff);
  checkUnsigned(f, 'phys_id', d.physId, 0xffff);
  checkUnsigned(f, 'spa range', d.spaRange, 0xffff);
  if (d.regionOffset !== undefined) checkUnsigned(f, 'region offset', d.regionOffset);
  for (const [what, v] of [['vendor_id', d.vendorId], ['device_id', d.deviceId], ['revision_id', d.revisionId], ['code', d.formatCode], ['flags', d.memFlags]] as const) {
    if (v !== undefined) checkUnsigned(f, what, v, 0xffff);
  }
  if (d.serialNumber !== undefined) checkUnsigned(f, 'serial_number', d.serialNumber, 0xffffffff);
  if (d.labelArea !== undefined && (typeof d.labelArea !== 'object' || d.labelArea === null || typeof d.labelArea.read !== 'function' || !Number.isSafeInteger(d.labelArea.size))) {
    throw new KernelError('EINVAL', `${f}: DIMM ${d.handle}: bad label area`);
  }
}

/**
 * `struct nvdimm` (drivers/nvdimm/nd-core.h): the `nmemN` device of one
 * NFIT memory device, and `struct nvdimm_drvdata`'s config area.
 * @public
 */
export class NvdimmDimm extends Device {
  /** The `nmemN` number. */
  readonly dimmId: number;
  /** The NFIT memory device. */
  readonly nfit: NfitDimm;
  /** `nvdimm->cmd_mask`. */
  readonly cmdMask: readonly number[];
  /** `nfit_mem->dsm_mask`. */
  readonly dsmMask: number;
  /** Enabled namespaces using this DIMM (`nvdimm->busy`). */
  busy = 0;

  constructor(id: number, parent: Device, nfit: NfitDimm) {
    super({ name: `nmem${dimmId(id)}`, parent: dimmParent(parent) });
    if (typeof nfit !== 'object' || nfit === null) throw new KernelError('EINVAL', `nvdimm_create: invalid descriptor ${String(nfit)}`);
    checkNfitDimm('nvdimm_create', nfit);
    this.dimmId = id;
    this.nfit = nfit;
    this.dsmMask = nfit.labelArea !== undefined ? 0x70 : 0;
    this.cmdMask = nfit.labelArea !== undefined ? [ND_CMD_GET_CONFIG_SIZE, ND_CMD_GET_CONFIG_DATA, ND_CMD_SET_CONFIG_DATA, ND_CMD_CALL] : [ND_CMD_CALL];
  }

  /** `NDD_LABELING`: the DIMM has a label storage area. */
  get labeling(): boolean {
    return this.nfit.labelArea !== undefined;
  }

  /** `ND_CMD_GET_CONFIG_SIZE`: `{ config_size, max_xfer }`; ENOTTY without a label area. */
  getConfigSize(): { readonly configSize: number; readonly maxXfer: number } {
    const la = this.requireLabels(ND_CMD_GET_CONFIG_SIZE);
    return { configSize: la.size, maxXfer: QEMU_NVDIMM_MAX_XFER };
  }

  /** `ND_CMD_GET_CONFIG_DATA` at `offset` (at most max_xfer bytes; ENXIO beyond the area). */
  getConfigData(offset: number, length: number): Uint8Array {
    const la = this.requireLabels(ND_CMD_GET_CONFIG_DATA);
    this.checkXfer('nvdimm_get_config_data', la, offset, length);
    const out = new Uint8Array(length);
    la.read(offset, out);
    return out;
  }

  /** `ND_CMD_SET_CONFIG_DATA` at `offset`. */
  setConfigData(offset: number, data: Uint8Array): void {
    const la = this.requireLabels(ND_CMD_SET_CONFIG_DATA);
    if (!(data instanceof Uint8Array)) throw new KernelError('EINVAL', 'nvdimm_set_config_data: data must be a Uint8Array');
    this.checkXfer('nvdimm_set_config_data', la, offset, data.length);
    la.write(offset, data);
  }

  private requireLabels(cmd: number): NdMedia {
    const la = this.nfit.labelArea;
    if (la === undefined || !this.cmdMask.includes(cmd)) throw new KernelError('ENOTTY', `${this.name ?? 'nmem'}: ${nvdimmCmdName(cmd)} not supported`);
    return la;
  }

  private checkXfer(fn: string, la: NdMedia, offset: number, length: number): void {
    checkUnsigned(fn, 'offset', offset);
    checkUnsigned(fn, 'length', length);
    if (length > QEMU_NVDIMM_MAX_XFER) throw new KernelError('EINVAL', `${fn}: length ${length} above max_xfer ${QEMU_NVDIMM_MAX_XFER}`);
    if (offset > la.size || length > la.size - offset) throw new KernelError('ENXIO', `${fn}: 0x${offset.toString(16)}+0x${length.toString(16)} beyond config size 0x${la.size.toString(16)}`);
  }
}

/** QEMU's control region defaults for the DIMM in `slot`. */
function dcr(d: NfitDimm): { vendor: number; device: number; rev: number; serial: number; format: number } {
  return {
    vendor: d.vendorId ?? 0x8086,
    device: d.deviceId ?? 1,
    rev: d.revisionId ?? 1,
    serial: d.serialNumber ?? 0x123456 + d.physId,
    format: d.formatCode ?? 0x301,
  };
}

/** `acpi_nfit_dimm_attribute_group`: `nmemN/nfit/*` as drivers/acpi/nfit/core.c prints them. */
export function nfitDimmAttrs(): AttributeGroup {
  const D = (d: Device): NvdimmDimm => d as NvdimmDimm;
  return {
    name: 'nfit',
    attrs: [
      { name: 'handle', mode: 0o444, show: (d) => `0x${D(d).nfit.handle.toString(16)}\n` },
      { name: 'phys_id', mode: 0o444, show: (d) => `0x${D(d).nfit.physId.toString(16)}\n` },
      { name: 'vendor', mode: 0o444, show: (d) => `${hex4(swab16(dcr(D(d).nfit).vendor))}\n` },
      { name: 'device', mode: 0o444, show: (d) => `${hex4(swab16(dcr(D(d).nfit).device))}\n` },
      { name: 'rev_id', mode: 0o444, show: (d) => `${hex4(swab16(dcr(D(d).nfit).rev))}\n` },
      { name: 'subsystem_vendor', mode: 0o444, show: () => '0x0000\n' },
      { name: 'subsystem_device', mode: 0o444, show: () => '0x0000\n' },
      { name: 'subsystem_rev_id', mode: 0o444, show: () => '0x0000\n' },
      { name: 'format', mode: 0o444, show: (d) => `${hex4(dcr(D(d).nfit).format)}\n` },
      { name: 'formats', mode: 0o444, show: () => '1\n' },
      { name: 'serial', mode: 0o444, show: (d) => `0x${swab32(dcr(D(d).nfit).serial).toString(16).padStart(8, '0')}\n` },
      { name: 'family', mode: 0o444, show: () => '0\n' },
      { name: 'dsm_mask', mode: 0o444, show: (d) => (D(d).dsmMask === 0 ? '0\n' : `0x${D(d).dsmMask.toString(16)}\n`) },
      {
        name: 'flags',
        mode: 0o444,
        show: (d) => {
          let f = D(d).nfit.memFlags ?? 0;
          let s = '';
          for (const n of NFIT_MEM_FLAG_NAMES) {
            if (f % 2 === 1) s += n;
            f = Math.floor(f / 2);
          }
          return `${s}\n`;
        },
      },
      {
        name: 'id',
        mode: 0o444,
        show: (d) => {
          const c = dcr(D(d).nfit);
          return `${swab16(c.vendor).toString(16).padStart(4, '0')}-${swab32(c.serial).toString(16).padStart(8, '0')}\n`;
        },
      },
    ],
  };
}

/** The DIMM's part of its interleave set (`acpi_nfit_init_interleave_set()`): QEMU's region offset is 0. */
export function nfitSetMember(d: NfitDimm): NfitSetMember {
  const c = dcr(d);
  return { regionOffset: d.regionOffset ?? 0, serialNumber: c.serial, vendorId: c.vendor };
}

/** Validates an NFIT descriptor: ranges in the physical address space, each DIMM on one range, handles unique. */
export function checkNfitDescriptor(desc: NfitDescriptor, maxPhys: (start: number, size: number) => void): void {
  if (
    typeof desc !== 'object' ||
    desc === null ||
    !Array.isArray(desc.spaRanges) ||
    !Array.isArray(desc.dimms) ||
    [...desc.spaRanges, ...desc.dimms].some((x: unknown) => typeof x !== 'object' || x === null)
  ) {
    throw new KernelError('EINVAL', 'acpi_nfit_init: malformed NFIT');
  }
  for (const r of desc.spaRanges) {
    maxPhys(r.start, r.size);
    if (r.size === 0) throw new KernelError('EINVAL', 'acpi_nfit_init: empty SPA range');
    if (r.node !== undefined) checkUnsigned('acpi_nfit_init', 'proximity domain', r.node);
  }
  if (desc.arsClearErrUnit !== undefined && (!Number.isSafeInteger(desc.arsClearErrUnit) || desc.arsClearErrUnit <= 0 || 2 ** Math.round(Math.log2(desc.arsClearErrUnit)) !== desc.arsClearErrUnit)) {
    throw new KernelError('EINVAL', 'acpi_nfit_init: invalid ARS clear-error unit');
  }
  if (desc.arsBytesPerSecond !== undefined && (!Number.isSafeInteger(desc.arsBytesPerSecond) || desc.arsBytesPerSecond <= 0)) {
    throw new KernelError('EINVAL', 'acpi_nfit_init: invalid ARS rate');
  }
  const handles = new Set<number>();
  for (const d of desc.dimms) {
    checkNfitDimm('acpi_nfit_init', d);
    if (d.spaRange >= desc.spaRanges.length) throw new KernelError('EINVAL', `acpi_nfit_init: DIMM ${d.handle} maps no SPA range`);
    if (handles.has(d.handle)) throw new KernelError('EINVAL', `acpi_nfit_init: duplicate handle ${d.handle}`);
    handles.add(d.handle);
  }
  for (let i = 0; i < desc.spaRanges.length; i++) {
    const ways = desc.dimms.filter((d) => d.spaRange === i).length;
    if (ways > 1 && desc.spaRanges[i]!.size % (ways * 4096) !== 0) {
      throw new KernelError('EINVAL', `acpi_nfit_init: SPA range ${i + 1} does not divide among its ${ways} DIMMs`);
    }
  }
}

/** EINVAL unless `id` is an ida number. */
function dimmId(id: unknown): number {
  checkUnsigned('nvdimm_create', 'id', id, 0x7fffffff);
  return id;
}

/** EINVAL unless `parent` is a device (the nvdimm bus). */
function dimmParent(parent: unknown): Device {
  if (!(parent instanceof Device)) throw new KernelError('EINVAL', `nvdimm_create: invalid parent ${String(parent)}`);
  return parent;
}
