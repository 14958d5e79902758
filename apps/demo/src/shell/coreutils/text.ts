/**
 * The GNU coreutils 9 text filters a student pipes sysfs through: `head`,
 * `tail`, `wc`, `sort`, `uniq` and `cut`, in the C locale, each reading its
 * FILE operands or (with none, or `-`) standard input, with coreutils'
 * messages and exit statuses:
 *
 * ```
 *   cat /sys/devices/system/memory/memory*\/state | sort | uniq -c
 *         8 offline
 *        16 online
 * ```
 *
 * Only the options listed in each synopsis are implemented; another option
 * is refused with a message, never ignored.
 */
import type { CommandContext, ShellCommand } from '../command.js';
import { quotef } from '../error-text.js';
import { head as fileHead } from './dd.js';
import { byteOrder, normalizePath } from '../vfs.js';
import { gnuGetopt, notSupported, pageSize, plainReport, quote, readOperand, splitLines } from './io.js';
import type { LongOption } from '../getopt.js';

/** `-NUM` (the obsolete form of `-n NUM` that head and tail still take) as `-n NUM`. */
function obsoleteCount(args: readonly string[]): readonly string[] {
  const first = args[0];
  return first !== undefined && /^-[0-9]+$/.test(first) ? ['-n', first.slice(1), ...args.slice(1)] : args;
}

/** A context with other arguments. */
function withArgs(ctx: CommandContext, args: readonly string[]): CommandContext {
  return { ...ctx, args };
}

/**
 * coreutils `head`: files and devices go to the tools' `head` (which reads
 * them with `pread`, so `head -c 16 /dev/pmem0` works); standard input (no
 * operand, or `-`) is read here.
 */
export const head: ShellCommand = {
  name: 'head',
  synopsis: 'head [-c N|-n N] FILE...',
  summary: 'print the first bytes or lines of files and devices (coreutils)',
  run(ctx) {
    const args = obsoleteCount(ctx.args);
    // The operands, as the tools' head would take them.
    const operands: string[] = [];
    let mode: 'lines' | 'bytes' = 'lines';
    let num = 10;
    let allBut = false;
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      let value: string | undefined;
      if (a === '-n' || a === '-c') {
        mode = a === '-c' ? 'bytes' : 'lines';
        value = args[++i];
      } else if (/^-[nc]./.test(a)) {
        mode = a[1] === 'c' ? 'bytes' : 'lines';
        value = a.slice(2);
      } else if (a.startsWith('--bytes=') || a.startsWith('--lines=')) {
        mode = a.startsWith('--bytes=') ? 'bytes' : 'lines';
        value = a.slice(8);
      } else if (a === '--') {
        operands.push(...args.slice(i + 1));
        break;
      } else if (!a.startsWith('-') || a === '-') {
        operands.push(a);
      }
      if (value !== undefined) {
        allBut = value.startsWith('-');
        const m = /^-?([0-9]+)$/.exec(value);
        num = m === null ? NaN : Number(m[1]);
      }
    }
    if (operands.length > 0 && !operands.includes('-')) return fileHead(withArgs(ctx, args));
    if (operands.length === 0) operands.push('-');
    // Let the tools' head check the options (it prints their errors), with no operand.
    const optionsOnly = args.filter((a, i) => !operands.includes(a) || /^-[nc]$/.test(args[i - 1] ?? ''));
    const check = fileHead(withArgs(ctx, optionsOnly));
    if (check !== 0) return check;
    let status = 0;
    operands.forEach((f, idx) => {
      const text = readOperand(ctx, f, (name, why) =>
        why === 'Is a directory' ? `head: error reading ${quote(name)}: ${why}\n` : `head: cannot open ${quote(name)} for reading: ${why}\n`,
      );
      if (text === undefined) {
        status = 1;
        return;
      }
      if (operands.length > 1) ctx.out(`${idx > 0 ? '\n' : ''}==> ${f === '-' ? 'standard input' : f} <==\n`);
      ctx.out(headText(text, mode, num, allBut));
    });
    return status;
  },
};

