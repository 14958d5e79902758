/**
 * Word expansion, as bash's subst.c performs it on each word of a command
 * when the command runs: parameter expansion, then word splitting of what
 * unquoted expansions produced, then pathname expansion of the fields with
 * unquoted pattern characters (glob.ts), then quote removal.
 *
 * ```
 *   b=/sys/devices/system/memory/memory3
 *   echo $b/st*      ->  /sys/devices/system/memory/memory3/state
 *   echo "$b/st*"    ->  /sys/devices/system/memory/memory3/st*
 *   x='a   b'; echo $x "$x"   ->  a b a   b
 * ```
 *
 * An unquoted expansion that produces nothing produces no field (`echo $nope
 * x` has one argument); `""` and `"$nope"` are an empty field. Splitting uses
 * the characters of `$IFS` (default blank, tab, newline), each as a blank.
 * Parameters: variables, `$?`, `$#`, `$0` (the shell's name), `$1`..`$9`
 * and `$@`/`$*` (a function's arguments; none at the top level: a script
 * has no arguments; `"$@"` is one field per argument), with `${NAME}`,
 * `${#NAME}`, `${NAME-word}`, `${NAME:-word}`, `${NAME+word}`,
 * `${NAME:+word}`, `${NAME=word}`, `${NAME:=word}`, `${NAME#pattern}`,
 * `${NAME##pattern}`, `${NAME%pattern}`, `${NAME%%pattern}`; and `$(LIST)`, what
 * LIST prints without its trailing newlines, split and globbed like a
 * parameter when unquoted; and `$((EXPRESSION))`, the expression expanded
 * then evaluated (arith.ts). An arithmetic error abandons the rest of the
 * command line, as bash's does.
 */
import { glob, hasGlob, patternRegExp } from './glob.js';
import { ArithError, evalArith } from './arith.js';
import type { VirtualFs } from './vfs.js';
import type { List, Word, WordPart } from './syntax.js';

/** What expansion reads and (for `${NAME:=word}`) writes. */
export interface ExpansionEnv {
  /** A variable's value, undefined when unset. */
  get(name: string): string | undefined;
  /** Sets a variable (`${NAME:=word}`). */
  set(name: string, value: string): void;
  /** `$?` (read when it is expanded: a command substitution before it changes it). */
  readonly status: number;
  /** Runs the list of a `$(...)` and returns what it printed; undefined where commands cannot run. */
  readonly substitute?: (list: List) => string;
  /** `$0`. */
  readonly shellName: string;
  /** `$1`, `$2`, ...: the arguments of the function being run (none at the top level). */
  readonly positional?: readonly string[];
}

/** Where globs are matched: the tree and the working directory. */
export interface GlobRoot {
  readonly fs: VirtualFs;
  readonly cwd: string;
}

/**
 * An expansion that bash refuses (`${1a}: bad substitution`). `abort`: bash
 * abandons the rest of the command line too (an arithmetic error: its
 * `jump_to_top_level()`), not only the command.
 */
export class ExpansionError extends Error {
  constructor(
    message: string,
    readonly abort: boolean = false,
  ) {
    super(message);
  }
}

/** A field being built: its characters and which of them were quoted. */
class Field {
  text = '';
  quoted: boolean[] = [];
  /** Some quoting was seen: the field exists even when empty. */
  hadQuotes = false;

  add(text: string, quoted: boolean): void {
    this.text += text;
    for (let i = 0; i < text.length; i++) this.quoted.push(quoted);
  }

  /** The text as a glob pattern: quoted pattern characters escaped. */
  pattern(): string {
    let p = '';
    for (let i = 0; i < this.text.length; i++) {
      const c = this.text[i]!;
      p += this.quoted[i] === true && '\\*?[]'.includes(c) ? `\\${c}` : c;
    }
    return p;
  }
}

function paramValue(name: string, env: ExpansionEnv): string | undefined {
  const args = env.positional ?? [];
  if (name === '?') return String(env.status);
  if (name === '#') return String(args.length);
  if (name === '0') return env.shellName;
  // "$*" joins with the first character of IFS (subst.c's string_list_dollar_star()).
  if (name === '@' || name === '*') return args.join((env.get('IFS') ?? ' ').slice(0, 1));
  if (/^[1-9]$/.test(name)) return args[Number(name) - 1];
  return env.get(name);
}

/**
 * `${NAME#pattern}` and its kin (subst.c's `remove_pattern()`): the value
 * without its shortest (`#`) or longest (`##`) prefix matching the pattern,
 * or its shortest (`%`) or longest (`%%`) suffix.
 */
function removePattern(value: string, op: string, pattern: string): string {
  const re = patternRegExp(pattern);
  const n = value.length;
  if (op === '#' || op === '##') {
    for (let k = 0; k <= n; k++) {
      const len = op === '#' ? k : n - k;
      if (re.test(value.slice(0, len))) return value.slice(len);
    }
    return value;
  }
  for (let k = 0; k <= n; k++) {
    const start = op === '%' ? n - k : k;
    if (re.test(value.slice(start))) return value.slice(0, start);
  }
  return value;
}

