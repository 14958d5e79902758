/**
 * The demo's shell: runs shell-like lines against a machine's `/sys` and
 * `/proc`, printing what bash and the real programs print.
 *
 * A script is read one line at a time, and each line is parsed into bash's
 * tree of lists, pipelines, `for` loops, `if` commands and simple commands
 * (syntax.ts); a line that leaves a command unfinished (`for b in ...; do`, `a |`) waits
 * for the next. The tree is run as bash's execute_cmd.c runs it: each word
 * expanded when its command runs (expand.ts: variables, splitting, globs
 * over the virtual tree), `;` in order, `&&`/`||` by status, a pipeline's
 * commands one after the other in subshells (a copy of the variables and
 * the working directory), each reading what the previous one printed.
 *
 * A simple command comes from the shell's table: the base commands of
 * builtins.ts and state-builtins.ts (`cd`, `export`, `break`, ...), the
 * coreutils of coreutils/ (`grep`, `sort`, `uniq`, `xargs`, ...),
 * util-linux's `lsmem`/`chmem`, and whatever the machine adds
 * (`ShellMachine.commands`). Output goes to stdout, errors to stderr,
 * in the words bash uses, with the shell's name `zonedev` where bash says
 * `bash` (as an interactive bash or `bash -c` prints them, without line
 * numbers):
 *
 * ```
 *   zonedev: foo: command not found                           status 127
 *   zonedev: /sys/nope/x: No such file or directory           status 1  (open for > failed)
 *   zonedev: echo: write error: Device or resource busy       status 1  (the store() failed)
 *   cat: /sys/x: No such file or directory                    status 1  (programs name themselves)
 *   zonedev: syntax error near unexpected token `newline'     status 2
 * ```
 *
 * A failed command does not stop the script, unless `set -e` is in effect
 * (or the shell was started strict, `zonedev run --strict`): then the script
 * stops at the first command whose status is not 0 — except one before
 * `&&` or `||` and one negated by `!`, as bash exempts them — and its exit
 * status is 1. Otherwise the script's status is that of its last command,
 * as bash's.
 * A line that cannot be parsed is a failed command of status 2 (bash would
 * abandon the whole script).
 *
 * With `> FILE` (or `2> FILE`, `&> FILE`, ...), the shell first checks,
 * left to right, that each FILE can be opened for writing (the command does
 * not run if one cannot), then runs the command and writes all it printed
 * on that descriptor to FILE in one `write(2)` — which is how `echo online >
 * state` reaches the attribute's `store()` exactly once, and why `echo 0 2>
 * state` (nothing printed on stderr) stores nothing: opening a sysfs
 * attribute with O_TRUNC does not call `store()`. `N>&M` copies descriptor
 * M, `N>&-` closes N: a write to a closed descriptor is `write error: Bad
 * file descriptor`.
 */
import type { ShellMachine as Machine, Output, ShellCommand } from './command.js';
import { BUILTINS, errorText } from './builtins.js';
import {
  parseProgram,
  type AndOr,
  type CaseCommand,
  type Command,
  type ForCommand,
  type FunctionDefinition,
  type IfCommand,
  type List,
  type Pipeline,
  type RedirectionNode,
  type SimpleCommand,
  type WhileCommand,
} from './syntax.js';
import { patternRegExp } from './glob.js';
import type { Redirection } from './parse.js';
import { expandPattern, expandString, expandWord, expandWords, ExpansionError, type ExpansionEnv } from './expand.js';
import type { ShellContext, ShellVariables } from './context.js';
import { STATE_BUILTINS } from './state-builtins.js';
import { COREUTILS } from './coreutils/index.js';
import { KernelError } from '@zonedev/kernel';
import { byteOrder, ProcFs, RootFs, type VirtualFs } from './vfs.js';

/** Where a file descriptor of a command leads. */
type FileSink = { kind: 'file'; path: string; data: string };
/** The write end of a pipe: what the next command of the pipeline reads. */
type PipeSink = { kind: 'pipe'; data: string };
type Sink = { kind: 'terminal'; output: Output } | { kind: 'input' } | FileSink | PipeSink;

/** The descriptors a command starts with, and what its standard input holds. */
interface Io {
  readonly stdin: string;
  readonly fds: ReadonlyMap<number, Sink>;
}

/** The highest descriptor a redirection may name (the default `ulimit -n` is 1024). */
const MAX_FD = 1023;

