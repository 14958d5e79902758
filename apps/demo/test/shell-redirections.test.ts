import { describe, expect, it } from 'vitest';
import { parseLine } from '../src/shell/parse.js';
import { run } from '../src/shell/shell.js';
import { fakeMachine, fakeMemorySysfs, range } from './helpers.js';

const STATE = '/sys/devices/system/memory/memory2/state';

/** 3 blocks of 128 MiB, 0-1 online, 2 offline; every store() is recorded. */
function machine(): { m: ReturnType<typeof fakeMachine>; writes: string[] } {
  const { fs, writes } = fakeMemorySysfs(0x8000000, [...range(0, 2, 'online', { zones: 'Normal', node: 0 }), { index: 2, state: 'offline', zones: 'Normal', node: 0 }]);
  return { m: fakeMachine(fs, { '/proc/cmdline': 'quiet\n' }), writes };
}

describe('redirections as bash performs them', () => {
  it('parses descriptor numbers, >|, >>, &>, >&, N>&M and N>&- instead of reading words', () => {
    expect(parseLine('echo 0 2> /sys/x')).toEqual({ kind: 'command', words: ['echo', '0'], redirections: [{ path: '/sys/x', append: false, fd: 2 }] });
    expect(parseLine('echo 0 2>>/sys/x')).toEqual({ kind: 'command', words: ['echo', '0'], redirections: [{ path: '/sys/x', append: true, fd: 2 }] });
    expect(parseLine('echo 0 >| /sys/x')).toEqual({ kind: 'command', words: ['echo', '0'], redirections: [{ path: '/sys/x', append: false }] });
    expect(parseLine('echo 0 &> /sys/x')).toEqual({ kind: 'command', words: ['echo', '0'], redirections: [{ path: '/sys/x', append: false, both: true }] });
    expect(parseLine('echo 0 &>> /sys/x')).toEqual({ kind: 'command', words: ['echo', '0'], redirections: [{ path: '/sys/x', append: true, both: true }] });
    expect(parseLine('echo 0 >& /sys/x')).toEqual({ kind: 'command', words: ['echo', '0'], redirections: [{ path: '/sys/x', append: false, both: true }] });
    expect(parseLine('echo 0 2>&1')).toEqual({ kind: 'command', words: ['echo', '0'], redirections: [{ path: '', append: false, fd: 2, dup: 1 }] });
    expect(parseLine('echo 0 >&2')).toEqual({ kind: 'command', words: ['echo', '0'], redirections: [{ path: '', append: false, dup: 2 }] });
    expect(parseLine('echo 0 >&-')).toEqual({ kind: 'command', words: ['echo', '0'], redirections: [{ path: '', append: false, close: true }] });
    expect(parseLine('echo 0 3>/sys/x')).toEqual({ kind: 'command', words: ['echo', '0'], redirections: [{ path: '/sys/x', append: false, fd: 3 }] });
    // Only a word made of digits alone names a descriptor: `a2>x` is the word a2 and >x.
    expect(parseLine('echo a2>x')).toEqual({ kind: 'command', words: ['echo', 'a2'], redirections: [{ path: 'x', append: false }] });
    expect(parseLine("echo '2'>x")).toEqual({ kind: 'command', words: ['echo', '2'], redirections: [{ path: 'x', append: false }] });
  });
  it('refuses input redirections and here-documents, and reports bad syntax as bash does', () => {
    expect(parseLine('cat < /proc/cmdline')).toEqual({ kind: 'command', words: ['cat'], redirections: [{ path: '/proc/cmdline', append: false, input: true }] });
    expect(parseLine('cat 0</proc/cmdline')).toMatchObject({ redirections: [{ path: '/proc/cmdline', input: true }] });
    for (const [l, op] of [['cat <<EOF', '<<'], ['cat <<< x', '<<'], ['cat <> x', '<>'], ['cat <&0', '<&'], ['cat 3< x', '3<']]) {
      expect(parseLine(l!)).toEqual({ kind: 'error', message: `${op!}: not supported by the demo shell` });
    }
    expect(parseLine('echo 2>')).toEqual({ kind: 'error', message: "syntax error near unexpected token `newline'" });
    expect(parseLine('echo &>')).toEqual({ kind: 'error', message: "syntax error near unexpected token `newline'" });
    expect(parseLine('echo 2> >x')).toEqual({ kind: 'error', message: "syntax error near unexpected token `>'" });
    expect(parseLine('echo 2> &>x')).toEqual({ kind: 'error', message: "syntax error near unexpected token `&'" });
    expect(parseLine('echo 2>&x')).toEqual({ kind: 'error', message: 'x: ambiguous redirect' });
    expect(parseLine('echo x & y')).toEqual({ kind: 'error', message: '&: not supported by the demo shell' });
  });
  it('`echo 0 2> state` prints 0 and stores nothing: opening with O_TRUNC does not call store()', () => {
    const { m, writes } = machine();
    const r = run(`echo 0 2> ${STATE}\ncat ${STATE}`, m);
    expect(r).toEqual({ status: 0, stdout: '0\noffline\n', stderr: '', output: '0\noffline\n' });
    expect(writes).toEqual([]);
  });
  it('`2>` sends errors to the file: a command-not-found message is one write to state, its failure lost', () => {
    const { m, writes } = machine();
    const r = run(`frob 2> ${STATE}`, m);
    expect(writes).toEqual(['memory2=zonedev: frob: command not found']);
    expect(r).toEqual({ status: 127, stdout: '', stderr: '', output: '' });
  });
  it('`&>`, `>&` and `>| ` reach store() once; `2>&1 >FILE` keeps errors on the terminal', () => {
    for (const op of ['&>', '>&', '>|', '1>|', '&>>', '>>']) {
      const { m, writes } = machine();
      expect(run(`echo online ${op} ${STATE}`, m)).toMatchObject({ status: 0, stdout: '', stderr: '' });
      expect(writes).toEqual(['memory2=online']);
    }
    const { m, writes } = machine();
    const r = run(`cat /nope 2>&1 > ${STATE}`, m);
    expect(r).toMatchObject({ status: 1, stdout: 'cat: /nope: No such file or directory\n', stderr: '' });
    expect(writes).toEqual([]);
    const r2 = run(`cat /nope > ${STATE} 2>&1`, m);
    expect(writes).toEqual(['memory2=cat: /nope: No such file or directory']);
    expect(r2).toMatchObject({ status: 1, stdout: '', stderr: '' });
    // The command's own output failing is its write error, on stderr.
    expect(run(`echo bogus > ${STATE} 2>/dev/null`, m)).toMatchObject({ status: 1, stdout: '', stderr: 'zonedev: /dev/null: No such file or directory\n' });
    writes.length = 0;
    expect(run(`echo bogus > ${STATE} 2> /sys/devices/system/memory/memory1/state`, m)).toEqual({ status: 1, stdout: '', stderr: '', output: '' });
    expect(writes).toEqual(['memory2=bogus', 'memory1=zonedev: echo: write error: Invalid argument']);
    expect(run(`echo bogus > ${STATE}`, m)).toMatchObject({ status: 1, stdout: '', stderr: 'zonedev: echo: write error: Invalid argument\n' });
  });
  it('`>&2` prints on stderr; `>&-` is a write error EBADF; `>&5` names no open descriptor', () => {
    const { m } = machine();
    expect(run('echo hi >&2', m)).toEqual({ status: 0, stdout: '', stderr: 'hi\n', output: 'hi\n' });
    expect(run('echo hi >&-', m)).toMatchObject({ status: 1, stdout: '', stderr: 'zonedev: echo: write error: Bad file descriptor\n' });
    expect(run('echo hi 2>&-', m)).toMatchObject({ status: 0, stdout: 'hi\n', stderr: '' });
    expect(run('echo hi >&5', m)).toMatchObject({ status: 1, stdout: '', stderr: 'zonedev: 5: Bad file descriptor\n' });
    expect(run('echo hi >&0', m)).toMatchObject({ status: 1, stdout: '', stderr: 'zonedev: echo: write error: Bad file descriptor\n' });
  });
  it('a descriptor other than 1 and 2 opens the file and writes nothing to it', () => {
    const { m, writes } = machine();
    expect(run(`echo 0 3> ${STATE}`, m)).toMatchObject({ status: 0, stdout: '0\n', stderr: '' });
    expect(run('echo 0 3> /sys/devices/system/memory/nope', m)).toMatchObject({
      status: 1,
      stdout: '',
      stderr: 'zonedev: /sys/devices/system/memory/nope: Permission denied\n',
    });
    expect(writes).toEqual([]);
  });
});
