import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { api, runDirOf, until, workspaceDir } from './helpers';

describe('Resumable in an untrusted workspace', () => {
  it('shows state but runs no task or command', async () => {
    assert.equal(vscode.workspace.isTrusted, false, 'this suite needs an untrusted workspace');
    const a = await api();
    // The fixture's evals run was made beforehand by the CLI: the view still shows it.
    const entry = await until('the evals run in the registry', () => a.registry.current.find((e) => e.label === 'evals' && e.report));
    assert.equal(entry.report!.done, 40);
    // vscode.tasks.fetchTasks itself waits for a trust decision here; ask our provider directly.
    assert.deepEqual(a.tasks.provideTasks(), []);
    assert.equal(
      a.tasks.resolveTask(
        new vscode.Task({ type: 'resumable', experiment: 'paced.experiment.json' }, vscode.TaskScope.Workspace, 'x', 'resumable'),
      ),
      undefined,
    );
    // No Resume · Dry Run · Start Fresh lenses where nothing may run.
    assert.deepEqual(
      a.authoring.codeLens.provideCodeLenses(await vscode.workspace.openTextDocument(path.join(workspaceDir(), 'paced.experiment.json'))),
      [],
    );
    for (const cmd of [
      'resumable.resume',
      'resumable.startFresh',
      'resumable.retryErrors',
      'resumable.repair',
      'resumable.run',
      'resumable.dryRun',
    ]) {
      await vscode.commands.executeCommand(cmd, vscode.Uri.file(path.join(workspaceDir(), 'paced.experiment.json')));
    }
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(runDirOf('paced'), undefined, 'nothing ran');
    assert.equal(fs.readdirSync(path.join(runDirOf('evals')!)).includes('archive'), false, 'nothing archived or repaired');
    assert.equal(vscode.tasks.taskExecutions.length, 0);
  });
});
