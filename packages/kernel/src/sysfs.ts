/**
 * sysfs: the kernel's objects as a tree of directories, files and links.
 *
 * Every registered device is a directory under `/sys/devices`, placed below
 * its parent's directory; each of its attributes is a small text file whose
 * read calls the attribute's `show()` and whose write calls its `store()`.
 * Buses and drivers get directories under `/sys/bus`, and symbolic links tie
 * the views together (`/sys/bus/memory/devices/memory32` points at
 * `../../../devices/system/memory/memory32`). sysfs is built on kernfs
 * (fs/kernfs/), which is what this file models: a tree of nodes, each a
 * directory, an attribute file or a symlink to another node.
 *
 * What a user sees follows the kernel, not a generic file system:
 *
 * - opening an attribute for writing whose mode has no write bit fails with
 *   EACCES ("Permission denied"), even for root, and likewise for reading one
 *   with no read bit (`kernfs_fop_open()`); an allowed operation whose
 *   callback is missing fails with EIO (`dev_attr_show()`/`dev_attr_store()`);
 * - an error thrown by `show()`/`store()` is what read/write report (the
 *   shell prints `write error: Device or resource busy`);
 * - files cannot be created by writing: a write to a missing file in an
 *   existing directory fails with EACCES, a missing directory with ENOENT;
 * - `..` after following a symlink leads to the parent of the link's target,
 *   as in the kernel's path walk;
 * - `list()` sorts names by byte value, as `LC_ALL=C ls` does.
 *
 * Every device has a `power/` directory with the runtime-PM files of a
 * device whose runtime PM is disabled (see power.ts).
 */
import { KernelError } from './errno.js';

/**
 * A plain attribute file (`struct attribute` with its show/store): used for
 * files that belong to no device, such as
 * `/sys/module/memory_hotplug/parameters/memmap_on_memory`. `show()` returns
 * the file's whole text (usually ending in a newline); `store()` receives
 * the written text as is (with the shell's trailing newline: compare with
 * {@link sysfsStreq}). Either may throw a KernelError.
 * @public
 */
export interface Attribute {
  readonly name: string;
  /** Permission bits, e.g. `0o644`, `0o444`, `0o200`. */
  readonly mode: number;
  show?(): string;
  store?(value: string): void;
}

/**
 * What {@link Sysfs.stat} reports about a path.
 * @public
 */
export interface SysfsStat {
  readonly type: 'dir' | 'file' | 'link';
  /** Permission bits (0o755 for directories, 0o777 for links). */
  readonly mode: number;
}

/**
 * Compares a written value with an expected string, ignoring one trailing
 * newline on either side. Mirrors `sysfs_streq()` in lib/string.c.
 * @public
 */
export function sysfsStreq(a: string, b: string): boolean {
  const strip = (s: string): string => (s.endsWith('\n') ? s.slice(0, -1) : s);
  return strip(a) === strip(b);
}

// ---------------------------------------------------------------------------
// kernfs nodes (package-internal)

/**
 * @internal Entries of a directory that are made only when something looks
 * inside it: the attribute files, `power/` and `subsystem` link that
 * `device_add()` gives every device. The kernel creates a kernfs node per
 * file at once; the model creates them the first time the directory is
 * listed or one of these names is looked up, which answers every `ls`,
 * `cat` and `readlink` the same while a directory nobody opens (one of a
 * million memory blocks) costs two references. One record is shared by every
 * directory made from the same attribute groups.
 */
export interface KernfsLazyFill {
  /** The names `fill` creates. */
  readonly names: ReadonlySet<string>;
  /** Adds the entries to `dir`; `arg` is what {@link KernfsDir.setLazy} was given (the device). */
  fill(dir: KernfsDir, arg: unknown): void;
}

/**
 * An entry as a directory stores it: a node, or — for a symlink named like
 * the directory it points at (`memory32 -> .../memory32`, `node0 ->
 * .../node0`), by far the most common kind — that directory itself, which
 * the directory turns into a {@link KernfsLink} whenever it hands the entry
 * out. A stored directory is a link exactly when it is not a child of the
 * directory storing it.
 */
type KernfsEntry = KernfsNode;

/** @internal A kernfs directory. */
export class KernfsDir {
  readonly kind = 'dir';
  name: string;
  parent: KernfsDir | undefined;
  /** The only entry made so far, while there is at most one (most device directories hold just a node link). */
  private one: KernfsEntry | undefined = undefined;
  /** The entries made so far, once there are two or more. */
  private own: Map<string, KernfsEntry> | undefined = undefined;
  /** Entries not made yet, and the argument that makes them. */
  private lazy: KernfsLazyFill | undefined = undefined;
  private lazyArg: unknown = undefined;
  constructor(name: string, parent: KernfsDir | undefined) {
    this.name = name;
    this.parent = parent;
  }

