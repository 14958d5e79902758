/**
 * The resource tree: who owns which range of the physical address space.
 *
 * Every range of physical addresses the kernel knows about — RAM found by
 * firmware, a PCI BAR, a persistent-memory region, the slot chosen for a
 * device's private memory — is a `struct resource`: `[start, end]` (both ends
 * inclusive), a name, type flags and a descriptor. Resources nest: a child
 * lies inside its parent, siblings never overlap, and siblings are kept sorted
 * by address in a singly linked list (`parent`, `sibling`, `child`):
 *
 * ```
 *   iomem_resource [0 .. 2^phys_bits - 1] "PCI mem"
 *     |child
 *     v
 *   System RAM --sibling--> Persistent Memory (legacy) --sibling--> ...
 *     |child                 |child
 *     v                      v
 *   Kernel code ...        namespace0.0
 * ```
 *
 * `cat /proc/iomem` prints this tree depth first, two spaces of indent per
 * level. The root of the physical address space is `iomem_resource`, one per
 * machine here ({@link ResourceTree.root}); architectures shrink its end to
 * what the CPU can address (x86's `setup_arch()` sets it to
 * `2^x86_phys_bits - 1`).
 *
 * Two families of calls place resources in the tree:
 *
 * - `request_resource(root, new)` / `insert_resource(parent, new)` put a
 *   caller-built resource at one level, and fail with the conflicting entry;
 * - `__request_region(parent, start, n, name)` (and `request_mem_region()`)
 *   allocate a new BUSY resource and, when they meet a conflicting entry that
 *   is not busy (a range merely described, such as "Persistent Memory
 *   (legacy)"), descend into it and try again there: that is how
 *   `namespace0.0` ends up nested inside its pmem region. A busy conflict
 *   fails the request (NULL, `undefined` here).
 *
 * Searches (`walk_iomem_res_desc()`, `walk_system_ram_range()`,
 * `region_intersects()`) filter by flags and descriptor. Flags occupy 32
 * bits (`IORESOURCE_BUSY` is bit 31), beyond JavaScript's signed 32-bit
 * bitwise operators, so they are tested with the exact arithmetic helpers of
 * sizes.ts.
 *
 * Single-threaded, the model needs no `resource_lock`; a request that fails
 * leaves the tree exactly as it was. Every address, size and flags argument
 * must be an unsigned integer below 2^53 (KernelError EINVAL otherwise, see
 * validate.ts); within that, a range the kernel would refuse (beyond the
 * root, `end < start`) gets the kernel's own answer: a conflict with the
 * root, so NULL (`undefined`) or -EBUSY. Mirrors kernel/resource.c and
 * include/linux/ioport.h of Linux v5.13.
 */
import type { Printk } from './printk.js';
import type { Tracer } from './trace.js';
import type { FaultInjection } from './fault-inject.js';
import { ERRNO, KernelError } from './errno.js';
import { checkPhysRange, checkUnsigned } from './validate.js';
import { align, anyBits, hasBits, orBits, pfnDown, pfnUp } from './sizes.js';
import type { Device } from './device.js';
import { devmAddAction, devName } from './device.js';

// ---------------------------------------------------------------------------
// include/linux/ioport.h: flags

/** Bus-specific bits (`IORESOURCE_BITS`). @public */
export const IORESOURCE_BITS = 0x000000ff;
/** Resource type bits (`IORESOURCE_TYPE_BITS`). @public */
export const IORESOURCE_TYPE_BITS = 0x00001f00;
/** PCI/ISA I/O ports (`IORESOURCE_IO`). @public */
export const IORESOURCE_IO = 0x00000100;
/** Memory (`IORESOURCE_MEM`). @public */
export const IORESOURCE_MEM = 0x00000200;
/** Register offsets (`IORESOURCE_REG`). @public */
export const IORESOURCE_REG = 0x00000300;
/** `IORESOURCE_IRQ`. @public */
export const IORESOURCE_IRQ = 0x00000400;
/** `IORESOURCE_DMA`. @public */
export const IORESOURCE_DMA = 0x00000800;
/** `IORESOURCE_BUS`. @public */
export const IORESOURCE_BUS = 0x00001000;
/** No side effects (`IORESOURCE_PREFETCH`). @public */
export const IORESOURCE_PREFETCH = 0x00002000;
/** `IORESOURCE_READONLY`. @public */
export const IORESOURCE_READONLY = 0x00004000;
/** `IORESOURCE_CACHEABLE`. @public */
export const IORESOURCE_CACHEABLE = 0x00008000;
/** `IORESOURCE_RANGELENGTH`. @public */
export const IORESOURCE_RANGELENGTH = 0x00010000;
/** `IORESOURCE_SHADOWABLE`. @public */
export const IORESOURCE_SHADOWABLE = 0x00020000;
/** Size indicates alignment (`IORESOURCE_SIZEALIGN`). @public */
export const IORESOURCE_SIZEALIGN = 0x00040000;
/** Start field is alignment (`IORESOURCE_STARTALIGN`). @public */
export const IORESOURCE_STARTALIGN = 0x00080000;
/** `IORESOURCE_MEM_64`. @public */
export const IORESOURCE_MEM_64 = 0x00100000;
/** Forwarded by bridge (`IORESOURCE_WINDOW`). @public */
export const IORESOURCE_WINDOW = 0x00200000;
/** Resource is software muxed (`IORESOURCE_MUXED`). @public */
export const IORESOURCE_MUXED = 0x00400000;
/** Resource extended types (`IORESOURCE_EXT_TYPE_BITS`). @public */
export const IORESOURCE_EXT_TYPE_BITS = 0x01000000;
/** System RAM modifier (`IORESOURCE_SYSRAM`). @public */
export const IORESOURCE_SYSRAM = 0x01000000;
/** System RAM always detected via a driver (`IORESOURCE_SYSRAM_DRIVER_MANAGED`, v5.8+). @public */
export const IORESOURCE_SYSRAM_DRIVER_MANAGED = 0x02000000;
/** System RAM resource can be merged (`IORESOURCE_SYSRAM_MERGEABLE`, v5.10+). @public */
export const IORESOURCE_SYSRAM_MERGEABLE = 0x04000000;
/** Userland may not map this resource (`IORESOURCE_EXCLUSIVE`). @public */
export const IORESOURCE_EXCLUSIVE = 0x08000000;
/** `IORESOURCE_DISABLED`. @public */
export const IORESOURCE_DISABLED = 0x10000000;
/** No address assigned yet (`IORESOURCE_UNSET`). @public */
export const IORESOURCE_UNSET = 0x20000000;
/** `IORESOURCE_AUTO`. @public */
export const IORESOURCE_AUTO = 0x40000000;
/** Driver has marked this resource busy (`IORESOURCE_BUSY`, bit 31). @public */
export const IORESOURCE_BUSY = 0x80000000;
/** `IORESOURCE_MEM | IORESOURCE_SYSRAM` (`IORESOURCE_SYSTEM_RAM`). @public */
export const IORESOURCE_SYSTEM_RAM = 0x01000200;

