/**
 * debugfs: a file system for kernel developers' eyes only.
 *
 * sysfs has rules (one value per file, a stable ABI); debugfs has none. A
 * driver that wants to show its internal state — a BTT's arena offsets, an
 * error-injection knob — creates a directory under the debugfs root and a
 * file per variable, handing debugfs a pointer to the variable: every read
 * formats the variable's value at that moment, so the file always shows the
 * live state. Distributions mount debugfs at `/sys/kernel/debug` (an empty
 * mount point that debugfs itself creates in sysfs, `debugfs_init()`); the
 * model keeps its files in the same kernfs tree as sysfs, at that path, so
 * `cat /sys/kernel/debug/...` works as on a machine that mounted it.
 *
 * The integer helpers differ only in their format (fs/debugfs/file.c):
 *
 * ```
 *   debugfs_create_u16/u32/u64   "%llu\n"        decimal
 *   debugfs_create_x32           "0x%08llx\n"    hex, zero-padded to the width
 *   debugfs_create_x64           "0x%016llx\n"
 * ```
 *
 * Read-only files (mode without write bits) get the `_ro` file operations,
 * whose write method is missing: `simple_attr_write()` answers -EACCES.
 * A file with write bits needs a setter: a write is parsed as
 * `simple_attr_write()` does (at most 23 characters, `kstrtoull(buf, 0)`:
 * EINVAL or ERANGE for anything else) and the value, cut to the variable's
 * width as the C assignment cuts it, handed to the setter.
 *
 * A driver's own file (`DEFINE_DEBUGFS_ATTRIBUTE(fops, get, set, fmt)` with
 * `debugfs_create_file()`) is {@link debugfsCreateAttribute}: the same
 * parsing, and the driver's `set()` decides what the value means; a file
 * without `get()` cannot be read (EACCES), one without `set()` not written.
 */
import { KernelError } from './errno.js';
import type { Kernel } from './kernel.js';
import { kstrtoullBig } from './kstrtox.js';

/** Where debugfs is mounted (`/sys/kernel/debug`, the `debugfs_init()` mount point). @public */
export const DEBUGFS_MOUNTPOINT = '/sys/kernel/debug';

/** A variable a debugfs integer file shows: read at every `read()`. @public */
export type DebugfsValue = () => number | bigint;

/** Stores a value written to a debugfs file (already parsed and cut to the variable's width); may throw a KernelError. @public */
export type DebugfsSetter = (value: bigint) => void;

/** `sizeof(simple_attr.set_buf) - 1`: how much of a write `simple_attr_write()` looks at. */
const SET_BUF_CHARS = 23;

/** `simple_attr_write()` (fs/libfs.c, v5.13): the written text as `kstrtoull(buf, 0)` parses it. */
function simpleAttrParse(buf: string): bigint {
  if (typeof buf !== 'string') throw new KernelError('EINVAL', `simple_attr_write: not a string: ${String(buf)}`);
  return kstrtoullBig(buf.slice(0, SET_BUF_CHARS));
}

function hasWriteBits(mode: number): boolean {
  return [0o200, 0o020, 0o002].some((w) => Math.floor(mode / w) % 2 === 1);
}

function checkMode(fn: string, name: string, mode: unknown): asserts mode is number {
  if (typeof mode !== 'number' || !Number.isInteger(mode) || mode < 0 || mode > 0o777) throw new KernelError('EINVAL', `${fn}: ${name}: invalid mode ${String(mode)}`);
}

function checkName(fn: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || name === '' || name.includes('/') || name === '.' || name === '..') {
    throw new KernelError('EINVAL', `${fn}: invalid name ${String(name)}`);
  }
}

function checkKernel(fn: string, kernel: unknown): asserts kernel is Kernel {
  if (typeof kernel !== 'object' || kernel === null || !('sysfs' in kernel) || !('log' in kernel)) {
    throw new KernelError('EINVAL', `${fn}: no kernel`);
  }
}

/** The parent directory's path: the debugfs root when `parent` is undefined; ENOENT when it is not a debugfs directory that exists. */
function parentPath(fn: string, kernel: Kernel, parent: unknown): string {
  if (parent === undefined) return DEBUGFS_MOUNTPOINT;
  if (
    typeof parent !== 'string' ||
    !(parent === DEBUGFS_MOUNTPOINT || parent.startsWith(`${DEBUGFS_MOUNTPOINT}/`)) ||
    parent.split('/').includes('..') ||
    !kernel.sysfs.isDir(parent)
  ) {
    throw new KernelError('ENOENT', `${fn}: no debugfs directory ${String(parent)}`);
  }
  return parent;
}