/**
 * The deepest nesting of function calls. bash has no limit unless `FUNCNEST`
 * is set (then it is that), and overflows its C stack; the demo shell stops
 * with bash's FUNCNEST message at this depth instead.
 */
const MAX_FUNCTION_NESTING = 1000;

/**
 * The most passes a `while` or `until` loop makes. bash has no limit, but
 * its loops can be interrupted; the demo shell runs a line to its end
 * without yielding, so a loop that never ends stops here with a message
 * (a documented extension).
 */
export const MAX_LOOP_PASSES = 100_000;

/** Writes to a descriptor; false when it is not open for writing (EBADF). */
function writeSink(sink: Sink | undefined, text: string): boolean {
  if (sink === undefined || sink.kind === 'input') return false;
  if (sink.kind === 'terminal') sink.output.write(text);
  else sink.data += text;
  return true;
}

/** The name the shell gives itself in its messages (bash says `bash`). */
export const SHELL_NAME = 'zonedev';

/** Options of a {@link Shell}. */
export interface ShellOptions {
  /** Start with `set -e` in effect (`zonedev run --strict`). */
  readonly strict?: boolean;
  /** Where commands print (default: discarded). */
  readonly stdout?: Output;
  /** Where errors go (default: discarded). */
  readonly stderr?: Output;
}

/** The outcome of {@link run}. */
export interface RunResult {
  /** The script's exit status. */
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout and stderr interleaved in the order they were written, as a terminal shows them. */
  readonly output: string;
}

const DISCARD: Output = { write: () => undefined };

/** The commands every shell has, whatever the machine: the builtins and the coreutils a student pipes into. */
export const BASE_COMMANDS: readonly ShellCommand[] = [...BUILTINS, ...STATE_BUILTINS, ...COREUTILS];

/** The whole tree a machine shows: its sysfs at `/sys`, its providers at `/proc`. */
export function machineFs(machine: Machine): VirtualFs {
  return new RootFs([
    { at: '/proc', fs: new ProcFs(machine.procfs) },
    { at: '/sys', fs: machine.sysfs },
  ]);
}

/**
 * The state a subshell copies (bash forks for each command of a pipeline):
 * variables, the working directory, and a pending `exit`.
 */
interface ExecState {
  readonly vars: Map<string, string | undefined>;
  readonly exported: Set<string>;
  cwd: string;
  /** Loops entered (`for` nesting), for `break`/`continue`. */
  loops: number;
  /** `exit N` ran: the status the (sub)shell ends with. */
  exit: number | undefined;
  /** `break`/`continue` ran. */
  loop: LoopSignal | undefined;
  /** Conditions of `if`, `while` and `until` being run (exempt from `set -e`). */
  conditions: number;
  /** The shell functions defined (`NAME() { ...; }`). */
  readonly functions: Map<string, FunctionDefinition>;
  /** `$1`, `$2`, ...: the arguments of the function being run. */
  positional: readonly string[];
  /** One frame per function being run: the variables its `local` shadowed, and what they held. */
  readonly frames: Map<string, { readonly had: boolean; readonly value: string | undefined }>[];
  /** `return N` ran: the status the function returns. */
  ret: number | undefined;
}

/** Unwinds to the end of the (sub)shell: `exit`, or `set -e` after a failure. */
class ExitSignal {
  constructor(
    readonly status: number,
    readonly errexit: boolean,
  ) {}
}

/** Unwinds to the end of the function being run: `return N`. */
class ReturnSignal {
  constructor(readonly status: number) {}
}

/**
 * Unwinds to the end of the command line (or of the subshell running it):
 * an arithmetic error, or too deep a nesting of functions, after which bash
 * abandons what is left of the line (`jump_to_top_level()`), status 1.
 */
class AbortSignal {}

/** Unwinds to an enclosing loop: `break N` / `continue N`. */
class LoopSignal {
  constructor(
    readonly kind: 'break' | 'continue',
    public levels: number,
  ) {}
}

/**
 * The environment `init` gives its first process (`envp_init[]` in
 * init/main.c: HOME=/ and TERM=linux), plus what bash sets itself on start
 * (PWD, OLDPWD, SHLVL) and the default IFS.
 */
function initialState(): ExecState {
  const vars = new Map<string, string | undefined>([
    ['HOME', '/'],
    ['IFS', ' \t\n'],
    ['OLDPWD', undefined],
    ['PWD', '/'],
    ['SHLVL', '1'],
    ['TERM', 'linux'],
  ]);
  return {
    vars,
    exported: new Set(['HOME', 'OLDPWD', 'PWD', 'SHLVL', 'TERM']),
    cwd: '/',
    loops: 0,
    exit: undefined,
    loop: undefined,
    conditions: 0,
    functions: new Map(),
    positional: [],
    frames: [],
    ret: undefined,
  };
}

