/**
 * The web app without a browser: the facts a booted machine gives the map
 * (where each section's memmap lives, block states and zones, the device
 * side), the map's geometry and colours, its SVG, the URL fragment, the
 * trace panel's lines, and the terminal's line editing and prompts.
 *
 * The machines are the tour's (`zonedev tour`): the x86_64 one with
 * `memmap=1G!4G memory_hotplug.memmap_on_memory=1`, whose first 128 MiB DIMM
 * carries its own memmap (mhp_supports_memmap_on_memory(): the size is one
 * memory block) and whose 256 MiB DIMM does not (two blocks), and the
 * powerpc one with two NUMA nodes.
 */
import { describe, expect, it } from 'vitest';
import {
  ALTMAP_COLOUR,
  BOOT_COLOUR,
  HOLE_WIDTH,
  LABEL_WIDTH,
  MIN_PIECE_WIDTH,
  OFFLINE_COLOUR,
  PAGE_CELLS,
  ZONE_COLOURS,
  addrToX,
  axisPieces,
  blockStyle,
  layoutMap,
  memmapStyle,
  mergeIntervals,
  nodeColour,
  sizeLabel,
  xToAddr,
  type MapFacts,
} from '../src/web/layout.js';
import { renderSvg } from '../src/web/svg.js';
import { MachineSession } from '../src/web/machine-session.js';
import { tourStops } from '../src/web/tour-stops.js';
import { DEFAULT_CONFIG, configArgv, decodeFragment, encodeFragment } from '../src/web/url-state.js';
import { traceIndex, traceLines } from '../src/web/trace-view.js';
import { LineEditor, WEB_CONTINUATION_PROMPT, WEB_PROMPT } from '../src/web/line-editor.js';
import { KERNEL_SYMBOL_ROWS } from '../src/explain/kernel-symbols.generated.js';
import { CONTINUATION_PROMPT, PROMPT } from '../src/repl.js';

const MEM = '/sys/devices/system/memory';

function tourSession(i: number): MachineSession {
  const stop = tourStops()[i]!;
  const s = MachineSession.bootOptions(stop.config, stop.machine);
  if ('error' in s) throw new Error(s.error);
  return s;
}

function run(s: MachineSession, ...lines: string[]): void {
  for (const l of lines) {
    const r = s.exec(l);
    if (r.status !== 0) throw new Error(`${l}: ${r.output}`);
  }
}

