// Every ```ts block of every README.md in the repository runs, as a reader
// would run it after installing the packages: each block is written to a
// file under the git-ignored tools/repo-checks/scratch/ and run with the
// workspace's tsx, `@zonedev/*` resolving to the packages' sources (as
// vitest.config.ts resolves them for the tests); all blocks are also
// type-checked together with the repository's strict compiler options. A
// block fails when it does not type-check, does not run or throws, or when
// an expectation does not hold:
//
//   expr;                    // => value    expr deep-equals value
//   const x = expr;          // => value    x deep-equals value
//   expr;                    // => value // a note after the value
//   assert.equal(a, b);                     node:assert, imported by the block
//
// A block that continues a machine the README describes in words ("const
// memremap = new Memremap({ kernel, mm, hotplug })") gets that machine from
// a setup named in SETUPS below: the declarations the README assumes, built
// with the package's own test machine. Blocks that are not TypeScript to run
// (a sketch of a call sequence) are fenced as ```text in the README instead.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, makeScratch } from './helpers.js';

/** One ```ts block of a README. */
interface Block {
  /** The README, relative to the repository root. */
  readonly readme: string;
  /** 1-based number among the README's ts blocks. */
  readonly index: number;
  /** Line of the opening fence. */
  readonly line: number;
  readonly code: string;
}

/** The README files of the repository: the root one, packages/*, apps/*, tools/*. */
function readmes(): string[] {
  const found = existsSync(join(ROOT, 'README.md')) ? ['README.md'] : [];
  for (const group of ['packages', 'apps', 'tools']) {
    for (const d of readdirSync(join(ROOT, group), { withFileTypes: true })) {
      const p = `${group}/${d.name}/README.md`;
      if (d.isDirectory() && existsSync(join(ROOT, p))) found.push(p);
    }
  }
  return found.sort();
}

/** The ```ts (or ```typescript) blocks of a Markdown text. */
function tsBlocks(readme: string, text: string): Block[] {
  const blocks: Block[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*(ts|typescript)\s*$/.exec(lines[i]!);
    if (open === null) continue;
    const fence = open[2]!;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !lines[j]!.trimStart().startsWith(fence); j++) body.push(lines[j]!.slice(Math.min(open[1]!.length, lines[j]!.length - lines[j]!.trimStart().length)));
    blocks.push({ readme, index: blocks.length + 1, line: i + 1, code: body.join('\n') });
    i = j;
  }
  return blocks;
}

/**
 * Rewrites `// =>` expectations into checks. Returns the code to run. A line
 * `CODE // => EXPECTED` becomes a call of `__expect()` with the line number
 * of the README, the value of CODE (an expression, or the variable a
 * `const`/`let` declaration on that line defines) and EXPECTED (any
 * expression).
 */
function withExpectations(block: Block): string {
  return block.code
    .split('\n')
    .map((line, i) => {
      const m = /^(\s*)(.*?);?\s*\/\/ => (.+)$/.exec(line);
      if (m === null) return line;
      const [, indent, code, rest] = m;
      const expected = rest!.split(/\s+\/\/\s/)[0];
      const readmeLine = block.line + 1 + i;
      const decl = /^(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=]+)?=/.exec(code!);
      if (decl !== null) return `${indent}${code}; __expect(${readmeLine}, ${decl[1]}, (${expected}));`;
      return `${indent}__expect(${readmeLine}, (${code}), (${expected}));`;
    })
    .join('\n');
}

const EXPECT_HELPER = `
import { isDeepStrictEqual as __isDeepStrictEqual, inspect as __inspect } from 'node:util';
function __expect(line: number, actual: unknown, expected: unknown): void {
  if (!__isDeepStrictEqual(actual, expected)) {
    throw new Error(\`README line \${line}: expected \${__inspect(expected)}, got \${__inspect(actual)}\`);
  }
}
`;

