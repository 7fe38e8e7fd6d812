import * as vscode from 'vscode';
import { TaskType } from './constants';
import { LIVE_POLL_MS, nextPauseRead, pollPlan } from './model/pollPlan';
import type { RunRegistry } from './runs';
import { absolute, type ResumableTaskDefinition } from './tasks';
import type { RunWatcher } from './watcher';

/**
 * Reads live runs without waiting for file events (model/pollPlan.ts says what and when):
 * a tick a second, and a read just after each rate-limit pause is due to end. Reads go
 * through the watcher's queue, so they never interleave with a batch of events; a read at
 * once, not through the debounce, which it would only push back.
 */
export class LivePoll implements vscode.Disposable {
  private tick = 0;
  private readonly interval: NodeJS.Timeout;
  private pauseTimer: { timer: NodeJS.Timeout; runDir: string; at: number } | undefined;
  /** Reads after a pause's end that still found it paused, per run folder. */
  private readonly tries = new Map<string, number>();
  private readonly sub: vscode.Disposable;

  constructor(
    private readonly registry: RunRegistry,
    private readonly watcher: RunWatcher,
  ) {
    this.interval = setInterval(() => this.onTick(), LIVE_POLL_MS);
    this.sub = registry.onDidChange(() => this.schedulePauseRead());
  }

  private onTick(): void {
    this.tick++;
    const taskExperiments = vscode.tasks.taskExecutions.flatMap((e) => {
      const d = e.task.definition as Partial<ResumableTaskDefinition>;
      return d.type === TaskType && typeof d.experiment === 'string' ? [absolute(d.experiment, e.task.scope)] : [];
    });
    const plan = pollPlan({ tick: this.tick, reports: this.registry.allReports, taskExperiments });
    this.watcher.readNow(plan.dirs, plan.rescan);
  }

  private schedulePauseRead(): void {
    const now = Date.now();
    const reports = this.registry.allReports;
    // A run read as going again (or gone) starts its count afresh for its next pause.
    for (const dir of this.tries.keys())
      if (!reports.some((r) => r.runDir === dir && r.status === 'paused_rate_limit')) this.tries.delete(dir);
    const next = nextPauseRead(reports, now, this.tries);
    if (this.pauseTimer && next && this.pauseTimer.runDir === next.runDir && this.pauseTimer.at === next.at) return;
    if (this.pauseTimer) clearTimeout(this.pauseTimer.timer);
    this.pauseTimer = undefined;
    if (!next) return;
    const timer = setTimeout(
      () => {
        this.pauseTimer = undefined;
        const until = this.registry.allReports.find((r) => r.runDir === next.runDir)?.rateLimitedUntil;
        // A read after the pause's end: counted, so a runner that is slow to journal its unpause is not read forever.
        if (until !== null && until !== undefined && until <= Date.now())
          this.tries.set(next.runDir, (this.tries.get(next.runDir) ?? 0) + 1);
        this.watcher.readNow([next.runDir]);
      },
      Math.max(0, next.at - now),
    );
    this.pauseTimer = { timer, runDir: next.runDir, at: next.at };
  }

  dispose(): void {
    clearInterval(this.interval);
    if (this.pauseTimer) clearTimeout(this.pauseTimer.timer);
    this.sub.dispose();
  }
}
