/**
 * API abuse: every exported entry point of memory hotplug called with values
 * no C caller could pass (NaN, infinities, negatives, fractions, integers
 * beyond 2^53, 2^64, undefined, null, a string, an object) in each numeric
 * argument, and with objects of the wrong kind. Each answer is a KernelError
 * with the kernel's errno (EINVAL for a number that is not a valid pfn,
 * address, size, node or flag) and the machine is exactly as it was: iomem,
 * sections, memmap, zones, memory blocks, sysfs, node states and max_pfn.
 */
import { isKernelError } from '@zonedev/kernel';
import type { Zone } from '@zonedev/mmzone';
import { MHP_NONE, MemoryNotifierErrorInject, acpiMemoryEnableDevice, formatNodeList, mhpOnlineTypeFromStr } from '@zonedev/memory-hotplug';
import type { MemoryBlock } from '@zonedev/memory-hotplug';
import { describe, expect, it } from 'vitest';
import { GiB, MEM, MiB, bootMachine, snapshot } from './machine.js';
import type { TestMachine } from './machine.js';

const BAD: readonly unknown[] = [NaN, Infinity, -Infinity, -1, 1.5, 2 ** 53 + 2, 2 ** 64, undefined, null, '4096', {}];
const HOT = 4 * GiB;
const PFN = HOT / 4096;
const BLOCK = 128 * MiB;
const NR = BLOCK / 4096;
const n = (x: unknown): number => x as number;

/** What `f` answered: `ok`, a KernelError's errno, or what else it threw. */
function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isKernelError(e)) return e.errno;
    return `not a KernelError: ${String(e)}`;
  }
  return 'ok';
}

/** A machine with one offline hot-added block at 4 GiB (memory32) and one online block at 4 GiB + 128 MiB (memory33). */
function machine(): { m: TestMachine; zone: Zone; offline: MemoryBlock; online: MemoryBlock } {
  const m = bootMachine();
  m.hp.addMemory(0, HOT, 2 * BLOCK);
  m.kernel.sysfs.write(`${MEM}/memory33/state`, 'online_movable\n');
  return {
    m,
    zone: m.mm.pageZone(PFN + NR),
    offline: m.hp.memory.findMemoryBlockById(32)!,
    online: m.hp.memory.findMemoryBlockById(33)!,
  };
}

