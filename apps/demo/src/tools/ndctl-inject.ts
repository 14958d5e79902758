/**
 * `ndctl inject-error` (ndctl v72 ndctl/inject-error.c, ndctl/lib/inject.c).
 *
 * ```
 *   ndctl inject-error <namespace> [-B BLOCK -n COUNT] [-d] [-t] [-N] [-u] [-b BUS] [-r REGION] [-v]
 * ```
 *
 * Error injection is an ACPI NFIT root-device function (`NFIT_CMD_ARS_INJECT_SET`,
 * `_GET`, `_CLEAR`, advertised in the bus's `nfit/dsm_mask`). libndctl
 * answers "not supported" for a bus without all three
 * (`ndctl_bus_has_error_injection()`): the e820 and of_pmem buses have no
 * NFIT at all, and QEMU's NFIT implements no root _DSM function but the
 * query. So on the demo's machines the command checks its options, finds
 * the namespace and refuses, as ndctl does there; media errors reach the
 * kernel through the platform instead (the bus's badrange, shown by
 * `ndctl list --media-errors`).
 */
import { NdctlCtx } from './ndctl-lib.js';
import { parseSize64 } from './ndctl-json.js';
import { NdctlUsageExit, parseNdctlOptions, usageWithOptions, type NdctlOption } from './ndctl-options.js';
import type { NdctlIo } from './ndctl.js';

const ENXIO = 6;
const EINVAL = 22;
const EOPNOTSUPP = 95;
const ULLONG_MAX = 2 ** 64 - 1;

/** `NFIT_CMD_ARS_INJECT_SET`, `_CLEAR`, `_GET` (ndctl/libndctl-nfit.h): bus _DSM function numbers. */
const NFIT_CMD_ARS_INJECT_SET = 7;
const NFIT_CMD_ARS_INJECT_CLEAR = 8;
const NFIT_CMD_ARS_INJECT_GET = 9;

const INJECT_OPTIONS: readonly NdctlOption[] = [
  { short: 'b', long: 'bus', type: 'string', argh: 'bus-id', help: 'limit namespace to a bus with an id or provider of <bus-id>' },
  { short: 'r', long: 'region', type: 'string', argh: 'region-id', help: 'limit namespace to a region with an id or name of <region-id>' },
  { short: 'v', long: 'verbose', type: 'boolean', help: 'emit extra debug messages to stderr' },
  { short: 'B', long: 'block', type: 'string', argh: 'namespace block offset (512B)', help: 'specify the block at which to (un)inject the error' },
  { short: 'n', long: 'count', type: 'string', argh: 'count', help: 'specify the number of blocks of errors to (un)inject' },
  { short: 'd', long: 'uninject', type: 'boolean', help: 'un-inject a previously injected error' },
  { short: 't', long: 'status', type: 'boolean', help: 'get error injection status' },
  { short: 'N', long: 'no-notify', type: 'boolean', help: 'firmware should not notify OS' },
  { short: 'u', long: 'human', type: 'boolean', help: 'use human friendly number formats ' },
];

const USAGE = ['ndctl inject-error <namespace> [<options>]'];

function error(io: NdctlIo, msg: string): void {
  io.err(`Error: ${msg}`);
}

/**
 * `ndctl_bus_has_error_injection()`: an NFIT bus whose `nfit/dsm_mask`
 * has the inject set, get and clear functions.
 */
function busHasErrorInjection(ctx: NdctlCtx, busPath: string): boolean {
  const t = ctx.read(`${busPath}/nfit/dsm_mask`)?.trim();
  if (t === undefined || !/^(0x)?[0-9a-f]+$/i.test(t)) return false;
  const mask = BigInt(t.startsWith('0x') ? t : `0x${t}`);
  return [NFIT_CMD_ARS_INJECT_SET, NFIT_CMD_ARS_INJECT_GET, NFIT_CMD_ARS_INJECT_CLEAR].every((c) => (mask / 2n ** BigInt(c)) % 2n === 1n);
}

/** `util_bus_filter()` / `util_region_filter()` for an id, a device name or (bus) a provider. */
function matches(devname: string, id: number, ident: string | undefined, provider?: string): boolean {
  if (ident === undefined || ident === 'all') return true;
  if (ident === devname || (provider !== undefined && ident === provider)) return true;
  return /^\d+$/.test(ident) && Number(ident) === id;
}

/** `cmd_inject_error()`: the return value (negative errno on failure). */
export function cmdInjectError(io: NdctlIo, args: readonly string[]): number {
  const o = parseNdctlOptions(args, INJECT_OPTIONS, USAGE);
  const v = o.values;
  const clear = v.get('uninject') === true;
  const status = v.get('status') === true;
  const block = v.get('block') as string | undefined;
  const count = v.get('count') as string | undefined;
  // inject_init()
  if (clear && status) {
    error(io, 'status is invalid with inject or uninject\n');
    return -EINVAL;
  }
  if (status && (block !== undefined || count !== undefined)) {
    error(io, 'status is invalid with inject or uninject\n');
    return -EINVAL;
  }
  if (block !== undefined && (parseSize64(block)?.value ?? ULLONG_MAX) >= ULLONG_MAX) {
    error(io, `Invalid block: ${block}\n`);
    return -EINVAL;
  }
  if (count !== undefined && (parseSize64(count)?.value ?? ULLONG_MAX) >= ULLONG_MAX) {
    error(io, `Invalid count: ${count}\n`);
    return -EINVAL;
  }
  if (!status && (block === undefined || count === undefined)) {
    error(io, 'block and count required for inject/uninject\n');
    return -EINVAL;
  }
  const argv = o.operands;
  if (argv.length === 0) error(io, 'specify a namespace to inject error to\n');
  for (let i = 1; i < argv.length; i++) error(io, `unknown extra parameter "${argv[i]!}"\n`);
  if (argv.length !== 1) throw new NdctlUsageExit(usageWithOptions(USAGE, INJECT_OPTIONS));
  // do_inject()
  const namespace = argv[0]!;
  const ctx = new NdctlCtx(io.fs, (t) => io.err(t), (n) => io.random(n));
  for (const bus of ctx.buses()) {
    if (!matches(bus.devname, bus.id, v.get('bus') as string | undefined, bus.provider())) continue;
    for (const region of bus.regions()) {
      if (!matches(region.devname, region.id, v.get('region') as string | undefined)) continue;
      for (const ns of region.namespaces()) {
        if (ns.devname !== namespace) continue;
        // No bus of the model advertises the three NFIT injection functions, so this always refuses.
        if (!busHasErrorInjection(ctx, bus.path)) io.err(`${namespace}: error injection not supported\n`);
        return -EOPNOTSUPP;
      }
    }
  }
  error(io, `${namespace}: no such namespace\n`);
  return -ENXIO;
}
