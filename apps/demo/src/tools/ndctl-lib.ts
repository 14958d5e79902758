/**
 * libndctl (ndctl v72 `ndctl/lib/libndctl.c`) as a view of sysfs.
 *
 * The real library drives the kernel only through files: it reads
 * attributes under `/sys/bus/nd/devices`, writes new values into them, binds
 * a device by writing its name to `/sys/bus/nd/drivers/DRIVER/bind` (each
 * driver in turn, until one takes it) and unbinds it through
 * `DEVICE/driver/unbind`. This module does the same through the shell's
 * file system and nothing else, so every step of an `ndctl` command can be
 * replayed by hand with `echo`:
 *
 * ```
 *   ndctl create-namespace -f -e namespace0.0 -m fsdax -M dev
 *     echo namespace0.0 > /sys/bus/nd/devices/namespace0.0/driver/unbind
 *     echo ''  > /sys/bus/nd/devices/namespace0.0/holder_class
 *     echo 1   > /sys/bus/nd/devices/namespace0.0/force_raw
 *     ...      (bind, read the first 8 KiB of /dev/pmem0, zero it if not zero)
 *     echo 0   > /sys/bus/nd/devices/namespace0.0/force_raw
 *     echo namespace0.0 > /sys/bus/nd/devices/namespace0.0/driver/unbind
 *     echo pfn > /sys/bus/nd/devices/namespace0.0/holder_class
 *     echo UUID > /sys/bus/nd/devices/pfn0.0/uuid
 *     echo pmem > /sys/bus/nd/devices/pfn0.0/mode
 *     echo 2097152 > /sys/bus/nd/devices/pfn0.0/align
 *     echo namespace0.0 > /sys/bus/nd/devices/pfn0.0/namespace
 *     echo pfn0.0 > /sys/bus/nd/drivers/nd_pmem/bind
 * ```
 *
 * Unlike libndctl this view caches nothing: each question reads sysfs
 * again, so it always agrees with the kernel (libndctl re-scans after every
 * enable for the same reason). Return conventions are libndctl's: 0 or a
 * negative errno, and `err()` messages on stderr as `libndctl: FUNCTION:
 * MESSAGE`; `dbg()` messages appear only with `-v`.
 */
import type { VirtualFs } from '../shell/vfs.js';
import { ERRNO } from '@zonedev/kernel';
import { SysfsLibCtx } from './sysfs-lib.js';
import { daxHasActiveMemory } from './daxctl.js';

/** `enum ndctl_namespace_mode`. */
export type NsMode = 'memory' | 'safe' | 'raw' | 'dax' | 'unknown';

/** `enum ndctl_pfn_loc`: where the memmap lives. */
export type PfnLoc = 'none' | 'ram' | 'pmem';

/** uapi ndctl.h device types. */
export const ND_DEVICE_NAMESPACE_IO = 4;
export const ND_DEVICE_NAMESPACE_PMEM = 5;
export const ND_DEVICE_NAMESPACE_BLK = 6;
export const ND_DEVICE_REGION_PMEM = 2;
export const ND_DEVICE_REGION_BLK = 3;

/** `enum ndctl_persistence_domain`. */
export type PersistenceDomain = 'cpu_cache' | 'memory_controller' | 'none' | 'unknown';

/** `ULLONG_MAX`: libndctl's "no value". */
export const ULLONG_MAX = Number.MAX_SAFE_INTEGER;

const ND_DEVICES = '/sys/bus/nd/devices';
const ND_DRIVERS = '/sys/bus/nd/drivers';

/** The library context (`struct ndctl_ctx`): the file system, its log, and where uuids come from. */
export class NdctlCtx extends SysfsLibCtx {
  private readonly random: (n: number) => Uint8Array;

  constructor(fs: VirtualFs, stderr: (text: string) => void, random: (n: number) => Uint8Array) {
    super(fs, stderr, 'libndctl');
    this.random = random;
  }

  /** `is_enabled()`: the device's `driver` link exists. */
  isEnabled(devPath: string): boolean {
    return this.fs.exists(`${devPath}/driver`);
  }

