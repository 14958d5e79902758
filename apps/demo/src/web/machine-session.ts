/**
 * One machine of the web app and the shell typed into it: the single place
 * where the web front-end touches the machine and the shell.
 *
 * ```
 *   WebConfig --parseRunArgs()--> BootOptions --bootShellMachine()--> Machine (@zonedev/platform)
 *                                                                      |
 *   terminal line --> Shell.execLine() (the shell of `zonedev shell`) --+--> output, trace
 *                                                                      |
 *   map          <-- mapFacts(): sections, blocks, zones, iomem, devices (plain data)
 * ```
 *
 * The options are parsed by the CLI's own parser, so the picker accepts
 * exactly what `zonedev shell` accepts and refuses the rest with the same
 * words; the shell is the CLI's `Shell`, so every command behaves and prints
 * as in the terminal.
 *
 * The trace panel shows the function-graph trace of the last command. The
 * tracer belongs to the machine and the user drives it with `trace
 * on|off|show|clear`, so the session borrows it only when the user is not
 * using it: when tracing is off and nothing is recorded, it records the
 * command and then empties the buffer and switches tracing off again,
 * leaving the tracer as it found it. When the user is tracing, the panel
 * shows what the command added to the user's recording, and after `trace
 * show` the whole recording.
 */
import { isKernelError, type TraceEvent } from '@zonedev/kernel';
import { MEM_STATE_GOING_OFFLINE, MEM_STATE_ONLINE } from '@zonedev/memory-hotplug';
import { memoryTypeName, pgmapAltmap } from '@zonedev/memremap';
import { earlySection, onlineSection, presentSection, type VmemmapBlock } from '@zonedev/sparse-vmemmap';
import { BootError, type BootOptions, type Machine } from '@zonedev/platform';
import { parseRunArgs } from '../args.js';
import { bootShellMachine } from '../commands/shell-machine.js';
import type { CommandContext, ShellCommand } from '../shell/command.js';
import { Shell } from '../shell/shell.js';
import type { BlockFact, MapFacts, RegionFact, ResourceFact, SectionRun, ZoneFact } from './layout.js';
import { configArgv, type WebConfig } from './url-state.js';
import { WEB_CONTINUATION_PROMPT, WEB_PROMPT } from './line-editor.js';

/** What one command did. */
export interface CommandResult {
  /** Its exit status (`$?`). */
  readonly status: number;
  /** stdout and stderr, interleaved as a terminal shows them. */
  readonly output: string;
  /** The function-graph events of the command. */
  readonly trace: readonly TraceEvent[];
  /** `exit` ran: the session is over. */
  readonly exited: boolean;
}

/** A booted machine, its shell, and the commands typed so far. */
export class MachineSession {
  readonly config: WebConfig;
  /** The booted machine (`@zonedev/platform`). */
  readonly machine: Machine;
  readonly shell: Shell;
  /**
   * Every line run, in order (what the URL fragment records). The lines of
   * a command given up with Ctrl-C or Ctrl-D never ran and are not kept.
   */
  readonly history: string[] = [];
  /** Where in {@link MachineSession.history} the unfinished command starts. */
  private pendingFrom = 0;
  private sink: (text: string) => void = () => undefined;

  private constructor(config: WebConfig, options: BootOptions) {
    this.config = config;
    const view = bootShellMachine(options);
    this.machine = view.machine;
    const out = { write: (t: string): void => this.sink(t) };
    this.shell = new Shell(view, { stdout: out, stderr: out });
  }

  /**
   * Boots the machine `config` describes. Returns the session, or the
   * message `zonedev shell` would print for options it refuses (usage
   * error) or a machine that cannot boot.
   */
  static boot(config: WebConfig): MachineSession | { error: string } {
    const args = parseRunArgs('web', configArgv(config));
    if ('error' in args) return { error: `zonedev: ${args.error}` };
    return MachineSession.bootOptions(config, args.machine);
  }

