/**
 * glibc's `getopt_long()`, as util-linux programs parse their arguments,
 * with glibc's error messages:
 *
 * ```
 *   lsmem: invalid option -- 'x'
 *   lsmem: unrecognized option '--foo'
 *   lsmem: option requires an argument -- 'o'
 *   lsmem: option '--output' requires an argument
 *   lsmem: option '--all' doesn't allow an argument
 *   lsmem: option '--s' is ambiguous; possibilities: '--sysroot' '--split' '--summary'
 * ```
 *
 * Options and operands may be mixed (glibc permutes the operands to the
 * end); `--` ends the options. A long option may be abbreviated to any
 * unambiguous prefix.
 */

/** A long option: `has_arg` 0 none, 1 required, 2 optional (only as `--name=value`). */
export interface LongOption {
  readonly name: string;
  readonly hasArg: 0 | 1 | 2;
  /** The value reported for it (a short option letter, or any other name). */
  readonly val: string;
}

/** One parsed option. */
export interface ParsedOption {
  readonly opt: string;
  readonly arg: string | undefined;
}

/** The result: the options in order and the operands, or glibc's error message (without a newline). */
export type GetoptResult =
  | { readonly ok: true; readonly options: readonly ParsedOption[]; readonly operands: readonly string[] }
  | { readonly ok: false; readonly message: string };

/**
 * Parses `args` (without the program name) against a short option string
 * (`"abo:"`: a letter followed by `:` takes an argument) and long options.
 * `prog` names the program in error messages.
 */
export function getoptLong(prog: string, args: readonly string[], shortopts: string, longopts: readonly LongOption[]): GetoptResult {
  const options: ParsedOption[] = [];
  const operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const value = eq < 0 ? undefined : a.slice(eq + 1);
      let lo = longopts.find((o) => o.name === name);
      if (lo === undefined) {
        const cands = longopts.filter((o) => o.name.startsWith(name));
        const first = cands[0];
        const same = cands.every((o) => o.hasArg === first?.hasArg && o.val === first.val);
        if (cands.length > 1 && !same) {
          return {
            ok: false,
            message: `${prog}: option '${a}' is ambiguous; possibilities:${cands.map((o) => ` '--${o.name}'`).join('')}`,
          };
        }
        lo = first;
      }
      if (lo === undefined) return { ok: false, message: `${prog}: unrecognized option '${a}'` };
      if (lo.hasArg === 0) {
        if (value !== undefined) return { ok: false, message: `${prog}: option '--${lo.name}' doesn't allow an argument` };
        options.push({ opt: lo.val, arg: undefined });
      } else if (lo.hasArg === 2) {
        options.push({ opt: lo.val, arg: value });
      } else if (value !== undefined) {
        options.push({ opt: lo.val, arg: value });
      } else if (i + 1 < args.length) {
        options.push({ opt: lo.val, arg: args[++i]! });
      } else {
        return { ok: false, message: `${prog}: option '--${lo.name}' requires an argument` };
      }
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        const k = c === ':' ? -1 : shortopts.indexOf(c);
        if (k < 0) return { ok: false, message: `${prog}: invalid option -- '${c}'` };
        if (shortopts[k + 1] === ':') {
          const rest = a.slice(j + 1);
          if (rest !== '') options.push({ opt: c, arg: rest });
          else if (i + 1 < args.length) options.push({ opt: c, arg: args[++i]! });
          else return { ok: false, message: `${prog}: option requires an argument -- '${c}'` };
          break;
        }
        options.push({ opt: c, arg: undefined });
      }
      continue;
    }
    operands.push(a);
  }
  return { ok: true, options, operands };
}
