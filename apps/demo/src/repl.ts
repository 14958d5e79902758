/**
 * `zonedev shell`: the demo's shell, interactive.
 *
 * On a terminal it is a small readline prompt (`zonedev# `, root's prompt,
 * since sysfs writes need root) with line editing, history (loaded from
 * `~/.zonedev_history` at the start and written back at the end, as bash
 * does with `~/.bash_history`; `$HOME` decides where `~` is) and tab
 * completion of command names and paths, and C-r searches the history as
 * bash's readline does. Ctrl-C discards the line being
 * typed, as in bash: `^C`, a fresh prompt, and the line never runs. On a pipe it
 * prints no banner and no prompts: the output is exactly what the commands
 * print. `exit [N]`, end of input (Ctrl-D) or, with `--strict`, a failed
 * command ends the session; the status is as for a script.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Completer, type Interface } from 'node:readline';
import type { ShellMachine as Machine, Output } from './shell/command.js';
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
 * typed so far thrown away (with the lines of an unfinished command, at the
 * `> ` prompt), and a fresh prompt.
 */
export function cancelLine(rl: Interface, out: Output, shell?: Shell): void {
  out.write('^C\n');
  const state = rl as unknown as { line: string; cursor: number };
  state.line = '';
  state.cursor = 0;
  shell?.cancel();
  rl.setPrompt(PROMPT);
  rl.prompt();
}

/** bash's PS2: the prompt for the next line of an unfinished command (`for ...; do`, `a |`). */
export const CONTINUATION_PROMPT = '> ';

/** A key as readline's keypress decoder reports it. */
interface Key {
  readonly name?: string;
  readonly ctrl?: boolean;
  readonly meta?: boolean;
}

/** A method of readline's `Interface` kept under a symbol (`Symbol(_ttyWrite)`), looked up on its prototype chain. */
function internalMethod(rl: Interface, name: string): symbol | undefined {
  for (let o: object | null = rl; o !== null; o = Object.getPrototypeOf(o) as object | null) {
    const sym = Object.getOwnPropertySymbols(o).find((x) => x.description === name && typeof Object.getOwnPropertyDescriptor(o, x)?.value === 'function');
    if (sym !== undefined) return sym;
  }
  return undefined;
}

/**
 * C-r, reverse incremental search of the history, as GNU readline's
 * `rl_reverse_search_history()` (isearch.c) gives it to bash: the prompt
 * becomes ``(reverse-i-search)`QUERY': MATCH``, each character typed
 * narrows the search to an older line containing the query, C-r again
 * finds the next older one (``(failed reverse-i-search)`` when there is
 * none), Backspace shortens the query, C-g gives the search up and
 * restores the line, and any other key (Enter, an arrow, C-c) takes the
 * match into the line and then acts as usual.
 *
 * Node's readline has no such search; this adds it on top of its
 * key handler. Returns false (and changes nothing) on a readline whose
 * internals it does not recognise.
 */
export function installReverseSearch(rl: Interface, terminal: NodeJS.WritableStream): boolean {
  const ttyWrite = internalMethod(rl, '_ttyWrite');
  const refresh = internalMethod(rl, '_refreshLine');
  type Internal = { [k: symbol]: (s: string | undefined, key: Key | undefined) => void } & { line: string; cursor: number; history: string[] };
  const r = rl as unknown as Internal;
  if (ttyWrite === undefined || refresh === undefined || typeof r[ttyWrite] !== 'function' || !Array.isArray(r.history)) return false;
  const original = r[ttyWrite].bind(rl);
  let search: { query: string; index: number; match: string; failed: boolean; saved: string } | undefined;
  const render = (): void => {
    if (search === undefined) return;
    terminal.write(`\r\x1b[K(${search.failed ? 'failed ' : ''}reverse-i-search)\`${search.query}': ${search.match}`);
  };
  /** The first line at or after `from` (newest first) containing the query. */
  const find = (from: number): void => {
    if (search === undefined) return;
    for (let i = Math.max(0, from); i < r.history.length; i++) {
      if (r.history[i]!.includes(search.query)) {
        search.index = i;
        search.match = r.history[i]!;
        search.failed = false;
        return;
      }
    }
    search.failed = true;
  };
  const leave = (line: string): void => {
    search = undefined;
    r.line = line;
    r.cursor = line.length;
    r[refresh]!(undefined, undefined);
  };
  const handler = (s: string | undefined, key: Key | undefined): void => {
    if (search === undefined) {
      if (key?.ctrl === true && key.name === 'r') {
        search = { query: '', index: -1, match: '', failed: false, saved: r.line };
        render();
        return;
      }
      original(s, key);
      return;
    }
    if (key?.ctrl === true && key.name === 'r') {
      find(search.index + 1);
      render();
      return;
    }
    if (key?.ctrl === true && key.name === 'g') {
      leave(search.saved);
      return;
    }
    if (key?.name === 'backspace') {
      search.query = search.query.slice(0, -1);
      find(0);
      render();
      return;
    }
    if (s !== undefined && s.length === 1 && s >= ' ' && key?.ctrl !== true && key?.meta !== true && key?.name !== 'return' && key?.name !== 'enter') {
      search.query += s;
      find(search.index);
      render();
      return;
    }
    leave(search.match === '' ? search.saved : search.match);
    original(s, key);
  };
  Object.defineProperty(rl, ttyWrite, { value: handler, writable: true, configurable: true });
  return true;
}

/** The prompt: a root shell's `#`. */
export const PROMPT = 'zonedev# ';

/** Completes a command name (first word) or a path (later words). */
export function complete(shell: Shell, line: string): [string[], string] {
  // The command being typed starts after the last `|`, `;`, `&&` or `||`.
  const words = line.split(/[|;&]/).pop()!.replace(/^\s+/, '').split(/\s+/);
  const word = words[words.length - 1] ?? '';
  if (words.length <= 1) {
    const names = shell.commands().map((c) => c.name).filter((n) => n.startsWith(word)).sort();
    return [names.map((n) => `${n} `), word];
  }
  const slash = word.lastIndexOf('/');
  // A name without a slash is completed in the working directory.
  const dir = slash < 0 ? shell.cwd() : word.slice(0, slash + 1);
  const prefix = word.slice(slash + 1);
  try {
    const names = shell.fs.list(shell.path(dir)).filter((n) => n.startsWith(prefix));
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
    rl.on('SIGINT', () => cancelLine(rl, options.stdout, shell));
    installReverseSearch(rl, terminal);
    rl.prompt();
  }
  let status: number | undefined;
  for await (const line of rl) {
    shell.execLine(line);
    // `exit`, or a failure under `set -e` (the shell sets exitStatus for both).
    if (shell.exitStatus !== undefined) {
      status = shell.exitStatus;
      break;
    }
    if (terminal !== undefined) {
      rl.setPrompt(shell.continuing ? CONTINUATION_PROMPT : PROMPT);
      rl.prompt();
    }
  }
  if (status === undefined) {
    shell.endOfInput();
    status = shell.exitStatus;
  }
  if (historyFile !== undefined) saveHistory(historyFile, (rl as unknown as { history: string[] }).history);
  rl.close();
  if (terminal !== undefined && status === undefined) options.stdout.write('exit\n');
  return status ?? shell.status;
}
