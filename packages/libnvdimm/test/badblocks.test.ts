// Media errors (drivers/nvdimm/badrange.c, bus.c nvdimm_clear_poison(),
// pmem.c pmem_do_read()/pmem_do_write()/pmem_clear_poison(), claim.c
// nsio_rw_bytes(), btt.c btt_read_pg()): a poisoned range in the bus's
// badrange shows in the region's and the disk's badblocks (sectors relative
// to the region and to the data area), reads over it fail with EIO, and a
// write clears it only where the provider can clear errors — never on e820
// or QEMU's NFIT, whose buses have no ND_CMD_CLEAR_ERROR.
import { describe, expect, it } from 'vitest';
import { SparseBacking } from '@zonedev/mmzone';
import { decodeBttSb } from '@zonedev/libnvdimm';
import { GiB, ND, bootMachine, createFsdax, ndSnapshot, tryRead } from './machine.js';
import type { Machine } from './machine.js';

const PMEM = 4 * GiB;
const UUID = '0e1d2c3b-4a59-4687-9786-a5b4c3d2e1f0';

function nfit(clearErrUnit?: number): Machine {
  const m = bootMachine({ pmem: [], noE820: true, media: new Map([[PMEM, new SparseBacking(GiB)]]) });
  m.nd.registerNfit({
    spaRanges: [{ start: PMEM, size: GiB }],
    dimms: [{ handle: 1, physId: 0, spaRange: 0 }],
    ...(clearErrUnit !== undefined ? { arsClearErrUnit: clearErrUnit } : {}),
  });
  return m;
}

function errno(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as { errno?: string }).errno ?? String(e);
  }
}

describe('badblocks on a raw namespace', () => {
  it('e820: the region and /dev/pmem0 list the sector; reads fail with EIO; a write clears pmem->bb only', () => {
    const m = bootMachine();
    const disk = m.nd.disk('pmem0')!;
    disk.write(8192, new Uint8Array(512).fill(7));
    m.nd.addBadrange(PMEM + 8192 + 100, 8);
    expect(tryRead(m, `${ND}/region0/badblocks`)).toBe('16 1\n');
    expect(tryRead(m, '/sys/block/pmem0/badblocks')).toBe('16 1\n');
    expect(errno(() => disk.read(8192, 512))).toBe('EIO');
    expect(errno(() => disk.read(8000, 200))).toBe('EIO');
    expect(disk.read(8192 + 512, 512)).toEqual(new Uint8Array(512));
    expect(disk.read(0, 8192)).toEqual(new Uint8Array(8192));
    // dax_direct_access() refuses the poisoned page
    expect(errno(() => disk.daxDirectAccess(2, 1))).toBe('EIO');
    expect(disk.daxDirectAccess(3, 1).nrPages).toBe(1);
    // e820 has no nd_desc->ndctl: nvdimm_clear_poison() pretends the whole length is cleared,
    // pmem_clear_poison() takes the sector out of pmem->bb; the bus's badrange and the region keep it
    expect(disk.write(8192, new Uint8Array(512).fill(1))).toBe(512);
    expect(tryRead(m, '/sys/block/pmem0/badblocks')).toBe('');
    expect(tryRead(m, `${ND}/region0/badblocks`)).toBe('16 1\n');
    expect(disk.read(8192, 512)).toEqual(new Uint8Array(512).fill(1));
    // a new report revalidates the poison (nd_pmem_notify): the old entry comes back from the badrange
    m.nd.addBadrange(PMEM + 65536, 512);
    expect(tryRead(m, '/sys/block/pmem0/badblocks')).toBe('16 1\n128 1\n');
  });

  it("QEMU's NFIT has no ARS commands: nvdimm_clear_poison() is -ENOTTY and a write over poison fails with EIO", () => {
    const m = nfit();
    const disk = m.nd.disk('pmem0')!;
    m.nd.addBadrange(PMEM + 4096, 512);
    expect(errno(() => disk.write(4096, new Uint8Array(512).fill(3)))).toBe('EIO');
    expect(tryRead(m, '/sys/block/pmem0/badblocks')).toBe('8 1\n');
    expect(errno(() => disk.read(4096, 512))).toBe('EIO');
  });

  it('long runs print in BB_MAX_LEN pieces, and a second report at the same start replaces the first', () => {
    const m = bootMachine();
    m.nd.addBadrange(PMEM, 600 * 512);
    expect(tryRead(m, `${ND}/region0/badblocks`)).toBe('0 512\n512 88\n');
    m.nd.addBadrange(PMEM, 512);
    expect(tryRead(m, `${ND}/region0/badblocks`)).toBe('0 1\n');
  });

  it('an NFIT with ARS clear-error support: a whole-sector write clears the error', () => {
    const m = nfit(512);
    const disk = m.nd.disk('pmem0')!;
    m.nd.addBadrange(PMEM + 4096, 1024);
    expect(tryRead(m, '/sys/block/pmem0/badblocks')).toBe('8 2\n');
    const data = new Uint8Array(1024).fill(0x5a);
    expect(disk.write(4096, data)).toBe(1024);
    expect(tryRead(m, '/sys/block/pmem0/badblocks')).toBe('');
    expect(tryRead(m, `${ND}/region0/badblocks`)).toBe('');
    expect(disk.read(4096, 1024)).toEqual(data);
  });

  it('refuses bad ranges with EINVAL and addresses outside persistent memory with ENXIO, changing nothing', () => {
    const m = bootMachine();
    const before = ndSnapshot(m);
    for (const [a, l] of [[Number.NaN, 512], [PMEM, -1], [PMEM, 1.5], [PMEM, 0], [2 ** 60, 512], [PMEM, 2 ** 64]] as const) {
      expect(errno(() => m.nd.addBadrange(a, l))).toBe('EINVAL');
    }
    expect(errno(() => m.nd.addBadrange(GiB / 2, 512))).toBe('ENXIO');
    expect(errno(() => m.nd.addBadrange('4294967296' as unknown as number, 512))).toBe('EINVAL');
    expect(ndSnapshot(m)).toEqual(before);
  });
});

