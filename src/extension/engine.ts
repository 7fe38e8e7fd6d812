import * as path from 'node:path';

/**
 * The engine (dist/core.js) is loaded on first use, not at activation: activation only
 * registers views, commands and watchers. A computed path keeps esbuild from bundling it in.
 */
type Core = typeof import('../core/index');
let core: Core | undefined;

export function engine(): Core {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  core ??= require(path.join(__dirname, 'core.js')) as Core;
  return core;
}
