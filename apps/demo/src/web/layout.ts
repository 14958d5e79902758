/**
 * The memory map's geometry: machine facts in, rectangles and colours out.
 *
 * A booted machine's physical address space is mostly empty: an x86_64
 * guest with 4 GiB of RAM has a 46-bit (64 TiB) space, and a device-private
 * range sits at its very top. Drawn to scale, the RAM would be invisible. So
 * the horizontal axis is piecewise linear: every stretch of the view that
 * something occupies (a section, an iomem resource, a device region) gets
 * width in proportion to its size, with a floor so that a 4 KiB reserved
 * range stays visible, and every gap between them (a hole: no section, no
 * resource) is drawn at a fixed small width and labelled with its size.
 * Zooming narrows the view to a range; the same rule then applies inside it,
 * down to one section, whose pages get a lane of their own.
 *
 * ```
 *   lane        what it shows                              colour / hatch
 *   iomem       the top level of /proc/iomem               by resource kind
 *   devices     PCI hole, device-memory region, nvdimm     by kind
 *               regions; DIMMs, namespaces; pgmaps
 *   node N      the zones of node N (spanned pfns)         by zone
 *   blocks      /sys/devices/system/memory/memoryN         online: the zone's colour,
 *                                                          offline: grey, dashed
 *   memmap      the present sections, by where their       boot memory: grey,
 *               struct pages live                          RAM of node N: the node's colour,
 *                                                          altmap: hatched amber (inside the device)
 *   pages       at one-section zoom: the section's pages   by the section's memmap
 * ```
 *
 * Everything here is pure: {@link layoutMap} takes {@link MapFacts} (plain
 * data that machine-session.ts extracts from a booted machine) and a view,
 * and returns a {@link MapLayout}; svg.ts turns that into markup. The facts
 * are run-length records (a run of identical sections is one record), and
 * rectangles narrower than a pixel merge with an identical neighbour, so the
 * cost grows with what is visible, not with the size of the address space.
 */

/** Where the struct pages of a section live (sparse-vmemmap's `VmemmapSource`). */
export type MemmapSource = 'boot' | 'ram' | 'altmap';

/** A run of consecutive present sections that look the same. */
export interface SectionRun {
  /** The first section's number. */
  readonly firstSection: number;
  /** How many sections. */
  readonly count: number;
  /** The sections' node (`mem_section` nid). */
  readonly nid: number;
  /** `SECTION_IS_ONLINE`. */
  readonly online: boolean;
  /** `SECTION_IS_EARLY`: present at boot. */
  readonly early: boolean;
  /** Inside a `dev_pagemap` (ZONE_DEVICE). */
  readonly device: boolean;
  /** Where the memmap of the section's first struct page lives; undefined when it has none. */
  readonly memmap: { readonly source: MemmapSource; readonly nid: number; readonly altmapBasePfn?: number } | undefined;
}

/** One memory block device (`memoryN`). */
export interface BlockFact {
  readonly id: number;
  readonly startPfn: number;
  readonly nrPages: number;
  /** The `state` attribute: `online`, `offline`, `going-offline`. */
  readonly state: string;
  /** The zone of an online block (`valid_zones` of an online block names it). */
  readonly zone: string | undefined;
  readonly nid: number;
  /** Pages of the block holding its own memmap (memmap_on_memory). */
  readonly nrVmemmapPages: number;
}

/** One zone of a node. */
export interface ZoneFact {
  readonly nid: number;
  readonly name: string;
  readonly startPfn: number;
  readonly spannedPages: number;
  readonly presentPages: number;
}

/** An iomem resource (`start` and `end` inclusive, as /proc/iomem prints them). */
export interface ResourceFact {
  readonly start: number;
  readonly end: number;
  readonly name: string;
  /** 0 for a child of iomem_resource. */
  readonly depth: number;
}

/** Kinds of device-side ranges. */
export type RegionKind = 'pci-hole' | 'device-memory' | 'dimm' | 'nd-region' | 'namespace' | 'pgmap';

