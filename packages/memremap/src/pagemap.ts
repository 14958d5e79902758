/**
 * `struct dev_pagemap`: the description of device memory that gets a memmap.
 *
 * The 2015 "'struct page' driver for persistent memory" series gave persistent memory `struct page`s so that
 * DAX pages could take part in O_DIRECT and DMA like RAM. The driver
 * describes what it wants mapped in a `dev_pagemap` and hands it to
 * `memremap_pages()`; every struct page created for it points back to it
 * (`page->pgmap`), and the pagemap's reference count stays up as long as any
 * of those pages is in use, so the device cannot go away under a pinned
 * page. In v5.13 (the header as of commit a08a2ae346) a pagemap has:
 *
 * ```
 *   struct dev_pagemap
 *   +-------------+-------------------------------------------------------+
 *   | altmap      | where the memmap of range 0 is stored, if             |
 *   |             | PGMAP_ALTMAP_VALID is set in flags (else in RAM)      |
 *   | ref         | the live/dying count: the caller's percpu_ref, or ... |
 *   | internal_ref| ... this one, with `done` completed at its release    |
 *   | type        | PRIVATE | FS_DAX | GENERIC | PCI_P2PDMA                |
 *   | ops         | page_free, kill, cleanup, migrate_to_ram              |
 *   | owner       | who manages it (HMM checks it before migrating)       |
 *   | nr_range,   | the physical ranges to map; `range` is ranges[0]      |
 *   | ranges[]    |                                                       |
 *   +-------------+-------------------------------------------------------+
 * ```
 *
 * The memory types (the HMM-v25 review split them by how the CPU may reach
 * the memory):
 *
 * - `MEMORY_DEVICE_PRIVATE`: device memory the CPU cannot address (GPU
 *   VRAM). The struct pages exist so that a process's page tables can point
 *   at them through special swap entries; a CPU fault on one calls
 *   `migrate_to_ram()` to bring the data back. No linear mapping is made
 *   (`add_pages()`), and the pages are "free" at refcount 1: when a page's
 *   count drops back to 1, `page_free()` gives it back to the driver.
 * - `MEMORY_DEVICE_FS_DAX`: host memory (pmem) under a DAX file system. Its
 *   pages may be pinned for DMA; when a page becomes idle (count back to 1)
 *   waiters — a truncate waiting for pins to go — are woken.
 * - `MEMORY_DEVICE_GENERIC`: host memory used like RAM, e.g. device DAX.
 * - `MEMORY_DEVICE_PCI_P2PDMA`: memory in a PCI BAR for peer-to-peer DMA,
 *   mapped uncached.
 *
 * Seed 003 is an API review: the first `dev_pagemap` carried a
 * `page_fault(vma, addr, page, flags, pmdp)` callback, which dragged
 * `pmd_t` — and with it every architecture's page-table headers — into a
 * header every driver includes. The fix was to move the fault out of the
 * generic structure. v5.13's `migrate_to_ram(struct vm_fault *vmf)` keeps
 * that lesson, and so does the model: the fault context is mm's `VmFault`
 * (`struct vm_fault` of include/linux/mm.h: the VMA, the faulting address,
 * the flags and the page), which names no page-table type; mm's
 * `do_swap_page()` passes it. A `DevPagemap` is also what mm's fault and GUP
 * paths read from `page->pgmap` (mm's `ZoneDevicePagemap`: type, owner,
 * `ops.migrateToRam`), so mm calls the driver without importing memremap.
 *
 * Mirrors include/linux/memremap.h (v5.13).
 */
import type { PercpuRef, Range } from '@zonedev/kernel';
import type { VmFault, VmFaultT } from '@zonedev/mm';
import { KernelError, testBit } from '@zonedev/kernel';
import type { VmemAltmap } from '@zonedev/sparse-vmemmap';
import { vmemAltmap } from '@zonedev/sparse-vmemmap';
import { Completion } from '@zonedev/kernel';

/**
 * `enum memory_type`: what kind of device memory a pagemap describes. 0 is
 * reserved "to catch uninitialized type fields" (`memremap_pages()` warns
 * "Invalid pgmap type 0").
 * @public
 */
