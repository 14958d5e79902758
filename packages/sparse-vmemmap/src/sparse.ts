/**
 * Sparse memory: the `mem_section` table and the life of a section's memmap
 * (mm/sparse.c, v5.13), over the virtual memmap of vmemmap.ts.
 *
 * Physical memory has holes — below 4 GiB on x86_64 for PCI, between NUMA
 * nodes, wherever a DIMM slot is empty — and may grow and shrink at run time.
 * SPARSEMEM gives each section a `struct mem_section` and a memmap only
 * where memory is, in three phases:
 *
 * 1. Boot. `memory_present()` marks the sections of each memblock range
 *    present (and online) and remembers their node; `sparse_init()` then
 *    gives each present section a complete memmap, allocated node by node
 *    from one memblock buffer, and marks it `SECTION_IS_EARLY`;
 *    `subsection_map_init()` (called from `free_area_init()`) records which
 *    2 MiB subsections the ranges really cover. An early section is valid as
 *    a whole: `pfn_valid()` is true even in its holes.
 * 2. Hot-add. `sparse_add_section(nid, pfn, nr_pages, altmap)` adds a range
 *    inside one section (memory hotplug's `__add_pages()` cuts ranges at
 *    section boundaries): the subsections it covers are set in the
 *    subsection map (-EEXIST if any is already there), their memmap is
 *    populated — from RAM, or from the `altmap` — and the section becomes
 *    present and valid. A hot-added section is valid per subsection.
 * 3. Hot-remove. `sparse_remove_section()` clears the subsections and frees
 *    their memmap; the section's usage and flags go with its last
 *    subsection.
 *
 * In between, memory hotplug marks sections online and offline
 * (`online_mem_sections()`), and ZONE_DEVICE taints the sections it shares
 * with System RAM.
 *
 * The table is two-level as with SPARSEMEM_EXTREME: roots of
 * `SECTIONS_PER_ROOT` sections are created when first used and are never
 * freed (as in the kernel). The model keeps the sections themselves as runs
 * (section-table.ts): a section that is all zero is not stored, so an absent
 * section costs no host memory, and consecutive sections in the same state
 * are one record, however many there are.
 */
import type { Kernel, Printk, Tracer } from '@zonedev/kernel';
import { KernelError, checkPhysRange, checkUnsigned, isAligned } from '@zonedev/kernel';
import type { VmemAltmap } from './altmap.js';
import { traceAltmap, vmemAltmapOffset } from './altmap.js';
import { Bitmap } from './bitmap.js';
import { HostMemoryGuard } from './host-memory.js';
import { NumberRuns, SectionTable } from './section-table.js';
import type { MemPfnRange, SectionMemmapStore, SparseMemblock, VmemmapPageAllocator } from './interfaces.js';
import type { SparseArch, SparseLayout } from './layout.js';
import { sparseLayout } from './layout.js';
import type { MemSection } from './mem-section.js';
import {
  SECTION_HAS_MEM_MAP,
  SECTION_IS_EARLY,
  SECTION_IS_ONLINE,
  SECTION_MARKED_PRESENT,
  SECTION_TAINT_ZONE_DEVICE,
  Section,
  Usage,
  changeFlags,
  earlySection,
  testFlags,
  validSection,
} from './mem-section.js';
import type { MemmapPlacement, VmemmapBlock, VmemmapTotals } from './vmemmap.js';
import { Vmemmap } from './vmemmap.js';

/**
 * Options of a {@link SparseMemory}.
 * @public
 */
export interface SparseMemoryOptions {
  /** The machine's kernel services (tracer, log). */
  readonly kernel: Kernel;
  /** The architecture's constants and vmemmap behaviour. */
  readonly arch: SparseArch;
  /** The page allocator that backs hot-added memmap (mmzone's buddy allocator). */
  readonly allocator: VmemmapPageAllocator;
  /** The struct-page store, told when a section's struct pages come and go (mmzone's `MemmapStore`). */
  readonly memmap?: SectionMemmapStore;
  /** Print the `pr_debug()` lines of the vmemmap code to the log (off by default, as in a kernel without dynamic debug). */
  readonly dynamicDebug?: boolean;
  /**
   * The guard on host memory consulted before a section is added: past it,
   * `sparse_add_section()` fails with -ENOMEM as when the kernel cannot
   * allocate a section's usage or memmap (default: a guard on the V8 heap).
   */
  readonly hostMemory?: HostMemoryGuard;
}

/**
 * How much memmap a section or range has and where it lives.
 * @public
 */
export interface MemmapAccount {
  /** First pfn of the range. */
  readonly startPfn: number;
  /** Pages in the range. */
  readonly nrPages: number;
  /** Bytes of the range's struct pages that are backed by frames (64 per present page). */
  readonly bytes: number;
  /** Those bytes by source (node RAM, boot memory, altmap) and mapping page size. */
  readonly placements: readonly MemmapPlacement[];
}

/** Boot-time state of sparse_init(): the memblock and the sparse buffer. */
interface BootState {
  memblock: SparseMemblock;
  ranges: MemPfnRange[];
  buf: number;
  bufEnd: number;
  bufNid: number;
}

/** Sections told to a store with `initSections()` at once, between two questions to the host-memory guard. */
const BULK_CHUNK = 64;

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/**
 * The body of `fill_subsection_map()`: adds `mask` to the section's
 * subsection map; -EINVAL for an empty mask, -EEXIST when a subsection is
 * already present. Returns 0, which the trace shows.
 */
function fillSubsectionMapImpl(ms: Section, mask: Bitmap): number {
  const map = ms.usage!.subsectionMap;
  if (mask.isEmpty()) throw new KernelError('EINVAL', 'fill_subsection_map: empty subsection mask');
  if (mask.intersects(map)) throw new KernelError('EEXIST', 'fill_subsection_map: subsection already present');
  map.or(mask);
  return 0;
}

/**
 * The sparse memory model of one machine: `mem_section`, subsections,
 * `pfn_valid()`/`pfn_to_page()`, and the vmemmap behind them, populated from
 * RAM or from a `vmem_altmap` (mm/sparse.c, mm/sparse-vmemmap.c).
 * @public
 */
export class SparseMemory {
  /** The constants of the architecture. */
  readonly layout: SparseLayout;
  /** The architecture it was built for. */
  readonly arch: SparseArch;
  /** The roots that exist (`sparse_index_init()`), as runs of root numbers. */
  private readonly roots = new NumberRuns();
  /** The sections, as runs of equal state. */
  private readonly table = new SectionTable();
  private highest = 0;
  private readonly vmemmap: Vmemmap;
  private readonly tracer: Tracer;
  private readonly log: Printk;
  private readonly store: SectionMemmapStore | undefined;
  private boot: BootState | undefined = undefined;
  private readonly hostMemory: HostMemoryGuard;
  /** Caches of layout constants read on hot paths. */
  private readonly pps: number;
  private readonly ppss: number;
  private readonly spr: number;
  private readonly nrMemSections: number;
  /**
   * The mask of a whole section, and the one usage every hot-added section
   * with all its subsections present shares: a run of full sections costs
   * no usage or mask of its own. The shared usage is never written; a
   * section that loses some subsections gets a copy first.
   */
  private readonly fullMask: Bitmap;
  private readonly fullUsage: Usage;
  /**
   * The boot usages every early section shares while its map is empty (from
   * `sparse_init()` until `subsection_map_init()`) or full (every boot
   * section that memory covers whole): a boot of terabytes costs two usages,
   * not one per section. Like the full one, they are never written; a section
   * whose map changes gets its own copy first.
   */
  private readonly emptyEarlyUsage: Usage;
  private readonly fullEarlyUsage: Usage;

