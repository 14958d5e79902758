/**
 * `zonedev shell`: the demo's shell, interactive.
 *
 * On a terminal it is a small readline prompt (`zonedev# `, root's prompt,
 * since sysfs writes need root) with line editing, history (loaded from
 * `~/.zonedev_history` at the start and written back at the end, as bash
 * does with `~/.bash_history`; `$HOME` decides where `~` is) and tab
 * completion of command names and paths. Ctrl-C discards the line being
 * typed, as in bash: `^C`, a fresh prompt, and the line never runs. On a pipe it
 * prints no banner and no prompts: the output is exactly what the commands
 * print. `exit [N]`, end of input (Ctrl-D) or, with `--strict`, a failed
 * command ends the session; the status is as for a script.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Completer, type Interface } from 'node:readline';
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
  /** The history file of a terminal session; default {@link defaultHistoryFile}. */
  readonly historyFile?: string;
}

/** How many lines the history keeps, in memory and in its file (bash's HISTSIZE default is 500; readline's cap here). */
export const HISTORY_SIZE = 1000;

/** `$HOME/.zonedev_history` (the user's home directory when HOME is unset). */
export function defaultHistoryFile(env: NodeJS.ProcessEnv = process.env): string {
  const home = env['HOME'] ?? '';
  return join(home === '' ? homedir() : home, '.zonedev_history');
}

/** The lines of a history file, newest first as readline keeps them; none if it cannot be read. */
export function loadHistory(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter((l) => l !== '').slice(-HISTORY_SIZE).reverse();
}

/** Writes readline's history (newest first) to `file`, oldest line first as bash writes it; a failure is ignored, as bash ignores it. */
export function saveHistory(file: string, history: readonly string[]): void {
  const lines = history.slice(0, HISTORY_SIZE).reverse();
  try {
    writeFileSync(file, lines.map((l) => `${l}\n`).join(''), { mode: 0o600 });
  } catch {
    // An unwritable home loses the history, and nothing else.
  }
}

/**
 * Ctrl-C at the prompt, as bash's readline handles SIGINT: `^C`, the line
 * typed so far thrown away, and a fresh prompt.
 */
export function cancelLine(rl: Interface, out: Output): void {
  out.write('^C\n');
  const state = rl as unknown as { line: string; cursor: number };
  state.line = '';
  state.cursor = 0;
  rl.prompt();
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
  const historyFile = terminal === undefined ? undefined : (options.historyFile ?? defaultHistoryFile());
  const rl = createInterface({
    input: options.input.stream,
    ...(terminal === undefined ? {} : { output: terminal, completer }),
    terminal: terminal !== undefined,
    historySize: HISTORY_SIZE,
    history: historyFile === undefined ? [] : loadHistory(historyFile),
    prompt: PROMPT,
  });
  if (terminal !== undefined) {
    options.stdout.write(`zonedev shell: ${machine.description}\nType 'help' for the commands, 'exit' or Ctrl-D to leave.\n`);
    rl.on('SIGINT', () => cancelLine(rl, options.stdout));
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
  if (historyFile !== undefined) saveHistory(historyFile, (rl as unknown as { history: string[] }).history);
  rl.close();
  if (terminal !== undefined && status === undefined) options.stdout.write('exit\n');
  return status ?? shell.status;
}