/** A copy of `st` for a subshell. */
function subshellState(st: ExecState): ExecState {
  return {
    vars: new Map(st.vars),
    exported: new Set(st.exported),
    cwd: st.cwd,
    loops: st.loops,
    exit: undefined,
    loop: undefined,
    conditions: st.conditions,
    functions: new Map(st.functions),
    positional: st.positional,
    frames: st.frames.map((f) => new Map(f)),
    ret: undefined,
  };
}

/** The status a subshell ends with when `e` unwinds out of it; `e` rethrown when it is not the shell's. */
function subshellStatus(e: unknown): number {
  if (e instanceof ExitSignal || e instanceof ReturnSignal) return e.status;
  if (e instanceof LoopSignal) return 0;
  if (e instanceof AbortSignal) return 1;
  throw e;
}

/** A shell session on one machine. */
export class Shell {
  readonly machine: Machine;
  readonly fs: VirtualFs;
  /** `set -e` state. */
  readonly options: { errexit: boolean };
  /** `$?`: the status of the last command. */
  status: number = 0;
  /** Set when `exit` ran: the status the script ends with. */
  exitStatus: number | undefined;
  private readonly table: Map<string, ShellCommand> = new Map();
  private readonly stdout: Output;
  private readonly stderr: Output;
  private readonly state: ExecState = initialState();
  /** The lines of a command still being typed (`for ... do` without its `done`, `a |`). */
  private pending = '';

  constructor(machine: Machine, options: ShellOptions = {}) {
    this.machine = machine;
    this.fs = machineFs(machine);
    this.options = { errexit: options.strict ?? false };
    this.stdout = options.stdout ?? DISCARD;
    this.stderr = options.stderr ?? DISCARD;
    for (const c of [...BASE_COMMANDS, ...machine.commands]) this.table.set(c.name, c);
  }

  /** The command table. */
  commands(): readonly ShellCommand[] {
    return [...this.table.values()];
  }

  /** The working directory (`$PWD`). */
  cwd(): string {
    return this.state.cwd;
  }

  /** An argument as an absolute path, from the working directory. */
  path(arg: string): string {
    return this.pathFrom(this.state.cwd, arg);
  }

  private pathFrom(cwd: string, arg: string): string {
    // An empty name stays empty: open("") fails with ENOENT.
    if (arg === '' || arg.startsWith('/')) return arg;
    return cwd === '/' ? `/${arg}` : `${cwd}/${arg}`;
  }

  /** Whether the shell is in the middle of a command that goes on on the next line (bash's `> ` prompt). */
  get continuing(): boolean {
    return this.pending !== '';
  }

  /**
   * Runs one line. Returns whether a command ran (not a blank or comment
   * line, nor the first lines of an unfinished command) and the status it
   * left in `$?`. `exit`, or `set -e` after a failure, sets
   * {@link Shell.exitStatus}.
   */
  execLine(line: string): { ran: boolean; status: number } {
    const text = this.pending === '' ? line : `${this.pending}\n${line}`;
    const parsed = parseProgram(text);
    if (parsed.kind === 'incomplete') {
      this.pending = text;
      return { ran: false, status: this.status };
    }
    this.pending = '';
    if (parsed.kind === 'error') {
      this.stderr.write(`${SHELL_NAME}: ${parsed.message}\n`);
      if (this.options.errexit) this.exitStatus = 1;
      return this.done(parsed.status ?? 2);
    }
    if (parsed.list.length === 0) return { ran: false, status: this.status };
    const io: Io = {
      stdin: '',
      fds: new Map<number, Sink>([
        [0, { kind: 'input' }],
        [1, { kind: 'terminal', output: this.stdout }],
        [2, { kind: 'terminal', output: this.stderr }],
      ]),
    };
    let status: number;
    try {
      status = this.execList(parsed.list, io, this.state);
    } catch (e) {
      if (e instanceof AbortSignal) {
        status = 1;
      } else {
        if (!(e instanceof ExitSignal)) throw e;
        this.exitStatus = e.errexit ? 1 : e.status;
        status = e.status;
      }
    }
    return this.done(status);
  }

  /** Ctrl-C: the lines of an unfinished command are thrown away. */
  cancel(): void {
    this.pending = '';
  }

