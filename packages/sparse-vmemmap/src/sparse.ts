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
 * freed (as in the kernel), and a section that is all zero is not stored, so
 * an absent section costs no host memory.
 */
import type { Kernel, Printk, Tracer } from '@zonedev/kernel';
import { KernelError, isAligned } from '@zonedev/kernel';
import type { VmemAltmap } from './altmap.js';
import { traceAltmap, vmemAltmapOffset } from './altmap.js';
import { Bitmap } from './bitmap.js';
import { HostMemoryGuard } from './host-memory.js';
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
  private readonly roots = new Map<number, (Section | undefined)[]>();
  private readonly rootKeys: number[] = [];
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
  private cachedRoot = -1;
  private cachedArr: (Section | undefined)[] | undefined = undefined;
  /**
   * The mask of a whole section, and the one usage every hot-added section
   * with all its subsections present shares: a run of full sections costs
   * no usage or mask of its own. The shared usage is never written; a
   * section that loses some subsections gets a copy first.
   */
  private readonly fullMask: Bitmap;
  private readonly fullUsage: Usage;

  constructor(options: SparseMemoryOptions) {
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
    return Math.floor(pfn / this.pps);
  }

  /** `section_nr_to_pfn(nr)`: the first pfn of a section. */
  sectionNrToPfn(sectionNr: number): number {
    return sectionNr * this.pps;
  }

  /** `SECTION_ALIGN_UP(pfn)`. */
  sectionAlignUp(pfn: number): number {
    return Math.ceil(pfn / this.pps) * this.pps;
  }

  /** `SECTION_ALIGN_DOWN(pfn)`. */
  sectionAlignDown(pfn: number): number {
    return Math.floor(pfn / this.pps) * this.pps;
  }

  /** `subsection_map_index(pfn)`: which subsection of its section a pfn is in. */
  subsectionMapIndex(pfn: number): number {
    return Math.floor((pfn % this.pps) / this.ppss);
  }

  /** `pfn_to_page(pfn)`: the struct page's virtual address, `VMEMMAP_START + pfn * 64` (no validity check, as in the kernel). */
  pfnToPage(pfn: number): bigint {
    return this.layout.VMEMMAP_START + BigInt(pfn) * 64n;
  }

  /** `page_to_pfn(page)`: the inverse of {@link SparseMemory.pfnToPage}. Throws a RangeError for an address that is not a struct page's. */
  pageToPfn(page: bigint): number {
    const off = page - this.layout.VMEMMAP_START;
    if (off < 0n || off % 64n !== 0n) throw new RangeError(`0x${page.toString(16)} is not a struct page address`);
    return Number(off / 64n);
  }

  // ---------------------------------------------------------------- lookup

  private slot(sectionNr: number): Section | undefined {
    return this.roots.get(Math.floor(sectionNr / this.spr))?.[sectionNr % this.spr];
  }

  /** `__nr_to_section(nr)`: the section, or `undefined` when its root does not exist or it is all zero. */
  nrToSection(sectionNr: number): MemSection | undefined {
    return this.slot(sectionNr);
  }

  /** `__pfn_to_section(pfn)`. */
  pfnToSection(pfn: number): MemSection | undefined {
    return this.slot(Math.floor(pfn / this.pps));
  }

  /** `present_section_nr(nr)`. */
  presentSectionNr(sectionNr: number): boolean {
    const ms = this.slot(sectionNr);
    return ms !== undefined && testFlags(ms.sectionMemMap, SECTION_MARKED_PRESENT);
  }

  /** `valid_section_nr(nr)`. */
  validSectionNr(sectionNr: number): boolean {
    return validSection(this.slot(sectionNr));
  }

  /** `online_section_nr(nr)`. */
  onlineSectionNr(sectionNr: number): boolean {
    const ms = this.slot(sectionNr);
    return ms !== undefined && testFlags(ms.sectionMemMap, SECTION_IS_ONLINE);
  }

  /** `pfn_in_present_section(pfn)`. */
  pfnInPresentSection(pfn: number): boolean {
    const nr = Math.floor(pfn / this.pps);
    if (!(nr >= 0 && nr < this.layout.NR_MEM_SECTIONS)) return false;
    return this.presentSectionNr(nr);
  }

  /** `pfn_section_valid(ms, pfn)`: the pfn's subsection is set in the section's subsection map. */
  pfnSectionValid(ms: MemSection, pfn: number): boolean {
    return ms.usage?.subsectionMap.test(this.subsectionMapIndex(pfn)) ?? false;
  }

  /**
   * `pfn_valid(pfn)` (include/linux/mmzone.h, v5.13): the section has a
   * memmap, and it is an early section (valid as a whole) or the pfn's
   * subsection is present.
   */
  pfnValid(pfn: number): boolean {
    const nr = Math.floor(pfn / this.pps);
    if (!(nr >= 0 && nr < this.nrMemSections)) return false;
    const root = Math.floor(nr / this.spr);
    const arr = root === this.cachedRoot ? this.cachedArr : this.lookupRoot(root);
    const ms = arr?.[nr - root * this.spr];
    if (ms === undefined) return false;
    const flags = ms.sectionMemMap;
    if (!testFlags(flags, SECTION_HAS_MEM_MAP)) return false;
    if (testFlags(flags, SECTION_IS_EARLY)) return true;
    return ms.usage !== undefined && ms.usage.subsectionMap.test(Math.floor((pfn - nr * this.pps) / this.ppss));
  }

  /** A root, remembered for the next lookup (`pfn_valid()` is called on neighbouring pfns). */
  private lookupRoot(root: number): (Section | undefined)[] | undefined {
    const arr = this.roots.get(root);
    if (arr !== undefined) {
      this.cachedRoot = root;
      this.cachedArr = arr;
    }
    return arr;
  }

  /** Whether any pfn of `[startPfn, endPfn)` is valid (per subsection; powerpc's `vmemmap_populated()`). */
  private anyPfnValid(startPfn: number, endPfn: number): boolean {
    for (let nr = Math.floor(startPfn / this.pps); nr * this.pps < endPfn; nr++) {
      const ms = this.slot(nr);
      if (ms === undefined || !testFlags(ms.sectionMemMap, SECTION_HAS_MEM_MAP)) continue;
      if (testFlags(ms.sectionMemMap, SECTION_IS_EARLY)) return true;
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

  /** How many roots (pages of `SECTIONS_PER_ROOT` sections) exist: the host-side cost of the table. */
  get sectionRoots(): number {
    return this.roots.size;
  }

  /** `for_each_present_section_nr(start, nr)`: present section numbers from `start`, ascending. */
  *presentSectionNrs(start: number = 0): Generator<number> {
    for (const root of this.rootKeys) {
      const arr = this.roots.get(root)!;
      for (let i = 0; i < this.spr; i++) {
        const nr = root * this.spr + i;
        if (nr < start) continue;
        const ms = arr[i];
        if (ms !== undefined && testFlags(ms.sectionMemMap, SECTION_MARKED_PRESENT)) yield nr;
      }
    }
  }

  /**
   * Every section the table holds, ascending: the present ones and those
   * that are not all zero (a removed boot section keeps its usage).
   */
  *memSections(): Generator<MemSection> {
    for (const root of this.rootKeys) {
      const arr = this.roots.get(root)!;
      for (let i = 0; i < this.spr; i++) {
        const ms = arr[i];
        if (ms !== undefined) yield ms;
      }
    }
  }

  // ----------------------------------------------------------- table edits

  /** `sparse_index_init(nr, nid)`: creates the section's root if needed; true when it did. */
  private sparseIndexInit(sectionNr: number): boolean {
    const root = Math.floor(sectionNr / this.spr);
    if (this.roots.has(root)) return false;
    this.roots.set(root, new Array<Section | undefined>(this.spr));
    let i = this.rootKeys.length;
    while (i > 0 && this.rootKeys[i - 1]! > root) i--;
    this.rootKeys.splice(i, 0, root);
    return true;
  }

  /** Drops a root created by a call that then failed. */
  private dropRoot(sectionNr: number): void {
    const root = Math.floor(sectionNr / this.spr);
    this.roots.delete(root);
    if (this.cachedRoot === root) {
      this.cachedRoot = -1;
      this.cachedArr = undefined;
    }
    const i = this.rootKeys.indexOf(root);
    if (i >= 0) this.rootKeys.splice(i, 1);
  }

  /** The section object, created zeroed if absent (the kernel's zeroed slot in its root). */
  private section(sectionNr: number): { ms: Section; created: boolean } {
    const arr = this.roots.get(Math.floor(sectionNr / this.spr))!;
    const i = sectionNr % this.spr;
    const ms = arr[i];
    if (ms !== undefined) return { ms, created: false };
    const fresh = new Section(sectionNr);
    arr[i] = fresh;
    return { ms: fresh, created: true };
  }

  /** Forgets a section that is all zero again. */
  private dropIfZero(ms: Section): void {
    if (!ms.isZero()) return;
    const arr = this.roots.get(Math.floor(ms.sectionNr / this.spr));
    if (arr !== undefined && arr[ms.sectionNr % this.spr] === ms) arr[ms.sectionNr % this.spr] = undefined;
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
      const { ms } = this.section(nr);
      if (ms.sectionMemMap === 0) {
        ms.nid = nid;
        ms.setFlags(SECTION_IS_ONLINE);
        this.markPresent(ms);
      }
    }
  }

  /** `memblocks_present()`: `memory_present()` for every memblock range. */
  memblocksPresent(memblock: SparseMemblock): void {
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
        }
        return;
      }
      const ms = this.slot(nr)!;
      // sparse_init_one_section(ms, pnum, map, usage, SECTION_IS_EARLY)
      ms.usage = new Usage(this.layout.SUBSECTIONS_PER_SECTION, true);
      ms.setFlags(SECTION_HAS_MEM_MAP);
      ms.setFlags(SECTION_IS_EARLY);
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
    if (this.tracer.enabled) return this.tracer.invoke('subsection_map_init', this, this.subsectionMapInitImpl, pfn, nrPages);
    return this.subsectionMapInitImpl(pfn, nrPages);
  }

  private subsectionMapInitImpl(pfn: number, nrPages: number): void {
    let p = pfn;
    let left = nrPages;
    while (left > 0) {
      const pfns = Math.min(left, this.pps - (p % this.pps));
      const ms = this.slot(this.pfnToSectionNr(p));
      if (ms?.usage !== undefined && ms.usage !== this.fullUsage) ms.usage.subsectionMap.or(this.subsectionMask(p, pfns));
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
    const { ms, created } = this.section(sectionNr);
    const hadMemmap = validSection(ms);
    try {
      this.sectionActivate(ms, nid, startPfn, nrPages, altmap);
    } catch (e) {
      if (created) this.dropIfZero(ms);
      if (rootCreated) this.dropRoot(sectionNr);
      throw e;
    }
    // page_init_poison(): the section's struct pages are fresh.
    if (!hadMemmap) this.store?.initSection(sectionNr);
    ms.nid = nid; // set_section_nid()
    this.markPresent(ms);
    // sparse_init_one_section(ms, section_nr, memmap, ms->usage, 0)
    ms.setFlags(SECTION_HAS_MEM_MAP);
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
    if (usage === this.fullUsage) {
      // The shared full usage: all of it goes, or the section gets its own copy.
      empty = mask === this.fullMask;
      if (!empty) {
        const own = new Usage(this.layout.SUBSECTIONS_PER_SECTION, false);
        own.subsectionMap.setRange(0, this.layout.SUBSECTIONS_PER_SECTION);
        own.subsectionMap.clear(mask);
        ms.usage = own;
      }
    } else {
      usage.subsectionMap.clear(mask);
      empty = usage.subsectionMap.isEmpty();
    }
    if (empty) {
      // A boot usage shares its page with its neighbours': it stays, to be
      // reused when the section is re-added (no longer early then).
      if (!usage.early) ms.usage = undefined;
      ms.clearFlags(SECTION_HAS_MEM_MAP);
    }
    if (!isEarly) this.vmemmap.free(pfn, nrPages, altmap);
    else if (empty) this.vmemmap.free(this.sectionNrToPfn(ms.sectionNr), this.pps, undefined); // free_map_bootmem()
    if (empty) {
      this.store?.dropSection(ms.sectionNr);
      ms.sectionMemMap = 0;
      this.dropIfZero(ms);
    }
  }

  /**
   * `online_mem_sections(start_pfn, end_pfn)`: marks the sections of the
   * range online. Invalid sections are skipped (the kernel warns).
   */
  onlineMemSections(startPfn: number, endPfn: number): void {
    if (this.tracer.enabled) return this.tracer.invoke('online_mem_sections', this, this.onlineSectionsImpl, startPfn, endPfn);
    return this.markSections(startPfn, endPfn, true);
  }

  private onlineSectionsImpl(startPfn: number, endPfn: number): void {
    this.markSections(startPfn, endPfn, true);
  }

  /** `offline_mem_sections(start_pfn, end_pfn)`: clears the online mark. */
  offlineMemSections(startPfn: number, endPfn: number): void {
    if (this.tracer.enabled) return this.tracer.invoke('offline_mem_sections', this, this.offlineSectionsImpl, startPfn, endPfn);
    return this.markSections(startPfn, endPfn, false);
  }

  private offlineSectionsImpl(startPfn: number, endPfn: number): void {
    this.markSections(startPfn, endPfn, false);
  }

  private markSections(startPfn: number, endPfn: number, online: boolean): void {
    for (let pfn = startPfn; pfn < endPfn; pfn += this.pps) {
      const ms = this.slot(this.pfnToSectionNr(pfn));
      if (!validSection(ms)) continue; // WARN_ON(!valid_section_nr(section_nr))
      if (online) ms!.setFlags(SECTION_IS_ONLINE);
      else ms!.clearFlags(SECTION_IS_ONLINE);
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
    const ms = this.slot(this.pfnToSectionNr(pfn));
    ms?.setFlags(SECTION_TAINT_ZONE_DEVICE);
  }

  // ------------------------------------- checks offered to memory hotplug

  /**
   * `check_pfn_span(pfn, nr_pages, reason)` (mm/memory_hotplug.c): with
   * SPARSEMEM_VMEMMAP, hot(un)plug works in whole subsections. Throws
   * -EINVAL with the kernel's warning text ("Misaligned __add_pages start:
   * 0x... end: #..." — v5.13 prints the end with a stray `#`) otherwise.
   */
  checkPfnSpan(pfn: number, nrPages: number, reason: string): void {
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
    if (altmap.basePfn !== pfn || vmemAltmapOffset(altmap) > nrPages) {
      throw new KernelError('EINVAL', 'memory add fail, invalid altmap');
    }
  }

  // ------------------------------------------------------------ accounting

  /** The memmap of a section: bytes backed, where, at which page size (e.g. 2 MiB in one x86 PMD from node 0's RAM). */
  memmapOfSection(sectionNr: number): MemmapAccount {
    return this.memmapOfRange(this.sectionNrToPfn(sectionNr), this.pps);
  }

  /** The memmap of any pfn range, summed over the vmemmap blocks that back it. */
  memmapOfRange(startPfn: number, nrPages: number): MemmapAccount {
    const { bytes, placements } = this.vmemmap.placements(startPfn, nrPages);
    return { startPfn, nrPages, bytes, placements };
  }

  /** Every vmemmap block (mapping and its frames), ascending by address. */
  vmemmapBlocks(): VmemmapBlock[] {
    return this.vmemmap.allBlocks();
  }

  /** Totals of the frames the whole vmemmap occupies, by node and altmap. */
  vmemmapTotals(): VmemmapTotals {
    return this.vmemmap.totals();
  }
}
