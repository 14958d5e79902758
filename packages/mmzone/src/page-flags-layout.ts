/**
 * The layout of `page->flags`: which bits name the section, node and zone.
 *
 * Every `struct page` must know its zone (the buddy allocator frees a page
 * into `page_zone(page)`) and its node, but a struct page is only 64 bytes, so
 * include/linux/page-flags-layout.h packs these fields into the top of the
 * flags word, above the `NR_PAGEFLAGS` flag bits, growing downwards:
 *
 * ```
 *  bit 63                                                              bit 0
 *  | SECTION | NODE | ZONE | LAST_CPUPID | KASAN_TAG | ... unused ... | FLAGS |
 * ```
 *
 * - SECTION (`SECTIONS_WIDTH`) is only there with classic SPARSEMEM, where
 *   `page_to_pfn()` needs it; with SPARSEMEM_VMEMMAP the memmap is virtually
 *   contiguous and the width is 0.
 * - NODE (`NODES_WIDTH` = `NODES_SHIFT`) if it fits; otherwise the node comes
 *   from a section-to-node table (`NODE_NOT_IN_PAGE_FLAGS`), which vmemmap
 *   kernels refuse ("Vmemmap: No space for nodes field in page flags").
 * - ZONE (`ZONES_WIDTH` = `ZONES_SHIFT`): the reason ZONE_DEVICE could not be
 *   added in 2015 without giving up ZONE_DMA.
 * - LAST_CPUPID (NUMA balancing) only if the rest leaves room, else it moves
 *   to a separate struct page field (`LAST_CPUPID_NOT_IN_PAGE_FLAGS`).
 * - KASAN_TAG (8 bits) with tag-based KASAN.
 *
 * The offsets (`*_PGOFF`) and shifts (`*_PGSHIFT`) follow include/linux/mm.h.
 * This module computes them for any configuration and draws the word.
 */
import { KernelError } from '@zonedev/kernel';

/**
 * The inputs of the layout computation.
 * @public
 */
export interface PageFlagsLayoutInput {
  /** `BITS_PER_LONG`. */
  readonly bitsPerLong: number;
  /** `NR_PAGEFLAGS`. */
  readonly nrPageflags: number;
  /** `ZONES_SHIFT`. */
  readonly zonesShift: number;
  /** `NODES_SHIFT`. */
  readonly nodesShift: number;
  /** `SECTIONS_SHIFT` = MAX_PHYSMEM_BITS - SECTION_SIZE_BITS. */
  readonly sectionsShift: number;
  /** `CONFIG_SPARSEMEM_VMEMMAP`. */
  readonly sparsememVmemmap: boolean;
  /** `LAST_CPUPID_SHIFT` (0 without NUMA balancing, else 8 + NR_CPUS_BITS). */
  readonly lastCpupidShift: number;
  /** `KASAN_TAG_WIDTH` (0 or 8). */
  readonly kasanTagWidth: number;
}

/**
 * The computed layout, with the kernel's macro names.
 * @public
 */
export interface PageFlagsLayout {
  readonly bitsPerLong: number;
  readonly NR_PAGEFLAGS: number;
  readonly SECTIONS_SHIFT: number;
  readonly SECTIONS_WIDTH: number;
  readonly NODES_SHIFT: number;
  readonly NODES_WIDTH: number;
  readonly ZONES_SHIFT: number;
  readonly ZONES_WIDTH: number;
  readonly LAST_CPUPID_SHIFT: number;
  readonly LAST_CPUPID_WIDTH: number;
  readonly KASAN_TAG_WIDTH: number;
  readonly SECTIONS_PGOFF: number;
  readonly NODES_PGOFF: number;
  readonly ZONES_PGOFF: number;
  readonly LAST_CPUPID_PGOFF: number;
  readonly KASAN_TAG_PGOFF: number;
  readonly SECTIONS_PGSHIFT: number;
  readonly NODES_PGSHIFT: number;
  readonly ZONES_PGSHIFT: number;
  readonly LAST_CPUPID_PGSHIFT: number;
  readonly KASAN_TAG_PGSHIFT: number;
  /** `ZONEID_SHIFT`: bits of the NODE:ZONE (or SECTION:ZONE) id. */
  readonly ZONEID_SHIFT: number;
  readonly ZONEID_PGOFF: number;
  readonly ZONEID_PGSHIFT: number;
  /** `NODE_NOT_IN_PAGE_FLAGS`: the node lives in a section-to-node table. */
  readonly NODE_NOT_IN_PAGE_FLAGS: boolean;
  /** `LAST_CPUPID_NOT_IN_PAGE_FLAGS`: `page->_last_cpupid` is a separate field. */
  readonly LAST_CPUPID_NOT_IN_PAGE_FLAGS: boolean;
  /** Bits between the flags and the lowest field, used by nothing. */
  readonly unusedBits: number;
}

