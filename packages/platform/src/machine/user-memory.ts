/**
 * Named pages (the demo's `memalloc`, `memread` and `memfree` commands): memory
 * that something on the machine holds, so that hot-remove has something to
 * move, or something it cannot move.
 *
 * Two kinds, as the kernel distinguishes them:
 *
 * - a *user* page (the default): what a process gets when it first touches
 *   anonymous memory — `alloc_pages(GFP_HIGHUSER_MOVABLE)`, put on the LRU.
 *   Movable: the allocator prefers ZONE_MOVABLE for it, and offlining
 *   migrates it elsewhere; the page's `mapping` is told where it went (the
 *   model's stand-in for the page tables `remove_migration_ptes()`
 *   rewrites), so `memread` finds the data at its new address.
 * - a *kernel* page (`-k`): `alloc_pages(GFP_KERNEL)`, as a driver or slab
 *   would take. It cannot move: a memory block holding one cannot be
 *   offlined (-EBUSY), and so the DIMM it lives on cannot be unplugged.
 * - a *pinned* user page (`-p`): a user page with one more reference, as
 *   `get_user_pages()` leaves it while a device does DMA to it. Migration
 *   needs the page's references to be its own: offlining retries until a
 *   signal stops it (the model's stand-in: -EINTR, "signal backoff").
 *
 * The data is written to the machine's physical memory (`PhysMem`), at the
 * page's physical address, and read back from wherever the page is now.
 */
import { KernelError } from '@zonedev/kernel';
import type { MigrationMapping } from '@zonedev/memory-hotplug';
import { GFP_HIGHUSER_MOVABLE, GFP_KERNEL, PG_lru, __GFP_THISNODE, gfpOr } from '@zonedev/mmzone';
import type { Pfn } from '@zonedev/mmzone';
import type { MachineCore } from './core.js';

/**
 * One named page.
 *
 * @public
 */
export interface NamedPage {
  /** The name it was allocated under. */
  readonly name: string;
  /** A kernel (unmovable) page rather than a user (movable, LRU) one. */
  readonly kernel: boolean;
  /** A user page with an extra reference (a pin). */
  readonly pinned: boolean;
  /** Where it is now. */
  pfn: number;
  /** The pfns it was migrated from, oldest first. */
  readonly movedFrom: number[];
}

/**
 * The named pages of one machine.
 *
 * @public
 */
export class UserMemory {
  private readonly m: MachineCore;
  private readonly pages = new Map<string, NamedPage>();

  /** The named pages of machine `m` (none yet). */
  constructor(m: MachineCore) {
    this.m = m;
  }

  /** Pages of anonymous (user) memory: `/proc/meminfo`'s AnonPages. */
  anonPages(): number {
    let n = 0;
    for (const p of this.pages.values()) if (!p.kernel) n++;
    return n;
  }

  /** Every named page, by name. */
  list(): NamedPage[] {
    return [...this.pages.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The page named `name`, if any. */
  get(name: string): NamedPage | undefined {
    if (typeof name !== 'string') throw new KernelError('EINVAL', `user page: invalid name ${String(name)}`);
    return this.pages.get(name);
  }

  /**
   * Allocates a page named `name` (a user page, or a kernel page), on node
   * `nid` only when given. -EEXIST for a name in use, -ENOMEM when the
   * allocator has nothing (nothing changes then).
   */
  alloc(name: string, kernel: boolean, nid: number | undefined, pinned: boolean = false): NamedPage {
    if (typeof name !== 'string') throw new KernelError('EINVAL', `user page: invalid name ${String(name)}`);
    if (typeof kernel !== 'boolean' || typeof pinned !== 'boolean') throw new KernelError('EINVAL', `${name}: kernel and pinned are booleans`);
    if (nid !== undefined && (!Number.isSafeInteger(nid) || nid < -1)) throw new KernelError('EINVAL', `${name}: invalid nid ${String(nid)}`);
    if (this.pages.has(name)) throw new KernelError('EEXIST', `${name} exists`);
    const mm = this.m.mm;
    let gfp = kernel ? GFP_KERNEL : GFP_HIGHUSER_MOVABLE;
    if (nid !== undefined) gfp = gfpOr(gfp, __GFP_THISNODE);
    const pfn = nid === undefined ? mm.allocPages(gfp, 0) : mm.allocPagesNode(nid, gfp, 0);
    if (pfn === undefined) throw new KernelError('ENOMEM', `no free page for ${name}`);
    const page: NamedPage = { name, kernel, pinned: pinned && !kernel, pfn, movedFrom: [] };
    if (!kernel) {
      // lru_cache_add_inactive_or_unevictable(): a process's anonymous page.
      mm.memmap.setPageFlag(pfn, PG_lru);
      const mapping: MigrationMapping & { readonly owner: string } = {
        owner: name,
        remapPage: (oldPfn: number, newPfn: number): void => {
          page.movedFrom.push(oldPfn);
          page.pfn = newPfn;
        },
      };
      mm.memmap.setPageMapping(pfn, mapping);
      // get_user_pages(): a second reference, held until memfree.
      if (page.pinned) mm.memmap.getPage(pfn);
    }
    mm.physmem.clearPage(pfn);
    this.pages.set(name, page);
    return page;
  }

  /** Writes `text` (UTF-8, NUL-terminated, at most one page) at the start of the page. */
  write(page: NamedPage, text: string): void {
    if (typeof page !== 'object' || page === null || !Number.isSafeInteger(page.pfn)) throw new KernelError('EINVAL', `user page write: invalid page ${String(page)}`);
    if (typeof text !== 'string') throw new KernelError('EINVAL', `user page write: invalid text ${String(text)}`);
    const bytes = new TextEncoder().encode(text);
    const ps = this.m.mm.config.pageSize;
    if (bytes.length >= ps) throw new KernelError('EFBIG', `${bytes.length} bytes do not fit in a page`);
    const buf = new Uint8Array(bytes.length + 1);
    buf.set(bytes);
    this.m.mm.physmem.write(page.pfn * ps, buf);
  }

  /** The text at the start of the page (up to the first NUL). */
  read(page: NamedPage): string {
    if (typeof page !== 'object' || page === null || !Number.isSafeInteger(page.pfn)) throw new KernelError('EINVAL', `user page read: invalid page ${String(page)}`);
    const ps = this.m.mm.config.pageSize;
    const data = this.m.mm.physmem.read(page.pfn * ps, ps);
    const end = data.indexOf(0);
    return new TextDecoder().decode(data.subarray(0, end < 0 ? data.length : end));
  }

  /** Frees the page (`put_page()` of its last reference). -ENOENT for an unknown name. */
  free(name: string): void {
    if (typeof name !== 'string') throw new KernelError('EINVAL', `user page: invalid name ${String(name)}`);
    const page = this.pages.get(name);
    if (page === undefined) throw new KernelError('ENOENT', `${name}: no such page`);
    const mm = this.m.mm;
    if (page.pinned) mm.putPage(page.pfn as Pfn);
    if (!page.kernel) {
      mm.memmap.clearPageFlag(page.pfn, PG_lru);
      mm.memmap.setPageMapping(page.pfn, undefined);
    }
    mm.putPage(page.pfn as Pfn);
    this.pages.delete(name);
  }
}
