/**
 * `struct page` as a value, and the page frame number.
 *
 * In the kernel a `struct page` is 64 bytes of the memmap (`sizeof(struct
 * page)`, include/linux/mm_types.h): `flags`, a union of list heads and
 * pointers (`lru`, `mapping`, `index`, `private`, or for ZONE_DEVICE `pgmap`
 * and `zone_device_data`), `_mapcount`/`page_type` and `_refcount`. The model
 * keeps the fields later layers read and write. {@link StructPage} is the
 * plain-value view of one page; the memmap store (memmap.ts) keeps millions of
 * them without one JavaScript object per page, and uses StructPage values as
 * *templates*: "every page of this section looks like this".
 */
import { KernelError, checkUnsigned } from '@zonedev/kernel';

/**
 * `sizeof(struct page)` on 64-bit kernels: what the simulated memmap costs
 * per page (`MAX_STRUCT_PAGE_SIZE` in drivers/nvdimm/nd.h is this value).
 * @public
 */
export const STRUCT_PAGE_SIZE = 64;

/**
 * The fields of one struct page, as a value.
 * @public
 */
export interface StructPage {
  /** `page->flags`, bits 0..31 (the page flags live here). */
  readonly flagsLo: number;
  /** `page->flags`, bits 32..63 (node, zone, section, ... fields). */
  readonly flagsHi: number;
  /** `page->_refcount`. */
  readonly refcount: number;
  /** `page->_mapcount`, which is also `page->page_type` (-1: unmapped, no type). */
  readonly mapcount: number;
  /** `page->private` (the buddy order of a free block head). */
  readonly private: number;
  /** `page->pgmap` of a ZONE_DEVICE page (an opaque `struct dev_pagemap`). */
  readonly pgmap: unknown;
  /** `page->mapping` (anon_vma or address_space; opaque here). */
  readonly mapping: unknown;
  /** `page->index`. */
  readonly index: number;
  /** `page->zone_device_data` of a ZONE_DEVICE page (opaque). */
  readonly zoneDeviceData: unknown;
}

/**
 * A struct page as `mm_zero_struct_page()` leaves it: every field zero.
 * @public
 */
export const ZERO_STRUCT_PAGE: StructPage = Object.freeze({
  flagsLo: 0,
  flagsHi: 0,
  refcount: 0,
  mapcount: 0,
  private: 0,
  pgmap: undefined,
  mapping: undefined,
  index: 0,
  zoneDeviceData: undefined,
});

/**
 * A struct page as `page_init_poison()` leaves it: every byte 0xff, so
 * `PagePoisoned()` (flags == -1) catches use of an uninitialized memmap.
 * @public
 */
export const POISONED_STRUCT_PAGE: StructPage = Object.freeze({
  flagsLo: 0xffffffff,
  flagsHi: 0xffffffff,
  refcount: -1,
  mapcount: -1,
  private: -1,
  pgmap: undefined,
  mapping: undefined,
  index: -1,
  zoneDeviceData: undefined,
});

/**
 * EINVAL unless `v` is an integer a 32-bit word holds, as a signed or an unsigned value (`_mapcount`, `page_type`).
 * @internal
 */
export function checkInt32(fn: string, what: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -0x80000000 || v > 0xffffffff) {
    throw new KernelError('EINVAL', `${fn}: invalid ${what} ${String(v)}`);
  }
}

/**
 * EINVAL unless `v` is a struct page value: flags words, counts and private of the right widths (all ones, -1, as a poisoned page has, included), pointers NULL or an object.
 * @internal
 */
export function checkStructPage(fn: string, v: unknown): asserts v is StructPage {
  if (typeof v !== 'object' || v === null) throw new KernelError('EINVAL', `${fn}: invalid struct page ${String(v)}`);
  const p = v as StructPage;
  checkUnsigned(fn, 'flags_lo', p.flagsLo, 0xffffffff);
  checkUnsigned(fn, 'flags_hi', p.flagsHi, 0xffffffff);
  checkInt32(fn, '_refcount', p.refcount);
  checkInt32(fn, '_mapcount', p.mapcount);
  for (const [what, x] of [['private', p.private], ['index', p.index]] as const) {
    if (x !== -1) checkUnsigned(fn, what, x);
  }
  // pointers: NULL or the object they point at
  for (const [what, x] of [['pgmap', p.pgmap], ['mapping', p.mapping], ['zone_device_data', p.zoneDeviceData]] as const) {
    if (x !== undefined && (typeof x !== 'object' || x === null) && typeof x !== 'function') {
      throw new KernelError('EINVAL', `${fn}: ${what} is not a pointer: ${String(x)}`);
    }
  }
}

/**
 * A new struct page value: `base` (default: a zeroed page) with some fields
 * replaced. The result is frozen, so it can be shared as a template.
 * @public
 */
export function makeStructPage(fields: Partial<StructPage>, base: StructPage = ZERO_STRUCT_PAGE): StructPage {
  for (const [what, x] of [['fields', fields], ['base', base]] as const) {
    if (typeof x !== 'object' || x === null) throw new KernelError('EINVAL', `makeStructPage: invalid ${what} ${String(x)}`);
  }
  const page: StructPage = { ...base, ...fields };
  checkStructPage('makeStructPage', page);
  return Object.freeze(page);
}

/**
 * Whether two struct page values are field-for-field equal (opaque fields by
 * identity).
 * @public
 */
export function sameStructPage(a: StructPage, b: StructPage): boolean {
  return (
    a === b ||
    (a.flagsLo === b.flagsLo &&
      a.flagsHi === b.flagsHi &&
      a.refcount === b.refcount &&
      a.mapcount === b.mapcount &&
      a.private === b.private &&
      a.pgmap === b.pgmap &&
      a.mapping === b.mapping &&
      a.index === b.index &&
      a.zoneDeviceData === b.zoneDeviceData)
  );
}