// include/linux/ioport.h: descriptors (v5.13 numbering)

/** No descriptor (`IORES_DESC_NONE`). @public */
export const IORES_DESC_NONE = 0;
/** `IORES_DESC_CRASH_KERNEL`. @public */
export const IORES_DESC_CRASH_KERNEL = 1;
/** `IORES_DESC_ACPI_TABLES`. @public */
export const IORES_DESC_ACPI_TABLES = 2;
/** `IORES_DESC_ACPI_NV_STORAGE`. @public */
export const IORES_DESC_ACPI_NV_STORAGE = 3;
/** ACPI NFIT persistent memory (`IORES_DESC_PERSISTENT_MEMORY`). @public */
export const IORES_DESC_PERSISTENT_MEMORY = 4;
/** e820 type 12 persistent memory (`IORES_DESC_PERSISTENT_MEMORY_LEGACY`). @public */
export const IORES_DESC_PERSISTENT_MEMORY_LEGACY = 5;
/** Device-private (unaddressable) memory (`IORES_DESC_DEVICE_PRIVATE_MEMORY`). @public */
export const IORES_DESC_DEVICE_PRIVATE_MEMORY = 6;
/** `IORES_DESC_RESERVED` (7 in v5.13, after DEVICE_PUBLIC was removed). @public */
export const IORES_DESC_RESERVED = 7;
/** EFI specific-purpose memory (`IORES_DESC_SOFT_RESERVED`, v5.5+). @public */
export const IORES_DESC_SOFT_RESERVED = 8;

// include/linux/mm.h: region_intersects() results

/** The region overlaps only resources of the asked type (`REGION_INTERSECTS`). @public */
export const REGION_INTERSECTS = 0;
/** The region overlaps no resource of the asked type (`REGION_DISJOINT`). @public */
export const REGION_DISJOINT = 1;
/** The region overlaps the asked type and another (`REGION_MIXED`). @public */
export const REGION_MIXED = 2;

/** Depth cap of /proc/iomem's indentation (`MAX_IORES_LEVEL`). */
const MAX_IORES_LEVEL = 5;
const EINVAL = -ERRNO.EINVAL;

// ---------------------------------------------------------------------------
// struct resource

/**
 * Fields of a new {@link Resource}.
 * @public
 */
export interface ResourceInit {
  readonly name?: string | undefined;
  readonly start: number;
  /** Inclusive end address. */
  readonly end: number;
  readonly flags?: number;
  readonly desc?: number;
}

/**
 * One range of an address space. Mirrors `struct resource`
 * (include/linux/ioport.h): `start` and `end` are inclusive, `name` may be
 * missing (printed `<BAD>` by /proc/iomem), and `parent`/`sibling`/`child`
 * link it into a tree once requested.
 * @public
 */
export class Resource {
  name: string | undefined;
  start: number;
  end: number;
  flags: number;
  desc: number;
  parent: Resource | undefined = undefined;
  sibling: Resource | undefined = undefined;
  child: Resource | undefined = undefined;

  constructor(init: ResourceInit) {
    this.name = init.name;
    this.start = init.start;
    this.end = init.end;
    this.flags = init.flags ?? 0;
    this.desc = init.desc ?? IORES_DESC_NONE;
  }

  /** `%pR` with the name, for traces and messages. */
  get traceName(): string {
    return `${this.name ?? '<BAD>'} ${formatResource(this)}`;
  }

  /** The direct children, in address order. */
  children(): Resource[] {
    const out: Resource[] = [];
    for (let p = this.child; p !== undefined; p = p.sibling) out.push(p);
    return out;
  }
}

/**
 * A resource `[start, start + size - 1]` with the given flags and
 * `IORES_DESC_NONE`. Mirrors `DEFINE_RES_NAMED()`.
 * @public
 */
export function defineResNamed(start: number, size: number, name: string | undefined, flags: number): Resource {
  checkPhysRange('DEFINE_RES_NAMED', start, size);
  checkUnsigned('DEFINE_RES_NAMED', 'flags', flags);
  return new Resource({ name, start, end: start + size - 1, flags, desc: IORES_DESC_NONE });
}

/**
 * A memory resource `[start, start + size - 1]`. Mirrors `DEFINE_RES_MEM_NAMED()`.
 * @public
 */
export function defineResMem(start: number, size: number, name?: string): Resource {
  return defineResNamed(start, size, name, IORESOURCE_MEM);
}

/**
 * `end - start + 1`. Mirrors `resource_size()`.
 * @public
 */
export function resourceSize(res: Resource): number {
  return res.end - res.start + 1;
}

/**
 * `flags & IORESOURCE_TYPE_BITS`. Mirrors `resource_type()`.
 * @public
 */
export function resourceType(res: Resource): number {
  return (Math.floor(res.flags / 0x100) % 0x20) * 0x100;
}

/**
 * `flags & IORESOURCE_EXT_TYPE_BITS`. Mirrors `resource_ext_type()`.
 * @public
 */
export function resourceExtType(res: Resource): number {
  return anyBits(res.flags, IORESOURCE_EXT_TYPE_BITS) ? IORESOURCE_EXT_TYPE_BITS : 0;
}

/**
 * True iff `r1` completely contains `r2` and both have the same type and are
 * not `IORESOURCE_UNSET`. Mirrors `resource_contains()`.
 * @public
 */
export function resourceContains(r1: Resource, r2: Resource): boolean {
  if (resourceType(r1) !== resourceType(r2)) return false;
  if (anyBits(r1.flags, IORESOURCE_UNSET) || anyBits(r2.flags, IORESOURCE_UNSET)) return false;
  return r1.start <= r2.start && r1.end >= r2.end;
}

/**
 * True if any part of `r1` overlaps `r2`. Mirrors `resource_overlaps()`.
 * @public
 */
export function resourceOverlaps(r1: Resource, r2: Resource): boolean {
  return r1.start <= r2.end && r1.end >= r2.start;
}

function hexPad(x: number, width: number): string {
  return x.toString(16).padStart(width, '0');
}

/**
 * A resource as the kernel's `%pR` prints it (lib/vsprintf.c
 * `resource_string()`): `[mem 0x00100000-0x001fffff]`, `[io  0x0cf8-0x0cff]`,
 * with ` 64bit`, ` pref`, ` window`, ` disabled` decoded from the flags.
 * @public
 */
