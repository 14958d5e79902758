/**
 * Fletcher64, the checksum of every libnvdimm on-media structure.
 *
 * The pfn and dax info blocks (`struct nd_pfn_sb`), the BTT arena info block
 * (`struct btt_sb`), the namespace index blocks and the v1.2 namespace labels
 * all carry a 64-bit Fletcher checksum. libnvdimm's variant works on 32-bit
 * words: a running sum `lo` of the words and a running sum `hi` of the `lo`
 * values, both kept modulo 2^32, and the result is `hi` in the upper half and
 * `lo` in the lower half of a u64:
 *
 * ```
 *   63                32 31                 0
 *  +--------------------+--------------------+
 *  |  hi = sum of lo's  |  lo = sum of words |
 *  +--------------------+--------------------+
 * ```
 *
 * A structure is checksummed with its own checksum field set to zero, so a
 * validator can recompute the value over the bytes it read and compare.
 *
 * The sums are kept in two `number` accumulators reduced modulo 2^32 at every
 * step (no value ever exceeds 2^33, far below 2^53), and the u64 result is a
 * `bigint`, the type the model uses for every on-media u64 field.
 */

import { KernelError, checkUnsigned } from '@zonedev/kernel';

const U32 = 0x1_0000_0000;
const U32N = 0x1_0000_0000n;
/** Size of every libnvdimm info block (`struct nd_gen_sb`, 4 KiB). */
const ND_SB_SIZE = 4096;

/**
 * `nd_fletcher64()` (drivers/nvdimm/core.c): the Fletcher64 of `data`, read as
 * `floor(data.length / 4)` 32-bit words (trailing bytes that do not fill a
 * word are ignored, as the kernel's `len / sizeof(u32)` loop ignores them).
 *
 * `le` = true reads every word little-endian (`le32_to_cpu`), which is what all
 * of libnvdimm's callers ask for. `le` = false takes the words in the CPU's own
 * order without conversion; the model reads them big-endian, the order of the
 * one CPU where the two differ (powerpc64 big-endian), so that both results
 * are reachable on any host.
 *
 * Throws KernelError EINVAL if `data` is not a Uint8Array.
 * @public
 */
export function ndFletcher64(data: Uint8Array, le: boolean): bigint {
  if (!(data instanceof Uint8Array)) {
    throw new KernelError('EINVAL', 'nd_fletcher64: data is not a byte array');
  }
  if (typeof le !== 'boolean') throw new KernelError('EINVAL', `nd_fletcher64: invalid le flag ${String(le)}`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const words = Math.floor(data.byteLength / 4);
  const littleEndian = le === true;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < words; i++) {
    lo = (lo + view.getUint32(i * 4, littleEndian)) % U32;
    hi = (hi + lo) % U32;
  }
  return BigInt(hi) * U32N + BigInt(lo);
}

/**
 * `nd_sb_checksum()` (drivers/nvdimm/claim.c): the checksum of a 4 KiB info
 * block (`struct nd_pfn_sb`, `struct btt_sb`), computed as
 * `nd_fletcher64(sb, 4096, le = true)` over the block with its 8-byte checksum
 * field at `checksumOffset` counted as zero. `sb` itself is not modified (the
 * kernel saves and restores the field; the model sums a copy).
 *
 * The sum covers the first 4096 bytes; the kernel's info blocks are exactly
 * that size (both `nd_pfn_sb` and `btt_sb` put the field at 4088).
 *
 * Throws KernelError EINVAL if `sb` is not a Uint8Array of at least 4096 bytes
 * or `checksumOffset` is not a multiple of 8 with the field inside the block.
 * @public
 */
export function ndSbChecksum(sb: Uint8Array, checksumOffset: number): bigint {
  if (!(sb instanceof Uint8Array) || sb.byteLength < ND_SB_SIZE) {
    throw new KernelError('EINVAL', 'nd_sb_checksum: info block shorter than 4096 bytes');
  }
  checkUnsigned('nd_sb_checksum', 'checksum offset', checksumOffset, ND_SB_SIZE - 8);
  if (checksumOffset % 8 !== 0) {
    throw new KernelError('EINVAL', `nd_sb_checksum: invalid checksum offset ${checksumOffset}`);
  }
  const copy = sb.slice(0, ND_SB_SIZE);
  copy.fill(0, checksumOffset, checksumOffset + 8);
  return ndFletcher64(copy, true);
}

