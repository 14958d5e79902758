import { describe, expect, it } from 'vitest';
import { GFP_DMA, GFP_KERNEL } from '../src/gfp.js';
import { nodeStatNames } from '../src/vmstat-items.js';
import { GiB, MiB, PPC64, X86_64, addDeviceRange, boot } from './machines.js';

const SMALL = { memory: [{ start: 0x1000, end: 0x9f000 }, { start: 0x100000, end: 64 * MiB }] };

const NODE_STATS = [
  'nr_inactive_anon',
  'nr_active_anon',
  'nr_inactive_file',
  'nr_active_file',
  'nr_unevictable',
  'nr_slab_reclaimable',
  'nr_slab_unreclaimable',
  'nr_isolated_anon',
  'nr_isolated_file',
  'workingset_nodes',
  'workingset_refault_anon',
  'workingset_refault_file',
  'workingset_activate_anon',
  'workingset_activate_file',
  'workingset_restore_anon',
  'workingset_restore_file',
  'workingset_nodereclaim',
  'nr_anon_pages',
  'nr_mapped',
  'nr_file_pages',
  'nr_dirty',
  'nr_writeback',
  'nr_writeback_temp',
  'nr_shmem',
  'nr_shmem_hugepages',
  'nr_shmem_pmdmapped',
  'nr_file_hugepages',
  'nr_file_pmdmapped',
  'nr_anon_transparent_hugepages',
  'nr_vmscan_write',
  'nr_vmscan_immediate_reclaim',
  'nr_dirtied',
  'nr_written',
  'nr_kernel_misc_reclaimable',
  'nr_foll_pin_acquired',
  'nr_foll_pin_released',
  'nr_kernel_stack',
  'nr_page_table_pages',
  'nr_swapcached',
];

const stat = (name: string, v: number): string => `      ${name.padEnd(12)} ${v}`;

function populated(o: {
  name: string;
  free: number;
  min: number;
  low: number;
  high: number;
  spanned: number;
  present: number;
  managed: number;
  protection: string;
  numa: number[];
  high_: number;
  batch: number;
  threshold: number;
  start: number;
  nodeStats: boolean;
}): string[] {
  return [
    `Node 0, zone ${o.name.padStart(8)}`,
    ...(o.nodeStats ? ['  per-node stats', ...NODE_STATS.map((n) => stat(n, 0))] : []),
    `  pages free     ${o.free}`,
    `        min      ${o.min}`,
    `        low      ${o.low}`,
    `        high     ${o.high}`,
    `        spanned  ${o.spanned}`,
    `        present  ${o.present}`,
    `        managed  ${o.managed}`,
    '        cma      0',
    `        protection: ${o.protection}`,
    stat('nr_free_pages', o.free),
    ...['nr_zone_inactive_anon', 'nr_zone_active_anon', 'nr_zone_inactive_file', 'nr_zone_active_file', 'nr_zone_unevictable', 'nr_zone_write_pending', 'nr_mlock', 'nr_bounce', 'nr_zspages', 'nr_free_cma'].map((n) => stat(n, 0)),
    ...['numa_hit', 'numa_miss', 'numa_foreign', 'numa_interleave', 'numa_local', 'numa_other'].map((n, i) => stat(n, o.numa[i] ?? 0)),
    '  pagesets',
    '    cpu: 0',
    '              count: 0',
    `              high:  ${o.high_}`,
    `              batch: ${o.batch}`,
    `  vm stats threshold: ${o.threshold}`,
    '  node_unreclaimable:  0',
    `  start_pfn:           ${o.start}`,
  ];
}

const unpopulated = (name: string, protection: string): string[] => [
  `Node 0, zone ${name.padStart(8)}`,
  '  pages free     0',
  '        min      0',
  '        low      0',
  '        high     0',
  '        spanned  0',
  '        present  0',
  '        managed  0',
  '        cma      0',
  `        protection: ${protection}`,
];

