// `help CMD` prints that command's usage, as bash's `help` does for a builtin;
// an unknown topic gets bash's refusal and status 1.
import { describe, expect, it } from 'vitest';
import { run } from '../src/shell/shell.js';
import { fakeMachine, fakeMemorySysfs, range } from './helpers.js';

function machine(): ReturnType<typeof fakeMachine> {
  const { fs } = fakeMemorySysfs(0x8000000, range(0, 2, 'online', { zones: 'Normal', node: 0 }));
  return fakeMachine(fs, {});
}

describe('help [COMMAND]...', () => {
  it('prints the synopsis and summary of each command named', () => {
    const r = run('help echo exit', machine());
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      'echo: echo [-neE] [ARG]...\n    print the arguments (with > FILE: write them to a sysfs file)\n' +
        'exit: exit [N]\n    end the script with status N\n',
    );
  });
  it('refuses an unknown topic as bash does, and still prints the known ones', () => {
    const r = run('help nosuch cat', machine());
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("zonedev: help: no help topics match `nosuch'.  Try `help help' or `man -k nosuch' or `info nosuch'.\n");
    expect(r.stdout).toBe('cat: cat FILE...\n    print files (sysfs attributes, /proc files)\n');
  });
  it('help shell describes the grammar and lists the standard commands, which bare help lists too', () => {
    const r = run('help shell', machine());
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe("The shell reads bash's grammar over /sys, /proc and /dev:");
    const listed = r.stdout.split('Standard commands:\n')[1]!.split('\n').filter((l) => l !== '').map((l) => l.trim().split(' ')[0]);
    expect(listed).toEqual(['[', 'break', 'cd', 'continue', 'cut', 'export', 'grep', 'pwd', 'sort', 'tail', 'test', 'uniq', 'unset', 'wc', 'xargs']);
    const bare = run('help', machine()).stdout;
    for (const name of listed) expect(bare.split('\n').some((l) => l.startsWith(`  ${name} `)), name).toBe(true);
    expect(run('help grep uniq', machine()).stdout).toBe(
      'grep: grep [-EFivwxcLlnhHoqs] [-m NUM] [-e] PATTERNS [FILE]...\n    print the lines that match PATTERNS (GNU grep; FILE: - or none for standard input)\n' +
        'uniq: uniq [-cdui] [INPUT]\n    merge adjacent repeated lines (coreutils; -c: prefix the counts, -d: only repeated, -u: only unique)\n',
    );
  });
  it('with no argument lists every command of the table, builtins and coreutils included, sorted by name', () => {
    const r = run('help', machine());
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Commands \(one per line/);
    expect(r.stdout).toContain('  help [COMMAND]...');
    const names = r.stdout.split('\n').slice(1, -1).map((l) => l.trim().split(' ')[0]!);
    for (const n of ['cat', 'cd', 'cut', 'echo', 'export', 'grep', 'head', 'pwd', 'sort', 'tail', 'test', 'uniq', 'unset', 'wc', 'xargs']) expect(names, n).toContain(n);
    expect(names).toEqual([...names].sort());
    expect(new Set(names).size).toBe(names.length);
  });
});
