// drivers/nvdimm/pfn_devs.c, pfn.h: the fsdax info block, bit for bit, and its
// validation on every later enable; pmem.c: the disk on top of it.
import { describe, expect, it } from 'vitest';
import { KernelError } from '@zonedev/kernel';
import { SparseBacking } from '@zonedev/mmzone';
import { PFN_DEV, PFN_MAP, pfnTDevmap, pfnTToPfn, pfnTVal } from '@zonedev/memremap';
import { PfnMode, decodeNdPfnSb, encodeNdPfnSb, ndPfnLayout, ndSbChecksum } from '@zonedev/libnvdimm';
import { GiB, MiB, ND, bootMachine, createFsdax, ndSnapshot, tryRead, tryWrite } from './machine.js';

const UUID = 'b6b5c8a2-1e2f-4c3d-9a8b-7c6d5e4f3a21';
const COMPAT = 2 * MiB;

describe('nd_pfn_init layout (worked numbers)', () => {
  it('16 GiB map=dev align 2M: 258 MiB reserve, 16909336576 usable', () => {
    const l = ndPfnLayout(16 * GiB, 16 * GiB, 2 * MiB, PfnMode.PFN_MODE_PMEM, COMPAT, 4096);
    expect(l.dataoff).toBe(258 * MiB);
    expect(l.usable).toBe(16909336576);
  });
  it('16 GiB map=mem align 2M and map=dev align 1G', () => {
    expect(ndPfnLayout(16 * GiB, 16 * GiB, 2 * MiB, PfnMode.PFN_MODE_RAM, COMPAT, 4096).usable).toBe(17177772032);
    expect(ndPfnLayout(16 * GiB, 16 * GiB, GiB, PfnMode.PFN_MODE_PMEM, COMPAT, 4096).usable).toBe(16106127360);
  });
  it('1 GiB at 4 GiB: dataoff 18 MiB / npfns 257536 (dev), 2 MiB / 261632 (mem)', () => {
    const dev = ndPfnLayout(4 * GiB, GiB, 2 * MiB, PfnMode.PFN_MODE_PMEM, COMPAT, 4096);
    expect(dev).toEqual({ dataoff: 0x1200000, npfns: 257536, endTrunc: 0, usable: 1054867456 });
    const mem = ndPfnLayout(4 * GiB, GiB, 2 * MiB, PfnMode.PFN_MODE_RAM, COMPAT, 4096);
    expect(mem).toEqual({ dataoff: 0x200000, npfns: 261632, endTrunc: 0, usable: 1071644672 });
  });
  it('refuses a misaligned start, an unsatisfiable alignment and no mode', () => {
    expect(() => ndPfnLayout(4 * GiB + 4096, GiB, 2 * MiB, PfnMode.PFN_MODE_RAM, COMPAT, 4096, 'namespace0.0')).toThrow(
      'namespace0.0: start 0x0000000100001000 misaligned to 0x200000',
    );
    expect(() => ndPfnLayout(4 * GiB, 16 * MiB, GiB, PfnMode.PFN_MODE_RAM, COMPAT, 4096, 'namespace0.0')).toThrow(
      'namespace0.0 unable to satisfy requested alignment',
    );
    expect(() => ndPfnLayout(4 * GiB, GiB, 2 * MiB, PfnMode.PFN_MODE_NONE, COMPAT, 4096)).toThrow(KernelError);
  });
  it('checksums the worked blocks to the reference values', () => {
    const base = {
      signature: 'NVDIMM_PFN_INFO\0', uuid: new Uint8Array(16), parentUuid: new Uint8Array(16), flags: 0,
      versionMajor: 1, versionMinor: 4, startPad: 0, endTrunc: 0, align: 0x200000, pageSize: 4096, pageStructSize: 64,
    };
    const dev = encodeNdPfnSb({ ...base, dataoff: 0x1200000, npfns: 257536, mode: 2 });
    expect(decodeNdPfnSb(dev).checksum).toBe(0x71f9c54ce49a3672n);
    expect(ndSbChecksum(dev, 4088)).toBe(0x71f9c54ce49a3672n);
    const mem = encodeNdPfnSb({ ...base, dataoff: 0x200000, npfns: 261632, mode: 1 });
    expect(decodeNdPfnSb(mem).checksum).toBe(0x8038c15ee39a4671n);
  });
});

