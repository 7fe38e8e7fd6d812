import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Log } from './log';
import { experimentFiles, freeFolder, NAME_RE, quickstartFiles } from './starterFiles';

/** Writes files into a new folder; refuses (never overwrites) when the folder exists. */
async function writeNew(folder: vscode.Uri, files: Record<string, string>): Promise<void> {
  if (fs.existsSync(folder.fsPath)) throw new Error(`${vscode.workspace.asRelativePath(folder)} exists already; nothing was written`);
  for (const [name, text] of Object.entries(files)) {
    await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(folder, name), Buffer.from(text));
  }
}

/** Where to create: the folder the explorer's menu was opened on, else the (picked) workspace folder. */
async function targetFolder(arg: unknown): Promise<vscode.Uri | undefined> {
  if (arg instanceof vscode.Uri && arg.scheme === 'file') {
    try {
      return fs.statSync(arg.fsPath).isDirectory() ? arg : vscode.Uri.file(path.dirname(arg.fsPath));
    } catch {
      // Gone: fall back to the workspace.
    }
  }
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length <= 1) return folders[0]?.uri;
  return (await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Workspace folder for the new experiment' }))?.uri;
}

/**
 * New Experiment File: a folder `<name>/` with `<name>.experiment.json`, the unit it runs
 * (`unit.mjs`, Node: the one runtime every editor's machine has) and its items, so the
 * first Resume succeeds. `name` (a command argument) skips the prompt.
 */
export async function newExperiment(log: Log, arg?: unknown, name?: unknown): Promise<vscode.Uri | undefined> {
  const parent = await targetFolder(arg);
  if (!parent) {
    void vscode.window.showInformationMessage('Resumable: open a folder first; the experiment is written into it.');
    return undefined;
  }
  const chosen =
    typeof name === 'string'
      ? name
      : await vscode.window.showInputBox({
          title: 'New Experiment',
          prompt: `A folder of this name is made in ${vscode.workspace.asRelativePath(parent)}, holding the experiment, its unit script and items`,
          value: freeFolder(parent.fsPath, 'my-eval'),
          validateInput: (v) =>
            !NAME_RE.test(v)
              ? 'Letters, digits, ".", "_", "-" (at most 64): the name is part of the run folder name'
              : fs.existsSync(path.join(parent.fsPath, v))
                ? `${v} exists already: pick another name`
                : undefined,
        });
  if (chosen === undefined) return undefined;
  if (!NAME_RE.test(chosen)) throw new Error(`"${chosen}" is not a valid experiment name (letters, digits, ".", "_", "-")`);
  const folder = vscode.Uri.joinPath(parent, chosen);
  await writeNew(folder, experimentFiles(chosen));
  const file = vscode.Uri.joinPath(folder, `${chosen}.experiment.json`);
  log.info(`new experiment: wrote ${folder.fsPath} (experiment, unit.mjs, items.jsonl)`);
  await vscode.window.showTextDocument(file);
  return file;
}

/** The walkthrough's quickstart: opened if the workspace has it, else written into `resumable-quickstart/`. */
export async function openQuickstart(log: Log): Promise<vscode.Uri | undefined> {
  const [existing] = await vscode.workspace.findFiles('**/quickstart.experiment.json', '{**/node_modules/**,**/.resumable/**}', 1);
  let file = existing;
  if (!file) {
    const parent = await targetFolder(undefined);
    if (!parent) {
      void vscode.window.showInformationMessage('Resumable: open a folder first; the quickstart is written into it.');
      return undefined;
    }
    const folder = vscode.Uri.joinPath(parent, freeFolder(parent.fsPath, 'resumable-quickstart'));
    await writeNew(folder, quickstartFiles());
    log.info(`quickstart: wrote ${folder.fsPath}`);
    file = vscode.Uri.joinPath(folder, 'quickstart.experiment.json');
  }
  await vscode.window.showTextDocument(file);
  return file;
}
