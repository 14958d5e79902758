/**
 * The virtual memory map: which physical frames back which struct pages.
 *
 * "Virtual memory maps allow VM primitives pfn_to_page, page_to_pfn,
 * virt_to_page, page_address() to be implemented as a base offset calculation
 * without memory access" — so opens mm/sparse-vmemmap.c. The price is a page
 * table: the virtual array `VMEMMAP_START[pfn]` of 64-byte struct pages must
 * be backed by physical frames wherever memory is present, and nowhere else.
 * Backing it is the architecture's `vmemmap_populate(start, end, node,
 * altmap)`; unbacking it, `vmemmap_free()`.
 *
 * This file models that page table at the level that matters for memory
 * accounting: a *block* is one mapping of the vmemmap — a PMD-sized page
 * (2 MiB on x86_64, so one 128 MiB section's 32768 struct pages fill exactly
 * one), a base page (4 KiB: 64 struct pages), or on powerpc a page of the
 * linear-mapping size (16 MiB with hash) — together with where its frames
 * came from:
 *
 * - `ram`: the page allocator on the section's node (`vmemmap_alloc_block()`
 *   → `alloc_pages_node()`), which is how hot-adding memory consumes memory
 *   that is already there (commit a08a2ae346's reason (a)) and can fail with -ENOMEM;
 * - `boot`: memblock during `sparse_init()`, never seen by the allocator
 *   until it is freed;
 * - `altmap`: the device range itself (the 2015 'struct page' for pmem series), via
 *   `altmap_alloc_block_buf()`.
 *
 * ```
 *  VMEMMAP_START + pfn*64                    physical frames
 *  +-----------------------+  PMD (2 MiB)   +---------------------+
 *  | struct pages of       |--------------->| node 0 RAM, order 9 |
 *  | section 32 (128 MiB)  |                +---------------------+
 *  +-----------------------+  PMD (2 MiB)   +---------------------+
 *  | section 33            |--------------->| altmap pfns 0x4200..|
 *  +-----------------------+                +---------------------+
 *  | subsection 0 of 34    |-- 8 x 4 KiB -->| node 0 RAM, order 0 |
 *  | (rest unmapped)       |                +---------------------+
 * ```
 *
 * A block may describe more memory than the range that caused it (a PMD
 * shared by two small sections, a 16 MiB powerpc page holding the struct
 * pages of 16 GiB). The kernel keeps such a block until no part of it is in
 * use: x86 fills the unused parts with `PAGE_UNUSED` (0xFD) and frees the PMD
 * when it is all 0xFD (`vmemmap_use_sub_pmd()`, `remove_pmd_table()`);
 * powerpc frees a page when no pfn it describes is valid any more. The model
 * keeps, per block, the set of byte ranges in use instead of the 0xFD bytes.
 *
 * A device of petabytes has tens of millions of PMDs, all full and all cut
 * one after the other from the same altmap. The model keeps such PMDs as
 * runs ({@link PmdRun}): consecutive full PMDs whose frames are consecutive
 * and come from the same place are one record, split when one of them is
 * freed or partly unused, so that the host cost follows what differs, not
 * the size of the memmap. A PMD only partly in use is a block of its own.
 *
 * Page-table pages themselves (the PTE/PMD/PUD tables) are not modelled:
 * they cost a few KiB per GiB of vmemmap and would blur the 64-bytes-a-page
 * figures this model exists to show.
 *
 * A failed `vmemmap_populate()` here undoes its own work in reverse, down to
 * the altmap's `align`: the kernel instead calls `vmemmap_free()` on the
 * range from `section_deactivate()`, which returns the blocks but not the
 * altmap's alignment padding. The model's rule is that a failed call leaves
 * every counter as it was.
 */
import type { Tracer, Printk } from '@zonedev/kernel';
import { KernelError, alignDown, ilog2 } from '@zonedev/kernel';
import type { VmemAltmap } from './altmap.js';
import { altmapAllocBlockBuf, traceAltmap, vmemAltmapFree, vmemAltmapNrFree } from './altmap.js';
import type { VmemmapPageAllocator } from './interfaces.js';
import { VMEMMAP_ALLOC_GFP } from './interfaces.js';
import { addInterval, intervalsLength, removeInterval } from './intervals.js';
import type { SparseLayout, VmemmapPopulateKind } from './layout.js';

/**
 * Where the frames behind a vmemmap block came from.
 * @public
 */
export type VmemmapSource = 'ram' | 'boot' | 'altmap';

/**
 * One mapping of the vmemmap and the frames behind it.
 * @public
 */
export interface VmemmapBlock {
  /** Virtual address of the block's first byte. */
  readonly vaddr: bigint;
  /** Offset of the block's first byte from VMEMMAP_START (`pfn * 64` of the first struct page it holds). */
  readonly offset: number;
  /** The mapping's page size: PMD / linear-mapping page, or base page. */
  readonly size: number;
  /** First physical frame behind it (the block spans `size / PAGE_SIZE` frames). */
  readonly pfn: number;
  /** Where the frames came from. */
  readonly source: VmemmapSource;
  /** Node of the frames (for an altmap: the node the range was added on). */
  readonly nid: number;
  /** The altmap the frames came from (`source === 'altmap'`). */
  readonly altmap: VmemAltmap | undefined;
  /** Bytes of the block that describe present memory (the rest is x86's PAGE_UNUSED). */
  readonly usedBytes: number;
  /** The first pfn whose struct page the block holds. */
  readonly firstPfn: number;
  /** How many struct pages it holds (`size / 64`). */
  readonly nrPfns: number;
}

/**
 * Where the memmap of a range lives, by source, node or altmap, and mapping
 * size.
 * @public
 */
