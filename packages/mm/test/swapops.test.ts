// Swap entries as include/linux/swapops.h v5.13 encodes them on x86_64.
import { describe, expect, it } from 'vitest';
import {
  MAX_SWAPFILES, MAX_SWAPFILES_SHIFT, SWP_DEVICE_READ, SWP_DEVICE_WRITE, SWP_HWPOISON, SWP_MIGRATION_READ,
  SWP_MIGRATION_WRITE, SWP_OFFSET_MASK, SWP_TYPE_SHIFT,
  devicePrivateEntryToPfn, isDevicePrivateEntry, isHwpoisonEntry, isMigrationEntry, isWriteDevicePrivateEntry,
  isWriteMigrationEntry, makeDevicePrivateEntry, makeDevicePrivateEntryRead, makeHwpoisonEntry, makeMigrationEntry,
  makeMigrationEntryRead, migrationEntryToPfn, nonSwapEntry, swpEntry, swpEntryFromValue, swpOffset, swpType,
} from '../src/index.js';
import { expectErrno } from './helpers.js';

describe('swap entry layout', () => {
  it('has the v5.13 constants with DEVICE_PRIVATE, MIGRATION and MEMORY_FAILURE', () => {
    expect(MAX_SWAPFILES_SHIFT).toBe(5);
    expect(SWP_TYPE_SHIFT).toBe(58);
    expect(SWP_OFFSET_MASK).toBe(0x3ffffffffffffffn);
    expect(MAX_SWAPFILES).toBe(27);
    expect(SWP_HWPOISON).toBe(27);
    expect(SWP_MIGRATION_READ).toBe(28);
    expect(SWP_MIGRATION_WRITE).toBe(29);
    expect(SWP_DEVICE_WRITE).toBe(30);
    expect(SWP_DEVICE_READ).toBe(31);
  });

  it('encodes type << 58 | offset exactly', () => {
    expect(swpEntry(30, 0x1234).val).toBe(0x7800000000001234n);
    expect(swpEntry(31, 0x1234).val).toBe(0x7c00000000001234n);
    expect(swpEntry(0, 0).val).toBe(0n);
    expect(swpEntry(1, 5).val).toBe(0x0400000000000005n);
    expect(swpEntry(31, SWP_OFFSET_MASK).val).toBe(2n ** 63n - 1n);
  });

  it('round-trips type and offset', () => {
    for (const type of [0, 1, 26, 27, 28, 29, 30, 31]) {
      for (const off of [0n, 1n, 0x1234n, 2n ** 52n + 3n, SWP_OFFSET_MASK]) {
        const e = swpEntry(type, off);
        expect(swpType(e)).toBe(type);
        expect(swpOffset(e)).toBe(off);
        expect(swpEntryFromValue(e.val)).toEqual(e);
        expect(nonSwapEntry(e)).toBe(type >= 27);
      }
    }
  });

  it('refuses bad types, offsets and values with EINVAL', () => {
    expectErrno(() => swpEntry(32, 0), 'EINVAL');
    expectErrno(() => swpEntry(-1, 0), 'EINVAL');
    expectErrno(() => swpEntry(Number.NaN, 0), 'EINVAL');
    expectErrno(() => swpEntry(1.5, 0), 'EINVAL');
    expectErrno(() => swpEntry(0, SWP_OFFSET_MASK + 1n), 'EINVAL');
    expectErrno(() => swpEntry(0, -1), 'EINVAL');
    expectErrno(() => swpEntry(0, Number.NaN), 'EINVAL');
    expectErrno(() => swpEntryFromValue(2n ** 63n), 'EINVAL');
    expectErrno(() => swpEntryFromValue(-1n), 'EINVAL');
    expectErrno(() => makeDevicePrivateEntry(Number.NaN, true), 'EINVAL');
    expectErrno(() => makeMigrationEntry(-3, false), 'EINVAL');
  });
});

describe('special entries', () => {
  it('device-private entries carry the pfn and the write bit in the type', () => {
    const w = makeDevicePrivateEntry(0x1234, true);
    expect(w.val).toBe(0x7800000000001234n);
    expect(isDevicePrivateEntry(w)).toBe(true);
    expect(isWriteDevicePrivateEntry(w)).toBe(true);
    expect(isMigrationEntry(w)).toBe(false);
    expect(devicePrivateEntryToPfn(w)).toBe(0x1234);
    const r = makeDevicePrivateEntry(0x1234, false);
    expect(swpType(r)).toBe(31);
    expect(isDevicePrivateEntry(r)).toBe(true);
    expect(isWriteDevicePrivateEntry(r)).toBe(false);
    expect(makeDevicePrivateEntryRead(w)).toEqual(r);
  });

  it('migration entries', () => {
    const w = makeMigrationEntry(0x10000, true);
    expect(w.val).toBe(0x7400000000010000n);
    expect(isMigrationEntry(w)).toBe(true);
    expect(isWriteMigrationEntry(w)).toBe(true);
    expect(isDevicePrivateEntry(w)).toBe(false);
    expect(migrationEntryToPfn(w)).toBe(0x10000);
    const r = makeMigrationEntryRead(w);
    expect(r.val).toBe(0x7000000000010000n);
    expect(isMigrationEntry(r)).toBe(true);
    expect(isWriteMigrationEntry(r)).toBe(false);
  });

  it('hwpoison entries', () => {
    const h = makeHwpoisonEntry(42);
    expect(h.val).toBe(0x6c0000000000002an);
    expect(isHwpoisonEntry(h)).toBe(true);
    expect(isMigrationEntry(h)).toBe(false);
    expect(isDevicePrivateEntry(h)).toBe(false);
    expect(nonSwapEntry(h)).toBe(true);
    expect(isHwpoisonEntry(swpEntry(26, 42))).toBe(false);
    expect(nonSwapEntry(swpEntry(26, 42))).toBe(false);
  });
});
