/**
 * A booted machine as the shell's commands see it: the memory layers
 * (`MachineCore`), the shell's interface (`Machine`), and the demo's own
 * state: the QEMU side, the named pages of `memalloc`, the pagemaps of
 * `memremap`, the processes and the test_hmm module.
 */
import type { MachineCore } from './core.js';
import type { Machine } from './machine.js';
import type { QemuMachine } from './qemu.js';
import type { UserMemory } from './user-memory.js';
import type { DemoPagemaps } from './pagemaps.js';
import type { MachineHmm } from './hmm.js';

/** Everything a command of the demo may use. */
export interface DemoMachine extends MachineCore, Machine {
  /** The QEMU side: memory backends, DIMMs, the monitor. */
  readonly qemu: QemuMachine;
  /** Pages the `memalloc` command allocated. */
  readonly user: UserMemory;
  /** Pagemaps the `memremap` command mapped. */
  readonly pagemaps: DemoPagemaps;
  /** Processes (@zonedev/mm) and the test_hmm module (@zonedev/hmm). */
  readonly hmm: MachineHmm;
}
