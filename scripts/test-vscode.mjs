// The VS Code part of `npm test`: the extension inside a real VS Code (code-server from npm,
// VS Code 1.139) — extension-host suites (mocha) in a trusted, an untrusted and a multi-root
// workspace, then a UI test in Chromium driven by playwright-core. The first run installs Node 24 and
// code-server into .vscode-test/ (cached).
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureVSCodeServer } from './vscode-test/setup.mjs';
import { startCodeServer } from './vscode-test/codeServer.mjs';
import { launchBrowser, closeBrowser } from './vscode-test/browser.mjs';
import { runExtensionHostTests } from './vscode-test/runHostTests.mjs';
import { resumeFromPalette } from '../test/ui/resume.ui.mjs';
import { walkThrough } from '../test/ui/walkthrough.ui.mjs';
import { dashboardMidRunAndEnd } from '../test/ui/dashboard.ui.mjs';
import { settleTempDirs, tempDir } from './vscode-test/tmp.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const log = (s) => console.log(s);
const results = [];

/** A fresh copy of the fixture workspace: tests write run folders into it. */
function workspaceCopy(name) {
  const dir = tempDir(`resumable-ws-${name}-`);
  fs.cpSync(path.join(root, 'test', 'fixtures', 'workspace'), dir, { recursive: true });
  return dir;
}

// RESUMABLE_VSCODE_ONLY=<text>: run only the steps whose name has it (local loops; CI sets nothing).
const only = process.env.RESUMABLE_VSCODE_ONLY;