describe('machine facts', () => {
  it('x86_64 boot: boot-memory memmaps, the PCI hole, the legacy pmem and the hot-plug region', () => {
    const s = tourSession(0);
    const f = s.facts();
    expect(f.physBits).toBe(46);
    expect(f.sectionBits).toBe(27);
    expect(f.blockSize).toBe(2 ** 27);
    // RAM below the PCI hole (3 GiB: sections 0-23) has its memmap in boot memory.
    expect(f.sections[0]).toEqual({ firstSection: 0, count: 24, nid: 0, online: true, early: true, device: false, memmap: { source: 'boot', nid: 0 } });
    expect(f.regions.find((r) => r.kind === 'pci-hole')).toMatchObject({ start: 3 * 2 ** 30, size: 2 ** 30 });
    expect(f.regions.find((r) => r.kind === 'device-memory')).toMatchObject({ start: 5 * 2 ** 30, size: 4 * 2 ** 30 });
    expect(f.regions.find((r) => r.kind === 'nd-region')).toMatchObject({ start: 4 * 2 ** 30, size: 2 ** 30, label: 'region0' });
    expect(f.resources.filter((r) => r.depth === 0).map((r) => r.name)).toContain('Persistent Memory (legacy)');
    expect(f.zones.map((z) => z.name)).toEqual(['DMA', 'DMA32', 'Device']);
  });

  it('a one-block DIMM carries its memmap (altmap at its first pfn); a two-block DIMM has it in RAM', () => {
    const s = tourSession(0);
    run(s, 'object_add memory-backend-ram,id=mem1,size=128M', 'device_add pc-dimm,id=dimm1,memdev=mem1');
    run(s, 'object_add memory-backend-ram,id=mem2,size=256M', 'device_add pc-dimm,id=dimm2,memdev=mem2');
    const f = s.facts();
    expect(f.sections.find((r) => r.firstSection === 40)).toEqual({
      firstSection: 40,
      count: 1,
      nid: 0,
      online: false,
      early: false,
      device: false,
      memmap: { source: 'altmap', nid: 0, altmapBasePfn: 0x140000 },
    });
    expect(f.sections.find((r) => r.firstSection === 41)).toMatchObject({ count: 2, online: false, memmap: { source: 'ram', nid: 0 } });
    expect(f.blocks.filter((b) => b.id >= 40)).toEqual([
      { id: 40, startPfn: 0x140000, nrPages: 32768, state: 'offline', zone: undefined, nid: 0, nrVmemmapPages: 512 },
      { id: 41, startPfn: 0x148000, nrPages: 32768, state: 'offline', zone: undefined, nid: 0, nrVmemmapPages: 0 },
      { id: 42, startPfn: 0x150000, nrPages: 32768, state: 'offline', zone: undefined, nid: 0, nrVmemmapPages: 0 },
    ]);
    expect(f.regions.filter((r) => r.kind === 'dimm').map((r) => [r.label, r.start, r.size])).toEqual([
      ['dimm1', 0x140000000, 2 ** 27],
      ['dimm2', 0x148000000, 2 ** 28],
    ]);
    run(s, `echo online_movable > ${MEM}/memory40/state`);
    expect(s.facts().blocks.find((b) => b.id === 40)).toMatchObject({ state: 'online', zone: 'Movable' });
    expect(s.facts().sections.find((r) => r.firstSection === 40)).toMatchObject({ online: true });
  });

  it('fsdax map=dev puts the pmem memmap in an altmap inside the namespace', () => {
    const s = tourSession(0);
    run(s, 'ndctl create-namespace -f -e namespace0.0 -m fsdax -M dev');
    const f = s.facts();
    expect(f.sections.find((r) => r.firstSection === 32)).toEqual({
      firstSection: 32,
      count: 8,
      nid: 0,
      online: false,
      early: false,
      device: true,
      memmap: { source: 'altmap', nid: 0, altmapBasePfn: 0x100000 },
    });
    const pgmap = f.regions.find((r) => r.kind === 'pgmap');
    expect(pgmap).toMatchObject({ type: 'FS_DAX', start: 4 * 2 ** 30, size: 2 ** 30, label: 'pgmap FS_DAX' });
    expect(pgmap?.detail).toMatch(/^pfn0\.0; altmap: base_pfn 0x100000, reserve 2, /);
    run(s, 'ndctl create-namespace -f -e namespace0.0 -m fsdax -M mem');
    expect(s.facts().sections.find((r) => r.firstSection === 32)?.memmap).toEqual({ source: 'ram', nid: 0 });
  });

  it('powerpc: two nodes, 16 MiB sections, a device-private pgmap at the top of the 51-bit space', () => {
    const s = tourSession(1);
    run(s, 'memremap -t private 64M');
    const f = s.facts();
    expect(f.physBits).toBe(51);
    expect(f.sectionBits).toBe(24);
    expect(f.nodes).toEqual([0, 1]);
    const priv = f.regions.find((r) => r.kind === 'pgmap' && r.type === 'PRIVATE');
    expect(priv).toMatchObject({ start: 2 ** 51 - 64 * 2 ** 20, size: 64 * 2 ** 20 });
    // The pmem-region's GiB at 16 GiB is ZONE_DEVICE too (fsdax): count the top of the space only.
    const dev = f.sections.filter((r) => r.device && r.firstSection * 2 ** 24 >= 2 ** 51 - 2 ** 26);
    expect(dev.reduce((t, r) => t + r.count, 0)).toBe(4);
    expect(f.sections.find((r) => r.firstSection === 2 ** 34 / 2 ** 24)).toMatchObject({ count: 64, device: true });
    expect(dev.every((r) => r.memmap?.source === 'ram')).toBe(true);
    // test_hmm's two device-private chunks, below memremap's pagemap.
    run(s, 'modprobe test_hmm');
    const chunks = s.facts().regions.filter((r) => r.kind === 'pgmap' && r.type === 'PRIVATE' && r.detail.startsWith('hmm_dmirror'));
    expect(chunks.map((r) => [r.detail.split(';')[0], r.size])).toEqual([
      ['hmm_dmirror1 0x7ffffd0000000-0x7ffffdfffffff', 2 ** 28],
      ['hmm_dmirror0 0x7ffffe0000000-0x7ffffefffffff', 2 ** 28],
    ]);
  });

  it('boot refuses what `zonedev shell` refuses, with its words', () => {
    expect(MachineSession.boot({ ...DEFAULT_CONFIG, platform: 'sparc' })).toEqual({ error: "zonedev: web: invalid platform 'sparc' (x86_64 or powerpc)" });
    expect(MachineSession.boot({ ...DEFAULT_CONFIG, memory: '2X' })).toEqual({ error: "zonedev: web: -m 2X: invalid size '2X'" });
    expect(configArgv(DEFAULT_CONFIG)).toEqual(['--platform', 'x86_64', '-m', '2G,slots=2,maxmem=4G', '--numa', '1', '--seed', '1']);
  });
});

