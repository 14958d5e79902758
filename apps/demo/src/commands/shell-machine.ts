/**
 * The adapter between a booted `@zonedev/platform` machine and the shell:
 * the machine knows no shell, so this is where its sysfs, `/proc` and `/dev`
 * become the shell's file systems and where the commands of the demo (the
 * QEMU monitor, the page inspectors, the memory tools, memremap, hmm, and
 * ndctl/daxctl/dd/head) are put in the shell's table.
 *
 * ```
 *   Machine (@zonedev/platform)          ShellMachine (the shell's view)
 *     sysfs (the kernel's Sysfs)   ->      sysfs: SysfsFs, with /dev (DevFs over devices())
 *     procfs.read(path)            ->      procfs: path -> () => text, as it is now
 *     tick()                       ->      tick()
 *                                          around(): explain on|off, around each command
 *                                          commands: the demo's, built over the machine
 * ```
 */
import { bootMachine, type BootOptions, type Machine } from '@zonedev/platform';
import { KernelError } from '@zonedev/kernel';
import type { ShellCommand, ShellMachine } from '../shell/command.js';
import { DevFs, SysfsFs, type ProcProvider } from '../shell/vfs.js';
import { chmemCommand, daxctlCommand, ddCommand, lsmemCommand, ndctlCommand } from '../tools/commands.js';
import { machineCommands } from './index.js';
import { explainSupport } from '../explain/explain.js';

/** The subsystems and the state of a platform machine that the demo's code reads directly. */
export type MachineParts = Pick<
  Machine,
  | 'platform' | 'description' | 'kernel' | 'options' | 'profile' | 'cmdline' | 'memblock' | 'mm' | 'sparse'
  | 'hotplug' | 'memremap' | 'nvdimm' | 'x86' | 'powerpc' | 'qemu' | 'kernelPages' | 'pagemaps' | 'hmm'
>;

/**
 * A shell's view of a platform machine: the shell's interface, the
 * machine's subsystem instances (the same objects, not copies), and the
 * machine itself.
 */
export interface DemoShellMachine extends ShellMachine, MachineParts {
  /** The booted machine the shell runs on. */
  readonly machine: Machine;
}

/** `/proc` as the shell's providers: a live view, looked at on every access (processes come and go). */
function procProviders(m: Machine): ReadonlyMap<string, ProcProvider> {
  const now = (): Map<string, ProcProvider> => new Map(m.procfs.paths().map((p) => [p, (): string => m.procfs.read(p)]));
  return {
    get size(): number {
      return now().size;
    },
    get: (k) => now().get(k),
    has: (k) => now().has(k),
    forEach: (fn, thisArg?: unknown) => now().forEach((v, k) => fn.call(thisArg, v, k, now())),
    entries: () => now().entries(),
    keys: () => now().keys(),
    values: () => now().values(),
    [Symbol.iterator]: () => now()[Symbol.iterator](),
  };
}

/** The shell's view of `machine`: its file systems and the demo's commands over it. */
export function shellMachine(machine: Machine): DemoShellMachine {
  const explain = explainSupport(machine.kernel);
  const commands: readonly ShellCommand[] = [
    ...machineCommands(machine, explain),
    ndctlCommand(2 ** machine.profile.mm.pageShift, (bus, command) => {
      // /dev/ndctlN: the bus's ioctl
      const b = machine.nvdimm.nvdimmBuses().find((x) => x.name === bus);
      if (b === undefined) throw new KernelError('ENOENT', `/dev/${bus.replace('ndbus', 'ndctl')}: ${new KernelError('ENOENT').strerror}`);
      return machine.nvdimm.ndBusCommand(b, command);
    }, (ns) => machine.kernel.clock.advance(ns)),
    daxctlCommand,
    ddCommand,
    lsmemCommand,
    chmemCommand,
  ];
  const m = machine;
  return {
    machine,
    platform: m.platform,
    description: m.description,
    kernel: m.kernel,
    options: m.options,
    profile: m.profile,
    cmdline: m.cmdline,
    memblock: m.memblock,
    mm: m.mm,
    sparse: m.sparse,
    hotplug: m.hotplug,
    memremap: m.memremap,
    nvdimm: m.nvdimm,
    x86: m.x86,
    powerpc: m.powerpc,
    qemu: m.qemu,
    kernelPages: m.kernelPages,
    pagemaps: m.pagemaps,
    hmm: m.hmm,
    sysfs: new SysfsFs(machine.sysfs, new DevFs(() => machine.devices())),
    procfs: procProviders(machine),
    commands,
    tick: () => machine.tick(),
    around: (f, err) => explain.around(f, err),
  };
}

/** Boots the machine `options` describe and gives the shell's view of it. Throws what `bootMachine()` throws. */
export function bootShellMachine(options: BootOptions): DemoShellMachine {
  return shellMachine(bootMachine(options));
}
