/**
 * Bugs the fuzzer found that are not fixed yet. Each entry names the bug and
 * recognises the exact command pattern that triggers it, so the fuzzer does
 * not run that command and the rest of a run still explores everything
 * else. Remove an entry when its bug is fixed: the fuzzer then covers the
 * pattern again.
 */

/** What a matcher may look at before the next command runs. */
export interface BugContext {
  readonly platform: 'x86_64' | 'powerpc';
  /** The commands run so far. */
  readonly history: readonly string[];
  /** The command about to run. */
  readonly next: string;
  readonly blockSize: number;
  /** A plugged DIMM's range, from `info memory-devices`. */
  dimm(id: string): { readonly addr: number; readonly size: number } | undefined;
  /** Who added memory block `n` ('boot', 'the probe file', 'dimm ID', ...), if it exists. */
  blockOwner(n: number): string | undefined;
  /** The index in `history` of the command that added block `n` (-1: boot). */
  blockAddedAt(n: number): number | undefined;
}

/** A known bug: its description and the commands that trigger it. */
interface KnownBug {
  readonly bug: string;
  matches(c: BugContext): boolean;
}

const KNOWN_BUGS: readonly KnownBug[] = [];

/** The known bug the next command would trigger, if any. */
export function knownBug(c: BugContext): string | undefined {
  return KNOWN_BUGS.find((b) => b.matches(c))?.bug;
}
