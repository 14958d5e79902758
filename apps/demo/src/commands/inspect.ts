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
 *   page --json PFN    the same fields as one JSON object, under drgn's names
 *   trace show --json  the function-graph trace as a call tree
 * ```
 */
import { checkMmConfig, createMmConfig, formatPageFlags, pageHasType, pageTypeIs, PG_buddy, PG_offline, PG_table, PG_guard, renderPageFlagsLayout, zonesShiftFor } from '@zonedev/mmzone';
import type { MmConfig } from '@zonedev/mmzone';
import { earlySection, onlineSection, presentSection, validSection } from '@zonedev/sparse-vmemmap';
import type { MemmapPlacement } from '@zonedev/sparse-vmemmap';
import { DevPagemap, MEMORY_DEVICE_PRIVATE, memoryTypeName, pgmapAltmap } from '@zonedev/memremap';
import { AnonVma } from '@zonedev/mm';
import { formatTraceValue, type TraceEvent } from '@zonedev/kernel';
import type { ShellCommand } from '../shell/command.js';
import type { Machine as DemoMachine } from '@zonedev/platform';
import { sizeText, wrap } from './text.js';
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

/** Where the 64 bytes of some memmap are: the source of a vmemmap page or placement. */
interface MemmapSourceJson {
  readonly source: 'altmap' | 'boot' | 'ram';
  readonly nid: number | null;
  readonly altmap_base_pfn: number | null;
}

/**
 * What `page PFN` finds out about one struct page, with drgn's names for
 * the fields (`_refcount`, `_mapcount`, `pgmap`, ...): the text is rendered
 * from it, and `page --json PFN` prints it as it is. Addresses and the flags
 * word are hex strings (a 64-bit value does not fit a JSON number); pfns and
 * physical addresses are numbers.
 */
interface PageReport {
  readonly address: string;
  readonly pfn: number;
  readonly phys: number;
  /** `initialized`, `poisoned`, `uninitialized` (section offline) or `altmap_reserve`. */
  readonly state: 'initialized' | 'poisoned' | 'uninitialized' | 'altmap_reserve';
  readonly flags?: {
    readonly value: string;
    readonly names: readonly string[];
    readonly node: number;
    readonly node_bits: readonly [number, number];
    readonly zone: number;
    readonly zone_name: string;
    readonly zone_bits: readonly [number, number];
    readonly last_cpupid?: number;
  };
  readonly _refcount?: number;
  readonly _mapcount?: number;
  readonly page_type?: readonly string[];
  readonly private?: number;
  readonly mapping?: { readonly kind: 'NULL' | 'anon' | 'object'; readonly text: string; readonly pids?: readonly number[] };
  readonly pgmap?: { readonly name: string; readonly type: string | null } | null;
  readonly zone_device_data?: number;
  readonly mapped_by?: readonly { readonly pid: number; readonly addr: number; readonly entry: string }[];
  readonly zone?: { readonly name: string; readonly node: number; readonly start_pfn: number; readonly end_pfn: number; readonly pfn_to_online_page: boolean };
  readonly section: { readonly nr: number; readonly flags: readonly string[]; readonly memory_block: string | null; readonly nid: number | null };
  readonly vmemmap_page: ({ readonly size: number; readonly pfn: number; readonly last_pfn: number } & MemmapSourceJson) | null;
  readonly section_memmap: readonly ({ readonly bytes: number; readonly page_size: number } & MemmapSourceJson)[];
}

/**
 * Reads one struct page, as drgn's `pfn_to_page()` and
 * `decode_page_flags()` would, with the zone, section and memmap around it.
 * The caller has checked `pfn_valid()`.
 */
function pageReport(m: DemoMachine, pfn: number): PageReport {
  const c = m.mm.config;
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
  const va = m.sparse.pfnToPage(pfn);
  const sflags = [
    presentSection(ms) ? 'present' : '',
    validSection(ms) ? 'has memmap' : '',
    onlineSection(ms) ? 'online' : 'offline',
    earlySection(ms) ? 'early' : 'hot-added',
  ].filter((f) => f !== '');
  const block = m.hotplug.memory.findMemoryBlock(nr);
  const section = { nr, flags: sflags, memory_block: block === undefined ? null : block.name!, nid: ms?.nid ?? null };
  const source = (p: { source: string; nid?: number; altmap?: { basePfn: number } | undefined }): MemmapSourceJson => ({
    source: p.source === 'altmap' ? 'altmap' : p.source === 'boot' ? 'boot' : 'ram',
    nid: p.source === 'altmap' ? null : (p.nid ?? null),
    altmap_base_pfn: p.source === 'altmap' ? (p.altmap?.basePfn ?? 0) : null,
  });
  const off = pfn * 64;
  const vb = m.sparse.vmemmapBlocks().find((b) => off >= b.offset && off < b.offset + b.size);
  const vmemmapPage = vb === undefined ? null : { size: vb.size, pfn: vb.pfn, last_pfn: vb.pfn + vb.size / c.pageSize - 1, ...source(vb) };
  const sectionMemmap = m.sparse.memmapOfSection(nr).placements.map((p) => ({ bytes: p.bytes, page_size: p.pageSize, ...source(p) }));
  const base = { address: `0x${va.toString(16)}`, pfn, phys: pfn * c.pageSize };
  const tail = { section, vmemmap_page: vmemmapPage, section_memmap: sectionMemmap };
  if (!initialized) return { ...base, state: driverReserve ? 'altmap_reserve' : 'uninitialized', ...tail };
  // dump_page() (mm/debug.c): a poisoned struct page is not decoded.
  if (mm.pagePoisoned(pfn)) return { ...base, state: 'poisoned', ...tail };
  const sp = mm.readStructPage(pfn);
  const word = BigInt(sp.flagsHi) * 2n ** 32n + BigInt(sp.flagsLo);
  const l = c.layout;
  const zid = field(word, l.ZONES_PGSHIFT, l.ZONES_WIDTH);
  const names = formatPageFlags(sp.flagsLo, c.pageflags)
    .split('|')
    .filter((f) => f !== '')
    .map((f) => `PG_${f}`);
  const types = pageTypeNames(sp.mapcount);
  const mapping = mm.pageMapping(pfn);
  // PageAnon(): page->mapping is an anon_vma; the processes are those of the VMAs on its chain
  const pids = mapping instanceof AnonVma ? [...new Set([...mapping.vmas].map((v) => v.vmMm?.pid).filter((p): p is number => p !== undefined))].sort((a, b) => a - b) : undefined;
  const pgmap = mm.pagePgmap(pfn);
  const isPgmap = pgmap instanceof DevPagemap;
  const data = isPgmap && pgmap.type === MEMORY_DEVICE_PRIVATE ? mm.pageZoneDeviceData(pfn) : undefined;
  const zone = m.mm.pageZone(pfn);
  return {
    ...base,
    state: 'initialized',
    flags: {
      value: `0x${word.toString(16).padStart(16, '0')}`,
      names,
      node: field(word, l.NODES_PGSHIFT, l.NODES_WIDTH),
      node_bits: [l.NODES_PGSHIFT + l.NODES_WIDTH - 1, l.NODES_PGSHIFT],
      zone: zid,
      zone_name: c.zoneNames[zid] ?? '?',
      zone_bits: [l.ZONES_PGSHIFT + l.ZONES_WIDTH - 1, l.ZONES_PGSHIFT],
      ...(l.LAST_CPUPID_WIDTH > 0 ? { last_cpupid: field(word, l.LAST_CPUPID_PGSHIFT, l.LAST_CPUPID_WIDTH) } : {}),
    },
    _refcount: sp.refcount,
    _mapcount: sp.mapcount,
    page_type: types,
    ...(types.includes('PG_buddy') ? { private: sp.private } : {}),
    mapping:
      mapping === undefined
        ? { kind: 'NULL', text: 'NULL' }
        : pids !== undefined
          ? { kind: 'anon', text: `anon_vma (pid ${pids.length > 0 ? pids.join(', ') : 'none'})`, pids }
          : { kind: 'object', text: formatTraceValue(mapping) },
    pgmap: pgmap === undefined ? null : { name: formatTraceValue(pgmap), type: isPgmap ? memoryTypeName(pgmap.type) : null },
    ...(typeof data === 'number' ? { zone_device_data: data } : {}),
    ...(isPgmap && pgmap.type === MEMORY_DEVICE_PRIVATE ? { mapped_by: m.hmm.mappingsOf(pfn).map((mp) => ({ pid: mp.pid, addr: mp.addr, entry: swapEntryText(mp.entry) })) } : {}),
    zone: {
      name: zone.name,
      node: zone.node,
      start_pfn: zone.zoneStartPfn,
      end_pfn: zone.zoneStartPfn + Math.max(zone.spannedPages, 1) - 1,
      pfn_to_online_page: m.hotplug.pfnToOnlinePage(pfn) !== undefined,
    },
    ...tail,
  };
}

/** `page PFN`'s text, from its report. */
function pageText(r: PageReport): string {
  const hex = (n: number): string => `0x${n.toString(16)}`;
  const where = (p: MemmapSourceJson): string =>
    p.source === 'altmap' ? `in the altmap at pfn ${hex(p.altmap_base_pfn ?? 0)}` : p.source === 'boot' ? `in boot memory (memblock) of node ${p.nid ?? 0}` : `in RAM of node ${p.nid ?? 0}`;
  let out = `*(struct page *)${r.address}: pfn ${hex(r.pfn)}, phys ${hex(r.phys)}\n`;
  if (r.state === 'poisoned') {
    out += `  page:${r.address} is uninitialized and poisoned\n`;
  } else if (r.state === 'altmap_reserve') {
    out += "  (not initialized: the altmap's reserve, the driver's own pages; memmap_init_range() skips them)\n";
  } else if (r.state === 'uninitialized') {
    out += '  (not initialized yet: the section is offline; memmap_init_range() runs when its block goes online)\n';
  } else {
    const f = r.flags!;
    out += `  flags      ${f.value}  ${f.names.length > 0 ? f.names.join('|') : '(no flags)'}\n`;
    out += `             node ${f.node} (bits ${f.node_bits[0]}..${f.node_bits[1]}), zone ${f.zone} ${f.zone_name} (bits ${f.zone_bits[0]}..${f.zone_bits[1]})`;
    if (f.last_cpupid !== undefined) out += `, last_cpupid 0x${f.last_cpupid.toString(16)}`;
    out += '\n';
    out += `  _refcount  ${r._refcount!}\n`;
    out += `  _mapcount  ${r.page_type!.length > 0 ? `page_type ${r.page_type!.join('|')}` : String(r._mapcount!)}\n`;
    if (r.private !== undefined) out += `  private    ${r.private} (buddy order)\n`;
    out += `  mapping    ${r.mapping!.text}\n`;
    out += `  pgmap      ${r.pgmap === null || r.pgmap === undefined ? 'NULL' : r.pgmap.name}\n`;
    if (r.pgmap !== undefined && r.pgmap !== null && r.pgmap.type !== null) out += `             type ${r.pgmap.type}\n`;
    if (r.zone_device_data !== undefined) out += `  zone_device_data  pfn ${hex(r.zone_device_data)} (the driver's copy of the data, in system RAM)\n`;
    for (const mp of r.mapped_by ?? []) out += `  mapped by  pid ${mp.pid} at ${hex(mp.addr)}: ${mp.entry}\n`;
    const z = r.zone!;
    out += `zone:    ${z.name} of node ${z.node} [pfn ${hex(z.start_pfn)}-${hex(z.end_pfn)}], pfn_to_online_page: ${z.pfn_to_online_page ? 'the page' : 'NULL'}\n`;
  }
  const s = r.section;
  out += `section: ${s.nr} (${s.flags.join(', ')}) of ${s.memory_block ?? 'no memory block'}, node ${s.nid ?? '?'}\n`;
  const vb = r.vmemmap_page;
  if (vb !== null) {
    const from = vb.source === 'altmap' ? `the altmap at pfn ${hex(vb.altmap_base_pfn ?? 0)}` : vb.source === 'boot' ? `boot memory of node ${vb.nid ?? 0}` : `RAM of node ${vb.nid ?? 0}`;
    out += `memmap:  this struct page is in a ${sizeText(vb.size)} vmemmap page at pfn ${hex(vb.pfn)}${vb.last_pfn > vb.pfn ? `-${hex(vb.last_pfn)}` : ''}, from ${from}\n`;
  }
  out += `         section ${s.nr}'s memmap: ${r.section_memmap.map((p) => `${sizeText(p.bytes)} ${where(p)}, mapped with ${sizeText(p.page_size)} pages`).join('; ')}\n`;
  return out;
}

