/**
 * The virtual file system the shell walks: `/sys`, `/proc` and nothing else.
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
 *   `/proc`), the way the shell sees one tree.
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

  constructor(sysfs: Sysfs) {
    this.sysfs = sysfs;
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
 * created (ENOENT).
 */
export class ProcFs implements VirtualFs {
  private readonly files: ReadonlyMap<string, ProcProvider>;
  private readonly root: string;

  /** @param files - providers by absolute path, all below `root`. */
  constructor(files: ReadonlyMap<string, ProcProvider>, root: string = '/proc') {
    this.files = new Map([...files].map(([p, f]) => [normalizePath(p), f]));
    this.root = normalizePath(root);
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
    this.mounts = mounts.map((m) => ({ at: normalizePath(m.at), fs: m.fs }));
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
