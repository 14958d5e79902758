/**
 * Random shell commands, valid and invalid, over everything a user of the
 * demo can reach: memory block `state`/`online` writes, the `probe` file,
 * the QEMU monitor (`object_add`, `device_add`, `device_del`, `object_del`,
 * `info`), util-linux `lsmem`/`chmem`, `memremap`/`memunmap`,
 * `memalloc`/`memread`/`memfree`, `devmem`, `page`, reads of /proc and /sys,
 * and shell redirections; ndctl and daxctl over the NVDIMM regions, their
 * namespaces and dax devices (learnt from their output), the test_hmm
 * module and hmm-demo, and user processes (`process start|mmap|write|...`
 * with the pids and addresses the shell printed). Most arguments are plausible (an existing block,
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
  /** Whether the machine has NVDIMM regions (ndctl and daxctl are drawn more often). */
  readonly nvdimm: boolean;
}

/** The commands the generator writes arguments for itself (and `trace`, whose `on` would slow every later command). */
export const MODELLED_COMMANDS: readonly string[] = [
  'echo', 'cat', 'ls', 'dmesg', 'set', 'true', 'false', 'exit', 'help', 'trace', 'lsmem', 'chmem',
  'object_add', 'object_del', 'device_add', 'device_del', 'info', 'memremap', 'memunmap',
  'memalloc', 'memread', 'memfree', 'devmem', 'page', 'pageflags', 'ndctl', 'daxctl', 'process', 'modprobe', 'rmmod',
  'hmm-demo',
];

/** The names the generator has handed out and which still may exist. */
interface Names {
  backends: string[];
  dimms: string[];
  pages: string[];
  pgmaps: string[];
  /** Addresses written to the probe file: later requests aim at them too. */
  probed: string[];
  /** libnvdimm devices ndctl or ls printed: `regionN`, `namespaceN.M`, `nmemN`. */
  regions: string[];
  namespaces: string[];
  nmems: string[];
  /** dax devices (`daxN.M`) ndctl or daxctl printed. */
  daxDevs: string[];
  /** pids of `process start`/`fork` and of `hmm-demo start`. */
  pids: number[];
  hmmPids: number[];
  /** Per pid, the addresses its mmap calls returned, with their lengths. */
  maps: Map<number, { addr: number; length: number }[]>;
}

const hex = (n: number): string => `0x${n.toString(16)}`;

/** A generator of command lines for one machine. */
export class CommandGenerator {
  private readonly names: Names = {
    backends: [], dimms: [], pages: [], pgmaps: [], probed: [],
    regions: [], namespaces: [], nmems: [], daxDevs: [], pids: [], hmmPids: [], maps: new Map(),
  };
  private serial = 0;
  /** The rest of a plan: commands that reach a deep state together, each written when its turn comes. */
  private readonly pending: (() => string)[] = [];

  constructor(
    private readonly rng: Prng,
    private readonly target: Target,
  ) {}

