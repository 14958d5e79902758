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
 *     the legacy pmem as ndctl lists it, /dev/pmem0 written and read back
 *     reconfigured to fsdax map=dev: the info block, memremap_pages() with
 *     the memmap in the pmem (traced), the struct page inside the pmem
 *     map=mem for contrast: the same struct pages paid for in RAM
 *     modprobe test_hmm: a process's page migrated to device-private memory
 *     (a SWP_DEVICE_WRITE swap entry) and faulted back by a CPU read
 *   powerpc (QEMU pseries, 2 GiB, two NUMA nodes, hash MMU, a pmem-region)
 *     boot, 16 MiB sections, 256 MiB LMBs, no memmap_on_memory in v5.13
 *     DLPAR hot-add onto node 1, re-online movable, migrate, unplug
 *     of_pmem: the device tree's pmem-region as ndctl lists it
 *     memremap_pages() of device-private memory, traced
 *     modprobe test_hmm: its chunks and their 64 KiB struct pages
 * ```
 *
 * Each step prints its commands, their output (errors included, where a
 * terminal would show them), and a sentence or two on what happened.
 * Deterministic: the same run prints the same bytes.
 */
import { SZ_1G, SZ_2G, SZ_4G } from '@zonedev/kernel';
import { DEFAULT_MACHINE, type MachineOptions } from '@zonedev/platform';
import type { Output } from './shell/command.js';
import { Shell } from './shell/shell.js';
import { bootShellMachine } from './commands/shell-machine.js';
import { wrap } from './commands/text.js';

const LAYERS: readonly (readonly [string, string])[] = [
  ['@zonedev/kernel', 'errno, resources and /proc/iomem, device core and sysfs, percpu_ref, notifiers, printk, tracing'],
  ['@zonedev/mmzone', 'zones, nodes, page->flags, struct page, the buddy allocator'],
  ['@zonedev/sparse-vmemmap', 'mem_section, subsections, the vmemmap and vmem_altmap'],
  ['@zonedev/memory-hotplug', 'add/online/offline/remove memory, memory blocks, memmap_on_memory'],
  ['@zonedev/memremap', 'dev_pagemap, memremap_pages(), ZONE_DEVICE page lifetimes'],
  ['@zonedev/libnvdimm', 'nd bus, regions, namespaces, pfn info blocks, the pmem driver and /dev/pmemN'],
  ['@zonedev/mm', 'processes: VMAs, page tables, faults, swap entries, /proc/PID/smaps'],
  ['@zonedev/hmm', 'device-private memory, migrate_vma, hmm_range_fault, test_hmm and hmm-tests'],
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
          'legacy pmem is claimed by namespace0.0: libnvdimm\'s pmem driver bound it at boot. The kernel\'s own image ' +
          'sits inside System RAM at 16 MiB.',
      },
      {
        commands: ['cat /proc/zoneinfo'],
        say:
          'Every zone of the node, in enum zone_type order: DMA (below 16 MiB), DMA32 (below 4 GiB), and the empty ' +
          'Normal, Movable and Device zones, which stop after "protection:". The Device zone already spans the ' +
          'pmem (spanned 262144): the pmem driver mapped it at boot, but ZONE_DEVICE pages are never present or ' +
          'managed. Watermarks come from min_free_kbytes.',
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
        commands: [
          'process start',
          'process mmap 100 4096',
          "process write 100 0x7ffff7ffe000 'Hello from the hot-plugged DIMM'",
          'process pte 100 0x7ffff7ffe000',
          'cat /proc/100/maps',
        ],
        say:
          "A process maps a page of anonymous memory and writes to it: the fault allocates a user page " +
          '(GFP_HIGHUSER_MOVABLE), which prefers ZONE_MOVABLE, and the only movable memory is dimm1, right after its memmap.',
      },
      {
        commands: [`echo offline > ${MEM}/memory40/state`, 'process pte 100 0x7ffff7ffe000', 'process read 100 0x7ffff7ffe000 31', 'device_del dimm1', 'info memory-devices'],
        say:
          "offline_pages() isolated the block and migrated the page to DMA32: migrate_pages() unmapped it through the " +
          "rmap, copied it, and pointed the process's PTE at the new page, so the same virtual address reads the same " +
          'bytes. With the block out of the allocator the guest can let go of dimm1: ACPI eject, __remove_memory().',
      },
      {
        commands: [
          `echo online_kernel > ${MEM}/memory41/state`,
          `echo online_kernel > ${MEM}/memory42/state`,
          'memalloc pinned',
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
        commands: ['ndctl list -BRN', 'ls /sys/bus/nd/devices'],
        say:
          'memmap=1G!4G made an E820 type-12 range, and register_e820_pmem() gave it to libnvdimm: one platform ' +
          'device e820_pmem, one bus (provider "e820"), one region per range. A legacy region has no labels, so the ' +
          'region holds exactly one IO namespace covering all of it, bound by the pmem driver at boot as /dev/pmem0. ' +
          'Its mode reads "memory": e820 regions are ND_REGION_PAGEMAP, so the raw namespace already has struct pages ' +
          '(in RAM), and ndctl shows fsdax, map "mem", the full size, no uuid. pfn0.0, dax0.0 and btt0.0 are the ' +
          'seeds userspace configures a personality with.',
      },
      {
        commands: ["echo 'Hello, pmem' > /dev/pmem0", 'head -c 12 /dev/pmem0', 'dd if=/dev/pmem0 of=/dev/pmem0 bs=4096 count=1 seek=256 conv=notrunc'],
        say:
          'The block device reads and writes the pmem itself: echo writes at offset 0, dd copies the first 4 KiB to ' +
          'offset 1 MiB. (memmap= pmem is RAM the kernel left alone: nothing of it survives a reboot.)',
      },
      {
        commands: ['ndctl create-namespace -f -e namespace0.0 -m fsdax -M dev', 'ls /sys/bus/nd/devices', 'cat /proc/iomem'],
        say:
          "The heart of the 2015 \"'struct page' driver for persistent memory\" series: ndctl unbinds the namespace, " +
          'zeroes its first 8 KiB, writes uuid, mode=pmem, align and namespace into the seed pfn0.0 and binds it. ' +
          'nd_pfn_init() writes the info block at 4 KiB and reserves room for the struct pages of every pfn: 64 bytes ' +
          'for each of 262142 pages, rounded up to 2 MiB, so the data starts 18 MiB in and /dev/pmem0 shrinks to ' +
          '1006 MiB. pfn0.1 is the new seed.',
      },
      {
        commands: ['ndctl disable-namespace namespace0.0', 'trace on', 'ndctl enable-namespace namespace0.0', 'trace off', 'trace show'],
        say:
          'Enabling the namespace again finds the info block: the pmem driver hands the namespace to pfn0.0, which ' +
          'validates the block and calls devm_memremap_pages() with a vmem_altmap. Every 2 MiB vmemmap block of the ' +
          'eight sections comes from the pmem (altmap_alloc_block_buf), after the two reserved pages of the info block.',
      },
      {
        commands: ['page 0x100000', 'page 0x101200'],
        say:
          'pfn 0x100000 holds the info block: its struct page is part of the altmap\'s reserve and never ' +
          'initialized. pfn 0x101200, the first data page, is ZONE_DEVICE with its pgmap pfn0.0, and its struct page ' +
          'lives in the 2 MiB vmemmap block at pfn 0x100200, inside the pmem.',
      },
      {
        commands: ['ndctl create-namespace -f -e namespace0.0 -m fsdax -M mem', 'page 0x100000'],
        say:
          'map=mem for contrast: the namespace goes back to its raw form with struct pages in RAM, all 1 GiB usable. ' +
          'The memmap is the same 16 MiB per GiB of pmem (64 bytes per 4 KiB page), now taken from node 0\'s RAM: on a ' +
          'terabyte of pmem that is 16 GiB of RAM, which is why map=dev exists.',
      },
      {
        commands: ['dmesg -C', 'modprobe test_hmm', 'dmesg', 'hmm-demo start Hello, device memory!', 'hmm-demo migrate 100', 'page 0x3ffffffff', 'hmm-demo read 100'],
        say:
          'Device-private memory, the 2017 HMM series: modprobe test_hmm runs hmm_dmirror_init(), two devices, each ' +
          'with a 256 MiB chunk of MEMORY_DEVICE_PRIVATE memory that request_free_mem_region() found at the top of ' +
          'the physical address space. The process writes into an anonymous page; HMM_DMIRROR_MIGRATE moves it to ' +
          'the device: migrate_vma_setup() unmaps it, the driver copies the data to a device page (test_hmm keeps ' +
          "it in a system page, the device page's zone_device_data), and migrate_vma_finalize() leaves a " +
          "SWP_DEVICE_WRITE swap entry whose offset is the device page's pfn. The CPU read faults on that entry: " +
          "do_swap_page() calls the pagemap's migrate_to_ram(), the page comes back to a new page of RAM, and the " +
          'text is intact.',
      },
    ],
  },
  {
    title: 'powerpc: QEMU pseries, 2 GiB on 2 NUMA nodes, 2 DIMM slots up to 4 GiB, hash MMU',
    invocation: 'zonedev run --platform powerpc -m 2G,slots=2,maxmem=4G --numa 2 --pmem-region 16G,1G',
    machine: {
      ...DEFAULT_MACHINE,
      platform: 'powerpc',
      ramSize: SZ_2G,
      slots: 2,
      maxmem: SZ_4G,
      numa: 2,
      pmemRegions: [{ start: 16 * SZ_1G, size: SZ_1G }],
    },
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
        commands: [
          'chmem -d 0x80000000-0x9fffffff',
          'chmem -e -z Movable 0x80000000-0x9fffffff',
          'process start --membind 1',
          'process mmap 100 64K',
          'process write 100 0x7ffff7ff0000 Hello from node 1',
          'process pte 100 0x7ffff7ff0000',
        ],
        say:
          "util-linux's chmem moves both blocks to ZONE_MOVABLE. A process bound to node 1 (numactl --membind=1: " +
          'MPOL_BIND) faults in a 64 KiB page there, and a user page (GFP_HIGHUSER_MOVABLE) prefers ZONE_MOVABLE.',
      },
      {
        commands: ['chmem -d -b 8-9', 'process pte 100 0x7ffff7ff0000', 'process read 100 0x7ffff7ff0000 17', 'device_del dimm1', 'dmesg'],
        say:
          'Offlining migrates the page to another node (node 0), as do_migrate_range() does whatever the task\'s ' +
          'policy: the PTE points at the new page and the bytes are the same. Then ' +
          'dlpar_memory_remove_by_ic() finds the LMBs offline and removes them.',
      },
      {
        commands: ['ndctl list -BRN', 'cat /proc/iomem', "echo 'Hello, of_pmem' > /dev/pmem0", 'head -c 15 /dev/pmem0'],
        say:
          'Without E820, firmware describes persistent memory in the device tree: this machine\'s tree has a ' +
          'pmem-region node at 16 GiB. of_pmem_region_probe() makes the platform device 400000000.pmem, a bus named ' +
          'after it and one region per reg range; its persistence domain is the memory controller ' +
          '(ND_REGION_PERSIST_MEMCTRL). The namespace and /dev/pmem0 come out as on x86.',
      },
      {
        commands: ['trace on', 'memremap -t private 64M', 'trace off', 'trace show'],
        say:
          "test_hmm's device-private memory: a free range at the top of the 51-bit physical space, add_pages() " +
          'without a linear mapping (the CPU cannot address it), and one 16 MiB vmemmap page from RAM for all four ' +
          'sections.',
      },
      {
        commands: ['modprobe test_hmm', 'cat /proc/iomem', 'page 0x7ffffd000'],
        say:
          "test_hmm on powerpc: its two 256 MiB chunks lie below the pagemap memremap made, at the top of the " +
          'physical address space, and their struct pages are ZONE_DEVICE pages of 64 KiB.',
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
    const machine = bootShellMachine(stop.machine);
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
