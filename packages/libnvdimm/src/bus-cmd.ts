/**
 * Bus commands: what userspace sends to `/dev/ndctlN` (include/uapi/linux/ndctl.h,
 * drivers/nvdimm/bus.c `__nd_ioctl()`), as far as the address range scrub
 * (ARS) and error clearing need them.
 *
 * A bus provider advertises the commands its firmware implements in
 * `nd_desc->cmd_mask`, which the bus's `commands` attribute lists by name.
 * The ACPI NFIT asks the platform firmware through the root device's _DSM:
 * `ND_CMD_ARS_CAP` tells the clear-error unit for a range, `ND_CMD_CLEAR_ERROR`
 * asks the firmware to clear the poison in a range (whole units only) and
 * answers how many bytes it cleared. The kernel then forgets what was
 * cleared from the bus's badrange and the regions' badblocks
 * (`nvdimm_account_cleared_poison()`). It refuses to clear a range that
 * covers the whole of an enabled namespace (`nd_pmem_forget_poison_check()`):
 * clearing through the bus behind an active pmem driver's back would leave
 * its `pmem->bb` stale, so ndctl disables the namespace first.
 *
 * ```
 *   cmd          nr  in                     out
 *   ars_cap       1  address, length        status, max_ars_out, clear_err_unit, flags
 *   ars_start     2  (scrub: nfit/scrub)
 *   ars_status    3  (scrub: nfit/scrub)
 *   clear_error   4  address, length        status, cleared
 * ```
 */
import { checkUnsigned } from '@zonedev/kernel';

/** `ND_CMD_ARS_CAP` (include/uapi/linux/ndctl.h). @public */
export const ND_CMD_ARS_CAP = 1;
/** `ND_CMD_ARS_START`. @public */
export const ND_CMD_ARS_START = 2;
/** `ND_CMD_ARS_STATUS`. @public */
export const ND_CMD_ARS_STATUS = 3;
/** `ND_CMD_CLEAR_ERROR`. @public */
export const ND_CMD_CLEAR_ERROR = 4;

/** `nvdimm_bus_cmd_name()` (include/linux/libnvdimm.h): the name of a bus command, '' for none. @public */
export function nvdimmBusCmdName(cmd: number): string {
  checkUnsigned('nvdimm_bus_cmd_name', 'cmd', cmd, 0xffffffff);
  switch (cmd) {
    case ND_CMD_ARS_CAP:
      return 'ars_cap';
    case ND_CMD_ARS_START:
      return 'ars_start';
    case ND_CMD_ARS_STATUS:
      return 'ars_status';
    case ND_CMD_CLEAR_ERROR:
      return 'clear_error';
    case 10:
      return 'call';
    default:
      return 'unknown';
  }
}

/**
 * A bus command's input: `struct nd_cmd_ars_cap` or `struct nd_cmd_clear_error`
 * (address and length in bytes, physical).
 * @public
 */
export interface NdBusCommand {
  readonly cmd: typeof ND_CMD_ARS_CAP | typeof ND_CMD_CLEAR_ERROR;
  readonly address: number;
  readonly length: number;
}

/**
 * A bus command's output: `status` is the firmware's (0 = success); for
 * `ND_CMD_ARS_CAP` the clear-error unit and the largest ARS_STATUS payload,
 * for `ND_CMD_CLEAR_ERROR` the bytes cleared.
 * @public
 */
export interface NdBusCommandResult {
  readonly status: number;
  readonly maxArsOut?: number;
  readonly clearErrUnit?: number;
  readonly flags?: number;
  readonly cleared?: number;
}
