/**
 * API abuse: every function and method of the package's public API, as its
 * committed API report (etc/sparse-vmemmap.api.md) lists them, is called
 * with each of the values no C caller could pass (NaN, infinities, -1, 1.5,
 * 2^53 + 2, 2^64, undefined, a string) in each of its parameters. Each call
 * must be refused with a KernelError (or a KernelBug where the kernel would
 * BUG, or the RangeError this package documents for a range that crosses a
 * section, leaves MAX_PHYSMEM_BITS or is negative, and for an impossible
 * layout or altmap field), and nothing may change: the sections, subsection maps, vmemmap
 * blocks, the page allocator below, the memmap store, memblock and the
 * altmap. A new export without an entry in the table below fails the
 * coverage test.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { abuse, reportEntries } from '@zonedev/test-kit';
import type { Spec } from '@zonedev/test-kit';
import { Kernel, SZ_2M, isKernelBug, isKernelError } from '@zonedev/kernel';
import * as api from '../src/index.js';
import type { MemSection, SparseArch, SparseMemblock, VmemAltmap } from '../src/index.js';
import { BootMemblock, HostMemoryGuard, SparseMemory, vmemAltmap } from '../src/index.js';
import { FakeBuddy, RecordingStore, X86_64, snapshot } from './helpers.js';
import { altmapAllocBlockBuf, vmemAltmapNextPfn, vmemAltmapNrFree } from '../src/altmap.js';

/** A KernelError, or a KernelBug where the kernel would BUG. */
const refused = (err: unknown): boolean => isKernelError(err) || isKernelBug(err) || err instanceof RangeError;

const ENTRIES = reportEntries(readFileSync(new URL('../etc/sparse-vmemmap.api.md', import.meta.url), 'utf8'));

const PPS = 32768; // pages per 128 MiB section
const SECTION = 64; // the hot-added section: 8 GiB

function world() {
  const kernel = new Kernel();
  const memblock = new BootMemblock(12);
  memblock.addMemory(0x1000, 0x9e000, 0);
  memblock.addMemory(0x100000, 0x40000000 - 0x100000, 0);
  memblock.reserve(0x1000000, 0x2000000);
  const buddy = new FakeBuddy([{ nid: 0, startPfn: 0, nrPages: 0x40000 }]);
  const store = new RecordingStore();
  const sparse = new SparseMemory({ kernel, arch: X86_64, allocator: buddy, memmap: store });
  sparse.sparseInit(memblock);
  for (const r of memblock.memPfnRanges()) sparse.subsectionMapInit(r.startPfn, r.endPfn - r.startPfn);
  const pfn = SECTION * PPS;
  sparse.sparseAddSection(0, pfn, PPS);
  const altmap = vmemAltmap({ basePfn: 2 * pfn, endPfn: 2 * pfn + PPS, reserve: 2, free: 1024 });
  const guard = new HostMemoryGuard();
  const snap = (): string =>
    JSON.stringify([
      snapshot(sparse, { buddy, store, altmaps: [altmap] }),
      memblock.memoryRegions(),
      memblock.reservedRanges(),
      sparse.vmemmapTotals(),
      guard.exhausted(),
    ]);
  return { kernel, memblock, buddy, store, sparse, pfn, altmap, guard, snap };
}

