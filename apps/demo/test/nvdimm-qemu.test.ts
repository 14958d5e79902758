// QEMU NVDIMMs on the zonedev command line (-M pc,nvdimm=on, --object
// memory-backend-file, --device nvdimm): the NFIT bus and its nmem DIMMs,
// media in a real host file that a second boot finds again, ndctl on the
// DIMMs' label areas, and QEMU's errors for a bad command line.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'zonedev-nvdimm-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const GiB = 2 ** 30;

function qemuArgs(file: string, device: string | undefined = undefined, size = '1G'): string[] {
  device ??= 'nvdimm,id=nvdimm1,memdev=nv1';
  return ['run', '-m', '2G,slots=2,maxmem=8G', '-M', 'pc,nvdimm=on', '--object', `memory-backend-file,id=nv1,share=on,mem-path=${file},size=${size}`, '--device', device, '-'];
}

describe('zonedev run -M pc,nvdimm=on --object memory-backend-file --device nvdimm', () => {
  it('boots with the NFIT bus, nmem0 and, label-less, region0/namespace0.0 on the backend file', async () => {
    const file = join(dir, 'nvdimm.img');
    const r = await zonedev(qemuArgs(file), 'ndctl list -BDRN\ncat /sys/bus/nd/devices/region0/mapping0\ncat /proc/iomem\n');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(statSync(file).size).toBe(GiB);
    const json = r.out.slice(0, r.out.indexOf('\n]\n') + 3);
    expect(JSON.parse(json)).toEqual([
      {
        provider: 'ACPI.NFIT',
        dev: 'ndbus0',
        dimms: [{ dev: 'nmem0', id: '8680-56341200', handle: 1, phys_id: 0 }],
        regions: [
          expect.objectContaining({
            dev: 'region0',
            size: GiB,
            type: 'pmem',
            namespaces: [{ dev: 'namespace0.0', mode: 'raw', size: GiB, sector_size: 512, blockdev: 'pmem0' }],
          }),
        ],
      },
    ]);
    expect(r.out).toContain('nmem0,0,1073741824,0\n');
    // device memory starts at 4 GiB + (RAM above 4G = 0), aligned to 1 GiB
    expect(r.out).toContain('100000000-13fffffff : Persistent Memory\n  100000000-13fffffff : namespace0.0\n');
  });

  it('a second boot of the same command line finds the fsdax namespace, its uuid and the data in the file', async () => {
    const file = join(dir, 'nvdimm.img');
    const r1 = await zonedev(qemuArgs(file, undefined, '128M'), "ndctl create-namespace -f -e namespace0.0 -m fsdax\necho 'kept across boots' > /dev/pmem0\n");
    expect(r1.code).toBe(0);
    const created = JSON.parse(r1.out) as { uuid: string; size: number };
    expect(created).toMatchObject({ dev: 'namespace0.0', mode: 'fsdax', map: 'dev' });
    // the info block is in the host file at namespace offset 4 KiB
    const bytes = readFileSync(file);
    expect(bytes.subarray(4096, 4096 + 16).toString('latin1')).toBe('NVDIMM_PFN_INFO\0');
    const r2 = await zonedev(qemuArgs(file, undefined, '128M'), 'ndctl list -N\nhead -c 17 /dev/pmem0\n');
    expect(r2.code).toBe(0);
    expect(r2.out).toContain(`"uuid":"${created.uuid}"`);
    expect(r2.out).toContain('"mode":"fsdax"');
    expect(r2.out).toContain(`"size":${created.size}`);
    expect(r2.out.endsWith('kept across boots')).toBe(true);
  });

  it('label-size=128K: nmem0 with the config commands, the label area at the end of the file, init-labels and read-labels', async () => {
    const file = join(dir, 'labels.img');
    const dev = 'nvdimm,id=nvdimm1,memdev=nv1,label-size=128K';
    // The DIMM's labelled region is active at boot: ndctl refuses to write labels under it.
    const r0 = await zonedev(qemuArgs(file, dev, '16M'), 'ndctl init-labels nmem0\n');
    expect(r0.err).toBe('nmem0: regions active, abort label write\ninitialized 0 nmem\n');
    const r = await zonedev(
      qemuArgs(file, dev, '16M'),
      'cat /sys/bus/nd/devices/nmem0/commands\ncat /sys/bus/nd/devices/nmem0/nfit/dsm_mask\nndctl disable-region region0\nndctl init-labels nmem0\nndctl enable-region region0\nndctl read-labels -j nmem0\n',
    );
    expect(r.code).toBe(0);
    expect(r.out.startsWith('get_size get_data set_data cmd_call \n0x70\n')).toBe(true);
    expect(r.err).toBe('disabled 1 region\ninitialized 1 nmem\nenabled 1 region\nread 1 nmem\n');
    const j = JSON.parse(r.out.slice(r.out.indexOf('['))) as { dev: string; index: unknown[]; label: unknown[] }[];
    expect(j[0]!.dev).toBe('nmem0');
    // ndctl's default v1.1: 128-byte labels, index 0 with seq 3, index 1 with seq 2, 1020 slots
    expect(j[0]!.index).toEqual([
      { signature: 'NAMESPACE_INDEX', major: 1, minor: 1, labelsize: 128, seq: 3, nslot: 1020 },
      { signature: 'NAMESPACE_INDEX', major: 1, minor: 1, labelsize: 128, seq: 2, nslot: 1020 },
    ]);
    // the index blocks are the last 128 KiB of the backend file
    const bytes = readFileSync(file);
    expect(bytes.length).toBe(16 * 2 ** 20);
    expect(bytes.subarray(bytes.length - 128 * 1024, bytes.length - 128 * 1024 + 16).toString('latin1')).toBe('NAMESPACE_INDEX\0');
    // a second init-labels refuses without -f and writes nothing
    const before = readFileSync(file);
    const r2 = await zonedev(qemuArgs(file, dev, '16M'), 'ndctl disable-region region0\nndctl init-labels nmem0\n');
    expect(r2.err).toBe('disabled 1 region\nnmem0: error: labels already initialized\ninitialized 0 nmem\n');
    expect(r2.code).toBe(1);
    expect(readFileSync(file).equals(before)).toBe(true);
  });
});