async function step(name, fn) {
  if (only && !name.includes(only)) return;
  const t = Date.now();
  try {
    await fn();
    results.push([name, true]);
    log(`ok - ${name} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  } catch (e) {
    results.push([name, false]);
    log(`not ok - ${name}: ${e?.stack ?? e}`);
  }
}

/** Two folders in one .code-workspace: alpha (the fixture) and beta (an experiment and a tasks.json of its own). */
function multiRootWorkspace() {
  const dir = tempDir('resumable-ws-multi-');
  fs.cpSync(path.join(root, 'test', 'fixtures', 'workspace'), path.join(dir, 'alpha'), { recursive: true });
  const beta = path.join(dir, 'beta');
  fs.mkdirSync(path.join(beta, '.vscode'), { recursive: true });
  fs.cpSync(path.join(root, 'test', 'fixtures', 'workspace', 'data'), path.join(beta, 'data'), { recursive: true });
  fs.copyFileSync(path.join(root, 'test', 'fixtures', 'workspace', 'unit.js'), path.join(beta, 'unit.js'));
  fs.writeFileSync(
    path.join(beta, 'second.experiment.json'),
    JSON.stringify({ name: 'second', items: { file: 'data/items.jsonl' }, run: { command: ['node', 'unit.js'] }, concurrency: 4 }, null, 2),
  );
  fs.writeFileSync(
    path.join(beta, '.vscode', 'tasks.json'),
    JSON.stringify(
      {
        version: '2.0.0',
        tasks: [{ type: 'resumable', experiment: 'second.experiment.json', flags: ['--dry-run'], label: 'second dry run' }],
      },
      null,
      2,
    ),
  );
  const file = path.join(dir, 'multi.code-workspace');
  fs.writeFileSync(file, JSON.stringify({ folders: [{ path: 'alpha' }, { path: 'beta' }] }, null, 2));
  return file;
}

const env = await ensureVSCodeServer({ log });
execFileSync(process.execPath, [path.join(root, 'scripts', 'build-tests.mjs')], { cwd: root, stdio: 'inherit' });
const testsPath = path.join(root, 'out', 'test', 'extension', 'index');

await step('extension-host suite, trusted workspace', async () => {
  const server = await startCodeServer({ ...env, log, env: { RESUMABLE_HOST_SUITE: 'trusted' } });
  try {
    const code = await runExtensionHostTests({
      server,
      extensionDevelopmentPath: root,
      extensionTestsPath: testsPath,
      workspace: workspaceCopy('trusted'),
      log,
    });
    if (code !== 0) throw new Error(`host tests exited with ${code}`);
  } finally {
    await server.stop();
  }
});

await step('extension-host suite, untrusted workspace', async () => {
  const ws = workspaceCopy('untrusted');
  const cli = spawnSync(process.execPath, [path.join(root, 'dist', 'cli.js'), 'run', 'evals.experiment.json'], {
    cwd: ws,
    encoding: 'utf8',
  });
  if (cli.status !== 0) throw new Error(`fixture run failed: ${cli.stderr}`);
  const server = await startCodeServer({ ...env, log, disableWorkspaceTrust: false, env: { RESUMABLE_HOST_SUITE: 'untrusted' } });
  try {
    const code = await runExtensionHostTests({ server, extensionDevelopmentPath: root, extensionTestsPath: testsPath, workspace: ws, log });
    if (code !== 0) throw new Error(`host tests exited with ${code}`);
  } finally {
    await server.stop();
  }
});

await step('extension-host suite, multi-root workspace', async () => {
  const server = await startCodeServer({ ...env, log, env: { RESUMABLE_HOST_SUITE: 'multiRoot' } });
  try {
    const code = await runExtensionHostTests({
      server,
      extensionDevelopmentPath: root,
      extensionTestsPath: testsPath,
      workspace: multiRootWorkspace(),
      log,
    });
    if (code !== 0) throw new Error(`host tests exited with ${code}`);
  } finally {
    await server.stop();
  }
});

/** Packages the .vsix (as `npm run package` does, without the build) and installs it into a fresh extensions folder. */
function installVsix() {
  const vsix = path.join(root, 'resumable.vsix');
  execFileSync(
    'npx',
    [
      'vsce',
      'package',
      '--no-dependencies',
      '--readme-path',
      'MARKETPLACE.md',
      '--allow-missing-repository',
      '--no-rewrite-relative-links',
      '-o',
      vsix,
    ],
    { cwd: root, stdio: 'inherit' },
  );
  const extensionsDir = tempDir('resumable-ext-');
  execFileSync(env.node24, [env.codeServerEntry, '--extensions-dir', extensionsDir, '--install-extension', vsix], { stdio: 'inherit' });
  return extensionsDir;
}

await step('UI: resume from the palette in the installed .vsix', async () => {
  const extensionsDir = installVsix();
  const server = await startCodeServer({ ...env, log, extensionsDir, smokeTestDriver: false });
  const browser = await launchBrowser();
  try {
    await resumeFromPalette({ browser, server, workspace: workspaceCopy('ui'), log });
  } finally {
    await closeBrowser(browser);
    await server.stop();
  }
});

await step('UI: the Get Started walkthrough, from the quickstart to the end', async () => {
  const extensionsDir = installVsix();
  const server = await startCodeServer({ ...env, log, extensionsDir, smokeTestDriver: false });
  const browser = await launchBrowser();
  try {
    await walkThrough({ browser, server, workspace: workspaceCopy('walkthrough'), log });
  } finally {
    await closeBrowser(browser);
    await server.stop();
  }
});

await step('UI: the dashboard of the quickstart, mid-run and at the end', async () => {
  const extensionsDir = installVsix();
  const server = await startCodeServer({ ...env, log, extensionsDir, smokeTestDriver: false });
  const browser = await launchBrowser();
  try {
    await dashboardMidRunAndEnd({ browser, server, workspace: workspaceCopy('dashboard'), log });
  } finally {
    await closeBrowser(browser);
    await server.stop();
  }
});

const passed = results.filter(([, ok]) => ok).length;
log(`vscode: ${passed} passed, ${results.length - passed} failed`);
settleTempDirs(passed === results.length, log);
process.exit(passed === results.length ? 0 : 1);
