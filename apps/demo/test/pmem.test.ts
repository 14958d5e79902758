// Persistent memory wired into the demo's machines: the e820 provider from
// memmap=nn!ss on x86_64, of_pmem from a device-tree pmem-region on powerpc,
// /dev/pmemN from the shell, and where the struct pages of the pmem live
// (map=dev: in the pmem; map=mem: in RAM).
import { describe, expect, it } from 'vitest';
import { SZ_1G, SZ_2G, SZ_4G } from '@zonedev/kernel';
import { bootShellMachine as bootMachine, type DemoShellMachine as ZonedevMachine } from '../src/commands/shell-machine.js';
import { DEFAULT_MACHINE } from '@zonedev/platform';
import { machineFs, run } from '../src/shell/shell.js';

function x86(cmdline = 'memmap=1G!4G'): ZonedevMachine {
  return bootMachine({ ...DEFAULT_MACHINE, ramSize: SZ_4G, maxmem: SZ_4G, cmdline });
}

function ppc(volatile = false): ZonedevMachine {
  return bootMachine({ ...DEFAULT_MACHINE, platform: 'powerpc', ramSize: SZ_2G, maxmem: SZ_2G, pmemRegions: [{ start: 16 * SZ_1G, size: SZ_1G, volatile }] });
}

function memFreeKb(m: ZonedevMachine): number {
  return Number(/MemFree:\s+(\d+) kB/.exec(run('cat /proc/meminfo', m).stdout)![1]);
}

describe('x86_64: memmap=nn!ss legacy pmem through the e820 provider', () => {
  it('registers e820_pmem, ndbus0 (provider e820), region0 and namespace0.0 at boot, and /dev/pmem0', () => {
    const m = x86();
    expect(run('ls /sys/bus/nd/devices', m).stdout).toBe('btt0.0\ndax0.0\nnamespace0.0\nndbus0\npfn0.0\nregion0\n');
    expect(run('cat /sys/bus/nd/devices/ndbus0/provider', m).stdout).toBe('e820\n');
    expect(run('cat /sys/bus/nd/devices/namespace0.0/mode', m).stdout).toBe('memory\n');
    expect(run('ls /dev', m).stdout).toBe('null\npmem0\nurandom\nzero\n');
    expect(machineFs(m).deviceSize!('/dev/pmem0')).toBe(SZ_1G);
    expect(run('cat /proc/iomem', m).stdout).toContain('100000000-13fffffff : Persistent Memory (legacy)\n  100000000-13fffffff : namespace0.0\n');
  });

  it('has no nd devices and no /dev/pmem without legacy pmem', () => {
    const m = x86('');
    expect(run('ndctl list -BRNi', m)).toMatchObject({ status: 0, stdout: '' });
    expect(run('ls /dev', m).stdout).toBe('null\nurandom\nzero\n');
  });

  it('writes with echo at offset 0 and reads with head, the bytes of the pmem itself', () => {
    const m = x86();
    expect(run("echo 'Hello, pmem' > /dev/pmem0", m)).toMatchObject({ status: 0, stderr: '' });
    expect(run('head -c 12 /dev/pmem0', m).stdout).toBe('Hello, pmem\n');
    // The namespace starts at 4 GiB: the same bytes through the physical address.
    expect(new TextDecoder().decode(m.mm.physmem.read(SZ_4G, 11))).toBe('Hello, pmem');
  });

  it('map=dev puts the memmap in the pmem (altmap) and gives 16 MiB of RAM back; map=mem takes it from RAM again', () => {
    const m = x86();
    const atBoot = memFreeKb(m);
    expect(run('page 0x100000', m).stdout).toContain('from RAM of node 0');
    expect(run('ndctl create-namespace -f -e namespace0.0 -m fsdax -M dev', m).status).toBe(0);
    // 262144 struct pages of 64 bytes: 16 MiB that no longer come from RAM.
    expect(memFreeKb(m) - atBoot).toBe(16384);
    expect(machineFs(m).deviceSize!('/dev/pmem0')).toBe(1054867456);
    const page = run('page 0x101200', m).stdout;
    expect(page).toContain('pgmap      pfn0.0');
    expect(page).toContain('zone 4 Device');
    expect(page).toContain('from the altmap at pfn 0x100000');
    expect(run('page 0x100000', m).stdout).toContain("the altmap's reserve");
    expect(run('ndctl create-namespace -f -e namespace0.0 -m fsdax -M mem', m).status).toBe(0);
    expect(memFreeKb(m)).toBe(atBoot);
    expect(run('page 0x100000', m).stdout).toContain('from RAM of node 0');
    expect(machineFs(m).deviceSize!('/dev/pmem0')).toBe(SZ_1G);
  });

  it('keeps the fsdax personality across disable/enable: the info block is found again', () => {
    const m = x86();
    const created = JSON.parse(run('ndctl create-namespace -f -e namespace0.0 -m fsdax -M dev', m).stdout) as { uuid: string };
    machineFs(m).pwrite!('/dev/pmem0', 4096, new TextEncoder().encode('kept'));
    expect(run('ndctl disable-namespace namespace0.0', m).stderr).toBe('disabled 1 namespace\n');
    expect(run('ls /dev', m).stdout).not.toContain('pmem0');
    expect(run('ndctl enable-namespace namespace0.0', m).stderr).toBe('enabled 1 namespace\n');
    const listed = (JSON.parse(run('ndctl list', m).stdout) as { uuid: string; map: string }[])[0]!;
    expect(listed).toMatchObject({ uuid: created.uuid, map: 'dev' });
    expect(new TextDecoder().decode(machineFs(m).pread!('/dev/pmem0', 4096, 4))).toBe('kept');
  });
});

