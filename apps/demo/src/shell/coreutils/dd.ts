/**
 * coreutils `dd` and `head`, the two programs a student uses to put bytes
 * on a block device and read them back at an offset:
 *
 * ```
 *   # echo hello > /dev/pmem0                      (the shell: one write at offset 0)
 *   # dd if=/dev/zero of=/dev/pmem0 bs=4096 seek=2 count=1 conv=notrunc
 *   1+0 records in
 *   1+0 records out
 *   4096 bytes (4.1 kB, 4.0 KiB) copied, 0 s, Infinity B/s
 *   # head -c 5 /dev/pmem0
 *   hello
 * ```
 *
 * `dd` without `if=` reads standard input (`echo data | dd of=/dev/pmem0s
 * bs=4096 seek=1` writes one partial record). Both reach the file through
 * `pread`/`pwrite` of the shell's file system
 * (see shell/vfs.ts): a device node in `/dev` gives its bytes at any offset;
 * a sysfs or /proc file is its text.
 *
 * Time. coreutils measures the copy with two readings of the monotonic
 * clock. The model's clock stands still while a command runs (the shell
 * moves it between commands), so both readings are equal and dd prints what
 * coreutils prints for an elapsed time of zero: `0 s, Infinity B/s`. The
 * line is therefore the same on every run.
 *
 * Text goes to the terminal as UTF-8: the bytes a command prints are
 * decoded, and the shell's text written to a device is encoded.
 */
import type { CommandContext, ShellCommand } from '../command.js';
import { stdinOf } from '../context.js';
import { errorText } from '../error-text.js';
import type { VirtualFs } from '../vfs.js';

/** The largest count, skip or block size accepted (coreutils' limit is the C type; ours is exact integers). */
const MAX_NUMBER = Number.MAX_SAFE_INTEGER;

/**
 * `xstrtoumax()` with dd's suffixes (`parse_integer()` of dd.c): a decimal
 * number, an optional multiplier (`c` 1, `w` 2, `b` 512, `kB` 1000, `K`
 * 1024, `MB`, `M`/`MiB`, ... up to `E`), and `x` to multiply two of them
 * (`2x512`). Undefined when the text is not a number or overflows.
 */
export function parseDdNumber(text: string): number | undefined {
  const x = text.indexOf('x');
  if (x > 0) {
    const a = parseDdNumber(text.slice(0, x));
    const b = parseDdNumber(text.slice(x + 1));
    if (a === undefined || b === undefined) return undefined;
    const v = a * b;
    return Number.isSafeInteger(v) ? v : undefined;
  }
  const m = /^(\d+)([A-Za-z]*)$/.exec(text);
  if (m === null) return undefined;
  const n = Number(m[1]);
  const mult = suffixMultiplier(m[2]!, true);
  if (mult === undefined) return undefined;
  const v = n * mult;
  return Number.isSafeInteger(v) && v <= MAX_NUMBER ? v : undefined;
}

/** The multiplier of a size suffix (`K`, `KiB`, `kB`, ...; dd also takes `c` and `w`). */
function suffixMultiplier(suffix: string, dd: boolean): number | undefined {
  if (suffix === '') return 1;
  if (dd && suffix === 'c') return 1;
  if (dd && suffix === 'w') return 2;
  if (suffix === 'b') return 512;
  const powers = 'KMGTPE';
  const letter = suffix[0] === 'k' ? 'K' : suffix[0]!;
  const p = powers.indexOf(letter);
  if (p < 0) return undefined;
  const rest = suffix.slice(1);
  if (rest === '' || rest === 'iB') {
    if (suffix[0] === 'k' && rest === '') return undefined;
    return 1024 ** (p + 1);
  }
  if (rest === 'B') return 1000 ** (p + 1);
  return undefined;
}

/**
 * gnulib's `human_readable()` with the options dd uses
 * (`human_autoscale | human_round_to_nearest | human_space_before_unit |
 * human_SI | human_B`, optionally `human_base_1024`): `512 B`, `4.1 kB`,
 * `4.0 KiB`, `1.1 GB`. One decimal below 10, rounded to nearest (ties to
 * even on the tenths digit), an integer from 10 up.
 */
