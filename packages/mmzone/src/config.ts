/**
 * The kernel configuration the mm core is built from, and the zone types it
 * implies.
 *
 * In the kernel, which memory zones exist is decided at build time:
 * `enum zone_type` in include/linux/mmzone.h lists `ZONE_DMA` only under
 * `CONFIG_ZONE_DMA`, `ZONE_DMA32` under `CONFIG_ZONE_DMA32`, `ZONE_HIGHMEM`
 * under `CONFIG_HIGHMEM` (never on a 64-bit kernel), then the always-present
 * `ZONE_NORMAL` and `ZONE_MOVABLE`, and last `ZONE_DEVICE` under
 * `CONFIG_ZONE_DEVICE`. The enum values are therefore not constants: with
 * ZONE_DMA configured `ZONE_NORMAL` is 2, without it 1. `MAX_NR_ZONES`, the
 * count, is computed by kernel/bounds.c and decides `ZONES_SHIFT`, the number
 * of `page->flags` bits that name a page's zone.
 *
 * That bit budget is where ZONE_DEVICE was born (seeds 000 and 002): in 2015
 * `include/linux/page-flags-layout.h` allowed at most two bits, i.e. four
 * zones, and x86_64 already had DMA, DMA32, Normal and Movable. Dan Williams'
 * patch therefore made `ZONE_DEVICE` depend on `!ZONE_DMA`: "since we have run
 * out of ZONES_SHIFT bits this functionality currently depends on sacrificing
 * ZONE_DMA". Linux v4.6 allowed a third bit and the dependency went away.
 * Both budgets are available here as named configurations: `'2015'` and
 * `'v5.13'` (the default).
 *
 * An architecture (the platform profiles of apps/demo, or a test) describes
 * itself with a {@link MmArchConfig}; {@link createMmConfig} checks it the way
 * Kconfig and the preprocessor `#error`s would, and returns the resolved
 * {@link MmConfig} every other part of this package reads.
 */
import { KernelError, checkUnsigned, ilog2 } from '@zonedev/kernel';
import { computePageFlagsLayout } from './page-flags-layout.js';
import type { PageFlagsLayout } from './page-flags-layout.js';
import { computePageflagBits } from './page-flags.js';
import type { PageflagBits } from './page-flags.js';

/**
 * The `ZONES_SHIFT` budget a kernel allows: `'2015'` is the v4.3-era
 * include/linux/page-flags-layout.h (at most 2 bits, 4 zones) that seeds 000
 * and 002 ran into; `'v5.13'` allows 3 bits (8 zones), as every kernel since
 * v4.6 does.
 * @public
 */
export type ZonesShiftBudget = '2015' | 'v5.13';

/**
 * The maximum `ZONES_SHIFT` of each named budget.
 * @public
 */
export const ZONES_SHIFT_BUDGET: Readonly<Record<ZonesShiftBudget, number>> = Object.freeze({
  '2015': 2,
  'v5.13': 3,
});

/**
 * What an architecture (and its Kconfig) tells the mm core. The platform
 * profiles implement this; tests use small configurations of their own.
 * Optional fields default to what an x86_64 distribution kernel of v5.13
 * would have.
 * @public
 */
