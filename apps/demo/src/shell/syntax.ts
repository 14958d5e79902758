/**
 * The grammar of the demo's shell: bash's lists, pipelines and `for`
 * loops, read into a tree before anything runs.
 *
 * bash reads a command in two steps: `parse.y` turns the text into a tree
 * of commands (simple commands, pipelines, `&&`/`||` lists, compound
 * commands) whose words are still unexpanded, and `execute_cmd.c` walks
 * the tree, expanding each word only when its command runs (subst.c). The
 * shell here does the same, so that `for b in memory3*; do echo online >
 * $b/state; done` expands `$b` afresh on every pass of the loop.
 *
 * What is read:
 *
 * ```
 *   list       and_or ( (';' | newline) and_or )* [';']
 *   and_or     pipeline ( ('&&' | '||') newline* pipeline )*
 *   pipeline   ['!'] command ( '|' newline* command )*
 *   command    simple | 'for' NAME [ 'in' WORD* ] (';' | newline) 'do' list 'done'
 *            | 'if' list 'then' list ( 'elif' list 'then' list )* [ 'else' list ] 'fi'
 *            | ('while' | 'until') list 'do' list 'done'
 *            | 'case' WORD 'in' ( ['('] WORD ('|' WORD)* ')' [list] (';;' | ';&' | ';;&') )* 'esac'
 *            | '{' list '}'
 *            | NAME '(' ')' compound | 'function' NAME ['(' ')'] compound
 *   simple     ( NAME=value | redirection )* [ WORD ( WORD | redirection )* ]
 * ```
 *
 * Words are bash's: blanks separate them; `'single'` quotes keep
 * everything, `"double"` quotes keep everything but `$` expansions and the
 * backslash before `"`, `\`, `$`, `` ` ``; a backslash outside quotes
 * quotes the next character; `#` at the start of a word begins a comment.
 * A word is kept as parts (literal text, quoted or not, and parameter
 * expansions `$NAME`, `${NAME}`, `${NAME:-word}`, `${NAME##pattern}`,
 * `${#NAME}`, `$?`, `$#`,
 * `$0`..`$9`, `$@`, `$*`), command substitutions `$(LIST)` and arithmetic
 * `$((EXPRESSION))`, because
 * what is quoted decides word splitting and globbing later (see expand.ts).
 *
 * Output redirections are those of bash's `redir.c` (`[N]>`, `[N]>|`,
 * `[N]>>`, `&>`, `&>>`, `>&`, `[N]>&M`, `[N]>&-`), and `[0]< FILE` reads a
 * file as standard input. What the demo shell does not have is refused with
 * a message rather than misread: background jobs (`&`), subshells (`(`,
 * `)`), backquotes (`` ` ``), here documents (`<<`, `<<<`), `<>`, `<&`,
 * `$'...'`, `select` and `[[`, and redirections of compound commands.
 *
 * A line may be incomplete — `echo a |`, `for x in a b; do`, `a &&` — as an
 * interactive bash sees it before printing its `> ` prompt: the parser says
 * so ({@link ParseResult}) and the shell reads on. An unterminated quote is
 * an error of its line.
 */

/** Literal text of a word; `quoted` when it came from quotes or a backslash. */
export interface LiteralPart {
  readonly kind: 'literal';
  readonly text: string;
  readonly quoted: boolean;
}

/** A parameter expansion: `$NAME`, `${NAME}`, `${NAME<op>word}`, `${#NAME}`, `$?`, ... */
export interface ParamPart {
  readonly kind: 'param';
  /** The parameter: a variable name, a digit, or one of `?`, `#`, `@`, `*`. */
  readonly name: string;
  /** Inside double quotes. */
  readonly quoted: boolean;
  /** `${#NAME}`: the length of the value. */
  readonly length?: true;
  /** `-`, `:-`, `+`, `:+`, `=`, `:=`, or the pattern removals `#`, `##`, `%`, `%%`: the operator of `${NAME<op>word}`. */
  readonly op?: string;
  /** The word of `${NAME<op>word}`. */
  readonly arg?: readonly WordPart[];
}

/** `${...}` that is not a valid expansion: bash reports `bad substitution` when it is expanded. */
export interface BadPart {
  readonly kind: 'bad';
  /** The text as written, `${1a}`. */
  readonly text: string;
}

/** `$(LIST)`: command substitution, the output of LIST without its trailing newlines. */
export interface CommandPart {
  readonly kind: 'command';
  readonly list: List;
  /** Inside double quotes. */
  readonly quoted: boolean;
}

