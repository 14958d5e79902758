/**
 * `process ...`: user processes on the machine, what a program on the guest
 * would do, said as strace says it.
 *
 *   process start [--membind NODE]         a new process (an empty address space): its pid;
 *                                          --membind: numactl's MPOL_BIND, pages from NODE only
 *   process mmap PID LENGTH [shared|/dev/daxR.N]
 *                                          map anonymous private (default) or shared
 *                                          memory, or a device-dax device, read-write
 *   process write PID ADDR TEXT...         the process stores TEXT at ADDR (faults pages in)
 *   process read PID ADDR LENGTH           the process loads LENGTH bytes (up to a NUL shown)
 *   process pte PID ADDR                   what the page table says of ADDR (pfn, or swap entry)
 *   process mprotect PID ADDR LENGTH none|r|rw
 *   process fork PID                       a copy-on-write child
 *   process pin [--longterm] PID ADDR LENGTH
 *                                          pin_user_pages(FOLL_WRITE [| FOLL_LONGTERM]): a direct I/O's pin
 *   process unpin PID                      unpin_user_pages() of every pin of PID
 *   process munmap PID ADDR LENGTH
 *   process exit PID
 *   process list                           the processes: pid, parent, mappings, RSS
 *
 * `cat /proc/PID/maps`, `smaps` and `status` show a process's view, and
 * offlining a block migrates its pages: `process pte` gives a new pfn, and
 * `process read` the same bytes.
 */
import { isKernelError } from '@zonedev/kernel';
import { PROT_NONE, PROT_READ, PROT_WRITE, UserFaultSignal } from '@zonedev/mm';
import { errorText } from '../shell/builtins.js';
import type { CommandContext, ShellCommand } from '../shell/command.js';
import type { Machine as DemoMachine, ProcessMapping } from '@zonedev/platform';
import { parseQemuSize } from '@zonedev/platform';
import { pteText } from './hmm.js';

const USAGE =
  'usage: process start [--membind NODE] | list | mmap PID LENGTH [shared|/dev/daxR.N] | write PID ADDR TEXT... | read PID ADDR LENGTH\n' +
  '       | pte PID ADDR | mprotect PID ADDR LENGTH none|r|rw | fork PID | pin [--longterm] PID ADDR LENGTH | unpin PID\n' +
  '       | munmap PID ADDR LENGTH | exit PID\n';

const PROTS: Readonly<Record<string, [number, string]>> = {
  none: [PROT_NONE, 'PROT_NONE'],
  r: [PROT_READ, 'PROT_READ'],
  rw: [PROT_READ + PROT_WRITE, 'PROT_READ|PROT_WRITE'],
};

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** An address or length: `0x...`, decimal, or a size with a suffix (`8K`, `2M`). */
function parseNumber(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) {
    const v = parseInt(s.slice(2), 16);
    return Number.isSafeInteger(v) ? v : undefined;
  }
  return parseQemuSize(s, 1);
}

