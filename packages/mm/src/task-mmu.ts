/**
 * `/proc/PID/smaps` and the memory lines of `/proc/PID/status`, after
 * fs/proc/task_mmu.c (Linux v5.13).
 *
 * smaps walks each VMA's page tables (`smap_gather_stats`,
 * `smaps_pte_entry`, `smaps_pmd_entry`) and accounts each page it finds
 * (`smaps_account`): a present PTE's normal page, and the page behind a
 * migration or device-private swap entry — so memory migrated to a device
 * still shows in Rss and Anonymous. A page referenced once
 * (`page_count == 1`) is private; otherwise its mapcount decides, and Pss
 * divides it among its mappers in 12-bit fixed point (`PSS_SHIFT`). A
 * devmap PMD is accounted with its head page only: ZONE_DEVICE pages are
 * not compound in v5.13, so a 2 MiB device-dax mapping adds 4 kB. A huge
 * PUD leaf (1 GiB device-dax) is split by the walk itself, as v5.13's
 * `walk_pud_range()` does for a walker without `pud_entry`: reading smaps
 * unmaps it, and the mapping counts nothing until it faults again.
 */
import { hasBits } from '@zonedev/kernel';
import { PG_dirty, PG_referenced } from '@zonedev/mmzone';
import { MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES, MM_SWAPENTS, splitHugePud } from './memory.js';
import type { MmSystem } from './memory.js';
import type { MmStruct } from './mm.js';
import { ptePresent, pteDirty, pteYoung, pmdHuge, pteDevmap } from './pgtable.js';
import {
  devicePrivateEntryToPfn, isDevicePrivateEntry, isMigrationEntry, migrationEntryToPfn, nonSwapEntry,
} from './swapops.js';
import { PAGE_SIZE, VM_EXEC, VM_GROWSDOWN, VM_HUGEPAGE, VM_MAYSHARE, VM_NOHUGEPAGE, VM_SHARED, VM_WRITE } from './vma.js';
import type { Vma } from './vma.js';
import { checkMm, checkVma } from './args.js';

const PSS_SHIFT_UNIT = 4096;

interface MemSizeStats {
  resident: number;
  sharedClean: number;
  sharedDirty: number;
  privateClean: number;
  privateDirty: number;
  referenced: number;
  anonymous: number;
  lazyfree: number;
  anonymousThp: number;
  shmemThp: number;
  fileThp: number;
  swap: number;
  sharedHugetlb: number;
  privateHugetlb: number;
  pss: number;
  pssLocked: number;
  swapPss: number;
}

function emptyStats(): MemSizeStats {
  return {
    resident: 0, sharedClean: 0, sharedDirty: 0, privateClean: 0, privateDirty: 0, referenced: 0, anonymous: 0,
    lazyfree: 0, anonymousThp: 0, shmemThp: 0, fileThp: 0, swap: 0, sharedHugetlb: 0, privateHugetlb: 0,
    pss: 0, pssLocked: 0, swapPss: 0,
  };
}

/** smaps_account(mss, page, compound, young, dirty) for a small page. */
function smapsAccount(sys: MmSystem, mss: MemSizeStats, pfn: number, young: boolean, dirtyPte: boolean): void {
  const size = sys.pageSize;
  const store = sys.core.memmap;
  const dirty = dirtyPte || store.testPageFlag(pfn, PG_dirty);
  if (sys.pageAnon(pfn)) {
    mss.anonymous += size;
    if (!store.testPageFlag(pfn, 19 /* PG_swapbacked */) && !dirty) mss.lazyfree += size;
  }
  mss.resident += size;
  if (young || store.testPageFlag(pfn, PG_referenced)) mss.referenced += size;
  if (sys.pageCount(pfn) === 1) {
    if (dirty) mss.privateDirty += size;
    else mss.privateClean += size;
    mss.pss += size * PSS_SHIFT_UNIT;
    return;
  }
  const mapcount = sys.pageMapcount(pfn);
  if (mapcount >= 2) {
    if (dirty) mss.sharedDirty += size;
    else mss.sharedClean += size;
    mss.pss += Math.floor((size * PSS_SHIFT_UNIT) / mapcount);
  } else {
    if (dirty) mss.privateDirty += size;
    else mss.privateClean += size;
    mss.pss += size * PSS_SHIFT_UNIT;
  }
}

