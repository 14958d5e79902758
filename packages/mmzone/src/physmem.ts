/**
 * Physical memory contents: what the bytes at a physical address are.
 *
 * The struct page store says what the kernel knows *about* a page; this store
 * holds the page's *data*, for the code that reads and writes it:
 * `clear_page()`, `copy_highpage()` (include/linux/highmem.h), migration,
 * the pmem block driver, DAX. A machine has one {@link PhysMem}. It is sparse:
 * a page that was never written reads as zeros and costs no host memory; a
 * written page costs its page size.
 *
 * Ranges of the physical address space can be given their own backing, a
 * {@link PhysBacking}. Everything else is ordinary RAM, whose contents live
 * and die with the machine. A persistent memory device, in contrast, owns a
 * backing object that outlives any machine: the platform registers it when
 * the machine boots and unregisters it at shutdown, and the data written
 * through this store survives the restart, as data on an NVDIMM does. A
 * hot-added DIMM can bring its own backing the same way.
 */
import { KernelError, checkPhysRange, checkUnsigned, isPowerOf2 } from '@zonedev/kernel';

/**
 * Storage for a range of physical memory. Offsets are relative to the start
 * of the range the backing is registered at.
 * @public
 */
export interface PhysBacking {
  /** Size in bytes. */
  readonly size: number;
  /** Fills `dst` with the bytes at `offset`. */
  read(offset: number, dst: Uint8Array): void;
  /** Stores `src` at `offset`. */
  write(offset: number, src: Uint8Array): void;
  /** Zeroes `length` bytes at `offset` (a sparse backing may free them). */
  zero(offset: number, length: number): void;
  /** Host bytes the backing holds. */
  readonly bytesAllocated: number;
}

/** Bytes of one slab of page frames (at least one page). */
const SLAB_BYTES = 256 * 1024;

/**
 * A sparse backing: pages of `pageSize` bytes allocated on first write,
 * unwritten bytes read as zero. Usable on its own as the media of a
 * persistent-memory device that must survive machine restarts.
 *
 * Written pages live in slabs (256 KiB ArrayBuffers holding several page
 * frames each) rather than one buffer per page: allocating, freeing and
 * copying a page is then a slot taken from or returned to a slab and one
 * `set()`, with no host allocation and no garbage per page, which is what
 * makes page-by-page copies (`copy_highpage()` in migration) cost close to
 * one copy of the same bytes. A slab whose pages are all freed is released.
 * @public
 */
export class SparseBacking implements PhysBacking {
  readonly size: number;
  /** Granule of allocation (the page size). */
  readonly pageSize: number;
  /** Page number to slot: slot `s` is frame `s % slabPages` of slab `floor(s / slabPages)`. */
  private readonly slots = new Map<number, number>();
  /** Frames per slab. */
  private readonly slabPages: number;
  private readonly invSlabPages: number;
  /** The slabs (undefined: released). */
  private slabs: (Uint8Array | undefined)[] = [];
  /** Per slab: its free frames (a stack of frame numbers) and how many there are. */
  private slabFree: Int32Array[] = [];
  private slabFreeCount: number[] = [];
  /** Slabs that may have free frames (checked when popped). */
  private partial: number[] = [];
  private inPartial: boolean[] = [];
  /** Released slab numbers, for reuse. */
  private released: number[] = [];

  constructor(size: number, pageSize: number = 4096) {
    checkUnsigned('sparse_backing', 'size', size);
    checkUnsigned('sparse_backing', 'page size', pageSize, 2 ** 30);
    if (pageSize === 0 || !isPowerOf2(pageSize)) throw new KernelError('EINVAL', `sparse_backing: page size ${pageSize} is not a power of two`);
    this.size = size;
    this.pageSize = pageSize;
    this.slabPages = Math.max(1, Math.floor(SLAB_BYTES / pageSize));
    this.invSlabPages = 1 / this.slabPages;
  }

