/**
 * One fuzz run: boot a machine chosen by the seed, drive it with the
 * generator's commands through the demo's own shell, and check the
 * invariants after every command. A run stops at its first finding and
 * returns it with the commands that led there, so the seed replays it.
 *
 * Besides the /proc and /sys invariants of invariants.ts, a run checks:
 *   - no command throws anything but a KernelError (the shell would print
 *     a JavaScript error's message), and no `BUG:` line reaches the user;
 *   - a command that fails with an errno (or QEMU's `Error:`) leaves
 *     /proc/iomem, the zones' sizes and the blocks' states as they were;
 *   - every memalloc page still lives in an online block and reads the text
 *     written into it (unless a devmem write hit it since);
 *   - a DIMM's `device_del` removes only memory blocks that DIMM added.
 */
import { ERRNO, isKernelError, strerror, type ErrnoName } from '@zonedev/kernel';
import { parseRunArgs } from '../../src/args.js';
import { bootShellMachine as bootMachine } from '../../src/commands/shell-machine.js';
import type { ShellMachine as Machine, ShellCommand } from '../../src/shell/command.js';
import { BASE_COMMANDS, Shell } from '../../src/shell/shell.js';
import type { VirtualFs } from '../../src/shell/vfs.js';
import { CommandGenerator, MODELLED_COMMANDS } from './generate.js';
import { blockSize, blockStates, checkDaxKmem, checkIomem, checkNamespaces, checkLsmemSummary, checkMeminfo, checkZones, firstDifference, internalErrorText, parseZoneinfo, ramPresentPages, snapshotOf } from './invariants.js';
import type { ZoneBaseline } from './invariants.js';
import { Prng } from './prng.js';
import { knownBug } from './known-bugs.js';

/** A machine the fuzzer boots: `zonedev run` options. */
export interface FuzzMachine {
  readonly argv: readonly string[];
  readonly platform: 'x86_64' | 'powerpc';
  /** End of the physical range worth aiming at. */
  readonly physTop: number;
  readonly nodes: number;
}

const G = 2 ** 30;

/** The machines of a run, one picked per seed. */
export const FUZZ_MACHINES: readonly FuzzMachine[] = [
  { argv: ['-m', '4G,slots=4,maxmem=8G'], platform: 'x86_64', physTop: 10 * G, nodes: 1 },
  { argv: ['-m', '2G,slots=2,maxmem=4G', '--numa', '2', '--cmdline', 'memmap=512M!2G'], platform: 'x86_64', physTop: 6 * G, nodes: 2 },
  { argv: ['-m', '4G,slots=4,maxmem=8G', '--cmdline', 'memhp_default_state=online_movable memory_hotplug.memmap_on_memory=1'], platform: 'x86_64', physTop: 10 * G, nodes: 1 },
  { argv: ['--platform', 'powerpc', '-m', '2G,slots=2,maxmem=4G', '--numa', '2'], platform: 'powerpc', physTop: 6 * G, nodes: 2 },
  { argv: ['--platform', 'powerpc', '--mmu', 'radix', '-m', '2G,slots=2,maxmem=4G'], platform: 'powerpc', physTop: 6 * G, nodes: 1 },
  // A QEMU NVDIMM with a label area: label-less until `init-labels`, then namespaces of any size.
  {
    argv: ['-m', '2G,slots=2,maxmem=8G', '-M', 'pc,nvdimm=on', '--object', 'memory-backend-file,id=nv1,share=on,mem-path=nvdimm1.img,size=1G', '--device', 'nvdimm,id=nvdimm1,memdev=nv1,label-size=128K'],
    platform: 'x86_64',
    physTop: 10 * G,
    nodes: 1,
  },
  // A device-tree pmem-region (of_pmem): one label-less region on powerpc.
  { argv: ['--platform', 'powerpc', '-m', '2G,slots=2,maxmem=4G', '--pmem-region', '16G,1G'], platform: 'powerpc', physTop: 6 * G, nodes: 1 },
  { argv: ['-m', '4G,slots=2,maxmem=8G', '--cmdline', 'memmap=1G!4G'], platform: 'x86_64', physTop: 10 * G, nodes: 1 },
];

