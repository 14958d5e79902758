// ndctl v72 on the e820 (memmap=nn!ss) machine: list, create-namespace and the
// namespace/region commands, with ndctl's JSON and messages; ports of ndctl's
// test/create.sh, test/align.sh and test/sub-section.sh where they apply to a
// label-less region; and every command tried with bad input, leaving sysfs,
// /proc/iomem and the pmem's bytes as they were.
import { describe, expect, it } from 'vitest';
import { SZ_1G, SZ_4G } from '@zonedev/kernel';
import { bootShellMachine as bootMachine, type DemoShellMachine as ZonedevMachine } from '../src/commands/shell-machine.js';
import { DEFAULT_MACHINE } from '@zonedev/platform';
import { machineFs, run } from '../src/shell/shell.js';
import { displaySize, JsonObject, JsonSize, toJsonString } from '../src/tools/ndctl-json.js';
import { parseSize64 } from '../src/tools/ndctl-json.js';

/** 4 GiB of RAM: 3 GiB below the PCI hole, and the GiB at 4 GiB made legacy pmem. */
function e820(cmdline = 'memmap=1G!4G', ramSize = SZ_4G): ZonedevMachine {
  return bootMachine({ ...DEFAULT_MACHINE, ramSize, maxmem: ramSize, cmdline });
}

/** Every attribute of every nd device (value or errno), which devices are bound, /proc/iomem and /dev. */
function snapshot(m: ZonedevMachine): string {
  const fs = machineFs(m);
  const lines: string[] = [];
  const root = '/sys/bus/nd/devices';
  for (const dev of fs.list(root)) {
    for (const attr of fs.list(`${root}/${dev}`)) {
      const p = `${root}/${dev}/${attr}`;
      if (fs.isDir(p)) {
        lines.push(`${dev}/${attr}/`);
        continue;
      }
      try {
        lines.push(`${dev}/${attr}=${JSON.stringify(fs.read(p))}`);
      } catch (e) {
        lines.push(`${dev}/${attr}!${(e as Error).message}`);
      }
    }
  }
  lines.push(fs.read('/proc/iomem'), fs.list('/dev').join(' '));
  if (fs.exists('/dev/pmem0')) lines.push(Buffer.from(fs.pread!('/dev/pmem0', 0, 8192)).toString('hex'));
  return lines.join('\n');
}

const IDLE_NS = `[
  {
    "dev":"namespace0.0",
    "mode":"fsdax",
    "map":"mem",
    "size":1073741824,
    "sector_size":512,
    "blockdev":"pmem0"
  }
]
`;

describe('ndctl JSON (util/json.c, json-c pretty printing)', () => {
  it('prints display_size() as ndctl does: plain below 5000 KiB, centi-MiB below 2 GiB, centi-GiB above', () => {
    expect(displaySize(1585444888576)).toBe('"1476.56 GiB (1585.44 GB)"');
    expect(displaySize(16909336576)).toBe('"15.75 GiB (16.91 GB)"');
    expect(displaySize(65011712)).toBe('"62.00 MiB (65.01 MB)"');
    expect(displaySize(1073741824)).toBe('"1024.00 MiB (1073.74 MB)"');
    expect(displaySize(5000 * 1024 - 1)).toBe('5119999');
    expect(displaySize(5000 * 1024)).toBe('"4.88 MiB (5.12 MB)"');
  });

  it('keeps keys in insertion order, replaces a re-added key in place, escapes as json-c does', () => {
    const j = new JsonObject().add('dev', 'a/b').add('size', new JsonSize(1, true)).add('dev', 'x"y');
    expect(toJsonString([j, []])).toBe('[\n  {\n    "dev":"x\\"y",\n    "size":1\n  },\n  [\n  ]\n]');
  });

  it('parses sizes as util/size.c does: strtoull base 0 and one binary suffix', () => {
    expect(parseSize64('16M')).toEqual({ value: 16 * 2 ** 20, units: 2 ** 20 });
    expect(parseSize64('0x1000')).toEqual({ value: 4096, units: 1 });
    expect(parseSize64('1500G')?.value).toBe(1500 * SZ_1G);
    expect(parseSize64('010')?.value).toBe(8);
    expect(parseSize64('')?.value).toBe(0);
    for (const bad of ['16MB', '1.5G', 'x', '-1', '2P']) expect(parseSize64(bad)).toBeUndefined();
  });
});