describe('badblocks on fsdax and sector namespaces', () => {
  it('fsdax: the disk numbers sectors from the data area, the region from its start', () => {
    const m = bootMachine();
    createFsdax(m, 0, 'pmem', UUID);
    const disk = m.nd.disk('pmem0')!;
    const dataoff = disk.dataOffset;
    m.nd.addBadrange(PMEM + dataoff + 4096, 512);
    expect(tryRead(m, '/sys/block/pmem0/badblocks')).toBe('8 1\n');
    expect(tryRead(m, `${ND}/region0/badblocks`)).toBe(`${(dataoff + 4096) / 512} 1\n`);
    expect(errno(() => disk.read(4096, 4096))).toBe('EIO');
    expect(disk.read(0, 4096)).toEqual(new Uint8Array(4096));
  });

  it('BTT: a read of the poisoned data block is EIO (btt_read_pg); a write moves the sector to a good block', () => {
    const m = nfit(512);
    m.kernel.sysfs.write(`${ND}/namespace0.0/driver/unbind`, 'namespace0.0\n');
    m.kernel.sysfs.write(`${ND}/namespace0.0/holder_class`, 'btt\n');
    m.kernel.sysfs.write(`${ND}/btt0.0/uuid`, `${UUID}\n`);
    m.kernel.sysfs.write(`${ND}/btt0.0/sector_size`, '4096\n');
    m.kernel.sysfs.write(`${ND}/btt0.0/namespace`, 'namespace0.0\n');
    m.kernel.sysfs.write('/sys/bus/nd/drivers/nd_pmem/bind', 'btt0.0\n');
    const disk = m.nd.bttDisk('pmem0s')!;
    const data = new Uint8Array(4096).fill(0x42);
    disk.write(0, data);
    // BTT 1.1: the arena starts at namespace offset 4 KiB; find lba 0's block through the map, as btt-errors.sh does
    const sb = decodeBttSb(m.mm.physmem.read(PMEM + 4096, 4096));
    const mapEntry = new DataView(m.mm.physmem.read(PMEM + 4096 + Number(sb.mapoff), 4).buffer).getUint32(0, true);
    const block = mapEntry % 2 ** 30;
    const blockAddr = PMEM + 4096 + Number(sb.dataoff) + block * 4096;
    m.nd.addBadrange(blockAddr, 4096);
    expect(errno(() => disk.read(0, 4096))).toBe('EIO');
    expect(disk.read(4096, 4096)).toEqual(new Uint8Array(4096));
    const fresh = new Uint8Array(4096).fill(0x24);
    disk.write(0, fresh);
    expect(disk.read(0, 4096)).toEqual(fresh);
  });
});
