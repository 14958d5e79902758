// The test_hmm module (lib/test_hmm.c, v5.13) on a booted machine: modprobe
// and rmmod with kmod's texts, the chunks in /proc/iomem and the devices in
// /dev, the hmm-tests selftest, and a process whose page goes to the device
// and comes back (or ends in SIGBUS).
import { describe, expect, it } from 'vitest';
import { SWP_DEVICE_WRITE } from '@zonedev/mm';
import { DmirrorTask, HMM_DMIRROR_MIGRATE } from '@zonedev/hmm';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '@zonedev/mm';
import { parseRunArgs } from '../src/args.js';
import { bootShellMachine as bootMachine, type DemoShellMachine as ZonedevMachine } from '../src/commands/shell-machine.js';
import { Shell } from '../src/shell/shell.js';

interface Rig {
  readonly m: ZonedevMachine;
  /** Runs one line; what it wrote to stdout and stderr, and its status. */
  sh(line: string): { out: string; err: string; status: number };
}

function boot(...args: string[]): Rig {
  const a = parseRunArgs('run', args.length > 0 ? args : ['-m', '2G']);
  if ('error' in a) throw new Error(a.error);
  const m = bootMachine(a.machine);
  let out = '';
  let err = '';
  const shell = new Shell(m, { stdout: { write: (t: string) => void (out += t) }, stderr: { write: (t: string) => void (err += t) } });
  return {
    m,
    sh(line) {
      out = '';
      err = '';
      const r = shell.execLine(line);
      return { out, err, status: r.status };
    },
  };
}

/** What a failed command must leave as it was. */
function state(r: Rig): unknown {
  return {
    iomem: r.m.kernel.iomem.procIomem(),
    dev: r.sh('ls /dev').out,
    free: r.m.mm.nrFreePages(),
    loaded: r.m.hmm.module !== undefined,
    procs: r.m.hmm.processes().map((p) => p.task.pid),
  };
}

const CHUNK_LINE = /^added new 256 MB chunk \(total 1 chunks, 256 MB\) PFNs \[0x[0-9a-f]+ 0x[0-9a-f]+\)$/;

