/**
 * Heterogeneous memory management from the shell: the `test_hmm` module
 * (lib/test_hmm.c), its selftest (tools/testing/selftests/vm/hmm-tests.c)
 * and a process whose memory moves to the device and back.
 *
 * ```
 *   modprobe [--first-time] test_hmm    hmm_dmirror_init(): /dev/hmm_dmirror0 and 1,
 *                                       a 256 MiB device-private chunk each
 *   rmmod test_hmm                      hmm_dmirror_exit(): memunmap_pages() of the chunks
 *   hmm-tests                           the 21 cases of v5.13's hmm-tests, TAP output
 *   hmm-demo start [TEXT]               a process: opens /dev/hmm_dmirror0, maps an
 *                                       anonymous buffer and writes TEXT into it
 *   hmm-demo migrate PID                ioctl(HMM_DMIRROR_MIGRATE): the buffer moves to
 *                                       device memory; the PTE becomes a swap entry
 *   hmm-demo read PID                   the process reads its buffer: a CPU fault,
 *                                       migrate_to_ram() brings the page back
 *   hmm-demo fail-next                  arms dmirror_fail_migrate_to_ram: the next
 *                                       migrate_to_ram() answers VM_FAULT_SIGBUS
 *   hmm-demo close PID                  the process closes the device (its pages stay on it)
 *   hmm-demo exit PID                   the process exits (its pages are freed)
 * ```
 *
 * `page PFN` on a device page shows its pagemap and the swap entry that
 * maps it; `cat /proc/PID/smaps` the process's view.
 *
 * modprobe and rmmod also know `hwpoison_inject` (mm/hwpoison-inject.c,
 * `CONFIG_HWPOISON_INJECT=m` as distributions build it):
 * `pfn_inject_init()` creates `/sys/kernel/debug/hwpoison/` (`corrupt-pfn`,
 * `unpoison-pfn` and the `corrupt-filter-*` files), `rmmod` removes it.
 */
