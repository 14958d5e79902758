/**
 * Error numbers, as the kernel returns them and as glibc prints them.
 *
 * The kernel reports failure by returning a negative errno (`-EBUSY`), or by
 * encoding one in a pointer (`ERR_PTR(-ENOMEM)`). This model throws instead: a
 * {@link KernelError} carries the errno's name, its number, and the message
 * the kernel would have logged or that names the broken contract
 * ("Conflicting mapping in same section"). Where the kernel returns NULL, the
 * model returns `undefined`.
 *
 * The numbers are the generic ones of `include/uapi/asm-generic/errno-base.h`
 * (1..34) and `include/uapi/asm-generic/errno.h` (35..133), shared by x86_64
 * and powerpc. Aliases (`EWOULDBLOCK` = `EAGAIN`, `EDEADLOCK` = `EDEADLK`,
 * `ENOTSUP` = `EOPNOTSUPP`) are spelled by their canonical name. Number 41 and
 * 58 are unused in Linux, as there. The texts are glibc's `strerror()`, which
 * is what a user sees in `echo: write error: Device or resource busy`.
 */

/**
 * Every Linux errno name with its number (`include/uapi/asm-generic/errno*.h`).
 * @public
 */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  ENOEXEC: 8,
  EBADF: 9,
  ECHILD: 10,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  ENOTBLK: 15,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOTTY: 25,
  ETXTBSY: 26,
  EFBIG: 27,
  ENOSPC: 28,
  ESPIPE: 29,
  EROFS: 30,
  EMLINK: 31,
  EPIPE: 32,
  EDOM: 33,
  ERANGE: 34,
  EDEADLK: 35,
  ENAMETOOLONG: 36,
  ENOLCK: 37,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ELOOP: 40,
  ENOMSG: 42,
  EIDRM: 43,
  ECHRNG: 44,
  EL2NSYNC: 45,
  EL3HLT: 46,
  EL3RST: 47,
  ELNRNG: 48,
  EUNATCH: 49,
  ENOCSI: 50,
  EL2HLT: 51,
  EBADE: 52,
  EBADR: 53,
  EXFULL: 54,
  ENOANO: 55,
  EBADRQC: 56,
  EBADSLT: 57,
  EBFONT: 59,
  ENOSTR: 60,
  ENODATA: 61,
  ETIME: 62,
  ENOSR: 63,
  ENONET: 64,
  ENOPKG: 65,
  EREMOTE: 66,
  ENOLINK: 67,
  EADV: 68,
  ESRMNT: 69,
  ECOMM: 70,
  EPROTO: 71,
  EMULTIHOP: 72,
  EDOTDOT: 73,
  EBADMSG: 74,
  EOVERFLOW: 75,
  ENOTUNIQ: 76,
  EBADFD: 77,
  EREMCHG: 78,
  ELIBACC: 79,
  ELIBBAD: 80,
  ELIBSCN: 81,
  ELIBMAX: 82,
  ELIBEXEC: 83,
  EILSEQ: 84,
  ERESTART: 85,
  ESTRPIPE: 86,
  EUSERS: 87,
  ENOTSOCK: 88,
  EDESTADDRREQ: 89,
  EMSGSIZE: 90,
  EPROTOTYPE: 91,
  ENOPROTOOPT: 92,
  EPROTONOSUPPORT: 93,
  ESOCKTNOSUPPORT: 94,
  EOPNOTSUPP: 95,
  EPFNOSUPPORT: 96,
  EAFNOSUPPORT: 97,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENETDOWN: 100,
  ENETUNREACH: 101,
  ENETRESET: 102,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  ENOBUFS: 105,
  EISCONN: 106,
  ENOTCONN: 107,
  ESHUTDOWN: 108,
  ETOOMANYREFS: 109,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EHOSTDOWN: 112,
  EHOSTUNREACH: 113,
  EALREADY: 114,
  EINPROGRESS: 115,
  ESTALE: 116,
  EUCLEAN: 117,
  ENOTNAM: 118,
  ENAVAIL: 119,
  EISNAM: 120,
  EREMOTEIO: 121,
  EDQUOT: 122,
  ENOMEDIUM: 123,
  EMEDIUMTYPE: 124,
  ECANCELED: 125,
  ENOKEY: 126,
  EKEYEXPIRED: 127,
  EKEYREVOKED: 128,
  EKEYREJECTED: 129,
  EOWNERDEAD: 130,
  ENOTRECOVERABLE: 131,
  ERFKILL: 132,
  EHWPOISON: 133,
} as const;

/**
 * The name of a Linux errno, e.g. `'EBUSY'`.
 * @public
 */
export type ErrnoName = keyof typeof ERRNO;

