import * as vscode from 'vscode';
import { DidYouMeanFixes } from './codeActions';
import { ExperimentCodeLens, EXPERIMENT_FILES } from './codeLens';
import { Commands, TaskType, Walkthrough } from './constants';
import { ExperimentDiagnostics } from './diagnostics';
import type { Log } from './log';
import { openQuickstart } from './newExperiment';
import type { RunRegistry } from './runs';
import { registerSafeCommand } from './safeCommand';

export interface Authoring {
  readonly diagnostics: ExperimentDiagnostics;
  readonly codeLens: ExperimentCodeLens;
  readonly disposables: readonly vscode.Disposable[];
}

/**
 * Writing and starting experiments: CodeLens on experiment files, the loader's errors
 * while typing, the Get Started walkthrough and its quickstart. Cheap to register: nothing
 * here reads a file or loads the engine until an experiment file is open.
 */
export function registerAuthoring(log: Log, registry: RunRegistry): Authoring {
  const diagnostics = new ExperimentDiagnostics(log);
  const codeLens = new ExperimentCodeLens();
  const setContext = (key: string) => void vscode.commands.executeCommand('setContext', key, true);
  const disposables: vscode.Disposable[] = [
    diagnostics,
    codeLens,
    vscode.languages.registerCodeLensProvider(EXPERIMENT_FILES, codeLens),
    vscode.languages.registerCodeActionsProvider(EXPERIMENT_FILES, new DidYouMeanFixes(), {
      providedCodeActionKinds: DidYouMeanFixes.kinds,
    }),
    registerSafeCommand(log, Commands.openQuickstart, () => openQuickstart(log)),
    registerSafeCommand(log, Commands.getStarted, () =>
      vscode.commands.executeCommand('workbench.action.openWalkthrough', Walkthrough.id, false),
    ),
    // The walkthrough's steps "resume", "watch the pause" and "resume to the end" are done when they happened,
    // however the run was started (CodeLens, ▶, the tree, the palette).
    registry.onDidChange((change) => {
      if (change.changed.some((c) => c.next.status === 'paused_rate_limit')) setContext(Walkthrough.sawPauseKey);
      // A run seen going from live to completed is a resume to the end too: in code-server a task's
      // end event came without its exit code now and then, and the step stayed unchecked.
      if (
        change.changed.some(
          (c) => c.next.status === 'completed' && (c.prev?.status === 'running' || c.prev?.status === 'paused_rate_limit'),
        )
      )
        setContext(Walkthrough.finishedKey);
    }),
    vscode.tasks.onDidStartTaskProcess((e) => {
      const def = e.execution.task.definition as { type?: string; flags?: readonly string[] };
      if (def.type === TaskType && !def.flags?.includes('--dry-run')) setContext(Walkthrough.ranKey);
    }),
    vscode.tasks.onDidEndTaskProcess((e) => {
      const def = e.execution.task.definition as { type?: string; flags?: readonly string[] };
      if (def.type === TaskType && e.exitCode === 0 && !def.flags?.includes('--dry-run')) setContext(Walkthrough.finishedKey);
    }),
  ];
  return { diagnostics, codeLens, disposables };
}
