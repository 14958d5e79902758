/**
 * What must hold after every command of a fuzz run, read the way a user
 * reads it: from /proc and /sys.
 *
 *   - /proc/iomem is a tree: every line `start-end : name` has start <= end,
 *     lies inside its parent, and siblings are sorted and disjoint
 *     (`__request_resource()` in kernel/resource.c never inserts anything else);
 *   - every zone of /proc/zoneinfo has managed <= present <= spanned, and the
 *     present pages of all non-device zones move by exactly one block's pages
 *     per block that went online or offline since boot (`online_pages()` and
 *     `offline_pages()` in mm/memory_hotplug.c adjust `present_pages` by the
 *     whole block, and a block with holes cannot be offlined);
 *   - /proc/meminfo agrees with the zones: MemTotal is the managed pages of
 *     all zones (`totalram_pages()`), MemFree their free pages, and both the
 *     free counts of /proc/zoneinfo and the free lists of /proc/buddyinfo
 *     add up to it (`si_meminfo()`, `frag_show_print()` in mm/vmstat.c);
 *   - lsmem's summary counts the online blocks sysfs shows;
 *   - no internal error text reaches the user.
 */
import type { VirtualFs } from '../../src/shell/vfs.js';

const MEMORY = '/sys/devices/system/memory';

/** One zone's counters from /proc/zoneinfo. */
export interface ZoneCounts {
  readonly node: number;
  readonly zone: string;
  readonly spanned: number;
  readonly present: number;
  readonly managed: number;
}

/** What is compared before and after a failed command. */
export interface Snapshot {
  readonly iomem: string;
  readonly zoneinfo: string;
  readonly states: string;
}

/** The state of every memory block, as `memoryN=state` lines. */
export function blockStates(fs: VirtualFs): Map<number, string> {
  const states = new Map<number, string>();
  for (const name of fs.list(MEMORY)) {
    const m = /^memory([0-9]+)$/.exec(name);
    if (m === null) continue;
    states.set(Number(m[1]), fs.read(`${MEMORY}/${name}/state`).trim());
  }
  return states;
}

/** Block size in bytes (`block_size_bytes`, hexadecimal without 0x). */
export function blockSize(fs: VirtualFs): number {
  return parseInt(fs.read(`${MEMORY}/block_size_bytes`).trim(), 16);
}

/**
 * The zone lines of /proc/zoneinfo a failed command must leave as they were:
 * each zone's spanned, present and managed pages and its protection, and
 * the total of free pages. Which zone a free page is in may change: a failed
 * offline keeps the pages it already migrated (`offline_pages()` undoes the
 * isolation, not the migration), and migration counters move with them.
 */
export function zoneinfoShape(text: string): string {
  const kept: string[] = [];
  let free = 0;
  for (const line of text.split('\n')) {
    const f = /^ {2}pages free +([0-9]+)$/.exec(line);
    if (f !== null) free += Number(f[1]);
    else if (/^Node |^ +(spanned|present|managed|protection:) /.test(line)) kept.push(line);
  }
  kept.push(`total pages free ${free}`);
  return kept.join('\n');
}

/** The three texts a failed command must leave unchanged, from /proc/iomem, /proc/zoneinfo and the blocks' states. */
export function snapshotOf(iomem: string, zoneinfo: string, states: ReadonlyMap<number, string>): Snapshot {
  return { iomem, zoneinfo: zoneinfoShape(zoneinfo), states: [...states].map(([n, s]) => `memory${n}=${s}`).join('\n') };
}

/** The first line where two texts differ, for a readable failure. */
export function firstDifference(a: string, b: string): string | undefined {
  if (a === b) return undefined;
  const la = a.split('\n');
  const lb = b.split('\n');
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (la[i] !== lb[i]) return `line ${i + 1}: ${JSON.stringify(la[i])} -> ${JSON.stringify(lb[i])}`;
  }
  return 'texts differ';
}

