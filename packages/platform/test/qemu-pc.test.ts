import { describe, expect, it } from 'vitest';
import { pcMemoryLayout, qemuE820, seabiosE820 } from '../src/x86/qemu-pc.js';
import { e820PrintTable } from '../src/x86/e820.js';

const G = 2 ** 30;
const M = 2 ** 20;

describe('QEMU pc memory layout (pc_init1, pc_memory_init)', () => {
  it('keeps RAM that fits below 3.5 GiB low', () => {
    expect(pcMemoryLayout({ ramSize: 2 * G })).toMatchObject({ belowFourG: 2 * G, aboveFourG: 0, deviceMemory: undefined });
    expect(pcMemoryLayout({ ramSize: 0xdff00000 })).toMatchObject({ belowFourG: 0xdff00000, aboveFourG: 0 });
  });
  it('splits at 3 GiB (gigabyte_align) once RAM reaches 3.5 GiB', () => {
    expect(pcMemoryLayout({ ramSize: 3.5 * G })).toMatchObject({ belowFourG: 3 * G, aboveFourG: 0.5 * G });
    expect(pcMemoryLayout({ ramSize: 4 * G })).toMatchObject({ belowFourG: 3 * G, aboveFourG: G });
    expect(pcMemoryLayout({ ramSize: 4 * G, gigabyteAlign: false })).toMatchObject({ belowFourG: 3.5 * G, aboveFourG: 0.5 * G });
    expect(pcMemoryLayout({ ramSize: 4 * G, maxRamBelow4g: 2 * G })).toMatchObject({ belowFourG: 2 * G, aboveFourG: 2 * G });
  });
  it('places device memory at the next GiB after high RAM, with 1 GiB per slot', () => {
    expect(pcMemoryLayout({ ramSize: 4 * G, slots: 4, maxmem: 16 * G }).deviceMemory).toEqual({ base: 5 * G, size: 16 * G });
    expect(pcMemoryLayout({ ramSize: 3.25 * G + 0.5 * G, slots: 2, maxmem: 8 * G }).deviceMemory).toEqual({ base: 5 * G, size: 6.25 * G });
    expect(pcMemoryLayout({ ramSize: 2 * G, slots: 1, maxmem: 4 * G }).deviceMemory).toEqual({ base: 4 * G, size: 3 * G });
    expect(pcMemoryLayout({ ramSize: 2 * G, slots: 1, maxmem: 4 * G, enforceAlignedDimm: false }).deviceMemory).toEqual({ base: 4 * G, size: 2 * G });
  });
  it('refuses what QEMU refuses, in its words', () => {
    expect(() => pcMemoryLayout({ ramSize: 4 * G, slots: 1, maxmem: 2 * G })).toThrow(
      'invalid value of -m option maxmem: maximum memory size (0x80000000) must be at least the initial memory size (0x100000000)',
    );
    expect(() => pcMemoryLayout({ ramSize: 4 * G, slots: 2 })).toThrow('memory slots were specified but maximum memory size (0x100000000) is equal to the initial memory size (0x100000000)');
    // QEMU 6.0 builds the hot-plug area for maxmem without slots (no slot: no DIMM in it).
    expect(pcMemoryLayout({ ramSize: 4 * G, maxmem: 8 * G }).deviceMemory).toEqual({ base: 5 * G, size: 4 * G });
    expect(() => pcMemoryLayout({ ramSize: G, slots: 257, maxmem: 8 * G })).toThrow('unsupported amount of memory slots: 257');
  });
});

describe('the E820 table of a QEMU/KVM guest with SeaBIOS', () => {
  it('holds the BIOS reservations around the RAM', () => {
    expect(e820PrintTable(seabiosE820(pcMemoryLayout({ ramSize: 4 * G })), 'BIOS-e820')).toEqual([
      'BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable',
      'BIOS-e820: [mem 0x000000000009fc00-0x000000000009ffff] reserved',
      'BIOS-e820: [mem 0x00000000000f0000-0x00000000000fffff] reserved',
      'BIOS-e820: [mem 0x0000000000100000-0x00000000bffdffff] usable',
      'BIOS-e820: [mem 0x00000000bffe0000-0x00000000bfffffff] reserved',
      'BIOS-e820: [mem 0x00000000feffc000-0x00000000feffffff] reserved',
      'BIOS-e820: [mem 0x00000000fffc0000-0x00000000ffffffff] reserved',
      'BIOS-e820: [mem 0x0000000100000000-0x000000013fffffff] usable',
    ]);
  });
  it('has no high RAM and no KVM range for a small TCG guest', () => {
    expect(e820PrintTable(seabiosE820(pcMemoryLayout({ ramSize: 1 * G, kvm: false })), 'BIOS-e820')).toEqual([
      'BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable',
      'BIOS-e820: [mem 0x000000000009fc00-0x000000000009ffff] reserved',
      'BIOS-e820: [mem 0x00000000000f0000-0x00000000000fffff] reserved',
      'BIOS-e820: [mem 0x0000000000100000-0x000000003ffdffff] usable',
      'BIOS-e820: [mem 0x000000003ffe0000-0x000000003fffffff] reserved',
      'BIOS-e820: [mem 0x00000000fffc0000-0x00000000ffffffff] reserved',
    ]);
  });
  it("QEMU's own etc/e820 holds only RAM (and the KVM range); device memory is not in it", () => {
    const l = pcMemoryLayout({ ramSize: 4 * G, slots: 2, maxmem: 8 * G });
    expect(qemuE820(l)).toEqual([
      { addr: 0, size: 3 * G, type: 1 },
      { addr: 4 * G, size: G, type: 1 },
      { addr: 0xfeffc000, size: 0x4000, type: 2 },
    ]);
    expect(seabiosE820(l).some((e) => e.addr >= 5 * G)).toBe(false);
  });
  it('needs 2 MiB of RAM', () => {
    expect(() => seabiosE820(pcMemoryLayout({ ramSize: M }))).toThrow('at least 2 MiB');
  });
});
