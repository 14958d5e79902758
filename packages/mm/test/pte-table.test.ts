// PageTable.pteTable(): the PTE table of one PMD slot (pte_offset_map() for a
// whole table), as hmm_vma_walk_pmd() reads it entry by entry.
import { describe, expect, it } from 'vitest';
import { PAGE_SHARED, PageTable, makeMigrationEntry, pfnPte, swpEntryToPte } from '../src/index.js';
import { X86_64_4LEVEL } from './machine.js';
import { expectErrno } from './helpers.js';

const PMD = 2 ** 21;
const P = 4096;

describe('PageTable.pteTable', () => {
  it('returns the slot table indexed by pte_index(), live and agreeing with get()', () => {
    const pt = new PageTable(X86_64_4LEVEL);
    const base = 5 * PMD;
    pt.set(base + 3 * P, pfnPte(77, PAGE_SHARED));
    pt.set(base + 511 * P, swpEntryToPte(makeMigrationEntry(78, true)));
    const table = pt.pteTable(base + 100 * P)!;
    expect(table.length).toBe(512);
    for (let j = 0; j < 512; j++) expect(table[j]).toBe(pt.get(base + j * P));
    expect(table[3]).toEqual({ kind: 'present', pfn: 77, flags: PAGE_SHARED });
    pt.set(base + 4 * P, pfnPte(79, PAGE_SHARED));
    expect(table[4]).toEqual({ kind: 'present', pfn: 79, flags: PAGE_SHARED });
    pt.clear(base + 3 * P);
    expect(table[3]).toBeUndefined();
  });

  it('is undefined for an empty slot and for a huge leaf; EINVAL above the address space', () => {
    const pt = new PageTable(X86_64_4LEVEL);
    expect(pt.pteTable(7 * PMD)).toBeUndefined();
    pt.setPmd(8 * PMD, pfnPte(512, PAGE_SHARED));
    expect(pt.pteTable(8 * PMD + P)).toBeUndefined();
    expectErrno(() => pt.pteTable(2 ** 48), 'EINVAL');
    expectErrno(() => pt.pteTable(-1), 'EINVAL');
  });
});
