// drivers/dax/device.c: mmap of /dev/dax0.0 into a process, check_vma's
// refusals, PTE and PMD devmap faults at the device's align, the bytes
// reaching the namespace, and GUP pins holding the pagemap across an unbind.
import { describe, expect, it } from 'vitest';
import {
  FOLL_LONGTERM,
  FOLL_WRITE,
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_READ,
  PROT_WRITE,
  UserFaultSignal,
  VM_HUGEPAGE,
  pinUserPages,
  pteDevmap,
  ptePresent,
  ptePfn,
  showSmap,
  unpinUserPages,
  userRead,
  userWrite,
} from '@zonedev/mm';
import { Prandom } from '@zonedev/kernel';
import { GiB, MiB, bootMachine, tryWrite } from './machine.js';
import { createDevdax, mmSystem, newProcess } from './dax-helpers.js';

const UUID = 'b6b5c8a2-1e2f-4c3d-9a8b-7c6d5e4f3a21';
const DAX = '/sys/bus/dax/devices/dax0.0';
const RW = PROT_READ + PROT_WRITE;
const DATA = 4 * GiB + 18 * MiB; // 0x101200000, the data start of map=dev with 2 MiB align
const VA = 0x7f0000000000;

function setup(align?: number, map: 'pmem' | 'ram' = 'pmem') {
  const m = bootMachine();
  createDevdax(m, 0, UUID, align, map);
  const sys = mmSystem(m);
  const mm = newProcess(sys);
  const dev = m.nd.dax.find('dax0.0')!;
  const file = m.nd.dax.open(dev, 'dax-test');
  return { m, sys, mm, dev, file };
}

function errnoOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as { errno?: string }).errno ?? String(e);
  }
}