  /** The stored entry `name` (makes nothing, wraps nothing). */
  private raw(name: string): KernfsEntry | undefined {
    const own = this.own;
    if (own !== undefined) return own.get(name);
    return this.one?.name === name ? this.one : undefined;
  }

  /** A stored entry as a node: a stored directory that is not a child is a link to it. */
  private node(e: KernfsEntry): KernfsNode {
    return e.kind === 'dir' && e.parent !== this ? new KernfsLink(e.name, this, e) : e;
  }

  /** Whether `name` is an entry, made or pending (makes nothing). */
  has(name: string): boolean {
    return this.raw(name) !== undefined || this.lazy?.names.has(name) === true;
  }

  /** The entry `name`, making the pending entries if it is one of them. */
  get(name: string): KernfsNode | undefined {
    let e = this.raw(name);
    if (e === undefined && this.lazy?.names.has(name) === true) {
      this.materialize();
      e = this.raw(name);
    }
    return e === undefined ? undefined : this.node(e);
  }

  /** The entry `name` if it has been made (makes nothing). */
  made(name: string): KernfsNode | undefined {
    const e = this.raw(name);
    return e === undefined ? undefined : this.node(e);
  }

  /** Whether `node` is this directory's made entry of its name (for a link: one to the same target). */
  holds(node: KernfsNode): boolean {
    const e = this.raw(node.name);
    if (e === node) return true;
    return node.kind === 'link' && e !== undefined && e === node.target && e.kind === 'dir' && e.parent !== this;
  }

  /** The names of every entry, making the pending ones first (in no particular order). */
  names(): string[] {
    this.materialize();
    if (this.own !== undefined) return [...this.own.keys()];
    return this.one === undefined ? [] : [this.one.name];
  }

  /** Records entries to be made on first use; the names must be free. */
  setLazy(fill: KernfsLazyFill, arg: unknown): void {
    this.materialize();
    this.lazy = fill;
    this.lazyArg = arg;
  }

  /** Makes the pending entries now. */
  materialize(): void {
    const l = this.lazy;
    if (l === undefined) return;
    const arg = this.lazyArg;
    this.lazy = undefined;
    this.lazyArg = undefined;
    l.fill(this, arg);
  }

  /** Adds a made entry (the caller has checked the name with {@link KernfsDir.has}). */
  addMade(node: KernfsNode): void {
    // A link named like the directory it points at is stored as that directory.
    const e: KernfsEntry = node.kind === 'link' && node.target.kind === 'dir' && node.target.name === node.name ? node.target : node;
    if (this.own !== undefined) this.own.set(e.name, e);
    else if (this.one === undefined) this.one = e;
    else {
      this.own = new Map([[this.one.name, this.one], [e.name, e]]);
      this.one = undefined;
    }
  }

  /** Forgets a made entry. */
  deleteMade(name: string): void {
    if (this.own !== undefined) this.own.delete(name);
    else if (this.one?.name === name) this.one = undefined;
  }
}

/** @internal The operations of an attribute file. */
export interface KernfsFileOps {
  readonly show?: (() => string) | undefined;
  readonly store?: ((value: string) => void) | undefined;
}

/** @internal A kernfs attribute file. */
export class KernfsFile {
  readonly kind = 'file';
  name: string;
  parent: KernfsDir | undefined;
  readonly mode: number;
  readonly ops: KernfsFileOps;
  /** The attribute object the file was created from (for removal by identity). */
  readonly key: unknown;
  constructor(name: string, parent: KernfsDir, mode: number, ops: KernfsFileOps, key: unknown) {
    this.name = name;
    this.parent = parent;
    this.mode = mode;
    this.ops = ops;
    this.key = key;
  }
}

/** @internal A kernfs symlink. */
export class KernfsLink {
  readonly kind = 'link';
  name: string;
  parent: KernfsDir | undefined;
  readonly target: KernfsNode;
  constructor(name: string, parent: KernfsDir, target: KernfsNode) {
    this.name = name;
    this.parent = parent;
    this.target = target;
  }
}

/** @internal */
export type KernfsNode = KernfsDir | KernfsFile | KernfsLink;

