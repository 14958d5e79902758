/**
 * Device numbers: who owns which major, and the nodes devtmpfs makes for them.
 *
 * A `dev_t` (include/linux/kdev_t.h) packs a major number above 20 bits of
 * minor. Character majors are handed out by fs/char_dev.c: a driver asks for
 * a fixed one (`register_chrdev_region()`, `mem` is 1) or for any free one
 * (`alloc_chrdev_region()`, `register_chrdev(0, ...)`), and the dynamic
 * search runs downward from 254 to 234, then from 511 to 384
 * (`find_dynamic_major()`). Block majors come from block/genhd.c's
 * `major_names`; a disk that asks for no major of its own (pmem and BTT
 * disks, `GENHD_FL_EXT_DEVT`) gets major 259, `blkext`, with the lowest free
 * minor (`blk_alloc_ext_minor()`). `/proc/devices` lists both tables
 * (fs/proc/devices.c):
 *
 * ```
 * Character devices:
 *   1 mem
 * 252 dax
 * 253 dimmctl
 * 254 ndctl
 *
 * Block devices:
 * 259 blkext
 * ```
 *
 * The model registers what its drivers register, in their initcall order;
 * the majors a real guest also hands to drivers the model has not (tty,
 * input, bsg, ...) are not taken, so a dynamic major is the one a kernel
 * with only these drivers would pick.
 *
 * devtmpfs (drivers/base/devtmpfs.c) creates `/dev/<name>` for each device
 * added with a `dev_t`. Its superblock is a tmpfs one: inode numbers are
 * handed out in creation order from 1 (the root directory), each node taking
 * the next (`shmem_reserve_inode()`), and its `s_dev` is an anonymous device
 * number (`get_anon_bdev()`, major 0) taken in mount order. That pair is what
 * `/proc/PID/maps` prints for a mapping of a device file.
 */
import { KernelError } from './errno.js';
import { checkUnsigned } from './validate.js';

/** `MINORBITS` (include/linux/kdev_t.h). @public */
export const MINORBITS = 20;
/** `MINORMASK`: the largest minor. @public */
export const MINORMASK = 0xfffff;
/** `CHRDEV_MAJOR_MAX` (include/linux/fs.h): majors are below 512. @public */
export const CHRDEV_MAJOR_MAX = 512;
/** `CHRDEV_MAJOR_DYN_END`: the bottom of the first dynamic range (254 down to 234). @public */
export const CHRDEV_MAJOR_DYN_END = 234;
/** `CHRDEV_MAJOR_DYN_EXT_START`: the top of the second dynamic range. @public */
export const CHRDEV_MAJOR_DYN_EXT_START = 511;
/** `CHRDEV_MAJOR_DYN_EXT_END`: the bottom of the second dynamic range. @public */
export const CHRDEV_MAJOR_DYN_EXT_END = 384;
/** `BLKDEV_MAJOR_MAX` (include/linux/fs.h). @public */
export const BLKDEV_MAJOR_MAX = 512;
/** `MEM_MAJOR` (include/uapi/linux/major.h): /dev/null, /dev/zero, /dev/urandom. @public */
export const MEM_MAJOR = 1;
/** `BLOCK_EXT_MAJOR` (include/uapi/linux/major.h): disks with extended device numbers. @public */
export const BLOCK_EXT_MAJOR = 259;

/** `CHRDEV_MAJOR_HASH_SIZE` / `BLKDEV_MAJOR_HASH_SIZE`: the buckets of both tables. */
const MAJOR_HASH_SIZE = 255;
/** `NR_EXT_DEVT`: minors of the blkext major. */
const NR_EXT_DEVT = 2 ** MINORBITS;

/** `MKDEV(ma, mi)`. Throws KernelError EINVAL for a major past 4095 or a minor past {@link MINORMASK}. @public */
export function mkdev(major: number, minor: number): number {
  checkUnsigned('MKDEV', 'major', major);
  checkUnsigned('MKDEV', 'minor', minor);
  if (major >= 2 ** 12) throw new KernelError('EINVAL', `MKDEV: major ${major} does not fit in 12 bits`);
  if (minor > MINORMASK) throw new KernelError('EINVAL', `MKDEV: minor ${minor} does not fit in ${MINORBITS} bits`);
  return major * 2 ** MINORBITS + minor;
}

/** `MAJOR(dev)`. @public */
export function major(dev: number): number {
  checkUnsigned('MAJOR', 'dev', dev);
  return Math.floor(dev / 2 ** MINORBITS);
}

