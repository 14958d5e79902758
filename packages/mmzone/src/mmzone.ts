/**
 * Nodes and zones: `pg_data_t` and `struct zone` (include/linux/mmzone.h).
 *
 * Physical memory is split into NUMA nodes, each described by a `pglist_data`
 * (`NODE_DATA(nid)`), and each node into zones: one `struct zone` per zone
 * type, whether or not the node has memory of that type. A zone is a pfn
 * interval with three page counts that students must keep apart:
 *
 * - `spanned_pages`: the interval's length, holes included
 *   (`zone_end_pfn = zone_start_pfn + spanned_pages`);
 * - `present_pages`: pages that physically exist in the interval;
 * - `managed_pages`: present pages handed to the buddy allocator (boot-time
 *   reservations excluded).
 *
 * A zone is *populated* when it has present pages and *managed* when it has
 * managed pages; only managed zones appear in the zonelists the allocator
 * walks. ZONE_DEVICE is populated by `memremap_pages()` (present pages) but
 * never managed: its pages belong to their driver, not to the buddy allocator.
 *
 * Memory hotplug grows and shrinks zones and nodes with the `resize_*_range`
 * primitives below (`move_pfn_range_to_zone()` uses them), and
 * `remove_pfn_range_from_zone()` shrinks them again.
 */
import { KernelError, checkPhysRange, checkUnsigned } from '@zonedev/kernel';
import { checkConfig } from './validate.js';
import type { MmConfig } from './config.js';
import { FreeArea, FreeLists } from './free-area.js';
import { nodeStatNames, numaStatNames, zoneStatNames } from './vmstat-items.js';

/** `MIGRATE_UNMOVABLE`. @public */
export const MIGRATE_UNMOVABLE = 0;
/** `MIGRATE_MOVABLE`. @public */
export const MIGRATE_MOVABLE = 1;
/** `MIGRATE_RECLAIMABLE`. @public */
export const MIGRATE_RECLAIMABLE = 2;
/** `MIGRATE_PCPTYPES`: the types with per-cpu lists. @public */
export const MIGRATE_PCPTYPES = 3;
/** `MIGRATE_HIGHATOMIC` (= MIGRATE_PCPTYPES). @public */
export const MIGRATE_HIGHATOMIC = 3;

/** `WMARK_MIN`. @public */
export const WMARK_MIN = 0;
/** `WMARK_LOW`. @public */
export const WMARK_LOW = 1;
/** `WMARK_HIGH`. @public */
export const WMARK_HIGH = 2;

/**
 * `struct zone`.
 * @public
 */
export class Zone {
  /** `zone->zone_pgdat`: the node the zone belongs to. */
  readonly zonePgdat: PglistData;
  /** `zone->name` (`zone_names[]`). */
  readonly name: string;
  /** `zone_idx(zone)`: its index in `node_zones[]`. */
  readonly zoneIdx: number;
  /** `zone->node` (`zone_to_nid()`). */
  readonly node: number;
  /** `zone->zone_start_pfn`. */
  zoneStartPfn = 0;
  /** `zone->spanned_pages`. */
  spannedPages = 0;
  /** `zone->present_pages`. */
  presentPages = 0;
  /** `zone->managed_pages`. */
  managedPages = 0;
  /** `zone->cma_pages`. */
  cmaPages = 0;
  /** `zone->_watermark[NR_WMARK]`: min, low, high. */
  readonly watermark: number[] = [0, 0, 0];
  /** `zone->watermark_boost` (no kswapd here: stays 0). */
  watermarkBoost = 0;
  /** `zone->nr_reserved_highatomic`. */
  nrReservedHighatomic = 0;
  /** `zone->lowmem_reserve[MAX_NR_ZONES]`. */
  readonly lowmemReserve: number[];
  /** `zone->nr_isolate_pageblock`. */
  nrIsolatePageblock = 0;
  /** `zone->vm_stat[]` (`enum zone_stat_item`). */
  readonly vmStat: number[];
  /** `zone->vm_numa_stat[]` (`enum numa_stat_item`). */
  readonly vmNumaStat: number[];
  /** `pcp->high` of the per-cpu pagesets (`zone_set_pageset_high_and_batch()`). */
  pagesetHigh = 0;
  /** `pcp->batch` of the per-cpu pagesets. */
  pagesetBatch = 1;
  /** `pageset->stat_threshold`. */
  statThreshold = 0;
  /** `zone->percpu_drift_mark`. */
  percpuDriftMark = 0;
  /** `zone->contiguous`. */
  contiguous = false;
  /** The free lists behind `free_area[]`. */
  readonly freeLists: FreeLists;
  /** `zone->free_area[MAX_ORDER]`. */
  readonly freeArea: readonly FreeArea[];

