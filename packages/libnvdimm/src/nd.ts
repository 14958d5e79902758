/**
 * Shared vocabulary of libnvdimm: device-type numbers, claim classes, pfn
 * modes, info-block signatures and the small sysfs helpers every nd device
 * uses (`nd_size_select_show/store`, `nd_uuid_store`).
 *
 * The nd bus carries several kinds of device, and a driver declares which
 * kinds it handles with a bitmask of `ND_DEVICE_*` numbers
 * (include/uapi/linux/ndctl.h). The number a device reports (its `modalias`
 * is `nd:t<N>`) depends on what it is and, for the personalities that claim
 * a namespace (pfn, btt), on the namespace type of the region they live in:
 *
 * ```
 *   ndbusN                         (matched by nd_bus only)
 *     regionN          t2 (pmem) / t3 (blk)        -> nd_region
 *       namespaceR.N   t4 (io) / t5 (pmem label)   -> nd_pmem
 *       pfnR.N, bttR.N the region's namespace type -> nd_pmem
 *       daxR.N         t7                          -> dax_pmem
 * ```
 *
 * Mirrors drivers/nvdimm/nd.h, nd-core.h, include/uapi/linux/ndctl.h and the
 * helpers of drivers/nvdimm/core.c, namespace_devs.c (Linux v5.13).
 */
import { KernelError, checkUnsigned, kstrtoull } from '@zonedev/kernel';

/** `ND_DEVICE_DIMM`: an NVDIMM (nmemN). @public */
export const ND_DEVICE_DIMM: number = 1;
/** `ND_DEVICE_REGION_PMEM`: a pmem (or volatile) region. @public */
export const ND_DEVICE_REGION_PMEM: number = 2;
/** `ND_DEVICE_REGION_BLK`: a blk-aperture region. @public */
export const ND_DEVICE_REGION_BLK: number = 3;
/** `ND_DEVICE_NAMESPACE_IO`: a label-less namespace covering a whole region (e820, of_pmem). @public */
export const ND_DEVICE_NAMESPACE_IO: number = 4;
/** `ND_DEVICE_NAMESPACE_PMEM`: a label-described pmem namespace. @public */
export const ND_DEVICE_NAMESPACE_PMEM: number = 5;
/** `ND_DEVICE_NAMESPACE_BLK`: a label-described blk namespace. @public */
export const ND_DEVICE_NAMESPACE_BLK: number = 6;
/** `ND_DEVICE_DAX_PMEM`: an nd dax device (daxR.N on the nd bus). @public */
export const ND_DEVICE_DAX_PMEM: number = 7;

/**
 * `enum nvdimm_claim_class` (drivers/nvdimm/nd.h): which personality may
 * claim a namespace, as set through its `holder_class` attribute.
 * @public
 */
export enum NvdimmClaimClass {
  /** Any personality (`holder_class` reads ""). */
  NVDIMM_CCLASS_NONE = 0,
  /** BTT v1.1 (label-less and v1.1-label namespaces). */
  NVDIMM_CCLASS_BTT = 1,
  /** BTT v2.0 (v1.2 labels). */
  NVDIMM_CCLASS_BTT2 = 2,
  /** fsdax (pfn). */
  NVDIMM_CCLASS_PFN = 3,
  /** device-dax. */
  NVDIMM_CCLASS_DAX = 4,
  /** A label's abstraction guid the kernel does not know. */
  NVDIMM_CCLASS_UNKNOWN = 5,
}

/**
 * `enum nd_pfn_mode` (drivers/nvdimm/nd.h): where the memmap of a pfn
 * device lives. `PFN_MODE_RAM` is ndctl's `--map=mem`, `PFN_MODE_PMEM`
 * its `--map=dev` (the struct pages inside the namespace, through a
 * `vmem_altmap`).
 * @public
 */
export enum PfnMode {
  /** Not configured (a seed). */
  PFN_MODE_NONE = 0,
  /** The memmap in RAM (`--map=mem`). */
  PFN_MODE_RAM = 1,
  /** The memmap in the namespace (`--map=dev`). */
  PFN_MODE_PMEM = 2,
}

/** `PFN_SIG`: the fsdax info-block signature (16 bytes with the NUL). @public */
export const PFN_SIG: string = 'NVDIMM_PFN_INFO\0';
/** `DAX_SIG`: the device-dax info-block signature. @public */
export const DAX_SIG: string = 'NVDIMM_DAX_INFO\0';
/** `PFN_SIG_LEN`. @public */
export const PFN_SIG_LEN: number = 16;

/** `MAX_STRUCT_PAGE_SIZE` (drivers/nvdimm/nd.h): the memmap reserve per pfn in map=dev mode. @public */
export const MAX_STRUCT_PAGE_SIZE: number = 64;
/** `ND_MIN_NAMESPACE_SIZE` is `PAGE_SIZE`; claims need at least 16 MiB (`nd_namespace_store`). @public */
export const ND_MIN_CLAIM_SIZE: number = 16 * 2 ** 20;
/** `MEMREMAP_COMPAT_ALIGN_MAX` (include/linux/memremap.h): the default region alignment, 16 MiB. @public */
export const MEMREMAP_COMPAT_ALIGN_MAX: number = 16 * 2 ** 20;

