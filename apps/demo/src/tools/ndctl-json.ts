/**
 * ndctl's JSON, as json-c builds and prints it (ndctl v72 `util/json.c`,
 * json-c's `json_object_to_json_string_ext(JSON_C_TO_STRING_PRETTY)`).
 *
 * json-c keeps an object's keys in the order they were added, and
 * `json_object_object_add()` of an existing key replaces its value in
 * place. The pretty format indents by two spaces and puts no blank after the
 * colon; an empty array prints as `[` newline `]`:
 *
 * ```
 *   [
 *     {
 *       "dev":"namespace0.0",
 *       "mode":"fsdax",
 *       "map":"dev",
 *       "size":"15.75 GiB (16.91 GB)",
 *       "sector_size":512
 *     }
 *   ]
 * ```
 *
 * A size added with `util_json_object_size()` is an int64 that prints
 * through ndctl's own serializer `display_size()` when the output is
 * "human" (`-u`, or create-namespace on a terminal): plain below 5000 KiB,
 * else `"X.XX MiB (Y.YY MB)"` below 2 GiB and `"X.XX GiB (Y.YY GB)"` above.
 * `util_json_object_hex()` prints `"0x..."` the same way.
 */

/** A JSON value as ndctl builds it. */
export type JsonValue = JsonObject | JsonArray | string | number | bigint | boolean | JsonSize | JsonHex;

/** `json_object_new_array()`. */
export type JsonArray = JsonValue[];

/** An int64 with ndctl's `display_size` serializer attached when `human` (`util_json_object_size()`). */
export class JsonSize {
  readonly value: number;
  readonly human: boolean;
  constructor(value: number, human: boolean) {
    this.value = value;
    this.human = human;
  }
}

/** An int64 with ndctl's `display_hex` serializer attached when `human` (`util_json_object_hex()`). */
export class JsonHex {
  readonly value: number | bigint;
  readonly human: boolean;
  constructor(value: number | bigint, human: boolean) {
    this.value = value;
    this.human = human;
  }
}

/** `json_object_new_object()`: keys in insertion order. */
export class JsonObject {
  private readonly entries: [string, JsonValue][] = [];

  /** `json_object_object_add()`: a new key goes last, an existing one keeps its place. */
  add(key: string, value: JsonValue): this {
    const e = this.entries.find(([k]) => k === key);
    if (e !== undefined) e[1] = value;
    else this.entries.push([key, value]);
    return this;
  }

  /** `json_object_object_get_ex()`. */
  get(key: string): JsonValue | undefined {
    return this.entries.find(([k]) => k === key)?.[1];
  }

  /** The keys and values, in order. */
  items(): readonly (readonly [string, JsonValue])[] {
    return this.entries;
  }
}

/**
 * `display_size()` of util/json.c (adapted from mdadm's
 * `human_size_brief()`): the bytes in centi-MiB/MB below 2 GiB, centi-GiB/GB
 * above, each rounded half up, as a quoted string; below 5000 KiB the plain
 * number.
 *
 * ```
 *   1585444888576  ->  "1476.56 GiB (1585.44 GB)"
 *   65011712       ->  "62.00 MiB (65.01 MB)"
 * ```
 */
export function displaySize(bytes: number): string {
  if (bytes < 5000 * 1024) return String(bytes);
  const two = (n: number): string => String(n % 100).padStart(2, '0');
  let iec: string;
  let jedec: string;
  if (bytes < 2 * 2 ** 30) {
    const cMiB = Math.floor((Math.floor((bytes * 200) / 2 ** 20) + 1) / 2);
    const cMB = Math.floor((Math.floor(bytes / (1000000 / 200)) + 1) / 2);
    iec = `${Math.floor(cMiB / 100)}.${two(cMiB)} MiB`;
    jedec = `${Math.floor(cMB / 100)}.${two(cMB)} MB`;
  } else {
    const cGiB = Math.floor((mulDivFloor(bytes, 200, 2 ** 30) + 1) / 2);
    const cGB = Math.floor((Math.floor(bytes / (1000000000 / 200)) + 1) / 2);
    iec = `${Math.floor(cGiB / 100)}.${two(cGiB)} GiB`;
    jedec = `${Math.floor(cGB / 100)}.${two(cGB)} GB`;
  }
  return `"${iec} (${jedec})"`;
}

