import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ResumableApi } from '../../src/extension/extension';

export const workspaceDir = () => vscode.workspace.workspaceFolders![0]!.uri.fsPath;

export async function api(): Promise<ResumableApi> {
  const ext = vscode.extensions.getExtension<ResumableApi>('resumable.resumable');
  if (!ext) throw new Error('the Resumable extension is not installed in this host');
  const a = await ext.activate();
  await a.ready;
  return a;
}

export async function until<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs the CLI outside VS Code, as a user would in a terminal. */
export function cli(args: string[]): Promise<{ code: number | null; out: string }> {
  const cliPath = path.join(vscode.extensions.getExtension('resumable.resumable')!.extensionPath, 'dist', 'cli.js');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath, ...args], { cwd: workspaceDir(), env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

export function runDirOf(name: string): string | undefined {
  const root = path.join(workspaceDir(), '.resumable');
  if (!fs.existsSync(root)) return undefined;
  const d = fs.readdirSync(root).find((n) => n.startsWith(`${name}-`));
  return d ? path.join(root, d) : undefined;
}

/** Replaces a window prompt for one call: returns `answer` and records what was asked. */
export function answerNextPrompt(
  kind: 'showWarningMessage' | 'showInformationMessage',
  answer: string | undefined,
): { asked: Promise<{ message: string; detail?: string }> } {
  const w = vscode.window as unknown as Record<string, (...a: unknown[]) => unknown>;
  const original = w[kind]!;
  let resolve!: (v: { message: string; detail?: string }) => void;
  const asked = new Promise<{ message: string; detail?: string }>((r) => (resolve = r));
  w[kind] = (message: unknown, ...rest: unknown[]) => {
    w[kind] = original;
    const options = rest.find((r) => r && typeof r === 'object') as { detail?: string } | undefined;
    resolve({ message: String(message), detail: options?.detail });
    return Promise.resolve(answer);
  };
  return { asked };
}

export function waitForTaskEnd(execution: vscode.TaskExecution): Promise<number | undefined> {
  return new Promise((resolve) => {
    const sub = vscode.tasks.onDidEndTaskProcess((e) => {
      if (e.execution === execution) {
        sub.dispose();
        resolve(e.exitCode);
      }
    });
  });
}

export interface Shown {
  readonly message: string;
  readonly items: readonly string[];
}

/**
 * Records what the extension shows with one window function. The call still goes to VS Code
 * (the notification is really shown) unless `answer` is given: then it is what the user clicked.
 * `dispose` puts the function back.
 */
export function recordShown(
  kind: 'showErrorMessage' | 'showWarningMessage' | 'showInformationMessage',
  answer?: string,
): { shown: Shown[]; dispose(): void } {
  const w = vscode.window as unknown as Record<string, (...a: unknown[]) => Thenable<unknown>>;
  const original = w[kind]!;
  const shown: Shown[] = [];
  w[kind] = (message: unknown, ...rest: unknown[]) => {
    shown.push({ message: String(message), items: rest.filter((r): r is string => typeof r === 'string') });
    return answer !== undefined ? Promise.resolve(answer) : original.call(vscode.window, message, ...rest);
  };
  return { shown, dispose: () => void (w[kind] = original) };
}

/** The "Resumable" output channel as written to disk so far. */
export function logText(a: ResumableApi): string {
  try {
    return fs.readFileSync(a.logFile.fsPath, 'utf8');
  } catch {
    return '';
  }
}

/** Writes an experiment over the fixture's items and unit into the workspace; returns its path. */
export function writeExperiment(name: string, extra: Record<string, unknown> = {}): string {
  const file = path.join(workspaceDir(), `${name}.experiment.json`);
  fs.writeFileSync(
    file,
    JSON.stringify({ name, items: { file: 'data/items.jsonl' }, run: { command: ['node', 'unit.js'] }, concurrency: 4, ...extra }),
  );
  return file;
}
