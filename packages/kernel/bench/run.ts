// Benchmarks of @zonedev/kernel, reported as ratios (pnpm bench).
//
// Tracing must cost nothing measurable while it is off. ftrace traces
// out-of-line kernel functions (a `static inline` such as pfn_to_section_nr()
// is never traced), so the measured function is a real one of this package:
// `region_intersects()` (kernel/resource.c), which page_is_ram(),
// memremap_pages() and devm_request_free_mem_region() call. The subject is
// its traced entry point with tracing off; the baseline is the same body
// called directly, without the tracing check (target ratio <= 1.05).
//
// A second case measures the pattern without a private twin, `traced()` of
// src/trace.ts, on the same receiver, body and argument check: the wrapper
// is installed on the ResourceTree prototype beside today's entry point
// (which does not change the tree's shape) and is compared with the same
// untraced body, in the same run (target ratio <= 1.05).
//
// Two reported-only cases put the same check on a 2 ns inline-sized body,
// written both ways, to show the floor cost of the check itself (two loads
// and a branch; the wrapper adds a call and its rest arguments).
import { runRatios } from '@zonedev/bench-kit';
import { checkPhysRange, IORESOURCE_BUSY, IORESOURCE_MEM, IORESOURCE_SYSTEM_RAM, IORES_DESC_NONE, Kernel, Tracer } from '../src/index.js';
import { defineResNamed, type ResourceTree } from '../src/resource.js';
import { traceMethod, traced } from '../src/trace.js';
import { shr } from '../src/sizes.js';

// A QEMU pc guest's iomem: RAM below 4G, the reserved BIOS ranges, PCI BARs,
// RAM above 4G, a legacy pmem range and a hot-plugged DIMM.
const kernel = new Kernel();
const tree = kernel.iomem;
const add = (start: number, size: number, name: string, flags: number): void => {
  tree.requestResource(tree.root, defineResNamed(start, size, name, flags));
};
add(0x1000, 0x9f000, 'System RAM', IORESOURCE_SYSTEM_RAM);
add(0xa0000, 0x20000, 'PCI Bus 0000:00', IORESOURCE_MEM);
add(0xf0000, 0x10000, 'Reserved', IORESOURCE_MEM + IORESOURCE_BUSY);
add(0x100000, 0xbfee0000, 'System RAM', IORESOURCE_SYSTEM_RAM);
add(0xc0000000, 0x3ec00000, 'PCI Bus 0000:00', IORESOURCE_MEM);
add(0xfec00000, 0x1000, 'IOAPIC 0', IORESOURCE_MEM + IORESOURCE_BUSY);
add(0xfed00000, 0x400, 'HPET 0', IORESOURCE_MEM + IORESOURCE_BUSY);
add(0xfee00000, 0x1000, 'Local APIC', IORESOURCE_MEM + IORESOURCE_BUSY);
add(0xfffc0000, 0x40000, 'Reserved', IORESOURCE_MEM + IORESOURCE_BUSY);
add(0x100000000, 0x40000000, 'System RAM', IORESOURCE_SYSTEM_RAM);
add(0x140000000, 0x40000000, 'Persistent Memory (legacy)', IORESOURCE_MEM);
add(0x180000000, 0x8000000, 'System RAM', IORESOURCE_SYSTEM_RAM);

type RegionFn = (start: number, size: number, flags: number, desc: number) => number;
// The untraced body: the private method the traced entry point dispatches to.
const body = (tree as unknown as { regionIntersectsLocked: RegionFn }).regionIntersectsLocked.bind(tree);

// The same entry point as a wrapper around the untraced body, with no twin.
const proto = Object.getPrototypeOf(tree) as { regionIntersectsLocked: RegionFn; regionIntersectsWrapped: RegionFn };
proto.regionIntersectsWrapped = traced<ResourceTree, Parameters<RegionFn>, number>('region_intersects', (start, size) =>
  checkPhysRange('region_intersects', start, size),
)(proto.regionIntersectsLocked);
const wrapped = tree as unknown as { regionIntersectsWrapped: RegionFn };

