// `explain on|off` and `where SYMBOL`: after each command, the dmesg lines
// it caused and the traced kernel functions that decided, each with its
// model declaration and its v5.13 kernel file, from the kernel-symbol index
// that docs/KERNEL-INDEX.md is generated from; `where` answers from the same
// index.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MACHINE } from '@zonedev/platform';
import { bootShellMachine } from '../src/commands/shell-machine.js';
import { run } from '../src/shell/shell.js';
import { decodeRows, entryText, KernelIndex, type KernelSymbolEntry } from '../src/explain/kernel-index.js';
import { explainSupport } from '../src/explain/explain.js';
import { KERNEL_SYMBOL_ROWS } from '../src/explain/kernel-symbols.generated.js';

const ROOT = new URL('../../../', import.meta.url);
const index = new KernelIndex();

/** The one traced declaration of kernel function `name`. */
function tracePoint(name: string): KernelSymbolEntry {
  const e = index.tracePoint(name);
  if (e === undefined) throw new Error(`${name} is not in the index`);
  return e;
}

/** The two lines explain prints for a traced call. */
const fn = (indent: string, call: string, name: string): string => {
  const e = tracePoint(name);
  return `${indent}${call}\n${indent}    ${e.path}:${e.line} ${e.declaration}; kernel ${e.kernelFile!}\n`;
};

describe('the kernel-symbol index the demo reads', () => {
  it('points at the declaration of each entry: the model line names it', () => {
    const entries = decodeRows(KERNEL_SYMBOL_ROWS);
    expect(entries.length).toBeGreaterThan(500);
    const sources = new Map<string, string[]>();
    for (const e of entries) {
      if (!sources.has(e.path)) sources.set(e.path, readFileSync(new URL(e.path, ROOT), 'utf8').split('\n'));
      const member = e.declaration.split('.').pop()!;
      expect(sources.get(e.path)![e.line - 1], `${e.symbol} at ${e.path}:${e.line}`).toContain(member === 'constructor' ? 'constructor' : member);
    }
  });

  it('has __add_pages in memory-hotplug, traced, filed under mm/memory_hotplug.c', () => {
    const e = tracePoint('__add_pages');
    expect(e).toMatchObject({ pkg: '@zonedev/memory-hotplug', exportName: 'MemoryHotplug.__addPages', path: 'packages/memory-hotplug/src/memory-hotplug.ts', kernelFile: 'mm/memory_hotplug.c', traced: true });
    expect(entryText(e)).toBe(`\`__add_pages\` → @zonedev/memory-hotplug MemoryHotplug.__addPages, packages/memory-hotplug/src/memory-hotplug.ts:${e.line}; kernel mm/memory_hotplug.c`);
  });
});

describe('where SYMBOL', () => {
  it('prints every declaration of a function or a struct, one line each', () => {
    const m = bootShellMachine(DEFAULT_MACHINE);
    const addPages = index.lookup('__add_pages').map((e) => `${entryText(e)}\n`).join('');
    expect(addPages).toContain('`__add_pages` → @zonedev/memory-hotplug MemoryHotplug.__addPages, packages/memory-hotplug/src/memory-hotplug.ts:');
    expect(run('where __add_pages', m)).toMatchObject({ status: 0, stdout: addPages, stderr: '' });
    expect(run("where '__add_pages()'", m).stdout).toBe(addPages);
    const pgmap = index.lookup('dev_pagemap', 'struct');
    expect(pgmap.length).toBeGreaterThan(0);
    const pgmapText = pgmap.map((e) => `${entryText(e)}\n`).join('');
    expect(pgmapText).toContain('`struct dev_pagemap` → @zonedev/memremap DevPagemap, packages/memremap/src/');
    expect(pgmapText).toContain('; kernel include/linux/memremap.h\n');
    expect(run('where struct dev_pagemap', m).stdout).toBe(pgmapText);
    expect(run("where 'struct dev_pagemap'", m).stdout).toBe(pgmapText);
    // A name that is only a struct is found as one.
    expect(run('where dev_pagemap', m).stdout).toBe(pgmapText);
  });

  it('reports a symbol the index lacks with status 1, after the others; no operand is a usage error', () => {
    const m = bootShellMachine(DEFAULT_MACHINE);
    const r = run('where no_such_fn __add_pages', m);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('where: no_such_fn: not in the kernel-symbol index\n');
    expect(r.stdout).toBe(index.lookup('__add_pages').map((e) => `${entryText(e)}\n`).join(''));
    expect(run('where struct nope', m)).toMatchObject({ status: 1, stdout: '', stderr: 'where: struct nope: not in the kernel-symbol index\n' });
    expect(run('where', m)).toMatchObject({ status: 2, stdout: '', stderr: 'where: usage: where SYMBOL...\n' });
  });
});

