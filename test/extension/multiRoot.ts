import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { api, until, waitForTaskEnd } from './helpers';

// A .code-workspace of two folders (scripts/test-vscode.mjs makes it): alpha is the fixture
// workspace, beta holds second.experiment.json and a tasks.json naming it.
describe('Resumable in a multi-root workspace', () => {
  const beta = () => vscode.workspace.workspaceFolders!.find((f) => f.name === 'beta')!;

  it('a provided task of an experiment in the second folder runs that file (not one under the first folder)', async () => {
    const a = await api();
    assert.deepEqual(
      vscode.workspace.workspaceFolders!.map((f) => f.name),
      ['alpha', 'beta'],
    );
    const file = path.join(beta().uri.fsPath, 'second.experiment.json');
    await until("the second folder's experiment in the registry", () => a.registry.current.find((e) => e.file === file));
    const tasks = await vscode.tasks.fetchTasks({ type: 'resumable' });
    const task = tasks.find(
      (t) =>
        t.definition.experiment === 'second.experiment.json' && !t.definition.flags && (t.scope as vscode.WorkspaceFolder).name === 'beta',
    );
    assert.ok(task, `tasks: ${tasks.map((t) => `${t.name} (${(t.scope as vscode.WorkspaceFolder).name})`).join(', ')}`);
    const exec = task.execution as vscode.ProcessExecution;
    assert.equal(exec.args[2], file);
    assert.equal(exec.options?.cwd, beta().uri.fsPath);
    assert.equal(await waitForTaskEnd(await vscode.tasks.executeTask(task)), 0);
    await until('the run in the tree, completed', () =>
      a.registry.current.find((e) => e.file === file && e.report?.status === 'completed' && e.report.runDir.startsWith(beta().uri.fsPath)),
    );
  });

  it("a task from the second folder's tasks.json is resolved against that folder (its scope)", async () => {
    const tasks = await vscode.tasks.fetchTasks({ type: 'resumable' });
    const task = tasks.find((t) => t.name === 'second dry run');
    assert.ok(task, `tasks: ${tasks.map((t) => t.name).join(', ')}`);
    assert.equal((task.scope as vscode.WorkspaceFolder).name, 'beta');
    const execution = await vscode.tasks.executeTask(task);
    const ended = waitForTaskEnd(execution);
    // The execution VS Code resolved through our provider: the file it runs is beta's.
    const args = (execution.task.execution as vscode.ProcessExecution | undefined)?.args;
    if (args) assert.equal(args[2], path.join(beta().uri.fsPath, 'second.experiment.json'));
    assert.equal(await ended, 0, 'the dry run found its experiment file');
    assert.ok(!fs.existsSync(path.join(vscode.workspace.workspaceFolders![0]!.uri.fsPath, 'second.experiment.json')));
  });
});