  private check(offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0 || offset + length > this.size) {
      throw new KernelError('EINVAL', `access [${offset}, +${length}) outside a backing of ${this.size} bytes`);
    }
  }

  /** The slab of slot `s`. */
  private slabOf(s: number): Uint8Array {
    return this.slabs[Math.floor(s * this.invSlabPages)]!;
  }

  /** The byte offset of slot `s` in its slab. */
  private offsetOf(s: number): number {
    return (s - Math.floor(s * this.invSlabPages) * this.slabPages) * this.pageSize;
  }

  /** A free frame for page `pg` (its bytes are not cleared: the caller writes the whole page or clears it). */
  private allocSlot(pg: number): number {
    let k = -1;
    while (this.partial.length > 0) {
      const c = this.partial[this.partial.length - 1]!;
      if (this.slabs[c] !== undefined && this.slabFreeCount[c]! > 0) {
        k = c;
        break;
      }
      this.partial.pop();
      this.inPartial[c] = false;
    }
    if (k < 0) {
      k = this.released.pop() ?? this.slabs.length;
      const n = this.slabPages;
      this.slabs[k] = new Uint8Array(n * this.pageSize);
      const free = new Int32Array(n);
      for (let i = 0; i < n; i++) free[i] = n - 1 - i;
      this.slabFree[k] = free;
      this.slabFreeCount[k] = n;
      this.partial.push(k);
      this.inPartial[k] = true;
    }
    const frame = this.slabFree[k]![--this.slabFreeCount[k]!]!;
    const s = k * this.slabPages + frame;
    this.slots.set(pg, s);
    return s;
  }

  /** Frees page `pg`'s frame (`s`); a slab left empty is released. */
  private freeSlot(pg: number, s: number): void {
    this.slots.delete(pg);
    const k = Math.floor(s * this.invSlabPages);
    const frame = s - k * this.slabPages;
    const n = ++this.slabFreeCount[k]!;
    this.slabFree[k]![n - 1] = frame;
    if (n === this.slabPages) {
      this.slabs[k] = undefined;
      this.slabFree[k] = EMPTY_FREE;
      this.slabFreeCount[k] = 0;
      this.released.push(k);
    } else if (!this.inPartial[k]) {
      this.partial.push(k);
      this.inPartial[k] = true;
    }
  }

  /** A fresh, zeroed frame for page `pg`. */
  private zeroedSlot(pg: number): number {
    const s = this.allocSlot(pg);
    const o = this.offsetOf(s);
    this.slabOf(s).fill(0, o, o + this.pageSize);
    return s;
  }

  read(offset: number, dst: Uint8Array): void {
    checkBuffer('read', dst);
    this.check(offset, dst.length);
    const ps = this.pageSize;
    let done = 0;
    while (done < dst.length) {
      const at = offset + done;
      const pg = Math.floor(at / ps);
      const off = at - pg * ps;
      const n = Math.min(ps - off, dst.length - done);
      const s = this.slots.get(pg);
      if (s === undefined) dst.fill(0, done, done + n);
      else {
        const o = this.offsetOf(s) + off;
        dst.set(this.slabOf(s).subarray(o, o + n), done);
      }
      done += n;
    }
  }

  write(offset: number, src: Uint8Array): void {
    checkBuffer('write', src);
    this.check(offset, src.length);
    const ps = this.pageSize;
    let done = 0;
    while (done < src.length) {
      const at = offset + done;
      const pg = Math.floor(at / ps);
      const off = at - pg * ps;
      const n = Math.min(ps - off, src.length - done);
      let s = this.slots.get(pg);
      if (s === undefined) s = n === ps ? this.allocSlot(pg) : this.zeroedSlot(pg);
      this.slabOf(s).set(n === src.length ? src : src.subarray(done, done + n), this.offsetOf(s) + off);
      done += n;
    }
  }

  /**
   * Stores the `length` bytes of `src` at `srcOffset` at `dstOffset` of this
   * backing, as `copy_highpage()` and `memcpy()` between two frames do. When
   * `src` is a SparseBacking of the same page size, whole pages move from
   * page to page with no intermediate buffer, and a page `src` never wrote
   * leaves the destination page unwritten (free). Overlapping ranges of one
   * backing copy as `memmove()` does. Throws KernelError EINVAL outside either
   * backing (nothing copied).
   */
  copyFrom(src: PhysBacking, srcOffset: number, dstOffset: number, length: number): void {
    checkUnsigned('copy', 'length', length);
    checkBacking('copy', src);
    this.check(dstOffset, length);
    if (!Number.isSafeInteger(srcOffset) || srcOffset < 0 || srcOffset + length > src.size) {
      throw new KernelError('EINVAL', `access [${srcOffset}, +${length}) outside a backing of ${src.size} bytes`);
    }
    if (src === this && srcOffset < dstOffset + length && dstOffset < srcOffset + length) {
      if (srcOffset === dstOffset) return;
      const tmp = new Uint8Array(length);
      this.read(srcOffset, tmp);
      this.write(dstOffset, tmp);
      return;
    }
    const ps = this.pageSize;
    const sparse = src instanceof SparseBacking && src.pageSize === ps ? src : undefined;
    let done = 0;
    while (done < length) {
      const at = dstOffset + done;
      const pg = Math.floor(at / ps);
      const off = at - pg * ps;
      const n = Math.min(ps - off, length - done);
      const from = srcOffset + done;
      if (sparse !== undefined && n === ps && from % ps === 0) {
        const ss = sparse.slots.get(from / ps);
        const ds = this.slots.get(pg);
        if (ss === undefined) {
          if (ds !== undefined) this.freeSlot(pg, ds);
        } else {
          const d = ds ?? this.allocSlot(pg);
          const so = sparse.offsetOf(ss);
          this.slabOf(d).set(sparse.slabOf(ss).subarray(so, so + ps), this.offsetOf(d));
        }
      } else {
        let s = this.slots.get(pg);
        s ??= this.zeroedSlot(pg);
        const o = this.offsetOf(s) + off;
        src.read(from, this.slabOf(s).subarray(o, o + n));
      }
      done += n;
    }
  }

  zero(offset: number, length: number): void {
    this.check(offset, length);
    const ps = this.pageSize;
    let done = 0;
    while (done < length) {
      const at = offset + done;
      const pg = Math.floor(at / ps);
      const off = at - pg * ps;
      const n = Math.min(ps - off, length - done);
      const s = this.slots.get(pg);
      if (s !== undefined) {
        if (off === 0 && n === ps) this.freeSlot(pg, s);
        else {
          const o = this.offsetOf(s) + off;
          this.slabOf(s).fill(0, o, o + n);
        }
      }
      done += n;
    }
  }

  get bytesAllocated(): number {
    return this.slots.size * this.pageSize;
  }

  /** Pages holding data. */
  get pagesAllocated(): number {
    return this.slots.size;
  }
}

