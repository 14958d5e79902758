/**
 * Random shell commands, valid and invalid, over everything a user of the
 * demo can reach: memory block `state`/`online` writes, the `probe` file,
 * the QEMU monitor (`object_add`, `device_add`, `device_del`, `object_del`,
 * `info`), util-linux `lsmem`/`chmem`, `memremap`/`memunmap`,
 * `memalloc`/`memread`/`memfree`, `devmem`, `page`, reads of /proc and /sys,
 * and shell redirections. Most arguments are plausible (an existing block,
 * an aligned address in the hot-plug window) so that runs reach deep
 * states; the rest are the bad values a user types.
 */
import type { Prng } from './prng.js';

const MEM = '/sys/devices/system/memory';

/** What the generator knows about the machine it drives. */
export interface Target {
  readonly platform: 'x86_64' | 'powerpc';
  /** Memory block size in bytes. */
  readonly blockSize: number;
  /** Highest physical address of interest (end of the hot-plug window, and some). */
  readonly physTop: number;
  /** NUMA nodes. */
  readonly nodes: number;
  /** Block numbers present now. */
  blocks(): readonly number[];
  /**
   * Commands of the shell the generator has no model of (tools added
   * later, such as ndctl or daxctl): they get arguments from a pool of
   * options, numbers, sizes and paths.
   */
  readonly otherCommands: readonly string[];
}

/** The commands the generator writes arguments for itself (and `trace`, whose `on` would slow every later command). */
export const MODELLED_COMMANDS: readonly string[] = [
  'echo', 'cat', 'ls', 'dmesg', 'set', 'true', 'false', 'exit', 'help', 'trace', 'lsmem', 'chmem',
  'object_add', 'object_del', 'device_add', 'device_del', 'info', 'memremap', 'memunmap',
  'memalloc', 'memread', 'memfree', 'devmem', 'page', 'pageflags',
];

/** The names the generator has handed out and which still may exist. */
interface Names {
  backends: string[];
  dimms: string[];
  pages: string[];
  pgmaps: string[];
  /** Addresses written to the probe file: later requests aim at them too. */
  probed: string[];
}

const hex = (n: number): string => `0x${n.toString(16)}`;

/** A generator of command lines for one machine. */
export class CommandGenerator {
  private readonly names: Names = { backends: [], dimms: [], pages: [], pgmaps: [], probed: [] };
  private serial = 0;

  constructor(
    private readonly rng: Prng,
    private readonly target: Target,
  ) {}

