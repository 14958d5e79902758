/**
 * "Why did that fail?": `explain on|off` and `where SYMBOL`.
 *
 * A command such as `memremap ... 1M` reports only what the kernel returned
 * to user space ("Invalid argument"); the reason is in the kernel log and in
 * the function-graph trace, as it would be on a real machine for someone who
 * knows where to look. With `explain on`, each command is followed (on
 * standard error, as bash's `set -x` traces go there) by
 *
 * - the dmesg lines it caused, as `dmesg` prints them;
 * - the kernel functions that decided: for a failed call, the chain of
 *   traced functions that returned the errno, from the outermost to the one
 *   it came from, with the checks (the traced callees) that one made; for a
 *   call that succeeded, the outermost traced functions it ran and what they
 *   returned;
 *
 * each function with its model declaration (`file:line`) and its v5.13
 * kernel file, from the kernel-symbol index (kernel-index.ts). The trace is
 * ftrace's function graph (`Tracer` of @zonedev/kernel): `explain on` turns
 * it on as `trace on` does, and `explain off` puts it back as it was, so the
 * events also stay in `trace show`.
 *
 * `where SYMBOL...` answers from the same index: every model declaration of
 * each kernel function (or `struct NAME`), one line each.
 */
import { formatLogTime, type Kernel, type LogRecord, type TraceEvent } from '@zonedev/kernel';
import type { CommandContext, ShellCommand } from '../shell/command.js';
import { entryText, KernelIndex, type KernelSymbolEntry } from './kernel-index.js';

/** Where the log and the trace stood when a command started. */
interface Mark {
  readonly lastRecord: LogRecord | undefined;
  readonly records: number;
  readonly lastEvent: TraceEvent | undefined;
  readonly events: number;
}

/** Most outermost calls listed for a command that succeeded. */
const MAX_CALLS = 8;

/** The `-EXXX` of a traced result that is an errno. */
function errnoOf(e: TraceEvent): string | undefined {
  return e.kind === 'exit' && e.result !== undefined && /^-E[A-Z0-9]+$/.test(e.result) ? e.result : undefined;
}

/** One traced call: its entry and exit events (indices into the command's events). */
interface Call {
  readonly name: string;
  readonly depth: number;
  readonly entry: number;
  readonly exit: number;
  readonly result: string | undefined;
}

/** The calls of `events` (entries matched with their exits; a call still open at the end is dropped). */
function calls(events: readonly TraceEvent[]): Call[] {
  const out: Call[] = [];
  const open: number[] = [];
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (e.kind === 'entry') {
      open.push(i);
      continue;
    }
    // An exit closes the innermost open call of its name and depth.
    let j = open.length - 1;
    while (j >= 0 && (events[open[j]!]!.name !== e.name || events[open[j]!]!.depth !== e.depth)) j--;
    if (j < 0) continue;
    const entry = open[j]!;
    open.length = j;
    out.push({ name: e.name, depth: e.depth, entry, exit: i, result: e.result });
  }
  return out.sort((a, b) => a.entry - b.entry);
}

/**
 * The per-machine explainer: marks the log and the trace before a command,
 * and after it says what the command caused. Holds no state beyond its
 * machine's.
 */
export class Explainer {
  /** `explain on` was given. */
  enabled = false;
  /** The tracer's state before `explain on`, restored by `explain off`. */
  private tracerWasOn = false;
  private readonly kernel: Kernel;
  private readonly index: () => KernelIndex;

  /** @param index - the index, built when first needed (most shells never ask). */
  constructor(kernel: Kernel, index: () => KernelIndex) {
    this.kernel = kernel;
    this.index = index;
  }

  /** `explain on`: turns the function-graph tracer on too. */
  on(): void {
    if (!this.enabled) this.tracerWasOn = this.kernel.tracer.enabled;
    this.enabled = true;
    this.kernel.tracer.on();
  }

  /** `explain off`: the tracer goes back to what it was before `explain on`. */
  off(): void {
    if (this.enabled && !this.tracerWasOn) this.kernel.tracer.off();
    this.enabled = false;
  }

  /** Where the log and the trace stand now. */
  mark(): Mark {
    const lines = this.kernel.log.lines;
    const events = this.kernel.tracer.events;
    return { lastRecord: lines[lines.length - 1], records: lines.length, lastEvent: events[events.length - 1], events: events.length };
  }

  /**
   * What was added after `last` (`count` items before): the ring drops its
   * oldest items when full, so the position is found again by identity.
   */
  private since<T>(all: readonly T[], last: T | undefined, count: number): readonly T[] {
    if (last === undefined) return all.slice(count === 0 ? 0 : all.length);
    const at = all[count - 1] === last ? count - 1 : all.lastIndexOf(last);
    return at < 0 ? all : all.slice(at + 1);
  }

  /** One traced function with where the model and the kernel have it. */
  private functionLine(c: Call, events: readonly TraceEvent[], indent: string): string {
    const args = events[c.entry]!.args.join(', ');
    const call = `${c.name}(${args})${c.result === undefined ? '' : ` = ${c.result}`}`;
    const e: KernelSymbolEntry | undefined = this.index().tracePoint(c.name);
    const where = e === undefined ? 'not in the kernel-symbol index' : `${e.path}:${e.line} ${e.declaration}; kernel ${e.kernelFile ?? '(file not named)'}`;
    return `${indent}${call}\n${indent}    ${where}\n`;
  }

