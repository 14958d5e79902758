// Random mmap/munmap/mprotect/madvise sequences against a per-page reference.
import fc from 'fast-check';
import { isKernelError } from '@zonedev/kernel';
import { describe, expect, it } from 'vitest';
import {
  MADV_HUGEPAGE, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, MmStruct, PROT_EXEC, PROT_READ, PROT_WRITE,
  VM_ACCOUNT, VM_HUGEPAGE, VM_MAYEXEC, VM_MAYREAD, VM_MAYSHARE, VM_MAYWRITE, VM_SHARED, VM_WRITE,
  calcVmProtBits,
} from '../src/index.js';
import { snapshot } from './helpers.js';

const PG = 4096;
const WINDOW = 48;
const BASE_PG = 0x7ffff7fff000 / PG;
const LOW_PG = BASE_PG - WINDOW;

type Page = { flags: number; file: number | null; pgoff: number };

type Op =
  | { kind: 'mmap'; fixed: boolean; shared: boolean; page: number; pages: number; prot: number }
  | { kind: 'munmap'; page: number; pages: number }
  | { kind: 'mprotect'; page: number; pages: number; prot: number }
  | { kind: 'madvise'; page: number; pages: number };

const prot = fc.constantFrom(0, PROT_READ, PROT_READ + PROT_WRITE, PROT_READ + PROT_EXEC, PROT_WRITE);
const page = fc.integer({ min: 0, max: WINDOW - 1 });
const pages = fc.integer({ min: 1, max: 12 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('mmap' as const), fixed: fc.boolean(), shared: fc.boolean(), page, pages, prot }),
  fc.record({ kind: fc.constant('munmap' as const), page, pages }),
  fc.record({ kind: fc.constant('mprotect' as const), page, pages, prot }),
  fc.record({ kind: fc.constant('madvise' as const), page, pages }),
);

/** The reference: one entry per mapped page. */
class Ref {
  pages = new Map<number, Page>();
  nextFile = 1;

  range(p: number, n: number): number[] {
    return Array.from({ length: n }, (_, i) => p + i);
  }

  mmap(o: Extract<Op, { kind: 'mmap' }>): number {
    let start = LOW_PG + o.page;
    if (!o.fixed) {
      // highest free run ending at or below mmap_base
      start = BASE_PG - o.pages;
      while (this.range(start, o.pages).some((q) => this.pages.has(q))) start--;
    }
    let flags = calcVmProtBits(o.prot) + VM_MAYREAD + VM_MAYWRITE + VM_MAYEXEC;
    const file = o.shared ? this.nextFile++ : null;
    if (o.shared) flags += VM_SHARED + VM_MAYSHARE;
    else if (writable(flags)) flags += VM_ACCOUNT;
    for (const [i, q] of this.range(start, o.pages).entries()) this.pages.set(q, { flags, file, pgoff: o.shared ? i : q });
    return start;
  }

  covered(p: number, n: number): boolean {
    return this.range(p, n).every((q) => this.pages.has(q));
  }

  vmas(): { start: number; end: number; flags: number; pgoff: number }[] {
    const out: { start: number; end: number; flags: number; pgoff: number }[] = [];
    const keys = [...this.pages.keys()].sort((x, y) => x - y);
    let prev: { q: number; pg: Page } | null = null;
    for (const q of keys) {
      const pg = this.pages.get(q)!;
      const last = out[out.length - 1];
      if (prev && last && prev.q === q - 1 && prev.pg.flags === pg.flags && prev.pg.file === pg.file) {
        last.end = (q + 1) * PG;
      } else {
        out.push({ start: q * PG, end: (q + 1) * PG, flags: pg.flags, pgoff: pg.pgoff });
      }
      prev = { q, pg };
    }
    return out;
  }
}

function writable(flags: number): boolean {
  return Math.floor(flags / VM_WRITE) % 2 === 1;
}

describe('address space property', () => {
  it('VMAs stay sorted, disjoint, aligned, maximal and equal to the per-page reference', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 30 }), (ops) => {
        const mm = new MmStruct(1);
        const ref = new Ref();
        for (const o of ops) {
          const before = snapshot(mm);
          const addr = (LOW_PG + o.page) * PG;
          const len = o.pages * PG;
          switch (o.kind) {
            case 'mmap': {
              const flags = (o.shared ? MAP_SHARED : MAP_PRIVATE) + MAP_ANONYMOUS + (o.fixed ? MAP_FIXED : 0);
              const got = mm.mmap({ addr: o.fixed ? addr : 0, length: len, prot: o.prot, flags });
              expect(got).toBe(ref.mmap(o) * PG);
              break;
            }
            case 'munmap':
              mm.munmap(addr, len);
              for (const q of ref.range(LOW_PG + o.page, o.pages)) ref.pages.delete(q);
              break;
            case 'mprotect':
            case 'madvise': {
              const covered = ref.covered(LOW_PG + o.page, o.pages);
              let err: unknown = null;
              try {
                if (o.kind === 'mprotect') mm.mprotect(addr, len, o.prot);
                else mm.madvise(addr, len, MADV_HUGEPAGE);
              } catch (e) {
                err = e;
              }
              if (!covered) {
                expect(isKernelError(err, 'ENOMEM')).toBe(true);
                expect(snapshot(mm)).toEqual(before);
                break;
              }
              expect(err).toBe(null);
              for (const q of ref.range(LOW_PG + o.page, o.pages)) {
                const pg = ref.pages.get(q)!;
                if (o.kind === 'madvise') {
                  if (Math.floor(pg.flags / VM_HUGEPAGE) % 2 === 0) pg.flags += VM_HUGEPAGE;
                  continue;
                }
                const access = calcVmProtBits(o.prot);
                let f = pg.flags - (pg.flags % 8) + access;
                const charged = Math.floor(pg.flags / VM_ACCOUNT) % 2 === 1 || writable(pg.flags) || pg.file !== null;
                if (writable(f) && !charged) f += VM_ACCOUNT;
                ref.pages.set(q, { ...pg, flags: f });
              }
              break;
            }
          }
          const vmas = snapshot(mm);
          for (const [i, v] of vmas.entries()) {
            expect(v.start % PG).toBe(0);
            expect(v.end % PG).toBe(0);
            expect(v.start).toBeLessThan(v.end);
            if (i > 0) expect(vmas[i - 1]!.end).toBeLessThanOrEqual(v.start);
          }
          expect(vmas).toEqual(ref.vmas());
        }
      }),
      { numRuns: 300 },
    );
  });
});
