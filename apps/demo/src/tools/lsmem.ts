/**
 * util-linux `lsmem`: the ranges of memory and their online state, read
 * from the memory-block devices in sysfs — the same files on any machine:
 *
 * ```
 *   /sys/devices/system/memory/
 *       block_size_bytes          8000000          (hex: 128 MiB)
 *       memory0/ .. memoryN/      one directory per memory block
 *           state                 online | offline | going-offline
 *           removable             1 | 0
 *           valid_zones           "DMA32 Normal" ...   (ZONES column)
 *           node0 -> ...          a link naming the block's NUMA node (NODE column)
 * ```
 *
 * Blocks are read in `versionsort` order (memory9 before memory10).
 * Consecutive blocks are merged into one line of the table when every
 * column that can differ (STATE, REMOVABLE, NODE, ZONES — those shown, or
 * those named by `--split`) has the same value, unless `--all` lists each
 * block. A REMOVABLE cell is empty for a range that is not online. The
 * summary counts every block as online or offline (`going-offline` counts as
 * offline):
 *
 * ```
 *   RANGE                                 SIZE  STATE REMOVABLE BLOCK
 *   0x0000000000000000-0x000000007fffffff   2G online       yes  0-15
 *
 *   Memory block size:       128M
 *   Total online memory:       2G
 *   Total offline memory:      0B
 * ```
 *
 * Reproduces sys-utils/lsmem.c of util-linux 2.37 (options `-a -b -J -n -o
 * --output-all -P -r -S -s --summary -h -V`), its messages and exit
 * statuses; the table comes from smartcols.ts.
 */
import { getoptLong, type LongOption } from '../shell/getopt.js';
import { printTable, type Column, type TableFormat } from './smartcols.js';
import { isDigitString, sizeToHumanString, versionCompare } from './strutils.js';
import { Program, UTIL_LINUX_VERSION, checkExclusive, type ToolIo } from './tool.js';

const PATH_SYS_MEMORY = '/sys/devices/system/memory';

/** `MEMORY_STATE_*`. */
const State = { Online: 0, Offline: 1, GoingOffline: 2, Unknown: 3 } as const;
type State = (typeof State)[keyof typeof State];

/** lsmem's zone table (`zone_names[]`), in `enum zone_id` order. */
const ZONE_NAMES = ['DMA', 'DMA32', 'Normal', 'Highmem', 'Movable', 'Device', 'None', 'Unknown'] as const;
const ZONE_UNKNOWN = 7;
const MAX_NR_ZONES = 8;

/** The columns, in `coldescs[]` order (their index is the column id). */
const COLUMNS: readonly (Column & { readonly help: string })[] = [
  { name: 'RANGE', widthHint: 0, right: false, jsonType: 'string', help: 'start and end address of the memory range' },
  { name: 'SIZE', widthHint: 5, right: true, jsonType: 'string', help: 'size of the memory range' },
  { name: 'STATE', widthHint: 0, right: true, jsonType: 'string', help: 'online status of the memory range' },
  { name: 'REMOVABLE', widthHint: 0, right: true, jsonType: 'boolean', help: 'memory is removable' },
  { name: 'BLOCK', widthHint: 0, right: true, jsonType: 'string', help: 'memory block number or blocks range' },
  { name: 'NODE', widthHint: 0, right: true, jsonType: 'number', help: 'numa node of memory' },
  { name: 'ZONES', widthHint: 0, right: true, jsonType: 'string', help: 'valid zones for the memory range' },
];
const COL_RANGE = 0;
const COL_SIZE = 1;
const COL_STATE = 2;
const COL_REMOVABLE = 3;
const COL_BLOCK = 4;
const COL_NODE = 5;
const COL_ZONES = 6;

interface MemoryBlock {
  index: bigint;
  count: bigint;
  state: State;
  node: number;
  zones: number[];
  removable: boolean;
}

const LONGOPTS: readonly LongOption[] = [
  { name: 'all', hasArg: 0, val: 'a' },
  { name: 'bytes', hasArg: 0, val: 'b' },
  { name: 'help', hasArg: 0, val: 'h' },
  { name: 'json', hasArg: 0, val: 'J' },
  { name: 'noheadings', hasArg: 0, val: 'n' },
  { name: 'output', hasArg: 1, val: 'o' },
  { name: 'output-all', hasArg: 0, val: 'output-all' },
  { name: 'pairs', hasArg: 0, val: 'P' },
  { name: 'raw', hasArg: 0, val: 'r' },
  { name: 'sysroot', hasArg: 1, val: 's' },
  { name: 'split', hasArg: 1, val: 'S' },
  { name: 'version', hasArg: 0, val: 'V' },
  { name: 'summary', hasArg: 2, val: 'summary' },
];

