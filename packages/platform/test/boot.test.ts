// bootMachine(): the options it refuses (with whose text), the machine it
// returns (every subsystem, /proc and /sys by path, /dev, the monitor's
// operations), determinism, and the injected NVDIMM backing store.
import { describe, expect, it } from 'vitest';
import { isKernelError } from '@zonedev/kernel';
import { SparseBacking } from '@zonedev/mmzone';
import {
  BackendError,
  BootError,
  DEFAULT_MACHINE,
  LINUX_BANNER,
  QemuError,
  bootMachine,
  powerpc,
  x86_64,
  type BackingStore,
  type BootOptions,
  type Machine,
} from '../src/index.js';

const G = 2 ** 30;
const M = 2 ** 20;

/** What `f` throws: its class name, errno (for a KernelError) and message. */
function thrown(f: () => unknown): { type: string; errno?: string; message: string } {
  try {
    f();
  } catch (e) {
    if (isKernelError(e)) return { type: 'KernelError', errno: e.errno, message: e.message };
    if (e instanceof Error) return { type: e.constructor.name, message: e.message };
    throw e;
  }
  throw new Error('did not throw');
}

/** Everything a consumer can observe of a machine's state. */
function snapshot(m: Machine): string {
  return [
    m.kernel.log.dmesg(),
    m.procfs.read('/proc/iomem'),
    m.procfs.read('/proc/zoneinfo'),
    m.procfs.read('/proc/meminfo'),
    m.sysfs.list('/sys/devices/system/memory').join(' '),
    m.infoMemoryDevices(),
    [...m.qemu.backends.keys()].join(' '),
  ].join('\n---\n');
}

describe('bootMachine(): the example of the README', () => {
  it('hot-adds a 128 MiB DIMM at 4 GiB, onlines its block, and /proc/iomem shows the new System RAM', () => {
    const m = bootMachine({ ...DEFAULT_MACHINE, slots: 2, maxmem: 4 * G });
    m.objectAdd('memory-backend-ram,id=mem1,size=128M');
    expect(m.deviceAdd('pc-dimm,id=dimm1,memdev=mem1')).toEqual({ output: '', console: [], events: [], guestFailed: false });
    expect(m.sysfs.read('/sys/devices/system/memory/memory32/state')).toBe('offline\n');
    m.sysfs.write('/sys/devices/system/memory/memory32/state', 'online');
    expect(m.sysfs.read('/sys/devices/system/memory/memory32/state')).toBe('online\n');
    expect(m.procfs.read('/proc/iomem').split('\n').slice(-2)).toEqual(['100000000-107ffffff : System RAM', '']);
    expect(m.infoMemoryDevices()).toBe(
      'Memory device [dimm]: "dimm1"\n  addr: 0x100000000\n  slot: 0\n  node: 0\n  size: 134217728\n  memdev: /objects/mem1\n  hotplugged: true\n  hotpluggable: true\n',
    );
  });
});

