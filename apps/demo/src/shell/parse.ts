/**
 * Splitting one line of a script into a command, the way bash would.
 *
 * The demo's shell understands the part of bash a student types at a sysfs
 * prompt, and nothing more:
 *
 * - words separated by blanks; `'single'` quotes keep everything literally,
 *   `"double"` quotes keep everything but `\"`, `\\`, `\$`, `` \` `` and
 *   `$?`; a backslash outside quotes escapes the next character;
 * - `#` at the start of a word begins a comment;
 * - output redirections as bash's `redir.c` performs them, left to right:
 *   `[N]> FILE`, `[N]>| FILE`, `[N]>> FILE` (N defaults to 1), `&> FILE`,
 *   `&>> FILE` and `>& FILE` (stdout and stderr), `[N]>&M` (N becomes a
 *   copy of M) and `[N]>&-` (N is closed); what a command prints to a file
 *   is written in one `write(2)`, as `echo` does;
 * - `NAME=value` words before the command (assignments: there are no
 *   variables to assign, so they are accepted and have no effect);
 * - `$?`, the status of the previous command.
 *
 * There are no variables, globs, pipes, lists or subshells, and no input:
 * `|`, `&`, `;`, `<` (also `<<`, `<<<`, `<>`, `N<`), `(`, `)` and `` ` ``
 * outside quotes are reported as unsupported rather than silently misread.
 * A `$` not followed by `?` is an ordinary character.
 */

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
  | { readonly kind: 'error'; readonly message: string };

/** A redirection operator read at `i`: what it redirects, and where its operand starts. */
interface Operator {
  readonly fd: number | undefined;
  readonly both: boolean;
  readonly append: boolean;
  /** `>&`: the operand may be a descriptor, `-`, or (without a descriptor) a file. */
  readonly dupable: boolean;
  readonly next: number;
}

/** Reads `>`, `>|`, `>>`, `>&`, `&>`, `&>>` at `i` (after an optional descriptor number). */
function readOperator(line: string, i: number, fd: number | undefined): Operator | undefined {
  if (line[i] === '&' && line[i + 1] === '>' && fd === undefined) {
    const append = line[i + 2] === '>';
    return { fd: undefined, both: true, append, dupable: false, next: i + (append ? 3 : 2) };
  }
  if (line[i] !== '>') return undefined;
  const d = line[i + 1];
  if (d === '>') return { fd, both: false, append: true, dupable: false, next: i + 2 };
  if (d === '|') return { fd, both: false, append: false, dupable: false, next: i + 2 };
  if (d === '&') return { fd, both: false, append: false, dupable: true, next: i + 2 };
  return { fd, both: false, append: false, dupable: false, next: i + 1 };
}

const BLANK = /[ \t]/;
const UNSUPPORTED = new Set(['|', '&', ';', '<', '(', ')', '`']);

/** A word read at `i`: its text, whether any of it was quoted, and where it ends. */
type WordRead = { word: string; quoted: boolean; next: number } | { error: string };

function readWord(line: string, i: number, status: number): WordRead {
  const n = line.length;
  let word = '';
  let quoted = false;
  while (i < n) {
    const d = line[i]!;
    if (BLANK.test(d) || d === '>' || UNSUPPORTED.has(d)) break;
    if (d === '\\') {
      if (i + 1 < n) word += line[i + 1]!;
      i += 2;
      quoted = true;
      continue;
    }
    if (d === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) return { error: "unexpected EOF while looking for matching `''" };
      word += line.slice(i + 1, end);
      i = end + 1;
      quoted = true;
      continue;
    }
    if (d === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const e = line[i]!;
        if (e === '"') {
          closed = true;
          i++;
          break;
        }
        if (e === '\\' && i + 1 < n && '"\\$`'.includes(line[i + 1]!)) {
          word += line[i + 1]!;
          i += 2;
          continue;
        }
        if (e === '$' && line[i + 1] === '?') {
          word += String(status);
          i += 2;
          continue;
        }
        word += e;
        i++;
      }
      if (!closed) return { error: 'unexpected EOF while looking for matching `"\'' };
      quoted = true;
      continue;
    }
    if (d === '$' && line[i + 1] === '?') {
      word += String(status);
      i += 2;
      continue;
    }
    word += d;
    i++;
  }
  return { word, quoted, next: i };
}

const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

/**
 * Parses one line. `status` is the value `$?` expands to.
 */
export function parseLine(line: string, status: number = 0): ParsedLine {
  const words: string[] = [];
  const redirections: Redirection[] = [];
  const assignments: string[] = [];
  let i = 0;
  const n = line.length;

  while (i < n) {
    const c = line[i]!;
    if (BLANK.test(c)) {
      i++;
      continue;
    }
    if (c === '#') break;
    // A redirection: an optional descriptor number directly before the operator.
    const digits = /^[0-9]+/.exec(line.slice(i))?.[0];
    const at = digits === undefined ? i : i + digits.length;
    if (line[at] === '<' && (digits !== undefined || c === '<')) return unsupported('<');
    const op = readOperator(line, at, digits === undefined ? undefined : Number(digits));
    if (op !== undefined) {
      let j = op.next;
      while (j < n && BLANK.test(line[j]!)) j++;
      if (j >= n || line[j] === '#') return syntaxError('newline');
      if (line[j] === '>' || UNSUPPORTED.has(line[j]!)) {
        const t = line[j] === '>' || line[j] === '<' ? /^[<>][>&|]?/.exec(line.slice(j))![0] : line[j]!;
        return syntaxError(t);
      }
      const w = readWord(line, j, status);
      if ('error' in w) return { kind: 'error', message: w.error };
      i = w.next;
      const fd = op.fd === undefined || op.fd === 1 ? {} : { fd: op.fd };
      if (op.dupable && /^[0-9]+$/.test(w.word)) {
        redirections.push({ path: '', append: false, ...fd, dup: Number(w.word) });
      } else if (op.dupable && w.word === '-') {
        redirections.push({ path: '', append: false, ...fd, close: true });
      } else if (op.dupable && op.fd !== undefined) {
        return { kind: 'error', message: `${w.word}: ambiguous redirect` };
      } else if (op.both || op.dupable) {
        redirections.push({ path: w.word, append: op.append, both: true });
      } else {
        redirections.push({ path: w.word, append: op.append, ...fd });
      }
      continue;
    }
    if (UNSUPPORTED.has(c)) return unsupported(c);
    const w = readWord(line, i, status);
    if ('error' in w) return { kind: 'error', message: w.error };
    if (words.length === 0 && ASSIGNMENT.test(line.slice(i, w.next))) assignments.push(w.word);
    else words.push(w.word);
    i = w.next;
  }
  if (words.length === 0 && redirections.length === 0 && assignments.length === 0) return { kind: 'empty' };
  return assignments.length > 0 ? { kind: 'command', words, redirections, assignments } : { kind: 'command', words, redirections };
}

function unsupported(op: string): ParsedLine {
  return { kind: 'error', message: `${op}: operator not supported (the demo shell runs one simple command per line)` };
}

function syntaxError(token: string): ParsedLine {
  return { kind: 'error', message: `syntax error near unexpected token \`${token}'` };
}
