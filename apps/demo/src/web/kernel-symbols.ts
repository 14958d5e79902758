/**
 * The kernel-symbol table (explain/kernel-symbols.generated.ts: every model
 * declaration that names the v5.13 function or struct it mirrors) as a chunk
 * of the web app that is loaded after the page, not with it: it is the
 * largest piece of data in the bundle and nothing needs it for the first
 * picture.
 *
 * The shell's `where` and `explain` read the table through
 * explain/kernel-index.ts; in the browser bundle, scripts/build-web.mjs
 * resolves that module's import of the generated table to this module, so
 * they read {@link KERNEL_SYMBOL_ROWS} here. It holds the generated constant
 * once {@link loadKernelSymbols} resolved, and nothing else, ever; the page
 * waits for that before it runs any command, so a shell never sees it empty.
 * Outside the browser bundle (the CLI, the tests) this module is not in the
 * import graph of the shell at all.
 */
import type { KernelSymbolRow } from '../explain/kernel-index.js';

/** The generated rows once {@link loadKernelSymbols} resolved; empty before. */
export let KERNEL_SYMBOL_ROWS: readonly KernelSymbolRow[] = [];

/** Loads the table's chunk; resolves with its rows (the same rows every time). */
export async function loadKernelSymbols(): Promise<readonly KernelSymbolRow[]> {
  const generated = await import('../explain/kernel-symbols.generated.js');
  KERNEL_SYMBOL_ROWS = generated.KERNEL_SYMBOL_ROWS;
  return KERNEL_SYMBOL_ROWS;
}
