/**
 * The contract between the shell and what it runs on.
 *
 * The shell sees a machine through {@link ShellMachine}: its kernel (for
 * `dmesg` and `trace`), its `/sys` and `/proc` as file systems, and the
 * commands it adds to the shell's table:
 *
 * ```
 *   ShellMachine
 *     kernel       dmesg prints kernel.log; trace drives kernel.tracer
 *     sysfs        the tree mounted at /sys (paths keep their /sys prefix)
 *     procfs       /proc files by path: '/proc/iomem' -> () => text
 *     commands     shell commands the machine brings (the QEMU monitor's
 *                  object_add/device_add/device_del, trace, pageflags,
 *                  page PFN, ndctl, daxctl, ...), added to the shell's table
 * ```
 *
 * A command is a {@link ShellCommand}: a name, a line of help, and a `run`
 * that gets a {@link CommandContext} (its arguments, the file system, the
 * machine, stdout and stderr) and returns an exit status. util-linux's
 * `lsmem`/`chmem` and the shell's builtins are written the same way.
 *
 * A booted `@zonedev/platform` machine becomes a ShellMachine through the
 * adapter in commands/shell-machine.ts; a test may hand the shell a fake one.
 */
import type { Kernel } from '@zonedev/kernel';
import type { Platform } from '@zonedev/platform';
import type { ProcProvider, VirtualFs } from './vfs.js';

/** The interface between a machine and the shell. */
export interface ShellMachine {
  /** Which profile booted it. */
  readonly platform: Platform;
  /** One line describing the machine (`zonedev shell` prints it on start). */
  readonly description: string;
  /** The machine's kernel: `dmesg` prints `kernel.log`, `trace` drives `kernel.tracer`. */
  readonly kernel: Kernel;
  /** Mounted at `/sys`; receives full paths (`/sys/devices/...`). */
  readonly sysfs: VirtualFs;
  /** The files of `/proc`, by absolute path (`/proc/iomem`), each computed when read. */
  readonly procfs: ReadonlyMap<string, ProcProvider>;
  /** Commands the machine adds to the shell (one with a base command's name replaces it). */
  readonly commands: readonly ShellCommand[];
  /**
   * Called by the shell before each command it runs: a machine may let
   * simulated time pass (the dmesg timestamps of what the command causes).
   */
  tick?(): void;
  /**
   * Called by the shell around each simple command it runs, with `f` doing
   * all of it: the command and the writes of its redirections (`echo
   * offline > .../state` reaches `store()` in that write). A machine may
   * look at what `f` caused and report it on `err`, the shell's own
   * standard error (where bash's `set -x` traces go, whatever the command
   * redirects): `explain on` does. Returns what `f` returns.
   */
  around?<T>(f: () => T, err: (text: string) => void): T;
}

/** Anything text can be written to (a stream, a collector). */
export interface Output {
  write(text: string): unknown;
}

/** What a running command sees. */
export interface CommandContext {
  /** The command's name as typed (`argv[0]`). */
  readonly name: string;
  /** Its arguments (`argv[1..]`), quotes removed. */
  readonly args: readonly string[];
  /** The whole tree: `/`, `/sys`, `/proc`. */
  readonly fs: VirtualFs;
  /** The machine the shell runs on. */
  readonly machine: ShellMachine;
  /** The shell's options: `set -e` sets `errexit`. */
  readonly options: { errexit: boolean };
  /** Writes to standard output (or to the file of a `>` redirection). */
  out(text: string): void;
  /** Writes to standard error. */
  err(text: string): void;
  /** An argument as an absolute path (the shell's working directory is `/`). */
  path(arg: string): string;
  /** Every command of the shell, by name. */
  commands(): readonly ShellCommand[];
  /** Ends the script after this command with `status` (default: the previous command's). */
  exit(status?: number): void;
}

/** One command of the shell's table. */
export interface ShellCommand {
  /** What the user types. */
  readonly name: string;
  /** Usage, as `help` shows it: `cat FILE...`. */
  readonly synopsis: string;
  /** One line of description for `help`. */
  readonly summary: string;
  /**
   * A shell builtin (echo, set, ...) rather than a program: bash names the
   * shell in its errors (`zonedev: echo: write error: ...`), a program names
   * itself (`cat: write error: ...`).
   */
  readonly builtin?: boolean;
  /**
   * What `help NAME WORD...` prints for a command whose help has topics of
   * its own (the QEMU monitor's `help info [SUBCOMMAND]`); `words` are the
   * words after NAME, possibly none. Without it `help NAME` prints the
   * synopsis and summary.
   */
  topicHelp?(words: readonly string[]): string;
  /** Runs the command; returns its exit status (0 success). */
  run(ctx: CommandContext): number;
}