/** Entry points taking numbers: each argument position gets every BAD value. */
function numericCalls(t: ReturnType<typeof machine>): [string, (v: unknown) => unknown][] {
  const { m, zone } = t;
  const hp = m.hp;
  const mem = hp.memory;
  const params = { pgprot: 'PAGE_KERNEL' as never };
  return [
    ['addMemory nid', (v) => hp.addMemory(n(v), HOT + GiB, BLOCK)],
    ['addMemory start', (v) => hp.addMemory(0, n(v), BLOCK)],
    ['addMemory size', (v) => hp.addMemory(0, HOT + GiB, n(v))],
    ['addMemory flags', (v) => hp.addMemory(0, HOT + GiB, BLOCK, n(v ?? NaN))],
    ['__addMemory nid', (v) => hp.__addMemory(n(v), HOT + GiB, BLOCK, MHP_NONE)],
    ['__addMemory size', (v) => hp.__addMemory(0, HOT + GiB, n(v), MHP_NONE)],
    ['addMemoryDriverManaged start', (v) => hp.addMemoryDriverManaged(0, n(v), BLOCK, 'System RAM (kmem)')],
    ['addMemoryDriverManaged size', (v) => hp.addMemoryDriverManaged(0, HOT + GiB, n(v), 'System RAM (kmem)')],
    ['removeMemory nid', (v) => hp.removeMemory(n(v), HOT, BLOCK)],
    ['removeMemory start', (v) => hp.removeMemory(0, n(v), BLOCK)],
    ['removeMemory size', (v) => hp.removeMemory(0, HOT, n(v))],
    ['__removeMemory start', (v) => hp.__removeMemory(0, n(v), BLOCK)],
    ['tryRemoveMemory start', (v) => hp.tryRemoveMemory(0, n(v), BLOCK)],
    ['tryRemoveMemory size', (v) => hp.tryRemoveMemory(0, HOT, n(v))],
    ['offlineAndRemoveMemory start', (v) => hp.offlineAndRemoveMemory(0, n(v), BLOCK)],
    ['offlineAndRemoveMemory size', (v) => hp.offlineAndRemoveMemory(0, HOT, n(v))],
    ['mhpRangeAllowed start', (v) => hp.mhpRangeAllowed(n(v), BLOCK, true)],
    ['mhpRangeAllowed size', (v) => hp.mhpRangeAllowed(HOT + GiB, n(v), true)],
    ['updateEndOfMemoryVars start', (v) => hp.updateEndOfMemoryVars(n(v), BLOCK)],
    ['updateEndOfMemoryVars size', (v) => hp.updateEndOfMemoryVars(HOT + GiB, n(v))],
    ['restoreEndOfMemoryVars maxPfn', (v) => hp.restoreEndOfMemoryVars(n(v), hp.maxLowPfn)],
    ['restoreEndOfMemoryVars maxLowPfn', (v) => hp.restoreEndOfMemoryVars(hp.maxPfn, n(v))],
    ['archAddMemory nid', (v) => hp.archAddMemory(n(v), HOT + GiB, BLOCK, params)],
    ['archAddMemory start', (v) => hp.archAddMemory(0, n(v), BLOCK, params)],
    ['archAddMemory size', (v) => hp.archAddMemory(0, HOT + GiB, n(v), params)],
    ['archRemoveMemory start', (v) => hp.archRemoveMemory(0, n(v), BLOCK, undefined)],
    ['archRemoveMemory size', (v) => hp.archRemoveMemory(0, HOT, n(v), undefined)],
    ['addPages pfn', (v) => hp.addPages(0, n(v), NR, params)],
    ['addPages nrPages', (v) => hp.addPages(0, (HOT + GiB) / 4096, n(v), params)],
    ['__addPages pfn', (v) => hp.__addPages(0, n(v), NR, params)],
    ['__addPages nrPages', (v) => hp.__addPages(0, (HOT + GiB) / 4096, n(v), params)],
    ['removePages pfn', (v) => hp.removePages(n(v), NR, undefined)],
    ['removePages nrPages', (v) => hp.removePages(PFN, n(v), undefined)],
    ['pfnToOnlinePage', (v) => hp.pfnToOnlinePage(n(v))],
    ['movePfnRangeToZone pfn', (v) => hp.movePfnRangeToZone(zone, n(v), NR, undefined, 1)],
    ['movePfnRangeToZone nrPages', (v) => hp.movePfnRangeToZone(zone, PFN, n(v), undefined, 1)],
    ['movePfnRangeToZone migratetype', (v) => hp.movePfnRangeToZone(zone, PFN, NR, undefined, n(v))],
    ['removePfnRangeFromZone pfn', (v) => hp.removePfnRangeFromZone(zone, n(v), NR)],
    ['removePfnRangeFromZone nrPages', (v) => hp.removePfnRangeFromZone(zone, PFN + NR, n(v))],
    ['defaultKernelZoneForPfn nid', (v) => hp.defaultKernelZoneForPfn(n(v), PFN, NR)],
    ['defaultKernelZoneForPfn pfn', (v) => hp.defaultKernelZoneForPfn(0, n(v), NR)],
    ['defaultZoneForPfn nrPages', (v) => hp.defaultZoneForPfn(0, PFN, n(v))],
    ['zoneForPfnRange nid', (v) => hp.zoneForPfnRange(1, n(v), PFN, NR)],
    ['zoneForPfnRange pfn', (v) => hp.zoneForPfnRange(1, 0, n(v), NR)],
    ['zoneForPfnRange type', (v) => hp.zoneForPfnRange(n(v) as never, 0, PFN, NR)],
    ['adjustPresentPageCount', (v) => hp.adjustPresentPageCount(zone, n(v))],
    ['testPagesInAZone start', (v) => hp.testPagesInAZone(n(v), PFN + 2 * NR)],
    ['testPagesInAZone end', (v) => hp.testPagesInAZone(PFN, n(v))],
    ['mhpSupportsMemmapOnMemory', (v) => hp.mhpSupportsMemmapOnMemory(n(v))],
    ['mhpInitMemmapOnMemory pfn', (v) => hp.mhpInitMemmapOnMemory(n(v), 1024, zone)],
    ['mhpInitMemmapOnMemory nrPages', (v) => hp.mhpInitMemmapOnMemory(PFN, n(v), zone)],
    ['mhpDeinitMemmapOnMemory pfn', (v) => hp.mhpDeinitMemmapOnMemory(n(v), 1024)],
    ['mhpDeinitMemmapOnMemory nrPages', (v) => hp.mhpDeinitMemmapOnMemory(PFN, n(v))],
    ['onlinePages pfn', (v) => hp.onlinePages(n(v), NR, zone)],
    ['onlinePages nrPages', (v) => hp.onlinePages(PFN, n(v), zone)],
    ['offlinePages pfn', (v) => hp.offlinePages(n(v), NR)],
    ['offlinePages nrPages', (v) => hp.offlinePages(PFN + NR, n(v))],
    ['tryOnlineNode', (v) => hp.tryOnlineNode(n(v))],
    ['tryOfflineNode', (v) => hp.tryOfflineNode(n(v))],
    ['memory.memoryBlockId', (v) => mem.memoryBlockId(n(v))],
    ['memory.pfnToBlockId', (v) => mem.pfnToBlockId(n(v))],
    ['memory.physToBlockId', (v) => mem.physToBlockId(n(v))],
    ['memory.initMemoryBlock id', (v) => mem.initMemoryBlock(n(v), 2, 0)],
    ['memory.initMemoryBlock state', (v) => mem.initMemoryBlock(50, n(v), 0)],
    ['memory.initMemoryBlock vmemmap', (v) => mem.initMemoryBlock(50, 2, n(v))],
    ['memory.createMemoryBlockDevices start', (v) => mem.createMemoryBlockDevices(n(v), BLOCK, 0)],
    ['memory.createMemoryBlockDevices size', (v) => mem.createMemoryBlockDevices(HOT + GiB, n(v), 0)],
    ['memory.createMemoryBlockDevices vmemmap', (v) => mem.createMemoryBlockDevices(HOT + GiB, BLOCK, n(v))],
    ['memory.removeMemoryBlockDevices start', (v) => mem.removeMemoryBlockDevices(n(v), BLOCK)],
    ['memory.removeMemoryBlockDevices size', (v) => mem.removeMemoryBlockDevices(HOT, n(v))],
    ['memory.findMemoryBlockById', (v) => mem.findMemoryBlockById(n(v))],
    ['memory.findMemoryBlock', (v) => mem.findMemoryBlock(n(v))],
    ['memory.walkMemoryBlocks start', (v) => mem.walkMemoryBlocks(n(v), BLOCK, () => 0)],
    ['memory.walkMemoryBlocks size', (v) => mem.walkMemoryBlocks(HOT, n(v), () => 0)],
    ['memory.memoryNotify', (v) => mem.memoryNotify(n(v), { startPfn: PFN, nrPages: NR, statusChangeNid: -1, statusChangeNidN: -1, statusChangeNidNormal: -1 } as never)],
    ['nodes.nodeState', (v) => hp.nodes.nodeState(n(v), 'N_ONLINE')],
    ['nodes.nodeSetState', (v) => hp.nodes.nodeSetState(n(v), 'N_ONLINE')],
    ['nodes.nodeClearState', (v) => hp.nodes.nodeClearState(n(v), 'N_ONLINE')],
    ['nodes.nodePossible', (v) => hp.nodes.nodePossible(n(v))],
    ['nodes.nodeOnline', (v) => hp.nodes.nodeOnline(n(v))],
    ['nodes.nodeDevice', (v) => hp.nodes.nodeDevice(n(v))],
    ['nodes.nodeSetOnline', (v) => hp.nodes.nodeSetOnline(n(v))],
    ['nodes.nodeSetOffline', (v) => hp.nodes.nodeSetOffline(n(v))],
    ['nodes.registerOneNode', (v) => hp.nodes.registerOneNode(n(v))],
    ['nodes.unregisterOneNode', (v) => hp.nodes.unregisterOneNode(n(v))],
    ['nodes.registerMemoryBlockUnderNode', (v) => hp.nodes.registerMemoryBlockUnderNode(n(v), t.offline)],
    ['acpiMemoryEnableDevice nid', (v) => acpiMemoryEnableDevice(hp, 'PNP0C80:00', n(v), HOT + GiB, BLOCK)],
    ['acpiMemoryEnableDevice start', (v) => acpiMemoryEnableDevice(hp, 'PNP0C80:00', 0, n(v), BLOCK)],
    ['acpiMemoryEnableDevice size', (v) => acpiMemoryEnableDevice(hp, 'PNP0C80:00', 0, HOT + GiB, n(v))],
    ['formatNodeList', (v) => formatNodeList([0, n(v)])],
  ];
}

