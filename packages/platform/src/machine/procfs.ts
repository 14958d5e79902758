/**
 * The machine's /proc: files computed from the subsystems' state each time
 * they are read.
 *
 * ```
 *   /proc/iomem         kernel/resource.c          the iomem resource tree
 *   /proc/meminfo       fs/proc/meminfo.c          from the mm core's counters
 *   /proc/zoneinfo      mm/vmstat.c                @zonedev/mmzone
 *   /proc/buddyinfo     mm/vmstat.c                @zonedev/mmzone
 *   /proc/pagetypeinfo  mm/vmstat.c                @zonedev/mmzone
 *   /proc/cmdline       fs/proc/cmdline.c          the kernel command line
 *   /proc/devices       fs/proc/devices.c          the character and block majors
 * ```
 *
 * `/proc/meminfo` has the lines and the format of v5.13's
 * `meminfo_proc_show()` (`show_val_kb()`: the label, the value in kB right
 * aligned in 8 columns, ` kB`), followed by `hugetlb_report_meminfo()` and
 * `arch_report_meminfo()` (the direct map by page size: x86, and powerpc
 * with the radix MMU; hash prints none). The model
 * keeps the counters of the memory it models — total, free, reserved, and
 * the anonymous and file pages processes map (rmap's `NR_ANON_MAPPED` and
 * `NR_FILE_MAPPED`), the accounted mappings (`Committed_AS`) —
 * and prints 0 for what it does not model: the page cache, slab, kernel
 * stacks, page tables, percpu, vmalloc, swap and huge pages.
 */
import { SZ_1M, SZ_2M, align, alignDown, hasBits } from '@zonedev/kernel';
import { VM_ACCOUNT } from '@zonedev/mm';
import type { MmStruct } from '@zonedev/mm';
import { NR_ANON_MAPPED, NR_FILE_MAPPED, nodeStatNames } from '@zonedev/mmzone';
import { KernelError } from '@zonedev/kernel';
import { radixCreatePhysicalMapping, type RadixDirectPages } from './powerpc-setup.js';
import type { Machine } from './machine.js';

/** `show_val_kb()`: `Label:` padded by the caller, the value in 8 columns, ` kB`. */
function kb(label: string, value: number): string {
  return `${label}${String(value).padStart(8)} kB\n`;
}

/** The address spaces of the machine's processes (the shell's and hmm-demo's), by pid. */
function machineMms(m: Machine): MmStruct[] {
  return [...m.hmm.processes().map((p) => p.task.mm), ...m.processes.processes().map((p) => p.mm)].sort((a, b) => a.pid - b.pid);
}

/**
 * `vm_committed_as` (mm/util.c, `__vm_enough_memory()`): the pages of every
 * private writable mapping charged at mmap or mprotect time (`VM_ACCOUNT`),
 * whether faulted in or not, summed over the machine's processes.
 */
function committedAs(m: Machine): number {
  let pages = 0;
  for (const mm of machineMms(m)) {
    for (const vma of mm.vmas()) if (hasBits(vma.vmFlags, VM_ACCOUNT)) pages += (vma.vmEnd - vma.vmStart) / mm.pageSize;
  }
  return pages;
}

/**
 * x86's direct-map accounting (`direct_pages_count[]`, printed by
 * `arch_report_meminfo()`): `init_memory_mapping()` maps the first MiB and
 * each boot memory range, then each hot-added range, in 4 KiB pages up to
 * a 2 MiB boundary, 2 MiB pages in between, 4 KiB pages after (QEMU's
 * default CPU has no 1 GiB pages, so there is no DirectMap1G line).
 */
export function x86DirectMap(m: Machine): { k4: number; m2: number } {
  let k4 = 0;
  let m2 = 0;
  const map = (s: number, e: number): void => {
    if (e <= s) return;
    const head = Math.min(align(s, SZ_2M), e);
    const tail = Math.max(alignDown(e, SZ_2M), head);
    k4 += head - s + (e - tail);
    m2 += tail - head;
  };
  map(0, SZ_1M);
  const ps = m.mm.config.pageSize;
  for (const r of m.memblock.memPfnRanges()) map(Math.max(r.startPfn * ps, SZ_1M), r.endPfn * ps);
  for (const l of m.hotplug.linearMappings()) map(l.start, l.start + l.size);
  return { k4: k4 / 1024, m2: m2 / 1024 };
}

/**
 * powerpc's direct-map accounting under radix (`direct_pages_count[]`,
 * arch/powerpc/mm/book3s64): `radix_init_pgtable()` maps each boot
 * memblock range with `create_physical_mapping()`, and
 * `radix__create_section_mapping()` each hot-added range. The model counts
 * the hot-added ranges mapped now; v5.13's remove_pagetable() leaves the
 * counters as they were, so after a hot-remove a real guest still counts
 * the removed range.
 */
