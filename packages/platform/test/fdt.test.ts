import { describe, expect, it } from 'vitest';
import {
  fdtFindNode,
  fdtGetString,
  fdtLmbSize,
  fdtMemoryRanges,
  fdtNode,
  fdtPmemRegions,
  numaSplit,
  printDts,
  propCells,
  propEmpty,
  propStrings,
  spaprDeviceTree,
  spaprLmbDrcIndex,
  toCells,
} from '../src/powerpc/fdt.js';

const G = 2 ** 30;
const M = 2 ** 20;

describe('device-tree data and dtc-style printing', () => {
  it('guesses value types as dtc does: strings, cells, bytes, empty', () => {
    const root = fdtNode('', [
      propStrings('compatible', 'a,b', 'c'),
      propCells('reg', 0, 0x1000),
      { name: 'bytes', value: Uint8Array.from([1, 2, 3]) },
      propEmpty('volatile'),
      { name: 'empty-string', value: Uint8Array.from([0]) },
      propStrings('esc', 'tab\there "q"'),
    ]);
    expect(printDts(root)).toBe(`/dts-v1/;

/ {
\tcompatible = "a,b", "c";
\treg = <0x00 0x1000>;
\tbytes = [01 02 03];
\tvolatile;
\tempty-string = [00];
\tesc = "tab\\there \\"q\\"";
};
`);
  });

  it('prints memory reservations and children after the properties, each after a blank line', () => {
    const root = fdtNode('', [propCells('#address-cells', 1)], [fdtNode('a@0', [propCells('x', 1)], [fdtNode('b', [])]), fdtNode('c', [])]);
    expect(printDts(root, [{ address: 0x1000, size: 0x2000 }])).toBe(`/dts-v1/;

/memreserve/\t0x0000000000001000 0x0000000000002000;
/ {
\t#address-cells = <0x01>;

\ta@0 {
\t\tx = <0x01>;

\t\tb {
\t\t};
\t};

\tc {
\t};
};
`);
  });

  it('splits 64-bit values into cells', () => {
    expect(toCells(0x123456789, 2)).toEqual([1, 0x23456789]);
    expect(toCells(5, 1)).toEqual([5]);
  });
});

