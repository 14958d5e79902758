// A port of ndctl's test/btt-pad-compat.sh (v72) to the demo's shell: the
// script's functions run as written (verify_idx reads
// /sys/kernel/debug/btt/$bttdev/arena0/log_index_{0,1}), on a v5.13 BTT
// (log slots 0 and 1), then on a BTT whose log is in the pre-4.15 format
// (slots 0 and 2), which the kernel keeps using across I/O and cycles until
// `ndctl check-namespace --rewrite-log --repair --force` rewrites the log
// and the kernel deduces (0,1) again.
//
// Departures from the script, because the demo has neither nfit_test nor
// xxd, /proc/mounts, background jobs or `[[`: the namespace is the label-less
// legacy one (BTT 1.1, info block at 4 KiB); the old-format log is made
// with dd on the raw disk instead of copying a pre-generated image — the
// lane that did the I/O gets its second entry moved from 16-byte slot 1 to
// slot 2, which is where a pre-4.15 kernel, with its 32-byte log entries,
// put it (the log's offset comes from debugfs); the eight dd's of
// do_random_io run one after another; debugfs needs no mount.
import { describe, expect, it } from 'vitest';
import { SZ_4G } from '@zonedev/kernel';
import { DEFAULT_MACHINE } from '@zonedev/platform';
import { bootShellMachine as bootMachine, type DemoShellMachine } from '../src/commands/shell-machine.js';
import { Shell, machineFs } from '../src/shell/shell.js';

const FUNCTIONS = `
dev=namespace0.0
blockdev=pmem0s
verify_idx()
{
	idx0="$1"
	idx1="$2"
	test $(cat /sys/kernel/debug/btt/$bttdev/arena0/log_index_0) -eq "$idx0"
	test $(cat /sys/kernel/debug/btt/$bttdev/arena0/log_index_1) -eq "$idx1"
}
do_random_io()
{
	local bdev="$1"
	for seek in 0 32 64 128 256 512 1024 2048; do
		dd if=/dev/urandom of="$bdev" bs=4096 count=32 seek=$seek 2>/dev/null
	done
}
cycle_ns()
{
	local ns="$1"
	ndctl disable-namespace $ns
	ndctl enable-namespace $ns
	bttdev=$(cat /sys/bus/nd/devices/$ns/holder)
}
force_raw()
{
	raw="$1"
	ndctl disable-namespace "$dev"
	echo "$raw" > "/sys/bus/nd/devices/$dev/force_raw"
	ndctl enable-namespace "$dev"
	echo "Set $dev to raw mode: $raw"
	if [ "$raw" = "1" ]; then
		raw_bdev=\${blockdev%s}
		test -b "/dev/$raw_bdev"
	else
		raw_bdev=""
	fi
}
create()
{
	json=$(ndctl create-namespace -f -e $dev -m sector)
	bttdev=$(cat /sys/bus/nd/devices/$dev/holder)
	[ -n "$bttdev" ] || return 1
	test -e /sys/kernel/debug/btt/$bttdev/arena0/log_index_0
}
# lane 0's log group: its slot-1 entry moves to slot 2, slot 1 becomes padding
make_oldfmt_log()
{
	logoff=$(cat /sys/kernel/debug/btt/$bttdev/arena0/logoff)
	slot=$(( (4096 + logoff) / 16 ))
	force_raw 1
	dd if=/dev/$raw_bdev of=/dev/$raw_bdev bs=16 skip=$(( slot + 1 )) seek=$(( slot + 2 )) count=1 conv=notrunc 2>/dev/null
	dd if=/dev/zero of=/dev/$raw_bdev bs=16 seek=$(( slot + 1 )) count=1 conv=notrunc 2>/dev/null
	force_raw 0
	bttdev=$(cat /sys/bus/nd/devices/$dev/holder)
}
`;

/** The e820 machine and one shell that keeps the script's functions and variables between steps. */
interface Session {
  m: DemoShellMachine;
  run(cmd: string): { status: number; stdout: string; stderr: string };
}