export function radixDirectMap(m: Machine): RadixDirectPages {
  const acc = { k4: 0, k64: 0, m2: 0, g1: 0 };
  const ppc = m.powerpc;
  if (ppc === undefined) return acc;
  // Early boot maps memblock.memory before NUMA splits it by node: adjacent ranges are one.
  const ranges: { start: number; end: number }[] = [];
  for (const r of m.memblock.memoryRegions()) {
    const last = ranges[ranges.length - 1];
    if (last !== undefined && last.end === r.base) last.end = r.base + r.size;
    else ranges.push({ start: r.base, end: r.base + r.size });
  }
  for (const r of ranges) radixCreatePhysicalMapping(r.start, r.end, ppc.radixMemBlockSize, ppc.initBegin, acc);
  for (const l of m.hotplug.linearMappings()) radixCreatePhysicalMapping(l.start, l.start + l.size, ppc.radixMemBlockSize, ppc.initBegin, acc);
  return acc;
}

/** `VMALLOC_TOTAL` in kB: 32 TiB (4-level), 12800 TiB (5-level), 8 TiB (book3s64 64K). */
function vmallocTotalKb(m: Machine): number {
  if (m.platform === 'powerpc') return 8 * 2 ** 30;
  return m.profile.mmu === '5level' ? 12800 * 2 ** 30 - 1 : 32 * 2 ** 30 - 1;
}

/**
 * `meminfo_proc_show()` (fs/proc/meminfo.c, v5.13) with
 * `hugetlb_report_meminfo()` and the arch's `arch_report_meminfo()` (x86;
 * powerpc with the radix MMU).
  *
  * @public
 */
export function meminfoShow(m: Machine): string {
  if (typeof m !== 'object' || m === null || typeof m.mm !== 'object') throw new KernelError('EINVAL', `meminfo_proc_show: invalid machine ${String(m)}`);
  const mm = m.mm;
  const pk = mm.config.pageSize / 1024;
  const K = (pages: number): number => pages * pk;
  const total = mm.totalramPages;
  const free = mm.nrFreePages();
  // si_mem_available(): no page cache and no reclaimable slab in the model.
  const available = Math.max(0, free - mm.totalreservePages);
  // global_node_page_state(): rmap's counts of mapped anonymous and file
  // pages, and the LRU lists' (which the model does not keep: 0).
  const anon = mm.globalNodePageState(NR_ANON_MAPPED);
  const mapped = mm.globalNodePageState(NR_FILE_MAPPED);
  const names = nodeStatNames(mm.config);
  const lru = (item: string): number => mm.globalNodePageState(names.indexOf(item));
  const inactiveAnon = lru('nr_inactive_anon');
  const activeAnon = lru('nr_active_anon');
  // vm_commit_limit(): (totalram - hugetlb) * overcommit_ratio (50) / 100 + swap.
  const commitLimit = Math.floor((total * 50) / 100);
  let s = '';
  s += kb('MemTotal:       ', K(total));
  s += kb('MemFree:        ', K(free));
  s += kb('MemAvailable:   ', K(available));
  s += kb('Buffers:        ', 0);
  s += kb('Cached:         ', 0);
  s += kb('SwapCached:     ', 0);
  s += kb('Active:         ', K(activeAnon));
  s += kb('Inactive:       ', K(inactiveAnon));
  s += kb('Active(anon):   ', K(activeAnon));
  s += kb('Inactive(anon): ', K(inactiveAnon));
  s += kb('Active(file):   ', 0);
  s += kb('Inactive(file): ', 0);
  s += kb('Unevictable:    ', 0);
  s += kb('Mlocked:        ', 0);
  s += kb('SwapTotal:      ', 0);
  s += kb('SwapFree:       ', 0);
  s += kb('Dirty:          ', 0);
  s += kb('Writeback:      ', 0);
  s += kb('AnonPages:      ', K(anon));
  s += kb('Mapped:         ', K(mapped));
  s += kb('Shmem:          ', 0);
  s += kb('KReclaimable:   ', 0);
  s += kb('Slab:           ', 0);
  s += kb('SReclaimable:   ', 0);
  s += kb('SUnreclaim:     ', 0);
  s += `KernelStack:    ${String(0).padStart(8)} kB\n`;
  s += kb('PageTables:     ', 0);
  s += kb('NFS_Unstable:   ', 0);
  s += kb('Bounce:         ', 0);
  s += kb('WritebackTmp:   ', 0);
  s += kb('CommitLimit:    ', K(commitLimit));
  s += kb('Committed_AS:   ', K(committedAs(m)));
  s += `VmallocTotal:   ${String(vmallocTotalKb(m)).padStart(8)} kB\n`;
  s += kb('VmallocUsed:    ', 0);
  s += kb('VmallocChunk:   ', 0);
  s += kb('Percpu:         ', 0);
  // num_poisoned_pages << (PAGE_SHIFT - 10), "%5lu"
  s += `HardwareCorrupted: ${String(K(m.hotplug.memoryFailure?.numPoisonedPages ?? 0)).padStart(5)} kB\n`;
  s += kb('AnonHugePages:  ', 0);
  s += kb('ShmemHugePages: ', 0);
  s += kb('ShmemPmdMapped: ', 0);
  s += kb('FileHugePages:  ', 0);
  s += kb('FilePmdMapped:  ', 0);
  // hugetlb_report_meminfo(): the default huge page size (x86 and radix: 2 MiB, hash 64K: 16 MiB).
  const hpage = m.platform === 'powerpc' && m.profile.mmu === 'hash' ? 16384 : 2048;
  s += `HugePages_Total:   ${String(0).padStart(5)}\n`;
  s += `HugePages_Free:    ${String(0).padStart(5)}\n`;
  s += `HugePages_Rsvd:    ${String(0).padStart(5)}\n`;
  s += `HugePages_Surp:    ${String(0).padStart(5)}\n`;
  s += `Hugepagesize:   ${String(hpage).padStart(8)} kB\n`;
  s += `Hugetlb:        ${String(0).padStart(8)} kB\n`;
  if (m.platform === 'x86_64') {
    const d = x86DirectMap(m);
    s += `DirectMap4k:    ${String(d.k4).padStart(8)} kB\n`;
    s += `DirectMap2M:    ${String(d.m2).padStart(8)} kB\n`;
  } else if (m.profile.mmu === 'radix') {
    // arch_report_meminfo() (arch/powerpc/mm/book3s64/pgtable.c): radix only,
    // four lines; the 64k label is followed by one more space than the others.
    const d = radixDirectMap(m);
    s += `DirectMap4k:    ${String(d.k4 / 1024).padStart(8)} kB\n`;
    s += `DirectMap64k:    ${String(d.k64 / 1024).padStart(8)} kB\n`;
    s += `DirectMap2M:    ${String(d.m2 / 1024).padStart(8)} kB\n`;
    s += `DirectMap1G:    ${String(d.g1 / 1024).padStart(8)} kB\n`;
  }
  return s;
}

