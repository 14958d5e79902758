/**
 * `hmm_range_fault()`: a device driver's snapshot of a process's page
 * tables (mm/hmm.c, include/linux/hmm.h, Linux v5.13).
 *
 * A driver that mirrors an address space keeps its own page table in sync
 * with the CPU's. It subscribes an interval notifier over the range it
 * mirrors, and each time it needs pages it runs the loop of
 * Documentation/vm/hmm.rst:
 *
 * ```
 *  again:
 *    range.notifier_seq = mmu_interval_read_begin(&sub)
 *    hmm_range_fault(&range)           -EBUSY: the range changed, goto again
 *    take the driver lock
 *    mmu_interval_read_retry(&sub, seq) true: drop the lock, goto again
 *    program the device from range.hmm_pfns, drop the lock
 * ```
 *
 * `hmm_range_fault()` walks the VMAs and page tables of `[start, end)` and
 * fills one {@link HMM_PFN_VALID}-style entry per page. Where the request
 * (`(entry & pfn_flags_mask) | default_flags`) asks for a page the CPU does
 * not have, or for write access the CPU does not have, it faults the page in
 * with `handle_mm_fault(FAULT_FLAG_REMOTE)` and walks again from there (a
 * fault returns -EBUSY internally). It gives up with -EBUSY only when the
 * notifier sequence has changed since `read_begin` (checked before every
 * walk), with -EFAULT when a page cannot be provided (no VMA, a special or
 * `PROT_NONE` VMA, a failed fault, a foreign device-private page), and with
 * -EPERM for a write request to a VMA without `VM_WRITE`. Device-private
 * pages of the caller (`dev_private_owner`) are reported, never faulted;
 * the zero page is an ordinary read-only page.
 */
import { KernelError, anyBits, checkUnsigned, hasBits } from '@zonedev/kernel';
import type { Pte, Vma } from '@zonedev/mm';
import {
  FAULT_FLAG_REMOTE,
  FAULT_FLAG_WRITE,
  MmStruct,
  MmuIntervalNotifier,
  VM_FAULT_ERROR,
  VM_IO,
  VM_MIXEDMAP,
  VM_PFNMAP,
  VM_READ,
  VM_WRITE,
  devicePrivateEntryToPfn,
  handleMmFault,
  isDevicePrivateEntry,
  isMigrationEntry,
  isWriteDevicePrivateEntry,
  migrationEntryToPfn,
  mmuIntervalCheckRetry,
  nonSwapEntry,
  pmdHuge,
  pteSpecial,
  pudDevmap,
  pteWrite,
} from '@zonedev/mm';
import { HMM_PFN_ERROR, HMM_PFN_VALID, HMM_PFN_WRITE, hmmPfn, pteNeedFault } from './hmm-pfn.js';
import type { HmmNeedFault } from './hmm-pfn.js';

/**
 * `struct hmm_range` (include/linux/hmm.h, v5.13).
 * @public
 */
export interface HmmRange {
  /** `notifier`: the interval subscription covering the range. */
  notifier: MmuIntervalNotifier;
  /** `notifier_seq`: from `mmu_interval_read_begin()`. */
  notifierSeq: number;
  /** `start`: first address (page aligned). */
  start: number;
  /** `end`: end address, exclusive (page aligned). */
  end: number;
  /** `hmm_pfns`: one entry per page: requests in, results out. */
  hmmPfns: BigUint64Array;
  /** `default_flags`: requests applied to every page. */
  defaultFlags: bigint;
  /** `pfn_flags_mask`: which bits of each input entry are requests. */
  pfnFlagsMask: bigint;
  /** `dev_private_owner`: device-private pages of this owner are reported as they are. */
  devPrivateOwner: unknown;
}

/** The walk's verdict for a span: done, or restart (the kernel's internal -EBUSY). */
type Step = 'ok' | 'again';

