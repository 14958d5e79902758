/**
 * Looking inside the machine, as a kernel developer would with drgn:
 * `pageflags` draws the `page->flags` layout of this kernel's
 * configuration, and `page PFN` decodes one `struct page` — what its flags
 * word says (flags, node, zone), its reference counts, its pagemap, its
 * zone and section, and where the 64 bytes of the struct page themselves
 * live (in RAM, in boot memory, or in an altmap at the start of the memory
 * it describes).
 *
 * ```
 *   pageflags          the layout (@zonedev/mmzone's renderPageFlagsLayout)
 *   pageflags --2015   the same zones under the 2015 ZONES_SHIFT budget:
 *                      why ZONE_DEVICE once had to give up ZONE_DMA
 *   page PFN           drgn's pfn_to_page() + decode_page_flags() and more;
 *                      for a device-private page its pagemap type and the
 *                      swap entries (SWP_DEVICE_*) of the processes mapping it
 * ```
 */
import { checkMmConfig, createMmConfig, formatPageFlags, pageHasType, pageTypeIs, PG_buddy, PG_offline, PG_table, PG_guard, renderPageFlagsLayout, zonesShiftFor } from '@zonedev/mmzone';
import type { MmConfig } from '@zonedev/mmzone';
import { earlySection, onlineSection, presentSection, validSection } from '@zonedev/sparse-vmemmap';
import type { MemmapPlacement } from '@zonedev/sparse-vmemmap';
import { DevPagemap, MEMORY_DEVICE_PRIVATE, memoryTypeName, pgmapAltmap } from '@zonedev/memremap';
import { formatTraceValue } from '@zonedev/kernel';
import type { ShellCommand } from '../machine/machine.js';
import type { DemoMachine } from '../machine/demo-machine.js';
import { sizeText, wrap } from '../machine/util.js';
import { swapEntryText } from './hmm.js';

/** A field of `page->flags` as a number (the word is 64 bits: read as a bigint). */
function field(word: bigint, shift: number, width: number): number {
  if (width === 0) return 0;
  return Number((word / 2n ** BigInt(shift)) % 2n ** BigInt(width));
}

/** Where memmap bytes are, in words. */
export function placementText(p: MemmapPlacement, pageShift: number): string {
  const where =
    p.source === 'altmap'
      ? `in the altmap at pfn 0x${(p.altmap?.basePfn ?? 0).toString(16)}`
      : p.source === 'boot'
        ? `in boot memory (memblock) of node ${p.nid}`
        : `in RAM of node ${p.nid}`;
  void pageShift;
  return `${sizeText(p.bytes)} ${where}, mapped with ${sizeText(p.pageSize)} pages`;
}

/** `pageflags [--2015]`. */
function pageflagsCommand(m: DemoMachine): ShellCommand {
  return {
    name: 'pageflags',
    synopsis: 'pageflags [--2015]',
    summary: 'draw the page->flags layout (--2015: under the 2015 ZONES_SHIFT budget)',
    run(ctx): number {
      const c = m.mm.config;
      if (ctx.args.length === 0) {
        ctx.out(`${c.arch.name}: zones ${c.zoneNames.join(', ')} (MAX_NR_ZONES ${c.MAX_NR_ZONES}, ZONES_SHIFT ${c.ZONES_SHIFT}), NODES_SHIFT ${c.nodesShift}\n`);
        ctx.out(renderPageFlagsLayout(c.layout));
        return 0;
      }
      if (ctx.args.length !== 1 || ctx.args[0] !== '--2015') {
        ctx.err('pageflags: usage: pageflags [--2015]\n');
        return 2;
      }
      const arch = { ...m.profile.mm, zonesShiftBudget: '2015' as const };
      const reason = checkMmConfig(arch);
      if (reason === undefined) {
        const cfg = createMmConfig(arch);
        ctx.out(`2015 budget (ZONES_SHIFT <= 2): ${cfg.zoneNames.join(', ')} are ${cfg.MAX_NR_ZONES} zones, ZONES_SHIFT ${cfg.ZONES_SHIFT}: ZONE_DEVICE fits.\n`);
        ctx.out(renderPageFlagsLayout(cfg.layout, 'page->flags (2015 budget)'));
        return 0;
      }
      ctx.out(`2015 budget (ZONES_SHIFT <= 2): the configuration does not build:\n${wrap(reason, 78, '  ')}\n`);
      const without = { ...arch, zoneDma: false };
      const cfg: MmConfig = createMmConfig(without);
      ctx.out(
        `The 2015 series' way out, CONFIG_ZONE_DMA=n: ${cfg.zoneNames.join(', ')} are ${cfg.MAX_NR_ZONES} zones, ` +
          `ZONES_SHIFT ${zonesShiftFor(cfg.MAX_NR_ZONES) ?? '?'}:\n`,
      );
      ctx.out(renderPageFlagsLayout(cfg.layout, 'page->flags (2015 budget, no ZONE_DMA)'));
      return 0;
    },
  };
}