  constructor(options: SparseMemoryOptions) {
    if (typeof options !== 'object' || options === null || typeof options.kernel !== 'object' || typeof options.arch !== 'object') throw new KernelError('EINVAL', `sparse: invalid options ${String(options)}`);
    const al = options.allocator as Partial<VmemmapPageAllocator> | null;
    if (typeof al !== 'object' || al === null || typeof al.allocPagesNode !== 'function' || typeof al.freePages !== 'function' || typeof al.freeReservedPages !== 'function') {
      throw new KernelError('EINVAL', `sparse: not a page allocator: ${String(options.allocator)}`);
    }
    this.arch = options.arch;
    this.layout = sparseLayout(options.arch);
    this.tracer = options.kernel.tracer;
    this.log = options.kernel.log;
    this.store = options.memmap;
    this.hostMemory = options.hostMemory ?? new HostMemoryGuard();
    this.pps = this.layout.PAGES_PER_SECTION;
    this.ppss = this.layout.PAGES_PER_SUBSECTION;
    this.spr = this.layout.SECTIONS_PER_ROOT;
    this.nrMemSections = this.layout.NR_MEM_SECTIONS;
    const nsub = this.layout.SUBSECTIONS_PER_SECTION;
    this.fullMask = new Bitmap(nsub);
    this.fullMask.setRange(0, nsub);
    this.fullUsage = new Usage(nsub, false);
    this.fullUsage.subsectionMap.setRange(0, nsub);
    this.emptyEarlyUsage = new Usage(nsub, true);
    this.fullEarlyUsage = new Usage(nsub, true);
    this.fullEarlyUsage.subsectionMap.setRange(0, nsub);
    this.vmemmap = new Vmemmap({
      layout: this.layout,
      kind: options.arch.vmemmapPopulate,
      allocator: options.allocator,
      tracer: this.tracer,
      log: this.log,
      dynamicDebug: options.dynamicDebug ?? false,
      anyValid: (s, e) => this.anyPfnValid(s, e),
    });
  }

  // ------------------------------------------------------------ arithmetic

  /** `pfn_to_section_nr(pfn)`. */
  pfnToSectionNr(pfn: number): number {
    checkUnsigned('pfn_to_section_nr', 'pfn', pfn);
    return Math.floor(pfn / this.pps);
  }

  /** `section_nr_to_pfn(nr)`: the first pfn of a section. */
  sectionNrToPfn(sectionNr: number): number {
    checkUnsigned('section_nr_to_pfn', 'section_nr', sectionNr);
    return sectionNr * this.pps;
  }

  /** `SECTION_ALIGN_UP(pfn)`. */
  sectionAlignUp(pfn: number): number {
    checkUnsigned('SECTION_ALIGN_UP', 'pfn', pfn);
    return Math.ceil(pfn / this.pps) * this.pps;
  }

  /** `SECTION_ALIGN_DOWN(pfn)`. */
  sectionAlignDown(pfn: number): number {
    checkUnsigned('SECTION_ALIGN_DOWN', 'pfn', pfn);
    return Math.floor(pfn / this.pps) * this.pps;
  }

  /** `subsection_map_index(pfn)`: which subsection of its section a pfn is in. */
  subsectionMapIndex(pfn: number): number {
    checkUnsigned('subsection_map_index', 'pfn', pfn);
    return Math.floor((pfn % this.pps) / this.ppss);
  }

  /** `pfn_to_page(pfn)`: the struct page's virtual address, `VMEMMAP_START + pfn * 64` (no validity check, as in the kernel). */
  pfnToPage(pfn: number): bigint {
    checkUnsigned('pfn_to_page', 'pfn', pfn);
    return this.layout.VMEMMAP_START + BigInt(pfn) * 64n;
  }

  /** `page_to_pfn(page)`: the inverse of {@link SparseMemory.pfnToPage}. Throws a RangeError for an address that is not a struct page's. */
  pageToPfn(page: bigint): number {
    if (typeof page !== 'bigint') throw new KernelError('EINVAL', `page_to_pfn: invalid page ${String(page)}`);
    const off = page - this.layout.VMEMMAP_START;
    if (off < 0n || off % 64n !== 0n) throw new RangeError(`0x${page.toString(16)} is not a struct page address`);
    return Number(off / 64n);
  }

  // ---------------------------------------------------------------- lookup

  /** A working copy of section `sectionNr`, or `undefined` when it is all zero; {@link SparseMemory.commit} writes one back. */
  private slot(sectionNr: number): Section | undefined {
    const r = this.table.find(sectionNr);
    if (r === undefined) return undefined;
    const ms = new Section(sectionNr);
    ms.sectionMemMap = r.flags;
    ms.nid = r.nid;
    ms.usage = r.usage;
    return ms;
  }

  /**
   * Writes a working copy back into the table. A usage of a hot-added
   * section that has every subsection again becomes the shared full one,
   * so that the section can rejoin its neighbours' run.
   */
  private commit(ms: Section): void {
    let usage = ms.usage;
    if (usage !== undefined && !this.isSharedUsage(usage)) {
      if (usage.subsectionMap.isFull()) usage = usage.early ? this.fullEarlyUsage : this.fullUsage;
      else if (usage.early && usage.subsectionMap.isEmpty()) usage = this.emptyEarlyUsage;
    }
    this.table.set(ms.sectionNr, ms.sectionNr + 1, ms.sectionMemMap, ms.nid, usage);
  }

  /** Whether `u` is one of the shared usages, which are never written. */
  private isSharedUsage(u: Usage): boolean {
    return u === this.fullUsage || u === this.fullEarlyUsage || u === this.emptyEarlyUsage;
  }

  /** A usage of its own with the same map and boot origin as `u`. */
  private ownUsage(u: Usage): Usage {
    const own = new Usage(this.layout.SUBSECTIONS_PER_SECTION, u.early);
    own.subsectionMap.or(u.subsectionMap);
    return own;
  }

  /**
   * `__nr_to_section(nr)`: the section, or `undefined` when its root does not
   * exist or it is all zero. The record is the section's state at the time
   * of the call (sections are kept as runs, not one object each).
   */
  nrToSection(sectionNr: number): MemSection | undefined {
    checkUnsigned('__nr_to_section', 'section_nr', sectionNr);
    return this.slot(sectionNr);
  }