  /**
   * The end of the input: an unfinished command is bash's `syntax error:
   * unexpected end of file` (status 2). Returns whether there was one.
   */
  endOfInput(): boolean {
    if (this.pending === '') return false;
    this.pending = '';
    this.stderr.write(`${SHELL_NAME}: syntax error: unexpected end of file\n`);
    if (this.options.errexit) this.exitStatus = 1;
    this.done(2);
    return true;
  }

  private done(status: number): { ran: boolean; status: number } {
    this.status = status;
    return { ran: true, status };
  }

  /** Commands one after the other (execute_cmd.c's `execute_connection()` for `;`). */
  private execList(list: List, io: Io, st: ExecState): number {
    let s = this.status;
    for (const ao of list) s = this.execAndOr(ao, io, st);
    return s;
  }

  /**
   * `a && b || c`: each pipeline after an operator runs only when the
   * status so far allows it. `set -e` ends the shell when the last pipeline
   * run is the last of the list and failed (not one before `&&`/`||`, nor
   * one negated by `!`), as bash's `exit_immediately_on_error` does.
   */
  private execAndOr(ao: AndOr, io: Io, st: ExecState): number {
    let s = this.execPipeline(ao.first, io, st);
    let last: Pipeline = ao.first;
    let ranLast = ao.rest.length === 0;
    ao.rest.forEach((r, i) => {
      if ((r.op === '&&') !== (s === 0)) return;
      s = this.execPipeline(r.pipeline, io, st);
      last = r.pipeline;
      ranLast = i === ao.rest.length - 1;
    });
    if (s !== 0 && this.options.errexit && st.conditions === 0 && ranLast && !last.bang) throw new ExitSignal(s, true);
    return s;
  }

  /**
   * `a | b | c`: each command's standard output is the next one's standard
   * input. With more than one command each runs in a subshell (a copy of
   * the variables and the working directory, as bash forks), one after the
   * other; the status is the last command's, inverted by `!`.
   */
  private execPipeline(p: Pipeline, io: Io, st: ExecState): number {
    let s: number;
    if (p.commands.length === 1) {
      s = this.execCommand(p.commands[0]!, io, st);
    } else {
      let input = io.stdin;
      s = 0;
      p.commands.forEach((cmd, i) => {
        const last = i === p.commands.length - 1;
        const pipe: PipeSink = { kind: 'pipe', data: '' };
        const fds = new Map(io.fds);
        const out = last ? io.fds.get(1) : pipe;
        if (out === undefined) fds.delete(1);
        else fds.set(1, out);
        const sub = subshellState(st);
        try {
          s = this.execCommand(cmd, { stdin: input, fds }, sub);
        } catch (e) {
          s = subshellStatus(e);
        }
        input = pipe.data;
      });
    }
    if (p.bang) s = s === 0 ? 1 : 0;
    this.status = s;
    return s;
  }

  private execCommand(cmd: Command, io: Io, st: ExecState): number {
    switch (cmd.type) {
      case 'for':
        return this.execFor(cmd, io, st);
      case 'if':
        return this.execIf(cmd, io, st);
      case 'while':
        return this.execWhile(cmd, io, st);
      case 'case':
        return this.execCase(cmd, io, st);
      case 'group':
        return this.execList(cmd.body, io, st);
      case 'function':
        // execute_cmd.c's execute_intern_function(): the definition is the command.
        st.functions.set(cmd.name, cmd);
        return 0;
      default:
        return this.execSimple(cmd, io, st);
    }
  }

  /**
   * An expansion bash refused: its message on the command's standard
   * error, status 1 — and the rest of the line abandoned when bash
   * abandons it (an arithmetic error).
   */
  private expansionFailed(e: unknown, io: { readonly fds: ReadonlyMap<number, Sink> }): number {
    if (!(e instanceof ExpansionError)) throw e;
    writeSink(io.fds.get(2), `${SHELL_NAME}: ${e.message}\n`);
    if (e.abort) throw new AbortSignal();
    return 1;
  }

  /**
   * Runs a loop body once: `break`/`continue` of this loop end it (true:
   * break), those of an outer loop go on unwinding.
   */
  private loopBody(body: List, io: Io, st: ExecState): { status: number; broke: boolean } {
    try {
      return { status: this.execList(body, io, st), broke: false };
    } catch (e) {
      if (!(e instanceof LoopSignal)) throw e;
      if (e.levels > 1) {
        e.levels--;
        throw e;
      }
      return { status: 0, broke: e.kind === 'break' };
    }
  }

