/**
 * The QEMU side of memory hot-plug: memory backends, pc-dimm devices, the
 * device-memory region they live in, and the HMP monitor commands that
 * manage them (QEMU 6.0).
 *
 * ```
 *   (qemu) object_add memory-backend-ram,id=mem1,size=1G     host memory for a DIMM
 *   (qemu) device_add pc-dimm,id=dimm1,memdev=mem1[,node=1]   plug it
 *            pre_plug: a free slot, room in device memory, the first free address
 *            realize:  the memdev not busy, the node exists
 *            plug:     map it, tell the guest
 *                        x86_64:  ACPI memory device (PNP0C80) -> acpi_memory_enable_device()
 *                                 -> __add_memory() (with memmap_on_memory when it fits)
 *                        powerpc: DLPAR hot-add of its LMBs -> dlpar_add_lmb()
 *                                 -> __add_memory() + online each LMB
 *   (qemu) device_del dimm1                                   ask the guest to let go
 *                        x86_64:  ACPI eject -> offline every block -> __remove_memory()
 *                        powerpc: DLPAR hot-remove -> offline + __remove_memory() per LMB
 *   (qemu) object_del mem1                                    free the host memory
 * ```
 *
 * QEMU's own errors are printed as HMP prints them (`Error: ...`). A
 * hot-plug is asynchronous in QEMU: the monitor returns at once and the
 * guest answers later; the model runs the guest's handler before the
 * command returns. When the guest refuses an unplug the DIMM stays, and
 * QEMU emits a QMP event (`ACPI_DEVICE_OST` on x86 with the guest's _OST
 * status, `MEM_UNPLUG_ERROR` on pseries); a front-end prints that event (the demo: on
 * standard error), and the guest's own messages are in its dmesg.
 *
 * A DIMM's memory is the backend's: each backend owns a sparse store that
 * is registered as the backing of the DIMM's physical range while it is
 * plugged, so what the guest wrote survives an unplug and a re-plug of the
 * same backend, as host memory would.
 */
import { SparseBacking } from '@zonedev/mmzone';
import { QemuError } from '../qemu-error.js';
import type { PhysBacking } from '@zonedev/mmzone';
import type { MachineCore } from './core.js';
import { parseQemuSize } from './options.js';
import { pcMemoryLayout } from '../x86/qemu-pc.js';
import { SPAPR_DEVICE_MEM_ALIGN, SPAPR_MEMORY_BLOCK_SIZE } from '../powerpc/fdt.js';
import { formatLogTime, LOGLEVEL } from '@zonedev/kernel';
import { acpiMemoryAdd, acpiMemoryEject, dlparMemoryAddByIc, dlparMemoryRemoveByIc, type GuestResult } from './guest-hotplug.js';


/**
 * A `memory-backend-ram` object.
 *
 * @public
 */
export interface MemoryBackend {
  /** The QOM id (`id=`). */
  readonly id: string;
  /** Size in bytes (`size=`). */
  readonly size: number;
  /** The host memory behind it. */
  readonly backing: SparseBacking;
  /** `host_memory_backend_is_mapped()`: a DIMM uses it. */
  mapped: boolean;
}

/**
 * A plugged `pc-dimm`.
 *
 * @public
 */
export interface PcDimm {
  /** `id=`, if given. */
  readonly id: string | undefined;
  /** The memory backend (`memdev=`). */
  readonly memdev: MemoryBackend;
  /** Guest physical address (`addr`). */
  readonly addr: number;
  /** DIMM slot (`slot`). */
  readonly slot: number;
  /** NUMA node (`node`). */
  readonly node: number;
  /** Size in bytes (the backend's). */
  readonly size: number;
  /** Plugged after boot (`device_add`), as `info memory-devices` reports. */
  readonly hotplugged: boolean;
  /** Where the backend's memory is registered (see `backendWindows()`). */
  readonly windows?: readonly number[];
}

/**
 * `size` bytes of `inner` from byte `base`: the part of a backend that
 * shows at one piece of a DIMM's range.
 */
