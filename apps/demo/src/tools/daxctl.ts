/**
 * daxctl (pmem/ndctl v72, daxctl/) as a program of the demo's shell: `list`,
 * `reconfigure-device`, `online-memory` and `offline-memory`. Like the real
 * tool it only reads and writes sysfs — `/sys/bus/dax` (devices, the
 * `device_dax` and `kmem` drivers' `new_id`/`remove_id`/`bind`/`unbind`),
 * the nd dax device's `dax_region/`, and the memory blocks of
 * `/sys/devices/system/node/nodeN` — so what it prints is what the
 * kernel's files say.
 *
 * ```
 *   reconfigure-device -m system-ram dax0.0
 *     auto_online_blocks "online*" and (-N or movable) and no -f  -> refuse (EBUSY)
 *     device_dax: driver/remove_id, driver/unbind
 *     kmem: drivers/kmem/new_id, drivers/kmem/bind
 *     every offline block of the device: state <- online_movable (or online with --no-movable)
 *   reconfigure-device -m devdax dax0.0
 *     (-f: every online block: state <- offline)   blocks online -> EBUSY
 *     kmem: driver/remove_id, driver/unbind;  device_dax: new_id, bind
 * ```
 *
 * Mirrors daxctl/daxctl.c, daxctl/list.c, daxctl/device.c,
 * daxctl/lib/libdaxctl.c and util/json.c of ndctl v72.
 */
import { ERRNO, strerror } from '@zonedev/kernel';
import type { ShellCommand } from '../shell/command.js';
import type { VirtualFs } from '../shell/vfs.js';
import { SysfsLibCtx } from './sysfs-lib.js';
import { displayJsonArray, JsonHex, JsonObject, JsonSize, parseSize64, type JsonArray } from './ndctl-json.js';
import { NdctlUsageExit, parseNdctlOptions, usageWithOptions, type NdctlOption } from './ndctl-options.js';

/** The ndctl release this daxctl comes from (`daxctl --version`). */
export const DAXCTL_VERSION = '72';

const DAX_BUS = '/sys/bus/dax';
const MEMORY = '/sys/devices/system/memory';
const NODE_BASE = '/sys/devices/system/node/node';

/** What daxctl needs from the machine it runs on. */
export interface DaxctlIo {
  readonly fs: VirtualFs;
  out(text: string): void;
  err(text: string): void;
}

/** `dax_modules[]` (libdaxctl-private.h): the dax-bus driver of each mode. */
const DAX_MODULES = { devdax: 'device_dax', 'system-ram': 'kmem' } as const;
type DevMode = keyof typeof DAX_MODULES;

/** `struct daxctl_ctx` with libdaxctl's sysfs helpers and logging. */
class DaxctlCtx extends SysfsLibCtx {
  constructor(fs: VirtualFs, stderr: (t: string) => void) {
    super(fs, stderr, 'libdaxctl');
  }

  /** libdaxctl's writes end their values with a newline. */
  override write(path: string, value: string, quiet = false): number {
    return super.write(path, `${value}\n`, quiet);
  }

  /** `daxctl_region_foreach()` (`dax_regions_init()` over `/sys/bus/dax/devices`): regions by id, each with its devices. */
  regions(): DaxctlRegion[] {
    const byId = new Map<number, DaxctlRegion>();
    for (const name of this.list(`${DAX_BUS}/devices`)) {
      const m = /^dax(\d+)\.(\d+)$/.exec(name);
      if (m === null) continue;
      const id = Number(m[1]);
      let r = byId.get(id);
      if (r === undefined) {
        r = new DaxctlRegion(this, id, this.regionPath(name));
        byId.set(id, r);
      }
      r.devices.push(new DaxctlDev(this, r, name, Number(m[2])));
    }
    const out = [...byId.values()].sort((a, b) => a.id - b.id);
    for (const r of out) r.devices.sort((a, b) => a.instance - b.instance);
    return out;
  }

  /** The `/sys/devices` directory holding `devname` and `dax_region/` (the provider device, an nd dax device). */
  private regionPath(devname: string): string | undefined {
    const plat = '/sys/devices/platform';
    for (const p of this.list(plat)) {
      for (const bus of this.list(`${plat}/${p}`).filter((n) => n.startsWith('ndbus'))) {
        for (const reg of this.list(`${plat}/${p}/${bus}`).filter((n) => n.startsWith('region'))) {
          for (const nd of this.list(`${plat}/${p}/${bus}/${reg}`).filter((n) => n.startsWith('dax'))) {
            const dir = `${plat}/${p}/${bus}/${reg}/${nd}`;
            if (this.fs.isDir(`${dir}/${devname}`) && this.fs.isDir(`${dir}/dax_region`)) return dir;
          }
        }
      }
    }
    return undefined;
  }
}

/** `struct daxctl_region`. */
class DaxctlRegion {
  readonly devices: DaxctlDev[] = [];
  constructor(
    readonly ctx: DaxctlCtx,
    readonly id: number,
    readonly path: string | undefined,
  ) {}

  private attr(name: string): number | undefined {
    if (this.path === undefined) return undefined;
    const v = this.ctx.read(`${this.path}/dax_region/${name}`);
    return v === undefined ? undefined : Number(v);
  }

  /** `daxctl_region_get_size()`: ULLONG_MAX (undefined) when unknown. */
  get size(): number | undefined {
    return this.attr('size');
  }

  get availableSize(): number {
    return this.attr('available_size') ?? 0;
  }