  /** What the command that started at `mark` caused, as `explain` prints it (empty: nothing happened). */
  report(mark: Mark): string {
    const records = this.since(this.kernel.log.lines, mark.lastRecord, mark.records);
    const events = this.since(this.kernel.tracer.events, mark.lastEvent, mark.events);
    let out = '';
    if (records.length > 0) {
      out += 'explain: dmesg:\n';
      for (const r of records) out += `  ${formatLogTime(r.ts)}${r.text}\n`;
    }
    const all = calls(events);
    if (all.length === 0) return out;
    const top = all.filter((c) => c.depth === all[0]!.depth);
    const failed = [...top].reverse().find((c) => c.result !== undefined && /^-E[A-Z0-9]+$/.test(c.result));
    if (failed !== undefined) {
      out += `explain: ${failed.result!} came from (outermost first):\n`;
      // Follow the errno down: in each call, the last callee that returned it.
      let c = failed;
      let indent = '  ';
      for (;;) {
        out += this.functionLine(c, events, indent);
        const inner = all.filter((x) => x.entry > c.entry && x.exit < c.exit && x.depth === c.depth + 1);
        const next = [...inner].reverse().find((x) => errnoOf(events[x.exit]!) === c.result);
        if (next === undefined) {
          if (inner.length > 0) {
            out += `${indent}  which decided after:\n`;
            for (const x of inner) out += this.functionLine(x, events, `${indent}    `);
          }
          break;
        }
        c = next;
        indent += '  ';
      }
      return out;
    }
    out += 'explain: kernel functions called:\n';
    for (const c of top.slice(0, MAX_CALLS)) out += this.functionLine(c, events, '  ');
    if (top.length > MAX_CALLS) out += `  ... and ${top.length - MAX_CALLS} more (trace show)\n`;
    return out;
  }

  /**
   * Runs `f` (one command line: the command and the writes of its
   * redirections) and, while `explain on`, writes what it caused to `err`.
   */
  around<T>(f: () => T, err: (text: string) => void): T {
    if (!this.enabled) return f();
    const mark = this.mark();
    try {
      return f();
    } finally {
      const text = this.report(mark);
      if (text !== '') err(text);
    }
  }

  /** `cmd`, explained after each run while `explain on`. */
  wrap(cmd: ShellCommand): ShellCommand {
    return { ...cmd, run: (ctx: CommandContext): number => this.around(() => cmd.run(ctx), (t) => ctx.err(t)) };
  }
}

/** `explain on|off`. */
function explainCommand(x: Explainer): ShellCommand {
  return {
    name: 'explain',
    synopsis: 'explain on|off',
    summary: "after each command, show its dmesg lines and the kernel functions that decided (with their files)",
    run(ctx): number {
      if (ctx.args.length !== 1 || (ctx.args[0] !== 'on' && ctx.args[0] !== 'off')) {
        ctx.err('explain: usage: explain on|off\n');
        return 2;
      }
      if (ctx.args[0] === 'on') x.on();
      else x.off();
      return 0;
    },
  };
}

/** `where SYMBOL...`. */
export function whereCommand(getIndex: () => KernelIndex): ShellCommand {
  return {
    name: 'where',
    synopsis: 'where SYMBOL...',
    summary: 'where the model has a kernel function or struct (package, export, file:line, kernel file)',
    run(ctx): number {
      if (ctx.args.length === 0) {
        ctx.err('where: usage: where SYMBOL...\n');
        return 2;
      }
      let status = 0;
      const index = getIndex();
      const args = [...ctx.args];
      while (args.length > 0) {
        let word = args.shift()!;
        let kind: 'function' | 'struct' | undefined;
        if (word === 'struct' && args.length > 0) {
          word = args.shift()!;
          kind = 'struct';
        } else if (word.startsWith('struct ')) {
          word = word.slice('struct '.length).trim();
          kind = 'struct';
        } else if (word.endsWith('()')) {
          word = word.slice(0, -2);
          kind = 'function';
        }
        const found = kind !== undefined ? index.lookup(word, kind) : index.lookup(word).length > 0 ? index.lookup(word) : index.lookup(word, 'struct');
        if (found.length === 0) {
          ctx.err(`where: ${kind === 'struct' ? `struct ${word}` : word}: not in the kernel-symbol index\n`);
          status = 1;
          continue;
        }
        for (const e of found) ctx.out(`${entryText(e)}\n`);
      }
      return status;
    },
  };
}

/** What {@link explainSupport} gives a machine. */
export interface ExplainSupport {
  /** `explain` and `where`. */
  readonly commands: ShellCommand[];
  /** The commands, each explaining itself after it runs while `explain on`. */
  wrap(cmds: readonly ShellCommand[]): ShellCommand[];
  /**
   * Runs one command line with `f` and explains it after (see
   * {@link Explainer.around}): for a shell that calls it around a whole
   * line, so that the writes of its redirections are explained too.
   */
  around<T>(f: () => T, err: (text: string) => void): T;
}

/**
 * The explain support of one machine: the `explain` and `where` commands,
 * and `wrap()`, which makes a list of commands explain themselves.
 */
export function explainSupport(kernel: Kernel): ExplainSupport {
  let built: KernelIndex | undefined;
  const index = (): KernelIndex => (built ??= new KernelIndex());
  const x = new Explainer(kernel, index);
  return {
    commands: [explainCommand(x), whereCommand(index)],
    wrap: (cmds) => cmds.map((c) => (c.name === 'explain' || c.name === 'where' ? c : x.wrap(c))),
    around: (f, err) => x.around(f, err),
  };
}