const EMPTY_FREE = new Int32Array(0);

/** One registered backing, with an exclusive end. */
interface BackingSlot {
  readonly start: number;
  readonly end: number;
  readonly backing: PhysBacking;
  readonly name: string;
}

/**
 * A registered backing, as {@link PhysMem.ranges} lists it: `size` bytes
 * from `start` are stored by `backing`. (Not a `struct range`: this has a
 * size, not an inclusive end, and names the store behind it.)
 * @public
 */
export interface RegisteredBacking {
  readonly start: number;
  readonly size: number;
  readonly name: string;
  readonly backing: PhysBacking;
}

/**
 * The physical memory contents of one machine.
 * @public
 */
export class PhysMem {
  /** `PAGE_SHIFT`. */
  readonly pageShift: number;
  /** `PAGE_SIZE`. */
  readonly pageSize: number;
  private readonly ram: SparseBacking;
  private readonly rangesSorted: BackingSlot[] = [];

  constructor(pageShift: number) {
    checkUnsigned('physmem', 'PAGE_SHIFT', pageShift, 30);
    this.pageShift = pageShift;
    this.pageSize = 2 ** pageShift;
    this.ram = new SparseBacking(2 ** 53 - 1 - (2 ** 53 - 1) % this.pageSize, this.pageSize);
    this.pieceBacking = this.ram;
  }