  /**
   * `while LIST; do BODY; done` and `until` (execute_cmd.c's
   * `execute_while_or_until()`): BODY runs while LIST's status is 0 (for
   * `until`, is not 0). LIST is exempt from `set -e`. The status is BODY's
   * last, 0 when it never ran. At most {@link MAX_LOOP_PASSES} passes.
   */
  private execWhile(cmd: WhileCommand, io: Io, st: ExecState): number {
    let s = 0;
    st.loops++;
    try {
      for (let pass = 0; ; pass++) {
        if (pass === MAX_LOOP_PASSES) {
          writeSink(io.fds.get(2), `${SHELL_NAME}: ${cmd.until ? 'until' : 'while'}: loop stopped after ${MAX_LOOP_PASSES} passes\n`);
          return 1;
        }
        st.conditions++;
        let c: number;
        let broke = false;
        try {
          const r = this.loopBody(cmd.condition, io, st);
          c = r.status;
          broke = r.broke;
        } finally {
          st.conditions--;
        }
        if (broke || (c === 0) === cmd.until) break;
        const r = this.loopBody(cmd.body, io, st);
        s = r.status;
        if (r.broke) break;
      }
    } finally {
      st.loops--;
    }
    return s;
  }

  /**
   * `case WORD in PATTERN) LIST ;; ... esac` (execute_cmd.c's
   * `execute_case_command()`): WORD expanded without splitting or globbing,
   * each clause's patterns in turn; the first that matches runs its LIST.
   * `;;` ends the command, `;&` runs the next clause's LIST too, `;;&` goes
   * on testing the clauses after it. The status is the last LIST's, 0 when
   * none ran.
   */
  private execCase(cmd: CaseCommand, io: Io, st: ExecState): number {
    const env = this.env(st, io);
    let word: string;
    try {
      word = expandString(cmd.word, env);
    } catch (e) {
      return this.expansionFailed(e, io);
    }
    let s = 0;
    let fallthrough = false;
    for (const clause of cmd.clauses) {
      if (!fallthrough) {
        let matched = false;
        try {
          matched = clause.patterns.some((p) => patternRegExp(expandPattern(p, env)).test(word));
        } catch (e) {
          return this.expansionFailed(e, io);
        }
        if (!matched) continue;
      }
      s = this.execList(clause.body, io, st);
      if (clause.end === ';;') return s;
      fallthrough = clause.end === ';&';
    }
    return s;
  }

  /**
   * A call of shell function `fn` (execute_cmd.c's `execute_function()`):
   * its arguments are `$1`..., its body runs in the current shell with the
   * call's descriptors, `local` variables are restored when it ends, and
   * `return N` ends it with N (else the status is its body's). Loops of the
   * caller are not the function's: `break` in it is an error.
   */
  private callFunction(fn: FunctionDefinition, args: readonly string[], io: Io, st: ExecState): number {
    if (st.frames.length >= MAX_FUNCTION_NESTING) {
      writeSink(io.fds.get(2), `${SHELL_NAME}: ${fn.name}: maximum function nesting level exceeded (${MAX_FUNCTION_NESTING})\n`);
      throw new AbortSignal();
    }
    const positional = st.positional;
    const loops = st.loops;
    const frame = new Map<string, { readonly had: boolean; readonly value: string | undefined }>();
    st.positional = args;
    st.loops = 0;
    st.frames.push(frame);
    try {
      return this.execCommand(fn.body, io, st);
    } catch (e) {
      if (!(e instanceof ReturnSignal)) throw e;
      return e.status;
    } finally {
      st.frames.pop();
      for (const [n, { had, value }] of frame) {
        if (had) st.vars.set(n, value);
        else st.vars.delete(n);
      }
      st.positional = positional;
      st.loops = loops;
    }
  }

  /**
   * `if` (execute_cmd.c's `execute_if_command()`): the first condition
   * whose status is 0 runs its list; none, the `else` list. A condition is
   * exempt from `set -e`. The status is the list's that ran, 0 when none did.
   */
  private execIf(cmd: IfCommand, io: Io, st: ExecState): number {
    for (const b of cmd.branches) {
      st.conditions++;
      let s: number;
      try {
        s = this.execList(b.condition, io, st);
      } finally {
        st.conditions--;
      }
      if (s === 0) return this.execList(b.body, io, st);
    }
    return cmd.otherwise === undefined ? 0 : this.execList(cmd.otherwise, io, st);
  }

