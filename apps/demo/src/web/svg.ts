/**
 * SVG markup of a {@link MapLayout}: one `<rect>` per rectangle, with its
 * `data-*` attributes (what the page's hover and click handlers read, and
 * what the browser tests query), a `<title>` tooltip, a hatch pattern for
 * memmaps that live in an altmap, and dashes for offline memory.
 *
 * Pure string building, so that it runs (and is measured) without a
 * browser; the page puts the string into the document.
 */
import type { MapLayout, MapRect } from './layout.js';

/** Escapes text for XML content and attribute values. */
export function xmlEscape(text: string): string {
  if (!SPECIAL.test(text)) return text;
  return text.replace(SPECIALS, (c) => ENTITIES[c]!);
}

const SPECIAL = /[&<>"']/;
const SPECIALS = /[&<>"']/g;
const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

const n = (v: number): string => (Math.round(v * 100) / 100).toString();

/** The `<rect>` (and its label) of one rectangle. */
export function rectMarkup(r: MapRect): string {
  const data = Object.entries(r.data)
    .map(([k, v]) => ` data-${k}="${xmlEscape(v)}"`)
    .join('');
  const fill = r.hatch ? 'url(#altmap-hatch)' : r.fill;
  const stroke = r.kind === 'hole' ? '' : ` stroke="${r.dashed ? '#546e7a' : '#37474f'}" stroke-width="0.5"${r.dashed ? ' stroke-dasharray="3 2"' : ''}`;
  let out = `<g class="r ${r.kind}"${data}><rect x="${n(r.x)}" y="${n(r.y)}" width="${n(r.w)}" height="${n(r.h)}" fill="${fill}"${stroke}/>`;
  // A label is drawn when about 6 px per character fit.
  if (r.label !== '' && r.w >= r.label.length * 6 + 4) {
    const ty = r.kind === 'hole' ? r.y + r.h / 2 : r.y + r.h / 2 + 4;
    out += `<text x="${n(r.x + r.w / 2)}" y="${n(ty)}" text-anchor="middle"${r.kind === 'hole' ? ' class="hole-label"' : ''}>${xmlEscape(r.label)}</text>`;
  }
  out += `<title>${xmlEscape(r.title)}</title></g>`;
  return out;
}

/** The whole map as an `<svg>` element's markup. */
export function renderSvg(layout: MapLayout): string {
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="memory-map" width="${layout.width}" height="${layout.height}" viewBox="0 0 ${layout.width} ${layout.height}" data-view-start="${layout.view.start}" data-view-end="${layout.view.end}">`,
  );
  parts.push(
    '<defs><pattern id="altmap-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">' +
      '<rect width="6" height="6" fill="#ffb300"/><line x1="0" y1="0" x2="0" y2="6" stroke="#6d4c41" stroke-width="2"/></pattern></defs>',
  );
  for (const l of layout.lanes) {
    parts.push(`<text class="lane-label" x="4" y="${n(l.y + l.h / 2 + 4)}">${xmlEscape(l.label)}</text>`);
  }
  for (const r of layout.rects) parts.push(rectMarkup(r));
  for (const t of layout.ticks) {
    parts.push(`<text class="tick" x="${n(t.x)}" y="12" text-anchor="${t.anchor}">${xmlEscape(t.label)}</text>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

/** The same number of plain rectangles, for the benchmark's baseline. */
export function plainRectsSvg(count: number, width: number): string {
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="40">`];
  for (let i = 0; i < count; i++) parts.push(`<rect x="${n((i * width) / count)}" y="0" width="${n(width / count)}" height="40" fill="#42a5f5"/>`);
  parts.push('</svg>');
  return parts.join('');
}
