/**
 * The kernel command line as the mm side of the model reads it.
 *
 * `start_kernel()` parses the command line twice: `parse_early_param()`
 * runs the `early_param()` handlers (`mem=`, `memmap=`, `movable_node`,
 * `disable_radix`), then `parse_args()` runs the `__setup()` handlers
 * (`memhp_default_state=`) and sets module parameters of built-in code
 * (`memory_hotplug.memmap_on_memory=`). What nobody claims is handed to
 * init: `Unknown kernel command line parameters "...", will be passed to
 * user space.` — except unknown `module.param` words, which are dropped
 * silently (`unknown_bootoption()`).
 *
 * ```
 *   option                               x86_64      powerpc
 *   mem=nn[KMG]                          e820        memory_limit
 *   memmap=nn[KMG]!ss[KMG] (and @ # $ %) e820        (unknown)
 *   movable_node                         yes         yes
 *   memhp_default_state=online|...       yes         yes
 *   memory_hotplug.memmap_on_memory=     yes         (no such parameter in v5.13)
 *   disable_radix                        (unknown)   yes: hash MMU
 * ```
 */
import { kstrtobool } from '@zonedev/kernel';
import type { Platform } from '../profile.js';
import { splitCmdline } from '../x86/e820.js';
import { argArray, argOneOf, argString } from '../args.js';

/**
 * What the mm side takes from the command line.
 *
 * @public
 */
export interface MmCmdline {
  /** `memhp_default_state=` (the last one given). */
  readonly memhpDefaultState: string | undefined;
  /** `memory_hotplug.memmap_on_memory=`, when the platform has the parameter. */
  readonly memmapOnMemory: boolean;
  /** `movable_node`. */
  readonly movableNode: boolean;
  /** `disable_radix` (powerpc). */
  readonly disableRadix: boolean;
  /** Lines `parse_args()` logs (KERN_ERR) for values it rejects. */
  readonly errors: readonly string[];
  /** Words passed on to init: `Unknown kernel command line parameters`. */
  readonly unknown: readonly string[];
}

const EARLY: Readonly<Record<Platform, readonly string[]>> = {
  x86_64: ['mem', 'memmap', 'movable_node'],
  powerpc: ['mem', 'movable_node', 'disable_radix'],
};

/**
 * Parses the command line for `platform` (`parse_early_param()` +
 * `parse_args()` + `print_unknown_bootoptions()` of init/main.c).
  *
  * @public
 */
export function parseMmCmdline(platform: Platform, cmdline: string): MmCmdline {
  argOneOf('parseMmCmdline', 'platform', platform, ['x86_64', 'powerpc']);
  argString('parseMmCmdline', 'cmdline', cmdline);
  let memhpDefaultState: string | undefined;
  let memmapOnMemory = false;
  let movableNode = false;
  let disableRadix = false;
  const errors: string[] = [];
  const argv: string[] = [];
  const envp: string[] = [];
  for (const word of splitCmdline(cmdline)) {
    const eq = word.indexOf('=');
    const key = eq < 0 ? word : word.slice(0, eq);
    const value = eq < 0 ? undefined : word.slice(eq + 1);
    if (EARLY[platform].includes(key)) {
      if (key === 'movable_node') movableNode = true;
      if (key === 'disable_radix') disableRadix = true;
      continue;
    }
    if (key === 'memhp_default_state' && value !== undefined) {
      memhpDefaultState = value;
      continue;
    }
    if (key === 'memory_hotplug.memmap_on_memory' && platform === 'x86_64') {
      // param_set_bool(): a bare bool parameter means true; `name=` hands it
      // the empty string, which strtobool() refuses (-EINVAL): the value is kept.
      if (value === undefined) {
        memmapOnMemory = true;
        continue;
      }
      try {
        memmapOnMemory = kstrtobool(value);
      } catch {
        errors.push(`Booting kernel: \`${value}' invalid for parameter \`${key}'`);
      }
      continue;
    }
    // unknown_bootoption(): module parameters nobody has are dropped.
    if (key.includes('.')) continue;
    if (value === undefined) argv.push(word);
    else envp.push(word);
  }
  return { memhpDefaultState, memmapOnMemory, movableNode, disableRadix, errors, unknown: [...argv, ...envp] };
}

/**
 * `print_unknown_bootoptions()`'s line, or undefined when everything was known.
 *
 * @public
 */
export function unknownBootoptionsLine(unknown: readonly string[]): string | undefined {
  argArray('unknownBootoptionsLine', 'unknown', unknown);
  for (const w of unknown) argString('unknownBootoptionsLine', 'word', w);
  if (unknown.length === 0) return undefined;
  return `Unknown kernel command line parameters "${unknown.join(' ')}", will be passed to user space.`;
}