describe('ndctl list on an e820 machine (memmap=1G!4G)', () => {
  it('shows the namespace the pmem driver bound at boot: fsdax, map mem, the whole region, no uuid', () => {
    const m = e820();
    expect(run('ndctl list', m)).toMatchObject({ status: 0, stdout: IDLE_NS, stderr: '' });
    expect(run('ndctl list -n namespace0.0 -m fsdax', m).stdout).toBe(IDLE_NS);
    expect(run('ndctl list -n 0.0', m).stdout).toBe(IDLE_NS);
    expect(run('ndctl list -m raw', m).stdout).toBe('');
    expect(run('ndctl list -r 1', m).stdout).toBe('');
  });

  it('nests bus, regions and namespaces (-BRN), and with -u prints one object alone, in human units', () => {
    const m = e820();
    expect(run('ndctl list -BRNu', m).stdout).toBe(`{
  "provider":"e820",
  "dev":"ndbus0",
  "regions":[
    {
      "dev":"region0",
      "size":"1024.00 MiB (1073.74 MB)",
      "align":"16.00 MiB (16.78 MB)",
      "available_size":0,
      "max_available_extent":0,
      "type":"pmem",
      "persistence_domain":"unknown",
      "namespaces":[
        {
          "dev":"namespace0.0",
          "mode":"fsdax",
          "map":"mem",
          "size":"1024.00 MiB (1073.74 MB)",
          "sector_size":512,
          "blockdev":"pmem0"
        }
      ]
    }
  ]
}
`);
    // Regions and namespaces without a bus: one platform object.
    const rn = run('ndctl list -RN', m).stdout;
    expect(rn.startsWith('{\n  "regions":[\n    {\n      "dev":"region0",')).toBe(true);
    expect(run('ndctl list -B', m).stdout).toBe('[\n  {\n    "provider":"e820",\n    "dev":"ndbus0"\n  }\n]\n');
    // -v adds numa_node/target_node.
    expect(run('ndctl list -v', m).stdout).toContain('"blockdev":"pmem0",\n    "numa_node":0,\n    "target_node":0\n');
  });

  it('hides disabled namespaces unless -i, and marks them disabled', () => {
    const m = e820();
    expect(run('ndctl disable-namespace namespace0.0', m)).toMatchObject({ status: 0, stderr: 'disabled 1 namespace\n' });
    expect(run('ndctl list', m).stdout).toBe('');
    expect(run('ndctl list -i', m).stdout).toBe(IDLE_NS.replace('"blockdev":"pmem0"', '"state":"disabled"'));
    expect(run('ndctl enable-namespace all', m)).toMatchObject({ status: 0, stderr: 'enabled 1 namespace\n' });
    expect(run('ndctl list', m).stdout).toBe(IDLE_NS);
  });
});