/** `page [--json] PFN`. */
function pageCommand(m: DemoMachine): ShellCommand {
  return {
    name: 'page',
    synopsis: 'page [--json] PFN',
    summary: 'decode one struct page: flags, zone, node, refcount, pgmap, where its memmap lives',
    run(ctx): number {
      const json = ctx.args[0] === '--json';
      const args = json ? ctx.args.slice(1) : ctx.args;
      if (args.length !== 1) {
        ctx.err('page: usage: page PFN\n');
        return 2;
      }
      const big = parsePfn(args[0]!);
      if (big === undefined) {
        ctx.err(`page: invalid pfn '${args[0]!}'\n`);
        return 2;
      }
      if (big === 'ERANGE') {
        ctx.err(`page: invalid pfn '${args[0]!}': Numerical result out of range\n`);
        return 2;
      }
      // A pfn past what a double holds exactly is past every section too
      // (pfn_valid() is false beyond NR_MEM_SECTIONS): it is never rounded.
      if (big > BigInt(Number.MAX_SAFE_INTEGER) || !m.sparse.pfnValid(Number(big))) {
        ctx.err(`page: pfn 0x${big.toString(16)}: pfn_valid() is false: no struct page\n`);
        return 1;
      }
      const report = pageReport(m, Number(big));
      ctx.out(json ? `${JSON.stringify(report, null, 2)}\n` : pageText(report));
      return 0;
    },
  };
}

