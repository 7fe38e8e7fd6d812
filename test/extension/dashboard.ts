import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CompareTestState } from '../../src/extension/dashboard/compareProtocol';
import type { TestState } from '../../src/extension/dashboard/protocol';
import type { TreeNode } from '../../src/extension/model/treeModel';
import { api, cli, recordShown, runDirOf, until, waitForTaskEnd, workspaceDir, writeExperiment } from './helpers';

/** The dashboard webview's own state (the test hook), after setting its filter when given. */
async function shown(runDir: string, filter?: string): Promise<TestState | undefined> {
  return vscode.commands.executeCommand<TestState | undefined>('resumable.test.dashboardState', runDir, filter);
}

/** Polls the webview until `check` holds on what it shows; each poll is one round trip to it. */
function untilShown(runDir: string, what: string, check: (s: TestState) => boolean, timeoutMs = 60_000): Promise<TestState> {
  return until(
    what,
    async () => {
      const s = await shown(runDir);
      return s && check(s) ? s : undefined;
    },
    timeoutMs,
  );
}

/** The dashboard (a webview per run), Open Result and Retry This Unit; called inside the trusted suite. */
export function dashboardSuite(): void {
  it('the dashboard opens on a finished run, shows its rows, and its filter narrows them', async () => {
    const a = await api();
    writeExperiment('dash', { matrix: { model: ['alpha', 'beta'] } });
    const run = await cli(['run', 'dash.experiment.json']);
    assert.equal(run.code, 0, run.out);
    const runDir = runDirOf('dash')!;
    await until('the dash run in the registry', () => a.registry.runOf(runDir)?.report.done === 40);
    await vscode.commands.executeCommand('resumable.openDashboard', runDir);
    const all = await untilShown(runDir, 'the rows in the webview', (s) => s.total === 40);
    assert.equal(all.done, 40);
    assert.equal(all.status, 'completed');
    assert.equal(all.shown, 40);
    assert.ok(all.buckets > 0, 'a history');

    const failed = await shown(runDir, 'status:failed');
    assert.equal(failed?.shown, 8, JSON.stringify(failed));
    const betaFailed = await shown(runDir, 'beta status:failed');
    assert.deepEqual(betaFailed?.firstIds, ['q-05/beta', 'q-10/beta', 'q-15/beta', 'q-20/beta']);
    assert.equal((await shown(runDir, 'Q-1'))?.shown, 20, 'text is matched case-insensitively, in the id');
    assert.equal((await shown(runDir, ''))?.shown, 40);

    // Opened again: the same panel, not a second one.
    await vscode.commands.executeCommand('resumable.openDashboard', runDir);
    const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.label === 'Resumable: dash');
    assert.equal(tabs.length, 1);
    for (const t of tabs) await vscode.window.tabGroups.close(t);
  });

  it('follows a run as it goes: changed rows arrive, the pause shows on the timeline, only a window of rows is drawn', async () => {
    const a = await api();
    // One rate limit (q-05's first request) that resets in 2 s.
    writeExperiment('dashlive', {
      matrix: { repeat: 3 },
      concurrency: 2,
      run: { command: ['node', 'unit.js'], env: { RATE_LIMIT_SECONDS: '2' } },
      rateLimit: { exitCodes: [75], patterns: ['retry-after: (?<reset>\\d+)'], bufferSeconds: 1 },
    });
    const running = cli(['run', 'dashlive.experiment.json']);
    const runDir = await until('the dashlive run folder', () => {
      const d = runDirOf('dashlive');
      return d && a.registry.runOf(d) ? d : undefined;
    });
    await vscode.commands.executeCommand('resumable.openDashboard', runDir);
    const mid = await untilShown(runDir, 'the run in the webview mid-run', (s) => s.total === 60 && s.done < 60);
    const end = await untilShown(runDir, 'the end of the run in the webview', (s) => s.done === 60, 90_000);
    assert.equal((await running).code, 0);
    assert.ok(end.updates > 0, `incremental updates after the first load (${end.updates})`);
    // A unit changes a few times (running, its end, a rate limit): the whole run every update would be updates × 60.
    assert.ok(end.changedRows <= 4 * 60, `${end.changedRows} rows in ${end.updates} updates`);
    assert.ok(end.changedRows >= 60 - mid.done, 'every unit that ended after the first load came as a change');
    assert.ok(end.pauses >= 1, 'the rate-limit pause is on the timeline');
    assert.ok(end.rendered > 0 && end.rendered < 60, `a window of rows in the DOM (${end.rendered} of 60)`);
    console.log(
      `    mid-run ${mid.done}/60, at the end ${end.updates} update(s) carrying ${end.changedRows} row(s), ${end.pauses} pause(s), ${end.rendered} rows drawn`,
    );
    await until('the final report in the webview', async () => (await shown(runDir))?.status === 'completed');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('Open Dashboard on an experiment that has not run says so (no panel, no error)', async () => {
    const file = writeExperiment('dashnew');
    const info = recordShown('showInformationMessage', '');
    const errors = recordShown('showErrorMessage', '');
    try {
      await vscode.commands.executeCommand('resumable.openDashboard', vscode.Uri.file(file));
    } finally {
      info.dispose();
      errors.dispose();
    }
    assert.deepEqual(
      info.shown.map((m) => m.message),
      ['Resumable: dashnew has no run yet; its dashboard opens once it runs.'],
    );
    assert.deepEqual(errors.shown, []);
    fs.rmSync(file);
  });

  it('Open Result opens a unit’s result file; Retry This Unit runs only that unit again', async () => {
    const a = await api();
    const runDir = runDirOf('dash')!;
    const entry = a.registry.current.find((e) => e.label === 'dash')!;
    const unit = (unitId: string, bucket: 'passed' | 'failed'): TreeNode => ({
      kind: 'unit',
      id: `test|${unitId}`,
      entry,
      unitId,
      bucket,
      shown: bucket,
      attempts: 1,
    });
    await vscode.commands.executeCommand('resumable.openResult', unit('q-01/alpha', 'passed'));
    const resultFile = path.join(runDir, 'units');
    await until('the result open in an editor', () => {
      const f = vscode.window.activeTextEditor?.document.uri.fsPath;
      return f?.startsWith(resultFile) && f.endsWith('result.json');
    });

    const before = fs.readFileSync(path.join(runDir, 'journal.jsonl'), 'utf8').length;
    const execution = await vscode.commands.executeCommand<vscode.TaskExecution | undefined>(
      'resumable.retryUnit',
      unit('q-05/beta', 'failed'),
    );
    assert.ok(execution, 'a task started');
    assert.deepEqual(execution.task.definition.flags, ['--retry-failed', '--unit', 'q-05/beta']);
    assert.equal(execution.task.name, 'Retry q-05/beta: dash');
    assert.equal(await waitForTaskEnd(execution), 0);
    const added = fs
      .readFileSync(path.join(runDir, 'journal.jsonl'), 'utf8')
      .slice(before)
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      [...new Set(added.filter((r) => r.u !== undefined).map((r) => (Array.isArray(r.u) ? r.u.join() : r.u)))],
      ['q-05/beta'],
      'only that unit was requeued and ran',
    );
  });

  it('the compare view of two runs shows the unit that regressed and both pass rates', async () => {
    const a = await api();
    // A unit that passes unless its item is BREAK (and, as the fixture's, every fifth item fails).
    fs.writeFileSync(
      path.join(workspaceDir(), 'cmpunit.js'),
      `const fs = require('node:fs'); const path = require('node:path'); const item = process.env.RESUMABLE_ITEM_ID;
fs.writeFileSync(path.join(process.env.RESUMABLE_UNIT_DIR, 'result.json'), JSON.stringify({ passed: Number(item.slice(2)) % 5 !== 0 && item !== process.env.BREAK }));`,
    );
    writeExperiment('cmpa', { run: { command: ['node', 'cmpunit.js'] } });
    writeExperiment('cmpb', { run: { command: ['node', 'cmpunit.js'], env: { BREAK: 'q-03' } } });
    for (const name of ['cmpa', 'cmpb']) {
      const r = await cli(['run', `${name}.experiment.json`]);
      assert.equal(r.code, 0, r.out);
    }
    const [dirA, dirB] = [runDirOf('cmpa')!, runDirOf('cmpb')!];
    await until(
      'both runs in the registry',
      () => a.registry.runOf(dirA)?.report.done === 20 && a.registry.runOf(dirB)?.report.done === 20,
    );
    await vscode.commands.executeCommand('resumable.compareRuns', dirA, dirB);
    const st = await until(
      'the comparison in the webview',
      async () => {
        const s = await vscode.commands.executeCommand<CompareTestState | undefined>('resumable.test.compareState', dirA, dirB);
        return s && s.renders > 0 ? s : undefined;
      },
      60_000,
    );
    assert.equal(st.error, '');
    assert.equal(st.matched, 20);
    assert.deepEqual(st.regressions, ['q-03']);
    assert.deepEqual(st.fixes, []);
    assert.equal(st.groups.length, 1, JSON.stringify(st.groups));
    assert.match(st.groups[0]!.a, /^16\/20 80% \[\d+%–\d+%\]$/);
    assert.match(st.groups[0]!.b, /^15\/20 75% \[\d+%–\d+%\]$/);
    assert.equal(st.groups[0]!.points, '−5 pts');
    const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.label === 'Resumable: cmpa ↔ cmpb');
    assert.equal(tabs.length, 1);
    for (const t of tabs) await vscode.window.tabGroups.close(t);
  });
}
