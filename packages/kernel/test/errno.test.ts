import { describe, expect, it } from 'vitest';
import { ERRNO, KernelError, errnoName, isKernelError, strerror } from '@zonedev/kernel';

describe('errno (include/uapi/asm-generic/errno*.h)', () => {
  it('numbers the generic errnos as Linux does, EPERM 1 to EHWPOISON 133', () => {
    expect(ERRNO.EPERM).toBe(1);
    expect(ERRNO.ENOMEM).toBe(12);
    expect(ERRNO.EBUSY).toBe(16);
    expect(ERRNO.EEXIST).toBe(17);
    expect(ERRNO.ENXIO).toBe(6);
    expect(ERRNO.EINVAL).toBe(22);
    expect(ERRNO.E2BIG).toBe(7);
    expect(ERRNO.ERANGE).toBe(34);
    expect(ERRNO.EDEADLK).toBe(35);
    expect(ERRNO.EOPNOTSUPP).toBe(95);
    expect(ERRNO.ETIMEDOUT).toBe(110);
    expect(ERRNO.EHWPOISON).toBe(133);
    const numbers = Object.values(ERRNO);
    expect(new Set(numbers).size).toBe(numbers.length);
    expect(numbers).not.toContain(41);
    expect(numbers).not.toContain(58);
    expect(numbers.length).toBe(131);
  });

  it('prints glibc strerror texts by name or by (negative) number', () => {
    expect(strerror('EBUSY')).toBe('Device or resource busy');
    expect(strerror(-16)).toBe('Device or resource busy');
    expect(strerror('EINVAL')).toBe('Invalid argument');
    expect(strerror('ENOMEM')).toBe('Cannot allocate memory');
    expect(strerror('EEXIST')).toBe('File exists');
    expect(strerror('ENXIO')).toBe('No such device or address');
    expect(strerror('E2BIG')).toBe('Argument list too long');
    expect(strerror('EINTR')).toBe('Interrupted system call');
    expect(strerror('EHWPOISON')).toBe('Memory page has hardware error');
    expect(strerror(41)).toBe('Unknown error 41');
    expect(strerror(1000)).toBe('Unknown error 1000');
  });

  it('maps numbers back to names', () => {
    expect(errnoName(22)).toBe('EINVAL');
    expect(errnoName(-22)).toBe('EINVAL');
    expect(errnoName(58)).toBeUndefined();
  });

  it('KernelError carries name, number, message and the negative return value', () => {
    const e = new KernelError('ENOMEM', 'Conflicting mapping in same section');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('KernelError');
    expect(e.errno).toBe('ENOMEM');
    expect(e.code).toBe(12);
    expect(e.negative).toBe(-12);
    expect(e.message).toBe('Conflicting mapping in same section');
    expect(e.strerror).toBe('Cannot allocate memory');
    expect(new KernelError('EBUSY').message).toBe('Device or resource busy');
    expect(isKernelError(e)).toBe(true);
    expect(isKernelError(e, 'ENOMEM')).toBe(true);
    expect(isKernelError(e, 'EBUSY')).toBe(false);
    expect(isKernelError(new Error('x'))).toBe(false);
  });
});
