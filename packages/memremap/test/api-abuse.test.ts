/**
 * API abuse: every function and method of the package's public API, as its
 * committed API report (etc/memremap.api.md) lists them, is called with each
 * of the values no C caller could pass (NaN, infinities, -1, 1.5, 2^53 + 2,
 * 2^64, undefined, a string) in each of its parameters. Each call must be
 * refused with a KernelError (or a KernelBug where the kernel would BUG),
 * and the machine must be exactly as it was: the resource tree, sections,
 * memmap, zones, memremap's index and pagemaps, the pages' refcounts and the
 * pagemap's reference count. A new export without an entry in the table
 * below fails the coverage test, so nothing is left out by default.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { abuse, reportEntries } from '@zonedev/test-kit';
import type { Spec } from '@zonedev/test-kit';
import { Device, KernelBug, isKernelBug, isKernelError } from '@zonedev/kernel';
import type { Zone } from '@zonedev/mmzone';
import { vmemAltmap } from '@zonedev/sparse-vmemmap';
import * as api from '../src/index.js';
import { DevPagemap, MEMORY_DEVICE_GENERIC, pfnToPfnT } from '../src/index.js';
import { GiB, MiB, bootMachine, snapshot } from './machine.js';

/** A KernelError, or a KernelBug where the kernel would BUG. */
const refused = (err: unknown): boolean => isKernelError(err) || isKernelBug(err);

const ENTRIES = reportEntries(readFileSync(new URL('../etc/memremap.api.md', import.meta.url), 'utf8'));

function world() {
  const m = bootMachine();
  const start = 64 * GiB;
  const pgmap = new DevPagemap({ type: MEMORY_DEVICE_GENERIC, range: { start, end: start + 128 * MiB - 1 }, name: 'pgmap0' });
  m.memremap.memremapPages(pgmap, 0);
  const pfn = start / 4096 + 16;
  m.memremap.getPage(pfn);
  const zone: Zone = m.mm.pageZone(pfn);
  const dev = new Device({ name: 'dax0.0' });
  const spare = new DevPagemap({ type: MEMORY_DEVICE_GENERIC, range: { start: 2 * start, end: 2 * start + 128 * MiB - 1 } });
  const snap = (): string =>
    JSON.stringify([snapshot(m), m.mm.memmap.pageRefCount(pfn), pgmap.ref?.refs, m.memremap.pageIdleWakeUps, m.kernel.iomem.procIomem()]);
  return { m, pgmap, spare, pfn, zone, dev, snap };
}

