/**
 * The sysfs layer libndctl and libdaxctl share: ndctl's util/sysfs.c
 * (`__sysfs_read_attr()`, `__sysfs_write_attr()`) and util/log.c (`err()`,
 * `dbg()` with the library's prefix). Both libraries drive the kernel only
 * through these reads and writes, so a student can replay every step with
 * `cat` and `echo`.
 */
import { ERRNO, isKernelError } from '@zonedev/kernel';
import type { VirtualFs } from '../shell/vfs.js';

/** A library context (`struct ndctl_ctx`, `struct daxctl_ctx`): the file system and the log. */
export class SysfsLibCtx {
  readonly fs: VirtualFs;
  /** `dbg()` messages are printed (`*_set_log_priority(ctx, LOG_DEBUG)`, `-v`). */
  debug = false;
  private readonly stderr: (text: string) => void;
  /** `libndctl` or `libdaxctl`: the prefix of every log line. */
  private readonly lib: string;

  constructor(fs: VirtualFs, stderr: (text: string) => void, lib: string) {
    this.fs = fs;
    this.stderr = stderr;
    this.lib = lib;
  }

  /** `err(ctx, ...)`: `LIB: FUNCTION: MESSAGE`. */
  err(fn: string, msg: string): void {
    this.stderr(`${this.lib}: ${fn}: ${msg}`);
  }

  /** `dbg(ctx, ...)`, printed only at LOG_DEBUG. */
  dbg(fn: string, msg: string): void {
    if (this.debug) this.stderr(`${this.lib}: ${fn}: ${msg}`);
  }

  /** `sysfs_read_attr()`: the text without its trailing newline, or undefined (the read failed). */
  read(path: string): string | undefined {
    try {
      const t = this.fs.read(path);
      return t.endsWith('\n') ? t.slice(0, -1) : t;
    } catch (e) {
      this.dbg('__sysfs_read_attr', `failed to open ${path}: ${isKernelError(e) ? e.strerror : String(e)}\n`);
      return undefined;
    }
  }

  /** `sysfs_write_attr()` / `sysfs_write_attr_quiet()`: 0, or the negative errno of the open or the write. */
  write(path: string, value: string, quiet = false): number {
    try {
      this.fs.openWrite(path);
    } catch (e) {
      this.dbg('__sysfs_write_attr', `failed to open ${path}: ${isKernelError(e) ? e.strerror : String(e)}\n`);
      return isKernelError(e) ? e.negative : -ERRNO.EIO;
    }
    try {
      this.fs.write(path, value);
      return 0;
    } catch (e) {
      if (!quiet) this.dbg('__sysfs_write_attr', `failed to write ${value} to ${path}: ${isKernelError(e) ? e.strerror : String(e)}\n`);
      return isKernelError(e) ? e.negative : -ERRNO.EIO;
    }
  }

  /** The names in a directory, or [] when it cannot be opened. */
  list(path: string): string[] {
    try {
      return this.fs.list(path);
    } catch {
      return [];
    }
  }
}
