import * as vscode from 'vscode';
import { errorText, hintsOf, type Log } from './log';

const SHOW_LOG = 'Show Log';

/**
 * Every command goes through here (as in vscode-dvc): a failure is logged and shown with a
 * "Show Log" button, instead of becoming an unhandled rejection that VS Code reports, or
 * not, in its own words.
 */
export function registerSafeCommand(log: Log, id: string, fn: (...args: never[]) => unknown): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: never[]) => {
    try {
      return await fn(...args);
    } catch (e) {
      reportError(log, id, e);
      return undefined;
    }
  });
}

/** Logs `e` and shows it; not awaited: a notification resolves only when it is dismissed. */
export function reportError(log: Log, what: string, e: unknown): void {
  log.error(`${what}: ${errorText(e)}`);
  const message = [e instanceof Error ? e.message : String(e), ...hintsOf(e)].join(' ');
  void vscode.window.showErrorMessage(`Resumable: ${message}`, SHOW_LOG).then((pick) => {
    if (pick === SHOW_LOG) log.show(true);
  });
}