  get align(): number | undefined {
    return this.attr('align');
  }
}

/** `struct daxctl_dev`. */
class DaxctlDev {
  readonly path: string;
  constructor(
    readonly ctx: DaxctlCtx,
    readonly region: DaxctlRegion,
    readonly devname: string,
    readonly instance: number,
  ) {
    this.path = `${DAX_BUS}/devices/${devname}`;
  }

  private num(name: string, base: 10 | 16 = 10): number | undefined {
    const v = this.ctx.read(`${this.path}/${name}`);
    if (v === undefined) return undefined;
    const n = base === 16 ? parseInt(v, 16) : Number(v);
    return Number.isFinite(n) ? n : undefined;
  }

  get size(): number {
    return this.num('size') ?? 0;
  }

  /** `daxctl_dev_get_resource()`: 0 when unreadable. */
  get resource(): number {
    return this.num('resource', 16) ?? 0;
  }

  /** `daxctl_dev_get_target_node()`: -1 when the file is hidden. */
  get targetNode(): number {
    return this.num('target_node') ?? -1;
  }

  get align(): number {
    return this.num('align') ?? 0;
  }

  /** `daxctl_dev_is_enabled()`: a `driver` link. */
  isEnabled(): boolean {
    return this.ctx.fs.exists(`${this.path}/driver`);
  }

  /** The bound driver's name (what `realpath(driver)`'s basename says). */
  driverName(): string | undefined {
    if (!this.isEnabled()) return undefined;
    for (const d of this.ctx.list(`${DAX_BUS}/drivers`)) if (this.ctx.fs.exists(`${DAX_BUS}/drivers/${d}/${this.devname}`)) return d;
    return undefined;
  }

  /** `daxctl_dev_get_memory()`: a memory object only while kmem drives the device. */
  memory(): DaxctlMemory | undefined {
    if (this.driverName() !== DAX_MODULES['system-ram']) return undefined;
    return new DaxctlMemory(this);
  }

  /** `daxctl_bind()`: `new_id`, then `bind`, of the mode's driver. */
  private bind(mod: string): number {
    let rc = 0;
    for (const d of this.ctx.list(`${DAX_BUS}/drivers`)) {
      if (d !== mod) continue;
      rc = this.ctx.write(`${DAX_BUS}/drivers/${d}/new_id`, this.devname, true);
      rc = this.ctx.write(`${DAX_BUS}/drivers/${d}/bind`, this.devname, true);
      break;
    }
    if (rc !== 0) this.ctx.dbg('daxctl_bind', `${this.devname}: bind failed\n`);
    return rc;
  }

  /** `daxctl_unbind()`: `driver/remove_id`, then `driver/unbind`. */
  private unbind(): number {
    const rc = this.ctx.write(`${this.path}/driver/remove_id`, this.devname);
    if (rc !== 0) return rc;
    return this.ctx.write(`${this.path}/driver/unbind`, this.devname);
  }

  /** `daxctl_dev_enable()`. */
  enable(mode: DevMode): number {
    if (this.isEnabled()) return 0;
    const rc = this.bind(DAX_MODULES[mode]);
    if (!this.isEnabled()) {
      this.ctx.err('daxctl_dev_enable', `${this.devname}: failed to enable\n`);
      return rc !== 0 ? rc : -ERRNO.ENXIO;
    }
    this.ctx.dbg('daxctl_dev_enable', `${this.devname}: enabled\n`);
    return 0;
  }

  /** `daxctl_dev_disable()`. */
  disable(): number {
    if (!this.isEnabled()) return 0;
    this.unbind();
    if (this.isEnabled()) {
      this.ctx.err('daxctl_dev_disable', `${this.devname}: failed to disable\n`);
      return -ERRNO.EBUSY;
    }
    this.ctx.dbg('daxctl_dev_disable', `${this.devname}: disabled\n`);
    return 0;
  }
}

type MemOp = 'online' | 'online_no_movable' | 'offline' | 'is_online' | 'count' | 'get_zone';

/** `struct daxctl_memory`: the memory blocks of a kmem-driven device on its target node. */
class DaxctlMemory {
  readonly blockSize: number;
  readonly nodePath: string | undefined;
  private zone: 'Movable' | 'Normal' | 'unknown' | undefined;

  constructor(readonly dev: DaxctlDev) {
    const bs = dev.ctx.read(`${MEMORY}/block_size_bytes`);
    this.blockSize = bs === undefined ? 0 : parseInt(bs, 16) || 0;
    const node = dev.targetNode;
    this.nodePath = node >= 0 ? `${NODE_BASE}${node}` : undefined;
  }

  private isOnline(block: string): number {
    const v = this.dev.ctx.read(`${this.nodePath!}/${block}/state`);
    if (v === undefined) {
      this.dev.ctx.err('memblock_is_online', `${this.dev.devname}: Failed to read ${this.nodePath!}/${block}/state: ${strerror('ENOENT')}\n`);
      return -ERRNO.ENOENT;
    }
    return v.startsWith('online') ? 1 : 0;
  }

