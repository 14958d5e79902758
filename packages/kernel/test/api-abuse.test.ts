/**
 * API abuse: every exported function that takes an address, size, count,
 * shift or number is called with values no C caller could pass (NaN,
 * infinities, negatives, fractions, integers beyond 2^53, 2^64, undefined, a
 * string). Each must answer with a KernelError carrying the errno, and leave
 * the state exactly as it was: /proc/iomem and the root's span for the
 * resource tree, the reference count for percpu_ref.
 */
import { describe, expect, it } from 'vitest';
import { IORESOURCE_MEM, IORESOURCE_SYSTEM_RAM, KernelBug, KernelError, PercpuRef, Printk, SimClock, Resource, ResourceTree, SZ_128M, SZ_1G, SZ_4G, SZ_4K, align, alignDown, checkPhysRange, checkUnsigned, divRoundUp, ilog2, isAligned, isKernelBug, isKernelError, kstrtobool, kstrtoull, memparse, pfnPhys, physPfn, roundUp } from '@zonedev/kernel';
import { defineResMem } from '../src/resource.js';
import { pfnDown, pfnUp, roundDown, roundupPowOfTwo } from '../src/sizes.js';

/** The values of the abuse matrix. */
const BAD: readonly unknown[] = [NaN, Infinity, -Infinity, -1, 1.5, 2 ** 53 + 2, 2 ** 64, undefined, 'x'];

function errnoOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isKernelError(e) ? e.errno : `not a KernelError: ${String(e)}`;
  }
  return undefined;
}

const n = (x: unknown): number => x as number;

function machine(): { tree: ResourceTree; ram: Resource; snap: () => string } {
  const tree = new ResourceTree({ physAddrBits: 46, log: new Printk(new SimClock()) });
  const ram = new Resource({ name: 'System RAM', start: 0x100000, end: SZ_4G - 1, flags: IORESOURCE_SYSTEM_RAM });
  tree.requestResource(tree.root, ram);
  expect(tree.requestMemRegion(SZ_1G, SZ_128M, 'dax0.0')).toBeDefined();
  const snap = (): string => `${tree.root.start}-${tree.root.end}\n${tree.procIomem()}`;
  return { tree, ram, snap };
}

describe('KernelBug (include/asm-generic/bug.h)', () => {
  it('is an Error, not a KernelError, and its text starts with "BUG: "', () => {
    const b = new KernelBug('Bad page state in process swapper/0  pfn:01000');
    expect(b).toBeInstanceOf(Error);
    expect(b).not.toBeInstanceOf(KernelError);
    expect(isKernelError(b)).toBe(false);
    expect(isKernelBug(b)).toBe(true);
    expect(b.name).toBe('KernelBug');
    expect(b.message).toBe('BUG: Bad page state in process swapper/0  pfn:01000');
    expect(new KernelBug('BUG: unable to handle page fault').message).toBe('BUG: unable to handle page fault');
    expect(isKernelBug(new KernelError('EINVAL'))).toBe(false);
  });
});

describe('boundary checks', () => {
  it('checkUnsigned and checkPhysRange refuse every bad value with EINVAL', () => {
    for (const v of BAD) {
      expect(errnoOf(() => checkUnsigned('f', 'x', v))).toBe('EINVAL');
      expect(errnoOf(() => checkPhysRange('f', v, SZ_4K))).toBe('EINVAL');
      expect(errnoOf(() => checkPhysRange('f', 0, v))).toBe('EINVAL');
    }
    expect(errnoOf(() => checkUnsigned('f', 'x', 2 ** 53 - 1))).toBeUndefined();
    expect(errnoOf(() => checkUnsigned('f', 'x', 13, 12))).toBe('EINVAL');
    expect(errnoOf(() => checkPhysRange('f', 2 ** 52, 2 ** 52))).toBeUndefined();
    expect(errnoOf(() => checkPhysRange('f', 2 ** 52, 2 ** 52 + 1))).toBe('EINVAL');
    expect(() => checkUnsigned('request_mem_region', 'start', NaN)).toThrow('request_mem_region: invalid start NaN');
  });
});