const USAGE = `
Usage:
 lsmem [options]

List the ranges of available memory with their online status.

Options:
 -J, --json           use JSON output format
 -P, --pairs          use key="value" output format
 -a, --all            list each individual memory block
 -b, --bytes          print SIZE in bytes rather than in human readable format
 -n, --noheadings     don't print headings
 -o, --output <list>  output columns
     --output-all     output all columns
 -r, --raw            use raw output format
 -S, --split <list>   split ranges by specified columns
 -s, --sysroot <dir>  use the specified directory as system root
     --summary[=when] print summary information (never,always or only)

 -h, --help           display this help
 -V, --version        display version

Available output columns:
${COLUMNS.map((c) => ` ${c.name.padStart(10)}  ${c.help}\n`).join('')}
For more details see lsmem(1).
`;

/** `column_name_to_id()`: case-insensitive; warns and returns -1 for an unknown name. */
function columnNameToId(prog: Program, name: string): number {
  const i = COLUMNS.findIndex((c) => c.name.toLowerCase() === name.toLowerCase());
  if (i < 0) prog.warnx(`unknown column: ${name}`);
  return i;
}

/**
 * `string_add_to_idarray()`: a comma-separated list of column names; a
 * leading `+` appends to `ids` instead of replacing them. Returns false on
 * an unknown or empty name.
 */
function addToIdArray(prog: Program, list: string, ids: number[], max: number): boolean {
  const append = list.startsWith('+');
  const names = (append ? list.slice(1) : list).split(',');
  if (!append) ids.length = 0;
  if (names.length === 1 && names[0] === '') return false;
  for (const n of names) {
    if (n === '') return false;
    if (ids.length >= max) return false;
    const id = columnNameToId(prog, n);
    if (id < 0) return false;
    ids.push(id);
  }
  return true;
}

/** Runs `lsmem args...`; returns its exit status. */
export function lsmem(args: readonly string[], io: ToolIo): number {
  const prog = new Program('lsmem', io);
  return Program.run(() => lsmemMain(prog, args));
}

function lsmemMain(prog: Program, args: readonly string[]): number {
  const io = prog.io;
  let wantTable = true;
  let wantSummary = true;
  let format: TableFormat = 'human';
  let noheadings = false;
  let listAll = false;
  let bytes = false;
  let outarg: string | undefined;
  let splitarg: string | undefined;
  let prefix = '';
  let columns: number[] = [];

  const parsed = getoptLong(prog.name, args, 'abhJno:PrS:s:V', LONGOPTS);
  if (!parsed.ok) {
    io.err(`${parsed.message}\n`);
    prog.errtryhelp();
  }
  const excl = [['J', 'P', 'r'], ['S', 'a']];
  const exclSeen: (string | undefined)[] = [];
  const longName = (o: string): string | undefined => LONGOPTS.find((l) => l.val === o)?.name;
  for (const { opt, arg } of parsed.options) {
    checkExclusive(prog, opt, excl, exclSeen, longName);
    switch (opt) {
      case 'a':
        listAll = true;
        break;
      case 'b':
        bytes = true;
        break;
      case 'h':
        io.out(USAGE);
        return 0;
      case 'J':
        format = 'json';
        wantSummary = false;
        break;
      case 'n':
        noheadings = true;
        break;
      case 'o':
        outarg = arg;
        break;
      case 'output-all':
        columns = COLUMNS.map((_, i) => i);
        break;
      case 'P':
        format = 'export';
        wantSummary = false;
        break;
      case 'r':
        format = 'raw';
        wantSummary = false;
        break;
      case 's':
        prefix = arg ?? '';
        break;
      case 'S':
        splitarg = arg;
        break;
      case 'V':
        io.out(`lsmem from ${UTIL_LINUX_VERSION}\n`);
        return 0;
      case 'summary':
        if (arg !== undefined) {
          if (arg === 'never') wantSummary = false;
          else if (arg === 'only') wantTable = false;
          else if (arg === 'always') wantSummary = true;
          else prog.errx('unsupported --summary argument');
        } else {
          wantTable = false;
        }
        break;
    }
  }
  if (parsed.operands.length > 0) {
    prog.warnx('bad usage');
    prog.errtryhelp();
  }
  if (!wantTable && !wantSummary) prog.errx('options --{raw,json,pairs} and --summary=only are mutually exclusive');

  const sysmem = `${prefix.replace(/\/+$/, '')}${PATH_SYS_MEMORY}`;
  const split = { state: false, node: false, removable: false, zones: false };

  if (!wantTable && wantSummary) {
    const info = readInfo(prog, sysmem, listAll, split);
    io.out(summary(info, bytes));
    return 0;
  }

  if (columns.length === 0) columns = [COL_RANGE, COL_SIZE, COL_STATE, COL_REMOVABLE, COL_BLOCK];
  if (outarg !== undefined && !addToIdArray(prog, outarg, columns, COLUMNS.length * 2)) return 1;

  const splitCols: number[] = [];
  if (splitarg !== undefined) {
    if (splitarg.toLowerCase() !== 'none' && !addToIdArray(prog, splitarg, splitCols, COLUMNS.length)) return 1;
  } else {
    splitCols.push(...columns);
  }
  split.state = splitCols.includes(COL_STATE);
  split.node = splitCols.includes(COL_NODE);
  split.removable = splitCols.includes(COL_REMOVABLE);
  split.zones = splitCols.includes(COL_ZONES);

  const info = readInfo(prog, sysmem, listAll, split);
  const tableColumns: Column[] = columns.map((id) => {
    const c = COLUMNS[id]!;
    const jsonType = id === COL_SIZE ? (bytes ? 'number' : 'string') : c.jsonType;
    return { name: c.name, widthHint: c.widthHint, right: c.right, jsonType };
  });
  const lines = info.blocks.map((blk) => columns.map((id) => cell(id, blk, info, bytes)));
  io.out(printTable({ columns: tableColumns, lines, format, noheadings, name: 'memory' }));
  if (wantSummary) io.out(`\n${summary(info, bytes)}`);
  return 0;
}

