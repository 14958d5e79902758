import { describe, expect, it } from 'vitest';
import { createMmConfig } from '../src/config.js';
import {
  GFP_ATOMIC,
  GFP_DMA,
  GFP_DMA32,
  GFP_HIGHUSER,
  GFP_HIGHUSER_MOVABLE,
  GFP_KERNEL,
  GFP_NOWAIT,
  GFP_TRANSHUGE,
  GFP_USER,
  __GFP_DMA,
  __GFP_DMA32,
  __GFP_HIGHMEM,
  __GFP_MOVABLE,
  __GFP_NOWARN,
  __GFP_RECLAIMABLE,
  __GFP_ZERO,
  formatGfpFlags,
  gfpMigratetype,
  gfpZone,
  gfpClear,
  gfpOr,
} from '../src/gfp.js';
import { PPC64, X86_64 } from './machines.js';

describe('GFP flags (include/linux/gfp.h)', () => {
  it('has the v5.13 values', () => {
    expect(GFP_KERNEL).toBe(0xcc0);
    expect(GFP_ATOMIC).toBe(0xa20);
    expect(GFP_NOWAIT).toBe(0x800);
    expect(GFP_USER).toBe(0x100cc0);
    expect(GFP_HIGHUSER_MOVABLE).toBe(0x100cca);
    expect(GFP_TRANSHUGE).toBe(0x1c24ca);
  });

  it('gfp_zone() on x86_64: the zone modifiers pick the highest zone', () => {
    const c = createMmConfig(X86_64);
    expect(gfpZone(c, GFP_KERNEL)).toBe(c.ZONE_NORMAL);
    expect(gfpZone(c, GFP_DMA)).toBe(c.ZONE_DMA);
    expect(gfpZone(c, GFP_DMA32)).toBe(c.ZONE_DMA32);
    expect(gfpZone(c, GFP_HIGHUSER)).toBe(c.ZONE_NORMAL);
    expect(gfpZone(c, GFP_HIGHUSER_MOVABLE)).toBe(c.ZONE_MOVABLE);
    expect(gfpZone(c, gfpOr(GFP_KERNEL, __GFP_MOVABLE))).toBe(c.ZONE_NORMAL);
    expect(gfpZone(c, gfpOr(__GFP_MOVABLE, __GFP_DMA32))).toBe(c.ZONE_DMA32);
    expect(() => gfpZone(c, gfpOr(__GFP_DMA, __GFP_DMA32))).toThrow(/GFP_ZONE_BAD/);
    expect(() => gfpZone(c, gfpOr(__GFP_DMA32, __GFP_HIGHMEM))).toThrow(/GFP_ZONE_BAD/);
  });

  it('gfp_zone() without DMA zones (powerpc64) falls back to Normal; nothing reaches Device', () => {
    const c = createMmConfig(PPC64);
    expect(gfpZone(c, GFP_DMA)).toBe(c.ZONE_NORMAL);
    expect(gfpZone(c, GFP_DMA32)).toBe(c.ZONE_NORMAL);
    expect(gfpZone(c, GFP_HIGHUSER_MOVABLE)).toBe(c.ZONE_MOVABLE);
    for (const g of [0, GFP_KERNEL, GFP_DMA, GFP_HIGHUSER_MOVABLE, __GFP_HIGHMEM]) expect(gfpZone(c, g)).toBeLessThan(c.ZONE_DEVICE!);
  });

  it('gfp_migratetype()', () => {
    expect(gfpMigratetype(GFP_KERNEL)).toBe(0);
    expect(gfpMigratetype(GFP_HIGHUSER_MOVABLE)).toBe(1);
    expect(gfpMigratetype(gfpOr(GFP_KERNEL, __GFP_RECLAIMABLE))).toBe(2);
    expect(() => gfpMigratetype(gfpOr(__GFP_MOVABLE, __GFP_RECLAIMABLE))).toThrow();
  });

  it('%pGg names as mmflags.h lists them', () => {
    expect(formatGfpFlags(GFP_KERNEL)).toBe('GFP_KERNEL');
    expect(formatGfpFlags(gfpOr(GFP_KERNEL, __GFP_ZERO))).toBe('GFP_KERNEL|__GFP_ZERO');
    expect(formatGfpFlags(GFP_HIGHUSER_MOVABLE)).toBe('GFP_HIGHUSER_MOVABLE');
    expect(formatGfpFlags(gfpOr(GFP_ATOMIC, __GFP_NOWARN))).toBe('GFP_ATOMIC|__GFP_NOWARN');
    expect(formatGfpFlags(gfpOr(GFP_NOWAIT, __GFP_DMA32))).toBe('GFP_NOWAIT|GFP_DMA32');
    expect(formatGfpFlags(GFP_TRANSHUGE)).toBe('GFP_TRANSHUGE');
    expect(formatGfpFlags(0x1000000)).toBe('0x1000000');
    expect(formatGfpFlags(0)).toBe('');
  });
});

describe('GFP composites', () => {
  it('are the unions include/linux/gfp.h defines', async () => {
    const g = await import('../src/gfp.js');
    expect(g.__GFP_RECLAIM).toBe(gfpOr(g.__GFP_DIRECT_RECLAIM, g.__GFP_KSWAPD_RECLAIM));
    expect(g.GFP_KERNEL).toBe(gfpOr(gfpOr(g.__GFP_RECLAIM, g.__GFP_IO), g.__GFP_FS));
    expect(g.GFP_KERNEL_ACCOUNT).toBe(gfpOr(g.GFP_KERNEL, g.__GFP_ACCOUNT));
    expect(g.GFP_NOIO).toBe(g.__GFP_RECLAIM);
    expect(g.GFP_NOFS).toBe(gfpOr(g.__GFP_RECLAIM, g.__GFP_IO));
    expect(g.GFP_USER).toBe(gfpOr(g.GFP_KERNEL, g.__GFP_HARDWALL));
    expect(g.GFP_HIGHUSER).toBe(gfpOr(g.GFP_USER, g.__GFP_HIGHMEM));
    expect(g.GFP_HIGHUSER_MOVABLE).toBe(gfpOr(g.GFP_HIGHUSER, g.__GFP_MOVABLE));
    expect(g.GFP_TRANSHUGE_LIGHT).toBe(gfpClear(gfpOr(gfpOr(gfpOr(g.GFP_HIGHUSER_MOVABLE, g.__GFP_COMP), g.__GFP_NOMEMALLOC), g.__GFP_NOWARN), g.__GFP_RECLAIM));
    expect(g.GFP_TRANSHUGE).toBe(gfpOr(g.GFP_TRANSHUGE_LIGHT, g.__GFP_DIRECT_RECLAIM));
    expect(g.GFP_ZONEMASK).toBe(gfpOr(gfpOr(gfpOr(g.__GFP_DMA, g.__GFP_HIGHMEM), g.__GFP_DMA32), g.__GFP_MOVABLE));
    expect(g.GFP_ATOMIC).toBe(gfpOr(gfpOr(g.__GFP_HIGH, g.__GFP_ATOMIC), g.__GFP_KSWAPD_RECLAIM));
  });
});
