/**
 * The QEMU monitor (HMP) commands of the demo's shell: `object_add`,
 * `object_del`, `device_add`, `device_del` and `info`, as typed at a
 * `(qemu)` prompt of QEMU 6.0.
 *
 * ```
 *   object_add memory-backend-ram,id=mem1,size=1G
 *   device_add pc-dimm,id=dimm1,memdev=mem1[,node=N][,slot=N][,addr=ADDR]
 *   device_del dimm1
 *   object_del mem1
 *   info                   the info subcommands, as `help info` lists them
 *   info memdev            the memory backends
 *   info memory-devices    the plugged DIMMs
 *   info memory-devices --json
 *                          the same as QMP's query-memory-devices returns it
 *   info numa              the NUMA nodes: CPUs, memory, hot-plugged memory
 *   help info [SUBCOMMAND] the info subcommands, as `help info` lists them
 * ```
 *
 * QEMU's errors are printed as HMP prints them (`Error: ` and the text of
 * `error_setg()`), on standard error, with status 1. What the guest prints
 * on its console meanwhile (errors, as with `quiet`) goes to standard error
 * too, as it would on a terminal shared by the monitor and the serial
 * console (`-serial mon:stdio`). A request the guest fails gives status 1;
 * a refused unplug also prints the QMP event QEMU emits
 * (`ACPI_DEVICE_OST`, `MEM_UNPLUG_ERROR`); the guest's full story is in its
 * dmesg.
 */
import type { CommandContext, ShellCommand } from '../shell/command.js';
import { QemuError, type MonitorResult } from '@zonedev/platform';
import type { Machine as DemoMachine } from '@zonedev/platform';
import { PC_NUMA_MEM_ALIGN } from '@zonedev/platform';
import { numaSplit, SPAPR_NUMA_MEM_ALIGN } from '@zonedev/platform';

/** One `info` subcommand: its entry in QEMU's hmp-commands-info.hx (name, params, help) and what it prints. */
interface InfoCommand {
  readonly name: string;
  readonly params: string;
  readonly help: string;
  show(m: DemoMachine): string;
}

/**
 * `machine->ram`'s backend: the `memory-backend-ram` QEMU creates for `-m`
 * under `/objects` (`create_default_memdev()`, hw/core/machine.c), named by
 * the machine class's `default_ram_id`.
 */
export function defaultRamId(m: DemoMachine): string {
  return m.platform === 'x86_64' ? 'pc.ram' : 'ppc_spapr.ram';
}

/**
 * `ms->numa_state->num_nodes` after `numa_complete_configuration()`
 * (hw/core/numa.c): pc gets one implicit node when it has DIMM slots
 * (`auto_enable_numa_with_memhp`), pseries always has one (`auto_enable_numa`).
 */
export function numaNodeCount(m: DemoMachine): number {
  const o = m.options;
  if (m.platform === 'powerpc') return Math.max(1, o.numa);
  return o.numa > 1 || o.slots > 0 ? o.numa : 0;
}

/**
 * HMP `info memdev` (`hmp_info_memdev()`, hw/core/machine-hmp-cmds.c, QEMU
 * 6.0): every memory backend with QEMU's defaults for a
 * `memory-backend-ram` (merge and dump on, no prealloc, policy default, no
 * host nodes), then an empty line. The boot RAM's backend comes first, the
 * `object_add`ed ones after it in creation order (QEMU walks `/objects` in
 * hash-table order).
 */
export function infoMemdev(m: DemoMachine): string {
  const backends = [{ id: defaultRamId(m), size: m.options.ramSize }, ...m.qemu.backends.values()];
  let s = '';
  for (const b of backends) {
    s += `memory backend: ${b.id}\n`;
    s += `  size:  ${b.size}\n`;
    s += '  merge: true\n';
    s += '  dump: true\n';
    s += '  prealloc: false\n';
    s += '  policy: default\n';
    s += '  host nodes: \n';
  }
  return `${s}\n`;
}

/**
 * HMP `info numa` (`hmp_info_numa()`, hw/core/machine-hmp-cmds.c, QEMU
 * 6.0): the node count, then for each node its CPUs (the one CPU of
 * `-smp 1` is on node 0), its memory in MiB (the boot RAM split as
 * `numa_default_auto_assign_ram()` splits it, plus the DIMMs on the node)
 * and the hot-plugged part (`query_numa_node_mem()`).
 */
export function infoNuma(m: DemoMachine): string {
  const nodes = numaNodeCount(m);
  let s = `${nodes} nodes\n`;
  if (nodes === 0) return s;
  const ram = numaSplit(m.options.ramSize, nodes, m.platform === 'x86_64' ? PC_NUMA_MEM_ALIGN : SPAPR_NUMA_MEM_ALIGN);
  for (let i = 0; i < nodes; i++) {
    const plugged = m.qemu.dimms.filter((d) => d.node === i).reduce((t, d) => t + d.size, 0);
    s += `node ${i} cpus:${i === 0 ? ' 0' : ''}\n`;
    s += `node ${i} size: ${Math.floor((ram[i]! + plugged) / 2 ** 20)} MB\n`;
    s += `node ${i} plugged: ${Math.floor(plugged / 2 ** 20)} MB\n`;
  }
  return s;
}

/**
 * QMP `query-memory-devices` (`qmp_query_memory_devices()`,
 * hw/mem/memory-device.c, QEMU 6.0): one `MemoryDeviceInfo` per DIMM, in
 * address order as HMP prints them, `{"type": "dimm", "data":
 * PCDIMMDeviceInfo}` (qapi/machine.json; `id` absent for a DIMM without
 * one), in the `{"return": ...}` of a QMP reply, indented as `qmp-shell -p`
 * prints it.
 */
