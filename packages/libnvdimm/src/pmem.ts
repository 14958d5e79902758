/**
 * The pmem block device: `/dev/pmemN`, the data area of a namespace as a
 * disk, and the DAX entry point into the same bytes.
 *
 * `pmem_attach_disk()` turns a namespace (raw) or a pfn device (fsdax) into
 * a `struct pmem_device`: the namespace's physical range, the offset of the
 * data inside it (`data_offset`, the pfn info block's `dataoff`), the bytes
 * cut off the ends (`pfn_pad` = start_pad + end_trunc) and the flags every
 * pfn it hands out carries (`PFN_DEV`, plus `PFN_MAP` when the range has
 * struct pages). The disk's capacity is what is left:
 *
 * ```
 *   capacity = (size - pfn_pad - data_offset) / 512 sectors
 *   byte b of the disk  =  physical address phys_addr + data_offset + b
 * ```
 *
 * Reads and writes go straight to the machine's physical memory contents
 * (`PhysMem`), where a platform may have registered a persistent backing for
 * the NVDIMM: what is written survives the machine as the media does.
 *
 * `dax_direct_access()` gives a file system the pfn of a page of the disk;
 * whether a file system may use DAX at all is `__generic_fsdax_supported()`'s
 * question, which in v5.13 demands struct pages (`pfn_t_devmap()`) of a
 * `MEMORY_DEVICE_FS_DAX` pagemap at both ends of the device.
 *
 * Mirrors drivers/nvdimm/pmem.c (`pmem_do_read`, `pmem_do_write`,
 * `__pmem_direct_access`), the block-device file semantics of
 * fs/block_dev.c (`blkdev_read_iter`, `blkdev_write_iter`) and
 * `__generic_fsdax_supported()` of drivers/dax/super.c (Linux v5.13).
 */
import { ERRNO, KernelError, checkUnsigned } from '@zonedev/kernel';
import type { Printk } from '@zonedev/kernel';
import type { PhysMem } from '@zonedev/mmzone';
import type { DevPagemap, Memremap, PfnT } from '@zonedev/memremap';
import { MEMORY_DEVICE_FS_DAX, pfnTDevmap, pfnTToPfn, physToPfnT } from '@zonedev/memremap';

/**
 * The media errors of a disk's data area (`pmem->bb`, filled by
 * `nvdimm_badblocks_populate()`), and the provider's way to clear them.
 * Offsets and lengths are bytes of the data area.
 * @public
 */
export interface PmemPoison {
  /** `is_bad_pmem()`: a 512-byte sector the access touches is in the badblocks list. */
  isBad(offset: number, length: number): boolean;
  /** `pmem_clear_poison()`: clears what it can of the range; returns the bytes cleared (0 when the bus cannot clear errors). */
  clear(offset: number, length: number): number;
}

/**
 * What `pmem_attach_disk()` decided for a disk.
 * @public
 */
export interface PmemDiskInit {
  /** `disk_name`: `pmem<region>` (`nvdimm_namespace_disk_name()`). */
  readonly name: string;
  /** `pmem->phys_addr`: the namespace's first byte. */
  readonly physAddr: number;
  /** `pmem->size`: the whole namespace. */
  readonly size: number;
  /** `pmem->data_offset`. */
  readonly dataOffset: number;
  /** `pmem->pfn_pad`. */
  readonly pfnPad: number;
  /** `pmem->pfn_flags`: `PFN_DEV`, with `PFN_MAP` when the range has struct pages. */
  readonly pfnFlags: bigint;
  /** `pmem->pgmap` when the range was mapped with `devm_memremap_pages()`. */
  readonly pgmap: DevPagemap | undefined;
  /** The disk is read-only (the region's `read_only`, `nvdimm_check_and_set_ro()`). */
  readonly readOnly: boolean;
  /** The data area's badblocks; none: no media errors. */
  readonly poison?: PmemPoison;
}

/**
 * A pmem disk (`struct pmem_device` with its gendisk and dax_device).
 * @public
 */