interface Info {
  blockSize: bigint;
  blocks: MemoryBlock[];
  haveNodes: boolean;
  haveZones: boolean;
  memOnline: bigint;
  memOffline: bigint;
}

function cell(id: number, blk: MemoryBlock, info: Info, bytes: boolean): string {
  switch (id) {
    case COL_RANGE: {
      const start = blk.index * info.blockSize;
      const size = blk.count * info.blockSize;
      return `0x${hex16(start)}-0x${hex16(start + size - 1n)}`;
    }
    case COL_SIZE: {
      const size = blk.count * info.blockSize;
      return bytes ? size.toString() : sizeToHumanString(size);
    }
    case COL_STATE:
      return blk.state === State.Online
        ? 'online'
        : blk.state === State.Offline
          ? 'offline'
          : blk.state === State.GoingOffline
            ? 'on->off'
            : '?';
    case COL_REMOVABLE:
      return blk.state === State.Online ? (blk.removable ? 'yes' : 'no') : '';
    case COL_BLOCK:
      return blk.count === 1n ? blk.index.toString() : `${blk.index}-${blk.index + blk.count - 1n}`;
    case COL_NODE:
      return info.haveNodes ? String(blk.node) : '';
    case COL_ZONES:
      return info.haveZones ? blk.zones.map((z) => ZONE_NAMES[z]!).join('/') : '';
    default:
      return '';
  }
}

function hex16(v: bigint): string {
  return (v < 0n ? v + 2n ** 64n : v).toString(16).padStart(16, '0');
}

function summary(info: Info, bytes: boolean): string {
  const rows: [string, bigint][] = [
    ['Memory block size:', info.blockSize],
    ['Total online memory:', info.memOnline],
    ['Total offline memory:', info.memOffline],
  ];
  return rows
    .map(([label, v]) => `${label.padEnd(23)} ${bytes ? v.toString().padStart(15) : sizeToHumanString(v).padStart(5)}\n`)
    .join('');
}

/** `ul_path_read_string()`: the file's text without its trailing newline, or undefined. */
function readString(prog: Program, path: string): string | undefined {
  try {
    const s = prog.io.fs.read(path);
    return s.endsWith('\n') ? s.slice(0, -1) : s;
  } catch {
    return undefined;
  }
}