/** The layouts {@link computePageFlagsLayout} made: what {@link renderPageFlagsLayout} draws. */
const LAYOUTS = new WeakSet<object>();

/**
 * Computes the `page->flags` layout the way include/linux/page-flags-layout.h
 * (v5.13) and include/linux/mm.h do, and returns it.
 *
 * Where the header stops the build with an `#error` ("Vmemmap: No space for
 * nodes field in page flags", "Not enough bits in page flags"), this throws
 * `KernelError('EINVAL', <the #error text>)`. The kernel has no runtime errno
 * for a configuration that does not compile; EINVAL is the one the model
 * uses for every configuration the kernel would refuse to build (as
 * {@link createMmConfig} does for the Kconfig and mmzone.h checks): the
 * argument, a set of config values, is invalid, not busy or missing.
 * @public
 */
export function computePageFlagsLayout(i: PageFlagsLayoutInput): PageFlagsLayout {
  const avail = i.bitsPerLong - i.nrPageflags;
  if (avail < 0) throw new KernelError('EINVAL', 'Not enough bits in page flags');
  const SECTIONS_WIDTH = i.sparsememVmemmap ? 0 : i.sectionsShift;
  const ZONES_WIDTH = i.zonesShift;
  let NODES_WIDTH: number;
  if (ZONES_WIDTH + SECTIONS_WIDTH + i.nodesShift <= avail) NODES_WIDTH = i.nodesShift;
  else if (i.sparsememVmemmap) throw new KernelError('EINVAL', 'Vmemmap: No space for nodes field in page flags');
  else NODES_WIDTH = 0;
  const NODE_NOT_IN_PAGE_FLAGS = i.nodesShift !== 0 && NODES_WIDTH === 0;
  const KASAN_TAG_WIDTH = i.kasanTagWidth;
  const LAST_CPUPID_WIDTH =
    ZONES_WIDTH + SECTIONS_WIDTH + NODES_WIDTH + KASAN_TAG_WIDTH + i.lastCpupidShift <= avail ? i.lastCpupidShift : 0;
  const LAST_CPUPID_NOT_IN_PAGE_FLAGS = i.lastCpupidShift !== 0 && LAST_CPUPID_WIDTH === 0;
  const used = ZONES_WIDTH + SECTIONS_WIDTH + NODES_WIDTH + KASAN_TAG_WIDTH + LAST_CPUPID_WIDTH;
  if (used > avail) throw new KernelError('EINVAL', 'Not enough bits in page flags');

  const SECTIONS_PGOFF = i.bitsPerLong - SECTIONS_WIDTH;
  const NODES_PGOFF = SECTIONS_PGOFF - NODES_WIDTH;
  const ZONES_PGOFF = NODES_PGOFF - ZONES_WIDTH;
  const LAST_CPUPID_PGOFF = ZONES_PGOFF - LAST_CPUPID_WIDTH;
  const KASAN_TAG_PGOFF = LAST_CPUPID_PGOFF - KASAN_TAG_WIDTH;
  const shift = (off: number, width: number): number => (width !== 0 ? off : 0);
  let ZONEID_SHIFT: number;
  let ZONEID_PGOFF: number;
  if (NODE_NOT_IN_PAGE_FLAGS) {
    ZONEID_SHIFT = i.sectionsShift + i.zonesShift;
    ZONEID_PGOFF = SECTIONS_PGOFF < ZONES_PGOFF ? SECTIONS_PGOFF : ZONES_PGOFF;
  } else {
    ZONEID_SHIFT = i.nodesShift + i.zonesShift;
    ZONEID_PGOFF = NODES_PGOFF < ZONES_PGOFF ? NODES_PGOFF : ZONES_PGOFF;
  }
  const layout: PageFlagsLayout = Object.freeze({
    bitsPerLong: i.bitsPerLong,
    NR_PAGEFLAGS: i.nrPageflags,
    SECTIONS_SHIFT: i.sectionsShift,
    SECTIONS_WIDTH,
    NODES_SHIFT: i.nodesShift,
    NODES_WIDTH,
    ZONES_SHIFT: i.zonesShift,
    ZONES_WIDTH,
    LAST_CPUPID_SHIFT: i.lastCpupidShift,
    LAST_CPUPID_WIDTH,
    KASAN_TAG_WIDTH,
    SECTIONS_PGOFF,
    NODES_PGOFF,
    ZONES_PGOFF,
    LAST_CPUPID_PGOFF,
    KASAN_TAG_PGOFF,
    SECTIONS_PGSHIFT: shift(SECTIONS_PGOFF, SECTIONS_WIDTH),
    NODES_PGSHIFT: shift(NODES_PGOFF, NODES_WIDTH),
    ZONES_PGSHIFT: shift(ZONES_PGOFF, ZONES_WIDTH),
    LAST_CPUPID_PGSHIFT: shift(LAST_CPUPID_PGOFF, LAST_CPUPID_WIDTH),
    KASAN_TAG_PGSHIFT: shift(KASAN_TAG_PGOFF, KASAN_TAG_WIDTH),
    ZONEID_SHIFT,
    ZONEID_PGOFF,
    ZONEID_PGSHIFT: ZONEID_SHIFT !== 0 ? ZONEID_PGOFF : 0,
    NODE_NOT_IN_PAGE_FLAGS,
    LAST_CPUPID_NOT_IN_PAGE_FLAGS,
    unusedBits: avail - used,
  });
  LAYOUTS.add(layout);
  return layout;
}