export interface MmArchConfig {
  /** A name for messages and diagrams, e.g. `x86_64`. */
  readonly name?: string;
  /** `PAGE_SHIFT`: 12 for 4 KiB pages, 16 for 64 KiB pages. */
  readonly pageShift: number;
  /** `BITS_PER_LONG`: the width of `page->flags` (default 64). */
  readonly bitsPerLong?: 32 | 64;
  /** `NODES_SHIFT` (`CONFIG_NODES_SHIFT`): log2 of the number of NUMA nodes. */
  readonly nodesShift: number;
  /** `MAX_ORDER`: orders 0 .. MAX_ORDER-1 exist (11 on x86_64, 9 on powerpc64 with 64 KiB pages). */
  readonly maxOrder: number;
  /** `pageblock_order`: the order of a pageblock (9 on x86_64, 8 on powerpc64 hash 64K). */
  readonly pageblockOrder: number;
  /** `SECTION_SIZE_BITS` (27 on x86_64, 24 on powerpc64). */
  readonly sectionSizeBits: number;
  /** `MAX_PHYSMEM_BITS` (46 on x86_64 with 4-level paging). */
  readonly maxPhysmemBits: number;
  /** `CONFIG_SPARSEMEM_VMEMMAP` (default true): no section number in `page->flags`. */
  readonly sparsememVmemmap?: boolean;
  /** `CONFIG_ZONE_DMA`. */
  readonly zoneDma: boolean;
  /** Address bits ZONE_DMA covers (`MAX_DMA_PFN`; 24 = 16 MiB on x86). Default 24. */
  readonly zoneDmaBits?: number;
  /** `CONFIG_ZONE_DMA32`. */
  readonly zoneDma32: boolean;
  /** Address bits ZONE_DMA32 covers (`MAX_DMA32_PFN`; 32 = 4 GiB). Default 32. */
  readonly zoneDma32Bits?: number;
  /** `CONFIG_HIGHMEM` (default false; only possible with 32-bit longs). */
  readonly highmem?: boolean;
  /** `CONFIG_ZONE_DEVICE`. */
  readonly zoneDevice: boolean;
  /** Which `ZONES_SHIFT` budget the kernel has (default `'v5.13'`). */
  readonly zonesShiftBudget?: ZonesShiftBudget;
  /** `CONFIG_NUMA_BALANCING` (default false): puts LAST_CPUPID in `page->flags`. */
  readonly numaBalancing?: boolean;
  /** `NR_CPUS_BITS` = ilog2(CONFIG_NR_CPUS) (default 6, NR_CPUS 64). */
  readonly nrCpusBits?: number;
  /** `CONFIG_KASAN_SW_TAGS`/`HW_TAGS` (default false): an 8-bit tag in `page->flags`. */
  readonly kasanTags?: boolean;
  /** `CONFIG_ARCH_USES_PG_UNCACHED` (default false; true on x86 with PAT). */
  readonly archUsesPgUncached?: boolean;
  /** `CONFIG_MEMORY_FAILURE` (default true): `PG_hwpoison` exists. */
  readonly memoryFailure?: boolean;
  /** `CONFIG_IDLE_PAGE_TRACKING` (default false): `PG_young`, `PG_idle`. */
  readonly idlePageTracking?: boolean;
  /** `CONFIG_CMA` (default false): `MIGRATE_CMA` exists. */
  readonly cma?: boolean;
  /** `CONFIG_SWAP` (default true): the `nr_swapcached` counter exists. */
  readonly swap?: boolean;
  /** `IS_ENABLED(CONFIG_ZSMALLOC)` (default true): the `nr_zspages` counter exists. */
  readonly zsmalloc?: boolean;
  /** `CONFIG_SHADOW_CALL_STACK` (default false, arm64 only). */
  readonly shadowCallStack?: boolean;
  /** Online CPUs (default 1): the per-CPU pagesets of /proc/zoneinfo. */
  readonly nrCpus?: number;
}

/**
 * The zone kinds, in the order `enum zone_type` lists them.
 * @public
 */
export type ZoneKind = 'DMA' | 'DMA32' | 'Normal' | 'HighMem' | 'Movable' | 'Device';

/**
 * The resolved configuration: the architecture's answers plus everything the
 * kernel derives from them at build time (zone numbering, `ZONES_SHIFT`, the
 * `page->flags` layout, the page flag bits, migrate types).
 * @public
 */
