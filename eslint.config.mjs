// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layer order of src/core (docs/architecture.md), lowest first. A folder may import the
 * base files and the folders of lower layers, never its own layer's peers or anything above:
 * no import runs back up, so no folder cycle can form.
 */
const CORE_LAYERS = [['config', 'ratelimit', 'store'], ['model'], ['exec'], ['shard'], ['repair', 'status', 'run', 'bridge']];

const vscodeBan = { name: 'vscode', message: 'src/core and src/cli must not know VS Code: put VS Code code in src/extension.' };

/** `no-restricted-imports` for the files of one folder of src/core. */
function layerRule(folder, layer) {
  const banned = CORE_LAYERS.flatMap((names, i) => (i >= layer ? names : [])).filter((n) => n !== folder);
  return {
    files: [`src/core/${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [vscodeBan],
          patterns: [
            {
              group: banned.flatMap((n) => [`../${n}`, `../${n}/*`]),
              message: `src/core/${folder} is in layer ${layer + 1} of src/core (eslint.config.mjs, CORE_LAYERS): it may import only lower layers.`,
            },
            { group: ['../../cli/*', '../../extension/*'], message: 'src/core knows neither the CLI nor the extension.' },
          ],
        },
      ],
    },
  };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.vscode-test/**', 'examples/**/.resumable/**', 'out/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Fire-and-forget is said with `void`; node:test's test() and describe() are awaited by the runner.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }] },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Tests read JSON that the code under test wrote: typing every parse would add noise, not
    // safety. Unit handlers must return a promise, so an async one need not await.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  // Base files of src/core import no folder of it.
  {
    files: ['src/core/*.ts'],
    ignores: ['src/core/index.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [vscodeBan],
          patterns: [
            { group: ['./*/*'], message: 'The base files of src/core (clock, disposable, errors, ids, time) import no folder of it.' },
          ],
        },
      ],
    },
  },
  ...CORE_LAYERS.flatMap((names, layer) => names.map((folder) => layerRule(folder, layer))),
  {
    files: ['src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [vscodeBan], patterns: [{ group: ['**/extension/*'], message: 'The CLI does not use the extension.' }] },
      ],
    },
  },
  {
    files: ['src/extension/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/cli/*'], message: 'The extension uses src/core, not the CLI (shared code belongs in src/core).' }] },
      ],
    },
  },
  {
    files: ['examples/**/*.js', 'test/fixtures/**/*.js', 'test/**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', __dirname: 'readonly', module: 'writable' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.js', '**/*.cjs', 'examples/**', 'test/fixtures/**'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        fetch: 'readonly',
        performance: 'readonly',
        setImmediate: 'readonly',
      },
    },
  },
);