describe('modprobe test_hmm / rmmod test_hmm', () => {
  it('loads two devices with a 256 MiB device-private chunk each, and unloads them', () => {
    const r = boot();
    const before = r.m.kernel.iomem.procIomem();
    r.sh('dmesg -C');
    expect(r.sh('modprobe test_hmm')).toEqual({ out: '', err: '', status: 0 });
    const msgs = r.sh('dmesg').out.split('\n').filter((l) => l !== '').map((l) => l.replace(/^\[[ 0-9.]+\] /, ''));
    expect(msgs.filter((l) => l.startsWith('added new'))).toHaveLength(2);
    for (const l of msgs.filter((x) => x.startsWith('added new'))) expect(l).toMatch(CHUNK_LINE);
    expect(msgs[msgs.length - 1]).toBe('HMM test module loaded. This is only for testing HMM.');
    const iomem = r.sh('cat /proc/iomem').out;
    const chunks = iomem.split('\n').filter((l) => l.endsWith(' : hmm_dmirror'));
    expect(chunks).toEqual(['3fffe0000000-3fffefffffff : hmm_dmirror', '3ffff0000000-3fffffffffff : hmm_dmirror']);
    expect(r.sh('ls /dev').out).toBe('hmm_dmirror0\nhmm_dmirror1\nnull\nurandom\nzero\n');
    // The device pages are ZONE_DEVICE, MEMORY_DEVICE_PRIVATE.
    const page = r.sh('page 0x3ffff0000');
    expect(page.out).toContain('zone 4 Device');
    expect(page.out).toContain('             type MEMORY_DEVICE_PRIVATE\n');
    expect(r.sh('rmmod test_hmm')).toEqual({ out: '', err: '', status: 0 });
    expect(r.m.kernel.iomem.procIomem()).toBe(before);
    expect(r.sh('ls /dev').out).toBe('null\nurandom\nzero\n');
    expect(r.sh('page 0x3ffff0000').err).toBe('page: pfn 0x3ffff0000: pfn_valid() is false: no struct page\n');
    // And again: the same chunks, nothing leaked.
    const free = r.m.mm.nrFreePages();
    expect(r.sh('modprobe test_hmm').status).toBe(0);
    expect(r.sh('rmmod test_hmm').status).toBe(0);
    expect(r.m.mm.nrFreePages()).toBe(free);
  });

  it("answers as kmod does for a loaded, an unknown or a missing module, changing nothing", () => {
    const r = boot();
    expect(r.sh('modprobe test_hmm').status).toBe(0);
    const s = state(r);
    expect(r.sh('modprobe test_hmm')).toEqual({ out: '', err: '', status: 0 });
    expect(r.sh('modprobe --first-time test_hmm')).toEqual({
      out: '',
      err: "modprobe: ERROR: could not insert 'test_hmm': Module already in kernel\n",
      status: 1,
    });
    expect(r.sh('modprobe foo')).toEqual({ out: '', err: 'modprobe: FATAL: Module foo not found in directory /lib/modules/5.13.0-zonedev\n', status: 1 });
    expect(r.sh('modprobe').err).toBe('modprobe: ERROR: missing parameters. See -h.\n');
    expect(r.sh('rmmod foo')).toEqual({ out: '', err: 'rmmod: ERROR: Module foo is not currently loaded\n', status: 1 });
    expect(r.sh('rmmod').err).toBe('rmmod: ERROR: missing module name.\n');
    expect(state(r)).toEqual(s);
    expect(r.sh('rmmod test_hmm').status).toBe(0);
    expect(r.sh('rmmod test_hmm')).toEqual({ out: '', err: 'rmmod: ERROR: Module test_hmm is not currently loaded\n', status: 1 });
  });

  it('refuses rmmod while a process has a device open, and while device pages are still mapped', () => {
    const r = boot();
    r.sh('modprobe test_hmm');
    expect(r.sh('hmm-demo start busy').status).toBe(0);
    expect(r.sh('hmm-demo migrate 100').status).toBe(0);
    const s = state(r);
    expect(r.sh('rmmod test_hmm')).toEqual({ out: '', err: 'rmmod: ERROR: Module test_hmm is in use\n', status: 1 });
    expect(state(r)).toEqual(s);
    // A process that closed the device but still has a page on it.
    const t = new DmirrorTask(r.m.hmm.taskOptions());
    const fd = t.open('/dev/hmm_dmirror1');
    const addr = t.mmap(4096, PROT_READ + PROT_WRITE, MAP_PRIVATE + MAP_ANONYMOUS);
    const mirror = t.mmap(4096, PROT_READ + PROT_WRITE, MAP_PRIVATE + MAP_ANONYMOUS);
    t.store(addr, new Uint8Array([7]));
    t.ioctl(fd, HMM_DMIRROR_MIGRATE, { addr: BigInt(addr), ptr: BigInt(mirror), npages: 1n, cpages: 0n, faults: 0n });
    t.close(fd);
    expect(r.sh('hmm-demo exit 100').out).toBe('pid 100: exited\n');
    const s2 = state(r);
    const busy = r.sh('rmmod test_hmm');
    expect(busy.status).toBe(1);
    expect(busy.err).toBe(
      'rmmod: test_hmm: memunmap_pages() waits for 1 device page still mapped by a process: rmmod would sleep until they are freed; the module stays loaded\n',
    );
    expect(state(r)).toEqual(s2);
    t.exit();
    expect(r.sh('rmmod test_hmm').status).toBe(0);
    expect(r.m.kernel.iomem.procIomem()).not.toContain('hmm_dmirror');
  });
});