export interface MmConfig {
  /** The architecture description it was built from, with defaults filled in. */
  readonly arch: Readonly<Required<Omit<MmArchConfig, 'name'>>> & { readonly name: string };
  /** `PAGE_SHIFT`. */
  readonly pageShift: number;
  /** `PAGE_SIZE`. */
  readonly pageSize: number;
  /** `BITS_PER_LONG`. */
  readonly bitsPerLong: number;
  /** `NODES_SHIFT`. */
  readonly nodesShift: number;
  /** `MAX_NUMNODES` = 2^NODES_SHIFT. */
  readonly MAX_NUMNODES: number;
  /** `MAX_ORDER`. */
  readonly MAX_ORDER: number;
  /** `MAX_ORDER_NR_PAGES` = 2^(MAX_ORDER-1). */
  readonly MAX_ORDER_NR_PAGES: number;
  /** `pageblock_order`. */
  readonly pageblockOrder: number;
  /** `pageblock_nr_pages`. */
  readonly pageblockNrPages: number;
  /** `SECTION_SIZE_BITS`. */
  readonly sectionSizeBits: number;
  /** `PFN_SECTION_SHIFT` = SECTION_SIZE_BITS - PAGE_SHIFT. */
  readonly pfnSectionShift: number;
  /** `PAGES_PER_SECTION`. */
  readonly pagesPerSection: number;
  /** `MAX_PHYSMEM_BITS`. */
  readonly maxPhysmemBits: number;
  /** `SECTIONS_SHIFT` = MAX_PHYSMEM_BITS - SECTION_SIZE_BITS. */
  readonly sectionsShift: number;
  /** `CONFIG_NUMA` (NODES_SHIFT > 0). */
  readonly numa: boolean;
  /** Zone kinds by zone index, in `enum zone_type` order. */
  readonly zoneKinds: readonly ZoneKind[];
  /** `zone_names[]` of mm/page_alloc.c, by zone index. */
  readonly zoneNames: readonly string[];
  /** `MAX_NR_ZONES`. */
  readonly MAX_NR_ZONES: number;
  /** `ZONES_SHIFT`. */
  readonly ZONES_SHIFT: number;
  /** `ZONE_DMA`, when configured. */
  readonly ZONE_DMA: number | undefined;
  /** `ZONE_DMA32`, when configured. */
  readonly ZONE_DMA32: number | undefined;
  /** `ZONE_NORMAL`. */
  readonly ZONE_NORMAL: number;
  /** `ZONE_HIGHMEM`, when configured. */
  readonly ZONE_HIGHMEM: number | undefined;
  /** `ZONE_MOVABLE`. */
  readonly ZONE_MOVABLE: number;
  /** `ZONE_DEVICE`, when configured. */
  readonly ZONE_DEVICE: number | undefined;
  /** `MAX_DMA_PFN`: the first pfn above ZONE_DMA. */
  readonly MAX_DMA_PFN: number;
  /** `MAX_DMA32_PFN`: the first pfn above ZONE_DMA32. */
  readonly MAX_DMA32_PFN: number;
  /** The page flag bits this configuration has (`enum pageflags`). */
  readonly pageflags: PageflagBits;
  /** The `page->flags` layout (include/linux/page-flags-layout.h). */
  readonly layout: PageFlagsLayout;
  /** `MIGRATE_CMA`, when `CONFIG_CMA`. */
  readonly MIGRATE_CMA: number | undefined;
  /** `MIGRATE_ISOLATE` (CONFIG_MEMORY_ISOLATION is always on here). */
  readonly MIGRATE_ISOLATE: number;
  /** `MIGRATE_TYPES`. */
  readonly MIGRATE_TYPES: number;
  /** `migratetype_names[]`, by migrate type. */
  readonly migratetypeNames: readonly string[];
  /** Online CPUs. */
  readonly nrCpus: number;
}

const ZONE_NAME: Readonly<Record<ZoneKind, string>> = {
  DMA: 'DMA',
  DMA32: 'DMA32',
  Normal: 'Normal',
  HighMem: 'HighMem',
  Movable: 'Movable',
  Device: 'Device',
};

/** The switches of an architecture description (Kconfig bools). */
const BOOLEAN_FIELDS: ReadonlySet<string> = new Set([
  'sparsememVmemmap', 'zoneDma', 'zoneDma32', 'highmem', 'zoneDevice', 'numaBalancing', 'kasanTags',
  'archUsesPgUncached', 'memoryFailure', 'idlePageTracking', 'cma', 'swap', 'zsmalloc', 'shadowCallStack',
]);

