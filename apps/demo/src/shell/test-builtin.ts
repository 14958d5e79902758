/**
 * bash's `test EXPR` and `[ EXPR ]` (builtins/test.def, test.c), the
 * condition of `[ -d $b ] && ...`.
 *
 * As POSIX and bash decide by the number of arguments: none is false; one
 * is true when it is not empty; two are `! ARG` or a unary operator and its
 * operand; three are a binary operator between two operands (or `!` and a
 * two-argument test, or `( ARG )`); four are `!` and a three-argument test
 * or `( two )`; more are parsed as an expression with `!`, `(`, `)`, `-a`
 * (binding tighter) and `-o`. Status 0 true, 1 false, 2 on an error, with
 * bash's messages (`[: missing `]'`, `x: integer expression expected`,
 * `-q: unary operator expected`, `b: binary operator expected`).
 *
 * File operators see the virtual tree as root does: `-e` exists, `-f` a
 * regular file, `-d` a directory, `-b` and `-c` a block or character device
 * node under /dev (a block device is one with a capacity), `-s` a regular file of non-zero size (a
 * sysfs attribute, one page to `stat()`; a /proc file is 0), `-r` and `-w`
 * exist (root's CAP_DAC_OVERRIDE), `-x` a directory (no sysfs attribute has
 * an execute bit). String operators: `-z`, `-n`, `=`, `==`, `!=`, `<`, `>`
 * (byte order); integers: `-eq`, `-ne`, `-lt`, `-le`, `-gt`, `-ge`.
 */
import type { CommandContext, ShellCommand } from './command.js';
import { normalizePath } from './vfs.js';

/** An error of the expression: bash's message, status 2. */
class TestError extends Error {}

const UNARY = new Set(['-e', '-f', '-d', '-b', '-c', '-s', '-r', '-w', '-x', '-z', '-n']);
const BINARY = new Set(['=', '==', '!=', '<', '>', '-eq', '-ne', '-lt', '-le', '-gt', '-ge']);

/** bash's `legal_number()`: blanks, a sign, decimal digits, blanks, within intmax_t. */
function integer(s: string): bigint {
  const m = /^[ \t\n]*([-+]?[0-9]+)[ \t\n]*$/.exec(s);
  const v = m === null ? undefined : BigInt(m[1]!);
  if (v === undefined || v > 2n ** 63n - 1n || v < -(2n ** 63n)) throw new TestError(`${s}: integer expression expected`);
  return v;
}

function unary(ctx: CommandContext, op: string, arg: string): boolean {
  if (op === '-z') return arg === '';
  if (op === '-n') return arg !== '';
  const p = ctx.path(arg);
  const exists = arg !== '' && ctx.fs.exists(p);
  const dir = exists && ctx.fs.isDir(p);
  switch (op) {
    case '-e':
    case '-r':
    case '-w':
      return exists;
    case '-f':
      return exists && !dir && !normalizePath(p).startsWith('/dev/');
    case '-d':
    case '-x':
      return dir;
    case '-b':
    case '-c': {
      // a device node: a block device has a capacity, a character device none
      if (!exists || dir || !normalizePath(p).startsWith('/dev/')) return false;
      const block = ctx.fs.deviceSize?.(p) !== undefined;
      return op === '-b' ? block : !block;
    }
    default:
      // -s: a regular file of non-zero size.
      return exists && !dir && normalizePath(p).startsWith('/sys/');
  }
}

function binary(a: string, op: string, b: string): boolean {
  switch (op) {
    case '=':
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '>':
      return a > b;
    default: {
      const x = integer(a);
      const y = integer(b);
      if (op === '-eq') return x === y;
      if (op === '-ne') return x !== y;
      if (op === '-lt') return x < y;
      if (op === '-le') return x <= y;
      if (op === '-gt') return x > y;
      return x >= y;
    }
  }
}

/** The POSIX rules for up to four arguments, the expression grammar beyond. */
function evaluate(ctx: CommandContext, a: readonly string[]): boolean {
  switch (a.length) {
    case 0:
      return false;
    case 1:
      return a[0] !== '';
    case 2:
      if (a[0] === '!') return !evaluate(ctx, a.slice(1));
      if (UNARY.has(a[0]!)) return unary(ctx, a[0]!, a[1]!);
      throw new TestError(`${a[0]!}: unary operator expected`);
    case 3:
      if (BINARY.has(a[1]!)) return binary(a[0]!, a[1]!, a[2]!);
      if (a[1] === '-a') return a[0] !== '' && a[2] !== '';
      if (a[1] === '-o') return a[0] !== '' || a[2] !== '';
      if (a[0] === '!') return !evaluate(ctx, a.slice(1));
      if (a[0] === '(' && a[2] === ')') return a[1] !== '';
      throw new TestError(`${a[1]!}: binary operator expected`);
    case 4:
      if (a[0] === '!') return !evaluate(ctx, a.slice(1));
      if (a[0] === '(' && a[3] === ')') return evaluate(ctx, a.slice(1, 3));
      return expression(ctx, a);
    default:
      return expression(ctx, a);
  }
}

/** `expr: and ('-o' and)*; and: term ('-a' term)*; term: '!' term | '(' expr ')' | UNARY arg | arg BINARY arg | arg`. */
function expression(ctx: CommandContext, a: readonly string[]): boolean {
  let i = 0;
  const term = (): boolean => {
    const t = a[i];
    if (t === undefined) throw new TestError('argument expected');
    if (t === '!') {
      i++;
      return !term();
    }
    if (t === '(') {
      i++;
      const v = or();
      if (a[i] !== ')') throw new TestError("`)' expected");
      i++;
      return v;
    }
    if (UNARY.has(t) && i + 1 < a.length) {
      i += 2;
      return unary(ctx, t, a[i - 1]!);
    }
    if (i + 2 < a.length + 0 && BINARY.has(a[i + 1]!)) {
      i += 3;
      return binary(a[i - 3]!, a[i - 2]!, a[i - 1]!);
    }
    i++;
    return t !== '';
  };
  const and = (): boolean => {
    let v = term();
    while (a[i] === '-a') {
      i++;
      v = term() && v;
    }
    return v;
  };
  const or = (): boolean => {
    let v = and();
    while (a[i] === '-o') {
      i++;
      v = and() || v;
    }
    return v;
  };
  const v = or();
  if (i < a.length) throw new TestError('too many arguments');
  return v;
}

function run(ctx: CommandContext, args: readonly string[]): number {
  try {
    return evaluate(ctx, args) ? 0 : 1;
  } catch (e) {
    if (!(e instanceof TestError)) throw e;
    ctx.err(`zonedev: ${ctx.name}: ${e.message}\n`);
    return 2;
  }
}

/** `test EXPR`. */
export const testCmd: ShellCommand = {
  name: 'test',
  synopsis: 'test EXPR',
  summary: 'evaluate a condition: -e -f -d -s -z -n FILE|STRING, = != < >, -eq -ne -lt -le -gt -ge, ! -a -o ( )',
  builtin: true,
  run: (ctx) => run(ctx, ctx.args),
};

/** `[ EXPR ]`. */
export const bracketCmd: ShellCommand = {
  name: '[',
  synopsis: '[ EXPR ]',
  summary: 'test EXPR, with a closing ]',
  builtin: true,
  run(ctx) {
    if (ctx.args[ctx.args.length - 1] !== ']') {
      ctx.err("zonedev: [: missing `]'\n");
      return 2;
    }
    return run(ctx, ctx.args.slice(0, -1));
  },
};