/** A violated invariant, with what replays it. */
export interface Finding {
  readonly seed: number;
  readonly machine: string;
  /** Index of the offending command in `commands`. */
  readonly step: number;
  readonly commands: readonly string[];
  readonly problem: string;
  readonly output: string;
}

/** What a run did. */
export interface RunSummary {
  readonly seed: number;
  readonly commands: number;
  /** Commands not run because they match a known bug. */
  readonly skipped: number;
  /** The commands run, in order. */
  readonly history: readonly string[];
  /** How often each command (its first word) succeeded and failed. */
  readonly outcomes: ReadonlyMap<string, { ok: number; failed: number }>;
  readonly finding?: Finding;
}

/** A DIMM's address and size from `info memory-devices` text. */
function dimmRange(info: string, id: string): { addr: number; size: number } | undefined {
  const at = info.indexOf(`Memory device [dimm]: "${id}"\n`);
  if (at < 0) return undefined;
  const rest = info.slice(at).split('\nMemory device ')[0]!;
  const addr = /^ {2}addr: (0x[0-9a-f]+)$/m.exec(rest);
  const size = /^ {2}size: ([0-9]+)$/m.exec(rest);
  return addr === null || size === null ? undefined : { addr: Number(addr[1]), size: Number(size[1]) };
}

/** Records an exception that is not the kernel's errno before the shell turns it into text. */
function guarded(c: ShellCommand, record: (e: unknown) => void): ShellCommand {
  return {
    ...c,
    run(ctx): number {
      try {
        return c.run(ctx);
      } catch (e) {
        if (!isKernelError(e)) record(e);
        throw e;
      }
    },
  };
}

function guardedFs(fs: VirtualFs, record: (e: unknown) => void): VirtualFs {
  const wrap =
    <A extends unknown[], R>(f: (...a: A) => R) =>
    (...a: A): R => {
      try {
        return f.apply(fs, a);
      } catch (e) {
        if (!isKernelError(e)) record(e);
        throw e;
      }
    };
  // The same file system (its /dev mount too), with the VirtualFs methods recorded.
  return Object.create(fs, {
    read: { value: wrap(fs.read) },
    openWrite: { value: wrap(fs.openWrite) },
    write: { value: wrap(fs.write) },
    list: { value: wrap(fs.list) },
    isDir: { value: wrap(fs.isDir) },
    exists: { value: wrap(fs.exists) },
  }) as VirtualFs;
}

function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e);
}

/**
 * Runs `length` commands of seed `seed`; stops at the first finding. With
 * `script`, runs those commands instead of generated ones (on `machine`,
 * an index of FUZZ_MACHINES, default the seed's), under the same checks:
 * the way to confirm a reproduction by hand (`runKnownBugs`: run commands
 * that match a known bug too).
 */
