/**
 * The demo shell under seeded random commands (valid and invalid) with the
 * invariants of test/fuzz/invariants.ts checked after every one.
 *
 *   vitest (CI)            seeds 1..12, 200 commands each: at least 2,000 commands
 *   pnpm fuzz              FUZZ_COMMANDS commands (default 50,000), 200 per seed,
 *                          from seed FUZZ_FIRST_SEED (default 1000) upwards
 *   FUZZ_SEED=N pnpm fuzz  replays seed N alone (FUZZ_LENGTH commands, default 200)
 *
 * Each seed boots one of the machines of test/fuzz/run.ts (x86_64 and
 * powerpc, with and without NUMA, memmap_on_memory, legacy pmem, a QEMU
 * NVDIMM with a label area, a device-tree pmem-region). A
 * failure prints the seed, the machine and the commands that led to it;
 * bugs found and not yet fixed are listed in test/fuzz/known-bugs.ts.
 */
import { describe, expect, it } from 'vitest';
import { checkDaxKmem, checkIomem, checkNamespaces, checkZones, internalErrorText, parseZoneinfo, zoneinfoShape } from './fuzz/invariants.js';
import { Prng } from './fuzz/prng.js';
import { formatFinding, fuzzRun, type RunSummary } from './fuzz/run.js';

const env = process.env;
const long = env['FUZZ'] === '1';
const intEnv = (name: string, fallback: number): number => {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  if (!/^[0-9]+$/.test(v)) throw new Error(`${name}=${v} is not a number`);
  return Number(v);
};
const length = intEnv('FUZZ_LENGTH', 200);
const total = long ? intEnv('FUZZ_COMMANDS', 50_000) : 2_400;
const seeds: number[] =
  env['FUZZ_SEED'] !== undefined && env['FUZZ_SEED'] !== ''
    ? [intEnv('FUZZ_SEED', 1)]
    : Array.from({ length: Math.ceil(total / length) }, (_, i) => (long ? intEnv('FUZZ_FIRST_SEED', 1000) : 1) + i);

describe('fuzz: random shell commands keep the machine consistent', () => {
  it(
    `${seeds.length} seeds × ${length} commands`,
    () => {
      const runs: RunSummary[] = [];
      for (const seed of seeds) {
        const r = fuzzRun(seed, length);
        runs.push(r);
        if (r.finding !== undefined) {
          console.error(formatFinding(r.finding));
          expect.fail(`fuzz seed ${seed} found a problem (replay: FUZZ_SEED=${seed} pnpm fuzz): ${r.finding.problem}`);
        }
      }
      const ran = runs.reduce((s, r) => s + r.commands, 0);
      if (long) {
        const byCommand = new Map<string, { ok: number; failed: number }>();
        for (const r of runs) {
          for (const [k, o] of r.outcomes) {
            const t = byCommand.get(k) ?? { ok: 0, failed: 0 };
            byCommand.set(k, { ok: t.ok + o.ok, failed: t.failed + o.failed });
          }
        }
        const table = [...byCommand].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, o]) => `  ${(k || "''").padEnd(12)} ${String(o.ok).padStart(6)} ok ${String(o.failed).padStart(6)} failed`);
        console.log([`fuzz: ${ran} commands over ${runs.length} seeds, ${runs.reduce((s, r) => s + r.skipped, 0)} skipped as known bugs`, ...table].join('\n'));
      }
      if (!long && env['FUZZ_SEED'] === undefined) expect(ran).toBeGreaterThanOrEqual(2_000);
    },
    long ? 24 * 3600_000 : 120_000,
  );
});

