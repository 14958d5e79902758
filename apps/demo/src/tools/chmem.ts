/**
 * util-linux `chmem`: set memory online or offline by writing memory
 * blocks' `state` files, the way an administrator would by hand:
 *
 * ```
 *   chmem -e 1G                  online the first 1 GiB worth of offline blocks
 *   chmem -d 0x40000000-0x7fffffff   offline the blocks of that range
 *   chmem -b -e 8-15             online blocks 8 to 15
 *   chmem -e 1G -z Normal        ... into ZONE_NORMAL (online_kernel)
 * ```
 *
 * A SIZE counts blocks: enabling walks the blocks upwards from memory0,
 * disabling downwards from the last, skipping those already in the wanted
 * state, until enough succeeded. A RANGE (or `-b` BLOCKRANGE) names the
 * blocks. Onlining writes `online_movable` when `valid_zones` offers
 * Movable, else `online` (or, with `-z`, `online_movable`/`online_kernel`).
 * Each failure is reported with the errno of the failed write, and the exit
 * status says how it went: 0 all done, 1 nothing done, 64 some done.
 *
 * ```
 *   chmem: Memory Block 9 (0x0000000048000000-0x000000004fffffff) disable failed: Device or resource busy
 *   chmem: Could only disable 256M of memory
 * ```
 *
 * Reproduces sys-utils/chmem.c of util-linux 2.37 (including that the state
 * check compares only the first 6 characters, `online`/`offlin`).
 */
import { errorText } from '../shell/builtins.js';
import { getoptLong, type LongOption } from '../shell/getopt.js';
import { isDigitString, parseSize, sizeToHumanString, strtou64, versionCompare } from './strutils.js';
import { Program, UTIL_LINUX_VERSION, checkExclusive, type ToolIo } from './tool.js';

const PATH_SYS_MEMORY = '/sys/devices/system/memory';

/** `CHMEM_EXIT_SOMEOK`: partial success. */
export const CHMEM_EXIT_SOMEOK = 64;

const ZONE_NAMES = ['DMA', 'DMA32', 'Normal', 'Highmem', 'Movable', 'Device'] as const;
const ZONE_MOVABLE = 4;

const LONGOPTS: readonly LongOption[] = [
  { name: 'blocks', hasArg: 0, val: 'b' },
  { name: 'disable', hasArg: 0, val: 'd' },
  { name: 'enable', hasArg: 0, val: 'e' },
  { name: 'help', hasArg: 0, val: 'h' },
  { name: 'verbose', hasArg: 0, val: 'v' },
  { name: 'version', hasArg: 0, val: 'V' },
  { name: 'zone', hasArg: 1, val: 'z' },
];

const USAGE = `
Usage:
 chmem [options] [SIZE|RANGE|BLOCKRANGE]

Set a particular size or range of memory online or offline.

Options:
 -e, --enable       enable memory
 -d, --disable      disable memory
 -b, --blocks       use memory blocks
 -z, --zone <name>  select memory zone (see below)
 -v, --verbose      verbose output
 -h, --help         display this help
 -V, --version      display version

Supported zones:
${ZONE_NAMES.map((z) => ` ${z}\n`).join('')}
For more details see chmem(8).
`;

interface Desc {
  dirs: string[];
  blockSize: bigint;
  start: bigint;
  end: bigint;
  size: bigint;
  useBlocks: boolean;
  isSize: boolean;
  verbose: boolean;
  haveZones: boolean;
}

/** Runs `chmem args...`; returns its exit status (0, 1, or 64). */
export function chmem(args: readonly string[], io: ToolIo): number {
  const prog = new Program('chmem', io);
  return Program.run(() => chmemMain(prog, args));
}