  /** `__pfn_to_section(pfn)`. */
  pfnToSection(pfn: number): MemSection | undefined {
    checkUnsigned('__pfn_to_section', 'pfn', pfn);
    return this.slot(Math.floor(pfn / this.pps));
  }

  /** `present_section_nr(nr)`. */
  presentSectionNr(sectionNr: number): boolean {
    checkUnsigned('present_section_nr', 'section_nr', sectionNr);
    const r = this.table.find(sectionNr);
    return r !== undefined && testFlags(r.flags, SECTION_MARKED_PRESENT);
  }

  /** `valid_section_nr(nr)`. */
  validSectionNr(sectionNr: number): boolean {
    checkUnsigned('valid_section_nr', 'section_nr', sectionNr);
    const r = this.table.find(sectionNr);
    return r !== undefined && testFlags(r.flags, SECTION_HAS_MEM_MAP);
  }

  /** `online_section_nr(nr)`. */
  onlineSectionNr(sectionNr: number): boolean {
    checkUnsigned('online_section_nr', 'section_nr', sectionNr);
    const r = this.table.find(sectionNr);
    return r !== undefined && testFlags(r.flags, SECTION_IS_ONLINE);
  }

  /**
   * Whether every section overlapping `[startPfn, endPfn)` is valid (has a
   * memmap), in O(runs): what a loop of `valid_section_nr()` over the
   * range's sections answers. True for an empty range.
   */
  validSectionsCover(startPfn: number, endPfn: number): boolean {
    checkUnsigned('valid_sections_cover', 'start_pfn', startPfn);
    checkUnsigned('valid_sections_cover', 'end_pfn', endPfn);
    if (!(endPfn > startPfn)) return true;
    const first = this.pfnToSectionNr(startPfn);
    const last = this.pfnToSectionNr(endPfn - 1);
    let nr = first;
    for (const r of this.table.runsIn(first, last + 1)) {
      if (r.start > nr || !testFlags(r.flags, SECTION_HAS_MEM_MAP)) return false;
      nr = r.end;
    }
    return nr > last;
  }

  /** `pfn_in_present_section(pfn)`. */
  pfnInPresentSection(pfn: number): boolean {
    checkUnsigned('pfn_in_present_section', 'pfn', pfn);
    const nr = Math.floor(pfn / this.pps);
    if (!(nr >= 0 && nr < this.layout.NR_MEM_SECTIONS)) return false;
    return this.presentSectionNr(nr);
  }

  /** `pfn_section_valid(ms, pfn)`: the pfn's subsection is set in the section's subsection map. */
  pfnSectionValid(ms: MemSection, pfn: number): boolean {
    if (typeof ms !== 'object' || ms === null) throw new KernelError('EINVAL', `pfn_section_valid: invalid mem_section ${String(ms)}`);
    checkUnsigned('pfn_section_valid', 'pfn', pfn);
    return ms.usage?.subsectionMap.test(this.subsectionMapIndex(pfn)) ?? false;
  }

  /**
   * `pfn_valid(pfn)` (include/linux/mmzone.h, v5.13): the section has a
   * memmap, and it is an early section (valid as a whole) or the pfn's
   * subsection is present.
   */
  pfnValid(pfn: number): boolean {
    checkUnsigned('pfn_valid', 'pfn', pfn);
    const nr = Math.floor(pfn / this.pps);
    if (!(nr >= 0 && nr < this.nrMemSections)) return false;
    const r = this.table.find(nr);
    if (r === undefined) return false;
    const flags = r.flags;
    if (!testFlags(flags, SECTION_HAS_MEM_MAP)) return false;
    if (testFlags(flags, SECTION_IS_EARLY)) return true;
    const usage = r.usage;
    if (usage === this.fullUsage) return true;
    return usage !== undefined && usage.subsectionMap.test(Math.floor((pfn - nr * this.pps) / this.ppss));
  }

  /** Whether any pfn of `[startPfn, endPfn)` is valid (per subsection; powerpc's `vmemmap_populated()`). */
  private anyPfnValid(startPfn: number, endPfn: number): boolean {
    for (let nr = Math.floor(startPfn / this.pps); nr * this.pps < endPfn; nr++) {
      const ms = this.table.find(nr);
      if (ms === undefined || !testFlags(ms.flags, SECTION_HAS_MEM_MAP)) continue;
      if (testFlags(ms.flags, SECTION_IS_EARLY) || ms.usage === this.fullUsage) return true;
      const first = Math.max(startPfn, nr * this.pps);
      const last = Math.min(endPfn, (nr + 1) * this.pps) - 1;
      for (let i = this.subsectionMapIndex(first); i <= this.subsectionMapIndex(last); i++) {
        if (ms.usage?.subsectionMap.test(i)) return true;
      }
    }
    return false;
  }

  /** `__highest_present_section_nr`: never lowered, as in the kernel. */
  get highestPresentSectionNr(): number {
    return this.highest;
  }

  /** How many roots (pages of `SECTIONS_PER_ROOT` sections) exist, as the kernel would have allocated them. */
  get sectionRoots(): number {
    return this.roots.size;
  }

  /** How many records the section table holds: runs of sections in one state (the host-side cost of the table). */
  get sectionRuns(): number {
    return this.table.size;
  }

  /** `for_each_present_section_nr(start, nr)`: present section numbers from `start`, ascending. */
  *presentSectionNrs(start: number = 0): Generator<number> {
    checkUnsigned('for_each_present_section_nr', 'start', start);
    for (const r of this.table.runsIn(start, Infinity)) {
      if (!testFlags(r.flags, SECTION_MARKED_PRESENT)) continue;
      for (let nr = Math.max(start, r.start); nr < r.end; nr++) yield nr;
    }
  }

  /**
   * Every section the table holds, ascending: the present ones and those
   * that are not all zero (a removed boot section keeps its usage).
   */
  *memSections(): Generator<MemSection> {
    for (const r of this.table.runsIn(0, Infinity)) {
      for (let nr = r.start; nr < r.end; nr++) yield this.slot(nr)!;
    }
  }

  // ----------------------------------------------------------- table edits

  /** `sparse_index_init(nr, nid)`: creates the section's root if needed; true when it did. */
  private sparseIndexInit(sectionNr: number): boolean {
    return this.roots.add(Math.floor(sectionNr / this.spr));
  }

  /** Drops a root created by a call that then failed. */
  private dropRoot(sectionNr: number): void {
    this.roots.delete(Math.floor(sectionNr / this.spr));
  }

  /** A working copy of the section, zeroed if absent (the kernel's zeroed slot in its root). */
  private section(sectionNr: number): Section {
    return this.slot(sectionNr) ?? new Section(sectionNr);
  }

  /** `__section_mark_present()`. */
  private markPresent(ms: Section): void {
    if (ms.sectionNr > this.highest) this.highest = ms.sectionNr;
    ms.setFlags(SECTION_MARKED_PRESENT);
  }