  /** Tells the generator what a command printed: pagemap, libnvdimm and dax device names, pids and mapped addresses. */
  observe(stdout: string, line = ''): void {
    const n = this.names;
    const learn = (list: string[], v: string): void => void (list.includes(v) ? undefined : list.push(v));
    for (const m of stdout.matchAll(/^(pgmap[0-9]+): \[mem /gm)) learn(n.pgmaps, m[1]!);
    for (const m of stdout.matchAll(/\b(region[0-9]+|namespace[0-9]+\.[0-9]+|nmem[0-9]+|dax[0-9]+\.[0-9]+)\b/g)) {
      const v = m[1]!;
      learn(v.startsWith('region') ? n.regions : v.startsWith('namespace') ? n.namespaces : v.startsWith('nmem') ? n.nmems : n.daxDevs, v);
    }
    const hmm = line.startsWith('hmm-demo ');
    for (const m of stdout.matchAll(/^pid ([0-9]+): (?:started|open\()/gm)) {
      const list = hmm ? n.hmmPids : n.pids;
      if (!list.includes(Number(m[1]))) list.push(Number(m[1]));
    }
    for (const m of stdout.matchAll(/^pid [0-9]+: fork\(\) = ([0-9]+)$/gm)) {
      const child = Number(m[1]);
      if (!n.pids.includes(child)) n.pids.push(child);
    }
    for (const m of stdout.matchAll(/^pid ([0-9]+): mmap\(NULL, ([0-9]+), [^)]*\) = (0x[0-9a-f]+)/gm)) {
      const pid = Number(m[1]);
      const list = n.maps.get(pid) ?? [];
      list.push({ addr: Number(m[3]), length: Number(m[2]) });
      n.maps.set(pid, list);
      if (!hmm && !n.pids.includes(pid)) n.pids.push(pid);
    }
    for (const m of stdout.matchAll(/^pid ([0-9]+): exited$/gm)) {
      const pid = Number(m[1]);
      n.pids = n.pids.filter((p) => p !== pid);
      n.hmmPids = n.hmmPids.filter((p) => p !== pid);
      n.maps.delete(pid);
    }
  }

  /** The next command line. */
  next(): string {
    const planned = this.pending.shift();
    if (planned !== undefined) return planned();
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
      ndctl: this.target.nvdimm ? 22 : 2,
      daxctl: this.target.nvdimm ? 10 : 1,
      process: 10,
      hmm: this.target.platform === 'x86_64' ? 4 : 1,
      plan: 5,
      other: this.target.otherCommands.length > 0 ? 2 : 0,
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

  /** A name from `list` most of the time (when there is one), else one of `others`. */
  private known(list: readonly string[], others: readonly string[], p = 0.85): string {
    return list.length > 0 && this.rng.chance(p) ? this.rng.pick(list) : this.rng.pick(others);
  }

  private region(): string {
    return this.known(this.names.regions, ['region0', 'all', 'region0', 'region9', 'bogus']);
  }

  private namespace(): string {
    return this.known(this.names.namespaces, ['namespace0.0', 'all', 'namespace0.0', 'namespace0.9', 'namespace9.0', '0.0', 'x']);
  }

  private nmem(): string {
    return this.known(this.names.nmems, ['nmem0', 'all', 'nmem0', 'nmem9', 'x']);
  }

  private daxDev(): string {
    return this.known(this.names.daxDevs, ['dax0.0', 'all', 'dax0.0', 'dax0.1', 'dax9.0', 'x']);
  }

  /** A namespace size: mostly a multiple of the region's 16 MiB alignment. */
  private nsSize(): string {
    const r = this.rng;
    if (r.chance(0.7)) return `${16 * r.between(1, 24)}M`;
    return r.pick(['1G', '512M', '2M', '4M', '1M', '4097', '0', '-1', '16E', 'x', '1.5G', '17M', '2G']);
  }

  private nsAlign(): string {
    return this.rng.pick(['4K', '4096', '2M', '1G', '64K', '16M', '3M', '0', 'x', '2M', '4K']);
  }

  /** `ndctl SUBCOMMAND [options]` (ndctl v72's parse_options: short and long forms). */
  private ndctl(): string {
    const r = this.rng;
    const sub = r.weighted({
      create: 10, destroy: 5, enableNs: 3, disableNs: 3, enableRegion: 3, disableRegion: 3, list: 6, check: 2,
      initLabels: 2, readLabels: 1, zeroLabels: 1, misc: 1,
    });
    const args: string[] = [];
    switch (sub) {
      case 'create': {
        args.push('create-namespace');
        if (r.chance(0.45)) args.push('-f', '-e', this.namespace());
        else if (r.chance(0.3)) args.push('-e', this.namespace());
        if (r.chance(0.7)) args.push('-m', r.chance(0.92) ? r.pick(['fsdax', 'devdax', 'sector', 'raw']) : r.pick(['memory', 'dax', 'safe', 'bogus']));
        if (r.chance(0.4)) args.push('-s', this.nsSize());
        if (r.chance(0.2)) args.push('-a', this.nsAlign());
        if (r.chance(0.25)) args.push('-M', r.chance(0.9) ? r.pick(['mem', 'dev']) : 'bogus');
        if (r.chance(0.2)) args.push('-r', this.region());
        if (r.chance(0.05)) args.push(r.pick(['-t pmem', '-t blk', '-l 4096', '-l 512', '-n fuzz', '-u', '-c']));
        break;
      }
      case 'destroy':
        args.push('destroy-namespace');
        if (r.chance(0.7)) args.push('-f');
        if (r.chance(0.1)) args.push('-r', this.region());
        args.push(this.namespace());
        break;
      case 'enableNs':
      case 'disableNs':
        args.push(sub === 'enableNs' ? 'enable-namespace' : 'disable-namespace', this.namespace());
        break;
      case 'enableRegion':
      case 'disableRegion':
        args.push(sub === 'enableRegion' ? 'enable-region' : 'disable-region', this.region());
        break;
      case 'list': {
        args.push('list');
        const flags = ['N', 'R', 'D', 'X', 'B', 'i', 'u'].filter(() => r.chance(0.35));
        if (flags.length > 0) args.push(`-${flags.join('')}`);
        if (r.chance(0.15)) args.push('-r', this.region());
        if (r.chance(0.1)) args.push('-n', this.namespace());
        if (r.chance(0.05)) args.push(r.pick(['-m devdax', '-d nmem0', '--bogus', '-v']));
        break;
      }
      case 'check':
        args.push('check-namespace');
        if (r.chance(0.3)) args.push(r.pick(['--repair', '-f', '--dry-run', '-v']));
        args.push(this.namespace());
        break;
      case 'initLabels':
        args.push('init-labels');
        if (r.chance(0.3)) args.push('-f');
        args.push(this.nmem());
        break;
      case 'readLabels':
        args.push('read-labels', r.pick(['-j', '-u', '']), this.nmem());
        break;
      case 'zeroLabels':
        args.push('zero-labels', this.nmem());
        break;
      default:
        args.push(r.pick(['clear-errors', 'start-scrub', 'wait-scrub', 'inject-error', 'version', '--help', 'bogus', '']));
        if (r.chance(0.5)) args.push(r.pick([this.namespace(), 'ndbus0', 'all', '-B 0 -n 1 ' + this.namespace()]));
    }
    return ['ndctl', ...args.filter((a) => a !== '')].join(' ');
  }

  /** `daxctl SUBCOMMAND [options]` (daxctl v72). */
  private daxctl(): string {
    const r = this.rng;
    const sub = r.weighted({ list: 4, reconfig: 8, online: 3, offline: 3, create: 1, destroy: 2, enable: 1, disable: 1, misc: 1 });
    const args: string[] = [];
    switch (sub) {
      case 'list':
        args.push('list');
        for (const f of ['-D', '-R', '-M', '-u', '-i']) if (r.chance(0.25)) args.push(f);
        if (r.chance(0.15)) args.push('-d', this.daxDev());
        if (r.chance(0.1)) args.push('-r', this.rng.pick(['0', '1', 'region0', 'x']));
        break;
      case 'reconfig':
        args.push('reconfigure-device');
        if (r.chance(0.95)) args.push('-m', r.chance(0.92) ? r.pick(['system-ram', 'devdax', 'system-ram']) : r.pick(['bogus', 'kmem', '']));
        if (r.chance(0.25)) args.push('--no-online');
        if (r.chance(0.3)) args.push('-f');
        if (r.chance(0.1)) args.push(r.pick(['--no-movable', '-C', '-u', '-v']));
        args.push(this.daxDev());
        break;
      case 'online':
      case 'offline':
        args.push(sub === 'online' ? 'online-memory' : 'offline-memory');
        if (sub === 'online' && r.chance(0.2)) args.push('--no-movable');
        args.push(this.daxDev());
        break;
      case 'create':
        args.push('create-device');
        if (r.chance(0.6)) args.push('-s', this.nsSize());
        if (r.chance(0.3)) args.push('-r', this.rng.pick(['0', 'region0', '1']));
        break;
      case 'destroy':
        args.push('destroy-device');
        if (r.chance(0.6)) args.push('-f');
        args.push(this.daxDev());
        break;
      case 'enable':
      case 'disable':
        args.push(sub === 'enable' ? 'enable-device' : 'disable-device', this.daxDev());
        break;
      default:
        args.push(r.pick(['version', 'help', '--list-cmds', 'bogus', '']));
    }
    return ['daxctl', ...args.filter((a) => a !== '')].join(' ');
  }

  /** A pid the shell printed most of the time, else one that is not there. */
  private pid(list: readonly number[] = this.names.pids): string {
    if (list.length > 0 && this.rng.chance(0.92)) return String(this.rng.pick(list));
    return this.rng.pick(['1', '99999', '-1', 'x']);
  }

  /** An address in one of `pid`'s mappings (its start, a page in, its end), or a bad one. */
  private userAddr(pid: string): { addr: string; room: number } {
    const r = this.rng;
    const maps = this.names.maps.get(Number(pid)) ?? [];
    if (maps.length > 0 && r.chance(0.9)) {
      const m = r.pick(maps);
      const off = r.pick([0, 0, 0, 4096, m.length - 4096, m.length, 1]);
      return { addr: hex(m.addr + Math.max(0, off)), room: Math.max(0, m.length - off) };
    }
    return { addr: r.pick(['0x0', '0x1000', '0x7ffff7ffe000', '0xffffffffffffffff', 'x', '']), room: 4096 };
  }

  private userLength(room: number): string {
    const r = this.rng;
    if (r.chance(0.85) && room > 0) return String(Math.max(1, Math.min(room, 4096 * r.between(1, 4))));
    return r.pick(['0', '1', '8K', '2M', '-1', 'x', '18446744073709551616']);
  }

  /** The newest of `list` (what the last command printed), or `fallback`. */
  private latest(list: readonly (string | number)[], fallback: string): string {
    return list.length > 0 ? String(list[list.length - 1]) : fallback;
  }

  /**
   * A few commands that reach a deep state together, the way a user goes
   * there: labels on a DIMM, a devdax namespace given to the page allocator,
   * a process with data in its memory, a buffer moved to device memory. Each
   * later command is written when its turn comes, from what the earlier ones
   * printed.
   */
  private plan(): string {
    const r = this.rng;
    const n = this.names;
    const nv = this.target.nvdimm;
    const which = r.weighted({ labels: nv ? 1 : 0, kmem: nv ? 4 : 0, fsdax: nv ? 2 : 0, proc: 3, hmm: this.target.platform === 'x86_64' ? 2 : 0 });
    const steps: (() => string)[] = [];
    switch (which) {
      case 'labels':
        steps.push(() => 'ndctl disable-region all', () => `ndctl init-labels ${r.chance(0.5) ? '-f ' : ''}all`, () => 'ndctl enable-region all');
        if (r.chance(0.7)) steps.push(() => `ndctl create-namespace -m ${r.pick(['fsdax', 'devdax', 'sector', 'raw'])} -s ${this.nsSize()}`);
        break;
      case 'kmem':
        steps.push(
          () => `ndctl create-namespace -f -e ${this.latest(n.namespaces, 'namespace0.0')} -m devdax${r.chance(0.3) ? ` -a ${r.pick(['4K', '2M', '1G'])}` : ''}`,
          () => `daxctl reconfigure-device -m system-ram${r.chance(0.3) ? ' --no-online' : ''} ${this.latest(n.daxDevs, 'dax0.0')}`,
        );
        if (r.chance(0.5)) steps.push(() => `daxctl ${r.pick(['online-memory', 'offline-memory'])} ${this.latest(n.daxDevs, 'dax0.0')}`);
        if (r.chance(0.4)) steps.push(() => `daxctl reconfigure-device -m devdax${r.chance(0.5) ? ' -f' : ''} ${this.latest(n.daxDevs, 'dax0.0')}`);
        break;
      case 'fsdax':
        steps.push(() => `ndctl create-namespace -f -e ${this.latest(n.namespaces, 'namespace0.0')} -m ${r.pick(['fsdax', 'sector'])}${r.chance(0.5) ? ` -M ${r.pick(['mem', 'dev'])}` : ''}`);
        if (r.chance(0.5)) steps.push(() => `ndctl disable-namespace ${this.latest(n.namespaces, 'namespace0.0')}`, () => `ndctl check-namespace ${this.latest(n.namespaces, 'namespace0.0')}`);
        if (r.chance(0.5)) steps.push(() => `ndctl enable-namespace ${this.latest(n.namespaces, 'namespace0.0')}`);
        break;
      case 'proc':
        steps.push(
          () => 'process start',
          () => `process mmap ${this.latest(n.pids, '1')} ${r.pick(['4K', '16K', '64K'])}${r.chance(0.2) ? ' shared' : ''}`,
          () => {
            const pid = this.latest(n.pids, '1');
            const maps = n.maps.get(Number(pid)) ?? [];
            return `process write ${pid} ${maps.length > 0 ? hex(maps[maps.length - 1]!.addr) : '0x0'} planned`;
          },
        );
        if (r.chance(0.4)) steps.push(() => `process fork ${this.latest(n.pids, '1')}`);
        break;
      default:
        steps.push(() => 'modprobe test_hmm', () => 'hmm-demo start planned', () => `hmm-demo migrate ${this.latest(n.hmmPids, '1')}`);
        if (r.chance(0.6)) steps.push(() => `hmm-demo ${r.pick(['read', 'read', 'exit', 'close'])} ${this.latest(n.hmmPids, '1')}`);
    }
    this.pending.push(...steps.slice(1));
    return steps[0]!();
  }

  /** `process CMD PID ...` with the pids and addresses the shell printed. */
  private process(): string {
    const r = this.rng;
    const sub = r.weighted({ start: this.names.pids.length > 0 ? 3 : 20, mmap: 6, write: 6, read: 5, pte: 2, mprotect: 3, fork: 2, pin: 2, unpin: 1, munmap: 3, exit: 2, list: 1, bad: 1 });
    switch (sub) {
      case 'start':
        return r.chance(0.15) ? `process start --membind ${this.node()}` : 'process start';
      case 'mmap': {
        const len = r.chance(0.8) ? `${r.pick([4, 8, 12, 16, 64, 2048])}K` : r.pick(['0', '1', '2M', '-1', 'x', '1P']);
        const kind = r.weighted({ none: 6, shared: 2, dax: this.names.daxDevs.length > 0 ? 2 : 0, bad: 1 });
        const tail = kind === 'none' ? '' : kind === 'shared' ? ' shared' : kind === 'dax' ? ` /dev/${r.pick(this.names.daxDevs)}` : ` ${r.pick(['/dev/zero', 'private', '/dev/dax9.9'])}`;
        return `process mmap ${this.pid()} ${len}${tail}`;
      }
      case 'write': {
        const pid = this.pid();
        return `process write ${pid} ${this.userAddr(pid).addr} ${r.pick(['hello', 'fuzz data', "'two  words'", 'x'])}`;
      }
      case 'read':
      case 'mprotect':
      case 'pin':
      case 'munmap': {
        const pid = this.pid();
        const { addr, room } = this.userAddr(pid);
        const len = this.userLength(room);
        if (sub === 'read') return `process read ${pid} ${addr} ${len}`;
        if (sub === 'mprotect') return `process mprotect ${pid} ${addr} ${len} ${r.pick(['none', 'r', 'rw', 'rw', 'x'])}`;
        if (sub === 'pin') return `process pin ${r.chance(0.4) ? '--longterm ' : ''}${pid} ${addr} ${len}`;
        return `process munmap ${pid} ${addr} ${len}`;
      }
      case 'pte': {
        const pid = this.pid();
        return `process pte ${pid} ${this.userAddr(pid).addr}`;
      }
      case 'fork':
        return `process fork ${this.pid()}`;
      case 'unpin':
        return `process unpin ${this.pid()}`;
      case 'exit':
        return `process exit ${this.pid()}`;
      case 'list':
        return 'process list';
      default:
        return r.pick(['process', 'process bogus 1', 'process write', 'process read 1 0x0', 'process start --membind', 'process mmap 1 4K 5']);
    }
  }

  /** The test_hmm module and `hmm-demo` (its processes' pids are learnt from its output). */
  private hmm(): string {
    const r = this.rng;
    const sub = r.weighted({ modprobe: 2, rmmod: 1, start: this.names.hmmPids.length > 0 ? 3 : 8, migrate: 4, read: 3, close: 1, exit: 2, failNext: 1, bad: 1 });
    switch (sub) {
      case 'modprobe':
        return `modprobe ${r.pick(['test_hmm', 'test_hmm', '--first-time test_hmm', 'nosuch', ''])}`.trim();
      case 'rmmod':
        return `rmmod ${r.pick(['test_hmm', 'test_hmm', 'nosuch'])}`;
      case 'start':
        return `hmm-demo start${r.pick(['', ' hi', ' device data', " 'a  b'"])}`;
      case 'failNext':
        return 'hmm-demo fail-next';
      case 'bad':
        return r.pick(['hmm-demo', 'hmm-demo bogus', 'hmm-demo migrate', 'hmm-demo read x']);
      default:
        return `hmm-demo ${sub} ${this.pid(this.names.hmmPids)}`;
    }
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
