import * as path from 'node:path';
import * as vscode from 'vscode';
import { Settings, TaskType } from './constants';

/** What a `resumable` task runs: `resumable run <experiment> [flags]`. */
export interface ResumableTaskDefinition extends vscode.TaskDefinition {
  readonly type: typeof TaskType;
  /** The experiment file, relative to the workspace folder (or absolute). */
  readonly experiment: string;
  readonly flags?: readonly string[];
}

export const FLAG_LABELS: Record<string, string> = { '': 'Resume', '--fresh': 'Start Fresh', '--retry-errors': 'Retry Errors', '--retry-failed': 'Retry Failed' };

/**
 * Tasks run the bundled CLI in a process of their own (ProcessExecution with an argv array,
 * no shell), so a run outlives the view and behaves exactly as in a terminal. The runtime is
 * the extension host's own executable with ELECTRON_RUN_AS_NODE=1 (Electron acts as Node;
 * plain Node ignores it), unless `resumable.nodePath` names another.
 */
export class ResumableTaskProvider implements vscode.TaskProvider {
  constructor(private readonly cliPath: string, private readonly experiments: () => readonly string[]) {}

  provideTasks(): vscode.Task[] {
    if (!vscode.workspace.isTrusted) return [];
    return this.experiments().map((file) => this.build({ type: TaskType, experiment: relative(file) }));
  }

  resolveTask(task: vscode.Task): vscode.Task | undefined {
    const def = task.definition as ResumableTaskDefinition;
    if (!vscode.workspace.isTrusted || typeof def.experiment !== 'string') return undefined;
    return this.build(def, task.scope);
  }

  build(def: ResumableTaskDefinition, scope?: vscode.Task['scope']): vscode.Task {
    const abs = absolute(def.experiment);
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(abs));
    const nodePath = vscode.workspace.getConfiguration(Settings.section).get<string>(Settings.nodePath) || process.execPath;
    const exec = new vscode.ProcessExecution(nodePath, [this.cliPath, 'run', abs, ...(def.flags ?? [])], {
      cwd: folder?.uri.fsPath ?? path.dirname(abs),
      env: { ELECTRON_RUN_AS_NODE: '1' },
    });
    const verb = FLAG_LABELS[(def.flags ?? []).join(' ')] ?? `Run ${(def.flags ?? []).join(' ')}`;
    const task = new vscode.Task(def, scope ?? folder ?? vscode.TaskScope.Workspace, `${verb}: ${path.basename(abs, '.experiment.json')}`, TaskType, exec);
    task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, panel: vscode.TaskPanelKind.Dedicated, clear: true };
    task.isBackground = false;
    return task;
  }
}

function relative(file: string): string {
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(file));
  return folder ? path.relative(folder.uri.fsPath, file) : file;
}

export function absolute(experiment: string): string {
  if (path.isAbsolute(experiment)) return experiment;
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
  return path.join(root, experiment);
}

/** The running task execution of an experiment, if VS Code started one. */
export function executionFor(experimentFile: string): vscode.TaskExecution | undefined {
  return vscode.tasks.taskExecutions.find((e) => {
    const d = e.task.definition as Partial<ResumableTaskDefinition>;
    return d.type === TaskType && typeof d.experiment === 'string' && absolute(d.experiment) === experimentFile;
  });
}