export function fuzzRun(
  seed: number,
  length: number,
  script?: { readonly commands: readonly string[]; readonly machine?: number; readonly runKnownBugs?: boolean },
): RunSummary {
  const rng = new Prng(seed);
  const picked = rng.int(FUZZ_MACHINES.length);
  const fm = FUZZ_MACHINES[script?.machine ?? picked]!;
  if (fm === undefined) throw new RangeError(`no fuzz machine ${script?.machine}`);
  const args = parseRunArgs('run', fm.argv);
  if ('error' in args || !('machine' in args)) throw new Error(`bad fuzz machine ${fm.argv.join(' ')}`);
  const booted = bootMachine({ ...args.machine, seed });
  const thrown: unknown[] = [];
  const record = (e: unknown): void => void thrown.push(e);
  const machine: Machine = Object.create(booted, {
    commands: { value: [...BASE_COMMANDS, ...booted.commands].map((c) => guarded(c, record)) },
    sysfs: { value: guardedFs(booted.sysfs, record) },
  }) as Machine;
  let out = '';
  let err = '';
  const shell = new Shell(machine, {
    stdout: { write: (t: string): void => void (out += t) },
    stderr: { write: (t: string): void => void (err += t) },
  });
  const fs = shell.fs;
  // A second shell on the same machine for the checks' own commands: no simulated time passes for them.
  let checkOut = '';
  const checker = new Shell(Object.create(machine, { tick: { value: undefined } }) as Machine, {
    stdout: { write: (t: string): void => void (checkOut += t) },
  });
  const bs = blockSize(fs);
  const states0 = blockStates(fs);
  const base: ZoneBaseline = {
    presentPages: ramPresentPages(parseZoneinfo(fs.read('/proc/zoneinfo'))),
    online: new Set([...states0].filter(([, s]) => s === 'online').map(([n]) => n)),
    blockPages: bs / (fm.platform === 'powerpc' ? 2 ** 16 : 2 ** 12),
  };
  // What the machine shows now; the checks only read, so the state after one command is the state before the next.
  let states = states0;
  let now = snapshotOf(fs.read('/proc/iomem'), fs.read('/proc/zoneinfo'), states);
  const gen = new CommandGenerator(rng, {
    platform: fm.platform,
    blockSize: bs,
    physTop: fm.physTop,
    nodes: fm.nodes,
    blocks: () => [...states.keys()],
    nvdimm: fs.exists('/sys/bus/nd/devices/region0'),
    otherCommands: shell
      .commands()
      .map((c) => c.name)
      .filter((n) => !MODELLED_COMMANDS.includes(n))
      .sort(),
  });
  const pageSize = booted.mm.config.pageSize;
  const hasNvdimm = fs.exists('/sys/bus/nd/devices/region0');
  const owners = new Map<number, string>([...states0.keys()].map((n) => [n, 'boot']));
  const ownerSince = new Map<number, number>([...states0.keys()].map((n) => [n, -1]));
  // What each memalloc page must still read (undefined: a devmem write may have changed it).
  const written = new Map<string, string | undefined>();
  // Pages of processes the run starts itself, beside the generated commands:
  // whatever hot-remove migrates, each must read back what was stored.
  const procPages: { pid: number; va: number; text: string }[] = [];
  const commands: string[] = [];
  let skipped = 0;
  const outcomes = new Map<string, { ok: number; failed: number }>();
  const machineName = `zonedev run ${fm.argv.map((a) => (/[ !]/.test(a) ? `'${a}'` : a)).join(' ')} --seed ${seed}`;
  const steps = script?.commands.length ?? length;
  for (let step = 0; step < steps; step++) {
    const line = script?.commands[step] ?? gen.next();
    const bugContext = {
      platform: fm.platform,
      history: commands,
      next: line,
      blockSize: bs,
      dimm: (id: string): { addr: number; size: number } | undefined => dimmRange(booted.qemu.infoMemoryDevices(), id),
      blockOwner: (n: number): string | undefined => owners.get(n),
      blockAddedAt: (n: number): number | undefined => ownerSince.get(n),
    };
    if (script?.runKnownBugs !== true && knownBug(bugContext) !== undefined) {
      skipped++;
      continue;
    }
    commands.push(line);
    if (step % 7 === 3 && procPages.length < 4) {
      // a process maps a page of anonymous memory and stores text in it (ENOMEM: skipped)
      const procs = booted.machine.processes;
      try {
        const pid = procs.start().mm.pid;
        const va = procs.mmap(pid, pageSize);
        procs.write(pid, va, `fuzz-${step}`);
        procPages.push({ pid, va, text: `fuzz-${step}` });
      } catch (e) {
        if (!isKernelError(e) || e.errno !== 'ENOMEM') throw e;
      }
      // the state the command starts from includes the page (and its page tables)
      now = snapshotOf(fs.read('/proc/iomem'), fs.read('/proc/zoneinfo'), blockStates(fs));
    }
    const before = now;
    out = '';
    err = '';
    thrown.length = 0;
    let problem: string | undefined;
    let status = 0;
    try {
      status = shell.execLine(line).status;
    } catch (e) {
      problem = `the shell threw ${describeError(e)}`;
    }
    const iomemText = fs.read('/proc/iomem');
    const zoneinfoText = fs.read('/proc/zoneinfo');
    states = blockStates(fs);
    now = snapshotOf(iomemText, zoneinfoText, states);
    if (problem === undefined && thrown.length > 0) problem = `a command threw ${describeError(thrown[0])}`;
    if (problem === undefined) {
      const bad = internalErrorText(err);
      if (bad.length > 0) problem = `stderr shows an internal error (${bad.join(', ')})`;
    }
    if (problem === undefined && /^BUG: /m.test(out + err)) problem = 'a BUG: line reached the user';
    if (problem === undefined) {
      const iomem = checkIomem(iomemText);
      if (iomem.length > 0) problem = `/proc/iomem is not a tree: ${iomem.join('; ')}`;
    }
    if (problem === undefined) {
      const zones = checkZones(parseZoneinfo(zoneinfoText), states, base);
      if (zones.length > 0) problem = `zone counters: ${zones.join('; ')}`;
    }
    if (problem === undefined) {
      const mem = checkMeminfo(fs.read('/proc/meminfo'), zoneinfoText, fs.read('/proc/buddyinfo'), pageSize);
      if (mem.length > 0) problem = `meminfo: ${mem.join('; ')}`;
    }
    // lsmem walks every block: run it when a block changed, and now and then.
    if (problem === undefined && (step % 25 === 0 || now.states !== before.states)) {
      checkOut = '';
      checker.execLine('lsmem --summary=only -b');
      const ls = checkLsmemSummary(checkOut, states, bs);
      if (ls.length > 0) problem = ls.join('; ');
    }
    // The libnvdimm and dax views: after an ndctl or daxctl command, when a block changed, and now and then.
    const nvdimmCheck = /^(ndctl|daxctl) /.test(line) || now.states !== before.states || step % 25 === 0;
    if (problem === undefined && hasNvdimm && nvdimmCheck) {
      checkOut = '';
      checker.execLine('ndctl list -RN');
      const ns = checkNamespaces(checkOut, (p) => fs.exists(p));
      if (ns.length > 0) problem = `ndctl: ${ns.join('; ')}`;
    }
    if (problem === undefined && hasNvdimm && nvdimmCheck) {
      checkOut = '';
      checker.execLine('daxctl list');
      const dax = checkDaxKmem(checkOut, (p) => fs.read(p), states, bs);
      if (dax.length > 0) problem = `daxctl: ${dax.join('; ')}`;
    }
    if (problem === undefined && status === 0) {
      const alloc = /^memalloc (?:-n [0-9]+ )?(page[0-9]+)(?: (.*))?$/.exec(line);
      if (alloc !== null) written.set(alloc[1]!, unquote(alloc[2] ?? ''));
      const free = /^memfree (\S+)$/.exec(line);
      if (free !== null) written.delete(free[1]!);
      // a generated command that stores into, unmaps or ends one of the run's processes
      const touched = /^process (?:write|munmap|mprotect|exit) ([0-9]+)\b/.exec(line);
      if (touched !== null) for (let i = procPages.length - 1; i >= 0; i--) if (procPages[i]!.pid === Number(touched[1])) procPages.splice(i, 1);
      const poke = /^devmem (\S+) \S+ \S+$/.exec(line);
      if (poke !== null) {
        const addr = Number(poke[1]);
        for (const p of booted.kernelPages.list()) if (addr >= p.pfn * pageSize && addr < (p.pfn + 1) * pageSize) written.set(p.name, undefined);
      }
    }
    if (problem === undefined) {
      for (const pp of procPages) {
        const got = new TextDecoder().decode(booted.machine.processes.read(pp.pid, pp.va, pp.text.length));
        if (got !== pp.text) problem = `process ${pp.pid}'s page at 0x${pp.va.toString(16)} reads ${JSON.stringify(got)}, not ${JSON.stringify(pp.text)}`;
        if (problem !== undefined) break;
      }
    }
    if (problem === undefined) {
      for (const p of booted.kernelPages.list()) {
        const text = written.get(p.name);
        const blockState = states.get(Math.floor((p.pfn * pageSize) / bs));
        if (blockState !== 'online') problem = `page ${p.name} is at pfn 0x${p.pfn.toString(16)}, in a block that is ${blockState ?? 'gone'}`;
        else if (text !== undefined && booted.kernelPages.read(p) !== text) problem = `page ${p.name} reads ${JSON.stringify(booted.kernelPages.read(p))}, not ${JSON.stringify(text)}`;
        if (problem !== undefined) break;
      }
    }
    // Who added each block: an unplug takes away only what its own plug added
    // (a DIMM's eject never tears down a block the probe file or boot added).
    if (problem === undefined) {
      const del = /^device_del (\S+)$/.exec(line);
      for (const [n, who] of owners) {
        if (states.has(n)) continue;
        owners.delete(n);
        ownerSince.delete(n);
        if (del !== null && who !== `dimm ${del[1]}`) problem = `device_del ${del[1]} removed memory${n}, which ${who} added`;
      }
      const add = /^device_add \S*\bid=([^,\s]+)/.exec(line);
      const who = /^echo \S+ > \/sys\/devices\/system\/memory\/probe$/.test(line) ? 'the probe file' : add !== null ? `dimm ${add[1]}` : line;
      for (const n of states.keys()) {
        if (owners.has(n)) continue;
        owners.set(n, who);
        ownerSince.set(n, commands.length - 1);
      }
    }
    if (problem === undefined && failedWithErrno(line, status, err)) {
      for (const k of ['iomem', 'zoneinfo', 'states'] as const) {
        const d = firstDifference(before[k], now[k]);
        if (d !== undefined && problem === undefined) problem = `failed command (status ${status}) changed ${k}: ${d}`;
      }
    }
    const word = /^\S*/.exec(line)![0];
    const o = outcomes.get(word) ?? { ok: 0, failed: 0 };
    if (status === 0) o.ok++;
    else o.failed++;
    outcomes.set(word, o);
    if (problem === undefined) {
      gen.observe(out, line);
      continue;
    }
    return {
      seed,
      commands: commands.length,
      skipped,
      history: commands,
      outcomes,
      finding: { seed, machine: machineName, step: commands.length - 1, commands, problem, output: out + err },
    };
  }
  return { seed, commands: commands.length, skipped, history: commands, outcomes };
}

