import { KernelError } from '@zonedev/kernel';
import type { ErrnoName } from '@zonedev/kernel';

/** The errno `fn` threw as a KernelError, or undefined when it returned; anything else is rethrown. */
export function errno(fn: () => unknown): ErrnoName | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof KernelError) return e.errno;
    throw e;
  }
  return undefined;
}
