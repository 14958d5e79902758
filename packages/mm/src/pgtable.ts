/**
 * Page tables: the per-process radix tree that translates a virtual address
 * to a page frame, after include/linux/pgtable.h, include/linux/mm.h and the
 * x86_64 headers arch/x86/include/asm/pgtable_types.h and pgtable_64.h
 * (Linux v5.13).
 *
 * ## The design of mm's page-table layer
 *
 * A virtual address is cut into one index per level and a page offset. The
 * number of levels and the width of each index come from the architecture,
 * injected as a {@link PagingArch} (mm never imports a platform):
 *
 * ```
 *  x86_64, 4-level (48-bit VA)         x86_64, 5-level (57-bit VA)
 *  47    39 38   30 29   21 20   12 11    0      56 48 47 39 38 30 29 21 20 12 11 0
 *  +-------+-------+-------+-------+------+      +----+----+----+----+----+-----+
 *  |  pgd  |  pud  |  pmd  |  pte  |offset|      |pgd |p4d |pud |pmd |pte |off  |
 *  +-------+-------+-------+-------+------+      +----+----+----+----+----+-----+
 *     9       9       9       9      12            9    9    9    9    9    12
 *
 *  powerpc radix, 64K pages (52-bit VA): pgd 13 | pud 9 | pmd 9 | pte 5 | offset 16
 * ```
 *
 * The lowest level (a PTE table, `PTRS_PER_PTE` entries) is kept for real,
 * one array per populated PMD slot; a PMD slot may instead hold a huge leaf
 * (`pmd_trans_huge`/`pmd_devmap`, a `PMD_SIZE`-sized mapping), and a PUD
 * entry may hold a huge leaf of `PUD_SIZE` (`pud_trans_huge`/`pud_devmap`,
 * 1 GiB on x86_64: device-dax with a 1 GiB align) with no PMD slot below
 * it. The upper levels (PUD, P4D, PGD tables) are implied by which PMD
 * slots and PUD leaves are populated: they are counted (for `VmPTE` and `mm_pgtables_bytes()`) but not
 * stored as objects. The kernel allocates page-table pages from the buddy
 * allocator; the model keeps them in host memory and does not charge zones.
 *
 * An entry is a value ({@link Pte}). A present entry carries a pfn and the
 * x86 `_PAGE_*` bits; a non-present, non-none entry carries a swap entry in
 * the exact `swapops.h` encoding (device-private, migration, hwpoison or a
 * real swap slot). `pte_none` is the absent entry (`undefined`). The flag word
 * keeps x86's bit positions 0..9; `_PAGE_DEVMAP` (x86 bit 58) and `_PAGE_NX`
 * (bit 63) do not fit a `number`'s 53 bits and sit at bits 50 and 51 of the
 * word, which {@link pteValX86} moves back to 58 and 63.
 *
 * What other layers use: {@link PageTable} `get`/`set`/`clear` of a PTE at a
 * virtual address, `getPmd`/`setPmd` for huge leaves, and `walk` over a range
 * (`walk_page_range()`); the `pte*` predicates and modifiers named after the
 * kernel's; {@link pteToSwpEntry}/{@link swpEntryToPte}. Faults, rmap, GUP
 * and migration (memory.ts, rmap.ts, gup.ts, migrate.ts) are built on them.
 */
import { KernelError, anyBits, checkUnsigned, clearBits, hasBits, orBits } from '@zonedev/kernel';
import { checkSwpEntry } from './swapops.js';
import type { SwpEntry } from './swapops.js';
import {
  isDevicePrivateEntry, isHwpoisonEntry, isMigrationEntry, isWriteDevicePrivateEntry, isWriteMigrationEntry, swpOffset, swpType,
} from './swapops.js';

/**
 * The paging geometry of an architecture, as mm needs it. Platform profiles
 * provide it (x86_64 4-level and 5-level, powerpc radix with 64K pages).
 * @public
 */
export interface PagingArch {
  /** A name for messages, e.g. `x86_64 4-level`. */
  readonly name: string;
  /** `PAGE_SHIFT`. */
  readonly pageShift: number;
  /**
   * Index bits per level from the PTE level upwards: x86_64 4-level
   * `[9, 9, 9, 9]`, 5-level `[9, 9, 9, 9, 9]`, powerpc radix 64K
   * `[5, 9, 9, 13]`. The second entry is the PMD level.
   */
  readonly levelBits: readonly number[];
}

/**
 * The geometry a {@link PageTable} derives from a {@link PagingArch}. With
 * 5-level paging the tables translate 57 bits, but the model's addresses are
 * numbers and stop at 2^53 (x86_64 user space stays below the 47-bit
 * `DEFAULT_MAP_WINDOW` unless asked for more anyway).
 * @public
 */
export interface PagingGeometry {
  /** `PAGE_SIZE`. */
  readonly pageSize: number;
  /** `PTRS_PER_PTE`. */
  readonly ptrsPerPte: number;
  /** `PMD_SIZE`: what one PTE table (or one huge PMD leaf) maps. */
  readonly pmdSize: number;
  /** `PUD_SIZE`: what one PMD table maps. */
  readonly pudSize: number;
  /** What one PUD table maps (`P4D_SIZE`, or `PGDIR_SIZE` with 4 levels). */
  readonly pudTableSpan: number;
  /** The number of page-table levels (`CONFIG_PGTABLE_LEVELS`). */
  readonly levels: number;
  /** The virtual address bits the tables translate. */
  readonly vaBits: number;
}

