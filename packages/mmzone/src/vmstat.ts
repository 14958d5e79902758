/**
 * `/proc/zoneinfo`, `/proc/buddyinfo` and `/proc/pagetypeinfo`, byte for
 * byte as mm/vmstat.c (v5.13) prints them.
 *
 * - zoneinfo (`zoneinfo_show_print()`) prints *every* zone of every online
 *   node, populated or not, because `lowmem_reserve_ratio` applies to all of
 *   them; an unpopulated zone (ZONE_DEVICE before anything is remapped, an
 *   empty ZONE_MOVABLE) stops after its `protection:` line. The first
 *   populated zone of a node also carries the node's counters.
 * - buddyinfo (`frag_show_print()`) lists, for each populated zone, the
 *   number of free blocks of each order.
 * - pagetypeinfo splits the same counts by migrate type and counts pageblocks
 *   by type.
 *
 * The per-cpu pagesets are not modelled (pages never wait on per-cpu lists),
 * so `count` is always 0; `high`, `batch` and the stat threshold are computed
 * as the kernel computes them.
 */
import type { MmConfig } from './config.js';
import type { MemmapStore } from './memmap.js';
import type { PglistData, Zone } from './mmzone.js';
import { highWmarkPages, lowWmarkPages, minWmarkPages, populatedZone, zoneEndPfn, zonePageState } from './mmzone.js';
import { NODE_STAT_IN_THP, NR_FREE_PAGES, nodeStatNames, numaStatNames, zoneStatNames } from './vmstat-items.js';

/**
 * What the /proc printers read from a machine's mm core ({@link MmCore}
 * provides all of it).
 * @public
 */
export interface MmView {
  /** The resolved configuration. */
  readonly config: MmConfig;
  /** The struct page store. */
  readonly memmap: MemmapStore;
  /** `for_each_online_pgdat()`. */
  onlinePgdats(): PglistData[];
  /** `pfn_to_online_page(pfn) != NULL`. */
  pfnOnline(pfn: number): boolean;
  /** `page_zone()`. */
  pageZone(pfn: number): Zone;
}

const pad = (s: string | number, n: number): string => String(s).padStart(n);
const left = (s: string, n: number): string => s.padEnd(n);

/** `is_zone_first_populated()`. */
function isZoneFirstPopulated(pgdat: PglistData, zone: Zone): boolean {
  for (const z of pgdat.nodeZones) if (populatedZone(z)) return z === zone;
  return false;
}

/** `HPAGE_PMD_NR`: base pages per PMD-mapped huge page. */
function hpagePmdNr(mm: MmView): number {
  // PMD_SHIFT: 21 with 4 KiB pages (x86_64, radix), 24 with 64 KiB hash pages.
  const pmdShift = mm.config.pageShift === 12 ? 21 : 24;
  return 2 ** (pmdShift - mm.config.pageShift);
}

/** `zoneinfo_show_print()`. */
function zoneinfoShowPrint(mm: MmView, pgdat: PglistData, zone: Zone): string {
  const c = mm.config;
  let s = `Node ${pgdat.nodeId}, zone ${pad(zone.name, 8)}`;
  if (isZoneFirstPopulated(pgdat, zone)) {
    s += '\n  per-node stats';
    const names = nodeStatNames(c);
    for (let i = 0; i < names.length; i++) {
      let pages = pgdat.vmStat[i] ?? 0;
      if (NODE_STAT_IN_THP.includes(names[i]!)) pages = Math.floor(pages / hpagePmdNr(mm));
      s += `\n      ${left(names[i]!, 12)} ${pages}`;
    }
  }
  s +=
    `\n  pages free     ${zonePageState(zone, NR_FREE_PAGES)}` +
    `\n        min      ${minWmarkPages(zone)}` +
    `\n        low      ${lowWmarkPages(zone)}` +
    `\n        high     ${highWmarkPages(zone)}` +
    `\n        spanned  ${zone.spannedPages}` +
    `\n        present  ${zone.presentPages}` +
    `\n        managed  ${zone.managedPages}` +
    `\n        cma      ${zone.cmaPages}`;
  s += `\n        protection: (${zone.lowmemReserve.join(', ')})`;
  if (!populatedZone(zone)) return `${s}\n`;
  const zn = zoneStatNames(c);
  for (let i = 0; i < zn.length; i++) s += `\n      ${left(zn[i]!, 12)} ${zonePageState(zone, i)}`;
  const nn = numaStatNames(c);
  for (let i = 0; i < nn.length; i++) s += `\n      ${left(nn[i]!, 12)} ${zone.vmNumaStat[i] ?? 0}`;
  s += '\n  pagesets';
  for (let cpu = 0; cpu < c.nrCpus; cpu++) {
    s +=
      `\n    cpu: ${cpu}` +
      `\n              count: 0` +
      `\n              high:  ${zone.pagesetHigh}` +
      `\n              batch: ${zone.pagesetBatch}`;
    s += `\n  vm stats threshold: ${zone.statThreshold}`;
  }
  s += `\n  node_unreclaimable:  ${pgdat.kswapdFailures >= 16 ? 1 : 0}` + `\n  start_pfn:           ${zone.zoneStartPfn}`;
  return `${s}\n`;
}

