/**
 * `ndctl` v72 (pmem/ndctl `ndctl/ndctl.c`, `ndctl/list.c`,
 * `ndctl/namespace.c`, `ndctl/region.c`, `util/json.c`, `util/filter.c`):
 * the commands that show and reconfigure libnvdimm's buses, regions and
 * namespaces.
 *
 * ```
 *   ndctl list [-BDRNiuvX] [-b BUS] [-r REGION] [-d DIMM] [-n NAMESPACE] [-m MODE] [-t TYPE] [-U NODE]
 *   ndctl create-namespace [-e NAMESPACE -f] [-m fsdax|devdax|sector|raw] [-M mem|dev] [-a ALIGN] [-s SIZE] [-r REGION] ...
 *   ndctl destroy-namespace|disable-namespace|enable-namespace NAMESPACE|all [-r REGION] [-b BUS] [-v]
 *   ndctl disable-region|enable-region REGION|all [-b BUS] [-t TYPE]
 *   ndctl check-namespace NAMESPACE|all [-R] [-L] [-f] [-r REGION] [-b BUS] [-v]
 *   ndctl clear-errors NAMESPACE|all [-s] [-r REGION] [-b BUS] [-v]
 *   ndctl start-scrub|wait-scrub [BUS...|all] [-p SECONDS] [-v]
 *   ndctl read-labels|init-labels NMEM|all ...   (ndctl-labels.ts)
 * ```
 *
 * Everything goes through sysfs (see ndctl-lib.ts), in ndctl's order, and
 * every message is ndctl's. A command's exit status is ndctl's: its
 * negative return value modulo 256 (-ENXIO exits 250), 129 after a usage
 * error.
 *
 * The demo's shell is not a terminal, so `create-namespace` prints sizes
 * as numbers, as ndctl does when its output is piped; `-u` asks `list` for
 * human units. `ndctl COMMAND --help` shows the option summary (ndctl would
 * open the man page).
 */
import { KernelError, isKernelError, strerror } from '@zonedev/kernel';
import { ND_CMD_ARS_CAP, ND_CMD_CLEAR_ERROR, ndctlCheckNamespace, ndctlInitLabels } from '@zonedev/libnvdimm';
import type { NdBusCommand, NdBusCommandResult, NdMedia } from '@zonedev/libnvdimm';
import type { ShellCommand } from '../shell/command.js';
import type { VirtualFs } from '../shell/vfs.js';
import { displayJsonArray, JsonHex, JsonObject, JsonSize, parseSize64, toJsonString, type JsonArray } from './ndctl-json.js';
import {
  NdctlCtx,
  ND_DEVICE_NAMESPACE_IO,
  ND_DEVICE_NAMESPACE_PMEM,
  ND_DEVICE_REGION_BLK,
  ND_DEVICE_REGION_PMEM,
  ULLONG_MAX,
  type NdBus,
  type NdNamespace,
  type NdPfn,
  type NdRegion,
  type NsMode,
  type PfnLoc,
} from './ndctl-lib.js';
import { ndctlError, NdctlUsageExit, parseNdctlOptions, usageWithOptions, type NdctlOption } from './ndctl-options.js';
import { cmdInitLabels, cmdReadLabels, configArea, dimmIsActive } from './ndctl-labels.js';
import { cmdInjectError } from './ndctl-inject.js';

/** The ndctl release whose behaviour this reproduces (`ndctl --version`). */
export const NDCTL_VERSION = '72';

/** What ndctl needs from the machine it runs on. */
export interface NdctlIo {
  readonly fs: VirtualFs;
  out(text: string): void;
  err(text: string): void;
  /** `n` random bytes (libuuid reads /dev/urandom). */
  random(n: number): Uint8Array;
  /** `sysconf(_SC_PAGE_SIZE)`. */
  readonly pageSize: number;
  /**
   * An ioctl on `/dev/ndctlN` of the bus `ndbusN` (ARS_CAP, CLEAR_ERROR):
   * its output, or the KernelError of the ioctl. Without it no bus command
   * can be sent.
   */
  busCommand?(bus: string, command: NdBusCommand): NdBusCommandResult;
  /** Sleeps `ns` nanoseconds of the machine's clock (`poll()` with a timeout). Without it ndctl cannot wait. */
  sleep?(ns: number): void;
}

const SZ_16M = 16 * 2 ** 20;
const SZ_2M = 2 * 2 ** 20;
const UINT_MAX = 2 ** 32 - 1;

/** errno numbers ndctl returns. */
const ENOENT = 2;
const ENXIO = 6;
const EAGAIN = 11;
const EBUSY = 16;
const ENODEV = 19;
const EINVAL = 22;
const ENOSPC = 28;
const ENOTTY = 25;
const EOPNOTSUPP = 95;
const ETIMEDOUT = 110;

/** `util_nsmode()`: the mode a `-m` word names. */
function utilNsmode(mode: string | undefined): NsMode {
  if (mode === undefined) return 'unknown';
  if (mode === 'memory' || mode === 'fsdax') return 'memory';
  if (mode === 'sector' || mode === 'safe') return 'safe';
  if (mode === 'dax' || mode === 'devdax') return 'dax';
  if (mode === 'raw') return 'raw';
  return 'unknown';
}

/** `util_nsmode_name()`. */
function nsmodeName(mode: NsMode): string {
  return mode === 'memory' ? 'fsdax' : mode === 'dax' ? 'devdax' : mode === 'safe' ? 'sector' : mode === 'raw' ? 'raw' : 'unknown';
}


function isPowerOf2(n: number): boolean {
  if (n <= 0) return false;
  let x = n;
  while (x % 2 === 0) x /= 2;
  return x === 1;
}

/** One run of ndctl: its library context, its stderr and the `err()` count of namespace.c. */
class Run {
  readonly io: NdctlIo;
  readonly ctx: NdctlCtx;
  errCount = 0;
  cmdName = 'namespace';

  constructor(io: NdctlIo) {
    this.io = io;
    this.ctx = new NdctlCtx(io.fs, (t) => io.err(t), (n) => io.random(n));
  }

  /** `error()`. */
  error(msg: string): void {
    this.io.err(ndctlError(msg));
  }
  /** namespace.c's `err()`: counted, and prefixed with the command's name. */
  err(msg: string): void {
    this.errCount++;
    this.error(`${this.cmdName}: ${msg}`);
  }
  /** namespace.c's `debug()`, printed with `-v`. */
  debug(fn: string, msg: string): void {
    if (this.ctx.debug) this.io.err(`${fn}: ${msg}`);
  }

  /**
   * The O_EXCL open of /dev/BDEV that `ndctl_namespace_disable_safe()`
   * makes to be sure nothing has the disk mounted. The demo has no file
   * systems to mount, so the open always succeeds.
   */
  exclusiveOpen(_bdev: string): number {
    return 0;
  }
}

// ---------------------------------------------------------------------------
// util/filter.c

/** `util_bus_filter()`. */
function busFilter(bus: NdBus, ident: string | undefined): boolean {
  if (ident === undefined) return true;
  const id = strtoulWhole(ident);
  for (const name of ident.split(' ').filter((x) => x !== '')) {
    if (name === 'all') return true;
    if (id !== undefined && id === bus.id) return true;
    if (id === undefined && (bus.provider() === name || bus.devname === name)) return true;
  }
  return false;
}

/** `util_region_filter()`. (The number is parsed from the whole argument, as the C code does.) */
function regionFilter(region: NdRegion, ident: string | undefined): boolean {
  if (ident === undefined) return true;
  const id = strtoulWhole(ident);
  for (const name of ident.split(' ').filter((x) => x !== '')) {
    if (name === 'all') return true;
    if (id !== undefined && id === region.id) return true;
    if (id === undefined && region.devname === name) return true;
  }
  return false;
}

/** `util_namespace_filter()`: a name, `R.N`, or `all`. */
function namespaceFilter(ns: NdNamespace, ident: string | undefined): boolean {
  if (ident === undefined) return true;
  for (const name of ident.split(' ').filter((x) => x !== '')) {
    if (name === 'all' || name === ns.devname) return true;
    const m = /^(-?\d+)\.(-?\d+)/.exec(name);
    if (m !== null && Number(m[1]) === ns.region.id && Number(m[2]) === ns.id) return true;
  }
  return false;
}

/** `strtoul(ident, &end, 0)` that must consume the whole string. */
function strtoulWhole(s: string): number | undefined {
  const m = /^\s*(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)$/.exec(s);
  if (m === null) return undefined;
  const d = m[1]!;
  return /^0[xX]/.test(d) ? parseInt(d.slice(2), 16) : d.length > 1 && d.startsWith('0') ? parseInt(d, 8) : Number(d);
}

function busHasRegion(bus: NdBus, ident: string | undefined): boolean {
  if (ident === undefined || ident === 'all') return true;
  return bus.regions().some((r) => regionFilter(r, ident));
}

function busHasNamespace(bus: NdBus, ident: string | undefined): boolean {
  if (ident === undefined || ident === 'all') return true;
  return bus.regions().some((r) => r.namespaces().some((n) => namespaceFilter(n, ident)));
}

function regionHasNamespace(region: NdRegion, ident: string | undefined): boolean {
  if (ident === undefined || ident === 'all') return true;
  return region.namespaces().some((n) => namespaceFilter(n, ident));
}

/** DIMM filters: the e820 and of_pmem buses have no DIMMs, so a `-d` filter leaves nothing of them. */
function busHasDimm(bus: NdBus, ident: string | undefined): boolean {
  if (ident === undefined || ident === 'all') return true;
  return bus.dimms().some((d) => dimmMatches(d, ident));
}