  /**
   * Gives `[start, start + size)` its own backing. -EINVAL unless page-aligned
   * and within the backing's size, -EBUSY if it overlaps a registered range.
   * The bytes of the range now come from the backing; ordinary RAM contents
   * previously written there are hidden, not copied.
   */
  registerBacking(start: number, size: number, backing: PhysBacking, name: string = 'backing'): void {
    checkPhysRange('register_backing', start, size);
    checkBacking('register_backing', backing);
    if (typeof name !== 'string') throw new KernelError('EINVAL', `register_backing: invalid name ${String(name)}`);
    if (start % this.pageSize !== 0 || size % this.pageSize !== 0 || size <= 0 || start < 0) {
      throw new KernelError('EINVAL', `backing range ${start}+${size} is not page aligned`);
    }
    if (size > backing.size) throw new KernelError('EINVAL', `backing of ${backing.size} bytes cannot cover ${size}`);
    const end = start + size;
    for (const r of this.rangesSorted) {
      if (start < r.end && r.start < end) throw new KernelError('EBUSY', `backing range overlaps ${r.name}`);
    }
    this.rangesSorted.push({ start, end, backing, name });
    this.rangesSorted.sort((a, b) => a.start - b.start);
  }

  /** Removes the backing registered at `start` and returns it. -EINVAL if none. */
  unregisterBacking(start: number): PhysBacking {
    checkUnsigned('unregister_backing', 'start', start);
    const i = this.rangesSorted.findIndex((r) => r.start === start);
    if (i < 0) throw new KernelError('EINVAL', `no backing registered at ${start}`);
    const [r] = this.rangesSorted.splice(i, 1);
    return r!.backing;
  }

  /** The registered backing ranges, by address. */
  ranges(): RegisteredBacking[] {
    return this.rangesSorted.map((r) => ({ start: r.start, size: r.end - r.start, name: r.name, backing: r.backing }));
  }

  private find(addr: number): BackingSlot | undefined {
    const rs = this.rangesSorted;
    let lo = 0;
    let hi = rs.length - 1;
    while (lo <= hi) {
      const mid = Math.floor((lo + hi) / 2);
      const r = rs[mid]!;
      if (addr < r.start) hi = mid - 1;
      else if (addr >= r.end) lo = mid + 1;
      else return r;
    }
    return undefined;
  }

  /** Throws KernelError EINVAL unless `addr`/`length` name a valid physical access. */
  private checkAccess(addr: number, length: number): void {
    if (!Number.isSafeInteger(addr) || addr < 0 || !Number.isSafeInteger(length) || length < 0 || length > this.ram.size - addr) {
      throw new KernelError('EINVAL', `invalid physical access ${String(addr)}+${String(length)}`);
    }
  }

  /** Backing of the piece {@link PhysMem.piece} found last. */
  private pieceBacking: PhysBacking;
  /** Offset in that backing. */
  private pieceOffset = 0;

  /**
   * The longest piece of `[a, a + remaining)` that falls in one backing:
   * sets pieceBacking/pieceOffset and returns the piece's length.
   */
  private piece(a: number, remaining: number): number {
    const rs = this.rangesSorted;
    if (rs.length === 0) {
      this.pieceBacking = this.ram;
      this.pieceOffset = a;
      return remaining;
    }
    const r = this.find(a);
    if (r !== undefined) {
      this.pieceBacking = r.backing;
      this.pieceOffset = a - r.start;
      return Math.min(remaining, r.end - a);
    }
    let next = Infinity;
    for (const x of rs) {
      if (x.start > a) {
        next = x.start;
        break;
      }
    }
    this.pieceBacking = this.ram;
    this.pieceOffset = a;
    return Math.min(remaining, next - a);
  }

  /** Fills `dst` with the bytes at physical address `addr`. */
  readInto(addr: number, dst: Uint8Array): void {
    checkBuffer('read', dst);
    const length = dst.length;
    this.checkAccess(addr, length);
    let done = 0;
    while (done < length) {
      const n = this.piece(addr + done, length - done);
      this.pieceBacking.read(this.pieceOffset, n === length ? dst : dst.subarray(done, done + n));
      done += n;
    }
  }

  /** The `length` bytes at physical address `addr` (a copy). */
  read(addr: number, length: number): Uint8Array {
    this.checkAccess(addr, length);
    const out = new Uint8Array(length);
    this.readInto(addr, out);
    return out;
  }

  /** Stores `src` at physical address `addr`. */
  write(addr: number, src: Uint8Array): void {
    checkBuffer('write', src);
    const length = src.length;
    this.checkAccess(addr, length);
    let done = 0;
    while (done < length) {
      const n = this.piece(addr + done, length - done);
      this.pieceBacking.write(this.pieceOffset, n === length ? src : src.subarray(done, done + n));
      done += n;
    }
  }

