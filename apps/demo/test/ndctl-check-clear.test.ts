// ndctl v72 check-namespace and clear-errors through the demo's shell:
// exit statuses are ndctl's (`run_builtin()`: the command's negative errno
// & 0xff, so -EBUSY exits 240, -ENXIO 250, -EOPNOTSUPP 161), messages are
// check.c's and namespace.c's, and clear-errors clears media errors through
// the bus commands ARS_CAP and CLEAR_ERROR on a bus whose firmware has ARS.
import { describe, expect, it } from 'vitest';
import { SZ_4G } from '@zonedev/kernel';
import { SparseBacking } from '@zonedev/mmzone';
import { DEFAULT_MACHINE } from '@zonedev/platform';
import { bootShellMachine as bootMachine, type DemoShellMachine as ZonedevMachine } from '../src/commands/shell-machine.js';
import { machineFs, run } from '../src/shell/shell.js';

const GiB = 2 ** 30;
const ND = '/sys/bus/nd/devices';

function e820(): ZonedevMachine {
  return bootMachine({ ...DEFAULT_MACHINE, ramSize: SZ_4G, maxmem: SZ_4G, cmdline: 'memmap=1G!4G' });
}

/** An e820 machine with a second, NFIT bus at 8 GiB whose firmware has ARS (clear-error unit 256). */
function withArsBus(): ZonedevMachine {
  const m = e820();
  const start = 8 * GiB;
  m.mm.physmem.registerBacking(start, GiB, new SparseBacking(GiB), 'nvdimm');
  m.nvdimm.registerNfit({ spaRanges: [{ start, size: GiB }], dimms: [{ handle: 1, physId: 0, spaRange: 0 }], arsClearErrUnit: 256 });
  return m;
}

describe('ndctl check-namespace', () => {
  it('refuses an online namespace with -EBUSY (exit 240), checks a clean BTT with --force and brings it back', () => {
    const m = e820();
    expect(run('ndctl create-namespace -f -e namespace0.0 -m sector', m).status).toBe(0);
    const busy = run('ndctl check-namespace namespace0.0', m);
    expect(busy.status).toBe(240);
    expect(busy.stderr).toBe(
      'namespace0.0: namespace_check: namespace0.0: check aborted, namespace online\n' +
        'error checking namespaces: Device or resource busy\nchecked 0 namespaces\n',
    );
    const ok = run('ndctl check-namespace -f namespace0.0', m);
    expect(ok).toMatchObject({ status: 0, stdout: '', stderr: 'checked 1 namespace\n' });
    // enabled again: the kernel found the BTT on the namespace (a new btt device)
    expect(machineFs(m).exists('/dev/pmem0s')).toBe(true);
    expect(machineFs(m).read(`${ND}/namespace0.0/force_raw`)).toBe('0\n');
  });

  it('a namespace without a BTT: "Unable to recover any BTT info blocks", -ENXIO exits 250', () => {
    const m = e820();
    const r = run('ndctl check-namespace --force namespace0.0', m);
    expect(r.status).toBe(250);
    expect(r.stderr).toContain(
      'namespace0.0: namespace_check: Unable to recover any BTT info blocks\n' +
        'namespace0.0: namespace_check: This may not be a sector mode namespace\n',
    );
    expect(r.stderr.endsWith('error checking namespaces: No such device or address\nchecked 0 namespaces\n')).toBe(true);
    // the raw namespace was enabled again as it was
    expect(machineFs(m).exists('/dev/pmem0')).toBe(true);
    expect(machineFs(m).read(`${ND}/namespace0.0/force_raw`)).toBe('0\n');
  });

  it('finds a torn primary info block through /dev/pmem0 in raw mode; --repair restores it from the backup', () => {
    const m = e820();
    expect(run('ndctl create-namespace -f -e namespace0.0 -m sector', m).status).toBe(0);
    expect(run('ndctl disable-namespace namespace0.0', m).status).toBe(0);
    // the namespace's raw bytes: corrupt the primary info block's checksum (BTT 1.1 at 4 KiB)
    const fs = machineFs(m);
    expect(fs.write(`${ND}/namespace0.0/force_raw`, '1\n')).toBeUndefined();
    expect(run('ndctl enable-namespace namespace0.0', m).status).toBe(0);
    const sb = fs.pread!('/dev/pmem0', 4096 + 4088, 8);
    sb[0] = 255 - sb[0]!;
    fs.pwrite!('/dev/pmem0', 4096 + 4088, sb);
    expect(run('ndctl disable-namespace namespace0.0', m).status).toBe(0);
    fs.write(`${ND}/namespace0.0/force_raw`, '0\n');
    const r = run('ndctl check-namespace namespace0.0', m);
    expect(r.status).toBe(250);
    expect(r.stderr).toBe(
      'namespace0.0: btt_write_info: BTT info block at offset 0x1000 needs to be restored\n' +
        'namespace0.0: namespace_check: Unable to recover any BTT info blocks\n' +
        'namespace0.0: namespace_check: This may not be a sector mode namespace\n' +
        'error checking namespaces: No such device or address\nchecked 0 namespaces\n',
    );
    const fixed = run('ndctl check-namespace namespace0.0 --repair', m);
    expect(fixed.status).toBe(0);
    expect(fixed.stderr.endsWith('checked 1 namespace\n')).toBe(true);
    expect(run('ndctl check-namespace namespace0.0', m)).toMatchObject({ status: 0, stderr: 'checked 1 namespace\n' });
  });

  it('usage: a namespace is required (129); an unknown namespace is -ENXIO', () => {
    const m = e820();
    const u = run('ndctl check-namespace', m);
    expect(u.status).toBe(129);
    expect(u.stderr.startsWith('  Error: specify a namespace to check, or "all"\n')).toBe(true);
    expect(run('ndctl check-namespace namespace7.0', m)).toMatchObject({ status: 250, stderr: 'error checking namespaces: No such device or address\nchecked 0 namespaces\n' });
    expect(run('ndctl --list-cmds', m).stdout.split('\n')).toEqual(expect.arrayContaining(['check-namespace', 'clear-errors']));
  });
});

