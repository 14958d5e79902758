/**
 * What the text tools share: reading their operands (a file, or `-` and no
 * operand for standard input), splitting text into lines, and the option
 * errors GNU programs print through glibc's `getopt_long()`.
 */
import type { CommandContext } from '../command.js';
import { stdinOf } from '../context.js';
import { errorText, quotef } from '../error-text.js';
import { getoptLong, type GetoptResult, type LongOption } from '../getopt.js';

/** The text of operand `name` (`-`: standard input); on failure, `report(name, strerror)` is printed and undefined returned. */
export function readOperand(ctx: CommandContext, name: string, report: (name: string, why: string) => string): string | undefined {
  if (name === '-') return stdinOf(ctx);
  const p = ctx.path(name);
  try {
    if (ctx.fs.isDir(p)) {
      ctx.err(report(name, 'Is a directory'));
      return undefined;
    }
    return ctx.fs.read(p);
  } catch (e) {
    ctx.err(report(name, errorText(e)));
    return undefined;
  }
}

/** `prog: NAME: strerror` (coreutils' `error (0, errno, "%s", quotef (name))`). */
export function plainReport(prog: string): (name: string, why: string) => string {
  return (name, why) => `${prog}: ${quotef(name)}: ${why}\n`;
}

/** The lines of a text without their newlines; a last line without one is a line too. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * getopt_long() with the GNU programs' error epilogue: prints the message
 * and `Try 'PROG --help' for more information.` (after `usage`, for grep)
 * and returns undefined.
 */
export function gnuGetopt(
  ctx: CommandContext,
  prog: string,
  shortopts: string,
  longopts: readonly LongOption[],
  usage?: string,
): Extract<GetoptResult, { ok: true }> | undefined {
  const r = getoptLong(prog, ctx.args, shortopts, longopts);
  if (r.ok) return r;
  ctx.err(`${r.message}\n${usage === undefined ? '' : `${usage}\n`}Try '${prog} --help' for more information.\n`);
  return undefined;
}

/** An option the demo's tools do not implement: refused, never ignored. */
export function notSupported(ctx: CommandContext, prog: string, opt: string): void {
  ctx.err(`${prog}: ${opt}: option not supported by the demo shell\n`);
}

/** A GNU "quote" of a name in single quotes (`'x'`), as coreutils' `quote()` does for simple names. */
export function quote(s: string): string {
  return /^[^'\\\n\t]*$/.test(s) ? `'${s}'` : `'${s.split("'").join("'\\''")}'`;
}

/**
 * The machine's `PAGE_SIZE`: its profile's page shift when the machine
 * has one (a booted platform machine), else the platform's default (4 KiB
 * on x86_64, 64 KiB on powerpc pseries).
 */
export function pageSize(ctx: CommandContext): number {
  const shift = (ctx.machine as { readonly profile?: { readonly mm?: { readonly pageShift?: number } } }).profile?.mm?.pageShift;
  if (typeof shift === 'number') return 2 ** shift;
  return ctx.machine.platform === 'powerpc' ? 65536 : 4096;
}
