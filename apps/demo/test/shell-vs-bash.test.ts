// The demo's shell against the real thing: the same tree of files is made
// twice — as the shell's virtual /sys and /proc, and as a directory on the
// host — and each command line runs in both, in the demo's shell and in
// `bash -c` with GNU coreutils, grep and findutils (LC_ALL=C). stdout must be
// byte-identical, stderr too once bash's `bash: line 1: ` is read as the
// demo's `zonedev: `, and so must the status. Paths are relative, so the
// file names printed are the same in both.
//
// Skipped where the host has no bash 5 or no GNU grep/coreutils.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/shell/shell.js';
import { MemFs } from '../src/shell/vfs.js';
import { fakeMachine } from './helpers.js';

const gnu = (cmd: string): boolean => /GNU/.test(spawnSync(cmd, ['--version'], { encoding: 'utf8' }).stdout ?? '');
const hostHasGnu = gnu('bash') && gnu('grep') && gnu('sort') && gnu('xargs');

/** The tree: 12 memory blocks, some offline, and a few /proc files. */
function tree(): { files: Record<string, string>; links: Record<string, string> } {
  const files: Record<string, string> = {};
  const links: Record<string, string> = {};
  const mem = 'sys/devices/system/memory';
  files[`${mem}/block_size_bytes`] = '8000000\n';
  for (let i = 0; i < 12; i++) {
    const dir = `${mem}/memory${i}`;
    files[`${dir}/phys_index`] = `${i.toString(16).padStart(8, '0')}\n`;
    files[`${dir}/state`] = `${i % 5 === 3 ? 'offline' : 'online'}\n`;
    files[`${dir}/valid_zones`] = i === 0 ? 'none\n' : i < 8 ? 'DMA32\n' : 'Normal Movable\n';
    files[`${dir}/removable`] = `${i === 0 ? 0 : 1}\n`;
    links[`${dir}/node${i < 6 ? 0 : 1}`] = `sys/devices/system/node/node${i < 6 ? 0 : 1}`;
  }
  files['sys/devices/system/node/node0/cpulist'] = '0-1\n';
  files['sys/devices/system/node/node1/cpulist'] = '2-3\n';
  files['proc/cmdline'] = 'BOOT_IMAGE=/vmlinuz root=/dev/vda1 memmap=1G!4G quiet\n';
  files['proc/meminfo'] = 'MemTotal:        2014776 kB\nMemFree:         1712340 kB\nMemAvailable:    1801032 kB\nBuffers:           12288 kB\nCached:           101796 kB\n';
  files['proc/numbers'] = '10\n-2\n3.5\n3.50\nabc\n 7\n\n0x10\n007\n-2.5\nABC\n10\n';
  files['proc/iomem'] = '00000000-00000fff : Reserved\n00001000-0009fbff : System RAM\n00100000-7ffdffff : System RAM\n  01000000-01e00000 : Kernel code\n100000000-13fffffff : Persistent Memory (legacy)\n';
  return { files, links };
}

let host = '';

beforeAll(() => {
  if (!hostHasGnu) return;
  host = mkdtempSync(join(tmpdir(), 'zonedev-tree-'));
  const { files, links } = tree();
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(host, p)), { recursive: true });
    writeFileSync(join(host, p), text);
  }
  for (const [p, target] of Object.entries(links)) symlinkSync(relative(dirname(join(host, p)), join(host, target)), join(host, p));
});

afterAll(() => {
  if (host !== '') rmSync(host, { recursive: true, force: true });
});

function demo(line: string): { status: number; stdout: string; stderr: string } {
  const { files, links } = tree();
  const fs = new MemFs();
  const proc: Record<string, string> = {};
  for (const [p, text] of Object.entries(files)) {
    if (p.startsWith('proc/')) proc[`/${p}`] = text;
    else fs.addFile(`/${p}`, text);
  }
  for (const [p, target] of Object.entries(links)) fs.addLink(`/${p}`, `/${target}`);
  const r = run(line, fakeMachine(fs, proc));
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function bash(line: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-c', line], {
    cwd: host,
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LC_ALL: 'C', HOME: '/' },
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.replace(/^bash: line [0-9]+: /gm, 'zonedev: ') };
}

