// Hot-plug requests that overlap what another owner holds: a pgmap, a block
// added through the probe file, a DIMM the guest refused. Each is refused
// with the kernel's words, and nothing the other owner holds changes.
import { describe, expect, it } from 'vitest';
import { parseRunArgs } from '../src/args.js';
import { bootShellMachine as bootMachine } from '../src/commands/shell-machine.js';
import { Shell } from '../src/shell/shell.js';

const MiB = 2 ** 20;

function session(opts: string[]): { m: ReturnType<typeof bootMachine>; sh: (line: string) => string } {
  const args = parseRunArgs('run', opts);
  if ('error' in args) throw new Error(args.error);
  if (!('machine' in args)) throw new Error('no machine options');
  const m = bootMachine(args.machine);
  let text = '';
  const sink = { write: (t: string): void => void (text += t) };
  const shell = new Shell(m, { strict: false, stdout: sink, stderr: sink });
  return {
    m,
    sh: (line: string): string => {
      text = '';
      shell.execLine(line);
      // Log times depend on how many commands ran before; the texts do not.
      return text.replace(/^\[ *[0-9]+\.[0-9]+\] /gm, '');
    },
  };
}

const X86 = ['-m', '4G,slots=4,maxmem=8G'];

describe('x86_64: a DIMM plugged over a pgmap', () => {
  it('is refused (-EEXIST, not enabled); its unplug removes nothing; the pgmap keeps its memmap', () => {
    const { m, sh } = session(X86);
    expect(sh('memremap 0x140000000 128M')).toContain('memmap: 2 MiB in RAM of node 0');
    const presentBefore = [...m.sparse.presentSectionNrs()];
    sh('dmesg -C');
    sh('object_add memory-backend-ram,id=mem1,size=128M');
    expect(sh('device_add pc-dimm,id=dimm1,memdev=mem1,addr=0x140000000')).toBe('acpi PNP0C80:00: add_memory failed\nacpi PNP0C80:00: acpi_memory_enable_device() error\n');
    expect(sh('dmesg')).toBe(
      'Unable to reserve System RAM region: 0000000140000000->0000000148000000\nacpi PNP0C80:00: add_memory failed\nacpi PNP0C80:00: acpi_memory_enable_device() error\n',
    );
    // The handler never attached: the eject is clean and the backend can go.
    expect(sh('device_del dimm1')).toBe('');
    expect(sh('info memory-devices')).toBe('');
    expect(sh('object_del mem1')).toBe('');
    expect([...m.sparse.presentSectionNrs()]).toEqual(presentBefore);
    expect(sh('lsmem -o RANGE,STATE')).not.toContain('0x0000000140000000');
    expect(sh('memremap')).toContain('memmap: 2 MiB in RAM of node 0');
    // Still one owner: a second memremap of the range is refused.
    expect(sh('memremap 0x140000000 128M')).toBe(
      'memremap: devm_request_mem_region: Device or resource busy\n',
    );
    expect(sh('memunmap pgmap0')).toBe('');
    expect(sh('memremap')).toBe('');
    expect(sh('memremap 0x140000000 128M')).toContain('pgmap1: [mem 0x140000000-0x147ffffff]');
  });

  it('remove_memory() over the pgmap is refused with -EINVAL and changes nothing', () => {
    const { m, sh } = session(X86);
    sh('memremap 0x140000000 128M');
    const present = [...m.sparse.presentSectionNrs()];
    const iomem = sh('cat /proc/iomem');
    const msg = 'removing memory fails, because memory [0x0000000140000000-0x0000000147ffffff] is not System RAM added by memory hotplug';
    for (const remove of [() => m.hotplug.removeMemory(0, 0x140000000, 128 * MiB), () => m.hotplug.__removeMemory(0, 0x140000000, 128 * MiB)]) {
      expect(remove).toThrow(expect.objectContaining({ errno: 'EINVAL', message: msg }));
    }
    // A range half System RAM, half pgmap: refused as a whole.
    expect(() => m.hotplug.removeMemory(0, 0x138000000, 256 * MiB)).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
    expect([...m.sparse.presentSectionNrs()]).toEqual(present);
    expect(sh('cat /proc/iomem')).toBe(iomem);
    expect(sh('memunmap pgmap0')).toBe('');
  });
});