export interface MemmapPlacement {
  /** Where the frames came from. */
  readonly source: VmemmapSource;
  /** Node of the frames (for an altmap: the node the range was added on). */
  readonly nid: number;
  /** The altmap, for `source === 'altmap'`. */
  readonly altmap: VmemAltmap | undefined;
  /** Page size of the mappings (e.g. 2 MiB PMD or 4 KiB base pages). */
  readonly pageSize: number;
  /** Memmap bytes of the range held in this way. */
  readonly bytes: number;
}

/**
 * Totals over every vmemmap block: the physical frames the memmap occupies.
 * @public
 */
export interface VmemmapTotals {
  /** Number of blocks (mappings). */
  readonly blocks: number;
  /** Bytes of frames behind all blocks. */
  readonly bytes: number;
  /** Bytes of page-allocator RAM by node. */
  readonly ram: ReadonlyMap<number, number>;
  /** Bytes of boot (memblock) memory by node. */
  readonly boot: ReadonlyMap<number, number>;
  /** Bytes taken from each altmap. */
  readonly altmap: ReadonlyMap<VmemAltmap, number>;
}

/** One block, as compact as a JS object gets (there is one per section at 64 TiB). */
class Block {
  /** Used byte ranges (absolute offsets); `null` = the whole block. */
  used: number[] | null = [];

  constructor(
    readonly offset: number,
    readonly size: number,
    readonly pfn: number,
    readonly source: VmemmapSource,
    readonly nid: number,
    readonly altmap: VmemAltmap | undefined,
  ) {}

  get usedBytes(): number {
    return this.used === null ? this.size : intervalsLength(this.used);
  }
}

/**
 * Consecutive x86 PMDs `[first, end)`, each mapped in full, whose frames are
 * consecutive: PMD `i` is backed by the frames from `pfn0 + (i - first) *
 * framesPerPmd`, all from the same source, node and altmap.
 */
class PmdRun {
  constructor(
    public first: number,
    public end: number,
    public pfn0: number,
    readonly source: VmemmapSource,
    readonly nid: number,
    readonly altmap: VmemAltmap | undefined,
  ) {}
}

/** PMDs `[first, end)` of a run, as the accounting walks them. */
interface RunSlice {
  readonly run: PmdRun;
  readonly first: number;
  readonly end: number;
}

class PteTable {
  readonly ptes = new Map<number, Block>();
}

/** Whether a run's frames and `f` come from the same source, node and altmap. */
function sameFrames(run: Pick<PmdRun, 'source' | 'nid' | 'altmap'>, f: Frames): boolean {
  return run.source === f.source && run.nid === f.nid && run.altmap === f.altmap;
}

/** A frame allocation before it becomes a block. */
interface Frames {
  pfn: number;
  source: VmemmapSource;
  nid: number;
  altmap: VmemAltmap | undefined;
  nrAlign: number;
}

/** A change of a populate in progress; block creations carry the altmap padding to give back. */
type JournalEntry =
  | { kind: 'pmd'; idx: number; nrAlign: number }
  | { kind: 'pte'; table: PteTable; idx: number; nrAlign: number }
  | { kind: 'page'; idx: number; nrAlign: number }
  | { kind: 'run'; idx: number; nrAlign: number }
  | { kind: 'use'; block: Block; s: number; e: number };

/** What the vmemmap needs from the sparse memory model around it. */
export interface VmemmapEnv {
  readonly layout: SparseLayout;
  readonly kind: VmemmapPopulateKind;
  readonly allocator: VmemmapPageAllocator;
  readonly tracer: Tracer;
  readonly log: Printk;
  readonly dynamicDebug: boolean;
  /** Whether any pfn of `[startPfn, endPfn)` is `pfn_valid()` (powerpc's `vmemmap_populated()`). */
  anyValid(startPfn: number, endPfn: number): boolean;
}

/** During sparse_init: `sparse_buffer_alloc()` then memblock, and the undo of such an allocation. */
export interface BootAllocator {
  alloc(size: number, nid: number): { pfn: number; nid: number } | undefined;
  free(pfn: number, size: number): void;
}

/** The vmemmap page table of one machine. */
export class Vmemmap {
  /** x86_64: PMD entries, by `offset / PMD_SIZE`. */
  private readonly pmds = new Map<number, Block | PteTable>();
  /** x86_64: the full PMDs that are not in {@link Vmemmap.pmds}, as runs, ascending and disjoint. */
  private readonly runs: PmdRun[] = [];
  private lastRun: PmdRun | undefined = undefined;
  /** Frames behind one PMD. */
  private readonly framesPerPmd: number;
  /** powerpc: linear-mapping pages, by `offset / VMEMMAP_PAGE_SIZE`. */
  private readonly pages = new Map<number, Block>();
  private readonly env: VmemmapEnv;
  private readonly L: SparseLayout;
  private boot: BootAllocator | undefined = undefined;

  constructor(env: VmemmapEnv) {
    this.env = env;
    this.L = env.layout;
    this.framesPerPmd = env.layout.PMD_SIZE / env.layout.PAGE_SIZE;
  }

  // ------------------------------------------------------------- PMD runs

  /** The index in {@link Vmemmap.runs} of the run holding PMD `idx`, or -1. */
  private runIndex(idx: number): number {
    const runs = this.runs;
    let lo = 0;
    let hi = runs.length - 1;
    while (lo <= hi) {
      const mid = Math.floor((lo + hi) / 2);
      const r = runs[mid]!;
      if (idx < r.first) hi = mid - 1;
      else if (idx >= r.end) lo = mid + 1;
      else return mid;
    }
    return -1;
  }

  /** The run holding PMD `idx`, if any (the last one found is remembered). */
  private runOf(idx: number): PmdRun | undefined {
    const l = this.lastRun;
    if (l !== undefined && idx >= l.first && idx < l.end) return l;
    const i = this.runIndex(idx);
    if (i < 0) return undefined;
    this.lastRun = this.runs[i]!;
    return this.lastRun;
  }

