// A TypeScript port of tools/testing/selftests/memory-hotplug/mem-on-off-test.sh
// (v5.13), run against the sysfs interface of a booted test machine: online
// every offline hot-pluggable block, offline a seeded random 10 %, online
// them again, then inject -ENOMEM on MEM_GOING_ONLINE and MEM_GOING_OFFLINE
// with memory-notifier-error-inject and check every block stays where it was.
import { KernelError, Prandom } from '@zonedev/kernel';
import { describe, expect, it } from 'vitest';
import type { TestMachine } from './machine.js';
import { GiB, MiB, bootMachine } from './machine.js';

const SYSFS = '/sys';
const DEBUGFS = '/sys/kernel/debug';

/** The script, as functions over one machine's sysfs; `out`/`err` collect what it prints. */
class MemOnOffTest {
  readonly out: string[] = [];
  readonly err: string[] = [];
  private readonly rnd: Prandom;

  constructor(
    private readonly m: TestMachine,
    seed: number,
  ) {
    this.rnd = new Prandom(seed);
  }

  private get fs(): TestMachine['kernel']['sysfs'] {
    return this.m.kernel.sysfs;
  }

  /** Output of the current command goes nowhere (`&>/dev/null`). */
  private quiet = false;
  /** How many blocks each injected failure was tried on. */
  readonly injected = { online: 0, offline: 0 };

  private stderr(line: string): void {
    if (!this.quiet) this.err.push(line);
  }

  /** `echo VALUE > FILE`: false (and the shell's message) when the write fails. */
  private echo(value: string, file: string): boolean {
    try {
      this.fs.write(file, `${value}\n`);
      return true;
    } catch (e) {
      if (!(e instanceof KernelError)) throw e;
      this.stderr(`echo: write error: ${e.strerror}`);
      return false;
    }
  }

  /** Runs `fn` with its output sent to /dev/null. */
  private devnull<T>(fn: () => T): T {
    this.quiet = true;
    try {
      return fn();
    } finally {
      this.quiet = false;
    }
  }

  private grep(pattern: string, file: string): boolean {
    return this.fs.read(file).includes(pattern);
  }

  /** `$((RANDOM % 100))` */
  private random(): number {
    return this.rnd.below(32768) % 100;
  }

  prerequisite(): boolean {
    if (!this.fs.isDir(`${SYSFS}/devices/system/memory`)) {
      this.out.push('mem-on-off-test.sh: memory hotplug is not supported');
      return false;
    }
    return true;
  }

  /** `hotpluggable_memory STATE`: removable blocks in that state, in `ls` order. */
  hotpluggableMemory(state: 'online' | 'offline'): string[] {
    const dir = `${SYSFS}/devices/system/memory`;
    return this.fs
      .list(dir)
      .filter((n) => /^memory\d+$/.test(n))
      .filter((n) => this.grep('1', `${dir}/${n}/removable`) && this.grep(state, `${dir}/${n}/state`))
      .map((n) => n.slice('memory'.length));
  }

  private onlineMemory(mem: string): boolean {
    return this.echo('online', `${SYSFS}/devices/system/memory/memory${mem}/state`);
  }

  private offlineMemory(mem: string): boolean {
    return this.echo('offline', `${SYSFS}/devices/system/memory/memory${mem}/state`);
  }

  private memoryIsOnline(mem: string): boolean {
    return this.grep('online', `${SYSFS}/devices/system/memory/memory${mem}/state`);
  }

  private memoryIsOffline(mem: string): boolean {
    return this.grep('offline', `${SYSFS}/devices/system/memory/memory${mem}/state`);
  }

  onlineMemoryExpectSuccess(mem: string): boolean {
    if (!this.onlineMemory(mem)) {
      this.stderr(`online_memory_expect_success ${mem}: unexpected fail`);
      return false;
    }
    if (!this.memoryIsOnline(mem)) {
      this.stderr(`online_memory_expect_success ${mem}: unexpected offline`);
      return false;
    }
    return true;
  }

  onlineMemoryExpectFail(mem: string): boolean {
    if (this.onlineMemory(mem)) {
      this.stderr(`online_memory_expect_fail ${mem}: unexpected success`);
      return false;
    }
    if (!this.memoryIsOffline(mem)) {
      this.stderr(`online_memory_expect_fail ${mem}: unexpected online`);
      return false;
    }
    return true;
  }

  offlineMemoryExpectSuccess(mem: string): boolean {
    if (!this.offlineMemory(mem)) {
      this.stderr(`offline_memory_expect_success ${mem}: unexpected fail`);
      return false;
    }
    if (!this.memoryIsOffline(mem)) {
      this.stderr(`offline_memory_expect_success ${mem}: unexpected offline`);
      return false;
    }
    return true;
  }

  offlineMemoryExpectFail(mem: string): boolean {
    if (this.offlineMemory(mem)) {
      this.stderr(`offline_memory_expect_fail ${mem}: unexpected success`);
      return false;
    }
    if (!this.memoryIsOnline(mem)) {
      this.stderr(`offline_memory_expect_fail ${mem}: unexpected offline`);
      return false;
    }
    return true;
  }

