// mm/migrate.c (CONFIG_DEVICE_PRIVATE) at v5.13 through lib/test_hmm.c:
// what migrate_vma_setup() collects, what is not migrated, the reference
// counts of device pages, migrate_to_ram on a CPU fault and its SIGBUS,
// fork, munmap and /proc/PID/smaps with device-private entries, rmmod.
import { isKernelError } from '@zonedev/kernel';
import type { MmStruct } from '@zonedev/mm';
import {
  FOLL_WRITE,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  PROT_READ,
  PROT_WRITE,
  UserFaultSignal,
  devicePrivateEntryToPfn,
  isDevicePrivateEntry,
  isMigrationEntry,
  isWriteDevicePrivateEntry,
  pinUserPages,
  pteWrite,
  unpinUserPage,
  userRead,
  userWrite,
} from '@zonedev/mm';
import { PG_locked } from '@zonedev/mmzone';
import { describe, expect, it } from 'vitest';
import type { Dmirror, MigrateVma } from '../src/index.js';
import {
  DMIRROR_FAIL_MIGRATE_TO_RAM,
  HMM_DMIRROR_MIGRATE,
  HMM_DMIRROR_READ,
  MIGRATE_PFN_LOCKED,
  MIGRATE_PFN_MIGRATE,
  MIGRATE_PFN_WRITE,
  MIGRATE_VMA_SELECT_SYSTEM,
  migratePfn,
  migrateVmaFinalize,
  migrateVmaPages,
  migrateVmaSetup,
} from '../src/index.js';
import type { Machine } from './machine.js';
import { bootWithTestHmm, newMm } from './machine.js';

const P = 4096;
const RW = PROT_READ + PROT_WRITE;
const ANON = MAP_PRIVATE + MAP_ANONYMOUS;

function errnoOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isKernelError(e)) return e.errno;
    throw e;
  }
  return 'none';
}

function args(mm: MmStruct, start: number, npages: number, flags: number): MigrateVma {
  return {
    vma: mm.findVma(start),
    src: new Array<number>(npages).fill(0),
    dst: new Array<number>(npages).fill(0),
    cpages: 0,
    npages: 0,
    start,
    end: start + npages * P,
    pgmapOwner: 'nobody',
    flags,
  };
}

/** A process with `n` pages; the listed ones written with their index. */
function proc(m: Machine, n: number, written: number[]): { mm: MmStruct; a: number } {
  const mm = newMm(m);
  const a = mm.mmap({ length: n * P, prot: RW, flags: ANON });
  for (const i of written) userWrite(mm, a + i * P, new Uint8Array(P).fill(i + 1));
  return { mm, a };
}

function migrate(f: Dmirror, mm: MmStruct, addr: number, npages: number): { cpages: bigint; faults: bigint } {
  const buf = mm.mmap({ length: npages * P, prot: RW, flags: ANON });
  const cmd = { addr: BigInt(addr), ptr: BigInt(buf), npages: BigInt(npages), cpages: 0n, faults: 0n };
  f.ioctl(HMM_DMIRROR_MIGRATE, cmd);
  return cmd;
}

function devicePfnAt(mm: MmStruct, addr: number): { pfn: number; write: boolean } | undefined {
  const pte = mm.pgd!.get(addr);
  if (pte?.kind !== 'swap' || !isDevicePrivateEntry(pte.entry)) return undefined;
  return { pfn: devicePrivateEntryToPfn(pte.entry), write: isWriteDevicePrivateEntry(pte.entry) };
}

