// expect(() => ...).toThrow(errno('EBUSY')): the thrown KernelError has this errno.
import { expect } from 'vitest';

export function errno(name: string): unknown {
  return expect.objectContaining({ errno: name });
}
