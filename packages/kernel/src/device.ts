/**
 * The device model: buses, devices, drivers, and the sysfs tree they make.
 *
 * Everything the kernel manages as hardware — a memory block, an NVDIMM
 * region, a namespace, a DAX device — is a `struct device`. A device has a
 * name (`memory32`, `namespace0.0`), a parent (the device it hangs off; none
 * for roots), and usually a bus: a `struct bus_type` such as `memory` or `nd`
 * that knows which drivers can handle which devices. A `struct
 * device_driver` registered on a bus is offered every device of that bus,
 * and every device added later: when the bus's `match()` accepts the pair,
 * the driver's `probe()` runs, and on success the device is bound to it. A
 * probe that fails leaves the device unbound. Unbinding (driver removal,
 * device removal, or `echo dev > /sys/bus/x/drivers/y/unbind`) calls
 * `remove()`.
 *
 * Drivers acquire things while bound: resources, mappings, registrations.
 * devres ("device resources", drivers/base/devres.c) records an undo action
 * for each, and the core runs them in REVERSE order of registration when the
 * device is unbound or its probe fails, so a driver can write its probe as a
 * series of `devm_*` calls with no error path at all.
 *
 * sysfs is built from this model (drivers/base/core.c, bus.c):
 *
 * ```
 *   /sys/devices/system/memory/            <- subsys_system_register("memory")
 *       block_size_bytes                   <- its attributes
 *       memory32/                          <- device_add(): dir below the parent
 *           state  valid_zones  ...        <- attribute groups (show/store)
 *           subsystem -> ../../../../bus/memory
 *           uevent
 *   /sys/bus/memory/
 *       devices/memory32 -> ../../../devices/system/memory/memory32
 *       drivers/<drv>/{bind,unbind,uevent,<dev> -> ...}
 *       drivers_autoprobe  drivers_probe  uevent
 * ```
 *
 * A device attribute is a name, a mode, and `show(dev)`/`store(dev, buf)`
 * callbacks that may throw a KernelError: a write to `memoryN/state` that
 * fails with EBUSY is the shell's `write error: Device or resource busy`.
 *
 * Some buses can take their devices offline and bring them back (memory
 * blocks, CPUs): a bus with both `online` and `offline` callbacks
 * "supports offline". The core then keeps `dev->offline` for each device,
 * gives every device of the bus (unless `offline_disabled`) an `online`
 * file (`1`/`0`), and `device_online()`/`device_offline()` call the bus only
 * when the device is not already in the requested state (else they return
 * 1), and refuse to offline a device while one of its descendants that
 * supports offline is still online.
 *
 * The kernel's `struct device_private` / `subsys_private` / `driver_private`
 * (state the core hides from drivers) are kept in maps owned by the
 * machine's {@link DeviceCore}, so one `BusType` or `DeviceDriver` descriptor
 * can be registered on several machines. Deferred probing, device links,
 * classes, power management beyond the `power/` files (power.ts) and uevent
 * delivery are not modelled. Mirrors
 * drivers/base/core.c, bus.c, dd.c, devres.c and driver.c of Linux v5.13.
 */
import type { Printk } from './printk.js';
import type { Tracer } from './trace.js';
import type { FaultInjection } from './fault-inject.js';
import { KernelError, isKernelError } from './errno.js';
import { checkUnsigned } from './validate.js';
import { formatDevt, major, minor } from './devt.js';
import type { Devtmpfs } from './devt.js';
import { dpmSysfsGroup } from './power.js';
import { kstrtobool } from './kstrtox.js';
import { BlockingNotifierHead } from './notifier.js';
import { NUMA_NO_NODE } from './numa.js';
import type { NotifierBlock } from './notifier.js';
import {
  KernfsDir,
  KernfsFile,
  KernfsLink,
  Sysfs,
  kernfsAdd,
  kernfsAddChecked,
  kernfsMkdirP,
  kernfsPath,
  kernfsRemove,
  rawOps,
  sysfsRoot,
  sysfsStreq,
} from './sysfs.js';
import type { Attribute, KernfsFileOps, KernfsLazyFill } from './sysfs.js';

// ---------------------------------------------------------------------------
// descriptors

/**
 * A device attribute (`struct device_attribute`): `show()` returns the file's
 * text, `store()` receives what was written (with the shell's newline).
 * Either may throw a KernelError, which the reader/writer sees. The mode is
 * masked to 0o664 when the file is created, as sysfs does.
 * @public
 */
export interface DeviceAttribute {
  readonly name: string;
  /** Permission bits, e.g. `0o644` (`DEVICE_ATTR_RW`), `0o444` (`_RO`), `0o200` (`_WO`). */
  readonly mode: number;
  show?(dev: Device): string;
  store?(dev: Device, buf: string): void;
}

/**
 * A set of attributes created together (`struct attribute_group`): with a
 * `name`, in a subdirectory of that name. `isVisible` may hide an attribute
 * (return 0) or give it another mode.
 * @public
 */
export interface AttributeGroup {
  readonly name?: string;
  readonly attrs: readonly DeviceAttribute[];
  isVisible?(dev: Device, attr: DeviceAttribute): number;
}

/**
 * A bus (`struct bus_type`). A descriptor: the core keeps the bus's state
 * (its devices and drivers) per machine.
 * @public
 */
export interface BusType {
  /** `/sys/bus/<name>`. */
  readonly name: string;
  /** Devices without a name are called `<devName><id>` (`memory32`). */
  readonly devName?: string;
  /** Attributes of every device on the bus (`dev_groups`). */
  readonly devGroups?: readonly AttributeGroup[];
  /** Files in `/sys/bus/<name>/` (`bus_groups`). */
  readonly busAttrs?: readonly Attribute[];
  /** Whether `drv` can handle `dev`; without it every driver matches (`driver_match_device()`). */
  match?(dev: Device, drv: DeviceDriver): boolean;
  /** Probes on behalf of every driver of the bus, instead of `drv.probe`. */
  probe?(dev: Device): void;
  /** Removes on behalf of every driver of the bus, instead of `drv.remove`. */
  remove?(dev: Device): void;
  /** Extra `KEY=value` lines of the devices' `uevent` file. */
  uevent?(dev: Device): readonly string[];
  /**
   * Brings an offline device back online (`bus_type.online`), for
   * {@link DeviceCore.deviceOnline}; throws a KernelError to refuse. With
   * `offline`, makes the bus support offline (`device_supports_offline()`).
   */
  online?(dev: Device): void;
  /**
   * Takes an online device offline (`bus_type.offline`), for
   * {@link DeviceCore.deviceOffline}; throws a KernelError to refuse.
   */
  offline?(dev: Device): void;
}

/**
 * A driver (`struct device_driver`). `probe` throws a KernelError to refuse
 * or fail; its devres actions are then undone and the device stays unbound.
 * @public
 */
export interface DeviceDriver {
  /** `/sys/bus/<bus>/drivers/<name>`, and the first word of dev_printk lines. */
  readonly name: string;
  readonly bus: BusType;
  probe?(dev: Device): void;
  remove?(dev: Device): void;
  /** Files in the driver's directory (`groups`). */
  readonly attrs?: readonly Attribute[];
  /** Attributes added to each device while bound (`dev_groups`). */
  readonly devGroups?: readonly AttributeGroup[];
  /** No `bind`/`unbind` files (`suppress_bind_attrs`). */
  readonly suppressBindAttrs?: boolean;
}

/**
 * A device type (`struct device_type`): a name (`DEVTYPE=` in uevent),
 * attributes common to devices of the type, and their release.
 * @public
 */
export interface DeviceType {
  readonly name?: string;
  readonly groups?: readonly AttributeGroup[];
  release?(dev: Device): void;
}

/**
 * Fields of a new {@link Device}.
 * @public
 */
export interface DeviceOptions {
  /** The device's name; if missing, the bus's `devName` and `id` make it. */
  readonly name?: string;
  readonly id?: number;
  readonly parent?: Device;
  readonly bus?: BusType;
  readonly type?: DeviceType;
  readonly groups?: readonly AttributeGroup[];
  /** Called when the last reference is dropped (after `device_unregister`). */
  readonly release?: (dev: Device) => void;
  readonly driverData?: unknown;
  /** `dev->numa_node` (`set_dev_node()`); default `NUMA_NO_NODE` (-1). */
  readonly numaNode?: number;
  /** `dev->offline`: the device starts offline (default false). */
  readonly offline?: boolean;
  /** `dev->offline_disabled`: the device may never go offline and gets no `online` file (default false). */
  readonly offlineDisabled?: boolean;
  /**
   * `dev->devt`: a character device number (`MKDEV()`); default 0, none.
   * A device with one gets a `dev` file, `/sys/dev/char/MAJ:MIN` and a
   * devtmpfs node when added.
   */
  readonly devt?: number;
}

