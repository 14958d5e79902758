/**
 * The E820 table: how an x86 PC tells the kernel where its RAM is.
 *
 * Firmware (the BIOS's INT 15h, AX=E820h call, or here SeaBIOS on QEMU)
 * hands the kernel a list of ranges, each with a type: usable RAM, reserved,
 * ACPI tables, persistent memory... The kernel prints the list as it got it
 * (`BIOS-provided physical RAM map:`), then edits it: boot options add or
 * remove ranges (`memmap=`, `mem=`), the first page and the legacy BIOS area
 * are taken away from RAM, and after every edit the table is "sanitized":
 * sorted, overlaps resolved in favour of the higher type number, touching
 * ranges of the same type merged — except persistent memory (type 12), whose
 * ranges are kept apart because each may be a separate device:
 *
 * ```
 *   firmware:   [0 ......... usable ......... 17G)
 *   memmap=4G!12G adds   [12G .. type 12 .. 16G)
 *   sanitized:  [0 .. usable .. 12G)[12G .. persistent (type 12) .. 16G)[16G .. usable .. 17G)
 * ```
 *
 * The final table becomes the top level of the iomem resource tree
 * (`System RAM`, `Reserved`, `Persistent Memory (legacy)`, ... in
 * /proc/iomem) and, as the firmware gave it, `/sys/firmware/memmap`.
 *
 * Everything here is a pure function of a table: the kernel edits its global
 * `e820_table` in place; these return a new array. Addresses are `number`s,
 * but the arithmetic that reaches 2^64 (`mem=` removes up to `ULLONG_MAX`)
 * is done on `bigint`, as the kernel's u64 does. Mirrors
 * arch/x86/kernel/e820.c of Linux v5.13 (and `setup_arch()`'s
 * `trim_bios_range()` and `e820__end_of_ram_pfn()`).
 */
import {
  KernelError,
  checkUnsigned,
  IORESOURCE_BUSY,
  IORESOURCE_MEM,
  IORESOURCE_SYSTEM_RAM,
  IORES_DESC_ACPI_NV_STORAGE,
  IORES_DESC_ACPI_TABLES,
  IORES_DESC_NONE,
  IORES_DESC_PERSISTENT_MEMORY,
  IORES_DESC_PERSISTENT_MEMORY_LEGACY,
  IORES_DESC_RESERVED,
  IORES_DESC_SOFT_RESERVED,
  Resource,
  SZ_4K,
  memparse,
  type ResourceTree,
} from '@zonedev/kernel';
import { argFunction, argObject, argObjects, argString } from '../args.js';

/**
 * `E820_TYPE_RAM`: usable memory.
 *
 * @public
 */
export const E820_TYPE_RAM = 1;
/**
 * `E820_TYPE_RESERVED`.
 *
 * @public
 */
export const E820_TYPE_RESERVED = 2;
/**
 * `E820_TYPE_ACPI`: ACPI tables, reclaimable.
 *
 * @public
 */
export const E820_TYPE_ACPI = 3;
/**
 * `E820_TYPE_NVS`: ACPI non-volatile storage.
 *
 * @public
 */
export const E820_TYPE_NVS = 4;
/**
 * `E820_TYPE_UNUSABLE`.
 *
 * @public
 */
export const E820_TYPE_UNUSABLE = 5;
/**
 * `E820_TYPE_PMEM`: ACPI 6.0 persistent memory.
 *
 * @public
 */
export const E820_TYPE_PMEM = 7;
/**
 * `E820_TYPE_PRAM`: legacy persistent memory, what `memmap=nn!ss` makes.
 *
 * @public
 */
export const E820_TYPE_PRAM = 12;
/**
 * `E820_TYPE_SOFT_RESERVED`: EFI specific-purpose memory.
 *
 * @public
 */
export const E820_TYPE_SOFT_RESERVED = 0xefffffff;
/**
 * `E820_TYPE_RESERVED_KERN`: RAM holding setup_data, kernel-internal.
 *
 * @public
 */
export const E820_TYPE_RESERVED_KERN = 128;

/**
 * `E820_MAX_ENTRIES` (`E820_MAX_ENTRIES_ZEROPAGE` + 3 * MAX_NUMNODES on a NODES_SHIFT=10 build).
 *
 * @public
 */
export const E820_MAX_ENTRIES = 3200;