/** The configurations {@link createMmConfig} made: the only values every `config` parameter accepts. */
const MADE = new WeakSet<object>();

/** Whether `config` is a configuration {@link createMmConfig} made (not a copy or a hand-made object). */
export function isMmConfig(config: unknown): config is MmConfig {
  return typeof config === 'object' && config !== null && MADE.has(config);
}

function defaults(arch: MmArchConfig): MmConfig['arch'] {
  if (typeof arch !== 'object' || arch === null) fail(`not an architecture configuration: ${String(arch)}`);
  return {
    name: arch.name ?? 'custom',
    pageShift: arch.pageShift,
    bitsPerLong: arch.bitsPerLong ?? 64,
    nodesShift: arch.nodesShift,
    maxOrder: arch.maxOrder,
    pageblockOrder: arch.pageblockOrder,
    sectionSizeBits: arch.sectionSizeBits,
    maxPhysmemBits: arch.maxPhysmemBits,
    sparsememVmemmap: arch.sparsememVmemmap ?? true,
    zoneDma: arch.zoneDma,
    zoneDmaBits: arch.zoneDmaBits ?? 24,
    zoneDma32: arch.zoneDma32,
    zoneDma32Bits: arch.zoneDma32Bits ?? 32,
    highmem: arch.highmem ?? false,
    zoneDevice: arch.zoneDevice,
    zonesShiftBudget: arch.zonesShiftBudget ?? 'v5.13',
    numaBalancing: arch.numaBalancing ?? false,
    nrCpusBits: arch.nrCpusBits ?? 6,
    kasanTags: arch.kasanTags ?? false,
    archUsesPgUncached: arch.archUsesPgUncached ?? false,
    memoryFailure: arch.memoryFailure ?? true,
    idlePageTracking: arch.idlePageTracking ?? false,
    cma: arch.cma ?? false,
    swap: arch.swap ?? true,
    zsmalloc: arch.zsmalloc ?? true,
    shadowCallStack: arch.shadowCallStack ?? false,
    nrCpus: arch.nrCpus ?? 1,
  };
}

/**
 * The zone kinds a configuration has, in `enum zone_type` order
 * (include/linux/mmzone.h).
 * @public
 */
export function zoneKindsOf(arch: Pick<MmArchConfig, 'zoneDma' | 'zoneDma32' | 'highmem' | 'zoneDevice'>): ZoneKind[] {
  const kinds: ZoneKind[] = [];
  if (arch.zoneDma) kinds.push('DMA');
  if (arch.zoneDma32) kinds.push('DMA32');
  kinds.push('Normal');
  if (arch.highmem === true) kinds.push('HighMem');
  kinds.push('Movable');
  if (arch.zoneDevice) kinds.push('Device');
  return kinds;
}

/**
 * `ZONES_SHIFT` for a number of zones, as include/linux/page-flags-layout.h
 * computes it from `MAX_NR_ZONES` (0 bits for one zone, 1 for two, 2 for up
 * to four, 3 for up to eight); `undefined` when no rule of the header covers
 * the count (its `#error`).
 * @public
 */
export function zonesShiftFor(nrZones: number): number | undefined {
  checkUnsigned('ZONES_SHIFT', 'MAX_NR_ZONES', nrZones);
  if (nrZones < 2) return 0;
  if (nrZones <= 2) return 1;
  if (nrZones <= 4) return 2;
  if (nrZones <= 8) return 3;
  return undefined;
}

function fail(reason: string): never {
  throw new KernelError('EINVAL', reason);
}

/**
 * Why the kernel would refuse to build this configuration, or `undefined` if
 * it builds. Reproduces the Kconfig dependencies and the preprocessor
 * `#error`s: the 2015 rule `ZONE_DEVICE depends on !ZONE_DMA` (seeds 000 and
 * 002), "ZONES_SHIFT -- too many zones configured adjust calculation",
 * "Allocator MAX_ORDER exceeds SECTION_SIZE" (include/linux/mmzone.h), and the
 * page-flags layout errors ("Vmemmap: No space for nodes field in page
 * flags", "Not enough bits in page flags").
 * @public
 */