const STRERROR: Readonly<Record<ErrnoName, string>> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  ESRCH: 'No such process',
  EINTR: 'Interrupted system call',
  EIO: 'Input/output error',
  ENXIO: 'No such device or address',
  E2BIG: 'Argument list too long',
  ENOEXEC: 'Exec format error',
  EBADF: 'Bad file descriptor',
  ECHILD: 'No child processes',
  EAGAIN: 'Resource temporarily unavailable',
  ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied',
  EFAULT: 'Bad address',
  ENOTBLK: 'Block device required',
  EBUSY: 'Device or resource busy',
  EEXIST: 'File exists',
  EXDEV: 'Invalid cross-device link',
  ENODEV: 'No such device',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EINVAL: 'Invalid argument',
  ENFILE: 'Too many open files in system',
  EMFILE: 'Too many open files',
  ENOTTY: 'Inappropriate ioctl for device',
  ETXTBSY: 'Text file busy',
  EFBIG: 'File too large',
  ENOSPC: 'No space left on device',
  ESPIPE: 'Illegal seek',
  EROFS: 'Read-only file system',
  EMLINK: 'Too many links',
  EPIPE: 'Broken pipe',
  EDOM: 'Numerical argument out of domain',
  ERANGE: 'Numerical result out of range',
  EDEADLK: 'Resource deadlock avoided',
  ENAMETOOLONG: 'File name too long',
  ENOLCK: 'No locks available',
  ENOSYS: 'Function not implemented',
  ENOTEMPTY: 'Directory not empty',
  ELOOP: 'Too many levels of symbolic links',
  ENOMSG: 'No message of desired type',
  EIDRM: 'Identifier removed',
  ECHRNG: 'Channel number out of range',
  EL2NSYNC: 'Level 2 not synchronized',
  EL3HLT: 'Level 3 halted',
  EL3RST: 'Level 3 reset',
  ELNRNG: 'Link number out of range',
  EUNATCH: 'Protocol driver not attached',
  ENOCSI: 'No CSI structure available',
  EL2HLT: 'Level 2 halted',
  EBADE: 'Invalid exchange',
  EBADR: 'Invalid request descriptor',
  EXFULL: 'Exchange full',
  ENOANO: 'No anode',
  EBADRQC: 'Invalid request code',
  EBADSLT: 'Invalid slot',
  EBFONT: 'Bad font file format',
  ENOSTR: 'Device not a stream',
  ENODATA: 'No data available',
  ETIME: 'Timer expired',
  ENOSR: 'Out of streams resources',
  ENONET: 'Machine is not on the network',
  ENOPKG: 'Package not installed',
  EREMOTE: 'Object is remote',
  ENOLINK: 'Link has been severed',
  EADV: 'Advertise error',
  ESRMNT: 'Srmount error',
  ECOMM: 'Communication error on send',
  EPROTO: 'Protocol error',
  EMULTIHOP: 'Multihop attempted',
  EDOTDOT: 'RFS specific error',
  EBADMSG: 'Bad message',
  EOVERFLOW: 'Value too large for defined data type',
  ENOTUNIQ: 'Name not unique on network',
  EBADFD: 'File descriptor in bad state',
  EREMCHG: 'Remote address changed',
  ELIBACC: 'Can not access a needed shared library',
  ELIBBAD: 'Accessing a corrupted shared library',
  ELIBSCN: '.lib section in a.out corrupted',
  ELIBMAX: 'Attempting to link in too many shared libraries',
  ELIBEXEC: 'Cannot exec a shared library directly',
  EILSEQ: 'Invalid or incomplete multibyte or wide character',
  ERESTART: 'Interrupted system call should be restarted',
  ESTRPIPE: 'Streams pipe error',
  EUSERS: 'Too many users',
  ENOTSOCK: 'Socket operation on non-socket',
  EDESTADDRREQ: 'Destination address required',
  EMSGSIZE: 'Message too long',
  EPROTOTYPE: 'Protocol wrong type for socket',
  ENOPROTOOPT: 'Protocol not available',
  EPROTONOSUPPORT: 'Protocol not supported',
  ESOCKTNOSUPPORT: 'Socket type not supported',
  EOPNOTSUPP: 'Operation not supported',
  EPFNOSUPPORT: 'Protocol family not supported',
  EAFNOSUPPORT: 'Address family not supported by protocol',
  EADDRINUSE: 'Address already in use',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  ENETDOWN: 'Network is down',
  ENETUNREACH: 'Network is unreachable',
  ENETRESET: 'Network dropped connection on reset',
  ECONNABORTED: 'Software caused connection abort',
  ECONNRESET: 'Connection reset by peer',
  ENOBUFS: 'No buffer space available',
  EISCONN: 'Transport endpoint is already connected',
  ENOTCONN: 'Transport endpoint is not connected',
  ESHUTDOWN: 'Cannot send after transport endpoint shutdown',
  ETOOMANYREFS: 'Too many references: cannot splice',
  ETIMEDOUT: 'Connection timed out',
  ECONNREFUSED: 'Connection refused',
  EHOSTDOWN: 'Host is down',
  EHOSTUNREACH: 'No route to host',
  EALREADY: 'Operation already in progress',
  EINPROGRESS: 'Operation now in progress',
  ESTALE: 'Stale file handle',
  EUCLEAN: 'Structure needs cleaning',
  ENOTNAM: 'Not a XENIX named type file',
  ENAVAIL: 'No XENIX semaphores available',
  EISNAM: 'Is a named type file',
  EREMOTEIO: 'Remote I/O error',
  EDQUOT: 'Disk quota exceeded',
  ENOMEDIUM: 'No medium found',
  EMEDIUMTYPE: 'Wrong medium type',
  ECANCELED: 'Operation canceled',
  ENOKEY: 'Required key not available',
  EKEYEXPIRED: 'Key has expired',
  EKEYREVOKED: 'Key has been revoked',
  EKEYREJECTED: 'Key was rejected by service',
  EOWNERDEAD: 'Owner died',
  ENOTRECOVERABLE: 'State not recoverable',
  ERFKILL: 'Operation not possible due to RF-kill',
  EHWPOISON: 'Memory page has hardware error',
};