describe('resource tree (kernel/resource.c) at the boundary', () => {
  it('request_mem_region refuses a bad start or size with EINVAL and inserts nothing', () => {
    const { tree, snap } = machine();
    const before = snap();
    for (const v of BAD) {
      expect(errnoOf(() => tree.requestMemRegion(n(v), SZ_4K, 'bad'))).toBe('EINVAL');
      expect(errnoOf(() => tree.requestMemRegion(SZ_4G, n(v), 'bad'))).toBe('EINVAL');
      expect(errnoOf(() => tree.requestMemRegionExclusive(n(v), SZ_4K, 'bad'))).toBe('EINVAL');
      expect(errnoOf(() => tree.devmRequestMemRegion(undefined as never, n(v), SZ_4K, 'bad'))).toBe('EINVAL');
    }
    expect(() => tree.requestMemRegion(NaN, SZ_4K, 'bad')).toThrow('__request_region: invalid start NaN');
    expect(snap()).toBe(before);
    expect(tree.procIomem()).not.toContain('NaN');
  });

  it('keeps the kernel answer for ranges C can express: empty or beyond the root is NULL', () => {
    const { tree, snap } = machine();
    const before = snap();
    expect(tree.requestMemRegion(SZ_4G, 0, 'empty')).toBeUndefined(); // end < start: conflict with the root
    expect(tree.requestMemRegion(2 ** 46, SZ_4K, 'beyond')).toBeUndefined(); // beyond iomem_resource.end
    expect(tree.requestMemRegion(2 ** 46 - SZ_4K, 2 * SZ_4K, 'straddle')).toBeUndefined();
    expect(snap()).toBe(before);
  });

  it('request_resource and insert_resource refuse non-integer bounds with EINVAL, end < start with EBUSY', () => {
    const { tree, snap } = machine();
    const before = snap();
    for (const v of BAD) {
      const r1 = new Resource({ name: 'bad', start: n(v), end: SZ_4G + SZ_4K - 1, flags: IORESOURCE_MEM });
      const r2 = new Resource({ name: 'bad', start: SZ_4G, end: n(v), flags: IORESOURCE_MEM });
      for (const r of [r1, r2]) {
        expect(errnoOf(() => tree.requestResource(tree.root, r))).toBe('EINVAL');
        expect(errnoOf(() => tree.requestResourceConflict(tree.root, r))).toBe('EINVAL');
        expect(errnoOf(() => tree.insertResource(tree.root, r))).toBe('EINVAL');
        expect(errnoOf(() => tree.insertResourceConflict(tree.root, r))).toBe('EINVAL');
      }
    }
    const backwards = new Resource({ name: 'backwards', start: SZ_4G + SZ_4K, end: SZ_4G, flags: IORESOURCE_MEM });
    expect(errnoOf(() => tree.requestResource(tree.root, backwards))).toBe('EBUSY');
    expect(errnoOf(() => tree.insertResource(tree.root, backwards))).toBe('EBUSY');
    expect(snap()).toBe(before);
  });

  it('adjust_resource refuses bad values with EINVAL and size 0 (end < start) with EBUSY, unchanged', () => {
    const { tree, snap } = machine();
    const res = tree.requestMemRegion(SZ_4G, SZ_128M, 'adj')!;
    const before = snap();
    for (const v of BAD) {
      expect(errnoOf(() => tree.adjustResource(res, n(v), SZ_4K))).toBe('EINVAL');
      expect(errnoOf(() => tree.adjustResource(res, SZ_4G, n(v)))).toBe('EINVAL');
    }
    expect(errnoOf(() => tree.adjustResource(res, SZ_4G, 0))).toBe('EBUSY');
    const loose = defineResMem(SZ_4G, SZ_4K, 'unlinked');
    expect(errnoOf(() => tree.adjustResource(loose, SZ_4G, 0))).toBe('EBUSY');
    expect([loose.start, loose.end]).toEqual([SZ_4G, SZ_4G + SZ_4K - 1]);
    expect(snap()).toBe(before);
    expect([res.start, res.end]).toEqual([SZ_4G, SZ_4G + SZ_128M - 1]);
  });

  it('release, lookup, intersects and walks refuse bad values with EINVAL and change nothing', () => {
    const { tree, snap } = machine();
    const before = snap();
    const visit = (): number => 0;
    for (const v of BAD) {
      expect(errnoOf(() => tree.releaseMemRegion(n(v), SZ_128M))).toBe('EINVAL');
      expect(errnoOf(() => tree.releaseMemRegion(SZ_1G, n(v)))).toBe('EINVAL');
      expect(errnoOf(() => tree.releaseRegion(tree.root, n(v), SZ_128M))).toBe('EINVAL');
      expect(errnoOf(() => tree.releaseMemRegionAdjustable(n(v), SZ_128M))).toBe('EINVAL');
      expect(errnoOf(() => tree.releaseMemRegionAdjustable(SZ_1G, n(v)))).toBe('EINVAL');
      expect(errnoOf(() => tree.lookupResource(tree.root, n(v)))).toBe('EINVAL');
      expect(errnoOf(() => tree.regionIntersects(n(v), SZ_4K, IORESOURCE_MEM, 0))).toBe('EINVAL');
      expect(errnoOf(() => tree.walkSystemRamRes(n(v), SZ_4G, visit))).toBe('EINVAL');
      expect(errnoOf(() => tree.walkMemRes(0, n(v), visit))).toBe('EINVAL');
      expect(errnoOf(() => tree.walkIomemResDesc(0, IORESOURCE_MEM, n(v), SZ_4G, visit))).toBe('EINVAL');
      expect(errnoOf(() => tree.walkSystemRamRange(n(v), 1, visit))).toBe('EINVAL');
      expect(errnoOf(() => tree.walkSystemRamRange(0, n(v), visit))).toBe('EINVAL');
      expect(errnoOf(() => tree.pageIsRam(n(v)))).toBe('EINVAL');
      expect(errnoOf(() => tree.requestFreeMemRegion(tree.root, n(v), 'hmm'))).toBe('EINVAL');
      expect(errnoOf(() => defineResMem(n(v), SZ_4K, 'x'))).toBe('EINVAL');
      expect(errnoOf(() => defineResMem(0, n(v), 'x'))).toBe('EINVAL');
    }
    expect(snap()).toBe(before);
  });

  it('setPhysAddrBits accepts 12..52 only (EINVAL), and the constructor checks the same', () => {
    const { tree, snap } = machine();
    const before = snap();
    for (const v of [...BAD, 100, 53, 64, 11, 0]) {
      expect(errnoOf(() => tree.setPhysAddrBits(n(v)))).toBe('EINVAL');
      if (v !== undefined) expect(errnoOf(() => new ResourceTree({ physAddrBits: n(v) }))).toBe('EINVAL');
    }
    expect(snap()).toBe(before);
    expect(errnoOf(() => tree.setPhysAddrBits(31))).toBe('EBUSY'); // System RAM reaches 4G
    expect(snap()).toBe(before);
    tree.setPhysAddrBits(52);
    expect(tree.root.end).toBe(2 ** 52 - 1);
  });
});

