import { describe, expect, it } from 'vitest';
import { isKernelError } from '@zonedev/kernel';
import { checkMmConfig, createMmConfig, zoneKindsOf, zonesShiftFor, ZONES_SHIFT_BUDGET } from '../src/config.js';
import { PPC64, X86_64 } from './machines.js';

describe('zone types from the kernel config (include/linux/mmzone.h)', () => {
  it('x86_64 v5.13: DMA, DMA32, Normal, Movable, Device in enum order, 3 ZONES_SHIFT bits', () => {
    const c = createMmConfig(X86_64);
    expect(c.zoneNames).toEqual(['DMA', 'DMA32', 'Normal', 'Movable', 'Device']);
    expect(c.MAX_NR_ZONES).toBe(5);
    expect(c.ZONES_SHIFT).toBe(3);
    expect([c.ZONE_DMA, c.ZONE_DMA32, c.ZONE_NORMAL, c.ZONE_HIGHMEM, c.ZONE_MOVABLE, c.ZONE_DEVICE]).toEqual([0, 1, 2, undefined, 3, 4]);
    expect(c.MAX_ORDER).toBe(11);
    expect(c.MAX_ORDER_NR_PAGES * c.pageSize).toBe(4 * 2 ** 20);
    expect(c.pagesPerSection).toBe(32768);
    expect(c.MAX_DMA_PFN).toBe(4096);
    expect(c.MAX_DMA32_PFN).toBe(2 ** 20);
    expect(c.MIGRATE_ISOLATE).toBe(4);
    expect(c.migratetypeNames).toEqual(['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'Isolate']);
  });

  it('powerpc64 (64K pages): Normal, Movable, Device; largest block 16 MiB', () => {
    const c = createMmConfig(PPC64);
    expect(c.zoneNames).toEqual(['Normal', 'Movable', 'Device']);
    expect(c.ZONES_SHIFT).toBe(2);
    expect(c.ZONE_NORMAL).toBe(0);
    expect(c.ZONE_DEVICE).toBe(2);
    expect(c.MAX_ORDER_NR_PAGES * c.pageSize).toBe(16 * 2 ** 20);
    expect(c.pagesPerSection).toBe(256);
  });

  it('ZONES_SHIFT follows MAX_NR_ZONES as page-flags-layout.h computes it', () => {
    expect([1, 2, 3, 4, 5, 8, 9].map(zonesShiftFor)).toEqual([0, 1, 2, 2, 3, 3, undefined]);
    expect(ZONES_SHIFT_BUDGET).toEqual({ '2015': 2, 'v5.13': 3 });
  });

  it('the 2015 ZONE_DEVICE RFC: under the 2015 budget ZONE_DEVICE with ZONE_DMA is rejected with the reason', () => {
    const arch = { ...X86_64, zonesShiftBudget: '2015' as const };
    let err: unknown;
    try {
      createMmConfig(arch);
    } catch (e) {
      err = e;
    }
    expect(isKernelError(err, 'EINVAL')).toBe(true);
    const msg = (err as Error).message;
    expect(msg).toContain('ZONE_DEVICE depends on !ZONE_DMA');
    expect(msg).toContain('DMA, DMA32, Normal, Movable, Device are 5 zones');
    expect(msg).toContain('ZONES_SHIFT -- too many zones configured adjust calculation');
    expect(checkMmConfig(arch)).toBe(msg);
  });

  it('the 2015 ZONE_DEVICE RFC: sacrificing ZONE_DMA makes ZONE_DEVICE fit the 2015 budget', () => {
    const c = createMmConfig({ ...X86_64, zonesShiftBudget: '2015', zoneDma: false });
    expect(c.zoneNames).toEqual(['DMA32', 'Normal', 'Movable', 'Device']);
    expect(c.ZONES_SHIFT).toBe(2);
    expect(c.ZONE_NORMAL).toBe(1);
    expect(createMmConfig({ ...X86_64, zonesShiftBudget: '2015', zoneDevice: false }).ZONES_SHIFT).toBe(2);
  });

  it('the 2015 budget also rejects any fifth zone', () => {
    // A hypothetical 32-bit box with DMA, Normal, HighMem, Movable: 4 zones fit; with DMA32 too, not.
    const a32 = {
      ...X86_64,
      bitsPerLong: 32 as const,
      highmem: true,
      zoneDevice: false,
      zonesShiftBudget: '2015' as const,
      nodesShift: 0,
      sparsememVmemmap: false,
      sectionSizeBits: 29,
      maxPhysmemBits: 36,
      archUsesPgUncached: false,
      memoryFailure: false,
    };
    expect(createMmConfig({ ...a32, zoneDma32: false }).zoneNames).toEqual(['DMA', 'Normal', 'HighMem', 'Movable']);
    expect(checkMmConfig(a32)).toMatch(/^ZONES_SHIFT -- too many zones configured adjust calculation: DMA, DMA32, Normal, HighMem, Movable are 5 zones/);
    expect(checkMmConfig({ ...a32, zonesShiftBudget: 'v5.13' })).toBeUndefined();
  });

  it('rejects what the kernel would not build', () => {
    expect(checkMmConfig({ ...X86_64, highmem: true })).toMatch(/HIGHMEM depends on a 32-bit kernel/);
    expect(checkMmConfig({ ...X86_64, maxOrder: 17 })).toBe('Allocator MAX_ORDER exceeds SECTION_SIZE');
    expect(checkMmConfig({ ...X86_64, pageblockOrder: 11 })).toMatch(/pageblock_order 11 exceeds MAX_ORDER - 1/);
    expect(checkMmConfig({ ...X86_64, pageShift: 9 })).toMatch(/PAGE_SHIFT must be/);
    expect(checkMmConfig(X86_64)).toBeUndefined();
    expect(checkMmConfig(PPC64)).toBeUndefined();
  });

  it('zoneKindsOf lists only the configured zones', () => {
    expect(zoneKindsOf({ zoneDma: false, zoneDma32: false, zoneDevice: false })).toEqual(['Normal', 'Movable']);
  });

  it('CMA adds MIGRATE_CMA before MIGRATE_ISOLATE', () => {
    const c = createMmConfig({ ...X86_64, cma: true });
    expect(c.MIGRATE_CMA).toBe(4);
    expect(c.MIGRATE_ISOLATE).toBe(5);
    expect(c.MIGRATE_TYPES).toBe(6);
  });
});
