import type { Reason } from '../model/reasons';
import type { Outcome, RunStatus } from '../store/events';
import type { ConcurrencyView, Counts, Spend } from '../model/view';

/** What a run reports while it goes; the CLI renders these, `--json` prints them. */
export type RunEvent =
  | { type: 'note'; message: string }
  | {
      type: 'start';
      runDir: string;
      total: number;
      todo: number;
      done: number;
      concurrency: number;
      /** Where the units stand as the run starts (a resume's outcomes so far). */
      counts: Counts;
      /** Results found on disk that the journal missed, adopted by this start (not run again). */
      adopted: number;
    }
  | { type: 'unit'; id: string; status: Outcome | 'interrupted'; attempt: number; why?: string; durationMs?: number }
  | {
      type: 'progress';
      counts: Counts;
      total: number;
      rate: number;
      etaMs: number | null;
      rateLimitedUntil: number | null;
      /** The adaptive limit in force (null: the fixed concurrency). */
      concurrency?: ConcurrencyView | null;
      /** What the attempts so far spent (null: none reported it). */
      spend?: Spend | null;
    }
  | { type: 'pause'; until: number; src: string; why?: string }
  | { type: 'unpause' }
  | {
      type: 'stopping';
      reason: string;
      /** The second request: units in flight are being killed now. */
      second: boolean;
      /** Units in flight when it was asked; each of their 'unit' events is one fewer. */
      inFlight: number;
      /** When their grace runs out and they are killed (wall time; null: nothing to wait for). */
      graceUntil: number | null;
    }
  | { type: 'end'; summary: RunSummary };

export interface DryRunPlan {
  readonly run: string[];
  readonly skip: number;
  readonly adopt: string[];
  readonly retry: string[];
  readonly reasons: Record<string, number>;
  /** Units that would run but are outside the subset (`--limit`, `--only`, `--unit`). */
  readonly leftOut: number;
  /** What the first units would run (or the worker that would serve them), as they would start. */
  readonly commands: readonly DryRunCommand[];
  /** Unit ids by reason (`--dry-run --verbose`). */
  readonly idsByReason?: Record<string, string[]>;
}

export interface DryRunCommand {
  /** The unit, or (a worker run) undefined: the worker that would serve them. */
  readonly unit?: string;
  readonly worker?: number;
  readonly argv: readonly string[];
  readonly cwd: string;
  /** Only the variables the experiment's `run.env` sets (the rest is the runner's environment). */
  readonly env: Record<string, string>;
}

export interface RunSummary {
  readonly status: RunStatus | 'dry_run';
  readonly exitCode: 0 | 1 | 2 | 3 | 130;
  readonly runDir: string;
  readonly total: number;
  readonly counts: Counts;
  readonly rateLimitedUntil: number | null;
  readonly message?: string;
  readonly plan?: DryRunPlan;
  /** What the run's attempts spent (this shard's), when they reported it. */
  readonly spend?: Spend | null;
  /** The reasons its errors and failures share, most units first, with a few unit ids each. */
  readonly reasons?: readonly Reason[];
}