/** A bus event (`BUS_NOTIFY_ADD_DEVICE`, include/linux/device/bus.h). @public */
export const BUS_NOTIFY_ADD_DEVICE = 0x00000001;
/** Device about to be removed (`BUS_NOTIFY_DEL_DEVICE`). @public */
export const BUS_NOTIFY_DEL_DEVICE = 0x00000002;
/** Device removed (`BUS_NOTIFY_REMOVED_DEVICE`). @public */
export const BUS_NOTIFY_REMOVED_DEVICE = 0x00000003;
/** Driver about to be bound (`BUS_NOTIFY_BIND_DRIVER`). @public */
export const BUS_NOTIFY_BIND_DRIVER = 0x00000004;
/** Driver bound to device (`BUS_NOTIFY_BOUND_DRIVER`). @public */
export const BUS_NOTIFY_BOUND_DRIVER = 0x00000005;
/** Driver about to be unbound (`BUS_NOTIFY_UNBIND_DRIVER`). @public */
export const BUS_NOTIFY_UNBIND_DRIVER = 0x00000006;
/** Driver unbound from the device (`BUS_NOTIFY_UNBOUND_DRIVER`). @public */
export const BUS_NOTIFY_UNBOUND_DRIVER = 0x00000007;
/** Driver failed to bind (`BUS_NOTIFY_DRIVER_NOT_BOUND`). @public */
export const BUS_NOTIFY_DRIVER_NOT_BOUND = 0x00000008;

/**
 * A devres entry: an undo action recorded for a device
 * (drivers/base/devres.c). Returned by {@link devmAddAction} so it can be
 * removed or run early.
 * @public
 */
export interface Devres {
  /** Shown by traces (`devm_region_release`, ...). */
  readonly name: string;
  readonly action: () => void;
}

// ---------------------------------------------------------------------------
// private state

interface DevicePrivate {
  core: DeviceCore | undefined;
  kobj: KernfsDir | undefined;
  /** Overrides the directory the device is created in (subsys roots). */
  kobjParent: KernfsDir | undefined;
  added: boolean;
  /** The `devt` the device was added with (0: none). */
  devt: number;
  refcount: number;
  driver: DeviceDriver | undefined;
  /** The devres actions, oldest first (allocated with the first). */
  devres: Devres[] | undefined;
  /** The registered children (allocated with the first). */
  children: Device[] | undefined;
}

interface BusPrivate {
  readonly dir: KernfsDir;
  readonly devicesDir: KernfsDir;
  readonly driversDir: KernfsDir;
  readonly devices: Device[];
  readonly drivers: DeviceDriver[];
  readonly notifier: BlockingNotifierHead<Device>;
  autoprobe: boolean;
  devRoot: Device | undefined;
}

interface DriverPrivate {
  readonly dir: KernfsDir;
  readonly devices: Device[];
}

/**
 * The key of each device's {@link DevicePrivate}: a property no other module
 * can name, kept in the device itself (a side table of a million memory
 * blocks would cost more than the state).
 */
const PRIVATE = Symbol('device_private');

function priv(dev: Device): DevicePrivate {
  return (dev as unknown as { [PRIVATE]: DevicePrivate })[PRIVATE];
}

const NO_DEVRES: readonly Devres[] = Object.freeze([]);
const NO_CHILDREN: readonly Device[] = Object.freeze([]);

/** The registered children of a device (none: an empty list). */
function childrenOf(p: DevicePrivate): readonly Device[] {
  return p.children ?? NO_CHILDREN;
}

/**
 * A device (`struct device`). Create it with its fields, then register it
 * with {@link DeviceCore.deviceRegister}. Later packages may subclass it
 * (the way `struct memory_block` embeds a `struct device`).
 * @public
 */
export class Device {
  /** The name (`init_name`, then the kobject's name once added). */
  name: string | undefined;
  id: number | undefined;
  parent: Device | undefined;
  bus: BusType | undefined;
  type: DeviceType | undefined;
  groups: readonly AttributeGroup[];
  release: ((dev: Device) => void) | undefined;
  /** `dev_get_drvdata()` / `dev_set_drvdata()`; cleared when the driver unbinds. */
  driverData: unknown;
  /** `dev->numa_node`: the node the device is attached to, or `NUMA_NO_NODE` (-1). */
  numaNode: number;
  /**
   * `dev->offline`: whether the device is offline, kept by
   * {@link DeviceCore.deviceOnline} / {@link DeviceCore.deviceOffline} for
   * devices whose bus supports offline; the `online` file shows its negation.
   */
  offline: boolean;
  /**
   * `dev->offline_disabled`: `device_offline()` fails with -EPERM, and no
   * `online` file is created (read when the device is added).
   */
  offlineDisabled: boolean;
  /** `dev->devt`: the character device number, or 0 (read when the device is added). */
  devt: number;

  constructor(options: DeviceOptions = {}) {
    this.name = options.name;
    this.id = options.id;
    this.parent = options.parent;
    this.bus = options.bus;
    this.type = options.type;
    this.groups = options.groups ?? [];
    this.release = options.release;
    this.driverData = options.driverData;
    this.numaNode = options.numaNode ?? NUMA_NO_NODE;
    this.offline = options.offline ?? false;
    this.offlineDisabled = options.offlineDisabled ?? false;
    this.devt = options.devt ?? 0;
    const p: DevicePrivate = {
      core: undefined,
      kobj: undefined,
      kobjParent: undefined,
      added: false,
      devt: 0,
      refcount: 1,
      driver: undefined,
      devres: undefined,
      children: undefined,
    };
    Object.defineProperty(this, PRIVATE, { value: p, writable: false, enumerable: false, configurable: false });
  }

  /** The bound driver (`dev->driver`), if any. */
  get driver(): DeviceDriver | undefined {
    return priv(this).driver;
  }

  /** Whether the device is registered (between `device_add` and `device_del`). */
  get registered(): boolean {
    return priv(this).added;
  }

  /** Used by the tracer to print this device as an argument. */
  get traceName(): string {
    return this.name ?? '(unnamed device)';
  }
}

/**
 * `dev_to_node()` (include/linux/device.h): the device's NUMA node, or
 * `NUMA_NO_NODE`.
 * @public
 */
export function devToNode(dev: Device): number {
  return dev.numaNode;
}

/**
 * `set_dev_node()` (include/linux/device.h): attach the device to a node.
 * @public
 */
export function setDevNode(dev: Device, node: number): void {
  dev.numaNode = node;
}

/**
 * `dev_name()`: the device's name (empty if it has none yet).
 * @public
 */
export function devName(dev: Device): string {
  return dev.name ?? '';
}

/**
 * `dev_driver_string()`: the bound driver's name, else the bus's name, else
 * the empty string.
 * @public
 */
export function devDriverString(dev: Device): string {
  return dev.driver?.name ?? dev.bus?.name ?? '';
}

function devLog(dev: Device, fn: string): Printk | undefined {
  const core = priv(dev).core;
  if (core === undefined) throw new Error(`${fn}: device ${devName(dev)} is not initialized on a machine`);
  return core.log;
}

function devPrefix(dev: Device): string {
  return `${devDriverString(dev)} ${devName(dev)}: `;
}

/**
 * `dev_err(dev, fmt)`: logs `"<driver> <device>: msg"` at KERN_ERR on the
 * device's machine (the driver string is the bus name while unbound).
 * @public
 */
export function devErr(dev: Device, msg: string): void {
  devLog(dev, 'dev_err')?.err(devPrefix(dev) + msg);
}

/** `dev_warn()`: as {@link devErr} at KERN_WARNING. @public */
export function devWarn(dev: Device, msg: string): void {
  devLog(dev, 'dev_warn')?.warn(devPrefix(dev) + msg);
}

/** `dev_notice()`: as {@link devErr} at KERN_NOTICE. @public */
export function devNotice(dev: Device, msg: string): void {
  devLog(dev, 'dev_notice')?.notice(devPrefix(dev) + msg);
}

/** `dev_info()`: as {@link devErr} at KERN_INFO. @public */
export function devInfo(dev: Device, msg: string): void {
  devLog(dev, 'dev_info')?.info(devPrefix(dev) + msg);
}

/** `dev_dbg()`: as {@link devErr} at KERN_DEBUG. @public */
export function devDbg(dev: Device, msg: string): void {
  devLog(dev, 'dev_dbg')?.debug(devPrefix(dev) + msg);
}

// ---------------------------------------------------------------------------
// devres

/**
 * Records `action` to be run when `dev` is unbound from its driver, when its
 * probe fails, or when it is released — in reverse order of registration.
 * Throws KernelError ENOMEM (the devres allocation failed, via the
 * machine's `failslab` fault point) and records nothing then. Mirrors
 * `devm_add_action()`.
 * @public
 */