/** A 1 GiB x86_64 machine booted as far as memory hotplug: kernel, mm, sparse (as memory-hotplug's tests boot it). */
const BOOT_X86_64 = `
import { Kernel as __Kernel } from '@zonedev/kernel';
import { MmCore as __MmCore } from '@zonedev/mmzone';
import { BootMemblock as __BootMemblock, SparseMemory as __SparseMemory } from '@zonedev/sparse-vmemmap';
import { MM_X86_64 as __MM, SPARSE_X86_64 as __SPARSE } from '../../../packages/memory-hotplug/test/machine.ts';
const kernel = new __Kernel({ resources: { physAddrBits: 46, maxPhysmemBits: 46, paSectionShift: 27, pageShift: 12 } });
const mm = new __MmCore({ kernel, config: __MM, nodes: [0] });
const __memblock = new __BootMemblock(12);
__memblock.addMemory(0x1000, 0x9e000, 0);
__memblock.addMemory(0x100000, 0x3ff00000, 0);
__memblock.reserve(0x1000000, 0x1000000);
const sparse = new __SparseMemory({ kernel, arch: __SPARSE, allocator: mm, memmap: mm.memmap });
sparse.sparseInit(__memblock);
for (const r of __memblock.memPfnRanges()) sparse.subsectionMapInit(r.startPfn, r.endPfn - r.startPfn);
mm.bootMemory([...__memblock.memPfnRanges()], __memblock.reservedPfnRanges());
`;

/**
 * What a README's prose gives a block before it starts: keyed by
 * `README#block`, code that declares the variables the block uses without
 * declaring them. Each is built from the package's test machine, the
 * machine the package's own tests boot.
 */
const SETUPS: Record<string, string> = {
  // "boot: sparse.sparseInit(memblock), mm.bootMemory(...), e820 "System RAM"
  // resources": a 1 GiB x86_64 machine booted up to memory hotplug, and
  // x86_64's hotplug arch (128 MiB blocks).
  'packages/memory-hotplug/README.md#1': `
import { IORESOURCE_BUSY as __BUSY, IORESOURCE_SYSTEM_RAM as __RAM, Resource as __Resource, orBits as __orBits } from '@zonedev/kernel';
import { HOTPLUG_X86_64 as arch } from '../../../packages/memory-hotplug/test/machine.ts';
${BOOT_X86_64}
for (const r of [{ start: 0x1000, size: 0x9e000 }, { start: 0x100000, size: 0x3ff00000 }]) {
  kernel.iomem.requestResource(kernel.iomem.root, new __Resource({ name: 'System RAM', start: r.start, end: r.start + r.size - 1, flags: __orBits(__RAM, __BUSY) }));
}
`,
  // "one per machine": the kernel, mm and memory hotplug of a booted 1 GiB x86_64 machine.
  'packages/memremap/README.md#1': `
import { bootLayers as __boot } from '../../../packages/memremap/test/machine.ts';
const { kernel, mm, hp: hotplug } = __boot();
`,
  // "one per machine": the kernel, mm and memremap of a booted 1 GiB x86_64 machine.
  'packages/libnvdimm/README.md#1': `
import { bootMachine as __boot } from '../../../packages/memremap/test/machine.ts';
const { kernel, mm, memremap } = __boot();
`,
  // "the machine's mm/ over mmzone's MmCore": the MmCore and memremap of a booted 1 GiB x86_64 machine.
  'packages/mm/README.md#1': `
import { bootMachine as __boot } from '../../../packages/memremap/test/machine.ts';
const { mm: core, memremap } = __boot();
`,
  // "system: @zonedev/mm's MmSystem": the kernel, mm system and memremap of hmm's test machine.
  'packages/hmm/README.md#1': `
import { bootMachine as __boot } from '../../../packages/hmm/test/machine.ts';
const { kernel, sys: system, memremap } = __boot();
`,
  // "an MmArchConfig": x86_64's, as mmzone's tests define it.
  'packages/mmzone/README.md#1': `
import { X86_64 } from '../../../packages/mmzone/test/machines.ts';
`,
  // The constructor's arguments, described in the block's comments: the
  // kernel, x86_64's sparse arch, mmzone's allocator and memmap, and the boot
  // memblock of a 1 GiB machine.
  'packages/sparse-vmemmap/README.md#1': `
import { Kernel as __Kernel } from '@zonedev/kernel';
import { MmCore as __MmCore } from '@zonedev/mmzone';
import { BootMemblock as __BootMemblock } from '@zonedev/sparse-vmemmap';
import { MM_X86_64 as __MM, SPARSE_X86_64 as arch } from '../../../packages/memory-hotplug/test/machine.ts';
const kernel = new __Kernel();
const mm = new __MmCore({ kernel, config: __MM, nodes: [0] });
const allocator = mm;
const memblock = new __BootMemblock(__MM.pageShift);
memblock.addMemory(0x1000, 0x9e000, 0);
memblock.addMemory(0x100000, 0x3ff00000, 0);
`,
};

