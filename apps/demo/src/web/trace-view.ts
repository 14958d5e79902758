/**
 * The trace panel's lines: the function-graph events of one command
 * (`@zonedev/kernel`'s `Tracer`, as `trace show` prints them) as a call
 * tree, each kernel function with a link to its v5.13 source on
 * elixir.bootlin.com and to the model's source that mirrors it.
 *
 * Which kernel file and which model file a function belongs to comes from
 * the kernel-symbol table (generated from the model's doc comments, the
 * same entries as docs/KERNEL-INDEX.md), made into a {@link KernelIndex} by
 * {@link traceIndex}. A function the index does not list links to elixir's
 * identifier search instead.
 *
 * Pure: events in, lines out.
 */
import type { TraceEvent } from '@zonedev/kernel';
import type { KernelSymbolRow } from '../explain/kernel-index.js';

/** Kernel function name -> `[kernel file, model file, model line]`. */
export type KernelIndex = Readonly<Record<string, readonly [string, string, number]>>;

/** The kernel release the links point into. */
export const ELIXIR = 'https://elixir.bootlin.com/linux/v5.13';
/** Where the model's sources are published. */
export const MODEL_REPO = 'https://github.com/zonedev/zonedev/blob/main';

/** One line of the panel: a call (with its return value) or a leaf call. */
export interface TraceLine {
  readonly depth: number;
  readonly name: string;
  readonly args: readonly string[];
  /** The return value (`-EBUSY` for an error); undefined for void or an unfinished call. */
  readonly result: string | undefined;
  /** Whether it called traced functions (a `{ ... }` block in `trace show`). */
  readonly hasChildren: boolean;
  /** The kernel source of the function. */
  readonly kernelUrl: string;
  /** The kernel file, when the index knows it. */
  readonly kernelFile: string | undefined;
  /** The model source that mirrors it, when the index knows it. */
  readonly modelUrl: string | undefined;
  readonly modelFile: string | undefined;
}

/** The lines of `events` (entry/exit pairs, nested by depth). */
export function traceLines(events: readonly TraceEvent[], index: KernelIndex): TraceLine[] {
  const lines: TraceLine[] = [];
  const open: { line: number; depth: number }[] = [];
  const fill = (i: number, patch: Partial<TraceLine>): void => {
    lines[i] = { ...lines[i]!, ...patch };
  };
  for (const e of events) {
    if (e.kind === 'entry') {
      const parent = open[open.length - 1];
      if (parent !== undefined && parent.depth < e.depth) fill(parent.line, { hasChildren: true });
      const hit = Object.hasOwn(index, e.name) ? index[e.name] : undefined;
      lines.push({
        depth: e.depth,
        name: e.name,
        args: e.args,
        result: undefined,
        hasChildren: false,
        kernelUrl: hit !== undefined ? `${ELIXIR}/source/${hit[0]}` : `${ELIXIR}/A/ident/${encodeURIComponent(e.name)}`,
        kernelFile: hit?.[0],
        modelUrl: hit !== undefined ? `${MODEL_REPO}/${hit[1]}#L${hit[2]}` : undefined,
        modelFile: hit !== undefined ? `${hit[1]}:${hit[2]}` : undefined,
      });
      open.push({ line: lines.length - 1, depth: e.depth });
    } else {
      // The matching entry is the innermost open call of that name and depth.
      for (let k = open.length - 1; k >= 0; k--) {
        const o = open[k]!;
        if (o.depth === e.depth && lines[o.line]!.name === e.name) {
          fill(o.line, { result: e.result });
          open.length = k;
          break;
        }
      }
    }
  }
  return lines;
}

/**
 * The panel's {@link KernelIndex} from the rows of the kernel-symbol table
 * (explain/kernel-symbols.generated.ts, the entries of docs/KERNEL-INDEX.md):
 * for each kernel function whose kernel file is named, the declaration that
 * records it in the trace, else its first declaration (the rule of
 * `KernelIndex.tracePoint()` in explain/kernel-index.ts).
 */
export function traceIndex(rows: readonly KernelSymbolRow[]): Record<string, [string, string, number]> {
  const out: Record<string, [string, string, number]> = {};
  const traced = new Set<string>();
  for (const [symbol, kind, kernelFile, isTraced, , , , path, line] of rows) {
    if (kind !== 'f' || kernelFile === '') continue;
    if (Object.hasOwn(out, symbol) && (traced.has(symbol) || isTraced === 0)) continue;
    out[symbol] = [kernelFile, path, line];
    if (isTraced === 1) traced.add(symbol);
  }
  return out;
}