describe('device_dax mmap', () => {
  it('a shared 2 MiB-aligned mapping faults in PMD devmap entries on the device data', () => {
    const { m, mm, file } = setup();
    const a = mm.mmap({ addr: VA, length: 4 * MiB, prot: RW, flags: MAP_SHARED + MAP_FIXED, file, offset: 2 * MiB });
    const vma = mm.findVma(a)!;
    expect(vma.vmFlags % (2 * VM_HUGEPAGE) >= VM_HUGEPAGE).toBe(true);
    userWrite(mm, a + 5, new TextEncoder().encode('hello'));
    // offset 2 MiB in the device is 2 MiB past the data start
    expect(new TextDecoder().decode(m.mm.physmem.read(DATA + 2 * MiB + 5, 5))).toBe('hello');
    m.mm.physmem.write(DATA + 4 * MiB + 7, new TextEncoder().encode('pmem!'));
    expect(new TextDecoder().decode(userRead(mm, a + 2 * MiB + 7, 5))).toBe('pmem!');
    const pmd = mm.pgd!.getPmd(a);
    if (!ptePresent(pmd)) throw new Error('no huge PMD');
    expect(pteDevmap(pmd)).toBe(true);
    expect(ptePfn(pmd)).toBe((DATA + 2 * MiB) / 4096);
    expect(showSmap(vma)).toContain('KernelPageSize:     2048 kB\n');
    // inside a 2 MiB leaf every 4 KiB page is the head pfn plus its index
    userWrite(mm, a + 0x12345, new TextEncoder().encode('deep'));
    expect(new TextDecoder().decode(m.mm.physmem.read(DATA + 2 * MiB + 0x12345, 4))).toBe('deep');
    m.mm.physmem.write(DATA + 4 * MiB + 0x1fff00, new TextEncoder().encode('tail'));
    expect(new TextDecoder().decode(userRead(mm, a + 2 * MiB + 0x1fff00, 4))).toBe('tail');
  });

  it('4 KiB align: PTE devmap entries', () => {
    const { m, mm, file } = setup(4096, 'ram');
    const a = mm.mmap({ length: 3 * 4096, prot: RW, flags: MAP_SHARED, file });
    userWrite(mm, a + 4096 + 10, new Uint8Array([1, 2, 3]));
    expect(Array.from(m.mm.physmem.read(4 * GiB + 2 * MiB + 4096 + 10, 3))).toEqual([1, 2, 3]);
    expect(mm.pgd!.getPmd(a)).toBeUndefined();
    const entries: { level: string; pfn: number; devmap: boolean }[] = [];
    mm.pgd!.walk(a, a + 3 * 4096, (e) => {
      if (ptePresent(e.pte)) entries.push({ level: e.level, pfn: ptePfn(e.pte), devmap: pteDevmap(e.pte) });
    });
    // map=mem: the data starts 2 MiB into the namespace
    expect(entries).toEqual([{ level: 'pte', pfn: (4 * GiB + 2 * MiB + 4096) / 4096, devmap: true }]);
    expect(showSmap(mm.findVma(a)!)).toContain('KernelPageSize:        4 kB\n');
  });

  it('refuses private and misaligned mappings with EINVAL and the kernel message', () => {
    const { m, mm, file } = setup();
    expect(errnoOf(() => mm.mmap({ addr: VA, length: 2 * MiB, prot: RW, flags: MAP_PRIVATE + MAP_FIXED, file }))).toBe('EINVAL');
    expect(m.kernel.log.dmesg()).toContain('device_dax dax0.0: dax-test: dax_mmap: fail, attempted private mapping\n');
    expect(errnoOf(() => mm.mmap({ addr: VA + 4096, length: 2 * MiB, prot: RW, flags: MAP_SHARED + MAP_FIXED, file }))).toBe('EINVAL');
    expect(m.kernel.log.dmesg()).toContain(
      `device_dax dax0.0: dax-test: dax_mmap: fail, unaligned vma (0x${(VA + 4096).toString(16)} - 0x${(VA + 4096 + 2 * MiB).toString(16)}, 0x1fffff)\n`,
    );
    expect(errnoOf(() => mm.mmap({ addr: VA, length: MiB, prot: RW, flags: MAP_SHARED + MAP_FIXED, file }))).toBe('EINVAL');
    expect(mm.findVma(VA)).toBeNull();
  });

  it('a split of the VMA must stay on the align (may_split)', () => {
    const { mm, file } = setup();
    const a = mm.mmap({ addr: VA, length: 4 * MiB, prot: RW, flags: MAP_SHARED + MAP_FIXED, file });
    expect(errnoOf(() => mm.munmap(a + 4096, 4096))).toBe('EINVAL');
    mm.munmap(a + 2 * MiB, 2 * MiB);
    expect(mm.findVma(a)!.vmEnd).toBe(a + 2 * MiB);
  });

  it('beyond the device end the fault is SIGBUS', () => {
    const { mm, file } = setup();
    const size = GiB - 18 * MiB;
    const a = mm.mmap({ addr: VA, length: 4 * MiB, prot: RW, flags: MAP_SHARED + MAP_FIXED, file, offset: size - 2 * MiB });
    expect(userRead(mm, a, 1)).toEqual(new Uint8Array([0]));
    expect(() => userRead(mm, a + 2 * MiB, 1)).toThrow(UserFaultSignal);
  });

  it('pin_user_pages takes page and pagemap references; unbinding waits for the last unpin', async () => {
    const { m, sys, mm, dev, file } = setup();
    const a = mm.mmap({ addr: VA, length: 2 * MiB, prot: RW, flags: MAP_SHARED + MAP_FIXED, file });
    const pfns = pinUserPages(mm, a, 4, FOLL_WRITE + FOLL_LONGTERM);
    expect(pfns).toEqual([0, 1, 2, 3].map((i) => DATA / 4096 + i));
    const pgmap = dev.pgmap!;
    // unbind device_dax: teardown starts, mappings are zapped, new faults fail
    m.kernel.sysfs.write(`${DAX}/driver/unbind`, 'dax0.0\n');
    expect(m.memremap.pagemapPhase(pgmap)).toBe('dying');
    expect(mm.pgd!.getPmd(a)).toBeUndefined();
    expect(() => userRead(mm, a, 1)).toThrow(UserFaultSignal);
    const done = m.memremap.memunmapCompletion(pgmap)!;
    let finished = false;
    void done.then(() => (finished = true));
    await Promise.resolve();
    expect(finished).toBe(false);
    unpinUserPages(sys, pfns);
    await done;
    expect(m.memremap.pagemapPhase(pgmap)).toBeUndefined();
  });

  it('pin_user_pages across PMD leaves and 4 KiB PTEs gives each page of the device data once, with its pin', () => {
    // 2 MiB align: from the middle of one leaf across the next, the first leaf faulted by the pin
    const big = setup();
    const a = big.mm.mmap({ addr: VA, length: 4 * MiB, prot: RW, flags: MAP_SHARED + MAP_FIXED, file: big.file });
    userWrite(big.mm, a + 2 * MiB, new Uint8Array([1]));
    const store = big.m.mm.memmap;
    const start = a + 300 * 4096;
    const pfns = pinUserPages(big.mm, start, 700, FOLL_WRITE);
    expect(pfns).toEqual(Array.from({ length: 700 }, (_, i) => DATA / 4096 + 300 + i));
    expect(pfns.every((p) => store.pageRefCount(p) === 1025)).toBe(true);
    expect(store.pageRefCount(DATA / 4096 + 299)).toBe(1);
    unpinUserPages(big.sys, pfns);
    expect(pfns.every((p) => store.pageRefCount(p) === 1)).toBe(true);
    // 4 KiB align: PTEs, a hole in the middle faulted in
    const small = setup(4096);
    const b = small.mm.mmap({ addr: VA, length: 4 * MiB, prot: RW, flags: MAP_SHARED + MAP_FIXED, file: small.file });
    for (let i = 0; i < 600; i++) if (i !== 250) userWrite(small.mm, b + i * 4096, new Uint8Array([1]));
    const got = pinUserPages(small.mm, b, 600, FOLL_WRITE);
    const base = ptePfn(small.mm.pgd!.get(b) as Parameters<typeof ptePfn>[0]);
    expect(got).toEqual(Array.from({ length: 600 }, (_, i) => base + i));
    expect(got.every((p) => small.m.mm.memmap.pageRefCount(p) === 1025)).toBe(true);
    unpinUserPages(small.sys, got);
  });

  it('open() of a device that device_dax does not drive is ENXIO', () => {
    const { m, dev } = setup();
    m.kernel.sysfs.write(`${DAX}/driver/unbind`, 'dax0.0\n');
    expect(errnoOf(() => m.nd.dax.open(dev))).toBe('ENXIO');
    expect(tryWrite(m, '/sys/bus/dax/drivers/device_dax/bind', 'dax0.0\n')).toBeUndefined();
    expect(errnoOf(() => m.nd.dax.open(dev))).toBeUndefined();
  });

  it('validates its entry points with EINVAL, changing nothing', () => {
    const { m, dev } = setup();
    const dax = m.nd.dax;
    expect(errnoOf(() => dax.daxPgoffToPhys(dev, -1, 4096))).toBe('EINVAL');
    expect(errnoOf(() => dax.open(dev, 7 as unknown as string))).toBe('EINVAL');
    expect(errnoOf(() => dax.allocDaxRegion(dev, 0, { start: 0x1000, end: 0x1fff }, 0, 3, 0))).toBe('EINVAL');
    expect(errnoOf(() => dax.devmCreateDevDax(dev.region, 1, 4096, undefined))).toBe('EINVAL');
    expect(errnoOf(() => dax.devmCreateDevDax(dev.region, 1, 2 * MiB, undefined))).toBe('ENOSPC');
    expect(errnoOf(() => dax.daxDriverRegister('', false, () => undefined))).toBe('EINVAL');
    expect(dax.devices()).toEqual([dev]);
    expect(dax.daxPgoffToPhys(dev, 0, 2 * MiB)).toBe(DATA);
    expect(dax.daxPgoffToPhys(dev, (GiB - 18 * MiB) / 4096, 4096)).toBe(-1);
  });

  it('property: random map/fault/pin/unpin/unbind/bind never free a pinned page and teardown completes once the pins go', async () => {
    const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));
    for (const seed of [1, 2, 3]) {
      const { m, sys, mm, dev } = setup();
      const rng = new Prandom(seed);
      const pgmap = dev.pgmap!;
      let bound = true;
      let mapped = false;
      const pins: number[][] = [];
      for (let step = 0; step < 60; step++) {
        const op = rng.below(6);
        if (op === 0 && bound && !mapped) {
          mm.mmap({ addr: VA, length: 8 * MiB, prot: RW, flags: MAP_SHARED + MAP_FIXED, file: m.nd.dax.open(dev) });
          mapped = true;
        } else if (op === 1 && mapped) {
          const at = VA + rng.below(4) * 2 * MiB;
          if (dev.alive) expect(userRead(mm, at, 1).length).toBe(1);
          else expect(() => userRead(mm, at, 1)).toThrow(UserFaultSignal);
        } else if (op === 2 && mapped) {
          const at = VA + rng.below(4) * 2 * MiB;
          if (dev.alive) pins.push(pinUserPages(mm, at, 1 + rng.below(3), FOLL_WRITE));
          else expect(() => pinUserPages(mm, at, 1, FOLL_WRITE)).toThrow();
        } else if (op === 3 && pins.length > 0) {
          unpinUserPages(sys, pins.splice(rng.below(pins.length), 1)[0]!);
          await tick();
        } else if (op === 4 && bound) {
          m.kernel.sysfs.write(`${DAX}/driver/unbind`, 'dax0.0\n');
          bound = false;
          await tick();
        } else if (op === 5 && !bound && m.memremap.pagemapPhase(pgmap) === undefined) {
          m.kernel.sysfs.write('/sys/bus/dax/drivers/device_dax/bind', 'dax0.0\n');
          bound = true;
        }
        // invariants: a pinned page is never freed; a dead device's pagemap lives exactly while pinned
        for (const p of pins.flat()) expect(m.mm.memmap.pageRefCount(p)).toBeGreaterThan(0);
        if (!bound) expect(m.memremap.pagemapPhase(pgmap)).toBe(pins.length > 0 ? 'dying' : undefined);
        else expect(m.memremap.pagemapPhase(pgmap)).toBe('live');
      }
      for (const p of pins.splice(0)) unpinUserPages(sys, p);
      if (bound) m.kernel.sysfs.write(`${DAX}/driver/unbind`, 'dax0.0\n');
      await (m.memremap.memunmapCompletion(pgmap) ?? Promise.resolve());
      expect(m.memremap.pagemapPhase(pgmap)).toBeUndefined();
      expect(m.kernel.iomem.procIomem()).not.toContain('dax0.0');
    }
  });
});
