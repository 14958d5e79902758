// include/linux/memremap.h structures and pgmap_array's
// range-store semantics.
import { PercpuRef } from '@zonedev/kernel';
import { vmemAltmap } from '@zonedev/sparse-vmemmap';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DevPagemap,
  MEMORY_DEVICE_FS_DAX,
  MEMORY_DEVICE_GENERIC,
  MEMORY_DEVICE_PCI_P2PDMA,
  MEMORY_DEVICE_PRIVATE,
  MemoryType,
  PGMAP_ALTMAP_VALID,
  VM_FAULT_SIGBUS,
  memoryTypeName,
  pgmapAltmap,
} from '@zonedev/memremap';
import type { VmFault } from '@zonedev/memremap';
import { PgmapArray } from '../src/pgmap-array.js';

describe('enum memory_type and struct dev_pagemap', () => {
  it('numbers the types from 1 (0 catches uninitialized fields)', () => {
    expect([MEMORY_DEVICE_PRIVATE, MEMORY_DEVICE_FS_DAX, MEMORY_DEVICE_GENERIC, MEMORY_DEVICE_PCI_P2PDMA]).toEqual([1, 2, 3, 4]);
    expect(MemoryType.MEMORY_DEVICE_GENERIC).toBe(3);
    expect(memoryTypeName(MEMORY_DEVICE_PCI_P2PDMA)).toBe('MEMORY_DEVICE_PCI_P2PDMA');
    expect(memoryTypeName(0 as MemoryType)).toBe('0');
    expect(PGMAP_ALTMAP_VALID).toBe(1);
    expect(VM_FAULT_SIGBUS).toBe(2);
  });

  it('range is ranges[0]; nr_range counts the ranges', () => {
    const one = new DevPagemap({ type: MEMORY_DEVICE_GENERIC, range: { start: 0x1000, end: 0x1fff } });
    expect(one.nrRange).toBe(1);
    expect(one.range).toEqual({ start: 0x1000, end: 0x1fff });
    const two = new DevPagemap({ type: MEMORY_DEVICE_GENERIC, ranges: [{ start: 0, end: 1 }, { start: 4, end: 5 }] });
    expect(two.nrRange).toBe(2);
    expect(two.range).toBe(two.ranges[0]);
    expect(two.traceName).toBe('dev_pagemap(MEMORY_DEVICE_GENERIC 0x0-0x1 +1)');
    expect(() => new DevPagemap({ type: MEMORY_DEVICE_GENERIC }).range).toThrow(RangeError);
    expect(new DevPagemap({ type: MEMORY_DEVICE_GENERIC, name: 'pmem0' }).traceName).toBe('pmem0');
  });

  it('pgmap_altmap() is the altmap only with PGMAP_ALTMAP_VALID', () => {
    const altmap = vmemAltmap({ basePfn: 0x100000, reserve: 2, free: 64 });
    const without = new DevPagemap({ type: MEMORY_DEVICE_FS_DAX, altmap });
    expect(pgmapAltmap(without)).toBeUndefined();
    const withIt = new DevPagemap({ type: MEMORY_DEVICE_FS_DAX, altmap, flags: PGMAP_ALTMAP_VALID });
    expect(pgmapAltmap(withIt)).toBe(altmap);
    // The embedded altmap of a pagemap that has none is zeroed.
    expect(new DevPagemap({ type: MEMORY_DEVICE_GENERIC }).altmap).toEqual({ basePfn: 0, endPfn: 0, reserve: 0, free: 0, align: 0, alloc: 0 });
  });

  it('keeps the driver fields as given', () => {
    const ref = new PercpuRef(() => undefined);
    const owner = { driver: 'dmirror' };
    const seen: VmFault[] = [];
    const pgmap = new DevPagemap({
      type: MEMORY_DEVICE_PRIVATE,
      range: { start: 0, end: 0xfff },
      ref,
      owner,
      ops: { migrateToRam: (vmf): number => (seen.push(vmf), VM_FAULT_SIGBUS) },
    });
    expect(pgmap.ref).toBe(ref);
    expect(pgmap.owner).toBe(owner);
    // The fault context is mm's struct vm_fault; memremap only passes it on.
    const vmf: VmFault = {
      vma: {} as VmFault['vma'],
      address: 0x7f0000001000,
      flags: 1,
      pgoff: 0x7f0000001,
      gfpMask: 0,
      page: 0x100000,
      cowPage: undefined,
    };
    expect(pgmap.ops!.migrateToRam!(vmf)).toBe(VM_FAULT_SIGBUS);
    expect(seen).toEqual([vmf]);
  });
});

describe('pgmap_array (xa_store_range / xa_load)', () => {
  it('stores a value over a range, splits what it overwrites, erases with undefined', () => {
    const a = new PgmapArray<string>();
    a.storeRange(100, 199, 'A');
    a.storeRange(300, 399, 'B');
    expect([a.load(99), a.load(100), a.load(199), a.load(200), a.load(350)]).toEqual([undefined, 'A', 'A', undefined, 'B']);
    a.storeRange(150, 320, 'C');
    expect(a.entries()).toEqual([
      [100, 149, 'A'],
      [150, 320, 'C'],
      [321, 399, 'B'],
    ]);
    a.storeRange(120, 130, undefined);
    expect(a.entries()).toEqual([
      [100, 119, 'A'],
      [131, 149, 'A'],
      [150, 320, 'C'],
      [321, 399, 'B'],
    ]);
    a.storeRange(0, 1000, undefined);
    expect(a.size).toBe(0);
    expect(() => a.storeRange(5, 4, 'x')).toThrow(RangeError);
  });

  it('behaves like a per-index array (property)', () => {
    const op = fc.record({ first: fc.integer({ min: 0, max: 60 }), len: fc.integer({ min: 1, max: 20 }), v: fc.option(fc.integer({ min: 0, max: 3 })) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        const a = new PgmapArray<number>();
        const model: (number | undefined)[] = new Array(100).fill(undefined);
        for (const { first, len, v } of ops) {
          const value = v ?? undefined;
          a.storeRange(first, first + len - 1, value);
          for (let i = first; i < first + len; i++) model[i] = value;
        }
        for (let i = 0; i < 100; i++) expect(a.load(i)).toBe(model[i]);
        const e = a.entries();
        for (let i = 1; i < e.length; i++) expect(e[i]![0]).toBeGreaterThan(e[i - 1]![1]);
      }),
      { numRuns: 200 },
    );
  });
});
