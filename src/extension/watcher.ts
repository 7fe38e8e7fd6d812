import * as path from 'node:path';
import * as vscode from 'vscode';
import { systemClock } from '../core/clock';
import { errorText, type Log } from './log';
import { refreshDelays, RefreshTimer } from './model/refreshTimer';
import type { RunRegistry } from './runs';

/**
 * Turns file events under run folders into one refresh per batch: a trailing debounce with a
 * maximum wait (model/refreshTimer.ts) collects the run folders touched meanwhile, then the
 * registry re-reads just those.
 */
export class RunWatcher implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private pending = new Set<string>();
  private rescanNeeded = false;
  private readonly timer: RefreshTimer;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly registry: RunRegistry,
    debounceMs: () => number,
    private readonly log: Log,
  ) {
    this.timer = new RefreshTimer(
      systemClock,
      () => refreshDelays(debounceMs()),
      () => this.flush(),
    );
    const runs = vscode.workspace.createFileSystemWatcher('**/.resumable/*/{journal*.jsonl,state*.json,lock*,experiment.json}');
    const experiments = vscode.workspace.createFileSystemWatcher('**/*.experiment.json');
    const onRunFile = (uri: vscode.Uri) => this.queue(path.dirname(uri.fsPath), uri.fsPath.endsWith('experiment.json'));
    this.disposables.push(
      runs,
      experiments,
      runs.onDidChange(onRunFile),
      runs.onDidCreate(onRunFile),
      runs.onDidDelete(onRunFile),
      experiments.onDidCreate(() => this.queue(undefined, true)),
      experiments.onDidDelete(() => this.queue(undefined, true)),
    );
  }

  /** A file event, or a command that just changed a run folder: joins the current batch. */
  queue(runDir: string | undefined, rescan = false): void {
    if (runDir) this.pending.add(runDir);
    this.rescanNeeded ||= rescan;
    this.timer.trigger();
  }

  /**
   * The live-run poll: reads at once, not through the debounce (whose timer it would keep
   * resetting), taking the batch gathered so far along.
   */
  readNow(runDirs: Iterable<string>, rescan = false): void {
    for (const d of runDirs) this.pending.add(d);
    this.rescanNeeded ||= rescan;
    if (this.pending.size > 0 || this.rescanNeeded) this.timer.fireNow();
  }

  private flush(): void {
    const dirs = this.pending;
    const rescan = this.rescanNeeded;
    this.pending = new Set();
    this.rescanNeeded = false;
    // Batches run one after another, so two reads of one journal never interleave.
    this.running = this.running
      .then(() => (rescan ? this.registry.rescan() : this.registry.refresh(dirs)))
      .catch((e: unknown) =>
        this.log.error(`refresh of ${rescan ? 'the workspace' : [...dirs].join(', ')} failed (the next event retries): ${errorText(e)}`),
      );
  }

  dispose(): void {
    this.timer.cancel();
    for (const d of this.disposables) d.dispose();
  }
}
