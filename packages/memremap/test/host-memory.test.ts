// Never abort: a memremap_pages() too big for the host's heap fails with
// -ENOMEM at the sparse model's allocation point, and the machine is as it
// was (the host-memory guard of @zonedev/sparse-vmemmap, issue "never
// abort").
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { HostMemoryGuard, vmemAltmap } from '@zonedev/sparse-vmemmap';
import { describe, expect, it, vi } from 'vitest';
import { DevPagemap, MEMORY_DEVICE_GENERIC, PGMAP_ALTMAP_VALID } from '@zonedev/memremap';
import { GiB, MiB, TiB, bootMachine, snapshot } from './machine.js';

const START = 2 ** 50;

function generic(start: number, size: number, withAltmap: boolean): DevPagemap {
  if (!withAltmap) return new DevPagemap({ type: MEMORY_DEVICE_GENERIC, range: { start, end: start + size - 1 } });
  const npfns = (size - 8192) / 4096;
  const dataoff = Math.ceil((8192 + 64 * npfns) / (2 * MiB)) * 2 * MiB;
  const altmap = vmemAltmap({ basePfn: start / 4096, endPfn: (start + size) / 4096, reserve: 2, free: dataoff / 4096 - 2 });
  return new DevPagemap({ type: MEMORY_DEVICE_GENERIC, range: { start, end: start + size - 1 }, altmap, flags: PGMAP_ALTMAP_VALID });
}

describe('memremap_pages() past the host-memory mark', () => {
  it('fails with -ENOMEM in the middle of __add_pages() and unwinds every section', () => {
    // The heap is "full" from the fifth section on.
    let reads = 0;
    const hostMemory = new HostMemoryGuard({ interval: 1, probe: () => ({ used: ++reads > 4 ? 100 : 0, limit: 100 }) });
    const m = bootMachine({ physBits: 52, hostMemory });
    const before = snapshot(m);
    const pgmap = generic(START, 8 * 128 * MiB, true);
    expect(() => m.memremap.memremapPages(pgmap, 0)).toThrow(
      expect.objectContaining({ errno: 'ENOMEM', message: `sparse_add_section: out of host memory for pfn 0x${(START / 4096 + 4 * 32768).toString(16)} + 32768` }),
    );
    expect(snapshot(m)).toEqual(before);
    expect(m.memremap.pagemapPhase(pgmap)).toBeUndefined();
    expect(pgmap.altmap!.alloc).toBe(0);
    expect(m.sparse.pfnValid(START / 4096)).toBe(false);
  });

  it('the same request succeeds once the heap has room again', () => {
    let full = true;
    const hostMemory = new HostMemoryGuard({ interval: 1, probe: () => ({ used: full ? 100 : 0, limit: 100 }) });
    const m = bootMachine({ physBits: 52, hostMemory });
    const pgmap = generic(START, GiB, false);
    expect(() => m.memremap.memremapPages(pgmap, 0)).toThrow(expect.objectContaining({ errno: 'ENOMEM' }));
    full = false;
    m.memremap.memremapPages(pgmap, 0);
    expect(m.memremap.pagemapPhase(pgmap)).toBe('live');
    expect(m.memremap.getDevPagemap(START / 4096 + 5)).toBe(pgmap);
  });
});

describe('a small host heap (--max-old-space-size=96)', () => {
  it('memremap of 2 PiB with its memmap in the altmap fits: uniform sections are one record, so the host heap never sees 2^39 struct pages', () => {
    const script = fileURLToPath(new URL('./fixtures/small-heap.ts', import.meta.url));
    const register = new URL('./fixtures/register-sources.mjs', import.meta.url).href;
    const r = spawnSync(process.execPath, ['--max-old-space-size=96', '--expose-gc', '--import', 'tsx', '--import', register, script, String(2048 * TiB)], {
      encoding: 'utf8',
      timeout: 50_000,
    });
    expect(r.stderr).not.toContain('heap out of memory');
    expect(r.signal).toBeNull();
    // the child's stderr in the report if it exits with an error
    expect({ status: r.status, stderr: r.status === 0 ? '' : r.stderr.slice(-2000) }).toEqual({ status: 0, stderr: '' });
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { errno: string; message: string; live: boolean; unchanged: boolean; usable: boolean };
    expect(out).toEqual({ errno: 'ok', message: '', live: true, unchanged: true, usable: true });
  });
});

describe('the memmap of 64 TiB in RAM on a small guest', () => {
  it('fails with the kernel\'s -ENOMEM from vmemmap_populate(): RAM runs out long before the host does, and everything is unwound', () => {
    const m = bootMachine({ physBits: 52 });
    const before = snapshot(m);
    const free = m.mm.nrFreePages();
    const pgmap = generic(START, 64 * TiB, false);
    let err: unknown;
    try {
      m.memremap.memremapPages(pgmap, 0);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ errno: 'ENOMEM', message: expect.stringMatching(/^sparse_add_section: cannot populate the memmap of pfn 0x[0-9a-f]+ \+ 32768$/) });
    expect(snapshot(m)).toEqual(before);
    expect(m.mm.nrFreePages()).toBe(free);
    expect(m.memremap.pagemapPhase(pgmap)).toBeUndefined();
    expect(m.sparse.pfnValid(START / 4096)).toBe(false);
    expect(m.memremap.getDevPagemap(START / 4096)).toBeUndefined();
  });
});

describe('whole uniform sections in one step', () => {
  it('memremap_pages() and memunmap_pages() of 64 sections leave what one sparse_add_section() per section (the traced path) leaves', async () => {
    const run = async (traced: boolean): Promise<unknown[]> => {
      const m = bootMachine({ physBits: 52 });
      const pgmap = generic(START, 64 * 128 * MiB, true);
      const adds = vi.spyOn(m.sparse, 'sparseAddSections');
      const removes = vi.spyOn(m.sparse, 'sparseRemoveSections');
      if (traced) m.kernel.tracer.on();
      m.memremap.memremapPages(pgmap, 0);
      m.kernel.tracer.off();
      const mapped = [snapshot(m), { ...pgmap.altmap! }, m.sparse.memmapOfRange(START / 4096, 64 * 32768), m.mm.memmap.pageRefCount(START / 4096 + 2 * 32768)];
      if (traced) m.kernel.tracer.on();
      await m.memremap.memunmapPages(pgmap);
      m.kernel.tracer.off();
      // Untraced, the sections went in and out in one step each way; traced, one by one.
      expect(adds.mock.results.some((r) => r.value === true)).toBe(!traced);
      expect(removes.mock.results.some((r) => r.value === true)).toBe(!traced);
      return [mapped, snapshot(m), { ...pgmap.altmap! }, m.sparse.sectionRuns, m.sparse.vmemmapRecords];
    };
    const loop = await run(true);
    const bulk = await run(false);
    expect(bulk).toEqual(loop);
    expect((loop[2] as { alloc: number }).alloc).toBe(0);
  });
});
