// Memory failure on whole machines (mm/memory-failure.c, drivers/base/memory.c,
// fs/proc/meminfo.c, v5.13): /proc/meminfo's HardwareCorrupted follows
// num_poisoned_pages, and a ZONE_DEVICE pfn written to hard_offline_page goes
// to memory_failure_dev_pagemap(): ENXIO for the altmap's memmap pfns, EBUSY
// ("dax page: Failed") for a data page without a DAX mapping; soft offline
// refuses ZONE_DEVICE with EIO.
import { describe, expect, it } from 'vitest';
import { isKernelError } from '@zonedev/kernel';
import { DEFAULT_MACHINE, bootMachine } from '../src/index.js';
import type { Machine } from '../src/index.js';

const G = 2 ** 30;
const M = 2 ** 20;
const MEM = '/sys/devices/system/memory';

function errnoOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isKernelError(e)) return e.errno;
    throw e;
  }
  return 'ok';
}

function lines(m: Machine): string[] {
  return m.kernel.log.dmesg().split('\n').filter((l) => l !== '').map((l) => l.replace(/^\[[ .0-9]+\] /, ''));
}

const corrupted = (m: Machine): string | undefined => m.procfs.read('/proc/meminfo').split('\n').find((l) => l.startsWith('HardwareCorrupted:'));

describe('memory failure on a machine', () => {
  it('HardwareCorrupted counts the poisoned pages in kB', () => {
    const m = bootMachine({ ...DEFAULT_MACHINE, ramSize: 2 * G });
    expect(corrupted(m)).toBe('HardwareCorrupted:     0 kB');
    m.kernel.sysfs.write(`${MEM}/hard_offline_page`, '0x40000000\n');
    m.kernel.sysfs.write(`${MEM}/soft_offline_page`, '0x40001000\n');
    expect(corrupted(m)).toBe('HardwareCorrupted:     8 kB');
  });

  it('ZONE_DEVICE: the memmap pfns are ENXIO, a data page EBUSY, soft offline EIO', () => {
    const m = bootMachine({ ...DEFAULT_MACHINE, ramSize: 2 * G });
    const size = 256 * M;
    const start = 0x200000000; // above RAM, claimed by nobody
    m.pagemaps.map('generic', start, size, true, 0);
    const pfn0 = start / 4096;
    const data = pfn0 + size / 4096 - 1;
    m.kernel.log.clear();
    expect(errnoOf(() => m.kernel.sysfs.write(`${MEM}/hard_offline_page`, `0x${start.toString(16)}\n`))).toBe('ENXIO');
    expect(errnoOf(() => m.kernel.sysfs.write(`${MEM}/hard_offline_page`, `0x${(data * 4096).toString(16)}\n`))).toBe('EBUSY');
    expect(errnoOf(() => m.kernel.sysfs.write(`${MEM}/soft_offline_page`, `0x${(data * 4096).toString(16)}\n`))).toBe('EIO');
    expect(lines(m)).toEqual([
      `Memory failure: 0x${pfn0.toString(16)}: recovery action for dax page: Failed`,
      `Memory failure: 0x${data.toString(16)}: recovery action for dax page: Failed`,
    ]);
    const hw = m.mm.config.pageflags.PG_hwpoison!;
    expect(m.mm.memmap.testPageFlag(data, hw)).toBe(false);
    expect(corrupted(m)).toBe('HardwareCorrupted:     0 kB');
    // the pagemap's reference taken by get_dev_pagemap() was dropped: it unmaps
    expect(m.pagemaps.unmap(m.pagemaps.find(start)!)).toBe(true);
  });
});
