/**
 * What a util-linux program needs to run inside the demo: a file system, a
 * stdout and a stderr, and the C library's ways of failing (`err()`,
 * `errx()`, `warn()`, `warnx()`, `errtryhelp()`), each prefixed with the
 * program's name as glibc prints them:
 *
 * ```
 *   warnx("bad usage")                 ->  lsmem: bad usage
 *   warn("%s enable failed", blk)      ->  chmem: Memory Block 9 (...) enable failed: Device or resource busy
 *   errtryhelp(EXIT_FAILURE)           ->  Try 'lsmem --help' for more information.
 * ```
 */
import type { VirtualFs } from '../shell/vfs.js';

/** A program's view of the machine. */
export interface ToolIo {
  readonly fs: VirtualFs;
  out(text: string): void;
  err(text: string): void;
}

/** Thrown by {@link Program.exit} to end the program with a status (the C `exit()`). */
export class ToolExit {
  readonly status: number;
  constructor(status: number) {
    this.status = status;
  }
}

/** The error reporting of a program named `name`. */
export class Program {
  readonly name: string;
  readonly io: ToolIo;

  constructor(name: string, io: ToolIo) {
    this.name = name;
    this.io = io;
  }

  /** `warnx()`. */
  warnx(msg: string): void {
    this.io.err(`${this.name}: ${msg}\n`);
  }

  /** `warn()`: the message and the errno text. */
  warn(msg: string, strerror: string): void {
    this.io.err(`${this.name}: ${msg}: ${strerror}\n`);
  }

  /** `errx(status, ...)`. */
  errx(msg: string, status: number = 1): never {
    this.warnx(msg);
    throw new ToolExit(status);
  }

  /** `err(status, ...)`. */
  err(msg: string, strerror: string, status: number = 1): never {
    this.warn(msg, strerror);
    throw new ToolExit(status);
  }

  /** `errtryhelp(status)`. */
  errtryhelp(status: number = 1): never {
    this.io.err(`Try '${this.name} --help' for more information.\n`);
    throw new ToolExit(status);
  }

  /** `exit(status)`. */
  exit(status: number): never {
    throw new ToolExit(status);
  }

  /** Runs `main`, turning a {@link ToolExit} into its status. */
  static run(main: () => number): number {
    try {
      return main();
    } catch (e) {
      if (e instanceof ToolExit) return e.status;
      throw e;
    }
  }
}

/** The util-linux release whose output the demo's lsmem and chmem reproduce. */
export const UTIL_LINUX_VERSION = 'util-linux 2.37.2';

/** `err_exclusive_options()`: options of one group may not be mixed. */
export function checkExclusive(
  prog: Program,
  opt: string,
  groups: readonly (readonly string[])[],
  seen: (string | undefined)[],
  longName: (opt: string) => string | undefined,
): void {
  groups.forEach((g, e) => {
    if (!g.includes(opt)) return;
    if (seen[e] === undefined) seen[e] = opt;
    else if (seen[e] !== opt) {
      const names = g.map((o) => {
        const n = longName(o);
        return n !== undefined ? ` --${n}` : ` -${o}`;
      });
      prog.io.err(`${prog.name}: mutually exclusive arguments:${names.join('')}\n`);
      prog.exit(1);
    }
  });
}
