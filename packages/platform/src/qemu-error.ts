/**
 * The error QEMU reports: what its `error_setg()` sets and the monitor (or
 * the command line) prints.
 */

/**
 * An error QEMU reports with `error_setg()`: the message is QEMU's text
 * (the monitor prints it after `Error: `; the command line after the option).
 *
 * @public
 */
export class QemuError extends Error {
  /** An error with QEMU's `message`. */
  constructor(message: string) {
    super(message);
    this.name = 'QemuError';
  }
}
