// lib/test_hmm.c at v5.13: module load and unload, device memory chunks,
// the free list, device page allocation and page_free, open/release with the
// interval notifier, the mirror's invalidate rule and the ioctl checks.
import { isKernelError, major, minor } from '@zonedev/kernel';
import {
  MAP_ANONYMOUS,
  userRead,
  userWrite,
  MAP_PRIVATE,
  MMU_NOTIFY_MIGRATE,
  PROT_READ,
  PROT_WRITE,
  mmuIntervalReadBegin,
  mmuIntervalReadRetry,
  mmuNotifierInvalidateRangeEnd,
  mmuNotifierInvalidateRangeStart,
  mmuNotifierInvalidateRangeStartNonblock,
  mmuNotifierRangeInitMigrate,
} from '@zonedev/mm';
import { describe, expect, it } from 'vitest';
import type { HmmDmirrorCmd } from '../src/index.js';
import {
  HMM_DMIRROR_MIGRATE,
  HMM_DMIRROR_READ,
  HMM_DMIRROR_SNAPSHOT,
  HMM_DMIRROR_WRITE,
  decodeHmmDmirrorCmd,
  dmirrorTaskSpawner,
  encodeHmmDmirrorCmd,
} from '../src/index.js';
import { MiB, bootMachine, bootWithTestHmm, newMm, snapshot } from './machine.js';
import { PG_locked } from '@zonedev/mmzone';

const TOP = 2 ** 46;

function errnoOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isKernelError(e)) return e.errno;
    throw e;
  }
  return 'none';
}

function cmd(over: Partial<HmmDmirrorCmd> = {}): HmmDmirrorCmd {
  return { addr: 0x10000n, ptr: 0n, npages: 1n, cpages: 0n, faults: 0n, ...over };
}

describe('lib/test_hmm_uapi.h', () => {
  it('the four v5.13 ioctls are _IOWR(\'H\', 0..3, struct hmm_dmirror_cmd)', () => {
    expect([HMM_DMIRROR_READ, HMM_DMIRROR_WRITE, HMM_DMIRROR_MIGRATE, HMM_DMIRROR_SNAPSHOT]).toEqual([
      0xc0284800, 0xc0284801, 0xc0284802, 0xc0284803,
    ]);
  });

  it('struct hmm_dmirror_cmd is 40 bytes of little-endian __u64 in the order addr, ptr, npages, cpages, faults', () => {
    const c = cmd({ addr: 0x7ffff7fff000n, ptr: 0x1234n, npages: 1024n, cpages: 5n, faults: 2n ** 64n - 1n });
    const b = encodeHmmDmirrorCmd(c);
    expect(b.length).toBe(40);
    expect([...b.slice(0, 8)]).toEqual([0x00, 0xf0, 0xff, 0xf7, 0xff, 0x7f, 0, 0]);
    expect([...b.slice(16, 24)]).toEqual([0, 4, 0, 0, 0, 0, 0, 0]);
    expect(decodeHmmDmirrorCmd(b)).toEqual(c);
    expect(errnoOf(() => decodeHmmDmirrorCmd(b.slice(0, 39)))).toBe('EFAULT');
  });
});

