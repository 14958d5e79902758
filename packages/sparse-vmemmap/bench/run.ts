// Benchmarks of @zonedev/sparse-vmemmap (pnpm bench).
//
// 1. Scale, in separate Node processes reading process.memoryUsage().rss
//    (docs/ARCHITECTURE.md, "the memmap scales"):
//    - dense: 256 GiB of sections (64 Mi struct pages), every struct page
//      written: < 2 GiB RSS, <= 32 host bytes per struct page;
//    - sparse: 64 TiB registered (memmap accounted, in the device's altmap or
//      in RAM): < 1 GiB RSS and < 10 s; then <= 72 host bytes per struct
//      page that diverges from its section's template, for three patterns.
//    The struct-page store is mmzone's MemmapStore: these figures are the
//    two packages together, and the "nostore" run isolates this package.
// 2. Speed, as ratios against a plain-JavaScript baseline in the same run.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runRatios } from '@zonedev/bench-kit';
import { Kernel } from '@zonedev/kernel';
import { SparseMemory } from '@zonedev/sparse-vmemmap';
import { MiB, X86_64_LA57, bumpAllocator } from './common.js';

const here = fileURLToPath(new URL('.', import.meta.url));

function child(script: string, args: string[] = []): Record<string, unknown> {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx/esm', `${here}${script}`, ...args], {
    encoding: 'utf8',
    maxBuffer: 2 ** 24,
  });
  if (r.status !== 0) throw new Error(`${script} ${args.join(' ')} failed:\n${r.stderr}`);
  const line = r.stdout.trim().split('\n').at(-1)!;
  return JSON.parse(line) as Record<string, unknown>;
}

interface Row {
  readonly name: string;
  readonly value: string;
  readonly target: string;
  readonly ok: boolean | undefined;
}

const rows: Row[] = [];
const mib = (b: number): string => `${(b / MiB).toFixed(0)} MiB`;

// --- dense
{
  const d = child('scale-dense.ts') as { pages: number; rssAfterWrite: number; rssStart: number; hostBytesPerPage: number; writeMs: number; registerMs: number };
  rows.push({ name: 'dense 256 GiB, 64 Mi pages written: RSS', value: mib(d.rssAfterWrite), target: '< 2048 MiB', ok: d.rssAfterWrite < 2 * 1024 * MiB });
  rows.push({
    name: 'dense: host bytes per struct page (RSS growth)',
    value: d.hostBytesPerPage.toFixed(1),
    target: '<= 32',
    ok: d.hostBytesPerPage <= 32,
  });
  rows.push({ name: 'dense: register 2048 sections / write 64 Mi pages', value: `${d.registerMs.toFixed(0)} ms / ${(d.writeMs / 1000).toFixed(1)} s`, target: '', ok: undefined });
}

// --- sparse registration
type Sparse = { rssAfterRegister: number; rssStart: number; registerMs: number; sections: number; diverged?: { pages: number; bytesPerPage: number } };
for (const [mode, store, label] of [
  ['altmap', 'store', '64 TiB, memmap in the altmap'],
  ['ram', 'store', '64 TiB, memmap in RAM'],
  ['altmap', 'nostore', '64 TiB, this package alone'],
] as const) {
  const s = child('scale-sparse.ts', [mode, store, 'none']) as Sparse;
  const perSection = (s.rssAfterRegister - s.rssStart) / s.sections;
  rows.push({
    name: `register ${label}: RSS`,
    value: `${mib(s.rssAfterRegister)} (${perSection.toFixed(0)} B/section)`,
    target: store === 'store' ? '< 1024 MiB' : '',
    ok: store === 'store' ? s.rssAfterRegister < 1024 * MiB : undefined,
  });
  rows.push({
    name: `register ${label}: time`,
    value: `${(s.registerMs / 1000).toFixed(2)} s`,
    target: store === 'store' ? '< 10 s' : '',
    ok: store === 'store' ? s.registerMs < 10_000 : undefined,
  });
}

// --- divergence from the template
for (const [pattern, label] of [
  ['dense', '4 Mi pages filling 128 sections'],
  ['scattered', '4 Mi pages at random (~8/section)'],
  ['onePerSection', '1 page in each of 256 Ki sections'],
] as const) {
  const s = child('scale-sparse.ts', ['altmap', 'store', pattern]) as Sparse;
  const b = s.diverged!.bytesPerPage;
  rows.push({ name: `diverge ${label}: host B/page`, value: b.toFixed(1), target: '<= 72', ok: b <= 72 });
}

const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => [r.name, r.value, r.target][i]!.length), 8));
console.log('\n@zonedev/sparse-vmemmap — scale (separate processes, RSS after gc; struct pages in mmzone MemmapStore)');
for (const r of rows) {
  const cells = [r.name.padEnd(widths[0]!), r.value.padEnd(widths[1]!), r.target.padEnd(widths[2]!)];
  console.log(`${cells.join('  ')}  ${r.ok === undefined ? '' : r.ok ? 'ok' : 'MISSED'}`.trimEnd());
}

// --- speed
const PPS = 32768;
const BASE = 2 ** 28;
const N_SECTIONS = 64;
const sparse = new SparseMemory({ kernel: new Kernel(), arch: X86_64_LA57, allocator: bumpAllocator(2 ** 36) });
for (let s = 0; s < N_SECTIONS; s++) sparse.sparseAddSection(0, BASE + s * PPS, PPS);
// The baseline: a Map of sections to a 64-bit subsection bitmap in a typed array.
const table = new Map<number, Uint8Array>();
for (let s = 0; s < N_SECTIONS; s++) table.set(BASE / PPS + s, new Uint8Array(8).fill(255));
const N = 4096;
const pfns = Float64Array.from({ length: N }, (_, i) => BASE + ((i * 2654435761) % (N_SECTIONS * PPS * 2)));
let sink = 0;
const churn = new SparseMemory({ kernel: new Kernel(), arch: X86_64_LA57, allocator: bumpAllocator(2 ** 36) });
await runRatios('@zonedev/sparse-vmemmap — speed', [
  {
    name: 'pfn_valid / Map+bitmap lookup (4096 pfns)',
    target: 2,
    baseline: () => {
      let s = 0;
      for (let i = 0; i < N; i++) {
        const pfn = pfns[i]!;
        const bits = table.get(Math.floor(pfn / PPS));
        if (bits !== undefined && bits[Math.floor((pfn % PPS) / 4096)] !== 0) s++;
      }
      sink += s;
    },
    subject: () => {
      let s = 0;
      for (let i = 0; i < N; i++) if (sparse.pfnValid(pfns[i]!)) s++;
      sink += s;
    },
  },
  {
    name: 'sparse_add+remove_section (128 MiB) / fill of its 2 MiB memmap',
    target: 1,
    baseline: () => {
      sink += new Uint8Array(2 * MiB).fill(0xff)[7]!;
    },
    subject: () => {
      churn.sparseAddSection(0, BASE, PPS);
      churn.sparseRemoveSection(BASE, PPS);
    },
  },
]);
if (sink === -1) console.log(sink);