describe('/proc/zoneinfo (zoneinfo_show_print, v5.13)', () => {
  it('prints every zone; unpopulated ones stop after protection:', () => {
    const mm = boot(SMALL);
    mm.allocPages(GFP_DMA, 0);
    mm.allocPages(GFP_KERNEL, 0);
    // min_free_kbytes = int_sqrt(16 * 16286 pages * 4 KiB) = 1020 -> 255 pages
    // DMA:   min 255*3998/16286 = 62,  low/high +max(62/4, 3998/1000)   = +15
    // DMA32: min 255*12288/16286 = 192, low/high +max(192/4, 12288/1000) = +48
    // protection of DMA against DMA32 and above: 12288 / 256 = 48
    // pcp: DMA batch 0 -> high 0, batch 1; DMA32 batch 3 -> high 18
    const expected = [
      ...populated({
        name: 'DMA',
        free: 3997,
        min: 62,
        low: 77,
        high: 92,
        spanned: 4095,
        present: 3998,
        managed: 3998,
        protection: '(0, 48, 48, 48, 48)',
        numa: [1, 0, 0, 0, 1, 0],
        high_: 0,
        batch: 1,
        threshold: 2,
        start: 1,
        nodeStats: true,
      }),
      ...populated({
        name: 'DMA32',
        free: 12287,
        min: 192,
        low: 240,
        high: 288,
        spanned: 12288,
        present: 12288,
        managed: 12288,
        protection: '(0, 0, 0, 0, 0)',
        numa: [1, 0, 0, 0, 1, 0],
        high_: 18,
        batch: 3,
        threshold: 2,
        start: 4096,
        nodeStats: false,
      }),
      ...unpopulated('Normal', '(0, 0, 0, 0, 0)'),
      ...unpopulated('Movable', '(0, 0, 0, 0, 0)'),
      ...unpopulated('Device', '(0, 0, 0, 0, 0)'),
      '',
    ].join('\n');
    expect(mm.zoneinfo()).toBe(expected);
  });

  it('a remapped ZONE_DEVICE range is populated but has no managed pages', () => {
    const mm = boot(SMALL);
    addDeviceRange(mm, (8 * GiB) / 4096, 32768, { pgmap: 1 });
    const text = mm.zoneinfo();
    const device = text.slice(text.indexOf('Node 0, zone   Device'));
    expect(device.split('\n').slice(0, 12)).toEqual([
      'Node 0, zone   Device',
      '  pages free     0',
      '        min      0',
      '        low      0',
      '        high     0',
      '        spanned  32768',
      '        present  32768',
      '        managed  0',
      '        cma      0',
      '        protection: (0, 0, 0, 0, 0)',
      stat('nr_free_pages', 0),
      stat('nr_zone_inactive_anon', 0),
    ]);
    expect(device).toContain('  start_pfn:           2097152\n');
    expect(mm.buddyinfo()).toContain('zone   Device      0      0');
  });

  it('prints one pageset per online CPU and the powerpc zones', () => {
    const mm = boot({ arch: { ...PPC64, nrCpus: 2 }, memory: [{ start: 0, end: 1 * GiB }] });
    const text = mm.zoneinfo();
    expect(text.startsWith('Node 0, zone   Normal\n  per-node stats\n')).toBe(true);
    expect(text.match(/ {4}cpu: \d/g)).toEqual(['    cpu: 0', '    cpu: 1']);
    // 2 cpus: threshold 2 * fls(2) * (1 + fls(16384 >> 11)) = 2 * 2 * 5 = 20
    expect(text).toContain('  vm stats threshold: 20\n');
    expect(text).toContain('Node 0, zone  Movable\n');
    expect(text.endsWith('        protection: (0, 0, 0)\n')).toBe(true);
  });

  it('the 2015 configuration has no ZONE_DMA: DMA32, Normal, Movable, Device', () => {
    const mm = boot({ arch: { ...X86_64, zonesShiftBudget: '2015', zoneDma: false }, memory: [{ start: 0x1000, end: 64 * MiB }] });
    const zones = mm.zoneinfo().match(/^Node 0, zone +\w+$/gm);
    expect(zones).toEqual(['Node 0, zone    DMA32', 'Node 0, zone   Normal', 'Node 0, zone  Movable', 'Node 0, zone   Device']);
    expect(mm.zoneinfo()).toContain('        protection: (0, 0, 0, 0)\n');
  });

  it('names node counters per configuration', () => {
    const names = nodeStatNames(boot().config);
    expect(names).toEqual(NODE_STATS);
  });
});

describe('/proc/buddyinfo and /proc/pagetypeinfo', () => {
  it('buddyinfo lists populated zones only', () => {
    const mm = boot(SMALL);
    expect(mm.buddyinfo().split('\n').length).toBe(3);
  });

  it('pagetypeinfo splits the free lists by migrate type and counts pageblocks', () => {
    const mm = boot(SMALL);
    const text = mm.pagetypeinfo();
    expect(text.split('\n').slice(0, 4)).toEqual([
      'Page block order: 9',
      'Pages per block:  512',
      '',
      'Free pages count per migrate type at order       0      1      2      3      4      5      6      7      8      9     10 ',
    ]);
    expect(text).toContain('Node    0, zone      DMA, type    Unmovable      2      2      2      2      2      1      1      0      1      0      0 \n');
    expect(text).toContain('Node    0, zone    DMA32, type      Movable      0      0      0      0      0      0      0      0      0      0     12 \n');
    expect(text).toContain('\nNumber of blocks type     Unmovable      Movable  Reclaimable   HighAtomic      Isolate \n');
    expect(text).toContain('Node 0, zone      DMA            1            7            0            0            0 \n');
    expect(text).toContain('Node 0, zone    DMA32            0           24            0            0            0 \n');
    expect(boot({ arch: X86_64 }).pagetypeinfo()).toContain('Page block order: 9');
  });
});