interface Field {
  readonly name: string;
  readonly letter: string;
  readonly hi: number;
  readonly lo: number;
}

function fieldsOf(l: PageFlagsLayout): Field[] {
  const f: Field[] = [];
  const add = (name: string, letter: string, off: number, width: number): void => {
    if (width > 0) f.push({ name, letter, hi: off + width - 1, lo: off });
  };
  add('SECTION', 'S', l.SECTIONS_PGOFF, l.SECTIONS_WIDTH);
  add('NODE', 'N', l.NODES_PGOFF, l.NODES_WIDTH);
  add('ZONE', 'Z', l.ZONES_PGOFF, l.ZONES_WIDTH);
  add('LAST_CPUPID', 'C', l.LAST_CPUPID_PGOFF, l.LAST_CPUPID_WIDTH);
  add('KASAN_TAG', 'K', l.KASAN_TAG_PGOFF, l.KASAN_TAG_WIDTH);
  if (l.unusedBits > 0) f.push({ name: '(unused)', letter: '.', hi: l.NR_PAGEFLAGS + l.unusedBits - 1, lo: l.NR_PAGEFLAGS });
  f.push({ name: 'FLAGS', letter: 'F', hi: l.NR_PAGEFLAGS - 1, lo: 0 });
  return f;
}

/**
 * Draws the layout for students: one character per bit (63 on the left), a
 * legend with the bit range and width of every field, and the notes the
 * header's conditionals lead to. Mirrors no kernel function; it is the
 * picture in the comment at the top of include/linux/page-flags-layout.h,
 * filled in for one configuration.
 * @public
 */
export function renderPageFlagsLayout(l: PageFlagsLayout, title: string = 'page->flags'): string {
  if (typeof l !== 'object' || l === null || !LAYOUTS.has(l)) {
    throw new KernelError('EINVAL', `renderPageFlagsLayout: not a page->flags layout made by computePageFlagsLayout: ${String(l)}`);
  }
  if (typeof title !== 'string') throw new KernelError('EINVAL', `renderPageFlagsLayout: invalid title ${String(title)}`);
  const n = l.bitsPerLong;
  const fields = fieldsOf(l);
  const letterAt = (b: number): string => fields.find((f) => b <= f.hi && b >= f.lo)?.letter ?? '?';
  let tens = '';
  let ones = '';
  let bits = '';
  for (let b = n - 1; b >= 0; b--) {
    tens += String(Math.floor(b / 10));
    ones += String(b % 10);
    bits += letterAt(b);
  }
  const lines = [`${title} (${n} bits, NR_PAGEFLAGS ${l.NR_PAGEFLAGS})`, `  ${tens}`, `  ${ones}`, `  ${bits}`, ''];
  lines.push('  bits    field         width');
  for (const f of fields) {
    const range = `${f.hi}..${f.lo}`.padEnd(7);
    lines.push(`  ${range} ${f.letter} ${f.name.padEnd(12)} ${String(f.hi - f.lo + 1).padStart(3)}`);
  }
  const notes: string[] = [];
  if (l.SECTIONS_WIDTH === 0 && l.SECTIONS_SHIFT > 0) notes.push('SECTIONS_WIDTH 0: SPARSEMEM_VMEMMAP finds the page by address');
  if (l.NODE_NOT_IN_PAGE_FLAGS) notes.push('NODE_NOT_IN_PAGE_FLAGS: page_to_nid() uses section_to_node_table[]');
  if (l.LAST_CPUPID_NOT_IN_PAGE_FLAGS) notes.push('LAST_CPUPID_NOT_IN_PAGE_FLAGS: page->_last_cpupid is a separate field');
  notes.push(`ZONEID (${l.ZONEID_SHIFT} bits at ${l.ZONEID_PGSHIFT}) identifies the zone for the buddy allocator`);
  lines.push('', ...notes.map((t) => `  note: ${t}`));
  return `${lines.join('\n')}\n`;
}
