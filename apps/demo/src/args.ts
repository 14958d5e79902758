/**
 * The options of `zonedev run` and `zonedev shell`.
 *
 * ```
 *   zonedev run [--platform x86_64|powerpc] [--mmu MODE] [-m SIZE[,slots=N,maxmem=SIZE]]
 *               [--numa N] [--cmdline "..."] [--seed N] [--strict]
 *               [--pmem-region START,SIZE[,volatile]]...
 *               [-M pc,nvdimm=on] [--object memory-backend-file,id=ID,mem-path=FILE,size=SIZE[,share=on]]...
 *               [--device nvdimm,memdev=ID[,id=ID][,label-size=SIZE][,unarmed=on]]...
 *               [--record FILE] [--export DIR] [SCRIPT|-]
 * ```
 *
 * A script may name its machine on its first line, `# zonedev run OPTIONS`
 * (see {@link scriptHeader}): `zonedev run SCRIPT` then boots with those
 * OPTIONS, followed by the command line's own (which so override a scalar
 * option of the header and add to its repeatable ones). `--record FILE`
 * (run only) writes such a script: the options of the run on that first
 * line, then the commands, so that `zonedev run FILE` replays the run — the
 * model is deterministic, so it prints the same and ends in the same state.
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
import {
  DEFAULT_MACHINE,
  MMU_MODES,
  checkNvdimmOptions,
  parseDeviceOption,
  parseMachineOption,
  parseMemoryOption,
  parseObjectOption,
  type MachineOptions,
  type MemoryBackendFileOption,
  type MmuMode,
  type NvdimmDeviceOption,
  type NvdimmOptions,
  type Platform,
  type PmemRegionOption,
} from '@zonedev/platform';

/** Parsed `run`/`shell` arguments. */
export interface RunArgs {
  readonly machine: MachineOptions & NvdimmOptions;
  /** `--strict`. */
  readonly strict: boolean;
  /** The script operand (`-` for standard input), if any. */
  readonly script: string | undefined;
  /** `--record FILE` (run only): where to write the replayable script. */
  readonly record?: string;
  /** `--export DIR` (run only): where to write the machine's sysfs and procfs after the script. */
  readonly exportDir?: string;
  /**
   * `--help` was given: print the command's usage and exit 0. As with GNU
   * getopt_long, it wins over any operand and over the options after it; the
   * other fields then hold what was parsed before it. Absent without `--help`.
   */
  readonly help?: true;
}

/**
 * Parses the arguments after `run` or `shell`; returns them or a usage
 * message. `optionWords`, if given, receives the option words as they were
 * given (`--seed`, `3`, ...), without `--record FILE` and the operand: what
 * a recording puts on its first line.
 */
export function parseRunArgs(command: string, argv: readonly string[], optionWords?: string[]): RunArgs | { error: string } {
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
  const options: string[] = optionWords ?? [];
  let record: string | undefined;
  let exportDir: string | undefined;
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
    ...(record !== undefined ? { record } : {}),
    ...(exportDir !== undefined ? { exportDir } : {}),
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
    ) || ((name === '--record' || name === '--export') && command === 'run');
    if (!takesValue) {
      if (name === '--strict' && value === undefined) {
        strict = true;
        options.push(a);
        continue;
      }
      if (name === '--help' && value === undefined) return result(true);
      if (name === '--strict' || name === '--help') return fail(`option '${name}' doesn't allow an argument`);
      return fail(`unrecognized option '${a}'`);
    }
    const start = i;
    if (value === undefined) {
      if (i + 1 >= argv.length) return fail(`option '${name}' requires an argument`);
      value = argv[++i]!;
    }
    if (name === '--record') {
      if (value === '') return fail("option '--record' requires a file name");
      record = value;
      continue;
    }
    if (name === '--export') {
      if (value === '') return fail("option '--export' requires a directory name");
      exportDir = value;
      continue;
    }
    options.push(...argv.slice(start, i + 1));
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

/** The first line of a script that names its machine. */
const HEADER = /^#\s*zonedev run(?:\s+(.*))?$/;

/**
 * Splits the rest of a `# zonedev run OPTIONS` line into words as a POSIX
 * shell does for the cases a header needs: blanks separate words, `'...'`
 * keeps everything, `"..."` keeps all but `\\`-escaped `"`, `\\`, `$` and
 * `` ` ``, and an unquoted `\\` keeps the next character. Undefined for an
 * unterminated quote.
 */
export function splitHeaderWords(text: string): string[] | undefined {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === ' ' || ch === '\t') {
      if (word !== undefined) words.push(word);
      word = undefined;
      continue;
    }
    word ??= '';
    if (ch === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return undefined;
      word += text.slice(i + 1, end);
      i = end;
    } else if (ch === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && j + 1 < text.length && '"\\$`'.includes(text[j + 1]!)) j++;
        word += text[j]!;
      }
      if (j >= text.length) return undefined;
      i = j;
    } else if (ch === '\\' && i + 1 < text.length) {
      word += text[++i]!;
    } else {
      word += ch;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** A word as a POSIX shell reads it back: bare if it is safe, else in single quotes. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.split("'").join("'\\''")}'`;
}

/**
 * The options of a script's first line, `# zonedev run OPTIONS` (the line
 * the demo's golden scripts and `--record` start with); undefined when the
 * first line is not such a line, `{ error }` when its quotes do not close.
 */
export function scriptHeader(script: string): { options: string[] } | { error: string } | undefined {
  const first = script.split('\n', 1)[0]!.replace(/\r$/, '');
  const m = HEADER.exec(first);
  if (m === null) return undefined;
  const words = splitHeaderWords(m[1] ?? '');
  if (words === undefined) return { error: "run: the script's '# zonedev run' line has an unterminated quote" };
  return { options: words };
}

/**
 * The script `--record` writes: `# zonedev run OPTIONS` with the options
 * the run booted with (`options`: the header's, if `script` had one, then
 * the command line's), then the commands of `script` without its old header.
 */
export function recordedScript(options: readonly string[], script: string): string {
  const body = scriptHeader(script) === undefined ? script : script.slice(script.indexOf('\n') + 1 || script.length);
  const header = ['# zonedev run', ...options.map(shellQuote)].join(' ');
  return `${header}\n${body}${body === '' || body.endsWith('\n') ? '' : '\n'}`;
}