/** `memory_block_get_node()`: the N of the first `nodeN` entry in the block's directory, or -1. */
function blockNode(prog: Program, sysmem: string, name: string): number {
  let entries: string[];
  try {
    entries = prog.io.fs.list(`${sysmem}/${name}`);
  } catch (e) {
    return prog.err(`Failed to open ${name}`, strerrorOf(e));
  }
  for (const d of entries) {
    if (d.startsWith('node') && isDigitString(d.slice(4))) return Number(d.slice(4));
  }
  return -1;
}

function strerrorOf(e: unknown): string {
  return typeof e === 'object' && e !== null && 'strerror' in e ? String((e as { strerror: unknown }).strerror) : String(e);
}

/** `read_basic_info()` and `read_info()`: the blocks, merged as the split policy allows. */
function readInfo(
  prog: Program,
  sysmem: string,
  listAll: boolean,
  split: { state: boolean; node: boolean; removable: boolean; zones: boolean },
): Info {
  const fs = prog.io.fs;
  if (!fs.exists(`${sysmem}/block_size_bytes`)) prog.errx('This system does not support memory blocks');
  let dirs: string[];
  try {
    dirs = fs.list(sysmem).filter((d) => d.startsWith('memory') && isDigitString(d.slice(6)));
  } catch (e) {
    return prog.err(`Failed to read ${sysmem}`, strerrorOf(e));
  }
  dirs.sort(versionCompare);
  if (dirs.length === 0) prog.err(`Failed to read ${sysmem}`, 'Success');
  const haveNodes = blockNode(prog, sysmem, dirs[0]!) !== -1;
  const haveZones = fs.exists(`${sysmem}/memory0/valid_zones`);

  const bs = readString(prog, `${sysmem}/block_size_bytes`);
  if (bs === undefined || bs === '') prog.err('failed to read memory block size', 'No such file or directory');
  const hex = /^\s*(0[xX])?([0-9a-fA-F]+)/.exec(bs);
  const blockSize = hex === null ? 0n : BigInt(`0x${hex[2]}`);

  const info: Info = { blockSize, blocks: [], haveNodes, haveZones, memOnline: 0n, memOffline: 0n };
  for (const name of dirs) {
    const blk: MemoryBlock = { index: BigInt(name.slice(6)), count: 1n, state: State.Unknown, node: 0, zones: [], removable: false };
    const rem = readString(prog, `${sysmem}/${name}/removable`);
    const remMatch = rem === undefined ? null : /^\s*([+-]?[0-9]+)/.exec(rem);
    if (remMatch !== null) blk.removable = Number(remMatch[1]) === 1;
    const state = readString(prog, `${sysmem}/${name}/state`);
    if (state === 'offline') blk.state = State.Offline;
    else if (state === 'online') blk.state = State.Online;
    else if (state === 'going-offline') blk.state = State.GoingOffline;
    if (haveNodes) blk.node = blockNode(prog, sysmem, name);
    if (haveZones) {
      const vz = readString(prog, `${sysmem}/${name}/valid_zones`);
      if (vz !== undefined && vz !== '') {
        for (const token of vz.split(' ').filter((t) => t !== '').slice(0, MAX_NR_ZONES)) {
          const z = ZONE_NAMES.findIndex((n) => n.toLowerCase() === token.toLowerCase());
          blk.zones.push(z < 0 ? ZONE_UNKNOWN : z);
        }
      }
    }
    if (blk.state === State.Online) info.memOnline += blockSize;
    else info.memOffline += blockSize;
    const prev = info.blocks[info.blocks.length - 1];
    if (prev !== undefined && isMergeable(prev, blk, listAll, split, info)) {
      prev.count += 1n;
      continue;
    }
    info.blocks.push(blk);
  }
  return info;
}

/** `is_mergeable()`: whether `blk` continues the range `curr`. */
function isMergeable(
  curr: MemoryBlock,
  blk: MemoryBlock,
  listAll: boolean,
  split: { state: boolean; node: boolean; removable: boolean; zones: boolean },
  info: Info,
): boolean {
  if (listAll) return false;
  if (curr.index + curr.count !== blk.index) return false;
  if (split.state && curr.state !== blk.state) return false;
  if (split.removable && curr.removable !== blk.removable) return false;
  if (split.node && info.haveNodes && curr.node !== blk.node) return false;
  if (split.zones && info.haveZones) {
    if (curr.zones.length !== blk.zones.length) return false;
    for (let i = 0; i < curr.zones.length; i++) {
      if (curr.zones[i] === ZONE_UNKNOWN || curr.zones[i] !== blk.zones[i]) return false;
    }
  }
  return true;
}
