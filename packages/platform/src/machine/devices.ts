/**
 * The machine's device files: what devtmpfs (drivers/base/devtmpfs.c) puts
 * in `/dev` — the memory character devices every Linux system has, and the
 * devices its drivers register.
 *
 * ```
 *   null           drivers/char/mem.c      reads end at once, writes vanish
 *   zero           drivers/char/mem.c      reads are zeros
 *   urandom        drivers/char/random.c   bytes of the machine's seeded generator
 *   pmemN          drivers/nvdimm/pmem.c   a disk registered by the pmem driver
 *   daxN.M         drivers/dax/device.c    a device-dax character device
 *   nmemN          drivers/nvdimm/bus.c    an NVDIMM's label area (config data)
 *   hmm_dmirrorN   lib/test_hmm.c          while test_hmm is loaded
 * ```
 *
 * A front-end (the demo's shell, a browser terminal) reaches them through
 * {@link DeviceFile}: `pread`/`pwrite`-like calls at any offset. `urandom`
 * is seeded from the machine's seed, so what a program draws from it is the
 * same on every run of the same commands. The driver-registered devices are
 * asked for on every lookup: a disk is there exactly while its driver has it.
 */
import { Prandom } from '@zonedev/kernel';

/**
 * One device file of `/dev`, as its driver's file operations serve it: a
 * block device (a gendisk of `size()` bytes) or a character device (a stream
 * without a size). Errors are `KernelError`s (a device-dax node refuses
 * read and write with EINVAL, as `dax_fops` has neither).
 *
 * @public
 */
export interface DeviceFile {
  /** A block or a character device. */
  readonly kind: 'block' | 'char';
  /** The capacity in bytes (block devices), undefined for a character device. */
  size(): number | undefined;
  /** Up to `length` bytes at `offset` (a block device returns fewer at its end). */
  read(offset: number, length: number): Uint8Array;
  /** Writes `data` at `offset`; returns how many bytes were taken. */
  write(offset: number, data: Uint8Array): number;
}

/** The device files of a machine, by name (`pmem0`), as its drivers have them now. */
export type DeviceFiles = () => ReadonlyMap<string, DeviceFile>;

/** `/dev/null` (`null_fops`). */
const DEV_NULL: DeviceFile = {
  kind: 'char',
  size: () => undefined,
  read: () => new Uint8Array(0),
  write: (_offset, data) => data.length,
};

/** `/dev/zero` (`zero_fops`). */
const DEV_ZERO: DeviceFile = {
  kind: 'char',
  size: () => undefined,
  read: (_offset, length) => new Uint8Array(length),
  write: (_offset, data) => data.length,
};

/** `/dev/urandom` drawing from `rng`: every read takes the next bytes of the stream (`urandom_read()`). */
function urandom(rng: Prandom): DeviceFile {
  return {
    kind: 'char',
    size: () => undefined,
    read: (_offset, length) => {
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i += 4) {
        let v = rng.u32();
        for (let j = 0; j < 4 && i + j < length; j++) {
          out[i + j] = v % 256;
          v = Math.floor(v / 256);
        }
      }
      return out;
    },
    write: (_offset, data) => data.length,
  };
}

/** The machine's devtmpfs: null, zero, urandom, and the devices `drivers` lists. */
export function machineDevtmpfs(seed: number, drivers: DeviceFiles): DeviceFiles {
  const rng = new Prandom(seed);
  const chars: ReadonlyMap<string, DeviceFile> = new Map([
    ['null', DEV_NULL],
    ['urandom', urandom(rng)],
    ['zero', DEV_ZERO],
  ]);
  return () => new Map([...chars, ...drivers()]);
}
