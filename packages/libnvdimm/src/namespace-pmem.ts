/**
 * Labelled PMEM namespaces: the part of libnvdimm that divides a region on
 * DIMMs with a label storage area into namespaces userspace can create,
 * resize and delete, and that finds them again on the next boot.
 *
 * A labelled region's capacity is *device physical address* (DPA) space on
 * each DIMM behind it. A namespace owns one extent of that space per DIMM,
 * named after its uuid (`pmem-<uuid>`, `nd_label_gen_id()`); the kernel
 * keeps the extents as a resource tree per DIMM (`ndd->dpa`) and records
 * each one in a namespace label in the DIMM's label area (src/label.ts).
 * At boot the `nvdimm` driver reserves the extents of the labels it finds
 * (`nd_label_reserve_dpa()`), and the region driver turns each label whose
 * interleave-set cookie matches the region into a `namespace_pmem` device
 * (`scan_labels()`, `create_namespace_pmem()`). A region without labels
 * publishes one zero-sized namespace for userspace to configure: writing
 * its `uuid`, `alt_name` and then `size` allocates DPA and writes the label.
 *
 * The interleave-set cookie ties a label to the region it was written for:
 * the ACPI NFIT provider computes it from the DIMMs' region offsets and
 * serial numbers (`acpi_nfit_init_interleave_set()`), in two forms — one
 * for v1.1 label areas, one for v1.2.
 *
 * Mirrors `struct nd_namespace_pmem` and the DPA helpers of
 * drivers/nvdimm/namespace_devs.c, dimm_devs.c and region_devs.c, and the
 * cookie of drivers/acpi/nfit/core.c (Linux v5.13).
 */
import { KernelError } from '@zonedev/kernel';
import { NdNamespaceIo } from './devices.js';
import type { NdRegion } from './devices.js';
import { formatUuid } from './nd.js';
import { ndFletcher64 } from './fletcher.js';

/**
 * `struct nd_interleave_set`: the cookies that bind labels to a region, and
 * the SPA range's type guid written into v1.2 labels.
 * @public
 */
export interface NdInterleaveSet {
  /** Cookie of v1.1 label areas (`cookie1`). */
  readonly cookie1: bigint;
  /** Cookie of v1.2 label areas (`cookie2`). */
  readonly cookie2: bigint;
  /** The v1.1 cookie of the old, wrong sort order (`altcookie`). */
  readonly altcookie: bigint;
  /** `type_guid`: the SPA range's address range type GUID, 16 bytes as in the table. */
  readonly typeGuid: Uint8Array;
}

/**
 * One DIMM's part of an interleave set, as `acpi_nfit_init_interleave_set()`
 * reads it from the memory-device mapping and the control region.
 * @public
 */
export interface NfitSetMember {
  /** `memdev->region_offset`. */
  readonly regionOffset: number;
  /** `dcr->serial_number` (the table's little-endian value). */
  readonly serialNumber: number;
  /** `dcr->vendor_id`. */
  readonly vendorId: number;
  /** `dcr->manufacturing_date`. */
  readonly manufacturingDate?: number;
  /** `dcr->manufacturing_location`. */
  readonly manufacturingLocation?: number;
}

/** The persistent-memory address range type GUID (ACPI 6, `NFIT_SPA_PM`): 66f0d379-b4f3-4074-ac43-0d3318b78cdb, in table byte order. @public */
export const NFIT_SPA_PM_GUID: Uint8Array = new Uint8Array([0x79, 0xd3, 0xf0, 0x66, 0xf3, 0xb4, 0x74, 0x40, 0xac, 0x43, 0x0d, 0x33, 0x18, 0xb7, 0x8c, 0xdb]);

/**
 * `acpi_nfit_init_interleave_set()` (drivers/acpi/nfit/core.c): the v1.1
 * cookie is the Fletcher64 of `struct nfit_set_info` entries (region offset,
 * serial number, pad: 16 bytes each) sorted by region offset; the v1.2
 * cookie that of `struct nfit_set_info2` entries (48 bytes, with vendor id
 * and manufacturing date and location); the alternate cookie the v1.1 form
 * sorted by the bytes of the offset (`cmp_map_compat`, the order of old
 * kernels). Also returns each member's interleave position (its index after
 * the v1.2 sort). EINVAL for a malformed member.
 * @public
 */
