/**
 * ndctl's option parser (ndctl v72 `util/parse-options.c`, git's and perf's
 * parse-options) and its way of failing (`util/usage.c`).
 *
 * `error()` prints `  Error: MESSAGE` and a blank line (the message's own
 * newline, then report()'s). An unknown option prints its error and the
 * whole usage, a bad value prints its error, the usage line and that one
 * option; both exit with status 129, as does `-h`:
 *
 * ```
 *   $ ndctl list -Z
 *     Error: unknown switch `Z'
 *
 *    usage: ndctl list [<options>]
 *
 *       -b, --bus <bus-id>    filter by bus
 *   ...
 * ```
 *
 * Long options may be abbreviated to any unambiguous prefix; `--no-NAME`
 * unsets a boolean or string option. Non-options are collected in order
 * (ndctl parses with flags 0, so options may follow them); `--` ends the
 * options.
 */

/** An ndctl option (`OPT_STRING`, `OPT_BOOLEAN`, `OPT_INCR`). */
export interface NdctlOption {
  readonly short?: string;
  readonly long: string;
  readonly type: 'string' | 'boolean' | 'incr';
  /** `<argh>` in the usage of a string option. */
  readonly argh?: string;
  readonly help: string;
}

/** The parsed values: strings (undefined when unset), booleans, counters. */
export interface ParsedNdctlOptions {
  readonly values: Map<string, string | boolean | number | undefined>;
  readonly operands: string[];
}

/** `exit(129)` after usage or an option error, carrying what was printed on stderr. */
export class NdctlUsageExit {
  readonly stderr: string;
  constructor(stderr: string) {
    this.stderr = stderr;
  }
}

/** `error()` of util/usage.c. */
export function ndctlError(msg: string): string {
  return `  Error: ${msg}\n`;
}

/** `warning()` of util/usage.c. */
export function ndctlWarning(msg: string): string {
  return `  Warning: ${msg}\n`;
}

const USAGE_OPTS_WIDTH = 24;
const USAGE_GAP = 2;

/** `print_option_help()`. */
function optionHelp(o: NdctlOption): string {
  let s = '    ';
  s += o.short !== undefined ? `-${o.short}` : '    ';
  if (o.short !== undefined) s += ', ';
  s += `--${o.long}`;
  if (o.type === 'string') s += o.argh !== undefined ? ` <${o.argh}>` : ' ...';
  let out = s;
  let pad: number;
  if (s.length <= USAGE_OPTS_WIDTH) pad = USAGE_OPTS_WIDTH - s.length;
  else {
    out += '\n';
    pad = USAGE_OPTS_WIDTH;
  }
  return `${out}${' '.repeat(pad + USAGE_GAP)}${o.help}\n`;
}

/** `usage_with_options()`: the usage lines, a blank line, every option, a blank line. */
export function usageWithOptions(usage: readonly string[], options: readonly NdctlOption[]): string {
  let s = `\n usage: ${usage[0]!}\n`;
  for (const u of usage.slice(1)) s += `    or: ${u}\n`;
  s += '\n';
  for (const o of options) s += optionHelp(o);
  return `${s}\n`;
}

/** `parse_options_usage()`: the usage lines, a blank line, and the help of one option. */
function optionUsage(usage: readonly string[], o: NdctlOption | undefined): string {
  let s = `\n usage: ${usage[0]!}\n`;
  for (const u of usage.slice(1)) s += `    or: ${u}\n`;
  s += '\n';
  if (o !== undefined) s += optionHelp(o);
  return s;
}

/**
 * `parse_options()` of `args` (without the command name). Throws
 * {@link NdctlUsageExit} for `-h`/`--help` and for any option error.
 */
