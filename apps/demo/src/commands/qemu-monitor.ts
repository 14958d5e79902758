/**
 * The QEMU monitor (HMP) commands of the demo's shell: `object_add`,
 * `object_del`, `device_add`, `device_del` and `info memory-devices`, as
 * typed at a `(qemu)` prompt.
 *
 * ```
 *   object_add memory-backend-ram,id=mem1,size=1G
 *   device_add pc-dimm,id=dimm1,memdev=mem1[,node=N][,slot=N][,addr=ADDR]
 *   device_del dimm1
 *   object_del mem1
 *   info memory-devices
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
import type { CommandContext, ShellCommand } from '../machine/machine.js';
import { QemuError, type MonitorResult } from '../machine/qemu.js';
import type { DemoMachine } from '../machine/demo-machine.js';

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
      synopsis: 'info memory-devices',
      summary: 'QEMU monitor: list the plugged DIMMs',
      run: (ctx): number => {
        const what = ctx.args.join(' ');
        if (what !== 'memory-devices') {
          ctx.err(`unknown command: 'info${what === '' ? '' : ` ${what}`}'\n`);
          return 1;
        }
        ctx.out(q.infoMemoryDevices());
        return 0;
      },
    },
  ];
}
