/**
 * `zonedev shell`: the demo's shell, interactive.
 *
 * On a terminal it is a small readline prompt (`zonedev# `, root's prompt,
 * since sysfs writes need root) with line editing, history (kept for the
 * session) and tab completion of command names and paths. On a pipe it
 * prints no banner and no prompts: the output is exactly what the commands
 * print. `exit [N]`, end of input (Ctrl-D) or, with `--strict`, a failed
 * command ends the session; the status is as for a script.
 */
import { createInterface, type Completer } from 'node:readline';
import type { Machine, Output } from './machine/machine.js';
import { Shell } from './shell/shell.js';

/** Where `zonedev shell` reads its lines. */
export interface LineInput {
  /** The stream of lines (standard input). */
  readonly stream: NodeJS.ReadableStream;
  /** The terminal to edit lines on (standard output), when standard input is a TTY. */
  readonly terminal: NodeJS.WritableStream | undefined;
}

/** Options of {@link interactiveShell}. */
export interface InteractiveOptions {
  readonly strict: boolean;
  readonly stdout: Output;
  readonly stderr: Output;
  readonly input: LineInput;
}

/** The prompt: a root shell's `#`. */
export const PROMPT = 'zonedev# ';

/** Completes a command name (first word) or a path (later words). */
export function complete(shell: Shell, line: string): [string[], string] {
  const words = line.split(/\s+/);
  const word = words[words.length - 1] ?? '';
  if (words.length <= 1) {
    const names = shell.commands().map((c) => c.name).filter((n) => n.startsWith(word)).sort();
    return [names.map((n) => `${n} `), word];
  }
  const slash = word.lastIndexOf('/');
  const dir = slash < 0 ? '/' : word.slice(0, slash + 1);
  const prefix = word.slice(slash + 1);
  try {
    const names = shell.fs.list(shell.path(dir === '' ? '/' : dir)).filter((n) => n.startsWith(prefix));
    const base = slash < 0 ? '' : dir;
    return [names.map((n) => `${base}${n}${shell.fs.isDir(shell.path(`${base}${n}`)) ? '/' : ''}`), word];
  } catch {
    return [[], word];
  }
}

/** Runs the interactive shell on `machine`; resolves with the session's exit status. */
export async function interactiveShell(machine: Machine, options: InteractiveOptions): Promise<number> {
  const shell = new Shell(machine, { strict: options.strict, stdout: options.stdout, stderr: options.stderr });
  const terminal = options.input.terminal;
  const completer: Completer = (line: string) => complete(shell, line);
  const rl = createInterface({
    input: options.input.stream,
    ...(terminal === undefined ? {} : { output: terminal, completer }),
    terminal: terminal !== undefined,
    historySize: 1000,
    prompt: PROMPT,
  });
  if (terminal !== undefined) {
    options.stdout.write(`zonedev shell: ${machine.description}\nType 'help' for the commands, 'exit' or Ctrl-D to leave.\n`);
    rl.on('SIGINT', () => {
      options.stdout.write('^C\n');
      rl.prompt();
    });
    rl.prompt();
  }
  let status: number | undefined;
  for await (const line of rl) {
    const r = shell.execLine(line);
    if (shell.exitStatus !== undefined) {
      status = shell.exitStatus;
      break;
    }
    if (r.ran && r.status !== 0 && shell.options.errexit) {
      status = 1;
      break;
    }
    if (terminal !== undefined) rl.prompt();
  }
  rl.close();
  if (terminal !== undefined && status === undefined) options.stdout.write('exit\n');
  return status ?? shell.status;
}