describe('ndctl clear-errors', () => {
  it('on a bus without scrub (e820): "Unable to determine scrub state", -EOPNOTSUPP exits 161, nothing changes', () => {
    const m = e820();
    m.nvdimm.addBadrange(SZ_4G + 4096, 512);
    const before = machineFs(m).read(`${ND}/region0/badblocks`);
    const r = run('ndctl clear-errors namespace0.0', m);
    expect(r.status).toBe(161);
    expect(r.stderr).toBe(
      '  Error: namespace0.0: Unable to determine scrub state: Operation not supported\n\n' +
        'error clearing namespaces: Operation not supported\ncleared 0 namespaces\n',
    );
    expect(machineFs(m).read(`${ND}/region0/badblocks`)).toBe(before);
    expect(machineFs(m).exists('/dev/pmem0')).toBe(true);
    expect(run('ndctl clear-errors', m).stderr.startsWith('  Error: specify a namespace to clear errors for, or "all"\n')).toBe(true);
  });

  it('skips a sector-mode namespace (rc 1, exit 1)', () => {
    const m = e820();
    expect(run('ndctl create-namespace -f -e namespace0.0 -m sector', m).status).toBe(0);
    expect(run('ndctl clear-errors namespace0.0', m)).toMatchObject({ status: 1, stderr: 'cleared 0 namespaces\n' });
  });

  it('on a bus with ARS: waits for the scrub, clears the data area\'s badblocks through the bus, prints the namespace', () => {
    const m = withArsBus();
    const fs = machineFs(m);
    expect(fs.read(`${ND}/ndbus1/commands`)).toBe('ars_cap ars_start ars_status clear_error \n');
    // the scrub the bus started at registration: 1 GiB at 256 MiB/s
    expect(fs.read(`${ND}/ndbus1/nfit/scrub`)).toBe('0+\n');
    m.nvdimm.addBadrange(8 * GiB + 8192, 1024);
    expect(fs.read(`${ND}/region1/badblocks`)).toBe('16 2\n');
    expect(run('ndctl list -B -b ndbus1', m).stdout).toContain('"scrub_state":"active"');
    // --scrub: one is running already, so clear-errors waits for it and starts none
    const t0 = m.kernel.clock.now();
    const r = run('ndctl clear-errors namespace1.0 --scrub', m);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('cleared 1 namespace\n');
    expect(JSON.parse(r.stdout)).toMatchObject({ dev: 'namespace1.0', mode: 'raw', size: GiB });
    expect(JSON.parse(r.stdout)).not.toHaveProperty('badblock_count');
    expect(fs.read(`${ND}/region1/badblocks`)).toBe('');
    expect(fs.read(`${ND}/ndbus1/nfit/scrub`)).toBe('1\n');
    expect(m.kernel.clock.now() - t0).toBeLessThan(4e9);
    // now idle: --scrub starts one and waits for all four seconds of it
    const t1 = m.kernel.clock.now();
    expect(run('ndctl clear-errors namespace1.0 -s', m)).toMatchObject({ status: 0, stderr: 'cleared 1 namespace\n' });
    expect(fs.read(`${ND}/ndbus1/nfit/scrub`)).toBe('2\n');
    expect(m.kernel.clock.now() - t1).toBeGreaterThanOrEqual(4e9);
    expect(fs.read('/sys/block/pmem1/badblocks')).toBe('');
    expect(fs.pread!('/dev/pmem1', 8192, 512)).toEqual(new Uint8Array(512));
  });
  it('fsdax: only badblocks wholly inside the pfn data area are cleared; "all" goes on past a bus without scrub', () => {
    const m = withArsBus();
    const fs = machineFs(m);
    expect(run('ndctl create-namespace -f -e namespace1.0 -m fsdax -M dev', m).status).toBe(0);
    // one error in the info block / memmap reserve, one in the data area
    m.nvdimm.addBadrange(8 * GiB + 4096, 512);
    m.nvdimm.addBadrange(8 * GiB + 64 * 2 ** 20, 4096);
    expect(fs.read(`${ND}/region1/badblocks`)).toBe('8 1\n131072 8\n');
    const r = run('ndctl clear-errors all', m);
    // namespace0.0 (e820) cannot tell its scrub state; namespace1.0, processed last, sets the status
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('  Error: namespace0.0: Unable to determine scrub state: Operation not supported\n\ncleared 1 namespace\n');
    expect(JSON.parse(r.stdout)).toMatchObject({ dev: 'namespace1.0', mode: 'fsdax', map: 'dev', blockdev: 'pmem1' });
    expect(fs.read(`${ND}/region1/badblocks`)).toBe('8 1\n');
    expect(run('ndctl list -N -M -r 1', m).stdout).not.toContain('badblock');
  });
});

