/**
 * A minimal boot memory allocator: just enough of mm/memblock.c for
 * `sparse_init()` to place the boot memmap where the kernel would.
 *
 * Before the page allocator exists the kernel knows memory as two lists of
 * regions: `memblock.memory` (what firmware reported, e820 on x86, the device
 * tree on powerpc, each with its node) and `memblock.reserved` (what is
 * already taken: the kernel image, the initrd, early allocations). An
 * allocation looks for a free, aligned gap *top-down* (from the end of
 * memory towards its start, the default on x86_64 and powerpc), on the
 * requested node, above `min_addr`; if nothing fits it retries without the
 * lower limit, and, unless the node was exact, on any node. At the end of
 * boot every page of `memory` not in `reserved` is given to the buddy
 * allocator (`memblock_free_all()`): the machine reads {@link BootMemblock.reservedRanges}
 * for that.
 */
import { KernelError, alignDown, checkPhysRange, checkUnsigned } from '@zonedev/kernel';
import type { MemPfnRange, SparseMemblock } from './interfaces.js';

/**
 * One region of `memblock.memory` or `memblock.reserved`: `[base, base + size)`.
 * @public
 */
export interface BootMemblockRegion {
  /** Physical address of the first byte. */
  readonly base: number;
  /** Bytes. */
  readonly size: number;
  /** The node (`memblock.memory` regions; -1 for reserved ones). */
  readonly nid: number;
}

interface Region {
  base: number;
  end: number;
  nid: number;
}

/**
 * `memblock` (mm/memblock.c) reduced to what sparse_init needs, top-down.
 * Implements {@link SparseMemblock}.
 * @public
 */
export class BootMemblock implements SparseMemblock {
  private readonly memory: Region[] = [];
  private readonly reserved: Region[] = [];
  private readonly pageShift: number;

  /** @param pageShift - PAGE_SHIFT, for {@link BootMemblock.memPfnRanges}. */
  constructor(pageShift: number) {
    checkUnsigned('memblock', 'page_shift', pageShift, 52);
    this.pageShift = pageShift;
  }

  /**
   * `memblock_add_node(base, size, nid)`: registers boot memory. Overlapping
   * an existing region is -EINVAL (the model keeps regions disjoint).
   */
  addMemory(base: number, size: number, nid: number): void {
    checkPhysRange('memblock_add_node', base, size);
    checkUnsigned('memblock_add_node', 'nid', nid);
    const end = base + size;
    if (!(size > 0) || !Number.isSafeInteger(base) || !Number.isSafeInteger(end)) {
      throw new KernelError('EINVAL', `memblock_add_node: bad range ${base}+${size}`);
    }
    if (this.memory.some((r) => base < r.end && r.base < end)) {
      throw new KernelError('EINVAL', `memblock_add_node: [${hex(base)}-${hex(end - 1)}] overlaps memory`);
    }
    this.memory.push({ base, end, nid });
    this.memory.sort((a, b) => a.base - b.base);
  }

  /** `memblock_reserve(base, size)`: marks a range as taken. */
  reserve(base: number, size: number): void {
    checkPhysRange('memblock_reserve', base, size);
    if (size <= 0) return;
    insertMerged(this.reserved, base, base + size);
  }

  /** `memblock_free(base, size)` / `memblock_free_early()`: releases a reservation. */
  free(base: number, size: number): void {
    checkPhysRange('memblock_free', base, size);
    if (size <= 0) return;
    removeRange(this.reserved, base, base + size);
  }

  /** The regions of `memblock.memory`, ascending. */
  memoryRegions(): BootMemblockRegion[] {
    return this.memory.map((r) => ({ base: r.base, size: r.end - r.base, nid: r.nid }));
  }

  /** The regions of `memblock.reserved`, ascending and merged. */
  reservedRanges(): BootMemblockRegion[] {
    return this.reserved.map((r) => ({ base: r.base, size: r.end - r.base, nid: -1 }));
  }

  /**
   * The reserved ranges in whole pages (rounded outwards), as the page
   * allocator's `memblock_free_all()` must leave them out.
   */
  reservedPfnRanges(): { startPfn: number; endPfn: number }[] {
    const s = 2 ** this.pageShift;
    return this.reserved.map((r) => ({ startPfn: Math.floor(r.base / s), endPfn: Math.ceil(r.end / s) }));
  }

