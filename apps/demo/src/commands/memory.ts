/**
 * Small tools that put data in memory and read it back: a kernel page that
 * hot-remove cannot move, and physical memory read and written directly.
 * (Memory that can move is a process's: see the `process` commands.)
 *
 * ```
 *   memalloc [-n NODE] NAME [TEXT...]        a driver's page (GFP_KERNEL, on NODE
 *                                            only with -n): unmovable; TEXT in it
 *   memread [NAME]                           where the page is, and its text
 *                                            (all pages without NAME)
 *   memfree NAME                             give the page back
 *   devmem ADDRESS [WIDTH [VALUE]]           busybox devmem: read or write 8/16/32/64
 *                                            bits of physical memory (as with
 *                                            CONFIG_STRICT_DEVMEM=n)
 * ```
 *
 * The first three are the demo's own (on a real system: a driver holding a
 * page); `devmem` is busybox's, little-endian.
 */
import { errorText } from '../shell/builtins.js';
import type { ShellCommand } from '../shell/command.js';
import type { NamedPage } from '@zonedev/platform';
import type { Machine as DemoMachine } from '@zonedev/platform';

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** `NAME: kernel page at pfn 0x... (phys 0x...), node N, zone Z`. */
function where(m: DemoMachine, p: NamedPage): string {
  const zone = m.mm.pageZone(p.pfn);
  return `${p.name}: kernel page at pfn ${hex(p.pfn)} (phys ${hex(p.pfn * m.mm.config.pageSize)}), node ${zone.node}, zone ${zone.name}`;
}

/** Parses `-n NODE`; returns the operands or a usage message. */
function parseAllocArgs(args: readonly string[]): { nid: number | undefined; rest: string[] } | string {
  let nid: number | undefined;
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-n') {
      const v = args[++i];
      if (v === undefined || !/^[0-9]+$/.test(v)) return 'memalloc: -n needs a node number';
      nid = Number(v);
    } else if (a === '--') {
      i++;
      break;
    } else if (a.startsWith('-') && a !== '-') return `memalloc: unknown option '${a}'`;
    else break;
  }
  return { nid, rest: args.slice(i) };
}

/**
 * busybox `devmem`'s number parsing (`bb_strtoull(s, NULL, 0)`, libbb
 * bb_strtonum.c): undefined where it sets errno — junk (EINVAL) or a value
 * of 2^64 or more (ERANGE).
 */
function parseNum(s: string): bigint | undefined {
  let v: bigint | undefined;
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) v = BigInt(s);
  else if (/^0[0-7]*$/.test(s)) v = s === '0' ? 0n : BigInt(`0o${s.slice(1)}`);
  else if (/^[1-9][0-9]*$/.test(s)) v = BigInt(s);
  return v === undefined || v >= 2n ** 64n ? undefined : v;
}

