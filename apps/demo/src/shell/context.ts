/**
 * What the shell gives a command beyond {@link CommandContext}: standard
 * input, the shell's variables and working directory, and a way to run
 * another command (for `xargs`).
 *
 * A command of the table receives a `CommandContext`; when the demo's shell
 * runs it, that object is a {@link ShellContext}. The coreutils and the
 * builtins that need the extra fields reach them with {@link shellContext},
 * which gives a command run by anything else (a test, the web front-end)
 * an empty standard input and the root directory.
 */
import type { CommandContext } from './command.js';

/** The shell's variables: bash's `find_variable()`, `bind_variable()`, export attributes. */
export interface ShellVariables {
  get(name: string): string | undefined;
  set(name: string, value: string): void;
  unset(name: string): void;
  /** Marks a variable for export (`export NAME`). */
  export(name: string): void;
  /** The exported variables (value undefined when it has none), sorted by name. */
  exported(): readonly (readonly [string, string | undefined])[];
}

/** A {@link CommandContext} with the rest of the shell's state. */
export interface ShellContext extends CommandContext {
  /** Everything standard input holds (a pipe's data, a `< FILE`'s text; empty when nothing is connected). */
  readonly stdin: string;
  readonly vars: ShellVariables;
  /** The working directory (`$PWD`). */
  cwd(): string;
  /** Changes the working directory to the absolute path `dir` (the caller has checked it). */
  chdir(dir: string): void;
  /** Runs a command of the table with these arguments and the same descriptors; returns its status (127: no such command). */
  execute(words: readonly string[]): number;
  /** `break N` / `continue N` (bash's `breaking`/`continuing`); false outside a loop. */
  loopControl(kind: 'break' | 'continue', levels: number): boolean;
  /** `return N`: the function being run ends after this command with `status`; false outside a function. */
  returnFromFunction(status: number): boolean;
  /** `local NAME[=VALUE]`: NAME is the function's own until it returns (undefined: no value); false outside a function. */
  makeLocal(name: string, value: string | undefined): boolean;
  /** Whether a shell function is being run. */
  inFunction(): boolean;
  /** `$?`: the status of the last command. */
  lastStatus(): number;
  /** The arguments of the function being run (`$1`...; none at the top level). */
  positional(): readonly string[];
  /** Replaces them (`shift`). */
  setPositional(args: readonly string[]): void;
}

/** The context as a {@link ShellContext}, when the shell made it. */
export function shellContext(ctx: CommandContext): ShellContext | undefined {
  return 'stdin' in ctx && 'vars' in ctx ? (ctx as ShellContext) : undefined;
}

/** Standard input of a command: what the shell connected, or nothing. */
export function stdinOf(ctx: CommandContext): string {
  return shellContext(ctx)?.stdin ?? '';
}