describe('sizes (include/linux/align.h, math.h, pfn.h, log2.h) at the boundary', () => {
  it('ALIGN, ALIGN_DOWN, IS_ALIGNED need an unsigned value and a power-of-two alignment', () => {
    for (const v of [...BAD, 0, 3, 4096.5, 2 ** 53]) {
      expect(errnoOf(() => align(4096, n(v)))).toBe('EINVAL');
      expect(errnoOf(() => alignDown(4096, n(v)))).toBe('EINVAL');
      expect(errnoOf(() => isAligned(4096, n(v)))).toBe('EINVAL');
    }
    for (const v of BAD) {
      expect(errnoOf(() => align(n(v), SZ_4K))).toBe('EINVAL');
      expect(errnoOf(() => alignDown(n(v), SZ_4K))).toBe('EINVAL');
      expect(errnoOf(() => isAligned(n(v), SZ_4K))).toBe('EINVAL');
    }
    expect(() => align(4096, 1.5)).toThrow('ALIGN: alignment 1.5 is not a power of two');
    expect(align(4097, SZ_4K)).toBe(8192);
    expect(errnoOf(() => align(2 ** 53 - 1, SZ_4K))).toBe('ERANGE'); // would reach 2^53
  });

  it('round_up, round_down, DIV_ROUND_UP need a positive integer divisor', () => {
    for (const v of [...BAD, 0]) {
      expect(errnoOf(() => roundUp(10, n(v)))).toBe('EINVAL');
      expect(errnoOf(() => roundDown(10, n(v)))).toBe('EINVAL');
      expect(errnoOf(() => divRoundUp(10, n(v)))).toBe('EINVAL');
    }
    for (const v of BAD) {
      expect(errnoOf(() => roundUp(n(v), 3))).toBe('EINVAL');
      expect(errnoOf(() => roundDown(n(v), 3))).toBe('EINVAL');
      expect(errnoOf(() => divRoundUp(n(v), 3))).toBe('EINVAL');
    }
    expect([roundUp(10, 3), roundDown(10, 3), divRoundUp(10, 3)]).toEqual([12, 9, 4]);
  });

  it('the pfn helpers need an unsigned value and a shift of 0..52', () => {
    for (const v of BAD) {
      for (const f of [pfnPhys, physPfn, pfnUp, pfnDown]) {
        expect(errnoOf(() => f(n(v), 12))).toBe('EINVAL');
        expect(errnoOf(() => f(1, n(v)))).toBe('EINVAL');
      }
      expect(errnoOf(() => ilog2(n(v)))).toBe('EINVAL');
      expect(errnoOf(() => roundupPowOfTwo(n(v)))).toBe('EINVAL');
    }
    expect(errnoOf(() => pfnPhys(2 ** 42, 12))).toBe('ERANGE'); // 2^54
    expect(pfnPhys(2 ** 40, 12)).toBe(2 ** 52);
  });
});

