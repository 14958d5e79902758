/**
 * Argument checks shared by the package's entry points.
 *
 * A C caller cannot pass a configuration that is not one, or a zone that is
 * a number; a JavaScript caller can, and the answer must be the kernel's
 * EINVAL before anything changes, not a TypeError from deep inside.
 */
import { KernelError } from '@zonedev/kernel';
import { isMmConfig } from './config.js';
import type { MmConfig } from './config.js';

/** EINVAL unless `config` is an {@link MmConfig} (what createMmConfig() returns). */
export function checkConfig(fn: string, config: unknown): asserts config is MmConfig {
  if (!isMmConfig(config)) throw new KernelError('EINVAL', `${fn}: not an mm configuration made by createMmConfig: ${String(config)}`);
}

/** EINVAL unless `x` is a function. */
export function checkFunction(fn: string, what: string, x: unknown): asserts x is (...args: never[]) => unknown {
  if (typeof x !== 'function') throw new KernelError('EINVAL', `${fn}: ${what} is not a function`);
}

/** EINVAL unless `x` is an object (not null). */
export function checkObject(fn: string, what: string, x: unknown): asserts x is object {
  if (typeof x !== 'object' || x === null) throw new KernelError('EINVAL', `${fn}: invalid ${what} ${String(x)}`);
}