function chmemMain(prog: Program, args: readonly string[]): number {
  const io = prog.io;
  const desc: Desc = {
    dirs: [],
    blockSize: 0n,
    start: 0n,
    end: 0n,
    size: 0n,
    useBlocks: false,
    isSize: false,
    verbose: false,
    haveZones: false,
  };
  readInfo(prog, desc);

  const parsed = getoptLong(prog.name, args, 'bdehvVz:', LONGOPTS);
  if (!parsed.ok) {
    io.err(`${parsed.message}\n`);
    prog.errtryhelp();
  }
  let cmd: 'enable' | 'disable' | undefined;
  let zone: string | undefined;
  const seen: (string | undefined)[] = [];
  const longName = (o: string): string | undefined => LONGOPTS.find((l) => l.val === o)?.name;
  for (const { opt, arg } of parsed.options) {
    checkExclusive(prog, opt, [['d', 'e']], seen, longName);
    switch (opt) {
      case 'd':
        cmd = 'disable';
        break;
      case 'e':
        cmd = 'enable';
        break;
      case 'b':
        desc.useBlocks = true;
        break;
      case 'v':
        desc.verbose = true;
        break;
      case 'z':
        zone = arg;
        break;
      case 'h':
        io.out(USAGE);
        return 0;
      case 'V':
        io.out(`chmem from ${UTIL_LINUX_VERSION}\n`);
        return 0;
    }
  }
  const param = parsed.operands[0];
  if (args.length === 0 || parsed.operands.length !== 1 || param === undefined || cmd === undefined) {
    prog.warnx('bad usage');
    prog.errtryhelp();
  }
  parseParameter(prog, desc, param);

  let zoneId = -1;
  if (io.fs.exists(`${PATH_SYS_MEMORY}/memory0/valid_zones`)) desc.haveZones = true;
  else if (zone !== undefined) prog.warnx('zone ignored, no valid_zones sysfs attribute present');
  if (zone !== undefined && desc.haveZones) {
    zoneId = ZONE_NAMES.findIndex((z) => z.toLowerCase() === zone.toLowerCase());
    if (zoneId === -1) {
      prog.warnx(`unknown memory zone: ${zone}`);
      prog.errtryhelp();
    }
  }

  const enable = cmd === 'enable';
  const rc = desc.isSize ? chmemSize(prog, desc, enable, zoneId) : chmemRange(prog, desc, enable, zoneId);
  return rc === 0 ? 0 : rc < 0 ? 1 : CHMEM_EXIT_SOMEOK;
}

/** `read_info()`: the memory-block directories and the block size. */
function readInfo(prog: Program, desc: Desc): void {
  const fs = prog.io.fs;
  try {
    desc.dirs = fs.list(PATH_SYS_MEMORY).filter((d) => d.startsWith('memory') && isDigitString(d.slice(6)));
  } catch (e) {
    prog.err(`Failed to read ${PATH_SYS_MEMORY}`, errorText(e));
  }
  if (desc.dirs.length === 0) prog.err(`Failed to read ${PATH_SYS_MEMORY}`, 'Success');
  desc.dirs.sort(versionCompare);
  let line = '';
  try {
    line = fs.read(`${PATH_SYS_MEMORY}/block_size_bytes`);
  } catch {
    // util-linux ignores the read's result and parses whatever it got.
  }
  const hex = /^\s*(0[xX])?([0-9a-fA-F]+)/.exec(line);
  desc.blockSize = hex === null ? 0n : BigInt(`0x${hex[2]}`);
}

/** `strtou64_or_err()` / `strtox64_or_err()`. */
function number(prog: Program, s: string, base: 10 | 16, msg: string): bigint {
  const v = strtou64(s, base);
  if (v !== undefined && v < 2n ** 64n) return v;
  const negative = /^\s*-/.test(s) && strtou64(s.trim().slice(1), base) !== undefined;
  if (negative || v !== undefined) return prog.err(`${msg}: '${s}'`, 'Numerical result out of range');
  return prog.errx(`${msg}: '${s}'`);
}

