/**
 * The builtins that change the shell itself, as bash's builtins/*.def do:
 * `cd` and `pwd` (the working directory), `export` and `unset` (variables),
 * `break` and `continue` (loops). They need the shell's state, so they work
 * only when the demo's shell runs them ({@link shellContext}); messages are
 * bash 5's, with the shell's name where bash says `bash`.
 */
import type { CommandContext, ShellCommand } from './command.js';
import { shellContext, type ShellContext } from './context.js';
import { errorText } from './error-text.js';
import { bracketCmd, testCmd } from './test-builtin.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The shell context, or a message that the builtin needs the shell. */
function needShell(ctx: CommandContext): ShellContext | undefined {
  const sh = shellContext(ctx);
  if (sh === undefined) ctx.err(`zonedev: ${ctx.name}: only the shell can run this builtin\n`);
  return sh;
}

/**
 * `..` and `.` of an absolute path resolved lexically, as `cd` (without
 * `-P`) canonicalises `$PWD/DIR` (bash's `sh_canonpath()`).
 */
export function canonicalPath(path: string): string {
  const parts: string[] = [];
  for (const p of path.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') parts.pop();
    else parts.push(p);
  }
  return `/${parts.join('/')}`;
}

/**
 * bash's `cd [DIR]` (builtins/cd.def): DIR from the working directory
 * (default `$HOME`; `-` is `$OLDPWD`, printed); `$PWD` and `$OLDPWD` follow.
 */
export const cd: ShellCommand = {
  name: 'cd',
  synopsis: 'cd [DIR|-]',
  summary: 'change the working directory (default $HOME; -: the previous one)',
  builtin: true,
  run(ctx) {
    const sh = needShell(ctx);
    if (sh === undefined) return 1;
    let args = ctx.args;
    if (args[0] === '--') args = args.slice(1);
    else if (args[0] !== undefined && args[0].startsWith('-') && args[0] !== '-') {
      if (args[0] === '-L') args = args.slice(1);
      else {
        ctx.err(`zonedev: cd: ${args[0].slice(0, 2)}: invalid option\ncd: usage: cd [-L|[-P [-e]] [-@]] [dir]\n`);
        return 2;
      }
    }
    if (args.length > 1) {
      ctx.err('zonedev: cd: too many arguments\n');
      return 1;
    }
    let dir = args[0];
    let print = false;
    if (dir === undefined) {
      dir = sh.vars.get('HOME');
      if (dir === undefined) {
        ctx.err('zonedev: cd: HOME not set\n');
        return 1;
      }
    } else if (dir === '-') {
      dir = sh.vars.get('OLDPWD');
      if (dir === undefined) {
        ctx.err('zonedev: cd: OLDPWD not set\n');
        return 1;
      }
      print = true;
    }
    if (dir === '') return 0;
    const target = canonicalPath(dir.startsWith('/') ? dir : `${sh.cwd()}/${dir}`);
    if (!ctx.fs.isDir(target)) {
      let why = 'No such file or directory';
      if (ctx.fs.exists(target)) why = 'Not a directory';
      else {
        try {
          ctx.fs.list(target);
        } catch (e) {
          why = errorText(e);
        }
      }
      ctx.err(`zonedev: cd: ${dir}: ${why}\n`);
      return 1;
    }
    sh.chdir(target);
    if (print) ctx.out(`${target}\n`);
    return 0;
  },
};

/** bash's `pwd [-L]`: the working directory. */
export const pwd: ShellCommand = {
  name: 'pwd',
  synopsis: 'pwd',
  summary: 'print the working directory',
  builtin: true,
  run(ctx) {
    for (const a of ctx.args) {
      if (a === '-L' || a === '--') continue;
      if (a.startsWith('-') && a !== '-') {
        ctx.err(`zonedev: pwd: ${a.slice(0, 2)}: invalid option\npwd: usage: pwd [-LP]\n`);
        return 2;
      }
      break;
    }
    ctx.out(`${shellContext(ctx)?.cwd() ?? '/'}\n`);
    return 0;
  },
};