export enum MemoryType {
  /** Device memory the CPU cannot address; `page_free` at refcount 1, `migrate_to_ram` on CPU fault. */
  MEMORY_DEVICE_PRIVATE = 1,
  /** Host memory under a file system DAX mapping; idle pages wake waiters. */
  MEMORY_DEVICE_FS_DAX = 2,
  /** Host memory with RAM semantics (device DAX). */
  MEMORY_DEVICE_GENERIC = 3,
  /** Device memory in a PCI BAR for peer-to-peer DMA (mapped uncached). */
  MEMORY_DEVICE_PCI_P2PDMA = 4,
}

/** `MEMORY_DEVICE_PRIVATE` (= {@link MemoryType.MEMORY_DEVICE_PRIVATE}). @public */
export const MEMORY_DEVICE_PRIVATE: MemoryType.MEMORY_DEVICE_PRIVATE = MemoryType.MEMORY_DEVICE_PRIVATE;
/** `MEMORY_DEVICE_FS_DAX` (= {@link MemoryType.MEMORY_DEVICE_FS_DAX}). @public */
export const MEMORY_DEVICE_FS_DAX: MemoryType.MEMORY_DEVICE_FS_DAX = MemoryType.MEMORY_DEVICE_FS_DAX;
/** `MEMORY_DEVICE_GENERIC` (= {@link MemoryType.MEMORY_DEVICE_GENERIC}). @public */
export const MEMORY_DEVICE_GENERIC: MemoryType.MEMORY_DEVICE_GENERIC = MemoryType.MEMORY_DEVICE_GENERIC;
/** `MEMORY_DEVICE_PCI_P2PDMA` (= {@link MemoryType.MEMORY_DEVICE_PCI_P2PDMA}). @public */
export const MEMORY_DEVICE_PCI_P2PDMA: MemoryType.MEMORY_DEVICE_PCI_P2PDMA = MemoryType.MEMORY_DEVICE_PCI_P2PDMA;

/**
 * The kernel's name of a memory type (`MEMORY_DEVICE_GENERIC`), or the
 * number for an invalid one.
 * @public
 */
export function memoryTypeName(type: MemoryType): string {
  return MemoryType[type] ?? String(type);
}

/**
 * `PGMAP_ALTMAP_VALID` (bit 0 of `dev_pagemap.flags`): `altmap` is valid and
 * holds the memmap of range 0.
 * @public
 */
export const PGMAP_ALTMAP_VALID = 1;

/**
 * `struct dev_pagemap_ops`: the driver's callbacks. Pages are named by
 * their pfn.
 * @public
 */
export interface DevPagemapOps {
  /**
   * `page_free(page)`: called once a device-private page's refcount drops
   * back to 1 — the page is free (ZONE_DEVICE pages never reach 0 unless
   * their pagemap is being torn down), and the driver may reuse it.
   */
  pageFree?(page: number): void;
  /**
   * `kill(pgmap)`: transition the caller-provided `pgmap.ref` to the dead
   * state (required with, and only with, a caller-provided ref).
   */
  kill?(pgmap: DevPagemap): void;
  /**
   * `cleanup(pgmap)`: wait for the caller-provided `pgmap.ref` to be idle
   * and reap it. The kernel blocks; the model lets it return a promise that
   * settles when the ref is idle, which `memunmap_pages()` waits for.
   */
  cleanup?(pgmap: DevPagemap): void | Promise<void>;
  /**
   * `migrate_to_ram(vmf)`: for device-private memory only, migrate the page
   * back to a CPU-accessible page; returns 0 or `VM_FAULT_*` bits.
   */
  migrateToRam?(vmf: VmFault): VmFaultT;
}

/**
 * What a driver fills in before calling `memremap_pages()`: the
 * designated initializer of a `struct dev_pagemap`. Give `range` or
 * `ranges`; `nr_range` is their count.
 * @public
 */
