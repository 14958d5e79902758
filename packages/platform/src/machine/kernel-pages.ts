/**
 * Named kernel pages (the demo's `memalloc`, `memread` and `memfree`
 * commands): a page a driver or the slab allocator takes with
 * `alloc_pages(GFP_KERNEL)` and keeps, written with a line of text.
 *
 * A kernel page cannot move: it is not on an LRU list and has no rmap, so
 * `offline_pages()` finds it unmovable and a memory block holding one cannot
 * be offlined (-EBUSY), and the DIMM it lives on cannot be unplugged. A
 * process's pages, which can move, are made by the `process` commands on
 * `@zonedev/mm` (see {@link MachineProcesses}).
 *
 * The text is written to the machine's physical memory (`PhysMem`), at the
 * page's physical address.
 */
import { KernelError } from '@zonedev/kernel';
import { GFP_KERNEL, __GFP_THISNODE, gfpOr } from '@zonedev/mmzone';
import type { MachineCore } from './core.js';

/**
 * One named kernel page.
 *
 * @public
 */
export interface NamedPage {
  /** The name it was allocated under. */
  readonly name: string;
  /** Its page frame. */
  readonly pfn: number;
}

/**
 * The named kernel pages of one machine.
 *
 * @public
 */
export class KernelPages {
  private readonly m: MachineCore;
  private readonly pages = new Map<string, NamedPage>();

  /** The named pages of machine `m` (none yet). */
  constructor(m: MachineCore) {
    this.m = m;
  }

  /** Every named page, by name. */
  list(): NamedPage[] {
    return [...this.pages.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The page named `name`, if any. */
  get(name: string): NamedPage | undefined {
    if (typeof name !== 'string') throw new KernelError('EINVAL', `kernel page: invalid name ${String(name)}`);
    return this.pages.get(name);
  }

  /**
   * `alloc_pages(GFP_KERNEL)` — with `__GFP_THISNODE` on node `nid` when
   * given — of a page named `name`, cleared. EEXIST for a name in use,
   * ENOMEM when the allocator has nothing (nothing changes then).
   */
  alloc(name: string, nid?: number): NamedPage {
    if (typeof name !== 'string') throw new KernelError('EINVAL', `kernel page: invalid name ${String(name)}`);
    if (nid !== undefined && (!Number.isSafeInteger(nid) || nid < 0)) throw new KernelError('EINVAL', `${name}: invalid nid ${String(nid)}`);
    if (this.pages.has(name)) throw new KernelError('EEXIST', `${name} exists`);
    const mm = this.m.mm;
    const pfn = nid === undefined ? mm.allocPages(GFP_KERNEL, 0) : mm.allocPagesNode(nid, gfpOr(GFP_KERNEL, __GFP_THISNODE), 0);
    if (pfn === undefined) throw new KernelError('ENOMEM', `no free page for ${name}`);
    mm.physmem.clearPage(pfn);
    const page: NamedPage = { name, pfn };
    this.pages.set(name, page);
    return page;
  }

  /** EINVAL unless `page` is a page {@link KernelPages.alloc} returned and not yet freed. */
  private check(fn: string, page: NamedPage): void {
    if (typeof page !== 'object' || page === null || this.pages.get(page.name) !== page) {
      throw new KernelError('EINVAL', `kernel page ${fn}: not an allocated page: ${String(page)}`);
    }
  }

  /** Writes `text` (UTF-8, NUL-terminated, at most one page) at the start of the page. */
  write(page: NamedPage, text: string): void {
    this.check('write', page);
    if (typeof text !== 'string') throw new KernelError('EINVAL', `kernel page write: invalid text ${String(text)}`);
    const bytes = new TextEncoder().encode(text);
    const ps = this.m.mm.config.pageSize;
    if (bytes.length >= ps) throw new KernelError('EFBIG', `${bytes.length} bytes do not fit in a page`);
    const buf = new Uint8Array(bytes.length + 1);
    buf.set(bytes);
    this.m.mm.physmem.write(page.pfn * ps, buf);
  }

  /** The text at the start of the page (up to the first NUL). */
  read(page: NamedPage): string {
    this.check('read', page);
    const ps = this.m.mm.config.pageSize;
    const data = this.m.mm.physmem.read(page.pfn * ps, ps);
    const end = data.indexOf(0);
    return new TextDecoder().decode(data.subarray(0, end < 0 ? data.length : end));
  }

  /** `__free_pages()` of the page. ENOENT for an unknown name. */
  free(name: string): void {
    if (typeof name !== 'string') throw new KernelError('EINVAL', `kernel page: invalid name ${String(name)}`);
    const page = this.pages.get(name);
    if (page === undefined) throw new KernelError('ENOENT', `${name}: no such page`);
    this.m.mm.putPage(page.pfn);
    this.pages.delete(name);
  }
}