describe('bootMachine(): the machine it returns', () => {
  it('exposes one instance of every subsystem, wired together', () => {
    const m = bootMachine(DEFAULT_MACHINE);
    expect(m.kernel.log.dmesg().split('\n')[0]).toBe(`[    0.000000] ${LINUX_BANNER}`);
    expect(m.sysfs).toBe(m.kernel.sysfs);
    expect(m.sparse).toBeDefined();
    expect(m.memremap.hotplug).toBe(m.hotplug);
    expect(m.hotplug.blockSize).toBe(128 * M);
    expect(m.profile.platform).toBe('x86_64');
    expect(m.x86?.maxPfn).toBe(0x7ffe0);
    expect(m.powerpc).toBeUndefined();
    expect(m.nvdimm.disks()).toEqual([]);
    expect(m.hmm.module).toBeUndefined();
    expect(m.description).toBe('x86_64 (4-level paging): QEMU pc (i440FX) with SeaBIOS, 2048 MiB RAM, 1 NUMA node');
  });

  it('reads /proc by path and refuses a file it does not have with ENOENT', () => {
    const m = bootMachine({ ...DEFAULT_MACHINE, cmdline: 'movable_node' });
    expect(m.procfs.paths()).toEqual(['/proc/buddyinfo', '/proc/cmdline', '/proc/devices', '/proc/iomem', '/proc/meminfo', '/proc/pagetypeinfo', '/proc/zoneinfo']);
    expect(m.procfs.read('/proc/cmdline')).toBe('movable_node\n');
    expect(m.readProc('/proc/cmdline')).toBe('movable_node\n');
    expect(m.procfs.has('/proc/kcore')).toBe(false);
    expect(thrown(() => m.procfs.read('/proc/kcore'))).toEqual({ type: 'KernelError', errno: 'ENOENT', message: '/proc/kcore: No such file or directory' });
  });

  it('has the memory character devices, and /dev/pmem0 while the pmem driver has the disk', () => {
    const plain = bootMachine(DEFAULT_MACHINE);
    expect([...plain.devices().keys()]).toEqual(['null', 'urandom', 'zero']);
    expect(plain.devices().get('zero')!.read(0, 4)).toEqual(new Uint8Array(4));
    expect(plain.devices().get('null')!.read(0, 4)).toEqual(new Uint8Array(0));
    const m = bootMachine({ ...DEFAULT_MACHINE, ramSize: 4 * G, maxmem: 4 * G, cmdline: 'memmap=1G!4G' });
    const pmem = m.devices().get('pmem0')!;
    expect(pmem.kind).toBe('block');
    expect(pmem.size()).toBe(G);
    expect(pmem.write(4096, new TextEncoder().encode('persist'))).toBe(7);
    expect(new TextDecoder().decode(pmem.read(4096, 7))).toBe('persist');
  });

  it('is deterministic: the same options give the same bytes, /dev/urandom included', () => {
    const o: BootOptions = { ...DEFAULT_MACHINE, ramSize: 3 * G, slots: 2, maxmem: 5 * G, numa: 2, seed: 7 };
    const a = bootMachine(o);
    const b = bootMachine(o);
    expect(snapshot(a)).toBe(snapshot(b));
    expect(a.devices().get('urandom')!.read(0, 16)).toEqual(b.devices().get('urandom')!.read(0, 16));
    const c = bootMachine({ ...o, seed: 8 });
    expect(c.devices().get('urandom')!.read(0, 16)).not.toEqual(a.devices().get('urandom')!.read(0, 16));
  });

  it('shares no state between two machines', () => {
    const a = bootMachine({ ...DEFAULT_MACHINE, slots: 1, maxmem: 3 * G });
    const b = bootMachine({ ...DEFAULT_MACHINE, slots: 1, maxmem: 3 * G });
    const before = snapshot(b);
    a.objectAdd('memory-backend-ram,id=m,size=1G');
    a.deviceAdd('pc-dimm,id=d,memdev=m');
    expect(snapshot(b)).toBe(before);
    expect(snapshot(a)).not.toBe(before);
  });

  it('lets simulated time pass with tick(): the next event is at a quarter past the next second', () => {
    const m = bootMachine({ ...DEFAULT_MACHINE, slots: 1, maxmem: 3 * G });
    m.tick();
    expect(m.kernel.clock.now()).toBe(1.25e9);
    m.tick();
    expect(m.kernel.clock.now()).toBe(2.25e9);
  });
});

describe('bootMachine(): the profiles', () => {
  it('exports the default profiles as frozen values', () => {
    expect(x86_64.mmu).toBe('4level');
    expect(x86_64.mm.pageShift).toBe(12);
    expect(x86_64.maxPhysmemBits).toBe(46);
    expect(powerpc.mmu).toBe('hash');
    expect(powerpc.mm.pageShift).toBe(16);
    expect(powerpc.sparse.vmemmapPageSize).toBe(16 * M);
    expect(Object.isFrozen(x86_64) && Object.isFrozen(x86_64.mm) && Object.isFrozen(powerpc.sparse)).toBe(true);
    expect(bootMachine({ ...DEFAULT_MACHINE, platform: 'powerpc' }).profile.description).toBe(powerpc.description);
  });
});

describe('bootMachine(): options that are not what their types say (EINVAL, nothing built)', () => {
  const cases: [string, Partial<BootOptions>, string][] = [
    ['an unknown platform', { platform: 'arm64' as 'x86_64' }, "platform: 'arm64' is not x86_64 or powerpc"],
    ['a RAM size that is not a number', { ramSize: Number.NaN }, 'ramSize: NaN is not a whole number of bytes above 0'],
    ['a RAM size given as text', { ramSize: '4G' as unknown as number }, 'ramSize: 4G is not a whole number of bytes above 0'],
    ['a fractional maxmem', { maxmem: 2.5 }, 'maxmem: 2.5 is not a whole number of bytes above 0'],
    ['negative slots', { slots: -1 }, 'slots: -1 is not a number of slots'],
    ['no NUMA node', { numa: 0 }, 'numa: 0 is not 1 to 64 nodes'],
    ['a fractional seed', { seed: 1.5 }, 'seed: 1.5 is not a whole number'],
    ['an MMU of the other platform', { platform: 'powerpc', mmu: '5level' }, "mmu: '5level' is not one of powerpc's (hash, radix)"],
    ['a backing-store factory that is not a function', { backingStore: 'files' as unknown as NonNullable<BootOptions['backingStore']> }, 'backingStore: not a function'],
    ['a pmem-region node on x86_64', { pmemRegions: [{ start: 16 * G, size: G }] }, 'pmemRegions: pmem-region is a device-tree node: powerpc only (x86_64 takes memmap=nn!ss)'],
  ];
  for (const [what, o, message] of cases) {
    it(`refuses ${what}`, () => {
      expect(thrown(() => bootMachine({ ...DEFAULT_MACHINE, ...o }))).toEqual({ type: 'KernelError', errno: 'EINVAL', message });
    });
  }

  it('refuses something that is not an options object', () => {
    expect(thrown(() => bootMachine(undefined as unknown as BootOptions))).toEqual({ type: 'KernelError', errno: 'EINVAL', message: 'boot options: not an object' });
  });
});

