// Scale benchmark of whole machines: booting with a large -m, and the
// device_del of a large online DIMM.
//
//   node --import tsx/esm bench/scale.ts [CASE...]      parent: one child process per run
//   node --import tsx/esm bench/scale.ts --child CASE   one run, one JSON line
//
// CASE is one of
//   boot:ARCH:SIZE   bootMachine() with -m SIZE (ARCH x86_64 or powerpc)
//   dimm-del:SIZE    x86_64 -m 256G,slots=4,maxmem=16T with memhp_default_state=online:
//                    object_add memory-backend-ram size=SIZE, device_add pc-dimm (the
//                    guest adds and onlines it, memmap in RAM), then device_del alone
//                    is measured (the guest offlines and removes every block)
// SIZE is memparse-style (16T, 1T, 8T); RUNS=n runs per case (default 3). The
// parent reports the median and range of the wall time, the CPU time (less
// sensitive than wall time to other load on the host) and the peak RSS. A
// case that fails reports the error's message instead of aborting.
import { fileURLToPath } from 'node:url';
import { memparse } from '@zonedev/kernel';
import { DEFAULT_MACHINE, bootMachine } from '@zonedev/platform';
import type { Machine, Platform } from '@zonedev/platform';
import { runInChildren, spread } from '@zonedev/bench-kit';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const TiB = 2 ** 40;

interface CaseResult {
  readonly name: string;
  readonly ok: boolean;
  readonly error?: string;
  readonly ms: number;
  readonly cpuMs: number;
  readonly peakRss: number;
}

/** Runs `fn` and measures it: wall and CPU time, peak RSS sampled every 5 ms. */
function measure(name: string, fn: () => void): CaseResult {
  let peakRss = process.memoryUsage().rss;
  const sample = (): void => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  };
  const sampler = setInterval(sample, 5);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let ok = true;
  let error: string | undefined;
  try {
    fn();
  } catch (e) {
    ok = false;
    error = e instanceof Error ? e.message : String(e);
  }
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  clearInterval(sampler);
  sample();
  return { name, ok, ...(error !== undefined ? { error } : {}), ms, cpuMs: (c.user + c.system) / 1000, peakRss };
}

function child(name: string): void {
  const [kind, a, b] = name.split(':');
  let r: CaseResult;
  if (kind === 'boot' && a !== undefined && b !== undefined) {
    const size = memparse(b).value;
    let m: Machine | undefined;
    r = measure(name, () => {
      m = bootMachine({ ...DEFAULT_MACHINE, platform: a as Platform, ramSize: size, maxmem: size });
    });
    if (m === undefined && r.ok) throw new Error('no machine');
  } else if (kind === 'dimm-del' && a !== undefined) {
    const size = memparse(a).value;
    const m = bootMachine({ ...DEFAULT_MACHINE, ramSize: 256 * GiB, slots: 4, maxmem: 16 * TiB, cmdline: 'memhp_default_state=online' });
    m.objectAdd(`memory-backend-ram,id=mem1,size=${size}`);
    const add = m.deviceAdd('pc-dimm,id=dimm1,memdev=mem1');
    if (add.guestFailed) throw new Error(`device_add failed: ${add.console.join(' / ')}`);
    r = measure(name, () => {
      const del = m.deviceDel('dimm1');
      if (del.guestFailed) throw new Error(`device_del failed: ${del.console.join(' / ')}`);
    });
  } else throw new Error(`unknown case ${name}`);
  console.log(JSON.stringify(r));
}


function parent(cases: readonly string[], runs: number): void {
  const self = fileURLToPath(import.meta.url);
  for (const name of cases) {
    const rs = runInChildren<CaseResult>(self, name, runs);
    const f = (k: 'ms' | 'cpuMs' | 'peakRss', d = 1): string => {
      return spread(rs.map((r) => r[k] / d), 0);
    };
    const err = rs.find((r) => r.error !== undefined)?.error;
    console.log(`${name}: ok=${rs.map((r) => r.ok).join(',')} ${f('ms')} ms (cpu ${f('cpuMs')} ms), peak RSS ${f('peakRss', MiB)} MiB${err !== undefined ? ` error: ${err}` : ''}`);
  }
}

const argv = process.argv.slice(2);
if (argv[0] === '--child') child(argv[1]!);
else parent(argv.length > 0 ? argv : ['boot:x86_64:16T', 'boot:powerpc:1T', 'dimm-del:8T'], Number(process.env['RUNS'] ?? '3'));
