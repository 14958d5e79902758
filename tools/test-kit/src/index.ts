/**
 * The API-abuse harness every package's `test/api-abuse*.test.ts` shares.
 *
 * A package's committed API report (`etc/<name>.api.md`) lists what it
 * exports; {@link reportEntries} reads the functions, constructors and methods
 * from it with which of their parameters are optional, so a new export is
 * covered by the suite as soon as the report names it. {@link abuse} then
 * calls each entry with each of {@link BAD} in each parameter, the other
 * arguments valid, and records every answer that is not a refusal and every
 * call that changed the state a snapshot function reads.
 *
 * The kit imports no package of the model: what counts as a refusal (a
 * KernelError, a KernelBug, a QEMU error...) is the caller's predicate.
 */

/** The values no caller could mean: NaN, the infinities, -1, 1.5, 2^53 + 2, 2^64, undefined, a string. */
export const BAD: readonly unknown[] = [NaN, Infinity, -Infinity, -1, 1.5, 2 ** 53 + 2, 2 ** 64, undefined, 'x'];

/** One function (`name`), constructor or method (`Class.name`) of an API report. */
export interface ApiEntry {
  readonly key: string;
  /** Per parameter, rest parameters left out: whether it may be omitted. */
  readonly optional: readonly boolean[];
}

/** How to call one entry. */
export interface Spec {
  /** Valid arguments, made afresh for each call. */
  readonly args: () => unknown[];
  readonly call: (args: unknown[]) => unknown;
  /** A bad value that is a valid argument for this parameter (for example -1 as NUMA_NO_NODE, any string for a parser). */
  readonly allow?: (param: number, v: unknown) => boolean;
  /** A result that is the function's documented refusal (NULL as `undefined`, an `{ error }` object). */
  readonly refusal?: (result: unknown) => boolean;
  /**
   * A bad value that is a valid value of one field of a struct-valued
   * parameter (an optional field given `undefined`, a name field given any
   * string), or `true` for every value of a field the callee does not read.
   */
  readonly allowField?: (param: number, field: string, v: unknown) => boolean;
}

/** What a run found: the calls made, and one line per wrong answer or changed state. */
export interface Tally {
  calls: number;
  failures: string[];
}

/** Splits a parameter list at its top-level commas. */
export function splitParams(list: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of list) {
    if ('([{<'.includes(c)) depth++;
    if (')]}>'.includes(c)) depth--;
    if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out;
}

/** The functions, constructors and methods an API report lists, with which parameters are optional. */
export function reportEntries(md: string): ApiEntry[] {
  const out: ApiEntry[] = [];
  const lines = md.split('\n');
  let owner = '';
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    const head = /^(export (?:declare )?function |export (?:declare )?(?:abstract )?class | {4}(?:static )?)(\w+)\(/.exec(line);
    const cls = /^export (?:declare )?(?:abstract )?class (\w+)/.exec(line);
    if (cls !== null) owner = cls[1]!;
    else if (line.startsWith('export ')) owner = '';
    else if (line === '}') owner = '';
    if (head === null || cls !== null) continue;
    const isFn = head[1]!.startsWith('export');
    if (!isFn && owner === '') continue;
    // gather lines until the parameter list closes
    let depth = 0;
    let j = head[0].length - 1;
    let text = line;
    for (;;) {
      for (; j < text.length; j++) {
        if (text[j] === '(') depth++;
        if (text[j] === ')') depth--;
        if (depth === 0) break;
      }
      if (depth === 0) break;
      line = lines[++i]!;
      text += line;
    }
    const params = splitParams(text.slice(head[0].length, j)).filter((p) => !p.startsWith('...'));
    const optional = params.map((p) => /^\w+\?/.test(p) || /\|\s*undefined\b/.test(p));
    out.push({ key: isFn ? head[2]! : `${owner}.${head[2]!}`, optional });
  }
  return out;
}

/** A bad value as a failure line shows it. */
export function show(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : String(v);
}

/** Whether a valid argument is a struct: a plain object literal, whose fields are abused one by one. */
function isStruct(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Calls each entry that has a spec with each bad value in each parameter
 * and, where the valid argument is a struct (a plain object), in each of
 * its fields, the rest of the struct valid; records every answer that is
 * neither a thrown refusal (`refused(err)`) nor the spec's refusal result,
 * and every call after which `snap()` reads differently. Entries whose spec
 * is `null` or missing are skipped.
 */
export function abuse(
  entries: readonly ApiEntry[],
  specs: Readonly<Record<string, Spec | null>>,
  snap: () => string,
  refused: (err: unknown) => boolean,
): Tally {
  const t: Tally = { calls: 0, failures: [] };
  const attempt = (spec: Spec, args: unknown[], where: string): void => {
    const before = snap();
    let answer = 'returned';
    t.calls++;
    try {
      const r = spec.call(args);
      if (r instanceof Promise) r.catch(() => undefined);
      if (spec.refusal?.(r) === true) answer = 'refused';
    } catch (err) {
      answer = refused(err) ? 'refused' : `threw ${String(err)}`;
    }
    if (answer !== 'refused') t.failures.push(`${where}: ${answer}`);
    if (snap() !== before) t.failures.push(`${where}: changed the state`);
  };
  for (const e of entries) {
    const spec = specs[e.key];
    if (spec === null || spec === undefined) continue;
    for (let i = 0; i < e.optional.length; i++) {
      for (const v of BAD) {
        if (v === undefined && e.optional[i]) continue;
        if (spec.allow?.(i, v) === true) continue;
        const args = [...spec.args()];
        args[i] = v;
        attempt(spec, args, `${e.key} arg ${i} = ${show(v)}`);
      }
      const valid = spec.args()[i];
      if (!isStruct(valid)) continue;
      for (const field of Object.keys(valid)) {
        for (const v of BAD) {
          if (spec.allowField?.(i, field, v) === true) continue;
          const args = [...spec.args()];
          args[i] = { ...(args[i] as Record<string, unknown>), [field]: v };
          attempt(spec, args, `${e.key} arg ${i}.${field} = ${show(v)}`);
        }
      }
    }
  }
  return t;
}
