/**
 * The `zonedev` command, kept apart from `cli.ts` so that tests can run it
 * with in-memory streams.
 *
 * ```
 *   zonedev run [options] [SCRIPT|-]   boot a machine, run a script, exit with its status
 *   zonedev shell [options]            boot a machine, read commands interactively
 *   zonedev tour                       the guided tour (pnpm demo)
 *   zonedev help [COMMAND]             usage (also `zonedev --help`, `zonedev COMMAND --help`)
 *   zonedev --version                  the version of the app's package.json
 * ```
 *
 * Exit statuses: `run` exits with the script's status (see shell.ts: the
 * last command's, 1 when `set -e`/`--strict` stopped it, N for `exit N`);
 * 1 when the machine cannot boot (QEMU refuses the settings, or the kernel
 * panics); 2 for a usage error or an unreadable script. Only the commands'
 * output goes to stdout.
 */
import { readFileSync } from 'node:fs';
import { parseRunArgs, type RunArgs } from './args.js';
import { bootMachine } from './machine/zonedev.js';
import { BootError } from './machine/util.js';
import { isKernelError } from '@zonedev/kernel';
import type { Machine, Output } from './machine/machine.js';
import { Shell } from './shell/shell.js';
import { tour } from './tour.js';
import { interactiveShell, type LineInput } from './repl.js';

export type { Output } from './machine/machine.js';

/** What `zonedev` needs from its process; tests pass in-memory ones. */
export interface Io {
  readonly stdout: Output;
  readonly stderr: Output;
  /** Reads a script file (throws a Node error with `code` on failure). */
  readFile(path: string): string;
  /** Reads all of standard input. */
  readStdin(): Promise<string>;
  /** Standard input as lines, for `zonedev shell`. */
  readonly input: LineInput;
}

/** The options `run` and `shell` share, as both usages list them. */
const MACHINE_OPTIONS = `  --platform x86_64|powerpc        platform profile (default x86_64)
  --mmu 4level|5level|hash|radix   paging of the platform (default 4level / hash)
  -m SIZE[,slots=N,maxmem=SIZE]    boot RAM and hot-plug room, as QEMU's -m (default 2G)
  --numa N                         NUMA nodes (default 1)
  --cmdline "..."                  kernel command line (memmap=nn!ss, mem=nn, movable_node,
                                   memhp_default_state=, memory_hotplug.memmap_on_memory=)
  --seed N                         seed of every random choice (default 1)
  --pmem-region START,SIZE[,volatile]
                                   a device-tree pmem-region node (powerpc; repeatable)
  -M, --machine pc[,nvdimm=on]     QEMU's -machine: nvdimm=on allows NVDIMMs (x86_64)
  --object memory-backend-file,id=ID,mem-path=FILE,size=SIZE[,share=on]
                                   QEMU's -object: a host file as NVDIMM memory (repeatable)
  --device nvdimm,memdev=ID[,id=ID][,label-size=SIZE]
                                   QEMU's -device: an NVDIMM on that backend, with a
                                   label area of SIZE (at least 128K) (repeatable)
  --strict                         stop at the first failing command, status 1 (like set -e)
`;

export const USAGE = `usage: zonedev <command> [options]
       zonedev --help | --version

commands:
  run [options] [SCRIPT|-]  boot a machine and run a script of shell commands
                            (from SCRIPT, or standard input if - or absent)
  shell [options]           boot a machine and type the same commands interactively
  tour                      the guided tour (pnpm demo)
  help [COMMAND]            this text, or the usage of COMMAND

options of run and shell:
${MACHINE_OPTIONS}  --help                           print the command's usage and exit

Inside the shell, 'help' lists the commands.
`;

/** `zonedev COMMAND --help` (and `zonedev help COMMAND`) for each command. */
export const COMMAND_USAGE: Readonly<Record<string, string>> = {
  run: `usage: zonedev run [options] [SCRIPT|-]

Boot a machine and run a script of shell commands, from SCRIPT, or from
standard input if SCRIPT is - or absent. The exit status is the script's.

options:
${MACHINE_OPTIONS}  --help                           print this text and exit
`,
  shell: `usage: zonedev shell [options]

Boot a machine and read the same commands interactively (a prompt, line
editing, history in ~/.zonedev_history and tab completion on a terminal).

options:
${MACHINE_OPTIONS}  --help                           print this text and exit
`,
  tour: `usage: zonedev tour

The guided tour: boots the machines and walks through hot-plug, onlining
and ZONE_DEVICE, printing each command and its output.

options:
  --help  print this text and exit
`,
  help: `usage: zonedev help [COMMAND]

Print the usage of zonedev, or of COMMAND (run, shell, tour, help).
`,
};

