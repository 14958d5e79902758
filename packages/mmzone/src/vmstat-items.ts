/**
 * The counters of mm/vmstat.c (v5.13): the names `vmstat_text[]` prints for
 * `enum zone_stat_item`, `enum numa_stat_item` and `enum node_stat_item`.
 * Which entries exist depends on the configuration (`CONFIG_ZSMALLOC`,
 * `CONFIG_NUMA`, `CONFIG_SHADOW_CALL_STACK`, `CONFIG_SWAP`), so the lists are
 * built from a {@link MmConfig}.
 */
import type { MmConfig } from './config.js';
import { checkConfig } from './validate.js';

/** `NR_FREE_PAGES`: index of the free-page counter among the zone items. @public */
export const NR_FREE_PAGES = 0;

/**
 * `enum zone_stat_item` names, in order.
 * @public
 */
export function zoneStatNames(config: MmConfig): string[] {
  checkConfig('vmstat_text', config);
  const names = [
    'nr_free_pages',
    'nr_zone_inactive_anon',
    'nr_zone_active_anon',
    'nr_zone_inactive_file',
    'nr_zone_active_file',
    'nr_zone_unevictable',
    'nr_zone_write_pending',
    'nr_mlock',
    'nr_bounce',
  ];
  if (config.arch.zsmalloc) names.push('nr_zspages');
  names.push('nr_free_cma');
  return names;
}

/**
 * `enum numa_stat_item` names (empty without `CONFIG_NUMA`).
 * @public
 */
export function numaStatNames(config: MmConfig): string[] {
  checkConfig('vmstat_text', config);
  return config.numa ? ['numa_hit', 'numa_miss', 'numa_foreign', 'numa_interleave', 'numa_local', 'numa_other'] : [];
}

/** Index of `numa_hit`. @public */
export const NUMA_HIT = 0;
/** Index of `numa_miss`. @public */
export const NUMA_MISS = 1;
/** Index of `numa_foreign`. @public */
export const NUMA_FOREIGN = 2;
/** Index of `numa_local`. @public */
export const NUMA_LOCAL = 4;
/** Index of `numa_other`. @public */
export const NUMA_OTHER = 5;

/** `NR_ANON_MAPPED`: index of `nr_anon_pages` among the node items (mapped anonymous pages). @public */
export const NR_ANON_MAPPED = 17;
/** `NR_FILE_MAPPED`: index of `nr_mapped` among the node items (mapped page-cache pages). @public */
export const NR_FILE_MAPPED = 18;

/**
 * `enum node_stat_item` names, in order.
 * @public
 */
export function nodeStatNames(config: MmConfig): string[] {
  checkConfig('vmstat_text', config);
  const names = [
    'nr_inactive_anon',
    'nr_active_anon',
    'nr_inactive_file',
    'nr_active_file',
    'nr_unevictable',
    'nr_slab_reclaimable',
    'nr_slab_unreclaimable',
    'nr_isolated_anon',
    'nr_isolated_file',
    'workingset_nodes',
    'workingset_refault_anon',
    'workingset_refault_file',
    'workingset_activate_anon',
    'workingset_activate_file',
    'workingset_restore_anon',
    'workingset_restore_file',
    'workingset_nodereclaim',
    'nr_anon_pages',
    'nr_mapped',
    'nr_file_pages',
    'nr_dirty',
    'nr_writeback',
    'nr_writeback_temp',
    'nr_shmem',
    'nr_shmem_hugepages',
    'nr_shmem_pmdmapped',
    'nr_file_hugepages',
    'nr_file_pmdmapped',
    'nr_anon_transparent_hugepages',
    'nr_vmscan_write',
    'nr_vmscan_immediate_reclaim',
    'nr_dirtied',
    'nr_written',
    'nr_kernel_misc_reclaimable',
    'nr_foll_pin_acquired',
    'nr_foll_pin_released',
    'nr_kernel_stack',
  ];
  if (config.arch.shadowCallStack) names.push('nr_shadow_call_stack');
  names.push('nr_page_table_pages');
  if (config.arch.swap) names.push('nr_swapcached');
  return names;
}

/**
 * Node items `vmstat_item_print_in_thp()` prints in units of huge pages
 * (their counters are kept in base pages in v5.13).
 * @public
 */
export const NODE_STAT_IN_THP: readonly string[] = Object.freeze([
  'nr_shmem_hugepages',
  'nr_shmem_pmdmapped',
  'nr_file_hugepages',
  'nr_file_pmdmapped',
  'nr_anon_transparent_hugepages',
]);