export function devmAddAction(dev: Device, action: () => void, name?: string): Devres {
  const p = priv(dev);
  const t = p.core?.tracer;
  if (t?.enabled) return devmAddActionTraced(t, dev, p, action, name);
  return devmAddActionImpl(p, action, name);
}

function devmAddActionImpl(p: DevicePrivate, action: () => void, name: string | undefined): Devres {
  if (p.core?.faults?.shouldFail('failslab', 32)) {
    throw new KernelError('ENOMEM', 'devm_add_action: devres allocation failed');
  }
  const dr: Devres = { name: name ?? (action.name || 'devm_action'), action };
  (p.devres ??= []).push(dr);
  return dr;
}

/**
 * The traced path of {@link devmAddAction}: the trace shows `(dev, name)`,
 * not the impl's arguments, so this needs a closure; it lives here so that
 * the untraced path allocates none.
 */
function devmAddActionTraced(t: Tracer, dev: Device, p: DevicePrivate, action: () => void, name: string | undefined): Devres {
  return t.call('devm_add_action', [dev, name ?? action.name], () => devmAddActionImpl(p, action, name));
}

/**
 * {@link devmAddAction}, but if recording fails `action` is run at once
 * before the ENOMEM is thrown. Mirrors `devm_add_action_or_reset()`.
 * @public
 */
export function devmAddActionOrReset(dev: Device, action: () => void, name?: string): Devres {
  try {
    return devmAddAction(dev, action, name);
  } catch (e) {
    action();
    throw e;
  }
}

/**
 * Forgets a recorded action without running it. Throws KernelError ENOENT
 * if it is not recorded for `dev` (the kernel's WARN). Mirrors
 * `devm_remove_action()`.
 * @public
 */
export function devmRemoveAction(dev: Device, dr: Devres): void {
  const list = priv(dev).devres ?? [];
  const i = list.lastIndexOf(dr);
  if (i < 0) throw new KernelError('ENOENT', `devm_remove_action: ${dr.name} not found on ${devName(dev)}`);
  list.splice(i, 1);
}

/**
 * Forgets a recorded action and runs it now. Throws KernelError ENOENT if it
 * is not recorded for `dev`. Mirrors `devm_release_action()`.
 * @public
 */
export function devmReleaseAction(dev: Device, dr: Devres): void {
  devmRemoveAction(dev, dr);
  dr.action();
}

/**
 * The recorded devres actions of `dev`, oldest first (a copy).
 * @public
 */
export function devresList(dev: Device): readonly Devres[] {
  return (priv(dev).devres ?? NO_DEVRES).slice();
}

/** `devres_release_all()`: runs and forgets every action, newest first. */
function devresReleaseAll(dev: Device): void {
  const t = priv(dev).core?.tracer;
  if (t?.enabled && (priv(dev).devres?.length ?? 0) > 0) t.invoke('devres_release_all', undefined, devresReleaseAllImpl, dev);
  else devresReleaseAllImpl(dev);
}

function devresReleaseAllImpl(dev: Device): void {
  const list = priv(dev).devres;
  while (list !== undefined && list.length > 0) list.pop()!.action();
}

// ---------------------------------------------------------------------------
// online / offline

/** `device_supports_offline()`: see {@link DeviceCore.deviceSupportsOffline}. */
function supportsOffline(dev: Device): boolean {
  return dev.bus?.online !== undefined && dev.bus.offline !== undefined;
}


// ---------------------------------------------------------------------------
// the core

/**
 * Options of a {@link DeviceCore}.
 * @public
 */
export interface DeviceCoreOptions {
  readonly log?: Printk;
  readonly tracer?: Tracer;
  /** Fault points: `failslab` makes devres allocations fail. */
  readonly faults?: FaultInjection;
  /** The devtmpfs that gets a node for every device added with a `devt`. */
  readonly devtmpfs?: Devtmpfs;
}

const UEVENT_ACTIONS = ['add', 'remove', 'change', 'move', 'online', 'offline', 'bind', 'unbind'];

/** `uuid_is_valid()` (lib/uuid.c): 36 characters, hex digits with '-' at 8, 13, 18 and 23. */
function uuidIsValid(s: string): boolean {
  return /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(s);
}

/**
 * `kobject_synth_uevent()` (lib/kobject_uevent.c): what a write to a
 * `uevent` attribute accepts. One trailing newline or NUL is dropped; the
 * first word must be an action name exactly (`kobject_action_type()`), else
 * -EINVAL "unknown uevent action string". Anything after its space must be a
 * UUID followed by zero or more ` KEY=VALUE` pairs of alphanumeric words
 * (`kobject_action_args()`), else -EINVAL "incorrect uuid".
 */
function synthUevent(buf: string): void {
  const text = buf.endsWith('\n') || buf.endsWith('\0') ? buf.slice(0, -1) : buf;
  const space = text.indexOf(' ');
  const action = space < 0 ? text : text.slice(0, space);
  if (text === '' || !UEVENT_ACTIONS.includes(action)) throw new KernelError('EINVAL', 'synth uevent: unknown uevent action string');
  if (space < 0) return;
  const args = text.slice(space + 1);
  const uuid = args.slice(0, 36);
  const pairs = args.slice(36);
  if (!uuidIsValid(uuid) || !/^( [0-9A-Za-z]+=[0-9A-Za-z]+)*$/.test(pairs)) {
    throw new KernelError('EINVAL', 'synth uevent: incorrect uuid');
  }
}