describe('fuzz: the invariant checks catch what they look for', () => {
  it('a seed replays the same commands', () => {
    const a = fuzzRun(3, 40);
    const b = fuzzRun(3, 40);
    expect(a.finding).toBeUndefined();
    expect(b.history).toEqual(a.history);
    expect(a.history).toHaveLength(40);
    expect([...b.outcomes]).toEqual([...a.outcomes]);
    expect(fuzzRun(4, 40).history).not.toEqual(a.history);
  });

  it('the generator is deterministic per seed and differs between seeds', () => {
    const draw = (seed: number): number[] => {
      const r = new Prng(seed);
      return Array.from({ length: 8 }, () => r.int(1000));
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    const r = new Prng(1);
    for (let i = 0; i < 1000; i++) {
      const v = r.between(3, 5);
      expect(v >= 3 && v <= 5 && Number.isInteger(v)).toBe(true);
    }
  });

  it('/proc/iomem: a nested tree passes; overlap, escape from the parent and bad nesting fail', () => {
    const ok = '00000000-00000fff : Reserved\n00100000-bffdffff : System RAM\n  01000000-01e023ff : Kernel code\n100000000-13fffffff : System RAM\n';
    expect(checkIomem(ok)).toEqual([]);
    expect(checkIomem('00000000-00000fff : a\n00000800-00001fff : b\n')).toHaveLength(1);
    expect(checkIomem('00100000-001fffff : a\n  001f0000-002fffff : b\n')).toHaveLength(1);
    expect(checkIomem('    00100000-001fffff : a\n')).toHaveLength(1);
    expect(checkIomem('00002000-00001000 : a\n')).toHaveLength(1);
    expect(checkIomem('0000NaN-00001000 : a\n')).toHaveLength(1);
  });

  it('zone counters: present moves by whole blocks with the blocks that went online or offline', () => {
    const zi = (present: number, managed = present): string =>
      `Node 0, zone   Normal\n  pages free     5\n        min      0\n        spanned  4096\n        present  ${present}\n        managed  ${managed}\n`;
    const base = { presentPages: 1024, online: new Set([0, 1]), blockPages: 512 };
    expect(checkZones(parseZoneinfo(zi(1024)), new Map([[0, 'online'], [1, 'online']]), base)).toEqual([]);
    expect(checkZones(parseZoneinfo(zi(512)), new Map([[0, 'online'], [1, 'offline']]), base)).toEqual([]);
    expect(checkZones(parseZoneinfo(zi(1536)), new Map([[0, 'online'], [1, 'online'], [2, 'online']]), base)).toEqual([]);
    expect(checkZones(parseZoneinfo(zi(1024)), new Map([[0, 'online'], [1, 'offline']]), base)).toHaveLength(1);
    expect(checkZones(parseZoneinfo(zi(1024, 2000)), new Map([[0, 'online'], [1, 'online']]), base)).toHaveLength(1);
  });

  it('a failed command may move free pages between zones, not change their total or the zone sizes', () => {
    const two = (a: number, b: number, present = 100): string =>
      `Node 0, zone      DMA\n  pages free     ${a}\n        present  ${present}\nNode 0, zone   Normal\n  pages free     ${b}\n        present  100\n`;
    expect(zoneinfoShape(two(10, 20))).toBe(zoneinfoShape(two(11, 19)));
    expect(zoneinfoShape(two(10, 20))).not.toBe(zoneinfoShape(two(10, 19)));
    expect(zoneinfoShape(two(10, 20))).not.toBe(zoneinfoShape(two(10, 20, 99)));
  });

  it('namespaces: each listed one has its device node and fits its region', () => {
    const region = (namespaces: object[], size = 536870912): string => JSON.stringify([{ dev: 'region0', size, namespaces }]);
    const exists = (p: string): boolean => ['/dev/pmem0', '/sys/bus/dax/devices/dax0.0'].includes(p);
    expect(checkNamespaces('', exists)).toEqual([]);
    expect(checkNamespaces(region([{ dev: 'namespace0.0', size: 536870912, blockdev: 'pmem0' }]), exists)).toEqual([]);
    expect(checkNamespaces(region([{ dev: 'namespace0.0', size: 526385152, chardev: 'dax0.0' }]), exists)).toEqual([]);
    expect(checkNamespaces(region([{ dev: 'namespace0.0', size: 4096, blockdev: 'pmem1' }]), exists)).toHaveLength(1);
    expect(checkNamespaces(region([{ dev: 'namespace0.0', size: 4096, chardev: 'dax1.0' }]), exists)).toHaveLength(1);
    expect(checkNamespaces(region([{ dev: 'namespace0.0', size: 536870913, blockdev: 'pmem0' }]), exists)).toHaveLength(2);
    expect(checkNamespaces(region([{ dev: 'namespace0.0', size: 0, blockdev: 'pmem0' }]), exists)).toHaveLength(1);
    expect(checkNamespaces('{"dev":', exists)).toHaveLength(1);
  });

  it('dax kmem: a system-ram device has its blocks, counted as daxctl v72 counts them', () => {
    const sys = { '/sys/bus/dax/devices/dax0.0/resource': '0x80a00000\n', '/sys/bus/dax/devices/dax0.0/size': '526385152\n' } as Record<string, string>;
    const read = (p: string): string => sys[p]!;
    const bs = 128 * 2 ** 20;
    const dev = (total: number, online: number, mode = 'system-ram'): string => JSON.stringify([{ chardev: 'dax0.0', mode, online_memblocks: online, total_memblocks: total }]);
    // kmem adds blocks 17-19 (0x88000000-0x9fffffff); block 20 starts at the device's end, which daxctl counts too
    const states = new Map([[16, 'online'], [17, 'online'], [18, 'offline'], [19, 'online'], [20, 'online']]);
    expect(checkDaxKmem(dev(4, 3), read, states, bs)).toEqual([]);
    expect(checkDaxKmem(dev(3, 3), read, states, bs)).toHaveLength(1);
    expect(checkDaxKmem(dev(4, 4), read, states, bs)).toHaveLength(1);
    expect(checkDaxKmem(dev(0, 0, 'devdax'), read, states, bs)).toEqual([]);
    states.delete(18);
    expect(checkDaxKmem(dev(3, 3), read, states, bs)).toEqual(['dax0.0 is system-ram, its memory18 is not in /sys/devices/system/memory']);
  });

  it('internal error texts are recognised on stderr', () => {
    expect(internalErrorText('zonedev: echo: write error: Invalid argument\n')).toEqual([]);
    expect(internalErrorText("memremap: Cannot read properties of undefined (reading 'x')\n")).not.toEqual([]);
    expect(internalErrorText('TypeError: x is not a function\n    at run (shell.ts:1:1)\n')).not.toEqual([]);
    expect(internalErrorText('[mem 0x0000NaN-0x1000]\n')).not.toEqual([]);
  });
});