describe('the session', () => {
  it('an unfinished command prompts `> `, and runs when it is complete', () => {
    const s = tourSession(0);
    const out: string[] = [];
    for (const [line, prompt] of [
      ['for i in 1 2', '> '],
      ['do echo $i', '> '],
      ['', '> '],
      ['done', 'zonedev# '],
      ['echo z |', '> '],
      ['cat', 'zonedev# '],
      ['true &&', '> '],
      ['echo and', 'zonedev# '],
    ] as const) {
      out.push(s.exec(line).output);
      expect([line, s.prompt]).toEqual([line, prompt]);
    }
    expect(out).toEqual(['', '', '', '1\n2\n', '', 'z\n', '', 'and\n']);
    expect(s.history.length).toBe(8);
  });

  it('Ctrl-C drops an unfinished command and its lines from the history; a finished one stays', () => {
    const s = tourSession(0);
    run(s, 'echo kept');
    expect(s.exec('for i in 1 2').output).toBe('');
    s.exec('do echo $i');
    expect(s.continuing).toBe(true);
    s.interrupt();
    expect(s.continuing).toBe(false);
    expect(s.prompt).toBe(WEB_PROMPT);
    expect(s.history).toEqual(['echo kept']);
    // The next line is a command of its own, not the end of the dropped one.
    expect(s.exec('echo after').output).toBe('after\n');
    s.interrupt();
    expect(s.history).toEqual(['echo kept', 'echo after']);
  });

  it("Ctrl-D: inside a command, bash's unexpected end of file; at the prompt, nothing but a hint", () => {
    const s = tourSession(0);
    run(s, 'echo kept');
    s.exec('echo open |');
    expect(s.endOfInput()).toEqual({ status: 2, output: 'zonedev: syntax error: unexpected end of file\n' });
    expect(s.continuing).toBe(false);
    expect(s.history).toEqual(['echo kept']);
    expect(s.endOfInput()).toEqual({ status: 2, output: 'Use "exit" to leave the shell.\n' });
    expect(s.shell.exitStatus).toBeUndefined();
    expect(s.exec('echo $?').output).toBe('2\n');
  });

  it('borrows the tracer for a command and leaves it as it found it', () => {
    const s = tourSession(0);
    run(s, 'object_add memory-backend-ram,id=mem1,size=128M');
    const r = s.exec('device_add pc-dimm,id=dimm1,memdev=mem1');
    expect(r.status).toBe(0);
    expect(r.trace[0]).toMatchObject({ kind: 'entry', name: '__add_memory', depth: 0 });
    expect(s.machine.kernel.tracer.enabled).toBe(false);
    expect(s.machine.kernel.tracer.events.length).toBe(0);
    // A recording of the user's own stays theirs.
    run(s, 'trace on');
    const online = s.exec(`echo online > ${MEM}/memory40/state`);
    expect(online.trace[0]).toMatchObject({ kind: 'entry', name: 'device_online' });
    run(s, 'trace off');
    expect(s.machine.kernel.tracer.events.length).toBe(online.trace.length);
    const show = s.exec('trace show');
    expect(show.trace).toEqual(online.trace);
    expect(show.output).toMatch(/^# tracer: function_graph\n/);
    expect(show.output).toContain('device_online(memory40) {');
    expect(s.history).toEqual(['object_add memory-backend-ram,id=mem1,size=128M', 'device_add pc-dimm,id=dimm1,memdev=mem1', 'trace on', `echo online > ${MEM}/memory40/state`, 'trace off', 'trace show']);
  });

  it("decodes a page and shows a block's sysfs without running a command", () => {
    const s = tourSession(0);
    run(s, 'object_add memory-backend-ram,id=mem1,size=128M', 'device_add pc-dimm,id=dimm1,memdev=mem1');
    const now = s.machine.kernel.clock.now();
    const text = s.pageDecode(0x140000);
    expect(text.split('\n')[0]).toBe('*(struct page *)0xffffea0005000000: pfn 0x140000, phys 0x140000000');
    expect(text).toContain('section: 40 (present, has memmap, offline, hot-added) of memory40, node 0');
    expect(text).toContain("section 40's memmap: 2 MiB in the altmap at pfn 0x140000, mapped with 2 MiB pages");
    expect(s.machine.kernel.clock.now()).toBe(now);
    expect(s.history.length).toBe(2);
    expect(new Map(s.blockSysfs(40))).toEqual(
      new Map([
        ['node0', '(link to the node)'],
        ['online', '0'],
        ['phys_device', '0'],
        ['phys_index', '00000028'],
        ['removable', '1'],
        ['state', 'offline'],
        ['uevent', ''],
        ['valid_zones', 'Normal Movable'],
      ]),
    );
    expect(s.blockSysfs(99)).toEqual([]);
  });

  it('replaying the fragment of a session gives the same facts', () => {
    const a = tourSession(0);
    run(a, 'object_add memory-backend-ram,id=mem1,size=128M', 'device_add pc-dimm,id=dimm1,memdev=mem1', `echo online_movable > ${MEM}/memory40/state`);
    const state = decodeFragment(`#${encodeFragment({ config: a.config, commands: a.history })}`)!;
    const b = MachineSession.boot(state.config);
    if ('error' in b) throw new Error(b.error);
    for (const l of state.commands) b.exec(l);
    expect(JSON.stringify(b.facts())).toBe(JSON.stringify(a.facts()));
  });
});

describe('layout', () => {
  const facts = (): MapFacts => {
    const s = tourSession(0);
    run(s, 'object_add memory-backend-ram,id=mem1,size=128M', 'device_add pc-dimm,id=dimm1,memdev=mem1');
    return s.facts();
  };

  it('colours: boot grey, RAM by node, altmap hatched; blocks by zone, offline dashed', () => {
    expect(memmapStyle({ source: 'boot', nid: 0 })).toEqual({ fill: BOOT_COLOUR, hatch: false });
    expect(memmapStyle({ source: 'ram', nid: 1 })).toEqual({ fill: nodeColour(1), hatch: false });
    expect(memmapStyle({ source: 'altmap', nid: 0, altmapBasePfn: 5 })).toEqual({ fill: ALTMAP_COLOUR, hatch: true });
    expect(nodeColour(0)).not.toBe(nodeColour(1));
    expect(blockStyle({ state: 'online', zone: 'Movable' })).toEqual({ fill: ZONE_COLOURS['Movable'], dashed: false });
    expect(blockStyle({ state: 'offline', zone: undefined })).toEqual({ fill: OFFLINE_COLOUR, dashed: true });
  });

  it('axis: occupied stretches by size with a floor, holes at a fixed width', () => {
    const view = { start: 0, end: 1000 };
    const a = axisPieces(view, [[0, 100], [100, 200], [900, 901]], 500);
    expect(a.map((p) => [p.start, p.end, p.hole])).toEqual([
      [0, 200, false],
      [200, 900, true],
      [900, 901, false],
      [901, 1000, true],
    ]);
    expect(a[1]!.w).toBe(HOLE_WIDTH);
    expect(a[2]!.w).toBe(MIN_PIECE_WIDTH);
    expect(a[0]!.w).toBeCloseTo(500 - 2 * HOLE_WIDTH - MIN_PIECE_WIDTH);
    expect(a.reduce((t, p) => t + p.w, 0)).toBeCloseTo(500);
    expect(addrToX(a, 100)).toBeCloseTo(a[0]!.w / 2);
    expect(xToAddr(a, addrToX(a, 150))).toBe(150);
    expect(mergeIntervals([[5, 9], [0, 3], [3, 4], [8, 12]])).toEqual([[0, 4], [5, 12]]);
    // Nothing in view: linear, one hole.
    expect(axisPieces({ start: 0, end: 10 }, [[20, 30]], 100)).toEqual([{ start: 0, end: 10, x: 0, w: 100, hole: true }]);
  });

  it('the whole space: holes sized, the hot-added block offline and its section hatched', () => {
    const l = layoutMap(facts(), { width: 1200 });
    expect(l.view).toEqual({ start: 0, end: 2 ** 46 });
    const last = l.axis[l.axis.length - 1]!;
    expect(last).toMatchObject({ end: 2 ** 46, hole: true, w: HOLE_WIDTH });
    const hole = l.rects.find((r) => r.kind === 'hole' && r.end === 2 ** 46)!;
    expect(hole.data['hole']).toBe(sizeLabel(2 ** 46 - hole.start));
    const b40 = l.rects.find((r) => r.kind === 'block' && r.data['block'] === '40')!;
    expect(b40).toMatchObject({ fill: OFFLINE_COLOUR, dashed: true, label: 'memory40', start: 0x140000000, end: 0x148000000 });
    const sec = l.rects.filter((r) => r.lane === 'memmap');
    expect(sec.find((r) => r.start === 0x140000000)).toMatchObject({ hatch: true, fill: ALTMAP_COLOUR, dashed: true });
    expect(sec.find((r) => r.start === 0)).toMatchObject({ fill: BOOT_COLOUR, hatch: false });
    expect(l.lanes.map((x) => x.id)).toEqual(['iomem', 'devices', 'node0', 'blocks', 'memmap']);
    // Every rectangle is inside the drawing.
    for (const r of l.rects) {
      expect(r.x).toBeGreaterThanOrEqual(LABEL_WIDTH - 0.01);
      expect(r.x + r.w).toBeLessThanOrEqual(1200 + 0.51);
    }
  });

  it('one section: its pages in cells, each naming its first pfn', () => {
    const l = layoutMap(facts(), { width: 1200, view: { start: 0x140000000, end: 0x148000000 } });
    expect(l.lanes.map((x) => x.id)).toContain('pages');
    const pages = l.rects.filter((r) => r.kind === 'page');
    expect(pages.length).toBe(PAGE_CELLS);
    expect(pages[0]!.data).toEqual({ pfn: String(0x140000), pages: String(32768 / PAGE_CELLS) });
    expect(pages[1]!.data['pfn']).toBe(String(0x140000 + 32768 / PAGE_CELLS));
    expect(pages.every((p) => p.hatch)).toBe(true);
    // A linear axis: the section fills the width.
    expect(l.axis).toEqual([{ start: 0x140000000, end: 0x148000000, x: 0, w: 1200 - LABEL_WIDTH, hole: false }]);
  });

  it('scales: 64 TiB of identical device sections and 1000 blocks lay out in few rectangles', () => {
    const sections = 2 ** 46 / 2 ** 27;
    const big: MapFacts = {
      platform: 'x86_64',
      description: 'synthetic',
      physBits: 52,
      pageShift: 12,
      sectionBits: 27,
      blockSize: 2 ** 27,
      nodes: [0],
      zones: [{ nid: 0, name: 'Device', startPfn: 2 ** 34, spannedPages: 2 ** 34, presentPages: 0 }],
      sections: [
        { firstSection: 0, count: 1000, nid: 0, online: true, early: true, device: false, memmap: { source: 'boot', nid: 0 } },
        { firstSection: 2 ** 19, count: sections, nid: 0, online: false, early: false, device: true, memmap: { source: 'altmap', nid: 0, altmapBasePfn: 2 ** 34 } },
      ],
      blocks: Array.from({ length: 1000 }, (_, i) => ({ id: i, startPfn: i * 32768, nrPages: 32768, state: i % 2 === 0 ? 'online' : 'offline', zone: i % 2 === 0 ? 'Normal' : undefined, nid: 0, nrVmemmapPages: 0 })),
      resources: [{ start: 2 ** 46, end: 2 ** 47 - 1, name: 'pgmap0', depth: 0 }],
      regions: [{ kind: 'pgmap', start: 2 ** 46, size: 2 ** 46, label: 'pgmap PRIVATE', detail: '', type: 'PRIVATE' }],
    };
    const l = layoutMap(big, { width: 1200 });
    const secs = l.rects.filter((r) => r.kind === 'section');
    expect(secs.map((r) => [r.start, r.end])).toEqual([
      [0, 1000 * 2 ** 27],
      [2 ** 46, 2 ** 47],
    ]);
    expect(l.rects.filter((r) => r.kind === 'block').length).toBe(1000);
    expect(renderSvg(l)).toContain('data-sections="524288"');
  });
});

describe('svg', () => {
  it('carries the data attributes, the hatch and the dashes', () => {
    const s = tourSession(0);
    run(s, 'object_add memory-backend-ram,id=mem1,size=128M', 'device_add pc-dimm,id=dimm1,memdev=mem1');
    const svg = renderSvg(layoutMap(s.facts(), { width: 1200 }));
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" class="memory-map" width="1200"')).toBe(true);
    expect(svg).toContain('<pattern id="altmap-hatch"');
    expect(svg).toMatch(/<g class="r block" data-block="40" data-state="offline" data-zone="" data-nid="0"><rect [^>]*fill="#cfd8dc"[^>]*stroke-dasharray="3 2"\/>/);
    expect(svg).toMatch(/<g class="r section" data-memmap="altmap" data-nid="0" data-online="false" data-device="false" data-section="40" data-sections="1"><rect [^>]*fill="url\(#altmap-hatch\)"/);
    expect(svg).toContain('<title>memory40: offline, node 0\npfn 0x140000-0x147fff\n512 pages of memmap on the block itself</title>');
  });
});

describe('url fragment', () => {
  it('round-trips the configuration, the commands, the tour and the view', () => {
    const state = { config: { ...DEFAULT_CONFIG, cmdline: 'memmap=1G!4G movable_node' }, commands: ['lsmem', "echo 'a & b' > /dev/pmem0"], tour: 2, view: { start: 0x140000000, end: 0x148000000 } };
    const f = encodeFragment(state);
    expect(f).toBe('platform=x86_64&m=2G%2Cslots%3D2%2Cmaxmem%3D4G&numa=1&cmdline=memmap%3D1G%214G+movable_node&seed=1&tour=2&v=140000000-148000000&c=lsmem%0Aecho+%27a+%26+b%27+%3E+%2Fdev%2Fpmem0');
    expect(decodeFragment(`#${f}`)).toEqual(state);
    expect(decodeFragment('')).toBeUndefined();
    expect(decodeFragment('#platform=powerpc')).toEqual({ config: { ...DEFAULT_CONFIG, platform: 'powerpc' }, commands: [] });
    expect(decodeFragment('#v=20-10&tour=0')).toEqual({ config: DEFAULT_CONFIG, commands: [] });
  });
});

describe('trace panel', () => {
  it('nests calls with their results and links each to v5.13 and to the model', () => {
    const index = { add_memory: ['mm/memory_hotplug.c', 'packages/memory-hotplug/src/memory-hotplug.ts', 1557] as const };
    const lines = traceLines(
      [
        { kind: 'entry', name: 'add_memory', depth: 0, args: ['0', '0x140000000'], result: undefined },
        { kind: 'entry', name: 'mystery', depth: 1, args: [], result: undefined },
        { kind: 'exit', name: 'mystery', depth: 1, args: [], result: '-EBUSY' },
        { kind: 'exit', name: 'add_memory', depth: 0, args: [], result: '-EBUSY' },
      ],
      index,
    );
    expect(lines).toEqual([
      {
        depth: 0,
        name: 'add_memory',
        args: ['0', '0x140000000'],
        result: '-EBUSY',
        hasChildren: true,
        kernelUrl: 'https://elixir.bootlin.com/linux/v5.13/source/mm/memory_hotplug.c',
        kernelFile: 'mm/memory_hotplug.c',
        modelUrl: 'https://github.com/zonedev/zonedev/blob/main/packages/memory-hotplug/src/memory-hotplug.ts#L1557',
        modelFile: 'packages/memory-hotplug/src/memory-hotplug.ts:1557',
      },
      {
        depth: 1,
        name: 'mystery',
        args: [],
        result: '-EBUSY',
        hasChildren: false,
        kernelUrl: 'https://elixir.bootlin.com/linux/v5.13/A/ident/mystery',
        kernelFile: undefined,
        modelUrl: undefined,
        modelFile: undefined,
      },
    ]);
  });

  it('indexes the kernel-symbol table: memremap_pages() is in mm/memremap.c, a trace point wins', () => {
    const index = traceIndex(KERNEL_SYMBOL_ROWS);
    expect(index['memremap_pages']?.[0]).toBe('mm/memremap.c');
    expect(index['memremap_pages']?.[1]).toBe('packages/memremap/src/memremap.ts');
    expect(index['__add_memory']?.[0]).toBe('mm/memory_hotplug.c');
    const rows = [
      ['f1', 'f', 'mm/a.c', 0, '@zonedev/mm', '', 'first', 'packages/mm/src/a.ts', 1],
      ['f1', 'f', 'mm/a.c', 1, '@zonedev/mm', '', 'traced', 'packages/mm/src/a.ts', 2],
      ['f1', 'f', 'mm/a.c', 0, '@zonedev/mm', '', 'later', 'packages/mm/src/a.ts', 3],
      ['s1', 's', 'mm/a.c', 0, '@zonedev/mm', '', 'struct', 'packages/mm/src/a.ts', 4],
      ['f2', 'f', '', 0, '@zonedev/mm', '', 'unnamed', 'packages/mm/src/a.ts', 5],
    ] as const;
    expect(traceIndex(rows)).toEqual({ f1: ['mm/a.c', 'packages/mm/src/a.ts', 2] });
  });
});

describe('line editor', () => {
  it('echoes, erases, submits, recalls history and cancels with ^C', () => {
    const e = new LineEditor();
    expect(e.feed('lsmx')).toEqual({ actions: [{ kind: 'echo', text: 'lsmx' }], echo: 'lsmx', lines: [], clear: false });
    expect(e.feed('\x7fem\r')).toEqual({
      actions: [
        { kind: 'echo', text: '\b \bem\r\n' },
        { kind: 'line', text: 'lsmem' },
      ],
      echo: '\b \bem\r\n',
      lines: ['lsmem'],
      clear: false,
    });
    expect(e.feed('\x1b[A').echo).toBe('lsmem');
    expect(e.line).toBe('lsmem');
    // ^C: the line is gone; the prompt is the page's to print (it depends on the shell).
    expect(e.feed('\x03').actions).toEqual([{ kind: 'echo', text: '^C\r\n' }, { kind: 'interrupt' }]);
    expect(e.line).toBe('');
    expect(e.feed('a\r\nb\r').lines).toEqual(['a', 'b']);
  });

  it('keeps the order of what a chunk did: a pasted line runs before the next one is echoed', () => {
    const e = new LineEditor();
    expect(e.feed('a\rb\x03c\x0c').actions).toEqual([
      { kind: 'echo', text: 'a\r\n' },
      { kind: 'line', text: 'a' },
      { kind: 'echo', text: 'b^C\r\n' },
      { kind: 'interrupt' },
      { kind: 'echo', text: 'c' },
      { kind: 'clear' },
    ]);
  });

  it('Ctrl-D is the end of input on an empty line only; on a line with text it deletes nothing', () => {
    const e = new LineEditor();
    expect(e.feed('\x04').actions).toEqual([{ kind: 'eof' }]);
    expect(e.feed('ls\x04').actions).toEqual([{ kind: 'echo', text: 'ls' }]);
    expect(e.line).toBe('ls');
  });

  it("prints the list of completions under the prompt it is at (PS2 inside a command)", () => {
    const e = new LineEditor((line) => [['device_add ', 'device_del '].filter((c) => c.startsWith(line)), line]);
    e.prompt = WEB_CONTINUATION_PROMPT;
    expect(e.feed('device_\t').echo).toBe('device_\r\ndevice_add   device_del \r\n> device_');
  });

  it('prompts as `zonedev shell` does', () => {
    expect(WEB_PROMPT).toBe(PROMPT);
    expect(WEB_CONTINUATION_PROMPT).toBe(CONTINUATION_PROMPT);
  });

  it('completes a unique prefix through its completer', () => {
    const e = new LineEditor((line) => [['device_add ', 'device_del '].filter((c) => c.startsWith(line)), line]);
    expect(e.feed('device_a\t').echo).toBe('device_add ');
    expect(e.line).toBe('device_add ');
  });
});