function kobjectName(name: string): string {
  // kobject_set_name_vargs(): a '/' cannot be part of a sysfs name.
  return name.replace(/\//g, '!');
}

/**
 * One machine's device model and its `/sys`. Mirrors the global state of
 * drivers/base/ (`devices_kset`, `system_kset`, `bus_kset`).
 * @public
 */
export class DeviceCore {
  /** The machine's `/sys`. */
  readonly sysfs: Sysfs;
  /** The machine's log (dev_printk and the core's messages go there). */
  readonly log: Printk | undefined;
  /** The machine's function-graph tracer. */
  readonly tracer: Tracer | undefined;
  /** The machine's fault points (`failslab` fails devres allocations). */
  readonly faults: FaultInjection | undefined;
  /** The machine's devtmpfs (`/dev`), if it has one. */
  readonly devtmpfs: Devtmpfs | undefined;
  private readonly devicesDir: KernfsDir;
  private readonly sysDevChar: KernfsDir;
  /** `dev->power.runtime_auto` of each device (`power/control`). */
  private readonly runtimeAuto = new WeakMap<Device, boolean>();
  /** dpm_sysfs_add()'s `power` group, the same for every device. */
  private readonly powerGroup: AttributeGroup = dpmSysfsGroup(this.runtimeAuto);
  private readonly systemDir: KernfsDir;
  private readonly busDir: KernfsDir;
  private readonly buses: Map<BusType, BusPrivate> = new Map();
  private readonly drivers: Map<DeviceDriver, DriverPrivate> = new Map();
  /** {@link DeviceCore.deviceFill}'s shared records, by the devices' `groups`. */
  private readonly fillCache = new WeakMap<readonly AttributeGroup[], { bus: BusType | undefined; online: boolean; hasDevt: boolean; fill: KernfsLazyFill }>();

  constructor(options: DeviceCoreOptions = {}) {
    this.log = options.log;
    this.tracer = options.tracer;
    this.faults = options.faults;
    this.devtmpfs = options.devtmpfs;
    this.sysfs = new Sysfs();
    const root = sysfsRoot(this.sysfs);
    for (const d of ['block', 'bus', 'class', 'dev', 'devices', 'firmware', 'fs', 'kernel', 'module', 'power']) {
      kernfsMkdirP(root, [d]);
    }
    this.devicesDir = kernfsMkdirP(root, ['devices']);
    this.systemDir = kernfsMkdirP(root, ['devices', 'system']);
    kernfsMkdirP(root, ['devices', 'virtual']);
    this.busDir = kernfsMkdirP(root, ['bus']);
    kernfsMkdirP(root, ['dev', 'block']);
    this.sysDevChar = kernfsMkdirP(root, ['dev', 'char']);
  }

  private traced<R>(name: string, args: readonly unknown[], fn: () => R): R {
    const t = this.tracer;
    if (t?.enabled) return t.call(name, args, fn);
    return fn();
  }

  private dupWarn(dir: KernfsDir, name: string): KernelError {
    const path = `${kernfsPath(dir) === '/' ? '' : kernfsPath(dir)}/${name}`;
    this.log?.err(`sysfs: cannot create duplicate filename '${path}'`);
    return new KernelError('EEXIST', `sysfs: cannot create duplicate filename '${path}'`);
  }

  // -------------------------------------------------------------------------
  // buses

  private busPriv(bus: BusType, fn: string): BusPrivate {
    const bp = this.buses.get(bus);
    if (bp === undefined) throw new KernelError('EINVAL', `${fn}: bus '${bus.name}' is not registered`);
    return bp;
  }

  /**
   * Registers a bus: `/sys/bus/<name>/` with `devices/`, `drivers/`,
   * `drivers_autoprobe`, `drivers_probe`, `uevent` and the bus's own
   * attributes. Throws KernelError EEXIST, creating nothing, if a bus of that
   * name exists or an attribute name repeats. Mirrors `bus_register()`.
   */
  busRegister(bus: BusType): void {
    this.traced('bus_register', [bus.name], () => this.busRegisterImpl(bus));
  }

  private busRegisterImpl(bus: BusType): void {
    if (this.buses.has(bus) || this.busDir.has(bus.name)) throw this.dupWarn(this.busDir, bus.name);
    const names = ['devices', 'drivers', 'drivers_autoprobe', 'drivers_probe', 'uevent', ...(bus.busAttrs ?? []).map((a) => a.name)];
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) throw new KernelError('EEXIST', `sysfs: cannot create duplicate filename '/bus/${bus.name}/${dup}'`);

    const dir = kernfsAdd(this.busDir, new KernfsDir(bus.name, this.busDir));
    const bp: BusPrivate = {
      dir,
      devicesDir: kernfsAdd(dir, new KernfsDir('devices', dir)),
      driversDir: kernfsAdd(dir, new KernfsDir('drivers', dir)),
      devices: [],
      drivers: [],
      notifier: new BlockingNotifierHead<Device>({ name: `${bus.name}_bus_notifier`, ...this.notifierOpts() }),
      autoprobe: true,
      devRoot: undefined,
    };
    kernfsAdd(
      dir,
      new KernfsFile('drivers_autoprobe', dir, 0o644, {
        show: () => `${bp.autoprobe ? 1 : 0}\n`,
        store: (buf: string) => {
          bp.autoprobe = buf[0] !== '0';
        },
      }, undefined),
    );
    kernfsAdd(
      dir,
      new KernfsFile('drivers_probe', dir, 0o200, {
        store: (buf: string) => {
          const dev = this.busFindDeviceByName(bus, buf);
          if (dev === undefined) throw new KernelError('ENODEV', `no device '${buf.trim()}' on bus ${bus.name}`);
          if (dev.driver === undefined) this.deviceAttachImpl(dev);
        },
      }, undefined),
    );
    kernfsAdd(dir, new KernfsFile('uevent', dir, 0o200, { store: synthUevent }, undefined));
    for (const a of bus.busAttrs ?? []) kernfsAdd(dir, new KernfsFile(a.name, dir, a.mode, rawOps(a), a));
    this.buses.set(bus, bp);
  }

  private notifierOpts(): { tracer?: Tracer; log?: Printk } {
    const o: { tracer?: Tracer; log?: Printk } = {};
    if (this.tracer !== undefined) o.tracer = this.tracer;
    if (this.log !== undefined) o.log = this.log;
    return o;
  }

  /**
   * Removes a bus and its `/sys/bus/<name>` (and, for a system subsystem, its
   * root device). Throws KernelError EINVAL if the bus is not registered,
   * EBUSY if devices or drivers are still on it; nothing changes then.
   * Mirrors `bus_unregister()`.
   */
  busUnregister(bus: BusType): void {
    this.traced('bus_unregister', [bus.name], () => {
      const bp = this.busPriv(bus, 'bus_unregister');
      if (bp.devices.length > 0 || bp.drivers.length > 0) {
        throw new KernelError('EBUSY', `bus_unregister: bus '${bus.name}' still has devices or drivers`);
      }
      if (bp.devRoot !== undefined) {
        const root = bp.devRoot;
        if (childrenOf(priv(root)).length > 0) {
          throw new KernelError('EBUSY', `bus_unregister: ${kernfsPath(priv(root).kobj!)} still has children`);
        }
        this.deviceUnregisterImpl(root);
        bp.devRoot = undefined;
      }
      kernfsRemove(bp.dir);
      this.buses.delete(bus);
    });
  }

  /** Whether `bus` is registered on this machine. */
  busIsRegistered(bus: BusType): boolean {
    return this.buses.has(bus);
  }

  /**
   * Registers a system subsystem: the bus, plus its root device
   * `/sys/devices/system/<name>/` carrying `groups` (e.g. the memory
   * subsystem's `block_size_bytes`); devices of the bus without a parent are
   * created below that root. Returns the root device (`subsys->dev_root`).
   * Throws KernelError EEXIST, changing nothing, if the bus or the directory
   * exists. Mirrors `subsys_system_register()`.
   */
  subsysSystemRegister(bus: BusType, groups: readonly AttributeGroup[] = []): Device {
    return this.traced('subsys_system_register', [bus.name], () => {
      if (this.systemDir.has(bus.name)) throw this.dupWarn(this.systemDir, bus.name);
      this.busRegisterImpl(bus);
      const root = new Device({ name: bus.name, groups });
      priv(root).kobjParent = this.systemDir;
      try {
        this.deviceAddImpl(root);
      } catch (e) {
        const bp = this.buses.get(bus)!;
        kernfsRemove(bp.dir);
        this.buses.delete(bus);
        throw e;
      }
      this.buses.get(bus)!.devRoot = root;
      return root;
    });
  }

  /** The root device of a system subsystem (`bus->dev_root`). */
  busDevRoot(bus: BusType): Device | undefined {
    return this.buses.get(bus)?.devRoot;
  }

  /** The devices on `bus`, in registration order (a copy). */
  busDevices(bus: BusType): Device[] {
    return this.busPriv(bus, 'bus_for_each_dev').devices.slice();
  }

  /** The drivers on `bus`, in registration order (a copy). */
  busDrivers(bus: BusType): DeviceDriver[] {
    return this.busPriv(bus, 'bus_for_each_drv').drivers.slice();
  }

  /**
   * The device of `bus` whose name equals `name` (ignoring a trailing
   * newline, `sysfs_streq()`). Mirrors `bus_find_device_by_name()`.
   */
  busFindDeviceByName(bus: BusType, name: string): Device | undefined {
    return this.busPriv(bus, 'bus_find_device_by_name').devices.find((d) => sysfsStreq(devName(d), name));
  }

  /**
   * Adds a listener for the bus's `BUS_NOTIFY_*` events (the data is the
   * device). Mirrors `bus_register_notifier()`.
   */
  busRegisterNotifier(bus: BusType, nb: NotifierBlock<Device>): void {
    this.busPriv(bus, 'bus_register_notifier').notifier.register(nb);
  }

  /** Mirrors `bus_unregister_notifier()`; KernelError ENOENT if not registered. */
  busUnregisterNotifier(bus: BusType, nb: NotifierBlock<Device>): void {
    this.busPriv(bus, 'bus_unregister_notifier').notifier.unregister(nb);
  }

  private busNotify(dev: Device, event: number): void {
    const bus = dev.bus;
    if (bus === undefined) return;
    this.buses.get(bus)?.notifier.callChain(event, dev);
  }

  // -------------------------------------------------------------------------
  // devices

  /**
   * Ties `dev` to this machine without adding it (for dev_printk and devres
   * before registration). Idempotent. Mirrors `device_initialize()`; throws
   * KernelError EINVAL if the device belongs to another machine.
   */
  deviceInitialize(dev: Device): void {
    const p = priv(dev);
    if (p.core !== undefined && p.core !== this) throw new KernelError('EINVAL', `device ${devName(dev)} belongs to another machine`);
    p.core = this;
  }

  /** A device's directory, e.g. `/sys/devices/system/memory/memory32`. */
  devicePath(dev: Device): string {
    const kobj = priv(dev).kobj;
    if (kobj === undefined) throw new KernelError('ENODEV', `device ${devName(dev)} is not registered`);
    return `/sys${kernfsPath(kobj)}`;
  }

  /**
   * Adds a device: names it, creates its directory below its parent's (or
   * the bus's root device's, or `/sys/devices`), its `uevent` file, the
   * attribute groups of its type, its own and its bus's, the `subsystem`
   * link and `/sys/bus/<bus>/devices/<name>`; then notifies the bus and, if
   * the bus autoprobes, offers the device to its drivers (a probe failure
   * does not fail the add). Throws KernelError EINVAL (no name, bus not
   * registered, device of another machine), ENOENT (parent not registered),
   * EEXIST (already added, or a name taken); nothing changes then. Mirrors
   * `device_add()`.
   */
  deviceAdd(dev: Device): void {
    this.traced('device_add', [dev], () => this.deviceAddImpl(dev));
  }

  /** `device_register()`: `device_initialize()` + `device_add()`. */
  deviceRegister(dev: Device): void {
    this.traced('device_register', [dev], () => this.deviceAddImpl(dev));
  }

  private deviceAddImpl(dev: Device): void {
    const p = priv(dev);
    if (p.core !== undefined && p.core !== this) throw new KernelError('EINVAL', `device ${devName(dev)} belongs to another machine`);
    if (p.added) throw new KernelError('EEXIST', `device ${devName(dev)} is already registered`);
    let name = dev.name;
    if (name === undefined && dev.bus?.devName !== undefined && dev.id !== undefined) name = `${dev.bus.devName}${dev.id}`;
    if (name === undefined || name === '') throw new KernelError('EINVAL', 'device_add: device has no name');
    name = kobjectName(name);
    const bp = dev.bus !== undefined ? this.busPriv(dev.bus, 'device_add') : undefined;
    if (dev.parent !== undefined) {
      const pp = priv(dev.parent);
      if (!pp.added || pp.core !== this) {
        throw new KernelError('ENOENT', `device_add: parent ${devName(dev.parent)} of ${name} is not registered`);
      }
    }
    const parentDir =
      p.kobjParent ??
      (dev.parent !== undefined ? priv(dev.parent).kobj! : bp?.devRoot !== undefined ? priv(bp.devRoot).kobj! : this.devicesDir);
    if (parentDir.has(name)) throw this.dupWarn(parentDir, name);
    if (bp !== undefined && bp.devicesDir.has(name)) throw this.dupWarn(bp.devicesDir, name);
    const devt = dev.devt;
    if (devt !== 0) {
      checkUnsigned('device_add', 'devt', devt);
      if (major(devt) === 0) throw new KernelError('EINVAL', `device_add: ${name}: devt ${formatDevt(devt)} has major 0`);
      if (this.sysDevChar.has(formatDevt(devt))) throw this.dupWarn(this.sysDevChar, formatDevt(devt));
      if (this.devtmpfs?.lookup(name) !== undefined) throw new KernelError('EEXIST', `devtmpfs: /dev/${name} exists`);
    }
    const fill = this.deviceFill(dev, bp, devt !== 0, () => `${kernfsPath(parentDir)}/${name}`);

    // Commit: nothing below can fail.
    dev.name = name;
    p.core = this;
    const kobj = kernfsAddChecked(parentDir, new KernfsDir(name, parentDir));
    p.kobj = kobj;
    // uevent, the attribute groups and the subsystem link, made on first use
    kobj.setLazy(fill, dev);
    if (devt !== 0) {
      // device_create_file(dev_attr_dev), device_create_sys_dev_entry(), devtmpfs_create_node()
      kernfsAdd(kobj, new KernfsFile('dev', kobj, 0o444, { show: () => `${formatDevt(devt)}\n` }, undefined));
      kernfsAdd(this.sysDevChar, new KernfsLink(formatDevt(devt), this.sysDevChar, kobj));
      this.devtmpfs?.createNode(name, 'char', devt);
      p.devt = devt;
    }
    if (bp !== undefined) {
      kernfsAddChecked(bp.devicesDir, new KernfsLink(name, bp.devicesDir, kobj));
      bp.devices.push(dev);
    }
    if (dev.parent !== undefined) {
      (priv(dev.parent).children ??= []).push(dev);
      priv(dev.parent).refcount++;
    }
    p.added = true;
    this.busNotify(dev, BUS_NOTIFY_ADD_DEVICE);
    if (bp?.autoprobe) this.deviceAttachImpl(dev);
  }

  /**
   * The entries `device_add()` gives `dev`'s directory: `uevent`
   * (`device_create_file(dev, &dev_attr_uevent)`), the attribute groups of
   * `device_add_attrs()` (the type's, the device's, then the core's
   * `online` file) and of `bus_add_device()` (the bus's, and the
   * `subsystem` link), and `dpm_sysfs_add()`'s `power/` after them, as one
   * lazily made record; devices with the same groups, bus and visibility
   * share it. Throws KernelError EEXIST (logged) on a name clash.
   */
  private deviceFill(dev: Device, bp: BusPrivate | undefined, hasDevt: boolean, where: () => string): KernfsLazyFill {
    const online = supportsOffline(dev) && !dev.offlineDisabled;
    const cacheable = dev.type === undefined && dev.groups.length > 0 && dev.groups.every((g) => g.isVisible === undefined) &&
      (dev.bus?.devGroups ?? []).every((g) => g.isVisible === undefined);
    if (cacheable) {
      const c = this.fillCache.get(dev.groups);
      if (c !== undefined && c.bus === dev.bus && c.online === online && c.hasDevt === hasDevt) return c.fill;
    }
    const groups = [...(dev.type?.groups ?? []), ...dev.groups, ...(online ? [{ attrs: [this.devAttrOnline] }] : []), ...(dev.bus?.devGroups ?? []), this.powerGroup];
    const builtin = ['uevent', ...(bp !== undefined ? ['subsystem'] : []), ...(hasDevt ? ['dev'] : [])];
    const plan = this.planGroups(dev, groups, builtin, where);
    const fill = new DeviceDirFill(bp, plan);
    if (cacheable) this.fillCache.set(dev.groups, { bus: dev.bus, online, hasDevt, fill });
    return fill;
  }

  /** Visible attributes per group, checked for duplicate names. */
  private planGroups(
    dev: Device,
    groups: readonly AttributeGroup[],
    taken: readonly string[],
    where: () => string,
  ): { group: AttributeGroup; attrs: { attr: DeviceAttribute; mode: number }[] }[] {
    const used = new Set(taken);
    const subdirs = new Map<string, Set<string>>();
    const plan: { group: AttributeGroup; attrs: { attr: DeviceAttribute; mode: number }[] }[] = [];
    for (const group of groups) {
      let names = used;
      if (group.name !== undefined) {
        let s = subdirs.get(group.name);
        if (s === undefined) {
          if (used.has(group.name)) throw this.dupWarnPath(`${where()}/${group.name}`);
          s = new Set();
          subdirs.set(group.name, s);
          used.add(group.name);
        }
        names = s;
      }
      const attrs: { attr: DeviceAttribute; mode: number }[] = [];
      for (const attr of group.attrs) {
        const mode = group.isVisible !== undefined ? group.isVisible(dev, attr) : attr.mode;
        if (mode === 0) continue;
        if (names.has(attr.name)) {
          throw this.dupWarnPath(`${where()}${group.name !== undefined ? `/${group.name}` : ''}/${attr.name}`);
        }
        names.add(attr.name);
        attrs.push({ attr, mode: maskMode(mode) });
      }
      plan.push({ group, attrs });
    }
    return plan;
  }

  private dupWarnPath(path: string): KernelError {
    this.log?.err(`sysfs: cannot create duplicate filename '${path}'`);
    return new KernelError('EEXIST', `sysfs: cannot create duplicate filename '${path}'`);
  }

  private createGroups(dev: Device, kobj: KernfsDir, plan: { group: AttributeGroup; attrs: { attr: DeviceAttribute; mode: number }[] }[]): void {
    for (const { group, attrs } of plan) {
      let dir = kobj;
      if (group.name !== undefined) {
        const existing = kobj.get(group.name);
        dir = existing?.kind === 'dir' ? existing : kernfsAdd(kobj, new KernfsDir(group.name, kobj));
      }
      for (const { attr, mode } of attrs) kernfsAdd(dir, new KernfsFile(attr.name, dir, mode, devOps(dev, attr), attr));
    }
  }

  private removeGroups(kobj: KernfsDir, groups: readonly AttributeGroup[]): void {
    for (const group of groups) {
      let dir: KernfsDir = kobj;
      if (group.name !== undefined) {
        const d = kobj.get(group.name);
        if (d?.kind !== 'dir') continue;
        dir = d;
      }
      for (const attr of group.attrs) {
        const f = dir.get(attr.name);
        if (f?.kind === 'file' && f.key === attr) kernfsRemove(f);
      }
      if (group.name !== undefined && dir.names().length === 0) kernfsRemove(dir);
    }
  }



  /**
   * Removes a device: notifies the bus, unbinds its driver (running devres),
   * removes its directory and links, and drops the reference it held on its
   * parent. Its children must be removed first. Throws KernelError ENODEV if
   * it is not registered, EBUSY if it still has children; nothing changes
   * then. Mirrors `device_del()`.
   */
  deviceDel(dev: Device): void {
    this.traced('device_del', [dev], () => this.deviceDelImpl(dev));
  }

  private deviceDelImpl(dev: Device): void {
    const p = priv(dev);
    if (!p.added || p.core !== this) throw new KernelError('ENODEV', `device_del: ${devName(dev)} is not registered`);
    if (childrenOf(p).length > 0) {
      throw new KernelError('EBUSY', `device_del: ${devName(dev)} still has children (${childrenOf(p).map(devName).join(', ')})`);
    }
    this.busNotify(dev, BUS_NOTIFY_DEL_DEVICE);
    this.releaseDriverImpl(dev);
    const bp = dev.bus !== undefined ? this.buses.get(dev.bus) : undefined;
    if (bp !== undefined) {
      const l = bp.devicesDir.get(devName(dev));
      if (l !== undefined) kernfsRemove(l);
      const i = bp.devices.indexOf(dev);
      if (i >= 0) bp.devices.splice(i, 1);
    }
    if (p.devt !== 0) {
      // devtmpfs_delete_node(), device_remove_sys_dev_entry()
      this.devtmpfs?.deleteNode(devName(dev));
      const l = this.sysDevChar.get(formatDevt(p.devt));
      if (l !== undefined) kernfsRemove(l);
      p.devt = 0;
    }
    kernfsRemove(p.kobj!);
    p.kobj = undefined;
    p.added = false;
    if (dev.parent !== undefined) {
      const pp = priv(dev.parent);
      const i = childrenOf(pp).indexOf(dev);
      if (i >= 0) pp.children!.splice(i, 1);
    }
    this.busNotify(dev, BUS_NOTIFY_REMOVED_DEVICE);
    if (dev.parent !== undefined) this.putDeviceImpl(dev.parent);
  }

  /**
   * `device_unregister()`: {@link DeviceCore.deviceDel}, then drops the
   * initial reference (releasing the device if it was the last one). Same
   * failures as `deviceDel`.
   */
  deviceUnregister(dev: Device): void {
    this.traced('device_unregister', [dev], () => this.deviceUnregisterImpl(dev));
  }

  private deviceUnregisterImpl(dev: Device): void {
    this.deviceDelImpl(dev);
    this.putDeviceImpl(dev);
  }

  /** `get_device()`: takes a reference on `dev`. */
  getDevice(dev: Device): Device {
    priv(dev).refcount++;
    return dev;
  }

  /**
   * `put_device()`: drops a reference; the last one runs the remaining
   * devres actions and the release callback (the type's, else the device's).
   * Throws Error (the kernel's refcount WARN) on a put below zero.
   */
  putDevice(dev: Device): void {
    this.putDeviceImpl(dev);
  }

  private putDeviceImpl(dev: Device): void {
    const p = priv(dev);
    if (p.refcount <= 0) throw new Error(`put_device: refcount of ${devName(dev)} is already zero`);
    p.refcount--;
    if (p.refcount > 0) return;
    devresReleaseAll(dev);
    const release = dev.type?.release ?? dev.release;
    release?.(dev);
  }

  /** The registered children of `dev`, in registration order (a copy). */
  deviceChildren(dev: Device): Device[] {
    return childrenOf(priv(dev)).slice();
  }

  // -------------------------------------------------------------------------
  // online / offline

  /**
   * `dev_attr_online` (drivers/base/core.c): the `online` file of every
   * device whose bus supports offline. `online_show()` prints `1` or `0`
   * (`!dev->offline`); `online_store()` parses a boolean (`kstrtobool()`:
   * -EINVAL otherwise) and calls {@link DeviceCore.deviceOnline} or
   * {@link DeviceCore.deviceOffline}, whose "already so" result 1 counts as
   * success and whose errors reach the writer.
   */
  private readonly devAttrOnline: DeviceAttribute = {
    name: 'online',
    mode: 0o644,
    show: (dev: Device): string => `${dev.offline ? 0 : 1}\n`,
    store: (dev: Device, buf: string): void => {
      if (kstrtobool(buf)) this.deviceOnline(dev);
      else this.deviceOffline(dev);
    },
  };

  /**
   * Whether `dev` is on a bus with both `online` and `offline` callbacks.
   * Mirrors `device_supports_offline()` (drivers/base/core.c).
   */
  deviceSupportsOffline(dev: Device): boolean {
    return supportsOffline(dev);
  }

  /**
   * Brings `dev` online: for a device whose bus supports offline, returns 1
   * if it is already online, else calls the bus's `online` callback and, if
   * that succeeds, clears `dev.offline` and returns 0; a callback's
   * KernelError is thrown with `dev.offline` unchanged. A device whose bus
   * does not support offline: 0, nothing done. Mirrors `device_online()`.
   */
  deviceOnline(dev: Device): 0 | 1 {
    return this.traced('device_online', [dev], () => {
      if (!supportsOffline(dev)) return 0;
      if (!dev.offline) return 1;
      dev.bus!.online!(dev);
      dev.offline = false;
      return 0;
    });
  }

  /**
   * Takes `dev` offline: -EPERM if `dev.offlineDisabled`; -EBUSY if a
   * descendant whose bus supports offline is online (`device_check_offline()`);
   * then, for a device whose bus supports offline, 1 if it is already
   * offline, else the bus's `offline` callback and, on success, `dev.offline`
   * set and 0; a callback's KernelError is thrown with `dev.offline`
   * unchanged. Otherwise 0, nothing done. Mirrors `device_offline()`.
   */
  deviceOffline(dev: Device): 0 | 1 {
    return this.traced('device_offline', [dev], () => {
      if (dev.offlineDisabled) throw new KernelError('EPERM', `device_offline: ${devName(dev)} cannot be offlined`);
      const busy = this.onlineDescendant(dev);
      if (busy !== undefined) throw new KernelError('EBUSY', `device_offline: ${devName(busy)} below ${devName(dev)} is online`);
      if (!supportsOffline(dev)) return 0;
      if (dev.offline) return 1;
      dev.bus!.offline!(dev);
      dev.offline = true;
      return 0;
    });
  }

  /** `device_for_each_child(dev, NULL, device_check_offline)`: the first online descendant that supports offline. */
  private onlineDescendant(dev: Device): Device | undefined {
    for (const child of childrenOf(priv(dev))) {
      const below = this.onlineDescendant(child);
      if (below !== undefined) return below;
      if (supportsOffline(child) && !child.offline) return child;
    }
    return undefined;
  }

  /**
   * Adds an attribute file to a registered device. Throws KernelError EINVAL
   * if the device is not registered, EEXIST if the name is taken. Mirrors
   * `device_create_file()`.
   */
  deviceCreateFile(dev: Device, attr: DeviceAttribute): void {
    const kobj = priv(dev).kobj;
    if (kobj === undefined) throw new KernelError('EINVAL', `device_create_file: ${devName(dev)} is not registered`);
    if (kobj.has(attr.name)) throw this.dupWarn(kobj, attr.name);
    kernfsAdd(kobj, new KernfsFile(attr.name, kobj, maskMode(attr.mode), devOps(dev, attr), attr));
  }

  /** Removes an attribute file added for `attr` (no-op if absent). Mirrors `device_remove_file()`. */
  deviceRemoveFile(dev: Device, attr: DeviceAttribute): void {
    const f = priv(dev).kobj?.get(attr.name);
    if (f?.kind === 'file' && f.key === attr) kernfsRemove(f);
  }

  /**
   * Adds an attribute group to a registered device. Throws KernelError
   * EINVAL if not registered, EEXIST on a name clash (nothing is created).
   * Mirrors `device_add_group()` / `sysfs_create_group()`.
   */
  deviceAddGroup(dev: Device, group: AttributeGroup): void {
    const kobj = priv(dev).kobj;
    if (kobj === undefined) throw new KernelError('EINVAL', `device_add_group: ${devName(dev)} is not registered`);
    const plan = this.planGroups(dev, [group], kobj.names(), () => kernfsPath(kobj));
    this.createGroups(dev, kobj, plan);
  }

  /** Removes an attribute group's files. Mirrors `device_remove_group()`. */
  deviceRemoveGroup(dev: Device, group: AttributeGroup): void {
    const kobj = priv(dev).kobj;
    if (kobj !== undefined) this.removeGroups(kobj, [group]);
  }

  /**
   * Creates the symlink `<dev's dir>/<name>` pointing at `target`'s
   * directory (e.g. `node0/memory32`). Throws KernelError EINVAL if either
   * device is not registered, EEXIST if the name is taken. Mirrors
   * `sysfs_create_link(&dev->kobj, &target->kobj, name)`.
   */
  sysfsCreateLink(dev: Device, target: Device, name: string): void {
    this.createLink('sysfs_create_link', dev, target, name, true);
  }

  /** `sysfs_do_create_link_sd()`: the link, or EEXIST (logged when `warn`, as `sysfs_warn_dup()` does). */
  private createLink(fn: string, dev: Device, target: Device, name: string, warn: boolean): void {
    const kobj = priv(dev).kobj;
    const tk = priv(target).kobj;
    if (kobj === undefined || tk === undefined) throw new KernelError('EINVAL', `${fn}: device not registered`);
    if (typeof name !== 'string' || name === '' || name.includes('/')) throw new KernelError('EINVAL', `${fn}: invalid name ${String(name)}`);
    if (kobj.has(name)) throw warn ? this.dupWarn(kobj, name) : new KernelError('EEXIST', `sysfs: '${name}' exists`);
    kernfsAddChecked(kobj, new KernfsLink(name, kobj, tk));
  }

  /**
   * `sysfs_create_link_nowarn()`: as {@link DeviceCore.sysfsCreateLink}, but
   * a name already taken is KernelError EEXIST without the duplicate-filename
   * error in the log (callers that expect the link may exist ignore it).
   */
  sysfsCreateLinkNowarn(dev: Device, target: Device, name: string): void {
    this.createLink('sysfs_create_link_nowarn', dev, target, name, false);
  }

  /** Removes the symlink `name` of `dev` (no-op if absent). Mirrors `sysfs_remove_link()`. */
  sysfsRemoveLink(dev: Device, name: string): void {
    const l = priv(dev).kobj?.get(name);
    if (l?.kind === 'link') kernfsRemove(l);
  }

  // -------------------------------------------------------------------------
  // drivers

  /**
   * Registers a driver on its bus: `/sys/bus/<bus>/drivers/<name>/` with
   * `bind`, `unbind`, `uevent` and its attributes; if the bus autoprobes,
   * offers it every unbound device of the bus that it matches. Throws
   * KernelError EINVAL (bus not registered), EBUSY (a driver of that name is
   * registered, "Error: Driver '...' is already registered, aborting..."),
   * EEXIST (attribute name clash); nothing changes then. Mirrors
   * `driver_register()`.
   */
  driverRegister(drv: DeviceDriver): void {
    this.traced('driver_register', [drv.name], () => this.driverRegisterImpl(drv));
  }

  private driverRegisterImpl(drv: DeviceDriver): void {
    const bp = this.buses.get(drv.bus);
    if (bp === undefined) {
      this.log?.err(
        `Driver '${drv.name}' was unable to register with bus_type '${drv.bus.name}' because the bus was not initialized.`,
      );
      throw new KernelError('EINVAL', `bus '${drv.bus.name}' is not registered`);
    }
    if (this.drivers.has(drv) || bp.drivers.some((d) => d.name === drv.name)) {
      this.log?.err(`Error: Driver '${drv.name}' is already registered, aborting...`);
      throw new KernelError('EBUSY', `Driver '${drv.name}' is already registered`);
    }
    const builtin = drv.suppressBindAttrs === true ? ['uevent'] : ['bind', 'unbind', 'uevent'];
    const names = [...builtin, ...(drv.attrs ?? []).map((a) => a.name)];
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) throw this.dupWarnPath(`/bus/${drv.bus.name}/drivers/${drv.name}/${dup}`);

    const dir = kernfsAdd(bp.driversDir, new KernfsDir(drv.name, bp.driversDir));
    const dp: DriverPrivate = { dir, devices: [] };
    if (drv.suppressBindAttrs !== true) {
      kernfsAdd(dir, new KernfsFile('bind', dir, 0o200, { store: (buf: string) => this.bindStore(drv, buf) }, undefined));
      kernfsAdd(dir, new KernfsFile('unbind', dir, 0o200, { store: (buf: string) => this.unbindStore(drv, buf) }, undefined));
    }
    kernfsAdd(dir, new KernfsFile('uevent', dir, 0o200, { store: synthUevent }, undefined));
    for (const a of drv.attrs ?? []) kernfsAdd(dir, new KernfsFile(a.name, dir, a.mode, rawOps(a), a));
    this.drivers.set(drv, dp);
    bp.drivers.push(drv);
    if (bp.autoprobe) {
      // driver_attach(): every device of the bus, in order.
      for (const dev of bp.devices.slice()) {
        if (!this.driverMatchDevice(drv, dev)) continue;
        if (dev.driver === undefined && priv(dev).added) this.driverProbeDevice(drv, dev);
      }
    }
  }

  /**
   * Unbinds the driver from every device, then removes it and its directory.
   * Unregistering a driver that is not registered logs "Unexpected driver
   * unregister!" (the kernel's WARN) and does nothing. Mirrors
   * `driver_unregister()`.
   */
  driverUnregister(drv: DeviceDriver): void {
    this.traced('driver_unregister', [drv.name], () => {
      const dp = this.drivers.get(drv);
      if (dp === undefined) {
        this.log?.warn('Unexpected driver unregister!');
        return;
      }
      // driver_detach(): newest bound device first.
      for (const dev of dp.devices.slice().reverse()) this.releaseDriverImpl(dev);
      kernfsRemove(dp.dir);
      this.drivers.delete(drv);
      const bp = this.buses.get(drv.bus)!;
      bp.drivers.splice(bp.drivers.indexOf(drv), 1);
    });
  }

  /** Whether `drv` is registered on this machine. */
  driverIsRegistered(drv: DeviceDriver): boolean {
    return this.drivers.has(drv);
  }

  /** The devices bound to `drv`, in binding order (a copy). */
  driverDevices(drv: DeviceDriver): Device[] {
    return this.drivers.get(drv)?.devices.slice() ?? [];
  }

  private driverMatchDevice(drv: DeviceDriver, dev: Device): boolean {
    const m = drv.bus.match;
    return m === undefined ? true : m.call(drv.bus, dev, drv);
  }

  /** `bind_store()` (drivers/base/bus.c, v5.13). */
  private bindStore(drv: DeviceDriver, buf: string): void {
    const dev = this.busFindDeviceByName(drv.bus, buf);
    if (dev !== undefined && this.driverMatchDevice(drv, dev)) {
      if (this.deviceDriverAttachImpl(drv, dev)) return;
    }
    throw new KernelError('ENODEV', `bind: ${drv.name} did not bind '${buf.replace(/\n$/, '')}'`);
  }

  /** `unbind_store()`. */
  private unbindStore(drv: DeviceDriver, buf: string): void {
    const dev = this.busFindDeviceByName(drv.bus, buf);
    if (dev !== undefined && dev.driver === drv) {
      this.releaseDriverImpl(dev);
      return;
    }
    throw new KernelError('ENODEV', `unbind: '${buf.replace(/\n$/, '')}' is not bound to ${drv.name}`);
  }

  /**
   * Offers `dev` to the drivers of its bus, in registration order, until one
   * binds. Returns true if the device is (now) bound. Throws KernelError
   * ENODEV if it is not registered. Mirrors `device_attach()`.
   */
  deviceAttach(dev: Device): boolean {
    return this.traced('device_attach', [dev], () => {
      if (!priv(dev).added || priv(dev).core !== this) throw new KernelError('ENODEV', `device_attach: ${devName(dev)} is not registered`);
      return this.deviceAttachImpl(dev);
    });
  }

  private deviceAttachImpl(dev: Device): boolean {
    if (dev.driver !== undefined) return true;
    const bus = dev.bus;
    if (bus === undefined) return false;
    const bp = this.buses.get(bus)!;
    for (const drv of bp.drivers.slice()) {
      if (!this.driverMatchDevice(drv, dev)) continue;
      if (this.driverProbeDevice(drv, dev)) return true;
    }
    return false;
  }

  /**
   * Probes `drv` on `dev` without checking the bus's match: true if it
   * bound, false if the device is unregistered, already bound, or the probe
   * failed (v5.13 swallows probe errors here; they are logged). Mirrors
   * `device_driver_attach()`.
   */
  deviceDriverAttach(drv: DeviceDriver, dev: Device): boolean {
    return this.traced('device_driver_attach', [drv.name, dev], () => this.deviceDriverAttachImpl(drv, dev));
  }

  private deviceDriverAttachImpl(drv: DeviceDriver, dev: Device): boolean {
    if (!this.drivers.has(drv)) throw new KernelError('EINVAL', `driver ${drv.name} is not registered`);
    if (!priv(dev).added || priv(dev).core !== this || dev.driver !== undefined) return false;
    return this.driverProbeDevice(drv, dev);
  }

  /** `driver_probe_device()` / `really_probe()`: true when bound. */
  private driverProbeDevice(drv: DeviceDriver, dev: Device): boolean {
    return this.traced('really_probe', [dev, drv.name], () => this.reallyProbe(drv, dev));
  }

  private reallyProbe(drv: DeviceDriver, dev: Device): boolean {
    const p = priv(dev);
    const dp = this.drivers.get(drv)!;
    const kobj = p.kobj!;
    const devname = devName(dev);
    p.driver = drv;
    // driver_sysfs_add()
    this.busNotify(dev, BUS_NOTIFY_BIND_DRIVER);
    if (dp.dir.has(devname) || kobj.has('driver')) {
      this.log?.err(`really_probe: driver_sysfs_add(${devname}) failed`);
      this.probeFailed(drv, dev, new KernelError('EEXIST'));
      return false;
    }
    const l1 = kernfsAdd(dp.dir, new KernfsLink(devname, dp.dir, kobj));
    const l2 = kernfsAdd(kobj, new KernfsLink('driver', kobj, dp.dir));
    const unlink = (): void => {
      kernfsRemove(l1);
      kernfsRemove(l2);
    };
    const probe = dev.bus?.probe ?? drv.probe;
    try {
      probe?.call(dev.bus?.probe !== undefined ? dev.bus : drv, dev);
    } catch (e) {
      unlink();
      this.probeFailed(drv, dev, e);
      if (!isKernelError(e)) throw e;
      return false;
    }
    const devGroups = drv.devGroups ?? [];
    if (devGroups.length > 0) {
      let plan;
      try {
        plan = this.planGroups(dev, devGroups, kobj.names(), () => kernfsPath(kobj));
      } catch (e) {
        devErr(dev, 'device_add_groups() failed');
        this.callRemove(drv, dev);
        unlink();
        this.probeFailed(drv, dev, e);
        return false;
      }
      this.createGroups(dev, kobj, plan);
    }
    // driver_bound()
    dp.devices.push(dev);
    this.busNotify(dev, BUS_NOTIFY_BOUND_DRIVER);
    return true;
  }

  private probeFailed(drv: DeviceDriver, dev: Device, e: unknown): void {
    this.busNotify(dev, BUS_NOTIFY_DRIVER_NOT_BOUND);
    devresReleaseAll(dev);
    const p = priv(dev);
    p.driver = undefined;
    dev.driverData = undefined;
    const name = devName(dev);
    if (isKernelError(e) && (e.errno === 'ENODEV' || e.errno === 'ENXIO')) {
      this.log?.debug(`${drv.name}: probe of ${name} rejects match ${-e.code}`);
    } else if (isKernelError(e)) {
      this.log?.warn(`${drv.name}: probe of ${name} failed with error ${-e.code}`);
    }
  }

  private callRemove(drv: DeviceDriver, dev: Device): void {
    const remove = dev.bus?.remove ?? drv.remove;
    try {
      remove?.call(dev.bus?.remove !== undefined ? dev.bus : drv, dev);
    } catch (e) {
      // The kernel ignores a remove callback's return value.
      if (!isKernelError(e)) throw e;
    }
  }

  /**
   * Unbinds `dev` from its driver: notifies the bus, removes the driver
   * links and the driver's device attributes, calls `remove` (the bus's, else
   * the driver's), runs the device's devres actions newest first, and clears
   * the driver and its data. No-op for an unbound device. Mirrors
   * `device_release_driver()`.
   */
  deviceReleaseDriver(dev: Device): void {
    this.traced('device_release_driver', [dev], () => this.releaseDriverImpl(dev));
  }

  private releaseDriverImpl(dev: Device): void {
    const p = priv(dev);
    const drv = p.driver;
    if (drv === undefined) return;
    const dp = this.drivers.get(drv)!;
    const kobj = p.kobj!;
    // driver_sysfs_remove()
    const l1 = dp.dir.get(devName(dev));
    if (l1?.kind === 'link') kernfsRemove(l1);
    const l2 = kobj.get('driver');
    if (l2?.kind === 'link') kernfsRemove(l2);
    this.busNotify(dev, BUS_NOTIFY_UNBIND_DRIVER);
    this.removeGroups(kobj, drv.devGroups ?? []);
    let thrown: unknown;
    try {
      this.callRemove(drv, dev);
    } catch (e) {
      thrown = e;
    }
    devresReleaseAll(dev);
    p.driver = undefined;
    dev.driverData = undefined;
    dp.devices.splice(dp.devices.indexOf(dev), 1);
    this.busNotify(dev, BUS_NOTIFY_UNBOUND_DRIVER);
    if (thrown !== undefined) throw thrown;
  }
}

