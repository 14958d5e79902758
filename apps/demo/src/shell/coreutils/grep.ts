/**
 * GNU grep 3 (`grep [OPTION]... PATTERNS [FILE]...`): the lines of files
 * (standard input when there is none, or `-`) that match, in the C locale.
 *
 * The first thing a student types on a memory-hotplug machine is
 * `grep . /sys/devices/system/memory/memory*\/valid_zones`: `.` matches
 * every non-empty line, and with several files each line is prefixed by its
 * file's name, so the output is a table of `file:value`.
 *
 * Options: `-E` (extended), `-F` (fixed strings), `-G` (basic, the
 * default), `-e PATTERNS`, `-i`/`-y`, `-v`, `-w`, `-x`, `-c`, `-l`, `-L`,
 * `-n`, `-h`, `-H`, `-o`, `-q`, `-s`, `-m NUM`, `--color=never`. The exit
 * status is 0 when a line was selected, 1 when none was, 2 on an error
 * (unless `-q` selected a line). Recursive search (`-r`) is refused: sysfs
 * is a graph of symlinks that `grep -r` would not follow anyway.
 */
import type { ShellCommand } from '../command.js';
import { quotef } from '../error-text.js';
import { gnuGetopt, notSupported, readOperand, splitLines } from './io.js';
import { posixToRegExp, RegexError } from './regex.js';
import type { LongOption } from '../getopt.js';

const USAGE = 'Usage: grep [OPTION]... PATTERNS [FILE]...';

const LONGOPTS: readonly LongOption[] = [
  { name: 'extended-regexp', hasArg: 0, val: 'E' },
  { name: 'fixed-strings', hasArg: 0, val: 'F' },
  { name: 'basic-regexp', hasArg: 0, val: 'G' },
  { name: 'regexp', hasArg: 1, val: 'e' },
  { name: 'ignore-case', hasArg: 0, val: 'i' },
  { name: 'no-ignore-case', hasArg: 0, val: 'no-ignore-case' },
  { name: 'invert-match', hasArg: 0, val: 'v' },
  { name: 'word-regexp', hasArg: 0, val: 'w' },
  { name: 'line-regexp', hasArg: 0, val: 'x' },
  { name: 'count', hasArg: 0, val: 'c' },
  { name: 'files-with-matches', hasArg: 0, val: 'l' },
  { name: 'files-without-match', hasArg: 0, val: 'L' },
  { name: 'line-number', hasArg: 0, val: 'n' },
  { name: 'no-filename', hasArg: 0, val: 'h' },
  { name: 'with-filename', hasArg: 0, val: 'H' },
  { name: 'only-matching', hasArg: 0, val: 'o' },
  { name: 'quiet', hasArg: 0, val: 'q' },
  { name: 'silent', hasArg: 0, val: 'q' },
  { name: 'no-messages', hasArg: 0, val: 's' },
  { name: 'max-count', hasArg: 1, val: 'm' },
  { name: 'color', hasArg: 2, val: 'color' },
  { name: 'colour', hasArg: 2, val: 'color' },
  { name: 'recursive', hasArg: 0, val: 'r' },
  { name: 'dereference-recursive', hasArg: 0, val: 'R' },
];

