import { describe, expect, it } from 'vitest';
import { Kernel } from '@zonedev/kernel';
import {
  E820_TYPE_ACPI,
  E820_TYPE_NVS,
  E820_TYPE_PMEM,
  E820_TYPE_PRAM,
  E820_TYPE_RAM,
  E820_TYPE_RESERVED,
  E820_TYPE_SOFT_RESERVED,
  E820_TYPE_UNUSABLE,
  e820EndOfRamPfn,
  e820FinishEarlyParams,
  e820ParseEarlyParams,
  e820PrintTable,
  e820RangeRemove,
  e820RangeUpdate,
  e820ReserveResources,
  e820TrimBiosRange,
  e820TypeName,
  e820TypeToString,
  e820UpdateTable,
  parseMemmapOne,
  splitCmdline,
  type E820Table,
} from '../src/x86/e820.js';

const G = 2 ** 30;
const M = 2 ** 20;
const ram = (addr: number, size: number): { addr: number; size: number; type: number } => ({ addr, size, type: E820_TYPE_RAM });

/** The table SeaBIOS gives a QEMU pc guest with -m 4G. */
const QEMU_4G: E820Table = [
  ram(0, 0x9fc00),
  { addr: 0x9fc00, size: 0x400, type: E820_TYPE_RESERVED },
  { addr: 0xf0000, size: 0x10000, type: E820_TYPE_RESERVED },
  ram(0x100000, 0xbffe0000 - 0x100000),
  { addr: 0xbffe0000, size: 0x20000, type: E820_TYPE_RESERVED },
  { addr: 0xfeffc000, size: 0x4000, type: E820_TYPE_RESERVED },
  { addr: 0xfffc0000, size: 0x40000, type: E820_TYPE_RESERVED },
  ram(4 * G, G),
];

describe('e820_print_type / e820__print_table (arch/x86/kernel/e820.c)', () => {
  it('names the types as the kernel prints them', () => {
    expect([E820_TYPE_RAM, E820_TYPE_RESERVED, E820_TYPE_ACPI, E820_TYPE_NVS, E820_TYPE_UNUSABLE, E820_TYPE_PMEM, E820_TYPE_PRAM, E820_TYPE_SOFT_RESERVED, 6].map(e820TypeName)).toEqual([
      'usable',
      'reserved',
      'ACPI data',
      'ACPI NVS',
      'unusable',
      'persistent (type 7)',
      'persistent (type 12)',
      'soft reserved',
      'type 6',
    ]);
  });
  it('prints [mem %#018Lx-%#018Lx] lines', () => {
    expect(e820PrintTable(QEMU_4G, 'BIOS-e820')).toEqual([
      'BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable',
      'BIOS-e820: [mem 0x000000000009fc00-0x000000000009ffff] reserved',
      'BIOS-e820: [mem 0x00000000000f0000-0x00000000000fffff] reserved',
      'BIOS-e820: [mem 0x0000000000100000-0x00000000bffdffff] usable',
      'BIOS-e820: [mem 0x00000000bffe0000-0x00000000bfffffff] reserved',
      'BIOS-e820: [mem 0x00000000feffc000-0x00000000feffffff] reserved',
      'BIOS-e820: [mem 0x00000000fffc0000-0x00000000ffffffff] reserved',
      'BIOS-e820: [mem 0x0000000100000000-0x000000013fffffff] usable',
    ]);
  });
  it('names the iomem resources', () => {
    expect([E820_TYPE_RAM, E820_TYPE_RESERVED, E820_TYPE_ACPI, E820_TYPE_NVS, E820_TYPE_UNUSABLE, E820_TYPE_PMEM, E820_TYPE_PRAM, E820_TYPE_SOFT_RESERVED, 6].map(e820TypeToString)).toEqual([
      'System RAM',
      'Reserved',
      'ACPI Tables',
      'ACPI Non-volatile Storage',
      'Unusable memory',
      'Persistent Memory',
      'Persistent Memory (legacy)',
      'Soft Reserved',
      'Unknown E820 type',
    ]);
  });
});