export function formatResource(res: Resource): string {
  let kind: string;
  let width: number;
  let decode = true;
  if (anyBits(res.flags, IORESOURCE_IO)) {
    kind = 'io  ';
    width = 4;
  } else if (anyBits(res.flags, IORESOURCE_MEM)) {
    kind = 'mem ';
    width = 8;
  } else {
    kind = '??? ';
    width = 8;
    decode = false;
  }
  let s = `[${kind}`;
  if (decode && anyBits(res.flags, IORESOURCE_UNSET)) {
    s += `size 0x${hexPad(resourceSize(res), width)}`;
  } else {
    s += `0x${hexPad(res.start, width)}`;
    if (res.start !== res.end) s += `-0x${hexPad(res.end, width)}`;
  }
  if (decode) {
    if (anyBits(res.flags, IORESOURCE_MEM_64)) s += ' 64bit';
    if (anyBits(res.flags, IORESOURCE_PREFETCH)) s += ' pref';
    if (anyBits(res.flags, IORESOURCE_WINDOW)) s += ' window';
    if (anyBits(res.flags, IORESOURCE_DISABLED)) s += ' disabled';
  } else {
    s += ` flags 0x${res.flags.toString(16)}`;
  }
  return `${s}]`;
}

/** `%pa`: a phys_addr_t as `0x` and 16 hex digits. */
function formatPhysAddr(x: number): string {
  return `0x${hexPad(x, 16)}`;
}

/** `next_resource(p, sibling_only)` (v5.13): depth-first successor. */
function nextResource(p: Resource, siblingOnly: boolean): Resource | undefined {
  if (siblingOnly) return p.sibling;
  if (p.child !== undefined) return p.child;
  let q: Resource = p;
  while (q.sibling === undefined && q.parent !== undefined) q = q.parent;
  return q.sibling;
}

/**
 * A walk callback: receives a copy of the matching part of a resource and
 * returns 0 to continue, anything else to stop the walk (that value is then
 * the walk's result).
 * @public
 */
export type ResourceWalkFn = (res: Resource) => number;

/** `physAddrBits` must be an integer from 12 to 52 (KernelError EINVAL). */
function checkPhysAddrBits(bits: number): void {
  checkUnsigned('setup_arch', 'physical address bits', bits, 52);
  if (bits < 12) throw new KernelError('EINVAL', `setup_arch: invalid physical address bits ${bits}`);
}

/**
 * A resource handed to request/insert must have unsigned integer bounds
 * (KernelError EINVAL); `end < start` is left to the kernel's own check,
 * which reports a conflict with the parent (-EBUSY).
 */
function checkResource(fn: string, res: Resource): void {
  if (!(res instanceof Resource)) throw new KernelError('EINVAL', `${fn}: not a struct resource`);
  checkUnsigned(fn, 'start', res.start);
  checkUnsigned(fn, 'end', res.end);
  checkUnsigned(fn, 'flags', res.flags);
}

/** The inclusive bounds of a walk must be unsigned integers (KernelError EINVAL). */
function checkWalk(fn: string, start: number, end: number): void {
  checkUnsigned(fn, 'start', start);
  checkUnsigned(fn, 'end', end);
}

/**
 * Options of a {@link ResourceTree}.
 * @public
 */
export interface ResourceTreeOptions {
  /** Name of the root (`iomem_resource` is "PCI mem"). */
  readonly name?: string;
  /**
   * Physical address bits of the CPU: the root spans `[0, 2^bits - 1]`, as
   * x86's `setup_arch()` sets `iomem_resource.end`. Default 52.
   */
  readonly physAddrBits?: number;
  /** Flags of the root; default `IORESOURCE_MEM`. */
  readonly flags?: number;
  /** `MAX_PHYSMEM_BITS` of the architecture, for `request_free_mem_region()`. Default 46 (x86_64). */
  readonly maxPhysmemBits?: number;
  /** `PA_SECTION_SHIFT` (= `SECTION_SIZE_BITS`), the alignment of `request_free_mem_region()`. Default 27 (x86_64). */
  readonly paSectionShift?: number;
  /** `PAGE_SHIFT`, for `walk_system_ram_range()` and `page_is_ram()`. Default 12. */
  readonly pageShift?: number;
  readonly tracer?: Tracer;
  readonly log?: Printk;
  /** Fault points: `failslab` makes `alloc_resource()` fail. */
  readonly faults?: FaultInjection;
}

/**
 * One machine's physical address space: `iomem_resource` and the functions
 * of kernel/resource.c that work on it.
 * @public
 */
export class ResourceTree {
  /** `iomem_resource`: the root, never itself printed by /proc/iomem. */
  readonly root: Resource;
  /** `MAX_PHYSMEM_BITS` of the architecture. */
  maxPhysmemBits: number;
  /** `PA_SECTION_SHIFT` of the architecture. */
  paSectionShift: number;
  /** `PAGE_SHIFT` of the architecture. */
  pageShift: number;
  private readonly tracer: Tracer | undefined;
  private readonly log: Printk | undefined;
  private readonly faults: FaultInjection | undefined;
  /**
   * Per parent, the child linked last by `__request_resource()`: a request
   * above it may start its walk of the sorted sibling list there, since
   * every sibling before it ends below it (hot-plugging memory block after
   * block appends to `iomem_resource`'s children, which the kernel walks
   * from the first each time). Used only while it is still that parent's
   * child; the list itself is the kernel's.
   */
  private readonly lastLinked = new WeakMap<Resource, Resource>();

  constructor(options: ResourceTreeOptions = {}) {
    const bits = options.physAddrBits ?? 52;
    checkPhysAddrBits(bits);
    this.root = new Resource({
      name: options.name ?? 'PCI mem',
      start: 0,
      end: 2 ** bits - 1,
      flags: options.flags ?? IORESOURCE_MEM,
    });
    this.maxPhysmemBits = options.maxPhysmemBits ?? 46;
    this.paSectionShift = options.paSectionShift ?? 27;
    this.pageShift = options.pageShift ?? 12;
    this.tracer = options.tracer;
    this.log = options.log;
    this.faults = options.faults;
  }

  /**
   * Sets the root's end to `2^bits - 1`, as x86's `setup_arch()` does with
   * `iomem_resource.end` once the CPU's physical address width is known.
   * Throws KernelError EBUSY if a resource already lies beyond the new end,
   * and KernelError EINVAL unless `bits` is an integer from 12 (one page) to
   * 52 (x86's `MAX_PHYSMEM_BITS` with 5-level paging, the widest physical
   * address any CPU reports; the model's addresses are exact up to 2^53).
   */
  setPhysAddrBits(bits: number): void {
    checkPhysAddrBits(bits);
    const end = 2 ** bits - 1;
    for (let p = this.root.child; p !== undefined; p = p.sibling) {
      if (p.end > end) throw new KernelError('EBUSY', `${p.name ?? '<BAD>'} lies beyond 2^${bits}`);
    }
    this.root.end = end;
  }

