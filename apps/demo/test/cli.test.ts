import { describe, expect, it } from 'vitest';
import { main } from '../src/main.js';

function run(argv: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = main(argv, { write: (s: string) => (out += s) }, { write: (s: string) => (err += s) });
  return { code, out, err };
}

describe('zonedev command line', () => {
  it('lists every layer of the stack in the tour', () => {
    const r = run(['tour']);
    expect(r.code).toBe(0);
    for (const p of ['kernel', 'mmzone', 'sparse-vmemmap', 'memory-hotplug', 'memremap', 'libnvdimm', 'hmm']) {
      expect(r.out).toContain(`@zonedev/${p}`);
    }
  });
  it('rejects an unknown command with status 2 on stderr', () => {
    const r = run(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^zonedev: unknown command 'frobnicate'/);
  });
});