class BackingWindow implements PhysBacking {
  readonly size: number;
  private readonly inner: PhysBacking;
  private readonly base: number;

  constructor(inner: PhysBacking, base: number, size: number) {
    this.inner = inner;
    this.base = base;
    this.size = size;
  }

  read(offset: number, dst: Uint8Array): void {
    this.inner.read(this.base + offset, dst);
  }

  write(offset: number, src: Uint8Array): void {
    this.inner.write(this.base + offset, src);
  }

  zero(offset: number, length: number): void {
    this.inner.zero(this.base + offset, length);
  }

  get bytesAllocated(): number {
    return this.inner.bytesAllocated;
  }
}

/**
 * What a monitor command did: its output, its QMP events, and the guest's failure if any.
 *
 * @public
 */
export interface MonitorResult {
  /** Lines the monitor prints. */
  readonly output: string;
  /**
   * What the guest printed on its console meanwhile (with `quiet`: errors
   * and worse), as `[    1.250000] text` lines: with `-serial mon:stdio`
   * the guest's console and the monitor share the terminal.
   */
  readonly console: readonly string[];
  /** QMP events QEMU emitted (JSON lines), e.g. `MEM_UNPLUG_ERROR`. */
  readonly events: readonly string[];
  /** The guest handled the request and failed. */
  readonly guestFailed: boolean;
}

/** `id_wellformed()`: letters, digits, `-`, `.`, `_`, starting with a letter. */
function idWellformed(id: string): boolean {
  return /^[A-Za-z][A-Za-z0-9._-]*$/.test(id);
}

/**
 * `keyval_parse()` / QemuOpts: `TYPE,key=value,...`, the first element
 * without `=` being the implied key; `,,` is a literal comma.
  *
  * @public
 */
export function parseQemuOpts(text: string, implied: string): { opts: Map<string, string>; error?: string } {
  const opts = new Map<string, string>();
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === ',' && text[i + 1] === ',') {
      cur += ',';
      i++;
    } else if (c === ',') {
      parts.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  parts.push(cur);
  parts.forEach((p, i) => {
    const eq = p.indexOf('=');
    if (eq < 0) {
      if (i === 0 && p !== '') opts.set(implied, p);
      else if (p !== '') opts.set(p, 'on');
      return;
    }
    opts.set(p.slice(0, eq), p.slice(eq + 1));
  });
  return { opts };
}

/** `qemu_strtou64()` as the string input visitor uses it: decimal, 0x hex, 0 octal. */
function parseU64(s: string): number | undefined {
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) return parseInt(s.slice(2), 16);
  if (/^0[0-7]*$/.test(s)) return parseInt(s, 8);
  if (/^[1-9][0-9]*$/.test(s)) return Number(s);
  return undefined;
}

function hexq(n: number): string {
  return n.toString(16);
}

/**
 * The QEMU side of one machine.
 *
 * @public
 */
export class QemuMachine {
  private readonly m: MachineCore;
  /** `/objects`: memory backends by id, in creation order. */
  readonly backends: Map<string, MemoryBackend> = new Map();
  /** The plugged DIMMs. */
  readonly dimms: PcDimm[] = [];
  /** `machine->device_memory`: where DIMMs go (undefined without maxmem). */
  readonly deviceMemory: { readonly base: number; readonly size: number } | undefined;
  /** `ms->maxram_size - ms->ram_size`: what memory devices may total. */
  readonly deviceMemoryLimit: number;
  /** pseries: the LMBs the guest has assigned, by LMB number. */
  readonly lmbAssigned: Set<number> = new Set();

  /** The QEMU side of machine `m`: no backends, no DIMMs yet. */
  constructor(m: MachineCore) {
    this.m = m;
    const o = m.options;
    this.deviceMemoryLimit = o.maxmem - o.ramSize;
    if (o.maxmem <= o.ramSize) this.deviceMemory = undefined;
    else if (m.platform === 'x86_64') this.deviceMemory = pcMemoryLayout({ ramSize: o.ramSize, slots: o.slots, maxmem: o.maxmem }).deviceMemory;
    else this.deviceMemory = { base: Math.ceil(o.ramSize / SPAPR_DEVICE_MEM_ALIGN) * SPAPR_DEVICE_MEM_ALIGN, size: o.maxmem - o.ramSize };
  }