  /** The number of page frames below 2^53, the model's exact address limit. */
  private maxPfn(): number {
    return 2 ** (53 - this.pageShift);
  }

  /** Every resource below the root, depth first, as /proc/iomem lists them. */
  all(): Resource[] {
    const out: Resource[] = [];
    for (let p = this.root.child; p !== undefined; p = nextResource(p, false)) out.push(p);
    return out;
  }

  private allocResource(): Resource | undefined {
    if (this.faults?.shouldFail('failslab', 64)) return undefined;
    return new Resource({ start: 0, end: 0 });
  }

  // -------------------------------------------------------------------------
  // request / release at one level

  /** `__request_resource()`: returns the conflict, or links `res` and returns undefined. */
  private requestResourceLocked(root: Resource, res: Resource): Resource | undefined {
    const { start, end } = res;
    if (end < start) return root;
    if (start < root.start) return root;
    if (end > root.end) return root;
    let prev: Resource | undefined;
    let tmp = root.child;
    const hint = this.lastLinked.get(root);
    if (hint !== undefined && hint.parent === root && hint.end < start) {
      // the walk from the first child would pass every sibling up to it
      prev = hint;
      tmp = hint.sibling;
    }
    for (;;) {
      if (tmp === undefined || tmp.start > end) {
        res.sibling = tmp;
        if (prev === undefined) root.child = res;
        else prev.sibling = res;
        res.parent = root;
        this.lastLinked.set(root, res);
        return undefined;
      }
      if (tmp.end < start) {
        prev = tmp;
        tmp = tmp.sibling;
        continue;
      }
      return tmp;
    }
  }

  /**
   * Links `res` as a child of `root` if it fits inside `root` and overlaps
   * no existing child; otherwise returns the conflicting resource (`root`
   * itself when `res` does not fit inside it) and changes nothing. Mirrors
   * `request_resource_conflict()`.
   */
  requestResourceConflict(root: Resource, res: Resource): Resource | undefined {
    checkResource('request_resource_conflict', res);
    const t = this.tracer;
    if (t?.enabled) return t.invoke('request_resource_conflict', this, this.requestResourceLocked, root, res);
    return this.requestResourceLocked(root, res);
  }

  /**
   * Like {@link ResourceTree.requestResourceConflict}, but throws
   * KernelError EBUSY on a conflict. Mirrors `request_resource()`, which
   * returns 0 or -EBUSY.
   */
  requestResource(root: Resource, res: Resource): void {
    checkResource('request_resource', res);
    const t = this.tracer;
    if (t?.enabled) {
      t.invoke('request_resource', this, this.requestResourceImpl, root, res);
      return;
    }
    this.requestResourceImpl(root, res);
  }

  private requestResourceImpl(root: Resource, res: Resource): void {
    const conflict = this.requestResourceLocked(root, res);
    if (conflict !== undefined) {
      throw new KernelError('EBUSY', `${formatResource(res)} conflicts with ${conflict.name ?? '<BAD>'} ${formatResource(conflict)}`);
    }
  }

  /** `__release_resource(old, release_child)`: false if `old` is not linked. */
  private releaseResourceLocked(old: Resource, releaseChild: boolean): boolean {
    const parent = old.parent;
    if (parent === undefined) return false;
    let prev: Resource | undefined;
    for (let tmp = parent.child; tmp !== undefined; prev = tmp, tmp = tmp.sibling) {
      if (tmp !== old) continue;
      let replacement: Resource | undefined;
      if (releaseChild || tmp.child === undefined) {
        replacement = tmp.sibling;
      } else {
        // Move the children up into old's place.
        let chd = tmp.child;
        for (;;) {
          chd.parent = parent;
          if (chd.sibling === undefined) break;
          chd = chd.sibling;
        }
        chd.sibling = tmp.sibling;
        replacement = tmp.child;
        tmp.child = undefined;
      }
      if (prev === undefined) parent.child = replacement;
      else prev.sibling = replacement;
      old.parent = undefined;
      old.sibling = undefined;
      return true;
    }
    return false;
  }

  /**
   * Unlinks `old` (with its children) from the tree. Throws KernelError
   * EINVAL if it is not in a tree. Mirrors `release_resource()`.
   */
  releaseResource(old: Resource): void {
    const t = this.tracer;
    if (t?.enabled) {
      t.invoke('release_resource', this, this.releaseResourceWithChildren, old);
      return;
    }
    this.releaseResourceImpl(old, true);
  }

  private releaseResourceImpl(old: Resource, releaseChild: boolean): void {
    if (!this.releaseResourceLocked(old, releaseChild)) {
      throw new KernelError('EINVAL', `${old.name ?? '<BAD>'} ${formatResource(old)} is not in the resource tree`);
    }
  }

  /** `release_resource()`'s body for {@link Tracer.invoke}: takes the children along. */
  private releaseResourceWithChildren(old: Resource): void {
    this.releaseResourceImpl(old, true);
  }

  /** `remove_resource()`'s body for {@link Tracer.invoke}: the children move up. */
  private removeResourceImpl(old: Resource): void {
    this.releaseResourceImpl(old, false);
  }

  /** `__insert_resource()`: undefined on success, else the conflict. */
  private insertResourceLocked(parentIn: Resource, res: Resource): Resource | undefined {
    let parent = parentIn;
    let first: Resource | undefined;
    for (;; parent = first) {
      first = this.requestResourceLocked(parent, res);
      if (first === undefined) return undefined;
      if (first === parent) return first;
      if (first === res) {
        this.log?.warn('WARNING: duplicated insertion in __insert_resource');
        return first;
      }
      if (first.start > res.start || first.end < res.end) break;
      if (first.start === res.start && first.end === res.end) break;
    }
    let next: Resource = first;
    for (;;) {
      // Partial overlap? Bad, and unfixable.
      if (next.start < res.start || next.end > res.end) return next;
      if (next.sibling === undefined) break;
      if (next.sibling.start > res.end) break;
      next = next.sibling;
    }
    res.parent = parent;
    res.sibling = next.sibling;
    res.child = first;
    next.sibling = undefined;
    for (let n: Resource | undefined = first; n !== undefined; n = n.sibling) n.parent = res;
    if (parent.child === first) {
      parent.child = res;
    } else {
      let n = parent.child!;
      while (n.sibling !== first) n = n.sibling!;
      n.sibling = res;
    }
    return undefined;
  }

