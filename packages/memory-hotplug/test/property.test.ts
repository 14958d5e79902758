// Model-based property test (fast-check fc.commands): random add / online
// (each type) / offline / remove / pin / unpin / write-data commands against a
// model of the expected block states and errnos; after every command the
// invariants hold: zone and node spans cover exactly their online pages,
// present and managed counts add up, no two resources overlap, and every
// byte written is still readable (wherever migration moved it).
import fc from 'fast-check';
import { KernelError } from '@zonedev/kernel';
import { userRead } from '@zonedev/mm';
import { MHP_MEMMAP_ON_MEMORY } from '@zonedev/memory-hotplug';
import { describe, expect, it } from 'vitest';
import type { TestMachine } from './machine.js';
import { GiB, MEM, MiB, bootMachine, pinPage, unpinPage, userPage } from './machine.js';
import type { UserPage } from './machine.js';

const SLOTS = 3;
const BASE = 4 * GiB;
const BLOCK = 128 * MiB;
const PAGES = 32768;
const FIRST_ID = BASE / BLOCK;

type Slot = 'absent' | 'offline' | 'online';

interface Model {
  slots: Slot[];
  memmapOnMemory: boolean[];
  pages: { data: Uint8Array; pinned: boolean }[];
}

interface Real {
  m: TestMachine;
  /** Logical page -> the process page holding it (its pfn follows migration through the PTE). */
  pages: UserPage[];
}

/** Outcomes seen over the whole run, so the test can show it was not vacuous. */
const seen = new Map<string, number>();

function outcome(what: string): void {
  seen.set(what, (seen.get(what) ?? 0) + 1);
}

function errnoOf(f: () => void): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    if (e instanceof KernelError) return e.errno;
    throw e;
  }
}

function slotOfPfn(pfn: number): number {
  return Math.floor((pfn * 4096 - BASE) / BLOCK);
}

function checkInvariants(model: Model, r: Real): void {
  const { m } = r;
  const hp = m.hp;
  const pgdat = m.mm.nodeData(1)!;
  // block states
  for (let s = 0; s < SLOTS; s++) {
    const mem = hp.memory.findMemoryBlockById(FIRST_ID + s);
    expect(mem === undefined ? 'absent' : mem.state === 1 ? 'online' : 'offline').toBe(model.slots[s]);
  }
  // zone spans cover exactly the online blocks of each zone; present/managed add up
  let nodePresent = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (const zone of pgdat.nodeZones) {
    if (zone.zoneIdx === m.mm.config.ZONE_DEVICE) continue;
    let zlo = Infinity;
    let zhi = -Infinity;
    let present = 0;
    let managed = 0;
    for (let s = 0; s < SLOTS; s++) {
      if (model.slots[s] !== 'online') continue;
      const start = (BASE + s * BLOCK) / 4096;
      if (hp.testPagesInAZone(start, start + PAGES) !== zone) continue;
      zlo = Math.min(zlo, start);
      zhi = Math.max(zhi, start + PAGES);
      present += PAGES;
      managed += PAGES - (model.memmapOnMemory[s] ? 512 : 0);
    }
    if (present === 0) expect([zone.zoneStartPfn, zone.spannedPages]).toEqual([0, 0]);
    else expect([zone.zoneStartPfn, zone.spannedPages]).toEqual([zlo, zhi - zlo]);
    expect(zone.presentPages).toBe(present);
    expect(zone.managedPages).toBe(managed);
    nodePresent += present;
    if (present > 0) {
      lo = Math.min(lo, zlo);
      hi = Math.max(hi, zhi);
    }
  }
  expect(pgdat.nodePresentPages).toBe(nodePresent);
  if (nodePresent === 0) expect(pgdat.nodeSpannedPages).toBe(0);
  else expect([pgdat.nodeStartPfn, pgdat.nodeSpannedPages]).toEqual([lo, hi - lo]);
  expect(hp.nodes.nodeState(1, 'N_MEMORY')).toBe(nodePresent > 0);
  // no two resources overlap (top level, in address order)
  let prevEnd = -1;
  for (let res = m.kernel.iomem.root.child; res !== undefined; res = res.sibling) {
    expect(res.start).toBeGreaterThan(prevEnd);
    prevEnd = res.end;
  }
  // every byte written is still readable, in online memory
  model.pages.forEach((p, i) => {
    const page = r.pages[i]!;
    const pfn = page.pfn();
    expect(userRead(page.mm, page.va, p.data.length)).toEqual(p.data);
    expect(m.mm.physmem.read(pfn * 4096, p.data.length)).toEqual(p.data);
    expect(hp.pfnToOnlinePage(pfn)).toBe(pfn);
  });
}