describe('modprobe test_hmm / rmmod test_hmm', () => {
  it('loads two devices with one 256 MiB chunk each, from the top of the physical address space down, with the kernel\'s pr_info lines', () => {
    const m = bootMachine();
    const free0 = m.mm.nrFreePages();
    m.testHmm.load();
    const [d0, d1] = m.testHmm.devices;
    expect(m.testHmm.devices.map((d) => d.path)).toEqual(['/dev/hmm_dmirror0', '/dev/hmm_dmirror1']);
    expect(d0!.chunks.map((c) => [c.pfnFirst, c.pfnLast])).toEqual([[(TOP - 256 * MiB) / 4096, TOP / 4096]]);
    expect(d1!.chunks.map((c) => [c.pfnFirst, c.pfnLast])).toEqual([[(TOP - 512 * MiB) / 4096, (TOP - 256 * MiB) / 4096]]);
    expect(m.kernel.log.lines.slice(-5).map((l) => l.text)).toEqual([
      'memmap_init_zone_device initialised 65536 pages in 0ms',
      'added new 256 MB chunk (total 1 chunks, 256 MB) PFNs [0x3ffff0000 0x400000000)',
      'memmap_init_zone_device initialised 65536 pages in 0ms',
      'added new 256 MB chunk (total 1 chunks, 256 MB) PFNs [0x3fffe0000 0x3ffff0000)',
      'HMM test module loaded. This is only for testing HMM.',
    ]);
    const iomem = m.kernel.iomem.procIomem({ capSysAdmin: true });
    expect(iomem).toContain('3fffe0000000-3fffefffffff : hmm_dmirror\n');
    expect(iomem).toContain('3ffff0000000-3fffffffffff : hmm_dmirror\n');
    // Device-private memory is ZONE_DEVICE without a linear mapping; its memmap (4 MiB per chunk) is in RAM.
    expect(m.memremap.isDevicePrivatePage(d0!.chunks[0]!.pfnFirst)).toBe(true);
    expect(m.memremap.pagePgmap(d0!.chunks[0]!.pfnFirst)!.owner).toBe(d0);
    expect(m.hp.linearMappings()).toEqual([]);
    expect(m.mm.nrFreePages()).toBe(free0 - 2 * 1024);
    expect([d0!.capacity, d0!.nrFreePages, d0!.calloc, d0!.cfree]).toEqual([16, 65536, 0, 0]);
    expect(errnoOf(() => m.testHmm.load())).toBe('EEXIST');
  });

  it('registers HMM_DMIRROR with a dynamic major and two minors, the one test_hmm.sh reads from /proc/devices, and gives it back on rmmod', async () => {
    const m = bootMachine();
    m.testHmm.load();
    const devt = m.testHmm.devt;
    const line = m.kernel.devt.procDevices().split('\n').find((l) => l.endsWith(' HMM_DMIRROR'));
    expect(line).toBe(`${String(major(devt)).padStart(3)} HMM_DMIRROR`);
    expect(minor(devt)).toBe(0);
    expect(m.kernel.devt.chrdevRegions().find((r) => r.name === 'HMM_DMIRROR')?.minorct).toBe(2);
    await m.testHmm.unload();
    expect(m.testHmm.devt).toBe(0);
    expect(m.kernel.devt.procDevices()).not.toContain('HMM_DMIRROR');
    // reloading finds the same major free again
    m.testHmm.load();
    expect(m.testHmm.devt).toBe(devt);
  });

  it('the free list is LIFO: the highest pfn first, a freed page goes back on top', () => {
    const m = bootWithTestHmm();
    const d = m.testHmm.devices[0]!;
    const last = d.chunks[0]!.pfnLast;
    const a = d.devmemAllocPage()!;
    const b = d.devmemAllocPage()!;
    expect([a, b]).toEqual([last - 1, last - 2]);
    expect(d.calloc).toBe(2);
    // Allocated: an extra reference (2), locked, a backing system page.
    expect(m.mm.memmap.pageRefCount(a)).toBe(2);
    expect(m.mm.memmap.testPageFlag(a, PG_locked)).toBe(true);
    const rpage = d.backingPage(a)!;
    expect(m.memremap.isZoneDevicePage(rpage)).toBe(false);
    // The driver is done with it: unlock and put; page_free runs at refcount 1 (v5.13).
    const free = m.mm.nrFreePages();
    m.mm.memmap.clearPageFlag(a, PG_locked);
    m.mm.putPage(a);
    expect(m.mm.memmap.pageRefCount(a)).toBe(1);
    expect(d.cfree).toBe(1);
    expect(d.backingPage(a)).toBeUndefined();
    expect(m.mm.nrFreePages()).toBe(free + 1);
    expect([...d.freeList()].slice(0, 2)).toEqual([a, last - 3]);
    expect(d.devmemAllocPage()).toBe(a);
  });

  it('dmirror_allocate_chunk() adds a chunk below the others; its pr_info line counts the device\'s chunks', () => {
    const m = bootWithTestHmm();
    const d = m.testHmm.devices[1]!;
    expect(d.allocateChunk(false)).toEqual({ ok: true });
    expect(d.chunks.length).toBe(2);
    expect(m.kernel.log.lines.at(-1)!.text).toBe(
      'added new 256 MB chunk (total 2 chunks, 512 MB) PFNs [0x3fffd0000 0x3fffe0000)',
    );
    expect([d.capacity, d.nrFreePages]).toEqual([16, 2 * 65536]);
    // With a page wanted, one is popped from the top of the new chunk.
    expect(d.allocateChunk(true)).toEqual({ ok: true, page: 0x3fffd0000 - 1 });
    expect(d.calloc).toBe(1);
  });

  it('a chunk that does not fit below the others and above RAM: refused, the machine unchanged', () => {
    const m = bootMachine({ physBits: 31 }); // 2 GiB of physical address space, 1 GiB of RAM
    m.testHmm.load();
    const d = m.testHmm.devices[0]!;
    expect(m.testHmm.devices[1]!.chunks.map((c) => c.pfnFirst * 4096)).toEqual([2 ** 31 - 512 * MiB]);
    // Two more fit (1.25 GiB and 1 GiB), the next would overlap System RAM.
    expect(d.allocateChunk(false).ok).toBe(true);
    expect(d.allocateChunk(false).ok).toBe(true);
    const full = snapshot(m);
    const log = m.kernel.log.lines.length;
    expect(d.allocateChunk(false)).toEqual({ ok: false });
    expect(snapshot(m)).toEqual(full);
    expect(m.kernel.log.lines.length).toBe(log);
    // dmirror_devmem_alloc_page() then fails too, and gives its backing page back.
    while (d.nrFreePages > 0) d.devmemAllocPage();
    const drained = snapshot(m);
    expect(d.devmemAllocPage()).toBeUndefined();
    expect(snapshot(m)).toEqual(drained);
  });

  it('rmmod: memunmap_pages() waits until every device page is free, then the regions go', async () => {
    const m = bootMachine();
    const iomem0 = m.kernel.iomem.procIomem({ capSysAdmin: true });
    const free0 = m.mm.nrFreePages();
    m.testHmm.load();
    const d = m.testHmm.devices[0]!;
    const p = d.devmemAllocPage()!;
    let done = false;
    const unload = m.testHmm.unload().then(() => (done = true));
    await Promise.resolve();
    await new Promise((r) => setTimeout(r, 0));
    expect(done).toBe(false);
    m.mm.memmap.clearPageFlag(p, PG_locked);
    m.mm.putPage(p);
    await unload;
    expect(done).toBe(true);
    expect(m.testHmm.loaded).toBe(false);
    expect(m.kernel.iomem.procIomem({ capSysAdmin: true })).toBe(iomem0);
    expect(m.mm.nrFreePages()).toBe(free0);
    expect(m.memremap.pagemaps()).toEqual([]);
    await expect(m.testHmm.unload()).rejects.toMatchObject({ errno: 'ENOENT' });
  });

  it('rmmod while a file is open: -EBUSY, nothing changes', async () => {
    const m = bootWithTestHmm();
    const f = m.testHmm.open(0, newMm(m, 1));
    const before = snapshot(m);
    await expect(m.testHmm.unload()).rejects.toMatchObject({ errno: 'EBUSY' });
    expect(snapshot(m)).toEqual(before);
    f.release();
    await m.testHmm.unload();
  });
});

