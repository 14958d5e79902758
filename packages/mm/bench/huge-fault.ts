// Benchmark of @zonedev/mm's huge faults, reported as a ratio (pnpm bench).
//
// Faulting in 1 GiB of a device-dax-style mapping (a driver's vm_ops serving
// devmap pfns as dev_dax_huge_fault() does) with a 2 MiB align (512 faults
// through huge_fault(PE_SIZE_PMD) -> vmf_insert_pfn_pmd) against the same
// with a 4 KiB align (262144 faults through fault -> vmf_insert_mixed), and
// with a 1 GiB align (one fault through huge_fault(PE_SIZE_PUD) ->
// vmf_insert_pfn_pud) against the 4 KiB align: reported. The kernel takes
// 512 times fewer faults with 2 MiB; the ratio says what that is worth in
// the model. Each run maps, faults in and unmaps the GiB; timings are the
// process's CPU time, median over rounds alternating which side goes
// first, after MM_BENCH_WARMUP (default 1) untimed runs of each.
import {
  FAULT_FLAG_WRITE, MAP_FIXED, MAP_SHARED, PE_SIZE_PMD, PE_SIZE_PUD, PROT_READ, PROT_WRITE, VM_FAULT_FALLBACK,
  VM_MIXEDMAP, handleMmFault, vmfInsertMixed, vmfInsertPfnPmd, vmfInsertPfnPud,
} from '../src/index.js';
import type { MmapFile, MmStruct, Vma, VmFault } from '../src/index.js';
import { GiB, bootMachine, newMm } from '../test/machine.js';

const ROUNDS = Number(process.env['MM_BENCH_ROUNDS'] ?? 5);
const WARMUP = Number(process.env['MM_BENCH_WARMUP'] ?? 1);
const PFN_DEV_MAP = 2n ** 61n + 2n ** 60n;
const BASE = (16 * GiB) / 4096;
const VA = 0x7f0000000000;

/** A device file whose faults insert entries of `align` bytes, as device-dax's. */
function daxLike(align: number): MmapFile {
  const ops: Vma['vmOps'] = {
    hugeFault: (vmf: VmFault, pe: number) => {
      const write = vmf.flags % 2 === 1;
      if (pe === PE_SIZE_PUD && align === GiB) return vmfInsertPfnPud(vmf, { pfn: BASE, flags: PFN_DEV_MAP }, write);
      if (pe === PE_SIZE_PMD && align === 2 ** 21) {
        const off = vmf.address - (vmf.address % align) - vmf.vma.vmStart;
        return vmfInsertPfnPmd(vmf, { pfn: BASE + off / 4096, flags: PFN_DEV_MAP }, write);
      }
      return VM_FAULT_FALLBACK;
    },
    fault: (vmf: VmFault) => vmfInsertMixed(vmf.vma, vmf.address, { pfn: BASE + vmf.pgoff, flags: PFN_DEV_MAP }),
    pagesize: () => align,
  };
  return {
    path: '/dev/dax0.0', devMajor: 0, devMinor: 6, ino: 1000, readable: true, writable: true, dax: true,
    mmap: (v: Vma) => {
      v.vmFlags += VM_MIXEDMAP;
      v.vmOps = ops;
      return 0;
    },
  };
}

const m = bootMachine();
const mm: MmStruct = newMm(m);
let faults = 0;

function faultInGiB(file: MmapFile, align: number): void {
  const a = mm.mmap({ addr: VA, length: GiB, prot: PROT_READ + PROT_WRITE, flags: MAP_SHARED + MAP_FIXED, file });
  const vma = mm.findVma(a)!;
  for (let at = a; at < a + GiB; at += align) {
    handleMmFault(vma, at, FAULT_FLAG_WRITE);
    faults++;
  }
  mm.munmap(a, GiB);
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
function cpu(fn: () => void): number {
  gc();
  const c = process.cpuUsage();
  fn();
  const d = process.cpuUsage(c);
  return (d.user + d.system) / 1000;
}

const cases = [
  { name: '1 GiB of /dev/dax-style faults, 2 MiB align / 4 KiB align', align: 2 ** 21 },
  { name: '1 GiB of /dev/dax-style faults, 1 GiB align / 4 KiB align', align: GiB },
];
const small = daxLike(4096);
console.log('@zonedev/mm huge faults');
for (const c of cases) {
  const big = daxLike(c.align);
  for (let w = 0; w < WARMUP; w++) {
    faultInGiB(big, c.align);
    faultInGiB(small, 4096);
  }
  const subj: number[] = [];
  const base: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) {
      base.push(cpu(() => faultInGiB(small, 4096)));
      subj.push(cpu(() => faultInGiB(big, c.align)));
    } else {
      subj.push(cpu(() => faultInGiB(big, c.align)));
      base.push(cpu(() => faultInGiB(small, 4096)));
    }
  }
  const med = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? NaN;
  const ratio = med(subj) / med(base);
  console.log(
    `  ${c.name}: cpu ${med(subj).toFixed(2)} ms / ${med(base).toFixed(1)} ms = ${ratio.toFixed(4)} ` +
      `(${GiB / c.align} faults / ${GiB / 4096})  reported`,
  );
}
if (faults < 0) console.log(faults);
