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
 * whose write method is missing: `simple_attr_write()` answers -EACCES. The
 * model offers only read-only files, which is what the drivers modelled here
 * create.
 */
import { KernelError } from './errno.js';
import type { Kernel } from './kernel.js';

/** Where debugfs is mounted (`/sys/kernel/debug`, the `debugfs_init()` mount point). @public */
export const DEBUGFS_MOUNTPOINT = '/sys/kernel/debug';

/** A variable a debugfs integer file shows: read at every `read()`. @public */
export type DebugfsValue = () => number | bigint;

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

function createInteger(fn: string, kernel: Kernel, name: string, mode: number, parent: string, value: DebugfsValue, bits: number, hex: boolean): void {
  checkKernel(fn, kernel);
  checkName(fn, name);
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) throw new KernelError('EINVAL', `${fn}: invalid mode ${String(mode)}`);
  if ([0o200, 0o020, 0o002].some((w) => Math.floor(mode / w) % 2 === 1)) {
    throw new KernelError('EINVAL', `${fn}: ${name}: only read-only files are modelled (mode ${mode.toString(8)})`);
  }
  if (typeof value !== 'function') throw new KernelError('EINVAL', `${fn}: ${name}: no variable`);
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
  });
}

/**
 * `debugfs_create_u16()`: a file showing a 16-bit variable in decimal.
 * Read-only modes only (EINVAL otherwise); EINVAL for a bad name or no
 * getter, ENOENT for a missing parent, EEXIST for a taken name.
 * @public
 */
export function debugfsCreateU16(kernel: Kernel, name: string, mode: number, parent: string, value: DebugfsValue): void {
  createInteger('debugfs_create_u16', kernel, name, mode, parent, value, 16, false);
}

/** `debugfs_create_u32()`: a 32-bit variable in decimal (errors as {@link debugfsCreateU16}). @public */
export function debugfsCreateU32(kernel: Kernel, name: string, mode: number, parent: string, value: DebugfsValue): void {
  createInteger('debugfs_create_u32', kernel, name, mode, parent, value, 32, false);
}

/** `debugfs_create_u64()`: a 64-bit variable in decimal (errors as {@link debugfsCreateU16}). @public */
export function debugfsCreateU64(kernel: Kernel, name: string, mode: number, parent: string, value: DebugfsValue): void {
  createInteger('debugfs_create_u64', kernel, name, mode, parent, value, 64, false);
}

/** `debugfs_create_x32()`: a 32-bit variable as `0x%08llx` (errors as {@link debugfsCreateU16}). @public */
export function debugfsCreateX32(kernel: Kernel, name: string, mode: number, parent: string, value: DebugfsValue): void {
  createInteger('debugfs_create_x32', kernel, name, mode, parent, value, 32, true);
}

/** `debugfs_create_x64()`: a 64-bit variable as `0x%016llx` (errors as {@link debugfsCreateU16}). @public */
export function debugfsCreateX64(kernel: Kernel, name: string, mode: number, parent: string, value: DebugfsValue): void {
  createInteger('debugfs_create_x64', kernel, name, mode, parent, value, 64, true);
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