/**
 * `kstrtoul(s, 0)` (lib/kstrtox.c): a pfn in hex (`0x`), octal (`0`) or
 * decimal, as a bigint; `'ERANGE'` beyond an unsigned long (2^64 - 1),
 * undefined for anything that is not such a number.
 */
function parsePfn(s: string): bigint | 'ERANGE' | undefined {
  let v: bigint | undefined;
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) v = BigInt(s);
  else if (/^0[0-7]*$/.test(s)) v = BigInt(`0o${s === '0' ? '0' : s.slice(1)}`);
  else if (/^[1-9][0-9]*$/.test(s)) v = BigInt(s);
  if (v === undefined) return undefined;
  return v >= 2n ** 64n ? 'ERANGE' : v;
}

/** The names of a page type (`page_type` in the `_mapcount` word). */
function pageTypeNames(mapcount: number): string[] {
  const out: string[] = [];
  if (!pageHasType(mapcount)) return out;
  for (const [bit, name] of [
    [PG_buddy, 'PG_buddy'],
    [PG_offline, 'PG_offline'],
    [PG_table, 'PG_table'],
    [PG_guard, 'PG_guard'],
  ] as const) {
    if (pageTypeIs(mapcount, bit)) out.push(name);
  }
  return out;
}

/** `page PFN`. */
function pageCommand(m: DemoMachine): ShellCommand {
  return {
    name: 'page',
    synopsis: 'page PFN',
    summary: 'decode one struct page: flags, zone, node, refcount, pgmap, where its memmap lives',
    run(ctx): number {
      if (ctx.args.length !== 1) {
        ctx.err('page: usage: page PFN\n');
        return 2;
      }
      const big = parsePfn(ctx.args[0]!);
      if (big === undefined) {
        ctx.err(`page: invalid pfn '${ctx.args[0]!}'\n`);
        return 2;
      }
      if (big === 'ERANGE') {
        ctx.err(`page: invalid pfn '${ctx.args[0]!}': Numerical result out of range\n`);
        return 2;
      }
      const c = m.mm.config;
      const hex = (n: number): string => `0x${n.toString(16)}`;
      // A pfn past what a double holds exactly is past every section too
      // (pfn_valid() is false beyond NR_MEM_SECTIONS): it is never rounded.
      if (big > BigInt(Number.MAX_SAFE_INTEGER) || !m.sparse.pfnValid(Number(big))) {
        ctx.err(`page: pfn 0x${big.toString(16)}: pfn_valid() is false: no struct page\n`);
        return 1;
      }
      const pfn = Number(big);
      const mm = m.mm.memmap;
      const nr = m.sparse.pfnToSectionNr(pfn);
      const ms = m.sparse.nrToSection(nr);
      // The memmap of hot-added memory is initialized when its block goes
      // online (move_pfn_range_to_zone()); ZONE_DEVICE's by memremap_pages().
      const entry = m.memremap.pgmapArrayEntries().find((e) => pfn >= e.firstPfn && pfn <= e.lastPfn);
      const alt = entry === undefined ? undefined : pgmapAltmap(entry.pgmap);
      // memmap_init_range() skips the altmap's reserve: those struct pages are never written.
      const driverReserve = alt !== undefined && pfn >= alt.basePfn && pfn < alt.basePfn + alt.reserve;
      const initialized = (onlineSection(ms) || earlySection(ms) || entry !== undefined) && !driverReserve;
      const sp = mm.readStructPage(pfn);
      const va = m.sparse.pfnToPage(pfn);
      const word = BigInt(sp.flagsHi) * 2n ** 32n + BigInt(sp.flagsLo);
      const l = c.layout;
      const nid = field(word, l.NODES_PGSHIFT, l.NODES_WIDTH);
      const zid = field(word, l.ZONES_PGSHIFT, l.ZONES_WIDTH);
      const flags = formatPageFlags(sp.flagsLo, c.pageflags)
        .split('|')
        .filter((f) => f !== '')
        .map((f) => `PG_${f}`);
      const types = pageTypeNames(sp.mapcount);
      let out = `*(struct page *)0x${va.toString(16)}: pfn ${hex(pfn)}, phys ${hex(pfn * c.pageSize)}\n`;
      if (initialized && mm.pagePoisoned(pfn)) {
        // dump_page() (mm/debug.c): a poisoned struct page is not decoded.
        out += `  page:0x${va.toString(16)} is uninitialized and poisoned\n`;
      } else if (!initialized) {
        out += driverReserve
          ? "  (not initialized: the altmap's reserve, the driver's own pages; memmap_init_range() skips them)\n"
          : '  (not initialized yet: the section is offline; memmap_init_range() runs when its block goes online)\n';
      } else {
        out += `  flags      0x${word.toString(16).padStart(16, '0')}  ${flags.length > 0 ? flags.join('|') : '(no flags)'}\n`;
        out += `             node ${nid} (bits ${l.NODES_PGSHIFT + l.NODES_WIDTH - 1}..${l.NODES_PGSHIFT}), zone ${zid} ${c.zoneNames[zid] ?? '?'} (bits ${l.ZONES_PGSHIFT + l.ZONES_WIDTH - 1}..${l.ZONES_PGSHIFT})`;
        if (l.LAST_CPUPID_WIDTH > 0) out += `, last_cpupid 0x${field(word, l.LAST_CPUPID_PGSHIFT, l.LAST_CPUPID_WIDTH).toString(16)}`;
        out += '\n';
        out += `  _refcount  ${sp.refcount}\n`;
        out += `  _mapcount  ${types.length > 0 ? `page_type ${types.join('|')}` : String(sp.mapcount)}\n`;
        if (types.includes('PG_buddy')) out += `  private    ${sp.private} (buddy order)\n`;
        const mapping = mm.pageMapping(pfn);
        const owner = typeof mapping === 'object' && mapping !== null && 'owner' in mapping ? String((mapping as { owner: unknown }).owner) : undefined;
        out += `  mapping    ${mapping === undefined ? 'NULL' : owner !== undefined ? `anon (memalloc ${owner})` : formatTraceValue(mapping)}\n`;
        const pgmap = mm.pagePgmap(pfn);
        out += `  pgmap      ${pgmap === undefined ? 'NULL' : formatTraceValue(pgmap)}\n`;
        if (pgmap instanceof DevPagemap) {
          out += `             type ${memoryTypeName(pgmap.type)}\n`;
          if (pgmap.type === MEMORY_DEVICE_PRIVATE) {
            const data = mm.pageZoneDeviceData(pfn);
            if (typeof data === 'number') out += `  zone_device_data  pfn ${hex(data)} (the driver's copy of the data, in system RAM)\n`;
            for (const mp of m.hmm.mappingsOf(pfn)) {
              out += `  mapped by  pid ${mp.pid} at ${hex(mp.addr)}: ${swapEntryText(mp.entry)}\n`;
            }
          }
        }
        const zone = m.mm.pageZone(pfn);
        const online = m.hotplug.pfnToOnlinePage(pfn) !== undefined;
        out += `zone:    ${zone.name} of node ${zone.node} [pfn ${hex(zone.zoneStartPfn)}-${hex(zone.zoneStartPfn + Math.max(zone.spannedPages, 1) - 1)}], pfn_to_online_page: ${online ? 'the page' : 'NULL'}\n`;
      }
      const sflags = [
        presentSection(ms) ? 'present' : '',
        validSection(ms) ? 'has memmap' : '',
        onlineSection(ms) ? 'online' : 'offline',
        earlySection(ms) ? 'early' : 'hot-added',
      ].filter((s) => s !== '');
      const block = m.hotplug.memory.findMemoryBlock(nr);
      out += `section: ${nr} (${sflags.join(', ')}) of ${block === undefined ? 'no memory block' : block.name!}, node ${ms?.nid ?? '?'}\n`;
      const off = pfn * 64;
      const vb = m.sparse.vmemmapBlocks().find((b) => off >= b.offset && off < b.offset + b.size);
      if (vb !== undefined) {
        const where = vb.source === 'altmap' ? `the altmap at pfn ${hex(vb.altmap?.basePfn ?? 0)}` : vb.source === 'boot' ? `boot memory of node ${vb.nid}` : `RAM of node ${vb.nid}`;
        const frames = vb.size / c.pageSize;
        out += `memmap:  this struct page is in a ${sizeText(vb.size)} vmemmap page at pfn ${hex(vb.pfn)}${frames > 1 ? `-${hex(vb.pfn + frames - 1)}` : ''}, from ${where}\n`;
      }
      const acct = m.sparse.memmapOfSection(nr);
      out += `         section ${nr}'s memmap: ${acct.placements.map((p) => placementText(p, c.pageShift)).join('; ')}\n`;
      ctx.out(out);
      return 0;
    },
  };
}

/** The inspection commands of machine `m`. */
export function inspectCommands(m: DemoMachine): ShellCommand[] {
  return [pageflagsCommand(m), pageCommand(m)];
}
