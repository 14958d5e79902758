/**
 * The HMM pfn: one `unsigned long` per page that `hmm_range_fault()` fills
 * with what the CPU page table holds for that page (include/linux/hmm.h,
 * Linux v5.13).
 *
 * A device driver that mirrors a process's address space asks the core mm
 * "what is mapped at these addresses, and may I write it?". The answer comes
 * back in an array the caller owns, one entry per page of the range. In
 * v5.13 the entry is a pfn with its flags packed into the top byte (the
 * per-driver `flags[]`/`values[]` tables of earlier kernels were removed in
 * v5.7):
 *
 * ```
 *   63 62 61 60..56        55 ...................................... 0
 *  +--+--+--+--------+---------------------------------------------+
 *  |V |W |E | order  |                      pfn                    |
 *  +--+--+--+--------+---------------------------------------------+
 *   V = HMM_PFN_VALID   the pfn is valid (the CPU may at least read)
 *   W = HMM_PFN_WRITE   the CPU may write
 *   E = HMM_PFN_ERROR   access to this address is an error (no vma,
 *                       PROT_NONE, a special mapping)
 *   order               HMM_PFN_ORDER_SHIFT = 56: log2 of the CPU mapping's
 *                       size in pages (9 for a PMD, 18 for a PUD)
 * ```
 *
 * On input the same word carries requests: `HMM_PFN_REQ_FAULT` (= VALID)
 * asks that the page be faulted in if it is not present, and
 * `HMM_PFN_REQ_WRITE` (= WRITE) that it be made writable. An output of 0
 * means "not present, but could be faulted in".
 *
 * The entries are 64-bit, so the model keeps them as `bigint` (an array is a
 * `BigUint64Array`); the pfn itself fits a `number` once the flags are
 * stripped.
 */
import { KernelError, checkUnsigned } from '@zonedev/kernel';

const TWO56 = 2n ** 56n;

/** `HMM_PFN_VALID` (bit 63). @public */
export const HMM_PFN_VALID: bigint = 2n ** 63n;
/** `HMM_PFN_WRITE` (bit 62). @public */
export const HMM_PFN_WRITE: bigint = 2n ** 62n;
/** `HMM_PFN_ERROR` (bit 61). @public */
export const HMM_PFN_ERROR: bigint = 2n ** 61n;
/** `HMM_PFN_ORDER_SHIFT`: the mapping order lives in bits 56..60. @public */
export const HMM_PFN_ORDER_SHIFT = 56;
/** `HMM_PFN_REQ_FAULT` (= `HMM_PFN_VALID`): input flag, fault the page in. @public */
export const HMM_PFN_REQ_FAULT: bigint = HMM_PFN_VALID;
/** `HMM_PFN_REQ_WRITE` (= `HMM_PFN_WRITE`): input flag, fault it in writable. @public */
export const HMM_PFN_REQ_WRITE: bigint = HMM_PFN_WRITE;
/** `HMM_PFN_FLAGS`: the top byte, `0xFF << 56`. @public */
export const HMM_PFN_FLAGS: bigint = 0xffn * TWO56;
/** `HMM_RANGE_DEFAULT_TIMEOUT`: how long a driver retries `hmm_range_fault()`, in ms. @public */
export const HMM_RANGE_DEFAULT_TIMEOUT = 1000;

/** Whether the single-bit flag `flag` is set in the 64-bit word `x`. */
export function hmmTest(x: bigint, flag: bigint): boolean {
  return (x / flag) % 2n === 1n;
}

function checkU64(fn: string, x: unknown): asserts x is bigint {
  if (typeof x !== 'bigint' || x < 0n || x >= 2n ** 64n) {
    throw new KernelError('EINVAL', `${fn}: ${String(x)} is not an unsigned 64-bit hmm pfn`);
  }
}

/**
 * The pfn of an entry: the entry with `HMM_PFN_FLAGS` cleared. The kernel's
 * `hmm_pfn_to_page()` is `pfn_to_page()` of this; pages are named by pfn in
 * the model, so this is that page. Only meaningful when `HMM_PFN_VALID` is
 * set. Mirrors `hmm_pfn_to_page()` in include/linux/hmm.h.
 * @public
 */
