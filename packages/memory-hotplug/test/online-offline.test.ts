// Onlining and offlining memory blocks: zone choice, accounting, the
// notifier chain, isolation, migration with contents, pinned pages, and
// offline_and_remove_memory (v5.13).
import { KernelError } from '@zonedev/kernel';
import type { MemoryNotify } from '@zonedev/memory-hotplug';
import { userRead } from '@zonedev/mm';
import { MEM_CANCEL_ONLINE, MEM_EVENT_NAMES, MEM_GOING_OFFLINE, MEM_GOING_ONLINE } from '@zonedev/memory-hotplug';
import { GFP_HIGHUSER_MOVABLE, __GFP_THISNODE, gfpOr } from '@zonedev/mmzone';
import { describe, expect, it } from 'vitest';
import type { TestMachine } from './machine.js';
import { GiB, MEM, MiB, allocKernelPage, bootMachine, pinPage, snapshot, unpinPage, userPage } from './machine.js';
import type { UserPage } from './machine.js';
import { errno } from './errno.js';

const HOT = 4 * GiB;
const BLOCK_PAGES = 32768;
const hotBlock = (i: number): number => HOT / 4096 + i * BLOCK_PAGES;

function state(m: TestMachine, n: number): string {
  return m.kernel.sysfs.read(`${MEM}/memory${n}/state`);
}

function write(m: TestMachine, n: number, file: string, v: string): void {
  m.kernel.sysfs.write(`${MEM}/memory${n}/${file}`, `${v}\n`);
}

/** Two nodes: boot RAM on node 0, hot-added blocks on node 1 (so allocations can be steered there). */
function twoNodes(blocks: number, type: string): TestMachine {
  const m = bootMachine({ hotplug: { possibleNodes: [0, 1] } });
  m.hp.addMemory(1, HOT, blocks * 128 * MiB);
  for (let i = 0; i < blocks; i++) write(m, 32 + i, 'state', type);
  return m;
}

describe('state and online files', () => {
  it('offline -> online -> offline; the current state again is -EINVAL through state, a no-op through online', () => {
    const m = bootMachine();
    m.hp.addMemory(0, HOT, 128 * MiB);
    expect(() => write(m, 32, 'state', 'offline')).toThrow(errno('EINVAL'));
    write(m, 32, 'state', 'online');
    expect(state(m, 32)).toBe('online\n');
    expect(m.kernel.sysfs.read(`${MEM}/memory32/online`)).toBe('1\n');
    const before = snapshot(m);
    expect(() => write(m, 32, 'state', 'online')).toThrow(errno('EINVAL'));
    expect(() => write(m, 32, 'state', 'online_movable')).toThrow(errno('EINVAL'));
    write(m, 32, 'online', '1');
    expect(snapshot(m)).toEqual(before);
    expect(() => write(m, 32, 'state', 'onlin')).toThrow(errno('EINVAL'));
    expect(() => write(m, 32, 'online', 'x')).toThrow(errno('EINVAL'));
    write(m, 32, 'online', '0');
    expect(state(m, 32)).toBe('offline\n');
    write(m, 32, 'online', '0');
    // v5.13 quirk: the failed `online_movable` above left mem->online_type set
    // (device_online() returned 1 before using it), so the next
    // device_online() through the `online` file onlines to ZONE_MOVABLE.
    write(m, 32, 'online', 'on');
    expect(m.kernel.sysfs.read(`${MEM}/memory32/valid_zones`)).toBe('Movable\n');
  });

  it('online accounts present and managed pages, spans the zone and node, frees to the buddy', () => {
    const m = bootMachine();
    const free = m.mm.nrFreePages();
    const total = m.mm.totalramPages;
    m.hp.addMemory(0, HOT, 256 * MiB);
    write(m, 33, 'state', 'online');
    const normal = m.mm.nodeData(0)!.nodeZones[m.mm.config.ZONE_NORMAL]!;
    expect([normal.zoneStartPfn, normal.spannedPages, normal.presentPages, normal.managedPages]).toEqual([hotBlock(1), BLOCK_PAGES, BLOCK_PAGES, BLOCK_PAGES]);
    expect(m.mm.nodeData(0)!.nodeStartPfn).toBe(1);
    expect(m.mm.nodeData(0)!.nodeSpannedPages).toBe(hotBlock(2) - 1);
    expect(m.mm.nrFreePages()).toBe(free - 2 * 512 + BLOCK_PAGES);
    expect(m.mm.totalramPages).toBe(total + BLOCK_PAGES);
    expect(m.hp.pfnToOnlinePage(hotBlock(1) + 5)).toBe(hotBlock(1) + 5);
    expect(m.hp.pfnToOnlinePage(hotBlock(0) + 5)).toBeUndefined();
    write(m, 33, 'state', 'offline');
    expect([normal.zoneStartPfn, normal.spannedPages, normal.presentPages, normal.managedPages]).toEqual([0, 0, 0, 0]);
    expect(m.mm.nrFreePages()).toBe(free - 2 * 512);
    expect(m.mm.totalramPages).toBe(total);
    expect(m.hp.pfnToOnlinePage(hotBlock(1) + 5)).toBeUndefined();
  });
});

