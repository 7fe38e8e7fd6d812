import * as path from 'node:path';

/**
 * The engine (dist/core.js) is loaded on first use, not at activation: activation only
 * registers views, commands and watchers. A computed path keeps esbuild from bundling it in.
 */
type Core = typeof import('../core/index');
let core: Core | undefined;
let loadMs: number | undefined;

export function engine(): Core {
  if (!core) {
    const t = performance.now();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    core = require(path.join(__dirname, 'core.js')) as Core;
    loadMs = performance.now() - t;
  }
  return core;
}

/** How long loading the engine took (undefined: not loaded yet); for the startup figure. */
export function engineLoadMs(): number | undefined {
  return loadMs;
}
