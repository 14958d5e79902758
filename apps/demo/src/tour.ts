/**
 * `zonedev tour` (`pnpm demo`): the guided tour.
 *
 * Two machines, one per platform profile, each booted and driven through
 * the story of the device-memory stack with the same commands a student
 * would type in `zonedev shell`:
 *
 * ```
 *   x86_64  (QEMU pc, 4 GiB, two DIMM slots, memmap=1G!4G, memmap_on_memory=1)
 *     boot: dmesg, lsmem, /proc/iomem, /proc/zoneinfo
 *     page->flags, and why ZONE_DEVICE did not fit in 2015
 *     hot-add a DIMM with its memmap on itself, and one with its memmap in RAM
 *     online movable, write data, offline: the data migrates; unplug
 *     a DIMM holding a kernel page cannot be unplugged
 *     memremap_pages() of the legacy pmem, traced
 *   powerpc (QEMU pseries, 2 GiB, two NUMA nodes, hash MMU)
 *     boot, 16 MiB sections, 256 MiB LMBs, no memmap_on_memory in v5.13
 *     DLPAR hot-add onto node 1, re-online movable, migrate, unplug
 *     memremap_pages() of device-private memory, traced
 * ```
 *
 * Each step prints its commands, their output (errors included, where a
 * terminal would show them), and a sentence or two on what happened.
 * Deterministic: the same run prints the same bytes.
 */
import { SZ_1G, SZ_2G, SZ_4G } from '@zonedev/kernel';
import type { Output } from './machine/machine.js';
import { bootMachine } from './machine/zonedev.js';
import { DEFAULT_MACHINE, type MachineOptions } from './machine/options.js';
import { Shell } from './shell/shell.js';
import { wrap } from './machine/util.js';

const LAYERS: readonly (readonly [string, string])[] = [
  ['@zonedev/kernel', 'errno, resources and /proc/iomem, device core and sysfs, percpu_ref, notifiers, printk, tracing'],
  ['@zonedev/mmzone', 'zones, nodes, page->flags, struct page, the buddy allocator'],
  ['@zonedev/sparse-vmemmap', 'mem_section, subsections, the vmemmap and vmem_altmap'],
  ['@zonedev/memory-hotplug', 'add/online/offline/remove memory, memory blocks, memmap_on_memory'],
  ['@zonedev/memremap', 'dev_pagemap, memremap_pages(), ZONE_DEVICE page lifetimes'],
  ['@zonedev/libnvdimm', 'nd bus, regions, namespaces, pfn/dax/btt, pmem (to come)'],
  ['@zonedev/hmm', 'device-private memory, migrate_vma, hmm_range_fault (to come)'],
];

/** One step: commands run in order, then what they showed. */
interface Step {
  readonly commands: readonly string[];
  readonly say: string;
}

/** One machine and its steps. */
interface Stop {
  readonly title: string;
  /** The `zonedev run` options that boot the same machine. */
  readonly invocation: string;
  readonly machine: MachineOptions;
  readonly steps: readonly Step[];
}

const MEM = '/sys/devices/system/memory';