/** Expands parts into fields; `split` enables word splitting of unquoted expansions. */
function expandParts(parts: readonly WordPart[], env: ExpansionEnv, split: boolean): Field[] {
  const fields: Field[] = [];
  let cur = new Field();
  let pendingBreak = false;
  const ifs = env.get('IFS') ?? ' \t\n';
  const push = (): void => {
    if (cur.text !== '' || cur.hadQuotes) fields.push(cur);
    cur = new Field();
  };
  const add = (text: string, quoted: boolean): void => {
    if (pendingBreak && text !== '') {
      push();
      pendingBreak = false;
    }
    cur.add(text, quoted);
  };
  const addSplit = (value: string): void => {
    for (const ch of value) {
      if (ifs.includes(ch)) {
        if (cur.text !== '' || cur.hadQuotes) pendingBreak = true;
      } else {
        add(ch, false);
      }
    }
  };
  const walk = (ps: readonly WordPart[]): void => {
    for (const p of ps) {
      if (p.kind === 'literal') {
        if (p.quoted) {
          if (pendingBreak) {
            push();
            pendingBreak = false;
          }
          cur.hadQuotes = true;
        }
        add(p.text, p.quoted);
        continue;
      }
      if (p.kind === 'bad') throw new ExpansionError(`${p.text}: bad substitution`);
      // "$@": each positional parameter is a field of its own.
      if (p.kind === 'param' && p.name === '@' && p.quoted && p.op === undefined && p.length !== true) {
        (env.positional ?? []).forEach((a, i) => {
          if (i > 0) {
            cur.hadQuotes = true;
            push();
          }
          if (pendingBreak) {
            push();
            pendingBreak = false;
          }
          cur.hadQuotes = true;
          add(a, true);
        });
        continue;
      }
      let value: string | undefined;
      if (p.kind === 'arith') {
        const text = expandString({ parts: p.parts, raw: '' }, env);
        try {
          value = evalArith(text, env);
        } catch (e) {
          if (e instanceof ArithError) throw new ExpansionError(e.message, true);
          throw e;
        }
      } else if (p.kind === 'command') {
        if (env.substitute === undefined) throw new ExpansionError('command substitution: no commands to run here');
        // The output without its trailing newlines (subst.c's command_substitute()).
        value = env.substitute(p.list).replace(/\n+$/, '');
      } else {
        value = paramValue(p.name, env);
      }
      const removal = p.kind === 'param' && p.op !== undefined && (p.op.startsWith('#') || p.op.startsWith('%'));
      if (removal) value = removePattern(value ?? '', p.op!, expandParts(p.arg ?? [], env, false)[0]?.pattern() ?? '');
      if (p.kind === 'param' && p.op !== undefined && !removal) {
        const colon = p.op.startsWith(':');
        const unset = value === undefined || (colon && value === '');
        const kind = p.op.slice(-1);
        if (kind === '-' && unset) {
          walk(p.arg ?? []);
          continue;
        }
        if (kind === '+') {
          if (!unset) walk(p.arg ?? []);
          continue;
        }
        if (kind === '=' && unset) {
          if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(p.name)) throw new ExpansionError(`$${p.name}: cannot assign in this way`);
          value = expandString({ parts: p.arg ?? [], raw: '' }, env);
          env.set(p.name, value);
        }
      }
      if (p.kind === 'param' && p.length === true) value = String([...(value ?? '')].length);
      if (p.quoted) {
        if (pendingBreak) {
          push();
          pendingBreak = false;
        }
        cur.hadQuotes = true;
        add(value ?? '', true);
      } else if (split) {
        addSplit(value ?? '');
      } else {
        add(value ?? '', false);
      }
    }
  };
  walk(parts);
  push();
  return fields;
}

/**
 * A word as the fields it becomes (bash's `expand_word_list_internal()`):
 * expanded, split, globbed when `root` is given, quotes removed.
 */
export function expandWord(word: Word, env: ExpansionEnv, root?: GlobRoot): string[] {
  const out: string[] = [];
  for (const f of expandParts(word.parts, env, true)) {
    const pattern = f.pattern();
    if (root !== undefined && hasGlob(pattern)) {
      const matches = glob(root.fs, pattern, root.cwd);
      if (matches.length > 0) {
        out.push(...matches);
        continue;
      }
    }
    out.push(f.text);
  }
  return out;
}

/** Expands several words, in order. */
export function expandWords(words: readonly Word[], env: ExpansionEnv, root?: GlobRoot): string[] {
  return words.flatMap((w) => expandWord(w, env, root));
}

/**
 * A word as one string, without splitting or globbing: the value of an
 * assignment (bash's `expand_string_assignment()`).
 */
export function expandString(word: Word, env: ExpansionEnv): string {
  return expandParts(word.parts, env, false)
    .map((f) => f.text)
    .join('');
}

/**
 * A word as a pattern, without splitting or globbing: its quoted pattern
 * characters escaped, so that they match themselves (a `case` pattern,
 * execute_cmd.c's `execute_case_command()`).
 */
export function expandPattern(word: Word, env: ExpansionEnv): string {
  return expandParts(word.parts, env, false)
    .map((f) => f.pattern())
    .join('');
}