  /** `memblock_in_dev()`: the block's start is within [resource, resource + size] (inclusive, as v72 checks). */
  private inDev(block: string): number {
    const dev = this.dev;
    const idx = dev.ctx.read(`${MEMORY}/${block}/phys_index`);
    if (idx === undefined) {
      dev.ctx.err('memblock_in_dev', `${dev.devname}: ${block}: Unable to determine phys_index: ${strerror('ENOENT')}\n`);
      return -ERRNO.ENOENT;
    }
    const start = dev.resource;
    if (start === 0) {
      dev.ctx.err('memblock_in_dev', `${dev.devname}: Unable to determine resource\n`);
      return -ERRNO.EACCES;
    }
    const end = start + dev.size;
    if (this.blockSize === 0) {
      dev.ctx.err('memblock_in_dev', `${dev.devname}: Unable to determine memory block size\n`);
      return -ERRNO.ENXIO;
    }
    const res = parseInt(idx, 16) * this.blockSize;
    return res >= start && res <= end ? 1 : 0;
  }

  private opOne(block: string, op: MemOp): number {
    const ctx = this.dev.ctx;
    const state = `${this.nodePath!}/${block}/state`;
    switch (op) {
      case 'online':
      case 'online_no_movable': {
        const on = this.isOnline(block);
        if (on !== 0) return on;
        const rc = ctx.write(state, op === 'online' ? 'online_movable' : 'online', true);
        if (rc !== 0 && this.isOnline(block) === 1) return 0;
        return rc;
      }
      case 'offline': {
        const on = this.isOnline(block);
        if (on < 0) return on;
        if (on === 0) return 1;
        const rc = ctx.write(state, 'offline', true);
        if (rc !== 0) {
          if (this.isOnline(block) === 0) return 1;
          ctx.err('offline_one_memblock', `${this.dev.devname}: Failed to offline ${state}: ${strerror(-rc)}\n`);
        }
        return rc;
      }
      case 'is_online': {
        const on = this.isOnline(block);
        return on < 0 ? on : on === 1 ? 0 : 1;
      }
      case 'count':
        return 0;
      case 'get_zone': {
        const on = this.isOnline(block);
        if (on < 0) return on;
        if (on === 0) return -ERRNO.ENXIO;
        const z = ctx.read(`${this.nodePath!}/${block}/valid_zones`);
        if (z === undefined) return -ERRNO.ENOENT;
        const cur = z === 'Movable' ? 'Movable' : z === 'Normal' ? 'Normal' : 'unknown';
        if (this.zone === undefined) this.zone = cur;
        else if (this.zone !== cur) this.zone = 'unknown';
        return 0;
      }
    }
  }

  /** `daxctl_memory_op()`: the op on every block of the node in the device's range, in readdir order; the count of 0 results. */
  op(op: MemOp): number {
    if (this.nodePath === undefined) {
      this.dev.ctx.err('daxctl_memory_op', `${this.dev.devname}: Failed to get node_path\n`);
      return -ERRNO.ENXIO;
    }
    let count = 0;
    for (const name of this.dev.ctx.list(this.nodePath)) {
      if (!/^memory\d+$/.test(name)) continue;
      let rc = this.inDev(name);
      if (rc < 0) return rc;
      if (rc === 0) continue;
      rc = this.opOne(name, op);
      if (rc < 0) return rc;
      if (rc === 0) count++;
    }
    return count;
  }

  numSections(): number {
    return this.op('count');
  }

  onlineCount(): number {
    return this.op('is_online');
  }

  /** `daxctl_memory_is_movable()`: 1, 0, or a negative errno (an offline block makes the zone scan fail). */
  isMovable(): number {
    this.zone = undefined;
    const rc = this.op('get_zone');
    if (rc < 0) return rc;
    return this.zone === 'Movable' ? 1 : 0;
  }

  /** `daxctl_memory_online_with_zone()`. */
  online(movable: boolean): number {
    const rc = this.op(movable ? 'online' : 'online_no_movable');
    if (rc !== 0) return rc;
    this.zone = undefined;
    const z = this.op('get_zone');
    if (z !== 0) return z;
    if (this.zone !== (movable ? 'Movable' : 'Normal')) {
      this.dev.ctx.err(
        'daxctl_memory_online_with_zone',
        `${this.dev.devname}:\n  WARNING: detected a race while onlining memory\n  See 'man daxctl-reconfigure-device' for more details\n`,
      );
      return -ERRNO.EBUSY;
    }
    return 0;
  }

  offline(): number {
    return this.op('offline');
  }
}

// ---------------------------------------------------------------------------
// util/json.c

/** `util_daxctl_dev_to_json()`; with `mappings` (-M) the `mappingN` ranges. */
function devToJson(dev: DaxctlDev, human: boolean, mappings = false): JsonObject {
  const mem = dev.memory();
  const j = new JsonObject();
  j.add('chardev', dev.devname);
  j.add('size', new JsonSize(dev.size, human));
  const node = dev.targetNode;
  if (node >= 0) j.add('target_node', node);
  const align = dev.align;
  if (align > 0) j.add('align', new JsonSize(align, human));
  j.add('mode', mem !== undefined ? 'system-ram' : 'devdax');
  if (mem !== undefined && dev.resource !== 0) {
    const total = mem.numSections();
    const online = mem.onlineCount();
    j.add('online_memblocks', online);
    j.add('total_memblocks', total);
    const movable = mem.isMovable();
    if (movable === 1) j.add('movable', true);
    else if (movable === 0) j.add('movable', false);
  }
  if (!dev.isEnabled()) j.add('state', 'disabled');
  if (!mappings) return j;
  let jmaps: JsonArray | undefined;
  // mappings_init(): mapping0, mapping1, ... until one is missing
  for (let i = 0; ; i++) {
    const at = (f: string): number | undefined => {
      const t = dev.ctx.read(`${dev.path}/mapping${i}/${f}`);
      return t === undefined ? undefined : parseInt(t, 16);
    };
    const start = at('start');
    const end = at('end');
    const pgoff = at('page_offset');
    if (start === undefined || end === undefined || pgoff === undefined) break;
    if (jmaps === undefined) {
      jmaps = [];
      j.add('mappings', jmaps);
    }
    jmaps.push(
      new JsonObject()
        .add('page_offset', new JsonHex(pgoff, human))
        .add('start', new JsonHex(start, human))
        .add('end', new JsonHex(end, human))
        .add('size', new JsonSize(end - start + 1, human)),
    );
  }
  return j;
}