const M = 'sys/devices/system/memory';

/** Command lines that give the same output in both shells. */
const LINES: readonly string[] = [
  // The first things people type.
  `grep . ${M}/memory*/valid_zones`,
  `cat ${M}/memory*/state | sort | uniq -c`,
  `cat ${M}/memory*/state | sort | uniq -c | sort -rn`,
  // grep
  `grep -c online ${M}/memory*/state`,
  `grep -v online ${M}/memory*/state; echo $?`,
  `grep -l offline ${M}/memory*/state | wc -l`,
  `grep -L offline ${M}/memory1*/state`,
  `grep -n -i ONLINE ${M}/memory1/state proc/cmdline`,
  `grep -h . ${M}/memory1*/phys_index | sort -r | head -n 2`,
  `grep -H Normal ${M}/memory9/valid_zones`,
  `grep -x -e none -e DMA32 ${M}/memory[0-2]/valid_zones`,
  `grep -w Movable -c ${M}/memory*/valid_zones | grep -v ':0$'`,
  `grep -o 'mem[a-z]*=[^ ]*' proc/cmdline`,
  `grep -E 'Mem(Total|Free):' proc/meminfo`,
  `grep 'Mem\\(Total\\|Free\\):' proc/meminfo`,
  `grep -F '!' proc/cmdline; echo $?`,
  `grep '^ ' proc/iomem`,
  `grep '[[:digit:]]\\{9\\}-' proc/iomem`,
  `grep -m 1 System proc/iomem`,
  `grep -q online ${M}/memory*/state && echo yes`,
  `grep x nope; echo $?`,
  `grep -s x nope; echo $?`,
  `grep . ${M}; echo $?`,
  `grep 'a[' proc/cmdline; echo $?`,
  `grep -E '(' proc/cmdline; echo $?`,
  `grep 'a[b' proc/cmdline; echo $?`,
  `grep '[^' proc/cmdline; echo $?`,
  `grep '\\(' proc/cmdline; echo $?`,
  `grep 'x\\)' proc/cmdline; echo $?`,
  `grep 'a\\{1' proc/cmdline; echo $?`,
  `grep '[[:foo:]]' proc/cmdline; echo $?`,
  `grep '[:space:]' proc/cmdline; echo $?`,
  `grep 'm\\{2\\}' proc/cmdline proc/meminfo; echo $?`,
  `grep -E 'm{2}|(Mem)+Free' proc/cmdline proc/meminfo`,
  `grep -E '+Mem' proc/meminfo`,
  `grep -E 'x)' proc/cmdline; echo $?`,
  `grep '*quiet' proc/cmdline; echo $?`,
  `grep 'qu*iet$' proc/cmdline`,
  `grep '\\<root\\>' proc/cmdline`,
  `grep 'a\\' proc/cmdline; echo $?`,
  `grep; echo $?`,
  `grep online < ${M}/memory0/state`,
  `cat ${M}/memory0/state | grep -c .`,
  `cat ${M}/memory0/state proc/cmdline | grep -n o -`,
  // head, tail, wc, sort, uniq, cut
  `head -n 2 proc/meminfo`,
  `head -c 10 proc/meminfo; echo`,
  `cat proc/meminfo | head -n -3`,
  `cat proc/meminfo | head -2`,
  `tail -n 2 proc/meminfo`,
  `tail -n +4 proc/meminfo`,
  `tail -c 9 proc/meminfo`,
  `cat proc/meminfo | tail -1`,
  `tail -n 1 proc/cmdline ${M}/memory0/state`,
  `tail nope; echo $?`,
  `head nope; echo $?`,
  `cat proc/meminfo | wc`,
  `cat proc/meminfo | wc -l`,
  `cat proc/meminfo | wc -w -c`,
  `wc -l nope; echo $?`,
  `cat ${M}/memory*/phys_index | sort -n | tail -n 3`,
  `cat ${M}/memory*/phys_index | sort -r | head -n 3`,
  `cat ${M}/memory*/state | sort -u`,
  `cut -d: -f1 proc/meminfo`,
  `cut -d' ' -f2- proc/cmdline`,
  `cut -c1-8,10 proc/meminfo`,
  `cut -f1 -d: -s proc/iomem`,
  `cut -d: -f 2 proc/cmdline`,
  `cut proc/cmdline; echo $?`,
  `cut -c1 -d: proc/cmdline; echo $?`,
  `cut -f0 proc/cmdline; echo $?`,
  `cut -d ab -f1 proc/cmdline; echo $?`,
  `cat ${M}/memory*/state | uniq -c`,
  `cat ${M}/memory*/state | sort | uniq -d`,
  `cat ${M}/memory*/state | uniq -u | sort | uniq -c`,
  `sort nope; echo $?`,
  `uniq nope; echo $?`,
  `sort proc/numbers`,
  `sort -n proc/numbers`,
  `sort -rn proc/numbers`,
  `sort -nu proc/numbers`,
  `sort -u proc/numbers proc/numbers | wc -l`,
  `sort -r proc/numbers | uniq -c`,
  `head -n 2 proc/cmdline proc/numbers`,
  `head -n 1 proc/cmdline - < proc/numbers`,
  `tail -n 1 -q proc/cmdline proc/numbers`,
  `tail -v -n 1 proc/numbers`,
  `grep -v -c 0 proc/numbers`,
  `grep -vn '[0-9]' proc/numbers`,
  `grep -e 10 -e abc -i proc/numbers`,
  `grep -x '' proc/numbers; echo $?`,
  `cut -b 1-2 proc/numbers | sort | uniq -c`,
  `cut -c 2- proc/numbers | head -n 3`,
  `cat proc/numbers | wc -m`,
  `wc -l < proc/numbers`,
  `echo | xargs -r echo never; echo $?`,
  `echo "a 'b c'" d | xargs -n 1 echo`,
  // xargs
  `ls ${M} | grep memory1 | xargs -n 2 echo block`,
  `echo "a b" 'c' | xargs echo x`,
  `echo a | xargs -I{} echo [{}]`,
  `cat ${M}/memory1/state | xargs`,
  `echo a | xargs nope; echo $?`,
  `echo | xargs echo empty`,
  // The shell: globs, variables, lists, loops, cd.
  `echo ${M}/memory[0-2] ${M}/memory1? ${M}/nothing* 'sys/*' "sys/*" sys/\\*`,
  `echo ${M}/memory*/node1 | wc -w`,
  `echo ${M}/memory[!0-9]* ${M}/memory[[:digit:]]`,
  `for b in ${M}/memory1*; do echo $b $b/state; done`,
  `for b in ${M}/memory1*; do cat $b/state; done | sort | uniq -c`,
  `for x in a b c; do echo $x; break; done; echo $x`,
  `for x in a b c; do continue; echo no; done; echo $x`,
  `for x in 1 2; do for y in a b; do echo $x$y; continue 2; done; done`,
  `x='a  b'; echo $x "$x" \${x:-c} \${#x} \${y:-d} \${y-e} \${x:+f} "\${y}"`,
  `x=; echo "[\${x:-empty}]" "[\${x-unset}]"; unset x; echo "[\${x-unset}]"`,
  `false || echo $?; true && echo ok; ! false; echo $?`,
  `false; echo $?; nope; echo $?`,
  `echo a && false && echo b || echo c`,
  `x=1 y=2; echo $x$y; x=3 true; echo $x`,
  `export A=1; export -p | grep ' A='`,
  `cd ${M} && cat memory0/state memory1/node0/cpulist`,
  `cd ${M}/memory3 && cat state && cd .. && ls | grep -c memory`,
  `cd nope; echo $?`,
  `cd proc/cmdline; echo $?`,
  `cd a b; echo $?`,
  `echo "0x$(cat ${M}/block_size_bytes)" $(cat ${M}/memory1/state ${M}/memory3/state)`,
  `for f in $(grep -l offline ${M}/memory*/state); do echo \${f%/state}; done`,
  `false; echo $? $(exit 3) $?; x=$(exit 4); echo $?; x=$(exit 4) true; echo $?`,
  `echo "[$(cat proc/meminfo | head -n 1)]" $(echo a  b) "$(echo a  b)"`,
  `echo $(cd ${M}; ls | grep -c memory) $(exit 1)x; echo $?`,
  `n=$(ls ${M} | grep -c memory); echo $n blocks`,
  `b=${M}/memory11; echo \${b##*/} \${b%/*} \${b#*/} \${b%%/*} \${b#nomatch} "\${b##*memory}" \${b%[0-9]} \${b%%[0-9]*}`,
  `for b in ${M}/memory1*; do echo \${b##*/}: $(cat $b/state); done`,
  `[ a = a ]; echo $?; [ a = b ]; echo $?; [ 1 -lt 2 ]; echo $?; test 3 -ge 3; echo $?; [ 01 -eq 1 ]; echo $?`,
  `[ x -lt 2 ]; echo $?; [ a ; echo $?; [ a b c ]; echo $?; [ -q x ]; echo $?; test a b; echo $?`,
  `[ ]; echo $?; [ -n ]; echo $?; [ ! -z "" ]; echo $?; [ a -a b ]; echo $?; [ "" -o b ]; echo $?; [ a != a ]; echo $?`,
  `[ 99999999999999999999 -eq 1 ]; echo $?; [ " 12 " -eq 12 ]; echo $?; [ a \\< b ]; echo $?; [ ! a = b ]; echo $?`,
  `[ -e ${M} ] && [ -d ${M} ] && [ ! -f ${M} ] && echo dir; [ -f ${M}/memory0/state ] && echo file; [ -e nope ]; echo $?`,
  `[ -d ${M}/memory0/node0 ] && echo linked; [ -x ${M} ]; echo $?; [ -x ${M}/memory0/state ]; echo $?; [ -r ${M}/memory0/state ]; echo $?`,
  `[ a = a -a \\( b = c -o 1 -eq 1 \\) ]; echo $?; [ ! a = a -o ! b = c ]; echo $?; [ a = a -a ]; echo $?`,
  `for b in ${M}/memory*; do [ "$(cat $b/state)" = offline ] && echo \${b##*/}; done`,
  `for b in ${M}/memory1*; do if [ "$(cat $b/state)" = offline ]; then echo \${b##*/} off; elif grep -q 0 $b/removable; then echo fixed; else echo \${b##*/} on; fi; done`,
  `if false; then echo a; fi; echo $?; if false; then true; else false; fi; echo $?; if true; then false; fi; echo $?`,
  `if grep -q x nope; then echo y; else echo n $?; fi`,
  `if true; then echo a; fi | wc -l`,
  `if true; echo a; then echo b; fi`,
  `cat < proc/cmdline`,
  `cat < nope; echo $?`,
  `cat nope 2>&1 | wc -l`,
  // while and until
  `i=0; while [ $i -lt 3 ]; do echo $i; i=$((i+1)); done; echo $?`,
  `i=0; until [ $i -ge 2 ]; do echo $i; i=$((i+1)); done; echo $?`,
  `while false; do echo no; done; echo $?; until true; do echo no; done; echo $?`,
  `i=0; while true; do i=$((i+1)); [ $i -eq 2 ] && continue; [ $i -gt 4 ] && break; echo $i; done`,
  `ls ${M} | grep memory1 | while read_not_a_command; do :; done; echo $?`,
  `for x in a b; do i=0; while :; do i=$((i+1)); [ $i -gt 1 ] && continue 2; echo $x$i; done; done`,
  // case
  `for b in ${M}/memory1*; do case $(cat $b/state) in online) echo \${b##*/} on;; offline) echo \${b##*/} off;; esac; done`,
  `case abc in a*) echo A;; *) echo B;; esac; case xyz in a*) echo A;; *) echo B;; esac`,
  `case x in (x|y) echo 1 ;& z) echo 2;; *) echo 3;; esac`,
  `case x in x) echo 1 ;;& y) echo 2;; x) echo 3;; esac; case q in a) ;; esac; echo $?`,
  `p='a*'; case abc in "$p") echo quoted;; $p) echo pattern;; esac; case 'a*' in "$p") echo literal;; esac`,
  `case memory12 in memory[0-9]) echo one;; memory[0-9][0-9]) echo two;; esac`,
  `case a in a) false;; esac; echo $?`,
  // functions
  `f() { echo "$#:$1:$2:$*"; return 3; echo no; }; f a "b c"; echo $?`,
  `f() { echo "$@"; for a in "$@"; do echo "<$a>"; done; }; f 1 "2 3" ""; f`,
  `f() { local x=2; echo $x; x=3; }; x=1; f; echo $x`,
  `f() { local x; echo "[$x]"; }; x=1; f; echo $x`,
  `g() { return; }; false; g; echo $?; h() { false; }; h; echo $?`,
  `f() { return 300; }; f; echo $?; f() { return -1; }; f; echo $?`,
  `return 1; echo $?; local x=1; echo $?`,
  `f() { echo $1; shift; echo $1 $#; shift 5; echo $?; }; f a b`,
  `blocks() { for b in "$@"; do echo \${b##*/}; done | wc -l; }; blocks ${M}/memory1*`,
  `f() { echo in f; }; f | wc -l; f 2>&1 | grep -c f`,
  `function g { echo g $1; }; g x; function h() { echo h; }; h`,
  `f() { if [ $1 -gt 0 ]; then echo $1; f $(($1-1)); fi; }; f 3`,
  `f() { echo a; }; unset x; echo $(f)b`,
  `{ echo a; echo b; } | wc -l; { false; }; echo $?`,
  // arithmetic
  `x=3; echo $((x*2+1)) $((x<4)) $((-7/2)) $((-7%2)) $((x==3)) $(( x += 2 )) $x`,
  `echo $((0x1F + 010)) $((2**10)) $((1<<3)) $((7&3)) $((6^3)) $((4|1)) $((~0)) $((!0)) $((-(-3))) $((2#101)) $((36#z))`,
  `echo $((y)); y=abc; echo $((y)); y=' 4 '; echo $((y*2)); z=y+1; echo $((z))`,
  `echo $(( (1+2)*3 )) $((1 ? 2 : 3)) $((0 ? 2 : 3)) $((3 > 2 && 0)) $((0 || 5)) $((1, 2))`,
  `echo $((9223372036854775807+1)) $((-9223372036854775807-1)) $((10/3*3)) $((-2**2))`,
  `x=5; echo $((++x)) $((x++)) $x $((x--)) $((--x)) $x`,
  `echo $(()) "$((1+1))" '$((1+1))'`,
  `echo $((0 && 1/0)) $((1 || 1/0)) $((0 ? 1/0 : 4))`,
  `echo $((1/0)); echo after`,
  `echo $((5%0)); echo after`,
  `echo $(( 1 + )); echo after`,
  `echo $((1 +* 2)); echo after`,
  `echo $((a b)); echo after`,
  `echo $((1 2 3))`,
  `echo $((x=))`,
  `echo $(( (1/0)+2 ))`,
  `echo $((08))`,
  `echo $((2**-1))`,
  `y="1+"; echo $((y))`,
  `echo $((1)) | cat; echo $((1/0)) | cat; echo next`,
  `echo $(echo $((1/0)); echo inner) outer`,
  `i=0; for x in a b c; do i=$((i+1)); done; echo $i`,
];

/** Lines bash refuses to parse: its first line of message (without the `bash: -c: line N: ` and the echo of the line that follows). */
const SYNTAX_ERRORS: readonly string[] = [
  `while`,
  `while true; do`,
  `until done`,
  `while true; done`,
  `case a in`,
  `esac`,
  `case a b in a) ;; esac`,
  `case a in a) echo x;; b echo y;; esac`,
  `f() echo hi`,
  `echo $((1+2)`,
  `echo a;; echo b`,
];

describe.skipIf(!hostHasGnu)('the demo shell refuses what bash refuses to parse, with its message and status 2', () => {
  for (const line of SYNTAX_ERRORS) {
    it(line, () => {
      const b = bash(line);
      const first = b.stderr.replace(/^bash: -c: line [0-9]+: /gm, 'zonedev: ').split('\n')[0]!;
      expect(demo(line)).toEqual({ status: b.status, stdout: b.stdout, stderr: `${first}\n` });
    });
  }
});

describe.skipIf(!hostHasGnu)('the demo shell prints what bash 5 and GNU coreutils print over the same tree', () => {
  for (const line of LINES) {
    it(line, () => {
      expect(demo(line)).toEqual(bash(line));
    });
  }
});
