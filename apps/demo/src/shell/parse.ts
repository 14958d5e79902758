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
 * - output redirection `> FILE`, `>> FILE` (also written `1>`): the
 *   command's output is written to FILE in one `write(2)`, as `echo` does;
 * - `$?`, the status of the previous command.
 *
 * There are no variables, globs, pipes, lists or subshells: `|`, `&`, `;`,
 * `<`, `(`, `)` and `` ` `` outside quotes are reported as unsupported
 * rather than silently misread. A `$` not followed by `?` is an ordinary
 * character.
 */

/** An output redirection of a command. */
export interface Redirection {
  /** The file, as written (relative paths are resolved from `/`). */
  readonly path: string;
  /** `>>` rather than `>` (the same thing for sysfs and procfs files). */
  readonly append: boolean;
}

/** One parsed line. */
export type ParsedLine =
  | { readonly kind: 'empty' }
  | { readonly kind: 'command'; readonly words: readonly string[]; readonly redirections: readonly Redirection[] }
  | { readonly kind: 'error'; readonly message: string };

const BLANK = /[ \t]/;
const UNSUPPORTED = new Set(['|', '&', ';', '<', '(', ')', '`']);

/**
 * Parses one line. `status` is the value `$?` expands to.
 */
export function parseLine(line: string, status: number = 0): ParsedLine {
  const words: string[] = [];
  const redirections: Redirection[] = [];
  let pendingRedirect: { append: boolean } | undefined;
  let i = 0;
  const n = line.length;

  const pushWord = (w: string): void => {
    if (pendingRedirect !== undefined) {
      redirections.push({ path: w, append: pendingRedirect.append });
      pendingRedirect = undefined;
    } else {
      words.push(w);
    }
  };

  while (i < n) {
    const c = line[i]!;
    if (BLANK.test(c)) {
      i++;
      continue;
    }
    if (c === '#') break;
    if (c === '>') {
      if (pendingRedirect !== undefined) return syntaxError('>');
      const append = line[i + 1] === '>';
      pendingRedirect = { append };
      i += append ? 2 : 1;
      continue;
    }
    if (UNSUPPORTED.has(c)) {
      return { kind: 'error', message: `${c}: operator not supported (the demo shell runs one simple command per line)` };
    }
    // A word: a run of unquoted, quoted and escaped pieces.
    let word = '';
    let quotedAny = false;
    while (i < n) {
      const d = line[i]!;
      if (BLANK.test(d)) break;
      if (d === '>' || UNSUPPORTED.has(d)) {
        // `1>`: the word `1` directly before `>` is the file descriptor.
        if (d === '>' && word === '1' && !quotedAny) word = '';
        break;
      }
      if (d === '\\') {
        if (i + 1 < n) word += line[i + 1]!;
        i += 2;
        quotedAny = true;
        continue;
      }
      if (d === "'") {
        const end = line.indexOf("'", i + 1);
        if (end < 0) return { kind: 'error', message: "unexpected EOF while looking for matching `''" };
        word += line.slice(i + 1, end);
        i = end + 1;
        quotedAny = true;
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
        if (!closed) return { kind: 'error', message: 'unexpected EOF while looking for matching `"\'' };
        quotedAny = true;
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
    if (word === '' && !quotedAny) continue; // only the `1` of `1>` was read
    pushWord(word);
  }
  if (pendingRedirect !== undefined) return syntaxError('newline');
  if (words.length === 0 && redirections.length === 0) return { kind: 'empty' };
  return { kind: 'command', words, redirections };
}

function syntaxError(token: string): ParsedLine {
  return { kind: 'error', message: `syntax error near unexpected token \`${token}'` };
}
