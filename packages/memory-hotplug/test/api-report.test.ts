/**
 * API abuse, driven by the committed API report: every function, constructor
 * and method that etc/memory-hotplug.api.md lists is called with each of the
 * values no C caller could pass (NaN, infinities, -1, 1.5, 2^53 + 2, 2^64,
 * undefined, a string) in each of its parameters and in each field of a
 * struct-valued one, the others valid. Each call must be refused with a
 * KernelError (or a KernelBug where the kernel would BUG), and the machine
 * must read exactly as before (iomem, sections, memmap, vmemmap, zones,
 * memory blocks, sysfs, free pages: the suite's `snapshot`). A new export
 * without an entry fails the coverage test; `null` entries have no
 * parameters.
 *
 * The lookups the kernel answers with NULL or false for a node or block that
 * does not exist answer a bad number the same way (see api-abuse.test.ts):
 * their specs allow it, as long as nothing changes.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isKernelBug, isKernelError } from '@zonedev/kernel';
import type { BlockingNotifierHead } from '@zonedev/kernel';
import { abuse, reportEntries } from '@zonedev/test-kit';
import type { Spec } from '@zonedev/test-kit';
import * as api from '@zonedev/memory-hotplug';
import type { MemoryBlock, MemoryNotify } from '@zonedev/memory-hotplug';
import { MHP_NONE, MemoryNotifierErrorInject, NodeSubsystem } from '@zonedev/memory-hotplug';
import { GiB, MEM, MiB, bootMachine, snapshot } from './machine.js';

const refused = (err: unknown): boolean => isKernelError(err) || isKernelBug(err);
const ENTRIES = reportEntries(readFileSync(new URL('../etc/memory-hotplug.api.md', import.meta.url), 'utf8'));

const HOT = 4 * GiB;
const PFN = HOT / 4096;
const BLOCK = 128 * MiB;
const NR = BLOCK / 4096;
const n = (x: unknown): number => x as number;

describe('@zonedev/memory-hotplug: every entry point of the API report refuses bad values', () => {
  const m = bootMachine();
  m.hp.addMemory(0, HOT, 2 * BLOCK);
  m.kernel.sysfs.write(`${MEM}/memory33/state`, 'online_movable\n');
  const hp = m.hp;
  const mem = hp.memory;
  const nodes = hp.nodes;
  const zone = m.mm.pageZone(PFN + NR);
  const offline = (): MemoryBlock => mem.findMemoryBlockById(32)!;
  const online = (): MemoryBlock => mem.findMemoryBlockById(33)!;
  const params = { pgprot: 'PAGE_KERNEL' as const };
  const notify = (): MemoryNotify => ({ startPfn: PFN, nrPages: NR, statusChangeNid: -1, statusChangeNidNormal: -1, statusChangeNidHigh: -1 });
  const snap = (): string => JSON.stringify(snapshot(m));
  const on = <T extends object>(obj: T | (() => T), name: string, args: () => unknown[], allow?: Spec['allow']): Spec => ({
    args,
    call: (xs) => {
      const o = (typeof obj === 'function' ? (obj as () => T)() : obj) as Record<string, (...v: unknown[]) => unknown>;
      return o[name]!(...xs);
    },
    ...(allow === undefined ? {} : { allow }),
  });
  const h = (name: string, args: () => unknown[], allow?: Spec['allow']): Spec => on(hp, name, args, allow);
  /** A lookup's answer for a number that names nothing: NULL / false, nothing changed. */
  const lookup: Spec['refusal'] = (r) => r === undefined || r === false;
  /** The status-change nids of a `struct memory_notify` are -1 when nothing changes. */
  const nids = (_i: number, f: string, v: unknown): boolean => v === -1 && f.startsWith('statusChange');
  const none = null;
  const injector = new MemoryNotifierErrorInject(m.kernel, mem.memoryChain as BlockingNotifierHead<MemoryNotify>);

  const specs: Record<string, Spec | null> = {
    acpiMemoryEnableDevice: {
      args: () => [hp, 'PNP0C80:00', 0, HOT + 2 * GiB, BLOCK + 1],
      call: ([x, d, nid, s, z]) => api.acpiMemoryEnableDevice(x as never, d as string, n(nid), n(s), n(z)),
      allow: (i, v) => i === 1 && typeof v === 'string',
      // an unaligned size: the ACPI handler's refusal, nothing added
      refusal: (r) => r === false,
    },
    formatNodeList: { args: () => [[0, 1]], call: ([x]) => api.formatNodeList(x as never) },
    mhpOnlineTypeFromStr: { args: () => ['online'], call: ([x]) => api.mhpOnlineTypeFromStr(x as string) },

    'MemoryBlock.constructor': {
      args: () => [mem.bus, 50, 50 * 16, api.MEM_OFFLINE, 0, 0, []],
      call: ([b, id, s, st, v, p, g]) => new api.MemoryBlock(b as never, n(id), n(s), n(st), n(v), n(p), g as never),
      // any bus name; a bus may have no device name and no online/offline callbacks
      allowField: (_i, f, v) => (typeof v === 'string' && (f === 'name' || f === 'devName')) || (v === undefined && f !== 'name'),
    },

    'MemoryHotplug.constructor': { args: () => [{ kernel: m.kernel, mm: m.mm, sparse: m.sparse }], call: ([o]) => new api.MemoryHotplug(o as never) },
    'MemoryHotplug.__addMemory': h('__addMemory', () => [0, HOT + GiB, BLOCK, MHP_NONE]),
    'MemoryHotplug.__addPages': h('__addPages', () => [0, (HOT + GiB) / 4096, NR, params]),
    'MemoryHotplug.__removeMemory': h('__removeMemory', () => [0, HOT + 4 * GiB, BLOCK]),
    'MemoryHotplug.addMemory': h('addMemory', () => [0, HOT + GiB, BLOCK, MHP_NONE], (i, v) => i === 3 && v === undefined),
    'MemoryHotplug.addMemoryDriverManaged': h('addMemoryDriverManaged', () => [0, HOT + GiB, BLOCK, 'System RAM (kmem)', MHP_NONE], (i, v) => (i === 3 && typeof v === 'string') || (i === 4 && v === undefined)),
    'MemoryHotplug.addMemoryResource': h('addMemoryResource', () => [0, m.kernel.iomem.root, MHP_NONE]),
    'MemoryHotplug.addPages': h('addPages', () => [0, (HOT + GiB) / 4096, NR, params]),
    'MemoryHotplug.adjustPresentPageCount': h('adjustPresentPageCount', () => [zone, 0], (i, v) => i === 1 && v === -1 /* a signed long */),
    'MemoryHotplug.archAddMemory': h('archAddMemory', () => [0, HOT + GiB, BLOCK, params]),
    'MemoryHotplug.archRemoveMemory': h('archRemoveMemory', () => [0, HOT + GiB, BLOCK, undefined], (i, v) => i === 3 && v === undefined),
    'MemoryHotplug.defaultKernelZoneForPfn': h('defaultKernelZoneForPfn', () => [0, PFN, NR]),
    'MemoryHotplug.defaultZoneForPfn': h('defaultZoneForPfn', () => [0, PFN, NR]),
    'MemoryHotplug.linearMappings': none,
    'MemoryHotplug.memoryBlockOffline': h('memoryBlockOffline', () => [online()]),
    'MemoryHotplug.memoryBlockOnline': h('memoryBlockOnline', () => [offline()]),
    'MemoryHotplug.memoryHotplugInit': none,
    'MemoryHotplug.mhpDeinitMemmapOnMemory': h('mhpDeinitMemmapOnMemory', () => [PFN, 1024]),
    'MemoryHotplug.mhpGetPluggableRange': h('mhpGetPluggableRange', () => [true]),
    'MemoryHotplug.mhpInitMemmapOnMemory': h('mhpInitMemmapOnMemory', () => [PFN, 1024, zone]),
    'MemoryHotplug.mhpRangeAllowed': h('mhpRangeAllowed', () => [HOT + GiB, BLOCK, true]),
    'MemoryHotplug.mhpSupportsMemmapOnMemory': h('mhpSupportsMemmapOnMemory', () => [BLOCK]),
    'MemoryHotplug.movePfnRangeToZone': h('movePfnRangeToZone', () => [zone, PFN, NR, undefined, 1], (i, v) => i === 3 && v === undefined),
    'MemoryHotplug.offlineAndRemoveMemory': h('offlineAndRemoveMemory', () => [0, HOT + 4 * GiB, BLOCK]),
    'MemoryHotplug.offlinePages': h('offlinePages', () => [PFN + NR, NR]),
    'MemoryHotplug.onlinePages': h('onlinePages', () => [PFN + NR, NR, zone]),
    'MemoryHotplug.pfnToOnlinePage': h('pfnToOnlinePage', () => [PFN + NR]),
    'MemoryHotplug.releaseMemoryResource': h('releaseMemoryResource', () => [undefined], (i, v) => i === 0 && v === undefined),
    'MemoryHotplug.removeMemory': h('removeMemory', () => [0, HOT + BLOCK, BLOCK]),
    'MemoryHotplug.removePages': h('removePages', () => [PFN, NR, undefined], (i, v) => i === 2 && v === undefined),
    'MemoryHotplug.removePfnRangeFromZone': h('removePfnRangeFromZone', () => [zone, PFN + NR, NR]),
    'MemoryHotplug.restoreEndOfMemoryVars': h('restoreEndOfMemoryVars', () => [hp.maxPfn, hp.maxLowPfn]),
    'MemoryHotplug.testPagesInAZone': h('testPagesInAZone', () => [PFN, PFN + 2 * NR]),
    'MemoryHotplug.tryOfflineNode': h('tryOfflineNode', () => [0]),
    'MemoryHotplug.tryOnlineNode': h('tryOnlineNode', () => [0]),
    'MemoryHotplug.tryRemoveMemory': h('tryRemoveMemory', () => [0, HOT + BLOCK, BLOCK]),
    'MemoryHotplug.unregisterMemoryBlockUnderNodes': h('unregisterMemoryBlockUnderNodes', () => [offline()]),
    'MemoryHotplug.updateEndOfMemoryVars': h('updateEndOfMemoryVars', () => [HOT + GiB, 2 ** 60]),
    'MemoryHotplug.validZonesShow': h('validZonesShow', () => [offline()]),
    'MemoryHotplug.zoneForPfnRange': h('zoneForPfnRange', () => [1, 0, PFN, NR]),

    'MemoryNotifierErrorInject.constructor': {
      args: () => [m.kernel, mem.memoryChain],
      call: ([k, c]) => new MemoryNotifierErrorInject(k as never, c as never),
    },
    'MemoryNotifierErrorInject.error': on(injector, 'error', () => [api.MEM_GOING_ONLINE]),
    'MemoryNotifierErrorInject.load': on(injector, 'load', () => [0], (i, v) => i === 0 && (v === undefined || v === -1) /* any int priority */),
    'MemoryNotifierErrorInject.setError': on(injector, 'setError', () => [api.MEM_GOING_ONLINE, -12], (i, v) => i === 1 && v === -1 /* -EPERM */),
    'MemoryNotifierErrorInject.unload': none,

    'MemorySubsystem.constructor': {
      args: () => [m.kernel, hp, BLOCK, BLOCK, 12],
      call: ([k, x, b, s, p]) => new api.MemorySubsystem(k as never, x as never, n(b), n(s), n(p)),
    },
    'MemorySubsystem.allBlocks': none,
    'MemorySubsystem.blockStartPfn': on(mem, 'blockStartPfn', () => [offline()]),
    'MemorySubsystem.createMemoryBlockDevices': on(mem, 'createMemoryBlockDevices', () => [HOT, BLOCK, 0]),
    'MemorySubsystem.findMemoryBlock': { ...on(mem, 'findMemoryBlock', () => [2 ** 40]), refusal: lookup },
    'MemorySubsystem.findMemoryBlockById': { ...on(mem, 'findMemoryBlockById', () => [2 ** 40]), refusal: lookup },
    'MemorySubsystem.forEachMemoryBlock': on(mem, 'forEachMemoryBlock', () => [() => 0]),
    'MemorySubsystem.initMemoryBlock': on(mem, 'initMemoryBlock', () => [32, api.MEM_OFFLINE, 0]),
    'MemorySubsystem.memoryBlockId': on(mem, 'memoryBlockId', () => [32 * 16]),
    'MemorySubsystem.memoryDevInit': on(mem, 'memoryDevInit', () => [[0]]),
    'MemorySubsystem.memoryNotify': { ...on(mem, 'memoryNotify', () => [api.MEM_CANCEL_ONLINE, notify()]), allowField: nids },
    'MemorySubsystem.pfnToBlockId': on(mem, 'pfnToBlockId', () => [PFN]),
    'MemorySubsystem.physToBlockId': on(mem, 'physToBlockId', () => [HOT]),
    'MemorySubsystem.registerMemoryNotifier': { ...on(mem, 'registerMemoryNotifier', () => [{ notifierCall: () => 0, priority: 0 }]), allowField: (_i, f, v) => f === 'priority' && (v === -1 || v === undefined) },
    'MemorySubsystem.removeMemoryBlockDevices': on(mem, 'removeMemoryBlockDevices', () => [HOT + 4 * GiB, BLOCK]),
    'MemorySubsystem.unregisterMemory': on(mem, 'unregisterMemory', () => [offline()]),
    'MemorySubsystem.unregisterMemoryNotifier': on(mem, 'unregisterMemoryNotifier', () => [{ notifierCall: () => 0, priority: 0 }]),
    'MemorySubsystem.walkMemoryBlocks': on(mem, 'walkMemoryBlocks', () => [HOT, BLOCK, () => 0]),

    'NodeSubsystem.constructor': { args: () => [m.kernel, [0], m.mm], call: ([k, p, x]) => new NodeSubsystem(k as never, p as never, x as never), allow: (i, v) => i === 2 && v === undefined },
    'NodeSubsystem.memoryBlockNodes': on(nodes, 'memoryBlockNodes', () => [offline()]),
    'NodeSubsystem.nodeClearState': on(nodes, 'nodeClearState', () => [5, 'N_CPU']),
    'NodeSubsystem.nodeDevice': { ...on(nodes, 'nodeDevice', () => [0]), refusal: lookup },
    'NodeSubsystem.nodeDevInit': none,
    'NodeSubsystem.nodeOnline': { ...on(nodes, 'nodeOnline', () => [0]), refusal: lookup },
    'NodeSubsystem.nodePossible': { ...on(nodes, 'nodePossible', () => [0]), refusal: lookup },
    'NodeSubsystem.nodeSetOffline': on(nodes, 'nodeSetOffline', () => [5]),
    'NodeSubsystem.nodeSetOnline': on(nodes, 'nodeSetOnline', () => [0]),
    'NodeSubsystem.nodeSetState': on(nodes, 'nodeSetState', () => [0, 'N_ONLINE']),
    'NodeSubsystem.nodesInState': on(nodes, 'nodesInState', () => ['N_ONLINE']),
    'NodeSubsystem.nodeState': { ...on(nodes, 'nodeState', () => [0, 'N_ONLINE']), refusal: lookup },
    'NodeSubsystem.registerMemoryBlockUnderNode': { ...on(nodes, 'registerMemoryBlockUnderNode', () => [7, offline()]), refusal: (r) => r === undefined },
    'NodeSubsystem.registerOneNode': on(nodes, 'registerOneNode', () => [0]),
    'NodeSubsystem.unregisterMemoryBlockUnderNodes': on(nodes, 'unregisterMemoryBlockUnderNodes', () => [offline()]),
    'NodeSubsystem.unregisterOneNode': on(nodes, 'unregisterOneNode', () => [5]),
  };

  it('the table covers every function and method of the API report, and nothing else', () => {
    const keys = [...new Set(ENTRIES.map((e) => e.key))].sort();
    expect(keys.length).toBeGreaterThan(80);
    expect(Object.keys(specs).sort()).toEqual(keys);
    for (const [k, s] of Object.entries(specs)) if (s === null) expect(ENTRIES.find((e) => e.key === k)!.optional, k).toEqual([]);
  });

  it('each bad value in each parameter and field is refused with a KernelError or KernelBug, the machine unchanged', () => {
    const t = abuse(ENTRIES, specs, snap, refused);
    expect(t.failures).toEqual([]);
    expect(t.calls).toBeGreaterThan(800);
    // the machine still works: the online block offlines and onlines again
    m.kernel.sysfs.write(`${MEM}/memory33/state`, 'offline\n');
    m.kernel.sysfs.write(`${MEM}/memory33/state`, 'online_movable\n');
    expect(online().state).toBe(api.MEM_ONLINE);
  });
});