/** One call of the function-graph trace, as `trace show --json` prints it. */
interface TraceCallJson {
  readonly function: string;
  /** The arguments as the trace formats them; null for a call whose entry left the ring. */
  readonly args: readonly string[] | null;
  /** The return value (null: void, or still running when the trace was read). */
  readonly result: string | null;
  readonly calls: TraceCallJson[];
}

/**
 * The trace as a call tree: each call with its arguments, its result and the
 * traced calls it made, in order — the structure `trace show` draws with
 * indentation and braces.
 */
export function traceTree(events: readonly TraceEvent[]): TraceCallJson[] {
  const top: TraceCallJson[] = [];
  const open: { depth: number; node: { -readonly [K in keyof TraceCallJson]: TraceCallJson[K] } }[] = [];
  for (const e of events) {
    if (e.kind === 'entry') {
      const node = { function: e.name, args: [...e.args], result: null, calls: [] };
      (open.length > 0 ? open[open.length - 1]!.node.calls : top).push(node);
      open.push({ depth: e.depth, node });
      continue;
    }
    const at = open.findLastIndex((o) => o.node.function === e.name && o.depth === e.depth);
    if (at < 0) {
      // The entry was dropped from the ring: the return alone.
      (open.length > 0 ? open[open.length - 1]!.node.calls : top).push({ function: e.name, args: null, result: e.result ?? null, calls: [] });
      continue;
    }
    open[at]!.node.result = e.result ?? null;
    open.length = at;
  }
  return top;
}

