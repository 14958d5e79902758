// The guard on host memory: past its mark, sparse_add_section() answers
// -ENOMEM, as section_activate() does when it cannot allocate, and changes
// nothing.
import { describe, expect, it } from 'vitest';
import { HostMemoryGuard, vmemAltmap } from '../src/index.js';
import { X86_64_LA57, expectErrno, machine, snapshot } from './helpers.js';

const PPS = 32768;
const MiB = 2 ** 20;

/** A probe that reports `used` bytes of a 100 MiB heap, and counts its reads. */
function fakeHeap(used: number): { probe: () => { used: number; limit: number }; reads: () => number; set: (u: number) => void } {
  let u = used;
  let n = 0;
  return {
    probe: () => {
      n++;
      return { used: u, limit: 100 * MiB };
    },
    reads: () => n,
    set: (x) => {
      u = x;
    },
  };
}

describe('HostMemoryGuard', () => {
  it('refuses past the limit less the reserve, and only then', () => {
    const heap = fakeHeap(75 * MiB);
    const g = new HostMemoryGuard({ probe: heap.probe, reserve: 0.25, interval: 1 });
    expect(g.exhausted()).toBe(false);
    heap.set(75 * MiB + 1);
    expect(g.exhausted()).toBe(true);
    expect(expectErrno(() => g.check('out of host memory'), 'ENOMEM')).toBe('out of host memory');
  });

  it('reads the heap once every `interval` calls, and again right after a refusal', () => {
    const heap = fakeHeap(0);
    const g = new HostMemoryGuard({ probe: heap.probe, interval: 4 });
    for (let i = 0; i < 8; i++) expect(g.refuse()).toBe(false);
    expect(heap.reads()).toBe(2);
    heap.set(99 * MiB);
    // The third read comes with the ninth call.
    expect(g.refuse()).toBe(true);
    expect(g.refuse()).toBe(true);
    heap.set(0);
    expect(g.refuse()).toBe(false);
    expect(heap.reads()).toBe(5);
  });

  it('never refuses where the host reports no heap', () => {
    const g = new HostMemoryGuard({ probe: () => undefined, interval: 1 });
    expect(g.refuse()).toBe(false);
  });

  it('validates its options', () => {
    expectErrno(() => new HostMemoryGuard({ reserve: 1 }), 'EINVAL');
    expectErrno(() => new HostMemoryGuard({ reserve: Number.NaN }), 'EINVAL');
    expectErrno(() => new HostMemoryGuard({ interval: 0 }), 'EINVAL');
    expectErrno(() => new HostMemoryGuard({ interval: 1.5 }), 'EINVAL');
  });
});

describe('sparse_add_section past the host-memory mark', () => {
  it('fails with -ENOMEM before touching the table, the vmemmap, the store or the altmap', () => {
    const heap = fakeHeap(0);
    const hostMemory = new HostMemoryGuard({ probe: heap.probe, interval: 1 });
    const { sparse, buddy, store } = machine(X86_64_LA57, [{ nid: 0, startPfn: 0, nrPages: 16384 }], { hostMemory });
    const base = 2 ** 38; // pfn of 1 PiB
    const altmap = vmemAltmap({ basePfn: base, free: 4 * 512 });
    sparse.sparseAddSection(0, base, PPS, altmap);
    const before = snapshot(sparse, { buddy, store, altmaps: [altmap] });
    heap.set(90 * MiB);
    const msg = expectErrno(() => sparse.sparseAddSection(0, base + PPS, PPS, altmap), 'ENOMEM');
    expect(msg).toBe(`sparse_add_section: out of host memory for pfn 0x${(base + PPS).toString(16)} + ${PPS}`);
    expect(snapshot(sparse, { buddy, store, altmaps: [altmap] })).toBe(before);
    expect(sparse.pfnValid(base + PPS)).toBe(false);
    // Memory comes back: the same call succeeds.
    heap.set(0);
    sparse.sparseAddSection(0, base + PPS, PPS, altmap);
    expect(sparse.pfnValid(base + PPS)).toBe(true);
    expect(altmap.alloc).toBe(2 * 512);
  });
});
