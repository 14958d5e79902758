// Shared steps of the device-dax and kmem tests: ndctl's devdax
// reconfiguration of namespaceR.0 through the dax seed, and an mm process
// space on the machine's memory.
import { MmStruct, MmSystem } from '@zonedev/mm';
import type { PagingArch } from '@zonedev/mm';
import { ND } from './machine.js';
import type { Machine } from './machine.js';

/** x86_64 4-level paging, as mm's tests describe it. */
export const X86_64_4LEVEL: PagingArch = { name: 'x86_64 4-level', pageShift: 12, levelBits: [9, 9, 9, 9] };

/** What ndctl create-namespace -m devdax writes (reference Part I section 3), with `map` pmem (dev) or ram (mem). */
export function createDevdax(m: Machine, region: number, uuid: string, align?: number, map: 'pmem' | 'ram' = 'pmem'): string {
  const fs = m.kernel.sysfs;
  const seed = fs.read(`${ND}/region${region}/dax_seed`).trim();
  const ns = `namespace${region}.0`;
  if (fs.exists(`${ND}/${ns}/driver`)) fs.write(`${ND}/${ns}/driver/unbind`, ns);
  fs.write(`${ND}/${seed}/uuid`, `${uuid}\n`);
  fs.write(`${ND}/${seed}/mode`, `${map}\n`);
  if (align !== undefined) fs.write(`${ND}/${seed}/align`, `${align}\n`);
  fs.write(`${ND}/${seed}/namespace`, `${ns}\n`);
  fs.write('/sys/bus/nd/drivers/dax_pmem/bind', `${seed}\n`);
  return seed;
}

/** The machine's mm with page tables, GUP finding pagemaps through memremap. */
export function mmSystem(m: Machine): MmSystem {
  return new MmSystem({ core: m.mm, arch: X86_64_4LEVEL, devPagemaps: m.memremap });
}

/** A new process on `sys`. */
export function newProcess(sys: MmSystem, pid = 100): MmStruct {
  return new MmStruct(pid, { system: sys });
}
