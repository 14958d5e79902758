// The page size is the architecture's: lib/test_hmm.c, mm/hmm.c and
// mm/migrate.c work in PAGE_SIZE units, so on powerpc64 with the radix MMU
// and 64K pages a 256 MiB dmirror chunk is 4096 device pages, the ioctls
// want 64K-aligned addresses and count 64K pages, and hmm_range_fault()
// reports one entry per 64K page.
import { isKernelError } from '@zonedev/kernel';
import { MAP_ANONYMOUS, MAP_PRIVATE, MmStruct, PROT_READ, PROT_WRITE, isDevicePrivateEntry, userRead, userWrite } from '@zonedev/mm';
import { describe, expect, it } from 'vitest';
import { DEVMEM_CHUNK_SIZE, HMM_DMIRROR_MIGRATE, HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL, HMM_DMIRROR_PROT_WRITE, HMM_DMIRROR_READ, HMM_DMIRROR_SNAPSHOT, HMM_DMIRROR_WRITE } from '../src/index.js';
import { bootMachine, bootWithTestHmm } from './machine.js';

const P64K = 65536;

/** Whether mm's address spaces can use the 64K-page architecture (mm_alloc refuses other page sizes than 4K today). */
function mmHas64KAddressSpaces(): boolean {
  const m = bootMachine({ arch: 'powerpc64-64k' });
  try {
    new MmStruct(1, { system: m.sys }).mmput();
    return true;
  } catch (e) {
    if (isKernelError(e, 'EINVAL')) return false;
    throw e;
  }
}

describe('test_hmm on powerpc64 with 64K pages', () => {
  it('loads with 256 MiB chunks of 4096 device pages, at the top of the 46-bit space, and logs their 64K PFNs', () => {
    const m = bootWithTestHmm({ arch: 'powerpc64-64k' });
    expect(m.testHmm.pageSize).toBe(P64K);
    expect(m.kernel.log.lines.slice(-5).map((l) => l.text)).toEqual([
      'memmap_init_zone_device initialised 4096 pages in 0ms',
      'added new 256 MB chunk (total 1 chunks, 256 MB) PFNs [0x3ffff000 0x40000000)',
      'memmap_init_zone_device initialised 4096 pages in 0ms',
      'added new 256 MB chunk (total 1 chunks, 256 MB) PFNs [0x3fffe000 0x3ffff000)',
      'HMM test module loaded. This is only for testing HMM.',
    ]);
    for (const d of m.testHmm.devices) {
      expect(d.nrFreePages).toBe(DEVMEM_CHUNK_SIZE / P64K);
      const c = d.chunks[0]!;
      expect(c.pfnLast - c.pfnFirst).toBe(4096);
      expect(c.resource.end - c.resource.start + 1).toBe(DEVMEM_CHUNK_SIZE);
    }
  });

  it('hands out device pages backed by 64K system pages, and page_free gives them back', () => {
    const m = bootWithTestHmm({ arch: 'powerpc64-64k' });
    const d = m.testHmm.devices[0]!;
    const free = m.mm.nrFreePages();
    const dpage = d.devmemAllocPage()!;
    expect(dpage).toBe(0x3fffffff);
    const rpage = d.backingPage(dpage)!;
    expect(m.mm.nrFreePages()).toBe(free - 1);
    m.sys.writePage(rpage, P64K - 4, new Uint8Array([1, 2, 3, 4]));
    expect(Array.from(m.sys.readPage(rpage, P64K - 4, 4))).toEqual([1, 2, 3, 4]);
    expect(m.sys.pageCount(dpage)).toBe(2);
    m.mm.putPage(dpage);
    expect([d.calloc, d.cfree, d.nrFreePages, m.mm.nrFreePages()]).toEqual([1, 1, 4096, free]);
  });

  it.skipIf(!mmHas64KAddressSpaces())('migrates, mirrors, snapshots and faults back 64K pages', () => {
    const m = bootWithTestHmm({ arch: 'powerpc64-64k' });
    const mm = new MmStruct(100, { system: m.sys });
    const n = 8;
    const a = mm.mmap({ length: n * P64K, prot: PROT_READ + PROT_WRITE, flags: MAP_PRIVATE + MAP_ANONYMOUS });
    const buf = mm.mmap({ length: n * P64K, prot: PROT_READ + PROT_WRITE, flags: MAP_PRIVATE + MAP_ANONYMOUS });
    const data = new Uint8Array(n * P64K).map((_, i) => i % 251);
    userWrite(mm, a, data);
    const f = m.testHmm.open(0, mm);
    const cmd = (addr: number, npages: number) => ({ addr: BigInt(addr), ptr: BigInt(buf), npages: BigInt(npages), cpages: 0n, faults: 0n });
    // addr & ~PAGE_MASK with 64K pages
    expect(() => f.ioctl(HMM_DMIRROR_READ, cmd(a + 4096, 1))).toThrow(/page aligned/);
    const mig = cmd(a, n);
    f.ioctl(HMM_DMIRROR_MIGRATE, mig);
    expect(mig.cpages).toBe(BigInt(n));
    for (let i = 0; i < n; i++) {
      const pte = mm.pgd!.get(a + i * P64K)!;
      expect(pte.kind === 'swap' && isDevicePrivateEntry(pte.entry)).toBe(true);
    }
    const snap = cmd(a, n);
    f.ioctl(HMM_DMIRROR_SNAPSHOT, snap);
    expect(Array.from(userRead(mm, buf, n))).toEqual(new Array(n).fill(HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL + HMM_DMIRROR_PROT_WRITE));
    // CPU reads migrate every page back (one migrate_to_ram per 64K page)
    expect(userRead(mm, a, n * P64K)).toEqual(data);
    const w = cmd(a, n);
    userWrite(mm, buf, data);
    f.ioctl(HMM_DMIRROR_WRITE, w);
    expect([w.cpages, w.faults]).toEqual([BigInt(n), 1n]);
    f.release();
  });
});
