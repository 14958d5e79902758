/**
 * The virtual file system the shell walks: `/sys`, `/proc`, and `/dev` where
 * the machine has device nodes.
 *
 * A real shell reaches sysfs and procfs through system calls; the demo's
 * shell reaches them through {@link VirtualFs}, a small interface with the
 * five operations its commands need (read a file, write a file, list a
 * directory, test a path) plus the check `open(2)` makes before a write.
 * That last one exists because bash reports the two failures differently:
 *
 * ```
 *   $ echo 1 > /sys/devices/system/memory/nope
 *   bash: /sys/devices/system/memory/nope: Permission denied     <- open() failed
 *   $ echo online > /sys/devices/system/memory/memory9/state
 *   bash: echo: write error: Device or resource busy             <- write() failed
 * ```
 *
 * Errors are `KernelError`s from `@zonedev/kernel`, carrying the errno whose
 * `strerror()` text the commands print.
 *
 * Three implementations live here:
 *
 * - {@link SysfsFs} adapts the kernel's own sysfs (`@zonedev/kernel`'s
 *   `Sysfs`, built by the device core) and adds the open-time checks of
 *   `kernfs_fop_open()`;
 * - {@link ProcFs} serves `/proc` from providers: functions returning the
 *   text of one file, registered by the machine (`/proc/iomem` is
 *   `kernel.iomem.procIomem()`); a write to one fails with EIO, as it does on
 *   a proc file that has no `write` method;
 * - {@link RootFs} mounts file systems at top-level directories (`/sys`,
 *   `/proc`, and the companions they bring, `/dev`), the way the shell sees
 *   one tree;
 * - {@link DevFs} is devtmpfs: device nodes (`/dev/pmem0`, `/dev/zero`)
 *   whose bytes `dd` and `head -c` reach with `pread`/`pwrite` at any offset.
 *
 * {@link MemFs}, an in-memory tree of files with show/store callbacks and
 * sysfs's rules, is the test double: a fake `/sys/devices/system/memory`
 * that lsmem and chmem can be tested against byte for byte.
 *
 * Paths are absolute. Names are listed in byte order, as `LC_ALL=C ls` does.
 */
import { KernelError, type ErrnoName } from '@zonedev/kernel';
import type { Sysfs } from '@zonedev/kernel';

/**
 * What the shell needs from a file system. Every method takes an absolute
 * path and throws a `KernelError` on failure.
 */
export interface VirtualFs {
  /** The whole text of a file. ENOENT, EISDIR, EACCES, EIO, or what the file's show() throws. */
  read(path: string): string;
  /**
   * The checks `open(path, O_WRONLY|O_CREAT|O_TRUNC)` makes, without writing:
   * ENOENT (no such directory), EACCES (not writable; a file that cannot be
   * created), EISDIR. Nothing changes.
   */
  openWrite(path: string): void;
  /** One `write(2)` of `data` (the shell's text, with its newline). EIO, or what the file's store() throws. */
  write(path: string, data: string): void;
  /** The names in a directory, in byte order. ENOENT, ENOTDIR. */
  list(path: string): string[];
  /** Whether the path is a directory (following symlinks). */
  isDir(path: string): boolean;
  /** Whether the path exists (following symlinks). */
  exists(path: string): boolean;
  /**
   * Device nodes only (see {@link DevFs}): `pread(2)` of up to `length`
   * bytes at byte `offset`; fewer at the end of a block device, none past
   * it. A file system without device nodes leaves it out.
   */
  pread?(path: string, offset: number, length: number): Uint8Array;
  /** Device nodes only: `pwrite(2)` of `data` at `offset`; returns the bytes written (ENOSPC at the end of a block device). */
  pwrite?(path: string, offset: number, data: Uint8Array): number;
  /** Device nodes only: the capacity of a block device in bytes, undefined for a character device. */
  deviceSize?(path: string): number | undefined;
  /**
   * File systems the kernel mounts together with this one, each at its own
   * top-level directory: the device core that fills `/sys` also fills
   * devtmpfs at `/dev` (drivers/base/devtmpfs.c), so a sysfs may bring its
   * `/dev` along.
   */
  companionMounts?(): readonly Mount[];
}