describe('kstrtoull and memparse beyond 2^53', () => {
  it('kstrtoull of 2^64 - 1 is ERANGE (not exact as a number), 2^64 and above ERANGE as the kernel says', () => {
    expect(errnoOf(() => kstrtoull('18446744073709551615'))).toBe('ERANGE');
    expect(errnoOf(() => kstrtoull('18446744073709551616'))).toBe('ERANGE');
    expect(kstrtoull('9007199254740991')).toBe(2 ** 53 - 1);
  });

  it('kstrtobool refuses a missing or non-string argument with EINVAL', () => {
    for (const v of BAD) expect(errnoOf(() => kstrtobool(v as string))).toBe('EINVAL');
  });

  it('memparse wraps modulo 2^64 as the kernel does, and refuses an inexact result with ERANGE', () => {
    expect(memparse('16E')).toEqual({ value: 0, end: 3 }); // 2^64 wraps to 0
    expect(memparse('17E')).toEqual({ value: 2 ** 60, end: 3 }); // 17 * 2^60 mod 2^64
    expect(memparse('1E')).toEqual({ value: 2 ** 60, end: 2 });
    expect(memparse('0x10000000000000000')).toEqual({ value: 0, end: 19 });
    expect(errnoOf(() => memparse('18446744073709551615'))).toBe('ERANGE');
    expect(errnoOf(() => memparse('9007199254740993'))).toBe('ERANGE');
    expect(errnoOf(() => memparse(undefined as unknown as string))).toBe('EINVAL');
    expect(errnoOf(() => memparse(4096 as unknown as string))).toBe('EINVAL');
  });
});

describe('percpu_ref (lib/percpu-refcount.c) counts', () => {
  it('get_many, tryget_many and put_many refuse a non-integer or negative nr with EINVAL, count unchanged', () => {
    const ref = new PercpuRef(() => undefined);
    ref.getMany(3);
    for (const v of BAD) {
      expect(errnoOf(() => ref.getMany(n(v)))).toBe('EINVAL');
      expect(errnoOf(() => ref.trygetMany(n(v)))).toBe('EINVAL');
      expect(errnoOf(() => ref.putMany(n(v)))).toBe('EINVAL');
      expect(ref.refs).toBe(4);
    }
    expect(() => ref.getMany(-5)).toThrow('percpu_ref_get_many: invalid nr -5');
    ref.getMany(0); // a no-op, as in the kernel
    ref.putMany(0);
    expect(ref.refs).toBe(4);
  });
});
