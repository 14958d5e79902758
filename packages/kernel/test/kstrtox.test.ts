import { describe, expect, it } from 'vitest';
import { isKernelError, kstrtobool, kstrtoull, kstrtoullBig } from '@zonedev/kernel';

const errnoOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return isKernelError(e) ? e.errno : 'not a KernelError';
  }
  return undefined;
};

describe('kstrtobool (lib/kstrtox.c)', () => {
  it('reads y/Y/1/on as true and n/N/0/off as false, by their first characters', () => {
    for (const t of ['y', 'Y', '1', 'on', 'ON', 'yes', '1\n', 'On\n']) expect(kstrtobool(t)).toBe(true);
    for (const f of ['n', 'N', '0', 'off', 'OFF', 'no', '0\n']) expect(kstrtobool(f)).toBe(false);
  });
  it('rejects anything else with -EINVAL', () => {
    for (const bad of ['', 'o', 'ox', 'true', '2', ' 1', '\n']) expect(errnoOf(() => kstrtobool(bad))).toBe('EINVAL');
  });
});

describe('kstrtoull(s, 0) (lib/kstrtox.c)', () => {
  it('parses C-syntax numbers with one trailing newline', () => {
    expect(kstrtoull('0x140000000\n')).toBe(0x140000000);
    expect(kstrtoull('4096')).toBe(4096);
    expect(kstrtoull('010')).toBe(8);
    expect(kstrtoull('0')).toBe(0);
    expect(kstrtoull('+4096')).toBe(4096);
    expect(kstrtoull('0x20000000000000')).toBe(2 ** 53);
  });
  it('kstrtoullBig gives the full 64-bit range exactly', () => {
    expect(kstrtoullBig('18446744073709551615')).toBe(2n ** 64n - 1n);
    expect(kstrtoullBig('0xffffffffffffffff\n')).toBe(2n ** 64n - 1n);
    expect(kstrtoullBig('9007199254740993')).toBe(2n ** 53n + 1n);
    expect(errnoOf(() => kstrtoullBig('18446744073709551616'))).toBe('ERANGE');
  });
  it('refuses, with -ERANGE, a value a number cannot hold exactly instead of rounding it', () => {
    expect(errnoOf(() => kstrtoull('18446744073709551615'))).toBe('ERANGE');
    expect(errnoOf(() => kstrtoull('0xffffffffffffffff'))).toBe('ERANGE');
    expect(errnoOf(() => kstrtoull('9007199254740993'))).toBe('ERANGE'); // 2^53 + 1
    expect(errnoOf(() => kstrtoull('18446744073709551616'))).toBe('ERANGE'); // 2^64
    expect(errnoOf(() => kstrtoull(4096 as unknown as string))).toBe('EINVAL');
    expect(errnoOf(() => kstrtoull(undefined as unknown as string))).toBe('EINVAL');
  });
  it('rejects malformed input with -EINVAL and overflow with -ERANGE', () => {
    for (const bad of ['', '0x', '12a', '-1', ' 1', '1\n\n', '09', '0x1g']) expect(errnoOf(() => kstrtoull(bad))).toBe('EINVAL');
    expect(errnoOf(() => kstrtoull('0x10000000000000000'))).toBe('ERANGE');
  });
});
