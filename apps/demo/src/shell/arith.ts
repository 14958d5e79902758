/**
 * Shell arithmetic: the expression of `$((...))`, evaluated as bash's
 * expr.c evaluates it.
 *
 * bash reads the expression with a recursive-descent parser that evaluates
 * as it goes (`expcond()` down to `exp0()`), in 64-bit signed integers
 * (`intmax_t`, wrapping on overflow), with C's operators and precedence:
 *
 * ```
 *   id++ id--   ++id --id   - + ! ~   **   * / %   + -   << >>
 *   < <= > >=   == !=   &   ^   |   &&   ||   c ? a : b
 *   = *= /= %= += -= <<= >>= &= ^= |=   a , b
 * ```
 *
 * A name is a variable: unset or empty is 0, otherwise its value is itself
 * evaluated as an expression. Numbers are decimal, `0x` hexadecimal, `0`
 * octal, or `BASE#DIGITS`. `&&`, `||` and `?:` evaluate only the operand
 * they need: no assignment, and no division by 0, happens in the other.
 *
 * Errors are bash's `evalerror()`: the expression (leading blanks
 * removed), the message, and the "error token", the text from the last
 * token read to the end (from the divisor, for a division by 0):
 *
 * ```
 *   1/0: division by 0 (error token is "0")
 *   1 + : syntax error: operand expected (error token is "+ ")
 *   a b: syntax error in expression (error token is "b")
 * ```
 *
 * Values are `bigint` because the shell's integers are 64-bit; they are
 * never addresses of the model.
 */

/** The variables arithmetic reads and assigns. */
export interface ArithVariables {
  get(name: string): string | undefined;
  set(name: string, value: string): void;
}

/** An arithmetic error, with bash's whole message (`1/0: division by 0 (error token is "0")`). */
export class ArithError extends Error {}

/** bash's `EXP_EXPANDED_MAX_LEVEL`-like bound on variables whose values are expressions. */
const MAX_RECURSION = 1024;

const MIN = -(2n ** 63n);

/** The value wrapped to 64 bits, as `intmax_t` arithmetic wraps. */
function wrap(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}

type Tok =
  | { readonly t: 'num'; readonly text: string }
  | { readonly t: 'id'; readonly text: string }
  | { readonly t: 'op'; readonly text: string }
  | { readonly t: 'eof' };

/** Operators, longest first. */
const OPS = [
  '<<=', '>>=', '**', '++', '--', '<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '*=', '/=', '%=', '+=', '-=', '&=', '^=', '|=',
  '+', '-', '*', '/', '%', '<', '>', '&', '^', '|', '!', '~', '?', ':', '=', ',', '(', ')',
];
const ASSIGN_OPS = new Set(['=', '*=', '/=', '%=', '+=', '-=', '<<=', '>>=', '&=', '^=', '|=']);

/** One evaluation of one expression (bash's `expr_context`). */
class Evaluator {
  private pos = 0;
  private tok: Tok = { t: 'eof' };
  /** Where the last token that was not the end began (bash's `lasttp`). */
  private lastAt = 0;
  /** Inside the operand `&&`, `||` or `?:` does not need (bash's `noeval`). */
  private noeval = 0;

  constructor(
    private readonly expr: string,
    private readonly vars: ArithVariables,
    private readonly depth: number,
  ) {}

  run(): bigint {
    if (this.depth > MAX_RECURSION) {
      this.lastAt = 0;
      throw this.error('expression recursion level exceeded');
    }
    this.next();
    if (this.cur().t === 'eof') return 0n;
    const v = this.comma();
    if (this.cur().t !== 'eof') throw this.error('syntax error in expression');
    return v;
  }

  private error(msg: string): ArithError {
    const expr = this.expr.replace(/^[ \t\n]+/, '');
    return new ArithError(`${expr}: ${msg} (error token is "${this.expr.slice(this.lastAt)}")`);
  }

