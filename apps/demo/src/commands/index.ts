/**
 * The commands a booted machine adds to the shell (see each module):
 * the QEMU monitor, the page inspectors, the memory tools, memremap, and
 * the module tools with the hmm selftest and process demo.
 */
import type { ShellCommand } from '../shell/command.js';
import type { Machine as DemoMachine } from '@zonedev/platform';
import { inspectCommands } from './inspect.js';
import { memoryCommands } from './memory.js';
import { memremapCommands } from './memremap.js';
import { qemuMonitorCommands } from './qemu-monitor.js';
import { hmmCommands } from './hmm.js';
import { processCommand } from './process.js';
import { explainSupport, type ExplainSupport } from '../explain/explain.js';

/**
 * Every command of machine `m`, with `explain` and `where` of `explain`
 * (the machine's explain support: the shell calls its `around()` for each
 * command, so the commands themselves are not wrapped).
 */
export function machineCommands(m: DemoMachine, explain: ExplainSupport = explainSupport(m.kernel)): ShellCommand[] {
  return [...qemuMonitorCommands(m), ...inspectCommands(m), ...memoryCommands(m), ...memremapCommands(m), ...hmmCommands(m), processCommand(m), ...explain.commands];
}