describe('zone choice (zone_for_pfn_range, v5.13 contiguous zones)', () => {
  it('online_movable, online_kernel, and the default following the zone a block touches', () => {
    const m = bootMachine();
    m.hp.addMemory(0, HOT, 512 * MiB);
    expect(m.kernel.sysfs.read(`${MEM}/memory33/valid_zones`)).toBe('Normal Movable\n');
    write(m, 34, 'state', 'online_movable');
    expect(m.kernel.sysfs.read(`${MEM}/memory34/valid_zones`)).toBe('Movable\n');
    // memory33 now lies next to ZONE_MOVABLE only at its end: zones do not overlap it
    expect(m.kernel.sysfs.read(`${MEM}/memory33/valid_zones`)).toBe('Normal Movable\n');
    write(m, 32, 'state', 'online_movable');
    // memory33 is now inside the Movable span: Movable is the default
    expect(m.kernel.sysfs.read(`${MEM}/memory33/valid_zones`)).toBe('Movable Normal\n');
    write(m, 33, 'state', 'online');
    expect(m.kernel.sysfs.read(`${MEM}/memory33/valid_zones`)).toBe('Movable\n');
    write(m, 35, 'state', 'online_kernel');
    expect(m.kernel.sysfs.read(`${MEM}/memory35/valid_zones`)).toBe('Normal\n');
    const z = m.mm.nodeData(0)!.nodeZones;
    expect(z[m.mm.config.ZONE_MOVABLE]!.presentPages).toBe(3 * BLOCK_PAGES);
    expect(z[m.mm.config.ZONE_NORMAL]!.presentPages).toBe(BLOCK_PAGES);
  });

  it('movable_node: the default zone of a block that touches no zone is ZONE_MOVABLE', () => {
    const m = bootMachine({ hotplug: { movableNode: true } });
    m.hp.addMemory(0, HOT, 128 * MiB);
    expect(m.kernel.sysfs.read(`${MEM}/memory32/valid_zones`)).toBe('Movable Normal\n');
    write(m, 32, 'state', 'online');
    expect(m.kernel.sysfs.read(`${MEM}/memory32/valid_zones`)).toBe('Movable\n');
    expect(m.hp.zoneForPfnRange(2, 0, hotBlock(1), BLOCK_PAGES).name).toBe('Normal');
  });

  it('the first memory of a node sets N_MEMORY and N_NORMAL_MEMORY, its last clears them', () => {
    const m = bootMachine({ hotplug: { possibleNodes: [0, 1] } });
    m.hp.addMemory(1, HOT, 256 * MiB);
    const has = (f: string): string => m.kernel.sysfs.read(`/sys/devices/system/node/${f}`);
    expect([has('online'), has('has_memory'), has('has_normal_memory')]).toEqual(['0-1\n', '0\n', '0\n']);
    write(m, 32, 'state', 'online_movable');
    expect([has('has_memory'), has('has_normal_memory')]).toEqual(['0-1\n', '0\n']);
    write(m, 33, 'state', 'online_kernel');
    expect([has('has_memory'), has('has_normal_memory')]).toEqual(['0-1\n', '0-1\n']);
    write(m, 33, 'state', 'offline');
    write(m, 32, 'state', 'offline');
    expect([has('has_memory'), has('has_normal_memory')]).toEqual(['0\n', '0\n']);
  });
});