describe('open, release and the mirror\'s interval notifier', () => {
  it('open subscribes to [0, ULONG_MAX & PAGE_MASK) of the opener\'s mm; release unsubscribes', () => {
    const m = bootWithTestHmm();
    const mm = newMm(m, 7);
    const f = m.testHmm.open(1, mm);
    expect(f.mdevice).toBe(m.testHmm.devices[1]);
    expect([f.notifier.start, f.notifier.last]).toEqual([0n, 2n ** 64n - 4096n - 1n]);
    expect(mm.notifierSubscriptions!.intervals()).toContain(f.notifier);
    expect(f.notifier.invalidateSeq % 2).toBe(1);
    f.release();
    expect(mm.notifierSubscriptions!.intervals()).not.toContain(f.notifier);
    expect(errnoOf(() => f.release())).toBe('EINVAL');
    expect(errnoOf(() => m.testHmm.open(2, mm))).toBe('ENODEV');
  });

  it('a munmap erases the mirror entries of the range plus one page (the inclusive end) and forces a retry', () => {
    const m = bootWithTestHmm();
    const mm = newMm(m, 1);
    const addr = mm.mmap({ length: 8 * 4096, prot: PROT_READ + PROT_WRITE, flags: MAP_PRIVATE + MAP_ANONYMOUS });
    const f = m.testHmm.open(0, mm);
    const v = addr / 4096;
    for (let i = 0; i < 8; i++) f.pt.set(v + i, { page: 1000 + i, write: true });
    const seq = mmuIntervalReadBegin(f.notifier);
    mm.munmap(addr + 2 * 4096, 2 * 4096);
    expect([...f.pt.keys()].map((k) => k - v)).toEqual([0, 1, 5, 6, 7]);
    expect(mmuIntervalReadRetry(f.notifier, seq)).toBe(true);
  });

  it('the device\'s own migration (MMU_NOTIFY_MIGRATE, owner = this device) is skipped: no erase, no retry', () => {
    const m = bootWithTestHmm();
    const mm = newMm(m, 1);
    const f0 = m.testHmm.open(0, mm);
    const f1 = m.testHmm.open(1, mm);
    f0.pt.set(16, { page: 1, write: false });
    f1.pt.set(16, { page: 1, write: false });
    const s0 = mmuIntervalReadBegin(f0.notifier);
    const s1 = mmuIntervalReadBegin(f1.notifier);
    const range = mmuNotifierRangeInitMigrate(0, mm, 16 * 4096, 17 * 4096, m.testHmm.devices[0]);
    expect(range.event).toBe(MMU_NOTIFY_MIGRATE);
    mmuNotifierInvalidateRangeStart(range);
    mmuNotifierInvalidateRangeEnd(range);
    expect(f0.pt.has(16)).toBe(true);
    expect(mmuIntervalReadRetry(f0.notifier, s0)).toBe(false);
    // The other device's mirror is invalidated as usual.
    expect(f1.pt.has(16)).toBe(false);
    expect(mmuIntervalReadRetry(f1.notifier, s1)).toBe(true);
  });

  it('a non-blockable invalidation is refused (-EAGAIN) and the mirror is kept', () => {
    const m = bootWithTestHmm();
    const mm = newMm(m, 1);
    const f = m.testHmm.open(0, mm);
    f.pt.set(3, { page: 9, write: true });
    const range = mmuNotifierRangeInitMigrate(0, mm, 0, 4 * 4096, 'someone else');
    expect(errnoOf(() => mmuNotifierInvalidateRangeStartNonblock(range))).toBe('EAGAIN');
    expect(f.pt.has(3)).toBe(true);
  });
});