  /**
   * Records a new full PMD `idx` backed by `f`: it extends or joins the runs
   * next to it, or starts one with a full block before it whose frames it
   * continues; else it is a block of its own (frames from the page allocator
   * are seldom consecutive, and a lone block costs a map entry, not a run to
   * keep in order).
   */
  private addFullPmd(idx: number, f: Frames): void {
    this.lastRun = undefined;
    const runs = this.runs;
    let lo = 0;
    let hi = runs.length;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (runs[mid]!.end <= idx) lo = mid + 1;
      else hi = mid;
    }
    // runs[lo - 1] ends at or before idx, runs[lo] starts after it.
    const prev = runs[lo - 1];
    const next = runs[lo];
    const joinsPrev = prev !== undefined && prev.end === idx && this.continues(prev, idx, f);
    const joinsNext = next !== undefined && next.first === idx + 1 && f.pfn + this.framesPerPmd === next.pfn0 && sameFrames(next, f);
    if (joinsPrev && joinsNext) {
      prev.end = next.end;
      runs.splice(lo, 1);
      if (this.lastRun === next) this.lastRun = undefined;
    } else if (joinsPrev) prev.end = idx + 1;
    else if (joinsNext) {
      next.first = idx;
      next.pfn0 = f.pfn;
    } else {
      const P = this.L.PMD_SIZE;
      const left = this.pmds.get(idx - 1);
      if (left instanceof Block && left.used === null && left.size === P && left.pfn + this.framesPerPmd === f.pfn && sameFrames(left, f)) {
        this.pmds.delete(idx - 1);
        runs.splice(lo, 0, new PmdRun(idx - 1, idx + 1, left.pfn, f.source, f.nid, f.altmap));
      } else {
        const b = this.newBlock(idx * P, P, f);
        b.used = null;
        this.pmds.set(idx, b);
      }
    }
  }

  /**
   * Takes full PMD `idx` out of the bookkeeping, wherever
   * {@link Vmemmap.addFullPmd} put it, and returns it as a block.
   */
  private takeFullPmd(idx: number): Block {
    const own = this.pmds.get(idx);
    if (own instanceof Block) {
      this.pmds.delete(idx);
      return own;
    }
    const i = this.runIndex(idx);
    const b = this.runBlock(this.runs[i]!, idx);
    this.cutRun(i, idx, idx + 1);
    return b;
  }

  /** Whether frames `f` for PMD `idx` continue `run`. */
  private continues(run: PmdRun, idx: number, f: Frames): boolean {
    return sameFrames(run, f) && run.pfn0 + (idx - run.first) * this.framesPerPmd === f.pfn;
  }

  /** Takes PMDs `[a, b)` out of the run at index `i` (they stop being full PMDs of a run). */
  private cutRun(i: number, a: number, b: number): void {
    const r = this.runs[i]!;
    this.lastRun = undefined;
    if (a <= r.first && b >= r.end) {
      this.runs.splice(i, 1);
      return;
    }
    if (a <= r.first) {
      r.pfn0 += (b - r.first) * this.framesPerPmd;
      r.first = b;
      return;
    }
    if (b >= r.end) {
      r.end = a;
      return;
    }
    const tail = new PmdRun(b, r.end, r.pfn0 + (b - r.first) * this.framesPerPmd, r.source, r.nid, r.altmap);
    r.end = a;
    this.runs.splice(i + 1, 0, tail);
  }

  /** PMD `idx` of `run` as a block, fully in use. */
  private runBlock(run: PmdRun, idx: number): Block {
    const P = this.L.PMD_SIZE;
    const b = new Block(idx * P, P, run.pfn0 + (idx - run.first) * this.framesPerPmd, run.source, run.nid, run.altmap);
    b.used = null;
    return b;
  }

  /**
   * The bulk form of {@link Vmemmap.populate} for whole sections with their
   * memmap in `altmap` (`__add_pages()` over a device range): when no PMD of
   * `[pfn, pfn + nrPages)` is mapped yet, the architecture is x86 and the
   * altmap holds all of it, takes the PMDs from the altmap together — the
   * same frames, `alloc` and `align` one `altmap_alloc_block_buf()` per PMD
   * would give — and records them as one run. Returns false, changing
   * nothing, when the range does not qualify; the caller then populates
   * section by section. Not for traced or debug-logged calls.
   */
  populateAltmapRun(pfn: number, nrPages: number, nid: number, altmap: VmemAltmap): boolean {
    if (!this.altmapRunFits(pfn, nrPages, altmap)) return false;
    const P = this.L.PMD_SIZE;
    const first = (pfn * 64) / P;
    const stop = ((pfn + nrPages) * 64) / P;
    const fpp = this.framesPerPmd;
    const next = altmap.basePfn + altmap.reserve + altmap.alloc + altmap.align;
    const nrAlign = Math.ceil(next / fpp) * fpp - next;
    altmap.align += nrAlign;
    const pfn0 = next + nrAlign;
    altmap.alloc += (stop - first) * fpp;
    // One run for all the PMDs, joined to a run before it that they continue.
    const runs = this.runs;
    let lo = 0;
    let hi = runs.length;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (runs[mid]!.end <= first) lo = mid + 1;
      else hi = mid;
    }
    const prev = runs[lo - 1];
    const f: Frames = { pfn: pfn0, source: 'altmap', nid, altmap, nrAlign };
    if (prev !== undefined && prev.end === first && this.continues(prev, first, f)) prev.end = stop;
    else runs.splice(lo, 0, new PmdRun(first, stop, pfn0, 'altmap', nid, altmap));
    this.lastRun = undefined;
    return true;
  }

  /** Whether {@link Vmemmap.populateAltmapRun} can back `[pfn, pfn + nrPages)` from `altmap` in one step (changes nothing). */
  altmapRunFits(pfn: number, nrPages: number, altmap: VmemAltmap): boolean {
    if (this.env.kind !== 'x86_64' || this.boot !== undefined || this.env.dynamicDebug || this.env.tracer.enabled) return false;
    const P = this.L.PMD_SIZE;
    const start = pfn * 64;
    const end = start + nrPages * 64;
    if (start % P !== 0 || end % P !== 0 || nrPages < this.L.PAGES_PER_SECTION) return false;
    const first = start / P;
    const stop = end / P;
    if (this.runsIn(first, stop)) return false;
    if (this.pmds.size < stop - first) {
      for (const k of this.pmds.keys()) if (k >= first && k < stop) return false;
    } else {
      for (let k = first; k < stop; k++) if (this.pmds.has(k)) return false;
    }
    // What the first allocation's alignment and the rest would take.
    const fpp = this.framesPerPmd;
    const next = altmap.basePfn + altmap.reserve + altmap.alloc + altmap.align;
    const nrAlign = Math.ceil(next / fpp) * fpp - next;
    return (stop - first) * fpp + nrAlign <= vmemAltmapNrFree(altmap);
  }

  /** Whether some run holds a PMD of `[first, stop)`. */
  private runsIn(first: number, stop: number): boolean {
    const runs = this.runs;
    let lo = 0;
    let hi = runs.length;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (runs[mid]!.end <= first) lo = mid + 1;
      else hi = mid;
    }
    return lo < runs.length && runs[lo]!.first < stop;
  }

  /** Number of records behind the x86 vmemmap: PMD runs, blocks and PTE tables (the host-side cost). */
  get records(): number {
    return this.runs.length + this.pmds.size + this.pages.size;
  }

  /** Routes block allocations to boot memory (during sparse_init) or, with `undefined`, back to the page allocator. */
  setBootAllocator(boot: BootAllocator | undefined): void {
    this.boot = boot;
  }

  private vaddr(offset: number): bigint {
    return this.L.VMEMMAP_START + BigInt(offset);
  }

  // ---------------------------------------------------------------- populate

  /**
   * `vmemmap_populate(pfn_to_page(pfn), pfn_to_page(pfn + nr), nid, altmap)`:
   * backs the struct pages of `[pfn, pfn + nrPages)`. Returns false (-ENOMEM)
   * after undoing everything it did when frames run out.
   */
  populate(pfn: number, nrPages: number, nid: number, altmap: VmemAltmap | undefined): boolean {
    const start = pfn * 64;
    const end = start + nrPages * 64;
    if (this.env.tracer.enabled) return this.populateTraced(start, end, nid, altmap);
    return this.populateRange(start, end, nid, altmap);
  }

  /** The body of {@link Vmemmap.populate} on the vmemmap offsets `[start, end)`. */
  private populateRange(start: number, end: number, nid: number, altmap: VmemAltmap | undefined): boolean {
    const journal: JournalEntry[] = [];
    const ok =
      this.env.kind === 'x86_64'
        ? this.populateX86(start, end, nid, altmap, journal)
        : this.populatePowerpc(start, end, nid, altmap, journal);
    if (!ok) this.undo(journal);
    return ok;
  }

  /**
   * The traced path of {@link Vmemmap.populate}: the trace shows virtual
   * addresses and the kernel's return value, so this needs a closure; it
   * lives here so that the untraced path allocates none.
   */
  private populateTraced(start: number, end: number, nid: number, altmap: VmemAltmap | undefined): boolean {
    return this.env.tracer.call('vmemmap_populate', [this.vaddr(start), this.vaddr(end), nid, traceAltmap(altmap)], () =>
      this.populateRange(start, end, nid, altmap) ? 0 : new KernelError('ENOMEM'),
    ) === 0;
  }

  /** arch/x86/mm/init_64.c `vmemmap_populate()`. */
  private populateX86(start: number, end: number, nid: number, altmap: VmemAltmap | undefined, j: JournalEntry[]): boolean {
    // A sub-section range is mapped with base pages from RAM, altmap or not.
    if (end - start < this.L.PAGES_PER_SECTION * 64) return this.populateBasepages(start, end, nid, j);
    return this.populateHugepages(start, end, nid, altmap, j);
  }

  /** arch/x86/mm/init_64.c `vmemmap_populate_hugepages()`. */
  private populateHugepages(start: number, end: number, nid: number, altmap: VmemAltmap | undefined, j: JournalEntry[]): boolean {
    const P = this.L.PMD_SIZE;
    for (let addr = start; addr < end; ) {
      const idx = Math.floor(addr / P);
      const next = Math.min((idx + 1) * P, end); // pmd_addr_end()
      const pmd = this.pmds.get(idx);
      if (pmd === undefined && this.runOf(idx) !== undefined) {
        // A full huge PMD: vmemmap_use_sub_pmd() finds it all in use.
        addr = next;
        continue;
      }
      if (pmd === undefined) {
        const f = this.allocBlockBuf(P, nid, altmap);
        if (f !== undefined && addr === idx * P && next === (idx + 1) * P) {
          // The whole PMD is in use at once: it joins the runs.
          this.addFullPmd(idx, f);
          j.push({ kind: 'run', idx, nrAlign: f.nrAlign });
          addr = next;
          continue;
        }
        if (f !== undefined) {
          const b = this.newBlock(idx * P, P, f);
          this.pmds.set(idx, b);
          j.push({ kind: 'pmd', idx, nrAlign: f.nrAlign });
          // vmemmap_use_new_sub_pmd(): only [addr, next) of the new PMD is in use.
          this.use(b, addr, next, j);
          addr = next;
          continue;
        }
        if (altmap !== undefined) return false; // no fallback
      } else if (pmd instanceof Block) {
        // pmd_large(): vmemmap_use_sub_pmd()
        this.use(pmd, addr, next, j);
        addr = next;
        continue;
      }
      if (!this.populateBasepages(addr, next, nid, j)) return false;
      addr = next;
    }
    return true;
  }

  /** mm/sparse-vmemmap.c `vmemmap_populate_basepages(start, end, node, NULL)`. */
  private populateBasepages(start: number, end: number, nid: number, j: JournalEntry[]): boolean {
    const P = this.L.PMD_SIZE;
    const S = this.L.PAGE_SIZE;
    for (let addr = alignDown(start, S); addr < end; addr += S) {
      const pmdIdx = Math.floor(addr / P);
      let t = this.pmds.get(pmdIdx);
      const s = Math.max(addr, start);
      const e = Math.min(addr + S, end);
      if (t === undefined && this.runOf(pmdIdx) !== undefined) continue; // a full huge PMD maps it
      if (t instanceof Block) {
        // A huge PMD already maps this address (only reachable when a
        // section's PMD outlives some of its subsections): the mapping exists,
        // so the range is simply in use again.
        this.use(t, s, e, j);
        continue;
      }
      if (t === undefined) {
        t = new PteTable();
        this.pmds.set(pmdIdx, t);
        j.push({ kind: 'pmd', idx: pmdIdx, nrAlign: 0 });
      }
      const idx = addr / S;
      let b = t.ptes.get(idx);
      if (b === undefined) {
        const f = this.allocBlockBuf(S, nid, undefined);
        if (f === undefined) return false;
        b = this.newBlock(addr, S, f);
        t.ptes.set(idx, b);
        j.push({ kind: 'pte', table: t, idx, nrAlign: f.nrAlign });
      }
      this.use(b, s, e, j);
    }
    return true;
  }

  /** arch/powerpc/mm/init_64.c `vmemmap_populate()`. */
  private populatePowerpc(start: number, end: number, nid: number, altmap: VmemAltmap | undefined, j: JournalEntry[]): boolean {
    const V = this.L.VMEMMAP_PAGE_SIZE;
    const from = alignDown(start, V);
    if (this.env.dynamicDebug) {
      this.env.log.debug(`vmemmap_populate ${this.vaddr(from).toString(16)}..${this.vaddr(end).toString(16)}, node ${nid}`);
    }
    for (let s = from; s < end; s += V) {
      // vmemmap_populated(): some subsection this page describes is valid.
      if (this.env.anyValid(s / 64, (s + V) / 64)) continue;
      const idx = s / V;
      // The kernel decides on validity alone; a page mapped while none of its
      // pfns is valid does not arise from its callers, and is kept as it is.
      if (this.pages.has(idx)) continue;
      let f: Frames | undefined;
      if (altmap !== undefined && !this.altmapCrossBoundary(altmap, s, V)) {
        f = this.allocBlockBuf(V, nid, altmap);
        if (f === undefined && this.env.dynamicDebug) {
          this.env.log.debug('altmap block allocation failed, falling back to system memory');
        }
      }
      f ??= this.allocBlockBuf(V, nid, undefined);
      if (f === undefined) return false;
      const b = this.newBlock(s, V, f);
      b.used = null;
      this.pages.set(idx, b);
      j.push({ kind: 'page', idx, nrAlign: f.nrAlign });
    }
    return true;
  }

  /** arch/powerpc/mm/init_64.c `altmap_cross_boundary()`: the page describes pfns outside the altmap. */
  private altmapCrossBoundary(altmap: VmemAltmap, start: number, pageSize: number): boolean {
    const nrPfn = pageSize / 64;
    const startPfn = start / 64;
    return startPfn + nrPfn - 1 > altmap.endPfn || startPfn < altmap.basePfn;
  }

  /**
   * `vmemmap_alloc_block_buf(size, node, altmap)`: from the altmap when one
   * is given (and nothing else), else from the boot buffer / memblock during
   * sparse_init, else `vmemmap_alloc_block()` from the page allocator.
   */
  private allocBlockBuf(size: number, nid: number, altmap: VmemAltmap | undefined): Frames | undefined {
    if (altmap !== undefined) {
      const a = this.env.tracer.enabled
        ? this.altmapAllocBlockBufTraced(size, altmap)
        : altmapAllocBlockBuf(size, altmap, this.L.PAGE_SHIFT);
      if (a === undefined) return undefined;
      if (this.env.dynamicDebug) {
        this.env.log.debug(
          `altmap_alloc_block_buf: pfn: 0x${a.pfn.toString(16)} alloc: ${altmap.alloc} align: ${altmap.align} nr: 0x${a.nrPfns.toString(16)}`,
        );
      }
      return { pfn: a.pfn, source: 'altmap', nid, altmap, nrAlign: a.nrAlign };
    }
    if (this.boot !== undefined) {
      const b = this.boot.alloc(size, nid);
      return b === undefined ? undefined : { pfn: b.pfn, source: 'boot', nid: b.nid, altmap: undefined, nrAlign: 0 };
    }
    const order = ilog2(size / this.L.PAGE_SIZE);
    const alloc = this.env.allocator;
    const pfn = this.env.tracer.enabled
      ? this.vmemmapAllocBlockTraced(alloc, size, nid, order)
      : alloc.allocPagesNode(nid, VMEMMAP_ALLOC_GFP, order);
    if (pfn === undefined) return undefined;
    return { pfn, source: 'ram', nid: alloc.pfnToNid?.(pfn) ?? nid, altmap: undefined, nrAlign: 0 };
  }

  /**
   * The traced `altmap_alloc_block_buf()` of {@link Vmemmap.allocBlockBuf}.
   * The kernel returns the block's virtual address; the trace shows its pfn.
   * The closure lives here so that the untraced path allocates none.
   */
  private altmapAllocBlockBufTraced(size: number, altmap: VmemAltmap): ReturnType<typeof altmapAllocBlockBuf> {
    let a: ReturnType<typeof altmapAllocBlockBuf>;
    this.env.tracer.call('altmap_alloc_block_buf', [size, traceAltmap(altmap)], () => {
      a = altmapAllocBlockBuf(size, altmap, this.L.PAGE_SHIFT);
      return a?.pfn;
    });
    return a;
  }

  /**
   * The traced `vmemmap_alloc_block()` of {@link Vmemmap.allocBlockBuf}: the
   * trace shows `(size, node)`, so this needs a closure; it lives here so
   * that the untraced path allocates none.
   */
  private vmemmapAllocBlockTraced(alloc: VmemmapPageAllocator, size: number, nid: number, order: number): number | undefined {
    return this.env.tracer.call('vmemmap_alloc_block', [size, nid], () => alloc.allocPagesNode(nid, VMEMMAP_ALLOC_GFP, order));
  }

  private newBlock(offset: number, size: number, f: Frames): Block {
    return new Block(offset, size, f.pfn, f.source, f.nid, f.altmap);
  }

  /** The public view of a block. */
  private view(b: Block): VmemmapBlock {
    return {
      vaddr: this.vaddr(b.offset),
      offset: b.offset,
      size: b.size,
      pfn: b.pfn,
      source: b.source,
      nid: b.nid,
      altmap: b.altmap,
      usedBytes: b.usedBytes,
      firstPfn: b.offset / 64,
      nrPfns: b.size / 64,
    };
  }

  private use(b: Block, s: number, e: number, j: JournalEntry[]): void {
    if (b.used === null) return;
    if (s <= b.offset && e >= b.offset + b.size && b.used.length === 0) {
      b.used = null;
      j.push({ kind: 'use', block: b, s: b.offset, e: b.offset + b.size });
      return;
    }
    const added = addInterval(b.used, s, e);
    for (let i = 0; i < added.length; i += 2) j.push({ kind: 'use', block: b, s: added[i]!, e: added[i + 1]! });
    if (b.used.length === 2 && b.used[0] === b.offset && b.used[1] === b.offset + b.size) b.used = null;
  }

  private unuse(b: Block, s: number, e: number): void {
    if (b.used === null) b.used = [b.offset, b.offset + b.size];
    removeInterval(b.used, s, e);
  }

  /** Undoes a failed populate, newest change first. */
  private undo(journal: JournalEntry[]): void {
    for (let i = journal.length - 1; i >= 0; i--) {
      const e = journal[i]!;
      switch (e.kind) {
        case 'use':
          this.unuse(e.block, e.s, e.e);
          break;
        case 'pte': {
          const b = e.table.ptes.get(e.idx)!;
          e.table.ptes.delete(e.idx);
          this.releaseFrames(b, undefined, e.nrAlign);
          break;
        }
        case 'pmd': {
          const p = this.pmds.get(e.idx)!;
          this.pmds.delete(e.idx);
          if (p instanceof Block) this.releaseFrames(p, undefined, e.nrAlign);
          break;
        }
        case 'page': {
          const b = this.pages.get(e.idx)!;
          this.pages.delete(e.idx);
          this.releaseFrames(b, undefined, e.nrAlign);
          break;
        }
        case 'run':
          this.releaseFrames(this.takeFullPmd(e.idx), undefined, e.nrAlign);
          break;
      }
    }
  }

  /**
   * The traced `vmem_altmap_free()` of {@link Vmemmap.releaseFrames}: the
   * trace shows the altmap as a record, so this needs a closure; it lives
   * here so that the untraced path allocates none.
   */
  private vmemAltmapFreeTraced(a: VmemAltmap, nr: number): void {
    this.env.tracer.call('vmem_altmap_free', [traceAltmap(a), nr], () => vmemAltmapFree(a, nr));
  }

  /**
   * Gives a block's frames back where they came from: `vmem_altmap_free()`
   * on the altmap passed to the teardown (`free_hugepage_table()`),
   * `free_reserved_page()` for boot memory, `free_pages()` for RAM. `undo`
   * (of a failed populate: the altmap padding taken for the block) also
   * returns the altmap's alignment, and boot memory to memblock.
   */
  private releaseFrames(b: Block, altmap: VmemAltmap | undefined, undo: number | undefined): void {
    const exact = undo !== undefined;
    const nr = b.size / this.L.PAGE_SIZE;
    switch (b.source) {
      case 'altmap': {
        const a = exact ? b.altmap! : altmap!;
        if (this.env.tracer.enabled) this.vmemAltmapFreeTraced(a, nr);
        else vmemAltmapFree(a, nr);
        if (exact) a.align -= undo;
        break;
      }
      case 'boot':
        if (exact && this.boot !== undefined) this.boot.free(b.pfn, b.size);
        else this.env.allocator.freeReservedPages(b.pfn, nr);
        break;
      case 'ram':
        this.env.allocator.freePages(b.pfn, ilog2(nr));
        break;
    }
  }

  // -------------------------------------------------------------------- free

  /**
   * The checks the model makes before `vmemmap_free()` changes anything:
   * struct pages that live in an altmap must be torn down with an altmap to
   * give them back to (the kernel would hand device pfns to the page
   * allocator), and that altmap must have at least as many pfns allocated.
   * Throws -EINVAL otherwise.
   */
  checkFree(pfn: number, nrPages: number, altmap: VmemAltmap | undefined): void {
    const start = pfn * 64;
    const end = start + nrPages * 64;
    let altmapPfns = 0;
    for (const x of this.segments(start, end)) {
      if (x instanceof Block) {
        if (x.source === 'altmap') altmapPfns += x.size / this.L.PAGE_SIZE;
      } else if (x.run.source === 'altmap') altmapPfns += (x.end - x.first) * this.framesPerPmd;
    }
    if (altmapPfns === 0) return;
    if (altmap === undefined) {
      throw new KernelError(
        'EINVAL',
        `vmemmap_free: memmap of pfn 0x${pfn.toString(16)}-0x${(pfn + nrPages - 1).toString(16)} lives in an altmap, none given`,
      );
    }
    if (altmap.alloc < altmapPfns && this.env.kind === 'x86_64') {
      // Only a bound: some of those blocks may stay (still in use).
      const wouldFree = this.x86BlocksFreedBy(start, end).filter((b) => b.source === 'altmap');
      const need = wouldFree.reduce((n, b) => n + b.size / this.L.PAGE_SIZE, 0);
      if (need > altmap.alloc) {
        throw new KernelError('EINVAL', `vmem_altmap_free: freeing ${need} pfns of ${altmap.alloc} allocated`);
      }
    }
  }

  /** The x86 blocks a teardown of `[start, end)` would free (for {@link Vmemmap.checkFree}). */
  private x86BlocksFreedBy(start: number, end: number): Block[] {
    const out: Block[] = [];
    for (const b of this.blocksOverlapping(start, end)) {
      const s = Math.max(start, b.offset);
      const e = Math.min(end, b.offset + b.size);
      const rest = b.used === null ? [b.offset, b.offset + b.size] : [...b.used];
      removeInterval(rest, s, e);
      if (rest.length === 0) out.push(b);
    }
    return out;
  }

  /**
   * `vmemmap_free(pfn_to_page(pfn), pfn_to_page(pfn + nr), altmap)`: stops
   * using the struct pages of the range and frees every block no longer in
   * use. Call {@link Vmemmap.checkFree} first.
   */
  free(pfn: number, nrPages: number, altmap: VmemAltmap | undefined): void {
    const start = pfn * 64;
    const end = start + nrPages * 64;
    if (this.env.tracer.enabled) this.freeTraced(start, end, altmap);
    else this.freeRange(start, end, altmap);
  }

  /** The body of {@link Vmemmap.free} on the vmemmap offsets `[start, end)`. */
  private freeRange(start: number, end: number, altmap: VmemAltmap | undefined): void {
    if (this.env.kind === 'x86_64') this.freeX86(start, end, altmap);
    else this.freePowerpc(start, end, altmap);
  }

  /**
   * The traced path of {@link Vmemmap.free}: the trace shows virtual
   * addresses, so this needs a closure; it lives here so that the untraced
   * path allocates none.
   */
  private freeTraced(start: number, end: number, altmap: VmemAltmap | undefined): void {
    this.env.tracer.call('vmemmap_free', [this.vaddr(start), this.vaddr(end), traceAltmap(altmap)], () => this.freeRange(start, end, altmap));
  }

  /** arch/x86/mm/init_64.c `remove_pagetable(start, end, false, altmap)` → `remove_pmd_table()`, `remove_pte_table()`. */
  private freeX86(start: number, end: number, altmap: VmemAltmap | undefined): void {
    const P = this.L.PMD_SIZE;
    const S = this.L.PAGE_SIZE;
    for (let addr = start; addr < end; ) {
      const idx = Math.floor(addr / P);
      const next = Math.min((idx + 1) * P, end);
      let pmd = this.pmds.get(idx);
      if (pmd === undefined) {
        const ri = this.runIndex(idx);
        if (ri >= 0) {
          const run = this.runs[ri]!;
          if (addr === idx * P) {
            // Whole PMDs of the run: freed together.
            const stop = Math.min(run.end, Math.floor(end / P));
            if (stop > idx) {
              this.freeRunPmds(ri, idx, stop, altmap);
              addr = stop * P;
              continue;
            }
          }
          // Part of one PMD: it leaves the run and becomes a block of its own.
          pmd = this.runBlock(run, idx);
          this.cutRun(ri, idx, idx + 1);
          this.pmds.set(idx, pmd);
        }
      }
      if (pmd instanceof Block) {
        // Aligned: free the PMD; partial: mark unused and free once all is.
        this.unuse(pmd, addr, next);
        if (pmd.usedBytes === 0) {
          this.pmds.delete(idx);
          this.releaseFrames(pmd, altmap, undefined);
        }
      } else if (pmd !== undefined) {
        for (let a = alignDown(addr, S); a < next; a += S) {
          const pte = pmd.ptes.get(a / S);
          if (pte === undefined) continue;
          this.unuse(pte, Math.max(a, addr), Math.min(a + S, next));
          if (pte.usedBytes === 0) {
            pmd.ptes.delete(a / S);
            this.releaseFrames(pte, altmap, undefined);
          }
        }
        if (pmd.ptes.size === 0) this.pmds.delete(idx); // free_pte_table()
      }
      addr = next;
    }
  }

  /**
   * Frees PMDs `[a, b)` of the run at index `i` (`free_hugepage_table()`
   * for each): one call per PMD while tracing, so that the trace shows them;
   * else the frames go back together.
   */
  private freeRunPmds(i: number, a: number, b: number, altmap: VmemAltmap | undefined): void {
    const run = this.runs[i]!;
    const source = run.source;
    const pfnA = run.pfn0 + (a - run.first) * this.framesPerPmd;
    const runAltmap = run.altmap;
    const nid = run.nid;
    this.cutRun(i, a, b);
    const n = b - a;
    const fpp = this.framesPerPmd;
    if (this.env.tracer.enabled || source === 'ram') {
      for (let k = 0; k < n; k++) {
        this.releaseFrames(new Block((a + k) * this.L.PMD_SIZE, this.L.PMD_SIZE, pfnA + k * fpp, source, nid, runAltmap), altmap, undefined);
      }
      return;
    }
    if (source === 'altmap') vmemAltmapFree(altmap!, n * fpp);
    else this.env.allocator.freeReservedPages(pfnA, n * fpp);
  }

  /** arch/powerpc/mm/init_64.c `vmemmap_free()`. */
  private freePowerpc(start: number, end: number, altmap: VmemAltmap | undefined): void {
    const V = this.L.VMEMMAP_PAGE_SIZE;
    for (let s = alignDown(start, V); s < end; s += V) {
      if (this.env.anyValid(s / 64, (s + V) / 64)) continue;
      const b = this.pages.get(s / V);
      if (b === undefined) continue;
      this.pages.delete(s / V);
      this.releaseFrames(b, altmap, undefined);
    }
  }

  // -------------------------------------------------------------- accounting

  /** Every block overlapping vmemmap offsets `[start, end)`, ascending (PMDs of runs one by one). */
  *blocksOverlapping(start: number, end: number): Generator<Block> {
    for (const x of this.segments(start, end)) {
      if (x instanceof Block) yield x;
      else for (let i = x.first; i < x.end; i++) yield this.runBlock(x.run, i);
    }
  }

  /** Every block, or slice of a run of PMDs, overlapping vmemmap offsets `[start, end)`, ascending. */
  private *segments(start: number, end: number): Generator<Block | RunSlice> {
    if (end <= start) return;
    if (this.env.kind === 'powerpc') {
      const V = this.L.VMEMMAP_PAGE_SIZE;
      for (let i = Math.floor(start / V); i * V < end; i++) {
        const b = this.pages.get(i);
        if (b !== undefined) yield b;
      }
      return;
    }
    const P = this.L.PMD_SIZE;
    const S = this.L.PAGE_SIZE;
    for (let i = Math.floor(start / P); i * P < end; i++) {
      const pmd = this.pmds.get(i);
      if (pmd === undefined) {
        const run = this.runOf(i);
        if (run === undefined) continue;
        const stop = Math.min(run.end, Math.ceil(end / P));
        yield { run, first: i, end: stop };
        i = stop - 1;
        continue;
      }
      if (pmd instanceof Block) {
        yield pmd;
        continue;
      }
      const lo = Math.max(start, i * P);
      const hi = Math.min(end, (i + 1) * P);
      if (pmd.ptes.size * S < hi - lo) {
        for (const b of [...pmd.ptes.values()].sort((x, y) => x.offset - y.offset)) {
          if (b.offset < hi && b.offset + b.size > lo) yield b;
        }
      } else {
        for (let a = alignDown(lo, S); a < hi; a += S) {
          const b = pmd.ptes.get(a / S);
          if (b !== undefined) yield b;
        }
      }
    }
  }

  /** Where the memmap of `[pfn, pfn + nrPages)` lives: the mapped bytes of its struct pages, grouped. */
  placements(pfn: number, nrPages: number): { bytes: number; placements: MemmapPlacement[] } {
    const start = pfn * 64;
    const end = start + nrPages * 64;
    const groups = new Map<string, { source: VmemmapSource; nid: number; altmap: VmemAltmap | undefined; pageSize: number; bytes: number }>();
    const altmapIds = new Map<VmemAltmap, number>();
    let total = 0;
    const P = this.L.PMD_SIZE;
    for (const x of this.segments(start, end)) {
      // A slice of a run counts as one block as long as the slice.
      const b = x instanceof Block ? x : { offset: x.first * P, size: (x.end - x.first) * P, source: x.run.source, nid: x.run.nid, altmap: x.run.altmap };
      const pageSize = x instanceof Block ? x.size : P;
      const bytes = Math.min(end, b.offset + b.size) - Math.max(start, b.offset);
      if (bytes <= 0) continue;
      total += bytes;
      let aid = 0;
      if (b.altmap !== undefined) {
        aid = altmapIds.get(b.altmap) ?? altmapIds.size + 1;
        altmapIds.set(b.altmap, aid);
      }
      const key = `${b.source}/${b.nid}/${aid}/${pageSize}`;
      const g = groups.get(key);
      if (g === undefined) groups.set(key, { source: b.source, nid: b.nid, altmap: b.altmap, pageSize, bytes });
      else g.bytes += bytes;
    }
    return { bytes: total, placements: [...groups.values()] };
  }

  /** Every block, ascending. */
  allBlocks(): VmemmapBlock[] {
    // one push per block: a spread of a map of hundreds of thousands of
    // pages into one call would overflow the stack
    const out: Block[] = [];
    if (this.env.kind === 'powerpc') for (const b of this.pages.values()) out.push(b);
    else {
      for (const p of this.pmds.values()) {
        if (p instanceof Block) out.push(p);
        else for (const b of p.ptes.values()) out.push(b);
      }
      for (const r of this.runs) for (let i = r.first; i < r.end; i++) out.push(this.runBlock(r, i));
    }
    return out.sort((a, b) => a.offset - b.offset).map((b) => this.view(b));
  }

  /** Totals over every block. */
  totals(): VmemmapTotals {
    const ram = new Map<number, number>();
    const boot = new Map<number, number>();
    const altmap = new Map<VmemAltmap, number>();
    let blocks = 0;
    let bytes = 0;
    const add = (b: Pick<Block, 'size' | 'source' | 'nid' | 'altmap'>): void => {
      blocks++;
      bytes += b.size;
      if (b.source === 'ram') ram.set(b.nid, (ram.get(b.nid) ?? 0) + b.size);
      else if (b.source === 'boot') boot.set(b.nid, (boot.get(b.nid) ?? 0) + b.size);
      else altmap.set(b.altmap!, (altmap.get(b.altmap!) ?? 0) + b.size);
    };
    if (this.env.kind === 'powerpc') for (const b of this.pages.values()) add(b);
    else {
      for (const p of this.pmds.values()) {
        if (p instanceof Block) add(p);
        else for (const b of p.ptes.values()) add(b);
      }
      const P = this.L.PMD_SIZE;
      for (const r of this.runs) {
        const n = r.end - r.first;
        blocks += n - 1;
        add({ size: n * P, source: r.source, nid: r.nid, altmap: r.altmap });
      }
    }
    return { blocks, bytes, ram, boot, altmap };
  }
}