/**
 * The geometry of an architecture; throws KernelError EINVAL for a shape the
 * model cannot translate (fewer than 3 levels, a level of 0 bits, or more
 * than 53 virtual-address bits).
 * @public
 */
export function pagingGeometry(arch: PagingArch): PagingGeometry {
  if (typeof arch !== 'object' || arch === null) throw new KernelError('EINVAL', `paging_geometry: not an MMU: ${String(arch)}`);
  checkUnsigned('paging_geometry', 'pageShift', arch.pageShift, 30);
  if (arch.pageShift < 12) throw new KernelError('EINVAL', `paging_geometry: PAGE_SHIFT ${arch.pageShift} is below 12`);
  if (typeof arch.name !== 'string') throw new KernelError('EINVAL', 'paging_geometry: the MMU has no name');
  const bits = arch.levelBits;
  if (!Array.isArray(bits)) throw new KernelError('EINVAL', `${arch.name}: no level bits`);
  if (bits.length < 3 || bits.some((b) => !Number.isInteger(b) || b < 1 || b > 20)) {
    throw new KernelError('EINVAL', `${arch.name}: level bits ${bits.join(',')} are not a page-table shape`);
  }
  const vaBits = arch.pageShift + bits.reduce((a, b) => a + b, 0);
  if (vaBits > 57) throw new KernelError('EINVAL', `${arch.name}: ${vaBits} virtual-address bits are more than any supported MMU translates`);
  const pageSize = 2 ** arch.pageShift;
  const pmdSize = pageSize * 2 ** bits[0]!;
  const pudSize = pmdSize * 2 ** bits[1]!;
  return {
    pageSize,
    ptrsPerPte: 2 ** bits[0]!,
    pmdSize,
    pudSize,
    pudTableSpan: pudSize * 2 ** bits[2]!,
    levels: bits.length,
    vaBits,
  };
}

// ------------------------------------------------------------- PTE bits

/** `_PAGE_PRESENT` (bit 0). @public */ export const _PAGE_PRESENT = 0x001;
/** `_PAGE_RW` (bit 1): writable. @public */ export const _PAGE_RW = 0x002;
/** `_PAGE_USER` (bit 2): user-accessible. @public */ export const _PAGE_USER = 0x004;
/** `_PAGE_PWT` (bit 3). @public */ export const _PAGE_PWT = 0x008;
/** `_PAGE_PCD` (bit 4): cache disabled. @public */ export const _PAGE_PCD = 0x010;
/** `_PAGE_ACCESSED` (bit 5): the "young" bit. @public */ export const _PAGE_ACCESSED = 0x020;
/** `_PAGE_DIRTY` (bit 6). @public */ export const _PAGE_DIRTY = 0x040;
/** `_PAGE_PSE` (bit 7): a huge (PMD/PUD-level) leaf. @public */ export const _PAGE_PSE = 0x080;
/** `_PAGE_GLOBAL` (bit 8). @public */ export const _PAGE_GLOBAL = 0x100;
/** `_PAGE_SPECIAL` (software bit 9): no struct page to refcount (`pte_special`). @public */
export const _PAGE_SPECIAL = 0x200;
/** `_PAGE_DEVMAP` (x86 software bit 58; bit 50 of the model's word): a ZONE_DEVICE pfn with a pgmap. @public */
export const _PAGE_DEVMAP: number = 2 ** 50;
/** `_PAGE_NX` (x86 bit 63; bit 51 of the model's word): not executable. @public */
export const _PAGE_NX: number = 2 ** 51;

/** `PAGE_NONE`-free protections of x86's `protection_map` (arch/x86/include/asm/pgtable_types.h). */
const PAGE_BASE = _PAGE_PRESENT + _PAGE_USER + _PAGE_ACCESSED;
/** `PAGE_READONLY`: present, user, accessed, NX. @public */
export const PAGE_READONLY: number = PAGE_BASE + _PAGE_NX;
/** `PAGE_SHARED`: `PAGE_READONLY` plus `_PAGE_RW`. @public */
export const PAGE_SHARED: number = PAGE_BASE + _PAGE_RW + _PAGE_NX;
/** `PAGE_READONLY_EXEC`. @public */
export const PAGE_READONLY_EXEC: number = PAGE_BASE;
/** `PAGE_SHARED_EXEC`. @public */
export const PAGE_SHARED_EXEC: number = PAGE_BASE + _PAGE_RW;

/**
 * A present page-table entry: a pfn and `_PAGE_*` bits (always with
 * `_PAGE_PRESENT`).
 * @public
 */
export interface PresentPte {
  readonly kind: 'present';
  /** `pte_pfn()`. */
  readonly pfn: number;
  /** `_PAGE_*` bits. */
  readonly flags: number;
}