  /**
   * Inserts `res` below `parent`, at the deepest level where it fits; the
   * existing resources it entirely covers become its children. Returns the
   * conflicting resource (a partial overlap, or `parent` if `res` does not
   * fit in it) and changes nothing then. Mirrors `insert_resource_conflict()`.
   */
  insertResourceConflict(parent: Resource, res: Resource): Resource | undefined {
    checkResource('insert_resource_conflict', res);
    const t = this.tracer;
    if (t?.enabled) return t.invoke('insert_resource_conflict', this, this.insertResourceLocked, parent, res);
    return this.insertResourceLocked(parent, res);
  }

  /**
   * {@link ResourceTree.insertResourceConflict} throwing KernelError EBUSY on
   * a conflict. Mirrors `insert_resource()`.
   */
  insertResource(parent: Resource, res: Resource): void {
    checkResource('insert_resource', res);
    const t = this.tracer;
    if (t?.enabled) {
      t.invoke('insert_resource', this, this.insertResourceImpl, parent, res);
      return;
    }
    this.insertResourceImpl(parent, res);
  }

  private insertResourceImpl(parent: Resource, res: Resource): void {
    const conflict = this.insertResourceLocked(parent, res);
    if (conflict !== undefined) {
      throw new KernelError('EBUSY', `${formatResource(res)} conflicts with ${conflict.name ?? '<BAD>'} ${formatResource(conflict)}`);
    }
  }

  /**
   * Unlinks `old` and moves its children up to where they were before it was
   * inserted. Throws KernelError EINVAL if `old` is not in a tree. Mirrors
   * `remove_resource()`.
   */
  removeResource(old: Resource): void {
    const t = this.tracer;
    if (t?.enabled) {
      t.invoke('remove_resource', this, this.removeResourceImpl, old);
      return;
    }
    this.releaseResourceImpl(old, false);
  }

  /** `__adjust_resource()`: false (and nothing changed) if it cannot fit. */
  private adjustResourceLocked(res: Resource, start: number, size: number): boolean {
    const parent = res.parent;
    const end = start + size - 1;
    if (end < start) return false;
    if (parent !== undefined) {
      if (start < parent.start || end > parent.end) return false;
      if (res.sibling !== undefined && res.sibling.start <= end) return false;
      let tmp = parent.child!;
      if (tmp !== res) {
        while (tmp.sibling !== res) tmp = tmp.sibling!;
        if (start <= tmp.end) return false;
      }
    }
    for (let c = res.child; c !== undefined; c = c.sibling) {
      if (c.start < start || c.end > end) return false;
    }
    res.start = start;
    res.end = end;
    return true;
  }

  /**
   * Moves/resizes `res` to `[start, start + size - 1]`. Throws KernelError
   * EBUSY, changing nothing, if that leaves its parent, overlaps a sibling or
   * no longer covers a child, or if `size` is 0 (`end < start`, as the
   * kernel checks). Throws KernelError EINVAL, changing nothing, if `start`
   * or `size` is not an unsigned integer below 2^53. Mirrors
   * `adjust_resource()`.
   */
  adjustResource(res: Resource, start: number, size: number): void {
    checkPhysRange('adjust_resource', start, size);
    const t = this.tracer;
    if (t?.enabled) {
      t.invoke('adjust_resource', this, this.adjustResourceImpl, res, start, size);
      return;
    }
    this.adjustResourceImpl(res, start, size);
  }

  private adjustResourceImpl(res: Resource, start: number, size: number): void {
    if (!this.adjustResourceLocked(res, start, size)) {
      throw new KernelError('EBUSY', `cannot adjust ${res.name ?? '<BAD>'} ${formatResource(res)}`);
    }
  }

  /**
   * The direct child of `root` that starts at `start`, if any. Mirrors
   * `lookup_resource()`.
   */
  lookupResource(root: Resource, start: number): Resource | undefined {
    checkUnsigned('lookup_resource', 'start', start);
    for (let r = root.child; r !== undefined; r = r.sibling) if (r.start === start) return r;
    return undefined;
  }

  // -------------------------------------------------------------------------
  // busy regions

  /** `__request_region_locked()`: fills and links `res`; false on conflict. */
  private requestRegionLocked(res: Resource, parentIn: Resource, start: number, n: number, name: string | undefined, flags: number): boolean {
    let parent = parentIn;
    res.name = name;
    res.start = start;
    res.end = start + n - 1;
    for (;;) {
      res.flags = orBits(resourceType(parent) + resourceExtType(parent), orBits(IORESOURCE_BUSY, flags));
      res.desc = parent.desc;
      const conflict = this.requestResourceLocked(parent, res);
      if (conflict === undefined) return true;
      // mm/hmm.c reserves physical addresses which then become unavailable
      // to other users; the kernel warns to aid debugging.
      if (conflict.desc === IORES_DESC_DEVICE_PRIVATE_MEMORY) {
        this.log?.warn(
          `resource: Unaddressable device ${conflict.name ?? '<BAD>'} ${formatResource(conflict)} conflicts with ${formatResource(res)}`,
        );
      }
      if (conflict !== parent && !anyBits(conflict.flags, IORESOURCE_BUSY)) {
        parent = conflict;
        continue;
      }
      // A muxed conflict would sleep until released; a single-threaded model
      // cannot wait, so it fails like any busy conflict.
      return false;
    }
  }

  /**
   * Creates a new BUSY resource `[start, start + n - 1]` named `name` below
   * `parent`, descending into any non-busy resource that contains it (the new
   * resource inherits the type, extended type and descriptor of the resource
   * it lands in). Returns `undefined`, changing nothing, if it overlaps a busy
   * resource or straddles a boundary, or if allocation fails. Mirrors
   * `__request_region()`.
   */
  requestRegion(parent: Resource, start: number, n: number, name: string | undefined, flags: number = 0): Resource | undefined {
    checkPhysRange('__request_region', start, n);
    checkUnsigned('__request_region', 'flags', flags);
    const t = this.tracer;
    if (t?.enabled) {
      return t.invoke('__request_region', this, this.requestRegionImpl, parent, start, n, name, flags);
    }
    return this.requestRegionImpl(parent, start, n, name, flags);
  }

  private requestRegionImpl(parent: Resource, start: number, n: number, name: string | undefined, flags: number): Resource | undefined {
    const res = this.allocResource();
    if (res === undefined) return undefined;
    if (!this.requestRegionLocked(res, parent, start, n, name, flags)) return undefined;
    return res;
  }

  /**
   * `request_mem_region(start, n, name)`: {@link ResourceTree.requestRegion}
   * on `iomem_resource`.
   */
  requestMemRegion(start: number, n: number, name: string | undefined): Resource | undefined {
    return this.requestRegion(this.root, start, n, name, 0);
  }