  /** `memblock_is_reserved(addr)`. */
  isReserved(addr: number): boolean {
    checkUnsigned('memblock_is_reserved', 'addr', addr);
    return this.reserved.some((r) => addr >= r.base && addr < r.end);
  }

  /** The node of the memory region containing `addr`, or -1 (`early_pfn_to_nid()`). */
  nidOf(addr: number): number {
    checkUnsigned('early_pfn_to_nid', 'addr', addr);
    return this.memory.find((r) => addr >= r.base && addr < r.end)?.nid ?? -1;
  }

  /** `for_each_mem_pfn_range()`: whole pages of each memory region, ascending. */
  *memPfnRanges(): Iterable<MemPfnRange> {
    for (const r of this.memory) {
      const startPfn = Math.ceil(r.base / 2 ** this.pageShift);
      const endPfn = Math.floor(r.end / 2 ** this.pageShift);
      if (endPfn > startPfn) yield { startPfn, endPfn, nid: r.nid };
    }
  }

  /**
   * `memblock_alloc_try_nid_raw()` / `memblock_alloc_exact_nid_raw()` with
   * `max_addr = MEMBLOCK_ALLOC_ACCESSIBLE`: the highest free, `align`-aligned
   * `size` bytes on node `nid` at or above `minAddr`; then without the lower
   * limit; then (unless `exactNid`) on any node. The range is reserved.
   */
  allocRaw(size: number, align: number, minAddr: number, nid: number, exactNid: boolean): number | undefined {
    checkUnsigned('memblock_alloc_try_nid_raw', 'size', size);
    checkUnsigned('memblock_alloc_try_nid_raw', 'align', align);
    checkUnsigned('memblock_alloc_try_nid_raw', 'min_addr', minAddr);
    if (nid !== -1) checkUnsigned('memblock_alloc_try_nid_raw', 'nid', nid);
    if (typeof exactNid !== 'boolean') throw new KernelError('EINVAL', `memblock_alloc_try_nid_raw: invalid exact_nid ${String(exactNid)}`);
    const tries: [number, number][] = [[minAddr, nid]];
    if (minAddr > 0) tries.push([0, nid]);
    let found: number | undefined;
    for (const [min, node] of tries) {
      found = this.findInRange(size, align, min, node) ?? (exactNid ? undefined : this.findInRange(size, align, min, -1));
      if (found !== undefined) break;
    }
    if (found === undefined) return undefined;
    this.reserve(found, size);
    return found;
  }

  /** `memblock_find_in_range_node()`, top-down. `nid` -1 is NUMA_NO_NODE. */
  private findInRange(size: number, align: number, minAddr: number, nid: number): number | undefined {
    const start = Math.max(minAddr, 2 ** this.pageShift);
    for (let i = this.memory.length - 1; i >= 0; i--) {
      const m = this.memory[i]!;
      if (nid !== -1 && m.nid !== nid) continue;
      // The free gaps of this memory region, highest first.
      const gaps: [number, number][] = [];
      let cursor = m.base;
      for (const r of this.reserved) {
        if (r.end <= m.base || r.base >= m.end) continue;
        if (r.base > cursor) gaps.push([cursor, r.base]);
        cursor = Math.max(cursor, r.end);
      }
      if (cursor < m.end) gaps.push([cursor, m.end]);
      for (let g = gaps.length - 1; g >= 0; g--) {
        const lo = Math.max(gaps[g]![0], start);
        const hi = gaps[g]![1];
        if (hi < lo + size) continue;
        const cand = alignDown(hi - size, align);
        if (cand >= lo) return cand;
      }
    }
    return undefined;
  }
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(16, '0')}`;
}

function insertMerged(list: Region[], base: number, end: number): void {
  let b = base;
  let e = end;
  const keep: Region[] = [];
  for (const r of list) {
    if (r.end < b || r.base > e) keep.push(r);
    else {
      b = Math.min(b, r.base);
      e = Math.max(e, r.end);
    }
  }
  keep.push({ base: b, end: e, nid: -1 });
  keep.sort((x, y) => x.base - y.base);
  list.length = 0;
  list.push(...keep);
}

function removeRange(list: Region[], base: number, end: number): void {
  const out: Region[] = [];
  for (const r of list) {
    if (r.end <= base || r.base >= end) {
      out.push(r);
      continue;
    }
    if (r.base < base) out.push({ base: r.base, end: base, nid: -1 });
    if (r.end > end) out.push({ base: end, end: r.end, nid: -1 });
  }
  list.length = 0;
  list.push(...out);
}
