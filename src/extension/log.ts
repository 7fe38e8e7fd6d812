import * as vscode from 'vscode';

/** The extension's one log: what it read, refused and swallowed (Output › Resumable). */
export type Log = vscode.LogOutputChannel;

export const LOG_NAME = 'Resumable';

export function createLog(): Log {
  return vscode.window.createOutputChannel(LOG_NAME, { log: true });
}

/**
 * An error for the log: the message; the stack too when it is not a user's mistake (the
 * engine's UserError, told by name since the engine is a separate bundle), i.e. a bug.
 */
export function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const text = e.name === 'UserError' || !e.stack ? e.message : e.stack;
  const hints = hintsOf(e);
  return hints.length ? `${text}\n${hints.map((h) => `  ${h}`).join('\n')}` : text;
}

/** The ways forward a UserError carries (shown under its message by the CLI). */
export function hintsOf(e: unknown): string[] {
  const hints = (e as { hints?: unknown } | null)?.hints;
  return Array.isArray(hints) ? hints.filter((h): h is string => typeof h === 'string' && h.trim() !== '').map((h) => h.trim()) : [];
}