export function checkMmConfig(arch: MmArchConfig): string | undefined {
  try {
    createMmConfig(arch);
    return undefined;
  } catch (e) {
    if (e instanceof KernelError) return e.message;
    throw e;
  }
}

/**
 * Resolves an architecture description into the build-time configuration.
 * Throws `KernelError('EINVAL', reason)` for a configuration the kernel would
 * not build (see {@link checkMmConfig} for the reasons).
 * @public
 */
export function createMmConfig(archIn: MmArchConfig): MmConfig {
  const arch = defaults(archIn);
  if (typeof arch.name !== 'string') fail(`the architecture's name must be a string, got ${String(arch.name)}`);
  for (const [what, v] of Object.entries(arch)) {
    if (BOOLEAN_FIELDS.has(what) && typeof v !== 'boolean') fail(`${what} must be true or false, got ${String(v)}`);
  }
  if (!Object.hasOwn(ZONES_SHIFT_BUDGET, arch.zonesShiftBudget)) fail(`unknown ZONES_SHIFT budget ${String(arch.zonesShiftBudget)}`);
  const int = (v: number, what: string, lo: number, hi: number): void => {
    if (!Number.isInteger(v) || v < lo || v > hi) fail(`${what} must be an integer in ${lo}..${hi}, got ${v}`);
  };
  int(arch.pageShift, 'PAGE_SHIFT', 10, 20);
  int(arch.nodesShift, 'NODES_SHIFT', 0, 12);
  int(arch.maxOrder, 'MAX_ORDER', 1, 20);
  int(arch.pageblockOrder, 'pageblock_order', 0, 20);
  int(arch.sectionSizeBits, 'SECTION_SIZE_BITS', arch.pageShift, 40);
  int(arch.maxPhysmemBits, 'MAX_PHYSMEM_BITS', arch.sectionSizeBits, 52);
  int(arch.nrCpus, 'number of online CPUs', 1, 8192);
  int(arch.nrCpusBits, 'NR_CPUS_BITS', 0, 13);
  if (arch.bitsPerLong !== 32 && arch.bitsPerLong !== 64) fail(`BITS_PER_LONG must be 32 or 64`);
  if (arch.highmem && arch.bitsPerLong === 64) fail('HIGHMEM depends on a 32-bit kernel (X86_32, PPC32): no ZONE_HIGHMEM on 64-bit');
  if (arch.pageblockOrder > arch.maxOrder - 1) {
    fail(`pageblock_order ${arch.pageblockOrder} exceeds MAX_ORDER - 1 (${arch.maxOrder - 1})`);
  }
  // include/linux/mmzone.h: a MAX_ORDER block must fit in a memory section.
  if (arch.maxOrder - 1 + arch.pageShift > arch.sectionSizeBits) fail('Allocator MAX_ORDER exceeds SECTION_SIZE');
  if (arch.zoneDma && arch.zoneDma32 && arch.zoneDmaBits >= arch.zoneDma32Bits) {
    fail('ZONE_DMA must lie below ZONE_DMA32');
  }

  const kinds = zoneKindsOf(arch);
  const names = kinds.map((k) => ZONE_NAME[k]);
  const budget = ZONES_SHIFT_BUDGET[arch.zonesShiftBudget];
  if (arch.zonesShiftBudget === '2015' && arch.zoneDevice && arch.zoneDma) {
    // mm/Kconfig of the 2015 series: ZONE_DEVICE "depends on !ZONE_DMA".
    const need = zonesShiftFor(kinds.length);
    fail(
      `ZONE_DEVICE depends on !ZONE_DMA (2015 series): ${names.join(', ')} are ${kinds.length} zones, ` +
        `ZONES_SHIFT would need ${need ?? '>3'} bits but only ${budget} are available ` +
        '("ZONES_SHIFT -- too many zones configured adjust calculation"); ' +
        'device memory currently depends on sacrificing ZONE_DMA',
    );
  }
  const zonesShift = zonesShiftFor(kinds.length);
  if (zonesShift === undefined || zonesShift > budget) {
    fail(
      `ZONES_SHIFT -- too many zones configured adjust calculation: ${names.join(', ')} are ${kinds.length} zones, ` +
        `which need ${zonesShift ?? 'more than 3'} bits; the ${arch.zonesShiftBudget} budget allows ${budget}`,
    );
  }

  const pageflags = computePageflagBits({
    bitsPerLong: arch.bitsPerLong,
    archUsesPgUncached: arch.archUsesPgUncached,
    memoryFailure: arch.memoryFailure,
    idlePageTracking: arch.idlePageTracking,
  });
  const sectionsShift = arch.maxPhysmemBits - arch.sectionSizeBits;
  const layout = computePageFlagsLayout({
    bitsPerLong: arch.bitsPerLong,
    nrPageflags: pageflags.NR_PAGEFLAGS,
    zonesShift,
    nodesShift: arch.nodesShift,
    sectionsShift,
    sparsememVmemmap: arch.sparsememVmemmap,
    lastCpupidShift: arch.numaBalancing ? 8 + arch.nrCpusBits : 0,
    kasanTagWidth: arch.kasanTags ? 8 : 0,
  });

  const idx = (k: ZoneKind): number | undefined => {
    const i = kinds.indexOf(k);
    return i < 0 ? undefined : i;
  };
  const migratetypeNames = ['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic'];
  let MIGRATE_CMA: number | undefined;
  if (arch.cma) {
    MIGRATE_CMA = migratetypeNames.length;
    migratetypeNames.push('CMA');
  }
  const MIGRATE_ISOLATE = migratetypeNames.length;
  migratetypeNames.push('Isolate');

  const config: MmConfig = Object.freeze({
    arch: Object.freeze(arch),
    pageShift: arch.pageShift,
    pageSize: 2 ** arch.pageShift,
    bitsPerLong: arch.bitsPerLong,
    nodesShift: arch.nodesShift,
    MAX_NUMNODES: 2 ** arch.nodesShift,
    MAX_ORDER: arch.maxOrder,
    MAX_ORDER_NR_PAGES: 2 ** (arch.maxOrder - 1),
    pageblockOrder: arch.pageblockOrder,
    pageblockNrPages: 2 ** arch.pageblockOrder,
    sectionSizeBits: arch.sectionSizeBits,
    pfnSectionShift: arch.sectionSizeBits - arch.pageShift,
    pagesPerSection: 2 ** (arch.sectionSizeBits - arch.pageShift),
    maxPhysmemBits: arch.maxPhysmemBits,
    sectionsShift,
    numa: arch.nodesShift > 0,
    zoneKinds: Object.freeze(kinds),
    zoneNames: Object.freeze(names),
    MAX_NR_ZONES: kinds.length,
    ZONES_SHIFT: zonesShift,
    ZONE_DMA: idx('DMA'),
    ZONE_DMA32: idx('DMA32'),
    ZONE_NORMAL: idx('Normal') ?? 0,
    ZONE_HIGHMEM: idx('HighMem'),
    ZONE_MOVABLE: idx('Movable') ?? 0,
    ZONE_DEVICE: idx('Device'),
    MAX_DMA_PFN: 2 ** (arch.zoneDmaBits - arch.pageShift),
    MAX_DMA32_PFN: 2 ** (arch.zoneDma32Bits - arch.pageShift),
    pageflags,
    layout,
    MIGRATE_CMA,
    MIGRATE_ISOLATE,
    MIGRATE_TYPES: migratetypeNames.length,
    migratetypeNames: Object.freeze(migratetypeNames),
    nrCpus: arch.nrCpus,
  });
  MADE.add(config);
  return config;
}

/**
 * `fls()`: the 1-based index of the highest set bit, 0 for 0.
 * @internal
 */
export function fls(x: number): number {
  return x <= 0 ? 0 : ilog2(Math.floor(x)) + 1;
}
