// The platform profiles: the architecture answers each package gets, and
// the decisions v5.13's arch/ code makes (memory block size, compat align).
import { checkMmConfig, createMmConfig } from '@zonedev/mmzone';
import { sparseLayout } from '@zonedev/sparse-vmemmap';
import { describe, expect, it } from 'vitest';
import {
  memoryBlockSizeLine,
  probeMemoryBlockSize,
  x86Profile,
  X86_MAX_BLOCK_SIZE,
  X86_MIN_MEMORY_BLOCK_SIZE,
} from '../src/x86/profile.js';
import {
  PPC_MIN_MEMORY_BLOCK_SIZE,
  pnvMemoryBlockSize,
  powerpcProfile,
  ppcMemremapCompatAlign,
  pseriesMemoryBlockSize,
} from '../src/powerpc/profile.js';
import { parseMmCmdline, unknownBootoptionsLine } from '../src/machine/cmdline.js';
import { numaCleanupMeminfo, qemuSrat, x86KernelImage } from '../src/machine/x86-setup.js';
import { pcMemoryLayout } from '../src/x86/qemu-pc.js';

const M = 2 ** 20;
const G = 2 ** 30;

describe('x86_64 probe_memory_block_size() (arch/x86/mm/init_64.c, v5.13)', () => {
  it.each([
    // [boot memory end, hypervisor, expected]
    [2 * G, true, 128 * M],
    [63 * G, false, 128 * M],
    [64 * G, false, 2 * G],
    [64 * G, true, 2 * G],
    [65 * G, true, G],
    [64.5 * G, true, 512 * M],
    [64 * G + 128 * M, true, 128 * M],
    [65 * G, false, 2 * G],
  ])('end %d, hypervisor %s: %d', (end, hypervisor, bz) => {
    expect(probeMemoryBlockSize({ bootMemEnd: end, hypervisor })).toBe(bz);
  });

  it('prefers a size the platform set (UV), and logs in MB', () => {
    expect(probeMemoryBlockSize({ bootMemEnd: 2 * G, hypervisor: true, setMemoryBlockSize: 512 * M })).toBe(512 * M);
    expect([X86_MIN_MEMORY_BLOCK_SIZE, X86_MAX_BLOCK_SIZE]).toEqual([128 * M, 2 * G]);
    expect(memoryBlockSizeLine(G)).toBe('x86/mm: Memory block size: 1024MB');
  });

  it('probes once, on first use, and logs the line then', () => {
    const lines: string[] = [];
    const arch = x86Profile().hotplug({ maxPfn: (65 * G) / 4096, log: (l) => lines.push(l) });
    expect(lines).toEqual([]);
    expect(arch.memoryBlockSizeBytes()).toBe(G);
    expect(arch.memoryBlockSizeBytes()).toBe(G);
    expect(lines).toEqual(['x86/mm: Memory block size: 1024MB']);
    expect(arch).toMatchObject({ mhpMemmapOnMemory: true, addPagesUpdatesMaxPfn: true, memoryProbe: true });
    expect(arch.memoryAddPhysaddrToNid?.(0)).toBe(0);
  });
});

describe('the x86_64 profile', () => {
  it('4-level: 4K pages, 128 MiB sections, 46 bits, five zones, PMD vmemmap', () => {
    const p = x86Profile();
    const c = createMmConfig(p.mm);
    expect(c.zoneNames).toEqual(['DMA', 'DMA32', 'Normal', 'Movable', 'Device']);
    expect([c.pageSize, c.pagesPerSection, c.maxPhysmemBits, c.ZONES_SHIFT, c.MAX_ORDER, c.pageblockNrPages]).toEqual([4096, 32768, 46, 3, 11, 512]);
    const l = sparseLayout(p.sparse);
    expect([l.PMD_SIZE, l.VMEMMAP_PAGE_SIZE, l.SUBSECTIONS_PER_SECTION, l.VMEMMAP_START]).toEqual([2 * M, 2 * M, 64, 0xffffea0000000000n]);
    expect(p.memremap.memremapCompatAlign).toBeUndefined(); // the generic SUBSECTION_SIZE
    expect(p.pageOffset).toBe(0xffff888000000000n);
    expect(p.resources).toEqual({ physAddrBits: 46, maxPhysmemBits: 46, paSectionShift: 27, pageShift: 12 });
  });

  it('5-level: 52 bits and the LA57 VMEMMAP_START and PAGE_OFFSET', () => {
    const p = x86Profile({ mmu: '5level' });
    expect([p.maxPhysmemBits, p.sparse.vmemmapStart, p.pageOffset]).toEqual([52, 0xffd4000000000000n, 0xff11000000000000n]);
    expect(createMmConfig(p.mm).sectionsShift).toBe(25);
  });

  it('could not have had ZONE_DEVICE with ZONE_DMA under the 2015 budget', () => {
    expect(checkMmConfig({ ...x86Profile().mm, zonesShiftBudget: '2015' })).toMatch(/^ZONE_DEVICE depends on !ZONE_DMA/);
    expect(checkMmConfig({ ...x86Profile().mm, zonesShiftBudget: '2015', zoneDma: false })).toBeUndefined();
  });

  it('lays the kernel image out at 16 MiB with rodata and data on 2 MiB boundaries', () => {
    const i = x86KernelImage();
    expect([i.text, i.rodata, i.data].map((a) => a % (2 * M))).toEqual([0, 0, 0]);
    expect(i.text).toBe(16 * M);
    expect(i.end % 4096).toBe(0);
  });
});