describe('ndctl start-scrub / wait-scrub', () => {
  it('a bus with ARS: busy while the boot scrub runs, then the count grows; each bus is printed with its scrub state', () => {
    const m = withArsBus();
    const fs = machineFs(m);
    // the boot scrub (4 s) outlasts start-scrub's one poll cycle of retry
    expect(run('ndctl start-scrub ndbus1', m)).toMatchObject({ status: 240, stdout: '', stderr: 'error starting scrub: Device or resource busy\n' });
    const idle = '[\n  {\n    "provider":"ACPI.NFIT",\n    "dev":"ndbus1",\n    "scrub_state":"idle"\n  }\n]\n';
    const active = idle.replace('idle', 'active');
    expect(run('ndctl wait-scrub ACPI.NFIT -p 1', m)).toMatchObject({ status: 0, stdout: idle, stderr: '' });
    expect(fs.read(`${ND}/ndbus1/nfit/scrub`)).toBe('1\n');
    expect(run('ndctl start-scrub ndbus1', m)).toMatchObject({ status: 0, stdout: active, stderr: '' });
    expect(run('cat /sys/bus/nd/devices/ndbus1/nfit/scrub', m).stdout).toBe('1+\n');
    expect(run('ndctl wait-scrub', m)).toMatchObject({ status: 0, stdout: idle });
    expect(fs.read(`${ND}/ndbus1/nfit/scrub`)).toBe('2\n');
    // all buses: the e820 bus has no scrub, but one bus started
    expect(run('ndctl start-scrub', m)).toMatchObject({ status: 0, stdout: active });
    expect(run('echo 1 > /sys/bus/nd/devices/ndbus1/nfit/scrub', m).status).toBe(1);
  });

  it('a bus without scrub: the open fails (-ENOENT exits 254); no such bus is -ENXIO; --poll wants a number', () => {
    const m = e820();
    expect(run('ndctl start-scrub', m)).toMatchObject({ status: 254, stdout: '', stderr: 'error starting scrub: No such file or directory\n' });
    expect(run('ndctl wait-scrub ndbus0', m)).toMatchObject({ status: 254, stderr: 'error waiting for scrub completion: No such file or directory\n' });
    expect(run('ndctl wait-scrub ndbus9', m)).toMatchObject({ status: 250, stderr: 'error waiting for scrub completion: No such device or address\n' });
    const p = run('ndctl wait-scrub --poll=x', m);
    expect(p.status).toBe(129);
    expect(p.stderr.startsWith("  Error: option `poll' expects a numerical value\n")).toBe(true);
  });
});
