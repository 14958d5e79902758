// Test architectures and test doubles for @zonedev/sparse-vmemmap.
import { Kernel, SZ_16M, SZ_2M } from '@zonedev/kernel';
import type { HostMemoryGuard, SectionMemmapStore, SparseArch, VmemAltmap, VmemmapPageAllocator } from '../src/index.js';
import { SparseMemory } from '../src/index.js';

/** x86_64, 4-level paging: 4K pages, 128 MiB sections, 46 bits. */
export const X86_64: SparseArch = {
  pageShift: 12,
  sectionSizeBits: 27,
  maxPhysmemBits: 46,
  vmemmapStart: 0xffffea0000000000n,
  pmdSize: SZ_2M,
  vmemmapPageSize: SZ_2M,
  vmemmapPopulate: 'x86_64',
  maxDmaAddress: SZ_16M,
};

/** x86_64 with 5-level paging: 52 bits, 2^25 sections. */
export const X86_64_LA57: SparseArch = { ...X86_64, maxPhysmemBits: 52, vmemmapStart: 0xffd4000000000000n };

/** powerpc64 book3s hash, 64K pages: 16 MiB sections, 16 MiB vmemmap pages. */
export const PPC64_HASH: SparseArch = {
  pageShift: 16,
  sectionSizeBits: 24,
  maxPhysmemBits: 51,
  vmemmapStart: 0xc00c000000000000n,
  pmdSize: SZ_16M,
  vmemmapPageSize: SZ_16M,
  vmemmapPopulate: 'powerpc',
  maxDmaAddress: 0,
};

/** powerpc64 radix, 64K pages: 2 MiB vmemmap pages. */
export const PPC64_RADIX: SparseArch = { ...PPC64_HASH, maxPhysmemBits: 46, pmdSize: SZ_2M, vmemmapPageSize: SZ_2M };

/** An x86-like test architecture with 64 MiB sections: two sections' memmaps share one 2 MiB PMD. */
export const X86_SMALL_SECTIONS: SparseArch = { ...X86_64, sectionSizeBits: 26 };

/** An x86-like test architecture with 256 MiB sections: a section's memmap spans two PMDs. */
export const X86_BIG_SECTIONS: SparseArch = { ...X86_64, sectionSizeBits: 28 };

export interface NodeSpan {
  readonly nid: number;
  readonly startPfn: number;
  readonly nrPages: number;
}

const FREE = 0;
const USED = 1;
const RESERVED = 2;

/**
 * A page allocator double: per node a byte per page (free, allocated,
 * reserved). Allocations are the lowest naturally aligned free block, on the
 * requested node first and then (unless `strictNode`) on the others, like a
 * zonelist fallback.
 */
export class FakeBuddy implements VmemmapPageAllocator {
  private readonly nodes: { span: NodeSpan; state: Uint8Array; free: number }[];
  strictNode = false;
  /** Allocations left before every further one fails (undefined: no limit). */
  allocationsLeft: number | undefined = undefined;
  readonly log: string[] = [];

  constructor(spans: readonly NodeSpan[]) {
    this.nodes = spans.map((span) => ({ span, state: new Uint8Array(span.nrPages), free: span.nrPages }));
  }

  private node(pfn: number): { span: NodeSpan; state: Uint8Array; free: number } {
    const n = this.nodes.find((x) => pfn >= x.span.startPfn && pfn < x.span.startPfn + x.span.nrPages);
    if (n === undefined) throw new Error(`pfn 0x${pfn.toString(16)} is not on any node`);
    return n;
  }

  readonly gfps = new Set<number>();

  allocPagesNode(nid: number, gfp: number, order: number): number | undefined {
    this.gfps.add(gfp);
    if (this.allocationsLeft !== undefined) {
      if (this.allocationsLeft === 0) return undefined;
      this.allocationsLeft--;
    }
    const size = 2 ** order;
    const order_ = [...this.nodes].sort((a, b) => (a.span.nid === nid ? -1 : 0) - (b.span.nid === nid ? -1 : 0));
    for (const n of order_) {
      if (this.strictNode && n.span.nid !== nid) continue;
      const first = Math.ceil(n.span.startPfn / size) * size;
      for (let pfn = first; pfn + size <= n.span.startPfn + n.span.nrPages; pfn += size) {
        const off = pfn - n.span.startPfn;
        let ok = true;
        for (let i = 0; i < size; i++) {
          if (n.state[off + i] !== FREE) {
            ok = false;
            break;
          }
        }
        if (!ok) continue;
        n.state.fill(USED, off, off + size);
        n.free -= size;
        this.log.push(`alloc ${order} @0x${pfn.toString(16)}`);
        return pfn;
      }
    }
    return undefined;
  }

  freePages(pfn: number, order: number): void {
    const n = this.node(pfn);
    const off = pfn - n.span.startPfn;
    for (let i = 0; i < 2 ** order; i++) {
      if (n.state[off + i] !== USED) throw new Error(`double free of pfn 0x${(pfn + i).toString(16)}`);
    }
    n.state.fill(FREE, off, off + 2 ** order);
    n.free += 2 ** order;
    this.log.push(`free ${order} @0x${pfn.toString(16)}`);
  }