describe('e820__update_table (sanitize)', () => {
  it('sorts, merges touching entries of one type and drops empty ones', () => {
    const t = e820UpdateTable([ram(2 * M, M), ram(0, M), ram(M, M), { addr: 5 * M, size: 0, type: E820_TYPE_RESERVED }]);
    expect(t).toEqual([ram(0, 3 * M)]);
  });
  it('lets the higher type win where entries overlap', () => {
    const t = e820UpdateTable([ram(0, 16 * M), { addr: 4 * M, size: 4 * M, type: E820_TYPE_RESERVED }, { addr: 6 * M, size: 4 * M, type: E820_TYPE_ACPI }]);
    expect(t).toEqual([
      ram(0, 4 * M),
      { addr: 4 * M, size: 2 * M, type: E820_TYPE_RESERVED },
      { addr: 6 * M, size: 4 * M, type: E820_TYPE_ACPI },
      ram(10 * M, 6 * M),
    ]);
  });
  it('never merges persistent memory (type 12) ranges, even touching ones', () => {
    const t = e820UpdateTable([
      { addr: 0, size: G, type: E820_TYPE_PRAM },
      { addr: G, size: G, type: E820_TYPE_PRAM },
      ram(2 * G, G),
      ram(3 * G, G),
    ]);
    expect(t).toEqual([{ addr: 0, size: G, type: E820_TYPE_PRAM }, { addr: G, size: G, type: E820_TYPE_PRAM }, ram(2 * G, 2 * G)]);
  });
  it('refuses one entry, or an entry wrapping past 2^64', () => {
    expect(e820UpdateTable([ram(0, G)])).toBeUndefined();
    expect(e820UpdateTable([ram(0, G), ram(2 ** 63, 2 ** 63)])).toBeUndefined();
  });
});

describe('e820__range_update / e820__range_remove', () => {
  it('retypes the first page, logging the kernel debug line', () => {
    const r = e820RangeUpdate(QEMU_4G, 0, 4096, E820_TYPE_RAM, E820_TYPE_RESERVED);
    expect(r.log).toEqual(['e820: update [mem 0x00000000-0x00000fff] usable ==> reserved']);
    expect(r.updated).toBe(4096);
    expect(r.table.slice(0, 1)).toEqual([ram(0x1000, 0x9fc00 - 0x1000)]);
    expect(r.table[r.table.length - 1]).toEqual({ addr: 0, size: 4096, type: E820_TYPE_RESERVED });
  });
  it('splits an entry that covers the range', () => {
    const r = e820RangeUpdate([ram(0, 16 * M)], 4 * M, 4 * M, E820_TYPE_RAM, E820_TYPE_PRAM);
    expect(r.table).toEqual([ram(0, 4 * M), { addr: 4 * M, size: 4 * M, type: E820_TYPE_PRAM }, ram(8 * M, 8 * M)]);
  });
  it('removes up to ULLONG_MAX for mem=, printing the end as 0xfffffffffffffffe', () => {
    const r = e820RangeRemove(QEMU_4G, G, 2n ** 64n - 1n - BigInt(G), E820_TYPE_RAM, true);
    expect(r.log).toEqual(['e820: remove [mem 0x40000000-0xfffffffffffffffe] usable']);
    expect(r.removed).toBe(0xbffe0000 - G + G);
    expect(e820UpdateTable(r.table)?.filter((e) => e.type === E820_TYPE_RAM)).toEqual([ram(0, 0x9fc00), ram(0x100000, G - 0x100000)]);
  });
  it('removes regardless of type without checktype, and the line then ends in a space', () => {
    const r = e820RangeRemove([ram(0, M), { addr: M, size: M, type: E820_TYPE_RESERVED }], 0, 2 * M, 0, false);
    expect(r.log).toEqual(['e820: remove [mem 0x00000000-0x001fffff] ']);
    expect(e820UpdateTable([...r.table, ram(8 * M, M)])).toEqual([ram(8 * M, M)]);
  });
  it('trims the first page and the legacy BIOS area (trim_bios_range)', () => {
    const r = e820TrimBiosRange(QEMU_4G);
    expect(r.log).toEqual(['e820: update [mem 0x00000000-0x00000fff] usable ==> reserved', 'e820: remove [mem 0x000a0000-0x000fffff] usable']);
    expect(e820PrintTable(r.table, 'e820').slice(0, 3)).toEqual([
      'e820: [mem 0x0000000000000000-0x0000000000000fff] reserved',
      'e820: [mem 0x0000000000001000-0x000000000009fbff] usable',
      'e820: [mem 0x000000000009fc00-0x000000000009ffff] reserved',
    ]);
  });
  it('computes max_pfn (e820__end_of_ram_pfn)', () => {
    expect(e820EndOfRamPfn(QEMU_4G)).toEqual({ pfn: 0x140000, log: 'last_pfn = 0x140000 max_arch_pfn = 0x400000000' });
  });
});