/** smap_gather_stats(vma, mss, 0): walk_page_vma() with smaps_walk_ops. */
function gatherStats(vma: Vma): MemSizeStats {
  const mss = emptyStats();
  const mm = vma.vmMm;
  const sys = mm?.system;
  const pgd = mm?.pgd;
  if (!sys || !pgd) return mss;
  if (pgd.nrPudLeaves > 0) {
    // walk_pud_range() (mm/pagewalk.c, v5.13): smaps has no pud_entry, so the walk splits every huge PUD leaf
    // of the VMA (split_huge_pud, which for a pfn or devmap PUD clears it) and finds nothing below it
    const puds: number[] = [];
    pgd.walk(vma.vmStart, vma.vmEnd, ({ addr, level }) => {
      if (level === 'pud') puds.push(addr);
    });
    for (const addr of puds) splitHugePud(vma, Math.max(addr, vma.vmStart));
  }
  pgd.walk(vma.vmStart, vma.vmEnd, ({ pte, level }) => {
    if (level === 'pmd') {
      // smaps_pmd_entry(): follow_trans_huge_pmd(FOLL_DUMP)
      if (!ptePresent(pte) || !pmdHuge(pte) || !sys.pfnValid(pte.pfn)) return;
      if (!pteDevmap(pte) && !sys.pageAnon(pte.pfn)) return;
      smapsAccount(sys, mss, pte.pfn, pteYoung(pte), pteDirty(pte));
      return;
    }
    if (ptePresent(pte)) {
      const page = sys.vmNormalPage(vma, pte);
      if (page !== undefined) smapsAccount(sys, mss, page, pteYoung(pte), pteDirty(pte));
      return;
    }
    const entry = pte.entry;
    if (!nonSwapEntry(entry)) {
      // no swap device in the model: swp_swapcount() is 1
      mss.swap += sys.pageSize;
      mss.swapPss += sys.pageSize * PSS_SHIFT_UNIT;
      return;
    }
    let page: number | undefined;
    if (isMigrationEntry(entry)) page = migrationEntryToPfn(entry);
    else if (isDevicePrivateEntry(entry)) page = devicePrivateEntryToPfn(entry);
    // a swap PTE has neither the accessed nor the dirty bit
    if (page !== undefined) smapsAccount(sys, mss, page, false, false);
  });
  return mss;
}

/** `seq_put_decimal_ull_width(m, str, val, 8)` of a byte count in kB (`SEQ_PUT_DEC`). */
function dec(label: string, bytes: number, width = 8): string {
  return label + String(Math.floor(bytes / 1024)).padStart(width, ' ');
}

/** show_smap_vma_flags() mnemonics, bit by bit (v5.13, x86_64). */
const MNEMONICS: readonly (readonly [number, string])[] = [
  [0x1, 'rd'], [0x2, 'wr'], [0x4, 'ex'], [0x8, 'sh'], [0x10, 'mr'], [0x20, 'mw'], [0x40, 'me'], [0x80, 'ms'],
  [0x100, 'gd'], [0x400, 'pf'], [0x800, 'dw'], [0x2000, 'lo'], [0x4000, 'io'], [0x8000, 'sr'], [0x10000, 'rr'],
  [0x20000, 'dc'], [0x40000, 'de'], [0x100000, 'ac'], [0x200000, 'nr'], [0x400000, 'ht'], [0x800000, 'sf'],
  [0x1000000, 'ar'], [0x2000000, 'wf'], [0x4000000, 'dd'], [0x8000000, 'sd'], [0x10000000, 'mm'],
  [0x20000000, 'hg'], [0x40000000, 'nh'], [0x80000000, 'mg'],
];

