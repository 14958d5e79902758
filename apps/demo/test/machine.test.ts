import { describe, expect, it } from 'vitest';
import { BootError, bootMinimalMachine, LINUX_BANNER } from '../src/machine/minimal.js';
import { DEFAULT_MACHINE } from '../src/machine/options.js';
import { parseMemoryOption, parseQemuSize } from '../src/machine/options.js';
import { run } from '../src/shell/shell.js';

const G = 2 ** 30;

describe('the minimal x86_64 machine', () => {
  const m = bootMinimalMachine({ ...DEFAULT_MACHINE, ramSize: 16 * G, maxmem: 16 * G, cmdline: 'memmap=4G!12G' });

  it('logs the E820 story as the kernel does', () => {
    expect(m.kernel.log.dmesg()).toBe(`[    0.000000] ${LINUX_BANNER}
[    0.000000] Command line: memmap=4G!12G
[    0.000000] BIOS-provided physical RAM map:
[    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable
[    0.000000] BIOS-e820: [mem 0x000000000009fc00-0x000000000009ffff] reserved
[    0.000000] BIOS-e820: [mem 0x00000000000f0000-0x00000000000fffff] reserved
[    0.000000] BIOS-e820: [mem 0x0000000000100000-0x00000000bffdffff] usable
[    0.000000] BIOS-e820: [mem 0x00000000bffe0000-0x00000000bfffffff] reserved
[    0.000000] BIOS-e820: [mem 0x00000000feffc000-0x00000000feffffff] reserved
[    0.000000] BIOS-e820: [mem 0x00000000fffc0000-0x00000000ffffffff] reserved
[    0.000000] BIOS-e820: [mem 0x0000000100000000-0x000000043fffffff] usable
[    0.000000] user-defined physical RAM map:
[    0.000000] user: [mem 0x0000000000000000-0x000000000009fbff] usable
[    0.000000] user: [mem 0x000000000009fc00-0x000000000009ffff] reserved
[    0.000000] user: [mem 0x00000000000f0000-0x00000000000fffff] reserved
[    0.000000] user: [mem 0x0000000000100000-0x00000000bffdffff] usable
[    0.000000] user: [mem 0x00000000bffe0000-0x00000000bfffffff] reserved
[    0.000000] user: [mem 0x00000000feffc000-0x00000000feffffff] reserved
[    0.000000] user: [mem 0x00000000fffc0000-0x00000000ffffffff] reserved
[    0.000000] user: [mem 0x0000000100000000-0x00000002ffffffff] usable
[    0.000000] user: [mem 0x0000000300000000-0x00000003ffffffff] persistent (type 12)
[    0.000000] user: [mem 0x0000000400000000-0x000000043fffffff] usable
[    0.000000] e820: update [mem 0x00000000-0x00000fff] usable ==> reserved
[    0.000000] e820: remove [mem 0x000a0000-0x000fffff] usable
[    0.000000] last_pfn = 0x440000 max_arch_pfn = 0x400000000
[    0.000000] Kernel command line: memmap=4G!12G
`);
  });

  it('builds /proc/iomem from the final table', () => {
    expect(run('cat /proc/iomem', m).stdout).toBe(`00000000-00000fff : Reserved
00001000-0009fbff : System RAM
0009fc00-0009ffff : Reserved
000f0000-000fffff : Reserved
00100000-bffdffff : System RAM
bffe0000-bfffffff : Reserved
feffc000-feffffff : Reserved
fffc0000-ffffffff : Reserved
100000000-2ffffffff : System RAM
300000000-3ffffffff : Persistent Memory (legacy)
400000000-43fffffff : System RAM
`);
  });

  it("keeps the firmware's table in /sys/firmware/memmap", () => {
    const r = run('ls /sys/firmware/memmap\ncat /sys/firmware/memmap/7/start /sys/firmware/memmap/7/end /sys/firmware/memmap/7/type /sys/firmware/memmap/1/type', m);
    expect(r.stdout).toBe('0\n1\n2\n3\n4\n5\n6\n7\n0x100000000\n0x43fffffff\nSystem RAM\nReserved\n');
    expect(run('echo 0 > /sys/firmware/memmap/0/start', m).stderr).toBe('zonedev: /sys/firmware/memmap/0/start: Permission denied\n');
  });

  it('records what later stages need', () => {
    expect(m.x86).toMatchObject({ maxPfn: 0x440000, maxMemSize: undefined, layout: { belowFourG: 3 * G, aboveFourG: 13 * G } });
    expect(run('cat /proc/cmdline', m).stdout).toBe('memmap=4G!12G\n');
  });

  it('has no memory blocks yet', () => {
    expect(run('lsmem', m)).toMatchObject({ status: 1, stderr: 'lsmem: This system does not support memory blocks\n' });
  });

  it('panics on an invalid user map, and refuses settings QEMU refuses', () => {
    expect(() => bootMinimalMachine({ ...DEFAULT_MACHINE, cmdline: 'memmap=exactmap' })).toThrow(BootError);
    expect(() => bootMinimalMachine({ ...DEFAULT_MACHINE, slots: 2 })).toThrow(/memory slots were specified/);
  });

  it('is deterministic: two boots print the same bytes', () => {
    const a = bootMinimalMachine({ ...DEFAULT_MACHINE, cmdline: 'mem=1G' });
    const b = bootMinimalMachine({ ...DEFAULT_MACHINE, cmdline: 'mem=1G' });
    expect(run('dmesg\ncat /proc/iomem', a).output).toBe(run('dmesg\ncat /proc/iomem', b).output);
  });
});

