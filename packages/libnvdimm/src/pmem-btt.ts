/**
 * The sector-mode disk: `/dev/pmemNs`, a namespace seen through a BTT.
 *
 * When a btt device claims a namespace, nd_pmem does not map the namespace
 * at all: `nvdimm_namespace_attach_btt()` hands its bytes (`rw_bytes`) to
 * the Block Translation Table, and the disk `btt_blk_init()` creates
 * exports the BTT's external blocks — `nlba` sectors of the chosen
 * `sector_size`, each written atomically through a free block, the lane's
 * log and the map (src/btt.ts). There is no DAX on such a disk and no
 * struct page: the data's physical location changes with every write.
 *
 * The block-device file semantics are fs/block_dev.c's, as for
 * {@link PmemDisk}; byte ranges that do not cover whole sectors are
 * read-modified-written, as the page cache would.
 *
 * Mirrors `btt_blk_init()`, `btt_submit_bio()` / `btt_do_bvec()` of
 * drivers/nvdimm/btt.c and `blkdev_read_iter()` / `blkdev_write_iter()`
 * (Linux v5.13).
 */
import { KernelError, checkUnsigned } from '@zonedev/kernel';
import { Btt } from './btt.js';

/**
 * A BTT disk (`struct btt` with its gendisk).
 * @public
 */
export class BttDisk {
  /** `disk_name`: `pmem<region>s`. */
  readonly name: string;
  /** The BTT underneath. */
  readonly btt: Btt;
  /** `set_disk_ro()`. */
  readonly readOnly: boolean;
  private alive = true;

  constructor(name: string, btt: Btt, readOnly: boolean) {
    if (typeof name !== 'string' || name === '') throw new KernelError('EINVAL', `btt disk: invalid name ${String(name)}`);
    if (!(btt instanceof Btt)) throw new KernelError('EINVAL', `btt disk: not a btt: ${String(btt)}`);
    if (typeof readOnly !== 'boolean') throw new KernelError('EINVAL', `btt disk: invalid read-only flag ${String(readOnly)}`);
    this.name = name;
    this.btt = btt;
    this.readOnly = readOnly;
  }

  /** Capacity in bytes: `nlba * sector_size`. */
  get capacity(): number {
    return this.btt.capacity;
  }

  /** Capacity in 512-byte sectors (`/sys/block/<disk>/size`). */
  get sectors(): number {
    return Math.floor(this.capacity / 512);
  }

  /** `queue/logical_block_size`: the BTT's sector size. */
  get logicalBlockSize(): number {
    return this.btt.sectorSize;
  }

  /** Whether the disk is still attached. */
  get isAlive(): boolean {
    return this.alive;
  }

  /** `del_gendisk()`: later I/O fails with -ENXIO. */
  kill(): void {
    this.alive = false;
  }

  private checkAlive(fn: string): void {
    if (!this.alive) throw new KernelError('ENXIO', `${fn}: ${this.name} is gone`);
  }

  /** `pread()` of up to `length` bytes at `offset` (see {@link PmemDisk.read}). */
  read(offset: number, length: number): Uint8Array {
    checkUnsigned('blkdev_read_iter', 'offset', offset);
    checkUnsigned('blkdev_read_iter', 'length', length);
    const out = new Uint8Array(Math.max(0, Math.min(length, this.capacity - Math.min(offset, this.capacity))));
    this.readInto(offset, out);
    return out;
  }

  /** `pread()` into `dst`; returns the bytes read. EIO for a sector the BTT cannot read. */
  readInto(offset: number, dst: Uint8Array): number {
    checkUnsigned('blkdev_read_iter', 'offset', offset);
    if (!(dst instanceof Uint8Array)) throw new KernelError('EINVAL', 'blkdev_read_iter: dst is not a byte array');
    this.checkAlive('blkdev_read_iter');
    const cap = this.capacity;
    if (offset >= cap) return 0;
    const n = Math.min(dst.length, cap - offset);
    const ss = this.btt.sectorSize;
    const buf = new Uint8Array(ss);
    let done = 0;
    while (done < n) {
      const at = offset + done;
      const sec = Math.floor(at / ss);
      const within = at - sec * ss;
      const len = Math.min(ss - within, n - done);
      this.btt.readPage((sec * ss) / 512, buf);
      dst.set(buf.subarray(within, within + len), done);
      done += len;
    }
    return n;
  }

  /**
   * `pwrite()` of `data` at `offset`, cut at the end (see
   * {@link PmemDisk.write}): EPERM read-only, ENOSPC at the end, EIO from
   * the BTT. Each sector is committed atomically.
   */
  write(offset: number, data: Uint8Array): number {
    checkUnsigned('blkdev_write_iter', 'offset', offset);
    if (!(data instanceof Uint8Array)) throw new KernelError('EINVAL', 'blkdev_write_iter: data is not a byte array');
    this.checkAlive('blkdev_write_iter');
    if (this.readOnly) throw new KernelError('EPERM', `blkdev_write_iter: ${this.name} is read-only`);
    if (data.length === 0) return 0;
    const cap = this.capacity;
    if (offset >= cap) throw new KernelError('ENOSPC', `blkdev_write_iter: ${this.name}: write at ${offset} past the end`);
    const n = Math.min(data.length, cap - offset);
    const ss = this.btt.sectorSize;
    const buf = new Uint8Array(ss);
    let done = 0;
    while (done < n) {
      const at = offset + done;
      const sec = Math.floor(at / ss);
      const within = at - sec * ss;
      const len = Math.min(ss - within, n - done);
      if (len < ss) this.btt.readPage((sec * ss) / 512, buf);
      buf.set(data.subarray(done, done + len), within);
      this.btt.writePage((sec * ss) / 512, buf);
      done += len;
    }
    return n;
  }
}