  private checkRange(fn: string, pfn: number, nrPages: number): void {
    if (!Number.isSafeInteger(pfn) || pfn < 0 || !Number.isSafeInteger(nrPages) || nrPages < 0) {
      throw new RangeError(`${fn}: bad range pfn ${pfn} + ${nrPages}`);
    }
    const nr = this.pfnToSectionNr(pfn);
    if (nr >= this.layout.NR_MEM_SECTIONS) {
      throw new RangeError(`${fn}: pfn ${hex(pfn)} is beyond MAX_PHYSMEM_BITS (${this.layout.MAX_PHYSMEM_BITS})`);
    }
    if (nrPages > 0 && this.pfnToSectionNr(pfn + nrPages - 1) !== nr) {
      throw new RangeError(`${fn}: pfn ${hex(pfn)} + ${nrPages} crosses a section boundary`);
    }
  }

  // -------------------------------------------------------------- boot

  /**
   * `memory_present(nid, start, end)` (mm/sparse.c): marks every section
   * overlapping `[startPfn, endPfn)` present and online, on node `nid`
   * (a section already marked keeps its node). Pfns beyond MAX_PHYSMEM_BITS
   * are ignored (`mminit_validate_memmodel_limits()`).
   */
  memoryPresent(nid: number, startPfn: number, endPfn: number): void {
    checkUnsigned('memory_present', 'nid', nid);
    checkUnsigned('memory_present', 'start', startPfn);
    checkUnsigned('memory_present', 'end', endPfn);
    if (this.tracer.enabled) return this.tracer.invoke('memory_present', this, this.memoryPresentImpl, nid, startPfn, endPfn);
    return this.memoryPresentImpl(nid, startPfn, endPfn);
  }

  private memoryPresentImpl(nid: number, startPfn: number, endPfn: number): void {
    const max = 2 ** (this.layout.MAX_PHYSMEM_BITS - this.layout.PAGE_SHIFT);
    let start = this.sectionAlignDown(startPfn);
    let end = endPfn;
    if (start > max) start = end = max;
    else if (end > max) end = max;
    for (let pfn = start; pfn < end; pfn += this.pps) {
      const nr = this.pfnToSectionNr(pfn);
      this.sparseIndexInit(nr);
      const ms = this.section(nr);
      if (ms.sectionMemMap === 0) {
        ms.nid = nid;
        ms.setFlags(SECTION_IS_ONLINE);
        this.markPresent(ms);
        this.commit(ms);
      }
    }
  }

  /** `memblocks_present()`: `memory_present()` for every memblock range. */
  memblocksPresent(memblock: SparseMemblock): void {
    if (typeof memblock !== 'object' || memblock === null || typeof memblock.memPfnRanges !== 'function') throw new KernelError('EINVAL', `memblocks_present: invalid memblock ${String(memblock)}`);
    for (const r of memblock.memPfnRanges()) this.memoryPresent(r.nid, r.startPfn, r.endPfn);
  }

  /**
   * `sparse_init()` (mm/sparse.c): marks boot memory present
   * (`memblocks_present()`), then node by node allocates one memblock buffer
   * for all present sections' memmaps (`sparse_buffer_init()`, exact node,
   * aligned to `section_map_size()`, above `__pa(MAX_DMA_ADDRESS)`) and
   * populates each section's full memmap from it, falling back to individual
   * memblock allocations when the buffer is too small or could not be had.
   * Each section becomes valid and `SECTION_IS_EARLY`. When a section's
   * memmap cannot be backed, it and the rest of its node's sections lose
   * their memory, with the kernel's error message. Call
   * {@link SparseMemory.subsectionMapInit} for each range afterwards, as
   * `free_area_init()` does; the memblock's reservations then say which
   * frames the boot memmap occupies.
   */
  sparseInit(memblock: SparseMemblock): void {
    if (typeof memblock !== 'object' || memblock === null || typeof memblock.memPfnRanges !== 'function') throw new KernelError('EINVAL', `sparse_init: invalid memblock ${String(memblock)}`);
    if (this.tracer.enabled) return this.tracer.invoke('sparse_init', this, this.sparseInitImpl, memblock);
    return this.sparseInitImpl(memblock);
  }

  private sparseInitImpl(memblock: SparseMemblock): void {
    const ranges = [...memblock.memPfnRanges()];
    this.memblocksPresent(memblock);
    this.boot = { memblock, ranges, buf: 0, bufEnd: 0, bufNid: -1 };
    this.vmemmap.setBootAllocator({
      alloc: (size, nid) => this.bootAlloc(size, nid),
      free: (pfn, size) => memblock.free(pfn * this.layout.PAGE_SIZE, size),
    });
    try {
      const present = [...this.presentSectionNrs()];
      let begin = 0;
      while (begin < present.length) {
        const nid = this.slot(present[begin]!)!.nid;
        let end = begin + 1;
        while (end < present.length && this.slot(present[end]!)!.nid === nid) end++;
        this.sparseInitNid(nid, present.slice(begin, end));
        begin = end;
      }
    } finally {
      this.vmemmap.setBootAllocator(undefined);
      this.boot = undefined;
    }
  }

  /** `sparse_init_nid()`: the memmaps of one node's run of present sections. */
  private sparseInitNid(nid: number, sections: number[]): void {
    this.sparseBufferInit(sections.length * this.layout.SECTION_MAP_SIZE, nid);
    for (let k = 0; k < sections.length; k++) {
      const nr = sections[k]!;
      const pfn = this.sectionNrToPfn(nr);
      if (!this.vmemmap.populate(pfn, this.pps, nid, undefined)) {
        this.log.err(`sparse_init_nid: node[${nid}] memory map backing failed. Some memory will not be available.`);
        this.sparseBufferFini();
        for (const rest of sections.slice(k)) {
          const ms = this.slot(rest)!;
          ms.sectionMemMap = 0;
          this.commit(ms);
        }
        return;
      }
      const ms = this.slot(nr)!;
      // sparse_init_one_section(ms, pnum, map, usage, SECTION_IS_EARLY)
      ms.usage = this.emptyEarlyUsage;
      ms.setFlags(SECTION_HAS_MEM_MAP);
      ms.setFlags(SECTION_IS_EARLY);
      this.commit(ms);
      this.store?.initSection(nr);
    }
    this.sparseBufferFini();
  }

  /** `sparse_buffer_init(size, nid)`. */
  private sparseBufferInit(size: number, nid: number): void {
    const b = this.boot!;
    const addr = b.memblock.allocRaw(size, this.layout.SECTION_MAP_SIZE, this.arch.maxDmaAddress, nid, true);
    if (addr === undefined) {
      b.buf = b.bufEnd = 0;
      return;
    }
    b.buf = addr;
    b.bufEnd = addr + size;
    b.bufNid = nid;
  }

  /** `sparse_buffer_fini()`: gives back what the buffer did not hand out. */
  private sparseBufferFini(): void {
    const b = this.boot!;
    if (b.bufEnd > b.buf) b.memblock.free(b.buf, b.bufEnd - b.buf);
    b.buf = b.bufEnd = 0;
  }

