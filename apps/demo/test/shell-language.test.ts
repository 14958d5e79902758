// The shell's grammar and execution where a comparison with `bash -c` over
// plain files cannot show it (shell-vs-bash.test.ts does the rest): sysfs
// stores reached once per pass of a loop, `set -e`, subshells of pipelines,
// commands spread over several lines, and bash's syntax errors.
import { describe, expect, it } from 'vitest';
import { parseProgram } from '../src/shell/syntax.js';
import { run, Shell } from '../src/shell/shell.js';
import { complete } from '../src/repl.js';
import { fakeMachine, fakeMemorySysfs, range } from './helpers.js';

const MEM = '/sys/devices/system/memory';

/** 6 blocks: 0-3 online, 4-5 offline; block 2 refuses to go offline (EBUSY). Every store() is recorded. */
function machine(): { m: ReturnType<typeof fakeMachine>; writes: string[] } {
  const blocks = [...range(0, 4, 'online', { zones: 'Normal', node: 0 }), ...range(4, 2, 'offline', { zones: 'Normal Movable', node: 0 })];
  blocks[2]!.fail = 'EBUSY';
  const { fs, writes } = fakeMemorySysfs(0x8000000, blocks);
  return { m: fakeMachine(fs, { '/proc/cmdline': 'quiet\n' }), writes };
}

describe('a for loop over sysfs', () => {
  it('stores to each block once, expanding $b afresh on every pass; a failed store does not stop the loop', () => {
    const { m, writes } = machine();
    const r = run(`for b in ${MEM}/memory[0-3]; do echo offline > $b/state; done; echo $?`, m);
    expect(writes).toEqual(['memory0=offline', 'memory1=offline', 'memory2=offline', 'memory3=offline']);
    expect(r).toEqual({
      status: 0,
      stdout: '0\n',
      stderr: 'zonedev: echo: write error: Device or resource busy\n',
      output: 'zonedev: echo: write error: Device or resource busy\n0\n',
    });
    expect(run(`cat ${MEM}/memory*/state | sort | uniq -c`, m).stdout).toBe('      5 offline\n      1 online\n');
  });
  it('`|| break` ends it at the first failure; the status of the loop is its last command’s', () => {
    const { m, writes } = machine();
    const r = run(`for b in ${MEM}/memory*; do echo offline > $b/state || break; done; echo $? $b`, m);
    expect(writes).toEqual(['memory0=offline', 'memory1=offline', 'memory2=offline']);
    expect(r.stdout).toBe(`0 ${MEM}/memory2\n`);
    expect(run('for x in; do echo never; done; echo $?', m).stdout).toBe('0\n');
  });
  it('may be written over several lines, as in a script', () => {
    const { m, writes } = machine();
    const script = `for b in ${MEM}/memory4 ${MEM}/memory5\ndo\n  echo online_movable > $b/state\n  cat $b/state\ndone\necho done`;
    expect(run(script, m)).toMatchObject({ status: 0, stdout: 'online\nonline\ndone\n', stderr: '' });
    expect(writes).toEqual(['memory4=online_movable', 'memory5=online_movable']);
  });
  it('an unfinished command at the end of the script is bash’s unexpected end of file', () => {
    const { m, writes } = machine();
    expect(run(`for b in ${MEM}/memory4; do\necho online > $b/state`, m)).toEqual({
      status: 2,
      stdout: '',
      stderr: 'zonedev: syntax error: unexpected end of file\n',
      output: 'zonedev: syntax error: unexpected end of file\n',
    });
    expect(writes).toEqual([]);
    expect(run('echo a |', m)).toMatchObject({ status: 2, stderr: 'zonedev: syntax error: unexpected end of file\n' });
  });
  it('a Shell waits for the rest of an unfinished command, and cancel() throws it away', () => {
    const { m } = machine();
    let out = '';
    const sh = new Shell(m, { stdout: { write: (t: string) => (out += t) } });
    expect(sh.execLine('for x in a b')).toEqual({ ran: false, status: 0 });
    expect(sh.continuing).toBe(true);
    expect(sh.execLine('do echo $x')).toEqual({ ran: false, status: 0 });
    expect(sh.execLine('done')).toEqual({ ran: true, status: 0 });
    expect(out).toBe('a\nb\n');
    sh.execLine('echo x |');
    sh.cancel();
    expect(sh.continuing).toBe(false);
    expect(sh.execLine('echo y')).toEqual({ ran: true, status: 0 });
    expect(out).toBe('a\nb\ny\n');
    expect(sh.endOfInput()).toBe(false);
  });
});