/**
 * `trace on|off|show [--json]|clear`: the shell's `trace`, with `show
 * --json` for the trace as a call tree (ftrace itself has only the text
 * form; trace-cmd and perf give the same data structured).
 */
function traceCommand(m: DemoMachine): ShellCommand {
  return {
    name: 'trace',
    synopsis: 'trace on|off|show [--json]|clear',
    summary: 'record (on), stop (off), print (show; --json: as a call tree) or empty (clear) the function-graph trace',
    run(ctx): number {
      const t = m.kernel.tracer;
      const [what, ...rest] = ctx.args;
      const json = what === 'show' && rest.length === 1 && rest[0] === '--json';
      if ((rest.length > 0 && !json) || what === undefined || !['on', 'off', 'show', 'clear'].includes(what)) {
        ctx.err('trace: usage: trace on|off|show|clear\n');
        return 2;
      }
      if (what === 'on') t.on();
      else if (what === 'off') t.off();
      else if (what === 'clear') t.clear();
      else ctx.out(json ? `${JSON.stringify(traceTree(t.events), null, 2)}\n` : t.show());
      return 0;
    },
  };
}

/** The inspection commands of machine `m`. */
export function inspectCommands(m: DemoMachine): ShellCommand[] {
  return [pageflagsCommand(m), pageCommand(m), traceCommand(m)];
}