/** The memory tools of machine `m`. */
export function memoryCommands(m: DemoMachine): ShellCommand[] {
  const pages = m.kernelPages;
  return [
    {
      name: 'memalloc',
      synopsis: 'memalloc [-n NODE] NAME [TEXT]',
      summary: "take a driver's page (GFP_KERNEL: unmovable) and write TEXT into it",
      run(ctx): number {
        const a = parseAllocArgs(ctx.args);
        if (typeof a === 'string' || a.rest.length === 0) {
          ctx.err(`${typeof a === 'string' ? `${a}\n` : ''}usage: memalloc [-n NODE] NAME [TEXT...]\n`);
          return 2;
        }
        const [name, ...words] = a.rest;
        try {
          if (a.nid !== undefined && m.mm.nodeData(a.nid) === undefined) {
            ctx.err(`memalloc: node ${a.nid}: No such device\n`);
            return 1;
          }
          const p = pages.alloc(name!, a.nid);
          if (words.length > 0) pages.write(p, words.join(' '));
          ctx.out(`${where(m, p)}\n`);
          return 0;
        } catch (e) {
          ctx.err(`memalloc: ${name!}: ${errorText(e)}\n`);
          return 1;
        }
      },
    },
    {
      name: 'memread',
      synopsis: 'memread [NAME]',
      summary: 'show where a memalloc page is and its text',
      run(ctx): number {
        const list = ctx.args.length === 0 ? pages.list() : ctx.args.map((n) => pages.get(n) ?? n);
        let status = 0;
        for (const p of list) {
          if (typeof p === 'string') {
            ctx.err(`memread: ${p}: No such file or directory\n`);
            status = 1;
            continue;
          }
          ctx.out(`${where(m, p)}: "${pages.read(p)}"\n`);
        }
        return status;
      },
    },
    {
      name: 'memfree',
      synopsis: 'memfree NAME...',
      summary: 'free memalloc pages',
      run(ctx): number {
        let status = 0;
        for (const n of ctx.args) {
          try {
            pages.free(n);
          } catch (e) {
            ctx.err(`memfree: ${n}: ${errorText(e)}\n`);
            status = 1;
          }
        }
        return status;
      },
    },
    {
      name: 'devmem',
      synopsis: 'devmem ADDRESS [WIDTH [VALUE]]',
      summary: 'read/write physical memory (busybox devmem; WIDTH 8, 16, 32 or 64 bits)',
      run(ctx): number {
        const [addrS, widthS, valueS] = ctx.args;
        const usage = (): number => {
          ctx.err('BusyBox v1.33.1 multi-call binary.\n\nUsage: devmem ADDRESS [WIDTH [VALUE]]\n\nRead/write from physical address\n\n\tADDRESS\tAddress to act upon\n\tWIDTH\tWidth (8/16/...)\n\tVALUE\tData to be written\n');
          return 1;
        };
        if (addrS === undefined || ctx.args.length > 3) return usage();
        // busybox parses in this order: ADDRESS and VALUE with bb_strtoull()
        // (a failure only sets errno), WIDTH with xatou() (which dies at
        // once), then shows its usage if errno was set; "bad width" comes
        // only when the access is made.
        const addr = parseNum(addrS);
        let width = 32;
        if (widthS !== undefined) {
          if (/^[0-9]/.test(widthS) || widthS.length > 1) {
            if (!/^[0-9]+$/.test(widthS)) {
              ctx.err(`devmem: invalid number '${widthS}'\n`);
              return 1;
            }
            width = Number(widthS);
            if (width > 0xffffffff) {
              ctx.err(`devmem: number ${widthS} is not in 0..4294967295 range\n`);
              return 1;
            }
          } else {
            // One letter: b, h, w or l (any case) for 8, 16, 32 or 64 bits; any other is 0.
            width = { b: 8, h: 16, w: 32, l: 64 }[widthS.toLowerCase()] ?? 0;
          }
        }
        const value = valueS === undefined ? undefined : parseNum(valueS);
        if (addr === undefined || (valueS !== undefined && value === undefined)) return usage();
        const bytes = Math.max(1, Math.ceil(width / 8));
        const a = Number(addr);
        if (a + bytes > 2 ** m.profile.maxPhysmemBits) {
          ctx.err('devmem: mmap: Invalid argument\n');
          return 1;
        }
        if (![8, 16, 32, 64].includes(width)) {
          ctx.err('devmem: bad width\n');
          return 1;
        }
        const physmem = m.mm.physmem;
        if (value === undefined) {
          const data = physmem.read(a, bytes);
          let v = 0n;
          for (let i = bytes - 1; i >= 0; i--) v = v * 256n + BigInt(data[i]!);
          ctx.out(`0x${v.toString(16).toUpperCase().padStart(bytes * 2, '0')}\n`);
          return 0;
        }
        const data = new Uint8Array(bytes);
        let v = value;
        for (let i = 0; i < bytes; i++) {
          data[i] = Number(v % 256n);
          v /= 256n;
        }
        physmem.write(a, data);
        return 0;
      },
    },
  ];
}