export function humanReadable(bytes: number, base: 1000 | 1024): string {
  const prefixes = base === 1024 ? ['K', 'M', 'G', 'T', 'P', 'E'] : ['k', 'M', 'G', 'T', 'P', 'E'];
  let amt = bytes;
  let tenths = 0;
  let rounding = 0;
  let exponent = 0;
  while (amt >= base && exponent < prefixes.length) {
    const r10 = (amt % base) * 10 + tenths;
    const r2 = (r10 % base) * 2 + Math.floor(rounding / 2);
    amt = Math.floor(amt / base);
    tenths = Math.floor(r10 / base);
    rounding = r2 < base ? (r2 !== 0 ? 1 : 0) + (rounding !== 0 ? 1 : 0) : 2 + (base < r2 + (rounding % 2) ? 1 : 0);
    exponent++;
  }
  let text: string;
  if (exponent > 0 && amt < 10) {
    if (2 < rounding + (tenths % 2)) {
      tenths++;
      rounding = 0;
      if (tenths === 10) {
        amt++;
        tenths = 0;
      }
    }
    if (amt < 10) {
      text = `${amt}.${tenths}`;
      return `${text} ${unit(exponent, prefixes, base)}`;
    }
  }
  if (5 < tenths + (0 < rounding + (amt % 2) ? 1 : 0)) {
    amt++;
    if (exponent > 0 && amt === base && exponent < prefixes.length) {
      exponent++;
      return `1.0 ${unit(exponent, prefixes, base)}`;
    }
  }
  return `${amt} ${unit(exponent, prefixes, base)}`;
}

function unit(exponent: number, prefixes: readonly string[], base: number): string {
  if (exponent === 0) return 'B';
  return `${prefixes[exponent - 1]!}${base === 1024 ? 'iB' : 'B'}`;
}

/** coreutils' `quote()` in the C locale: 'text'. */
function quote(text: string): string {
  return `'${text}'`;
}

/** What dd was asked for. */
interface DdOperands {
  input: string | undefined;
  output: string | undefined;
  ibs: number;
  obs: number;
  /** bs= given: records are copied as read, without reblocking. */
  bs: boolean;
  count: number | undefined;
  skip: number;
  seek: number;
  notrunc: boolean;
  status: 'default' | 'none' | 'noxfer';
}

/** The conversions dd knows (`conv=`); the demo implements `notrunc` and accepts `fsync`/`fdatasync`. */
const CONVERSIONS = [
  'ascii', 'ebcdic', 'ibm', 'block', 'unblock', 'lcase', 'ucase', 'sparse', 'swab', 'sync',
  'excl', 'nocreat', 'notrunc', 'noerror', 'fdatasync', 'fsync',
];

/** Runs coreutils `dd OPERAND...`; returns its exit status. */
export function dd(ctx: CommandContext): number {
  const fail = (msg: string, tryHelp = false): number => {
    ctx.err(`dd: ${msg}\n`);
    if (tryHelp) ctx.err("Try 'dd --help' for more information.\n");
    return 1;
  };
  const ops: DdOperands = { input: undefined, output: undefined, ibs: 512, obs: 512, bs: false, count: undefined, skip: 0, seek: 0, notrunc: false, status: 'default' };
  let bsValue: number | undefined;
  for (const arg of ctx.args) {
    const eq = arg.indexOf('=');
    if (eq < 0) return fail(`unrecognized operand ${quote(arg)}`, true);
    const name = arg.slice(0, eq);
    const value = arg.slice(eq + 1);
    switch (name) {
      case 'if':
        ops.input = value;
        continue;
      case 'of':
        ops.output = value;
        continue;
      case 'conv':
      case 'iflag':
      case 'oflag': {
        for (const c of value.split(',')) {
          if (name === 'conv' && CONVERSIONS.includes(c)) {
            if (c === 'notrunc') ops.notrunc = true;
            else if (c !== 'fsync' && c !== 'fdatasync') {
              ctx.err(`dd: conv=${c}: conversion not supported by the demo shell\n`);
              return 1;
            }
            continue;
          }
          if (name === 'conv') return fail(`invalid conversion: ${quote(c)}`, true);
          ctx.err(`dd: ${name}=${c}: flag not supported by the demo shell\n`);
          return 1;
        }
        continue;
      }
      case 'status':
        if (value === 'none' || value === 'noxfer') ops.status = value;
        else if (value === 'progress') ops.status = 'default';
        else return fail(`invalid status level: ${quote(value)}`, true);
        continue;
      case 'bs':
      case 'ibs':
      case 'obs':
      case 'cbs':
      case 'count':
      case 'skip':
      case 'seek': {
        const n = parseDdNumber(value);
        const isSize = name === 'bs' || name === 'ibs' || name === 'obs' || name === 'cbs';
        if (n === undefined || (isSize && n === 0)) return fail(`invalid number: ${quote(value)}`);
        if (name === 'bs') bsValue = n;
        else if (name === 'ibs') ops.ibs = n;
        else if (name === 'obs') ops.obs = n;
        else if (name === 'count') ops.count = n;
        else if (name === 'skip') ops.skip = n;
        else if (name === 'seek') ops.seek = n;
        continue;
      }
      default:
        return fail(`unrecognized operand ${quote(arg)}`, true);
    }
  }
  // bs= wins over ibs=/obs=, and then records are copied as read, not reblocked.
  if (bsValue !== undefined) {
    ops.ibs = bsValue;
    ops.obs = bsValue;
    ops.bs = true;
  }
  return copy(ctx, ops);
}