/** @internal Whether `node` is still attached below `root`. */
export function kernfsAttached(node: KernfsNode, root: KernfsDir): boolean {
  let n: KernfsNode | undefined = node;
  while (n !== undefined) {
    if (n === root) return true;
    n = n.parent;
  }
  return false;
}

/** @internal The path of `node` relative to the sysfs root, e.g. `/devices/system`. */
export function kernfsPath(node: KernfsNode): string {
  const parts: string[] = [];
  for (let n: KernfsNode | undefined = node; n?.parent !== undefined; n = n.parent) parts.push(n.name);
  return `/${parts.reverse().join('/')}`;
}

/** @internal Adds a child; the caller has checked the name is free. */
export function kernfsAdd<N extends KernfsNode>(dir: KernfsDir, node: N): N {
  if (dir.has(node.name)) throw new KernelError('EEXIST', `sysfs: cannot create duplicate filename '${kernfsPath(dir)}/${node.name}'`);
  dir.addMade(node);
  return node;
}

/** @internal Adds a child whose name the caller has just checked with {@link KernfsDir.has}. */
export function kernfsAddChecked<N extends KernfsNode>(dir: KernfsDir, node: N): N {
  dir.addMade(node);
  return node;
}

/** @internal Removes a node (and its subtree) from its parent. */
export function kernfsRemove(node: KernfsNode): void {
  const p = node.parent;
  if (p !== undefined && p.holds(node)) p.deleteMade(node.name);
  node.parent = undefined;
}

const ROOTS: WeakMap<Sysfs, KernfsDir> = new WeakMap();

/** @internal The root directory node (`/sys`) of a sysfs. */
export function sysfsRoot(s: Sysfs): KernfsDir {
  return ROOTS.get(s)!;
}

/** @internal `mkdir -p` below `dir` for the given components. */
export function kernfsMkdirP(dir: KernfsDir, parts: readonly string[]): KernfsDir {
  let d = dir;
  for (const part of parts) {
    const c = d.get(part);
    if (c === undefined) {
      d = kernfsAdd(d, new KernfsDir(part, d));
    } else if (c.kind === 'dir') {
      d = c;
    } else {
      throw new KernelError('EEXIST', `sysfs: '${kernfsPath(c)}' exists and is not a directory`);
    }
  }
  return d;
}

/** @internal The relative path from directory `from` to `to`, as kernfs builds link targets. */
export function kernfsRelative(from: KernfsDir, to: KernfsNode): string {
  const chain = (n: KernfsNode): KernfsNode[] => {
    const out: KernfsNode[] = [];
    for (let x: KernfsNode | undefined = n; x !== undefined; x = x.parent) out.push(x);
    return out.reverse();
  };
  const a = chain(from);
  const b = chain(to);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const up = a.length - i;
  const down = b.slice(i).map((n) => n.name);
  return [...Array<string>(up).fill('..'), ...down].join('/');
}

function splitPath(path: string): string[] | undefined {
  if (!path.startsWith('/sys')) return undefined;
  const rest = path.slice(4);
  if (rest !== '' && !rest.startsWith('/')) return undefined;
  return rest.split('/').filter((p) => p !== '' && p !== '.');
}

const MAX_LINK_DEPTH = 40;

/**
 * One machine's `/sys`. Paths are absolute and start with `/sys`. Built and
 * kept up to date by the device core ({@link DeviceCore}); other code may add
 * plain attribute files, directories and links with
 * {@link Sysfs.createFile}, {@link Sysfs.createDir} and
 * {@link Sysfs.createLink}.
 * @public
 */
export class Sysfs {
  constructor() {
    ROOTS.set(this, new KernfsDir('sys', undefined));
  }

  private get rootDir(): KernfsDir {
    return ROOTS.get(this)!;
  }