/** The first `num` lines or bytes of a text (all but the last `num` with `allBut`). */
function headText(text: string, mode: 'lines' | 'bytes', num: number, allBut: boolean): string {
  if (mode === 'bytes') {
    const b = new TextEncoder().encode(text);
    return new TextDecoder().decode(allBut ? b.subarray(0, Math.max(0, b.length - num)) : b.subarray(0, num));
  }
  const lines = text.split(/(?<=\n)/);
  if (lines[lines.length - 1] === '') lines.pop();
  return (allBut ? lines.slice(0, Math.max(0, lines.length - num)) : lines.slice(0, num)).join('');
}

const TAIL_LONGOPTS: readonly LongOption[] = [
  { name: 'lines', hasArg: 1, val: 'n' },
  { name: 'bytes', hasArg: 1, val: 'c' },
  { name: 'quiet', hasArg: 0, val: 'q' },
  { name: 'silent', hasArg: 0, val: 'q' },
  { name: 'verbose', hasArg: 0, val: 'v' },
  { name: 'follow', hasArg: 2, val: 'f' },
];

/** coreutils `tail [-n [+]N | -c [+]N] [-qv] [FILE]...`: the last lines or bytes (`+N`: from the N-th on). */
export const tail: ShellCommand = {
  name: 'tail',
  synopsis: 'tail [-n [+]N|-c [+]N] [-qv] [FILE]...',
  summary: 'print the last lines or bytes of files (coreutils; FILE: - or none for standard input)',
  run(ctx) {
    const r = gnuGetopt(withArgs(ctx, obsoleteCount(ctx.args)), 'tail', 'n:c:qvf', TAIL_LONGOPTS);
    if (r === undefined) return 1;
    let mode: 'lines' | 'bytes' = 'lines';
    let num = 10;
    let fromStart = false;
    let headers: boolean | undefined;
    for (const o of r.options) {
      if (o.opt === 'n' || o.opt === 'c') {
        mode = o.opt === 'n' ? 'lines' : 'bytes';
        const m = /^([+-]?)([0-9]+)$/.exec(o.arg!);
        if (m === null) {
          ctx.err(`tail: invalid number of ${mode}: ${quote(o.arg!)}\n`);
          return 1;
        }
        fromStart = m[1] === '+';
        num = Number(m[2]);
      } else if (o.opt === 'q' || o.opt === 'v') {
        headers = o.opt === 'v';
      } else {
        notSupported(ctx, 'tail', o.opt === 'f' ? '-f' : `-${o.opt}`);
        return 1;
      }
    }
    const files = r.operands.length === 0 ? ['-'] : r.operands;
    const show = headers ?? files.length > 1;
    let status = 0;
    let printed = 0;
    for (const f of files) {
      const text = readOperand(ctx, f, (name, why) =>
        why === 'Is a directory' ? `tail: error reading ${quote(name)}: ${why}\n` : `tail: cannot open ${quote(name)} for reading: ${why}\n`,
      );
      if (text === undefined) {
        status = 1;
        continue;
      }
      if (show) ctx.out(`${printed > 0 ? '\n' : ''}==> ${f === '-' ? 'standard input' : f} <==\n`);
      printed++;
      if (mode === 'bytes') {
        const b = new TextEncoder().encode(text);
        const start = fromStart ? Math.max(0, num - 1) : Math.max(0, b.length - num);
        ctx.out(new TextDecoder().decode(b.subarray(start)));
      } else {
        const lines = text.split(/(?<=\n)/);
        if (lines[lines.length - 1] === '') lines.pop();
        ctx.out((fromStart ? lines.slice(Math.max(0, num - 1)) : lines.slice(Math.max(0, lines.length - num))).join(''));
      }
    }
    return status;
  },
};

const WC_LONGOPTS: readonly LongOption[] = [
  { name: 'lines', hasArg: 0, val: 'l' },
  { name: 'words', hasArg: 0, val: 'w' },
  { name: 'bytes', hasArg: 0, val: 'c' },
  { name: 'chars', hasArg: 0, val: 'm' },
];

