import type { Outcome, RunStatus } from '../store/events';
import type { ConcurrencyView, Counts, Spend } from '../model/view';

/** What a run reports while it goes; the CLI renders these, `--json` prints them. */
export type RunEvent =
  | { type: 'note'; message: string }
  | { type: 'start'; runDir: string; total: number; todo: number; done: number; concurrency: number }
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
  | { type: 'stopping'; reason: string }
  | { type: 'end'; summary: RunSummary };

export interface DryRunPlan {
  readonly run: string[];
  readonly skip: number;
  readonly adopt: string[];
  readonly retry: string[];
  readonly reasons: Record<string, number>;
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
}
