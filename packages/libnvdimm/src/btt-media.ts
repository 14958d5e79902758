/**
 * Byte-addressed media: what the BTT and the label engine read and write.
 *
 * The BTT sits on a namespace's `rw_bytes` operation (`nsio_rw_bytes()` in
 * drivers/nvdimm/claim.c) and the label engine on a DIMM's label area, the
 * "config data" of `ND_CMD_GET_CONFIG_DATA`/`ND_CMD_SET_CONFIG_DATA`
 * (`nvdimm_get_config_data()`/`nvdimm_set_config_data()` in
 * drivers/nvdimm/dimm_devs.c). Both are a flat run of bytes with a size, a
 * read and a write, so both engines take an {@link NdMedia} and anything that
 * provides those three can plug in: a pmem namespace, an NVDIMM's label area
 * backed by a host file, or the in-memory {@link MemoryMedia} used here.
 *
 * Persistent memory has no atomic sector writes. The hardware guarantees only
 * that an aligned 8-byte store lands whole; a longer write interrupted by a
 * power failure may have reached the media up to any 8-byte boundary.
 * {@link CrashMedia} models exactly that: it counts every write, lets the
 * first `k - 1` complete, lands only a prefix of the k-th (a multiple of 8
 * bytes) and then refuses every further access with {@link PowerFailure}.
 * Re-opening the underlying media afterwards is "rebooting".
 */

import { KernelError, checkUnsigned } from '@zonedev/kernel';
import type { PhysMem } from '@zonedev/mmzone';

/**
 * A byte-addressed store (`rw_bytes` of a namespace, or a DIMM's config
 * data). `read` fills `dst` from `offset`; `write` stores `src` at `offset`.
 * Both throw KernelError (EIO for a media error) and change nothing then.
 * `isPoisoned`, if present, reports known media errors (badblocks) in a range,
 * which `btt_is_badblock()` consults. The buffers belong to the caller: an
 * implementation copies from or into them and keeps no reference.
 * @public
 */
export interface NdMedia {
  readonly size: number;
  read(offset: number, dst: Uint8Array): void;
  write(offset: number, src: Uint8Array): void;
  isPoisoned?(offset: number, len: number): boolean;
  /**
   * The little-endian 32-bit word at `offset` (4-byte aligned), as
   * {@link NdMedia.read} of 4 bytes would give it: an optional fast path
   * for the BTT's map entries.
   */
  readU32?(offset: number): number;
}

/** Validates an access of `len` bytes at `offset` against a media size. */
export function checkMediaRange(fn: string, media: NdMedia, offset: unknown, len: number): asserts offset is number {
  checkUnsigned(fn, 'offset', offset);
  checkUnsigned(fn, 'length', len);
  if (offset > media.size || len > media.size - offset) {
    throw new KernelError('ENXIO', `${fn}: access 0x${offset.toString(16)}+0x${len.toString(16)} beyond media size 0x${media.size.toString(16)}`);
  }
}

const PAGE = 4096;

function isZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/**
 * Sparse in-memory media: 4 KiB pages allocated on first non-zero write, so a
 * 1 TiB namespace costs only what was written. Unwritten bytes read as zero.
 * {@link MemoryMedia.clone} is copy-on-write (a snapshot of the image in
 * O(pages written)). Poisoned 512-byte sectors model badblocks: a read that
 * touches one throws EIO; a write covering a whole poisoned sector clears it,
 * as `nsio_rw_bytes()` clears poison on an aligned write.
 * @public
 */
export class MemoryMedia implements NdMedia {
  readonly size: number;
  private pages: Map<number, Uint8Array>;
  private owned: Set<number>;
  private poison: Set<number>;

  constructor(size: number) {
    checkUnsigned('MemoryMedia', 'size', size);
    this.size = size;
    this.pages = new Map();
    this.owned = new Set();
    this.poison = new Set();
  }

  /**
   * The last two pages looked up (page number, and the page or undefined for
   * an unwritten one): a BTT write touches its log page twice and its map
   * page twice, a BTT read its map page twice, between data pages, so those
   * accesses skip the table.
   */
  private c0 = -1;
  private c0p: Uint8Array | undefined;
  private c1 = -1;
  private c1p: Uint8Array | undefined;

  private page(pg: number): Uint8Array | undefined {
    if (pg === this.c0) return this.c0p;
    if (pg === this.c1) {
      const p = this.c1p;
      this.c1 = this.c0;
      this.c1p = this.c0p;
      this.c0 = pg;
      this.c0p = p;
      return p;
    }
    const p = this.pages.get(pg);
    this.c1 = this.c0;
    this.c1p = this.c0p;
    this.c0 = pg;
    this.c0p = p;
    return p;
  }

  private setPage(pg: number, page: Uint8Array): void {
    this.pages.set(pg, page);
    if (pg === this.c0) this.c0p = page;
    else if (pg === this.c1) this.c1p = page;
  }