export function parseNdctlOptions(args: readonly string[], options: readonly NdctlOption[], usage: readonly string[]): ParsedNdctlOptions {
  const values = new Map<string, string | boolean | number | undefined>();
  const operands: string[] = [];
  const set = (o: NdctlOption, unset: boolean, value: string | undefined): void => {
    if (o.type === 'boolean') values.set(o.long, !unset);
    else if (o.type === 'incr') values.set(o.long, unset ? 0 : ((values.get(o.long) as number | undefined) ?? 0) + 1);
    else values.set(o.long, unset ? undefined : value);
  };
  const fail = (msg: string, o: NdctlOption | undefined): never => {
    throw new NdctlUsageExit(ndctlError(msg) + optionUsage(usage, o));
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('-') || arg === '-') {
      operands.push(arg);
      continue;
    }
    if (arg[1] !== '-') {
      // A cluster of short options: -Ni, -fe namespace0.0, -sVALUE.
      let rest = arg.slice(1);
      let first = true;
      while (rest !== '') {
        const c = rest[0]!;
        if (c === 'h') throw new NdctlUsageExit(usageWithOptions(usage, options));
        const o = options.find((x) => x.short === c);
        if (o === undefined) {
          throw new NdctlUsageExit(ndctlError(`unknown switch \`${c}'`) + usageWithOptions(usage, options));
        }
        rest = rest.slice(1);
        if (o.type === 'string') {
          if (rest !== '') set(o, false, rest);
          else if (i + 1 < args.length) set(o, false, args[++i]!);
          else fail(`switch \`${c}' requires a value`, o);
          rest = '';
          break;
        }
        set(o, false, undefined);
        if (first && rest !== '') checkTypos(arg.slice(1), options);
        first = false;
      }
      continue;
    }
    if (arg === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    const body = arg.slice(2);
    if (body === 'help' || body === 'help-all') throw new NdctlUsageExit(usageWithOptions(usage, options));
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const value = eq < 0 ? undefined : body.slice(eq + 1);
    let match: { o: NdctlOption; unset: boolean } | undefined;
    let abbrev: { o: NdctlOption; unset: boolean } | undefined;
    let ambiguous: { o: NdctlOption; unset: boolean } | undefined;
    for (const o of options) {
      if (name === o.long) {
        match = { o, unset: false };
        break;
      }
      if (name.startsWith('no-') && name.slice(3) === o.long) {
        match = { o, unset: true };
        break;
      }
      const cand = o.long.startsWith(name)
        ? { o, unset: false }
        : name.startsWith('no-') && name.length > 3 && o.long.startsWith(name.slice(3))
          ? { o, unset: true }
          : undefined;
      if (cand !== undefined) {
        if (abbrev !== undefined) ambiguous = abbrev;
        abbrev = cand;
      }
    }
    if (match === undefined && ambiguous !== undefined && abbrev !== undefined) {
      const p = (x: { o: NdctlOption; unset: boolean }): string => `--${x.unset ? 'no-' : ''}${x.o.long}`;
      throw new NdctlUsageExit(ndctlError(`Ambiguous option: ${name} (could be ${p(ambiguous)} or ${p(abbrev)})`) + optionUsage(usage, undefined));
    }
    const hit = match ?? abbrev;
    if (hit === undefined) {
      throw new NdctlUsageExit(ndctlError(`unknown option \`${body}'`) + usageWithOptions(usage, options));
    }
    const o = hit.o;
    const label = `${hit.unset ? 'no-' : ''}${o.long}`;
    // parse_options_usage() shows the option whose whole name the argument starts with.
    const shown = options.find((x) => body.startsWith(x.long) || (body.startsWith('no-') && body.slice(3).startsWith(x.long)));
    if (hit.unset && value !== undefined) fail(`option \`${label}' takes no value`, shown);
    if (o.type !== 'string') {
      if (value !== undefined) fail(`option \`${label}' takes no value`, shown);
      set(o, hit.unset, undefined);
      continue;
    }
    if (hit.unset) {
      set(o, true, undefined);
      continue;
    }
    if (value !== undefined) set(o, false, value);
    else if (i + 1 < args.length) set(o, false, args[++i]!);
    else fail(`option \`${label}' requires a value`, shown);
  }
  return { values, operands };
}

/** `check_typos()`: `-force` was probably meant as `--force`. */
function checkTypos(arg: string, options: readonly NdctlOption[]): void {
  if (arg.length < 3) return;
  if (arg.startsWith('no-')) throw new NdctlUsageExit(ndctlError(`did you mean \`--${arg}\` (with two dashes ?)`));
  for (const o of options) {
    if (o.long.startsWith(arg)) throw new NdctlUsageExit(ndctlError(`did you mean \`--${arg}\` (with two dashes ?)`));
  }
}