  /** `sparse_buffer_alloc()`, then `vmemmap_alloc_block()` before slab: `__earlyonly_bootmem_alloc()`. */
  private bootAlloc(size: number, nid: number): { pfn: number; nid: number } | undefined {
    const b = this.boot!;
    const S = this.layout.PAGE_SIZE;
    if (b.bufEnd > b.buf) {
      const ptr = Math.ceil(b.buf / size) * size;
      if (ptr + size <= b.bufEnd) {
        if (ptr > b.buf) b.memblock.free(b.buf, ptr - b.buf); // free redundant aligned space
        b.buf = ptr + size;
        return { pfn: ptr / S, nid: b.bufNid };
      }
    }
    const addr = b.memblock.allocRaw(size, size, this.arch.maxDmaAddress, nid, false);
    if (addr === undefined) return undefined;
    const pfn = addr / S;
    const r = b.ranges.find((x) => pfn >= x.startPfn && pfn < x.endPfn);
    return { pfn, nid: r?.nid ?? nid };
  }

  /**
   * `subsection_map_init(pfn, nr_pages)`: sets the subsections a boot
   * memory range covers in the sections it spans (after
   * {@link SparseMemory.sparseInit}; sections without a usage are skipped).
   */
  subsectionMapInit(pfn: number, nrPages: number): void {
    checkUnsigned('subsection_map_init', 'pfn', pfn);
    checkUnsigned('subsection_map_init', 'nr_pages', nrPages);
    if (this.tracer.enabled) return this.tracer.invoke('subsection_map_init', this, this.subsectionMapInitImpl, pfn, nrPages);
    return this.subsectionMapInitImpl(pfn, nrPages);
  }

  private subsectionMapInitImpl(pfn: number, nrPages: number): void {
    let p = pfn;
    let left = nrPages;
    while (left > 0) {
      const pfns = Math.min(left, this.pps - (p % this.pps));
      const ms = this.slot(this.pfnToSectionNr(p));
      const u = ms?.usage;
      if (ms !== undefined && u !== undefined && u !== this.fullUsage && u !== this.fullEarlyUsage) {
        const mask = this.subsectionMask(p, pfns);
        if (u === this.emptyEarlyUsage) ms.usage = mask === this.fullMask ? this.fullEarlyUsage : this.ownUsage(u);
        if (ms.usage !== this.fullEarlyUsage) ms.usage!.subsectionMap.or(mask);
        this.commit(ms);
      }
      p += pfns;
      left -= pfns;
    }
  }

  /** `subsection_mask_set(map, pfn, nr_pages)`: the subsections `[pfn, pfn + nr)` touches. */
  private subsectionMask(pfn: number, nrPages: number): Bitmap {
    // A whole section: the shared mask, which callers only read.
    if (nrPages === this.pps && pfn % this.pps === 0) return this.fullMask;
    const map = new Bitmap(this.layout.SUBSECTIONS_PER_SECTION);
    if (nrPages <= 0) return map;
    const idx = this.subsectionMapIndex(pfn);
    const end = this.subsectionMapIndex(pfn + nrPages - 1);
    map.setRange(idx, end - idx + 1);
    return map;
  }

  // -------------------------------------------------------------- hotplug

  /**
   * `sparse_add_section(nid, start_pfn, nr_pages, altmap)` (mm/sparse.c):
   * adds `[startPfn, startPfn + nrPages)`, which must lie inside one
   * section, populating its memmap on node `nid` — from the altmap when one
   * is given — and marking the section present and valid.
   *
   * Errors, each leaving every section, the vmemmap, the page allocator and
   * the altmap exactly as they were:
   * - -EINVAL: the range covers no subsection (`fill_subsection_map()`);
   * - -EEXIST: a subsection of the range is already present;
   * - -ENOMEM: the memmap could not be backed (RAM or altmap exhausted), the
   *   range is not subsection-aligned (`__populate_section_memmap()`'s
   *   warning), or the host heap is past the {@link HostMemoryGuard}'s mark.
   *
   * A range smaller than a section inside an early section reuses the boot
   * memmap, which is complete. Throws a RangeError for a range that crosses
   * a section boundary or lies beyond MAX_PHYSMEM_BITS (the kernel's
   * callers never pass one).
   */
  sparseAddSection(nid: number, startPfn: number, nrPages: number, altmap?: VmemAltmap): void {
    checkUnsigned('sparse_add_section', 'nid', nid);
    if (altmap !== undefined && (typeof altmap !== 'object' || altmap === null)) throw new KernelError('EINVAL', `sparse_add_section: invalid altmap ${String(altmap)}`);
    if (this.tracer.enabled) return this.sparseAddSectionTraced(nid, startPfn, nrPages, altmap);
    return this.sparseAddSectionImpl(nid, startPfn, nrPages, altmap);
  }

  /**
   * The traced path of {@link SparseMemory.sparseAddSection}: the trace shows
   * the altmap as a record, so this needs a closure; it lives here so that
   * the untraced path allocates none.
   */
  private sparseAddSectionTraced(nid: number, startPfn: number, nrPages: number, altmap: VmemAltmap | undefined): void {
    this.tracer.call('sparse_add_section', [nid, startPfn, nrPages, traceAltmap(altmap)], () =>
      this.sparseAddSectionImpl(nid, startPfn, nrPages, altmap),
    );
  }

  private sparseAddSectionImpl(nid: number, startPfn: number, nrPages: number, altmap: VmemAltmap | undefined): void {
    this.checkRange('sparse_add_section', startPfn, nrPages);
    if (this.hostMemory.refuse()) {
      throw new KernelError('ENOMEM', `sparse_add_section: out of host memory for pfn ${hex(startPfn)} + ${nrPages}`);
    }
    const sectionNr = this.pfnToSectionNr(startPfn);
    const rootCreated = this.sparseIndexInit(sectionNr);
    const ms = this.section(sectionNr);
    const hadMemmap = validSection(ms);
    try {
      this.sectionActivate(ms, nid, startPfn, nrPages, altmap);
    } catch (e) {
      // The working copy is dropped: the table never saw the change.
      if (rootCreated) this.dropRoot(sectionNr);
      throw e;
    }
    // page_init_poison(): the section's struct pages are fresh.
    if (!hadMemmap) this.store?.initSection(sectionNr);
    ms.nid = nid; // set_section_nid()
    this.markPresent(ms);
    // sparse_init_one_section(ms, section_nr, memmap, ms->usage, 0)
    ms.setFlags(SECTION_HAS_MEM_MAP);
    this.commit(ms);
  }

