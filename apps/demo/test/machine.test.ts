import { describe, expect, it } from 'vitest';
import { bootShellMachine as bootMachine } from '../src/commands/shell-machine.js';
import { BootError, LINUX_BANNER } from '@zonedev/platform';
import { DEFAULT_MACHINE } from '@zonedev/platform';
import { run } from '../src/shell/shell.js';
import { meminfoShow } from '@zonedev/platform';

const G = 2 ** 30;
const M = 2 ** 20;

describe('the x86_64 machine', () => {
  const m = bootMachine({ ...DEFAULT_MACHINE, ramSize: 16 * G, maxmem: 16 * G, cmdline: 'memmap=4G!12G' });

  it('logs the E820 story as the kernel does, then the NUMA, zone and memory lines', () => {
    const dmesg = m.kernel.log.dmesg();
    expect(dmesg.startsWith(`[    0.000000] ${LINUX_BANNER}
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
[    0.000000] last_pfn = 0xbffe0 max_arch_pfn = 0x400000000
[    0.000000] No NUMA configuration found
[    0.000000] Faking a node at [mem 0x0000000000000000-0x000000043fffffff]
[    0.000000] NODE_DATA(0) allocated [mem 0x43ffd5000-0x43fffffff]
[    0.000000] Zone ranges:
`)).toBe(true);
    expect(dmesg).toContain('[    0.000000] Kernel command line: memmap=4G!12G\n[    0.000000] Memory: ');
    expect(dmesg).toContain('[    0.100000] x86/mm: Memory block size: 128MB\n');
  });

  it('builds /proc/iomem from the final table, with the kernel image inside System RAM', () => {
    expect(run('cat /proc/iomem', m).stdout).toBe(`00000000-00000fff : Reserved
00001000-0009fbff : System RAM
0009fc00-0009ffff : Reserved
000f0000-000fffff : Reserved
00100000-bffdffff : System RAM
  01000000-01e023ff : Kernel code
  02000000-024e8fff : Kernel rodata
  02600000-028577ff : Kernel data
  029be000-02e02fff : Kernel bss
bffe0000-bfffffff : Reserved
feffc000-feffffff : Reserved
fffc0000-ffffffff : Reserved
100000000-2ffffffff : System RAM
300000000-3ffffffff : Persistent Memory (legacy)
  300000000-3ffffffff : namespace0.0
400000000-43fffffff : System RAM
`);
  });

  it("keeps the firmware's table in /sys/firmware/memmap", () => {
    const r = run('ls /sys/firmware/memmap\ncat /sys/firmware/memmap/7/start /sys/firmware/memmap/7/end /sys/firmware/memmap/7/type /sys/firmware/memmap/1/type', m);
    expect(r.stdout).toBe('0\n1\n2\n3\n4\n5\n6\n7\n0x100000000\n0x43fffffff\nSystem RAM\nReserved\n');
    expect(run('echo 0 > /sys/firmware/memmap/0/start', m).stderr).toBe('zonedev: /sys/firmware/memmap/0/start: Permission denied\n');
  });

  it('records what boot found', () => {
    expect(m.x86).toMatchObject({ maxPfn: 0x440000, maxMemSize: undefined, layout: { belowFourG: 3 * G, aboveFourG: 13 * G } });
    expect(m.hotplug.maxPfn).toBe(0x440000);
    expect(run('cat /proc/cmdline', m).stdout).toBe('memmap=4G!12G\n');
  });

  it('has one online memory block per 128 MiB of RAM, none for the pmem', () => {
    expect(run('lsmem', m).stdout).toBe(`RANGE                                 SIZE  STATE REMOVABLE   BLOCK
0x0000000000000000-0x00000000bfffffff   3G online       yes    0-23
0x0000000100000000-0x00000002ffffffff   8G online       yes   32-95
0x0000000400000000-0x000000043fffffff   1G online       yes 128-135

Memory block size:       128M
Total online memory:      12G
Total offline memory:      0B
`);
  });

  it('keeps its counters consistent: zones add up to nodes, meminfo to the allocator', () => {
    for (const p of m.mm.onlinePgdats()) {
      expect(p.nodeZones.reduce((s, z) => s + z.presentPages, 0)).toBe(p.nodePresentPages);
    }
    const info = meminfoShow(m.machine);
    expect(info).toContain(`MemTotal:       ${String(m.mm.totalramPages * 4).padStart(8)} kB\n`);
    expect(info).toContain(`MemFree:        ${String(m.mm.nrFreePages() * 4).padStart(8)} kB\n`);
    expect(info.split('\n')[0]).toMatch(/^MemTotal: +[0-9]+ kB$/);
    expect(m.machine.memoryLine()).toMatch(/^Memory: [0-9]+K\/[0-9]+K available \(14345K kernel code, 2398K rwdata, 5028K rodata, 1432K init, 4372K bss, [0-9]+K reserved, 0K cma-reserved\)$/);
  });

  it('panics on an invalid user map, and refuses settings QEMU refuses', () => {
    expect(() => bootMachine({ ...DEFAULT_MACHINE, cmdline: 'memmap=exactmap' })).toThrow(BootError);
    expect(() => bootMachine({ ...DEFAULT_MACHINE, slots: 2 })).toThrow(/memory slots were specified/);
  });

  it('is deterministic: two boots print the same bytes', () => {
    const a = bootMachine({ ...DEFAULT_MACHINE, cmdline: 'mem=1G' });
    const b = bootMachine({ ...DEFAULT_MACHINE, cmdline: 'mem=1G' });
    const script = 'dmesg\ncat /proc/iomem\ncat /proc/zoneinfo\ncat /proc/meminfo';
    expect(run(script, a).output).toBe(run(script, b).output);
  });

  it("probes the memory block size from the end of boot memory, as a KVM guest's kernel does", () => {
    expect(bootMachine({ ...DEFAULT_MACHINE, ramSize: 8 * G, maxmem: 8 * G }).hotplug.blockSize).toBe(128 * M);
    // 64 GiB: 3 GiB low, 61 GiB from 4 GiB: boot memory ends at 65 GiB, 1 GiB-aligned.
    const big = bootMachine({ ...DEFAULT_MACHINE, ramSize: 64 * G, maxmem: 64 * G });
    expect(big.hotplug.blockSize).toBe(G);
    expect(big.kernel.log.dmesg()).toContain('x86/mm: Memory block size: 1024MB\n');
    expect(bootMachine({ ...DEFAULT_MACHINE, ramSize: 65 * G, maxmem: 65 * G }).hotplug.blockSize).toBe(2 * G);
  });

  it('places hot-added memory on the node of its SRAT range, or node 0 for probe', () => {
    const n = bootMachine({ ...DEFAULT_MACHINE, ramSize: 4 * G, slots: 2, maxmem: 6 * G, numa: 2 });
    expect(n.x86?.numaMeminfo).toEqual([
      { start: 0, end: 0x80000000, nid: 0 },
      { start: 0x80000000, end: 0x140000000, nid: 1 },
    ]);
    expect(n.x86?.numaReservedMeminfo).toEqual([{ start: 0x140000000, end: 0x240000000, nid: 1 }]);
    expect(n.hotplug.arch.memoryAddPhysaddrToNid?.(0x100000000)).toBe(1);
    expect(n.hotplug.arch.memoryAddPhysaddrToNid?.(0x140000000)).toBe(0);
  });
});

