/**
 * Persistent memory at boot: which libnvdimm provider finds it on each
 * platform, and the pmem disks it ends up as in `/dev`.
 *
 * ```
 *   x86_64    memmap=nn!ss  ->  e820 type 12 "Persistent Memory (legacy)"
 *             register_e820_pmem() (arch/x86/kernel/pmem.c, a device_initcall)
 *               -> platform device e820_pmem -> ndbus0 (provider "e820")
 *               -> region0..: one per range -> namespace0.0 -> /dev/pmem0
 *   powerpc   device-tree pmem-region nodes (MachineOptions.pmemRegions)
 *             of_pmem_region_probe() (drivers/nvdimm/of_pmem.c)
 *               -> platform device <start>.pmem -> ndbusN -> regionN -> /dev/pmemN
 * ```
 *
 * `memmap=` pmem is ordinary RAM that the kernel was told to leave alone:
 * nothing of it survives a reboot of the model, as on a real machine.
 *
 *   x86_64    QEMU NVDIMMs (-M pc,nvdimm=on, --object memory-backend-file,...,
 *             --device nvdimm,memdev=...): an ACPI NFIT with one SPA range per
 *             DIMM -> ACPI0012:00 -> ndbusN (provider "ACPI.NFIT") -> nmemN,
 *             and for a label-less DIMM regionN -> namespaceN.0 -> /dev/pmemN
 *
 * A QEMU NVDIMM's memory is its backend's host file, written through: what
 * the guest writes (info blocks, data, labels) is in the file and is found
 * again by the next boot of the same command line. QEMU keeps the label
 * area (`label-size=`) at the end of the backend, after the PMEM range
 * (hw/mem/nvdimm.c `nvdimm_prepare_memory_region()`), and so does the model.
 *
 * The transparent-huge-page sizes decide the pfn alignments libnvdimm
 * offers (`supported_alignments`): 2 MiB and 1 GiB on x86_64 and on
 * powerpc's radix MMU; on the hash MMU with 64 KiB pages the PMD maps
 * 16 MiB and there are no PUD-sized pages.
 */
import { KernelError, isKernelError } from '@zonedev/kernel';
import type { Kernel } from '@zonedev/kernel';
import { DaxKmem, Libnvdimm } from '@zonedev/libnvdimm';
import { MemoryHotplug } from '@zonedev/memory-hotplug';
import type { NdMedia, NfitDimm, NvdimmArch } from '@zonedev/libnvdimm';
import type { PhysBacking } from '@zonedev/mmzone';
import { pcMemoryLayout } from '../x86/qemu-pc.js';
import { BackendError, backingWindow, type BackingStore, type BackingStoreFactory } from './backing.js';
import { parseQemuSize } from './options.js';
import type { Memremap } from '@zonedev/memremap';
import type { MmCore } from '@zonedev/mmzone';
import type { DeviceFile, DeviceFiles } from './devices.js';
import type { MachineOptions } from './options.js';
import { argObject, argOneOf, argString, argUnsigned } from '../args.js';

/**
 * QEMU's `-object memory-backend-file,id=ID,mem-path=FILE,size=SIZE[,share=on]`.
 *
 * @public
 */
export interface MemoryBackendFileOption {
  /** The option as given, for QEMU's error prefix. */
  readonly text: string;
  /** `id=`: the backend's QOM id. */
  readonly id: string;
  /** `mem-path=`: the host file. */
  readonly memPath: string;
  /** `size=` in bytes. */
  readonly size: number;
  /** `share=on`: writes reach the file. */
  readonly share: boolean;
}

/**
 * QEMU's `-device nvdimm,memdev=ID[,id=ID][,label-size=SIZE][,unarmed=on]`.
 *
 * @public
 */
export interface NvdimmDeviceOption {
  /** The option as given, for QEMU's error prefix. */
  readonly text: string;
  /** `id=`: the device's id. */
  readonly id?: string;
  /** `memdev=`: the id of its memory backend. */
  readonly memdev: string;
  /** `label-size=` (0: none). */
  readonly labelSize: number;
  /** `unarmed=on`: the NFIT says the DIMM cannot persist writes (`ACPI_NFIT_MEM_NOT_ARMED`). */
  readonly unarmed: boolean;
}

