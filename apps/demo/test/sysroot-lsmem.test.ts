/**
 * A real client against the model: the distribution's own `lsmem` (util-linux)
 * reads a machine's exported sysfs (`--sysroot`) and must print, byte for byte,
 * what the model's lsmem prints on the live machine. Six machines cover both
 * profiles, NUMA, hot-plugged blocks online and offline, mixed zones, and a
 * large guest whose memory blocks are bigger than a section.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bootShellMachine as bootMachine } from '../src/commands/shell-machine.js';
import { DEFAULT_MACHINE, type MachineOptions } from '@zonedev/platform';
import { run } from '../src/shell/shell.js';
import { exportSysroot } from '../src/node/sysroot.js';
import { main } from '../src/main.js';

const G = 2 ** 30;
const LSMEM = '/usr/bin/lsmem';
const scratch = mkdtempSync(join(tmpdir(), 'zonedev-sysroot-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Case {
  readonly name: string;
  readonly options: Partial<MachineOptions>;
  /** Commands run on the machine before the export. */
  readonly script: string;
  /** `block_size_bytes` the machine must have, where the case is about it. */
  readonly blockSize?: number;
}

const CASES: readonly Case[] = [
  {
    name: 'x86_64, a hot-plugged DIMM partly online movable',
    options: { ramSize: 4 * G, slots: 2, maxmem: 8 * G },
    script: [
      'object_add memory-backend-ram,id=mem1,size=1G',
      'device_add pc-dimm,id=dimm1,memdev=mem1',
      'echo online_movable > /sys/devices/system/memory/memory40/state',
      'echo online_movable > /sys/devices/system/memory/memory41/state',
    ].join('\n'),
  },
  {
    name: 'x86_64, two NUMA nodes, a DIMM on node 1 online',
    options: { ramSize: 4 * G, slots: 2, maxmem: 8 * G, numa: 2 },
    script: [
      'object_add memory-backend-ram,id=mem1,size=512M',
      'device_add pc-dimm,id=dimm1,memdev=mem1,node=1',
      'chmem -e 0x140000000-0x15fffffff',
    ].join('\n'),
  },
  {
    name: 'x86_64, mixed zones in one DIMM',
    options: { ramSize: 2 * G, slots: 2, maxmem: 6 * G },
    script: [
      'object_add memory-backend-ram,id=mem1,size=1G',
      'device_add pc-dimm,id=dimm1,memdev=mem1',
      'echo online_kernel > /sys/devices/system/memory/memory32/state',
      'echo online_movable > /sys/devices/system/memory/memory35/state',
      'echo online > /sys/devices/system/memory/memory34/state',
    ].join('\n'),
  },
  {
    name: 'x86_64, a 72 GiB guest (1 GiB memory blocks)',
    options: { ramSize: 72 * G, slots: 2, maxmem: 80 * G },
    script: 'echo offline > /sys/devices/system/memory/memory70/state',
    blockSize: G,
  },
  {
    name: 'powerpc, two nodes, a DLPAR DIMM on node 1 online movable',
    options: { platform: 'powerpc', ramSize: 2 * G, slots: 2, maxmem: 4 * G, numa: 2 },
    script: [
      'object_add memory-backend-ram,id=mem1,size=512M',
      'device_add pc-dimm,id=dimm1,memdev=mem1,node=1',
      'chmem -d 0x80000000-0x8fffffff',
      'chmem -e -z Movable 0x80000000-0x8fffffff',
    ].join('\n'),
  },
  {
    name: 'powerpc radix, memory blocks offline',
    options: { platform: 'powerpc', mmu: 'radix', ramSize: 4 * G, slots: 2, maxmem: 8 * G },
    script: [
      'object_add memory-backend-ram,id=mem1,size=1G',
      'device_add pc-dimm,id=dimm1,memdev=mem1',
      'chmem -d 0x40000000-0x4fffffff',
    ].join('\n'),
  },
];