  /** `uuid_generate()`: a random (version 4) uuid, lower-case as `uuid_unparse()` prints it. */
  uuidGenerate(): string {
    const b = Array.from(this.random(16));
    b[6] = (b[6]! % 16) + 0x40;
    b[8] = (b[8]! % 64) + 0x80;
    const hex = b.map((x) => x.toString(16).padStart(2, '0')).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  /** `ndctl_bus_foreach()`: the buses, by id. */
  buses(): NdBus[] {
    return byId(this.list(ND_DEVICES), /^ndbus(\d+)$/).map(([name, id]) => new NdBus(this, name, id));
  }

  /**
   * `ndctl_bind()`: writes `devname` to each nd driver's `bind` until one
   * takes it; -ENXIO when none does.
   */
  bind(devname: string): number {
    let rc = -ERRNO.ENXIO;
    for (const drv of this.list(ND_DRIVERS)) {
      rc = this.write(`${ND_DRIVERS}/${drv}/bind`, devname, true);
      if (rc === 0) break;
    }
    if (rc !== 0) {
      this.dbg('ndctl_bind', `${devname}: bind failed\n`);
      return -ERRNO.ENXIO;
    }
    return 0;
  }

  /** `ndctl_unbind()`: writes the device's name to its `driver/unbind`. */
  unbind(devPath: string, devname: string): number {
    return this.write(`${devPath}/driver/unbind`, devname);
  }
}

/** Names matching `re` (one numeric group), sorted by that number. */
function byId(names: readonly string[], re: RegExp): [string, number][] {
  const out: [string, number][] = [];
  for (const n of names) {
    const m = re.exec(n);
    if (m !== null) out.push([n, Number(m[1])]);
  }
  return out.sort((a, b) => a[1] - b[1]);
}

/** `strtoull(buf, NULL, 0)` of an attribute, or `fallback`. */
function num(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const t = text.trim();
  const m = /^(-?)(0x[0-9a-fA-F]+|0[0-7]*|[1-9]\d*)/.exec(t);
  if (m === null) return 0;
  const body = m[2]!;
  const v = body.startsWith('0x') ? parseInt(body.slice(2), 16) : body.length > 1 && body.startsWith('0') ? parseInt(body, 8) : Number(body);
  return m[1] === '-' ? -v : v;
}

/** `struct ndctl_bus`. */
export class NdBus {
  readonly ctx: NdctlCtx;
  readonly devname: string;
  readonly id: number;
  readonly path: string;

  constructor(ctx: NdctlCtx, devname: string, id: number) {
    this.ctx = ctx;
    this.devname = devname;
    this.id = id;
    this.path = `${ND_DEVICES}/${devname}`;
  }

  /** `ndctl_bus_get_provider()`. */
  provider(): string {
    return this.ctx.read(`${this.path}/provider`) ?? '';
  }

  /** `ndctl_bus_get_scrub_state()`: -ENOENT-style undefined when the bus has no `nfit/scrub`. */
  scrubState(): boolean | undefined {
    const t = this.ctx.read(`${this.path}/nfit/scrub`);
    if (t === undefined) return undefined;
    return t.endsWith('+');
  }

  /**
   * `__ndctl_bus_get_scrub_state()`: 1 while a scrub runs ("N+"), 0 when
   * idle ("N"), -EOPNOTSUPP when the bus has no readable `nfit/scrub`,
   * -ENXIO when its text is not a count.
   */
  scrubStateRc(): number {
    const t = this.ctx.read(`${this.path}/nfit/scrub`);
    if (t === undefined) return -ERRNO.EOPNOTSUPP;
    const m = /^\s*\+?(\d+)([\s\S])?/.exec(t);
    if (m === null) return -ERRNO.ENXIO;
    if (m[2] === undefined) return 0;
    return m[2] === '+' ? 1 : -6;
  }

  /** `ndctl_bus_start_scrub()`: writes 1 to `nfit/scrub`; 0 or the negative errno. */
  startScrub(): number {
    return this.ctx.write(`${this.path}/nfit/scrub`, '1\n');
  }

  /** `ndctl_bus_is_cmd_supported()`: whether `commands` names the bus command. */
  isCmdSupported(name: string): boolean {
    return (this.ctx.read(`${this.path}/commands`) ?? '').split(/\s+/).includes(name);
  }