  /** Boots from already parsed options (the tour's machines). */
  static bootOptions(config: WebConfig, options: BootOptions): MachineSession | { error: string } {
    try {
      return new MachineSession(config, options);
    } catch (e) {
      if (e instanceof BootError || isKernelError(e)) return { error: `zonedev: boot failed: ${e.message}` };
      return { error: `zonedev: qemu: ${e instanceof Error ? e.message : String(e)}` };
    }
  }

  /** The banner `zonedev shell` prints on a terminal. */
  banner(): string {
    return `zonedev shell: ${this.machine.description}\nType 'help' for the commands, 'exit' or Ctrl-D to leave.\n`;
  }

  /** Whether the shell waits for the rest of a command (the `> ` prompt). */
  get continuing(): boolean {
    return this.shell.continuing;
  }

  /** The prompt for the next line: `zonedev# `, or `> ` inside an unfinished command. */
  get prompt(): string {
    return this.shell.continuing ? WEB_CONTINUATION_PROMPT : WEB_PROMPT;
  }

  /** Ctrl-C: the lines of an unfinished command are thrown away (readline's SIGINT in `zonedev shell`). */
  interrupt(): void {
    if (!this.shell.continuing) return;
    this.shell.cancel();
    this.history.length = this.pendingFrom;
  }

  /**
   * Ctrl-D on an empty line. Inside an unfinished command it is the end of
   * its input: bash's `syntax error: unexpected end of file` (status 2) and
   * the command's lines are dropped. At the `zonedev# ` prompt the page
   * stays, as bash does with `IGNOREEOF` set: a browser tab has no parent
   * shell to return to, so only `exit` halts the machine.
   */
  endOfInput(): { readonly status: number; readonly output: string } {
    if (!this.shell.continuing) return { status: this.shell.status, output: 'Use "exit" to leave the shell.\n' };
    let output = '';
    this.sink = (t) => void (output += t);
    try {
      this.shell.endOfInput();
    } finally {
      this.sink = () => undefined;
    }
    this.history.length = this.pendingFrom;
    return { status: this.shell.status, output };
  }

  /** Runs one line in the shell; records it in the history. */
  exec(line: string): CommandResult {
    if (!this.shell.continuing) this.pendingFrom = this.history.length;
    this.history.push(line);
    const tracer = this.machine.kernel.tracer;
    const isTrace = /^\s*trace(\s|$)/.test(line);
    const borrow = !isTrace && !tracer.enabled && tracer.events.length === 0;
    const before = tracer.events.length;
    if (borrow) tracer.on();
    let output = '';
    this.sink = (t) => void (output += t);
    let r: { ran: boolean; status: number };
    try {
      r = this.shell.execLine(line);
    } finally {
      this.sink = () => undefined;
    }
    let trace: TraceEvent[] = [];
    if (borrow) {
      trace = [...tracer.events];
      tracer.off();
      tracer.clear();
    } else if (/^\s*trace\s+show\s*$/.test(line)) {
      // `trace show`: the panel shows the recording it printed.
      trace = [...tracer.events];
    } else if (!isTrace && tracer.events.length >= before) {
      trace = tracer.events.slice(before);
    }
    return { status: r.status, output, trace, exited: this.shell.exitStatus !== undefined };
  }

  /** Runs a machine command outside the shell's history and clock (the map's page decode). */
  private runQuiet(name: string, args: readonly string[]): string {
    const cmd: ShellCommand | undefined = this.shell.commands().find((c) => c.name === name);
    if (cmd === undefined) return `${name}: command not found\n`;
    let text = '';
    const ctx: CommandContext = {
      name,
      args,
      fs: this.shell.fs,
      machine: this.shell.machine,
      options: { errexit: false },
      out: (t) => void (text += t),
      err: (t) => void (text += t),
      path: (a) => this.shell.path(a),
      commands: () => this.shell.commands(),
      exit: () => undefined,
    };
    cmd.run(ctx);
    return text;
  }

