// Test doubles for @zonedev/memremap's unit tests: a small x86_64-like test
// architecture, an mm core made of mmzone's plain data structures (the
// struct page store, nodes and zones), and a memory-hotplug stand-in that
// records what memremap asks of it and can be told to fail. The integration
// tests (integration.test.ts) use the real layers instead.
import { IORESOURCE_BUSY, IORESOURCE_SYSTEM_RAM, Kernel, KernelError, Resource, orBits } from '@zonedev/kernel';
import type { MhpParams } from '@zonedev/memory-hotplug';
import type { MmArchConfig, MmConfig, Zone } from '@zonedev/mmzone';
import {
  MemmapStore,
  POISONED_STRUCT_PAGE,
  PG_reserved,
  PglistData,
  createMmConfig,
  resizePgdatRange,
  resizeZoneRange,
} from '@zonedev/mmzone';
import type { VmemAltmap } from '@zonedev/sparse-vmemmap';
import { vmemAltmapFree, vmemAltmapOffset } from '@zonedev/sparse-vmemmap';
import { expect } from 'vitest';
import type { MemremapConfig, MemremapHotplug, MemremapMm } from '../src/index.js';
import { Memremap } from '../src/index.js';

export const MiB = 2 ** 20;
export const GiB = 2 ** 30;
export const TiB = 2 ** 40;

/** x86_64 with 5-level paging (52 physical bits), 4K pages, 128 MiB sections. */
export const TEST_ARCH: MmArchConfig = {
  name: 'test-x86_64',
  pageShift: 12,
  nodesShift: 2,
  maxOrder: 11,
  pageblockOrder: 9,
  sectionSizeBits: 27,
  maxPhysmemBits: 52,
  zoneDma: false,
  zoneDma32: true,
  zoneDevice: true,
};

/** mmzone's data structures, wired as the narrow mm interface memremap needs. */
export class FakeMm implements MemremapMm {
  readonly config: MmConfig;
  readonly memmap: MemmapStore;
  numaNodeId = 0;
  private devmapPut: ((pfn: number) => boolean) | undefined = undefined;
  /** put_page() calls that reached the buddy allocator's path. */
  readonly buddyPuts: number[] = [];
  private readonly nodes = new Map<number, PglistData>();

  constructor(arch: MmArchConfig, nodes: readonly number[] = [0]) {
    this.config = createMmConfig(arch);
    this.memmap = new MemmapStore(this.config);
    for (const nid of nodes) this.nodes.set(nid, new PglistData(nid, this.config));
  }

  registerDevmapPut(handler: (pfn: number) => boolean): void {
    if (this.devmapPut !== undefined) throw new KernelError('EBUSY', 'register_devmap_put: already registered');
    this.devmapPut = handler;
  }

  nodeData(nid: number): PglistData | undefined {
    return this.nodes.get(nid);
  }

  pageZone(pfn: number): Zone {
    return this.nodes.get(this.memmap.pageToNid(pfn))!.nodeZones[this.memmap.pageZonenum(pfn)]!;
  }

  putPage(pfn: number): void {
    const dev = this.config.ZONE_DEVICE;
    if (dev !== undefined && this.memmap.pageZonenum(pfn) === dev && this.devmapPut?.(pfn) === true) return;
    this.buddyPuts.push(pfn);
    this.memmap.putPageTestzero(pfn);
  }

  get deviceZone(): Zone {
    return this.nodes.get(0)!.nodeZones[this.config.ZONE_DEVICE!]!;
  }
}

/** One recorded call to the hotplug double. */
export interface HotplugCall {
  readonly fn: string;
  readonly args: readonly unknown[];
}

/**
 * Memory hotplug's stand-in: adds and removes sections of the struct page
 * store per 2 MiB subsection (-EEXIST on overlap), charges the memmap of an
 * added range to its altmap, moves ranges into zones, and fails a chosen
 * function when told to.
 */
export class FakeHotplug implements MemremapHotplug {
  maxPfn = 0;
  maxLowPfn = 0;

  restoreEndOfMemoryVars(maxPfn: number, maxLowPfn: number): void {
    if (maxPfn > this.maxPfn || maxLowPfn > this.maxLowPfn) throw new KernelError('EINVAL', 'restore_end_of_memory_vars: raising');
    this.maxPfn = maxPfn;
    this.maxLowPfn = maxLowPfn;
  }
  readonly calls: HotplugCall[] = [];
  /** Function name -> error to throw on its next call. */
  readonly failNext = new Map<string, KernelError>();
  /** Physical address bits the platform can plug (mhp_get_pluggable_range). */
  pluggableBits = 52;
  private readonly subsections = new Map<number, Set<number>>();
  private readonly ppss: number;