  /**
   * The loop of `__add_pages()` (mm/memory_hotplug.c) over whole sections —
   * `sparse_add_section(nid, pfn, PAGES_PER_SECTION, altmap)` for each
   * section of `[startPfn, startPfn + nrPages)`, ascending — in one step
   * where the sections are uniform: none of them exists yet and the altmap
   * holds the memmap of all (x86_64, untraced). The result is the one the
   * loop gives: the same sections, vmemmap frames, altmap counters, roots and
   * `__highest_present_section_nr`, the store told of each section; only the
   * bookkeeping is one record instead of one per section.
   *
   * Returns false, changing nothing, when the range does not qualify (the
   * caller then loops). Throws -ENOMEM like the loop when the
   * {@link HostMemoryGuard} refuses section k, having left what the loop and
   * its caller's unwinding leave: no section, but the roots and the highest
   * section number of sections 0..k-1.
   */
  sparseAddSections(nid: number, startPfn: number, nrPages: number, altmap: VmemAltmap | undefined): boolean {
    checkUnsigned('sparse_add_section', 'nid', nid);
    checkUnsigned('sparse_add_section', 'start_pfn', startPfn);
    checkUnsigned('sparse_add_section', 'nr_pages', nrPages);
    if (altmap !== undefined && (typeof altmap !== 'object' || altmap === null)) throw new KernelError('EINVAL', `sparse_add_section: invalid altmap ${String(altmap)}`);
    if (altmap === undefined || this.tracer.enabled) return false;
    if (!Number.isSafeInteger(startPfn) || startPfn < 0 || !Number.isSafeInteger(nrPages) || nrPages < 2 * this.pps) return false;
    if (startPfn % this.pps !== 0 || nrPages % this.pps !== 0) return false;
    const first = startPfn / this.pps;
    const n = nrPages / this.pps;
    if (first + n > this.nrMemSections) return false;
    if (this.table.runsIn(first, first + n).length > 0) return false;
    if (!this.vmemmap.altmapRunFits(startPfn, nrPages, altmap)) return false;
    // The struct pages come first: they are what the host heap pays for.
    const store = this.store;
    // Sections [first, first + told) are in the store; a store that takes
    // many at once is told in chunks, between which the guard is asked.
    let told = 0;
    for (let k = 0; k < n; k++) {
      let refused = this.hostMemory.refuse();
      if (!refused && store !== undefined) {
        const chunkEnd = store.initSections === undefined ? true : (k + 1) % BULK_CHUNK === 0 || k === n - 1;
        try {
          if (store.initSections === undefined) store.initSection(first + k);
          else if (chunkEnd) store.initSections(first + told, k + 1 - told);
          if (chunkEnd) told = k + 1;
        } catch (e) {
          // A store that cannot hold one more section (a host limit such as
          // a full Map) is the host out of memory, as the guard's refusal is.
          if (e instanceof KernelError) throw this.unwindBulkAdd(first, told, k, e);
          refused = true;
        }
      }
      if (!refused) continue;
      throw this.unwindBulkAdd(first, told, k, new KernelError('ENOMEM', `sparse_add_section: out of host memory for pfn ${hex(startPfn + k * this.pps)} + ${this.pps}`));
    }
    this.vmemmap.populateAltmapRun(startPfn, nrPages, nid, altmap);
    this.noteSections(first, first + n);
    this.table.set(first, first + n, SECTION_MARKED_PRESENT + SECTION_HAS_MEM_MAP, nid, this.fullUsage);
    return true;
  }

  /**
   * The bulk form of {@link SparseMemory.sparseRemoveSection} for whole,
   * uniform hot-added sections (`__remove_pages()` over a device range):
   * when every section of `[pfn, pfn + nrPages)` is valid, not early and
   * complete, removes them all as the loop of `sparse_remove_section()`
   * would — the same frames back to the same places — with the same checks
   * first (-EINVAL, changing nothing). Returns false, changing nothing, when
   * the range does not qualify (the caller then loops). Untraced calls only.
   */
  sparseRemoveSections(pfn: number, nrPages: number, altmap: VmemAltmap | undefined): boolean {
    checkUnsigned('sparse_remove_section', 'pfn', pfn);
    checkUnsigned('sparse_remove_section', 'nr_pages', nrPages);
    if (altmap !== undefined && (typeof altmap !== 'object' || altmap === null)) throw new KernelError('EINVAL', `sparse_remove_section: invalid altmap ${String(altmap)}`);
    if (this.tracer.enabled) return false;
    if (!Number.isSafeInteger(pfn) || pfn < 0 || !Number.isSafeInteger(nrPages) || nrPages < 2 * this.pps) return false;
    if (pfn % this.pps !== 0 || nrPages % this.pps !== 0) return false;
    const first = pfn / this.pps;
    const n = nrPages / this.pps;
    let covered = 0;
    for (const r of this.table.runsIn(first, first + n)) {
      if (r.usage !== this.fullUsage || !testFlags(r.flags, SECTION_HAS_MEM_MAP) || testFlags(r.flags, SECTION_IS_EARLY)) return false;
      covered += Math.min(r.end, first + n) - Math.max(r.start, first);
    }
    if (covered !== n) return false;
    this.vmemmap.checkFree(pfn, nrPages, altmap);
    this.table.set(first, first + n, 0, 0, undefined);
    this.vmemmap.free(pfn, nrPages, altmap);
    this.storeDropSections(first, n, false);
    return true;
  }

  /**
   * The failure of section `first + k` in {@link SparseMemory.sparseAddSections}:
   * the store forgets the `told` sections it was told of, and the roots and
   * highest section number stay as the loop would leave them. Returns `err`.
   */
  private unwindBulkAdd(first: number, told: number, k: number, err: KernelError): KernelError {
    this.storeDropSections(first, told, true);
    if (k > 0) this.noteSections(first, first + k);
    return err;
  }

  /** Tells the store that sections `[first, first + n)` lost their memmap (one by one: ascending, or the last first when unwinding). */
  private storeDropSections(first: number, n: number, lastFirst: boolean): void {
    const store = this.store;
    if (store === undefined || n === 0) return;
    if (store.dropSections !== undefined) store.dropSections(first, n);
    else if (lastFirst) for (let i = n - 1; i >= 0; i--) store.dropSection(first + i);
    else for (let i = 0; i < n; i++) store.dropSection(first + i);
  }

  /** The roots and `__highest_present_section_nr` of sections `[a, b)` being added. */
  private noteSections(a: number, b: number): void {
    this.roots.addRange(Math.floor(a / this.spr), Math.floor((b - 1) / this.spr) + 1);
    if (b - 1 > this.highest) this.highest = b - 1;
  }

