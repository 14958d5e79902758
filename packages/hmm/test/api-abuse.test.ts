/**
 * API abuse: the HMM and migrate_vma entry points called with values no C
 * caller could pass (NaN, infinities, negatives, fractions, integers beyond
 * 2^53, 2^64, undefined, null, a string, an object) in each numeric
 * argument. Each answer is a KernelError with the kernel's errno (EINVAL),
 * and the machine (iomem, free pages, pagemaps, the dmirror devices, the
 * process's mappings and data) is exactly as it was.
 */
import { isKernelError } from '@zonedev/kernel';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, userRead, userWrite } from '@zonedev/mm';
import type { MmStruct } from '@zonedev/mm';
import { MIGRATE_VMA_SELECT_SYSTEM, hmmPfn, hmmPfnToMapOrder, hmmPfnToPage, lockPage, migratePfn, migratePfnToPage, migrateVmaSetup, pageLocked, trylockPage, unlockPage } from '@zonedev/hmm';
import { describe, expect, it } from 'vitest';
import { bootWithTestHmm, newMm, snapshot } from './machine.js';
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

function proc(): { m: Machine; mm: MmStruct; addr: number } {
  const m = bootWithTestHmm();
  const mm = newMm(m);
  const addr = mm.mmap({ length: 4 * 4096, prot: PROT_READ + PROT_WRITE, flags: MAP_PRIVATE + MAP_ANONYMOUS });
  userWrite(mm, addr, new TextEncoder().encode('hello'));
  return { m, mm, addr };
}

const state = (t: { m: Machine; mm: MmStruct; addr: number }): unknown => ({
  machine: snapshot(t.m),
  maps: t.mm.procMaps(),
  data: Array.from(userRead(t.mm, t.addr, 8)),
});

function calls(t: { m: Machine; mm: MmStruct; addr: number }): [string, (v: unknown) => unknown][] {
  const { m, mm, addr } = t;
  const vma = mm.findVma(addr)!;
  const args = (o: Record<string, unknown>) => ({ vma, dst: [], src: [], cpages: 0, npages: 0, start: addr, end: addr + 4096, pgmapOwner: m.testHmm, flags: MIGRATE_VMA_SELECT_SYSTEM, ...o }) as never;
  return [
    ['migratePfn', (v) => migratePfn(n(v))],
    ['migratePfnToPage', (v) => migratePfnToPage(n(v))],
    ['hmmPfn pfn', (v) => hmmPfn(n(v), 0n)],
    ['hmmPfn order', (v) => hmmPfn(0x1000, 0n, n(v ?? NaN))],
    ['hmmPfnToPage', (v) => hmmPfnToPage(v as bigint)],
    ['hmmPfnToMapOrder', (v) => hmmPfnToMapOrder(v as bigint)],
    ['lockPage', (v) => lockPage(m.sys, n(v))],
    ['trylockPage', (v) => trylockPage(m.sys, n(v))],
    ['unlockPage', (v) => unlockPage(m.sys, n(v))],
    ['pageLocked', (v) => pageLocked(m.sys, n(v))],
    ['migrateVmaSetup start', (v) => migrateVmaSetup(args({ start: v }))],
    ['migrateVmaSetup end', (v) => migrateVmaSetup(args({ end: v }))],
    ['migrateVmaSetup flags', (v) => migrateVmaSetup(args({ flags: v }))],
  ];
}

describe('every numeric argument of the HMM entry points', () => {
  it('answers a bad number with a KernelError and changes nothing', () => {
    const t = proc();
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
    // No page was locked by any of the refused calls.
    for (let pfn = 0; pfn < 16; pfn++) expect(pageLocked(t.m.sys, pfn)).toBe(false);
  });
});