function maskMode(mode: number): number {
  // mode &= SYSFS_PREALLOC | 0664: no execute bits, no write for others.
  let m = 0;
  for (const b of [0o400, 0o200, 0o40, 0o20, 0o4]) if (Math.floor(mode / b) % 2 === 1) m += b;
  return m;
}

function devOps(dev: Device, attr: DeviceAttribute): KernfsFileOps {
  return new DevAttrOps(dev, attr);
}

/**
 * The operations of one device attribute file: the device and the attribute,
 * with `dev_attr_show()`/`dev_attr_store()` on the prototype, so that the
 * files of thousands of devices (memory blocks) cost two references each and
 * no closures. A missing callback is no operation at all (sysfs answers -EIO).
 */
class DevAttrOps implements KernfsFileOps {
  private readonly dev: Device;
  private readonly attr: DeviceAttribute;
  constructor(dev: Device, attr: DeviceAttribute) {
    this.dev = dev;
    this.attr = attr;
  }
  get show(): (() => string) | undefined {
    return this.attr.show === undefined ? undefined : this.devAttrShow;
  }
  get store(): ((value: string) => void) | undefined {
    return this.attr.store === undefined ? undefined : this.devAttrStore;
  }
  private devAttrShow(this: DevAttrOps): string {
    return this.attr.show!(this.dev);
  }
  private devAttrStore(this: DevAttrOps, buf: string): void {
    this.attr.store!(this.dev, buf);
  }
}

