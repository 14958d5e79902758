// Random mmap/munmap/mprotect/fork/fault/migrate/exit sequences over a few
// processes: every mapped page's mapcount equals the PTEs that map it, its
// refcount equals its mapcount, every process reads what it last wrote, and
// after every exit all pages are back in the buddy allocator.
import fc from 'fast-check';
import { GFP_KERNEL } from '@zonedev/mmzone';
import { describe, expect, it } from 'vitest';
import {
  FOLL_WRITE, GUP_PIN_COUNTING_BIAS, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MIGRATE_SYNC, MR_SYSCALL, PROT_READ,
  PROT_WRITE, UserFaultSignal, pinUserPages, putbackLruPage, unpinUserPages,
  isolateLruPage, migratePages, ptePresent, userRead, userWrite,
} from '../src/index.js';
import type { MmStruct } from '../src/index.js';
import { bootMachine, newMm } from './machine.js';

const PG = 4096;
const WINDOW = 16;
const BASE = 0x10000000;

type Op =
  | { kind: 'mmap'; page: number; pages: number; write: boolean }
  | { kind: 'munmap'; page: number; pages: number }
  | { kind: 'mprotect'; page: number; pages: number; write: boolean }
  | { kind: 'write'; proc: number; page: number; byte: number }
  | { kind: 'read'; proc: number; page: number }
  | { kind: 'fork'; proc: number }
  | { kind: 'exit'; proc: number }
  | { kind: 'migrate'; proc: number; page: number }
  | { kind: 'pin'; proc: number; page: number }
  | { kind: 'unpin' };

const page = fc.integer({ min: 0, max: WINDOW - 1 });
const pages = fc.integer({ min: 1, max: 6 });
const proc = fc.integer({ min: 0, max: 3 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('mmap' as const), page, pages, write: fc.boolean() }),
  fc.record({ kind: fc.constant('munmap' as const), page, pages }),
  fc.record({ kind: fc.constant('mprotect' as const), page, pages, write: fc.boolean() }),
  fc.record({ kind: fc.constant('write' as const), proc, page, byte: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('write' as const), proc, page, byte: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('read' as const), proc, page }),
  fc.record({ kind: fc.constant('fork' as const), proc }),
  fc.record({ kind: fc.constant('exit' as const), proc }),
  fc.record({ kind: fc.constant('migrate' as const), proc, page }),
  fc.record({ kind: fc.constant('pin' as const), proc, page }),
  fc.record({ kind: fc.constant('unpin' as const) }),
);