describe('memmap= and mem= (parse_memmap_one, parse_memopt, e820__finish_early_params)', () => {
  it('memmap=nn!ss marks persistent memory (type 12) and prints the user-defined map', () => {
    const p = e820ParseEarlyParams(QEMU_4G, 'root=/dev/vda memmap=512M!4G quiet');
    expect(p.userdef).toBe(true);
    const f = e820FinishEarlyParams(p.table, p.userdef);
    expect(f.log.slice(0, 1)).toEqual(['user-defined physical RAM map:']);
    expect(f.log.slice(-2)).toEqual([
      'user: [mem 0x0000000100000000-0x000000011fffffff] persistent (type 12)',
      'user: [mem 0x0000000120000000-0x000000013fffffff] usable',
    ]);
  });
  it('memmap=nn@ss adds RAM, nn#ss ACPI, nn$ss reserved, items separated by commas', () => {
    const p = e820ParseEarlyParams([ram(0, 16 * M), ram(32 * M, 16 * M)], 'memmap=16M@16M,1M#2M memmap=1M$4M');
    expect(e820FinishEarlyParams(p.table, p.userdef).log).toEqual([
      'user-defined physical RAM map:',
      'user: [mem 0x0000000000000000-0x00000000001fffff] usable',
      'user: [mem 0x0000000000200000-0x00000000002fffff] ACPI data',
      'user: [mem 0x0000000000300000-0x00000000003fffff] usable',
      'user: [mem 0x0000000000400000-0x00000000004fffff] reserved',
      'user: [mem 0x0000000000500000-0x0000000002ffffff] usable',
    ]);
  });
  it('memmap=nn%ss-old+new retypes, and a bare memmap=nn limits RAM', () => {
    const r = parseMemmapOne([ram(0, 16 * M)], '4M%8M-1+2');
    expect(r).toMatchObject({ ok: true, userdef: true, log: ['e820: update [mem 0x00800000-0x00bfffff] usable ==> reserved'] });
    const bare = parseMemmapOne([ram(0, 16 * M), ram(32 * M, M)], '8M');
    expect(e820UpdateTable(bare.table)).toEqual([ram(0, 8 * M)]);
    expect(parseMemmapOne([ram(0, M)], '4M%8M-1x').ok).toBe(false);
    expect(parseMemmapOne([ram(0, M)], 'junk')).toMatchObject({ ok: false, userdef: false });
    expect(parseMemmapOne([ram(0, M)], 'exactmap')).toMatchObject({ ok: true, table: [] });
  });
  it('mem=nn removes RAM above nn and records max_mem_size; mem=0 is malformed', () => {
    const p = e820ParseEarlyParams(QEMU_4G, 'mem=1G');
    expect(p.maxMemSize).toBe(G);
    expect(p.log).toEqual(['e820: remove [mem 0x40000000-0xfffffffffffffffe] usable']);
    const bad = e820ParseEarlyParams(QEMU_4G, 'mem=0');
    expect(bad).toMatchObject({ invalid: ['mem=0'], log: ["Malformed early option 'mem'"], maxMemSize: undefined });
  });
  it('panics on a user map with fewer than two entries (memmap=exactmap alone)', () => {
    const p = e820ParseEarlyParams(QEMU_4G, 'memmap=exactmap');
    expect(e820FinishEarlyParams(p.table, p.userdef).panic).toBe('Invalid user supplied memory map');
  });
  it('prints nothing without user changes', () => {
    expect(e820FinishEarlyParams(QEMU_4G, false)).toEqual({ table: QEMU_4G, log: [] });
  });
  it('splits the command line like next_arg(), honouring quotes', () => {
    expect(splitCmdline(' a=1  "b=x y" memmap=4G!12G ')).toEqual(['a=1', 'b=x y', 'memmap=4G!12G']);
  });
});

describe('e820__reserve_resources', () => {
  it('builds the top of /proc/iomem from the final table', () => {
    const k = new Kernel();
    const p = e820ParseEarlyParams(QEMU_4G, 'memmap=512M!4G');
    const t = e820TrimBiosRange(e820FinishEarlyParams(p.table, p.userdef).table).table;
    e820ReserveResources(k.iomem, t);
    expect(k.iomem.procIomem()).toBe(`00000000-00000fff : Reserved
00001000-0009fbff : System RAM
0009fc00-0009ffff : Reserved
000f0000-000fffff : Reserved
00100000-bffdffff : System RAM
bffe0000-bfffffff : Reserved
feffc000-feffffff : Reserved
fffc0000-ffffffff : Reserved
100000000-11fffffff : Persistent Memory (legacy)
120000000-13fffffff : System RAM
`);
  });
  it('leaves persistent and reserved memory above 1 MiB free for drivers, marks the rest busy', () => {
    const k = new Kernel();
    const res = e820ReserveResources(k.iomem, [ram(0, M), { addr: M, size: M, type: E820_TYPE_PRAM }, { addr: 2 * M, size: M, type: E820_TYPE_RESERVED }, ram(3 * M, M)]);
    const busy = res.map((r) => r.flags >= 0x80000000);
    expect(busy).toEqual([true, false, false, true]);
  });
});