describe('hmm-tests', () => {
  it("prints v5.13's TAP output: all 21 cases pass or skip on the loaded devices", () => {
    const r = boot();
    r.sh('modprobe test_hmm');
    const free = r.m.mm.nrFreePages();
    const res = r.sh('hmm-tests');
    expect(res.err).toBe('');
    expect(res.status).toBe(0);
    const lines = res.out.split('\n');
    expect(lines.slice(0, 3)).toEqual(['TAP version 13', '1..21', '# Starting 21 tests from 2 test cases.']);
    expect(lines[3]).toBe('#  RUN           hmm.open_close ...');
    expect(lines[4]).toBe('#            OK  hmm.open_close');
    expect(lines[5]).toBe('ok 1 hmm.open_close');
    expect(res.out).toContain('# PASSED: 21 / 21 tests passed.\n');
    const totals = /# Totals: pass:(\d+) fail:0 xfail:0 xpass:0 skip:(\d+) error:0\n$/.exec(res.out);
    expect(totals).not.toBeNull();
    expect(Number(totals![1]) + Number(totals![2])).toBe(21);
    expect(lines.filter((l) => /^ok \d+ /.test(l))).toHaveLength(21);
    // Every test process is gone, with its pages.
    expect(r.m.hmm.module!.files()).toHaveLength(0);
    expect(r.m.hmm.busyPages()).toBe(0);
    expect(r.m.mm.nrFreePages()).toBe(free);
    expect(r.sh('rmmod test_hmm').status).toBe(0);
  }, 120_000);

  it('fails every case when /dev/hmm_dmirror0 cannot be opened, as FIXTURE_SETUP asserts', () => {
    const r = boot();
    const res = r.sh('hmm-tests');
    expect(res.status).toBe(1);
    expect(res.out.startsWith('TAP version 13\n1..21\n')).toBe(true);
    expect(res.out).toContain('not ok 1 hmm.open_close\n');
    expect(res.out).toContain('# FAILED: 0 / 21 tests passed.\n');
    expect(res.out).toContain('# Totals: pass:0 fail:21 xfail:0 xpass:0 skip:0 error:0\n');
    expect(res.err.split('\n').filter((l) => l !== '')).toEqual(Array(21).fill('could not open hmm dmirror driver (/dev/hmm_dmirror0)'));
    expect(r.sh('hmm-tests extra')).toEqual({ out: '', err: 'usage: hmm-tests\n', status: 2 });
  });

  it('refuses on 64 KiB pages, where the model has no processes', () => {
    const r = boot('--platform', 'powerpc', '-m', '2G');
    expect(r.sh('modprobe test_hmm').status).toBe(0);
    expect(r.sh('cat /proc/iomem').out).toContain(' : hmm_dmirror\n');
    const res = r.sh('hmm-tests');
    expect(res).toEqual({ out: '', err: "hmm-tests: the model's processes (@zonedev/mm) have 4 KiB pages; this machine has 64 KiB pages\n", status: 1 });
    expect(r.sh('rmmod test_hmm').status).toBe(0);
  });
});