function session(): Session {
  const m = bootMachine({ ...DEFAULT_MACHINE, ramSize: SZ_4G, maxmem: SZ_4G, cmdline: 'memmap=1G!4G' });
  let stdout = '';
  let stderr = '';
  const shell = new Shell(m, { strict: false, stdout: { write: (t: string): void => void (stdout += t) }, stderr: { write: (t: string): void => void (stderr += t) } });
  const s: Session = {
    m,
    run: (cmd) => {
      stdout = '';
      stderr = '';
      const status = shell.runScript(cmd);
      return { status, stdout, stderr };
    },
  };
  expect(s.run(FUNCTIONS)).toEqual({ status: 0, stdout: '', stderr: '' });
  return s;
}

function ok(s: Session, cmd: string): { stdout: string; stderr: string } {
  const r = s.run(cmd);
  expect(r.status, `${cmd}: ${r.stderr}`).toBe(0);
  return r;
}

function idx(m: Session): string {
  return ok(m, 'cat /sys/kernel/debug/btt/$bttdev/arena0/log_index_0 /sys/kernel/debug/btt/$bttdev/arena0/log_index_1').stdout;
}

/** The raw namespace's 64-byte log group of lane 0, as 16-byte slots in hex. */
function lane0(m: Session): string[] {
  const fs = machineFs(m.m);
  const at = 4096 + Number.parseInt(ok(m, 'cat /sys/kernel/debug/btt/$bttdev/arena0/logoff').stdout, 16);
  ok(m, 'force_raw 1');
  const g = Buffer.from(fs.pread!('/dev/pmem0', at, 64)).toString('hex');
  ok(m, 'force_raw 0; bttdev=$(cat /sys/bus/nd/devices/$dev/holder)');
  return [0, 1, 2, 3].map((i) => g.slice(i * 32, i * 32 + 32));
}

const PAD = '0'.repeat(32);

/** The first 2100 sectors of /dev/pmem0s (every block do_random_io writes), as the kernel reads them. */
function sectors(m: Session): Buffer {
  return Buffer.from(machineFs(m.m).pread!('/dev/pmem0s', 0, 2100 * 4096));
}

