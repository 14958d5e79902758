/**
 * Pathname expansion over the virtual tree, as bash's `glob_filename()`
 * (lib/glob/glob.c) performs it with the default options.
 *
 * A word with an unquoted `*`, `?` or `[` is a pattern. It is split at `/`;
 * each component with a pattern character is matched against the names of
 * the directories reached so far (`*` any string, `?` any character,
 * `[...]` a bracket expression with ranges, `!`/`^` negation and the POSIX
 * classes `[:alpha:]`, `[:digit:]`, ...), and a component without one is
 * taken as it is. A name starting with `.` is matched only by a pattern
 * that starts with a literal `.`. The matches are the paths that exist,
 * sorted in byte order (`LC_ALL=C`); when there is none, the word stays as
 * it was written (no `nullglob`, no `failglob`).
 *
 * Patterns arrive with their quoted characters escaped by a backslash
 * (`"memory*"` is `memory\*`), which is how bash hands them to the matcher
 * after quote removal has been deferred.
 */
import { byteOrder, type VirtualFs } from './vfs.js';

/** Whether `pattern` has an unescaped `*`, `?`, or a `[` that starts a bracket expression. */
export function hasGlob(pattern: string): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '*' || c === '?') return true;
    if (c === '[' && bracketEnd(pattern, i) > 0) return true;
  }
  return false;
}

/** Removes the backslashes that escape characters of a pattern. */
export function unescapePattern(pattern: string): string {
  return pattern.replace(/\\(.)/gs, '$1');
}

/** The POSIX character classes of a bracket expression in the C locale, as JavaScript character-class ranges (globs and grep's regexes share them). */
export const CLASSES: Readonly<Record<string, string>> = {
  alnum: 'A-Za-z0-9',
  alpha: 'A-Za-z',
  blank: ' \\t',
  cntrl: '\\x00-\\x1f\\x7f',
  digit: '0-9',
  graph: '\\x21-\\x7e',
  lower: 'a-z',
  print: '\\x20-\\x7e',
  punct: '!-\\/:-@\\[-`{-~',
  space: ' \\t\\n\\r\\f\\v',
  upper: 'A-Z',
  xdigit: '0-9A-Fa-f',
};

/** The index after the `]` closing the bracket expression opened at `i`, or -1 when it is not closed. */
function bracketEnd(p: string, i: number): number {
  let j = i + 1;
  if (p[j] === '!' || p[j] === '^') j++;
  if (p[j] === ']') j++;
  while (j < p.length) {
    if (p[j] === '\\') {
      j += 2;
      continue;
    }
    if (p[j] === '[' && p[j + 1] === ':') {
      const end = p.indexOf(':]', j + 2);
      if (end > 0) {
        j = end + 2;
        continue;
      }
    }
    if (p[j] === ']') return j + 1;
    j++;
  }
  return -1;
}

function reEscape(c: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(c) ? `\\${c}` : c;
}

/** A bracket expression `[...]` (from `i` to `end`, exclusive) as a RegExp class; undefined for an unknown class name. */
function bracketClass(p: string, i: number, end: number): string | undefined {
  let j = i + 1;
  let negate = false;
  if (p[j] === '!' || p[j] === '^') {
    negate = true;
    j++;
  }
  let body = '';
  let first = true;
  while (j < end - 1) {
    let c = p[j]!;
    if (c === '[' && p[j + 1] === ':') {
      const close = p.indexOf(':]', j + 2);
      const cls = CLASSES[p.slice(j + 2, close)];
      if (cls === undefined) return undefined;
      body += cls;
      j = close + 2;
      first = false;
      continue;
    }
    if (c === '\\' && j + 1 < end - 1) {
      j++;
      c = p[j]!;
    } else if (c === ']' && !first) {
      break;
    }
    first = false;
    if (p[j + 1] === '-' && j + 2 < end - 1) {
      let hi = p[j + 2]!;
      let step = 3;
      if (hi === '\\' && j + 3 < end - 1) {
        hi = p[j + 3]!;
        step = 4;
      }
      if (hi >= c) body += `${reEscape(c)}-${reEscape(hi)}`;
      j += step;
      continue;
    }
    body += reEscape(c);
    j++;
  }
  if (body === '') return negate ? '[^]' : '[]';
  return `[${negate ? '^' : ''}${body}]`;
}

/** A component pattern as an anchored RegExp (bash's `strmatch()` with FNM_PERIOD). */
export function patternRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) {
      re += reEscape(pattern[++i]!);
    } else if (c === '*') {
      re += '.*';
    } else if (c === '?') {
      re += '.';
    } else if (c === '[') {
      const end = bracketEnd(pattern, i);
      const cls = end > 0 ? bracketClass(pattern, i, end) : undefined;
      if (cls === undefined) {
        re += '\\[';
      } else {
        re += cls;
        i = end - 1;
      }
    } else {
      re += reEscape(c);
    }
  }
  return new RegExp(`^${re}$`, 's');
}

/** Whether `name` matches the component pattern, with bash's leading-dot rule. */
export function matchComponent(pattern: string, name: string): boolean {
  if (name.startsWith('.') && !pattern.startsWith('.') && !pattern.startsWith('\\.')) return false;
  return patternRegExp(pattern).test(name);
}

/**
 * The paths matching `pattern` (escapes as above), sorted; relative patterns
 * are matched from `cwd` and stay relative. Empty when nothing matches.
 */
export function glob(fs: VirtualFs, pattern: string, cwd: string): string[] {
  const absolute = pattern.startsWith('/');
  const comps = pattern.split('/');
  if (absolute) comps.shift();
  const join = (dir: string, name: string): string => (dir.endsWith('/') ? `${dir}${name}` : `${dir}/${name}`);
  // Each candidate: the text shown, and the absolute path it names.
  let cands: { shown: string; real: string }[] = [{ shown: absolute ? '/' : '', real: absolute ? '/' : cwd }];
  comps.forEach((comp, idx) => {
    const last = idx === comps.length - 1;
    const next: { shown: string; real: string }[] = [];
    for (const c of cands) {
      const sep = c.shown === '' || c.shown.endsWith('/') ? '' : '/';
      if (comp === '') {
        // `dir//x` or a trailing `/`: only directories go on.
        if (fs.isDir(c.real)) next.push({ shown: `${c.shown}${sep}${last ? '' : ''}`, real: c.real });
        continue;
      }
      if (!hasGlob(comp)) {
        const name = unescapePattern(comp);
        next.push({ shown: `${c.shown}${sep}${name}`, real: join(c.real, name) });
        continue;
      }
      if (!fs.isDir(c.real)) continue;
      let names: string[];
      try {
        names = fs.list(c.real);
      } catch {
        continue;
      }
      for (const n of names) if (matchComponent(comp, n)) next.push({ shown: `${c.shown}${sep}${n}`, real: join(c.real, n) });
    }
    cands = next;
  });
  const trailingSlash = comps.length > 1 && comps[comps.length - 1] === '';
  return cands
    .filter((c) => fs.exists(c.real))
    .map((c) => (trailingSlash && !c.shown.endsWith('/') ? `${c.shown}/` : c.shown))
    .sort(byteOrder);
}
