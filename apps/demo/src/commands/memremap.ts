/**
 * `memremap` and `memunmap`: a device driver's `memremap_pages()` and
 * `memunmap_pages()`, from the shell.
 *
 * ```
 *   memremap                                   list the mapped pagemaps
 *   memremap [-t TYPE] [-a] [-n NODE] START SIZE
 *                                              claim [START, START+SIZE) and give it
 *                                              struct pages in ZONE_DEVICE; -a puts
 *                                              the memmap in the device (an altmap)
 *   memremap -t private [-n NODE] SIZE         device-private memory, placed at the
 *                                              top of the physical address space
 *   memunmap NAME|START                        memunmap_pages() and release the range
 * ```
 *
 * TYPE is `fsdax` (default), `generic`, `p2pdma` or `private`. Run it with
 * `trace on` to watch `memremap_pages()` call into memory hotplug and
 * sparse-vmemmap.
 */
import { errorText } from '../shell/builtins.js';
import type { ShellCommand } from '../shell/command.js';
import type { Machine as DemoMachine } from '@zonedev/platform';
import { parseQemuSize } from '@zonedev/platform';
import { PGMAP_TYPES, type DevicePagemap } from '@zonedev/platform';
import { sizeText } from './text.js';
import { placementText } from './inspect.js';

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** An address (`0x...`, decimal) or a size with a suffix (`1G`, `256M`). */
function parseAddr(s: string): number | undefined {
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) return parseInt(s.slice(2), 16);
  return parseQemuSize(s, 1);
}

function describe(m: DemoMachine, d: DevicePagemap): string {
  const r = d.pgmap.range;
  const ps = m.mm.config.pageSize;
  // PHYS_PFN() of the start and of range_len(), as pagemap_range() takes them
  const startPfn = Math.floor(r.start / ps);
  const nr = Math.floor((r.end + 1 - r.start) / ps);
  const acct = m.sparse.memmapOfRange(startPfn, nr);
  const alt = d.pgmap.altmap;
  let s = `${d.name}: [mem ${hex(r.start)}-${hex(r.end)}] ${d.typeName}, node ${d.nid}, ${sizeText(r.end + 1 - r.start)}: va 0x${d.va.toString(16)}\n`;
  s += `  memmap: ${acct.placements.map((p) => placementText(p, m.mm.config.pageShift)).join('; ')}\n`;
  if (acct.placements.some((p) => p.source === 'altmap')) {
    s += `  altmap: base_pfn ${hex(alt.basePfn)} reserve ${alt.reserve} free ${alt.free} alloc ${alt.alloc} align ${alt.align}: data pages from pfn ${hex(alt.basePfn + alt.reserve + alt.free)}\n`;
  }
  return s;
}

/** The memremap commands of machine `m`. */
export function memremapCommands(m: DemoMachine): ShellCommand[] {
  return [
    {
      name: 'memremap',
      synopsis: 'memremap [-t TYPE] [-a] [-n NODE] START SIZE',
      summary: 'memremap_pages() a device range into ZONE_DEVICE (TYPE fsdax|generic|p2pdma|private; -a: memmap in an altmap)',
      run(ctx): number {
        let type = 'fsdax';
        let altmap = false;
        let nid = 0;
        const ops: string[] = [];
        const a = ctx.args;
        for (let i = 0; i < a.length; i++) {
          const w = a[i]!;
          if (w === '-a' || w === '--altmap') altmap = true;
          else if (w === '-t') type = a[++i] ?? '';
          else if (w === '-n') {
            const v = a[++i] ?? '';
            if (!/^[0-9]+$/.test(v)) {
              ctx.err(`memremap: invalid node '${v}'\n`);
              return 2;
            }
            nid = Number(v);
          } else ops.push(w);
        }
        if (a.length === 0) {
          for (const d of m.pagemaps.list()) ctx.out(describe(m, d));
          return 0;
        }
        if (PGMAP_TYPES[type] === undefined) {
          ctx.err(`memremap: invalid type '${type}' (fsdax, generic, p2pdma or private)\n`);
          return 2;
        }
        const isPrivate = type === 'private';
        if (ops.length !== (isPrivate ? 1 : 2) && !(isPrivate && ops.length === 2)) {
          ctx.err('usage: memremap [-t TYPE] [-a] [-n NODE] START SIZE | memremap -t private [-n NODE] SIZE\n');
          return 2;
        }
        const start = ops.length === 2 ? parseAddr(ops[0]!) : undefined;
        const size = parseAddr(ops[ops.length - 1]!);
        if ((ops.length === 2 && start === undefined) || size === undefined || size === 0) {
          ctx.err(`memremap: invalid range '${ops.join(' ')}'\n`);
          return 2;
        }
        try {
          const d = m.pagemaps.map(type, start, size, altmap, nid);
          ctx.out(describe(m, d));
          return 0;
        } catch (e) {
          const stage = e instanceof Error && e.message.startsWith('devm_request_mem_region') ? 'devm_request_mem_region' : 'memremap_pages';
          ctx.err(`memremap: ${stage}: ${errorText(e)}\n`);
          return 1;
        }
      },
    },
    {
      name: 'memunmap',
      synopsis: 'memunmap NAME|START',
      summary: 'memunmap_pages() a pagemap memremap made, and release its range',
      run(ctx): number {
        if (ctx.args.length !== 1) {
          ctx.err('usage: memunmap NAME|START\n');
          return 2;
        }
        const key = ctx.args[0]!;
        const addr = /^(0[xX])?[0-9a-fA-F]+$/.test(key) && !key.startsWith('pgmap') ? parseAddr(key) : undefined;
        const d = m.pagemaps.find(addr ?? key);
        if (d === undefined) {
          ctx.err(`memunmap: ${key}: no such pagemap\n`);
          return 1;
        }
        if (!m.pagemaps.unmap(d)) ctx.out(`${d.name}: pages still referenced; memunmap_pages() waits for them\n`);
        return 0;
      },
    },
  ];
}
