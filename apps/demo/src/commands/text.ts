/**
 * Text helpers of the demo's explanations (the tour, `memremap`, the page
 * inspectors): sizes in binary units and paragraphs wrapped to the terminal.
 */

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
