// How long a person waits for the Experiments view: window opened → first experiment row, in
// code-server with a .vsix installed, on a workspace with a finished 400-unit run; with the
// extension's own line from Output › Resumable ("startup: tree rows ready … ms after activation
// began", its phases). Not part of `npm test`; the figures in issue 15 came from it:
//   npm run build && npx vsce package --no-dependencies --allow-missing-repository -o resumable.vsix
//   node scripts/vscode-test/startupFigure.mjs resumable.vsix [windows=3]
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { ensureVSCodeServer } from './setup.mjs';
import { startCodeServer } from './codeServer.mjs';
import { settleTempDirs, tempDir } from './tmp.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const [vsix, windows = '3'] = process.argv.slice(2);
if (!vsix) throw new Error('usage: startupFigure.mjs <file.vsix> [windows]');
const env = await ensureVSCodeServer({ log: () => {} });

const workspace = tempDir('resumable-ws-startup-');
fs.cpSync(path.join(root, 'test', 'fixtures', 'workspace'), workspace, { recursive: true });
fs.writeFileSync(
  path.join(workspace, 'big.experiment.json'),
  JSON.stringify({
    name: 'big',
    items: { file: 'data/items.jsonl' },
    matrix: { repeat: 20 },
    run: { command: ['node', 'unit.js'] },
    concurrency: 8,
  }),
);
execFileSync(process.execPath, [path.join(root, 'dist', 'cli.js'), 'run', 'big.experiment.json'], { cwd: workspace, stdio: 'ignore' });

const extensionsDir = tempDir('resumable-ext-');
execFileSync(env.node24, [env.codeServerEntry, '--extensions-dir', extensionsDir, '--install-extension', path.resolve(vsix)], {
  stdio: 'ignore',
});
const userDataDir = tempDir('resumable-user-');
const figures = [];
for (let i = 0; i < Number(windows); i++) {
  const server = await startCodeServer({ ...env, log: () => {}, extensionsDir, userDataDir, smokeTestDriver: false });
  const browser = await chromium.launchPersistentContext(tempDir('resumable-chromium-'), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 860 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    const opened = Date.now();
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
    await page.waitForSelector('.monaco-workbench', { timeout: 120_000 });
    const workbench = Date.now() - opened;
    // As a person does: open the view as soon as its icon is there.
    await page.locator('.activitybar [aria-label^="Resumable"]').first().click({ timeout: 120_000 });
    await page.locator('.pane-body .monaco-list-row').filter({ hasText: /^big/ }).first().waitFor({ timeout: 120_000 });
    const row = Date.now() - opened;
    const logs = fs.readdirSync(path.join(userDataDir, 'logs')).sort().at(-1);
    const logFile = path.join(userDataDir, 'logs', logs, 'exthost1', 'resumable.resumable', 'Resumable.log');
    const ours = fs.existsSync(logFile)
      ? fs
          .readFileSync(logFile, 'utf8')
          .split('\n')
          .filter((l) => l.includes('startup:'))
          .map((l) => l.replace(/^.*startup: /, ''))
      : [];
    figures.push(row);
    console.log(`window ${i + 1}: workbench ${workbench} ms, first row ${row} ms after the page was opened; ${ours.join(' | ')}`);
  } finally {
    await browser.close().catch(() => undefined);
    await server.stop();
  }
}
figures.sort((a, b) => a - b);
console.log(`median first row: ${figures[Math.floor(figures.length / 2)]} ms after the page was opened`);
settleTempDirs(true, console.log);