  /** The DIMM with QEMU id `id`. */
  dimm(id: string): PcDimm | undefined {
    if (typeof id !== 'string') throw new QemuError(`dimm: invalid id ${String(id)}`);
    return this.dimms.find((d) => d.id === id);
  }

  // ------------------------------------------------------------------ objects

  /** HMP `object_add TYPE,id=ID,size=SIZE` (`user_creatable_add_from_str()`). Throws a {@link QemuError}. */
  objectAdd(text: string): void {
    if (typeof text !== 'string') throw new QemuError(`object_add: invalid text ${String(text)}`);
    const { opts } = parseQemuOpts(text, 'qom-type');
    const type = opts.get('qom-type');
    if (type === undefined) throw new QemuError("Parameter 'qom-type' is missing");
    const id = opts.get('id');
    if (id === undefined) throw new QemuError("Parameter 'id' is missing");
    if (type !== 'memory-backend-ram') throw new QemuError(`invalid object type: ${type}`);
    if (!idWellformed(id)) throw new QemuError("Parameter 'id' expects an identifier");
    let size = 0;
    for (const [k, v] of opts) {
      if (k === 'qom-type' || k === 'id') continue;
      if (k === 'size') {
        const s = parseQemuSize(v, 1);
        if (s === undefined) throw new QemuError("Parameter 'size' expects size");
        size = s;
      } else if (!['merge', 'dump', 'prealloc', 'share', 'reserve', 'policy', 'host-nodes'].includes(k)) {
        throw new QemuError(`Property '${type}.${k}' not found`);
      }
    }
    if (this.backends.has(id)) throw new QemuError(`attempt to add duplicate property '${id}' to object (type 'container')`);
    // host_memory_backend_memory_complete() -> ram_backend_memory_alloc()
    if (size === 0) throw new QemuError("can't create backend with size 0");
    this.backends.set(id, { id, size, backing: new SparseBacking(size, this.m.mm.config.pageSize), mapped: false });
  }

  /** HMP `object_del ID` (`user_creatable_del()`). */
  objectDel(id: string): void {
    if (typeof id !== 'string') throw new QemuError(`object_del: invalid id ${String(id)}`);
    const b = this.backends.get(id);
    if (b === undefined) throw new QemuError(`object '${id}' not found`);
    if (b.mapped) throw new QemuError(`object '${id}' is in use, can not be deleted`);
    this.backends.delete(id);
  }

  // ------------------------------------------------------------------ devices