describe('ndctl create-namespace on a label-less region (ndctl v72 namespace.c)', () => {
  it('cannot create a new namespace in an IO region: there is no namespace seed', () => {
    const m = e820();
    const before = snapshot(m);
    const r = run('ndctl create-namespace', m);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('  Error: create namespace: region0: failed to get seed\n\n');
    expect(r.status).toBe(250);
    expect(snapshot(m)).toBe(before);
  });

  it('reconfigures namespace0.0 to fsdax with the memmap in the device: ndctl\'s sysfs writes, the info block, the JSON', () => {
    const m = e820();
    const r = run('ndctl create-namespace -f -e namespace0.0 -m fsdax -M dev', m);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(j)).toEqual(['dev', 'mode', 'map', 'size', 'uuid', 'sector_size', 'align', 'blockdev']);
    // 1 GiB at 4 GiB, 2 MiB (memremap_compat_align) alignment: 8 KiB + 64 * 262142 bytes rounds up to 18 MiB.
    expect(j).toMatchObject({ dev: 'namespace0.0', mode: 'fsdax', map: 'dev', size: 1054867456, sector_size: 512, align: 4096, blockdev: 'pmem0' });
    expect(j['uuid']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const sh = (c: string): string => run(c, m).stdout;
    expect(sh('cat /sys/bus/nd/devices/namespace0.0/holder')).toBe('pfn0.0\n');
    expect(sh('cat /sys/bus/nd/devices/namespace0.0/holder_class')).toBe('pfn\n');
    expect(sh('cat /sys/bus/nd/devices/pfn0.0/mode')).toBe('pmem\n');
    expect(sh('cat /sys/bus/nd/devices/pfn0.0/uuid')).toBe(`${String(j['uuid'])}\n`);
    expect(sh('cat /sys/bus/nd/devices/pfn0.0/resource')).toBe('0x101200000\n');
    expect(sh('cat /sys/bus/nd/devices/region0/pfn_seed')).toBe('pfn0.1\n');
    // The same answer from ndctl list, in human units: 1006 MiB.
    expect(sh('ndctl list -u')).toContain('"size":"1006.00 MiB (1054.87 MB)"');
    // /dev/pmem0 is the data area.
    expect(machineFs(m).deviceSize!('/dev/pmem0')).toBe(1054867456);
  });

  it('test/create.sh, on e820: raw -> fsdax -> raw -> fsdax, each reconfiguration checked by ndctl list', () => {
    const m = e820();
    const mode = (): { mode: unknown; map: unknown; size: unknown } => {
      const j = (JSON.parse(run('ndctl list', m).stdout) as Record<string, unknown>[])[0]!;
      return { mode: j['mode'], map: j['map'], size: j['size'] };
    };
    // -m raw on an e820 region: the raw namespace has struct pages (ND_REGION_PAGEMAP), so it reads "memory".
    expect(run('ndctl create-namespace -f -e namespace0.0 -m raw', m).status).toBe(0);
    expect(mode()).toEqual({ mode: 'fsdax', map: 'mem', size: 1073741824 });
    expect(run('ndctl create-namespace -f -e namespace0.0 -m fsdax', m).status).toBe(0);
    expect(mode()).toEqual({ mode: 'fsdax', map: 'dev', size: 1054867456 });
    expect(run('ndctl create-namespace -f -e namespace0.0 -m raw', m).status).toBe(0);
    expect(mode()).toEqual({ mode: 'fsdax', map: 'mem', size: 1073741824 });
    expect(run('ndctl create-namespace -f -e namespace0.0 -m fsdax -M mem', m).status).toBe(0);
    // fsdax with the memmap in RAM needs no pfn device on e820: it is the raw namespace again.
    expect(mode()).toEqual({ mode: 'fsdax', map: 'mem', size: 1073741824 });
    expect(run('cat /sys/bus/nd/devices/namespace0.0/holder', m).stdout).toBe('\n');
    expect(run('ndctl create-namespace -f -e namespace0.0', m).status).toBe(0);
    expect(mode()).toEqual({ mode: 'fsdax', map: 'dev', size: 1054867456 });
    expect(run('ndctl destroy-namespace -f namespace0.0', m)).toMatchObject({ status: 0, stderr: 'destroyed 1 namespace\n' });
    // destroy zeroes the info block and leaves the namespace disabled; it can be enabled again, raw.
    expect(run('ndctl list', m).stdout).toBe('');
    expect(run('ndctl enable-namespace namespace0.0', m).stderr).toBe('enabled 1 namespace\n');
    expect(mode()).toEqual({ mode: 'fsdax', map: 'mem', size: 1073741824 });
    // Nothing left to zero: destroyed 0 namespaces.
    expect(run('ndctl destroy-namespace -f all', m)).toMatchObject({ status: 0, stderr: 'destroyed 0 namespaces\n' });
  });

  it('keeps the data where the info block is not: only the first 8 KiB are zeroed', () => {
    const m = e820();
    const fs = machineFs(m);
    fs.pwrite!('/dev/pmem0', 0, new TextEncoder().encode('first page'));
    fs.pwrite!('/dev/pmem0', 64 * 2 ** 20, new TextEncoder().encode('at 64 MiB'));
    expect(run('ndctl create-namespace -f -e namespace0.0 -m fsdax', m).status).toBe(0);
    // The data area now starts 18 MiB in: what was at 64 MiB of the raw disk is at 46 MiB of the fsdax disk.
    expect(new TextDecoder().decode(fs.pread!('/dev/pmem0', 46 * 2 ** 20, 9))).toBe('at 64 MiB');
    expect(run('ndctl create-namespace -f -e namespace0.0 -m raw', m).status).toBe(0);
    expect(Array.from(fs.pread!('/dev/pmem0', 0, 8192)).every((b) => b === 0)).toBe(true);
    expect(new TextDecoder().decode(fs.pread!('/dev/pmem0', 64 * 2 ** 20, 9))).toBe('at 64 MiB');
  });

  it('test/align.sh, on e820: -a 4K, 2M and 1G where the region can satisfy them, and a 1G align it cannot', () => {
    // A 2 GiB region can take a 1 GiB alignment: the memmap and info block round up to 1 GiB, 1 GiB is left.
    const big = e820('memmap=2G!4G', 7 * SZ_1G);
    expect(run('cat /sys/bus/nd/devices/region0/size', big).stdout).toBe('2147483648\n');
    const rb = run('ndctl create-namespace -f -e namespace0.0 -m fsdax -a 1G', big);
    expect(rb.stderr).toBe('');
    expect(JSON.parse(rb.stdout)).toMatchObject({ size: SZ_1G, align: SZ_1G });
    const m = e820();
    const sizeWith = (align: string): unknown => {
      const r = run(`ndctl create-namespace -f -e namespace0.0 -m fsdax -a ${align}`, m);
      expect(r.stderr).toBe('');
      const j = JSON.parse(r.stdout) as Record<string, unknown>;
      return [j['size'], j['align']];
    };
    expect(sizeWith('4K')).toEqual([1054867456, 4096]);
    expect(sizeWith('2M')).toEqual([1054867456, 2097152]);
    expect(run('cat /sys/bus/nd/devices/pfn0.1/supported_alignments', m).stdout).toBe('4096 2097152 1073741824 \n');
    // A 1 GiB alignment leaves no room in a 1 GiB namespace: nd_pfn_init() fails, the pfn device does not bind.
    const r = run('ndctl create-namespace -f -e namespace0.0 -m fsdax -a 1G', m);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^libndctl: ndctl_pfn_enable: pfn0\.\d: failed to enable\n {2}Error: namespace0\.0: failed to enable\n\nfailed to reconfigure namespace: No such device or address\n$/,
    );
    expect(r.status).toBe(250);
    // --autorecover (the default) detached the pfn device again; the namespace is left disabled, as ndctl leaves it.
    expect(run('cat /sys/bus/nd/devices/namespace0.0/holder', m).stdout).toBe('\n');
    expect(run('ndctl list -i', m).stdout).toContain('"state":"disabled"');
    expect(run('ndctl enable-namespace namespace0.0', m).stderr).toBe('enabled 1 namespace\n');
  });

  it('test/sub-section.sh, on e820: ten 16 MiB namespaces in one 128 MiB section and the next, each fsdax, then disabled, enabled, destroyed', () => {
    const base = SZ_4G;
    const cmdline = Array.from({ length: 10 }, (_, i) => `memmap=16M!0x${(base + i * 16 * 2 ** 20).toString(16)}`).join(' ');
    const m = e820(cmdline);
    const names = Array.from({ length: 10 }, (_, i) => `namespace${i}.0`);
    for (const ns of names) {
      const r = run(`ndctl create-namespace -f -e ${ns} -m fsdax`, m);
      expect(r.stderr).toBe('');
      // 16 MiB - 8 KiB of pfns need 262016 bytes of memmap: with the info block, 2 MiB (one subsection) of the 16.
      expect(JSON.parse(r.stdout)).toMatchObject({ dev: ns, mode: 'fsdax', map: 'dev', size: 14 * 2 ** 20 });
    }
    expect((JSON.parse(run('ndctl list', m).stdout) as unknown[]).length).toBe(10);
    for (const ns of names) {
      expect(run(`ndctl disable-namespace ${ns}`, m).stderr).toBe('disabled 1 namespace\n');
      expect(run(`ndctl enable-namespace ${ns}`, m).stderr).toBe('enabled 1 namespace\n');
      expect(run(`ndctl destroy-namespace ${ns} --force`, m).stderr).toBe('destroyed 1 namespace\n');
    }
    expect(run('ndctl list', m).stdout).toBe('');
  });
});