export function queryMemoryDevices(m: DemoMachine): string {
  const list = [...m.qemu.dimms]
    .sort((a, b) => a.addr - b.addr)
    .map((d) => ({
      type: 'dimm',
      data: {
        ...(d.id !== undefined ? { id: d.id } : {}),
        addr: d.addr,
        slot: d.slot,
        node: d.node,
        size: d.size,
        memdev: `/objects/${d.memdev.id}`,
        hotplugged: d.hotplugged,
        hotpluggable: true,
      },
    }));
  return `${JSON.stringify({ return: list }, null, 4)}\n`;
}

/** The `info` subcommands the model has, sorted by name as QEMU sorts `hmp_info_cmds` (`sortcmdlist()`). */
export const INFO_COMMANDS: readonly InfoCommand[] = [
  { name: 'memdev', params: '', help: 'show memory backends', show: infoMemdev },
  { name: 'memory-devices', params: '', help: 'show memory devices', show: (m) => m.qemu.infoMemoryDevices() },
  { name: 'numa', params: '', help: 'show NUMA information', show: infoNuma },
];

/**
 * HMP `help info` and a bare `info` (`hmp_info_help()` -> `help_cmd()`,
 * monitor/hmp.c): one line per subcommand, `help_cmd_dump_one()`'s
 * "info NAME PARAMS -- HELP".
 */
export function infoHelp(): string {
  return INFO_COMMANDS.map((c) => `info ${c.name} ${c.params} -- ${c.help}\n`).join('');
}

/**
 * HMP `help info [SUBCOMMAND]` (`help_cmd()` -> `help_cmd_dump()`,
 * monitor/hmp.c): with no subcommand every `info` line, with one that line,
 * and for an unknown one `unknown command: 'info NAME'` (QEMU prints it on
 * the monitor, and the command succeeds). `args` are the words after `info`.
 * The shell's `help` builtin prints this for `help info ...`.
 */
export function infoHelpFor(args: readonly string[]): string {
  if (args.length === 0) return infoHelp();
  const sub = INFO_COMMANDS.find((c) => c.name === args[0]);
  if (sub === undefined) return `unknown command: 'info ${args[0]!}'\n`;
  return `info ${sub.name} ${sub.params} -- ${sub.help}\n`;
}

/** Runs a monitor operation with HMP's error reporting. */
function hmp(ctx: CommandContext, f: () => MonitorResult | void): number {
  try {
    const r = f();
    if (r === undefined) return 0;
    ctx.out(r.output);
    for (const l of r.console) ctx.err(`${l}\n`);
    for (const e of r.events) ctx.err(`${e}\n`);
    return r.guestFailed ? 1 : 0;
  } catch (e) {
    if (e instanceof QemuError) {
      ctx.err(`Error: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

/** `monitor_parse_arguments()` for a missing string: two lines, no command run. */
function missing(ctx: CommandContext): number {
  ctx.err(`${ctx.name}: string expected\nTry "help ${ctx.name}" for more information\n`);
  return 1;
}

/** The monitor commands of machine `m`. */
export function qemuMonitorCommands(m: DemoMachine): ShellCommand[] {
  const q = m.qemu;
  return [
    {
      name: 'object_add',
      synopsis: 'object_add memory-backend-ram,id=ID,size=SIZE',
      summary: 'QEMU monitor: create host memory for a DIMM',
      run: (ctx) => (ctx.args.length === 0 ? missing(ctx) : hmp(ctx, () => q.objectAdd(ctx.args.join(' ')))),
    },
    {
      name: 'object_del',
      synopsis: 'object_del ID',
      summary: 'QEMU monitor: delete a memory backend no DIMM uses',
      run: (ctx) => (ctx.args.length === 0 ? missing(ctx) : hmp(ctx, () => q.objectDel(ctx.args[0]!))),
    },
    {
      name: 'device_add',
      synopsis: 'device_add pc-dimm,id=ID,memdev=ID[,node=N]',
      summary: `QEMU monitor: plug a DIMM (the guest adds it: ${m.platform === 'x86_64' ? 'ACPI' : 'DLPAR'})`,
      run: (ctx) => hmp(ctx, () => q.deviceAdd(ctx.args.join(' '))),
    },
    {
      name: 'device_del',
      synopsis: 'device_del ID',
      summary: 'QEMU monitor: unplug a DIMM (the guest offlines and removes it)',
      run: (ctx) => (ctx.args.length === 0 ? missing(ctx) : hmp(ctx, () => q.deviceDel(ctx.args[0]!))),
    },
    {
      name: 'info',
      synopsis: 'info [memdev|memory-devices|numa]',
      summary: 'QEMU monitor: show memory backends, memory devices or NUMA nodes (none: list them)',
      topicHelp: infoHelpFor,
      run: (ctx): number => {
        const what = ctx.args.join(' ');
        if (what === '') {
          ctx.out(infoHelp());
          return 0;
        }
        const sub = INFO_COMMANDS.find((c) => c.name === ctx.args[0]);
        if (sub?.name === 'memory-devices' && ctx.args.length === 2 && ctx.args[1] === '--json') {
          ctx.out(queryMemoryDevices(m));
          return 0;
        }
        if (sub === undefined || ctx.args.length > 1) {
          // monitor_parse_command(): an unknown subcommand, or arguments a
          // subcommand without parameters does not take.
          if (sub === undefined) ctx.err(`unknown command: 'info ${what}'\n`);
          else ctx.err(`${sub.name}: extraneous characters at the end of line\nTry "help info ${sub.name}" for more information\n`);
          return 1;
        }
        ctx.out(sub.show(m));
        return 0;
      },
    },
  ];
}
