import { describe, expect, it } from 'vitest';
import { KernelError } from '@zonedev/kernel';
import { checkMmConfig, createMmConfig } from '../src/config.js';
import { computePageFlagsLayout, renderPageFlagsLayout } from '../src/page-flags-layout.js';
import type { PageFlagsLayout } from '../src/page-flags-layout.js';
import { PG_arch_1, PG_head, PG_locked, PG_mlocked, PG_reserved, PG_unevictable, PG_waiters, formatPageFlags } from '../src/page-flags.js';
import { PPC64, X86_64 } from './machines.js';

describe('page->flags layout (include/linux/page-flags-layout.h, v5.13)', () => {
  it('x86_64, SPARSEMEM_VMEMMAP, NODES_SHIFT 10: node at 54, zone at 51, 25 flag bits', () => {
    const c = createMmConfig(X86_64);
    expect(c.pageflags.NR_PAGEFLAGS).toBe(25);
    expect([c.pageflags.PG_uncached, c.pageflags.PG_hwpoison, c.pageflags.PG_arch_2]).toEqual([22, 23, 24]);
    const l = c.layout;
    expect(l).toMatchObject({
      SECTIONS_WIDTH: 0,
      SECTIONS_SHIFT: 19,
      NODES_WIDTH: 10,
      NODES_PGSHIFT: 54,
      ZONES_WIDTH: 3,
      ZONES_PGSHIFT: 51,
      LAST_CPUPID_WIDTH: 0,
      KASAN_TAG_WIDTH: 0,
      ZONEID_SHIFT: 13,
      ZONEID_PGSHIFT: 51,
      NODE_NOT_IN_PAGE_FLAGS: false,
      unusedBits: 26,
    });
  });

  it('x86_64 classic SPARSEMEM: a 19-bit section field at 45, node at 35, zone at 32', () => {
    const l = createMmConfig({ ...X86_64, sparsememVmemmap: false }).layout;
    expect([l.SECTIONS_WIDTH, l.SECTIONS_PGSHIFT, l.NODES_PGSHIFT, l.ZONES_PGSHIFT, l.unusedBits]).toEqual([19, 45, 35, 32, 7]);
  });

  it('NUMA balancing puts LAST_CPUPID in the flags when it fits, else out of them', () => {
    const l = createMmConfig({ ...X86_64, numaBalancing: true, nrCpusBits: 13 }).layout;
    expect([l.LAST_CPUPID_SHIFT, l.LAST_CPUPID_WIDTH, l.LAST_CPUPID_PGSHIFT, l.unusedBits]).toEqual([21, 21, 30, 5]);
    const classic = createMmConfig({ ...X86_64, numaBalancing: true, nrCpusBits: 13, sparsememVmemmap: false }).layout;
    expect(classic.LAST_CPUPID_WIDTH).toBe(0);
    expect(classic.LAST_CPUPID_NOT_IN_PAGE_FLAGS).toBe(true);
    const kasan = createMmConfig({ ...X86_64, numaBalancing: true, nrCpusBits: 13, kasanTags: true }).layout;
    expect([kasan.LAST_CPUPID_WIDTH, kasan.KASAN_TAG_WIDTH, kasan.KASAN_TAG_PGSHIFT]).toEqual([0, 8, 43]);
  });

  it('powerpc64 with 64K pages: node at 56, zone (2 bits) at 54, 24 flag bits', () => {
    const c = createMmConfig(PPC64);
    expect(c.pageflags.NR_PAGEFLAGS).toBe(24);
    expect(c.pageflags.PG_uncached).toBeUndefined();
    expect([c.pageflags.PG_hwpoison, c.pageflags.PG_arch_2]).toEqual([22, 23]);
    expect(c.layout).toMatchObject({ NODES_WIDTH: 8, NODES_PGSHIFT: 56, ZONES_WIDTH: 2, ZONES_PGSHIFT: 54, ZONEID_SHIFT: 10, unusedBits: 30 });
  });

  it('the 2015 configuration without DMA has a 2-bit zone field', () => {
    const l = createMmConfig({ ...X86_64, zonesShiftBudget: '2015', zoneDma: false }).layout;
    expect([l.ZONES_WIDTH, l.ZONES_PGSHIFT, l.ZONEID_SHIFT]).toEqual([2, 52, 12]);
  });

  it('reproduces the header #errors and NODE_NOT_IN_PAGE_FLAGS', () => {
    expect(checkMmConfig({ ...X86_64, bitsPerLong: 32 })).toBe('Vmemmap: No space for nodes field in page flags');
    const far: PageFlagsLayout = computePageFlagsLayout({
      bitsPerLong: 64,
      nrPageflags: 25,
      zonesShift: 3,
      nodesShift: 12,
      sectionsShift: 25,
      sparsememVmemmap: false,
      lastCpupidShift: 0,
      kasanTagWidth: 0,
    });
    expect([far.NODES_WIDTH, far.NODE_NOT_IN_PAGE_FLAGS, far.ZONEID_SHIFT, far.ZONEID_PGOFF]).toEqual([0, true, 28, 36]);
    expect(() =>
      computePageFlagsLayout({
        bitsPerLong: 64,
        nrPageflags: 25,
        zonesShift: 3,
        nodesShift: 12,
        sectionsShift: 30,
        sparsememVmemmap: false,
        lastCpupidShift: 0,
        kasanTagWidth: 8,
      }),
    ).toThrow(new KernelError('EINVAL', 'Not enough bits in page flags'));
    const err = (() => {
      try {
        computePageFlagsLayout({
          bitsPerLong: 32,
          nrPageflags: 22,
          zonesShift: 2,
          nodesShift: 10,
          sectionsShift: 0,
          sparsememVmemmap: true,
          lastCpupidShift: 0,
          kasanTagWidth: 0,
        });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(KernelError);
    expect(err).toMatchObject({ errno: 'EINVAL', message: 'Vmemmap: No space for nodes field in page flags' });
    expect(() =>
      computePageFlagsLayout({
        bitsPerLong: 32,
        nrPageflags: 33,
        zonesShift: 0,
        nodesShift: 0,
        sectionsShift: 0,
        sparsememVmemmap: true,
        lastCpupidShift: 0,
        kasanTagWidth: 0,
      }),
    ).toThrow(new KernelError('EINVAL', 'Not enough bits in page flags'));
  });

  it('draws the word for students', () => {
    const text = renderPageFlagsLayout(createMmConfig(X86_64).layout, 'x86_64');
    expect(text.split('\n')).toEqual([
      'x86_64 (64 bits, NR_PAGEFLAGS 25)',
      '  6666555555555544444444443333333333222222222211111111110000000000',
      '  3210987654321098765432109876543210987654321098765432109876543210',
      '  NNNNNNNNNNZZZ..........................FFFFFFFFFFFFFFFFFFFFFFFFF',
      '',
      '  bits    field         width',
      '  63..54  N NODE          10',
      '  53..51  Z ZONE           3',
      '  50..25  . (unused)      26',
      '  24..0   F FLAGS         25',
      '',
      '  note: SECTIONS_WIDTH 0: SPARSEMEM_VMEMMAP finds the page by address',
      '  note: ZONEID (13 bits at 51) identifies the zone for the buddy allocator',
      '',
    ]);
    const classic = renderPageFlagsLayout(createMmConfig({ ...X86_64, sparsememVmemmap: false, numaBalancing: true, nrCpusBits: 13 }).layout);
    expect(classic).toMatch(/ {2}63\.\.45 {2}S SECTION +19\n/);
    expect(classic).toContain('LAST_CPUPID_NOT_IN_PAGE_FLAGS');
  });
});

describe('page flags (include/linux/page-flags.h)', () => {
  it('numbers the fixed flags as enum pageflags does', () => {
    expect([PG_locked, PG_waiters, PG_arch_1, PG_reserved, PG_head, PG_unevictable, PG_mlocked]).toEqual([0, 7, 11, 12, 16, 20, 21]);
  });

  it('prints flag names in mmflags.h order (%pGp)', () => {
    const bits = createMmConfig(X86_64).pageflags;
    expect(formatPageFlags(2 ** PG_reserved, bits)).toBe('reserved');
    expect(formatPageFlags(2 ** PG_waiters + 2 ** PG_locked + 2 ** PG_head, bits)).toBe('locked|waiters|head');
    expect(formatPageFlags(2 ** 23, bits)).toBe('hwpoison');
    expect(formatPageFlags(0, bits)).toBe('');
  });
});
