// Benchmarks of @zonedev/libnvdimm, reported as ratios against a baseline
// measured in the same run, plus one time/RSS measurement:
//
//   1. `ndctl create-namespace -m fsdax -M dev` on a 1 TiB e820 region (the
//      sysfs writes ndctl does): time (target < 1 s) and RSS growth (target
//      < 64 MiB): the 16 GiB memmap in the altmap is templates, not host
//      memory;
//   2. /dev/pmem0 sequential 4 KiB writes then reads of BENCH_PMEM_BYTES
//      (default 1 GiB) / Buffer.copy of the same bytes in the same chunks
//      (target <= 1.5). The disk's bytes live in mmzone's PhysMem, a sparse
//      page store; most of the ratio is that store's per-page lookup.
//   3. device-dax faults: faulting in 1 GiB of a MAP_SHARED mapping of
//      /dev/dax0.0 with a 2 MiB align / the same with a 4 KiB align (report:
//      the kernel takes 512x fewer faults, `dev_dax_huge_fault()` PMD leaves);
//   4. `pin_user_pages()` of 64 Ki devmap pages of that mapping (FOLL_WRITE,
//      after the faults) / a section-table read of the same pfns (the
//      `pfn_to_page()` refcount read, the floor of any per-page GUP) (target
//      <= 3);
//   5. daxctl reconfigure-device --mode=system-ram of a 64 GiB device (kmem's
//      add_memory_driver_managed() and onlining every block movable) / hot-add
//      and online 64 GiB of RAM at the same address (target <= 1.2).
//
// Run: node --expose-gc --import tsx/esm bench/run.ts
import { FOLL_WRITE, MAP_SHARED, PROT_READ, PROT_WRITE, pinUserPages, unpinUserPages, userWrite } from '@zonedev/mm';
import { DaxKmem } from '@zonedev/libnvdimm';
import { GiB, MiB, TiB, bootMachine, createFsdax } from '../test/machine.js';
import { createDevdax, mmSystem, newProcess } from '../test/dax-helpers.js';

const gc = (globalThis as { gc?: () => void }).gc;
const mib = (n: number): string => `${(n / MiB).toFixed(1)} MiB`;
let failed = false;

// --- 1. fsdax map=dev on a 1 TiB region --------------------------------------
{
  const m = bootMachine({ pmem: [{ start: TiB, size: TiB }] });
  gc?.();
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  createFsdax(m, 0, 'pmem', '6a1f3e9c-2b4d-4e8f-9a0b-1c2d3e4f5a6b');
  const ms = performance.now() - t0;
  gc?.();
  const grown = process.memoryUsage().rss - rss0;
  const disk = m.nd.disk('pmem0')!;
  const okT = ms < 1000;
  const okR = grown < 64 * MiB;
  console.log('@zonedev/libnvdimm: create-namespace -m fsdax -M dev on a 1 TiB region');
  console.log(`  data ${(disk.capacity / GiB).toFixed(2)} GiB at offset ${mib(disk.dataOffset)} (8 KiB info reserve + memmap in the altmap)`);
  console.log(`  time ${ms.toFixed(0)} ms (< 1000 ms: ${okT ? 'ok' : 'MISSED'}), RSS growth ${mib(grown)} (< 64 MiB: ${okR ? 'ok' : 'MISSED'})`);
  failed ||= !okT || !okR;
}

// --- 2. sequential 4 KiB I/O of /dev/pmem0 vs Buffer.copy ---------------------
{
  const bytes = Number(process.env.BENCH_PMEM_BYTES ?? GiB);
  const m = bootMachine({ pmem: [{ start: 4 * GiB, size: Math.max(bytes, 16 * MiB) }] });
  const disk = m.nd.disk('pmem0')!;
  const chunk = 4096;
  const src = Buffer.alloc(chunk, 0xa5);
  const shadow = Buffer.alloc(bytes);
  const back = Buffer.alloc(chunk);
  let sink = 0;
  const subject = (): void => {
    for (let off = 0; off < bytes; off += chunk) disk.write(off, src);
    for (let off = 0; off < bytes; off += chunk) {
      disk.readInto(off, back);
      sink += back[0]!;
    }
  };
  const baseline = (): void => {
    for (let off = 0; off < bytes; off += chunk) src.copy(shadow, off);
    for (let off = 0; off < bytes; off += chunk) {
      shadow.copy(back, 0, off, off + chunk);
      sink += back[0]!;
    }
  };
  const times = { subject: [] as number[], baseline: [] as number[] };
  for (let r = 0; r < 5; r++) {
    for (const [name, fn] of r % 2 === 0 ? ([['baseline', baseline], ['subject', subject]] as const) : ([['subject', subject], ['baseline', baseline]] as const)) {
      const t = performance.now();
      fn();
      times[name].push(performance.now() - t);
    }
  }
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ratio = med(times.subject) / med(times.baseline);
  const ok = ratio <= 1.5;
  console.log(`\n@zonedev/libnvdimm: /dev/pmem0 sequential 4 KiB writes+reads of ${mib(bytes)} / Buffer.copy`);
  console.log(`  pmem ${med(times.subject).toFixed(0)} ms, Buffer.copy ${med(times.baseline).toFixed(0)} ms, ratio ${ratio.toFixed(2)} (<= 1.5: ${ok ? 'ok' : 'MISSED'})`);
  failed ||= !ok;
  if (sink === -1) console.log(sink);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** Runs `a` and `b` alternately `rounds` times (each on fresh state from its setup), returns their median times. */
function alternate<S>(rounds: number, setupA: () => S, a: (s: S) => void, setupB: () => S, b: (s: S) => void): { a: number; b: number } {
  const ta: number[] = [];
  const tb: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const which of r % 2 === 0 ? ['a', 'b'] : ['b', 'a']) {
      const st = which === 'a' ? setupA() : setupB();
      gc?.();
      const t = performance.now();
      if (which === 'a') a(st);
      else b(st);
      (which === 'a' ? ta : tb).push(performance.now() - t);
    }
  }
  return { a: median(ta), b: median(tb) };
}

