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
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { parseRunArgs, recordedScript, scriptHeader, type RunArgs } from './args.js';
import { BootError } from '@zonedev/platform';
import { isKernelError } from '@zonedev/kernel';
import type { Output } from './shell/command.js';
import { bootShellMachine, type DemoShellMachine } from './commands/shell-machine.js';
import { nodeBackingStore } from './node/file-backing.js';
import { exportSysroot } from './node/sysroot.js';
import { webCommand, WEB_USAGE } from './web-cli.js';
import { Shell } from './shell/shell.js';
import { tour } from './tour.js';
import { interactiveShell, type LineInput } from './repl.js';

export type { Output } from './shell/command.js';

/** What `zonedev` needs from its process; tests pass in-memory ones. */
export interface Io {
  readonly stdout: Output;
  readonly stderr: Output;
  /** Reads a script file (throws a Node error with `code` on failure). */
  readFile(path: string): string;
  /** Reads all of standard input. */
  readStdin(): Promise<string>;
  /** Writes a file (`run --record`; throws a Node error with `code` on failure). Absent: recording is refused. */
  writeFile?(path: string, text: string): void;
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
  web [--port N | --out DIR]  the memory map and a shell in a browser, served on
                            localhost (or written to DIR as static files)
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
A script whose first line is '# zonedev run OPTIONS' boots with those
OPTIONS, then the command line's.

options:
${MACHINE_OPTIONS}  --record FILE                    write the options and the commands to FILE, a script
                                   that 'zonedev run FILE' replays exactly
  --export DIR                     after the script, write the machine's /sys/devices/system/
                                   {memory,node} and /proc/{meminfo,iomem,zoneinfo,buddyinfo}
                                   under DIR (new or empty), for 'lsmem --sysroot DIR'
  --help                           print this text and exit
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
  web: WEB_USAGE,
  help: `usage: zonedev help [COMMAND]

Print the usage of zonedev, or of COMMAND (run, shell, tour, web, help).
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
function boot(io: Io, args: RunArgs): DemoShellMachine | number {
  try {
    return bootShellMachine({ ...args.machine, backingStore: nodeBackingStore });
  } catch (e) {
    if (e instanceof BootError || isKernelError(e)) {
      io.stderr.write(`zonedev: boot failed: ${e.message}\n`);
    } else {
      io.stderr.write(`zonedev: qemu: ${e instanceof Error ? e.message : String(e)}\n`);
    }
    return 1;
  }
}

/** A Node error's `code` in the words of strerror(). */
function ioErrorText(e: unknown): string {
  const code = (e as { code?: string }).code;
  return code === 'ENOENT'
    ? 'No such file or directory'
    : code === 'EISDIR'
      ? 'Is a directory'
      : code === 'EACCES'
        ? 'Permission denied'
        : code === 'ENOTEMPTY'
          ? 'Directory not empty'
          : code === 'ENOTDIR'
            ? 'Not a directory'
            : String(e);
}

async function runCommand(argv: readonly string[], io: Io): Promise<number> {
  const words: string[] = [];
  let args = parseRunArgs('run', argv, words);
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
  // A script that names its machine (`# zonedev run OPTIONS`) boots it; the command line's options come after.
  const header = scriptHeader(script);
  if (header !== undefined) {
    if ('error' in header) return usageError(io, header.error);
    words.length = 0;
    const replay = parseRunArgs('run', [...header.options, ...argv], words);
    if ('error' in replay) return usageError(io, replay.error);
    args = replay;
  }
  if (args.record !== undefined) {
    try {
      if (io.writeFile === undefined) throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
      io.writeFile(args.record, recordedScript(words, script));
    } catch (e) {
      return usageError(io, `run: cannot write '${args.record}': ${ioErrorText(e)}`);
    }
  }
  const machine = boot(io, args);
  if (typeof machine === 'number') return machine;
  const shell = new Shell(machine, { strict: args.strict, stdout: io.stdout, stderr: io.stderr });
  const status = shell.runScript(script);
  if (args.exportDir !== undefined) {
    try {
      if (existsSync(args.exportDir) && readdirSync(args.exportDir).length > 0) {
        throw Object.assign(new Error('ENOTEMPTY'), { code: 'ENOTEMPTY' });
      }
      exportSysroot(machine.machine, args.exportDir);
    } catch (e) {
      io.stderr.write(`zonedev: run: cannot export to '${args.exportDir}': ${ioErrorText(e)}\n`);
      return 1;
    }
  }
  return status;
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
    case 'web':
      return webCommand(rest, io);
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
