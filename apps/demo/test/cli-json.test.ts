// `--json` where the real tool has a structured form: `page --json PFN`
// (the fields drgn reads from a struct page), `trace show --json` (the
// function-graph trace as a call tree) and `info memory-devices --json`
// (QMP's query-memory-devices); and the QEMU monitor's `help info`.
import { describe, expect, it } from 'vitest';
import { DEFAULT_MACHINE } from '@zonedev/platform';
import { bootShellMachine } from '../src/commands/shell-machine.js';
import { run } from '../src/shell/shell.js';
import { infoHelp, infoHelpFor } from '../src/commands/qemu-monitor.js';

const G = 2 ** 30;
const hotplug = { ...DEFAULT_MACHINE, slots: 2, maxmem: 4 * G, numa: 2 };

interface PageJson {
  address: string;
  pfn: number;
  phys: number;
  state: string;
  flags?: { value: string; names: string[]; node: number; zone: number; zone_name: string; node_bits: number[]; zone_bits: number[] };
  _refcount?: number;
  _mapcount?: number;
  page_type?: string[];
  mapping?: { kind: string; text: string };
  pgmap?: { name: string; type: string | null } | null;
  zone?: { name: string; node: number; start_pfn: number; end_pfn: number; pfn_to_online_page: boolean };
  section: { nr: number; flags: string[]; memory_block: string | null; nid: number | null };
  vmemmap_page: { size: number; pfn: number; last_pfn: number; source: string; nid: number | null; altmap_base_pfn: number | null } | null;
  section_memmap: { bytes: number; page_size: number; source: string; nid: number | null; altmap_base_pfn: number | null }[];
}

const hex = (n: number): string => `0x${n.toString(16)}`;

describe('page --json PFN', () => {
  it('has the fields the text shows, with the same values', () => {
    const m = bootShellMachine(DEFAULT_MACHINE);
    for (const pfn of ['0x1000', '0x10', '0x7ffd0']) {
      const text = run(`page ${pfn}`, m).stdout;
      const r = run(`page --json ${pfn}`, m);
      expect(r.status).toBe(0);
      const j = JSON.parse(r.stdout) as PageJson;
      expect(j.pfn).toBe(Number(pfn));
      expect(j.phys).toBe(Number(pfn) * 4096);
      expect(text.split('\n')[0]).toBe(`*(struct page *)${j.address}: pfn ${hex(j.pfn)}, phys ${hex(j.phys)}`);
      expect(j.state).toBe('initialized');
      expect(text).toContain(`  flags      ${j.flags!.value}  ${j.flags!.names.length > 0 ? j.flags!.names.join('|') : '(no flags)'}\n`);
      expect(text).toContain(`node ${j.flags!.node} (bits ${j.flags!.node_bits[0]}..${j.flags!.node_bits[1]}), zone ${j.flags!.zone} ${j.flags!.zone_name} (bits`);
      expect(text).toContain(`  _refcount  ${j._refcount}\n`);
      expect(text).toContain(`  mapping    ${j.mapping!.text}\n`);
      const z = j.zone!;
      expect(text).toContain(`zone:    ${z.name} of node ${z.node} [pfn ${hex(z.start_pfn)}-${hex(z.end_pfn)}], pfn_to_online_page: ${z.pfn_to_online_page ? 'the page' : 'NULL'}\n`);
      expect(text).toContain(`section: ${j.section.nr} (${j.section.flags.join(', ')}) of ${j.section.memory_block!}, node ${j.section.nid}\n`);
      expect(text).toContain(`vmemmap page at pfn ${hex(j.vmemmap_page!.pfn)}-${hex(j.vmemmap_page!.last_pfn)}, from boot memory of node 0\n`);
      expect(JSON.stringify(j.section_memmap)).toBe(JSON.stringify([{ bytes: 2 ** 21, page_size: 2 ** 21, source: 'boot', nid: 0, altmap_base_pfn: null }]));
    }
  });

  it('decodes page->flags: a reserved boot page of ZONE_DMA32 on node 0, no pagemap', () => {
    const m = bootShellMachine(DEFAULT_MACHINE);
    const j = JSON.parse(run('page --json 0x1000', m).stdout) as PageJson;
    expect(j.flags).toMatchObject({ names: ['PG_reserved'], node: 0, zone_name: 'DMA32' });
    expect(j).toMatchObject({ _refcount: 1, _mapcount: -1, page_type: [], pgmap: null, mapping: { kind: 'NULL', text: 'NULL' } });
    expect(j.address).toMatch(/^0xffffea[0-9a-f]+$/);
  });

  it('says an offline hot-added section is not initialized, and gives only its section and memmap', () => {
    const m = bootShellMachine(hotplug);
    expect(run('object_add memory-backend-ram,id=mem1,size=1G\ndevice_add pc-dimm,id=dimm1,memdev=mem1', m).status).toBe(0);
    const j = JSON.parse(run('page --json 0x100000', m).stdout) as PageJson;
    expect(j.state).toBe('uninitialized');
    expect(j).not.toHaveProperty('flags');
    expect(j).not.toHaveProperty('_refcount');
    expect(j.section).toEqual({ nr: 32, flags: ['present', 'has memmap', 'offline', 'hot-added'], memory_block: 'memory32', nid: 0 });
    expect(j.vmemmap_page).toMatchObject({ size: 2 ** 21, source: 'ram', nid: 0, altmap_base_pfn: null });
  });

  it('fails as page does: no struct page is status 1, a bad pfn or a missing one status 2, nothing on stdout', () => {
    const m = bootShellMachine(DEFAULT_MACHINE);
    expect(run('page --json 0x90000', m)).toMatchObject({ status: 1, stdout: '', stderr: 'page: pfn 0x90000: pfn_valid() is false: no struct page\n' });
    expect(run('page --json zz', m)).toMatchObject({ status: 2, stdout: '', stderr: "page: invalid pfn 'zz'\n" });
    expect(run('page --json', m)).toMatchObject({ status: 2, stdout: '', stderr: 'page: usage: page PFN\n' });
    expect(run('page 0x1000 --json', m)).toMatchObject({ status: 2, stdout: '', stderr: 'page: usage: page PFN\n' });
  });
});