/** `dev_attr_uevent` (drivers/base/core.c): `uevent_show()` and `uevent_store()` of `dev`. */
function ueventOps(dev: Device): KernfsFileOps {
  return {
    show: (): string => {
      // dev_uevent_filter(): only devices on a bus (or of a class) have events.
      if (dev.bus === undefined) return '';
      const lines: string[] = [];
      // dev_uevent(): the device node's numbers and name come first.
      const devt = priv(dev).devt;
      if (devt !== 0) lines.push(`MAJOR=${major(devt)}`, `MINOR=${minor(devt)}`, `DEVNAME=${devName(dev)}`);
      if (dev.type?.name !== undefined) lines.push(`DEVTYPE=${dev.type.name}`);
      if (dev.driver !== undefined) lines.push(`DRIVER=${dev.driver.name}`);
      lines.push(...(dev.bus.uevent?.(dev) ?? []));
      return lines.map((l) => `${l}\n`).join('');
    },
    store: (buf: string): void => {
      try {
        synthUevent(buf);
      } catch (e) {
        devErr(dev, 'uevent: failed to send synthetic uevent');
        throw e;
      }
    },
  };
}

type GroupPlan = readonly { group: AttributeGroup; attrs: { attr: DeviceAttribute; mode: number }[] }[];

