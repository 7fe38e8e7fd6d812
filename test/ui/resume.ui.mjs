// A person's view: in a real code-server workbench (the .vsix installed), open the palette,
// run "Resume Experiment", pick the experiment, and watch the tree, the status bar countdown
// during a rate-limit pause, and the completion notification. Screenshots go to test-artifacts/.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const shots = path.resolve('test-artifacts');

export async function resumeFromPalette({ browser, server, workspace, log }) {
  fs.mkdirSync(shots, { recursive: true });
  const page = await browser.newPage();
  const shot = (name) => page.screenshot({ path: path.join(shots, `${name}.png`) });
  try {
    const opened = Date.now();
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    // Open our view container from the activity bar, as a person would.
    const viewButton = page.locator('.activitybar [aria-label^="Resumable"]').first();
    await viewButton.waitFor({ timeout: 60_000 });
    await viewButton.click();
    const tree = page.locator('.pane-body .monaco-list-row');
    await page.getByText('paced', { exact: false }).first().waitFor({ timeout: 30_000 });
    log(`ui: first tree row ${Date.now() - opened} ms after the page was opened`);
    await shot('1-experiments-view');

    await page.keyboard.press('F1');
    await page.keyboard.type('Resumable: Resume Experiment');
    await page.waitForSelector('.quick-input-list .monaco-list-row');
    await page.keyboard.press('Enter');
    await page.getByText('Resume which experiment?').first().waitFor();
    await page.keyboard.type('paced');
    // Filtered: the focused row (what Enter picks) is the one typed.
    await page.locator('.quick-input-list .monaco-list-row.focused', { hasText: 'paced' }).first().waitFor();
    await shot('2-pick-experiment');
    await page.keyboard.press('Enter');
    log('ui: started "paced" from the palette');

    const status = page.locator('#workbench\\.parts\\.statusbar');
    await status.getByText(/paced: rate limited · resumes \d\d:\d\d \(\d+s\)/).waitFor({ timeout: 60_000 });
    const countdown1 = await status
      .getByText(/rate limited/)
      .first()
      .textContent();
    const pausedRow = (await tree.allTextContents()).find((r) => r.includes('paced'));
    log(`ui: tree row during the pause "${pausedRow}"`);
    assert.match(pausedRow ?? '', /rate limited \(\d+s\) · \d+\/60/, 'the row says the pause first');
    await shot('3-rate-limit-countdown');
    // The next tick of the countdown, waited for (the status bar's own text changing).
    let countdown2 = countdown1;
    for (const end = Date.now() + 10_000; countdown2 === countdown1 && Date.now() < end;) {
      await new Promise((r) => setTimeout(r, 200));
      countdown2 = await status
        .getByText(/rate limited|paced/)
        .first()
        .textContent();
    }
    log(`ui: status bar "${countdown1}" then "${countdown2}"`);
    assert.notEqual(countdown1, countdown2, 'the countdown ticks');

    const toast = page.locator('.notification-toast').filter({ hasText: 'paced finished' });
    await toast.waitFor({ timeout: 90_000 });
    // The notice comes from the task's end; the tree shows the run's last lines on its next read.
    await tree
      .filter({ hasText: /paced.*completed/ })
      .first()
      .waitFor({ timeout: 30_000 });
    const rows = await tree.allTextContents();
    const pacedRow = rows.find((r) => r.includes('paced'));
    log(`ui: tree row "${pacedRow}", notification "${(await toast.textContent())?.trim()}"`);
    assert.match(pacedRow ?? '', /completed · 60\/60 · 48 passed · 12 failed/);
    assert.match((await toast.textContent()) ?? '', /paced finished — 60\/60 · 48 passed · 12 failed/);
    await shot('4-finished');

    // A sharded run started from terminals (as on a cluster): the tree shows each shard.
    fs.writeFileSync(
      path.join(workspace, 'sharded.experiment.json'),
      JSON.stringify({
        name: 'sharded',
        items: { file: 'data/items.jsonl' },
        matrix: { repeat: 30 },
        run: { command: ['node', 'unit.js'] },
        concurrency: 2,
      }),
    );
    const shards = [1, 2].map((k) =>
      spawn(process.execPath, [path.resolve('dist/cli.js'), 'run', 'sharded.experiment.json', '--shard', `${k}/3`], {
        cwd: workspace,
        stdio: 'ignore',
      }),
    );
    try {
      // The experiment row appears collapsed when VS Code first saw it not started: open it.
      const expRow = tree.filter({ hasText: /^sharded/ }).first();
      await expRow.waitFor({ timeout: 60_000 });
      const shardsRow = tree.filter({ hasText: 'Shards (3)' }).first();
      for (let i = 0; i < 60 && !(await shardsRow.count()); i++) {
        if ((await expRow.getAttribute('aria-expanded')) === 'false')
          await expRow
            .locator('.monaco-tl-twistie')
            .click()
            .catch(() => undefined);
        await page.waitForTimeout(500);
      }
      await shardsRow.waitFor({ timeout: 30_000 });
      // Widen the side bar so the rows' descriptions show whole (drag its sash).
      const box = await page.locator('#workbench\\.parts\\.sidebar').boundingBox();
      if (box) {
        await page.mouse.move(box.x + box.width + 1, box.y + 300);
        await page.mouse.down();
        await page.mouse.move(box.x + box.width + 260, box.y + 300, { steps: 5 });
        await page.mouse.up();
      }
      // Rows move while the run updates the tree: click until the Shards row is open.
      for (let i = 0; i < 10 && !(await tree.filter({ hasText: 'Shard 3/3' }).count()); i++) {
        await shardsRow
          .locator('.monaco-tl-twistie')
          .click()
          .catch(() => undefined);
        await page.waitForTimeout(400);
      }
      await tree.filter({ hasText: 'Shard 3/3' }).first().waitFor({ timeout: 10_000 });
      await tree
        .filter({ hasText: /Shard 1\/3.*running/ })
        .first()
        .waitFor({ timeout: 30_000 });
      const shardRows = (await tree.allTextContents()).filter((r) => /Shard/.test(r));
      log(`ui: shard rows ${JSON.stringify(shardRows)}`);
      assert.ok(
        shardRows.some((r) => /Shards \(3\).*2 running.*1 missing/.test(r)),
        'the Shards row sums up',
      );
      assert.ok(shardRows.some((r) => /Shard 3\/3.*missing/.test(r)));
      await shot('5-shards');
    } finally {
      for (const c of shards) c.kill('SIGINT');
    }
  } catch (e) {
    await shot('ui-failure').catch(() => undefined);
    throw e;
  } finally {
    await page.close();
  }
}