/**
 * `st_size` of a regular file of the tree, as `stat(2)` reports it, or
 * undefined when the path is not a regular file: a sysfs attribute is one
 * page (kernfs gives every attribute `PAGE_SIZE`), a /proc file 0.
 */
function regularSize(ctx: CommandContext, path: string): number | undefined {
  const p = normalizePath(path);
  if (!ctx.fs.exists(p) || ctx.fs.isDir(p)) return undefined;
  if (p.startsWith('/sys/')) return pageSize(ctx);
  if (p.startsWith('/proc/')) return 0;
  return undefined;
}

/**
 * coreutils `wc [-lwcm] [FILE]...`: newline, word and byte (or character)
 * counts, in that order, right-aligned to the width `wc.c`'s
 * `compute_number_width()` picks (1 for a single count of a single input;
 * else the digits of the regular files' total size, at least 7 when one
 * input is not a regular file), and a `total` line for several files.
 */
export const wc: ShellCommand = {
  name: 'wc',
  synopsis: 'wc [-lwcm] [FILE]...',
  summary: 'count lines, words and bytes (coreutils; FILE: - or none for standard input)',
  run(ctx) {
    const r = gnuGetopt(ctx, 'wc', 'lwcm', WC_LONGOPTS);
    if (r === undefined) return 1;
    const want = new Set(r.options.map((o) => o.opt));
    if (want.size === 0) ['l', 'w', 'c'].forEach((c) => want.add(c));
    const order = ['l', 'w', 'm', 'c'].filter((c) => want.has(c));
    const files = r.operands.length === 0 ? ['-'] : r.operands;
    const named = r.operands.length > 0;
    let width = 1;
    if (!(files.length === 1 && order.length === 1)) {
      let min = 1;
      let total = 0;
      let firstFailed = false;
      files.forEach((f, i) => {
        if (f === '-') {
          min = 7;
          return;
        }
        const p = ctx.path(f);
        if (!ctx.fs.exists(p)) {
          if (i === 0) firstFailed = true;
          return;
        }
        const size = regularSize(ctx, p);
        if (size === undefined) min = 7;
        else total += size;
      });
      if (!firstFailed) width = Math.max(min, String(total).length);
    }
    const totals = { l: 0, w: 0, m: 0, c: 0 };
    const line = (counts: Record<string, number>, name: string | undefined): string =>
      `${order.map((c) => String(counts[c]).padStart(width)).join(' ')}${name === undefined ? '' : ` ${name}`}\n`;
    let status = 0;
    for (const f of files) {
      let text = readOperand(ctx, f, plainReport('wc'));
      if (text === undefined) {
        status = 1;
        if (!ctx.fs.isDir(ctx.path(f))) continue;
        text = '';
      }
      const counts = {
        l: text.split('\n').length - 1,
        w: text.split(/[ \t\n\r\f\v]+/).filter((x) => x !== '').length,
        m: [...text].length,
        c: new TextEncoder().encode(text).length,
      };
      for (const k of ['l', 'w', 'm', 'c'] as const) totals[k] += counts[k];
      ctx.out(line(counts, named ? f : undefined));
    }
    if (files.length > 1) ctx.out(line(totals, 'total'));
    return status;
  },
};

/** The numeric prefix of a line as `sort -n` reads it (blanks, sign, digits, one decimal point); 0 when there is none. */
function numericKey(s: string): number {
  const m = /^[ \t]*(-?[0-9]*(\.[0-9]*)?)/.exec(s);
  const v = m === null ? NaN : Number(m[1]);
  return Number.isFinite(v) ? v : 0;
}

/** `strcmp()` order (UTF-16 code units, which is byte order for the ASCII text of sysfs). */
const byteCompare = byteOrder;

