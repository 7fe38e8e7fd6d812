import * as path from 'node:path';
import * as vscode from 'vscode';
import { Settings, TaskType } from './constants';
import { resolveExperiment, taskExperiment } from './model/taskPaths';

/** What a `resumable` task runs: `resumable run <experiment> [flags]`. */
export interface ResumableTaskDefinition extends vscode.TaskDefinition {
  readonly type: typeof TaskType;
  /** The experiment file, relative to the task's workspace folder (or absolute). */
  readonly experiment: string;
  readonly flags?: readonly string[];
}

export const FLAG_LABELS: Record<string, string> = {
  '': 'Resume',
  '--fresh': 'Start Fresh',
  '--retry-errors': 'Retry Errors',
  '--retry-failed': 'Retry Failed',
  '--dry-run': 'Dry Run',
};

/**
 * Tasks run the bundled CLI in a process of their own (ProcessExecution with an argv array,
 * no shell), so a run outlives the view and behaves exactly as in a terminal. The runtime is
 * the extension host's own executable with ELECTRON_RUN_AS_NODE=1 (Electron acts as Node;
 * plain Node ignores it), unless `resumable.nodePath` names another.
 */
export class ResumableTaskProvider implements vscode.TaskProvider {
  constructor(
    private readonly cliPath: string,
    private readonly experiments: () => readonly string[],
  ) {}

  provideTasks(): vscode.Task[] {
    if (!vscode.workspace.isTrusted) return [];
    return this.experiments().map((file) => {
      const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(file));
      return this.build({ type: TaskType, experiment: taskExperiment(file, folder?.uri.fsPath) }, folder);
    });
  }

  resolveTask(task: vscode.Task): vscode.Task | undefined {
    const def = task.definition as ResumableTaskDefinition;
    if (!vscode.workspace.isTrusted || typeof def.experiment !== 'string') return undefined;
    return this.build(def, task.scope);
  }

  build(def: ResumableTaskDefinition, scope?: vscode.Task['scope']): vscode.Task {
    const abs = absolute(def.experiment, scope);
    const folder = folderScope(scope) ?? vscode.workspace.getWorkspaceFolder(vscode.Uri.file(abs));
    const nodePath = vscode.workspace.getConfiguration(Settings.section).get<string>(Settings.nodePath) || process.execPath;
    const exec = new vscode.ProcessExecution(nodePath, [this.cliPath, 'run', abs, ...(def.flags ?? [])], {
      cwd: folder?.uri.fsPath ?? path.dirname(abs),
      env: { ELECTRON_RUN_AS_NODE: '1' },
    });
    const flags = def.flags ?? [];
    // `--unit <id>` (Retry This Unit): the task is named by the unit, not by a row of flags.
    const units = flags.flatMap((f, i) => (f === '--unit' && flags[i + 1] !== undefined ? [flags[i + 1]!] : []));
    const verb = FLAG_LABELS[flags.join(' ')] ?? (units.length ? `Retry ${units.join(', ')}` : `Run ${flags.join(' ')}`);
    const task = new vscode.Task(
      def,
      scope ?? folder ?? vscode.TaskScope.Workspace,
      `${verb}: ${path.basename(abs, '.experiment.json')}`,
      TaskType,
      exec,
    );
    task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, panel: vscode.TaskPanelKind.Dedicated, clear: true };
    task.isBackground = false;
    return task;
  }
}

function folderScope(scope: vscode.Task['scope']): vscode.WorkspaceFolder | undefined {
  return typeof scope === 'object' && scope !== null ? scope : undefined;
}

/** A task's experiment file: against the task's own workspace folder, else the first folder (a workspace-wide task). */
export function absolute(experiment: string, scope?: vscode.Task['scope']): string {
  const fallback = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
  return resolveExperiment(experiment, folderScope(scope)?.uri.fsPath, fallback);
}

/** The running task execution of an experiment, if VS Code started one. */
export function executionFor(experimentFile: string): vscode.TaskExecution | undefined {
  return vscode.tasks.taskExecutions.find((e) => {
    const d = e.task.definition as Partial<ResumableTaskDefinition>;
    return d.type === TaskType && typeof d.experiment === 'string' && absolute(d.experiment, e.task.scope) === experimentFile;
  });
}
