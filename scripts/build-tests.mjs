// Bundles the extension-host suites (they run inside VS Code, which loads JavaScript).
import { build } from 'esbuild';

await build({
  entryPoints: ['test/extension/index.ts', 'test/extension/trusted.ts', 'test/extension/untrusted.ts', 'test/extension/multiRoot.ts'],
  outdir: 'out/test/extension',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['vscode', 'mocha'],
  sourcemap: true,
  logLevel: 'warning',
});
