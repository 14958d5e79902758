/**
 * The options of `zonedev run` and `zonedev shell`.
 *
 * ```
 *   zonedev run [--platform x86_64|powerpc] [--mmu MODE] [-m SIZE[,slots=N,maxmem=SIZE]]
 *               [--numa N] [--cmdline "..."] [--seed N] [--strict]
 *               [--pmem-region START,SIZE[,volatile]]...
 *               [-M pc,nvdimm=on] [--object memory-backend-file,id=ID,mem-path=FILE,size=SIZE[,share=on]]...
 *               [--device nvdimm,memdev=ID[,id=ID][,label-size=SIZE][,unarmed=on]]... [SCRIPT|-]
 * ```
 *
 * `-M`/`--machine`, `--object` and `--device` are QEMU's `-machine`,
 * `-object` and `-device` for NVDIMMs on x86_64 (see machine/nvdimm.ts),
 * with QEMU's own error texts; the backend file is a real host file.
 *
 * `--pmem-region` (powerpc only, repeatable) puts a device-tree `pmem-region`
 * node into the machine's flattened device tree, as firmware does for
 * persistent memory on a powerpc server; `volatile` gives the node the
 * `volatile` property. START and SIZE take the kernel's size suffixes (K, M,
 * G, T, as `memparse()` reads them).
 *
 * Long options take their value as the next argument or after `=`
 * (`--platform=powerpc`); `-m` also attached (`-m4G`). Anything wrong is a
 * usage error, which `zonedev` reports with status 2.
 */
import { memparse } from '@zonedev/kernel';
import { DEFAULT_MACHINE, parseMemoryOption, type MachineOptions, type PmemRegionOption } from './machine/options.js';
import type { Platform } from './machine/machine.js';
import { MMU_MODES, type MmuMode } from './platform/profile.js';
import {
  checkNvdimmOptions,
  parseDeviceOption,
  parseMachineOption,
  parseObjectOption,
  type MemoryBackendFileOption,
  type NvdimmDeviceOption,
  type NvdimmOptions,
} from './machine/nvdimm.js';

/** Parsed `run`/`shell` arguments. */
export interface RunArgs {
  readonly machine: MachineOptions & NvdimmOptions;
  /** `--strict`. */
  readonly strict: boolean;
  /** The script operand (`-` for standard input), if any. */
  readonly script: string | undefined;
  /**
   * `--help` was given: print the command's usage and exit 0. As with GNU
   * getopt_long, it wins over any operand and over the options after it; the
   * other fields then hold what was parsed before it. Absent without `--help`.
   */
  readonly help?: true;
}

