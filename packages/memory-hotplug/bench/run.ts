// Benchmarks of @zonedev/memory-hotplug, reported as ratios (pnpm bench).
//
// 1. Hot-adding and onlining 64 GiB in 128 MiB blocks on x86_64 — 512 times
//    add_memory() (resource, 512 sections, 1 GiB of memmap taken from the
//    buddy allocator in 2 MiB blocks, memory block devices and sysfs, node
//    links) and `echo online > memoryN/state` (zone choice, memmap init,
//    notifier chain, 16 Mi pages freed into the buddy) — against a plain
//    `fill` of the 1 GiB of struct pages that memory implies (target <= 8).
//    The subject includes booting the 4 GiB machine it adds to.
// 2. Growth: the same for 2N = 64 GiB against N = 32 GiB (target <= 2.2):
//    the work must stay linear in the memory added.
import { runRatios } from '@zonedev/bench-kit';
import { bootMachine, GiB, MiB } from '../test/machine.js';

const BLOCK = 128 * MiB;
const BASE = 8 * GiB;

function addAndOnline(size: number): number {
  const m = bootMachine({ memory: [{ start: MiB, size: 4 * GiB - MiB, nid: 0 }] });
  for (let a = BASE; a < BASE + size; a += BLOCK) {
    m.hp.addMemory(0, a, BLOCK);
    m.kernel.sysfs.write(`/sys/devices/system/memory/memory${a / BLOCK}/state`, 'online\n');
  }
  return m.mm.nrFreePages();
}

const memmap = new Uint8Array(GiB); // 64 GiB / 4 KiB pages * 64 bytes
let round = 0;
let sink = 0;

await runRatios(
  '@zonedev/memory-hotplug',
  [
    {
      name: 'add+online 64 GiB in 128 MiB blocks (x86_64) / fill of its 1 GiB memmap',
      target: 8,
      baseline: () => {
        memmap.fill(++round % 256);
        sink += memmap[12345]!;
      },
      subject: () => {
        sink += addAndOnline(64 * GiB);
      },
    },
    {
      name: 'T(2N)/T(N): add+online 64 GiB / 32 GiB',
      target: 2.2,
      baseline: () => {
        sink += addAndOnline(32 * GiB);
      },
      subject: () => {
        sink += addAndOnline(64 * GiB);
      },
    },
  ],
  { time: 1500, rounds: 5 },
);
if (sink === -1) console.log(sink);