/** `MINOR(dev)`. @public */
export function minor(dev: number): number {
  checkUnsigned('MINOR', 'dev', dev);
  return dev % 2 ** MINORBITS;
}

/** `print_dev_t()`: "MAJOR:MINOR", as a device's `dev` attribute shows it (without the newline). @public */
export function formatDevt(dev: number): string {
  return `${major(dev)}:${minor(dev)}`;
}

/** A registered range of character device numbers (`struct char_device_struct`). @public */
export interface ChrdevRegion {
  readonly major: number;
  readonly baseminor: number;
  readonly minorct: number;
  readonly name: string;
}

/**
 * One machine's device-number tables: fs/char_dev.c's `chrdevs`, block/genhd.c's
 * `major_names` and `ext_devt_idr`. Every method checks its arguments and
 * changes nothing when it throws.
 * @public
 */
export class DevNumbers {
  /** `chrdevs[]`: per bucket, the regions sorted by major, then by base minor. */
  readonly #chrdevs: ChrdevRegion[][] = Array.from({ length: MAJOR_HASH_SIZE }, () => []);
  /** `major_names[]`: block majors and their names, per bucket. */
  readonly #blkdevs: { major: number; name: string }[][] = Array.from({ length: MAJOR_HASH_SIZE }, () => []);
  /** `ext_devt_idr`: the minors of major 259 in use. */
  readonly #extMinors = new Set<number>();

  /** `find_dynamic_major()`: an empty bucket from 254 down to 234, else a free major from 511 down to 384. */
  #findDynamicMajor(): number | undefined {
    for (let i = MAJOR_HASH_SIZE - 1; i >= CHRDEV_MAJOR_DYN_END; i--) if (this.#chrdevs[i]!.length === 0) return i;
    for (let i = CHRDEV_MAJOR_DYN_EXT_START; i >= CHRDEV_MAJOR_DYN_EXT_END; i--) {
      if (!this.#chrdevs[i % MAJOR_HASH_SIZE]!.some((cd) => cd.major === i)) return i;
    }
    return undefined;
  }

  /**
   * `__register_chrdev_region()`: one major's minors `baseminor` ..
   * `baseminor + minorct - 1` for `name`; major 0 asks for a dynamic one.
   * EINVAL for a major of 512 or more or a minor range past
   * {@link MINORMASK}; EBUSY if the range overlaps a registered one, or no
   * dynamic major is left ("dynamic allocation region is full").
   */
  #register(majorIn: number, baseminor: number, minorct: number, name: string): ChrdevRegion {
    if (majorIn >= CHRDEV_MAJOR_MAX) {
      throw new KernelError('EINVAL', `CHRDEV "${name}" major requested (${majorIn}) is greater than the maximum (${CHRDEV_MAJOR_MAX - 1})`);
    }
    if (minorct > MINORMASK + 1 - baseminor) {
      throw new KernelError(
        'EINVAL',
        `CHRDEV "${name}" minor range requested (${baseminor}-${baseminor + minorct - 1}) is out of range of maximum range (0-${MINORMASK}) for a single major`,
      );
    }
    const maj = majorIn === 0 ? this.#findDynamicMajor() : majorIn;
    if (maj === undefined) throw new KernelError('EBUSY', `CHRDEV "${name}" dynamic allocation region is full`);
    const bucket = this.#chrdevs[maj % MAJOR_HASH_SIZE]!;
    let at = 0;
    for (; at < bucket.length; at++) {
      const cur = bucket[at]!;
      if (cur.major < maj) continue;
      if (cur.major > maj) break;
      if (cur.baseminor + cur.minorct <= baseminor) continue;
      if (cur.baseminor >= baseminor + minorct) break;
      throw new KernelError('EBUSY', `CHRDEV "${name}": ${maj}:${baseminor}-${baseminor + minorct - 1} overlaps "${cur.name}"`);
    }
    const cd: ChrdevRegion = { major: maj, baseminor, minorct, name };
    bucket.splice(at, 0, cd);
    return cd;
  }

