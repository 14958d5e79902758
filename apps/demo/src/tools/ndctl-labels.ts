/**
 * `ndctl read-labels` and `ndctl init-labels` (ndctl v72 ndctl/dimm.c,
 * ndctl/lib/dimm.c): a DIMM's label storage area read or initialised
 * through the config-data commands.
 *
 * ```
 *   ndctl read-labels <nmem0> [<nmem1>..<nmemN>] [-j] [-u] [-b BUS] [-v]
 *   ndctl init-labels <nmem0> [<nmem1>..<nmemN>] [-f] [-V 1.1|1.2] [-b BUS] [-v]
 * ```
 *
 * ndctl sends ND_CMD_GET_CONFIG_SIZE, GET_CONFIG_DATA and SET_CONFIG_DATA
 * as ioctls on `/dev/nmemN`; in the demo's machine a read or write of
 * `/dev/nmemN` at an offset is that command at that offset (a read past
 * the area comes back short, which gives the config size). After writing
 * labels, an enabled DIMM is disabled and enabled again so that the kernel
 * drops its cached copy of the area, as ndctl does.
 */
import { ndctlInitLabels, type NdMedia } from '@zonedev/libnvdimm';
import { ERRNO } from '@zonedev/kernel';
import { JsonObject, toJsonString, type JsonArray } from './ndctl-json.js';
import { NdctlCtx } from './ndctl-lib.js';
import { NdctlUsageExit, parseNdctlOptions, usageWithOptions, type NdctlOption } from './ndctl-options.js';
import type { NdctlIo } from './ndctl.js';

const NSINDEX_ALIGN = 256;
/** The largest transfer the demo's QEMU answers (`nvdimm_get_max_xfer_label_size()`). */
const XFER = 4076;

const BASE_OPTIONS: readonly NdctlOption[] = [
  { short: 'b', long: 'bus', type: 'string', argh: 'bus-id', help: '<nmem> must be on a bus with an id/provider of <bus-id>' },
  { short: 'v', long: 'verbose', type: 'boolean', help: 'turn on debug' },
];
const READ_OPTIONS: readonly NdctlOption[] = [
  ...BASE_OPTIONS,
  { short: 'o', long: 'output', type: 'string', argh: 'output-file', help: 'filename to write label area contents' },
  { short: 'j', long: 'json', type: 'boolean', help: 'parse label data into json' },
  { short: 'u', long: 'human', type: 'boolean', help: 'use human friendly number formats (implies --json)' },
];
const INIT_OPTIONS: readonly NdctlOption[] = [
  ...BASE_OPTIONS,
  { short: 'f', long: 'force', type: 'boolean', help: 'force initialization even if existing index-block present' },
  { short: 'V', long: 'label-version', type: 'string', argh: 'version-number', help: 'namespace label specification version (default: 1.1)' },
];

/** A DIMM's label area reached through `/dev/nmemN` (see the file comment). */
export function configArea(io: NdctlIo, devname: string): NdMedia | undefined {
  const node = `/dev/${devname}`;
  const fs = io.fs;
  if (fs.pread === undefined || fs.pwrite === undefined || !fs.exists(node)) return undefined;
  // ND_CMD_GET_CONFIG_SIZE: what the device answers up to its end
  let size = 0;
  try {
    for (;;) {
      const got = fs.pread(node, size, XFER).length;
      size += got;
      if (got < XFER) break;
    }
  } catch {
    return undefined;
  }
  if (size === 0) return undefined;
  return {
    size,
    read: (offset, dst) => {
      for (let o = 0; o < dst.length; o += XFER) dst.set(fs.pread!(node, offset + o, Math.min(XFER, dst.length - o)), o);
    },
    write: (offset, src) => {
      for (let o = 0; o < src.length; o += XFER) fs.pwrite!(node, offset + o, src.subarray(o, Math.min(src.length, o + XFER)));
    },
  };
}

function le16(b: Uint8Array, o: number): number {
  return b[o]! + b[o + 1]! * 256;
}
function le32(b: Uint8Array, o: number): number {
  return le16(b, o) + le16(b, o + 2) * 65536;
}
function le64(b: Uint8Array, o: number): bigint {
  return BigInt(le32(b, o)) + BigInt(le32(b, o + 4)) * 4294967296n;
}