/**
 * transparent_hugepage_active(vma) (mm/huge_memory.c) as THPeligible
 * shows it: the VMA must hold an aligned PMD ending at its last aligned
 * boundary (transhuge_vma_suitable), and only anonymous memory is eligible
 * here (`always`, or `madvise` with VM_HUGEPAGE; never with VM_NOHUGEPAGE).
 */
function thpEligible(vma: Vma): number {
  const sys = vma.vmMm?.system;
  if (!sys) return 0;
  const pmd = sys.geometry.pmdSize;
  const haddr = vma.vmEnd - (vma.vmEnd % pmd) - pmd;
  if (haddr < vma.vmStart || haddr + pmd > vma.vmEnd) return 0;
  if (!vma.isAnonymous()) return 0;
  if (hasBits(vma.vmFlags, VM_NOHUGEPAGE)) return 0;
  if (sys.thp === 'always') return 1;
  if (sys.thp === 'madvise') return hasBits(vma.vmFlags, VM_HUGEPAGE) ? 1 : 0;
  return 0;
}

/**
 * One VMA of `/proc/PID/smaps`: show_smap() and __show_smap()
 * (fs/proc/task_mmu.c, v5.13): the maps line, Size, KernelPageSize,
 * MMUPageSize, the gathered counters, THPeligible and VmFlags.
 * @public
 */
export function showSmap(vma: Vma): string {
  checkVma('show_smap', vma);
  const mss = gatherStats(vma);
  const pageSize = vma.vmMm?.pageSize ?? PAGE_SIZE;
  const kps = vma.vmOps?.pagesize ? vma.vmOps.pagesize(vma) : pageSize;
  let out = showMapVma(vma);
  out += dec('Size:           ', vma.vmEnd - vma.vmStart);
  out += dec(' kB\nKernelPageSize: ', kps);
  out += dec(' kB\nMMUPageSize:    ', kps);
  out += ' kB\n';
  out += dec('Rss:            ', mss.resident);
  out += dec(' kB\nPss:            ', Math.floor(mss.pss / PSS_SHIFT_UNIT));
  out += dec(' kB\nShared_Clean:   ', mss.sharedClean);
  out += dec(' kB\nShared_Dirty:   ', mss.sharedDirty);
  out += dec(' kB\nPrivate_Clean:  ', mss.privateClean);
  out += dec(' kB\nPrivate_Dirty:  ', mss.privateDirty);
  out += dec(' kB\nReferenced:     ', mss.referenced);
  out += dec(' kB\nAnonymous:      ', mss.anonymous);
  out += dec(' kB\nLazyFree:       ', mss.lazyfree);
  out += dec(' kB\nAnonHugePages:  ', mss.anonymousThp);
  out += dec(' kB\nShmemPmdMapped: ', mss.shmemThp);
  out += dec(' kB\nFilePmdMapped:  ', mss.fileThp);
  out += dec(' kB\nShared_Hugetlb: ', mss.sharedHugetlb);
  out += dec(' kB\nPrivate_Hugetlb: ', mss.privateHugetlb, 7);
  out += dec(' kB\nSwap:           ', mss.swap);
  out += dec(' kB\nSwapPss:        ', Math.floor(mss.swapPss / PSS_SHIFT_UNIT));
  out += dec(' kB\nLocked:         ', Math.floor(mss.pssLocked / PSS_SHIFT_UNIT));
  out += ' kB\n';
  out += `THPeligible:    ${thpEligible(vma)}\n`;
  out += 'VmFlags: ';
  for (const [bit, name] of MNEMONICS) if (hasBits(vma.vmFlags, bit)) out += `${name} `;
  out += '\n';
  return out;
}

/**
 * The memory lines of `/proc/PID/status`: task_mem() (fs/proc/task_mmu.c,
 * v5.13) and hugetlb_report_usage(): VmPeak to VmSwap and HugetlbPages, in
 * kB, each number right-aligned in 8 columns. The model has no code or
 * libraries mapped (VmExe and VmLib count executable mappings only), no
 * mlock and no RDMA pins (VmLck and VmPin are 0).
 * @public
 */
