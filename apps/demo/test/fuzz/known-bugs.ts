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

const KNOWN_BUGS: readonly KnownBug[] = [
  {
    // x86_64: `echo 0x148000000 > /sys/devices/system/memory/probe`, then a
    // 128 MiB DIMM with addr=0x148000000: the guest's add_memory() fails
    // with -EEXIST, which acpi_memory_enable_device() counts as enabled, so
    // the DIMM's `device_del` offlines and removes memory41, a block the
    // probe file added (issue 19, items 1 and 7: removal must not tear down
    // what another owner holds). Triggered when every block of the DIMM's
    // range was added through the probe file.
    bug: 'device_del of a DIMM plugged exactly over probed blocks removes those blocks',
    matches(c) {
      const del = /^device_del (\S+)$/.exec(c.next);
      if (c.platform !== 'x86_64' || del === null) return false;
      const d = c.dimm(del[1]!);
      if (d === undefined || d.size === 0) return false;
      for (let a = d.addr; a < d.addr + d.size; a += c.blockSize) {
        if (c.blockOwner(Math.floor(a / c.blockSize)) !== 'the probe file') return false;
      }
      return true;
    },
  },
  {
    // x86_64: a DIMM the guest refuses stays plugged in QEMU with its
    // backend mapped; a block then added through the probe file inside the
    // DIMM's window is backed by that DIMM, so the DIMM's (clean) eject
    // takes the bytes the user stored there with it:
    //   object_add memory-backend-ram,id=mem1,size=100M
    //   device_add pc-dimm,id=dimm1,memdev=mem1          (unaligned: refused)
    //   echo 0x140000000 > /sys/devices/system/memory/probe
    //   devmem 0x140000000 64 0x1122334455667788
    //   device_del dimm1
    //   devmem 0x140000000 64                             0x0000000000000000
    // (issue 19, item 7: nothing a user stored is lost by a later request;
    // QemuMachine keeps probed bytes only when the probe came first).
    bug: 'device_del of a refused DIMM loses the data of blocks probed inside its window after it was plugged',
    matches(c) {
      const del = /^device_del (\S+)$/.exec(c.next);
      if (c.platform !== 'x86_64' || del === null) return false;
      const d = c.dimm(del[1]!);
      if (d === undefined) return false;
      const plugged = c.history.findIndex((l) => l.startsWith('device_add ') && l.slice('device_add '.length).split(',').includes(`id=${del[1]!}`));
      for (let a = Math.floor(d.addr / c.blockSize) * c.blockSize; a < d.addr + d.size; a += c.blockSize) {
        const n = Math.floor(a / c.blockSize);
        if (c.blockOwner(n) === 'the probe file' && (c.blockAddedAt(n) ?? -1) > plugged) return true;
      }
      return false;
    },
  },
];

/** The known bug the next command would trigger, if any. */
export function knownBug(c: BugContext): string | undefined {
  return KNOWN_BUGS.find((b) => b.matches(c))?.bug;
}