  /**
   * The variables, `$?` and command substitution as expansion sees them. A
   * `$(LIST)` runs LIST in a subshell with standard output to a pipe and
   * the command's standard error (subst.c's `command_substitute()`); its
   * status becomes `$?`, and `onSubstitution` hears it.
   */
  private env(st: ExecState, io: Io, onSubstitution?: (status: number) => void): ExpansionEnv {
    const status = (): number => this.status;
    return {
      get: (name) => st.vars.get(name),
      set: (name, value) => void st.vars.set(name, value),
      get status(): number {
        return status();
      },
      shellName: SHELL_NAME,
      get positional(): readonly string[] {
        return st.positional;
      },
      substitute: (list: List): string => {
        const pipe: PipeSink = { kind: 'pipe', data: '' };
        const fds = new Map(io.fds);
        fds.set(1, pipe);
        let s: number;
        try {
          s = this.execList(list, { stdin: io.stdin, fds }, subshellState(st));
        } catch (e) {
          s = subshellStatus(e);
        }
        this.status = s;
        onSubstitution?.(s);
        return pipe.data;
      },
    };
  }

  /**
   * `for NAME in WORDS; do BODY; done` (execute_cmd.c's
   * `execute_for_command()`): the words are expanded once, then NAME takes
   * each value in turn. The status is the body's last, 0 when it never ran.
   */
  private execFor(cmd: ForCommand, io: Io, st: ExecState): number {
    let words: string[];
    try {
      words = cmd.words === undefined ? [] : expandWords(cmd.words, this.env(st, io), { fs: this.fs, cwd: st.cwd });
    } catch (e) {
      return this.expansionFailed(e, io);
    }
    let s = 0;
    st.loops++;
    try {
      for (const w of words) {
        st.vars.set(cmd.name, w);
        const r = this.loopBody(cmd.body, io, st);
        s = r.status;
        if (r.broke) break;
      }
    } finally {
      st.loops--;
    }
    return s;
  }

  /** The redirection a node asks for, its target expanded; a message when it cannot be made. */
  private redirection(node: RedirectionNode, st: ExecState, env: ExpansionEnv): Redirection | { stdinFile: string } | { error: string } {
    const fields = expandWord(node.target, env, { fs: this.fs, cwd: st.cwd });
    if (fields.length !== 1) return { error: `${node.target.raw}: ambiguous redirect` };
    const word = fields[0]!;
    if (node.op === '<') return { stdinFile: word };
    const fd = node.fd === undefined || node.fd === 1 ? {} : { fd: node.fd };
    if (node.op === '&>' || node.op === '&>>') return { path: word, append: node.op === '&>>', both: true };
    if (node.op === '>&') {
      if (/^[0-9]+$/.test(word)) return { path: '', append: false, ...fd, dup: Number(word) };
      if (word === '-') return { path: '', append: false, ...fd, close: true };
      if (node.fd !== undefined) return { error: `${word}: ambiguous redirect` };
      return { path: word, append: false, both: true };
    }
    return { path: word, append: node.op === '>>', ...fd };
  }

