// Bundles the CLI, the library entry and the extension with esbuild, and writes the library's
// typings (scripts/build-types.mjs). node_modules are bundled in, so the CLI runs from the .vsix
// and from `npm i -g` without a node_modules folder.
//
// The engine is bundled once, in dist/core.js (the library entry, also what the extension
// loads). dist/cli.js holds only src/cli: each of its imports of src/core (and of a package)
// becomes `require('./core.js').__cliInternals[key]`, and the core bundle exports those
// modules under that name. The CLI and the library then share one copy of the engine (and of
// its state) instead of two 1.5 MB bundles, and dist/cli.js still runs by itself beside core.js.
import { build } from 'esbuild';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildTypes } from './build-types.mjs';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
const CORE = path.resolve('src/core');
const CLI = path.resolve('src/cli');

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

/**
 * Sends the CLI's imports of the engine and of packages to dist/core.js. `wanted` collects
 * their keys: a core module by its path under src/core (`config/load`), a package as
 * `pkg:<name>`.
 */
function engineFromCore(wanted) {
  return {
    name: 'engine-from-core',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.namespace !== 'file' || !args.importer.startsWith(CLI + path.sep)) return undefined;
        if (args.path.startsWith('.')) {
          const target = path.resolve(path.dirname(args.importer), args.path);
          if (!target.startsWith(CORE + path.sep)) return undefined;
          const key = path.relative(CORE, target).replace(/\.ts$/, '').split(path.sep).join('/');
          wanted.add(key);
          return { path: key, namespace: 'core-internal' };
        }
        if (args.path.startsWith('node:')) return undefined;
        wanted.add(`pkg:${args.path}`);
        return { path: `pkg:${args.path}`, namespace: 'core-internal' };
      });
      b.onResolve({ filter: /^\.\/core\.js$/, namespace: 'core-internal' }, () => ({ path: './core.js', external: true }));
      b.onLoad({ filter: /.*/, namespace: 'core-internal' }, (args) => {
        const from = `require('./core.js').__cliInternals[${JSON.stringify(args.path)}]`;
        // A core module is its live namespace. A package comes as the namespace the core bundle
        // imported (`default` is a CommonJS package's exports), marked as ES so the CLI's
        // `import fg from 'fast-glob'` reads that `default`, as a direct import would.
        const contents = args.path.startsWith('pkg:') ? `module.exports = { ...${from}, __esModule: true };` : `module.exports = ${from};`;
        return { contents, loader: 'js' };
      });
    },
  };
}

/** The core bundle's entry: the library's API plus, under `__cliInternals`, what the CLI imports. */
function coreEntry(wanted) {
  const keys = [...wanted].sort();
  const lines = ["export * from './index';"];
  const fields = [];
  keys.forEach((key, i) => {
    const from = key.startsWith('pkg:') ? key.slice(4) : `./${key}`;
    lines.push(`import * as m${i} from ${JSON.stringify(from)};`);
    fields.push(`${JSON.stringify(key)}: m${i}`);
  });
  lines.push(`/** @internal What dist/cli.js uses of the engine (scripts/build.mjs); not the library's API. */`);
  lines.push(`export const __cliInternals = { ${fields.join(', ')} };`);
  return { contents: lines.join('\n'), resolveDir: CORE, sourcefile: 'src/core/bundle-entry.ts', loader: 'ts' };
}

/**
 * dist/cli.js needs the dist/core.js of the same build: the CLI is built in memory and written
 * only once the core bundle is, so a failed build leaves the previous pair working.
 */
async function cliAndCore() {
  const wanted = new Set();
  const cli = await build({
    ...common,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    define: { RESUMABLE_VERSION: JSON.stringify(version) },
    banner: { js: '#!/usr/bin/env node' },
    plugins: [engineFromCore(wanted)],
    write: false,
  });
  await build({ ...common, stdin: coreEntry(wanted), outfile: 'dist/core.js' });
  for (const f of cli.outputFiles) writeFileSync(f.path, f.contents);
  // Runnable as ./dist/cli.js too (npm sets the mode of an installed bin by itself).
  chmodSync('dist/cli.js', 0o755);
}

await Promise.all([
  cliAndCore(),
  // The extension loads dist/core.js lazily (see src/extension/engine.ts); only its thin layer is here.
  build({ ...common, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] }),
  buildTypes(),
  // The dashboard's webview script: a browser bundle, everything in it (nothing fetched at run time).
  build({
    ...common,
    entryPoints: ['media/dashboard/src/main.ts'],
    outfile: 'dist/dashboard.js',
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    minify: true,
  }),
  // The compare view's webview script (two runs side by side): small, it shares the dashboard's helpers.
  build({
    ...common,
    entryPoints: ['media/dashboard/src/compare.ts'],
    outfile: 'dist/compare.js',
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    minify: true,
  }),
]);