/** The `version` field of this app's package.json. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** `zonedev --version`, in the GNU form: name, version, and nothing else on the first line. */
export function versionText(): string {
  return `zonedev ${version()}
`;
}

function usageError(io: Io, message: string): number {
  io.stderr.write(`zonedev: ${message}\nTry 'zonedev help' for more information.\n`);
  return 2;
}

function printUsage(io: Io, command: string): number {
  io.stdout.write(COMMAND_USAGE[command]!);
  return 0;
}

/** Boots the machine of `args`, or reports why it cannot (status 1). */
function boot(io: Io, args: RunArgs): Machine | number {
  try {
    return bootMachine(args.machine);
  } catch (e) {
    if (e instanceof BootError || isKernelError(e)) {
      io.stderr.write(`zonedev: boot failed: ${e.message}\n`);
    } else {
      io.stderr.write(`zonedev: qemu: ${e instanceof Error ? e.message : String(e)}\n`);
    }
    return 1;
  }
}

async function runCommand(argv: readonly string[], io: Io): Promise<number> {
  const args = parseRunArgs('run', argv);
  if ('error' in args) return usageError(io, args.error);
  if (args.help === true) return printUsage(io, 'run');
  let script: string;
  if (args.script === undefined || args.script === '-') {
    script = await io.readStdin();
  } else {
    try {
      script = io.readFile(args.script);
    } catch (e) {
      const code = (e as { code?: string }).code;
      const why = code === 'ENOENT' ? 'No such file or directory' : code === 'EISDIR' ? 'Is a directory' : code === 'EACCES' ? 'Permission denied' : String(e);
      return usageError(io, `run: cannot read '${args.script}': ${why}`);
    }
  }
  const machine = boot(io, args);
  if (typeof machine === 'number') return machine;
  const shell = new Shell(machine, { strict: args.strict, stdout: io.stdout, stderr: io.stderr });
  return shell.runScript(script);
}

async function shellCommand(argv: readonly string[], io: Io): Promise<number> {
  const args = parseRunArgs('shell', argv);
  if ('error' in args) return usageError(io, args.error);
  if (args.help === true) return printUsage(io, 'shell');
  if (args.script !== undefined) return usageError(io, `shell: unexpected argument '${args.script}' (use 'zonedev run' for scripts)`);
  const machine = boot(io, args);
  if (typeof machine === 'number') return machine;
  return interactiveShell(machine, { strict: args.strict, stdout: io.stdout, stderr: io.stderr, input: io.input });
}

/** Runs one `zonedev` invocation and returns its exit status. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [command = 'help', ...rest] = argv;
  switch (command) {
    case 'run':
      return runCommand(rest, io);
    case 'shell':
      return shellCommand(rest, io);
    case 'tour':
      if (rest[0] === '--help') return printUsage(io, 'tour');
      if (rest.length > 0) {
        const a = rest[0]!;
        return usageError(io, a.startsWith('-') && a !== '-' ? `tour: unrecognized option '${a}'` : `tour: unexpected argument '${a}'`);
      }
      return tour(io.stdout);
    case '--help':
    case '-h':
      // As getopt_long's --help: the usage, whatever follows.
      io.stdout.write(USAGE);
      return 0;
    case 'help': {
      if (rest.length === 0) {
        io.stdout.write(USAGE);
        return 0;
      }
      const what = rest[0] === '--help' ? 'help' : rest[0]!;
      if (rest.length > 1) return usageError(io, `help: too many arguments: ${rest.slice(1).join(' ')}`);
      if (!Object.hasOwn(COMMAND_USAGE, what)) return usageError(io, `help: unknown command '${what}'`);
      return printUsage(io, what);
    }
    case '--version':
    case '-V':
      if (rest.length > 0) return usageError(io, `unexpected argument '${rest[0]!}'`);
      io.stdout.write(versionText());
      return 0;
    default:
      if (command.startsWith('-')) return usageError(io, `unrecognized option '${command}'`);
      return usageError(io, `unknown command '${command}'`);
  }
}