  /**
   * HMP `device_add pc-dimm,id=ID,memdev=MEM[,node=N][,slot=N][,addr=A]`
   * (`qdev_device_add()`, `pc_memory_pre_plug()`/`spapr_memory_pre_plug()`,
   * `pc_dimm_realize()`, the plug handler), then the guest's hot-add.
   * Throws a {@link QemuError} when QEMU refuses; otherwise the guest's
   * outcome.
   */
  deviceAdd(text: string): MonitorResult {
    if (typeof text !== 'string') throw new QemuError(`device_add: invalid text ${String(text)}`);
    const { opts } = parseQemuOpts(text, 'driver');
    const driver = opts.get('driver');
    if (driver === undefined) throw new QemuError("Parameter 'driver' is missing");
    const id = opts.get('id');
    if (id !== undefined && !idWellformed(id)) throw new QemuError("Parameter 'id' expects an identifier");
    if (id !== undefined && this.dimm(id) !== undefined) throw new QemuError(`Duplicate ID '${id}' for device`);
    if (driver === 'nvdimm' && this.m.platform === 'x86_64') throw new QemuError("nvdimm is not enabled: missing 'nvdimm' in '-M'");
    if (driver !== 'pc-dimm') throw new QemuError(`'${driver}' is not a valid device model name`);
    // set_property(): every option through object_property_parse().
    let memdevId: string | undefined;
    let node = 0;
    let slot = -1;
    let addr = 0;
    for (const [k, v] of opts) {
      if (k === 'driver' || k === 'id') continue;
      if (k === 'memdev') {
        if (!this.backends.has(v)) throw new QemuError(`Device '${v}' not found`);
        memdevId = v;
      } else if (k === 'node' || k === 'slot' || k === 'addr') {
        const n = k === 'slot' && /^-[0-9]+$/.test(v) ? -Number(v.slice(1)) : parseU64(v);
        if (n === undefined) throw new QemuError(`Parameter '${k}' expects ${k === 'slot' ? 'an int64 value' : 'a uint64 value'}`);
        if (k === 'node') {
          if (n > 0xffffffff) throw new QemuError("Parameter 'node' expects uint32_t");
          node = n;
        } else if (k === 'slot') slot = n;
        else addr = n;
      } else {
        throw new QemuError(`Property '${driver}.${k}' not found`);
      }
    }
    const memdev = memdevId === undefined ? undefined : this.backends.get(memdevId);
    const o = this.m.options;
    // pre_plug
    if (this.m.platform === 'powerpc') {
      if (memdev === undefined) throw new QemuError("'memdev' property must be set");
      if (memdev.size % SPAPR_MEMORY_BLOCK_SIZE !== 0) {
        throw new QemuError(`Hotplugged memory size must be a multiple of ${SPAPR_MEMORY_BLOCK_SIZE / 2 ** 20} MB`);
      }
    }
    const newSlot = this.freeSlot(slot, o.slots);
    if (memdev === undefined) throw new QemuError("'memdev' property must be set");
    const at = this.freeAddr(addr === 0 ? undefined : addr, memdev.size);
    // realize
    if (memdev.mapped) throw new QemuError(`can't use already busy memdev: ${memdev.id}`);
    const nbNodes = o.numa > 1 || o.slots > 0 ? o.numa : 0;
    if ((nbNodes > 0 && node >= nbNodes) || (nbNodes === 0 && node !== 0)) {
      throw new QemuError(`'DIMM property node has value ${node}' which exceeds the number of numa nodes: ${nbNodes > 0 ? nbNodes : 1}`);
    }
    // plug: the memory region appears in the guest's address space.
    memdev.mapped = true;
    const windows = this.backendWindows(at, memdev, id ?? memdev.id);
    const dimm: PcDimm = { id, memdev, addr: at, slot: newSlot, node, size: memdev.size, hotplugged: true, windows };
    this.dimms.push(dimm);
    const mark = this.m.kernel.log.lines.length;
    const guest: GuestResult = this.m.platform === 'x86_64' ? acpiMemoryAdd(this.m, dimm) : dlparMemoryAddByIc(this.m, this.lmbAssigned, dimm);
    return { output: '', console: this.consoleSince(mark), events: [], guestFailed: !guest.ok };
  }

  /**
   * HMP `device_del ID` (`qdev_unplug()`): asks the guest to release the
   * DIMM and, if it does, unplugs it. Throws a {@link QemuError} for an
   * unknown id.
   */
  deviceDel(id: string): MonitorResult {
    if (typeof id !== 'string') throw new QemuError(`device_del: invalid id ${String(id)}`);
    const dimm = this.dimm(id);
    if (dimm === undefined) throw new QemuError(`Device '${id}' not found`);
    const mark = this.m.kernel.log.lines.length;
    const guest = this.m.platform === 'x86_64' ? acpiMemoryEject(this.m, dimm) : dlparMemoryRemoveByIc(this.m, this.lmbAssigned, dimm);
    const guestConsole = this.consoleSince(mark);
    if (!guest.ok) {
      const t = this.m.kernel.clock.now();
      const ts = `{"timestamp": {"seconds": ${Math.floor(t / 1e9)}, "microseconds": ${Math.floor((t % 1e9) / 1000)}}, `;
      const event =
        this.m.platform === 'x86_64'
          ? `${ts}"event": "ACPI_DEVICE_OST", "data": {"info": {"device": "${id}", "slot": "${dimm.slot}", "slot-type": "DIMM", "source": 259, "status": 130}}}`
          : `${ts}"event": "MEM_UNPLUG_ERROR", "data": {"device": "${id}", "msg": "Memory hotunplug rejected by the guest for device ${id}"}}`;
      return { output: '', console: guestConsole, events: [event], guestFailed: true };
    }
    // The guest ejected it: pc_dimm_unplug(), object_unparent().
    const kept = this.guestHeldBytes(dimm);
    for (const w of dimm.windows ?? [dimm.addr]) this.m.mm.physmem.unregisterBacking(w);
    for (const k of kept) {
      if (k.bytes === undefined) this.m.mm.physmem.zero(k.addr, k.length);
      else this.m.mm.physmem.write(k.addr, k.bytes);
    }
    dimm.memdev.mapped = false;
    this.dimms.splice(this.dimms.indexOf(dimm), 1);
    return { output: '', console: guestConsole, events: [], guestFailed: false };
  }

