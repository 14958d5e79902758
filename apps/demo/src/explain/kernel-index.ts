/**
 * The kernel-symbol index, as the shell reads it.
 *
 * Every model declaration whose doc comment names the Linux v5.13 function
 * or struct it mirrors (and every function-graph trace point, which is a
 * kernel function by definition) is one entry: the kernel symbol, its kernel
 * file, and where the model has it — package, export, declaration, source
 * file and line. docs/KERNEL-INDEX.md is the same list for a reader;
 * tools/repo-checks/scripts/kernel-index.mjs writes both from the doc
 * comments, and a repository check fails when either is stale. The entries
 * come in as a generated module (kernel-symbols.generated.ts), so that the
 * demo needs no file at run time and runs the same bundled or in a browser.
 *
 * ```
 *   where __add_pages        every model declaration of a kernel symbol
 *   explain on               after each command, its dmesg lines and the
 *                            kernel functions that decided (explain.ts)
 * ```
 */
import { KERNEL_SYMBOL_ROWS } from './kernel-symbols.generated.js';

/**
 * One generated row: kernel symbol, kind (`f` function, `s` struct), kernel
 * file (empty: no comment names one), traced (1: the declaration is its
 * function-graph trace point), package, export (empty: internal),
 * declaration (`Class.method`), model source path, line.
 */
export type KernelSymbolRow = readonly [
  symbol: string,
  kind: 'f' | 's',
  kernelFile: string,
  traced: 0 | 1,
  pkg: string,
  exportName: string,
  declaration: string,
  path: string,
  line: number,
];

/** One entry of the index. */
export interface KernelSymbolEntry {
  /** The kernel's name: `__add_pages`, `dev_pagemap`. */
  readonly symbol: string;
  readonly kind: 'function' | 'struct';
  /** The v5.13 file that defines it (`mm/memory_hotplug.c`); undefined if no comment names one. */
  readonly kernelFile: string | undefined;
  /** Whether this declaration records the function in the function-graph trace. */
  readonly traced: boolean;
  /** `@zonedev/memory-hotplug`. */
  readonly pkg: string;
  /** The public name (`MemoryHotplug.__addPages`); undefined for a declaration internal to its package. */
  readonly exportName: string | undefined;
  /** The declaration in its file (`MemoryHotplug.__addPages`). */
  readonly declaration: string;
  /** Model source file, from the repository's root. */
  readonly path: string;
  readonly line: number;
}

/** The elixir.bootlin.com page of a v5.13 kernel file. */
export function elixirUrl(kernelFile: string): string {
  return `https://elixir.bootlin.com/linux/v5.13/source/${kernelFile}`;
}

/** The entries of `rows`, as objects. */
export function decodeRows(rows: readonly KernelSymbolRow[]): KernelSymbolEntry[] {
  return rows.map(([symbol, kind, kernelFile, traced, pkg, exportName, declaration, path, line]) => ({
    symbol,
    kind: kind === 's' ? 'struct' : 'function',
    kernelFile: kernelFile === '' ? undefined : kernelFile,
    traced: traced === 1,
    pkg,
    exportName: exportName === '' ? undefined : exportName,
    declaration,
    path,
    line,
  }));
}

/**
 * A lookup over index entries: by kernel symbol, and the trace point of a
 * traced kernel function. Built once per shell that asks (no module state).
 */
export class KernelIndex {
  private readonly bySymbol = new Map<string, KernelSymbolEntry[]>();

  constructor(entries: readonly KernelSymbolEntry[] = decodeRows(KERNEL_SYMBOL_ROWS)) {
    for (const e of entries) {
      const key = `${e.kind} ${e.symbol}`;
      const list = this.bySymbol.get(key);
      if (list === undefined) this.bySymbol.set(key, [e]);
      else list.push(e);
    }
  }

  /** Every entry of function `name` (or of `struct name` when `kind` says so), in index order. */
  lookup(name: string, kind: 'function' | 'struct' = 'function'): readonly KernelSymbolEntry[] {
    return this.bySymbol.get(`${kind} ${name}`) ?? [];
  }

  /**
   * The declaration that records kernel function `name` in the trace (the
   * first, if several do), else its first entry; undefined if the index has
   * no such function.
   */
  tracePoint(name: string): KernelSymbolEntry | undefined {
    const all = this.lookup(name);
    return all.find((e) => e.traced) ?? all[0];
  }
}

/**
 * One entry as `where` prints it: "`__add_pages` → @zonedev/memory-hotplug
 * MemoryHotplug.__addPages, packages/memory-hotplug/src/memory-hotplug.ts:531;
 * kernel mm/memory_hotplug.c". An internal declaration is named by its
 * declaration, with "(internal)".
 */
export function entryText(e: KernelSymbolEntry): string {
  const name = e.kind === 'struct' ? `struct ${e.symbol}` : e.symbol;
  const what = e.exportName ?? `${e.declaration} (internal)`;
  return `\`${name}\` → ${e.pkg} ${what}, ${e.path}:${e.line}; kernel ${e.kernelFile ?? '(file not named)'}`;
}
