/**
 * POSIX regular expressions, basic (BRE, grep's default) and extended (ERE,
 * `grep -E`), translated to JavaScript RegExp source, with GNU's
 * extensions (`\|`, `\+`, `\?` in a BRE; `\<`, `\>`, `\b`, `\w`, `\s`) and
 * GNU grep's messages for the patterns it rejects (dfa.c / regcomp):
 *
 * ```
 *   grep: Unmatched [, [^, [:, [., or [=
 *   grep: Unmatched ( or \(
 *   grep: Unmatched ) or \)
 *   grep: Unmatched \{
 *   grep: Invalid regular expression       (a `[` that ends the pattern)
 *   grep: Trailing backslash
 *   grep: character class syntax is [[:space:]], not [:space:]
 * ```
 *
 * Matching is in the C locale: bytes, `[[:alpha:]]` is ASCII letters.
 */

import { CLASSES } from '../glob.js';

/** A pattern GNU grep rejects: the message (without `grep: `). */
export class RegexError extends Error {}

const UNMATCHED_BRACKET = 'Unmatched [, [^, [:, [., or [=';

function lit(c: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(c) ? `\\${c}` : c;
}

/** A bracket expression starting at `i` (`[`): its RegExp class and the index after it. */
function bracket(p: string, i: number): { re: string; next: number } {
  let j = i + 1;
  let negate = false;
  if (p[j] === '^') {
    negate = true;
    j++;
  }
  let body = '';
  let first = true;
  for (;;) {
    if (j >= p.length) throw new RegexError(UNMATCHED_BRACKET);
    const c = p[j]!;
    if (c === ']' && !first) {
      j++;
      break;
    }
    first = false;
    if (c === '[' && (p[j + 1] === ':' || p[j + 1] === '=' || p[j + 1] === '.')) {
      const kind = p[j + 1]!;
      const end = p.indexOf(`${kind}]`, j + 2);
      if (end < 0) throw new RegexError(UNMATCHED_BRACKET);
      const name = p.slice(j + 2, end);
      if (kind === ':') {
        const cls = CLASSES[name];
        if (cls === undefined) throw new RegexError('Invalid character class name');
        body += cls;
      } else {
        body += [...name].map(lit).join('');
      }
      j = end + 2;
      continue;
    }
    if (p[j + 1] === '-' && p[j + 2] !== undefined && p[j + 2] !== ']') {
      const hi = p[j + 2]!;
      if (hi < c) throw new RegexError('Invalid range end');
      body += `${lit(c)}-${lit(hi)}`;
      j += 3;
      continue;
    }
    body += lit(c);
    j++;
  }
  return { re: body === '' ? (negate ? '[^]' : '[]') : `[${negate ? '^' : ''}${body}]`, next: j };
}

/**
 * The RegExp source of a POSIX pattern (`ere`: extended syntax). Throws
 * {@link RegexError} with GNU's message when the pattern is invalid.
 */
export function posixToRegExp(p: string, ere: boolean, warnings: string[] = []): string {
  let re = '';
  let depth = 0;
  /** Whether a `*` here is literal (BRE: at the start of the pattern or of a group, or after `^`/`\|`). */
  const atStart = (): boolean => re === '' || re.endsWith('(') || re.endsWith('|') || re === '^';
  if (!ere && p.startsWith('[:') && /^\[:[a-z]+:\]$/.test(p)) {
    throw new RegexError('character class syntax is [[:space:]], not [:space:]');
  }
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\') {
      const d = p[i + 1];
      if (d === undefined) throw new RegexError('Trailing backslash');
      i++;
      if (!ere && d === '{') {
        const m = /^\\\{([0-9]+)(,([0-9]*))?\\\}/.exec(p.slice(i - 1));
        if (m === null) throw new RegexError(p.indexOf('\\}', i) < 0 ? 'Unmatched \\{' : 'Invalid content of \\{\\}');
        re += `{${m[1]!}${m[2] ?? ''}}`;
        i += m[0].length - 2;
      } else if (!ere && d === '}') {
        re += '\\}';
      } else if (!ere && '()|+?'.includes(d)) {
        if (d === '(') depth++;
        if (d === ')') {
          if (depth === 0) throw new RegexError('Unmatched ) or \\)');
          depth--;
        }
        re += d;
      } else if (d === '<') re += '\\b(?=\\w)';
      else if (d === '>') re += '\\b(?<=\\w)';
      else if ('bBwWsS'.includes(d)) re += `\\${d}`;
      else if (/[1-9]/.test(d)) re += `\\${d}`;
      else re += lit(d);
      continue;
    }
    if (c === '[') {
      if (i === p.length - 1 || (p[i + 1] === '^' && i === p.length - 2)) throw new RegexError('Invalid regular expression');
      const b = bracket(p, i);
      re += b.re;
      i = b.next - 1;
      continue;
    }
    if (ere && atStart() && (c === '*' || c === '+' || c === '?' || (c === '{' && /^\{[0-9]+(,[0-9]*)?\}/.test(p.slice(i))))) {
      // GNU grep 3.8 warns and lets the operator repeat the empty string.
      warnings.push(`${c === '{' ? '{...}' : c} at start of expression`);
      if (c === '{') i = p.indexOf('}', i);
      continue;
    }
    if (c === '*') {
      re += !ere && atStart() ? '\\*' : '*';
      continue;
    }
    if (c === '^') {
      re += ere || re === '' || re.endsWith('(') || re.endsWith('|') ? '^' : '\\^';
      continue;
    }
    if (c === '$') {
      const end = i === p.length - 1 || (!ere && p.startsWith('\\)', i + 1)) || (!ere && p.startsWith('\\|', i + 1));
      re += ere || end ? '$' : '\\$';
      continue;
    }
    if (ere && c === '(') {
      depth++;
      re += '(';
      continue;
    }
    if (ere && c === ')') {
      // An unmatched `)` of an ERE is an ordinary character.
      if (depth === 0) {
        re += '\\)';
        continue;
      }
      depth--;
      re += ')';
      continue;
    }
    if (ere && (c === '|' || c === '+' || c === '?')) {
      re += c;
      continue;
    }
    if (ere && c === '{') {
      const m = /^\{([0-9]*)(,([0-9]*))?\}/.exec(p.slice(i));
      if (m !== null && m[1] !== '') {
        re += m[0];
        i += m[0].length - 1;
      } else {
        re += '\\{';
      }
      continue;
    }
    re += c === '.' ? '.' : lit(c);
  }
  if (depth > 0) throw new RegexError('Unmatched ( or \\(');
  return re;
}
