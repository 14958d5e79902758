/**
 * The base commands of the demo's shell: bash's builtins `echo`, `set`,
 * `true`, `false`, `exit`, `help`, and the coreutils/util-linux programs
 * `cat`, `ls` and `dmesg`, each printing what the real one prints when its
 * output goes to a pipe (no colours, one name per line for `ls`), in the C
 * locale (`LC_ALL=C`: byte order, English messages).
 *
 * Only the options a student needs at a sysfs prompt are implemented; any
 * other option is refused with a message saying so, never silently ignored.
 */
import type { CommandContext, ShellCommand } from './command.js';
import { byteOrder } from './vfs.js';
import { shellContext, stdinOf } from './context.js';
import { lsLong } from './coreutils/ls-long.js';
import { errorText, quotef } from './error-text.js';

export { errorText, quotef } from './error-text.js';

function unsupported(ctx: CommandContext, opt: string): number {
  ctx.err(`${ctx.name}: ${opt}: option not supported by the demo shell\n`);
  return 2;
}

/** bash's `echo [-neE] [arg ...]`: the arguments, separated by blanks, and a newline. */
export const echo: ShellCommand = {
  name: 'echo',
  synopsis: 'echo [-neE] [ARG]...',
  summary: 'print the arguments (with > FILE: write them to a sysfs file)',
  builtin: true,
  run(ctx) {
    let newline = true;
    let escapes = false;
    let i = 0;
    for (; i < ctx.args.length; i++) {
      const a = ctx.args[i]!;
      if (!/^-[neE]+$/.test(a)) break;
      for (const c of a.slice(1)) {
        if (c === 'n') newline = false;
        else if (c === 'e') escapes = true;
        else escapes = false;
      }
    }
    let text = ctx.args.slice(i).join(' ');
    if (escapes) {
      const r = interpretEscapes(text);
      text = r.text;
      if (r.stop) newline = false;
    }
    ctx.out(newline ? `${text}\n` : text);
    return 0;
  },
};

/**
 * `echo -e` escapes, as bash's `ansicstr()` (lib/sh/strtrans.c) translates
 * them for echo: `\a \b \e \E \f \n \r \t \v \\`, `\0nnn` (up to three
 * octal digits), `\xHH` (one or two hex digits), `\uHHHH` and
 * `\UHHHHHHHH`; `\c` stops the output (and the newline). Any other
 * backslash, and `\x`/`\u` without a digit, is printed as it is.
 */
function interpretEscapes(s: string): { text: string; stop: boolean } {
  const map: Record<string, string> = {
    '\\': '\\', a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v',
  };
  /** Up to `max` digits of `re` at `at`. */
  const digits = (at: number, max: number, re: RegExp): string => {
    let d = '';
    while (d.length < max && at + d.length < s.length && re.test(s[at + d.length]!)) d += s[at + d.length]!;
    return d;
  };
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\' || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const d = s[i + 1]!;
    if (d === 'c') return { text: out, stop: true };
    const m = map[d];
    if (m !== undefined) {
      out += m;
      i++;
      continue;
    }
    if (d === '0') {
      const o = digits(i + 2, 3, /[0-7]/);
      out += String.fromCharCode(parseInt(`0${o}`, 8) % 256);
      i += 1 + o.length;
      continue;
    }
    const hexMax = d === 'x' ? 2 : d === 'u' ? 4 : d === 'U' ? 8 : 0;
    if (hexMax > 0) {
      const h = digits(i + 2, hexMax, /[0-9a-fA-F]/);
      if (h !== '') {
        const v = parseInt(h, 16);
        out += d === 'x' ? String.fromCharCode(v) : v <= 0x10ffff ? String.fromCodePoint(v) : '';
        i += 1 + h.length;
        continue;
      }
    }
    out += c;
  }
  return { text: out, stop: false };
}


/** coreutils `cat [FILE]...`: the files in turn; `-`, or no FILE, is standard input. */
export const cat: ShellCommand = {
  name: 'cat',
  synopsis: 'cat FILE...',
  summary: 'print files (sysfs attributes, /proc files)',
  run(ctx) {
    let status = 0;
    for (const a of ctx.args) {
      if (a.startsWith('-') && a !== '-') return unsupported(ctx, a);
    }
    for (const a of ctx.args.length === 0 ? ['-'] : ctx.args) {
      if (a === '-') {
        ctx.out(stdinOf(ctx));
        continue;
      }
      const p = ctx.path(a);
      try {
        if (ctx.fs.isDir(p)) {
          ctx.err(`cat: ${quotef(a)}: Is a directory\n`);
          status = 1;
          continue;
        }
        ctx.out(ctx.fs.read(p));
      } catch (e) {
        ctx.err(`cat: ${quotef(a)}: ${errorText(e)}\n`);
        status = 1;
      }
    }
    return status;
  },
};