/** Resolves `@zonedev/NAME` to packages/NAME/src/index.ts, as vitest.config.ts does. */
const RESOLVE_HOOK = `
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const ROOT = ${JSON.stringify(ROOT)};
export async function resolve(specifier, context, next) {
  const m = /^@zonedev\\/([a-z0-9-]+)$/.exec(specifier);
  if (m !== null) {
    const src = ROOT + '/packages/' + m[1] + '/src/index.ts';
    if (existsSync(src)) return next(pathToFileURL(src).href, context);
  }
  return next(specifier, context);
}
`;
const REGISTER = `
import { register } from 'node:module';
register('./resolve-hook.mjs', import.meta.url);
`;

const ALL: Block[] = readmes().flatMap((r) => tsBlocks(r, readFileSync(join(ROOT, r), 'utf8')));

let scratch: string | undefined;
function scratchDir(): string {
  if (scratch === undefined) {
    scratch = makeScratch('readme');
    writeFileSync(join(scratch, 'resolve-hook.mjs'), RESOLVE_HOOK);
    writeFileSync(join(scratch, 'register.mjs'), REGISTER);
  }
  return scratch;
}
afterAll(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

/** Writes the program of a block into the scratch folder; returns its path and the file line of the block's first line. */
function writeBlockFile(b: Block): { file: string; firstLine: number } {
  const dir = scratchDir();
  const key = `${b.readme}#${b.index}`;
  const name = `${b.readme.replace(/\/README\.md$|README\.md$/, '').replace(/[^\w-]+/g, '-') || 'root'}-${b.index}.ts`;
  // The setup's relative imports are written for a file three levels below the root.
  const depth = relative(ROOT, dir).split(/[\\/]/).length;
  const setup = (SETUPS[key] ?? '').replaceAll('../../../', '../'.repeat(depth));
  const file = join(dir, name);
  // Imports first (ES modules hoist them anyway), then the setup's declarations, then the block.
  const code = `${setup}\n${withExpectations(b)}\n${EXPECT_HELPER}\nexport {};\n`;
  writeFileSync(file, code);
  return { file, firstLine: `${setup}\n`.split('\n').length };
}

function writeBlock(b: Block): string {
  return writeBlockFile(b).file;
}

/** Runs a block; returns undefined on success, else what went wrong. */
function runBlock(b: Block): string | undefined {
  const dir = scratchDir();
  const file = writeBlock(b);
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', pathToFileURL(join(dir, 'register.mjs')).href, file], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status === 0 && r.signal === null) return undefined;
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  return `exit ${r.status ?? r.signal}\n${out}`;
}

describe('README ```ts blocks run', () => {
  it('finds the blocks', () => {
    expect(ALL.length).toBeGreaterThan(0);
  });

  for (const b of ALL) {
    it(`${b.readme} block ${b.index} (line ${b.line})`, () => {
      const failure = runBlock(b);
      if (failure !== undefined) expect.fail(`${b.readme} block ${b.index} (line ${b.line}) failed: ${failure}`);
    });
  }
});

describe('README ```ts blocks type-check', () => {
  it('against the packages’ sources, with the repository’s strict compiler options', () => {
    const dir = scratchDir();
    // A block with a known type error proves that the check reports errors at all.
    const probe: Block = { readme: 'self-test/README.md', index: 1, line: 1, code: "const n: number = 'x';\nvoid n;" };
    const files = [...ALL, probe].map((b) => ({ block: b, ...writeBlockFile(b) }));
    const paths: Record<string, string[]> = {};
    for (const d of readdirSync(join(ROOT, 'packages'))) paths[`@zonedev/${d}`] = [join(ROOT, 'packages', d, 'src/index.ts')];
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: join(ROOT, 'tsconfig.test.base.json'),
        compilerOptions: { rootDir: ROOT, paths, allowImportingTsExtensions: true },
        include: [],
        files: files.map((f) => f.file),
      }),
    );
    const r = spawnSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', join(dir, 'tsconfig.json'), '--pretty', 'false'], { cwd: dir, encoding: 'utf8' });
    // Only the blocks’ own errors: the packages are type-checked by their own gate.
    const errors = `${r.stdout}${r.stderr}`
      .split('\n')
      .map((line) => {
        const f = files.find((x) => line.startsWith(`${relative(dir, x.file)}(`) || line.startsWith(`${x.file}(`));
        const at = /\(([0-9]+),([0-9]+)\): (.*)$/.exec(line);
        if (f === undefined || at === null) return undefined;
        return `${f.block.readme} block ${f.block.index}, line ${f.block.line + 1 + Number(at[1]) - f.firstLine}: ${at[3]}`;
      })
      .filter((l) => l !== undefined);
    expect(errors.filter((e) => e.startsWith('self-test/'))).toEqual([
      "self-test/README.md block 1, line 2: error TS2322: Type 'string' is not assignable to type 'number'.",
    ]);
    expect(errors.filter((e) => !e.startsWith('self-test/'))).toEqual([]);
  });
});