describe('dmirror_fops_unlocked_ioctl(): the common checks, all -EINVAL', () => {
  const m = bootWithTestHmm();
  const f = m.testHmm.open(0, newMm(m, 1));

  it('accepts a page-aligned, non-empty, non-wrapping range of a known command', () => {
    expect(f.ioctlCheck(HMM_DMIRROR_READ, cmd({ npages: 4n }))).toEqual({ start: 0x10000, end: 0x14000 });
  });

  it.each([
    ['addr not page aligned', HMM_DMIRROR_READ, { addr: 0x10001n }],
    ['npages 0', HMM_DMIRROR_WRITE, { npages: 0n }],
    ['a range that wraps', HMM_DMIRROR_MIGRATE, { addr: 2n ** 64n - 4096n, npages: 1n }],
    ['an unknown command', 0xc0284804, {}],
  ] as [string, number, Partial<HmmDmirrorCmd>][])('%s', (_n, req, over) => {
    const c = cmd({ cpages: 7n, faults: 9n, ...over });
    expect(errnoOf(() => f.ioctlCheck(req, c))).toBe('EINVAL');
    // On error cmd is not copied back.
    expect([c.cpages, c.faults]).toEqual([7n, 9n]);
  });

  it('a released file is -EINVAL; a field that is not a __u64 is -EFAULT', () => {
    const g = m.testHmm.open(1, newMm(m, 2));
    expect(errnoOf(() => g.ioctlCheck(HMM_DMIRROR_READ, cmd({ npages: -1n })))).toBe('EFAULT');
    g.release();
    expect(errnoOf(() => g.ioctlCheck(HMM_DMIRROR_READ, cmd()))).toBe('EINVAL');
  });
});