  /**
   * `section_activate()`: usage, subsection map and memmap of a range.
   * Throws, having undone its own changes.
   */
  private sectionActivate(ms: Section, nid: number, pfn: number, nrPages: number, altmap: VmemAltmap | undefined): void {
    let usageCreated = false;
    const mask = this.subsectionMask(pfn, nrPages);
    if (ms.usage === undefined && mask === this.fullMask) {
      // A new usage filled with every subsection: the shared full one.
      ms.usage = this.fullUsage;
      usageCreated = true;
      if (this.tracer.enabled) this.tracer.call('fill_subsection_map', [pfn, nrPages], () => 0);
    } else {
      if (ms.usage === undefined) {
        ms.usage = new Usage(this.layout.SUBSECTIONS_PER_SECTION, false);
        usageCreated = true;
      } else if (this.isSharedUsage(ms.usage)) {
        // A shared usage is never written: the section gets its own (the
        // working copy is dropped if this fails).
        ms.usage = this.ownUsage(ms.usage);
      }
      try {
        this.fillSubsectionMap(ms, mask, pfn, nrPages);
      } catch (e) {
        if (usageCreated) ms.usage = undefined;
        throw e;
      }
    }
    // An early section's memmap is complete: a partial hot-add reuses it.
    if (nrPages < this.pps && earlySection(ms)) return;
    const aligned = isAligned(pfn, this.ppss) && isAligned(nrPages, this.ppss);
    const snapshot = altmap === undefined ? undefined : { alloc: altmap.alloc, align: altmap.align };
    if (!aligned || !this.vmemmap.populate(pfn, nrPages, nid, altmap)) {
      // section_deactivate() in the kernel; here: undo exactly.
      if (usageCreated) ms.usage = undefined;
      else ms.usage.subsectionMap.clear(mask);
      if (altmap !== undefined && snapshot !== undefined) {
        altmap.alloc = snapshot.alloc;
        altmap.align = snapshot.align;
      }
      throw new KernelError('ENOMEM', `sparse_add_section: cannot populate the memmap of pfn ${hex(pfn)} + ${nrPages}`);
    }
  }

  /** `fill_subsection_map()`: -EINVAL for an empty mask, -EEXIST when a subsection is already present. */
  private fillSubsectionMap(ms: Section, mask: Bitmap, pfn: number, nrPages: number): void {
    if (this.tracer.enabled) this.fillSubsectionMapTraced(ms, mask, pfn, nrPages);
    else fillSubsectionMapImpl(ms, mask);
  }

  /**
   * The traced path of {@link SparseMemory.fillSubsectionMap}: the trace
   * shows `(pfn, nr_pages)`, so this needs a closure; it lives here so that
   * the untraced path allocates none.
   */
  private fillSubsectionMapTraced(ms: Section, mask: Bitmap, pfn: number, nrPages: number): void {
    this.tracer.call('fill_subsection_map', [pfn, nrPages], () => fillSubsectionMapImpl(ms, mask));
  }

  /**
   * `sparse_remove_section(ms, pfn, nr_pages, map_offset, altmap)` →
   * `section_deactivate()` (mm/sparse.c): removes the subsections of
   * `[pfn, pfn + nrPages)` (inside one section) and frees their memmap —
   * through `vmem_altmap_free()` on `altmap` for blocks that came from an
   * altmap. When the last subsection goes, the section loses its memmap and
   * flags, and a hot-added section its usage. An early section keeps its
   * boot memmap until its last subsection goes, and then frees all of it.
   *
   * `mapOffset` (pfns at the start whose struct pages back the memmap
   * itself, as `__remove_pages()` computes) only matters for hwpoison
   * accounting, which is not modelled.
   *
   * Errors, changing nothing: -EINVAL "section already deactivated" when a
   * subsection of the range is not present; -EINVAL when struct pages of the
   * range live in an altmap and none (or one with too little allocated) is
   * given.
   */
  sparseRemoveSection(pfn: number, nrPages: number, mapOffset: number = 0, altmap?: VmemAltmap): void {
    checkUnsigned('sparse_remove_section', 'map_offset', mapOffset);
    if (altmap !== undefined && (typeof altmap !== 'object' || altmap === null)) throw new KernelError('EINVAL', `sparse_remove_section: invalid altmap ${String(altmap)}`);
    if (this.tracer.enabled) return this.sparseRemoveSectionTraced(pfn, nrPages, mapOffset, altmap);
    return this.sparseRemoveSectionImpl(pfn, nrPages, mapOffset, altmap);
  }

  /**
   * The traced path of {@link SparseMemory.sparseRemoveSection}: the trace
   * shows the altmap as a record, so this needs a closure; it lives here so
   * that the untraced path allocates none.
   */
  private sparseRemoveSectionTraced(pfn: number, nrPages: number, mapOffset: number, altmap: VmemAltmap | undefined): void {
    this.tracer.call('sparse_remove_section', [pfn, nrPages, mapOffset, traceAltmap(altmap)], () =>
      this.sparseRemoveSectionImpl(pfn, nrPages, mapOffset, altmap),
    );
  }

  private sparseRemoveSectionImpl(pfn: number, nrPages: number, _mapOffset: number, altmap: VmemAltmap | undefined): void {
    this.checkRange('sparse_remove_section', pfn, nrPages);
    const sectionNr = this.pfnToSectionNr(pfn);
    const ms = this.slot(sectionNr);
    // clear_subsection_map(): the range must be present.
    const mask = this.subsectionMask(pfn, nrPages);
    const usage = ms?.usage;
    if (ms === undefined || usage === undefined || !mask.isSubsetOf(usage.subsectionMap)) {
      throw new KernelError('EINVAL', `section already deactivated (${hex(pfn)} + ${nrPages})`);
    }
    const isEarly = earlySection(ms);
    if (!isEarly) this.vmemmap.checkFree(pfn, nrPages, altmap);
    this.sectionDeactivate(ms, usage, mask, pfn, nrPages, isEarly, altmap);
  }

  /** `section_deactivate()`, after its checks passed. */
  private sectionDeactivate(
    ms: Section,
    usage: Usage,
    mask: Bitmap,
    pfn: number,
    nrPages: number,
    isEarly: boolean,
    altmap: VmemAltmap | undefined,
  ): void {
    if (this.tracer.enabled) this.sectionDeactivateTraced(ms, usage, mask, pfn, nrPages, isEarly, altmap);
    else this.sectionDeactivateImpl(ms, usage, mask, pfn, nrPages, isEarly, altmap);
  }

  /**
   * The traced path of {@link SparseMemory.sectionDeactivate}: the trace
   * shows `(pfn, nr_pages, altmap)`, so this needs a closure; it lives here
   * so that the untraced path allocates none.
   */
  private sectionDeactivateTraced(
    ms: Section,
    usage: Usage,
    mask: Bitmap,
    pfn: number,
    nrPages: number,
    isEarly: boolean,
    altmap: VmemAltmap | undefined,
  ): void {
    this.tracer.call('section_deactivate', [pfn, nrPages, traceAltmap(altmap)], () =>
      this.sectionDeactivateImpl(ms, usage, mask, pfn, nrPages, isEarly, altmap),
    );
  }

  private sectionDeactivateImpl(
    ms: Section,
    usage: Usage,
    mask: Bitmap,
    pfn: number,
    nrPages: number,
    isEarly: boolean,
    altmap: VmemAltmap | undefined,
  ): void {
    let empty: boolean;
    if (usage === this.fullUsage && mask === this.fullMask) {
      // The shared full usage, all of it going: nothing to copy.
      empty = true;
    } else {
      // A shared usage is never written: the section gets its own copy first.
      const map = this.isSharedUsage(usage) ? this.ownUsage(usage) : usage;
      ms.usage = map;
      map.subsectionMap.clear(mask);
      empty = map.subsectionMap.isEmpty();
    }
    if (empty) {
      // A boot usage shares its page with its neighbours': it stays, to be
      // reused when the section is re-added (no longer early then).
      if (!usage.early) ms.usage = undefined;
      ms.clearFlags(SECTION_HAS_MEM_MAP);
    }
    // The vmemmap teardown asks pfn_valid() (powerpc): it sees the new map.
    this.commit(ms);
    if (!isEarly) this.vmemmap.free(pfn, nrPages, altmap);
    else if (empty) this.vmemmap.free(this.sectionNrToPfn(ms.sectionNr), this.pps, undefined); // free_map_bootmem()
    if (empty) {
      this.store?.dropSection(ms.sectionNr);
      ms.sectionMemMap = 0;
      this.commit(ms);
    }
  }