  freeReservedPages(pfn: number, nrPages: number): void {
    const n = this.node(pfn);
    const off = pfn - n.span.startPfn;
    for (let i = 0; i < nrPages; i++) {
      if (n.state[off + i] !== RESERVED) throw new Error(`pfn 0x${(pfn + i).toString(16)} was not reserved`);
    }
    n.state.fill(FREE, off, off + nrPages);
    n.free += nrPages;
    this.log.push(`free_reserved ${nrPages} @0x${pfn.toString(16)}`);
  }

  pfnToNid(pfn: number): number {
    return this.node(pfn).span.nid;
  }

  /** Marks pages reserved (boot memory the allocator never had). */
  reserve(pfn: number, nrPages: number): void {
    const n = this.node(pfn);
    const off = pfn - n.span.startPfn;
    for (let i = 0; i < nrPages; i++) {
      if (n.state[off + i] === FREE) n.free--;
      n.state[off + i] = RESERVED;
    }
  }

  /** Allocates specific pages (to fragment memory). */
  take(pfn: number, nrPages: number): void {
    const n = this.node(pfn);
    const off = pfn - n.span.startPfn;
    for (let i = 0; i < nrPages; i++) {
      if (n.state[off + i] !== FREE) throw new Error('take: not free');
      n.state[off + i] = USED;
    }
    n.free -= nrPages;
  }

  nrFree(nid?: number): number {
    return this.nodes.filter((n) => nid === undefined || n.span.nid === nid).reduce((s, n) => s + n.free, 0);
  }

  /** A fingerprint of the whole state. */
  snapshot(): string {
    return this.nodes.map((n) => `${n.span.nid}:${n.free}:${hashBytes(n.state)}`).join('|');
  }
}

function hashBytes(a: Uint8Array): number {
  let h = 2166136261;
  // eslint-disable-next-line no-bitwise -- FNV-1a over bytes: a 32-bit hash word, not an address
  for (let i = 0; i < a.length; i++) h = Math.imul(h ^ a[i]!, 16777619);
  return h;
}

/** A struct-page store double: the sections with a memmap; refuses a double init or a drop of nothing. */
export class RecordingStore implements SectionMemmapStore {
  readonly sections = new Set<number>();
  readonly calls: string[] = [];

  initSection(sectionNr: number): void {
    if (this.sections.has(sectionNr)) throw new Error(`section ${sectionNr} initialised twice`);
    this.sections.add(sectionNr);
    this.calls.push(`init ${sectionNr}`);
  }

  dropSection(sectionNr: number): void {
    if (!this.sections.delete(sectionNr)) throw new Error(`section ${sectionNr} dropped without a memmap`);
    this.calls.push(`drop ${sectionNr}`);
  }

  snapshot(): string {
    return JSON.stringify([...this.sections].sort((a, b) => a - b));
  }
}

/** A machine of the tests: kernel, buddy, store and sparse memory. */
export function machine(
  arch: SparseArch,
  spans: readonly NodeSpan[],
  options: { dynamicDebug?: boolean; hostMemory?: HostMemoryGuard } = {},
): { kernel: Kernel; buddy: FakeBuddy; store: RecordingStore; sparse: SparseMemory } {
  const kernel = new Kernel();
  const buddy = new FakeBuddy(spans);
  const store = new RecordingStore();
  const sparse = new SparseMemory({
    kernel,
    arch,
    allocator: buddy,
    memmap: store,
    dynamicDebug: options.dynamicDebug ?? false,
    ...(options.hostMemory !== undefined ? { hostMemory: options.hostMemory } : {}),
  });
  return { kernel, buddy, store, sparse };
}

/** Everything observable about a machine, to prove a failed call changed nothing. */
export function snapshot(
  sparse: SparseMemory,
  parts: { buddy?: FakeBuddy; store?: RecordingStore; altmaps?: readonly VmemAltmap[]; monotonic?: boolean } = {},
): string {
  // Roots and __highest_present_section_nr only grow (as in the kernel): a
  // caller that unwinds successful adds by removing them cannot take them back.
  const mono = parts.monotonic ?? true;
  return JSON.stringify({
    sections: [...sparse.memSections()].map((ms) => [
      ms.sectionNr,
      ms.sectionMemMap,
      ms.nid,
      ms.usage?.subsectionMap.toString(),
      ms.usage?.early,
    ]),
    roots: mono ? sparse.sectionRoots : undefined,
    highest: mono ? sparse.highestPresentSectionNr : undefined,
    blocks: sparse.vmemmapBlocks().map((b) => [b.offset, b.size, b.pfn, b.source, b.nid, b.usedBytes]),
    buddy: parts.buddy?.snapshot(),
    store: parts.store?.snapshot(),
    altmaps: parts.altmaps?.map((a) => ({ ...a })),
  });
}

/** Runs `fn`, expects a KernelError with `errno`, and returns its message. */
export function expectErrno(fn: () => unknown, errno: string): string {
  try {
    fn();
  } catch (e) {
    const err = e as { errno?: string; message: string };
    if (err.errno !== errno) throw new Error(`expected ${errno}, got ${err.errno ?? String(e)}: ${err.message}`);
    return err.message;
  }
  throw new Error(`expected ${errno}, but the call succeeded`);
}