/** `util_daxctl_dev_filter()`. */
function devFilter(dev: DaxctlDev, ident: string | undefined): boolean {
  return ident === undefined || ident === 'all' || ident === dev.devname;
}

/** `util_daxctl_region_filter()`: "all", the id, or "region<id>". */
function regionFilter(region: DaxctlRegion, ident: string | undefined): boolean {
  if (ident === undefined || ident === 'all') return true;
  const m = /^(?:region)?(\d+)$/.exec(ident);
  return m !== null && Number(m[1]) === region.id;
}

/** `util_daxctl_devs_to_list()`: devices of size 0 only with -i. */
function devsToList(region: DaxctlRegion, into: JsonArray | undefined, ident: string | undefined, human: boolean, idle: boolean, mappings: boolean): JsonArray | undefined {
  let out = into;
  for (const dev of region.devices) {
    if (!devFilter(dev, ident)) continue;
    if (!idle && dev.size === 0) continue;
    out ??= [];
    out.push(devToJson(dev, human, mappings));
  }
  return out;
}

/** `util_daxctl_region_to_json()`. */
function regionToJson(region: DaxctlRegion, ident: string | undefined, human: boolean, devs: boolean, idle: boolean, mappings: boolean): JsonObject | undefined {
  const j = new JsonObject();
  if (region.path === undefined || !region.path.startsWith('/sys/devices')) return undefined;
  j.add('path', region.path.slice('/sys/devices'.length));
  j.add('id', region.id);
  const size = region.size;
  if (size !== undefined) j.add('size', new JsonSize(size, human));
  const avail = region.availableSize;
  if (avail !== 0) j.add('available_size', new JsonSize(avail, human));
  const align = region.align;
  if (align !== undefined) j.add('align', align);
  if (!devs) return j;
  const list = devsToList(region, undefined, ident, human, idle, mappings);
  if (list !== undefined) j.add('devices', list);
  return j;
}

// ---------------------------------------------------------------------------
// daxctl/list.c

const LIST_OPTIONS: readonly NdctlOption[] = [
  { short: 'r', long: 'region', type: 'string', argh: 'region-id', help: 'filter by region' },
  { short: 'd', long: 'dev', type: 'string', argh: 'dev-id', help: 'filter by dax device instance name' },
  { short: 'D', long: 'devices', type: 'boolean', help: 'include dax device info' },
  { short: 'R', long: 'regions', type: 'boolean', help: 'include dax region info' },
  { short: 'M', long: 'mappings', type: 'boolean', help: 'include dax mappings info' },
  { short: 'i', long: 'idle', type: 'boolean', help: 'include idle devices' },
  { short: 'u', long: 'human', type: 'boolean', help: 'use human friendly number formats ' },
];

/** `cmd_list()`. */
function cmdList(ctx: DaxctlCtx, io: DaxctlIo, args: readonly string[]): number {
  const usage = ['daxctl list [<options>]'];
  const p = parseNdctlOptions(args, LIST_OPTIONS, usage);
  if (p.operands.length > 0) {
    let msg = '';
    for (const a of p.operands) msg += `  Error: unknown parameter "${a}"\n`;
    throw new NdctlUsageExit(msg + usageWithOptions(usage, LIST_OPTIONS));
  }
  const v = (k: string): string | undefined => p.values.get(k) as string | undefined;
  const b = (k: string): boolean => p.values.get(k) === true;
  const region = v('region');
  const dev = v('dev');
  let regions = b('regions');
  let devs = b('devices');
  if (!regions && !devs) {
    regions = region !== undefined;
    devs = dev !== undefined;
  }
  if (!regions && !devs) devs = true;
  const human = b('human');
  const idle = b('idle');
  const mappings = b('mappings');
  let jregions: JsonArray | undefined;
  let jdevs: JsonArray | undefined;
  for (const r of ctx.regions()) {
    if (!regionFilter(r, region)) continue;
    if (regions) {
      jregions ??= [];
      const j = regionToJson(r, dev, human, devs, idle, mappings);
      if (j === undefined) {
        io.err(`daxctl-${DAXCTL_VERSION}:cmd_list: \n`);
        continue;
      }
      jregions.push(j);
    } else {
      jdevs = devsToList(r, jdevs, dev, human, idle, mappings);
    }
  }
  if (jregions !== undefined) io.out(displayJsonArray(jregions, human));
  else if (jdevs !== undefined) io.out(displayJsonArray(jdevs, human));
  return 0;
}

// ---------------------------------------------------------------------------
// daxctl/device.c

interface DeviceParams {
  readonly device: string;
  readonly region: string | undefined;
  readonly human: boolean;
  readonly verbose: boolean;
  readonly mode: DevMode | undefined;
  readonly noOnline: boolean;
  readonly noMovable: boolean;
  readonly force: boolean;
  /** `-s`: the size to resize to, or -1. */
  readonly size: number;
  /** `-a`: the align to set, or -1. */
  readonly align: number;
}