const BY_NUMBER: ReadonlyMap<number, ErrnoName> = new Map(
  (Object.keys(ERRNO) as ErrnoName[]).map((name) => [ERRNO[name], name]),
);

/**
 * The errno name for a number (positive or negative, as the kernel returns
 * it), or `undefined` for a number Linux does not use.
 * @public
 */
export function errnoName(code: number): ErrnoName | undefined {
  return BY_NUMBER.get(Math.abs(code));
}

/**
 * The text glibc's `strerror()` prints for an errno, by name or number
 * (`strerror('EBUSY')` and `strerror(-16)` are both "Device or resource busy").
 * An unknown number reads "Unknown error N", as glibc prints it.
 * @public
 */
export function strerror(errno: ErrnoName | number): string {
  const name = typeof errno === 'number' ? errnoName(errno) : errno;
  if (name === undefined) return `Unknown error ${Math.abs(errno as number)}`;
  return STRERROR[name];
}

/**
 * A failure the kernel would report with `-errno`.
 *
 * `errno` is the name (`'EBUSY'`), `code` its positive number (16), `message`
 * the kernel's own words for the failure when it has any, else the errno's
 * `strerror()` text. Thrown by every model function whose kernel counterpart
 * returns a negative errno; state is left as it was before the call.
 * @public
 */
export class KernelError extends Error {
  /** The errno name, e.g. `'EBUSY'`. */
  readonly errno: ErrnoName;
  /** The errno number, positive (the kernel returns its negation). */
  readonly code: number;

  constructor(errno: ErrnoName, message?: string) {
    super(message ?? STRERROR[errno]);
    this.name = 'KernelError';
    this.errno = errno;
    this.code = ERRNO[errno];
  }

  /** The kernel's return value for this failure: `-code`. */
  get negative(): number {
    return -this.code;
  }

  /** glibc's text for the errno, as a shell prints it after `write error:`. */
  get strerror(): string {
    return STRERROR[this.errno];
  }
}

/**
 * A kernel `BUG()`, `BUG_ON()` or `VM_BUG_ON*()` that fired: the caller broke
 * an invariant the kernel does not check with an errno but by stopping
 * (include/asm-generic/bug.h, include/linux/mmdebug.h). The message is the
 * kernel's report, starting with `BUG: ` (a message that does not start with
 * it gets the prefix), e.g. `BUG: Bad page state in process swapper/0
 * pfn:01000` from `bad_page()` in mm/page_alloc.c.
 *
 * It is deliberately not a {@link KernelError}: a BUG has no errno and no
 * caller may translate it into a return value, so code that catches
 * KernelError to unwind a failed operation does not swallow it. The model
 * throws it before changing any state, so the machine stays usable.
 * @public
 */
export class KernelBug extends Error {
  constructor(message: string) {
    super(message.startsWith('BUG: ') ? message : `BUG: ${message}`);
    this.name = 'KernelBug';
  }
}

/**
 * Whether `e` is a {@link KernelBug}.
 * @public
 */
export function isKernelBug(e: unknown): e is KernelBug {
  return e instanceof KernelBug;
}

/**
 * Whether `e` is a {@link KernelError}, optionally with a given errno.
 * @public
 */
export function isKernelError(e: unknown, errno?: ErrnoName): e is KernelError {
  return e instanceof KernelError && (errno === undefined || e.errno === errno);
}