/**
 * The QEMU NVDIMM part of a machine's options (x86_64 only).
 *
 * @public
 */
export interface NvdimmOptions {
  /** `-M pc,nvdimm=on`. */
  readonly nvdimm?: boolean;
  /** `-object memory-backend-file,...` options, in order. */
  readonly memoryBackends?: readonly MemoryBackendFileOption[];
  /** `-device nvdimm,...` options, in slot order. */
  readonly nvdimms?: readonly NvdimmDeviceOption[];
}

/**
 * QEMU's `MIN_NAMESPACE_LABEL_SIZE` (include/hw/mem/nvdimm.h).
 *
 * @public
 */
export const MIN_NAMESPACE_LABEL_SIZE: number = 128 * 1024;

/** `key=value,...` after the type, as QEMU's option parser splits it. */
function qemuProps(text: string): { type: string; props: Map<string, string> } | { error: string } {
  const parts = text.split(',');
  const type = parts[0]!;
  const props = new Map<string, string>();
  for (const p of parts.slice(1)) {
    const eq = p.indexOf('=');
    if (eq <= 0) return { error: `${text}: Invalid parameter '${p}'` };
    props.set(p.slice(0, eq), p.slice(eq + 1));
  }
  return { type, props };
}

function qemuBool(v: string): boolean | undefined {
  if (v === 'on' || v === 'yes' || v === 'true') return true;
  if (v === 'off' || v === 'no' || v === 'false') return false;
  return undefined;
}

/**
 * `-M TYPE[,nvdimm=on|off]` (x86 machine types pc and q35).
 *
 * @public
 */
export function parseMachineOption(text: string): { nvdimm: boolean } | { error: string } {
  argString('parseMachineOption', 'text', text);
  const p = qemuProps(text);
  if ('error' in p) return p;
  if (p.type !== 'pc' && p.type !== 'q35') return { error: `-M ${text}: unsupported machine type '${p.type}' (pc or q35)` };
  let nvdimm = false;
  for (const [k, v] of p.props) {
    if (k !== 'nvdimm') return { error: `-M ${text}: Property '${p.type}-machine.${k}' not found` };
    const b = qemuBool(v);
    if (b === undefined) return { error: `-M ${text}: Parameter 'nvdimm' expects 'on' or 'off'` };
    nvdimm = b;
  }
  return { nvdimm };
}

/**
 * `-object memory-backend-file,...` (QEMU's messages for a missing id, size or mem-path).
 *
 * @public
 */
export function parseObjectOption(text: string): MemoryBackendFileOption | { error: string } {
  argString('parseObjectOption', 'text', text);
  const p = qemuProps(text);
  const prefix = `-object ${text}`;
  if ('error' in p) return { error: `-object ${p.error}` };
  if (p.type !== 'memory-backend-file') return { error: `${prefix}: invalid object type: ${p.type}` };
  const id = p.props.get('id');
  if (id === undefined) return { error: `${prefix}: Parameter 'id' is missing` };
  let size = 0;
  let memPath: string | undefined;
  let share = false;
  for (const [k, v] of p.props) {
    if (k === 'id') continue;
    if (k === 'size') {
      const n = parseQemuSize(v, 1);
      if (n === undefined) return { error: `${prefix}: Parameter 'size' expects a non-negative number below 2^64` };
      size = n;
    } else if (k === 'mem-path') memPath = v;
    else if (k === 'share') {
      const b = qemuBool(v);
      if (b === undefined) return { error: `${prefix}: Parameter 'share' expects 'on' or 'off'` };
      share = b;
    } else return { error: `${prefix}: Property '${p.type}.${k}' not found` };
  }
  if (size === 0) return { error: `${prefix}: can't create backend with size 0` };
  if (memPath === undefined || memPath === '') return { error: `${prefix}: mem-path property not set` };
  return { text, id, memPath, size, share };
}

