// Boot limits against QEMU 6.0 and Linux v5.13: RAM beyond what x86_64's
// 4-level paging can map is cut at MAX_ARCH_PFN by e820__end_of_ram_pfn()
// (arch/x86/kernel/e820.c), and QEMU 6.0's pc machine places it without a
// phys-bits check, so such a guest boots with 64 TiB.
import { describe, expect, it } from 'vitest';
import { DEFAULT_MACHINE, bootMachine } from '@zonedev/platform';

const G = 2 ** 30;
const T = 2 ** 40;

/** The dmesg lines without their timestamps. */
function lines(text: string): string[] {
  return text.split('\n').map((l) => l.replace(/^\[ *[0-9.]+\] /, ''));
}

describe('RAM above MAX_ARCH_PFN (x86_64, 4-level paging: 2^34 pfns)', () => {
  it('boots -m 100T with the first last_pfn capped at max_arch_pfn and the node ending at 64 TiB', () => {
    const m = bootMachine({ ...DEFAULT_MACHINE, ramSize: 100 * T, maxmem: 100 * T });
    const dmesg = lines(m.kernel.log.dmesg());
    // QEMU puts 3 GiB below 4 GiB and the rest above: [4G, 100T + 1G).
    expect(dmesg).toContain('BIOS-e820: [mem 0x0000000100000000-0x000064003fffffff] usable');
    expect(dmesg.filter((l) => l.startsWith('last_pfn = '))).toEqual([
      'last_pfn = 0x400000000 max_arch_pfn = 0x400000000',
      'last_pfn = 0xbffe0 max_arch_pfn = 0x400000000',
    ]);
    expect(dmesg).toContain('  Normal   [mem 0x0000000100000000-0x00003fffffffffff]');
    expect(dmesg).toContain('  node   0: [mem 0x0000000100000000-0x00003fffffffffff]');
    expect(m.procfs.read('/proc/meminfo')).toMatch(/^MemTotal: +67644670664 kB\n/);
  });

  it('leaves a 5-level guest its RAM: max_arch_pfn is 2^40 there', () => {
    const m = bootMachine({ ...DEFAULT_MACHINE, mmu: '5level', ramSize: 8 * G, maxmem: 8 * G });
    const dmesg = lines(m.kernel.log.dmesg());
    expect(dmesg.filter((l) => l.startsWith('last_pfn = '))[0]).toBe('last_pfn = 0x240000 max_arch_pfn = 0x10000000000');
  });
});