/**
 * One range: `[addr, addr + size)` of a type.
 *
 * @public
 */
export interface E820Entry {
  /** Physical start. */
  readonly addr: number;
  /** Size in bytes. */
  readonly size: number;
  /** `E820_TYPE_*`. */
  readonly type: number;
}

/**
 * A table, in the order the kernel keeps it.
 *
 * @public
 */
export type E820Table = readonly E820Entry[];

const U64_MAX = 2n ** 64n - 1n;

/** `%#0*Lx` as the kernel prints it: `0x` and at least `width - 2` hex digits (`0x` even for 0). */
function hexPad(v: bigint | number, width: number): string {
  return `0x${BigInt(v).toString(16).padStart(width - 2, '0')}`;
}

/**
 * `e820_print_type()`: `usable`, `reserved`, `soft reserved`, `ACPI data`,
 * `ACPI NVS`, `unusable`, `persistent (type 12)`, or `type N`.
  *
  * @public
 */
export function e820TypeName(type: number): string {
  checkUnsigned('e820_print_type', 'type', type, 0xffffffff);
  switch (type) {
    case E820_TYPE_RAM:
    case E820_TYPE_RESERVED_KERN:
      return 'usable';
    case E820_TYPE_RESERVED:
      return 'reserved';
    case E820_TYPE_SOFT_RESERVED:
      return 'soft reserved';
    case E820_TYPE_ACPI:
      return 'ACPI data';
    case E820_TYPE_NVS:
      return 'ACPI NVS';
    case E820_TYPE_UNUSABLE:
      return 'unusable';
    case E820_TYPE_PMEM:
    case E820_TYPE_PRAM:
      return `persistent (type ${type})`;
    default:
      return `type ${type}`;
  }
}

/**
 * `e820__print_table(who)`: one line per entry,
 * `BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable`.
  *
  * @public
 */
export function e820PrintTable(table: E820Table, who: string): string[] {
  argObjects('e820PrintTable', 'table', table);
  argString('e820PrintTable', 'who', who);
  return table.map(
    (e) => `${who}: [mem ${hexPad(e.addr, 18)}-${hexPad(BigInt(e.addr) + BigInt(e.size) - 1n, 18)}] ${e820TypeName(e.type)}`,
  );
}

/**
 * `e820__range_add()`: appends an entry (no sorting, no merging: call
 * {@link e820UpdateTable} after). A full table drops the entry with the
 * kernel's error line in `log`.
  *
  * @public
 */
export function e820RangeAdd(table: E820Table, start: number, size: number, type: number): { table: E820Table; log: string[] } {
  if (table.length >= E820_MAX_ENTRIES) {
    return {
      table,
      log: [`e820: too many entries; ignoring [mem ${hexPad(start, 10)}-${hexPad(BigInt(start) + BigInt(size) - 1n, 10)}]`],
    };
  }
  return { table: [...table, { addr: start, size, type }], log: [] };
}

/** `e820_nomerge()`: types whose neighbouring ranges are never merged. */
function e820Nomerge(type: number): boolean {
  return type === E820_TYPE_PRAM || type === E820_TYPE_SOFT_RESERVED;
}

/**
 * `e820__update_table()`: sorts, resolves overlaps (the higher type wins),
 * merges touching entries of one type (except persistent and soft-reserved
 * memory) and drops empty ones. Returns `undefined` where the kernel returns
 * -1 and leaves the table alone: fewer than two entries, or one whose end
 * wraps past 2^64.
  *
  * @public
 */