describe('page-table invariants under random operations', () => {
  it('keeps mapcounts, refcounts and contents consistent', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), (ops) => {
        const m = bootMachine({ memory: 64 * 2 ** 20 });
        const free0 = m.core.nrFreePages();
        let nextPid = 2;
        const first = newMm(m, 1);
        // the reference: per process, the byte each written page holds (0 = untouched)
        const procs: { mm: MmStruct; bytes: Map<number, number> }[] = [{ mm: first, bytes: new Map() }];
        const at = (p: number): number => BASE + p * PG;
        const pins: number[] = [];
        const live = (i: number): { mm: MmStruct; bytes: Map<number, number> } | undefined => procs[i % Math.max(procs.length, 1)];
        for (const o of ops) {
          const p = live('proc' in o ? o.proc : 0);
          if (!p) break;
          const { mm, bytes } = p;
          if (o.kind === 'mmap') {
            mm.mmap({ addr: at(o.page), length: o.pages * PG, prot: PROT_READ + (o.write ? PROT_WRITE : 0), flags: MAP_PRIVATE + MAP_ANONYMOUS + MAP_FIXED });
            for (let i = o.page; i < o.page + o.pages; i++) bytes.set(i, 0);
          } else if (o.kind === 'munmap') {
            mm.munmap(at(o.page), o.pages * PG);
            for (let i = o.page; i < o.page + o.pages; i++) bytes.delete(i);
          } else if (o.kind === 'mprotect') {
            let mapped = true;
            for (let i = o.page; i < o.page + o.pages; i++) if (!bytes.has(i)) mapped = false;
            if (mapped) mm.mprotect(at(o.page), o.pages * PG, PROT_READ + (o.write ? PROT_WRITE : 0));
          } else if (o.kind === 'write' || o.kind === 'read') {
            const expected = bytes.get(o.page);
            try {
              if (o.kind === 'write') {
                userWrite(mm, at(o.page) + 7, Uint8Array.of(o.byte));
                bytes.set(o.page, o.byte);
              } else {
                expect(userRead(mm, at(o.page) + 7, 1)[0]).toBe(expected);
              }
              expect(expected).not.toBeUndefined();
            } catch (e) {
              if (!(e instanceof UserFaultSignal)) throw e;
              const vma = mm.findVma(at(o.page));
              const mappedHere = vma !== null && vma.vmStart <= at(o.page);
              expect(!mappedHere || (o.kind === 'write' && vma!.vmFlags % 4 < 2)).toBe(true);
            }
          } else if (o.kind === 'fork') {
            if (procs.length < 4) procs.push({ mm: mm.fork(nextPid++), bytes: new Map(bytes) });
          } else if (o.kind === 'exit') {
            mm.exitMmap();
            procs.splice(procs.indexOf(p), 1);
          } else if (o.kind === 'pin') {
            const vma = mm.findVma(at(o.page));
            if (vma && vma.vmStart <= at(o.page) && vma.vmFlags % 4 >= 2) {
              const [pfn] = pinUserPages(mm, at(o.page), 1, FOLL_WRITE);
              pins.push(pfn!);
            }
          } else if (o.kind === 'unpin') {
            unpinUserPages(m.sys, pins.splice(0));
          } else {
            const pte = mm.pgd!.get(at(o.page));
            if (ptePresent(pte) && !m.sys.isZeroPfn(pte.pfn)) {
              isolateLruPage(m.sys, pte.pfn);
              const from = [pte.pfn];
              migratePages(m.sys, from, () => m.core.allocPages(GFP_KERNEL, 0), undefined, MIGRATE_SYNC, MR_SYSCALL);
              if (pins.includes(pte.pfn)) {
                // extra references: refused, the mapping restored
                expect(from).toEqual([pte.pfn]);
                putbackLruPage(m.sys, pte.pfn);
                expect((mm.pgd!.get(at(o.page)) as { pfn: number }).pfn).toBe(pte.pfn);
              } else {
                expect(from).toEqual([]);
                expect(mm.pgd!.get(at(o.page))).not.toBe(pte);
              }
            }
          }
          // mapcount == PTEs mapping the page == refcount; no PTE outside a VMA
          const ptes = new Map<number, number>();
          for (const q of procs) {
            q.mm.pgd!.walk(0, 2 ** 47, ({ addr, pte }) => {
              const v = q.mm.findVma(addr);
              expect(v !== null && v.vmStart <= addr).toBe(true);
              if (ptePresent(pte) && !m.sys.isZeroPfn(pte.pfn)) ptes.set(pte.pfn, (ptes.get(pte.pfn) ?? 0) + 1);
              else if (!ptePresent(pte)) throw new Error(`a swap entry at 0x${addr.toString(16)}`);
            });
          }
          for (const [pfn, n] of ptes) {
            expect(m.sys.pageMapcount(pfn)).toBe(n);
            expect(m.sys.pageCount(pfn)).toBe(n + GUP_PIN_COUNTING_BIAS * pins.filter((p) => p === pfn).length);
          }
          const rss = procs.reduce((a, q) => a + q.mm.getMmRss(), 0);
          expect(rss).toBe([...ptes.values()].reduce((a, n) => a + n, 0));
        }
        for (const q of procs) q.mm.exitMmap();
        // a pinned page outlives its mappings until it is unpinned
        const pinned = new Set(pins).size;
        expect(m.core.nrFreePages()).toBe(free0 - pinned);
        unpinUserPages(m.sys, pins);
        expect(m.core.nrFreePages()).toBe(free0);
      }),
      { numRuns: 40, seed: 10 },
    );
  });
});
