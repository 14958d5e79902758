/**
 * The machine's `/dev` (devtmpfs): the memory character devices every Linux
 * system has, and the block devices its drivers register.
 *
 * ```
 *   /dev/null     drivers/char/mem.c   reads end at once, writes vanish
 *   /dev/zero     drivers/char/mem.c   reads are zeros
 *   /dev/urandom  drivers/char/random.c  bytes of the machine's seeded generator
 *   /dev/pmemN    drivers/nvdimm/pmem.c  (a disk registered by the pmem driver)
 * ```
 *
 * `/dev/urandom` is seeded from the machine's seed (`zonedev run --seed`),
 * so what a program draws from it (ndctl's uuids) is the same on every run
 * of the same commands. Block devices are asked for on every lookup: a
 * disk is there exactly while its driver has it registered.
 */
import { Prandom } from '@zonedev/kernel';
import { DEV_NULL, DEV_ZERO, DevFs, type DeviceNode } from '../shell/vfs.js';

/** The block devices of a machine, by name (`pmem0`), as its drivers have them now. */
export type BlockDevices = () => ReadonlyMap<string, DeviceNode>;

/** `/dev/urandom` drawing from `rng`: every read takes the next bytes of the stream. */
function urandom(rng: Prandom): DeviceNode {
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

/** The machine's devtmpfs: null, zero, urandom, and the block devices `blocks` lists. */
export function machineDevtmpfs(seed: number, blocks: BlockDevices = () => new Map()): DevFs {
  const rng = new Prandom(seed);
  const chars: ReadonlyMap<string, DeviceNode> = new Map([
    ['null', DEV_NULL],
    ['urandom', urandom(rng)],
    ['zero', DEV_ZERO],
  ]);
  return new DevFs(() => new Map([...chars, ...blocks()]));
}
