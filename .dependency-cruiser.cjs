// dependency-cruiser: the layer graph of docs/ARCHITECTURE.md, enforced.
//
//            apps/demo
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
};

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
