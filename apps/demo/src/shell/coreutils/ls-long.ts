/**
 * `ls -l` over sysfs: GNU ls's long format (ls.c's `print_long_format()`)
 * for what `stat(2)` reports on a sysfs inode, which kernfs fills in
 * (fs/kernfs/inode.c, `kernfs_refresh_inode()` and `kernfs_iop_getattr()`):
 *
 * ```
 *   total 0
 *   lrwxrwxrwx 1 root root    0 Jan  1 00:00 node0 -> ../../node/node0
 *   -rw-r--r-- 1 root root 4096 Jan  1 00:00 online
 *   drwxr-xr-x 2 root root    0 Jan  1 00:00 power
 * ```
 *
 * - the mode is the attribute's (`0444`, `0644`, `0200`), `0755` for a
 *   directory, `0777` for a symlink;
 * - a directory's link count is 2 plus its subdirectories
 *   (`kn->dir.subdirs + 2`), everything else has 1;
 * - owner and group are root; an attribute's size is one page (sysfs
 *   creates each with `PAGE_SIZE`), a debugfs file's 0 (debugfs leaves
 *   `i_size` alone), a directory's and a link's 0; no
 *   blocks are allocated, so `total 0`;
 * - times are when the inode was made; the model's clock starts at the
 *   Unix epoch, so every date is `Jan  1 00:00`.
 *
 * Only sysfs has inodes the model describes: `ls -l` of /proc or /dev is
 * refused rather than invented.
 */
import { DEBUGFS_MOUNTPOINT } from '@zonedev/kernel';
import type { Sysfs } from '@zonedev/kernel';
import type { CommandContext } from '../command.js';
import { errorText } from '../error-text.js';
import { byteOrder, normalizePath, SysfsFs } from '../vfs.js';
import { pageSize } from './io.js';

const DATE = 'Jan  1 00:00';

/** `drwxr-xr-x` from a type and permission bits (no bitwise operators). */
function modeString(type: 'dir' | 'file' | 'link', mode: number): string {
  const bit = (k: number): boolean => Math.floor(mode / 2 ** k) % 2 === 1;
  let s = type === 'dir' ? 'd' : type === 'link' ? 'l' : '-';
  for (let k = 8; k >= 0; k--) s += bit(k) ? 'rwx'[(8 - k) % 3]! : '-';
  return s;
}

interface Entry {
  readonly mode: string;
  readonly nlink: number;
  readonly size: number;
  readonly name: string;
  readonly target?: string;
}

/** The stat of a sysfs path (`lstat` unless `follow`), as ls shows it. */
function entry(sysfs: Sysfs, path: string, name: string, pageSize: number, follow: boolean): Entry {
  const real = follow ? sysfs.realpath(path) : path;
  const st = sysfs.stat(real);
  if (st.type === 'link') return { mode: modeString('link', st.mode), nlink: 1, size: 0, name, target: sysfs.readlink(real) };
  if (st.type === 'dir') {
    const subdirs = sysfs.list(real).filter((n) => sysfs.stat(`${real}/${n}`).type === 'dir').length;
    return { mode: modeString('dir', st.mode), nlink: subdirs + 2, size: 0, name };
  }
  const debugfs = real.startsWith(`${DEBUGFS_MOUNTPOINT}/`);
  return { mode: modeString('file', st.mode), nlink: 1, size: debugfs ? 0 : pageSize, name };
}

function format(entries: readonly Entry[]): string {
  const lw = Math.max(1, ...entries.map((e) => String(e.nlink).length));
  const sw = Math.max(1, ...entries.map((e) => String(e.size).length));
  return entries
    .map((e) => `${e.mode} ${String(e.nlink).padStart(lw)} root root ${String(e.size).padStart(sw)} ${DATE} ${e.name}${e.target === undefined ? '' : ` -> ${e.target}`}\n`)
    .join('');
}

/**
 * `ls -l [FILE]...` for sysfs paths: files first, then each directory
 * (under a `DIR:` heading when there are several operands). Status 2 when
 * an operand is missing or outside /sys.
 */
export function lsLong(ctx: CommandContext, operands: readonly string[]): number {
  const fs = ctx.machine.sysfs;
  const sysfs = fs instanceof SysfsFs ? fs.sysfs : undefined;
  const pageBytes = pageSize(ctx);
  let status = 0;
  const files: Entry[] = [];
  const dirs: string[] = [];
  for (const a of operands) {
    const p = normalizePath(ctx.path(a));
    if (!ctx.fs.exists(p)) {
      ctx.err(`ls: cannot access '${a}': No such file or directory\n`);
      status = 2;
      continue;
    }
    if (sysfs === undefined || !(p === '/sys' || p.startsWith('/sys/'))) {
      ctx.err(`ls: ${a}: -l describes only /sys in the demo shell\n`);
      status = 2;
      continue;
    }
    try {
      // A symlink operand is shown as the link (ls -l follows none without -H or -L).
      if (ctx.fs.isDir(p) && sysfs.stat(p).type !== 'link') dirs.push(a);
      else files.push(entry(sysfs, p, a, pageBytes, false));
    } catch (e) {
      ctx.err(`ls: cannot access '${a}': ${errorText(e)}\n`);
      status = 2;
    }
  }
  files.sort((x, y) => byteOrder(x.name, y.name));
  dirs.sort(byteOrder);
  if (files.length > 0) ctx.out(format(files));
  const headings = operands.length > 1;
  dirs.forEach((d, i) => {
    const real = sysfs!.realpath(normalizePath(ctx.path(d)));
    const entries = sysfs!.list(real).map((n) => entry(sysfs!, `${real}/${n}`, n, pageBytes, false));
    if (headings) ctx.out(`${files.length > 0 || i > 0 ? '\n' : ''}${d}:\n`);
    ctx.out(`total 0\n${format(entries)}`);
  });
  return status;
}