/**
 * `/proc/zoneinfo` (`zoneinfo_show()` over every online node).
 * @public
 */
export function zoneinfoShow(mm: MmView): string {
  let out = '';
  for (const pgdat of mm.onlinePgdats()) for (const zone of pgdat.nodeZones) out += zoneinfoShowPrint(mm, pgdat, zone);
  return out;
}

/**
 * `/proc/buddyinfo` (`frag_show()`): free blocks per order of each populated
 * zone.
 * @public
 */
export function buddyinfoShow(mm: MmView): string {
  let out = '';
  for (const pgdat of mm.onlinePgdats()) {
    for (const zone of pgdat.nodeZones) {
      if (!populatedZone(zone)) continue;
      out += `Node ${pgdat.nodeId}, zone ${pad(zone.name, 8)} `;
      for (let o = 0; o < mm.config.MAX_ORDER; o++) out += `${pad(zone.freeArea[o]!.nrFree, 6)} `;
      out += '\n';
    }
  }
  return out;
}

/**
 * `/proc/pagetypeinfo` (`pagetypeinfo_show()` for every node with memory):
 * free blocks per order and migrate type, then pageblocks per migrate type.
 * @public
 */
export function pagetypeinfoShow(mm: MmView): string {
  const c = mm.config;
  let out = '';
  for (const pgdat of mm.onlinePgdats()) {
    if (pgdat.nodePresentPages === 0) continue;
    out += `Page block order: ${c.pageblockOrder}\n`;
    out += `Pages per block:  ${c.pageblockNrPages}\n`;
    out += '\n';
    out += `${left('Free pages count per migrate type at order', 43)} `;
    for (let o = 0; o < c.MAX_ORDER; o++) out += `${pad(o, 6)} `;
    out += '\n';
    for (const zone of pgdat.nodeZones) {
      if (!populatedZone(zone)) continue;
      for (let mt = 0; mt < c.MIGRATE_TYPES; mt++) {
        out += `Node ${pad(pgdat.nodeId, 4)}, zone ${pad(zone.name, 8)}, type ${pad(c.migratetypeNames[mt]!, 12)} `;
        for (let o = 0; o < c.MAX_ORDER; o++) {
          const n = zone.freeArea[o]!.count(mt);
          out += n >= 100000 ? `>${pad(99999 + 1, 6)} ` : `${pad(n, 6)} `;
        }
        out += '\n';
      }
    }
    out += `\n${left('Number of blocks type ', 23)}`;
    for (let mt = 0; mt < c.MIGRATE_TYPES; mt++) out += `${pad(c.migratetypeNames[mt]!, 12)} `;
    out += '\n';
    for (const zone of pgdat.nodeZones) {
      if (!populatedZone(zone)) continue;
      const count = new Array<number>(c.MIGRATE_TYPES).fill(0);
      for (let pfn = zone.zoneStartPfn; pfn < zoneEndPfn(zone); pfn += c.pageblockNrPages) {
        if (!mm.pfnOnline(pfn)) continue;
        if (mm.pageZone(pfn) !== zone) continue;
        const mt = mm.memmap.getPageblockMigratetype(pfn);
        if (mt < c.MIGRATE_TYPES) count[mt]!++;
      }
      out += `Node ${pgdat.nodeId}, zone ${pad(zone.name, 8)} `;
      for (const n of count) out += `${pad(n, 12)} `;
      out += '\n';
    }
  }
  return out;
}