describe('the ioctls on a process', () => {
  const P = 4096;
  function setup(): { m: ReturnType<typeof bootWithTestHmm>; mm: ReturnType<typeof newMm>; a: number; buf: number } {
    const m = bootWithTestHmm();
    const mm = newMm(m, 1);
    const a = mm.mmap({ length: 4 * P, prot: PROT_READ + PROT_WRITE, flags: MAP_PRIVATE + MAP_ANONYMOUS });
    const buf = mm.mmap({ length: 4 * P, prot: PROT_READ + PROT_WRITE, flags: MAP_PRIVATE + MAP_ANONYMOUS });
    return { m, mm, a, buf };
  }

  it('on error cmd is not copied back: READ of an unmapped range is -EFAULT with cpages and faults as they were', () => {
    const { m, mm, buf } = setup();
    const f = m.testHmm.open(0, mm);
    const c = cmd({ addr: 0x10000n, ptr: BigInt(buf), npages: 2n, cpages: 7n, faults: 9n });
    expect(errnoOf(() => f.ioctl(HMM_DMIRROR_READ, c))).toBe('EFAULT');
    expect([c.cpages, c.faults]).toEqual([7n, 9n]);
    expect(f.pt.size).toBe(0);
  });

  it('WRITE from a user buffer that is not mapped: -EFAULT before anything is faulted in', () => {
    const { m, mm, a } = setup();
    const f = m.testHmm.open(0, mm);
    expect(errnoOf(() => f.ioctl(HMM_DMIRROR_WRITE, cmd({ addr: BigInt(a), ptr: 0x10000n, npages: 1n })))).toBe('EFAULT');
    expect(mm.pgd!.get(a)).toBeUndefined();
  });

  it('faults counts dmirror_fault() calls: a 4-page READ that finds page 2 already mirrored faults twice', () => {
    const { m, mm, a, buf } = setup();
    const f = m.testHmm.open(0, mm);
    userWrite(mm, a, new Uint8Array(4 * P).fill(5));
    const one = cmd({ addr: BigInt(a + 2 * P), ptr: BigInt(buf), npages: 1n });
    f.ioctl(HMM_DMIRROR_READ, one);
    expect([one.cpages, one.faults]).toEqual([1n, 1n]);
    // Pages 0-1 are missing: one dmirror_fault() from page 0 to the end covers them all.
    const all = cmd({ addr: BigInt(a), ptr: BigInt(buf), npages: 4n });
    f.ioctl(HMM_DMIRROR_READ, all);
    expect([all.cpages, all.faults]).toEqual([4n, 1n]);
    expect(userRead(mm, buf, 4 * P).every((x) => x === 5)).toBe(true);
  });

  it('SNAPSHOT never faults: a page on the other device reads as NONE (REMOTE is unreachable in v5.13)', () => {
    const { m, mm, a, buf } = setup();
    userWrite(mm, a, new Uint8Array(2 * P).fill(1));
    const f0 = m.testHmm.open(0, mm);
    const f1 = m.testHmm.open(1, mm);
    f0.ioctl(HMM_DMIRROR_MIGRATE, cmd({ addr: BigInt(a), ptr: BigInt(buf), npages: 1n }));
    f1.ioctl(HMM_DMIRROR_MIGRATE, cmd({ addr: BigInt(a + P), ptr: BigInt(buf), npages: 1n }));
    const c = cmd({ addr: BigInt(a), ptr: BigInt(buf), npages: 3n });
    f0.ioctl(HMM_DMIRROR_SNAPSHOT, c);
    expect(c.cpages).toBe(3n);
    expect([...userRead(mm, buf, 3)]).toEqual([0x22, 0x00, 0x00]);
    expect(mm.pgd!.get(a + 2 * P)).toBeUndefined();
  });
});