const UUID = '4d2c1b0a-9e8f-4a7b-8c6d-5e4f3a2b1c0d';
const RW = PROT_READ + PROT_WRITE;

/** A process with a MAP_SHARED mapping of /dev/dax0.0 (a `size` namespace at 4 GiB, `align`). */
function daxMapping(size: number, align: number) {
  const m = bootMachine({ pmem: [{ start: 4 * GiB, size }] });
  createDevdax(m, 0, UUID, align, 'ram');
  const mm = newProcess(mmSystem(m));
  const file = m.nd.dax.open(m.nd.dax.find('dax0.0')!, 'bench');
  const len = GiB;
  const addr = mm.mmap({ length: len, prot: RW, flags: MAP_SHARED, file });
  return { m, mm, addr, len };
}

// --- 3. 1 GiB of device-dax faults: 2 MiB align / 4 KiB align ----------------
{
  const one = new Uint8Array([1]);
  const touch = (align: number) => (s: ReturnType<typeof daxMapping>): void => {
    for (let a = s.addr; a < s.addr + s.len; a += align) userWrite(s.mm, a, one);
  };
  const t = alternate(3, () => daxMapping(2 * GiB, 2 * MiB), touch(2 * MiB), () => daxMapping(2 * GiB, 4096), touch(4096));
  console.log('\n@zonedev/libnvdimm: fault in 1 GiB of /dev/dax0.0, 2 MiB align / 4 KiB align');
  console.log(`  2 MiB align ${t.a.toFixed(1)} ms (512 PMD faults), 4 KiB align ${t.b.toFixed(0)} ms (262144 PTE faults), ratio ${(t.a / t.b).toFixed(4)} (report)`);
}

// --- 4. pin_user_pages of 64 Ki devmap pages / section-table reads ------------
{
  const s = daxMapping(2 * GiB, 4096);
  const n = 65536;
  const one = new Uint8Array([1]);
  for (let i = 0; i < n; i++) userWrite(s.mm, s.addr + i * 4096, one);
  const pfns = pinUserPages(s.mm, s.addr, n, FOLL_WRITE);
  const sys = s.mm.system!;
  unpinUserPages(sys, pfns);
  const memmap = s.m.mm.memmap;
  let sink = 0;
  const t = alternate(
    7,
    () => s,
    () => {
      const got = pinUserPages(s.mm, s.addr, n, FOLL_WRITE);
      unpinUserPages(sys, got);
    },
    () => s,
    () => {
      // the same pfns' struct pages read through the section table, pinned and unpinned refcount bumps aside
      for (const pfn of pfns) sink += memmap.pageRefCount(pfn);
    },
  );
  const ratio = t.a / t.b;
  const ok = ratio <= 3;
  console.log('\n@zonedev/libnvdimm: pin_user_pages()+unpin of 64 Ki devmap pages / pfn_to_page() refcount reads of the same pfns');
  console.log(`  pin ${t.a.toFixed(1)} ms, section-table reads ${t.b.toFixed(1)} ms, ratio ${ratio.toFixed(2)} (<= 3: ${ok ? 'ok' : 'MISSED'})`);
  failed ||= !ok;
  if (sink === -1) console.log(sink);
}

// --- 5. daxctl reconfigure-device --mode=system-ram of 64 GiB / hot-add 64 GiB ---
{
  const size = 64 * GiB;
  const MEM = '/sys/devices/system/memory';
  const onlineAll = (m: ReturnType<typeof bootMachine>): void => {
    const fs = m.kernel.sysfs;
    for (const b of fs.list(MEM).filter((x) => x.startsWith('memory'))) {
      if (fs.read(`${MEM}/${b}/state`) === 'offline\n') fs.write(`${MEM}/${b}/state`, 'online_movable');
    }
  };
  const DAX = '/sys/bus/dax/devices/dax0.0';
  const t = alternate(
    3,
    () => {
      const m = bootMachine({ highRam: 4 * GiB, pmem: [{ start: 64 * GiB, size: size + 2 * GiB }] });
      createDevdax(m, 0, UUID, 2 * MiB, 'pmem');
      new DaxKmem({ kernel: m.kernel, dax: m.nd.dax, hotplug: m.hp });
      return m;
    },
    (m) => {
      // daxctl: disable device_dax (remove_id, unbind), then kmem's new_id (which binds), then online-memory
      const fs = m.kernel.sysfs;
      fs.write(`${DAX}/driver/remove_id`, 'dax0.0');
      fs.write(`${DAX}/driver/unbind`, 'dax0.0');
      fs.write('/sys/bus/dax/drivers/kmem/new_id', 'dax0.0');
      onlineAll(m);
    },
    () => bootMachine({ highRam: 4 * GiB, pmem: [] }),
    (m) => {
      m.hp.addMemory(0, 64 * GiB, size);
      onlineAll(m);
    },
  );
  const ratio = t.a / t.b;
  const ok = ratio <= 1.2;
  console.log('\n@zonedev/libnvdimm: daxctl reconfigure-device --mode=system-ram of 64 GiB / hot-add and online 64 GiB');
  console.log(`  kmem ${t.a.toFixed(0)} ms, add_memory ${t.b.toFixed(0)} ms, ratio ${ratio.toFixed(2)} (<= 1.2: ${ok ? 'ok' : 'MISSED'})`);
  failed ||= !ok;
}

if (failed) process.exitCode = 1;