// Every traced() wrapper is a closure of one function literal, so V8 keeps
// one feedback vector for all of them: a package traces dozens of methods,
// and the wrapper's call of its body sees them all. Make that call site
// megamorphic before measuring, as it is in the model.
for (let k = 0; k < 12; k++) {
  const f = traced<{ tracer: Tracer }, [number], number>(`other_${k}`)(new Function('n', `return n + ${k};`) as (n: number) => number);
  const self = { tracer: new Tracer() };
  for (let i = 0; i < 1000; i++) f.call(self, i);
}

const N = 1024;
const starts = Float64Array.from({ length: N }, (_, i) => ((i * 2654435761) % 0x188000) * 0x1000);

const SECTION_SHIFT = 15;
class InlineSized {
  constructor(private readonly tracer: Tracer) {}
  pfnToSectionNr(pfn: number): number {
    if (this.tracer.enabled) return this.tracer.invoke('pfn_to_section_nr', this, this.impl, pfn);
    return this.impl(pfn);
  }
  private impl(pfn: number): number {
    return shr(pfn, SECTION_SHIFT);
  }
}
const inline = new InlineSized(new Tracer());
// The same check as traced(): the body is the method itself, no twin.
class InlineWrapped {
  constructor(readonly tracer: Tracer) {}
  static {
    traceMethod(InlineWrapped.prototype, 'pfnToSectionNr', 'pfn_to_section_nr');
  }
  pfnToSectionNr(pfn: number): number {
    return shr(pfn, SECTION_SHIFT);
  }
}
const inlineWrapped = new InlineWrapped(new Tracer());
const pfns = Float64Array.from({ length: 4096 }, (_, i) => (i * 2654435761) % 2 ** 34);

let sink = 0;
await runRatios('@zonedev/kernel: tracing while off', [
  {
    name: 'region_intersects(), tracing off / its untraced body (1024 calls)',
    target: 1.05,
    baseline: () => {
      let s = 0;
      for (let i = 0; i < N; i++) s += body(starts[i]!, 0x200000, IORESOURCE_SYSTEM_RAM, IORES_DESC_NONE);
      sink += s;
    },
    subject: () => {
      let s = 0;
      for (let i = 0; i < N; i++) s += tree.regionIntersects(starts[i]!, 0x200000, IORESOURCE_SYSTEM_RAM, IORES_DESC_NONE);
      sink += s;
    },
  },
  {
    name: 'region_intersects() as traced() wrapper, tracing off / its untraced body (1024 calls)',
    target: 1.05,
    baseline: () => {
      let s = 0;
      for (let i = 0; i < N; i++) s += body(starts[i]!, 0x200000, IORESOURCE_SYSTEM_RAM, IORES_DESC_NONE);
      sink += s;
    },
    subject: () => {
      let s = 0;
      for (let i = 0; i < N; i++) s += wrapped.regionIntersectsWrapped(starts[i]!, 0x200000, IORESOURCE_SYSTEM_RAM, IORES_DESC_NONE);
      sink += s;
    },
  },
  {
    name: 'reported only: the check on a 2 ns inline-sized body (4096 calls)',
    target: Infinity,
    baseline: () => {
      let s = 0;
      for (let i = 0; i < 4096; i++) s += shr(pfns[i]!, SECTION_SHIFT);
      sink += s;
    },
    subject: () => {
      let s = 0;
      for (let i = 0; i < 4096; i++) s += inline.pfnToSectionNr(pfns[i]!);
      sink += s;
    },
  },
  {
    name: 'reported only: traced() on the same 2 ns body (4096 calls)',
    target: Infinity,
    baseline: () => {
      let s = 0;
      for (let i = 0; i < 4096; i++) s += shr(pfns[i]!, SECTION_SHIFT);
      sink += s;
    },
    subject: () => {
      let s = 0;
      for (let i = 0; i < 4096; i++) s += inlineWrapped.pfnToSectionNr(pfns[i]!);
      sink += s;
    },
  },
]);
if (sink === -1) console.log(sink);