  /**
   * `request_mem_region_exclusive()`: a busy region userspace may not map
   * (`IORESOURCE_EXCLUSIVE`).
   */
  requestMemRegionExclusive(start: number, n: number, name: string | undefined): Resource | undefined {
    return this.requestRegion(this.root, start, n, name, IORESOURCE_EXCLUSIVE);
  }

  /**
   * Releases the busy region that is exactly `[start, start + n - 1]`,
   * looking through non-busy resources that contain it. If there is none,
   * logs "Trying to free nonexistent resource" and changes nothing (the
   * kernel's function is void). Mirrors `__release_region()`.
   */
  releaseRegion(parent: Resource, start: number, n: number): void {
    checkPhysRange('__release_region', start, n);
    const t = this.tracer;
    if (t?.enabled) {
      t.invoke('__release_region', this, this.releaseRegionImpl, parent, start, n);
      return;
    }
    this.releaseRegionImpl(parent, start, n);
  }

  private releaseRegionImpl(parentIn: Resource, start: number, n: number): void {
    const end = start + n - 1;
    let parent = parentIn;
    let prev: Resource | undefined;
    let res = parent.child;
    while (res !== undefined) {
      if (res.start <= start && res.end >= end) {
        if (!anyBits(res.flags, IORESOURCE_BUSY)) {
          parent = res;
          prev = undefined;
          res = res.child;
          continue;
        }
        if (res.start !== start || res.end !== end) break;
        if (prev === undefined) parent.child = res.sibling;
        else prev.sibling = res.sibling;
        res.parent = undefined;
        res.sibling = undefined;
        return;
      }
      prev = res;
      res = res.sibling;
    }
    this.log?.warn(`resource: Trying to free nonexistent resource <${formatPhysAddr(start)}-${formatPhysAddr(end)}>`);
  }

  /** `release_mem_region(start, n)`: {@link ResourceTree.releaseRegion} on `iomem_resource`. */
  releaseMemRegion(start: number, n: number): void {
    this.releaseRegion(this.root, start, n);
  }

  /**
   * Memory hot-remove's release: the range `[start, start + size - 1]` must
   * match, or lie inside, one busy memory resource (found through non-busy
   * ones). That resource is freed, trimmed at one end, or split in two (the
   * upper part a new resource with the same name, flags and descriptor; all
   * children stay with the lower part). Nothing happens if no such resource
   * exists; a trim or split that a child prevents is the kernel's
   * WARN_ON_ONCE, logged, and changes nothing. Never fails (v5.10+ semantics:
   * the kernel function is void). Mirrors `release_mem_region_adjustable()`.
   */
  releaseMemRegionAdjustable(start: number, size: number): void {
    checkPhysRange('release_mem_region_adjustable', start, size);
    const t = this.tracer;
    if (t?.enabled) {
      t.invoke('release_mem_region_adjustable', this, this.releaseAdjustableImpl, start, size);
      return;
    }
    this.releaseAdjustableImpl(start, size);
  }

  private releaseAdjustableImpl(start: number, size: number): void {
    let parent = this.root;
    const end = start + size - 1;
    if (start < parent.start || end > parent.end) {
      this.log?.warn('WARNING: release_mem_region_adjustable: range outside iomem_resource');
      return;
    }
    let prev: Resource | undefined;
    let res = parent.child;
    while (res !== undefined) {
      if (res.start >= end) break;
      // Look for the next resource if it does not fit into.
      if (res.start > start || res.end < end) {
        prev = res;
        res = res.sibling;
        continue;
      }
      if (!anyBits(res.flags, IORESOURCE_MEM)) break;
      if (!anyBits(res.flags, IORESOURCE_BUSY)) {
        parent = res;
        prev = undefined;
        res = res.child;
        continue;
      }
      // Found the target resource; adjust it accordingly.
      if (res.start === start && res.end === end) {
        if (prev === undefined) parent.child = res.sibling;
        else prev.sibling = res.sibling;
        res.parent = undefined;
        res.sibling = undefined;
      } else if (res.start === start) {
        if (!this.adjustResourceLocked(res, end + 1, res.end - end)) this.warnAdjust(res);
      } else if (res.end === end) {
        if (!this.adjustResourceLocked(res, res.start, start - res.start)) this.warnAdjust(res);
      } else {
        // Split into two entries.
        const upper = new Resource({ name: res.name, start: end + 1, end: res.end, flags: res.flags, desc: res.desc });
        const oldSibling = res.sibling;
        if (!this.adjustResourceLocked(res, res.start, start - res.start)) {
          this.warnAdjust(res);
          break;
        }
        upper.parent = res.parent;
        upper.sibling = oldSibling;
        res.sibling = upper;
      }
      break;
    }
  }

  private warnAdjust(res: Resource): void {
    this.log?.warn(`WARNING: release_mem_region_adjustable: cannot adjust ${res.name ?? '<BAD>'} ${formatResource(res)}`);
  }

  /**
   * Marks a busy System RAM resource mergeable and merges it with adjacent
   * siblings that are mergeable too (same flags, name, descriptor, touching,
   * no children): the surviving resource is the lower one. Throws Error (the
   * kernel's WARN_ON_ONCE) if `res` is not busy System RAM. Mirrors
   * `merge_system_ram_resource()` (v5.10+). As in the kernel, `res` may be
   * gone from the tree afterwards; the model compares names by value where
   * the kernel compares the pointers.
   */
  mergeSystemRamResource(res: Resource): void {
    const want = orBits(IORESOURCE_SYSTEM_RAM, IORESOURCE_BUSY);
    if (!hasBits(res.flags, want)) {
      throw new Error(`merge_system_ram_resource: ${formatResource(res)} is not busy System RAM`);
    }
    res.flags = orBits(res.flags, IORESOURCE_SYSRAM_MERGEABLE);
    const mergeable = (r1: Resource, r2: Resource): boolean =>
      r1.flags === r2.flags &&
      r1.end + 1 === r2.start &&
      r1.name === r2.name &&
      r1.desc === r2.desc &&
      r1.child === undefined &&
      r2.child === undefined;
    // Try to merge with the next item in the list.
    const next = res.sibling;
    if (next !== undefined && mergeable(res, next)) {
      res.end = next.end;
      res.sibling = next.sibling;
      next.parent = undefined;
      next.sibling = undefined;
    }
    // Try to merge with the previous item in the list.
    let cur = res.parent?.child;
    while (cur !== undefined && cur.sibling !== res) cur = cur.sibling;
    if (cur !== undefined && mergeable(cur, res)) {
      cur.end = res.end;
      cur.sibling = res.sibling;
      res.parent = undefined;
      res.sibling = undefined;
    }
  }

  // -------------------------------------------------------------------------
  // searches

