import { describe, expect, it } from 'vitest';
import { printTable, type Column, type Table } from '../src/tools/smartcols.js';

const cols: Column[] = [
  { name: 'NAME', widthHint: 0, right: false, jsonType: 'string' },
  { name: 'N', widthHint: 3, right: true, jsonType: 'number' },
  { name: 'OK', widthHint: 0, right: true, jsonType: 'boolean' },
  { name: 'NOTE', widthHint: 0, right: false, jsonType: 'string' },
];
const table = (format: Table['format'], lines: string[][] = [['a b', '1', 'yes', 'x'], ['c"d', '', '', '']]): Table => ({ columns: cols, lines, format, noheadings: false, name: 'rows' });

describe('libsmartcols output formats', () => {
  it('human: widths, hints, right alignment, no padding after the last column', () => {
    expect(printTable(table('human'))).toBe('NAME   N  OK NOTE\na b    1 yes x\nc"d          \n');
  });
  it('raw: blanks and backslashes escaped, empty cells empty', () => {
    expect(printTable(table('raw'))).toBe('NAME N OK NOTE\na\\x20b 1 yes x\nc"d   \n');
  });
  it('pairs: quoted values', () => {
    expect(printTable(table('export'))).toBe('NAME="a b" N="1" OK="yes" NOTE="x"\nNAME="c\\"d" N="" OK="" NOTE=""\n');
  });
  it('json: types, null for empty, lower-case names, escaped strings', () => {
    const out = printTable(table('json'));
    expect(out).toBe(`{
   "rows": [
      {
         "name": "a b",
         "n": 1,
         "ok": true,
         "note": "x"
      },{
         "name": "c\\"d",
         "n": null,
         "ok": false,
         "note": null
      }
   ]
}
`);
    expect(JSON.parse(out)).toEqual({ rows: [{ name: 'a b', n: 1, ok: true, note: 'x' }, { name: 'c"d', n: null, ok: false, note: null }] });
  });
  it('prints nothing for an empty table, except an empty JSON array', () => {
    expect(printTable(table('human', []))).toBe('');
    expect(printTable(table('json', []))).toBe('{\n   "rows": [\n\n   ]\n}\n');
  });
});
