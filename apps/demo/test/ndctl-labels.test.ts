// ndctl v72 on a QEMU NVDIMM with a label area (-device nvdimm,label-size=128K):
// the labelled PMEM region (nstype 5, iset_id, available capacity), namespaces
// created by `ndctl create-namespace -s/-n/-m` as label namespaces
// (namespace0.N, /dev/pmem0.N), their JSON as ndctl prints it, their labels
// in the host file, a second boot that finds them again, destroy-namespace
// freeing the capacity, and refusals that leave the label area as it was.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main, type Io } from '../src/main.js';

interface Result {
  code: number;
  out: string;
  err: string;
}

async function zonedev(argv: string[], stdin: string): Promise<Result> {
  let out = '';
  let err = '';
  const io: Io = {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    readFile: (path) => {
      throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    },
    readStdin: () => Promise.resolve(stdin),
    input: { stream: Readable.from(stdin === '' ? [] : [stdin]), terminal: undefined },
  };
  const code = await main(argv, io);
  return { code, out, err };
}

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const LABEL = 128 * 1024;

function qemu(file: string): string[] {
  return [
    'run', '-m', '2G,slots=2,maxmem=8G', '-M', 'pc,nvdimm=on',
    '--object', `memory-backend-file,id=nv1,share=on,mem-path=${file},size=1G`,
    '--device', 'nvdimm,id=nvdimm1,memdev=nv1,label-size=128K', '-',
  ];
}

/**
 * The QEMU recipe for a fresh label area: the region is label-less until the
 * DIMM has an index, so disable it, write v1.2 labels, enable it again.
 */
async function initLabels(file: string): Promise<void> {
  const r = await zonedev(qemu(file), 'ndctl disable-region region0\nndctl init-labels -V 1.2 nmem0\nndctl enable-region region0\ncat /sys/bus/nd/devices/region0/nstype\n');
  expect(r.err).toBe('disabled 1 region\ninitialized 1 nmem\nenabled 1 region\n');
  expect(r.out).toBe('5\n');
}

/** The JSON documents of a script's output, in order (ndctl prints one per command). */
function docs(out: string): unknown[] {
  const res: unknown[] = [];
  let depth = 0;
  let start = -1;
  for (let i = 0; i < out.length; i++) {
    const c = out[i];
    if ((c === '{' || c === '[') && depth++ === 0) start = i;
    else if ((c === '}' || c === ']') && --depth === 0) res.push(JSON.parse(out.slice(start, i + 1)));
  }
  return res;
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'zonedev-labels-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('a fresh label area', () => {
  it('is label-less until labelled; create-namespace -e writes the labels (enable_labels) and makes a label namespace', async () => {
    const file = join(dir, 'nv.img');
    // 1 GiB + the 128 KiB label area: the region is exactly 1 GiB, a multiple of its 16 MiB align
    const args = qemu(file).map((a) => a.replace('size=1G', `size=${GiB + LABEL}`));
    const r = await zonedev(
      args,
      'cat /sys/bus/nd/devices/region0/nstype\nndctl create-namespace -s 256M -m raw\nndctl create-namespace -f -e namespace0.0 -m raw -n whole\ncat /sys/bus/nd/devices/region0/nstype\ncat /sys/bus/nd/devices/nmem0/flags\n',
    );
    expect(r.out.startsWith('4\n')).toBe(true);
    expect(r.err).toBe('  Error: Legacy / label-less namespaces do not support sub-dividing a region\n\n  Error: Retry without -s/--size=\n\nfailed to create namespace: Invalid argument\n');
    const [ns] = docs(r.out) as [Record<string, unknown>];
    expect(ns).toMatchObject({ dev: 'namespace0.0', mode: 'raw', size: GiB, name: 'whole', blockdev: 'pmem0' });
    expect(typeof ns.uuid).toBe('string');
    expect(r.out.endsWith('5\nlabel \n')).toBe(true);
    expect(r.code).toBe(0);
  });
});