/** `start_creating()`: EEXIST, with its pr_err, when the name is taken. */
function startCreating(kernel: Kernel, name: string, parent: string): string {
  const path = `${parent}/${name}`;
  if (kernel.sysfs.exists(path)) {
    // the root dentry of the debugfs superblock is named "/"
    const parentName = parent === DEBUGFS_MOUNTPOINT ? '/' : parent.slice(parent.lastIndexOf('/') + 1);
    const msg = kernel.sysfs.isDir(path)
      ? `Directory '${name}' with parent '${parentName}' already present!`
      : `File '${name}' in directory '${parentName}' already present!`;
    kernel.log.err(`debugfs: ${msg}`);
    throw new KernelError('EEXIST', msg);
  }
  return path;
}

/**
 * `debugfs_create_dir()` (fs/debugfs/inode.c): a directory `name` in
 * `parent` (a path this function returned; the debugfs root when omitted),
 * returned as its path (the kernel's dentry). The mount point is created
 * with the first directory. EINVAL for a bad name, ENOENT for a parent that
 * is not a debugfs directory, EEXIST ("Directory '%s' with parent '%s'
 * already present!") when the name is taken.
 * @public
 */
export function debugfsCreateDir(kernel: Kernel, name: string, parent?: string): string {
  const fn = 'debugfs_create_dir';
  checkKernel(fn, kernel);
  checkName(fn, name);
  if (parent === undefined && !kernel.sysfs.exists(DEBUGFS_MOUNTPOINT)) kernel.sysfs.createDir(DEBUGFS_MOUNTPOINT);
  const path = startCreating(kernel, name, parentPath(fn, kernel, parent));
  kernel.sysfs.createDir(path);
  return path;
}

/** The value as an unsigned integer of `bits` bits (the C variable's type), or EINVAL. */
function readValue(fn: string, value: DebugfsValue, bits: number): bigint {
  const v = value();
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
  else throw new KernelError('EINVAL', `${fn}: not an integer: ${String(v)}`);
  return BigInt.asUintN(bits, b);
}

function createInteger(fn: string, kernel: Kernel, name: string, mode: number, parent: string, value: DebugfsValue, bits: number, hex: boolean, set: DebugfsSetter | undefined): void {
  checkKernel(fn, kernel);
  checkName(fn, name);
  checkMode(fn, name, mode);
  if (typeof value !== 'function') throw new KernelError('EINVAL', `${fn}: ${name}: no variable`);
  if (set !== undefined && typeof set !== 'function') throw new KernelError('EINVAL', `${fn}: ${name}: the setter is not a function`);
  if (hasWriteBits(mode) && set === undefined) {
    throw new KernelError('EINVAL', `${fn}: ${name}: a writable file (mode ${mode.toString(8)}) needs a setter`);
  }
  const dir = parentPath(fn, kernel, parent);
  const path = startCreating(kernel, name, dir);
  const digits = bits / 4;
  kernel.sysfs.createFile(path, {
    name,
    mode,
    show: (): string => {
      const v = readValue(fn, value, bits);
      return hex ? `0x${v.toString(16).padStart(digits, '0')}\n` : `${v.toString()}\n`;
    },
    store: (buf: string): void => {
      // the _ro fops have no write method
      if (set === undefined || !hasWriteBits(mode)) throw new KernelError('EACCES', `${name}: Permission denied`);
      set(BigInt.asUintN(bits, simpleAttrParse(buf)));
    },
  });
}

/**
 * `debugfs_create_u16()`: a file showing a 16-bit variable in decimal; with
 * write bits in `mode` it needs `set`, which receives each written value
 * (parsed by `simple_attr_write()`: EINVAL/ERANGE for a bad number, the
 * variable unchanged) cut to 16 bits. EINVAL for a bad name or mode, no
 * getter, or a writable mode without setter; ENOENT for a missing parent,
 * EEXIST for a taken name.
 * @public
 */
export function debugfsCreateU16(kernel: Kernel, name: string, mode: number, parent: string, value: DebugfsValue, set?: DebugfsSetter): void {
  createInteger('debugfs_create_u16', kernel, name, mode, parent, value, 16, false, set);
}

/** `debugfs_create_u32()`: a 32-bit variable in decimal (errors as {@link debugfsCreateU16}). @public */
export function debugfsCreateU32(kernel: Kernel, name: string, mode: number, parent: string, value: DebugfsValue, set?: DebugfsSetter): void {
  createInteger('debugfs_create_u32', kernel, name, mode, parent, value, 32, false, set);
}