describe('the memory notifier chain', () => {
  it('announces GOING_ONLINE/ONLINE and GOING_OFFLINE/OFFLINE with the range and node changes; the block reads going-offline meanwhile', () => {
    const m = bootMachine({ hotplug: { possibleNodes: [0, 1] } });
    m.hp.addMemory(1, HOT, 128 * MiB);
    const seen: string[] = [];
    m.hp.memory.registerMemoryNotifier({
      notifierCall: (_nb, val, arg: MemoryNotify) => {
        seen.push(`${MEM_EVENT_NAMES[val]} ${arg.startPfn.toString(16)}+${arg.nrPages} nid=${arg.statusChangeNid} normal=${arg.statusChangeNidNormal} ${state(m, 32).trim()}`);
        return 0;
      },
    });
    write(m, 32, 'state', 'online');
    write(m, 32, 'state', 'offline');
    expect(seen).toEqual([
      'MEM_GOING_ONLINE 100000+32768 nid=1 normal=1 offline',
      'MEM_ONLINE 100000+32768 nid=1 normal=1 offline',
      'MEM_GOING_OFFLINE 100000+32768 nid=1 normal=1 going-offline',
      'MEM_OFFLINE 100000+32768 nid=1 normal=1 going-offline',
    ]);
  });

  it('a veto of MEM_GOING_ONLINE fails with the errno, sends MEM_CANCEL_ONLINE and leaves the block offline', () => {
    const m = bootMachine();
    m.hp.addMemory(0, HOT, 128 * MiB);
    const before = snapshot(m);
    const seen: number[] = [];
    m.hp.memory.registerMemoryNotifier({ priority: -1, notifierCall: (_nb, val) => (seen.push(val), 0) });
    m.hp.memory.registerMemoryNotifier({ notifierCall: (_nb, val) => (val === MEM_GOING_ONLINE ? 0x8000 + 1 + 16 : 0) });
    expect(() => write(m, 32, 'state', 'online')).toThrow(errno('EBUSY'));
    expect(seen).toEqual([MEM_CANCEL_ONLINE]);
    expect(snapshot(m)).toEqual(before);
  });
});

