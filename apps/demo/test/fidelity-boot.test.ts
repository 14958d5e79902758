// Boot fidelity against QEMU 6.0 and Linux v5.13: the SRAT QEMU builds, the
// e820 end-of-RAM walks, powerpc's System RAM resources and radix direct map.
import { describe, expect, it } from 'vitest';
import { bootShellMachine as bootMachine } from '../src/commands/shell-machine.js';
import { DEFAULT_MACHINE } from '@zonedev/platform';
import { qemuSrat, radixCreatePhysicalMapping, pcMemoryLayout } from '@zonedev/platform';
import { Kernel } from '@zonedev/kernel';
import {
  e820EndOfLowRamPfn,
  e820EndOfRamPfn,
  e820ReserveResources,
  E820_TYPE_PRAM,
  E820_TYPE_RAM,
  E820_TYPE_RESERVED,
} from '@zonedev/platform';
import { run } from '../src/shell/shell.js';

const G = 2 ** 30;
const M = 2 ** 20;

/** The dmesg lines without their timestamps. */
function lines(text: string): string[] {
  return text.split('\n').map((l) => l.replace(/^\[ *[0-9.]+\] /, ''));
}

describe("QEMU's build_srat(): the 640K hole is cut from node 0 without moving the next node", () => {
  // -m 6G, 3 nodes of 2 GiB: below 4G 3 GiB, above 3 GiB.
  const m = bootMachine({ ...DEFAULT_MACHINE, ramSize: 6 * G, maxmem: 6 * G, numa: 3 });
  const dmesg = lines(m.kernel.log.dmesg());

  it('gives node 1 the RAM from 2 GiB and node 2 the RAM from 5 GiB', () => {
    expect(dmesg.filter((l) => l.startsWith('ACPI: SRAT:'))).toEqual([
      'ACPI: SRAT: Node 0 PXM 0 [mem 0x00000000-0x0009ffff]',
      'ACPI: SRAT: Node 0 PXM 0 [mem 0x00100000-0x7fffffff]',
      'ACPI: SRAT: Node 1 PXM 1 [mem 0x80000000-0xbfffffff]',
      'ACPI: SRAT: Node 1 PXM 1 [mem 0x100000000-0x13fffffff]',
      'ACPI: SRAT: Node 2 PXM 2 [mem 0x140000000-0x1bfffffff]',
    ]);
    expect(dmesg.filter((l) => l.startsWith('NUMA: '))).toEqual([
      'NUMA: Node 0 [mem 0x00000000-0x0009ffff] + [mem 0x00100000-0x7fffffff] -> [mem 0x00000000-0x7fffffff]',
      'NUMA: Node 1 [mem 0x80000000-0xbfffffff] + [mem 0x100000000-0x13fffffff] -> [mem 0x80000000-0x13fffffff]',
    ]);
    expect(dmesg).toContain('Initmem setup node 1 [mem 0x0000000080000000-0x000000013fffffff]');
    expect(dmesg).toContain('Initmem setup node 2 [mem 0x0000000140000000-0x00000001bfffffff]');
  });

  it('puts the block below 2 GiB on node 0 only, the one at 2 GiB on node 1', () => {
    const n0 = run('ls /sys/devices/system/node/node0', m).stdout.split('\n');
    const n1 = run('ls /sys/devices/system/node/node1', m).stdout.split('\n');
    expect(n0).toContain('memory15');
    expect(n1).not.toContain('memory15');
    expect(n1).toContain('memory16');
    expect(m.hotplug.arch.memoryAddPhysaddrToNid?.(0x7fffffff)).toBe(0);
    expect(m.hotplug.arch.memoryAddPhysaddrToNid?.(0x80000000)).toBe(1);
  });

  it('starts the next node at 1 MiB when a node ends inside the hole, as QEMU does', () => {
    const layout = pcMemoryLayout({ ramSize: 2 * G });
    expect(qemuSrat(layout, [0xc0000, 2 * G - 0xc0000])).toEqual([
      { base: 0, length: 0xa0000, node: 0, hotpluggable: false },
      { base: 0x100000, length: 2 * G - M, node: 1, hotpluggable: false },
      { base: 0x100000000, length: 0x40000, node: 1, hotpluggable: false },
    ]);
  });
});