/**
 * A non-present, non-none entry: a swap entry (`is_swap_pte`). Device-private
 * and migration entries are swap entries of special types.
 * @public
 */
export interface SwapPte {
  readonly kind: 'swap';
  /** `pte_to_swp_entry()`. */
  readonly entry: SwpEntry;
}

/**
 * `pte_t` / `pmd_t`: a present entry or a swap entry; `pte_none` is
 * `undefined`.
 * @public
 */
export type Pte = PresentPte | SwapPte;

/**
 * Whether the single bit `bit` (a power of two, below 2^53) is set in the
 * flag word `x` (an integer in [0, 2^53)): one exact division instead of the
 * two 32-bit halves {@link hasBits} splits any mask into, for the tests the
 * fault path makes on every page (any other `x` gets {@link hasBits}'s
 * answer). Internal to the package.
 */
export function hasBit(x: number, bit: number): boolean {
  if (x >= 0 && x <= Number.MAX_SAFE_INTEGER) return Math.floor(x / bit) % 2 === 1;
  return hasBits(x, bit);
}

/**
 * EINVAL unless `pte` is a present entry: `kind` 'present', a pfn and a flag
 * word that are whole numbers below 2^53. Every helper that reads or edits
 * an entry's bits checks it, so a malformed entry never reaches a page table.
 * Internal to the package.
 */
export function checkPresentPte(fn: string, pte: unknown): asserts pte is PresentPte {
  const p = pte as PresentPte | null | undefined;
  if (typeof p !== 'object' || p === null || p.kind !== 'present' || !Number.isSafeInteger(p.pfn) || p.pfn < 0 || !Number.isSafeInteger(p.flags) || p.flags < 0) {
    throw new KernelError('EINVAL', `${fn}: not a present entry: ${String(pte)}`);
  }
}

/** EINVAL unless `pte` is an entry of a page table: none (`undefined`), present, or a swap entry. Internal to the package. */
export function checkPte(fn: string, pte: unknown): asserts pte is Pte | undefined {
  if (pte === undefined) return;
  const p = pte as Pte | null;
  if (typeof p === 'object' && p !== null && p.kind === 'swap') return void checkSwpEntry(fn, p.entry);
  checkPresentPte(fn, pte);
}

/** `pfn_pte(pfn, prot)` (also `pfn_pmd`): a present entry; `prot` must have `_PAGE_PRESENT`. @public */
export function pfnPte(pfn: number, prot: number): PresentPte {
  checkUnsigned('pfn_pte', 'pfn', pfn);
  checkUnsigned('pfn_pte', 'prot', prot);
  if (!hasBits(prot, _PAGE_PRESENT)) throw new KernelError('EINVAL', `pfn_pte: prot 0x${prot.toString(16)} is not present`);
  return { kind: 'present', pfn, flags: prot };
}

/** `pte_none(pte)`. @public */
export function pteNone(pte: Pte | undefined): pte is undefined {
  checkPte('pte_none', pte);
  return pte === undefined;
}
/** `pte_present(pte)`. @public */
export function ptePresent(pte: Pte | undefined): pte is PresentPte {
  checkPte('pte_present', pte);
  return pte !== undefined && pte.kind === 'present';
}
/** `is_swap_pte(pte)`: neither none nor present. @public */
export function isSwapPte(pte: Pte | undefined): pte is SwapPte {
  checkPte('is_swap_pte', pte);
  return pte !== undefined && pte.kind === 'swap';
}
/** `pte_to_swp_entry(pte)`; throws KernelError EINVAL for a present or none entry. @public */
export function pteToSwpEntry(pte: Pte | undefined): SwpEntry {
  if (!isSwapPte(pte)) throw new KernelError('EINVAL', 'pte_to_swp_entry: not a swap pte');
  return pte.entry;
}
/** `swp_entry_to_pte(entry)`. @public */
export function swpEntryToPte(entry: SwpEntry): SwapPte {
  checkSwpEntry('swp_entry_to_pte', entry);
  return { kind: 'swap', entry };
}

function flag(pte: PresentPte, bit: number): boolean {
  checkPresentPte('pte flags', pte);
  return hasBit(pte.flags, bit);
}
function withFlag(pte: PresentPte, bit: number, on: boolean): PresentPte {
  checkPresentPte('pte flags', pte);
  const flags = on ? orBits(pte.flags, bit) : clearBits(pte.flags, bit);
  return flags === pte.flags ? pte : { kind: 'present', pfn: pte.pfn, flags };
}

