/**
 * `zonedev run --export DIR`: the machine's sysfs and procfs written out as
 * an ordinary directory tree, so that the distribution's own tools can read
 * the model the way they read a real machine — `lsmem --sysroot DIR`,
 * `chmem`'s and `numactl`'s parsers, or a student's `grep -r`.
 *
 * util-linux's `--sysroot` prefixes every path its `ul_path_*()` helpers open
 * (lib/path.c), so the tree has the real layout: `DIR/sys/devices/system/
 * memory/memory32/state`, `DIR/proc/meminfo`. Symbolic links stay symbolic
 * links with the relative targets `readlink` prints (`memory32/node0 ->
 * ../../node/node0`), which is how `lsmem` finds a block's node; a link whose
 * target lies outside the exported directories dangles, as it would in a
 * copy of part of a real sysfs. A file that cannot be read (a write-only
 * attribute such as `probe`, or one whose `show()` fails) is created empty
 * with its sysfs mode, so a tool that looks for it finds it and a tool that
 * reads it gets nothing, rather than the tree silently lacking it.
 *
 * This is the demo's Node-side adapter (it writes host files); the machine
 * itself never touches the host file system.
 */
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Sysfs } from '@zonedev/kernel';

/** What an export reads: the kernel's sysfs and the text of `/proc` files. */
export interface SysrootSource {
  /** The machine's sysfs (`@zonedev/kernel`'s `Sysfs`, filled by the device core). */
  readonly sysfs: Sysfs;
  /** The whole text of `/proc/NAME`; throws if the machine has no such file. */
  readProc(path: string): string;
}

/** The sysfs directories exported by default: what lsmem, chmem and numactl read. */
export const SYSROOT_SYS_DIRS: readonly string[] = ['/sys/devices/system/memory', '/sys/devices/system/node'];

/** The `/proc` files exported by default. */
export const SYSROOT_PROC_FILES: readonly string[] = ['/proc/meminfo', '/proc/iomem', '/proc/zoneinfo', '/proc/buddyinfo'];

/** What {@link exportSysroot} wrote. */
export interface SysrootReport {
  /** Regular files written (including the empty ones of unreadable attributes). */
  readonly files: number;
  /** Symbolic links written. */
  readonly links: number;
  /** Files whose `show()` failed, written empty: path and errno name. */
  readonly unreadable: readonly { readonly path: string; readonly errno: string }[];
}

/**
 * Write `dirs` of the machine's sysfs (recursively, not following links) and
 * the `/proc` files `procFiles` under `dest`, which must not exist yet or be
 * empty. A `/proc` file the machine lacks is left out (the tool reading it
 * then reports what it reports on a kernel without it).
 */
export function exportSysroot(
  source: SysrootSource,
  dest: string,
  dirs: readonly string[] = SYSROOT_SYS_DIRS,
  procFiles: readonly string[] = SYSROOT_PROC_FILES,
): SysrootReport {
  let files = 0;
  let links = 0;
  const unreadable: { path: string; errno: string }[] = [];
  const { sysfs } = source;
  const host = (path: string): string => join(dest, ...path.split('/').filter((p) => p !== ''));

  const walk = (path: string): void => {
    if (sysfs.isLink(path)) {
      mkdirSync(dirname(host(path)), { recursive: true });
      symlinkSync(sysfs.readlink(path), host(path));
      links += 1;
      return;
    }
    if (sysfs.isDir(path)) {
      mkdirSync(host(path), { recursive: true });
      for (const name of sysfs.list(path)) walk(`${path}/${name}`);
      return;
    }
    const mode = sysfs.stat(path).mode;
    let text = '';
    // Only attributes a reader may open are read: show() of a write-only
    // attribute would be refused by kernfs_fop_open() on a real system too.
    if (Math.floor(mode / 0o400) % 2 === 1) {
      try {
        text = sysfs.read(path);
      } catch (e) {
        unreadable.push({ path, errno: errnoName(e) });
      }
    }
    mkdirSync(dirname(host(path)), { recursive: true });
    writeFileSync(host(path), text);
    chmodSync(host(path), mode % 0o1000);
    files += 1;
  };

  for (const dir of dirs) if (sysfs.exists(dir)) walk(dir);
  for (const path of procFiles) {
    let text: string;
    try {
      text = source.readProc(path);
    } catch {
      continue;
    }
    mkdirSync(dirname(host(path)), { recursive: true });
    writeFileSync(host(path), text);
    files += 1;
  }
  return { files, links, unreadable };
}

function errnoName(e: unknown): string {
  if (typeof e === 'object' && e !== null && 'errno' in e && typeof e.errno === 'string') return e.errno;
  return String(e);
}
