/**
 * Anonymous reverse mapping, after mm/rmap.c and include/linux/rmap.h (Linux
 * v5.13).
 *
 * Given a page, the kernel must find every PTE that maps it: to unmap it for
 * migration (`try_to_unmap()`), to put it back (`remove_migration_ptes()`),
 * to age it. For anonymous memory the trail is `page->mapping`, which points
 * (with the `PAGE_MAPPING_ANON` tag) at an `anon_vma`, and `page->index`, the
 * page's offset in its VMA in pages counted from `vm_pgoff`. Each VMA that
 * may hold the page is linked to the `anon_vma` through an `anon_vma_chain`;
 * after fork a child's VMA is linked into the chain of every ancestor, so the
 * parent's pages, now shared copy-on-write, are found in both processes, and
 * the child gets its own `anon_vma` for the pages it creates later.
 *
 * `page->_mapcount` counts the PTEs mapping a page (starting at -1);
 * `page_mapcount()` is `_mapcount + 1`. The functions here keep it, and
 * `page->mapping`/`index`, in the struct page store.
 */
import type { MemmapStore, MmCore } from '@zonedev/mmzone';
import { NR_ANON_MAPPED, NR_FILE_MAPPED, PG_swapbacked } from '@zonedev/mmzone';
import type { Vma } from './vma.js';
import { KernelError, checkUnsigned } from '@zonedev/kernel';
import { checkCore, checkFn, checkPageSize, checkPfn, checkStore, checkVma } from './args.js';

/**
 * `struct anon_vma` (include/linux/rmap.h): the root of the reverse map of
 * anonymous pages. `anon` is the `PAGE_MAPPING_ANON` tag the page allocator
 * recognises when it clears `page->mapping` on free.
 * @public
 */
export class AnonVma {
  /** `PAGE_MAPPING_ANON`: a page whose mapping is this object is `PageAnon`. */
  readonly anon = true;
  /** `anon_vma->root`. */
  readonly root: AnonVma;
  /** `anon_vma->parent`: the anon_vma this one was forked from, or null. */
  readonly parent: AnonVma | null;
  /** The `anon_vma_chain` entries: every VMA that may map a page of this anon_vma. */
  readonly vmas: Set<Vma> = new Set<Vma>();

  constructor(parent: AnonVma | null = null) {
    if (parent !== null && !(parent instanceof AnonVma)) throw new KernelError('EINVAL', `anon_vma_alloc: not an anon_vma: ${String(parent)}`);
    this.parent = parent;
    this.root = parent?.root ?? this;
  }
}

/** `PageAnon(page)`: whether `mapping` is an anon_vma. @public */
export function isAnonMapping(mapping: unknown): mapping is AnonVma {
  return mapping instanceof AnonVma;
}

/**
 * `anon_vma_prepare(vma)` (mm/rmap.c): gives an anonymous VMA its anon_vma
 * on the first fault that allocates a page.
 * @public
 */
export function anonVmaPrepare(vma: Vma): AnonVma {
  checkVma('anon_vma_prepare', vma);
  if (vma.anonVma) return vma.anonVma;
  const av = new AnonVma();
  vma.anonVma = av;
  vma.anonVmaChain = [...vma.anonVmaChain, av];
  av.vmas.add(vma);
  return av;
}

/**
 * `anon_vma_fork(vma, pvma)` (mm/rmap.c): links the child VMA into every
 * anon_vma of the parent's chain (`anon_vma_clone`) and gives it its own.
 * @public
 */
export function anonVmaFork(vma: Vma, pvma: Vma): void {
  checkVma('anon_vma_fork', vma);
  checkVma('anon_vma_fork', pvma);
  vma.anonVmaChain = [];
  vma.anonVma = null;
  if (!pvma.anonVma) return;
  for (const av of pvma.anonVmaChain) {
    av.vmas.add(vma);
    vma.anonVmaChain.push(av);
  }
  const own = new AnonVma(pvma.anonVma);
  own.vmas.add(vma);
  vma.anonVmaChain.push(own);
  vma.anonVma = own;
}