  /** A copy-on-write snapshot of the whole image, poison included. */
  clone(): MemoryMedia {
    const m = new MemoryMedia(this.size);
    m.pages = new Map(this.pages);
    this.owned = new Set();
    m.poison = new Set(this.poison);
    return m;
  }

  /** Number of 4 KiB pages holding data (host memory in use). */
  get pagesInUse(): number {
    return this.pages.size;
  }

  /** {@link NdMedia.readU32}: one aligned map entry without a buffer. */
  readU32(offset: number): number {
    if (!(Number.isSafeInteger(offset) && offset >= 0 && Math.floor(offset / 4) * 4 === offset && offset + 4 <= this.size)) {
      const b = new Uint8Array(4);
      this.read(offset, b);
      return b[0]! + b[1]! * 0x100 + b[2]! * 0x10000 + b[3]! * 0x1000000;
    }
    if (this.poison.size > 0 && this.isPoisoned(offset, 4)) throw new KernelError('EIO', 'media error');
    const first = Math.floor(offset / PAGE);
    const page = this.page(first);
    if (page === undefined) return 0;
    const at = offset - first * PAGE;
    return page[at]! + page[at + 1]! * 0x100 + page[at + 2]! * 0x10000 + page[at + 3]! * 0x1000000;
  }

  read(offset: number, dst: Uint8Array): void {
    checkBytes('MemoryMedia.read', dst);
    if (!(Number.isSafeInteger(offset) && offset >= 0 && offset + dst.length <= this.size)) {
      checkMediaRange('MemoryMedia.read', this, offset, dst.length);
    }
    if (this.poison.size > 0 && this.isPoisoned(offset, dst.length)) throw new KernelError('EIO', 'media error');
    const first = Math.floor(offset / PAGE);
    const at = offset - first * PAGE;
    if (at + dst.length <= PAGE) {
      // the common case: within one page
      const page = this.page(first);
      if (page === undefined) dst.fill(0);
      else if (dst.length <= 16) for (let i = 0; i < dst.length; i++) dst[i] = page[at + i] as number;
      else dst.set(at === 0 && dst.length === PAGE ? page : page.subarray(at, at + dst.length));
      return;
    }
    let done = 0;
    while (done < dst.length) {
      const pos = offset + done;
      const pg = Math.floor(pos / PAGE);
      const inPage = pos - pg * PAGE;
      const n = Math.min(PAGE - inPage, dst.length - done);
      const page = this.page(pg);
      if (page === undefined) dst.fill(0, done, done + n);
      else dst.set(page.subarray(inPage, inPage + n), done);
      done += n;
    }
  }

  write(offset: number, src: Uint8Array): void {
    checkBytes('MemoryMedia.write', src);
    if (!(Number.isSafeInteger(offset) && offset >= 0 && offset + src.length <= this.size)) {
      checkMediaRange('MemoryMedia.write', this, offset, src.length);
    }
    const first = Math.floor(offset / PAGE);
    const at = offset - first * PAGE;
    if (at + src.length <= PAGE && src.length <= 16 && this.poison.size === 0) {
      // small in-page store (log halves, map entries)
      let page = this.page(first);
      if (page !== undefined && !this.owned.has(first)) {
        page = page.slice();
        this.setPage(first, page);
        this.owned.add(first);
      }
      if (page === undefined) {
        if (isZero(src)) return;
        page = new Uint8Array(PAGE);
        this.setPage(first, page);
        this.owned.add(first);
      }
      for (let i = 0; i < src.length; i++) page[at + i] = src[i] as number;
      return;
    }
    let done = 0;
    while (done < src.length) {
      const pos = offset + done;
      const pg = Math.floor(pos / PAGE);
      const inPage = pos - pg * PAGE;
      const n = Math.min(PAGE - inPage, src.length - done);
      const chunk = src.subarray(done, done + n);
      let page = this.page(pg);
      if (page === undefined) {
        if (!isZero(chunk)) {
          page = new Uint8Array(PAGE);
          page.set(chunk, inPage);
          this.setPage(pg, page);
          this.owned.add(pg);
        }
      } else {
        if (!this.owned.has(pg)) {
          page = page.slice();
          this.setPage(pg, page);
          this.owned.add(pg);
        }
        page.set(chunk, inPage);
      }
      done += n;
    }
    // A write clears the poison of every 512-byte sector it covers whole.
    if (this.poison.size > 0) {
      for (let s = Math.ceil(offset / 512); (s + 1) * 512 <= offset + src.length; s++) this.poison.delete(s);
    }
  }

  isPoisoned(offset: number, len: number): boolean {
    checkMediaRange('MemoryMedia.isPoisoned', this, offset, len);
    if (this.poison.size === 0 || len === 0) return false;
    for (let s = Math.floor(offset / 512); s * 512 < offset + len; s++) if (this.poison.has(s)) return true;
    return false;
  }

  /** Marks the 512-byte sectors of `[offset, offset + len)` bad (`ndctl inject-error`). */
  injectPoison(offset: number, len: number): void {
    checkMediaRange('MemoryMedia.injectPoison', this, offset, len);
    for (let s = Math.floor(offset / 512); s * 512 < offset + len; s++) this.poison.add(s);
  }
}