export function hmmPfnToPage(hmmPfn: bigint): number {
  checkU64('hmm_pfn_to_page', hmmPfn);
  return Number(hmmPfn % TWO56);
}

/**
 * The order of the CPU mapping an entry came from: `(p >> 56) & 0x1F`
 * (0 for a PTE, 9 for a 2 MiB PMD, 18 for a 1 GiB PUD). Mirrors
 * `hmm_pfn_to_map_order()` in include/linux/hmm.h.
 * @public
 */
export function hmmPfnToMapOrder(hmmPfn: bigint): number {
  checkU64('hmm_pfn_to_map_order', hmmPfn);
  return Number((hmmPfn / TWO56) % 32n);
}

/**
 * Builds an output entry: `pfn | flags | order << 56`, as `hmm_vma_walk_*`
 * compose them in mm/hmm.c (`pte_to_hmm_pfn_flags()`,
 * `hmm_pfn_flags_order()`). `flags` is a combination of VALID, WRITE, ERROR.
 * @public
 */
export function hmmPfn(pfn: number, flags: bigint, order: number = 0): bigint {
  checkUnsigned('hmm_pfn', 'pfn', pfn, 2 ** 56 - 1);
  checkUnsigned('hmm_pfn', 'order', order, 31);
  checkU64('hmm_pfn', flags);
  return BigInt(pfn) + flags + BigInt(order) * TWO56;
}

/** The requests of an input entry, `HMM_NEED_FAULT` / `HMM_NEED_WRITE_FAULT` of mm/hmm.c. @public */
export interface HmmNeedFault {
  /** A fault is needed. */
  readonly fault: boolean;
  /** The fault must be a write fault. */
  readonly write: boolean;
}

/**
 * `hmm_pte_need_fault(hmm_vma_walk, pfn_req_flags, cpu_flags)` (mm/hmm.c):
 * whether a page whose CPU state is `cpuFlags` (VALID, WRITE) must be
 * faulted to satisfy the request `(input & pfn_flags_mask) | default_flags`.
 * No `REQ_FAULT`: no fault. `REQ_WRITE` on a page the CPU cannot write: a
 * write fault. A page the CPU has not got: a read fault.
 * @public
 */
export function hmmPteNeedFault(
  input: bigint,
  defaultFlags: bigint,
  pfnFlagsMask: bigint,
  cpuFlags: bigint,
): HmmNeedFault {
  const fn = 'hmm_pte_need_fault';
  checkU64(fn, input);
  checkU64(fn, defaultFlags);
  checkU64(fn, pfnFlagsMask);
  checkU64(fn, cpuFlags);
  return pteNeedFault(input, defaultFlags, pfnFlagsMask, cpuFlags);
}

/** {@link hmmPteNeedFault} for arguments already known to be `u64`s (the walk's own calls). */
export function pteNeedFault(input: bigint, defaultFlags: bigint, pfnFlagsMask: bigint, cpuFlags: bigint): HmmNeedFault {
  const req = hmmReqFlags(input, defaultFlags, pfnFlagsMask);
  if (!hmmTest(req, HMM_PFN_REQ_FAULT)) return NO_FAULT;
  if (hmmTest(req, HMM_PFN_REQ_WRITE) && !hmmTest(cpuFlags, HMM_PFN_WRITE)) return WRITE_FAULT;
  if (!hmmTest(cpuFlags, HMM_PFN_VALID)) return READ_FAULT;
  return NO_FAULT;
}

const NO_FAULT: HmmNeedFault = Object.freeze({ fault: false, write: false });
const READ_FAULT: HmmNeedFault = Object.freeze({ fault: true, write: false });
const WRITE_FAULT: HmmNeedFault = Object.freeze({ fault: true, write: true });

/**
 * `(input & pfn_flags_mask) | default_flags`, restricted to the two request
 * bits, as the kernel's walk only ever looks at those.
 */
function hmmReqFlags(input: bigint, defaultFlags: bigint, pfnFlagsMask: bigint): bigint {
  let req = 0n;
  for (const f of [HMM_PFN_REQ_FAULT, HMM_PFN_REQ_WRITE]) {
    if ((hmmTest(input, f) && hmmTest(pfnFlagsMask, f)) || hmmTest(defaultFlags, f)) req += f;
  }
  return req;
}
