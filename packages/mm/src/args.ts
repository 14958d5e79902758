/**
 * Argument checks at the package's entry points.
 *
 * A C caller cannot pass a number where the kernel wants a `struct
 * vm_area_struct *`, or a string as a pfn; a JavaScript caller can, and the
 * answer must be the kernel's EINVAL before anything changes, not a
 * TypeError from deep inside. The checks are cheap (a type test, an
 * `instanceof`), so the entry points that the fault and migration paths call
 * per page keep them.
 *
 * The module imports none of the package's classes (they import it): each
 * constructor enters its object in one of the sets below, and a check is a
 * membership test, which a copy of an object's fields does not pass.
 */
import { KernelError, checkUnsigned } from '@zonedev/kernel';
import { MemmapStore, MmCore } from '@zonedev/mmzone';
import type { MmSystem } from './memory.js';
import type { MmStruct } from './mm.js';
import type { MmapFile, Vma } from './vma.js';

const VMAS = new WeakSet<object>();
const MMS = new WeakSet<object>();
const SYSTEMS = new WeakSet<object>();

/** Enters a new object of one of the package's kinds (called by its constructor). */
export function made(kind: 'vma' | 'mm' | 'system', o: object): void {
  (kind === 'vma' ? VMAS : kind === 'mm' ? MMS : SYSTEMS).add(o);
}

/** EINVAL unless `vma` is a `struct vm_area_struct`. */
export function checkVma(fn: string, vma: unknown): asserts vma is Vma {
  if (typeof vma !== 'object' || vma === null || !VMAS.has(vma)) throw new KernelError('EINVAL', `${fn}: not a vma: ${String(vma)}`);
}

/** EINVAL unless `mm` is a `struct mm_struct`. */
export function checkMm(fn: string, mm: unknown): asserts mm is MmStruct {
  if (typeof mm !== 'object' || mm === null || !MMS.has(mm)) throw new KernelError('EINVAL', `${fn}: not an mm: ${String(mm)}`);
}

/** EINVAL unless `sys` is the machine's {@link MmSystem}. */
export function checkSys(fn: string, sys: unknown): asserts sys is MmSystem {
  if (typeof sys !== 'object' || sys === null || !SYSTEMS.has(sys)) throw new KernelError('EINVAL', `${fn}: not an mm system: ${String(sys)}`);
}

/** EINVAL unless `core` is mmzone's page allocator and memmap. */
export function checkCore(fn: string, core: unknown): asserts core is MmCore {
  if (!(core instanceof MmCore)) throw new KernelError('EINVAL', `${fn}: not an mm core: ${String(core)}`);
}

/** EINVAL unless `store` is a memmap. */
export function checkStore(fn: string, store: unknown): asserts store is MemmapStore {
  if (!(store instanceof MemmapStore)) throw new KernelError('EINVAL', `${fn}: not a memmap: ${String(store)}`);
}

/** EINVAL unless `v` is a page frame number (a whole number below 2^53). */
export function checkPfn(fn: string, v: unknown): asserts v is number {
  checkUnsigned(fn, 'pfn', v);
}

/** EINVAL unless `v` is true or false. */
export function checkBool(fn: string, what: string, v: unknown): asserts v is boolean {
  if (typeof v !== 'boolean') throw new KernelError('EINVAL', `${fn}: ${what} is not true or false: ${String(v)}`);
}

/** EINVAL unless `f` is a function. */
export function checkFn(fn: string, what: string, f: unknown): void {
  if (typeof f !== 'function') throw new KernelError('EINVAL', `${fn}: ${what} is not a function`);
}

/** EINVAL unless `page` is a `PAGE_SIZE` the model has: a power of two from 4 KiB to 1 GiB. */
export function checkPageSize(fn: string, pageSize: unknown): asserts pageSize is number {
  checkUnsigned(fn, 'page size', pageSize, 2 ** 30);
  const p = pageSize as number;
  // Math.log2 is exact for powers of two
  if (p < 4096 || !Number.isInteger(Math.log2(p))) throw new KernelError('EINVAL', `${fn}: page size ${p} is not a power of two from 4096`);
}

/** EINVAL unless `file` is a `struct file` as mm sees it: a path, device numbers, an inode and the open mode. */
export function checkFile(fn: string, file: unknown): asserts file is MmapFile {
  const f = file as MmapFile | null;
  if (typeof f !== 'object' || f === null || typeof f.path !== 'string') throw new KernelError('EINVAL', `${fn}: not a file: ${String(file)}`);
  checkUnsigned(fn, 'major', f.devMajor, 0xfff);
  checkUnsigned(fn, 'minor', f.devMinor, 0xfffff);
  checkUnsigned(fn, 'inode', f.ino);
  checkBool(fn, 'readable', f.readable);
  checkBool(fn, 'writable', f.writable);
  for (const [what, v] of [['fsdax', f.fsdax], ['dax', f.dax]] as const) if (v !== undefined) checkBool(fn, what, v);
}

/** EINVAL unless `pfns` is a list of page frame numbers. */
export function checkPfnList(fn: string, pfns: unknown): asserts pfns is readonly number[] {
  if (!Array.isArray(pfns)) throw new KernelError('EINVAL', `${fn}: not a list of pages: ${String(pfns)}`);
  for (const p of pfns) checkPfn(fn, p);
}

/** EINVAL unless `pfn` is a `pfn_t`: a page frame number and its `PFN_*` flag bits. */
export function checkPfnT(fn: string, pfn: unknown): void {
  const p = pfn as { pfn?: unknown; flags?: unknown } | null;
  if (typeof p !== 'object' || p === null) throw new KernelError('EINVAL', `${fn}: not a pfn_t: ${String(pfn)}`);
  checkPfn(fn, p.pfn);
  if (typeof p.flags !== 'bigint' || p.flags < 0n || p.flags >= 2n ** 64n) throw new KernelError('EINVAL', `${fn}: pfn_t flags ${String(p.flags)}`);
}

/** EINVAL unless `vmf` is a `struct vm_fault`: its VMA, address, flags, offset, GFP mask and pages. */
export function checkVmf(fn: string, vmf: unknown): void {
  const f = vmf as Record<string, unknown> | null;
  if (typeof f !== 'object' || f === null) throw new KernelError('EINVAL', `${fn}: not a vm_fault: ${String(vmf)}`);
  checkVma(fn, f['vma']);
  for (const k of ['address', 'flags', 'pgoff', 'gfpMask']) checkUnsigned(fn, k, f[k]);
  for (const k of ['page', 'cowPage']) if (f[k] !== undefined) checkPfn(fn, f[k]);
}