  /** Resolves a path; `followLast` follows a final symlink. */
  private lookup(path: string, followLast: boolean): KernfsNode | undefined {
    const parts = splitPath(path);
    if (parts === undefined) return undefined;
    let node: KernfsNode = this.rootDir;
    let hops = 0;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      while (node.kind === 'link') {
        if (++hops > MAX_LINK_DEPTH) return undefined;
        const t = this.follow(node);
        if (t === undefined) return undefined;
        node = t;
      }
      if (node.kind !== 'dir') return undefined;
      if (part === '..') {
        node = node.parent ?? node;
        continue;
      }
      const next = node.get(part);
      if (next === undefined) return undefined;
      node = next;
    }
    if (followLast) {
      while (node.kind === 'link') {
        if (++hops > MAX_LINK_DEPTH) return undefined;
        const t = this.follow(node);
        if (t === undefined) return undefined;
        node = t;
      }
    }
    return node;
  }

  private follow(link: KernfsLink): KernfsNode | undefined {
    return kernfsAttached(link.target, this.rootDir) ? link.target : undefined;
  }

  /** Whether `path` exists (following symlinks; a dangling link does not). */
  exists(path: string): boolean {
    return this.lookup(path, true) !== undefined;
  }

  /** Whether `path` is a directory (following symlinks). */
  isDir(path: string): boolean {
    return this.lookup(path, true)?.kind === 'dir';
  }

  /** Whether `path` is an attribute file (following symlinks). */
  isFile(path: string): boolean {
    return this.lookup(path, true)?.kind === 'file';
  }

  /** Whether `path` itself is a symlink. */
  isLink(path: string): boolean {
    return this.lookup(path, false)?.kind === 'link';
  }

  /**
   * `lstat()`-like: the type and mode of `path` itself. Throws KernelError
   * ENOENT if it does not exist.
   */
  stat(path: string): SysfsStat {
    const n = this.lookup(path, false);
    if (n === undefined) throw new KernelError('ENOENT', `${path}: No such file or directory`);
    if (n.kind === 'dir') return { type: 'dir', mode: 0o755 };
    if (n.kind === 'link') return { type: 'link', mode: 0o777 };
    return { type: 'file', mode: n.mode };
  }

  /**
   * The target of symlink `path`, relative to the link's directory
   * (`../../devices/system/memory/memory32`), as `readlink` prints it.
   * Throws KernelError ENOENT if missing, EINVAL if not a link.
   */
  readlink(path: string): string {
    const n = this.lookup(path, false);
    if (n === undefined) throw new KernelError('ENOENT', `${path}: No such file or directory`);
    if (n.kind !== 'link') throw new KernelError('EINVAL', `${path}: not a symbolic link`);
    return kernfsRelative(n.parent!, n.target);
  }

  /**
   * The canonical path of `path` with every symlink resolved (`realpath`).
   * Throws KernelError ENOENT if it does not exist.
   */
  realpath(path: string): string {
    const n = this.lookup(path, true);
    if (n === undefined) throw new KernelError('ENOENT', `${path}: No such file or directory`);
    const p = kernfsPath(n);
    return p === '/' ? '/sys' : `/sys${p}`;
  }

  /**
   * Reads an attribute: the text its `show()` returns. Throws KernelError
   * ENOENT (missing), EISDIR (a directory), EACCES (mode without read
   * permission), EIO (no `show`), or whatever `show()` throws.
   */
  read(path: string): string {
    const n = this.lookup(path, true);
    if (n === undefined) throw new KernelError('ENOENT', `${path}: No such file or directory`);
    if (n.kind === 'dir') throw new KernelError('EISDIR', `${path}: Is a directory`);
    if (n.kind !== 'file') throw new KernelError('ENOENT', `${path}: No such file or directory`);
    if (!anyMode(n.mode, 0o444)) throw new KernelError('EACCES', `${path}: Permission denied`);
    const show = n.ops.show;
    if (show === undefined) throw new KernelError('EIO', `${path}: Input/output error`);
    return show.call(n.ops);
  }

  /**
   * Writes `value` to an attribute, calling its `store()` with the text
   * unchanged. Throws KernelError ENOENT (missing directory), EACCES (a
   * missing file: sysfs files cannot be created; or a mode without write
   * permission), EISDIR, EIO (no `store`), or whatever `store()` throws.
   */
  write(path: string, value: string): void {
    const n = this.lookup(path, true);
    if (n === undefined) {
      const slash = path.lastIndexOf('/');
      const dir = slash > 0 ? this.lookup(path.slice(0, slash), true) : undefined;
      if (dir?.kind === 'dir') throw new KernelError('EACCES', `${path}: Permission denied`);
      throw new KernelError('ENOENT', `${path}: No such file or directory`);
    }
    if (n.kind === 'dir') throw new KernelError('EISDIR', `${path}: Is a directory`);
    if (n.kind !== 'file') throw new KernelError('ENOENT', `${path}: No such file or directory`);
    if (!anyMode(n.mode, 0o222)) throw new KernelError('EACCES', `${path}: Permission denied`);
    const store = n.ops.store;
    if (store === undefined) throw new KernelError('EIO', `${path}: Input/output error`);
    store.call(n.ops, value);
  }

  /**
   * The names in directory `path` (following symlinks), sorted by byte value
   * like `LC_ALL=C ls`. Throws KernelError ENOENT or ENOTDIR.
   */
  list(path: string): string[] {
    const n = this.lookup(path, true);
    if (n === undefined) throw new KernelError('ENOENT', `${path}: No such file or directory`);
    if (n.kind !== 'dir') throw new KernelError('ENOTDIR', `${path}: Not a directory`);
    return n.names().sort(byteOrder);
  }

  /**
   * `mkdir -p path`: creates the directory and any missing parents. Throws
   * KernelError EEXIST if a component exists and is not a directory (nothing
   * is created then), ENOENT for a path outside `/sys`.
   */
  createDir(path: string): void {
    const parts = splitPath(path);
    if (parts === undefined || parts.includes('..')) throw new KernelError('ENOENT', `${path}: not a /sys path`);
    this.checkMkdirP(parts);
    kernfsMkdirP(this.rootDir, parts);
  }

  private checkMkdirP(parts: readonly string[]): void {
    let d: KernfsDir | undefined = this.rootDir;
    for (const part of parts) {
      const c: KernfsNode | undefined = d?.get(part);
      if (c === undefined) return;
      if (c.kind !== 'dir') throw new KernelError('EEXIST', `sysfs: '${kernfsPath(c)}' exists and is not a directory`);
      d = c;
    }
  }

  /**
   * Creates an attribute file at `path` (the last component is the file
   * name; `attr.name` is ignored for the path), creating missing parent
   * directories. Throws KernelError EEXIST if the name is taken (nothing is
   * created then). Mirrors `sysfs_create_file()` on a kobject made for the
   * directory.
   */
  createFile(path: string, attr: Attribute): void {
    const parts = splitPath(path);
    if (parts === undefined || parts.length === 0 || parts.includes('..')) {
      throw new KernelError('ENOENT', `${path}: not a /sys file path`);
    }
    const dirParts = parts.slice(0, -1);
    const name = parts[parts.length - 1]!;
    this.checkMkdirP(dirParts);
    const existing = this.lookup(`/sys/${dirParts.join('/')}`, false);
    if (existing?.kind === 'dir' && existing.has(name)) {
      throw new KernelError('EEXIST', `sysfs: cannot create duplicate filename '/${parts.join('/')}'`);
    }
    const dir = kernfsMkdirP(this.rootDir, dirParts);
    kernfsAdd(dir, new KernfsFile(name, dir, attr.mode, rawOps(attr), attr));
  }

  /**
   * Creates a symlink at `path` pointing at the existing node `target` (an
   * absolute `/sys` path, resolved now: the link follows the node, as kernfs
   * links do). Throws KernelError ENOENT if the target or the link's
   * directory is missing, EEXIST if the name is taken. Mirrors
   * `sysfs_create_link()`.
   */
  createLink(path: string, target: string): void {
    const t = this.lookup(target, true);
    if (t === undefined) throw new KernelError('ENOENT', `${target}: No such file or directory`);
    const slash = path.lastIndexOf('/');
    const dir = this.lookup(path.slice(0, slash), true);
    if (dir === undefined || dir.kind !== 'dir') throw new KernelError('ENOENT', `${path}: No such file or directory`);
    const name = path.slice(slash + 1);
    if (dir.has(name)) throw new KernelError('EEXIST', `sysfs: cannot create duplicate filename '${kernfsPath(dir)}/${name}'`);
    kernfsAdd(dir, new KernfsLink(name, dir, t));
  }

  /**
   * Removes `path` (a file, a link, or a directory with everything below
   * it). Throws KernelError ENOENT if it does not exist. Mirrors
   * `kernfs_remove()`.
   */
  remove(path: string): void {
    const n = this.lookup(path, false);
    if (n === undefined || n === this.rootDir) throw new KernelError('ENOENT', `${path}: No such file or directory`);
    kernfsRemove(n);
  }
}

function anyMode(mode: number, mask: number): boolean {
  for (let b = 0; b < 9; b++) {
    const bitv = 2 ** b;
    if (Math.floor(mask / bitv) % 2 === 1 && Math.floor(mode / bitv) % 2 === 1) return true;
  }
  return false;
}

/** `strcmp()` order (UTF-16 code units equal bytes for the ASCII names of sysfs). */
function byteOrder(a: string, b: string): number {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}

/** @internal File operations of a plain {@link Attribute}. */
export function rawOps(attr: Attribute): KernfsFileOps {
  return {
    ...(attr.show !== undefined ? { show: (): string => attr.show!() } : {}),
    ...(attr.store !== undefined ? { store: (v: string): void => attr.store!(v) } : {}),
  };
}
