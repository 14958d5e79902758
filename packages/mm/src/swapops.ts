/**
 * Swap entries as include/linux/swapops.h and include/linux/swap.h (Linux
 * v5.13) encode them on a 64-bit architecture (x86_64: BITS_PER_LONG 64),
 * with CONFIG_DEVICE_PRIVATE, CONFIG_MIGRATION and CONFIG_MEMORY_FAILURE
 * configured.
 *
 * A `swp_entry_t` is an `unsigned long`: the swap type in the top
 * {@link MAX_SWAPFILES_SHIFT} bits of the 63 bits an xarray value holds, the
 * offset below. Values reach 2^63, so the entry value is a `bigint` and every
 * field is extracted arithmetically (no JavaScript bitwise operators).
 */
import { KernelError, checkUnsigned } from '@zonedev/kernel';

/** `BITS_PER_XA_VALUE` (include/linux/xarray.h): `BITS_PER_LONG - 1` = 63. @public */
export const BITS_PER_XA_VALUE = 63;

const ENTRY_LIMIT = 2n ** BigInt(BITS_PER_XA_VALUE);

/** `MAX_SWAPFILES_SHIFT` (include/linux/swap.h): 5 bits of swap type. @public */
export const MAX_SWAPFILES_SHIFT = 5;

/** `SWP_DEVICE_NUM` (include/linux/swap.h, CONFIG_DEVICE_PRIVATE). @public */
export const SWP_DEVICE_NUM = 2;
/** `SWP_MIGRATION_NUM` (include/linux/swap.h, CONFIG_MIGRATION). @public */
export const SWP_MIGRATION_NUM = 2;
/** `SWP_HWPOISON_NUM` (include/linux/swap.h, CONFIG_MEMORY_FAILURE). @public */
export const SWP_HWPOISON_NUM = 1;

/**
 * `MAX_SWAPFILES` (include/linux/swap.h): the real swap types,
 * `(1 << MAX_SWAPFILES_SHIFT)` minus the special ones = 27.
 * @public
 */
export const MAX_SWAPFILES: number = 2 ** MAX_SWAPFILES_SHIFT - SWP_DEVICE_NUM - SWP_MIGRATION_NUM - SWP_HWPOISON_NUM;

/** `SWP_HWPOISON` (include/linux/swap.h) = `MAX_SWAPFILES` = 27. @public */
export const SWP_HWPOISON: number = MAX_SWAPFILES;
/** `SWP_MIGRATION_READ` (include/linux/swap.h) = 28. @public */
export const SWP_MIGRATION_READ: number = MAX_SWAPFILES + SWP_HWPOISON_NUM;
/** `SWP_MIGRATION_WRITE` (include/linux/swap.h) = 29. @public */
export const SWP_MIGRATION_WRITE: number = MAX_SWAPFILES + SWP_HWPOISON_NUM + 1;
/** `SWP_DEVICE_WRITE` (include/linux/swap.h) = 30. @public */
export const SWP_DEVICE_WRITE: number = MAX_SWAPFILES + SWP_HWPOISON_NUM + SWP_MIGRATION_NUM;
/** `SWP_DEVICE_READ` (include/linux/swap.h) = 31. @public */
export const SWP_DEVICE_READ: number = MAX_SWAPFILES + SWP_HWPOISON_NUM + SWP_MIGRATION_NUM + 1;

/** `SWP_TYPE_SHIFT` (include/linux/swapops.h): `BITS_PER_XA_VALUE - MAX_SWAPFILES_SHIFT` = 58. @public */
export const SWP_TYPE_SHIFT: number = BITS_PER_XA_VALUE - MAX_SWAPFILES_SHIFT;

const TYPE_UNIT = 2n ** BigInt(SWP_TYPE_SHIFT);

/** `SWP_OFFSET_MASK` (include/linux/swapops.h): `(1UL << SWP_TYPE_SHIFT) - 1`. @public */
export const SWP_OFFSET_MASK: bigint = TYPE_UNIT - 1n;

/**
 * `swp_entry_t` (include/linux/mm_types.h): one `unsigned long`, `val`.
 * @public
 */
export interface SwpEntry {
  /** The `unsigned long` value: type in bits 58..62, offset below. */
  readonly val: bigint;
}

/** `type << SWP_TYPE_SHIFT` for every type. */
const TYPE_BASE: readonly bigint[] = Array.from({ length: 2 ** MAX_SWAPFILES_SHIFT }, (_, t) => BigInt(t) * TYPE_UNIT);

/** Keys of the type and offset an entry was made from (see {@link makeEntry}). */
const TYPE_OF: unique symbol = Symbol('swp_type');
const OFFSET_OF: unique symbol = Symbol('swp_offset');

