import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunFollower, RunReport } from '../core/index';
import { engine } from './engine';
import type { Log } from './log';
import type { SearchMark } from './startup';
import type { ExperimentEntry } from './model/treeModel';
import { unitRows } from './model/unitRows';
import { unreadable, type Unreadable } from './model/unreadable';
import { SCAN_EXCLUDE, SCAN_INCLUDE, splitFound, type Found } from './model/workspaceScan';

export interface RunsChange {
  readonly entries: readonly ExperimentEntry[];
  /** Reports of the runs that were re-read in this batch, with what they were before. */
  readonly changed: readonly { readonly prev: RunReport | undefined; readonly next: RunReport }[];
}

/** workspaceState: the experiment files and run folders of the last scan (model/workspaceScan.ts). */
const KNOWN_KEY = 'resumable.knownRuns';

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
  /** Run folders that failed to read, with the experiment.json they failed on (not re-parsed until it changes). */
  private readonly unreadableDirs = new Map<string, { run: Unreadable; stamp: string | undefined }>();
  /** The first workspace search: how long it took, and when it ended (performance.now()); for the startup figure. */
  firstSearch: SearchMark | undefined;

  /** `groupBy()`: the tree's grouping key (`resumable.tree.groupBy`; "" = matrix cell), read on every re-read. */
  /** `state`: the workspace's memento, where the last scan's result is kept for the next start. */
  constructor(
    private readonly log: Log,
    private readonly groupBy: () => string = () => '',
    private readonly state?: vscode.Memento,
  ) {}

  get current(): readonly ExperimentEntry[] {
    return this.entries;
  }

  /** Run folders shown as "cannot read" rows, with why. */
  get unreadable(): readonly Unreadable[] {
    return [...this.unreadableDirs.values()].map((u) => u.run).sort((a, b) => a.runDir.localeCompare(b.runDir));
  }

  get allReports(): RunReport[] {
    return [...this.reports.values()].filter((r) => !this.unreadableDirs.has(r.runDir));
  }

  /**
   * The first scan: the experiments and run folders this workspace had last time are read at
   * once (no workspace search on the way to the view's first rows), then the search finds
   * what changed since.
   */
  async start(): Promise<void> {
    const known = this.state?.get<Found>(KNOWN_KEY);
    if (known && Array.isArray(known.experiments) && Array.isArray(known.runDirs)) {
      this.experimentFiles = known.experiments.filter((f) => fs.existsSync(f));
      const dirs = known.runDirs.filter((d) => fs.existsSync(path.join(d, 'experiment.json')));
      this.log.info(
        `shown before the workspace search: ${this.experimentFiles.length} experiment file(s), ${dirs.length} run folder(s) of the last scan`,
      );
      await this.refresh(dirs);
    }
    await this.rescan();
  }

  /** Finds experiment files and run folders anew (new files, deleted folders), then reads every run. */
  async rescan(): Promise<void> {
    const t0 = performance.now();
    const found = splitFound((await vscode.workspace.findFiles(SCAN_INCLUDE, SCAN_EXCLUDE)).map((f) => f.fsPath));
    this.experimentFiles = found.experiments;
    const dirs = new Set(found.runDirs);
    for (const d of new Set([...this.followers.keys(), ...this.reports.keys(), ...this.unreadableDirs.keys()])) {
      if (!dirs.has(d)) {
        this.followers.delete(d);
        this.reports.delete(d);
        this.unreadableDirs.delete(d);
      }
    }
    this.log.trace(`rescan: ${this.experimentFiles.length} experiment file(s), ${dirs.size} run folder(s)`);
    void this.state?.update(KNOWN_KEY, found);
    const t1 = performance.now();
    this.firstSearch ??= { findFilesMs: t1 - t0, endedAt: t1, runs: dirs.size };
    await this.refresh(dirs);
  }

  /** Re-reads the given run folders (a batch of watcher events). */
  async refresh(runDirs: Iterable<string>): Promise<void> {
    const changed: { prev: RunReport | undefined; next: RunReport }[] = [];
    for (const dir of runDirs) {
      let next: RunReport;
      try {
        let f = this.followers.get(dir);
        if (!f) {
          const stamp = stampOf(path.join(dir, 'experiment.json'));
          if (stamp === undefined) continue;
          // Refused already and unchanged since: a newer version's config is not parsed again on every event.
          if (this.unreadableDirs.get(dir)?.stamp === stamp) continue;
          try {
            f = engine().RunFollower.open(dir);
          } catch (e) {
            // An I/O error may pass (EMFILE, a folder being moved): only a refusal waits for the file to change.
            // By name: errors come from the engine's own bundle (dist/core.js), another UserError class.
            this.refuse(dir, e, (e as Error | undefined)?.name === 'UserError' ? stamp : undefined);
            continue;
          }
          this.followers.set(dir, f);
        }
        await f.poll();
        // One setting for every experiment of the workspace: a run without that field is
        // grouped by matrix cell (with a note), not refused.
        next = f.report(engine().systemClock, { by: this.groupBy(), unknownBy: 'cell' });
      } catch (e) {
        // A journal or state.json it cannot read: said on the row, retried on the next event.
        this.refuse(dir, e, undefined);
        continue;
      }
      const prev = this.reports.get(dir);
      if (this.unreadableDirs.delete(dir)) this.log.info(`${dir} can be read again`);
      this.logRead(prev, next);
      changed.push({ prev, next });
      this.reports.set(dir, next);
    }
    this.entries = this.buildEntries();
    this.emitter.fire({ entries: this.entries, changed });
  }

  private refuse(dir: string, e: unknown, stamp: string | undefined): void {
    const run = unreadable(dir, e);
    const before = this.unreadableDirs.get(dir)?.run.detail;
    this.unreadableDirs.set(dir, { run, stamp });
    if (before !== run.detail) this.log.warn(`cannot read ${dir}: ${run.detail}`);
  }

  private logRead(prev: RunReport | undefined, next: RunReport): void {
    const what = `${next.runDir}: ${next.status.replace(/_/g, ' ')}, ${next.done}/${next.total}${next.runner ? ` (runner pid ${next.runner.pid} on ${next.runner.host}${next.runner.alive ? '' : ', gone'})` : ''}`;
    const runner = (r: RunReport) => (r.runner ? `${r.runner.pid}@${r.runner.host}:${r.runner.alive}` : '');
    if (!prev || prev.status !== next.status || runner(prev) !== runner(next)) this.log.info(`read ${what}`);
    else this.log.trace(`read ${what}`);
    for (const n of next.notes) if (!prev?.notes.includes(n)) this.log.warn(`${next.runDir}: ${n}`);
  }

  /** Run folders whose runner is alive: re-read on a timer too, in case a watcher event is missed. */
  liveRunDirs(): string[] {
    return [...this.reports.values()].filter((r) => r.status === 'running' || r.status === 'paused_rate_limit').map((r) => r.runDir);
  }

  /** A run folder's follower (its units and view as last read) and report, for the dashboard. */
  runOf(runDir: string): { follower: RunFollower; report: RunReport } | undefined {
    const follower = this.followers.get(runDir);
    const report = this.reports.get(runDir);
    return follower && report && !this.unreadableDirs.has(runDir) ? { follower, report } : undefined;
  }

  reportFor(experimentFile: string): RunReport | undefined {
    return this.entries.find((e) => e.file === experimentFile)?.report;
  }

  private buildEntries(): ExperimentEntry[] {
    const byFile = new Map<string, RunReport>();
    for (const r of this.reports.values()) {
      if (this.unreadableDirs.has(r.runDir)) continue;
      const prev = byFile.get(r.experimentFile);
      if (!prev || (r.lastActivity ?? 0) > (prev.lastActivity ?? 0)) byFile.set(r.experimentFile, r);
    }
    const files = new Set([...this.experimentFiles, ...byFile.keys()]);
    return [...files].sort().map((file) => {
      const report = byFile.get(file);
      const follower = report ? this.followers.get(report.runDir) : undefined;
      return entry(file, report, follower, this.groupBy());
    });
  }

  dispose(): void {
    this.emitter.dispose();
  }
}

/** Changes when the file is replaced or rewritten; undefined when it is not there. */
function stampOf(file: string): string | undefined {
  const st = fs.statSync(file, { throwIfNoEntry: false });
  return st ? `${st.ino}:${st.size}:${st.mtimeMs}` : undefined;
}

function entry(file: string, report: RunReport | undefined, follower: RunFollower | undefined, by: string): ExperimentEntry {
  let units: ExperimentEntry['units'];
  return {
    file,
    label: report?.name ?? path.basename(file).replace(/\.experiment\.json$/, ''),
    report,
    // Built only when a bucket is expanded: a million units are not copied on every refresh.
    get units() {
      if (!follower) return undefined;
      // The grouping the report was made with (kept by the follower, not made again).
      units ??= unitRows(follower.units, follower.view, follower.groupsOf({ by, unknownBy: 'cell' }).of);
      return units;
    },
  };
}