interface Walk {
  readonly range: HmmRange;
  readonly mm: MmStruct;
  /** `PAGE_SIZE` of the architecture the mm's page tables use. */
  readonly ps: number;
  last: number;
  /** Whether any entry can request a fault (`REQ_FAULT` in `default_flags` or `pfn_flags_mask`). */
  readonly canFault: boolean;
  /** `range.hmmPfns` as 32-bit words, made on first use. */
  words: Uint32Array | undefined;
}

const NO_FAULT: HmmNeedFault = { fault: false, write: false };

function idx(w: Walk, addr: number): number {
  return (addr - w.range.start) / w.ps;
}

/** `hmm_range_need_fault()`: the strongest request over `[addr, end)` given `cpuFlags`. */
function rangeNeedFault(w: Walk, addr: number, end: number, cpuFlags: bigint): HmmNeedFault {
  const r = w.range;
  if (!hasReqFault(r.defaultFlags) && !hasReqFault(r.pfnFlagsMask)) return NO_FAULT;
  let need = NO_FAULT;
  for (let a = addr; a < end; a += w.ps) {
    const n = pteNeedFault(r.hmmPfns[idx(w, a)]!, r.defaultFlags, r.pfnFlagsMask, cpuFlags);
    if (n.write) return n;
    if (n.fault) need = n;
  }
  return need;
}

function hasReqFault(x: bigint): boolean {
  return (x / HMM_PFN_VALID) % 2n === 1n;
}

/** `hmm_pfns_fill()`. */
function fill(w: Walk, addr: number, end: number, value: bigint): void {
  for (let a = addr; a < end; a += w.ps) w.range.hmmPfns[idx(w, a)] = value;
}

/**
 * `hmm_vma_fault()`: -EPERM for a write fault in a VMA without VM_WRITE;
 * otherwise `handle_mm_fault(FAULT_FLAG_REMOTE[|WRITE])` per page, -EFAULT
 * on `VM_FAULT_ERROR`, else "again" from `addr`.
 */
function vmaFault(w: Walk, vma: Vma, addr: number, end: number, need: HmmNeedFault): Step {
  w.last = addr;
  let flags = FAULT_FLAG_REMOTE;
  if (need.write) {
    if (!hasBits(vma.vmFlags, VM_WRITE)) throw new KernelError('EPERM', 'hmm_range_fault: write fault in a read-only vma');
    flags += FAULT_FLAG_WRITE;
  }
  for (let a = addr; a < end; a += w.ps) {
    if (anyBits(handleMmFault(vma, a, flags), VM_FAULT_ERROR)) {
      throw new KernelError('EFAULT', `hmm_range_fault: fault at 0x${a.toString(16)} failed`);
    }
  }
  return 'again';
}

/** `hmm_vma_walk_hole()`: no VMA (ERROR, or -EFAULT if wanted), or an empty page-table span. */
function walkHole(w: Walk, vma: Vma | null, addr: number, end: number): Step {
  const need = rangeNeedFault(w, addr, end, 0n);
  if (vma === null) {
    if (need.fault) throw new KernelError('EFAULT', `hmm_range_fault: no vma at 0x${addr.toString(16)}`);
    fill(w, addr, end, HMM_PFN_ERROR);
    return 'ok';
  }
  if (need.fault) return vmaFault(w, vma, addr, end, need);
  fill(w, addr, end, 0n);
  return 'ok';
}