describe('@zonedev/sparse-vmemmap: every public entry point refuses bad values', () => {
  const w = world();
  const s = w.sparse;
  const ms = (): MemSection => s.nrToSection(SECTION)!;
  const alt = (): VmemAltmap => vmemAltmap({ basePfn: 2 * w.pfn, endPfn: 2 * w.pfn + PPS, reserve: 2, free: 1024 });
  const a = (...xs: unknown[]) => () => xs;
  const n = (x: unknown): number => x as number;
  const specs: Record<string, Spec | null> = {
    earlySection: { args: () => [ms()], call: ([m]) => api.earlySection(m as MemSection) },
    onlineDeviceSection: { args: () => [ms()], call: ([m]) => api.onlineDeviceSection(m as MemSection) },
    onlineSection: { args: () => [ms()], call: ([m]) => api.onlineSection(m as MemSection) },
    presentSection: { args: () => [ms()], call: ([m]) => api.presentSection(m as MemSection) },
    validSection: { args: () => [ms()], call: ([m]) => api.validSection(m as MemSection) },
    sparseLayout: { args: a(X86_64), call: ([x]) => api.sparseLayout(x as SparseArch) },
    vmemAltmap: { args: a({ basePfn: 0 }), call: ([x]) => api.vmemAltmap(x as never) },
    vmemAltmapFree: { args: () => [alt(), 0], call: ([m, k]) => api.vmemAltmapFree(m as VmemAltmap, n(k)) },
    vmemAltmapOffset: { args: () => [alt()], call: ([m]) => api.vmemAltmapOffset(m as VmemAltmap) },
    'BootMemblock.constructor': { args: a(12), call: ([p]) => new BootMemblock(n(p)) },
    'BootMemblock.addMemory': { args: a(0x80000000, 0x1000, 0), call: ([b, z, d]) => w.memblock.addMemory(n(b), n(z), n(d)) },
    'BootMemblock.allocRaw': {
      args: a(4096, 4096, 0, 0, false),
      call: ([z, al, mn, d, e]) => w.memblock.allocRaw(n(z), n(al), n(mn), n(d), e as boolean),
      allow: (i, v) => i === 3 && v === -1, // NUMA_NO_NODE
    },
    'BootMemblock.free': { args: a(0x1000000, 0x1000), call: ([b, z]) => w.memblock.free(n(b), n(z)) },
    'BootMemblock.isReserved': { args: a(0x1000000), call: ([x]) => w.memblock.isReserved(n(x)) },
    'BootMemblock.memoryRegions': null, // no parameters
    'BootMemblock.memPfnRanges': null,
    'BootMemblock.nidOf': { args: a(0x1000000), call: ([x]) => w.memblock.nidOf(n(x)) },
    'BootMemblock.reserve': { args: a(0x3000000, 0x1000), call: ([b, z]) => w.memblock.reserve(n(b), n(z)) },
    'BootMemblock.reservedPfnRanges': null,
    'BootMemblock.reservedRanges': null,
    'HostMemoryGuard.constructor': { args: a({}), call: ([o]) => new HostMemoryGuard(o as never) },
    'HostMemoryGuard.check': { args: a('vmemmap_populate'), call: ([m]) => w.guard.check(m as string), allow: (_i, v) => v === 'x' },
    'HostMemoryGuard.exhausted': null,
    'HostMemoryGuard.refuse': null,
    'SparseMemory.constructor': { args: () => [{ kernel: w.kernel, arch: X86_64, allocator: w.buddy }], call: ([o]) => new SparseMemory(o as never) },
    'SparseMemory.checkAddPagesAltmap': { args: () => [2 * w.pfn, PPS, alt()], call: ([p, k, m]) => s.checkAddPagesAltmap(n(p), n(k), m as VmemAltmap) },
    'SparseMemory.checkPfnSpan': { args: a(2 * w.pfn, PPS, 'add'), call: ([p, k, r]) => s.checkPfnSpan(n(p), n(k), r as string), allow: (i, v) => i === 2 && v === 'x' },
    'SparseMemory.memblocksPresent': { args: a(w.memblock), call: ([m]) => s.memblocksPresent(m as SparseMemblock) },
    'SparseMemory.memmapOfRange': { args: a(w.pfn, PPS), call: ([p, k]) => s.memmapOfRange(n(p), n(k)) },
    'SparseMemory.memmapOfSection': { args: a(SECTION), call: ([x]) => s.memmapOfSection(n(x)) },
    'SparseMemory.memoryPresent': { args: a(0, 0x100, 0x200), call: ([d, p, e]) => s.memoryPresent(n(d), n(p), n(e)) },
    'SparseMemory.memSections': null,
    'SparseMemory.nrToSection': { args: a(SECTION), call: ([x]) => s.nrToSection(n(x)) },
    'SparseMemory.offlineMemSections': { args: a(w.pfn, w.pfn + PPS), call: ([p, e]) => s.offlineMemSections(n(p), n(e)) },
    'SparseMemory.onlineMemSections': { args: a(w.pfn + PPS, w.pfn + PPS), call: ([p, e]) => s.onlineMemSections(n(p), n(e)) },
    'SparseMemory.onlineSectionNr': { args: a(SECTION), call: ([x]) => s.onlineSectionNr(n(x)) },
    'SparseMemory.pageToPfn': { args: () => [s.pfnToPage(w.pfn)], call: ([p]) => s.pageToPfn(p as bigint) },
    'SparseMemory.pfnInPresentSection': { args: a(w.pfn), call: ([p]) => s.pfnInPresentSection(n(p)) },
    'SparseMemory.pfnSectionValid': { args: () => [ms(), w.pfn], call: ([m, p]) => s.pfnSectionValid(m as MemSection, n(p)) },
    'SparseMemory.pfnToPage': { args: a(w.pfn), call: ([p]) => s.pfnToPage(n(p)) },
    'SparseMemory.pfnToSection': { args: a(w.pfn), call: ([p]) => s.pfnToSection(n(p)) },
    'SparseMemory.pfnToSectionNr': { args: a(w.pfn), call: ([p]) => s.pfnToSectionNr(n(p)) },
    'SparseMemory.pfnValid': { args: a(w.pfn), call: ([p]) => s.pfnValid(n(p)) },
    'SparseMemory.presentSectionNr': { args: a(SECTION), call: ([x]) => s.presentSectionNr(n(x)) },
    'SparseMemory.presentSectionNrs': { args: a(0), call: ([x]) => [...s.presentSectionNrs(n(x))] },
    'SparseMemory.sectionAlignDown': { args: a(w.pfn), call: ([p]) => s.sectionAlignDown(n(p)) },
    'SparseMemory.sectionAlignUp': { args: a(w.pfn), call: ([p]) => s.sectionAlignUp(n(p)) },
    'SparseMemory.sectionNrToPfn': { args: a(SECTION), call: ([x]) => s.sectionNrToPfn(n(x)) },
    'SparseMemory.sectionTaintZoneDevice': { args: a(w.pfn), call: ([p]) => s.sectionTaintZoneDevice(n(p)) },
    'SparseMemory.sparseAddSection': { args: () => [0, 2 * w.pfn, PPS, undefined], call: ([d, p, k, m]) => s.sparseAddSection(n(d), n(p), n(k), m as VmemAltmap) },
    'SparseMemory.sparseAddSections': { args: () => [0, 2 * w.pfn, PPS, undefined], call: ([d, p, k, m]) => s.sparseAddSections(n(d), n(p), n(k), m as VmemAltmap) },
    'SparseMemory.sparseInit': { args: a(w.memblock), call: ([m]) => s.sparseInit(m as SparseMemblock) },
    'SparseMemory.sparseRemoveSection': { args: a(3 * w.pfn, PPS, 0, undefined), call: ([p, k, o, m]) => s.sparseRemoveSection(n(p), n(k), n(o), m as VmemAltmap) },
    'SparseMemory.sparseRemoveSections': { args: a(3 * w.pfn, PPS, undefined), call: ([p, k, m]) => s.sparseRemoveSections(n(p), n(k), m as VmemAltmap) },
    'SparseMemory.subsectionMapIndex': { args: a(w.pfn), call: ([p]) => s.subsectionMapIndex(n(p)) },
    'SparseMemory.subsectionMapInit': { args: a(w.pfn, PPS), call: ([p, k]) => s.subsectionMapInit(n(p), n(k)) },
    'SparseMemory.validSectionNr': { args: a(SECTION), call: ([x]) => s.validSectionNr(n(x)) },
    'SparseMemory.validSectionsCover': { args: a(w.pfn, w.pfn + PPS), call: ([p, e]) => s.validSectionsCover(n(p), n(e)) },
    'SparseMemory.vmemmapBlocks': null,
    'SparseMemory.vmemmapTotals': null,
  };

  it('the table covers every function and method of the API report, and nothing else', () => {
    const keys = [...new Set(ENTRIES.map((e) => e.key))].sort();
    expect(keys.length).toBeGreaterThan(50);
    expect(Object.keys(specs).sort()).toEqual(keys);
  });

  it('each bad value in each parameter is refused with a KernelError or KernelBug, nothing changed', () => {
    const t = abuse(ENTRIES, specs, w.snap, refused);
    expect(t.failures).toEqual([]);
    expect(t.calls).toBeGreaterThan(700);
    expect(s.pfnValid(w.pfn)).toBe(true);
  });
});

