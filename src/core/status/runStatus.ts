import type { RunStatus } from '../store/events';

export type ReportStatus = RunStatus | 'not_started';

export interface StatusInputs {
  /** What the journal's last runner line says (undefined: no runner line, e.g. an empty journal). */
  readonly journal: RunStatus | undefined;
  /** What state.json says, when the journal says nothing. */
  readonly snapshot: RunStatus | undefined;
  /** A runner holds a live lock on the run (this host: its pid lives; another: a fresh heartbeat). */
  readonly runnerAlive: boolean;
  /** The journal's last runner line is its runner_end (it stopped on purpose, e.g. parked on a quota). */
  readonly runnerEnded?: boolean;
  /** Units with an outcome (passed, failed or error), by the journal, and all units. */
  readonly done: number;
  readonly total: number;
}

/**
 * The run's status as `status`, `list`, the tree and the status bar show it: what the journal
 * (or state.json) last said, made to agree with the counts beside it. A status line is read as
 * advice ("interrupted: run again", "completed"), so it must not contradict the numbers:
 * - the journal says running, but no runner holds the lock: it died (kill -9, power cut);
 * - every unit has an outcome and no runner is at work: `completed`, whatever the last runner
 *   said (a repair that adopted the rest of an interrupted run, an interrupt after the last end);
 * - `completed` beside units without an outcome (a state.json left over with an empty or missing
 *   journal), or `not_started` beside units that have one (a repair that adopted results into a
 *   run never started): `interrupted`, since running the experiment again finishes it.
 * - a runner that ended parked on a rate limit (a quota, a reset past maxWaitSeconds) stays
 *   `paused_rate_limit`: the reset time says when to run again;
 * - `budget_exhausted` (a spend limit stopped dispatching) is kept while units are left: it is
 *   neither interrupted (a resume at the same budget stops again) nor completed.
 * The note says why when the saved status was overruled in a way the user may want to look into.
 * Pure.
 */
export function reportStatus(i: StatusInputs): { status: ReportStatus; note?: string } {
  const said: ReportStatus = i.journal ?? i.snapshot ?? 'not_started';
  const live = said === 'running' || said === 'paused_rate_limit';
  if (live && i.runnerAlive) return { status: said };
  if (i.done === i.total && i.total > 0) return { status: 'completed' };
  // Parked (a quota, a reset past maxWaitSeconds): the runner said so as it ended.
  if (said === 'paused_rate_limit' && i.runnerEnded && i.journal === 'paused_rate_limit') return { status: said };
  if (live) return { status: 'interrupted' };
  if (said === 'completed') {
    const where = i.journal !== undefined ? 'the journal' : 'state.json';
    return {
      status: 'interrupted',
      note: `${where} says completed, but the journal shows ${i.done} of ${i.total} units with an outcome; if their results are in the unit folders, \`resumable repair\` adopts them`,
    };
  }
  if (said === 'not_started' && i.done > 0) return { status: 'interrupted' };
  return { status: said };
}