  constructor(private readonly mm: FakeMm) {
    this.ppss = 2 ** (21 - mm.config.pageShift);
  }

  private maybeFail(fn: string): void {
    const e = this.failNext.get(fn);
    if (e !== undefined) {
      this.failNext.delete(fn);
      throw e;
    }
  }

  /** Subsections present, as "section:index" strings (for state snapshots). */
  presentSubsections(): string[] {
    return [...this.subsections.entries()].flatMap(([nr, s]) => [...s].sort((a, b) => a - b).map((i) => `${nr}:${i}`));
  }

  private add(pfn: number, nrPages: number, params: MhpParams): void {
    if (params.pgprot === undefined) throw new KernelError('EINVAL', 'zero pgprot');
    const pps = this.mm.config.pagesPerSection;
    if (pfn % this.ppss !== 0 || nrPages % this.ppss !== 0) throw new KernelError('EINVAL', 'Misaligned __add_pages');
    const subs: [number, number][] = [];
    for (let p = pfn; p < pfn + nrPages; p += this.ppss) {
      const nr = Math.floor(p / pps);
      const idx = Math.floor((p % pps) / this.ppss);
      if (this.subsections.get(nr)?.has(idx) === true) throw new KernelError('EEXIST', 'subsection already present');
      subs.push([nr, idx]);
    }
    const altmap = params.altmap;
    const need = Math.ceil((nrPages * 64) / 2 ** this.mm.config.pageShift);
    if (altmap !== undefined) {
      if (altmap.basePfn !== pfn || vmemAltmapOffset(altmap) > nrPages) throw new KernelError('EINVAL', 'memory add fail, invalid altmap');
      if (need > altmap.free) throw new KernelError('ENOMEM', 'altmap too small');
    }
    for (const [nr, idx] of subs) {
      let s = this.subsections.get(nr);
      if (s === undefined) {
        this.mm.memmap.initSection(nr);
        s = new Set();
        this.subsections.set(nr, s);
      }
      s.add(idx);
    }
    if (altmap !== undefined) altmap.alloc += need;
  }

  private remove(pfn: number, nrPages: number, altmap: VmemAltmap | undefined): void {
    const pps = this.mm.config.pagesPerSection;
    for (let p = pfn; p < pfn + nrPages; p += this.ppss) {
      const nr = Math.floor(p / pps);
      const s = this.subsections.get(nr)!;
      s.delete(Math.floor((p % pps) / this.ppss));
      if (s.size === 0) {
        this.subsections.delete(nr);
        this.mm.memmap.dropSection(nr);
      }
    }
    if (altmap !== undefined) vmemAltmapFree(altmap, Math.ceil((nrPages * 64) / 2 ** this.mm.config.pageShift));
  }

  archAddMemory(nid: number, start: number, size: number, params: MhpParams): void {
    this.calls.push({ fn: 'arch_add_memory', args: [nid, start, size, params.pgprot, params.altmap !== undefined] });
    this.maybeFail('arch_add_memory');
    const ps = 2 ** this.mm.config.pageShift;
    this.add(start / ps, size / ps, params);
    this.maxPfn = Math.max(this.maxPfn, (start + size) / ps);
    this.maxLowPfn = this.maxPfn;
  }

  addPages(nid: number, startPfn: number, nrPages: number, params: MhpParams): void {
    this.calls.push({ fn: 'add_pages', args: [nid, startPfn, nrPages, params.pgprot, params.altmap !== undefined] });
    this.maybeFail('add_pages');
    this.add(startPfn, nrPages, params);
  }

  archRemoveMemory(nid: number, start: number, size: number, altmap: VmemAltmap | undefined): void {
    this.calls.push({ fn: 'arch_remove_memory', args: [nid, start, size, altmap !== undefined] });
    const ps = 2 ** this.mm.config.pageShift;
    this.remove(start / ps, size / ps, altmap);
  }

  removePages(startPfn: number, nrPages: number, altmap: VmemAltmap | undefined): void {
    this.calls.push({ fn: '__remove_pages', args: [startPfn, nrPages, altmap !== undefined] });
    this.remove(startPfn, nrPages, altmap);
  }