describe('@zonedev/memremap: every public entry point refuses bad values', () => {
  const w = world();
  const r = w.m.memremap;
  const pt = pfnToPfnT(w.pfn);
  const altmap = (): ReturnType<typeof vmemAltmap> => vmemAltmap({ basePfn: w.pfn, reserve: 2, free: 8 });
  const a = (...xs: unknown[]) => () => xs;
  const specs: Record<string, Spec | null> = {
    // pure: a type's name for messages; any value has one (its String())
    memoryTypeName: null,
    'DevPagemap.constructor': null, // the init object is checked where it is used, by memremap_pages()
    pgmapAltmap: { args: a(w.pgmap), call: ([p]) => api.pgmapAltmap(p as DevPagemap) },
    __pfnToPfnT: { args: a(w.pfn, 0n, 12), call: ([p, f, s]) => api.__pfnToPfnT(p as number, f as bigint, s as number) },
    pfnToPfnT: { args: a(w.pfn), call: ([p]) => api.pfnToPfnT(p as number) },
    pageToPfnT: { args: a(w.pfn), call: ([p]) => api.pageToPfnT(p as number) },
    physToPfnT: { args: a(64 * GiB, 0n, 12), call: ([p, f, s]) => api.physToPfnT(p as number, f as bigint, s as number) },
    pfnFlagsMask: { args: a(12), call: ([s]) => api.pfnFlagsMask(s as number) },
    pfnTVal: { args: a(pt), call: ([p]) => api.pfnTVal(p as api.PfnT) },
    pfnTHasPage: { args: a(pt), call: ([p]) => api.pfnTHasPage(p as api.PfnT) },
    pfnTToPfn: { args: a(pt), call: ([p]) => api.pfnTToPfn(p as api.PfnT) },
    pfnTToPage: { args: a(pt), call: ([p]) => api.pfnTToPage(p as api.PfnT) },
    pfnTToPhys: { args: a(pt, 12), call: ([p, s]) => api.pfnTToPhys(p as api.PfnT, s as number) },
    pfnTDevmap: { args: a(pt), call: ([p]) => api.pfnTDevmap(p as api.PfnT) },
    pfnTSpecial: { args: a(pt), call: ([p]) => api.pfnTSpecial(p as api.PfnT) },
    formatPfnT: { args: a(pt), call: ([p]) => api.formatPfnT(p as api.PfnT) },
    'Memremap.constructor': null, // the machine's own layers, composed by a platform
    'Memremap.memremapCompatAlign': null, // no parameters
    'Memremap.pagemaps': null,
    'Memremap.pgmapArrayEntries': null,
    'Memremap.vmemAltmapOffset': { args: () => [altmap()], call: ([x]) => r.vmemAltmapOffset(x as never) },
    'Memremap.vmemAltmapFree': { args: () => [altmap(), 0], call: ([x, n]) => r.vmemAltmapFree(x as never, n as number) },
    'Memremap.pagemapPhase': { args: a(w.pgmap), call: ([p]) => r.pagemapPhase(p as DevPagemap) },
    'Memremap.memunmapCompletion': { args: a(w.pgmap), call: ([p]) => r.memunmapCompletion(p as DevPagemap) },
    'Memremap.memremapPages': {
      args: a(w.spare, 0),
      call: ([p, n]) => r.memremapPages(p as DevPagemap, n as number),
      allow: (i, v) => i === 1 && v === -1, // NUMA_NO_NODE: numa_mem_id()
    },
    'Memremap.memunmapPages': { args: a(w.pgmap), call: ([p]) => r.memunmapPages(p as DevPagemap) },
    'Memremap.devmMemremapPages': { args: a(w.dev, w.spare), call: ([d, p]) => r.devmMemremapPages(d as Device, p as DevPagemap) },
    'Memremap.devmMemunmapPages': { args: a(w.dev, w.pgmap), call: ([d, p]) => r.devmMemunmapPages(d as Device, p as DevPagemap) },
    'Memremap.getDevPagemap': { args: a(w.pfn, w.pgmap), call: ([p, c]) => r.getDevPagemap(p as number, c as DevPagemap) },
    'Memremap.putDevPagemap': { args: a(w.pgmap), call: ([p]) => r.putDevPagemap(p as DevPagemap) },
    'Memremap.pgmapPfnValid': { args: a(w.pgmap, w.pfn), call: ([p, n]) => r.pgmapPfnValid(p as DevPagemap, n as number) },
    'Memremap.memmapInitZoneDevice': {
      args: a(w.zone, w.pfn, 1, w.pgmap),
      call: ([z, s, n, p]) => r.memmapInitZoneDevice(z as Zone, s as number, n as number, p as DevPagemap),
    },
    'Memremap.pagePgmap': { args: a(w.pfn), call: ([p]) => r.pagePgmap(p as number) },
    'Memremap.isZoneDevicePage': { args: a(w.pfn), call: ([p]) => r.isZoneDevicePage(p as number) },
    'Memremap.isDevicePrivatePage': { args: a(w.pfn), call: ([p]) => r.isDevicePrivatePage(p as number) },
    'Memremap.isPciP2pdmaPage': { args: a(w.pfn), call: ([p]) => r.isPciP2pdmaPage(p as number) },
    'Memremap.pageIsDevmapManaged': { args: a(w.pfn), call: ([p]) => r.pageIsDevmapManaged(p as number) },
    'Memremap.getPage': { args: a(w.pfn), call: ([p]) => r.getPage(p as number) },
    'Memremap.putDevmapManagedPage': { args: a(w.pfn), call: ([p]) => r.putDevmapManagedPage(p as number) },
    'Memremap.freeDevmapManagedPage': { args: a(w.pfn), call: ([p]) => r.freeDevmapManagedPage(p as number) },
    'Memremap.waitPageIdle': { args: a(w.pfn), call: ([p]) => r.waitPageIdle(p as number) },
    'Memremap.pfnTToVirt': { args: a(pt), call: ([p]) => r.pfnTToVirt(p as api.PfnT) },
  };

  it('the table covers every function and method of the API report, and nothing else', () => {
    const keys = ENTRIES.map((e) => e.key).sort();
    expect(keys.length).toBeGreaterThan(40);
    expect(Object.keys(specs).sort()).toEqual([...new Set(keys)].sort());
  });

  it('each bad value in each parameter is refused with a KernelError or KernelBug, the machine unchanged', () => {
    const t = abuse(ENTRIES, specs, w.snap, refused);
    expect(t.failures).toEqual([]);
    expect(t.calls).toBeGreaterThan(250);
    // the world still works: the pagemap is live and its page is held
    expect(r.pagemapPhase(w.pgmap)).toBe('live');
    expect(r.isZoneDevicePage(w.pfn)).toBe(true);
  });
});