describe('the static helpers of mm/sparse-vmemmap.c (not exported) refuse bad values too', () => {
  const BAD: readonly unknown[] = [NaN, Infinity, -Infinity, -1, 1.5, 2 ** 53 + 2, 2 ** 64, undefined, 'x'];
  const alt = (): VmemAltmap => vmemAltmap({ basePfn: 0x100000, reserve: 2, free: 1024 });
  const errnoOf = (f: () => unknown): string | undefined => {
    try {
      f();
    } catch (e) {
      return isKernelError(e) ? e.errno : `not a KernelError: ${String(e)}`;
    }
    return undefined;
  };

  it('altmap_alloc_block_buf(): a bad size or page shift is EINVAL and allocates nothing', () => {
    for (const v of BAD) {
      const a = alt();
      expect(errnoOf(() => altmapAllocBlockBuf(v as number, a, 12)), String(v)).toBe('EINVAL');
      expect(errnoOf(() => altmapAllocBlockBuf(SZ_2M, a, v as number)), String(v)).toBe('EINVAL');
      expect(a.alloc).toBe(0);
    }
  });

  it('vmem_altmap_next_pfn() and vmem_altmap_nr_free(): an altmap that is not one is EINVAL', () => {
    for (const v of [...BAD, null, {}]) {
      expect(errnoOf(() => vmemAltmapNextPfn(v as VmemAltmap)), String(v)).toBe('EINVAL');
      expect(errnoOf(() => vmemAltmapNrFree(v as VmemAltmap)), String(v)).toBe('EINVAL');
    }
    expect([vmemAltmapNextPfn(alt()), vmemAltmapNrFree(alt())]).toEqual([0x100002, 1024]);
  });
});