/** An entry as this module makes it. */
interface MadeEntry extends SwpEntry {
  readonly [TYPE_OF]: number;
  /** The offset as a number, NaN where it is not exact (2^53 and above). */
  readonly [OFFSET_OF]: number;
}

/**
 * The entries this module makes are plain records: `val` as any
 * `swp_entry_t` has it, plus, under two symbol keys (which traces and
 * listings of the record's fields do not show), the type and offset it was
 * made from, so that decoding (`swp_type()`, `*_entry_to_pfn()`, which the
 * fault and migration paths do on every page) needs no bigint division. An
 * entry of any other origin (`{ val }`) is decoded from `val`.
 */
function makeEntry(val: bigint, type: number, offset: number): MadeEntry {
  return { val, [TYPE_OF]: type, [OFFSET_OF]: offset };
}

/**
 * EINVAL unless `e` is a `swp_entry_t`: a record whose `val` is a bigint of
 * at most `BITS_PER_XA_VALUE` bits. Internal to the package.
 */
export function checkSwpEntry(fn: string, e: unknown): asserts e is SwpEntry {
  const v = typeof e === 'object' && e !== null ? (e as SwpEntry).val : undefined;
  if (typeof v !== 'bigint' || v < 0n || v >= ENTRY_LIMIT) throw new KernelError('EINVAL', `${fn}: not a swap entry: ${String(e)}`);
}

function typeOf(e: SwpEntry): number {
  checkSwpEntry('swp_type', e);
  const t = (e as Partial<MadeEntry>)[TYPE_OF];
  return t !== undefined ? t : Number(e.val / TYPE_UNIT);
}

function offsetNumber(e: SwpEntry): number {
  checkSwpEntry('swp_offset', e);
  const o = (e as Partial<MadeEntry>)[OFFSET_OF];
  return o !== undefined && o === o ? o : Number(e.val % TYPE_UNIT);
}

function checkType(type: number): void {
  if (!Number.isSafeInteger(type) || type < 0 || type >= 2 ** MAX_SWAPFILES_SHIFT) {
    throw new KernelError('EINVAL', `swap type ${type} is not in 0..${2 ** MAX_SWAPFILES_SHIFT - 1}`);
  }
}

function toOffset(offset: number | bigint): bigint {
  if (typeof offset !== 'number' && typeof offset !== 'bigint') throw new KernelError('EINVAL', `swap offset ${String(offset)} is not a number`);
  if (typeof offset === 'number') {
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new KernelError('EINVAL', `swap offset ${offset} is not a non-negative integer`);
    }
    return BigInt(offset);
  }
  if (offset < 0n) throw new KernelError('EINVAL', `swap offset ${offset} is negative`);
  return offset;
}

/**
 * `swp_entry(type, offset)` (include/linux/swapops.h): type in the top bits,
 * offset below. The kernel masks an oversized offset silently; the model
 * refuses it (-EINVAL), as it refuses a type that does not fit in
 * {@link MAX_SWAPFILES_SHIFT} bits.
 * @public
 */
export function swpEntry(type: number, offset: number | bigint): SwpEntry {
  checkType(type);
  if (typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0) {
    return makeEntry(TYPE_BASE[type]! + BigInt(offset), type, offset);
  }
  const off = toOffset(offset);
  if (off > SWP_OFFSET_MASK) {
    throw new KernelError('EINVAL', `swap offset 0x${off.toString(16)} exceeds SWP_OFFSET_MASK`);
  }
  return makeEntry(TYPE_BASE[type]! + off, type, off <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(off) : NaN);
}

/**
 * A `swp_entry_t` from a raw value (what a non-present PTE decodes to). The
 * value must fit in `BITS_PER_XA_VALUE` bits.
 * @public
 */
export function swpEntryFromValue(val: bigint): SwpEntry {
  if (typeof val !== 'bigint') throw new KernelError('EINVAL', `swap entry value ${String(val)} is not a bigint`);
  if (val < 0n || val >= 2n ** BigInt(BITS_PER_XA_VALUE)) {
    throw new KernelError('EINVAL', `swap entry value 0x${val.toString(16)} does not fit in ${BITS_PER_XA_VALUE} bits`);
  }
  const off = val % TYPE_UNIT;
  return makeEntry(val, Number(val / TYPE_UNIT), off <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(off) : NaN);
}

/** `swp_type(entry)` (include/linux/swapops.h): `val >> SWP_TYPE_SHIFT`. @public */
export function swpType(entry: SwpEntry): number {
  return typeOf(entry);
}