/**
 * `-device nvdimm,...`.
 *
 * @public
 */
export function parseDeviceOption(text: string): NvdimmDeviceOption | { error: string } {
  argString('parseDeviceOption', 'text', text);
  const p = qemuProps(text);
  const prefix = `-device ${text}`;
  if ('error' in p) return { error: `-device ${p.error}` };
  if (p.type !== 'nvdimm') return { error: `${prefix}: '${p.type}' is not a valid device model name` };
  let id: string | undefined;
  let memdev: string | undefined;
  let labelSize = 0;
  let unarmed = false;
  for (const [k, v] of p.props) {
    if (k === 'id') id = v;
    else if (k === 'memdev') memdev = v;
    else if (k === 'label-size') {
      const n = parseQemuSize(v, 1);
      if (n === undefined) return { error: `${prefix}: Parameter 'label-size' expects a non-negative number below 2^64` };
      if (n < MIN_NAMESPACE_LABEL_SIZE) {
        return { error: `${prefix}: Property 'nvdimm.label-size' (0x${n.toString(16)}) is required at least 0x${MIN_NAMESPACE_LABEL_SIZE.toString(16)}` };
      }
      labelSize = n;
    } else if (k === 'unarmed') {
      const b = qemuBool(v);
      if (b === undefined) return { error: `${prefix}: Parameter 'unarmed' expects 'on' or 'off'` };
      unarmed = b;
    } else return { error: `${prefix}: Property 'nvdimm.${k}' not found` };
  }
  if (memdev === undefined) return { error: `${prefix}: 'memdev' property is not set` };
  return { text, ...(id !== undefined ? { id } : {}), memdev, labelSize, unarmed };
}

/**
 * The checks QEMU makes when the machine starts with these NVDIMMs
 * (`pc_memory_pre_plug()`, `memory_device_pre_plug()`,
 * `nvdimm_prepare_memory_region()`), with QEMU's messages; undefined when
 * the machine can start.
  *
  * @public
 */
export function checkNvdimmOptions(o: MachineOptions & NvdimmOptions): string | undefined {
  argObject('checkNvdimmOptions', 'options', o);
  argOneOf('checkNvdimmOptions', 'platform', o.platform, ['x86_64', 'powerpc']);
  argUnsigned('checkNvdimmOptions', 'ramSize', o.ramSize, 1);
  argUnsigned('checkNvdimmOptions', 'maxmem', o.maxmem, 1);
  argUnsigned('checkNvdimmOptions', 'slots', o.slots);
  const backends = o.memoryBackends ?? [];
  const ids = new Set<string>();
  for (const b of backends) {
    if (ids.has(b.id)) return `-object ${b.text}: attempt to add duplicate property '${b.id}' to object (type 'container')`;
    ids.add(b.id);
  }
  const used = new Set<string>();
  let total = 0;
  for (const d of o.nvdimms ?? []) {
    const prefix = `-device ${d.text}`;
    if (o.platform !== 'x86_64') return `${prefix}: nvdimm is not supported on ${o.platform} by this model (x86_64 pc only)`;
    const b = backends.find((x) => x.id === d.memdev);
    if (b === undefined) return `${prefix}: Device '${d.memdev}' not found`;
    if (o.nvdimm !== true) return `${prefix}: nvdimm is not enabled: missing 'nvdimm' in '-M'`;
    if (o.maxmem <= o.ramSize) return `${prefix}: memory devices (e.g. for memory hotplug) are not enabled, please specify the maxmem option`;
    if (o.slots <= 0) return `${prefix}: no slots where allocated, please specify the 'slots' option`;
    if (used.has(b.id)) return `${prefix}: can't use already busy memdev: ${b.id}`;
    used.add(b.id);
    const pmem = nvdimmPmemSize(b.size, d.labelSize);
    if (pmem <= 0) {
      return `${prefix}: the size of memdev ${b.id} (0x${b.size.toString(16)}) is too small to contain nvdimm label (0x${d.labelSize.toString(16)}) and aligned PMEM (0x${Math.max(0, pmem).toString(16)})`;
    }
    const limit = o.maxmem - o.ramSize;
    if (total + b.size > limit) return `${prefix}: not enough space, currently 0x${total.toString(16)} in use of total space for memory devices 0x${limit.toString(16)}`;
    total += b.size;
  }
  if ((o.nvdimms ?? []).length > o.slots && o.slots > 0) return `-device ${o.nvdimms![o.slots]!.text}: no free slots available`;
  return undefined;
}

