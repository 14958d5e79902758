// User processes in the shell (`process ...`): mmap, stores and loads that
// fault, fork with copy-on-write, pins, /proc/PID/{maps,smaps,status}, and
// memory hot-remove migrating a process's page while its virtual address
// and bytes stay (mm's migrate_pages() through the rmap, v5.13's
// do_migrate_range()); a pinned page makes the offline fail.
import { describe, expect, it } from 'vitest';
import { parseRunArgs } from '../src/args.js';
import { bootShellMachine as bootMachine } from '../src/commands/shell-machine.js';
import { Shell } from '../src/shell/shell.js';

function boot(...args: string[]) {
  const a = parseRunArgs('run', args);
  if ('error' in a) throw new Error(a.error);
  const m = bootMachine(a.machine);
  let out = '';
  let err = '';
  const shell = new Shell(m, { stdout: { write: (t: string) => void (out += t) }, stderr: { write: (t: string) => void (err += t) } });
  return {
    m,
    sh(line: string) {
      out = '';
      err = '';
      const r = shell.execLine(line);
      return { out, err, status: r.status };
    },
  };
}

/** A DIMM's block onlined movable (memory32 at 4 GiB) and one process with two pages mapped. */
function withDimm() {
  const r = boot('-m', '2G,slots=2,maxmem=4G');
  r.sh('object_add memory-backend-ram,id=mem1,size=128M');
  r.sh('device_add pc-dimm,id=dimm1,memdev=mem1');
  expect(r.sh('echo online_movable > /sys/devices/system/memory/memory32/state').status).toBe(0);
  expect(r.sh('process start').out).toBe('pid 100: started\n');
  const mmap = r.sh('process mmap 100 8192');
  const addr = Number(/= (0x[0-9a-f]+)$/m.exec(mmap.out)![1]);
  return { ...r, addr, a: `0x${addr.toString(16)}` };
}

const pfnOf = (out: string): number => Number(/pfn (0x[0-9a-f]+)/.exec(out)![1]);