  /** What `page PFN` prints for `pfn`, without running it as a command. */
  pageDecode(pfn: number): string {
    return this.runQuiet('page', [`0x${pfn.toString(16)}`]);
  }

  /** The attributes of `/sys/devices/system/memory/memoryN`, name and text, as `cat` shows them. */
  blockSysfs(id: number): [string, string][] {
    const dir = `/sys/devices/system/memory/memory${id}`;
    const fs = this.shell.fs;
    const out: [string, string][] = [];
    let names: string[];
    try {
      names = fs.list(dir);
    } catch {
      return out;
    }
    for (const name of names) {
      const path = `${dir}/${name}`;
      if (fs.isDir(path)) {
        if (/^node[0-9]+$/.test(name)) out.push([name, '(link to the node)']);
        continue;
      }
      try {
        out.push([name, fs.read(path).replace(/\n$/, '')]);
      } catch (e) {
        out.push([name, `(${e instanceof Error ? e.message : String(e)})`]);
      }
    }
    return out;
  }

  /** The facts the memory map draws. */
  facts(): MapFacts {
    return machineFacts(this.machine);
  }
}

/** The vmemmap block holding the struct page of `pfn`, walking `blocks` (ascending) from `state.i`. */
function blockAt(blocks: readonly VmemmapBlock[], state: { i: number }, pfn: number): VmemmapBlock | undefined {
  const off = pfn * 64;
  while (state.i < blocks.length && blocks[state.i]!.offset + blocks[state.i]!.size <= off) state.i++;
  const b = blocks[state.i];
  return b !== undefined && b.offset <= off ? b : undefined;
}

