import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunRegistry } from './runs';

/**
 * Turns file events under run folders into one refresh per batch: a trailing debounce
 * collects the run folders touched meanwhile, then the registry re-reads just those.
 */
export class RunWatcher implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private pending = new Set<string>();
  private rescanNeeded = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly registry: RunRegistry, private readonly debounceMs: () => number) {
    const runs = vscode.workspace.createFileSystemWatcher('**/.resumable/*/{journal*.jsonl,state*.json,lock*,experiment.json}');
    const experiments = vscode.workspace.createFileSystemWatcher('**/*.experiment.json');
    const onRunFile = (uri: vscode.Uri) => this.queue(path.dirname(uri.fsPath), uri.fsPath.endsWith('experiment.json'));
    this.disposables.push(
      runs, experiments,
      runs.onDidChange(onRunFile), runs.onDidCreate(onRunFile), runs.onDidDelete(onRunFile),
      experiments.onDidCreate(() => this.queue(undefined, true)), experiments.onDidDelete(() => this.queue(undefined, true)),
    );
  }

  /** Also called by the live-run timer and by commands that just changed a run folder. */
  queue(runDir: string | undefined, rescan = false): void {
    if (runDir) this.pending.add(runDir);
    this.rescanNeeded ||= rescan;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), this.debounceMs());
  }

  private flush(): void {
    this.timer = undefined;
    const dirs = this.pending;
    const rescan = this.rescanNeeded;
    this.pending = new Set();
    this.rescanNeeded = false;
    // Batches run one after another, so two reads of one journal never interleave.
    this.running = this.running.then(() => (rescan ? this.registry.rescan() : this.registry.refresh(dirs))).catch(() => undefined);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}