/** The tour's machines. */
export const TOUR_STOPS: readonly Stop[] = [
  {
    title: 'x86_64: QEMU pc (i440FX), 4 GiB, 2 DIMM slots up to 6 GiB',
    invocation: "zonedev run -m 4G,slots=2,maxmem=6G --cmdline 'memmap=1G!4G memory_hotplug.memmap_on_memory=1'",
    machine: { ...DEFAULT_MACHINE, ramSize: SZ_4G, slots: 2, maxmem: 6 * SZ_1G, cmdline: 'memmap=1G!4G memory_hotplug.memmap_on_memory=1' },
    steps: [
      {
        commands: ['dmesg'],
        say:
          'Boot as the kernel tells it. SeaBIOS hands over an E820 map; memmap=1G!4G turns the GiB of RAM at 4 GiB into ' +
          'persistent memory (type 12). QEMU\'s SRAT marks [5 GiB, 9 GiB) hot-pluggable: that is where DIMMs will go. ' +
          'ZONE_NORMAL is empty (no RAM is left above 4 GiB), and with less than 64 GiB of boot memory x86 keeps ' +
          'memory blocks at one 128 MiB section.',
      },
      {
        commands: ['lsmem', 'cat /proc/iomem'],
        say:
          'The 3 GiB of RAM are 24 online memory blocks; the PCI hole and the pmem have none. In the iomem tree the ' +
          "legacy pmem is left unclaimed for a driver, and the kernel's own image sits inside System RAM at 16 MiB.",
      },
      {
        commands: ['cat /proc/zoneinfo'],
        say:
          'Every zone of the node, in enum zone_type order: DMA (below 16 MiB), DMA32 (below 4 GiB), and the empty ' +
          'Normal, Movable and Device zones, which stop after "protection:". Watermarks come from min_free_kbytes.',
      },
      {
        commands: ['pageflags', 'pageflags --2015'],
        say:
          "page->flags carries each page's node and zone: five zones need ZONES_SHIFT 3. In 2015 the limit was 2 bits, " +
          'and DMA, DMA32, Normal and Movable already used them: Dan Williams\' 2015 ZONE_DEVICE patch ("mm: ZONE_DEVICE ' +
          'for "device memory"", first posted in the RFC series "\'struct page\' driver for persistent memory") made it ' +
          'depend on !ZONE_DMA.',
      },
      {
        commands: ['object_add memory-backend-ram,id=mem1,size=128M', 'device_add pc-dimm,id=dimm1,memdev=mem1'],
        say:
          'QEMU places the DIMM at the start of its device-memory region (5 GiB) and tells the guest through ACPI. The ' +
          'DIMM is exactly one memory block, so acpi_memory_enable_device() asks __add_memory() for ' +
          'MHP_MEMMAP_ON_MEMORY (commit a08a2ae346, "mm,memory_hotplug: allocate memmap from the added memory range"): ' +
          'its memmap goes on the DIMM itself.',
      },
      {
        commands: ['object_add memory-backend-ram,id=mem2,size=256M', 'device_add pc-dimm,id=dimm2,memdev=mem2', 'lsmem'],
        say:
          'A 256 MiB DIMM is two blocks, and v5.13 puts a memmap on the memory only for single-block ranges: this ' +
          'one gets its memmap from RAM. New blocks arrive offline (memhp_default_state is offline).',
      },
      {
        commands: [`echo online_movable > ${MEM}/memory40/state`, `cat ${MEM}/memory40/valid_zones`, 'page 0x140000', 'page 0x148000'],
        say:
          "memory40 is online in ZONE_MOVABLE. Its first 512 pages are its own memmap (32768 struct pages of 64 bytes " +
          'in 2 MiB, one PMD): reserved, never given to the buddy allocator. dimm2 is still offline, its struct pages ' +
          'not yet initialized, and their 2 MiB live in RAM of node 0.',
      },
      {
        commands: ["memalloc hello 'Hello from the hot-plugged DIMM'", 'memread'],
        say:
          'A user page (GFP_HIGHUSER_MOVABLE) prefers ZONE_MOVABLE, and the only movable memory is dimm1, right ' +
          'after its memmap.',
      },
      {
        commands: [`echo offline > ${MEM}/memory40/state`, 'memread', 'device_del dimm1', 'info memory-devices'],
        say:
          'offline_pages() isolated the block, migrated the page to DMA32 (the same text, at a new address), and took ' +
          'the block out of the allocator. Now the guest can let go of dimm1: ACPI eject, __remove_memory().',
      },
      {
        commands: [
          `echo online_kernel > ${MEM}/memory41/state`,
          `echo online_kernel > ${MEM}/memory42/state`,
          'memalloc -k pinned',
          'dmesg -C',
          'device_del dimm2',
          'dmesg',
        ],
        say:
          'Online as kernel memory, dimm2 is the only ZONE_NORMAL, so a GFP_KERNEL page lands there, and a kernel page ' +
          'cannot move: offlining memory41 fails twice, the eject is refused (_OST "device busy"), memory42 goes back ' +
          'online, and QEMU keeps the DIMM.',
      },
      {
        commands: ['memfree pinned', 'device_del dimm2', 'lsmem'],
        say: 'With the page freed the same request succeeds, and the machine is back to its boot memory.',
      },
      {
        commands: ['trace on', 'memremap -t fsdax -a 0x100000000 256M', 'trace off', 'trace show', 'page 0x100600'],
        say:
          "A pmem driver's memremap_pages(): the range becomes ZONE_DEVICE through the same arch_add_memory() and " +
          'sparse_add_section() as hot-plugged RAM, its memmap in the device (two 2 MiB PMDs, after the 8 KiB info ' +
          'block and 2 MiB alignment); data pages start at 6 MiB, each with PG_reserved, refcount 1 and its pgmap, ' +
          'and none goes online.',
      },
    ],
  },
  {
    title: 'powerpc: QEMU pseries, 2 GiB on 2 NUMA nodes, 2 DIMM slots up to 4 GiB, hash MMU',
    invocation: 'zonedev run --platform powerpc -m 2G,slots=2,maxmem=4G --numa 2',
    machine: { ...DEFAULT_MACHINE, platform: 'powerpc', ramSize: SZ_2G, slots: 2, maxmem: SZ_4G, numa: 2 },
    steps: [
      {
        commands: ['dmesg', 'lsmem -o RANGE,SIZE,STATE,BLOCK,NODE,ZONES'],
        say:
          'A device tree instead of E820: one memory@ node per NUMA node, and ibm,dynamic-reconfiguration-memory whose ' +
          '256 MiB LMB size is the memory block size. 64 KiB pages, 16 MiB sections, and only Normal, Movable and ' +
          'Device zones (no ZONE_DMA on book3s64).',
      },
      {
        commands: ['cat /proc/buddyinfo', 'pageflags --2015'],
        say:
          'Free memory in blocks of 2^order pages, up to order 8 (16 MiB). With three zones ZONE_DEVICE fits even the ' +
          '2015 budget.',
      },
      {
        commands: ['object_add memory-backend-ram,id=mem1,size=512M', 'dmesg -C', 'device_add pc-dimm,id=dimm1,memdev=mem1,node=1', 'dmesg', 'lsmem -o RANGE,SIZE,STATE,BLOCK,NODE,ZONES'],
        say:
          'pseries hot-plug is DLPAR: QEMU hands the guest two LMBs, and dlpar_add_lmb() adds and onlines each (the ' +
          'default online type: ZONE_NORMAL) on node 1.',
      },
      {
        commands: ['cat /sys/module/memory_hotplug/parameters/memmap_on_memory', 'page 0x8000'],
        say:
          'No memmap_on_memory on powerpc in v5.13. With the hash MMU the vmemmap is mapped in 16 MiB pages, each ' +
          'holding the struct pages of 16 GiB: the one allocated at boot already covers the new LMBs.',
      },
      {
        commands: ['chmem -d 0x80000000-0x9fffffff', 'chmem -e -z Movable 0x80000000-0x9fffffff', "memalloc -n 1 hello 'Hello from node 1'", 'memread'],
        say: "util-linux's chmem moves both blocks to ZONE_MOVABLE; a page allocated on node 1 now prefers it.",
      },
      {
        commands: ['chmem -d -b 8-9', 'memread', 'device_del dimm1', 'dmesg'],
        say:
          'Offlining migrates the page to another node first (node 0), as do_migrate_range() prefers; then ' +
          'dlpar_memory_remove_by_ic() finds the LMBs offline and removes them.',
      },
      {
        commands: ['trace on', 'memremap -t private 64M', 'trace off', 'trace show'],
        say:
          "test_hmm's device-private memory: a free range at the top of the 51-bit physical space, add_pages() " +
          'without a linear mapping (the CPU cannot address it), and one 16 MiB vmemmap page from RAM for all four ' +
          'sections.',
      },
    ],
  },
];

/** Prints the tour; returns 0. */
export function tour(out: Output): number {
  out.write('zonedev: a model of the Linux v5.13 device-memory stack\n\n');
  for (const [name, what] of LAYERS) out.write(`  ${name.padEnd(24)} ${what}\n`);
  TOUR_STOPS.forEach((stop, i) => {
    out.write(`\n${'='.repeat(78)}\n${i + 1}/${TOUR_STOPS.length} ${stop.title}\n$ ${stop.invocation}\n${'='.repeat(78)}\n`);
    const machine = bootMachine(stop.machine);
    const shell = new Shell(machine, { stdout: out, stderr: out });
    for (const step of stop.steps) {
      for (const command of step.commands) {
        out.write(`\n# ${command}\n`);
        shell.execLine(command);
      }
      out.write(`\n${wrap(step.say)}`);
    }
  });
  out.write('\nMore with: pnpm -s zonedev shell --platform x86_64|powerpc (type help)\n');
  return 0;
}