/** Parses the arguments after `run` or `shell`; returns them or a usage message. */
export function parseRunArgs(command: string, argv: readonly string[]): RunArgs | { error: string } {
  let platform: Platform = DEFAULT_MACHINE.platform;
  let memory = { ramSize: DEFAULT_MACHINE.ramSize, slots: DEFAULT_MACHINE.slots, maxmem: DEFAULT_MACHINE.maxmem };
  let numa = DEFAULT_MACHINE.numa;
  let cmdline = DEFAULT_MACHINE.cmdline;
  let seed = DEFAULT_MACHINE.seed;
  let mmu: MmuMode | undefined;
  let strict = false;
  const pmemRegions: PmemRegionOption[] = [];
  let nvdimmOn: boolean | undefined;
  const backends: MemoryBackendFileOption[] = [];
  const nvdimms: NvdimmDeviceOption[] = [];
  const operands: string[] = [];
  const fail = (msg: string): { error: string } => ({ error: `${command}: ${msg}` });
  const result = (help: boolean): RunArgs => ({
    machine: {
      platform,
      ...memory,
      numa,
      cmdline,
      seed,
      ...(mmu !== undefined ? { mmu } : {}),
      ...(pmemRegions.length > 0 ? { pmemRegions: [...pmemRegions] } : {}),
      ...(nvdimmOn !== undefined ? { nvdimm: nvdimmOn } : {}),
      ...(backends.length > 0 ? { memoryBackends: [...backends] } : {}),
      ...(nvdimms.length > 0 ? { nvdimms: [...nvdimms] } : {}),
    },
    strict,
    script: operands[0],
    ...(help ? { help: true as const } : {}),
  });

  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      operands.push(...argv.slice(i + 1));
      break;
    }
    let name: string;
    let value: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      name = eq < 0 ? a : a.slice(0, eq);
      value = eq < 0 ? undefined : a.slice(eq + 1);
    } else if (a === '-M') {
      name = '--machine';
      value = undefined;
    } else if (a.startsWith('-m') && a.length > 2) {
      name = '-m';
      value = a.slice(2);
    } else if (a.startsWith('-') && a !== '-') {
      name = a;
      value = undefined;
    } else {
      operands.push(a);
      continue;
    }
    const takesValue = ['--platform', '--mmu', '-m', '--memory', '--numa', '--cmdline', '--seed', '--pmem-region', '--machine', '--object', '--device'].includes(
      name,
    );
    if (!takesValue) {
      if (name === '--strict' && value === undefined) {
        strict = true;
        continue;
      }
      if (name === '--help' && value === undefined) return result(true);
      if (name === '--strict' || name === '--help') return fail(`option '${name}' doesn't allow an argument`);
      return fail(`unrecognized option '${a}'`);
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) return fail(`option '${name}' requires an argument`);
      value = argv[++i]!;
    }
    switch (name) {
      case '--platform':
        if (value !== 'x86_64' && value !== 'powerpc') return fail(`invalid platform '${value}' (x86_64 or powerpc)`);
        platform = value;
        break;
      case '--mmu':
        if (![...MMU_MODES.x86_64, ...MMU_MODES.powerpc].includes(value as MmuMode)) {
          return fail(`invalid MMU mode '${value}' (4level or 5level for x86_64, hash or radix for powerpc)`);
        }
        mmu = value as MmuMode;
        break;
      case '-m':
      case '--memory': {
        const m = parseMemoryOption(value);
        if ('error' in m) return fail(m.error);
        memory = m;
        break;
      }
      case '--numa':
        if (!/^[1-9][0-9]*$/.test(value) || Number(value) > 64) return fail(`invalid number of NUMA nodes '${value}' (1 to 64)`);
        numa = Number(value);
        break;
      case '--cmdline':
        cmdline = value;
        break;
      case '--seed':
        if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) return fail(`invalid seed '${value}'`);
        seed = Number(value);
        break;
      case '--machine': {
        const mo = parseMachineOption(value);
        if ('error' in mo) return fail(mo.error);
        nvdimmOn = mo.nvdimm;
        break;
      }
      case '--object': {
        const ob = parseObjectOption(value);
        if ('error' in ob) return fail(ob.error);
        backends.push(ob);
        break;
      }
      case '--device': {
        const dv = parseDeviceOption(value);
        if ('error' in dv) return fail(dv.error);
        nvdimms.push(dv);
        break;
      }
      case '--pmem-region': {
        const region = parsePmemRegion(value);
        if (region === undefined) return fail(`invalid pmem-region '${value}' (START,SIZE[,volatile])`);
        pmemRegions.push(region);
        break;
      }
    }
  }
  if (operands.length > 1) return fail(`too many arguments: ${operands.slice(1).join(' ')}`);
  if (pmemRegions.length > 0 && platform !== 'powerpc') {
    return fail('--pmem-region is a device-tree node: it needs --platform powerpc (x86_64 takes memmap=nn!ss)');
  }
  if (mmu !== undefined && !MMU_MODES[platform].includes(mmu)) {
    return fail(`MMU mode '${mmu}' is not one of ${platform}'s (${MMU_MODES[platform].join(', ')})`);
  }
  const parsed = result(false);
  const nvdimmProblem = checkNvdimmOptions(parsed.machine);
  if (nvdimmProblem !== undefined) return fail(nvdimmProblem);
  return parsed;
}

/** `START,SIZE[,volatile]`: a positive size at a start, both in `memparse()` syntax. */
function parsePmemRegion(value: string): PmemRegionOption | undefined {
  const parts = value.split(',');
  if (parts.length < 2 || parts.length > 3) return undefined;
  if (parts.length === 3 && parts[2] !== 'volatile') return undefined;
  const whole = (text: string): number | undefined => {
    if (text === '') return undefined;
    try {
      const { value: v, end } = memparse(text);
      return end === text.length && Number.isSafeInteger(v) ? v : undefined;
    } catch {
      return undefined;
    }
  };
  const start = whole(parts[0]!);
  const size = whole(parts[1]!);
  if (start === undefined || size === undefined || size === 0) return undefined;
  return { start, size, ...(parts.length === 3 ? { volatile: true } : {}) };
}