describe('btt-pad-compat.sh', () => {
  it('do_tests: (0,1) for a new BTT, (0,2) for an old-format log across I/O and cycles, (0,1) after --rewrite-log', () => {
    const m = session();
    // regular btt
    ok(m, 'create');
    expect(ok(m, 'echo $bttdev').stdout).toBe('btt0.0\n');
    ok(m, 'verify_idx 0 1');
    expect(idx(m)).toBe('0\n1\n');
    // do io, and cycle namespace, verify indices
    ok(m, 'do_random_io /dev/$blockdev');
    expect(ok(m, 'cycle_ns $dev').stderr).toBe('disabled 1 namespace\nenabled 1 namespace\n');
    ok(m, 'verify_idx 0 1');
    expect(m.run('verify_idx 0 2').status).toBe(1);

    // the same with an old format log
    ok(m, 'make_oldfmt_log');
    const old = lane0(m);
    expect(old[1]).toBe(PAD);
    expect(old[2]).not.toBe(PAD);
    expect(old[3]).toBe(PAD);
    ok(m, 'verify_idx 0 2');
    expect(idx(m)).toBe('0\n2\n');
    ok(m, 'do_random_io /dev/$blockdev');
    const before = sectors(m);
    ok(m, 'cycle_ns $dev');
    ok(m, 'verify_idx 0 2');
    // the kernel wrote the new entries to slot 2, never to slot 1
    expect(lane0(m)[1]).toBe(PAD);
    expect(sectors(m).equals(before)).toBe(true);

    // rewrite log using ndctl, verify conversion to new format
    const r = m.run('ndctl check-namespace --rewrite-log --repair --force --verbose $dev');
    expect(r.status).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('namespace0.0: '));
    expect(lines).toEqual([
      'namespace0.0: namespace_check: WARNING: interruption may cause unrecoverable metadata corruption',
      'namespace0.0: namespace_check: checking namespace0.0',
      'namespace0.0: btt_discover_arenas: found 1 BTT arena',
      'namespace0.0: log_set_indices: arena[0]: log_index_0 = 0',
      'namespace0.0: log_set_indices: arena[0]: log_index_1 = 2',
      'namespace0.0: btt_check_arenas: checking arena 0',
      'namespace0.0: btt_rewrite_log: arena 0: rewriting log',
    ]);
    expect(r.stderr.endsWith('checked 1 namespace\n')).toBe(true);
    ok(m, 'bttdev=$(cat /sys/bus/nd/devices/$dev/holder)');
    const rewritten = lane0(m);
    expect(rewritten.slice(1)).toEqual([PAD, PAD, PAD]);
    expect(rewritten[0]!.slice(24)).toBe('01000000'); // seq 1
    ok(m, 'verify_idx 0 1');
    expect(sectors(m).equals(before)).toBe(true);
    ok(m, 'do_random_io /dev/$blockdev');
    ok(m, 'cycle_ns $dev');
    ok(m, 'verify_idx 0 1');
    expect(lane0(m)[1]).not.toBe(PAD);

    // check-namespace again to make sure everything is ok
    const again = m.run('ndctl check-namespace --force --verbose $dev');
    expect(again.status).toBe(0);
    expect(again.stderr).toContain('namespace0.0: log_set_indices: arena[0]: log_index_1 = 1\n');

    // ns_info_wipe: the next enable finds no BTT
    ok(m, 'force_raw 1; dd if=/dev/zero of=/dev/$raw_bdev bs=4096 count=2 2>/dev/null; force_raw 0');
    expect(ok(m, 'cat /sys/bus/nd/devices/$dev/holder').stdout).toBe('\n');
    expect(ok(m, 'ls /sys/kernel/debug/btt').stdout).toBe('');
    expect(machineFs(m.m).exists('/dev/pmem0')).toBe(true);
  });

  it('-L without -R: "--rewrite-log also requires --repair", -EINVAL exits 234, nothing is checked or changed', () => {
    const m = session();
    ok(m, 'create; do_random_io /dev/$blockdev; make_oldfmt_log');
    const before = lane0(m);
    for (const cmd of ['ndctl check-namespace -L $dev', 'ndctl check-namespace --rewrite-log --force --verbose $dev']) {
      const r = m.run(cmd);
      expect(r).toMatchObject({
        status: 234,
        stdout: '',
        stderr: 'namespace0.0: namespace_check: --rewrite-log also requires --repair\n' +
          'error checking namespaces: Invalid argument\nchecked 0 namespaces\n',
      });
    }
    // still online, still the old format
    expect(machineFs(m.m).exists('/dev/pmem0s')).toBe(true);
    ok(m, 'verify_idx 0 2');
    expect(lane0(m)).toEqual(before);
  });

  it('-L -R on an online namespace without --force: the online check still comes first (exit 240)', () => {
    const m = session();
    ok(m, 'create; do_random_io /dev/$blockdev; make_oldfmt_log');
    const r = m.run('ndctl check-namespace -LR $dev');
    expect(r.status).toBe(240);
    expect(r.stderr).toBe(
      'namespace0.0: namespace_check: namespace0.0: check aborted, namespace online\n' +
        'error checking namespaces: Device or resource busy\nchecked 0 namespaces\n',
    );
    ok(m, 'verify_idx 0 2');
    // offline, -L -R converts without --force, and the namespace stays offline
    ok(m, 'ndctl disable-namespace $dev');
    const fixed = m.run('ndctl check-namespace -L -R $dev');
    expect(fixed).toMatchObject({ status: 0, stdout: '', stderr: 'checked 1 namespace\n' });
    expect(machineFs(m.m).exists('/dev/pmem0s')).toBe(false);
    ok(m, 'ndctl enable-namespace $dev; bttdev=$(cat /sys/bus/nd/devices/$dev/holder)');
    ok(m, 'verify_idx 0 1');
  });
});

describe('test -b and -c (the script\'s `test -b "/dev/$raw_bdev"`)', () => {
  it('-b is a block device node, -c a character device node; anything else is false', () => {
    const m = session();
    const r = m.run(
      'for p in /dev/pmem0 /dev/zero /dev/null /dev/nope /sys/block/pmem0/size /dev ""; do ' +
        '[ -b "$p" ]; b=$?; test -c "$p"; echo "$p $b $?"; done',
    );
    expect(r).toEqual({
      status: 0,
      stdout: '/dev/pmem0 0 1\n/dev/zero 1 0\n/dev/null 1 0\n/dev/nope 1 1\n/sys/block/pmem0/size 1 1\n/dev 1 1\n 1 1\n',
      stderr: '',
    });
  });
});
