import type { Clock } from '../clock';
import type { Unit } from '../config/units';
import type { AttemptExecutor, AttemptResult } from '../exec/attempt';
import type { Throttle } from './throttle';

/** What the scheduler is given and tells (src/core/run/scheduler.ts): the runner's side of it. */
export interface SchedulerOptions {
  readonly concurrency: number;
  readonly maxAttempts: number;
  readonly backoffSeconds: readonly [number, number];
  readonly rateLimit: { readonly maxWaitSeconds: number; readonly defaultWaitSeconds: number; readonly bufferSeconds: number };
  readonly graceMs: number;
  readonly clock: Clock;
  readonly random: () => number;
  readonly executor: AttemptExecutor;
  /** Attempts already spent per unit (from the journal), so a resume continues the budget. */
  readonly attemptsSoFar: (unitId: string) => number;
  readonly hooks: SchedulerHooks;
  /** Checked before ending a pause: a rate-limited answer extends it. */
  readonly probe?: () => Promise<{ resetAt?: number; why: string; quota?: string } | undefined>;
  /**
   * Throws when this runner may no longer start units (its lock was taken over). Called
   * before every dispatch: a unit started by a runner that lost its lock runs twice.
   */
  readonly fence?: () => void;
  /**
   * A promise while dispatch must wait (the journal is too far behind the units' ends);
   * undefined when it may go on. Keeps the work that a crash could lose bounded.
   */
  readonly backlog?: () => Promise<void> | undefined;
  /** Runs `fn` after pending I/O callbacks (default `setImmediate`); see `schedulePump`. */
  readonly defer?: (fn: () => void) => void;
  /** The adaptive limit, per-minute budgets and spend limits (docs/architecture.md, "Rate limits"). */
  readonly throttle?: Throttle;
}

export interface SchedulerHooks {
  started(unit: Unit, attempt: number, pid?: number, pst?: number): void;
  /** `interrupted`: not an attempt (killed by us, or the runner could not start it: `why` says). */
  ended(unit: Unit, attempt: number, result: AttemptResult | 'interrupted', why?: string): void;
  paused(until: number, src: string, why: string | undefined): void;
  unpaused(): void;
  /** A unit could not be prepared (the run folder refused a write), or the fence refused: the run must stop. */
  failed(e: Error): void;
  /** The adaptive limit shown changed. */
  adapted?(): void;
}

export type StopReason = 'completed' | 'interrupted' | 'paused_rate_limit' | 'budget_exhausted';
export interface SchedulerEnd {
  readonly reason: StopReason;
  readonly rateLimitedUntil?: number;
  /** A park or a spend limit: what was reached (quota words, the budget). */
  readonly why?: string;
}
