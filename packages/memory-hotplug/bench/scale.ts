// Scale benchmark of memory hotplug on x86_64 with 5-level paging (52
// physical bits): add_memory() and `echo online > memoryN/state` of SIZE of
// hot-plugged memory in 2 GiB blocks (the block size x86 picks for large
// machines), above a 4 GiB boot machine, with the memmap in RAM: each
// block's 32 MiB of struct pages comes from the memory onlined before it.
//
//   node --expose-gc --import tsx/esm bench/scale.ts [SIZE...]     parent: one child per case
//   node --import tsx/esm bench/scale.ts --child SIZE               one case, one JSON line
//
// SIZE is memparse-style (1T, 16T, 64T; RUNS=n runs per case, default 5).
// Each case runs in its own process; the parent reports the median and range
// of the time and of the peak RSS. A case that fails reports the errno's
// message instead of aborting.
import { fileURLToPath } from 'node:url';
import { memparse } from '@zonedev/kernel';
import { runInChildren, spread } from '@zonedev/bench-kit';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const BLOCK = 2 * GiB;
const BASE = 64 * GiB;

interface CaseResult {
  readonly size: string;
  readonly ok: boolean;
  readonly error?: string;
  readonly blocks: number;
  readonly ms: number;
  /** CPU time (user + system): less sensitive than wall time to other load on the host. */
  readonly cpuMs: number;
  readonly peakRss: number;
  readonly freePages: number;
}

async function child(sizeArg: string): Promise<void> {
  const { bootMachine } = await import('../test/machine.js');
  const size = memparse(sizeArg).value;
  let peakRss = process.memoryUsage().rss;
  const sample = (): void => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  };
  const m = bootMachine({ physBits: 52, blockSize: BLOCK, memory: [{ start: MiB, size: 4 * GiB - MiB, nid: 0 }] });
  const sampler = setInterval(sample, 5);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let ok = true;
  let error: string | undefined;
  let blocks = 0;
  try {
    for (let a = BASE; a < BASE + size; a += BLOCK) {
      m.hp.addMemory(0, a, BLOCK);
      m.kernel.sysfs.write(`/sys/devices/system/memory/memory${a / BLOCK}/state`, 'online\n');
      blocks++;
    }
  } catch (e) {
    ok = false;
    error = e instanceof Error ? e.message : String(e);
  }
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  clearInterval(sampler);
  sample();
  const r: CaseResult = { size: sizeArg, ok, ...(error !== undefined ? { error } : {}), blocks, ms, cpuMs: (c.user + c.system) / 1000, peakRss, freePages: m.mm.nrFreePages() };
  console.log(JSON.stringify(r));
}


function parent(sizes: readonly string[], runs: number): void {
  const self = fileURLToPath(import.meta.url);
  for (const size of sizes) {
    const rs = runInChildren<CaseResult>(self, size, runs, ['--expose-gc']);
    const f = (k: 'ms' | 'cpuMs' | 'peakRss', d = 1): string => {
      return spread(rs.map((r) => r[k] / d), 1);
    };
    console.log(`${size}: ok=${rs.map((r) => r.ok).join(',')} blocks ${rs[0]!.blocks}, add+online ${f('ms')} ms (cpu ${f('cpuMs')}), peak RSS ${f('peakRss', MiB)} MiB, free pages ${rs[0]!.freePages}${rs[0]!.error !== undefined ? ` error: ${rs[0]!.error}` : ''}`);
  }
}

const argv = process.argv.slice(2);
if (argv[0] === '--child') await child(argv[1]!);
else {
  const runs = Number(process.env['RUNS'] ?? '5');
  parent(argv.length > 0 ? argv : ['1T', '16T', '64T'], runs);
}