export interface DevPagemapInit {
  /** `pgmap->type`: what kind of device memory (0 is invalid; memremap_pages() warns about it). */
  readonly type: MemoryType;
  /** The one range to map (`pgmap->range`, `nr_range = 1`). */
  readonly range?: Range;
  /** The ranges to map (`pgmap->ranges[]`, `nr_range = ranges.length`). */
  readonly ranges?: readonly Range[];
  /** `pgmap->altmap`; only used when `flags` has {@link PGMAP_ALTMAP_VALID}. */
  readonly altmap?: VmemAltmap;
  /** `PGMAP_*` flags (default 0). */
  readonly flags?: number;
  /** `pgmap->ops`: the driver's callbacks (device-private memory needs `pageFree` and `migrateToRam`). */
  readonly ops?: DevPagemapOps;
  /** `pgmap->owner`: who manages the memory (required for device-private memory). */
  readonly owner?: unknown;
  /** A caller-provided, live percpu_ref (then `ops.kill` and `ops.cleanup` are required). */
  readonly ref?: PercpuRef;
  /** A name for traces and messages (default: the type and first range). */
  readonly name?: string;
}

/**
 * `struct dev_pagemap` (include/linux/memremap.h, v5.13), field for field.
 * The fields are public and mutable, as the kernel's are: `memremap_pages()`
 * sets `ref` (to `internalRef` when none was given) and counts `nrRange`
 * up while it maps.
 * @public
 */
export class DevPagemap {
  /** `altmap`: pre-allocated/reserved memory for vmemmap allocations (valid with PGMAP_ALTMAP_VALID). */
  altmap: VmemAltmap;
  /** `ref`: the reference count that pins the mapping (caller's, or `internalRef`). */
  ref: PercpuRef | undefined;
  /** `internal_ref`: the internal reference used when the caller gives none (created by memremap_pages). */
  internalRef: PercpuRef | undefined;
  /** `done`: completed when `internalRef` is released. */
  readonly done: Completion;
  /** `type`. */
  type: MemoryType;
  /** `flags`: `PGMAP_*`. */
  flags: number;
  /** `ops`: the method table. */
  ops: DevPagemapOps | undefined;
  /** `owner`: an opaque pointer identifying the entity that manages this instance. */
  owner: unknown;
  /** `nr_range`: number of ranges to be mapped. */
  nrRange: number;
  /** `ranges[]`: the physical ranges (inclusive ends). */
  ranges: Range[];
  /** A name for traces. */
  name: string | undefined;

  constructor(init: DevPagemapInit) {
    const ranges = init.ranges !== undefined ? [...init.ranges] : init.range !== undefined ? [init.range] : [];
    this.altmap = init.altmap ?? vmemAltmap({ basePfn: 0 });
    this.ref = init.ref;
    this.internalRef = undefined;
    this.done = new Completion();
    this.type = init.type;
    this.flags = init.flags ?? 0;
    this.ops = init.ops;
    this.owner = init.owner;
    this.nrRange = ranges.length;
    this.ranges = ranges;
    this.name = init.name;
  }

  /** `range`: the range to be mapped when `nr_range == 1` (the union's first member, `ranges[0]`). */
  get range(): Range {
    const r = this.ranges[0];
    if (r === undefined) throw new RangeError('dev_pagemap has no range');
    return r;
  }

  /** How the function-graph tracer prints a pagemap argument. */
  get traceName(): string {
    if (this.name !== undefined) return this.name;
    const r = this.ranges[0];
    const where = r === undefined ? 'no range' : `0x${r.start.toString(16)}-0x${r.end.toString(16)}`;
    return `dev_pagemap(${memoryTypeName(this.type)} ${where}${this.ranges.length > 1 ? ` +${this.ranges.length - 1}` : ''})`;
  }
}

/**
 * `pgmap_altmap(pgmap)`: the pagemap's altmap if `PGMAP_ALTMAP_VALID` is
 * set, else `undefined` (the memmap then comes from RAM).
 * @public
 */
export function pgmapAltmap(pgmap: DevPagemap): VmemAltmap | undefined {
  if (!(pgmap instanceof DevPagemap)) throw new KernelError('EINVAL', `pgmap_altmap: invalid pgmap ${String(pgmap)}`);
  return testBit(pgmap.flags, 0) ? pgmap.altmap : undefined;
}