/** `debugfs_create_u64()`: a 64-bit variable in decimal (errors as {@link debugfsCreateU16}). @public */
export function debugfsCreateU64(kernel: Kernel, name: string, mode: number, parent: string, value: DebugfsValue, set?: DebugfsSetter): void {
  createInteger('debugfs_create_u64', kernel, name, mode, parent, value, 64, false, set);
}

/** `debugfs_create_x32()`: a 32-bit variable as `0x%08llx` (errors as {@link debugfsCreateU16}). @public */
export function debugfsCreateX32(kernel: Kernel, name: string, mode: number, parent: string, value: DebugfsValue, set?: DebugfsSetter): void {
  createInteger('debugfs_create_x32', kernel, name, mode, parent, value, 32, true, set);
}

/** `debugfs_create_x64()`: a 64-bit variable as `0x%016llx` (errors as {@link debugfsCreateU16}). @public */
export function debugfsCreateX64(kernel: Kernel, name: string, mode: number, parent: string, value: DebugfsValue, set?: DebugfsSetter): void {
  createInteger('debugfs_create_x64', kernel, name, mode, parent, value, 64, true, set);
}

/**
 * `debugfs_create_file(name, mode, parent, data, fops)` with fops from
 * `DEFINE_DEBUGFS_ATTRIBUTE(fops, get, set, fmt)` (include/linux/debugfs.h,
 * fs/libfs.c): a driver's file whose read prints `get()` with `format`
 * (the model's stand-in for the printf format: it receives the value) and
 * whose write hands the number `simple_attr_write()` parsed (`kstrtoull(buf,
 * 0)`, EINVAL/ERANGE otherwise) to `set()`, whose KernelError is the
 * write's result. Without `get` a read is EACCES, without `set` a write.
 * EINVAL for a bad name or mode or neither callback, ENOENT for a missing
 * parent, EEXIST for a taken name.
 * @public
 */
export function debugfsCreateAttribute(
  kernel: Kernel,
  name: string,
  mode: number,
  parent: string,
  ops: { readonly get?: DebugfsValue; readonly set?: DebugfsSetter; readonly format?: (value: bigint) => string },
): void {
  const fn = 'debugfs_create_file';
  checkKernel(fn, kernel);
  checkName(fn, name);
  checkMode(fn, name, mode);
  if (typeof ops !== 'object' || ops === null) throw new KernelError('EINVAL', `${fn}: ${name}: no file operations`);
  const { get, set, format } = ops;
  if (get !== undefined && typeof get !== 'function') throw new KernelError('EINVAL', `${fn}: ${name}: get is not a function`);
  if (set !== undefined && typeof set !== 'function') throw new KernelError('EINVAL', `${fn}: ${name}: set is not a function`);
  if (format !== undefined && typeof format !== 'function') throw new KernelError('EINVAL', `${fn}: ${name}: format is not a function`);
  if (get === undefined && set === undefined) throw new KernelError('EINVAL', `${fn}: ${name}: neither get nor set`);
  const dir = parentPath(fn, kernel, parent);
  const path = startCreating(kernel, name, dir);
  kernel.sysfs.createFile(path, {
    name,
    mode,
    show: (): string => {
      if (get === undefined) throw new KernelError('EACCES', `${name}: Permission denied`);
      const v = readValue(fn, get, 64);
      return format ? format(v) : `${v.toString()}\n`;
    },
    store: (buf: string): void => {
      if (set === undefined) throw new KernelError('EACCES', `${name}: Permission denied`);
      set(simpleAttrParse(buf));
    },
  });
}

/**
 * `debugfs_remove_recursive()` (an alias of `debugfs_remove()` in v5.13): removes
 * a directory or file and everything below it. Like the kernel's, it does
 * nothing for an undefined or already removed entry; EINVAL for a path
 * outside debugfs.
 * @public
 */
export function debugfsRemoveRecursive(kernel: Kernel, path: string | undefined): void {
  const fn = 'debugfs_remove_recursive';
  checkKernel(fn, kernel);
  if (path === undefined) return;
  if (typeof path !== 'string' || !path.startsWith(`${DEBUGFS_MOUNTPOINT}/`) || path.split('/').includes('..')) {
    throw new KernelError('EINVAL', `${fn}: not a debugfs entry: ${String(path)}`);
  }
  if (kernel.sysfs.exists(path)) kernel.sysfs.remove(path);
}