  /** Tells the generator what a command printed (it learns pagemap names). */
  observe(stdout: string): void {
    for (const m of stdout.matchAll(/^(pgmap[0-9]+): \[mem /gm)) {
      if (!this.names.pgmaps.includes(m[1]!)) this.names.pgmaps.push(m[1]!);
    }
  }

  /** The next command line. */
  next(): string {
    const kind = this.rng.weighted({
      state: 16,
      online: 5,
      probe: 6,
      objectAdd: 6,
      objectDel: 3,
      deviceAdd: 7,
      deviceDel: 5,
      info: 2,
      chmem: 8,
      lsmem: 3,
      memremap: 7,
      memunmap: 4,
      memalloc: 6,
      memread: 2,
      memfree: 3,
      devmem: 3,
      page: 2,
      read: 8,
      redirect: 4,
      junk: 2,
      other: this.target.otherCommands.length > 0 ? 4 : 0,
    });
    return this[kind]();
  }

  private id(prefix: string): string {
    return `${prefix}${this.serial++}`;
  }

  /** An existing block number most of the time, else one that is not there. */
  private blockNr(): string {
    const blocks = this.target.blocks();
    if (blocks.length > 0 && this.rng.chance(0.9)) return String(this.rng.pick(blocks));
    return this.rng.pick(['99999', '4294967296', '-1', 'x', '', '00', '1e3']);
  }

  /** An address: mostly block-aligned in [0, physTop), sometimes anything, often one probed before. */
  private address(): string {
    const r = this.rng;
    if (this.names.probed.length > 0 && r.chance(0.25)) return r.pick(this.names.probed);
    const bs = this.target.blockSize;
    const nrBlocks = Math.floor(this.target.physTop / bs);
    const aligned = r.int(nrBlocks) * bs;
    return r.weighted({ aligned: 12, pageOff: 2, odd: 1, huge: 1, neg: 1, junk: 1, decimal: 1 }) === 'aligned'
      ? hex(aligned)
      : r.pick([hex(aligned + 4096), hex(aligned + bs / 2), '0x1', '0xffffffffffffffff', '0x10000000000000000', '-0x1000', 'zz', '', String(aligned), hex(2 ** 52)]);
  }

  /** A size: mostly a multiple of the block size, sometimes not. */
  private size(): string {
    const r = this.rng;
    const bs = this.target.blockSize;
    const mib = bs / 2 ** 20;
    if (r.chance(0.75)) return `${mib * r.between(1, 4)}M`;
    return r.pick(['0', '1', '100M', '1M', '2M', '16M', '64M', '1G', '1P', '16E', '-1', 'abc', '1.5G', '4096', `${mib / 2}M`, '']);
  }

  private node(): string {
    return this.rng.chance(0.9) ? String(this.rng.int(this.target.nodes)) : this.rng.pick(['7', '-1', 'x', '1024']);
  }

  private state(): string {
    const value = this.rng.chance(0.8)
      ? this.rng.pick(['online', 'offline', 'online_kernel', 'online_movable'])
      : this.rng.pick(['foo', 'Online', 'going-offline', '1', '0', 'onlinex', "''", '"online "']);
    return `echo ${value} > ${MEM}/memory${this.blockNr()}/state`;
  }

  private online(): string {
    const value = this.rng.pick(['0', '1', '1', '0', '2', '-1', 'y', 'n', 'online']);
    return `echo ${value} > ${MEM}/memory${this.blockNr()}/online`;
  }

  private probe(): string {
    const addr = this.address();
    if (/^0x[0-9a-f]+$/.test(addr) && !this.names.probed.includes(addr)) this.names.probed.push(addr);
    return `echo ${addr} > ${MEM}/probe`;
  }

  private objectAdd(): string {
    const r = this.rng;
    const id = r.chance(0.9) ? this.id('mem') : r.pick([...this.names.backends, 'mem 1', '', 'a,b']);
    if (r.chance(0.9)) this.names.backends.push(id);
    const type = r.chance(0.95) ? 'memory-backend-ram' : r.pick(['memory-backend-file', 'bogus']);
    const parts = [type, `id=${id}`];
    if (r.chance(0.95)) parts.push(`size=${this.size()}`);
    if (r.chance(0.05)) parts.push('share=on');
    return `object_add ${parts.join(',')}`;
  }

  private objectDel(): string {
    const r = this.rng;
    return `object_del ${this.names.backends.length > 0 && r.chance(0.85) ? r.pick(this.names.backends) : r.pick(['nosuch', 'mem'])}`;
  }

  private deviceAdd(): string {
    const r = this.rng;
    const id = this.id('dimm');
    this.names.dimms.push(id);
    const parts = [r.chance(0.95) ? 'pc-dimm' : r.pick(['nvdimm', 'virtio-mem', 'bogus']), `id=${id}`];
    if (r.chance(0.95)) parts.push(`memdev=${this.names.backends.length > 0 && r.chance(0.9) ? r.pick(this.names.backends) : 'nosuch'}`);
    if (r.chance(0.3)) parts.push(`node=${this.node()}`);
    if (r.chance(0.3)) parts.push(`addr=${this.address()}`);
    return `device_add ${parts.join(',')}`;
  }

  private deviceDel(): string {
    const r = this.rng;
    return `device_del ${this.names.dimms.length > 0 && r.chance(0.85) ? r.pick(this.names.dimms) : r.pick(['nosuch', 'dimm'])}`;
  }

  private info(): string {
    return `info ${this.rng.pick(['memdev', 'memory-devices', 'numa', '', 'bogus', 'numa x'])}`;
  }

  private chmem(): string {
    const r = this.rng;
    const args = [r.pick(['-e', '-d', '-e', '-d', '-x', ''])];
    if (r.chance(0.3)) args.push('-z', r.pick(['Normal', 'Movable', 'DMA', 'Device', 'bogus']));
    if (r.chance(0.1)) args.push('-v');
    const blocks = this.target.blocks();
    const bs = this.target.blockSize;
    const shape = r.weighted({ blockRange: 3, addrRange: 3, size: 2, bad: 1 });
    if (shape === 'blockRange' && blocks.length > 0) {
      const a = r.pick(blocks);
      args.push('-b', r.chance(0.5) ? String(a) : `${a}-${a + r.int(4)}`);
    } else if (shape === 'addrRange') {
      const a = r.int(Math.floor(this.target.physTop / bs)) * bs;
      const n = r.between(1, 3) * bs;
      args.push(r.chance(0.85) ? `${hex(a)}-${hex(a + n - 1)}` : `${hex(a)}-${hex(a + n)}`);
    } else if (shape === 'size') {
      args.push(this.size());
    } else {
      args.push(r.pick(['5-3', '-b x', '0x1000-0x2000', '--', '-b 999999']));
    }
    return `chmem ${args.join(' ')}`;
  }

  private lsmem(): string {
    return `lsmem ${this.rng.pick(['', '-a', '-b', '-o RANGE,STATE,ZONES', '-J', '-P', '-r', '--summary=only', '-o BOGUS', '-x'])}`;
  }

  private memremap(): string {
    const r = this.rng;
    if (r.chance(0.1)) return 'memremap';
    const args: string[] = [];
    const type = r.chance(0.6) ? undefined : r.pick(['fsdax', 'generic', 'p2pdma', 'private', 'bogus']);
    if (type !== undefined) args.push('-t', type);
    if (r.chance(0.3)) args.push('-a');
    if (r.chance(0.2)) args.push('-n', this.node());
    if (type === 'private' && r.chance(0.7)) args.push(this.size());
    else args.push(this.address(), this.size());
    return `memremap ${args.join(' ')}`;
  }

  private memunmap(): string {
    const r = this.rng;
    if (this.names.pgmaps.length > 0 && r.chance(0.7)) return `memunmap ${r.pick(this.names.pgmaps)}`;
    return `memunmap ${r.pick([this.address(), 'pgmap99', ''])}`;
  }

  private memalloc(): string {
    const r = this.rng;
    const name = this.id('page');
    this.names.pages.push(name);
    const args = [r.pick(['', '', '', '-q'])];
    if (r.chance(0.2)) args.push(`-n ${this.node()}`);
    args.push(name, r.pick(['hello', 'data-of-' + name, '', "'two words'"]));
    return `memalloc ${args.filter((a) => a !== '').join(' ')}`;
  }

  private memread(): string {
    const r = this.rng;
    return `memread ${this.names.pages.length > 0 && r.chance(0.6) ? r.pick(this.names.pages) : r.pick(['', 'nosuch'])}`;
  }

  private memfree(): string {
    const r = this.rng;
    return `memfree ${this.names.pages.length > 0 && r.chance(0.85) ? r.pick(this.names.pages) : r.pick(['', 'nosuch'])}`;
  }

  private devmem(): string {
    const r = this.rng;
    const addr = this.address();
    const width = r.pick(['', '8', '16', '32', '64', '7', 'b', 'l']);
    const value = width !== '' && r.chance(0.4) ? ` ${r.pick(['0x55', '0', '18446744073709551616', 'zz', '0xdeadbeef'])}` : '';
    return `devmem ${addr}${width === '' ? '' : ` ${width}`}${value}`;
  }

  private page(): string {
    const r = this.rng;
    const bs = this.target.blockSize;
    const pfn = Math.floor((r.int(Math.floor(this.target.physTop / bs)) * bs) / 4096) + r.int(16);
    return r.chance(0.8) ? `page ${hex(pfn)}` : `page ${r.pick(['', 'x', '-1', '1.5', '18446744073709551616'])}`;
  }

  private read(): string {
    const r = this.rng;
    const file = r.pick([
      '/proc/iomem',
      '/proc/zoneinfo',
      '/proc/meminfo',
      '/proc/buddyinfo',
      '/proc/pagetypeinfo',
      '/proc/cmdline',
      '/proc/nosuch',
      `${MEM}/block_size_bytes`,
      `${MEM}/auto_online_blocks`,
      `${MEM}/memory${this.blockNr()}/state`,
      `${MEM}/memory${this.blockNr()}/valid_zones`,
      `${MEM}/memory${this.blockNr()}/phys_index`,
      `${MEM}/memory${this.blockNr()}/removable`,
      `${MEM}/memory${this.blockNr()}/phys_device`,
      `${MEM}/probe`,
      '/sys/devices/system/node/node0/meminfo',
      '/sys/devices/system/node/possible',
      '/sys/devices/system/memory/',
      `${MEM}/memory${this.blockNr()}/state/`,
      '',
    ]);
    return r.chance(0.85) ? `cat ${file === '' ? "''" : file}` : `ls ${file === '' ? '/' : file}`;
  }

  private redirect(): string {
    const r = this.rng;
    const blk = `${MEM}/memory${this.blockNr()}`;
    return r.pick([
      `echo offline > ${blk}/state/`,
      `echo online >> ${blk}/state`,
      `echo 0 2> ${blk}/online`,
      `cat /proc/iomem > ${blk}/state`,
      `echo offline 2>&1 > ${blk}/state`,
      `echo online > ${blk}/state 2>&1`,
      `echo 1 >&2`,
      `echo 1 >&9`,
      `echo x > ''`,
      `echo x > /proc/iomem`,
      `echo x > ${MEM}`,
      `cat < /proc/iomem`,
      `echo online &> ${blk}/state`,
      `echo offline >| ${blk}/state`,
      `echo 'add x' > ${blk}/uevent`,
      `echo change > ${blk}/uevent`,
      `dmesg -c > /dev/null`,
      `echo x 1>&-`,
    ]);
  }

  private other(): string {
    const r = this.rng;
    const args: string[] = [];
    const n = r.int(5);
    for (let i = 0; i < n; i++) {
      args.push(
        r.pick([
          '--help', '-h', '-v', '-x', '--bogus', '-j', '-a', '-b', '-u', '--', '-', '0', '1', '-1', '4294967296',
          this.size(), this.address(), this.node(), 'all', 'x', "''", '/dev/pmem0', '/sys/devices/system/memory',
          'namespace0.0', 'region0', 'dax0.0', 'bus0', 'nmem0', '--mode=fsdax', '--mode=devdax', '--size=1G', '-m', 'devdax',
          'list', 'create-namespace', 'destroy-namespace', 'enable-namespace', 'disable-namespace', '-f', '-e',
          'test_hmm', 'nd_pmem', 'dax_pmem', 'kmem', '-n', '5',
        ]),
      );
    }
    return [r.pick(this.target.otherCommands), ...args].join(' ');
  }

  private junk(): string {
    return this.rng.pick([
      'nosuchcommand',
      "echo 'unterminated",
      'echo "a\\',
      'help memremap',
      'help nosuch',
      'pageflags',
      'pageflags --2015',
      'trace show',
      'trace bogus',
      'dmesg -C',
      'set -e',
      'set +e',
      'true',
      'false',
      '# a comment',
      '',
      'echo $?',
      'echo -e "\\x41"',
      'x=1 echo hi',
    ]);
  }
}