/** A device-side range: DIMMs, the hot-plug region, nvdimm regions and namespaces, pgmaps. */
export interface RegionFact {
  readonly kind: RegionKind;
  /** Physical start, bytes. */
  readonly start: number;
  /** Bytes. */
  readonly size: number;
  /** What the map writes on it (`dimm1`, `region0`, `pgmap PRIVATE`). */
  readonly label: string;
  /** A line of detail for its tooltip. */
  readonly detail: string;
  /** A pgmap's memory type (`PRIVATE`, `FS_DAX`, ...). */
  readonly type?: string;
}

/** Everything the map draws, extracted from a booted machine. */
export interface MapFacts {
  readonly platform: string;
  readonly description: string;
  /** `MAX_PHYSMEM_BITS`. */
  readonly physBits: number;
  /** `PAGE_SHIFT`. */
  readonly pageShift: number;
  /** `SECTION_SIZE_BITS`. */
  readonly sectionBits: number;
  /** `memory_block_size_bytes()`. */
  readonly blockSize: number;
  readonly nodes: readonly number[];
  readonly zones: readonly ZoneFact[];
  readonly sections: readonly SectionRun[];
  readonly blocks: readonly BlockFact[];
  readonly resources: readonly ResourceFact[];
  readonly regions: readonly RegionFact[];
}

/** A range of physical addresses, `[start, end)` in bytes. */
export interface MapView {
  readonly start: number;
  readonly end: number;
}

/** The lanes, top to bottom. */
export type LaneId = 'iomem' | 'devices' | `node${number}` | 'blocks' | 'memmap' | 'pages';

/** One rectangle of the map. */
export interface MapRect {
  readonly lane: LaneId;
  readonly kind: 'hole' | 'resource' | 'region' | 'zone' | 'block' | 'section' | 'page';
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  /** A CSS colour. */
  readonly fill: string;
  /** Hatched (an altmap memmap; an offline block is dashed instead). */
  readonly hatch: boolean;
  readonly dashed: boolean;
  /** Text drawn inside when it fits. */
  readonly label: string;
  /** Tooltip. */
  readonly title: string;
  /** The bytes `[start, end)` it stands for. */
  readonly start: number;
  readonly end: number;
  /** `data-*` attributes of its SVG element. */
  readonly data: Readonly<Record<string, string>>;
}

/** A lane's band. */
export interface MapLane {
  readonly id: LaneId;
  readonly label: string;
  readonly y: number;
  readonly h: number;
}

/** One piece of the axis: `[start, end)` drawn at `[x, x + w)`. */
export interface AxisPiece {
  readonly start: number;
  readonly end: number;
  readonly x: number;
  readonly w: number;
  readonly hole: boolean;
}

/** The result of {@link layoutMap}. */
export interface MapLayout {
  readonly width: number;
  readonly height: number;
  readonly view: MapView;
  readonly lanes: readonly MapLane[];
  readonly axis: readonly AxisPiece[];
  readonly rects: readonly MapRect[];
  /** Address labels under the axis. */
  readonly ticks: readonly { readonly x: number; readonly label: string; readonly anchor: 'start' | 'middle' | 'end' }[];
}

/** Options of {@link layoutMap}. */
export interface LayoutOptions {
  /** Width of the drawing area in pixels (default 1200). */
  readonly width?: number;
  /** The range to show (default: the whole physical space). */
  readonly view?: MapView;
}

/** Left margin for the lane names. */
export const LABEL_WIDTH = 88;
/** Width of a compressed hole. */
export const HOLE_WIDTH = 26;
/** The narrowest an occupied stretch is drawn. */
export const MIN_PIECE_WIDTH = 30;
const LANE_H = 26;
const SUB_H = 12;
const GAP = 6;
/** At most this many sections in view: draw them one by one. */
export const SECTION_DETAIL_LIMIT = 512;
/** The least distance between two address ticks. */
const TICK_SPACING = 96;
/** Page cells drawn at one-section zoom. */
export const PAGE_CELLS = 64;

/** Colours of the zones (by `zone->name`). */
export const ZONE_COLOURS: Readonly<Record<string, string>> = {
  DMA: '#8d6e63',
  DMA32: '#26a69a',
  Normal: '#42a5f5',
  Movable: '#ab47bc',
  Device: '#ef5350',
};