describe('hmm-demo: a page to the device and back', () => {
  it('migrates the buffer to a device-private page and faults it back intact', () => {
    const r = boot();
    r.sh('modprobe test_hmm');
    const start = r.sh('hmm-demo start Hello, device memory!');
    expect(start.status).toBe(0);
    expect(start.out).toContain('pid 100: wrote 21 bytes: "Hello, device memory!"\n');
    const ram = /pte of 0x7ffff7ffe000: present, pfn (0x[0-9a-f]+)/.exec(start.out);
    expect(ram).not.toBeNull();
    const mig = r.sh('hmm-demo migrate 100');
    expect(mig.status).toBe(0);
    expect(mig.out).toContain('= 0, cpages 1\n');
    const entry = /type SWP_DEVICE_WRITE \((\d+)\), offset (0x[0-9a-f]+) \(the device page's pfn\)/.exec(mig.out);
    expect(entry).not.toBeNull();
    expect(Number(entry![1])).toBe(SWP_DEVICE_WRITE);
    expect(SWP_DEVICE_WRITE).toBe(30);
    const dpfn = entry![2]!;
    // The device page: ZONE_DEVICE, MEMORY_DEVICE_PRIVATE, mapped by pid 100's swap entry.
    const page = r.sh(`page ${dpfn}`).out;
    expect(page).toContain('             type MEMORY_DEVICE_PRIVATE\n');
    expect(page).toContain(`  mapped by  pid 100 at 0x7ffff7ffe000: swap entry 0x${(30n * 2n ** 58n + BigInt(dpfn)).toString(16)}: type SWP_DEVICE_WRITE (30), offset ${dpfn}`);
    expect(page).toMatch(/zone_device_data {2}pfn 0x[0-9a-f]+/);
    // smaps counts the device page in Rss.
    const smaps = r.sh('cat /proc/100/smaps').out;
    expect(smaps).toMatch(/^7ffff7ffd000-7ffff7fff000 rw-p 00000000 00:00 0 \n/);
    expect(smaps).toContain('Rss:                   8 kB\n');
    // The CPU read: migrate_to_ram, the text intact, a present PTE again.
    const read = r.sh('hmm-demo read 100');
    expect(read.status).toBe(0);
    expect(read.out).toMatch(/^pid 100: read 21 bytes: "Hello, device memory!"\n {2}pte of 0x7ffff7ffe000: present, pfn 0x[0-9a-f]+\n$/);
    // The device page went back to the driver.
    expect(r.sh(`page ${dpfn}`).out).not.toContain('mapped by');
    expect(r.sh('hmm-demo exit 100').out).toBe('pid 100: exited\n');
    expect(r.sh('cat /proc/100/smaps').err).toContain('No such file or directory');
    expect(r.m.hmm.busyPages()).toBe(0);
  });

  it('ends in SIGBUS when migrate_to_ram fails (dmirror_fail_migrate_to_ram), and the page is freed', () => {
    const r = boot();
    r.sh('modprobe test_hmm');
    r.sh('hmm-demo start doomed');
    r.sh('hmm-demo migrate 100');
    expect(r.m.hmm.busyPages()).toBe(1);
    expect(r.sh('hmm-demo fail-next').out).toBe('dmirror_fail_migrate_to_ram: the next migrate_to_ram() answers VM_FAULT_SIGBUS\n');
    const read = r.sh('hmm-demo read 100');
    expect(read).toEqual({ out: 'pid 100: killed by SIGBUS (BUS_ADRERR) at 0x7ffff7ffe000\n', err: '', status: 135 });
    expect(r.m.hmm.processes()).toHaveLength(0);
    expect(r.m.hmm.busyPages()).toBe(0);
    // The point fired once: the next process's page comes back.
    r.sh('hmm-demo start fine');
    r.sh('hmm-demo migrate 101');
    expect(r.sh('hmm-demo read 101').out).toContain('read 4 bytes: "fine"');
    r.sh('hmm-demo exit 101');
    expect(r.sh('rmmod test_hmm').status).toBe(0);
  });

  it('rejects bad input, changing nothing', () => {
    const r = boot();
    const s0 = state(r);
    expect(r.sh('hmm-demo start x')).toEqual({
      out: '',
      err: 'hmm-demo: cannot open /dev/hmm_dmirror0: No such file or directory (modprobe test_hmm first)\n',
      status: 1,
    });
    expect(state(r)).toEqual(s0);
    r.sh('modprobe test_hmm');
    const s = state(r);
    const usage = 'usage: hmm-demo start [TEXT] | migrate PID | read PID | fail-next | close PID | exit PID\n';
    expect(r.sh('hmm-demo')).toEqual({ out: '', err: usage, status: 2 });
    expect(r.sh('hmm-demo frob')).toEqual({ out: '', err: usage, status: 2 });
    expect(r.sh('hmm-demo migrate')).toEqual({ out: '', err: usage, status: 2 });
    expect(r.sh('hmm-demo migrate x1')).toEqual({ out: '', err: usage, status: 2 });
    expect(r.sh('hmm-demo read 999')).toEqual({ out: '', err: 'hmm-demo: 999: no such process\n', status: 2 });
    expect(r.sh('hmm-demo fail-next now')).toEqual({ out: '', err: usage, status: 2 });
    expect(r.sh('hmm-demo close 999')).toEqual({ out: '', err: 'hmm-demo: 999: no such process\n', status: 2 });
    expect(state(r)).toEqual(s);
    // A second close of the device is EBADF, and a MIGRATE without it too.
    r.sh('hmm-demo start x');
    expect(r.sh('hmm-demo close 100')).toEqual({ out: 'pid 100: close(3) = 0\n', err: '', status: 0 });
    const s2 = state(r);
    expect(r.sh('hmm-demo close 100')).toEqual({ out: '', err: 'hmm-demo: close(3): Bad file descriptor\n', status: 1 });
    expect(r.sh('hmm-demo migrate 100')).toEqual({ out: '', err: 'hmm-demo: ioctl(3, HMM_DMIRROR_MIGRATE): Bad file descriptor\n', status: 1 });
    expect(state(r)).toEqual(s2);
  });
});
