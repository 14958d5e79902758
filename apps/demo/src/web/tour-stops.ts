/**
 * The tour (`zonedev tour`) as the web app walks it: each stop's machine as
 * the picker shows it, and its steps. The page loads this module (and the
 * tour's text with it) as a separate chunk when the tour starts, so the
 * first load does not carry it.
 */
import type { MachineOptions } from '@zonedev/platform';
import { TOUR_STOPS } from '../tour.js';
import type { WebConfig } from './url-state.js';

/** One stop of the tour (`zonedev tour`), as the web app walks it. */
export interface WebTourStop {
  readonly title: string;
  readonly invocation: string;
  readonly machine: MachineOptions;
  readonly config: WebConfig;
  readonly steps: readonly { readonly commands: readonly string[]; readonly say: string }[];
}

/** `-m` text for a machine's RAM, slots and maxmem. */
function memoryText(o: MachineOptions): string {
  const mib = (b: number): string => (b % 2 ** 30 === 0 ? `${b / 2 ** 30}G` : `${b / 2 ** 20}M`);
  return o.slots > 0 || o.maxmem > o.ramSize ? `${mib(o.ramSize)},slots=${o.slots},maxmem=${mib(o.maxmem)}` : mib(o.ramSize);
}

/** The tour's stops (the same machines and steps as `zonedev tour`). */
export function tourStops(): WebTourStop[] {
  return TOUR_STOPS.map((s) => ({
    title: s.title,
    invocation: s.invocation,
    machine: s.machine,
    config: {
      platform: s.machine.platform,
      mmu: s.machine.mmu ?? '',
      memory: memoryText(s.machine),
      numa: String(s.machine.numa),
      cmdline: s.machine.cmdline,
      seed: String(s.machine.seed),
    },
    steps: s.steps,
  }));
}
