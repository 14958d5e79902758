import { describe, expect, it } from 'vitest';
import { lsmem } from '../src/tools/lsmem.js';
import { MemFs } from '../src/shell/vfs.js';
import { fakeMemorySysfs, range } from './helpers.js';

function run(args: string[], fs: MemFs): { status: number; out: string; err: string } {
  let out = '';
  let err = '';
  const status = lsmem(args, { fs, out: (t) => (out += t), err: (t) => (err += t) });
  return { status, out, err };
}

/** 2 GiB online in DMA32 (node 0), a hole, 1 GiB online Normal (node 0), 1 GiB offline (node 1). */
function machine(): MemFs {
  return fakeMemorySysfs(0x8000000, [
    ...range(0, 16, 'online', { zones: 'DMA32', node: 0 }),
    ...range(32, 8, 'online', { zones: 'Normal', node: 0 }),
    ...range(40, 8, 'offline', { zones: 'Normal Movable', node: 1 }),
  ]).fs;
}

const SUMMARY = `Memory block size:       128M
Total online memory:       3G
Total offline memory:      1G
`;

describe('lsmem (util-linux 2.37 sys-utils/lsmem.c)', () => {
  it('prints the default columns, merging equal neighbours, then the summary', () => {
    const r = run([], machine());
    expect(r).toEqual({
      status: 0,
      err: '',
      out: `RANGE                                 SIZE   STATE REMOVABLE BLOCK
0x0000000000000000-0x000000007fffffff   2G  online       yes  0-15
0x0000000100000000-0x000000013fffffff   1G  online       yes 32-39
0x0000000140000000-0x000000017fffffff   1G offline           40-47

${SUMMARY}`,
    });
  });

  it('widens SIZE to its hint of 5 only when the data is as wide as the header (-a)', () => {
    const r = run(['-a'], machine());
    const lines = r.out.split('\n');
    expect(lines[0]).toBe('RANGE                                  SIZE   STATE REMOVABLE BLOCK');
    expect(lines[1]).toBe('0x0000000000000000-0x0000000007ffffff  128M  online       yes     0');
    expect(lines[25]).toBe('0x0000000140000000-0x0000000147ffffff  128M offline              40');
    expect(lines.length).toBe(1 + 32 + 1 + 3 + 1);
  });

  it('adds columns with -o +LIST and splits ranges by them', () => {
    const r = run(['-o', '+NODE,ZONES'], machine());
    expect(r.out).toBe(`RANGE                                 SIZE   STATE REMOVABLE BLOCK NODE          ZONES
0x0000000000000000-0x000000007fffffff   2G  online       yes  0-15    0          DMA32
0x0000000100000000-0x000000013fffffff   1G  online       yes 32-39    0         Normal
0x0000000140000000-0x000000017fffffff   1G offline           40-47    1 Normal/Movable

${SUMMARY}`);
  });

  it('replaces the columns with -o LIST (case-insensitive) and merges what they do not show', () => {
    const r = run(['-o', 'range,size'], machine());
    expect(r.out).toBe(`RANGE                                 SIZE
0x0000000000000000-0x000000007fffffff   2G
0x0000000100000000-0x000000017fffffff   2G

${SUMMARY}`);
  });

  it('--split none merges contiguous blocks whatever their state; --split STATE splits', () => {
    expect(run(['--split', 'none'], machine()).out.split('\n').slice(1, 3)).toEqual([
      '0x0000000000000000-0x000000007fffffff   2G online       yes  0-15',
      '0x0000000100000000-0x000000017fffffff   2G online       yes 32-47',
    ]);
    expect(run(['-S', 'STATE'], machine()).out.split('\n').length).toBe(1 + 3 + 1 + 3 + 1);
  });

  it('prints JSON the way libsmartcols 2.37 does, with no summary', () => {
    const r = run(['--json'], machine());
    expect(r.out).toBe(`{
   "memory": [
      {
         "range": "0x0000000000000000-0x000000007fffffff",
         "size": "2G",
         "state": "online",
         "removable": true,
         "block": "0-15"
      },{
         "range": "0x0000000100000000-0x000000013fffffff",
         "size": "1G",
         "state": "online",
         "removable": true,
         "block": "32-39"
      },{
         "range": "0x0000000140000000-0x000000017fffffff",
         "size": "1G",
         "state": "offline",
         "removable": false,
         "block": "40-47"
      }
   ]
}
`);
    expect(JSON.parse(r.out)).toHaveProperty('memory');
  });

  it('types SIZE (with -b) and NODE as JSON numbers', () => {
    const r = run(['-J', '-b', '-o', 'SIZE,NODE'], machine());
    expect(JSON.parse(r.out)).toEqual({
      memory: [
        { size: 2147483648, node: 0 },
        { size: 1073741824, node: 0 },
        { size: 1073741824, node: 1 },
      ],
    });
  });

  it('prints bytes with -b, in table and summary', () => {
    expect(run(['-b'], machine()).out).toBe(`RANGE                                       SIZE   STATE REMOVABLE BLOCK
0x0000000000000000-0x000000007fffffff 2147483648  online       yes  0-15
0x0000000100000000-0x000000013fffffff 1073741824  online       yes 32-39
0x0000000140000000-0x000000017fffffff 1073741824 offline           40-47

Memory block size:            134217728
Total online memory:         3221225472
Total offline memory:        1073741824
`);
  });

  it('prints pairs (-P) and raw (-r) without a summary', () => {
    expect(run(['-P'], machine()).out).toBe(`RANGE="0x0000000000000000-0x000000007fffffff" SIZE="2G" STATE="online" REMOVABLE="yes" BLOCK="0-15"
RANGE="0x0000000100000000-0x000000013fffffff" SIZE="1G" STATE="online" REMOVABLE="yes" BLOCK="32-39"
RANGE="0x0000000140000000-0x000000017fffffff" SIZE="1G" STATE="offline" REMOVABLE="" BLOCK="40-47"
`);
    expect(run(['-r'], machine()).out).toBe(`RANGE SIZE STATE REMOVABLE BLOCK
0x0000000000000000-0x000000007fffffff 2G online yes 0-15
0x0000000100000000-0x000000013fffffff 1G online yes 32-39
0x0000000140000000-0x000000017fffffff 1G offline  40-47
`);
    expect(run(['-r', '-n', '--summary=always'], machine()).out).toBe(`0x0000000000000000-0x000000007fffffff 2G online yes 0-15
0x0000000100000000-0x000000013fffffff 1G online yes 32-39
0x0000000140000000-0x000000017fffffff 1G offline  40-47

${SUMMARY}`);
  });

  it('prints only the summary with --summary / --summary=only, and only the table with --summary=never', () => {
    expect(run(['--summary'], machine()).out).toBe(SUMMARY);
    expect(run(['--summary=only'], machine()).out).toBe(SUMMARY);
    expect(run(['--summary=never'], machine()).out).not.toContain('Memory block size');
  });

  it('keeps column widths from the headers with -n', () => {
    expect(run(['-n'], machine()).out.split('\n')[0]).toBe('0x0000000000000000-0x000000007fffffff   2G  online       yes  0-15');
  });

  it('shows on->off for a block going offline, and no REMOVABLE for it', () => {
    const { fs } = fakeMemorySysfs(0x8000000, [...range(0, 2, 'online'), { index: 2, state: 'going-offline' }]);
    expect(run([], fs).out).toBe(`RANGE                                  SIZE   STATE REMOVABLE BLOCK
0x0000000000000000-0x000000000fffffff  256M  online       yes   0-1
0x0000000010000000-0x0000000017ffffff  128M on->off               2

Memory block size:       128M
Total online memory:     256M
Total offline memory:    128M
`);
  });

  it('has no NODE or ZONES data on a machine without node links or valid_zones', () => {
    const { fs } = fakeMemorySysfs(0x10000000, range(0, 4, 'online'));
    expect(run(['-o', 'BLOCK,NODE,ZONES', '-r'], fs).out).toBe('BLOCK NODE ZONES\n0-3  \n');
  });

  it('reads block_size_bytes as hex and sorts memoryN like versionsort', () => {
    const { fs } = fakeMemorySysfs(0x80000000, [...range(9, 2, 'online')]);
    expect(run(['-a', '-o', 'RANGE,BLOCK'], fs).out).toBe(`RANGE                                 BLOCK
0x0000000480000000-0x00000004ffffffff     9
0x0000000500000000-0x000000057fffffff    10

Memory block size:         2G
Total online memory:       4G
Total offline memory:      0B
`);
  });

  it('reports a system without memory blocks', () => {
    expect(run([], new MemFs())).toEqual({ status: 1, out: '', err: 'lsmem: This system does not support memory blocks\n' });
  });

  it('reports usage errors as util-linux does, with status 1', () => {
    expect(run(['-x'], machine())).toEqual({ status: 1, out: '', err: "lsmem: invalid option -- 'x'\nTry 'lsmem --help' for more information.\n" });
    expect(run(['--foo'], machine()).err).toBe("lsmem: unrecognized option '--foo'\nTry 'lsmem --help' for more information.\n");
    expect(run(['-o'], machine()).err).toBe("lsmem: option requires an argument -- 'o'\nTry 'lsmem --help' for more information.\n");
    expect(run(['--output'], machine()).err).toBe("lsmem: option '--output' requires an argument\nTry 'lsmem --help' for more information.\n");
    expect(run(['--all=1'], machine()).err).toBe("lsmem: option '--all' doesn't allow an argument\nTry 'lsmem --help' for more information.\n");
    expect(run(['--s'], machine()).err).toBe(
      "lsmem: option '--s' is ambiguous; possibilities: '--sysroot' '--split' '--summary'\nTry 'lsmem --help' for more information.\n",
    );
    expect(run(['--output=FOO'], machine())).toEqual({ status: 1, out: '', err: 'lsmem: unknown column: FOO\n' });
    expect(run(['-J', '-r'], machine())).toEqual({ status: 1, out: '', err: 'lsmem: mutually exclusive arguments: --json --pairs --raw\n' });
    expect(run(['-a', '-S', 'none'], machine()).err).toBe('lsmem: mutually exclusive arguments: --split --all\n');
    expect(run(['extra'], machine()).err).toBe("lsmem: bad usage\nTry 'lsmem --help' for more information.\n");
    expect(run(['--summary=sometimes'], machine()).err).toBe('lsmem: unsupported --summary argument\n');
    expect(run(['-J', '--summary=only'], machine()).err).toBe('lsmem: options --{raw,json,pairs} and --summary=only are mutually exclusive\n');
  });

  it('accepts unambiguous abbreviations of long options', () => {
    expect(run(['--jso'], machine()).out).toBe(run(['-J'], machine()).out);
  });

  it('prints its help and version', () => {
    const help = run(['--help'], machine());
    expect(help.status).toBe(0);
    expect(help.out).toContain('\nUsage:\n lsmem [options]\n');
    expect(help.out).toContain(' -h, --help           display this help\n -V, --version        display version\n');
    expect(help.out).toContain('\nAvailable output columns:\n      RANGE  start and end address of the memory range\n');
    expect(help.out.endsWith('      ZONES  valid zones for the memory range\n\nFor more details see lsmem(1).\n')).toBe(true);
    expect(run(['-V'], machine()).out).toBe('lsmem from util-linux 2.37.2\n');
  });

  it('reads below --sysroot', () => {
    const { fs } = fakeMemorySysfs(0x8000000, range(0, 1, 'online'));
    const rooted = new MemFs();
    rooted.addFile('/mnt/sys/devices/system/memory/block_size_bytes', fs.read('/sys/devices/system/memory/block_size_bytes'));
    rooted.addFile('/mnt/sys/devices/system/memory/memory0/state', 'offline\n');
    expect(run(['-s', '/mnt', '--summary'], rooted).out).toContain('Total offline memory:    128M');
  });
});