  /** `__region_intersects()` on the top level of `iomem_resource`. */
  private regionIntersectsLocked(start: number, size: number, flags: number, desc: number): number {
    const end = start + size - 1;
    let type = 0;
    let other = 0;
    for (let p = this.root.child; p !== undefined; p = p.sibling) {
      const isType = hasBits(p.flags, flags) && (desc === IORES_DESC_NONE || desc === p.desc);
      if (p.start <= end && p.end >= start) {
        if (isType) type++;
        else other++;
      }
    }
    if (type === 0) return REGION_DISJOINT;
    if (other === 0) return REGION_INTERSECTS;
    return REGION_MIXED;
  }

  /**
   * Classifies `[start, start + size - 1]` against the top-level resources
   * of `iomem_resource`: REGION_DISJOINT if it overlaps none that has all of
   * `flags` (and descriptor `desc`, unless IORES_DESC_NONE),
   * REGION_INTERSECTS if it overlaps only such resources (holes do not
   * count), REGION_MIXED if it overlaps such a resource and another. Mirrors
   * `region_intersects()` (v5.13 looks at the first level only).
   */
  regionIntersects(start: number, size: number, flags: number, desc: number): number {
    checkPhysRange('region_intersects', start, size);
    const t = this.tracer;
    if (t?.enabled) {
      return t.invoke('region_intersects', this, this.regionIntersectsLocked, start, size, flags, desc);
    }
    return this.regionIntersectsLocked(start, size, flags, desc);
  }

  /**
   * `find_next_iomem_res()` (v5.13): the lowest resource overlapping
   * `[start, end]` with all of `flags` and the descriptor, clipped to the
   * range. Siblings are skipped until one overlaps; from there the walk
   * descends into children unless `firstLvl`.
   */
  private findNextIomemRes(start: number, end: number, flags: number, desc: number, firstLvl: boolean): Resource | undefined {
    if (start >= end) return undefined;
    let siblingsOnly = true;
    let p = this.root.child;
    for (; p !== undefined; p = nextResource(p, siblingsOnly)) {
      // If we passed the resource we are looking for, stop.
      if (p.start > end) return undefined;
      // Skip until we find a range that matches what we look for.
      if (p.end < start) continue;
      siblingsOnly = firstLvl;
      if (!hasBits(p.flags, flags)) continue;
      if (desc !== IORES_DESC_NONE && desc !== p.desc) continue;
      break;
    }
    if (p === undefined) return undefined;
    const copy = new Resource({
      name: p.name,
      start: Math.max(start, p.start),
      end: Math.min(end, p.end),
      flags: p.flags,
      desc: p.desc,
    });
    copy.parent = p.parent;
    return copy;
  }

  private walkLocked(start: number, end: number, flags: number, desc: number, firstLvl: boolean, func: ResourceWalkFn): number {
    let ret = EINVAL;
    let s = start;
    while (s < end) {
      const res = this.findNextIomemRes(s, end, flags, desc, firstLvl);
      if (res === undefined) break;
      ret = func(res);
      if (ret !== 0) break;
      s = res.end + 1;
    }
    return ret;
  }

  /**
   * Calls `func` with (a copy of, clipped to the range) every resource
   * overlapping `[start, end]` that has all of `flags` and descriptor `desc`
   * (any, for IORES_DESC_NONE), in address order, searching the whole tree.
   * Returns what the last call returned, or -22 (-EINVAL) if nothing
   * matched; a non-zero return stops the walk. The kernel returns this int
   * (callers compare it), so it is returned, not thrown. Mirrors
   * `walk_iomem_res_desc()`.
   */
  walkIomemResDesc(desc: number, flags: number, start: number, end: number, func: ResourceWalkFn): number {
    checkWalk('walk_iomem_res_desc', start, end);
    const t = this.tracer;
    if (t?.enabled) {
      return this.walkIomemResDescTraced(t, desc, flags, start, end, func);
    }
    return this.walkLocked(start, end, flags, desc, false, func);
  }

  /**
   * The traced path of {@link ResourceTree.walkIomemResDesc}: the trace shows
   * the kernel's argument order without `func`, so this needs a closure; it
   * lives here so that the untraced path allocates none.
   */
  private walkIomemResDescTraced(t: Tracer, desc: number, flags: number, start: number, end: number, func: ResourceWalkFn): number {
    return t.call('walk_iomem_res_desc', [desc, flags, start, end], () => this.walkLocked(start, end, flags, desc, false, func));
  }

  /**
   * {@link ResourceTree.walkIomemResDesc} over top-level busy System RAM
   * (`IORESOURCE_SYSTEM_RAM | IORESOURCE_BUSY`). Mirrors `walk_system_ram_res()`.
   */
  walkSystemRamRes(start: number, end: number, func: ResourceWalkFn): number {
    checkWalk('walk_system_ram_res', start, end);
    return this.walkLocked(start, end, orBits(IORESOURCE_SYSTEM_RAM, IORESOURCE_BUSY), IORES_DESC_NONE, true, func);
  }

  /**
   * {@link ResourceTree.walkIomemResDesc} over top-level busy memory
   * (`IORESOURCE_MEM | IORESOURCE_BUSY`). Mirrors `walk_mem_res()`.
   */
  walkMemRes(start: number, end: number, func: ResourceWalkFn): number {
    checkWalk('walk_mem_res', start, end);
    return this.walkLocked(start, end, orBits(IORESOURCE_MEM, IORESOURCE_BUSY), IORES_DESC_NONE, true, func);
  }

  /**
   * Calls `func(pfn, nrPages)` for every run of whole pages of busy System
   * RAM (at any depth) within `[startPfn, startPfn + nrPages)`. Returns the
   * last non-zero result, 0, or -22 (-EINVAL) if no RAM was found. Mirrors
   * `walk_system_ram_range()`.
   */
  walkSystemRamRange(startPfn: number, nrPages: number, func: (pfn: number, nrPages: number) => number): number {
    checkUnsigned('walk_system_ram_range', 'start_pfn', startPfn, this.maxPfn());
    checkUnsigned('walk_system_ram_range', 'nr_pages', nrPages, this.maxPfn() - startPfn);
    const t = this.tracer;
    if (t?.enabled) {
      return this.walkSystemRamRangeTraced(t, startPfn, nrPages, func);
    }
    return this.walkRamRangeImpl(startPfn, nrPages, func);
  }

  /**
   * The traced path of {@link ResourceTree.walkSystemRamRange}: `func` is not
   * traced, so this needs a closure; it lives here so that the untraced path
   * allocates none.
   */
  private walkSystemRamRangeTraced(t: Tracer, startPfn: number, nrPages: number, func: (pfn: number, nrPages: number) => number): number {
    return t.call('walk_system_ram_range', [startPfn, nrPages], () => this.walkRamRangeImpl(startPfn, nrPages, func));
  }

