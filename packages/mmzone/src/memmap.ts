/**
 * The struct page store: the memmap, keyed by pfn.
 *
 * The kernel spends 64 bytes of memory per page frame on its `struct page`
 * (1/64 of RAM with 4 KiB pages) and reaches it by address arithmetic:
 * `pfn_to_page(pfn)` is `vmemmap + pfn`. A model that allocated a JavaScript
 * object per page would need gigabytes for a few hundred GiB of simulated
 * memory, and persistent memory devices are terabytes. So the model splits the
 * two costs apart:
 *
 * - the *simulated* cost is the kernel's: {@link STRUCT_PAGE_SIZE} bytes per
 *   registered page, which sparse-vmemmap accounts and places (in RAM or in a
 *   device's `vmem_altmap`);
 * - the *host* cost grows with how many pages differ from their initial
 *   state, not with how many exist.
 *
 * The memmap is stored per memory section (`PAGES_PER_SECTION` pages: 32768
 * on x86_64, 256 on powerpc64 with 64 KiB pages), in one of three forms:
 *
 * ```
 *   template   all pages equal one shared StructPage value     ~ a small object
 *   overlay    template + its diverged pages in the store's     44-60 B / diverged page
 *              overlay pool (one hash table for all sections)
 *   columns    typed-array columns for every page                12-24 B / page
 * ```
 *
 * A section starts as a template (sparse-vmemmap calls {@link
 * MemmapStore.initSection} when it populates the section's memmap) and a bulk
 * initialization (`memmap_init_range()`, `memmap_init_zone_device()`) that
 * covers a whole section only swaps its template, in O(1). Writing a single
 * page adds it to the overlay pool (page-arrays.ts), which is shared by all
 * sections, so that the first diverged page of a section costs no more than
 * any other; once a third of a section has diverged it is cheaper to store
 * every page, and the section switches to columns (then at most 72 host
 * bytes per diverged page were ever spent on it) and gives its pool slots
 * back, as does a section whose memmap is dropped or re-initialized whole.
 * A section's columns hold the low flags word, `_refcount` and `_mapcount`
 * (12 bytes a page); the high flags word and `private` get a column only
 * when some page's value differs from the template's (4 and 8 bytes more).
 * The rarely set pointer-like fields (`pgmap`, `mapping`, `index`,
 * `zone_device_data`) are sparse maps of the pages that differ from the
 * template, and one slot per page once the section is stored as columns
 * (anonymous memory sets `mapping` and `index` on every page it faults in).
 *
 * `__init_single_page()` called page by page in ascending order is combined
 * into runs that are written as one range when the store is next used
 * ({@link MemmapStore.initSinglePage}): the result is the same, at the cost
 * of a comparison per call.
 *
 * Sections that are all template, with one pageblock migratetype, are not
 * stored one by one: a run of adjacent such sections with the same template
 * and migratetype is one record ({@link SectionRun}), found by a binary
 * search over the sorted runs. Writing a page of a run takes its section
 * out of the run (the run splits around it); a bulk operation over whole
 * sections of a run changes the run's template in O(1), splitting it at the
 * range's ends; a section whose pages all equal its template again goes
 * back into a run, and adjacent runs that agree merge. So a petabyte of
 * uniform device memory is a handful of records.
 *
 * Pageblock migratetypes (`pageblock_flags`, kept by the kernel in each
 * section's usemap) are stored here too, per section (per run while uniform).
 *
 * Every accessor takes a pfn and mirrors an inline function of
 * include/linux/mm.h, page_ref.h or page-flags.h. Inline kernel functions
 * cannot be traced by ftrace, and neither are these.
 */
import { KernelBug, KernelError, checkUnsigned } from '@zonedev/kernel';
import type { MmConfig } from './config.js';
import { checkConfig } from './validate.js';
import { OverlayPool, SectionCols } from './page-arrays.js';
import type { PageArrays, SlotList } from './page-arrays.js';
import {
  PG_buddy,
  PG_offline,
  PG_reserved,
  clearPageTypeWord,
  flagsWordAny,
  flagsWordClear,
  flagsWordClearBelow,
  flagsWordSet,
  flagsWordTest,
  pageTypeIs,
  setPageTypeWord,
} from './page-flags.js';
import { ZERO_STRUCT_PAGE, checkInt32, checkStructPage, makeStructPage } from './struct-page.js';
import type { StructPage } from './struct-page.js';

const NONE: unique symbol = Symbol('NULL override');
const POW2: readonly number[] = Array.from({ length: 64 }, (_, i) => 2 ** i);