  /** `ndctl_region_foreach()`: the regions below the bus device, by id. */
  regions(): NdRegion[] {
    return byId(this.ctx.list(this.path), /^region(\d+)$/).map(([name, id]) => new NdRegion(this, name, id));
  }

  /** `ndctl_dimm_foreach()`: the DIMMs of the bus (`nmemN`). */
  dimms(): string[] {
    return byId(this.ctx.list(this.path), /^nmem(\d+)$/).map(([n]) => n);
  }
}

/** `struct ndctl_region`. */
export class NdRegion {
  readonly bus: NdBus;
  readonly ctx: NdctlCtx;
  readonly devname: string;
  readonly id: number;
  readonly path: string;

  constructor(bus: NdBus, devname: string, id: number) {
    this.bus = bus;
    this.ctx = bus.ctx;
    this.devname = devname;
    this.id = id;
    this.path = `${ND_DEVICES}/${devname}`;
  }

  private attr(name: string): string | undefined {
    return this.ctx.read(`${this.path}/${name}`);
  }

  size(): number {
    return num(this.attr('size'), 0);
  }
  /** `ndctl_region_get_align()`: ULLONG_MAX without the attribute. */
  align(): number {
    return num(this.attr('align'), ULLONG_MAX);
  }
  nstype(): number {
    return num(this.attr('nstype'), 0);
  }
  /** `ndctl_region_get_type()`: IO and PMEM namespaces live in pmem regions. */
  type(): number {
    const t = this.nstype();
    return t === ND_DEVICE_NAMESPACE_IO || t === ND_DEVICE_NAMESPACE_PMEM ? ND_DEVICE_REGION_PMEM : ND_DEVICE_REGION_BLK;
  }
  typeName(): string {
    return this.type() === ND_DEVICE_REGION_PMEM ? 'pmem' : 'blk';
  }
  mappings(): number {
    return num(this.attr('mappings'), 0);
  }
  interleaveWays(): number {
    return Math.max(1, this.mappings());
  }
  readOnly(): boolean {
    return num(this.attr('read_only'), 0) !== 0;
  }
  resource(): number {
    return num(this.attr('resource'), ULLONG_MAX);
  }
  /** NUMA_NO_NODE (-1) without the attribute. */
  numaNode(): number {
    return num(this.attr('numa_node'), -1);
  }
  hasNuma(): boolean {
    return this.attr('numa_node') !== undefined;
  }
  targetNode(): number {
    return num(this.attr('target_node'), -1);
  }
  /** `ndctl_region_get_available_size()`: 0 for label-less (IO) regions, which have no such attribute. */
  availableSize(): number {
    const t = this.nstype();
    if (t !== ND_DEVICE_NAMESPACE_PMEM && t !== ND_DEVICE_NAMESPACE_BLK) return 0;
    return num(this.attr('available_size'), ULLONG_MAX);
  }
  /** `ndctl_region_get_max_available_extent()`: 0 for IO regions. */
  maxAvailableExtent(): number {
    const t = this.nstype();
    if (t !== ND_DEVICE_NAMESPACE_PMEM && t !== ND_DEVICE_NAMESPACE_BLK) return 0;
    return num(this.attr('max_available_extent'), ULLONG_MAX);
  }
  /** `region_get_pd_type()`: unknown when the attribute is hidden or empty. */
  persistenceDomain(): PersistenceDomain {
    const t = this.attr('persistence_domain');
    if (t === undefined) return 'unknown';
    if (t.startsWith('cpu_cache')) return 'cpu_cache';
    if (t.startsWith('memory_controller')) return 'memory_controller';
    if (t.startsWith('none')) return 'none';
    return 'unknown';
  }
  /** The interleave-set cookie of a PMEM (labelled) region. */
  isetCookie(): bigint | undefined {
    if (this.nstype() !== ND_DEVICE_NAMESPACE_PMEM) return undefined;
    const t = this.attr('set_cookie')?.trim();
    if (t === undefined || !/^0x[0-9a-f]+$/i.test(t)) return undefined;
    const v = BigInt(t);
    return v === 0n ? undefined : v;
  }
  isEnabled(): boolean {
    return this.ctx.isEnabled(this.path);
  }
  /** The badblocks lines (`<sector> <count>`). */
  badblocks(): string[] {
    const t = this.attr('badblocks');
    return t === undefined || t === '' ? [] : t.split('\n').filter((l) => l !== '');
  }