describe('migrate_vma_setup(): collect', () => {
  it('collects holes whatever the flags say; present pages only with MIGRATE_VMA_SELECT_SYSTEM', () => {
    const m = bootWithTestHmm();
    const { mm, a } = proc(m, 3, [1]);
    const none = args(mm, a, 3, 0);
    migrateVmaSetup(none);
    expect(none.src).toEqual([MIGRATE_PFN_MIGRATE, 0, MIGRATE_PFN_MIGRATE]);
    expect([none.cpages, none.npages]).toEqual([2, 3]);
    migrateVmaPages(none);
    migrateVmaFinalize(none);
    // With SYSTEM the written page is collected: locked, replaced by a migration entry.
    const sys = args(mm, a, 3, MIGRATE_VMA_SELECT_SYSTEM);
    const pte = mm.pgd!.get(a + P)!;
    const pfn = pte.kind === 'present' ? pte.pfn : -1;
    migrateVmaSetup(sys);
    expect(sys.src![1]).toBe(migratePfn(pfn) + MIGRATE_PFN_MIGRATE + MIGRATE_PFN_LOCKED + MIGRATE_PFN_WRITE);
    expect(sys.cpages).toBe(3);
    const mig = mm.pgd!.get(a + P)!;
    expect(mig.kind === 'swap' && isMigrationEntry(mig.entry)).toBe(true);
    expect(m.mm.memmap.testPageFlag(pfn, PG_locked)).toBe(true);
    // The driver migrates nothing (dst all 0): finalize puts the page back as it was.
    migrateVmaPages(sys);
    expect(sys.src![1]).toBe(migratePfn(pfn) + MIGRATE_PFN_LOCKED + MIGRATE_PFN_WRITE);
    migrateVmaFinalize(sys);
    expect(mm.pgd!.get(a + P)).toMatchObject({ kind: 'present', pfn });
    expect(m.mm.memmap.testPageFlag(pfn, PG_locked)).toBe(false);
    expect(m.sys.pageCount(pfn)).toBe(1);
    expect(userRead(mm, a + P, 1)[0]).toBe(2);
  });

  it('refuses only what v5.13 refuses, with -EINVAL and the page tables untouched', () => {
    const m = bootWithTestHmm();
    const { mm, a } = proc(m, 2, [0]);
    const before = mm.pgd!.get(a);
    expect(errnoOf(() => migrateVmaSetup({ ...args(mm, a, 2, 1), vma: null }))).toBe('EINVAL');
    expect(errnoOf(() => migrateVmaSetup({ ...args(mm, a, 2, 1), end: a + 3 * P }))).toBe('EINVAL');
    expect(errnoOf(() => migrateVmaSetup({ ...args(mm, a, 2, 1), src: null }))).toBe('EINVAL');
    expect(mm.pgd!.get(a)).toBe(before);
  });
});

describe('what is not migrated', () => {
  it('a page with an extra reference (a GUP pin) stays, the rest of the range moves: MIGRATE reports -ENOENT', () => {
    const m = bootWithTestHmm();
    const { mm, a } = proc(m, 4, [0, 1, 2, 3]);
    const f = m.testHmm.open(0, mm);
    const [pinned] = pinUserPages(mm, a + 2 * P, 1, FOLL_WRITE);
    const before = mm.pgd!.get(a + 2 * P);
    expect(errnoOf(() => migrate(f, mm, a, 4))).toBe('ENOENT');
    expect(mm.pgd!.get(a + 2 * P)).toMatchObject({ kind: 'present', pfn: pinned });
    expect(before).toMatchObject({ kind: 'present', pfn: pinned });
    for (const i of [0, 1, 3]) expect(devicePfnAt(mm, a + i * P)).toBeDefined();
    unpinUserPage(m.sys, pinned!);
    // without the pin it moves too
    expect(migrate(f, mm, a, 4).cpages).toBe(4n);
  });

  it('a page already on the other device is not collected by SELECT_SYSTEM: -ENOENT on device 0', () => {
    const m = bootWithTestHmm();
    const { mm, a } = proc(m, 1, [0]);
    const f0 = m.testHmm.open(0, mm);
    const f1 = m.testHmm.open(1, mm);
    expect(migrate(f1, mm, a, 1).cpages).toBe(1n);
    expect(m.testHmm.devices[1]!.ownsPfn(devicePfnAt(mm, a)!.pfn)).toBe(true);
    expect(errnoOf(() => migrate(f0, mm, a, 1))).toBe('ENOENT');
  });
});