/** `nvdimm_prepare_memory_region()`: the PMEM part, `QEMU_ALIGN_DOWN(size - label_size, align)` (4 KiB host pages). */
function nvdimmPmemSize(size: number, labelSize: number): number {
  return Math.floor((size - labelSize) / 4096) * 4096;
}

/** What the boot hands to libnvdimm. */
export interface NvdimmBoot {
  /** The machine's kernel. */
  readonly kernel: Kernel;
  /** The mmzone core (physical memory the NVDIMM ranges are registered in). */
  readonly mm: MmCore;
  /** Memremap, for the pmem driver's pagemaps. */
  readonly memremap: Memremap;
  /** The machine's options. */
  readonly options: MachineOptions & NvdimmOptions;
  /** The powerpc MMU the profile chose (decides the huge page sizes). */
  readonly radix: boolean;
  /** Opens the store behind each `memory-backend-file`. */
  readonly backingStore: BackingStoreFactory;
}

/** The THP sizes of a platform (see the file's comment). */
export function nvdimmArch(options: MachineOptions, radix: boolean): NvdimmArch {
  if (options.platform === 'x86_64' || radix) return { hpagePmdSize: 2 * 2 ** 20, hpagePudSize: 2 ** 30 };
  return { hpagePmdSize: 16 * 2 ** 20, hpagePudSize: undefined };
}

/**
 * libnvdimm's initcalls: the nd bus and its drivers, then the provider of
 * the platform — `register_e820_pmem()` on x86_64 (legacy ranges in the
 * iomem tree, each on the node `physaddrToNid` gives), `of_pmem` for each
 * `pmem-region` node on powerpc. A provider whose probe fails (it says why
 * in dmesg) leaves its memory without a driver, and the boot goes on, as a
 * failed driver probe does.
 */
export function setupNvdimm(boot: NvdimmBoot, physaddrToNid: (addr: number) => number): Libnvdimm {
  const nvdimm = new Libnvdimm({ kernel: boot.kernel, mm: boot.mm, memremap: boot.memremap, arch: nvdimmArch(boot.options, boot.radix) });
  // CONFIG_DEV_DAX_KMEM=y: kmem registers on the dax bus, hot-adding through the machine's memory hotplug.
  const hotplug = boot.memremap.hotplug;
  if (hotplug instanceof MemoryHotplug) new DaxKmem({ kernel: boot.kernel, dax: nvdimm.dax, hotplug });
  const probe = (fn: () => unknown): void => {
    try {
      fn();
    } catch (e) {
      if (!isKernelError(e)) throw e;
    }
  };
  if (boot.options.platform === 'x86_64') {
    probe(() => nvdimm.registerE820Pmem(physaddrToNid));
    if ((boot.options.nvdimms ?? []).length > 0) {
      const desc = qemuNfit(boot);
      probe(() => nvdimm.registerNfit(desc));
    }
  } else {
    for (const r of boot.options.pmemRegions ?? []) {
      probe(() => nvdimm.ofPmemRegionProbe({ name: 'pmem', reg: [{ start: r.start, size: r.size }], volatile: r.volatile === true }));
    }
  }
  return nvdimm;
}

/**
 * QEMU's cold-plugged NVDIMMs: each backend file opened (`file_ram_alloc()`),
 * each DIMM placed at the first free address of device memory in slot
 * order, its PMEM range registered as the backing of that physical range,
 * its label area (the backend's tail) as the DIMM's config data; then the
 * NFIT QEMU builds for them (`nvdimm_build_nfit()`).
 */