  private children(prefix: string): [string, number][] {
    const re = new RegExp(`^${prefix}${this.id}\\.(\\d+)$`);
    return byId(this.ctx.list(this.path), re);
  }

  namespaces(): NdNamespace[] {
    return this.children('namespace').map(([n, id]) => new NdNamespace(this, n, id));
  }
  pfns(): NdPfn[] {
    return this.children('pfn').map(([n, id]) => new NdPfn(this, n, id, 'pfn'));
  }
  daxs(): NdPfn[] {
    return this.children('dax').map(([n, id]) => new NdPfn(this, n, id, 'dax'));
  }
  btts(): NdBtt[] {
    return this.children('btt').map(([n, id]) => new NdBtt(this, n, id));
  }

  private seed(attr: string): string | undefined {
    const t = this.attr(attr);
    return t === undefined || t === '' ? undefined : t;
  }
  /** `ndctl_region_get_pfn_seed()`. */
  pfnSeed(): NdPfn | undefined {
    const s = this.seed('pfn_seed');
    return this.pfns().find((p) => p.devname === s);
  }
  /** `ndctl_region_get_dax_seed()`. */
  daxSeed(): NdPfn | undefined {
    const s = this.seed('dax_seed');
    return this.daxs().find((p) => p.devname === s);
  }
  /** `ndctl_region_get_btt_seed()`. */
  bttSeed(): NdBtt | undefined {
    const s = this.seed('btt_seed');
    return this.btts().find((p) => p.devname === s);
  }
  /** `ndctl_region_get_namespace_seed()`: none for IO regions (the attribute reads empty). */
  namespaceSeed(): NdNamespace | undefined {
    const s = this.seed('namespace_seed');
    return this.namespaces().find((n) => n.devname === s);
  }

  /** `ndctl_region_enable()`. */
  enable(): number {
    if (this.isEnabled()) return 0;
    this.ctx.bind(this.devname);
    if (!this.isEnabled()) {
      this.ctx.err('ndctl_region_enable', `${this.devname}: failed to enable\n`);
      return -ERRNO.ENXIO;
    }
    this.ctx.dbg('ndctl_region_enable', `${this.devname}: enabled\n`);
    return 0;
  }

  /** `ndctl_region_disable_invalidate()`. */
  disableInvalidate(): number {
    if (!this.isEnabled()) return 0;
    this.ctx.unbind(this.path, this.devname);
    if (this.isEnabled()) {
      this.ctx.err('ndctl_region_disable', `${this.devname}: failed to disable\n`);
      return -ERRNO.EBUSY;
    }
    this.ctx.dbg('ndctl_region_disable', `${this.devname}: disabled\n`);
    return 0;
  }
}

/** `struct ndctl_namespace`. */
export class NdNamespace {
  readonly region: NdRegion;
  readonly ctx: NdctlCtx;
  readonly devname: string;
  readonly id: number;
  readonly path: string;

  constructor(region: NdRegion, devname: string, id: number) {
    this.region = region;
    this.ctx = region.ctx;
    this.devname = devname;
    this.id = id;
    this.path = `${ND_DEVICES}/${devname}`;
  }

  private attr(name: string): string | undefined {
    return this.ctx.read(`${this.path}/${name}`);
  }