describe('set -e', () => {
  it('stops at a failing command, not at one before && or || nor one negated by !', () => {
    const { m } = machine();
    expect(run('set -e\nfalse && true\n! true\nfalse || echo rescued\necho still', m)).toMatchObject({ status: 0, stdout: 'rescued\nstill\n' });
    expect(run('set -e; false; echo never', m)).toMatchObject({ status: 1, stdout: '' });
    expect(run('set -e\ntrue && false\necho never', m)).toMatchObject({ status: 1, stdout: '' });
    expect(run('set -e\nfor x in a b; do echo $x; false; done\necho never', m)).toMatchObject({ status: 1, stdout: 'a\n' });
    expect(run('set -e\nfalse | true\necho piped', m)).toMatchObject({ status: 0, stdout: 'piped\n' });
    expect(run('set -e\nif false; then echo no; fi\nif true; then false; fi\necho never', m)).toMatchObject({ status: 1, stdout: '' });
    expect(run('set -e\nif cat /nope; then echo no; else echo else; fi', m)).toMatchObject({ status: 0, stdout: 'else\n' });
    expect(run('echo a; exit 4; echo b', m)).toMatchObject({ status: 4, stdout: 'a\n' });
  });
});

describe('pipelines', () => {
  it('run each command in a subshell: cd, assignments and exit stay in it', () => {
    const { m } = machine();
    expect(run('cd /sys | true; pwd', m).stdout).toBe('/\n');
    expect(run('x=1 | true; echo "[$x]"', m).stdout).toBe('[]\n');
    expect(run('exit 3 | true; echo after $?', m)).toMatchObject({ status: 0, stdout: 'after 0\n' });
    expect(run(`cd ${MEM} && ls | grep -c memory; pwd`, m).stdout).toBe(`6\n${MEM}\n`);
  });
  it('carry stdout only, unless 2>&1 sends stderr down the pipe too', () => {
    const { m } = machine();
    expect(run('cat /nope | wc -l', m)).toMatchObject({ status: 0, stdout: '0\n', stderr: 'cat: /nope: No such file or directory\n' });
    expect(run('cat /nope 2>&1 | wc -l', m)).toMatchObject({ status: 0, stdout: '1\n', stderr: '' });
    expect(run('cat /nope | true; echo $?; true | cat /nope; echo $?; ! cat /nope 2>&1 | grep -q x; echo $?', m).stdout).toBe('0\n1\n0\n');
  });
  it('feed xargs, which runs commands of the shell’s table', () => {
    const { m } = machine();
    expect(run(`ls -1 ${MEM} | grep memory[45] | xargs -I{} cat ${MEM}/{}/state`, m).stdout).toBe('offline\noffline\n');
    expect(run('echo a b c | xargs -n 2', m).stdout).toBe('a b\nc\n');
    expect(run('echo /nope | xargs cat; echo $?', m)).toMatchObject({ stdout: '123\n', stderr: 'cat: /nope: No such file or directory\n' });
    expect(run("echo \"it's\" | xargs echo; echo $?", m)).toMatchObject({
      stdout: '1\n',
      stderr: 'xargs: unmatched single quote; by default quotes are special to xargs unless you use the -0 option\n',
    });
  });
});

