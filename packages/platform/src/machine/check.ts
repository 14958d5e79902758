/**
 * The shape of a machine's boot options, checked before anything is built.
 *
 * QEMU and the kernel check the values they understand (QEMU: `maxmem`
 * against `-m`, slots, NVDIMM placement; the kernel: what `mem=` and
 * `memmap=` leave), each with its own text, and those checks stay where
 * they run. What comes first is the question a C program never has to
 * ask: is `ramSize` a whole number of bytes at all, is the platform one of
 * the two, is the MMU one of the platform's. A consumer calling from
 * TypeScript can still hand in `NaN` or `'4G'`; the answer is EINVAL
 * before any object is made, never a NaN in a resource.
 */
import { KernelError } from '@zonedev/kernel';
import { MMU_MODES, type Platform } from '../profile.js';
import type { MachineOptions } from './options.js';
import { QemuError } from '../qemu-error.js';

/** `MAX_NUMNODES` of the model's configurations the command line accepts (1 to 64 nodes). */
const MAX_NUMA_NODES = 64;

function einval(message: string): never {
  throw new KernelError('EINVAL', message);
}

function wholeBytes(name: string, v: unknown, min: number): void {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    einval(`${name}: ${String(v)} is not a whole number of bytes${min > 0 ? ' above 0' : ''}`);
  }
}

/**
 * Throws KernelError EINVAL, naming the option, when `o` is not the shape
 * {@link MachineOptions} describes; changes nothing.
 */
export function checkBootOptions(o: MachineOptions): void {
  if (typeof o !== 'object' || o === null) einval('boot options: not an object');
  const platform: unknown = o.platform;
  if (platform !== 'x86_64' && platform !== 'powerpc') einval(`platform: '${String(platform)}' is not x86_64 or powerpc`);
  wholeBytes('ramSize', o.ramSize, 1);
  wholeBytes('maxmem', o.maxmem, 1);
  if (!Number.isSafeInteger(o.slots) || o.slots < 0) einval(`slots: ${String(o.slots)} is not a number of slots`);
  if (!Number.isSafeInteger(o.numa) || o.numa < 1 || o.numa > MAX_NUMA_NODES) einval(`numa: ${String(o.numa)} is not 1 to ${MAX_NUMA_NODES} nodes`);
  if (typeof o.cmdline !== 'string') einval('cmdline: not a string');
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) einval(`seed: ${String(o.seed)} is not a whole number`);
  if (o.mmu !== undefined && !MMU_MODES[platform as Platform].includes(o.mmu)) {
    einval(`mmu: '${String(o.mmu)}' is not one of ${platform}'s (${MMU_MODES[platform as Platform].join(', ')})`);
  }
  const store: unknown = (o as { backingStore?: unknown }).backingStore;
  if (store !== undefined && typeof store !== 'function') einval('backingStore: not a function');
  const nv = o as { nvdimm?: unknown; nvdimms?: unknown; memoryBackends?: unknown };
  if (o.pmemRegions !== undefined && !Array.isArray(o.pmemRegions)) einval('pmemRegions: not a list');
  if (nv.nvdimm !== undefined && typeof nv.nvdimm !== 'boolean') einval(`nvdimm: ${String(nv.nvdimm)} is not on or off`);
  if (nv.nvdimms !== undefined && !Array.isArray(nv.nvdimms)) einval('nvdimms: not a list');
  if (nv.memoryBackends !== undefined && !Array.isArray(nv.memoryBackends)) einval('memoryBackends: not a list');
  if (o.pmemRegions !== undefined && o.pmemRegions.length > 0) {
    if (platform !== 'powerpc') einval('pmemRegions: pmem-region is a device-tree node: powerpc only (x86_64 takes memmap=nn!ss)');
    for (const r of o.pmemRegions) {
      wholeBytes('pmemRegions: start', r.start, 0);
      wholeBytes('pmemRegions: size', r.size, 1);
    }
  }
}

/**
 * QEMU's own checks of `-m size,slots=N,maxmem=SIZE`, made for every machine
 * type before the board is built: `maxmem` below the RAM size, slots with
 * `maxmem` equal to it. Throws a {@link QemuError} with QEMU's text;
 * changes nothing. QEMU 6.0 accepts `maxmem` above the RAM size without
 * slots (the hot-plug area exists, and `device_add` then says no slots were
 * allocated); the refusal of that case belongs to QEMU 2.x.
 *
 * Mirrors the maxmem checks of `set_memory_options()` in QEMU 6.0's softmmu/vl.c.
 */
export function setMemoryOptions(o: MachineOptions): void {
  const hex = (v: number): string => `0x${v.toString(16)}`;
  if (o.maxmem < o.ramSize) {
    throw new QemuError(`invalid value of -m option maxmem: maximum memory size (${hex(o.maxmem)}) must be at least the initial memory size (${hex(o.ramSize)})`);
  }
  if (o.maxmem === o.ramSize && o.slots > 0) {
    throw new QemuError(
      `invalid value of -m option maxmem: memory slots were specified but maximum memory size (${hex(o.maxmem)}) is equal to the initial memory size (${hex(o.ramSize)})`,
    );
  }
}
