// Bundles the CLI (and the library entry) with esbuild; node_modules are bundled in so
// the CLI runs from the .vsix without a node_modules folder.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));

// mainFields: jsonc-parser's UMD build hides its requires from esbuild; its ESM build bundles cleanly.
const common = {
  mainFields: ['module', 'main'],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
};
await Promise.all([
  build({
    ...common,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    define: { RESUMABLE_VERSION: JSON.stringify(version) },
    banner: { js: '#!/usr/bin/env node' },
  }),
  build({ ...common, entryPoints: ['src/core/index.ts'], outfile: 'dist/core.js' }),
  // The extension loads dist/core.js lazily (see src/extension/engine.ts); only its thin layer is here.
  build({ ...common, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] }),
]);