  /**
   * Registers the backend's memory over `[at, at + size)` and returns where.
   * The model's guest can hold memory in the device-memory window that no
   * DIMM backs (a block added through the `probe` file); its bytes stay
   * where the guest wrote them: the backend shows only in the pieces of the
   * range that are not already busy System RAM, so a DIMM plugged over such
   * a block (which the guest refuses: `register_memory_resource()` fails
   * with -EEXIST) hides nothing the guest stored.
   */
  private backendWindows(at: number, memdev: MemoryBackend, name: string): number[] {
    const physmem = this.m.mm.physmem;
    const end = at + memdev.size;
    const held: { start: number; end: number }[] = [];
    this.m.kernel.iomem.walkSystemRamRes(at, end - 1, (r) => {
      held.push({ start: r.start, end: r.end + 1 });
      return 0;
    });
    if (held.length === 0) {
      physmem.registerBacking(at, memdev.size, memdev.backing, name);
      return [at];
    }
    const ps = this.m.mm.config.pageSize;
    const windows: number[] = [];
    let from = at;
    for (const h of [...held, { start: end, end }]) {
      const pieceEnd = Math.floor(h.start / ps) * ps;
      if (pieceEnd > from) {
        physmem.registerBacking(from, pieceEnd - from, new BackingWindow(memdev.backing, from - at, pieceEnd - from), name);
        windows.push(from);
      }
      from = Math.max(from, Math.ceil(h.end / ps) * ps);
    }
    return windows;
  }

  /**
   * The bytes of the System RAM the guest still holds inside the DIMM's
   * windows when QEMU unplugs it, page by page (`bytes` undefined: a run
   * of zeros). By then the guest has removed whatever it added from this
   * DIMM (`acpi_memory_remove_memory()`, `dlpar_remove_lmb()`), so what is
   * left is memory it added by other means, through the `probe` file, over
   * a DIMM it refused. In real QEMU that memory is the DIMM's RAM and
   * vanishes from under the guest at the eject (the guest never bound the
   * refused device, so `acpi_scan_hot_remove()` ejects it without looking
   * at the range); the model's guest memory outside any DIMM is ordinary
   * RAM, so the bytes the guest stored there move to it and stay readable
   * where they were written. The backend keeps its copy.
   */
  private guestHeldBytes(dimm: PcDimm): { addr: number; length: number; bytes: Uint8Array | undefined }[] {
    const physmem = this.m.mm.physmem;
    const ps = physmem.pageSize;
    const out: { addr: number; length: number; bytes: Uint8Array | undefined }[] = [];
    for (const w of dimm.windows ?? [dimm.addr]) {
      const r = physmem.ranges().find((x) => x.start === w);
      if (r === undefined) continue;
      this.m.kernel.iomem.walkSystemRamRes(r.start, r.start + r.size - 1, (res) => {
        const from = Math.max(r.start, Math.floor(res.start / ps) * ps);
        const to = Math.min(r.start + r.size, Math.ceil((res.end + 1) / ps) * ps);
        const page = new Uint8Array(ps);
        const words = new Uint32Array(page.buffer);
        let zeros = from;
        for (let a = from; a < to; a += ps) {
          physmem.readInto(a, page);
          if (words.every((w) => w === 0)) continue;
          if (a > zeros) out.push({ addr: zeros, length: a - zeros, bytes: undefined });
          out.push({ addr: a, length: ps, bytes: page.slice() });
          zeros = a + ps;
        }
        if (to > zeros) out.push({ addr: zeros, length: to - zeros, bytes: undefined });
        return 0;
      });
    }
    return out;
  }