describe("bootMachine(): settings QEMU refuses (QEMU's text)", () => {
  const cases: [string, Partial<BootOptions>, string][] = [
    ['maxmem below the RAM', { ramSize: 4 * G, maxmem: 2 * G, slots: 2 }, 'invalid value of -m option maxmem: maximum memory size (0x80000000) must be at least the initial memory size (0x100000000)'],
    ['slots with maxmem equal to the RAM', { slots: 2 }, 'invalid value of -m option maxmem: memory slots were specified but maximum memory size (0x80000000) is equal to the initial memory size (0x80000000)'],
    ['more slots than ACPI has', { slots: 300, maxmem: 8 * G }, 'unsupported amount of memory slots: 300'],
    ['a maxmem not page aligned', { slots: 2, maxmem: 4 * G + 1 }, 'maximum memory size must by aligned to multiple of 4096 bytes'],
  ];
  for (const [what, o, message] of cases) {
    it(`refuses ${what}`, () => {
      expect(thrown(() => bootMachine({ ...DEFAULT_MACHINE, ...o }))).toEqual({ type: 'QemuError', message });
    });
  }

  it('boots maxmem without slots, as QEMU 6.0 does, and refuses the DIMM for want of a slot', () => {
    for (const platform of ['x86_64', 'powerpc'] as const) {
      const m = bootMachine({ ...DEFAULT_MACHINE, platform, ramSize: 3 * G, maxmem: 5 * G });
      m.objectAdd('memory-backend-ram,id=mem1,size=256M');
      expect(thrown(() => m.deviceAdd('pc-dimm,id=dimm1,memdev=mem1'))).toEqual({
        type: 'QemuError',
        message: "no slots where allocated, please specify the 'slots' option",
      });
    }
  });

  it('makes the -m checks for pseries too', () => {
    expect(thrown(() => bootMachine({ ...DEFAULT_MACHINE, platform: 'powerpc', slots: 2 }))).toEqual({
      type: 'QemuError',
      message: 'invalid value of -m option maxmem: memory slots were specified but maximum memory size (0x80000000) is equal to the initial memory size (0x80000000)',
    });
  });

  it('refuses an NVDIMM without nvdimm=on, naming the -device option', () => {
    const o: BootOptions = {
      ...DEFAULT_MACHINE,
      slots: 2,
      maxmem: 4 * G,
      memoryBackends: [{ text: 'memory-backend-file,id=m1,mem-path=nv.img,size=1G', id: 'm1', memPath: 'nv.img', size: G, share: true }],
      nvdimms: [{ text: 'nvdimm,memdev=m1', memdev: 'm1', labelSize: 0, unarmed: false }],
    };
    expect(thrown(() => bootMachine(o))).toEqual({ type: 'BackendError', message: "-device nvdimm,memdev=m1: nvdimm is not enabled: missing 'nvdimm' in '-M'" });
  });
});

describe("bootMachine(): boots the kernel cannot finish (the panic's text)", () => {
  it('panics on a user memory map with no RAM in it, and says so last in dmesg', () => {
    const e = thrown(() => bootMachine({ ...DEFAULT_MACHINE, cmdline: 'memmap=exactmap' }));
    expect(e).toEqual({ type: 'BootError', message: 'Kernel panic - not syncing: Invalid user supplied memory map' });
  });

  it('panics when mem= leaves no room for the node data', () => {
    expect(thrown(() => bootMachine({ ...DEFAULT_MACHINE, cmdline: 'mem=1M' }))).toEqual({
      type: 'BootError',
      message: 'Kernel panic - not syncing: Cannot allocate 176128 bytes for node 0 data',
    });
    expect(thrown(() => bootMachine({ ...DEFAULT_MACHINE, platform: 'powerpc', cmdline: 'mem=1M' }))).toEqual({
      type: 'BootError',
      message: 'Kernel panic - not syncing: Cannot allocate 31360 bytes for node 0 data',
    });
  });
});