  #checkName(fn: string, name: string): void {
    if (typeof name !== 'string' || name === '') throw new KernelError('EINVAL', `${fn}: name must be a non-empty string`);
  }

  /**
   * `register_chrdev_region()`: the `count` device numbers from `from`
   * (which may run into following majors) for `name`. All or nothing: on a
   * failure the majors already taken are given back. Errors as in
   * `__register_chrdev_region()` (EINVAL, EBUSY).
   */
  registerChrdevRegion(from: number, count: number, name: string): void {
    checkUnsigned('register_chrdev_region', 'from', from);
    checkUnsigned('register_chrdev_region', 'count', count);
    this.#checkName('register_chrdev_region', name);
    if (count === 0) throw new KernelError('EINVAL', 'register_chrdev_region: count is 0');
    const to = from + count;
    const done: ChrdevRegion[] = [];
    try {
      for (let n = from; n < to; ) {
        const next = Math.min(mkdevUnchecked(major(n) + 1, 0), to);
        done.push(this.#register(major(n), minor(n), next - n, name));
        n = next;
      }
    } catch (e) {
      for (const cd of done) this.#unregister(cd.major, cd.baseminor, cd.minorct);
      throw e;
    }
  }

  /**
   * `alloc_chrdev_region()`: `count` minors from `baseminor` under a
   * dynamic major; returns the first device number. EINVAL, EBUSY as above.
   */
  allocChrdevRegion(baseminor: number, count: number, name: string): number {
    checkUnsigned('alloc_chrdev_region', 'baseminor', baseminor);
    checkUnsigned('alloc_chrdev_region', 'count', count);
    this.#checkName('alloc_chrdev_region', name);
    if (count === 0) throw new KernelError('EINVAL', 'alloc_chrdev_region: count is 0');
    const cd = this.#register(0, baseminor, count, name);
    return mkdevUnchecked(cd.major, cd.baseminor);
  }

  /**
   * `register_chrdev(major, name, fops)`: all 256 minors of `major` (0 for a
   * dynamic one); returns the major. EINVAL, EBUSY as above.
   */
  registerChrdev(majorNr: number, name: string): number {
    checkUnsigned('register_chrdev', 'major', majorNr);
    this.#checkName('register_chrdev', name);
    return this.#register(majorNr, 0, 256, name).major;
  }

  #unregister(maj: number, baseminor: number, minorct: number): boolean {
    const bucket = this.#chrdevs[maj % MAJOR_HASH_SIZE]!;
    const i = bucket.findIndex((cd) => cd.major === maj && cd.baseminor === baseminor && cd.minorct === minorct);
    if (i < 0) return false;
    bucket.splice(i, 1);
    return true;
  }

  /** `unregister_chrdev_region()`: gives back what `registerChrdevRegion`/`allocChrdevRegion` took; ranges not registered are ignored, as in the kernel. */
  unregisterChrdevRegion(from: number, count: number): void {
    checkUnsigned('unregister_chrdev_region', 'from', from);
    checkUnsigned('unregister_chrdev_region', 'count', count);
    const to = from + count;
    for (let n = from; n < to; ) {
      const next = Math.min(mkdevUnchecked(major(n) + 1, 0), to);
      this.#unregister(major(n), minor(n), next - n);
      n = next;
    }
  }

  /** `unregister_chrdev()`: the 256 minors `registerChrdev` took. */
  unregisterChrdev(majorNr: number): void {
    checkUnsigned('unregister_chrdev', 'major', majorNr);
    this.#unregister(majorNr, 0, 256);
  }

  /** The registered character regions, by major then base minor. */
  chrdevRegions(): readonly ChrdevRegion[] {
    return this.#chrdevs.flat().sort((a, b) => a.major - b.major || a.baseminor - b.baseminor);
  }

  /**
   * `register_blkdev()` (block/genhd.c): a block major for `name`; major 0
   * asks for the highest free one below 255. Returns the major. EINVAL for
   * a major of 512 or more ("major requested ... is greater than the
   * maximum"), EBUSY if taken or none is free.
   */
  registerBlkdev(majorNr: number, name: string): number {
    checkUnsigned('register_blkdev', 'major', majorNr);
    this.#checkName('register_blkdev', name);
    let maj = majorNr;
    if (maj === 0) {
      let i = MAJOR_HASH_SIZE - 1;
      while (i > 0 && this.#blkdevs[i]!.length > 0) i--;
      if (i === 0) throw new KernelError('EBUSY', `register_blkdev: failed to get major for ${name}`);
      maj = i;
    }
    if (maj >= BLKDEV_MAJOR_MAX) {
      throw new KernelError('EINVAL', `register_blkdev: major requested (${maj}) is greater than the maximum (${BLKDEV_MAJOR_MAX - 1}) for ${name}`);
    }
    const bucket = this.#blkdevs[maj % MAJOR_HASH_SIZE]!;
    if (bucket.some((b) => b.major === maj)) {
      throw new KernelError('EBUSY', `register_blkdev: cannot get major ${maj} for ${name}`);
    }
    bucket.push({ major: maj, name });
    return maj;
  }

  /** `unregister_blkdev()`: gives the major back; a major not held by `name` is left (the kernel warns). */
  unregisterBlkdev(majorNr: number, name: string): void {
    checkUnsigned('unregister_blkdev', 'major', majorNr);
    const bucket = this.#blkdevs[majorNr % MAJOR_HASH_SIZE]!;
    const i = bucket.findIndex((b) => b.major === majorNr && b.name === name);
    if (i >= 0) bucket.splice(i, 1);
  }

  /** `blk_alloc_ext_minor()`: the lowest free minor of major 259; ENOMEM when all are in use. */
  blkAllocExtMinor(): number {
    for (let m = 0; m < NR_EXT_DEVT; m++) {
      if (!this.#extMinors.has(m)) {
        this.#extMinors.add(m);
        return m;
      }
    }
    throw new KernelError('ENOMEM', 'blk_alloc_ext_minor: no free minor');
  }

  /** `blk_free_ext_minor()`. */
  blkFreeExtMinor(minorNr: number): void {
    checkUnsigned('blk_free_ext_minor', 'minor', minorNr);
    this.#extMinors.delete(minorNr);
  }

  /**
   * `/proc/devices` (`devinfo_show()` in fs/proc/devices.c, with
   * `chrdev_show()` and `blkdev_show()`): each table's majors in ascending
   * order as "%3d %s", one line per registered range.
   */
  procDevices(): string {
    const lines = ['Character devices:'];
    for (const cd of this.chrdevRegions()) lines.push(`${String(cd.major).padStart(3)} ${cd.name}`);
    lines.push('', 'Block devices:');
    for (const b of this.#blkdevs.flat().sort((x, y) => x.major - y.major)) lines.push(`${String(b.major).padStart(3)} ${b.name}`);
    return `${lines.join('\n')}\n`;
  }
}

function mkdevUnchecked(ma: number, mi: number): number {
  return ma * 2 ** MINORBITS + mi;
}

/** One node of devtmpfs. @public */
export interface DevtmpfsNode {
  /** The name below `/dev`. */
  readonly name: string;
  /** `S_IFCHR` or `S_IFBLK`. */
  readonly kind: 'char' | 'block';
  /** `inode->i_rdev`. */
  readonly devt: number;
  /** `inode->i_ino`. */
  readonly ino: number;
}

/**
 * `/dev` as drivers/base/devtmpfs.c fills it: a node per device with a
 * device number, made when the device is added (`devtmpfs_create_node()`)
 * and removed with it (`devtmpfs_delete_node()`).
 * @public
 */
export class Devtmpfs {
  /**
   * The superblock's `s_dev`: major 0 and the minor `get_anon_bdev()` gave
   * its mount. devtmpfs is mounted in `driver_init()`, after the
   * pseudo-filesystems boot mounts before it, so the minor counts those; it
   * differs between configurations, and the model takes 5.
   */
  readonly sDev: number = mkdevUnchecked(0, 5);
  /** `sbinfo->next_ino`: the root directory took 1. */
  #nextIno = 2;
  readonly #nodes = new Map<string, DevtmpfsNode>();

  /**
   * `devtmpfs_create_node()` → `handle_create()`: `/dev/<name>` for `devt`.
   * EINVAL for a name that is empty or holds a '/', EEXIST if the name is
   * taken.
   */
  createNode(name: string, kind: 'char' | 'block', devt: number): DevtmpfsNode {
    if (typeof name !== 'string' || name === '' || name.includes('/')) throw new KernelError('EINVAL', `devtmpfs: invalid node name ${String(name)}`);
    if (kind !== 'char' && kind !== 'block') throw new KernelError('EINVAL', `devtmpfs: ${name}: kind must be 'char' or 'block'`);
    checkUnsigned('devtmpfs_create_node', 'devt', devt);
    if (this.#nodes.has(name)) throw new KernelError('EEXIST', `devtmpfs: /dev/${name} exists`);
    const node: DevtmpfsNode = { name, kind, devt, ino: this.#nextIno++ };
    this.#nodes.set(name, node);
    return node;
  }

  /** `devtmpfs_delete_node()`: removes `/dev/<name>` if it is there. */
  deleteNode(name: string): void {
    this.#nodes.delete(name);
  }

  /** The node `/dev/<name>`, if devtmpfs has it. */
  lookup(name: string): DevtmpfsNode | undefined {
    return this.#nodes.get(name);
  }

  /** Every node, by name. */
  nodes(): readonly DevtmpfsNode[] {
    return [...this.#nodes.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
