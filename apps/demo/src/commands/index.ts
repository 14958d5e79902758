/**
 * The commands a booted machine adds to the shell (see each module):
 * the QEMU monitor, the page inspectors, the memory tools, memremap, and
 * the module tools with the hmm selftest and process demo.
 */
import type { ShellCommand } from '../machine/machine.js';
import type { DemoMachine } from '../machine/demo-machine.js';
import { inspectCommands } from './inspect.js';
import { memoryCommands } from './memory.js';
import { memremapCommands } from './memremap.js';
import { qemuMonitorCommands } from './qemu-monitor.js';
import { hmmCommands } from './hmm.js';

/** Every command of machine `m`. */
export function machineCommands(m: DemoMachine): ShellCommand[] {
  return [...qemuMonitorCommands(m), ...inspectCommands(m), ...memoryCommands(m), ...memremapCommands(m), ...hmmCommands(m)];
}