describe('explain on|off', () => {
  it('after a failed memremap, the WARN in dmesg and the chain of functions that returned -EINVAL', () => {
    const m = bootShellMachine(DEFAULT_MACHINE);
    const r = run('explain on\nmemremap 0x100000000 1M', m);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    const params = '{altmap=NULL, pgprot=PAGE_KERNEL, for_device=true}';
    expect(r.stderr).toBe(
      'memremap: memremap_pages: Invalid argument\n' +
        'explain: dmesg:\n' +
        `  ${/\[ *[0-9]+\.[0-9]{6}\] /.exec(m.kernel.log.dmesg().split('\n').at(-2)!)![0]}WARNING: Misaligned __add_pages start: 0x100000 end: #1000ff\n` +
        'explain: -EINVAL came from (outermost first):\n' +
        fn('  ', 'memremap_pages(pgmap0, 0) = -EINVAL', 'memremap_pages') +
        fn('    ', `pagemap_range(pgmap0, ${params}, 0, 0) = -EINVAL`, 'pagemap_range') +
        fn('      ', `arch_add_memory(0, 0x100000000, 0x100000, ${params}) = -EINVAL`, 'arch_add_memory') +
        fn('        ', `__add_pages(0, 0x100000, 0x100, ${params}) = -EINVAL`, '__add_pages'),
    );
    expect(tracePoint('memremap_pages').kernelFile).toBe('mm/memremap.c');
    expect(tracePoint('__add_pages').kernelFile).toBe('mm/memory_hotplug.c');
  });

  it('after a command that succeeded, its dmesg lines and the outermost functions it called', () => {
    const m = bootShellMachine(DEFAULT_MACHINE);
    const r = run('explain on\nmemremap -t generic 0x100000000 256M', m);
    expect(r.status).toBe(0);
    const explained = r.stderr;
    expect(explained).toMatch(/^explain: dmesg:\n {2}\[ *[0-9.]+\] memmap_init_zone_device initialised 65536 pages in 0ms\nexplain: kernel functions called:\n/);
    expect(explained).toContain(fn('  ', 'memremap_pages(pgmap0, 0) = 0xffff888100000000', 'memremap_pages'));
    expect(explained).toContain('  __request_region(');
  });

  it('says nothing when off, and explain off puts the tracer back as it was', () => {
    const m = bootShellMachine(DEFAULT_MACHINE);
    expect(run('memremap 0x100000000 1M', m).stderr).toBe('memremap: memremap_pages: Invalid argument\n');
    expect(m.kernel.tracer.enabled).toBe(false);
    run('explain on', m);
    expect(m.kernel.tracer.enabled).toBe(true);
    run('explain off', m);
    expect(m.kernel.tracer.enabled).toBe(false);
    expect(run('memremap 0x100000000 1M', m).stderr).toBe('memremap: memremap_pages: Invalid argument\n');
    // With the tracer already on, explain off leaves it on.
    run('trace on\nexplain on\nexplain off', m);
    expect(m.kernel.tracer.enabled).toBe(true);
  });

  it('takes exactly on or off', () => {
    const m = bootShellMachine(DEFAULT_MACHINE);
    for (const bad of ['explain', 'explain maybe', 'explain on off']) {
      expect(run(bad, m)).toMatchObject({ status: 2, stdout: '', stderr: 'explain: usage: explain on|off\n' });
    }
    expect(m.kernel.tracer.enabled).toBe(false);
  });
});

