// ESLint flat config for the whole repository.
//
// Besides typescript-eslint's recommended rules it enforces two rules of the
// model (docs/ARCHITECTURE.md, "Rules of the model"):
//   * package boundaries: no deep imports (`@zonedev/x/...`) and no relative
//     import that climbs into another package;
//   * no JavaScript bitwise operators: they truncate to 32 bits, and addresses,
//     pfns and sizes are up to 2^52. Use @zonedev/kernel's helpers; a file that
//     genuinely works on 32-bit words (a checksum, a PRNG) disables the rule
//     locally with a comment that says why.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/temp/**', '**/node_modules/**', '**/.turbo/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    plugins: { 'import-x': importX },
    settings: {
      // NodeNext sources import `./x.js` for `./x.ts`: resolve like tsc does.
      'import-x/resolver-next': [
        createNodeResolver({ extensions: ['.ts', '.js'], extensionAlias: { '.js': ['.ts', '.js'] } }),
      ],
    },
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        queueMicrotask: 'readonly',
      },
    },
    rules: {
      'import-x/no-relative-packages': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^@zonedev/[^/]+/.+',
              message: 'Deep imports are forbidden: import a package through its entry point only.',
            },
          ],
        },
      ],
      'no-bitwise': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
);