  /** `ndctl_namespace_get_type()`: from `devtype`. */
  type(): number {
    const t = this.attr('devtype');
    if (t === 'nd_namespace_io') return ND_DEVICE_NAMESPACE_IO;
    if (t === 'nd_namespace_pmem') return ND_DEVICE_NAMESPACE_PMEM;
    if (t === 'nd_namespace_blk') return ND_DEVICE_NAMESPACE_BLK;
    return num(this.attr('nstype'), 0);
  }
  size(): number {
    return num(this.attr('size'), 0);
  }
  resource(): number {
    return num(this.attr('resource'), ULLONG_MAX);
  }
  /** `ndctl_namespace_get_mode()`. */
  mode(): NsMode {
    const t = this.attr('mode');
    if (t === 'memory' || t === 'dax' || t === 'raw' || t === 'safe') return t;
    return 'unknown';
  }
  /** The uuid of a label namespace; undefined (null) for IO namespaces, which have none. */
  uuid(): string | undefined {
    const t = this.attr('uuid');
    return t === undefined || t === '' ? undefined : t;
  }
  altName(): string {
    return this.attr('alt_name') ?? '';
  }
  numaNode(): number {
    return num(this.attr('numa_node'), -1);
  }
  targetNode(): number {
    return num(this.attr('target_node'), -1);
  }
  /** The supported sector sizes (`sector_size` as nd_size_select_show() prints it); none without the attribute. */
  sectorSizes(): { sizes: number[]; selected: number | undefined } {
    const t = this.attr('sector_size');
    if (t === undefined) return { sizes: [], selected: undefined };
    const sizes: number[] = [];
    let selected: number | undefined;
    for (const w of t.split(/\s+/).filter((x) => x !== '')) {
      const m = /^\[?(\d+)\]?$/.exec(w);
      if (m === null) continue;
      sizes.push(Number(m[1]));
      if (w.startsWith('[')) selected = Number(m[1]);
    }
    return { sizes, selected };
  }
  isEnabled(): boolean {
    return this.ctx.isEnabled(this.path);
  }
  /** The claim's name (`holder`), or ''. */
  holder(): string {
    return this.attr('holder') ?? '';
  }
  pfn(): NdPfn | undefined {
    const h = this.holder();
    return h === '' ? undefined : this.region.pfns().find((p) => p.devname === h);
  }
  dax(): NdPfn | undefined {
    const h = this.holder();
    return h === '' ? undefined : this.region.daxs().find((p) => p.devname === h);
  }
  btt(): NdBtt | undefined {
    const h = this.holder();
    return h === '' ? undefined : this.region.btts().find((p) => p.devname === h);
  }
  /** `ndctl_namespace_is_active()`: enabled itself, or through its btt/pfn/dax claim. */
  isActive(): boolean {
    return this.isEnabled() || this.btt()?.isEnabled() === true || this.pfn()?.isEnabled() === true || this.dax()?.isEnabled() === true;
  }
  /** `ndctl_namespace_is_configuration_idle()`. */
  isConfigurationIdle(): boolean {
    if (this.isActive()) return false;
    const t = this.type();
    if (t === ND_DEVICE_NAMESPACE_IO) return true;
    return this.size() === 0;
  }
  /** `ndctl_namespace_get_block_device()`: the one name in `block/`, or ''. */
  blockDevice(): string {
    return blockDevice(this.ctx, `${this.path}/block`);
  }

  /** `ndctl_namespace_set_enforce_mode()`: `holder_class` = pfn | btt | dax | ''. */
  setEnforceMode(mode: NsMode): number {
    const name = mode === 'memory' ? 'pfn' : mode === 'safe' ? 'btt' : mode === 'dax' ? 'dax' : mode === 'raw' ? '' : '<unknown>';
    return this.ctx.write(`${this.path}/holder_class`, name);
  }

  /** `ndctl_namespace_get_raw_mode()`: `force_raw` reads 1. */
  rawMode(): boolean {
    return this.attr('force_raw') === '1';
  }

  /** `ndctl_namespace_set_raw_mode()`: `force_raw`. */
  setRawMode(raw: boolean): number {
    const rc = this.ctx.write(`${this.path}/force_raw`, raw ? '1\n' : '0\n');
    return rc < 0 ? rc : raw ? 1 : 0;
  }

  /** `ndctl_namespace_enable()`: 0, 1 when enabled through a claim, or a negative errno. */
  enable(): number {
    if (this.isEnabled()) return 0;
    const rc = this.ctx.bind(this.devname);
    if (!this.isEnabled()) {
      const btt = this.btt();
      const pfn = this.pfn();
      const dax = this.dax();
      if (btt?.isEnabled() === true || pfn?.isEnabled() === true || dax?.isEnabled() === true) {
        const via = btt?.isEnabled() === true ? btt.devname : pfn?.isEnabled() === true ? pfn.devname : dax!.devname;
        this.ctx.dbg('ndctl_namespace_enable', `${this.devname}: enabled via ${via}\n`);
        return 1;
      }
      this.ctx.err('ndctl_namespace_enable', `${this.devname}: failed to enable\n`);
      return rc !== 0 ? rc : -ERRNO.ENXIO;
    }
    this.ctx.dbg('ndctl_namespace_enable', `${this.devname}: enabled\n`);
    return 0;
  }