/** `ND_REGION_PAGEMAP` (include/linux/libnvdimm.h): the region's namespaces may get struct pages. @public */
export const ND_REGION_PAGEMAP: number = 0;
/** `ND_REGION_PERSIST_CACHE`: CPU caches are in the persistence domain. @public */
export const ND_REGION_PERSIST_CACHE: number = 1;
/** `ND_REGION_PERSIST_MEMCTRL`: the memory controller is in the persistence domain. @public */
export const ND_REGION_PERSIST_MEMCTRL: number = 2;

/** The sector sizes a BTT supports (`btt_lbasize_supported`, drivers/nvdimm/btt_devs.c). @public */
export const BTT_LBASIZE_SUPPORTED: readonly number[] = [512, 520, 528, 4096, 4104, 4160, 4224];

/**
 * `nd_size_select_show()` (drivers/nvdimm/core.c): every supported value
 * followed by a space, the current one in brackets, then a newline — the
 * space before the newline is the kernel's.
 * @public
 */
export function ndSizeSelectShow(current: number, supported: readonly number[]): string {
  checkUnsigned('nd_size_select_show', 'current', current, 0xffffffff);
  if (!Array.isArray(supported)) throw new KernelError('EINVAL', 'nd_size_select_show: no supported sizes');
  return `${supported.map((s) => (s === current ? `[${s}] ` : `${s} `)).join('')}\n`;
}

/**
 * `nd_size_select_store()` (drivers/nvdimm/core.c): parses `buf` with
 * `kstrtoul(buf, 0)` and returns it if it is one of `supported`. Throws
 * KernelError EBUSY if `bound` (the device has a driver), EINVAL / ERANGE
 * for a bad number, EINVAL for an unsupported value.
 * @public
 */
export function ndSizeSelectStore(bound: boolean, buf: string, supported: readonly number[]): number {
  if (typeof bound !== 'boolean') throw new KernelError('EINVAL', `nd_size_select_store: invalid bound ${String(bound)}`);
  if (bound) throw new KernelError('EBUSY', 'nd_size_select_store: device is active');
  if (typeof buf !== 'string' || !Array.isArray(supported)) throw new KernelError('EINVAL', 'nd_size_select_store: invalid arguments');
  const v = kstrtoull(buf);
  if (!supported.includes(v)) throw new KernelError('EINVAL', `nd_size_select_store: ${v} is not supported`);
  return v;
}

function isUuidSep(c: string | undefined): boolean {
  return c === undefined || c === ' ' || c === '-' || c === ':' || c === '\0' || c === '\n';
}

/**
 * `nd_uuid_parse()` (drivers/nvdimm/namespace_devs.c): 16 pairs of hex
 * digits, each pair optionally followed by one separator (space, `-`, `:`,
 * newline); anything after the 16th byte is ignored. Throws KernelError
 * EINVAL otherwise.
 * @public
 */
export function ndUuidParse(buf: string): Uint8Array {
  if (typeof buf !== 'string') throw new KernelError('EINVAL', 'nd_uuid_parse: not a string');
  const out = new Uint8Array(16);
  let p = 0;
  const hex = /^[0-9a-fA-F]$/;
  for (let i = 0; i < 16; i++) {
    const a = buf[p];
    const b = buf[p + 1];
    if (a === undefined || b === undefined || !hex.test(a) || !hex.test(b)) {
      throw new KernelError('EINVAL', `nd_uuid_parse: pos: ${i} buf[${p}]`);
    }
    out[i] = parseInt(a + b, 16);
    p += 2;
    if (p < buf.length && isUuidSep(buf[p])) p++;
  }
  return out;
}

/**
 * `%pUb`: a uuid's 16 bytes in order as lower-case 8-4-4-4-12 hex
 * (KernelError EINVAL unless given 16 bytes).
 * @public
 */
export function formatUuid(u: Uint8Array): string {
  if (!(u instanceof Uint8Array) || u.length !== 16) throw new KernelError('EINVAL', '%pUb: a uuid is 16 bytes');
  const h = [...u].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** `strim()`: the string without leading and trailing whitespace. */
export function strim(s: string): string {
  return s.replace(/^[\s]+|[\s]+$/g, '');
}

/**
 * The v5.13 pfn `mode` store's comparison: `strncmp(buf, word, len - 1)` —
 * only the first `len - 1` bytes of what was written are compared, so a
 * lone newline matches the first candidate, as on a real kernel.
 */
export function pfnModeMatches(buf: string, word: string): boolean {
  const n = buf.length - 1;
  const cmp = (a: string, b: string): boolean => {
    if (n < 0) return a === b;
    for (let i = 0; i < n; i++) {
      const x = a[i] ?? '\0';
      const y = b[i] ?? '\0';
      if (x !== y) return false;
      if (x === '\0') return true;
    }
    return true;
  };
  return cmp(buf, `${word}\n`) || cmp(buf, word);
}