/** `hmm_vma_handle_pte()` for one present or swap PTE. */
function handlePte(w: Walk, vma: Vma, addr: number, pte: Pte): Step {
  const r = w.range;
  const i = idx(w, addr);
  const req = r.hmmPfns[i]!;
  const sys = w.mm.system!;
  if (pte.kind === 'swap') {
    const entry = pte.entry;
    if (isDevicePrivateEntry(entry)) {
      const pfn = devicePrivateEntryToPfn(entry);
      if (sys.pagePgmap(pfn)?.owner === r.devPrivateOwner) {
        r.hmmPfns[i] = hmmPfn(pfn, isWriteDevicePrivateEntry(entry) ? HMM_PFN_VALID + HMM_PFN_WRITE : HMM_PFN_VALID);
        return 'ok';
      }
    }
    const need = pteNeedFault(req, r.defaultFlags, r.pfnFlagsMask, 0n);
    if (!need.fault) {
      r.hmmPfns[i] = 0n;
      return 'ok';
    }
    if (!nonSwapEntry(entry)) return vmaFault(w, vma, addr, addr + w.ps, need);
    if (isMigrationEntry(entry)) {
      // migration_entry_wait(): the migration finishes, the walk restarts here.
      w.last = addr;
      sys.onMigrationEntryWait?.(migrationEntryToPfn(entry));
      return 'again';
    }
    throw new KernelError('EFAULT', `hmm_range_fault: unexpected swap entry at 0x${addr.toString(16)}`);
  }
  const cpu = pteWrite(pte) ? HMM_PFN_VALID + HMM_PFN_WRITE : HMM_PFN_VALID;
  const need = pteNeedFault(req, r.defaultFlags, r.pfnFlagsMask, cpu);
  if (need.fault) return vmaFault(w, vma, addr, addr + w.ps, need);
  if (pteSpecial(pte) && !sys.isZeroPfn(pte.pfn)) {
    if (pteNeedFault(req, r.defaultFlags, r.pfnFlagsMask, 0n).fault) {
      throw new KernelError('EFAULT', `hmm_range_fault: special pte at 0x${addr.toString(16)}`);
    }
    r.hmmPfns[i] = HMM_PFN_ERROR;
    return 'ok';
  }
  r.hmmPfns[i] = hmmPfn(pte.pfn, cpu);
  return 'ok';
}

/** `hmm_vma_walk_pmd()` over `[addr, end)`, inside one PMD and one VMA. */
function walkPmd(w: Walk, vma: Vma, addr: number, end: number): Step {
  const pgd = w.mm.pgd!;
  const { pmdSize } = pgd.geometry;
  const huge = pgd.getPmd(addr);
  if (huge !== undefined) {
    if (huge.kind === 'present' && pmdHuge(huge)) {
      // hmm_vma_handle_pmd(): VALID(|WRITE) with order PMD_SHIFT - PAGE_SHIFT, one pfn per base page
      const cpu = pteWrite(huge) ? HMM_PFN_VALID + HMM_PFN_WRITE : HMM_PFN_VALID;
      const need = rangeNeedFault(w, addr, end, cpu);
      if (need.fault) return vmaFault(w, vma, addr, end, need);
      const order = Math.log2(pmdSize / w.ps);
      const base = huge.pfn + ((addr % pmdSize) / w.ps);
      for (let a = addr, p = base; a < end; a += w.ps, p++) w.range.hmmPfns[idx(w, a)] = hmmPfn(p, cpu, order);
      return 'ok';
    }
    // a migration pmd waits; anything else is an error
    const need = rangeNeedFault(w, addr, end, 0n);
    if (!need.fault) {
      fill(w, addr, end, 0n);
      return 'ok';
    }
    if (huge.kind === 'swap' && isMigrationEntry(huge.entry)) {
      w.last = addr;
      return 'again';
    }
    throw new KernelError('EFAULT', `hmm_range_fault: bad pmd at 0x${addr.toString(16)}`);
  }
  if (!pgd.hasPteTable(addr)) return walkHole(w, vma, addr, end);
  if (!w.canFault) {
    snapshotPtes(w, addr, end);
    return 'ok';
  }
  for (let a = addr; a < end; a += w.ps) {
    const pte = pgd.get(a);
    if (pte === undefined) {
      const need = pteNeedFault(w.range.hmmPfns[idx(w, a)]!, w.range.defaultFlags, w.range.pfnFlagsMask, 0n);
      if (need.fault) return vmaFault(w, vma, a, a + w.ps, need);
      w.range.hmmPfns[idx(w, a)] = 0n;
      continue;
    }
    if (handlePte(w, vma, a, pte) === 'again') return 'again';
  }
  return 'ok';
}