/** `unlink_anon_vmas(vma)` (mm/rmap.c): removes the VMA from its chains. @public */
export function unlinkAnonVmas(vma: Vma): void {
  checkVma('unlink_anon_vmas', vma);
  for (const av of vma.anonVmaChain) av.vmas.delete(vma);
  vma.anonVmaChain = [];
  vma.anonVma = null;
}

/**
 * `linear_page_index(vma, address)` (include/linux/pagemap.h): the page's
 * `index` for `address` in `vma`.
 * @public
 */
export function linearPageIndex(vma: Vma, address: number, pageSize: number): number {
  checkVma('linear_page_index', vma);
  checkUnsigned('linear_page_index', 'address', address);
  checkPageSize('linear_page_index', pageSize);
  return Math.floor((address - vma.vmStart) / pageSize) + vma.vmPgoff;
}

/**
 * `vma_address(page, vma)` (mm/internal.h): where the page of `index` would
 * be mapped in `vma`, or -1 when outside it.
 * @public
 */
export function vmaAddress(vma: Vma, index: number, pageSize: number): number {
  checkVma('vma_address', vma);
  checkUnsigned('vma_address', 'index', index);
  checkPageSize('vma_address', pageSize);
  const addr = vma.vmStart + (index - vma.vmPgoff) * pageSize;
  return addr >= vma.vmStart && addr < vma.vmEnd ? addr : -1;
}

/**
 * `page_add_new_anon_rmap(page, vma, address, false)` (mm/rmap.c): a freshly
 * allocated page gets its first mapping: `_mapcount` 0, `page->mapping` the
 * VMA's anon_vma, `page->index` its linear index, `PG_swapbacked`, and one
 * more `NR_ANON_MAPPED` page on its node (`/proc/meminfo`'s AnonPages).
 * @public
 */
export function pageAddNewAnonRmap(core: MmCore, pfn: number, vma: Vma, address: number, pageSize: number): void {
  checkCore('page_add_new_anon_rmap', core);
  checkPfn('page_add_new_anon_rmap', pfn);
  checkVma('page_add_new_anon_rmap', vma);
  checkUnsigned('page_add_new_anon_rmap', 'address', address);
  checkPageSize('page_add_new_anon_rmap', pageSize);
  const av = vma.anonVma;
  if (!av) throw new Error(`BUG: page_add_new_anon_rmap: VMA 0x${vma.vmStart.toString(16)} has no anon_vma`);
  const store = core.memmap;
  store.setPageFlag(pfn, PG_swapbacked);
  store.setPageMapcountRaw(pfn, 0);
  store.setPageMapping(pfn, av);
  store.setPageIndex(pfn, linearPageIndex(vma, address, pageSize));
  core.modNodePageState(pfn, NR_ANON_MAPPED, 1);
}

/**
 * `page_add_anon_rmap(page, vma, address, false)` (mm/rmap.c): one more PTE
 * maps an anonymous page; the first mapping sets `mapping`/`index`
 * (`__page_set_anon_rmap`) and counts the page in `NR_ANON_MAPPED`.
 * @public
 */
export function pageAddAnonRmap(core: MmCore, pfn: number, vma: Vma, address: number, pageSize: number): void {
  checkCore('page_add_anon_rmap', core);
  checkPfn('page_add_anon_rmap', pfn);
  checkVma('page_add_anon_rmap', vma);
  checkUnsigned('page_add_anon_rmap', 'address', address);
  checkPageSize('page_add_anon_rmap', pageSize);
  const store = core.memmap;
  const first = store.pageMapcountRaw(pfn) === -1;
  store.setPageMapcountRaw(pfn, store.pageMapcountRaw(pfn) + 1);
  if (first) core.modNodePageState(pfn, NR_ANON_MAPPED, 1);
  if (first && !isAnonMapping(store.pageMapping(pfn)) && vma.anonVma) {
    store.setPageMapping(pfn, vma.anonVma);
    store.setPageIndex(pfn, linearPageIndex(vma, address, pageSize));
  }
}