  /** Zeroes `length` bytes at `addr` (freeing whole unbacked RAM pages). */
  zero(addr: number, length: number): void {
    this.checkAccess(addr, length);
    let done = 0;
    while (done < length) {
      const n = this.piece(addr + done, length - done);
      this.pieceBacking.zero(this.pieceOffset, n);
      done += n;
    }
  }

  /** Reused page buffer for copies into a backing that is not a SparseBacking. */
  private scratch: Uint8Array | undefined = undefined;

  /**
   * `memcpy()` between two physical ranges: stores the `length` bytes at
   * `src` at `dst`, backing to backing. Pages of RAM or of a SparseBacking
   * move without an intermediate buffer, and a source page that was never
   * written leaves the destination page unwritten. Overlapping ranges copy
   * as `memmove()` does. Throws KernelError EINVAL for an invalid address or
   * length (nothing copied).
   */
  copy(dst: number, src: number, length: number): void {
    this.checkAccess(dst, length);
    this.checkAccess(src, length);
    if (length === 0 || dst === src) return;
    if (src < dst + length && dst < src + length) {
      this.write(dst, this.read(src, length));
      return;
    }
    let done = 0;
    while (done < length) {
      const sn = this.piece(src + done, length - done);
      const sb = this.pieceBacking;
      const so = this.pieceOffset;
      const n = this.piece(dst + done, sn);
      const db = this.pieceBacking;
      const dOff = this.pieceOffset;
      if (db instanceof SparseBacking) db.copyFrom(sb, so, dOff, n);
      else {
        const buf = (this.scratch ??= new Uint8Array(this.pageSize));
        for (let k = 0; k < n; k += buf.length) {
          const m = Math.min(buf.length, n - k);
          const part = m === buf.length ? buf : buf.subarray(0, m);
          sb.read(so + k, part);
          db.write(dOff + k, part);
        }
      }
      done += n;
    }
  }

  /** A little-endian u64 at `addr`, as the on-media formats store them. */
  readU64(addr: number): bigint {
    const b = this.read(addr, 8);
    return new DataView(b.buffer).getBigUint64(0, true);
  }

  /** Stores a little-endian u64 at `addr`. */
  writeU64(addr: number, v: bigint): void {
    if (typeof v !== 'bigint' || v < 0n || v >= 2n ** 64n) throw new KernelError('EINVAL', `writeq: invalid value ${String(v)}`);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v, true);
    this.write(addr, b);
  }

  /** `clear_page()`: zeroes the page frame `pfn`. */
  clearPage(pfn: number): void {
    checkUnsigned('clear_page', 'pfn', pfn);
    this.zero(pfn * this.pageSize, this.pageSize);
  }

  /** `copy_highpage(to, from)`: copies one page frame's contents to another. */
  copyHighpage(to: number, from: number): void {
    checkUnsigned('copy_highpage', 'to', to);
    checkUnsigned('copy_highpage', 'from', from);
    this.copy(to * this.pageSize, from * this.pageSize, this.pageSize);
  }

  /** The contents of page frame `pfn` (a copy). */
  readPage(pfn: number): Uint8Array {
    checkUnsigned('read_page', 'pfn', pfn);
    return this.read(pfn * this.pageSize, this.pageSize);
  }

  /** Host bytes held for ordinary RAM contents (backings not included). */
  get ramBytesAllocated(): number {
    return this.ram.bytesAllocated;
  }
}

/** EINVAL unless `b` is a byte buffer. */
function checkBuffer(fn: string, b: unknown): asserts b is Uint8Array {
  if (!(b instanceof Uint8Array)) throw new KernelError('EINVAL', `${fn}: not a byte buffer: ${String(b)}`);
}

/** EINVAL unless `b` is a {@link PhysBacking}: a size and the four accessors. */
function checkBacking(fn: string, b: unknown): asserts b is PhysBacking {
  const x = b as PhysBacking | null | undefined;
  if (typeof x !== 'object' || x === null || !Number.isSafeInteger(x.size) || x.size < 0 || typeof x.read !== 'function' || typeof x.write !== 'function' || typeof x.zero !== 'function') {
    throw new KernelError('EINVAL', `${fn}: not a backing: ${String(b)}`);
  }
}
