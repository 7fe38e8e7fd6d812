// A person's view of the dashboard, in a real code-server workbench (the .vsix installed): the
// quickstart runs from a terminal, the dashboard opens from the palette, and it is looked at
// mid-run (a rate-limit pause on the timeline) and at the end, with a unit's result and log
// open. Screenshots go to test-artifacts/dashboard-*.png.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { palette as openCommand } from './workbench.mjs';

const shots = path.resolve('test-artifacts');

export async function dashboardMidRunAndEnd({ browser, server, workspace, log }) {
  fs.mkdirSync(shots, { recursive: true });
  // The quickstart (150 questions × 2 "models", one HTTP 429 with retry-after: 4), a little
  // slower than the demo so the dashboard is seen while it runs.
  const qs = path.join(workspace, 'quickstart');
  fs.cpSync(path.resolve('examples/quickstart'), qs, {
    recursive: true,
    filter: (src) => !/[\\/](\.resumable|\.demo-api)([\\/]|$)/.test(src),
  });
  const expFile = path.join(qs, 'quickstart.experiment.json');
  fs.writeFileSync(expFile, fs.readFileSync(expFile, 'utf8').replace('"concurrency": 8', '"concurrency": 3'));

  const page = await browser.newPage();
  await page.setViewportSize({ width: 1500, height: 1000 });
  const shot = (name) => page.screenshot({ path: path.join(shots, `dashboard-${name}.png`) });
  const palette = (title) => openCommand(page, title);
  let runner;
  try {
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    const viewButton = page.locator('.activitybar [aria-label^="Resumable"]').first();
    await viewButton.waitFor({ timeout: 60_000 });
    await viewButton.click();
    const tree = page.locator('.pane-body .monaco-list-row');
    await tree.filter({ hasText: 'quickstart' }).first().waitFor({ timeout: 30_000 });

    // The empty secondary side bar (chat) would take a third of the editor's width.
    if (await page.locator('#workbench\\.parts\\.auxiliarybar').isVisible()) {
      await page.keyboard.press('F1');
      await page.locator('.quick-input-widget input').fill('>Secondary Side Bar');
      // "Hide" in this VS Code, "Close" in earlier ones.
      await page
        .locator('.quick-input-list .monaco-list-row', { hasText: /(Hide|Close) Secondary Side Bar/ })
        .first()
        .click();
      await page.locator('#workbench\\.parts\\.auxiliarybar').waitFor({ state: 'hidden' });
    }
    runner = spawn(process.execPath, [path.resolve('dist/cli.js'), 'run', 'quickstart.experiment.json'], { cwd: qs, stdio: 'ignore' });
    const exited = new Promise((resolve) => runner.on('exit', resolve));
    await tree
      .filter({ hasText: /^quickstart.*\d+\/300/ })
      .first()
      .waitFor({ timeout: 60_000 });
    await palette('Resumable: Open Dashboard');
    await page.locator('.tab', { hasText: 'Resumable: quickstart' }).first().waitFor({ timeout: 30_000 });
    log('ui: dashboard opened from the palette');

    // The webview's page sits two frames down (the workbench's webview host, then its content).
    const view = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    await view.locator('h1', { hasText: 'quickstart' }).waitFor({ timeout: 30_000 });
    await view.getByText('Rate-limit pauses (1)').waitFor({ timeout: 60_000 });
    const mid = await view.locator('.facts').textContent();
    log(`ui: mid-run "${mid}"`);
    assert.match(mid ?? '', /\d+\/300/);
    assert.ok(!/300\/300/.test(mid ?? ''), 'the shot is mid-run');
    assert.equal((await view.locator('svg rect.pause').count()) > 0, true, 'the pause is a band on the progress chart');
    await shot('mid-run');

    assert.equal(await exited, 0, 'the quickstart ran to the end');
    await view.locator('.badge', { hasText: 'completed' }).waitFor({ timeout: 60_000 });
    const end = await view.locator('.facts').textContent();
    log(`ui: at the end "${end}"`);
    assert.match(end ?? '', /300\/300/);
    const rates = await view.locator('table.rates tbody tr').allTextContents();
    log(`ui: pass rates ${JSON.stringify(rates)}`);
    assert.equal(rates.length, 2, 'one row per model');
    // The "finished" notification would cover the table's corner.
    await page.locator('.notification-toast', { hasText: 'quickstart finished' }).waitFor({ timeout: 30_000 });
    await palette('Notifications: Clear All Notifications');
    await page.locator('.notification-toast').first().waitFor({ state: 'detached' });
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
    await shot('end');

    // The results table: the failures only, then every unit by attempts, the most retried opened beside its log.
    const filter = view.locator('input.filter');
    await filter.fill('status:failed');
    const count = await view.locator('.results .count').textContent();
    log(`ui: filtered "${count}"`);
    assert.match(count ?? '', /^\d+ of 300 units$/);
    await filter.fill('');
    await view.locator('.row.head .cell', { hasText: 'Attempts' }).click();
    const first = view.locator('.rows .row').first();
    await first.waitFor();
    log(`ui: most attempts "${await first.textContent()}"`);
    await first.click();
    await view.locator('.details h3', { hasText: 'Attempts' }).waitFor();
    await view.locator('.details pre.file').first().waitFor();
    await view.locator('.details').scrollIntoViewIfNeeded();
    await shot('unit');
  } catch (e) {
    await shot('failure').catch(() => undefined);
    throw e;
  } finally {
    if (runner && runner.exitCode === null) runner.kill('SIGINT');
    await page.close();
  }
}