  /**
   * One simple command (execute_cmd.c's `execute_simple_command()`): its
   * words expanded and globbed, its redirections made left to right (the
   * command does not run if one fails), assignments made (for the command
   * only, when there is one), the command run, and what it printed to files
   * written, each file in one `write(2)`.
   */
  private execSimple(cmd: SimpleCommand, io: Io, st: ExecState): number {
    // A command of assignments alone has the status of its last command substitution.
    let substituted: number | undefined;
    const env = this.env(st, io, (s) => (substituted = s));
    const fds = new Map<number, Sink>(io.fds);
    const files: FileSink[] = [];
    const toErr = (t: string): void => void writeSink(fds.get(2), t);
    let words: string[];
    let assignments: [string, string][];
    try {
      words = expandWords(cmd.words, env, { fs: this.fs, cwd: st.cwd });
      assignments = cmd.assignments.map((a) => [a.name, expandString(a.value, env)]);
    } catch (e) {
      return this.expansionFailed(e, { fds });
    }
    const [name, ...args] = words;
    const prefix = name !== undefined && this.table.get(name)?.builtin !== true ? '' : `${SHELL_NAME}: `;
    const flush = (): boolean => {
      // stdout's file first: a failed write of it is reported on stderr.
      let ok = true;
      const out = fds.get(1);
      const ordered = [...files].sort((a, b) => (a === out ? -1 : b === out ? 1 : 0));
      for (const f of ordered) {
        if (f.data === '') continue;
        const data = f.data;
        f.data = '';
        try {
          this.fs.write(this.pathFrom(st.cwd, f.path), data);
        } catch (e) {
          // Only the command's own output failing is reported (by the
          // command, on stderr); a failed write of error messages is lost.
          if (f !== out) continue;
          ok = false;
          if (fds.get(2) !== f) toErr(`${prefix}${name ?? ''}: write error: ${errorText(e)}\n`);
        }
      }
      return ok;
    };
    let stdin = io.stdin;
    for (const node of cmd.redirections) {
      let r: ReturnType<Shell['redirection']>;
      try {
        r = this.redirection(node, st, env);
      } catch (e) {
        flush();
        return this.expansionFailed(e, { fds });
      }
      if ('error' in r) {
        toErr(`${SHELL_NAME}: ${r.error}\n`);
        flush();
        return 1;
      }
      if ('stdinFile' in r) {
        const p = this.pathFrom(st.cwd, r.stdinFile);
        try {
          if (this.fs.isDir(p)) throw new KernelError('EISDIR');
          stdin = this.fs.read(p);
        } catch (e) {
          toErr(`${SHELL_NAME}: ${r.stdinFile}: ${errorText(e)}\n`);
          flush();
          return 1;
        }
        fds.set(0, { kind: 'input' });
        continue;
      }
      const fd = r.fd ?? 1;
      if (fd > MAX_FD) {
        toErr(`${SHELL_NAME}: redirection error: cannot duplicate fd: Bad file descriptor\n`);
        flush();
        return 1;
      }
      if (r.close === true) {
        fds.delete(fd);
        continue;
      }
      if (r.dup !== undefined) {
        const src = r.dup > MAX_FD ? undefined : fds.get(r.dup);
        if (src === undefined) {
          toErr(`${SHELL_NAME}: ${r.dup}: Bad file descriptor\n`);
          flush();
          return 1;
        }
        fds.set(fd, src);
        continue;
      }
      try {
        this.fs.openWrite(this.pathFrom(st.cwd, r.path));
      } catch (e) {
        toErr(`${SHELL_NAME}: ${r.path}: ${errorText(e)}\n`);
        flush();
        return 1;
      }
      const sink: FileSink = { kind: 'file', path: r.path, data: '' };
      files.push(sink);
      fds.set(fd, sink);
      if (r.both === true) fds.set(2, sink);
    }
    if (name === undefined) {
      for (const [n, v] of assignments) st.vars.set(n, v);
      flush();
      return substituted ?? 0;
    }
    const fn = st.functions.get(name);
    if (fn !== undefined) {
      // Assignments before a function call hold for the call only.
      const before = assignments.map(([n]) => [n, st.vars.has(n), st.vars.get(n)] as const);
      for (const [n, v] of assignments) st.vars.set(n, v);
      let status: number;
      try {
        status = this.callFunction(fn, args, { stdin, fds }, st);
      } finally {
        for (const [n, had, v] of before) {
          if (had) st.vars.set(n, v);
          else st.vars.delete(n);
        }
        if (!flush()) status = 1;
      }
      return status;
    }
    const command = this.table.get(name);
    this.machine.tick?.();
    if (command === undefined) {
      toErr(`${SHELL_NAME}: ${name}: command not found\n`);
      flush();
      return 127;
    }
    // Assignments before a command hold for that command only.
    const saved = assignments.map(([n]) => [n, st.vars.has(n), st.vars.get(n)] as const);
    for (const [n, v] of assignments) st.vars.set(n, v);
    let outFailed = false;
    const out = (t: string): void => {
      if (!writeSink(fds.get(1), t) && t !== '') outFailed = true;
    };
    const ctx = this.context(name, args, st, stdin, out, toErr);
    // The command and the writes of its files, as one unit the machine may explain.
    const runAndWrite = (): number => {
      let status: number;
      try {
        status = command.run(ctx);
      } catch (e) {
        toErr(`${prefix}${name}: ${errorText(e)}\n`);
        status = 1;
      } finally {
        for (const [n, had, v] of saved) {
          if (had) st.vars.set(n, v);
          else st.vars.delete(n);
        }
      }
      if (outFailed) {
        toErr(`${prefix}${name}: write error: Bad file descriptor\n`);
        status = 1;
      }
      if (!flush()) status = 1;
      return status;
    };
    const status = this.machine.around === undefined ? runAndWrite() : this.machine.around(runAndWrite, (t: string) => void this.stderr.write(t));
    if (st.exit !== undefined) throw new ExitSignal(st.exit, false);
    if (st.ret !== undefined) {
      const r = st.ret;
      st.ret = undefined;
      this.status = r;
      throw new ReturnSignal(r);
    }
    if (st.loop !== undefined) {
      const l = st.loop;
      st.loop = undefined;
      this.status = status;
      throw l;
    }
    return status;
  }

