import { describe, expect, it } from 'vitest';
import { chmem, CHMEM_EXIT_SOMEOK } from '../src/tools/chmem.js';
import { MemFs } from '../src/shell/vfs.js';
import { fakeMemorySysfs, range, type FakeSysfs } from './helpers.js';

function run(args: string[], sys: FakeSysfs | MemFs): { status: number; out: string; err: string; writes: string[] } {
  let out = '';
  let err = '';
  const fs = sys instanceof MemFs ? sys : sys.fs;
  const status = chmem(args, { fs, out: (t) => (out += t), err: (t) => (err += t) });
  return { status, out, err, writes: sys instanceof MemFs ? [] : [...sys.writes] };
}

/** Blocks 0-7 online (Normal), 8-15 offline (Normal Movable), block 12 refuses to online (EBUSY). */
function machine(): FakeSysfs {
  return fakeMemorySysfs(0x8000000, [
    ...range(0, 8, 'online', { zones: 'Normal' }),
    ...range(8, 4, 'offline', { zones: 'Normal Movable' }),
    { index: 12, state: 'offline', zones: 'Normal Movable', fail: 'EBUSY' },
    ...range(13, 3, 'offline', { zones: 'Normal Movable' }),
  ]);
}

describe('chmem (util-linux 2.37 sys-utils/chmem.c)', () => {
  it('enables SIZE from the lowest offline block, online_movable where Movable is valid', () => {
    const m = machine();
    expect(run(['-e', '256M'], m)).toEqual({ status: 0, out: '', err: '', writes: ['memory8=online_movable', 'memory9=online_movable'] });
    expect(m.blocks[9]!.state).toBe('online');
  });

  it('counts a bare number in MiB and reports each block with -v', () => {
    const r = run(['-v', '-e', '256'], machine());
    expect(r.status).toBe(0);
    expect(r.out).toBe(
      'Memory Block 8 (0x0000000040000000-0x0000000047ffffff) enabled\nMemory Block 9 (0x0000000048000000-0x000000004fffffff) enabled\n',
    );
  });

  it('disables SIZE from the highest online block', () => {
    expect(run(['-d', '256M'], machine()).writes).toEqual(['memory7=offline', 'memory6=offline']);
  });

  it('writes online_kernel or online_movable with -z, and skips blocks of other zones', () => {
    expect(run(['-e', '128M', '-z', 'normal'], machine()).writes).toEqual(['memory8=online_kernel']);
    expect(run(['-e', '128M', '-z', 'Movable'], machine()).writes).toEqual(['memory8=online_movable']);
    const dma = run(['-e', '128M', '-z', 'DMA'], machine());
    expect(dma).toEqual({ status: 1, out: '', err: 'chmem: Could only enable 0B of memory\n', writes: [] });
  });

  it('reports a failed write with its errno and exits 64 when only part succeeded', () => {
    const r = run(['-e', '1G'], machine());
    expect(r.status).toBe(CHMEM_EXIT_SOMEOK);
    expect(r.err).toBe(
      'chmem: Memory Block 12 (0x0000000060000000-0x0000000067ffffff) enable failed: Device or resource busy\n' +
        'chmem: Could only enable 896M of memory\n',
    );
    expect(r.writes).toHaveLength(8);
  });

  it('exits 1 when nothing could be done', () => {
    const r = run(['-b', '-e', '12'], machine());
    expect(r.status).toBe(1);
    expect(r.err).toBe('chmem: Memory Block 12 (0x0000000060000000-0x0000000067ffffff) enable failed: Device or resource busy\n');
  });

  it('works on an address RANGE and skips blocks already in the state (verbose says so)', () => {
    const r = run(['-d', '0x30000000-0x47ffffff', '-v'], machine());
    expect(r).toEqual({
      status: 0,
      err: '',
      writes: ['memory6=offline', 'memory7=offline'],
      out:
        'Memory Block 6 (0x0000000030000000-0x0000000037ffffff) disabled\n' +
        'Memory Block 7 (0x0000000038000000-0x000000003fffffff) disabled\n' +
        'Memory Block 8 (0x0000000040000000-0x0000000047ffffff) already disabled\n',
    });
  });

  it('works on a BLOCKRANGE with -b, and reports zone mismatches', () => {
    const r = run(['-b', '-e', '8-13'], machine());
    expect(r.status).toBe(CHMEM_EXIT_SOMEOK);
    expect(r.writes).toEqual(['memory8=online_movable', 'memory9=online_movable', 'memory10=online_movable', 'memory11=online_movable', 'memory12=online_movable', 'memory13=online_movable']);
    expect(run(['-b', '-e', '9', '-z', 'DMA'], machine()).err).toBe(
      'chmem: Memory Block 9 (0x0000000048000000-0x000000004fffffff) enable failed: Zone mismatch\n',
    );
    expect(run(['-b', '-d', '3', '-z', 'Movable'], machine()).err).toBe(
      'chmem: Memory Block 3 (0x0000000018000000-0x000000001fffffff) disable failed: Zone mismatch\n',
    );
  });

  it('rejects bad parameters with util-linux messages', () => {
    const cases: [string[], string][] = [
      [['-e', '100M'], 'chmem: Size must be aligned to memory block size (128M)\n'],
      [['-e', '0x1-0x2'], 'chmem: Start address and (end address + 1) must be aligned to memory block size (128M)\n'],
      [['-e', '1-0x7ffffff'], 'chmem: Invalid start address format: 1\n'],
      [['-e', '1x-2'], 'chmem: Invalid end address format: 2\n'],
      [['-e', 'abc'], "chmem: Failed to parse size: 'abc': Invalid argument\n"],
      [['-b', '-e', 'x'], "chmem: Failed to parse block number: 'x'\n"],
      [['-b', '-e', '1-y'], "chmem: Failed to parse end: 'y'\n"],
      [['-e', '1-2-3'], 'chmem: Invalid parameter: 1-2-3\n'],
      [['-b', '-e', '5-3'], 'chmem: Invalid range: 5-3\n'],
      [['-d', '-e', '1G'], 'chmem: mutually exclusive arguments: --disable --enable\n'],
      [['-e'], "chmem: bad usage\nTry 'chmem --help' for more information.\n"],
      [['1G'], "chmem: bad usage\nTry 'chmem --help' for more information.\n"],
      [['-e', '1G', '2G'], "chmem: bad usage\nTry 'chmem --help' for more information.\n"],
      [['-e', '1G', '-z', 'Foo'], "chmem: unknown memory zone: Foo\nTry 'chmem --help' for more information.\n"],
      [['-q'], "chmem: invalid option -- 'q'\nTry 'chmem --help' for more information.\n"],
    ];
    for (const [args, err] of cases) {
      const r = run(args, machine());
      expect({ args, status: r.status, err: r.err, writes: r.writes }).toEqual({ args, status: 1, err, writes: [] });
    }
  });

  it('ignores -z without valid_zones, with a warning', () => {
    const m = fakeMemorySysfs(0x8000000, range(0, 2, 'offline'));
    const r = run(['-e', '128M', '-z', 'Movable'], m);
    expect(r.err).toBe('chmem: zone ignored, no valid_zones sysfs attribute present\n');
    expect(r.writes).toEqual(['memory0=online']);
  });

  it('fails before parsing options on a machine without memory blocks', () => {
    expect(run(['-h'], new MemFs())).toEqual({
      status: 1,
      out: '',
      err: 'chmem: Failed to read /sys/devices/system/memory: No such file or directory\n',
      writes: [],
    });
  });

  it('prints its help and version', () => {
    const h = run(['--help'], machine());
    expect(h.status).toBe(0);
    expect(h.out).toContain(' -v, --verbose      verbose output\n -h, --help         display this help\n');
    expect(h.out).toContain('\nSupported zones:\n DMA\n DMA32\n Normal\n Highmem\n Movable\n Device\n\nFor more details see chmem(8).\n');
    expect(run(['--version'], machine()).out).toBe('chmem from util-linux 2.37.2\n');
  });
});
