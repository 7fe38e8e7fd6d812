// A newcomer's first minutes, in a real code-server workbench with the .vsix installed: open
// Get Started from the palette, open the quickstart from its first step, Resume it from the
// CodeLens, watch the rate-limit pause, Stop it, Resume it to the end from the walkthrough,
// and see every step checked. Screenshots go to test-artifacts/walkthrough-*.png.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { palette as openCommand, until } from './workbench.mjs';

const shots = path.resolve('test-artifacts');

export async function walkThrough({ browser, server, workspace, log }) {
  fs.mkdirSync(shots, { recursive: true });
  const page = await browser.newPage();
  const shot = (name) => page.screenshot({ path: path.join(shots, `walkthrough-${name}.png`) });
  const palette = (title) => openCommand(page, title);
  const walkthrough = page.locator('.gettingStartedContainer');
  const IDS = {
    'Open the quickstart': 'openQuickstart',
    'Resume it': 'resume',
    'Watch the rate-limit pause': 'watchPause',
    'Stop it': 'stop',
    'Resume it to the end': 'resumeToTheEnd',
  };
  // Each step is a button.getting-started-step; aria-checked says whether it is done.
  const step = (title) => walkthrough.locator(`button.getting-started-step[data-step-id$="${IDS[title]}"]`).first();
  const checked = (title) => walkthrough.locator(`button.getting-started-step[data-step-id$="${IDS[title]}"][aria-checked="true"]`).first();
  /** The quickstart run's state.json as the runner last wrote it. */
  const runState = () => {
    const root = path.join(workspace, 'resumable-quickstart', '.resumable');
    const [dir] = fs.existsSync(root) ? fs.readdirSync(root) : [];
    const file = dir && path.join(root, dir, 'state.json');
    try {
      return file ? JSON.parse(fs.readFileSync(file, 'utf8')) : undefined;
    } catch {
      return undefined; // not written yet
    }
  };
  try {
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    // The extension is active once its view container is there (activation on *.experiment.json).
    await page.locator('.activitybar [aria-label^="Resumable"]').first().waitFor({ timeout: 60_000 });

    // Room for the walkthrough's media column: no secondary side bar.
    await palette('View: Hide Secondary Side Bar');
    await page.locator('#workbench\\.parts\\.auxiliarybar').waitFor({ state: 'hidden' });
    await palette('Resumable: Get Started');
    await walkthrough.getByText('Get Started with Resumable').first().waitFor({ timeout: 30_000 });
    await step('Open the quickstart').waitFor();
    await shot('1-opened');
    const steps = await walkthrough.locator('button.getting-started-step .step-title').allTextContents();
    log(`ui: walkthrough steps ${JSON.stringify(steps)}`);
    assert.deepEqual(
      steps.map((s) => s.trim()),
      ['Open the quickstart', 'Resume it', 'Watch the rate-limit pause', 'Stop it', 'Resume it to the end'],
    );

    // Step 1's button writes the quickstart and opens it.
    await step('Open the quickstart').click();
    await step('Open the quickstart').locator('.monaco-button', { hasText: 'Open the Quickstart' }).click();
    const tab = page.locator('.tabs-container .tab', { hasText: 'quickstart.experiment.json' });
    await tab.waitFor({ timeout: 30_000 });
    assert.ok(fs.existsSync(path.join(workspace, 'resumable-quickstart', 'model.mjs')), 'the quickstart was written');
    const lens = page.locator('.contentWidgets .codelens-decoration, .codelens-decoration').first();
    await lens.getByText('Resume').waitFor({ timeout: 30_000 });
    log(`ui: CodeLens "${(await lens.textContent())?.trim()}"`);
    assert.match((await lens.textContent()) ?? '', /Resume.*Dry Run.*Start Fresh/);
    await shot('2-quickstart-codelens');

    // Resume from the CodeLens; the run pauses on its one rate limit.
    await lens.getByText('Resume').first().click();
    const status = page.locator('#workbench\\.parts\\.statusbar');
    await status.getByText(/quickstart: rate limited · resumes/i).waitFor({ timeout: 60_000 });
    await shot('3-paused');
    log('ui: the quickstart paused on its rate limit');

    // Stop it (the clean interrupt) once the pause is over and units run again.
    const running = status.getByText(/quickstart \d+\/200/);
    await running.waitFor({ timeout: 60_000 });
    log(`ui: status bar "${(await running.textContent())?.trim()}" after the pause`);
    await palette('Resumable: Stop Experiment');
    const state = await until('the run to end interrupted', () => {
      const s = runState();
      return s?.status === 'interrupted' && s;
    });
    await running.waitFor({ state: 'detached', timeout: 30_000 });
    log(`ui: stopped; state.json counts ${JSON.stringify(state.counts)}`);

    // Back to the walkthrough: the first four steps are done.
    await palette('Resumable: Get Started');
    await step('Resume it to the end').waitFor({ timeout: 30_000 });
    for (const t of ['Open the quickstart', 'Resume it', 'Watch the rate-limit pause', 'Stop it'])
      await checked(t).waitFor({ timeout: 30_000 });
    await shot('4-four-steps-done');

    // Its last step: Resume to the end (the quick pick names the experiments).
    await palette('Notifications: Clear All Notifications');
    await step('Resume it to the end').click();
    // As a person would: the step open and its picture shown before its button is pressed.
    const picture = page.locator('.getting-started-media img[alt^="The run finished"]');
    await picture.waitFor({ timeout: 30_000 });
    await picture.evaluate((img) => img.decode());
    // The walkthrough re-renders when a context key changes (a run's state), which can take the
    // focus from a quick pick and close it: then the button is pressed again.
    for (let tries = 1; ; tries++) {
      await step('Resume it to the end').locator('.monaco-button', { hasText: 'Resume Experiment' }).click();
      const input = page.locator('.quick-input-widget input:visible');
      const row = page.locator('.quick-input-list .monaco-list-row:visible', { hasText: 'quickstart' }).first();
      const picked = await input
        .fill('quickstart', { timeout: 5_000 })
        .then(() => row.click({ timeout: 5_000 }))
        .then(
          () => true,
          () => false,
        );
      if (picked) break;
      log(`ui: the quick pick closed before a pick (try ${tries})`);
      if (tries === 3) throw new Error('the quick pick of Resume Experiment closed three times');
      await page.keyboard.press('Escape');
    }
    // The run's own record says it finished (the notification is the resume UI test's business).
    const done = await until(
      'the quickstart run to complete',
      () => {
        const s = runState();
        return s?.status === 'completed' && s;
      },
      120_000,
    );
    log(`ui: completed; state.json counts ${JSON.stringify(done.counts)}`);
    assert.equal(done.counts.passed + done.counts.failed, 200);
    // The last step is checked when the run's task ends; the walkthrough re-renders then (and
    // takes the focus, which would close a palette opened meanwhile): wait for it first.
    // In CI the walkthrough's page was once left blank (the tab open, nothing drawn): then it is
    // opened again below, where the step must be checked all the same.
    await checked('Resume it to the end')
      .waitFor({ timeout: 30_000 })
      .catch(() => log('ui: the walkthrough page was not drawn after the run; opening it again'));
    // The whole walkthrough in view for the last picture: no panel, no toasts.
    await palette('View: Hide Panel');
    await page.locator('#workbench\\.parts\\.panel').waitFor({ state: 'hidden' });
    await palette('Notifications: Clear All Notifications');
    await page.locator('.notification-toast').first().waitFor({ state: 'detached' });
    await palette('Resumable: Get Started');
    await checked('Resume it to the end').waitFor({ timeout: 30_000 });
    await step('Resume it to the end').click();
    await picture.waitFor({ timeout: 30_000 });
    await picture.evaluate((img) => img.decode());
    await shot('5-all-done');
  } catch (e) {
    await shot('failure').catch(() => undefined);
    throw e;
  } finally {
    await page.close();
  }
}