function copy(ctx: CommandContext, ops: DdOperands): number {
  const fs = ctx.fs;
  const inPath = ops.input === undefined ? undefined : ctx.path(ops.input);
  const outPath = ops.output === undefined ? undefined : ctx.path(ops.output);
  // open(): the input first, then the output.
  if (ops.input !== undefined && inPath !== undefined && !fs.exists(inPath)) {
    ctx.err(`dd: failed to open ${quote(ops.input)}: No such file or directory\n`);
    return 1;
  }
  if (ops.input !== undefined && inPath !== undefined && fs.isDir(inPath)) {
    // read() of a directory fails after the open succeeded.
    ctx.err(`dd: error reading ${quote(ops.input)}: Is a directory\n`);
    stats(ctx, ops, { rFull: 0, rPartial: 0, wFull: 0, wPartial: 0, wBytes: 0 });
    return 1;
  }
  if (ops.output !== undefined && outPath !== undefined) {
    try {
      fs.openWrite(outPath);
    } catch (e) {
      ctx.err(`dd: failed to open ${quote(ops.output)}: ${errorText(e)}\n`);
      return 1;
    }
  }
  const counts = { rFull: 0, rPartial: 0, wFull: 0, wPartial: 0, wBytes: 0 };
  let inOff = ops.skip * ops.ibs;
  let outOff = ops.seek * ops.obs;
  if (!Number.isSafeInteger(inOff) || !Number.isSafeInteger(outOff)) {
    ctx.err(`dd: ${quote(ops.output ?? ops.input ?? 'standard input')}: cannot seek: Invalid argument\n`);
    return 1;
  }
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  // Without if=, standard input: the shell's pipe or `<` file, all of it
  // there before dd reads, so each read returns up to ibs bytes of it (and
  // skip= reads past the first blocks, as coreutils does on a pipe).
  const stdin = inPath === undefined ? new TextEncoder().encode(stdinOf(ctx)) : undefined;
  const readBlock = (): Uint8Array => {
    if (stdin !== undefined) return stdin.slice(Math.min(inOff, stdin.length), Math.min(inOff + ops.ibs, stdin.length));
    return preadAll(fs, inPath!, inOff, ops.ibs);
  };
  const writeRecord = (data: Uint8Array): boolean => {
    if (outPath === undefined) {
      ctx.out(new TextDecoder().decode(data));
      counts.wBytes += data.length;
      if (data.length === ops.obs) counts.wFull++;
      else counts.wPartial++;
      return true;
    }
    try {
      const n = pwriteAll(fs, outPath, outOff, data);
      outOff += n;
      counts.wBytes += n;
      if (n < data.length) throw new DdWriteError('No space left on device');
      if (data.length === ops.obs) counts.wFull++;
      else counts.wPartial++;
      return true;
    } catch (e) {
      const text = e instanceof DdWriteError ? e.message : errorText(e);
      ctx.err(`dd: error writing ${quote(ops.output ?? '')}: ${text}\n`);
      return false;
    }
  };
  const flush = (all: boolean): boolean => {
    while (pendingBytes >= ops.obs || (all && pendingBytes > 0)) {
      const joined = concat(pending, pendingBytes);
      const take = Math.min(ops.obs, pendingBytes);
      const rec = joined.subarray(0, take);
      pending = take < joined.length ? [joined.slice(take)] : [];
      pendingBytes -= take;
      if (!writeRecord(rec)) return false;
    }
    return true;
  };
  let ok = true;
  for (let records = 0; ops.count === undefined || records < ops.count; records++) {
    let block: Uint8Array;
    try {
      block = readBlock();
    } catch (e) {
      ctx.err(`dd: error reading ${quote(ops.input ?? '')}: ${errorText(e)}\n`);
      ok = false;
      break;
    }
    if (block.length === 0) break;
    inOff += block.length;
    if (block.length === ops.ibs) counts.rFull++;
    else counts.rPartial++;
    if (ops.bs || ops.ibs === ops.obs) {
      if (!writeRecord(block)) {
        ok = false;
        break;
      }
    } else {
      pending.push(block);
      pendingBytes += block.length;
      if (!flush(false)) {
        ok = false;
        break;
      }
    }
  }
  if (ok && !flush(true)) ok = false;
  stats(ctx, ops, counts);
  return ok ? 0 : 1;
}

