#!/usr/bin/env node
// Writes docs/KERNEL-INDEX.md: for every Linux v5.13 file the model mirrors,
// the kernel functions and structs it has, and where (package, export, model
// file:line). The data comes from the sources' own doc comments, which name
// the kernel function a declaration mirrors as `name()` (or `name(args)`),
// a struct as `struct name`, and the kernel file as a path such as
// mm/memory_hotplug.c; and from the function-graph trace points
// (`tracer.invoke('name', ...)`, `tracer.call('name', ...)`,
// `this.traced(t, 'name', ...)`, `traceMethod(proto, 'method', 'name', ...)`), each of which
// is a kernel function by definition.
//
// A declaration mirrors the symbols its doc comment starts with
// ("`__add_pages(nid, pfn, nr_pages, params)`: adds ...") and those of any
// sentence that says "mirrors"; other names in the comment are references
// and are not indexed. The kernel file of a symbol is the path named in the
// same sentence, else in the same comment, else in the comment of the
// enclosing class, else where another declaration of the same symbol names
// it, else where its traced declaration is filed, else in the `// --- file` group of the package's src/index.ts that
// exports it, else in the essay at the top of its source file.
//
//   node tools/repo-checks/scripts/kernel-index.mjs            rewrite docs/KERNEL-INDEX.md and the
//                                                              demo's copy of the entries
//   node tools/repo-checks/scripts/kernel-index.mjs --stdout   print the Markdown instead
//   node tools/repo-checks/scripts/kernel-index.mjs --module   print the demo's module instead
//
// The demo's `where` and `explain` commands answer from the same entries: the
// first form also writes them as a TypeScript module,
// apps/demo/src/explain/kernel-symbols.generated.ts, which a bundler takes in
// like any other source (and which works in the browser: no file is read at
// run time). (`pnpm docs:index` runs the first form.)
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const OUTPUT = 'docs/KERNEL-INDEX.md';
const MODULE_OUTPUT = 'apps/demo/src/explain/kernel-symbols.generated.ts';
const ELIXIR = 'https://elixir.bootlin.com/linux/v5.13';

// Top-level directories of the kernel tree: a path in a comment that starts
// with one of them and ends in .c or .h is a kernel file.
const KERNEL_DIRS = ['arch', 'block', 'crypto', 'drivers', 'fs', 'include', 'init', 'ipc', 'kernel', 'lib', 'mm', 'net', 'samples', 'security', 'sound', 'tools', 'virt'];
const FILE_RE = new RegExp(`(?<![\\w/.-])((?:${KERNEL_DIRS.join('|')})/[\\w./-]*\\w\\.[ch])(?![\\w])`, 'g');
const FUNC_RE = /`(?:[\w.]+->)?([A-Za-z_]\w*)\([^`]*\)`/g;
const STRUCT_RE = /`struct ([A-Za-z_]\w*)`/g;
const TRACE_RE = /\.(?:invoke|call)\(\s*'([A-Za-z_]\w*)'|\.traced\(\s*\w+,\s*'([A-Za-z_]\w*)'/g;
/** `traceMethod(proto, 'method', 'kernel_name', ...)` (kernel/trace.ts): the method is traced as the kernel function. */
const TRACE_METHOD_RE = /\btraceMethod\(\s*[\w.]+,\s*'([A-Za-z_$][\w$]*)',\s*'([A-Za-z_]\w*)'/g;

/** Files of `dir` (recursively) ending in .ts, sorted. */
function tsFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The text of a `/** ... *\/` comment without its delimiters and leading stars. */
function commentText(raw) {
  return raw
    .replace(/^\/\*\*/, '')
    .replace(/\*\/$/, '')
    .split('\n')
    .map((l) => l.replace(/^\s*\* ?/, ''))
    .join('\n')
    .trim();
}

/** Kernel file paths named in `text`, in order, without repeats. */
function filesIn(text) {
  return [...new Set([...text.matchAll(FILE_RE)].map((m) => m[1]))];
}