/** `grep` as a shell command. */
export const grep: ShellCommand = {
  name: 'grep',
  synopsis: 'grep [-EFivwxcLlnhHoqs] [-m NUM] [-e] PATTERNS [FILE]...',
  summary: 'print the lines that match PATTERNS (GNU grep; FILE: - or none for standard input)',
  run(ctx) {
    const r = gnuGetopt(ctx, 'grep', 'EFGe:iyvwxclLnhHoqsm:rR', LONGOPTS, USAGE);
    if (r === undefined) return 2;
    let syntax: 'E' | 'F' | 'G' = 'G';
    const patterns: string[] = [];
    let icase = false;
    let invert = false;
    let word = false;
    let line = false;
    let count = false;
    let list: 'l' | 'L' | undefined;
    let number = false;
    let withName: boolean | undefined;
    let only = false;
    let quiet = false;
    let silent = false;
    let max = Infinity;
    for (const o of r.options) {
      switch (o.opt) {
        case 'E':
        case 'F':
        case 'G':
          syntax = o.opt;
          break;
        case 'e':
          patterns.push(...o.arg!.split('\n'));
          break;
        case 'i':
        case 'y':
          icase = true;
          break;
        case 'no-ignore-case':
          icase = false;
          break;
        case 'v':
          invert = true;
          break;
        case 'w':
          word = true;
          break;
        case 'x':
          line = true;
          break;
        case 'c':
          count = true;
          break;
        case 'l':
        case 'L':
          list = o.opt;
          break;
        case 'n':
          number = true;
          break;
        case 'h':
          withName = false;
          break;
        case 'H':
          withName = true;
          break;
        case 'o':
          only = true;
          break;
        case 'q':
          quiet = true;
          break;
        case 's':
          silent = true;
          break;
        case 'm': {
          const v = o.arg!;
          if (!/^[0-9]+$/.test(v)) {
            ctx.err(`grep: invalid max count\n`);
            return 2;
          }
          max = Number(v);
          break;
        }
        case 'color':
          if (o.arg !== undefined && !['never', 'auto', 'always', 'yes', 'no', 'none', 'tty', 'if-tty', 'force'].includes(o.arg)) {
            ctx.err(`grep: invalid argument ${quotef(o.arg)} for '--color'\nValid arguments are:\n  - 'always', 'yes', 'force'\n  - 'never', 'no', 'none'\n  - 'auto', 'tty', 'if-tty'\n${USAGE}\nTry 'grep --help' for more information.\n`);
            return 2;
          }
          break;
        default:
          notSupported(ctx, 'grep', `-${o.opt}`);
          return 2;
      }
    }
    const operands = [...r.operands];
    if (patterns.length === 0) {
      const p = operands.shift();
      if (p === undefined) {
        ctx.err(`${USAGE}\nTry 'grep --help' for more information.\n`);
        return 2;
      }
      patterns.push(...p.split('\n'));
    }
    let re: RegExp;
    const warnings: string[] = [];
    try {
      const sources = patterns.map((p) => (syntax === 'F' ? p.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&') : posixToRegExp(p, syntax === 'E', warnings)));
      for (const w of warnings) ctx.err(`grep: warning: ${w}\n`);
      let src = sources.map((s) => `(?:${s})`).join('|');
      if (line) src = `^(?:${src})$`;
      else if (word) src = `(?<![A-Za-z0-9_])(?:${src})(?![A-Za-z0-9_])`;
      re = new RegExp(src, icase ? 'gi' : 'g');
    } catch (e) {
      ctx.err(`grep: ${e instanceof RegexError ? e.message : 'Invalid regular expression'}\n`);
      return 2;
    }
    const files = operands.length === 0 ? ['-'] : operands;
    const showName = withName ?? files.length > 1;
    let selectedAny = false;
    let error = false;
    for (const f of files) {
      const text = readOperand(ctx, f, (name, why) => (silent ? '' : `grep: ${quotef(name)}: ${why}\n`));
      if (text === undefined) {
        error = true;
        continue;
      }
      const label = f === '-' ? '(standard input)' : f;
      const prefix = showName ? `${label}:` : '';
      let selected = 0;
      splitLines(text).forEach((l, idx) => {
        if (selected >= max) return;
        re.lastIndex = 0;
        const matches = re.test(l);
        if (matches === invert) return;
        selected++;
        if (quiet || count || list !== undefined) return;
        const lead = `${prefix}${number ? `${idx + 1}:` : ''}`;
        if (only) {
          if (invert) return;
          re.lastIndex = 0;
          for (const m of l.matchAll(re)) if (m[0] !== '') ctx.out(`${lead}${m[0]}\n`);
          return;
        }
        ctx.out(`${lead}${l}\n`);
      });
      if (selected > 0) selectedAny = true;
      if (quiet && selectedAny) return 0;
      if (count) ctx.out(`${prefix}${selected}\n`);
      if (list === 'l' && selected > 0) ctx.out(`${label}\n`);
      if (list === 'L' && selected === 0) ctx.out(`${label}\n`);
    }
    if (error && !(quiet && selectedAny)) return 2;
    return selectedAny ? 0 : 1;
  },
};
