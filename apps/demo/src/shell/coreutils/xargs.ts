/**
 * GNU findutils `xargs [-r] [-n MAX] [-I REPLACE] [COMMAND [ARG]...]`: runs
 * COMMAND (default `echo`) with the items read from standard input as
 * more arguments. Items are separated by blanks and newlines; single and
 * double quotes and backslashes quote as xargs.c's default parser does.
 * `-n MAX` passes at most MAX items per command, `-I REPLACE` runs the
 * command once per input line with REPLACE in its arguments replaced by
 * the line, and `-r` runs nothing when there are no items (without it the
 * command runs once). Exit status: 0; 123 when a command exited 1-125; 124
 * when one exited 255; 127 when COMMAND does not exist.
 */
import type { ShellCommand } from '../command.js';
import { shellContext, stdinOf } from '../context.js';
import { quote } from './io.js';

/** The items of xargs' input, or the message for an unmatched quote. */
function items(text: string): string[] | { error: string } {
  const out: string[] = [];
  let cur = '';
  let have = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      if (have) out.push(cur);
      cur = '';
      have = false;
      continue;
    }
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      const nl = text.indexOf('\n', i + 1);
      if (end < 0 || (nl >= 0 && nl < end)) {
        const kind = c === "'" ? 'single' : 'double';
        return { error: `unmatched ${kind} quote; by default quotes are special to xargs unless you use the -0 option` };
      }
      cur += text.slice(i + 1, end);
      have = true;
      i = end;
      continue;
    }
    if (c === '\\' && i + 1 < text.length) {
      cur += text[++i]!;
      have = true;
      continue;
    }
    cur += c;
    have = true;
  }
  if (have) out.push(cur);
  return out;
}

/** `xargs` as a shell command. */
export const xargs: ShellCommand = {
  name: 'xargs',
  synopsis: 'xargs [-r] [-n MAX] [-I REPLACE] [COMMAND [ARG]...]',
  summary: 'run COMMAND (default echo) with the words of standard input as arguments (findutils)',
  run(ctx) {
    const sh = shellContext(ctx);
    let noRunIfEmpty = false;
    let max: number | undefined;
    let replace: string | undefined;
    const a = ctx.args;
    let i = 0;
    for (; i < a.length; i++) {
      const o = a[i]!;
      if (o === '--') {
        i++;
        break;
      }
      if (!o.startsWith('-') || o === '-') break;
      if (o === '-r' || o === '--no-run-if-empty') noRunIfEmpty = true;
      else if (o === '-n' || o === '-I' || /^-[nI]./.test(o) || o.startsWith('--max-args=')) {
        const flag = o.startsWith('--') ? 'n' : o[1]!;
        const v = o.startsWith('--') ? o.slice(11) : o.length > 2 ? o.slice(2) : a[++i];
        if (v === undefined) {
          ctx.err(`xargs: option requires an argument -- '${flag}'\nUsage: xargs [OPTION]... COMMAND [INITIAL-ARGS]...\nTry 'xargs --help' for more information.\n`);
          return 1;
        }
        if (flag === 'I') replace = v;
        else if (!/^[0-9]+$/.test(v) || Number(v) < 1) {
          ctx.err(`xargs: invalid number ${quote(v)} for -n option\nUsage: xargs [OPTION]... COMMAND [INITIAL-ARGS]...\nTry 'xargs --help' for more information.\n`);
          return 1;
        } else max = Number(v);
      } else {
        ctx.err(`xargs: ${o}: option not supported by the demo shell\n`);
        return 1;
      }
    }
    const command = a.length > i ? a.slice(i) : ['echo'];
    const input = stdinOf(ctx);
    const runs: string[][] = [];
    if (replace !== undefined) {
      for (const line of input.split('\n')) {
        const item = line.replace(/^[ \t]+/, '');
        if (item === '') continue;
        runs.push(command.map((w, k) => (k === 0 ? w : w.split(replace!).join(item))));
      }
    } else {
      const it = items(input);
      if (!Array.isArray(it)) {
        ctx.err(`xargs: ${it.error}\n`);
        return 1;
      }
      const per = max ?? Math.max(1, it.length);
      for (let k = 0; k < it.length; k += per) runs.push([...command, ...it.slice(k, k + per)]);
      if (it.length === 0 && !noRunIfEmpty) runs.push([...command]);
    }
    if (sh === undefined) {
      ctx.err('xargs: only the shell can run commands\n');
      return 1;
    }
    let status = 0;
    for (const words of runs) {
      if (!ctx.commands().some((c) => c.name === words[0])) {
        ctx.err(`xargs: ${words[0]!}: No such file or directory\n`);
        return 127;
      }
      const s = sh.execute(words);
      if (s === 255) {
        ctx.err(`xargs: ${words[0]!}: exited with status 255; aborting\n`);
        return 124;
      }
      if (s >= 1 && s <= 125) status = 123;
    }
    return status;
  },
};
