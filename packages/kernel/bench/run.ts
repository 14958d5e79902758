// Benchmarks of @zonedev/kernel, reported as ratios (pnpm bench).
//
// Tracing must cost nothing measurable while it is off: a hot function written
// with the tracer pattern of src/trace.ts is compared with the same function
// written without it (target ratio <= 1.05).
import { runRatios } from '@zonedev/bench-kit';
import { Tracer, shr } from '@zonedev/kernel';

const SECTION_SHIFT = 15; // 128 MiB sections of 4 KiB pages

class Untraced {
  pfnToSectionNr(pfn: number): number {
    return shr(pfn, SECTION_SHIFT);
  }
}

class Traced {
  constructor(private readonly tracer: Tracer) {}
  pfnToSectionNr(pfn: number): number {
    if (this.tracer.enabled) return this.tracer.invoke('pfn_to_section_nr', this, this.impl, pfn);
    return this.impl(pfn);
  }
  private impl(pfn: number): number {
    return shr(pfn, SECTION_SHIFT);
  }
}

const N = 4096;
const pfns = Float64Array.from({ length: N }, (_, i) => (i * 2654435761) % 2 ** 34);
const plain = new Untraced();
const traced = new Traced(new Tracer());
let sink = 0;

await runRatios('@zonedev/kernel', [
  {
    name: 'traced fn, tracing off / untraced fn (4096 calls)',
    target: 1.05,
    baseline: () => {
      let s = 0;
      for (let i = 0; i < N; i++) s += plain.pfnToSectionNr(pfns[i]!);
      sink += s;
    },
    subject: () => {
      let s = 0;
      for (let i = 0; i < N; i++) s += traced.pfnToSectionNr(pfns[i]!);
      sink += s;
    },
  },
]);
if (sink === -1) console.log(sink);