/** `pte_pfn(pte)`. @public */ export function ptePfn(pte: PresentPte): number { checkPresentPte('pte_pfn', pte); return pte.pfn; }
/** `pte_write(pte)`. @public */ export function pteWrite(pte: PresentPte): boolean { return flag(pte, _PAGE_RW); }
/** `pte_dirty(pte)`. @public */ export function pteDirty(pte: PresentPte): boolean { return flag(pte, _PAGE_DIRTY); }
/** `pte_young(pte)`. @public */ export function pteYoung(pte: PresentPte): boolean { return flag(pte, _PAGE_ACCESSED); }
/** `pte_special(pte)`. @public */ export function pteSpecial(pte: PresentPte): boolean { return flag(pte, _PAGE_SPECIAL); }
/** `pte_devmap(pte)` (also `pmd_devmap`). @public */ export function pteDevmap(pte: PresentPte): boolean { return flag(pte, _PAGE_DEVMAP); }
/** `pmd_trans_huge(pmd)` / `pmd_large`: a huge leaf. @public */ export function pmdHuge(pte: PresentPte): boolean { return flag(pte, _PAGE_PSE); }
/** `pte_mkwrite(pte)`. @public */ export function pteMkwrite(pte: PresentPte): PresentPte { return withFlag(pte, _PAGE_RW, true); }
/** `pte_wrprotect(pte)`. @public */ export function pteWrprotect(pte: PresentPte): PresentPte { return withFlag(pte, _PAGE_RW, false); }
/** `pte_mkdirty(pte)`. @public */ export function pteMkdirty(pte: PresentPte): PresentPte { return withFlag(pte, _PAGE_DIRTY, true); }
/** `pte_mkclean(pte)`. @public */ export function pteMkclean(pte: PresentPte): PresentPte { return withFlag(pte, _PAGE_DIRTY, false); }
/** `pte_mkyoung(pte)`. @public */ export function pteMkyoung(pte: PresentPte): PresentPte { return withFlag(pte, _PAGE_ACCESSED, true); }
/** `pte_mkold(pte)`. @public */ export function pteMkold(pte: PresentPte): PresentPte { return withFlag(pte, _PAGE_ACCESSED, false); }
/** `pte_mkspecial(pte)`. @public */ export function pteMkspecial(pte: PresentPte): PresentPte { return withFlag(pte, _PAGE_SPECIAL, true); }
/** `pte_mkdevmap(pte)` (also `pmd_mkdevmap`): devmap, and special as x86 sets it. @public */
export function pteMkdevmap(pte: PresentPte): PresentPte {
  return withFlag(withFlag(pte, _PAGE_DEVMAP, true), _PAGE_SPECIAL, true);
}
/** `pmd_mkhuge(pmd)`. @public */ export function pmdMkhuge(pte: PresentPte): PresentPte { return withFlag(pte, _PAGE_PSE, true); }

/**
 * `pfn_pud(pfn, prot)` (arch/x86/include/asm/pgtable.h): a present PUD
 * entry for `pfn`; make it a leaf with {@link pudMkhuge}. KernelError EINVAL
 * as {@link pfnPte}.
 * @public
 */
export function pfnPud(pfn: number, prot: number): PresentPte {
  checkUnsigned('pfn_pud', 'pfn', pfn);
  if (!hasBits(prot, _PAGE_PRESENT)) throw new KernelError('EINVAL', `pfn_pud: prot 0x${prot.toString(16)} is not present`);
  return pfnPte(pfn, prot);
}
/** `pud_mkhuge(pud)`: a 1 GiB (`PUD_SIZE`) leaf, `_PAGE_PSE`. @public */
export function pudMkhuge(pud: PresentPte): PresentPte { return withFlag(pud, _PAGE_PSE, true); }
/**
 * `pud_mkdevmap(pud)` (arch/x86/include/asm/pgtable.h): `_PAGE_DEVMAP`
 * only; unlike `pte_mkdevmap()` x86 sets no `_PAGE_SPECIAL` at this level.
 * @public
 */
export function pudMkdevmap(pud: PresentPte): PresentPte { return withFlag(pud, _PAGE_DEVMAP, true); }
/**
 * `pud_trans_huge(pud)` (arch/x86/include/asm/pgtable.h): a huge leaf that
 * is not devmap (`_PAGE_PSE` without `_PAGE_DEVMAP`).
 * @public
 */
export function pudTransHuge(pud: PresentPte): boolean { return flag(pud, _PAGE_PSE) && !flag(pud, _PAGE_DEVMAP); }
/** `pud_devmap(pud)`: a devmap leaf. @public */
export function pudDevmap(pud: PresentPte): boolean { return flag(pud, _PAGE_DEVMAP); }

/**
 * `vm_get_page_prot(vm_flags)` (mm/mmap.c, x86's `protection_map`): private
 * writable memory maps read-only (`PAGE_COPY`) so that the first write
 * faults (copy-on-write); shared writable memory maps `PAGE_SHARED`. Returns
 * 0 (`PAGE_NONE`, not present) without any access bit.
 * @public
 */
export function vmGetPageProt(vmFlags: number): number {
  checkUnsigned('vm_get_page_prot', 'vm_flags', vmFlags);
  const read = hasBit(vmFlags, 0x1);
  const write = hasBit(vmFlags, 0x2);
  const exec = hasBit(vmFlags, 0x4);
  const shared = hasBit(vmFlags, 0x8);
  if (!read && !write && !exec) return 0;
  if (write && shared) return exec ? PAGE_SHARED_EXEC : PAGE_SHARED;
  return exec ? PAGE_READONLY_EXEC : PAGE_READONLY;
}