export function e820UpdateTable(table: E820Table): E820Table | undefined {
  if (table.length < 2) return undefined;
  for (const e of table) if (BigInt(e.addr) + BigInt(e.size) > U64_MAX) return undefined;

  // Change points: every entry's start and end; at one address, starts
  // come before ends (cpcompare()).
  const points: { addr: bigint; entry: number; isStart: boolean }[] = [];
  table.forEach((e, i) => {
    if (e.size === 0) return;
    points.push({ addr: BigInt(e.addr), entry: i, isStart: true });
    points.push({ addr: BigInt(e.addr) + BigInt(e.size), entry: i, isStart: false });
  });
  points.sort((a, b) => (a.addr !== b.addr ? (a.addr < b.addr ? -1 : 1) : Number(!a.isStart) - Number(!b.isStart)));

  const out: { addr: bigint; size: bigint; type: number }[] = [];
  const overlap = new Set<number>();
  let lastType = 0;
  let lastAddr = 0n;
  for (const p of points) {
    if (p.isStart) overlap.add(p.entry);
    else overlap.delete(p.entry);
    let currentType = 0;
    for (const i of overlap) currentType = Math.max(currentType, table[i]!.type);
    if (currentType !== lastType || e820Nomerge(currentType)) {
      if (lastType !== 0) {
        const size = p.addr - lastAddr;
        if (size !== 0n) {
          out[out.length - 1]!.size = size;
          if (out.length >= E820_MAX_ENTRIES) break;
        } else {
          out.pop();
        }
      }
      if (currentType !== 0) {
        out.push({ addr: p.addr, size: 0n, type: currentType });
        lastAddr = p.addr;
      }
      lastType = currentType;
    }
  }
  return out.filter((e) => e.size !== 0n).map((e) => ({ addr: Number(e.addr), size: Number(e.size), type: e.type }));
}

/**
 * `__e820__range_update()`: retypes the `oldType` parts of `[start, start +
 * size)` to `newType` (splitting entries as needed; sanitize after). The
 * debug line the kernel logs is returned with the bytes updated:
 * `e820: update [mem 0x00000000-0x00000fff] usable ==> reserved`.
  *
  * @public
 */
export function e820RangeUpdate(
  table: E820Table,
  start: number,
  size: number | bigint,
  oldType: number,
  newType: number,
): { table: E820Table; updated: number; log: string[] } {
  if (oldType === newType) throw new RangeError('e820__range_update: old_type == new_type (BUG_ON)');
  const s = BigInt(start);
  let sz = BigInt(size);
  if (sz > U64_MAX - s) sz = U64_MAX - s;
  const end = s + sz;
  const log = [`e820: update [mem ${hexPad(s, 10)}-${hexPad(end - 1n, 10)}] ${e820TypeName(oldType)} ==> ${e820TypeName(newType)}`];
  const entries = table.map((e) => ({ addr: BigInt(e.addr), size: BigInt(e.size), type: e.type }));
  const added: typeof entries = [];
  let updated = 0n;
  for (const entry of entries) {
    if (entry.type !== oldType) continue;
    const entryEnd = entry.addr + entry.size;
    if (entry.addr >= s && entryEnd <= end) {
      entry.type = newType;
      updated += entry.size;
      continue;
    }
    if (entry.addr < s && entryEnd > end) {
      added.push({ addr: s, size: sz, type: newType });
      added.push({ addr: end, size: entryEnd - end, type: entry.type });
      entry.size = s - entry.addr;
      updated += sz;
      continue;
    }
    const finalStart = entry.addr > s ? entry.addr : s;
    const finalEnd = entryEnd < end ? entryEnd : end;
    if (finalStart >= finalEnd) continue;
    added.push({ addr: finalStart, size: finalEnd - finalStart, type: newType });
    updated += finalEnd - finalStart;
    entry.size -= finalEnd - finalStart;
    if (entry.addr < finalStart) continue;
    entry.addr = finalEnd;
  }
  return { table: [...entries, ...added].map(toEntry), updated: Number(updated), log };
}

/**
 * `e820__range_remove()`: takes `[start, start + size)` out of the table
 * (only entries of `oldType` if `checkType`); a removed entry stays as an
 * empty one until the next sanitize. `size` may be a bigint up to 2^64 − 1
 * − start (`mem=` passes `ULLONG_MAX - mem_size`). Returns the kernel's
 * debug line, e.g. `e820: remove [mem 0x000a0000-0x000fffff] usable`.
  *
  * @public
 */