const VALID_WRITE = HMM_PFN_VALID + HMM_PFN_WRITE;

/** Whether the host stores the low 32 bits of a 64-bit element first (then word `2i` of a u32 view is entry `i`'s low half). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** `HMM_PFN_VALID` and `HMM_PFN_WRITE` in the high 32-bit word of an entry. */
const HI_VALID = 2 ** 31;
const HI_WRITE = 2 ** 30;
const TWO32 = 2 ** 32;
const WORD = 2n ** 32n;
/** From how many equal entries on one 64-bit fill (one BigInt) beats two 32-bit stores per entry. */
const FILL_RUN = 8;

/**
 * `hmm_vma_handle_pte()` for a PTE table when no entry can ask for a fault
 * (neither `default_flags` nor `pfn_flags_mask` has `REQ_FAULT`): the same
 * results, read from the PTE table (`pte_offset_map()`) entry by entry,
 * inside one PMD.
 */
function snapshotPtes(w: Walk, addr: number, end: number): void {
  const r = w.range;
  const sys = w.mm.system!;
  const pgd = w.mm.pgd!;
  const table = pgd.pteTable(addr);
  const base = idx(w, addr);
  const count = (end - addr) / w.ps;
  // The entries are written as two 32-bit words (pfn low, pfn high + flags), which avoids a BigInt per page.
  const words = (w.words ??= new Uint32Array(r.hmmPfns.buffer, r.hmmPfns.byteOffset, r.hmmPfns.length * 2));
  words.fill(0, 2 * base, 2 * (base + count));
  if (table === undefined) return;
  const lo = LITTLE_ENDIAN ? 0 : 1;
  const hi = 1 - lo;
  const zeroPfn = sys.zeroPfn;
  const first = (addr % pgd.geometry.pmdSize) / w.ps;
  // Runs of PTEs are often one shared entry (the zero page) or share their
  // flags: the words of the last present entry are reused while they apply,
  // and a long run of one entry is stored with one native 64-bit fill.
  let last: Pte | undefined;
  let lastError = false;
  let wordLo = 0;
  let wordHi = 0;
  let flags = -1;
  let special = false;
  let hiFlags = 0;
  for (let k = 0; k < count; k++) {
    const pte = table[first + k];
    if (pte === undefined) continue;
    const i = base + k;
    if (pte !== last) {
      if (pte.kind === 'swap') {
        const entry = pte.entry;
        if (isDevicePrivateEntry(entry)) {
          const pfn = devicePrivateEntryToPfn(entry);
          if (sys.pagePgmap(pfn)?.owner === r.devPrivateOwner) {
            r.hmmPfns[i] = BigInt(pfn) + (isWriteDevicePrivateEntry(entry) ? VALID_WRITE : HMM_PFN_VALID);
          }
        }
        continue;
      }
      if (pte.flags !== flags) {
        flags = pte.flags;
        special = pteSpecial(pte);
        hiFlags = pteWrite(pte) ? HI_VALID + HI_WRITE : HI_VALID;
      }
      const pfn = pte.pfn;
      last = pte;
      lastError = special && pfn !== zeroPfn;
      const pfnHi = Math.floor(pfn / TWO32);
      wordLo = pfn - pfnHi * TWO32;
      wordHi = pfnHi + hiFlags;
    }
    // the run of this same entry from k on (entries are shared values: the zero page's, for one)
    let runEnd = k + 1;
    while (runEnd < count && table[first + runEnd] === pte) runEnd++;
    if (lastError) {
      r.hmmPfns.fill(HMM_PFN_ERROR, i, base + runEnd);
    } else if (runEnd - k >= FILL_RUN) {
      r.hmmPfns.fill(BigInt(wordHi) * WORD + BigInt(wordLo), i, base + runEnd);
    } else {
      for (let j = i; j < base + runEnd; j++) {
        words[2 * j + lo] = wordLo;
        words[2 * j + hi] = wordHi;
      }
    }
    k = runEnd - 1;
  }
}