/** A value as `declare -p` quotes it: in double quotes, with `"`, `\`, `$` and `` ` `` escaped. */
function declareQuote(v: string): string {
  return `"${v.replace(/["\\$`]/g, '\\$&')}"`;
}

/**
 * bash's `export [-p] [NAME[=VALUE]]...` (builtins/setattr.def): marks
 * variables for export, assigning them first; without names (or with
 * `-p`) prints them as `declare -x NAME="VALUE"`.
 */
export const exportCmd: ShellCommand = {
  name: 'export',
  synopsis: 'export [-p] [NAME[=VALUE]]...',
  summary: 'set variables and mark them for export; -p: print the exported ones',
  builtin: true,
  run(ctx) {
    const sh = needShell(ctx);
    if (sh === undefined) return 1;
    let args = ctx.args;
    let print = args.length === 0;
    while (args[0] !== undefined && args[0].startsWith('-') && args[0] !== '-') {
      const a = args[0];
      args = args.slice(1);
      if (a === '--') break;
      if (a === '-p') {
        print = true;
        continue;
      }
      ctx.err(`zonedev: export: ${a.slice(0, 2)}: invalid option\nexport: usage: export [-fn] [name[=value] ...] or export -p\n`);
      return 2;
    }
    if (print && args.length === 0) {
      for (const [n, v] of sh.vars.exported()) ctx.out(v === undefined ? `declare -x ${n}\n` : `declare -x ${n}=${declareQuote(v)}\n`);
      return 0;
    }
    let status = 0;
    for (const a of args) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a : a.slice(0, eq);
      if (!NAME.test(name)) {
        ctx.err(`zonedev: export: \`${a}': not a valid identifier\n`);
        status = 1;
        continue;
      }
      if (eq >= 0) sh.vars.set(name, a.slice(eq + 1));
      sh.vars.export(name);
    }
    return status;
  },
};

/** bash's `unset [-v] NAME...`. */
export const unset: ShellCommand = {
  name: 'unset',
  synopsis: 'unset NAME...',
  summary: 'remove variables',
  builtin: true,
  run(ctx) {
    const sh = needShell(ctx);
    if (sh === undefined) return 1;
    let status = 0;
    for (const a of ctx.args) {
      if (a === '-v' || a === '--') continue;
      if (!NAME.test(a)) {
        ctx.err(`zonedev: unset: \`${a}': not a valid identifier\n`);
        status = 1;
        continue;
      }
      sh.vars.unset(a);
    }
    return status;
  },
};

/** `break [N]` and `continue [N]` (builtins/break.def). */
function loopBuiltin(kind: 'break' | 'continue', summary: string): ShellCommand {
  return {
    name: kind,
    synopsis: `${kind} [N]`,
    summary,
    builtin: true,
    run(ctx) {
      const sh = needShell(ctx);
      if (sh === undefined) return 1;
      let n = 1;
      const arg = ctx.args[0];
      if (arg !== undefined) {
        if (!/^[ \t]*[-+]?[0-9]+[ \t]*$/.test(arg)) {
          ctx.err(`zonedev: ${kind}: ${arg}: numeric argument required\n`);
          return 1;
        }
        n = Number(arg);
        if (n < 1) {
          ctx.err(`zonedev: ${kind}: ${arg}: loop count out of range\n`);
          return 1;
        }
      }
      if (!sh.loopControl(kind, n)) {
        ctx.err(`zonedev: ${kind}: only meaningful in a \`for', \`while', or \`until' loop\n`);
      }
      return 0;
    },
  };
}

/** `break [N]`. */
export const breakCmd = loopBuiltin('break', 'leave the N-th enclosing for, while or until loop (default 1)');
/** `continue [N]`. */
export const continueCmd = loopBuiltin('continue', 'go on with the next pass of the N-th enclosing for, while or until loop');

/**
 * A number bash's `legal_number()` accepts (blanks, sign, decimal digits,
 * within `intmax_t`), as a bigint; undefined otherwise.
 */