export class PmemDisk {
  /** `disk_name`. */
  readonly name: string;
  /** `pmem->phys_addr`. */
  readonly physAddr: number;
  /** `pmem->size`. */
  readonly size: number;
  /** `pmem->data_offset`. */
  readonly dataOffset: number;
  /** `pmem->pfn_pad`. */
  readonly pfnPad: number;
  /** `pmem->bb` and `pmem_clear_poison()`. */
  readonly poison: PmemPoison | undefined;
  /** `pmem->pfn_flags`. */
  readonly pfnFlags: bigint;
  /** `pmem->pgmap`, when the range has struct pages. */
  readonly pgmap: DevPagemap | undefined;
  /** `set_disk_ro()`. */
  readonly readOnly: boolean;
  /** `queue/logical_block_size`. */
  readonly logicalBlockSize = 512;
  /** `queue/physical_block_size` (`PAGE_SIZE`). */
  readonly physicalBlockSize: number;
  private alive = true;
  private readonly physmem: PhysMem;
  private readonly memremap: Memremap;
  private readonly log: Printk;
  private readonly pageShift: number;

  constructor(init: PmemDiskInit, physmem: PhysMem, memremap: Memremap, log: Printk, pageShift: number) {
    if (typeof init !== 'object' || init === null || typeof init.name !== 'string') throw new KernelError('EINVAL', `pmem_attach_disk: invalid disk ${String(init)}`);
    checkUnsigned('pmem_attach_disk', 'phys_addr', init.physAddr);
    checkUnsigned('pmem_attach_disk', 'size', init.size, Number.MAX_SAFE_INTEGER - init.physAddr);
    checkUnsigned('pmem_attach_disk', 'data_offset', init.dataOffset, init.size);
    checkUnsigned('pmem_attach_disk', 'pfn_pad', init.pfnPad, init.size);
    if (typeof init.pfnFlags !== 'bigint' || init.pfnFlags < 0n || init.pfnFlags >= 2n ** 64n) throw new KernelError('EINVAL', `pmem_attach_disk: invalid pfn_flags ${String(init.pfnFlags)}`);
    if (init.pgmap !== undefined && (typeof init.pgmap !== 'object' || init.pgmap === null)) throw new KernelError('EINVAL', `pmem_attach_disk: invalid pgmap ${String(init.pgmap)}`);
    if (typeof init.readOnly !== 'boolean') throw new KernelError('EINVAL', `pmem_attach_disk: invalid read-only flag ${String(init.readOnly)}`);
    for (const [what, x] of [['physmem', physmem], ['memremap', memremap], ['log', log]] as const) {
      if (typeof x !== 'object' || x === null) throw new KernelError('EINVAL', `pmem_attach_disk: invalid ${what} ${String(x)}`);
    }
    checkUnsigned('pmem_attach_disk', 'PAGE_SHIFT', pageShift, 30);
    this.name = init.name;
    this.physAddr = init.physAddr;
    this.size = init.size;
    this.dataOffset = init.dataOffset;
    this.pfnPad = init.pfnPad;
    this.pfnFlags = init.pfnFlags;
    this.pgmap = init.pgmap;
    this.readOnly = init.readOnly;
    this.poison = init.poison;
    this.physmem = physmem;
    this.memremap = memremap;
    this.log = log;
    this.pageShift = pageShift;
    this.physicalBlockSize = 2 ** pageShift;
  }

  /** Capacity in bytes: `size - pfn_pad - data_offset`. */
  get capacity(): number {
    return this.size - this.pfnPad - this.dataOffset;
  }

  /** Capacity in 512-byte sectors, as `/sys/block/<disk>/size` shows it. */
  get sectors(): number {
    return Math.floor(this.capacity / 512);
  }

  /** Whether the disk is still attached (`dax_alive()`, and the block device open). */
  get isAlive(): boolean {
    return this.alive;
  }

  /** `del_gendisk()` / `kill_dax()`: later I/O and DAX access fail with -ENXIO. */
  kill(): void {
    this.alive = false;
  }

