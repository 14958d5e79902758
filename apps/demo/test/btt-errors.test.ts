// A port of ndctl's test/btt-errors.sh (v72) to the demo's shell: a media
// error under a BTT data block makes a read of that sector fail with EIO
// and a full-sector write of it succeed (the write lands in a free block),
// after which the sector reads again; a media error under the BTT map makes
// the first read of the disk fail.
//
// Departures from the script, because the demo has neither nfit_test nor
// file systems: the namespace is a label-less one (BTT 1.1, its info block
// at 4 KiB, so the script's offsets are read from that block rather than
// assumed at 0); ext4, mount and filefrag give way to a 4 KiB write at a
// chosen sector of /dev/pmemNs; and the media error is reported by the
// platform (`nvdimm_bus_add_badrange()`, what the NFIT's ARS finds) rather
// than injected with `ndctl inject-error`, which no demo bus supports. The
// bus's firmware has ARS, so `ndctl start-scrub` and `wait-scrub` run as in
// the script.
import { describe, expect, it } from 'vitest';
import { SZ_4G } from '@zonedev/kernel';
import { SparseBacking } from '@zonedev/mmzone';
import { DEFAULT_MACHINE } from '@zonedev/platform';
import { bootShellMachine as bootMachine, type DemoShellMachine as ZonedevMachine } from '../src/commands/shell-machine.js';
import { machineFs, run } from '../src/shell/shell.js';

const GiB = 2 ** 30;
const SPA = 8 * GiB;
const ND = '/sys/bus/nd/devices';
const DEV = 'namespace1.0';
const BTT_INFO = 4096;

function machine(): ZonedevMachine {
  const m = bootMachine({ ...DEFAULT_MACHINE, ramSize: SZ_4G, maxmem: SZ_4G, cmdline: 'memmap=1G!4G' });
  m.mm.physmem.registerBacking(SPA, GiB, new SparseBacking(GiB), 'nvdimm');
  m.nvdimm.registerNfit({ spaRanges: [{ start: SPA, size: GiB }], dimms: [{ handle: 1, physId: 0, spaRange: 0 }], arsClearErrUnit: 256 });
  return m;
}

function ok(m: ZonedevMachine, cmd: string): string {
  const r = run(cmd, m);
  expect(r.status, `${cmd}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

/** The script's force_raw(): disable, write force_raw, enable; the raw disk is there with 1. */
function forceRaw(m: ZonedevMachine, raw: 0 | 1): void {
  ok(m, `ndctl disable-namespace ${DEV}`);
  ok(m, `echo ${raw} > ${ND}/${DEV}/force_raw`);
  ok(m, `ndctl enable-namespace ${DEV}`);
  expect(machineFs(m).exists('/dev/pmem1')).toBe(raw === 1);
  expect(machineFs(m).exists('/dev/pmem1s')).toBe(raw === 0);
}

/** A little-endian field of the raw namespace (what the script reads with hexdump). */
function le(m: ZonedevMachine, offset: number, bytes: 4 | 8): number {
  const b = machineFs(m).pread!('/dev/pmem1', offset, bytes);
  let v = 0;
  for (let i = bytes - 1; i >= 0; i--) v = v * 256 + b[i]!;
  return v;
}

function nsStart(m: ZonedevMachine): number {
  return Number.parseInt(machineFs(m).read(`${ND}/${DEV}/resource`), 16);
}

function setup(m: ZonedevMachine): void {
  ok(m, `ndctl create-namespace -f -e ${DEV} -m sector`);
  // clear whatever the raw disk lists as bad, as the script does
  forceRaw(m, 1);
  expect(machineFs(m).read('/sys/block/pmem1/badblocks')).toBe('');
  forceRaw(m, 0);
}

describe('btt-errors.sh', () => {
  it('an error in a data block: the read fails, a write over it succeeds, the read works again', () => {
    const m = machine();
    setup(m);
    const lba = 10;
    ok(m, `dd if=/dev/urandom of=/dev/pmem1s bs=4096 seek=${lba} count=1`);
    forceRaw(m, 1);
    // btt_sb: mapoff at 96, dataoff at 88, relative to the arena (its info block)
    const map = le(m, BTT_INFO + 96, 8);
    const dataoffArena = le(m, BTT_INFO + 88, 8);
    const mapEnt = le(m, BTT_INFO + map + 4 * lba, 4) % 2 ** 30;
    const dataoff = BTT_INFO + dataoffArena + mapEnt * 4096;
    const bbInj = dataoff / 512;
    m.nvdimm.addBadrange(nsStart(m) + bbInj * 512, 8 * 512);
    ok(m, 'ndctl start-scrub ndbus1');
    ok(m, 'ndctl wait-scrub ndbus1');
    forceRaw(m, 0);
    // The following 'dd' is expected to hit an I/O Error
    const bad = run(`dd if=/dev/pmem1s of=/dev/null bs=4096 skip=${lba} count=1`, m);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('Input/output error');
    ok(m, `dd if=/dev/zero of=/dev/pmem1s bs=4096 seek=${lba} count=1`);
    ok(m, `dd if=/dev/pmem1s of=/dev/null bs=4096 skip=${lba} count=1`);
    expect(machineFs(m).pread!('/dev/pmem1s', lba * 4096, 4096)).toEqual(new Uint8Array(4096));
    // the neighbours were never touched
    ok(m, `dd if=/dev/pmem1s of=/dev/null bs=4096 skip=${lba + 1} count=1`);
  });

  it('an error in the map: the first read of the disk fails', () => {
    const m = machine();
    setup(m);
    forceRaw(m, 1);
    const map = BTT_INFO + le(m, BTT_INFO + 96, 8);
    const bbInj = map / 512;
    m.nvdimm.addBadrange(nsStart(m) + bbInj * 512, 512);
    ok(m, 'ndctl start-scrub ndbus1');
    ok(m, 'ndctl wait-scrub ndbus1');
    forceRaw(m, 0);
    // The following 'dd' is expected to hit an I/O Error
    const bad = run('dd if=/dev/pmem1s of=/dev/null bs=4096 count=1', m);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('Input/output error');
  });
});
