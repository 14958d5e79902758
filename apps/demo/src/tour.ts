/**
 * `zonedev tour` (`pnpm demo`): the guided tour.
 *
 * For now it shows the layers of the stack and boots the minimal machine of
 * each platform, running a few commands with a sentence of explanation
 * each. The tour of hot-plug, memmap_on_memory and memremap_pages grows
 * here as those packages land. Deterministic: the same run prints the same
 * bytes.
 */
import { SZ_1G, SZ_4G } from '@zonedev/kernel';
import type { Output } from './machine/machine.js';
import { bootMinimalMachine } from './machine/minimal.js';
import { DEFAULT_MACHINE, type MachineOptions } from './machine/options.js';
import { Shell } from './shell/shell.js';

const LAYERS: readonly (readonly [string, string])[] = [
  ['@zonedev/kernel', 'errno, resources and /proc/iomem, device core and sysfs, percpu_ref, notifiers, printk, tracing'],
  ['@zonedev/mmzone', 'zones, nodes, page->flags, struct page, the buddy allocator'],
  ['@zonedev/sparse-vmemmap', 'mem_section, subsections, the vmemmap and vmem_altmap'],
  ['@zonedev/memory-hotplug', 'add/online/offline/remove memory, memory blocks, memmap_on_memory'],
  ['@zonedev/memremap', 'dev_pagemap, memremap_pages(), ZONE_DEVICE page lifetimes'],
  ['@zonedev/libnvdimm', 'nd bus, regions, namespaces, pfn/dax/btt, pmem'],
  ['@zonedev/hmm', 'device-private memory, migrate_vma, hmm_range_fault'],
];

interface Stop {
  readonly title: string;
  readonly machine: MachineOptions;
  readonly steps: readonly (readonly [command: string, explanation: string])[];
}

const STOPS: readonly Stop[] = [
  {
    title: 'x86_64: QEMU pc, -m 4G, booted with memmap=1G!4G',
    machine: { ...DEFAULT_MACHINE, ramSize: SZ_4G, maxmem: SZ_4G, cmdline: 'memmap=1G!4G' },
    steps: [
      [
        'dmesg',
        'SeaBIOS hands the kernel an E820 table; memmap=1G!4G turns the GiB at 4G into type 12\n' +
          '(persistent memory), and the kernel then takes page 0 and the 640K-1M BIOS area out of RAM.',
      ],
      [
        'cat /proc/iomem',
        'The final table becomes the top of the iomem resource tree: the legacy persistent memory is\n' +
          "'Persistent Memory (legacy)', left free for libnvdimm's e820 driver to claim.",
      ],
      ['cat /sys/firmware/memmap/7/start /sys/firmware/memmap/7/end /sys/firmware/memmap/7/type', 'The firmware\'s own view, before boot options, stays in /sys/firmware/memmap.'],
      ['lsmem', 'No memory blocks yet: they arrive with @zonedev/memory-hotplug.'],
    ],
  },
  {
    title: 'powerpc: QEMU pseries, -m 2G,slots=2,maxmem=4G, 2 NUMA nodes',
    machine: { ...DEFAULT_MACHINE, platform: 'powerpc', ramSize: 2 * SZ_1G, slots: 2, maxmem: SZ_4G, numa: 2 },
    steps: [
      ['ls /sys/firmware/devicetree/base', 'A device tree, not an E820 table: one memory@ node per range, and the LMBs hot-plug will use.'],
      ['cat /proc/iomem', 'Each memblock range is registered as System RAM.'],
    ],
  },
];

/** Prints the tour; returns 0. */
export function tour(out: Output): number {
  out.write('zonedev: a model of the Linux v5.13 device-memory stack\n\n');
  for (const [name, what] of LAYERS) out.write(`  ${name.padEnd(24)} ${what}\n`);
  for (const stop of STOPS) {
    out.write(`\n== ${stop.title} ==\n`);
    const machine = bootMinimalMachine(stop.machine);
    const shell = new Shell(machine, { stdout: out, stderr: out });
    for (const [command, explanation] of stop.steps) {
      out.write(`\n# ${command}\n`);
      shell.execLine(command);
      out.write(`\n${explanation}\n`);
    }
  }
  out.write('\nMore with: pnpm -s zonedev shell --platform x86_64|powerpc\n');
  return 0;
}