/**
 * `pte_val(pte)` as x86_64 stores it: the pfn at bit 12, `_PAGE_DEVMAP` at
 * 58 and `_PAGE_NX` at 63; a swap entry as `__swp_entry()` of
 * arch/x86/include/asm/pgtable_64.h encodes it (type in bits 59..63, the
 * offset inverted from bit 9, the L1TF mitigation).
 * @public
 */
export function pteValX86(pte: Pte | undefined): bigint {
  checkPte('pte_val', pte);
  if (pte === undefined) return 0n;
  if (pte.kind === 'present') {
    let v = BigInt(pte.pfn) * 4096n + BigInt(pte.flags % 2 ** 32);
    if (anyBits(pte.flags, _PAGE_DEVMAP)) v += 2n ** 58n;
    if (anyBits(pte.flags, _PAGE_NX)) v += 2n ** 63n;
    return v;
  }
  // SWP_TYPE_BITS 5, SWP_OFFSET_FIRST_BIT 9 (_PAGE_BIT_PROTNONE + 1), SWP_OFFSET_SHIFT 14:
  // __swp_entry(type, offset) = type << 59 | (~offset << 14 >> 5)
  const type = pte.entry.val / 2n ** 58n;
  const offset = pte.entry.val % 2n ** 58n;
  const mask64 = 2n ** 64n - 1n;
  const inverted = (mask64 - offset) * 2n ** 14n;
  const shifted = (inverted % 2n ** 64n) / 2n ** 5n;
  return type * 2n ** 59n + (shifted % 2n ** 59n);
}

const FLAG_NAMES: readonly (readonly [number, string])[] = [
  [_PAGE_RW, 'RW'], [_PAGE_USER, 'USR'], [_PAGE_PWT, 'PWT'], [_PAGE_PCD, 'PCD'], [_PAGE_ACCESSED, 'ACC'],
  [_PAGE_DIRTY, 'DIRTY'], [_PAGE_PSE, 'PSE'], [_PAGE_GLOBAL, 'GLB'], [_PAGE_SPECIAL, 'SPECIAL'],
  [_PAGE_DEVMAP, 'DEVMAP'], [_PAGE_NX, 'NX'],
];

/**
 * An entry decoded for a person, in the spirit of x86's
 * `/sys/kernel/debug/page_tables` (arch/x86/mm/dump_pagetables.c) for the
 * bits and `swp_type`/`swp_offset` for a swap entry:
 * `0x8000000012345067 pfn 0x12345 RW USR ACC DIRTY NX`, or
 * `0x... swap type 30 (device-private write) pfn 0x1234`, or `none`.
 * @public
 */
export function formatPte(pte: Pte | undefined): string {
  checkPte('format_pte', pte);
  if (pte === undefined) return 'none';
  const val = `0x${pteValX86(pte).toString(16).padStart(16, '0')}`;
  if (pte.kind === 'present') {
    const bits = FLAG_NAMES.filter(([b]) => hasBits(pte.flags, b)).map(([, n]) => n);
    return `${val} pfn 0x${pte.pfn.toString(16)}${bits.length ? ` ${bits.join(' ')}` : ''}`;
  }
  const e = pte.entry;
  let what: string;
  if (isDevicePrivateEntry(e)) what = `device-private ${isWriteDevicePrivateEntry(e) ? 'write' : 'read'}`;
  else if (isMigrationEntry(e)) what = `migration ${isWriteMigrationEntry(e) ? 'write' : 'read'}`;
  else if (isHwpoisonEntry(e)) what = 'hwpoison';
  else what = 'swap file';
  const where = what === 'swap file' ? `offset 0x${swpOffset(e).toString(16)}` : `pfn 0x${swpOffset(e).toString(16)}`;
  return `${val} swap type ${swpType(e)} (${what}) ${where}`;
}

// ------------------------------------------------------------- the table

/** One PTE table: `PTRS_PER_PTE` slots and how many are not none. */
interface PteTable {
  readonly kind: 'table';
  readonly entries: (Pte | undefined)[];
  used: number;
}
/** A PMD slot holding a huge leaf. */
interface HugeSlot {
  readonly kind: 'huge';
  readonly pmd: Pte;
}
type PmdSlot = PteTable | HugeSlot;

/** What {@link PageTable.walk} reports for one entry. @public */
export interface PageWalkEntry {
  /** The virtual address the entry maps (the start of a huge leaf). */
  readonly addr: number;
  /** The entry. */
  readonly pte: Pte;
  /** `'pte'` for a PTE, `'pmd'` for a huge PMD leaf, `'pud'` for a huge PUD leaf. */
  readonly level: 'pte' | 'pmd' | 'pud';
}

/**
 * The page tables of one address space (`mm->pgd` and everything below it).
 * Addresses are user virtual addresses below `2^vaBits`; every method
 * validates its address (KernelError EINVAL for anything else).
 * @public
 */
export class PageTable {
  /** The architecture. */
  readonly arch: PagingArch;
  /** Its derived geometry. */
  readonly geometry: PagingGeometry;
  readonly #slots = new Map<number, PmdSlot>();
  /**
   * The PMD slot looked up last and its index (-1: none): faults, zaps and
   * migrations touch the entries of one PTE table one after another.
   */
  #lastIndex = -1;
  #lastSlot: PmdSlot | undefined = undefined;
  #nrPresentLeaves = 0;
  /** Huge PUD leaves (`pud_trans_huge`/`pud_devmap`), by PUD index. */
  readonly #puds = new Map<number, Pte>();
  /** How many PMD slots each PUD index holds: a PUD with any is not `pud_none`. */
  readonly #pmdSlotsPerPud = new Map<number, number>();

