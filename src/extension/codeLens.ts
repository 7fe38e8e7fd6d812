import * as vscode from 'vscode';
import { Commands } from './constants';
import { nameLine } from './loaderErrors';

export const EXPERIMENT_FILES: vscode.DocumentSelector = { scheme: 'file', pattern: '**/*.experiment.json' };

/**
 * Resume · Dry Run · Start Fresh over an experiment file's `"name"` (the top of the file
 * without one). Only the document's text is read; nothing at all in an untrusted workspace,
 * where no experiment runs (the lenses appear once it is trusted).
 */
export class ExperimentCodeLens implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly trust = vscode.workspace.onDidGrantWorkspaceTrust(() => this.changed.fire());

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    if (!vscode.workspace.isTrusted) return [];
    const line = nameLine(doc.getText());
    const range = new vscode.Range(line, 0, line, 0);
    const lens = (title: string, command: string, tooltip: string) =>
      new vscode.CodeLens(range, { title, command, tooltip, arguments: [doc.uri] });
    return [
      lens('$(debug-continue) Resume', Commands.resume, 'Run the units not finished yet (a new experiment runs from the start)'),
      lens(
        '$(checklist) Dry Run',
        Commands.dryRun,
        'Say what a run would do (units to run, results on disk to adopt) without running anything',
      ),
      lens('$(debug-restart) Start Fresh', Commands.startFresh, 'Archive the current state and run every unit again'),
      lens('$(graph) Dashboard', Commands.openDashboard, "The run's progress, pass rates and every unit's result (once it has run)"),
    ];
  }

  dispose(): void {
    this.trust.dispose();
    this.changed.dispose();
  }
}
