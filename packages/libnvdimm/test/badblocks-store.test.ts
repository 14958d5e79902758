// The writable bad-block list of a pmem disk (block/genhd.c
// disk_badblocks_store() → block/badblocks.c badblocks_store()/badblocks_set()/
// badblocks_clear()), and a port of ndctl v72 test/pmem-errors.sh as far as it
// runs without nfit_test.
//
// pmem-errors.sh creates a raw namespace on an nfit_test bus, puts 8 bad
// sectors in its middle (with `ndctl inject-error` + start-scrub/wait-scrub
// when the disk has none yet), checks that a direct read of them fails and a
// direct write of zeros clears them, then repeats the exercise through ext4
// and a DAX file, marking sectors bad with `echo "sector len" >
// /sys/block/pmemN/badblocks`. Here the bad sectors come from that sysfs
// file; the inject-error/ARS steps need nfit_test's error-injection and
// ARS commands (QEMU's NFIT and e820 have neither), and the ext4/filefrag
// and dax-errors steps need a filesystem, which the model does not have.
import { describe, expect, it } from 'vitest';
import { Badblocks } from '../src/badblocks.js';
import { GiB, bootMachine, ndSnapshot, tryRead } from './machine.js';
import type { Machine } from './machine.js';

const PMEM = 4 * GiB;
const BB = '/sys/block/pmem0/badblocks';

function errno(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as { errno?: string }).errno ?? String(e);
  }
}

describe('badblocks_set() / badblocks_clear()', () => {
  it('merges touching ranges, splits at BB_MAX_LEN, and clears from the middle', () => {
    const bb = new Badblocks();
    bb.set(10n, 5n, true);
    bb.set(15n, 5n, true);
    expect(bb.show()).toBe('10 10\n');
    // v5.13 inserts each BB_MAX_LEN piece of a new long range at the same slot, so the pieces
    // of one call land in reverse order (the table rewrite of later kernels sorts them)
    bb.set(100n, 1000n, true);
    expect(bb.show()).toBe('10 10\n612 488\n100 512\n');
    bb.clear(12n, 2n);
    expect(bb.show()).toBe('10 2\n14 6\n612 488\n100 512\n');
    bb.clear(0n, 2000n);
    expect(bb.show()).toBe('');
    expect(bb.check(0n, 2000n)).toBe(0);
  });

  it('holds at most 512 entries: the 513th set fails (ENOSPC through the store)', () => {
    const bb = new Badblocks();
    for (let i = 0; i < 512; i++) bb.set(BigInt(i * 10), 1n, true);
    expect(bb.count).toBe(512);
    expect(errno(() => bb.store('99999 1\n'))).toBe('ENOSPC');
    expect(bb.count).toBe(512);
    // extending an existing entry needs no new one
    bb.store('0 2\n');
    expect(bb.entries()[0]).toEqual([0n, 2n, true]);
  });
});