describe('trace show --json', () => {
  it('is the call tree trace show draws: each call with its arguments, result and callees', () => {
    const m = bootShellMachine(DEFAULT_MACHINE);
    run('trace on\nmemremap 0x100000000 1M\ntrace off', m);
    const text = run('trace show', m).stdout;
    const tree = JSON.parse(run('trace show --json', m).stdout) as { function: string; args: string[] | null; result: string | null; calls: unknown[] }[];
    const names: string[] = [];
    const walk = (calls: typeof tree, depth: number): void => {
      for (const c of calls) {
        names.push(`${'  '.repeat(depth)}${c.function}`);
        walk(c.calls as typeof tree, depth + 1);
      }
    };
    walk(tree, 0);
    // The same calls, in the same order and nesting, as the text's lines that open a call.
    const fromText = text
      .split('\n')
      .filter((l) => / 0\) {3}/.test(l) && !/^ 0\) +\}/.test(l))
      .map((l) => {
        const body = l.slice(' 0) '.length);
        const depth = (body.length - body.trimStart().length) / 2 - 1;
        return `${'  '.repeat(depth)}${/^\s*([A-Za-z_]\w*)\(/.exec(body)![1]!}`;
      });
    expect(names).toEqual(fromText);
    const remap = tree.find((c) => c.function === 'memremap_pages')!;
    expect(remap).toMatchObject({ args: ['pgmap0', '0'], result: '-EINVAL' });
    expect(text).toContain(' 0)   memremap_pages(pgmap0, 0) {\n');
    expect(text).toContain('} /* memremap_pages = -EINVAL */\n');
  });

  it('is [] for an empty trace; other words stay a usage error', () => {
    const m = bootShellMachine(DEFAULT_MACHINE);
    expect(run('trace show --json', m)).toMatchObject({ status: 0, stdout: '[]\n', stderr: '' });
    for (const bad of ['trace show x', 'trace on --json', 'trace show --json x']) {
      expect(run(bad, m)).toMatchObject({ status: 2, stdout: '', stderr: 'trace: usage: trace on|off|show|clear\n' });
    }
  });
});

describe('info memory-devices --json (QMP query-memory-devices)', () => {
  it('is [] with no DIMM, and one MemoryDeviceInfo of type dimm per DIMM, in address order', () => {
    const m = bootShellMachine(hotplug);
    expect(run('info memory-devices --json', m)).toMatchObject({ status: 0, stdout: '{\n    "return": []\n}\n', stderr: '' });
    run('object_add memory-backend-ram,id=mem1,size=1G\ndevice_add pc-dimm,id=dimm1,memdev=mem1,node=1\nobject_add memory-backend-ram,id=mem2,size=512M\ndevice_add pc-dimm,memdev=mem2', m);
    const r = JSON.parse(run('info memory-devices --json', m).stdout) as { return: { type: string; data: Record<string, unknown> }[] };
    expect(r.return).toEqual([
      { type: 'dimm', data: { id: 'dimm1', addr: 0x100000000, slot: 0, node: 1, size: G, memdev: '/objects/mem1', hotplugged: true, hotpluggable: true } },
      { type: 'dimm', data: { addr: 0x140000000, slot: 1, node: 0, size: G / 2, memdev: '/objects/mem2', hotplugged: true, hotpluggable: true } },
    ]);
    // The same devices as the HMP text.
    const hmp = run('info memory-devices', m).stdout;
    expect(hmp).toContain('Memory device [dimm]: "dimm1"\n  addr: 0x100000000\n  slot: 0\n  node: 1\n  size: 1073741824\n  memdev: /objects/mem1\n');
    expect(hmp).toContain('Memory device [dimm]: ""\n  addr: 0x140000000\n  slot: 1\n');
  });

  it('is an extraneous-characters error with anything else after memory-devices, or after another subcommand', () => {
    const m = bootShellMachine(hotplug);
    expect(run('info memory-devices -j', m)).toMatchObject({ status: 1, stdout: '', stderr: 'memory-devices: extraneous characters at the end of line\nTry "help info memory-devices" for more information\n' });
    expect(run('info numa --json', m)).toMatchObject({ status: 1, stdout: '', stderr: 'numa: extraneous characters at the end of line\nTry "help info numa" for more information\n' });
  });
});

describe('help info (QEMU monitor)', () => {
  it("prints help_cmd_dump_one()'s lines: all of info's, one subcommand's, or unknown command", () => {
    expect(infoHelpFor([])).toBe(infoHelp());
    expect(infoHelpFor(['numa'])).toBe('info numa  -- show NUMA information\n');
    expect(infoHelpFor(['memdev'])).toBe('info memdev  -- show memory backends\n');
    expect(infoHelpFor(['bogus'])).toBe("unknown command: 'info bogus'\n");
  });
});