/**
 * Lookups the kernel answers with NULL or false for a node or block that
 * does not exist (`node_state()`, `find_memory_block_by_id()`), and
 * `register_memory_block_under_node()`, a no-op for an unregistered node:
 * for a bad number they may answer that way, as long as nothing changes.
 */
const QUERIES: readonly string[] = [
  'nodes.nodeState',
  'nodes.nodePossible',
  'nodes.nodeOnline',
  'nodes.nodeDevice',
  'nodes.registerMemoryBlockUnderNode',
  'memory.findMemoryBlockById',
  'memory.findMemoryBlock',
];

describe('every numeric argument of every entry point', () => {
  it('answers a bad number with a KernelError and changes nothing', () => {
    const t = machine();
    const before = snapshot(t.m);
    const wrong: string[] = [];
    for (const [name, call] of numericCalls(t)) {
      for (const v of BAD) {
        // adjust_present_page_count() takes a signed long: -1 is a valid count.
        if (name === 'adjustPresentPageCount' && v === -1) continue;
        const r = refusal(() => call(v));
        if (r !== 'EINVAL' && !(QUERIES.includes(name) && r === 'ok')) wrong.push(`${name}(${String(v)}): ${r}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(snapshot(t.m)).toEqual(before);
  });
});

describe('objects of the wrong kind and calls in the wrong state', () => {
  it('are refused with the kernel errno and change nothing', () => {
    const t = machine();
    const { m, zone } = t;
    const hp = m.hp;
    const before = snapshot(m);
    const answers = {
      zoneUndefined: refusal(() => hp.onlinePages(PFN, NR, undefined as never)),
      zoneString: refusal(() => hp.movePfnRangeToZone('ZONE_NORMAL' as never, PFN, NR, undefined, 1)),
      zoneNumber: refusal(() => hp.removePfnRangeFromZone(2 as never, PFN + NR, NR)),
      zoneNull: refusal(() => hp.adjustPresentPageCount(null as never, 1)),
      resourceName: refusal(() => hp.addMemoryDriverManaged(0, HOT + GiB, BLOCK, 5 as never)),
      acpiDevice: refusal(() => acpiMemoryEnableDevice(hp, 7 as never, 0, HOT + GiB, BLOCK)),
      onlineType: refusal(() => mhpOnlineTypeFromStr('online_fast')),
      // add_memory() over a range already added: register_memory_resource() -EEXIST.
      addTwice: refusal(() => hp.addMemory(0, HOT, BLOCK)),
      // remove_memory() of a block that is online: -EBUSY.
      removeOnline: refusal(() => hp.removeMemory(0, HOT + BLOCK, BLOCK)),
      // online_pages() of pages already online.
      onlineTwice: refusal(() => hp.onlinePages(PFN + NR, NR, zone)),
      // A second notifier-error-inject load.
      injectTwice: refusal(() => {
        const inject = new MemoryNotifierErrorInject(m.kernel, hp.memory.memoryChain);
        inject.load();
        try {
          inject.load();
        } finally {
          inject.unload();
        }
      }),
    };
    expect(answers).toEqual({
      zoneUndefined: 'EINVAL',
      zoneString: 'EINVAL',
      zoneNumber: 'EINVAL',
      zoneNull: 'EINVAL',
      resourceName: 'EINVAL',
      acpiDevice: 'EINVAL',
      onlineType: 'EINVAL',
      addTwice: 'EEXIST',
      removeOnline: 'EBUSY',
      onlineTwice: 'EINVAL',
      injectTwice: 'EEXIST',
    });
    expect(snapshot(m)).toEqual(before);
  });
});