/** The words of a memalloc TEXT as the shell passes them (the generator quotes only with '...'). */
function unquote(text: string): string {
  return text.replace(/^'(.*)'$/, '$1');
}

/** The texts `strerror()` gives for every errno. */
const ERRNO_TEXTS: readonly string[] = (Object.keys(ERRNO) as ErrnoName[]).map((e) => strerror(e));

/**
 * Whether a command failed with an errno (or was refused by QEMU's monitor),
 * so that iomem, zoneinfo and the block states must be as they were: a
 * non-zero status with an errno's text or QEMU's `Error:` on stderr.
 * chmem's "some done" (64) reports that part of the request succeeded. A
 * guest that fails an ACPI eject has put back online what it offlined
 * (`acpi_bus_online()`), possibly in another zone, and says so only in an
 * `ACPI_DEVICE_OST` event: that is not an errno failure.
 */
function failedWithErrno(line: string, status: number, stderr: string): boolean {
  if (status === 0) return false;
  if (line.startsWith('chmem ') && status === 64) return false;
  if (notTransactional(line)) return false;
  return /^Error: /m.test(stderr) || ERRNO_TEXTS.some((t) => stderr.includes(t));
}

/**
 * ndctl and daxctl commands that are several writes to sysfs, not one, and
 * stop at the first that fails without undoing the earlier ones (as v72
 * does): reconfiguring a namespace (`create-namespace -e`: disable, write
 * the new personality, enable) or a dax device (`reconfigure-device`:
 * unbind device_dax, bind kmem; `destroy-device -f`: unbind, then set the
 * size to 0, which a static region refuses), and a command over `all` devices, which
 * goes on after one fails. The state they leave must still pass every
 * other check.
 */
function notTransactional(line: string): boolean {
  if (/^ndctl create-namespace\b.*(?:^| )(?:-e|--reconfig)(?: |=|$)/.test(line)) return true;
  if (/^daxctl (?:reconfigure-device|destroy-device)\b/.test(line)) return true;
  return /^(?:ndctl|daxctl) \S+\b.* all(?: |$)/.test(line);
}

/** A finding as text: the problem, the machine, the commands to replay it. */
export function formatFinding(f: Finding): string {
  return [
    `seed ${f.seed}: ${f.problem}`,
    `machine: ${f.machine}`,
    `replay: FUZZ_SEED=${f.seed} pnpm fuzz`,
    `commands (the last one failed):`,
    ...f.commands.map((c, i) => `  ${String(i).padStart(4)}  ${c}`),
    `its output:`,
    f.output,
  ].join('\n');
}
