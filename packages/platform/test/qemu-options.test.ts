// QEMU's option syntax as the boot options take it: `-m` sizes
// (`qemu_strtosz_MiB()`), `-m size=,slots=,maxmem=`, and the QemuOpts/keyval
// strings of the monitor's object_add and device_add.
import { describe, expect, it } from 'vitest';
import { parseMemoryOption, parseQemuSize } from '../src/machine/options.js';
import { parseQemuOpts } from '../src/machine/qemu.js';
import { acpiMemoryDeviceName } from '../src/machine/guest-hotplug.js';

const G = 2 ** 30;

describe("QEMU's -m syntax", () => {
  it('reads sizes with optional suffixes, MiB by default', () => {
    expect(parseQemuSize('512')).toBe(512 * 2 ** 20);
    expect(parseQemuSize('4G')).toBe(4 * G);
    expect(parseQemuSize('1.5g')).toBe(1.5 * G);
    expect(parseQemuSize('64k')).toBe(65536);
    expect(parseQemuSize('4X')).toBeUndefined();
  });
  it('reads size=, slots= and maxmem=', () => {
    expect(parseMemoryOption('4G,slots=4,maxmem=32G')).toEqual({ ramSize: 4 * G, slots: 4, maxmem: 32 * G });
    expect(parseMemoryOption('size=2G')).toEqual({ ramSize: 2 * G, slots: 0, maxmem: 2 * G });
    expect(parseMemoryOption('1k')).toEqual({ ramSize: 8192, slots: 0, maxmem: 8192 });
    expect(parseMemoryOption('4G,foo=1')).toEqual({ error: "-m 4G,foo=1: unknown parameter 'foo'" });
    expect(parseMemoryOption('0')).toEqual({ error: "-m 0: invalid size '0'" });
    expect(parseMemoryOption('slots=2')).toEqual({ error: "-m slots=2: missing size" });
  });

  it("refuses slots= without maxmem= with QEMU 6.0's text, even slots=0", () => {
    expect(parseMemoryOption('3G,slots=4')).toEqual({ error: "-m 3G,slots=4: invalid -m option value: missing 'maxmem' option" });
    expect(parseMemoryOption('1G,slots=0')).toEqual({ error: "-m 1G,slots=0: invalid -m option value: missing 'maxmem' option" });
    expect(parseMemoryOption('1G,maxmem=2G')).toEqual({ ramSize: G, slots: 0, maxmem: 2 * G });
  });
});

describe('QemuOpts / keyval parsing', () => {
  it('reads the implied key, key=value pairs, bare flags and ,, escapes', () => {
    const { opts } = parseQemuOpts('pc-dimm,id=d1,memdev=m1,,x,flag', 'driver');
    expect([...opts]).toEqual([
      ['driver', 'pc-dimm'],
      ['id', 'd1'],
      ['memdev', 'm1,x'],
      ['flag', 'on'],
    ]);
  });
});

describe('the guest names the ACPI memory device of each slot', () => {
  it('PNP0C80:<slot> in "%02x", as acpi_device_set_name() does', () => {
    expect(acpiMemoryDeviceName(0)).toBe('PNP0C80:00');
    expect(acpiMemoryDeviceName(1)).toBe('PNP0C80:01');
    expect(acpiMemoryDeviceName(10)).toBe('PNP0C80:0a');
    expect(acpiMemoryDeviceName(255)).toBe('PNP0C80:ff');
  });
});