describe("QEMU's errors for a bad NVDIMM command line, and the file left as it was", () => {
  const cases: [string, string[], string][] = [
    ['nvdimm=on missing', ['-M', 'pc'], "nvdimm is not enabled: missing 'nvdimm' in '-M'"],
    ['an unknown memdev', ['--device', 'nvdimm,id=nvdimm1,memdev=nv2'], "Device 'nv2' not found"],
    ['label-size below 128K', ['--device', 'nvdimm,id=nvdimm1,memdev=nv1,label-size=64K'], "Property 'nvdimm.label-size' (0x10000) is required at least 0x20000"],
    ['no memdev', ['--device', 'nvdimm,id=nvdimm1'], "'memdev' property is not set"],
  ];
  for (const [what, extra, msg] of cases) {
    it(what, async () => {
      const file = join(dir, 'keep.img');
      writeFileSync(file, Buffer.alloc(GiB / 1024, 0x5a));
      const before = readFileSync(file);
      const base = qemuArgs(file, 'nvdimm,id=nvdimm1,memdev=nv1', '1M');
      const argv = [...base.slice(0, -1)];
      for (let i = 0; i < extra.length; i += 2) {
        const k = argv.indexOf(extra[i]!);
        argv[k + 1] = extra[i + 1]!;
      }
      argv.push('-');
      const r = await zonedev(argv, 'true\n');
      expect(r.code).toBe(2);
      expect(r.err).toContain(`${msg}\n`);
      expect(readFileSync(file).equals(before)).toBe(true);
    });
  }

  it("a backend file shorter than size= is QEMU's size mismatch, the file untouched", async () => {
    const file = join(dir, 'short.img');
    writeFileSync(file, Buffer.alloc(4096, 7));
    const r = await zonedev(qemuArgs(file), 'true\n');
    expect(r.code).toBe(1);
    expect(r.err).toBe(`zonedev: qemu: -object memory-backend-file,id=nv1,share=on,mem-path=${file},size=1G: backing store size 0x1000 does not match 'size' option 0x40000000\n`);
    expect(readFileSync(file)).toEqual(Buffer.alloc(4096, 7));
  });

  it('without maxmem there is no device memory for the NVDIMM', async () => {
    const file = join(dir, 'x.img');
    const argv = qemuArgs(file);
    argv[2] = '2G';
    const r = await zonedev(argv, 'true\n');
    expect(r.code).toBe(2);
    expect(r.err).toContain('memory devices (e.g. for memory hotplug) are not enabled, please specify the maxmem option\n');
  });
});

describe('ndctl read-labels / init-labels: bad input', () => {
  it('usage without a DIMM, a bad name, a bad label version, a label-less DIMM; nothing written', async () => {
    const file = join(dir, 'l.img');
    const dev = 'nvdimm,id=nvdimm1,memdev=nv1,label-size=128K';
    const r0 = await zonedev(qemuArgs(file, dev, '16M'), 'true\n');
    expect(r0.code).toBe(0);
    const before = readFileSync(file);
    const r = await zonedev(qemuArgs(file, dev, '16M'), 'ndctl read-labels\necho $?\nndctl init-labels foo nmem0 -V 1.3\necho $?\nndctl read-labels -j -o /nonexistent/labels.json nmem0\nndctl read-labels -j nmem0\n');
    expect(r.out.startsWith('129\n1\n')).toBe(true);
    expect(r.err).toContain('\n usage: ndctl read-labels <nmem0> [<nmem1>..<nmemN>] [-o <filename>]\n');
    expect(r.err).toContain("'foo' is not a valid dimm name\n'1.3' is not a valid label version\ninitialized 0 nmem\n");
    expect(r.err).toContain('failed to open: /nonexistent/labels.json: (No such file or directory)\nread 0 nmem\nread 1 nmem\n');
    // an uninitialised area: index blocks of zeros, one all-zero label naming slot 0
    const j = JSON.parse(r.out.slice(r.out.indexOf('['))) as { index: { signature: string }[]; label: { slot: number; uuid: string }[] }[];
    expect(j[0]!.index.map((i) => i.signature)).toEqual(['', '']);
    expect(j[0]!.label).toEqual([{ uuid: '00000000-0000-0000-0000-000000000000', name: '', slot: 0, position: 0, nlabel: 0, isetcookie: 0, lbasize: 0, dpa: 0, rawsize: 0 }]);
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('a label-less DIMM has no label area to read', async () => {
    const file = join(dir, 'n.img');
    const r = await zonedev(qemuArgs(file), 'ndctl read-labels -j nmem0\necho $?\n');
    expect(r.out).toBe('1\n');
    expect(r.err).toBe('read 0 nmem\n');
  });
});