  constructor(pgdat: PglistData, zoneIdx: number, config: MmConfig) {
    checkPgdat('zone', pgdat);
    checkConfig('zone', config);
    checkUnsigned('zone', 'zone_idx', zoneIdx, config.MAX_NR_ZONES - 1);
    this.zonePgdat = pgdat;
    this.zoneIdx = zoneIdx;
    this.node = pgdat.nodeId;
    this.name = config.zoneNames[zoneIdx] ?? `zone${zoneIdx}`;
    this.lowmemReserve = new Array<number>(config.MAX_NR_ZONES).fill(0);
    this.vmStat = new Array<number>(zoneStatNames(config).length).fill(0);
    this.vmNumaStat = new Array<number>(numaStatNames(config).length).fill(0);
    this.freeLists = new FreeLists(config.MAX_ORDER, config.MIGRATE_TYPES);
    this.freeArea = Object.freeze(Array.from({ length: config.MAX_ORDER }, (_, o) => new FreeArea(this.freeLists, o)));
  }

  /** For the function-graph tracer: `Normal` etc. with the node. */
  get traceName(): string {
    return `zone(${this.node}:${this.name})`;
  }
}

/**
 * `struct pglist_data` (`pg_data_t`): one NUMA node.
 * @public
 */
export class PglistData {
  /** `pgdat->node_id`. */
  readonly nodeId: number;
  /** The configuration. */
  readonly config: MmConfig;
  /** `pgdat->node_zones[MAX_NR_ZONES]`. */
  readonly nodeZones: readonly Zone[];
  /** `pgdat->node_start_pfn`. */
  nodeStartPfn = 0;
  /** `pgdat->node_present_pages`. */
  nodePresentPages = 0;
  /** `pgdat->node_spanned_pages`. */
  nodeSpannedPages = 0;
  /** `pgdat->nr_zones`: index of the highest populated zone + 1. */
  nrZones = 0;
  /** `pgdat->kswapd_failures`. */
  kswapdFailures = 0;
  /** `pgdat->totalreserve_pages`. */
  totalreservePages = 0;
  /** `pgdat->vm_stat[]` (`enum node_stat_item`). */
  readonly vmStat: number[];

  constructor(nid: number, config: MmConfig) {
    checkConfig('pglist_data', config);
    checkUnsigned('pglist_data', 'nid', nid, config.MAX_NUMNODES - 1);
    this.nodeId = nid;
    this.config = config;
    this.vmStat = new Array<number>(nodeStatNames(config).length).fill(0);
    const zones: Zone[] = [];
    for (let i = 0; i < config.MAX_NR_ZONES; i++) zones.push(new Zone(this, i, config));
    this.nodeZones = Object.freeze(zones);
  }

  /** For the function-graph tracer. */
  get traceName(): string {
    return `node${this.nodeId}`;
  }
}

/**
 * `zone_end_pfn()`: the first pfn after the zone.
 * @public
 */
export function zoneEndPfn(zone: Zone): number {
  checkZone('zone_end_pfn', zone);
  return zone.zoneStartPfn + zone.spannedPages;
}

/**
 * `zone_spans_pfn()`.
 * @public
 */
export function zoneSpansPfn(zone: Zone, pfn: number): boolean {
  checkZone('zone_spans_pfn', zone);
  checkUnsigned('zone_spans_pfn', 'pfn', pfn);
  return zone.zoneStartPfn <= pfn && pfn < zoneEndPfn(zone);
}

/**
 * `zone_is_empty()`: the zone spans no pages.
 * @public
 */