describe('device pages: references, page_free, migrate_to_ram', () => {
  it('a migrated page is a write device-private entry; the device page holds 2 references and the data sits in its backing page', () => {
    const m = bootWithTestHmm();
    const { mm, a } = proc(m, 1, [0]);
    const f = m.testHmm.open(0, mm);
    const free0 = m.mm.nrFreePages();
    expect(migrate(f, mm, a, 1)).toMatchObject({ cpages: 1n, faults: 0n });
    const d = devicePfnAt(mm, a)!;
    expect(d.write).toBe(true);
    const dev = m.testHmm.devices[0]!;
    expect(d.pfn).toBe(dev.chunks[0]!.pfnLast - 1);
    expect(m.sys.pageCount(d.pfn)).toBe(2);
    expect(m.sys.pageMapcount(d.pfn)).toBe(1);
    const rpage = dev.backingPage(d.pfn)!;
    expect(m.sys.readPage(rpage, 0, 4)).toEqual(new Uint8Array([1, 1, 1, 1]));
    // the system page went back to the allocator, a backing page (and the mirror buffer's page) came out
    expect(m.mm.nrFreePages()).toBe(free0 - 1);
    expect(f.pt.get(a / P)).toEqual({ page: rpage, write: true });
  });

  it('a CPU read migrates the page back (one page per fault); the device page is freed at refcount 1', () => {
    const m = bootWithTestHmm();
    const { mm, a } = proc(m, 2, [0, 1]);
    const f = m.testHmm.open(0, mm);
    migrate(f, mm, a, 2);
    const d0 = devicePfnAt(mm, a)!.pfn;
    const dev = m.testHmm.devices[0]!;
    const cfree = dev.cfree;
    expect(userRead(mm, a, 1)[0]).toBe(1);
    expect(mm.pgd!.get(a)).toMatchObject({ kind: 'present' });
    expect(devicePfnAt(mm, a + P)).toBeDefined();
    expect(dev.cfree).toBe(cfree + 1);
    expect(m.sys.pageCount(d0)).toBe(1);
    expect([...dev.freeList()][0]).toBe(d0);
    // the driver dropped its mirror entry of the page that left
    expect(f.pt.has(a / P)).toBe(false);
    expect(f.pt.has(a / P + 1)).toBe(true);
  });

  it('a device that cannot give the page back: migrate_to_ram returns VM_FAULT_SIGBUS and the process gets SIGBUS', () => {
    const m = bootWithTestHmm();
    const { mm, a } = proc(m, 1, [0]);
    const f = m.testHmm.open(0, mm);
    migrate(f, mm, a, 1);
    m.kernel.faults.configure(DMIRROR_FAIL_MIGRATE_TO_RAM, { probability: 100, times: 1 });
    let sig: unknown;
    try {
      userRead(mm, a, 1);
    } catch (e) {
      sig = e;
    }
    expect(sig).toBeInstanceOf(UserFaultSignal);
    expect(sig).toMatchObject({ signal: 'SIGBUS', code: 'BUS_ADRERR', address: a });
    expect(devicePfnAt(mm, a)).toBeDefined();
    // the next access succeeds
    expect(userRead(mm, a, 1)[0]).toBe(1);
  });

  it('munmap of a device-private entry drops the page: page_free, backing page freed, rss back', () => {
    const m = bootWithTestHmm();
    const { mm, a } = proc(m, 2, [0, 1]);
    const f = m.testHmm.open(0, mm);
    migrate(f, mm, a, 2);
    const dev = m.testHmm.devices[0]!;
    const free = m.mm.nrFreePages();
    const rss = mm.getMmRss();
    mm.munmap(a, 2 * P);
    expect(dev.cfree).toBe(2);
    expect(m.mm.nrFreePages()).toBe(free + 2);
    expect(mm.getMmRss()).toBe(rss - 2);
  });

  it('/proc/PID/smaps counts device-private pages as resident anonymous memory', () => {
    const m = bootWithTestHmm();
    const { mm, a } = proc(m, 4, [0, 1, 2, 3]);
    const f = m.testHmm.open(0, mm);
    migrate(f, mm, a, 2);
    // One VMA: the 4 pages and, merged below them, the 2-page buffer MIGRATE copied the data back to.
    const smaps = mm.procSmaps();
    expect(smaps.split('\n')[0]).toBe(`${(a - 2 * P).toString(16)}-${(a + 4 * P).toString(16)} rw-p 00000000 00:00 0 `);
    expect(smaps).toContain('\nRss:                  24 kB\n');
    expect(smaps).toContain('\nAnonymous:            24 kB\n');
    expect(smaps).toContain('\nSwap:                  0 kB\n');
    expect(devicePfnAt(mm, a)).toBeDefined();
    expect(devicePfnAt(mm, a + P)).toBeDefined();
  });

  it('fork: a write device-private entry becomes a read entry in parent and child, both mapping the device page', () => {
    const m = bootWithTestHmm();
    const { mm, a } = proc(m, 1, [0]);
    const f = m.testHmm.open(0, mm);
    migrate(f, mm, a, 1);
    const d = devicePfnAt(mm, a)!.pfn;
    const child = mm.fork(200);
    expect(devicePfnAt(mm, a)).toEqual({ pfn: d, write: false });
    expect(devicePfnAt(child, a)).toEqual({ pfn: d, write: false });
    expect(m.sys.pageCount(d)).toBe(3);
    expect(m.sys.pageMapcount(d)).toBe(2);
    // The child's read migrates the page back for both: try_to_unmap() turns the parent's entry into a
    // migration entry too, and both end up mapping the same read-only system page.
    expect(userRead(child, a, 1)[0]).toBe(1);
    const pc = child.pgd!.get(a)!;
    const pp = mm.pgd!.get(a)!;
    expect(pc).toMatchObject({ kind: 'present' });
    expect(pp).toMatchObject({ kind: 'present', pfn: pc.kind === 'present' ? pc.pfn : -1 });
    expect(m.sys.pageCount(d)).toBe(1);
    child.mmput();
    expect(userRead(mm, a, 1)[0]).toBe(1);
  });
});

