/**
 * Where QEMU's `pc` machine (i440FX) puts a guest's RAM, and the E820 table
 * SeaBIOS hands the guest kernel.
 *
 * QEMU splits the RAM at the 32-bit PCI hole (`pc_init1()` in
 * hw/i386/pc_piix.c): up to `max-ram-below-4g` (default 3.5 GiB) stays low;
 * a machine whose RAM does not fit below that keeps only 3 GiB low (so the
 * rest starts 1 GiB-aligned at 4 GiB, "gigabyte_align") and puts the rest
 * above 4 GiB. With `-m SIZE,slots=N,maxmem=MAX` it also reserves a
 * device-memory region for hot-plugged DIMMs (`pc_memory_init()` in
 * hw/i386/pc.c), starting at the first 1 GiB boundary after the high RAM and
 * sized `MAX - SIZE` plus 1 GiB per slot (each DIMM may need 1 GiB
 * alignment):
 *
 * ```
 *   -m 4G,slots=4,maxmem=16G
 *   0          640K  1M                3G         4G          5G                      21G
 *   |usable|res|    |res|  usable  |res|  PCI hole |  usable  |   device memory (hotplug)  |
 *   [----------------- below 4G: 3 GiB ---]          [above: 1G]  [ 16G - 4G + 4 x 1G = 16G ]
 * ```
 *
 * QEMU's own table (`etc/e820`) holds the two RAM ranges (and, under KVM,
 * the 16 KiB at 0xfeffc000 the kernel's KVM uses for its identity map and
 * TSS). SeaBIOS adds what the firmware keeps: the 1 KiB extended BIOS data
 * area below 640 KiB, the BIOS at 0xf0000, its own tables in the last
 * 128 KiB of low RAM, and the 256 KiB BIOS ROM below 4 GiB. That is the
 * table `dmesg` shows on a QEMU/KVM guest:
 *
 * ```
 *   BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable
 *   BIOS-e820: [mem 0x000000000009fc00-0x000000000009ffff] reserved
 *   BIOS-e820: [mem 0x00000000000f0000-0x00000000000fffff] reserved
 *   BIOS-e820: [mem 0x0000000000100000-0x00000000bffdffff] usable
 *   BIOS-e820: [mem 0x00000000bffe0000-0x00000000bfffffff] reserved
 *   BIOS-e820: [mem 0x00000000feffc000-0x00000000feffffff] reserved
 *   BIOS-e820: [mem 0x00000000fffc0000-0x00000000ffffffff] reserved
 *   BIOS-e820: [mem 0x0000000100000000-0x000000013fffffff] usable
 * ```
 *
 * The device-memory region is not in the E820 table: the guest learns of
 * it from ACPI (SRAT hot-pluggable ranges) when a DIMM arrives.
 *
 * Mirrors QEMU 6.0 (machine type pc-i440fx-6.0) and SeaBIOS 1.14; the size of
 * SeaBIOS's high tables (128 KiB here) varies with SeaBIOS version and vCPU
 * count on real guests.
 */
import { SZ_1G, SZ_4G, SZ_128K, SZ_256K, SZ_1M, align, isAligned } from '@zonedev/kernel';
import { QemuError } from '../qemu-error.js';
import { E820_TYPE_RAM, E820_TYPE_RESERVED, e820UpdateTable, type E820Table } from './e820.js';
import { argLayout, argObject, argUnsigned } from '../args.js';

/**
 * The `-m` and `-machine` settings that shape the memory map.
 *
 * @public
 */
export interface PcMemoryOptions {
  /** `-m SIZE`: boot RAM in bytes. */
  readonly ramSize: number;
  /** `slots=N`: DIMM slots for hot-plug (0: none). */
  readonly slots?: number;
  /** `maxmem=MAX`: boot RAM plus the most that can be hot-plugged (default: `ramSize`). */
  readonly maxmem?: number;
  /** `-machine max-ram-below-4g=`: default 0xe0000000 (3.5 GiB). */
  readonly maxRamBelow4g?: number;
  /** `gigabyte_align` of the machine type (true since pc-1.7). */
  readonly gigabyteAlign?: boolean;
  /** `enforce_aligned_dimm` (true since pc-2.2): 1 GiB of alignment room per slot. */
  readonly enforceAlignedDimm?: boolean;
  /** Running under KVM (adds the identity-map/TSS reservation); default true. */
  readonly kvm?: boolean;
}

/**
 * The guest-physical layout of a `pc` machine.
 *
 * @public
 */
export interface PcMemoryLayout {
  /** RAM at `[0, belowFourG)`. */
  readonly belowFourG: number;
  /** RAM at `[4 GiB, 4 GiB + aboveFourG)`. */
  readonly aboveFourG: number;
  /** The hot-plug region (`device_memory`), when `maxmem > ramSize`. */
  readonly deviceMemory: { readonly base: number; readonly size: number } | undefined;
  /** `slots`. */
  readonly slots: number;
  /** Whether the KVM reservation is in the table. */
  readonly kvm: boolean;
}

/**
 * `ACPI_MAX_RAM_SLOTS`.
 *
 * @public
 */
export const ACPI_MAX_RAM_SLOTS = 256;
/**
 * QEMU's default `max-ram-below-4g`.
 *
 * @public
 */
export const PC_MAX_RAM_BELOW_4G = 0xe0000000;
/**
 * Where the kernel's KVM support reserves its identity map and TSS (target/i386/kvm.c).
 *
 * @public
 */
export const KVM_IDENTITY_BASE = 0xfeffc000;

