/**
 * `struct mem_section` and `struct mem_section_usage`.
 *
 * In the kernel a `mem_section` is two words. The first, `section_mem_map`,
 * is overloaded: its high bits hold the section's memmap pointer, encoded so
 * that `pfn - encoded` gives the struct page directly (during early boot
 * they hold the node id instead), and its low bits are flags (v5.13,
 * include/linux/mmzone.h):
 *
 * ```
 *   63                                               5   4   3   2   1   0
 *  +--------------------------------------------------+---+---+---+---+---+
 *  | coded mem_map  (or early nid << SECTION_NID_SHIFT)| T | E | O | M | P |
 *  +--------------------------------------------------+---+---+---+---+---+
 *    P SECTION_MARKED_PRESENT     memory exists here (memory_present / hot-add)
 *    M SECTION_HAS_MEM_MAP        the section has a memmap: valid_section()
 *    O SECTION_IS_ONLINE          its pages are online (online_mem_sections)
 *    E SECTION_IS_EARLY           present at boot: its memmap is complete
 *    T SECTION_TAINT_ZONE_DEVICE  ZONE_DEVICE memory was mapped into it
 * ```
 *
 * With a virtual memmap the coded pointer carries no information — it is
 * `VMEMMAP_START` for every section, since `mem_map - section_start_pfn` is
 * the base of the one virtual array — so the model keeps the flags and the
 * node as separate fields.
 *
 * The second word points at the section's `mem_section_usage`: the
 * subsection map (which 2 MiB subsections are present) and the pageblock
 * flags (owned by the page allocator, not modelled here). The usage of a
 * boot section is allocated from memblock together with its neighbours' and
 * is therefore never freed; a hot-added section's is freed when its last
 * subsection goes.
 */
/* eslint-disable no-bitwise -- section flags are a word of five bits (< 2^5),
   never an address, pfn or size. */
import type { SubsectionBitmap } from './bitmap.js';
import { Bitmap } from './bitmap.js';
import { KernelError } from '@zonedev/kernel';

/** `SECTION_MARKED_PRESENT`. @public */
export const SECTION_MARKED_PRESENT = 0x1;
/** `SECTION_HAS_MEM_MAP`. @public */
export const SECTION_HAS_MEM_MAP = 0x2;
/** `SECTION_IS_ONLINE`. @public */
export const SECTION_IS_ONLINE = 0x4;
/** `SECTION_IS_EARLY`. @public */
export const SECTION_IS_EARLY = 0x8;
/** `SECTION_TAINT_ZONE_DEVICE` (v5.12+): ZONE_DEVICE pages share this section. @public */
export const SECTION_TAINT_ZONE_DEVICE = 0x10;
/** `SECTION_MAP_LAST_BIT`: the first bit of the coded memmap pointer. @public */
export const SECTION_MAP_LAST_BIT = 0x20;

/**
 * `struct mem_section_usage` (include/linux/mmzone.h), read-only.
 * @public
 */
export interface MemSectionUsage {
  /** `subsection_map`: which subsections of the section are present. */
  readonly subsectionMap: SubsectionBitmap;
  /**
   * Whether it was allocated at boot together with other sections' usages
   * (the kernel sees `PageReserved(virt_to_page(ms->usage))`): such a usage
   * is kept when the section is removed and reused when it is re-added.
   */
  readonly early: boolean;
}

/**
 * `struct mem_section` (include/linux/mmzone.h), read-only.
 * @public
 */
export interface MemSection {
  /** `__section_nr(ms)`. */
  readonly sectionNr: number;
  /** The flag bits of `section_mem_map` (`SECTION_*`). */
  readonly sectionMemMap: number;
  /** The node (the early nid, then `section_to_node_table`). */
  readonly nid: number;
  /** `usage`, or `undefined` (NULL). */
  readonly usage: MemSectionUsage | undefined;
}

/** The mutable mem_section behind {@link MemSection}. */
export class Section implements MemSection {
  readonly sectionNr: number;
  sectionMemMap = 0;
  nid = 0;
  usage: Usage | undefined = undefined;