  /** bash's `readtok()`: the next token; the end does not move `lastAt`. */
  private next(): void {
    const s = this.expr;
    while (this.pos < s.length && ' \t\n'.includes(s[this.pos]!)) this.pos++;
    if (this.pos >= s.length) {
      this.tok = { t: 'eof' };
      return;
    }
    this.lastAt = this.pos;
    const rest = s.slice(this.pos);
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (id !== null) {
      this.pos += id[0].length;
      this.tok = { t: 'id', text: id[0] };
      return;
    }
    const num = /^[0-9][A-Za-z0-9_@#]*/.exec(rest);
    if (num !== null) {
      this.pos += num[0].length;
      this.tok = { t: 'num', text: num[0] };
      return;
    }
    const op = OPS.find((o) => rest.startsWith(o));
    if (op === undefined) {
      // A character no token starts with.
      throw this.error('syntax error: invalid arithmetic operator');
    }
    this.pos += op.length;
    this.tok = { t: 'op', text: op };
  }

  /** The current token (read afresh: `next()` changes it). */
  private cur(): Tok {
    return this.tok;
  }

  private isOp(text: string): boolean {
    return this.tok.t === 'op' && this.tok.text === text;
  }

  /** `a , b`. */
  private comma(): bigint {
    let v = this.assignment();
    while (this.isOp(',')) {
      this.next();
      v = this.assignment();
    }
    return v;
  }

  /** `NAME op= expr`, or a conditional. */
  private assignment(): bigint {
    if (this.tok.t === 'id') {
      const save = { pos: this.pos, tok: this.tok, lastAt: this.lastAt };
      const name = this.tok.text;
      this.next();
      const t = this.cur();
      if (t.t === 'op' && ASSIGN_OPS.has(t.text)) {
        const op = t.text;
        this.next();
        const rhs = this.assignment();
        let v = rhs;
        if (op !== '=') v = this.binary(op.slice(0, -1), this.variable(name), rhs, this.lastAt);
        if (this.noeval === 0) this.vars.set(name, String(v));
        return v;
      }
      this.pos = save.pos;
      this.tok = save.tok;
      this.lastAt = save.lastAt;
    }
    return this.conditional();
  }

  /** `c ? a : b`. */
  private conditional(): bigint {
    const c = this.logicalOr();
    if (!this.isOp('?')) return c;
    this.next();
    if (c === 0n) this.noeval++;
    const a = this.comma();
    if (c === 0n) this.noeval--;
    if (!this.isOp(':')) throw this.error("`:' expected for conditional expression");
    this.next();
    if (c !== 0n) this.noeval++;
    const b = this.conditional();
    if (c !== 0n) this.noeval--;
    return c !== 0n ? a : b;
  }

  private logicalOr(): bigint {
    let v = this.logicalAnd();
    while (this.isOp('||')) {
      this.next();
      if (v !== 0n) this.noeval++;
      const r = this.logicalAnd();
      if (v !== 0n) this.noeval--;
      v = v !== 0n || r !== 0n ? 1n : 0n;
    }
    return v;
  }

  private logicalAnd(): bigint {
    let v = this.level(0);
    while (this.isOp('&&')) {
      this.next();
      if (v === 0n) this.noeval++;
      const r = this.level(0);
      if (v === 0n) this.noeval--;
      v = v !== 0n && r !== 0n ? 1n : 0n;
    }
    return v;
  }

  /** The binary levels from `|` down to `* / %`, loosest first. */
  private static readonly LEVELS: readonly (readonly string[])[] = [['|'], ['^'], ['&'], ['==', '!='], ['<', '<=', '>', '>='], ['<<', '>>'], ['+', '-'], ['*', '/', '%']];

  private level(n: number): bigint {
    if (n === Evaluator.LEVELS.length) return this.power();
    const ops = Evaluator.LEVELS[n]!;
    let v = this.level(n + 1);
    while (this.tok.t === 'op' && ops.includes(this.tok.text)) {
      const op = this.tok.text;
      // Where the right operand starts: a division by 0 names it.
      const at = this.pos;
      this.next();
      const r = this.level(n + 1);
      v = this.binary(op, v, r, at);
    }
    return v;
  }

  /** A binary operation; `at` is where the right operand's text starts. */
  private binary(op: string, a: bigint, b: bigint, at: number): bigint {
    switch (op) {
      case '+':
        return wrap(a + b);
      case '-':
        return wrap(a - b);
      case '*':
        return wrap(a * b);
      case '/':
      case '%':
        if (b === 0n) {
          if (this.noeval > 0) return 0n;
          let k = at;
          while (k < this.expr.length && ' \t\n'.includes(this.expr[k]!)) k++;
          this.lastAt = k;
          throw this.error('division by 0');
        }
        // INTMAX_MIN / -1 overflows in C; bash gives INTMAX_MIN and 0.
        if (a === MIN && b === -1n) return op === '/' ? MIN : 0n;
        return op === '/' ? a / b : a % b;
      /* eslint-disable no-bitwise -- the shell's own 64-bit integers, as bash's `<<`, `>>`, `&`, `^`, `|` (a shift count taken mod 64, as x86 does) */
      case '<<':
        return wrap(a << BigInt.asUintN(6, b));
      case '>>':
        return a >> BigInt.asUintN(6, b);
      case '<':
        return a < b ? 1n : 0n;
      case '<=':
        return a <= b ? 1n : 0n;
      case '>':
        return a > b ? 1n : 0n;
      case '>=':
        return a >= b ? 1n : 0n;
      case '==':
        return a === b ? 1n : 0n;
      case '!=':
        return a !== b ? 1n : 0n;
      case '&':
        return a & b;
      case '^':
        return a ^ b;
      case '|':
        return a | b;
      /* eslint-enable no-bitwise */
      default:
        throw this.error('syntax error in expression');
    }
  }

  /** `a ** b` (right-associative). */
  private power(): bigint {
    const base = this.unary();
    if (!this.isOp('**')) return base;
    this.next();
    const e = this.power();
    if (e < 0n) {
      if (this.noeval > 0) return 0n;
      throw this.error('exponent less than 0');
    }
    let r = 1n;
    let b = base;
    let k = e;
    // Square and multiply, wrapping at each step as intmax_t does.
    while (k > 0n) {
      if (k % 2n === 1n) r = wrap(r * b);
      b = wrap(b * b);
      k /= 2n;
    }
    return r;
  }

  /** `- + ! ~` and `++NAME` / `--NAME`. */
  private unary(): bigint {
    if (this.tok.t === 'op') {
      const op = this.tok.text;
      if (op === '-' || op === '+' || op === '!' || op === '~') {
        this.next();
        const v = this.unary();
        // eslint-disable-next-line no-bitwise -- bash's `~` on its 64-bit integers
        return op === '-' ? wrap(-v) : op === '+' ? v : op === '!' ? (v === 0n ? 1n : 0n) : ~v;
      }
      if (op === '++' || op === '--') {
        this.next();
        const t = this.cur();
        if (t.t !== 'id') throw this.error('syntax error: operand expected');
        const name = t.text;
        this.next();
        const v = wrap(this.variable(name) + (op === '++' ? 1n : -1n));
        if (this.noeval === 0) this.vars.set(name, String(v));
        return v;
      }
    }
    return this.postfix();
  }

  /** A number, `NAME`, `NAME++`, `NAME--`, or `( expr )`. */
  private postfix(): bigint {
    const t = this.tok;
    if (t.t === 'op' && t.text === '(') {
      this.next();
      const v = this.comma();
      if (!this.isOp(')')) throw this.error("missing `)'");
      this.next();
      return v;
    }
    if (t.t === 'num') {
      const v = this.number(t.text);
      this.next();
      return v;
    }
    if (t.t === 'id') {
      const v = this.variable(t.text);
      this.next();
      if (this.isOp('++') || this.isOp('--')) {
        const inc = this.isOp('++') ? 1n : -1n;
        if (this.noeval === 0) this.vars.set(t.text, String(wrap(v + inc)));
        this.next();
      }
      return v;
    }
    throw this.error('syntax error: operand expected');
  }

  /** The value of variable `name`: 0 when unset or empty, else its value evaluated. */
  private variable(name: string): bigint {
    const value = this.vars.get(name);
    if (value === undefined || value.trim() === '') return 0n;
    return new Evaluator(value, this.vars, this.depth + 1).run();
  }

  /** bash's `strlong()`: decimal, `0x` hex, `0` octal, `BASE#DIGITS`. */
  private number(text: string): bigint {
    let base = 10;
    let digits = text;
    const hash = text.indexOf('#');
    if (hash >= 0) {
      base = Number(text.slice(0, hash));
      digits = text.slice(hash + 1);
      if (!/^[0-9]+$/.test(text.slice(0, hash)) || base < 2 || base > 64) throw this.error('invalid arithmetic base');
      if (digits === '') throw this.error('invalid integer constant');
    } else if (/^0[xX]/.test(text)) {
      base = 16;
      digits = text.slice(2);
    } else if (text.startsWith('0') && text.length > 1) {
      base = 8;
      digits = text.slice(1);
    }
    let v = 0n;
    for (const c of digits) {
      let d: number;
      if (c >= '0' && c <= '9') d = c.charCodeAt(0) - 48;
      else if (c >= 'a' && c <= 'z') d = c.charCodeAt(0) - 97 + 10;
      else if (c >= 'A' && c <= 'Z') d = c.charCodeAt(0) - 65 + (base <= 36 ? 10 : 36);
      else if (c === '@') d = 62;
      else if (c === '_') d = 63;
      else throw this.error('invalid number');
      if (d >= base) throw this.error('value too great for base');
      v = wrap(v * BigInt(base) + BigInt(d));
    }
    return v;
  }
}

/**
 * Evaluates the (already expanded) text of `$((TEXT))`, as bash's
 * `evalexp()` in expr.c does: the value in decimal. Throws
 * {@link ArithError} with bash's message.
 */
export function evalArith(text: string, vars: ArithVariables): string {
  return String(new Evaluator(text, vars, 0).run());
}
