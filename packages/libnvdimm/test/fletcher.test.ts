// drivers/nvdimm/core.c nd_fletcher64 and drivers/nvdimm/claim.c nd_sb_checksum.
import { describe, expect, it } from 'vitest';
import { KernelError } from '@zonedev/kernel';
import { ndFletcher64, ndSbChecksum } from '@zonedev/libnvdimm';

function block(sig: string): Uint8Array {
  const b = new Uint8Array(4096);
  for (let i = 0; i < sig.length; i++) b[i] = sig.charCodeAt(i);
  return b;
}

describe('nd_fletcher64', () => {
  it('is 0 over zeros', () => {
    expect(ndFletcher64(new Uint8Array(4096), true)).toBe(0n);
  });

  it('gives the raw value 0xfff7fe00fffffc00 over 4096 bytes of 0xff', () => {
    expect(ndFletcher64(new Uint8Array(4096).fill(0xff), true)).toBe(0xfff7fe00fffffc00n);
  });

  it('sums little-endian 32-bit words: lo is the word sum, hi the sum of the running lo', () => {
    const b = new Uint8Array([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]);
    // lo: 1, 3, 6; hi: 1 + 3 + 6 = 10
    expect(ndFletcher64(b, true)).toBe(10n * 2n ** 32n + 6n);
    // big-endian words: 0x01000000, 0x02000000, 0x03000000
    expect(ndFletcher64(b, false)).toBe((0x1000000n + 0x3000000n + 0x6000000n) * 2n ** 32n + 0x6000000n);
  });

  it('wraps both sums modulo 2^32', () => {
    const b = new Uint8Array([0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0]);
    // lo: 0xffffffff, then 1 (wrapped); hi: 0xffffffff + 1 = 0 (wrapped)
    expect(ndFletcher64(b, true)).toBe(1n);
  });

  it('ignores a trailing partial word', () => {
    expect(ndFletcher64(new Uint8Array([5, 0, 0, 0, 9, 9]), true)).toBe(5n * 2n ** 32n + 5n);
  });

  it('reads from the view of a subarray, not its whole buffer', () => {
    const whole = new Uint8Array(12);
    whole.set([7, 0, 0, 0], 4);
    expect(ndFletcher64(whole.subarray(4, 8), true)).toBe(7n * 2n ** 32n + 7n);
  });

  it('refuses a non-array with EINVAL', () => {
    expect(() => ndFletcher64([1, 2, 3, 4] as unknown as Uint8Array, true)).toThrow(KernelError);
  });
});

describe('nd_sb_checksum', () => {
  it('has the golden values of the signatures', () => {
    expect(ndSbChecksum(block('NVDIMM_PFN_INFO\0'), 4088)).toBe(0x64d4ff3de352382fn);
    expect(ndSbChecksum(block('BTT_ARENA_INFO\0'), 4088)).toBe(0xa27b296bfbe3550an);
    expect(ndSbChecksum(block('NVDIMM_DAX_INFO\0'), 4088)).toBe(0x70fcd747d752422an);
  });

  it('counts the checksum field as zero, and leaves the block unchanged', () => {
    const ff = new Uint8Array(4096).fill(0xff);
    expect(ndSbChecksum(ff, 4088)).toBe(0xfff7fe03fffffc02n);
    expect(ff.every((x) => x === 0xff)).toBe(true);
    const sb = block('NVDIMM_PFN_INFO\0');
    new DataView(sb.buffer).setBigUint64(4088, 0x1234n, true);
    expect(ndSbChecksum(sb, 4088)).toBe(0x64d4ff3de352382fn);
    expect(new DataView(sb.buffer).getBigUint64(4088, true)).toBe(0x1234n);
  });

  it('refuses a short block or a bad offset with EINVAL', () => {
    expect(() => ndSbChecksum(new Uint8Array(4095), 4088)).toThrow(/4096/);
    for (const off of [4089, 4096, -8, 1.5, Number.NaN]) {
      try {
        ndSbChecksum(new Uint8Array(4096), off);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(KernelError);
        expect((e as KernelError).errno).toBe('EINVAL');
      }
    }
  });
});
