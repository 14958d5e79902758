/**
 * The demo's shell: runs shell-like lines against a machine's `/sys` and
 * `/proc`, printing what bash and the real programs print.
 *
 * A script is read one line at a time (see parse.ts for what a line may
 * contain). Each line runs one command from the shell's table: the base
 * commands of builtins.ts, util-linux's `lsmem`/`chmem`, and whatever the
 * machine adds (`Machine.commands`). Output goes to stdout, errors to stderr,
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
 * stops at the first command whose status is not 0, and its exit status is
 * 1. Otherwise the script's status is that of its last command, as bash's.
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
import type { CommandContext, Machine, Output, ShellCommand } from '../machine/machine.js';
import { BUILTINS, errorText } from './builtins.js';
import { parseLine } from './parse.js';
import { ProcFs, RootFs, type VirtualFs } from './vfs.js';
import { chmemCommand, lsmemCommand } from '../tools/commands.js';

/** Where a file descriptor of a command leads. */
type FileSink = { kind: 'file'; path: string; data: string };
type Sink = { kind: 'terminal'; output: Output } | { kind: 'input' } | FileSink;

/** The highest descriptor a redirection may name (the default `ulimit -n` is 1024). */
const MAX_FD = 1023;

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

/** The commands every shell has, whatever the machine: the builtins and util-linux. */
export const BASE_COMMANDS: readonly ShellCommand[] = [...BUILTINS, lsmemCommand, chmemCommand];

/** The whole tree a machine shows: its sysfs at `/sys`, its providers at `/proc`. */
export function machineFs(machine: Machine): VirtualFs {
  return new RootFs([
    { at: '/proc', fs: new ProcFs(machine.procfs) },
    { at: '/sys', fs: machine.sysfs },
  ]);
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

  /** An argument as an absolute path: the working directory is `/`. */
  path(arg: string): string {
    // An empty name stays empty: open("") fails with ENOENT.
    return arg === '' || arg.startsWith('/') ? arg : `/${arg}`;
  }

  /**
   * Runs one line. Returns whether a command ran (not a blank or comment
   * line) and the status it left in `$?`.
   */
  execLine(line: string): { ran: boolean; status: number } {
    const parsed = parseLine(line, this.status);
    if (parsed.kind === 'empty') return { ran: false, status: this.status };
    if (parsed.kind === 'error') {
      this.stderr.write(`${SHELL_NAME}: ${parsed.message}\n`);
      return this.done(2);
    }
    // The descriptor table of the command, built left to right (redir.c's do_redirections()).
    const terminalOut: Sink = { kind: 'terminal', output: this.stdout };
    const terminalErr: Sink = { kind: 'terminal', output: this.stderr };
    const fds = new Map<number, Sink>([
      [0, { kind: 'input' }],
      [1, terminalOut],
      [2, terminalErr],
    ]);
    const files: FileSink[] = [];
    const [name, ...args] = parsed.words;
    const prefix = name !== undefined && this.table.get(name)?.builtin !== true ? '' : `${SHELL_NAME}: `;
    const toErr = (t: string): void => void writeSink(fds.get(2), t);
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
          this.fs.write(this.path(f.path), data);
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
    for (const r of parsed.redirections) {
      const fd = r.fd ?? 1;
      if (fd > MAX_FD) {
        toErr(`${SHELL_NAME}: redirection error: cannot duplicate fd: Bad file descriptor\n`);
        flush();
        return this.done(1);
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
          return this.done(1);
        }
        fds.set(fd, src);
        continue;
      }
      try {
        this.fs.openWrite(this.path(r.path));
      } catch (e) {
        toErr(`${SHELL_NAME}: ${r.path}: ${errorText(e)}\n`);
        flush();
        return this.done(1);
      }
      const sink: FileSink = { kind: 'file', path: r.path, data: '' };
      files.push(sink);
      fds.set(fd, sink);
      if (r.both === true) fds.set(2, sink);
    }
    if (name === undefined) {
      flush();
      return this.done(0);
    }
    const cmd = this.table.get(name);
    this.machine.tick?.();
    if (cmd === undefined) {
      toErr(`${SHELL_NAME}: ${name}: command not found\n`);
      flush();
      return this.done(127);
    }
    let outFailed = false;
    const ctx: CommandContext = {
      name,
      args,
      fs: this.fs,
      machine: this.machine,
      options: this.options,
      out: (t: string): void => {
        if (!writeSink(fds.get(1), t) && t !== '') outFailed = true;
      },
      err: toErr,
      path: (a: string): string => this.path(a),
      commands: (): readonly ShellCommand[] => this.commands(),
      exit: (s?: number): void => {
        this.exitStatus = s ?? this.status;
      },
    };
    let status: number;
    try {
      status = cmd.run(ctx);
    } catch (e) {
      toErr(`${prefix}${name}: ${errorText(e)}\n`);
      status = 1;
    }
    if (outFailed) {
      toErr(`${prefix}${name}: write error: Bad file descriptor\n`);
      status = 1;
    }
    if (!flush()) status = 1;
    return this.done(status);
  }

  private done(status: number): { ran: boolean; status: number } {
    this.status = status;
    return { ran: true, status };
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
      const r = this.execLine(line);
      if (this.exitStatus !== undefined) return this.exitStatus;
      if (r.ran && r.status !== 0 && this.options.errexit) return 1;
    }
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
