import * as vscode from 'vscode';
import { Commands, Settings } from './constants';
import { hhmm } from './model/statusBarState';
import { noticesFor, type Notice } from './model/notices';
import { finishedMessage } from './model/wording';
import type { RunsChange } from './runs';

/** Shows what model/notices.ts decides is worth a notification; never from inside a view. */
export class RunNotifications {
  private readonly seen = new Set<string>();

  handle(change: RunsChange): void {
    const cfg = vscode.workspace.getConfiguration(Settings.section);
    const settings = {
      onFinish: cfg.get<boolean>(Settings.notifyOnFinish, true),
      pauseMinutes: cfg.get<number>(Settings.notifyPauseMinutes, 5),
      onInterruptedFound: cfg.get<boolean>(Settings.notifyInterrupted, true),
    };
    for (const { prev, next } of change.changed) {
      for (const n of noticesFor(prev, next, Date.now(), settings, this.seen)) void this.show(n);
    }
  }

  private async show(n: Notice): Promise<void> {
    const r = n.report;
    const file = vscode.Uri.file(r.experimentFile);
    switch (n.kind) {
      case 'finished': {
        const pick = await vscode.window.showInformationMessage(finishedMessage(r), 'Open Run Folder');
        if (pick) await vscode.commands.executeCommand(Commands.openRunFolder, vscode.Uri.file(r.runDir));
        return;
      }
      case 'budgetReached': {
        const pick = await vscode.window.showWarningMessage(
          `Resumable: ${r.name} reached its budget at ${r.done}/${r.total}; raise budget in the experiment file and resume to continue.`,
          'Open Experiment',
        );
        if (pick) await vscode.window.showTextDocument(file);
        return;
      }
      case 'longPause':
        void vscode.window.showWarningMessage(
          r.runner?.alive
            ? `Resumable: ${r.name} is paused on a rate limit until ${hhmm(n.until)}; it resumes by itself.`
            : `Resumable: ${r.name} is parked on a rate limit until ${hhmm(n.until)}; resume it then.`,
        );
        return;
      case 'interruptedFound': {
        const pick = await vscode.window.showInformationMessage(
          `Resumable: ${r.name} was interrupted at ${r.done}/${r.total} (${n.why}).`,
          'Resume',
        );
        if (pick) await vscode.commands.executeCommand(Commands.resume, file);
      }
    }
  }
}
