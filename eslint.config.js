// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

/**
 * The layers of src/, bottom to top. A folder imports only from folders listed before it (and from itself); the
 * entry points at the top (cli, demo, src/*.ts) import anything. See docs/design.md.
 */
const LAYERS = [
  ['lib'],
  ['model'],
  ['catalog'],
  ['config'],
  ['analysis', 'telemetry'],
  ['probes', 'export'],
  ['alerts', 'trends'],
  ['agent'],
];
/** For each layered folder, every folder it must not import: those above it and its peers in the same layer. */
const layerZones = LAYERS.flatMap((layer, i) =>
  layer.map((folder) => ({
    target: `./src/${folder}`,
    from: [...LAYERS.slice(i + 1).flat(), ...layer.filter((peer) => peer !== folder), 'cli', 'demo']
      .map((f) => `./src/${f}/**`)
      .concat('./src/*.ts'),
    message: `src/${folder} is below what it imports here; shared pieces belong in a lower layer (see the layer list in eslint.config.js).`,
  })),
);

export default tseslint.config(
  { ignores: ['dist/**', 'coverage/**', 'node_modules/**', 'test/fixtures/**', 'otel-collector/build/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/naming-convention': [
        'error',
        // Overrides keep the name their base class gives them (MetricReader.onShutdown).
        { selector: 'classMethod', modifiers: ['protected', 'override'], format: null },
        {
          selector: 'memberLike',
          modifiers: ['private'],
          format: ['camelCase'],
          leadingUnderscore: 'require',
        },
        {
          selector: 'memberLike',
          modifiers: ['protected'],
          format: ['camelCase'],
          leadingUnderscore: 'require',
        },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportAllDeclaration', message: 'Name each export; no export *.' },
        { selector: 'ExportDefaultDeclaration', message: 'Named exports only.' },
      ],
      'no-console': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { zones: layerZones }],
      'import-x/no-duplicates': 'error',
    },
  },
  {
    files: ['src/cli/**', 'test/**', 'eslint.config.js', 'vitest.config.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['eslint.config.js', 'vitest.config.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    // register.cjs, the `--require` entry of the preload: CommonJS, loaded by any Node.js version.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
