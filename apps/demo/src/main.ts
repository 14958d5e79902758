/**
 * The command dispatcher behind `zonedev`, kept apart from `cli.ts` so that
 * tests can run it with in-memory output streams.
 */

/** Where a command writes: anything with a `write(string)` method. */
export interface Output {
  write(text: string): unknown;
}

const LAYERS: readonly (readonly [string, string])[] = [
  ['@zonedev/kernel', 'errno, resources and /proc/iomem, device core and sysfs, percpu_ref, notifiers, printk, tracing'],
  ['@zonedev/mmzone', 'zones, nodes, page->flags, struct page, the buddy allocator'],
  ['@zonedev/sparse-vmemmap', 'mem_section, subsections, the vmemmap and vmem_altmap'],
  ['@zonedev/memory-hotplug', 'add/online/offline/remove memory, memory blocks, memmap_on_memory'],
  ['@zonedev/memremap', 'dev_pagemap, memremap_pages(), ZONE_DEVICE page lifetimes'],
  ['@zonedev/libnvdimm', 'nd bus, regions, namespaces, pfn/dax/btt, pmem'],
  ['@zonedev/hmm', 'device-private memory, migrate_vma, hmm_range_fault'],
];

const USAGE = `usage: zonedev <command>

commands:
  tour     the guided tour (pnpm demo)
  help     this text
`;

/** Runs one `zonedev` invocation and returns its exit status. */
export function main(argv: readonly string[], out: Output, err: Output): number {
  const [command = 'help'] = argv;
  switch (command) {
    case 'tour':
      out.write('zonedev: a model of the Linux v5.13 device-memory stack\n\n');
      for (const [name, what] of LAYERS) out.write(`  ${name.padEnd(24)} ${what}\n`);
      out.write('\nThe machines and the guided tour arrive with apps/demo\'s own issue.\n');
      return 0;
    case 'help':
    case '--help':
      out.write(USAGE);
      return 0;
    default:
      err.write(`zonedev: unknown command '${command}'\n${USAGE}`);
      return 2;
  }
}