describe('words and redirections', () => {
  it('a redirection to a word of several fields is ambiguous, and the command does not run', () => {
    const { m, writes } = machine();
    expect(run(`echo offline > ${MEM}/memory*/state`, m)).toMatchObject({ status: 1, stderr: `zonedev: ${MEM}/memory*/state: ambiguous redirect\n` });
    expect(run('x="a b"; echo 1 > $x', m)).toMatchObject({ status: 1, stderr: 'zonedev: $x: ambiguous redirect\n' });
    expect(writes).toEqual([]);
    // One match is a file like any other.
    expect(run(`echo online > ${MEM}/memory[4]/st*; cat ${MEM}/memory4/state`, m).stdout).toBe('online\n');
    expect(writes).toEqual(['memory4=online']);
  });
  it('< FILE is standard input; a missing one fails before the command runs', () => {
    const { m } = machine();
    expect(run(`grep -c line < ${MEM}/memory4/state`, m).stdout).toBe('1\n');
    expect(run('cat < /nope; echo $?', m)).toMatchObject({ stdout: '1\n', stderr: 'zonedev: /nope: No such file or directory\n' });
  });
  it('a bad substitution fails the command with status 1', () => {
    const { m } = machine();
    expect(run('echo ${1a}; echo $?', m)).toMatchObject({ stdout: '1\n', stderr: 'zonedev: ${1a}: bad substitution\n' });
    expect(run('echo "${x:=set}" $x; echo ${#x}', m).stdout).toBe('set set\n3\n');
  });
  it('cd and export keep their state when they fail', () => {
    const { m } = machine();
    expect(run(`cd ${MEM}; cd nope; pwd; echo $PWD`, m)).toMatchObject({ stdout: `${MEM}\n${MEM}\n`, stderr: 'zonedev: cd: nope: No such file or directory\n' });
    expect(run('export 1x=2 Y=3; echo $?; export -p | grep -c x=', m)).toMatchObject({ stdout: '1\n0\n', stderr: "zonedev: export: `1x=2': not a valid identifier\n" });
    expect(run('cd -; echo $?', m)).toMatchObject({ stdout: '1\n', stderr: 'zonedev: cd: OLDPWD not set\n' });
    expect(run(`cd ${MEM}; cd -; cd -`, m).stdout).toBe(`/\n${MEM}\n`);
  });
});

describe('syntax as bash reads it', () => {
  it('reports bash’s errors for misplaced tokens', () => {
    const cases: [string, string][] = [
      ['done', "syntax error near unexpected token `done'"],
      ['for x in a; done', "syntax error near unexpected token `done'"],
      ['echo a ;; b', "syntax error near unexpected token `;;'"],
      ['| a', "syntax error near unexpected token `|'"],
      ['a && && b', "syntax error near unexpected token `&&'"],
      ['; a', "syntax error near unexpected token `;'"],
      ['for x in a; do done', "syntax error near unexpected token `done'"],
      ['if true; then fi', "syntax error near unexpected token `fi'"],
      ['if then', "syntax error near unexpected token `then'"],
      ['fi', "syntax error near unexpected token `fi'"],
      ['if true; then a; else fi', "syntax error near unexpected token `fi'"],
    ];
    for (const [line, message] of cases) expect(parseProgram(line)).toEqual({ kind: 'error', message });
    expect(parseProgram('for 1 in a; do echo; done')).toEqual({ kind: 'error', message: "`1': not a valid identifier", status: 1 });
    expect(run('for 1 in a; do echo; done', machine().m)).toMatchObject({ status: 1, stderr: "zonedev: `1': not a valid identifier\n" });
  });
  it('knows what is unfinished', () => {
    for (const l of ['for x in a b', 'for x in a; do', 'for x in a; do echo', 'a |', 'a &&', 'a ||', 'for x do echo $x; done |', 'if a', 'if a; then', 'if a; then b; else']) {
      expect(parseProgram(l)).toEqual({ kind: 'incomplete' });
    }
    expect(parseProgram('for x do echo $x; done')).toMatchObject({ kind: 'ok' });
  });
});

describe('ls -l', () => {
  it('is refused outside a kernel sysfs rather than invented', () => {
    const { m } = machine();
    expect(run('ls -l /proc', m)).toEqual({
      status: 2,
      stdout: '',
      stderr: 'ls: /proc: -l describes only /sys in the demo shell\n',
      output: 'ls: /proc: -l describes only /sys in the demo shell\n',
    });
  });
});

describe('tab completion', () => {
  it('completes a command name after |, ; or &&, and names from the working directory', () => {
    const sh = new Shell(machine().m);
    expect(complete(sh, 'cat /proc/cmdline | gr')).toEqual([['grep '], 'gr']);
    expect(complete(sh, 'true && ech')).toEqual([['echo '], 'ech']);
    sh.execLine(`cd ${MEM}`);
    expect(complete(sh, 'cat memory4/st')).toEqual([['memory4/state'], 'memory4/st']);
    expect(complete(sh, 'ls memory')).toEqual([['memory0/', 'memory1/', 'memory2/', 'memory3/', 'memory4/', 'memory5/'], 'memory']);
  });
});