/** Problems with the nesting of /proc/iomem text (empty: none). */
export function checkIomem(text: string): string[] {
  const problems: string[] = [];
  // The open ancestors: at depth d, the last resource seen at that depth.
  const stack: { start: bigint; end: bigint; line: string }[] = [];
  const lastAt: ({ end: bigint } | undefined)[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = /^((?: {2})*)([0-9a-f]+)-([0-9a-f]+) : (.+)$/.exec(line);
    if (m === null) {
      problems.push(`malformed line ${JSON.stringify(line)}`);
      continue;
    }
    const depth = m[1]!.length / 2;
    const start = BigInt(`0x${m[2]}`);
    const end = BigInt(`0x${m[3]}`);
    if (depth > stack.length) {
      problems.push(`${JSON.stringify(line)} is indented below no parent`);
      continue;
    }
    stack.length = depth;
    lastAt.length = depth + 1;
    if (start > end) problems.push(`${JSON.stringify(line)}: start after end`);
    const parent = stack[depth - 1];
    if (parent !== undefined && (start < parent.start || end > parent.end)) {
      problems.push(`${JSON.stringify(line)} is not inside its parent ${JSON.stringify(parent.line)}`);
    }
    const prev = lastAt[depth];
    if (prev !== undefined && start <= prev.end) problems.push(`${JSON.stringify(line)} overlaps or precedes its previous sibling`);
    lastAt[depth] = { end };
    stack.push({ start, end, line });
  }
  return problems;
}

/** The counters of every zone in /proc/zoneinfo text. */
export function parseZoneinfo(text: string): ZoneCounts[] {
  const zones: ZoneCounts[] = [];
  let cur: { node: number; zone: string; spanned?: number; present?: number; managed?: number } | undefined;
  const flush = (): void => {
    if (cur === undefined) return;
    zones.push({ node: cur.node, zone: cur.zone, spanned: cur.spanned ?? NaN, present: cur.present ?? NaN, managed: cur.managed ?? NaN });
  };
  for (const line of text.split('\n')) {
    const head = /^Node ([0-9]+), zone +(\S+)$/.exec(line);
    if (head !== null) {
      flush();
      cur = { node: Number(head[1]), zone: head[2]! };
      continue;
    }
    const c = /^ +(spanned|present|managed) +([0-9]+)$/.exec(line);
    if (c !== null && cur !== undefined) cur[c[1] as 'spanned' | 'present' | 'managed'] = Number(c[2]);
  }
  flush();
  return zones;
}

/** What the zone check compares against: the machine just after boot. */
export interface ZoneBaseline {
  readonly presentPages: number;
  readonly online: ReadonlySet<number>;
  readonly blockPages: number;
}

/** Total present pages of the zones that hold RAM (all but Device). */
export function ramPresentPages(zones: readonly ZoneCounts[]): number {
  return zones.filter((z) => z.zone !== 'Device').reduce((s, z) => s + z.present, 0);
}

/** Problems with the zone counters against the blocks' states (empty: none). */
export function checkZones(zones: readonly ZoneCounts[], states: ReadonlyMap<number, string>, base: ZoneBaseline): string[] {
  const problems: string[] = [];
  for (const z of zones) {
    if (![z.spanned, z.present, z.managed].every(Number.isSafeInteger)) problems.push(`node ${z.node} zone ${z.zone}: a counter is missing`);
    else if (!(z.managed <= z.present && z.present <= z.spanned)) {
      problems.push(`node ${z.node} zone ${z.zone}: managed ${z.managed}, present ${z.present}, spanned ${z.spanned}`);
    }
  }
  let gained = 0;
  let lost = 0;
  for (const [n, s] of states) if (s === 'online' && !base.online.has(n)) gained++;
  for (const n of base.online) if (states.get(n) !== 'online') lost++;
  const expected = base.presentPages + (gained - lost) * base.blockPages;
  const present = ramPresentPages(zones);
  if (present !== expected) {
    problems.push(`present pages ${present}, expected ${expected} (boot ${base.presentPages}, ${gained} blocks onlined, ${lost} offlined since)`);
  }
  return problems;
}