function legalNumber(arg: string): bigint | undefined {
  const m = /^[ \t\n]*([-+]?[0-9]+)[ \t\n]*$/.exec(arg);
  const v = m === null ? undefined : BigInt(m[1]!);
  return v === undefined || v > 2n ** 63n - 1n || v < -(2n ** 63n) ? undefined : v;
}

/**
 * bash's `return [N]` (builtins/return.def): ends the function being run
 * with status N modulo 256 (default: the last command's). Outside a
 * function, `can only `return' from a function or sourced script`, status
 * 2; a non-number is "numeric argument required" and returns 2.
 */
export const returnCmd: ShellCommand = {
  name: 'return',
  synopsis: 'return [N]',
  summary: 'end the shell function being run with status N (default: the last status)',
  builtin: true,
  run(ctx) {
    const sh = needShell(ctx);
    if (sh === undefined) return 1;
    const arg = ctx.args[0];
    let status: number;
    if (arg === undefined) {
      status = sh.lastStatus();
    } else {
      const v = legalNumber(arg);
      if (v === undefined) {
        ctx.err(`zonedev: return: ${arg}: numeric argument required\n`);
        status = 2;
      } else if (ctx.args.length > 1) {
        ctx.err('zonedev: return: too many arguments\n');
        return 1;
      } else {
        status = Number(((v % 256n) + 256n) % 256n);
      }
    }
    if (!sh.returnFromFunction(status)) {
      ctx.err("zonedev: return: can only `return' from a function or sourced script\n");
      return 2;
    }
    return status;
  },
};

/**
 * bash's `local [NAME[=VALUE]]...` (builtins/declare.def): each NAME is the
 * function's own until it returns (the caller's value comes back then).
 * Outside a function, "can only be used in a function", status 1; a bad
 * name is "not a valid identifier", status 1, the others still made local.
 */
export const local: ShellCommand = {
  name: 'local',
  synopsis: 'local [NAME[=VALUE]]...',
  summary: 'make variables local to the shell function being run',
  builtin: true,
  run(ctx) {
    const sh = needShell(ctx);
    if (sh === undefined) return 1;
    if (!sh.inFunction()) {
      ctx.err('zonedev: local: can only be used in a function\n');
      return 1;
    }
    let status = 0;
    for (const a of ctx.args) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a : a.slice(0, eq);
      if (!NAME.test(name)) {
        ctx.err(`zonedev: local: \`${a}': not a valid identifier\n`);
        status = 1;
        continue;
      }
      sh.makeLocal(name, eq < 0 ? undefined : a.slice(eq + 1));
    }
    return status;
  },
};

/**
 * bash's `shift [N]` (builtins/shift.def): drops the first N (default 1)
 * positional parameters; N greater than their number changes nothing and
 * fails (status 1, silently, as without `shift_verbose`).
 */
export const shift: ShellCommand = {
  name: 'shift',
  synopsis: 'shift [N]',
  summary: 'drop the first N (default 1) arguments of the shell function being run',
  builtin: true,
  run(ctx) {
    const sh = needShell(ctx);
    if (sh === undefined) return 1;
    const arg = ctx.args[0];
    const v = arg === undefined ? 1n : legalNumber(arg);
    if (v === undefined) {
      ctx.err(`zonedev: shift: ${arg!}: numeric argument required\n`);
      return 1;
    }
    if (v < 0n) {
      ctx.err(`zonedev: shift: ${arg!}: shift count out of range\n`);
      return 1;
    }
    const args = sh.positional();
    if (v > BigInt(args.length)) return 1;
    sh.setPositional(args.slice(Number(v)));
    return 0;
  },
};

/** The builtins of this file, and `test`/`[` (test-builtin.ts), in the shell's table. */
/** bash's `:` (builtins/colon.def): does nothing, successfully; its arguments are expanded. */
export const colon: ShellCommand = {
  name: ':',
  synopsis: ': [ARG]...',
  summary: 'do nothing, successfully (the arguments are expanded)',
  builtin: true,
  run: () => 0,
};

export const STATE_BUILTINS: readonly ShellCommand[] = [cd, pwd, exportCmd, unset, breakCmd, continueCmd, returnCmd, local, shift, colon, testCmd, bracketCmd];