describe('powerpc: a device-tree pmem-region through of_pmem', () => {
  it('registers the platform device, a bus named after it and one region, with a memory-controller persistence domain', () => {
    const m = ppc();
    const j = JSON.parse(run('ndctl list -BRN', m).stdout) as Record<string, unknown>[];
    expect(j).toEqual([
      {
        provider: '400000000.pmem',
        dev: 'ndbus0',
        regions: [
          {
            dev: 'region0',
            size: SZ_1G,
            align: 16777216,
            available_size: 0,
            max_available_extent: 0,
            type: 'pmem',
            persistence_domain: 'memory_controller',
            namespaces: [{ dev: 'namespace0.0', mode: 'fsdax', map: 'mem', size: SZ_1G, sector_size: 512, blockdev: 'pmem0' }],
          },
        ],
      },
    ]);
    expect(run('cat /proc/iomem', m).stdout).toContain('400000000-43fffffff : pmem@400000000\n  400000000-43fffffff : namespace0.0\n');
    expect(run("echo 'Hello, of_pmem' > /dev/pmem0", m).status).toBe(0);
    expect(run('head -c 14 /dev/pmem0', m).stdout).toBe('Hello, of_pmem');
  });

  it('a volatile pmem-region is a region without a persistence domain', () => {
    const m = ppc(true);
    expect(run('ndctl list -R', m).stdout).toContain('"persistence_domain":"unknown"');
  });

  it('has no nd bus without a pmem-region', () => {
    const m = bootMachine({ ...DEFAULT_MACHINE, platform: 'powerpc', ramSize: SZ_2G, maxmem: SZ_2G });
    expect(run('ndctl list -B', m).stdout).toBe('');
  });
});

describe('/dev as the shell sees it (devtmpfs)', () => {
  it('fails as the system calls do: a directory, a missing node, a write past the end, a huge cat', () => {
    const m = x86();
    const fs = machineFs(m);
    expect(run('echo x > /dev', m).stderr).toBe('zonedev: /dev: Is a directory\n');
    expect(run('echo x > /dev/pmem9', m).stderr).toBe('zonedev: /dev/pmem9: Permission denied\n');
    expect(run('cat /dev/nope', m).stderr).toBe('cat: /dev/nope: No such file or directory\n');
    expect(run('cat /dev/pmem0', m).stderr).toBe('cat: /dev/pmem0: File too large\n');
    expect(() => fs.pwrite!('/dev/pmem0', SZ_1G, new Uint8Array(1))).toThrow('No space left on device');
    // A write across the end is cut short; a read there returns what is left.
    expect(fs.pwrite!('/dev/pmem0', SZ_1G - 2, new Uint8Array([1, 2, 3, 4]))).toBe(2);
    expect(Array.from(fs.pread!('/dev/pmem0', SZ_1G - 2, 8))).toEqual([1, 2]);
    expect(fs.pread!('/dev/pmem0', SZ_1G, 8).length).toBe(0);
    expect(() => fs.pread!('/dev/pmem0', -1, 8)).toThrow('Invalid argument');
    expect(run('cat /dev/null /dev/zero', m)).toMatchObject({ status: 0, stdout: '' });
  });

  it('draws /dev/urandom from the machine seed: the same bytes on every boot with that seed', () => {
    const a = machineFs(x86()).pread!('/dev/urandom', 0, 16);
    const b = machineFs(x86()).pread!('/dev/urandom', 0, 16);
    const c = machineFs(bootMachine({ ...DEFAULT_MACHINE, ramSize: SZ_4G, maxmem: SZ_4G, seed: 2 })).pread!('/dev/urandom', 0, 16);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });
});

describe('a pmem-region the kernel cannot use', () => {
  it('boots without it: of_pmem refuses a range that overlaps RAM, and there is no pmem disk', () => {
    const m = bootMachine({ ...DEFAULT_MACHINE, platform: 'powerpc', ramSize: SZ_2G, maxmem: SZ_2G, pmemRegions: [{ start: 0, size: SZ_1G }] });
    expect(run('ls /dev', m).stdout).toBe('null\nurandom\nzero\n');
    expect(run('cat /proc/iomem', m).stdout).toContain('System RAM');
  });
});
