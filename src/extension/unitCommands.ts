import * as vscode from 'vscode';
import { Commands, TaskType } from './constants';
import { engine } from './engine';
import type { Log } from './log';
import { retryFlags } from './model/retryFlags';
import { isLive, type TreeNode } from './model/treeModel';
import { registerSafeCommand } from './safeCommand';
import { executionFor, type ResumableTaskProvider } from './tasks';

type UnitNode = Extract<TreeNode, { kind: 'unit' }>;

/** "Open Result" and "Retry This Unit" on the tree's unit items. */
export function registerUnitCommands(tasks: ResumableTaskProvider, log: Log): vscode.Disposable[] {
  return [
    registerSafeCommand(log, Commands.openResult, async (node: UnitNode | undefined) => {
      const dir = node?.kind === 'unit' ? node.entry.report?.runDir : undefined;
      if (!node || !dir) return;
      const file = engine().findResultFile(dir, node.unitId);
      if (!file) {
        void vscode.window.showInformationMessage(`Resumable: ${node.unitId} has no result file yet.`);
        return;
      }
      await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true });
    }),
    registerSafeCommand(log, Commands.retryUnit, async (node: UnitNode | undefined) => {
      if (!node || node.kind !== 'unit') return undefined;
      if (!vscode.workspace.isTrusted) {
        log.info(`refused retry of ${node.unitId}: the workspace is not trusted`);
        void vscode.window.showWarningMessage(
          'Resumable runs no experiment in an untrusted workspace. Trust the workspace to run it; the views still show its state.',
        );
        return undefined;
      }
      const { entry } = node;
      if (executionFor(entry.file) || isLive(entry.report)) {
        void vscode.window.showInformationMessage(`Resumable: ${entry.label} is running; retry ${node.unitId} once it stops.`);
        return undefined;
      }
      const flags = retryFlags(node.bucket, node.unitId);
      if (!flags) {
        void vscode.window.showInformationMessage(`Resumable: ${node.unitId} passed; there is nothing to retry.`);
        return undefined;
      }
      log.info(`retry ${node.unitId} of ${entry.file}: run ${flags.join(' ')}`);
      return vscode.tasks.executeTask(tasks.build({ type: TaskType, experiment: entry.file, flags }));
    }),
  ];
}