  movePfnRangeToZone(zone: Zone, startPfn: number, nrPages: number, altmap: VmemAltmap | undefined, migratetype: number): void {
    this.calls.push({ fn: 'move_pfn_range_to_zone', args: [zone.name, startPfn, nrPages, altmap !== undefined, migratetype] });
    this.maybeFail('move_pfn_range_to_zone');
    const pgdat = zone.zonePgdat;
    if (zone.spannedPages === 0) {
      zone.zoneStartPfn = startPfn;
      pgdat.nrZones = Math.max(pgdat.nrZones, zone.zoneIdx + 1);
    }
    resizeZoneRange(zone, startPfn, nrPages);
    resizePgdatRange(pgdat, startPfn, nrPages);
    if (altmap === undefined) return;
    // memmap_init_range() for ZONE_DEVICE: the altmap's own pages only.
    let s = startPfn;
    if (s === altmap.basePfn) s += altmap.reserve;
    const e = altmap.basePfn + vmemAltmapOffset(altmap);
    if (e > s) {
      this.mm.memmap.initSinglePageRange(s, e - s, zone.zoneIdx, pgdat.nodeId);
      this.mm.memmap.updateRange(s, e - s, { setFlags: [PG_reserved] });
    }
  }

  removePfnRangeFromZone(zone: Zone, startPfn: number, nrPages: number): void {
    this.calls.push({ fn: 'remove_pfn_range_from_zone', args: [zone.name, startPfn, nrPages] });
    this.mm.memmap.initRange(startPfn, nrPages, POISONED_STRUCT_PAGE);
  }

  mhpRangeAllowed(start: number, size: number, needMapping: boolean): boolean {
    this.calls.push({ fn: 'mhp_range_allowed', args: [start, size, needMapping] });
    return start + size <= 2 ** this.pluggableBits;
  }
}

/** A unit-test machine: a real Kernel, the mm double, the hotplug double, and memremap. */
export interface FakeMachine {
  readonly kernel: Kernel;
  readonly mm: FakeMm;
  readonly hp: FakeHotplug;
  readonly memremap: Memremap;
}

export interface FakeMachineOptions {
  readonly arch?: Partial<MmArchConfig>;
  readonly config?: MemremapConfig;
  readonly compatAlign?: number;
  /** System RAM resources to register (bytes). Default: [0, 4 GiB). */
  readonly ram?: readonly { start: number; size: number }[];
}

export function fakeMachine(o: FakeMachineOptions = {}): FakeMachine {
  const arch = { ...TEST_ARCH, ...o.arch };
  const kernel = new Kernel({ resources: { physAddrBits: 52, maxPhysmemBits: 52, paSectionShift: arch.sectionSizeBits, pageShift: arch.pageShift } });
  for (const r of o.ram ?? [{ start: 0, size: 4 * GiB }]) {
    kernel.iomem.requestResource(
      kernel.iomem.root,
      new Resource({ name: 'System RAM', start: r.start, end: r.start + r.size - 1, flags: orBits(IORESOURCE_SYSTEM_RAM, IORESOURCE_BUSY) }),
    );
  }
  const mm = new FakeMm(arch, [0, 1]);
  const hp = new FakeHotplug(mm);
  const compat = o.compatAlign;
  const memremap = new Memremap({
    kernel,
    mm,
    hotplug: hp,
    ...(o.config !== undefined ? { config: o.config } : {}),
    ...(compat !== undefined ? { arch: { memremapCompatAlign: (): number => compat } } : {}),
  });
  return { kernel, mm, hp, memremap };
}

/** Everything a failed call must leave as it was. */
export function fakeSnapshot(m: FakeMachine): unknown {
  const z = m.mm.deviceZone;
  const p = z.zonePgdat;
  return {
    iomem: m.kernel.iomem.procIomem(),
    subsections: m.hp.presentSubsections(),
    memmap: m.mm.memmap.sectionNumbers(),
    zone: [z.zoneStartPfn, z.spannedPages, z.presentPages],
    node: [p.nodeStartPfn, p.nodeSpannedPages, p.nrZones],
    maxPfn: [m.hp.maxPfn, m.hp.maxLowPfn],
    index: m.memremap.pgmapArrayEntries().map((e) => [e.firstPfn, e.lastPfn, e.pgmap.traceName]),
    pagemaps: m.memremap.pagemaps().length,
    key: m.memremap.devmapManagedKey,
  };
}

/** The errno of a thrown KernelError, for expect(() => ...).toThrow(errno('EBUSY')). */
export function errno(name: string): unknown {
  return expect.objectContaining({ errno: name });
}

/** Lets pending promise continuations run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
