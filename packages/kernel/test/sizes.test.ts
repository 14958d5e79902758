import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SZ_128M, SZ_2G, SZ_2M, SZ_4G, SZ_4K, SZ_64K, align, alignDown, anyBits, bit, clearBit, clearBits, divRoundUp, hasBits, ilog2, isAligned, isPowerOf2, memparse, orBits, pfnPhys, physPfn, roundUp, setBit, testBit } from '@zonedev/kernel';
import { SZ_16G, SZ_1T, SZ_64T, pfnDown, pfnUp, roundDown, roundupPowOfTwo, shl, shr } from '../src/sizes.js';

const P40 = 2 ** 40;
const P46 = 2 ** 46;
const P52 = 2 ** 52;

describe('sizes.h constants', () => {
  it('have the kernel values', () => {
    expect(SZ_4K).toBe(4096);
    expect(SZ_64K).toBe(65536);
    expect(SZ_2M).toBe(2 * 1024 * 1024);
    expect(SZ_128M).toBe(134217728);
    expect(SZ_2G).toBe(2147483648);
    expect(SZ_4G).toBe(4294967296);
    expect(SZ_16G).toBe(17179869184);
    expect(SZ_1T).toBe(P40);
    expect(SZ_64T).toBe(P46);
  });
});

describe('alignment beyond 32 bits', () => {
  it('ALIGN / ALIGN_DOWN / IS_ALIGNED at 2^40, 2^46 and 2^52', () => {
    for (const base of [P40, P46, P52]) {
      expect(align(base + 1, SZ_2M)).toBe(base + SZ_2M);
      expect(alignDown(base + SZ_2M - 1, SZ_2M)).toBe(base);
      expect(isAligned(base, SZ_128M)).toBe(true);
      expect(isAligned(base + SZ_4K, SZ_128M)).toBe(false);
      expect(align(base, SZ_2M)).toBe(base);
      expect(roundUp(base + 3, 5)).toBe(base + 5 - ((base + 3) % 5) + 3 - (5 - 5)); // a multiple of 5 above
      expect((roundUp(base + 3, 5)) % 5).toBe(0);
      expect(roundDown(base + 7, SZ_4K)).toBe(base);
    }
    // The classic 32-bit truncation bug: (2^40 + 4095) & ~4095 in JS gives 0.
    expect(alignDown(P40 + 4095, SZ_4K)).toBe(P40);
  });

  it('PFN_PHYS / PHYS_PFN / PFN_UP / PFN_DOWN with 4K and 64K pages', () => {
    expect(pfnPhys(P40 / SZ_4K, 12)).toBe(P40);
    expect(physPfn(P52 - 1, 12)).toBe(P52 / SZ_4K - 1);
    expect(physPfn(P46 + 65535, 16)).toBe(P46 / SZ_64K);
    expect(pfnUp(P46 + 1, 12)).toBe(P46 / SZ_4K + 1);
    expect(pfnDown(P46 + 1, 12)).toBe(P46 / SZ_4K);
    expect(pfnPhys(2 ** 36, 16)).toBe(P52);
  });

  it('ilog2 and is_power_of_2 are exact up to 2^53', () => {
    expect(ilog2(1)).toBe(0);
    expect(ilog2(P40)).toBe(40);
    expect(ilog2(P46 - 1)).toBe(45);
    expect(ilog2(P52)).toBe(52);
    expect(ilog2(2 ** 53 - 1)).toBe(52);
    expect(isPowerOf2(P52)).toBe(true);
    expect(isPowerOf2(P52 + 1)).toBe(false);
    expect(isPowerOf2(0)).toBe(false);
    expect(roundupPowOfTwo(P40 + 1)).toBe(2 ** 41);
    expect(() => ilog2(0)).toThrow(expect.objectContaining({ errno: 'EINVAL', message: 'ilog2(0) is undefined' }));
  });

  it('shifts and bit operations do not truncate', () => {
    expect(shl(1, 52)).toBe(P52);
    expect(shr(P52 + P40, 40)).toBe(2 ** 12 + 1);
    expect(bit(46)).toBe(P46);
    expect(testBit(P46 + 1, 46)).toBe(true);
    expect(testBit(P46 + 1, 45)).toBe(false);
    expect(setBit(P40, 46)).toBe(P40 + P46);
    expect(setBit(P46, 46)).toBe(P46);
    expect(clearBit(P40 + P46, 40)).toBe(P46);
    expect(hasBits(P46 + P40 + 1, P46 + 1)).toBe(true);
    expect(hasBits(P46 + 1, P40)).toBe(false);
    expect(anyBits(P46 + 2, P40 + 2)).toBe(true);
    expect(anyBits(P46, P40)).toBe(false);
    expect(orBits(P46, P40 + P46)).toBe(P46 + P40);
    expect(clearBits(P46 + P40 + 3, P40 + 1)).toBe(P46 + 2);
  });

  it('mask helpers agree with BigInt bitwise arithmetic up to 2^53 (property)', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.maxSafeNat(), (x, m) => {
        const bx = BigInt(x);
        const bm = BigInt(m);
        expect(hasBits(x, m)).toBe((bx & bm) === bm); // eslint-disable-line no-bitwise -- reference
        expect(anyBits(x, m)).toBe((bx & bm) !== 0n); // eslint-disable-line no-bitwise -- reference
        expect(orBits(x, m)).toBe(Number(bx | bm)); // eslint-disable-line no-bitwise -- reference
        expect(clearBits(x, m)).toBe(Number(bx & ~bm)); // eslint-disable-line no-bitwise -- reference
      }),
      { numRuns: 1000 },
    );
  });

  it('DIV_ROUND_UP is exact for large values', () => {
    expect(divRoundUp(P52, SZ_4K)).toBe(P52 / SZ_4K);
    expect(divRoundUp(P52 + 1, SZ_4K)).toBe(P52 / SZ_4K + 1);
    expect(divRoundUp(2 ** 53 - 1, 3)).toBe(3002399751580331);
  });

  it('agree with BigInt arithmetic on random 53-bit values (property)', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.integer({ min: 0, max: 40 }), (x, s) => {
        const a = 2 ** s;
        const bx = BigInt(x);
        const ba = BigInt(a);
        const down = (bx / ba) * ba;
        expect(alignDown(x, a)).toBe(Number(down));
        expect(isAligned(x, a)).toBe(bx % ba === 0n);
        if (Number(down + ba) <= Number.MAX_SAFE_INTEGER) {
          expect(align(x, a)).toBe(Number(bx % ba === 0n ? bx : down + ba));
        }
        // eslint-disable-next-line no-bitwise -- BigInt shift: exact reference value
        expect(shr(x, s)).toBe(Number(bx >> BigInt(s)));
        if (x > 0) expect(ilog2(x)).toBe(bx.toString(2).length - 1);
      }),
      { numRuns: 500 },
    );
  });
});

describe('memparse (lib/cmdline.c)', () => {
  it('parses suffixes and bases as the kernel command line does', () => {
    expect(memparse('4G')).toEqual({ value: SZ_4G, end: 2 });
    expect(memparse('12g!')).toEqual({ value: 12 * 2 ** 30, end: 3 });
    expect(memparse('512M')).toEqual({ value: 512 * 2 ** 20, end: 4 });
    expect(memparse('0x1000')).toEqual({ value: 4096, end: 6 });
    expect(memparse('010')).toEqual({ value: 8, end: 3 });
    expect(memparse('1T')).toEqual({ value: SZ_1T, end: 2 });
    expect(memparse('64K,')).toEqual({ value: 65536, end: 3 });
    expect(memparse('xyz')).toEqual({ value: 0, end: 0 });
  });
});