  /** What a command of the table sees when this shell runs it. */
  private context(name: string, args: readonly string[], st: ExecState, stdin: string, out: (t: string) => void, err: (t: string) => void): ShellContext {
    const vars: ShellVariables = {
      get: (n) => st.vars.get(n),
      set: (n, v) => void st.vars.set(n, v),
      unset: (n) => {
        st.vars.delete(n);
        st.exported.delete(n);
      },
      export: (n) => {
        st.exported.add(n);
        if (!st.vars.has(n)) st.vars.set(n, undefined);
      },
      exported: () => [...st.exported].sort(byteOrder).map((n) => [n, st.vars.get(n)] as const),
    };
    return {
      name,
      args,
      fs: this.fs,
      machine: this.machine,
      options: this.options,
      out,
      err,
      path: (a: string): string => this.pathFrom(st.cwd, a),
      commands: (): readonly ShellCommand[] => this.commands(),
      exit: (s?: number): void => {
        st.exit = s ?? this.status;
      },
      stdin,
      vars,
      cwd: () => st.cwd,
      chdir: (dir: string): void => {
        st.vars.set('OLDPWD', st.cwd);
        st.cwd = dir;
        st.vars.set('PWD', dir);
      },
      execute: (words: readonly string[]): number => {
        const [n, ...a] = words;
        const c = n === undefined ? undefined : this.table.get(n);
        if (c === undefined || n === undefined) return 127;
        try {
          return c.run(this.context(n, a, subshellState(st), '', out, err));
        } catch (e) {
          err(`${c.builtin === true ? `${SHELL_NAME}: ` : ''}${n}: ${errorText(e)}\n`);
          return 1;
        }
      },
      returnFromFunction: (status: number): boolean => {
        if (st.frames.length === 0) return false;
        st.ret = status;
        return true;
      },
      inFunction: (): boolean => st.frames.length > 0,
      lastStatus: (): number => this.status,
      positional: (): readonly string[] => st.positional,
      setPositional: (a: readonly string[]): void => {
        st.positional = [...a];
      },
      makeLocal: (n: string, value: string | undefined): boolean => {
        const frame = st.frames[st.frames.length - 1];
        if (frame === undefined) return false;
        if (!frame.has(n)) frame.set(n, { had: st.vars.has(n), value: st.vars.get(n) });
        st.vars.set(n, value);
        return true;
      },
      loopControl: (kind, levels): boolean => {
        if (st.loops === 0) return false;
        st.loop = new LoopSignal(kind, Math.min(levels, st.loops));
        return true;
      },
    };
  }

  /**
   * Runs a script (lines separated by newlines) and returns its exit status:
   * `exit N`'s N; 1 when `set -e` stopped it; otherwise the last command's.
   */
  runScript(script: string): number {
    const lines = script.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    for (const raw of lines) {
      let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      // bash's shell_getc() drops NUL bytes of its input, with a warning for each.
      if (line.includes('\0')) {
        for (const ch of line) if (ch === '\0') this.stderr.write(`${SHELL_NAME}: warning: ignored null byte in input\n`);
        line = line.split('\0').join('');
      }
      this.execLine(line);
      if (this.exitStatus !== undefined) return this.exitStatus;
    }
    this.endOfInput();
    if (this.exitStatus !== undefined) return this.exitStatus;
    return this.status;
  }
}

/**
 * Runs `script` on `machine` and returns its exit status and output.
 * Mirrors what `zonedev run` does with a script file.
 */
export function run(script: string, machine: Machine, options: { strict?: boolean } = {}): RunResult {
  let stdout = '';
  let stderr = '';
  let output = '';
  const shell = new Shell(machine, {
    strict: options.strict ?? false,
    stdout: { write: (t: string): void => void ((stdout += t), (output += t)) },
    stderr: { write: (t: string): void => void ((stderr += t), (output += t)) },
  });
  const status = shell.runScript(script);
  return { status, stdout, stderr, output };
}