  /** The guest's console lines (KERN_ERR and worse, as with `quiet`) logged after record `mark`. */
  private consoleSince(mark: number): string[] {
    return this.m.kernel.log.lines
      .slice(mark)
      .filter((r) => r.level <= LOGLEVEL.ERR)
      .map((r) => `${formatLogTime(r.ts)}${r.text}`);
  }

  /** `pc_dimm_get_free_slot()`. */
  private freeSlot(hint: number, maxSlots: number): number {
    if (maxSlots <= 0) throw new QemuError("no slots where allocated, please specify the 'slots' option");
    const used = new Set(this.dimms.map((d) => d.slot));
    if (hint >= 0) {
      if (hint >= maxSlots) throw new QemuError(`invalid slot# ${hint}, should be less than ${maxSlots}`);
      if (used.has(hint)) throw new QemuError(`slot ${hint} is busy`);
      return hint;
    }
    for (let s = 0; s < maxSlots; s++) if (!used.has(s)) return s;
    throw new QemuError('no free slots available');
  }

  /** `memory_device_get_free_addr()` (with `memory_device_check_addable()`), alignment: the host page size. */
  private freeAddr(hint: number | undefined, size: number): number {
    const dm = this.deviceMemory;
    if (dm === undefined) throw new QemuError('memory devices (e.g. for memory hotplug) are not enabled, please specify the maxmem option');
    const align = 4096;
    const used = this.dimms.reduce((s, d) => s + d.size, 0);
    if (used + size > this.deviceMemoryLimit) {
      throw new QemuError(`not enough space, currently 0x${hexq(used)} in use of total space for memory devices 0x${hexq(this.deviceMemoryLimit)}`);
    }
    if (hint !== undefined && hint % align !== 0) throw new QemuError(`address must be aligned to 0x${hexq(align)} bytes`);
    if (size % align !== 0) throw new QemuError(`backend memory size must be multiple of 0x${hexq(align)}`);
    const end = dm.base + dm.size;
    let newAddr = dm.base;
    if (hint !== undefined) {
      newAddr = hint;
      if (newAddr < dm.base) throw new QemuError(`can't add memory device [0x${hexq(newAddr)}:0x${hexq(size)}] before 0x${hexq(dm.base)}`);
      if (newAddr + size > end) throw new QemuError(`can't add memory device [0x${hexq(newAddr)}:0x${hexq(size)}] beyond 0x${hexq(end)}`);
    }
    for (const d of [...this.dimms].sort((a, b) => a.addr - b.addr)) {
      if (d.addr < newAddr + size && newAddr < d.addr + d.size) {
        if (hint !== undefined) throw new QemuError(`address range conflicts with memory device id='${d.id ?? '(unnamed)'}'`);
        newAddr = Math.ceil((d.addr + d.size) / align) * align;
      }
    }
    if (newAddr + size > end) {
      throw new QemuError('could not find position in guest address space for memory device - memory fragmented due to alignments');
    }
    return newAddr;
  }

  /** HMP `info memory-devices` (`hmp_info_memory_devices()`). */
  infoMemoryDevices(): string {
    let s = '';
    for (const d of [...this.dimms].sort((a, b) => a.addr - b.addr)) {
      s += `Memory device [dimm]: "${d.id ?? ''}"\n`;
      s += `  addr: 0x${hexq(d.addr)}\n`;
      s += `  slot: ${d.slot}\n`;
      s += `  node: ${d.node}\n`;
      s += `  size: ${d.size}\n`;
      s += `  memdev: /objects/${d.memdev.id}\n`;
      s += `  hotplugged: ${d.hotplugged ? 'true' : 'false'}\n`;
      s += '  hotpluggable: true\n';
    }
    return s;
  }
}
