// ndctl create-namespace -m fsdax on a powerpc of_pmem region (64K pages):
// the info block reserve of __nvdimm_setup_pfn() is one page there.
import { describe, expect, it } from 'vitest';
import { SZ_1G, SZ_2G } from '@zonedev/kernel';
import { bootShellMachine as bootMachine, type DemoShellMachine as ZonedevMachine } from '../src/commands/shell-machine.js';
import { DEFAULT_MACHINE } from '@zonedev/platform';
import { run } from '../src/shell/shell.js';

function ppc(mmu: 'hash' | 'radix'): ZonedevMachine {
  return bootMachine({ ...DEFAULT_MACHINE, platform: 'powerpc', mmu, ramSize: SZ_2G, maxmem: SZ_2G, pmemRegions: [{ start: 16 * SZ_1G, size: SZ_1G }] });
}

const SZ_16M = 16 * 2 ** 20;
const SZ_2M = 2 * 2 ** 20;

describe('powerpc: ndctl create-namespace -f -e namespace0.0 -m fsdax', () => {
  for (const [opt, align] of [['', 65536], [' -a 64K', 65536], [' -a 16M', SZ_16M]] as const) {
    it(`hash MMU${opt || ' (default align)'}: map=dev, 16 MiB of metadata`, () => {
      const m = ppc('hash');
      const r = run(`ndctl create-namespace -f -e namespace0.0 -m fsdax${opt}`, m);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const j = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(j).toMatchObject({ dev: 'namespace0.0', mode: 'fsdax', map: 'dev', size: SZ_1G - SZ_16M, sector_size: 512, align, blockdev: 'pmem0' });
      expect(run("echo 'ppc64 fsdax' > /dev/pmem0", m).status).toBe(0);
      expect(run('head -c 11 /dev/pmem0', m).stdout).toBe('ppc64 fsdax');
    });
  }

  it('radix MMU -a 64K: map=dev with 2 MiB of metadata; -a 2M too', () => {
    const m = ppc('radix');
    const r = run('ndctl create-namespace -f -e namespace0.0 -m fsdax -a 64K', m);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ map: 'dev', size: SZ_1G - SZ_2M, align: 65536 });
    const r2 = run('ndctl create-namespace -f -e namespace0.0 -m fsdax -a 2M', m);
    expect(r2.status).toBe(0);
    expect(JSON.parse(r2.stdout)).toMatchObject({ map: 'dev', size: SZ_1G - SZ_2M, align: SZ_2M });
  });

  it('hash MMU -a 2M is not a supported alignment', () => {
    const m = ppc('hash');
    const r = run('ndctl create-namespace -f -e namespace0.0 -m fsdax -a 2M', m);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('  Error: unsupported align: 2M\n');
    expect(JSON.parse(run('ndctl list -N', m).stdout)).toMatchObject([{ dev: 'namespace0.0', mode: 'fsdax', map: 'mem' }]);
  });
});
