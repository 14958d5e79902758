/**
 * API abuse: the process address-space entry points (mmap, munmap,
 * mprotect, madvise, faults, user access, GUP-free helpers, swap entries)
 * called with values no C caller could pass (NaN, infinities, negatives,
 * fractions, integers beyond 2^53, 2^64, undefined, null, a string, an
 * object) in each numeric argument. Each answer is a KernelError with the
 * kernel's errno (EINVAL for a length, address, protection, flag or advice
 * that is not valid) and the address space, its page tables and the page
 * allocator are exactly as they were.
 */
import { isKernelError } from '@zonedev/kernel';
import { MAP_ANONYMOUS, MAP_PRIVATE, MemoryFailure, PROT_READ, PROT_WRITE, handleMmFault, userFault, userRead, userWrite } from '../src/index.js';
import type { MmStruct } from '../src/index.js';
import { describe, expect, it } from 'vitest';
import { snapshot } from './helpers.js';
import { bootMachine, enc, newMm } from './machine.js';
import type { Machine } from './machine.js';

const BAD: readonly unknown[] = [NaN, Infinity, -Infinity, -1, 1.5, 2 ** 53 + 2, 2 ** 64, undefined, null, '4096', {}];
const n = (x: unknown): number => x as number;

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isKernelError(e)) return e.errno;
    return `not a KernelError: ${String(e)}`;
  }
  return 'ok';
}

/** A process with one anonymous read-write mapping whose first page is faulted in and written. */
function proc(): { m: Machine; mm: MmStruct; addr: number } {
  const m = bootMachine();
  const mm = newMm(m);
  const addr = mm.mmap({ length: 4 * 4096, prot: PROT_READ + PROT_WRITE, flags: MAP_PRIVATE + MAP_ANONYMOUS });
  userWrite(mm, addr, enc('hello'));
  return { m, mm, addr };
}

const state = (t: { m: Machine; mm: MmStruct; addr: number; mf?: MemoryFailure }): unknown => ({
  poisoned: t.mf?.numPoisonedPages,
  vmas: snapshot(t.mm),
  maps: t.mm.procMaps(),
  rss: t.mm.getMmRss(),
  free: t.m.core.nrFreePages(),
  data: Array.from(userRead(t.mm, t.addr, 8)),
});

function calls(t: { mm: MmStruct; addr: number; mf: MemoryFailure }): [string, (v: unknown) => unknown][] {
  const { mm, addr, mf } = t;
  const vma = mm.findVma(addr)!;
  const pte = mm.pgd!.get(addr);
  const pfn = pte?.kind === 'present' ? pte.pfn : 0;
  return [
    ['memoryFailure pfn', (v) => mf.memoryFailure(n(v), 0)],
    ['memoryFailure flags', (v) => mf.memoryFailure(pfn, n(v))],
    ['softOfflinePage pfn', (v) => mf.softOfflinePage(n(v), 0)],
    ['softOfflinePage flags', (v) => mf.softOfflinePage(pfn, n(v))],
    ['mmap length', (v) => mm.mmap({ length: n(v), prot: PROT_READ, flags: MAP_PRIVATE + MAP_ANONYMOUS })],
    ['mmap addr', (v) => mm.mmap({ addr: n(v ?? NaN), length: 4096, prot: PROT_READ, flags: MAP_PRIVATE + MAP_ANONYMOUS })],
    ['mmap prot', (v) => mm.mmap({ length: 4096, prot: n(v), flags: MAP_PRIVATE + MAP_ANONYMOUS })],
    ['mmap flags', (v) => mm.mmap({ length: 4096, prot: PROT_READ, flags: n(v) })],
    ['munmap start', (v) => mm.munmap(n(v), 4096)],
    ['munmap length', (v) => mm.munmap(addr, n(v))],
    ['mprotect start', (v) => mm.mprotect(n(v), 4096, PROT_READ)],
    ['mprotect length', (v) => mm.mprotect(addr, n(v), PROT_READ)],
    ['mprotect prot', (v) => mm.mprotect(addr, 4096, n(v))],
    ['madvise start', (v) => mm.madvise(n(v), 4096, 14)],
    ['madvise length', (v) => mm.madvise(addr, n(v), 14)],
    ['madvise behavior', (v) => mm.madvise(addr, 4096, n(v))],
    ['handleMmFault address', (v) => handleMmFault(vma, n(v), 0)],
    ['handleMmFault flags', (v) => handleMmFault(vma, addr + 4096, n(v))],
    ['userFault address', (v) => userFault(mm, n(v), 'read' as never)],
    ['userRead address', (v) => userRead(mm, n(v), 8)],
    ['userRead length', (v) => userRead(mm, addr, n(v))],
    ['userWrite address', (v) => userWrite(mm, n(v), enc('x'))],
    ['getMmCounter', (v) => mm.getMmCounter(n(v))],
    ['addRss member', (v) => mm.addRss(n(v), 1)],
    ['fork pid', (v) => mm.fork(n(v))],
  ];
}

describe('every numeric argument of the address-space entry points', () => {
  it('answers a bad number with a KernelError and changes nothing', () => {
    const p = proc();
    const t = { ...p, mf: new MemoryFailure({ core: p.m.core, system: () => p.m.sys }) };
    const before = state(t);
    const wrong: string[] = [];
    for (const [name, call] of calls(t)) {
      for (const v of BAD) {
        const r = refusal(() => call(v));
        if (r !== 'EINVAL') wrong.push(`${name}(${String(v)}): ${r}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(state(t)).toEqual(before);
  });

  it('find_vma() answers NULL above every mapping, EINVAL for what is not an address, and changes nothing', () => {
    const t = proc();
    const before = state(t);
    for (const v of [Infinity, 2 ** 53 + 2, 2 ** 64]) expect(t.mm.findVma(n(v))).toBeNull();
    for (const v of [-1, -Infinity, NaN, 1.5, null, undefined, '4096', {}]) expect(refusal(() => t.mm.findVma(n(v)))).toBe('EINVAL');
    expect(t.mm.findVma(t.addr)?.vmStart).toBe(t.addr);
    expect(state(t)).toEqual(before);
  });
});
