/**
 * The shape checks of the platform's stateless helpers: the firmware tables,
 * the device tree, the option and command-line parsers and the profiles.
 *
 * In C these take a `struct e820_table *`, a `const char *`, an `enum`: the
 * compiler refuses a number where a table belongs. From TypeScript a caller
 * can still hand in `NaN` or `'x'`; each helper checks its arguments' kinds
 * here first and answers a wrong one with KernelError EINVAL, naming the
 * function and the argument, before it reads anything. The values inside
 * (sizes, addresses) are the helpers' own business, with their own texts.
 */
import { KernelError } from '@zonedev/kernel';

function show(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'object' && v !== null) return 'an object';
  return String(v);
}

function refuse(fn: string, what: string, v: unknown, kind: string): never {
  throw new KernelError('EINVAL', `${fn}: ${what} ${show(v)} is not ${kind}`);
}

/** `v` must be a string. */
export function argString(fn: string, what: string, v: unknown): asserts v is string {
  if (typeof v !== 'string') refuse(fn, what, v, 'a string');
}

/** `v` must be a non-null object that is not an array. */
export function argObject(fn: string, what: string, v: unknown): asserts v is object {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) refuse(fn, what, v, 'an object');
}

/** `v` must be true or false. */
export function argBoolean(fn: string, what: string, v: unknown): asserts v is boolean {
  if (typeof v !== 'boolean') refuse(fn, what, v, 'true or false');
}

/** `v` must be an array. */
export function argArray(fn: string, what: string, v: unknown): asserts v is readonly unknown[] {
  if (!Array.isArray(v)) refuse(fn, what, v, 'a list');
}

/** `v` must be a function. */
export function argFunction(fn: string, what: string, v: unknown): void {
  if (typeof v !== 'function') refuse(fn, what, v, 'a function');
}

/** `v` must be one of `values`. */
export function argOneOf<T extends string>(fn: string, what: string, v: unknown, values: readonly T[]): asserts v is T {
  if (!(values as readonly unknown[]).includes(v)) refuse(fn, what, v, `one of ${values.join(', ')}`);
}

/** `v` must be an integer `0 <= v < 2^53`. */
export function argUnsigned(fn: string, what: string, v: unknown, min = 0): asserts v is number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) refuse(fn, what, v, min > 0 ? `a whole number from ${min}` : 'a whole number');
}

/** Every element of `list` must be an object (an entry of a table). */
export function argObjects(fn: string, what: string, list: unknown): void {
  argArray(fn, what, list);
  for (const e of list) argObject(fn, `${what} entry`, e);
}

/** `v` must be a device-tree node: a name, a list of properties and a list of children. */
export function argNode(fn: string, v: unknown): void {
  argObject(fn, 'node', v);
  const n = v as { name?: unknown; props?: unknown; children?: unknown };
  argString(fn, 'node name', n.name);
  argObjects(fn, 'node props', n.props);
  argObjects(fn, 'node children', n.children);
}

/** `v` must be a PC memory layout: RAM below and above 4 GiB and a slot count, in whole numbers. */
export function argLayout(fn: string, v: unknown): void {
  argObject(fn, 'layout', v);
  const l = v as { belowFourG?: unknown; aboveFourG?: unknown; slots?: unknown };
  argUnsigned(fn, 'layout belowFourG', l.belowFourG);
  argUnsigned(fn, 'layout aboveFourG', l.aboveFourG);
  argUnsigned(fn, 'layout slots', l.slots);
  const x = v as { deviceMemory?: unknown; kvm?: unknown };
  argBoolean(fn, 'layout kvm', x.kvm);
  if (x.deviceMemory !== undefined) {
    argObject(fn, 'layout deviceMemory', x.deviceMemory);
    const d = x.deviceMemory as { base?: unknown; size?: unknown };
    argUnsigned(fn, 'layout deviceMemory base', d.base);
    argUnsigned(fn, 'layout deviceMemory size', d.size);
  }
}
