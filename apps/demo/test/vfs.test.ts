import { describe, expect, it } from 'vitest';
import { KernelError, Sysfs, isKernelError } from '@zonedev/kernel';
import { MemFs, ProcFs, RootFs, SysfsFs, normalizePath, type VirtualFs } from '../src/shell/vfs.js';

function errno(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    return isKernelError(e) ? `${e.errno}: ${e.message}` : String(e);
  }
}

describe('normalizePath', () => {
  it('collapses slashes and dots but keeps .. below the root', () => {
    expect(normalizePath('//sys/./devices/')).toBe('/sys/devices');
    expect(normalizePath('/../sys')).toBe('/sys');
    expect(normalizePath('/sys/a/../b')).toBe('/sys/a/../b');
  });
});

describe('SysfsFs: the kernel sysfs with open-time checks (kernfs_fop_open)', () => {
  function sysfs(): { fs: SysfsFs; stored: string[] } {
    const s = new Sysfs();
    const stored: string[] = [];
    s.createFile('/sys/devices/system/memory/memory0/state', {
      name: 'state',
      mode: 0o644,
      show: () => 'online\n',
      store: (v) => {
        if (v !== 'offline\n') throw new KernelError('EBUSY', 'busy');
        stored.push(v);
      },
    });
    s.createFile('/sys/devices/system/memory/memory0/phys_index', { name: 'phys_index', mode: 0o444, show: () => '00000000\n' });
    s.createFile('/sys/devices/system/memory/probe', { name: 'probe', mode: 0o200, store: () => undefined });
    s.createFile('/sys/devices/system/memory/broken', { name: 'broken', mode: 0o644 });
    s.createDir('/sys/bus/memory/devices');
    s.createLink('/sys/bus/memory/devices/memory0', '/sys/devices/system/memory/memory0');
    return { fs: new SysfsFs(s), stored };
  }

  it('reads attributes, through links too', () => {
    const { fs } = sysfs();
    expect(fs.read('/sys/bus/memory/devices/memory0/state')).toBe('online\n');
    expect(fs.list('/sys/bus/memory/devices/memory0')).toEqual(['phys_index', 'state']);
    expect(fs.isDir('/sys/bus/memory/devices/memory0')).toBe(true);
  });

  it('refuses to open what cannot be written, as kernfs does for root', () => {
    const { fs } = sysfs();
    expect(errno(() => fs.openWrite('/sys/devices/system/memory/memory0/phys_index'))).toBe('EACCES: /sys/devices/system/memory/memory0/phys_index: Permission denied');
    expect(errno(() => fs.openWrite('/sys/devices/system/memory/newfile'))).toBe('EACCES: /sys/devices/system/memory/newfile: Permission denied');
    expect(errno(() => fs.openWrite('/sys/nodir/newfile'))).toBe('ENOENT: /sys/nodir/newfile: No such file or directory');
    expect(errno(() => fs.openWrite('/sys/devices'))).toBe('EISDIR: /sys/devices: Is a directory');
    expect(errno(() => fs.openWrite('/sys/devices/system/memory/probe'))).toBeUndefined();
    expect(errno(() => fs.read('/sys/devices/system/memory/probe'))).toMatch(/^EACCES/);
  });

  it('passes the store()’s errno through a write, and EIO for a file without store()', () => {
    const { fs, stored } = sysfs();
    expect(errno(() => fs.write('/sys/devices/system/memory/memory0/state', 'online\n'))).toBe('EBUSY: busy');
    fs.write('/sys/devices/system/memory/memory0/state', 'offline\n');
    expect(stored).toEqual(['offline\n']);
    expect(errno(() => fs.write('/sys/devices/system/memory/broken', 'x'))).toMatch(/^EIO/);
  });
});