/**
 * A namespace's bytes in the machine's physical memory: `[start, start +
 * size)` of a {@link PhysMem} (where a platform registers an NVDIMM's
 * persistent backing), as `nsio_rw_bytes()` reaches them through the
 * namespace's mapping. `isBad`, if given, reports the namespace's badblocks
 * (byte range relative to the namespace): reads over them give EIO, as
 * `nsio_rw_bytes()` returns.
 * @public
 */
export class PhysMemMedia implements NdMedia {
  readonly size: number;
  private readonly mem: PhysMem;
  private readonly start: number;
  private readonly isBad: ((offset: number, len: number) => boolean) | undefined;

  constructor(mem: PhysMem, start: number, size: number, isBad?: (offset: number, len: number) => boolean) {
    if (typeof mem !== 'object' || mem === null || typeof mem.readInto !== 'function') throw new KernelError('EINVAL', `PhysMemMedia: not physical memory: ${String(mem)}`);
    if (isBad !== undefined && typeof isBad !== 'function') throw new KernelError('EINVAL', 'PhysMemMedia: isBad is not a function');
    checkUnsigned('PhysMemMedia', 'start', start);
    checkUnsigned('PhysMemMedia', 'size', size, Number.MAX_SAFE_INTEGER - start);
    this.mem = mem;
    this.start = start;
    this.size = size;
    this.isBad = isBad;
  }

  read(offset: number, dst: Uint8Array): void {
    checkBytes('nsio_rw_bytes', dst);
    checkMediaRange('nsio_rw_bytes', this, offset, dst.length);
    if (this.isPoisoned(offset, dst.length)) throw new KernelError('EIO', 'media error');
    this.mem.readInto(this.start + offset, dst);
  }

  write(offset: number, src: Uint8Array): void {
    checkBytes('nsio_rw_bytes', src);
    checkMediaRange('nsio_rw_bytes', this, offset, src.length);
    this.mem.write(this.start + offset, src);
  }

  isPoisoned(offset: number, len: number): boolean {
    checkMediaRange('nsio_rw_bytes', this, offset, len);
    return this.isBad?.(offset, len) ?? false;
  }
}

/**
 * The error every access raises once the power has failed.
 * @public
 */
export class PowerFailure extends Error {
  constructor() {
    super('power failure');
    this.name = 'PowerFailure';
  }
}

/**
 * Fault injection "power fails during the k-th write to the media". Writes
 * `1 .. k-1` reach `inner` whole; write `k` lands only its first `tornBytes`
 * bytes (rounded down to a multiple of 8, the size of an atomic store; 0 means
 * none of it), then the access throws {@link PowerFailure}, as does every
 * access after it. With `crashAt` 0 nothing fails and the wrapper just counts.
 * @public
 */
export class CrashMedia implements NdMedia {
  readonly inner: NdMedia;
  readonly crashAt: number;
  readonly tornBytes: number;
  /** Writes issued so far (including the one that failed). */
  writes = 0;
  /** Whether the power has failed. */
  failed = false;

  constructor(inner: NdMedia, crashAt: number = 0, tornBytes: number = 0) {
    if (typeof inner !== 'object' || inner === null || typeof inner.read !== 'function' || typeof inner.write !== 'function') {
      throw new KernelError('EINVAL', `CrashMedia: not a medium: ${String(inner)}`);
    }
    checkUnsigned('CrashMedia', 'crashAt', crashAt);
    checkUnsigned('CrashMedia', 'tornBytes', tornBytes);
    this.inner = inner;
    this.crashAt = crashAt;
    this.tornBytes = tornBytes - (tornBytes % 8);
  }

  get size(): number {
    return this.inner.size;
  }

  read(offset: number, dst: Uint8Array): void {
    checkBytes('CrashMedia.read', dst);
    checkMediaRange('CrashMedia.read', this, offset, dst.length);
    if (this.failed) throw new PowerFailure();
    this.inner.read(offset, dst);
  }

  write(offset: number, src: Uint8Array): void {
    checkBytes('CrashMedia.write', src);
    checkMediaRange('CrashMedia.write', this, offset, src.length);
    if (this.failed) throw new PowerFailure();
    this.writes += 1;
    if (this.writes === this.crashAt) {
      this.failed = true;
      const n = Math.min(this.tornBytes, src.length - 8);
      if (n > 0) this.inner.write(offset, src.subarray(0, n));
      throw new PowerFailure();
    }
    this.inner.write(offset, src);
  }

  isPoisoned(offset: number, len: number): boolean {
    checkMediaRange('CrashMedia.isPoisoned', this, offset, len);
    return this.inner.isPoisoned?.(offset, len) ?? false;
  }
}

/** EINVAL unless `b` is a byte buffer. */
function checkBytes(fn: string, b: unknown): asserts b is Uint8Array {
  if (!(b instanceof Uint8Array)) throw new KernelError('EINVAL', `${fn}: not a byte buffer: ${String(b)}`);
}
