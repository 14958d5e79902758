// A failed enable leaves nothing behind: every devres allocation of a bind
// (nd_pmem's probe, memremap_pages below it) is failed in turn with the
// machine's failslab fault point, and the machine must look as before.
import { describe, expect, it } from 'vitest';
import { ND, bootMachine, ndSnapshot, tryWrite } from './machine.js';
import type { Machine } from './machine.js';

const UUID = '5d4c3b2a-1908-4f7e-8d6c-5b4a39281706';

function state(m: Machine): unknown {
  return {
    nd: ndSnapshot(m),
    disks: m.nd.disks().map((d) => d.name),
    pagemaps: m.memremap.pagemaps().length,
    sections: [...m.sparse.memSections()].map((s) => [s.sectionNr, s.sectionMemMap]),
    vmemmap: m.sparse.vmemmapBlocks().map((b) => [b.offset, b.size, b.pfn, b.source]),
  };
}

function pfnSetup(m: Machine, map: 'pmem' | 'ram'): void {
  m.kernel.sysfs.write(`${ND}/pfn0.0/uuid`, `${UUID}\n`);
  m.kernel.sysfs.write(`${ND}/pfn0.0/mode`, `${map}\n`);
  m.kernel.sysfs.write(`${ND}/pfn0.0/namespace`, 'namespace0.0\n');
}

describe('bind unwinding', () => {
  const setups: Record<string, { dev: string; disk: string; setup: (m: Machine) => void }> = {
    'fsdax map=dev': { dev: 'pfn0.0', disk: 'pmem0', setup: (m) => pfnSetup(m, 'pmem') },
    'fsdax map=mem': { dev: 'pfn0.0', disk: 'pmem0', setup: (m) => pfnSetup(m, 'ram') },
    'raw with struct pages': { dev: 'namespace0.0', disk: 'pmem0', setup: () => undefined },
    'sector 4096': {
      dev: 'btt0.0',
      disk: 'pmem0s',
      setup: (m) => {
        m.kernel.sysfs.write(`${ND}/btt0.0/uuid`, `${UUID}\n`);
        m.kernel.sysfs.write(`${ND}/btt0.0/sector_size`, '4096\n');
        m.kernel.sysfs.write(`${ND}/btt0.0/namespace`, 'namespace0.0\n');
      },
    },
  };
  for (const [what, { dev, disk, setup }] of Object.entries(setups)) {
    it(`${what}: each failing devres allocation leaves the machine unchanged, and a retry succeeds`, () => {
      let failures = 0;
      for (let k = 1; k <= 12; k++) {
        const m = bootMachine();
        m.kernel.sysfs.write(`${ND}/namespace0.0/driver/unbind`, 'namespace0.0\n');
        setup(m);
        const before = state(m);
        m.kernel.faults.configure('failslab', { probability: 100, interval: k, times: 1 });
        const err = tryWrite(m, '/sys/bus/nd/drivers/nd_pmem/bind', `${dev}\n`);
        m.kernel.faults.configure('failslab', { times: 0 });
        if (err === undefined) {
          expect(m.nd.disks().map((d) => d.name)).toEqual([disk]);
          break;
        }
        failures++;
        expect(err).toBe('ENODEV');
        expect(state(m)).toEqual(before);
        expect(tryWrite(m, '/sys/bus/nd/drivers/nd_pmem/bind', `${dev}\n`)).toBeUndefined();
        expect(m.nd.disks().map((d) => d.name)).toEqual([disk]);
      }
      expect(failures).toBeGreaterThan(0);
    });
  }
});
