import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { authoringSuite } from './authoring';
import { dashboardSuite } from './dashboard';
import { diagnosticsSuite } from './diagnostics';
import { freshnessSuite } from './freshness';
import { answerNextPrompt, api, cli, runDirOf, until, waitForTaskEnd, workspaceDir, writeExperiment } from './helpers';

const EVALS = () => path.join(workspaceDir(), 'evals.experiment.json');

describe('Resumable in a real VS Code (trusted workspace)', () => {
  it('activates on a workspace with experiments and lists them', async () => {
    const a = await api();
    assert.equal(vscode.version.split('.')[0], '1');
    const labels = a.registry.current.map((e) => e.label).sort();
    assert.deepEqual(labels, ['evals', 'paced']);
    const commands = await vscode.commands.getCommands(true);
    for (const c of [
      'resumable.resume',
      'resumable.startFresh',
      'resumable.retryErrors',
      'resumable.retryFailed',
      'resumable.repair',
      'resumable.stop',
      'resumable.openRunFolder',
      'resumable.showUnitLog',
    ]) {
      assert.ok(commands.includes(c), `command ${c} is registered`);
    }
  });

  it('provides a task per experiment and runs it to the end (fetchTasks, executeTask)', async () => {
    const tasks = await vscode.tasks.fetchTasks({ type: 'resumable' });
    const task = tasks.find((t) => t.definition.experiment === 'evals.experiment.json');
    assert.ok(task, `tasks: ${tasks.map((t) => t.name).join(', ')}`);
    assert.ok(task.execution instanceof vscode.ProcessExecution);
    const exec = task.execution;
    assert.deepEqual(exec.args.slice(1), ['run', EVALS()]);
    const execution = await vscode.tasks.executeTask(task);
    assert.equal(await waitForTaskEnd(execution), 0);
    const status = JSON.parse((await cli(['status', 'evals.experiment.json', '--json'])).out);
    assert.equal(status.done, 40);
  });

  it('the tree matches the run folder after the run', async () => {
    const a = await api();
    const status = JSON.parse((await cli(['status', 'evals.experiment.json', '--json'])).out);
    const exp = await until('the evals run in the tree', () => {
      const node = a.tree.getChildren().find((n) => n.kind === 'experiment' && n.entry.label === 'evals');
      return node && node.kind === 'experiment' && node.entry.report?.done === 40 && node;
    });
    const item = a.tree.getTreeItem(exp);
    assert.match(String(item.description), /^completed · 40\/40 · 32 passed · 8 failed$/);
    const groups = a.tree.getChildren(exp);
    assert.deepEqual(
      groups.map((g) => g.kind === 'group' && g.group),
      ['alpha', 'beta'],
    );
    for (const g of groups) {
      const buckets = a.tree.getChildren(g);
      const fromTree = Object.fromEntries(buckets.map((b) => (b.kind === 'bucket' ? [b.bucket, b.count] : [])));
      const fromCli = status.groups.find((x: { group: string }) => g.kind === 'group' && x.group === g.group).counts;
      assert.deepEqual(fromTree, { passed: fromCli.passed, failed: fromCli.failed });
      const failedUnits = a.tree.getChildren(buckets.find((b) => b.kind === 'bucket' && b.bucket === 'failed'));
      assert.equal(failedUnits.length, fromCli.failed);
    }
  });

  it('groups the tree by the resumable.tree.groupBy setting (an item field), as `status --by` does, and back', async () => {
    const a = await api();
    const evals = () => {
      const node = a.tree.getChildren().find((n) => n.kind === 'experiment' && n.entry.label === 'evals');
      return node?.kind === 'experiment' ? node : undefined;
    };
    const groupRows = () => a.tree.getChildren(evals()).flatMap((g) => (g.kind === 'group' ? [g] : []));
    const status = JSON.parse((await cli(['status', 'evals.experiment.json', '--by', 'id', '--json'])).out);
    const cfg = vscode.workspace.getConfiguration('resumable');
    await cfg.update('tree.groupBy', 'id', vscode.ConfigurationTarget.Workspace);
    try {
      await until('the evals run grouped by item id', () => evals()?.entry.report?.groupBy === 'id');
      const groups = groupRows();
      assert.deepEqual(
        groups.map((g) => [g.group, g.total]),
        status.groups.map((g: { group: string; total: number }) => [g.group, g.total]),
      );
      assert.equal(groups.length, 20);
      for (const g of groups) {
        const ids = a.tree
          .getChildren(g)
          .flatMap((b) => a.tree.getChildren(b))
          .map((u) => (u.kind === 'unit' ? u.unitId : ''));
        assert.deepEqual(ids.sort(), [`${g.group}/alpha`, `${g.group}/beta`], `the units under group ${g.group}`);
      }
    } finally {
      await cfg.update('tree.groupBy', undefined, vscode.ConfigurationTarget.Workspace);
    }
    await until(
      'the tree grouped by matrix cell again',
      () =>
        groupRows()
          .map((g) => g.group)
          .join() === 'alpha,beta',
    );
  });

  it('picks up a run started by the CLI outside VS Code (file watcher) within seconds', async () => {
    const a = await api();
    const started = Date.now();
    const r = await cli(['run', 'paced.experiment.json', '--concurrency', '8']);
    assert.equal(r.code, 0, r.out);
    const ended = Date.now();
    await until(
      'the watcher to report the finished paced run',
      () => a.registry.current.find((e) => e.label === 'paced' && e.report?.status === 'completed'),
      10_000,
    );
    console.log(`    watcher latency after the CLI exited: ${Date.now() - ended} ms (run took ${ended - started} ms)`);
  });

  it('Retry Failed re-runs only the failed units (as a task)', async () => {
    const dir = runDirOf('evals')!;
    const before = fs.readFileSync(path.join(dir, 'journal.jsonl'), 'utf8').split('\n').length;
    const ended = new Promise<number | undefined>((resolve) => {
      const sub = vscode.tasks.onDidEndTaskProcess((e) => {
        sub.dispose();
        resolve(e.exitCode);
      });
    });
    await vscode.commands.executeCommand('resumable.retryFailed', vscode.Uri.file(EVALS()));
    assert.equal(await ended, 0);
    const lines = fs
      .readFileSync(path.join(dir, 'journal.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .slice(before - 1)
      .map((l) => JSON.parse(l));
    const requeue = lines.find((l) => l.t === 'requeue');
    assert.equal(requeue.u.length, 8, 'the 8 failed units, and only them');
    assert.equal(lines.filter((l) => l.t === 'start').length, 8);
  });

  it('Repair shows the dry-run diff, applies only on confirmation, and adopts what the journal lost', async () => {
    const dir = runDirOf('evals')!;
    const journal = path.join(dir, 'journal.jsonl');
    const original = fs.readFileSync(journal, 'utf8');
    fs.writeFileSync(
      journal,
      original
        .split('\n')
        .filter((l) => !l.includes('"t":"end"') && !l.includes('"t":"adopt"'))
        .join('\n'),
    );
    const cancel = answerNextPrompt('showWarningMessage', undefined);
    await vscode.commands.executeCommand('resumable.repair', vscode.Uri.file(EVALS()));
    assert.equal((await cancel.asked).message, 'Repair the checkpoint of evals? The repair adopts 40 results the journal missed.');
    assert.ok(!fs.readFileSync(journal, 'utf8').includes('"t":"adopt"'), 'cancelled: nothing written');
    const confirm = answerNextPrompt('showWarningMessage', 'Repair');
    await vscode.commands.executeCommand('resumable.repair', vscode.Uri.file(EVALS()));
    assert.match((await confirm.asked).detail ?? '', /backed up/);
    assert.equal(
      fs
        .readFileSync(journal, 'utf8')
        .split('\n')
        .filter((l) => l.includes('"t":"adopt"')).length,
      40,
    );
    assert.ok(fs.readdirSync(path.join(dir, 'archive')).some((d) => d.endsWith('-before-repair')));
  });

  it('Start Fresh asks with a modal that names what is archived, then archives and reruns', async () => {
    const dir = runDirOf('evals')!;
    const a = await api();
    await until('the view to show the repaired run', () => a.registry.current.find((e) => e.label === 'evals' && e.report?.done === 40));
    const confirm = answerNextPrompt('showWarningMessage', 'Start Fresh');
    const ended = new Promise<number | undefined>((resolve) => {
      const sub = vscode.tasks.onDidEndTaskProcess((e) => {
        sub.dispose();
        resolve(e.exitCode);
      });
    });
    await vscode.commands.executeCommand('resumable.startFresh', vscode.Uri.file(EVALS()));
    const asked = await confirm.asked;
    assert.match(asked.message, /Start evals from scratch\?/);
    assert.match(asked.detail ?? '', /40 finished units.*moves to .*archive/);
    assert.equal(await ended, 0);
    const archived = fs.readdirSync(path.join(dir, 'archive')).filter((d) => !d.endsWith('-before-repair'));
    assert.equal(archived.length, 1);
    assert.ok(fs.existsSync(path.join(dir, 'archive', archived[0]!, 'journal.jsonl')));
  });

  it('a sharded run: the tree shows every shard (state, host) and totals by unit id, as status --json does', async () => {
    const a = await api();
    fs.writeFileSync(
      path.join(workspaceDir(), 'sharded.experiment.json'),
      JSON.stringify({
        name: 'sharded',
        items: { file: 'data/items.jsonl' },
        run: { command: ['node', 'unit.js'] },
        concurrency: 4,
      }),
    );
    for (const k of [1, 2]) assert.equal((await cli(['run', 'sharded.experiment.json', '--shard', `${k}/3`])).code, 0);
    const status = JSON.parse((await cli(['status', 'sharded.experiment.json', '--json'])).out);
    assert.deepEqual(
      status.shards.map((s: { state: string }) => s.state),
      ['done', 'done', 'missing'],
    );
    const exp = await until('the sharded run in the tree', () => {
      const node = a.tree.getChildren().find((n) => n.kind === 'experiment' && n.entry.label === 'sharded');
      return node && node.kind === 'experiment' && node.entry.report?.shards.length === 3 && node.entry.report.done === status.done && node;
    });
    const [shardsNode, ...buckets] = a.tree.getChildren(exp);
    assert.equal(shardsNode!.kind, 'shards');
    assert.match(String(a.tree.getTreeItem(shardsNode!).description), /^0 running · 2 done · 1 missing$/);
    const rows = a.tree.getChildren(shardsNode).map((n) => [a.tree.getTreeItem(n).label, a.tree.getTreeItem(n).description]);
    const host = status.shards[0].host;
    assert.deepEqual(rows, [
      ['Shard 1/3', `done · ${status.shards[0].done}/${status.shards[0].total} · ${host}`],
      ['Shard 2/3', `done · ${status.shards[1].done}/${status.shards[1].total} · ${host}`],
      ['Shard 3/3', `missing · 0/${status.shards[2].total}`],
    ]);
    const fromTree = Object.fromEntries(buckets.map((b) => (b.kind === 'bucket' ? [b.bucket, b.count] : [])));
    assert.deepEqual(fromTree, Object.fromEntries(Object.entries(status.counts).filter(([, v]) => (v as number) > 0)));
    assert.equal((await cli(['run', 'sharded.experiment.json', '--shard', '3/3'])).code, 0);
    await until(
      'all three shards done in the tree',
      () =>
        a.registry.current.find(
          (e) => e.label === 'sharded' && e.report?.status === 'completed' && e.report.shards.every((s) => s.state === 'done'),
        ),
      15_000,
    );
  });

  it("a run in the user's own layout: the tree counts the adopted results, and a unit opens its result file (it has no log)", async () => {
    const a = await api();
    const results = path.join(workspaceDir(), 'mine');
    for (const [run, passed] of [
      ['run_01', true],
      ['run_02', false],
    ] as const) {
      fs.mkdirSync(path.join(results, 'T0', run), { recursive: true });
      fs.writeFileSync(path.join(results, 'T0', run, 'run_result.json'), JSON.stringify({ judge_passed: passed }));
    }
    writeExperiment('mine', {
      items: { glob: 'mine/T*/run_*/' },
      run: { command: ['node', '-e', 'process.exit(3)'] },
      result: { path: '${item.path}/run_result.json', passed: 'judge_passed' },
    });
    const r = await cli(['run', 'mine.experiment.json']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /Adopted 2 result/);
    const exp = await until('the adopted run in the tree', () => {
      const node = a.tree.getChildren().find((n) => n.kind === 'experiment' && n.entry.label === 'mine');
      return node && node.kind === 'experiment' && node.entry.report?.done === 2 && node;
    });
    const passedBucket = a.tree.getChildren(exp).find((b) => b.kind === 'bucket' && b.bucket === 'passed');
    const [unit] = a.tree.getChildren(passedBucket);
    assert.ok(unit && unit.kind === 'unit' && unit.unitId === 'mine/T0/run_01', JSON.stringify(unit));
    await vscode.commands.executeCommand('resumable.showUnitLog', unit);
    await until(
      'its result file open in an editor',
      () => vscode.window.activeTextEditor?.document.uri.fsPath === path.join(results, 'T0', 'run_01', 'run_result.json'),
    );
  });

  describe('log, errors, other hosts', diagnosticsSuite);
  describe('startup figure, freshness after a pause', freshnessSuite);
  describe('writing experiments: CodeLens, the loader in the Problems view, New Experiment File', authoringSuite);
  describe('the dashboard, Open Result, Retry This Unit', dashboardSuite);
});