/** `hmm_vma_walk_test()`: a VMA the walk must not enter (I/O, raw pfns, unreadable). */
function testWalk(w: Walk, vma: Vma, start: number, end: number): boolean {
  if (!anyBits(vma.vmFlags, VM_IO + VM_PFNMAP + VM_MIXEDMAP) && hasBits(vma.vmFlags, VM_READ)) return true;
  if (rangeNeedFault(w, start, end, 0n).fault) throw new KernelError('EFAULT', `hmm_range_fault: vma at 0x${vma.vmStart.toString(16)} cannot be mirrored`);
  fill(w, start, end, HMM_PFN_ERROR);
  return false;
}

/**
 * `hmm_vma_walk_pud()` over `[addr, end)`, inside one PUD and one VMA: an
 * empty PUD is a hole; a huge devmap leaf (device-dax with a 1 GiB align)
 * gives VALID(|WRITE) entries of order `PUD_SHIFT - PAGE_SHIFT`, one pfn
 * per base page, or faults when the request needs more; anything else is
 * walked level by level (`ACTION_SUBTREE`).
 */
function walkPud(w: Walk, vma: Vma, addr: number, end: number): Step {
  const pgd = w.mm.pgd!;
  const { pmdSize, pudSize } = pgd.geometry;
  if (pgd.pudNone(addr)) return walkHole(w, vma, addr, end);
  const pud = pgd.getPud(addr);
  if (pud !== undefined) {
    // pud_huge() && pud_devmap(); a leaf that is not present is a hole
    if (pud.kind !== 'present') return walkHole(w, vma, addr, end);
    if (pudDevmap(pud)) {
      const cpu = pteWrite(pud) ? HMM_PFN_VALID + HMM_PFN_WRITE : HMM_PFN_VALID;
      const need = rangeNeedFault(w, addr, end, cpu);
      if (need.fault) return vmaFault(w, vma, addr, end, need);
      const order = Math.log2(pudSize / w.ps);
      const base = pud.pfn + (addr % pudSize) / w.ps;
      for (let a = addr, p = base; a < end; a += w.ps, p++) w.range.hmmPfns[idx(w, a)] = hmmPfn(p, cpu, order);
      return 'ok';
    }
  }
  for (let a = addr; a < end; ) {
    const pmdEnd = Math.min(end, (Math.floor(a / pmdSize) + 1) * pmdSize);
    if (walkPmd(w, vma, a, pmdEnd) === 'again') return 'again';
    a = pmdEnd;
  }
  return 'ok';
}

/** `walk_page_range(mm, start, end, &hmm_walk_ops, &hmm_vma_walk)`. */
function walkPageRange(w: Walk, start: number, end: number): Step {
  const pudSize = w.mm.pgd!.geometry.pudSize;
  let addr = start;
  while (addr < end) {
    const vma = w.mm.findVma(addr);
    if (vma === null || addr < vma.vmStart) {
      const next = vma === null ? end : Math.min(end, vma.vmStart);
      if (walkHole(w, null, addr, next) === 'again') return 'again';
      addr = next;
      continue;
    }
    const next = Math.min(end, vma.vmEnd);
    if (testWalk(w, vma, addr, next)) {
      for (let a = addr; a < next; ) {
        const pudEnd = Math.min(next, (Math.floor(a / pudSize) + 1) * pudSize);
        if (walkPud(w, vma, a, pudEnd) === 'again') return 'again';
        a = pudEnd;
      }
    }
    addr = next;
  }
  return 'ok';
}

/** How many internal restarts one call allows before reporting -EBUSY (the model's bound on a fault that never settles). */
const MAX_WALKS = 65536;

