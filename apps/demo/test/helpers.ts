/**
 * Test doubles: a fake `/sys/devices/system/memory` (a MemFs whose `state`
 * files accept the writes the kernel accepts) and a fake Machine around it.
 */
import { Kernel, KernelError, type ErrnoName } from '@zonedev/kernel';
import { MemFs } from '../src/shell/vfs.js';
import type { ShellMachine as Machine, ShellCommand } from '../src/shell/command.js';

export interface FakeBlock {
  /** Block number (memoryN). */
  readonly index: number;
  state: 'online' | 'offline' | 'going-offline';
  /** `valid_zones` text (without newline); omitted: no valid_zones file. */
  zones?: string;
  node?: number;
  removable?: boolean;
  /** The errno a state write fails with, if any. */
  fail?: ErrnoName;
}

export interface FakeSysfs {
  readonly fs: MemFs;
  readonly blocks: FakeBlock[];
  /** Every value written to a state file, as `memoryN=value`. */
  readonly writes: string[];
}

/** A MemFs with memory blocks of `blockSize` bytes under /sys/devices/system/memory. */
export function fakeMemorySysfs(blockSize: number, blocks: FakeBlock[]): FakeSysfs {
  const fs = new MemFs();
  const writes: string[] = [];
  const root = '/sys/devices/system/memory';
  fs.addFile(`${root}/block_size_bytes`, `${blockSize.toString(16)}\n`);
  for (const b of blocks) {
    const dir = `${root}/memory${b.index}`;
    fs.addFile(`${dir}/phys_index`, `${b.index.toString(16).padStart(8, '0')}\n`);
    fs.addFile(`${dir}/removable`, `${b.removable === false ? 0 : 1}\n`);
    fs.addFile(`${dir}/state`, {
      show: () => `${b.state}\n`,
      store: (v: string) => {
        const value = v.replace(/\n$/, '');
        writes.push(`memory${b.index}=${value}`);
        if (!['online', 'offline', 'online_kernel', 'online_movable'].includes(value)) throw new KernelError('EINVAL');
        if (b.fail !== undefined) throw new KernelError(b.fail);
        b.state = value === 'offline' ? 'offline' : 'online';
      },
    });
    if (b.zones !== undefined) fs.addFile(`${dir}/valid_zones`, { show: () => `${b.zones}\n` });
    if (b.node !== undefined) {
      fs.mkdir(`/sys/devices/system/node/node${b.node}`);
      fs.addLink(`${dir}/node${b.node}`, `/sys/devices/system/node/node${b.node}`);
    }
  }
  return { fs, blocks, writes };
}

/** `count` blocks from `first`, all in `state`. */
export function range(first: number, count: number, state: FakeBlock['state'], extra: Partial<FakeBlock> = {}): FakeBlock[] {
  return Array.from({ length: count }, (_, i) => ({ index: first + i, state, ...extra }));
}

/** A Machine whose /sys is `fs` and /proc has the given files. */
export function fakeMachine(fs: MemFs, procfs: Record<string, string> = {}, commands: ShellCommand[] = []): Machine {
  const kernel = new Kernel();
  return {
    platform: 'x86_64',
    description: 'fake machine',
    kernel,
    sysfs: fs,
    procfs: new Map(Object.entries(procfs).map(([p, t]) => [p, () => t])),
    commands,
  };
}
