import * as vscode from 'vscode';
import { isLive } from './model/treeModel';
import { stillStoppingMessage, stoppedMessage, stoppingMessage } from './model/wording';
import type { RunRegistry } from './runs';
import { executionFor } from './tasks';

/** Longer than a run's default grace for units in flight: past it, the notice says it is still stopping. */
const STOP_NOTICE_MAX_S = 120;

/**
 * Shows a stop as it happens: "Stopping evals: waiting for 3 units in flight…" while the
 * runner lets its units finish (the count follows the registry's reads), then where the run
 * stopped. Resolves when the notice is settled; nothing here stops anything.
 */
export async function followStop(registry: RunRegistry, label: string, experimentFile: string): Promise<void> {
  const inFlight = () => registry.reportFor(experimentFile)?.counts.running ?? 0;
  const stopped = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Resumable' },
    (progress) =>
      new Promise<boolean>((resolve) => {
        const subs: vscode.Disposable[] = [];
        const finish = (ok: boolean) => {
          clearTimeout(timer);
          for (const s of subs) s.dispose();
          resolve(ok);
        };
        let said = '';
        const check = () => {
          if (!isLive(registry.reportFor(experimentFile)) && !executionFor(experimentFile)) return finish(true);
          const message = stoppingMessage(label, inFlight());
          if (message !== said) progress.report({ message: (said = message) });
        };
        const timer = setTimeout(() => finish(false), STOP_NOTICE_MAX_S * 1000);
        subs.push(
          registry.onDidChange(check),
          vscode.tasks.onDidEndTaskProcess(() => check()),
        );
        check();
      }),
  );
  const message = stopped ? stoppedMessage(label, registry.reportFor(experimentFile)) : stillStoppingMessage(label, STOP_NOTICE_MAX_S);
  void vscode.window.showInformationMessage(message);
}
