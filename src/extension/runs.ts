import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunFollower, RunReport } from '../core/index';
import { engine } from './engine';
import type { Bucket, ExperimentEntry } from './model/treeModel';

export interface RunsChange {
  readonly entries: readonly ExperimentEntry[];
  /** Reports of the runs that were re-read in this batch, with what they were before. */
  readonly changed: readonly { readonly prev: RunReport | undefined; readonly next: RunReport }[];
}

const EXPERIMENTS = '**/*.experiment.json';
const RUN_FOLDERS = '**/.resumable/*/experiment.json';
const EXCLUDE = '{**/node_modules/**,**/archive/**}';

/**
 * Every experiment of the workspace and the run folder that belongs to it. Follows each run
 * folder's journal (only new bytes are read); knows nothing of views.
 */
export class RunRegistry implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<RunsChange>();
  readonly onDidChange = this.emitter.event;
  private experimentFiles: string[] = [];
  private readonly followers = new Map<string, RunFollower>();
  private readonly reports = new Map<string, RunReport>();
  private entries: ExperimentEntry[] = [];

  get current(): readonly ExperimentEntry[] {
    return this.entries;
  }

  get allReports(): RunReport[] {
    return [...this.reports.values()];
  }

  /** Finds experiment files and run folders anew (new files, deleted folders), then reads every run. */
  async rescan(): Promise<void> {
    const [files, runs] = await Promise.all([
      vscode.workspace.findFiles(EXPERIMENTS, '{**/node_modules/**,**/.resumable/**}'),
      vscode.workspace.findFiles(RUN_FOLDERS, EXCLUDE),
    ]);
    this.experimentFiles = files.map((f) => f.fsPath).sort();
    const dirs = new Set(runs.map((r) => path.dirname(r.fsPath)));
    for (const d of [...this.followers.keys()]) {
      if (!dirs.has(d)) {
        this.followers.delete(d);
        this.reports.delete(d);
      }
    }
    await this.refresh(dirs);
  }

  /** Re-reads the given run folders (a batch of watcher events). */
  async refresh(runDirs: Iterable<string>): Promise<void> {
    const changed: { prev: RunReport | undefined; next: RunReport }[] = [];
    for (const dir of runDirs) {
      let f = this.followers.get(dir);
      try {
        if (!f) {
          if (!fs.existsSync(path.join(dir, 'experiment.json'))) continue;
          f = engine().RunFollower.open(dir);
          this.followers.set(dir, f);
        }
        await f.poll();
      } catch {
        continue; // half-written folder or damaged config: the next event retries
      }
      const next = f.report(engine().systemClock);
      changed.push({ prev: this.reports.get(dir), next });
      this.reports.set(dir, next);
    }
    this.entries = this.buildEntries();
    this.emitter.fire({ entries: this.entries, changed });
  }

  /** Run folders whose runner is alive: re-read on a timer too, in case a watcher event is missed. */
  liveRunDirs(): string[] {
    return [...this.reports.values()].filter((r) => r.status === 'running' || r.status === 'paused_rate_limit').map((r) => r.runDir);
  }

  reportFor(experimentFile: string): RunReport | undefined {
    return this.entries.find((e) => e.file === experimentFile)?.report;
  }

  private buildEntries(): ExperimentEntry[] {
    const byFile = new Map<string, RunReport>();
    for (const r of this.reports.values()) {
      const prev = byFile.get(r.experimentFile);
      if (!prev || (r.lastActivity ?? 0) > (prev.lastActivity ?? 0)) byFile.set(r.experimentFile, r);
    }
    const files = new Set([...this.experimentFiles, ...byFile.keys()]);
    return [...files].sort().map((file) => {
      const report = byFile.get(file);
      const follower = report ? this.followers.get(report.runDir) : undefined;
      return entry(file, report, follower);
    });
  }

  dispose(): void {
    this.emitter.dispose();
  }
}

function entry(file: string, report: RunReport | undefined, follower: RunFollower | undefined): ExperimentEntry {
  let units: ExperimentEntry['units'];
  return {
    file,
    label: report?.name ?? path.basename(file).replace(/\.experiment\.json$/, ''),
    report,
    // Built only when a bucket is expanded: a million units are not copied on every refresh.
    get units() {
      if (!follower) return undefined;
      units ??= follower.units.map((u) => {
        const v = follower.view.units.get(u.id)!;
        return { id: u.id, group: u.group, status: v.status as Bucket, why: v.why, attempts: v.attempts };
      });
      return units;
    },
  };
}
