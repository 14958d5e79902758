/**
 * Small helpers the machine code shares: the kernel's number formats
 * (printk's `%#010llx` and friends) and the error a boot that cannot go on
 * throws.
 */

/**
 * A boot that failed the way the kernel would stop: a panic (`Kernel panic -
 * not syncing: ...`, the message of `panic()` in kernel/panic.c), also the
 * last line of the machine's dmesg.
 *
 * @public
 */
export class BootError extends Error {
  /** A panic with `message` (`Kernel panic - not syncing: ...`). */
  constructor(message: string) {
    super(message);
    this.name = 'BootError';
  }
}

/** `%#010llx`: `0x` and at least 8 hex digits. */
export function hex10(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** `%#018llx`: `0x` and at least 16 hex digits. */
export function hex18(n: number): string {
  return `0x${n.toString(16).padStart(16, '0')}`;
}

/** `%#lx`: `0x` and the hex digits (`0` for zero, as printf's `#` flag does). */
export function hex(n: number): string {
  return n === 0 ? '0' : `0x${n.toString(16)}`;
}

/** `%llx`. */
export function hexRaw(n: number): string {
  return n.toString(16);
}

/** The sizes of a kernel image's sections, in bytes, as `mem_init_print_info()` prints them. */
export interface KernelSizes {
  /** Kernel code (`_text` to `_etext`). */
  readonly code: number;
  /** Read-only data. */
  readonly rodata: number;
  /** Initialised read-write data. */
  readonly rwdata: number;
  /** Init sections (freed after boot). */
  readonly init: number;
  /** Zero-initialised data. */
  readonly bss: number;
}