/**
 * What `device_add()` puts in a device's directory, made when the
 * directory is first used (see {@link KernfsLazyFill}): `uevent`, the
 * planned attribute files, each named group as a subdirectory that is
 * itself made on first use, and the `subsystem` link.
 */
class DeviceDirFill implements KernfsLazyFill {
  readonly names: ReadonlySet<string>;
  private readonly bp: BusPrivate | undefined;
  private readonly top: readonly { attr: DeviceAttribute; mode: number }[];
  private readonly subdirs: ReadonlyMap<string, GroupDirFill>;
  constructor(bp: BusPrivate | undefined, plan: GroupPlan) {
    this.bp = bp;
    const names = new Set<string>(['uevent']);
    if (bp !== undefined) names.add('subsystem');
    const top: { attr: DeviceAttribute; mode: number }[] = [];
    const sub = new Map<string, { attr: DeviceAttribute; mode: number }[]>();
    for (const { group, attrs } of plan) {
      if (group.name === undefined) {
        top.push(...attrs);
        for (const a of attrs) names.add(a.attr.name);
      } else {
        names.add(group.name);
        let l = sub.get(group.name);
        if (l === undefined) sub.set(group.name, (l = []));
        l.push(...attrs);
      }
    }
    this.names = names;
    this.top = top;
    this.subdirs = new Map([...sub].map(([n, l]) => [n, new GroupDirFill(l)]));
  }
  fill(dir: KernfsDir, arg: unknown): void {
    const dev = arg as Device;
    kernfsAdd(dir, new KernfsFile('uevent', dir, 0o644, ueventOps(dev), undefined));
    for (const { attr, mode } of this.top) kernfsAdd(dir, new KernfsFile(attr.name, dir, mode, devOps(dev, attr), attr));
    for (const [name, f] of this.subdirs) kernfsAdd(dir, new KernfsDir(name, dir)).setLazy(f, dev);
    if (this.bp !== undefined) kernfsAdd(dir, new KernfsLink('subsystem', dir, this.bp.dir));
  }
}

/** The files of a named attribute group's directory (`power/`), made on first use. */
class GroupDirFill implements KernfsLazyFill {
  readonly names: ReadonlySet<string>;
  private readonly attrs: readonly { attr: DeviceAttribute; mode: number }[];
  constructor(attrs: readonly { attr: DeviceAttribute; mode: number }[]) {
    this.attrs = attrs;
    this.names = new Set(attrs.map((a) => a.attr.name));
  }
  fill(dir: KernfsDir, arg: unknown): void {
    const dev = arg as Device;
    for (const { attr, mode } of this.attrs) kernfsAdd(dir, new KernfsFile(attr.name, dir, mode, devOps(dev, attr), attr));
  }
}
