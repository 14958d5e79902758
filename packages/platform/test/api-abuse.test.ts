/**
 * API abuse: the public API of the platform, as its committed API report
 * (etc/platform.api.md) lists it — bootMachine() and each of its options,
 * the Machine's methods and those of its parts (the QEMU monitor, device
 * pagemaps, user memory, /proc), and the firmware and option parsers — is
 * called with each of the values no caller could mean (NaN, infinities, -1,
 * 1.5, 2^53 + 2, 2^64, undefined, a string or a number where the other is
 * wanted) in each parameter. Each call must be refused: with a KernelError
 * or KernelBug, with QEMU's or the boot's own error (QemuError, BootError,
 * BackendError),
 * or with the documented refusal result of a parser (`{ error }`,
 * `undefined`); and the machine must be as it was (/proc/iomem, meminfo,
 * zoneinfo, buddyinfo, the memory devices, the pagemaps and user pages).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { abuse, BAD, reportEntries, show } from '@zonedev/test-kit';
import type { Spec } from '@zonedev/test-kit';
import { isKernelBug, isKernelError } from '@zonedev/kernel';
import * as api from '../src/index.js';
import { BackendError, BootError, DEFAULT_MACHINE, QemuError, bootMachine } from '../src/index.js';
import type { BootOptions, DevicePagemap, FdtNode, Machine, NamedPage, PcMemoryLayout } from '../src/index.js';

/** A KernelError, or a KernelBug where the kernel would BUG. */
const refused = (err: unknown): boolean => isKernelError(err) || isKernelBug(err) || err instanceof BootError || err instanceof QemuError || err instanceof BackendError;

const ENTRIES = reportEntries(readFileSync(new URL('../etc/platform.api.md', import.meta.url), 'utf8'));
const GiB = 2 ** 30;
const OPTIONS: BootOptions = { ...DEFAULT_MACHINE, slots: 4, maxmem: 8 * GiB };

function state(m: Machine): string {
  const procs = ['/proc/iomem', '/proc/meminfo', '/proc/zoneinfo', '/proc/buddyinfo'].map((p) => m.readProc(p));
  const processes = m.processes.processes().map((p) => [p.mm.procMaps(), p.mm.getMmRss(), p.pins.length]);
  return JSON.stringify([procs, m.infoMemoryDevices(), m.pagemaps.list().map((d) => d.name), m.kernelPages.list().map((p) => [p.name, p.pfn]), processes]);
}

const isString = (_i: number, v: unknown): boolean => typeof v === 'string';
/** A device-tree node's name may be any string (the root's is not read). */
const anyName = (_i: number, f: string, v: unknown): boolean => f === 'name' && typeof v === 'string';
/** An option left out takes its default. */
const optionalField = (_i: number, f: string, v: unknown): boolean => v === undefined && f !== 'ramSize';
const isError = (r: unknown): boolean => typeof r === 'object' && r !== null && 'error' in r;

describe('@zonedev/platform: bootMachine() refuses each bad option value', () => {
  const fields = ['platform', 'ramSize', 'slots', 'maxmem', 'numa', 'cmdline', 'seed', 'mmu', 'pmemRegions', 'nvdimm', 'nvdimms', 'memoryBackends', 'backingStore'] as const;
  const optional = new Set<string>(['mmu', 'pmemRegions', 'nvdimm', 'nvdimms', 'memoryBackends', 'backingStore']);
  it('with BootError, QemuError or KernelError, and never boots a machine', () => {
    const failures: string[] = [];
    let calls = 0;
    for (const f of fields) {
      for (const v of BAD) {
        if (v === undefined && optional.has(f)) continue;
        if (f === 'cmdline' && typeof v === 'string') continue; // any string is a command line
        calls++;
        try {
          bootMachine({ ...OPTIONS, [f]: v } as BootOptions);
          failures.push(`${f} = ${show(v)}: booted`);
        } catch (err) {
          if (!(isKernelError(err) || isKernelBug(err) || err instanceof BootError || err instanceof QemuError)) failures.push(`${f} = ${show(v)}: threw ${String(err)}`);
        }
      }
    }
    for (const v of BAD) {
      calls++;
      try {
        bootMachine(v as BootOptions);
        failures.push(`options = ${show(v)}: booted`);
      } catch (err) {
        if (!(isKernelError(err) || err instanceof BootError || err instanceof QemuError)) failures.push(`options = ${show(v)}: threw ${String(err)}`);
      }
    }
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(100);
  });
});

