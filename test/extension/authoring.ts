import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { api, cli, recordShown, until, waitForTaskEnd, workspaceDir } from './helpers';

const ours = (d: readonly vscode.Diagnostic[]) => d.filter((x) => x.source === 'resumable');
/** What the Problems view holds from Resumable for a file (the real diagnostics API). */
const problems = (uri: vscode.Uri) => ours(vscode.languages.getDiagnostics(uri));

/** CodeLens, the loader's errors while typing, New Experiment File; called inside the trusted suite. */
export function authoringSuite(): void {
  it('an experiment file has Resume · Dry Run · Start Fresh over its "name" line, and Dry Run runs the task with --dry-run', async () => {
    await api();
    const uri = vscode.Uri.file(path.join(workspaceDir(), 'evals.experiment.json'));
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const lenses = await until('the CodeLens of evals.experiment.json', async () => {
      const all = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
      const mine = all.filter((l) => l.command?.command.startsWith('resumable.'));
      return mine.length ? mine : undefined;
    });
    assert.deepEqual(
      lenses.map((l) => [l.command!.command, l.command!.title]),
      [
        ['resumable.resume', '$(debug-continue) Resume'],
        ['resumable.dryRun', '$(checklist) Dry Run'],
        ['resumable.startFresh', '$(debug-restart) Start Fresh'],
        ['resumable.openDashboard', '$(graph) Dashboard'],
      ],
    );
    const nameLine = doc
      .getText()
      .split('\n')
      .findIndex((l) => l.trimStart().startsWith('"name"'));
    assert.ok(nameLine > 0);
    for (const l of lenses) {
      assert.equal(l.range.start.line, nameLine, 'on the "name" line');
      assert.equal(String(l.command!.arguments?.[0]), String(uri), 'for this file');
    }
    const dry = lenses[1]!.command!;
    const execution = await vscode.commands.executeCommand<vscode.TaskExecution>(dry.command, ...(dry.arguments ?? []));
    assert.ok(execution, 'Dry Run started a task');
    assert.deepEqual((execution.task.execution as vscode.ProcessExecution).args.slice(1), ['run', uri.fsPath, '--dry-run']);
    assert.equal(execution.task.name, 'Dry Run: evals');
    assert.equal(await waitForTaskEnd(execution), 0);
  });

  it('the Problems view shows an unknown placeholder on exactly its ${…} while typing, and clears when it is fixed', async () => {
    const a = await api();
    const file = path.join(workspaceDir(), 'typo.experiment.json');
    const text = [
      '{',
      '  "name": "typo",',
      '  "items": { "file": "data/items.jsonl" },',
      '  "matrix": { "model": ["a", "b"] },',
      '  "run": { "command": ["node", "unit.js", "--model", "${modle}"] }',
      '}',
      '',
    ].join('\n');
    fs.writeFileSync(file, text.replace('${modle}', '${model}'));
    const uri = vscode.Uri.file(file);
    const doc = await vscode.workspace.openTextDocument(uri);
    const editor = await vscode.window.showTextDocument(doc);
    // Typed, not saved: the check reads the editor's text.
    const start = doc.getText().indexOf('${model}');
    await editor.edit((e) => e.replace(new vscode.Range(doc.positionAt(start), doc.positionAt(start + 8)), '${modle}'));
    const [d] = await until('the unknown placeholder in the Problems view', () => {
      const p = problems(uri);
      return p.length ? p : undefined;
    });
    assert.equal(problems(uri).length, 1);
    assert.match(d!.message, /^Unknown placeholder \$\{modle\}.*; expected one of .*\$\{model\}/);
    assert.equal(d!.severity, vscode.DiagnosticSeverity.Error);
    const col = text.split('\n')[4]!.indexOf('${modle}');
    assert.deepEqual(
      [d!.range.start.line, d!.range.start.character, d!.range.end.line, d!.range.end.character],
      [4, col, 4, col + '${modle}'.length],
    );
    assert.deepEqual(a.authoring.diagnostics.diagnosticsOf(uri), problems(uri));
    // The loader's "did you mean" is a Quick Fix; applied, the error goes.
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, d!.range);
    const fix = actions.find((x) => x.title === 'Change to ${model}');
    assert.ok(fix?.edit, `quick fixes: ${actions.map((x) => x.title).join(', ')}`);
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    assert.equal(doc.lineAt(4).text, text.split('\n')[4]!.replace('${modle}', '${model}'));
    await until('the Problems view to clear', () => problems(uri).length === 0);
    await doc.save();
  });

  it('a missing dataset is resolved and named from the experiment\'s folder, on "items.file"; closing the file clears it', async () => {
    const dir = path.join(workspaceDir(), 'nested');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'nodata.experiment.json');
    // data/items.jsonl exists in the workspace folder, not in nested/: the loader must look in nested/.
    fs.writeFileSync(
      file,
      '{\n  "name": "nodata",\n  "items": { "file": "data/items.jsonl" },\n  "run": { "command": ["node", "u.js"] }\n}\n',
    );
    const uri = vscode.Uri.file(file);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const [d] = await until('the missing dataset in the Problems view', () => {
      const p = problems(uri);
      return p.length ? p : undefined;
    });
    assert.equal(d!.message, 'Expected a readable dataset at data/items.jsonl, got no such file');
    assert.deepEqual([d!.range.start.line, d!.range.start.character], [2, '  "items": { "file": '.length]);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    await until('the diagnostics to go with the closed file', () => problems(uri).length === 0);
    // Open again: checked again.
    await vscode.window.showTextDocument(uri);
    await until('the missing dataset again', () => problems(uri).length === 1);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('New Experiment File writes an experiment, its unit script and items (never over a file), and its first Resume completes', async () => {
    const a = await api();
    const made = await vscode.commands.executeCommand<vscode.Uri>('resumable.newExperiment', undefined, 'first-eval');
    const dir = path.join(workspaceDir(), 'first-eval');
    assert.equal(made?.fsPath, path.join(dir, 'first-eval.experiment.json'));
    assert.deepEqual(fs.readdirSync(dir).sort(), ['first-eval.experiment.json', 'items.jsonl', 'unit.mjs']);
    assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, made.fsPath, 'the experiment is open');
    const config = fs.readFileSync(made.fsPath, 'utf8');
    assert.ok(!config.includes('"429"'), 'no bare "429" rate-limit pattern');
    // The same name again: refused, nothing written over.
    fs.appendFileSync(path.join(dir, 'items.jsonl'), '');
    const before = fs.readFileSync(path.join(dir, 'unit.mjs'), 'utf8');
    const errors = recordShown('showErrorMessage', '');
    try {
      assert.equal(await vscode.commands.executeCommand('resumable.newExperiment', undefined, 'first-eval'), undefined);
    } finally {
      errors.dispose();
    }
    assert.match(errors.shown[0]?.message ?? '', /first-eval exists already; nothing was written/);
    assert.equal(fs.readFileSync(path.join(dir, 'unit.mjs'), 'utf8'), before);
    // A real run of what it wrote.
    const execution = await vscode.commands.executeCommand<vscode.TaskExecution>('resumable.resume', made);
    assert.ok(execution, 'Resume started a task');
    assert.equal(await waitForTaskEnd(execution), 0);
    const status = JSON.parse((await cli(['status', path.join('first-eval', 'first-eval.experiment.json'), '--json'])).out);
    assert.equal(status.done, 10);
    assert.equal(status.counts.passed, 10);
    await until('the new run in the tree', () => a.registry.current.find((e) => e.label === 'first-eval' && e.report?.done === 10));
    assert.equal(problems(made).length, 0, 'no error on the new experiment');
  });
}