export function zoneIsEmpty(zone: Zone): boolean {
  checkZone('zone_is_empty', zone);
  return zone.spannedPages === 0;
}

/**
 * `zone_intersects()`: whether the zone's span meets `[startPfn, startPfn + nrPages)`.
 * @public
 */
export function zoneIntersects(zone: Zone, startPfn: number, nrPages: number): boolean {
  checkZone('zone_intersects', zone);
  checkPhysRange('zone_intersects', startPfn, nrPages);
  if (zoneIsEmpty(zone)) return false;
  if (startPfn >= zoneEndPfn(zone) || startPfn + nrPages <= zone.zoneStartPfn) return false;
  return true;
}

/**
 * `populated_zone()`: the zone has present pages.
 * @public
 */
export function populatedZone(zone: Zone): boolean {
  checkZone('populated_zone', zone);
  return zone.presentPages > 0;
}

/**
 * `managed_zone()`: the zone has pages managed by the buddy allocator.
 * @public
 */
export function managedZone(zone: Zone): boolean {
  return zone.managedPages > 0;
}

/**
 * `zone_managed_pages()`.
 * @public
 */
export function zoneManagedPages(zone: Zone): number {
  return zone.managedPages;
}

/**
 * `zone_idx()`: the zone's index in its node (`zone - zone_pgdat->node_zones`).
 * @public
 */
export function zoneIdx(zone: Zone): number {
  checkZone('zone_idx', zone);
  return zone.zoneIdx;
}

/**
 * `zone_id()` as Dan Williams' 2015 RFC "x86, mm: ZONE_DEVICE for device
 * memory" introduced it: the same index, `zone - node_zones`.
 * @public
 */
export function zoneId(zone: Zone): number {
  checkZone('zone_id', zone);
  return zone.zoneIdx;
}

/**
 * `zone_to_nid()`.
 * @public
 */
export function zoneToNid(zone: Zone): number {
  return zone.node;
}

/**
 * `is_dev_zone()`: whether this is ZONE_DEVICE (always false when
 * `CONFIG_ZONE_DEVICE` is off).
 * @public
 */
export function isDevZone(zone: Zone): boolean {
  checkZone('is_dev_zone', zone);
  const dev = zone.zonePgdat.config.ZONE_DEVICE;
  return dev !== undefined && zone.zoneIdx === dev;
}

/**
 * `is_highmem()` (never true on 64-bit).
 * @public
 */
export function isHighmem(zone: Zone): boolean {
  const h = zone.zonePgdat.config.ZONE_HIGHMEM;
  return h !== undefined && zone.zoneIdx === h;
}

/**
 * `min_wmark_pages()`: `_watermark[WMARK_MIN] + watermark_boost`.
 * @public
 */
export function minWmarkPages(zone: Zone): number {
  return zone.watermark[WMARK_MIN]! + zone.watermarkBoost;
}

/**
 * `low_wmark_pages()`.
 * @public
 */
export function lowWmarkPages(zone: Zone): number {
  return zone.watermark[WMARK_LOW]! + zone.watermarkBoost;
}

/**
 * `high_wmark_pages()`.
 * @public
 */
export function highWmarkPages(zone: Zone): number {
  return zone.watermark[WMARK_HIGH]! + zone.watermarkBoost;
}

/**
 * `wmark_pages(zone, i)`.
 * @public
 */
export function wmarkPages(zone: Zone, i: number): number {
  return zone.watermark[i]! + zone.watermarkBoost;
}

/**
 * `zone_page_state()`: a zone counter, negative values read as 0 (as on SMP).
 * @public
 */
export function zonePageState(zone: Zone, item: number): number {
  checkZone('zone_page_state', zone);
  checkUnsigned('zone_page_state', 'item', item, zone.vmStat.length - 1);
  const v = zone.vmStat[item] ?? 0;
  return v < 0 ? 0 : v;
}

/**
 * `pgdat_end_pfn()`.
 * @public
 */
export function pgdatEndPfn(pgdat: PglistData): number {
  return pgdat.nodeStartPfn + pgdat.nodeSpannedPages;
}

/**
 * `pgdat_is_empty()`: no start and no span.
 * @public
 */