/** `parse_parameter()`: SIZE, RANGE, or (with -b) BLOCK / BLOCKRANGE. */
function parseParameter(prog: Program, desc: Desc, param: string): void {
  const split = param.split('-').filter((p) => p !== '');
  if (split.length > 2) prog.errx(`Invalid parameter: ${param}`);
  if (split.length === 1) parseSingle(prog, desc, split[0]!);
  else if (split.length === 2) parseRange(prog, desc, split[0]!, split[1]!);
  else prog.errx(`Invalid parameter: ${param}`);
  if (desc.start > desc.end) prog.errx(`Invalid range: ${param}`);
}

function parseSingle(prog: Program, desc: Desc, str: string): void {
  if (desc.useBlocks) {
    desc.start = number(prog, str, 10, 'Failed to parse block number');
    desc.end = desc.start;
    return;
  }
  desc.isSize = true;
  const size = parseSize(str);
  if (size === undefined) prog.err(`Failed to parse size: '${str}'`, 'Invalid argument');
  desc.size = /[0-9]$/.test(str) ? size * 1024n * 1024n : size;
  if (desc.blockSize === 0n || desc.size % desc.blockSize !== 0n) {
    prog.errx(`Size must be aligned to memory block size (${sizeToHumanString(desc.blockSize)})`);
  }
  desc.size /= desc.blockSize;
}

function parseRange(prog: Program, desc: Desc, start: string, end: string): void {
  if (desc.useBlocks) {
    desc.start = number(prog, start, 10, 'Failed to parse start');
    desc.end = number(prog, end, 10, 'Failed to parse end');
    return;
  }
  if (start.length < 2 || start[1] !== 'x') prog.errx(`Invalid start address format: ${start}`);
  if (end.length < 2 || end[1] !== 'x') prog.errx(`Invalid end address format: ${end}`);
  desc.start = number(prog, start, 16, 'Failed to parse start address');
  desc.end = number(prog, end, 16, 'Failed to parse end address');
  if (desc.blockSize === 0n || desc.start % desc.blockSize !== 0n || (desc.end + 1n) % desc.blockSize !== 0n) {
    prog.errx(`Start address and (end address + 1) must be aligned to memory block size (${sizeToHumanString(desc.blockSize)})`);
  }
  desc.start /= desc.blockSize;
  desc.end /= desc.blockSize;
}

/** `idxtostr()`: `Memory Block 9 (0x0000000048000000-0x000000004fffffff)`. */
function idxtostr(desc: Desc, idx: bigint): string {
  const start = idx * desc.blockSize;
  const end = start + desc.blockSize - 1n;
  return `Memory Block ${idx} (0x${start.toString(16).padStart(16, '0')}-0x${end.toString(16).padStart(16, '0')})`;
}

/** `ul_path_read_buffer()`: the text without its trailing newline, or undefined. */
function readLine(prog: Program, path: string): string | undefined {
  try {
    const s = prog.io.fs.read(path);
    return s.endsWith('\n') ? s.slice(0, -1) : s;
  } catch {
    return undefined;
  }
}

/** `ul_path_write_string()`: open and write (no newline); the errno text on failure. */
function writeState(prog: Program, name: string, value: string): string | undefined {
  const path = `${PATH_SYS_MEMORY}/${name}/state`;
  try {
    prog.io.fs.openWrite(path);
    prog.io.fs.write(path, value);
    return undefined;
  } catch (e) {
    return errorText(e);
  }
}

/** `strncmp(onoff, line, 6) == 0`. */
function sameState(onoff: string, line: string | undefined): boolean {
  return line !== undefined && line !== '' && onoff.slice(0, 6) === line.slice(0, 6);
}