  constructor(sectionNr: number) {
    this.sectionNr = sectionNr;
  }

  /** Flags and usage both clear: the zeroed `struct mem_section`. */
  isZero(): boolean {
    return this.sectionMemMap === 0 && this.usage === undefined;
  }

  setFlags(f: number): void {
    this.sectionMemMap |= f;
  }

  clearFlags(f: number): void {
    this.sectionMemMap &= ~f;
  }

  /** `get traceName` for the function-graph tracer. */
  get traceName(): string {
    return `mem_section[${this.sectionNr}]`;
  }
}

/** The mutable usage behind {@link MemSectionUsage}. */
export class Usage implements MemSectionUsage {
  readonly subsectionMap: Bitmap;
  readonly early: boolean;

  constructor(subsectionsPerSection: number, early: boolean) {
    this.subsectionMap = new Bitmap(subsectionsPerSection);
    this.early = early;
  }
}

/** A `section_mem_map` flag word with the bits of `f` set (`on`) or cleared. */
export function changeFlags(sectionMemMap: number, f: number, on: boolean): number {
  return on ? sectionMemMap | f : sectionMemMap & ~f;
}

/** Whether any bit of `f` is set in a `section_mem_map` flag word. */
export function testFlags(sectionMemMap: number, f: number): boolean {
  return (sectionMemMap & f) !== 0;
}

function hasFlag(ms: MemSection | undefined, f: number): boolean {
  return ms !== undefined && (ms.sectionMemMap & f) !== 0;
}

/**
 * `present_section()`: memory exists in the section.
 * @public
 */
export function presentSection(ms: MemSection | undefined): boolean {
  if (ms !== undefined && (typeof ms !== 'object' || ms === null || !Number.isSafeInteger(ms.sectionMemMap))) throw new KernelError('EINVAL', `present_section: invalid mem_section ${String(ms)}`);
  return hasFlag(ms, SECTION_MARKED_PRESENT);
}

/**
 * `valid_section()`: the section has a memmap.
 * @public
 */
export function validSection(ms: MemSection | undefined): boolean {
  if (ms !== undefined && (typeof ms !== 'object' || ms === null || !Number.isSafeInteger(ms.sectionMemMap))) throw new KernelError('EINVAL', `valid_section: invalid mem_section ${String(ms)}`);
  return hasFlag(ms, SECTION_HAS_MEM_MAP);
}

/**
 * `early_section()`: the section was present at boot.
 * @public
 */
export function earlySection(ms: MemSection | undefined): boolean {
  if (ms !== undefined && (typeof ms !== 'object' || ms === null || !Number.isSafeInteger(ms.sectionMemMap))) throw new KernelError('EINVAL', `early_section: invalid mem_section ${String(ms)}`);
  return hasFlag(ms, SECTION_IS_EARLY);
}

/**
 * `online_section()`: the section's pages are online.
 * @public
 */
export function onlineSection(ms: MemSection | undefined): boolean {
  if (ms !== undefined && (typeof ms !== 'object' || ms === null || !Number.isSafeInteger(ms.sectionMemMap))) throw new KernelError('EINVAL', `online_section: invalid mem_section ${String(ms)}`);
  return hasFlag(ms, SECTION_IS_ONLINE);
}

/**
 * `online_device_section()` (v5.12+): online and tainted by ZONE_DEVICE
 * memory, so `pfn_to_online_page()` must look closer.
 * @public
 */
export function onlineDeviceSection(ms: MemSection | undefined): boolean {
  if (ms !== undefined && (typeof ms !== 'object' || ms === null || !Number.isSafeInteger(ms.sectionMemMap))) throw new KernelError('EINVAL', `online_device_section: invalid mem_section ${String(ms)}`);
  return hasFlag(ms, SECTION_IS_ONLINE) && hasFlag(ms, SECTION_TAINT_ZONE_DEVICE);
}
