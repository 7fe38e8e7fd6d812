import type { RunStatus } from '../store/events';
import type { SchedulerEnd } from './scheduler';

export interface EndFacts {
  /** The run itself failed (disk, lost lock): nothing more was journaled. */
  readonly failure?: Error;
  /** A unit could not be prepared: the journal is sound. */
  readonly unitFailure?: Error;
  readonly end: SchedulerEnd;
  readonly stopRequests: number;
  readonly maxWaitSeconds: number;
  /** A subset run (`--limit`, `--only`, `--unit`) left units out: what to say about them. */
  readonly leftOut?: string;
}

/** How a run ended, as the exit codes of the README say: 0, 1, 2, 3 or 130. */
export function endOfRun(f: EndFacts): { status: RunStatus; exitCode: 0 | 1 | 2 | 3 | 130; message?: string } {
  if (f.failure) return { status: 'failed', exitCode: 1, message: f.failure.message };
  if (f.unitFailure) return { status: 'failed', exitCode: 1, message: f.unitFailure.message };
  if (f.end.reason === 'paused_rate_limit') {
    const until = f.end.rateLimitedUntil;
    const what = f.end.why ?? 'a rate limit';
    return {
      status: 'paused_rate_limit',
      exitCode: 2,
      message:
        until === undefined
          ? `Parked: ${what}, and the API gave no reset time. Units in flight finished; run again once the quota is restored.`
          : `Parked: ${what} until ${new Date(until).toISOString()}${f.end.why === undefined ? ` (more than rateLimit.maxWaitSeconds = ${f.maxWaitSeconds} s away)` : ''}. Units in flight finished; run again after that to resume.`,
    };
  }
  if (f.end.reason === 'budget_exhausted') {
    return {
      status: 'budget_exhausted',
      exitCode: 3,
      message: `Budget reached: ${f.end.why ?? 'a spend limit'}. Units in flight finished and count; raise the budget in the experiment file and run again to continue.`,
    };
  }
  if (f.end.reason === 'interrupted' || f.stopRequests > 0) return { status: 'interrupted', exitCode: 130 };
  // Every unit asked for has an outcome (exit 0), but the run is not complete: `status` must
  // not say completed beside units that were never started, and running again goes on.
  if (f.leftOut) return { status: 'interrupted', exitCode: 0, message: f.leftOut };
  return { status: 'completed', exitCode: 0 };
}

/** A subset run whose units all have an outcome: `interrupted` (units left out), yet exit 0. */
export function endedSubset(s: { readonly status: string; readonly exitCode: number }): boolean {
  return s.status === 'interrupted' && s.exitCode === 0;
}
