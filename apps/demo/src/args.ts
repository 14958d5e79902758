/**
 * The options of `zonedev run` and `zonedev shell`.
 *
 * ```
 *   zonedev run [--platform x86_64|powerpc] [--mmu MODE] [-m SIZE[,slots=N,maxmem=SIZE]]
 *               [--numa N] [--cmdline "..."] [--seed N] [--strict] [SCRIPT|-]
 * ```
 *
 * Long options take their value as the next argument or after `=`
 * (`--platform=powerpc`); `-m` also attached (`-m4G`). Anything wrong is a
 * usage error, which `zonedev` reports with status 2.
 */
import { DEFAULT_MACHINE, parseMemoryOption, type MachineOptions } from './machine/options.js';
import type { Platform } from './machine/machine.js';
import { MMU_MODES, type MmuMode } from './platform/profile.js';

/** Parsed `run`/`shell` arguments. */
export interface RunArgs {
  readonly machine: MachineOptions;
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
  const operands: string[] = [];
  const fail = (msg: string): { error: string } => ({ error: `${command}: ${msg}` });
  const result = (help: boolean): RunArgs => ({
    machine: { platform, ...memory, numa, cmdline, seed, ...(mmu !== undefined ? { mmu } : {}) },
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
    const takesValue = ['--platform', '--mmu', '-m', '--memory', '--numa', '--cmdline', '--seed'].includes(name);
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
    }
  }
  if (operands.length > 1) return fail(`too many arguments: ${operands.slice(1).join(' ')}`);
  if (mmu !== undefined && !MMU_MODES[platform].includes(mmu)) {
    return fail(`MMU mode '${mmu}' is not one of ${platform}'s (${MMU_MODES[platform].join(', ')})`);
  }
  return result(false);
}