describe('offline_pages', () => {
  it('-EBUSY when an unmovable (kernel) page is in the block; everything stays online and usable', () => {
    const m = twoNodes(1, 'online_kernel');
    const pfn = allocKernelPage(m, 1)!;
    expect(pfn).toBeGreaterThanOrEqual(hotBlock(0));
    const before = snapshot(m);
    expect(() => write(m, 32, 'state', 'offline')).toThrow(errno('EBUSY'));
    expect(m.kernel.log.dmesg()).toContain('failed due to failure to isolate range');
    expect(snapshot(m)).toEqual(before);
    expect(state(m, 32)).toBe('online\n');
    // the memory still serves allocations
    expect(allocKernelPage(m, 1)).toBeDefined();
    m.mm.putPage(pfn as never);
  });

  it('-EBUSY for a referenced PageOffline page (scan_movable_pages), found past pages that are free or not on the LRU', () => {
    const m = twoNodes(1, 'online_movable');
    // a balloon driver's page: a movable allocation (balloon_page_alloc()), not on the LRU, PageOffline, referenced
    const pfn = m.mm.allocPagesNode(1, gfpOr(GFP_HIGHUSER_MOVABLE, __GFP_THISNODE), 0)!;
    m.mm.memmap.setPageOffline(pfn);
    const before = snapshot(m);
    expect(() => write(m, 32, 'state', 'offline')).toThrow(errno('EBUSY'));
    expect(m.kernel.log.dmesg()).toContain('failed due to unmovable page');
    expect(snapshot(m)).toEqual(before);
    expect(state(m, 32)).toBe('online\n');
  });

  it("migrates a process's pages with their contents to other memory; each PTE follows its page", () => {
    const m = twoNodes(2, 'online_movable');
    const data = (i: number): Uint8Array => Uint8Array.from({ length: 64 }, (_, k) => (i * 31 + k) % 256);
    const pages: UserPage[] = [];
    for (let i = 0; i < 20; i++) pages.push(userPage(m, 1, data(i))!);
    const inBlock = (pfn: number, b: number): boolean => pfn >= hotBlock(b) && pfn < hotBlock(b + 1);
    const victim = pages.some((p) => inBlock(p.pfn(), 0)) ? 0 : 1;
    const before = pages.map((p) => p.pfn());
    write(m, 32 + victim, 'state', 'offline');
    expect(state(m, 32 + victim)).toBe('offline\n');
    pages.forEach((p, i) => {
      expect(inBlock(p.pfn(), victim)).toBe(false);
      if (!inBlock(before[i]!, victim)) expect(p.pfn()).toBe(before[i]);
      expect(userRead(p.mm, p.va, 64)).toEqual(data(i));
      expect(m.mm.physmem.read(p.pfn() * 4096, 64)).toEqual(data(i));
    });
    // the old frames are gone from the allocator with the block
    expect(m.mm.nodeData(1)!.nodeZones[m.mm.config.ZONE_MOVABLE]!.presentPages).toBe(BLOCK_PAGES);
  });

  it('a pinned page is retried, then the stand-in signal ends the wait with -EINTR; unpinned, offlining succeeds', () => {
    const m = twoNodes(1, 'online_movable');
    const page = userPage(m, 1)!;
    const pfn = page.pfn();
    pinPage(page); // pin_user_pages(): a DMA in flight
    const before = snapshot(m);
    let thrown: unknown;
    try {
      write(m, 32, 'state', 'offline');
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(KernelError);
    expect((thrown as KernelError).errno).toBe('EINTR');
    expect(m.kernel.log.dmesg()).toContain('failed due to signal backoff');
    expect(m.kernel.log.dmesg()).toContain(`migrating pfn ${pfn.toString(16)} failed ret:1`);
    expect(snapshot(m)).toEqual(before);
    unpinPage(page);
    write(m, 32, 'state', 'offline');
    expect(state(m, 32)).toBe('offline\n');
    expect(page.pfn()).not.toBe(pfn);
  });

  it('MEM_GOING_OFFLINE veto: MEM_CANCEL_OFFLINE and the block stays online', () => {
    const m = twoNodes(1, 'online');
    const before = snapshot(m);
    const seen: number[] = [];
    m.hp.memory.registerMemoryNotifier({ priority: -1, notifierCall: (_nb, val) => (seen.push(val), 0) });
    m.hp.memory.registerMemoryNotifier({ notifierCall: (_nb, val) => (val === MEM_GOING_OFFLINE ? 0x8000 + 1 + 12 : 0) });
    expect(() => write(m, 32, 'state', 'offline')).toThrow(errno('ENOMEM'));
    expect(seen.map((v) => MEM_EVENT_NAMES[v])).toEqual(['MEM_CANCEL_OFFLINE']);
    expect(snapshot(m)).toEqual(before);
  });

  it('direct calls: -EINVAL for misaligned ranges and multizone ranges', () => {
    const m = bootMachine();
    expect(() => m.hp.offlinePages(5, BLOCK_PAGES)).toThrow(errno('EINVAL'));
    expect(() => m.hp.onlinePages(0, 0, m.mm.nodeData(0)!.nodeZones[0]!)).toThrow(errno('EINVAL'));
    // memory0 has the low-memory hole
    expect(() => m.hp.offlinePages(0, BLOCK_PAGES)).toThrow(errno('EINVAL'));
    expect(m.kernel.log.dmesg()).toContain('memory offlining [mem 0x00000000-0x07ffffff] failed due to memory holes');
    // without the hole, memory0 still spans DMA and DMA32
    const n = bootMachine({ memory: [{ start: 0, size: GiB, nid: 0 }] });
    expect(() => n.hp.offlinePages(0, BLOCK_PAGES)).toThrow(errno('EINVAL'));
    expect(n.kernel.log.dmesg()).toContain('failed due to multizone range');
    expect(n.kernel.sysfs.read(`${MEM}/memory0/valid_zones`)).toBe('none\n');
  });
});

describe('offline_and_remove_memory', () => {
  it('offlines and removes a range of online blocks', () => {
    const m = twoNodes(2, 'online_movable');
    userPage(m, 1);
    m.hp.offlineAndRemoveMemory(1, HOT, 256 * MiB);
    expect(m.hp.memory.allBlocks().map((b) => b.blockId)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(m.kernel.iomem.procIomem()).not.toContain('100000000');
  });

  it('re-onlines what it offlined with the original online type when a later block fails', () => {
    const m = twoNodes(3, 'online_movable');
    write(m, 33, 'state', 'offline');
    write(m, 33, 'state', 'online_kernel');
    // block 34: pin a page in it
    let pinned: UserPage | undefined;
    for (let i = 0; i < 40000 && pinned === undefined; i++) {
      const p = userPage(m, 1)!;
      if (p.pfn() >= hotBlock(2)) pinned = p;
    }
    pinPage(pinned!);
    expect(() => m.hp.offlineAndRemoveMemory(1, HOT, 384 * MiB)).toThrow(errno('EINTR'));
    expect([32, 33, 34].map((n) => state(m, n))).toEqual(['online\n', 'online\n', 'online\n']);
    expect([32, 33, 34].map((n) => m.kernel.sysfs.read(`${MEM}/memory${n}/valid_zones`))).toEqual(['Movable\n', 'Normal\n', 'Movable\n']);
    expect(() => m.hp.offlineAndRemoveMemory(1, HOT + 1, 128 * MiB)).toThrow(errno('EINVAL'));
  });
});