describe('e820__end_of_ram_pfn() and e820__end_of_low_ram_pfn()', () => {
  const table = [
    { addr: 0x1000, size: 0x9e000, type: E820_TYPE_RAM },
    { addr: 0x100000, size: 0xbfee0000, type: E820_TYPE_RAM },
    { addr: 0xbffe0000, size: 0x20000, type: E820_TYPE_RESERVED },
    { addr: 0x100000000, size: 0x80000000, type: E820_TYPE_RAM },
  ];

  it('walk the table below MAX_ARCH_PFN and below 4 GiB, both naming MAX_ARCH_PFN', () => {
    expect(e820EndOfRamPfn(table)).toEqual({ pfn: 0x180000, log: 'last_pfn = 0x180000 max_arch_pfn = 0x400000000' });
    expect(e820EndOfLowRamPfn(table)).toEqual({ pfn: 0xbffe0, log: 'last_pfn = 0xbffe0 max_arch_pfn = 0x400000000' });
    // An entry across 4 GiB ends the low walk at 4 GiB.
    expect(e820EndOfLowRamPfn([{ addr: 0, size: 0x140000000, type: E820_TYPE_RAM }]).pfn).toBe(0x100000);
  });

  it('are both logged when RAM reaches above 4 GiB, once otherwise', () => {
    const big = lines(bootMachine({ ...DEFAULT_MACHINE, ramSize: 6 * G, maxmem: 6 * G }).kernel.log.dmesg());
    expect(big.filter((l) => l.startsWith('last_pfn = '))).toEqual([
      'last_pfn = 0x1c0000 max_arch_pfn = 0x400000000',
      'last_pfn = 0xbffe0 max_arch_pfn = 0x400000000',
    ]);
    const at = big.indexOf('last_pfn = 0x1c0000 max_arch_pfn = 0x400000000');
    expect(big[at + 1]).toBe('last_pfn = 0xbffe0 max_arch_pfn = 0x400000000');
    const small = lines(bootMachine({ ...DEFAULT_MACHINE, ramSize: 3 * G, maxmem: 3 * G }).kernel.log.dmesg());
    expect(small.filter((l) => l.startsWith('last_pfn = '))).toEqual(['last_pfn = 0xbffe0 max_arch_pfn = 0x400000000']);
  });
});

describe('powerpc: add_system_ram_resources() registers each memblock region', () => {
  it('gives each node its own System RAM line, and merges LMBs of one node', () => {
    const m = bootMachine({ ...DEFAULT_MACHINE, platform: 'powerpc', ramSize: 6 * G, maxmem: 6 * G, numa: 3 });
    expect(m.powerpc!.memory.map((r) => r.nid)).toEqual([0, 1, 2]);
    expect(run('cat /proc/iomem', m).stdout).toBe(
      ['00000000-7fffffff : System RAM', '80000000-ffffffff : System RAM', '100000000-17fffffff : System RAM', ''].join('\n'),
    );
  });

  it('keeps one line for one node', () => {
    const m = bootMachine({ ...DEFAULT_MACHINE, platform: 'powerpc', ramSize: 3 * G, maxmem: 3 * G });
    expect(run('cat /proc/iomem', m).stdout).toBe('00000000-bfffffff : System RAM\n');
  });
});

describe('powerpc radix: arch_report_meminfo() prints the direct map', () => {
  it('maps in 2 MiB steps, 64 KiB pages for a tail that is not 2 MiB aligned, never 1 GiB beyond ibm,lmb-size', () => {
    const acc = { k4: 0, k64: 0, m2: 0, g1: 0 };
    radixCreatePhysicalMapping(0, G + M, 256 * M, 32 * M, acc);
    expect(acc).toEqual({ k4: 0, k64: M, m2: G, g1: 0 });
    const big = { k4: 0, k64: 0, m2: 0, g1: 0 };
    // A 1 GiB step needs 1 GiB of room: the boundary at 32 MiB keeps the first GiB in 2 MiB pages.
    radixCreatePhysicalMapping(0, 3 * G, 4 * G, 32 * M, big);
    expect(big).toEqual({ k4: 0, k64: 0, m2: G, g1: 2 * G });
  });

  it('shows the four lines, the 64k one a column wider; hot-added memory adds its mapping', () => {
    const m = bootMachine({
      ...DEFAULT_MACHINE,
      platform: 'powerpc',
      mmu: 'radix',
      ramSize: 2 * G,
      slots: 2,
      maxmem: 4 * G,
      cmdline: 'mem=1025M',
    });
    const dm = (): string => run('cat /proc/meminfo', m).stdout.split('\n').filter((l) => l.startsWith('DirectMap')).join('\n');
    expect(dm()).toBe(
      ['DirectMap4k:           0 kB', 'DirectMap64k:        1024 kB', 'DirectMap2M:     1048576 kB', 'DirectMap1G:           0 kB'].join('\n'),
    );
    run('object_add memory-backend-ram,id=mem1,size=256M\ndevice_add pc-dimm,id=dimm1,memdev=mem1', m);
    expect(dm()).toContain('DirectMap2M:     1310720 kB');
  });

  it('prints none under the hash MMU', () => {
    const m = bootMachine({ ...DEFAULT_MACHINE, platform: 'powerpc', ramSize: 2 * G, maxmem: 2 * G });
    expect(run('cat /proc/meminfo', m).stdout).not.toContain('DirectMap');
  });
});

