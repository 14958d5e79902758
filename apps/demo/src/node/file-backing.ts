/**
 * QEMU's `memory-backend-file` with `share=on` (backends/hostmem-file.c,
 * softmmu/physmem.c `file_ram_alloc()`) over Node's file system: guest
 * memory that is a host file, written through as the guest writes, so it
 * outlives the machine. The CLI hands {@link nodeBackingStore} to
 * `bootMachine()` (`@zonedev/platform` declares the interface and never
 * touches a host file itself).
 *
 * The file is opened read-write (created if missing) and, when shorter than
 * `size`, extended with `ftruncate()`: a sparse file whose holes read as
 * zeros, as QEMU leaves it. A non-empty file shorter than `size` is
 * QEMU's error "backing store size 0x%x does not match 'size' option 0x%x".
 * A file longer than `size` is used for its first `size` bytes.
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { BackendError, type BackingStore, type BackingStoreFactory } from '@zonedev/platform';

/** A byte range of a host file as guest memory. */
export class FileBacking implements BackingStore {
  readonly size: number;
  readonly path: string;
  private fd: number | undefined;

  /** Opens (or creates) `path` for a backend of `size` bytes; throws BackendError with QEMU's message. */
  constructor(path: string, size: number) {
    if (!Number.isSafeInteger(size) || size <= 0) throw new BackendError("can't create backend with size 0");
    let fd: number;
    try {
      fd = openSync(path, 'a+');
      closeSync(fd);
      fd = openSync(path, 'r+');
    } catch (e) {
      throw new BackendError(`can't open backing store ${path} for guest RAM: ${describe(e)}`);
    }
    const fileSize = fstatSync(fd).size;
    if (fileSize > 0 && fileSize < size) {
      closeSync(fd);
      throw new BackendError(`backing store size 0x${fileSize.toString(16)} does not match 'size' option 0x${size.toString(16)}`);
    }
    if (fileSize < size) ftruncateSync(fd, size);
    this.fd = fd;
    this.path = path;
    this.size = size;
  }

  /** Host bytes actually allocated are the file system's business: the model counts none. */
  get bytesAllocated(): number {
    return 0;
  }

  read(offset: number, dst: Uint8Array): void {
    this.check(offset, dst.length);
    let done = 0;
    while (done < dst.length) {
      const n = readSync(this.open(), dst, done, dst.length - done, offset + done);
      if (n === 0) {
        dst.fill(0, done);
        return;
      }
      done += n;
    }
  }

  write(offset: number, src: Uint8Array): void {
    this.check(offset, src.length);
    let done = 0;
    while (done < src.length) done += writeSync(this.open(), src, done, src.length - done, offset + done);
  }

  zero(offset: number, length: number): void {
    this.check(offset, length);
    const chunk = new Uint8Array(Math.min(length, 2 ** 20));
    for (let o = 0; o < length; o += chunk.length) this.write(offset + o, chunk.subarray(0, Math.min(chunk.length, length - o)));
  }

  /** Closes the file (the machine is gone); later accesses fail. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private open(): number {
    if (this.fd === undefined) throw new Error(`${this.path}: backend closed`);
    return this.fd;
  }

  private check(offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0 || offset + length > this.size) {
      throw new RangeError(`${this.path}: access ${offset}+${length} beyond ${this.size}`);
    }
  }
}

/** Opens the host file `path` as the store of a `size`-byte `memory-backend-file`. */
export const nodeBackingStore: BackingStoreFactory = (path, size) => new FileBacking(path, size);

function describe(e: unknown): string {
  const code = (e as { code?: string }).code;
  if (code === 'ENOENT') return 'No such file or directory';
  if (code === 'EACCES') return 'Permission denied';
  if (code === 'EISDIR') return 'Is a directory';
  return e instanceof Error ? e.message : String(e);
}