const BASE_OPTIONS: readonly NdctlOption[] = [
  { short: 'r', long: 'region', type: 'string', argh: 'region-id', help: 'filter by region' },
  { short: 'u', long: 'human', type: 'boolean', help: 'use human friendly number formats' },
  { short: 'v', long: 'verbose', type: 'boolean', help: 'emit more debug messages' },
];
const RECONFIG_OPTIONS: readonly NdctlOption[] = [
  ...BASE_OPTIONS,
  { short: 's', long: 'size', type: 'string', argh: 'size', help: 'size to switch the device to' },
  { short: 'a', long: 'align', type: 'string', argh: 'align', help: 'alignment to switch the device to' },
  { long: 'input', type: 'string', argh: 'input', help: 'input device JSON file' },
  { short: 'm', long: 'mode', type: 'string', argh: 'mode', help: 'mode to switch the device to' },
  { short: 'N', long: 'no-online', type: 'boolean', help: "don't auto-online memory sections" },
  { short: 'f', long: 'force', type: 'boolean', help: 'attempt to offline memory sections before reconfiguration' },
  { short: 'C', long: 'check-config', type: 'boolean', help: 'use config files to determine parameters for the operation' },
  { long: 'no-movable', type: 'boolean', help: 'online memory in ZONE_NORMAL' },
];
const ONLINE_OPTIONS: readonly NdctlOption[] = [...BASE_OPTIONS, { long: 'no-movable', type: 'boolean', help: 'online memory in ZONE_NORMAL' }];
const OFFLINE_OPTIONS: readonly NdctlOption[] = BASE_OPTIONS;
const XBLE_OPTIONS: readonly NdctlOption[] = BASE_OPTIONS;
const CREATE_OPTIONS: readonly NdctlOption[] = RECONFIG_OPTIONS;
const DESTROY_OPTIONS: readonly NdctlOption[] = [...BASE_OPTIONS, { short: 'f', long: 'force', type: 'boolean', help: 'attempt to disable before destroying device' }];

type Action = 'reconfig' | 'online' | 'offline' | 'disable' | 'enable' | 'destroy' | 'create';

/** `parse_device_options()`'s "specify a device to %s" words. */
const ACTION_WORDS: Readonly<Record<Action, string>> = {
  reconfig: 'reconfigure',
  online: 'online memory for',
  offline: 'offline memory for',
  disable: 'disable',
  enable: 'enable',
  destroy: 'destroy',
  create: '<>',
};