describe('the powerpc machine', () => {
  const m = bootMachine({ ...DEFAULT_MACHINE, platform: 'powerpc', ramSize: 3 * G, slots: 2, maxmem: 4 * G, numa: 2 });

  it('registers each memblock region (one per node) as System RAM', () => {
    expect(run('cat /proc/iomem', m).stdout).toBe('00000000-5fffffff : System RAM\n60000000-bfffffff : System RAM\n');
  });

  it('shows the device tree in /sys/firmware/devicetree/base, with name properties', () => {
    const r = run('ls /sys/firmware/devicetree/base/memory@60000000\ncat /sys/firmware/devicetree/base/memory@60000000/device_type', m);
    expect(r.stdout).toBe('device_type\nibm,associativity\nname\nreg\nmemory\0');
    const lmb = run('cat /sys/firmware/devicetree/base/ibm,dynamic-reconfiguration-memory/ibm,lmb-size', m).stdout;
    expect([...lmb].map((c) => c.charCodeAt(0))).toEqual([0, 0, 0, 0, 0x10, 0, 0, 0]);
    expect(m.powerpc?.deviceTree.children.map((c) => c.name)).toEqual(['memory@0', 'memory@60000000', 'memory@80000000', 'ibm,dynamic-reconfiguration-memory']);
  });

  it('puts each memory node on the node its ibm,associativity names, in 256 MiB blocks (ibm,lmb-size)', () => {
    expect(m.powerpc?.memory).toEqual([
      { base: 0, size: 0x60000000, nid: 0 },
      { base: 0x60000000, size: 0x20000000, nid: 1 },
      { base: 0x80000000, size: 0x40000000, nid: 1 },
    ]);
    expect(m.hotplug.blockSize).toBe(256 * M);
    expect(m.powerpc?.hotplugRegion).toEqual({ start: 0xc0000000, end: 0x100000000 });
  });

  it('falls back to 16 MiB blocks (or the memory@ node after memory@0) without hot-plug room', () => {
    expect(bootMachine({ ...DEFAULT_MACHINE, platform: 'powerpc' }).hotplug.blockSize).toBe(16 * M);
    expect(bootMachine({ ...DEFAULT_MACHINE, platform: 'powerpc', numa: 2 }).hotplug.blockSize).toBe(G);
  });

  it('honours mem= (memory_limit) and reports options it does not know', () => {
    const l = bootMachine({ ...DEFAULT_MACHINE, platform: 'powerpc', cmdline: 'mem=1G memmap=1G!4G' });
    expect(l.powerpc?.memory).toEqual([{ base: 0, size: G, nid: 0 }]);
    expect(run('cat /proc/iomem', l).stdout).toBe('00000000-3fffffff : System RAM\n');
    expect(l.kernel.log.dmesg()).toContain('Unknown kernel command line parameters "memmap=1G!4G", will be passed to user space.\n');
  });

  it('has no memmap_on_memory parameter and does not move max_pfn', () => {
    expect(run('cat /sys/module/memory_hotplug/parameters/memmap_on_memory', m).status).toBe(1);
    expect(m.hotplug.arch.mhpMemmapOnMemory).toBe(false);
    expect(m.hotplug.arch.addPagesUpdatesMaxPfn).toBe(false);
  });
});
