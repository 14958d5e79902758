/**
 * The terminal's line discipline: what `zonedev shell` gets from readline
 * on a TTY, for a terminal emulator that hands over raw keystrokes (xterm.js
 * `onData`). Printable text is inserted at the end of the line and echoed;
 * Backspace deletes; Enter submits; Up and Down walk the history; Ctrl-C
 * throws the line away with `^C`, as bash does; Ctrl-L clears the screen;
 * Tab completes through a callback (the repl's `complete()` rule: command
 * names first, then paths).
 *
 * Pure: {@link LineEditor.feed} returns what to echo and the lines entered.
 */

/** The prompt: a root shell's `#`, as `zonedev shell` prints it. */
export const WEB_PROMPT = 'zonedev# ';

/** What one chunk of input did. */
export interface FeedResult {
  /** Text to write to the terminal (echo, erasures, `^C`). */
  readonly echo: string;
  /** Complete lines, in order. */
  readonly lines: readonly string[];
  /** Ctrl-L: clear the screen. */
  readonly clear: boolean;
}

/** Completion: the candidates for the line so far and the word they replace. */
export type Completer = (line: string) => [string[], string];

/** A line being typed, with history. */
export class LineEditor {
  line = '';
  private readonly history: string[] = [];
  private pos = -1;
  private readonly completer: Completer | undefined;

  constructor(completer?: Completer) {
    this.completer = completer;
  }

  /** Remembers a line (a replayed session's commands). */
  remember(line: string): void {
    if (line.trim() !== '' && this.history[this.history.length - 1] !== line) this.history.push(line);
  }

  private replaceLine(text: string): string {
    const erase = '\b \b'.repeat([...this.line].length);
    this.line = text;
    return erase + text;
  }

  /** Feeds keystrokes. */
  feed(data: string): FeedResult {
    let echo = '';
    const lines: string[] = [];
    let clear = false;
    let i = 0;
    while (i < data.length) {
      const rest = data.slice(i);
      if (rest.startsWith('\x1b[A') || rest.startsWith('\x1bOA')) {
        if (this.history.length > 0) {
          this.pos = this.pos < 0 ? this.history.length - 1 : Math.max(this.pos - 1, 0);
          echo += this.replaceLine(this.history[this.pos]!);
        }
        i += 3;
        continue;
      }
      if (rest.startsWith('\x1b[B') || rest.startsWith('\x1bOB')) {
        if (this.pos >= 0) {
          this.pos++;
          if (this.pos >= this.history.length) {
            this.pos = -1;
            echo += this.replaceLine('');
          } else echo += this.replaceLine(this.history[this.pos]!);
        }
        i += 3;
        continue;
      }
      if (rest.startsWith('\x1b')) {
        // Other escape sequences (cursor keys left/right, function keys) are ignored.
        const m = /^(\[[0-9;]*[A-Za-z~]|O[A-Za-z]|.)?/.exec(rest.slice(1));
        i += 1 + (m?.[0].length ?? 0);
        continue;
      }
      const ch = data[i]!;
      i++;
      if (ch === '\r' || ch === '\n') {
        if (ch === '\n' && data[i - 2] === '\r') continue;
        echo += '\r\n';
        lines.push(this.line);
        this.remember(this.line);
        this.line = '';
        this.pos = -1;
      } else if (ch === '\x7f' || ch === '\b') {
        if (this.line.length > 0) {
          const chars = [...this.line];
          chars.pop();
          this.line = chars.join('');
          echo += '\b \b';
        }
      } else if (ch === '\x03') {
        echo += `^C\r\n${WEB_PROMPT}`;
        this.line = '';
        this.pos = -1;
      } else if (ch === '\x0c') {
        clear = true;
      } else if (ch === '\t') {
        if (this.completer !== undefined) {
          const [candidates, word] = this.completer(this.line);
          if (candidates.length === 1) {
            const add = candidates[0]!.slice(word.length);
            this.line += add;
            echo += add;
          } else if (candidates.length > 1) {
            let common = candidates[0]!;
            for (const c of candidates) while (!c.startsWith(common)) common = common.slice(0, -1);
            if (common.length > word.length) {
              const add = common.slice(word.length);
              this.line += add;
              echo += add;
            } else {
              echo += `\r\n${candidates.join('  ')}\r\n${WEB_PROMPT}${this.line}`;
            }
          }
        }
      } else if (ch >= ' ') {
        this.line += ch;
        echo += ch;
      }
    }
    return { echo, lines, clear };
  }
}