function qemuNfit(boot: NvdimmBoot): { spaRanges: { start: number; size: number }[]; dimms: NfitDimm[] } {
  const o = boot.options;
  const problem = checkNvdimmOptions(o);
  if (problem !== undefined) throw new BackendError(problem);
  const layout = pcMemoryLayout({ ramSize: o.ramSize, slots: o.slots, maxmem: o.maxmem });
  let addr = layout.deviceMemory!.base;
  const files = new Map<string, BackingStore>();
  const spaRanges: { start: number; size: number }[] = [];
  const dimms: NfitDimm[] = [];
  for (const [slot, d] of (o.nvdimms ?? []).entries()) {
    const b = (o.memoryBackends ?? []).find((x) => x.id === d.memdev)!;
    let file = files.get(b.id);
    if (file === undefined) {
      try {
        file = boot.backingStore(b.memPath, b.size);
      } catch (e) {
        for (const f of files.values()) f.close();
        throw e instanceof BackendError ? new BackendError(`-object ${b.text}: ${e.message}`) : e;
      }
      files.set(b.id, file);
    }
    const pmemSize = nvdimmPmemSize(b.size, d.labelSize);
    boot.mm.physmem.registerBacking(addr, pmemSize, backingWindow(file, 0, pmemSize), d.id ?? `nvdimm${slot}`);
    spaRanges.push({ start: addr, size: pmemSize });
    dimms.push({
      handle: slot + 1,
      physId: slot,
      spaRange: slot,
      ...(d.labelSize > 0 ? { labelArea: labelMedia(backingWindow(file, b.size - d.labelSize, d.labelSize)) } : {}),
      ...(d.unarmed ? { memFlags: 8 } : {}),
    });
    addr = Math.ceil((addr + b.size) / 4096) * 4096;
  }
  return { spaRanges, dimms };
}

/** A backing window as the label area's byte store. */
function labelMedia(b: PhysBacking): NdMedia {
  return { size: b.size, read: (offset, dst) => b.read(offset, dst), write: (offset, src) => b.write(offset, src) };
}

/**
 * The pmem disks as device nodes of `/dev` (`/dev/pmem0` is there while the
 * pmem driver has the disk), and the device-dax character devices
 * (`/dev/dax0.0` while device_dax drives it). A dax device has no read or
 * write (`dax_fops`): both fail with EINVAL; it is used through mmap.
 */
export function pmemBlockDevices(nvdimm: Libnvdimm): DeviceFiles {
  return () => {
    const nodes = new Map<string, DeviceFile>();
    for (const dev of nvdimm.dax.devices()) {
      if (dev.driver !== nvdimm.dax.deviceDax) continue;
      const refuse = (): never => {
        throw new KernelError('EINVAL', `/dev/${dev.name ?? ''}: Invalid argument`);
      };
      nodes.set(dev.name ?? '', { kind: 'char', size: () => undefined, read: refuse, write: refuse });
    }
    for (const disk of nvdimm.disks()) {
      nodes.set(disk.name, {
        kind: 'block',
        size: () => disk.capacity,
        read: (offset, length) => disk.read(offset, length),
        write: (offset, data) => disk.write(offset, data),
      });
    }
    // /dev/nmemN of a DIMM with a label area: a read or write at an offset is
    // ND_CMD_GET_CONFIG_DATA / SET_CONFIG_DATA there (the ioctls ndctl sends)
    for (const dimm of nvdimm.dimms()) {
      if (!dimm.labeling) continue;
      const size = dimm.getConfigSize().configSize;
      nodes.set(dimm.name ?? `nmem${dimm.dimmId}`, {
        kind: 'char',
        size: () => undefined,
        read: (offset, length) => (offset >= size ? new Uint8Array(0) : dimm.getConfigData(offset, Math.min(length, size - offset, dimm.getConfigSize().maxXfer))),
        write: (offset, data) => {
          dimm.setConfigData(offset, data);
          return data.length;
        },
      });
    }
    return nodes;
  };
}
