/**
 * How a machine is asked for: the settings of `zonedev run` / `zonedev
 * shell`, parsed the way QEMU parses its `-m` option.
 *
 * ```
 *   -m 4G                      4 GiB of boot RAM
 *   -m 4096                    the same: a bare number is MiB, as in QEMU
 *   -m 4G,slots=4,maxmem=32G   and room to hot-plug up to 32 GiB in 4 DIMMs
 * ```
 */
import { SZ_1M, SZ_2G } from '@zonedev/kernel';
import type { Platform } from '../profile.js';
import type { MmuMode } from '../profile.js';
import { argString, argUnsigned } from '../args.js';

/**
 * Everything that decides what a booted machine looks like.
 *
 * @public
 */
export interface MachineOptions {
  /** Which profile to boot: `x86_64` (QEMU pc) or `powerpc` (QEMU pseries). */
  readonly platform: Platform;
  /** Boot RAM in bytes. */
  readonly ramSize: number;
  /** DIMM slots for hot-plug (0: none). */
  readonly slots: number;
  /** Boot RAM plus the most that can be hot-plugged, in bytes. */
  readonly maxmem: number;
  /** NUMA nodes (1: no NUMA). */
  readonly numa: number;
  /** The kernel command line (`memmap=4G!12G mem=...`). */
  readonly cmdline: string;
  /** Seed of every random choice. */
  readonly seed: number;
  /** MMU mode (x86_64: `4level`/`5level`; powerpc: `hash`/`radix`); default the platform's first. */
  readonly mmu?: MmuMode;
  /**
   * powerpc only: `pmem-region` nodes for the device tree (compatible
   * "pmem-region", as firmware describes persistent memory to of_pmem), each
   * with its `reg` range and the `volatile` property. They must lie outside
   * RAM and the hot-plug area.
   */
  readonly pmemRegions?: readonly PmemRegionOption[];
}

/**
 * One device-tree `pmem-region` node (drivers/nvdimm/of_pmem.c reads `reg` and `volatile`).
 *
 * @public
 */
export interface PmemRegionOption {
  /** Physical start (the node's unit address). */
  readonly start: number;
  /** Size in bytes. */
  readonly size: number;
  /** The `volatile` property: a volatile region (`nd_volatile`) instead of persistent memory. */
  readonly volatile?: boolean;
}

/**
 * The machine `zonedev run` boots without options: x86_64, 2 GiB, no hot-plug.
 *
 * @public
 */
export const DEFAULT_MACHINE: MachineOptions = Object.freeze({
  platform: 'x86_64',
  ramSize: SZ_2G,
  slots: 0,
  maxmem: SZ_2G,
  numa: 1,
  cmdline: '',
  seed: 1,
});

/**
 * QEMU's size syntax (`qemu_strtosz_MiB()`): a number with an optional
 * suffix B, K, M, G, T, P, E (either case; powers of 1024); a bare number
 * counts `defaultUnit` bytes. Fractions are allowed (`1.5G`). Returns
 * undefined for anything else or a result that is not a whole number of
 * bytes below 2^53.
  *
  * @public
 */
export function parseQemuSize(text: string, defaultUnit: number = SZ_1M): number | undefined {
  argString('parseQemuSize', 'text', text);
  argUnsigned('parseQemuSize', 'defaultUnit', defaultUnit, 1);
  const m = /^([0-9]+(?:\.[0-9]+)?)([bBkKmMgGtTpPeE]?)$/.exec(text);
  if (m === null) return undefined;
  const shifts: Record<string, number> = { b: 0, k: 10, m: 20, g: 30, t: 40, p: 50, e: 60 };
  const unit = m[2] === '' ? defaultUnit : 2 ** shifts[m[2]!.toLowerCase()]!;
  const v = Number(m[1]) * unit;
  if (!Number.isSafeInteger(v)) return undefined;
  return v;
}

/**
 * Parses QEMU's `-m [size=]SIZE[,slots=N][,maxmem=SIZE]`. Returns the
 * values, or a message naming what is wrong; the refusals of QEMU 6.0
 * itself carry its text after the option, as its `error_report()` prints
 * them. Without `maxmem=` the maximum is the RAM size, as QEMU's
 * `maxram_size` is.
 *
 * Mirrors the parsing half of `set_memory_options()` in QEMU 6.0's softmmu/vl.c.
  *
  * @public
 */
export function parseMemoryOption(text: string): { ramSize: number; slots: number; maxmem: number } | { error: string } {
  argString('parseMemoryOption', 'text', text);
  let ramSize: number | undefined;
  let slots = 0;
  let slotsGiven = false;
  let maxmem: number | undefined;
  const parts = text.split(',');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const eq = part.indexOf('=');
    const key = eq < 0 ? (i === 0 ? 'size' : part) : part.slice(0, eq);
    const value = eq < 0 ? part : part.slice(eq + 1);
    if (key === 'size') {
      ramSize = parseQemuSize(value);
      if (ramSize === undefined || ramSize === 0) return { error: `-m ${text}: invalid size '${value}'` };
      // QEMU rounds the RAM size up to 8 KiB (set_memory_options()).
      ramSize = Math.ceil(ramSize / 8192) * 8192;
    } else if (key === 'slots') {
      if (!/^[0-9]+$/.test(value)) return { error: `-m ${text}: invalid slots '${value}'` };
      slots = Number(value);
      slotsGiven = true;
    } else if (key === 'maxmem') {
      maxmem = parseQemuSize(value);
      if (maxmem === undefined) return { error: `-m ${text}: invalid maxmem '${value}'` };
    } else {
      return { error: `-m ${text}: unknown parameter '${key}'` };
    }
  }
  if (ramSize === undefined) return { error: `-m ${text}: missing size` };
  // QEMU 5.2/6.0 refuse `slots=` (even `slots=0`) without `maxmem=`, naming the option.
  if (slotsGiven && maxmem === undefined) return { error: `-m ${text}: invalid -m option value: missing 'maxmem' option` };
  return { ramSize, slots, maxmem: maxmem ?? ramSize };
}