describe('the block runner itself', () => {
  it('extracts blocks with their README and number, and ignores other languages', () => {
    const md = 'text\n```ts\nconst a = 1;\n```\n```sh\nls\n```\n```typescript\nconst b = 2;\n```\n';
    expect(tsBlocks('x/README.md', md)).toEqual([
      { readme: 'x/README.md', index: 1, line: 2, code: 'const a = 1;' },
      { readme: 'x/README.md', index: 2, line: 8, code: 'const b = 2;' },
    ]);
  });

  it('fails a block whose `// =>` expectation does not hold, such as 16 << 30 for 16 GiB', () => {
    const good = { readme: 'x/README.md', index: 1, line: 10, code: 'const start = 16 * 2 ** 30; // => 17179869184\n[start].length; // => 1' };
    const bad = { readme: 'x/README.md', index: 2, line: 20, code: 'const start = 16 << 30; // => 17179869184' };
    expect(runBlock(good)).toBeUndefined();
    expect(runBlock(bad)).toMatch(/README line 21: expected 17179869184, got 0/);
  });

  it('fails the memremap README block when its range is written 16 << 30 (0 in JavaScript: it would map RAM)', () => {
    const b = ALL.find((x) => x.readme === 'packages/memremap/README.md' && x.code.includes('16 * SZ_1G'));
    expect(b).toBeDefined();
    const broken = { ...b!, code: b!.code.replace('16 * SZ_1G', '16 << 30').replace('17 * SZ_1G - 1', '(17 << 30) - 1') };
    expect(broken.code).toContain('16 << 30');
    expect(runBlock(broken)).toMatch(/KernelError: memremap_pages attempted on ram region 0-0x3fffffff/);
  });

  it('fails a block that throws or does not compile', () => {
    expect(runBlock({ readme: 'x/README.md', index: 3, line: 1, code: "throw new Error('boom');" })).toMatch(/boom/);
    expect(runBlock({ readme: 'x/README.md', index: 4, line: 1, code: 'const x = ;' })).toMatch(/exit 1/);
  });

  it('resolves @zonedev/* to the packages’ sources', () => {
    const code = "import { SZ_1G } from '@zonedev/kernel';\nSZ_1G; // => 2 ** 30\nimport.meta.resolve('@zonedev/kernel').endsWith('/packages/kernel/src/index.ts'); // => true";
    expect(runBlock({ readme: 'x/README.md', index: 5, line: 1, code })).toBeUndefined();
  });
});

// The scratch folder must stay out of git.
it('tools/repo-checks/scratch/ is ignored by git', () => {
  const r = spawnSync('git', ['check-ignore', '-q', 'tools/repo-checks/scratch/x.ts'], { cwd: ROOT });
  expect(r.status).toBe(0);
});
