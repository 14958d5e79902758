// dependency-cruiser: the layer graph of docs/ARCHITECTURE.md, enforced.
//
//            apps/demo
//               |
//            platform
//             /     \
//     libnvdimm     hmm
//             \     /
//            memremap
//               |
//          memory-hotplug
//               |
//               mm
//               |
//          sparse-vmemmap
//               |
//             mmzone
//               |
//             kernel
//
// A package may import only packages below it (and itself). Nothing imports an
// app, libnvdimm and hmm never import each other, and there are no cycles.
/** @type {Record<string, string[]>} package -> packages it may import */
const LAYERS = {
  kernel: [],
  mmzone: ['kernel'],
  'sparse-vmemmap': ['kernel', 'mmzone'],
  mm: ['kernel', 'mmzone', 'sparse-vmemmap'],
  'memory-hotplug': ['kernel', 'mmzone', 'sparse-vmemmap', 'mm'],
  memremap: ['kernel', 'mmzone', 'sparse-vmemmap', 'memory-hotplug', 'mm'],
  libnvdimm: ['kernel', 'mmzone', 'sparse-vmemmap', 'memory-hotplug', 'memremap', 'mm'],
  hmm: ['kernel', 'mmzone', 'sparse-vmemmap', 'memory-hotplug', 'memremap', 'mm'],
  platform: ['kernel', 'mmzone', 'sparse-vmemmap', 'mm', 'memory-hotplug', 'memremap', 'libnvdimm', 'hmm'],
};

// Inside apps/demo/src the folders have a one-way order too: the Node
// adapters (node/: host files, the sysroot export) below the shell, the
// shell below its programs (tools/: lsmem, chmem, ndctl, daxctl; commands/:
// the machine's commands and the adapter that puts a platform machine under
// the shell; explain/), and those below the front-ends (the CLI, the REPL,
// the tour, the web app). A folder may import its own level and the levels
// below it.
const DEMO = '^apps/demo/src/';
const DEMO_LEVELS = [
  { name: 'node adapters', paths: ['node/'] },
  { name: 'shell', paths: ['shell/'] },
  { name: 'tools and commands', paths: ['tools/', 'commands/', 'explain/'] },
  { name: 'front-ends', paths: ['cli\\.ts$', 'main\\.ts$', 'repl\\.ts$', 'tour\\.ts$', 'args\\.ts$', 'web-cli\\.ts$', 'web/'] },
];
const demoLevelRules = DEMO_LEVELS.slice(0, -1).map((level, i) => ({
  name: `demo-order-${level.name.replace(/ /g, '-')}`,
  comment: `apps/demo: ${level.name} may not import ${DEMO_LEVELS.slice(i + 1).map((l) => l.name).join(', ')}`,
  severity: 'error',
  from: { path: `${DEMO}(?:${level.paths.join('|')})` },
  to: { path: `${DEMO}(?:${DEMO_LEVELS.slice(i + 1).flatMap((l) => l.paths).join('|')})` },
}));

const layerRules = Object.entries(LAYERS).map(([name, allowed]) => ({
  name: `layer-${name}`,
  comment: `@zonedev/${name} may import only: ${allowed.length ? allowed.join(', ') : 'nothing from the workspace'}`,
  severity: 'error',
  from: { path: `^packages/${name}/` },
  to: { path: `^packages/(?!(?:${[name, ...allowed].join('|')})/)` },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    ...demoLevelRules,
    {
      name: 'platform-runs-in-a-browser',
      comment: '@zonedev/platform imports no Node built-in module (node:fs, ...): a front-end injects host access',
      severity: 'error',
      from: { path: '^packages/platform/src/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'no-package-imports-app',
      comment: 'packages never import an application',
      severity: 'error',
      from: { path: '^packages/' },
      to: { path: '^apps/' },
    },
    {
      name: 'no-circular',
      comment:
        'no import cycles anywhere; a cycle made only through `import type` is erased at compile time and is allowed ' +
        '(a VMA type naming its mm_struct, as include/linux/mm_types.h does)',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'every import must resolve (a typo or a missing export is an error)',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|temp|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.depcruise.json' },
    combinedDependencies: false,
    preserveSymlinks: false,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'types', 'default'],
      extensions: ['.ts', '.js', '.d.ts'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