/** The text of one `/proc` file, computed when it is read. */
type ProcFile = () => string;

/**
 * The machine's `/proc`, by path: the machine-wide files, and
 * `/proc/PID/maps` and `smaps` of each running process (fs/proc/task_mmu.c:
 * `show_map()`, `show_smap()`), present exactly while the process runs.
 * Each file's text is computed from the subsystems' state when it is read.
 *
 * @public
 */
export class Procfs {
  readonly #fixed: ReadonlyMap<string, ProcFile>;
  readonly #m: Machine;

  /** The `/proc` of machine `m`. */
  constructor(m: Machine) {
    this.#m = m;
    this.#fixed = new Map<string, ProcFile>([
      ['/proc/buddyinfo', (): string => m.mm.buddyinfo()],
      ['/proc/cmdline', (): string => `${m.options.cmdline}\n`],
      ['/proc/devices', (): string => m.kernel.devt.procDevices()],
      ['/proc/iomem', (): string => m.kernel.iomem.procIomem()],
      ['/proc/meminfo', (): string => meminfoShow(m)],
      ['/proc/pagetypeinfo', (): string => m.mm.pagetypeinfo()],
      ['/proc/zoneinfo', (): string => m.mm.zoneinfo()],
    ]);
  }

  #files(): Map<string, ProcFile> {
    const files = new Map(this.#fixed);
    for (const mm of machineMms(this.#m)) {
      files.set(`/proc/${mm.pid}/maps`, () => mm.procMaps());
      files.set(`/proc/${mm.pid}/smaps`, () => mm.procSmaps());
      files.set(`/proc/${mm.pid}/status`, () => mm.procStatusMem());
    }
    return files;
  }

  /** The paths of the files there are now (`/proc/iomem`, `/proc/100/maps`, ...), in registration order. */
  paths(): string[] {
    return [...this.#files().keys()];
  }

  /** Whether `/proc` has the file `path` now. */
  has(path: string): boolean {
    if (typeof path !== 'string') throw new KernelError('EINVAL', `procfs: invalid path ${String(path)}`);
    return this.#files().has(path);
  }

  /** The whole text of the file `path`. Throws KernelError ENOENT (`PATH: No such file or directory`) for a file there is not. */
  read(path: string): string {
    if (typeof path !== 'string') throw new KernelError('EINVAL', `procfs: invalid path ${String(path)}`);
    const f = this.#files().get(path);
    if (f === undefined) throw new KernelError('ENOENT', `${path}: No such file or directory`);
    return f();
  }
}
