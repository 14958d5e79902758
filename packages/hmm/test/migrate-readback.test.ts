// The read-back of lib/test_hmm.c's dmirror_migrate() (v5.13): after the
// migration, dmirror_do_read() copies every mirrored page into a bounce
// buffer and copy_to_user() copies that to cmd->ptr. The bytes the user
// buffer receives are the migrated data whatever the buffer is: a separate
// page-aligned buffer, one at an odd address, or the migrated range itself
// (whose copy_to_user() faults each device page back to RAM first).
import { isKernelError } from '@zonedev/kernel';
import type { MmStruct } from '@zonedev/mm';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE, isDevicePrivateEntry, userRead, userWrite } from '@zonedev/mm';
import { describe, expect, it } from 'vitest';
import { HMM_DMIRROR_MIGRATE } from '../src/index.js';
import { bootWithTestHmm, newMm } from './machine.js';

const P = 4096;
const RW = PROT_READ + PROT_WRITE;
const ANON = MAP_PRIVATE + MAP_ANONYMOUS;
const N = 16;

function pattern(n: number, seed: number): Uint8Array {
  return new Uint8Array(n).map((_, i) => (i * 7 + seed) % 251);
}

function setup(): { mm: MmStruct; a: number; buf: number; data: Uint8Array; f: ReturnType<ReturnType<typeof bootWithTestHmm>['testHmm']['open']> } {
  const m = bootWithTestHmm();
  const mm = newMm(m);
  const a = mm.mmap({ length: N * P, prot: RW, flags: ANON });
  const buf = mm.mmap({ length: (N + 1) * P, prot: RW, flags: ANON });
  const data = pattern(N * P, 3);
  userWrite(mm, a, data);
  userWrite(mm, buf, new Uint8Array((N + 1) * P).fill(0xee));
  return { mm, a, buf, data, f: m.testHmm.open(0, mm) };
}

function cmd(addr: number, ptr: number, npages: number): { addr: bigint; ptr: bigint; npages: bigint; cpages: bigint; faults: bigint } {
  return { addr: BigInt(addr), ptr: BigInt(ptr), npages: BigInt(npages), cpages: 0n, faults: 0n };
}

function onDevice(mm: MmStruct, a: number, n: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) {
    const pte = mm.pgd!.get(a + i * P);
    if (pte?.kind === 'swap' && isDevicePrivateEntry(pte.entry)) k++;
  }
  return k;
}

describe('MIGRATE copies the migrated data back to cmd->ptr', () => {
  it('to a separate page-aligned buffer: every page, the pages stay on the device', () => {
    const { mm, a, buf, data, f } = setup();
    const c = cmd(a, buf, N);
    f.ioctl(HMM_DMIRROR_MIGRATE, c);
    expect(c.cpages).toBe(BigInt(N));
    expect(onDevice(mm, a, N)).toBe(N);
    expect(userRead(mm, buf, N * P)).toEqual(data);
    // the page after the copied range is untouched
    expect(userRead(mm, buf + N * P, P)).toEqual(new Uint8Array(P).fill(0xee));
  });

  it('to a buffer at an odd address: the same bytes, shifted by the offset', () => {
    const { mm, a, buf, data, f } = setup();
    const c = cmd(a, buf + 1, N);
    f.ioctl(HMM_DMIRROR_MIGRATE, c);
    expect(c.cpages).toBe(BigInt(N));
    const got = userRead(mm, buf, (N + 1) * P);
    expect(got[0]).toBe(0xee);
    expect(got.subarray(1, 1 + N * P)).toEqual(data);
    expect(got[1 + N * P]).toBe(0xee);
  });

  it('to the migrated range itself: copy_to_user faults each page back to RAM and the data survives', () => {
    const { mm, a, data, f } = setup();
    const c = cmd(a, a, N);
    f.ioctl(HMM_DMIRROR_MIGRATE, c);
    expect(c.cpages).toBe(BigInt(N));
    expect(onDevice(mm, a, N)).toBe(0);
    expect(userRead(mm, a, N * P)).toEqual(data);
  });

  it('to a buffer overlapping the range from half-way: the bytes read before any were written', () => {
    const { mm, a, data, f } = setup();
    const half = N / 2;
    // [a + half pages, a + half + N pages) overlaps the second half of the range and runs past it
    const dst = mm.mmap({ addr: a + N * P, length: N * P, prot: RW, flags: ANON + MAP_FIXED });
    expect(dst).toBe(a + N * P);
    const c = cmd(a, a + half * P, N);
    f.ioctl(HMM_DMIRROR_MIGRATE, c);
    expect(c.cpages).toBe(BigInt(N));
    expect(userRead(mm, a, half * P)).toEqual(data.subarray(0, half * P));
    expect(userRead(mm, a + half * P, N * P)).toEqual(data);
  });

  it('to a read-only buffer: -EFAULT after the migration, the pages on the device, cmd not copied back', () => {
    const { mm, a, buf, f } = setup();
    mm.mprotect(buf, (N + 1) * P, PROT_READ);
    const c = cmd(a, buf, N);
    let errno = 'none';
    try {
      f.ioctl(HMM_DMIRROR_MIGRATE, c);
    } catch (e) {
      if (!isKernelError(e)) throw e;
      errno = e.errno;
    }
    expect(errno).toBe('EFAULT');
    expect(c.cpages).toBe(0n);
    expect(onDevice(mm, a, N)).toBe(N);
    expect(userRead(mm, buf, P)).toEqual(new Uint8Array(P).fill(0xee));
  });
});