/** `new KernelError(errno, 'path: strerror')`: the error a VirtualFs throws. */
export function fsError(errno: ErrnoName, path: string): KernelError {
  const e = new KernelError(errno);
  return new KernelError(errno, `${path}: ${e.strerror}`);
}

/** Byte order of two names (`strcmp`), the order `LC_ALL=C ls` prints. */
export function byteOrder(a: string, b: string): number {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}

/**
 * Normalises an absolute path the way the shell hands it to a file system:
 * repeated slashes collapse, `.` components and a trailing slash go. `..`
 * components are kept (sysfs resolves them after following links, as the
 * kernel's path walk does), except at the root where `/..` is `/`.
 */
export function normalizePath(path: string): string {
  const parts: string[] = [];
  for (const p of path.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..' && parts.length === 0) continue;
    parts.push(p);
  }
  return `/${parts.join('/')}`;
}

/** The path's components (`/sys/devices` -> `['sys', 'devices']`). */
function components(path: string): string[] {
  return normalizePath(path).split('/').filter((p) => p !== '');
}

/** Whether any of the permission bits in `mask` is set in `mode` (no bitwise operators: see eslint). */
function anyMode(mode: number, mask: number): boolean {
  for (let b = 0; b < 9; b++) {
    const v = 2 ** b;
    if (Math.floor(mask / v) % 2 === 1 && Math.floor(mode / v) % 2 === 1) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// sysfs

/**
 * The kernel's sysfs as a {@link VirtualFs}. Reads, writes and listings go
 * to `@zonedev/kernel`'s `Sysfs`; {@link SysfsFs.openWrite} adds what
 * `kernfs_fop_open()` checks before a write reaches a store(): a missing
 * file cannot be created (EACCES; ENOENT if its directory is missing too), a
 * directory cannot be written (EISDIR), a file whose mode has no write bit
 * cannot be opened for writing, even by root (EACCES).
 */
export class SysfsFs implements VirtualFs {
  readonly sysfs: Sysfs;

  /** The devtmpfs mounted at `/dev` next to this sysfs, if the machine has one. */
  readonly devtmpfs: DevFs | undefined;

  constructor(sysfs: Sysfs, devtmpfs?: DevFs) {
    this.sysfs = sysfs;
    this.devtmpfs = devtmpfs;
  }

  companionMounts(): readonly Mount[] {
    return this.devtmpfs === undefined ? [] : [{ at: '/dev', fs: this.devtmpfs }];
  }

  read(path: string): string {
    return this.sysfs.read(path);
  }

  openWrite(path: string): void {
    if (!this.sysfs.exists(path)) {
      const slash = path.lastIndexOf('/');
      const dir = slash > 0 ? path.slice(0, slash) : '/sys';
      throw fsError(this.sysfs.isDir(dir) ? 'EACCES' : 'ENOENT', path);
    }
    if (this.sysfs.isDir(path)) throw fsError('EISDIR', path);
    const mode = this.sysfs.stat(this.sysfs.realpath(path)).mode;
    if (!anyMode(mode, 0o222)) throw fsError('EACCES', path);
  }

  write(path: string, data: string): void {
    this.sysfs.write(path, data);
  }

  list(path: string): string[] {
    return this.sysfs.list(path);
  }

  isDir(path: string): boolean {
    return this.sysfs.isDir(path);
  }

  exists(path: string): boolean {
    return this.sysfs.exists(path);
  }
}

// ---------------------------------------------------------------------------
// procfs

/** The text of one /proc file, computed when it is read. */
export type ProcProvider = () => string;

/**
 * `/proc` served from providers. Directories are implied by the providers'
 * paths (`/proc/sys/vm/x` makes `/proc/sys` and `/proc/sys/vm`). A write to
 * a file fails with EIO (a proc file with no write method); a file cannot be
 * created (ENOENT). The providers are looked at on every access, so a map
 * whose entries change (`/proc/PID/...` of processes that come and go) is
 * seen as it is now.
 */
export class ProcFs implements VirtualFs {
  private readonly source: ReadonlyMap<string, ProcProvider>;
  private readonly root: string;

  /** @param files - providers by absolute path, all below `root`. */
  constructor(files: ReadonlyMap<string, ProcProvider>, root: string = '/proc') {
    this.source = files;
    this.root = normalizePath(root);
  }

  private get files(): ReadonlyMap<string, ProcProvider> {
    return new Map([...this.source].map(([p, f]) => [normalizePath(p), f]));
  }

  private isDirPath(path: string): boolean {
    const p = normalizePath(path);
    if (p === this.root) return true;
    for (const f of this.files.keys()) if (f.startsWith(`${p}/`)) return true;
    return false;
  }

  read(path: string): string {
    const p = normalizePath(path);
    const f = this.files.get(p);
    if (f !== undefined) return f();
    if (this.isDirPath(p)) throw fsError('EISDIR', path);
    throw fsError('ENOENT', path);
  }

  openWrite(path: string): void {
    const p = normalizePath(path);
    if (this.files.has(p)) return;
    if (this.isDirPath(p)) throw fsError('EISDIR', path);
    throw fsError('ENOENT', path);
  }

  write(path: string, _data: string): void {
    this.openWrite(path);
    throw fsError('EIO', path);
  }

  list(path: string): string[] {
    const p = normalizePath(path);
    if (this.files.has(p)) throw fsError('ENOTDIR', path);
    if (!this.isDirPath(p)) throw fsError('ENOENT', path);
    const names = new Set<string>();
    for (const f of this.files.keys()) {
      if (f.startsWith(`${p}/`)) names.add(f.slice(p.length + 1).split('/')[0]!);
    }
    return [...names].sort(byteOrder);
  }

  isDir(path: string): boolean {
    return this.isDirPath(path) && !this.files.has(normalizePath(path));
  }

  exists(path: string): boolean {
    const p = normalizePath(path);
    return this.files.has(p) || this.isDirPath(p);
  }
}

// ---------------------------------------------------------------------------
// the root: a mount table

/** One file system mounted at a top-level directory (`/sys`, `/proc`). */
export interface Mount {
  /** The mount point, e.g. `/sys`. */
  readonly at: string;
  /** Served with full paths (a path under `/sys` keeps its `/sys` prefix). */
  readonly fs: VirtualFs;
}

/**
 * The single tree the shell sees: `/` holds the mount points, and each path
 * below a mount point goes to that file system. `/` itself is read-only.
 */
export class RootFs implements VirtualFs {
  private readonly mounts: readonly Mount[];

  constructor(mounts: readonly Mount[]) {
    const all: Mount[] = [];
    for (const m of mounts) {
      all.push(m);
      for (const c of m.fs.companionMounts?.() ?? []) if (!mounts.some((o) => normalizePath(o.at) === normalizePath(c.at))) all.push(c);
    }
    this.mounts = all.map((m) => ({ at: normalizePath(m.at), fs: m.fs }));
  }

  /** The device-node file system a path leads to, or ENOENT/EINVAL as `open()` + `pread()` would fail. */
  private device(path: string): { fs: VirtualFs; path: string } {
    const r = this.route(path);
    if (r === undefined) throw fsError(this.isRoot(path) ? 'EISDIR' : 'ENOENT', path);
    return r;
  }

  pread(path: string, offset: number, length: number): Uint8Array {
    const r = this.device(path);
    if (r.fs.pread === undefined) return textPread(r.fs, r.path, offset, length);
    return r.fs.pread(r.path, offset, length);
  }

  pwrite(path: string, offset: number, data: Uint8Array): number {
    const r = this.device(path);
    if (r.fs.pwrite === undefined) {
      // A sysfs or proc file takes one write of text at offset 0.
      if (offset !== 0) throw fsError('EINVAL', path);
      r.fs.write(r.path, new TextDecoder().decode(data));
      return data.length;
    }
    return r.fs.pwrite(r.path, offset, data);
  }

  deviceSize(path: string): number | undefined {
    const r = this.device(path);
    return r.fs.deviceSize?.(r.path);
  }

  /**
   * The mount and path a name leads to, after the checks of the kernel's
   * path walk (`link_path_walk()` in fs/namei.c): an empty name is ENOENT;
   * a component after a regular file — `file/`, `file/.`, `file/x` — is
   * ENOTDIR; `..` of a mount point is `/`.
   */
  private route(path: string): { fs: VirtualFs; path: string } | undefined {
    const p = this.canonical(path);
    for (const m of this.mounts) {
      if (p === m.at || p.startsWith(`${m.at}/`)) return { fs: m.fs, path: p };
    }
    return undefined;
  }

  /** The path with `..` of a top-level directory resolved (`/sys/..` is `/`); throws the walk's errors. */
  private canonical(path: string): string {
    if (path === '') throw fsError('ENOENT', path);
    const raw = path.split('/');
    // Every component but the last must be a directory (a trailing slash adds an empty last one).
    let prefix = '';
    for (let i = 0; i < raw.length - 1; i++) {
      const c = raw[i]!;
      if (c !== '') prefix = this.lexical(`${prefix}/${c}`);
      if (prefix === '' || prefix === '/') continue;
      const r = this.mountOf(prefix);
      if (r === undefined) {
        // Below `/` only the mount points exist.
        throw fsError('ENOENT', path);
      }
      if (r.exists(prefix) && !r.isDir(prefix)) throw fsError('ENOTDIR', path);
    }
    return this.lexical(path);
  }

  /** normalizePath(), and `..` directly below `/` goes to `/` (the mount points are real directories of `/`). */
  private lexical(path: string): string {
    const parts = normalizePath(path).split('/').filter((c) => c !== '');
    for (;;) {
      if (parts[0] === '..') parts.shift();
      else if (parts.length >= 2 && parts[1] === '..') parts.splice(0, 2);
      else break;
    }
    return `/${parts.join('/')}`;
  }

  private mountOf(p: string): VirtualFs | undefined {
    for (const m of this.mounts) if (p === m.at || p.startsWith(`${m.at}/`)) return m.fs;
    return undefined;
  }

  private isRoot(path: string): boolean {
    return this.canonical(path) === '/';
  }

  read(path: string): string {
    const r = this.route(path);
    if (r !== undefined) return r.fs.read(r.path);
    throw fsError(this.isRoot(path) ? 'EISDIR' : 'ENOENT', path);
  }

  openWrite(path: string): void {
    const r = this.route(path);
    if (r !== undefined) {
      // open(O_CREAT) of a new name with a trailing slash is EISDIR (open_last_lookups() in fs/namei.c).
      if (/\/\.?$/.test(path) && !r.fs.exists(r.path)) throw fsError('EISDIR', path);
      return r.fs.openWrite(r.path);
    }
    // The root of the demo is not writable: nothing can be created there.
    throw fsError(this.isRoot(path) ? 'EISDIR' : 'EACCES', path);
  }

  write(path: string, data: string): void {
    const r = this.route(path);
    if (r !== undefined) return r.fs.write(r.path, data);
    throw fsError(this.isRoot(path) ? 'EISDIR' : 'EACCES', path);
  }

  list(path: string): string[] {
    if (this.isRoot(path)) return this.mounts.map((m) => m.at.slice(1)).sort(byteOrder);
    const r = this.route(path);
    if (r !== undefined) return r.fs.list(r.path);
    throw fsError('ENOENT', path);
  }

  isDir(path: string): boolean {
    try {
      if (this.isRoot(path)) return true;
      const r = this.route(path);
      return r !== undefined && r.fs.isDir(r.path);
    } catch {
      return false;
    }
  }

  exists(path: string): boolean {
    try {
      if (this.isRoot(path)) return true;
      const r = this.route(path);
      return r !== undefined && r.fs.exists(r.path);
    } catch {
      return false;
    }
  }
}

// ---------------------------------------------------------------------------
// an in-memory tree

/** A file of a {@link MemFs}: its mode and its show/store callbacks. */
export interface MemFile {
  /** Permission bits (default 0o444 with only show, 0o644 with store, 0o200 with only store). */
  readonly mode?: number;
  show?(): string;
  store?(data: string): void;
}

type MemNode =
  | { kind: 'dir'; children: Map<string, MemNode> }
  | { kind: 'file'; file: MemFile; mode: number }
  | { kind: 'link'; target: string };

/**
 * An in-memory file system with sysfs semantics (files cannot be created by
 * writing; modes are enforced even for root; symlinks hold absolute targets).
 * The test double of `/sys`.
 */
export class MemFs implements VirtualFs {
  private readonly rootNode: MemNode = { kind: 'dir', children: new Map() };

  /** `mkdir -p path`. */
  mkdir(path: string): void {
    let node = this.rootNode;
    for (const part of components(path)) {
      if (node.kind !== 'dir') throw fsError('ENOTDIR', path);
      let next = node.children.get(part);
      if (next === undefined) {
        next = { kind: 'dir', children: new Map() };
        node.children.set(part, next);
      }
      node = next;
    }
    if (node.kind !== 'dir') throw fsError('EEXIST', path);
  }

  /** Adds (or replaces) a file, creating its directory. A string is a constant read-only file. */
  addFile(path: string, file: MemFile | string): void {
    const parts = components(path);
    const name = parts.pop();
    if (name === undefined) throw fsError('EISDIR', path);
    const dir = `/${parts.join('/')}`;
    this.mkdir(dir);
    const f: MemFile = typeof file === 'string' ? { show: (): string => file } : file;
    const mode = f.mode ?? (f.store === undefined ? 0o444 : f.show === undefined ? 0o200 : 0o644);
    const d = this.lookup(dir, true);
    if (d?.kind !== 'dir') throw fsError('ENOTDIR', path);
    d.children.set(name, { kind: 'file', file: f, mode });
  }

  /** Adds a symlink at `path` to the absolute path `target`. */
  addLink(path: string, target: string): void {
    const parts = components(path);
    const name = parts.pop();
    if (name === undefined) throw fsError('EEXIST', path);
    const dir = `/${parts.join('/')}`;
    this.mkdir(dir);
    const d = this.lookup(dir, true);
    if (d?.kind !== 'dir') throw fsError('ENOTDIR', path);
    d.children.set(name, { kind: 'link', target: normalizePath(target) });
  }

  /** Removes a file, link or directory tree. */
  remove(path: string): void {
    const parts = components(path);
    const name = parts.pop();
    const d = this.lookup(`/${parts.join('/')}`, true);
    if (name === undefined || d?.kind !== 'dir' || !d.children.delete(name)) throw fsError('ENOENT', path);
  }

  /** The node at a canonical path (no links in it). */
  private at(parts: readonly string[]): MemNode | undefined {
    let node: MemNode | undefined = this.rootNode;
    for (const part of parts) {
      if (node?.kind !== 'dir') return undefined;
      node = node.children.get(part);
    }
    return node;
  }

  /**
   * Resolves a path to its canonical components, following symlinks (the
   * last one only if `followLast`); `..` after a link leads to the parent of
   * the link's target, as in the kernel's path walk.
   */
  private resolve(path: string, followLast: boolean, depth: number = 0): string[] | undefined {
    if (depth > 40) return undefined;
    const parts = components(path);
    const stack: string[] = [];
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (part === '..') {
        stack.pop();
        continue;
      }
      const dir = this.at(stack);
      if (dir?.kind !== 'dir') return undefined;
      const child = dir.children.get(part);
      if (child === undefined) return undefined;
      if (child.kind === 'link' && (i < parts.length - 1 || followLast)) {
        const t = this.resolve(child.target, true, depth + 1);
        if (t === undefined) return undefined;
        stack.length = 0;
        stack.push(...t);
      } else {
        stack.push(part);
      }
    }
    return stack;
  }

  private lookup(path: string, followLast: boolean): MemNode | undefined {
    const parts = this.resolve(path, followLast);
    return parts === undefined ? undefined : this.at(parts);
  }

  read(path: string): string {
    const n = this.lookup(path, true);
    if (n === undefined) throw fsError('ENOENT', path);
    if (n.kind === 'dir') throw fsError('EISDIR', path);
    if (n.kind !== 'file') throw fsError('ENOENT', path);
    if (!anyMode(n.mode, 0o444)) throw fsError('EACCES', path);
    if (n.file.show === undefined) throw fsError('EIO', path);
    return n.file.show();
  }

  openWrite(path: string): void {
    const n = this.lookup(path, true);
    if (n === undefined) {
      const parts = components(path);
      parts.pop();
      throw fsError(this.isDir(`/${parts.join('/')}`) ? 'EACCES' : 'ENOENT', path);
    }
    if (n.kind === 'dir') throw fsError('EISDIR', path);
    if (n.kind === 'file' && !anyMode(n.mode, 0o222)) throw fsError('EACCES', path);
  }

  write(path: string, data: string): void {
    this.openWrite(path);
    const n = this.lookup(path, true);
    if (n?.kind !== 'file' || n.file.store === undefined) throw fsError('EIO', path);
    n.file.store(data);
  }

  list(path: string): string[] {
    const n = this.lookup(path, true);
    if (n === undefined) throw fsError('ENOENT', path);
    if (n.kind !== 'dir') throw fsError('ENOTDIR', path);
    return [...n.children.keys()].sort(byteOrder);
  }

  isDir(path: string): boolean {
    return this.lookup(path, true)?.kind === 'dir';
  }

  exists(path: string): boolean {
    return this.lookup(path, true) !== undefined;
  }
}

// ---------------------------------------------------------------------------
// devtmpfs: /dev

/** `pread()` of a text file (sysfs, /proc): its whole text as UTF-8, sliced. */
export function textPread(fs: VirtualFs, path: string, offset: number, length: number): Uint8Array {
  const bytes = new TextEncoder().encode(fs.read(path));
  return bytes.slice(Math.min(offset, bytes.length), Math.min(offset + length, bytes.length));
}

/**
 * A device node's data, as a driver serves it through its file operations:
 * a block device (`/dev/pmem0`, a gendisk of `size()` bytes) or a character
 * device (`/dev/zero`, a stream without a size).
 */
export interface DeviceNode {
  readonly kind: 'block' | 'char';
  /** The capacity in bytes (block devices), undefined for a character device. */
  size(): number | undefined;
  /** Up to `length` bytes at `offset` (a block device returns fewer at its end). */
  read(offset: number, length: number): Uint8Array;
  /** Writes `data` at `offset`; returns how many bytes were taken. */
  write(offset: number, data: Uint8Array): number;
}

/** `/dev/null`: reads end at once, writes vanish (drivers/char/mem.c `null_fops`). */
export const DEV_NULL: DeviceNode = {
  kind: 'char',
  size: () => undefined,
  read: () => new Uint8Array(0),
  write: (_offset, data) => data.length,
};

/** `/dev/zero`: reads are zeros, writes vanish (drivers/char/mem.c `zero_fops`). */
export const DEV_ZERO: DeviceNode = {
  kind: 'char',
  size: () => undefined,
  read: (_offset, length) => new Uint8Array(length),
  write: (_offset, data) => data.length,
};

/** The byte limit of {@link DevFs.read}: the shell's `cat` holds a whole file in one string. */
export const DEVFS_TEXT_READ_MAX = 1024 * 1024;

/**
 * `/dev` as devtmpfs shows it: one node per device the drivers registered,
 * looked up when a path is opened (a node appears when its driver creates
 * the disk and goes when it deletes it, as `devtmpfs_create_node()` and
 * `devtmpfs_delete_node()` do). `nodes()` is asked on every lookup.
 *
 * The shell's text interface maps onto the node's bytes: `echo TEXT >
 * /dev/pmem0` is one `write()` of the UTF-8 text at offset 0 (a block
 * device is not truncated by `O_TRUNC`), and `cat` reads the whole device —
 * refused with EFBIG above {@link DEVFS_TEXT_READ_MAX} bytes, since the
 * shell has no streaming; `dd` and `head -c` read any range with `pread`.
 */
export class DevFs implements VirtualFs {
  private readonly nodes: () => ReadonlyMap<string, DeviceNode>;

  /** @param nodes - the nodes by name (`pmem0`, `zero`), asked on every lookup. */
  constructor(nodes: () => ReadonlyMap<string, DeviceNode>) {
    this.nodes = nodes;
  }

  private name(path: string): string | undefined {
    const parts = components(path);
    if (parts[0] !== 'dev') return undefined;
    return parts.length === 1 ? '' : parts.length === 2 ? parts[1] : undefined;
  }

  private node(path: string): DeviceNode {
    const n = this.name(path);
    if (n === '') throw fsError('EISDIR', path);
    const node = n === undefined ? undefined : this.nodes().get(n);
    if (node === undefined) throw fsError('ENOENT', path);
    return node;
  }

  read(path: string): string {
    const node = this.node(path);
    const size = node.size();
    if (size === undefined) return '';
    if (size > DEVFS_TEXT_READ_MAX) throw fsError('EFBIG', path);
    return new TextDecoder().decode(node.read(0, size));
  }

  openWrite(path: string): void {
    const n = this.name(path);
    if (n === '') throw fsError('EISDIR', path);
    if (n === undefined || !this.nodes().has(n)) throw fsError(n === undefined ? 'ENOENT' : 'EACCES', path);
  }

  write(path: string, data: string): void {
    this.pwrite(path, 0, new TextEncoder().encode(data));
  }

  list(path: string): string[] {
    const n = this.name(path);
    if (n === '') return [...this.nodes().keys()].sort(byteOrder);
    if (n !== undefined && this.nodes().has(n)) throw fsError('ENOTDIR', path);
    throw fsError('ENOENT', path);
  }

  isDir(path: string): boolean {
    return this.name(path) === '';
  }

  exists(path: string): boolean {
    const n = this.name(path);
    return n === '' || (n !== undefined && this.nodes().has(n));
  }

  pread(path: string, offset: number, length: number): Uint8Array {
    const node = this.node(path);
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) throw fsError('EINVAL', path);
    const size = node.size();
    if (size === undefined) return node.read(offset, length);
    if (offset >= size) return new Uint8Array(0);
    return node.read(offset, Math.min(length, size - offset));
  }

  pwrite(path: string, offset: number, data: Uint8Array): number {
    const node = this.node(path);
    if (!Number.isSafeInteger(offset) || offset < 0) throw fsError('EINVAL', path);
    const size = node.size();
    if (size === undefined) return node.write(offset, data);
    // blkdev_write_iter(): nothing past the end; a write across it is cut short.
    if (data.length > 0 && offset >= size) throw fsError('ENOSPC', path);
    return node.write(offset, data.subarray(0, Math.min(data.length, size - offset)));
  }

  deviceSize(path: string): number | undefined {
    return this.node(path).size();
  }
}