/** Whether `x` is a `u64` as a `bigint`. */
function isU64(x: unknown): x is bigint {
  return typeof x === 'bigint' && x >= 0n && x < 2n ** 64n;
}

/**
 * The checks `hmm_range_fault()` makes before walking, all before anything
 * changes. v5.13 itself checks only `start < end` (`walk_page_range()`'s
 * -EINVAL) and that the notifier's sequence is current (-EBUSY); what C
 * cannot express or would read past (a range that is not an object, a
 * notifier never inserted, fields that are not integers or `u64`s, an
 * unaligned range, `hmm_pfns` shorter than the range) is -EINVAL too.
 * Returns the mm and its page size.
 */
function checkRange(fn: string, range: HmmRange): { mm: MmStruct; ps: number } {
  if (typeof range !== 'object' || range === null) throw new KernelError('EINVAL', `${fn}: no range`);
  checkUnsigned(fn, 'start', range.start);
  checkUnsigned(fn, 'end', range.end);
  checkUnsigned(fn, 'notifier_seq', range.notifierSeq);
  if (!isU64(range.defaultFlags)) throw new KernelError('EINVAL', `${fn}: default_flags ${String(range.defaultFlags)} is not an unsigned long`);
  if (!isU64(range.pfnFlagsMask)) throw new KernelError('EINVAL', `${fn}: pfn_flags_mask ${String(range.pfnFlagsMask)} is not an unsigned long`);
  const notifier: unknown = range.notifier;
  if (!(notifier instanceof MmuIntervalNotifier)) throw new KernelError('EINVAL', `${fn}: no interval notifier`);
  const mm = notifier.mm;
  if (!(mm instanceof MmStruct) || mm.pgd === null || mm.system === null) {
    throw new KernelError('EINVAL', `${fn}: the notifier is not subscribed to an address space with page tables`);
  }
  const ps = mm.pgd.geometry.pageSize;
  if (range.start % ps !== 0 || range.end % ps !== 0) throw new KernelError('EINVAL', `${fn}: range not page aligned`);
  if (range.start >= range.end) throw new KernelError('EINVAL', `${fn}: empty range`);
  if (!(range.hmmPfns instanceof BigUint64Array) || range.hmmPfns.length < (range.end - range.start) / ps) {
    throw new KernelError('EINVAL', `${fn}: hmm_pfns holds fewer entries than the range has pages`);
  }
  return { mm, ps };
}

/**
 * `hmm_range_fault(range)` (mm/hmm.c, v5.13): fills `range.hmmPfns` for
 * `[start, end)` of the notifier's mm, faulting pages in as the requests
 * demand. Pages are the size the mm's architecture uses (`PAGE_SIZE` of its
 * page tables: 4 KiB on x86_64, 64 KiB on powerpc radix with 64K pages).
 * Throws KernelError -EBUSY when the notifier sequence changed
 * (the caller restarts from `mmu_interval_read_begin()`), -EFAULT,
 * -EPERM (write to a read-only VMA), or -EINVAL for an empty or unaligned
 * range, an mm without page tables, fields that are not integers (or, for
 * the flags, `u64` bigints), or an array that is too short; nothing has
 * changed after an -EINVAL. On -EBUSY the entries below the point reached
 * hold results and the rest still hold requests.
 * @public
 */
export function hmmRangeFault(range: HmmRange): void {
  const fn = 'hmm_range_fault';
  const { mm, ps } = checkRange(fn, range);
  const w: Walk = { range, mm, ps, last: range.start, canFault: hasReqFault(range.defaultFlags) || hasReqFault(range.pfnFlagsMask), words: undefined };
  for (let n = 0; n < MAX_WALKS; n++) {
    if (mmuIntervalCheckRetry(range.notifier, range.notifierSeq)) throw new KernelError('EBUSY', `${fn}: the range was invalidated`);
    if (walkPageRange(w, w.last, range.end) === 'ok') return;
  }
  throw new KernelError('EBUSY', `${fn}: the range keeps changing`);
}
