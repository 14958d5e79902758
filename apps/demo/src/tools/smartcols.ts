/**
 * The part of util-linux's libsmartcols that lsmem prints with: a table of
 * columns and lines in one of four formats, byte for byte as libsmartcols
 * 2.37 writes it to a pipe (not a terminal: no width limit, no colours).
 *
 * Human format (the default):
 *
 * ```
 *   RANGE                                 SIZE  STATE REMOVABLE BLOCK
 *   0x0000000000000000-0x000000007fffffff   2G online       yes  0-15
 * ```
 *
 * - each column is as wide as its widest cell or its header, whichever is
 *   wider; then, only if the data is not narrower than the header, a width
 *   hint of 1 or more (lsmem's SIZE has 5) raises it to the hint
 *   (`count_column_width()` in calculate.c);
 * - columns are separated by one space; a right-aligned column (and its
 *   header) is padded on the left; every column but the last is padded on
 *   the right to its width (an empty cell is all padding); the last column
 *   is never padded after its text;
 * - lines end in `\n`, including the last.
 *
 * Raw (`-r`): cells separated by one space, blanks and unprintable bytes
 * written as `\x20`-style escapes, empty cells as nothing. Pairs (`-P`):
 * `NAME="value"` separated by spaces. JSON (`-J`): util-linux's `jsonwrt`
 * layout, three spaces per level, names in lower case, objects joined by
 * `},{`, empty strings as `null`, numbers and booleans unquoted.
 */

/** How a column's cells are typed in JSON. */
export type JsonType = 'string' | 'number' | 'boolean';

/** A column: header, width hint, alignment. */
export interface Column {
  readonly name: string;
  /** `whint`: a width of 1 or more is an absolute minimum (see above); below 1 is ignored off a terminal. */
  readonly widthHint: number;
  /** `SCOLS_FL_RIGHT`. */
  readonly right: boolean;
  readonly jsonType: JsonType;
}

/** Output format. */
export type TableFormat = 'human' | 'raw' | 'export' | 'json';

/** A table ready to print. Cells are strings; `''` is an empty cell. */
export interface Table {
  readonly columns: readonly Column[];
  readonly lines: readonly (readonly string[])[];
  readonly format: TableFormat;
  readonly noheadings: boolean;
  /** The JSON array's name (`scols_table_set_name`). */
  readonly name: string;
}

/**
 * `scols_print_table()`: the table as text. A table without lines prints
 * nothing in human, raw and pairs formats, and an empty array in JSON.
 */
export function printTable(t: Table): string {
  switch (t.format) {
    case 'json':
      return printJson(t);
    case 'raw':
      return printRaw(t);
    case 'export':
      return printExport(t);
    default:
      return printHuman(t);
  }
}

function printHuman(t: Table): string {
  if (t.lines.length === 0) return '';
  const widths = t.columns.map((c, i) => {
    const min = Math.max(c.name.length, 1);
    let w = 0;
    for (const l of t.lines) w = Math.max(w, (l[i] ?? '').length);
    if (w < min) w = min;
    else if (c.widthHint >= 1 && w < c.widthHint && min < c.widthHint) w = c.widthHint;
    return w;
  });
  const last = t.columns.length - 1;
  const row = (cells: readonly string[]): string => {
    let s = '';
    t.columns.forEach((c, i) => {
      const data = cells[i] ?? '';
      const w = widths[i]!;
      if (i === last) {
        s += c.right && data !== '' ? data.padStart(w) : data;
      } else {
        s += (c.right && data !== '' ? data.padStart(w) : data.padEnd(w)) + ' ';
      }
    });
    return `${s}\n`;
  };
  let out = '';
  if (!t.noheadings) out += row(t.columns.map((c) => c.name));
  for (const l of t.lines) out += row(l);
  return out;
}

/** `fputs_nonblank()`: blanks, backslashes and unprintable bytes as `\xHH`. */
function nonblank(s: string): string {
  let out = '';
  for (const ch of s) {
    const code = ch.charCodeAt(0);
    if (ch === ' ' || ch === '\t' || ch === '\\' || code < 0x20 || code > 0x7e) {
      out += `\\x${code.toString(16).padStart(2, '0')}`;
    } else {
      out += ch;
    }
  }
  return out;
}

function printRaw(t: Table): string {
  if (t.lines.length === 0) return '';
  const row = (cells: readonly string[]): string => `${t.columns.map((_, i) => nonblank(cells[i] ?? '')).join(' ')}\n`;
  let out = '';
  if (!t.noheadings) out += row(t.columns.map((c) => c.name));
  for (const l of t.lines) out += row(l);
  return out;
}

/** `fputs_quoted()`: a double-quoted value with `"`, `\`, `` ` `` and `$` escaped. */
function quoted(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.charCodeAt(0);
    if (ch === '"' || ch === '\\' || ch === '`' || ch === '$') out += `\\${ch}`;
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

function printExport(t: Table): string {
  if (t.lines.length === 0) return '';
  let out = '';
  for (const l of t.lines) out += `${t.columns.map((c, i) => `${c.name}=${quoted(l[i] ?? '')}`).join(' ')}\n`;
  return out;
}

/** `fputs_quoted_case_json()`: a JSON string. */
function jsonString(s: string, lower: boolean): string {
  let out = '"';
  for (const ch of lower ? s.toLowerCase() : s) {
    const code = ch.charCodeAt(0);
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (code >= 0x20) out += ch;
    else if (ch === '\b') out += '\\b';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\r') out += '\\r';
    else out += `\\u00${code.toString(16).padStart(2, '0')}`;
  }
  return `${out}"`;
}

/**
 * util-linux lib/jsonwrt.c: `{` `"name": [` then one object per line; values
 * at indent 3, separated by `,\n`; objects separated by `},{`.
 */
function printJson(t: Table): string {
  const ind = (n: number): string => '   '.repeat(n);
  let out = `{\n${ind(1)}${jsonString(t.name, true)}: [`;
  if (t.lines.length === 0) return `${out}\n\n${ind(1)}]\n}\n`;
  out += '\n';
  t.lines.forEach((l, li) => {
    out += li === 0 ? `${ind(2)}{\n` : ',{\n';
    out += t.columns
      .map((c, i) => {
        const data = l[i] ?? '';
        let v: string;
        if (c.jsonType === 'boolean') {
          v = data === '' || data.startsWith('0') || /^[Nn]/.test(data) ? 'false' : 'true';
        } else if (data === '') {
          v = 'null';
        } else {
          v = c.jsonType === 'number' ? data : jsonString(data, false);
        }
        return `${ind(3)}${jsonString(c.name, true)}: ${v}`;
      })
      .join(',\n');
    out += `\n${ind(2)}}`;
  });
  return `${out}\n${ind(1)}]\n}\n`;
}