export function nfitInterleaveSet(members: readonly NfitSetMember[], typeGuid: Uint8Array = NFIT_SPA_PM_GUID): NdInterleaveSet & { readonly positions: readonly number[] } {
  if (!Array.isArray(members) || members.length === 0) throw new KernelError('EINVAL', 'acpi_nfit_init_interleave_set: no mappings');
  if (!(typeGuid instanceof Uint8Array) || typeGuid.length !== 16) throw new KernelError('EINVAL', 'acpi_nfit_init_interleave_set: type guid must be 16 bytes');
  for (const m of members) {
    for (const [what, v, max] of [
      ['region offset', m.regionOffset, Number.MAX_SAFE_INTEGER],
      ['serial number', m.serialNumber, 0xffffffff],
      ['vendor id', m.vendorId, 0xffff],
      ['manufacturing date', m.manufacturingDate ?? 0, 0xffff],
      ['manufacturing location', m.manufacturingLocation ?? 0, 0xff],
    ] as const) {
      if (!Number.isSafeInteger(v) || v < 0 || v > max) throw new KernelError('EINVAL', `acpi_nfit_init_interleave_set: invalid ${what}`);
    }
  }
  const info = (list: readonly NfitSetMember[]): Uint8Array => {
    const b = new Uint8Array(16 * list.length);
    const v = new DataView(b.buffer);
    list.forEach((m, i) => {
      v.setBigUint64(16 * i, BigInt(m.regionOffset), true);
      v.setUint32(16 * i + 8, m.serialNumber, true);
    });
    return b;
  };
  const info2 = (list: readonly NfitSetMember[]): Uint8Array => {
    const b = new Uint8Array(48 * list.length);
    const v = new DataView(b.buffer);
    list.forEach((m, i) => {
      v.setBigUint64(48 * i, BigInt(m.regionOffset), true);
      v.setUint32(48 * i + 8, m.serialNumber, true);
      v.setUint16(48 * i + 12, m.vendorId, true);
      v.setUint16(48 * i + 14, m.manufacturingDate ?? 0, true);
      v.setUint8(48 * i + 16, m.manufacturingLocation ?? 0);
    });
    return b;
  };
  const byOffset = [...members].sort((a, b) => a.regionOffset - b.regionOffset);
  // cmp_map_compat: memcmp() of the little-endian u64, i.e. byte by byte from the low byte.
  const leBytes = (n: number): number[] => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
    return [...b];
  };
  const byBytes = [...members].sort((a, b) => {
    const x = leBytes(a.regionOffset);
    const y = leBytes(b.regionOffset);
    for (let i = 0; i < 8; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
    return 0;
  });
  const positions = members.map((m) => byOffset.indexOf(m));
  return {
    cookie1: ndFletcher64(info(byOffset), true),
    cookie2: ndFletcher64(info2(byOffset), true),
    altcookie: ndFletcher64(info(byBytes), true),
    typeGuid: typeGuid.slice(),
    positions,
  };
}

/**
 * One allocated extent of a DIMM's DPA space (a child of `ndd->dpa`): its
 * label id (`pmem-<uuid>`), start and size.
 */
export interface DpaResource {
  id: string;
  start: number;
  size: number;
}

/** `nd_label_gen_id()` for a pmem label: "pmem-<uuid>". */
export function pmemLabelId(uuid: Uint8Array): string {
  return `pmem-${formatUuid(uuid)}`;
}

/**
 * `struct nd_namespace_pmem`: a namespace of a labelled region, with its
 * uuid, `alt_name`, logical block size and id (`namespaceR.<id>`). Its
 * resource covers the region's range that its DPA extent maps; a namespace
 * without an extent has size 0.
 * @public
 */
export class NdNamespacePmem extends NdNamespaceIo {
  /** `nspm->id`. */
  readonly nsId: number;
  /** `nspm->uuid`, or undefined (reads "\n"). */
  uuid: Uint8Array | undefined;
  /** `nspm->alt_name` ("" when unset). */
  altName = '';
  /** `nspm->lbasize` (`sector_size`; 0 until set). */
  lbasize = 0;

  constructor(region: NdRegion, id: number) {
    super(region, id);
    this.nsId = id;
    this.res.end = this.res.start - 1;
  }
}

/** The extents of one DIMM, sorted by start. */
export function sortDpa(list: DpaResource[]): void {
  list.sort((a, b) => a.start - b.start);
}

/** `nvdimm_allocated_dpa()`: bytes allocated to `id` on this DIMM. */
export function allocatedDpa(list: readonly DpaResource[], id: string): number {
  let n = 0;
  for (const r of list) if (r.id === id) n += r.size;
  return n;
}

/** The free gaps of `[start, start + size)` not covered by `list`, in order. */
export function freeDpa(list: readonly DpaResource[], start: number, size: number): { start: number; size: number }[] {
  const out: { start: number; size: number }[] = [];
  let at = start;
  const end = start + size;
  for (const r of list) {
    if (r.start + r.size <= start || r.start >= end) continue;
    if (r.start > at) out.push({ start: at, size: r.start - at });
    at = Math.max(at, r.start + r.size);
  }
  if (at < end) out.push({ start: at, size: end - at });
  return out;
}