/** The lsmem invocations compared: the default table and every output format. */
const INVOCATIONS: readonly (readonly string[])[] = [
  [],
  ['-a'],
  ['--summary'],
  ['--summary=only'],
  ['-J'],
  ['-P'],
  ['-r'],
  ['-b'],
  ['-n', '-o', 'RANGE,SIZE,STATE,REMOVABLE,BLOCK,NODE,ZONES'],
  ['-a', '-o', 'BLOCK,STATE,NODE,ZONES', '-J'],
  ['-S', 'NODE,ZONES'],
];

// CI must have the real tool (util-linux is essential on Debian): only a
// developer's machine without it skips.
const haveLsmem = existsSync(LSMEM) || process.env.CI !== undefined;

describe.skipIf(!haveLsmem)("util-linux's lsmem --sysroot against the exported model", () => {
  for (const c of CASES) {
    it(c.name, () => {
      const m = bootMachine({ ...DEFAULT_MACHINE, ...c.options });
      const setup = run(c.script, m, { strict: true });
      expect(setup.stderr).toBe('');
      if (c.blockSize !== undefined) {
        expect(m.kernel.sysfs.read('/sys/devices/system/memory/block_size_bytes')).toBe(`${c.blockSize.toString(16)}\n`);
      }
      const dest = join(scratch, c.name.replace(/[^a-z0-9]+/gi, '-'));
      exportSysroot(m.machine, dest);
      for (const args of INVOCATIONS) {
        const real = execFileSync(LSMEM, ['--sysroot', dest, ...args], { encoding: 'utf8' });
        const ours = run(`lsmem ${args.join(' ')}`, m);
        expect(ours.stderr, `lsmem ${args.join(' ')}`).toBe('');
        expect(ours.stdout, `lsmem ${args.join(' ')}`).toBe(real);
      }
    });
  }

  it('exports links as links, unreadable attributes empty with their mode, and /proc files whole', () => {
    const m = bootMachine({ ...DEFAULT_MACHINE, numa: 2 });
    const dest = join(scratch, 'layout');
    const report = exportSysroot(m.machine, dest);
    expect(report.links).toBeGreaterThan(0);
    expect(readlinkSync(join(dest, 'sys/devices/system/memory/memory0/node0'))).toBe('../../node/node0');
    expect(readFileSync(join(dest, 'sys/devices/system/memory/block_size_bytes'), 'utf8')).toBe('8000000\n');
    // `probe` is write-only (0200): present, empty.
    expect(readFileSync(join(dest, 'sys/devices/system/memory/probe'), 'utf8')).toBe('');
    expect(readFileSync(join(dest, 'proc/iomem'), 'utf8')).toBe(m.kernel.iomem.procIomem());
  });

  it('zonedev run --export DIR writes the tree after the script; a non-empty DIR is refused', async () => {
    const dir = join(scratch, 'cli');
    let out = '';
    let err = '';
    const io = (stdin: string) => ({
      stdout: { write: (t: string) => (out += t) },
      stderr: { write: (t: string) => (err += t) },
      readFile: () => '',
      readStdin: () => Promise.resolve(stdin),
      input: { stream: Readable.from([]), terminal: undefined },
    });
    const script = 'echo offline > /sys/devices/system/memory/memory5/state\nlsmem -a\n';
    expect(await main(['run', '--export', dir, '-'], io(script))).toBe(0);
    expect(err).toBe('');
    expect(execFileSync(LSMEM, ['--sysroot', dir, '-a'], { encoding: 'utf8' })).toBe(out);
    expect(readFileSync(join(dir, 'sys/devices/system/memory/memory5/state'), 'utf8')).toBe('offline\n');

    const full = join(scratch, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'x'), '');
    out = '';
    expect(await main(['run', '--export', full, '-'], io('true\n'))).toBe(1);
    expect(err).toBe(`zonedev: run: cannot export to '${full}': Directory not empty\n`);
    expect(existsSync(join(full, 'sys'))).toBe(false);
  });
});
