import type { RunReport } from '../../core/status/report';
import { isLive } from './treeModel';

/**
 * What the extension re-reads without a file event. File events can be late or missing (in
 * code-server here none reached the extension for a run folder at all), so live runs are
 * also read on a timer, and a pause's end, which the journal announces, is read when it is
 * due rather than whenever the next event or tick comes. Pure.
 */

/** Live runs are re-read this often: the view's promise of at least one refresh a second. */
export const LIVE_POLL_MS = 1000;
/** Every this many ticks the workspace is searched for runs started elsewhere (a terminal). */
export const SLOW_RESCAN_TICKS = 16;
/** After a pause's end, the runner's unpause takes a moment to be journaled (group commit, a preflight). */
export const PAUSE_END_SLACK_MS = 100;
export const PAUSE_END_RETRY_MS = 250;
export const PAUSE_END_RETRIES = 8;

export interface PollInputs {
  readonly tick: number;
  readonly reports: readonly RunReport[];
  /** Experiment files of our `resumable` tasks that are running now. */
  readonly taskExperiments: readonly string[];
}

/**
 * One tick: the live runs' folders (only their new journal bytes are read), and whether to
 * search the workspace. The search (a walk of the workspace) runs while one of our tasks has
 * no live run in view yet (its run folder is new), and now and then for runs started elsewhere.
 */
export function pollPlan(i: PollInputs): { dirs: string[]; rescan: boolean } {
  const live = i.reports.filter((r) => isLive(r));
  const unseenTask = i.taskExperiments.some((f) => !live.some((r) => r.experimentFile === f));
  return { dirs: live.map((r) => r.runDir), rescan: unseenTask || i.tick % SLOW_RESCAN_TICKS === 0 };
}

/**
 * When to read a paused run again so its end shows at once: just after `until`, and, while a
 * read after it still says paused (the unpause not journaled yet), a little later, a few
 * times. `tries`: reads after the end so far, per run folder. Undefined: nothing is due.
 */
export function nextPauseRead(
  reports: readonly RunReport[],
  now: number,
  tries: ReadonlyMap<string, number>,
): { runDir: string; at: number } | undefined {
  let next: { runDir: string; at: number } | undefined;
  for (const r of reports) {
    if (r.status !== 'paused_rate_limit' || r.rateLimitedUntil === null || !isLive(r)) continue;
    const n = tries.get(r.runDir) ?? 0;
    const at =
      r.rateLimitedUntil > now ? r.rateLimitedUntil + PAUSE_END_SLACK_MS : n < PAUSE_END_RETRIES ? now + PAUSE_END_RETRY_MS : undefined;
    if (at !== undefined && (!next || at < next.at)) next = { runDir: r.runDir, at };
  }
  return next;
}