describe('the powerpc profile', () => {
  it('hash: 64K pages, 16 MiB sections, 51 bits, three zones, 16 MiB vmemmap pages and compat align', () => {
    const p = powerpcProfile();
    const c = createMmConfig(p.mm);
    expect(c.zoneNames).toEqual(['Normal', 'Movable', 'Device']);
    expect([c.pageSize, c.pagesPerSection, c.maxPhysmemBits, c.ZONES_SHIFT, c.pageblockNrPages]).toEqual([65536, 256, 51, 2, 256]);
    const l = sparseLayout(p.sparse);
    expect([l.PMD_SIZE, l.VMEMMAP_PAGE_SIZE, l.SUBSECTIONS_PER_SECTION]).toEqual([16 * M, 16 * M, 8]);
    expect(p.memremap.memremapCompatAlign?.()).toBe(16 * M);
    expect(checkMmConfig({ ...p.mm, zonesShiftBudget: '2015' })).toBeUndefined();
  });

  it('radix: 2 MiB vmemmap pages, pageblocks and compat align', () => {
    const p = powerpcProfile({ mmu: 'radix' });
    expect([p.sparse.vmemmapPageSize, p.sparse.pmdSize, createMmConfig(p.mm).pageblockNrPages * 65536]).toEqual([2 * M, 2 * M, 2 * M]);
    expect(p.memremap.memremapCompatAlign?.()).toBe(2 * M);
    expect(ppcMemremapCompatAlign('hash')).toBe(16 * M);
  });

  it('memory blocks: pseries reads the tree, powernv follows the MMU', () => {
    expect(pseriesMemoryBlockSize(256 * M, [])).toBe(256 * M);
    expect(pseriesMemoryBlockSize(undefined, [{ base: 0, size: G }, { base: G, size: G }])).toBe(G);
    expect(pseriesMemoryBlockSize(undefined, [{ base: 0, size: 2 * G }])).toBe(PPC_MIN_MEMORY_BLOCK_SIZE);
    expect([pnvMemoryBlockSize('hash'), pnvMemoryBlockSize('radix')]).toEqual([256 * M, G]);
    const arch = powerpcProfile().hotplug({ maxPfn: 0, lmbSize: 256 * M });
    expect(arch).toMatchObject({ mhpMemmapOnMemory: false, addPagesUpdatesMaxPfn: false, memoryProbe: true });
    expect(arch.memoryBlockSizeBytes()).toBe(256 * M);
  });
});

describe("QEMU's SRAT and the kernel's numa_cleanup_meminfo()", () => {
  it('cuts the 640K hole out of node 0 (not shifting the rest), and puts the hot-plug region on the last node', () => {
    const layout = pcMemoryLayout({ ramSize: 4 * G, slots: 2, maxmem: 6 * G });
    expect(qemuSrat(layout, [2 * G, 2 * G])).toEqual([
      { base: 0, length: 0xa0000, node: 0, hotpluggable: false },
      { base: 0x100000, length: 0x7ff00000, node: 0, hotpluggable: false },
      { base: 0x80000000, length: 0x40000000, node: 1, hotpluggable: false },
      { base: 0x100000000, length: 0x40000000, node: 1, hotpluggable: false },
      { base: 0x140000000, length: 0x100000000, node: 1, hotpluggable: true },
    ]);
  });

  it('moves blocks without boot memory aside, clips to max_pfn, and merges a node across a hole', () => {
    const log: string[] = [];
    const r = numaCleanupMeminfo(
      [
        { start: 0, end: 0xa0000, nid: 0 },
        { start: 0x100000, end: 0xc0000000, nid: 0 },
        { start: 0x140000000, end: 0x240000000, nid: 0 },
      ],
      0xbffe0,
      (s) => s < 0xc0000000,
      (l) => log.push(l),
    );
    expect(r.meminfo).toEqual([{ start: 0, end: 0xbffe0000, nid: 0 }]);
    expect(r.reserved).toEqual([{ start: 0x140000000, end: 0x240000000, nid: 0 }]);
    expect(log).toEqual(['NUMA: Node 0 [mem 0x00000000-0x0009ffff] + [mem 0x00100000-0xbffdffff] -> [mem 0x00000000-0xbffdffff]']);
  });
});

describe('the kernel command line (init/main.c)', () => {
  it('takes the mm options, drops unknown module parameters, passes the rest to init', () => {
    const c = parseMmCmdline('x86_64', 'mem=2G memhp_default_state=online movable_node memory_hotplug.memmap_on_memory foo x=1 nosuch.param=3 disable_radix');
    expect(c).toMatchObject({ memhpDefaultState: 'online', memmapOnMemory: true, movableNode: true, disableRadix: false, errors: [] });
    expect(c.unknown).toEqual(['foo', 'disable_radix', 'x=1']);
    expect(unknownBootoptionsLine(c.unknown)).toBe('Unknown kernel command line parameters "foo disable_radix x=1", will be passed to user space.');
    expect(unknownBootoptionsLine([])).toBeUndefined();
  });

  it('on powerpc: no memmap_on_memory parameter (silently), memmap= unknown, disable_radix known', () => {
    const c = parseMmCmdline('powerpc', 'memory_hotplug.memmap_on_memory=1 memmap=1G!4G disable_radix');
    expect(c).toMatchObject({ memmapOnMemory: false, disableRadix: true, unknown: ['memmap=1G!4G'] });
  });

  it("rejects a bool it cannot parse, as parse_args() does", () => {
    expect(parseMmCmdline('x86_64', 'memory_hotplug.memmap_on_memory=maybe').errors).toEqual([
      "Booting kernel: `maybe' invalid for parameter `memory_hotplug.memmap_on_memory'",
    ]);
    expect(parseMmCmdline('x86_64', 'memory_hotplug.memmap_on_memory=off').memmapOnMemory).toBe(false);
  });
});