/** Sentences of a comment (split at ". " and blank lines), each with its files. */
function sentences(text) {
  return text
    .replace(/```[\s\S]*?```/g, ' ')
    .split(/(?<=[.;:])\s+(?=[A-Z`(])|\n\s*\n/)
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter((s) => s !== '');
}

/**
 * The kernel symbols a doc comment says its declaration mirrors, each with
 * the kernel file the comment names for it (undefined: none).
 */
function mirroredSymbols(text) {
  const found = [];
  const all = sentences(text);
  const commentFiles = filesIn(text);
  const add = (name, kind, sentence) => {
    if (found.some((f) => f.name === name && f.kind === kind)) return;
    const here = filesIn(sentence);
    const file = here[0] ?? commentFiles[0];
    found.push({ name, kind, file, source: here[0] !== undefined ? 'sentence' : file !== undefined ? 'comment' : undefined });
  };
  const lead = /^`(?:struct ([A-Za-z_]\w*)|(?:[\w.]+->)?([A-Za-z_]\w*)\([^`]*\))`/.exec(text);
  if (lead !== null) add(lead[1] ?? lead[2], lead[1] !== undefined ? 'struct' : 'function', all[0] ?? '');
  for (const s of all) {
    if (!/\bmirror(s|ed|ing)?\b/i.test(s)) continue;
    for (const m of s.matchAll(FUNC_RE)) add(m[1], 'function', s);
    for (const m of s.matchAll(STRUCT_RE)) add(m[1], 'struct', s);
  }
  return found;
}

/** `export { a, b as c } from './x.js'` of src/index.ts: local file+name -> exported name and group files. */
function readExports(pkgDir) {
  const indexPath = join(pkgDir, 'src/index.ts');
  const exports = new Map();
  let text;
  try {
    text = readFileSync(indexPath, 'utf8');
  } catch {
    return exports;
  }
  const sf = ts.createSourceFile(indexPath, text, ts.ScriptTarget.Latest, true);
  let group = [];
  for (const st of sf.statements) {
    for (const c of ts.getLeadingCommentRanges(text, st.getFullStart()) ?? []) {
      const line = text.slice(c.pos, c.end);
      if (/^\/\/ ---/.test(line)) group = filesIn(line);
    }
    if (!ts.isExportDeclaration(st) || st.moduleSpecifier === undefined || !ts.isStringLiteral(st.moduleSpecifier)) continue;
    if (st.exportClause === undefined || !ts.isNamedExports(st.exportClause)) continue;
    const target = resolve(pkgDir, 'src', st.moduleSpecifier.text.replace(/\.js$/, '.ts'));
    for (const el of st.exportClause.elements) {
      const local = (el.propertyName ?? el.name).text;
      exports.set(`${target}#${local}`, { name: el.name.text, group });
    }
  }
  return exports;
}

/** The last `/** *\/` comment right before `node`, as text (undefined: none). */
function docComment(text, node) {
  const ranges = ts.getLeadingCommentRanges(text, node.getFullStart()) ?? [];
  const last = ranges[ranges.length - 1];
  if (last === undefined) return undefined;
  const raw = text.slice(last.pos, last.end);
  return raw.startsWith('/**') ? commentText(raw) : undefined;
}

/** The declared name of a node, if it has a simple one. */
function declName(node) {
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const n = node.name;
  if (n === undefined) return undefined;
  if (ts.isIdentifier(n) || ts.isPrivateIdentifier(n) || ts.isStringLiteral(n)) return n.text;
  return undefined;
}

/** Every declaration of one source file with its doc comment and trace points. */
function scanFile(path, text) {
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const decls = [];
  /** Methods this file traces with traceMethod(): method name -> kernel function. */
  const tracedMethods = new Map([...text.matchAll(TRACE_METHOD_RE)].map((m) => [m[1], m[2]]));
  const header = (() => {
    const first = ts.getLeadingCommentRanges(text, 0)?.[0];
    return first === undefined ? [] : filesIn(text.slice(first.pos, first.end));
  })();
  const visit = (node, container) => {
    let name;
    let target = node;
    if (ts.isVariableStatement(node)) {
      const d = node.declarationList.declarations[0];
      name = d !== undefined && ts.isIdentifier(d.name) ? d.name.text : undefined;
    } else if (
      ts.isFunctionDeclaration(node) ||
      ts.isClassDeclaration(node) ||
      ts.isInterfaceDeclaration(node) ||
      ts.isTypeAliasDeclaration(node) ||
      ts.isEnumDeclaration(node) ||
      ts.isMethodDeclaration(node) ||
      ts.isPropertyDeclaration(node) ||
      ts.isGetAccessorDeclaration(node) ||
      ts.isSetAccessorDeclaration(node) ||
      ts.isConstructorDeclaration(node) ||
      ts.isMethodSignature(node) ||
      ts.isPropertySignature(node)
    ) {
      name = declName(node);
    } else {
      return;
    }
    if (name === undefined) return;
    const doc = docComment(text, target);
    const body = text.slice(node.getStart(sf), node.end);
    const isContainer = ts.isClassDeclaration(node) || ts.isInterfaceDeclaration(node);
    const traced = isContainer ? [] : [...new Set([...body.matchAll(TRACE_RE)].map((m) => m[1] ?? m[2]))];
    if (ts.isMethodDeclaration(node) && container !== undefined && tracedMethods.has(name) && !traced.includes(tracedMethods.get(name))) {
      traced.push(tracedMethods.get(name));
    }
    const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
    const decl = {
      name,
      container,
      line,
      doc,
      traced,
      isPrivate:
        (ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.PrivateKeyword)) ||
        (node.name !== undefined && ts.isPrivateIdentifier(node.name)),
    };
    decls.push(decl);
    if (isContainer) for (const m of node.members) visit(m, decl);
  };
  for (const st of sf.statements) visit(st, undefined);
  return { decls, header };
}

/** The index entries of the whole repository: one per (kernel symbol, model declaration). */
export function collectEntries(root = ROOT) {
  const entries = [];
  const pkgsDir = join(root, 'packages');
  for (const pkg of readdirSync(pkgsDir).sort()) {
    const pkgDir = join(pkgsDir, pkg);
    let pkgName;
    try {
      pkgName = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).name;
    } catch {
      continue;
    }
    const exports = readExports(pkgDir);
    let files;
    try {
      files = tsFiles(join(pkgDir, 'src'));
    } catch {
      continue;
    }
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      const { decls, header } = scanFile(file, text);
      const rel = relative(root, file).split('\\').join('/');
      for (const d of decls) {
        const top = d.container ?? d;
        const exp = exports.get(`${file}#${top.name}`);
        const exportName = exp === undefined || d.isPrivate ? undefined : d.container === undefined ? exp.name : `${exp.name}.${d.name}`;
        const fallback = [...(d.container?.doc !== undefined ? filesIn(d.container.doc) : []), ...(exp?.group ?? []), ...header];
        const symbols = d.doc === undefined ? [] : mirroredSymbols(d.doc);
        for (const t of d.traced) if (!symbols.some((s) => s.name === t && s.kind === 'function')) symbols.push({ name: t, kind: 'function', file: undefined, source: undefined });
        for (const s of symbols) {
          const where = d.container === undefined ? d.name : `${d.container.name}.${d.name}`;
          entries.push({
            symbol: s.name,
            kind: s.kind,
            kernelFile: s.file ?? fallback[0],
            fileSource: s.source ?? 'fallback',
            traced: d.traced.includes(s.name),
            pkg: pkgName,
            exportName,
            declaration: where,
            path: rel,
            line: d.line,
          });
        }
      }
    }
  }
  // A symbol whose file no comment of its own names (an interface method,
  // say) lives where the other declarations of that symbol say it lives...
  const named = new Map();
  for (const source of ['sentence', 'comment']) {
    for (const e of entries) {
      if (e.fileSource !== source || named.has(`${e.kind} ${e.symbol}`)) continue;
      const files = entries.filter((x) => x.fileSource === source && x.kind === e.kind && x.symbol === e.symbol).map((x) => x.kernelFile);
      const counts = new Map();
      for (const f of files) counts.set(f, (counts.get(f) ?? 0) + 1);
      const best = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0][0];
      named.set(`${e.kind} ${e.symbol}`, best);
    }
  }
  // ... or where its trace point is: that declaration is the implementation.
  for (const e of entries) {
    const k = `${e.kind} ${e.symbol}`;
    if (e.traced && !named.has(k) && e.kernelFile !== undefined) named.set(k, e.kernelFile);
  }
  for (const e of entries) {
    if (e.fileSource === 'fallback' && named.has(`${e.kind} ${e.symbol}`)) e.kernelFile = named.get(`${e.kind} ${e.symbol}`);
  }
  return entries;
}

const code = (s) => `\`${s}\``;
const escape = (s) => s.replace(/\|/g, '\\|');

/** The Markdown of docs/KERNEL-INDEX.md. */
export function renderIndex(entries) {
  const byFile = new Map();
  for (const e of entries) {
    const k = e.kernelFile ?? '';
    if (!byFile.has(k)) byFile.set(k, []);
    byFile.get(k).push(e);
  }
  const files = [...byFile.keys()].sort((a, b) => (a === '' ? 1 : b === '' ? -1 : a < b ? -1 : a > b ? 1 : 0));
  const symbols = new Set(entries.map((e) => `${e.kind} ${e.symbol}`));
  const out = [];
  out.push('# Kernel symbol index');
  out.push('');
  out.push('<!-- Generated by tools/repo-checks/scripts/kernel-index.mjs (`pnpm docs:index`) from the doc comments of packages/*/src. Do not edit. -->');
  out.push('');
  out.push(
    'Where the model has each Linux v5.13 function and struct: for every kernel file, the kernel symbols a declaration ' +
      'of the model mirrors (its doc comment names them, or it is a function-graph trace point), the package, the ' +
      'exported symbol (blank: internal to the package) and the model source line. Kernel links go to ' +
      'elixir.bootlin.com, v5.13. Traced functions (marked ⏱) appear in `trace show` under their kernel name.',
  );
  out.push('');
  out.push(`${files.filter((f) => f !== '').length} kernel files, ${symbols.size} kernel symbols, ${entries.length} entries.`);
  out.push('');
  for (const f of files) out.push(f === '' ? '- [kernel file not named](#kernel-file-not-named)' : `- [${f}](#${f.replace(/[^\w -]/g, '').replace(/ /g, '-').toLowerCase()})`);
  for (const f of files) {
    out.push('');
    out.push(f === '' ? '## kernel file not named' : `## ${f}`);
    out.push('');
    if (f !== '') {
      out.push(`Source: [${f}](${ELIXIR}/source/${f})`);
      out.push('');
    }
    out.push('| kernel symbol | package | export | model |');
    out.push('|---|---|---|---|');
    const rows = byFile
      .get(f)
      .slice()
      .sort((a, b) => {
        const ka = [a.symbol.replace(/^_+/, ''), a.symbol, a.kind, a.path, String(a.line).padStart(6, '0'), a.declaration];
        const kb = [b.symbol.replace(/^_+/, ''), b.symbol, b.kind, b.path, String(b.line).padStart(6, '0'), b.declaration];
        for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i] < kb[i] ? -1 : 1;
        return 0;
      });
    for (const e of rows) {
      const name = e.kind === 'struct' ? `struct ${e.symbol}` : `${e.symbol}()`;
      const sym = `[${code(name)}](${ELIXIR}/A/ident/${e.symbol})${e.traced ? ' ⏱' : ''}`;
      const exp = e.exportName === undefined ? '' : code(e.exportName);
      const model = `[${e.path}:${e.line}](../${e.path}#L${e.line}) ${code(e.declaration)}`;
      out.push(`| ${escape(sym)} | ${e.pkg} | ${escape(exp)} | ${escape(model)} |`);
    }
  }
  out.push('');
  return out.join('\n');
}

/** The text docs/KERNEL-INDEX.md should have now. */
export function generateKernelIndex(root = ROOT) {
  return renderIndex(collectEntries(root));
}

/**
 * The TypeScript module of the demo's copy of the entries: one tuple per
 * entry, in the order of the Markdown (kernel file, then symbol), with the
 * fields of `KernelSymbolRow` in apps/demo/src/explain/kernel-index.ts.
 */
export function renderModule(entries) {
  const rows = entries
    .map((e) => [e.symbol, e.kind === 'struct' ? 's' : 'f', e.kernelFile ?? '', e.traced ? 1 : 0, e.pkg, e.exportName ?? '', e.declaration, e.path, e.line])
    .sort((a, b) => {
      const ka = [a[2] === '' ? '\uffff' : a[2], a[0].replace(/^_+/, ''), a[0], a[1], a[7], String(a[8]).padStart(6, '0'), a[6]];
      const kb = [b[2] === '' ? '\uffff' : b[2], b[0].replace(/^_+/, ''), b[0], b[1], b[7], String(b[8]).padStart(6, '0'), b[6]];
      for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i] < kb[i] ? -1 : 1;
      return 0;
    });
  const out = [];
  out.push('// Generated by tools/repo-checks/scripts/kernel-index.mjs (`pnpm docs:index`) from the doc comments');
  out.push('// of packages/*/src: the entries of docs/KERNEL-INDEX.md. Do not edit.');
  out.push("import type { KernelSymbolRow } from './kernel-index.js';");
  out.push('');
  out.push('/** Every entry of the kernel-symbol index, as rows (see `KernelSymbolRow`). */');
  out.push('export const KERNEL_SYMBOL_ROWS: readonly KernelSymbolRow[] = [');
  for (const r of rows) out.push(`  ${JSON.stringify(r).replace(/'/g, "\\'").replace(/"/g, "'")},`);
  out.push('];');
  out.push('');
  return out.join('\n');
}

/** The text of the demo's module of the entries now. */
export function generateKernelIndexModule(root = ROOT) {
  return renderModule(collectEntries(root));
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--stdout')) process.stdout.write(generateKernelIndex());
  else if (process.argv.includes('--module')) process.stdout.write(generateKernelIndexModule());
  else {
    const entries = collectEntries();
    writeFileSync(join(ROOT, OUTPUT), renderIndex(entries));
    console.log(`${OUTPUT}: written`);
    writeFileSync(join(ROOT, MODULE_OUTPUT), renderModule(entries));
    console.log(`${MODULE_OUTPUT}: written`);
  }
}
