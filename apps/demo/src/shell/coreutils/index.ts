/**
 * The coreutils (and findutils' `xargs`) of the demo's shell: the programs a
 * student pipes sysfs and /proc through.
 */
import type { ShellCommand } from '../command.js';
import { grep } from './grep.js';
import { cut, head, sort, tail, uniq, wc } from './text.js';
import { xargs } from './xargs.js';

export { grep } from './grep.js';
export { cut, head, sort, tail, uniq, wc } from './text.js';
export { xargs } from './xargs.js';

/** The programs of this directory, in the shell's table. */
export const COREUTILS: readonly ShellCommand[] = [grep, head, tail, wc, sort, uniq, cut, xargs];