/** Colours of nodes 0, 1, ... (RAM of node N), repeating. */
export const NODE_COLOURS: readonly string[] = ['#1e88e5', '#43a047', '#8e24aa', '#00897b', '#f4511e', '#3949ab', '#c0ca33', '#6d4c41'];

/** Boot memory (memblock): grey. */
export const BOOT_COLOUR = '#9e9e9e';
/** An altmap: amber, hatched. */
export const ALTMAP_COLOUR = '#ffb300';
/** A hole. */
export const HOLE_COLOUR = '#eceff1';
/** An offline block. */
export const OFFLINE_COLOUR = '#cfd8dc';

/** The colour of node `nid`. */
export function nodeColour(nid: number): string {
  return NODE_COLOURS[((nid % NODE_COLOURS.length) + NODE_COLOURS.length) % NODE_COLOURS.length]!;
}

/** Fill and hatch for a memmap placement (boot grey, the node's colour, hatched amber for an altmap). */
export function memmapStyle(memmap: SectionRun['memmap']): { fill: string; hatch: boolean } {
  if (memmap === undefined) return { fill: '#ffffff', hatch: false };
  if (memmap.source === 'altmap') return { fill: ALTMAP_COLOUR, hatch: true };
  if (memmap.source === 'boot') return { fill: BOOT_COLOUR, hatch: false };
  return { fill: nodeColour(memmap.nid), hatch: false };
}

/** Fill and dash of a memory block: the zone's colour when online, grey and dashed when offline. */
export function blockStyle(b: Pick<BlockFact, 'state' | 'zone'>): { fill: string; dashed: boolean } {
  if (b.state === 'online') return { fill: ZONE_COLOURS[b.zone ?? ''] ?? '#90a4ae', dashed: false };
  if (b.state === 'going-offline') return { fill: '#ffa726', dashed: true };
  return { fill: OFFLINE_COLOUR, dashed: true };
}

/** The colour of an iomem resource by its name. */
export function resourceColour(name: string): string {
  if (name === 'System RAM') return '#64b5f6';
  if (name === 'Reserved' || name === 'reserved') return '#bdbdbd';
  if (name.startsWith('Persistent Memory') || name.startsWith('pmem') || name.startsWith('namespace')) return '#ffca28';
  if (name === 'hmm_dmirror' || name.startsWith('pgmap') || name.startsWith('Device')) return '#ef9a9a';
  if (name.startsWith('Kernel')) return '#1565c0';
  return '#b0bec5';
}

/** The colour of a device-side range by its kind. */
export function regionColour(r: Pick<RegionFact, 'kind' | 'type'>): string {
  switch (r.kind) {
    case 'pci-hole':
      return '#d7ccc8';
    case 'device-memory':
      return '#e1f5fe';
    case 'dimm':
      return '#4fc3f7';
    case 'nd-region':
      return '#ffe082';
    case 'namespace':
      return '#ffca28';
    case 'pgmap':
      return r.type === 'PRIVATE' ? '#e57373' : r.type === 'FS_DAX' ? '#ff8f00' : '#f06292';
  }
}

/** `4 GiB`, `1.5 MiB`, `640 KiB`: a size in binary units, exact where it can be. */
export function sizeLabel(bytes: number): string {
  const units: readonly [number, string][] = [
    [2 ** 50, 'PiB'],
    [2 ** 40, 'TiB'],
    [2 ** 30, 'GiB'],
    [2 ** 20, 'MiB'],
    [2 ** 10, 'KiB'],
  ];
  for (const [u, name] of units) if (bytes >= u && bytes % u === 0) return `${bytes / u} ${name}`;
  for (const [u, name] of units) if (bytes >= u) return `${(bytes / u).toFixed(1)} ${name}`;
  return `${bytes} B`;
}

