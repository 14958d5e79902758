import { describe, expect, it } from 'vitest';
import { isDigitString, parseSize, sizeToHumanString, strtou64, versionCompare } from '../src/tools/strutils.js';

describe('size_to_human_string (util-linux lib/strutils.c)', () => {
  it.each([
    [0, '0B'],
    [1, '1B'],
    [1023, '1023B'],
    [1024, '1K'],
    [1536, '1.5K'],
    [0x8000000, '128M'],
    [2 ** 30, '1G'],
    [1.5 * 2 ** 30, '1.5G'],
    [2 ** 30 + 100 * 2 ** 20, '1.1G'],
    [3 * 2 ** 30 - 2 ** 27, '2.9G'],
    [0xc0000000 - 0x20000, '3G'],
    [2 ** 31 - 2 ** 20, '2G'],
    [Math.floor(2 ** 30 * 0.94), '962.6M'],
    [2 ** 40 * 16, '16T'],
    [2 ** 50 * 3, '3P'],
    [2 ** 60, '1E'],
  ])('%d -> %s', (bytes, text) => {
    expect(sizeToHumanString(bytes)).toBe(text);
  });
  it('rounds half up to one decimal and carries into the integer', () => {
    expect(sizeToHumanString(2 ** 30 + Math.ceil(0.05 * 2 ** 30))).toBe('1.1G');
    expect(sizeToHumanString(2 ** 30 + Math.floor(0.05 * 2 ** 30))).toBe('1G'); // 0.0499.. truncated to 3 digits first
    expect(sizeToHumanString(Math.floor(2 ** 30 + 0.04 * 2 ** 30))).toBe('1G');
    expect(sizeToHumanString(2 ** 31 - 1)).toBe('2G');
  });
  it('works on bigints past 2^53', () => {
    expect(sizeToHumanString(2n ** 63n + 2n ** 62n)).toBe('12E');
  });
});

describe('parse_size / strtosize', () => {
  it.each([
    ['1024', 1024n],
    ['0x10', 16n],
    ['010', 8n],
    ['1K', 1024n],
    ['1k', 1024n],
    ['1KiB', 1024n],
    ['1KB', 1000n],
    ['128M', 134217728n],
    ['2g', 2147483648n],
    ['1.5G', 1610612736n],
    ['0.5MiB', 524288n],
    ['1.05G', 1127428915n],
  ])('%s -> %d', (s, v) => {
    expect(parseSize(s)).toBe(v);
  });
  it.each(['', 'abc', '-1', '1X', '1.', '1.5', '12 M'])('rejects %j', (s) => {
    expect(parseSize(s)).toBeUndefined();
  });
});

describe('number parsing and ordering', () => {
  it('strtou64 takes whole numbers only', () => {
    expect(strtou64('42', 10)).toBe(42n);
    expect(strtou64('0x1f', 16)).toBe(31n);
    expect(strtou64('1f', 16)).toBe(31n);
    expect(strtou64('4x', 10)).toBeUndefined();
    expect(strtou64('', 10)).toBeUndefined();
  });
  it('versionsort puts memory9 before memory10', () => {
    const names = ['memory10', 'memory9', 'memory1', 'memory100', 'memory0'];
    expect(names.sort(versionCompare)).toEqual(['memory0', 'memory1', 'memory9', 'memory10', 'memory100']);
  });
  it('isdigit_string', () => {
    expect(isDigitString('12')).toBe(true);
    expect(isDigitString('')).toBe(false);
    expect(isDigitString('1a')).toBe(false);
  });
});