describe('the named cases of the reliability issue', () => {
  it('memremap_pages() of type 99 warns "Invalid pgmap type 99" and is refused with EINVAL, nothing mapped', () => {
    const { m, snap } = world();
    const before = snap();
    const pgmap = new DevPagemap({ type: 99 as never, range: { start: 128 * GiB, end: 128 * GiB + 128 * MiB - 1 } });
    const lines = m.kernel.log.lines.length;
    expect(() => m.memremap.memremapPages(pgmap, 0)).toThrow(expect.objectContaining({ errno: 'EINVAL', message: 'Invalid pgmap type 99' }));
    expect(m.kernel.log.lines.slice(lines).map((l) => l.text)).toEqual(['------------[ cut here ]------------', 'Invalid pgmap type 99']);
    expect(snap()).toBe(before);
    expect(m.memremap.pagemapPhase(pgmap)).toBeUndefined();
  });

  it('a second memunmap_pages() is a KernelBug (not a plain Error), and the first teardown stands', async () => {
    const { m, pgmap, pfn } = world();
    m.mm.putPage(pfn);
    await m.memremap.memunmapPages(pgmap);
    let err: unknown;
    try {
      void m.memremap.memunmapPages(pgmap);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KernelBug);
    expect(isKernelError(err)).toBe(false);
    expect((err as Error).message).toBe('BUG: memunmap_pages: pgmap0 is not mapped (unmapped)');
    expect(m.kernel.iomem.procIomem()).not.toContain('1000000000');
  });

  it('put_dev_pagemap() of a pagemap without a ref is a KernelBug', () => {
    const { m, spare } = world();
    expect(() => m.memremap.putDevPagemap(spare)).toThrow(KernelBug);
    expect(() => m.memremap.putDevPagemap(spare)).toThrow('BUG: put_dev_pagemap: dev_pagemap(MEMORY_DEVICE_GENERIC 0x2000000000-0x2007ffffff) has no ref');
  });

  it('ranges that are not objects, or flags that are not an integer, are refused before anything is set up', () => {
    const { m, snap } = world();
    const before = snap();
    for (const ranges of [[undefined], [null], [5]] as unknown as { start: number; end: number }[][]) {
      const pgmap = new DevPagemap({ type: MEMORY_DEVICE_GENERIC, ranges });
      expect(() => m.memremap.memremapPages(pgmap, 0)).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
      expect(pgmap.ref).toBeUndefined();
    }
    for (const flags of [NaN, 1.5, -1]) {
      const pgmap = new DevPagemap({ type: MEMORY_DEVICE_GENERIC, range: { start: 128 * GiB, end: 128 * GiB + 128 * MiB - 1 }, flags });
      expect(() => m.memremap.memremapPages(pgmap, 0)).toThrow(`memremap_pages: invalid flags ${flags}`);
    }
    expect(snap()).toBe(before);
  });
});