/** `page_dup_rmap(page, false)` (include/linux/rmap.h): fork copied a PTE (never the first mapping: no counter moves). @public */
export function pageDupRmap(store: MemmapStore, pfn: number): void {
  checkStore('page_dup_rmap', store);
  checkPfn('page_dup_rmap', pfn);
  store.setPageMapcountRaw(pfn, store.pageMapcountRaw(pfn) + 1);
}

/** `page_add_file_rmap(page, false)` (mm/rmap.c): a page-cache or driver page got a PTE; its first counts in `NR_FILE_MAPPED`. @public */
export function pageAddFileRmap(core: MmCore, pfn: number): void {
  checkCore('page_add_file_rmap', core);
  checkPfn('page_add_file_rmap', pfn);
  const store = core.memmap;
  const mc = store.pageMapcountRaw(pfn);
  store.setPageMapcountRaw(pfn, mc + 1);
  if (mc === -1) core.modNodePageState(pfn, NR_FILE_MAPPED, 1);
}

/**
 * `page_remove_rmap(page, false)` (mm/rmap.c): one PTE less; when it was the
 * last, the page leaves `NR_ANON_MAPPED` (an anonymous page) or
 * `NR_FILE_MAPPED`. `page->mapping` stays until the page is freed. Throws
 * (a kernel BUG) on an unmapped page.
 * @public
 */
export function pageRemoveRmap(core: MmCore, pfn: number): void {
  checkCore('page_remove_rmap', core);
  checkPfn('page_remove_rmap', pfn);
  const store = core.memmap;
  const mc = store.pageMapcountRaw(pfn);
  if (mc < 0) throw new Error(`BUG: page_remove_rmap: pfn 0x${pfn.toString(16)} is not mapped`);
  store.setPageMapcountRaw(pfn, mc - 1);
  if (mc === 0) core.modNodePageState(pfn, isAnonMapping(store.pageMapping(pfn)) ? NR_ANON_MAPPED : NR_FILE_MAPPED, -1);
}

/** `page_mapcount(page)` (include/linux/mm.h): the PTEs mapping a small page. @public */
export function pageMapcount(store: MemmapStore, pfn: number): number {
  checkStore('page_mapcount', store);
  checkPfn('page_mapcount', pfn);
  return store.pageMapcount(pfn);
}

/**
 * `rmap_walk_anon(page, rwc)` (mm/rmap.c): calls `fn(vma, address)` for
 * every VMA of the page's anon_vma chain that could map it. A page that is
 * not anonymous has no such walk here (file rmap is not modelled).
 * @public
 */
export function rmapWalkAnon(store: MemmapStore, pfn: number, pageSize: number, fn: (vma: Vma, address: number) => void): void {
  checkStore('rmap_walk_anon', store);
  checkPfn('rmap_walk_anon', pfn);
  checkPageSize('rmap_walk_anon', pageSize);
  checkFn('rmap_walk_anon', 'rmap_one', fn);
  const av = store.pageMapping(pfn);
  if (isAnonMapping(av)) rmapWalkAnonWith(av, store.pageIndex(pfn), pageSize, fn, callWalkFn);
}

function callWalkFn(fn: (vma: Vma, address: number) => void, vma: Vma, address: number): void {
  fn(vma, address);
}

/**
 * {@link rmapWalkAnon} of a page whose anon_vma (`page->mapping`) and
 * `page->index` the caller has read, with the `rmap_walk_control` argument
 * (`rwc->arg`) passed to a plain function, so that the per-page callers
 * (migration unmapping and remapping every page of a list) create no
 * closure and read no struct page field twice per page. Internal to the
 * package.
 */
export function rmapWalkAnonWith<C>(av: AnonVma, index: number, pageSize: number, arg: C, fn: (arg: C, vma: Vma, address: number) => void): void {
  const vmas = av.vmas;
  if (vmas.size === 1) {
    // the common case, an anon_vma of one VMA: no snapshot of the set needed
    for (const vma of vmas) {
      const addr = vmaAddress(vma, index, pageSize);
      if (addr >= 0) fn(arg, vma, addr);
      return;
    }
  }
  for (const vma of [...vmas]) {
    const addr = vmaAddress(vma, index, pageSize);
    if (addr >= 0) fn(arg, vma, addr);
  }
}