  /**
   * `online_mem_sections(start_pfn, end_pfn)`: marks the sections of the
   * range online. Invalid sections are skipped (the kernel warns).
   */
  onlineMemSections(startPfn: number, endPfn: number): void {
    checkUnsigned('online_mem_sections', 'start_pfn', startPfn);
    checkUnsigned('online_mem_sections', 'end_pfn', endPfn);
    if (this.tracer.enabled) return this.tracer.invoke('online_mem_sections', this, this.onlineSectionsImpl, startPfn, endPfn);
    return this.markSections(startPfn, endPfn, true);
  }

  private onlineSectionsImpl(startPfn: number, endPfn: number): void {
    this.markSections(startPfn, endPfn, true);
  }

  /** `offline_mem_sections(start_pfn, end_pfn)`: clears the online mark. */
  offlineMemSections(startPfn: number, endPfn: number): void {
    checkUnsigned('offline_mem_sections', 'start_pfn', startPfn);
    checkUnsigned('offline_mem_sections', 'end_pfn', endPfn);
    if (this.tracer.enabled) return this.tracer.invoke('offline_mem_sections', this, this.offlineSectionsImpl, startPfn, endPfn);
    return this.markSections(startPfn, endPfn, false);
  }

  private offlineSectionsImpl(startPfn: number, endPfn: number): void {
    this.markSections(startPfn, endPfn, false);
  }

  private markSections(startPfn: number, endPfn: number, online: boolean): void {
    if (!(endPfn > startPfn)) return;
    const first = this.pfnToSectionNr(startPfn);
    // The sections the kernel's loop visits: one per step of PAGES_PER_SECTION from startPfn.
    const last = this.pfnToSectionNr(startPfn + Math.ceil((endPfn - startPfn) / this.pps - 1) * this.pps);
    // Run by run: a run is uniform, so it changes as a whole.
    for (const r of this.table.runsIn(first, last + 1)) {
      if (!testFlags(r.flags, SECTION_HAS_MEM_MAP)) continue; // WARN_ON(!valid_section_nr(section_nr))
      const flags = changeFlags(r.flags, SECTION_IS_ONLINE, online);
      if (flags === r.flags) continue;
      this.table.set(Math.max(first, r.start), Math.min(last + 1, r.end), flags, r.nid, r.usage);
    }
  }

  /**
   * `section_taint_zone_device(pfn)` (mm/memory_hotplug.c, v5.12+): marks
   * the pfn's section as holding ZONE_DEVICE pages, so that
   * `pfn_to_online_page()` knows an online section may contain offline
   * device pages. Never cleared, as in the kernel. Does nothing for a
   * section that does not exist.
   */
  sectionTaintZoneDevice(pfn: number): void {
    checkUnsigned('section_taint_zone_device', 'pfn', pfn);
    const ms = this.slot(this.pfnToSectionNr(pfn));
    if (ms === undefined) return;
    ms.setFlags(SECTION_TAINT_ZONE_DEVICE);
    this.commit(ms);
  }

  // ------------------------------------- checks offered to memory hotplug

  /**
   * `check_pfn_span(pfn, nr_pages, reason)` (mm/memory_hotplug.c): with
   * SPARSEMEM_VMEMMAP, hot(un)plug works in whole subsections. Throws
   * -EINVAL with the kernel's warning text ("Misaligned __add_pages start:
   * 0x... end: #..." — v5.13 prints the end with a stray `#`) otherwise.
   */
  checkPfnSpan(pfn: number, nrPages: number, reason: string): void {
    checkUnsigned('check_pfn_span', 'pfn', pfn);
    checkUnsigned('check_pfn_span', 'nr_pages', nrPages);
    if (typeof reason !== 'string') throw new KernelError('EINVAL', `check_pfn_span: invalid reason ${String(reason)}`);
    if (!isAligned(pfn, this.ppss) || !isAligned(nrPages, this.ppss)) {
      throw new KernelError(
        'EINVAL',
        `Misaligned __${reason}_pages start: ${hex(pfn)} end: #${(pfn + nrPages - 1).toString(16)}`,
      );
    }
  }

  /**
   * The altmap check at the top of `__add_pages()` (mm/memory_hotplug.c):
   * the altmap must start at the range (`base_pfn == pfn`) and its
   * `vmem_altmap_offset()` must fit in it; else -EINVAL "memory add fail,
   * invalid altmap" (the kernel's pr_warn_once). `__add_pages()` then sets
   * `altmap.alloc = 0`.
   */
  checkAddPagesAltmap(pfn: number, nrPages: number, altmap: VmemAltmap): void {
    checkUnsigned('__add_pages', 'pfn', pfn);
    checkUnsigned('__add_pages', 'nr_pages', nrPages);
    if (typeof altmap !== 'object' || altmap === null) throw new KernelError('EINVAL', `__add_pages: invalid altmap ${String(altmap)}`);
    if (altmap.basePfn !== pfn || vmemAltmapOffset(altmap) > nrPages) {
      throw new KernelError('EINVAL', 'memory add fail, invalid altmap');
    }
  }

  // ------------------------------------------------------------ accounting

  /** The memmap of a section: bytes backed, where, at which page size (e.g. 2 MiB in one x86 PMD from node 0's RAM). */
  memmapOfSection(sectionNr: number): MemmapAccount {
    checkUnsigned('memmap_of_section', 'section_nr', sectionNr);
    return this.memmapOfRange(this.sectionNrToPfn(sectionNr), this.pps);
  }

  /** The memmap of any pfn range, summed over the vmemmap blocks that back it. */
  memmapOfRange(startPfn: number, nrPages: number): MemmapAccount {
    checkPhysRange('memmap_of_range', startPfn, nrPages);
    const { bytes, placements } = this.vmemmap.placements(startPfn, nrPages);
    return { startPfn, nrPages, bytes, placements };
  }

  /** Every vmemmap block (mapping and its frames), ascending by address. */
  vmemmapBlocks(): VmemmapBlock[] {
    return this.vmemmap.allBlocks();
  }

  /**
   * How many records the vmemmap bookkeeping holds: runs of full PMDs with
   * consecutive frames, single blocks and page tables (the host-side cost;
   * {@link SparseMemory.vmemmapBlocks} lists every block all the same).
   */
  get vmemmapRecords(): number {
    return this.vmemmap.records;
  }

  /** Totals of the frames the whole vmemmap occupies, by node and altmap. */
  vmemmapTotals(): VmemmapTotals {
    return this.vmemmap.totals();
  }
}
