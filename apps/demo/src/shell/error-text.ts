/**
 * How the shell and its programs name an error: the `strerror()` text of a
 * kernel errno, and a file name quoted as coreutils quotes it in a message.
 */
import { isKernelError } from '@zonedev/kernel';

/** The errno text of a thrown error (`No such file or directory`), or its message. */
export function errorText(e: unknown): string {
  if (isKernelError(e)) return e.strerror;
  return e instanceof Error ? e.message : String(e);
}

/**
 * A file name as coreutils' `quotef()` prints it in an error message
 * (gnulib quotearg.c, shell-escape style): as it is when it is made of
 * characters a shell reads literally, else in single quotes (`''` for the
 * empty name).
 */
export function quotef(name: string): string {
  if (/^[A-Za-z0-9%+,\-./=@_^][A-Za-z0-9%+,\-./=@_^#~]*$/.test(name)) return name;
  return `'${name.split("'").join("'\\''")}'`;
}