describe('explainSupport().around', () => {
  it('explains a whole command line, a sysfs write of a redirection included', () => {
    const m = bootShellMachine({ ...DEFAULT_MACHINE, slots: 2, maxmem: 4 * 2 ** 30 });
    const support = explainSupport(m.kernel);
    let err = '';
    const onOff = support.commands.find((c) => c.name === 'explain')!;
    onOff.run({ name: 'explain', args: ['on'], fs: m.sysfs, machine: m, options: { errexit: false }, out: () => {}, err: (t) => (err += t), path: (p) => p, commands: () => [], exit: () => {} });
    expect(() => support.around(() => m.sysfs.write('/sys/devices/system/memory/memory0/state', 'offline\n'), (t) => (err += t))).toThrow();
    expect(err).toMatch(/^explain: dmesg:\n {2}\[ *[0-9.]+\] memory offlining \[mem 0x00000000-0x07ffffff\] failed due to memory holes\nexplain: -EINVAL came from \(outermost first\):\n/);
    expect(err).toContain(fn('  ', 'device_offline(memory0) = -EINVAL', 'device_offline'));
    expect(err).toContain(fn('    ', 'memory_block_offline(memory0) = -EINVAL', 'memory_block_offline'));
    expect(err).toContain(`${fn('      ', 'offline_pages(0, 0x8000) = -EINVAL', 'offline_pages')}        which decided after:\n${fn('          ', 'walk_system_ram_range(0, 0x8000) = 0', 'walk_system_ram_range')}`);
    expect(tracePoint('offline_pages').kernelFile).toBe('mm/memory_hotplug.c');
    err = '';
    expect(support.around(() => 7, (t) => (err += t))).toBe(7);
    expect(err).toBe('');
  });
});

describe('explain on: a command whose effect is the write of its redirection', () => {
  const TS = /\[ *[0-9]+\.[0-9]{6}\] /;
  const hotplug = { ...DEFAULT_MACHINE, slots: 2, maxmem: 4 * 2 ** 30 };

  it('echo offline > memoryN/state: the dmesg lines and device_offline(), after the write error when it failed', () => {
    const m = bootShellMachine(hotplug);
    const ok = run('explain on\necho offline > /sys/devices/system/memory/memory3/state', m);
    expect(ok.status).toBe(0);
    expect(ok.stderr.replace(TS, '[T] ')).toBe(
      'explain: dmesg:\n  [T] Offlined Pages 32768\nexplain: kernel functions called:\n' + fn('  ', 'device_offline(memory3) = 0', 'device_offline'),
    );
    expect(m.sysfs.read('/sys/devices/system/memory/memory3/state')).toBe('offline\n');
    const bad = run('explain on\necho offline > /sys/devices/system/memory/memory0/state', m);
    expect(bad.status).toBe(1);
    expect(bad.stderr.replace(TS, '[T] ')).toBe(
      'zonedev: echo: write error: Invalid argument\n' +
        'explain: dmesg:\n  [T] memory offlining [mem 0x00000000-0x07ffffff] failed due to memory holes\n' +
        'explain: -EINVAL came from (outermost first):\n' +
        fn('  ', 'device_offline(memory0) = -EINVAL', 'device_offline') +
        fn('    ', 'memory_block_offline(memory0) = -EINVAL', 'memory_block_offline') +
        fn('      ', 'offline_pages(0, 0x8000) = -EINVAL', 'offline_pages') +
        '        which decided after:\n' +
        fn('          ', 'walk_system_ram_range(0, 0x8000) = 0', 'walk_system_ram_range'),
    );
  });

  it('echo ADDR > probe: __add_memory(), reported on the shell\'s stderr even when the command redirects its own', () => {
    const m = bootShellMachine(hotplug);
    const r = run('explain on\necho 0x140000000 > /sys/devices/system/memory/probe 2>&1', m);
    expect(r).toMatchObject({ status: 0, stdout: '' });
    expect(r.stderr).toBe('explain: kernel functions called:\n' + fn('  ', '__add_memory(0, 0x140000000, 0x8000000, 0)', '__add_memory'));
    expect(m.sysfs.read('/sys/devices/system/memory/memory40/state')).toBe('offline\n');
  });

  it('explains each command of a pipeline and of a loop once; nothing while off', () => {
    const m = bootShellMachine(hotplug);
    const off = run('for b in 3 4; do echo offline > /sys/devices/system/memory/memory$b/state; done', m);
    expect(off).toMatchObject({ status: 0, stderr: '' });
    const r = run('explain on\nfor b in 3 4; do echo online > /sys/devices/system/memory/memory$b/state; done | cat', m);
    expect(r.status).toBe(0);
    expect(r.stderr.match(/^explain: kernel functions called:$/gm)).toHaveLength(2);
    expect(r.stderr).toContain(fn('  ', 'device_online(memory3) = 0', 'device_online'));
    expect(r.stderr).toContain(fn('  ', 'device_online(memory4) = 0', 'device_online'));
  });
});