describe('ndctl on a labelled NVDIMM region', () => {
  it('creates label namespaces with -s/-n/-m, prints them as ndctl v72 does, and finds them after a reboot', async () => {
    const file = join(dir, 'nv.img');
    await initLabels(file);
    const script = [
      'ndctl list -R',
      'ndctl create-namespace -s 256M -n mydb -m raw -u 7a9c4dcd-f679-4bb0-9011-9c913278f99c',
      'ndctl create-namespace -s 256M -m fsdax',
      'echo hello > /dev/pmem0',
      'cat /sys/bus/nd/devices/region0/available_size',
      'cat /sys/bus/nd/devices/region0/namespace_seed',
      'cat /sys/bus/nd/devices/namespace0.0/dpa_extents',
    ].join('\n');
    const r = await zonedev(qemu(file), `${script}\n`);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const [regions, raw, fsdax] = docs(r.out) as [Record<string, unknown>[], Record<string, unknown>, Record<string, unknown>];
    // the region is the backend less the label area, in 16 MiB units of available capacity
    expect(regions[0]).toEqual({
      dev: 'region0',
      size: GiB - LABEL,
      align: 16777216,
      available_size: 1056964608,
      max_available_extent: 1056964608,
      type: 'pmem',
      iset_id: expect.any(Number) as unknown,
      persistence_domain: 'unknown',
    });
    expect(Object.keys(regions[0]!)).toEqual(['dev', 'size', 'align', 'available_size', 'max_available_extent', 'type', 'iset_id', 'persistence_domain']);
    expect(raw).toEqual({ dev: 'namespace0.0', mode: 'raw', size: 256 * MiB, uuid: '7a9c4dcd-f679-4bb0-9011-9c913278f99c', sector_size: 512, blockdev: 'pmem0', name: 'mydb' });
    expect(Object.keys(raw)).toEqual(['dev', 'mode', 'size', 'uuid', 'sector_size', 'blockdev', 'name']);
    // fsdax map=dev on a 256 MiB namespace: ALIGN(8K + 64 * 65534, 2M) = 6 MiB of info block and memmap
    expect(fsdax).toMatchObject({ dev: 'namespace0.1', mode: 'fsdax', map: 'dev', size: 262144000, sector_size: 512, align: 2097152, blockdev: 'pmem0.1' });
    const tail = r.out.slice(r.out.lastIndexOf('}') + 1);
    expect(tail).toBe(`\n${GiB - 16 * MiB - 512 * MiB}\nnamespace0.2\n1\n`);
    // the labels are in the last 128 KiB of the host file: a v1.2 index block
    const bytes = readFileSync(file);
    expect(bytes.subarray(bytes.length - LABEL, bytes.length - LABEL + 16).toString('latin1')).toBe('NAMESPACE_INDEX\0');
    // a second boot of the same file: the namespaces, their names, modes and data come back
    const r2 = await zonedev(qemu(file), 'ndctl list -N\nhead -c 6 /dev/pmem0\n');
    expect(r2.code).toBe(0);
    const [list] = docs(r2.out) as [Record<string, unknown>[]];
    expect(list).toEqual([raw, { ...fsdax }]);
    expect(r2.out.endsWith('hello\n')).toBe(true);
  });

  it('destroy-namespace deletes the labels and gives the capacity back; idle seeds show with -i', async () => {
    const file = join(dir, 'nv.img');
    await initLabels(file);
    const script = [
      'ndctl create-namespace -s 512M -m raw -n a',
      'ndctl create-namespace -s 256M -m raw -n b',
      'ndctl destroy-namespace -f namespace0.1',
      'ndctl list -N',
      'cat /sys/bus/nd/devices/region0/available_size',
      'ls /sys/bus/nd/devices',
    ].join('\n');
    const r = await zonedev(qemu(file), `${script}\n`);
    expect(r.code).toBe(0);
    expect(r.err).toBe('destroyed 1 namespace\n');
    const d = docs(r.out) as Record<string, unknown>[][];
    const list = d[2]!;
    expect(list.map((n) => n.dev)).toEqual(['namespace0.0']);
    expect(r.out).toContain(`\n${GiB - 16 * MiB - 512 * MiB}\n`);
    // namespace0.1 is gone (not id 0, not the seed); namespace0.2 is the seed
    expect(r.out).toContain('namespace0.0\nnamespace0.2\n');
    expect(r.out).not.toContain('namespace0.1\n');
    // next boot: only namespace0.0 from the labels, then a fresh seed
    const r2 = await zonedev(qemu(file), 'ndctl list -Ni\n');
    const [l2] = docs(r2.out) as [Record<string, unknown>[]];
    expect(l2.map((n) => [n.dev, n.size, n.name ?? null])).toEqual([
      ['namespace0.0', 512 * MiB, 'a'],
      ['namespace0.1', 0, null],
    ]);
  });

  it('sector (BTT 2.0 on v1.2 labels) and devdax label namespaces come back with their claim class after a reboot', async () => {
    const file = join(dir, 'nv.img');
    await initLabels(file);
    const r = await zonedev(qemu(file), 'ndctl create-namespace -s 64M -m sector\nndctl create-namespace -s 64M -m devdax\ncat /sys/bus/nd/devices/namespace0.0/holder_class\n');
    expect(r.code).toBe(0);
    const [sector, devdax] = docs(r.out) as Record<string, unknown>[];
    expect(sector).toMatchObject({ dev: 'namespace0.0', mode: 'sector', sector_size: 4096, blockdev: 'pmem0s' });
    expect(devdax).toMatchObject({ dev: 'namespace0.1', mode: 'devdax', map: 'dev', size: 65011712, align: 2097152 });
    expect((devdax!.daxregion as { devices: { chardev: string }[] }).devices[0]!.chardev).toBe('dax0.1');
    expect(r.out.endsWith('btt\n')).toBe(true);
    // BTT 2.0 lives at namespace offset 0: the info block signature starts the namespace's media
    const bytes = readFileSync(file);
    expect(bytes.subarray(0, 14).toString('latin1')).toBe('BTT_ARENA_INFO');
    const r2 = await zonedev(qemu(file), 'ndctl list -N\n');
    const [list] = docs(r2.out) as [Record<string, unknown>[]];
    expect(list[0]).toEqual(sector);
    expect(list[1]).toMatchObject({ dev: 'namespace0.1', mode: 'devdax', uuid: devdax!.uuid, chardev: 'dax0.1' });
  });

  it('refuses what the region cannot hold with ndctl\'s messages, leaving the label area byte for byte', async () => {
    const file = join(dir, 'nv.img');
    await initLabels(file);
    await zonedev(qemu(file), 'ndctl create-namespace -s 256M -m raw\n');
    const before = readFileSync(file).subarray(GiB - LABEL);
    const r = await zonedev(qemu(file), 'ndctl create-namespace -s 2G -m raw\nndctl create-namespace -s 20M -m raw\n');
    expect(r.err).toBe(
      'failed to create namespace: No space left on device\n' +
        '  Error: create namespace: region0: align setting is 0x1000000 size 0x1400000 is misaligned\n\n',
    );
    expect(readFileSync(file).subarray(GiB - LABEL).equals(before)).toBe(true);
  });
});