/** coreutils `sort [-nru] [FILE]...`: lines in byte order (`-n`: by their leading number), `-r` reversed, `-u` once each. */
export const sort: ShellCommand = {
  name: 'sort',
  synopsis: 'sort [-nru] [FILE]...',
  summary: 'sort lines (coreutils, C locale; -n numeric, -r reverse, -u unique)',
  run(ctx) {
    const r = gnuGetopt(ctx, 'sort', 'nruk:t:', [
      { name: 'numeric-sort', hasArg: 0, val: 'n' },
      { name: 'reverse', hasArg: 0, val: 'r' },
      { name: 'unique', hasArg: 0, val: 'u' },
    ]);
    if (r === undefined) return 2;
    let numeric = false;
    let reverse = false;
    let unique = false;
    for (const o of r.options) {
      if (o.opt === 'n') numeric = true;
      else if (o.opt === 'r') reverse = true;
      else if (o.opt === 'u') unique = true;
      else {
        notSupported(ctx, 'sort', `-${o.opt}`);
        return 2;
      }
    }
    const files = r.operands.length === 0 ? ['-'] : r.operands;
    const lines: string[] = [];
    for (const f of files) {
      // sort dies at the first file it cannot read.
      const text = readOperand(ctx, f, (name, why) => `sort: ${why === 'Is a directory' ? 'read failed' : 'cannot read'}: ${quotef(name)}: ${why}\n`);
      if (text === undefined) return 2;
      lines.push(...splitLines(text));
    }
    const key = (a: string, b: string): number => (numeric ? numericKey(a) - numericKey(b) : byteCompare(a, b));
    const cmp = (a: string, b: string): number => {
      const k = key(a, b);
      // The last-resort comparison of the whole line, unless -u.
      const c = k !== 0 || unique ? k : byteCompare(a, b);
      return reverse ? -c : c;
    };
    lines.sort(cmp);
    const out = unique ? lines.filter((l, i) => i === 0 || key(lines[i - 1]!, l) !== 0) : lines;
    ctx.out(out.map((l) => `${l}\n`).join(''));
    return 0;
  },
};

/** coreutils `uniq [-cdu] [INPUT]`: adjacent repeated lines once; `-c` prefixes each with its count (`%7d `). */
export const uniq: ShellCommand = {
  name: 'uniq',
  synopsis: 'uniq [-cdui] [INPUT]',
  summary: 'merge adjacent repeated lines (coreutils; -c: prefix the counts, -d: only repeated, -u: only unique)',
  run(ctx) {
    const r = gnuGetopt(ctx, 'uniq', 'cdui', [
      { name: 'count', hasArg: 0, val: 'c' },
      { name: 'repeated', hasArg: 0, val: 'd' },
      { name: 'unique', hasArg: 0, val: 'u' },
      { name: 'ignore-case', hasArg: 0, val: 'i' },
    ]);
    if (r === undefined) return 1;
    const opts = new Set(r.options.map((o) => o.opt));
    if (r.operands.length > 2) {
      ctx.err(`uniq: extra operand ${quote(r.operands[2]!)}\nTry 'uniq --help' for more information.\n`);
      return 1;
    }
    if (r.operands.length === 2) {
      notSupported(ctx, 'uniq', 'OUTPUT');
      return 1;
    }
    const text = readOperand(ctx, r.operands[0] ?? '-', plainReport('uniq'));
    if (text === undefined) return 1;
    const same = (a: string, b: string): boolean => (opts.has('i') ? a.toLowerCase() === b.toLowerCase() : a === b);
    const lines = splitLines(text);
    let out = '';
    for (let i = 0; i < lines.length; ) {
      let j = i + 1;
      while (j < lines.length && same(lines[i]!, lines[j]!)) j++;
      const n = j - i;
      if (!(opts.has('d') && n === 1) && !(opts.has('u') && n > 1)) {
        out += `${opts.has('c') ? `${String(n).padStart(7)} ` : ''}${lines[i]!}\n`;
      }
      i = j;
    }
    ctx.out(out);
    return 0;
  },
};