/** `0x1_0000_0000`-free hex: `0x100000000`. */
export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** Merges `[start, end)` intervals (sorted or not) into disjoint sorted ones. */
export function mergeIntervals(intervals: readonly (readonly [number, number])[]): [number, number][] {
  const sorted = intervals.filter(([s, e]) => e > s).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: [number, number][] = [];
  for (const [s, e] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

/**
 * The axis of a view: occupied stretches in proportion to their size (at
 * least {@link MIN_PIECE_WIDTH} wide, unless the view is a single stretch),
 * holes at {@link HOLE_WIDTH}. `occupied` are `[start, end)` byte ranges.
 */
export function axisPieces(view: MapView, occupied: readonly (readonly [number, number])[], width: number): AxisPiece[] {
  const clipped = mergeIntervals(occupied.map(([s, e]) => [Math.max(s, view.start), Math.min(e, view.end)] as const));
  const spans: { start: number; end: number; hole: boolean }[] = [];
  let at = view.start;
  for (const [s, e] of clipped) {
    if (s > at) spans.push({ start: at, end: s, hole: true });
    spans.push({ start: s, end: e, hole: false });
    at = e;
  }
  if (at < view.end) spans.push({ start: at, end: view.end, hole: true });
  const solid = spans.filter((p) => !p.hole);
  // A view with nothing in it, or that is all one stretch, is drawn linearly.
  if (solid.length === 0 || spans.length === 1) {
    return [{ start: view.start, end: view.end, x: 0, w: width, hole: solid.length === 0 }];
  }
  const holes = spans.length - solid.length;
  const room = Math.max(width - holes * HOLE_WIDTH, solid.length);
  // Proportional widths with a floor: pieces under the floor get it, the rest share what is left.
  const widths = new Map<(typeof spans)[number], number>();
  let rest = solid;
  let left = room;
  for (;;) {
    const total = rest.reduce((t, p) => t + (p.end - p.start), 0);
    const small = rest.filter((p) => ((p.end - p.start) / total) * left < MIN_PIECE_WIDTH);
    if (small.length === 0 || small.length === rest.length) {
      for (const p of rest) widths.set(p, small.length === rest.length ? left / rest.length : ((p.end - p.start) / total) * left);
      break;
    }
    for (const p of small) widths.set(p, MIN_PIECE_WIDTH);
    left -= small.length * MIN_PIECE_WIDTH;
    rest = rest.filter((p) => !small.includes(p));
  }
  const pieces: AxisPiece[] = [];
  let x = 0;
  for (const p of spans) {
    const w = p.hole ? HOLE_WIDTH : widths.get(p)!;
    pieces.push({ start: p.start, end: p.end, x, w, hole: p.hole });
    x += w;
  }
  return pieces;
}

/** The x of address `addr` on `axis` (clamped to the view). */
export function addrToX(axis: readonly AxisPiece[], addr: number): number {
  const first = axis[0]!;
  if (addr <= first.start) return first.x;
  let lo = 0;
  let hi = axis.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (axis[mid]!.start <= addr) lo = mid;
    else hi = mid - 1;
  }
  const p = axis[lo]!;
  if (addr >= p.end) return p.x + p.w;
  return p.x + ((addr - p.start) / (p.end - p.start)) * p.w;
}

/** The address at `x` on `axis` (the inverse of {@link addrToX}, rounded down). */
export function xToAddr(axis: readonly AxisPiece[], x: number): number {
  for (const p of axis) {
    if (x < p.x + p.w || p === axis[axis.length - 1]) {
      const f = Math.min(Math.max((x - p.x) / p.w, 0), 1);
      return Math.min(p.start + Math.floor(f * (p.end - p.start)), p.end - 1);
    }
  }
  return axis[0]!.start;
}

/** A rectangle before placement on the axis. */
interface Span {
  readonly kind: MapRect['kind'];
  readonly start: number;
  readonly end: number;
  readonly fill: string;
  readonly hatch?: boolean;
  readonly dashed?: boolean;
  readonly label: string;
  readonly title: string;
  readonly data: Readonly<Record<string, string>>;
  /** Identical neighbours narrower than a pixel may merge when their keys are equal. */
  readonly mergeKey?: string;
}

/**
 * Places spans on the axis in a band `[y, y + h)`; spans narrower than a
 * pixel merge with an adjacent one of the same merge key.
 */
function place(out: MapRect[], lane: LaneId, y: number, h: number, axis: readonly AxisPiece[], view: MapView, spans: Iterable<Span>): void {
  let prev: { rect: MapRect; key: string | undefined } | undefined;
  for (const s of spans) {
    const start = Math.max(s.start, view.start);
    const end = Math.min(s.end, view.end);
    if (end <= start) continue;
    const x0 = LABEL_WIDTH + addrToX(axis, start);
    const x1 = LABEL_WIDTH + addrToX(axis, end);
    const w = x1 - x0;
    if (prev !== undefined && s.mergeKey !== undefined && prev.key === s.mergeKey && (w < 1 || prev.rect.w < 1) && Math.abs(prev.rect.x + prev.rect.w - x0) < 0.01) {
      const merged: MapRect = { ...prev.rect, w: x1 - prev.rect.x, end, label: '', title: `${prev.rect.title.split('\n')[0]!} … ${s.title.split('\n')[0]!}` };
      out[out.length - 1] = merged;
      prev = { rect: merged, key: prev.key };
      continue;
    }
    const rect: MapRect = {
      lane,
      kind: s.kind,
      x: x0,
      y,
      w: Math.max(w, 0.5),
      h,
      fill: s.fill,
      hatch: s.hatch ?? false,
      dashed: s.dashed ?? false,
      label: s.label,
      title: s.title,
      start,
      end,
      data: s.data,
    };
    out.push(rect);
    prev = { rect, key: s.mergeKey };
  }
}

function memmapText(m: SectionRun['memmap']): string {
  if (m === undefined) return 'no memmap';
  if (m.source === 'altmap') return `memmap in the altmap at pfn ${hex(m.altmapBasePfn ?? 0)} (inside the device)`;
  if (m.source === 'boot') return `memmap in boot memory of node ${m.nid}`;
  return `memmap in RAM of node ${m.nid}`;
}

function memmapKey(m: SectionRun['memmap']): string {
  return m === undefined ? 'none' : m.source === 'altmap' ? `altmap:${m.altmapBasePfn ?? 0}` : `${m.source}:${m.nid}`;
}

/** The default view: the whole physical address space. */
export function wholeView(facts: Pick<MapFacts, 'physBits'>): MapView {
  return { start: 0, end: 2 ** facts.physBits };
}

/**
 * Lays out the memory map of `facts` in `view`: the lanes, the axis and
 * every rectangle with its colour, label, tooltip and data attributes.
 */
export function layoutMap(facts: MapFacts, options: LayoutOptions = {}): MapLayout {
  const width = options.width ?? 1200;
  const view = options.view ?? wholeView(facts);
  if (!(view.end > view.start)) throw new RangeError(`empty view [${view.start}, ${view.end})`);
  const sectionSize = 2 ** facts.sectionBits;
  const pageSize = 2 ** facts.pageShift;
  const plotW = width - LABEL_WIDTH;

  // The axis: what any lane draws is occupied; the rest are holes.
  const occupied: [number, number][] = [];
  for (const r of facts.sections) occupied.push([r.firstSection * sectionSize, (r.firstSection + r.count) * sectionSize]);
  for (const r of facts.resources) if (r.depth === 0) occupied.push([r.start, r.end + 1]);
  for (const r of facts.regions) occupied.push([r.start, r.start + r.size]);
  const axis = axisPieces(view, occupied, plotW);

  const lanes: MapLane[] = [];
  let y = 18;
  const lane = (id: LaneId, label: string, h: number): MapLane => {
    const l = { id, label, y, h };
    lanes.push(l);
    y += h + GAP;
    return l;
  };
  const rects: MapRect[] = [];

  // Holes, across every lane (drawn first, underneath).
  const holeSpans = axis.filter((p) => p.hole);

  const iomem = lane('iomem', '/proc/iomem', LANE_H);
  place(
    rects,
    'iomem',
    iomem.y,
    iomem.h,
    axis,
    view,
    facts.resources
      .filter((r) => r.depth === 0)
      .map((r) => ({
        kind: 'resource' as const,
        start: r.start,
        end: r.end + 1,
        fill: resourceColour(r.name),
        label: r.name,
        title: `${r.start.toString(16).padStart(8, '0')}-${r.end.toString(16).padStart(8, '0')} : ${r.name}\n${sizeLabel(r.end + 1 - r.start)}`,
        data: { resource: r.name },
        mergeKey: `res:${r.name}`,
      })),
  );

  const devices = lane('devices', 'devices', 3 * SUB_H + 2);
  const devRow = (r: RegionFact): number =>
    r.kind === 'pci-hole' || r.kind === 'device-memory' || r.kind === 'nd-region' ? 0 : r.kind === 'dimm' || r.kind === 'namespace' ? 1 : 2;
  for (let row = 0; row < 3; row++) {
    place(
      rects,
      'devices',
      devices.y + row * (SUB_H + 1),
      SUB_H,
      axis,
      view,
      facts.regions
        .filter((r) => devRow(r) === row)
        .sort((a, b) => a.start - b.start)
        .map((r) => ({
          kind: 'region' as const,
          start: r.start,
          end: r.start + r.size,
          fill: regionColour(r),
          label: r.label,
          title: `${r.label}: ${hex(r.start)}-${hex(r.start + r.size - 1)} (${sizeLabel(r.size)})\n${r.detail}`,
          data: { region: r.kind, name: r.label, ...(r.type !== undefined ? { type: r.type } : {}) },
        })),
    );
  }

  for (const nid of facts.nodes) {
    const l = lane(`node${nid}`, `node ${nid} zones`, SUB_H + 4);
    place(
      rects,
      l.id,
      l.y,
      l.h,
      axis,
      view,
      facts.zones
        .filter((z) => z.nid === nid && z.spannedPages > 0)
        .sort((a, b) => a.startPfn - b.startPfn)
        .map((z) => ({
          kind: 'zone' as const,
          start: z.startPfn * pageSize,
          end: (z.startPfn + z.spannedPages) * pageSize,
          fill: ZONE_COLOURS[z.name] ?? '#90a4ae',
          label: z.name,
          title: `Node ${nid}, zone ${z.name}: pfn ${hex(z.startPfn)}-${hex(z.startPfn + z.spannedPages - 1)}\nspanned ${z.spannedPages}, present ${z.presentPages}`,
          data: { zone: z.name, nid: String(nid) },
        })),
    );
  }

  const blocks = lane('blocks', 'memory blocks', LANE_H);
  place(
    rects,
    'blocks',
    blocks.y,
    blocks.h,
    axis,
    view,
    facts.blocks.map((b) => {
      const st = blockStyle(b);
      return {
        kind: 'block' as const,
        start: b.startPfn * pageSize,
        end: (b.startPfn + b.nrPages) * pageSize,
        fill: st.fill,
        dashed: st.dashed,
        label: `memory${b.id}`,
        title: `memory${b.id}: ${b.state}${b.zone !== undefined ? ` (${b.zone})` : ''}, node ${b.nid}\npfn ${hex(b.startPfn)}-${hex(b.startPfn + b.nrPages - 1)}${b.nrVmemmapPages > 0 ? `\n${b.nrVmemmapPages} pages of memmap on the block itself` : ''}`,
        data: { block: String(b.id), state: b.state, zone: b.zone ?? '', nid: String(b.nid) },
        mergeKey: `blk:${b.state}:${b.zone ?? ''}:${b.nid}`,
      };
    }),
  );

  const memmap = lane('memmap', 'memmap', LANE_H);
  const firstInView = Math.floor(view.start / sectionSize);
  const lastInView = Math.ceil(view.end / sectionSize);
  const detailed = lastInView - firstInView <= SECTION_DETAIL_LIMIT;
  function* sectionSpans(): Generator<Span> {
    for (const r of facts.sections) {
      const st = memmapStyle(r.memmap);
      const kindText = `${r.online ? 'online' : 'offline'}, ${r.early ? 'early' : 'hot-added'}${r.device ? ', ZONE_DEVICE' : ''}`;
      const key = `sec:${memmapKey(r.memmap)}:${r.online}:${r.early}:${r.device}:${r.nid}`;
      const memmapName = r.memmap?.source ?? 'none';
      const nid = String(r.nid);
      const online = String(r.online);
      const device = String(r.device);
      if (detailed) {
        const from = Math.max(r.firstSection, firstInView);
        const to = Math.min(r.firstSection + r.count, lastInView);
        for (let nr = from; nr < to; nr++) {
          yield {
            kind: 'section',
            start: nr * sectionSize,
            end: (nr + 1) * sectionSize,
            fill: st.fill,
            hatch: st.hatch,
            dashed: !r.online,
            label: `${nr}`,
            title: `section ${nr} (node ${r.nid}, ${kindText})\n${memmapText(r.memmap)}`,
            data: { memmap: memmapName, nid, online, device, section: String(nr) },
          };
        }
      } else {
        const last = r.firstSection + r.count - 1;
        yield {
          kind: 'section',
          start: r.firstSection * sectionSize,
          end: (last + 1) * sectionSize,
          fill: st.fill,
          hatch: st.hatch,
          dashed: !r.online,
          label: r.count === 1 ? `${r.firstSection}` : `${r.firstSection}-${last}`,
          title: `section${r.count === 1 ? ` ${r.firstSection}` : `s ${r.firstSection}-${last}`} (node ${r.nid}, ${kindText})\n${memmapText(r.memmap)}`,
          data: { memmap: memmapName, nid, online, device, section: String(r.firstSection), sections: String(r.count) },
          mergeKey: key,
        };
      }
    }
  }
  place(rects, 'memmap', memmap.y, memmap.h, axis, view, sectionSpans());

  // One section (or less) in view: its pages, in cells.
  if (lastInView - firstInView <= 1) {
    const pages = lane('pages', 'pages', LANE_H);
    const run = facts.sections.find((r) => firstInView >= r.firstSection && firstInView < r.firstSection + r.count);
    if (run !== undefined) {
      const firstPfn = Math.floor(Math.max(view.start, firstInView * sectionSize) / pageSize);
      const endPfn = Math.ceil(Math.min(view.end, (firstInView + 1) * sectionSize) / pageSize);
      const per = Math.max(1, Math.ceil((endPfn - firstPfn) / PAGE_CELLS));
      const st = memmapStyle(run.memmap);
      const spans: Span[] = [];
      for (let pfn = firstPfn; pfn < endPfn; pfn += per) {
        const last = Math.min(pfn + per, endPfn) - 1;
        spans.push({
          kind: 'page',
          start: pfn * pageSize,
          end: (last + 1) * pageSize,
          fill: st.fill,
          hatch: st.hatch,
          label: per === 1 ? hex(pfn) : '',
          title: per === 1 ? `pfn ${hex(pfn)}: click for page ${hex(pfn)}` : `pfn ${hex(pfn)}-${hex(last)}: click a page for its decode`,
          data: { pfn: String(pfn), pages: String(last + 1 - pfn) },
        });
      }
      place(rects, 'pages', pages.y, pages.h, axis, view, spans);
    }
  }

  const bottom = y;
  // Holes span every lane, with their size.
  const holeRects: MapRect[] = holeSpans.map((p) => ({
    lane: 'iomem',
    kind: 'hole',
    x: LABEL_WIDTH + p.x,
    y: 18,
    w: p.w,
    h: bottom - GAP - 18,
    fill: HOLE_COLOUR,
    hatch: false,
    dashed: false,
    label: sizeLabel(p.end - p.start),
    title: `hole: ${hex(p.start)}-${hex(p.end - 1)} (${sizeLabel(p.end - p.start)}): no section, no resource`,
    start: p.start,
    end: p.end,
    data: { hole: sizeLabel(p.end - p.start) },
  }));

  // Address ticks at the starts of the axis pieces, far enough apart to be read, and the view's end.
  const ticks: { x: number; label: string; anchor: 'start' | 'middle' | 'end' }[] = [];
  const endX = LABEL_WIDTH + plotW;
  for (const p of axis) {
    const x = LABEL_WIDTH + p.x;
    const prev = ticks[ticks.length - 1];
    if ((prev === undefined || x - prev.x >= TICK_SPACING) && endX - x >= TICK_SPACING) ticks.push({ x, label: hex(p.start), anchor: prev === undefined ? 'start' : 'middle' });
  }
  ticks.push({ x: endX, label: hex(view.end), anchor: 'end' });
  return { width, height: bottom + 16, view, lanes, axis, rects: [...holeRects, ...rects], ticks };
}