describe('DmirrorTask: a process with threads run at the driver\'s scheduling points', () => {
  const P = 4096;
  function readWithUnmap(delay: number): { rc: string; cpages: bigint } {
    const m = bootWithTestHmm();
    const t = dmirrorTaskSpawner(m.testHmm, m.sys)();
    const a = t.mmap(128 * P, PROT_READ + PROT_WRITE, MAP_PRIVATE + MAP_ANONYMOUS);
    const buf = t.mmap(128 * P, PROT_READ + PROT_WRITE, MAP_PRIVATE + MAP_ANONYMOUS);
    t.store(a, new Uint8Array(128 * P).fill(3));
    const fd = t.open('/dev/hmm_dmirror0');
    const th = t.spawnThread(delay, () => t.munmap(a + 64 * P, 64 * P));
    const c = cmd({ addr: BigInt(a), ptr: BigInt(buf), npages: 128n });
    const rc = errnoOf(() => t.ioctl(fd, HMM_DMIRROR_READ, c));
    th.join();
    t.exit();
    return { rc, cpages: c.cpages };
  }

  it('an munmap that lands during the READ makes it fail with -EFAULT (the upper half has no vma any more)', () => {
    expect(readWithUnmap(0)).toEqual({ rc: 'EFAULT', cpages: 0n });
    expect(readWithUnmap(2000).rc).toBe('EFAULT');
  });

  it('an munmap that comes after the READ leaves it whole', () => {
    expect(readWithUnmap(10 ** 9)).toEqual({ rc: 'none', cpages: 128n });
  });

  it('open() of another path is -ENOENT; close() of a closed fd -EBADF', () => {
    const m = bootWithTestHmm();
    const t = dmirrorTaskSpawner(m.testHmm, m.sys)();
    expect(errnoOf(() => t.open('/dev/hmm_dmirror7'))).toBe('ENODEV');
    expect(errnoOf(() => t.open('/dev/zero'))).toBe('ENOENT');
    const fd = t.open('/dev/hmm_dmirror1');
    t.close(fd);
    expect(errnoOf(() => t.close(fd))).toBe('EBADF');
    t.exit();
    expect(m.sys.mms()).toEqual([]);
  });
});

describe('the ioctls\' resource errors', () => {
  const P = 4096;
  it('READ of more pages than memory can bounce: -ENOMEM (vmalloc fails), nothing faulted', () => {
    const m = bootWithTestHmm();
    const mm = newMm(m, 1);
    const a = mm.mmap({ length: P, prot: PROT_READ + PROT_WRITE, flags: MAP_PRIVATE + MAP_ANONYMOUS });
    const f = m.testHmm.open(0, mm);
    expect(errnoOf(() => f.ioctl(HMM_DMIRROR_READ, cmd({ addr: BigInt(a), ptr: BigInt(a), npages: 2n ** 30n })))).toBe('ENOMEM');
    expect(mm.pgd!.get(a)).toBeUndefined();
  });

  it('a range invalidated on every attempt: -EBUSY after the 1 s timeout (1000 attempts)', () => {
    const m = bootWithTestHmm();
    const mm = newMm(m, 1);
    const a = mm.mmap({ length: 2 * P, prot: PROT_READ + PROT_WRITE, flags: MAP_PRIVATE + MAP_ANONYMOUS });
    const f = m.testHmm.open(0, mm);
    let n = 0;
    // Something else keeps changing the address space at every scheduling point.
    m.testHmm.onCondResched = () => {
      n++;
      const s = mm.mmap({ length: P, prot: PROT_READ, flags: MAP_PRIVATE + MAP_ANONYMOUS });
      mm.munmap(s, P);
    };
    const c = cmd({ addr: BigInt(a), ptr: BigInt(a), npages: 1n, cpages: 3n });
    expect(errnoOf(() => f.ioctl(HMM_DMIRROR_READ, c))).toBe('EBUSY');
    expect(c.cpages).toBe(3n);
    expect(n).toBeGreaterThan(1000);
  });
});