/** A cut LIST (`1,3-5,7-`) as ranges; a coreutils message when it is not one. */
function parseList(list: string, what: 'fields' | 'positions'): { ranges: [number, number][] } | { error: string } {
  const ranges: [number, number][] = [];
  for (const item of list.split(/[, ]/)) {
    const m = /^([0-9]*)(-?)([0-9]*)$/.exec(item);
    if (m === null || (m[1] === '' && m[3] === '' && m[2] === '-') || item === '') {
      if (item === '-') return { error: 'invalid range with no endpoint: -' };
      return { error: what === 'fields' ? `invalid field value ${quote(item)}` : `invalid byte/character position ${quote(item)}` };
    }
    const lo = m[1] === '' ? 1 : Number(m[1]);
    const hi = m[2] === '' ? lo : m[3] === '' ? Infinity : Number(m[3]);
    if (lo === 0 || hi === 0) return { error: what === 'fields' ? 'fields are numbered from 1' : 'byte/character positions are numbered from 1' };
    if (hi < lo) return { error: 'invalid decreasing range' };
    ranges.push([lo, hi]);
  }
  return { ranges };
}

/** coreutils `cut -b|-c|-f LIST [-d DELIM] [-s] [FILE]...`: parts of each line. */
export const cut: ShellCommand = {
  name: 'cut',
  synopsis: 'cut -b LIST|-c LIST|-f LIST [-d DELIM] [-s] [FILE]...',
  summary: 'print selected bytes, characters or fields of each line (coreutils)',
  run(ctx) {
    const r = gnuGetopt(ctx, 'cut', 'b:c:f:d:s', [
      { name: 'bytes', hasArg: 1, val: 'b' },
      { name: 'characters', hasArg: 1, val: 'c' },
      { name: 'fields', hasArg: 1, val: 'f' },
      { name: 'delimiter', hasArg: 1, val: 'd' },
      { name: 'only-delimited', hasArg: 0, val: 's' },
    ]);
    if (r === undefined) return 1;
    let kind: 'b' | 'c' | 'f' | undefined;
    let list = '';
    let delim: string | undefined;
    let onlyDelimited = false;
    const fail = (msg: string, tryHelp: boolean): number => {
      ctx.err(`cut: ${msg}\n${tryHelp ? "Try 'cut --help' for more information.\n" : ''}`);
      return 1;
    };
    for (const o of r.options) {
      if (o.opt === 'b' || o.opt === 'c' || o.opt === 'f') {
        if (kind !== undefined) return fail('only one type of list may be specified', true);
        kind = o.opt;
        list = o.arg!;
      } else if (o.opt === 'd') {
        if ([...o.arg!].length !== 1) return fail('the delimiter must be a single character', true);
        delim = o.arg!;
      } else if (o.opt === 's') {
        onlyDelimited = true;
      }
    }
    if (kind === undefined) return fail('you must specify a list of bytes, characters, or fields', true);
    if (delim !== undefined && kind !== 'f') return fail('an input delimiter may be specified only when operating on fields', true);
    if (onlyDelimited && kind !== 'f') return fail('suppressing non-delimited lines makes sense\n\tonly when operating on fields', true);
    const parsed = parseList(list, kind === 'f' ? 'fields' : 'positions');
    if ('error' in parsed) return fail(parsed.error, true);
    const selected = (n: number): boolean => parsed.ranges.some(([lo, hi]) => n >= lo && n <= hi);
    const d = delim ?? '\t';
    const files = r.operands.length === 0 ? ['-'] : r.operands;
    let status = 0;
    for (const f of files) {
      const text = readOperand(ctx, f, plainReport('cut'));
      if (text === undefined) {
        status = 1;
        continue;
      }
      let out = '';
      for (const l of splitLines(text)) {
        if (kind === 'f') {
          if (!l.includes(d)) {
            if (!onlyDelimited) out += `${l}\n`;
            continue;
          }
          out += `${l
            .split(d)
            .filter((_, i) => selected(i + 1))
            .join(d)}\n`;
        } else {
          const b = new TextEncoder().encode(l);
          out += `${new TextDecoder().decode(b.filter((_, i) => selected(i + 1)))}\n`;
        }
      }
      ctx.out(out);
    }
    return status;
  },
};
