/**
 * The terminal's line discipline: what `zonedev shell` gets from readline
 * on a TTY, for a terminal emulator that hands over raw keystrokes (xterm.js
 * `onData`). Printable text is inserted at the end of the line and echoed;
 * Backspace deletes; Enter submits; Up and Down walk the history; Ctrl-C
 * throws the line away with `^C`, as bash does (the page then drops the
 * lines of an unfinished command too); Ctrl-D on an empty line is the end
 * of input (on a line with text, readline deletes the character under the
 * cursor, and the cursor is always at the end: nothing); Ctrl-L clears the
 * screen; Tab completes through a callback (the repl's `complete()` rule:
 * command names first, then paths).
 *
 * Pure: {@link LineEditor.feed} returns what happened, in order: text to
 * echo, lines entered, interrupts, end of input, clears. The page acts on
 * them one after the other, so a pasted `a\rb\r` runs `a` before `b` is
 * echoed.
 */

/** The prompt: a root shell's `#`, as `zonedev shell` prints it. */
export const WEB_PROMPT = 'zonedev# ';

/**
 * The prompt of the next line of an unfinished command (bash's PS2), as
 * `zonedev shell` prints it.
 */
export const WEB_CONTINUATION_PROMPT = '> ';

/** One thing a chunk of input did. */
export type EditorAction =
  /** Text to write to the terminal (echo, erasures, `^C`). */
  | { readonly kind: 'echo'; readonly text: string }
  /** Enter: a complete line. */
  | { readonly kind: 'line'; readonly text: string }
  /** Ctrl-C: the line was thrown away (`^C` and a newline are echoed); the prompt is the page's to print. */
  | { readonly kind: 'interrupt' }
  /** Ctrl-D on an empty line. */
  | { readonly kind: 'eof' }
  /** Ctrl-L: clear the screen. */
  | { readonly kind: 'clear' };

/** What one chunk of input did. */
export interface FeedResult {
  /** Everything, in order. */
  readonly actions: readonly EditorAction[];
  /** All the echoed text, joined. */
  readonly echo: string;
  /** The complete lines, in order. */
  readonly lines: readonly string[];
  /** Whether Ctrl-L was typed. */
  readonly clear: boolean;
}

/** Completion: the candidates for the line so far and the word they replace. */
export type Completer = (line: string) => [string[], string];

/** A line being typed, with history. */
export class LineEditor {
  line = '';
  /** The prompt on screen, printed again after a list of completions. */
  prompt: string = WEB_PROMPT;
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
    const actions: EditorAction[] = [];
    let echo = '';
    const flush = (): void => {
      if (echo !== '') actions.push({ kind: 'echo', text: echo });
      echo = '';
    };
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
        flush();
        actions.push({ kind: 'line', text: this.line });
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
        echo += '^C\r\n';
        flush();
        actions.push({ kind: 'interrupt' });
        this.line = '';
        this.pos = -1;
      } else if (ch === '\x04') {
        if (this.line === '') {
          flush();
          actions.push({ kind: 'eof' });
          this.pos = -1;
        }
      } else if (ch === '\x0c') {
        flush();
        actions.push({ kind: 'clear' });
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
              echo += `\r\n${candidates.join('  ')}\r\n${this.prompt}${this.line}`;
            }
          }
        }
      } else if (ch >= ' ') {
        this.line += ch;
        echo += ch;
      }
    }
    flush();
    return {
      actions,
      echo: actions.map((a) => (a.kind === 'echo' ? a.text : '')).join(''),
      lines: actions.flatMap((a) => (a.kind === 'line' ? [a.text] : [])),
      clear: actions.some((a) => a.kind === 'clear'),
    };
  }
}