  /** `ndctl_namespace_disable()`. */
  disable(): number {
    if (!this.isEnabled()) return 0;
    this.ctx.unbind(this.path, this.devname);
    if (this.isEnabled()) {
      this.ctx.err('ndctl_namespace_disable', `${this.devname}: failed to disable\n`);
      return -ERRNO.EBUSY;
    }
    this.ctx.dbg('ndctl_namespace_disable', `${this.devname}: disabled\n`);
    return 0;
  }

  /** `ndctl_namespace_disable_invalidate()`: delete the claim (btt, pfn, dax), then disable. */
  disableInvalidate(): number {
    let rc = 0;
    const btt = this.btt();
    const pfn = this.pfn();
    const dax = this.dax();
    if (btt !== undefined) rc = btt.delete();
    if (pfn !== undefined) rc = pfn.delete();
    if (dax !== undefined) rc = dax.delete();
    if (rc !== 0) return rc;
    return this.disable();
  }

  /**
   * `ndctl_namespace_disable_safe()`: the block device must open
   * exclusively (nothing mounted on it); then disable and invalidate. 1
   * when there is nothing to disable (no capacity).
   */
  disableSafe(exclusiveOpen: (bdev: string) => number): number {
    const pfn = this.pfn();
    const btt = this.btt();
    const dax = this.dax();
    let bdev = '';
    if (pfn?.isEnabled() === true) bdev = pfn.blockDevice();
    else if (btt?.isEnabled() === true) bdev = btt.blockDevice();
    else if (dax?.isEnabled() === true) {
      // a device-dax instance whose memory kmem onlined is System RAM now
      if (daxHasActiveMemory(this.ctx.fs, dax.path)) {
        this.ctx.err('ndctl_namespace_disable_safe', `${this.devname}: active as system-ram, refusing to disable\n`);
        return -ERRNO.EBUSY;
      }
      bdev = '';
    }
    else if (this.isEnabled()) bdev = this.blockDevice();
    if (bdev !== '') {
      const rc = exclusiveOpen(bdev);
      if (rc < 0) {
        this.ctx.dbg('ndctl_namespace_disable_safe', `${this.devname}: ${bdev} failed exclusive open\n`);
        return rc;
      }
      this.disableInvalidate();
      return 0;
    }
    if (this.size() === 0) return 1;
    this.disableInvalidate();
    return 0;
  }
}

/** `get_block_device()`: the single entry of a `block` directory. */
function blockDevice(ctx: NdctlCtx, path: string): string {
  const names = ctx.list(path);
  return names.length === 1 ? names[0]! : '';
}

/** `struct ndctl_pfn` and `struct ndctl_dax` (a dax device carries a pfn device's attributes). */
/**
 * What `struct ndctl_pfn`, `struct ndctl_dax` and `struct ndctl_btt` have in
 * common: a seed-style claim device of a region with a uuid, a namespace it
 * claims, a driver that binds it and (pfn, btt) a block device.
 */
class NdClaimDevice {
  readonly region: NdRegion;
  readonly ctx: NdctlCtx;
  readonly devname: string;
  readonly id: number;
  readonly path: string;
  readonly kind: 'pfn' | 'dax' | 'btt';

  constructor(region: NdRegion, devname: string, id: number, kind: 'pfn' | 'dax' | 'btt') {
    this.region = region;
    this.ctx = region.ctx;
    this.devname = devname;
    this.id = id;
    this.path = `${ND_DEVICES}/${devname}`;
    this.kind = kind;
  }

  protected attr(name: string): string | undefined {
    return this.ctx.read(`${this.path}/${name}`);
  }
  /** The libndctl function name of `op` for this kind (`ndctl_pfn_enable`). */
  protected fn(op: string): string {
    return `ndctl_${this.kind}_${op}`;
  }