class Add implements fc.Command<Model, Real> {
  constructor(
    readonly slot: number,
    readonly mom: boolean,
  ) {}
  check(): boolean {
    return true;
  }
  run(model: Model, r: Real): void {
    const err = errnoOf(() => r.m.hp.addMemory(1, BASE + this.slot * BLOCK, BLOCK, this.mom ? MHP_MEMMAP_ON_MEMORY : 0));
    if (model.slots[this.slot] !== 'absent') expect(err).toBe('EEXIST');
    else {
      expect(err).toBeUndefined();
      model.slots[this.slot] = 'offline';
      model.memmapOnMemory[this.slot] = this.mom;
    }
    checkInvariants(model, r);
  }
  toString(): string {
    return `add(${this.slot}${this.mom ? ', MHP_MEMMAP_ON_MEMORY' : ''})`;
  }
}

class Online implements fc.Command<Model, Real> {
  constructor(
    readonly slot: number,
    readonly type: 'online' | 'online_kernel' | 'online_movable',
  ) {}
  check(): boolean {
    return true;
  }
  run(model: Model, r: Real): void {
    const err = errnoOf(() => r.m.kernel.sysfs.write(`${MEM}/memory${FIRST_ID + this.slot}/state`, `${this.type}\n`));
    outcome(`${this.type} ${err ?? 'ok'}`);
    const s = model.slots[this.slot];
    if (s === 'absent') expect(err).toBe('ENOENT');
    else if (s === 'online') expect(err).toBe('EINVAL');
    else {
      expect(err).toBeUndefined();
      model.slots[this.slot] = 'online';
      const zones = r.m.kernel.sysfs.read(`${MEM}/memory${FIRST_ID + this.slot}/valid_zones`);
      if (this.type === 'online_movable') expect(zones).toBe('Movable\n');
      if (this.type === 'online_kernel') expect(zones).toBe('Normal\n');
    }
    checkInvariants(model, r);
  }
  toString(): string {
    return `${this.type}(${this.slot})`;
  }
}

