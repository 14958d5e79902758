#!/usr/bin/env node
// Count the exported symbols in each package's committed API report.
//
// A reviewer tool: `node tools/repo-checks/scripts/api-symbol-count.mjs`
// reads packages/*/etc/*.api.md (the reports api-extractor writes and CI
// compares against) and prints, per package, how many top-level symbols the
// package exports, split by kind, and how many members its classes and
// interfaces declare. Compare two checkouts' output to see how an API change
// moved the surface.
//
//   --json   print the counts as JSON instead of a table
//
// A top-level symbol is a declaration that starts a line of the report's
// code block: `export function f(`, `export class C`, `export const X`,
// `export { Y }` (a re-export of another package's symbol under this
// package's name) and so on. Members are the lines one indentation level
// inside a class or interface body that declare something (a property, a
// method, an accessor, a constructor); the report's `// (undocumented)`
// comment lines are not members.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');

const KINDS = ['function', 'class', 'interface', 'type', 'const', 'enum', 'namespace', 're-export'];

/** Parse one report's text into per-kind counts and the member count. */
export function countReport(text) {
  const start = text.indexOf('```ts');
  const end = text.lastIndexOf('```');
  const body = start >= 0 && end > start ? text.slice(start + 5, end) : text;
  const counts = Object.fromEntries(KINDS.map((k) => [k, 0]));
  const names = [];
  let members = 0;
  let inBody = false;
  for (const line of body.split('\n')) {
    const top = /^export (?:declare )?(?:abstract )?(function|class|interface|type|const|let|var|enum|namespace) ([A-Za-z_$][\w$]*)/.exec(line);
    if (top) {
      const kind = top[1] === 'let' || top[1] === 'var' ? 'const' : top[1];
      counts[kind] += 1;
      names.push(top[2]);
      inBody = (kind === 'class' || kind === 'interface') && line.trimEnd().endsWith('{');
      continue;
    }
    const re = /^export \{\s*([^}]+?)\s*\}/.exec(line);
    if (re) {
      for (const n of re[1].split(',')) {
        counts['re-export'] += 1;
        names.push(n.trim().split(/\s+as\s+/).pop());
      }
      inBody = false;
      continue;
    }
    if (line.startsWith('}')) {
      inBody = false;
      continue;
    }
    if (inBody && /^ {4}\S/.test(line) && !/^ {4}\/\//.test(line)) members += 1;
  }
  const total = KINDS.reduce((s, k) => s + counts[k], 0);
  return { total, counts, members, names };
}

function main() {
  const pkgRoot = join(root, 'packages');
  const rows = [];
  for (const dir of readdirSync(pkgRoot).sort()) {
    const etc = join(pkgRoot, dir, 'etc');
    if (!existsSync(etc)) continue;
    for (const f of readdirSync(etc).filter((n) => n.endsWith('.api.md')).sort()) {
      const r = countReport(readFileSync(join(etc, f), 'utf8'));
      rows.push({ package: f.replace(/\.api\.md$/, ''), ...r });
    }
  }
  if (process.argv.includes('--json')) {
    const out = Object.fromEntries(rows.map((r) => [r.package, { total: r.total, ...r.counts, members: r.members }]));
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const shown = KINDS.filter((k) => rows.some((r) => r.counts[k] > 0));
  const head = ['package', 'total', ...shown, 'members'];
  const table = rows.map((r) => [r.package, r.total, ...shown.map((k) => r.counts[k]), r.members].map(String));
  const sum = (i) => table.reduce((s, row) => s + Number(row[i]), 0);
  table.push(['(all)', ...head.slice(1).map((_, i) => String(sum(i + 1)))]);
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const fmt = (row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  process.stdout.write(`${[fmt(head), ...table.map(fmt)].join('\n')}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