import { isKernelError } from '@zonedev/kernel';
import { PAGE_SIZE, UserFaultSignal, isDevicePrivateEntry, isHwpoisonEntry, isSwapPte, swpOffset, swpType, SWP_DEVICE_READ, SWP_DEVICE_WRITE, SWP_HWPOISON, SWP_MIGRATION_READ, SWP_MIGRATION_WRITE, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '@zonedev/mm';
import type { Pte, SwpEntry } from '@zonedev/mm';
import { HWPOISON_INJECT_MODULE, HwpoisonInject } from '@zonedev/mm';
import { DMIRROR_FAIL_MIGRATE_TO_RAM, DmirrorTask, HMM_DMIRROR_MIGRATE, runHmmTests } from '@zonedev/hmm';
import { errorText } from '../shell/builtins.js';
import type { CommandContext, ShellCommand } from '../shell/command.js';
import type { Machine as DemoMachine } from '@zonedev/platform';
import { LINUX_RELEASE } from '@zonedev/platform';

const MODULE = 'test_hmm';

/** The loaded `hwpoison_inject` module of each machine. */
const hwpoisonInject = new WeakMap<DemoMachine, HwpoisonInject>();

/** `modprobe hwpoison_inject`: 0, or 1 after modprobe's message. */
function loadHwpoisonInject(m: DemoMachine, firstTime: boolean, err: (s: string) => void): number {
  if (hwpoisonInject.has(m)) {
    if (!firstTime) return 0;
    err(`modprobe: ERROR: could not insert '${HWPOISON_INJECT_MODULE}': Module already in kernel\n`);
    return 1;
  }
  const mf = m.hotplug.memoryFailure;
  if (mf === undefined) {
    err(`modprobe: FATAL: Module ${HWPOISON_INJECT_MODULE} not found in directory /lib/modules/${LINUX_RELEASE}\n`);
    return 1;
  }
  hwpoisonInject.set(m, new HwpoisonInject(mf));
  return 0;
}

function hex(n: number | bigint): string {
  return `0x${n.toString(16)}`;
}

/** The name of a special swap type (device-private, migration, hwpoison). */
function swpTypeName(type: number): string {
  if (type === SWP_DEVICE_WRITE) return 'SWP_DEVICE_WRITE';
  if (type === SWP_DEVICE_READ) return 'SWP_DEVICE_READ';
  if (type === SWP_MIGRATION_WRITE) return 'SWP_MIGRATION_WRITE';
  if (type === SWP_MIGRATION_READ) return 'SWP_MIGRATION_READ';
  if (type === SWP_HWPOISON) return 'SWP_HWPOISON';
  return `swap type ${type}`;
}

/** A swap entry decoded (swp_type(), swp_offset(); a device-private or hwpoison entry's offset is a pfn). */
export function swapEntryText(entry: SwpEntry): string {
  const t = swpType(entry);
  const what = isDevicePrivateEntry(entry) ? " (the device page's pfn)" : isHwpoisonEntry(entry) ? " (the poisoned page's pfn)" : '';
  return `swap entry ${hex(entry.val)}: type ${swpTypeName(t)} (${t}), offset ${hex(swpOffset(entry))}${what}`;
}

/** One PTE in words: a present page's pfn, or a swap entry decoded. */
export function pteText(pte: Pte | undefined): string {
  if (pte === undefined) return 'pte_none';
  if (isSwapPte(pte)) return swapEntryText(pte.entry);
  return `present, pfn ${hex(pte.pfn)}`;
}

/**
 * Why processes cannot run on this machine, or undefined: @zonedev/mm's
 * address spaces have 4 KiB pages (powerpc's 64 KiB pages have none).
 */
function noProcesses(m: DemoMachine): string | undefined {
  const ps = m.hmm.pageSize;
  if (ps === PAGE_SIZE) return undefined;
  return `the model's processes (@zonedev/mm) have ${PAGE_SIZE / 1024} KiB pages; this machine has ${ps / 1024} KiB pages`;
}

/** `modprobe [--first-time] MODULE` (kmod). */
function modprobeCommand(m: DemoMachine): ShellCommand {
  return {
    name: 'modprobe',
    synopsis: 'modprobe [--first-time] MODULE',
    summary: 'load a kernel module (the demo has test_hmm and hwpoison_inject)',
    run(ctx): number {
      const firstTime = ctx.args.includes('--first-time');
      const names = ctx.args.filter((a) => a !== '--first-time');
      const bad = names.find((a) => a.startsWith('-'));
      if (bad !== undefined) {
        ctx.err(`modprobe: unrecognized option '${bad}'\n`);
        return 1;
      }
      if (names.length === 0) {
        ctx.err('modprobe: ERROR: missing parameters. See -h.\n');
        return 1;
      }
      const name = names[0]!.replace(/-/g, '_');
      if (name === HWPOISON_INJECT_MODULE) return loadHwpoisonInject(m, firstTime, (t) => ctx.err(t));
      if (name !== MODULE) {
        ctx.err(`modprobe: FATAL: Module ${names[0]!} not found in directory /lib/modules/${LINUX_RELEASE}\n`);
        return 1;
      }
      if (m.hmm.module !== undefined) {
        // kmod: an already loaded module is success, unless --first-time.
        if (!firstTime) return 0;
        ctx.err(`modprobe: ERROR: could not insert '${MODULE}': Module already in kernel\n`);
        return 1;
      }
      m.hmm.load();
      return 0;
    },
  };
}

/** `rmmod MODULE` (kmod). */
function rmmodCommand(m: DemoMachine): ShellCommand {
  return {
    name: 'rmmod',
    synopsis: 'rmmod MODULE',
    summary: 'unload a kernel module (refused while in use)',
    run(ctx): number {
      if (ctx.args.length === 0) {
        ctx.err('rmmod: ERROR: missing module name.\n');
        return 1;
      }
      let status = 0;
      for (const arg of ctx.args) {
        const name = arg.replace(/\.ko$/, '').replace(/^.*\//, '');
        const inj = name === HWPOISON_INJECT_MODULE ? hwpoisonInject.get(m) : undefined;
        if (inj !== undefined) {
          inj.exit();
          hwpoisonInject.delete(m);
          continue;
        }
        if (name !== MODULE || m.hmm.module === undefined) {
          ctx.err(`rmmod: ERROR: Module ${name} is not currently loaded\n`);
          status = 1;
          continue;
        }
        try {
          m.hmm.unload();
        } catch (e) {
          if (!isKernelError(e)) throw e;
          if (e.errno === 'EBUSY') ctx.err(`rmmod: ERROR: Module ${MODULE} is in use\n`);
          else ctx.err(`rmmod: ${MODULE}: ${e.message}: rmmod would sleep until they are freed; the module stays loaded\n`);
          status = 1;
        }
      }
      return status;
    },
  };
}

/** `hmm-tests`: the v5.13 selftest binary. */
function hmmTestsCommand(m: DemoMachine): ShellCommand {
  return {
    name: 'hmm-tests',
    synopsis: 'hmm-tests',
    summary: "run v5.13's 21 hmm selftests on /dev/hmm_dmirror0 and 1 (modprobe test_hmm first); TAP output",
    run(ctx): number {
      if (ctx.args.length !== 0) {
        ctx.err('usage: hmm-tests\n');
        return 2;
      }
      const why = noProcesses(m);
      if (why !== undefined) {
        ctx.err(`hmm-tests: ${why}\n`);
        return 1;
      }
      const loaded = m.hmm.module !== undefined;
      const opts = m.hmm.taskOptions();
      const r = runHmmTests(() => new DmirrorTask(opts));
      for (const line of r.output.split(/(?<=\n)/)) {
        ctx.out(line);
        // hmm_open() of FIXTURE_SETUP tells stderr why the open failed.
        if (!loaded && line.startsWith('#  RUN ')) ctx.err('could not open hmm dmirror driver (/dev/hmm_dmirror0)\n');
      }
      return r.exitStatus;
    },
  };
}

const DEMO_USAGE = 'usage: hmm-demo start [TEXT] | migrate PID | read PID | fail-next | close PID | exit PID\n';

/** The pid argument of a subcommand, or undefined (after saying why). */
function demoPid(m: DemoMachine, ctx: CommandContext): number | undefined {
  const s = ctx.args[1];
  if (s === undefined || ctx.args.length !== 2 || !/^[0-9]+$/.test(s)) {
    ctx.err(DEMO_USAGE);
    return undefined;
  }
  const pid = Number(s);
  if (m.hmm.process(pid) === undefined) {
    ctx.err(`hmm-demo: ${s}: no such process\n`);
    return undefined;
  }
  return pid;
}

/** What the process's PTEs over its buffer say, one line per page. */
function bufferPtes(m: DemoMachine, pid: number): string {
  const p = m.hmm.process(pid)!;
  const pgd = p.task.mm.pgd!;
  let s = '';
  for (let a = p.addr; a < p.addr + p.length; a += m.hmm.pageSize) s += `  pte of ${hex(a)}: ${pteText(pgd.get(a))}\n`;
  return s;
}

/** `hmm-demo ...`: a process whose buffer goes to device memory and back. */
function hmmDemoCommand(m: DemoMachine): ShellCommand {
  return {
    name: 'hmm-demo',
    synopsis: 'hmm-demo start [TEXT] | CMD PID | fail-next',
    summary: "a process's buffer to device-private memory (test_hmm) and back; CMD: migrate, read, close, exit",
    run(ctx): number {
      const sub = ctx.args[0];
      switch (sub) {
        case 'start': {
          const text = ctx.args.length > 1 ? ctx.args.slice(1).join(' ') : 'Hello from system RAM!';
          const bytes = new TextEncoder().encode(text);
          const why = noProcesses(m);
          if (why !== undefined) {
            ctx.err(`hmm-demo: ${why}\n`);
            return 1;
          }
          if (m.hmm.module === undefined) {
            ctx.err('hmm-demo: cannot open /dev/hmm_dmirror0: No such file or directory (modprobe test_hmm first)\n');
            return 1;
          }
          const ps = m.hmm.pageSize;
          const length = Math.max(1, Math.ceil(bytes.length / ps)) * ps;
          const task = new DmirrorTask(m.hmm.taskOptions());
          try {
            const fd = task.open('/dev/hmm_dmirror0');
            const addr = task.mmap(length, PROT_READ + PROT_WRITE, MAP_PRIVATE + MAP_ANONYMOUS);
            task.store(addr, bytes);
            const mirror = task.mmap(length, PROT_READ + PROT_WRITE, MAP_PRIVATE + MAP_ANONYMOUS);
            m.hmm.addProcess({ task, addr, length, mirror, fd, textLength: bytes.length, closed: false });
            ctx.out(`pid ${task.pid}: open("/dev/hmm_dmirror0", O_RDWR) = ${fd}\n`);
            ctx.out(`pid ${task.pid}: mmap(NULL, ${length}, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ${hex(addr)} (the buffer)\n`);
            ctx.out(`pid ${task.pid}: mmap(NULL, ${length}, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ${hex(mirror)} (the mirror)\n`);
            ctx.out(`pid ${task.pid}: wrote ${bytes.length} bytes: "${text}"\n`);
            ctx.out(bufferPtes(m, task.pid));
            return 0;
          } catch (e) {
            task.exit();
            if (!isKernelError(e) && !(e instanceof UserFaultSignal)) throw e;
            ctx.err(`hmm-demo: ${e instanceof UserFaultSignal ? e.message : errorText(e)}\n`);
            return 1;
          }
        }
        case 'migrate': {
          const pid = demoPid(m, ctx);
          if (pid === undefined) return 2;
          const p = m.hmm.process(pid)!;
          const npages = p.length / m.hmm.pageSize;
          // dmirror_migrate() copies what the device holds afterwards to cmd.ptr: the mirror.
          const cmd = { addr: BigInt(p.addr), ptr: BigInt(p.mirror), npages: BigInt(npages), cpages: 0n, faults: 0n };
          try {
            p.task.ioctl(p.fd, HMM_DMIRROR_MIGRATE, cmd);
          } catch (e) {
            if (!isKernelError(e)) throw e;
            ctx.err(`hmm-demo: ioctl(${p.fd}, HMM_DMIRROR_MIGRATE): ${errorText(e)}\n`);
            return 1;
          }
          ctx.out(`pid ${pid}: ioctl(${p.fd}, HMM_DMIRROR_MIGRATE, {addr ${hex(p.addr)}, ptr ${hex(p.mirror)}, npages ${npages}}) = 0, cpages ${cmd.cpages}\n`);
          ctx.out(`pid ${pid}: the mirror holds "${new TextDecoder().decode(p.task.load(p.mirror, p.textLength))}"\n`);
          ctx.out(bufferPtes(m, pid));
          return 0;
        }
        case 'read': {
          const pid = demoPid(m, ctx);
          if (pid === undefined) return 2;
          const p = m.hmm.process(pid)!;
          try {
            const bytes = p.task.load(p.addr, p.textLength);
            ctx.out(`pid ${pid}: read ${bytes.length} bytes: "${new TextDecoder().decode(bytes)}"\n`);
            ctx.out(bufferPtes(m, pid));
            return 0;
          } catch (e) {
            if (!(e instanceof UserFaultSignal)) throw e;
            // force_sig_fault(): the process dies of the signal.
            m.hmm.exitProcess(pid);
            ctx.out(`pid ${pid}: killed by ${e.signal} (${e.code}) at ${hex(e.address)}\n`);
            return 128 + (e.signal === 'SIGBUS' ? 7 : e.signal === 'SIGSEGV' ? 11 : 9);
          }
        }
        case 'fail-next': {
          if (ctx.args.length !== 1) {
            ctx.err(DEMO_USAGE);
            return 2;
          }
          m.kernel.faults.configure(DMIRROR_FAIL_MIGRATE_TO_RAM, { probability: 100, interval: 1, times: 1 });
          ctx.out(`${DMIRROR_FAIL_MIGRATE_TO_RAM}: the next migrate_to_ram() answers VM_FAULT_SIGBUS\n`);
          return 0;
        }
        case 'close': {
          const pid = demoPid(m, ctx);
          if (pid === undefined) return 2;
          const p = m.hmm.process(pid)!;
          try {
            m.hmm.closeDevice(pid);
          } catch (e) {
            if (!isKernelError(e)) throw e;
            ctx.err(`hmm-demo: close(${p.fd}): ${errorText(e)}\n`);
            return 1;
          }
          ctx.out(`pid ${pid}: close(${p.fd}) = 0\n`);
          return 0;
        }
        case 'exit': {
          const pid = demoPid(m, ctx);
          if (pid === undefined) return 2;
          m.hmm.exitProcess(pid);
          ctx.out(`pid ${pid}: exited\n`);
          return 0;
        }
        default:
          ctx.err(DEMO_USAGE);
          return 2;
      }
    },
  };
}

/** The module, selftest and process-demo commands of machine `m`. */
export function hmmCommands(m: DemoMachine): ShellCommand[] {
  return [modprobeCommand(m), rmmodCommand(m), hmmTestsCommand(m), hmmDemoCommand(m)];
}