function dimmMatches(devname: string, ident: string): boolean {
  const id = strtoulWhole(ident);
  for (const name of ident.split(' ').filter((x) => x !== '')) {
    if (name === 'all') return true;
    if (id !== undefined && `nmem${id}` === devname) return true;
    if (id === undefined && devname === name) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// util/json.c

interface JsonFlags {
  human: boolean;
  verbose: boolean;
  dax: boolean;
  mediaErrors: boolean;
}

/** `util_bus_to_json()`. */
function busToJson(bus: NdBus): JsonObject {
  const j = new JsonObject().add('provider', bus.provider()).add('dev', bus.devname);
  const scrub = bus.scrubState();
  if (scrub !== undefined) j.add('scrub_state', scrub ? 'active' : 'idle');
  return j;
}

/** Sum of the lengths in a `badblocks` list (`util_region_badblocks_to_json()`), and the JSON records for `-M`. */
function badblocksJson(lines: readonly string[], flags: JsonFlags, from = 0, to = ULLONG_MAX): { count: number; json: JsonArray | undefined } {
  let count = 0;
  const json: JsonArray = [];
  for (const l of lines) {
    const [off, len] = l.split(/\s+/).map(Number) as [number, number];
    if (off + len <= from || off >= to) continue;
    count += len;
    if (flags.mediaErrors) json.push(new JsonObject().add('offset', off - from).add('length', len));
  }
  return { count, json: flags.mediaErrors && count > 0 ? json : undefined };
}

/**
 * `util_dimm_to_json()`: dev, id, handle, phys_id, state, the failure flags
 * and security, each only when the DIMM's sysfs has it (`nmemN/nfit/*`,
 * `nmemN/security`).
 */
function dimmToJson(ctx: NdctlCtx, devname: string): JsonObject {
  const path = `/sys/bus/nd/devices/${devname}`;
  const j = new JsonObject().add('dev', devname);
  const id = ctx.read(`${path}/nfit/id`);
  if (id !== undefined) j.add('id', id);
  const handle = ctx.read(`${path}/nfit/handle`);
  if (handle !== undefined) j.add('handle', strtoulWhole(handle) ?? 0);
  const physId = ctx.read(`${path}/nfit/phys_id`);
  if (physId !== undefined) j.add('phys_id', strtoulWhole(physId) ?? 0);
  if (!ctx.isEnabled(path)) j.add('state', 'disabled');
  // parse_nfit_mem_flags(): the words of nfit/flags, each followed by a blank as the kernel prints them.
  const flags = (ctx.read(`${path}/nfit/flags`) ?? '').split(' ');
  flags.pop();
  const named: readonly [string, string][] = [
    ['map_fail', 'flag_failed_map'], ['save_fail', 'flag_failed_save'], ['not_armed', 'flag_failed_arm'],
    ['restore_fail', 'flag_failed_restore'], ['flush_fail', 'flag_failed_flush'], ['smart_event', 'flag_smart_event'],
  ];
  for (const [word, key] of named) if (flags.includes(word)) j.add(key, true);
  const security = ctx.read(`${path}/security`);
  if (security !== undefined && ['disabled', 'unlocked', 'locked', 'frozen', 'overwrite'].includes(security)) j.add('security', security);
  return j;
}

/** `region_to_json()` of ndctl/list.c. */
function regionToJson(region: NdRegion, flags: JsonFlags, capabilities: boolean): JsonObject {
  const j = new JsonObject().add('dev', region.devname).add('size', new JsonSize(region.size(), flags.human));
  const align = region.align();
  if (align < ULLONG_MAX) j.add('align', new JsonSize(align, flags.human));
  j.add('available_size', new JsonSize(region.availableSize(), flags.human));
  const extent = region.maxAvailableExtent();
  if (extent !== ULLONG_MAX) j.add('max_available_extent', new JsonSize(extent, flags.human));
  j.add('type', region.type() === ND_DEVICE_REGION_PMEM ? 'pmem' : 'blk');
  if (region.numaNode() >= 0 && flags.verbose) j.add('numa_node', region.numaNode());
  if (region.targetNode() >= 0 && flags.verbose) j.add('target_node', region.targetNode());
  const cookie = region.isetCookie();
  if (cookie !== undefined) j.add('iset_id', new JsonHex(cookie, flags.human));
  if (!region.isEnabled()) j.add('state', 'disabled');
  const bb = badblocksJson(region.badblocks(), flags);
  if (bb.count > 0) j.add('badblock_count', bb.count);
  if (bb.json !== undefined) j.add('badblocks', bb.json);
  if (capabilities) {
    const caps: JsonArray = [];
    const pfn = region.pfnSeed();
    const dax = region.daxSeed();
    const btt = region.bttSeed();
    if (btt !== undefined) caps.push(new JsonObject().add('mode', 'sector').add('sector_sizes', btt.sectorSizes().sizes));
    if (pfn !== undefined) caps.push(new JsonObject().add('mode', 'fsdax').add('alignments', pfn.supportedAlignments()));
    if (dax !== undefined) caps.push(new JsonObject().add('mode', 'devdax').add('alignments', dax.supportedAlignments()));
    if (caps.length > 0) j.add('capabilities', caps);
  }
  j.add('persistence_domain', region.persistenceDomain());
  return j;
}

/** `util_namespace_to_json()`. */
function namespaceToJson(ns: NdNamespace, flags: JsonFlags): JsonObject | undefined {
  const j = new JsonObject().add('dev', ns.devname);
  const btt = ns.btt();
  const dax = ns.dax();
  const pfn = ns.pfn();
  const mode = ns.mode();
  let size = ULLONG_MAX;
  let loc: PfnLoc = 'none';
  if (mode === 'memory') {
    if (pfn !== undefined) {
      size = pfn.size();
      loc = pfn.location();
    } else {
      size = ns.size();
      loc = 'ram';
    }
    j.add('mode', 'fsdax');
  } else if (mode === 'dax') {
    if (dax === undefined) return undefined;
    size = dax.size();
    j.add('mode', 'devdax');
    loc = dax.location();
  } else if (mode === 'safe') {
    if (btt === undefined) return undefined;
    j.add('mode', 'sector');
    size = btt.size();
  } else if (mode === 'raw') {
    size = ns.size();
    j.add('mode', 'raw');
  }
  if (mode !== 'safe' && mode !== 'raw') j.add('map', loc === 'ram' ? 'mem' : loc === 'pmem' ? 'dev' : 'none');
  if (size < ULLONG_MAX) j.add('size', new JsonSize(size, flags.human));
  let bdev = '';
  let align = 0;
  const rawUuid = (): void => {
    const u = ns.uuid();
    if (flags.verbose && u !== undefined && !/^[0-]+$/.test(u)) j.add('raw_uuid', u);
  };
  if (btt !== undefined) {
    j.add('uuid', btt.uuid());
    rawUuid();
    bdev = btt.blockDevice();
  } else if (pfn !== undefined) {
    align = pfn.align();
    j.add('uuid', pfn.uuid());
    rawUuid();
    bdev = pfn.blockDevice();
  } else if (dax !== undefined) {
    align = dax.align();
    j.add('uuid', dax.uuid());
    rawUuid();
    const chardev = daxChardev(ns, dax);
    if (flags.dax && chardev !== undefined) {
      j.add('daxregion', daxRegionJson(ns, dax, chardev, flags));
    } else if (chardev !== undefined) j.add('chardev', chardev.name);
  } else if (ns.type() !== ND_DEVICE_NAMESPACE_IO) {
    j.add('uuid', ns.uuid() ?? '00000000-0000-0000-0000-000000000000');
    bdev = ns.blockDevice();
  } else bdev = ns.blockDevice();
  let sectorSize = UINT_MAX;
  if (btt !== undefined) sectorSize = btt.sectorSizes().selected ?? 0;
  else if (dax === undefined) {
    sectorSize = ns.sectorSizes().selected ?? 0;
    if (sectorSize === 0 || sectorSize === UINT_MAX) sectorSize = 512;
  }
  if (sectorSize < UINT_MAX) j.add('sector_size', sectorSize);
  if (align !== 0) j.add('align', align);
  if (bdev !== '') j.add('blockdev', bdev);
  if (!ns.isActive()) j.add('state', 'disabled');
  const name = ns.altName();
  if (name !== '') j.add('name', name);
  if (ns.numaNode() >= 0 && flags.verbose) j.add('numa_node', ns.numaNode());
  if (ns.targetNode() >= 0 && flags.verbose) j.add('target_node', ns.targetNode());
  let bb: { count: number; json: JsonArray | undefined };
  if (pfn !== undefined || dax !== undefined) {
    const claim = (pfn ?? dax)!;
    const res = claim.resource();
    const base = ns.region.resource();
    const from = res < ULLONG_MAX && base < ULLONG_MAX ? (res - base) / 512 : 0;
    const to = claim.size() < ULLONG_MAX ? from + claim.size() / 512 : ULLONG_MAX;
    bb = badblocksJson(ns.region.badblocks(), flags, from, to);
  } else bb = badblocksJson(ns.region.badblocks(), flags);
  if (bb.count > 0) j.add('badblock_count', bb.count);
  if (bb.json !== undefined) j.add('badblocks', bb.json);
  return j;
}

/** The device-dax instance of an nd dax device (`/sys/bus/nd/devices/daxR.N/daxR.M`), while it is enabled. */
function daxChardev(ns: NdNamespace, dax: NdPfn): { name: string; path: string } | undefined {
  const names = ns.ctx.list(dax.path).filter((n) => /^dax\d+\.\d+$/.test(n));
  const name = names[0];
  return name === undefined ? undefined : { name, path: `${dax.path}/${name}` };
}

/** `util_daxctl_region_to_json()` with its one device (`util_daxctl_dev_to_json()`), as create-namespace prints it. */
function daxRegionJson(ns: NdNamespace, dax: NdPfn, dev: { name: string; path: string }, flags: JsonFlags): JsonObject {
  const ctx = ns.ctx;
  const read = (p: string): string | undefined => ctx.read(p);
  const n = (t: string | undefined): number => (t === undefined ? 0 : Number(t.startsWith('0x') ? parseInt(t, 16) : t));
  const region = `${dax.path}/dax_region`;
  const j = new JsonObject().add('id', n(read(`${region}/id`))).add('size', new JsonSize(n(read(`${region}/size`)), flags.human));
  const avail = n(read(`${region}/available_size`));
  if (avail !== 0) j.add('available_size', new JsonSize(avail, flags.human));
  j.add('align', n(read(`${region}/align`)));
  const d = new JsonObject().add('chardev', dev.name).add('size', new JsonSize(n(read(`${dev.path}/size`)), flags.human));
  const target = read(`${dev.path}/target_node`);
  if (target !== undefined && n(target) >= 0) d.add('target_node', n(target));
  d.add('align', n(read(`${dev.path}/align`)));
  d.add('mode', 'devdax');
  j.add('devices', [d]);
  return j;
}

// ---------------------------------------------------------------------------
// ndctl list

const LIST_OPTIONS: readonly NdctlOption[] = [
  { short: 'b', long: 'bus', type: 'string', argh: 'bus-id', help: 'filter by bus' },
  { short: 'r', long: 'region', type: 'string', argh: 'region-id', help: 'filter by region' },
  { short: 'd', long: 'dimm', type: 'string', argh: 'dimm-id', help: 'filter by dimm' },
  { short: 'n', long: 'namespace', type: 'string', argh: 'namespace-id', help: 'filter by namespace id' },
  { short: 'm', long: 'mode', type: 'string', argh: 'namespace-mode', help: 'filter by namespace mode' },
  { short: 't', long: 'type', type: 'string', argh: 'region-type', help: 'filter by region-type' },
  { short: 'U', long: 'numa-node', type: 'string', argh: 'numa node', help: 'filter by numa node' },
  { short: 'B', long: 'buses', type: 'boolean', help: 'include bus info' },
  { short: 'D', long: 'dimms', type: 'boolean', help: 'include dimm info' },
  { short: 'F', long: 'firmware', type: 'boolean', help: 'include firmware info' },
  { short: 'H', long: 'health', type: 'boolean', help: 'include dimm health' },
  { short: 'R', long: 'regions', type: 'boolean', help: 'include region info' },
  { short: 'N', long: 'namespaces', type: 'boolean', help: 'include namespace info (default)' },
  { short: 'X', long: 'device-dax', type: 'boolean', help: 'include device-dax info' },
  { short: 'C', long: 'capabilities', type: 'boolean', help: 'include region capability info' },
  { short: 'i', long: 'idle', type: 'boolean', help: 'include idle devices' },
  { short: 'c', long: 'configured', type: 'boolean', help: 'include configured namespaces, disabled or not' },
  { short: 'M', long: 'media-errors', type: 'boolean', help: 'include media errors' },
  { short: 'u', long: 'human', type: 'boolean', help: 'use human friendly number formats ' },
  { short: 'v', long: 'verbose', type: 'incr', help: 'increase output detail' },
];

/** `cmd_list()`. */
function cmdList(run: Run, args: readonly string[]): number {
  const usage = ['ndctl list [<options>]'];
  const o = parseNdctlOptions(args, LIST_OPTIONS, usage);
  const str = (k: string): string | undefined => o.values.get(k) as string | undefined;
  const bool = (k: string): boolean => o.values.get(k) === true;
  if (o.operands.length > 0) {
    for (const a of o.operands) run.error(`unknown parameter "${a}"\n`);
    throw new NdctlUsageExit(usageWithOptions(usage, LIST_OPTIONS));
  }
  const param = { bus: str('bus'), region: str('region'), dimm: str('dimm'), namespace: str('namespace'), mode: str('mode'), type: str('type'), numaNode: str('numa-node') };
  const list = {
    buses: bool('buses'), dimms: bool('dimms'), regions: bool('regions'), namespaces: bool('namespaces'),
    idle: bool('idle'), health: bool('health'), dax: bool('device-dax'), mediaErrors: bool('media-errors'),
    human: bool('human'), firmware: bool('firmware'), capabilities: bool('capabilities'), configured: bool('configured'),
    verbose: (o.values.get('verbose') as number | undefined) ?? 0,
  };
  const numFlags = (): number => Number(list.buses) + Number(list.dimms) + Number(list.regions) + Number(list.namespaces);
  if (numFlags() === 0) {
    list.buses = param.bus !== undefined;
    list.regions = param.region !== undefined;
    list.dimms = param.dimm !== undefined;
    if (list.dax && param.mode === undefined) param.mode = 'dax';
  }
  if (list.verbose >= 3) {
    list.idle = true;
    list.firmware = true;
    list.health = true;
    list.capabilities = true;
  }
  if (list.verbose >= 2) {
    list.dimms = true;
    list.buses = true;
    list.regions = true;
  }
  if (list.verbose >= 1) {
    list.mediaErrors = true;
    list.namespaces = true;
    list.dax = true;
  }
  if (numFlags() === 0) list.namespaces = true;
  const flags: JsonFlags = { human: list.human, verbose: list.verbose > 0, dax: list.dax, mediaErrors: list.mediaErrors };

  // util_filter_walk()
  if (param.type !== undefined && param.type !== 'pmem' && param.type !== 'blk') {
    run.error(`unknown type "${param.type}" must be "pmem" or "blk"\n`);
    return -EINVAL;
  }
  const type = param.type === undefined ? 0 : param.type === 'pmem' ? ND_DEVICE_REGION_PMEM : ND_DEVICE_REGION_BLK;
  if (param.mode !== undefined && utilNsmode(param.mode) === 'unknown') {
    run.error(`invalid mode: '${param.mode}'\n`);
    return -EINVAL;
  }
  let numaNode = -1;
  if (param.numaNode !== undefined && param.numaNode !== 'all') {
    if (!run.io.fs.exists('/sys/devices/system/node')) {
      run.error('This system does not support NUMA');
      return -EINVAL;
    }
    const m = /^\s*([+-]?(?:0[xX][0-9a-fA-F]+|\d+))$/.exec(param.numaNode);
    if (m === null) {
      run.error(`invalid numa_node: '${param.numaNode}'\n`);
      return -EINVAL;
    }
    numaNode = Number(m[1]);
  }

  let jbuses: JsonArray | undefined;
  let jdimms: JsonArray | undefined;
  let jregions: JsonArray | undefined;
  let jnamespaces: JsonArray | undefined;
  let jbus: JsonObject | undefined;
  let jregion: JsonObject | undefined;
  for (const bus of run.ctx.buses()) {
    if (!busFilter(bus, param.bus) || !busHasDimm(bus, param.dimm) || !busHasRegion(bus, param.region) || !busHasNamespace(bus, param.namespace)) continue;
    if (jbuses !== undefined) {
      jdimms = undefined;
      jregion = undefined;
      jregions = undefined;
      jnamespaces = undefined;
    }
    if (list.buses) {
      jbuses ??= [];
      jbus = busToJson(bus);
      jbuses.push(jbus);
    }
    if (list.dimms) {
      for (const d of bus.dimms()) {
        if (param.dimm !== undefined && !dimmMatches(d, param.dimm)) continue;
        if (jdimms === undefined) {
          jdimms = [];
          if (jbus !== undefined) jbus.add('dimms', jdimms);
        }
        jdimms.push(dimmToJson(run.ctx, d));
      }
    }
    for (const region of bus.regions()) {
      if (!regionFilter(region, param.region) || (param.dimm !== undefined && param.dimm !== 'all') || !regionHasNamespace(region, param.namespace)) continue;
      if (numaNode !== -1 && !region.hasNuma() && !list.namespaces) {
        run.io.err('This kernel does not provide NUMA node information per-region\n');
        continue;
      }
      if (region.hasNuma() && numaNode !== -1 && region.numaNode() !== numaNode) continue;
      if (type !== 0 && region.type() !== type) continue;
      // filter_region()
      if (list.regions) {
        if (!list.configured && !list.idle && !region.isEnabled()) continue;
        if (jregions === undefined) {
          jregions = [];
          if (jbus !== undefined) jbus.add('regions', jregions);
        }
        jregion = regionToJson(region, flags, list.capabilities);
        jnamespaces = undefined;
        jregions.push(jregion);
      }
      if (!list.namespaces) continue;
      for (const ns of region.namespaces()) {
        if (!namespaceFilter(ns, param.namespace)) continue;
        if (param.mode !== undefined && utilNsmode(param.mode) !== ns.mode()) continue;
        if (numaNode !== -1 && ns.numaNode() !== numaNode) continue;
        // filter_namespace()
        const size = ns.size();
        if (!(ns.isActive() || list.idle || (list.configured && size > 0 && size < ULLONG_MAX))) continue;
        if (jnamespaces === undefined) {
          jnamespaces = [];
          const container = jregion ?? jbus;
          if (container !== undefined) container.add('namespaces', jnamespaces);
        }
        const jns = namespaceToJson(ns, flags);
        if (jns !== undefined) jnamespaces.push(jns);
      }
    }
  }
  // list_display()
  if (jbuses !== undefined) run.io.out(displayJsonArray(jbuses, flags.human));
  else if (Number(jdimms !== undefined) + Number(jregions !== undefined) + Number(jnamespaces !== undefined) > 1) {
    const platform = new JsonObject();
    if (jdimms !== undefined) platform.add('dimms', jdimms);
    if (jregions !== undefined) platform.add('regions', jregions);
    if (jnamespaces !== undefined && jregions === undefined) platform.add('namespaces', jnamespaces);
    run.io.out(`${toJsonString(platform)}\n`);
  } else if (jdimms !== undefined) run.io.out(displayJsonArray(jdimms, flags.human));
  else if (jregions !== undefined) run.io.out(displayJsonArray(jregions, flags.human));
  else if (jnamespaces !== undefined) run.io.out(displayJsonArray(jnamespaces, flags.human));
  return 0;
}

// ---------------------------------------------------------------------------
// ndctl/namespace.c

type Action = 'create' | 'destroy' | 'enable' | 'disable' | 'check' | 'clear';

const BASE_OPTIONS: readonly NdctlOption[] = [
  { short: 'b', long: 'bus', type: 'string', argh: 'bus-id', help: 'limit namespace to a bus with an id or provider of <bus-id>' },
  { short: 'r', long: 'region', type: 'string', argh: 'region-id', help: 'limit namespace to a region with an id or name of <region-id>' },
  { short: 'v', long: 'verbose', type: 'boolean', help: 'emit extra debug messages to stderr' },
];

const DESTROY_OPTIONS: readonly NdctlOption[] = [
  ...BASE_OPTIONS,
  { short: 'f', long: 'force', type: 'boolean', help: 'destroy namespace even if currently active' },
];

const CHECK_OPTIONS: readonly NdctlOption[] = [
  ...BASE_OPTIONS,
  { short: 'R', long: 'repair', type: 'boolean', help: 'perform metadata repairs' },
  { short: 'L', long: 'rewrite-log', type: 'boolean', help: 'regenerate the log' },
  { short: 'f', long: 'force', type: 'boolean', help: 'check namespace even if currently active' },
];

const CLEAR_OPTIONS: readonly NdctlOption[] = [
  ...BASE_OPTIONS,
  { short: 's', long: 'scrub', type: 'boolean', help: 'run a scrub to find latent errors' },
];

const CREATE_OPTIONS: readonly NdctlOption[] = [
  ...BASE_OPTIONS,
  { short: 'e', long: 'reconfig', type: 'string', argh: 'reconfig namespace', help: 'reconfigure existing namespace' },
  { short: 'u', long: 'uuid', type: 'string', argh: 'uuid', help: 'specify the uuid for the namespace (default: autogenerate)' },
  { short: 'n', long: 'name', type: 'string', argh: 'name', help: 'specify an optional free form name for the namespace' },
  { short: 's', long: 'size', type: 'string', argh: 'size', help: 'specify the namespace size in bytes (default: available capacity)' },
  { short: 'm', long: 'mode', type: 'string', argh: 'operation-mode', help: "specify a mode for the namespace, 'sector', 'fsdax', 'devdax' or 'raw'" },
  { short: 'M', long: 'map', type: 'string', argh: 'memmap-location', help: "specify 'mem' or 'dev' for the location of the memmap" },
  { short: 'l', long: 'sector-size', type: 'string', argh: 'lba-size', help: 'specify the logical sector size in bytes' },
  { short: 't', long: 'type', type: 'string', argh: 'type', help: "specify the type of namespace to create 'pmem' or 'blk'" },
  { short: 'a', long: 'align', type: 'string', argh: 'align', help: 'specify the namespace alignment in bytes (default: 2M)' },
  { short: 'f', long: 'force', type: 'boolean', help: 'reconfigure namespace even if currently active' },
  { short: 'L', long: 'autolabel', type: 'boolean', help: 'automatically initialize labels' },
  { short: 'c', long: 'continue', type: 'boolean', help: 'continue creating namespaces as long as the filter criteria are met' },
  { short: 'R', long: 'autorecover', type: 'boolean', help: 'automatically cleanup on failure' },
];

/** `struct parameters` of namespace.c. */
interface NsParams {
  doScan: boolean;
  modeDefault: boolean;
  autolabel: boolean;
  greedy: boolean;
  autorecover: boolean;
  force: boolean;
  verbose: boolean;
  /** check-namespace `--repair`. */
  repair: boolean;
  /** check-namespace `--rewrite-log` (`logfix`). */
  logfix: boolean;
  /** clear-errors `--scrub`. */
  scrub: boolean;
  bus: string | undefined;
  map: string | undefined;
  type: string | undefined;
  uuid: string | undefined;
  name: string | undefined;
  size: string | undefined;
  mode: string | undefined;
  region: string | undefined;
  reconfig: string | undefined;
  sectorSize: string | undefined;
  align: string | undefined;
}

/** `struct parsed_parameters`. */
interface Parsed {
  loc: PfnLoc;
  uuid: string;
  name: string;
  mode: NsMode;
  size: number;
  sectorSize: number;
  align: number;
  autolabel: boolean;
  autorecover: boolean;
}

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** `set_defaults()`: 0 or -EINVAL/-ENXIO, with ndctl's messages. */
function setDefaults(run: Run, p: NsParams, action: Action): number {
  let rc = 0;
  if (p.type !== undefined) {
    if (p.type !== 'pmem' && p.type !== 'blk') {
      run.error(`invalid type '${p.type}', must be either 'pmem' or 'blk'\n`);
      rc = -EINVAL;
    }
  } else if (p.reconfig === undefined && action === 'create') p.type = 'pmem';
  if (p.mode !== undefined) {
    if (utilNsmode(p.mode) === 'unknown') {
      run.error(`invalid mode '${p.mode}'\n`);
      rc = -EINVAL;
    }
  } else if (p.reconfig === undefined && p.type !== undefined) {
    p.mode = p.type === 'pmem' ? 'fsdax' : 'sector';
    p.modeDefault = true;
  }
  if (p.map !== undefined) {
    if (p.map !== 'mem' && p.map !== 'dev') {
      run.error(`invalid map location '${p.map}'\n`);
      rc = -EINVAL;
    }
    if (p.reconfig === undefined && p.mode !== undefined && p.mode !== 'fsdax' && p.mode !== 'devdax') {
      run.error('--map only valid for an devdax mode pmem namespace\n');
      rc = -EINVAL;
    }
  } else if (p.reconfig === undefined) p.map = 'dev';
  if (p.type !== undefined && p.mode !== undefined && p.type === 'blk' && (p.mode === 'fsdax' || p.mode === 'devdax')) {
    run.error("only 'pmem' namespaces support dax operation\n");
    rc = -ENXIO;
  }
  if (p.size !== undefined && parseSize64(p.size) === undefined) {
    run.error(`failed to parse namespace size '${p.size}'\n`);
    rc = -EINVAL;
  }
  if (p.align !== undefined) {
    const a = parseSize64(p.align);
    if (a === undefined) {
      run.error(`failed to parse namespace alignment '${p.align}'\n`);
      rc = -EINVAL;
    } else if (!isPowerOf2(a.value) || a.value < run.io.pageSize) {
      run.error(`align must be a power-of-2 greater than ${run.io.pageSize}\n`);
      rc = -EINVAL;
    }
  }
  if (p.size !== undefined && parseSize64(p.size) === undefined) {
    run.error(`failed to parse namespace size '${p.size}'\n`);
    rc = -EINVAL;
  }
  if (p.uuid !== undefined && !UUID_RE.test(p.uuid)) {
    run.error(`failed to parse uuid: '${p.uuid}'\n`);
    rc = -EINVAL;
  }
  if (p.sectorSize !== undefined) {
    if (parseSize64(p.sectorSize) === undefined) {
      run.error(`invalid sector size: ${p.sectorSize}\n`);
      rc = -EINVAL;
    }
  } else if (p.type === 'blk' || utilNsmode(p.mode) === 'safe') p.sectorSize = '4096';
  return rc;
}

/** `do_setup_pfn()`: fsdax needs a pfn device unless the namespace already is fsdax with its memmap in RAM. */
function doSetupPfn(ns: NdNamespace | undefined, p: Parsed): boolean {
  if (p.mode !== 'memory') return false;
  return ns === undefined || ns.mode() !== 'memory' || p.loc === 'pmem';
}

/** `check_dax_align()`. */
function checkDaxAlign(run: Run, ns: NdNamespace, force: boolean): number {
  const resource = ns.resource();
  if (resource === ULLONG_MAX) {
    run.io.err(`  Warning: ${ns.devname} unable to validate alignment\n\n`);
    return 0;
  }
  if (resource % SZ_16M === 0 || force) return 0;
  run.error(`${ns.devname} misaligned to 16M, adjust region alignment and retry\n`);
  return -EINVAL;
}

/** The `try()` macro: a failed setter is reported and returned. */
function attempt(run: Run, devname: string, op: string, rc: number): number {
  if (rc !== 0) run.err(`${devname}: ${op} failed: ${strerror(Math.abs(rc))}\n`);
  return rc;
}

/** `setup_namespace()`. */
function setupNamespace(run: Run, region: NdRegion, ns: NdNamespace, p: Parsed, force: boolean): number {
  let rc: number;
  if (ns.type() !== ND_DEVICE_NAMESPACE_IO) {
    // Label namespaces: uuid, alt_name and size come first.
    if ((rc = attempt(run, ns.devname, 'set_uuid', run.ctx.write(`${ns.path}/uuid`, p.uuid))) !== 0) return rc;
    if ((rc = attempt(run, ns.devname, 'set_alt_name', run.ctx.write(`${ns.path}/alt_name`, p.name))) !== 0) return rc;
    if ((rc = attempt(run, ns.devname, 'set_size', run.ctx.write(`${ns.path}/size`, `${p.size}\n`))) !== 0) return rc;
  }
  if (p.sectorSize !== 0 && p.sectorSize < UINT_MAX) {
    const sizes = ns.sectorSizes().sizes;
    if (sizes.includes(p.sectorSize)) {
      if ((rc = attempt(run, ns.devname, 'set_sector_size', run.ctx.write(`${ns.path}/sector_size`, `${p.sectorSize}\n`))) !== 0) return rc;
    } else if (p.mode !== 'safe' && p.sectorSize !== 512) {
      run.error(`${ns.devname}: sector_size: ${p.sectorSize} not supported\n`);
      return -EINVAL;
    }
  }
  const uuid = run.ctx.uuidGenerate();
  // Opportunistic: not checked, as ndctl does not check it.
  ns.setEnforceMode(p.mode);
  if (doSetupPfn(ns, p)) {
    const pfn = region.pfnSeed();
    if (pfn === undefined) return -ENXIO;
    rc = checkDaxAlign(run, ns, force);
    if (rc !== 0) return rc;
    if ((rc = attempt(run, pfn.devname, 'set_uuid', pfn.setUuid(uuid))) !== 0) return rc;
    if ((rc = attempt(run, pfn.devname, 'set_location', pfn.setLocation(p.loc))) !== 0) return rc;
    if (pfn.hasAlign() && (rc = attempt(run, pfn.devname, 'set_align', pfn.setAlign(p.align))) !== 0) return rc;
    if ((rc = attempt(run, pfn.devname, 'set_namespace', pfn.setNamespace(ns))) !== 0) return rc;
    rc = pfn.enable();
    if (rc !== 0 && p.autorecover) pfn.setNamespace(undefined);
  } else if (p.mode === 'dax') {
    const dax = region.daxSeed();
    if (dax === undefined) return -ENXIO;
    rc = checkDaxAlign(run, ns, force);
    if (rc !== 0) return rc;
    if ((rc = attempt(run, dax.devname, 'set_uuid', dax.setUuid(uuid))) !== 0) return rc;
    if ((rc = attempt(run, dax.devname, 'set_location', dax.setLocation(p.loc))) !== 0) return rc;
    if ((rc = attempt(run, dax.devname, 'set_align', dax.setAlign(p.align))) !== 0) return rc;
    if ((rc = attempt(run, dax.devname, 'set_namespace', dax.setNamespace(ns))) !== 0) return rc;
    rc = dax.enable();
    if (rc !== 0 && p.autorecover) dax.setNamespace(undefined);
  } else if (p.mode === 'safe') {
    const btt = region.bttSeed();
    if (btt === undefined) return -ENXIO;
    if (p.sectorSize === UINT_MAX || p.sectorSize === 0) p.sectorSize = 4096;
    if ((rc = attempt(run, btt.devname, 'set_uuid', btt.setUuid(uuid))) !== 0) return rc;
    if ((rc = attempt(run, btt.devname, 'set_sector_size', btt.setSectorSize(p.sectorSize))) !== 0) return rc;
    if ((rc = attempt(run, btt.devname, 'set_namespace', btt.setNamespace(ns))) !== 0) return rc;
    rc = btt.enable();
  } else rc = ns.enable();
  if (rc !== 0) {
    run.error(`${ns.devname}: failed to enable\n`);
  } else {
    const j = namespaceToJson(ns, { human: false, verbose: false, dax: true, mediaErrors: false });
    if (j !== undefined) run.io.out(`${toJsonString(j)}\n`);
  }
  return rc;
}

/** `validate_available_capacity()`. */
function validateAvailableCapacity(run: Run, region: NdRegion, p: Parsed): number {
  let available: number;
  if (region.nstype() === ND_DEVICE_NAMESPACE_IO) available = region.size();
  else {
    available = region.maxAvailableExtent();
    if (available === ULLONG_MAX) available = region.availableSize();
  }
  if (available === 0 || p.size > available) {
    run.debug('validate_available_capacity', `${region.devname}: insufficient capacity size: ${p.size.toString(16)} avail: ${available.toString(16)}\n`);
    return -EAGAIN;
  }
  if (p.size === 0) p.size = available;
  return 0;
}

/** `validate_namespace_options()`: fills `p`, or fails with ndctl's message and nothing written. */
function validateNamespaceOptions(run: Run, param: NsParams, region: NdRegion, ns: NdNamespace | undefined): { rc: number; p: Parsed } {
  const p: Parsed = { loc: 'none', uuid: '', name: '', mode: 'unknown', size: 0, sectorSize: 0, align: 0, autolabel: false, autorecover: false };
  const regionName = region.devname;
  let units = 1;
  let defaultSize = false;
  if (!region.isEnabled()) {
    run.debug('validate_namespace_options', `${regionName}: disabled, skipping...\n`);
    return { rc: -EAGAIN, p };
  }
  if (param.size !== undefined) {
    const s = parseSize64(param.size)!;
    p.size = s.value;
    units = s.units;
  } else if (ns !== undefined) p.size = ns.size();
  else defaultSize = true;
  if (ns === undefined) {
    const rc = validateAvailableCapacity(run, region, p);
    if (rc !== 0) return { rc, p };
  }
  if (region.nstype() === ND_DEVICE_NAMESPACE_IO && p.size !== region.size()) {
    run.error('Legacy / label-less namespaces do not support sub-dividing a region\n');
    run.error('Retry without -s/--size=\n');
    return { rc: -EINVAL, p };
  }
  p.uuid = param.uuid !== undefined ? param.uuid.toLowerCase() : run.ctx.uuidGenerate();
  p.name = param.name ?? (ns !== undefined ? ns.altName() : '');
  if (p.name.length >= 64) {
    run.err('validate_namespace_options: alt name overflow\n');
    return { rc: -EINVAL, p };
  }
  let pfn: NdPfn | undefined;
  let dax: NdPfn | undefined;
  if (param.mode !== undefined) {
    p.mode = utilNsmode(param.mode);
    if (region.type() !== ND_DEVICE_REGION_PMEM && (p.mode === 'memory' || p.mode === 'dax')) {
      run.err(`blk ${regionName} does not support ${nsmodeName(p.mode)} mode\n`);
      return { rc: -EAGAIN, p };
    }
  } else if (ns !== undefined) p.mode = ns.mode();
  if (p.mode === 'memory') {
    pfn = region.pfnSeed();
    if (pfn === undefined && param.modeDefault) {
      run.err(`${regionName} fsdax mode not available\n`);
      p.mode = 'raw';
    }
  } else if (p.mode === 'dax') {
    dax = region.daxSeed();
    if (dax === undefined) {
      run.error(`Kernel does not support ${nsmodeName(p.mode)} mode\n`);
      return { rc: -ENODEV, p };
    }
  }
  if (param.align !== undefined) {
    let alignments: number[];
    if (p.mode === 'memory') {
      if (pfn === undefined) {
        run.error('Kernel does not support setting an alignment in fsdax mode\n');
        return { rc: -EINVAL, p };
      }
      alignments = pfn.supportedAlignments();
    } else if (p.mode === 'dax') alignments = dax!.supportedAlignments();
    else {
      run.error(`${nsmodeName(p.mode)} mode does not support setting an alignment\n`);
      return { rc: -ENXIO, p };
    }
    p.align = parseSize64(param.align)!.value;
    if (!alignments.includes(p.align)) {
      run.error(`unsupported align: ${param.align}\n`);
      return { rc: -ENXIO, p };
    }
  } else {
    if (ns !== undefined && p.mode === ns.mode()) {
      const nsPfn = ns.pfn();
      const nsDax = ns.dax();
      p.align = nsPfn !== undefined ? nsPfn.align() : nsDax !== undefined ? nsDax.align() : run.io.pageSize;
    } else if (p.mode === 'memory') {
      p.align = pfn !== undefined && pfn.hasAlign() ? pfn.align() : SZ_2M;
    } else if (p.mode === 'dax') p.align = dax!.align();
    else p.align = run.io.pageSize;
    const resource = region.resource();
    if (resource < ULLONG_MAX && p.align > 0 && resource % p.align !== 0) {
      run.debug('validate_namespace_options', `${regionName}: falling back to a page alignment\n`);
      p.align = run.io.pageSize;
    }
  }
  const regionAlign = region.align();
  if (regionAlign < ULLONG_MAX && regionAlign > 0 && p.size % regionAlign !== 0) {
    run.err(`${regionName}: align setting is 0x${regionAlign.toString(16)} size 0x${p.size.toString(16)} is misaligned\n`);
    return { rc: -EINVAL, p };
  }
  const ways = region.interleaveWays();
  if (p.align > 0 && p.size % (p.align * ways) !== 0) {
    const suffix = units === 2 ** 10 ? 'K' : units === 2 ** 20 ? 'M' : units === 2 ** 30 ? 'G' : units === 2 ** 40 ? 'T' : '';
    const sizeAlign = Math.max(units, p.align) * ways;
    const suggest = ((Math.floor(p.size / sizeAlign) + 1) * sizeAlign) / units;
    run.err(`'--size=' must align to interleave-width: ${ways} and alignment: ${p.align}\ndid you intend --size=${Math.floor(suggest)}${suffix}?\n`);
    return { rc: -EINVAL, p };
  }
  if (p.size < SZ_16M && p.mode !== 'raw') {
    if (defaultSize) {
      run.debug('validate_namespace_options', `${regionName}: insufficient capacity for mode: ${nsmodeName(p.mode)}\n`);
      return { rc: -EAGAIN, p };
    }
    run.error(`'--size=' must be >= 16MiB for '${nsmodeName(p.mode)}' mode\n`);
    return { rc: -EINVAL, p };
  }
  if (param.sectorSize !== undefined) {
    p.sectorSize = parseSize64(param.sectorSize)!.value;
    const btt = region.bttSeed();
    if (p.mode === 'safe') {
      if (btt === undefined) {
        run.err(`${regionName}: does not support 'sector' mode\n`);
        return { rc: -EINVAL, p };
      }
      if (!btt.sectorSizes().sizes.includes(p.sectorSize)) {
        run.err(`${regionName}: does not support btt sector_size ${p.sectorSize}\n`);
        return { rc: -EINVAL, p };
      }
    } else {
      const seed = ns ?? region.namespaceSeed();
      if (seed === undefined) {
        run.err(`${regionName}: failed to get seed\n`);
        return { rc: -ENXIO, p };
      }
      if (!seed.sectorSizes().sizes.includes(p.sectorSize)) {
        run.err(`${regionName}: does not support namespace sector_size ${p.sectorSize}\n`);
        return { rc: -EINVAL, p };
      }
    }
  } else if (ns !== undefined) {
    const btt = ns.btt();
    p.sectorSize = btt !== undefined && p.mode === 'safe' ? (btt.sectorSizes().selected ?? 0) : (ns.sectorSizes().selected ?? 0);
  } else {
    const seed = region.namespaceSeed();
    if (seed === undefined) {
      run.err(`${regionName}: failed to get seed\n`);
      return { rc: -ENXIO, p };
    }
    p.sectorSize = seed.sectorSizes().sizes.length === 0 ? UINT_MAX : 512;
  }
  if (param.map !== undefined) {
    p.loc = param.map === 'mem' ? 'ram' : 'pmem';
    if (ns !== undefined && p.mode !== 'memory' && p.mode !== 'dax') {
      run.err(`${ns.devname}: --map= only valid for fsdax mode namespace\n`);
      return { rc: -EINVAL, p };
    }
  } else if (p.mode === 'memory' || p.mode === 'dax') p.loc = 'pmem';
  if (pfn === undefined && doSetupPfn(ns, p)) {
    run.error(`operation failed, ${regionName} cannot support requested mode\n`);
    return { rc: -EINVAL, p };
  }
  p.autolabel = param.autolabel;
  p.autorecover = param.autorecover;
  return { rc: 0, p };
}

/** `zero_info_block()`: <0 error, 0 zeroed, >0 skipped. */
function zeroInfoBlock(run: Run, ns: NdNamespace): number {
  const infoSize = 8192;
  if (ns.size() === 0) return 1;
  let rc: number;
  ns.setRawMode(true);
  const en = ns.enable();
  if (en < 0) {
    run.err(`${ns.devname} failed to enable for zeroing, continuing\n`);
    rc = 1;
  } else {
    const path = `/dev/${ns.blockDevice()}`;
    const fs = run.io.fs;
    if (fs.pread === undefined || fs.pwrite === undefined || !fs.exists(path) || ns.blockDevice() === '') {
      run.err(`${ns.devname}: failed to open ${path} to zero info block\n`);
      rc = -ENXIO;
    } else {
      let buf: Uint8Array;
      try {
        buf = fs.pread(path, 0, infoSize);
      } catch {
        buf = new Uint8Array(0);
      }
      if (buf.length < infoSize) run.err(`${ns.devname}: failed to read info block, continuing\n`);
      if (buf.length === infoSize && buf.every((b) => b === 0)) rc = 1;
      else {
        let n = 0;
        try {
          n = fs.pwrite(path, 0, new Uint8Array(infoSize));
        } catch {
          n = 0;
        }
        if (n < infoSize) {
          run.err(`${ns.devname}: failed to zero info block ${path}\n`);
          rc = -ENXIO;
        } else rc = 0;
      }
    }
  }
  ns.setRawMode(false);
  ns.disableInvalidate();
  return rc;
}

/** `namespace_prep_reconfig()`: <0 error, 0 an info block was zeroed, 1 nothing to zero, 2 a label namespace. */
function namespacePrepReconfig(run: Run, region: NdRegion, ns: NdNamespace, force: boolean): number {
  if (region.readOnly()) {
    run.error(`${ns.devname}: read-only, re-configuration disabled\n`);
    return -ENXIO;
  }
  if (ns.isActive() && !force) {
    run.error(`${ns.devname} is active, specify --force for re-configuration\n`);
    return -EBUSY;
  }
  let rc = ns.disableSafe((b) => run.exclusiveOpen(b));
  if (rc < 0) return rc;
  ns.setEnforceMode('raw');
  rc = zeroInfoBlock(run, ns);
  if (rc < 0) return rc;
  const didZero = rc === 0;
  const t = ns.type();
  if (t !== ND_DEVICE_NAMESPACE_IO) return 2;
  return didZero ? 0 : 1;
}

/**
 * `enable_labels()`: a label-less region on DIMMs that all have the config
 * commands gets labels. ndctl disables the region, writes v1.2 index
 * blocks on each DIMM (`ndctl_dimm_init_labels()`, through `/dev/nmemN`),
 * disables and enables each DIMM so that the kernel re-reads its labels
 * (and marks it `NDD_LABELING`), then enables the region, which now probes
 * as a PMEM region. ENODEV (nothing done) for a region without DIMMs or
 * whose DIMMs cannot store labels; EBUSY "failed to initialize labels"
 * when the region is still label-less afterwards.
 */
function enableLabels(run: Run, region: NdRegion): number {
  const root = '/sys/bus/nd/devices';
  const mappings = region.mappings();
  if (mappings === 0) return -ENODEV;
  const dimms: string[] = [];
  for (let i = 0; i < mappings; i++) {
    const d = (run.ctx.read(`${region.path}/mapping${i}`) ?? '').split(',')[0] ?? '';
    const cmds = (run.ctx.read(`${root}/${d}/commands`) ?? '').split(/\s+/);
    if (!['get_size', 'get_data', 'set_data'].every((c) => cmds.includes(c))) break;
    dimms.push(d);
  }
  if (dimms.length !== mappings) return -ENODEV;
  region.disableInvalidate();
  let active = 0;
  for (const d of dimms) {
    if (dimmIsActive(run.ctx, d)) {
      run.io.err(`Warning: ${d} is active in ${region.devname}, failing autolabel\n`);
      active++;
    }
  }
  if (active === 0) {
    for (const d of dimms) {
      const media = configArea(run.io, d);
      if (media === undefined) continue;
      try {
        ndctlInitLabels(media, { labelVersion: '1.2', force: true });
      } catch {
        continue;
      }
      const path = `${root}/${d}`;
      if (run.ctx.isEnabled(path)) run.ctx.write(`${path}/driver/unbind`, d);
      run.ctx.write('/sys/bus/nd/drivers/nvdimm/bind', d);
    }
  }
  region.enable();
  if (region.nstype() !== ND_DEVICE_NAMESPACE_PMEM) {
    run.err(`${region.devname}: failed to initialize labels\n`);
    return -EBUSY;
  }
  return 0;
}

/** `namespace_reconfig()`. */
function namespaceReconfig(run: Run, param: NsParams, region: NdRegion, ns: NdNamespace): number {
  const v = validateNamespaceOptions(run, param, region, ns);
  if (v.rc !== 0) return v.rc;
  const rc = namespacePrepReconfig(run, region, ns, param.force);
  if (rc < 0) return rc;
  let target: NdNamespace | undefined = ns;
  if (region.nstype() === ND_DEVICE_NAMESPACE_IO && v.p.autolabel) {
    // If this fails, continue label-less; once the region was invalidated, the namespace is a new one.
    const lrc = enableLabels(run, region);
    if (lrc !== -ENODEV) target = regionGetNamespace(region);
    if (target === undefined || (lrc !== -ENODEV && !target.isConfigurationIdle())) {
      run.debug('namespace_reconfig', `${region.devname}: no ${target !== undefined ? 'idle' : 'available'} namespace seed\n`);
      return -ENODEV;
    }
  }
  return setupNamespace(run, region, target, v.p, param.force);
}

/** `region_get_namespace()`: namespace 0 if it is idle, else the seed. */
function regionGetNamespace(region: NdRegion): NdNamespace | undefined {
  const ns0 = region.namespaces().find((n) => n.id === 0 && n.isConfigurationIdle());
  return ns0 ?? region.namespaceSeed();
}

/** `namespace_create()`. */
function namespaceCreate(run: Run, param: NsParams, region: NdRegion): number {
  const v = validateNamespaceOptions(run, param, region, undefined);
  if (v.rc !== 0) return v.rc;
  if (region.readOnly()) {
    run.debug('namespace_create', `${region.devname}: read-only, ineligible for namespace creation\n`);
    return -EAGAIN;
  }
  const ns = regionGetNamespace(region);
  if (ns === undefined || !ns.isConfigurationIdle()) {
    run.debug('namespace_create', `${region.devname}: no ${ns !== undefined ? 'idle' : 'available'} namespace seed\n`);
    return -EAGAIN;
  }
  const rc = setupNamespace(run, region, ns, v.p, param.force);
  if (rc !== 0 && v.p.autorecover) ns.setEnforceMode('raw');
  return rc;
}

/** `namespace_destroy()`. */
function namespaceDestroy(run: Run, region: NdRegion, ns: NdNamespace, force: boolean): number {
  const rc = namespacePrepReconfig(run, region, ns, force);
  if (rc < 0) return rc;
  if (rc === 2) {
    const d = run.ctx.write(`${ns.path}/size`, '0\n');
    if (d !== 0) run.debug('namespace_destroy', `${ns.devname}: failed to reclaim\n`);
    return d;
  }
  return rc;
}

/** `do_xaction_namespace()`. */
function doXactionNamespace(run: Run, param: NsParams, namespace: string | undefined, action: Action): { rc: number; processed: number } {
  let rc = -ENXIO;
  let savedRc = 0;
  let processed = 0;
  if (namespace === undefined && action !== 'create') return { rc, processed };
  if (namespace === 'all') rc = 0;
  run.ctx.debug = param.verbose;
  run.cmdName = action === 'clear' ? 'clear errors namespace' : `${action} namespace`;
  for (const bus of run.ctx.buses()) {
    if (!busFilter(bus, param.bus)) continue;
    // only one scrub is requested per bus
    let doScrub = param.scrub;
    for (const region of bus.regions()) {
      if (!regionFilter(region, param.region)) continue;
      if (param.type !== undefined) {
        const t = region.type();
        if (!((param.type === 'pmem' && t === ND_DEVICE_REGION_PMEM) || (param.type === 'blk' && t === ND_DEVICE_REGION_BLK))) continue;
      }
      if (action === 'create' && namespace === undefined) {
        rc = namespaceCreate(run, param, region);
        if (rc === -EAGAIN) continue;
        if (rc === 0) {
          processed++;
          if (param.greedy) continue;
        } else if (param.greedy && param.force) {
          savedRc = rc;
          continue;
        }
        return { rc, processed };
      }
      for (const ns of region.namespaces()) {
        if (namespace === 'all') {
          if (ns.size() === 0 && ns.uuid() === undefined) continue;
        } else if (namespace !== ns.devname) continue;
        switch (action) {
          case 'disable':
            rc = ns.disableSafe((b) => run.exclusiveOpen(b));
            if (rc === 0) processed++;
            break;
          case 'enable':
            rc = ns.enable();
            if (rc >= 0) {
              processed++;
              rc = 0;
            }
            break;
          case 'destroy':
            rc = namespaceDestroy(run, region, ns, param.force);
            if (rc === 0) processed++;
            if (rc > 0) rc = 0;
            break;
          case 'check':
            rc = namespaceCheck(run, ns, param);
            if (rc === 0) processed++;
            break;
          case 'clear':
            rc = namespaceClearBb(run, ns, doScrub);
            doScrub = false;
            if (rc === 0) processed++;
            break;
          case 'create':
            rc = namespaceReconfig(run, param, region, ns);
            if (rc === 0) processed = 1;
            return { rc, processed };
        }
      }
    }
  }
  if (action === 'create' && rc === -EAGAIN) rc = param.greedy && processed > 0 ? 0 : -ENOSPC;
  if (savedRc !== 0) rc = savedRc;
  return { rc, processed };
}

function nsParams(values: Map<string, string | boolean | number | undefined>, argc: number): NsParams {
  const s = (k: string): string | undefined => values.get(k) as string | undefined;
  const b = (k: string, d: boolean): boolean => (values.has(k) ? values.get(k) === true : d);
  return {
    doScan: argc === 0,
    modeDefault: false,
    autolabel: b('autolabel', true),
    greedy: b('continue', false),
    autorecover: b('autorecover', true),
    force: b('force', false),
    verbose: b('verbose', false),
    repair: b('repair', false),
    logfix: b('rewrite-log', false),
    scrub: b('scrub', false),
    bus: s('bus'), map: s('map'), type: s('type'), uuid: s('uuid'), name: s('name'), size: s('size'), mode: s('mode'),
    region: s('region'), reconfig: s('reconfig'), sectorSize: s('sector-size'), align: s('align'),
  };
}

/** `parse_namespace_options()`: the namespace argument, or a usage exit. */
function parseNamespaceOptions(run: Run, args: readonly string[], action: Action, options: readonly NdctlOption[], usage: string): { param: NsParams; namespace: string | undefined } {
  const o = parseNdctlOptions(args, options, [usage]);
  const param = nsParams(o.values, args.length);
  let rc = setDefaults(run, param, action);
  const argv = o.operands;
  if (argv.length === 0 && action !== 'create') {
    run.error(`specify a namespace to ${action === 'clear' ? 'clear errors for' : action}, or "all"\n`);
    rc = -EINVAL;
  }
  for (let i = action === 'create' ? 0 : 1; i < argv.length; i++) {
    run.error(`unknown extra parameter "${argv[i]!}"\n`);
    rc = -EINVAL;
  }
  if (rc !== 0) throw new NdctlUsageExit(usageWithOptions([usage], options));
  return { param, namespace: action === 'create' ? param.reconfig : argv[0] };
}

function cmdXableNamespace(run: Run, args: readonly string[], action: 'enable' | 'disable' | 'destroy'): number {
  const usage = `ndctl ${action}-namespace <namespace> [<options>]`;
  const { param, namespace } = parseNamespaceOptions(run, args, action, action === 'destroy' ? DESTROY_OPTIONS : BASE_OPTIONS, usage);
  const { rc, processed } = doXactionNamespace(run, param, namespace, action);
  const past = action === 'enable' ? 'enabled' : action === 'disable' ? 'disabled' : 'destroyed';
  const ing = action === 'enable' ? 'enabling' : action === 'disable' ? 'disabling' : 'destroying';
  if (rc < 0 && run.errCount === 0) run.io.err(`error ${ing} namespaces: ${strerror(-rc)}\n`);
  run.io.err(`${past} ${processed} namespace${processed === 1 ? '' : 's'}\n`);
  return rc;
}

/** `cmd_check_namespace()` / `cmd_clear_errors()`. */
function cmdCheckOrClear(run: Run, args: readonly string[], action: 'check' | 'clear'): number {
  const usage = action === 'check' ? 'ndctl check-namespace <namespace> [<options>]' : 'ndctl clear_errors <namespace> [<options>]';
  const { param, namespace } = parseNamespaceOptions(run, args, action, action === 'check' ? CHECK_OPTIONS : CLEAR_OPTIONS, usage);
  const { rc, processed } = doXactionNamespace(run, param, namespace, action);
  if (rc < 0 && run.errCount === 0) run.io.err(`error ${action === 'check' ? 'checking' : 'clearing'} namespaces: ${strerror(-rc)}\n`);
  run.io.err(`${action === 'check' ? 'checked' : 'cleared'} ${processed} namespace${processed === 1 ? '' : 's'}\n`);
  return rc;
}

/** `cmd_create_namespace()`. */
function cmdCreateNamespace(run: Run, args: readonly string[]): number {
  const usage = 'ndctl create-namespace [<options>]';
  const { param, namespace } = parseNamespaceOptions(run, args, 'create', CREATE_OPTIONS, usage);
  let { rc, processed } = doXactionNamespace(run, param, namespace, 'create');
  let greedy = param.greedy;
  if (rc < 0 && processed < 1 && param.doScan) {
    // The default scan tries pmem first, then blk.
    const blk = nsParams(new Map(), 1);
    blk.autolabel = false;
    blk.autorecover = false;
    blk.type = 'blk';
    setDefaults(run, blk, 'create');
    greedy = blk.greedy;
    ({ rc, processed } = doXactionNamespace(run, blk, undefined, 'create'));
  }
  if (greedy) run.io.err(`created ${processed} namespace${processed === 1 ? '' : 's'}\n`);
  if ((rc < 0 || (namespace === undefined && processed < 1)) && run.errCount === 0) {
    run.io.err(`failed to ${namespace !== undefined ? 'reconfigure' : 'create'} namespace: ${strerror(-rc)}\n`);
    if (namespace === undefined) rc = -ENODEV;
  }
  return rc;
}

// ---------------------------------------------------------------------------
// ndctl/check.c namespace_check(): the namespace in raw mode, read through /dev

/** `struct btt_chk`'s view of `/dev/pmemN`: pread/pwrite of the raw namespace. */
function rawDisk(io: NdctlIo, path: string, size: number, writable: boolean): NdMedia {
  const fs = io.fs;
  return {
    size,
    read: (offset, dst) => {
      const got = fs.pread!(path, offset, dst.length);
      dst.set(got);
      if (got.length < dst.length) dst.fill(0, got.length);
    },
    write: (offset, src) => {
      if (!writable) throw new KernelError('EBADF', `${path}: opened read-only`);
      fs.pwrite!(path, offset, src);
    },
  };
}

/** `uuid_parse()` of the namespace's uuid, or undefined (a label-less namespace has none). */
function uuidBytes(uuid: string | undefined): Uint8Array | undefined {
  if (uuid === undefined || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(uuid)) return undefined;
  const hex = uuid.replace(/-/g, '');
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/**
 * `namespace_check()` (ndctl v72 ndctl/check.c): refuses an active
 * namespace without `--force` (-EBUSY, "check aborted, namespace online"),
 * else disables it, puts it in raw mode (`force_raw`), enables it, checks
 * the BTT through `/dev/pmemN` ({@link ndctlCheckNamespace}), then restores
 * the raw-mode flag, disables the raw namespace and, when it was active,
 * enables it again (the kernel finds the BTT again: "enabled via btt").
 */
function namespaceCheck(run: Run, ns: NdNamespace, param: NsParams): number {
  const devname = ns.devname;
  const log = (priority: 'err' | 'info', fn: string, msg: string): void => {
    if (priority === 'err' || param.verbose) run.io.err(`${devname}: ${fn}: ${msg}`);
  };
  const fs = run.io.fs;
  if (param.logfix) {
    if (!param.repair) {
      log('err', 'namespace_check', '--rewrite-log also requires --repair\n');
      return -EINVAL;
    }
    log('info', 'namespace_check', 'WARNING: interruption may cause unrecoverable metadata corruption\n');
  }
  log('info', 'namespace_check', `checking ${devname}\n`);
  let disabled = false;
  let rc: number;
  if (ns.isActive()) {
    if (!param.force) {
      log('err', 'namespace_check', `${devname}: check aborted, namespace online\n`);
      return -EBUSY;
    }
    rc = ns.disableSafe((b) => run.exclusiveOpen(b));
    if (rc !== 0) return rc;
    disabled = true;
  }
  const rawMode = ns.rawMode();
  rc = ns.setRawMode(true);
  if (rc < 0) {
    log('err', 'namespace_check', `${devname}: failed to set the raw mode flag: ${strerror(-rc)} (${rc})\n`);
  } else {
    rc = ns.enable();
    if (rc !== 0) {
      log('err', 'namespace_check', `${devname}: failed to enable in raw mode: ${strerror(Math.abs(rc))} (${rc})\n`);
    } else {
      const path = `/dev/${ns.blockDevice()}`;
      const size = fs.deviceSize?.(path);
      if (fs.pread === undefined || fs.pwrite === undefined || size === undefined || !fs.exists(path)) {
        log('err', 'namespace_check', `unable to open ${path}: ${strerror(ENOENT)}\n`);
        rc = -ENOENT;
      } else {
        // ndctl_namespace_get_uuid(): only a labelled (PMEM) namespace has one
        const uuid = ns.type() === ND_DEVICE_NAMESPACE_PMEM ? uuidBytes(ns.uuid()) : undefined;
        const r = ndctlCheckNamespace(rawDisk(run.io, path, size, param.repair), {
          devname,
          repair: param.repair,
          rewriteLog: param.logfix,
          verbose: param.verbose,
          ...(uuid !== undefined ? { parentUuid: uuid } : {}),
        });
        // The checker's own lines up to "checking" were printed above, before the online check.
        const from = r.log.findIndex((l) => l.fn === 'namespace_check' && l.message === `checking ${devname}`) + 1;
        for (const l of r.log.slice(from)) log(l.priority, l.fn, `${l.message}\n`);
        for (const t of r.stdout) run.io.out(t);
        rc = r.rc;
      }
    }
  }
  // out_ns:
  ns.setRawMode(rawMode);
  ns.disableInvalidate();
  if (disabled && ns.enable() < 0) log('err', 'namespace_check', `${devname}: failed to re-enable namespace\n`);
  return rc;
}

// ---------------------------------------------------------------------------
// ndctl/namespace.c: clear-errors

/** `namespace_wait_scrub()`: the bus's scrub state, a scrub started if asked, then waiting for it. */
function namespaceWaitScrub(run: Run, ns: NdNamespace, doScrub: boolean): number {
  const bus = ns.region.bus;
  const inProgress = bus.scrubStateRc();
  if (inProgress < 0) {
    run.error(`${ns.devname}: Unable to determine scrub state: ${strerror(-inProgress)}\n`);
    return inProgress;
  }
  if (doScrub && inProgress === 0) {
    const rc = startScrub(run, bus);
    if (rc !== 0) {
      run.error(`${ns.devname}: Unable to start scrub: ${strerror(-rc)}\n`);
      return rc;
    }
  }
  // ndctl_bus_wait_for_scrub_completion()
  const rc = pollScrubCompletion(run, bus);
  if (rc !== 0) {
    run.error(`${ns.devname}: Error waiting for scrub: ${strerror(-rc)}\n`);
    return rc;
  }
  return 0;
}

/**
 * `bus_send_clear()`: `ND_CMD_ARS_CAP` for the range, then `ND_CMD_CLEAR_ERROR`
 * for the range it reports, sent to the bus's `/dev/ndctlN`.
 */
function busSendClear(run: Run, bus: NdBus, start: number, size: number): number {
  const busname = bus.provider();
  const send = run.io.busCommand;
  if (!bus.isCmdSupported('ars_cap') || send === undefined) {
    run.err(`bus: ${busname} failed to create cmd\n`);
    return -ENOTTY;
  }
  let cap: NdBusCommandResult;
  try {
    cap = send(bus.devname, { cmd: ND_CMD_ARS_CAP, address: start, length: size });
  } catch (e) {
    if (!isKernelError(e)) throw e;
    run.err(`bus: ${busname} failed to submit cmd: ${e.negative}\n`);
    return e.negative;
  }
  // ndctl_bus_cmd_new_clear_error(): ARS_STATUS supported, a power-of-two unit, an aligned request.
  const unit = cap.clearErrUnit ?? 0;
  if (!bus.isCmdSupported('ars_status') || !isPowerOf2(unit) || start % unit !== 0 || size % unit !== 0) {
    run.err(`bus: ${busname} failed to create cmd\n`);
    return -ENOTTY;
  }
  let cleared: number;
  try {
    cleared = send(bus.devname, { cmd: ND_CMD_CLEAR_ERROR, address: start, length: size }).cleared ?? 0;
  } catch (e) {
    if (!isKernelError(e)) throw e;
    run.err(`bus: ${busname} failed to submit cmd: ${e.negative}\n`);
    return e.negative;
  }
  if (cleared !== size) {
    run.err(`bus: ${busname} expected to clear: ${size} actual: ${cleared}\n`);
    return -ENXIO;
  }
  return 0;
}

/**
 * `nstype_clear_badblocks()`: each of the region's badblocks that lies
 * wholly inside `[devBegin, devBegin + devSize)` is cleared through the
 * bus, then the namespace is enabled again. As in ndctl, a failed clear
 * stops the walk but the result is the enable's.
 */
function nstypeClearBadblocks(run: Run, ns: NdNamespace, devname: string, devBegin: number, devSize: number): number {
  const region = ns.region;
  const regionBegin = region.resource();
  if (regionBegin === ULLONG_MAX) {
    if (ns.enable() < 0) run.error(`${devname}: failed to reenable namespace\n`);
    return -ENXIO;
  }
  const devEnd = devBegin + devSize - 1;
  let cleared = 0;
  for (const line of region.badblocks()) {
    const [offset, len] = line.split(/\s+/).map(Number) as [number, number];
    const bbBegin = regionBegin + offset * 512;
    const bbLen = len * 512;
    if (bbBegin < devBegin || bbBegin + bbLen - 1 > devEnd) continue;
    if (busSendClear(run, region.bus, bbBegin, bbLen) !== 0) {
      run.error(`${devname}: failed to clear badblock at {${offset}, ${len}}\n`);
      break;
    }
    cleared += len;
  }
  run.debug('nstype_clear_badblocks:1403', `${devname}: cleared ${cleared} badblocks\n`);
  const rc = ns.enable();
  return rc < 0 ? rc : 0;
}

/**
 * `namespace_clear_bb()`: a btt namespace is skipped (1); else the bus's
 * scrub is waited for (started with `--scrub`), the namespace disabled,
 * its data area's badblocks cleared through the bus, and the namespace
 * printed with its remaining media errors.
 */
function namespaceClearBb(run: Run, ns: NdNamespace, doScrub: boolean): number {
  const btt = ns.btt();
  if (btt !== undefined) {
    run.debug('namespace_clear_bb:1529', `${btt.devname}: skip error clearing for btt\n`);
    return 1;
  }
  let rc = namespaceWaitScrub(run, ns, doScrub);
  if (rc !== 0) return rc;
  const claim = ns.dax() ?? ns.pfn();
  const devname = claim?.devname ?? ns.devname;
  const begin = claim !== undefined ? claim.resource() : ns.resource();
  const size = claim !== undefined ? claim.size() : ns.size();
  if (begin === ULLONG_MAX || size === ULLONG_MAX) return -ENXIO;
  rc = ns.disableSafe((b) => run.exclusiveOpen(b));
  if (rc < 0) {
    run.error(`${devname}: unable to disable namespace: ${strerror(-rc)}\n`);
    return rc;
  }
  rc = nstypeClearBadblocks(run, ns, devname, begin, size);
  if (rc !== 0) return rc;
  const j = namespaceToJson(ns, { human: false, verbose: false, dax: false, mediaErrors: true });
  if (j !== undefined) run.io.out(`${toJsonString(j)}\n`);
  return 0;
}

// ---------------------------------------------------------------------------
// ndctl/region.c

const REGION_OPTIONS: readonly NdctlOption[] = [
  { short: 'b', long: 'bus', type: 'string', argh: 'bus-id', help: '<region> must be on a bus with an id/provider of <bus-id>' },
  { short: 't', long: 'type', type: 'string', argh: 'region-type', help: '<region> must be of the specified type' },
];

/** `cmd_disable_region()` / `cmd_enable_region()`. */
function cmdXableRegion(run: Run, args: readonly string[], action: 'enable' | 'disable'): number {
  const usage = `ndctl ${action}-region <region> [<options>]`;
  const o = parseNdctlOptions(args, REGION_OPTIONS, [usage]);
  const argv = o.operands;
  if (argv.length === 0) run.error('specify a specific region id to act on, or "all"\n');
  for (let i = 1; i < argv.length; i++) run.error(`unknown extra parameter "${argv[i]!}"\n`);
  if (argv.length !== 1) throw new NdctlUsageExit(usageWithOptions([usage], REGION_OPTIONS));
  const bus = o.values.get('bus') as string | undefined;
  const type = o.values.get('type') as string | undefined;
  if (type !== undefined && type !== 'pmem' && type !== 'blk') {
    run.error(`unknown region type '${type}', should be 'pmem' or 'blk'\n`);
    throw new NdctlUsageExit(usageWithOptions([usage], REGION_OPTIONS));
  }
  let success = 0;
  for (const b of run.ctx.buses()) {
    if (!busFilter(b, bus)) continue;
    for (const region of b.regions()) {
      if (type !== undefined && region.typeName() !== type) continue;
      if (!regionFilter(region, argv[0])) continue;
      let rc = 0;
      if (action === 'enable') rc = region.enable();
      else {
        for (const ns of region.namespaces()) {
          rc = ns.disableSafe((d) => run.exclusiveOpen(d));
          if (rc < 0) break;
        }
        if (rc >= 0) rc = region.disableInvalidate();
      }
      if (rc === 0) success++;
    }
  }
  const past = action === 'enable' ? 'enabled' : 'disabled';
  if (success === 0) run.io.err(`${past} 0 regions\n`);
  else run.io.err(`${past} ${success} region${success > 1 ? 's' : ''}\n`);
  return 0;
}

// ---------------------------------------------------------------------------
// ndctl/bus.c: start-scrub, wait-scrub

const BUS_OPTIONS: readonly NdctlOption[] = [{ short: 'v', long: 'verbose', type: 'boolean', help: 'turn on debug' }];
const WAIT_OPTIONS: readonly NdctlOption[] = [...BUS_OPTIONS, { short: 'p', long: 'poll', type: 'string', argh: 'n', help: 'poll interval (seconds)' }];

/** How long the demo's ndctl sleeps between reads of `nfit/scrub` when it has no poll interval (it has no sysfs_notify() to wake it). */
const SCRUB_POLL_NS = 100e6;

/**
 * `ndctl_bus_poll_scrub_completion()`: opens `nfit/scrub` (its errno when
 * the bus has none), then reads it until it no longer ends in "+",
 * sleeping `pollInterval` seconds between reads (see {@link SCRUB_POLL_NS}
 * without one); -ETIMEDOUT after `timeout` seconds (0: no limit).
 */
function pollScrubCompletion(run: Run, bus: NdBus, pollInterval = 0, timeout = 0): number {
  const path = `${bus.path}/nfit/scrub`;
  if (!run.io.fs.exists(path)) return -ENOENT;
  const step = pollInterval > 0 ? pollInterval * 1e9 : SCRUB_POLL_NS;
  let waited = 0;
  for (;;) {
    const state = bus.scrubStateRc();
    if (state < 0) return -EOPNOTSUPP;
    if (state === 0) break;
    if (run.io.sleep === undefined || (timeout > 0 && waited >= timeout * 1e9)) return -ETIMEDOUT;
    run.io.sleep(step);
    waited += step;
  }
  run.ctx.dbg('ndctl_bus_poll_scrub_completion', `${bus.provider()}: scrub complete, status: '${run.ctx.read(path) ?? ''}'\n`);
  return 0;
}

/**
 * `ndctl_bus_start_scrub()`: writes 1 to `nfit/scrub`; when the kernel is
 * busy, waits one poll cycle (1 s) for the running scrub and tries again.
 */
function startScrub(run: Run, bus: NdBus): number {
  const rc = bus.startScrub();
  if (rc === -EBUSY && pollScrubCompletion(run, bus, 1, 1) === 0) return bus.startScrub();
  return rc;
}

/**
 * `bus_action()` for `start-scrub` / `wait-scrub`: each bus the operands
 * name (all without one) starts a scrub or is waited for; the buses that
 * succeeded are printed as `util_bus_to_json()` gives them.
 */
function cmdScrub(run: Run, args: readonly string[], action: 'start' | 'wait'): number {
  const usage = `ndctl ${action}-scrub [<bus-id> <bus-id2> ... <bus-idN>] [<options>]`;
  const options = action === 'start' ? BUS_OPTIONS : WAIT_OPTIONS;
  const o = parseNdctlOptions(args, options, [usage]);
  const poll = o.values.get('poll') as string | undefined;
  if (poll !== undefined && poll !== '' && !/^\s*[+-]?\d+$/.test(poll)) {
    const short = args.some((a) => /^-[^-]*p/.test(a));
    throw new NdctlUsageExit(ndctlError(short ? "switch `p' expects a numerical value" : "option `poll' expects a numerical value") + usageWithOptions([usage], options));
  }
  const pollSeconds = poll === undefined || poll === '' ? 0 : Math.max(0, Number.parseInt(poll, 10));
  const verbose = o.values.get('verbose') === true;
  run.ctx.debug = verbose;
  let argv = o.operands;
  if (argv.length === 0 || argv.includes('all')) argv = ['all'];
  const jbuses: JsonArray = [];
  let success = 0;
  let fail = 0;
  for (const ident of argv) {
    let found = 0;
    for (const bus of run.ctx.buses()) {
      if (!busFilter(bus, ident)) continue;
      found++;
      const rc = action === 'wait' ? pollScrubCompletion(run, bus, pollSeconds) : startScrub(run, bus);
      if (rc === 0) {
        success++;
        jbuses.push(busToJson(bus));
      } else if (fail === 0) fail = rc;
    }
    if (found === 0 && verbose) run.io.err(`no bus matches id: ${ident}\n`);
  }
  if (success > 0) {
    run.io.out(displayJsonArray(jbuses, false));
    return 0;
  }
  const rc = fail !== 0 ? fail : -ENXIO;
  run.io.err(`error ${action === 'start' ? 'starting scrub' : 'waiting for scrub completion'}: ${strerror(-rc)}\n`);
  return rc;
}

// ---------------------------------------------------------------------------
// ndctl/ndctl.c

const COMMANDS: readonly string[] = [
  'version', 'list', 'create-namespace', 'destroy-namespace', 'disable-namespace', 'enable-namespace',
  'check-namespace', 'clear-errors', 'disable-region', 'enable-region', 'read-labels', 'init-labels', 'inject-error',
  'start-scrub', 'wait-scrub',
];

const NDCTL_USAGE = 'ndctl [--version] [--help] COMMAND [ARGS]';
const NDCTL_MORE_INFO =
  "See 'ndctl help COMMAND' for more information on a specific command.\n ndctl --list-cmds to see all available commands";

/**
 * `main()` of ndctl/ndctl.c: runs `ndctl ARGS...` and returns its exit
 * status (the command's return value modulo 256, 129 after a usage error,
 * 1 for an unknown command).
 */
export function ndctl(args: readonly string[], io: NdctlIo): number {
  const argv = [...args];
  if (argv.length === 0) {
    io.out(`\n usage: ${NDCTL_USAGE}\n\n\n ${NDCTL_MORE_INFO}\n\n`);
    return 1;
  }
  if (argv[0] === '--version' || argv[0] === 'version') {
    io.out(`${NDCTL_VERSION}\n`);
    return 0;
  }
  if (argv[0] === '--list-cmds') {
    for (const c of COMMANDS) io.out(`${c}\n`);
    return 0;
  }
  if (argv[0] === '--help' || argv[0] === 'help') {
    io.out(`\n usage: ${NDCTL_USAGE}\n\n\n ${NDCTL_MORE_INFO}\n\n`);
    return 0;
  }
  let cmd = argv[0]!;
  if (cmd.startsWith('--')) cmd = cmd.slice(2);
  const rest = argv.slice(1);
  const run = new Run(io);
  let rc: number;
  try {
    switch (cmd) {
      case 'list':
        rc = cmdList(run, rest);
        break;
      case 'create-namespace':
        rc = cmdCreateNamespace(run, rest);
        break;
      case 'destroy-namespace':
        rc = cmdXableNamespace(run, rest, 'destroy');
        break;
      case 'disable-namespace':
        rc = cmdXableNamespace(run, rest, 'disable');
        break;
      case 'enable-namespace':
        rc = cmdXableNamespace(run, rest, 'enable');
        break;
      case 'disable-region':
        rc = cmdXableRegion(run, rest, 'disable');
        break;
      case 'enable-region':
        rc = cmdXableRegion(run, rest, 'enable');
        break;
      case 'read-labels':
        rc = cmdReadLabels(io, rest);
        break;
      case 'init-labels':
        rc = cmdInitLabels(io, rest);
        break;
      case 'inject-error':
        rc = cmdInjectError(io, rest);
        break;
      case 'check-namespace':
        rc = cmdCheckOrClear(run, rest, 'check');
        break;
      case 'clear-errors':
        rc = cmdCheckOrClear(run, rest, 'clear');
        break;
      case 'start-scrub':
        rc = cmdScrub(run, rest, 'start');
        break;
      case 'wait-scrub':
        rc = cmdScrub(run, rest, 'wait');
        break;
      default:
        io.err(`Unknown command: '${cmd}'\n`);
        return 1;
    }
  } catch (e) {
    if (e instanceof NdctlUsageExit) {
      io.err(e.stderr);
      return 129;
    }
    throw e;
  }
  // run_builtin(): status & 0xff.
  return ((rc % 256) + 256) % 256;
}

/**
 * `ndctl` as a shell command of a machine. libuuid's randomness comes from
 * the machine's `/dev/urandom` (a seeded generator: the same run prints the
 * same uuids); the page size is the machine's.
 */
export function ndctlCommand(
  pageSize: number,
  busCommand?: (bus: string, command: NdBusCommand) => NdBusCommandResult,
  sleep?: (ns: number) => void,
): ShellCommand {
  return {
    name: 'ndctl',
    synopsis: 'ndctl COMMAND [OPTIONS]',
    summary: 'libnvdimm: list, create-/destroy-/enable-/disable-/check-namespace, clear-errors, start-/wait-scrub, enable-/disable-region, read-/init-labels, inject-error (ndctl v72)',
    run: (ctx) =>
      ndctl(ctx.args, {
        fs: ctx.fs,
        out: (t) => ctx.out(t),
        err: (t) => ctx.err(t),
        pageSize,
        ...(busCommand !== undefined ? { busCommand } : {}),
        ...(sleep !== undefined ? { sleep } : {}),
        random: (n) => {
          const fs = ctx.fs;
          const bytes = fs.pread !== undefined && fs.exists('/dev/urandom') ? fs.pread('/dev/urandom', 0, n) : new Uint8Array(n);
          return bytes;
        },
      }),
  };
}
