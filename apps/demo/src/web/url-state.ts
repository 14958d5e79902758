/**
 * The web app's session in its URL fragment: the machine's configuration
 * (what the picker holds: the options `zonedev shell` takes) and the
 * commands typed so far, one per line. The model is deterministic, so
 * booting the same configuration and replaying the same commands gives the
 * same machine: a link reproduces the session.
 *
 * ```
 *   #platform=x86_64&m=4G%2Cslots%3D2%2Cmaxmem%3D6G&numa=1&cmdline=memmap%3D1G!4G&seed=1&mmu=4level&c=lsmem%0Adevice_add...
 * ```
 *
 * Pure: no DOM, no machine.
 */

/** What the machine picker holds, as text (the `zonedev shell` options of the same names). */
export interface WebConfig {
  /** `--platform`: `x86_64` or `powerpc`. */
  readonly platform: string;
  /** `--mmu`; empty for the platform's default. */
  readonly mmu: string;
  /** `-m SIZE[,slots=N,maxmem=SIZE]`. */
  readonly memory: string;
  /** `--numa N`. */
  readonly numa: string;
  /** `--cmdline "..."`. */
  readonly cmdline: string;
  /** `--seed N`. */
  readonly seed: string;
}

/** A session: the configuration and the commands typed so far. */
export interface WebSessionState {
  readonly config: WebConfig;
  readonly commands: readonly string[];
  /** Booted as stop N (from 1) of the tour, whose machine the picker cannot express (a pmem-region node). */
  readonly tour?: number;
  /** The map's zoom, `[start, end)` in bytes; absent for the whole space. */
  readonly view?: { readonly start: number; readonly end: number };
}

/** The picker's defaults: `zonedev shell` without options, with two DIMM slots to hot-plug into. */
export const DEFAULT_CONFIG: WebConfig = {
  platform: 'x86_64',
  mmu: '',
  memory: '2G,slots=2,maxmem=4G',
  numa: '1',
  cmdline: '',
  seed: '1',
};

/** The `zonedev shell` arguments of a configuration (what the CLI would be given). */
export function configArgv(config: WebConfig): string[] {
  const argv = ['--platform', config.platform, '-m', config.memory, '--numa', config.numa, '--seed', config.seed];
  if (config.mmu !== '') argv.push('--mmu', config.mmu);
  if (config.cmdline !== '') argv.push('--cmdline', config.cmdline);
  return argv;
}

/** The fragment (without `#`) of a session. */
export function encodeFragment(state: WebSessionState): string {
  const p = new URLSearchParams();
  p.set('platform', state.config.platform);
  if (state.config.mmu !== '') p.set('mmu', state.config.mmu);
  p.set('m', state.config.memory);
  p.set('numa', state.config.numa);
  if (state.config.cmdline !== '') p.set('cmdline', state.config.cmdline);
  p.set('seed', state.config.seed);
  if (state.tour !== undefined) p.set('tour', String(state.tour));
  if (state.view !== undefined) p.set('v', `${state.view.start.toString(16)}-${state.view.end.toString(16)}`);
  if (state.commands.length > 0) p.set('c', state.commands.join('\n'));
  return p.toString();
}

/**
 * The session a fragment describes (a leading `#` is allowed); fields it
 * lacks take {@link DEFAULT_CONFIG}'s values. Returns undefined for an empty
 * fragment.
 */
export function decodeFragment(fragment: string): WebSessionState | undefined {
  const text = fragment.startsWith('#') ? fragment.slice(1) : fragment;
  if (text === '') return undefined;
  const p = new URLSearchParams(text);
  const get = (k: string, d: string): string => p.get(k) ?? d;
  const c = p.get('c');
  return {
    config: {
      platform: get('platform', DEFAULT_CONFIG.platform),
      mmu: get('mmu', ''),
      memory: get('m', DEFAULT_CONFIG.memory),
      numa: get('numa', DEFAULT_CONFIG.numa),
      cmdline: get('cmdline', ''),
      seed: get('seed', DEFAULT_CONFIG.seed),
    },
    commands: c === null || c === '' ? [] : c.split('\n'),
    ...(/^[1-9][0-9]*$/.test(p.get('tour') ?? '') ? { tour: Number(p.get('tour')) } : {}),
    ...viewOf(p.get('v')),
  };
}

/** `v=START-END` (hex bytes): a non-empty range below 2^53, or nothing. */
function viewOf(v: string | null): { view?: { start: number; end: number } } {
  const m = /^([0-9a-f]{1,14})-([0-9a-f]{1,14})$/.exec(v ?? '');
  if (m === null) return {};
  const start = parseInt(m[1]!, 16);
  const end = parseInt(m[2]!, 16);
  return Number.isSafeInteger(end) && end > start ? { view: { start, end } } : {};
}
