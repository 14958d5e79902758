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

/** The bytes of a size word with a K/M/G/T/P/E suffix, or NaN. */
function sizeBytes(word: string): number {
  const m = /^([0-9]+)([KMGTPE])$/.exec(word);
  return m === null ? NaN : Number(m[1]) * 2 ** (10 * ('KMGTPE'.indexOf(m[2]!) + 1));
}

const KNOWN_BUGS: readonly KnownBug[] = [
  {
    // seed 2074, powerpc radix: `memremap -a 0x110000000 1P` succeeds and
    // builds a vmemmap of hundreds of thousands of pages; every later
    // command takes about half a second (the vmemmap is listed page by
    // page). Vmemmap.allBlocks() no longer overflows the stack there, but
    // the run would spend its budget on the slow commands.
    bug: 'a memremap of a TiB or more makes every later command slow (the vmemmap is listed page by page)',
    matches: (c) => /^memremap\b/.test(c.next) && c.next.split(' ').some((w) => sizeBytes(w) >= 2 ** 40),
  },
  {
    // seed 2055, x86_64 memmap=512M!2G: a devdax namespace, then
    // `ndctl check-namespace -f namespace0.0`: the BTT check fails ("Unable
    // to recover any BTT info blocks", ENXIO) and the namespace comes back
    // with its dax0.0 resource at another start (0x88000000 -> 0x80a00000 in
    // /proc/iomem): the failed check changed the device's layout.
    bug: 'a forced check-namespace of a non-BTT namespace changes its dax/pfn layout',
    matches: (c) => /^ndctl check-namespace\b.*(?: -f| --force)\b/.test(c.next),
  },
];

/** The known bug the next command would trigger, if any. */
export function knownBug(c: BugContext): string | undefined {
  return KNOWN_BUGS.find((b) => b.matches(c))?.bug;
}
