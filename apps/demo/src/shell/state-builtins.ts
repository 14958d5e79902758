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
export const breakCmd = loopBuiltin('break', 'leave the N-th enclosing for loop (default 1)');
/** `continue [N]`. */
export const continueCmd = loopBuiltin('continue', 'go on with the next pass of the N-th enclosing for loop');

/** The builtins of this file, and `test`/`[` (test-builtin.ts), in the shell's table. */
export const STATE_BUILTINS: readonly ShellCommand[] = [cd, pwd, exportCmd, unset, breakCmd, continueCmd, testCmd, bracketCmd];