class DdWriteError extends Error {}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `pread()` through the shell's file system (device nodes; sysfs and /proc as text). */
function preadAll(fs: VirtualFs, path: string, offset: number, length: number): Uint8Array {
  if (fs.pread !== undefined) return fs.pread(path, offset, length);
  const bytes = new TextEncoder().encode(fs.read(path));
  return bytes.slice(Math.min(offset, bytes.length), Math.min(offset + length, bytes.length));
}

function pwriteAll(fs: VirtualFs, path: string, offset: number, data: Uint8Array): number {
  if (fs.pwrite !== undefined) return fs.pwrite(path, offset, data);
  fs.write(path, new TextDecoder().decode(data));
  return data.length;
}

/** `print_stats()` and `print_xfer_stats()` of dd.c, with an elapsed time of zero (see the file's comment). */
function stats(ctx: CommandContext, ops: DdOperands, c: { rFull: number; rPartial: number; wFull: number; wPartial: number; wBytes: number }): void {
  if (ops.status === 'none') return;
  ctx.err(`${c.rFull}+${c.rPartial} records in\n${c.wFull}+${c.wPartial} records out\n`);
  if (ops.status === 'noxfer') return;
  const si = humanReadable(c.wBytes, 1000);
  const iec = humanReadable(c.wBytes, 1024);
  const lacksPrefix = (s: string): boolean => s[s.length - 2] === ' ';
  const tail = '0 s, Infinity B/s';
  if (lacksPrefix(si)) ctx.err(`${c.wBytes} byte${c.wBytes === 1 ? '' : 's'} copied, ${tail}\n`);
  else if (lacksPrefix(iec)) ctx.err(`${c.wBytes} bytes (${si}) copied, ${tail}\n`);
  else ctx.err(`${c.wBytes} bytes (${si}, ${iec}) copied, ${tail}\n`);
}

/**
 * coreutils `head [-c [-]NUM | -n [-]NUM] [FILE]...`: the first NUM bytes
 * or lines (default 10 lines); with a leading `-`, all but the last NUM
 * bytes. Several files are introduced by `==> FILE <==`.
 */
