// Runs a mocha `run()` module inside code-server's real extension host, through the
// smoke-test driver's `payload` URL parameter (what test-electron does with CLI flags on a
// desktop VS Code, which cannot be downloaded here); resolves with its exit code.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { format } from 'node:util';
import { launchBrowser, closeBrowser } from './browser.mjs';

const artifacts = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-artifacts');

export async function runExtensionHostTests({ server, extensionDevelopmentPath, extensionTestsPath, workspace, timeoutMs = 300_000, log = console.log }) {
  // The workbench resolves these on the server ("remote") side; the authority must be the
  // host:port the page was loaded from. The tests path is a module id: no .js.
  const remote = (p) => `vscode-remote://127.0.0.1:${server.port}${path.resolve(p)}`;
  const payload = [
    ['extensionDevelopmentPath', remote(extensionDevelopmentPath)],
    ['extensionTestsPath', remote(extensionTestsPath.replace(/\.js$/, ''))],
    ['skipWelcome', 'true'],
    ['skipReleaseNotes', 'true'],
  ];
  const url = `${server.url}/?folder=${encodeURIComponent(path.resolve(workspace))}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const browser = await launchBrowser();
  const page = await browser.newPage();
  let settle;
  const outcome = new Promise((resolve) => { settle = resolve; });
  const timer = setTimeout(() => settle({ timeout: true }), timeoutMs);
  try {
    // Both must exist before the workbench loads: it looks them up when the extension host
    // logs and when run() settles (0 resolved, 1 rejected).
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      // Console calls arrive as printf-style argument lists (mocha's reporter uses %s, %d).
      const line = format(...(Array.isArray(args) ? args : [args]));
      if (type !== 'debug' && type !== 'trace' && line.trim()) log(`  [host] ${line}`);
    });
    await page.exposeFunction('codeAutomationExit', (code, logs) => settle({ code, logs }));
    page.on('crash', () => settle({ crash: true }));
    await page.goto(url);
    const r = await outcome;
    if (r.code === 0) return 0;
    const shot = await screenshot(page, 'host-tests-failure', r.logs);
    if (r.timeout) throw new Error(`extension-host tests did not finish within ${timeoutMs / 1000} s (screenshot: ${shot})`);
    if (r.crash) throw new Error(`the browser page crashed during the extension-host tests (screenshot: ${shot})`);
    log(`host tests exited with ${r.code}; screenshot and workbench logs in ${artifacts}`);
    return 1;
  } finally {
    clearTimeout(timer);
    await closeBrowser(browser);
  }
}

/** A picture of the workbench and its logs ([{relativePath, contents}]) to look at after a failure. */
async function screenshot(page, name, logs = []) {
  fs.mkdirSync(artifacts, { recursive: true });
  const dir = path.join(artifacts, `${name}-logs`);
  for (const { relativePath, contents } of logs ?? []) {
    const file = path.join(dir, relativePath);
    if (path.relative(dir, file).startsWith('..')) continue;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, contents);
  }
  const file = path.join(artifacts, `${name}.png`);
  await page.screenshot({ path: file }).catch(() => undefined);
  return file;
}
