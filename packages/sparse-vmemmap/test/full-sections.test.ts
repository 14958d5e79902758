// Hot-added sections with every subsection present share one usage; a
// section that then loses subsections gets a map of its own, and its
// neighbours are not affected.
import { describe, expect, it } from 'vitest';
import { X86_64_LA57, expectErrno, machine, snapshot } from './helpers.js';

const PPS = 32768;
const SUB = 512;
const BASE = 2 ** 38; // pfn of 1 PiB

function threeSections(): ReturnType<typeof machine> {
  const m = machine(X86_64_LA57, [{ nid: 0, startPfn: 0, nrPages: 65536 }]);
  for (let i = 0; i < 3; i++) m.sparse.sparseAddSection(0, BASE + i * PPS, PPS);
  return m;
}

describe('full hot-added sections', () => {
  it('read as full, not early, and cost one usage between them', () => {
    const { sparse } = threeSections();
    const u = [0, 1, 2].map((i) => sparse.pfnToSection(BASE + i * PPS)!.usage!);
    for (const x of u) {
      expect(x.subsectionMap.toString()).toBe('0-63');
      expect(x.early).toBe(false);
    }
    expect(u[0]).toBe(u[1]);
    expect(u[1]).toBe(u[2]);
  });

  it('removing part of one leaves the others full', () => {
    const { sparse, buddy, store } = threeSections();
    sparse.sparseRemoveSection(BASE + PPS + 4 * SUB, 2 * SUB);
    expect(sparse.pfnToSection(BASE + PPS)!.usage!.subsectionMap.toString()).toBe('0-3,6-63');
    expect(sparse.pfnToSection(BASE)!.usage!.subsectionMap.toString()).toBe('0-63');
    expect(sparse.pfnToSection(BASE + 2 * PPS)!.usage!.subsectionMap.toString()).toBe('0-63');
    expect(sparse.pfnValid(BASE + PPS + 4 * SUB)).toBe(false);
    expect(sparse.pfnValid(BASE + 4 * SUB)).toBe(true);
    // Adding the hole back works; adding over a full section is -EEXIST and changes nothing.
    sparse.sparseAddSection(0, BASE + PPS + 4 * SUB, 2 * SUB);
    expect(sparse.pfnToSection(BASE + PPS)!.usage!.subsectionMap.toString()).toBe('0-63');
    const before = snapshot(sparse, { buddy, store });
    expectErrno(() => sparse.sparseAddSection(0, BASE + 2 * SUB, SUB), 'EEXIST');
    expect(snapshot(sparse, { buddy, store })).toBe(before);
    expect(sparse.pfnToSection(BASE)!.usage!.subsectionMap.toString()).toBe('0-63');
  });

  it('removing a whole one forgets it and leaves the others', () => {
    const { sparse } = threeSections();
    sparse.sparseRemoveSection(BASE + PPS, PPS);
    expect(sparse.pfnToSection(BASE + PPS)).toBeUndefined();
    expect(sparse.pfnToSection(BASE)!.usage!.subsectionMap.toString()).toBe('0-63');
    expectErrno(() => sparse.sparseRemoveSection(BASE + PPS, PPS), 'EINVAL');
    sparse.sparseAddSection(0, BASE + PPS, PPS);
    expect(sparse.pfnValid(BASE + PPS + PPS - 1)).toBe(true);
  });
});