describe('fsdax through the pfn seed', () => {
  it('map=dev: writes the v1.4 info block at namespace +4K, maps the memmap into the pmem, advances the seed', () => {
    const m = bootMachine();
    const seed = createFsdax(m, 0, 'pmem', UUID);
    expect(seed).toBe('pfn0.0');
    const sb = decodeNdPfnSb(m.mm.physmem.read(4 * GiB + 4096, 4096));
    expect(sb.signature).toBe('NVDIMM_PFN_INFO\0');
    expect(sb).toMatchObject({ versionMajor: 1, versionMinor: 4, dataoff: 0x1200000, npfns: 257536, mode: 2, startPad: 0, endTrunc: 0, align: 0x200000, pageSize: 4096, pageStructSize: 64, flags: 0 });
    expect([...sb.parentUuid]).toEqual(new Array(16).fill(0));
    expect(ndSbChecksum(m.mm.physmem.read(4 * GiB + 4096, 4096), 4088)).toBe(sb.checksum);
    // the first 4 KiB stay untouched
    expect(m.mm.physmem.read(4 * GiB, 4096).every((b) => b === 0)).toBe(true);
    expect(tryRead(m, `${ND}/pfn0.0/uuid`)).toBe(`${UUID}\n`);
    expect(tryRead(m, `${ND}/pfn0.0/mode`)).toBe('pmem\n');
    expect(tryRead(m, `${ND}/pfn0.0/resource`)).toBe('0x101200000\n');
    expect(tryRead(m, `${ND}/pfn0.0/size`)).toBe('1054867456\n');
    expect(tryRead(m, `${ND}/namespace0.0/holder`)).toBe('pfn0.0\n');
    expect(tryRead(m, `${ND}/namespace0.0/mode`)).toBe('memory\n');
    expect(tryRead(m, `${ND}/region0/pfn_seed`)).toBe('pfn0.1\n');
    expect(m.kernel.sysfs.exists(`${ND}/pfn0.1`)).toBe(true);
    expect(tryRead(m, `${ND}/pfn0.0/block/pmem0/size`)).toBe(`${1054867456 / 512}\n`);
    const disk = m.nd.disk('pmem0')!;
    expect(disk.capacity).toBe(1054867456);
    expect(disk.sectors).toBe(2060288);
    // dax_direct_access: PFN_DEV|PFN_MAP at the start of the data
    const da = disk.daxDirectAccess(0, 1);
    expect(pfnTToPfn(da.pfn)).toBe((4 * GiB + 0x1200000) / 4096);
    expect(pfnTVal(da.pfn)).toBe(BigInt((4 * GiB + 0x1200000) / 4096) + PFN_DEV + PFN_MAP);
    expect(pfnTDevmap(da.pfn)).toBe(true);
    expect(disk.daxDirectAccess(0, 1).nrPages).toBe(1);
    expect(disk.daxDirectAccess(0, 300000).nrPages).toBe(257536);
    expect(disk.fsdaxSupported()).toBe(true);
    // the memmap lives in the altmap: vmemmap blocks backed by the device
    // 1 GiB of pfns = 16 MiB of struct pages = eight 2 MiB vmemmap blocks, all taken from the altmap
    const blocks = m.sparse.vmemmapBlocks().filter((b) => b.source === 'altmap');
    expect(blocks.length).toBe(8);
    expect(blocks.every((b) => b.pfn >= 4 * GiB / 4096 && b.pfn < (4 * GiB + 0x1200000) / 4096)).toBe(true);
    expect(m.kernel.iomem.procIomem()).toContain('  100000000-13fffffff : namespace0.0\n');
  });

  it('map=mem keeps the memmap in RAM and the data at +2 MiB', () => {
    const m = bootMachine();
    createFsdax(m, 0, 'ram', UUID);
    const sb = decodeNdPfnSb(m.mm.physmem.read(4 * GiB + 4096, 4096));
    expect(sb).toMatchObject({ dataoff: 0x200000, npfns: 261632, mode: 1 });
    expect(m.nd.disk('pmem0')!.capacity).toBe(1071644672);
    expect(tryRead(m, `${ND}/pfn0.0/resource`)).toBe('0x100200000\n');
  });

  it('reads and writes the data area at byte offsets, cut at the end', () => {
    const m = bootMachine();
    createFsdax(m, 0, 'pmem', UUID);
    const disk = m.nd.disk('pmem0')!;
    const text = new TextEncoder().encode('hello pmem\n');
    expect(disk.write(0, text)).toBe(text.length);
    expect(m.mm.physmem.read(4 * GiB + 0x1200000, text.length)).toEqual(text);
    expect(disk.read(0, text.length)).toEqual(text);
    expect(disk.write(disk.capacity - 4, new Uint8Array(8).fill(7))).toBe(4);
    expect(disk.read(disk.capacity - 4, 100)).toEqual(new Uint8Array(4).fill(7));
    expect(disk.read(disk.capacity, 10).length).toBe(0);
    const into = new Uint8Array(16);
    expect(disk.readInto(disk.capacity - 4, into)).toBe(4);
    expect([...into.subarray(0, 5)]).toEqual([7, 7, 7, 7, 0]);
    expect(() => disk.write(disk.capacity, new Uint8Array(1))).toThrow(expect.objectContaining({ errno: 'ENOSPC' }));
    expect(() => disk.read(-1, 1)).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
    expect(() => disk.daxDirectAccess(257536, 1)).toThrow(expect.objectContaining({ errno: 'ERANGE' }));
  });

  it('refuses bad writes to the seed with the kernel errno and changes nothing', () => {
    const m = bootMachine();
    const before = ndSnapshot(m);
    expect(tryWrite(m, `${ND}/pfn0.0/mode`, 'fast\n')).toBe('EINVAL');
    expect(tryWrite(m, `${ND}/pfn0.0/align`, '8192\n')).toBe('EINVAL');
    expect(tryWrite(m, `${ND}/pfn0.0/align`, 'big\n')).toBe('EINVAL');
    expect(tryWrite(m, `${ND}/pfn0.0/uuid`, 'not-a-uuid\n')).toBe('EINVAL');
    expect(tryWrite(m, `${ND}/pfn0.0/namespace`, 'region0\n')).toBe('EINVAL');
    expect(tryWrite(m, `${ND}/pfn0.0/namespace`, 'namespace0.7\n')).toBe('ENODEV');
    expect(tryWrite(m, `${ND}/namespace0.0/holder_class`, 'pfn\n')).toBe('EBUSY'); // enabled
    expect(tryWrite(m, '/sys/bus/nd/drivers/nd_pmem/bind', 'pfn0.0\n')).toBe('ENODEV'); // no namespace
    expect(ndSnapshot(m)).toEqual(before);
  });

  it('enable fails without a uuid (-ENODEV), and with the namespace still enabled (-EBUSY)', () => {
    const m = bootMachine();
    const media = (): string => Buffer.from(m.mm.physmem.read(4 * GiB, 3 * MiB)).toString('hex');
    const bytes = media();
    m.kernel.sysfs.write(`${ND}/pfn0.0/mode`, 'pmem\n');
    m.kernel.sysfs.write(`${ND}/pfn0.0/namespace`, 'namespace0.0\n');
    expect(tryWrite(m, '/sys/bus/nd/drivers/nd_pmem/bind', 'pfn0.0\n')).toBe('ENODEV');
    m.kernel.sysfs.write(`${ND}/pfn0.0/uuid`, `${UUID}\n`);
    // namespace0.0 is still bound raw: its region is taken
    expect(tryWrite(m, '/sys/bus/nd/drivers/nd_pmem/bind', 'pfn0.0\n')).toBe('ENODEV');
    expect(m.kernel.log.dmesg()).toContain('nd_pmem pfn0.0: could not reserve region [mem 0x100000000-0x13fffffff]');
    expect(media() === bytes).toBe(true);
    expect(tryRead(m, `${ND}/region0/pfn_seed`)).toBe('pfn0.0\n');
  });

  it('mode compares only len - 1 bytes, as the v5.13 store does', () => {
    const m = bootMachine();
    m.kernel.sysfs.write(`${ND}/pfn0.0/mode`, 'ra\n');
    expect(tryRead(m, `${ND}/pfn0.0/mode`)).toBe('ram\n');
    m.kernel.sysfs.write(`${ND}/pfn0.0/mode`, '\n');
    expect(tryRead(m, `${ND}/pfn0.0/mode`)).toBe('pmem\n');
    m.kernel.sysfs.write(`${ND}/pfn0.0/mode`, 'none');
    expect(tryRead(m, `${ND}/pfn0.0/mode`)).toBe('none\n');
    expect(tryWrite(m, `${ND}/pfn0.0/mode`, 'ramx\n')).toBe('EINVAL');
  });

  it('refuses settings changes while bound (-EBUSY)', () => {
    const m = bootMachine();
    createFsdax(m, 0, 'pmem', UUID);
    const before = ndSnapshot(m);
    expect(tryWrite(m, `${ND}/pfn0.0/mode`, 'ram\n')).toBe('EBUSY');
    expect(tryWrite(m, `${ND}/pfn0.0/align`, '4096\n')).toBe('EBUSY');
    expect(tryWrite(m, `${ND}/pfn0.0/uuid`, `${UUID}\n`)).toBe('EBUSY');
    expect(tryWrite(m, `${ND}/pfn0.0/namespace`, '\n')).toBe('EBUSY');
    expect(tryWrite(m, `${ND}/namespace0.0/holder_class`, 'btt\n')).toBe('EBUSY');
    expect(ndSnapshot(m)).toEqual(before);
  });

  it('re-enable validates: a changed mode is -EOPNOTSUPP and the media stay untouched', () => {
    const m = bootMachine();
    createFsdax(m, 0, 'pmem', UUID);
    m.kernel.sysfs.write(`${ND}/pfn0.0/driver/unbind`, 'pfn0.0\n');
    expect(m.nd.disk('pmem0')).toBeUndefined();
    expect(m.kernel.iomem.procIomem()).not.toContain('namespace0.0');
    m.kernel.sysfs.write(`${ND}/pfn0.0/mode`, 'ram\n');
    const bytes = m.mm.physmem.read(4 * GiB, 4 * 4096);
    expect(tryWrite(m, '/sys/bus/nd/drivers/nd_pmem/bind', 'pfn0.0\n')).toBe('ENODEV');
    expect(m.kernel.log.dmesg()).toContain('nd_pmem pfn0.0: init failed, settings mismatch');
    expect(m.mm.physmem.read(4 * GiB, 4 * 4096)).toEqual(bytes);
    m.kernel.sysfs.write(`${ND}/pfn0.0/mode`, 'pmem\n');
    expect(tryWrite(m, '/sys/bus/nd/drivers/nd_pmem/bind', 'pfn0.0\n')).toBeUndefined();
    expect(m.nd.disk('pmem0')!.capacity).toBe(1054867456);
  });
});

