/**
 * One line of a script as a single command, the way the rest of the demo
 * (a golden script's `# zonedev run OPTIONS` line, the tests) reads it.
 *
 * The shell itself parses with syntax.ts and expands each word when its
 * command runs (expand.ts). {@link parseLine} does both at once for a line
 * that is one simple command, with no variables set and no globbing (there
 * is no file tree here): its words with quotes removed and `$?` expanded to
 * `status`, its redirections, and its `NAME=value` assignments. A line with
 * `;`, `&&`, `||`, `|`, a `for` loop or a `$(...)` is `compound`, with its
 * tree.
 */
import { expandString, expandWords, ExpansionError, type ExpansionEnv } from './expand.js';
import { parseProgram, type List, type Word } from './syntax.js';

/**
 * An output redirection of a command. `fd` is absent for file descriptor 1;
 * `both` marks `&>` / `>& FILE` (descriptors 1 and 2); `dup` marks
 * `N>&M` (then `path` is empty) and `close` marks `N>&-`.
 */
export interface Redirection {
  /** The file, as written (relative paths are resolved from `/`); empty for `>&M` and `>&-`. */
  readonly path: string;
  /** `>>` rather than `>` (the same thing for sysfs and procfs files). */
  readonly append: boolean;
  /** The file descriptor redirected, when not 1. */
  readonly fd?: number;
  /** `&>`: both stdout and stderr. */
  readonly both?: true;
  /** `N>&M`: the descriptor copied. */
  readonly dup?: number;
  /** `N>&-`. */
  readonly close?: true;
  /** `< FILE`: standard input read from `path`. */
  readonly input?: true;
}

/** One parsed line. */
export type ParsedLine =
  | { readonly kind: 'empty' }
  | {
      readonly kind: 'command';
      readonly words: readonly string[];
      readonly redirections: readonly Redirection[];
      /** `NAME=value` words before the command (present only when there are some). */
      readonly assignments?: readonly string[];
    }
  | { readonly kind: 'compound'; readonly list: List }
  | { readonly kind: 'error'; readonly message: string };

/**
 * Parses one line. `status` is the value `$?` expands to; other parameters
 * are unset. An unfinished line (`echo a |`) is bash's `unexpected end of
 * file`.
 */
export function parseLine(line: string, status: number = 0): ParsedLine {
  const r = parseProgram(line);
  if (r.kind === 'incomplete') return { kind: 'error', message: 'syntax error: unexpected end of file' };
  if (r.kind === 'error') return { kind: 'error', message: r.message };
  if (r.list.length === 0) return { kind: 'empty' };
  const ao = r.list[0]!;
  const cmd = ao.first.commands[0]!;
  const substitutes = (w: Word): boolean => w.parts.some((p) => p.kind === 'command' || (p.kind === 'param' && (p.arg ?? []).some((q) => q.kind === 'command')));
  if (
    r.list.length > 1 || ao.rest.length > 0 || ao.first.commands.length > 1 || ao.first.bang || cmd.type !== 'simple' ||
    [...cmd.words, ...cmd.assignments.map((a) => a.value), ...cmd.redirections.map((n) => n.target)].some(substitutes)
  ) {
    return { kind: 'compound', list: r.list };
  }
  const env: ExpansionEnv = { get: () => undefined, set: () => undefined, status, shellName: 'zonedev' };
  try {
    const words = expandWords(cmd.words, env);
    const redirections: Redirection[] = [];
    for (const node of cmd.redirections) {
      const fields = expandWords([node.target], env);
      if (fields.length !== 1) return { kind: 'error', message: `${node.target.raw}: ambiguous redirect` };
      const word = fields[0]!;
      const fd = node.fd === undefined || node.fd === 1 ? {} : { fd: node.fd };
      if (node.op === '<') redirections.push({ path: word, append: false, input: true });
      else if (node.op === '&>' || node.op === '&>>') redirections.push({ path: word, append: node.op === '&>>', both: true });
      else if (node.op === '>&' && /^[0-9]+$/.test(word)) redirections.push({ path: '', append: false, ...fd, dup: Number(word) });
      else if (node.op === '>&' && word === '-') redirections.push({ path: '', append: false, ...fd, close: true });
      else if (node.op === '>&' && node.fd !== undefined) return { kind: 'error', message: `${word}: ambiguous redirect` };
      else if (node.op === '>&') redirections.push({ path: word, append: false, both: true });
      else redirections.push({ path: word, append: node.op === '>>', ...fd });
    }
    const assignments = cmd.assignments.map((a) => `${a.name}=${expandString(a.value, env)}`);
    if (words.length === 0 && redirections.length === 0 && assignments.length === 0) return { kind: 'empty' };
    return assignments.length > 0 ? { kind: 'command', words, redirections, assignments } : { kind: 'command', words, redirections };
  } catch (e) {
    if (e instanceof ExpansionError) return { kind: 'error', message: e.message };
    throw e;
  }
}