  private walkRamRangeImpl(startPfn: number, nrPages: number, func: (pfn: number, nrPages: number) => number): number {
    const shift = this.pageShift;
    let start = startPfn * 2 ** shift;
    const end = (startPfn + nrPages) * 2 ** shift - 1;
    const flags = orBits(IORESOURCE_SYSTEM_RAM, IORESOURCE_BUSY);
    let ret = EINVAL;
    while (start < end) {
      const res = this.findNextIomemRes(start, end, flags, IORES_DESC_NONE, false);
      if (res === undefined) break;
      const pfn = pfnUp(res.start, shift);
      const endPfn = pfnDown(res.end + 1, shift);
      if (endPfn > pfn) ret = func(pfn, endPfn - pfn);
      if (ret !== 0) break;
      start = res.end + 1;
    }
    return ret;
  }

  /**
   * Whether page frame `pfn` is registered as busy System RAM. Mirrors the
   * generic `page_is_ram()`.
   */
  pageIsRam(pfn: number): boolean {
    checkUnsigned('page_is_ram', 'pfn', pfn, this.maxPfn() - 1);
    return this.walkRamRangeImpl(pfn, 1, () => 1) === 1;
  }

  // -------------------------------------------------------------------------
  // device-private memory

  private requestFreeMemRegionImpl(base: Resource, sizeIn: number, name: string): Resource {
    const size = align(sizeIn, 2 ** this.paSectionShift);
    const end = Math.min(base.end, 2 ** this.maxPhysmemBits - 1);
    for (let addr = end - size + 1; addr > size && addr >= base.start; addr -= size) {
      if (this.regionIntersectsLocked(addr, size, 0, IORES_DESC_NONE) !== REGION_DISJOINT) continue;
      const res = this.requestRegionImpl(this.root, addr, size, name, 0);
      if (res === undefined) throw new KernelError('ENOMEM', 'request_free_mem_region: request_mem_region failed');
      res.desc = IORES_DESC_DEVICE_PRIVATE_MEMORY;
      return res;
    }
    throw new KernelError('ERANGE', `no free range of 0x${size.toString(16)} bytes in ${formatResource(base)}`);
  }

  /**
   * Finds a free slot for device-private memory and requests it: `size`
   * rounded up to a memory section; candidates run DOWNWARD in steps of that
   * size from `min(base.end, 2^MAX_PHYSMEM_BITS - 1) - size + 1`, and the
   * first one that overlaps no top-level resource
   * (`region_intersects(addr, size, 0, IORES_DESC_NONE) == REGION_DISJOINT`)
   * becomes a busy region named `name` with descriptor
   * IORES_DESC_DEVICE_PRIVATE_MEMORY. Throws KernelError ERANGE if there is
   * none, ENOMEM if allocation fails; nothing changes then. Mirrors
   * `request_free_mem_region()` (CONFIG_DEVICE_PRIVATE, v5.13).
   */
  requestFreeMemRegion(base: Resource, size: number, name: string): Resource {
    checkUnsigned('request_free_mem_region', 'size', size);
    const t = this.tracer;
    if (t?.enabled) return t.invoke('request_free_mem_region', this, this.requestFreeMemRegionImpl, base, size, name);
    return this.requestFreeMemRegionImpl(base, size, name);
  }

  /**
   * {@link ResourceTree.requestFreeMemRegion} named after `dev`, released
   * when the device is unbound (devres). Mirrors
   * `devm_request_free_mem_region()`.
   */
  devmRequestFreeMemRegion(dev: Device, base: Resource, size: number): Resource {
    checkUnsigned('devm_request_free_mem_region', 'size', size);
    const t = this.tracer;
    if (t?.enabled) return t.invoke('devm_request_free_mem_region', this, this.devmFreeImpl, dev, base, size);
    return this.devmFreeImpl(dev, base, size);
  }

  private devmFreeImpl(dev: Device, base: Resource, size: number): Resource {
    const res = this.requestFreeMemRegionImpl(base, size, devName(dev));
    const { start } = res;
    const n = resourceSize(res);
    try {
      devmAddAction(dev, () => this.releaseRegionImpl(this.root, start, n), 'devm_region_release');
    } catch (e) {
      this.releaseRegionImpl(this.root, start, n);
      throw e;
    }
    return res;
  }

  /**
   * `devm_request_mem_region(dev, start, n, name)`: a busy region released
   * when `dev` is unbound. Returns `undefined`, changing nothing, on conflict.
   * Mirrors `__devm_request_region()`.
   */
  devmRequestMemRegion(dev: Device, start: number, n: number, name: string | undefined): Resource | undefined {
    checkPhysRange('__devm_request_region', start, n);
    const t = this.tracer;
    if (t?.enabled) return t.invoke('__devm_request_region', this, this.devmRegionImpl, dev, start, n, name);
    return this.devmRegionImpl(dev, start, n, name);
  }

  private devmRegionImpl(dev: Device, start: number, n: number, name: string | undefined): Resource | undefined {
    const res = this.requestRegionImpl(this.root, start, n, name, 0);
    if (res === undefined) return undefined;
    try {
      devmAddAction(dev, () => this.releaseRegionImpl(this.root, start, n), 'devm_region_release');
    } catch {
      this.releaseRegionImpl(this.root, start, n);
      return undefined;
    }
    return res;
  }

  // -------------------------------------------------------------------------
  // /proc/iomem

  /**
   * The text of `/proc/iomem` (`r_show()`): every resource depth first, as
   * `%*s%0*llx-%0*llx : %s` — two spaces per level below the root (capped at
   * `MAX_IORES_LEVEL` = 5 levels), start and end in lower-case hex
   * zero-padded to 8 digits (4 if the root ends below 0x10000; longer
   * addresses print in full), and the name (`<BAD>` if missing). A reader
   * without CAP_SYS_ADMIN sees every address as zero.
   */
  procIomem(options: { capSysAdmin?: boolean } = {}): string {
    const root = this.root;
    const width = root.end < 0x10000 ? 4 : 8;
    const privileged = options.capSysAdmin ?? true;
    let out = '';
    for (let r = root.child; r !== undefined; r = nextResource(r, false)) {
      let depth = 0;
      for (let p: Resource = r; depth < MAX_IORES_LEVEL; depth++, p = p.parent!) if (p.parent === root) break;
      const start = privileged ? r.start : 0;
      const end = privileged ? r.end : 0;
      out += `${' '.repeat(depth * 2)}${hexPad(start, width)}-${hexPad(end, width)} : ${r.name ?? '<BAD>'}\n`;
    }
    return out;
  }
}
