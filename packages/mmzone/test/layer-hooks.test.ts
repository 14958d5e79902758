// The hooks the layers above register with the mm core, once each
// (pfn_to_online_page() from memory hotplug, the ZONE_DEVICE put_page() path
// from memremap), and the state only the mm core's own setters write
// (min_free_kbytes, pgdat->nr_zones).
import { describe, expect, it } from 'vitest';
import { isKernelError } from '@zonedev/kernel';
import { minWmarkPages, setPgdatNrZones } from '../src/mmzone.js';
import { MiB, boot, snapshot } from './machines.js';

const SMALL = { memory: [{ start: 0x1000, end: 0x9f000 }, { start: 0x100000, end: 64 * MiB }] };

function refusal(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isKernelError(e) ? `${e.errno}: ${e.message}` : `not a KernelError: ${String(e)}`;
  }
  return undefined;
}

describe('registerPfnOnline (pfn_to_online_page(), mm/memory_hotplug.c)', () => {
  it('answers "has a memmap" until a test is registered, then the test', () => {
    const mm = boot(SMALL);
    expect(mm.pfnOnline(0x200)).toBe(true);
    expect(mm.pfnOnline((1024 * MiB) / 4096)).toBe(false);
    const asked: number[] = [];
    mm.registerPfnOnline((pfn) => {
      asked.push(pfn);
      return pfn === 7;
    });
    expect([mm.pfnOnline(0x200), mm.pfnOnline(7)]).toEqual([false, true]);
    expect(asked).toEqual([0x200, 7]);
  });

  it('refuses a second registration with EBUSY and keeps the first; a non-function with EINVAL', () => {
    const mm = boot(SMALL);
    expect(refusal(() => mm.registerPfnOnline(42 as never))).toBe('EINVAL: register_pfn_online: not a function');
    mm.registerPfnOnline(() => true);
    expect(refusal(() => mm.registerPfnOnline(() => false))).toBe(
      'EBUSY: register_pfn_online: pfn_to_online_page() is already provided',
    );
    expect(mm.pfnOnline((1024 * MiB) / 4096)).toBe(true);
  });
});

describe('registerDevmapPut (put_devmap_managed_page(), mm/memremap.c)', () => {
  it('refuses a second registration with EBUSY, a non-function with EINVAL', () => {
    const mm = boot(SMALL);
    expect(refusal(() => mm.registerDevmapPut(undefined as never))).toBe('EINVAL: register_devmap_put: not a function');
    const first = (_pfn: number): boolean => true;
    mm.registerDevmapPut(first);
    expect(refusal(() => mm.registerDevmapPut(() => false))).toBe(
      'EBUSY: register_devmap_put: the ZONE_DEVICE put_page() path is already provided',
    );
  });
});

describe('min_free_kbytes is written only by init_per_zone_wmark_min() and the sysctl', () => {
  it('cannot be assigned around setMinFreeKbytes(), which recomputes the watermarks', () => {
    const mm = boot(SMALL);
    const before = mm.minFreeKbytes;
    const dma32 = mm.nodeData(0)!.nodeZones[mm.config.ZONE_DMA32!]!;
    const wmark = minWmarkPages(dma32);
    expect(() => {
      (mm as unknown as { minFreeKbytes: number }).minFreeKbytes = 65536;
    }).toThrow(TypeError);
    expect(() => {
      (mm as unknown as { userMinFreeKbytes: number }).userMinFreeKbytes = 65536;
    }).toThrow(TypeError);
    expect([mm.minFreeKbytes, mm.userMinFreeKbytes, minWmarkPages(dma32)]).toEqual([before, -1, wmark]);
    mm.setMinFreeKbytes(4 * before);
    expect([mm.minFreeKbytes, mm.userMinFreeKbytes]).toEqual([4 * before, 4 * before]);
    expect(minWmarkPages(dma32)).toBeGreaterThan(wmark);
  });
});

describe('setPgdatNrZones', () => {
  it('sets nr_zones within 0..MAX_NR_ZONES and refuses anything else with EINVAL, unchanged', () => {
    const mm = boot(SMALL);
    const pgdat = mm.nodeData(0)!;
    const nr = pgdat.nrZones;
    const before = snapshot(mm);
    for (const v of [NaN, -1, 1.5, mm.config.MAX_NR_ZONES + 1, 'x']) {
      expect(refusal(() => setPgdatNrZones(pgdat, v as number))).toMatch(/^EINVAL: set_pgdat_nr_zones: invalid nr_zones/);
    }
    expect(pgdat.nrZones).toBe(nr);
    expect(snapshot(mm)).toBe(before);
    setPgdatNrZones(pgdat, mm.config.MAX_NR_ZONES);
    expect(pgdat.nrZones).toBe(mm.config.MAX_NR_ZONES);
    setPgdatNrZones(pgdat, nr);
    expect(snapshot(mm)).toBe(before);
  });
});