/** The first index of the sorted `keys` whose key is at least `x`. */
function lowerBound(keys: Float64Array, x: number): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (keys[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A transformation applied to every page of a range by
 * {@link MemmapStore.updateRange}. Absent fields are left alone; an opaque
 * field given as `undefined` is cleared.
 * @public
 */
export interface PageUpdate {
  /** Page flag bits (`PG_*`) to set. */
  readonly setFlags?: readonly number[];
  /** Page flag bits (`PG_*`) to clear. */
  readonly clearFlags?: readonly number[];
  /** New `_refcount`. */
  readonly refcount?: number;
  /** New `_mapcount`/`page_type`. */
  readonly mapcount?: number;
  /** New `private`. */
  readonly private?: number;
  /** New `pgmap`. */
  readonly pgmap?: unknown;
  /** New `mapping`. */
  readonly mapping?: unknown;
  /** New `index`. */
  readonly index?: number;
  /** New `zone_device_data`. */
  readonly zoneDeviceData?: unknown;
}

/**
 * How a section's memmap is stored (see the module comment).
 * @public
 */
export type SectionMemmapState = 'template' | 'overlay' | 'columns';

/**
 * Host-memory statistics of a store.
 * @public
 */
export interface MemmapStats {
  /** Sections with a memmap. */
  readonly sections: number;
  /** Struct pages registered (their simulated size is 64 bytes each). */
  readonly pages: number;
  /** Sections stored as a bare template. */
  readonly templateSections: number;
  /** Sections with an overlay of diverged pages. */
  readonly overlaySections: number;
  /** Sections stored as columns. */
  readonly columnSections: number;
  /** Pages held in overlays. */
  readonly overlayPages: number;
  /** Entries of the sparse pointer-field maps. */
  readonly extraEntries: number;
  /** Estimated host bytes spent on the memmap. */
  readonly hostBytes: number;
}

/**
 * Options of a {@link MemmapStore}.
 * @public
 */
export interface MemmapStoreOptions {
  /**
   * Diverged pages a section may keep in its overlay before it switches to
   * columns (default: a third of a section, the break-even point).
   */
  readonly overlayLimit?: number;
}

/**
 * The per-page overrides of one pointer-like field in one section: page
 * offset to value. A JavaScript Map while the section is a template or an
 * overlay (a few pages differ), one slot per page once it is stored as
 * columns ({@link DenseSlots}, {@link DenseNumbers}).
 */
interface PageSlots<V> {
  readonly size: number;
  get(i: number): V | undefined;
  set(i: number, v: V): unknown;
  delete(i: number): boolean;
  [Symbol.iterator](): Iterator<[number, V]>;
}

const ABSENT: unique symbol = Symbol('no override');

/** {@link PageSlots} of a section stored as columns: one array slot per page. */
class DenseSlots<V> implements PageSlots<V> {
  private readonly a: (V | typeof ABSENT)[];
  size = 0;
  get capacity(): number {
    return this.a.length;
  }

  constructor(n: number, from: PageSlots<V> | undefined) {
    this.a = new Array<V | typeof ABSENT>(n).fill(ABSENT);
    if (from !== undefined) for (const [i, v] of from) this.set(i, v);
  }

  get(i: number): V | undefined {
    const v = this.a[i];
    return v === ABSENT ? undefined : v;
  }

  set(i: number, v: V): this {
    if (this.a[i] === ABSENT) this.size++;
    this.a[i] = v;
    return this;
  }

  delete(i: number): boolean {
    if (this.a[i] === ABSENT) return false;
    this.a[i] = ABSENT;
    this.size--;
    return true;
  }

  *[Symbol.iterator](): Iterator<[number, V]> {
    const a = this.a;
    for (let i = 0; i < a.length; i++) {
      const v = a[i]!;
      if (v !== ABSENT) yield [i, v];
    }
  }
}

/** {@link PageSlots} of numbers (`index`) of a section stored as columns: a Float64Array, NaN where absent. */
class DenseNumbers implements PageSlots<number> {
  private readonly a: Float64Array;
  size = 0;
  get capacity(): number {
    return this.a.length;
  }

  constructor(n: number, from: PageSlots<number> | undefined) {
    this.a = new Float64Array(n).fill(NaN);
    if (from !== undefined) for (const [i, v] of from) this.set(i, v);
  }

  get(i: number): number | undefined {
    const v = this.a[i]!;
    return v === v ? v : undefined;
  }

  set(i: number, v: number): this {
    const old = this.a[i]!;
    if (old !== old) this.size++;
    this.a[i] = v;
    return this;
  }

  delete(i: number): boolean {
    const old = this.a[i]!;
    if (old !== old) return false;
    this.a[i] = NaN;
    this.size--;
    return true;
  }

  *[Symbol.iterator](): Iterator<[number, number]> {
    const a = this.a;
    for (let i = 0; i < a.length; i++) {
      const v = a[i]!;
      if (v === v) yield [i, v];
    }
  }
}

class Extras {
  pgmap: PageSlots<unknown> | undefined;
  mapping: PageSlots<unknown> | undefined;
  zdd: PageSlots<unknown> | undefined;
  index: PageSlots<number> | undefined;

  get size(): number {
    return (this.pgmap?.size ?? 0) + (this.mapping?.size ?? 0) + (this.zdd?.size ?? 0) + (this.index?.size ?? 0);
  }

  /** Estimated host bytes: 48 per Map entry, a slot per page of a dense field (8 B). */
  get bytes(): number {
    let b = 0;
    for (const m of [this.pgmap, this.mapping, this.zdd, this.index]) {
      if (m === undefined) continue;
      b += m instanceof DenseSlots || m instanceof DenseNumbers ? m.capacity * 8 : m.size * 48;
    }
    return b;
  }

  /** Switches every field to one slot per page (the section is now stored as columns). */
  densify(n: number): void {
    if (this.pgmap !== undefined) this.pgmap = new DenseSlots(n, this.pgmap);
    if (this.mapping !== undefined) this.mapping = new DenseSlots(n, this.mapping);
    if (this.zdd !== undefined) this.zdd = new DenseSlots(n, this.zdd);
    if (this.index !== undefined) this.index = new DenseNumbers(n, this.index);
  }
}

type ExtraKey = 'pgmap' | 'mapping' | 'zdd';

class Section implements SlotList {
  tpl: StructPage;
  cols: SectionCols | undefined = undefined;
  /** First of this section's slots in the overlay pool, or -1. */
  ovHead = -1;
  /** Diverged pages in the overlay pool (0 when stored as columns). */
  ovCount = 0;
  /**
   * Whether an overlay entry may have a high flags word (node, zone,
   * section links) other than the template's; while false, reading it
   * needs no probe of the pool. Cleared when the overlay is released.
   */
  hiMixed = false;
  ext: Extras | undefined = undefined;
  /** Uniform pageblock migratetype of the section, when `pb` is undefined. */
  pbAll: number;
  pb: Uint8Array | undefined = undefined;
  readonly base: number;
  constructor(base: number, tpl: StructPage, mt: number) {
    this.base = base;
    this.tpl = tpl;
    this.pbAll = mt;
  }
}

/**
 * Sections `[first, end)`, each with a memmap whose pages all equal `tpl`
 * and whose pageblocks all have migratetype `pbAll`: one record for all.
 */
class SectionRun {
  first: number;
  end: number;
  tpl: StructPage;
  pbAll: number;
  constructor(first: number, end: number, tpl: StructPage, pbAll: number) {
    this.first = first;
    this.end = end;
    this.tpl = tpl;
    this.pbAll = pbAll;
  }
}

interface Compiled {
  readonly set: readonly number[];
  readonly clear: readonly number[];
  readonly u: PageUpdate;
}

function applyFlags(lo: number, c: Compiled): number {
  let v = lo;
  for (const b of c.set) if (Math.floor(v / POW2[b]!) % 2 === 0) v += POW2[b]!;
  for (const b of c.clear) if (Math.floor(v / POW2[b]!) % 2 === 1) v -= POW2[b]!;
  return v;
}

function applyUpdate(t: StructPage, c: Compiled): StructPage {
  const u = c.u;
  return makeStructPage(
    {
      flagsLo: applyFlags(t.flagsLo, c),
      ...(u.refcount !== undefined ? { refcount: u.refcount } : {}),
      ...(u.mapcount !== undefined ? { mapcount: u.mapcount } : {}),
      ...(u.private !== undefined ? { private: u.private } : {}),
      ...('pgmap' in u ? { pgmap: u.pgmap } : {}),
      ...('mapping' in u ? { mapping: u.mapping } : {}),
      ...(u.index !== undefined ? { index: u.index } : {}),
      ...('zoneDeviceData' in u ? { zoneDeviceData: u.zoneDeviceData } : {}),
    },
    t,
  );
}

function sameExtras(a: StructPage, b: StructPage): boolean {
  return a.pgmap === b.pgmap && a.mapping === b.mapping && a.zoneDeviceData === b.zoneDeviceData && a.index === b.index;
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** The largest `_refcount` a page can hold (an `atomic_t`). */
const REF_MAX = 0x7fffffff;

/** EINVAL unless `v` is a C `int` (a count or delta of `page_ref.h`, which may be negative). */
function checkInt(fn: string, what: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -0x80000000 || v > REF_MAX) {
    throw new KernelError('EINVAL', `${fn}: invalid ${what} ${String(v)}`);
  }
}

/**
 * The memmap of one machine: every struct page, keyed by pfn, stored per
 * memory section (see the module comment for the storage forms).
 * @public
 */
export class MemmapStore {
  /** The configuration (page and section sizes, flags layout). */
  readonly config: MmConfig;
  /** `PAGES_PER_SECTION`. */
  readonly pagesPerSection: number;
  /** Diverged pages a section's overlay may hold before switching to columns. */
  readonly overlayLimit: number;
  private readonly sections = new Map<number, Section>();
  private readonly invPps: number;
  private cacheBase = 1;
  private cacheEnd = 0;
  private cacheSec: Section | undefined = undefined;
  /** Whether `cacheSec` is a read-only view of a run (writes must take the section out of it first). */
  private cacheView = false;
  /** The uniform runs of sections, sorted and disjoint; a section is in a run or in `sections`, never both. */
  private readonly runs: SectionRun[] = [];
  /** Sections held in runs. */
  private runSections = 0;
  private w: PageArrays | undefined = undefined;
  /** The diverged pages of every overlay section. */
  private readonly pool = new OverlayPool();
  /**
   * The page offsets of one section's overlay entries, ascending, as of when
   * its overlay held `keysCount` entries (and the pool had been compacted
   * `keysEpoch` times); `keysSec` is undefined when there is none or its
   * overlay was released since. Entries are only ever added to an overlay
   * until it is released whole, and at its list's head, so the ones added
   * since are the first `ovCount - keysCount` of the list. One section's
   * worth: searches go a pageblock at a time through one section.
   */
  private keysSec: Section | undefined = undefined;
  private keys: Float64Array = new Float64Array(0);
  private keysCount = 0;
  private keysEpoch = 0;
  /** The section (slot list) of a pfn held in the pool. */
  private readonly owners = (pfn: number): Section => this.sections.get(Math.floor(pfn * this.invPps))!;
  private registered = 0;
  private readonly sectionToNode = new Map<number, number>();
  private readonly initTemplates = new Map<string, StructPage>();
  private lastInitZone = -1;
  private lastInitNid = -1;
  private lastInitTpl: StructPage | undefined = undefined;
  /** With a section number in the flags, the one section `lastInitTpl` is valid for. */
  private lastInitLo = 0;
  private lastInitHi = 0;
  /**
   * `initSinglePage()`'s pending run: pages `[runStart, runEnd)` of one
   * section (which ends at `runLimit`) have been initialized for
   * (`runZone`, `runNid`) with `runTpl`, and are written as one range
   * ({@link MemmapStore.initRange}) before anything else reads or changes
   * the store ({@link MemmapStore.flushRun}). `runEnd` is -1 when there is
   * none.
   */
  private runStart = -1;
  private runEnd = -1;
  private runLimit = -1;
  private runZone = -1;
  private runNid = -1;
  private runTpl: StructPage = ZERO_STRUCT_PAGE;
  // page->flags field extraction, precomputed from the layout.
  private readonly zoneDiv: number;
  private readonly zoneMod: number;
  private readonly zoneInHi: boolean;
  private readonly nodeDiv: number;
  private readonly nodeMod: number;
  private readonly nodeInHi: boolean;
  private readonly pbPerSection: number;
  private readonly zoneIdInHi: boolean;
  private readonly noSectionField: boolean;
  private readonly nodeNotInFlags: boolean;
  private readonly zoneIdDiv: number;
  private readonly zoneIdMod: number;

  constructor(config: MmConfig, options: MemmapStoreOptions = {}) {
    checkConfig('memmap', config);
    if (typeof options !== 'object' || options === null) throw new KernelError('EINVAL', 'memmap: options is not an object');
    if (options.overlayLimit !== undefined) checkUnsigned('memmap', 'overlayLimit', options.overlayLimit);
    this.config = config;
    this.pagesPerSection = config.pagesPerSection;
    this.invPps = 1 / config.pagesPerSection;
    this.overlayLimit = options.overlayLimit ?? Math.max(8, Math.ceil(config.pagesPerSection / 3));
    const l = config.layout;
    this.zoneInHi = l.ZONES_PGSHIFT >= 32 || l.ZONES_WIDTH === 0;
    this.zoneDiv = POW2[Math.max(0, l.ZONES_PGSHIFT - 32)]!;
    this.zoneMod = POW2[l.ZONES_WIDTH]!;
    this.nodeInHi = l.NODES_PGSHIFT >= 32 || l.NODES_WIDTH === 0;
    this.nodeDiv = POW2[Math.max(0, l.NODES_PGSHIFT - 32)]!;
    this.nodeMod = POW2[l.NODES_WIDTH]!;
    this.pbPerSection = config.pagesPerSection / config.pageblockNrPages;
    this.zoneIdInHi = l.ZONEID_PGSHIFT >= 32 || l.ZONEID_SHIFT === 0;
    this.noSectionField = l.SECTIONS_WIDTH === 0;
    this.nodeNotInFlags = l.NODE_NOT_IN_PAGE_FLAGS;
    this.zoneIdDiv = POW2[Math.max(0, l.ZONEID_PGSHIFT - 32)]!;
    this.zoneIdMod = POW2[l.ZONEID_SHIFT]!;
  }

  // ---------------------------------------------------------------- sections

  /** `pfn_to_section_nr()`. */
  pfnToSectionNr(pfn: number): number {
    checkUnsigned('pfn_to_section_nr', 'pfn', pfn);
    return Math.floor(pfn * this.invPps);
  }

  /** `section_nr_to_pfn()`. */
  sectionNrToPfn(sectionNr: number): number {
    checkUnsigned('section_nr_to_pfn', 'section_nr', sectionNr);
    return (sectionNr * this.pagesPerSection);
  }

  /**
   * Gives section `sectionNr` a memmap whose pages all equal `template`
   * (default: zeroed struct pages, as a freshly allocated vmemmap is) and
   * whose pageblocks all have `migratetype` (default 0, MIGRATE_UNMOVABLE: a
   * zeroed usemap). Called by sparse-vmemmap when it populates a section.
   * -EEXIST if the section already has one.
   */
  initSection(sectionNr: number, template: StructPage = ZERO_STRUCT_PAGE, migratetype: number = 0): void {
    checkStructPage('init_section', template);
    checkUnsigned('init_section', 'migratetype', migratetype, this.config.MIGRATE_TYPES - 1);
    if (!Number.isSafeInteger(sectionNr) || sectionNr < 0) {
      throw new KernelError('EINVAL', `invalid section number ${sectionNr}`);
    }
    if (this.runEnd >= 0) this.flushRun();
    if (this.hasSection(sectionNr)) throw new KernelError('EEXIST', `section ${sectionNr} already has a memmap`);
    this.insertRun(new SectionRun(sectionNr, sectionNr + 1, template, migratetype));
    this.registered += this.pagesPerSection;
  }

  /**
   * {@link MemmapStore.initSection} with the defaults for each of the
   * `count` sections from `firstSectionNr`, as one record: O(log runs).
   * -EEXIST, changing nothing, if any of them already has a memmap.
   */
  initSections(firstSectionNr: number, count: number): void {
    if (!Number.isSafeInteger(firstSectionNr) || firstSectionNr < 0 || !Number.isSafeInteger(count) || count < 0) {
      throw new KernelError('EINVAL', `invalid section range ${firstSectionNr} + ${count}`);
    }
    if (this.runEnd >= 0) this.flushRun();
    if (count === 0) return;
    const end = firstSectionNr + count;
    const taken = this.firstTaken(firstSectionNr, end);
    if (taken >= 0) throw new KernelError('EEXIST', `section ${taken} already has a memmap`);
    this.insertRun(new SectionRun(firstSectionNr, end, ZERO_STRUCT_PAGE, 0));
    this.registered += count * this.pagesPerSection;
  }

  /**
   * {@link MemmapStore.dropSection} for each of the `count` sections from
   * `firstSectionNr`: O(records in the range). -EINVAL, changing nothing,
   * if any of them has no memmap.
   */
  dropSections(firstSectionNr: number, count: number): void {
    if (!Number.isSafeInteger(firstSectionNr) || firstSectionNr < 0 || !Number.isSafeInteger(count) || count < 0) {
      throw new KernelError('EINVAL', `invalid section range ${firstSectionNr} + ${count}`);
    }
    if (this.runEnd >= 0) this.flushRun();
    const end = firstSectionNr + count;
    for (let nr = firstSectionNr; nr < end; ) {
      if (this.sections.has(nr)) {
        nr++;
        continue;
      }
      const r = this.runAt(nr);
      if (r === undefined) throw new KernelError('EINVAL', `section ${nr} has no memmap`);
      nr = r.end;
    }
    for (let nr = firstSectionNr; nr < end; ) {
      const s = this.sections.get(nr);
      if (s !== undefined) {
        this.dropSection(nr);
        nr++;
        continue;
      }
      const i = this.runIndex(nr);
      const r = this.runs[i]!;
      const b = Math.min(r.end, end);
      this.cutRun(i, nr, b);
      this.registered -= (b - nr) * this.pagesPerSection;
      this.forgetNodes(nr, b);
      nr = b;
    }
  }

  /** `sectionToNode` loses sections `[a, b)`. */
  private forgetNodes(a: number, b: number): void {
    const m = this.sectionToNode;
    if (m.size === 0) return;
    if (m.size < b - a) {
      for (const nr of [...m.keys()]) if (nr >= a && nr < b) m.delete(nr);
    } else for (let nr = a; nr < b; nr++) m.delete(nr);
  }

  /** The lowest section of `[a, b)` that has a memmap, or -1. */
  private firstTaken(a: number, b: number): number {
    let best = -1;
    const i = this.runSearch(a);
    // the run containing a, or the first one after it
    for (const j of [i, i + 1]) {
      const r = this.runs[j];
      if (r !== undefined && r.end > a && r.first < b) {
        best = Math.max(a, r.first);
        break;
      }
    }
    const m = this.sections;
    if (m.size === 0) return best;
    const lim = best >= 0 ? best : b;
    if (m.size < lim - a) {
      for (const nr of m.keys()) if (nr >= a && nr < lim && (best < 0 || nr < best)) best = nr;
    } else {
      for (let nr = a; nr < lim; nr++) {
        if (m.has(nr)) return nr;
      }
    }
    return best;
  }

  // ------------------------------------------------------------------ runs

  /** Index of the last run whose first section is <= `nr`, or -1. */
  private runSearch(nr: number): number {
    const runs = this.runs;
    let lo = 0;
    let hi = runs.length - 1;
    let ans = -1;
    while (lo <= hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (runs[mid]!.first <= nr) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans;
  }

  /** Index of the run holding section `nr`, or -1. */
  private runIndex(nr: number): number {
    const i = this.runSearch(nr);
    return i >= 0 && nr < this.runs[i]!.end ? i : -1;
  }

  private runAt(nr: number): SectionRun | undefined {
    const i = this.runIndex(nr);
    return i >= 0 ? this.runs[i] : undefined;
  }

  /** A run's record changed: a cached read-only view of a run is stale. */
  private runsChanged(): void {
    if (this.cacheView) this.setCache(undefined);
  }

  /** Adds a run (its sections in no record yet), merging it with neighbours that agree. */
  private insertRun(r: SectionRun): void {
    const i = this.runSearch(r.first) + 1;
    this.runs.splice(i, 0, r);
    this.runSections += r.end - r.first;
    this.mergeAround(i);
  }

  /** Merges run `i` with its neighbours when they are adjacent and agree; returns its new index. */
  private mergeAround(i: number): number {
    const runs = this.runs;
    const r = runs[i]!;
    const next = runs[i + 1];
    if (next !== undefined && next.first === r.end && next.tpl === r.tpl && next.pbAll === r.pbAll) {
      r.end = next.end;
      runs.splice(i + 1, 1);
    }
    const prev = runs[i - 1];
    if (prev !== undefined && prev.end === r.first && prev.tpl === r.tpl && prev.pbAll === r.pbAll) {
      prev.end = r.end;
      runs.splice(i, 1);
      i--;
    }
    this.runsChanged();
    return i;
  }

  /** Removes sections `[a, b)` (within it) from run `i`. */
  private cutRun(i: number, a: number, b: number): void {
    const runs = this.runs;
    const r = runs[i]!;
    this.runSections -= b - a;
    if (a === r.first && b === r.end) runs.splice(i, 1);
    else if (a === r.first) r.first = b;
    else if (b === r.end) r.end = a;
    else {
      runs.splice(i + 1, 0, new SectionRun(b, r.end, r.tpl, r.pbAll));
      r.end = a;
    }
    this.runsChanged();
  }

  /** Makes sections `[a, b)` of run `i` a run of their own; returns its index. */
  private isolate(i: number, a: number, b: number): number {
    const runs = this.runs;
    let r = runs[i]!;
    if (a > r.first) {
      runs.splice(i + 1, 0, new SectionRun(a, r.end, r.tpl, r.pbAll));
      r.end = a;
      i++;
      r = runs[i]!;
    }
    if (b < r.end) {
      runs.splice(i + 1, 0, new SectionRun(b, r.end, r.tpl, r.pbAll));
      r.end = b;
    }
    this.runsChanged();
    return i;
  }

  /** Takes section `nr` out of run `i` as a section record of its own (about to diverge). */
  private unrun(i: number, nr: number): Section {
    const r = this.runs[i]!;
    const s = new Section(nr * this.pagesPerSection, r.tpl, r.pbAll);
    this.cutRun(i, nr, nr + 1);
    this.sections.set(nr, s);
    return s;
  }

  /** Puts a section whose pages all equal its template back into a run. */
  private foldBack(nr: number, s: Section): void {
    if (s.cols !== undefined || s.ovCount > 0 || s.ext !== undefined || s.pb !== undefined) return;
    if (this.sections.get(nr) !== s) return;
    this.sections.delete(nr);
    if (this.cacheSec === s) this.setCache(undefined);
    this.insertRun(new SectionRun(nr, nr + 1, s.tpl, s.pbAll));
  }

  /**
   * Frees section `sectionNr`'s memmap (its struct pages cease to exist).
   * Called by sparse-vmemmap when a section is removed. -EINVAL if it has none.
   */
  dropSection(sectionNr: number): void {
    if (this.runEnd >= 0) this.flushRun();
    const s = this.sections.get(sectionNr);
    if (s === undefined) {
      const i = Number.isSafeInteger(sectionNr) ? this.runIndex(sectionNr) : -1;
      if (i < 0) throw new KernelError('EINVAL', `section ${sectionNr} has no memmap`);
      this.cutRun(i, sectionNr, sectionNr + 1);
      this.sectionToNode.delete(sectionNr);
      this.registered -= this.pagesPerSection;
      return;
    }
    this.pool.release(s, this.owners);
    s.hiMixed = false;
    if (this.keysSec === s) this.keysSec = undefined;
    this.sections.delete(sectionNr);
    this.sectionToNode.delete(sectionNr);
    this.registered -= this.pagesPerSection;
    if (this.cacheSec !== undefined && this.cacheBase === sectionNr * this.pagesPerSection) this.setCache(undefined);
  }

  /** Whether section `sectionNr` has a memmap. */
  hasSection(sectionNr: number): boolean {
    checkUnsigned('valid_section_nr', 'section_nr', sectionNr);
    return this.sections.has(sectionNr) || this.runIndex(sectionNr) >= 0;
  }

  /** Whether `pfn` has a struct page (its section has a memmap). */
  hasMemmap(pfn: number): boolean {
    checkUnsigned('pfn_valid', 'pfn', pfn);
    if (pfn >= this.cacheBase && pfn < this.cacheEnd) return true;
    return this.hasSection(Math.floor(pfn * this.invPps));
  }

  /** The numbers of the sections with a memmap, ascending. */
  sectionNumbers(): number[] {
    const out = [...this.sections.keys()];
    for (const r of this.runs) for (let nr = r.first; nr < r.end; nr++) out.push(nr);
    return out.sort((a, b) => a - b);
  }

  /** How a section's memmap is stored, or undefined if it has none. */
  sectionState(sectionNr: number): SectionMemmapState | undefined {
    checkUnsigned('section_state', 'section_nr', sectionNr);
    if (this.runEnd >= 0) this.flushRun();
    const s = this.sections.get(sectionNr);
    if (s === undefined) return this.runAt(sectionNr) !== undefined ? 'template' : undefined;
    return s.cols !== undefined ? 'columns' : s.ovCount > 0 ? 'overlay' : 'template';
  }

  /** The template of a section (what its non-diverged pages look like). */
  sectionTemplate(sectionNr: number): StructPage | undefined {
    checkUnsigned('section_template', 'section_nr', sectionNr);
    if (this.runEnd >= 0) this.flushRun();
    return this.sections.get(sectionNr)?.tpl ?? this.runAt(sectionNr)?.tpl;
  }

  /** Struct pages registered in all. */
  get nrPages(): number {
    return this.registered;
  }

  /** Sections with a memmap. */
  get nrSections(): number {
    return this.sections.size + this.runSections;
  }

  /** Host-memory statistics (an estimate of the bytes the store holds). */
  stats(): MemmapStats {
    if (this.runEnd >= 0) this.flushRun();
    let templateSections = 0;
    let overlaySections = 0;
    let columnSections = 0;
    let overlayPages = 0;
    let extraEntries = 0;
    let bytes = 0;
    for (const s of this.sections.values()) {
      bytes += 160;
      if (s.cols !== undefined) {
        columnSections++;
        bytes += s.cols.bytes;
      } else if (s.ovCount > 0) {
        overlaySections++;
        overlayPages += s.ovCount;
      } else templateSections++;
      if (s.ext !== undefined) {
        extraEntries += s.ext.size;
        bytes += s.ext.bytes;
      }
      if (s.pb !== undefined) bytes += s.pb.length;
    }
    bytes += this.pool.bytes + this.runs.length * 64;
    templateSections += this.runSections;
    return {
      sections: this.sections.size + this.runSections,
      pages: this.registered,
      templateSections,
      overlaySections,
      columnSections,
      overlayPages,
      extraEntries,
      hostBytes: bytes,
    };
  }

  /** The section record of `pfn`, to write (a section in a run is taken out of it). */
  private sec(pfn: number): Section {
    if (typeof pfn !== 'number' || !Number.isSafeInteger(pfn) || pfn < 0) throw new KernelError('EINVAL', `invalid pfn ${String(pfn)}`);
    if (this.runEnd >= 0) this.flushRun();
    if (pfn >= this.cacheBase && pfn < this.cacheEnd && !this.cacheView) return this.cacheSec!;
    const nr = Math.floor(pfn * this.invPps);
    let s = this.sections.get(nr);
    if (s === undefined) {
      const i = this.runIndex(nr);
      if (i < 0) throw new KernelBug(`BUG: unable to handle page fault: no struct page for pfn ${hex(pfn)} (section ${nr} has no memmap)`);
      s = this.unrun(i, nr);
    }
    this.setCache(s);
    return s;
  }

  /**
   * The section record of `pfn`, to read: for a section in a run, a
   * read-only view of the whole run (template pages, no overlay), valid
   * until the runs change.
   */
  private secR(pfn: number): Section {
    if (typeof pfn !== 'number' || !Number.isSafeInteger(pfn) || pfn < 0) throw new KernelError('EINVAL', `invalid pfn ${String(pfn)}`);
    if (this.runEnd >= 0) this.flushRun();
    if (pfn >= this.cacheBase && pfn < this.cacheEnd) return this.cacheSec!;
    const s = this.secOrUndefined(pfn);
    if (s === undefined) return this.sec(pfn);
    return s;
  }

  private setCache(s: Section | undefined, run?: SectionRun): void {
    this.cacheSec = s;
    this.cacheView = run !== undefined;
    if (s === undefined) {
      this.cacheBase = 1;
      this.cacheEnd = 0;
    } else if (run !== undefined) {
      this.cacheBase = run.first * this.pagesPerSection;
      this.cacheEnd = run.end * this.pagesPerSection;
    } else {
      this.cacheBase = s.base;
      this.cacheEnd = s.base + this.pagesPerSection;
    }
  }

  /** The section of `pfn` to read (a run's view, see {@link MemmapStore.secR}), or undefined if it has no memmap (no throw). */
  private secOrUndefined(pfn: number): Section | undefined {
    if (typeof pfn !== 'number' || !Number.isSafeInteger(pfn) || pfn < 0) throw new KernelError('EINVAL', `invalid pfn ${String(pfn)}`);
    if (this.runEnd >= 0) this.flushRun();
    if (pfn >= this.cacheBase && pfn < this.cacheEnd) return this.cacheSec;
    const nr = Math.floor(pfn * this.invPps);
    const s = this.sections.get(nr);
    if (s !== undefined) {
      this.setCache(s);
      return s;
    }
    if (!Number.isSafeInteger(nr)) return undefined;
    const r = this.runAt(nr);
    if (r === undefined) return undefined;
    const v = new Section(r.first * this.pagesPerSection, r.tpl, r.pbAll);
    this.setCache(v, r);
    return v;
  }

  /**
   * Position of page `i` of section `s` in its columns or in an overlay
   * pool chunk, with `this.w` set to those arrays; or -1 (the template).
   */
  private rpos(s: Section, i: number): number {
    const cols = s.cols;
    if (cols !== undefined) {
      this.w = cols;
      return i;
    }
    if (s.ovCount === 0) return -1;
    const pool = this.pool;
    if (pool.find(s.base + i) < 0) return -1;
    this.w = pool.hitCols;
    return pool.hitPos;
  }

  /** A writable position for page `i`; `this.w` is set to its arrays. */
  private wpos(s: Section, i: number): number {
    const cols = s.cols;
    if (cols !== undefined) {
      this.w = cols;
      return i;
    }
    const pool = this.pool;
    const pfn = s.base + i;
    // (a write usually follows a failed read of the same page: no second probe)
    let slot = s.ovCount === 0 || pool.missPfn === pfn ? -1 : pool.find(pfn);
    if (slot < 0) {
      if (s.ovCount + 1 > this.overlayLimit) {
        this.w = this.promote(s);
        return i;
      }
      slot = pool.insert(pfn, s.tpl, s);
    }
    this.w = pool.hitCols;
    return pool.hitPos;
  }

  /** Switches a section to columns: its overlay entries move there, their slots are released. */
  private promote(s: Section): SectionCols {
    const cols = new SectionCols(this.pagesPerSection, s.tpl);
    const pool = this.pool;
    for (let slot = s.ovHead; slot >= 0; slot = pool.nextOf(slot)) {
      cols.copyFrom(pool.keyOf(slot) - s.base, pool.chunkOf(slot), pool.posOf(slot), s.tpl);
    }
    pool.release(s, this.owners);
    s.hiMixed = false;
    if (this.keysSec === s) this.keysSec = undefined;
    s.cols = cols;
    s.ext?.densify(this.pagesPerSection);
    return cols;
  }

  /** Drops a section's overlay entries (its pages all equal the template again, or are about to). */
  private dropOverlay(s: Section): void {
    if (s.ovCount > 0) this.pool.release(s, this.owners);
    s.hiMixed = false;
    if (this.keysSec === s) this.keysSec = undefined;
  }

  /**
   * Switches the sections of a range to columns now, ahead of writing every
   * page of it one by one (a hint: the result is the same without it).
   */
  materialize(startPfn: number, nrPages: number): void {
    this.checkRange(startPfn, nrPages);
    for (let nr = this.pfnToSectionNr(startPfn); nr <= this.pfnToSectionNr(startPfn + nrPages - 1); nr++) {
      let s = this.sections.get(nr);
      if (s === undefined) {
        const i = this.runIndex(nr);
        if (i >= 0) s = this.unrun(i, nr);
      }
      if (s !== undefined && s.cols === undefined) this.promote(s);
    }
  }

  // ------------------------------------------------------------ whole pages

  /** One struct page as a value (a snapshot; for inspection and tests). */
  readStructPage(pfn: number): StructPage {
    const s = this.secR(pfn);
    const i = pfn - s.base;
    const t = s.tpl;
    const p = this.rpos(s, i);
    const w = this.w!;
    return {
      flagsLo: p < 0 ? t.flagsLo : w.lo[p]!,
      flagsHi: p < 0 ? t.flagsHi : this.hiAt(s, p),
      refcount: p < 0 ? t.refcount : w.ref[p]!,
      mapcount: p < 0 ? t.mapcount : w.mc[p]!,
      private: p < 0 ? t.private : this.privAt(s, p),
      pgmap: this.extra(s, i, 'pgmap', t.pgmap),
      mapping: this.extra(s, i, 'mapping', t.mapping),
      index: this.indexOf(s, i),
      zoneDeviceData: this.extra(s, i, 'zdd', t.zoneDeviceData),
    };
  }

  /** Overwrites one struct page with a value. */
  writeStructPage(pfn: number, v: StructPage): void {
    checkStructPage('write_struct_page', v);
    const s = this.sec(pfn);
    const i = pfn - s.base;
    this.writeCore(s, i, v);
    this.writeExtras(s, i, v);
  }

  private writeCore(s: Section, i: number, v: StructPage): void {
    const p0 = this.rpos(s, i);
    if (p0 < 0) {
      const t = s.tpl;
      if (
        t.flagsLo === v.flagsLo &&
        t.flagsHi === v.flagsHi &&
        t.refcount === v.refcount &&
        t.mapcount === v.mapcount &&
        t.private === v.private
      ) {
        return;
      }
    }
    const p = p0 < 0 ? this.wpos(s, i) : p0;
    const w = this.w!;
    w.lo[p] = v.flagsLo;
    w.ref[p] = v.refcount;
    w.mc[p] = v.mapcount;
    this.putHi(s, p, v.flagsHi);
    this.putPriv(s, p, v.private);
  }

  /** The high flags word at position `p` of `this.w` (set by rpos/wpos) for section `s`. */
  private hiAt(s: Section, p: number): number {
    const h = this.w!.hi;
    return h === undefined ? s.tpl.flagsHi : h[p]!;
  }

  /** `private` at position `p` of `this.w` for section `s`. */
  private privAt(s: Section, p: number): number {
    const v = this.w!.priv;
    return v === undefined ? s.tpl.private : v[p]!;
  }

  /** Stores the high flags word at position `p` of `this.w` (set by wpos), creating a section's column if needed. */
  private putHi(s: Section, p: number, v: number): void {
    const h = this.w!.hi;
    if (h !== undefined) {
      h[p] = v;
      if (s.cols === undefined && v !== s.tpl.flagsHi) s.hiMixed = true;
    } else if (v !== s.tpl.flagsHi) s.cols!.hiCol(s.tpl)[p] = v;
  }

  /** Stores `private` at position `p` of `this.w` (set by wpos), creating a section's column if needed. */
  private putPriv(s: Section, p: number, v: number): void {
    const pr = this.w!.priv;
    if (pr !== undefined) pr[p] = v;
    else if (v !== s.tpl.private) s.cols!.privCol(s.tpl)[p] = v;
  }

  private writeExtras(s: Section, i: number, v: StructPage): void {
    const t = s.tpl;
    if (s.ext === undefined && v.pgmap === t.pgmap && v.mapping === t.mapping && v.zoneDeviceData === t.zoneDeviceData && v.index === t.index) {
      return;
    }
    this.setExtra(s, i, 'pgmap', v.pgmap, t.pgmap);
    this.setExtra(s, i, 'mapping', v.mapping, t.mapping);
    this.setExtra(s, i, 'zdd', v.zoneDeviceData, t.zoneDeviceData);
    this.setIndex(s, i, v.index);
  }

  private extra(s: Section, i: number, k: ExtraKey, dflt: unknown): unknown {
    const m = s.ext?.[k];
    if (m === undefined) return dflt;
    const v = m.get(i);
    if (v === undefined) return dflt;
    return v === NONE ? undefined : v;
  }

  private setExtra(s: Section, i: number, k: ExtraKey, v: unknown, dflt: unknown): void {
    if (v === dflt) {
      s.ext?.[k]?.delete(i);
      return;
    }
    const ext = (s.ext ??= new Extras());
    const m = (ext[k] ??= s.cols !== undefined ? new DenseSlots<unknown>(this.pagesPerSection, undefined) : new Map<number, unknown>());
    m.set(i, v === undefined ? NONE : v);
  }

  private indexOf(s: Section, i: number): number {
    const v = s.ext?.index?.get(i);
    return v === undefined ? s.tpl.index : v;
  }

  private setIndex(s: Section, i: number, v: number): void {
    if (v === s.tpl.index) {
      s.ext?.index?.delete(i);
      return;
    }
    const ext = (s.ext ??= new Extras());
    (ext.index ??= s.cols !== undefined ? new DenseNumbers(this.pagesPerSection, undefined) : new Map<number, number>()).set(i, v);
  }

  // -------------------------------------------------------------- bulk paths

  /**
   * Sets every page of `[startPfn, startPfn + nrPages)` to `template`. A
   * section covered whole just takes the template (O(1)); a partial one is
   * written in place. Every pfn must have a memmap (checked first: on error
   * nothing changes). The bulk half of `memmap_init_range()` and
   * `memmap_init_zone_device()`.
   */
  initRange(startPfn: number, nrPages: number, template: StructPage): void {
    checkStructPage('init_range', template);
    this.checkRange(startPfn, nrPages);
    this.forSections(
      startPfn,
      nrPages,
      (s, a, b) => {
        if (a === 0 && b === this.pagesPerSection) {
          s.tpl = template;
          s.cols = undefined;
          this.dropOverlay(s);
          s.ext = undefined;
          return;
        }
        this.assignPartial(s, a, b, template);
      },
      (r) => {
        r.tpl = template;
      },
    );
  }

  /**
   * Whether [a, b) is most of the section, so that it is cheaper to make its
   * value the template and keep the pages outside in the overlay.
   */
  private canFlip(s: Section, a: number, b: number): boolean {
    if (s.cols !== undefined || s.ext !== undefined) return false;
    const inside = b - a;
    const outside = this.pagesPerSection - inside;
    return inside > outside && s.ovCount + outside <= this.overlayLimit;
  }

  /** Makes `t` the template; pages outside [a, b) keep their values as overlay entries. */
  private flip(s: Section, a: number, b: number, t: StructPage): void {
    const old = s.tpl;
    const pool = this.pool;
    const pps = this.pagesPerSection;
    for (let i = 0; i < pps; i++) {
      if (i === a) i = b;
      if (i >= pps) break;
      if (pool.find(s.base + i) < 0) pool.insert(s.base + i, old, s);
    }
    s.tpl = t;
    if (old.flagsHi !== t.flagsHi) s.hiMixed = true;
    if (old.pgmap !== t.pgmap || old.mapping !== t.mapping || old.zoneDeviceData !== t.zoneDeviceData || old.index !== t.index) {
      for (let i = 0; i < pps; i++) {
        if (i === a) i = b;
        if (i >= pps) break;
        this.setExtra(s, i, 'pgmap', old.pgmap, t.pgmap);
        this.setExtra(s, i, 'mapping', old.mapping, t.mapping);
        this.setExtra(s, i, 'zdd', old.zoneDeviceData, t.zoneDeviceData);
        this.setIndex(s, i, old.index);
      }
    }
  }

  private assignPartial(s: Section, a: number, b: number, v: StructPage): void {
    const n = b - a;
    if (this.canFlip(s, a, b)) {
      this.flip(s, a, b, v);
      const pool = this.pool;
      for (let slot = s.ovHead; slot >= 0; slot = pool.nextOf(slot)) {
        const k = pool.keyOf(slot) - s.base;
        if (k < a || k >= b) continue;
        const w = pool.chunkOf(slot);
        const p = pool.posOf(slot);
        w.lo[p] = v.flagsLo;
        w.hi[p] = v.flagsHi;
        w.ref[p] = v.refcount;
        w.mc[p] = v.mapcount;
        w.priv[p] = v.private;
      }
      return;
    }
    if (s.cols === undefined && s.ovCount + n > this.overlayLimit) this.promote(s);
    if (s.cols !== undefined) s.cols.fill(a, b, v, s.tpl);
    else for (let i = a; i < b; i++) this.writeCore(s, i, v);
    if (s.ext !== undefined || !sameExtras(v, s.tpl)) for (let i = a; i < b; i++) this.writeExtras(s, i, v);
  }

  /**
   * Applies `update` to every page of a range: the bulk form of a loop of
   * `__ClearPageReserved(); set_page_count(p, 0);` and similar. Sections
   * covered whole get a transformed template (shared by sections that shared
   * the old one); diverged pages are transformed in place. Every pfn must
   * have a memmap (checked first).
   */
  updateRange(startPfn: number, nrPages: number, update: PageUpdate): void {
    this.checkUpdate(update);
    this.checkRange(startPfn, nrPages);
    const c: Compiled = { set: update.setFlags ?? [], clear: update.clearFlags ?? [], u: update };
    const derived = new Map<StructPage, StructPage>();
    this.forSections(startPfn, nrPages, (s, a, b) => {
      if (a === 0 && b === this.pagesPerSection) {
        let nt = derived.get(s.tpl);
        if (nt === undefined) {
          nt = applyUpdate(s.tpl, c);
          derived.set(s.tpl, nt);
        }
        const old = s.tpl;
        s.tpl = nt;
        if (s.cols !== undefined) this.updateArrays(s, 0, this.pagesPerSection, c);
        else this.updateOverlay(s, 0, this.pagesPerSection, c);
        if (s.ext !== undefined) {
          if ('pgmap' in update) s.ext.pgmap = undefined;
          if ('mapping' in update) s.ext.mapping = undefined;
          if ('zoneDeviceData' in update) s.ext.zdd = undefined;
          if (update.index !== undefined) s.ext.index = undefined;
          this.rebaseExtras(s, old);
        }
        return;
      }
      const tt = applyUpdate(s.tpl, c);
      const coreChanges =
        tt.flagsLo !== s.tpl.flagsLo ||
        tt.refcount !== s.tpl.refcount ||
        tt.mapcount !== s.tpl.mapcount ||
        tt.private !== s.tpl.private;
      if ((coreChanges || !sameExtras(tt, s.tpl)) && this.canFlip(s, a, b)) {
        this.flip(s, a, b, tt);
        this.updateOverlay(s, a, b, c);
        return;
      }
      if (s.cols === undefined && coreChanges && s.ovCount + (b - a) > this.overlayLimit) this.promote(s);
      if (s.cols !== undefined) this.updateArrays(s, a, b, c);
      else {
        this.updateOverlay(s, a, b, c);
        if (coreChanges) {
          for (let i = a; i < b; i++) {
            if (s.cols === undefined && s.ovCount > 0 && this.pool.find(s.base + i) >= 0) continue;
            const p = this.wpos(s, i);
            this.updateAt(s, this.w!, p, c);
          }
        }
      }
      if ('pgmap' in update || 'mapping' in update || 'zoneDeviceData' in update || update.index !== undefined) {
        for (let i = a; i < b; i++) {
          if ('pgmap' in update) this.setExtra(s, i, 'pgmap', update.pgmap, s.tpl.pgmap);
          if ('mapping' in update) this.setExtra(s, i, 'mapping', update.mapping, s.tpl.mapping);
          if ('zoneDeviceData' in update) this.setExtra(s, i, 'zdd', update.zoneDeviceData, s.tpl.zoneDeviceData);
          if (update.index !== undefined) this.setIndex(s, i, update.index);
        }
      }
    }, (r) => {
      let nt = derived.get(r.tpl);
      if (nt === undefined) {
        nt = applyUpdate(r.tpl, c);
        derived.set(r.tpl, nt);
      }
      r.tpl = nt;
    });
  }

  /** After a template change, overrides equal to the new template are dropped. */
  private rebaseExtras(s: Section, _old: StructPage): void {
    const ext = s.ext!;
    const t = s.tpl;
    const drop = (m: PageSlots<unknown> | undefined, dflt: unknown): void => {
      if (m === undefined) return;
      for (const [i, v] of m) if ((v === NONE ? undefined : v) === dflt) m.delete(i);
    };
    drop(ext.pgmap, t.pgmap);
    drop(ext.mapping, t.mapping);
    drop(ext.zdd, t.zoneDeviceData);
    if (ext.index !== undefined) for (const [i, v] of ext.index) if (v === t.index) ext.index.delete(i);
    if (ext.size === 0) s.ext = undefined;
  }

  private updateArrays(s: Section, a: number, b: number, c: Compiled): void {
    const w = s.cols!;
    for (let p = a; p < b; p++) this.updateAt(s, w, p, c);
  }

  /** Applies an update to the overlay entries of pages [a, b) of a section. */
  private updateOverlay(s: Section, a: number, b: number, c: Compiled): void {
    const pool = this.pool;
    for (let slot = s.ovHead; slot >= 0; slot = pool.nextOf(slot)) {
      const k = pool.keyOf(slot) - s.base;
      if (k >= a && k < b) this.updateAt(s, pool.chunkOf(slot), pool.posOf(slot), c);
    }
  }

  private updateAt(s: Section, w: PageArrays, p: number, c: Compiled): void {
    const u = c.u;
    if (c.set.length + c.clear.length > 0) w.lo[p] = applyFlags(w.lo[p]!, c);
    if (u.refcount !== undefined) w.ref[p] = u.refcount;
    if (u.mapcount !== undefined) w.mc[p] = u.mapcount;
    const v = u.private;
    if (v !== undefined) {
      const pr = w.priv;
      if (pr !== undefined) pr[p] = v;
      else if (v !== s.tpl.private) {
        // only a section's own columns lack the column: create it from the template
        s.cols!.privCol(s.tpl)[p] = v;
      }
    }
  }

  /** EINVAL unless `zone` is a zone index and `nid` a node id of this configuration. */
  private zoneNidArgs(fn: string, zone: number, nid: number): void {
    checkUnsigned(fn, 'zone', zone, this.config.MAX_NR_ZONES - 1);
    checkUnsigned(fn, 'nid', nid, this.config.MAX_NUMNODES - 1);
  }

  /** EINVAL unless `u` is a {@link PageUpdate}: flag bits 0..31, counts that are 32-bit integers. */
  private checkUpdate(u: PageUpdate): void {
    if (typeof u !== 'object' || u === null) throw new KernelError('EINVAL', `update_range: invalid update ${String(u)}`);
    for (const list of [u.setFlags, u.clearFlags]) {
      if (list === undefined) continue;
      if (!Array.isArray(list)) throw new KernelError('EINVAL', 'update_range: flags are not a list');
      for (const b of list) checkUnsigned('update_range', 'bit', b, 31);
    }
    if (u.refcount !== undefined) checkInt('update_range', 'refcount', u.refcount);
    if (u.mapcount !== undefined) checkInt32('update_range', 'mapcount', u.mapcount);
  }

  private checkRange(startPfn: number, nrPages: number): void {
    if (this.runEnd >= 0) this.flushRun();
    if (!Number.isSafeInteger(startPfn) || startPfn < 0 || !Number.isSafeInteger(nrPages) || nrPages < 0) {
      throw new KernelError('EINVAL', `invalid pfn range ${startPfn} + ${nrPages}`);
    }
    if (nrPages === 0) return;
    const last = this.pfnToSectionNr(startPfn + nrPages - 1);
    for (let nr = this.pfnToSectionNr(startPfn); nr <= last; ) {
      if (this.sections.has(nr)) {
        nr++;
        continue;
      }
      const r = this.runAt(nr);
      if (r === undefined) {
        throw new KernelBug(
          `BUG: no memmap for pfn range ${hex(startPfn)}-${hex(startPfn + nrPages - 1)} (section ${nr})`,
        );
      }
      nr = r.end;
    }
  }

  /**
   * Calls `fn` for each section of a range (every one has a memmap) with the
   * pages [a, b) of it in the range. Whole sections of a run are given to
   * `onRun` instead, as one run of their own (split off at the range's
   * ends, merged back afterwards) when it is given; other sections of runs
   * are taken out of them first, and go back when they are uniform again.
   */
  private forSections(startPfn: number, nrPages: number, fn: (s: Section, a: number, b: number) => void, onRun?: (r: SectionRun) => void): void {
    const pps = this.pagesPerSection;
    let pfn = startPfn;
    const end = startPfn + nrPages;
    const fullEnd = Math.floor(end * this.invPps);
    while (pfn < end) {
      const nr = this.pfnToSectionNr(pfn);
      const base = nr * pps;
      const a = pfn - base;
      const b = Math.min(pps, end - base);
      let s = this.sections.get(nr);
      if (s === undefined) {
        const i = this.runIndex(nr);
        if (onRun !== undefined && a === 0 && b === pps) {
          const e = Math.min(this.runs[i]!.end, fullEnd);
          const j = this.isolate(i, nr, e);
          onRun(this.runs[j]!);
          this.mergeAround(j);
          pfn = e * pps;
          continue;
        }
        s = this.unrun(i, nr);
      }
      fn(s, a, b);
      this.foldBack(nr, s);
      pfn = base + b;
    }
  }

  /**
   * The first pfn of `[startPfn, endPfn)` whose struct page satisfies `pred`
   * (given the low flags word, the `_mapcount`/`page_type` word and the
   * refcount), or -1. Pfns without a memmap are skipped. Template sections
   * are tested once, overlays by their entries, columns by a linear scan:
   * this is how the page allocator walks a pageblock looking for free blocks
   * without reading every struct page of a mostly-untouched section.
   */
  findFirst(startPfn: number, endPfn: number, pred: (flagsLo: number, mapcount: number, refcount: number) => boolean): number {
    checkUnsigned('find_first', 'start_pfn', startPfn);
    checkUnsigned('find_first', 'end_pfn', endPfn);
    if (typeof pred !== 'function') throw new KernelError('EINVAL', 'find_first: pred is not a function');
    if (this.runEnd >= 0) this.flushRun();
    const pps = this.pagesPerSection;
    let pfn: number = startPfn;
    while (pfn < endPfn) {
      const nr = this.pfnToSectionNr(pfn);
      const base = nr * pps;
      const a = pfn - base;
      const b = Math.min(pps, endPfn - base);
      const s = this.sections.get(nr);
      if (s !== undefined) {
        const hit = this.findInSection(s, a, b, pred);
        if (hit >= 0) return base + hit;
      } else {
        const r = this.runs.length > 0 ? this.runAt(nr) : undefined;
        if (r !== undefined) {
          const t = r.tpl;
          if (pred(t.flagsLo, t.mapcount, t.refcount)) return pfn;
          pfn = Math.min(r.end * pps, endPfn);
          continue;
        }
      }
      pfn = base + b;
    }
    return -1;
  }

  private findInSection(s: Section, a: number, b: number, pred: (lo: number, mc: number, ref: number) => boolean): number {
    const c = s.cols;
    if (c !== undefined) {
      for (let i = a; i < b; i++) if (pred(c.lo[i]!, c.mc[i]!, c.ref[i]!)) return i;
      return -1;
    }
    const t = s.tpl;
    const pool = this.pool;
    if (pred(t.flagsLo, t.mapcount, t.refcount)) {
      // Every template page satisfies pred: the answer is the first page of
      // [a, b) that is not in the overlay, unless an overlay entry before it does.
      if (a >= b) return -1;
      if (s.ovCount === 0) return a;
      const keys = this.overlayKeys(s);
      let i = a;
      for (let j = lowerBound(keys, a); j < keys.length; j++) {
        const k = keys[j]!;
        if (k >= b || k > i) break;
        pool.find(s.base + k);
        const w = pool.hitCols!;
        const p = pool.hitPos;
        if (pred(w.lo[p]!, w.mc[p]!, w.ref[p]!)) return k;
        i = k + 1;
      }
      return i < b ? i : -1;
    }
    // Only diverged pages can satisfy pred: the overlay's entries in [a, b), in order.
    if (s.ovCount === 0) return -1;
    const keys = this.overlayKeys(s);
    for (let j = lowerBound(keys, a); j < keys.length; j++) {
      const k = keys[j]!;
      if (k >= b) break;
      pool.find(s.base + k);
      const w = pool.hitCols!;
      const p = pool.hitPos;
      if (pred(w.lo[p]!, w.mc[p]!, w.ref[p]!)) return k;
    }
    return -1;
  }

  /**
   * The page offsets of section `s`'s overlay entries, ascending: kept
   * between calls and brought up to date by merging in the entries added
   * since (O(entries) then, O(1) when none were), so that repeated
   * searches of small ranges of a section (a pageblock at a time) cost
   * O(log entries) each instead of a walk of every entry.
   */
  private overlayKeys(s: Section): Float64Array {
    const pool = this.pool;
    const n = s.ovCount;
    const same = this.keysSec === s && this.keysEpoch === pool.compactions;
    const old = this.keys;
    if (same && this.keysCount === n) return old;
    const fresh = same && this.keysCount < n ? n - this.keysCount : n;
    const add = new Float64Array(fresh);
    let slot = s.ovHead;
    for (let j = 0; j < fresh; j++) {
      add[j] = pool.keyOf(slot) - s.base;
      slot = pool.nextOf(slot);
    }
    add.sort();
    let keys: Float64Array;
    if (fresh === n) keys = add;
    else {
      keys = new Float64Array(n);
      let i = 0;
      let j = 0;
      let o = 0;
      while (i < old.length && j < add.length) keys[o++] = old[i]! <= add[j]! ? old[i++]! : add[j++]!;
      while (i < old.length) keys[o++] = old[i++]!;
      while (j < add.length) keys[o++] = add[j++]!;
    }
    this.keysSec = s;
    this.keys = keys;
    this.keysCount = n;
    this.keysEpoch = pool.compactions;
    return keys;
  }

  // ------------------------------------------------------ page->flags fields

  /** `page->flags` bits 0..31. */
  pageFlagsLo(pfn: number): number {
    const s = this.secR(pfn);
    const p = this.rpos(s, pfn - s.base);
    return p < 0 ? s.tpl.flagsLo : this.w!.lo[p]!;
  }

  /** `page->flags` bits 32..63. */
  pageFlagsHi(pfn: number): number {
    const s = this.secR(pfn);
    if (s.cols === undefined && !s.hiMixed) return s.tpl.flagsHi;
    const p = this.rpos(s, pfn - s.base);
    return p < 0 ? s.tpl.flagsHi : this.hiAt(s, p);
  }

  /** Sets the whole `page->flags` word from its two halves. */
  setPageFlagsWord(pfn: number, lo: number, hi: number): void {
    checkUnsigned('set_page_flags', 'flags_lo', lo, 0xffffffff);
    checkUnsigned('set_page_flags', 'flags_hi', hi, 0xffffffff);
    const s = this.sec(pfn);
    const i = pfn - s.base;
    const p0 = this.rpos(s, i);
    if (p0 < 0 && s.tpl.flagsLo === lo && s.tpl.flagsHi === hi) return;
    // (a position rpos found is writable as it is: this.w still holds its arrays)
    const p = p0 < 0 ? this.wpos(s, i) : p0;
    this.w!.lo[p] = lo;
    this.putHi(s, p, hi);
  }

  private setLo(pfn: number, lo: number): void {
    const s = this.sec(pfn);
    const i = pfn - s.base;
    const p0 = this.rpos(s, i);
    if (p0 < 0 && s.tpl.flagsLo === lo) return;
    const p = p0 < 0 ? this.wpos(s, i) : p0;
    this.w!.lo[p] = lo;
  }

  /** Reads a `page->flags` field at a bit shift and width. */
  private field(lo: number, hi: number, shift: number, width: number): number {
    if (width === 0) return 0;
    if (shift >= 32) return Math.floor(hi / POW2[shift - 32]!) % POW2[width]!;
    if (shift + width <= 32) return Math.floor(lo / POW2[shift]!) % POW2[width]!;
    const low = Math.floor(lo / POW2[shift]!);
    return low + (hi % POW2[shift + width - 32]!) * POW2[32 - shift]!;
  }

  /** Returns `[lo, hi]` with a field replaced. */
  private withField(lo: number, hi: number, shift: number, width: number, value: number): [number, number] {
    if (width === 0) return [lo, hi];
    const mod = POW2[width]!;
    const v = ((value % mod) + mod) % mod;
    // Work on the 64-bit value as (hi, lo) pairs, one half at a time.
    const full = (h: number, l: number): [number, number] => [l, h];
    if (shift >= 32) {
      const d = POW2[shift - 32]!;
      const old = Math.floor(hi / d) % mod;
      return full(hi + (v - old) * d, lo);
    }
    if (shift + width <= 32) {
      const d = POW2[shift]!;
      const old = Math.floor(lo / d) % mod;
      return full(hi, lo + (v - old) * d);
    }
    const lowBits = 32 - shift;
    const lowMod = POW2[lowBits]!;
    const vLow = v % lowMod;
    const vHigh = Math.floor(v / lowMod);
    const oldLow = Math.floor(lo / POW2[shift]!) % lowMod;
    const highW = shift + width - 32;
    const oldHigh = hi % POW2[highW]!;
    return full(hi + (vHigh - oldHigh), lo + (vLow - oldLow) * POW2[shift]!);
  }

  /**
   * The `page->flags` word `set_page_links()` gives a page of zone `zone`,
   * node `nid` and pfn `pfn`, starting from `[lo, hi]` (default: zero).
   */
  pageLinksWord(zone: number, nid: number, pfn: number, lo: number = 0, hi: number = 0): [number, number] {
    this.zoneNidArgs('set_page_links', zone, nid);
    checkUnsigned('set_page_links', 'pfn', pfn);
    checkUnsigned('set_page_links', 'flags_lo', lo, 0xffffffff);
    checkUnsigned('set_page_links', 'flags_hi', hi, 0xffffffff);
    const l = this.config.layout;
    let w: [number, number] = [lo, hi];
    w = this.withField(w[0], w[1], l.ZONES_PGSHIFT, l.ZONES_WIDTH, zone);
    w = this.withField(w[0], w[1], l.NODES_PGSHIFT, l.NODES_WIDTH, nid);
    w = this.withField(w[0], w[1], l.SECTIONS_PGSHIFT, l.SECTIONS_WIDTH, this.pfnToSectionNr(pfn));
    return w;
  }

  /** `set_page_links()`: records the page's zone, node (and section) in its flags. */
  setPageLinks(pfn: number, zone: number, nid: number): void {
    this.zoneNidArgs('set_page_links', zone, nid);
    const [lo, hi] = this.pageLinksWord(zone, nid, pfn, this.pageFlagsLo(pfn), this.pageFlagsHi(pfn));
    this.setPageFlagsWord(pfn, lo, hi);
    if (this.config.layout.NODE_NOT_IN_PAGE_FLAGS) this.sectionToNode.set(this.pfnToSectionNr(pfn), nid);
  }

  /** `page_zonenum()`: the zone index recorded in the page's flags. */
  pageZonenum(pfn: number): number {
    if (this.zoneInHi) return Math.floor(this.pageFlagsHi(pfn) / this.zoneDiv) % this.zoneMod;
    const l = this.config.layout;
    return this.field(this.pageFlagsLo(pfn), this.pageFlagsHi(pfn), l.ZONES_PGSHIFT, l.ZONES_WIDTH);
  }

  /** `page_to_nid()`: the node recorded in the page's flags (or section table). */
  pageToNid(pfn: number): number {
    const l = this.config.layout;
    if (l.NODE_NOT_IN_PAGE_FLAGS) return this.sectionToNode.get(this.pfnToSectionNr(pfn)) ?? 0;
    if (this.nodeInHi) return Math.floor(this.pageFlagsHi(pfn) / this.nodeDiv) % this.nodeMod;
    return this.field(this.pageFlagsLo(pfn), this.pageFlagsHi(pfn), l.NODES_PGSHIFT, l.NODES_WIDTH);
  }

  /** `page_zone_id()`: the ZONEID field (node:zone, or section:zone). */
  pageZoneId(pfn: number): number {
    const l = this.config.layout;
    if (this.zoneIdInHi) return Math.floor(this.pageFlagsHi(pfn) / this.zoneIdDiv) % this.zoneIdMod;
    return this.field(this.pageFlagsLo(pfn), this.pageFlagsHi(pfn), l.ZONEID_PGSHIFT, l.ZONEID_SHIFT);
  }

  /**
   * `page_zonenum()` and `page_to_nid()` together, as `nid * MAX_NR_ZONES +
   * zone` (one read of the flags word; the page allocator's `page_zone()`).
   */
  pageNodeZone(pfn: number): number {
    if (this.zoneInHi && this.nodeInHi && !this.config.layout.NODE_NOT_IN_PAGE_FLAGS) {
      const hi = this.pageFlagsHi(pfn);
      return (Math.floor(hi / this.nodeDiv) % this.nodeMod) * this.config.MAX_NR_ZONES + (Math.floor(hi / this.zoneDiv) % this.zoneMod);
    }
    return this.pageToNid(pfn) * this.config.MAX_NR_ZONES + this.pageZonenum(pfn);
  }

  /** `page_to_section()` with classic SPARSEMEM (SECTIONS_WIDTH > 0), else the pfn's section. */
  pageToSection(pfn: number): number {
    checkUnsigned('page_to_section', 'pfn', pfn);
    const l = this.config.layout;
    if (l.SECTIONS_WIDTH === 0) return this.pfnToSectionNr(pfn);
    return this.field(this.pageFlagsLo(pfn), this.pageFlagsHi(pfn), l.SECTIONS_PGSHIFT, l.SECTIONS_WIDTH);
  }

  /** `PagePoisoned()`: flags are all ones, the memmap was never initialized. */
  pagePoisoned(pfn: number): boolean {
    return this.pageFlagsLo(pfn) === 0xffffffff && this.pageFlagsHi(pfn) === 0xffffffff;
  }

  // ---------------------------------------------------------------- PG_ bits

  /** `test_bit(PG_x, &page->flags)`, e.g. `PageReserved()`. */
  testPageFlag(pfn: number, bit: number): boolean {
    checkUnsigned('test_bit', 'bit', bit, 31);
    return flagsWordTest(this.pageFlagsLo(pfn), bit);
  }

  /** `SetPageX()` / `__SetPageX()`. */
  setPageFlag(pfn: number, bit: number): void {
    checkUnsigned('set_bit', 'bit', bit, 31);
    const s = this.sec(pfn);
    const i = pfn - s.base;
    const p0 = this.rpos(s, i);
    const lo = p0 < 0 ? s.tpl.flagsLo : this.w!.lo[p0]!;
    if (flagsWordTest(lo, bit)) return;
    const p = p0 < 0 ? this.wpos(s, i) : p0;
    this.w!.lo[p] = flagsWordSet(lo, bit);
  }

  /** `ClearPageX()` / `__ClearPageX()`. */
  clearPageFlag(pfn: number, bit: number): void {
    checkUnsigned('clear_bit', 'bit', bit, 31);
    const s = this.sec(pfn);
    const i = pfn - s.base;
    const p0 = this.rpos(s, i);
    const lo = p0 < 0 ? s.tpl.flagsLo : this.w!.lo[p0]!;
    if (!flagsWordTest(lo, bit)) return;
    const p = p0 < 0 ? this.wpos(s, i) : p0;
    this.w!.lo[p] = flagsWordClear(lo, bit);
  }

  /** `TestSetPageX()`: sets the bit, returns whether it was set before. */
  testSetPageFlag(pfn: number, bit: number): boolean {
    checkUnsigned('test_and_set_bit', 'bit', bit, 31);
    const was = this.testPageFlag(pfn, bit);
    if (!was) this.setPageFlag(pfn, bit);
    return was;
  }

  /** `TestClearPageX()`: clears the bit, returns whether it was set before. */
  testClearPageFlag(pfn: number, bit: number): boolean {
    checkUnsigned('test_and_clear_bit', 'bit', bit, 31);
    const was = this.testPageFlag(pfn, bit);
    if (was) this.clearPageFlag(pfn, bit);
    return was;
  }

  /** `page->flags &= ~((1 << n) - 1)`: clears the low `n` flag bits. */
  clearLowFlags(pfn: number, n: number): void {
    checkUnsigned('clear_low_flags', 'n', n, 32);
    const lo = this.pageFlagsLo(pfn);
    const keep = flagsWordClearBelow(lo, n);
    if (keep !== lo) this.setLo(pfn, keep);
  }

  /** `PageReserved()`. */
  pageReserved(pfn: number): boolean {
    return this.testPageFlag(pfn, PG_reserved);
  }

  /** `SetPageReserved()` / `__SetPageReserved()`. */
  setPageReserved(pfn: number): void {
    this.setPageFlag(pfn, PG_reserved);
  }

  /** `ClearPageReserved()` / `__ClearPageReserved()`. */
  clearPageReserved(pfn: number): void {
    this.clearPageFlag(pfn, PG_reserved);
  }

  // -------------------------------------------- _mapcount, page_type, private

  /** `atomic_read(&page->_mapcount)`: the raw word (-1 when unmapped). */
  pageMapcountRaw(pfn: number): number {
    const s = this.secR(pfn);
    const p = this.rpos(s, pfn - s.base);
    return p < 0 ? s.tpl.mapcount : this.w!.mc[p]!;
  }

  /** Sets the raw `_mapcount`/`page_type` word. */
  setPageMapcountRaw(pfn: number, v: number): void {
    checkInt32('set_page_mapcount', '_mapcount', v);
    const s = this.sec(pfn);
    const i = pfn - s.base;
    const p0 = this.rpos(s, i);
    if (p0 < 0 && s.tpl.mapcount === v) return;
    const p = p0 < 0 ? this.wpos(s, i) : p0;
    this.w!.mc[p] = v;
  }

  /** `page_mapcount()` of a small page: `_mapcount + 1`. */
  pageMapcount(pfn: number): number {
    return this.pageMapcountRaw(pfn) + 1;
  }

  /** `page_mapcount_reset()`: `_mapcount = -1`. */
  pageMapcountReset(pfn: number): void {
    this.setPageMapcountRaw(pfn, -1);
  }

  /** `PageType(page, flag)` for a page type (`PG_buddy`, `PG_offline`, ...). */
  pageType(pfn: number, flag: number): boolean {
    checkUnsigned('PageType', 'flag', flag, 0xffffffff);
    return pageTypeIs(this.pageMapcountRaw(pfn), flag);
  }

  /** `__SetPage<Type>()`: BUG if the word is a mapcount rather than a type. */
  setPageType(pfn: number, flag: number): void {
    checkUnsigned('__SetPageType', 'flag', flag, 0xffffffff);
    const word = this.pageMapcountRaw(pfn);
    if (!pageTypeIs(word, 0)) throw new KernelBug(`VM_BUG_ON_PAGE(!PageType(page, 0)): pfn ${hex(pfn)} _mapcount ${word}`);
    this.setPageMapcountRaw(pfn, setPageTypeWord(word, flag));
  }

  /** `__ClearPage<Type>()`: BUG if the page does not have the type. */
  clearPageType(pfn: number, flag: number): void {
    checkUnsigned('__ClearPageType', 'flag', flag, 0xffffffff);
    const word = this.pageMapcountRaw(pfn);
    if (!pageTypeIs(word, flag)) throw new KernelBug(`VM_BUG_ON_PAGE(!PageType): pfn ${hex(pfn)} lacks type ${hex(flag)}`);
    this.setPageMapcountRaw(pfn, clearPageTypeWord(word, flag));
  }

  /** `PageBuddy()`: a free block head owned by the buddy allocator. */
  pageBuddy(pfn: number): boolean {
    return pageTypeIs(this.pageMapcountRaw(pfn), PG_buddy);
  }

  /** `PageOffline()`. */
  pageOffline(pfn: number): boolean {
    return pageTypeIs(this.pageMapcountRaw(pfn), PG_offline);
  }

  /** `__SetPageOffline()`. */
  setPageOffline(pfn: number): void {
    this.setPageType(pfn, PG_offline);
  }

  /** `__ClearPageOffline()`. */
  clearPageOffline(pfn: number): void {
    this.clearPageType(pfn, PG_offline);
  }

  /** `page_private()`. */
  pagePrivate(pfn: number): number {
    const s = this.secR(pfn);
    const p = this.rpos(s, pfn - s.base);
    return p < 0 ? s.tpl.private : this.privAt(s, p);
  }

  /** `set_page_private()`. */
  setPagePrivate(pfn: number, v: number): void {
    checkUnsigned('set_page_private', 'private', v);
    const s = this.sec(pfn);
    const i = pfn - s.base;
    const p0 = this.rpos(s, i);
    if (p0 < 0 && s.tpl.private === v) return;
    const p = p0 < 0 ? this.wpos(s, i) : p0;
    this.putPriv(s, p, v);
  }

  /** `buddy_order()`: the order of a free block head (PageBuddy checked by the caller). */
  buddyOrder(pfn: number): number {
    return this.pagePrivate(pfn);
  }

  /** `set_buddy_order()`: `set_page_private(page, order); __SetPageBuddy(page)`. */
  setBuddyOrder(pfn: number, order: number): void {
    checkUnsigned('set_buddy_order', 'order', order, this.config.MAX_ORDER - 1);
    const s = this.sec(pfn);
    const i = pfn - s.base;
    const p0 = this.rpos(s, i);
    const word = p0 < 0 ? s.tpl.mapcount : this.w!.mc[p0]!;
    if (!pageTypeIs(word, 0)) throw new KernelBug(`VM_BUG_ON_PAGE(!PageType(page, 0)): pfn ${hex(pfn)} _mapcount ${word}`);
    const p = p0 < 0 ? this.wpos(s, i) : p0;
    this.w!.mc[p] = setPageTypeWord(word, PG_buddy);
    this.putPriv(s, p, order);
  }

  /** `__ClearPageBuddy(); set_page_private(page, 0)`: what `del_page_from_free_list()` does to the page. */
  clearBuddy(pfn: number): void {
    const s = this.sec(pfn);
    const i = pfn - s.base;
    const p0 = this.rpos(s, i);
    const word = p0 < 0 ? s.tpl.mapcount : this.w!.mc[p0]!;
    if (!pageTypeIs(word, PG_buddy)) throw new KernelBug(`VM_BUG_ON_PAGE(!PageBuddy(page)): pfn ${hex(pfn)}`);
    const p = p0 < 0 ? this.wpos(s, i) : p0;
    this.w!.mc[p] = clearPageTypeWord(word, PG_buddy);
    this.putPriv(s, p, 0);
  }

  /**
   * The order of the free block headed by `pfn`, or -1 if the page is not
   * PageBuddy or has no memmap (one read: `PageBuddy() ? buddy_order() : -1`).
   */
  buddyOrderOf(pfn: number): number {
    const s = this.secOrUndefined(pfn);
    if (s === undefined) return -1;
    const p = this.rpos(s, pfn - s.base);
    const word = p < 0 ? s.tpl.mapcount : this.w!.mc[p]!;
    if (!pageTypeIs(word, PG_buddy)) return -1;
    return p < 0 ? s.tpl.private : this.privAt(s, p);
  }

  /**
   * `page_expected_state()`: `_mapcount` -1, no mapping, refcount 0 and none
   * of the flag bits of `lowMask` (a mask of the low flags half) set.
   */
  pageExpectedState(pfn: number, lowMask: number): boolean {
    checkUnsigned('page_expected_state', 'check_flags', lowMask, 0xffffffff);
    const s = this.secR(pfn);
    const i = pfn - s.base;
    const p = this.rpos(s, i);
    const t = s.tpl;
    const w = this.w!;
    const mc = p < 0 ? t.mapcount : w.mc[p]!;
    const ref = p < 0 ? t.refcount : w.ref[p]!;
    const lo = p < 0 ? t.flagsLo : w.lo[p]!;
    if (mc !== -1 || ref !== 0 || flagsWordAny(lo, lowMask)) return false;
    return this.extra(s, i, 'mapping', t.mapping) === undefined;
  }

  /**
   * The first pfn of `[startPfn, startPfn + nrPages)` that is not in
   * {@link MemmapStore.pageExpectedState}'s expected state for `lowMask`,
   * or -1 if every page is: the loop of `check_new_pages()`
   * (mm/page_alloc.c) over a new block, answered per section (template
   * pages once, the overlay by its entries or, for a block no larger than
   * the overlay, by looking the block's pages up; columns page by page). A pfn
   * without a memmap fails as {@link MemmapStore.pageExpectedState} does.
   */
  firstUnexpectedPage(startPfn: number, nrPages: number, lowMask: number): number {
    checkUnsigned('check_new_pages', 'pfn', startPfn);
    checkUnsigned('check_new_pages', 'nr_pages', nrPages);
    checkUnsigned('check_new_pages', 'mask', lowMask, 2 ** 32 - 1);
    if (this.runEnd >= 0) this.flushRun();
    const pps = this.pagesPerSection;
    const end = startPfn + nrPages;
    let pfn: number = startPfn;
    while (pfn < end) {
      const nr = this.pfnToSectionNr(pfn);
      const base = nr * pps;
      const b = Math.min(pps, end - base);
      const s = this.sections.get(nr);
      if (s === undefined) {
        const r = this.runs.length > 0 && Number.isSafeInteger(nr) ? this.runAt(nr) : undefined;
        if (r === undefined) {
          // no memmap: fail exactly as the per-page accessor does
          if (!this.pageExpectedState(pfn, lowMask)) return pfn;
          pfn++;
          continue;
        }
        const t = r.tpl;
        if (!(t.mapcount === -1 && t.refcount === 0 && !flagsWordAny(t.flagsLo, lowMask) && t.mapping === undefined)) return pfn;
        pfn = Math.min(r.end * pps, end);
        continue;
      }
      const hit = this.unexpectedInSection(s, pfn - base, b, lowMask);
      if (hit >= 0) return base + hit;
      pfn = base + b;
    }
    return -1;
  }

  private unexpectedInSection(s: Section, a: number, b: number, lowMask: number): number {
    const t = s.tpl;
    const tplOk = t.mapcount === -1 && t.refcount === 0 && !flagsWordAny(t.flagsLo, lowMask) && t.mapping === undefined;
    if (s.cols !== undefined || !tplOk) {
      for (let i = a; i < b; i++) if (!this.pageExpectedState(s.base + i, lowMask)) return i;
      return -1;
    }
    // Template pages are fine: only overlay entries and mapping overrides can fail.
    const pool = this.pool;
    const m = s.ext?.mapping;
    if (b - a <= s.ovCount + (m?.size ?? 0)) {
      // a range no larger than the overrides (an order-0 block, say): look its pages up
      for (let i = a; i < b; i++) {
        const slot = s.ovCount > 0 ? pool.find(s.base + i) : -1;
        if (slot >= 0) {
          const w = pool.chunkOf(slot);
          const p = pool.posOf(slot);
          if (w.mc[p] !== -1 || w.ref[p] !== 0 || flagsWordAny(w.lo[p]!, lowMask)) return i;
        }
        if (m !== undefined) {
          const v = m.get(i);
          if (v !== undefined && v !== NONE) return i;
        }
      }
      return -1;
    }
    let best = -1;
    for (let slot = s.ovHead; slot >= 0; slot = pool.nextOf(slot)) {
      const k = pool.keyOf(slot) - s.base;
      if (k < a || k >= b || (best >= 0 && k >= best)) continue;
      const w = pool.chunkOf(slot);
      const p = pool.posOf(slot);
      if (w.mc[p] !== -1 || w.ref[p] !== 0 || flagsWordAny(w.lo[p]!, lowMask)) best = k;
    }
    if (m !== undefined) {
      for (const [k, v] of m) {
        if (k < a || k >= b || (best >= 0 && k >= best)) continue;
        if (v !== NONE) best = k;
      }
    }
    return best;
  }

  /**
   * What `post_alloc_hook()` does to a new block's head page:
   * `set_page_private(page, 0); set_page_refcounted(page)`.
   */
  initAllocatedPage(pfn: number): void {
    const s = this.sec(pfn);
    const i = pfn - s.base;
    const p = this.wpos(s, i);
    this.w!.ref[p] = 1;
    this.putPriv(s, p, 0);
  }

  // ------------------------------------------------------------- page_ref.h

  /** `page_ref_count()`. */
  pageRefCount(pfn: number): number {
    const s = this.secR(pfn);
    const p = this.rpos(s, pfn - s.base);
    return p < 0 ? s.tpl.refcount : this.w!.ref[p]!;
  }

  /** `page_count()` (no compound pages here: the page's own count). */
  pageCount(pfn: number): number {
    return this.pageRefCount(pfn);
  }

  /** `set_page_count()`. */
  setPageCount(pfn: number, v: number): void {
    checkInt('set_page_count', 'v', v);
    const s = this.sec(pfn);
    const i = pfn - s.base;
    const p0 = this.rpos(s, i);
    if (p0 < 0 && s.tpl.refcount === v) return;
    const p = p0 < 0 ? this.wpos(s, i) : p0;
    this.w!.ref[p] = v;
  }

  /** `init_page_count()`: `set_page_count(page, 1)`. */
  initPageCount(pfn: number): void {
    this.setPageCount(pfn, 1);
  }

  /**
   * Adds `nr` to the refcount in one lookup and returns the new count;
   * with `bugIfZero`, a count of 0 is a BUG (`put_page_testzero()`).
   */
  private addRef(pfn: number, nr: number, bugIfZero: boolean): number {
    const s = this.sec(pfn);
    const i = pfn - s.base;
    const p0 = this.rpos(s, i);
    const old = p0 < 0 ? s.tpl.refcount : this.w!.ref[p0]!;
    if (bugIfZero && old === 0) throw new KernelBug(`VM_BUG_ON_PAGE(page_ref_count(page) == 0): pfn ${hex(pfn)}`);
    const v = old + nr;
    if (p0 < 0 && s.tpl.refcount === v) return v;
    const p = p0 < 0 ? this.wpos(s, i) : p0;
    this.w!.ref[p] = v;
    return v;
  }

  /** `page_ref_add()`. */
  pageRefAdd(pfn: number, nr: number): void {
    checkInt('page_ref_add', 'nr', nr);
    this.addRef(pfn, nr, false);
  }

  /** `page_ref_sub()`. */
  pageRefSub(pfn: number, nr: number): void {
    checkInt('page_ref_sub', 'nr', nr);
    this.setPageCount(pfn, this.pageRefCount(pfn) - nr);
  }

  /** `page_ref_inc()`. */
  pageRefInc(pfn: number): void {
    this.pageRefAdd(pfn, 1);
  }

  /** `page_ref_dec()`. */
  pageRefDec(pfn: number): void {
    this.pageRefAdd(pfn, -1);
  }

  /** `page_ref_inc_return()`. */
  pageRefIncReturn(pfn: number): number {
    return this.addRef(pfn, 1, false);
  }

  /** `page_ref_dec_return()`. */
  pageRefDecReturn(pfn: number): number {
    return this.addRef(pfn, -1, false);
  }

  /** `page_ref_sub_and_test()`: subtracts, returns whether the count reached 0. */
  pageRefSubAndTest(pfn: number, nr: number): boolean {
    checkInt('page_ref_sub_and_test', 'nr', nr);
    return this.addRef(pfn, -nr, false) === 0;
  }

  /** `page_ref_dec_and_test()`. */
  pageRefDecAndTest(pfn: number): boolean {
    return this.pageRefSubAndTest(pfn, 1);
  }

  /** `page_ref_add_unless()`: adds `nr` unless the count is `u`; returns whether it added. */
  pageRefAddUnless(pfn: number, nr: number, u: number): boolean {
    checkInt('page_ref_add_unless', 'nr', nr);
    checkInt('page_ref_add_unless', 'u', u);
    const v = this.pageRefCount(pfn);
    if (v === u) return false;
    this.setPageCount(pfn, v + nr);
    return true;
  }

  /** `page_ref_freeze()`: sets the count to 0 if it is exactly `count`; returns whether it did. */
  pageRefFreeze(pfn: number, count: number): boolean {
    checkInt('page_ref_freeze', 'count', count);
    if (this.pageRefCount(pfn) !== count) return false;
    this.setPageCount(pfn, 0);
    return true;
  }

  /** `page_ref_unfreeze()`: sets a frozen (0) count to `count`. */
  pageRefUnfreeze(pfn: number, count: number): void {
    checkInt('page_ref_unfreeze', 'count', count);
    if (this.pageRefCount(pfn) !== 0) throw new KernelBug(`VM_BUG_ON_PAGE(page_count(page) != 0): pfn ${hex(pfn)}`);
    this.setPageCount(pfn, count);
  }

  /** `get_page()`: takes a reference; BUG on a page whose count is 0 or below. */
  getPage(pfn: number): void {
    const v = this.pageRefCount(pfn);
    if (v <= 0) throw new KernelBug(`VM_BUG_ON_PAGE(page_ref_zero_or_close_to_overflow(page)): pfn ${hex(pfn)} refcount ${v}`);
    this.setPageCount(pfn, v + 1);
  }

  /** `get_page_unless_zero()`: takes a reference unless the count is 0. */
  getPageUnlessZero(pfn: number): boolean {
    return this.pageRefAddUnless(pfn, 1, 0);
  }

  /** `put_page_testzero()`: drops a reference, returns whether it was the last; BUG if already 0. */
  putPageTestzero(pfn: number): boolean {
    return this.addRef(pfn, -1, true) === 0;
  }

  // ------------------------------------------------- pointer-like fields

  /** `page->pgmap`. */
  pagePgmap(pfn: number): unknown {
    const s = this.secR(pfn);
    return this.extra(s, pfn - s.base, 'pgmap', s.tpl.pgmap);
  }

  /** Sets `page->pgmap`. */
  setPagePgmap(pfn: number, pgmap: unknown): void {
    const s = this.sec(pfn);
    this.setExtra(s, pfn - s.base, 'pgmap', pgmap, s.tpl.pgmap);
  }

  /** `page->zone_device_data`. */
  pageZoneDeviceData(pfn: number): unknown {
    const s = this.sec(pfn);
    return this.extra(s, pfn - s.base, 'zdd', s.tpl.zoneDeviceData);
  }

  /** Sets `page->zone_device_data`. */
  setPageZoneDeviceData(pfn: number, data: unknown): void {
    const s = this.sec(pfn);
    this.setExtra(s, pfn - s.base, 'zdd', data, s.tpl.zoneDeviceData);
  }

  /** `page->mapping`. */
  pageMapping(pfn: number): unknown {
    const s = this.sec(pfn);
    // (extra() without the field-name lookup: anonymous memory reads this for every page it maps)
    const m = s.ext?.mapping;
    if (m === undefined) return s.tpl.mapping;
    const v = m.get(pfn - s.base);
    if (v === undefined) return s.tpl.mapping;
    return v === NONE ? undefined : v;
  }

  /** Sets `page->mapping`. */
  setPageMapping(pfn: number, mapping: unknown): void {
    const s = this.sec(pfn);
    this.setExtra(s, pfn - s.base, 'mapping', mapping, s.tpl.mapping);
  }

  /** `page->index`. */
  pageIndex(pfn: number): number {
    const s = this.sec(pfn);
    const m = s.ext?.index;
    if (m === undefined) return s.tpl.index;
    const v = m.get(pfn - s.base);
    return v === undefined ? s.tpl.index : v;
  }

  /** Sets `page->index`. */
  setPageIndex(pfn: number, index: number): void {
    checkUnsigned('set_page_index', 'index', index);
    const s = this.sec(pfn);
    this.setIndex(s, pfn - s.base, index);
  }

  // ------------------------------------------------- __init_single_page

  /**
   * The struct page `__init_single_page(page, pfn, zone, nid)` produces:
   * zeroed, then `set_page_links()`, `init_page_count()` (1),
   * `page_mapcount_reset()` (-1), `page_cpupid_reset_last()` (LAST_CPUPID all
   * ones when it is in the flags) and `page_kasan_tag_reset()` (0xff). Shared
   * per (zone, node) so that whole sections can use it as their template.
   */
  initSinglePageTemplate(zone: number, nid: number, pfn: number = 0): StructPage {
    this.zoneNidArgs('__init_single_page', zone, nid);
    checkUnsigned('__init_single_page', 'pfn', pfn);
    const l = this.config.layout;
    const sec = l.SECTIONS_WIDTH > 0 ? this.pfnToSectionNr(pfn) : 0;
    const key = `${zone}:${nid}:${sec}`;
    let t = this.initTemplates.get(key);
    if (t === undefined) {
      let [lo, hi] = this.pageLinksWord(zone, nid, pfn);
      [lo, hi] = this.withField(lo, hi, l.LAST_CPUPID_PGSHIFT, l.LAST_CPUPID_WIDTH, POW2[l.LAST_CPUPID_WIDTH]! - 1);
      [lo, hi] = this.withField(lo, hi, l.KASAN_TAG_PGSHIFT, l.KASAN_TAG_WIDTH, 0xff);
      t = makeStructPage({ flagsLo: lo, flagsHi: hi, refcount: 1, mapcount: -1 });
      this.initTemplates.set(key, t);
    }
    return t;
  }

  /**
   * `__init_single_page()` on one page (include/linux/mm.h, mm/page_alloc.c).
   * Called once per page, in ascending order, by loops over millions of
   * pages, so consecutive calls for one (zone, node) are combined: a call
   * that continues the pending run of its section only extends it, and the
   * run is written as one range (whole sections as a template swap, the
   * rest filled into place) before the store is next read or changed. What
   * any accessor then sees is exactly what a page-by-page write gives. A
   * pfn without a memmap fails at its own call: KernelBug (or
   * EINVAL for a pfn that is not one).
   */
  initSinglePage(pfn: number, zone: number, nid: number): void {
    if (pfn === this.runEnd && pfn < this.runLimit && zone === this.runZone && nid === this.runNid) {
      this.runEnd = pfn + 1;
      return;
    }
    this.initSinglePageStart(pfn, zone, nid);
  }

  /** `initSinglePage()` that does not continue the pending run: writes that run, starts a new one. */
  private initSinglePageStart(pfn: number, zone: number, nid: number): void {
    this.zoneNidArgs('__init_single_page', zone, nid);
    const s = this.sec(pfn);
    let t = this.lastInitTpl;
    if (
      t === undefined ||
      zone !== this.lastInitZone ||
      nid !== this.lastInitNid ||
      (!this.noSectionField && (pfn < this.lastInitLo || pfn >= this.lastInitHi))
    ) {
      t = this.initTemplateFor(pfn, zone, nid);
    }
    if (this.nodeNotInFlags) this.sectionToNode.set(s.base * this.invPps, nid);
    this.runStart = pfn;
    this.runEnd = pfn + 1;
    this.runLimit = s.base + this.pagesPerSection;
    this.runZone = zone;
    this.runNid = nid;
    this.runTpl = t;
  }

  /** Writes `initSinglePage()`'s pending run, if any (see {@link MemmapStore.initSinglePage}). */
  private flushRun(): void {
    const a = this.runStart;
    const n = this.runEnd - a;
    this.runStart = -1;
    this.runEnd = -1;
    this.runLimit = -1;
    if (n > 0) this.initRange(a, n, this.runTpl);
  }

  /** The template for `initSinglePage()`, remembered for the next call. */
  private initTemplateFor(pfn: number, zone: number, nid: number): StructPage {
    const t = this.initSinglePageTemplate(zone, nid, pfn);
    this.lastInitZone = zone;
    this.lastInitNid = nid;
    this.lastInitTpl = t;
    if (!this.noSectionField) {
      this.lastInitLo = this.pfnToSectionNr(pfn) * this.pagesPerSection;
      this.lastInitHi = this.lastInitLo + this.pagesPerSection;
    }
    return t;
  }

  /**
   * `__init_single_page()` for every page of a range, in bulk: whole
   * sections take the shared template in O(1), partial ones are filled.
   */
  initSinglePageRange(startPfn: number, nrPages: number, zone: number, nid: number): void {
    this.zoneNidArgs('__init_single_page', zone, nid);
    if (this.config.layout.SECTIONS_WIDTH === 0) {
      this.initRange(startPfn, nrPages, this.initSinglePageTemplate(zone, nid));
    } else {
      this.checkRange(startPfn, nrPages);
      this.forSections(startPfn, nrPages, (s, a, b) => {
        this.initRange(s.base + a, b - a, this.initSinglePageTemplate(zone, nid, s.base));
      });
    }
    if (this.config.layout.NODE_NOT_IN_PAGE_FLAGS && nrPages > 0) {
      const last = this.pfnToSectionNr(startPfn + nrPages - 1);
      for (let nr = this.pfnToSectionNr(startPfn); nr <= last; nr++) this.sectionToNode.set(nr, nid);
    }
  }

  // ------------------------------------------------------ pageblock flags

  /** `get_pageblock_migratetype()` / `get_pfnblock_migratetype()`. */
  getPageblockMigratetype(pfn: number): number {
    const s = this.secR(pfn);
    if (s.pb === undefined) return s.pbAll;
    return s.pb[Math.floor((pfn - s.base) / this.config.pageblockNrPages)]!;
  }

  /** `set_pageblock_migratetype()`: sets the migratetype of the pageblock containing `pfn`. */
  setPageblockMigratetype(pfn: number, migratetype: number): void {
    checkUnsigned('set_pageblock_migratetype', 'migratetype', migratetype, this.config.MIGRATE_TYPES - 1);
    const s = this.sec(pfn);
    if (s.pb === undefined) {
      if (s.pbAll === migratetype) return;
      if (this.pbPerSection === 1) {
        s.pbAll = migratetype;
        return;
      }
      s.pb = new Uint8Array(this.pbPerSection).fill(s.pbAll);
    }
    s.pb[Math.floor((pfn - s.base) / this.config.pageblockNrPages)] = migratetype;
  }

  /** Sets the migratetype of every pageblock a range touches (whole sections in O(1)). */
  setPageblockMigratetypeRange(startPfn: number, nrPages: number, migratetype: number): void {
    checkUnsigned('set_pageblock_migratetype', 'migratetype', migratetype, this.config.MIGRATE_TYPES - 1);
    this.checkRange(startPfn, nrPages);
    const nb = this.config.pageblockNrPages;
    this.forSections(
      startPfn,
      nrPages,
      (s, a, b) => {
        if (a === 0 && b === this.pagesPerSection) {
          s.pb = undefined;
          s.pbAll = migratetype;
          return;
        }
        for (let i = a - (a % nb); i < b; i += nb) this.setPageblockMigratetype(s.base + i, migratetype);
      },
      (r) => {
        r.pbAll = migratetype;
      },
    );
  }
}