export function e820RangeRemove(
  table: E820Table,
  start: number,
  size: number | bigint,
  oldType: number,
  checkType: boolean,
): { table: E820Table; removed: number; log: string[] } {
  const s = BigInt(start);
  let sz = BigInt(size);
  if (sz > U64_MAX - s) sz = U64_MAX - s;
  const end = s + sz;
  const log = [`e820: remove [mem ${hexPad(s, 10)}-${hexPad(end - 1n, 10)}] ${checkType ? e820TypeName(oldType) : ''}`];
  const entries = table.map((e) => ({ addr: BigInt(e.addr), size: BigInt(e.size), type: e.type }));
  const added: typeof entries = [];
  let removed = 0n;
  for (const entry of entries) {
    if (checkType && entry.type !== oldType) continue;
    const entryEnd = entry.addr + entry.size;
    if (entry.addr >= s && entryEnd <= end) {
      removed += entry.size;
      entry.addr = 0n;
      entry.size = 0n;
      entry.type = 0;
      continue;
    }
    if (entry.addr < s && entryEnd > end) {
      added.push({ addr: end, size: entryEnd - end, type: entry.type });
      entry.size = s - entry.addr;
      removed += sz;
      continue;
    }
    const finalStart = entry.addr > s ? entry.addr : s;
    const finalEnd = entryEnd < end ? entryEnd : end;
    if (finalStart >= finalEnd) continue;
    removed += finalEnd - finalStart;
    entry.size -= finalEnd - finalStart;
    if (entry.addr < finalStart) continue;
    entry.addr = finalEnd;
  }
  return { table: [...entries, ...added].map(toEntry), removed: Number(removed), log };
}

function toEntry(e: { addr: bigint; size: bigint; type: number }): E820Entry {
  return { addr: Number(e.addr), size: Number(e.size), type: e.type };
}

/**
 * The outcome of applying boot options to a table.
 *
 * @public
 */
export interface E820Params {
  /** The table after the options. */
  readonly table: E820Table;
  /** `userdef`: a `mem=`/`memmap=` changed the map (so it is printed as `user-defined`). */
  readonly userdef: boolean;
  /** `mem=`'s limit (`max_mem_size` for memory hotplug), if given. */
  readonly maxMemSize: number | undefined;
  /**
   * Lines the kernel logged while parsing, in order: `e820: ...` at
   * KERN_DEBUG, the others (`Malformed early option 'mem'`) at KERN_WARNING.
   */
  readonly log: readonly string[];
  /** Options the kernel rejected (`-EINVAL`): `memmap=...`. */
  readonly invalid: readonly string[];
}

/**
 * `parse_memmap_one()`: one `memmap=` item. `nn[KMG]@ss[KMG]` adds RAM,
 * `#` ACPI data, `$` reserved, `!` persistent memory (type 12),
 * `nn%ss-old+new` retypes (or adds or removes), and a bare `nn[KMG]` limits
 * RAM to nn (like `mem=`); `exactmap` empties the table. Returns
 * `ok: false` where the kernel returns -EINVAL (the table may still have
 * changed, as in the kernel).
  *
  * @public
 */
export function parseMemmapOne(table: E820Table, p: string): { table: E820Table; userdef: boolean; ok: boolean; log: string[] } {
  if (p.startsWith('exactmap')) return { table: [], userdef: true, ok: true, log: [] };
  const size = memparse(p);
  if (size.end === 0) return { table, userdef: false, ok: false, log: [] };
  let rest = p.slice(size.end);
  const log: string[] = [];
  let t = table;
  const add = (start: number, type: number): void => {
    const r = e820RangeAdd(t, start, size.value, type);
    t = r.table;
    log.push(...r.log);
  };
  const op = rest[0];
  if (op === '@' || op === '#' || op === '$' || op === '!') {
    const at = memparse(rest.slice(1));
    rest = rest.slice(1 + at.end);
    const type = { '@': E820_TYPE_RAM, '#': E820_TYPE_ACPI, $: E820_TYPE_RESERVED, '!': E820_TYPE_PRAM }[op];
    add(at.value, type);
  } else if (op === '%') {
    const at = memparse(rest.slice(1));
    rest = rest.slice(1 + at.end);
    let from = 0;
    let to = 0;
    if (rest[0] === '-') {
      const n = simpleStrtoull(rest.slice(1));
      from = n.value;
      rest = rest.slice(1 + n.end);
    }
    if (rest[0] === '+') {
      const n = simpleStrtoull(rest.slice(1));
      to = n.value;
      rest = rest.slice(1 + n.end);
    }
    if (rest !== '') return { table: t, userdef: true, ok: false, log };
    if (from !== 0 && to !== 0) {
      const r = e820RangeUpdate(t, at.value, size.value, from, to);
      t = r.table;
      log.push(...r.log);
    } else if (to !== 0) {
      add(at.value, to);
    } else {
      const r = e820RangeRemove(t, at.value, size.value, from, from !== 0);
      t = r.table;
      log.push(...r.log);
    }
  } else {
    const r = e820RangeRemove(t, size.value, U64_MAX - BigInt(size.value), E820_TYPE_RAM, true);
    t = r.table;
    log.push(...r.log);
  }
  return { table: t, userdef: true, ok: rest === '', log };
}

