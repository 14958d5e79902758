/**
 * util-linux's `lsmem` and `chmem` as commands of the demo's shell. They
 * read and write `/sys/devices/system/memory` through the shell's file
 * system, so they work on any machine that has memory blocks, and print
 * `This system does not support memory blocks` on one that has none yet.
 *
 * The machine adds the programs that need its devices: ndctl (which reads
 * and writes `/sys/bus/nd`), and coreutils `dd` and `head` for `/dev`.
 */
import type { ShellCommand } from '../shell/command.js';
import { chmem } from './chmem.js';
import { lsmem } from './lsmem.js';

export { ddCommand, headCommand } from '../shell/coreutils/dd.js';
export { ndctlCommand } from './ndctl.js';
export { daxctlCommand } from './daxctl.js';

/** `lsmem [options]`. */
export const lsmemCommand: ShellCommand = {
  name: 'lsmem',
  synopsis: 'lsmem [-abJnPr] [-o LIST]',
  summary: 'list memory blocks and their online state (util-linux)',
  run: (ctx) => lsmem(ctx.args, { fs: ctx.fs, out: (t) => ctx.out(t), err: (t) => ctx.err(t) }),
};

/** `chmem -e|-d [-b] [-z ZONE] [-v] SIZE|RANGE|BLOCKRANGE`. */
export const chmemCommand: ShellCommand = {
  name: 'chmem',
  synopsis: 'chmem -e|-d [-b] SIZE|RANGE',
  summary: 'set memory online (-e) or offline (-d) (util-linux)',
  run: (ctx) => chmem(ctx.args, { fs: ctx.fs, out: (t) => ctx.out(t), err: (t) => ctx.err(t) }),
};