describe('test/pfn-meta-errors.sh, on e820: the struct page area and the info block seen through force_raw', () => {
  /** The namespace reconfigured to fsdax map=dev, then re-enabled raw (force_raw=1) as the test does. */
  function raw(): { m: ZonedevMachine; uuid: string } {
    const m = e820();
    const uuid = (JSON.parse(run('ndctl create-namespace -f -e namespace0.0 -m fsdax -M dev', m).stdout) as { uuid: string }).uuid;
    const r = run('ndctl disable-namespace namespace0.0\necho 1 > /sys/bus/nd/devices/namespace0.0/force_raw\nndctl enable-namespace namespace0.0', m);
    expect(r.stderr).toBe('disabled 1 namespace\nenabled 1 namespace\n');
    return { m, uuid };
  }

  it('scribbling over the memmap area between 8 KiB and dataoff does not stop the pfn device from coming back', () => {
    const { m, uuid } = raw();
    const fs = machineFs(m);
    // The raw disk is the whole namespace; the info block is at 4 KiB, its dataoff (le64) at 4096 + 56.
    expect(fs.deviceSize!('/dev/pmem0')).toBe(SZ_1G);
    const sb = fs.pread!('/dev/pmem0', 4096, 4096);
    expect(new TextDecoder().decode(sb.subarray(0, 15))).toBe('NVDIMM_PFN_INFO');
    const dataoff = Number(new DataView(sb.buffer, sb.byteOffset).getBigUint64(56, true));
    expect(dataoff).toBe(18 * 2 ** 20);
    expect(run('dd if=/dev/urandom of=/dev/pmem0 bs=4096 seek=2 count=32 conv=notrunc', m).status).toBe(0);
    const r = run('ndctl disable-namespace namespace0.0\necho 0 > /sys/bus/nd/devices/namespace0.0/force_raw\nndctl enable-namespace namespace0.0', m);
    expect(r.stderr).toBe('disabled 1 namespace\nenabled 1 namespace\n');
    expect((JSON.parse(run('ndctl list', m).stdout) as unknown[])[0]).toMatchObject({ mode: 'fsdax', map: 'dev', uuid, size: 1054867456 });
  });

  it('a torn info block (bad checksum) is no info block: the namespace comes back raw, its struct pages in RAM', () => {
    const { m } = raw();
    const fs = machineFs(m);
    const b = fs.pread!('/dev/pmem0', 4096 + 100, 1);
    fs.pwrite!('/dev/pmem0', 4096 + 100, new Uint8Array([(b[0]! + 1) % 256]));
    run('ndctl disable-namespace namespace0.0\necho 0 > /sys/bus/nd/devices/namespace0.0/force_raw\nndctl enable-namespace namespace0.0', m);
    expect((JSON.parse(run('ndctl list', m).stdout) as unknown[])[0]).toMatchObject({ mode: 'fsdax', map: 'mem', size: SZ_1G });
  });
});

