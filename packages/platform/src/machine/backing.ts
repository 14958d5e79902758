/**
 * The host side of QEMU's `memory-backend-file` (backends/hostmem-file.c,
 * softmmu/physmem.c `file_ram_alloc()`): guest memory that is a host file.
 *
 * The machine never touches a host file system itself (it runs in a
 * browser as it is): whoever boots it hands it a {@link BackingStoreFactory}
 * in the boot options, which opens the store behind each `mem-path`. The
 * demo's command line passes one over Node's file system (a sparse file,
 * written through, so that an NVDIMM's labels, info blocks and data outlive
 * the machine, as QEMU's `share=on` file does). Without one, each backend
 * is an in-memory store that is gone with the machine.
 *
 * A factory reports the failures QEMU reports, with QEMU's text, as a
 * {@link BackendError}: `can't open backing store FILE for guest RAM: ...`,
 * `backing store size 0x... does not match 'size' option 0x...`.
 */
import { SparseBacking } from '@zonedev/mmzone';
import type { PhysBacking } from '@zonedev/mmzone';

/**
 * An error QEMU reports for a memory backend it cannot create, or for
 * NVDIMM settings it refuses when the machine starts; the message is QEMU's.
 *
 * @public
 */
export class BackendError extends Error {
  /** An error with QEMU's `message`. */
  constructor(message: string) {
    super(message);
    this.name = 'BackendError';
  }
}

/**
 * The bytes behind one `memory-backend-file`: `size` bytes that read as
 * zeros until written. `read`/`write`/`zero` take byte offsets inside the
 * store (the machine never asks beyond `size`).
 *
 * @public
 */
export interface BackingStore extends PhysBacking {
  /** Releases the store (the machine that used it is gone). Later accesses may fail. */
  close(): void;
}

/**
 * Opens (or creates) the store of `mem-path` `path` for a backend of `size`
 * bytes. Throws a {@link BackendError} with QEMU's message when it cannot.
 *
 * @public
 */
export type BackingStoreFactory = (path: string, size: number) => BackingStore;

/** The default {@link BackingStoreFactory}: a sparse in-memory store per backend, lost with the machine. */
export function memoryBackingStore(_path: string, size: number): BackingStore {
  if (!Number.isSafeInteger(size) || size <= 0) throw new BackendError("can't create backend with size 0");
  const store = new SparseBacking(size, 4096);
  return {
    size,
    get bytesAllocated(): number {
      return store.bytesAllocated;
    },
    read: (offset, dst) => store.read(offset, dst),
    write: (offset, src) => store.write(offset, src),
    zero: (offset, length) => store.zero(offset, length),
    close: (): void => undefined,
  };
}

/** `[offset, offset + size)` of a backing as a backing of its own (QEMU's NVDIMM: data, then the label area). */
export function backingWindow(b: PhysBacking, offset: number, size: number): PhysBacking {
  if (offset + size > b.size) throw new RangeError(`window ${offset}+${size} beyond ${b.size}`);
  return {
    size,
    bytesAllocated: 0,
    read: (o, dst) => {
      if (o + dst.length > size) throw new RangeError(`access ${o}+${dst.length} beyond ${size}`);
      b.read(offset + o, dst);
    },
    write: (o, src) => {
      if (o + src.length > size) throw new RangeError(`access ${o}+${src.length} beyond ${size}`);
      b.write(offset + o, src);
    },
    zero: (o, length) => {
      if (o + length > size) throw new RangeError(`access ${o}+${length} beyond ${size}`);
      b.zero(offset + o, length);
    },
  };
}