  /** The script's body with `-r ratio -e error`; returns its exit status. */
  run(ratio: number = 10, error: number = -12): number {
    let retval = 0;
    if (!this.prerequisite()) return 4; // ksft_skip
    this.out.push('Test scope: 2% hotplug memory'.replace('2', String(ratio)));
    // Online all hot-pluggable memory
    for (const mem of this.hotpluggableMemory('offline')) {
      this.out.push(`offline->online memory${mem}`);
      if (!this.onlineMemoryExpectSuccess(mem)) retval = 1;
    }
    // Offline $ratio percent of hot-pluggable memory
    const hotpluggableNum = this.hotpluggableMemory('online').length;
    let target = Math.floor((hotpluggableNum * ratio) / 100);
    if (target === 0 && hotpluggableNum > 0) target = 1;
    for (const mem of this.hotpluggableMemory('online')) {
      if (target > 0) {
        this.out.push(`online->offline memory${mem}`);
        if (this.devnull(() => this.offlineMemoryExpectSuccess(mem))) {
          target--;
          this.out.push('-> Success');
        } else {
          this.out.push('-> Failure');
        }
      }
    }
    // Online all hot-pluggable memory again
    for (const mem of this.hotpluggableMemory('offline')) {
      this.out.push(`offline->online memory${mem}`);
      if (!this.onlineMemoryExpectSuccess(mem)) retval = 1;
    }

    // Test with memory notifier error injection
    const inject = `${DEBUGFS}/notifier-error-inject/memory`;
    this.m.hp.errorInject.load();
    if (!this.fs.isDir(inject)) {
      this.out.push('mem-on-off-test.sh: memory-notifier-error-inject is not available');
      return 4;
    }
    // Offline $ratio percent of hot-pluggable memory
    this.echo('0', `${inject}/actions/MEM_GOING_OFFLINE/error`);
    for (const mem of this.hotpluggableMemory('online')) {
      if (this.random() < ratio) this.devnull(() => this.offlineMemoryExpectSuccess(mem));
    }
    // Test memory hot-add error handling (offline => online)
    this.echo(String(error), `${inject}/actions/MEM_GOING_ONLINE/error`);
    for (const mem of this.hotpluggableMemory('offline')) {
      this.injected.online++;
      if (!this.onlineMemoryExpectFail(mem)) retval = 1;
    }
    // Online all hot-pluggable memory
    this.echo('0', `${inject}/actions/MEM_GOING_ONLINE/error`);
    for (const mem of this.hotpluggableMemory('offline')) {
      if (!this.onlineMemoryExpectSuccess(mem)) retval = 1;
    }
    // Test memory hot-remove error handling (online => offline)
    this.echo(String(error), `${inject}/actions/MEM_GOING_OFFLINE/error`);
    for (const mem of this.hotpluggableMemory('online')) {
      if (this.random() < ratio) {
        this.injected.offline++;
        if (!this.offlineMemoryExpectFail(mem)) retval = 1;
      }
    }
    this.echo('0', `${inject}/actions/MEM_GOING_OFFLINE/error`);
    this.m.hp.errorInject.unload();
    return retval;
  }
}

describe('mem-on-off-test.sh', () => {
  for (const platform of ['x86_64', 'powerpc'] as const) {
    it(`${platform}: passes, and every injected failure leaves its block where it was`, () => {
      const m = bootMachine({ platform });
      // 2 GiB of hot-added, offline memory to online
      m.hp.addMemory(0, 4 * GiB, 2 * GiB);
      const t = new MemOnOffTest(m, 42);
      const status = t.run();
      expect(t.err.filter((l) => l.includes('unexpected'))).toEqual([]);
      expect(status).toBe(0);
      expect(t.out[0]).toBe('Test scope: 10% hotplug memory');
      expect(t.out.filter((l) => l === '-> Success').length).toBeGreaterThan(0);
      const dmesg = m.kernel.log.dmesg();
      const count = (s: string): number => dmesg.split(s).length - 1;
      expect(count('Injecting error (-12) to MEM_GOING_ONLINE')).toBe(t.injected.online);
      // a block holding unmovable pages fails isolation (-EBUSY) before the notifier is asked
      expect(count('Injecting error (-12) to MEM_GOING_OFFLINE')).toBeLessThanOrEqual(t.injected.offline);
      expect(t.injected.online + t.injected.offline).toBeGreaterThan(0);
      expect(t.err.filter((l) => l.startsWith('echo: write error: '))).toHaveLength(t.injected.online + t.injected.offline);
      // the module is gone again, and every block is online at the end
      expect(m.kernel.sysfs.exists(`${DEBUGFS}/notifier-error-inject/memory`)).toBe(false);
      expect(t.hotpluggableMemory('offline')).toEqual([]);
      const blocks = m.hp.memory.allBlocks().length;
      expect(t.hotpluggableMemory('online').length).toBe(blocks);
      expect(blocks * m.hp.blockSize).toBe(3 * GiB);
    });
  }

  it('the injection files: read back, clamped to -4095..0', () => {
    const m = bootMachine();
    m.hp.errorInject.load(5);
    const f = `${DEBUGFS}/notifier-error-inject/memory/actions/MEM_GOING_ONLINE/error`;
    expect(m.kernel.sysfs.read(f)).toBe('0\n');
    m.kernel.sysfs.write(f, '-99999\n');
    expect(m.kernel.sysfs.read(f)).toBe('-4095\n');
    m.kernel.sysfs.write(f, '7\n');
    expect(m.kernel.sysfs.read(f)).toBe('0\n');
    expect(m.kernel.sysfs.stat(f).mode).toBe(0o600);
    expect(() => m.hp.errorInject.load()).toThrow(expect.objectContaining({ errno: 'EEXIST' }));
    m.hp.errorInject.unload();
    expect(m.kernel.sysfs.exists(f)).toBe(false);
    expect(MiB).toBe(2 ** 20);
  });
});