/** floor(a * b / c) for integers, exact even where a * b passes 2^53 (C's 64-bit `bytes * 200LL / (1LL << 30)`). */
function mulDivFloor(a: number, b: number, c: number): number {
  return Number((BigInt(a) * BigInt(b)) / BigInt(c));
}

/** json-c's `json_escape_str()`: `"`, `\`, `/` and control characters escaped. */
function escapeString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '/') out += '\\/';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20) out += `\\u00${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** `json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY)` (without a trailing newline). */
export function toJsonString(value: JsonValue): string {
  return serialize(value, 0);
}

function indent(level: number): string {
  return '  '.repeat(level);
}

function serialize(v: JsonValue, level: number): string {
  if (typeof v === 'string') return escapeString(v);
  if (typeof v === 'number') return String(Math.trunc(v));
  if (typeof v === 'bigint') return String(BigInt.asIntN(64, v));
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof JsonSize) return v.human ? displaySize(v.value) : String(v.value);
  if (v instanceof JsonHex) {
    const x = typeof v.value === 'bigint' ? v.value : BigInt(Math.trunc(v.value));
    return v.human ? `"0x${BigInt.asUintN(64, x).toString(16)}"` : String(BigInt.asIntN(64, x));
  }
  if (Array.isArray(v)) {
    let out = '[\n';
    v.forEach((e, i) => {
      if (i > 0) out += ',\n';
      out += indent(level + 1) + serialize(e, level + 1);
    });
    if (v.length > 0) out += '\n';
    return `${out}${indent(level)}]`;
  }
  let out = '{\n';
  v.items().forEach(([k, e], i) => {
    if (i > 0) out += ',\n';
    out += `${indent(level + 1)}${escapeString(k)}:${serialize(e, level + 1)}`;
  });
  if (v.items().length > 0) out += '\n';
  return `${out}${indent(level)}}`;
}

/**
 * `util_display_json_array()`: the array, pretty; but a single element
 * alone when the output is human (`-u`), and nothing for an empty array in
 * that case.
 */
export function displayJsonArray(array: JsonArray, human: boolean): string {
  if (array.length > 1 || !human) return `${toJsonString(array)}\n`;
  if (array.length === 1) return `${toJsonString(array[0]!)}\n`;
  return '';
}

/**
 * `__parse_size64()` of util/size.c: `strtoull(str, 0)` and one of the
 * suffixes k/K, m/M, g/G, t/T (binary). Undefined (ULLONG_MAX) on anything
 * else, and on values beyond the model's exact integers (2^53).
 */
export function parseSize64(str: string): { value: number; units: number } | undefined {
  const m = /^\s*([+-]?)(0[xX][0-9a-fA-F]*|0[0-7]*|[1-9]\d*|)(.*)$/.exec(str);
  if (m === null) return undefined;
  const digits = m[2]!;
  let rest = m[3]!;
  let v: bigint;
  if (digits === '') {
    // strtoull() parsed nothing: the value is 0 and nothing was consumed.
    v = 0n;
    rest = str;
  } else if (/^0[xX]$/.test(digits)) {
    v = 0n;
    rest = digits.slice(1) + rest;
  } else v = BigInt(digits.startsWith('0') && !/^0[xX]/.test(digits) && digits.length > 1 ? `0o${digits.slice(1)}` : digits);
  if (m[1] === '-' && v !== 0n) return undefined;
  let units = 1;
  const suffix = rest[0];
  if (suffix === 'k' || suffix === 'K') units = 2 ** 10;
  else if (suffix === 'm' || suffix === 'M') units = 2 ** 20;
  else if (suffix === 'g' || suffix === 'G') units = 2 ** 30;
  else if (suffix === 't' || suffix === 'T') units = 2 ** 40;
  if (units !== 1) rest = rest.slice(1);
  if (rest !== '') return undefined;
  const total = v * BigInt(units);
  if (total > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return { value: Number(total), units };
}