describe('x86_64: a DIMM the guest refused', () => {
  it('(unaligned) ejects cleanly, and its backend can then be deleted', () => {
    const { sh } = session(X86);
    sh('object_add memory-backend-ram,id=odd,size=100M');
    expect(sh('device_add pc-dimm,id=d2,memdev=odd')).toBe(
      'Block size [0x8000000] unaligned hotplug range: start 0x140000000, size 0x6400000\nacpi PNP0C80:00: add_memory failed\nacpi PNP0C80:00: acpi_memory_enable_device() error\n',
    );
    expect(sh('object_del odd')).toBe("Error: object 'odd' is in use, can not be deleted\n");
    expect(sh('device_del d2')).toBe('');
    expect(sh('info memory-devices')).toBe('');
    expect(sh('object_del odd')).toBe('');
    // The slot and the address are free again.
    sh('object_add memory-backend-ram,id=m1,size=128M');
    expect(sh('device_add pc-dimm,id=d3,memdev=m1')).toBe('');
    expect(sh('lsmem -o RANGE,STATE')).toContain('0x0000000140000000-0x0000000147ffffff offline');
  });
});

describe('x86_64: a DIMM plugged over a probed block', () => {
  it('is refused with -EEXIST, and what the user stored in the block stays readable', () => {
    const { sh } = session(X86);
    expect(sh('echo 0x148000000 > /sys/devices/system/memory/probe')).toBe('');
    expect(sh('echo online_movable > /sys/devices/system/memory/memory41/state')).toBe('');
    sh('devmem 0x148000000 64 0x1122334455667788');
    sh('devmem 0x14fff8000 32 0xcafef00d');
    const lsmem = sh('lsmem');
    sh('dmesg -C');
    sh('object_add memory-backend-ram,id=m1,size=256M');
    // The DIMM's window is [0x140000000, 0x150000000): it covers block 41.
    expect(sh('device_add pc-dimm,id=d1,memdev=m1')).toBe('acpi PNP0C80:00: add_memory failed\nacpi PNP0C80:00: acpi_memory_enable_device() error\n');
    expect(sh('dmesg')).toContain('Unable to reserve System RAM region: 0000000140000000->0000000150000000');
    expect(sh('devmem 0x148000000 64')).toBe('0x1122334455667788\n');
    expect(sh('devmem 0x14fff8000 32')).toBe('0xCAFEF00D\n');
    expect(sh('lsmem')).toBe(lsmem);
    // The part of the DIMM the guest does not hold is the backend's.
    sh('devmem 0x140000000 64 0x55');
    expect(sh('device_del d1')).toBe('');
    expect(sh('devmem 0x148000000 64')).toBe('0x1122334455667788\n');
    expect(sh('devmem 0x140000000 64')).not.toBe('0x0000000000000055\n');
    expect(sh('lsmem')).toBe(lsmem);
  });
});

describe('powerpc hash: memremap -a of a device the altmap fills', () => {
  it('is refused with -ENXIO before anything is claimed', () => {
    const { m, sh } = session(['--platform', 'powerpc', '-m', '2G']);
    const iomem = sh('cat /proc/iomem');
    const present = [...m.sparse.presentSectionNrs()];
    expect(sh('memremap -a 0x478000000 16M')).toBe('memremap: memremap_pages: No such device or address\n');
    expect(sh('dmesg')).toContain('pgmap0 unable to satisfy requested alignment');
    expect(sh('memremap')).toBe('');
    expect(sh('cat /proc/iomem')).toBe(iomem);
    expect([...m.sparse.presentSectionNrs()]).toEqual(present);
    // Without the altmap the range maps, and unmaps.
    expect(sh('memremap 0x478000000 16M')).toContain('pgmap0: [mem 0x478000000-0x478ffffff]');
    expect(sh('memunmap pgmap0')).toBe('');
    expect(sh('cat /proc/iomem')).toBe(iomem);
  });
});