/** `process ...` on machine `m`. */
export function processCommand(m: DemoMachine): ShellCommand {
  const procs = m.processes;
  const ps = (): number => m.hmm.pageSize;

  /** The numbers of `ctx.args[1..]`, `count` of them after the pid, or undefined (after the usage). */
  function numbers(ctx: CommandContext, count: number, exact = true, words: readonly string[] = ctx.args): number[] | undefined {
    const args = words.slice(1, 2 + count);
    if (args.length !== 1 + count || (exact && words.length !== 2 + count) || !/^[0-9]+$/.test(args[0]!)) return undefined;
    const out = [Number(args[0])];
    for (const a of args.slice(1)) {
      const v = parseNumber(a);
      if (v === undefined) return undefined;
      out.push(v);
    }
    return out;
  }

  return {
    name: 'process',
    synopsis: 'process start|list|CMD PID [ARGS]',
    summary: 'a user process: mmap, write/read, pte, mprotect, fork, pin/unpin, munmap, exit (help process: the commands)',
    topicHelp: () => USAGE,
    run(ctx): number {
      const sub = ctx.args[0];
      const usage = (): number => {
        ctx.err(USAGE);
        return 2;
      };
      /** Runs `f` for the process `pid`, turning its errors into the command's. */
      const withProcess = (pid: number, call: string, f: () => void): number => {
        if (procs.process(pid) === undefined) {
          ctx.err(`process: ${pid}: no such process\n`);
          return 1;
        }
        try {
          f();
          return 0;
        } catch (e) {
          if (e instanceof UserFaultSignal) {
            ctx.err(`process: ${call}: ${e.signal} (${e.code}) at ${hex(e.address)}\n`);
            return 1;
          }
          if (!isKernelError(e)) throw e;
          ctx.err(`process: ${call}: ${errorText(e)}\n`);
          return 1;
        }
      };
      switch (sub) {
        case 'start': {
          // numactl --membind=NODE: an MPOL_BIND task policy
          let membind: number | undefined;
          if (ctx.args.length === 3 && ctx.args[1] === '--membind' && /^[0-9]+$/.test(ctx.args[2]!)) membind = Number(ctx.args[2]);
          else if (ctx.args.length !== 1) return usage();
          const p = procs.start(membind);
          ctx.out(`pid ${p.mm.pid}: started${membind !== undefined ? `, bound to node ${membind}` : ''}\n`);
          return 0;
        }
        case 'list': {
          if (ctx.args.length !== 1) return usage();
          ctx.out('  PID  PPID VMAS   RSS PINNED\n');
          for (const p of procs.processes()) {
            const rss = (p.mm.getMmRss() * ps()) / 1024;
            const pinned = p.pins.reduce((n, pin) => n + pin.pfns.length, 0);
            ctx.out(`${String(p.mm.pid).padStart(5)} ${String(p.parent ?? '-').padStart(5)} ${String(p.mm.mapCount).padStart(4)} ${`${rss}K`.padStart(5)} ${String(pinned).padStart(6)}\n`);
          }
          return 0;
        }
        case 'mmap': {
          const n = numbers(ctx, 1, false);
          if (n === undefined || ctx.args.length > 4) return usage();
          const [pid, length] = n as [number, number];
          const what = ctx.args[3] ?? 'private';
          let how: ProcessMapping;
          let flags = 'MAP_PRIVATE|MAP_ANONYMOUS, -1';
          if (what === 'private') how = 'private';
          else if (what === 'shared') {
            how = 'shared';
            flags = 'MAP_SHARED|MAP_ANONYMOUS, -1';
          } else {
            const dev = /^\/dev\/(dax\d+\.\d+)$/.exec(what);
            const dax = dev === null ? undefined : m.nvdimm.dax.find(dev[1]!);
            if (dax === undefined) {
              ctx.err(`process: open("${what}"): No such file or directory\n`);
              return 1;
            }
            let file;
            try {
              file = m.nvdimm.dax.open(dax, 'process');
            } catch (e) {
              if (!isKernelError(e)) throw e;
              ctx.err(`process: open("${what}"): ${errorText(e)}\n`);
              return 1;
            }
            how = { file };
            flags = `MAP_SHARED, ${what}`;
          }
          return withProcess(pid, 'mmap', () => {
            const addr = procs.mmap(pid, length, how);
            ctx.out(`pid ${pid}: mmap(NULL, ${length}, PROT_READ|PROT_WRITE, ${flags}, 0) = ${hex(addr)}\n`);
          });
        }
        case 'write': {
          const n = numbers(ctx, 1, false);
          if (n === undefined || ctx.args.length < 4) return usage();
          const [pid, addr] = n as [number, number];
          const text = ctx.args.slice(3).join(' ');
          return withProcess(pid, 'write', () => {
            procs.write(pid, addr, text);
            ctx.out(`pid ${pid}: wrote ${new TextEncoder().encode(text).length} bytes at ${hex(addr)}\n`);
          });
        }
        case 'read': {
          const n = numbers(ctx, 2);
          if (n === undefined) return usage();
          const [pid, addr, length] = n as [number, number, number];
          return withProcess(pid, 'read', () => {
            const bytes = procs.read(pid, addr, length);
            // the text up to its first NUL, as a C string reads
            const end = bytes.indexOf(0);
            ctx.out(`pid ${pid}: read ${bytes.length} bytes at ${hex(addr)}: "${new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end))}"\n`);
          });
        }
        case 'pte': {
          const n = numbers(ctx, 1);
          if (n === undefined) return usage();
          const [pid, addr] = n as [number, number];
          return withProcess(pid, 'pte', () => {
            const mm = procs.process(pid)!.mm;
            const a = addr - (addr % ps());
            ctx.out(`pid ${pid}: pte of ${hex(a)}: ${mm.pgd === null ? 'pte_none' : pteText(mm.pgd.get(a))}\n`);
          });
        }
        case 'mprotect': {
          const n = numbers(ctx, 2, false);
          const prot = PROTS[ctx.args[4] ?? ''];
          if (n === undefined || ctx.args.length !== 5 || prot === undefined) return usage();
          const [pid, addr, length] = n as [number, number, number];
          return withProcess(pid, 'mprotect', () => {
            procs.mprotect(pid, addr, length, prot[0]);
            ctx.out(`pid ${pid}: mprotect(${hex(addr)}, ${length}, ${prot[1]}) = 0\n`);
          });
        }
        case 'fork': {
          const n = numbers(ctx, 0);
          if (n === undefined) return usage();
          const [pid] = n as [number];
          return withProcess(pid, 'fork', () => {
            const child = procs.fork(pid);
            ctx.out(`pid ${pid}: fork() = ${child.mm.pid}\n`);
          });
        }
        case 'pin': {
          const longterm = ctx.args[1] === '--longterm';
          const n = numbers(ctx, 2, true, longterm ? ctx.args.filter((_, i) => i !== 1) : ctx.args);
          if (n === undefined) return usage();
          const [pid, addr, length] = n as [number, number, number];
          return withProcess(pid, 'pin_user_pages', () => {
            const pin = procs.pin(pid, addr, length, longterm);
            const flags = longterm ? 'FOLL_WRITE|FOLL_LONGTERM' : 'FOLL_WRITE';
            ctx.out(`pid ${pid}: pin_user_pages(${hex(addr)}, ${pin.pfns.length}, ${flags}) = ${pin.pfns.length}: pfn ${pin.pfns.map(hex).join(' ')}\n`);
          });
        }
        case 'unpin': {
          const n = numbers(ctx, 0);
          if (n === undefined) return usage();
          const [pid] = n as [number];
          return withProcess(pid, 'unpin_user_pages', () => {
            ctx.out(`pid ${pid}: unpin_user_pages(): ${procs.unpin(pid)} pages\n`);
          });
        }
        case 'munmap': {
          const n = numbers(ctx, 2);
          if (n === undefined) return usage();
          const [pid, addr, length] = n as [number, number, number];
          return withProcess(pid, 'munmap', () => {
            procs.munmap(pid, addr, length);
            ctx.out(`pid ${pid}: munmap(${hex(addr)}, ${length}) = 0\n`);
          });
        }
        case 'exit': {
          const n = numbers(ctx, 0);
          if (n === undefined) return usage();
          const [pid] = n as [number];
          return withProcess(pid, 'exit', () => {
            procs.exit(pid);
            ctx.out(`pid ${pid}: exited\n`);
          });
        }
        default:
          return usage();
      }
    },
  };
}