describe("the monitor's operations", () => {
  it("refuse with QEMU's text and leave the machine as it was", () => {
    const m = bootMachine({ ...DEFAULT_MACHINE, slots: 1, maxmem: 3 * G });
    m.objectAdd('memory-backend-ram,id=m1,size=1G');
    const before = snapshot(m);
    expect(thrown(() => m.objectAdd('memory-backend-ram,id=m1,size=1G'))).toEqual({ type: 'QemuError', message: "attempt to add duplicate property 'm1' to object (type 'container')" });
    expect(thrown(() => m.objectAdd('memory-backend-ram,id=m2,size=0'))).toEqual({ type: 'QemuError', message: "can't create backend with size 0" });
    expect(thrown(() => m.deviceAdd('pc-dimm,id=d1,memdev=nope'))).toEqual({ type: 'QemuError', message: "Device 'nope' not found" });
    expect(thrown(() => m.deviceAdd('pc-dimm,id=d1,memdev=m1,slot=1'))).toEqual({ type: 'QemuError', message: 'invalid slot# 1, should be less than 1' });
    expect(thrown(() => m.deviceDel('d1'))).toEqual({ type: 'QemuError', message: "Device 'd1' not found" });
    expect(thrown(() => m.objectDel('m9'))).toEqual({ type: 'QemuError', message: "object 'm9' not found" });
    expect(snapshot(m)).toBe(before);
  });

  it('unplug a DIMM the guest lets go of, and keep the backend busy while it is plugged', () => {
    const m = bootMachine({ ...DEFAULT_MACHINE, slots: 1, maxmem: 3 * G });
    const iomem = m.procfs.read('/proc/iomem');
    m.objectAdd('memory-backend-ram,id=m1,size=1G');
    m.deviceAdd('pc-dimm,id=d1,memdev=m1');
    expect(thrown(() => m.objectDel('m1'))).toEqual({ type: 'QemuError', message: "object 'm1' is in use, can not be deleted" });
    expect(m.deviceDel('d1').guestFailed).toBe(false);
    expect(m.infoMemoryDevices()).toBe('');
    expect(m.procfs.read('/proc/iomem')).toBe(iomem);
    m.objectDel('m1');
    expect(m.qemu.backends.size).toBe(0);
  });
});

describe('the NVDIMM backing store', () => {
  const nvdimmOptions = (backingStore?: BootOptions['backingStore']): BootOptions => ({
    ...DEFAULT_MACHINE,
    slots: 2,
    maxmem: 4 * G,
    nvdimm: true,
    memoryBackends: [{ text: 'memory-backend-file,id=m1,mem-path=nv.img,size=1G', id: 'm1', memPath: 'nv.img', size: G, share: true }],
    nvdimms: [{ text: 'nvdimm,memdev=m1,id=nv1', id: 'nv1', memdev: 'm1', labelSize: 0, unarmed: false }],
    ...(backingStore !== undefined ? { backingStore } : {}),
  });

  it('is opened through the factory of the boot options, with the mem-path and size, and the guest writes through it', () => {
    const opened: string[] = [];
    const stores: SparseBacking[] = [];
    const factory = (path: string, size: number): BackingStore => {
      opened.push(`${path} ${size}`);
      const s = new SparseBacking(size, 4096);
      stores.push(s);
      return Object.assign(s, { close: (): void => undefined });
    };
    const m = bootMachine(nvdimmOptions(factory));
    expect(opened).toEqual([`nv.img ${G}`]);
    const pmem = m.devices().get('pmem0')!;
    pmem.write(0, new TextEncoder().encode('label'));
    const back = new Uint8Array(5);
    stores[0]!.read(0, back);
    expect(new TextDecoder().decode(back)).toBe('label');
  });

  it("reports a store the factory cannot open with QEMU's text, prefixed by the -object option", () => {
    const factory = (path: string): BackingStore => {
      throw new BackendError(`can't open backing store ${path} for guest RAM: Permission denied`);
    };
    expect(thrown(() => bootMachine(nvdimmOptions(factory)))).toEqual({
      type: 'BackendError',
      message: "-object memory-backend-file,id=m1,mem-path=nv.img,size=1G: can't open backing store nv.img for guest RAM: Permission denied",
    });
  });

  it('defaults to an in-memory store per backend', () => {
    const m = bootMachine(nvdimmOptions());
    expect(m.devices().get('pmem0')!.size()).toBe(G);
  });
});

describe('errors are typed', () => {
  it('QemuError, BootError and BackendError are Errors with their names', () => {
    expect(new QemuError('x').name).toBe('QemuError');
    expect(new BootError('x').name).toBe('BootError');
    expect(new BackendError('x')).toBeInstanceOf(Error);
  });
});
