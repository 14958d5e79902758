// include/linux/pfn_t.h: the flag bits at the top of a u64, the pfn below.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  PFN_DEV,
  PFN_FLAGS_TRACE,
  PFN_MAP,
  PFN_SG_CHAIN,
  PFN_SG_LAST,
  PFN_SPECIAL,
  __pfnToPfnT,
  formatPfnT,
  pageToPfnT,
  pfnFlagsMask,
  pfnTDevmap,
  pfnTHasPage,
  pfnTSpecial,
  pfnTToPage,
  pfnTToPfn,
  pfnTToPhys,
  pfnTVal,
  pfnToPfnT,
  physToPfnT,
} from '@zonedev/memremap';

describe('pfn_t', () => {
  it('has the kernel flag values: the top five bits of a u64', () => {
    expect(PFN_SG_CHAIN).toBe(0x8000000000000000n);
    expect(PFN_SG_LAST).toBe(0x4000000000000000n);
    expect(PFN_DEV).toBe(0x2000000000000000n);
    expect(PFN_MAP).toBe(0x1000000000000000n);
    expect(PFN_SPECIAL).toBe(0x0800000000000000n);
    expect(PFN_FLAGS_TRACE.map(([, n]) => n)).toEqual(['SPECIAL', 'SG_CHAIN', 'SG_LAST', 'DEV', 'MAP']);
  });

  it('PFN_FLAGS_MASK is the top PAGE_SHIFT bits', () => {
    expect(pfnFlagsMask(12)).toBe(0xfff0000000000000n);
    expect(pfnFlagsMask(16)).toBe(0xffff000000000000n);
    expect(() => pfnFlagsMask(0)).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
  });

  it('val is flags | pfn, and bits outside the mask are dropped', () => {
    const p = __pfnToPfnT(0x123456789, PFN_DEV + PFN_MAP + 0x10n, 12);
    expect(pfnTVal(p)).toBe(0x3000000123456789n);
    expect(pfnTToPfn(p)).toBe(0x123456789);
    expect(p.flags).toBe(PFN_DEV + PFN_MAP);
    // With 64K pages bits 48..63 are flags; a flag value in bit 50 survives there only.
    expect(__pfnToPfnT(1, 2n ** 50n, 16).flags).toBe(2n ** 50n);
    expect(__pfnToPfnT(1, 2n ** 50n, 12).flags).toBe(0n);
    expect(() => __pfnToPfnT(2 ** 52, 0n, 12)).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
    expect(() => pfnToPfnT(-1)).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
  });

  it('phys_to_pfn_t shifts the address, pfn_t_to_phys shifts it back', () => {
    const p = physToPfnT(0x1000000000 + 0x123, PFN_DEV, 12);
    expect(p.pfn).toBe(0x1000000);
    expect(pfnTToPhys(p, 12)).toBe(0x1000000000);
    expect(physToPfnT(0x30000, 0n, 16).pfn).toBe(3);
    expect(() => physToPfnT(-4096, 0n, 12)).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
  });

  it('has_page, devmap, special, to_page', () => {
    const plain = pfnToPfnT(42);
    const dev = __pfnToPfnT(42, PFN_DEV, 12);
    const devmap = __pfnToPfnT(42, PFN_DEV + PFN_MAP, 12);
    const special = __pfnToPfnT(42, PFN_DEV + PFN_SPECIAL, 12);
    expect([pfnTHasPage(plain), pfnTHasPage(dev), pfnTHasPage(devmap), pfnTHasPage(special)]).toEqual([true, false, true, false]);
    expect([pfnTDevmap(plain), pfnTDevmap(dev), pfnTDevmap(devmap), pfnTDevmap(__pfnToPfnT(42, PFN_MAP, 12))]).toEqual([false, false, true, false]);
    expect([pfnTSpecial(special), pfnTSpecial(devmap)]).toEqual([true, false]);
    expect(pfnTToPage(devmap)).toBe(42);
    expect(pfnTToPage(dev)).toBeUndefined();
    expect(pageToPfnT(7)).toEqual(pfnToPfnT(7));
    expect(formatPfnT(devmap)).toBe('0x2a DEV|MAP');
    expect(formatPfnT(plain)).toBe('0x2a');
    expect(formatPfnT(__pfnToPfnT(1, PFN_SG_CHAIN + PFN_SPECIAL, 12))).toBe('0x1 SPECIAL|SG_CHAIN');
  });

  it('round-trips any pfn and any flag set (property)', () => {
    const flagBits = [PFN_SG_CHAIN, PFN_SG_LAST, PFN_DEV, PFN_MAP, PFN_SPECIAL];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.subarray(flagBits), (pfn, bits) => {
        const flags = bits.reduce((a, b) => a + b, 0n);
        const p = __pfnToPfnT(pfn, flags, 12);
        expect(pfnTToPfn(p)).toBe(pfn);
        expect(pfnTVal(p)).toBe(flags + BigInt(pfn));
        expect(pfnTVal(p) / 2n ** 52n).toBe(flags / 2n ** 52n);
        expect(pfnTDevmap(p)).toBe(bits.includes(PFN_DEV) && bits.includes(PFN_MAP));
        expect(pfnTHasPage(p)).toBe(bits.includes(PFN_MAP) || !bits.includes(PFN_DEV));
      }),
      { numRuns: 200 },
    );
  });
});