describe('/sys/block/pmem0/badblocks is writable', () => {
  it('"sector len" marks sectors bad; reads of them fail with EIO', () => {
    const m = bootMachine();
    const disk = m.nd.disk('pmem0')!;
    disk.write(4096, new Uint8Array(512).fill(9));
    m.kernel.sysfs.write(BB, '8 1\n');
    expect(tryRead(m, BB)).toBe('8 1\n');
    expect(errno(() => disk.read(4096, 512))).toBe('EIO');
    expect(disk.read(4608, 512)).toEqual(new Uint8Array(512));
    // without the newline, with leading blanks, and beyond the disk's end: accepted as the kernel accepts them
    m.kernel.sysfs.write(BB, '  100 2');
    m.kernel.sysfs.write(BB, '99999999999 1\n');
    expect(tryRead(m, BB)).toBe('8 1\n100 2\n99999999999 1\n');
    // the region's list and the bus's badrange do not change: only pmem->bb does
    expect(tryRead(m, '/sys/bus/nd/devices/region0/badblocks')).toBe('');
  });

  it('refuses what badblocks_store() refuses, with EINVAL, and changes nothing', () => {
    const m = bootMachine();
    m.kernel.sysfs.write(BB, '8 1\n');
    const media = m.mm.physmem.read(PMEM, 65536);
    const before = { ...ndSnapshot(m), bb: tryRead(m, BB) };
    for (const bad of ['', '\n', '8', '8\n', '8 0\n', '8 -1\n', '-8 1\n', '+8 1\n', '8 1 \n', '8 1x', '0x10 1\n', 'a b\n', '8 1z']) {
      expect(errno(() => m.kernel.sysfs.write(BB, bad)), JSON.stringify(bad)).toBe('EINVAL');
    }
    // a length that wraps to a negative int is refused too
    expect(errno(() => m.kernel.sysfs.write(BB, '8 4294967295\n'))).toBe('EINVAL');
    expect({ ...ndSnapshot(m), bb: tryRead(m, BB) }).toEqual(before);
    expect(m.mm.physmem.read(PMEM, 65536)).toEqual(media);
  });

  it('a btt disk has no disk->bb: it shows an empty line and refuses writes with ENXIO', () => {
    const m = bootMachine();
    const ND = '/sys/bus/nd/devices';
    m.kernel.sysfs.write(`${ND}/namespace0.0/driver/unbind`, 'namespace0.0\n');
    m.kernel.sysfs.write(`${ND}/btt0.0/uuid`, '0e1d2c3b-4a59-4687-9786-a5b4c3d2e1f0\n');
    m.kernel.sysfs.write(`${ND}/btt0.0/sector_size`, '4096\n');
    m.kernel.sysfs.write(`${ND}/btt0.0/namespace`, 'namespace0.0\n');
    m.kernel.sysfs.write('/sys/bus/nd/drivers/nd_pmem/bind', 'btt0.0\n');
    expect(tryRead(m, '/sys/block/pmem0s/badblocks')).toBe('\n');
    expect(errno(() => m.kernel.sysfs.write('/sys/block/pmem0s/badblocks', '8 1\n'))).toBe('ENXIO');
  });
});

/** pmem-errors.sh's first half, on the raw namespace of an e820 region. */
function pmemErrors(m: Machine): void {
  const disk = m.nd.disk('pmem0')!;
  const size = disk.capacity;
  // inject errors in the middle of the namespace, verify that reading fails
  const errSector = Math.floor(size / 512 / 2);
  const errCount = 8;
  expect(tryRead(m, BB)).toBe('');
  m.kernel.sysfs.write(BB, `${errSector} ${errCount}\n`);
  const [sector, len] = tryRead(m, BB).trim().split(' ').map(Number) as [number, number];
  expect(sector * 2).toBe(size / 512);
  expect(len).toBe(errCount);
  // dd if=/dev/pmem0 of=/dev/null iflag=direct bs=512 skip=$sector count=$len must fail
  for (let s = sector; s < sector + len; s++) expect(errno(() => disk.read(s * 512, 512))).toBe('EIO');
  // check that writing clears the errors: dd of=/dev/pmem0 if=/dev/zero oflag=direct bs=512 seek=$sector count=$len
  for (let s = sector; s < sector + len; s++) expect(disk.write(s * 512, new Uint8Array(512))).toBe(512);
  expect(tryRead(m, BB)).toBe('');
  expect(disk.read(sector * 512, len * 512)).toEqual(new Uint8Array(len * 512));
  // the hole-punch step marks the second sector of a page bad: a read of the page fails
  m.kernel.sysfs.write(BB, `${sector + 1} 1\n`);
  expect(errno(() => disk.read(sector * 512, 4096))).toBe('EIO');
}

describe('ndctl test/pmem-errors.sh (without nfit_test)', () => {
  it('e820 pmem: errors in the middle of the namespace fail reads and are cleared by writes', () => {
    pmemErrors(bootMachine());
  });
});
