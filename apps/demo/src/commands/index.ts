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
import { explainSupport } from '../explain/explain.js';

/** Every command of machine `m`. */
export function machineCommands(m: DemoMachine): ShellCommand[] {
  const explain = explainSupport(m.kernel);
  return explain.wrap([...qemuMonitorCommands(m), ...inspectCommands(m), ...memoryCommands(m), ...memremapCommands(m), ...hmmCommands(m), ...explain.commands]);
}