/** The facts of a booted machine: run-length sections, blocks, zones, iomem and the device side. */
export function machineFacts(m: Machine): MapFacts {
  const layout = m.sparse.layout;
  const pps = layout.PAGES_PER_SECTION;
  const pgmaps = m.memremap.pgmapArrayEntries().sort((a, b) => a.firstPfn - b.firstPfn);
  const vblocks = m.sparse.vmemmapBlocks();
  const walk = { i: 0 };
  const sections: SectionRun[] = [];
  let pg = 0;
  for (const ms of m.sparse.memSections()) {
    if (!presentSection(ms)) continue;
    const pfn = ms.sectionNr * pps;
    while (pg < pgmaps.length && pgmaps[pg]!.lastPfn < pfn) pg++;
    const device = pg < pgmaps.length && pgmaps[pg]!.firstPfn < pfn + pps;
    const vb = blockAt(vblocks, walk, pfn);
    const memmap =
      vb === undefined
        ? undefined
        : vb.source === 'altmap'
          ? { source: vb.source, nid: vb.nid, altmapBasePfn: vb.altmap?.basePfn ?? 0 }
          : { source: vb.source, nid: vb.nid };
    const run: SectionRun = { firstSection: ms.sectionNr, count: 1, nid: ms.nid, online: onlineSection(ms), early: earlySection(ms), device, memmap };
    const last = sections[sections.length - 1];
    if (
      last !== undefined &&
      last.firstSection + last.count === run.firstSection &&
      last.nid === run.nid &&
      last.online === run.online &&
      last.early === run.early &&
      last.device === run.device &&
      last.memmap?.source === run.memmap?.source &&
      last.memmap?.nid === run.memmap?.nid &&
      last.memmap?.altmapBasePfn === run.memmap?.altmapBasePfn
    ) {
      sections[sections.length - 1] = { ...last, count: last.count + 1 };
    } else {
      sections.push(run);
    }
  }

  const zones: ZoneFact[] = [];
  for (const pgdat of m.mm.onlinePgdats()) {
    for (const z of pgdat.nodeZones) {
      if (z.spannedPages > 0) zones.push({ nid: pgdat.nodeId, name: z.name, startPfn: z.zoneStartPfn, spannedPages: z.spannedPages, presentPages: z.presentPages });
    }
  }

  const mem = m.hotplug.memory;
  const blocks: BlockFact[] = mem.allBlocks().map((b) => {
    const startPfn = mem.blockStartPfn(b);
    const online = b.state === MEM_STATE_ONLINE;
    return {
      id: b.blockId,
      startPfn,
      nrPages: mem.pagesPerBlock,
      state: online ? 'online' : b.state === MEM_STATE_GOING_OFFLINE ? 'going-offline' : 'offline',
      zone: online ? m.mm.pageZone(startPfn + b.nrVmemmapPages).name : undefined,
      nid: b.nid,
      nrVmemmapPages: b.nrVmemmapPages,
    };
  });

  const resources: ResourceFact[] = [];
  for (const r of m.kernel.iomem.root.children()) {
    resources.push({ start: r.start, end: r.end, name: r.name ?? '<BAD>', depth: 0 });
    for (const c of r.children()) resources.push({ start: c.start, end: c.end, name: c.name ?? '<BAD>', depth: 1 });
  }

  const regions: RegionFact[] = [];
  if (m.x86 !== undefined && m.x86.layout.belowFourG < 2 ** 32) {
    const s = m.x86.layout.belowFourG;
    regions.push({ kind: 'pci-hole', start: s, size: 2 ** 32 - s, label: 'PCI hole', detail: 'QEMU pc: the 32-bit PCI hole between low RAM and 4 GiB' });
  }
  const dm = m.qemu.deviceMemory;
  if (dm !== undefined) {
    regions.push({ kind: 'device-memory', start: dm.base, size: dm.size, label: 'device memory', detail: "QEMU's hot-plug region (device_memory): where DIMMs go" });
  }
  for (const d of m.qemu.dimms) {
    regions.push({ kind: 'dimm', start: d.addr, size: d.size, label: d.id ?? `slot${d.slot}`, detail: `pc-dimm in slot ${d.slot}, node ${d.node}, memdev ${d.memdev.id}${d.hotplugged ? ', hot-plugged' : ''}` });
  }
  for (const r of m.nvdimm.regions()) {
    regions.push({ kind: 'nd-region', start: r.ndrStart, size: r.ndrSize, label: r.name ?? `region${r.regionId}`, detail: `${r.isVolatile ? 'volatile' : 'persistent'} region, target node ${r.targetNode}` });
  }
  for (const r of resources) {
    if (r.depth === 1 && /^(namespace|dax|pfn|btt)[0-9]/.test(r.name)) {
      regions.push({ kind: 'namespace', start: r.start, size: r.end + 1 - r.start, label: r.name, detail: 'claimed in /proc/iomem' });
    }
  }
  const pageSize = 2 ** layout.PAGE_SHIFT;
  for (const e of pgmaps) {
    const type = memoryTypeName(e.pgmap.type).replace(/^MEMORY_DEVICE_/, '');
    const alt = pgmapAltmap(e.pgmap);
    const altText = alt === undefined ? 'memmap in RAM' : `altmap: base_pfn 0x${alt.basePfn.toString(16)}, reserve ${alt.reserve}, free ${alt.free}, alloc ${alt.alloc}`;
    regions.push({
      kind: 'pgmap',
      start: e.firstPfn * pageSize,
      size: (e.lastPfn + 1 - e.firstPfn) * pageSize,
      label: `pgmap ${type}`,
      detail: `${e.pgmap.name ?? e.pgmap.traceName}; ${altText}`,
      type,
    });
  }

  const nodes = [...new Set([...m.mm.onlinePgdats().map((p) => p.nodeId), ...sections.map((s) => s.nid)])].sort((a, b) => a - b);
  return {
    platform: m.platform,
    description: m.description,
    physBits: layout.MAX_PHYSMEM_BITS,
    pageShift: layout.PAGE_SHIFT,
    sectionBits: layout.SECTION_SIZE_BITS,
    blockSize: mem.blockSize,
    nodes,
    zones,
    sections,
    blocks,
    resources,
    regions,
  };
}