/** `$((EXPRESSION))`: arithmetic expansion (arith.ts), the expression's own `$` expansions done first. */
export interface ArithPart {
  readonly kind: 'arith';
  /** The expression as parts: its text, with parameter and command substitutions. */
  readonly parts: readonly WordPart[];
  /** Inside double quotes. */
  readonly quoted: boolean;
}

/** One piece of a word. */
export type WordPart = LiteralPart | ParamPart | BadPart | CommandPart | ArithPart;

/** A word as written, before expansion. */
export interface Word {
  readonly parts: readonly WordPart[];
  /** The source text of the word. */
  readonly raw: string;
}

/** A redirection operator and its (unexpanded) target word. */
export interface RedirectionNode {
  /** `>`, `>|`, `>>`, `>&`, `&>`, `&>>` or `<`. */
  readonly op: string;
  /** The descriptor number written before the operator. */
  readonly fd?: number;
  readonly target: Word;
}

/** A simple command: assignments, words and redirections. */
export interface SimpleCommand {
  readonly type: 'simple';
  /** `NAME=value` words before the command: the name and the value's parts. */
  readonly assignments: readonly { readonly name: string; readonly value: Word }[];
  readonly words: readonly Word[];
  readonly redirections: readonly RedirectionNode[];
}

/** `for NAME in WORDS; do BODY; done` (without `in`: the positional parameters). */
export interface ForCommand {
  readonly type: 'for';
  readonly name: string;
  readonly words: readonly Word[] | undefined;
  readonly body: List;
}

/** `if LIST; then LIST; [elif LIST; then LIST;]... [else LIST;] fi`. */
export interface IfCommand {
  readonly type: 'if';
  /** Each condition and the list it guards, in order. */
  readonly branches: readonly { readonly condition: List; readonly body: List }[];
  readonly otherwise: List | undefined;
}

/** `while LIST; do BODY; done`, or `until` (`until` set): BODY while LIST's status is 0 (not 0). */
export interface WhileCommand {
  readonly type: 'while';
  readonly until: boolean;
  readonly condition: List;
  readonly body: List;
}

/** One `PATTERN | PATTERN ) LIST ;;` of a `case`; `end` is its terminator (`;;`, `;&` or `;;&`). */
export interface CaseClause {
  readonly patterns: readonly Word[];
  readonly body: List;
  readonly end: ';;' | ';&' | ';;&';
}

/** `case WORD in CLAUSES esac`. */
export interface CaseCommand {
  readonly type: 'case';
  readonly word: Word;
  readonly clauses: readonly CaseClause[];
}

/** `{ LIST; }`: a group, run in the current shell. */
export interface GroupCommand {
  readonly type: 'group';
  readonly body: List;
}

/** `NAME() COMPOUND` or `function NAME [()] COMPOUND`: defines a shell function. */
export interface FunctionDefinition {
  readonly type: 'function';
  readonly name: string;
  readonly body: Command;
}

/** A command of a pipeline. */
export type Command = SimpleCommand | ForCommand | IfCommand | WhileCommand | CaseCommand | GroupCommand | FunctionDefinition;

/** `[!] command | command ...`. */
export interface Pipeline {
  readonly bang: boolean;
  readonly commands: readonly Command[];
}

/** `pipeline && pipeline || pipeline ...`. */
export interface AndOr {
  readonly first: Pipeline;
  readonly rest: readonly { readonly op: '&&' | '||'; readonly pipeline: Pipeline }[];
}

/** Commands run one after the other. */
export type List = readonly AndOr[];

/** The outcome of {@link parseProgram}. */
export type ParseResult =
  | { readonly kind: 'ok'; readonly list: List }
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'error'; readonly message: string; readonly status?: number };

// ---------------------------------------------------------------------------
// tokens

type Token =
  | { readonly t: 'word'; readonly word: Word; readonly at: number }
  | { readonly t: 'op'; readonly op: string; readonly at: number }
  | { readonly t: 'redir'; readonly op: string; readonly fd: number | undefined; readonly at: number }
  | { readonly t: 'newline'; readonly at: number }
  | { readonly t: 'eof'; readonly at: number };

/** A syntax error found while reading; `status` when bash's is not 2. */
class SyntaxError_ extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}
/** The text ended where more was needed. */
class Incomplete extends Error {}