export function pgdatIsEmpty(pgdat: PglistData): boolean {
  return pgdat.nodeStartPfn === 0 && pgdat.nodeSpannedPages === 0;
}

/**
 * `resize_zone_range()` (mm/memory_hotplug.c): grows the zone's span to
 * include `[startPfn, startPfn + nrPages)`.
 * @public
 */
export function resizeZoneRange(zone: Zone, startPfn: number, nrPages: number): void {
  checkZone('resize_zone_range', zone);
  checkPhysRange('resize_zone_range', startPfn, nrPages);
  const oldEnd = zoneEndPfn(zone);
  if (zoneIsEmpty(zone) || startPfn < zone.zoneStartPfn) zone.zoneStartPfn = startPfn;
  zone.spannedPages = Math.max(startPfn + nrPages, oldEnd) - zone.zoneStartPfn;
}

/**
 * `resize_pgdat_range()` (mm/memory_hotplug.c): grows the node's span to
 * include `[startPfn, startPfn + nrPages)`.
 * @public
 */
export function resizePgdatRange(pgdat: PglistData, startPfn: number, nrPages: number): void {
  checkPgdat('resize_pgdat_range', pgdat);
  checkPhysRange('resize_pgdat_range', startPfn, nrPages);
  const oldEnd = pgdatEndPfn(pgdat);
  if (pgdatIsEmpty(pgdat) || startPfn < pgdat.nodeStartPfn) pgdat.nodeStartPfn = startPfn;
  pgdat.nodeSpannedPages = Math.max(startPfn + nrPages, oldEnd) - pgdat.nodeStartPfn;
}

/**
 * Sets a zone's span directly (what `shrink_zone_span()` ends with, and
 * `zone->zone_start_pfn = 0; zone->spanned_pages = 0` for an emptied zone).
 * @public
 */
export function setZoneSpan(zone: Zone, startPfn: number, spannedPages: number): void {
  checkZone('set_zone_span', zone);
  checkPhysRange('set_zone_span', startPfn, spannedPages);
  zone.zoneStartPfn = spannedPages === 0 ? 0 : startPfn;
  zone.spannedPages = spannedPages;
}

/**
 * Sets a node's span directly (what `update_pgdat_span()` computes).
 * @public
 */
export function setPgdatSpan(pgdat: PglistData, startPfn: number, spannedPages: number): void {
  checkPgdat('set_pgdat_span', pgdat);
  checkPhysRange('set_pgdat_span', startPfn, spannedPages);
  pgdat.nodeStartPfn = startPfn;
  pgdat.nodeSpannedPages = spannedPages;
}

/**
 * Sets `pgdat->nr_zones`, the index of the highest initialized zone + 1:
 * what `init_currently_empty_zone()` (mm/page_alloc.c) raises when a zone
 * first gets memory, what `hotadd_new_pgdat()` (mm/memory_hotplug.c)
 * clears, and what the model's unwind of a failed hot-add lowers back.
 * Throws KernelError EINVAL unless `nrZones` is an integer in
 * `0..MAX_NR_ZONES`.
 * @public
 */
export function setPgdatNrZones(pgdat: PglistData, nrZones: number): void {
  checkPgdat('set_pgdat_nr_zones', pgdat);
  checkUnsigned('set_pgdat_nr_zones', 'nr_zones', nrZones, pgdat.config.MAX_NR_ZONES);
  pgdat.nrZones = nrZones;
}

/**
 * `is_migrate_isolate()`.
 * @public
 */
export function isMigrateIsolate(config: MmConfig, migratetype: number): boolean {
  return migratetype === config.MIGRATE_ISOLATE;
}

/** EINVAL unless `zone` is a {@link Zone}. */
export function checkZone(fn: string, zone: unknown): asserts zone is Zone {
  if (!(zone instanceof Zone)) throw new KernelError('EINVAL', `${fn}: not a zone: ${String(zone)}`);
}

/** EINVAL unless `pgdat` is a {@link PglistData}. */
function checkPgdat(fn: string, pgdat: unknown): asserts pgdat is PglistData {
  if (!(pgdat instanceof PglistData)) throw new KernelError('EINVAL', `${fn}: not a pglist_data: ${String(pgdat)}`);
}