describe('process: a user address space in the shell', () => {
  it('mmap prints the call as strace does; a store faults a GFP_HIGHUSER_MOVABLE page into ZONE_MOVABLE', () => {
    const r = withDimm();
    expect(r.sh('process mmap 100 8192').out).toMatch(/^pid 100: mmap\(NULL, 8192, PROT_READ\|PROT_WRITE, MAP_PRIVATE\|MAP_ANONYMOUS, -1, 0\) = 0x7f[0-9a-f]+000\n$/);
    expect(r.sh(`process write 100 ${r.a} Hello from a process`).out).toBe(`pid 100: wrote 20 bytes at ${r.a}\n`);
    // the movable zone of the DIMM is tried first: its first pfn
    expect(pfnOf(r.sh(`process pte 100 ${r.a}`).out)).toBe(0x100000);
    expect(r.sh(`process read 100 ${r.a} 20`).out).toBe(`pid 100: read 20 bytes at ${r.a}: "Hello from a process"\n`);
    // the untouched second page has no PTE yet
    expect(r.sh(`process pte 100 ${r.addr + 4096}`).out).toBe(`pid 100: pte of 0x${(r.addr + 4096).toString(16)}: pte_none\n`);
  });

  it('/proc/PID/maps, smaps and status show the mapping and its one resident anonymous page', () => {
    const r = withDimm();
    r.sh(`process write 100 ${r.a} x`);
    const end = (r.addr + 8192).toString(16);
    expect(r.sh('cat /proc/100/maps').out).toBe(`${r.addr.toString(16)}-${end} rw-p 00000000 00:00 0 \n`);
    const smaps = r.sh('cat /proc/100/smaps').out;
    expect(smaps).toMatch(/^Rss: +4 kB$/m);
    expect(smaps).toMatch(/^Anonymous: +4 kB$/m);
    expect(r.sh("grep -E '^(VmRSS|RssAnon)' /proc/100/status").out).toBe('VmRSS:\t       4 kB\nRssAnon:\t       4 kB\n');
  });

  it("offlining the block migrates the page: a new pfn, the same virtual address and bytes, the child's COW share too", () => {
    const r = withDimm();
    r.sh(`process write 100 ${r.a} Hello from a process`);
    expect(r.sh('process fork 100').out).toBe('pid 100: fork() = 101\n');
    const before = pfnOf(r.sh(`process pte 100 ${r.a}`).out);
    expect(pfnOf(r.sh(`process pte 101 ${r.a}`).out)).toBe(before);
    expect(r.sh('echo offline > /sys/devices/system/memory/memory32/state').status).toBe(0);
    const after = pfnOf(r.sh(`process pte 100 ${r.a}`).out);
    expect(after).not.toBe(before);
    expect(after).toBeLessThan(0x100000); // off the DIMM
    expect(pfnOf(r.sh(`process pte 101 ${r.a}`).out)).toBe(after); // remove_migration_ptes() rewrote both
    expect(r.sh(`process read 101 ${r.a} 20`).out).toBe(`pid 101: read 20 bytes at ${r.a}: "Hello from a process"\n`);
    expect(r.m.mm.memmap.pageMapcount(after)).toBe(2);
  });

  it('a pinned page cannot be migrated: the offline gives up (signal backoff) and the block stays online', () => {
    const r = withDimm();
    r.sh(`process write 100 ${r.a} pinned`);
    const pin = r.sh(`process pin 100 ${r.a} 4096`);
    expect(pin.out).toBe(`pid 100: pin_user_pages(${r.a}, 1, FOLL_WRITE) = 1: pfn 0x100000\n`);
    expect(r.m.mm.memmap.pageRefCount(0x100000)).toBe(1 + 1024); // GUP_PIN_COUNTING_BIAS
    const off = r.sh('echo offline > /sys/devices/system/memory/memory32/state');
    expect([off.status, off.err]).toEqual([1, 'zonedev: echo: write error: Interrupted system call\n']);
    expect(r.sh('cat /sys/devices/system/memory/memory32/state').out).toBe('online\n');
    expect(r.sh('process list').out).toBe('  PID  PPID VMAS   RSS PINNED\n  100     -    1    4K      1\n');
    expect(r.sh('process unpin 100').out).toBe('pid 100: unpin_user_pages(): 1 pages\n');
    expect(r.m.mm.memmap.pageRefCount(0x100000)).toBe(1);
    expect(r.sh('echo offline > /sys/devices/system/memory/memory32/state').status).toBe(0);
    expect(r.sh(`process read 100 ${r.a} 6`).out).toContain('"pinned"');
  });

  it('--longterm pins with FOLL_LONGTERM: pages faulted in avoid ZONE_MOVABLE; exit releases every pin', () => {
    const r = withDimm();
    const pin = r.sh(`process pin --longterm 100 ${r.a} 8192`);
    expect(pin.out).toMatch(/^pid 100: pin_user_pages\(0x[0-9a-f]+, 2, FOLL_WRITE\|FOLL_LONGTERM\) = 2: pfn 0x[0-9a-f]+ 0x[0-9a-f]+\n$/);
    const pfns = [...pin.out.matchAll(/ (0x[0-9a-f]+)/g)].slice(1).map((x) => Number(x[1]));
    // memalloc_pin_save(): the faults allocated without __GFP_MOVABLE, so not on the DIMM's movable block
    for (const p of pfns) expect(p < 0x100000).toBe(true);
    for (const p of pfns) expect(r.m.mm.memmap.pageRefCount(p)).toBe(1 + 1024);
    const free = r.m.mm.nrFreePages();
    expect(r.sh('process exit 100').out).toBe('pid 100: exited\n');
    expect(r.m.mm.nrFreePages()).toBe(free + 2);
  });

  it('a long-term pin of a page already in ZONE_MOVABLE migrates it out first (check_and_migrate_movable_pages), so the block can still go offline', () => {
    const r = withDimm();
    r.sh(`process write 100 ${r.a} long-term`);
    expect(pfnOf(r.sh(`process pte 100 ${r.a}`).out)).toBe(0x100000);
    const pin = r.sh(`process pin --longterm 100 ${r.a} 4096`);
    const pinned = Number(/: pfn (0x[0-9a-f]+)\n$/.exec(pin.out)![1]);
    expect(pinned < 0x100000).toBe(true);
    // the PTE follows the page; the old one went back to the allocator
    expect(pfnOf(r.sh(`process pte 100 ${r.a}`).out)).toBe(pinned);
    expect(r.m.mm.memmap.pageRefCount(pinned)).toBe(1 + 1024);
    expect(r.m.mm.memmap.pageRefCount(0x100000)).toBe(0);
    expect(r.sh(`process read 100 ${r.a} 9`).out).toContain('"long-term"');
    // a plain pin of a movable page would make the offline fail; this one does not
    expect(r.sh('echo offline > /sys/devices/system/memory/memory32/state').status).toBe(0);
    expect(r.sh('process list').out).toBe('  PID  PPID VMAS   RSS PINNED\n  100     -    1    4K      1\n');
  });

  it("offlining migrates a shared (shmem) page too: the page cache and every process's PTE follow it", () => {
    const r = boot('-m', '2G,slots=2,maxmem=4G');
    r.sh('object_add memory-backend-ram,id=mem1,size=128M');
    r.sh('device_add pc-dimm,id=dimm1,memdev=mem1');
    r.sh('echo online_movable > /sys/devices/system/memory/memory32/state');
    r.sh('process start');
    const a = /= (0x[0-9a-f]+)$/m.exec(r.sh('process mmap 100 4096 shared').out)![1]!;
    r.sh(`process write 100 ${a} shared`);
    expect(r.sh('process fork 100').out).toBe('pid 100: fork() = 101\n');
    // the child's PTE comes from its own fault on the shared page (dup_mmap copies no shared PTEs)
    expect(r.sh(`process read 101 ${a} 6`).out).toContain('"shared"');
    const old = pfnOf(r.sh(`process pte 100 ${a}`).out);
    expect(old).toBe(0x100000);
    expect(pfnOf(r.sh(`process pte 101 ${a}`).out)).toBe(old);
    expect(r.sh('grep -E "^Mapped:" /proc/meminfo').out).toBe('Mapped:                4 kB\n');
    expect(r.sh('echo offline > /sys/devices/system/memory/memory32/state').status).toBe(0);
    const now = pfnOf(r.sh(`process pte 100 ${a}`).out);
    expect(now).not.toBe(old);
    expect(pfnOf(r.sh(`process pte 101 ${a}`).out)).toBe(now);
    // the page cache holds the new page: one reference for it, one per PTE
    expect(r.m.mm.memmap.pageRefCount(now)).toBe(3);
    r.sh(`process write 101 ${a} SHARED`);
    expect(r.sh(`process read 100 ${a} 6`).out).toContain('"SHARED"');
    expect(r.sh('grep -E "^Mapped:" /proc/meminfo').out).toBe('Mapped:                4 kB\n');
  });

  it('mprotect read-only makes a store SIGSEGV (SEGV_ACCERR) and changes nothing; munmap and exit free the pages', () => {
    const r = withDimm();
    r.sh(`process write 100 ${r.a} abc`);
    expect(r.sh(`process mprotect 100 ${r.a} 8192 r`).out).toBe(`pid 100: mprotect(${r.a}, 8192, PROT_READ) = 0\n`);
    const w = r.sh(`process write 100 ${r.a} xyz`);
    expect([w.status, w.err]).toEqual([1, `process: write: SIGSEGV (SEGV_ACCERR) at ${r.a}\n`]);
    expect(r.sh(`process read 100 ${r.a} 3`).out).toContain('"abc"');
    const free = r.m.mm.nrFreePages();
    expect(r.sh(`process munmap 100 ${r.a} 8192`).out).toBe(`pid 100: munmap(${r.a}, 8192) = 0\n`);
    expect(r.m.mm.nrFreePages()).toBe(free + 1);
    expect(r.sh('cat /proc/100/maps').out).toBe('');
    expect(r.sh('process exit 100').out).toBe('pid 100: exited\n');
    expect(r.sh('cat /proc/100/maps').err).toBe('cat: /proc/100/maps: No such file or directory\n');
  });

  it("errors: mmap's EINVAL and the no-such-process and usage texts, with nothing changed", () => {
    const r = withDimm();
    const maps = r.sh('cat /proc/100/maps').out;
    expect(r.sh('process mmap 100 0')).toEqual({ out: '', err: 'process: mmap: Invalid argument\n', status: 1 });
    expect(r.sh(`process munmap 100 ${r.addr + 1} 4096`)).toEqual({ out: '', err: 'process: munmap: Invalid argument\n', status: 1 });
    expect(r.sh('process read 100 0x1000 4').err).toBe('process: read: SIGSEGV (SEGV_MAPERR) at 0x1000\n');
    expect(r.sh('process fork 7')).toEqual({ out: '', err: 'process: 7: no such process\n', status: 1 });
    expect(r.sh('process mmap 100 4096 /dev/dax9.9').err).toBe('process: open("/dev/dax9.9"): No such file or directory\n');
    const u = r.sh('process mprotect 100 0x1000 4096 rwz');
    expect(u.status).toBe(2);
    expect(u.err).toMatch(/^usage: process start/);
    expect(r.sh('process').status).toBe(2);
    expect(r.sh('cat /proc/100/maps').out).toBe(maps);
  });

  it('maps /dev/dax0.0: an aligned shared mapping whose stores land in the namespace; a sub-align length is EINVAL', () => {
    const r = boot('-m', '4G', '--cmdline', 'memmap=1G!4G');
    expect(r.sh('ndctl create-namespace -m devdax -f -e namespace0.0').status).toBe(0);
    r.sh('process start');
    const mmap = r.sh('process mmap 100 4M /dev/dax0.0');
    expect(mmap.out).toMatch(/^pid 100: mmap\(NULL, 4194304, PROT_READ\|PROT_WRITE, MAP_SHARED, \/dev\/dax0\.0, 0\) = 0x[0-9a-f]+\n$/);
    const addr = Number(/= (0x[0-9a-f]+)$/m.exec(mmap.out)![1]);
    expect(addr % (2 * 2 ** 20)).toBe(0); // dax_get_unmapped_area()
    // the file is devtmpfs's node (s_dev 00:05); the device is the dax major's minor 0, which pmem0's dax_device gave back
    expect(r.sh('cat /sys/bus/dax/devices/dax0.0/dev').out).toBe('252:0\n');
    expect(r.sh('grep dax /proc/devices').out).toBe('252 dax\n');
    expect(r.sh('cat /proc/100/maps').out).toMatch(/ rw-s 00000000 00:05 \d+ +\/dev\/dax0\.0\n$/);
    r.sh(`process write 100 0x${addr.toString(16)} on pmem`);
    const data = Number.parseInt(r.sh('cat /sys/bus/dax/devices/dax0.0/resource').out.trim(), 16);
    expect(new TextDecoder().decode(r.m.mm.physmem.read(data, 7))).toBe('on pmem');
    expect(r.sh('process mmap 100 4096 /dev/dax0.0')).toEqual({ out: '', err: 'process: mmap: Invalid argument\n', status: 1 });
  });

  it('works on powerpc: 64 KiB pages', () => {
    const r = boot('--platform', 'powerpc', '-m', '2G');
    r.sh('process start');
    const addr = /= (0x[0-9a-f]+)$/m.exec(r.sh('process mmap 100 65536').out)![1]!;
    expect(Number(addr) % 65536).toBe(0);
    expect(r.sh(`process write 100 ${addr} sixty-four`).status).toBe(0);
    expect(r.sh(`process read 100 ${addr} 10`).out).toBe(`pid 100: read 10 bytes at ${addr}: "sixty-four"\n`);
    expect(r.sh("grep -E '^RssAnon' /proc/100/status").out).toBe('RssAnon:\t      64 kB\n');
  });
});