/**
 * The layout QEMU builds (`pc_init1()` + `pc_memory_init()`). Throws a
 * {@link QemuError} with QEMU's message for settings QEMU refuses.
  *
  * @public
 */
export function pcMemoryLayout(options: PcMemoryOptions): PcMemoryLayout {
  argObject('pcMemoryLayout', 'options', options);
  argUnsigned('pcMemoryLayout', 'ramSize', options.ramSize, 1);
  if (options.slots !== undefined) argUnsigned('pcMemoryLayout', 'slots', options.slots);
  if (options.maxmem !== undefined) argUnsigned('pcMemoryLayout', 'maxmem', options.maxmem, 1);
  if (options.maxRamBelow4g !== undefined) argUnsigned('pcMemoryLayout', 'maxRamBelow4g', options.maxRamBelow4g);
  const ram = options.ramSize;
  const slots = options.slots ?? 0;
  const maxmem = options.maxmem ?? ram;
  const maxBelow = options.maxRamBelow4g ?? PC_MAX_RAM_BELOW_4G;
  const hex = (v: number): string => `0x${v.toString(16)}`;
  if (maxmem < ram) {
    throw new QemuError(
      `invalid value of -m option maxmem: maximum memory size (${hex(maxmem)}) must be at least the initial memory size (${hex(ram)})`,
    );
  }
  if (slots > 0 && maxmem === ram) {
    throw new QemuError(
      `invalid value of -m option maxmem: memory slots were specified but maximum memory size (${hex(maxmem)}) is equal to the initial memory size (${hex(ram)})`,
    );
  }

  let lowmem = maxBelow;
  if (ram >= maxBelow && (options.gigabyteAlign ?? true) && lowmem > 0xc0000000) lowmem = 0xc0000000;
  const belowFourG = ram >= lowmem ? lowmem : ram;
  const aboveFourG = ram >= lowmem ? ram - lowmem : 0;

  let deviceMemory: PcMemoryLayout['deviceMemory'];
  if (ram < maxmem) {
    if (slots > ACPI_MAX_RAM_SLOTS) throw new QemuError(`unsupported amount of memory slots: ${slots}`);
    if (!isAligned(maxmem, 4096)) throw new QemuError('maximum memory size must by aligned to multiple of 4096 bytes');
    const base = align(SZ_4G + aboveFourG, SZ_1G);
    let size = maxmem - ram;
    if (options.enforceAlignedDimm ?? true) size += SZ_1G * slots;
    deviceMemory = { base, size };
  }
  return { belowFourG, aboveFourG, deviceMemory, slots, kvm: options.kvm ?? true };
}

/**
 * QEMU's `etc/e820` table: the RAM ranges (and the KVM reservation).
 *
 * @public
 */
export function qemuE820(layout: PcMemoryLayout): E820Table {
  argLayout('qemuE820', layout);
  const t: { addr: number; size: number; type: number }[] = [{ addr: 0, size: layout.belowFourG, type: E820_TYPE_RAM }];
  if (layout.aboveFourG > 0) t.push({ addr: SZ_4G, size: layout.aboveFourG, type: E820_TYPE_RAM });
  if (layout.kvm) t.push({ addr: KVM_IDENTITY_BASE, size: 0x4000, type: E820_TYPE_RESERVED });
  return t;
}

/**
 * SeaBIOS's extended BIOS data area: the last 1 KiB below 640 KiB.
 *
 * @public
 */
export const SEABIOS_EBDA = { addr: 0x9fc00, size: 0x400 } as const;
/**
 * The BIOS itself at 0xf0000.
 *
 * @public
 */
export const SEABIOS_BIOS = { addr: 0xf0000, size: 0x10000 } as const;
/**
 * The BIOS ROM mapped below 4 GiB.
 *
 * @public
 */
export const SEABIOS_ROM: { readonly addr: number; readonly size: number } = { addr: SZ_4G - SZ_256K, size: SZ_256K };
/**
 * SeaBIOS's high tables at the top of low RAM.
 *
 * @public
 */
export const SEABIOS_HIGH_TABLES: number = SZ_128K;

/**
 * The E820 table the guest kernel receives: QEMU's ranges plus SeaBIOS's
 * reservations, sorted and merged. The guest needs at least 2 MiB of RAM.
  *
  * @public
 */
export function seabiosE820(layout: PcMemoryLayout): E820Table {
  argLayout('seabiosE820', layout);
  if (layout.belowFourG < 2 * SZ_1M) throw new QemuError('the guest needs at least 2 MiB of RAM');
  const top = layout.belowFourG;
  const entries = [
    { addr: 0, size: SEABIOS_EBDA.addr, type: E820_TYPE_RAM },
    { addr: SEABIOS_EBDA.addr, size: SEABIOS_EBDA.size, type: E820_TYPE_RESERVED },
    { addr: SEABIOS_BIOS.addr, size: SEABIOS_BIOS.size, type: E820_TYPE_RESERVED },
    { addr: SZ_1M, size: top - SEABIOS_HIGH_TABLES - SZ_1M, type: E820_TYPE_RAM },
    { addr: top - SEABIOS_HIGH_TABLES, size: SEABIOS_HIGH_TABLES, type: E820_TYPE_RESERVED },
    ...qemuE820(layout).filter((e) => e.type !== E820_TYPE_RAM),
    { addr: SEABIOS_ROM.addr, size: SEABIOS_ROM.size, type: E820_TYPE_RESERVED },
  ];
  if (layout.aboveFourG > 0) entries.push({ addr: SZ_4G, size: layout.aboveFourG, type: E820_TYPE_RAM });
  return e820UpdateTable(entries) ?? entries;
}