export function taskMem(mm: MmStruct): string {
  checkMm('task_mem', mm);
  const ps = mm.pageSize;
  const kb = (pages: number): number => (pages * ps) / 1024;
  const anon = mm.getMmCounter(MM_ANONPAGES);
  const file = mm.getMmCounter(MM_FILEPAGES);
  const shmem = mm.getMmCounter(MM_SHMEMPAGES);
  const swap = mm.getMmCounter(MM_SWAPENTS);
  const totalVm = mm.totalVm;
  const totalRss = anon + file + shmem;
  const hiwaterVm = Math.max(totalVm, mm.hiwaterVm);
  const hiwaterRss = Math.max(totalRss, mm.hiwaterRss);
  let dataVm = 0;
  let stackVm = 0;
  let execVm = 0;
  for (const v of mm.vmas()) {
    const pages = (v.vmEnd - v.vmStart) / ps;
    const f = v.vmFlags;
    // is_exec_mapping, is_stack_mapping, is_data_mapping (mm/internal.h)
    if (hasBits(f, VM_EXEC) && !hasBits(f, VM_WRITE) && !hasBits(f, VM_GROWSDOWN)) execVm += pages;
    else if (hasBits(f, VM_GROWSDOWN)) stackVm += pages;
    else if (hasBits(f, VM_WRITE) && !hasBits(f, VM_SHARED)) dataVm += pages;
  }
  const w = (n: number): string => String(n).padStart(8, ' ');
  const pte = mm.pgd ? mm.pgd.pgtablesBytes() / 1024 : 0;
  return (
    `VmPeak:\t${w(kb(hiwaterVm))} kB\n` +
    `VmSize:\t${w(kb(totalVm))} kB\n` +
    `VmLck:\t${w(0)} kB\n` +
    `VmPin:\t${w(0)} kB\n` +
    `VmHWM:\t${w(kb(hiwaterRss))} kB\n` +
    `VmRSS:\t${w(kb(totalRss))} kB\n` +
    `RssAnon:\t${w(kb(anon))} kB\n` +
    `RssFile:\t${w(kb(file))} kB\n` +
    `RssShmem:\t${w(kb(shmem))} kB\n` +
    `VmData:\t${w(kb(dataVm))} kB\n` +
    `VmStk:\t${w(kb(stackVm))} kB\n` +
    `VmExe:\t${w(0)} kB\n` +
    `VmLib:\t${w(kb(execVm))} kB\n` +
    `VmPTE:\t${w(pte)} kB\n` +
    `VmSwap:\t${w(kb(swap))} kB\n` +
    `HugetlbPages:\t${w(0)} kB\n`
  );
}

function hex(x: number, width: number): string {
  return x.toString(16).padStart(width, '0');
}

/**
 * One line of /proc/PID/maps: show_vma_header_prefix() and show_map_vma()
 * (fs/proc/task_mmu.c). `seq_setwidth(m, 25 + sizeof(void *) * 6 - 1)` and
 * `seq_pad(m, ' ')` pad a named line to 72 columns and add one space.
 * @public
 */
export function showMapVma(v: Vma): string {
  checkVma('show_map_vma', v);
  const f = v.vmFlags;
  const file = v.vmFile;
  const pgoff = file ? v.vmPgoff * (v.vmMm?.pageSize ?? PAGE_SIZE) : 0;
  const prefix =
    `${hex(v.vmStart, 8)}-${hex(v.vmEnd, 8)} ` +
    (hasBits(f, 0x1) ? 'r' : '-') +
    (hasBits(f, 0x2) ? 'w' : '-') +
    (hasBits(f, 0x4) ? 'x' : '-') +
    (hasBits(f, VM_MAYSHARE) ? 's' : 'p') +
    ` ${hex(pgoff, 8)} ${hex(file?.devMajor ?? 0, 2)}:${hex(file?.devMinor ?? 0, 2)} ${file?.ino ?? 0} `;
  let name: string | null = file ? file.path : null;
  if (!name && v.vmOps?.name) name = v.vmOps.name(v);
  if (name === null) return `${prefix}\n`;
  return `${prefix.padEnd(25 + 8 * 6 - 1, ' ')} ${name}\n`;
}