class Offline implements fc.Command<Model, Real> {
  constructor(
    readonly slot: number,
    /** Offline the block holding this page instead (when there are pages). */
    readonly ofPage?: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(model: Model, r: Real): void {
    const slot = this.ofPage !== undefined && model.pages.length > 0 ? slotOfPfn(r.pages[this.ofPage % model.pages.length]!.pfn()) : this.slot;
    if (slot < 0 || slot >= SLOTS) return checkInvariants(model, r); // the page lives in boot memory now
    const pinnedHere = model.pages.some((p, i) => p.pinned && slotOfPfn(r.pages[i]!.pfn()) === slot);
    const movedHere = model.pages.some((_p, i) => slotOfPfn(r.pages[i]!.pfn()) === slot);
    // The memmap of blocks added later is allocated on the node (GFP_KERNEL):
    // in a kernel zone it can land here, and then this block cannot be
    // isolated (commit a08a2ae346's reason (b)).
    const memmapHere = r.m.sparse.vmemmapBlocks().some((b) => b.source === 'ram' && slotOfPfn(b.pfn) === slot);
    const err = errnoOf(() => r.m.kernel.sysfs.write(`${MEM}/memory${FIRST_ID + slot}/state`, 'offline\n'));
    outcome(`offline ${err ?? (movedHere ? 'ok+migrated' : 'ok')}`);
    const s = model.slots[slot];
    if (s === 'absent') expect(err).toBe('ENOENT');
    else if (s === 'offline') expect(err).toBe('EINVAL');
    else if (memmapHere) expect(err).toBe('EBUSY');
    else if (pinnedHere) expect(err).toBe('EINTR');
    else {
      expect(err).toBeUndefined();
      model.slots[slot] = 'offline';
    }
    checkInvariants(model, r);
  }
  toString(): string {
    return this.ofPage === undefined ? `offline(${this.slot})` : `offline(block of page ${this.ofPage})`;
  }
}

class Remove implements fc.Command<Model, Real> {
  constructor(readonly slot: number) {}
  check(model: Model): boolean {
    return model.slots[this.slot] !== 'absent';
  }
  run(model: Model, r: Real): void {
    const err = errnoOf(() => r.m.hp.removeMemory(1, BASE + this.slot * BLOCK, BLOCK));
    outcome(`remove ${err ?? 'ok'}`);
    if (model.slots[this.slot] === 'online') expect(err).toBe('EBUSY');
    else {
      expect(err).toBeUndefined();
      model.slots[this.slot] = 'absent';
    }
    checkInvariants(model, r);
  }
  toString(): string {
    return `remove(${this.slot})`;
  }
}

class WriteData implements fc.Command<Model, Real> {
  constructor(readonly seed: number) {}
  check(): boolean {
    return true;
  }
  run(model: Model, r: Real): void {
    const data = Uint8Array.from({ length: 32 }, (_, k) => (this.seed + k * 7) % 256);
    const page = userPage(r.m, 1, data);
    const anyOnline = model.slots.some((s) => s === 'online');
    if (!anyOnline) expect(page).toBeUndefined();
    if (page !== undefined) {
      r.pages.push(page);
      model.pages.push({ data, pinned: false });
      outcome('write ok');
    }
    checkInvariants(model, r);
  }
  toString(): string {
    return `write(${this.seed})`;
  }
}

class Pin implements fc.Command<Model, Real> {
  constructor(
    readonly index: number,
    readonly pin: boolean,
  ) {}
  check(model: Model): boolean {
    return model.pages.length > 0;
  }
  run(model: Model, r: Real): void {
    const i = this.index % model.pages.length;
    const p = model.pages[i]!;
    if (this.pin && !p.pinned) {
      pinPage(r.pages[i]!);
      p.pinned = true;
    } else if (!this.pin && p.pinned) {
      unpinPage(r.pages[i]!);
      p.pinned = false;
    }
    checkInvariants(model, r);
  }
  toString(): string {
    return `${this.pin ? 'pin' : 'unpin'}(${this.index})`;
  }
}

const slot = fc.integer({ min: 0, max: SLOTS - 1 });
const add = fc.tuple(slot, fc.boolean()).map(([s, mom]) => new Add(s, mom));
const online = fc
  .tuple(slot, fc.constantFrom('online', 'online_kernel', 'online_movable') as fc.Arbitrary<'online' | 'online_kernel' | 'online_movable'>)
  .map(([s, t]) => new Online(s, t));
const write = fc.integer({ min: 0, max: 255 }).map((x) => new WriteData(x));
const pin = fc.tuple(fc.nat(), fc.boolean()).map(([i, p]) => new Pin(i, p));
// Weighted by repetition: adding, onlining and writing come up more often than removing.
const commands = [add, add, add, online, online, online, write, write, write, pin, pin, slot.map((s) => new Offline(s)), fc.nat().map((i) => new Offline(0, i)), slot.map((s) => new Remove(s))];

describe('memory hotplug model', () => {
  it('keeps its invariants under random add/online/offline/remove/pin/unpin/write', () => {
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 40, size: 'max' }), (cmds) => {
        const m = bootMachine({ hotplug: { possibleNodes: [0, 1], memmapOnMemory: true, offlineSignalPasses: 4 } });
        const model: Model = { slots: Array<Slot>(SLOTS).fill('absent'), memmapOnMemory: Array<boolean>(SLOTS).fill(false), pages: [] };
        fc.modelRun(() => ({ model, real: { m, pages: [] } }), cmds);
      }),
      { numRuns: 30, seed: 20210505 },
    );
    if (process.env.SHOW_OUTCOMES) console.log(seen);
    for (const o of ['online ok', 'online_kernel ok', 'online_movable ok', 'offline ok+migrated', 'offline EINTR', 'offline EBUSY', 'remove ok', 'remove EBUSY', 'write ok']) {
      expect(seen.get(o) ?? 0, o).toBeGreaterThan(0);
    }
  });
});
