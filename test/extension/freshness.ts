import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ResumableApi } from '../../src/extension/extension';
import type { TreeNode } from '../../src/extension/model/treeModel';
import { api, logText, recordShown, runDirOf, until, waitForTaskEnd, writeExperiment } from './helpers';

/** The experiment row's description, as the view shows it now. */
function rowOf(a: ResumableApi, label: string): string | undefined {
  const node = a.tree
    .getChildren()
    .find((n): n is Extract<TreeNode, { kind: 'experiment' }> => n.kind === 'experiment' && n.entry.label === label);
  return node ? String(a.tree.getTreeItem(node).description) : undefined;
}

/**
 * Resolves when `check` holds, re-checked on each change of the tree and the status bar (the
 * events the view and the item render from), not on a timer.
 */
function whenShown<T>(a: ResumableApi, what: string, check: () => T | undefined | false, timeoutMs = 60_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const subs: vscode.Disposable[] = [];
    const done = (fn: () => void) => {
      clearTimeout(timer);
      for (const s of subs) s.dispose();
      fn();
    };
    const test = () => {
      const v = check();
      if (v) done(() => resolve(v));
    };
    const timer = setTimeout(() => done(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))), timeoutMs);
    subs.push(a.tree.onDidChangeTreeData(test), a.statusBar.onDidRender(test));
    test();
  });
}

function journalOf(name: string): { t: string; ts: number }[] {
  return fs
    .readFileSync(path.join(runDirOf(name)!, 'journal.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { t: string; ts: number });
}

/** The startup figure and the view's freshness after a rate-limit pause; called inside the trusted suite. */
export function freshnessSuite(): void {
  it('says in the log how long the view took to get its first rows after activation', async () => {
    const a = await api();
    // The channel writes its file a moment after the call.
    const ready = await until(
      'the startup line in the log',
      () => logText(a).match(/startup: tree rows ready \((\d+)\) (\d+) ms after activation began.*/) ?? undefined,
    );
    console.log(`    ${ready[0]}`);
    assert.ok(Number(ready[2]) < 10_000, ready[0]);
    // Whoever asked first (the open view, or a test): the rows a getChildren returned.
    a.tree.getChildren();
    const shown = await until(
      'the line of the rows shown',
      () => logText(a).match(/startup: first tree rows shown \(\d+\) \d+ ms.*/) ?? undefined,
    );
    console.log(`    ${shown[0]}`);
  });

  it('after a rate-limit pause ends, the tree and the status bar say "running" and count on within a second', async () => {
    const a = await api();
    const experiment = writeExperiment('pausing', {
      matrix: { repeat: 2 },
      run: { command: ['node', 'unit.js'], env: { RATE_LIMIT_SECONDS: '3' } },
      concurrency: 2,
      rateLimit: { exitCodes: [75], patterns: ['retry-after: (?<reset>\\d+)'], bufferSeconds: 1 },
    });
    // As a person starts it: Resume Experiment, a task (whose runs the extension also rescans for).
    const execution = await vscode.commands.executeCommand<vscode.TaskExecution | undefined>(
      'resumable.resume',
      vscode.Uri.file(experiment),
    );
    assert.ok(execution, 'Resume started a task');
    const ended = waitForTaskEnd(execution);
    const paused = await whenShown(a, 'the pause in the tree and the status bar', () => {
      const row = rowOf(a, 'pausing');
      return row?.startsWith('rate limited (') && /^\$\(watch\) pausing: rate limited · resumes/.test(a.statusBar.text) && row;
    });
    const pausedDone = Number(/ · (\d+)\/40/.exec(paused)?.[1]);
    // The pause's end as the runner journaled it, and when the view showed the run going again.
    const resumed = await whenShown(a, 'the tree and the status bar to show the run going on', () => {
      const row = rowOf(a, 'pausing');
      const bar = a.statusBar.text;
      return row?.startsWith('running · ') && bar.startsWith('$(sync~spin) pausing ') && { at: Date.now(), row, bar };
    });
    const unpause = journalOf('pausing').find((l) => l.t === 'unpause');
    assert.ok(unpause, 'the runner journaled the end of the pause');
    const lag = resumed.at - unpause.ts;
    console.log(`    paused at "${paused}"; ${lag} ms after the journal's unpause: "${resumed.row}" / "${resumed.bar}"`);
    assert.ok(lag < 1000, `the view caught up ${lag} ms after the pause ended`);
    const counted = await whenShown(a, 'the counts to move after the pause', () => {
      const row = rowOf(a, 'pausing');
      const done = Number(/ · (\d+)\/40/.exec(row ?? '')?.[1]);
      return done > pausedDone && { at: Date.now(), done };
    });
    const firstEnd = journalOf('pausing').find((l) => l.t === 'end' && l.ts > unpause.ts);
    console.log(
      `    counts moved from ${pausedDone} to ${counted.done}${firstEnd ? `, ${counted.at - firstEnd.ts} ms after the first end journaled after the pause` : ''}`,
    );
    assert.equal(await ended, 0);
  });

  it('Start Fresh on an experiment that never ran asks nothing (nothing to archive) and starts it as Resume does', async () => {
    const file = writeExperiment('neverRan');
    const warnings = recordShown('showWarningMessage', 'Start Fresh');
    let execution: vscode.TaskExecution | undefined;
    try {
      execution = await vscode.commands.executeCommand<vscode.TaskExecution | undefined>('resumable.startFresh', vscode.Uri.file(file));
    } finally {
      warnings.dispose();
    }
    assert.deepEqual(warnings.shown, [], 'no modal');
    assert.ok(execution, 'a task was started');
    assert.deepEqual(execution.task.definition.flags, [], 'run as Resume: an unseen run folder would be resumed, never archived unasked');
    assert.equal(await waitForTaskEnd(execution), 0);
  });

  it('Stop says what it waits for ("Stopping …: waiting for N units in flight…"), then where the run stopped', async () => {
    const a = await api();
    const file = writeExperiment('stopping', { matrix: { repeat: 5 }, concurrency: 3 });
    const w = vscode.window as unknown as { withProgress: typeof vscode.window.withProgress };
    const original = w.withProgress;
    const progress: string[] = [];
    w.withProgress = ((options, task) =>
      original.call(vscode.window, options, (p, token) =>
        task(
          {
            report: (v) => {
              if (v.message) progress.push(v.message);
              p.report(v);
            },
          },
          token,
        ),
      )) as typeof vscode.window.withProgress;
    const infos = recordShown('showInformationMessage');
    try {
      const execution = await vscode.commands.executeCommand<vscode.TaskExecution | undefined>('resumable.resume', vscode.Uri.file(file));
      assert.ok(execution);
      await whenShown(a, 'the run going with units in flight', () => {
        const r = a.registry.current.find((e) => e.label === 'stopping')?.report;
        return r?.status === 'running' && r.counts.running > 0 && r.done > 0;
      });
      const ended = waitForTaskEnd(execution);
      await vscode.commands.executeCommand('resumable.stop', vscode.Uri.file(file));
      await ended;
      const said = await until('the notice of where it stopped', () => infos.shown.find((m) => m.message.includes('stopped stopping')));
      console.log(`    progress ${JSON.stringify(progress)}; then "${said.message}"`);
      assert.match(progress[0] ?? '', /^Stopping stopping(: waiting for \d+ units? in flight)?…$/);
      assert.match(said.message, /^Resumable: stopped stopping at \d+\/100 \(\d+ passed.*\)\. Resume Experiment goes on from there\.$/);
    } finally {
      w.withProgress = original;
      infos.dispose();
    }
  });
}
