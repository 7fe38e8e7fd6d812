// Runs a mocha `run()` module inside code-server's real extension host, through the
// smoke-test driver's `payload` URL parameter; resolves with its exit code.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import { launchBrowser, closeBrowser } from './browser.mjs';

// `workspace` is a folder, or a .code-workspace file (a multi-root workspace).
export async function runExtensionHostTests({
  server,
  extensionDevelopmentPath,
  extensionTestsPath,
  workspace,
  timeoutMs = 300_000,
  log = console.log,
}) {
  const remote = (p) => `vscode-remote://127.0.0.1:${server.port}${p}`;
  const payload = [
    ['extensionDevelopmentPath', remote(extensionDevelopmentPath)],
    ['extensionTestsPath', remote(extensionTestsPath)],
    ['skipWelcome', 'true'],
    ['skipReleaseNotes', 'true'],
  ];
  const open = workspace.endsWith('.code-workspace') ? 'workspace' : 'folder';
  const url = `${server.url}/?${open}=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const browser = await launchBrowser();
  const page = await browser.newPage();
  let timer;
  try {
    let resolveExit;
    const exit = new Promise((resolve) => (resolveExit = resolve));
    // Both must be exposed (awaited) before the workbench loads: it calls them when run() settles.
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      // Console calls arrive as printf-style argument lists (mocha's reporter uses %s, %d).
      const line = format(...(Array.isArray(args) ? args : [args]));
      if (type !== 'debug' && line.trim()) log(`  [host] ${line}`);
    });
    await page.exposeFunction('codeAutomationExit', (code) => resolveExit(code));
    timer = setTimeout(() => resolveExit('timeout'), timeoutMs);
    await page.goto(url);
    const code = await exit;
    if (code === 'timeout') {
      await screenshot(page, 'host-tests-timeout');
      throw new Error(`extension-host tests did not finish within ${timeoutMs / 1000} s`);
    }
    if (code !== 0) await screenshot(page, 'host-tests-failure');
    return code;
  } finally {
    clearTimeout(timer);
    await closeBrowser(browser);
  }
}

async function screenshot(page, name) {
  fs.mkdirSync('test-artifacts', { recursive: true });
  await page.screenshot({ path: path.join('test-artifacts', `${name}.png`) }).catch(() => undefined);
}