/** Text an internal JavaScript error leaves when it reaches the user. */
export const INTERNAL_ERROR_TEXT: readonly RegExp[] = [
  /TypeError|RangeError|ReferenceError|SyntaxError/,
  /undefined/,
  /NaN/,
  /\[object /,
  /^\s+at /m,
];

/** The patterns of {@link INTERNAL_ERROR_TEXT} that `stderr` matches. */
export function internalErrorText(stderr: string): string[] {
  return INTERNAL_ERROR_TEXT.filter((re) => re.test(stderr)).map(String);
}

/** A `Name:   N kB` field of /proc/meminfo, in kB (NaN when missing). */
function meminfoField(text: string, name: string): number {
  const m = new RegExp(`^${name}: +([0-9]+) kB$`, 'm').exec(text);
  return m === null ? NaN : Number(m[1]);
}

/** Free pages by the free lists of /proc/buddyinfo: count × 2^order per column. */
export function buddyinfoFreePages(text: string): number {
  let pages = 0;
  for (const line of text.split('\n')) {
    const m = /^Node [0-9]+, zone +\S+((?: +[0-9]+)+) *$/.exec(line);
    if (m === null) continue;
    m[1]!
      .trim()
      .split(/ +/)
      .forEach((n, order) => (pages += Number(n) * 2 ** order));
  }
  return pages;
}

/** Problems between /proc/meminfo, /proc/zoneinfo and /proc/buddyinfo (empty: none). */
export function checkMeminfo(meminfo: string, zoneinfo: string, buddyinfo: string, pageSize: number): string[] {
  const problems: string[] = [];
  const kb = pageSize / 1024;
  const zones = parseZoneinfo(zoneinfo);
  const managed = zones.reduce((s, z) => s + z.managed, 0);
  let zoneFree = 0;
  for (const m of zoneinfo.matchAll(/^ {2}pages free +([0-9]+)$/gm)) zoneFree += Number(m[1]);
  const total = meminfoField(meminfo, 'MemTotal');
  const free = meminfoField(meminfo, 'MemFree');
  if (total !== managed * kb) problems.push(`MemTotal ${total} kB, zones manage ${managed * kb} kB`);
  if (free !== zoneFree * kb) problems.push(`MemFree ${free} kB, zoneinfo has ${zoneFree * kb} kB free`);
  const buddy = buddyinfoFreePages(buddyinfo);
  if (buddy !== zoneFree) problems.push(`buddyinfo's free lists hold ${buddy} pages, zoneinfo says ${zoneFree}`);
  return problems;
}

/** Problems between `lsmem --summary=only -b` output and the blocks' states (empty: none). */
export function checkLsmemSummary(summary: string, states: ReadonlyMap<number, string>, blockBytes: number): string[] {
  const online = [...states.values()].filter((s) => s === 'online').length * blockBytes;
  const offline = [...states.values()].filter((s) => s === 'offline').length * blockBytes;
  const field = (name: string): number => Number(new RegExp(`^${name}: +([0-9]+)$`, 'm').exec(summary)?.[1] ?? NaN);
  const problems: string[] = [];
  if (field('Total online memory') !== online) problems.push(`lsmem: total online ${field('Total online memory')}, sysfs ${online}`);
  if (field('Total offline memory') !== offline) problems.push(`lsmem: total offline ${field('Total offline memory')}, sysfs ${offline}`);
  return problems;
}

/** One namespace of `ndctl list -RN`. */
interface ListedNamespace {
  readonly dev?: string;
  readonly size?: number;
  readonly blockdev?: string;
  readonly chardev?: string;
}

/** One region of `ndctl list -RN`, with its namespaces. */
interface ListedRegion {
  readonly dev?: string;
  readonly size?: number;
  readonly namespaces?: readonly ListedNamespace[];
}

/** The JSON of an ndctl/daxctl listing (nothing printed: no devices), or the parse error. */
function parseListing(text: string): unknown {
  if (text.trim() === '') return [];
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}

/**
 * Problems with the namespaces of `ndctl list -RN` (empty: none): every
 * enabled namespace ndctl lists has its device node (`/dev/pmemN[.M][s]`
 * for a block device, `/sys/bus/dax/devices/daxN.M` for a device-dax
 * character device), a positive size, and the namespaces of a region fit in
 * its size together (`nd_region_available_dpa()` in
 * drivers/nvdimm/dimm_devs.c never hands out more than the region's DPA).
 */
export function checkNamespaces(listing: string, exists: (path: string) => boolean): string[] {
  const json = parseListing(listing);
  if (json instanceof Error) return [`ndctl list -RN printed no JSON (${json.message})`];
  const regions: readonly ListedRegion[] = Array.isArray(json) ? (json as ListedRegion[]) : (((json as { regions?: ListedRegion[] }).regions) ?? [json as ListedRegion]);
  const problems: string[] = [];
  for (const r of regions) {
    if (typeof r.size !== 'number' || !Number.isSafeInteger(r.size)) {
      problems.push(`${r.dev ?? 'a region'}: size ${JSON.stringify(r.size)}`);
      continue;
    }
    let used = 0;
    for (const ns of r.namespaces ?? []) {
      const size = ns.size ?? NaN;
      if (!Number.isSafeInteger(size) || size <= 0) problems.push(`${ns.dev ?? 'a namespace'} of ${r.dev}: size ${JSON.stringify(ns.size)}`);
      else if (size > r.size) problems.push(`${ns.dev} is ${size} bytes, its ${r.dev} only ${r.size}`);
      used += Number.isSafeInteger(size) ? size : 0;
      if (ns.blockdev !== undefined && !exists(`/dev/${ns.blockdev}`)) problems.push(`${ns.dev} lists blockdev ${ns.blockdev}, /dev/${ns.blockdev} does not exist`);
      if (ns.chardev !== undefined && !exists(`/sys/bus/dax/devices/${ns.chardev}`)) problems.push(`${ns.dev} lists chardev ${ns.chardev}, which /sys/bus/dax/devices does not have`);
    }
    if (used > r.size) problems.push(`the namespaces of ${r.dev} hold ${used} bytes, the region ${r.size}`);
  }
  return problems;
}

/** One device of `daxctl list`. */
interface ListedDax {
  readonly chardev?: string;
  readonly mode?: string;
  readonly online_memblocks?: number;
  readonly total_memblocks?: number;
}

/**
 * Problems with the dax devices `daxctl list` shows in system-ram mode
 * (empty: none): the memory blocks kmem added for a device's range, aligned
 * inwards to the block size (`dax_kmem_range()` in drivers/dax/kmem.c), are
 * all present in /sys/devices/system/memory (what lsmem lists), and daxctl's
 * total_memblocks and online_memblocks count the blocks sysfs shows and
 * their online ones, the way daxctl v72 selects them (a block whose start
 * lies within the device's resource, its end included).
 */
export function checkDaxKmem(
  listing: string,
  read: (path: string) => string,
  states: ReadonlyMap<number, string>,
  blockBytes: number,
): string[] {
  const json = parseListing(listing);
  if (json instanceof Error) return [`daxctl list printed no JSON (${json.message})`];
  const devices: readonly ListedDax[] = Array.isArray(json) ? (json as ListedDax[]) : [json as ListedDax];
  const problems: string[] = [];
  for (const d of devices) {
    if (d.mode !== 'system-ram' || d.chardev === undefined) continue;
    const start = Number(read(`/sys/bus/dax/devices/${d.chardev}/resource`).trim());
    const size = Number(read(`/sys/bus/dax/devices/${d.chardev}/size`).trim());
    const first = Math.ceil(start / blockBytes);
    const end = Math.floor((start + size) / blockBytes);
    for (let n = first; n < end; n++) {
      if (!states.has(n)) problems.push(`${d.chardev} is system-ram, its memory${n} is not in /sys/devices/system/memory`);
    }
    // daxctl counts the blocks whose start lies in [start, start + size], both ends included (memblock_in_dev())
    let total = 0;
    let online = 0;
    for (const [n, s] of states) {
      const at = n * blockBytes;
      if (at < start || at > start + size) continue;
      total++;
      if (s === 'online') online++;
    }
    if (d.total_memblocks !== total) problems.push(`${d.chardev}: daxctl says total_memblocks ${d.total_memblocks}, sysfs has ${total} blocks that start in its range`);
    if (d.online_memblocks !== online) problems.push(`${d.chardev}: daxctl says online_memblocks ${d.online_memblocks}, ${online} of its ${total} blocks are online`);
  }
  return problems;
}