/** What to write for an online with the block's valid zones (`line`) and `-z` (`zoneId`). */
function onlineValue(prog: Program, desc: Desc, name: string, enable: boolean, zoneId: number, onoff: string, line: string | undefined): { onoff: string; skip?: 'mismatch'; line: string | undefined } {
  if (!desc.haveZones) return { onoff, line };
  const vz = readLine(prog, `${PATH_SYS_MEMORY}/${name}/valid_zones`) ?? line;
  const text = (vz ?? '').toLowerCase();
  if (zoneId >= 0) {
    const zn = ZONE_NAMES[zoneId]!.toLowerCase();
    if (enable && !text.includes(zn)) return { onoff, skip: 'mismatch', line: vz };
    if (!enable && !text.startsWith(zn)) return { onoff, skip: 'mismatch', line: vz };
    return { onoff, line: vz };
  }
  if (enable) return { onoff: text.includes(ZONE_NAMES[ZONE_MOVABLE].toLowerCase()) ? 'online_movable' : 'online', line: vz };
  return { onoff, line: vz };
}

/** `chmem_size()`: 0 all, 1 some, -1 none. */
function chmemSize(prog: Program, desc: Desc, enable: boolean, zoneId: number): number {
  let size = desc.size;
  let onoff = enable ? 'online' : 'offline';
  if (enable && zoneId >= 0) onoff = zoneId === ZONE_MOVABLE ? 'online_movable' : 'online_kernel';
  const n = desc.dirs.length;
  for (let i = enable ? 0 : n - 1; i >= 0 && i < n && size > 0n; i += enable ? 1 : -1) {
    const name = desc.dirs[i]!;
    const index = BigInt(name.slice(6));
    const line = readLine(prog, `${PATH_SYS_MEMORY}/${name}/state`);
    if (sameState(onoff, line)) continue;
    const z = onlineValue(prog, desc, name, enable, zoneId, onoff, line);
    if (z.skip !== undefined) continue;
    onoff = z.onoff;
    const str = idxtostr(desc, index);
    const failure = writeState(prog, name, onoff);
    if (failure !== undefined) prog.warn(`${str} ${enable ? 'enable' : 'disable'} failed`, failure);
    else if (desc.verbose) prog.io.out(`${str} ${enable ? 'enabled' : 'disabled'}\n`);
    if (failure === undefined) size -= 1n;
  }
  if (size > 0n) {
    const bytes = (desc.size - size) * desc.blockSize;
    prog.warnx(`Could only ${enable ? 'enable' : 'disable'} ${sizeToHumanString(bytes)} of memory`);
  }
  return size === 0n ? 0 : size === desc.size ? -1 : 1;
}

/** `chmem_range()`: 0 all, 1 some, -1 none. */
function chmemRange(prog: Program, desc: Desc, enable: boolean, zoneId: number): number {
  const total = desc.end - desc.start + 1n;
  let todo = total;
  let onoff = enable ? 'online' : 'offline';
  if (enable && zoneId >= 0) onoff = zoneId === ZONE_MOVABLE ? 'online_movable' : 'online_kernel';
  for (const name of desc.dirs) {
    const index = BigInt(name.slice(6));
    if (index < desc.start) continue;
    if (index > desc.end) break;
    const str = idxtostr(desc, index);
    const line = readLine(prog, `${PATH_SYS_MEMORY}/${name}/state`);
    if (sameState(onoff, line)) {
      if (desc.verbose) prog.io.out(`${str} already ${enable ? 'enabled' : 'disabled'}\n`);
      todo -= 1n;
      continue;
    }
    const z = onlineValue(prog, desc, name, enable, zoneId, onoff, line);
    if (z.skip !== undefined) {
      prog.warnx(`${str} ${enable ? 'enable' : 'disable'} failed: Zone mismatch`);
      continue;
    }
    onoff = z.onoff;
    const failure = writeState(prog, name, onoff);
    if (failure !== undefined) prog.warn(`${str} ${enable ? 'enable' : 'disable'} failed`, failure);
    else if (desc.verbose) prog.io.out(`${str} ${enable ? 'enabled' : 'disabled'}\n`);
    if (failure === undefined) todo -= 1n;
  }
  return todo === 0n ? 0 : todo === total ? -1 : 1;
}