/** `parse_device_options()`: the device and the parameters, or a usage exit (129). */
function parseDeviceOptions(args: readonly string[], action: Action, options: readonly NdctlOption[], usage: string): DeviceParams {
  const p = parseNdctlOptions(args, options, [usage]);
  const v = (k: string): string | undefined => p.values.get(k) as string | undefined;
  const b = (k: string): boolean => p.values.get(k) === true;
  let msg = '';
  if (p.operands.length === 0 && action !== 'create') msg += `specify a device to ${ACTION_WORDS[action]}, or "all"\n`;
  for (const extra of p.operands.slice(1)) msg += `unknown extra parameter "${extra}"\n`;
  if (msg !== '') throw new NdctlUsageExit(msg + usageWithOptions([usage], options));
  const first = p.operands[0] ?? '';
  const device = first.slice(first.lastIndexOf('/') + 1);
  let mode: DevMode | undefined;
  let size = -1;
  let align = -1;
  if (action === 'reconfig') {
    const m = v('mode');
    if (v('size') === undefined && v('align') === undefined && m === undefined) {
      throw new NdctlUsageExit("error: a 'align', 'mode' or 'size' option is required\n" + usageWithOptions([usage], RECONFIG_OPTIONS));
    }
    if (v('size') !== undefined || v('align') !== undefined) {
      if (v('size') !== undefined) size = parseSize64(v('size')!)?.value ?? -1;
      if (v('align') !== undefined) align = parseSize64(v('align')!)?.value ?? -1;
    } else if (m === 'system-ram' || m === 'devdax') {
      mode = m;
      if (m === 'devdax' && b('no-online')) {
        throw new NdctlUsageExit('--no-online is incompatible with --mode=devdax\n' + usageWithOptions([usage], options));
      }
    }
  } else if (action === 'create') {
    if (v('size') !== undefined) size = parseSize64(v('size')!)?.value ?? -1;
    if (v('align') !== undefined) align = parseSize64(v('align')!)?.value ?? -1;
  }
  return {
    device,
    region: v('region'),
    human: b('human'),
    verbose: b('verbose'),
    mode,
    noOnline: b('no-online'),
    noMovable: b('no-movable'),
    force: b('force'),
    size,
    align,
  };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * The checks `dev_online_memory()` and `dev_offline_memory()` both start with:
 * the device's memory object, its number of memory sections and how many are
 * online; or the negative errno after daxctl's message.
 */
function memoryState(
  io: DaxctlIo,
  dev: DaxctlDev,
): { name: string; mem: NonNullable<ReturnType<DaxctlDev['memory']>>; total: number; on: number } | number {
  const name = dev.devname;
  const mem = dev.memory();
  if (mem === undefined) {
    io.err(`${name}: failed to get the memory object\n`);
    return -ERRNO.ENXIO;
  }
  const total = mem.numSections();
  if (total < 0) {
    io.err(`${name}: failed to get number of memory sections\n`);
    return total;
  }
  const on = mem.onlineCount();
  if (on < 0) {
    io.err(`${name}: failed to determine online state: ${strerror(-on)}\n`);
    return on;
  }
  return { name, mem, total, on };
}

/** `dev_online_memory()`. */
function devOnlineMemory(io: DaxctlIo, dev: DaxctlDev, p: DeviceParams): number {
  const state = memoryState(io, dev);
  if (typeof state === 'number') return state;
  const { name, mem, total } = state;
  let on = state.on;
  if (on > 0) {
    io.err(
      `${name}:\n  WARNING: detected a race while onlining memory\n  Some memory may not be in the expected zone. It is\n` +
        '  recommended to disable any other onlining mechanisms,\n  and retry. If onlining is to be left to other agents,\n' +
        '  use the --no-online option to suppress this warning\n',
    );
  }
  if (on === total) {
    io.err(`${name}: all memory sections (${on}) already online\n`);
    return 1;
  }
  if (on > 0) io.err(`${name}: ${plural(on, 'memory section')} already online\n`);
  const rc = mem.online(!p.noMovable);
  if (rc < 0) {
    io.err(`${name}: failed to online memory: ${strerror(-rc)}\n`);
    return rc;
  }
  if (p.verbose) io.err(`${name}: ${plural(rc, 'memory section')} onlined\n`);
  on = mem.onlineCount();
  if (on < 0) {
    io.err(`${name}: failed to determine online state: ${strerror(-on)}\n`);
    return on;
  }
  if (on < total) {
    io.err(`${name}: failed to online ${total - on} memory sections\n`);
    return -ERRNO.ENXIO;
  }
  return 0;
}

/** `dev_offline_memory()`. */
function devOfflineMemory(io: DaxctlIo, dev: DaxctlDev, p: DeviceParams): number {
  const state = memoryState(io, dev);
  if (typeof state === 'number') return state;
  const { name, mem, total } = state;
  let on = state.on;
  const off = total - on;
  if (off === total) {
    io.err(`${name}: all memory sections (${off}) already offline\n`);
    return 1;
  }
  if (off > 0) io.err(`${name}: ${plural(off, 'memory section')} already offline\n`);
  const rc = mem.offline();
  if (rc < 0) {
    io.err(`${name}: failed to offline memory: ${strerror(-rc)}\n`);
    return rc;
  }
  if (p.verbose) io.err(`${name}: ${plural(rc, 'memory section')} offlined\n`);
  on = mem.onlineCount();
  if (on < 0) {
    io.err(`${name}: failed to determine online state: ${strerror(-on)}\n`);
    return on;
  }
  if (on > 0) {
    io.err(`${name}: failed to offline ${on} memory sections\n`);
    return -ERRNO.ENXIO;
  }
  return 0;
}

/** `reconfig_mode_system_ram()`. */
function reconfigSystemRam(io: DaxctlIo, dev: DaxctlDev, p: DeviceParams): number {
  if (p.noOnline || !p.noMovable) {
    const policy = dev.ctx.read(`${MEMORY}/auto_online_blocks`);
    if (policy === undefined) dev.ctx.err('daxctl_dev_will_auto_online_memory', `${dev.devname}: Unable to determine auto-online policy: ${strerror('ENOENT')}\n`);
    if (!p.force && policy !== undefined && policy.startsWith('online')) {
      io.err(`${dev.devname}: error: kernel policy will auto-online memory, aborting\n`);
      return -ERRNO.EBUSY;
    }
  }
  let skipEnable = false;
  if (dev.isEnabled()) {
    // disable_devdax_device()
    if (dev.memory() !== undefined) {
      io.err(`${dev.devname} was already in system-ram mode\n`);
      skipEnable = true;
    } else {
      const rc = dev.disable();
      if (rc !== 0) {
        io.err(`${dev.devname}: disable failed: ${strerror(-rc)}\n`);
        return rc;
      }
    }
  }
  if (!skipEnable) {
    const rc = dev.enable('system-ram');
    if (rc !== 0) return rc;
  }
  if (p.noOnline) return 0;
  return devOnlineMemory(io, dev, p);
}

/** `reconfig_mode_devdax()` with `disable_system_ram_device()`. */
function reconfigDevdax(io: DaxctlIo, dev: DaxctlDev, p: DeviceParams): number {
  if (dev.isEnabled()) {
    const mem = dev.memory();
    if (mem === undefined) {
      io.err(`${dev.devname} was already in devdax mode\n`);
      return 1;
    }
    if (p.force) {
      const rc = devOfflineMemory(io, dev, p);
      if (rc < 0) return rc;
    }
    const on = mem.onlineCount();
    if (on < 0) {
      io.err(`${dev.devname}: failed to determine online state: ${strerror(-on)}\n`);
      return on;
    }
    if (on > 0) {
      if (p.verbose) {
        io.err(`${dev.devname}: found ${on} memory sections online\n`);
        io.err(`${dev.devname}: refusing to change modes\n`);
      }
      return -ERRNO.EBUSY;
    }
    const rc = dev.disable();
    if (rc !== 0) {
      io.err(`${dev.devname}: disable failed: ${strerror(-rc)}\n`);
      return rc;
    }
  }
  return dev.enable('devdax');
}

/**
 * `do_xble()`: enable-device / disable-device of a device in devdax mode
 * (`daxctl_dev_enable_devdax()` binds device_dax, `daxctl_dev_disable()`
 * unbinds); a device kmem drives is refused (ENXIO).
 */
function doXble(io: DaxctlIo, dev: DaxctlDev, action: 'enable' | 'disable'): number {
  if (dev.memory() !== undefined) {
    io.err(`${dev.devname}: status operations are only applicable in devdax mode\n`);
    return -ERRNO.ENXIO;
  }
  const rc = action === 'enable' ? dev.enable('devdax') : dev.disable();
  if (rc !== 0) io.err(`${dev.devname}: ${action} failed: ${strerror(-rc)}\n`);
  return rc;
}

/**
 * `dev_destroy()`: an enabled device needs --force (ENXIO "is active");
 * it is disabled, its size set to 0 (`daxctl_dev_set_size()`: ENXIO "failed
 * to set size" where the kernel refuses, as on a pmem-backed static region
 * whose `size` is read-only), then the region deletes it.
 */
function devDestroy(io: DaxctlIo, dev: DaxctlDev, p: DeviceParams): number {
  if (dev.isEnabled() && !p.force) {
    io.err(`${dev.devname} is active, specify --force for deletion\n`);
    return -ERRNO.ENXIO;
  }
  let rc = dev.disable();
  if (rc !== 0) {
    io.err(`${dev.devname}: disable failed: ${strerror(-rc)}\n`);
    return rc;
  }
  if (dev.ctx.write(`${dev.path}/size`, '0x0', true) !== 0) {
    dev.ctx.err('daxctl_dev_set_size', `${dev.devname}: failed to set size\n`);
    return -ERRNO.ENXIO;
  }
  const region = dev.region.path;
  rc = region === undefined ? -ERRNO.ENOENT : dev.ctx.write(`${region}/dax_region/delete`, dev.devname, true);
  return rc < 0 ? rc : 0;
}

/**
 * `do_xaction_region()` + `do_create()`: `daxctl_region_create_dev()`
 * writes each region's `dax_region/create`, which v5.13 shows only on
 * dynamic (soft-reserved, hmem) regions (`dax_region_visible()`). Every
 * region of the model is pmem-backed and static, so there is no such file:
 * `do_create()` answers -ENOSPC for each region (-ENXIO without regions).
 */
function doCreate(ctx: DaxctlCtx, p: DeviceParams): { rc: number; processed: number } {
  let rc = -ERRNO.ENXIO;
  for (const region of ctx.regions()) {
    if (!regionFilter(region, p.region)) continue;
    rc = -ERRNO.ENOSPC;
  }
  return { rc, processed: 0 };
}

/** `do_xaction_device()` for reconfigure, online and offline; prints the reconfigured devices' JSON. */
function doXactionDevice(ctx: DaxctlCtx, io: DaxctlIo, action: Action, p: DeviceParams): { rc: number; processed: number } {
  let rc = -ERRNO.ENXIO;
  let processed = 0;
  let jdevs: JsonArray | undefined;
  for (const region of ctx.regions()) {
    if (!regionFilter(region, p.region)) continue;
    for (const dev of region.devices) {
      if (!devFilter(dev, p.device)) continue;
      if (action === 'enable' || action === 'disable') {
        rc = doXble(io, dev, action);
      } else if (action === 'destroy') {
        rc = devDestroy(io, dev, p);
      } else if (action === 'reconfig' && (p.align > 0 || p.size >= 0)) {
        // do_reconfig(): daxctl_dev_set_align(), then dev_resize() (a static region's files are read-only)
        rc = p.align > 0 ? dev.ctx.write(`${dev.path}/align`, String(p.align)) : 0;
        if (rc >= 0 && p.size >= 0) rc = dev.ctx.write(`${dev.path}/size`, String(p.size));
      } else if (action === 'reconfig') {
        if (p.mode === undefined) {
          rc = -ERRNO.EINVAL;
          io.err(`${dev.devname}: unknown mode requested: 0\n`);
        } else {
          rc = p.mode === 'system-ram' ? reconfigSystemRam(io, dev, p) : reconfigDevdax(io, dev, p);
        }
        if (rc >= 0) {
          rc = 0;
          jdevs = [devToJson(dev, p.human)];
        }
      } else {
        if (dev.memory() === undefined) {
          io.err(`${dev.devname}: memory operations are not applicable in devdax mode\n`);
          rc = -ERRNO.ENXIO;
        } else {
          rc = action === 'online' ? devOnlineMemory(io, dev, p) : devOfflineMemory(io, dev, p);
        }
      }
      if (rc === 0) processed++;
    }
  }
  if (jdevs !== undefined) io.out(displayJsonArray(jdevs, p.human));
  return { rc, processed };
}

const COMMANDS = [
  'version', 'list', 'help', 'create-device', 'destroy-device', 'reconfigure-device', 'online-memory', 'offline-memory', 'disable-device', 'enable-device',
];
const DAXCTL_USAGE = 'daxctl [--version] [--help] COMMAND [ARGS]';
const DAXCTL_MORE_INFO = "See 'daxctl help COMMAND' for more information on a specific command.\n daxctl --list-cmds to see all available commands";

/**
 * `main()` of daxctl/daxctl.c: runs `daxctl ARGS...` and returns its exit
 * status (the command's return value modulo 256, 129 after a usage error,
 * 1 for an unknown command).
 */
export function daxctl(args: readonly string[], io: DaxctlIo): number {
  const argv = [...args];
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === 'help') {
    io.out(`\n usage: ${DAXCTL_USAGE}\n\n\n ${DAXCTL_MORE_INFO}\n\n`);
    return argv.length === 0 ? 1 : 0;
  }
  if (argv[0] === '--version' || argv[0] === 'version') {
    io.out(`${DAXCTL_VERSION}\n`);
    return 0;
  }
  if (argv[0] === '--list-cmds') {
    for (const c of COMMANDS) io.out(`${c}\n`);
    return 0;
  }
  let cmd = argv[0]!;
  if (cmd.startsWith('--')) cmd = cmd.slice(2);
  const rest = argv.slice(1);
  const ctx = new DaxctlCtx(io.fs, (t) => io.err(t));
  let rc: number;
  try {
    switch (cmd) {
      case 'list':
        rc = cmdList(ctx, io, rest);
        break;
      case 'reconfigure-device': {
        const p = parseDeviceOptions(rest, 'reconfig', RECONFIG_OPTIONS, 'daxctl reconfigure-device <device> [<options>]');
        ctx.debug = p.verbose;
        const r = doXactionDevice(ctx, io, 'reconfig', p);
        if (r.rc < 0) io.err(`error reconfiguring devices: ${strerror(-r.rc)}\n`);
        io.err(`reconfigured ${plural(r.processed, 'device')}\n`);
        rc = r.rc;
        break;
      }
      case 'create-device': {
        const p = parseDeviceOptions(rest, 'create', CREATE_OPTIONS, 'daxctl create-device [<options>]');
        ctx.debug = p.verbose;
        const r = doCreate(ctx, p);
        if (r.rc < 0) io.err(`error creating devices: ${strerror(-r.rc)}\n`);
        io.err(`created ${plural(r.processed, 'device')}\n`);
        rc = r.rc;
        break;
      }
      case 'destroy-device': {
        const p = parseDeviceOptions(rest, 'destroy', DESTROY_OPTIONS, 'daxctl destroy-device <device> [<options>]');
        ctx.debug = p.verbose;
        const r = doXactionDevice(ctx, io, 'destroy', p);
        if (r.rc < 0) io.err(`error destroying devices: ${strerror(-r.rc)}\n`);
        io.err(`destroyed ${plural(r.processed, 'device')}\n`);
        rc = r.rc;
        break;
      }
      case 'disable-device':
      case 'enable-device': {
        const action = cmd === 'enable-device' ? 'enable' : 'disable';
        // v72 parses enable-device's options as ACTION_DISABLE ("specify a device to disable").
        const p = parseDeviceOptions(rest, 'disable', XBLE_OPTIONS, `daxctl ${cmd} <device>`);
        ctx.debug = p.verbose;
        const r = doXactionDevice(ctx, io, action, p);
        if (r.rc < 0) io.err(`error ${action === 'enable' ? 'enabling' : 'disabling'} device: ${strerror(-r.rc)}\n`);
        io.err(`${action}d ${plural(r.processed, 'device')}\n`);
        rc = r.rc;
        break;
      }
      case 'online-memory': {
        const p = parseDeviceOptions(rest, 'online', ONLINE_OPTIONS, 'daxctl online-memory <device> [<options>]');
        ctx.debug = p.verbose;
        const r = doXactionDevice(ctx, io, 'online', p);
        if (r.rc < 0) io.err(`error onlining memory: ${strerror(-r.rc)}\n`);
        io.err(`onlined memory for ${plural(r.processed, 'device')}\n`);
        rc = r.rc;
        break;
      }
      case 'offline-memory': {
        const p = parseDeviceOptions(rest, 'offline', OFFLINE_OPTIONS, 'daxctl offline-memory <device> [<options>]');
        ctx.debug = p.verbose;
        const r = doXactionDevice(ctx, io, 'offline', p);
        if (r.rc < 0) io.err(`error offlining memory: ${strerror(-r.rc)}\n`);
        io.err(`offlined memory for ${plural(r.processed, 'device')}\n`);
        rc = r.rc;
        break;
      }
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
  return ((rc % 256) + 256) % 256;
}

/**
 * `ndctl_dax_has_active_memory()` (ndctl/lib/libndctl.c, through libdaxctl):
 * whether a device of the dax region below the nd dax device at `ndDaxPath`
 * (its `/sys/devices` path or its `/sys/bus/nd/devices` link) has online memory blocks — what makes
 * `ndctl_namespace_disable_safe()` refuse with EBUSY ("active as
 * system-ram, refusing to disable").
 */
export function daxHasActiveMemory(fs: VirtualFs, ndDaxPath: string): boolean {
  const ctx = new DaxctlCtx(fs, () => undefined);
  // nd device names are unique on the nd bus: /sys/bus/nd/devices/daxR.N and
  // its /sys/devices/platform/... realpath name the same device
  const name = ndDaxPath.slice(ndDaxPath.lastIndexOf('/') + 1);
  const region = ctx.regions().find((r) => r.path === ndDaxPath || r.path?.slice(r.path.lastIndexOf('/') + 1) === name);
  if (region === undefined) return false;
  return region.devices.some((d) => {
    const mem = d.memory();
    return mem !== undefined && mem.onlineCount() > 0;
  });
}

/** `daxctl` as a shell command. */
export const daxctlCommand: ShellCommand = {
  name: 'daxctl',
  synopsis: 'daxctl COMMAND [OPTIONS]',
  summary: 'device-dax: list, reconfigure-/enable-/disable-/create-/destroy-device, online-/offline-memory (daxctl v72)',
  run: (ctx) => daxctl(ctx.args, { fs: ctx.fs, out: (t) => ctx.out(t), err: (t) => ctx.err(t) }),
};