/**
 * coreutils `ls [-1] [-l] [FILE]...` as it prints to a pipe: one name per line
 * (`-l`: the long format, for sysfs; see coreutils/ls-long.ts),
 * in byte order (`LC_ALL=C`); several arguments print files first, then
 * each directory under a `DIR:` heading. A missing argument is status 2.
 */
export const ls: ShellCommand = {
  name: 'ls',
  synopsis: 'ls [DIR|FILE]...',
  summary: 'list a directory, one name per line',
  run(ctx) {
    const operands: string[] = [];
    let long = false;
    for (const a of ctx.args) {
      if (a === '-1' || a === '--') continue;
      if (a === '-l') {
        long = true;
        continue;
      }
      if (a.startsWith('-') && a !== '-') return unsupported(ctx, a);
      operands.push(a);
    }
    if (operands.length === 0) operands.push(shellContext(ctx)?.cwd() ?? '/');
    if (long) return lsLong(ctx, operands);
    let status = 0;
    const files: string[] = [];
    const dirs: string[] = [];
    for (const a of operands) {
      const p = ctx.path(a);
      if (!ctx.fs.exists(p)) {
        // stat() failed: ENOENT, or ENOTDIR for `file/`.
        let why = 'No such file or directory';
        try {
          ctx.fs.list(p);
        } catch (e) {
          why = errorText(e);
        }
        ctx.err(`ls: cannot access '${a}': ${why}\n`);
        status = 2;
      } else if (ctx.fs.isDir(p)) {
        dirs.push(a);
      } else {
        files.push(a);
      }
    }
    files.sort(byteOrder);
    dirs.sort(byteOrder);
    for (const f of files) ctx.out(`${f}\n`);
    const headings = operands.length > 1;
    dirs.forEach((d, i) => {
      if (headings) ctx.out(`${files.length > 0 || i > 0 ? '\n' : ''}${d}:\n`);
      try {
        for (const name of ctx.fs.list(ctx.path(d))) ctx.out(`${name}\n`);
      } catch (e) {
        ctx.err(`ls: cannot open directory '${d}': ${errorText(e)}\n`);
        status = 2;
      }
    });
    return status;
  },
};

/** util-linux `dmesg [-c|-C]`: the kernel ring buffer, `[    0.000000] text` per line. */
export const dmesg: ShellCommand = {
  name: 'dmesg',
  synopsis: 'dmesg [-c|-C]',
  summary: 'print (-c: then clear; -C: only clear) the kernel log',
  run(ctx) {
    let print = true;
    let clear = false;
    for (const a of ctx.args) {
      if (a === '-c' || a === '--read-clear') clear = true;
      else if (a === '-C' || a === '--clear') {
        clear = true;
        print = false;
      } else return unsupported(ctx, a);
    }
    const log = ctx.machine.kernel.log;
    if (print) ctx.out(log.dmesg());
    if (clear) log.clear();
    return 0;
  },
};

/** bash's `set -e` / `set +e` (also `-o errexit`): stop the script at the first failing command. */
export const set: ShellCommand = {
  name: 'set',
  synopsis: 'set -e|+e',
  summary: 'stop the script at the first failing command (-e), or do not (+e)',
  builtin: true,
  run(ctx) {
    const a = ctx.args;
    for (let i = 0; i < a.length; i++) {
      const opt = a[i]!;
      if (opt === '-e' || opt === '+e') {
        ctx.options.errexit = opt === '-e';
      } else if ((opt === '-o' || opt === '+o') && a[i + 1] === 'errexit') {
        ctx.options.errexit = opt === '-o';
        i++;
      } else {
        ctx.err(`zonedev: set: ${opt}: invalid option\nset: usage: set [-e] [+e] [-o errexit] [+o errexit]\n`);
        return 2;
      }
    }
    return 0;
  },
};

/** bash's `true`. */
export const trueCmd: ShellCommand = {
  name: 'true',
  synopsis: 'true',
  summary: 'do nothing, successfully',
  builtin: true,
  run: () => 0,
};

/** bash's `false`. */
export const falseCmd: ShellCommand = {
  name: 'false',
  synopsis: 'false',
  summary: 'do nothing, unsuccessfully (status 1)',
  builtin: true,
  run: () => 1,
};

/**
 * bash's `exit [N]` (builtins/exit.def, `get_exitstat()`): ends the script
 * with status N modulo 256 (default: the last status). N must be a number
 * bash's `legal_number()` accepts — optional blanks and sign, decimal
 * digits, within a 64-bit `intmax_t` — else "numeric argument required" and
 * the script ends with status 2; a second argument is "too many arguments":
 * status 1, and the script goes on.
 */
export const exitCmd: ShellCommand = {
  name: 'exit',
  synopsis: 'exit [N]',
  summary: 'end the script with status N',
  builtin: true,
  run(ctx) {
    const arg = ctx.args[0];
    if (arg === undefined) {
      ctx.exit();
      return 0;
    }
    const m = /^[ \t\n]*([-+]?[0-9]+)[ \t\n]*$/.exec(arg);
    const v = m === null ? undefined : BigInt(m[1]!);
    if (v === undefined || v > 2n ** 63n - 1n || v < -(2n ** 63n)) {
      ctx.err(`zonedev: exit: ${arg}: numeric argument required\n`);
      ctx.exit(2);
      return 2;
    }
    if (ctx.args.length > 1) {
      ctx.err('zonedev: exit: too many arguments\n');
      return 1;
    }
    const n = Number(((v % 256n) + 256n) % 256n);
    ctx.exit(n);
    return n;
  },
};