describe('the minimal powerpc machine', () => {
  const m = bootMinimalMachine({ ...DEFAULT_MACHINE, platform: 'powerpc', ramSize: 3 * G, slots: 2, maxmem: 4 * G, numa: 2 });

  it('registers the merged memblock ranges as System RAM', () => {
    expect(run('cat /proc/iomem', m).stdout).toBe('00000000-bfffffff : System RAM\n');
  });

  it('shows the device tree in /sys/firmware/devicetree/base, with name properties', () => {
    const r = run('ls /sys/firmware/devicetree/base/memory@60000000\ncat /sys/firmware/devicetree/base/memory@60000000/device_type', m);
    expect(r.stdout).toBe('device_type\nibm,associativity\nname\nreg\nmemory\0');
    const lmb = run('cat /sys/firmware/devicetree/base/ibm,dynamic-reconfiguration-memory/ibm,lmb-size', m).stdout;
    expect([...lmb].map((c) => c.charCodeAt(0))).toEqual([0, 0, 0, 0, 0x10, 0, 0, 0]);
    expect(m.deviceTree?.children.map((c) => c.name)).toEqual(['memory@0', 'memory@60000000', 'memory@80000000', 'ibm,dynamic-reconfiguration-memory']);
  });
});

describe("QEMU's -m syntax", () => {
  it('reads sizes with optional suffixes, MiB by default', () => {
    expect(parseQemuSize('512')).toBe(512 * 2 ** 20);
    expect(parseQemuSize('4G')).toBe(4 * G);
    expect(parseQemuSize('1.5g')).toBe(1.5 * G);
    expect(parseQemuSize('64k')).toBe(65536);
    expect(parseQemuSize('4X')).toBeUndefined();
  });
  it('reads size=, slots= and maxmem=', () => {
    expect(parseMemoryOption('4G,slots=4,maxmem=32G')).toEqual({ ramSize: 4 * G, slots: 4, maxmem: 32 * G });
    expect(parseMemoryOption('size=2G')).toEqual({ ramSize: 2 * G, slots: 0, maxmem: 2 * G });
    expect(parseMemoryOption('1k')).toEqual({ ramSize: 8192, slots: 0, maxmem: 8192 });
    expect(parseMemoryOption('4G,foo=1')).toEqual({ error: "-m 4G,foo=1: unknown parameter 'foo'" });
    expect(parseMemoryOption('0')).toEqual({ error: "-m 0: invalid size '0'" });
    expect(parseMemoryOption('slots=2')).toEqual({ error: "-m slots=2: missing size" });
  });
});