  private checkAlive(fn: string): void {
    if (!this.alive) throw new KernelError('ENXIO', `${fn}: ${this.name} is gone`);
  }

  /**
   * `pread()` on `/dev/<disk>` (`blkdev_read_iter()`): up to `length` bytes
   * at byte `offset` of the data area; a read at or past the end returns
   * what is left (nothing at the end). Throws KernelError EINVAL for bad
   * arguments, ENXIO once the disk is gone.
   */
  read(offset: number, length: number): Uint8Array {
    checkUnsigned('blkdev_read_iter', 'offset', offset);
    checkUnsigned('blkdev_read_iter', 'length', length);
    this.checkAlive('blkdev_read_iter');
    const cap = this.capacity;
    if (offset >= cap) return new Uint8Array(0);
    const n = Math.min(length, cap - offset);
    // pmem_do_read(): a poisoned sector fails the read before the media are touched.
    this.checkPoison(offset, n);
    // pmem_off = sector * 512 + data_offset.
    return this.physmem.read(this.physAddr + this.dataOffset + offset, n);
  }

  /**
   * {@link PmemDisk.read} into `dst` (up to `dst.length` bytes); returns
   * the bytes read. Same errors.
   */
  readInto(offset: number, dst: Uint8Array): number {
    checkUnsigned('blkdev_read_iter', 'offset', offset);
    if (!(dst instanceof Uint8Array)) throw new KernelError('EINVAL', 'blkdev_read_iter: dst is not a byte array');
    this.checkAlive('blkdev_read_iter');
    const cap = this.capacity;
    if (offset >= cap) return 0;
    const n = Math.min(dst.length, cap - offset);
    this.checkPoison(offset, n);
    this.physmem.readInto(this.physAddr + this.dataOffset + offset, n === dst.length ? dst : dst.subarray(0, n));
    return n;
  }

  /**
   * `pwrite()` on `/dev/<disk>` (`blkdev_write_iter()`): stores `data` at
   * byte `offset`, cut at the end of the disk; returns the bytes written.
   * Throws KernelError EPERM on a read-only disk, ENOSPC at or past the
   * end (nothing written), EINVAL for bad arguments, ENXIO once the disk is
   * gone.
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
    // pmem_do_write(): write_pmem() of the bytes at data_offset + offset; over a media error the
    // poison is cleared and the bytes written again; a clear that falls short fails the write (EIO).
    const bytes = n === data.length ? data : data.subarray(0, n);
    const bad = this.poison?.isBad(offset, n) === true;
    this.physmem.write(this.physAddr + this.dataOffset + offset, bytes);
    if (bad) {
      const cleared = this.poison!.clear(offset, n);
      this.physmem.write(this.physAddr + this.dataOffset + offset, bytes);
      if (cleared < n) throw new KernelError('EIO', `pmem_do_write: ${this.name}: could not clear the media error at ${offset}`);
    }
    return n;
  }

  /** `is_bad_pmem()`: EIO for a read that touches a poisoned sector. */
  private checkPoison(offset: number, n: number): void {
    if (n > 0 && this.poison?.isBad(offset, n) === true) throw new KernelError('EIO', `pmem_do_read: ${this.name}: media error at ${offset}`);
  }