/** `swp_offset(entry)` (include/linux/swapops.h): `val & SWP_OFFSET_MASK`. @public */
export function swpOffset(entry: SwpEntry): bigint {
  checkSwpEntry('swp_offset', entry);
  return entry.val % TYPE_UNIT;
}

/** `non_swap_entry(entry)` (include/linux/swapops.h): a special type, `>= MAX_SWAPFILES`. @public */
export function nonSwapEntry(entry: SwpEntry): boolean {
  return swpType(entry) >= MAX_SWAPFILES;
}

function checkWrite(fn: string, write: unknown): void {
  if (typeof write !== 'boolean') throw new KernelError('EINVAL', `${fn}: write is not true or false: ${String(write)}`);
}

/** The pfn stored as an entry's offset, as a number (pfns are below 2^53 in the model). */
function offsetPfn(entry: SwpEntry): number {
  return offsetNumber(entry);
}

/**
 * `make_device_private_entry(page, write)` (include/linux/swapops.h): type
 * `SWP_DEVICE_WRITE` or `SWP_DEVICE_READ`, offset `page_to_pfn(page)`.
 * @public
 */
export function makeDevicePrivateEntry(pfn: number, write: boolean): SwpEntry {
  checkWrite('make_device_private_entry', write);
  checkUnsigned('make_device_private_entry', 'pfn', pfn);
  return swpEntry(write ? SWP_DEVICE_WRITE : SWP_DEVICE_READ, pfn);
}

/** `is_device_private_entry(entry)` (include/linux/swapops.h). @public */
export function isDevicePrivateEntry(entry: SwpEntry): boolean {
  const t = swpType(entry);
  return t === SWP_DEVICE_READ || t === SWP_DEVICE_WRITE;
}

/** `is_write_device_private_entry(entry)` (include/linux/swapops.h). @public */
export function isWriteDevicePrivateEntry(entry: SwpEntry): boolean {
  return swpType(entry) === SWP_DEVICE_WRITE;
}

/** `make_device_private_entry_read(entry)` (include/linux/swapops.h): the read-only form, same pfn. @public */
export function makeDevicePrivateEntryRead(entry: SwpEntry): SwpEntry {
  return swpEntry(SWP_DEVICE_READ, swpOffset(entry));
}

/** `device_private_entry_to_pfn(entry)` (include/linux/swapops.h): `swp_offset(entry)`. @public */
export function devicePrivateEntryToPfn(entry: SwpEntry): number {
  return offsetPfn(entry);
}

/**
 * `make_migration_entry(page, write)` (include/linux/swapops.h): type
 * `SWP_MIGRATION_WRITE` or `SWP_MIGRATION_READ`, offset the page's pfn.
 * @public
 */
export function makeMigrationEntry(pfn: number, write: boolean): SwpEntry {
  checkWrite('make_migration_entry', write);
  checkUnsigned('make_migration_entry', 'pfn', pfn);
  return swpEntry(write ? SWP_MIGRATION_WRITE : SWP_MIGRATION_READ, pfn);
}

/** `is_migration_entry(entry)` (include/linux/swapops.h). @public */
export function isMigrationEntry(entry: SwpEntry): boolean {
  const t = swpType(entry);
  return t === SWP_MIGRATION_READ || t === SWP_MIGRATION_WRITE;
}

/** `is_write_migration_entry(entry)` (include/linux/swapops.h). @public */
export function isWriteMigrationEntry(entry: SwpEntry): boolean {
  return swpType(entry) === SWP_MIGRATION_WRITE;
}

/** `make_migration_entry_read(entry)` (include/linux/swapops.h): the read-only form, same pfn. @public */
export function makeMigrationEntryRead(entry: SwpEntry): SwpEntry {
  return swpEntry(SWP_MIGRATION_READ, swpOffset(entry));
}

/** `migration_entry_to_pfn(entry)` (include/linux/swapops.h): `swp_offset(entry)`. @public */
export function migrationEntryToPfn(entry: SwpEntry): number {
  return offsetPfn(entry);
}

/** `make_hwpoison_entry(page)` (include/linux/swapops.h): type `SWP_HWPOISON`, offset the pfn. @public */
export function makeHwpoisonEntry(pfn: number): SwpEntry {
  checkUnsigned('make_hwpoison_entry', 'pfn', pfn);
  return swpEntry(SWP_HWPOISON, pfn);
}

/** `is_hwpoison_entry(entry)` (include/linux/swapops.h). @public */
export function isHwpoisonEntry(entry: SwpEntry): boolean {
  return swpType(entry) === SWP_HWPOISON;
}