/** `simple_strtoull(s, &end, 0)`: a hex (`0x`), octal (`0`) or decimal number and its length. */
function simpleStrtoull(s: string): { value: number; end: number } {
  const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(s);
  if (m === null) return { value: 0, end: 0 };
  const d = m[0];
  const value = /^0[xX]/.test(d) ? parseInt(d.slice(2), 16) : d.length > 1 && d.startsWith('0') ? parseInt(d, 8) : parseInt(d, 10);
  return { value, end: d.length };
}

/**
 * `parse_memopt()`: `mem=nn[KMG]` removes all RAM above nn; `mem=0` and
 * garbage are rejected (-EINVAL), `mem=nopentium` warns on x86_64.
  *
  * @public
 */
export function parseMemOpt(table: E820Table, p: string): { table: E820Table; userdef: boolean; ok: boolean; maxMemSize: number | undefined; log: string[] } {
  if (p === 'nopentium') {
    return { table, userdef: false, ok: false, maxMemSize: undefined, log: ['mem=nopentium ignored! (only supported on x86_32)'] };
  }
  const size = memparse(p).value;
  if (size === 0) return { table, userdef: true, ok: false, maxMemSize: undefined, log: [] };
  const r = e820RangeRemove(table, size, U64_MAX - BigInt(size), E820_TYPE_RAM, true);
  return { table: r.table, userdef: true, ok: true, maxMemSize: size, log: r.log };
}

/**
 * The `memmap=` and `mem=` options of a kernel command line, applied in
 * order as `parse_early_param()` does (each `memmap=` value may hold several
 * comma-separated items: `parse_memmap_opt()`).
  *
  * @public
 */
export function e820ParseEarlyParams(table: E820Table, cmdline: string): E820Params {
  argObjects('e820ParseEarlyParams', 'table', table);
  argString('e820ParseEarlyParams', 'cmdline', cmdline);
  let t = table;
  let userdef = false;
  let maxMemSize: number | undefined;
  const log: string[] = [];
  const invalid: string[] = [];
  for (const word of splitCmdline(cmdline)) {
    const eq = word.indexOf('=');
    if (eq < 0) continue;
    const key = word.slice(0, eq);
    const value = word.slice(eq + 1);
    if (key === 'memmap') {
      for (const item of value.split(',')) {
        const r = parseMemmapOne(t, item);
        t = r.table;
        userdef ||= r.userdef;
        log.push(...r.log);
        if (!r.ok) invalid.push(`memmap=${item}`);
      }
    } else if (key === 'mem') {
      const r = parseMemOpt(t, value);
      t = r.table;
      userdef ||= r.userdef;
      if (r.maxMemSize !== undefined) maxMemSize = r.maxMemSize;
      log.push(...r.log);
      if (!r.ok) {
        // do_early_param() in init/main.c; parse_memmap_opt() never fails.
        invalid.push(`mem=${value}`);
        log.push("Malformed early option 'mem'");
      }
    }
  }
  return { table: t, userdef, maxMemSize, log, invalid };
}

/**
 * `next_arg()` of lib/cmdline.c: words separated by blanks, `"..."` quoting allowed.
 *
 * @public
 */
