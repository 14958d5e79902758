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
 * With `> FILE`, the shell first checks that FILE can be opened for writing
 * (the command does not run if not), then runs the command and writes all
 * it printed to FILE in one `write(2)` — which is how `echo online > state`
 * reaches the attribute's `store()` exactly once.
 */
import type { CommandContext, Machine, Output, ShellCommand } from '../machine/machine.js';
import { BUILTINS, errorText } from './builtins.js';
import { parseLine } from './parse.js';
import { ProcFs, RootFs, type VirtualFs } from './vfs.js';
import { chmemCommand, lsmemCommand } from '../tools/commands.js';

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
    return arg.startsWith('/') ? arg : `/${arg}`;
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
    for (const r of parsed.redirections) {
      try {
        this.fs.openWrite(this.path(r.path));
      } catch (e) {
        this.stderr.write(`${SHELL_NAME}: ${r.path}: ${errorText(e)}\n`);
        return this.done(1);
      }
    }
    const [name, ...args] = parsed.words;
    if (name === undefined) return this.done(0);
    const cmd = this.table.get(name);
    this.machine.tick?.();
    if (cmd === undefined) {
      this.stderr.write(`${SHELL_NAME}: ${name}: command not found\n`);
      return this.done(127);
    }
    const target = parsed.redirections[parsed.redirections.length - 1];
    let captured = '';
    const ctx: CommandContext = {
      name,
      args,
      fs: this.fs,
      machine: this.machine,
      options: this.options,
      out: target === undefined ? (t: string): void => void this.stdout.write(t) : (t: string): void => void (captured += t),
      err: (t: string): void => void this.stderr.write(t),
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
      this.stderr.write(`${cmd.builtin === true ? `${SHELL_NAME}: ` : ''}${name}: ${errorText(e)}\n`);
      status = 1;
    }
    if (target !== undefined && captured !== '') {
      try {
        this.fs.write(this.path(target.path), captured);
      } catch (e) {
        this.stderr.write(`${cmd.builtin === true ? `${SHELL_NAME}: ` : ''}${name}: write error: ${errorText(e)}\n`);
        status = 1;
      }
    }
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
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
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