describe('QEMU pseries tree (spapr_dt_memory, spapr_dt_dynamic_reconfiguration_memory)', () => {
  it('describes one node of RAM as a single memory@0', () => {
    const t = spaprDeviceTree({ ramSize: 2 * G });
    expect(printDts(t)).toBe(`/dts-v1/;

/ {
\tcompatible = "qemu,pseries";
\tmodel = "IBM pSeries (emulated by qemu)";
\tdevice_type = "chrp";
\t#address-cells = <0x02>;
\t#size-cells = <0x02>;

\tmemory@0 {
\t\tdevice_type = "memory";
\t\treg = <0x00 0x00 0x00 0x80000000>;
\t\tibm,associativity = <0x04 0x00 0x00 0x00 0x00>;
\t};
};
`);
    expect(fdtLmbSize(t)).toBeUndefined();
  });

  it('splits later nodes into naturally aligned power-of-two chunks', () => {
    const t = spaprDeviceTree({ ramSize: 3 * G, numaNodes: 2 });
    expect(fdtMemoryRanges(t)).toEqual([
      { base: 0, size: 1.5 * G, node: 'memory@0' },
      { base: 1.5 * G, size: 0.5 * G, node: 'memory@60000000' },
      { base: 2 * G, size: G, node: 'memory@80000000' },
    ]);
    expect(numaSplit(3 * G + 100 * M, 3, 256 * M)).toEqual([G, G, G + 100 * M]);
  });

  it('before CAS: the v1 LMB table, one entry per LMB', () => {
    const t = spaprDeviceTree({ ramSize: 1.5 * G, maxmem: 2.5 * G, drmemV2: false });
    expect(fdtLmbSize(t)).toBe(256 * M);
    const drconf = fdtFindNode(t, '/ibm,dynamic-reconfiguration-memory')!;
    const dyn = drconf.props.find((p) => p.name === 'ibm,dynamic-memory')!.value;
    const cells = Array.from({ length: dyn.length / 4 }, (_, i) => new DataView(dyn.buffer).getUint32(i * 4));
    // Device memory starts at ALIGN(1.5G, 1G) = 2G and holds 1 GiB: LMBs 0..11, 8..11 hot-pluggable.
    expect(cells[0]).toBe(12);
    const entry = (i: number): number[] => cells.slice(1 + i * 6, 7 + i * 6);
    expect(entry(0)).toEqual([0, 0, 0, 0, 0xffffffff, 0xa0]);
    expect(entry(7)).toEqual([0, 0x70000000, 0, 0, 0xffffffff, 0xa0]);
    expect(entry(8)).toEqual([0, 0x80000000, spaprLmbDrcIndex(8), 0, 0xffffffff, 0]);
    expect(spaprLmbDrcIndex(8)).toBe(0x80000008);
    expect(drconf.props.some((p) => p.name === 'ibm,dynamic-memory-v2')).toBe(false);
  });

  it('after CAS with OV5_DRMEM_V2 (the default): ibm,dynamic-memory-v2, one LMB set per stretch', () => {
    // -m 3G,maxmem=7G, two nodes: device memory from ALIGN(3G, 1G) = 3G, 4 GiB of it.
    const t = spaprDeviceTree({ ramSize: 3 * G, maxmem: 7 * G, numaNodes: 2 });
    const drconf = fdtFindNode(t, '/ibm,dynamic-reconfiguration-memory')!;
    expect(drconf.props.map((p) => p.name)).toEqual([
      'ibm,lmb-size',
      'ibm,memory-flags-mask',
      'ibm,memory-preservation-time',
      'ibm,dynamic-memory-v2',
      'ibm,associativity-lookup-arrays',
    ]);
    const v2 = drconf.props.find((p) => p.name === 'ibm,dynamic-memory-v2')!.value;
    const cells = Array.from({ length: v2.length / 4 }, (_, i) => new DataView(v2.buffer).getUint32(i * 4));
    expect(cells).toEqual([
      2,
      // the boot RAM and the gap to device memory: 12 LMBs, reserved and without a DRC
      12, 0, 0, 0, 0xffffffff, 0xa0,
      // the hot-pluggable stretch: 16 LMBs from 3 GiB, DRC indexes from LMB 12's
      16, 0, 0xc0000000, spaprLmbDrcIndex(12), 0xffffffff, 0,
    ]);
    expect(v2.length).toBe(4 + 2 * 24); // sizeof(struct sPAPRDrconfCellV2) is 24
  });

  it('describes pmem-region nodes that of_pmem would bind to', () => {
    const t = spaprDeviceTree({ ramSize: G, pmem: [{ base: 4 * G, size: G }, { base: 6 * G, size: 512 * M, volatile: true }] });
    expect(fdtPmemRegions(t)).toEqual([
      { base: 4 * G, size: G, volatile: false, node: 'pmem@100000000' },
      { base: 6 * G, size: 512 * M, volatile: true, node: 'pmem@180000000' },
    ]);
    expect(fdtGetString(fdtFindNode(t, '/pmem@100000000')!, 'compatible')).toBe('pmem-region');
    expect(fdtMemoryRanges(t).map((r) => r.node)).toEqual(['memory@0']);
  });

  it('reads 1-cell addresses by default and skips empty ranges', () => {
    const t = fdtNode('', [], [fdtNode('memory', [propStrings('device_type', 'memory'), propCells('reg', 0, 0x1000, 0x2000, 0)])]);
    expect(fdtMemoryRanges(t)).toEqual([{ base: 0, size: 0x1000, node: 'memory' }]);
  });
});