describe('ProcFs', () => {
  const proc = new ProcFs(new Map([
    ['/proc/iomem', () => 'x\n'],
    ['/proc/sys/vm/foo', () => '1\n'],
  ]));
  it('serves providers and implies directories', () => {
    expect(proc.read('/proc/iomem')).toBe('x\n');
    expect(proc.list('/proc')).toEqual(['iomem', 'sys']);
    expect(proc.list('/proc/sys/vm')).toEqual(['foo']);
    expect(proc.isDir('/proc/sys')).toBe(true);
    expect(proc.isDir('/proc/iomem')).toBe(false);
  });
  it('fails like procfs: EIO on write, ENOENT for missing, EISDIR, ENOTDIR', () => {
    expect(errno(() => proc.openWrite('/proc/iomem'))).toBeUndefined();
    expect(errno(() => proc.write('/proc/iomem', '1\n'))).toBe('EIO: /proc/iomem: Input/output error');
    expect(errno(() => proc.read('/proc/nope'))).toBe('ENOENT: /proc/nope: No such file or directory');
    expect(errno(() => proc.read('/proc/sys'))).toBe('EISDIR: /proc/sys: Is a directory');
    expect(errno(() => proc.list('/proc/iomem'))).toBe('ENOTDIR: /proc/iomem: Not a directory');
    expect(errno(() => proc.openWrite('/proc/new'))).toMatch(/^ENOENT/);
  });
});

describe('MemFs', () => {
  it('follows links and resolves .. after a link from the target, as the kernel path walk does', () => {
    const fs = new MemFs();
    fs.addFile('/sys/devices/system/node/node0/x', 'node0\n');
    fs.addFile('/sys/devices/system/memory/memory0/state', 'online\n');
    fs.addLink('/sys/devices/system/memory/memory0/node0', '/sys/devices/system/node/node0');
    expect(fs.read('/sys/devices/system/memory/memory0/node0/x')).toBe('node0\n');
    expect(fs.list('/sys/devices/system/memory/memory0/node0/..')).toEqual(['node0']);
    expect(fs.list('/sys/devices/system/memory/memory0')).toEqual(['node0', 'state']);
    fs.remove('/sys/devices/system/memory/memory0/node0');
    expect(fs.exists('/sys/devices/system/memory/memory0/node0')).toBe(false);
  });
  it('chooses default modes from the callbacks', () => {
    const fs = new MemFs();
    fs.addFile('/a', { show: () => 'a' });
    fs.addFile('/b', { store: () => undefined });
    fs.addFile('/c', { show: () => 'c', store: () => undefined });
    expect(errno(() => fs.openWrite('/a'))).toMatch(/^EACCES/);
    expect(errno(() => fs.read('/b'))).toMatch(/^EACCES/);
    expect(errno(() => fs.openWrite('/c'))).toBeUndefined();
  });
});

describe('RootFs', () => {
  const sys = new MemFs();
  sys.addFile('/sys/kernel/x', 'k\n');
  const root: VirtualFs = new RootFs([
    { at: '/sys', fs: sys },
    { at: '/proc', fs: new ProcFs(new Map([['/proc/iomem', () => 'io\n']])) },
  ]);
  it('routes paths to their mounts and lists the mount points at /', () => {
    expect(root.list('/')).toEqual(['proc', 'sys']);
    expect(root.read('//sys/kernel/x')).toBe('k\n');
    expect(root.read('/proc/iomem')).toBe('io\n');
    expect(root.isDir('/')).toBe(true);
    expect(root.exists('/dev')).toBe(false);
  });
  it('has nothing else at the root', () => {
    expect(errno(() => root.read('/'))).toBe('EISDIR: /: Is a directory');
    expect(errno(() => root.read('/etc/passwd'))).toBe('ENOENT: /etc/passwd: No such file or directory');
    expect(errno(() => root.openWrite('/newfile'))).toBe('EACCES: /newfile: Permission denied');
    expect(errno(() => root.list('/dev'))).toBe('ENOENT: /dev: No such file or directory');
  });
});