  uuid(): string {
    return this.attr('uuid') ?? '';
  }
  isEnabled(): boolean {
    return this.ctx.isEnabled(this.path);
  }
  blockDevice(): string {
    return blockDevice(this.ctx, `${this.path}/block`);
  }
  setUuid(uuid: string): number {
    return this.ctx.write(`${this.path}/uuid`, uuid);
  }
  /** `namespace`: the namespace's name, or "\n" to detach. */
  setNamespace(ns: NdNamespace | undefined): number {
    return this.ctx.write(`${this.path}/namespace`, ns === undefined ? '\n' : ns.devname);
  }
}

export class NdPfn extends NdClaimDevice {
  declare readonly kind: 'pfn' | 'dax';

  constructor(region: NdRegion, devname: string, id: number, kind: 'pfn' | 'dax') {
    super(region, devname, id, kind);
  }

  /** `ndctl_pfn_get_location()`: from `mode`. */
  location(): PfnLoc {
    const t = this.attr('mode');
    return t === 'ram' || t === 'pmem' ? t : 'none';
  }
  /** `align`, 0 without the attribute. */
  align(): number {
    return num(this.attr('align'), 0);
  }
  hasAlign(): boolean {
    return this.attr('align') !== undefined;
  }
  /** `size` (readable only while enabled), ULLONG_MAX otherwise. */
  size(): number {
    return num(this.attr('size'), ULLONG_MAX);
  }
  resource(): number {
    return num(this.attr('resource'), ULLONG_MAX);
  }
  /** `supported_alignments`; libndctl assumes 4K and 2M without the attribute. */
  supportedAlignments(): number[] {
    const t = this.attr('supported_alignments') ?? '4096 2097152';
    return t
      .split(/\s+/)
      .filter((w) => w !== '')
      .map((w) => Number(w.replace(/[[\]]/g, '')));
  }
  setLocation(loc: PfnLoc): number {
    return this.ctx.write(`${this.path}/mode`, loc);
  }
  setAlign(align: number): number {
    return this.ctx.write(`${this.path}/align`, `${align}\n`);
  }

  /** `ndctl_pfn_enable()` / `ndctl_dax_enable()`. */
  enable(): number {
    if (this.isEnabled()) return 0;
    this.ctx.bind(this.devname);
    if (!this.isEnabled()) {
      this.ctx.err(this.fn('enable'), `${this.devname}: failed to enable\n`);
      return -ERRNO.ENXIO;
    }
    this.ctx.dbg(this.fn('enable'), `${this.devname}: enabled\n`);
    return 0;
  }

  /** `ndctl_pfn_delete()`: unbind, then detach the namespace. */
  delete(): number {
    this.ctx.unbind(this.path, this.devname);
    const rc = this.setNamespace(undefined);
    if (rc !== 0) {
      this.ctx.dbg(this.fn('delete'), `${this.devname}: failed to clear namespace: ${rc}\n`);
      return rc;
    }
    return 0;
  }
}

/** `struct ndctl_btt`. */
export class NdBtt extends NdClaimDevice {
  constructor(region: NdRegion, devname: string, id: number) {
    super(region, devname, id, 'btt');
  }

  size(): number {
    return num(this.attr('size'), ULLONG_MAX);
  }
  /** The selected sector size (`[4096]` in `sector_size`), and the supported ones. */
  sectorSizes(): { sizes: number[]; selected: number | undefined } {
    const t = this.ctx.read(`${this.path}/sector_size`) ?? '';
    const sizes: number[] = [];
    let selected: number | undefined;
    for (const w of t.split(/\s+/).filter((x) => x !== '')) {
      const v = Number(w.replace(/[[\]]/g, ''));
      sizes.push(v);
      if (w.startsWith('[')) selected = v;
    }
    return { sizes, selected };
  }
  setSectorSize(size: number): number {
    return this.ctx.write(`${this.path}/sector_size`, `${size}\n`);
  }
  enable(): number {
    if (this.isEnabled()) return 0;
    this.ctx.bind(this.devname);
    if (!this.isEnabled()) {
      this.ctx.err(this.fn('enable'), `${this.devname}: failed to enable\n`);
      return -ERRNO.ENXIO;
    }
    return 0;
  }
  delete(): number {
    this.ctx.unbind(this.path, this.devname);
    return this.setNamespace(undefined);
  }
}