  /**
   * `dax_direct_access(dax_dev, pgoff, nr_pages, &kaddr, &pfn)` through
   * `pmem_dax_direct_access()` / `__pmem_direct_access()`: the pfn_t of page
   * `pgoff` of the data area (`phys_addr + data_offset + PFN_PHYS(pgoff)`,
   * with the disk's `pfn_flags`) and how many of the `nrPages` asked for are
   * contiguous from there (all of them up to the end of the data). Throws
   * KernelError ENXIO once the disk is gone, EINVAL for a bad count, ERANGE
   * for a page at or past the end ("no pages available"), EIO when the
   * pages asked for hold a media error.
   */
  daxDirectAccess(pgoff: number, nrPages: number): { readonly nrPages: number; readonly pfn: PfnT; readonly phys: number } {
    checkUnsigned('dax_direct_access', 'pgoff', pgoff);
    this.checkAlive('dax_direct_access');
    if (!Number.isSafeInteger(nrPages) || nrPages < 0) throw new KernelError('EINVAL', `dax_direct_access: invalid nr_pages ${String(nrPages)}`);
    const ps = 2 ** this.pageShift;
    const offset = pgoff * ps + this.dataOffset;
    const avail = Math.floor((this.size - this.pfnPad - offset) / ps);
    if (!(avail > 0)) throw new KernelError('ERANGE', `dax_direct_access: ${this.name}: pgoff ${pgoff} beyond the device`);
    const phys = this.physAddr + offset;
    // A poisoned page cannot be mapped (EIO); with any badblocks only the pages asked for are handed out.
    if (this.poison?.isBad(pgoff * ps, nrPages * ps) === true) throw new KernelError('EIO', `dax_direct_access: ${this.name}: media error in page ${pgoff}`);
    return { nrPages: Math.min(avail, nrPages), pfn: physToPfnT(phys, this.pfnFlags, this.pageShift), phys };
  }

  /**
   * `__generic_fsdax_supported(dax_dev, bdev, blocksize, start, sectors)`
   * (drivers/dax/super.c, v5.13): whether a file system with `blocksize`
   * may use DAX on sectors `[start, start + sectors)` of the disk. The first
   * and the last page must be reachable by `dax_direct_access()` and both be
   * devmap pfns (`PFN_DEV|PFN_MAP`) whose struct pages belong to one
   * `MEMORY_DEVICE_FS_DAX` pagemap. Each refusal is logged as the kernel
   * logs it ("pmem0: error: dax support not enabled").
   */
  fsdaxSupported(blocksize: number = 2 ** this.pageShift, start: number = 0, sectors: number = this.sectors): boolean {
    checkUnsigned('generic_fsdax_supported', 'blocksize', blocksize, 0xffffffff);
    checkUnsigned('generic_fsdax_supported', 'start', start);
    checkUnsigned('generic_fsdax_supported', 'sectors', sectors);
    const ps = 2 ** this.pageShift;
    if (blocksize !== ps) {
      this.log.info(`${this.name}: error: unsupported blocksize for dax`);
      return false;
    }
    checkUnsigned('__generic_fsdax_supported', 'start', start);
    checkUnsigned('__generic_fsdax_supported', 'sectors', sectors);
    // bdev_dax_pgoff(): the partition offset must be page aligned (a whole disk starts at 0).
    if ((start * 512) % ps !== 0 || sectors === 0) {
      this.log.info(`${this.name}: error: unaligned partition for dax`);
      return false;
    }
    const pgoff = Math.floor((start * 512) / ps);
    const lastPage = Math.floor(((start + sectors - 1) * 512) / ps);
    let first;
    let last;
    try {
      first = this.daxDirectAccess(pgoff, 1);
      last = this.daxDirectAccess(lastPage, 1);
    } catch (e) {
      const code = e instanceof KernelError ? e.negative : -ERRNO.EIO;
      this.log.info(`${this.name}: error: dax access failed (${code})`);
      return false;
    }
    let enabled = false;
    if (pfnTDevmap(first.pfn) && pfnTDevmap(last.pfn)) {
      const a = this.memremap.getDevPagemap(pfnTToPfn(first.pfn));
      const b = this.memremap.getDevPagemap(pfnTToPfn(last.pfn));
      if (
        a !== undefined &&
        a === b &&
        a.type === MEMORY_DEVICE_FS_DAX &&
        this.memremap.pagePgmap(pfnTToPfn(first.pfn)) === a &&
        this.memremap.pagePgmap(pfnTToPfn(last.pfn)) === a
      ) {
        enabled = true;
      }
      this.memremap.putDevPagemap(a);
      this.memremap.putDevPagemap(b);
    }
    if (!enabled) {
      this.log.info(`${this.name}: error: dax support not enabled`);
      return false;
    }
    return true;
  }
}
