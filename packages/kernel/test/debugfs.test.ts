import { describe, expect, it } from 'vitest';
import {
  DEBUGFS_MOUNTPOINT, Kernel, KernelError, debugfsCreateAttribute, debugfsCreateDir, debugfsCreateU16, debugfsCreateU32, debugfsCreateU64,
  debugfsCreateX32, debugfsCreateX64, debugfsRemoveRecursive,
} from '@zonedev/kernel';
import { errno } from './errno.js';

describe('debugfs (fs/debugfs/inode.c, file.c)', () => {
  it('creates the mount point with the first top-level directory', () => {
    const k = new Kernel();
    expect(k.sysfs.exists(DEBUGFS_MOUNTPOINT)).toBe(false);
    expect(debugfsCreateDir(k, 'btt')).toBe('/sys/kernel/debug/btt');
    expect(k.sysfs.list('/sys/kernel/debug')).toEqual(['btt']);
  });

  it('formats each integer helper as the kernel does and shows the live value', () => {
    const k = new Kernel();
    const d = debugfsCreateDir(k, 'arena0', debugfsCreateDir(k, 'btt0.0', debugfsCreateDir(k, 'btt')));
    const v = { x64: 0x3fff000, x32: 0x3fe9, u32: 4096, u16: 2, u64: 2n ** 64n - 1n };
    debugfsCreateX64(k, 'info2off', 0o444, d, () => v.x64);
    debugfsCreateX32(k, 'internal_nlba', 0o444, d, () => v.x32);
    debugfsCreateU32(k, 'internal_lbasize', 0o444, d, () => v.u32);
    debugfsCreateU16(k, 'version_major', 0o444, d, () => v.u16);
    debugfsCreateU64(k, 'big', 0o400, d, () => v.u64);
    const r = (f: string): string => k.sysfs.read(`${d}/${f}`);
    expect(r('info2off')).toBe('0x0000000003fff000\n');
    expect(r('internal_nlba')).toBe('0x00003fe9\n');
    expect(r('internal_lbasize')).toBe('4096\n');
    expect(r('version_major')).toBe('2\n');
    expect(r('big')).toBe('18446744073709551615\n');
    v.x32 = 0xdeadbeef;
    v.u16 = 0x12345; // a u16 variable keeps its low 16 bits
    expect(r('internal_nlba')).toBe('0xdeadbeef\n');
    expect(r('version_major')).toBe(`${0x2345}\n`);
    expect(k.sysfs.stat(`${d}/info2off`).mode).toBe(0o444);
  });

  it('a writable integer file parses as simple_attr_write() does and cuts the value to its width', () => {
    const k = new Kernel();
    const d = debugfsCreateDir(k, 'hwpoison');
    const v = { u32: 0, u64: 0n };
    debugfsCreateU32(k, 'enable', 0o600, d, () => v.u32, (x) => { v.u32 = Number(x); });
    debugfsCreateU64(k, 'mask', 0o600, d, () => v.u64, (x) => { v.u64 = x; });
    k.sysfs.write(`${d}/enable`, '0x10\n');
    expect(k.sysfs.read(`${d}/enable`)).toBe('16\n');
    k.sysfs.write(`${d}/enable`, '010');
    expect(v.u32).toBe(8);
    k.sysfs.write(`${d}/enable`, '0x100000001');
    expect(v.u32).toBe(1);
    k.sysfs.write(`${d}/mask`, '18446744073709551615');
    expect(k.sysfs.read(`${d}/mask`)).toBe('18446744073709551615\n');
    // kstrtoull: no sign, no junk, no overflow; the variable stays
    for (const bad of ['-1', '1x', '', ' 1', '0x']) expect(errno(() => k.sysfs.write(`${d}/enable`, bad))).toBe('EINVAL');
    expect(errno(() => k.sysfs.write(`${d}/mask`, '18446744073709551616'))).toBe('ERANGE');
    // only the first 23 characters are looked at
    expect(errno(() => k.sysfs.write(`${d}/enable`, `${'0'.repeat(22)}75`))).toBeUndefined();
    expect(v.u32).toBe(7);
    expect(v.u64).toBe(2n ** 64n - 1n);
    expect(errno(() => debugfsCreateU32(k, 'bad', 0o600, d, () => 0, 1 as never))).toBe('EINVAL');
  });

  it('a driver attribute file: write-only without get, read-only without set, the setter\'s errno is the write\'s', () => {
    const k = new Kernel();
    const d = debugfsCreateDir(k, 'hwpoison');
    const seen: bigint[] = [];
    debugfsCreateAttribute(k, 'corrupt-pfn', 0o200, d, {
      set: (x) => {
        if (x > 100n) throw new KernelError('ENXIO', 'no such pfn');
        seen.push(x);
      },
    });
    k.sysfs.write(`${d}/corrupt-pfn`, '0x40\n');
    expect(seen).toEqual([64n]);
    expect(errno(() => k.sysfs.write(`${d}/corrupt-pfn`, '101'))).toBe('ENXIO');
    expect(errno(() => k.sysfs.write(`${d}/corrupt-pfn`, 'x'))).toBe('EINVAL');
    expect(errno(() => k.sysfs.read(`${d}/corrupt-pfn`))).toBe('EACCES');
    debugfsCreateAttribute(k, 'state', 0o644, d, { get: () => 5, format: (x) => `0x${x.toString(16)}\n` });
    expect(k.sysfs.read(`${d}/state`)).toBe('0x5\n');
    expect(errno(() => k.sysfs.write(`${d}/state`, '1'))).toBe('EACCES');
    expect(seen).toEqual([64n]);
    expect(errno(() => debugfsCreateAttribute(k, 'none', 0o600, d, {}))).toBe('EINVAL');
    expect(errno(() => debugfsCreateAttribute(k, 'corrupt-pfn', 0o200, d, { set: () => undefined }))).toBe('EEXIST');
    expect(errno(() => debugfsCreateAttribute(k, 'm', 0o1000, d, { set: () => undefined }))).toBe('EINVAL');
  });

  it('a write to a read-only file is EACCES, and nothing changes', () => {
    const k = new Kernel();
    const d = debugfsCreateDir(k, 'btt');
    debugfsCreateU32(k, 'log_index_1', 0o444, d, () => 1);
    expect(errno(() => k.sysfs.write(`${d}/log_index_1`, '2'))).toBe('EACCES');
    expect(k.sysfs.read(`${d}/log_index_1`)).toBe('1\n');
  });

  it('refuses a taken name with the kernel message, a bad name, a missing parent, a writable mode', () => {
    const k = new Kernel();
    const d = debugfsCreateDir(k, 'btt');
    // a top-level directory's parent is the root dentry, "/"
    expect(() => debugfsCreateDir(k, 'btt')).toThrow("Directory 'btt' with parent '/' already present!");
    expect(k.log.dmesg()).toContain("debugfs: Directory 'btt' with parent '/' already present!");
    debugfsCreateU32(k, 'nfree', 0o444, d, () => 256);
    expect(() => debugfsCreateU32(k, 'nfree', 0o444, d, () => 1)).toThrow("File 'nfree' in directory 'btt' already present!");
    expect(k.sysfs.read(`${d}/nfree`)).toBe('256\n');
    expect(errno(() => debugfsCreateDir(k, 'a/b'))).toBe('EINVAL');
    expect(errno(() => debugfsCreateDir(k, ''))).toBe('EINVAL');
    expect(errno(() => debugfsCreateDir(k, 'x', '/sys/kernel/debug/none'))).toBe('ENOENT');
    expect(errno(() => debugfsCreateDir(k, 'x', '/sys/devices'))).toBe('ENOENT');
    expect(errno(() => debugfsCreateDir(k, 'x', '/sys/kernel/debug/btt/../../../devices'))).toBe('ENOENT');
    expect(errno(() => debugfsCreateU32(k, 'w', 0o644, d, () => 1))).toBe('EINVAL');
    expect(errno(() => debugfsCreateU32(k, 'w', 1.5, d, () => 1))).toBe('EINVAL');
    expect(errno(() => debugfsCreateU32(k, 'w', 0o444, d, 5 as unknown as () => number))).toBe('EINVAL');
    expect(k.sysfs.list(d)).toEqual(['nfree']);
  });

  it('a value that is not an integer reads as EINVAL', () => {
    const k = new Kernel();
    const d = debugfsCreateDir(k, 'btt');
    debugfsCreateX64(k, 'size', 0o444, d, () => Number.NaN);
    expect(errno(() => k.sysfs.read(`${d}/size`))).toBe('EINVAL');
  });

  it('debugfs_remove_recursive removes a tree; undefined or a removed entry is a no-op', () => {
    const k = new Kernel();
    const root = debugfsCreateDir(k, 'btt');
    const d = debugfsCreateDir(k, 'btt0.0', root);
    debugfsCreateU32(k, 'nfree', 0o444, debugfsCreateDir(k, 'arena0', d), () => 256);
    debugfsRemoveRecursive(k, d);
    expect(k.sysfs.list(root)).toEqual([]);
    debugfsRemoveRecursive(k, d);
    debugfsRemoveRecursive(k, undefined);
    expect(errno(() => debugfsRemoveRecursive(k, '/sys/devices'))).toBe('EINVAL');
    expect(errno(() => debugfsRemoveRecursive(k, '/sys/kernel/debug/../../devices'))).toBe('EINVAL');
    expect(k.sysfs.exists('/sys/devices')).toBe(true);
  });
});