describe('ndctl regions', () => {
  it('disables a region with its namespaces and enables it again', () => {
    const m = e820();
    expect(run('ndctl disable-region region0', m)).toMatchObject({ status: 0, stderr: 'disabled 1 region\n' });
    expect(run('ndctl list -Ri', m).stdout).toContain('"state":"disabled"');
    expect(run('ls /dev', m).stdout).not.toContain('pmem0');
    // Disabling a disabled region succeeds (ndctl_region_disable() has nothing to do).
    expect(run('ndctl disable-region all', m).stderr).toBe('disabled 1 region\n');
    expect(run('ndctl enable-region 0', m)).toMatchObject({ status: 0, stderr: 'enabled 1 region\n' });
    expect(run('ndctl list', m).stdout).toBe(IDLE_NS);
  });
});

describe('every ndctl command with bad input: ndctl\'s message, its status, nothing changed', () => {
  const cases: readonly [string, string, number][] = [
    ['ndctl list -Z', "  Error: unknown switch `Z'\n", 129],
    ['ndctl list --bu', '  Error: Ambiguous option: bu (could be --bus or --buses)\n', 129],
    ['ndctl list --human=1', "  Error: option `human' takes no value\n", 129],
    ['ndctl list extra', '  Error: unknown parameter "extra"\n\n', 129],
    ['ndctl list -t nvme', '  Error: unknown type "nvme" must be "pmem" or "blk"\n\n', 234],
    ['ndctl list -m fast', "  Error: invalid mode: 'fast'\n\n", 234],
    ['ndctl list -U one', "  Error: invalid numa_node: 'one'\n\n", 234],
    ['ndctl list -r', "  Error: switch `r' requires a value\n", 129],
    ['ndctl create-namespace -m fast', "  Error: invalid mode 'fast'\n\n", 129],
    ['ndctl create-namespace -M disk', "  Error: invalid map location 'disk'\n\n", 129],
    ['ndctl create-namespace -m raw -M dev', '  Error: --map only valid for an devdax mode pmem namespace\n\n', 129],
    ['ndctl create-namespace -s 12X', "  Error: failed to parse namespace size '12X'\n\n", 129],
    ['ndctl create-namespace -a 3K', '  Error: align must be a power-of-2 greater than 4096\n\n', 129],
    ['ndctl create-namespace -u not-a-uuid', "  Error: failed to parse uuid: 'not-a-uuid'\n\n", 129],
    ['ndctl create-namespace -t nvme', "  Error: invalid type 'nvme', must be either 'pmem' or 'blk'\n\n", 129],
    ['ndctl create-namespace -e namespace9.0 -f', 'failed to reconfigure namespace: No such device or address\n', 250],
    ['ndctl create-namespace -e namespace0.0 -m fsdax', '  Error: namespace0.0 is active, specify --force for re-configuration\n\nfailed to reconfigure namespace: Device or resource busy\n', 240],
    [
      'ndctl create-namespace -f -e namespace0.0 -s 16M',
      '  Error: Legacy / label-less namespaces do not support sub-dividing a region\n\n  Error: Retry without -s/--size=\n\nfailed to reconfigure namespace: Invalid argument\n',
      234,
    ],
    ['ndctl create-namespace -f -e namespace0.0 -a 8M', '  Error: unsupported align: 8M\n\nfailed to reconfigure namespace: No such device or address\n', 250],
    ['ndctl create-namespace -f -e namespace0.0 -m raw -a 2M', '  Error: raw mode does not support setting an alignment\n\nfailed to reconfigure namespace: No such device or address\n', 250],
    ['ndctl create-namespace -f -e namespace0.0 -m raw -M dev', '  Error: create namespace: namespace0.0: --map= only valid for fsdax mode namespace\n\n', 234],
    ['ndctl create-namespace -f -e namespace0.0 -m sector -l 1000', '  Error: create namespace: region0: does not support btt sector_size 1000\n\n', 234],
    ['ndctl create-namespace -r region7', 'failed to create namespace: No such device or address\n', 237],
    ['ndctl destroy-namespace', '  Error: specify a namespace to destroy, or "all"\n\n', 129],
    ['ndctl destroy-namespace namespace0.0 namespace1.0', '  Error: unknown extra parameter "namespace1.0"\n\n', 129],
    ['ndctl destroy-namespace namespace0.0', '  Error: namespace0.0 is active, specify --force for re-configuration\n\nerror destroying namespaces: Device or resource busy\ndestroyed 0 namespaces\n', 240],
    ['ndctl destroy-namespace namespace7.0', 'error destroying namespaces: No such device or address\ndestroyed 0 namespaces\n', 250],
    ['ndctl disable-namespace', '  Error: specify a namespace to disable, or "all"\n\n', 129],
    ['ndctl enable-namespace -x all', "  Error: unknown switch `x'\n", 129],
    ['ndctl enable-namespace namespace7.0', 'error enabling namespaces: No such device or address\nenabled 0 namespaces\n', 250],
    ['ndctl disable-region', '  Error: specify a specific region id to act on, or "all"\n\n', 129],
    ['ndctl enable-region region0 region1', '  Error: unknown extra parameter "region1"\n\n', 129],
    ['ndctl disable-region -t nvme all', "  Error: unknown region type 'nvme', should be 'pmem' or 'blk'\n\n", 129],
    ['ndctl disable-region region5', 'disabled 0 regions\n', 0],
    ['ndctl frobnicate', "Unknown command: 'frobnicate'\n", 1],
  ];
  it.each(cases)('%s', (cmd, stderrStart, status) => {
    const m = e820();
    const before = snapshot(m);
    const r = run(cmd, m);
    expect(r.stderr.startsWith(stderrStart), r.stderr).toBe(true);
    expect(r.status).toBe(status);
    expect(r.stdout).toBe('');
    expect(snapshot(m)).toBe(before);
  });

  it('prints the usage after an unknown option, as parse-options does', () => {
    const r = run('ndctl destroy-namespace --frob', e820());
    expect(r.stderr).toBe(`  Error: unknown option \`frob'

 usage: ndctl destroy-namespace <namespace> [<options>]

    -b, --bus <bus-id>    limit namespace to a bus with an id or provider of <bus-id>
    -r, --region <region-id>
                          limit namespace to a region with an id or name of <region-id>
    -v, --verbose         emit extra debug messages to stderr
    -f, --force           destroy namespace even if currently active

`);
  });

  it('refuses a namespace size that is not a multiple of the region alignment (memmap=24M!4G)', () => {
    const m = e820('memmap=24M!4G');
    const before = snapshot(m);
    const r = run('ndctl create-namespace -f -e namespace0.0', m);
    expect(r.stderr).toBe('  Error: create namespace: region0: align setting is 0x1000000 size 0x1800000 is misaligned\n\n');
    expect(r.status).toBe(234);
    expect(snapshot(m)).toBe(before);
  });

  it('answers --version with 72', () => {
    expect(run('ndctl --version', e820()).stdout).toBe('72\n');
  });
});