export function head(ctx: CommandContext): number {
  let mode: 'bytes' | 'lines' = 'lines';
  let num = 10;
  let allBut = false;
  const files: string[] = [];
  const parseNum = (kind: 'bytes' | 'lines', text: string): boolean => {
    const neg = text.startsWith('-');
    const body = neg ? text.slice(1) : text;
    const m = /^(\d+)([A-Za-z]*)$/.exec(body);
    const mult = m === null ? undefined : suffixMultiplier(m[2]!, false);
    const v = m === null || mult === undefined ? undefined : Number(m[1]) * mult;
    if (v === undefined || !Number.isSafeInteger(v)) {
      ctx.err(`head: invalid number of ${kind}: ${quote(text)}\n`);
      return false;
    }
    mode = kind;
    num = v;
    allBut = neg;
    return true;
  };
  const args = ctx.args;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    let kind: 'bytes' | 'lines' | undefined;
    let value: string | undefined;
    if (a === '-c' || a === '-n') {
      kind = a === '-c' ? 'bytes' : 'lines';
      value = args[++i];
      if (value === undefined) {
        ctx.err(`head: option requires an argument -- '${a[1]!}'\nTry 'head --help' for more information.\n`);
        return 1;
      }
    } else if (/^-[cn]./.test(a)) {
      kind = a[1] === 'c' ? 'bytes' : 'lines';
      value = a.slice(2);
    } else if (a.startsWith('--bytes=') || a.startsWith('--lines=')) {
      kind = a.startsWith('--bytes=') ? 'bytes' : 'lines';
      value = a.slice(8);
    } else if (a === '--') {
      files.push(...args.slice(i + 1));
      break;
    } else if (a.startsWith('-') && a !== '-') {
      ctx.err(`head: ${a}: option not supported by the demo shell\n`);
      return 2;
    } else {
      files.push(a);
      continue;
    }
    if (!parseNum(kind, value)) return 1;
  }
  if (files.length === 0) return 0;
  let status = 0;
  files.forEach((f, idx) => {
    const p = ctx.path(f);
    if (!ctx.fs.exists(p)) {
      ctx.err(`head: cannot open ${quote(f)} for reading: No such file or directory\n`);
      status = 1;
      return;
    }
    if (files.length > 1) ctx.out(`${idx > 0 ? '\n' : ''}==> ${f} <==\n`);
    try {
      ctx.out(new TextDecoder().decode(headBytes(ctx.fs, p, mode, num, allBut)));
    } catch (e) {
      ctx.err(`head: error reading ${quote(f)}: ${errorText(e)}\n`);
      status = 1;
    }
  });
  return status;
}

/** The bytes `head` prints of one file, read in 8 KiB chunks as coreutils' `head_bytes()`/`head_lines()` do. */
function headBytes(fs: VirtualFs, path: string, mode: 'bytes' | 'lines', num: number, allBut: boolean): Uint8Array {
  const CHUNK = 8192;
  if (fs.isDir(path)) throw new HeadError('Is a directory');
  if (mode === 'bytes') {
    if (allBut) {
      const size = fs.deviceSize?.(path) ?? new TextEncoder().encode(fs.read(path)).length;
      return preadAll(fs, path, 0, Math.max(0, size - num));
    }
    const parts: Uint8Array[] = [];
    let total = 0;
    while (total < num) {
      const b = preadAll(fs, path, total, Math.min(CHUNK, num - total));
      if (b.length === 0) break;
      parts.push(b);
      total += b.length;
    }
    return concat(parts, total);
  }
  // Lines: up to and including the num-th newline; with allBut, all but the last num lines.
  if (allBut) {
    const all = new TextEncoder().encode(fs.read(path));
    const ends: number[] = [];
    for (let i = 0; i < all.length; i++) if (all[i] === 10 || i === all.length - 1) ends.push(i + 1);
    const keep = ends.length - num;
    return keep <= 0 ? new Uint8Array(0) : all.subarray(0, ends[keep - 1]);
  }
  const parts: Uint8Array[] = [];
  let total = 0;
  let lines = 0;
  while (lines < num) {
    const b = preadAll(fs, path, total, CHUNK);
    if (b.length === 0) break;
    let end = b.length;
    for (let i = 0; i < b.length; i++) {
      if (b[i] === 10 && ++lines === num) {
        end = i + 1;
        break;
      }
    }
    parts.push(b.subarray(0, end));
    total += end;
  }
  return concat(parts, total);
}

class HeadError extends Error {}

/** `dd OPERAND...` as a shell command. */
export const ddCommand: ShellCommand = {
  name: 'dd',
  synopsis: 'dd if=FILE of=FILE [bs= count= skip= seek=]',
  summary: 'copy blocks between files and devices at any offset (coreutils)',
  run: (ctx) => dd(ctx),
};

/** `head -c N|-n N FILE...` as a shell command. */
export const headCommand: ShellCommand = {
  name: 'head',
  synopsis: 'head [-c N|-n N] FILE...',
  summary: 'print the first bytes or lines of files and devices (coreutils)',
  run: (ctx) => head(ctx),
};