  constructor(arch: PagingArch) {
    this.arch = arch;
    this.geometry = pagingGeometry(arch);
    this.maxAddr = Math.min(2 ** this.geometry.vaBits - 1, Number.MAX_SAFE_INTEGER);
  }

  /** The highest address the tables take: `2^vaBits - 1`, at most `2^53 - 1` (a number's exact range). */
  readonly maxAddr: number;

  #check(fn: string, addr: number): void {
    checkUnsigned(fn, 'addr', addr, this.maxAddr);
  }

  #slotIndex(addr: number): number {
    return Math.floor(addr / this.geometry.pmdSize);
  }

  #pudIndex(addr: number): number {
    return Math.floor(addr / this.geometry.pudSize);
  }

  /** Adds PMD slot `i` (not yet present) to the map and to its PUD's count. */
  #addSlot(i: number, slot: PmdSlot): void {
    if (!this.#slots.has(i)) {
      const u = Math.floor((i * this.geometry.pmdSize) / this.geometry.pudSize);
      this.#pmdSlotsPerPud.set(u, (this.#pmdSlotsPerPud.get(u) ?? 0) + 1);
    }
    this.#slots.set(i, slot);
  }

  /** Removes PMD slot `i` and its count. */
  #deleteSlot(i: number): void {
    if (!this.#slots.delete(i)) return;
    const u = Math.floor((i * this.geometry.pmdSize) / this.geometry.pudSize);
    const n = (this.#pmdSlotsPerPud.get(u) ?? 1) - 1;
    if (n > 0) this.#pmdSlotsPerPud.set(u, n);
    else this.#pmdSlotsPerPud.delete(u);
  }

  /** Whether a huge PUD leaf covers `addr`. */
  #underPud(addr: number): boolean {
    return this.#puds.size > 0 && this.#puds.has(this.#pudIndex(addr));
  }

  /** `this.#slots.get(i)`, through the one-entry cache. */
  #slot(i: number): PmdSlot | undefined {
    if (i === this.#lastIndex) return this.#lastSlot;
    const slot = this.#slots.get(i);
    if (slot !== undefined) {
      this.#lastIndex = i;
      this.#lastSlot = slot;
    }
    return slot;
  }

  /** Forgets the cached slot (a slot was replaced or removed). */
  #forget(): void {
    this.#lastIndex = -1;
    this.#lastSlot = undefined;
  }

  #pteIndex(addr: number): number {
    return Math.floor((addr % this.geometry.pmdSize) / this.geometry.pageSize);
  }

  /**
   * The entry mapping `addr`: the PTE (`pte_offset_map` + read), or the huge
   * PMD leaf covering it; `undefined` for none.
   */
  get(addr: number): Pte | undefined {
    this.#check('pte_offset_map', addr);
    if (this.#puds.size > 0) {
      const pud = this.#puds.get(this.#pudIndex(addr));
      if (pud !== undefined) return pud;
    }
    const slot = this.#slot(this.#slotIndex(addr));
    if (slot === undefined) return undefined;
    if (slot.kind === 'huge') return slot.pmd;
    return slot.entries[this.#pteIndex(addr)];
  }

  /** The huge PMD leaf covering `addr`, or `undefined` (none, or a PTE table). */
  getPmd(addr: number): Pte | undefined {
    this.#check('pmd_offset', addr);
    const slot = this.#slot(this.#slotIndex(addr));
    return slot?.kind === 'huge' ? slot.pmd : undefined;
  }

  /** Whether `addr`'s PMD slot holds a PTE table (`pmd_present && !pmd_trans_huge`). */
  hasPteTable(addr: number): boolean {
    this.#check('pmd_offset', addr);
    return this.#slot(this.#slotIndex(addr))?.kind === 'table';
  }

  /**
   * `pte_offset_map(pmd, addr)` for the whole table: the PTE table of
   * `addr`'s PMD slot as a live, read-only array indexed by `pte_index()`
   * (`undefined` entries are none), or `undefined` when the slot holds no
   * PTE table (none, or a huge leaf). For walkers that read a table
   * entry by entry, as `hmm_vma_walk_pmd()` does.
   */
  pteTable(addr: number): readonly (Pte | undefined)[] | undefined {
    this.#check('pte_offset_map', addr);
    const slot = this.#slot(this.#slotIndex(addr));
    return slot?.kind === 'table' ? slot.entries : undefined;
  }

  /**
   * `set_pte_at(mm, addr, ptep, pte)`, allocating the PTE table
   * (`pte_alloc`) when the PMD slot is empty. KernelError EEXIST when a huge
   * leaf covers `addr` (split it first).
   */
  set(addr: number, pte: Pte): void {
    this.#check('set_pte_at', addr);
    checkPte('set_pte_at', pte);
    if (pte === undefined) throw new KernelError('EINVAL', 'set_pte_at: no entry (pte_clear() clears)');
    const i = this.#slotIndex(addr);
    let slot = this.#slot(i);
    if (slot?.kind === 'huge') throw new KernelError('EEXIST', `set_pte_at: 0x${addr.toString(16)} is mapped by a huge pmd`);
    if (slot === undefined) {
      if (this.#underPud(addr)) throw new KernelError('EEXIST', `set_pte_at: 0x${addr.toString(16)} is mapped by a huge pud`);
      slot = { kind: 'table', entries: new Array<Pte | undefined>(this.geometry.ptrsPerPte), used: 0 };
      this.#addSlot(i, slot);
    }
    const j = this.#pteIndex(addr);
    const old = slot.entries[j];
    if (old === undefined) slot.used++;
    else if (old.kind === 'present') this.#nrPresentLeaves--;
    if (pte.kind === 'present') this.#nrPresentLeaves++;
    slot.entries[j] = pte;
  }

  /** `ptep_get_and_clear(mm, addr, ptep)`: clears the PTE and returns what it held. */
  clear(addr: number): Pte | undefined {
    this.#check('ptep_get_and_clear', addr);
    const slot = this.#slot(this.#slotIndex(addr));
    if (slot === undefined || slot.kind === 'huge') return undefined;
    const j = this.#pteIndex(addr);
    const old = slot.entries[j];
    if (old === undefined) return undefined;
    slot.entries[j] = undefined;
    slot.used--;
    if (old.kind === 'present') this.#nrPresentLeaves--;
    return old;
  }

  /**
   * `set_pmd_at(mm, addr, pmdp, pmd)` of a huge leaf; `addr` must be
   * `PMD_SIZE` aligned and its slot none (KernelError EINVAL / EEXIST).
   */
  setPmd(addr: number, pmd: Pte): void {
    this.#check('set_pmd_at', addr);
    checkPte('set_pmd_at', pmd);
    if (pmd === undefined) throw new KernelError('EINVAL', 'set_pmd_at: no entry');
    if (addr % this.geometry.pmdSize !== 0) throw new KernelError('EINVAL', `set_pmd_at: 0x${addr.toString(16)} is not PMD aligned`);
    const i = this.#slotIndex(addr);
    const slot = this.#slots.get(i);
    if (slot?.kind === 'table' && slot.used > 0) throw new KernelError('EEXIST', `set_pmd_at: 0x${addr.toString(16)} has a PTE table`);
    if (this.#underPud(addr)) throw new KernelError('EEXIST', `set_pmd_at: 0x${addr.toString(16)} is mapped by a huge pud`);
    if (slot?.kind === 'huge' && slot.pmd.kind === 'present') this.#nrPresentLeaves--;
    if (pmd.kind === 'present') this.#nrPresentLeaves++;
    this.#addSlot(i, { kind: 'huge', pmd });
    this.#forget();
  }

  /** `pmdp_huge_get_and_clear()`: clears the huge leaf covering `addr` and returns it. */
  clearPmd(addr: number): Pte | undefined {
    this.#check('pmdp_huge_get_and_clear', addr);
    const i = this.#slotIndex(addr);
    const slot = this.#slots.get(i);
    if (slot?.kind !== 'huge') return undefined;
    this.#deleteSlot(i);
    this.#forget();
    if (slot.pmd.kind === 'present') this.#nrPresentLeaves--;
    return slot.pmd;
  }

  /** The huge PUD leaf covering `addr` (`pud_offset` + read of a leaf), or `undefined`. */
  getPud(addr: number): Pte | undefined {
    this.#check('pud_offset', addr);
    return this.#puds.size > 0 ? this.#puds.get(this.#pudIndex(addr)) : undefined;
  }

  /**
   * `pud_none(*pud)`: nothing below `addr`'s PUD entry, neither a huge PUD
   * leaf nor any PMD slot (a PTE table or a huge PMD) in its `PUD_SIZE`
   * range.
   */
  pudNone(addr: number): boolean {
    this.#check('pud_offset', addr);
    const u = this.#pudIndex(addr);
    return !this.#puds.has(u) && !this.#pmdSlotsPerPud.has(u);
  }

  /** The number of huge PUD leaves. */
  get nrPudLeaves(): number {
    return this.#puds.size;
  }

  /**
   * `set_pud_at(mm, addr, pudp, pud)` of a huge leaf (replacing a leaf
   * already there); `addr` must be `PUD_SIZE` aligned (KernelError EINVAL)
   * and no PMD slot of its range populated (KernelError EEXIST).
   */
  setPud(addr: number, pud: Pte): void {
    this.#check('set_pud_at', addr);
    checkPte('set_pud_at', pud);
    if (pud === undefined) throw new KernelError('EINVAL', 'set_pud_at: no entry');
    if (addr % this.geometry.pudSize !== 0) throw new KernelError('EINVAL', `set_pud_at: 0x${addr.toString(16)} is not PUD aligned`);
    const u = this.#pudIndex(addr);
    if (this.#pmdSlotsPerPud.has(u)) throw new KernelError('EEXIST', `set_pud_at: 0x${addr.toString(16)} has a PMD table`);
    const old = this.#puds.get(u);
    if (old?.kind === 'present') this.#nrPresentLeaves--;
    if (pud.kind === 'present') this.#nrPresentLeaves++;
    this.#puds.set(u, pud);
  }

  /** `pudp_huge_get_and_clear()`: clears the huge PUD leaf covering `addr` and returns it. */
  clearPud(addr: number): Pte | undefined {
    this.#check('pudp_huge_get_and_clear', addr);
    const u = this.#pudIndex(addr);
    const old = this.#puds.get(u);
    if (old === undefined) return undefined;
    this.#puds.delete(u);
    if (old.kind === 'present') this.#nrPresentLeaves--;
    return old;
  }

  /**
   * `walk_page_range(mm, start, end, ops)` (mm/pagewalk.c), for the entries
   * that are not none, in address order: PTEs, huge PMD leaves and huge PUD
   * leaves that overlap `[start, end)`.
   */
  walk(start: number, end: number, fn: (e: PageWalkEntry) => void): void {
    this.#check('walk_page_range', start);
    checkUnsigned('walk_page_range', 'end', end);
    if (typeof fn !== 'function') throw new KernelError('EINVAL', 'walk_page_range: no callback');
    if (end <= start) return;
    const { pmdSize, pageSize, pudSize } = this.geometry;
    const first = this.#slotIndex(start);
    const last = Math.floor((Math.min(end, this.maxAddr + 1) - 1) / pmdSize);
    // huge PUD leaves overlapping the range, in address order, reported between the PMD slots around them
    const pudKeys = this.#puds.size === 0 ? [] : [...this.#puds.keys()]
      .filter((u) => u * pudSize < end && (u + 1) * pudSize > start).sort((a, b) => a - b);
    let nextPud = 0;
    const emitPudsBelow = (base: number): void => {
      while (nextPud < pudKeys.length && pudKeys[nextPud]! * pudSize < base) {
        const u = pudKeys[nextPud++]!;
        fn({ addr: u * pudSize, pte: this.#puds.get(u)!, level: 'pud' });
      }
    };
    let keys: number[];
    if (last - first + 1 <= this.#slots.size) {
      keys = [];
      for (let i = first; i <= last; i++) if (this.#slots.has(i)) keys.push(i);
    } else {
      keys = [...this.#slots.keys()].filter((k) => k >= first && k <= last).sort((a, b) => a - b);
    }
    for (const k of keys) {
      const slot = this.#slots.get(k);
      if (slot === undefined) continue;
      const base = k * pmdSize;
      if (pudKeys.length > 0) emitPudsBelow(base);
      if (slot.kind === 'huge') {
        fn({ addr: base, pte: slot.pmd, level: 'pmd' });
        continue;
      }
      const lo = k === first ? this.#pteIndex(start) : 0;
      const hi = k === last ? Math.floor((end - 1 - base) / pageSize) : slot.entries.length - 1;
      const entries = slot.entries;
      for (let j = lo; j <= hi; j++) {
        const pte = entries[j];
        if (pte !== undefined) fn({ addr: base + j * pageSize, pte, level: 'pte' });
      }
    }
    if (pudKeys.length > 0) emitPudsBelow(Number.POSITIVE_INFINITY);
  }

  /**
   * `free_pgtables()` for `[start, end)` (mm/memory.c): drops the PTE tables
   * that no longer map anything, for PMD slots wholly inside the range.
   */
  freePgtables(start: number, end: number): void {
    checkUnsigned('free_pgtables', 'start', start);
    checkUnsigned('free_pgtables', 'end', end);
    const { pmdSize } = this.geometry;
    for (const [k, slot] of [...this.#slots]) {
      const base = k * pmdSize;
      if (slot.kind === 'table' && slot.used === 0 && base + pmdSize > start && base < end) this.#deleteSlot(k);
    }
    this.#forget();
  }

  /** The number of present leaf entries (PTEs, huge PMDs and huge PUDs). */
  get nrPresent(): number {
    return this.#nrPresentLeaves;
  }

  /** `mm->pgtables_bytes` (`mm_pgtables_bytes()`): PTE, PMD and PUD tables, one page each (a huge PUD leaf needs no PMD table). */
  pgtablesBytes(): number {
    const { pmdSize, pudSize, pudTableSpan, pageSize, levels } = this.geometry;
    const ptes = [...this.#slots.values()].filter((s) => s.kind === 'table').length;
    const pmds = new Set<number>();
    const puds = new Set<number>();
    for (const k of this.#slots.keys()) {
      pmds.add(Math.floor((k * pmdSize) / pudSize));
      puds.add(Math.floor((k * pmdSize) / pudTableSpan));
    }
    for (const u of this.#puds.keys()) puds.add(Math.floor((u * pudSize) / pudTableSpan));
    // with 3 levels the PUD is folded into the PGD
    return (ptes + pmds.size + (levels > 3 ? puds.size : 0)) * pageSize;
  }

  /** Whether nothing at all is mapped (every PMD slot and PUD entry empty). */
  get empty(): boolean {
    return this.#slots.size === 0 && this.#puds.size === 0;
  }
}