describe('@zonedev/platform: every public entry point refuses bad values', () => {
  const m = bootMachine(OPTIONS);
  const page: NamedPage = m.kernelPages.alloc('abuse', 0);
  // a process with two pages mapped, the first one written
  const pid = m.processes.start().mm.pid;
  const va = m.processes.mmap(pid, 8192);
  m.processes.write(pid, va, 'kept');
  m.kernelPages.write(page, 'kept');
  const pgmap: DevicePagemap = m.pagemaps.map('generic', 64 * GiB, 128 * 2 ** 20, false, 0);
  const layout: PcMemoryLayout = api.pcMemoryLayout({ ramSize: 2 * GiB, maxmem: 8 * GiB, slots: 4 } as never);
  const e820 = api.qemuE820(layout);
  const fdt: FdtNode = api.spaprDeviceTree({ ramSize: 2 * GiB, maxmem: 8 * GiB, slots: 4, numa: 1 } as never);
  const a = (...xs: unknown[]) => () => xs;
  const n = (x: unknown): number => x as number;
  const str = (x: unknown): string => x as string;
  const parser = (f: (t: string) => unknown): Spec => ({ args: a('4G'), call: ([t]) => f(str(t)), allow: isString, refusal: (r) => r === undefined || isError(r) });
  const specs: Record<string, Spec | null> = {
    bootMachine: null, // its options, field by field, above
    'Machine.constructor': null, // the same as bootMachine()
    'Machine.deviceAdd': { args: a('pc-dimm,id=d0,memdev=nothing'), call: ([t]) => m.deviceAdd(str(t)), allow: isString },
    'Machine.deviceDel': { args: a('nothing'), call: ([t]) => m.deviceDel(str(t)), allow: isString },
    'Machine.objectAdd': { args: a('memory-backend-ram,id=m0,size=1G'), call: ([t]) => m.objectAdd(str(t)), allow: isString },
    'Machine.objectDel': { args: a('nothing'), call: ([t]) => m.objectDel(str(t)), allow: isString },
    'Machine.readProc': { args: a('/proc/meminfo'), call: ([t]) => m.readProc(str(t)), allow: isString },
    'Machine.devices': null,
    'Machine.infoMemoryDevices': null,
    'Machine.memoryLine': null,
    'Machine.tick': null,
    'QemuMachine.constructor': null, // the machine's own part
    'QemuMachine.deviceAdd': { args: a('pc-dimm,id=d0,memdev=nothing'), call: ([t]) => m.qemu.deviceAdd(str(t)), allow: isString },
    'QemuMachine.deviceDel': { args: a('nothing'), call: ([t]) => m.qemu.deviceDel(str(t)), allow: isString },
    'QemuMachine.objectAdd': { args: a('memory-backend-ram,id=m0,size=1G'), call: ([t]) => m.qemu.objectAdd(str(t)), allow: isString },
    'QemuMachine.objectDel': { args: a('nothing'), call: ([t]) => m.qemu.objectDel(str(t)), allow: isString },
    'QemuMachine.dimm': { args: a('nothing'), call: ([t]) => m.qemu.dimm(str(t)), allow: isString },
    'QemuMachine.infoMemoryDevices': null,
    'Procfs.constructor': null,
    'Procfs.has': { args: a('/proc/meminfo'), call: ([t]) => m.procfs.has(str(t)), allow: isString },
    'Procfs.read': { args: a('/proc/meminfo'), call: ([t]) => m.procfs.read(str(t)), allow: isString },
    'Procfs.paths': null,
    'DevicePagemaps.constructor': null,
    'DevicePagemaps.find': { args: a('pgmap0'), call: ([k]) => m.pagemaps.find(k as string), allow: (_i, v) => typeof v === 'string' },
    'DevicePagemaps.list': null,
    'DevicePagemaps.map': {
      args: a('generic', 96 * GiB, 128 * 2 ** 20, false, 0),
      call: ([t, s, z, w, d]) => m.pagemaps.map(str(t), s as number | undefined, n(z), w as boolean, n(d)),
      allow: (i, v) => i === 4 && v === -1, // NUMA_NO_NODE
    },
    'DevicePagemaps.unmap': { args: a(pgmap), call: ([d]) => m.pagemaps.unmap(d as DevicePagemap) },
    'KernelPages.constructor': null,
    'KernelPages.alloc': {
      args: a('p1', 0),
      call: ([s, d]) => m.kernelPages.alloc(str(s), d as number | undefined),
      allow: (i, v) => (i === 0 && typeof v === 'string') || (i === 1 && v === undefined),
    },
    'KernelPages.free': { args: a('nothing'), call: ([s]) => m.kernelPages.free(str(s)), allow: isString },
    'KernelPages.get': { args: a('abuse'), call: ([s]) => m.kernelPages.get(str(s)), allow: isString },
    'KernelPages.read': { args: a(page), call: ([p]) => m.kernelPages.read(p as NamedPage) },
    'KernelPages.write': { args: a(page, 'kept'), call: ([p, t]) => m.kernelPages.write(p as NamedPage, str(t)), allow: (i, v) => i === 1 && typeof v === 'string' },
    'KernelPages.list': null,
    // MachineHmm's methods act on processes of the shell; its abuse is the hmm package's suite
    'MachineHmm.constructor': null,
    'MachineHmm.nextPid': null,
    // the processes: each call on the live process, with one bad argument
    'MachineProcesses.constructor': null,
    'MachineProcesses.process': { args: a(pid), call: ([p]) => m.processes.process(n(p)) },
    'MachineProcesses.processes': null,
    'MachineProcesses.start': {
      args: a(0),
      call: ([n]) => m.processes.exit(m.processes.start(n as number | undefined).mm.pid),
      allow: (_i, v) => v === undefined,
    },
    'MachineProcesses.mmap': { args: a(pid, 4096, 'private'), call: ([p, l, h]) => m.processes.mmap(n(p), n(l), h as never), allow: (i, v) => i === 2 && v === undefined },
    'MachineProcesses.munmap': { args: a(pid, va + 4096, 4096), call: ([p, x, l]) => m.processes.munmap(n(p), n(x), n(l)) },
    'MachineProcesses.mprotect': { args: a(pid, va, 4096, 3), call: ([p, x, l, pr]) => m.processes.mprotect(n(p), n(x), n(l), n(pr)) },
    'MachineProcesses.write': { args: a(pid, va, 'kept'), call: ([p, x, t]) => m.processes.write(n(p), n(x), t as string), allow: (i, v) => i === 2 && typeof v === 'string' },
    'MachineProcesses.read': { args: a(pid, va, 4), call: ([p, x, l]) => m.processes.read(n(p), n(x), n(l)) },
    'MachineProcesses.fork': { args: a(pid), call: ([p]) => m.processes.fork(n(p)) },
    'MachineProcesses.pin': { args: a(pid, va, 4096, false), call: ([p, x, l, lt]) => m.processes.pin(n(p), n(x), n(l), lt as boolean) },
    'MachineProcesses.unpin': { args: a(pid), call: ([p]) => m.processes.unpin(n(p)) },
    'MachineProcesses.exit': { args: a(pid), call: ([p]) => m.processes.exit(n(p)) },
    'MachineHmm.addProcess': null,
    'MachineHmm.busyPages': null,
    'MachineHmm.closeDevice': { args: a(1), call: ([p]) => m.hmm.closeDevice(n(p)) },
    'MachineHmm.devices': null,
    'MachineHmm.exitProcess': { args: a(99999), call: ([p]) => m.hmm.exitProcess(n(p)) },
    'MachineHmm.load': null,
    'MachineHmm.mappingsOf': { args: a(0x1000), call: ([p]) => m.hmm.mappingsOf(n(p)) },
    'MachineHmm.moduleOrUnloaded': null,
    'MachineHmm.process': { args: a(1), call: ([p]) => m.hmm.process(n(p)) },
    'MachineHmm.processes': null,
    'MachineHmm.taskOptions': null,
    'MachineHmm.unload': null,
    'BackendError.constructor': null, // error types
    'BootError.constructor': null,
    'QemuError.constructor': null,
    // firmware tables and option parsers
    parseQemuSize: {
      args: a('4G', 2 ** 20),
      call: ([t, u]) => api.parseQemuSize(str(t), u as number),
      allow: (i, v) => i === 0 && typeof v === 'string',
      refusal: (r) => r === undefined,
    },
    parseDeviceOption: parser((t) => api.parseDeviceOption(t)),
    parseMachineOption: parser((t) => api.parseMachineOption(t)),
    parseMemoryOption: parser((t) => api.parseMemoryOption(t)),
    parseObjectOption: parser((t) => api.parseObjectOption(t)),
    parseMmCmdline: { args: a('x86_64', ''), call: ([p, c]) => api.parseMmCmdline(p as never, str(c)), allow: (i, v) => i === 1 && typeof v === 'string' },
    checkNvdimmOptions: {
      args: a(OPTIONS),
      call: ([o]) => api.checkNvdimmOptions(o as never),
      refusal: (r) => typeof r === 'string',
      // QEMU's NVDIMM checks read the platform, the sizes and the slots, not the command line, seed or nodes
      allowField: (_i, f) => f === 'cmdline' || f === 'seed' || f === 'numa',
    },
    e820EndOfLowRamPfn: { args: a(e820, 2 ** 34), call: ([t, x]) => api.e820EndOfLowRamPfn(t as never, x as number) },
    e820EndOfRamPfn: { args: a(e820, 2 ** 34), call: ([t, x]) => api.e820EndOfRamPfn(t as never, x as number) },
    e820ParseEarlyParams: { args: a(e820, ''), call: ([t, c]) => api.e820ParseEarlyParams(t as never, str(c)), allow: (i, v) => i === 1 && typeof v === 'string' },
    e820PrintTable: { args: a(e820, 'BIOS-e820'), call: ([t, w]) => api.e820PrintTable(t as never, str(w)), allow: (i, v) => i === 1 && typeof v === 'string' },
    e820ReserveResources: { args: () => [bootMachine(OPTIONS).kernel.iomem, e820], call: ([r, t]) => api.e820ReserveResources(r as never, t as never) },
    e820TypeName: { args: a(1), call: ([t]) => api.e820TypeName(n(t)) },
    e820TypeToString: { args: a(1), call: ([t]) => api.e820TypeToString(n(t)) },
    fdtFindNode: { args: a(fdt, '/memory'), call: ([r, p]) => api.fdtFindNode(r as FdtNode, str(p)), allow: (i, v) => i === 1 && typeof v === 'string' , allowField: anyName },
    fdtGetProp: { args: a(fdt, 'model'), call: ([r, p]) => api.fdtGetProp(r as FdtNode, str(p)), allow: (i, v) => i === 1 && typeof v === 'string' , allowField: anyName },
    fdtGetString: { args: a(fdt, 'model'), call: ([r, p]) => api.fdtGetString(r as FdtNode, str(p)), allow: (i, v) => i === 1 && typeof v === 'string' , allowField: anyName },
    fdtLmbSize: { args: a(fdt), call: ([r]) => api.fdtLmbSize(r as FdtNode) , allowField: anyName },
    fdtMemoryRanges: { args: a(fdt), call: ([r]) => api.fdtMemoryRanges(r as FdtNode) , allowField: anyName },
    fdtPmemRegions: { args: a(fdt), call: ([r]) => api.fdtPmemRegions(r as FdtNode) , allowField: anyName },
    printDts: { args: a(fdt, []), call: ([r, x]) => api.printDts(r as FdtNode, x as never) , allowField: anyName },
    meminfoShow: { args: a(m), call: ([x]) => api.meminfoShow(x as Machine) },
    memoryBlockSizeLine: { args: a(128 * 2 ** 20), call: ([x]) => api.memoryBlockSizeLine(n(x)) },
    numaCleanupMeminfo: {
      args: a([], 0x80000, () => true, () => undefined),
      call: ([b, p, h, l]) => api.numaCleanupMeminfo(b as never, n(p), h as never, l as never),
    },
    numaSplit: { args: a(2 * GiB, 2, 2 ** 20), call: ([s, k, al]) => api.numaSplit(n(s), n(k), n(al)) },
    pcMemoryLayout: { args: a({ ramSize: 2 * GiB, maxmem: 8 * GiB, slots: 4 }), call: ([o]) => api.pcMemoryLayout(o as never), allowField: optionalField },
    pnvMemoryBlockSize: { args: a('radix'), call: ([x]) => api.pnvMemoryBlockSize(x as never) },
    ppcMemremapCompatAlign: { args: a('radix'), call: ([x]) => api.ppcMemremapCompatAlign(x as never) },
    powerpcProfile: { args: a({}), call: ([o]) => api.powerpcProfile(o as never) },
    x86Profile: { args: a({}), call: ([o]) => api.x86Profile(o as never) },
    probeMemoryBlockSize: { args: a({ bootMemEnd: 2 * GiB }), call: ([o]) => api.probeMemoryBlockSize(o as never) },
    pseriesMemoryBlockSize: { args: a(256 * 2 ** 20, []), call: ([s, x]) => api.pseriesMemoryBlockSize(s as number | undefined, x as never) },
    qemuE820: { args: a(layout), call: ([l]) => api.qemuE820(l as never), allowField: optionalField /* no device memory */ },
    seabiosE820: { args: a(layout), call: ([l]) => api.seabiosE820(l as never), allowField: optionalField /* no device memory */ },
    qemuSrat: { args: a(layout, [2 * GiB]), call: ([l, x]) => api.qemuSrat(l as never, x as never), allowField: optionalField },
    radixCreatePhysicalMapping: {
      args: () => [0, 2 * GiB, GiB, 0, { k4: 0, k64: 0, m2: 0, g1: 0 }],
      call: ([s, e, x, i, acc]) => api.radixCreatePhysicalMapping(n(s), n(e), n(x), n(i), acc as never),
    },
    spaprDeviceTree: { args: a({ ramSize: 2 * GiB, maxmem: 8 * GiB, numaNodes: 1 }), call: ([o]) => api.spaprDeviceTree(o as never), allowField: optionalField },
    spaprLmbDrcIndex: { args: a(3), call: ([x]) => api.spaprLmbDrcIndex(n(x)) },
    unknownBootoptionsLine: { args: a([]), call: ([x]) => api.unknownBootoptionsLine(x as never) },
  };

  it('the table covers every function and method of the API report, and nothing else', () => {
    const keys = [...new Set(ENTRIES.map((e) => e.key))].sort();
    expect(Object.keys(specs).sort()).toEqual(keys);
  });

  it('each bad value in each parameter is refused, the machine unchanged', () => {
    const t = abuse(ENTRIES, specs, () => state(m), refused);
    expect(t.failures).toEqual([]);
    expect(t.calls).toBeGreaterThan(300);
    expect(m.kernelPages.read(page)).toMatch(/^kept/);
    expect(m.pagemaps.find(pgmap.name)).toBe(pgmap);
  });
});
