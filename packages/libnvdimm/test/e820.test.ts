// drivers/nvdimm/e820.c, bus.c, region*.c, namespace_devs.c: the topology of a
// memmap=1G!4G machine, its sysfs, /proc/iomem and the raw pmem disk.
import { describe, expect, it } from 'vitest';
import { GiB, ND, bootMachine, tryRead, tryWrite } from './machine.js';

describe('e820 legacy pmem at boot', () => {
  it('creates ndbus0, region0, namespace0.0 and the seeds', () => {
    const m = bootMachine();
    expect(m.kernel.sysfs.list(ND)).toEqual(['btt0.0', 'dax0.0', 'namespace0.0', 'ndbus0', 'pfn0.0', 'region0']);
    expect(m.kernel.sysfs.realpath(`${ND}/namespace0.0`)).toBe('/sys/devices/platform/e820_pmem/ndbus0/region0/namespace0.0');
    expect(m.kernel.sysfs.read(`${ND}/ndbus0/provider`)).toBe('e820\n');
    expect(m.kernel.sysfs.list('/sys/bus/nd/drivers')).toEqual(['dax_pmem', 'nd_bus', 'nd_pmem', 'nd_region', 'nvdimm']);
  });

  it('shows the region attributes in the kernel formats', () => {
    const m = bootMachine();
    const r = (a: string): string => tryRead(m, `${ND}/region0/${a}`);
    expect(r('size')).toBe(`${GiB}\n`);
    expect(r('align')).toBe('0x1000000\n');
    expect(r('nstype')).toBe('4\n');
    expect(r('mappings')).toBe('0\n');
    expect(r('btt_seed')).toBe('btt0.0\n');
    expect(r('pfn_seed')).toBe('pfn0.0\n');
    expect(r('dax_seed')).toBe('dax0.0\n');
    expect(r('namespace_seed')).toBe('\n');
    expect(r('read_only')).toBe('0\n');
    expect(r('resource')).toBe('0x100000000\n');
    expect(r('init_namespaces')).toBe('1/1\n');
    expect(r('max_available_extent')).toBe('0\n');
    expect(r('devtype')).toBe('nd_pmem\n');
    expect(r('modalias')).toBe('nd:t2\n');
    expect(r('numa_node')).toBe('0\n');
    expect(r('target_node')).toBe('0\n');
    for (const hidden of ['deep_flush', 'persistence_domain', 'available_size', 'set_cookie']) {
      expect(m.kernel.sysfs.exists(`${ND}/region0/${hidden}`)).toBe(false);
    }
    expect(r('driver').length).toBeGreaterThan(0);
    expect(m.kernel.sysfs.readlink(`${ND}/region0/driver`)).toContain('nd_region');
  });

  it('binds namespace0.0 raw with struct pages in RAM: mode "memory", /dev/pmem0 of the whole namespace', () => {
    const m = bootMachine();
    const n = (a: string): string => tryRead(m, `${ND}/namespace0.0/${a}`);
    expect(n('mode')).toBe('memory\n');
    expect(n('size')).toBe(`${GiB}\n`);
    expect(n('nstype')).toBe('4\n');
    expect(n('holder')).toBe('\n');
    expect(n('holder_class')).toBe('\n');
    expect(n('force_raw')).toBe('0\n');
    expect(n('resource')).toBe('0x100000000\n');
    expect(n('devtype')).toBe('nd_namespace_io\n');
    expect(n('modalias')).toBe('nd:t4\n');
    expect(m.kernel.sysfs.exists(`${ND}/namespace0.0/uuid`)).toBe(false);
    expect(m.kernel.sysfs.readlink(`${ND}/namespace0.0/driver`)).toContain('nd_pmem');
    expect(m.kernel.sysfs.read(`${ND}/namespace0.0/block/pmem0/size`)).toBe(`${GiB / 512}\n`);
    expect(m.kernel.sysfs.read('/sys/block/pmem0/size')).toBe(`${GiB / 512}\n`);
    expect(m.kernel.iomem.procIomem()).toContain('100000000-13fffffff : Persistent Memory (legacy)\n  100000000-13fffffff : namespace0.0\n');
    const disk = m.nd.disk('pmem0')!;
    expect(disk.capacity).toBe(GiB);
    expect(disk.fsdaxSupported()).toBe(true);
    const dmesg = m.kernel.log.lines.map((r) => r.text);
    expect(dmesg).toContain('nd_pmem namespace0.0: unable to guarantee persistence of writes');
  });

  it('keeps seeds unbound and answers -ENXIO for their bound-only attributes', () => {
    const m = bootMachine();
    const p = (a: string): string => tryRead(m, `${ND}/pfn0.0/${a}`);
    expect(p('mode')).toBe('none\n');
    expect(p('align')).toBe('2097152\n');
    expect(p('uuid')).toBe('\n');
    expect(p('namespace')).toBe('\n');
    expect(p('resource')).toBe('ENXIO');
    expect(p('size')).toBe('ENXIO');
    expect(p('supported_alignments')).toBe('4096 2097152 1073741824 \n');
    expect(p('devtype')).toBe('nd_pfn\n');
    expect(tryRead(m, `${ND}/dax0.0/devtype`)).toBe('nd_dax\n');
    expect(tryRead(m, `${ND}/dax0.0/modalias`)).toBe('nd:t7\n');
    expect(tryRead(m, `${ND}/btt0.0/sector_size`)).toBe('512 520 528 4096 4104 4160 4224 \n');
    expect(tryRead(m, `${ND}/btt0.0/size`)).toBe('ENXIO');
    expect(tryRead(m, `${ND}/btt0.0/log_zero_flags`)).toBe('Y\n');
    expect(m.kernel.sysfs.exists(`${ND}/pfn0.0/driver`)).toBe(false);
  });

  it('refuses region writes the kernel refuses', () => {
    const m = bootMachine();
    expect(tryWrite(m, `${ND}/region0/align`, '0x200000\n')).toBe('ENXIO');
    expect(tryRead(m, `${ND}/region0/align`)).toBe('0x1000000\n');
    expect(tryWrite(m, `${ND}/region0/read_only`, 'maybe\n')).toBe('EINVAL');
    expect(tryWrite(m, `${ND}/region0/read_only`, '1\n')).toBeUndefined();
    expect(tryRead(m, `${ND}/region0/read_only`)).toBe('1\n');
  });

  it('does nothing without legacy ranges', () => {
    const m = bootMachine({ pmem: [], noE820: true });
    expect(m.nd.registerE820Pmem()).toBeUndefined();
    expect(m.kernel.sysfs.list(ND)).toEqual([]);
  });
});
