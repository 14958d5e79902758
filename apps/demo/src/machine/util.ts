/**
 * Small helpers the machine code shares: the kernel's number formats and
 * the error a boot that cannot go on throws.
 */

/** A boot that failed the way the kernel would stop (a panic). */
export class BootError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BootError';
  }
}

/** `%#010llx`: `0x` and at least 8 hex digits. */
export function hex10(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** `%#018llx`: `0x` and at least 16 hex digits. */
export function hex18(n: number): string {
  return `0x${n.toString(16).padStart(16, '0')}`;
}

/** `%#lx`: `0x` and the hex digits (`0` for zero, as printf's `#` flag does). */
export function hex(n: number): string {
  return n === 0 ? '0' : `0x${n.toString(16)}`;
}

/** `%llx`. */
export function hexRaw(n: number): string {
  return n.toString(16);
}

/** A size as the demo's explanations write it: `128 MiB`, `2 GiB`, `64 KiB`. */
export function sizeText(bytes: number): string {
  const units: readonly [number, string][] = [
    [2 ** 40, 'TiB'],
    [2 ** 30, 'GiB'],
    [2 ** 20, 'MiB'],
    [2 ** 10, 'KiB'],
  ];
  for (const [u, name] of units) {
    if (bytes >= u && bytes % u === 0) return `${bytes / u} ${name}`;
  }
  for (const [u, name] of units) {
    if (bytes >= u) return `${(bytes / u).toFixed(1)} ${name}`;
  }
  return `${bytes} B`;
}

/** Wraps `text` at `width` columns, `indent` before each line; a word longer than a line stays whole. */
export function wrap(text: string, width: number = 78, indent: string = '  '): string {
  const lines: string[] = [];
  let cur = '';
  for (const word of text.split(' ')) {
    if (cur !== '' && indent.length + cur.length + 1 + word.length > width) {
      lines.push(indent + cur);
      cur = word;
    } else {
      cur = cur === '' ? word : `${cur} ${word}`;
    }
  }
  if (cur !== '') lines.push(indent + cur);
  return `${lines.join('\n')}\n`;
}