function uuidUnparse(b: Uint8Array): string {
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function cString(b: Uint8Array): string {
  const end = b.indexOf(0);
  return new TextDecoder('latin1').decode(end < 0 ? b : b.subarray(0, end));
}

/** `int64` as json-c prints a u64 read into one. */
function int64(v: bigint): number | bigint {
  const s = BigInt.asIntN(64, v);
  return s >= BigInt(Number.MIN_SAFE_INTEGER) && s <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(s) : s;
}

/** `dump_json()`: the two index blocks and every slot whose label names that slot. */
function dumpJson(devname: string, area: Uint8Array): JsonObject | undefined {
  const size = area.length;
  const index: JsonArray = [];
  let v1 = 0;
  let v2 = 0;
  for (let off = 0; off < NSINDEX_ALIGN * 2; off += NSINDEX_ALIGN) {
    if (size - off < 72) break;
    const major = le16(area, off + 60);
    const minor = le16(area, off + 62);
    if (major === 1 && minor === 1) v1++;
    else if (major === 1 && minor === 2) v2++;
    index.push(
      new JsonObject()
        .add('signature', cString(area.subarray(off, off + 15)))
        .add('major', major)
        .add('minor', minor)
        .add('labelsize', 2 ** (7 + area[off + 19]!))
        .add('seq', le32(area, off + 20))
        .add('nslot', le32(area, off + 56)),
    );
  }
  if (index.length === 0) return undefined;
  const labelSize = v2 > v1 ? 256 : 128;
  const labels: JsonArray = [];
  let slot = -1;
  for (let off = NSINDEX_ALIGN * 2; off < size; off += labelSize) {
    slot++;
    if (size - off < labelSize) break;
    const l = area.subarray(off, off + labelSize);
    if (le32(l, 120) !== slot) continue;
    const j = new JsonObject()
      .add('uuid', uuidUnparse(l.subarray(0, 16)))
      .add('name', cString(l.subarray(16, 79)))
      .add('slot', le32(l, 120))
      .add('position', le16(l, 86))
      .add('nlabel', le16(l, 84))
      .add('isetcookie', int64(le64(l, 88)))
      .add('lbasize', int64(le64(l, 96)))
      .add('dpa', int64(le64(l, 104)))
      .add('rawsize', int64(le64(l, 112)));
    if (labelSize >= 256) j.add('type_guid', uuidUnparse(l.subarray(128, 144))).add('abstraction_guid', uuidUnparse(l.subarray(144, 160)));
    labels.push(j);
  }
  if (labels.length === 0) return undefined;
  return new JsonObject().add('dev', devname).add('index', index).add('label', labels);
}

/** The DIMMs the operands name (`nmemN` or `all`), on the buses `-b` allows, in bus then id order. */
function selectDimms(ctx: NdctlCtx, operands: readonly string[], bus: string | undefined): { dimms: string[]; bad: string[] } {
  const root = '/sys/bus/nd/devices';
  const all = ctx
    .list(root)
    .filter((n) => /^nmem\d+$/.test(n))
    .sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)));
  const onBus = all.filter((d) => {
    if (bus === undefined || bus === 'all') return true;
    const b = ctx.list(root).find((n) => /^ndbus\d+$/.test(n) && ctx.list(`${root}/${n}`).includes(d));
    return b !== undefined && (b === bus || b === `ndbus${bus}` || ctx.read(`${root}/${b}/provider`) === bus);
  });
  const bad = operands.includes('all') ? [] : operands.filter((o) => !/^nmem\d+/.test(o));
  const wanted = (d: string): boolean => operands.some((o) => o === 'all' || o === d);
  return { dimms: onBus.filter(wanted), bad };
}

/** `ndctl_dimm_is_active()`: an enabled region maps the DIMM. */
export function dimmIsActive(ctx: NdctlCtx, devname: string): boolean {
  const root = '/sys/bus/nd/devices';
  for (const r of ctx.list(root).filter((n) => /^region\d+$/.test(n))) {
    const n = Number(ctx.read(`${root}/${r}/mappings`) ?? '0');
    for (let i = 0; i < n; i++) {
      if ((ctx.read(`${root}/${r}/mapping${i}`) ?? '').split(',')[0] === devname && ctx.isEnabled(`${root}/${r}`)) return true;
    }
  }
  return false;
}

type Action = (ctx: NdctlCtx, devname: string) => number;