describe('rmmod with pages on the device', () => {
  it('memunmap_pages() waits until the process has let go of every device page', async () => {
    const m = bootWithTestHmm();
    const { mm, a } = proc(m, 3, [0, 1, 2]);
    const f = m.testHmm.open(0, mm);
    migrate(f, mm, a, 3);
    f.release();
    let done = false;
    const unload = m.testHmm.unload().then(() => (done = true));
    await new Promise((r) => setTimeout(r, 0));
    expect(done).toBe(false);
    mm.mmput();
    await unload;
    expect(done).toBe(true);
    expect(m.kernel.iomem.procIomem({ capSysAdmin: true })).not.toContain('hmm_dmirror');
  });
});

describe('READ after MIGRATE', () => {
  it('reads the device pages through the mirror without faulting them back (faults 0)', () => {
    const m = bootWithTestHmm();
    const { mm, a } = proc(m, 2, [0, 1]);
    const f = m.testHmm.open(0, mm);
    migrate(f, mm, a, 2);
    const buf = mm.mmap({ length: 2 * P, prot: RW, flags: ANON });
    const cmd = { addr: BigInt(a), ptr: BigInt(buf), npages: 2n, cpages: 0n, faults: 0n };
    f.ioctl(HMM_DMIRROR_READ, cmd);
    expect(cmd).toMatchObject({ cpages: 2n, faults: 0n });
    expect(userRead(mm, buf + P, 2)).toEqual(new Uint8Array([2, 2]));
    expect(devicePfnAt(mm, a)).toBeDefined();
  });
});

describe('mprotect on device-private entries', () => {
  it('a write entry becomes a read entry; the mirror loses the page and a READ finds it through its backing page', () => {
    const m = bootWithTestHmm();
    const { mm, a } = proc(m, 1, [0]);
    const f = m.testHmm.open(0, mm);
    migrate(f, mm, a, 1);
    const d = devicePfnAt(mm, a)!;
    mm.mprotect(a, P, PROT_READ);
    expect(devicePfnAt(mm, a)).toEqual({ pfn: d.pfn, write: false });
    expect(f.pt.has(a / P)).toBe(false);
    const buf = mm.mmap({ length: P, prot: RW, flags: ANON });
    const cmd = { addr: BigInt(a), ptr: BigInt(buf), npages: 1n, cpages: 0n, faults: 0n };
    f.ioctl(HMM_DMIRROR_READ, cmd);
    expect(cmd).toMatchObject({ cpages: 1n, faults: 1n });
    expect(f.pt.get(a / P)).toEqual({ page: m.testHmm.devices[0]!.backingPage(d.pfn), write: false });
    expect(userRead(mm, buf, 2)).toEqual(new Uint8Array([1, 1]));
    // still on the device; a CPU read brings it back read-only
    expect(devicePfnAt(mm, a)).toBeDefined();
    expect(userRead(mm, a, 1)[0]).toBe(1);
    const pte = mm.pgd!.get(a)!;
    expect(pte.kind === 'present' && pteWrite(pte)).toBe(false);
  });
});
