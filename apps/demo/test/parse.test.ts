import { describe, expect, it } from 'vitest';
import { parseLine } from '../src/shell/parse.js';

describe('parseLine', () => {
  it('splits words on blanks and skips blank and comment lines', () => {
    expect(parseLine('  cat   /proc/iomem  ')).toEqual({ kind: 'command', words: ['cat', '/proc/iomem'], redirections: [] });
    expect(parseLine('')).toEqual({ kind: 'empty' });
    expect(parseLine('   # a comment')).toEqual({ kind: 'empty' });
    expect(parseLine('echo a # b')).toEqual({ kind: 'command', words: ['echo', 'a'], redirections: [] });
    expect(parseLine('echo a#b')).toEqual({ kind: 'command', words: ['echo', 'a#b'], redirections: [] });
  });
  it('handles quotes and escapes as bash does', () => {
    expect(parseLine(`echo 'a  b' "c \\"d\\" \\$e \\x" f\\ g ''`).kind === 'command' && parseLine(`echo 'a  b' "c \\"d\\" \\$e \\x" f\\ g ''`)).toMatchObject({
      words: ['echo', 'a  b', 'c "d" $e \\x', 'f g', ''],
    });
    expect(parseLine(`echo "it's" 'say "hi"'`)).toMatchObject({ words: ['echo', "it's", 'say "hi"'] });
    expect(parseLine(`echo 'a'"b"c`)).toMatchObject({ words: ['echo', 'abc'] });
  });
  it('expands $? outside single quotes; an unset variable unquoted is no word, quoted an empty one', () => {
    expect(parseLine(`echo $? "$?" '$?' $x "$x" \\$x $ a$`, 127)).toMatchObject({ words: ['echo', '127', '127', '$?', '', '$x', '$', 'a$'] });
  });
  it('reads output redirections, with or without blanks, and 1>', () => {
    expect(parseLine('echo online > /sys/x')).toEqual({ kind: 'command', words: ['echo', 'online'], redirections: [{ path: '/sys/x', append: false }] });
    expect(parseLine('echo online>/sys/x')).toMatchObject({ words: ['echo', 'online'], redirections: [{ path: '/sys/x', append: false }] });
    expect(parseLine('echo 1 >> /sys/x')).toMatchObject({ words: ['echo', '1'], redirections: [{ path: '/sys/x', append: true }] });
    expect(parseLine('echo 1 1>/sys/x')).toMatchObject({ words: ['echo', '1'], redirections: [{ path: '/sys/x' }] });
    expect(parseLine('> /sys/x echo "a b"')).toMatchObject({ words: ['echo', 'a b'], redirections: [{ path: '/sys/x' }] });
    expect(parseLine('echo x >"/sys/a b"')).toMatchObject({ redirections: [{ path: '/sys/a b' }] });
  });
  it('reports syntax errors with bash’s words', () => {
    expect(parseLine('echo >')).toEqual({ kind: 'error', message: "syntax error near unexpected token `newline'" });
    expect(parseLine('echo > > x')).toEqual({ kind: 'error', message: "syntax error near unexpected token `>'" });
    expect(parseLine("echo 'abc")).toEqual({ kind: 'error', message: "unexpected EOF while looking for matching `''" });
    expect(parseLine('echo "abc')).toEqual({ kind: 'error', message: 'unexpected EOF while looking for matching `"\'' });
  });
  it('reads lists, pipelines and for loops as compound lines, and refuses what the shell does not have', () => {
    for (const l of ['cat a | b', 'a; b', 'a && b', 'a || b', '! a', 'for x in a; do echo $x; done', 'echo $(cat a)', 'if a; then b; fi', 'while a; do b; done', 'until a; do b; done', 'case a in a) b;; esac', 'f() { a; }']) {
      expect(parseLine(l)).toMatchObject({ kind: 'compound' });
    }
    for (const [l, op] of [['cat a & b', '&'], ['(a)', '('], ['a )', ')'], ['echo `a`', '`']]) {
      expect(parseLine(l!)).toEqual({ kind: 'error', message: `${op!}: not supported by the demo shell` });
    }
    expect(parseLine(`echo '|;&'`)).toMatchObject({ kind: 'command', words: ['echo', '|;&'] });
    expect(parseLine('echo a |')).toEqual({ kind: 'error', message: 'syntax error: unexpected end of file' });
  });
});