/** `dimm_action()`: the action on each selected DIMM; the count that succeeded, or the first error. */
function dimmAction(io: NdctlIo, args: readonly string[], options: readonly NdctlOption[], usage: string, make: (values: Map<string, unknown>) => Action | number): number {
  const o = parseNdctlOptions(args, options, [usage]);
  if (o.operands.length === 0) throw new NdctlUsageExit(usageWithOptions([usage], options));
  const ctx = new NdctlCtx(io.fs, (t) => io.err(t), (n) => io.random(n));
  const { dimms, bad } = selectDimms(ctx, o.operands, o.values.get('bus') as string | undefined);
  for (const b of bad) io.err(`'${b}' is not a valid dimm name\n`);
  if (bad.length === o.operands.length) throw new NdctlUsageExit(usageWithOptions([usage], options));
  const version = (o.values.get('label-version') as string | undefined) ?? '1.1';
  if (!['1.1', 'v1.1', '1.2', 'v1.2'].includes(version)) {
    io.err(`'${version}' is not a valid label version\n`);
    return -ERRNO.EINVAL;
  }
  const action = make(o.values);
  if (typeof action === 'number') return action;
  let count = 0;
  let err = 0;
  for (const d of dimms) {
    const rc = action(ctx, d);
    if (rc === 0) count++;
    else if (err === 0) err = rc;
  }
  return count > 0 ? count : err;
}

/** `ndctl read-labels`. */
export function cmdReadLabels(io: NdctlIo, args: readonly string[]): number {
  const jdimms: JsonArray = [];
  let json = false;
  let outfile: string | undefined;
  let written = '';
  // the label area (or its json) goes to stdout, or to -o FILE
  const out = (t: string): void => {
    if (outfile === undefined) io.out(t);
    else written += t;
  };
  const count = dimmAction(io, args, READ_OPTIONS, 'ndctl read-labels <nmem0> [<nmem1>..<nmemN>] [-o <filename>]', (values) => {
    json = values.get('json') === true || values.get('human') === true;
    outfile = values.get('output') as string | undefined;
    if (outfile !== undefined) {
      try {
        io.fs.openWrite(outfile);
      } catch (e) {
        io.err(`failed to open: ${outfile}: (${(e as { strerror?: string }).strerror ?? String(e)})\n`);
        return (e as { negative?: number }).negative ?? -ERRNO.ENOENT;
      }
    }
    return (_ctx, devname) => {
      const media = configArea(io, devname);
      if (media === undefined) return -ERRNO.ENXIO;
      const area = new Uint8Array(media.size);
      media.read(0, area);
      if (!json) {
        out(new TextDecoder('latin1').decode(area));
        return 0;
      }
      const j = dumpJson(devname, area);
      if (j === undefined) return -ERRNO.ENOMEM;
      jdimms.push(j);
      return 0;
    };
  });
  if (jdimms.length > 0) out(`${toJsonString(jdimms)}\n`);
  if (outfile !== undefined && count >= 0) io.fs.write(outfile, written);
  const n = count >= 0 ? count : 0;
  io.err(`read ${n} nmem${n > 1 ? 's' : ''}\n`);
  return count >= 0 ? 0 : 1;
}

/** `ndctl init-labels`. */
export function cmdInitLabels(io: NdctlIo, args: readonly string[]): number {
  const count = dimmAction(io, args, INIT_OPTIONS, 'ndctl init-labels <nmem0> [<nmem1>..<nmemN>] [<options>]', (values) => {
    const version = ((values.get('label-version') as string | undefined) ?? '1.1').replace(/^v/, '') as '1.1' | '1.2';
    const force = values.get('force') === true;
    return (ctx, devname) => {
      if (dimmIsActive(ctx, devname)) {
        io.err(`${devname}: regions active, abort label write\n`);
        return -ERRNO.EBUSY;
      }
      const media = configArea(io, devname);
      if (media === undefined) return -ERRNO.ENXIO;
      try {
        ndctlInitLabels(media, { labelVersion: version, force });
      } catch (e) {
        if ((e as { errno?: string }).errno === 'EBUSY') {
          io.err(`${devname}: error: labels already initialized\n`);
          return -ERRNO.EBUSY;
        }
        return -ERRNO.ENXIO;
      }
      // the kernel caches the label area: disable and enable the DIMM
      const path = `/sys/bus/nd/devices/${devname}`;
      if (!ctx.isEnabled(path)) return 0;
      const rc = ctx.write(`${path}/driver/unbind`, devname);
      if (rc !== 0) return rc;
      return ctx.write('/sys/bus/nd/drivers/nvdimm/bind', devname);
    };
  });
  const n = count >= 0 ? count : 0;
  io.err(`initialized ${n} nmem${n > 1 ? 's' : ''}\n`);
  return count >= 0 ? 0 : 1;
}