/**
 * The standard shell builtins and coreutils that pipelines need (`grep`,
 * `sort`, `cd`, ...): `help shell` lists them with the grammar; `help` with
 * no argument lists them among all the others.
 */
export const STANDARD_COMMANDS: ReadonlySet<string> = new Set([
  '[', 'break', 'cd', 'continue', 'cut', 'export', 'grep', 'pwd', 'sort', 'tail', 'test', 'uniq', 'unset', 'wc', 'xargs',
]);

/** `help shell`: the grammar the shell reads. */
const SHELL_HELP = `The shell reads bash's grammar over /sys, /proc and /dev:
  LIST; LIST    A && B    A || B    A | B    ! A    for NAME in WORDS; do LIST; done
  if LIST; then LIST; [elif LIST; then LIST;] [else LIST;] fi
  NAME=value  export NAME[=value]  $NAME  \${NAME}  \${NAME:-word}  \${#NAME}  $?  $(LIST)
  'single' and "double" quotes, \\x, # comments, globs * ? [...] (sorted; no match: the word stays)
  > FILE  >> FILE  2> FILE  &> FILE  N>&M  N>&-  < FILE
Standard commands:
`;

/** The table of `help`: each synopsis padded to the widest, then its summary. */
function commandTable(cmds: readonly ShellCommand[]): string {
  const sorted = [...cmds].sort((a, b) => byteOrder(a.name, b.name));
  const w = Math.max(...sorted.map((c) => c.synopsis.length));
  return sorted.map((c) => `  ${c.synopsis.padEnd(w)}  ${c.summary}\n`).join('');
}

/**
 * `help [COMMAND]...`: the command table, or the usage of each command named,
 * as bash's `help` prints a builtin's synopsis and summary (and refuses an
 * unknown topic with status 1). `help shell` describes the grammar and lists
 * the standard commands.
 */
export const help: ShellCommand = {
  name: 'help',
  synopsis: 'help [COMMAND]...',
  summary: 'list the commands, or show the usage of each COMMAND',
  builtin: true,
  run(ctx) {
    const standard = (c: ShellCommand): boolean => STANDARD_COMMANDS.has(c.name);
    if (ctx.args.length > 0) {
      let status = 0;
      const first = ctx.commands().find((cmd) => cmd.name === ctx.args[0]);
      if (first?.topicHelp !== undefined && ctx.args.length > 1) {
        // `help info memdev`: the words after the command are its topics.
        ctx.out(first.topicHelp(ctx.args.slice(1)));
        return 0;
      }
      for (const name of ctx.args) {
        const c = ctx.commands().find((cmd) => cmd.name === name);
        if (c === undefined && name === 'shell') {
          ctx.out(SHELL_HELP + commandTable(ctx.commands().filter(standard)));
          continue;
        }
        if (c === undefined) {
          ctx.err(
            `zonedev: help: no help topics match \`${name}'.  Try \`help help' or \`man -k ${name}' or \`info ${name}'.\n`,
          );
          status = 1;
          continue;
        }
        ctx.out(c.topicHelp === undefined ? `${c.name}: ${c.synopsis}\n    ${c.summary}\n` : c.topicHelp([]));
      }
      return status;
    }
    ctx.out(`Commands (one per line; quotes, # comments, > FILE, >> FILE and $? as in bash):\n${commandTable(ctx.commands())}`);
    return 0;
  },
};

/**
 * `trace on|off|show|clear`: the machine's function-graph tracer, as
 * `echo function_graph > current_tracer`, `tracing_on` and `cat trace` of
 * /sys/kernel/tracing would drive it (the format is `Tracer.show()`'s).
 */
export const trace: ShellCommand = {
  name: 'trace',
  synopsis: 'trace on|off|show|clear',
  summary: 'record (on), stop (off), print (show) or empty (clear) the function-graph trace',
  run(ctx) {
    const t = ctx.machine.kernel.tracer;
    const [what, ...rest] = ctx.args;
    if (rest.length > 0 || what === undefined || !['on', 'off', 'show', 'clear'].includes(what)) {
      ctx.err('trace: usage: trace on|off|show|clear\n');
      return 2;
    }
    if (what === 'on') t.on();
    else if (what === 'off') t.off();
    else if (what === 'clear') t.clear();
    else ctx.out(t.show());
    return 0;
  },
};

/** The base table, before a machine adds its own commands. */
export const BUILTINS: readonly ShellCommand[] = [echo, cat, ls, dmesg, set, trueCmd, falseCmd, exitCmd, help, trace];
