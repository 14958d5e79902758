// Bus commands on /dev/ndctlN (drivers/nvdimm/bus.c __nd_ioctl(),
// nd_cmd_clear_to_send(), nvdimm_account_cleared_poison()) and the NFIT's
// nfit/scrub (drivers/acpi/nfit/core.c scrub_show()/scrub_store()).
import { describe, expect, it } from 'vitest';
import { SparseBacking } from '@zonedev/mmzone';
import { ND_CMD_ARS_CAP, ND_CMD_CLEAR_ERROR } from '@zonedev/libnvdimm';
import { GiB, ND, bootMachine, tryRead } from './machine.js';
import type { Machine } from './machine.js';

const PMEM = 4 * GiB;

function nfit(clearErrUnit?: number): Machine {
  const m = bootMachine({ pmem: [], noE820: true, media: new Map([[PMEM, new SparseBacking(GiB)]]) });
  m.nd.registerNfit({
    spaRanges: [{ start: PMEM, size: GiB }],
    dimms: [{ handle: 1, physId: 0, spaRange: 0 }],
    ...(clearErrUnit !== undefined ? { arsClearErrUnit: clearErrUnit } : {}),
  });
  return m;
}

function errno(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as { errno?: string }).errno ?? String(e);
  }
}

describe('bus commands', () => {
  it('a bus without ARS lists no commands, has no nfit/scrub and answers ENOTTY', () => {
    const m = nfit();
    const bus = m.nd.nvdimmBuses()[0]!;
    expect(tryRead(m, `${ND}/ndbus0/commands`)).toBe('\n');
    expect(tryRead(m, `${ND}/ndbus0/nfit/scrub`)).toBe('ENOENT');
    expect(errno(() => m.nd.ndBusCommand(bus, { cmd: ND_CMD_ARS_CAP, address: PMEM, length: 512 }))).toBe('ENOTTY');
  });

  it('ARS_CAP reports the clear-error unit; CLEAR_ERROR refuses an enabled namespace, then clears whole units', () => {
    const m = nfit(256);
    const bus = m.nd.nvdimmBuses()[0]!;
    expect(tryRead(m, `${ND}/ndbus0/commands`)).toBe('ars_cap ars_start ars_status clear_error \n');
    const cap = m.nd.ndBusCommand(bus, { cmd: ND_CMD_ARS_CAP, address: PMEM, length: GiB });
    expect(cap).toMatchObject({ status: 0x20000, clearErrUnit: 256 });
    // outside the bus's persistent memory: the firmware refuses
    expect(errno(() => m.nd.ndBusCommand(bus, { cmd: ND_CMD_ARS_CAP, address: 0, length: 512 }))).toBe('EIO');
    expect(errno(() => m.nd.ndBusCommand(bus, { cmd: 99 as typeof ND_CMD_ARS_CAP, address: PMEM, length: 512 }))).toBe('ENOTTY');
    expect(errno(() => m.nd.ndBusCommand(bus, { cmd: ND_CMD_ARS_CAP, address: -1, length: 512 }))).toBe('EINVAL');
    m.nd.addBadrange(PMEM + 4096, 512);
    const bb = tryRead(m, `${ND}/region0/badblocks`);
    expect(bb).toBe('8 1\n');
    // the whole namespace is enabled: the clear must go through the pmem driver
    expect(errno(() => m.nd.ndBusCommand(bus, { cmd: ND_CMD_CLEAR_ERROR, address: PMEM, length: GiB }))).toBe('EBUSY');
    expect(tryRead(m, `${ND}/region0/badblocks`)).toBe(bb);
    // not in whole units: nothing cleared
    expect(errno(() => m.nd.ndBusCommand(bus, { cmd: ND_CMD_CLEAR_ERROR, address: PMEM + 4096 + 100, length: 256 }))).toBe('EIO');
    expect(tryRead(m, `${ND}/region0/badblocks`)).toBe(bb);
    expect(m.nd.ndBusCommand(bus, { cmd: ND_CMD_CLEAR_ERROR, address: PMEM + 4096, length: 512 })).toEqual({ status: 0, cleared: 512 });
    expect(tryRead(m, `${ND}/region0/badblocks`)).toBe('');
  });

  it('nfit/scrub counts completed scrubs, "+" while one runs on the clock (one from boot); only 1 starts one', () => {
    const m = nfit(512);
    const S = `${ND}/ndbus0/nfit/scrub`;
    // 1 GiB at the default 256 MiB/s: four seconds
    expect(tryRead(m, S)).toBe('0+\n');
    expect(errno(() => m.kernel.sysfs.write(S, '1\n'))).toBe('EBUSY');
    m.kernel.clock.advance(3.9e9);
    expect(tryRead(m, S)).toBe('0+\n');
    m.kernel.clock.advance(0.1e9);
    expect(tryRead(m, S)).toBe('1\n');
    m.kernel.sysfs.write(S, '1\n');
    expect(tryRead(m, S)).toBe('1+\n');
    m.kernel.clock.advance(4e9);
    expect(tryRead(m, S)).toBe('2\n');
    for (const bad of ['0\n', '2\n', '-1\n', 'x\n', '']) expect(errno(() => m.kernel.sysfs.write(S, bad))).toBe('EINVAL');
    expect(errno(() => m.kernel.sysfs.write(S, '9223372036854775808\n'))).toBe('ERANGE');
    expect(tryRead(m, S)).toBe('2\n');
  });

  it('the firmware\'s scrub rate is a positive integer', () => {
    const m = bootMachine({ pmem: [], noE820: true, media: new Map([[PMEM, new SparseBacking(GiB)]]) });
    const desc = { spaRanges: [{ start: PMEM, size: GiB }], dimms: [{ handle: 1, physId: 0, spaRange: 0 }], arsClearErrUnit: 256 };
    for (const r of [0, -1, 1.5, Number.NaN]) expect(errno(() => m.nd.registerNfit({ ...desc, arsBytesPerSecond: r }))).toBe('EINVAL');
    m.nd.registerNfit({ ...desc, arsBytesPerSecond: GiB });
    m.kernel.clock.advance(1e9);
    expect(tryRead(m, `${ND}/ndbus0/nfit/scrub`)).toBe('1\n');
  });
});