export function splitCmdline(cmdline: string): string[] {
  const out: string[] = [];
  const re = /(?:[^\s"]+|"[^"]*")+/g;
  for (const m of cmdline.match(re) ?? []) out.push(m.replace(/"/g, ''));
  return out;
}

/**
 * `e820__finish_early_params()`: after user edits, sanitize and print
 * `user-defined physical RAM map:` and the table with `user:`. Returns the
 * table and the lines; `panic` when the kernel would `early_panic("Invalid
 * user supplied memory map")`.
  *
  * @public
 */
export function e820FinishEarlyParams(table: E820Table, userdef: boolean): { table: E820Table; log: string[]; panic?: string } {
  if (!userdef) return { table, log: [] };
  const sane = e820UpdateTable(table);
  if (sane === undefined) return { table, log: [], panic: 'Invalid user supplied memory map' };
  return { table: sane, log: ['user-defined physical RAM map:', ...e820PrintTable(sane, 'user')] };
}

/**
 * `BIOS_BEGIN`/`BIOS_END`: the legacy 640K..1M area.
 *
 * @public
 */
export const BIOS_BEGIN = 0x000a0000;
/**
 * End of the legacy BIOS area.
 *
 * @public
 */
export const BIOS_END = 0x00100000;

/**
 * `trim_bios_range()`: the first page becomes reserved and RAM in the
 * legacy BIOS area (640K..1M) is removed; then sanitize.
  *
  * @public
 */
export function e820TrimBiosRange(table: E820Table): { table: E820Table; log: string[] } {
  const u = e820RangeUpdate(table, 0, SZ_4K, E820_TYPE_RAM, E820_TYPE_RESERVED);
  const r = e820RangeRemove(u.table, BIOS_BEGIN, BIOS_END - BIOS_BEGIN, E820_TYPE_RAM, true);
  return { table: e820UpdateTable(r.table) ?? r.table, log: [...u.log, ...r.log] };
}

/**
 * `MAX_ARCH_PFN` on x86_64 with 4-level paging: 2^46 bytes of 4 KiB pages.
 *
 * @public
 */
export const MAX_ARCH_PFN_X86_64: number = 2 ** 34;

/**
 * `e820_end_pfn()` (arch/x86/kernel/e820.c, v5.13): the pfn after the last
 * RAM page below `limitPfn`, capped at `MAX_ARCH_PFN`, with its log line
 * `last_pfn = 0x140000 max_arch_pfn = 0x400000000` (the line always names
 * `MAX_ARCH_PFN`, whatever the limit).
  *
  * @public
 */
export function e820EndPfn(table: E820Table, limitPfn: number, maxArchPfn: number = MAX_ARCH_PFN_X86_64): { pfn: number; log: string } {
  let last = 0;
  for (const e of table) {
    if (e.type !== E820_TYPE_RAM) continue;
    const startPfn = Math.floor(e.addr / SZ_4K);
    const endPfn = Math.floor((e.addr + e.size) / SZ_4K);
    if (startPfn >= limitPfn) continue;
    if (endPfn > limitPfn) {
      last = limitPfn;
      break;
    }
    if (endPfn > last) last = endPfn;
  }
  if (last > maxArchPfn) last = maxArchPfn;
  return { pfn: last, log: `last_pfn = 0x${last.toString(16)} max_arch_pfn = 0x${maxArchPfn.toString(16)}` };
}

/**
 * `e820__end_of_ram_pfn()`: `max_pfn`, the end of RAM below `MAX_ARCH_PFN`.
 *
 * @public
 */
export function e820EndOfRamPfn(table: E820Table, maxArchPfn: number = MAX_ARCH_PFN_X86_64): { pfn: number; log: string } {
  if (!Array.isArray(table)) throw new KernelError('EINVAL', `e820__end_of_ram_pfn: invalid e820 table ${String(table)}`);
  checkUnsigned('e820__end_of_ram_pfn', 'max_arch_pfn', maxArchPfn);
  return e820EndPfn(table, maxArchPfn, maxArchPfn);
}

/**
 * The first pfn above 4 GiB: `1UL << (32 - PAGE_SHIFT)`.
 *
 * @public
 */
export const PFN_4G: number = 2 ** 20;

/**
 * `e820__end_of_low_ram_pfn()`: `max_low_pfn`, the end of RAM below 4 GiB.
 * `setup_arch()` calls it (and so logs a second `last_pfn` line) only when
 * `max_pfn` is above 4 GiB.
  *
  * @public
 */
export function e820EndOfLowRamPfn(table: E820Table, maxArchPfn: number = MAX_ARCH_PFN_X86_64): { pfn: number; log: string } {
  if (!Array.isArray(table)) throw new KernelError('EINVAL', `e820__end_of_low_ram_pfn: invalid e820 table ${String(table)}`);
  checkUnsigned('e820__end_of_low_ram_pfn', 'max_arch_pfn', maxArchPfn);
  return e820EndPfn(table, PFN_4G, maxArchPfn);
}

/**
 * `e820_type_to_string()`: the resource name in /proc/iomem.
 *
 * @public
 */
export function e820TypeToString(type: number): string {
  checkUnsigned('e820_type_to_string', 'type', type, 0xffffffff);
  switch (type) {
    case E820_TYPE_RESERVED_KERN:
    case E820_TYPE_RAM:
      return 'System RAM';
    case E820_TYPE_ACPI:
      return 'ACPI Tables';
    case E820_TYPE_NVS:
      return 'ACPI Non-volatile Storage';
    case E820_TYPE_UNUSABLE:
      return 'Unusable memory';
    case E820_TYPE_PRAM:
      return 'Persistent Memory (legacy)';
    case E820_TYPE_PMEM:
      return 'Persistent Memory';
    case E820_TYPE_RESERVED:
      return 'Reserved';
    case E820_TYPE_SOFT_RESERVED:
      return 'Soft Reserved';
    default:
      return 'Unknown E820 type';
  }
}

/**
 * `e820_type_to_iomem_type()`: IORESOURCE_SYSTEM_RAM for RAM, else IORESOURCE_MEM.
 *
 * @public
 */
export function e820TypeToIomemType(type: number): number {
  return type === E820_TYPE_RAM || type === E820_TYPE_RESERVED_KERN ? IORESOURCE_SYSTEM_RAM : IORESOURCE_MEM;
}

/**
 * `e820_type_to_iores_desc()`.
 *
 * @public
 */
export function e820TypeToIoresDesc(type: number): number {
  switch (type) {
    case E820_TYPE_ACPI:
      return IORES_DESC_ACPI_TABLES;
    case E820_TYPE_NVS:
      return IORES_DESC_ACPI_NV_STORAGE;
    case E820_TYPE_PMEM:
      return IORES_DESC_PERSISTENT_MEMORY;
    case E820_TYPE_PRAM:
      return IORES_DESC_PERSISTENT_MEMORY_LEGACY;
    case E820_TYPE_RESERVED:
      return IORES_DESC_RESERVED;
    case E820_TYPE_SOFT_RESERVED:
      return IORES_DESC_SOFT_RESERVED;
    default:
      return IORES_DESC_NONE;
  }
}

/**
 * `do_mark_busy()`: whether the resource is claimed at once (busy). Below
 * 1 MiB everything is; reserved, soft-reserved and persistent memory are left
 * free for a driver (libnvdimm's e820 pmem driver claims type 12 later).
  *
  * @public
 */
export function e820DoMarkBusy(type: number, start: number): boolean {
  if (start < BIOS_END) return true;
  switch (type) {
    case E820_TYPE_RESERVED:
    case E820_TYPE_SOFT_RESERVED:
    case E820_TYPE_PRAM:
    case E820_TYPE_PMEM:
      return false;
    default:
      return true;
  }
}

/**
 * `e820__reserve_resources()` followed by `e820__reserve_resources_late()`:
 * every entry becomes a top-level resource of the iomem tree (busy ones
 * first, then the others with `insert_resource_expand_to_fit()` — modelled
 * as `insert_resource()`, which is the same where nothing overlaps).
 * Both ignore an entry the iomem root cannot hold (RAM or `memmap=`
 * beyond the CPU's physical address bits, as with `-m 64T`): v5.13 drops
 * `insert_resource()`'s -EBUSY, and `insert_resource_expand_to_fit()`
 * stops when the conflict is the root. Returns the resources in table
 * order, inserted or not.
  *
  * @public
 */
export function e820ReserveResources(iomem: ResourceTree, table: E820Table): Resource[] {
  argObject('e820ReserveResources', 'iomem', iomem);
  argFunction('e820ReserveResources', 'iomem.insertResourceConflict', (iomem as { insertResourceConflict?: unknown }).insertResourceConflict);
  argObjects('e820ReserveResources', 'table', table);
  const out: Resource[] = [];
  const late: Resource[] = [];
  for (const e of table) {
    const end = BigInt(e.addr) + BigInt(e.size) - 1n;
    if (end > BigInt(Number.MAX_SAFE_INTEGER)) continue;
    const busy = e820DoMarkBusy(e.type, e.addr);
    const flags = e820TypeToIomemType(e.type) + (busy ? IORESOURCE_BUSY : 0);
    const res = new Resource({ name: e820TypeToString(e.type), start: e.addr, end: Number(end), flags, desc: e820TypeToIoresDesc(e.type) });
    out.push(res);
    if (busy) {
      // insert_resource(): the result is not checked.
      iomem.insertResourceConflict(iomem.root, res);
    } else late.push(res);
  }
  for (const res of late) {
    if (res.start < iomem.root.start || res.end > iomem.root.end) continue;
    iomem.insertResource(iomem.root, res);
  }
  return out;
}