const BLANK = new Set([' ', '\t']);
const META = new Set([' ', '\t', '\n', '|', '&', ';', '(', ')', '<', '>']);
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SPECIAL_PARAMS = new Set(['?', '#', '@', '*', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);

function unsupported(what: string): SyntaxError_ {
  return new SyntaxError_(`${what}: not supported by the demo shell`);
}

/** Splits `text` into tokens (bash's `read_token()`), words as parts. */
class Lexer {
  private i = 0;
  constructor(private readonly s: string) {}

  tokens(): Token[] {
    const out: Token[] = [];
    for (;;) {
      const tok = this.next();
      out.push(tok);
      if (tok.t === 'eof') return out;
    }
  }

  private next(): Token {
    const s = this.s;
    for (;;) {
      while (this.i < s.length && BLANK.has(s[this.i]!)) this.i++;
      // A backslash-newline between words joins the lines.
      if (s[this.i] === '\\' && s[this.i + 1] === '\n') {
        this.i += 2;
        continue;
      }
      break;
    }
    const at = this.i;
    if (this.i >= s.length) return { t: 'eof', at };
    const c = s[this.i]!;
    if (c === '#') {
      while (this.i < s.length && s[this.i] !== '\n') this.i++;
      return this.next();
    }
    if (c === '\n') {
      this.i++;
      return { t: 'newline', at };
    }
    const two = s.slice(this.i, this.i + 2);
    if (two === '&&' || two === '||') {
      this.i += 2;
      return { t: 'op', op: two, at };
    }
    if (s.startsWith(';;&', this.i) || two === ';;' || two === ';&') {
      const op = s.startsWith(';;&', this.i) ? ';;&' : two;
      this.i += op.length;
      return { t: 'op', op, at };
    }
    const digits = /^[0-9]+/.exec(s.slice(this.i))?.[0];
    const opAt = this.i + (digits?.length ?? 0);
    const redir = this.redirection(opAt, digits === undefined ? undefined : Number(digits));
    if (redir !== undefined) return { ...redir, at };
    if (c === '&') throw unsupported('&');
    if (c === '|' || c === ';' || c === '(' || c === ')') {
      this.i++;
      return { t: 'op', op: c, at };
    }
    const parts = this.wordParts(new Set());
    return { t: 'word', word: { parts, raw: s.slice(at, this.i) }, at };
  }

  /** A redirection operator at `j` (after the descriptor digits, if any). */
  private redirection(j: number, fd: number | undefined): Omit<Extract<Token, { t: 'redir' }>, 'at'> | undefined {
    const s = this.s;
    if (s[j] === '<') {
      const d = s[j + 1];
      if (d === '<' || d === '>' || d === '&' || d === '(') throw unsupported(`<${d}`);
      if (fd !== undefined && fd !== 0) throw unsupported(`${fd}<`);
      this.i = j + 1;
      return { t: 'redir', op: '<', fd: undefined };
    }
    if (s[j] === '&' && s[j + 1] === '>' && fd === undefined) {
      const append = s[j + 2] === '>';
      this.i = j + (append ? 3 : 2);
      return { t: 'redir', op: append ? '&>>' : '&>', fd: undefined };
    }
    if (s[j] !== '>') return undefined;
    const d = s[j + 1];
    if (d === '(') throw unsupported('>(');
    const op = d === '>' || d === '|' || d === '&' ? `>${d}` : '>';
    this.i = j + op.length;
    return { t: 'redir', op, fd };
  }

  /**
   * The parts of a word, up to a metacharacter (or, inside `${...}`, up to
   * one of `stop`). Adjacent literal text of the same quoting is one part.
   */
  private wordParts(stop: ReadonlySet<string>): WordPart[] {
    const s = this.s;
    const parts: WordPart[] = [];
    const lit = (text: string, quoted: boolean): void => {
      if (text === '') {
        if (quoted) parts.push({ kind: 'literal', text, quoted });
        return;
      }
      const last = parts[parts.length - 1];
      if (last !== undefined && last.kind === 'literal' && last.quoted === quoted && last.text !== '') {
        parts[parts.length - 1] = { kind: 'literal', text: last.text + text, quoted };
      } else {
        parts.push({ kind: 'literal', text, quoted });
      }
    };
    while (this.i < s.length) {
      const c = s[this.i]!;
      if (stop.size > 0 ? stop.has(c) : META.has(c)) break;
      if (c === '\\') {
        if (this.i + 1 >= s.length) {
          lit('\\', false);
          this.i++;
        } else if (s[this.i + 1] === '\n') {
          this.i += 2;
        } else {
          lit(s[this.i + 1]!, true);
          this.i += 2;
        }
        continue;
      }
      if (c === "'") {
        const end = s.indexOf("'", this.i + 1);
        if (end < 0) throw new SyntaxError_("unexpected EOF while looking for matching `''");
        lit(s.slice(this.i + 1, end), true);
        this.i = end + 1;
        continue;
      }
      if (c === '"') {
        this.i++;
        let text = '';
        let closed = false;
        const flush = (): void => {
          // Only text: an empty quoted part would make `"$@"` a field when there are no arguments.
          if (text !== '') lit(text, true);
          text = '';
        };
        while (this.i < s.length) {
          const e = s[this.i]!;
          if (e === '"') {
            closed = true;
            this.i++;
            break;
          }
          if (e === '\\' && this.i + 1 < s.length && '"\\$`\n'.includes(s[this.i + 1]!)) {
            if (s[this.i + 1] !== '\n') text += s[this.i + 1]!;
            this.i += 2;
            continue;
          }
          if (e === '`') throw unsupported('`');
          if (e === '$') {
            const p = this.dollar(true);
            if (p !== undefined) {
              flush();
              parts.push(p);
              continue;
            }
          }
          text += e;
          this.i++;
        }
        if (!closed) throw new SyntaxError_('unexpected EOF while looking for matching `"\'');
        // `""` is a quoted empty word; text already collected keeps the word quoted.
        if (text !== '' || !parts.some((p) => p.kind !== 'literal' || p.quoted)) lit(text, true);
        text = '';
        continue;
      }
      if (c === '`') throw unsupported('`');
      if (c === '$') {
        const p = this.dollar(false);
        if (p !== undefined) {
          parts.push(p);
          continue;
        }
      }
      lit(c, false);
      this.i++;
    }
    return parts;
  }

  /** A `$` expansion at the cursor, or undefined when the `$` is an ordinary character. */
  private dollar(quoted: boolean): WordPart | undefined {
    const s = this.s;
    const d = s[this.i + 1];
    if (d === undefined) return undefined;
    if (d === '(') return this.substitution(quoted);
    if (d === "'" && !quoted) throw unsupported("$'...'");
    if (d === '{') return this.braced(quoted);
    if (SPECIAL_PARAMS.has(d)) {
      this.i += 2;
      return { kind: 'param', name: d, quoted };
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(this.i + 1));
    if (m === null) return undefined;
    this.i += 1 + m[0].length;
    return { kind: 'param', name: m[0], quoted };
  }

  /**
   * `$(...)` at the cursor: the text up to the matching `)` (quotes and
   * nested parentheses skipped, as bash's `parse_comsub()` finds it), parsed
   * as a list of its own.
   */
  private substitution(quoted: boolean): CommandPart | ArithPart {
    const s = this.s;
    if (s[this.i + 2] === '(') {
      const arith = this.arithmetic(quoted);
      if (arith !== undefined) return arith;
    }
    let depth = 1;
    let j = this.i + 2;
    for (; j < s.length; j++) {
      const c = s[j]!;
      if (c === '\\') {
        j++;
      } else if (c === "'") {
        const end = s.indexOf("'", j + 1);
        if (end < 0) break;
        j = end;
      } else if (c === '"') {
        let k = j + 1;
        while (k < s.length && s[k] !== '"') k += s[k] === '\\' ? 2 : 1;
        if (k >= s.length) break;
        j = k;
      } else if (c === '(') {
        depth++;
      } else if (c === ')' && --depth === 0) {
        break;
      }
    }
    if (depth > 0 || j >= s.length) throw new SyntaxError_("unexpected EOF while looking for matching `)'");
    const inner = parseProgram(s.slice(this.i + 2, j));
    if (inner.kind === 'incomplete') throw new SyntaxError_("unexpected EOF while looking for matching `)'");
    if (inner.kind === 'error') throw new SyntaxError_(inner.message, inner.status);
    this.i = j + 1;
    return { kind: 'command', list: inner.list, quoted };
  }

  /**
   * `$((...))` at the cursor: the text up to the `))` that closes it
   * (parentheses inside counted), as parts: its `$` expansions, the rest
   * literal. Undefined when no `))` closes it, so that it is read as `$(`
   * and a subshell, as bash falls back to.
   */
  private arithmetic(quoted: boolean): ArithPart | undefined {
    const s = this.s;
    let depth = 0;
    let j = this.i + 3;
    for (; j < s.length; j++) {
      const c = s[j]!;
      if (c === '(') depth++;
      else if (c === ')') {
        if (depth === 0) break;
        depth--;
      }
    }
    if (j >= s.length || s[j + 1] !== ')') {
      if (j >= s.length) throw new SyntaxError_("unexpected EOF while looking for matching `)'");
      return undefined;
    }
    const inner = new Lexer(s.slice(this.i + 3, j));
    const parts = inner.expressionParts();
    this.i = j + 2;
    return { kind: 'arith', parts, quoted };
  }

  /** The whole text as an arithmetic expression's parts: `$` expansions, quotes removed, the rest literal. */
  private expressionParts(): WordPart[] {
    const s = this.s;
    const parts: WordPart[] = [];
    let text = '';
    const flush = (): void => {
      if (text !== '') parts.push({ kind: 'literal', text, quoted: true });
      text = '';
    };
    while (this.i < s.length) {
      const c = s[this.i]!;
      if (c === '$') {
        const p = this.dollar(true);
        if (p !== undefined) {
          flush();
          parts.push(p);
          continue;
        }
      }
      if (c === '`') throw unsupported('`');
      if (c === '"') {
        this.i++;
        continue;
      }
      if (c === '\\' && this.i + 1 < s.length) {
        text += s[this.i + 1]!;
        this.i += 2;
        continue;
      }
      text += c;
      this.i++;
    }
    flush();
    return parts;
  }

  /** `${...}` at the cursor. */
  private braced(quoted: boolean): WordPart {
    const s = this.s;
    const start = this.i;
    this.i += 2;
    const length = s[this.i] === '#' && s[this.i + 1] !== '}';
    if (length) this.i++;
    const m = /^([A-Za-z_][A-Za-z0-9_]*|[0-9]|[?#@*])/.exec(s.slice(this.i));
    const name = m?.[0];
    if (name !== undefined) this.i += name.length;
    const opm = /^(:?[-+=]|##?|%%?)/.exec(s.slice(this.i));
    if (name !== undefined && s[this.i] === '}') {
      this.i++;
      return length ? { kind: 'param', name, quoted, length: true } : { kind: 'param', name, quoted };
    }
    if (name !== undefined && !length && opm !== null) {
      this.i += opm[0].length;
      const arg = this.wordParts(new Set(['}']));
      if (s[this.i] !== '}') throw new SyntaxError_("unexpected EOF while looking for matching `}'");
      this.i++;
      // Double quotes around the expansion quote its word, except a pattern's (it stays a pattern).
      const force = quoted && !/^[#%]/.test(opm[0]);
      return { kind: 'param', name, quoted, op: opm[0], arg: force ? arg.map((p) => (p.kind === 'bad' ? p : { ...p, quoted: true })) : arg };
    }
    const end = s.indexOf('}', this.i);
    if (end < 0) throw new SyntaxError_("unexpected EOF while looking for matching `}'");
    this.i = end + 1;
    return { kind: 'bad', text: s.slice(start, end + 1) };
  }
}

// ---------------------------------------------------------------------------
// parser

const RESERVED_UNSUPPORTED = new Set(['select', '[[']);
/** The terminators of a `case` clause. */
const CASE_ENDS = new Set([';;', ';&', ';;&']);
/** A word bash accepts as a function's name (not a number, no quotes or expansions, no `=`). */
const FUNCTION_NAME = /^[^\s'"\\$`=|&;<>()]+$/;
const RESERVED_STRAY = new Set(['do', 'done', 'then', 'else', 'elif', 'fi', 'esac', '}']);

/** The unquoted text of a word, when it has no quotes and no expansions (a reserved word candidate). */
function plain(word: Word): string | undefined {
  if (word.parts.length !== 1) return word.parts.length === 0 ? '' : undefined;
  const p = word.parts[0]!;
  return p.kind === 'literal' && !p.quoted ? p.text : undefined;
}

class Parser {
  private k = 0;
  constructor(
    private readonly toks: readonly Token[],
    private readonly src: string,
  ) {}

  private get tok(): Token {
    return this.peek();
  }

  private peek(): Token {
    return this.toks[this.k]!;
  }

  /** bash's message for an unexpected token. */
  private unexpected(tok: Token): SyntaxError_ {
    // A subshell `( ... )` is what the demo shell does not have.
    if (tok.t === 'op' && (tok.op === '(' || tok.op === ')')) return unsupported(tok.op);
    return new SyntaxError_(`syntax error near unexpected token \`${this.tokenText(tok)}'`);
  }

  private tokenText(tok: Token): string {
    if (tok.t === 'eof' || tok.t === 'newline') return 'newline';
    if (tok.t === 'op') return tok.op;
    if (tok.t === 'redir') return tok.op.startsWith('&') ? '&' : /^[<>][>&|]?/.exec(this.src.slice(tok.at).replace(/^[0-9]+/, ''))![0];
    return tok.word.raw;
  }

  private isWord(text: string): boolean {
    return this.tok.t === 'word' && plain(this.tok.word) === text;
  }

  private skipNewlines(): void {
    while (this.tok.t === 'newline') this.k++;
  }

  program(): List {
    this.skipNewlines();
    if (this.tok.t === 'eof') return [];
    const list = this.list(new Set());
    const end = this.peek();
    if (end.t !== 'eof') throw this.unexpected(end);
    return list;
  }

  /** A list, up to EOF or one of the reserved words `stop` in command position. */
  private list(stop: ReadonlySet<string>): AndOr[] {
    const out: AndOr[] = [];
    this.skipNewlines();
    for (;;) {
      out.push(this.andOr());
      const t = this.tok;
      if (t.t === 'op' && t.op === ';') this.k++;
      else if (t.t !== 'newline') break;
      this.skipNewlines();
      if (this.peek().t === 'eof') break;
      if (this.tok.t === 'word' && stop.has(plain(this.tok.word) ?? '')) break;
      if (this.tok.t === 'op' && (CASE_ENDS.has(this.tok.op) || this.tok.op === ')')) break;
    }
    return out;
  }

  private andOr(): AndOr {
    const first = this.pipeline();
    const rest: { op: '&&' | '||'; pipeline: Pipeline }[] = [];
    for (;;) {
      const t = this.tok;
      if (t.t !== 'op' || (t.op !== '&&' && t.op !== '||')) break;
      this.k++;
      this.skipNewlines();
      rest.push({ op: t.op, pipeline: this.pipeline() });
    }
    return { first, rest };
  }

  private pipeline(): Pipeline {
    let bang = false;
    if (this.isWord('!')) {
      bang = true;
      this.k++;
    }
    const commands: Command[] = [this.command()];
    for (;;) {
      const t = this.tok;
      if (t.t !== 'op' || t.op !== '|') break;
      this.k++;
      this.skipNewlines();
      commands.push(this.command());
    }
    return { bang, commands };
  }

  private command(): Command {
    const t = this.tok;
    if (t.t === 'eof') throw new Incomplete();
    if (t.t === 'op' || t.t === 'newline') throw this.unexpected(t);
    if (t.t === 'word') {
      const w = plain(t.word);
      if (w === 'for') return this.forCommand();
      if (w === 'if') return this.ifCommand();
      if (w === 'while' || w === 'until') return this.whileCommand(w === 'until');
      if (w === 'case') return this.caseCommand();
      if (w === '{') return this.group();
      if (w === 'function') return this.functionKeyword();
      const after = this.toks[this.k + 1]!;
      if (w !== undefined && after.t === 'op' && after.op === '(' && !RESERVED_STRAY.has(w)) return this.functionDefinition();
      if (w !== undefined && RESERVED_UNSUPPORTED.has(w)) throw unsupported(w);
      if (w !== undefined && RESERVED_STRAY.has(w)) throw this.unexpected(t);
    }
    return this.simple();
  }

  private forCommand(): ForCommand {
    this.k++;
    const nameTok = this.tok;
    if (nameTok.t === 'eof') throw new Incomplete();
    if (nameTok.t !== 'word') throw this.unexpected(nameTok);
    const name = plain(nameTok.word);
    if (name === undefined || !NAME.test(name)) throw new SyntaxError_(`\`${nameTok.word.raw}': not a valid identifier`, 1);
    this.k++;
    let words: Word[] | undefined;
    this.skipNewlines();
    if (this.isWord('in')) {
      this.k++;
      words = [];
      for (let w = this.peek(); w.t === 'word'; w = this.peek()) {
        words.push(w.word);
        this.k++;
      }
      const sep = this.tok;
      if (sep.t === 'eof') throw new Incomplete();
      if (!(sep.t === 'newline' || (sep.t === 'op' && sep.op === ';'))) throw this.unexpected(sep);
      this.k++;
    } else if (this.tok.t === 'op' && (this.tok as { op: string }).op === ';') {
      this.k++;
    }
    this.skipNewlines();
    if (this.peek().t === 'eof') throw new Incomplete();
    if (!this.isWord('do')) throw this.unexpected(this.tok);
    this.k++;
    this.skipNewlines();
    if (this.peek().t === 'eof') throw new Incomplete();
    if (this.isWord('done')) throw this.unexpected(this.tok);
    const body = this.list(new Set(['done']));
    if (this.peek().t === 'eof') throw new Incomplete();
    if (!this.isWord('done')) throw this.unexpected(this.tok);
    this.k++;
    if (this.tok.t === 'redir') throw unsupported('a redirection of a for loop');
    return { type: 'for', name, words, body };
  }

  /** A redirection after a compound command is not supported. */
  private noRedirection(what: string): void {
    if (this.peek().t === 'redir') throw unsupported(`a redirection of ${what}`);
  }

  /** `while LIST; do LIST; done` (or `until`). */
  private whileCommand(until: boolean): WhileCommand {
    this.k++;
    const condition = this.guardedList(new Set(['do']));
    this.k++; // do
    const body = this.guardedList(new Set(['done']));
    this.k++; // done
    this.noRedirection(`${until ? 'an until' : 'a while'} loop`);
    return { type: 'while', until, condition, body };
  }

  /** `case WORD in [(]PATTERN[|PATTERN]...) LIST ;; ... esac`. */
  private caseCommand(): CaseCommand {
    this.k++;
    const wordTok = this.tok;
    if (wordTok.t === 'eof') throw new Incomplete();
    if (wordTok.t !== 'word') throw this.unexpected(wordTok);
    this.k++;
    this.skipNewlines();
    if (this.peek().t === 'eof') throw new Incomplete();
    if (!this.isWord('in')) throw this.unexpected(this.tok);
    this.k++;
    const clauses: CaseClause[] = [];
    for (;;) {
      this.skipNewlines();
      const t = this.peek();
      if (t.t === 'eof') throw new Incomplete();
      if (this.isWord('esac')) {
        this.k++;
        break;
      }
      if (t.t === 'op' && t.op === '(') this.k++;
      const patterns: Word[] = [];
      for (;;) {
        const p = this.tok;
        if (p.t === 'eof') throw new Incomplete();
        if (p.t !== 'word') throw new SyntaxError_(`syntax error near unexpected token \`${this.tokenText(p)}'`);
        patterns.push(p.word);
        this.k++;
        const sep = this.tok;
        if (sep.t === 'eof') throw new Incomplete();
        if (sep.t === 'op' && sep.op === '|') {
          this.k++;
          continue;
        }
        if (sep.t === 'op' && sep.op === ')') {
          this.k++;
          break;
        }
        throw new SyntaxError_(`syntax error near unexpected token \`${this.tokenText(sep)}'`);
      }
      this.skipNewlines();
      let body: List = [];
      const first = this.peek();
      if (first.t === 'eof') throw new Incomplete();
      if (!(first.t === 'op' && CASE_ENDS.has(first.op)) && !this.isWord('esac')) body = this.list(new Set(['esac']));
      const end = this.peek();
      if (end.t === 'eof') throw new Incomplete();
      if (end.t === 'op' && CASE_ENDS.has(end.op)) {
        this.k++;
        clauses.push({ patterns, body, end: end.op as CaseClause['end'] });
        continue;
      }
      if (this.isWord('esac')) {
        this.k++;
        clauses.push({ patterns, body, end: ';;' });
        break;
      }
      throw new SyntaxError_(`syntax error near unexpected token \`${this.tokenText(end)}'`);
    }
    this.noRedirection('a case command');
    return { type: 'case', word: wordTok.word, clauses };
  }

  /** `{ LIST; }`. */
  private group(): GroupCommand {
    this.k++;
    const body = this.guardedList(new Set(['}']));
    this.k++; // }
    this.noRedirection('a group');
    return { type: 'group', body };
  }

  /** `function NAME [()] COMPOUND`. */
  private functionKeyword(): FunctionDefinition {
    this.k++;
    const t = this.tok;
    if (t.t === 'eof') throw new Incomplete();
    if (t.t !== 'word') throw this.unexpected(t);
    const name = plain(t.word);
    if (name === undefined || !FUNCTION_NAME.test(name)) throw new SyntaxError_(`\`${t.word.raw}': not a valid identifier`, 1);
    this.k++;
    const open = this.tok;
    if (open.t === 'op' && open.op === '(') {
      this.k++;
      const close = this.tok;
      if (close.t === 'eof') throw new Incomplete();
      if (!(close.t === 'op' && close.op === ')')) throw new SyntaxError_(`syntax error near unexpected token \`${this.tokenText(close)}'`);
      this.k++;
    }
    return { type: 'function', name, body: this.functionBody() };
  }

  /** `NAME () COMPOUND`. */
  private functionDefinition(): FunctionDefinition {
    const t = this.tok as Extract<Token, { t: 'word' }>;
    const name = plain(t.word)!;
    this.k += 2; // NAME (
    const close = this.tok;
    if (close.t === 'eof') throw new Incomplete();
    if (!(close.t === 'op' && close.op === ')')) throw new SyntaxError_(`syntax error near unexpected token \`${this.tokenText(close)}'`);
    if (!FUNCTION_NAME.test(name) || /^[0-9]+$/.test(name)) throw new SyntaxError_(`\`${name}': not a valid identifier`, 1);
    this.k++;
    return { type: 'function', name, body: this.functionBody() };
  }

  /** The compound command a function's body must be. */
  private functionBody(): Command {
    this.skipNewlines();
    const t = this.tok;
    if (t.t === 'eof') throw new Incomplete();
    const w = t.t === 'word' ? plain(t.word) : undefined;
    if (w === '{' || w === 'for' || w === 'if' || w === 'while' || w === 'until' || w === 'case') return this.command();
    throw new SyntaxError_(`syntax error near unexpected token \`${this.tokenText(t)}'`);
  }

  /** A list that must be followed by one of `stop`; a missing one at the end of the text is incomplete. */
  private guardedList(stop: ReadonlySet<string>): AndOr[] {
    this.skipNewlines();
    const first = this.peek();
    if (first.t === 'eof') throw new Incomplete();
    if (first.t === 'word' && stop.has(plain(first.word) ?? '')) throw this.unexpected(first);
    const list = this.list(stop);
    const end = this.peek();
    if (end.t === 'eof') throw new Incomplete();
    if (!(end.t === 'word' && stop.has(plain(end.word) ?? ''))) throw this.unexpected(end);
    return list;
  }

  private ifCommand(): IfCommand {
    const branches: { condition: List; body: List }[] = [];
    let otherwise: List | undefined;
    this.k++;
    for (;;) {
      const condition = this.guardedList(new Set(['then']));
      if (!this.isWord('then')) throw this.unexpected(this.peek());
      this.k++;
      const body = this.guardedList(new Set(['elif', 'else', 'fi']));
      branches.push({ condition, body });
      if (this.isWord('elif')) {
        this.k++;
        continue;
      }
      if (this.isWord('else')) {
        this.k++;
        otherwise = this.guardedList(new Set(['fi']));
      }
      break;
    }
    this.k++; // fi
    if (this.peek().t === 'redir') throw unsupported('a redirection of an if command');
    return { type: 'if', branches, otherwise };
  }

  private simple(): SimpleCommand {
    const assignments: { name: string; value: Word }[] = [];
    const words: Word[] = [];
    const redirections: RedirectionNode[] = [];
    for (;;) {
      const t = this.tok;
      if (t.t === 'redir') {
        this.k++;
        const target = this.tok;
        if (target.t !== 'word') throw this.unexpected(target);
        this.k++;
        redirections.push(t.fd === undefined ? { op: t.op, target: target.word } : { op: t.op, fd: t.fd, target: target.word });
        continue;
      }
      if (t.t !== 'word') break;
      this.k++;
      const m = words.length === 0 ? /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(t.word.raw) : null;
      if (m !== null) {
        assignments.push({ name: m[1]!, value: { parts: dropPrefix(t.word.parts, m[0].length), raw: t.word.raw.slice(m[0].length) } });
      } else {
        words.push(t.word);
      }
    }
    return { type: 'simple', assignments, words, redirections };
  }
}

/** The parts of a word without its first `n` characters (the `NAME=` of an assignment, unquoted literal text). */
function dropPrefix(parts: readonly WordPart[], n: number): WordPart[] {
  const [first, ...rest] = parts;
  if (first === undefined || first.kind !== 'literal') return [...parts];
  const text = first.text.slice(n);
  return text === '' ? rest : [{ ...first, text }, ...rest];
}

/**
 * Parses `text` (one line, or several lines of an unfinished command) into a
 * list, as bash's `parse_and_execute()` reads a line: `ok` with the list;
 * `incomplete` when the text ends inside a command (`echo a |`, an open
 * `for`); `error` with bash's message otherwise.
 */
export function parseProgram(text: string): ParseResult {
  try {
    const toks = new Lexer(text).tokens();
    return { kind: 'ok', list: new Parser(toks, text).program() };
  } catch (e) {
    if (e instanceof Incomplete) return { kind: 'incomplete' };
    if (e instanceof SyntaxError_) return e.status === undefined ? { kind: 'error', message: e.message } : { kind: 'error', message: e.message, status: e.status };
    throw e;
  }
}