describe('e820__reserve_resources(): entries the iomem root cannot hold are left out, as insert_resource() fails', () => {
  it('skips RAM and legacy pmem beyond the physical address bits and keeps the rest', () => {
    const k = new Kernel();
    const top = k.iomem.root.end + 1;
    const res = e820ReserveResources(k.iomem, [
      { addr: 0x1000, size: 0x9e000, type: E820_TYPE_RAM },
      { addr: 0x100000000, size: top, type: E820_TYPE_RAM },
      { addr: top, size: G, type: E820_TYPE_PRAM },
    ]);
    expect(res.map((r) => r.parent !== undefined)).toEqual([true, false, false]);
    expect(k.iomem.procIomem()).toBe('00001000-0009efff : System RAM\n');
  });

  it('boots with memmap=1G!100T: the entry is in the user map, not in /proc/iomem, and max_pfn is the RAM end', () => {
    const m = bootMachine({ ...DEFAULT_MACHINE, ramSize: 5 * G, maxmem: 5 * G, cmdline: 'memmap=1G!100T' });
    const dmesg = lines(m.kernel.log.dmesg());
    expect(dmesg).toContain('user: [mem 0x0000640000000000-0x000064003fffffff] persistent (type 12)');
    expect(dmesg.filter((l) => l.startsWith('last_pfn = '))).toEqual([
      'last_pfn = 0x180000 max_arch_pfn = 0x400000000',
      'last_pfn = 0xbffe0 max_arch_pfn = 0x400000000',
    ]);
    const iomem = run('cat /proc/iomem', m).stdout;
    expect(iomem).toContain('100000000-17fffffff : System RAM\n');
    expect(iomem).not.toContain('Persistent Memory');
  });
});

describe("v5.13's free_area_init_core() group and build_all_zonelists()' early estimate", () => {
  it('x86_64 -m 512M: memmap, dma_reserve (the first MiB), LIFO batch and holes, zone by zone', () => {
    const m = bootMachine({ ...DEFAULT_MACHINE, ramSize: 512 * M, maxmem: 512 * M });
    const dmesg = lines(m.kernel.log.dmesg());
    const from = dmesg.indexOf('On node 0 totalpages: 130942');
    expect(from).toBeGreaterThan(0);
    expect(dmesg.slice(from + 1, from + 9)).toEqual([
      // calc_memmap_size(4095, 3998): 4095 * 64 bytes -> 64 pages
      '  DMA zone: 64 pages used for memmap',
      // memblock_find_dma_reserve(): pfns 1-0x9e of memory lie in the reserved first MiB
      '  DMA zone: 158 pages reserved',
      '  DMA zone: 3998 pages, LIFO batch:0',
      // pfn 0, 0x9f-0xff, and 0x1000-0x7fff (the rest of section 0, re-initialized by DMA32)
      '  DMA zone: 28770 pages in unavailable ranges',
      // 0x1000-0x1ffdf: 126944 * 64 bytes = 1983.5 pages, rounded up
      '  DMA32 zone: 1984 pages used for memmap',
      // (126944 - 1984) / 1024 = 122 -> 30 -> rounddown_pow_of_two(45) - 1
      '  DMA32 zone: 126944 pages, LIFO batch:31',
      // SeaBIOS's 0x1ffe0000-0x1fffffff to the end of section 3
      '  DMA32 zone: 32 pages in unavailable ranges',
      // (3998 - 64 - 158) + (126944 - 1984): the estimate, not the managed count of the Memory: line
      'Built 1 zonelists, mobility grouping on.  Total pages: 128736',
    ]);
    let managed = 0;
    for (const z of m.mm.zones()) managed += z.managedPages;
    // memblock_free_all() counted the pages really freed afterwards (the kernel image and memmap are not)
    expect(managed).toBe(m.mm.totalramPages);
    expect(managed).toBeLessThan(128736);
    expect(m.mm.vmTotalPages).toBe(128736);
  });
});

describe('pseries: the guest parses the LMB sets of ibm,dynamic-memory-v2 that CAS gives it', () => {
  // -m 3G,slots=2,maxmem=7G --numa 2: device memory at ALIGN(3G, 1G) = 3 GiB, 4 GiB of LMBs.
  const m = bootMachine({ ...DEFAULT_MACHINE, platform: 'powerpc', ramSize: 3 * G, slots: 2, maxmem: 7 * G, numa: 2 });

  it('has v2 in its device tree, not v1', () => {
    const ls = run('ls /sys/firmware/devicetree/base/ibm,dynamic-reconfiguration-memory', m).stdout.split('\n');
    expect(ls).toContain('ibm,dynamic-memory-v2');
    expect(ls).not.toContain('ibm,dynamic-memory');
  });

  it('finds the hot-pluggable LMBs from the second set: [3 GiB, 7 GiB)', () => {
    expect(m.powerpc!.hotplugRegion).toEqual({ start: 3 * G, end: 7 * G });
  });

  it('hot-adds a DIMM at the first LMB of that set, with its DRC index', () => {
    run('object_add memory-backend-ram,id=mem1,size=512M', m);
    run('dmesg -C', m);
    expect(run('device_add pc-dimm,id=dimm1,memdev=mem1,node=1', m).status).toBe(0);
    const dmesg = lines(run('dmesg', m).stdout);
    expect(dmesg).toContain('pseries-hotplug-mem: Attempting to hot-add 2 LMB(s) at index 8000000c');
    expect(dmesg).toContain('pseries-hotplug-mem: Memory at c0000000 (drc index 8000000c) was hot-added');
  });
});