describe('media that survive a reboot', () => {
  it('a re-probe of the same media finds the same mode, uuid and data', () => {
    const media = new SparseBacking(GiB);
    const m1 = bootMachine({ media: new Map([[4 * GiB, media]]) });
    createFsdax(m1, 0, 'pmem', UUID);
    const data = new TextEncoder().encode('survives');
    m1.nd.disk('pmem0')!.write(12345, data);

    const m2 = bootMachine({ media: new Map([[4 * GiB, media]]) });
    // namespace0.0 finds the info block and comes back as a new pfn device
    expect(tryRead(m2, `${ND}/namespace0.0/holder`)).toBe('pfn0.1\n');
    expect(m2.kernel.sysfs.exists(`${ND}/namespace0.0/driver`)).toBe(false);
    expect(tryRead(m2, `${ND}/pfn0.1/uuid`)).toBe(`${UUID}\n`);
    expect(tryRead(m2, `${ND}/pfn0.1/mode`)).toBe('pmem\n');
    expect(tryRead(m2, `${ND}/pfn0.1/align`)).toBe('2097152\n');
    expect(tryRead(m2, `${ND}/pfn0.1/size`)).toBe('1054867456\n');
    expect(tryRead(m2, `${ND}/region0/pfn_seed`)).toBe('pfn0.0\n');
    expect(m2.nd.disk('pmem0')!.read(12345, data.length)).toEqual(data);
  });

  it('a torn info block (bad checksum) is caught by nd_pfn_validate: the namespace comes up raw', () => {
    const media = new SparseBacking(GiB);
    const m1 = bootMachine({ media: new Map([[4 * GiB, media]]) });
    createFsdax(m1, 0, 'pmem', UUID);
    // tear one byte of the npfns field
    const b = new Uint8Array(1);
    media.read(4096 + 64, b);
    b[0] = b[0]! + 1;
    media.write(4096 + 64, b);

    const m2 = bootMachine({ media: new Map([[4 * GiB, media]]) });
    expect(tryRead(m2, `${ND}/namespace0.0/holder`)).toBe('\n');
    expect(m2.kernel.sysfs.list(ND)).toEqual(['btt0.0', 'dax0.0', 'namespace0.0', 'ndbus0', 'pfn0.0', 'region0']);
    expect(m2.nd.disk('pmem0')!.capacity).toBe(GiB);
  });

  it('legacy pmem without a persistent backing is RAM: nothing survives', () => {
    const m1 = bootMachine();
    createFsdax(m1, 0, 'pmem', UUID);
    const m2 = bootMachine();
    expect(tryRead(m2, `${ND}/namespace0.0/holder`)).toBe('\n');
  });
});

describe('tracing', () => {
  it('shows the kernel functions of an fsdax enable in the function graph', () => {
    const m = bootMachine();
    m.kernel.tracer.on();
    createFsdax(m, 0, 'pmem', UUID);
    m.kernel.tracer.off();
    const names = m.kernel.tracer.events.map((e) => e.name);
    const order = ['nd_pmem_probe', 'pmem_attach_disk', 'nd_pfn_init', 'nd_pfn_validate', 'devm_memremap_pages'];
    const at = order.map((n) => names.indexOf(n));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });
});
